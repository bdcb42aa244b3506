"""Everything the report says, as plain Python data: strings already formatted, lists sorted.

:func:`build_context` turns the workflow's tables into one nested dict that both templates
(HTML and Markdown) render. No markup is produced here: every string is data and the
renderers escape it (HTML autoescape; Markdown escaping in :mod:`metareview.report.markdown`).
Nothing depends on the clock or on dict/set iteration order, so the same inputs give the same
report bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from metareview.jobs import SENSITIVITY_TABLES
from metareview.plots.figure_names import (
    bubble_name,
    forest_name,
    funnel_name,
    loo_name,
    overview_name,
    report_figure,
    subgroup_name,
    timecourse_name,
)
from metareview.plots.forest import random_effects_weights, sort_studies
from metareview.plots.format import (
    MEASURE_NAMES,
    TAU2_NAMES,
    as_bool,
    column_label,
    experimental_favoured_above,
    fmt_effect,
    fmt_int,
    fmt_interval,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_weeks,
    humanize,
    is_missing,
    is_ratio,
    level_percent,
    to_natural,
)
from metareview.plots.gosh import gosh_name
from metareview.plots.overview import main_analyses
from metareview.report.repeated import REPEATED_TABLES, repeated_section
from metareview.review_labels import current_labels
from metareview.tables import BINARY_MEASURES, CONTINUOUS_MEASURES, rows_for

KEYS = ["condition", "outcome", "timepoint_weeks", "measure"]
EGGER_MIN_K = 10


@dataclass
class ReportInputs:
    """The tables and records the report is built from (optional ones may be empty)."""

    effects: pd.DataFrame
    pooled: pd.DataFrame
    studies: pd.DataFrame
    params: dict
    reviews: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    #: {file name: path under results/figures/} of every figure drawn (see report_figure).
    figures: Mapping[str, str] = field(default_factory=dict)


# -- small helpers ----------------------------------------------------------------------------


def text(value) -> str:
    """A data value as display text ('' for missing)."""
    return "" if is_missing(value) else str(value).strip()


def _label_map(df: pd.DataFrame) -> dict[str, str]:
    if df.empty or "study_id" not in df:
        return {}
    labels = df.get("label", df["study_id"])
    return {str(s): text(lab) or str(s) for s, lab in zip(df["study_id"], labels, strict=True)}


def direction_words(measure: str, higher_is_better, estimate: float) -> str:
    """The intervention or the comparator: which arm an effect on the analysis scale favours."""
    above = experimental_favoured_above(measure, higher_is_better)
    labels = current_labels()
    return labels.intervention if (estimate > 0) == above else labels.comparator


def _arm_heading(arm: str) -> str:
    labels = current_labels()
    return labels.experimental_heading if arm == "exp" else labels.control_heading


def excludes_null(low, high) -> bool:
    return not (is_missing(low) or is_missing(high)) and (float(low) > 0 or float(high) < 0)


# -- per-analysis interpretation ------------------------------------------------------------


def interpret(
    pooled: dict,
    studies: pd.DataFrame,
    weights: list[float],
    sens: dict[str, pd.DataFrame],
    labels: dict[str, str],
) -> list[str]:
    """Plain-language findings a reviewer can act on, most important first."""
    k = int(pooled["k"])
    measure = str(pooled["measure"])
    hib = pooled.get("higher_is_better", False)
    est = float(pooled["estimate"])
    lines = []
    effect = fmt_effect(est, pooled["ci_low"], pooled["ci_high"], measure)
    if k == 1:
        label = labels.get(str(studies["study_id"].iloc[0]), "one study") if len(studies) else ""
        verdict = (
            f"favours {direction_words(measure, hib, est)}"
            if excludes_null(pooled["ci_low"], pooled["ci_high"])
            else "is inconclusive (its CI includes no effect)"
        )
        lines.append(
            f"The effect rests on one trial ({label}): its own estimate {effect} {verdict}. "
            "Nothing was pooled; heterogeneity and a prediction interval cannot be estimated."
        )
        return lines
    favoured = direction_words(measure, hib, est)
    if excludes_null(pooled["ci_low"], pooled["ci_high"]):
        lines.append(f"The pooled effect {effect} favours {favoured}; the CI excludes no effect.")
    else:
        lines.append(
            f"The pooled effect {effect} points towards {favoured}, but the CI includes no effect."
        )
    if k == 2:
        lines.append(
            "Only two studies: τ² is very imprecise and no prediction interval is computed; with "
            "Hartung–Knapp intervals the CI uses t with 1 df and is very wide."
            if str(pooled.get("ci_method")) == "hksj"
            else "Only two studies: τ² is very imprecise and no prediction interval is computed."
        )
    if weights:
        top = max(range(len(weights)), key=lambda i: weights[i])
        if weights[top] >= 50:
            sid = str(studies["study_id"].iloc[top])
            lines.append(
                f"The effect rests mostly on one trial: {labels.get(sid, sid)} carries "
                f"{weights[top]:.0f}% of the weight."
            )
    if not is_missing(pooled.get("pi_low")):
        pi = fmt_interval(pooled["pi_low"], pooled["pi_high"], measure)
        if excludes_null(pooled["ci_low"], pooled["ci_high"]) and not excludes_null(
            pooled["pi_low"], pooled["pi_high"]
        ):
            lines.append(
                f"The prediction interval {pi} includes no effect: in a new setting the effect "
                "may be absent or reversed."
            )
    i2 = pooled.get("i2")
    if not is_missing(i2) and float(i2) >= 50:
        lines.append(
            f"Heterogeneity is substantial (I² = {float(i2):.0f}%, τ² = "
            f"{fmt_num(pooled['tau2'], 3)}): look for clinical or methodological differences."
        )
    lines += _loo_lines(pooled, sens.get("leave_one_out"), labels)
    lines += _small_study_lines(pooled, sens.get("small_study"))
    lines += _influence_lines(sens.get("influence"), labels)
    lines += _rob_lines(pooled, sens.get("rob_sensitivity"))
    return lines


def _loo_lines(pooled: dict, loo: pd.DataFrame | None, labels: dict[str, str]) -> list[str]:
    if loo is None or loo.empty:
        return []
    measure = str(pooled["measure"])
    base = excludes_null(pooled["ci_low"], pooled["ci_high"])
    flips = []
    for _, r in loo.iterrows():
        if excludes_null(r["ci_low"], r["ci_high"]) != base:
            flips.append(labels.get(str(r["omitted"]), text(r.get("label")) or str(r["omitted"])))
    lines = []
    if flips:
        verb = "includes" if base else "excludes"
        lines.append(
            f"Leave-one-out: omitting {', '.join(sorted(flips))} changes the conclusion (the CI "
            f"then {verb} no effect)."
        )
    else:
        est = pd.to_numeric(loo["estimate"], errors="coerce")
        lo, hi = est.min(), est.max()
        rng = f"{fmt_num(to_natural(lo, measure))} to {fmt_num(to_natural(hi, measure))}"
        lines.append(f"Leave-one-out: no single study changes the conclusion (estimates {rng}).")
    return lines


def _small_study_lines(pooled: dict, ss: pd.DataFrame | None) -> list[str]:
    if ss is None or ss.empty:
        return []
    r = ss.iloc[0]
    k = int(pooled["k"])
    measure = str(pooled["measure"])
    lines = []
    under = as_bool(r.get("underpowered")) if "underpowered" in r else k < EGGER_MIN_K
    if not is_missing(r.get("egger_p")):
        if under or k < EGGER_MIN_K:
            lines.append(
                f"Egger's test is underpowered with k < {EGGER_MIN_K} (k = {k}); its "
                f"{fmt_p(r['egger_p'])} is neither evidence for nor against small-study effects."
            )
        elif float(r["egger_p"]) < 0.10:
            lines.append(
                f"Egger's test suggests funnel asymmetry ({fmt_p(r['egger_p'])}): small studies "
                "may report larger effects; check the funnel plot and trim-and-fill."
            )
        else:
            lines.append(f"Egger's test shows no clear funnel asymmetry ({fmt_p(r['egger_p'])}).")
    k0 = r.get("trimfill_k0")
    if not is_missing(k0) and int(k0) > 0:
        adj = fmt_effect(
            r["trimfill_estimate"], r["trimfill_ci_low"], r["trimfill_ci_high"], measure
        )
        lines.append(
            f"Trim-and-fill imputes {int(k0)} stud{'y' if int(k0) == 1 else 'ies'} on the "
            f"{text(r.get('trimfill_side')) or 'sparse'} side; the adjusted estimate is {adj}."
        )
    elif not is_missing(k0):
        lines.append("Trim-and-fill imputes no studies.")
    return lines


def _influence_lines(inf: pd.DataFrame | None, labels: dict[str, str]) -> list[str]:
    if inf is None or inf.empty or "influential" not in inf:
        return []
    flagged = inf[inf["influential"].map(as_bool)]
    if flagged.empty:
        return ["Influence diagnostics flag no study as influential."]
    names = [labels.get(str(s), str(s)) for s in flagged["study_id"]]
    return [
        f"Influence diagnostics flag {', '.join(names)} as influential (metafor's criteria): "
        "check those studies' data and see the leave-one-out results."
    ]


def _rob_lines(pooled: dict, rob: pd.DataFrame | None) -> list[str]:
    if rob is None or rob.empty:
        return []
    r = rob.iloc[0]
    n_high = int(r.get("n_high", 0) or 0)
    if n_high == 0:
        note = text(r.get("note")) or "no study at high risk of bias"
        return [f"Risk of bias: {note}."]
    if is_missing(r.get("estimate")):
        return [f"Risk of bias: {text(r.get('note'))}."]
    eff = fmt_effect(r["estimate"], r["ci_low"], r["ci_high"], str(pooled["measure"]))
    return [
        f"Without the {n_high} stud{'y' if n_high == 1 else 'ies'} at high risk of bias "
        f"(k = {int(r['k_after'])}): {eff}."
    ]


# -- tables -----------------------------------------------------------------------------------


def numbers_table(pooled: dict, n_participants: str) -> list[tuple[str, str]]:
    """The key numbers of one analysis as (name, value) pairs."""
    m = str(pooled["measure"])
    k = int(pooled["k"])
    level = f"{level_percent(pooled.get('level'))}%"
    rows = [("Studies (k)", str(k))]
    if n_participants:
        rows.append(("Participants", n_participants))
    if k == 1:
        rows.append(
            (
                f"Study estimate [{level} CI]",
                fmt_effect(pooled["estimate"], pooled["ci_low"], pooled["ci_high"], m),
            )
        )
        rows.append(("Pooling", "not pooled (k = 1)"))
        return rows
    rows += [
        (
            f"Random-effects estimate [{level} CI]",
            fmt_effect(pooled["estimate"], pooled["ci_low"], pooled["ci_high"], m),
        ),
        ("Test of the effect", fmt_p(pooled.get("p_value"))),
        (
            f"Prediction interval ({level})",
            fmt_interval(pooled.get("pi_low"), pooled.get("pi_high"), m) or "not computed (k < 3)",
        ),
        (
            "τ² [CI]",
            f"{fmt_num(pooled.get('tau2'), 4)} "
            f"[{fmt_num(pooled.get('tau2_ci_low'), 4)}, "
            f"{fmt_num(pooled.get('tau2_ci_high'), 4)}]",
        ),
        (
            "I² [CI]",
            f"{fmt_pct(pooled.get('i2'))} [{fmt_pct(pooled.get('i2_ci_low'))}, "
            f"{fmt_pct(pooled.get('i2_ci_high'))}]",
        ),
        (
            "Q (df), P",
            f"{fmt_num(pooled.get('q'))} ({fmt_int(pooled.get('q_df'))}), "
            f"{fmt_p(pooled.get('q_p'))}",
        ),
        (
            f"Common-effect estimate [{level} CI]",
            fmt_effect(
                pooled.get("fe_estimate"), pooled.get("fe_ci_low"), pooled.get("fe_ci_high"), m
            ),
        ),
        (
            "Model",
            f"{pooled.get('tau2_method')} τ², "
            f"{'Hartung–Knapp' if pooled.get('ci_method') == 'hksj' else 'Wald z'} CI",
        ),
    ]
    if text(pooled.get("note")):
        rows.append(("Note", text(pooled["note"])))
    return rows


def summary_row(pooled: dict, title: str) -> dict:
    m = str(pooled["measure"])
    k = int(pooled["k"])
    return {
        "anchor": str(pooled["analysis_id"]),
        "condition": humanize(pooled["condition"]),
        "outcome": title,
        "timepoint": fmt_weeks(pooled["timepoint_weeks"]),
        "measure": m,
        "k": str(k),
        "estimate": fmt_effect(pooled["estimate"], pooled["ci_low"], pooled["ci_high"], m),
        "pi": fmt_interval(pooled.get("pi_low"), pooled.get("pi_high"), m),
        "i2": fmt_pct(pooled.get("i2")),
        "tau2": fmt_num(pooled.get("tau2"), 3),
    }


def _assumptions(studies: pd.DataFrame, labels: dict[str, str]) -> list[dict]:
    out = []
    for _, r in sort_studies(studies).iterrows():
        parts = []
        if text(r.get("assumptions")):
            parts.append(("Assumptions", text(r["assumptions"])))
        if text(r.get("conversions")):
            parts.append(("Conversions", text(r["conversions"])))
        for arm in ("exp", "ctl"):
            src = text(r.get(f"{arm}_dispersion_source"))
            if src and src.lower() not in {"sd", "none"}:
                parts.append((f"{_arm_heading(arm)} arm dispersion", f"from {src}"))
        if as_bool(r.get("continuity_correction")):
            parts.append(("Continuity correction", "0.5 added to every cell"))
        if parts:
            sid = str(r["study_id"])
            out.append({"study": labels.get(sid, sid), "notes": parts})
    return out


def _n_participants(studies: pd.DataFrame) -> str:
    ns = [pd.to_numeric(studies.get(c), errors="coerce") for c in ("exp_n", "ctl_n")]
    ns = [n for n in ns if n is not None]
    if not ns or all(n.isna().all() for n in ns):
        return ""
    total = sum(float(n.sum()) for n in ns)
    incomplete = any(n.isna().any() for n in ns)
    return f"{total:.0f}" + (" (arm sizes missing for some studies)" if incomplete else "")


def _table(df: pd.DataFrame, columns: list[tuple[str, str, str]]) -> dict | None:
    """A generic display table: columns are (source column, header, kind)."""
    if df is None or df.empty:
        return None
    header = [h for _, h, _ in columns]
    body = []
    for _, r in df.iterrows():
        cells = []
        for col, _, kind in columns:
            v = r.get(col)
            if kind == "p":
                cells.append(fmt_p(v).replace("P ", "").replace("= ", ""))
            elif kind == "num":
                cells.append(fmt_num(v, 3))
            elif kind == "pct":
                cells.append(fmt_pct(v))
            elif kind == "int":
                cells.append(fmt_int(v))
            else:
                cells.append(text(v))
        body.append(cells)
    return {"header": header, "rows": body}


# -- the context ------------------------------------------------------------------------------


def analysis_title(studies: pd.DataFrame, pooled: dict) -> tuple[str, str]:
    """(outcome label, timepoint label) from the effect-size rows, slug fallbacks."""
    outcome = ""
    timepoint = ""
    if len(studies):
        labels = sorted({text(v) for v in studies.get("outcome_label", []) if text(v)})
        outcome = labels[0] if len(labels) == 1 else ""
        tps = sorted({text(v) for v in studies.get("timepoint_label", []) if text(v)})
        timepoint = "; ".join(tps)
    outcome = outcome or humanize(pooled["outcome"])
    return outcome[:1].upper() + outcome[1:], timepoint


def all_conditions(inputs: ReportInputs) -> list[str]:
    """Conditions the report covers: the configured ones, else every one seen in the inputs."""
    configured = [str(c) for c in (inputs.params.get("conditions") or [])]
    if configured:
        return sorted(set(configured))
    seen = set()
    for df in (inputs.pooled, inputs.effects, inputs.studies):
        if not df.empty and "condition" in df:
            seen |= {str(c) for c in df["condition"].dropna()}
    return sorted(seen)


def build_context(inputs: ReportInputs) -> dict:
    """The report's content; see the module docstring."""
    effects, pooled_all = inputs.effects, inputs.pooled
    if not pooled_all.empty:
        pooled_all = pooled_all.sort_values(KEYS, kind="mergesort").reset_index(drop=True)
    labels = _label_map(inputs.studies) | _label_map(effects)
    sens = {name: inputs.sensitivity.get(name, pd.DataFrame()) for name in SENSITIVITY_TABLES}
    conditions = all_conditions(inputs)
    figures = inputs.figures

    summary, sections = [], []
    for condition in conditions:
        c_pooled = rows_for(pooled_all, {"condition": condition})
        c_effects = rows_for(effects, {"condition": condition})
        analyses = []
        for _, prow in c_pooled.iterrows():
            pooled = prow.to_dict()
            key = {k: pooled[k] for k in KEYS}
            rows = rows_for(c_effects, key)
            inc = rows[rows["included"].map(as_bool)] if "included" in rows else rows
            inc = sort_studies(inc)
            weights = list(random_effects_weights(inc["vi"], pooled.get("tau2")))
            a_sens = {name: rows_for(df, key) for name, df in sens.items()}
            outcome_label, tp_label = analysis_title(rows, pooled)
            aid = str(pooled["analysis_id"])
            title = f"{outcome_label}, {fmt_weeks(pooled['timepoint_weeks'])}"
            summary.append(summary_row(pooled, outcome_label))
            alt = f"Forest plot: {humanize(condition)}, {title}"
            analysis = {
                "anchor": aid,
                "title": title,
                "timepoint_label": tp_label,
                "measure": f"{MEASURE_NAMES.get(str(pooled['measure']), pooled['measure'])} "
                f"({pooled['measure']})",
                "k": int(pooled["k"]),
                "forest": report_figure(forest_name(aid), figures, alt),
                "funnel": report_figure(funnel_name(aid), figures, f"Funnel plot: {title}"),
                "loo": report_figure(loo_name(aid), figures, f"Leave-one-out: {title}"),
                "gosh": report_figure(gosh_name(aid), figures, f"GOSH plot: {title}"),
                "numbers": numbers_table(pooled, _n_participants(inc)),
                "findings": interpret(pooled, inc, weights, a_sens, labels),
                "assumptions": _assumptions(rows, labels),
                "excluded": [
                    {
                        "study": labels.get(str(r["study_id"]), str(r["study_id"])),
                        "reason": text(r.get("exclusion_reason")) or "not stated",
                    }
                    for _, r in sort_studies(rows[~rows["included"].map(as_bool)]).iterrows()
                ]
                if "included" in rows
                else [],
                "subgroups": _subgroup_blocks(pooled, a_sens, figures, aid),
                "metaregression": _metareg_blocks(pooled, a_sens, figures, aid),
                "cumulative": _table(
                    a_sens["cumulative"],
                    [
                        ("label", "Study added", "text"),
                        ("year", "Year", "int"),
                        ("k", "k", "int"),
                        ("estimate", "Estimate (analysis scale)", "num"),
                        ("ci_low", "CI low", "num"),
                        ("ci_high", "CI high", "num"),
                        ("p_value", "P", "p"),
                        ("i2", "I²", "pct"),
                    ],
                ),
                "influence": _table(
                    a_sens["influence"],
                    [
                        ("label", "Study", "text"),
                        ("rstudent", "Studentized residual", "num"),
                        ("dffits", "DFFITS", "num"),
                        ("cooks_d", "Cook's D", "num"),
                        ("hat", "Hat", "num"),
                        ("weight", "Weight %", "num"),
                        ("influential", "Influential", "text"),
                    ],
                ),
            }
            analyses.append(analysis)
        timecourses = []
        if not c_pooled.empty:
            for outcome, part in c_pooled.groupby("outcome", sort=True):
                for measure, mpart in part.groupby("measure", sort=True):
                    if mpart["timepoint_weeks"].nunique() < 2:
                        continue
                    name = timecourse_name(
                        condition,
                        str(outcome),
                        str(measure) if part["measure"].nunique() > 1 else None,
                    )
                    fig = report_figure(name, figures, f"Time course: {humanize(outcome)}")
                    if fig:
                        timecourses.append(fig)
        sections.append(
            {
                "slug": condition,
                "anchor": f"condition-{condition}",
                "name": humanize(condition),
                "analyses": analyses,
                "timecourses": timecourses,
                "repeated": repeated_section(
                    {name: inputs.sensitivity.get(name) for name in REPEATED_TABLES},
                    pooled_all,
                    condition,
                    figures,
                ),
                "excluded": _excluded_all(c_effects, labels),
                "unusable": _unusable(inputs.studies, c_effects, condition),
                "external": _reviews(rows_for(inputs.reviews, {"condition": condition})),
            }
        )

    prov = inputs.provenance or {}
    return {
        "title": current_labels().report_title,
        "summary": _summary_lines(
            pooled_all, effects, conditions, {r["anchor"]: r["outcome"] for r in summary}
        ),
        "summary_table": summary,
        "overview": report_figure(overview_name(), figures, "Main analysis per condition"),
        "conditions": sections,
        "reviews": _reviews(inputs.reviews),
        "methods": methods_text(inputs.params, prov),
        "packages": sorted((str(k), str(v)) for k, v in (prov.get("packages") or {}).items()),
        "python": text(prov.get("python")),
        "inputs": sorted((str(k), str(v)) for k, v in (prov.get("inputs") or {}).items()),
        "config_json": json.dumps(
            prov.get("config", inputs.params),
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        ),
    }


def _subgroup_blocks(pooled: dict, sens: dict, figures: Mapping[str, str], aid: str) -> list[dict]:
    sg, tests = sens.get("subgroups"), sens.get("subgroup_tests")
    if sg is None or sg.empty:
        return []
    blocks = []
    if int(pooled["k"]) < 2:
        return []
    for subgroup, part in sg.groupby("subgroup", sort=True):
        if part["level"].nunique() < 2:
            continue
        test = rows_for(tests, {"subgroup": subgroup}) if tests is not None else pd.DataFrame()
        line = ""
        if not test.empty:
            t = test.iloc[0]
            if not is_missing(t.get("q_between")):
                line = (
                    f"Test for subgroup differences: Q = {fmt_num(t['q_between'])}, df = "
                    f"{fmt_int(t['df'])}, {fmt_p(t['p_value'])}{_perm_p(t.get('p_value_perm'))}. "
                    "Subgroup comparisons are observational and, with few studies per level, "
                    "weak."
                )
        m = str(pooled["measure"])
        rows = [
            [
                text(r["level"]),
                fmt_int(r["k"]),
                fmt_effect(r["estimate"], r["ci_low"], r["ci_high"], m),
                fmt_pct(r.get("i2")),
                text(r.get("note")),
            ]
            for _, r in part.sort_values("level", kind="mergesort").iterrows()
        ]
        blocks.append(
            {
                "name": column_label(subgroup),
                "test": line,
                "table": {"header": ["Level", "k", "Estimate [CI]", "I²", "Note"], "rows": rows},
                "figure": report_figure(
                    subgroup_name(aid, str(subgroup)), figures, f"Subgroups by {subgroup}"
                ),
            }
        )
    return blocks


def _perm_p(p) -> str:
    """`` (permutation p = …)`` beside a test, or nothing when it was not computed."""
    return "" if is_missing(p) else f" (permutation {fmt_p(p)})"


def _metareg_blocks(pooled: dict, sens: dict, figures: Mapping[str, str], aid: str) -> list[dict]:
    mr = sens.get("metaregression")
    if mr is None or mr.empty:
        return []
    blocks = []
    k = int(pooled["k"])
    for _, r in mr.sort_values("moderator", kind="mergesort").iterrows():
        mod = str(r["moderator"])
        if is_missing(r.get("slope")):
            line = f"Not estimated: {text(r.get('note')) or 'too few studies'}."
        else:
            scale = " (log scale)" if is_ratio(str(pooled["measure"])) else ""
            line = (
                f"Slope{scale} {fmt_num(r['slope'], 3)} per unit of {column_label(mod).lower()} "
                f"[{fmt_num(r.get('slope_ci_low'), 3)}, {fmt_num(r.get('slope_ci_high'), 3)}], "
                f"{fmt_p(r.get('slope_p'))}{_perm_p(r.get('slope_p_perm'))}; "
                f"R² = {fmt_pct(r.get('r2'))}."
            )
            if k < EGGER_MIN_K:
                line += f" With k = {k} a meta-regression is exploratory at best."
        blocks.append(
            {
                "name": column_label(mod),
                "text": line,
                "figure": report_figure(
                    bubble_name(aid, mod), figures, f"Meta-regression on {mod}"
                ),
            }
        )
    return blocks


def _excluded_all(effects: pd.DataFrame, labels: dict[str, str]) -> list[dict]:
    if effects.empty or "included" not in effects:
        return []
    ex = effects[~effects["included"].map(as_bool)]
    ex = ex.sort_values(["outcome", "timepoint_weeks", "study_id"], kind="mergesort")
    return [
        {
            "study": labels.get(str(r["study_id"]), str(r["study_id"])),
            "outcome": text(r.get("outcome_label")) or humanize(r["outcome"]),
            "timepoint": fmt_weeks(r["timepoint_weeks"]),
            "measure": text(r.get("measure")),
            "reason": text(r.get("exclusion_reason")) or "not stated",
        }
        for _, r in ex.iterrows()
    ]


def _unusable(studies: pd.DataFrame, effects: pd.DataFrame, condition: str) -> list[dict]:
    """Studies of the condition that reported something unusable, or nothing at all."""
    if studies.empty or "condition" not in studies:
        return []
    rows = studies[studies["condition"].astype(str) == condition]
    used = set(effects["study_id"].astype(str)) if "study_id" in effects else set()
    out = []
    for _, r in sort_studies(rows).iterrows():
        note = text(r.get("unusable_data"))
        contributes = str(r["study_id"]) in used
        if not note and contributes:
            continue
        out.append(
            {
                "study": text(r.get("label")) or str(r["study_id"]),
                "design": text(r.get("design")),
                "what": note or "no outcome data extracted",
                "contributes": "yes" if contributes else "no",
                "doi": doi_of(text(r.get("doi"))),
            }
        )
    return out


DOI_PATTERN = re.compile(r"10\.\d{4,9}/[^\s;,]+")


def doi_of(text_value: str) -> str:
    """The first DOI in a free-text identifier field ('' if none)."""
    match = DOI_PATTERN.search(str(text_value))
    return match.group(0).rstrip(".") if match else ""


def _reviews(reviews: pd.DataFrame) -> list[dict]:
    if reviews is None or reviews.empty:
        return []
    sort_cols = [
        c for c in ("condition", "label", "outcome", "timepoint_weeks", "measure") if c in reviews
    ]
    out = []
    for _, r in reviews.sort_values(sort_cols, kind="mergesort").iterrows():
        est = r.get("estimate")
        ci = ""
        if not is_missing(r.get("ci_low")) and not is_missing(r.get("ci_high")):
            ci = f" [{fmt_num(r['ci_low'])}, {fmt_num(r['ci_high'])}]"
        url = text(r.get("source_url"))
        doi = text(r.get("doi_or_id"))
        out.append(
            {
                "label": text(r.get("label")) or text(r.get("review_id")),
                "condition": humanize(r["condition"]) if text(r.get("condition")) else "",
                "outcome": text(r.get("outcome_label")) or humanize(r.get("outcome", "")),
                "timepoint": text(r.get("timepoint_label")),
                "measure": text(r.get("measure_detail")) or text(r.get("measure")),
                "estimate": (fmt_num(est) + ci) if not is_missing(est) else "",
                "k": text(r.get("k_studies")),
                "note": text(r.get("certainty_or_note")),
                "doi": doi_of(doi),
                "id": doi.replace(doi_of(doi), "").strip(" ;,") if doi_of(doi) else doi,
                "url": url.split(" ")[0] if url.startswith(("https://", "http://")) else "",
            }
        )
    return out


def plural(n: int, one: str, many: str) -> str:
    """``1 analysis``, ``2 analyses``."""
    return f"{n} {one if n == 1 else many}"


def _summary_lines(
    pooled: pd.DataFrame, effects: pd.DataFrame, conditions: list[str], titles: dict
) -> list[str]:
    """The opening bullet points: what there is, then one line per condition."""
    n_an = len(pooled)
    pooled_k2 = int((pooled["k"].astype(int) >= 2).sum()) if n_an else 0
    inc = effects[effects["included"].map(as_bool)] if "included" in effects else effects
    n_studies = inc["study_id"].nunique() if "study_id" in inc else 0
    with_data = sorted(set(pooled["condition"].astype(str))) if n_an else []
    without = [c for c in conditions if c not in with_data]
    lines = [
        f"{plural(len(conditions), 'condition', 'conditions')}, "
        f"{plural(n_an, 'analysis', 'analyses')} from {plural(n_studies, 'study', 'studies')} "
        f"with usable data. {plural(pooled_k2, 'analysis pools', 'analyses pool')} two or more "
        f"studies; {plural(n_an - pooled_k2, 'rests', 'rest')} on a single study.",
    ]
    if without:
        lines.append("No analysable data for: " + ", ".join(humanize(c) for c in without) + ".")
    main = main_analyses(pooled) if n_an else pooled
    for _, r in main.iterrows():
        m = str(r["measure"])
        eff = fmt_effect(r["estimate"], r["ci_low"], r["ci_high"], m)
        k = int(r["k"])
        what = f"{titles.get(str(r['analysis_id']), humanize(r['outcome']))}, "
        what += fmt_weeks(r["timepoint_weeks"])
        if k == 1:
            lines.append(f"{humanize(r['condition'])}: one study only ({what}: {m} {eff}).")
            continue
        side = direction_words(m, r.get("higher_is_better", False), float(r["estimate"]))
        verdict = (
            f"favours {side}"
            if excludes_null(r["ci_low"], r["ci_high"])
            else "inconclusive (the CI includes no effect)"
        )
        lines.append(f"{humanize(r['condition'])}: {what}, k = {k}, {m} {eff}: {verdict}.")
    return lines


def methods_text(params: dict, provenance: dict) -> list[str]:
    """The methods section, generated from the configuration values."""
    tau2 = str(params.get("tau2_method", "REML"))
    ci = str(params.get("ci_method", "hksj"))
    pct = f"{level_percent(params.get('level'))}%"
    measure = params.get("measure") or {}
    cont = measure.get("continuous", "MD") if isinstance(measure, dict) else "MD"
    binary = measure.get("binary", "RR") if isinstance(measure, dict) else "RR"
    harm = params.get("harmonize_scale_to")
    labels = current_labels()
    r_cross = params.get("crossover_correlation")
    lines = [
        f"Effect sizes: continuous outcomes as {MEASURE_NAMES.get(cont, cont)} ({cont}), binary "
        f"outcomes as {MEASURE_NAMES.get(binary, binary)} ({binary}); generic contrasts reported "
        "by a study are used on their own scale. Effects are "
        f"{labels.intervention} minus (or over) {labels.comparator}. "
        "Continuous outcomes where higher is better are sign-flipped, so a negative effect "
        f"always favours {labels.intervention}; binary effects are never flipped.",
        "Pooling: inverse-variance random-effects model with the "
        f"{TAU2_NAMES.get(tau2, tau2)} estimator of τ² (Q-profile CI for τ² and I²). "
        + (
            "Confidence intervals use the Hartung–Knapp–Sidik–Jonkman method (Knapp–Hartung "
            "SE, not truncated, with t on k − 1 df)."
            if ci == "hksj"
            else "Confidence intervals are Wald-type, from the normal distribution."
        )
        + f" All intervals are {pct}. The common-effect (inverse-variance) estimate is "
        "reported alongside.",
        "Prediction interval: estimate ± t(k − 2) · √(τ² + SE²) (Higgins, Thompson and "
        "Spiegelhalter 2009; as R's meta and the Cochrane Handbook), only for k ≥ 3. A single "
        "study (k = 1) is reported as is, not pooled; with k = 2 no prediction interval is "
        "given.",
        "Conversions (Cochrane Handbook ch. 6): SD = SE·√n; SD from a 95% CI of a mean = "
        "√n·(upper − lower)/(2·t(0.975, n − 1)); medians and quartiles or ranges are converted "
        "to means and SDs where no better summary exists; a generic effect's SE comes from its "
        "95% CI on the analysis scale (log for ratios). Every conversion and every analyst's "
        "assumption is listed next to the result it affects.",
        (
            f"Bounded rating scales are rescaled linearly to 0–{harm:g} (means and SDs) before a "
            "mean difference is computed."
            if isinstance(harm, (int, float))
            else "Rating scales are not rescaled."
        ),
        "Zero cells: 0.5 is added to every cell of a study with a zero cell (RR, OR and RD); a "
        "study with no events in either arm is excluded from RR and OR (kept for RD) and listed "
        "as not estimable.",
        (
            "Crossover trials are analysed as if they were parallel-group trials (the Cochrane "
            "Handbook's conservative approach: within-person correlation ignored, so their "
            "precision is underestimated and the same participants appear in both arms)."
            if is_missing(r_cross)
            else f"Crossover trials: within-patient correlation r = {r_cross} is assumed for mean "
            "differences; other measures treat them as parallel groups."
        ),
        'Small-study effects (k ≥ 3): Egger\'s regression test (metafor regtest, model "lm"), '
        "Begg's rank correlation and trim-and-fill (L0). With k < 10 these tests have little "
        "power and are reported for completeness only.",
        "Sensitivity: leave-one-out, influence diagnostics, cumulative meta-analysis by year and "
        "re-analysis without studies at high risk of bias; subgroup analyses by "
        + (", ".join(column_label(s).lower() for s in params.get("subgroups") or []) or "none")
        + "; meta-regression on "
        + (", ".join(column_label(s).lower() for s in params.get("moderators") or []) or "none")
        + " (one moderator at a time).",
    ]
    return lines


def read_optional_csv(path: str | Path | None) -> pd.DataFrame:
    """A CSV as a DataFrame, or an empty frame when the path is missing or has no rows."""
    if not path:
        return pd.DataFrame()
    from metareview.io import read_table  # noqa: PLC0415  (io imports nothing from report)

    return read_table(path)


__all__ = [
    "BINARY_MEASURES",
    "CONTINUOUS_MEASURES",
    "SENSITIVITY_TABLES",
    "ReportInputs",
    "build_context",
    "methods_text",
    "read_optional_csv",
]
