"""The report's certainty content: Summary of Findings per condition (GRADEpro layout), RoB
figures, the PRISMA 2020 flow and the GRADE/RoB methods text.

:func:`add_certainty` adds to a context built by :func:`metareview.report.build_context`:
``c["sof"]`` and ``c["rob_traffic_light"]`` per condition, ``a["rob_summary"]`` per analysis,
and top-level ``certainty`` (PRISMA figure, search description, statements). Wording is
neutral ("intervention", "control"): the engine knows nothing about a particular drug.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from metareview.certainty.grade import DOMAINS
from metareview.certainty.prisma import Prisma
from metareview.plots.certainty_figures import PRISMA_NAME, rob_summary_name, traffic_light_name
from metareview.plots.format import MEASURE_NAMES, ci_heading, fmt_weeks, humanize, is_missing
from metareview.report.html import svg_data_uri

FOLDER = "certainty_figures"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _figure(folder: Path, name: str, alt: str) -> dict | None:
    path = folder / name
    if not path.is_file():
        return None
    return {"path": f"{FOLDER}/{name}", "name": name, "alt": alt, "data_uri": svg_data_uri(path)}


def _n(x: float, digits: int = 2) -> str:
    if is_missing(x):
        return ""
    if math.isinf(float(x)):  # a ratio bound beyond the floating-point range
        return "∞" if float(x) > 0 else "−∞"
    return f"{float(x):.{digits}f}".replace("-", "−")


def _per_1000(x) -> str:
    return "" if is_missing(x) else f"{float(x):.0f} per 1,000"


def relative_text(row: dict, level: str = "") -> str:
    """``RR 1.15 (0.73 to 1.80)``; continuous measures are described under the absolute effect.

    ``level`` (e.g. ``90% CI``) is added inside the brackets when the table's heading cannot
    name one level for every row."""
    if row["measure"] not in ("RR", "OR", "RD"):
        return "—"
    return (
        f"{row['measure']} {_n(row['relative_estimate'])} "
        f"({_n(row['relative_ci_low'])} to {_n(row['relative_ci_high'])}"
        f"{'; ' + level if level else ''})"
    )


def participants_text(row: dict) -> str:
    k = int(row["k"])
    n = row["participants"]
    studies = f"{k} {'study' if k == 1 else 'studies'}"
    return f"{studies}; participants not reported" if is_missing(n) else f"{n:.0f} ({studies})"


def sof_block(sof: pd.DataFrame, titles: dict[str, str]) -> dict | None:
    """Rows and footnotes of one condition's Summary of Findings table."""
    if sof.empty:
        return None
    rows, notes = [], []
    ci = ci_heading(sof.get("level", []))
    for _, r in sof.iterrows():
        r = r.to_dict()
        own = ci_heading([r.get("level")]) if ci == "CI" else ""  # mixed: each row says
        marks = []
        for domain in DOMAINS:
            value = r.get(f"grade_{domain}")
            if is_missing(value) or int(value) == 0 and domain not in str(r.get("overridden")):
                continue
            reason = _reason(r["reasons"], domain)
            letter = LETTERS[len(notes) % len(LETTERS)]
            notes.append({"mark": letter, "text": f"{humanize(domain)} ({int(value)}): {reason}"})
            marks.append(letter)
        binary = r["measure"] in ("RR", "OR", "RD")
        key = str(r.get("analysis_id", ""))
        rows.append(
            {
                "outcome": titles.get(
                    key, f"{humanize(r['outcome'])}, {fmt_weeks(r['timepoint_weeks'])}"
                ),
                "measure": MEASURE_NAMES.get(r["measure"], r["measure"]),
                "relative": relative_text(r, own),
                "control": _per_1000(r["control_risk_per_1000"]) if binary else "—",
                "intervention": (
                    f"{_per_1000(r['intervention_risk_per_1000'])} "
                    f"({_n(r['intervention_risk_ci_low'], 0)} to "
                    f"{_n(r['intervention_risk_ci_high'], 0)})"
                    if binary and not is_missing(r["intervention_risk_per_1000"])
                    else r["effect_words"]
                ),
                "participants": participants_text(r),
                "certainty": r["certainty_label"],
                "marks": ", ".join(marks),
                "note": "" if is_missing(r.get("note")) else str(r["note"]),
            }
        )
    return {"rows": rows, "footnotes": notes, "ci": ci}


def _reason(reasons: str, domain: str) -> str:
    prefix = f"{domain.replace('_', ' ')}: "
    for part in str(reasons).split(" | "):
        if part.startswith(prefix):
            return part[len(prefix) :]
    return ""


def rob_statement(rob_rows: pd.DataFrame, has_file: bool) -> str:
    """One sentence on how much of the evidence has a risk-of-bias judgement, and its source."""
    if rob_rows.empty:
        return "No analysis had studies to judge for risk of bias."
    judged = rob_rows[rob_rows["overall"] != "not_assessed"]
    studies = rob_rows["study_id"].nunique()
    if judged.empty:
        return (
            f"Risk of bias was not assessed for any of the {studies} studies in the analyses"
            + (
                " (data/raw/risk_of_bias.csv records no judgement)."
                if has_file
                else " (no data/raw/risk_of_bias.csv, and no studies.csv risk_of_bias value)."
            )
            + " No judgement was invented or assumed low: GRADE counts a study whose risk of bias"
            " was not assessed as 'some concerns' (config grade.rob_not_assessed) and says so."
        )
    sources = sorted({str(s) for s in judged["source"] if not is_missing(s) and str(s)})
    return (
        f"Risk of bias (RoB 2) was judged for {judged['study_id'].nunique()} of {studies} "
        f"studies; sources: {'; '.join(sources) or 'not stated'}. Studies without a judgement "
        "are shown as 'not assessed' and never assumed low."
    )


def add_certainty(
    context: dict,
    sof: pd.DataFrame,
    rob_rows: pd.DataFrame,
    prisma: Prisma | None,
    figures_dir: str | Path,
    *,
    has_rob_file: bool = False,
    review: dict | None = None,
) -> dict:
    """Add the certainty content to ``context`` (in place) and return it.

    ``review`` is the config's ``review:`` block; its ``intervention`` and ``comparator``
    name the arms in the Summary of Findings headings (neutral words otherwise).
    """
    folder = Path(figures_dir)
    for c in context.get("conditions", []):
        titles = {a["anchor"]: a["title"] for a in c.get("analyses", [])}
        part = sof[sof["condition"].astype(str) == c["slug"]] if not sof.empty else sof
        c["sof"] = sof_block(part, titles)
        c["rob_traffic_light"] = _figure(
            folder, traffic_light_name(c["slug"]), f"Risk of bias traffic-light plot: {c['name']}"
        )
        for a in c.get("analyses", []):
            a["rob_summary"] = _figure(
                folder, rob_summary_name(a["anchor"]), f"Risk of bias by weight: {a['title']}"
            )
    prisma_fig = _figure(folder, PRISMA_NAME, "PRISMA 2020 flow diagram")
    review = review or {}
    context["certainty"] = {
        "intervention": str(review.get("intervention") or "intervention"),
        "comparator": str(review.get("comparator") or "control"),
        "prisma": prisma_fig,
        "search": prisma.search_description if prisma else "",
        "rob": rob_statement(rob_rows, has_rob_file),
        "grade": (
            "Certainty of evidence (GRADE) is rated automatically from each analysis: randomized "
            "evidence starts at high and is rated down for risk of bias, inconsistency, "
            "indirectness, imprecision and publication bias by the rules and thresholds in "
            "docs/grade.md (config key grade); every downgrade states the numbers behind it, "
            "and a reviewer's override (data/raw/analyses.csv) is shown as such."
        ),
    }
    return context


__all__ = ["add_certainty", "relative_text", "rob_statement", "sof_block"]
