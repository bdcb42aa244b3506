"""GOSH plot: I² against the pooled estimate of every fitted subset of one analysis."""

from __future__ import annotations

import math

import pandas as pd
from plotnine import (
    aes,
    geom_point,
    geom_vline,
    ggplot,
    labs,
    scale_x_continuous,
    scale_x_log10,
)

from metareview.plots.format import MEASURE_NAMES, is_ratio, tick_label
from metareview.plots.theme import INK, STUDY, THEME

#: GOSH plots are drawn for analyses with at least this many studies.
GOSH_MIN_K = 6


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
    df = subsets.assign(x=subsets["estimate"].map(math.exp) if ratio else subsets["estimate"])
    k = int(df["k"].max())
    n = len(df)
    every = n == 2**k - 1
    p = (
        ggplot(df, aes("x", "i2"))
        + geom_point(color=STUDY, alpha=min(0.6, max(0.05, 200 / n)), size=0.8, stroke=0)
        + labs(
            x=f"{MEASURE_NAMES.get(measure, measure)}{' (log scale)' if ratio else ''}",
            y="I² (%)",
            title=title or "GOSH plot",
            subtitle=(
                f"{'all' if every else 'a random sample of'} {n:,} subsets of k = {k} studies"
                "; each point is one random-effects fit"
            ),
        )
        + THEME
    )
    if pooled is not None:
        p += geom_vline(xintercept=math.exp(pooled) if ratio else pooled, color=INK, size=0.5)
    if ratio:
        p += scale_x_log10(labels=lambda xs: [tick_label(math.log(x), measure) for x in xs])
    else:
        p += scale_x_continuous(labels=lambda xs: [tick_label(x, measure) for x in xs])
    return p
