"""One figure across conditions: the main analysis of each, and where evidence is missing.

The main analysis of a condition is its ``pain_intensity`` analysis with the most studies (then
the earliest timepoint); without one, the analysis with the most studies (then outcome name,
then earliest timepoint). Measures differ between conditions, so conditions are grouped into
blocks by measure and direction, each block with its own axis and "favours" labels.
Conditions without any analysis are listed at the end as "no data".
"""

from __future__ import annotations

import pandas as pd
from plotnine import ggplot

from metareview.plots.forest import favours_labels
from metareview.plots.format import (
    MEASURE_NAMES,
    MINUS,
    ci_heading,
    experimental_favoured_above,
    fmt_effect,
    fmt_weeks,
    humanize,
)
from metareview.plots.layout import BODY_Y, Column, TablePlot, choose_axis
from metareview.plots.theme import MUTED, NO_DATA
from metareview.review_labels import current_labels
from metareview.tables import BINARY_MEASURES

MAIN_OUTCOME = "pain_intensity"
BLOCK_AXIS_ROWS = 3.0


def outcome_rank(outcome: str) -> int:
    """Preference among a condition's outcomes: pain intensity, other pain, responders, rest."""
    outcome = str(outcome)
    if outcome == MAIN_OUTCOME:
        return 0
    if outcome.startswith("pain"):
        return 1
    if outcome.startswith("responders"):
        return 2
    return 3


def main_analyses(pooled: pd.DataFrame) -> pd.DataFrame:
    """One ``pooled.csv`` row per condition: the analysis the overview shows.

    ``pain_intensity`` with the most studies, else the analysis with the most studies; ties go
    to pain outcomes, then responder outcomes, then outcome name, then the earliest timepoint.
    """
    if pooled.empty:
        return pooled.copy()
    df = pooled.assign(
        _main=(pooled["outcome"].astype(str) != MAIN_OUTCOME).astype(int),
        _negk=-pooled["k"].astype(int),
        _rank=[outcome_rank(o) for o in pooled["outcome"]],
    )
    df = df.sort_values(
        ["condition", "_main", "_negk", "_rank", "outcome", "timepoint_weeks"], kind="mergesort"
    )
    return df.groupby("condition", sort=True).head(1).drop(columns=["_main", "_negk", "_rank"])


def block_heading(measure: str, above: bool, outcome: str) -> str:
    """What a block of the overview shows, e.g. ``Risk Ratio: beneficial events (responders)``."""
    name = MEASURE_NAMES.get(measure, measure)
    if outcome:
        return f"{name}: {outcome}"
    if measure in BINARY_MEASURES or measure == "HR":
        kind = "beneficial events (e.g. responders)" if above else "harmful events"
        return f"{name}: {kind}"
    return name


def label_of(labels: dict, condition, outcome) -> str:
    """Display label of an outcome: per condition, then per slug, then the humanized slug."""
    key = (str(condition), str(outcome))
    return labels.get(key) or labels.get(str(outcome)) or humanize(outcome)


def overview_plot(
    pooled: pd.DataFrame,
    conditions: list[str] | None = None,
    *,
    reasons: dict[str, str] | None = None,
    outcome_labels: dict[str, str] | None = None,
    title: str | None = None,
    level: float = 0.95,
) -> ggplot:
    """Summary per condition (diamond for k ≥ 2, square for a single study) and "no data".

    Parameters
    ----------
    pooled : DataFrame
        ``pooled.csv``.
    conditions : list of str, optional
        Every condition of the review; those without a pooled row are drawn as "no data".
    reasons : dict, optional
        condition → short reason shown for conditions without data.
    outcome_labels : dict, optional
        (condition, outcome) or outcome slug → display label.
    level : float
        The configured confidence level: names the CI column when no condition has a pooled
        row (the rows' own levels do otherwise).
    """
    reasons = reasons or {}
    outcome_labels = outcome_labels or {}
    main = main_analyses(pooled)
    all_conditions = sorted(set(conditions or []) | set(main["condition"].astype(str)))
    missing = [c for c in all_conditions if c not in set(main["condition"].astype(str))]

    main = main.assign(
        _above=[
            experimental_favoured_above(m, h)
            for m, h in zip(main["measure"], main.get("higher_is_better", False), strict=True)
        ],
    )
    # Mean differences are in the outcome's own units: one block per outcome.
    main["_outcome"] = [
        label_of(outcome_labels, c, o) if str(m) == "MD" else ""
        for c, o, m in zip(main["condition"], main["outcome"], main["measure"], strict=True)
    ]
    blocks = []
    for (measure, above, outcome), part in main.groupby(
        ["measure", "_above", "_outcome"], sort=True
    ):
        heading = block_heading(str(measure), bool(above), str(outcome))
        blocks.append((str(measure), bool(above), heading, part.sort_values("condition")))

    ci_name = ci_heading(main.get("level", []), default=level)
    columns = [
        Column("label", "Condition", max_in=1.9),
        Column("outcome", "Outcome", max_in=2.4),
        Column("time", "Time"),
        Column("k", "k", "right"),
        Column("effect", f"Estimate [{ci_name}]"),
    ]
    body_rows, row = [], 0.0
    layout = []  # (measure, above, first_row, last_row)
    for measure, above, heading, part in blocks:
        body_rows.append(dict(row=row, label=heading, bold=True, span=True))
        first = row + 1
        for _, r in part.iterrows():
            row += 1
            k = int(r["k"])
            outcome = str(r["outcome"])
            body_rows.append(
                dict(
                    row=row,
                    label=humanize(r["condition"]),
                    outcome=label_of(outcome_labels, r["condition"], outcome),
                    time=fmt_weeks(r["timepoint_weeks"]),
                    k=str(k),
                    effect=fmt_effect(r["estimate"], r["ci_low"], r["ci_high"], measure, MINUS)
                    + ("" if k >= 2 else "  (single study)"),
                    est=r["estimate"],
                    lo=r["ci_low"],
                    hi=r["ci_high"],
                    kk=k,
                    condition=r["condition"],
                )
            )
        layout.append((measure, above, first, row))
        row += 1 + BLOCK_AXIS_ROWS
    if missing:
        body_rows.append(dict(row=row, label="No poolable evidence", bold=True))
        missing_first = row + 1
        for condition in missing:
            row += 1
            body_rows.append(
                dict(
                    row=row,
                    label=humanize(condition),
                    k="0",
                    effect="no data",
                    outcome=reasons.get(condition, ""),
                    muted=True,
                    condition=condition,
                )
            )
        row += 1
    body = pd.DataFrame(body_rows)
    for col in ("bold", "muted"):
        body[col] = body.get(col, pd.Series(False, index=body.index)).fillna(False).astype(bool)

    first_measure = blocks[0][0] if blocks else "MD"
    dummy = choose_axis([1.0], [], first_measure, "", "", header=("Summary", f"with {ci_name}"))
    tp = TablePlot(columns=columns, axis=dummy, title=title or current_labels().overview_title)
    tp.fit_columns(body)
    tp.header()
    tp.cells(body)
    for measure, above, first, last in layout:
        part = body[(body["row"] >= first) & (body["row"] <= last)]
        left, right = favours_labels(measure, above)
        core = list(part["est"])
        spread = list(part["lo"]) + list(part["hi"])
        tp.axis = choose_axis(core, spread, measure, left, right, dummy.header)
        null_x = tp.effect_x(0.0)
        y_axis = BODY_Y + last + 0.75
        tp.segment("null", null_x, BODY_Y + first - 0.6, null_x, y_axis)
        for _, r in part.iterrows():
            y = BODY_Y + r["row"]
            if int(r["kk"]) >= 2:
                tp.diamond(y, r["est"], r["lo"], r["hi"])
            else:
                tp.interval(y, r["lo"], r["hi"])
                tp.square(y, r["est"], 1.0, 1.0)
        tp.effect_axis(y_axis)
    if missing:
        centre = tp.plot_x0 + tp.plot_in / 2
        for i in range(len(missing)):
            tp.text(centre, BODY_Y + missing_first + i, "no data", ha="center", color=NO_DATA)
    tp.text(
        0.15,
        BODY_Y + row + 0.3,
        "Diamonds: random-effects summary (k ≥ 2); squares: a single study, not pooled. "
        "Each block has its own axis.",
        color=MUTED,
    )
    data = body[body["condition"].notna()].reset_index(drop=True) if len(body) else body
    return tp.build(data, BODY_Y + row + 1.3)
