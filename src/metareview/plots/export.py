"""Byte-reproducible SVG export.

Matplotlib writes a creation date into SVG metadata and derives clip-path ids from a random
salt; both are pinned here, so two runs on the same inputs give identical files. Text is
written as glyph paths (``svg.fonttype = "path"``), so the SVG needs no installed font.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from plotnine import ggplot

from metareview.outputs import write_atomic
from metareview.plots.theme import DPI

SVG_RC = {"svg.hashsalt": "metareview", "svg.fonttype": "path", "svg.image_inline": True}


def svg_bytes(p: ggplot) -> bytes:
    """Render ``p`` at the size in its theme and return the SVG bytes."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(SVG_RC), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = p.draw()
        try:
            fig.savefig(buffer, format="svg", dpi=DPI, metadata={"Date": None})
        finally:
            plt.close(fig)
    return buffer.getvalue()


def save_svg(p: ggplot, path: str | Path) -> Path:
    """Write ``p`` as an SVG file (parent folders created) and return the path."""
    path = Path(path)
    write_atomic(path, svg_bytes(p))
    return path
