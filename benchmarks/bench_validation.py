"""Validation speed: time grows linearly; 100,000 outcome rows validate in well under a
minute (~5 s of CPU on one core, measured 2026-11-22).

SYNTHETIC rows only. Run with `make bench`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from metareview.io import load_inputs

HEADER = "study_id,outcome,timepoint_weeks,exp_n,ctl_n,exp_mean,exp_sd,ctl_mean,ctl_sd\n"


def write_review(root: Path, rows: int) -> None:
    raw = root / "data" / "raw"
    (raw / "outcomes").mkdir(parents=True)
    studies = ["study_id,label,year,design"] + [
        f"s{i},Synthetic {i},2000,parallel" for i in range(rows)
    ]
    (raw / "studies.csv").write_text("\n".join(studies) + "\n")
    lines = [f"s{i},pain,1,20,20,4.1,1.9,5.6,2.0" for i in range(rows)]
    (raw / "outcomes" / "x.csv").write_text(HEADER + "\n".join(lines) + "\n")


def main() -> None:
    times = {}
    for rows in (10_000, 100_000):
        with tempfile.TemporaryDirectory() as tmp:
            write_review(Path(tmp), rows)
            start = time.perf_counter()
            load_inputs(tmp)
            seconds = time.perf_counter() - start
        times[rows] = seconds
        print(f"validate {rows:>7} rows: {seconds:6.2f} s")
    ratio = times[100_000] / times[10_000]
    print(f"10x the rows took {ratio:.1f}x the time (linear: ~10x; quadratic: ~100x)")
    assert ratio < 20, "validation time grows faster than linearly"
    assert times[100_000] < 60, "validation of 100,000 rows took more than a minute"


if __name__ == "__main__":
    main()
