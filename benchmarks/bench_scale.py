"""Scale benchmark: the workflow on SYNTHETIC reviews of growing size.

    python benchmarks/bench_scale.py [--conditions 10 100 300] [--cores 2] [--out DIR] [--seed 1]

For each size it writes a synthetic review (``make_synthetic_review.py``, seeded) and times
four runs of ``snakemake --cores N``: cold (empty results), no-op rerun, and a rerun after
editing one condition's outcomes file; it also counts the jobs each run executed. Peak
memory is the largest resident set of any single process of the run (GNU ``time``'s %M).
Prints a Markdown table (the one in README.md).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from make_synthetic_review import make_review  # noqa: E402


def timed_run(workdir: Path, cores: int) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MB, jobs run) of one snakemake invocation."""
    cmd = ["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-m", "snakemake",
           "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", str(cores)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"run failed in {workdir}:\n{done.stderr[-3000:]}")
    wall, rss = re.findall(r"TIME ([\d.]+) (\d+)", done.stderr)[-1]
    jobs = re.search(r"(\d+) of \1 steps \(100%\) done", done.stderr)
    return float(wall), int(rss) // 1024, int(jobs.group(1)) if jobs else 0


def edit_one_condition(workdir: Path) -> None:
    """Change one number in the first condition's outcomes (a valid edit)."""
    first = sorted((workdir / "data" / "raw" / "outcomes").glob("*.csv"))[0]
    lines = first.read_text().splitlines(keepends=True)
    cells = lines[1].split(",")
    cells[3] = str(int(cells[3]) + 1)  # exp_n of the first row
    lines[1] = ",".join(cells)
    first.write_text("".join(lines))


def bench(n: int, cores: int, root: Path, seed: int = 1) -> dict:
    workdir = root / f"review_{n}"
    shutil.rmtree(workdir, ignore_errors=True)
    make_review(workdir, n, seed=seed)
    cold, cold_rss, cold_jobs = timed_run(workdir, cores)
    noop, _, noop_jobs = timed_run(workdir, cores)
    edit_one_condition(workdir)
    edit, edit_rss, edit_jobs = timed_run(workdir, cores)
    return {"n": n, "cold": cold, "cold_jobs": cold_jobs, "noop": noop, "noop_jobs": noop_jobs,
            "edit": edit, "edit_jobs": edit_jobs, "rss": max(cold_rss, edit_rss)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1, help="synthetic review seed")
    args = parser.parse_args(argv)
    root = args.out or Path(tempfile.mkdtemp(prefix="metareview-scale-"))
    print("| conditions | cold run (jobs) | s per condition | no-op rerun | "
          "one condition edited (jobs) | peak memory |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.conditions:
        r = bench(n, args.cores, root, args.seed)
        print(f"| {n} | {r['cold']:.0f} s ({r['cold_jobs']}) | {r['cold'] / n:.2f} | "
              f"{r['noop']:.1f} s ({r['noop_jobs']}) | {r['edit']:.0f} s ({r['edit_jobs']}) | "
              f"{r['rss']} MB |", flush=True)  # fmt: skip
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
