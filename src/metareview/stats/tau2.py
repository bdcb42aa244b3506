"""Between-study variance (tau²) of one analysis: a one-row view of the batched engine.

Every estimator takes the effect sizes ``yi``, their sampling variances ``vi`` and a design
matrix ``X`` (a column of ones for an intercept-only model), and follows the definitions of
R's ``metafor::rma.uni`` (Viechtbauer 2005; Viechtbauer et al. 2015). Unlike
``statsmodels.stats.meta_analysis`` (whose DL is not truncated at zero and whose Paule–Mandel
iteration stops at ``atol=1e-5``), every estimate here is truncated at zero and iterative
estimators are solved to ``1e-12``. The arithmetic lives in :mod:`metareview.stats.estimators`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metareview.stats import estimators
from metareview.stats.engine import METAFOR_TOL, THRESHOLD, make_batch
from metareview.stats.options import CONVERGENCE, TAU2_METHODS, FitOptions

__all__ = ["CONVERGENCE", "METAFOR_TOL", "TAU2_METHODS", "THRESHOLD", "Tau2Fit"]
__all__ += ["estimate_tau2", "metafor_tau2_max", "residual_q"]


def metafor_tau2_max(yi: np.ndarray) -> float:
    """metafor's default upper search limit for PM: max(100, 10·mad(yi)²)."""
    return float(estimators.metafor_tau2_max(make_batch(yi, np.ones_like(yi)))[0])


@dataclass(frozen=True)
class Tau2Fit:
    """A tau² estimate with the iterations it took (0 for closed-form estimators)."""

    tau2: float
    method: str
    iterations: int
    converged: bool


def residual_q(yi, vi, X, tau2: float) -> float:
    """Generalised Q statistic yᵀ P(tau2) y (Cochran's Q when tau2 = 0)."""
    from metareview.stats.engine import residual_q as batch_q

    return float(batch_q(make_batch(yi, vi, X=X), tau2)[0])


def estimate_tau2(yi, vi, X=None, method: str = "REML", convergence: str = "exact") -> Tau2Fit:
    """Estimate tau² with one of :data:`TAU2_METHODS`.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and their (known) sampling variances, length k.
    X : array_like, optional
        k × p design matrix; defaults to an intercept-only model.
    method : str
        ``DL`` DerSimonian–Laird, ``HE`` Hedges, ``HS`` Hunter–Schmidt, ``SJ`` Sidik–Jonkman,
        ``ML``/``REML`` (restricted) maximum likelihood by Fisher scoring, ``PM`` Paule–Mandel,
        ``EB`` empirical Bayes (same root as PM, as in metafor).
    convergence : {"exact", "metafor"}
        ``exact`` solves iterative estimators to 1e-12; ``metafor`` stops where metafor's
        default control stops, so results equal ``rma()`` run with defaults.

    Returns
    -------
    Tau2Fit
        Validated against ``metafor::rma(method=...)`` in ``tests/unit/test_reference_metafor.py``.
    """
    if method not in TAU2_METHODS:
        raise ValueError(f"tau2 method {method!r} is not one of {', '.join(TAU2_METHODS)}")
    options = FitOptions(tau2_method=method, convergence=convergence)
    batch = make_batch(yi, vi, X=X)
    k, p = batch.y.shape[1], batch.p
    if k - p < 1:
        raise ValueError(f"tau² needs at least {p + 1} studies for {p} coefficient(s); got {k}")
    fit = estimators.estimate(batch, options)
    return Tau2Fit(float(fit.tau2[0]), method, int(fit.iterations[0]), bool(fit.converged[0]))
