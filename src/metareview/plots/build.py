"""Which figures the review has, and the plots for them (file name → ggplot).

Used by ``workflow/scripts/plot_figures.py``; the report finds the same files by name
(:mod:`metareview.plots.figure_names`). Figures are only made where they mean something: a
funnel plot for k ≥ 3, a time course for an outcome pooled at ≥ 2 timepoints, subgroup,
leave-one-out and bubble plots where the sensitivity tables have rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from plotnine import ggplot

from metareview.plots.bubble import bubble_plot
from metareview.plots.figure_names import (
    bubble_name,
    forest_name,
    funnel_name,
    loo_name,
    overview_name,
    subgroup_name,
    timecourse_name,
)
from metareview.plots.forest import forest_plot, sort_studies
from metareview.plots.format import as_bool, column_label, fmt_weeks, humanize, is_missing
from metareview.plots.funnel import funnel_plot
from metareview.plots.overview import overview_plot
from metareview.plots.sensitivity_forests import loo_forest_plot, subgroup_forest_plot
from metareview.plots.timecourse import timecourse_plot, timecourse_series
from metareview.tables import rows_for

KEYS = ["condition", "outcome", "timepoint_weeks", "measure"]
FUNNEL_MIN_K = 3


def _title(studies: pd.DataFrame, pooled: dict) -> str:
    labels = sorted({str(v) for v in studies.get("outcome_label", []) if not is_missing(v)})
    outcome = labels[0] if len(labels) == 1 else humanize(pooled["outcome"])
    outcome = outcome[:1].upper() + outcome[1:]
    return f"{humanize(pooled['condition'])} · {outcome} · {fmt_weeks(pooled['timepoint_weeks'])}"


def outcome_label_map(effects: pd.DataFrame) -> dict:
    """(condition, outcome) → the analyst's outcome label, where it is unique."""
    labels: dict = {}
    if effects.empty or "outcome_label" not in effects:
        return labels
    for (condition, outcome), part in effects.groupby(["condition", "outcome"], sort=True):
        names = sorted({str(v) for v in part["outcome_label"].dropna()})
        if len(names) == 1:
            labels[(str(condition), str(outcome))] = names[0][:1].upper() + names[0][1:]
    return labels


def with_rob(rows: pd.DataFrame, judged: pd.DataFrame) -> pd.DataFrame:
    """The analysis' effect rows with ``rob_d1 … rob_overall`` from its RoB rows (if any)."""
    domains = ["d1", "d2", "d3", "d4", "d5", "overall"]
    if judged.empty or rows.empty or not set(domains) <= set(judged.columns):
        return rows
    extra = judged[["study_id", *domains]].drop_duplicates("study_id")
    extra = extra.rename(columns={d: f"rob_{d}" for d in domains})
    extra["study_id"] = extra["study_id"].astype(str)
    out = rows.assign(study_id=rows["study_id"].astype(str)).merge(
        extra, on="study_id", how="left"
    )
    out.index = rows.index
    return out


def review_conditions(
    pooled: pd.DataFrame, effects: pd.DataFrame, studies: pd.DataFrame, configured=None
) -> list[str]:
    """The configured conditions, else every condition seen in the tables."""
    if configured:
        return sorted({str(c) for c in configured})
    seen: set[str] = set()
    for df in (pooled, effects, studies):
        if not df.empty and "condition" in df:
            seen |= {str(c) for c in df["condition"].dropna()}
    return sorted(seen)


def _labels(effects: pd.DataFrame, studies: pd.DataFrame) -> dict[str, str]:
    labels = {}
    for df in (studies, effects):
        if not df.empty and "study_id" in df and "label" in df:
            labels |= {
                str(s): str(lab) for s, lab in zip(df["study_id"], df["label"], strict=True)
            }
    return labels


def figures(
    effects: pd.DataFrame,
    pooled: pd.DataFrame,
    studies: pd.DataFrame | None = None,
    sensitivity: dict[str, pd.DataFrame] | None = None,
    conditions: list[str] | None = None,
    risk_of_bias: pd.DataFrame | None = None,
) -> Iterator[tuple[str, ggplot]]:
    """Yield (file name, plot) for every figure of the review, in a fixed order.

    The overview first, then :func:`analysis_figures` (which the workflow runs one condition
    at a time). ``risk_of_bias`` (``results/risk_of_bias.csv``) adds RevMan's risk-of-bias dots
    to the forest plots of analyses where any study has a judgement.
    """
    yield overview_figure(effects, pooled, studies, conditions)
    yield from analysis_figures(effects, pooled, studies, sensitivity, risk_of_bias)


def overview_figure(
    effects: pd.DataFrame,
    pooled: pd.DataFrame,
    studies: pd.DataFrame | None = None,
    conditions: list[str] | None = None,
    level: float = 0.95,
) -> tuple[str, ggplot]:
    """(file name, plot) of the overview: the main analysis of every condition.

    ``level`` (the configured confidence level) names the CI column when no condition has a
    pooled row; otherwise the rows' own levels do."""
    studies = studies if studies is not None else pd.DataFrame()
    pooled = pooled.sort_values(KEYS, kind="mergesort").reset_index(drop=True)
    outcome_labels = outcome_label_map(effects)
    all_conditions = review_conditions(pooled, effects, studies, conditions)
    reasons = {}
    for condition in all_conditions:
        if not (pooled["condition"].astype(str) == condition).any():
            n = (
                int((studies["condition"].astype(str) == condition).sum())
                if "condition" in studies
                else 0
            )
            reasons[condition] = (
                f"{n} stud{'y' if n == 1 else 'ies'}, no usable numbers" if n else ""
            )
    return (
        overview_name(),
        overview_plot(
            pooled, all_conditions, reasons=reasons, outcome_labels=outcome_labels, level=level
        ),
    )


def analysis_figures(
    effects: pd.DataFrame,
    pooled: pd.DataFrame,
    studies: pd.DataFrame | None = None,
    sensitivity: dict[str, pd.DataFrame] | None = None,
    risk_of_bias: pd.DataFrame | None = None,
) -> Iterator[tuple[str, ggplot]]:
    """Yield (file name, plot) for the figures of every analysis in ``pooled`` and the time
    courses of its outcomes; each figure depends on its own condition's rows only."""
    studies = studies if studies is not None else pd.DataFrame()
    sens = sensitivity or {}
    pooled = pooled.sort_values(KEYS, kind="mergesort").reset_index(drop=True)
    labels = _labels(effects, studies)
    outcome_labels = outcome_label_map(effects)

    for _, prow in pooled.iterrows():
        p = prow.to_dict()
        key = {k: p[k] for k in KEYS}
        aid = str(p["analysis_id"])
        rows = with_rob(rows_for(effects, key), rows_for(risk_of_bias, key))
        title = _title(rows, p)
        yield forest_name(aid), forest_plot(rows, p, title=title)
        inc = rows[rows["included"].map(as_bool)] if "included" in rows else rows
        k = int(p["k"])
        if k >= FUNNEL_MIN_K:
            ss = rows_for(sens.get("small_study"), key)
            filled = rows_for(sens.get("trimfill_filled"), key)
            yield (
                funnel_name(aid),
                funnel_plot(
                    inc,
                    p,
                    filled=filled if len(filled) else None,
                    small_study=ss.iloc[0] if len(ss) else None,
                    title=f"Funnel plot · {title}",
                ),
            )
        loo = rows_for(sens.get("leave_one_out"), key)
        if len(loo):
            order = list(sort_studies(inc)["study_id"].astype(str))
            yield (
                loo_name(aid),
                loo_forest_plot(
                    loo, p, labels=labels, order=order, title=f"Leave-one-out · {title}"
                ),
            )
        sg = rows_for(sens.get("subgroups"), key)
        tests = rows_for(sens.get("subgroup_tests"), key)
        if len(sg):
            for subgroup, part in sg.groupby("subgroup", sort=True):
                if part["level"].nunique() < 2:
                    continue
                test = rows_for(tests, {"subgroup": subgroup})
                yield (
                    subgroup_name(aid, str(subgroup)),
                    subgroup_forest_plot(
                        part,
                        p,
                        test.iloc[0] if len(test) else None,
                        title=f"{title} · by {column_label(subgroup).lower()}",
                    ),
                )
        mr = rows_for(sens.get("metaregression"), key)
        if len(mr) and not studies.empty:
            for _, m in mr.sort_values("moderator", kind="mergesort").iterrows():
                mod = str(m["moderator"])
                if is_missing(m.get("slope")) or mod not in studies:
                    continue
                data = inc.drop(columns=[mod], errors="ignore").merge(
                    studies[["study_id", mod]], on="study_id", how="left"
                )
                yield (
                    bubble_name(aid, mod),
                    bubble_plot(data, mod, dict(m) | {"measure": p["measure"]}),
                )

    for condition, outcome, measure in timecourse_series(pooled):
        part = pooled[
            (pooled["condition"].astype(str) == condition)
            & (pooled["outcome"].astype(str) == outcome)
        ]
        several = part["measure"].nunique() > 1
        part = part[part["measure"].astype(str) == measure]
        name = timecourse_name(condition, outcome, measure if several else None)
        label = outcome_labels.get((condition, outcome), humanize(outcome))
        title = f"{humanize(condition)} · {label[:1].upper() + label[1:]} over time"
        yield name, timecourse_plot(part, title=title)
