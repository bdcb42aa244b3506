"""Reviewer overrides of GRADE domains from the optional ``data/raw/analyses.csv``.

Only the columns this module needs are read: the analysis keys ``condition, outcome,
timepoint_weeks`` (blank timepoint = every timepoint) and, per GRADE domain, ``grade_<domain>``
(``0``, ``-1`` or ``-2``) with a required ``grade_<domain>_reason``. The keys and the
per-analysis method settings are validated by :func:`metareview.analysis_settings.read_analyses`
(which keeps extra columns); this module checks only the GRADE columns, with their lines.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from metareview.certainty.grade import DOMAINS
from metareview.io import present, read_csv_text
from metareview.validation import SLUG, InputError, Problem, parse_number

FILE = "data/raw/analyses.csv"
VALUES = ("0", "-1", "-2")
COLUMNS = tuple(f"grade_{d}" for d in DOMAINS)


def validate_overrides(frame: pd.DataFrame, file: str = FILE) -> tuple[list[dict], list[Problem]]:
    """Rows with at least one override: keys, ``{domain: (value, reason)}`` and the line."""
    problems: list[Problem] = []
    for col in ("condition", "outcome"):
        if col not in frame.columns:
            problems.append(Problem(file, 1, col, "required column is missing"))
    if problems:
        return [], problems
    lines = frame.attrs.get("lines", [i + 2 for i in range(len(frame))])
    out = []
    for i, (_, row) in enumerate(frame.iterrows()):
        line = lines[i]
        found: dict[str, tuple[int, str]] = {}
        for domain, col in zip(DOMAINS, COLUMNS, strict=True):
            value = str(row.get(col, "") or "").strip()
            reason = str(row.get(f"{col}_reason", "") or "").strip()
            if value == "":
                if reason:
                    problems.append(
                        Problem(file, line, col, "a reason is given but no override value")
                    )
                continue
            if value not in VALUES:
                problems.append(
                    Problem(file, line, col, f"'{value}' is not allowed; use one of 0, -1, -2")
                )
                continue
            if not reason:
                problems.append(Problem(file, line, f"{col}_reason", "an override needs a reason"))
                continue
            found[domain] = (int(value), reason)
        if not found:
            continue
        for col in ("condition", "outcome"):
            if not SLUG.match(str(row[col])):
                problems.append(Problem(file, line, col, f"'{row[col]}' is not a slug"))
        weeks = parse_number(
            str(row.get("timepoint_weeks", "") or ""), file, line, "timepoint_weeks", problems
        )
        out.append(
            {
                "condition": str(row["condition"]),
                "outcome": str(row["outcome"]),
                "timepoint_weeks": weeks,
                "overrides": found,
                "line": line,
            }
        )
    return out, problems


def load_overrides(root: Path | str) -> list[dict]:
    """The override rows of ``data/raw/analyses.csv`` (empty when absent); InputError if bad."""
    path = Path(root) / FILE
    if not present(path):
        return []
    rows, problems = validate_overrides(read_csv_text(path, FILE))
    if problems:
        raise InputError(problems)
    return rows


def overrides_for(rows: list[dict], condition: str, outcome: str, weeks: float) -> dict:
    """Overrides for one analysis; a row with the exact timepoint wins over a blank one."""
    found: dict = {}
    for exact in (False, True):
        for row in rows:
            if row["condition"] != condition or row["outcome"] != outcome:
                continue
            blank = math.isnan(row["timepoint_weeks"])
            matches = (
                not blank and math.isclose(row["timepoint_weeks"], float(weeks))
                if exact
                else blank
            )
            if matches:
                where = f"analyses.csv line {row['line']}"
                found |= {d: (v, f"{r} ({where})") for d, (v, r) in row["overrides"].items()}
    return found


__all__ = ["COLUMNS", "load_overrides", "overrides_for", "validate_overrides"]
