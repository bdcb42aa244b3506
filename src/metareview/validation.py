"""Checks on the raw tables. Every problem names the file, the line and the column.

Line numbers are those a person sees in an editor: the header is line 1, the first data row
line 2. All problems in a file are collected and reported together in one
:class:`InputError`, before any effect size is computed.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
#: Longest study id, condition or outcome slug (they become parts of file names).
MAX_SLUG_LENGTH = 80
#: Latest follow-up accepted, in weeks (100 years).
MAX_TIMEPOINT_WEEKS = 5200

STUDY_REQUIRED = ("study_id", "label", "year", "design")
STUDY_OPTIONAL = (
    "route",
    "comparator",
    "dose_mg_kg",
    "sessions",
    "risk_of_bias",
    "doi",
    "pmid",
    "citation",
)
DESIGNS = ("parallel", "crossover", "single_arm")
ROUTES = (
    "iv",
    "oral",
    "intranasal",
    "im",
    "sc",
    "sublingual",
    "epidural",
    "intrathecal",
    "topical",
    "other",
)
RISK_OF_BIAS = ("low", "some", "high")

ARM_STATS = ("mean", "sd", "se", "ci_low", "ci_high", "median", "q1", "q3", "min", "max")
OUTCOME_REQUIRED = ("study_id", "outcome", "timepoint_weeks")
CONTINUOUS_COLUMNS = tuple(f"{arm}_{s}" for arm in ("exp", "ctl") for s in ARM_STATS)
BINARY_COLUMNS = ("exp_events", "ctl_events")
N_COLUMNS = ("exp_n", "ctl_n")
GENERIC_COLUMNS = ("effect", "effect_se", "effect_ci_low", "effect_ci_high", "effect_measure")
OUTCOME_NUMERIC = (
    ("timepoint_weeks",)
    + N_COLUMNS
    + CONTINUOUS_COLUMNS
    + BINARY_COLUMNS
    + ("effect", "effect_se", "effect_ci_low", "effect_ci_high", "scale_min", "scale_max")
)
OUTCOME_KNOWN = (
    OUTCOME_REQUIRED
    + N_COLUMNS
    + CONTINUOUS_COLUMNS
    + BINARY_COLUMNS
    + GENERIC_COLUMNS
    + ("scale_min", "scale_max", "higher_is_better")
)
GENERIC_MEASURES = ("MD", "SMD", "ROM", "RR", "OR", "RD", "HR")
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")

#: Extension columns the workflow itself understands (not part of the contract).
OUTCOME_EXTRAS = (
    "outcome_label",
    "timepoint_label",
    "exp_label",
    "ctl_label",
    "scale",
    "assumptions",
    "source_rows",
    "notes",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class InputError(ValueError):
    """Bad input. ``problems`` lists each one; the message lists them all, one per line."""

    MAX_SHOWN = 50

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        shown = [str(p) for p in self.problems[: self.MAX_SHOWN]]
        if len(self.problems) > self.MAX_SHOWN:
            shown.append(f"... and {len(self.problems) - self.MAX_SHOWN} more problems")
        noun = "problem" if len(self.problems) == 1 else "problems"
        header = f"Invalid input ({len(self.problems)} {noun}); nothing was run:"
        super().__init__("\n".join([header, *("  " + s for s in shown)]))


def line_of(index: int) -> int:
    """Editor line number of a data row with 0-based position ``index``."""
    return index + 2


def check_columns(
    frame: pd.DataFrame, file: str, required: Iterable[str], known: Iterable[str]
) -> list[Problem]:
    """Missing required columns, duplicated headers, and near-misses of known names."""
    problems = []
    columns = list(frame.columns)
    counts = Counter(columns)
    known = set(known) | set(required)
    for col in required:
        if col not in counts:
            hint = difflib.get_close_matches(col, columns, n=1, cutoff=0.8)
            extra = f" (found '{hint[0]}': misspelled?)" if hint else ""
            problems.append(Problem(file, 1, col, f"required column is missing{extra}"))
    for col in columns:
        if col.strip() == "" or col.startswith("Unnamed:"):
            problems.append(Problem(file, 1, None, "a column has an empty header"))
        elif col not in known:
            hint = difflib.get_close_matches(col, sorted(known), n=1, cutoff=0.85)
            if hint:
                problems.append(
                    Problem(file, 1, col, f"unknown column; did you mean '{hint[0]}'?")
                )
        if counts[col] > 1 or re.search(r"\.\d+$", col) and col.rsplit(".", 1)[0] in counts:
            problems.append(Problem(file, 1, col, "column appears more than once"))
    return problems


#: A plain decimal number: digits with an optional sign, point and exponent. Python's
#: ``float`` also accepts ``1_9`` (= 19), ``infinity`` and ``nan``; none of those is a number
#: in a table.
NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def parse_number(value: str, file: str, line: int, column: str, problems: list[Problem]) -> float:
    """A finite number, or NaN for an empty cell (a problem is recorded otherwise)."""
    text = value.strip()
    if text == "" or text.upper() == "NA":
        return math.nan
    if not NUMBER.match(text):
        try:
            special = float(text)
        except ValueError:
            special = 0.0
        if not math.isfinite(special):
            problems.append(Problem(file, line, column, f"'{value}' is not a finite number"))
        else:
            problems.append(Problem(file, line, column, f"'{value}' is not a number"))
        return math.nan
    number = float(text)
    if not math.isfinite(number):
        problems.append(Problem(file, line, column, f"'{value}' is not a finite number"))
        return math.nan
    return number


def parse_column(
    values: list[str], file: str, lines: list[int], column: str, problems: list[Problem]
) -> list[float]:
    """:func:`parse_number` over one column (fast path for empty and plain cells)."""
    out = []
    nan = math.nan
    match = NUMBER.match
    for value, line in zip(values, lines, strict=True):
        if value == "":
            out.append(nan)
        elif match(value):
            number = float(value)
            if math.isfinite(number):
                out.append(number)
            else:
                out.append(parse_number(value, file, line, column, problems))
        else:
            out.append(parse_number(value, file, line, column, problems))
    return out


def parse_bool(value: str, file: str, line: int, column: str, problems: list[Problem]):
    """True, False, or None for an empty cell."""
    text = value.strip().lower()
    if text == "":
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    problems.append(Problem(file, line, column, f"'{value}' is not true/false"))
    return None


def slug_problem(value: str) -> str:
    """Why ``value`` is not an acceptable slug ('' when it is)."""
    if not SLUG.match(value):
        return f"'{value}' is not a slug [a-z0-9][a-z0-9_-]*"
    if len(value) > MAX_SLUG_LENGTH:
        return f"'{value[:20]}...' is {len(value)} characters long; at most {MAX_SLUG_LENGTH}"
    return ""


def check_choice(
    value: str, allowed: Iterable[str], file: str, line: int, column: str, problems: list
) -> None:
    """Record a problem when a non-empty ``value`` is not one of ``allowed``."""
    allowed = tuple(allowed)
    if value != "" and value not in allowed:
        problems.append(
            Problem(
                file, line, column, f"'{value}' is not allowed; use one of {', '.join(allowed)}"
            )
        )
