"""GOSH plot: I² against the pooled estimate of every fitted subset of one analysis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from plotnine import (
    aes,
    geom_point,
    geom_vline,
    ggplot,
    labs,
    scale_x_continuous,
    scale_x_log10,
    scale_y_continuous,
)

from metareview.plots.breaks import (
    LOG_EDGE,
    beyond_log_edge,
    linear_breaks,
    log_breaks,
    log_limits,
    not_drawn,
    span_of,
)
from metareview.plots.format import MEASURE_NAMES, fmt_num, is_missing, is_ratio, tick_label
from metareview.plots.theme import INK, STUDY, THEME

#: GOSH plots are drawn for analyses with at least this many studies.
GOSH_MIN_K = 6
I2_BREAKS = [0, 25, 50, 75, 100]


def gosh_name(analysis_id: str) -> str:
    """File name of the GOSH plot of an analysis in ``results/figures/``."""
    return f"gosh_{analysis_id}.svg"


def gosh_plot(subsets: pd.DataFrame, measure: str, *, pooled=None, title: str | None = None):
    """Scatter of I² (y) against the random-effects estimate (x), one point per subset.

    Parameters
    ----------
    subsets : DataFrame
        Rows of ``results/gosh.csv`` for one analysis (``estimate``, ``i2``, ``k``).
    measure : str
        Effect measure (ratio measures are drawn on a log axis, labelled in natural units).
    pooled : float, optional
        The estimate of all studies, drawn as a vertical line.
    """
    ratio = is_ratio(measure)
    estimates = pd.to_numeric(subsets["estimate"], errors="coerce").astype(float)
    i2 = pd.to_numeric(subsets["i2"], errors="coerce").astype(float)
    fitted = np.isfinite(estimates) & np.isfinite(i2)
    drawable = fitted & ((estimates.abs() <= LOG_EDGE) if ratio else True)
    df = subsets.loc[drawable].assign(
        x=np.exp(estimates[drawable]) if ratio else estimates[drawable]
    )
    k = int(subsets["k"].max())
    n = len(subsets)
    every = n == 2**k - 1
    subtitle = (
        f"{'all' if every else 'a random sample of'} {n:,} subsets of k = {k} studies"
        "; each point is one random-effects fit"
    )
    unfitted = int((~fitted).sum())
    if unfitted:
        subtitle += f"\n{not_drawn(unfitted, 'subset', 'without a fit')}"
    off = int((fitted & ~drawable).sum())
    if off:
        subtitle += f"\n{beyond_log_edge(off, 'subset')}"
    line = None if pooled is None or is_missing(pooled) else float(pooled)
    if line is not None and ratio and abs(line) > LOG_EDGE:
        subtitle += (
            f"\nthe all-studies estimate (log {measure} {fmt_num(line)}) lies outside the axis"
        )
        line = None
    shown = list(estimates[drawable]) + ([] if line is None else [line])
    p = (
        ggplot(df, aes("x", "i2"))
        + geom_point(color=STUDY, alpha=min(0.6, max(0.05, 200 / max(n, 1))), size=0.8, stroke=0)
        + labs(
            x=f"{MEASURE_NAMES.get(measure, measure)}{' (log scale)' if ratio else ''}",
            y="I² (%)",
            title=title or "GOSH plot",
            subtitle=subtitle,
        )
        + scale_y_continuous(limits=(0, 100), breaks=I2_BREAKS, minor_breaks=[])
        + THEME
    )
    if line is not None:
        p += geom_vline(xintercept=math.exp(line) if ratio else line, color=INK, size=0.5)
    if ratio:
        limits = log_limits(np.exp(shown), pad=0.04)
        breaks = log_breaks(*limits)
        labels = [tick_label(math.log(b), measure) for b in breaks]
        p += scale_x_log10(limits=limits, breaks=breaks, minor_breaks=[], labels=labels)
    else:
        lo, hi = span_of(shown)
        lo, hi = lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo)
        breaks = linear_breaks(lo, hi)
        labels = [tick_label(b, measure) for b in breaks]
        p += scale_x_continuous(limits=(lo, hi), breaks=breaks, minor_breaks=[], labels=labels)
    return p
