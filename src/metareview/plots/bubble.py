"""Bubble plot of a meta-regression on one numeric moderator."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from plotnine import (
    aes,
    geom_hline,
    geom_line,
    geom_point,
    ggplot,
    labs,
    scale_size,
    scale_x_continuous,
    scale_y_continuous,
    scale_y_log10,
)

from metareview.plots.breaks import linear_breaks, log_breaks, log_limits, span_of
from metareview.plots.format import (
    MEASURE_NAMES,
    MINUS,
    as_bool,
    column_label,
    fmt_num,
    fmt_p,
    is_missing,
    is_ratio,
    tick_label,
)
from metareview.plots.theme import INK, STUDY, THEME


def bubble_plot(studies: pd.DataFrame, moderator: str, metareg_row, *, title: str | None = None):
    """Study effects against a moderator, bubbles sized by weight 1/(vi + τ²_res), fitted line.

    Parameters
    ----------
    studies : DataFrame
        Included rows of the analysis with ``yi``, ``vi`` and the moderator column.
    moderator : str
        Column name (from ``studies.csv``).
    metareg_row : Series or dict
        The ``metaregression.csv`` row (intercept, slope, slope CI and p, tau2, r2).
    """
    m = dict(metareg_row)
    measure = str(m.get("measure", studies["measure"].iloc[0] if "measure" in studies else ""))
    df = studies.copy()
    if "included" in df:
        df = df[df["included"].map(as_bool)]
    df = df.assign(mod=pd.to_numeric(df[moderator], errors="coerce")).dropna(subset=["mod"])
    tau2 = 0.0 if is_missing(m.get("tau2")) else float(m["tau2"])
    ratio = is_ratio(measure)
    conv = np.exp if ratio else (lambda v: v)
    df = df.assign(weight=1.0 / (df["vi"].astype(float) + tau2), y=conv(df["yi"].astype(float)))
    grid = np.linspace(float(df["mod"].min()), float(df["mod"].max()), 50)
    line = pd.DataFrame({"mod": grid, "y": conv(float(m["intercept"]) + float(m["slope"]) * grid)})
    slope = fmt_num(m["slope"], 3, MINUS)
    ci_low, ci_high = (fmt_num(m.get(key), 3, MINUS) for key in ("slope_ci_low", "slope_ci_high"))
    ci = f"[{ci_low}, {ci_high}]"
    r2 = "" if is_missing(m.get("r2")) else f"; R² = {float(m['r2']):.0f}%"
    scale_note = " on the log scale" if ratio else ""
    p = (
        ggplot(df, aes("mod", "y"))
        + geom_hline(yintercept=conv(0.0), color=INK, size=0.45)
        + geom_point(aes(size="weight"), color=STUDY, fill=STUDY, alpha=0.55, stroke=0.4)
        + geom_line(data=line, color=INK, size=0.7)
        + scale_size(range=(2, 9), guide=None)
        + labs(
            x=column_label(moderator),
            y=f"{MEASURE_NAMES.get(measure, measure)}{' (log scale)' if ratio else ''}",
            title=title or f"Meta-regression on {column_label(moderator).lower()}",
            subtitle=f"Slope{scale_note} {slope} {ci} per unit, {fmt_p(m.get('slope_p'))}{r2}; "
            f"k = {len(df)}; bubble area ∝ weight",
        )
        + THEME
    )
    ys = list(df["y"]) + list(line["y"]) + [conv(0.0)]
    if ratio:
        p += scale_y_log10(
            breaks=log_breaks(*log_limits(ys)),
            minor_breaks=[],
            labels=lambda ys: [tick_label(math.log(y), measure) for y in ys],
        )
    else:
        p += scale_y_continuous(
            breaks=linear_breaks(*span_of(ys)),
            minor_breaks=[],
            labels=lambda ys: [tick_label(y, measure) for y in ys],
        )
    p += scale_x_continuous(breaks=linear_breaks(*span_of(df["mod"])), minor_breaks=[])
    return p
