"""Write a :class:`~metareview.revman.model.Review` as a review folder of the data contract.

Mapping: a RevMan comparison is a condition (``outcomes/<comparison>.csv``); an analysis is an
outcome; a subgroup inside an analysis is an outcome of its own (``<outcome>-<subgroup>``,
``source_analysis`` ``1.1.2``), and its rows also fill the ``subgroup`` column; the overall
analysis (``source_analysis`` ``1.1``, only where RevMan computed totals) holds every row.
RevMan stores no follow-up time, so ``timepoint_weeks`` is 0. A study entered more than once
in one analysis (multi-arm trials, or one study in several subgroups) gets ``<study>-2``,
``<study>-3`` ... as extra ``studies.csv`` rows, explained in ``notes``.

Nothing is dropped silently: rows this workflow could not read (no participants, SD ≤ 0,
missing numbers) and analyses without studies are listed in
``data/raw/revman_import_log.csv`` with the reason, and returned.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from pathlib import Path

import yaml

from metareview.revman.model import STATISTICS, Analysis, DataRow, Review

RATIO = ("RR", "OR", "HR")


def slug(text: str, fallback: str = "x") -> str:
    """Contract slug ``[a-z0-9][a-z0-9_-]*`` of free text (ASCII, hyphens, at most 60)."""
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:60].strip("-")
    return s or fallback


def _unique(name: str, used: set[str]) -> str:
    out, n = name, 2
    while out in used:
        out, n = f"{name}-{n}", n + 1
    used.add(out)
    return out


def _year(row: DataRow) -> str:
    if re.fullmatch(r"\d{4}", str(row.year).strip()):
        return str(row.year).strip()
    found = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", row.study)
    return found[-1] if found else ""


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _problem(analysis: Analysis, row: DataRow) -> str:
    """Why a row cannot enter our tables ('' if it can)."""
    if analysis.data_type == "generic":
        if math.isnan(row.giv_estimate) or math.isnan(row.giv_se) or row.giv_se <= 0:
            return "no estimate with a positive SE"
        return ""
    for n in (row.exp_n, row.ctl_n):
        if math.isnan(n) or n <= 0:
            return "an arm has no participants"
    if analysis.data_type == "dichotomous":
        if math.isnan(row.exp_events) or math.isnan(row.ctl_events):
            return "events missing"
        if row.exp_events > row.exp_n or row.ctl_events > row.ctl_n:
            return "more events than participants"
        return ""
    if any(math.isnan(v) for v in (row.exp_mean, row.ctl_mean, row.exp_sd, row.ctl_sd)):
        return "mean or SD missing"
    if row.exp_sd <= 0 or row.ctl_sd <= 0:
        return "an SD is 0 (RevMan: not estimable)"
    return ""


def _outcome_row(analysis, row, study_id, outcome, label, number) -> dict:
    out = {
        "study_id": study_id,
        "outcome": outcome,
        "timepoint_weeks": 0,
        "outcome_label": label,
        "subgroup": row.subgroup,
        "exp_label": analysis.experimental_label,
        "ctl_label": analysis.control_label,
        "source_rows": f"RevMan analysis {number}: {row.study}",
    }
    if analysis.data_type == "dichotomous":
        out |= {
            "exp_events": row.exp_events,
            "exp_n": row.exp_n,
            "ctl_events": row.ctl_events,
            "ctl_n": row.ctl_n,
        }
    elif analysis.data_type == "continuous":
        out |= {
            "exp_n": row.exp_n,
            "exp_mean": row.exp_mean,
            "exp_sd": row.exp_sd,
            "ctl_n": row.ctl_n,
            "ctl_mean": row.ctl_mean,
            "ctl_sd": row.ctl_sd,
        }
    else:
        est = row.giv_estimate
        out |= {
            "effect": math.exp(est) if analysis.measure in RATIO else est,
            "effect_se": row.giv_se,
            "effect_measure": analysis.measure,
        }
    if not row.estimable:
        out["notes"] = "RevMan: not estimable"
    return out


OUTCOME_COLUMNS = [
    "study_id",
    "outcome",
    "timepoint_weeks",
    "exp_n",
    "exp_mean",
    "exp_sd",
    "exp_events",
    "ctl_n",
    "ctl_mean",
    "ctl_sd",
    "ctl_events",
    "effect",
    "effect_se",
    "effect_measure",
    "subgroup",
    "outcome_label",
    "exp_label",
    "ctl_label",
    "source_rows",
    "notes",
]


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_fmt(row.get(c)) for c in columns])


def _most_common(values: list[str], default: str) -> str:
    values = [v for v in values if v]
    return Counter(values).most_common(1)[0][0] if values else default


def write_review(review: Review, out: Path) -> list[tuple[str, str, str]]:
    """Write ``out/config.yaml`` and ``out/data/raw/``; returns the import log rows."""
    out = Path(out)
    raw = out / "data" / "raw"
    log: list[tuple[str, str, str]] = [("", what, why) for what, why in review.skipped]
    study_rows: dict[str, dict] = {}
    study_ids: dict[str, str] = {}
    used_ids: set[str] = set()
    outcomes: dict[str, list[dict]] = {}
    settings, references = [], []
    conditions: dict[str, str] = {}
    used_outcomes: dict[str, set[str]] = {}

    def base_id(row: DataRow) -> str | None:
        if row.study not in study_ids:
            year = _year(row)
            if not year:
                return None
            sid = _unique(slug(row.study, "study"), used_ids)
            study_ids[row.study] = sid
            study_rows[sid] = {
                "study_id": sid,
                "label": row.study,
                "year": year,
                "design": "parallel",
            }
        return study_ids[row.study]

    for analysis in review.analyses:
        condition = conditions.setdefault(analysis.comparison, "")
        if not condition:
            condition = _unique(slug(analysis.comparison, "comparison"), set(conditions.values()))
            conditions[analysis.comparison] = condition
        used = used_outcomes.setdefault(condition, set())
        outcome = _unique(slug(analysis.name, "outcome"), used)
        usable: list[tuple[DataRow, str]] = []
        for row in analysis.rows:
            why = _problem(analysis, row)
            sid = base_id(row) if not why else None
            if not why and sid is None:
                why = "no publication year in RevMan's study name or year"
            if why:
                log.append((analysis.number, row.study, why))
                continue
            usable.append((row, sid))
        if not analysis.rows:
            log.append((analysis.number, analysis.name, "analysis has no studies (empty outcome)"))
        elif not usable:
            log.append((analysis.number, analysis.name, "no study row could be imported"))
        groups = [("", analysis.number, outcome, analysis.name)] if analysis.totals else []
        subgroups = list(dict.fromkeys(r.subgroup for r in analysis.rows if r.subgroup))
        for i, name in enumerate(subgroups, start=1):
            sg_outcome = _unique(f"{outcome}-{slug(name, str(i))}"[:60].strip("-"), used)
            groups.append((name, f"{analysis.number}.{i}", sg_outcome, f"{analysis.name}: {name}"))
        for subgroup, number, out_slug, label in groups:
            rows = [(r, s) for r, s in usable if not subgroup or r.subgroup == subgroup]
            seen: Counter = Counter()
            for row, sid in rows:
                seen[sid] += 1
                study_id = sid if seen[sid] == 1 else f"{sid}-{seen[sid]}"
                if study_id not in study_rows:
                    study_rows[study_id] = dict(study_rows[sid]) | {
                        "study_id": study_id,
                        "notes": f"entry {seen[sid]} of {row.study} in one RevMan analysis "
                        "(multi-arm study or several subgroups), kept as RevMan pooled it",
                    }
                    used_ids.add(study_id)
                outcomes.setdefault(condition, []).append(
                    _outcome_row(analysis, row, study_id, out_slug, label, number)
                )
            if rows:
                settings.append(
                    {
                        "condition": condition,
                        "outcome": out_slug,
                        "timepoint_weeks": "",
                        "measure": analysis.measure,
                        "model": analysis.model,
                        "tau2_method": analysis.tau2_method,
                        "ci_method": analysis.ci_method,
                        "pooling": analysis.method,
                        "level": analysis.level,
                        "source_analysis": number,
                    }
                )
            stored = next((s for s in analysis.results if s.subgroup == subgroup), None)
            if stored is None or not rows:
                continue
            ratio = analysis.measure in RATIO
            for stat in STATISTICS:
                value = stored.values.get(stat, math.nan)
                if stat not in stored.values:
                    continue
                scale = "natural" if ratio and stat in ("estimate", "ci_low", "ci_high") else ""
                scale = scale or ("natural" if ratio and stat in ("pi_low", "pi_high") else "")
                references.append(
                    {
                        "source_analysis": number,
                        "condition": condition,
                        "outcome": out_slug,
                        "timepoint_weeks": 0,
                        "subgroup": subgroup,
                        "measure": analysis.measure,
                        "statistic": stat,
                        "value": value,
                        "scale": scale or "analysis",
                        "revman_field": stored.fields.get(stat, ""),
                    }
                )

    _write_csv(
        raw / "studies.csv",
        ["study_id", "label", "year", "design", "notes"],
        sorted(study_rows.values(), key=lambda r: r["study_id"]),
    )
    for condition, rows in outcomes.items():
        _write_csv(raw / "outcomes" / f"{condition}.csv", OUTCOME_COLUMNS, rows)
    _write_csv(
        raw / "analyses.csv",
        [
            "condition",
            "outcome",
            "timepoint_weeks",
            "measure",
            "model",
            "tau2_method",
            "ci_method",
            "pooling",
            "level",
            "source_analysis",
        ],
        settings,
    )
    _write_csv(
        raw / "reference_results.csv",
        [
            "source_analysis",
            "condition",
            "outcome",
            "timepoint_weeks",
            "subgroup",
            "measure",
            "statistic",
            "value",
            "scale",
            "revman_field",
        ],
        references,
    )
    _write_rob(review, raw, study_ids)
    _write_csv(
        raw / "revman_import_log.csv",
        ["source_analysis", "item", "reason"],
        [{"source_analysis": a, "item": b, "reason": c} for a, b, c in log],
    )
    (out / "config.yaml").write_text(_config(review, sorted(outcomes)), encoding="utf-8")
    return log


ROB_DOMAINS = ("d1", "d2", "d3", "d4", "d5", "overall")


def _write_rob(review: Review, raw: Path, study_ids: dict[str, str]) -> None:
    rows = []
    for name, study in sorted(review.studies.items()):
        if not study.rob or name not in study_ids:
            continue
        row = {"study_id": study_ids[name], "outcome": "", "source": f"RevMan ({review.source})"}
        for domain in ROB_DOMAINS:
            row[domain] = study.rob.get(domain, "")
            row[f"{domain}_support"] = study.rob_support.get(domain, "")
        rows.append(row)
    if rows:
        columns = ["study_id", "outcome", *ROB_DOMAINS]
        columns += [f"{d}_support" for d in ROB_DOMAINS] + ["source"]
        _write_csv(raw / "risk_of_bias.csv", columns, rows)


def _config(review: Review, conditions: list[str]) -> str:
    analyses = review.analyses
    binary = _most_common([a.measure for a in analyses if a.data_type == "dichotomous"], "RR")
    cont = _most_common([a.measure for a in analyses if a.data_type == "continuous"], "MD")
    config = {
        "conditions": conditions,
        "measure": {"continuous": cont, "binary": binary},
        "tau2_method": _most_common([a.tau2_method for a in analyses], "DL"),
        "ci_method": _most_common([a.ci_method for a in analyses], "z"),
        "level": 0.95,
        "conventions": "revman",
        "review": {
            "title": review.title,
            "intervention": _most_common([a.experimental_label for a in analyses], "experimental"),
            "comparator": _most_common([a.control_label for a in analyses], "control"),
            "favours_labels": {
                "experimental": _most_common(
                    [a.favours_experimental for a in analyses], "Favours experimental"
                ),
                "control": _most_common([a.favours_control for a in analyses], "Favours control"),
            },
        },
    }
    header = (
        f"# Imported by `metareview import-revman` from {review.source} ({review.fmt}).\n"
        "# Per-analysis methods (RevMan's own) are in data/raw/analyses.csv; RevMan's stored\n"
        "# results in data/raw/reference_results.csv.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
