"""Random-effects and common-effect pooling of one analysis (k studies).

The weighted least-squares fits use :class:`statsmodels.regression.linear_model.WLS`; tau²
comes from :mod:`metareview.tau2`. Definitions follow the data contract and agree with
``metafor::rma`` (see ``tests/reference``), with one deliberate difference: the prediction
interval uses t(k − 2) (Higgins, Thompson & Spiegelhalter 2009; R's meta and the Cochrane
Handbook) where metafor's default uses z.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import statsmodels.api as sm
from scipy import optimize, stats

from metareview.tau2 import METAFOR_TOL, TAU2_METHODS, estimate_tau2, residual_q

CI_METHODS = ("z", "hksj")


@dataclass(frozen=True)
class WeightedFit:
    """Coefficients of a weighted least-squares fit at a fixed tau²."""

    beta: np.ndarray
    se_z: np.ndarray  # sqrt(diag((XᵀWX)⁻¹)): the model-based SE
    se_hksj: np.ndarray  # Knapp–Hartung: se_z · sqrt(RSS_w / (k − p)), not truncated
    weights: np.ndarray  # 1 / (vi + tau2)
    df_resid: int


def weighted_fit(yi: np.ndarray, vi: np.ndarray, X: np.ndarray, tau2: float) -> WeightedFit:
    """Fit yi = Xβ with weights 1/(vi + tau2) by statsmodels WLS.

    statsmodels' ``normalized_cov_params`` is (XᵀWX)⁻¹ and its ``scale`` is the weighted
    residual mean square, i.e. exactly the Knapp–Hartung factor.
    """
    w = 1.0 / (np.asarray(vi, dtype=float) + tau2)
    res = sm.WLS(np.asarray(yi, dtype=float), X, weights=w).fit()
    cov = np.asarray(res.normalized_cov_params)
    se_z = np.sqrt(np.diag(cov))
    k, p = X.shape
    scale = float(res.scale) if k > p else np.nan
    return WeightedFit(
        beta=np.asarray(res.params, dtype=float),
        se_z=se_z,
        se_hksj=se_z * np.sqrt(scale),
        weights=w,
        df_resid=k - p,
    )


def wald_interval(
    estimate: float, se: float, level: float, df: float | None = None
) -> tuple[float, float, float]:
    """Two-sided CI and p-value, normal (``df=None``) or t with ``df`` degrees of freedom."""
    dist = stats.norm if df is None else stats.t(df)
    crit = float(dist.ppf(0.5 + level / 2))
    if se == 0.0:
        p = 1.0 if estimate == 0.0 else 0.0
    else:
        p = float(2 * dist.sf(abs(estimate / se)))
    return estimate - crit * se, estimate + crit * se, p


def typical_variance(vi: np.ndarray) -> float:
    """Higgins–Thompson typical within-study variance (k−1)Σw / ((Σw)² − Σw²), w = 1/vi."""
    w = 1.0 / vi
    return (w.size - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())


def q_profile_ci(
    yi: np.ndarray, vi: np.ndarray, level: float, tau2_max: float = np.inf, xtol: float = 1e-14
) -> tuple[float, float, bool]:
    """Q-profile confidence interval for tau² (Viechtbauer 2007), as ``metafor::confint``.

    Bounds are searched in [0, ``tau2_max``]; metafor's default limit is max(100, 10·τ̂²).
    A bound beyond the limit is reported as the limit, and the third value says so (metafor
    prints it with a ">" sign). ``xtol`` = .Machine$double.eps^0.25 reproduces metafor's
    default ``uniroot`` tolerance (scipy's Brent takes the same steps as R's).

    Returns
    -------
    (lower, upper, capped)
    """
    X = np.ones((yi.size, 1))
    df = yi.size - 1
    alpha = 1 - level
    q0 = residual_q(yi, vi, X, 0.0)
    q_max = residual_q(yi, vi, X, tau2_max) if np.isfinite(tau2_max) else 0.0

    def bound(quantile: float) -> tuple[float, bool]:
        target = stats.chi2.ppf(quantile, df)
        if q0 <= target:
            return 0.0, False
        if q_max > target:
            return float(tau2_max), True
        upper = tau2_max
        if not np.isfinite(upper):
            upper = max(1.0, float(np.var(yi)) * 10)
            while residual_q(yi, vi, X, upper) > target:
                upper *= 10
        root = optimize.brentq(
            lambda t: residual_q(yi, vi, X, t) - target,
            0.0,
            upper,
            xtol=xtol,
            rtol=4 * np.finfo(float).eps,
        )
        return float(root), False

    lower, lower_capped = bound(1 - alpha / 2)
    upper, upper_capped = bound(alpha / 2)
    return lower, upper, lower_capped or upper_capped


@dataclass(frozen=True)
class PooledResult:
    """One row of ``results/pooled.csv`` (contract columns) plus study weights."""

    k: int
    measure: str
    tau2_method: str
    ci_method: str
    level: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    pi_low: float
    pi_high: float
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    q: float
    q_df: int
    q_p: float
    fe_estimate: float
    fe_se: float
    fe_ci_low: float
    fe_ci_high: float
    tau2_iterations: int = 0
    note: str = ""
    weights: tuple[float, ...] = field(default=(), repr=False)  # random-effects weights, %

    def to_dict(self) -> dict:
        """Contract columns (and extras) as a flat dict; weights are left out."""
        row = asdict(self)
        row.pop("weights")
        return row


NAN = float("nan")


def pool(
    yi,
    vi,
    *,
    measure: str = "",
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    tau2_search_limit: bool = True,
    convergence: str = "exact",
) -> PooledResult:
    """Pool k effect sizes with a random-effects model and a common-effect model.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes (ratio measures on the log scale) and sampling variances (> 0).
    measure : str
        Label carried into the result.
    tau2_method : {"DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB"}
    ci_method : {"z", "hksj"}
        ``hksj``: Knapp–Hartung SE (not truncated) with t(k − 1), as ``test="knha"``.
    level : float
        Confidence level in (0, 1).
    tau2_search_limit : bool
        Search the Q-profile CI of tau² in [0, max(100, 10·τ̂²)] as metafor does (a bound
        beyond it is reported as the limit and noted); False searches without limit.
    convergence : {"exact", "metafor"}
        ``exact``: iterative tau² and Q-profile bounds solved to ~1e-12; ``metafor``: stop
        where metafor's default ``control`` stops, reproducing ``rma()``/``confint()`` run
        with defaults to the last digit.

    Returns
    -------
    PooledResult
        Degenerate cases: k = 1 reports the study's own estimate with a z-interval (no tau²,
        I², Q-test or PI; ``ci_method`` says ``z``); k = 2 is pooled without a PI.
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = yi.size
    if tau2_method not in TAU2_METHODS:
        raise ValueError(f"tau2_method {tau2_method!r} is not one of {TAU2_METHODS}")
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method {ci_method!r} is not one of {CI_METHODS}")
    if k == 0:
        raise ValueError("cannot pool zero studies")
    if not (np.all(np.isfinite(yi)) and np.all(np.isfinite(vi)) and np.all(vi > 0)):
        raise ValueError("effect sizes must be finite and variances finite and positive")

    X = np.ones((k, 1))
    fe = weighted_fit(yi, vi, X, 0.0)
    fe_est, fe_se = float(fe.beta[0]), float(fe.se_z[0])
    fe_low, fe_high, fe_p = wald_interval(fe_est, fe_se, level)

    if k == 1:
        return PooledResult(
            k=1,
            measure=measure,
            tau2_method=tau2_method,
            ci_method="z",
            level=level,
            estimate=fe_est,
            se=fe_se,
            ci_low=fe_low,
            ci_high=fe_high,
            p_value=fe_p,
            pi_low=NAN,
            pi_high=NAN,
            tau2=NAN,
            tau2_ci_low=NAN,
            tau2_ci_high=NAN,
            i2=NAN,
            i2_ci_low=NAN,
            i2_ci_high=NAN,
            h2=NAN,
            q=0.0,
            q_df=0,
            q_p=1.0,
            fe_estimate=fe_est,
            fe_se=fe_se,
            fe_ci_low=fe_low,
            fe_ci_high=fe_high,
            note="k = 1: single study, not pooled",
            weights=(100.0,),
        )

    fit = estimate_tau2(yi, vi, X, tau2_method, convergence)
    tau2 = fit.tau2
    re = weighted_fit(yi, vi, X, tau2)
    est = float(re.beta[0])
    if ci_method == "hksj":
        se, df = float(re.se_hksj[0]), k - 1
    else:
        se, df = float(re.se_z[0]), None
    ci_low, ci_high, p_value = wald_interval(est, se, level, df)

    q = residual_q(yi, vi, X, 0.0)
    q_df = k - 1
    s2 = typical_variance(vi)
    tau2_max = max(100.0, 10 * tau2) if tau2_search_limit else np.inf
    xtol = METAFOR_TOL if convergence == "metafor" else 1e-14
    tau2_low, tau2_high, capped = q_profile_ci(yi, vi, level, tau2_max, xtol)

    def i2_of(t: float) -> float:
        return 100 * t / (t + s2)

    if k >= 3:
        crit = float(stats.t.ppf(0.5 + level / 2, k - 2))
        half = crit * np.sqrt(tau2 + se**2)
        pi_low, pi_high = est - half, est + half
        note = ""
    else:
        pi_low = pi_high = NAN
        note = "k = 2: no prediction interval"
    if capped:
        note = f"{note}; tau2 CI bound beyond the search limit {tau2_max:g} (as metafor)".lstrip(
            "; "
        )
    if not fit.converged:
        note = f"{note}; tau2 did not converge".lstrip("; ")

    return PooledResult(
        k=k,
        measure=measure,
        tau2_method=tau2_method,
        ci_method=ci_method,
        level=level,
        estimate=est,
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p_value,
        pi_low=pi_low,
        pi_high=pi_high,
        tau2=tau2,
        tau2_ci_low=tau2_low,
        tau2_ci_high=tau2_high,
        i2=i2_of(tau2),
        i2_ci_low=i2_of(tau2_low),
        i2_ci_high=i2_of(tau2_high),
        h2=(tau2 + s2) / s2,
        q=q,
        q_df=q_df,
        q_p=float(stats.chi2.sf(q, q_df)),
        fe_estimate=fe_est,
        fe_se=fe_se,
        fe_ci_low=fe_low,
        fe_ci_high=fe_high,
        tau2_iterations=fit.iterations,
        note=note,
        weights=tuple(100 * re.weights / re.weights.sum()),
    )
