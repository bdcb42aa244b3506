"""Every RevMan file in tests/data/revman/ imported and run through the workflow: each number
RevMan stored (estimate, CI, τ², Q, I², Z/t, p of every overall and subgroup result) agrees
with ours to a relative 1e-4 (or to the precision RevMan stored), and the report says so."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "revman"
SOURCES = [
    "Fleiss1993.rm5",
    "Fleiss1993_CR.csv",
    "Fleiss1993.zip",
    "Benzodiazepines_versus_pregabalin_for_GAD.rm5",
    "PRPData-22-11.csv",
    "synthetic_revman_web",
]


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1200)


def import_and_run(source: Path, out: Path, *targets: str) -> None:
    done = run(
        sys.executable, "-m", "metareview.cli", "import-revman", str(source), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    done = run(sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(out), "--cores", "2", *targets)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]


#: Sources run through the whole workflow (report included); the others up to the comparison.
WHOLE = {"Fleiss1993.rm5"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Each source imported and run once per module (several tests read the same run)."""
    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:
            out = tmp_path_factory.mktemp(name.replace(".", "_"))
            targets = () if name in WHOLE else ("results/reference_comparison.csv",)
            import_and_run(DATA / name, out, *targets)
            done[name] = out
        return done[name]

    return get


@pytest.mark.parametrize("name", SOURCES)
def test_stored_revman_numbers_are_reproduced(name, imported):
    out = imported(name)
    table = pd.read_csv(out / "results" / "reference_comparison.csv")
    compared = table[table["agrees"].notna()]
    overall = compared[compared["subgroup"].isna()]
    assert len(overall) >= 9  # at least one full overall result compared
    bad = compared[compared["agrees"] != True]  # noqa: E712
    assert bad.empty, bad.to_string()
    # Estimates, CIs, τ², Q and I² to a relative 1e-4 even where RevMan rounded (p-values may
    # agree only to the digits RevMan stored, e.g. 0.00101 in the data package).
    main = compared[
        compared["statistic"].isin(["estimate", "ci_low", "ci_high", "tau2", "q", "i2"])
    ]
    assert (main["rel_diff"] < 1e-4).all(), main.to_string()
    # Nothing compared is silently missing: every skipped number says why.
    assert table.loc[table["agrees"].isna(), "note"].notna().all()
    pooled = pd.read_csv(out / "results" / "pooled.csv", dtype={"source_analysis": str})
    assert set(table["source_analysis"].astype(str)) <= set(pooled["source_analysis"]) | set(
        table.loc[table["note"].astype(str).str.startswith("no pooled"), "source_analysis"].astype(
            str
        )
    )


def test_gad_review_agreement_is_tight(imported):
    """RevMan 5 MH random effects (DL on the MH-based Q) to machine precision."""
    out = imported("Benzodiazepines_versus_pregabalin_for_GAD.rm5")
    table = pd.read_csv(out / "results" / "reference_comparison.csv")
    p_values = table["statistic"].isin(["q_p", "p_value"])
    assert len(table) == 150 and table.loc[~p_values, "rel_diff"].max() < 1e-8
    # RevMan 5's own χ² tail probability is accurate to about 2e-6 relative.
    assert table.loc[p_values, "rel_diff"].max() < 1e-5


def test_whole_workflow_and_report_section(imported):
    out = imported("Fleiss1993.rm5")
    report = (out / "results" / "report.md").read_text(encoding="utf-8")
    assert "## Agreement with RevMan" in report
    assert "Examples from Fleiss 1993: meta-analysis report" in report
    assert "ketamine" not in report.lower()
    pooled = pd.read_csv(out / "results" / "pooled.csv", dtype={"source_analysis": str})
    aspirin = pooled[pooled["source_analysis"] == "1.1"].iloc[0]
    assert (aspirin["pooling_method"], aspirin["model"]) == ("MH", "common")
