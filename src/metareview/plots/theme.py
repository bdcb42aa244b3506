"""Shared look of every figure: fonts, colours, sizes and the plotnine theme lists.

``THEME`` is for ordinary axis plots (funnel, time course, bubble); ``TABLE_THEME`` is for the
table-style forest plots, whose single panel fills the whole figure so that one x unit is one
inch and one y unit is one table row (see :mod:`metareview.plots.layout`).
"""

from __future__ import annotations

from plotnine import element_blank, element_line, element_rect, element_text, theme, theme_bw

FONT = "DejaVu Sans"
#: Point size of table text in forest plots and of axis text elsewhere.
TEXT_PT = 9.0
TITLE_PT = 10.5

INK = "#1a1a1a"
MUTED = "#5f5f5f"
RULE = "#8c8c8c"
STUDY = "#1f5a96"  # study squares (RevMan blue, darker for print)
POOLED = "#1a1a1a"  # summary diamond
PI = "#b2182b"  # prediction interval
NO_DATA = "#9e9e9e"
#: Funnel contour shading, from p < 0.01 (outside) to p > 0.10 (inside).
CONTOUR_FILLS = {
    "p < 0.01": "#b8b8b8",
    "0.01 < p < 0.05": "#d4d4d4",
    "0.05 < p < 0.10": "#ececec",
    "p > 0.10": "#ffffff",
}

#: Width and height (inches) of the small axis plots.
SMALL_SIZE = (6.0, 4.2)
DPI = 100

THEME = [
    theme_bw(base_size=TEXT_PT + 1, base_family=FONT),
    theme(
        text=element_text(family=FONT, color=INK),
        plot_title=element_text(size=TITLE_PT, weight="bold", ha="left"),
        plot_subtitle=element_text(size=TEXT_PT, color=MUTED, ha="left"),
        plot_caption=element_text(size=TEXT_PT - 0.5, color=MUTED, ha="left"),
        axis_text=element_text(size=TEXT_PT, color=INK),
        axis_title=element_text(size=TEXT_PT + 0.5),
        panel_grid_minor=element_blank(),
        panel_grid_major=element_line(color="#ececec", size=0.4),
        panel_border=element_rect(color=RULE, fill=None, size=0.6),
        strip_background=element_rect(fill="#f2f2f2", color=RULE),
        strip_text=element_text(size=TEXT_PT, weight="bold"),
        legend_title=element_text(size=TEXT_PT),
        legend_text=element_text(size=TEXT_PT - 0.5),
        legend_position="bottom",
        legend_key=element_blank(),
        figure_size=SMALL_SIZE,
        dpi=DPI,
    ),
]

#: No axes, no margins: the panel is the figure (table-style forest plots).
TABLE_THEME = [
    theme_bw(base_size=TEXT_PT, base_family=FONT),
    theme(
        text=element_text(family=FONT, color=INK),
        axis_text=element_blank(),
        axis_ticks=element_blank(),
        axis_title=element_blank(),
        axis_line=element_blank(),
        panel_grid=element_blank(),
        panel_border=element_blank(),
        panel_background=element_rect(fill="white", color=None),
        plot_background=element_rect(fill="white", color=None),
        plot_margin=0,
        legend_position="none",
        dpi=DPI,
    ),
]
