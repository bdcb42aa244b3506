"""Check (or update) the bundled review's published results against a fresh regeneration.

    python tools/published.py check    # regenerate from data/raw/ in a scratch copy; diff
    python tools/published.py update   # regenerate and rewrite the committed files

Committed: ``results/pooled.csv`` and ``results/report.md`` verbatim, and
``results/MANIFEST.sha256`` with the SHA-256 of every other output. ``check`` exits 1 with a
readable diff when anything differs, so a change in numbers must be a deliberate commit.
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VERBATIM = ("results/pooled.csv", "results/report.md")
MANIFEST = "results/MANIFEST.sha256"
#: Not pinned by content: provenance records the interpreter's patch version.
UNLISTED = {"results/provenance.json", MANIFEST}
#: Per-condition intermediates (``results/conditions/``, ``data/processed/conditions/``): their
#: rows are the combined tables' rows, which are pinned.
PER_CONDITION = "conditions"


def regenerate(workdir: Path) -> None:
    shutil.copytree(REPO / "data" / "raw", workdir / "data" / "raw")
    shutil.copy(REPO / "config.yaml", workdir / "config.yaml")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", "--quiet"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"regeneration failed:\n{done.stderr[-4000:]}")


def outputs(root: Path) -> dict[str, str]:
    files = sorted(
        (p, sub)
        for sub in ("results", "data/processed")
        for p in (root / sub).rglob("*")
        if p.is_file()
    )
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p, sub in files
        if str(p.relative_to(root)) not in UNLISTED
        and not p.name.startswith(".")
        and PER_CONDITION not in p.relative_to(root / sub).parts[:1]
    }


def manifest_text(hashes: dict[str, str]) -> str:
    listed = (path for path in hashes if path not in VERBATIM)
    return "".join(f"{hashes[path]}  {path}\n" for path in listed)


def check(fresh: Path) -> int:
    problems = []
    for rel in VERBATIM:
        new = fresh / rel
        old = REPO / rel
        if not new.exists():
            continue
        old_lines = old.read_text().splitlines(keepends=True) if old.exists() else []
        new_lines = new.read_text().splitlines(keepends=True)
        names = f"committed/{rel}", f"regenerated/{rel}"
        diff = list(difflib.unified_diff(old_lines, new_lines, *names, n=1))
        if diff:
            problems.append("".join(diff[:200]))
    committed = (REPO / MANIFEST).read_text() if (REPO / MANIFEST).exists() else ""
    regenerated = manifest_text(outputs(fresh))
    names = f"committed/{MANIFEST}", f"regenerated/{MANIFEST}"
    diff = list(
        difflib.unified_diff(
            committed.splitlines(keepends=True), regenerated.splitlines(keepends=True), *names, n=0
        )
    )
    if diff:
        problems.append("".join(diff))
    if problems:
        print("Published results differ from a regeneration from data/raw/.\n"
              "If the change is intended, run `make publish` and commit.\n")  # fmt: skip
        print("\n".join(problems))
        return 1
    print("published results reproduce byte for byte")
    return 0


def update(fresh: Path) -> int:
    for rel in VERBATIM:
        if (fresh / rel).exists():
            shutil.copy(fresh / rel, REPO / rel)
    (REPO / MANIFEST).write_text(manifest_text(outputs(fresh)))
    print(f"updated {', '.join(VERBATIM)} and {MANIFEST}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("check", "update"):
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        regenerate(Path(tmp))
        return check(Path(tmp)) if argv[0] == "check" else update(Path(tmp))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
