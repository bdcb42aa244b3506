"""Reading and validating ``data/raw/``: studies.csv and outcomes/<condition>.csv.

Files are read as text (UTF-8, with or without BOM; LF or CRLF), checked cell by cell, then
typed. :func:`load_inputs` raises :class:`~metareview.validation.InputError` listing every
problem with its file, line and column; nothing is computed from a table that fails.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from metareview.validation import (
    BINARY_COLUMNS,
    CONTINUOUS_COLUMNS,
    DESIGNS,
    GENERIC_COLUMNS,
    GENERIC_MEASURES,
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
    parse_number,
)


@dataclass(frozen=True)
class RawInputs:
    """Validated, typed raw tables."""

    studies: pd.DataFrame
    outcomes: pd.DataFrame  # all conditions, with condition, data_kind, source_file/line


def read_csv_text(path: Path, display: str) -> pd.DataFrame:
    """Read a CSV as stripped strings, tolerating a BOM and CRLF line endings.

    Blank lines are skipped; ``frame.attrs["lines"]`` holds each row's line number in the
    file (header = line 1), so messages point where an editor shows the row.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError([Problem(display, None, None, f"not UTF-8 text ({err.reason})")]) from err
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputError([Problem(display, None, None, "the file is empty (no header)")])
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


# --- studies.csv -----------------------------------------------------------------------


def validate_studies(frame: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Check studies.csv and return it typed (year int, dose_mg_kg/sessions float)."""
    problems = check_columns(frame, file, STUDY_REQUIRED, STUDY_OPTIONAL)
    if problems:
        return frame, problems
    if frame.empty:
        return frame, [Problem(file, None, None, "the table has no rows")]
    seen: dict[str, int] = {}
    years, doses, sessions = [], [], []
    for i, row in frame.iterrows():
        line = frame.attrs["lines"][i]
        sid = row["study_id"]
        if not SLUG.match(sid):
            problems.append(
                Problem(file, line, "study_id", f"'{sid}' is not a slug [a-z0-9][a-z0-9_-]*")
            )
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
        year = parse_number(row["year"], file, line, "year", problems)
        if math.isnan(year) and row["year"] == "":
            problems.append(Problem(file, line, "year", "year is empty"))
        elif not math.isnan(year) and not (1900 <= year <= 2100 and year.is_integer()):
            problems.append(Problem(file, line, "year", f"'{row['year']}' is not a year"))
        years.append(year)
        check_choice(row["design"], DESIGNS, file, line, "design", problems)
        if row["design"] == "":
            problems.append(
                Problem(file, line, "design", f"design is empty; use one of {', '.join(DESIGNS)}")
            )
        if "route" in frame:
            check_choice(row["route"], ROUTES, file, line, "route", problems)
        if "risk_of_bias" in frame:
            check_choice(row["risk_of_bias"], RISK_OF_BIAS, file, line, "risk_of_bias", problems)
        dose = parse_number(row.get("dose_mg_kg", ""), file, line, "dose_mg_kg", problems)
        if dose < 0:
            problems.append(Problem(file, line, "dose_mg_kg", "dose must be ≥ 0"))
        doses.append(dose)
        n_sessions = parse_number(row.get("sessions", ""), file, line, "sessions", problems)
        if not math.isnan(n_sessions) and (n_sessions < 1 or not n_sessions.is_integer()):
            problems.append(Problem(file, line, "sessions", "sessions must be a whole number ≥ 1"))
        sessions.append(n_sessions)
    typed = frame.copy()
    typed["year"] = pd.array(
        [int(y) if not math.isnan(y) else pd.NA for y in years], dtype="Int64"
    )
    typed["dose_mg_kg"] = doses
    typed["sessions"] = sessions
    return typed, problems


# --- outcomes/<condition>.csv ----------------------------------------------------------


def _filled(row: pd.Series, columns) -> list[str]:
    return [c for c in columns if c in row.index and row[c] != ""]


def classify_row(row: pd.Series, design: str) -> tuple[str | None, str]:
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


def _arm_complete(row: pd.Series, arm: str) -> bool:
    def has(*cols):
        return all(row.get(f"{arm}_{c}", "") != "" for c in cols)

    with_mean = has("mean") and (has("sd") or has("se") or has("ci_low", "ci_high"))
    with_median = has("median") and (has("q1", "q3") or has("min", "max"))
    return with_mean or with_median


def validate_outcomes(
    frame: pd.DataFrame, file: str, condition: str, designs: dict[str, str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check one condition file; return it typed with data_kind and source columns."""
    problems = check_columns(frame, file, OUTCOME_REQUIRED, OUTCOME_KNOWN + OUTCOME_EXTRAS)
    if problems:
        return frame, problems
    if frame.empty:
        return frame, [Problem(file, None, None, "the table has no rows")]
    typed = frame.copy()
    for col in OUTCOME_NUMERIC:
        if col not in typed:
            typed[col] = ""
    kinds, hib, seen = [], [], {}
    numbers = {col: [] for col in OUTCOME_NUMERIC}
    for i, row in frame.iterrows():
        line = frame.attrs["lines"][i]
        values = {
            col: parse_number(typed.at[i, col], file, line, col, problems)
            for col in OUTCOME_NUMERIC
        }
        for col, value in values.items():
            numbers[col].append(value)
        sid = row["study_id"]
        if sid not in designs:
            hint = "; not in studies.csv" if SLUG.match(sid) else f"; '{sid}' is not a slug"
            problems.append(Problem(file, line, "study_id", f"unknown study_id '{sid}'{hint}"))
        if not SLUG.match(row["outcome"]):
            problems.append(
                Problem(
                    file, line, "outcome", f"'{row['outcome']}' is not a slug [a-z0-9][a-z0-9_-]*"
                )
            )
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
        if "effect_measure" in row.index:
            check_choice(
                row["effect_measure"], GENERIC_MEASURES, file, line, "effect_measure", problems
            )
        hib.append(
            parse_bool(row.get("higher_is_better", ""), file, line, "higher_is_better", problems)
        )
        problems.extend(_range_checks(values, row, file, line))
    for col, vals in numbers.items():
        typed[col] = pd.array(vals, dtype="float64")
    typed["higher_is_better"] = [bool(h) for h in hib]
    typed["data_kind"] = kinds
    typed.insert(0, "condition", condition)
    typed["source_file"] = file
    typed["source_line"] = frame.attrs["lines"]
    for col in OUTCOME_EXTRAS + ("effect_measure",):
        if col not in typed:
            typed[col] = ""
    return typed, problems


def _range_checks(v: dict, row: pd.Series, file: str, line: int) -> list[Problem]:
    """Impossible values: n ≤ 0, SD ≤ 0, events > n, reversed CIs, means off the scale..."""
    out = []

    def bad(col, msg):
        out.append(Problem(file, line, col, msg))

    def present(col):
        return not math.isnan(v[col])

    if present("timepoint_weeks") and v["timepoint_weeks"] < 0:
        bad("timepoint_weeks", f"timepoint must be ≥ 0 (got {v['timepoint_weeks']:g})")
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
        if present("scale_min") and present("scale_max"):
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


def load_inputs(root: Path | str, conditions: list[str] | None = None) -> RawInputs:
    """Validate and load ``data/raw/`` under ``root`` (the workflow's working directory).

    ``conditions``: slugs to load; empty or None loads every ``outcomes/*.csv``.
    """
    root = Path(root)
    raw = root / "data" / "raw"
    studies_file = "data/raw/studies.csv"
    if not (raw / "studies.csv").is_file():
        raise InputError([Problem(studies_file, None, None, "file not found")])
    studies, problems = validate_studies(
        read_csv_text(raw / "studies.csv", studies_file), studies_file
    )
    if problems:
        raise InputError(problems)
    designs = dict(zip(studies["study_id"], studies["design"], strict=True))

    outcome_dir = raw / "outcomes"
    available = sorted(p.stem for p in outcome_dir.glob("*.csv")) if outcome_dir.is_dir() else []
    wanted = list(conditions) if conditions else available
    if not wanted:
        raise InputError(
            [Problem("data/raw/outcomes/", None, None, "no <condition>.csv files found")]
        )
    frames = []
    for condition in wanted:
        file = f"data/raw/outcomes/{condition}.csv"
        if not SLUG.match(condition):
            problems.append(
                Problem(
                    file, None, None, f"file name '{condition}' is not a slug [a-z0-9][a-z0-9_-]*"
                )
            )
            continue
        if condition not in available:
            problems.append(
                Problem(file, None, None, "file not found (listed in config 'conditions')")
            )
            continue
        typed, found = validate_outcomes(
            read_csv_text(outcome_dir / f"{condition}.csv", file), file, condition, designs
        )
        problems.extend(found)
        frames.append(typed)
    if problems:
        raise InputError(problems)
    outcomes = pd.concat(frames, ignore_index=True)
    return RawInputs(studies=studies, outcomes=outcomes)
