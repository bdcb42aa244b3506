"""The fitted time-course figure (SYNTHETIC tables): one per series, with the curve and bands."""

import numpy as np
import pandas as pd
from plotnine import ggplot

from metareview.plots.export import svg_bytes
from metareview.plots.multilevel_course import multilevel_figures
from metareview.repeated import multilevel_tables

EFFECTS = pd.DataFrame(
    {
        "condition": "c",
        "outcome": "pain",
        "measure": "MD",
        "included": True,
        "study_id": ["a", "a", "b", "b", "c", "d", "d"],
        "timepoint_weeks": [1, 4, 1, 12, 4, 2, 26],
        "yi": [-1.0, -0.8, -1.4, -0.5, -0.9, -1.2, -0.2],
        "vi": [0.1, 0.1, 0.2, 0.2, 0.15, 0.1, 0.3],
    }  # fmt: skip
)


def test_one_figure_per_series_with_the_fitted_curve():
    _, course = multilevel_tables(EFFECTS)
    figures = list(multilevel_figures(EFFECTS, course))
    assert [name for name, _ in figures] == ["multilevel_c--pain--MD.svg"]
    plot = figures[0][1]
    assert isinstance(plot, ggplot)
    svg = svg_bytes(plot)
    assert svg.startswith(b"<?xml") and len(svg) > 10_000
    curve = course[course["kind"] == "curve"]
    assert np.all(np.diff(curve["weeks"]) > 0)
    assert curve["weeks"].min() == 1 and curve["weeks"].max() == 26


def test_no_time_model_no_figure():
    _, course = multilevel_tables(EFFECTS, time_moderator="none")
    assert list(multilevel_figures(EFFECTS, course)) == []
