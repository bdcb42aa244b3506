"""RevMan Web / Cochrane data packages: a ``.zip`` (possibly holding another zip) or a folder
with ``*-overall-estimates-and-settings.csv``, ``*-data-rows.csv`` and
``*-subgroup-estimates.csv`` (``analysis-data/``). Both the older layout (``Fleiss1993.zip``)
and the newer one (2024 on: ``Analysis model``, ``Heterogeneity estimator``, ``CI method``,
``PI start`` ... and RoB 2 judgement columns in the data rows) are read; columns a layout lacks
are simply absent from the stored results.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path

from metareview.revman.model import (
    Analysis,
    DataRow,
    Review,
    RevManError,
    StoredResult,
    Study,
    number,
    our_measure,
)

SUFFIXES = {
    "overall": "-overall-estimates-and-settings.csv",
    "rows": "-data-rows.csv",
    "subgroups": "-subgroup-estimates.csv",
}
KINDS = {
    "DICHOTOMOUS": "dichotomous",
    "CONTINUOUS": "continuous",
    "CONTRAST LEVEL": "generic",
    "GENERIC INVERSE VARIANCE": "generic",
    "O-E AND VARIANCE": "generic",
}
RESULT_FIELDS = {
    "estimate": "Mean",
    "ci_low": "CI start",
    "ci_high": "CI end",
    "tau2": "Heterogeneity Tau²",
    "tau2_ci_low": "Tau² CI start",
    "tau2_ci_high": "Tau² CI end",
    "q": "Heterogeneity Chi²",
    "q_df": "Heterogeneity df",
    "q_p": "Heterogeneity P",
    "i2": "Heterogeneity I²",
    "z": "Effect Z",
    "t": "Effect T",
    "p_value": "Effect P",
    "pi_low": "PI start",
    "pi_high": "PI end",
}
TAU2 = {"REML": "REML", "DL": "DL", "DERSIMONIAN-LAIRD": "DL", "PM": "PM", "PAULE-MANDEL": "PM"}
ROB_DOMAINS = {
    "d1": "Bias arising from the randomization process",
    "d2": "Bias due to deviations from intended interventions",
    "d3": "Bias due to missing outcome data",
    "d4": "Bias in measurement of the outcome",
    "d5": "Bias in selection of the reported result",
    "overall": "Overall bias",
}
ROB_VALUES = {"low": "low", "low risk": "low", "some concerns": "some_concerns", "high": "high"}


def tau2_method(text: str) -> str:
    """RevMan Web's heterogeneity estimator (REML, DL, 'DerSimonian and Laird', ...) → ours."""
    key = str(text).strip().upper()
    if key in TAU2:
        return TAU2[key]
    if "RESTRICTED" in key or "REML" in key:
        return "REML"
    if "PAULE" in key:
        return "PM"
    return "DL"  # RevMan 5 and RevMan Web before 2024: DerSimonian-Laird


def _collect(files: dict[str, bytes], name: str, data: bytes, depth: int = 0) -> None:
    if name.lower().endswith(".zip") and depth < 3:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as inner:
                for info in inner.infolist():
                    if not info.is_dir():
                        _collect(files, info.filename, inner.read(info), depth + 1)
        except zipfile.BadZipFile:
            return
        return
    for key, suffix in SUFFIXES.items():
        if name.endswith(suffix) and key not in files:
            files[key] = data


def _files(path: Path, display: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and (p.suffix.lower() == ".zip" or p.name.endswith(".csv")):
                _collect(files, p.name, p.read_bytes())
    else:
        try:
            zipfile.ZipFile(path).close()
        except zipfile.BadZipFile as err:
            raise RevManError(display, "not a zip archive (a RevMan Web data package)") from err
        _collect(files, path.name, path.read_bytes())
    for key in ("overall", "rows"):
        if key not in files:
            raise RevManError(
                display, f"no '*{SUFFIXES[key]}' found: not a RevMan Web / Cochrane data package"
            )
    return files


def _table(data: bytes) -> list[dict]:
    text = data.decode("utf-8-sig", errors="replace")
    return [
        {(k or "").strip(): (v or "").strip() for k, v in r.items()}
        for r in csv.DictReader(io.StringIO(text, newline=""))
    ]


def _stored(row: dict, subgroup: str) -> StoredResult:
    values = {s: number(row[c]) for s, c in RESULT_FIELDS.items() if c in row}
    not_computed = all(values.get(s, 0) == 0 for s in ("estimate", "ci_low", "ci_high"))
    if not_computed:  # RevMan Web writes 0, 0, 0 for results it did not compute
        values = {s: math.nan for s in values}
    return StoredResult(subgroup, values, {s: c for s, c in RESULT_FIELDS.items() if c in row})


def read_package(path: Path, display: str | None = None) -> Review:
    path = Path(path)
    display = display or path.name
    files = _files(path, display)
    overall = _table(files["overall"])
    data_rows = _table(files["rows"])
    sub_rows = _table(files["subgroups"]) if "subgroups" in files else []
    title = path.stem
    review = Review(title=title, source=display, fmt="revman-web", conventions="revman-web")
    by_number: dict[str, Analysis] = {}
    for row in overall:
        number_ = f"{row.get('Analysis group', '')}.{row.get('Analysis number', '')}"
        kind = KINDS.get(row.get("Data type", "").upper())
        if kind is None:
            raise RevManError(
                display, f"analysis {number_}: unknown data type '{row.get('Data type')}'"
            )
        method = {"MH": "MH", "IV": "IV", "PETO": "Peto", "INVERSE VARIANCE": "IV"}.get(
            row.get("Statistical method", "IV").upper(), "IV"
        )
        level = number(row.get("CI/PI level", row.get("Estimate CI", "95%")))
        ci = row.get("CI method", "Wald").upper()
        analysis = Analysis(
            number=number_,
            comparison=row.get("Analysis group name", "") or f"Comparison {number_.split('.')[0]}",
            name=row.get("Analysis name", ""),
            data_type=kind,
            method=method,
            measure=our_measure(display, row.get("Effect measure", ""), f"analysis {number_}"),
            model="random"
            if row.get("Analysis model", "").lower().startswith("random")
            else "common",
            tau2_method=tau2_method(row.get("Heterogeneity estimator", "")),
            ci_method="hksj" if ci.startswith("HKSJ") or "KNAPP" in ci else "z",
            level=level / 100 if not math.isnan(level) else 0.95,
            experimental_label=row.get("Experimental group label", "")
            or row.get("Experimental intervention", ""),
            control_label=row.get("Control group label", "")
            or row.get("Control intervention", ""),
            totals=row.get("Overall estimates", "true").lower() != "false",
            log_scale_giv=row.get("Log-scale data", "true").lower() == "true",
            source_measure=row.get("Effect measure", ""),
        )
        if analysis.totals:
            analysis.results.append(_stored(row, ""))
        review.analyses.append(analysis)
        by_number[number_] = analysis
    for row in sub_rows:
        analysis = by_number.get(f"{row.get('Analysis group')}.{row.get('Analysis number')}")
        if analysis is not None:
            analysis.results.append(_stored(row, row.get("Subgroup", "")))
    for row in data_rows:
        number_ = f"{row.get('Analysis group', '')}.{row.get('Analysis number', '')}"
        analysis = by_number.get(number_)
        if analysis is None:
            review.skipped.append(
                (row.get("Study", ""), f"data row of unknown analysis {number_}")
            )
            continue
        analysis.rows.append(_data_row(row, analysis))
        _rob(review, row)
    return review


def _data_row(row: dict, analysis: Analysis) -> DataRow:
    out = DataRow(
        study=row.get("Study", ""),
        year=row.get("Study year", ""),
        subgroup=row.get("Subgroup", ""),
        exp_n=number(row.get("Experimental N")),
        ctl_n=number(row.get("Control N")),
        stored_effect=number(row.get("Mean")),
        stored_ci_low=number(row.get("CI start")),
        stored_ci_high=number(row.get("CI end")),
        stored_weight=number(row.get("Weight")),
    )
    if analysis.data_type == "dichotomous":
        out.exp_events = number(row.get("Experimental cases"))
        out.ctl_events = number(row.get("Control cases"))
    elif analysis.data_type == "continuous":
        out.exp_mean, out.exp_sd = (
            number(row.get("Experimental mean")),
            number(row.get("Experimental SD")),
        )
        out.ctl_mean, out.ctl_sd = number(row.get("Control mean")), number(row.get("Control SD"))
    else:
        est = number(row.get("GIV Mean"))
        ratio = analysis.measure in ("RR", "OR", "HR")
        if ratio and not analysis.log_scale_giv:
            est = math.log(est) if est > 0 else math.nan
        out.giv_estimate, out.giv_se = est, number(row.get("GIV SE"))
    return out


def _rob(review: Review, row: dict) -> None:
    name = row.get("Study", "")
    found = {}
    support = {}
    for key, domain in ROB_DOMAINS.items():
        value = row.get(f"{domain} (judgement)", "")
        if value:
            found[key] = ROB_VALUES.get(value.strip().lower(), "")
            support[key] = row.get(f"{domain} (support)", "")
    if found:
        study = review.studies.setdefault(name, Study(name=name, year=row.get("Study year", "")))
        if not study.rob:
            study.rob, study.rob_support = found, support
