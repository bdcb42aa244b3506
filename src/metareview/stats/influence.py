"""Leave-one-out, influence diagnostics, cumulative meta-analysis and risk-of-bias sensitivity.

- :func:`leave_one_out` — ``metafor::leave1out``: the model refitted without each study;
- :func:`influence_diagnostics` — ``metafor::influence.rma.uni`` for the intercept-only model:
  externally standardized residuals, DFFITS, Cook's distance, covariance ratio, DFBETAS, the
  leave-one-out tau² and Q, hat values, weights, and metafor's rule flagging influential studies;
- :func:`cumulative` — ``metafor::cumul``: studies added one at a time in the given order;
- :func:`without_high_risk` — the model refitted without studies at high risk of bias.

The k refits are one batch of the engine (:mod:`metareview.stats.summaries`): row i of a
k × k layout masks out study i (leave-one-out, influence) or the studies after i (cumulative),
so all refits run in one vectorized pass with the analysis' :class:`FitOptions`. Validated
against metafor 3.8-1 (REML and DL, z and Knapp–Hartung) on the reference fixtures in
``tests/unit/test_influence.py`` and ``tests/unit/test_engine_reference.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from metareview.stats import fast
from metareview.stats.engine import Batch, make_batch, rows, weighted_fit
from metareview.stats.options import FitOptions, resolve
from metareview.stats.pooling import join_notes, pool
from metareview.stats.summaries import (
    MAX_CELLS,
    estimate_rows,
    estimate_tau2,
    summarize_chunked,
)

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


def leave_one_out(yi, vi, options: FitOptions | None = None, **overrides) -> list[dict]:
    """Refit the random-effects model without each study in turn (k ≥ 3, else no rows).

    Returns
    -------
    list of dict
        Row i omits study i: ``k, estimate, se, ci_low, ci_high, p_value, tau2, i2, q, note``.
    """
    opts = resolve(options, **overrides)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.size < MIN_STUDIES:
        return []
    return estimate_rows(summarize_chunked(loo_batch(yi, vi), opts))


def loo_batch(yi: np.ndarray, vi: np.ndarray) -> Batch:
    """k rows, row i without study i."""
    k = yi.size
    return make_batch(np.tile(yi, (k, 1)), np.tile(vi, (k, 1)), 1.0 - np.eye(k))


def _intercept_fits(batch: Batch, opts: FitOptions, tau2=None):
    """(beta, vb, tau2, s2w) per row, vb scaled by the Knapp–Hartung factor s2w (tau² estimated
    unless given)."""
    tau2 = estimate_tau2(batch, opts).tau2 if tau2 is None else tau2
    fit = weighted_fit(batch, tau2)
    s2w = np.ones(tau2.size)
    if opts.ci_method == "hksj":
        rss = fit.q
        biggest = np.max(np.abs(batch.y) * batch.m, axis=1)
        rounding = fit.w.sum(axis=1) * (ROUNDING * biggest) ** 2
        # residuals at rounding level (identical effects): the factor is 0, not noise
        s2w = np.where(rss > rounding, rss / (batch.k - 1), 0.0)
    return fit.beta[:, 0], fit.cov[:, 0, 0] * s2w, tau2, s2w


def _loo_fits(yi, vi, opts: FitOptions):
    """_intercept_fits of every leave-one-out row, in chunks bounded by MAX_CELLS."""
    batch = loo_batch(yi, vi)
    step = max(1, MAX_CELLS // yi.size)
    parts = [
        (*_intercept_fits(rows(batch, slice(i, i + step)), opts),
         weighted_fit(rows(batch, slice(i, i + step)), 0.0).q)
        for i in range(0, yi.size, step)
    ]  # fmt: skip
    return [np.concatenate(column) for column in zip(*parts, strict=True)]


def influence_diagnostics(yi, vi, options: FitOptions | None = None, **overrides) -> list[dict]:
    """Case-deletion diagnostics of the random-effects model, as ``influence.rma.uni``.

    With β̂, Var(β̂) the full fit and β̂₍ᵢ₎, tau²₍ᵢ₎, s²₍ᵢ₎ the fit without study i (s² the
    Knapp–Hartung factor, 1 for ``ci_method="z"``; variances are scaled by it):

    - ``rstudent`` = (yᵢ − β̂₍ᵢ₎) / sqrt(s²₍ᵢ₎(vᵢ + tau²₍ᵢ₎) + Var(β̂₍ᵢ₎));
    - ``dffits`` = (β̂ − β̂₍ᵢ₎) / sqrt(s²₍ᵢ₎ · hᵢ · (tau²₍ᵢ₎ + vᵢ));
    - ``cooks_d`` = (β̂ − β̂₍ᵢ₎)² / Var(β̂); ``cov_r`` = Var(β̂₍ᵢ₎) / Var(β̂);
    - ``dfbetas`` = (β̂ − β̂₍ᵢ₎) / sqrt(s²₍ᵢ₎ / Σⱼ 1/(vⱼ + tau²₍ᵢ₎));
    - ``tau2_del``, ``qe_del`` (Cochran's Q without study i), ``hat`` hᵢ = wᵢ/Σw and
      ``weight`` = 100·wᵢ/Σw with wᵢ = 1/(vᵢ + tau²);
    - ``influential``: metafor's rule, |dffits| > 3·sqrt(p/(k − p)), or P(χ²₁ ≤ cooks_d) > 0.5,
      or hᵢ > 3p/k, or |dfbetas| > 1 (p = 1).

    Returns
    -------
    list of dict
        One row per study (k ≥ 3, else no rows).
    """
    opts = resolve(options, **overrides)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.size < MIN_STUDIES:
        return []
    columns = influence_columns(yi, vi, opts)
    return [{name: _cell(values[i]) for name, values in columns.items()} for i in range(yi.size)]


def _cell(value):
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    return value if isinstance(value, str) else float(value)


def influence_columns(yi: np.ndarray, vi: np.ndarray, opts: FitOptions) -> dict:
    """The influence table as arrays (see :func:`influence_diagnostics`)."""
    k, p = yi.size, 1
    full = np.array([fast.tau2(yi, vi, opts)[0]])  # the one-analysis path: same tau² as a batch
    beta, vb, tau2, _ = (x[0] for x in _intercept_fits(make_batch(yi, vi), opts, full))
    w = 1.0 / (vi + tau2)
    hat = w / w.sum()
    beta_i, vb_i, tau2_i, s2w_i, qe_del = _loo_fits(yi, vi, opts)
    resid = yi - beta_i
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)  # as metafor
    dfb = beta - beta_i
    ok = s2w_i > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        total = (1.0 / (vi[None, :] + tau2_i[:, None])).sum(axis=1)
        rstudent = np.where(ok, resid / np.sqrt(vi * s2w_i + vb_i + tau2_i * s2w_i), np.nan)
        dffits = np.where(ok, dfb / np.sqrt(s2w_i * hat * (tau2_i + vi)), np.nan)
        dfbetas = np.where(ok, dfb / np.sqrt(s2w_i / total), np.nan)
        cooks_d = dfb**2 / vb if vb > 0 else np.full(k, np.nan)
        cov_r = vb_i / vb if vb > 0 else np.full(k, np.nan)
    influential = (
        (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
        | (stats.chi2.cdf(cooks_d, p) > 0.5)
        | (hat > 3 * p / k)
        | (np.abs(dfbetas) > 1)
    )  # NaN criteria count as not met, as metafor's NA
    note_i = "Knapp-Hartung factor 0 without this study: rstudent, dffits, dfbetas undefined"
    note_all = "Knapp-Hartung factor 0: cooks_d, cov_r undefined" if not vb > 0 else ""
    notes = [join_notes("" if o else note_i, note_all) for o in ok]
    return {
        "rstudent": rstudent,
        "dffits": dffits,
        "cooks_d": cooks_d,
        "cov_r": cov_r,
        "dfbetas": dfbetas,
        "tau2_del": tau2_i,
        "qe_del": np.maximum(0.0, qe_del),
        "hat": hat,
        "weight": 100 * hat,
        "influential": influential,
        "note": np.array(notes, dtype=object),
    }


def cumulative(yi, vi, options: FitOptions | None = None, **overrides) -> list[dict]:
    """Cumulative meta-analysis: row j pools the first j studies in the order given.

    The first row is the first study on its own (z-interval; tau² and I² left empty, noted),
    where metafor reports tau² = 0 and I² = 0.
    """
    opts = resolve(options, **overrides)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    if k == 0:
        return []
    batch = make_batch(np.tile(yi, (k, 1)), np.tile(vi, (k, 1)), np.tri(k))
    rows_ = estimate_rows(summarize_chunked(batch, opts))
    if opts.ci_method == "hksj":  # one study: pool() reports a z interval
        rows_[0] = estimate_columns(pool(yi[:1], vi[:1], opts))
    return rows_


def without_high_risk(
    yi,
    vi,
    risk_of_bias,
    ids=None,
    options: FitOptions | None = None,
    **overrides,
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
    fit = pool(yi[~high], vi[~high], resolve(options, **overrides))
    row = counts | {k: v for k, v in estimate_columns(fit).items() if k != "k"}
    if counts["n_unknown"] == counts["k_before"]:
        reason = "risk of bias not reported for any study: nothing excluded"
    elif counts["n_high"] == 0:
        reason = "no study at high risk of bias: nothing excluded"
    else:
        reason = ""
    row["note"] = join_notes(reason, row["note"])
    return row


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value) == ""
