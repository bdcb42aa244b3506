"""RevMan 5 "Data and analyses" CSV export (comma or semicolon separated, optional BOM).

Two layouts occur. With ``Comparison Number, Outcome Number, Subgroup Number`` columns each row
says where it belongs. Without them (e.g. ``PRPData-22-11.csv``) rows come in order: a
comparison row (no data type, no numbers), an outcome row (data type set; its numbers are the
overall result, present only when RevMan computed totals, and then the subgroup-test columns
``Qint ...`` are filled too), subgroup rows (data type set, numbers, no ``Qint``), and study
rows (no data type). ``Q`` in this export is the heterogeneity χ², ``df`` its degrees of
freedom, ``Z`` the test statistic (absolute value).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from metareview.revman.model import (
    Analysis,
    DataRow,
    Review,
    RevManError,
    StoredResult,
    number,
    our_measure,
)

REQUIRED = ("Name", "Data Type", "Statistical Method", "Effect Measure", "Analysis Model")
KINDS = {"DIC": "dichotomous", "CON": "continuous", "IV": "generic", "GIV": "generic"}
RESULT_FIELDS = {
    "estimate": "Effect Estimate",
    "ci_low": "CI Start",
    "ci_high": "CI End",
    "tau2": "Tau²",
    "q": "Q",
    "q_df": "df",
    "q_p": "P(Q)",
    "i2": "I²(Q)",
    "z": "Z",
    "p_value": "P(Z)",
}
NUMERIC = ("Events 1", "Mean 1", "SD 1", "Total 1", "Effect Estimate", "CI Start", "CI End")


def _read_rows(path: Path, display: str) -> list[dict]:
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [h.strip() for h in (rows[0].keys() if rows else first.split(delimiter))]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RevManError(
            display,
            "not a RevMan 5 'Data and analyses' CSV export: column(s) "
            + ", ".join(f"'{c}'" for c in missing)
            + " missing",
        )
    return [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in rows]


def _stored(row: dict, subgroup: str) -> StoredResult:
    values = {stat: number(row.get(col)) for stat, col in RESULT_FIELDS.items()}
    return StoredResult(subgroup, values, dict(RESULT_FIELDS))


def _has_numbers(row: dict) -> bool:
    return any(row.get(c, "") != "" for c in NUMERIC)


def _new_analysis(row: dict, comparison: str, c_no: int, o_no: int, display: str) -> Analysis:
    number_ = f"{c_no}.{o_no}"
    kind = KINDS.get(row["Data Type"].upper())
    if kind is None:
        raise RevManError(display, f"analysis {number_}: unknown data type '{row['Data Type']}'")
    method = {"MH": "MH", "IV": "IV", "PETO": "Peto"}.get(row["Statistical Method"].upper())
    if method is None:
        raise RevManError(
            display, f"analysis {number_}: statistical method '{row['Statistical Method']}'"
        )
    return Analysis(
        number=number_,
        comparison=comparison,
        name=row["Name"],
        data_type=kind,
        method=method,
        measure=our_measure(display, row["Effect Measure"], f"analysis {number_}"),
        model="random" if row["Analysis Model"].lower().startswith("random") else "common",
        experimental_label=row.get("Group Label 1", ""),
        control_label=row.get("Group Label 2", ""),
        favours_experimental=row.get("Left Graph Label", ""),
        favours_control=row.get("Right Graph Label", ""),
        source_measure=row["Effect Measure"],
    )


def _study(row: dict, analysis: Analysis, subgroup: str) -> DataRow:
    out = DataRow(
        study=row["Name"],
        year=row.get("Year of study", ""),
        subgroup=subgroup,
        stored_effect=number(row.get("Effect Estimate")),
        stored_ci_low=number(row.get("CI Start")),
        stored_ci_high=number(row.get("CI End")),
        stored_weight=number(row.get("Weight")),
    )
    out.exp_n, out.ctl_n = number(row.get("Total 1")), number(row.get("Total 2"))
    if analysis.data_type == "dichotomous":
        out.exp_events, out.ctl_events = number(row.get("Events 1")), number(row.get("Events 2"))
    elif analysis.data_type == "continuous":
        out.exp_mean, out.exp_sd = number(row.get("Mean 1")), number(row.get("SD 1"))
        out.ctl_mean, out.ctl_sd = number(row.get("Mean 2")), number(row.get("SD 2"))
    else:
        est = number(row.get("Effect Estimate"))
        ratio = analysis.measure in ("RR", "OR", "HR")
        out.giv_estimate = math.log(est) if ratio and est > 0 else est
        out.giv_se = number(row.get("SE"))
    return out


def read_revman5_csv(path: Path, display: str | None = None) -> Review:
    """Parse a RevMan 5 CSV export; :class:`RevManError` names the file and the problem."""
    display = display or Path(path).name
    rows = _read_rows(path, display)
    numbered = "Outcome Number" in rows[0] if rows else False
    review = Review(title=Path(display).stem, source=display, fmt="revman5-csv")
    comparison, c_no, o_no = "", 0, 0
    analysis: Analysis | None = None
    subgroup = ""
    for row in rows:
        kind = row.get("Data Type", "")
        if numbered:
            o, s = (
                int(number(row["Outcome Number"]) or 0),
                int(number(row["Subgroup Number"]) or 0),
            )
            is_comparison = o == 0 and not kind
            is_outcome = kind and s == 0 and (analysis is None or o != o_no or not analysis.rows)
            is_subgroup = kind and s > 0
        else:
            is_comparison = not kind and not _has_numbers(row)
            is_subgroup = bool(kind) and _has_numbers(row) and row.get("Qint", "") == ""
            is_outcome = bool(kind) and not is_subgroup
        if is_comparison:
            comparison, c_no, o_no = row["Name"], c_no + 1, 0
            if numbered:
                c_no = int(number(row["Comparison Number"]))
            continue
        if is_outcome:
            o_no = int(number(row["Outcome Number"])) if numbered else o_no + 1
            analysis = _new_analysis(row, comparison or review.title, c_no or 1, o_no, display)
            analysis.totals = _has_numbers(row)
            if analysis.totals:
                analysis.results.append(_stored(row, ""))
            review.analyses.append(analysis)
            subgroup = ""
            continue
        if analysis is None:
            raise RevManError(display, f"study row '{row.get('Name')}' before any outcome row")
        if is_subgroup:
            subgroup = row["Name"] or f"Subgroup {len(analysis.results) + 1}"
            analysis.results.append(_stored(row, subgroup))
            continue
        analysis.rows.append(_study(row, analysis, subgroup))
    if not review.analyses:
        raise RevManError(
            display, "no analysis rows found: not a RevMan 5 'Data and analyses' export"
        )
    return review
