"""Reading and validating ``data/raw/``: studies.csv and outcomes/<condition>.csv.

Files are read as text (UTF-8, with or without BOM; LF or CRLF), checked cell by cell, then
typed. :func:`load_inputs` raises :class:`~metareview.validation.InputError` listing every
problem with its file, line and column; nothing is computed from a table that fails.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat as stat_mode
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from metareview.tables import EFFECT_SIZE_COLUMNS
from metareview.validation import (
    BINARY_COLUMNS,
    CONTINUOUS_COLUMNS,
    DESIGNS,
    GENERIC_COLUMNS,
    GENERIC_MEASURES,
    MAX_TIMEPOINT_WEEKS,
    NUMBER,
    OUTCOME_EXTRAS,
    OUTCOME_KNOWN,
    OUTCOME_NUMERIC,
    OUTCOME_REQUIRED,
    RISK_OF_BIAS,
    ROUTES,
    SLUG,
    STUDY_OPTIONAL,
    STUDY_REQUIRED,
    InputError,
    Problem,
    check_choice,
    check_columns,
    parse_bool,
    parse_column,
    slug_problem,
)


@dataclass(frozen=True)
class RawInputs:
    """Validated, typed raw tables."""

    studies: pd.DataFrame
    outcomes: pd.DataFrame  # all conditions, with condition, data_kind, source_file/line


#: Largest input file read (bytes). A review's tables are kilobytes; 100,000 outcome rows are
#: ~4 MB. Anything larger is refused before it is read.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Columns read from a table: the contract's plus extra ones, kept as written. A header wider
#: than this is refused (a table of thousands of columns is not a table of trial rows).
MAX_COLUMNS = 1000


def present(path: Path | str) -> bool:
    """Whether an optional input is there at all: a directory, FIFO, device or dangling symlink
    counts (and is then refused by :func:`check_regular_file`), not only a regular file."""
    return os.path.lexists(path)


def check_regular_file(path: Path, display: str) -> list[Problem]:
    """Problems that stop ``path`` from being read as a table: missing, not a regular file
    (a directory, FIFO, device, or a symlink to one), or larger than :data:`MAX_FILE_BYTES`."""
    try:
        info = os.stat(path)  # follows symlinks: a link to /dev/zero is a character device
    except FileNotFoundError:
        return [Problem(display, None, None, "file not found")]
    except OSError as err:
        return [Problem(display, None, None, f"cannot be read ({err.strerror})")]
    if not stat_mode.S_ISREG(info.st_mode):
        what = "a directory" if stat_mode.S_ISDIR(info.st_mode) else "not a regular file"
        return [Problem(display, None, None, f"is {what}; a table must be a regular file")]
    if info.st_size > MAX_FILE_BYTES:
        return [
            Problem(
                display,
                None,
                None,
                f"the file has {info.st_size:,} bytes; at most {MAX_FILE_BYTES:,} bytes are read",
            )
        ]
    return []


def read_text_file(path: Path, display: str) -> str:
    """The text of a regular UTF-8 file (BOM tolerated), or :class:`InputError`.

    Encoding errors name the line and the byte; NUL bytes are refused with line and column.
    """
    problems = check_regular_file(Path(path), display)
    if problems:
        raise InputError(problems)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise InputError(
            [Problem(display, None, None, f"cannot be read ({err.strerror})")]
        ) from err
    offset = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as err:
        pos = offset + err.start
        line = data.count(b"\n", 0, pos) + 1
        col = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
        raise InputError(
            [
                Problem(
                    display,
                    line,
                    None,
                    f"not UTF-8 text: byte 0x{data[pos]:02x} at byte {pos + 1} of the file "
                    f"(byte {col} of the line) is invalid ({err.reason}); save the file as "
                    "UTF-8",
                )
            ]
        ) from err
    if "\x00" in text:
        pos = text.index("\x00")
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise InputError(
            [Problem(display, line, None, f"NUL byte at character {col}; not a text table")]
        )
    return text


def read_csv_text(path: Path, display: str) -> pd.DataFrame:
    """Read a CSV as stripped strings, tolerating a BOM and CRLF line endings.

    Blank lines are skipped; ``frame.attrs["lines"]`` holds each row's line number in the
    file (header = line 1), so messages point where an editor shows the row. Rows with more
    or fewer fields than the header are refused.
    """
    text = read_text_file(path, display)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputError([Problem(display, None, None, "the file is empty (no header)")])
        if len(header) > MAX_COLUMNS:
            message = f"the header has {len(header)} columns; at most {MAX_COLUMNS} are allowed"
            raise InputError([Problem(display, 1, None, message)])
        rows, lines, problems = [], [], []
        start = reader.line_num + 1
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                problems.append(
                    Problem(
                        display,
                        line,
                        None,
                        f"the row has {len(record)} fields but the header has {len(header)}",
                    )
                )
                continue
            rows.append([cell.strip() for cell in record])
            lines.append(line)
    except csv.Error as err:
        raise InputError(
            [Problem(display, reader.line_num, None, f"not a valid CSV row: {err}")]
        ) from err
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(rows, columns=[h.strip() for h in header], dtype=object)
    frame.attrs["lines"] = lines
    return frame


def _records(frame: pd.DataFrame) -> tuple[list[dict], list[int]]:
    """Rows as dicts and their line numbers, without pandas' per-row copies of ``attrs``.

    (``iterrows`` deep-copies ``frame.attrs`` into every row Series: quadratic time with
    the line list stored there.)
    """
    plain, lines = _take_lines(frame)
    return plain.to_dict("records"), lines


def _take_lines(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """A shallow copy of ``frame`` without ``attrs`` (pandas deep-copies them on every
    column access), and the line numbers stored there."""
    lines = list(frame.attrs.get("lines", range(2, len(frame) + 2)))
    plain = frame.copy(deep=False)
    plain.attrs = {}
    return plain, lines


# --- studies.csv -----------------------------------------------------------------------


def validate_studies(frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check studies.csv and return it typed (year Int64, dose_mg_kg/sessions float).

    Every other column stays text exactly as written (stripped): ids like ``001``, ``null``
    or ``nan`` are ids, not numbers or missing values.
    """
    problems = check_columns(frame, file, STUDY_REQUIRED, STUDY_OPTIONAL)
    if problems:
        return frame, problems
    if frame.empty:
        return frame, [Problem(file, None, None, "the table has no rows")]
    frame, lines = _take_lines(frame)
    records = frame.to_dict("records")
    seen: dict[str, int] = {}
    years = parse_column(list(frame["year"]), file, lines, "year", problems)
    doses = _optional_numbers(frame, "dose_mg_kg", file, lines, problems)
    sessions = _optional_numbers(frame, "sessions", file, lines, problems)
    for row, line, year, dose, n_sessions in zip(
        records, lines, years, doses, sessions, strict=True
    ):
        sid = row["study_id"]
        why = slug_problem(sid)
        if why:
            problems.append(Problem(file, line, "study_id", why))
        elif sid in seen:
            problems.append(
                Problem(
                    file,
                    line,
                    "study_id",
                    f"duplicate study_id '{sid}' (first on line {seen[sid]})",
                )
            )
        else:
            seen[sid] = line
        if row["label"] == "":
            problems.append(Problem(file, line, "label", "label is empty"))
        if math.isnan(year) and row["year"] == "":
            problems.append(Problem(file, line, "year", "year is empty"))
        elif not math.isnan(year) and not (1900 <= year <= 2100 and year.is_integer()):
            problems.append(Problem(file, line, "year", f"'{row['year']}' is not a year"))
        check_choice(row["design"], DESIGNS, file, line, "design", problems)
        if row["design"] == "":
            problems.append(
                Problem(file, line, "design", f"design is empty; use one of {', '.join(DESIGNS)}")
            )
        if "route" in row:
            check_choice(row["route"], ROUTES, file, line, "route", problems)
        if "risk_of_bias" in row:
            check_choice(row["risk_of_bias"], RISK_OF_BIAS, file, line, "risk_of_bias", problems)
        if dose < 0:
            problems.append(Problem(file, line, "dose_mg_kg", "dose must be ≥ 0"))
        if not math.isnan(n_sessions) and (n_sessions < 1 or not n_sessions.is_integer()):
            problems.append(Problem(file, line, "sessions", "sessions must be a whole number ≥ 1"))
    typed = frame.copy()
    typed.attrs = {}
    typed["year"] = pd.array(
        [int(y) if not math.isnan(y) else pd.NA for y in years], dtype="Int64"
    )
    typed["dose_mg_kg"] = doses
    typed["sessions"] = sessions
    return typed, problems


def _optional_numbers(frame, column, file, lines, problems) -> list[float]:
    if column not in frame:
        return [math.nan] * len(frame)
    return parse_column(list(frame[column]), file, lines, column, problems)


# --- outcomes/<condition>.csv ----------------------------------------------------------


def _filled(row, columns) -> list[str]:
    return [c for c in columns if row.get(c, "") != ""]


def classify_row(row, design: str) -> tuple[str | None, str]:
    """The row's data kind (continuous, binary, generic, single_arm) or None with a reason."""
    cont = _filled(row, CONTINUOUS_COLUMNS)
    binary = _filled(row, BINARY_COLUMNS)
    generic = _filled(row, GENERIC_COLUMNS)
    kinds = [
        name
        for name, cols in (("continuous", cont), ("binary", binary), ("generic", generic))
        if cols
    ]
    if len(kinds) > 1:
        return (
            None,
            f"the row fills columns of two kinds ({' and '.join(kinds)}); use one row per kind",
        )
    if not kinds:
        return None, "the row has no outcome data (continuous, binary or generic columns)"
    kind = kinds[0]
    ctl_filled = [c for c in cont + binary + _filled(row, ("ctl_n",)) if c.startswith("ctl_")]
    if design == "single_arm":
        if kind == "generic":
            return None, "a single-arm study cannot report a between-arm effect"
        if ctl_filled:
            return None, "a single-arm study has no control arm; leave the ctl_ columns empty"
        arms = ("exp",)
        kind_out = "single_arm"
    else:
        arms = ("exp", "ctl")
        kind_out = kind
    missing = []
    if kind == "generic":
        for col in ("effect", "effect_measure"):
            if row.get(col, "") == "":
                missing.append(col)
        has_ci = row.get("effect_ci_low", "") != "" and row.get("effect_ci_high", "") != ""
        if row.get("effect_se", "") == "" and not has_ci:
            missing.append("effect_se or effect_ci_low/effect_ci_high")
    else:
        for arm in arms:
            if row.get(f"{arm}_n", "") == "":
                missing.append(f"{arm}_n")
            if kind == "binary" and row.get(f"{arm}_events", "") == "":
                missing.append(f"{arm}_events")
            if kind == "continuous" and not _arm_complete(row, arm):
                missing.append(
                    f"{arm}_mean with {arm}_sd/{arm}_se/{arm}_ci_low+high, "
                    f"or {arm}_median with quartiles/range"
                )
    if missing:
        return None, f"incomplete {kind} row: missing {', '.join(missing)}"
    return kind_out, ""


def _arm_complete(row, arm: str) -> bool:
    def has(*cols):
        return all(row.get(f"{arm}_{c}", "") != "" for c in cols)

    with_mean = has("mean") and (has("sd") or has("se") or has("ci_low", "ci_high"))
    with_median = has("median") and (has("q1", "q3") or has("min", "max"))
    return with_mean or with_median


#: Columns the workflow adds to outcome rows or effect_sizes.csv. An outcome file's own extra
#: column of the same name (the contract allows extra columns) is kept as ``extra_<name>``.
RESERVED_COLUMNS = frozenset(
    (*EFFECT_SIZE_COLUMNS, "condition", "data_kind", "source_file", "source_line")
) - set(OUTCOME_KNOWN + OUTCOME_EXTRAS)


def _namespace_extras(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename extra columns that would collide with the workflow's own to ``extra_<name>``."""
    renames = {}
    taken = set(frame.columns)
    for col in frame.columns:
        if col in RESERVED_COLUMNS:
            new = f"extra_{col}"
            while new in taken:
                new = f"extra_{new}"
            renames[col] = new
            taken.add(new)
    if not renames:
        return frame
    out = frame.rename(columns=renames)
    out.attrs = frame.attrs
    return out


def validate_outcomes(
    frame: pd.DataFrame, file: str, condition: str, designs: dict[str, str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check one condition file; return it typed with data_kind and source columns.

    Runs in time linear in the number of rows (100,000 rows in seconds).
    """
    problems = check_columns(frame, file, OUTCOME_REQUIRED, OUTCOME_KNOWN + OUTCOME_EXTRAS)
    if problems:
        return frame, problems
    if frame.empty:
        return frame, [Problem(file, None, None, "the table has no rows")]
    frame, lines = _take_lines(_namespace_extras(frame))
    records = frame.to_dict("records")
    empty = [math.nan] * len(frame)
    numbers = {
        col: parse_column(list(frame[col]), file, lines, col, problems) if col in frame else empty
        for col in OUTCOME_NUMERIC
    }
    kinds, hib, seen = [], [], {}
    direction: dict[str, tuple[bool, int]] = {}
    by_row = zip(*(numbers[col] for col in OUTCOME_NUMERIC), strict=True)
    for row, line, cells in zip(records, lines, by_row, strict=True):
        values = dict(zip(OUTCOME_NUMERIC, cells, strict=True))
        sid = row["study_id"]
        if sid not in designs:
            hint = "; not in studies.csv" if SLUG.match(sid) else f"; '{sid}' is not a slug"
            problems.append(Problem(file, line, "study_id", f"unknown study_id '{sid}'{hint}"))
        why = slug_problem(row["outcome"])
        if why:
            problems.append(Problem(file, line, "outcome", why))
        if row["timepoint_weeks"] == "":
            problems.append(Problem(file, line, "timepoint_weeks", "timepoint is empty"))
        key = (sid, row["outcome"], values["timepoint_weeks"])
        if key in seen:
            problems.append(
                Problem(
                    file,
                    line,
                    None,
                    f"duplicate of line {seen[key]} (same study_id, outcome and timepoint_weeks)",
                )
            )
        else:
            seen[key] = line
        kind, reason = classify_row(row, designs.get(sid, "parallel"))
        if kind is None:
            problems.append(Problem(file, line, None, reason))
        kinds.append(kind)
        if "effect_measure" in row:
            check_choice(
                row["effect_measure"], GENERIC_MEASURES, file, line, "effect_measure", problems
            )
        good = parse_bool(
            row.get("higher_is_better", ""), file, line, "higher_is_better", problems
        )
        hib.append(good)
        first = direction.setdefault(row["outcome"], (bool(good), line))
        if bool(good) != first[0]:
            problems.append(
                Problem(
                    file,
                    line,
                    "higher_is_better",
                    f"outcome '{row['outcome']}' has higher_is_better = "
                    f"{str(bool(good)).lower()} here but {str(first[0]).lower()} on line "
                    f"{first[1]} (an empty cell means false); give every row of an outcome "
                    "the same value",
                )
            )
        problems.extend(_range_checks(values, row, file, line))
    typed = frame.copy()
    typed.attrs = {}
    for col, vals in numbers.items():
        typed[col] = pd.array(vals, dtype="float64")
    typed["higher_is_better"] = [bool(h) for h in hib]
    typed["data_kind"] = kinds
    typed.insert(0, "condition", condition)
    typed["source_file"] = file
    typed["source_line"] = lines
    for col in OUTCOME_EXTRAS + ("effect_measure",):
        if col not in typed:
            typed[col] = ""
    return typed, problems


def _range_checks(v: dict, row, file: str, line: int) -> list[Problem]:
    """Impossible values: n ≤ 0, SD ≤ 0, events > n, reversed CIs, means off the scale..."""
    out = []

    def bad(col, msg):
        out.append(Problem(file, line, col, msg))

    def present(col):
        return not math.isnan(v[col])

    if present("timepoint_weeks") and v["timepoint_weeks"] < 0:
        bad("timepoint_weeks", f"timepoint must be ≥ 0 (got {v['timepoint_weeks']:g})")
    elif present("timepoint_weeks") and v["timepoint_weeks"] > MAX_TIMEPOINT_WEEKS:
        bad(
            "timepoint_weeks",
            f"timepoint {v['timepoint_weeks']:g} weeks is beyond {MAX_TIMEPOINT_WEEKS} weeks "
            "(100 years)",
        )
    for arm in ("exp", "ctl"):
        n = v[f"{arm}_n"]
        if present(f"{arm}_n") and (n <= 0 or not n.is_integer()):
            bad(f"{arm}_n", f"n must be a whole number > 0 (got {n:g})")
        for stat in ("sd", "se"):
            col = f"{arm}_{stat}"
            if present(col) and v[col] <= 0:
                bad(col, f"{stat.upper()} must be > 0 (got {v[col]:g})")
        ev = f"{arm}_events"
        if present(ev):
            if v[ev] < 0 or not v[ev].is_integer():
                bad(ev, f"events must be a whole number ≥ 0 (got {v[ev]:g})")
            elif present(f"{arm}_n") and v[ev] > n:
                bad(ev, f"events ({v[ev]:g}) exceed {arm}_n ({n:g})")
        lo, hi = f"{arm}_ci_low", f"{arm}_ci_high"
        if present(lo) and present(hi) and v[lo] >= v[hi]:
            bad(lo, f"CI is reversed or empty ({v[lo]:g} ≥ {v[hi]:g})")
        if (
            present(lo)
            and present(hi)
            and present(f"{arm}_mean")
            and not v[lo] <= v[f"{arm}_mean"] <= v[hi]
        ):
            bad(f"{arm}_mean", f"mean {v[f'{arm}_mean']:g} lies outside its CI")
        order = [c for c in ("min", "q1", "median", "q3", "max") if present(f"{arm}_{c}")]
        vals = [v[f"{arm}_{c}"] for c in order]
        if vals != sorted(vals):
            bad(f"{arm}_{order[0]}", "min ≤ q1 ≤ median ≤ q3 ≤ max does not hold")
        if present("scale_min") and present("scale_max") and v["scale_min"] < v["scale_max"]:
            for stat in ("mean", "median", "min", "max", "q1", "q3"):
                col = f"{arm}_{stat}"
                if present(col) and not v["scale_min"] <= v[col] <= v["scale_max"]:
                    bad(
                        col,
                        f"{v[col]:g} lies outside the scale {v['scale_min']:g}–{v['scale_max']:g}",
                    )
    if present("scale_min") != present("scale_max"):
        bad(
            "scale_max" if present("scale_min") else "scale_min",
            "give both scale_min and scale_max",
        )
    elif present("scale_min") and v["scale_min"] >= v["scale_max"]:
        bad("scale_min", "scale_min must be below scale_max")
    if present("effect_se") and v["effect_se"] <= 0:
        bad("effect_se", f"SE must be > 0 (got {v['effect_se']:g})")
    lo, hi = "effect_ci_low", "effect_ci_high"
    if present(lo) and present(hi):
        if v[lo] >= v[hi]:
            bad(lo, f"CI is reversed or empty ({v[lo]:g} ≥ {v[hi]:g})")
        elif present("effect") and not v[lo] <= v["effect"] <= v[hi]:
            bad("effect", f"effect {v['effect']:g} lies outside its CI")
    if row.get("effect_measure", "") in ("RR", "OR", "HR", "ROM"):
        for col in ("effect", lo, hi):
            if present(col) and v[col] <= 0:
                bad(col, f"a ratio ({row['effect_measure']}) must be > 0 on the natural scale")
    return out


#: Numeric columns of the optional ``data/raw/reviews.csv`` (published reviews' estimates).
REVIEW_NUMERIC = ("year", "timepoint_weeks", "estimate", "ci_low", "ci_high")


def validate_reviews(frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the optional reviews.csv: a ``label`` or ``review_id`` column; numbers parse."""
    problems = []
    if "label" not in frame and "review_id" not in frame:
        problems.append(Problem(file, 1, "label", "required column is missing (or review_id)"))
    if len(set(frame.columns)) != len(frame.columns) or "" in frame.columns:
        problems.append(Problem(file, 1, None, "column names must be unique and non-empty"))
    if problems or frame.empty:
        return frame, problems
    _, lines = _records(frame)
    typed = frame.copy()
    typed.attrs = {}
    for col in REVIEW_NUMERIC:
        if col in frame:
            typed[col] = parse_column(list(frame[col]), file, lines, col, problems)
    return typed, problems


def _outcome_files(outcome_dir: Path) -> tuple[list[str], list[Problem]]:
    """Condition slugs of ``outcomes/*.csv``, and problems with names that look like tables
    but would be ignored (``crps.CSV``)."""
    if not outcome_dir.is_dir():
        return [], []
    names, problems = [], []
    for path in sorted(outcome_dir.iterdir()):
        file = f"data/raw/outcomes/{path.name}"
        if path.suffix == ".csv":
            names.append(path.stem)
        elif path.suffix.lower() == ".csv":
            message = f"the extension must be lower-case .csv (rename it to {path.stem}.csv)"
            problems.append(Problem(file, None, None, message))
        elif _looks_like_table(path.name):
            message = (
                "outcome tables must be comma-separated files named <condition>.csv; "
                f"convert it to {path.name.split('.')[0]}.csv or move it out of "
                "data/raw/outcomes/ (it would be ignored)"
            )
            problems.append(Problem(file, None, None, message))
    return names, problems


#: File name endings of tables that are not ``.csv`` (an outcome table saved as such would
#: otherwise be silently left out of the review). Other files (README.md, .gitkeep) are ignored.
TABLE_LIKE = (".tsv", ".tab", ".txt", ".xlsx", ".xls", ".xlsm", ".ods", ".parquet", ".json",
              ".feather", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".zip", ".gz")  # fmt: skip


def _looks_like_table(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(TABLE_LIKE)


def _read_validated(path: Path, file: str, validate, *args) -> tuple[pd.DataFrame | None, list]:
    try:
        frame = read_csv_text(path, file)
    except InputError as err:
        return None, err.problems
    return validate(frame, file, *args)


def load_inputs(root: Path | str, conditions: list[str] | None = None) -> RawInputs:
    """Validate and load ``data/raw/`` under ``root`` (the workflow's working directory).

    ``conditions``: slugs to load; empty or None loads every ``outcomes/*.csv``. The
    optional ``reviews.csv`` is validated too. Every problem in every file is collected
    before :class:`InputError` is raised.
    """
    root = Path(root)
    raw = root / "data" / "raw"
    studies_file = "data/raw/studies.csv"
    studies, problems = _read_validated(raw / "studies.csv", studies_file, validate_studies)
    if problems:
        raise InputError(problems)
    designs = dict(zip(studies["study_id"], studies["design"], strict=True))

    if (raw / "reviews.csv").exists() or (raw / "reviews.csv").is_symlink():
        _, found = _read_validated(raw / "reviews.csv", "data/raw/reviews.csv", validate_reviews)
        problems.extend(found)

    outcome_dir = raw / "outcomes"
    available, found = _outcome_files(outcome_dir)
    problems.extend(found)
    wanted = list(conditions) if conditions else available
    if not wanted and not problems:
        raise InputError(
            [Problem("data/raw/outcomes/", None, None, "no <condition>.csv files found")]
        )
    frames = []
    for condition in wanted:
        file = f"data/raw/outcomes/{condition}.csv"
        why = slug_problem(condition)
        if why:
            problems.append(Problem(file, None, None, f"file name: {why}"))
            continue
        if condition not in available:
            problems.append(
                Problem(file, None, None, "file not found (listed in config 'conditions')")
            )
            continue
        typed, found = _read_validated(
            outcome_dir / f"{condition}.csv", file, validate_outcomes, condition, designs
        )
        problems.extend(found)
        frames.append(typed)
    if problems:
        raise InputError(problems)
    outcomes = pd.concat(frames, ignore_index=True)
    return RawInputs(studies=studies, outcomes=outcomes)


# --- tables the workflow writes (and re-reads between rules) ------------------------------

#: Columns that are always text, whatever their cells look like: ids, slugs, labels, notes.
#: (``001`` stays ``001``; ``null``, ``nan`` and ``NA`` are ids, not missing values.)
TEXT_COLUMNS = frozenset(
    {
        "condition", "outcome", "study_id", "omitted", "added", "label", "measure",
        "tau2_method", "ci_method", "analysis_id", "note", "subgroup", "moderator",
        "trimfill_side", "side", "excluded", "exclusion_reason", "design", "data_kind",
        "exp_dispersion_source", "ctl_dispersion_source", "conversions", "assumptions",
        "plausibility_warnings", "outcome_label", "timepoint_label", "source_file",
        "review_id", "journal", "comparison", "measure_detail", "k_studies", "k_scope",
        "population_scope", "certainty_or_note", "notes", "doi_or_id", "source_url",
        "source_rows", "route", "comparator", "risk_of_bias", "doi", "pmid", "citation",
        "condition_group", "pooling_method", "source_analysis", "model", "term",
        "certainty", "downgrades", "reasons",
    }
)  # fmt: skip
#: Columns that are true/false.
BOOL_COLUMNS = frozenset(
    {"included", "higher_is_better", "continuity_correction", "sign_flipped", "underpowered",
     "influential"}
)  # fmt: skip
#: Per-table exceptions: in subgroups.csv ``level`` is a subgroup level (text), elsewhere
#: the confidence level (a number).
TABLE_TEXT = {"subgroups.csv": frozenset({"level"})}
#: Tables read from data/raw/: every column not listed here is text.
RAW_NUMERIC = {
    "studies.csv": frozenset({"year", "dose_mg_kg", "sessions"}),
    "reviews.csv": frozenset(REVIEW_NUMERIC),
}

_FORMULA_QUOTED = re.compile(r"^'(?='*[=+\-@\t\r])")


def unneutralize(value: str) -> str:
    """Undo :func:`metareview.outputs.neutralize_formula` (drop the added apostrophe)."""
    return _FORMULA_QUOTED.sub("", value, count=1)


_PLAIN_NUMBER = re.compile(NUMBER.pattern.strip("^$") + r"|[+-]?[iI][nN][fF]")
_WHOLE = re.compile(r"[+-]?\d{1,18}")


def _as_number(cells: list[str]) -> np.ndarray | None:
    """Floats when every non-empty cell is a plain number (or inf), else None.

    Whole numbers without gaps stay integers (int64), as pandas would read them. Plain Python
    over the cells: a pandas string method per column cost ~1 ms, and every job reads a dozen
    tables of ~40 columns.
    """
    full = _PLAIN_NUMBER.fullmatch
    if not all(full(c) for c in cells if c):
        return None
    whole = _WHOLE.fullmatch
    if all(whole(c) for c in cells):  # no empty cell either
        return np.array([int(c) for c in cells], dtype=np.int64)
    parsed = pd.to_numeric(np.array([c or None for c in cells], dtype=object), errors="coerce")
    return np.asarray(parsed, dtype=float)


def _as_bool(cells: list[str], path: str, column: str) -> np.ndarray:
    text = [c.lower() for c in cells]
    for cell, low in zip(cells, text, strict=True):
        if low not in _BOOL_TEXT:
            raise ValueError(f"{path}: column '{column}': '{cell}' is not true/false")
    return np.array([low in ("true", "1") for low in text], dtype=bool)


_BOOL_TEXT = frozenset({"true", "false", "1", "0", ""})


def _as_text(cells: list[str], written_by_us: bool) -> pd.Series:
    fix = unneutralize if written_by_us else str
    return pd.Series([fix(c) if c else np.nan for c in cells], dtype=object)


def read_table(path: str | Path | None, *, written_by_us: bool | None = None) -> pd.DataFrame:
    """Read any table of the workflow with declared types: the one reader every stage uses.

    Cells are read as text (UTF-8, no NA sentinels: only an empty cell is missing) and
    stripped. Then, by column name:

    - :data:`TEXT_COLUMNS` (ids, slugs, labels, notes) stay text; an empty cell is ``NaN``;
    - :data:`BOOL_COLUMNS` become ``bool``;
    - any other column becomes a number when every non-empty cell is a plain number (int64
      when all are whole and none is empty, else float), else text.
      For ``studies.csv`` and ``reviews.csv`` (raw inputs) only the numeric columns of the
      contract (:data:`RAW_NUMERIC`) are converted.

    Tables we wrote (``written_by_us``; default: anything outside ``data/raw/``) had text
    cells neutralized against spreadsheet formulas; the leading apostrophe is removed here,
    so the report and plots show labels as written. A missing or empty file gives an empty
    frame.
    """
    if not path:
        return pd.DataFrame()
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame()
    if written_by_us is None:
        written_by_us = "raw" not in path.parts
    display = str(path)
    frame = read_csv_text(path, display)
    frame.attrs = {}
    raw_numeric = None if written_by_us else RAW_NUMERIC.get(path.name, frozenset())
    text_cols = TEXT_COLUMNS | TABLE_TEXT.get(path.name, frozenset())
    out = {}
    for col in frame.columns:
        cells = [str(c) for c in frame[col].tolist()]
        if col in BOOL_COLUMNS and written_by_us:
            out[col] = _as_bool(cells, display, col)
            continue
        numeric = None
        if col not in text_cols and (raw_numeric is None or col in raw_numeric):
            numeric = _as_number(cells)
        out[col] = numeric if numeric is not None else _as_text(cells, written_by_us)
    return pd.DataFrame(out, columns=list(frame.columns))
