"""Writing output tables: deterministic bytes, full precision, formula-safe text cells.

Every text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) gets a leading apostrophe; so does a cell that already
starts with apostrophes before such a character, which makes the change reversible
(:func:`metareview.io.unneutralize`, used by the one reader of every table). Text that is a
plain number (``-2``, ``+1.5e3``) is left alone. This happens only in CSV outputs: the report
and the plots show labels as written.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from metareview.validation import NUMBER

#: A text cell a spreadsheet would run as a formula (after any apostrophes).
FORMULA_START = re.compile(r"^'*[=+\-@\t\r]")


def neutralize_formula(value):
    """Prefix a text cell that a spreadsheet would evaluate with an apostrophe."""
    if isinstance(value, str) and FORMULA_START.match(value) and not NUMBER.match(value):
        return "'" + value
    return value


def safe_for_spreadsheets(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a spreadsheet formula (numbers untouched)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralize_formula)
    out.columns = [neutralize_formula(str(c)) for c in out.columns]
    return out


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    if any("\r" in str(c) for c in frame.columns):
        return True
    for col in frame.columns:
        values = frame[col]
        text = values.dtype == object or pd.api.types.is_string_dtype(values)
        if text and values.map(lambda v: isinstance(v, str) and "\r" in v).any():
            return True
    return False


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so a killed run never leaves a half-written file under the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table with full float precision, LF line endings and no index (atomically)."""
    safe = safe_for_spreadsheets(frame)
    # Python's csv quotes a cell with a line feed but not one with a lone carriage return
    # when rows end in "\n": such a cell would split its row, and the part after the CR
    # would reach a spreadsheet as a new, unneutralized cell (issue 14). Quote every text
    # cell of such a (rare) table.
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    text = safe.to_csv(index=False, lineterminator="\n", quoting=quoting)
    write_atomic(path, text)
