"""Figures of the review: functions that build plotnine ``ggplot`` objects, never save them.

Saving (byte-reproducible SVG) is in :mod:`metareview.plots.export`; the workflow's entry
script ``workflow/scripts/plot_figures.py`` decides file names and sizes.
"""

from metareview.plots.bubble import bubble_plot
from metareview.plots.forest import forest_height, forest_plot
from metareview.plots.funnel import funnel_plot
from metareview.plots.layout import figure_size
from metareview.plots.overview import main_analyses, overview_plot
from metareview.plots.sensitivity_forests import loo_forest_plot, subgroup_forest_plot
from metareview.plots.theme import THEME
from metareview.plots.timecourse import timecourse_plot, timecourse_series

__all__ = [
    "THEME",
    "bubble_plot",
    "figure_size",
    "forest_height",
    "forest_plot",
    "funnel_plot",
    "loo_forest_plot",
    "main_analyses",
    "overview_plot",
    "subgroup_forest_plot",
    "timecourse_plot",
    "timecourse_series",
]
