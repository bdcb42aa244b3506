"""Table-style forest layout (RevMan 5 / R meta ``layout="RevMan5"``) as one plotnine panel.

The whole figure is one panel with no margins, its x axis in inches and its y axis in table
rows, so text columns, squares, diamonds and the effect axis can be placed exactly and stay
legible from k = 1 to k = 40. Effects are mapped onto the plot region by :class:`EffectAxis`:
linearly on the analysis scale, which for ratio measures is the log scale, so ratio plots have
a log axis with natural-scale tick labels (``0.1``, ``1``, ``10``).

Column widths come from the measured text (DejaVu Sans via Matplotlib's text-to-path), so the
layout does not depend on a screen or a renderer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from plotnine import (
    aes,
    geom_polygon,
    geom_rect,
    geom_segment,
    geom_text,
    ggplot,
    scale_x_continuous,
    scale_y_continuous,
    theme,
)

from metareview.plots.format import MINUS, is_missing, is_ratio, tick_label
from metareview.plots.theme import (
    FONT,
    INK,
    MUTED,
    PI,
    POOLED,
    RULE,
    STUDY,
    TABLE_THEME,
    TEXT_PT,
    TITLE_PT,
)

ROW_IN = 0.22  # inches per table row
GAP_IN = 0.16  # space between columns
MARGIN_IN = 0.15  # left and right margin
PLOT_IN = 3.2  # width of the effect region
SQUARE_MAX_IN = 0.15
SQUARE_MIN_IN = 0.045
DIAMOND_HALF_ROWS = 0.36
ELLIPSIS = "…"

# Vertical positions (in rows, downward from the top edge).
TITLE_Y = 0.75
GROUP_Y = 1.85
HEADER_Y = 2.85
RULE_Y = 3.45
BODY_Y = 4.1  # centre of body row 0


@lru_cache(maxsize=4096)
def text_width_in(text: str, bold: bool = False, size: float = TEXT_PT) -> float:
    """Width of ``text`` in inches when set in DejaVu Sans at ``size`` points."""
    text = one_line(text)
    if not text:
        return 0.0
    prop = FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return width / 72.0


def truncate(text: str, max_in: float, bold: bool = False, size: float = TEXT_PT) -> str:
    """Shorten ``text`` with an ellipsis until it fits into ``max_in`` inches."""
    if text_width_in(text, bold, size) <= max_in:
        return text
    cut = len(text)
    while cut > 1 and text_width_in(text[:cut].rstrip() + ELLIPSIS, bold, size) > max_in:
        cut -= 1
    return text[:cut].rstrip() + ELLIPSIS


#: Line breaks and tabs (a label from a quoted CSV cell may hold them).
BREAKS = re.compile("[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]+")


def one_line(text) -> str:
    """``text`` with each run of line breaks and tabs as one space: a figure row holds one
    line (other spacing is kept)."""
    return BREAKS.sub(" ", str(text))


def mpl_text(text: str) -> str:
    """One line (:func:`one_line`), with ``$`` escaped so Matplotlib never reads data
    strings as mathtext."""
    return one_line(text).replace("$", r"\$")


@dataclass(frozen=True)
class Column:
    """One text column of the table part."""

    key: str
    header: str
    align: str = "left"  # "left" or "right"
    group: str = ""  # spanning header over consecutive columns with the same group
    max_in: float | None = None  # cells wider than this are truncated with an ellipsis


@dataclass(frozen=True)
class EffectAxis:
    """The effect region: range and ticks on the analysis scale, favours labels."""

    measure: str
    lo: float
    hi: float
    ticks: tuple[float, ...]
    left_label: str
    right_label: str
    header: tuple[str, str] = ("", "")

    @property
    def ratio(self) -> bool:
        return is_ratio(self.measure)

    def tick_labels(self) -> list[str]:
        return [tick_label(t, self.measure) for t in self.ticks]


def _nice_ceiling(value: float) -> float:
    """Smallest of 1, 2, 5 × 10^n (and 0.5 × …) that is ≥ value."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10.0**exponent
        if candidate >= value * (1 - 1e-9):
            return candidate
    return 10.0 ** (exponent + 1)


RATIO_RANGES = (
    (2.0, (0.5, 0.7, 1.0, 1.5, 2.0)),
    (5.0, (0.2, 0.5, 1.0, 2.0, 5.0)),
    (10.0, (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)),
    (100.0, (0.01, 0.1, 1.0, 10.0, 100.0)),
    (1000.0, (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)),
)


def choose_axis(
    core: list[float],
    spread: list[float],
    measure: str,
    left_label: str,
    right_label: str,
    header: tuple[str, str] = ("", ""),
) -> EffectAxis:
    """A symmetric axis around the null, as RevMan draws it.

    ``core`` (summary CI/PI bounds) must fit; ``spread`` (study CI bounds) fit unless they are
    more than three times wider than the core, in which case they are clipped and drawn with
    arrows. Analysis-scale values throughout.
    """
    core_abs = [abs(v) for v in core if not is_missing(v) and math.isfinite(v)]
    spread_abs = [abs(v) for v in spread if not is_missing(v) and math.isfinite(v)]
    reach = max(core_abs + spread_abs, default=1.0)
    anchor = max(core_abs + [float(np.median(spread_abs))] if spread_abs else core_abs, default=0)
    if anchor > 0:
        reach = min(reach, 3 * anchor)
    if is_ratio(measure):
        for limit, ticks in RATIO_RANGES:  # noqa: B007 (the last pair is the fallback)
            if math.log(limit) >= reach * (1 - 1e-9):
                break
        half = math.log(limit)
        tick_values = tuple(math.log(t) for t in ticks)
    else:
        half = _nice_ceiling(reach if reach > 0 else 1.0)
        if measure == "RD":
            half = min(half, 1.0)
        tick_values = (-half, -half / 2, 0.0, half / 2, half)
    return EffectAxis(measure, -half, half, tick_values, left_label, right_label, header)


@dataclass
class TablePlot:
    """Collects the layer data of a table-style forest plot, then builds the ggplot."""

    columns: list[Column]
    axis: EffectAxis
    title: str = ""
    plot_in: float = PLOT_IN
    texts: list[dict] = field(default_factory=list)
    segments: dict[str, list[dict]] = field(default_factory=dict)
    rects: list[dict] = field(default_factory=list)
    polygons: list[dict] = field(default_factory=list)
    widths: dict[str, float] = field(default_factory=dict)
    x_left: dict[str, float] = field(default_factory=dict)

    # -- geometry ---------------------------------------------------------------------------
    def fit_columns(self, body: pd.DataFrame) -> None:
        """Measure every column (header and cells); truncate cells to ``max_in``."""
        x = MARGIN_IN
        span = body["span"].fillna(False).astype(bool) if "span" in body else None
        if span is None:
            span = pd.Series(False, index=body.index)
        bold = body["bold"].fillna(False) if "bold" in body else pd.Series(False, index=body.index)
        for col in self.columns:
            cells = body[col.key].fillna("").astype(str) if col.key in body else None
            if cells is None:
                cells = pd.Series("", index=body.index)
            if col.max_in is not None:
                body[col.key] = [
                    c if sp else truncate(c, col.max_in, bool(b))
                    for c, b, sp in zip(cells, bold, span, strict=True)
                ]
                cells = body[col.key]
            width = max(
                [text_width_in(col.header, bold=True)]
                + [
                    text_width_in(c, bold=True)
                    for c, sp in zip(cells, span, strict=True)
                    if not sp
                ]
            )
            self.widths[col.key] = width
            self.x_left[col.key] = x
            x += width + GAP_IN
        self.plot_x0 = x + 0.1
        self.width_in = self.plot_x0 + self.plot_in + MARGIN_IN + 0.2
        # Spanning rows (block headings) may run across the table, not into the plot.
        first_key = self.columns[0].key
        body[first_key] = [
            truncate(str(c), self.plot_x0 - MARGIN_IN - 0.2, True) if sp else c
            for c, sp in zip(body[first_key], span, strict=True)
        ]

    def effect_x(self, value: float) -> float:
        """Analysis-scale value → inches."""
        ax = self.axis
        return self.plot_x0 + (value - ax.lo) / (ax.hi - ax.lo) * self.plot_in

    def clip(self, value: float) -> float:
        return min(max(value, self.axis.lo), self.axis.hi)

    def column_x(self, col: Column) -> float:
        left = self.x_left[col.key]
        return left if col.align == "left" else left + self.widths[col.key]

    # -- primitives -------------------------------------------------------------------------
    def text(self, x, y, label, ha="left", bold=False, color=INK, size=TEXT_PT) -> None:
        if label is None or label == "":
            return
        self.texts.append(
            dict(
                x=x,
                y=-y,
                label=mpl_text(label),
                ha=ha,
                fontweight="bold" if bold else "normal",
                color=color,
                size=size,
            )
        )

    def segment(self, style: str, x, y, xend, yend) -> None:
        self.segments.setdefault(style, []).append(dict(x=x, y=-y, xend=xend, yend=-yend))

    # -- table parts ------------------------------------------------------------------------
    def header(self) -> None:
        if self.title:
            title = truncate(self.title, self.width_in - 2 * MARGIN_IN, bold=True, size=TITLE_PT)
            self.text(MARGIN_IN, TITLE_Y, title, bold=True, size=TITLE_PT)
        groups: dict[str, list[Column]] = {}
        for col in self.columns:
            if col.group:
                groups.setdefault(col.group, []).append(col)
            self.text(self.column_x(col), HEADER_Y, col.header, ha=col.align, bold=True)
        for name, cols in groups.items():
            x0 = self.x_left[cols[0].key]
            x1 = self.x_left[cols[-1].key] + self.widths[cols[-1].key]
            self.text((x0 + x1) / 2, GROUP_Y, name, ha="center", bold=True)
            self.segment("thin_rule", x0, GROUP_Y + 0.5, x1, GROUP_Y + 0.5)
        centre = self.plot_x0 + self.plot_in / 2
        self.text(centre, GROUP_Y, self.axis.header[0], ha="center", bold=True)
        self.text(centre, HEADER_Y, self.axis.header[1], ha="center", bold=True)
        self.segment("rule", MARGIN_IN, RULE_Y, self.width_in - MARGIN_IN, RULE_Y)

    def cells(self, body: pd.DataFrame) -> None:
        for _, row in body.iterrows():
            y = BODY_Y + row["row"]
            for col in self.columns:
                value = row.get(col.key, "")
                if is_missing(value):
                    continue
                color = MUTED if row.get("muted", False) else INK
                self.text(
                    self.column_x(col),
                    y,
                    str(value),
                    ha=col.align,
                    bold=bool(row.get("bold", False)),
                    color=color,
                )

    def interval(self, y: float, lo: float, hi: float, style: str = "ci") -> None:
        """A horizontal CI line, clipped to the axis with an arrowhead where it is cut."""
        if is_missing(lo) or is_missing(hi):
            return
        if hi < self.axis.lo or lo > self.axis.hi:
            side = "left" if hi < self.axis.lo else "right"
            self.arrow(y, side)
            return
        x0, x1 = self.effect_x(self.clip(lo)), self.effect_x(self.clip(hi))
        self.segment(style, x0, y, x1, y)
        if lo < self.axis.lo:
            self.arrow(y, "left")
        if hi > self.axis.hi:
            self.arrow(y, "right")
        if style == "pi":
            for x, cut in ((x0, lo < self.axis.lo), (x1, hi > self.axis.hi)):
                if not cut:
                    self.segment("pi", x, y - 0.22, x, y + 0.22)

    def arrow(self, y: float, side: str) -> None:
        tip = self.effect_x(self.axis.lo if side == "left" else self.axis.hi)
        back = tip + (0.07 if side == "left" else -0.07)
        group = f"arrow{len(self.polygons)}"
        for px, py in ((tip, y), (back, y - 0.17), (back, y + 0.17)):
            self.polygons.append(dict(x=px, y=-py, group=group, fill=INK))

    def square(self, y: float, est: float, weight: float, max_weight: float) -> None:
        if is_missing(est) or not (self.axis.lo <= est <= self.axis.hi):
            return
        rel = 1.0 if not max_weight or is_missing(weight) else math.sqrt(weight / max_weight)
        side = max(SQUARE_MIN_IN, SQUARE_MAX_IN * rel)
        x = self.effect_x(est)
        half_rows = side / 2 / ROW_IN
        self.rects.append(
            dict(
                xmin=x - side / 2, xmax=x + side / 2, ymin=-(y + half_rows), ymax=-(y - half_rows)
            )
        )

    def diamond(self, y: float, est: float, lo: float, hi: float, fill: str = POOLED) -> None:
        if any(is_missing(v) for v in (est, lo, hi)):
            return
        group = f"diamond{len(self.polygons)}"
        h = DIAMOND_HALF_ROWS
        points = ((lo, y), (est, y - h), (hi, y), (est, y + h))
        for value, py in points:
            self.polygons.append(
                dict(x=self.effect_x(self.clip(value)), y=-py, group=group, fill=fill)
            )
        if lo < self.axis.lo:
            self.segment("ci", self.effect_x(self.axis.lo), y, self.effect_x(self.clip(est)), y)
            self.arrow(y, "left")
        if hi > self.axis.hi:
            self.segment("ci", self.effect_x(self.clip(est)), y, self.effect_x(self.axis.hi), y)
            self.arrow(y, "right")

    def effect_axis(self, y_axis: float) -> None:
        """The x axis under the effect region, its ticks and the favours labels."""
        x0, x1 = self.effect_x(self.axis.lo), self.effect_x(self.axis.hi)
        self.segment("axis", x0, y_axis, x1, y_axis)
        for value, label in zip(self.axis.ticks, self.axis.tick_labels(), strict=True):
            x = self.effect_x(value)
            self.segment("axis", x, y_axis, x, y_axis + 0.25)
            self.text(x, y_axis + 0.85, label, ha="center")
        null = self.effect_x(0.0)
        self.text(null - 0.08, y_axis + 1.9, self.axis.left_label, ha="right")
        self.text(null + 0.08, y_axis + 1.9, self.axis.right_label, ha="left")

    # -- assembly ---------------------------------------------------------------------------
    def build(self, data: pd.DataFrame, bottom: float) -> ggplot:
        """The ggplot; ``data`` becomes ``p.data`` (the body rows), ``bottom`` in rows."""
        height_in = bottom * ROW_IN
        p = ggplot(data)
        seg_styles = {
            "rule": dict(color=RULE, size=0.5),
            "thin_rule": dict(color=RULE, size=0.35),
            "null": dict(color=INK, size=0.45),
            "pooled": dict(color=MUTED, size=0.4, linetype="dotted"),
            "ci": dict(color=INK, size=0.45),
            "axis": dict(color=INK, size=0.45),
            "pi": dict(color=PI, size=0.9),
        }
        for style, props in seg_styles.items():
            rows = self.segments.get(style)
            if rows:
                p += geom_segment(
                    aes("x", "y", xend="xend", yend="yend"),
                    data=pd.DataFrame(rows),
                    lineend="butt",
                    **props,
                )
        if self.rects:
            p += geom_rect(
                aes(xmin="xmin", xmax="xmax", ymin="ymin", ymax="ymax"),
                data=pd.DataFrame(self.rects),
                fill=STUDY,
                color=None,
            )
        if self.polygons:
            polys = pd.DataFrame(self.polygons)
            for fill, part in polys.groupby("fill", sort=True):
                p += geom_polygon(
                    aes("x", "y", group="group"), data=part, fill=fill, color=fill, size=0.3
                )
        if self.texts:
            texts = pd.DataFrame(self.texts)
            for (color, size), part in texts.groupby(["color", "size"], sort=True):
                p += geom_text(
                    aes("x", "y", label="label", ha="ha", fontweight="fontweight"),
                    data=part,
                    color=color,
                    size=size,
                    family=FONT,
                    va="center",
                )
        p += scale_x_continuous(limits=(0, self.width_in), expand=(0, 0))
        p += scale_y_continuous(limits=(-bottom, 0), expand=(0, 0))
        p += TABLE_THEME
        p += theme(figure_size=(self.width_in, height_in))
        return p


def figure_size(p: ggplot) -> tuple[float, float]:
    """The (width, height) in inches a plot was laid out for."""
    return tuple(p.theme.getp("figure_size"))


__all__ = [
    "MINUS",
    "ROW_IN",
    "Column",
    "EffectAxis",
    "TablePlot",
    "choose_axis",
    "figure_size",
    "text_width_in",
    "truncate",
]
