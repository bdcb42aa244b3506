"""File names of the figures in ``results/figures/<condition>/``, shared by the plotting
script and the report (which finds optional figures by name)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from metareview.tables import fit_name


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "_", str(text).lower()).strip("_") or "x"


def forest_name(analysis_id: str) -> str:
    return f"forest_{fit_name(analysis_id)}.svg"


def funnel_name(analysis_id: str) -> str:
    return f"funnel_{fit_name(analysis_id)}.svg"


def loo_name(analysis_id: str) -> str:
    return f"loo_{fit_name(analysis_id)}.svg"


def subgroup_name(analysis_id: str, subgroup: str) -> str:
    return f"subgroup_{fit_name(analysis_id)}--{fit_name(_slug(subgroup), 60)}.svg"


def bubble_name(analysis_id: str, moderator: str) -> str:
    return f"bubble_{fit_name(analysis_id)}--{fit_name(_slug(moderator), 60)}.svg"


def timecourse_name(condition: str, outcome: str, measure: str | None = None) -> str:
    suffix = f"--{_slug(measure)}" if measure else ""
    return f"timecourse_{fit_name(f'{condition}--{outcome}{suffix}', 180)}.svg"


def overview_name() -> str:
    return "overview.svg"


def report_figure(name: str, figures: Mapping[str, str], alt: str) -> dict | None:
    """The report's entry for figure ``name`` (None when it was not drawn).

    ``figures`` maps each drawn figure's file name to its path under ``results/figures/``
    (``<condition>/<name>``, or ``overview.svg``); the entry's ``path`` is relative to
    ``results/``, where the report is.
    """
    if name not in figures:
        return None
    return {"path": f"figures/{figures[name]}", "name": name, "alt": alt}
