"""The reviewer-facing report: one self-contained HTML file and its Markdown twin.

:func:`build_context` gathers what the report says from the workflow's tables;
:func:`render_html` and :func:`render_markdown` turn it into text. Neither reads the clock.
"""

from metareview.report.context import ReportInputs, build_context, read_optional_csv
from metareview.report.html import render_html
from metareview.report.markdown import md_escape, render_markdown

__all__ = [
    "ReportInputs",
    "build_context",
    "md_escape",
    "read_optional_csv",
    "render_html",
    "render_markdown",
]
