"""Pooled effect against follow-up time, for an outcome measured at two or more timepoints."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from mizani.transforms import pseudo_log_trans
from plotnine import (
    aes,
    coord_cartesian,
    geom_hline,
    geom_label,
    geom_linerange,
    geom_point,
    ggplot,
    labs,
    scale_shape_manual,
    scale_x_continuous,
    scale_y_continuous,
    scale_y_log10,
)

from metareview.plots.breaks import linear_breaks, log_breaks, span_of
from metareview.plots.format import (
    MEASURE_NAMES,
    experimental_favoured_above,
    humanize,
    is_ratio,
    level_percent,
    tick_label,
    wrap_title,
)
from metareview.plots.theme import FONT, INK, MUTED, PI, STUDY, TEXT_PT, THEME
from metareview.review_labels import current_labels

#: Pseudo-log x axis: about linear below a day, logarithmic beyond; 0 stays 0.
TIME_SIGMA_WEEKS = 1 / 168  # one hour
TIME_BREAKS = (
    (0.0, "0"),
    (1 / 168, "1 h"),
    (1 / 7, "1 day"),
    (1.0, "1 wk"),
    (4.0, "4 wk"),
    (12.0, "12 wk"),
    (26.0, "26 wk"),
    (52.0, "1 yr"),
    (520.0, "10 yr"),
    (5200.0, "100 yr"),
)


def timecourse_series(pooled: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(condition, outcome, measure) with pooled results at ≥ 2 timepoints, sorted."""
    keys = ["condition", "outcome", "measure"]
    counts = pooled.groupby(keys, sort=True)["timepoint_weeks"].nunique()
    return [tuple(map(str, key)) for key, n in counts.items() if n >= 2]


TITLE_WRAP = 64
TIME_LABELS = {round(b, 9): label for b, label in TIME_BREAKS}


#: The widest log-scale range drawn on a ratio axis: 1e-6 to 1e6 (CIs beyond are cut there).
LOG_LIMIT = math.log(1e6)


def drawn_natural(values, ratio: bool) -> pd.Series:
    """Values to draw, on the natural scale: a log ratio is cut at ±2·LOG_LIMIT first, well
    beyond any view (exp() overflows past e^709); coord_cartesian or the axis hides the rest."""
    values = pd.to_numeric(values, errors="coerce").astype(float)
    return np.exp(values.clip(-2 * LOG_LIMIT, 2 * LOG_LIMIT)) if ratio else values


def y_view(df: pd.DataFrame, pis: pd.DataFrame) -> tuple[float, float]:
    """Visible y range on the analysis scale: all CIs and the null, PIs up to a limit."""
    lo = min(float(df["_lo"].min()), 0.0)
    hi = max(float(df["_hi"].max()), 0.0)
    span = hi - lo if hi > lo else 1.0
    if len(pis):
        lo = max(min(lo, float(pis["_pi_lo"].min())), lo - 0.6 * span)
        hi = min(max(hi, float(pis["_pi_hi"].max())), hi + 0.6 * span)
    lo, hi = span_of([lo, hi])
    pad = 0.12 * (hi - lo)
    return lo - pad, hi + 2 * pad


def ratio_breaks(lo: float, hi: float) -> list[float]:
    """Natural-scale ticks for a log axis spanning [lo, hi] (log scale)."""
    return log_breaks(math.exp(max(lo, -LOG_LIMIT)), math.exp(min(hi, LOG_LIMIT)))


def timecourse_plot(pooled_rows: pd.DataFrame, *, title: str | None = None):
    """Pooled estimate with its CI (thick) and PI (thin, red) at each follow-up time.

    Parameters
    ----------
    pooled_rows : DataFrame
        ``pooled.csv`` rows of one condition × outcome × measure (≥ 2 timepoints).
    """
    df = pooled_rows.sort_values("timepoint_weeks", kind="mergesort").reset_index(drop=True)
    measures = sorted(df["measure"].astype(str).unique())
    if len(measures) != 1:
        raise ValueError(f"one measure per time course, got {measures}")
    measure = measures[0]
    ratio = is_ratio(measure)
    conv = np.exp if ratio else (lambda v: v)
    df = df.assign(
        x=df["timepoint_weeks"].astype(float),
        _lo=df["ci_low"].astype(float),
        _hi=df["ci_high"].astype(float),
        _pi_lo=pd.to_numeric(df["pi_low"], errors="coerce"),
        _pi_hi=pd.to_numeric(df["pi_high"], errors="coerce"),
        k_label=[f"k = {int(k)}" for k in df["k"]],
        pooled=["pooled" if int(k) >= 2 else "single study" for k in df["k"]],
    )
    view = y_view(df, df.dropna(subset=["_pi_lo", "_pi_hi"]))
    if ratio:  # a ratio axis spans at most 1e-6 to 1e6 (exp() overflows beyond e^709)
        view = (max(view[0], -LOG_LIMIT), min(view[1], LOG_LIMIT))

    df = df.assign(**{
        name: drawn_natural(df[column], ratio)
        for name, column in (("y", "estimate"), ("lo", "_lo"), ("hi", "_hi"),
                             ("pi_lo", "_pi_lo"), ("pi_hi", "_pi_hi"))
    })  # fmt: skip
    pis = df.dropna(subset=["pi_lo", "pi_hi"])
    x_max = float(df["x"].max())
    breaks = [(b, lab) for b, lab in TIME_BREAKS if b <= x_max * 1.2]
    favoured_above = experimental_favoured_above(
        measure, df["higher_is_better"].iloc[0] if "higher_is_better" in df else False
    )
    direction = "above" if favoured_above else "below"
    null = conv(0.0)
    y_text = float(conv(view[1]))

    def beyond(low: str, high: str) -> bool:
        return bool((df[low] < view[0]).any() or (df[high] > view[1]).any())

    cut = ", cut at the edge"
    ci_note = cut if beyond("_lo", "_hi") else ""
    clipped = bool(len(pis)) and beyond("_pi_lo", "_pi_hi")
    level = level_percent(df["level"].iloc[0])
    what = "Pooled estimate" if (df["k"].astype(int) >= 2).any() else "Single-study estimate"
    pi_note = ""
    if len(pis):
        pi_note = f" and prediction interval (red{cut if clipped else ''})"
    subtitle = (
        f"{what} with its {level}% CI (blue{ci_note}){pi_note}.\n"
        f"{current_labels().experimental_heading} is favoured {direction} "
        f"the line at {tick_label(0.0, measure)}."
    )
    condition, outcome = str(df["condition"].iloc[0]), str(df["outcome"].iloc[0])
    p = (
        ggplot(df, aes("x", "y"))
        + geom_hline(yintercept=null, color=INK, size=0.45)
        + geom_linerange(aes(ymin="pi_lo", ymax="pi_hi"), data=pis, color=PI, size=0.6)
        + geom_linerange(aes(ymin="lo", ymax="hi"), color=STUDY, size=1.6)
        + geom_point(aes(shape="pooled"), color=STUDY, fill="white", size=3, stroke=0.8)
        + geom_label(
            aes(y=y_text, label="k_label"),
            size=TEXT_PT - 1,
            color=MUTED,
            family=FONT,
            va="top",
            fill="white",
            label_size=0,
            label_padding=0.15,
        )
        + scale_x_continuous(
            trans=pseudo_log_trans(sigma=TIME_SIGMA_WEEKS, base=10),
            breaks=[b for b, _ in breaks],
            minor_breaks=[],
            labels=lambda xs: [TIME_LABELS.get(round(float(x), 9), "") for x in xs],
            expand=(0.06, 0),
        )
        + scale_shape_manual(
            values={"pooled": "D", "single study": "s"},
            labels={"pooled": "Pooled (k ≥ 2)", "single study": "Single study (k = 1)"},
        )
        + coord_cartesian(ylim=(float(conv(view[0])), float(conv(view[1]))))
        + labs(
            x="Follow-up (pseudo-log time axis)",
            y=f"{MEASURE_NAMES.get(measure, measure)}{' (log scale)' if ratio else ''}",
            title=wrap_title(
                title or f"{humanize(condition)} · {humanize(outcome)} over time", TITLE_WRAP
            ),
            subtitle=subtitle,
            shape="",
        )
        + THEME
    )
    if ratio:
        ticks = ratio_breaks(view[0], view[1])
        p += scale_y_log10(
            breaks=ticks,
            minor_breaks=[],
            labels=lambda ys: [tick_label(math.log(y), measure) for y in ys],
        )
    else:
        p += scale_y_continuous(
            breaks=linear_breaks(view[0], view[1]),
            minor_breaks=[],
            labels=lambda ys: [tick_label(y, measure) for y in ys],
        )
    return p
