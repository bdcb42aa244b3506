"""``results/summary_of_findings.csv``: GRADE certainty and absolute effects per analysis.

For binary outcomes the control risk is Σ control events / Σ control participants of the
pooled studies (or the config's ``grade.control_risk[<outcome>]``), and the intervention risk is
derived from the pooled effect and each CI bound:

* RR: ``cr · RR``;  OR: ``cr · OR / (1 − cr + cr · OR)`` (odds conversion);  RD: ``cr + RD``,

all per 1,000 (a bound outside 0…1,000, possible with RR or RD, is cut there and ``note``
says so). Continuous
outcomes get the mean difference in words. Checked against hand calculations in
``tests/unit/test_certainty.py``.
"""

from __future__ import annotations

import math

import pandas as pd

from metareview.certainty import risk_of_bias as rob_mod
from metareview.certainty.grade import DOMAINS, RATIO, Evidence, Grade, GradeSettings, rate
from metareview.certainty.overrides import overrides_for
from metareview.plots.forest import random_effects_weights, sort_studies
from metareview.plots.format import as_bool, fmt_num, to_natural
from metareview.tables import rows_for

KEYS = ["condition", "outcome", "timepoint_weeks", "measure"]
COLUMNS = [
    "condition",
    "outcome",
    "timepoint_weeks",
    "measure",
    "k",
    "participants",
    "relative_estimate",
    "relative_ci_low",
    "relative_ci_high",
    "control_risk_per_1000",
    "intervention_risk_per_1000",
    "intervention_risk_ci_low",
    "intervention_risk_ci_high",
    "certainty",
    "downgrades",
    "reasons",
    # extensions
    "analysis_id",
    "certainty_label",
    "effect_words",
    "control_risk_source",
    "overridden",
    *(f"grade_{d}" for d in DOMAINS),
    "level",
    "note",
]
BINARY = ("RR", "OR", "RD")
RELATIVE = ("relative_estimate", "relative_ci_low", "relative_ci_high")
#: The note of a row whose ratio exceeds the floating-point range (a log-scale bound > ~709).
OVERFLOW_NOTE = "a ratio beyond the floating-point range (above 1e308) is written as inf"


def intervention_risk(control_risk: float, effect: float, measure: str) -> float:
    """Risk in the intervention arm from the control risk and an effect (natural scale).

    The limits are taken where the formula is 0·∞ or ∞/∞: a control risk of 0 stays 0 under
    any ratio, a control risk of 1 stays 1 under any odds ratio, and an infinite odds ratio
    (a CI bound beyond the floating-point range) gives a risk of 1.
    """
    cr = float(control_risk)
    if measure == "RR":
        return 0.0 if cr == 0 else cr * effect
    if measure == "OR":
        if cr in (0.0, 1.0):
            return cr
        if math.isinf(effect):
            return 1.0
        return cr * effect / (1.0 - cr + cr * effect)
    if measure == "RD":
        return cr + effect
    raise ValueError(f"no absolute effect for measure {measure!r}")


def _num(x) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return math.nan
    return value


def _inverse(x: float) -> float:
    return math.inf if x == 0 else 1.0 / x


def _fmt(x: float) -> str:
    return f"{abs(x):.2f}" if abs(x) < 10 else f"{abs(x):.1f}"


def difference_words(est: float, lo: float, hi: float, measure: str, flipped: bool) -> str:
    """``MD 1.20 lower (2.10 lower to 0.30 lower)`` in the intervention arm, signs as reported.

    Continuous effects with ``higher_is_better`` were sign-flipped for pooling; the words undo
    that, so "lower" always means a lower value of the outcome as measured.
    """
    if measure in RATIO:
        values = [to_natural(v, measure) for v in (est, lo, hi)]
        if flipped:
            values = [_inverse(values[0]), _inverse(values[2]), _inverse(values[1])]
        est, low, high = (fmt_num(v) for v in values)  # ∞ for a bound beyond e^709
        return f"ratio of means {est} ({low} to {high})"
    if flipped:
        est, lo, hi = -est, -hi, -lo

    def word(v: float) -> str:
        return "no different" if v == 0 else f"{_fmt(v)} {'lower' if v < 0 else 'higher'}"

    name = "SMD" if measure == "SMD" else "MD"
    return f"{name} {word(est)} ({word(lo)} to {word(hi)})"


def evidence_for(
    pooled: dict, rows: pd.DataFrame, rob: pd.DataFrame, studies: pd.DataFrame, small: dict
) -> tuple[Evidence, float, str]:
    """The :class:`Evidence` of one analysis, its pooled control risk and how it was found."""
    measure = str(pooled["measure"])
    inc = rows[rows["included"].map(as_bool)] if "included" in rows else rows
    inc = sort_studies(inc)
    weights = random_effects_weights(inc["vi"].astype(float), pooled.get("tau2"))
    ids = inc["study_id"].astype(str).tolist()
    judged = rob_mod.overall_lookup(rob, ids, str(pooled["outcome"]))
    missing = pd.Series(math.nan, index=inc.index)
    n = pd.to_numeric(inc.get("exp_n", missing), errors="coerce").fillna(0) + pd.to_numeric(
        inc.get("ctl_n", missing), errors="coerce"
    ).fillna(0)
    participants = float(n.sum()) if (n > 0).any() else math.nan
    cr, source = math.nan, ""
    if measure in BINARY and {"ctl_events", "ctl_n"} <= set(inc.columns):
        ev_ = pd.to_numeric(inc["ctl_events"], errors="coerce")
        nn = pd.to_numeric(inc["ctl_n"], errors="coerce")
        ok = ev_.notna() & nn.notna()
        if ok.any() and nn[ok].sum() > 0:
            cr = float(ev_[ok].sum() / nn[ok].sum())
            source = f"pooled control arms ({int(ev_[ok].sum())}/{int(nn[ok].sum())})"
    lookup = studies.drop_duplicates("study_id").set_index(studies["study_id"].astype(str))
    indirect = ()
    if "indirectness" in lookup.columns:
        values = lookup["indirectness"].reindex(ids).fillna("").astype(str).str.strip()
        indirect = tuple(values.replace("no", "").tolist())
    ev = Evidence(
        measure=measure,
        k=int(pooled["k"]),
        estimate=_num(pooled["estimate"]),
        ci_low=_num(pooled["ci_low"]),
        ci_high=_num(pooled["ci_high"]),
        yi=tuple(inc["yi"].astype(float)),
        weights=tuple(float(w) for w in weights),
        rob_overall=tuple(judged),
        participants=participants,
        control_risk=cr,
        i2=_num(pooled.get("i2")),
        q_p=_num(pooled.get("q_p")),
        pi_low=_num(pooled.get("pi_low")),
        pi_high=_num(pooled.get("pi_high")),
        indirectness=indirect,
        egger_p=_num(small.get("egger_p")),
        trimfill_k0=_num(small.get("trimfill_k0")),
        trimfill_ci_low=_num(small.get("trimfill_ci_low")),
        trimfill_ci_high=_num(small.get("trimfill_ci_high")),
    )
    return ev, cr, source


def sof_row(pooled: dict, ev: Evidence, grade: Grade, cr: float, source: str, s) -> dict:
    """One row of the table (see :data:`COLUMNS`)."""
    measure = ev.measure
    row = {k: pooled[k] for k in KEYS}
    row |= {
        "k": ev.k,
        "participants": ev.participants,
        "relative_estimate": to_natural(ev.estimate, measure),
        "relative_ci_low": to_natural(ev.ci_low, measure),
        "relative_ci_high": to_natural(ev.ci_high, measure),
        "certainty": grade.certainty,
        "downgrades": grade.downgrades,
        "reasons": grade.reasons,
        "certainty_label": grade.label,
        "analysis_id": str(pooled.get("analysis_id", "")),
        "overridden": "; ".join(d.name for d in grade.domains if d.override),
        "level": pooled.get("level", math.nan),
    }
    row |= {f"grade_{d.name}": d.downgrade for d in grade.domains}
    notes = []
    if any(math.isinf(row[c]) for c in RELATIVE):
        notes.append(OVERFLOW_NOTE)
    if measure in BINARY:
        configured = s.control_risk.get(str(pooled["outcome"]))
        if configured is not None:
            cr, source = float(configured), "config grade.control_risk"
        if cr == 0:
            notes.append("no control-arm events: the ratio gives no absolute difference")
        if math.isfinite(cr):
            risks = []
            for v in (ev.estimate, ev.ci_low, ev.ci_high):
                r = 1000.0 * intervention_risk(cr, to_natural(v, measure), measure)
                if r < 0 or r > 1000:
                    notes.append(
                        "an intervention-risk bound beyond 0–1,000 per 1,000 was cut there"
                    )
                risks.append(min(1000.0, max(0.0, r)))
            row |= {
                "control_risk_per_1000": 1000.0 * cr,
                "intervention_risk_per_1000": risks[0],
                "intervention_risk_ci_low": min(risks[1], risks[2]),
                "intervention_risk_ci_high": max(risks[1], risks[2]),
                "control_risk_source": source,
            }
            row["effect_words"] = (
                f"{1000 * cr:.0f} per 1,000 with control; "
                f"{risks[0]:.0f} per 1,000 with intervention "
                f"({min(risks[1], risks[2]):.0f} to {max(risks[1], risks[2]):.0f})"
            )
        else:
            notes.append("no control-arm event counts: absolute effect not estimable")
            row["effect_words"] = "absolute effect not estimable (no control-arm counts)"
    else:
        flipped = as_bool(pooled.get("higher_is_better", False))
        row["effect_words"] = difference_words(
            ev.estimate, ev.ci_low, ev.ci_high, measure, flipped
        )
    if ev.k == 1:
        notes.append("k = 1: the single study's estimate")
    row["note"] = "; ".join(dict.fromkeys(notes))
    return row


def summary_of_findings(
    effects: pd.DataFrame,
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    rob: pd.DataFrame | None = None,
    small_study: pd.DataFrame | None = None,
    settings: GradeSettings | None = None,
    overrides: list[dict] | None = None,
) -> pd.DataFrame:
    """One row per row of ``pooled.csv``, in key order (columns :data:`COLUMNS`).

    ``rob`` is the validated ``risk_of_bias.csv`` (None: studies.csv's ``risk_of_bias`` column);
    ``small_study`` is ``results/small_study.csv``; ``overrides`` the rows of
    :func:`metareview.certainty.overrides.load_overrides`.
    """
    s = settings or GradeSettings()
    judgements = rob_mod.judgements(rob, studies)
    small_study = small_study if small_study is not None else pd.DataFrame(columns=KEYS)
    out = []
    if not pooled.empty:
        pooled = pooled.sort_values(KEYS, kind="mergesort")
    for _, prow in pooled.iterrows():
        p = prow.to_dict()
        key = {k: p[k] for k in KEYS}
        rows = rows_for(effects, key)
        small = rows_for(small_study, key)
        small = small.iloc[0].to_dict() if len(small) else {}
        ev, cr, source = evidence_for(p, rows, judgements, studies, small)
        found = overrides_for(
            overrides or [], str(p["condition"]), str(p["outcome"]), p["timepoint_weeks"]
        )
        grade = rate(ev, s, found)
        out.append(sof_row(p, ev, grade, cr, source, s))
    frame = pd.DataFrame(out, columns=COLUMNS)
    return frame


__all__ = ["COLUMNS", "difference_words", "intervention_risk", "summary_of_findings"]
