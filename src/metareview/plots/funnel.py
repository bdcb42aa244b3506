"""Contour-enhanced funnel plot (Peters et al. 2008) of one analysis with k ≥ 3 studies."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from plotnine import (
    aes,
    geom_point,
    geom_polygon,
    geom_vline,
    ggplot,
    labs,
    scale_fill_manual,
    scale_x_continuous,
    scale_x_log10,
    scale_y_reverse,
)
from scipy import stats

from metareview.plots.breaks import LOG_EDGE, beyond_log_edge, linear_breaks, log_breaks
from metareview.plots.forest import default_title
from metareview.plots.format import (
    MEASURE_NAMES,
    as_bool,
    fmt_effect,
    fmt_p,
    is_missing,
    is_ratio,
    tick_label,
    wrap_title,
)
from metareview.plots.theme import CONTOUR_FILLS, INK, MUTED, THEME

#: Two-sided significance levels whose contours are drawn, outermost first.
CONTOUR_LEVELS = (0.01, 0.05, 0.10)
REGION_ORDER = ["p > 0.10", "0.05 < p < 0.10", "0.01 < p < 0.05", "p < 0.01"]


def contour_polygons(se_max: float, x_half: float) -> pd.DataFrame:
    """Shaded regions on the analysis scale: the triangle |y| < z(α/2)·SE for each α."""
    names = {0.01: "0.01 < p < 0.05", 0.05: "0.05 < p < 0.10", 0.10: "p > 0.10"}
    rows = [
        dict(region="p < 0.01", layer=0, x=x, y=y)
        for x, y in ((-x_half, 0), (x_half, 0), (x_half, se_max), (-x_half, se_max))
    ]
    for layer, alpha in enumerate(CONTOUR_LEVELS, start=1):
        z = float(stats.norm.ppf(1 - alpha / 2))
        tri = ((0.0, 0.0), (z * se_max, se_max), (-z * se_max, se_max))
        rows += [dict(region=names[alpha], layer=layer, x=x, y=y) for x, y in tri]
    return pd.DataFrame(rows)


def funnel_plot(
    studies: pd.DataFrame,
    pooled_row,
    *,
    filled: pd.DataFrame | None = None,
    small_study=None,
    title: str | None = None,
):
    """Contour-enhanced funnel plot: study effect against its standard error.

    Parameters
    ----------
    studies : DataFrame
        Included rows of the analysis (``yi``, ``sei`` or ``vi``), analysis scale.
    pooled_row : Series or dict
        The analysis' ``pooled.csv`` row; its random-effects estimate is drawn dashed.
    filled : DataFrame, optional
        Studies imputed by trim-and-fill (``yi``, ``sei``), drawn as open circles.
    small_study : Series or dict, optional
        The analysis' ``small_study.csv`` row, summarised in the subtitle.

    The shaded contours are centred on the null (0 on the analysis scale, 1 for ratios): a
    study in a grey band would, on its own, be significant at that level.
    """
    pooled = dict(pooled_row)
    measure = str(pooled["measure"])
    df = studies.copy()
    if "included" in df:
        df = df[df["included"].map(as_bool)]
    if "sei" not in df or df["sei"].isna().any():
        df["sei"] = np.sqrt(df["vi"].astype(float))
    df["kind"] = "Study"
    points = df[["yi", "sei", "kind"]].astype({"yi": float, "sei": float})
    if filled is not None and len(filled):
        imputed = filled.copy()
        if "sei" not in imputed:
            imputed["sei"] = np.sqrt(imputed["vi"].astype(float))
        imputed["kind"] = "Imputed by trim-and-fill"
        points = pd.concat([points, imputed[["yi", "sei", "kind"]]], ignore_index=True)
    se_max = float(points["sei"].max()) * 1.1
    reach = max(float(points["yi"].abs().max()), 2.576 * se_max) * 1.08
    ratio = is_ratio(measure)
    reach = min(reach, LOG_EDGE) if ratio else reach
    regions = contour_polygons(se_max, reach)
    conv = np.exp if ratio else (lambda v: v)
    regions = regions.assign(x=conv(regions["x"]))
    est = float(pooled["estimate"])
    imputed_any = bool((points["kind"] != "Study").any())
    # exp() overflows past e^709: a ratio beyond the axis' reach is counted, not drawn
    off_axis = points["yi"].abs() > LOG_EDGE if ratio else pd.Series(False, index=points.index)
    points = points[~off_axis]
    points = points.assign(x=conv(points["yi"]))
    draw_estimate = not (ratio and abs(est) > LOG_EDGE)

    subtitle = [
        f"k = {int(pooled['k'])}; random-effects estimate "
        f"{'(dashed line) ' if draw_estimate else ''}"
        f"{fmt_effect(est, pooled['ci_low'], pooled['ci_high'], measure)}"
    ]
    beyond = []
    if off_axis.any():
        beyond.append(beyond_log_edge(int(off_axis.sum()), "point"))
    if not draw_estimate:
        beyond.append("the estimate lies outside the axis")
    if beyond:
        subtitle.append("; ".join(beyond))
    tests = []
    if small_study is not None:
        ss = dict(small_study)
        if not is_missing(ss.get("egger_p")):
            tests.append(f"Egger's test {fmt_p(ss['egger_p'])}")
        k0 = ss.get("trimfill_k0")
        if not is_missing(k0):
            tests.append(f"trim-and-fill adds {int(k0)} stud{'y' if int(k0) == 1 else 'ies'}")
    if tests:
        subtitle.append("; ".join(tests))
    name = MEASURE_NAMES.get(measure, measure)
    p = (
        ggplot(points, aes("x", "sei"))
        + geom_polygon(
            aes("x", "y", fill="region", group="layer"), data=regions, color="#9e9e9e", size=0.25
        )
        + geom_vline(xintercept=conv(0.0), color=INK, size=0.5)
        + (
            [geom_vline(xintercept=conv(est), color=MUTED, size=0.5, linetype="dashed")]
            if draw_estimate
            else []
        )
        + geom_point(
            data=points[points["kind"] != "Study"],
            fill="white",
            color=INK,
            size=2.2,
            stroke=0.6,
            shape="o",
        )
        + geom_point(
            data=points[points["kind"] == "Study"], fill=INK, color=INK, size=2.2, shape="o"
        )
        + scale_fill_manual(values=CONTOUR_FILLS, breaks=REGION_ORDER, name="Study alone")
        + scale_y_reverse(
            limits=(se_max, 0), breaks=linear_breaks(0, se_max), minor_breaks=[], expand=(0, 0)
        )
        + labs(
            x=f"{name}{' (log scale)' if ratio else ''}",
            y="Standard error",
            title=wrap_title(title or f"Funnel plot · {default_title(pooled)}", 64),
            subtitle="\n".join(subtitle),
            caption="Shading around the null shows where a study on its own would be significant."
            + ("\nOpen circles: studies imputed by trim-and-fill." if imputed_any else ""),
        )
        + THEME
    )
    limits = (conv(-reach), conv(reach))
    if ratio:
        breaks = log_breaks(*limits)
        p += scale_x_log10(
            limits=limits,
            breaks=breaks,
            minor_breaks=[],
            labels=[tick_label(math.log(b), measure) for b in breaks],
            expand=(0, 0),
        )
    else:
        p += scale_x_continuous(
            limits=limits,
            breaks=linear_breaks(*limits),
            minor_breaks=[],
            expand=(0, 0),
            labels=lambda xs: [tick_label(x, measure) for x in xs],
        )
    return p
