"""Render the report context as GitHub-flavoured Markdown (the HTML report's twin).

Every value printed by the template passes through :func:`md_escape` (Jinja's ``finalize``),
so a study label cannot open a link, a table cell or an HTML tag. Figures are referenced by
relative path (``figures/...svg``), so the file reads well next to ``results/figures/``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(value) -> str:
    """Escape a data string for inline Markdown: markup characters, pipes and HTML.

    ``<`` ``>`` and ``&`` become entities (GitHub renders them as text); other Markdown
    punctuation is backslash-escaped; line breaks become spaces so table rows stay intact.
    """
    if isinstance(value, Markup):
        return str(value)
    text = "" if value is None else str(value)
    text = re.sub(r"\s*[\r\n]+\s*", " ", text)
    text = text.replace("&", "&amp;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\\<", "&lt;").replace("\\>", "&gt;")


def md_url(value) -> Markup:
    """A URL or relative path for a Markdown link target (percent-encoded, no spaces)."""
    return Markup(quote(str(value), safe="/:.#=?&-_~%"))


def fenced(value, language: str = "") -> Markup:
    """A fenced code block whose fence is longer than any backtick run inside."""
    body = str(value)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence}{language}\n{body}\n{fence}")


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("metareview.report", "templates"),
        autoescape=False,
        finalize=md_escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["url"] = md_url
    env.filters["fenced"] = fenced
    return env


def render_markdown(context: dict) -> str:
    """The report as Markdown; blank-line runs collapsed, one trailing newline."""
    text = environment().get_template("report.md.j2").render(**context)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"
