"""End to end: multilevel.csv and rare_events.csv of the workflow on the SYNTHETIC reference
case ``tests/reference/repeated/case`` against metafor/clubSandwich/lme4
(fixture ``repeated/repeated_synthetic.json`` from ``make_fixtures_multilevel.R``)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "tests" / "reference" / "repeated" / "case"
EXPECTED = json.loads((REPO / "tests/reference/repeated/repeated_synthetic.json").read_text())
TARGETS = [
    "results/multilevel.csv",
    "results/multilevel_timecourse.csv",
    "results/rare_events.csv",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("repeated")
    shutil.copytree(CASE, workdir, dirs_exist_ok=True)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", *TARGETS]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir / "results"


def test_multilevel_rows_match_rma_mv_and_clubsandwich(results):
    table = pd.read_csv(results / "multilevel.csv")
    models = EXPECTED["multilevel"][0]["models"]
    for model, key in (("overall", "none"), ("time", "log_weeks")):
        rows = table[(table["outcome"] == "pain_intensity") & (table["model"] == model)]
        expected = models[key]
        assert list(rows["term"]) == expected["terms"]
        assert set(rows["k_effects"]) == {expected["k_effects"]}
        assert set(rows["k_studies"]) == {expected["k_studies"]}
        for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_low"),
                             ("ci_high", "ci_high"), ("p_value", "p_value")]:  # fmt: skip
            np.testing.assert_allclose(rows[ours], expected[theirs], rtol=1e-6, err_msg=ours)
        for ours, theirs in [("robust_se", "se"), ("robust_ci_low", "ci_low"),
                             ("robust_ci_high", "ci_high"), ("robust_df", "df")]:  # fmt: skip
            np.testing.assert_allclose(
                rows[ours], expected["robust"][theirs], rtol=1e-6, err_msg=ours
            )
        np.testing.assert_allclose(rows["sigma2_study"], expected["sigma2_study"], atol=1e-6)
        np.testing.assert_allclose(rows["sigma2_effect"], expected["sigma2_effect"], atol=1e-6)
    time_rows = table[table["model"] == "time"]
    assert time_rows["note"].str.contains("week 0 left out").all()


def test_timecourse_estimates_match_predict_and_linear_contrast(results):
    course = pd.read_csv(results / "multilevel_timecourse.csv")
    chosen = course[course["kind"] == "chosen"]
    expected = EXPECTED["multilevel"][0]["models"]["log_weeks"]["predict"]
    assert chosen["weeks"].tolist() == expected["weeks"]
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_low"),
                         ("ci_high", "ci_high"), ("robust_se", "robust_se"),
                         ("robust_df", "robust_df"), ("robust_ci_low", "robust_ci_low"),
                         ("robust_ci_high", "robust_ci_high")]:  # fmt: skip
        np.testing.assert_allclose(
            chosen[ours], expected[theirs], rtol=1e-6, atol=1e-7, err_msg=ours
        )


def test_rare_events_rows_match_rma_glmm(results):
    table = pd.read_csv(results / "rare_events.csv").set_index("outcome")
    for expected in EXPECTED["rare_events"]:
        row, tight = table.loc[expected["outcome"]], expected["tight"]
        assert row["k"] == tight["k"]
        assert row["measure"] == "OR"
        for key in ("estimate", "se", "ci_low", "ci_high"):
            assert row[key] == pytest.approx(tight[key], rel=1e-5), key
            assert row[key] == pytest.approx(expected["default"][key], rel=1e-4), key
        assert row["tau2"] == pytest.approx(tight["tau2"], abs=1e-6)
        for key in ("estimate", "se", "ci_low", "ci_high"):  # rma.mh, no correction
            assert row[f"mh_{key}"] == pytest.approx(expected["mh"][key], rel=1e-9), key
    assert bool(table.loc["ae_dissociation", "sparse"])
    assert not bool(table.loc["ae_nausea", "sparse"])
    assert "double-zero" in table.loc["ae_dissociation", "note"]
