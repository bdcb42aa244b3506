"""File names of the figures in ``results/figures/``, shared by the plotting script and the
report (which finds optional figures by name)."""

from __future__ import annotations

import re

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
