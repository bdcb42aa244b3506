"""Random-effects and common-effect summaries of a whole batch of intercept-only analyses.

:func:`summarize` gives, per row, what ``pool()`` reports for one analysis: tau² (any of the
eight estimators), the random-effects estimate with a z or Knapp–Hartung (t(k − 1), SE not
truncated) interval, Cochran's Q, I², H², the t(k − 2) prediction interval and the
common-effect estimate with a z interval. :func:`q_profile` gives the Q-profile CI of tau²
(Viechtbauer 2007), as ``metafor::confint``. Rows with k = 1 report the study itself (z
interval; tau², I², H² and the PI NaN), as ``pool()`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metareview.stats import dist, estimators, single
from metareview.stats.engine import EXACT_XTOL, METAFOR_TOL, Batch, rows, weighted_fit
from metareview.stats.options import FitOptions

NAN = float("nan")


@dataclass(frozen=True)
class Summary:
    """Per-row arrays (length B) of an intercept-only batch; ``weights`` is (B, k) in %."""

    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    tau2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    q: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    s2: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    fe_estimate: np.ndarray
    fe_se: np.ndarray
    weights: np.ndarray


def wald(estimate, se, level: float, df=None):
    """Two-sided CI and p-value per row, normal (``df=None``) or t with ``df`` per row."""
    estimate, se = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    if df is None:
        crit = dist.norm_ppf(0.5 + level / 2) * np.ones_like(se)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * dist.norm_sf(np.abs(estimate / se))
    else:
        crit = dist.t_ppf(0.5 + level / 2, df)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * dist.t_sf(np.abs(estimate / se), df)
    p = np.where(se == 0.0, np.where(estimate == 0.0, 1.0, 0.0), p)
    return estimate - crit * se, estimate + crit * se, p


def typical_variance(batch: Batch) -> np.ndarray:
    """Higgins–Thompson typical within-study variance (k−1)Σw / ((Σw)² − Σw²), w = 1/v.

    That is (k−1)/tr P. When one weight dwarfs the rest, (Σw)² − Σw² cancels (to 0: s² = ∞,
    I² = 0 and H² NaN whatever τ²); those rows take (k−1)/tr P with tr P summed by
    :func:`single.trace_p`, without a subtraction (see ``single.CANCELLED``).
    """
    w = batch.m / batch.v
    sw, sw2 = w.sum(axis=1), (w**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = (batch.k - 1) * sw / (sw**2 - sw2)
        cancelled = (batch.k >= 2) & ~(sw - sw2 / sw > single.CANCELLED * sw)
    for i in np.flatnonzero(cancelled):
        s2[i] = (batch.k[i] - 1) / single.trace_p(w[i], sw[i])
    return s2


def estimate_tau2(batch: Batch, options: FitOptions) -> estimators.Tau2Batch:
    """tau² of every row with k ≥ 2 (rows with k = 1 get NaN, 0 iterations, converged)."""
    n = batch.y.shape[0]
    tau2 = np.full(n, NAN)
    iterations, converged = np.zeros(n, dtype=int), np.ones(n, dtype=bool)
    ok = np.flatnonzero(batch.k > batch.p)
    if ok.size:
        fit = estimators.estimate(rows(batch, ok), options)
        tau2[ok], iterations[ok], converged[ok] = fit.tau2, fit.iterations, fit.converged
    return estimators.Tau2Batch(tau2, iterations, converged)


def summarize(batch: Batch, options: FitOptions, tau2=None) -> Summary:
    """Random-effects summary of every row (tau² estimated unless given)."""
    k = batch.k
    single = k == 1
    fit_tau2 = estimate_tau2(batch, options) if tau2 is None else tau2
    tau2 = fit_tau2.tau2
    fe = weighted_fit(batch, 0.0)
    re = weighted_fit(batch, np.where(single, 0.0, tau2))
    estimate, se_z = re.beta[:, 0], re.se_z[:, 0]
    if options.ci_method == "hksj":
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.where(single, se_z, se_z * np.sqrt(re.q / (k - 1)))
        low, high, p = wald(estimate, se, options.level, np.maximum(k - 1, 1))
        z_low, z_high, z_p = wald(estimate, se, options.level)
        low, high, p = (
            np.where(single, z, t) for z, t in ((z_low, low), (z_high, high), (z_p, p))
        )
    else:
        se = se_z
        low, high, p = wald(estimate, se, options.level)
    s2 = typical_variance(batch)
    with np.errstate(divide="ignore", invalid="ignore"):
        crit = dist.t_ppf(0.5 + options.level / 2, k - 2)
        half = np.where(k >= 3, crit * np.sqrt(tau2 + se**2), NAN)
        weights = 100 * re.w / re.w.sum(axis=1, keepdims=True)
    return Summary(
        k=k.astype(int),
        estimate=estimate,
        se=se,
        ci_low=low,
        ci_high=high,
        p_value=p,
        tau2=tau2,
        iterations=fit_tau2.iterations,
        converged=fit_tau2.converged,
        q=np.where(single, 0.0, fe.q),
        q_p=np.where(single, 1.0, dist.chi2_sf(fe.q, np.maximum(k - 1, 1))),
        i2=i2_of(tau2, s2),
        h2=(tau2 + s2) / s2,
        s2=s2,
        pi_low=estimate - half,
        pi_high=estimate + half,
        fe_estimate=fe.beta[:, 0],
        fe_se=fe.se_z[:, 0],
        weights=weights,
    )


def i2_of(tau2, s2):
    """I² in percent from tau² and the typical within-study variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100 * tau2 / (tau2 + s2)


def q_profile(batch: Batch, options: FitOptions, tau2: np.ndarray):
    """Q-profile CI of tau² per row: ``(low, high, capped, limit)``.

    With ``options.tau2_search_limit`` the bounds are searched in [0, max(100, 10·τ̂²)] as
    metafor does and a bound beyond it is reported as the limit (``capped``); otherwise the
    bracket is widened until the true bound is found. ``convergence="metafor"`` uses
    ``uniroot``'s tolerance eps^0.25, as ``confint()`` with defaults.
    """
    df = batch.k - batch.p
    alpha = 1 - options.level
    xtol = METAFOR_TOL if options.convergence == "metafor" else EXACT_XTOL
    limit = np.maximum(100.0, 10 * tau2) if options.tau2_search_limit else None
    n = df.size
    both = rows(batch, np.concatenate([np.arange(n), np.arange(n)]))
    targets = np.concatenate([dist.chi2_ppf(1 - alpha / 2, df), dist.chi2_ppf(alpha / 2, df)])
    limits = None if limit is None else np.concatenate([limit, limit])
    root, _, _, capped = estimators.q_root(both, targets, xtol, limits)
    low, high = root[:n], root[n:]
    cap_low, cap_high = capped[:n], capped[n:]
    return low, high, cap_low | cap_high, limit


#: Rows × studies per pass of :func:`summarize_chunked` (bounds memory for large k).
MAX_CELLS = 1_000_000


def summarize_chunked(batch: Batch, options: FitOptions, max_cells: int = MAX_CELLS) -> Summary:
    """:func:`summarize` over slices of rows, so B × k arrays never exceed ``max_cells``."""
    n, k = batch.y.shape
    step = max(1, max_cells // max(k, 1))
    if n <= step:
        return summarize(batch, options)
    parts = [summarize(rows(batch, slice(i, i + step)), options) for i in range(0, n, step)]
    return Summary(
        **{
            name: np.concatenate([getattr(part, name) for part in parts])
            for name in Summary.__dataclass_fields__
        }
    )


def estimate_rows(s: Summary) -> list[dict]:
    """The estimate columns of the sensitivity tables, one dict per row of a summary."""
    out = []
    for i in range(s.k.size):
        single = s.k[i] == 1
        note = "k = 1: single study, not pooled" if single else ""
        if not s.converged[i]:
            note = "tau2 did not converge"
        out.append(
            {
                "k": int(s.k[i]),
                "estimate": float(s.estimate[i]),
                "se": float(s.se[i]),
                "ci_low": float(s.ci_low[i]),
                "ci_high": float(s.ci_high[i]),
                "p_value": float(s.p_value[i]),
                "tau2": float(s.tau2[i]),
                "i2": float(s.i2[i]),
                "q": float(s.q[i]),
                "note": note,
            }
        )
    return out
