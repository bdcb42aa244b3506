"""Mixed-effects meta-regression on one numeric moderator (intercept + slope).

tau² comes from :func:`metareview.stats.tau2.estimate_tau2` with the design matrix [1, x], the
coefficients from :func:`metareview.stats.pooling.weighted_fit`; the slope is tested with z or, for
``ci_method="hksj"``, the Knapp–Hartung SE and t(k − 2), as ``rma(yi, vi, mods=~x,
test="knha")``. R² is metafor's pseudo-R²: max(0, 100·(tau²_RE − tau²_ME)/tau²_RE), with
tau²_RE from the intercept-only model (same method, same studies), and 0 when tau²_RE = 0
(metafor ≥ 2.1; older versions gave NA). Validated against metafor 3.8-1 ``rma(mods=~x)`` with
REML and DL, z and Knapp–Hartung, on the reference fixtures (``tests/unit/test_metaregression.py``;
closed form to 1e-6, REML to 1e-4; all eight tau² methods agreed to ~1e-9 in development).
"""

from __future__ import annotations

import numpy as np

from metareview.stats.options import FitOptions, resolve
from metareview.stats.pooling import NAN, wald_interval, weighted_fit
from metareview.stats.tau2 import estimate_tau2

#: A meta-regression needs at least this many studies (and two distinct moderator values).
MIN_STUDIES = 3


def pseudo_r2(tau2_re: float, tau2_me: float) -> float:
    """metafor's R² in percent: share of tau² accounted for by the moderator, truncated at 0."""
    if tau2_re == 0.0:
        return 0.0
    return max(0.0, 100 * (tau2_re - tau2_me) / tau2_re)


#: The note of a meta-regression whose weighted normal equations are numerically singular.
SINGULAR = (
    "not estimable: the weighted design is numerically singular (sampling variances too far "
    "apart for the spread of the moderator; metafor's rma stops with 'singular matrix' too)"
)


#: metafor's rank tolerance: ``qr.solve``'s default ``tol``.
RANK_TOL = 1e-7


def rank_deficient(vi: np.ndarray, X: np.ndarray) -> bool:
    """metafor's test of the weighted design √W·X (W = 1/vᵢ): a column whose part not
    explained by the columns before it is below ``RANK_TOL`` of its norm (R's ``qr``, as
    ``rma`` calls it through ``qr.solve``). An inverse may still exist in floating point
    (variances 4, 0.09 and 1.0000000000000625e-10 with years 1990, 1994, 1994: found by
    ``make fuzz``), but it is noise: a negative Q and a NaN Knapp–Hartung SE."""
    weighted = X / np.sqrt(vi)[:, None]
    r = np.linalg.qr(weighted, mode="r")
    norms = np.linalg.norm(weighted, axis=0)
    return bool(np.any(np.abs(np.diag(r)) < RANK_TOL * norms))


def _not_estimable(k: int, n_missing: int) -> dict:
    """The row of a meta-regression that cannot be fitted: counts, and why."""
    numbers = ("intercept", "intercept_se", "slope", "slope_se", "slope_ci_low",
               "slope_ci_high", "slope_p", "tau2", "tau2_re", "r2")  # fmt: skip
    return {"k": k, "n_missing": n_missing} | dict.fromkeys(numbers, NAN) | {"note": SINGULAR}


def meta_regression(
    yi,
    vi,
    x,
    options: FitOptions | None = None,
    **overrides,
) -> dict | None:
    """Fit yi = β0 + β1·x + u_i + e_i, u_i ~ N(0, tau²), e_i ~ N(0, vi).

    Studies with a missing (NaN) moderator are dropped first. ``options`` (or keyword
    overrides of its fields) say how tau² is estimated and the slope tested.

    Returns
    -------
    dict or None
        ``k, n_missing, intercept, intercept_se, slope, slope_se, slope_ci_low, slope_ci_high,
        slope_p, tau2, tau2_re, r2, note``; ``None`` when fewer than 3 studies with a
        moderator value remain or the moderator takes a single value; every number NaN and
        ``note`` :data:`SINGULAR` when the weighted design is numerically singular.
    """
    opts = resolve(options, **overrides)
    tau2_method, convergence = opts.tau2_method, opts.convergence
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    x = np.asarray(x, dtype=float)
    keep = ~np.isnan(x)
    yi, vi, x = yi[keep], vi[keep], x[keep]
    k = yi.size
    if k < MIN_STUDIES or np.unique(x).size < 2:
        return None
    X = np.column_stack([np.ones(k), x])
    if rank_deficient(vi, X):
        return _not_estimable(k, int((~keep).sum()))
    try:
        fit_tau2 = estimate_tau2(yi, vi, X, tau2_method, convergence)
        fit = weighted_fit(yi, vi, X, fit_tau2.tau2)
    except np.linalg.LinAlgError:
        return _not_estimable(k, int((~keep).sum()))
    if opts.ci_method == "hksj":
        se, df = fit.se_hksj, k - 2
    else:
        se, df = fit.se_z, None
    low, high, p = wald_interval(float(fit.beta[1]), float(se[1]), opts.level, df)
    tau2_re = estimate_tau2(yi, vi, np.ones((k, 1)), tau2_method, convergence).tau2
    note = "" if fit_tau2.converged else "tau2 did not converge"
    return {
        "k": k,
        "n_missing": int((~keep).sum()),
        "intercept": float(fit.beta[0]),
        "intercept_se": float(se[0]),
        "slope": float(fit.beta[1]),
        "slope_se": float(se[1]),
        "slope_ci_low": low,
        "slope_ci_high": high,
        "slope_p": p,
        "tau2": fit_tau2.tau2,
        "tau2_re": tau2_re,
        "r2": pseudo_r2(tau2_re, fit_tau2.tau2),
        "note": note,
    }
