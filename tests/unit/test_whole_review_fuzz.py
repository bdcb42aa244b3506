"""Whole-review property test: generated valid reviews run through every stage's entry point.

Each example is a complete SYNTHETIC review folder (tests/review_strategies.py): studies with
tricky ids and labels, several conditions, every measure and estimator, single-arm rows,
several timepoints, generic effects, zero cells, huge and tiny n, identical effects, rare
events. Every rule's ``main()`` runs in-process (tests/review_runner.py); each must finish,
write its outputs, and every number the contract defines for that input must be finite.

``make test`` runs a fast profile (FUZZ_EXAMPLES, default 5, small reviews); ``make fuzz`` runs thousands.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, assume, given, settings
from markupsafe import escape
from review_runner import run_review
from review_strategies import Review, reviews

from metareview.effect_sizes import VI_FLOOR
from metareview.io import read_table
from metareview.plots.figure_names import forest_name
from metareview.validation import NUMBER

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
#: ``make fuzz`` draws larger reviews (up to 40 studies, 3 conditions).
LARGE = os.environ.get("FUZZ_LARGE", "") != ""
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("FUZZ_RANDOM", "") == "",
    print_blob=True,
    # Shrinking a whole review takes many minutes; FUZZ_SHRINK=1 turns it on.
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    + ([Phase.shrink] if os.environ.get("FUZZ_SHRINK") else []),
)

ALWAYS = ["estimate", "se", "ci_low", "ci_high", "p_value",
          "fe_estimate", "fe_se", "fe_ci_low", "fe_ci_high"]  # fmt: skip
FROM_K2 = ["tau2", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high", "h2",
           "q", "q_df", "q_p"]  # fmt: skip
FROM_K3 = ["pi_low", "pi_high"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cells_are_safe(path: Path) -> None:
    """No text cell of a CSV we wrote can start a spreadsheet formula."""
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            for cell in row:
                if cell.startswith(FORMULA) and not NUMBER.match(cell) and cell != "-inf":
                    raise AssertionError(f"{path.name}, line {line}: unsafe cell {cell!r}")


def check_review(root: Path, review: Review) -> None:
    effects = read_table(root / "data/processed/effect_sizes.csv")
    pooled = read_table(root / "results/pooled.csv")
    assert len(effects) == sum(len(rows) for rows in review.outcomes.values())
    included = effects[effects["included"]]
    assert included["yi"].map(math.isfinite).all()
    assert (included["vi"] >= VI_FLOOR).all()
    assert pooled["analysis_id"].is_unique
    for _, row in pooled.iterrows():
        k = int(row["k"])
        expected = ALWAYS + (FROM_K2 if k >= 2 else []) + (FROM_K3 if k >= 3 else [])
        bad = [c for c in expected if not math.isfinite(float(row[c]))]
        assert not bad, f"{row['analysis_id']} (k = {k}): not finite: {bad}"
        assert float(row["se"]) >= 0 and (k < 2 or float(row["q"]) >= 0)
        assert (root / "results/figures" / forest_name(row["analysis_id"])).is_file()
    assert (root / "results/figures/overview.svg").is_file()
    for path in [*(root / "results").glob("*.csv"), root / "data/processed/effect_sizes.csv"]:
        csv_cells_are_safe(path)
    for name in ("report.html", "report.md", "provenance.json"):
        assert (root / "results" / name).stat().st_size > 0
    report = (root / "results/report.html").read_text(encoding="utf-8")
    labels = {s["study_id"]: s["label"] for s in review.studies}
    for sid in included["study_id"]:
        label = labels[sid]
        assert str(escape(label)) in report or len(label) > 60, (
            f"label {label!r} not shown as written"
        )
    assert "'=SUM" not in report and "&#x27;=SUM" not in report and "&#39;=SUM" not in report
    assert not list(root.rglob("*.tmp")), "a temporary file was left behind"


def run_and_check(review: Review) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = review.write(Path(tmp))
        run_review(root)
        check_review(root, review)


@FUZZ
@given(review=reviews(max_studies=40, max_conditions=3) if LARGE else reviews(6, 1))
def test_every_generated_review_runs_to_a_report(review):
    assume(review.outcomes)
    run_and_check(review)


def test_pooled_table_types_survive_the_reader(tmp_path):
    frame = pd.DataFrame({"analysis_id": ["001--1--w1"], "k": [3]})
    frame.to_csv(tmp_path / "pooled.csv", index=False)
    assert read_table(tmp_path / "pooled.csv")["analysis_id"].tolist() == ["001--1--w1"]
