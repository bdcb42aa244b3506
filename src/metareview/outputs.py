"""Writing output tables: deterministic bytes, full precision, formula-safe text cells."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

#: A text cell a spreadsheet would run as a formula: starts with =, +, @, or - before a letter.
FORMULA_START = re.compile(r"^(?:[=+@\t\r]|-(?=[A-Za-z]))")


def neutralize_formula(value):
    """Prefix a text cell that a spreadsheet would evaluate with an apostrophe."""
    if isinstance(value, str) and FORMULA_START.match(value):
        return "'" + value
    return value


def safe_for_spreadsheets(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a spreadsheet formula (numbers untouched)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralize_formula)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table with full float precision, LF line endings and no index."""
    safe_for_spreadsheets(frame).to_csv(path, index=False, lineterminator="\n")
