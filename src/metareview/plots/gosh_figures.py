"""The GOSH figures of a review: one per analysis in ``results/gosh.csv``."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from plotnine import ggplot

from metareview.plots.format import fmt_weeks, humanize
from metareview.plots.gosh import gosh_name, gosh_plot
from metareview.tables import analysis_id

KEYS = ["condition", "outcome", "timepoint_weeks", "measure"]


def gosh_figures(gosh: pd.DataFrame, pooled: pd.DataFrame) -> Iterator[tuple[str, ggplot]]:
    """Yield (file name, plot) for each analysis with GOSH subsets, in key order."""
    if gosh is None or gosh.empty:
        return
    for key, subsets in gosh.groupby(KEYS, sort=True, dropna=False):
        condition, outcome, timepoint, measure = key
        match = pooled[
            (pooled["condition"] == condition)
            & (pooled["outcome"] == outcome)
            & (pooled["timepoint_weeks"] == timepoint)
            & (pooled["measure"] == measure)
        ]
        estimate = float(match["estimate"].iloc[0]) if len(match) else None
        title = f"GOSH · {humanize(condition)} · {humanize(outcome)} · {fmt_weeks(timepoint)}"
        # pooled.csv's id: analyses whose keys collide get a suffix (metareview.analyses)
        aid = match["analysis_id"].iloc[0] if len(match) and "analysis_id" in match else None
        name = gosh_name(str(aid) if aid else analysis_id(condition, outcome, timepoint))
        yield name, gosh_plot(subsets, str(measure), pooled=estimate, title=title)
