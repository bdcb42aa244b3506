"""Small table-style forests for subgroups and leave-one-out, in the forest plot's style."""

from __future__ import annotations

import pandas as pd
from plotnine import ggplot

from metareview.plots.forest import default_title, favours_labels
from metareview.plots.format import (
    MEASURE_NAMES,
    MINUS,
    column_label,
    fmt_effect,
    fmt_num,
    fmt_p,
    fmt_p_value,
    fmt_pct,
    is_missing,
    level_percent,
)
from metareview.plots.layout import BODY_Y, MARGIN_IN, Column, TablePlot, choose_axis
from metareview.plots.theme import INK

NOTE_GAP = 0.6


def _tau2(value) -> str:
    if is_missing(value):
        return ""
    return fmt_num(value, 2 if float(value) >= 0.01 else 4, MINUS)


def _finish(tp: TablePlot, data: pd.DataFrame, last_row: float, notes: list[str]) -> ggplot:
    y_axis = BODY_Y + last_row + 0.75
    tp.effect_axis(y_axis)
    first = y_axis + 2.7
    for i, note in enumerate(notes):
        tp.text(MARGIN_IN, first + i, note, color=INK)
    return tp.build(data, first + len(notes) + 0.3)


def subgroup_forest_plot(
    subgroup_rows: pd.DataFrame, pooled_row, test_row=None, *, title: str | None = None
) -> ggplot:
    """Each level of one subgroup variable pooled on its own, and the overall result.

    Parameters
    ----------
    subgroup_rows : DataFrame
        ``subgroups.csv`` rows of one analysis × subgroup column.
    pooled_row : Series or dict
        The analysis' ``pooled.csv`` row (the overall diamond).
    test_row : Series or dict, optional
        The matching ``subgroup_tests.csv`` row.
    """
    pooled = dict(pooled_row)
    measure = str(pooled["measure"])
    level_pct = level_percent(pooled.get("level"))
    df = subgroup_rows.sort_values("level", kind="mergesort").reset_index(drop=True)
    subgroup = str(df["subgroup"].iloc[0]) if "subgroup" in df and len(df) else "subgroup"
    df["row"] = range(len(df))
    body = pd.DataFrame(
        {
            "row": df["row"].astype(float),
            "label": [str(v) for v in df["level"]],
            "k": [str(int(k)) for k in df["k"]],
            "effect": [
                fmt_effect(e, lo, hi, measure, MINUS)
                for e, lo, hi in zip(df["estimate"], df["ci_low"], df["ci_high"], strict=True)
            ],
            "tau2": [_tau2(t) for t in df.get("tau2", [None] * len(df))],
            "i2": [fmt_pct(v) for v in df.get("i2", [None] * len(df))],
        }
    )
    total_row = len(df) + 0.5
    body = pd.concat(
        [
            body,
            pd.DataFrame(
                [
                    dict(
                        row=total_row,
                        label="All studies",
                        k=str(int(pooled["k"])),
                        bold=True,
                        effect=fmt_effect(
                            pooled["estimate"], pooled["ci_low"], pooled["ci_high"], measure, MINUS
                        ),
                        tau2=_tau2(pooled.get("tau2")),
                        i2=fmt_pct(pooled.get("i2")),
                    )
                ]
            ),
        ],
        ignore_index=True,
    )
    body["bold"] = body.get("bold", False)
    body["bold"] = body["bold"].fillna(False).astype(bool)
    name = MEASURE_NAMES.get(measure, measure)
    columns = [
        Column("label", column_label(subgroup), max_in=2.2),
        Column("k", "k", "right"),
        Column("effect", f"{name} [{level_pct}% CI]"),
        Column("tau2", "τ²", "right"),
        Column("i2", "I²", "right"),
    ]
    left, right = favours_labels(measure, pooled.get("higher_is_better", False))
    core = [pooled["ci_low"], pooled["ci_high"]]
    spread = list(df["ci_low"]) + list(df["ci_high"])
    axis = choose_axis(core, spread, measure, left, right, header=(name, "Random effects"))
    tp = TablePlot(
        columns=columns,
        axis=axis,
        title=title or f"{default_title(pooled)} · by {column_label(subgroup).lower()}",
    )
    tp.fit_columns(body)
    tp.header()
    tp.cells(body)
    null_x = tp.effect_x(0.0)
    tp.segment("null", null_x, BODY_Y - 0.6, null_x, BODY_Y + total_row + 0.75)
    for _, r in df.iterrows():
        y = BODY_Y + r["row"]
        if int(r["k"]) >= 2:
            tp.diamond(y, r["estimate"], r["ci_low"], r["ci_high"], fill="#5f5f5f")
        else:
            tp.interval(y, r["ci_low"], r["ci_high"])
            tp.square(y, r["estimate"], 1.0, 1.0)
    tp.diamond(BODY_Y + total_row, pooled["estimate"], pooled["ci_low"], pooled["ci_high"])
    notes = ["Each level pooled on its own (separate τ²); k = 1 levels show the single study."]
    if test_row is not None:
        t = dict(test_row)
        notes.insert(
            0,
            f"Test for subgroup differences: Q = {fmt_num(t['q_between'], 2)}, "
            f"df = {int(t['df'])} ({fmt_p(t['p_value'])})",
        )
    return _finish(tp, df, total_row, notes)


def loo_forest_plot(
    loo_rows: pd.DataFrame,
    pooled_row,
    *,
    labels: dict[str, str] | None = None,
    order: list[str] | None = None,
    title: str | None = None,
) -> ggplot:
    """Leave-one-out: the pooled result with each study omitted in turn.

    Parameters
    ----------
    loo_rows : DataFrame
        ``leave_one_out.csv`` rows of one analysis (``omitted`` is a study id).
    labels : dict, optional
        study id → display label.
    order : list, optional
        study ids in forest-plot order (year, label); otherwise sorted by label.
    """
    pooled = dict(pooled_row)
    measure = str(pooled["measure"])
    labels = labels or {}
    df = loo_rows.copy()
    df["label"] = [labels.get(str(s), str(s)) for s in df["omitted"]]
    if order:
        rank = {sid: i for i, sid in enumerate(order)}
        df["_rank"] = [rank.get(str(s), len(rank)) for s in df["omitted"]]
        df = df.sort_values(["_rank", "label"], kind="mergesort")
    else:
        df = df.sort_values("label", kind="mergesort")
    df = df.reset_index(drop=True)
    df["row"] = range(len(df))
    name = MEASURE_NAMES.get(measure, measure)
    level_pct = level_percent(pooled.get("level"))
    body = pd.DataFrame(
        {
            "row": df["row"].astype(float),
            "label": list(df["label"]),
            "effect": [
                fmt_effect(e, lo, hi, measure, MINUS)
                for e, lo, hi in zip(df["estimate"], df["ci_low"], df["ci_high"], strict=True)
            ],
            "p": [fmt_p_value(p) for p in df.get("p_value", [None] * len(df))],
            "tau2": [_tau2(t) for t in df.get("tau2", [None] * len(df))],
            "i2": [fmt_pct(v) for v in df.get("i2", [None] * len(df))],
            "bold": False,
        }
    )
    total_row = len(df) + 0.5
    body = pd.concat(
        [
            body,
            pd.DataFrame(
                [
                    dict(
                        row=total_row,
                        label="All studies",
                        bold=True,
                        effect=fmt_effect(
                            pooled["estimate"], pooled["ci_low"], pooled["ci_high"], measure, MINUS
                        ),
                        p=fmt_p_value(pooled.get("p_value")),
                        tau2=_tau2(pooled.get("tau2")),
                        i2=fmt_pct(pooled.get("i2")),
                    )
                ]
            ),
        ],
        ignore_index=True,
    )
    columns = [
        Column("label", "Study omitted", max_in=2.6),
        Column("effect", f"{name} [{level_pct}% CI]"),
        Column("p", "P", "right"),
        Column("tau2", "τ²", "right"),
        Column("i2", "I²", "right"),
    ]
    left, right = favours_labels(measure, pooled.get("higher_is_better", False))
    core = [pooled["ci_low"], pooled["ci_high"]]
    spread = list(df["ci_low"]) + list(df["ci_high"])
    axis = choose_axis(core, spread, measure, left, right, header=(name, "Random effects"))
    tp = TablePlot(
        columns=columns, axis=axis, title=title or f"Leave-one-out · {default_title(pooled)}"
    )
    tp.fit_columns(body)
    tp.header()
    tp.cells(body)
    null_x = tp.effect_x(0.0)
    tp.segment("null", null_x, BODY_Y - 0.6, null_x, BODY_Y + total_row + 0.75)
    est = float(pooled["estimate"])
    if axis.lo <= est <= axis.hi:
        x = tp.effect_x(est)
        tp.segment("pooled", x, BODY_Y - 0.5, x, BODY_Y + total_row - 0.45)
    for _, r in df.iterrows():
        y = BODY_Y + r["row"]
        tp.interval(y, r["ci_low"], r["ci_high"])
        tp.square(y, r["estimate"], 0.5, 1.0)
    tp.diamond(BODY_Y + total_row, est, pooled["ci_low"], pooled["ci_high"])
    notes = ["Each row: the random-effects analysis without that study (same τ² estimator)."]
    return _finish(tp, df, total_row, notes)
