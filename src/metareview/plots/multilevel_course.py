"""Fitted time course of a three-level model over the study estimates at each timepoint.

One figure per condition × outcome × measure with a ``time`` model in ``multilevel.csv``: every
study's effect at every timepoint (grey, a study's points joined), the model's fitted curve
(``multilevel_timecourse.csv``, ``kind = curve``) with its model-based confidence band (blue) and
the CR2 cluster-robust band (dashed), and the estimates at the chosen times inside the observed
range (diamonds). Same pseudo-log time axis as :mod:`metareview.plots.timecourse`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from mizani.transforms import pseudo_log_trans
from plotnine import (
    aes,
    geom_hline,
    geom_line,
    geom_linerange,
    geom_point,
    geom_ribbon,
    ggplot,
    labs,
    scale_x_continuous,
    scale_y_continuous,
    scale_y_log10,
)

from metareview.plots.breaks import finite, linear_breaks, log_breaks, span_of
from metareview.plots.format import (
    MEASURE_NAMES,
    ci_heading,
    experimental_favoured_above,
    humanize,
    is_ratio,
    tick_label,
    wrap_title,
)
from metareview.plots.theme import INK, MUTED, NO_DATA, POOLED, STUDY, THEME
from metareview.plots.timecourse import (
    TIME_BREAKS,
    TIME_LABELS,
    TIME_SIGMA_WEEKS,
    drawn_natural,
)
from metareview.review_labels import current_labels


def multilevel_course_name(condition: str, outcome: str, measure: str) -> str:
    """File name in ``results/figures/``."""
    return f"multilevel_{condition}--{outcome}--{measure}.svg"


def y_breaks(values, ratio: bool) -> list[float]:
    """Our breaks for the y axis over every drawn value (never mizani's defaults, which fail
    on degenerate ranges)."""
    drawn = finite(values)
    if ratio:
        positive = [v for v in drawn if v > 0] or [1.0]
        return log_breaks(min(positive), max(positive))
    return linear_breaks(*span_of(drawn))


def multilevel_course_plot(
    effects: pd.DataFrame, course: pd.DataFrame, *, title: str | None = None
):
    """The fitted curve and bands over the study points of one condition × outcome × measure.

    Parameters
    ----------
    effects
        Included ``effect_sizes.csv`` rows of the series (``study_id, timepoint_weeks, yi``).
    course
        Its ``multilevel_timecourse.csv`` rows (``kind`` curve and chosen).
    """
    measure = str(course["measure"].iloc[0])
    ratio = is_ratio(measure)
    points = effects.assign(
        x=effects["timepoint_weeks"].astype(float), y=drawn_natural(effects["yi"], ratio)
    )
    curve = course[course["kind"] == "curve"].assign(
        x=lambda d: d["weeks"].astype(float),
        y=lambda d: drawn_natural(d["estimate"], ratio),
        lo=lambda d: drawn_natural(d["ci_low"], ratio),
        hi=lambda d: drawn_natural(d["ci_high"], ratio),
        rlo=lambda d: drawn_natural(d["robust_ci_low"], ratio),
        rhi=lambda d: drawn_natural(d["robust_ci_high"], ratio),
    )
    x_lo, x_hi = float(curve["x"].min()), float(curve["x"].max())
    chosen = course[course["kind"] == "chosen"].assign(
        x=lambda d: d["weeks"].astype(float),
        y=lambda d: drawn_natural(d["estimate"], ratio),
        lo=lambda d: drawn_natural(d["ci_low"], ratio),
        hi=lambda d: drawn_natural(d["ci_high"], ratio),
    )
    chosen = chosen[(chosen["x"] >= x_lo) & (chosen["x"] <= x_hi)]
    x_max = max(float(points["x"].max()), x_hi)
    breaks = [(b, lab) for b, lab in TIME_BREAKS if b <= x_max * 1.2]
    favoured_above = experimental_favoured_above(
        measure,
        effects["higher_is_better"].iloc[0] if "higher_is_better" in effects else False,
    )
    moderator = str(course["time_moderator"].iloc[0])
    shape = "log(weeks)" if moderator == "log_weeks" else "weeks"
    has_robust = curve["rlo"].notna().any()
    ci = ci_heading(course.get("level", []))
    subtitle = (
        f"Three-level model, linear in {shape}: fit (line), {ci} (band)"
        f"{',' if has_robust else '.'}\n"
        f"{'CR2 cluster-robust CI (dashed); ' if has_robust else ''}grey: each study per "
        f"timepoint.\n{current_labels().experimental_heading} is favoured "
        f"{'above' if favoured_above else 'below'} the line "
        f"at {tick_label(0.0, measure)}."
    )
    condition, outcome = str(course["condition"].iloc[0]), str(course["outcome"].iloc[0])
    null = float(drawn_natural(pd.Series([0.0]), ratio).iloc[0])
    p = (
        ggplot(points, aes("x", "y"))
        + geom_hline(yintercept=null, color=INK)
        + geom_ribbon(aes(ymin="lo", ymax="hi"), data=curve, fill=STUDY, alpha=0.18)
        + geom_line(aes(group="study_id"), color=NO_DATA, size=0.4)
        + geom_point(color=MUTED, fill=NO_DATA, size=1.8, alpha=0.9)
        + geom_line(data=curve, color=STUDY, size=1.0)
        + geom_linerange(aes(ymin="lo", ymax="hi"), data=chosen, color=POOLED, size=0.8)
        + geom_point(data=chosen, shape="D", color=POOLED, fill="white", size=3)
        + scale_x_continuous(
            trans=pseudo_log_trans(sigma=TIME_SIGMA_WEEKS, base=10),
            breaks=[b for b, _ in breaks],
            minor_breaks=[],
            labels=lambda xs: [TIME_LABELS.get(round(float(x), 9), "") for x in xs],
            expand=(0.06, 0),
        )
        + labs(
            x="Follow-up (pseudo-log time axis)",
            y=f"{MEASURE_NAMES.get(measure, measure)}{' (log scale)' if ratio else ''}",
            title=wrap_title(
                title or f"{humanize(condition)} · {humanize(outcome)}: fitted time course", 64
            ),
            subtitle=subtitle,
        )
        + THEME
    )
    if has_robust:
        p += geom_line(aes(y="rlo"), data=curve, color=STUDY, linetype="dashed", size=0.5)
        p += geom_line(aes(y="rhi"), data=curve, color=STUDY, linetype="dashed", size=0.5)
    drawn = [null, *points["y"], *chosen["lo"], *chosen["hi"]]
    drawn += [v for c in ("y", "lo", "hi", "rlo", "rhi") for v in curve[c]]
    ticks = y_breaks(drawn, ratio)
    if ratio:
        p += scale_y_log10(
            breaks=ticks,
            minor_breaks=[],
            labels=lambda ys: [tick_label(float(np.log(y)), measure) for y in ys],
        )
    else:
        p += scale_y_continuous(
            breaks=ticks, minor_breaks=[], labels=lambda ys: [tick_label(y, measure) for y in ys]
        )
    return p


def multilevel_figures(
    effects: pd.DataFrame, course: pd.DataFrame
) -> Iterator[tuple[str, object]]:
    """(file name, plot) for every series with a fitted time model."""
    if course.empty or effects.empty:
        return
    flag = effects["included"]
    if flag.dtype != bool:
        flag = flag.astype(str).str.lower().isin(["true", "1"])
    included = effects[flag]
    keys = ["condition", "outcome", "measure"]
    for (condition, outcome, measure), part in course.groupby(keys, sort=True):
        rows = included[
            (included["condition"] == condition)
            & (included["outcome"] == outcome)
            & (included["measure"] == measure)
        ]
        if rows.empty:
            continue
        yield (
            multilevel_course_name(str(condition), str(outcome), str(measure)),
            multilevel_course_plot(rows, part),
        )
