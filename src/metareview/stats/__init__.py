"""The statistics engine: batched random/mixed-effects fits and what is built on them.

Small surface: :class:`FitOptions` (how a model is fitted), :func:`pool` (one analysis),
and the batched engine (:mod:`~metareview.stats.engine`, :mod:`~metareview.stats.estimators`,
:mod:`~metareview.stats.summaries`) that leave-one-out, influence, cumulative, subgroups,
permutation tests and GOSH run on; Mantel–Haenszel and Peto pooling of 2×2 tables
(:mod:`~metareview.stats.mantel_haenszel`, :mod:`~metareview.stats.binary_pooling`). Notebook
users want :mod:`metareview.api`.
"""

from metareview.stats.options import CI_METHODS, CONVERGENCE, TAU2_METHODS, FitOptions
from metareview.stats.pooling import PooledResult, pool

__all__ = ["CI_METHODS", "CONVERGENCE", "TAU2_METHODS", "FitOptions", "PooledResult", "pool"]
