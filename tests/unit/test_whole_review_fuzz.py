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
import re
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from markupsafe import escape
from review_runner import run_review
from review_strategies import Review, reviews

from metareview.certainty.summary_of_findings import OVERFLOW_NOTE
from metareview.effect_sizes import VI_FLOOR
from metareview.io import read_table
from metareview.plots.figure_names import forest_name
from metareview.stats.binary_pooling import FEWER_THAN_TWO, NO_PI, NO_TAU2_CI
from metareview.validation import NUMBER

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
#: Review sizes (most studies, most conditions): ``make test`` draws small ones, ``make fuzz``
#: large ones unless ``FUZZ_SIZE`` says otherwise.
SIZES = {"small": (6, 1), "medium": (12, 2), "large": (40, 3)}
SIZE = os.environ.get("FUZZ_SIZE", "large" if os.environ.get("FUZZ_LARGE") else "small")
#: ``make fuzz`` splits the examples into shards run side by side (pytest-xdist), each with its
#: own random seed; ``FUZZ_LOG`` names a file that gets one line per finished example, so an
#: interrupted run still says how far it got.
SHARDS = int(os.environ.get("FUZZ_SHARDS", "1"))
LOG = os.environ.get("FUZZ_LOG", "")
FUZZ = settings(
    max_examples=-(-EXAMPLES // SHARDS),
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
NO_INTERVAL = {"tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high"}
COMMON_EMPTY = {"tau2", "tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "pi_low",
                "pi_high"}  # fmt: skip
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cells_are_safe(path: Path) -> None:
    """No text cell of a CSV we wrote can start a spreadsheet formula."""
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            for cell in row:
                if cell.startswith(FORMULA) and not NUMBER.match(cell) and cell != "-inf":
                    raise AssertionError(f"{path.name}, line {line}: unsafe cell {cell!r}")


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


#: Every number the data contract defines in each contract output (beyond pooled.csv), and
#: when it must be finite: ``always``; ``finite_or_overflow`` (or infinite, with the note
#: :data:`OVERFLOW_NOTE`: a ratio beyond the floating-point range); ``from_k2`` (the row's k >= 2; k = 1 leaves tau2, I²
#: empty); ``unless_noted`` (sensitivity.py, repeated.py: "where a number is undefined it is
#: left empty and the row's note says why", e.g. a meta-regression whose moderator does not
#: vary, Egger on identical SEs, a GLMM under separation or not converged). Nothing else may
#: be empty or infinite. Informational notes (:data:`INFORMATIONAL`) explain nothing.
CONTRACT_NUMBERS = {
    "subgroups.csv": {"always": ["k", "estimate", "se", "ci_low", "ci_high"],
                      "from_k2": ["tau2", "i2"]},
    # identical effects under hksj: "a subgroup standard error is 0: Q undefined"
    "subgroup_tests.csv": {"always": ["df"], "unless_noted": ["q_between", "p_value"]},
    "metaregression.csv": {"always": ["k"],
                           "unless_noted": ["intercept", "slope", "slope_se", "slope_ci_low",
                                            "slope_ci_high", "slope_p", "tau2", "r2"]},
    # all SEs equal: "Egger's test undefined", "trim-and-fill side undefined"
    "small_study.csv": {"always": ["k"],
                        "unless_noted": ["egger_t", "egger_p", "begg_tau", "begg_p",
                                         "trimfill_k0", "trimfill_estimate", "trimfill_ci_low",
                                         "trimfill_ci_high"]},
    "leave_one_out.csv": {"always": ["k", "estimate", "se", "ci_low", "ci_high", "p_value", "q"],
                          "from_k2": ["tau2", "i2"]},
    # a ratio bound beyond 1e308 (log scale > ~709) is inf, and the note says so
    "summary_of_findings.csv": {"always": ["k"],
                                "finite_or_overflow": ["relative_estimate", "relative_ci_low",
                                                       "relative_ci_high"]},
    "rare_events.csv": {"always": ["k"],
                        "unless_noted": ["estimate", "se", "ci_low", "ci_high", "tau2"]},
    "multilevel.csv": {"unless_noted": ["estimate", "se", "ci_low", "ci_high", "p_value",
                                        "sigma2_study", "sigma2_effect"]},
}  # fmt: skip
PROBABILITIES = ["p_value", "q_p", "egger_p", "begg_p", "slope_p"]
BINARY = {"RR", "OR", "RD"}
SOF_RISKS = ["control_risk_per_1000", "intervention_risk_per_1000",
             "intervention_risk_ci_low", "intervention_risk_ci_high"]  # fmt: skip


#: Notes that report something but explain no empty contract number: a row whose only notes
#: are these must have every ``unless_noted`` number.
INFORMATIONAL = re.compile(
    r"^(k = 2: no prediction interval"
    r"|tau2 CI bound beyond the search limit .*"
    r"|year missing: ordered last"
    r"|\d+ stud(y|ies) without a value left out"
    r"|\d+ double-zero stud(y|ies) dropped \(no information on the odds ratio\)"
    r"|\d+ effect\(s\) at week 0 left out \(ln 0 undefined\)"
    r"|no permutation test \(permutations: 0\)"
    r"|permutation p undefined"
    r"|(risk of bias not reported for any study|no study at high risk of bias): nothing excluded"
    r")$"
)


def explains_a_gap(note) -> bool:
    """The note says why a number is undefined: it has a clause beyond the informational."""
    clauses = [c.strip() for c in str(note or "").split("; ") if c.strip()]
    return any(not INFORMATIONAL.match(c) for c in clauses)


def check_contract_numbers(results: Path) -> None:
    """Every contract number of every contract table is finite, with the exceptions above."""
    for name, rules in CONTRACT_NUMBERS.items():
        path = results / name
        if not path.is_file():
            continue
        frame = read_table(path)
        for i, row in frame.iterrows():
            where = f"{name}, row {i + 2} ({row.get('outcome', '')})"
            k = float(row["k"]) if "k" in row and _finite(row["k"]) else math.inf
            must = list(rules.get("always", []))
            must += [c for c in rules.get("from_k2", []) if k >= 2]
            noted = explains_a_gap(row.get("note", ""))
            if not noted:
                must += rules.get("unless_noted", [])
            overflow = OVERFLOW_NOTE in str(row.get("note", ""))
            must += [c for c in rules.get("finite_or_overflow", [])
                     if not (overflow and math.isinf(float(row[c])))]  # fmt: skip
            bad = [c for c in must if not _finite(row[c])]
            assert not bad, f"{where}: not finite: {bad}; note {row.get('note', '')!r}"
            for c in ("se", "slope_se"):
                assert c not in row or not _finite(row[c]) or float(row[c]) >= 0, where
            for c in PROBABILITIES:
                if c in row and _finite(row[c]):
                    assert 0 <= float(row[c]) <= 1, f"{where}: {c} = {row[c]}"
            if name == "summary_of_findings.csv" and row["measure"] in BINARY:
                bad = [c for c in SOF_RISKS if not _finite(row[c])]
                assert not bad or noted, f"{where}: not finite and no note: {bad}"


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
        if row.get("model") == "common":  # analyses.csv: no τ², so no τ² CI, I² CI or PI
            expected = [c for c in expected if c not in COMMON_EMPTY]
        note = str(row.get("note", ""))
        if NO_TAU2_CI in note or FEWER_THAN_TWO in note:  # MH/Peto random effects, as RevMan
            expected = [c for c in expected if c not in NO_INTERVAL]
        if NO_PI in note or FEWER_THAN_TWO in note:  # < 3 tables in the MH/Peto model
            expected = [c for c in expected if c not in ("pi_low", "pi_high")]
        bad = [c for c in expected if not math.isfinite(float(row[c]))]
        assert not bad, f"{row['analysis_id']} (k = {k}): not finite: {bad}"
        assert float(row["se"]) >= 0 and (k < 2 or float(row["q"]) >= 0)
        folder = root / "results/figures" / str(row["condition"])
        assert (folder / forest_name(row["analysis_id"])).is_file()
    assert (root / "results/figures/overview.svg").is_file()
    check_contract_numbers(root / "results")
    for _, row in included.iterrows():
        bad = [c for c in ("yi", "vi", "sei", "ci_low", "ci_high") if not _finite(row[c])]
        assert not bad, f"effect_sizes.csv, {row['study_id']}: not finite: {bad}"
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
    levels = {float(review.config.get("level", 0.95))}
    levels |= {float(a["level"]) for a in review.analyses if a.get("level")}
    if 0.95 not in levels:  # every CI is named by its level, in the report and the figures
        # The report may quote a source's "95% CI" (an input conversion); a figure never.
        report = ("[95% CI]", "(95% CI)", "model-based 95% CI", "robust 95% CI", "95% PI")
        shown = [(root / "results/report.md", report), (root / "results/report.html", report)]
        shown += [(svg, ("95% CI", "95% PI")) for svg in sorted(root.rglob("results/**/*.svg"))]
        for path, needles in shown:
            text = path.read_text(encoding="utf-8")
            named = [n for n in needles if n in text]
            assert not named, f"levels {sorted(levels)} but {path.name} says {named}"
    assert not list(root.rglob("*.tmp")), "a temporary file was left behind"


def run_and_check(review: Review) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = review.write(Path(tmp))
        run_review(root)
        check_review(root, review)


def log_example(shard: int, review: Review, seconds: float) -> None:
    if LOG:
        rows = sum(len(r) for r in review.outcomes.values())
        with open(LOG, "a", encoding="utf-8") as handle:
            handle.write(f"shard {shard} passed {seconds:.1f} s: {len(review.studies)} studies, "
                         f"{len(review.outcomes)} conditions, {rows} outcome rows\n")  # fmt: skip


@pytest.mark.parametrize("shard", range(SHARDS))
@FUZZ
@given(review=reviews(*SIZES[SIZE]))
def test_every_generated_review_runs_to_a_report(shard, review):
    assume(review.outcomes)
    failed = Path(f"{LOG}.failed") if LOG else None
    # With -x, pytest-xdist reports a failure only when every other shard has finished its
    # examples (hours): the other shards stop at their next example instead.
    if failed and failed.exists() and failed.read_text(encoding="utf-8") != str(shard):
        pytest.skip(f"stopped: shard {failed.read_text(encoding='utf-8')} found a failure")
    start = time.perf_counter()
    try:
        run_and_check(review)
    except Exception:
        if failed:
            failed.write_text(str(shard), encoding="utf-8")
            with open(LOG, "a", encoding="utf-8") as handle:
                handle.write(f"shard {shard} FAILED: see the pytest report\n")
        raise
    log_example(shard, review, time.perf_counter() - start)


def test_pooled_table_types_survive_the_reader(tmp_path):
    frame = pd.DataFrame({"analysis_id": ["001--1--w1"], "k": [3]})
    frame.to_csv(tmp_path / "pooled.csv", index=False)
    assert read_table(tmp_path / "pooled.csv")["analysis_id"].tolist() == ["001--1--w1"]


def test_an_informational_note_does_not_excuse_an_empty_number(tmp_path):
    assert not explains_a_gap("2 double-zero studies dropped (no information on the odds ratio)")
    assert not explains_a_gap("k = 2: no prediction interval; year missing: ordered last")
    assert explains_a_gap("1 double-zero study dropped (no information on the odds ratio); "
                          "odds ratio not estimable: the estimate diverges (separation)")  # fmt: skip
    pd.DataFrame({"outcome": ["x"], "k": [3], "estimate": [float("nan")], "se": [1.0],
                  "ci_low": [0.0], "ci_high": [1.0], "tau2": [0.0],
                  "note": ["1 double-zero study dropped (no information on the odds ratio)"]}
                 ).to_csv(tmp_path / "rare_events.csv", index=False)  # fmt: skip
    with pytest.raises(AssertionError, match="not finite: \\['estimate'\\]"):
        check_contract_numbers(tmp_path)
