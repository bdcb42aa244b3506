"""Incremental reruns of the one-job-per-condition workflow (SYNTHETIC review, 2 conditions).

Each test asks Snakemake what it would run (``--dry-run``) after one change, and checks that
exactly the affected jobs are listed: a no-op rerun runs nothing; editing one condition's
outcomes reruns that condition's jobs and the gather/report jobs only; a config key reruns
only the rules that receive it; a deleted figure redraws its condition's figures only.
"""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "synthetic_review"
GATHER = {"gather_effect_sizes", "gather_pooled", "gather_sensitivity", "plot_overview",
          "render_report", "write_provenance", "gosh", "analyse_repeated"}  # fmt: skip
#: Whole-review rules of the certainty stage; they read the combined tables, so they rerun
#: whenever any condition changes.
WHOLE_REVIEW = {"assess_certainty", "plot_certainty"}
#: Per-condition rules: their inputs are that condition's files (and shared raw tables) only.
PER_CONDITION = {"effect_sizes_condition", "pool_condition", "sensitivity_condition",
                 "gosh_condition", "repeated_condition", "plot_condition"}  # fmt: skip


def snakemake(workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", *extra]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def planned(workdir: Path) -> set[tuple[str, str]]:
    """(rule, condition or "") of every job a run would execute now (target rule aside)."""
    done = snakemake(workdir, "--dry-run")
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", done.stdout):
        rule = re.match(r"(?:local)?rule (\w+):", block.strip())
        if rule and rule.group(1) != "all":
            name = rule.group(1)
            condition = re.search(r"wildcards: .*?condition=([\w-]+)", block)
            jobs.add((name, condition.group(1) if condition else ""))
    return jobs


@pytest.fixture
def review(tmp_path_factory) -> Path:
    """A finished run of the example (made once, copied with its mtimes for each test)."""
    base = tmp_path_factory.getbasetemp() / "incremental-base"
    if not (base / "results" / "report.html").exists():
        shutil.copytree(EXAMPLE, base, dirs_exist_ok=True)
        result = snakemake(base)
        assert result.returncode == 0, result.stderr[-3000:]
    work = tmp_path_factory.mktemp("incremental")
    shutil.copytree(base, work, dirs_exist_ok=True, copy_function=shutil.copy2)
    return work


def test_no_op_rerun_runs_nothing(review):
    assert planned(review) == set()


def test_editing_one_condition_reruns_only_its_jobs_and_the_gathers(review):
    crps = review / "data" / "raw" / "outcomes" / "crps.csv"
    crps.write_text(crps.read_text().replace("20,20,4.1,1.9", "20,20,4.2,1.9", 1))
    jobs = planned(review)
    assert {(rule, "crps") for rule in PER_CONDITION} <= jobs
    assert {(rule, "") for rule in GATHER} <= jobs
    # No job of the other condition, figures included.
    assert not any(c == "fibromyalgia" for _, c in jobs)
    assert ("plot_condition", "fibromyalgia") not in jobs
    assert {rule for rule, _ in jobs} <= PER_CONDITION | GATHER | WHOLE_REVIEW


def test_a_config_key_reruns_only_the_rules_that_use_it(review):
    config = review / "config.yaml"
    config.write_text(config.read_text().replace("subgroups: [route]", "subgroups: [comparator]"))
    rules = {rule for rule, _ in planned(review)}
    assert "sensitivity_condition" in rules and "render_report" in rules
    assert not rules & {"effect_sizes_condition", "pool_condition", "gather_pooled"}


def test_a_deleted_figure_is_redrawn_with_its_condition_only(review):
    figure = next((review / "results/figures/fibromyalgia").glob("forest_fibromyalgia--*.svg"))
    figure.unlink()
    jobs = planned(review)
    assert ("plot_condition", "fibromyalgia") in jobs
    assert ("plot_condition", "crps") not in jobs
    assert not any(rule in {"effect_sizes_condition", "pool_condition"} for rule, _ in jobs)
    result = snakemake(review, "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    assert figure.exists()
    assert planned(review) == set()


def test_every_figure_is_in_a_declared_folder_with_a_report_caption(review):
    summary = snakemake(review, "--summary")
    assert summary.returncode == 0, summary.stderr[-3000:]
    declared = {line.split("\t")[0] for line in summary.stdout.splitlines()}
    folders = {"results/figures/crps", "results/figures/fibromyalgia"}
    assert folders <= declared
    figures = [p for folder in folders for p in (review / folder).glob("*.svg")]
    assert len(figures) > 5
    # `snakemake --report` lists each figure with its kind's caption.
    report = review / "report.zip"
    done = snakemake(review, "--report", str(report))
    assert done.returncode == 0, done.stderr[-3000:]
    with zipfile.ZipFile(report) as archive:
        names = archive.namelist()
        listed = {Path(n).name for n in names if n.endswith(".svg")}
        assert {p.name for p in figures} <= listed
        html = archive.read("report/report.html").decode("utf-8")
    assert "Contour-enhanced funnel plot" in html and "Forest plot (RevMan style)" in html
