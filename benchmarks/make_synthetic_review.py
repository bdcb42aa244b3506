"""Write a SYNTHETIC review folder (invented numbers, not real trials) for scale benchmarks.

    python benchmarks/make_synthetic_review.py OUT_DIR --conditions 100 [--seed 1]

The folder has ``config.yaml`` and ``data/raw/`` (``studies.csv``, one
``outcomes/<condition>.csv`` per condition) in the data contract's format, and runs with
``snakemake --snakefile <repo>/Snakefile --directory OUT_DIR``. Every condition has 2 to 8
studies and four analyses: a continuous pain score at weeks 1 and 4 (arm SDs, SEs, CIs or
medians), 30% responders at week 4 and any adverse event at week 1 (binary, some zero
cells). Same arguments give the same bytes (seeded ``numpy.random.default_rng``).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

LABEL = "SYNTHETIC benchmark data - invented numbers, not a real trial"
OUTCOME_COLUMNS = [
    "study_id", "outcome", "timepoint_weeks", "exp_n", "ctl_n", "exp_mean", "exp_sd",
    "ctl_mean", "ctl_sd", "exp_se", "ctl_se", "exp_ci_low", "exp_ci_high", "ctl_ci_low",
    "ctl_ci_high", "exp_median", "exp_q1", "exp_q3", "ctl_median", "ctl_q1", "ctl_q3",
    "exp_events", "ctl_events", "scale_min", "scale_max", "higher_is_better", "assumptions",
]  # fmt: skip
STUDY_COLUMNS = [
    "study_id", "label", "year", "design", "route", "comparator", "dose_mg_kg", "sessions",
    "risk_of_bias", "condition", "citation",
]  # fmt: skip
CONFIG = """\
# SYNTHETIC benchmark review: invented numbers, not real trials.
tau2_method: REML
ci_method: hksj
harmonize_scale_to: 10
subgroups: [route]
moderators: [dose_mg_kg]
"""


def _r(x: float, digits: int = 2) -> str:
    return f"{round(float(x), digits):g}"


def continuous_row(rng, sid: str, week: int, n1: int, n2: int) -> dict:
    """One pain row, reported as SD, SE, 95% CI or median/IQR (chosen at random)."""
    sd1, sd2 = rng.uniform(1.2, 2.8, 2)
    m2 = rng.uniform(4.5, 7.5)
    m1 = min(max(m2 + rng.normal(-0.8, 0.9), 0.5), 9.5)  # a mean inside the 0-10 scale
    row = {
        "study_id": sid,
        "outcome": "pain_intensity",
        "timepoint_weeks": week,
        "exp_n": n1,
        "ctl_n": n2,
        "scale_min": 0,
        "scale_max": 10,
        "higher_is_better": "false",
    }
    kind = rng.integers(0, 4)
    if kind == 0:
        row |= {"exp_mean": _r(m1), "exp_sd": _r(sd1), "ctl_mean": _r(m2), "ctl_sd": _r(sd2)}
    elif kind == 1:
        row |= {
            "exp_mean": _r(m1),
            "exp_se": _r(sd1 / np.sqrt(n1), 3),
            "ctl_mean": _r(m2),
            "ctl_se": _r(sd2 / np.sqrt(n2), 3),
            "assumptions": "unlabelled ± read as SEM",
        }
    elif kind == 2:
        h1, h2 = 1.96 * sd1 / np.sqrt(n1), 1.96 * sd2 / np.sqrt(n2)
        row |= {
            "exp_mean": _r(m1),
            "exp_ci_low": _r(m1 - h1),
            "exp_ci_high": _r(m1 + h1),
            "ctl_mean": _r(m2),
            "ctl_ci_low": _r(m2 - h2),
            "ctl_ci_high": _r(m2 + h2),
        }
    else:
        row |= {
            "exp_median": _r(m1, 1),
            "exp_q1": _r(max(m1 - 1.3 * sd1 / 2, 0.0), 1),
            "exp_q3": _r(min(m1 + 1.3 * sd1 / 2, 10.0), 1),
            "ctl_median": _r(m2, 1),
            "ctl_q1": _r(max(m2 - 1.3 * sd2 / 2, 0.0), 1),
            "ctl_q3": _r(min(m2 + 1.3 * sd2 / 2, 10.0), 1),
        }
    return row


def binary_row(rng, sid: str, outcome: str, week: int, n1: int, n2: int, p1, p2) -> dict:
    return {
        "study_id": sid,
        "outcome": outcome,
        "timepoint_weeks": week,
        "exp_n": n1,
        "ctl_n": n2,
        "exp_events": int(rng.binomial(n1, p1)),
        "ctl_events": int(rng.binomial(n2, p2)),
        "higher_is_better": "true" if outcome.startswith("responders") else "false",
    }


def make_review(out: Path, n_conditions: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    (out / "data" / "raw" / "outcomes").mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(CONFIG, encoding="utf-8")
    studies = []
    for c in range(1, n_conditions + 1):
        condition = f"syn{c:04d}"
        rows = []
        for s in range(1, int(rng.integers(2, 9)) + 1):
            sid = f"{condition}-s{s}"
            studies.append(
                {
                    "study_id": sid,
                    "label": f"Synthetic {c}.{s}",
                    "year": int(rng.integers(1995, 2024)),
                    "design": "parallel",
                    "route": str(rng.choice(["iv", "oral", "intranasal"])),
                    "comparator": "placebo",
                    "dose_mg_kg": _r(rng.uniform(0.1, 3.0)),
                    "sessions": int(rng.integers(1, 6)),
                    "risk_of_bias": str(rng.choice(["low", "some", "high"])),
                    "condition": condition,
                    "citation": LABEL,
                }
            )
            n1, n2 = (int(x) for x in rng.integers(12, 80, 2))
            for week in (1, 4):
                rows.append(continuous_row(rng, sid, week, n1, n2))
            rows.append(binary_row(rng, sid, "responders_30", 4, n1, n2, 0.45, 0.25))
            rows.append(binary_row(rng, sid, "ae_any", 1, n1, n2, 0.08, 0.03))
        _write(out / "data" / "raw" / "outcomes" / f"{condition}.csv", OUTCOME_COLUMNS, rows)
    _write(out / "data" / "raw" / "studies.csv", STUDY_COLUMNS, studies)


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--conditions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    make_review(args.out, args.conditions, args.seed)


if __name__ == "__main__":
    main()
