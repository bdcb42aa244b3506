"""Leave-one-out, influence diagnostics, cumulative meta-analysis and risk-of-bias sensitivity.

- :func:`leave_one_out` — ``metafor::leave1out``: the model refitted without each study;
- :func:`influence_diagnostics` — ``metafor::influence.rma.uni`` for the intercept-only model:
  externally standardized residuals, DFFITS, Cook's distance, covariance ratio, DFBETAS, the
  leave-one-out tau² and Q, hat values, weights, and metafor's rule flagging influential studies;
- :func:`cumulative` — ``metafor::cumul``: studies added one at a time in the given order;
- :func:`without_high_risk` — the model refitted without studies at high risk of bias.

Every refit uses :func:`metareview.pooling.pool` (or its building blocks) with the analysis'
tau² method, CI method, level and ``convergence`` setting. Validated against metafor 3.8-1
(REML and DL, z and Knapp–Hartung) on the reference fixtures in ``tests/unit/test_influence.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from metareview.pooling import pool, weighted_fit
from metareview.tau2 import estimate_tau2, residual_q

#: Leave-one-out and influence diagnostics need at least this many studies (each refit then
#: still has two studies to estimate tau² from).
MIN_STUDIES = 3
#: Residuals smaller than this, relative to the largest |effect|, are rounding error.
ROUNDING = 100 * np.finfo(float).eps
NAN = float("nan")


#: Parts of ``pool()``'s note about columns these tables do not have.
_OTHER_COLUMNS = ("prediction interval", "tau2 CI")


def fit_note(fit) -> str:
    """``pool()``'s note without remarks on the prediction interval or the CI of tau²."""
    parts = fit.note.split("; ")
    return "; ".join(p for p in parts if p and not any(o in p for o in _OTHER_COLUMNS))


def estimate_columns(fit) -> dict:
    """The estimate columns shared by the sensitivity tables (subgroups, LOO, cumulative...)."""
    return {
        "k": fit.k,
        "estimate": fit.estimate,
        "se": fit.se,
        "ci_low": fit.ci_low,
        "ci_high": fit.ci_high,
        "p_value": fit.p_value,
        "tau2": fit.tau2,
        "i2": fit.i2,
        "q": fit.q,
        "note": fit_note(fit),
    }


def leave_one_out(
    yi,
    vi,
    *,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    convergence: str = "exact",
) -> list[dict]:
    """Refit the random-effects model without each study in turn (k ≥ 3, else no rows).

    Returns
    -------
    list of dict
        Row i omits study i: ``k, estimate, se, ci_low, ci_high, p_value, tau2, i2, q, note``.
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.size < MIN_STUDIES:
        return []
    rows = []
    for i in range(yi.size):
        keep = np.arange(yi.size) != i
        fit = pool(
            yi[keep],
            vi[keep],
            tau2_method=tau2_method,
            ci_method=ci_method,
            level=level,
            convergence=convergence,
        )
        rows.append(estimate_columns(fit))
    return rows


def _intercept_fit(
    yi, vi, tau2_method: str, ci_method: str, convergence: str
) -> tuple[float, float, float, float]:
    """(beta, vb, tau2, s2w) of an intercept-only model, vb scaled by s2w under Knapp–Hartung."""
    X = np.ones((yi.size, 1))
    tau2 = estimate_tau2(yi, vi, X, tau2_method, convergence).tau2
    fit = weighted_fit(yi, vi, X, tau2)
    s2w = 1.0
    if ci_method == "hksj":
        rss = float(np.sum(fit.weights * (yi - fit.beta[0]) ** 2))
        rounding = float(np.sum(fit.weights)) * (ROUNDING * float(np.max(np.abs(yi)))) ** 2
        # residuals at rounding level (identical effects): the factor is 0, not noise
        s2w = rss / (yi.size - 1) if rss > rounding else 0.0
    return float(fit.beta[0]), float(fit.se_z[0] ** 2) * s2w, tau2, s2w


def influence_diagnostics(
    yi, vi, *, tau2_method: str = "REML", ci_method: str = "hksj", convergence: str = "exact"
) -> list[dict]:
    """Case-deletion diagnostics of the random-effects model, as ``influence.rma.uni``.

    With β̂, Var(β̂) the full fit and β̂₍ᵢ₎, tau²₍ᵢ₎, s²₍ᵢ₎ the fit without study i (s² the
    Knapp–Hartung factor, 1 for ``ci_method="z"``; variances are scaled by it):

    - ``rstudent`` = (yᵢ − β̂₍ᵢ₎) / sqrt(s²₍ᵢ₎(vᵢ + tau²₍ᵢ₎) + Var(β̂₍ᵢ₎));
    - ``dffits`` = (β̂ − β̂₍ᵢ₎) / sqrt(s²₍ᵢ₎ · hᵢ · (tau²₍ᵢ₎ + vᵢ));
    - ``cook_d`` = (β̂ − β̂₍ᵢ₎)² / Var(β̂); ``cov_r`` = Var(β̂₍ᵢ₎) / Var(β̂);
    - ``dfbetas`` = (β̂ − β̂₍ᵢ₎) / sqrt(s²₍ᵢ₎ / Σⱼ 1/(vⱼ + tau²₍ᵢ₎));
    - ``tau2_del``, ``qe_del`` (Cochran's Q without study i), ``hat`` hᵢ = wᵢ/Σw and
      ``weight`` = 100·wᵢ/Σw with wᵢ = 1/(vᵢ + tau²);
    - ``influential``: metafor's rule, |dffits| > 3·sqrt(p/(k − p)), or P(χ²₁ ≤ cook_d) > 0.5,
      or hᵢ > 3p/k, or |dfbetas| > 1 (p = 1).

    Returns
    -------
    list of dict
        One row per study (k ≥ 3, else no rows).
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k, p = yi.size, 1
    if k < MIN_STUDIES:
        return []
    beta, vb, tau2, _ = _intercept_fit(yi, vi, tau2_method, ci_method, convergence)
    w = 1.0 / (vi + tau2)
    hat = w / w.sum()
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        beta_i, vb_i, tau2_i, s2w_i = _intercept_fit(
            yi[keep], vi[keep], tau2_method, ci_method, convergence
        )
        resid = yi[i] - beta_i
        if abs(resid) < 100 * np.finfo(float).eps:  # as metafor
            resid = 0.0
        dfb = beta - beta_i
        row = {"rstudent": NAN, "dffits": NAN, "cook_d": NAN, "cov_r": NAN, "dfbetas": NAN}
        notes = []
        if s2w_i > 0:
            row["rstudent"] = resid / np.sqrt(vi[i] * s2w_i + vb_i + tau2_i * s2w_i)
            row["dffits"] = dfb / np.sqrt(s2w_i * hat[i] * (tau2_i + vi[i]))
            row["dfbetas"] = dfb / np.sqrt(s2w_i / np.sum(1.0 / (vi + tau2_i)))
        else:
            notes.append(
                "Knapp-Hartung factor 0 without this study: rstudent, dffits, dfbetas undefined"
            )
        if vb > 0:
            row["cook_d"], row["cov_r"] = dfb**2 / vb, vb_i / vb
        else:
            notes.append("Knapp-Hartung factor 0: cook_d, cov_r undefined")
        influential = bool(
            abs(row["dffits"]) > 3 * np.sqrt(p / (k - p))
            or stats.chi2.cdf(row["cook_d"], p) > 0.5
            or hat[i] > 3 * p / k
            or abs(row["dfbetas"]) > 1
        )  # NaN criteria count as not met, as metafor's NA
        rows.append(
            {name: float(value) for name, value in row.items()}
            | {
                "tau2_del": tau2_i,
                "qe_del": max(0.0, residual_q(yi[keep], vi[keep], np.ones((k - 1, 1)), 0.0)),
                "hat": float(hat[i]),
                "weight": float(100 * hat[i]),
                "influential": influential,
                "note": "; ".join(notes),
            }
        )
    return rows


def cumulative(
    yi,
    vi,
    *,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    convergence: str = "exact",
) -> list[dict]:
    """Cumulative meta-analysis: row j pools the first j studies in the order given.

    The first row is the first study on its own (z-interval; tau² and I² left empty, noted),
    where metafor reports tau² = 0 and I² = 0.
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    return [
        estimate_columns(
            pool(
                yi[:j],
                vi[:j],
                tau2_method=tau2_method,
                ci_method=ci_method,
                level=level,
                convergence=convergence,
            )
        )
        for j in range(1, yi.size + 1)
    ]


def without_high_risk(
    yi,
    vi,
    risk_of_bias,
    ids=None,
    *,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    convergence: str = "exact",
) -> dict:
    """Re-pool without the studies whose risk of bias is ``high`` (case-insensitive).

    Studies with a missing judgement are kept (and counted in ``n_unknown``).

    Returns
    -------
    dict
        ``k_before, k_after, n_high, n_unknown``, ``excluded`` (the ``ids`` of the studies
        left out, joined by ``;``, when ``ids`` are given) and the estimate columns of the
        refit (NaN with a note when every study is at high risk of bias).
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    rob = [None if _is_missing(r) else str(r).strip().lower() for r in risk_of_bias]
    high = np.array([r == "high" for r in rob])
    counts = {
        "k_before": yi.size,
        "k_after": int((~high).sum()),
        "n_high": int(high.sum()),
        "n_unknown": sum(r is None for r in rob),
    }
    if ids is not None:
        counts["excluded"] = ";".join(str(sid) for sid, h in zip(ids, high, strict=True) if h)
    if counts["k_after"] == 0:
        empty = dict.fromkeys(
            ["estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2", "q"], NAN
        )
        return counts | empty | {"note": "every study is at high risk of bias"}
    fit = pool(
        yi[~high],
        vi[~high],
        tau2_method=tau2_method,
        ci_method=ci_method,
        level=level,
        convergence=convergence,
    )
    row = counts | {k: v for k, v in estimate_columns(fit).items() if k != "k"}
    if counts["n_unknown"] == counts["k_before"]:
        reason = "risk of bias not reported for any study: nothing excluded"
    elif counts["n_high"] == 0:
        reason = "no study at high risk of bias: nothing excluded"
    else:
        reason = ""
    row["note"] = "; ".join(filter(None, [reason, row["note"]]))
    return row


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value) == ""
