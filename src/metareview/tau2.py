"""Between-study variance (tau²) estimators for the random/mixed-effects model.

Every estimator takes the effect sizes ``yi``, their sampling variances ``vi`` and a design
matrix ``X`` (a column of ones for an intercept-only model), and follows the definitions of
R's ``metafor::rma.uni`` (Viechtbauer 2005; Viechtbauer et al. 2015). Unlike
``statsmodels.stats.meta_analysis`` (whose DL is not truncated at zero and whose Paule–Mandel
iteration stops at ``atol=1e-5``), every estimate here is truncated at zero and iterative
estimators are solved to ``1e-12``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

TAU2_METHODS = ("DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB")

#: Convergence threshold on the change in tau² between iterations (metafor's default is 1e-5,
#: which leaves REML estimates off by up to ~1e-5; we iterate to machine-level agreement).
THRESHOLD = 1e-12
MAX_ITER = 10_000

#: ``convergence="metafor"`` reproduces metafor's default ``control``: threshold 1e-5 for
#: Fisher scoring and EB, and R's ``uniroot`` tolerance (.Machine$double.eps^0.25) for PM.
METAFOR_THRESHOLD = 1e-5
METAFOR_TOL = np.finfo(float).eps ** 0.25
CONVERGENCE = ("exact", "metafor")


def metafor_tau2_max(yi: np.ndarray) -> float:
    """metafor's default upper search limit for PM: max(100, 10·mad(yi)²)."""
    mad = 1.4826 * float(np.median(np.abs(yi - np.median(yi))))
    return max(100.0, 10 * mad**2)


@dataclass(frozen=True)
class Tau2Fit:
    """A tau² estimate with the iterations it took (0 for closed-form estimators)."""

    tau2: float
    method: str
    iterations: int
    converged: bool


def projection(vi: np.ndarray, X: np.ndarray, tau2: float) -> np.ndarray:
    """Return P = W − W X (Xᵀ W X)⁻¹ Xᵀ W with W = diag(1 / (vi + tau2))."""
    w = 1.0 / (vi + tau2)
    WX = X * w[:, None]
    return np.diag(w) - WX @ np.linalg.solve(X.T @ WX, WX.T)


def residual_q(yi: np.ndarray, vi: np.ndarray, X: np.ndarray, tau2: float) -> float:
    """Generalised Q statistic yᵀ P(tau2) y (Cochran's Q when tau2 = 0).

    P is positive semi-definite, so Q ≥ 0; rounding can give −1e-17 for identical effects,
    which is returned as 0.
    """
    return max(0.0, float(yi @ projection(vi, X, tau2) @ yi))


def estimate_tau2(
    yi: np.ndarray,
    vi: np.ndarray,
    X: np.ndarray | None = None,
    method: str = "REML",
    convergence: str = "exact",
) -> Tau2Fit:
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
        Validated against ``metafor::rma(method=...)`` in ``tests/test_reference_metafor.py``.
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = yi.size
    X = np.ones((k, 1)) if X is None else np.asarray(X, dtype=float)
    p = X.shape[1]
    if method not in TAU2_METHODS:
        raise ValueError(f"tau2 method {method!r} is not one of {', '.join(TAU2_METHODS)}")
    if k - p < 1:
        raise ValueError(f"tau² needs at least {p + 1} studies for {p} coefficient(s); got {k}")

    if method == "DL":
        P = projection(vi, X, 0.0)
        tau2 = (float(yi @ P @ yi) - (k - p)) / float(np.trace(P))
        return Tau2Fit(max(0.0, tau2), method, 0, True)
    if method == "HE":
        return Tau2Fit(max(0.0, _hedges(yi, vi, X)), method, 0, True)
    if method == "HS":
        w = 1.0 / vi
        tau2 = (residual_q(yi, vi, X, 0.0) - k) / float(w.sum())
        return Tau2Fit(max(0.0, tau2), method, 0, True)
    if method == "SJ":
        tau2_0 = float(np.var(yi))  # var(yi)·(k−1)/k, metafor's starting value
        if tau2_0 == 0.0:
            return Tau2Fit(0.0, method, 0, True)
        tau2 = tau2_0 * residual_q(yi, vi, X, tau2_0) / (k - p)
        return Tau2Fit(max(0.0, tau2), method, 0, True)
    if convergence not in CONVERGENCE:
        raise ValueError(f"convergence {convergence!r} is not one of {CONVERGENCE}")
    if convergence == "metafor":
        if method == "PM":
            return _paule_mandel(yi, vi, X, method, metafor_tau2_max(yi), METAFOR_TOL)
        return _fisher_scoring(yi, vi, X, method, METAFOR_THRESHOLD)
    if method in ("PM", "EB"):
        return _paule_mandel(yi, vi, X, method)
    return _fisher_scoring(yi, vi, X, method)


def _hedges(yi: np.ndarray, vi: np.ndarray, X: np.ndarray) -> float:
    k, p = X.shape
    P_ols = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
    rss = float(yi @ P_ols @ yi)
    return (rss - float(np.sum(np.diag(P_ols) * vi))) / (k - p)


def _paule_mandel(
    yi: np.ndarray,
    vi: np.ndarray,
    X: np.ndarray,
    method: str,
    upper: float | None = None,
    xtol: float = 1e-14,
) -> Tau2Fit:
    """Solve yᵀP(tau2)y = k − p; the left side decreases monotonically in tau2.

    With ``upper`` and ``xtol`` set as metafor's defaults, scipy's Brent root finder takes
    the same steps as R's ``uniroot`` and returns metafor's value to the last digit.
    """
    k, p = X.shape
    target = k - p

    def excess(tau2: float) -> float:
        return residual_q(yi, vi, X, tau2) - target

    if excess(0.0) <= 0.0:
        return Tau2Fit(0.0, method, 0, True)
    if upper is None:
        upper = max(1.0, float(np.var(yi)) * 10)
        while excess(upper) > 0.0:
            upper *= 10
    elif excess(upper) > 0.0:
        return Tau2Fit(float(upper), method, 0, False)
    root, info = optimize.brentq(
        excess, 0.0, upper, xtol=xtol, rtol=4 * np.finfo(float).eps, full_output=True
    )
    return Tau2Fit(float(root), method, int(info.iterations), bool(info.converged))


def _fisher_scoring(
    yi: np.ndarray, vi: np.ndarray, X: np.ndarray, method: str, threshold: float | None = None
) -> Tau2Fit:
    """ML/REML (and EB) by Fisher scoring from the truncated Hedges estimate, as metafor.

    ``threshold=None`` iterates to :data:`THRESHOLD` relative to max(1, tau²), truncating a
    negative step at 0; with a threshold, a step that would make tau² negative is halved
    until it does not, as metafor does.
    """
    k, p = X.shape
    tau2 = max(0.0, _hedges(yi, vi, X))
    for iteration in range(1, MAX_ITER + 1):
        P = projection(vi, X, tau2)
        Py = P @ yi
        w = 1.0 / (vi + tau2)
        if method == "REML":
            adj = (float(Py @ Py) - float(np.trace(P))) / float(np.sum(P * P.T))
        elif method == "ML":
            adj = (float(Py @ Py) - float(w.sum())) / float(np.sum(w**2))
        else:  # EB (Morris): solves yᵀPy·k/(k − p) = k
            adj = (float(yi @ Py) * k / (k - p) - k) / float(w.sum())
        if threshold is None:
            new = max(0.0, tau2 + adj)  # exact: a boundary optimum is exactly 0
        else:
            while tau2 + adj < 0.0:  # metafor: halve the step until tau² stays ≥ 0
                adj /= 2
            new = tau2 + adj
        change = abs(new - tau2)
        tau2 = new
        limit = THRESHOLD * max(1.0, tau2) if threshold is None else threshold
        if change <= limit:
            return Tau2Fit(tau2, method, iteration, True)
    return Tau2Fit(tau2, method, MAX_ITER, False)
