"""PRISMA 2020 flow diagram as a hand-built SVG (deterministic bytes, no fonts needed beyond
the viewer's sans-serif).

The layout follows the PRISMA 2020 template for new reviews: identification, screening and
included stages down the left, with records removed, excluded, not retrieved and reports
excluded (with reasons) to the right. ``usable`` (optional) adds the number of included studies
that contribute to at least one analysis.
"""

from __future__ import annotations

import textwrap
from xml.sax.saxutils import escape

from metareview.certainty.prisma import Prisma

WIDTH = 920
BOX_W = 350
LEFT_X = 140
RIGHT_X = 550
WRAP = 48  # characters per line inside a box (12 px sans-serif)
LINE_H = 17
PAD = 10
GAP = 28
FONT = "font-family='DejaVu Sans, Arial, sans-serif' font-size='12'"


def _wrap(text: str, indent: bool) -> list[str]:
    width = WRAP - (2 if indent else 0)
    lines = textwrap.wrap(text, width=width, break_long_words=True) or [""]
    first = ("  " if indent else "") + lines[0]
    return [first] + [("    " if indent else "  ") + line for line in lines[1:]]


def _count(n: int) -> str:
    """``(n = 12)`` with no-break spaces, so a count never wraps apart."""
    return f"(n\u00a0=\u00a0{n})"


def _lines(title: str, items: dict[str, int] | None = None, n: int | None = None) -> list[str]:
    out = _wrap(f"{title}" + (f" {_count(n)}" if n is not None else ""), False)
    for name, count in (items or {}).items():
        out += _wrap(f"{name} {_count(count)}", True)
    return out


def _box(x: float, y: float, lines: list[str], fill: str = "#ffffff") -> tuple[str, float]:
    h = PAD * 2 + LINE_H * len(lines)
    parts = [
        f"<rect x='{x}' y='{y}' width='{BOX_W}' height='{h}' fill='{fill}' "
        "stroke='#1a1a1a' stroke-width='1'/>"
    ]
    for i, text in enumerate(lines):
        indent = 6 * (len(text) - len(text.lstrip(" ")))
        ty = y + PAD + LINE_H * (i + 0.75)
        parts.append(
            f"<text x='{x + PAD + indent}' y='{ty:.1f}' {FONT}>{escape(text.strip())}</text>"
        )
    return "\n".join(parts), h


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' stroke='#1a1a1a' "
        "stroke-width='1.2' marker-end='url(#arrow)'/>"
    )


def prisma_svg(p: Prisma, usable: int | None = None, title: str = "") -> str:
    """The flow diagram as SVG text (same input → same bytes)."""
    stages = [
        (
            "Identification",
            _lines("Records identified from:", p.identified),
            _lines("Records removed before screening:", p.removed_before_screening),
        ),
        (
            "Screening",
            _lines("Records screened", n=p.screened),
            _lines("Records excluded", n=p.excluded_screening),
        ),
        (
            "",
            _lines("Reports sought for retrieval", n=p.sought_retrieval),
            _lines("Reports not retrieved", n=p.not_retrieved),
        ),
        (
            "",
            _lines("Reports assessed for eligibility", n=p.assessed),
            _lines("Reports excluded:", p.excluded_reports),
        ),
    ]
    included = _lines("Studies included in review", n=p.included_studies)
    included += _lines("Reports of included studies", n=p.included_reports)
    if usable is not None:
        included += _wrap(f"of which studies with numbers in ≥ 1 analysis {_count(usable)}", True)
    body, y = [], 50.0 if title else 20.0
    if title:
        body.append(f"<text x='20' y='28' {FONT} font-weight='bold'>{escape(title)}</text>")
    prev_bottom = None
    stage_marks = []
    for stage, left, right in stages:
        h = max(PAD * 2 + LINE_H * len(left), PAD * 2 + LINE_H * len(right))
        lbox, lh = _box(LEFT_X, y, left)
        rbox, rh = _box(RIGHT_X, y, right)
        body += [lbox, rbox]
        if prev_bottom is not None:
            body.append(_arrow(LEFT_X + BOX_W / 2, prev_bottom, LEFT_X + BOX_W / 2, y))
        body.append(_arrow(LEFT_X + BOX_W, y + lh / 2, RIGHT_X, y + lh / 2))
        if stage:
            stage_marks.append((stage, y))
        prev_bottom = y + lh
        y += h + GAP
    ibox, ih = _box(LEFT_X, y, included, fill="#f2f2f2")
    body.append(ibox)
    body.append(_arrow(LEFT_X + BOX_W / 2, prev_bottom, LEFT_X + BOX_W / 2, y))
    stage_marks.append(("Included", y))
    for stage, sy in stage_marks:
        body.append(
            f"<text x='20' y='{sy + 20:.1f}' {FONT} font-weight='bold' fill='#1f5a96'>"
            f"{stage}</text>"
        )
    height = y + ih + 20
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height:.0f}' "
        f"viewBox='0 0 {WIDTH} {height:.0f}' role='img' aria-label='PRISMA 2020 flow diagram'>\n"
        "<defs><marker id='arrow' markerWidth='10' markerHeight='8' refX='9' refY='4' "
        "orient='auto'><path d='M0,0 L10,4 L0,8 z' fill='#1a1a1a'/></marker></defs>\n"
        f"<rect width='{WIDTH}' height='{height:.0f}' fill='#ffffff'/>\n"
    )
    return head + "\n".join(body) + "\n</svg>\n"


__all__ = ["prisma_svg"]
