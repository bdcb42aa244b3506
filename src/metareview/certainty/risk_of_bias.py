"""Reading, validating and applying ``data/raw/risk_of_bias.csv`` (RoB 2 judgements).

One row per study (``outcome`` blank: every outcome of the study) or per study × outcome, with
the five RoB 2 domains ``d1 … d5`` and ``overall`` as ``low``, ``some_concerns`` or ``high``
(empty = not assessed). A row for a named outcome takes precedence over the study's blank-outcome
row. When the file exists it supersedes ``studies.csv``'s ``risk_of_bias`` column; without it,
that column (``low``/``some``/``high``) gives the overall judgement and the domains are not
assessed. Nothing is ever assumed low: a missing judgement is ``not_assessed``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metareview.io import present, read_csv_text
from metareview.validation import SLUG, InputError, Problem, check_choice, check_columns

FILE = "data/raw/risk_of_bias.csv"
DOMAINS = ("d1", "d2", "d3", "d4", "d5")
JUDGED = (*DOMAINS, "overall")
JUDGEMENTS = ("low", "some_concerns", "high")
NOT_ASSESSED = "not_assessed"
LEVELS = (*JUDGEMENTS, NOT_ASSESSED)
DOMAIN_NAMES = {
    "d1": "Randomization process",
    "d2": "Deviations from intended interventions",
    "d3": "Missing outcome data",
    "d4": "Measurement of the outcome",
    "d5": "Selection of the reported result",
    "overall": "Overall",
}
#: studies.csv's ``risk_of_bias`` words → RoB 2 judgements.
STUDY_COLUMN_WORDS = {"low": "low", "some": "some_concerns", "high": "high"}
REQUIRED = ("study_id", "outcome", *JUDGED)
KNOWN = (*REQUIRED, *(f"{c}_support" for c in JUDGED), "source")
COLUMNS = ["study_id", "outcome", *JUDGED, "source"]


def validate_risk_of_bias(
    frame: pd.DataFrame, study_ids, file: str = FILE
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the table: known study ids, allowed judgements, no duplicate study × outcome.

    Returns the table (empty cells as ``""``) and every problem found, each with file, line and
    column (header = line 1).
    """
    problems = check_columns(frame, file, REQUIRED, KNOWN)
    if problems:
        return frame, problems
    known = set(study_ids)
    seen: dict[tuple[str, str], int] = {}
    lines = frame.attrs.get("lines", [i + 2 for i in range(len(frame))])
    for i, (_, row) in enumerate(frame.iterrows()):
        line = lines[i]
        sid, outcome = row["study_id"], row["outcome"]
        if sid not in known:
            problems.append(
                Problem(file, line, "study_id", f"unknown study_id '{sid}' (not in studies.csv)")
            )
        if outcome and not SLUG.match(outcome):
            problems.append(
                Problem(file, line, "outcome", f"'{outcome}' is not a slug [a-z0-9][a-z0-9_-]*")
            )
        key = (sid, outcome)
        if key in seen:
            what = f"outcome '{outcome}'" if outcome else "blank outcome (every outcome)"
            problems.append(
                Problem(
                    file,
                    line,
                    "outcome",
                    f"duplicate row for study '{sid}' and {what} (first on line {seen[key]})",
                )
            )
        else:
            seen[key] = line
        for col in JUDGED:
            check_choice(row[col], JUDGEMENTS, file, line, col, problems)
    return frame, problems


def load_risk_of_bias(root: Path | str, study_ids) -> pd.DataFrame | None:
    """Validate ``data/raw/risk_of_bias.csv`` under ``root``; None when the file is absent.

    Raises
    ------
    InputError
        Listing every problem with file, line and column.
    """
    path = Path(root) / FILE
    if not present(path):
        return None
    frame, problems = validate_risk_of_bias(read_csv_text(path, FILE), study_ids)
    if problems:
        raise InputError(problems)
    return tidy(frame)


def check_outcomes(
    judged: pd.DataFrame | None, outcomes: pd.DataFrame, file: str = FILE
) -> list[Problem]:
    """Rows of ``judged`` (the table :func:`load_risk_of_bias` returns) naming an outcome that
    the study does not report in ``outcomes`` (every ``data/raw/outcomes/*.csv`` row, with
    ``study_id`` and ``outcome``): such a judgement would match no analysis and be ignored, so
    it is most likely a typo. One problem per row."""
    if judged is None:
        return []
    reported: dict[str, set[str]] = {}
    pairs = zip(outcomes["study_id"].astype(str), outcomes["outcome"].astype(str), strict=True)
    for sid, outcome in pairs:
        reported.setdefault(sid, set()).add(outcome)
    problems = []
    lines = judged.attrs.get("lines", [i + 2 for i in range(len(judged))])
    for line, sid, outcome in zip(lines, judged["study_id"], judged["outcome"], strict=True):
        if outcome and sid in reported and outcome not in reported[sid]:
            listed = ", ".join(f"'{o}'" for o in sorted(reported[sid]))
            problems.append(
                Problem(
                    file,
                    line,
                    "outcome",
                    f"study '{sid}' reports no outcome '{outcome}' in data/raw/outcomes/ "
                    f"(its outcomes: {listed}; leave outcome blank for every outcome)",
                )
            )
    return problems


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with every column of :data:`COLUMNS`, empty judgements as ``not_assessed``."""
    out = frame.copy()
    for col in COLUMNS:
        if col not in out:
            out[col] = ""
    out = out.fillna("")
    for col in JUDGED:
        out[col] = out[col].astype(str).str.strip().replace("", NOT_ASSESSED)
    out["outcome"] = out["outcome"].astype(str).str.strip()
    return out[COLUMNS + [c for c in out.columns if c not in COLUMNS]].reset_index(drop=True)


def from_studies(studies: pd.DataFrame) -> pd.DataFrame:
    """Overall judgements from ``studies.csv``'s ``risk_of_bias`` column (domains not assessed)."""
    column = studies.get("risk_of_bias", pd.Series("", index=studies.index))
    overall = column.fillna("").astype(str).str.strip().map(STUDY_COLUMN_WORDS)
    frame = pd.DataFrame({"study_id": studies["study_id"].astype(str), "outcome": ""})
    for col in DOMAINS:
        frame[col] = NOT_ASSESSED
    frame["overall"] = overall.fillna(NOT_ASSESSED).to_numpy()
    frame["source"] = ["studies.csv risk_of_bias" if o else "" for o in column.fillna("")]
    return frame[COLUMNS]


def judgements(rob: pd.DataFrame | None, studies: pd.DataFrame) -> pd.DataFrame:
    """The effective judgement table: the RoB file when given, else studies.csv's column."""
    return tidy(rob) if rob is not None else from_studies(studies)


def for_analysis(rob: pd.DataFrame, study_ids, outcome: str) -> pd.DataFrame:
    """One row per study of an analysis: its judgements for ``outcome`` (in the given order).

    An outcome-specific row wins over the study's blank-outcome row; a study with neither is
    ``not_assessed`` in every domain.
    """
    rows = []
    for sid in study_ids:
        part = rob[rob["study_id"] == str(sid)]
        specific = part[part["outcome"] == str(outcome)]
        general = part[part["outcome"] == ""]
        chosen = specific if not specific.empty else general
        if chosen.empty:
            row = {c: NOT_ASSESSED for c in JUDGED} | {"source": ""}
        else:
            row = {c: chosen.iloc[0][c] for c in JUDGED} | {"source": chosen.iloc[0]["source"]}
        rows.append({"study_id": str(sid)} | row)
    return pd.DataFrame(rows, columns=["study_id", *JUDGED, "source"])


def overall_lookup(rob: pd.DataFrame, study_ids, outcome: str) -> list[str]:
    """The overall judgement of each study for ``outcome`` (``not_assessed`` when missing)."""
    return for_analysis(rob, study_ids, outcome)["overall"].tolist()


def weight_shares(judged: pd.DataFrame, weights) -> pd.DataFrame:
    """Percent of the analysis' weight at each judgement level, per domain (robvis summary).

    Returns a tidy frame ``domain, judgement, weight`` with every domain × level (zeros kept);
    shares of a domain add to 100.
    """
    w = pd.Series(list(weights), dtype=float).fillna(0.0).to_numpy()
    total = w.sum() or 1.0
    rows = []
    for col in JUDGED:
        values = judged[col].to_numpy()
        for level in LEVELS:
            rows.append(
                {
                    "domain": col,
                    "judgement": level,
                    "weight": 100.0 * float(w[values == level].sum()) / total,
                }
            )
    return pd.DataFrame(rows)


__all__ = [
    "DOMAINS",
    "DOMAIN_NAMES",
    "JUDGED",
    "JUDGEMENTS",
    "LEVELS",
    "NOT_ASSESSED",
    "check_outcomes",
    "for_analysis",
    "from_studies",
    "judgements",
    "load_risk_of_bias",
    "overall_lookup",
    "validate_risk_of_bias",
    "weight_shares",
]


def analysis_table(
    effects: pd.DataFrame, pooled: pd.DataFrame, judged: pd.DataFrame
) -> pd.DataFrame:
    """``results/risk_of_bias.csv``: per analysis × included study, its weight and judgements.

    Columns: ``condition, outcome, timepoint_weeks, measure, analysis_id, study_id, label,
    weight`` (percent
    random-effects weight), ``d1 … d5, overall, source``.
    """
    from metareview.plots.forest import random_effects_weights, sort_studies
    from metareview.plots.format import as_bool
    from metareview.tables import rows_for

    keys = ["condition", "outcome", "timepoint_weeks", "measure"]
    out = []
    if not pooled.empty:
        pooled = pooled.sort_values(keys, kind="mergesort")
    for _, prow in pooled.iterrows():
        key = {k: prow[k] for k in keys}
        aid = str(prow.get("analysis_id", ""))
        rows = rows_for(effects, key)
        if "included" in rows:
            rows = rows[rows["included"].map(as_bool)]
        rows = sort_studies(rows)
        weights = random_effects_weights(rows["vi"].astype(float), prow.get("tau2"))
        found = for_analysis(judged, rows["study_id"].astype(str), str(prow["outcome"]))
        labels = rows.get("label", rows["study_id"]).astype(str).to_numpy()
        for i, (_, j) in enumerate(found.iterrows()):
            extra = {"label": labels[i], "weight": float(weights[i]), "analysis_id": aid}
            out.append(key | extra | j.to_dict())
    columns = [*keys, "analysis_id", "study_id", "label", "weight", *JUDGED, "source"]
    return pd.DataFrame(out, columns=columns)
