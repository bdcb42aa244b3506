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


# --- faults: SIGKILL mid-run, concurrent runs, read-only results/ (issue 14) -------------


def incomplete_outputs(workdir: Path) -> set[str]:
    """Outputs Snakemake has marked incomplete (it names them base64-encoded)."""
    import base64

    folder = workdir / ".snakemake" / "incomplete"
    if not folder.is_dir():
        return set()
    return {base64.b64decode(p.name).decode() for p in folder.iterdir()}


def test_sigkill_mid_run_then_rerun_is_byte_identical_and_lock_refuses_a_second_run(
    finished_run, tmp_path
):
    import os
    import signal
    import time

    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(tmp_path), "--cores", "2"]  # fmt: skip
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while not (tmp_path / "results" / "pooled.csv").exists():
            assert first.poll() is None, "the first run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # A second run on the same folder while the first holds the lock is refused.
        # Snakemake builds the DAG before it checks the lock, and the first run's running
        # jobs (per-condition ones, by the time pooled.csv is gathered) are marked
        # incomplete, so a plain second run stops earlier with IncompleteFilesException.
        # --rerun-incomplete takes it past that check to the lock, the case that matters:
        # a run that would rewrite the files the first run is writing.
        second = snakemake(tmp_path, "--rerun-incomplete")
        assert second.returncode != 0
        assert "Directory cannot be locked" in second.stderr, second.stderr[-3000:]
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    # Nothing half-written looks complete: every file present is either byte-identical to a
    # clean run's or lies under an output Snakemake marked incomplete.
    marked = incomplete_outputs(tmp_path)
    clean = digest_tree(finished_run / "results") | digest_tree(finished_run / "data/processed")
    for sub in ("results", "data/processed"):
        for rel, digest in digest_tree(tmp_path / sub).items():
            if Path(rel).name.startswith("."):
                continue  # an atomic write's temporary file, never a final name
            full = f"{sub}/{rel}"
            if any(full == m or full.startswith(m.rstrip("/") + "/") for m in marked):
                continue
            assert clean.get(rel) == digest, f"{full} is half-written but not marked incomplete"
    # Recovery as documented: unlock, then rerun the incomplete jobs.
    assert snakemake(tmp_path, "--unlock").returncode == 0
    rerun = snakemake(tmp_path, "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    again = digest_tree(tmp_path / "results") | digest_tree(tmp_path / "data/processed")
    visible = lambda tree: {k: v for k, v in tree.items() if not Path(k).name.startswith(".")}  # noqa: E731
    assert visible(again) == visible(clean)


def test_read_only_results_gives_a_clear_error(tmp_path):
    import os
    import tempfile

    if os.geteuid() == 0:
        # root writes anywhere: run Snakemake as an unprivileged user instead
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a folder read-only")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        workdir = Path(tempfile.mkdtemp(dir="/tmp"))
        os.chmod(workdir, 0o777)
    else:
        prefix, workdir = [], tmp_path
    try:
        shutil.copytree(EXAMPLE, workdir, dirs_exist_ok=True)
        for path in [workdir, *workdir.rglob("*")]:
            os.chmod(path, 0o777 if path.is_dir() else 0o666)
        results = workdir / "results"
        results.mkdir()
        os.chmod(results, 0o555)
        cmd = [*prefix, sys.executable, "-m", "snakemake", "--snakefile",
               str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "1"]  # fmt: skip
        home = Path(tempfile.mkdtemp(dir="/tmp"))
        os.chmod(home, 0o777)
        env = os.environ | {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
                            "MPLCONFIGDIR": str(home / "mpl")}  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        shutil.rmtree(home, ignore_errors=True)
        assert done.returncode != 0
        assert "Cannot write to results/" in done.stderr, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
        assert list(results.iterdir()) == []
    finally:
        if workdir != tmp_path:
            shutil.rmtree(workdir, ignore_errors=True)
