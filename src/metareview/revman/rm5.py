"""RevMan 5 review files (``.rm5``): XML read with the standard library's ElementTree.

The parser never resolves a DTD or external entity (``.rm5`` files name none that matter;
ElementTree does not fetch them). Analyses live under ``ANALYSES_AND_DATA/COMPARISON`` as
``DICH_OUTCOME`` / ``CONT_OUTCOME`` / ``IV_OUTCOME``, with study rows ``*_DATA`` directly or
inside ``*_SUBGROUP`` elements; every pooled number RevMan computed is an attribute
(``EFFECT_SIZE``, ``CI_START``, ``CI_END``, ``TAU2``, ``CHI2``, ``DF``, ``P_CHI2``, ``I2``,
``Z``, ``P_Z``), read verbatim.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
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

KINDS = {"DICH": "dichotomous", "CONT": "continuous", "IV": "generic"}
RATIO = ("RR", "OR", "HR")


def _text(element, tag: str) -> str:
    child = element.find(tag)
    return "".join(child.itertext()).strip() if child is not None else ""


def _stored(element, subgroup: str, measure: str) -> StoredResult:
    a = element.attrib
    fields = {
        "estimate": "EFFECT_SIZE",
        "ci_low": "CI_START",
        "ci_high": "CI_END",
        "tau2": "TAU2",
        "q": "CHI2",
        "q_df": "DF",
        "q_p": "P_CHI2",
        "i2": "I2",
        "z": "Z",
        "p_value": "P_Z",
    }
    values = {stat: number(a.get(name)) for stat, name in fields.items()}
    return StoredResult(subgroup, values, fields)


def _row(element, kind: str, subgroup: str, studies: dict[str, Study]) -> DataRow:
    a = element.attrib
    sid = a.get("STUDY_ID", "")
    study = studies.get(sid) or Study(name=sid.removeprefix("STD-"))
    row = DataRow(
        study=study.name,
        year=study.year,
        subgroup=subgroup,
        stored_effect=number(a.get("EFFECT_SIZE")),
        stored_ci_low=number(a.get("CI_START")),
        stored_ci_high=number(a.get("CI_END")),
        stored_weight=number(a.get("WEIGHT")),
        estimable=a.get("ESTIMABLE", "YES") != "NO",
    )
    if kind == "DICH":
        row.exp_events, row.exp_n = number(a.get("EVENTS_1")), number(a.get("TOTAL_1"))
        row.ctl_events, row.ctl_n = number(a.get("EVENTS_2")), number(a.get("TOTAL_2"))
    elif kind == "CONT":
        row.exp_mean, row.exp_sd = number(a.get("MEAN_1")), number(a.get("SD_1"))
        row.ctl_mean, row.ctl_sd = number(a.get("MEAN_2")), number(a.get("SD_2"))
        row.exp_n, row.ctl_n = number(a.get("TOTAL_1")), number(a.get("TOTAL_2"))
    else:  # ESTIMATE: as entered (log scale for ratios); EFFECT_SIZE: natural scale
        row.giv_estimate = number(a.get("ESTIMATE"))
        if math.isnan(row.giv_estimate):
            row.giv_estimate = number(a.get("LOG_EFFECT_SIZE", a.get("EFFECT_SIZE")))
            if "LOG_EFFECT_SIZE" not in a:
                row.giv_natural = True
        row.giv_se = number(a.get("SE"))
        row.exp_n, row.ctl_n = number(a.get("TOTAL_1")), number(a.get("TOTAL_2"))
    return row


def _studies(root) -> dict[str, Study]:
    out = {}
    for st in root.iter("STUDY"):
        sid = st.get("ID")
        if sid:
            out[sid] = Study(
                name=st.get("NAME") or sid.removeprefix("STD-"), year=st.get("YEAR", "")
            )
    return out


def read_rm5(path: Path, display: str | None = None) -> Review:
    """Parse a ``.rm5`` file; :class:`RevManError` names the file and what is wrong."""
    display = display or Path(path).name
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise RevManError(display, f"not well-formed XML ({err}); is the file truncated?") from err
    if root.tag != "COCHRANE_REVIEW":
        raise RevManError(display, f"root element is <{root.tag}>, not <COCHRANE_REVIEW>")
    data = root.find("ANALYSES_AND_DATA")
    if data is None:
        raise RevManError(display, "no <ANALYSES_AND_DATA> element: nothing to import")
    studies = _studies(root)
    review = Review(
        title=_text(root.find("COVER_SHEET") or root, "TITLE") or Path(display).stem,
        source=display,
        fmt="rm5",
        studies={s.name: s for s in studies.values()},
        conventions="revman5",
    )
    for comparison in data.findall("COMPARISON"):
        c_no, c_name = comparison.get("NO", ""), _text(comparison, "NAME")
        for outcome in comparison:
            kind = outcome.tag.removesuffix("_OUTCOME")
            if kind not in KINDS or outcome.tag == kind:
                continue
            review.analyses.append(_analysis(outcome, kind, c_no, c_name, studies, display))
    return review


def _analysis(outcome, kind, c_no, c_name, studies, display) -> Analysis:
    a = outcome.attrib
    number_ = f"{c_no}.{a.get('NO', '')}"
    method = {"MH": "MH", "IV": "IV", "PETO": "Peto"}.get(a.get("METHOD", "IV").upper())
    if method is None:
        raise RevManError(display, f"analysis {number_}: statistical method '{a.get('METHOD')}'")
    raw_measure = a.get("EFFECT_MEASURE", "")
    measure = our_measure(display, raw_measure, f"analysis {number_}")
    level = number(a.get("CI_TOTAL", "95"))
    analysis = Analysis(
        number=number_,
        comparison=c_name,
        name=_text(outcome, "NAME"),
        data_type=KINDS[kind],
        method=method,
        measure=measure,
        model="random" if a.get("RANDOM") == "YES" else "common",
        level=(level / 100) if not math.isnan(level) else 0.95,
        experimental_label=_text(outcome, "GROUP_LABEL_1"),
        control_label=_text(outcome, "GROUP_LABEL_2"),
        favours_experimental=_text(outcome, "GRAPH_LABEL_1"),
        favours_control=_text(outcome, "GRAPH_LABEL_2"),
        totals=a.get("TOTALS", "YES") != "NO",
        source_measure=raw_measure,
    )
    if analysis.totals:
        analysis.results.append(_stored(outcome, "", measure))
    for child in outcome:
        if child.tag == f"{kind}_DATA":
            analysis.rows.append(_row(child, kind, "", studies))
        elif child.tag == f"{kind}_SUBGROUP":
            name = _text(child, "NAME") or f"Subgroup {child.get('NO', '')}"
            analysis.results.append(_stored(child, name, measure))
            for data in child.findall(f"{kind}_DATA"):
                analysis.rows.append(_row(data, kind, name, studies))
    if kind == "IV":
        for row in analysis.rows:
            if measure in RATIO and row.giv_natural and row.giv_estimate > 0:
                row.giv_estimate = math.log(row.giv_estimate)
    return analysis
