"""Light helpers for the one-job-per-condition workflow (standard library only).

Imported by ``workflow/rules/common.smk`` at parse time, so nothing here may be slow or import
the scientific stack: parse time is paid on every run, including a no-op rerun.

- :func:`source_digests`: a SHA-256 per part of the package (``core`` statistics, ``plots``,
  ``report``). Rules pass the digest of what they run as a ``params`` value, so that with
  Snakemake's default ``--rerun-triggers`` (which include ``params``) a change in the
  package's code reruns exactly the rules that use that code.
- :func:`write_figure_manifest`, :func:`read_figure_manifest`, :func:`stale_figure_manifests`:
  a per-condition figure job writes its SVGs into ``results/figures/<condition>/`` (a
  ``directory()`` output: which figures a condition has depends on its data, a funnel plot
  needs k ≥ 3) and lists them (with their SHA-256) in
  ``results/conditions/<condition>/figures.sha256``. Snakemake does not look inside an
  output folder, so when a listed figure is missing or edited, :func:`stale_figure_manifests`
  marks the manifest out of date (its mtime is set to 0), and the next run regenerates that
  condition's figures and nothing else.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

#: The tables of a condition's sensitivity folder (``results/conditions/<c>/sensitivity/``)
#: and of the combined ``results/<table>.csv``; their columns are
#: ``metareview.sensitivity.COLUMNS``. Named here, without pandas, for the Snakefile.
SENSITIVITY_TABLES = (
    "subgroups", "subgroup_tests", "metaregression", "small_study", "leave_one_out",
    "influence", "cumulative", "rob_sensitivity", "trimfill_filled",
)  # fmt: skip

PACKAGE = Path(__file__).resolve().parent
#: Package parts and the files under ``PACKAGE`` that make them (statistics = everything
#: outside ``plots/`` and ``report/``).
PARTS = ("core", "plots", "report")
SOURCE_SUFFIXES = {".py", ".j2", ".yaml", ".css", ".json"}


def _part(relative: Path) -> str:
    top = relative.parts[0] if len(relative.parts) > 1 else ""
    return top if top in ("plots", "report") else "core"


def source_digests(package: Path = PACKAGE) -> dict[str, str]:
    """SHA-256 (hex, first 16 characters) of the sources of each part of the package.

    Files are read in sorted path order; ``__pycache__`` is ignored.
    """
    hashes = {part: hashlib.sha256() for part in PARTS}
    for path in sorted(package.rglob("*")):
        if path.suffix not in SOURCE_SUFFIXES or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(package)
        digest = hashes[_part(relative)]
        digest.update(str(relative.as_posix()).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return {part: h.hexdigest()[:16] for part, h in hashes.items()}


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_figure_manifest(manifest: str | Path, figures: list[str | Path]) -> None:
    """List figure files (as given, relative to the working directory) with their SHA-256."""
    lines = [f"{sha256_file(path)}  {Path(path).as_posix()}\n" for path in figures]
    Path(manifest).write_text("".join(lines), encoding="utf-8", newline="\n")


def read_figure_manifest(manifest: str | Path) -> list[tuple[str, str]]:
    """(sha256, path) pairs of a manifest written by :func:`write_figure_manifest`."""
    pairs = []
    for line in Path(manifest).read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, path = line.split("  ", 1)
            pairs.append((digest, path))
    return pairs


def figure_manifest_is_current(manifest: str | Path, check_content: bool = False) -> bool:
    """Whether every figure listed in ``manifest`` exists (and, optionally, is unchanged).

    Existence is checked with one ``stat`` per figure; a figure newer than the manifest
    (edited by hand) is hashed and compared.
    """
    manifest = Path(manifest)
    written = manifest.stat().st_mtime
    for digest, path in read_figure_manifest(manifest):
        try:
            mtime = os.stat(path).st_mtime
        except FileNotFoundError:
            return False
        if (check_content or mtime > written) and sha256_file(path) != digest:
            return False
    return True


def stale_figure_manifests(manifests: list[str | Path]) -> list[str]:
    """Mark manifests whose figures are missing or changed as out of date; return them.

    Marking sets the manifest's mtime to 0 (the epoch), so Snakemake sees its inputs as newer
    and reruns the job that writes it. Manifests that do not exist yet are skipped.
    """
    stale = []
    for manifest in manifests:
        if Path(manifest).exists() and not figure_manifest_is_current(manifest):
            os.utime(manifest, (0, 0))
            stale.append(str(manifest))
    return stale


def unwritable_folders(root: Path | str, folders=("results", "data/processed", "logs")) -> str:
    """A message naming the output folders under ``root`` that exist but cannot be written
    ('' when all can). Probed by creating a file, so it also holds for root and read-only
    mounts."""
    bad = []
    for folder in folders:
        path = Path(root) / folder
        if not path.is_dir():
            continue
        try:
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError:
            bad.append(folder)
    if not bad:
        return ""
    names = ", ".join(f"{b}/" for b in bad)
    return (
        f"Cannot write to {names} (permission denied or read-only); make it writable "
        "(e.g. chmod -R u+w) or remove it. Nothing was run."
    )
