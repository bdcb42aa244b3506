"""Report section for repeated timepoints (three-level models) and rare events (GLMM).

Per condition: for every outcome with a multilevel model, the fitted time course figure, a table
with the model-based and the CR2 cluster-robust CIs side by side, the estimates at the chosen
times, and a sentence saying which interval to trust:

* the model-based CI assumes the model's correlation structure is right; the sampling errors of
  one trial's timepoints come from the same patients and are correlated, which the model
  (``vi`` on the diagonal) ignores, so it tends to be too narrow;
* the CR2 CI does not rely on that structure, but with few clusters it is itself unreliable:
  Tipton (2015) and clubSandwich advise against trusting it when the Satterthwaite df < 4.

So: with df ≥ 4 the robust CI leads; with df < 4 (or too few studies for it) the model-based CI
is the one to read, with that caveat stated.

For every binary analysis with a GLMM row: if events are sparse (fewer than 5 in an arm in most
studies) the binomial-normal GLMM leads and the inverse-variance result (continuity-corrected)
follows for comparison; otherwise the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from metareview.plots.figure_names import report_figure
from metareview.plots.format import (
    MEASURE_NAMES,
    as_bool,
    ci_heading,
    fmt_effect,
    fmt_interval,
    fmt_num,
    fmt_weeks,
    humanize,
    is_missing,
    is_ratio,
)
from metareview.plots.multilevel_course import multilevel_course_name
from metareview.tables import rows_for

#: Tables this section reads (``results/<name>.csv``), passed in ``ReportInputs.sensitivity``.
REPEATED_TABLES = ("multilevel", "multilevel_timecourse", "rare_events")
#: Below this Satterthwaite df the CR2 interval is not trusted (Tipton 2015).
MIN_ROBUST_DF = 4.0

TERM_NAMES = {
    ("overall", "intercept"): "average over all timepoints",
    ("time", "intercept"): "effect at week 1 (ln 1 = 0)",
    ("time", "log_weeks"): "change per e-fold (×2.7) of time",
    ("time", "weeks"): "change per week",
}


def _trust_line(rows: pd.DataFrame) -> str:
    fitted = rows.dropna(subset=["estimate"])
    if fitted.empty:
        return ""
    k = int(fitted["k_studies"].max())
    dfs = pd.to_numeric(fitted.get("robust_df"), errors="coerce").dropna()
    caveat = (
        "the model-based CI treats the sampling errors of one trial's timepoints as "
        "independent although they come from the same patients, so it is probably too narrow"
    )
    if dfs.empty:
        return (
            f"With {k} stud{'y' if k == 1 else 'ies'} no cluster-robust CI can be computed; "
            f"read the model-based CI with care: {caveat}."
        )
    low = float(dfs.min())
    if low < MIN_ROBUST_DF:
        return (
            f"Which CI to trust: few clusters ({k} studies; Satterthwaite df as low as "
            f"{fmt_num(low, 1)}). Cluster-robust CIs with df < 4 are unreliable (Tipton 2015), "
            f"so the model-based CI is the one to read — with the caveat that {caveat}."
        )
    return (
        f"Which CI to trust: the cluster-robust CR2 CI ({k} studies, Satterthwaite df ≥ "
        f"{fmt_num(low, 1)}), because it stays valid when the correlation between a trial's "
        "timepoints is misspecified; the model-based CI assumes it is not."
    )


def _robust_cell(row, measure: str) -> str:
    interval = fmt_interval(row.get("robust_ci_low"), row.get("robust_ci_high"), measure)
    if not interval:
        return "—"
    return f"{interval} (df {fmt_num(row.get('robust_df'), 1)})"


def _slope(est, low, high) -> str:
    if is_missing(est):
        return ""
    return f"{fmt_num(est, 2)} [{fmt_num(low, 2)}, {fmt_num(high, 2)}]"


def _robust_slope(row) -> str:
    if is_missing(row.get("robust_ci_low")):
        return "—"
    interval = _slope(0, row["robust_ci_low"], row["robust_ci_high"]).split(" ", 1)[1]
    return f"{interval} (df {fmt_num(row.get('robust_df'), 1)})"


def _multilevel_blocks(
    ml: pd.DataFrame, course: pd.DataFrame, figures: Mapping[str, str]
) -> list[dict]:
    blocks = []
    if ml.empty:
        return blocks
    for (outcome, measure), rows in ml.groupby(["outcome", "measure"], sort=True):
        measure = str(measure)
        ratio_note = "; slopes on the log scale" if is_ratio(measure) else ""
        table = []
        for _, r in rows.iterrows():
            est = fmt_effect(r["estimate"], r["ci_low"], r["ci_high"], measure)
            if r["term"] != "intercept":  # a slope is a difference on the analysis scale
                est = _slope(r["estimate"], r["ci_low"], r["ci_high"])
            table.append(
                [
                    str(r["model"]),
                    TERM_NAMES.get((str(r["model"]), str(r["term"])), str(r["term"])),
                    est or "not estimable",
                    _robust_cell(r, measure) if r["term"] == "intercept" else _robust_slope(r),
                    fmt_num(r["sigma2_study"], 3),
                    fmt_num(r["sigma2_effect"], 3),
                    f"{int(r['k_studies'])} / {int(r['k_effects'])}",
                ]
            )
        times = []
        c_rows = rows_for(course, {"outcome": outcome, "measure": measure})
        curve = c_rows[c_rows["kind"] == "curve"] if not c_rows.empty else c_rows
        for _, c in c_rows[c_rows["kind"] == "chosen"].iterrows() if not c_rows.empty else []:
            outside = not curve.empty and not (
                curve["weeks"].min() - 1e-9 <= c["weeks"] <= curve["weeks"].max() + 1e-9
            )
            times.append(
                [
                    fmt_weeks(c["weeks"]) + (" (extrapolated)" if outside else ""),
                    fmt_effect(c["estimate"], c["ci_low"], c["ci_high"], measure),
                    _robust_cell(c, measure),
                ]
            )
        notes = sorted({str(n) for n in rows["note"].dropna() if str(n)})
        ci = ci_heading(rows.get("level", []))
        condition = str(rows["condition"].iloc[0])
        blocks.append(
            {
                "title": f"{humanize(outcome)} across timepoints "
                f"({MEASURE_NAMES.get(measure, measure)}{ratio_note})",
                "figure": report_figure(
                    multilevel_course_name(condition, str(outcome), measure),
                    figures,
                    f"Fitted time course: {humanize(outcome)}",
                ),
                "trust": _trust_line(rows),
                "table": {
                    "header": [
                        "Model",
                        "Term",
                        f"Estimate [model-based {ci}]",
                        f"CR2 robust {ci}",
                        "σ² study",
                        "σ² timepoint",
                        "Studies / effects",
                    ],  # fmt: skip
                    "rows": table,
                },
                "times": times,
                "times_header": ["Time", f"Estimate [model-based {ci}]", f"CR2 robust {ci}"],
                "notes": notes,
            }
        )
    return blocks


def _rare_blocks(rare: pd.DataFrame, pooled: pd.DataFrame) -> list[dict]:
    blocks = []
    if rare.empty:
        return blocks
    for _, r in rare.iterrows():
        key = {k: r[k] for k in ("condition", "outcome", "timepoint_weeks")}
        iv = rows_for(pooled, key)
        sparse = as_bool(r["sparse"])
        glmm = (
            f"binomial-normal GLMM (UM.FS, no continuity correction): OR "
            f"{fmt_effect(r['estimate'], r['ci_low'], r['ci_high'], 'OR')}, "
            f"tau² {fmt_num(r['tau2'], 3)}, {int(r['k'])} studies"
            if not is_missing(r["estimate"])
            else f"binomial-normal GLMM: not estimable ({r['note']})"
        )
        mh = (
            [
                "Mantel–Haenszel OR (common effect, no continuity correction) "
                f"{fmt_effect(r['mh_estimate'], r['mh_ci_low'], r['mh_ci_high'], 'OR')}"
            ]
            if not is_missing(r.get("mh_estimate"))
            else []
        )
        ivs = [
            f"inverse-variance {p['measure']} "
            f"{fmt_effect(p['estimate'], p['ci_low'], p['ci_high'], str(p['measure']))} "
            f"(k = {int(p['k'])}; a 0.5 correction is added to studies with a zero cell)"
            for _, p in iv.iterrows()
        ]
        events = (
            f"{int(r['exp_events'])}/{int(r['exp_n'])} vs {int(r['ctl_events'])}/{int(r['ctl_n'])}"
            " events"
        )
        if sparse:
            lead = (
                f"Few events ({events}; fewer than 5 in an arm in most studies): the GLMM is "
                f"the primary result — {glmm}."
            )
            rest = [f"For comparison, the {line}." for line in [*mh, *ivs]]
        else:
            lead = f"{events}: " + (f"{ivs[0]}." if ivs else f"{glmm}.")
            rest = ([f"Sensitivity: {glmm}."] if ivs else []) + [
                f"Also the {x}." for x in [*mh, *ivs[1:]]
            ]
        notes = [str(r["note"])] if not is_missing(r.get("note")) and str(r["note"]) else []
        blocks.append(
            {
                "title": f"{humanize(r['outcome'])}, {fmt_weeks(r['timepoint_weeks'])}",
                "sparse": sparse,
                "lines": [lead, *rest, *notes],
            }
        )
    return blocks


def repeated_section(
    tables: dict[str, pd.DataFrame],
    pooled: pd.DataFrame,
    condition: str,
    figures: Mapping[str, str],
) -> dict:
    """Context of the section for one condition (empty lists when there is nothing)."""

    def table(name: str) -> pd.DataFrame:
        return rows_for(tables.get(name), {"condition": condition})

    return {
        "multilevel": _multilevel_blocks(
            table("multilevel"), table("multilevel_timecourse"), figures
        ),
        "rare_events": _rare_blocks(
            table("rare_events"), rows_for(pooled, {"condition": condition})
        ),
    }
