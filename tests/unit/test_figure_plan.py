"""The figures a condition's plot job declares (metareview.plots.figure_plan, jobs.figure_plans).

SYNTHETIC effect sizes (invented numbers, for testing only)."""

import shutil
from pathlib import Path

import pandas as pd

from metareview.jobs import PLAN_RECORD, figure_plans
from metareview.plots.figure_plan import placeholder_svg, planned_figures

EXAMPLE = Path(__file__).resolve().parents[1] / "integration" / "synthetic_review"


def effects(outcome, timepoint, studies, measure="MD", included=True):
    return pd.DataFrame(
        {
            "condition": "crps",
            "outcome": outcome,
            "timepoint_weeks": float(timepoint),
            "measure": measure,
            "study_id": studies,
            "included": included,
        }
    )


STUDIES = pd.DataFrame(
    {
        "study_id": [f"s{i}" for i in range(7)],
        "route": ["iv", "iv", "oral", "oral", "iv", "iv", "iv"],
        "dose": [0.1, 0.2, 0.3, None, 0.5, 0.5, 0.5],
    }
)


def test_thresholds_by_kind_of_figure():
    table = pd.concat(
        [
            effects("pain", 1, ["s0", "s1"]),
            effects("pain", 4, [f"s{i}" for i in range(7)]),
            effects("sleep", 1, ["s4", "s5", "s6"]),
            effects("mood", 2, ["s0"], included=False),
        ]
    )
    names = planned_figures(table, STUDIES, subgroups=["route"], moderators=["dose"])
    assert names == sorted(
        [
            "forest_crps--pain--w1.svg",
            "forest_crps--pain--w4.svg",
            "funnel_crps--pain--w4.svg",
            "loo_crps--pain--w4.svg",
            "gosh_crps--pain--w4.svg",
            "subgroup_crps--pain--w4--route.svg",
            "bubble_crps--pain--w4--dose.svg",
            "forest_crps--sleep--w1.svg",
            "funnel_crps--sleep--w1.svg",
            "loo_crps--sleep--w1.svg",
            "timecourse_crps--pain.svg",
            "multilevel_crps--pain--MD.svg",
        ]
    )
    # s0-s1: one route, two studies (no meta-regression); s4-s6: one route, one dose; an
    # all-excluded analysis: no figure.
    assert not any("mood" in n for n in names)
    assert "multilevel_crps--pain--MD.svg" not in planned_figures(
        table, STUDIES, time_moderator="none"
    )


def test_two_measures_of_one_outcome_get_the_pooled_ids():
    table = pd.concat([effects("pain", 1, ["s0"]), effects("pain", 1, ["s1"], measure="HR")])
    assert planned_figures(table, STUDIES) == [
        "forest_crps--pain--w1--hr.svg",
        "forest_crps--pain--w1--md.svg",
    ]


def test_placeholder_is_small_reproducible_and_says_why():
    svg = placeholder_svg("funnel_crps--pain--w1.svg")
    assert svg == placeholder_svg("funnel_crps--pain--w1.svg")
    assert "not applicable: fewer than 3 included studies" in svg
    assert svg.startswith("<?xml") and svg.rstrip().endswith("</svg>")


def test_plans_are_cached_and_recomputed_only_for_an_edited_condition(tmp_path, monkeypatch):
    from metareview.config import load_config

    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    config = load_config("config.yaml")
    plans = figure_plans(".", ["crps", "fibromyalgia"], config, "code")
    assert all(any(n.startswith("forest_") for n in plans[c]) for c in plans)
    record = tmp_path / PLAN_RECORD
    before = record.stat().st_mtime_ns
    assert figure_plans(".", ["crps", "fibromyalgia"], config, "code") == plans
    assert record.stat().st_mtime_ns == before  # nothing recomputed, nothing written
    crps = tmp_path / "data" / "raw" / "outcomes" / "crps.csv"
    crps.write_text(crps.read_text())
    import metareview.jobs as jobs

    seen = []
    real = jobs.condition_effects
    monkeypatch.setattr(
        jobs, "condition_effects", lambda root, cs, cfg: seen.append(cs) or real(root, cs, cfg)
    )
    assert figure_plans(".", ["crps", "fibromyalgia"], config, "code") == plans
    assert seen == [["crps"]]
