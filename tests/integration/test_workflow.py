"""End to end: the Snakemake workflow on a small SYNTHETIC input folder, via --directory."""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from metareview.tables import POOLED_COLUMNS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "synthetic_review"


def snakemake(workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", *extra]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("review")
    shutil.copytree(EXAMPLE, workdir, dirs_exist_ok=True)
    raw_before = digest_tree(workdir / "data" / "raw")
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert digest_tree(workdir / "data" / "raw") == raw_before, "the workflow wrote to data/raw/"
    return workdir


def test_pooled_has_every_contract_column(finished_run):
    pooled = pd.read_csv(finished_run / "results" / "pooled.csv")
    assert list(pooled.columns) == POOLED_COLUMNS
    keys = set(zip(pooled["condition"], pooled["outcome"], pooled["timepoint_weeks"], strict=True))
    assert ("crps", "pain_intensity", 1.0) in keys
    assert ("fibromyalgia", "pain_intensity", 4.0) in keys


def test_effect_sizes_list_exclusions_with_reasons(finished_run):
    effects = pd.read_csv(finished_run / "data" / "processed" / "effect_sizes.csv")
    excluded = effects[~effects["included"]]
    reasons = dict(zip(excluded["study_id"], excluded["exclusion_reason"], strict=True))
    assert "no events in both arms" in reasons["syn-b"]
    assert "single-arm" in reasons["syn-e"]


def test_rerun_from_scratch_is_byte_identical(finished_run, tmp_path):
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    assert snakemake(tmp_path).returncode == 0
    first = digest_tree(finished_run / "results") | digest_tree(
        finished_run / "data" / "processed"
    )
    second = digest_tree(tmp_path / "results") | digest_tree(tmp_path / "data" / "processed")
    assert first == second


def test_bad_input_stops_before_any_rule(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    crps = tmp_path / "data" / "raw" / "outcomes" / "crps.csv"
    crps.write_text(crps.read_text().replace("20,20,4.1,1.9", "20,20,4.1,-1.9", 1))
    raw_before = digest_tree(tmp_path / "data" / "raw")
    result = snakemake(tmp_path)
    assert result.returncode != 0
    assert "data/raw/outcomes/crps.csv, line 2, column 'exp_sd': SD must be > 0" in result.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())
    assert digest_tree(tmp_path / "data" / "raw") == raw_before


def test_bad_config_names_key_value_and_allowed(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "config.yaml").write_text("tau2_method: REMLL\n")
    result = snakemake(tmp_path)
    assert result.returncode != 0
    assert "key 'tau2_method': value 'REMLL' is not allowed; use one of DL, REML" in result.stderr
    assert not (tmp_path / "results").exists()
