"""Per-analysis settings: the optional ``data/raw/analyses.csv`` (data contract, wave 2).

Each row names an analysis by ``condition, outcome, timepoint_weeks`` (blank timepoint = every
timepoint of that outcome) and overrides ``config.yaml`` for it with any of ``measure``,
``model`` (``random`` | ``common``), ``tau2_method``, ``ci_method``, ``pooling``
(``IV`` | ``MH`` | ``Peto``), ``level`` and ``source_analysis`` (free text, carried into
``pooled.csv``). Extra columns are allowed and kept (other features add their own, e.g. GRADE
overrides), so readers must not assume the column set is closed.

:func:`read_analyses` returns the typed table (empty when the file does not exist);
problems are reported as :class:`~metareview.validation.InputError` with file, line, column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from metareview.io import present, read_csv_text
from metareview.stats.options import TAU2_METHODS
from metareview.tables import BINARY_MEASURES, CONTINUOUS_MEASURES
from metareview.validation import (
    SLUG,
    InputError,
    Problem,
    check_choice,
    check_columns,
    line_of,
    parse_number,
)

ANALYSES_FILE = "data/raw/analyses.csv"
KEY_COLUMNS = ("condition", "outcome", "timepoint_weeks")
SETTING_COLUMNS = (
    "measure",
    "model",
    "tau2_method",
    "ci_method",
    "pooling",
    "level",
    "source_analysis",
)
MODELS = ("random", "common")
POOLING_METHODS = ("IV", "MH", "Peto")
CI_METHODS = ("z", "hksj")
MEASURES = (*CONTINUOUS_MEASURES, *BINARY_MEASURES, "HR")
#: Typed columns of the table :func:`read_analyses` returns (extra columns follow them).
ANALYSES_COLUMNS = (*KEY_COLUMNS, *SETTING_COLUMNS)


def validate_analyses(frame: pd.DataFrame, file: str = ANALYSES_FILE):
    """Type and check the raw string table; returns ``(typed, problems)``.

    ``timepoint_weeks`` and ``level`` become floats (NaN when blank); every other column stays
    text ('' when blank). Pooling MH/Peto is only allowed with a binary measure (Peto: OR).
    """
    problems = check_columns(frame, file, ("condition", "outcome"), ANALYSES_COLUMNS)
    if problems:
        return pd.DataFrame(columns=list(ANALYSES_COLUMNS)), problems
    frame = frame.copy()
    for col in ANALYSES_COLUMNS:
        if col not in frame:
            frame[col] = ""
    lines = frame.attrs.get("lines") or [line_of(i) for i in range(len(frame))]
    timepoints, levels, seen = [], [], {}
    for pos, (_, row) in enumerate(frame.iterrows()):
        line = lines[pos]
        for col in ("condition", "outcome"):
            if row[col] == "":
                problems.append(Problem(file, line, col, "required value is empty"))
            elif not SLUG.match(row[col]):
                problems.append(
                    Problem(file, line, col, f"'{row[col]}' is not a slug [a-z0-9][a-z0-9_-]*")
                )
        t = parse_number(row["timepoint_weeks"], file, line, "timepoint_weeks", problems)
        if not math.isnan(t) and t < 0:
            problems.append(Problem(file, line, "timepoint_weeks", "must be ≥ 0"))
        level = parse_number(row["level"], file, line, "level", problems)
        if not math.isnan(level) and not 0 < level < 1:
            problems.append(Problem(file, line, "level", f"{level:g} is not in (0, 1)"))
        timepoints.append(t)
        levels.append(level)
        check_choice(row["measure"], MEASURES, file, line, "measure", problems)
        check_choice(row["model"], MODELS, file, line, "model", problems)
        check_choice(row["tau2_method"], TAU2_METHODS, file, line, "tau2_method", problems)
        check_choice(row["ci_method"], CI_METHODS, file, line, "ci_method", problems)
        check_choice(row["pooling"], POOLING_METHODS, file, line, "pooling", problems)
        if row["pooling"] in ("MH", "Peto") and row["measure"] not in ("", *BINARY_MEASURES):
            problems.append(
                Problem(
                    file,
                    line,
                    "pooling",
                    f"{row['pooling']} pooling needs a binary measure (RR, OR, RD), not "
                    f"'{row['measure']}'",
                )
            )
        if row["pooling"] == "Peto" and row["measure"] not in ("", "OR"):
            problems.append(
                Problem(file, line, "pooling", "Peto pooling estimates an odds ratio (OR)")
            )
        key = (row["condition"], row["outcome"], None if math.isnan(t) else t)
        if key in seen:
            problems.append(
                Problem(file, line, None, f"the same analysis is already set on line {seen[key]}")
            )
        seen.setdefault(key, line)
    frame["timepoint_weeks"] = timepoints
    frame["level"] = levels
    columns = [*ANALYSES_COLUMNS, *(c for c in frame.columns if c not in ANALYSES_COLUMNS)]
    return frame[columns].reset_index(drop=True), problems


def read_analyses(root: Path | str = ".") -> pd.DataFrame:
    """The typed ``data/raw/analyses.csv`` under ``root``; an empty table when absent."""
    path = Path(root) / ANALYSES_FILE
    if not present(path):
        return pd.DataFrame(columns=list(ANALYSES_COLUMNS))
    typed, problems = validate_analyses(read_csv_text(path, ANALYSES_FILE), ANALYSES_FILE)
    if problems:
        raise InputError(problems)
    return typed


@dataclass(frozen=True)
class AnalysisSettings:
    """How one analysis is pooled (config defaults with its analyses.csv overrides)."""

    tau2_method: str = "REML"
    ci_method: str = "hksj"
    level: float = 0.95
    model: str = "random"
    pooling: str = "IV"
    measure: str = ""  # '' = the configured measure for the row's data kind
    source_analysis: str = ""


def matching_row(table: pd.DataFrame, condition, outcome, timepoint) -> dict | None:
    """The analyses.csv row for an analysis: an exact timepoint beats a blank one."""
    if table is None or table.empty:
        return None
    rows = table[
        (table["condition"].astype(str) == str(condition))
        & (table["outcome"].astype(str) == str(outcome))
    ]
    if rows.empty:
        return None
    t = pd.to_numeric(rows["timepoint_weeks"], errors="coerce")
    exact = rows[(t - float(timepoint)).abs() < 1e-12]
    if not exact.empty:
        return exact.iloc[0].to_dict()
    blank = rows[t.isna()]
    return blank.iloc[0].to_dict() if not blank.empty else None


def settings_for(
    table: pd.DataFrame | None, defaults: AnalysisSettings, condition, outcome, timepoint
) -> AnalysisSettings:
    """``defaults`` with the overrides of the matching analyses.csv row (if any)."""
    row = matching_row(table, condition, outcome, timepoint)
    if row is None:
        return defaults
    changes = {}
    for col in ("tau2_method", "ci_method", "model", "pooling", "measure", "source_analysis"):
        value = row.get(col, "")
        if isinstance(value, str) and value != "":
            changes[col] = value
    level = row.get("level")
    if level is not None and not pd.isna(level):
        changes["level"] = float(level)
    return replace(defaults, **changes)


def check_analyses_against(
    table: pd.DataFrame,
    outcomes: pd.DataFrame,
    file: str = ANALYSES_FILE,
    outcome_dir: Path | str = "data/raw/outcomes",
) -> None:
    """Every analyses.csv row of an analysed condition must name an outcome in its table; a
    row of a condition this run does not analyse must at least name an outcome file in
    ``outcome_dir`` (a typo would otherwise change nothing, silently)."""
    if table.empty:
        return
    present = set(
        zip(outcomes["condition"].astype(str), outcomes["outcome"].astype(str), strict=True)
    )
    loaded = {condition for condition, _ in present}
    kinds: dict = {}
    if "data_kind" in outcomes:
        for key, part in outcomes.groupby(["condition", "outcome"], sort=False):
            kinds[(str(key[0]), str(key[1]))] = set(part["data_kind"].astype(str))
    problems = []
    for pos, row in table.iterrows():
        if str(row["condition"]) not in loaded:
            if not (Path(outcome_dir) / f"{row['condition']}.csv").is_file():
                problems.append(
                    Problem(
                        file,
                        line_of(int(pos)),
                        "condition",
                        f"no condition '{row['condition']}': there is no "
                        f"data/raw/outcomes/{row['condition']}.csv",
                    )
                )
            continue  # a condition this run does not analyse (config 'conditions')
        if (str(row["condition"]), str(row["outcome"])) not in present:
            problems.append(
                Problem(
                    file,
                    line_of(int(pos)),
                    "outcome",
                    f"no outcome '{row['outcome']}' in data/raw/outcomes/{row['condition']}.csv",
                )
            )
            continue
        problems.extend(_kind_problems(row, kinds, file, int(pos)))
    if problems:
        raise InputError(problems)


def _kind_problems(row, kinds: dict, file: str, pos: int) -> list[Problem]:
    """A ``measure`` or ``pooling`` that no row of the outcome can take would change nothing,
    silently: SMD for an outcome of events, MH pooling of means."""
    have = kinds.get((str(row["condition"]), str(row["outcome"])))
    if have is None or have == {"single_arm"}:  # no data_kind; nothing pooled anyway
        return []
    wanted = []
    measure = str(row.get("measure", "") or "")
    if measure:
        family = "binary" if measure in BINARY_MEASURES else "continuous"
        if "generic" not in have:  # generic rows carry their measure (RevMan's IV analyses)
            wanted.append(("measure", f"{measure} is a {family} measure", family))
    pooling = str(row.get("pooling", "") or "")
    if pooling in ("MH", "Peto"):
        wanted.append(("pooling", f"{pooling} pooling needs events per arm", "binary"))
    return [
        Problem(
            file,
            line_of(pos),
            column,
            f"{why}, but outcome '{row['outcome']}' of {row['condition']} has no {kind} rows "
            f"(it has: {', '.join(sorted(have))})",
        )  # fmt: skip
        for column, why, kind in wanted
        if kind not in have
    ]


def compute_effects_with_settings(
    outcomes: pd.DataFrame, studies: pd.DataFrame, options, table: pd.DataFrame | None
) -> pd.DataFrame:
    """``compute_effect_sizes`` where analyses.csv may choose another measure per analysis.

    Rows of an analysis with a ``measure`` override are computed with that measure (as the
    continuous or binary measure, by the measure's family); every other row with ``options``.
    """
    from metareview.effect_sizes import compute_effect_sizes

    if table is None or table.empty or not (table["measure"].astype(str) != "").any():
        return compute_effect_sizes(outcomes, studies, options)
    measures = []
    for _, row in outcomes.iterrows():
        match = matching_row(table, row["condition"], row["outcome"], row["timepoint_weeks"])
        measures.append(str(match.get("measure", "")) if match else "")
    measures = pd.Series(measures, index=outcomes.index)
    parts = []
    for measure, rows in outcomes.groupby(measures, sort=True):
        opts = options
        if measure in CONTINUOUS_MEASURES:
            opts = replace(options, measure_continuous=measure)
        elif measure in BINARY_MEASURES:
            opts = replace(options, measure_binary=measure)
        parts.append(compute_effect_sizes(rows, studies, opts))
    order = ["condition", "outcome", "timepoint_weeks", "measure", "year", "label", "study_id"]
    table_out = pd.concat(parts, ignore_index=True)
    return table_out.sort_values(order, kind="mergesort").reset_index(drop=True)
