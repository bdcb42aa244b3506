"""A lean path for one intercept-only analysis: :func:`pool` without the batch machinery.

The batched engine pays ~20 numpy calls and several small allocations per step whatever the
batch size, which dominates a batch of one (a single ``pool()``: tau², summaries and the
Q-profile CI). These functions do the same floating-point operations, in the same order, on
1-D arrays and scalars, so the results are bit-for-bit those of the batched path
(``tests/unit/test_fast_path.py`` asserts equality, not closeness, for every tau² method,
both CI methods and both convergence settings). Scalar arithmetic uses ``x * x`` wherever
numpy squares elementwise (``x ** 2`` on a float would call ``pow``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from metareview.stats import dist, estimators, single
from metareview.stats.engine import (
    EXACT_XTOL,
    MAX_ITER,
    METAFOR_THRESHOLD,
    METAFOR_TOL,
    THRESHOLD,
    make_batch,
)
from metareview.stats.options import FitOptions

_LOG_2PI = float(np.log(2 * np.pi))
_ITERATIVE = ("REML", "ML", "EB")
_sum = np.add.reduce  # ndarray.sum without its Python wrapper (same arithmetic)


@lru_cache(maxsize=256)
def _t_crit(level: float, df: float) -> float:
    return float(dist.t_ppf(0.5 + level / 2, df))


@lru_cache(maxsize=256)
def _chi2_ppf(q: float, df: float) -> float:
    return float(dist.chi2_ppf(q, df))


@dataclass(frozen=True)
class Wls:
    """Intercept-only weighted least squares at one tau² (as ``engine.weighted_fit``)."""

    w: np.ndarray
    sw: float
    beta: float
    q: float


def wls(y: np.ndarray, v: np.ndarray, tau2: float, kernels=single) -> Wls:
    """``engine.weighted_fit`` of one intercept-only row, same operations."""
    return Wls(*kernels.wls(y, v, tau2))


def hedges(y: np.ndarray, v: np.ndarray) -> float:
    """``estimators.hedges`` of one intercept-only row (the Fisher scoring start)."""
    k = y.size
    resid = y - float(_sum(y)) / k
    ols_q = float(_sum(resid * resid))
    # einsum as the batched path computes Σv (its summation order is einsum's own)
    inner = np.einsum("bki,bkj->bij", v.reshape(1, k, 1), np.ones((1, k, 1)))
    hat_v = float((1.0 / k) * inner[0, 0, 0])
    return (ols_q - (float(_sum(v)) - hat_v)) / (k - 1)


def log_likelihood(y: np.ndarray, v: np.ndarray, method: str, tau2: float, kernels=single):
    """``estimators.log_likelihood`` of one intercept-only row."""
    fit = wls(y, v, tau2, kernels)
    k = float(y.size)
    logv = float(_sum(np.log(v + tau2)))
    if method == "ML":
        return -k / 2 * _LOG_2PI - logv / 2 - fit.q / 2
    logdet = -float(np.log(1.0 / fit.sw))
    return -(k - 1) / 2 * _LOG_2PI - logv / 2 - logdet / 2 - fit.q / 2


def tau2(y: np.ndarray, v: np.ndarray, options: FitOptions, kernels=single):
    """(tau², iterations, converged) as ``estimators.estimate`` for one row (k ≥ 2).

    ``kernels`` runs the Fisher scoring: :mod:`single`, or its compiled twin (see
    :func:`compiled_kernels`); the results are the same bits.
    """
    method = options.tau2_method
    metafor = options.convergence == "metafor"
    if method not in _ITERATIVE or (method == "EB" and not metafor):
        fit = estimators.estimate(make_batch(y, v), options)
        return float(fit.tau2[0]), int(fit.iterations[0]), bool(fit.converged[0])
    threshold = METAFOR_THRESHOLD if metafor else None
    start = max(0.0, hedges(y, v))
    t, it, ok = kernels.fisher_scoring(y, v, method, start, threshold, THRESHOLD, MAX_ITER)
    if method != "EB" and ok and t > (THRESHOLD if threshold is None else threshold):
        gain = log_likelihood(y, v, method, 0.0, kernels) - log_likelihood(
            y, v, method, t, kernels
        )
        t = 0.0 if gain > estimators.LL0_TOL else t  # a local maximum, as metafor's ll0check
    return float(t), int(it), bool(ok)


def q_root(y, v, q0: float, target: float, xtol: float, limit=None, kernels=single):
    """``estimators.q_root`` of one row: (root, capped)."""
    if not q0 > target:
        return 0.0, False
    if limit is not None:
        upper = float(limit)
        f_upper = wls(y, v, upper, kernels).q - target
        if f_upper > 0.0:
            return upper, True
    else:
        k = y.size
        dev = y - float(_sum(y)) / k
        upper = max(1.0, 10 * (float(_sum(dev * dev)) / k))
        f_upper = wls(y, v, upper, kernels).q - target
        while f_upper > 0.0:
            upper = upper * 10
            f_upper = wls(y, v, upper, kernels).q - target
    root, _, _ = kernels.q_root(y, v, target, upper, f_upper, q0 - target, xtol)
    return root, False


def q_profile(y, v, q0: float, options: FitOptions, tau2_hat: float, kernels=single):
    """``summaries.q_profile`` of one row: (low, high, capped, limit)."""
    df = y.size - 1.0
    alpha = 1 - options.level
    xtol = METAFOR_TOL if options.convergence == "metafor" else EXACT_XTOL
    limit = max(100.0, 10 * tau2_hat) if options.tau2_search_limit else None
    low, cap_low = q_root(y, v, q0, _chi2_ppf(1 - alpha / 2, df), xtol, limit, kernels)
    high, cap_high = q_root(y, v, q0, _chi2_ppf(alpha / 2, df), xtol, limit, kernels)
    return low, high, cap_low or cap_high, limit


@lru_cache(maxsize=1)
def compiled_kernels():
    """:mod:`metareview.stats.compiled` when numba is installed, else :mod:`single`."""
    try:
        from metareview.stats import compiled
    except ImportError:  # numba missing: the same numbers, numpy's speed
        return single
    return compiled


def _div(a: float, b: float) -> float:
    """a / b with numpy's semantics for b = 0 (inf or NaN, no exception)."""
    if b != 0.0:
        return a / b
    return (
        math.nan
        if a == 0.0 or math.isnan(a)
        else math.copysign(math.inf, a) * (math.copysign(1.0, b))
    )


def wald(estimate: float, se: float, level: float, df=None) -> tuple[float, float, float]:
    """``summaries.wald`` for one value: (low, high, p)."""
    if df is None:
        crit = float(dist.norm_ppf(0.5 + level / 2)) * 1.0
        p = 2 * float(dist.norm_sf(abs(_div(estimate, se))))
    else:
        crit = _t_crit(level, df)
        p = 2 * float(dist.t_sf(abs(_div(estimate, se)), df))
    if se == 0.0:
        p = 1.0 if estimate == 0.0 else 0.0
    return estimate - crit * se, estimate + crit * se, p


def typical_variance(v: np.ndarray) -> float:
    """``summaries.typical_variance`` of one row."""
    w = 1.0 / v
    sw, sw2 = float(_sum(w)), float(_sum(w * w))
    if v.size >= 2 and not sw - _div(sw2, sw) > single.CANCELLED * sw:
        return (v.size - 1.0) / single.trace_p(w, sw)
    return _div((v.size - 1.0) * sw, sw * sw - sw2)


def summary(y: np.ndarray, v: np.ndarray, t: float, options: FitOptions, kernels=single):
    """``summaries.summarize`` of one row with k ≥ 2 at tau² = ``t`` (its fields as floats,
    plus ``fe_q`` and the random-effects ``w``)."""
    k = float(y.size)
    fe, re = wls(y, v, 0.0, kernels), wls(y, v, t, kernels)
    estimate, se = re.beta, float(np.sqrt(1.0 / re.sw))
    if options.ci_method == "hksj":
        se = se * float(np.sqrt(re.q / (k - 1)))
        low, high, p = wald(estimate, se, options.level, max(k - 1, 1.0))
    else:
        low, high, p = wald(estimate, se, options.level)
    s2 = typical_variance(v)
    half = math.nan
    if k >= 3:
        crit = _t_crit(options.level, k - 2)
        half = crit * float(np.sqrt(t + se * se))
    return {
        "k": int(k), "estimate": estimate, "se": se, "ci_low": low, "ci_high": high,
        "p_value": p, "pi_low": estimate - half, "pi_high": estimate + half, "tau2": t,
        "i2": _div(100 * t, t + s2), "h2": _div(t + s2, s2), "q": fe.q,
        "q_p": float(dist.chi2_sf(fe.q, max(k - 1, 1.0))), "fe_estimate": fe.beta,
        "fe_se": float(np.sqrt(1.0 / fe.sw)), "s2": s2, "weights": 100 * re.w / re.sw,
    }  # fmt: skip
