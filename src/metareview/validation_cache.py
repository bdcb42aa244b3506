"""Validate ``data/raw/`` before any rule runs, re-checking only what changed since last time.

Validating every outcome table on every Snakemake start would make a no-op rerun of a large
review slow (about 2 ms per row). :func:`validate_inputs` therefore keeps a record of the
inputs that validated (``.snakemake/metareview/validated.json``: size and mtime of every file
under ``data/raw/``, the validated config, and the digest of the package code that validated
them):

- nothing changed: no table is read;
- only the contents of some ``outcomes/<condition>.csv`` changed (same set of files, same
  ``studies.csv`` and other tables, same config and code): ``studies.csv`` and the changed
  tables are validated;
- anything else (a file added or removed, ``studies.csv`` or the config edited, the code
  changed, no record): everything is validated, as :func:`metareview.io.load_inputs` does.

A failure raises :class:`~metareview.validation.InputError` and leaves the record untouched,
so the next start validates again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

RECORD = Path(".snakemake") / "metareview" / "validated.json"


def _stats(root: Path) -> dict[str, list[int]]:
    raw = root / "data" / "raw"
    out = {}
    for path in sorted(raw.rglob("*")) if raw.is_dir() else []:
        if path.is_file():
            st = path.stat()
            out[path.relative_to(root).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def _available(stats: dict) -> list[str]:
    prefix = "data/raw/outcomes/"
    return sorted(
        p[len(prefix) : -len(".csv")]
        for p in stats
        if p.startswith(prefix) and p.endswith(".csv") and "/" not in p[len(prefix) :]
    )


def validate_inputs(
    root: str | Path,
    config: dict,
    code: str,
    cross_checks: Callable | None = None,
    partial: bool = True,
) -> list[str]:
    """Validate the raw inputs under ``root`` (incrementally) and return the conditions.

    ``config`` is the validated config (defaults filled); ``code`` a digest of the package
    code (:func:`metareview.jobs.source_digests`). ``cross_checks(raw)`` (checks between
    tables, e.g. ``analyses.csv`` against the outcomes) runs whenever everything is
    validated; with ``partial=False`` (such checks need every table) an edited outcome table
    validates everything. Returns the sorted condition slugs.
    """
    root = Path(root)
    record_file = root / RECORD
    stats = _stats(root)
    key = json.dumps({"config": config, "code": code}, sort_keys=True, default=str)
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    wanted = list(config.get("conditions") or []) or _available(stats)
    outcome = {f"data/raw/outcomes/{c}.csv" for c in wanted}
    old = record.get("stats", {})
    if record.get("key") == key and set(old) == set(stats):
        changed = sorted(p for p in stats if old[p] != stats[p])
        if not changed:
            return sorted(record["conditions"])
        if partial and set(changed) <= outcome:
            conditions = [Path(p).stem for p in changed]
            _validate(root, config, conditions)
            _save(record_file, key, stats, record["conditions"])
            return sorted(record["conditions"])
    conditions = _validate(root, config, wanted or None, cross_checks)
    _save(record_file, key, stats, conditions)
    return conditions


def cross_file_checks(root: str | Path, config: dict, raw) -> None:
    """Checks between tables (run whenever every table is validated): ``analyses.csv``
    against the outcomes, and the certainty inputs (``risk_of_bias.csv``, ``prisma.yaml``,
    GRADE overrides), whose outcome names are checked only when every condition is loaded."""
    from metareview.analysis_settings import check_analyses_against, read_analyses
    from metareview.certainty.inputs import check_certainty_inputs

    check_analyses_against(read_analyses(root), raw.outcomes)
    every_condition = not config.get("conditions")
    check_certainty_inputs(root, raw.studies, raw.outcomes if every_condition else None)


def _validate(
    root: Path, config: dict, conditions: list[str] | None, cross_checks: Callable | None = None
) -> list[str]:
    from metareview.config import check_config_columns
    from metareview.io import load_inputs

    raw = load_inputs(root, conditions)
    check_config_columns(config, raw.studies)
    if cross_checks is not None:
        cross_checks(raw)
    return sorted(str(c) for c in raw.outcomes["condition"].unique())


def _save(record_file: Path, key: str, stats: dict, conditions: list[str]) -> None:
    """Write the record (atomically); an unwritable folder only costs a full validation."""
    try:
        record_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = record_file.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"key": key, "stats": stats, "conditions": sorted(conditions)}, indent=1),
            encoding="utf-8",
        )
        os.replace(tmp, record_file)
    except OSError:
        pass
