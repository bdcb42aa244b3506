"""Which certainty figures a review has (file name → figure), for ``plot_certainty``.

``rob_traffic_light--<condition>.svg`` per condition with pooled studies,
``rob_summary--<analysis_id>.svg`` per analysis, ``prisma.svg`` when ``prisma.yaml`` exists
(an SVG string rather than a ggplot).
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from metareview.certainty.prisma import Prisma
from metareview.plots.format import as_bool, fmt_weeks, humanize
from metareview.plots.prisma import prisma_svg
from metareview.plots.rob import summary_plot, traffic_light_plot


def traffic_light_name(condition: str) -> str:
    return f"rob_traffic_light--{condition}.svg"


def rob_summary_name(analysis_id: str) -> str:
    return f"rob_summary--{analysis_id}.svg"


PRISMA_NAME = "prisma.svg"


def usable_studies(effects: pd.DataFrame) -> int:
    """Studies with at least one included effect size."""
    if effects.empty:
        return 0
    inc = effects[effects["included"].map(as_bool)] if "included" in effects else effects
    return int(inc["study_id"].nunique())


def certainty_figures(
    rob_rows: pd.DataFrame, effects: pd.DataFrame, prisma: Prisma | None
) -> Iterator[tuple[str, object]]:
    """(file name, ggplot or SVG text) for every certainty figure, in a fixed order."""
    for condition, part in rob_rows.groupby("condition", sort=True):
        title = f"Risk of bias (RoB 2): {humanize(condition)}"
        yield traffic_light_name(str(condition)), traffic_light_plot(part, title)
    for aid, part in rob_rows.groupby("analysis_id", sort=True):
        first = part.iloc[0]
        title = (
            f"Risk of bias by weight: {humanize(first['condition'])} · "
            f"{humanize(first['outcome'])} · {fmt_weeks(first['timepoint_weeks'])}"
        )
        yield rob_summary_name(str(aid)), summary_plot(part, title)
    if prisma is not None:
        yield PRISMA_NAME, prisma_svg(prisma, usable_studies(effects), "PRISMA 2020 flow diagram")


__all__ = ["PRISMA_NAME", "certainty_figures", "rob_summary_name", "traffic_light_name"]
