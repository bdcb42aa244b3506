"""Public API for analysts in notebooks: meta-analysis on plain arrays, metafor's numbers.

Every function takes effect sizes ``yi`` (ratio measures on the log scale) and sampling
variances ``vi`` and the fitting choices as keywords (``tau2_method``, ``ci_method``, ``level``,
``convergence``), and runs on the batched engine of :mod:`metareview.stats`:

- :func:`pool` — one analysis (``metafor::rma`` + ``confint``);
- :func:`pool_batch` — many analyses at once (rows of a padded array, NaN = no study);
- :func:`leave_one_out` — ``leave1out``; :func:`influence` — ``influence.rma.uni``;
- :func:`permutation_test` — ``permutest``; :func:`gosh` — ``gosh``.

Validated against metafor 3.8-1 on ``tests/reference/engine/expected_*.json`` (made by
``tests/reference/make_fixtures_engine.R``): to 1e-6, permutation p-values within Monte Carlo
error (exactly where the test enumerates every permutation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metareview.stats import gosh as _gosh
from metareview.stats import influence as _influence
from metareview.stats import permutation as _permutation
from metareview.stats.engine import make_batch
from metareview.stats.fast import compiled_kernels
from metareview.stats.options import FitOptions
from metareview.stats.pooling import PooledResult
from metareview.stats.pooling import pool as _pool
from metareview.stats.summaries import q_profile, summarize_chunked

__all__ = [
    "FitOptions",
    "gosh",
    "influence",
    "leave_one_out",
    "permutation_test",
    "pool",
    "pool_batch",
]


def _options(tau2_method, ci_method, level, convergence, tau2_search_limit=False):
    return FitOptions(tau2_method, ci_method, level, convergence, tau2_search_limit)


def pool(
    yi,
    vi,
    *,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    convergence: str = "exact",
    tau2_search_limit: bool = False,
) -> PooledResult:
    """Random-effects (and common-effect) pooling of one analysis; ``.to_dict()`` for a row.

    The iterations run compiled when numba is installed (the same numbers as the workflow's
    pooling, bit for bit; the first call in a process loads or compiles them).
    """
    opts = _options(tau2_method, ci_method, level, convergence, tau2_search_limit)
    yi, vi = np.ascontiguousarray(yi, dtype=float), np.ascontiguousarray(vi, dtype=float)
    return _pool(yi, vi, opts, kernels=compiled_kernels())


def pool_batch(
    yi,
    vi,
    *,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    convergence: str = "exact",
    tau2_search_limit: bool = False,
) -> pd.DataFrame:
    """Pool every row of (B, k) arrays at once; NaN entries mark absent studies.

    Returns one row per analysis: ``k, estimate, se, ci_low, ci_high, p_value, pi_low,
    pi_high, tau2, tau2_ci_low, tau2_ci_high, i2, h2, q, q_p, fe_estimate, fe_se,
    tau2_iterations``. Rows with k = 1 report the study itself (tau² and its CI NaN).
    """
    opts = _options(tau2_method, ci_method, level, convergence, tau2_search_limit)
    y, v = np.atleast_2d(np.asarray(yi, dtype=float)), np.atleast_2d(np.asarray(vi, dtype=float))
    present = np.isfinite(y) & np.isfinite(v)
    batch = make_batch(y, v, present)
    s = summarize_chunked(batch, opts)
    low, high = np.full(s.k.size, np.nan), np.full(s.k.size, np.nan)
    pooled = s.k >= 2
    if pooled.any():
        part = make_batch(y[pooled], v[pooled], present[pooled])
        low[pooled], high[pooled], _, _ = q_profile(part, opts, s.tau2[pooled])
    names = ["k", "estimate", "se", "ci_low", "ci_high", "p_value", "pi_low", "pi_high", "tau2"]
    frame = pd.DataFrame({name: getattr(s, name) for name in names})
    frame["tau2_ci_low"], frame["tau2_ci_high"] = low, high
    for name in ["i2", "h2", "q", "q_p", "fe_estimate", "fe_se"]:
        frame[name] = getattr(s, name)
    frame["tau2_iterations"] = s.iterations
    return frame


def leave_one_out(
    yi,
    vi,
    *,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    convergence: str = "exact",
) -> pd.DataFrame:
    """The model refitted without each study (k ≥ 3): one row per omitted study (``omitted``
    is its 0-based position), columns ``k, estimate, se, ci_low, ci_high, p_value, tau2, i2,
    q, note`` — ``metafor::leave1out``."""
    opts = _options(tau2_method, ci_method, level, convergence)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    names = ["k", "estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2", "q"]
    if yi.size < _influence.MIN_STUDIES:
        return pd.DataFrame(columns=["omitted", *names, "note"])
    s = summarize_chunked(_influence.loo_batch(yi, vi), opts)
    columns = {"omitted": np.arange(yi.size)} | {n: getattr(s, n) for n in names}
    columns["note"] = np.where(s.converged, "", "tau2 did not converge").astype(object)
    return pd.DataFrame(columns, copy=False)


INFLUENCE_COLUMNS = ["rstudent", "dffits", "cooks_d", "cov_r", "tau2_del", "qe_del", "hat",
                     "weight", "dfbetas", "influential", "note"]  # fmt: skip


def influence(
    yi, vi, *, tau2_method: str = "REML", ci_method: str = "hksj", convergence: str = "exact"
) -> pd.DataFrame:
    """Case-deletion diagnostics, ``metafor::influence.rma.uni`` (k ≥ 3): one row per study.

    Columns ``rstudent, dffits, cooks_d, cov_r, tau2_del, qe_del, hat, weight, dfbetas,
    influential, note`` (the workflow's influence table has the same names; ``weight`` in %).
    """
    opts = _options(tau2_method, ci_method, 0.95, convergence)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.size < _influence.MIN_STUDIES:
        return pd.DataFrame(columns=INFLUENCE_COLUMNS)
    columns = _influence.influence_columns(yi, vi, opts)
    return pd.DataFrame({name: columns[name] for name in INFLUENCE_COLUMNS}, copy=False)


def permutation_test(
    yi,
    vi,
    *,
    mods=None,
    n_perm: int = 1000,
    seed=None,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    convergence: str = "exact",
) -> _permutation.PermutationResult:
    """Permutation test as ``metafor::permutest``: of the last moderator (signs permuted for
    an intercept-only model); exact when the distinct permutations are ≤ ``n_perm``.

    Returns a result with ``statistic`` (z, or t under ``hksj``), ``p_value``, ``qm``,
    ``qm_p_value``, ``n_perm`` and ``exact``.
    """
    opts = _options(tau2_method, ci_method, level, convergence)
    return _permutation.permutation_test(yi, vi, mods, opts, n_perm=n_perm, seed=seed)


def gosh(
    yi,
    vi,
    *,
    tau2_method: str = "REML",
    max_subsets: int = _gosh.MAX_SUBSETS,
    seed=None,
    convergence: str = "exact",
) -> pd.DataFrame:
    """GOSH as ``metafor::gosh``: ``k, q, i2, h2, tau2, estimate`` per subset (all 2^k − 1
    when ≤ ``max_subsets``, else a seeded random sample), ordered by k."""
    opts = _options(tau2_method, "z", 0.95, convergence)
    return _gosh.gosh(yi, vi, opts, max_subsets=max_subsets, seed=seed)
