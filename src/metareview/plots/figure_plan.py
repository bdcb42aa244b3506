"""Which figures a condition's plot job declares, known before any statistic is computed.

Snakemake needs a job's outputs when it builds the DAG. The workflow therefore declares one
output per figure, planned from the condition's effect sizes (computed from the validated raw
tables, the same code as rule ``effect_sizes_condition``; cached between runs, see
:func:`metareview.jobs.figure_plans`):

- exact (the drawing rule depends only on the effect sizes): ``forest_`` for every analysis
  with an included study, ``funnel_`` for k ≥ 3, ``loo_`` for k ≥ the leave-one-out minimum,
  ``gosh_`` for k ≥ 6, ``timecourse_`` for an outcome pooled at ≥ 2 timepoints;
- an upper bound (whether the figure is drawn depends on a fitted model): ``subgroup_``
  when the included studies have ≥ 2 levels of the subgroup column, ``bubble_`` when ≥ 3 of
  them have a value of the moderator and the values differ, ``multilevel_`` for a series
  with ≥ 2 timepoints and a time model.

A declared figure that the computed results do not support is written as a small
placeholder SVG saying "not applicable: <reason>" (:func:`placeholder_svg`), so every
declared output exists; the report lists only the figures really drawn (the condition's
figure manifest).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pandas as pd

from metareview.plots.figure_names import (
    bubble_name,
    forest_name,
    funnel_name,
    loo_name,
    subgroup_name,
    timecourse_name,
)
from metareview.plots.gosh import GOSH_MIN_K, gosh_name
from metareview.plots.multilevel_course import multilevel_course_name

FUNNEL_MIN_K = 3
GROUP_KEYS = ["condition", "outcome", "timepoint_weeks", "measure"]

#: Why a declared figure was not drawn, by file-name prefix.
REASONS = {
    "forest": "no included study with usable numbers",
    "funnel": f"fewer than {FUNNEL_MIN_K} included studies",
    "loo": "too few included studies for leave-one-out",
    "gosh": f"fewer than {GOSH_MIN_K} included studies",
    "timecourse": "pooled at fewer than 2 timepoints",
    "subgroup": "fewer than 2 subgroups could be pooled",
    "bubble": "the meta-regression slope is not estimable",
    "multilevel": "no three-level time model was fitted",
}


def _included(effects: pd.DataFrame) -> pd.DataFrame:
    if effects.empty or "included" not in effects:
        return effects.iloc[0:0]
    flag = effects["included"]
    if flag.dtype != bool:
        flag = flag.astype(str).str.lower().isin(["true", "1"])
    return effects[flag]


def _analysis_ids(groups: pd.DataFrame) -> list[str]:
    """The ids rule pool_condition gives these analyses (one row each, GROUP_KEYS)."""
    from metareview.analyses import unique_ids
    from metareview.tables import analysis_id

    ids = [
        analysis_id(c, o, t)
        for c, o, t in groups[["condition", "outcome", "timepoint_weeks"]].itertuples(index=False)
    ]
    return list(unique_ids(groups.assign(analysis_id=ids))["analysis_id"])


def planned_figures(
    effects: pd.DataFrame,
    studies: pd.DataFrame,
    subgroups=(),
    moderators=(),
    time_moderator: str = "log_weeks",
) -> list[str]:
    """File names (in ``results/figures/``) of the figures of one condition's effect sizes.

    ``effects`` is the condition's ``effect_sizes.csv`` table; ``studies`` the validated
    ``studies.csv``; ``subgroups``, ``moderators`` and ``time_moderator`` the config's values.
    Returns sorted, unique names: every figure the plot job can draw (see the module text
    for which are exact and which are an upper bound).
    """
    from metareview.stats.influence import MIN_STUDIES as LOO_MIN_K
    from metareview.stats.metaregression import MIN_STUDIES as REGRESSION_MIN_K

    included = _included(effects)
    if included.empty:
        return []
    groups = (
        included.groupby(GROUP_KEYS, sort=True, dropna=False)
        .agg(k=("study_id", "size"), studies=("study_id", lambda s: [str(v) for v in s]))
        .reset_index()
    )
    groups["analysis_id"] = _analysis_ids(groups[GROUP_KEYS])
    info = studies.assign(study_id=studies["study_id"].astype(str)).set_index("study_id")
    names: set[str] = set()
    for row in groups.itertuples(index=False):
        aid, k = str(row.analysis_id), int(row.k)
        names.add(forest_name(aid))
        if k >= FUNNEL_MIN_K:
            names.add(funnel_name(aid))
        if k >= LOO_MIN_K:
            names.add(loo_name(aid))
        if k >= GOSH_MIN_K:
            names.add(gosh_name(aid))
        these = info.reindex(row.studies)
        for column in subgroups or ():
            if column in these and these[column].dropna().astype(str).nunique() >= 2:
                names.add(subgroup_name(aid, str(column)))
        for column in moderators or ():
            if column in these:
                values = pd.to_numeric(these[column], errors="coerce").dropna()
                if len(values) >= REGRESSION_MIN_K and values.nunique() >= 2:
                    names.add(bubble_name(aid, str(column)))
    series = groups.groupby(["condition", "outcome", "measure"], sort=True)
    measures = groups.groupby(["condition", "outcome"], sort=True)["measure"].nunique()
    for (condition, outcome, measure), part in series:
        if part["timepoint_weeks"].nunique() < 2:
            continue
        several = measures[(condition, outcome)] > 1
        names.add(timecourse_name(str(condition), str(outcome), measure if several else None))
        if str(time_moderator) != "none":
            names.add(multilevel_course_name(str(condition), str(outcome), str(measure)))
    return sorted(names)


def not_applicable_reason(name: str) -> str:
    """Why the declared figure ``name`` was not drawn (by its kind)."""
    kind = name.split("_", 1)[0]
    return REASONS.get(kind, "the computed results do not support this figure")


def placeholder_svg(name: str, reason: str | None = None) -> str:
    """A small, byte-reproducible SVG saying the figure does not apply, and why."""
    text = escape(f"not applicable: {reason or not_applicable_reason(name)}")
    title = escape(name)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="60" '
        'viewBox="0 0 480 60">\n'
        f"<title>{title}: {text}</title>\n"
        '<rect width="480" height="60" fill="#ffffff" stroke="#999999"/>\n'
        '<text x="12" y="35" font-family="sans-serif" font-size="13" fill="#555555">'
        f"{text}</text>\n"
        "</svg>\n"
    )
