"""Render the report context as ONE self-contained HTML file.

Every data string is escaped by Jinja's autoescape. Figures are inlined as
``data:image/svg+xml;base64`` URIs in ``<img>`` elements: nothing is fetched when the file is
opened, scripts inside an image are never run by browsers, and the SVGs' element ids cannot
collide with each other. Matplotlib escapes study labels inside the SVG text as well.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("metareview.report", "templates"),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def svg_data_uri(path: Path) -> str:
    """An SVG file as a base64 data URI."""
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline_figures(node, figures_dir: Path):
    """Add ``data_uri`` to every figure dict (``{"path": "figures/<name>", ...}``)."""
    if isinstance(node, dict):
        if "path" in node and str(node["path"]).startswith("figures/"):
            node["data_uri"] = svg_data_uri(figures_dir / str(node["path"])[len("figures/") :])
        for value in node.values():
            _inline_figures(value, figures_dir)
    elif isinstance(node, list | tuple):
        for value in node:
            _inline_figures(value, figures_dir)


def render_html(context: dict, figures_dir: str | Path) -> str:
    """The report as HTML; the SVGs named in the context are read from ``figures_dir``."""
    ctx = copy.deepcopy(context)
    _inline_figures(ctx, Path(figures_dir))
    return environment().get_template("report.html.j2").render(**ctx)
