"""Pooling one binary analysis by Mantel–Haenszel or Peto into a ``pooled.csv`` row.

Common-effect model: the MH (or Peto) estimate with its own variance
(:mod:`metareview.stats.mantel_haenszel`). Random-effects model with MH/Peto as its basis, as
RevMan 5 and R meta (``method = "MH"``, ``Q.Cochrane = TRUE``) do it: Q is computed around the
MH (Peto) estimate with the studies' inverse-variance weights, τ² by DerSimonian–Laird from that
Q, and the summary is the inverse-variance estimate with weights 1/(vᵢ + τ²) and a Wald
interval (or HKSJ when asked). Another τ² estimator than DL pools the studies' (yᵢ, vᵢ) by
inverse variance (:func:`metareview.stats.pooling.pool`; I² from τ², as RevMan Web's 2024
methods), the MH estimate serving as the common effect and Q still computed around it (not
confirmed on a real RevMan Web file). I² is (Q − df)/Q, H² = Q/df (as ``rma.mh`` and RevMan);
with fewer than two tables in Q (the rest double-zero, or all events in both arms) Q = 0,
I² = 0 and H² = 1 as ``rma.mh``, and a random-effects row is the common effect with τ² = 0;
with two tables in Q the random-effects model has no prediction interval, whatever k.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from metareview.stats.mantel_haenszel import Tables, mantel_haenszel, peto
from metareview.stats.pooling import NAN, PooledResult, join_notes, pool, wald_interval
from metareview.stats.single import mend_cancelled_trace

#: Why the DL-around-MH/Peto model has no τ² or I² interval (RevMan gives none either).
NO_TAU2_CI = "no CI for tau2 or I2 (Q is taken around the common estimate, as RevMan)"
#: Why a random-effects MH/Peto row has tau² = 0 and no τ² or I² interval or PI: fewer than two
#: tables enter Q (the others have no events, or only events, in both arms, or V = 0 for Peto).
FEWER_THAN_TWO = (
    "fewer than 2 estimable studies: tau2 = 0, no CI for tau2 or I2, no prediction interval"
)
#: Why a random-effects MH/Peto row of k ≥ 3 has no prediction interval: only two tables enter
#: the model (its t distribution would have k − 2 = 0 degrees of freedom).
NO_PI = (
    "no prediction interval: only 2 studies enter the random-effects model "
    "(the others have no events, or only events, in both arms)"
)


def _common(tables: Tables, method: str, measure: str, correct_zero_cells: bool):
    if method == "Peto":
        return peto(tables)
    return mantel_haenszel(tables, measure, correct_zero_cells=correct_zero_cells)


def pool_binary(
    tables: Tables,
    *,
    method: str,
    measure: str,
    model: str = "random",
    tau2_method: str = "DL",
    ci_method: str = "z",
    level: float = 0.95,
    correct_zero_cells: bool = False,
) -> PooledResult:
    """Pool 2×2 tables by ``method`` (``MH`` or ``Peto``) under ``model`` (random|common).

    ``measure`` is OR, RR or RD (Peto: OR). Returns a :class:`PooledResult` whose ``fe_*``
    columns hold the MH/Peto common effect; with ``model="common"`` the summary columns hold it
    too and τ², its CI and the prediction interval are empty.
    """
    if method == "Peto" and measure != "OR":
        raise ValueError("Peto pooling estimates an odds ratio (measure OR)")
    fe = _common(tables, method, measure, correct_zero_cells)
    base = _common_columns(fe, int(tables.ai.size), measure, model, tau2_method, level)
    if model == "common" or fe.k_q < 2:
        return _common_result(fe, base, method, model, level)
    if tau2_method != "DL":
        result = _inverse_variance(fe, base, measure, tau2_method, ci_method, level)
    else:
        result = _dl_around(fe, base, method, ci_method, level)
    if fe.k_q == 2 and result.k >= 3:  # the other tables are double-zero (Peto: V = 0)
        result = replace(result, note=join_notes(result.note, NO_PI))
    return result


def _common_columns(fe, k: int, measure, model, tau2_method, level) -> dict:
    """The columns every result shares: heterogeneity around the MH/Peto estimate and the
    common effect."""
    fe_low, fe_high, _ = wald_interval(fe.estimate, fe.se, level)
    df = max(fe.k_q - 1, 0)
    q = fe.q if df > 0 else 0.0  # as rma.mh: Q = 0, I² = 0, H² = 1 with < 2 tables in Q
    return dict(
        k=k,
        measure=measure,
        tau2_method=tau2_method if model == "random" else "",
        level=level,
        q=q,
        q_df=df,
        q_p=float(stats.chi2.sf(q, df)) if df > 0 else 1.0,
        i2=max(0.0, 100 * (q - df) / q) if q > 0 and df > 0 else 0.0,
        h2=q / df if df > 0 else 1.0,
        i2_ci_low=NAN,
        i2_ci_high=NAN,
        tau2_ci_low=NAN,
        tau2_ci_high=NAN,
        fe_estimate=fe.estimate,
        fe_se=fe.se,
        fe_ci_low=fe_low,
        fe_ci_high=fe_high,
    )


def _common_result(fe, base: dict, method: str, model: str, level: float) -> PooledResult:
    """The common effect in the summary columns (common model, or < 2 estimable studies)."""
    note = f"{method} common effect" if model == "common" else FEWER_THAN_TWO
    return PooledResult(
        **base,
        ci_method="z",
        estimate=fe.estimate,
        se=fe.se,
        ci_low=base["fe_ci_low"],
        ci_high=base["fe_ci_high"],
        p_value=wald_interval(fe.estimate, fe.se, level)[2],
        pi_low=NAN,
        pi_high=NAN,
        tau2=NAN if model == "common" else 0.0,
        note=join_notes(fe.note, note),
    )


def _inverse_variance(fe, base, measure, tau2_method, ci_method, level) -> PooledResult:
    """τ² other than DL: inverse-variance pooling of (yᵢ, vᵢ), Q kept around the MH estimate."""
    re = pool(
        fe.yi, fe.vi, measure=measure, tau2_method=tau2_method, ci_method=ci_method, level=level
    )
    row = re.to_dict()
    kept = ("fe_estimate", "fe_se", "fe_ci_low", "fe_ci_high", "q", "q_df", "q_p")
    row.update({key: base[key] for key in kept})  # Q around the MH estimate, as rma.mh
    row["k"] = base["k"]
    row["note"] = join_notes(fe.note, row["note"])
    return PooledResult(**row, weights=re.weights)


def _dl_around(fe, base: dict, method: str, ci_method: str, level: float) -> PooledResult:
    """DL τ² from Q around the MH/Peto estimate; inverse-variance random-effects summary."""
    q, df = base["q"], base["q_df"]
    w = 1 / fe.vi
    sw = np.array([w.sum()])
    (tr_p,) = mend_cancelled_trace(sw - (w**2).sum() / sw, w[None, :], sw)  # see engine._traces
    tau2 = max(0.0, (q - df) / tr_p)
    wr = 1 / (fe.vi + tau2)
    est = float((wr * fe.yi).sum() / wr.sum())
    se = float(np.sqrt(1 / wr.sum()))
    df_t = None
    if ci_method == "hksj":
        scale = float((wr * (fe.yi - est) ** 2).sum() / (fe.k_q - 1))
        se, df_t = se * np.sqrt(scale), fe.k_q - 1
    ci_low, ci_high, p = wald_interval(est, se, level, df_t)
    pi_low = pi_high = NAN
    if fe.k_q >= 3:
        half = float(stats.t.ppf(0.5 + level / 2, fe.k_q - 2)) * np.sqrt(tau2 + se**2)
        pi_low, pi_high = est - half, est + half
    return PooledResult(
        **base,
        ci_method=ci_method,
        estimate=est,
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=p,
        pi_low=pi_low,
        pi_high=pi_high,
        tau2=tau2,
        note=join_notes(
            fe.note, f"random effects, DL tau2 from Q around the {method} estimate; {NO_TAU2_CI}"
        ),
        weights=tuple(100 * wr / wr.sum()),
    )
