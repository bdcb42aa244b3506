"""End to end on a SYNTHETIC review with every RoB 2 judgement, a PRISMA file, binary and
continuous outcomes and a reviewer override (tests/integration/certainty_review/)."""

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from metareview.certainty.summary_of_findings import COLUMNS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "certainty_review"
CONTRACT = COLUMNS[:16]


def snakemake(workdir: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--cores", "2"]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("certainty")
    shutil.copytree(EXAMPLE, workdir, dirs_exist_ok=True)
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_summary_of_findings_contract_and_ratings(run):
    sof = pd.read_csv(run / "results" / "summary_of_findings.csv", keep_default_na=False)
    assert list(sof.columns[: len(CONTRACT)]) == CONTRACT
    rated = dict(
        zip(zip(sof["condition"], sof["outcome"], strict=True), sof["certainty"], strict=True)
    )
    assert rated[("strong", "responders")] == "high"
    assert rated[("strong", "pain_intensity")] == "high"
    assert rated[("weak", "pain_intensity")] == "very_low"
    weak = sof[(sof["condition"] == "weak") & (sof["outcome"] == "pain_intensity")].iloc[0]
    assert "risk_of_bias:-2" in weak["downgrades"] and "inconsistency:-2" in weak["downgrades"]
    assert "reviewer override (-1)" in weak["reasons"] and weak["overridden"] == "indirectness"


def test_per_1000_risks_equal_control_risk_times_pooled_effect(run):
    sof = pd.read_csv(run / "results" / "summary_of_findings.csv")
    pooled = pd.read_csv(run / "results" / "pooled.csv")
    raw = pd.read_csv(run / "data" / "raw" / "outcomes" / "strong.csv")
    resp = raw[raw["outcome"] == "responders"]
    cr = resp["ctl_events"].sum() / resp["ctl_n"].sum()
    row = sof[(sof["condition"] == "strong") & (sof["outcome"] == "responders")].iloc[0]
    p = pooled[(pooled["condition"] == "strong") & (pooled["outcome"] == "responders")].iloc[0]
    assert row["control_risk_per_1000"] == pytest.approx(1000 * cr, abs=1e-6)
    for col, src in [
        ("intervention_risk_per_1000", "estimate"),
        ("intervention_risk_ci_low", "ci_low"),
        ("intervention_risk_ci_high", "ci_high"),
    ]:
        assert row[col] == pytest.approx(1000 * cr * math.exp(p[src]), abs=1e-6)


def test_outcome_specific_judgement_used(run):
    rob = pd.read_csv(run / "results" / "risk_of_bias.csv", keep_default_na=False)
    ae = rob[(rob["outcome"] == "adverse_events") & (rob["study_id"] == "weak-1")]
    pain = rob[(rob["outcome"] == "pain_intensity") & (rob["study_id"] == "weak-1")]
    assert ae["overall"].iloc[0] == "some_concerns" and pain["overall"].iloc[0] == "high"


def test_figures_and_report(run):
    figures = run / "results" / "certainty_figures"
    names = {p.name for p in figures.glob("*.svg")}
    assert {"prisma.svg", "rob_traffic_light--strong.svg", "rob_traffic_light--weak.svg"} <= names
    assert "rob_summary--weak--pain_intensity--w2.svg" in names
    md = (run / "results" / "report.md").read_text(encoding="utf-8")
    assert "certainty_figures/prisma.svg" in md and "rob_traffic_light--weak.svg" in md
    assert "rob_summary--strong--responders--w4.svg" in md
    assert "⊕⊕⊕⊕ HIGH" in md and "⊕◯◯◯ VERY LOW" in md
    html = (run / "results" / "report.html").read_text(encoding="utf-8")
    assert "Summary of findings" in html and html.count("data:image/svg+xml;base64,") >= 4


def test_prisma_that_does_not_add_up_is_refused(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "data" / "raw" / "prisma.yaml"
    path.write_text(path.read_text().replace("screened: 102", "screened: 100"))
    result = snakemake(tmp_path)
    assert result.returncode != 0
    assert "data/raw/prisma.yaml" in result.stderr and "'screened' is 100" in result.stderr
    assert not (tmp_path / "results").exists()
