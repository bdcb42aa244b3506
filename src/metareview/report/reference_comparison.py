"""Our numbers beside RevMan's stored ones (``results/reference_comparison.csv``) and the
report's "Agreement with RevMan" section.

``data/raw/reference_results.csv`` (written by ``metareview import-revman``) holds RevMan's
stored results verbatim, one row per analysis × statistic. Each is matched to our
``pooled.csv`` row of the same condition, outcome and timepoint: ratio estimates, CIs and
prediction intervals are compared on the natural scale (as RevMan stores them), Z as an
absolute value (RevMan stores |Z|), everything else as is. ``rel_diff`` is
|ours − RevMan| / |RevMan| (the absolute difference when RevMan's value is 0); a number agrees
when ``rel_diff`` ≤ 1e-4 or the absolute difference is within half a unit of the last decimal
RevMan stored (its CSV exports and data packages round, e.g. P = 0.00101). Not compared: τ² of
a common-effect analysis (RevMan stores 0, we estimate none) and the heterogeneity statistics
of a single study (k = 1: RevMan stores placeholders such as I² = 100).
"""

from __future__ import annotations

import math

import pandas as pd

from metareview.plots.format import to_natural
from metareview.tables import RATIO_MEASURES, rows_for

REL_TOL = 1e-4
ABS_TOL = 1e-8
COLUMNS = [
    "source_analysis",
    "condition",
    "outcome",
    "timepoint_weeks",
    "subgroup",
    "measure",
    "statistic",
    "revman",
    "ours",
    "abs_diff",
    "rel_diff",
    "agrees",
    "note",
]
DIRECT = {
    "ci_low": "ci_low",
    "ci_high": "ci_high",
    "tau2": "tau2",
    "tau2_ci_low": "tau2_ci_low",
    "tau2_ci_high": "tau2_ci_high",
    "q": "q",
    "q_df": "q_df",
    "q_p": "q_p",
    "i2": "i2",
    "p_value": "p_value",
    "pi_low": "pi_low",
    "pi_high": "pi_high",
    "estimate": "estimate",
}
NATURAL = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")


def _num(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


HETEROGENEITY = ("tau2", "tau2_ci_low", "tau2_ci_high", "q", "q_df", "q_p", "i2")


def stored_precision(text: str) -> float:
    """Half a unit of the last decimal written in ``text`` ('0.00101' → 5e-6)."""
    mantissa, _, exponent = str(text).strip().lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def our_value(pooled: dict, statistic: str, measure: str) -> tuple[float, str]:
    """Our number for a RevMan statistic, on RevMan's scale; (NaN, reason) if none."""
    model = str(pooled.get("model", "random"))
    if statistic in HETEROGENEITY and int(_num(pooled.get("k")) or 0) < 2:
        return math.nan, "k = 1: heterogeneity not defined (RevMan stores placeholders)"
    if statistic == "tau2" and model == "common":
        return math.nan, "common-effect model: no tau2 estimated here"
    if statistic in ("z", "t"):
        est, se = _num(pooled.get("estimate")), _num(pooled.get("se"))
        hksj = str(pooled.get("ci_method")) == "hksj"
        if (statistic == "t") != hksj:
            return math.nan, f"{statistic} not reported with ci_method {pooled.get('ci_method')}"
        return (abs(est / se) if se > 0 else math.nan), ""
    column = DIRECT.get(statistic)
    if column is None:
        return math.nan, f"unknown statistic {statistic}"
    value = _num(pooled.get(column))
    if statistic in NATURAL and measure in RATIO_MEASURES and not math.isnan(value):
        value = to_natural(value, measure)  # inf beyond e^709, not an OverflowError
    return value, ""


def compare(pooled: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """One row per stored RevMan number with ours beside it (``COLUMNS``)."""
    rows = []
    for _, ref in reference.iterrows():
        key = {
            "condition": ref["condition"],
            "outcome": ref["outcome"],
            "timepoint_weeks": ref["timepoint_weeks"],
        }
        match = rows_for(pooled, key)
        revman = _num(ref["value"])
        if str(ref["statistic"]) in ("z", "t"):
            revman = abs(revman)  # RevMan 5 stores |Z|; compared as absolute values
        measure = str(ref.get("measure", ""))
        note = ""
        if match.empty:
            ours, note = math.nan, "no pooled result here (see effect_sizes.csv for exclusions)"
        else:
            ours, note = our_value(match.iloc[0].to_dict(), str(ref["statistic"]), measure)
        if math.isnan(revman):
            note = note or "RevMan stored no value"
        abs_diff = abs(ours - revman)
        rel = abs_diff / abs(revman) if revman not in (0.0,) else abs_diff
        tol = max(ABS_TOL, stored_precision(ref.get("value_text", "")))
        agrees = bool(rel <= REL_TOL or abs_diff <= tol) if not math.isnan(abs_diff) else None
        rows.append(
            {
                "source_analysis": ref.get("source_analysis", ""),
                **key,
                "subgroup": ref.get("subgroup", ""),
                "measure": measure,
                "statistic": ref["statistic"],
                "revman": revman,
                "ours": ours,
                "abs_diff": abs_diff,
                "rel_diff": rel,
                "agrees": agrees,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def read_reference(path) -> pd.DataFrame:
    """``reference_results.csv`` as written by the importer (strings kept as text)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["timepoint_weeks"] = pd.to_numeric(table["timepoint_weeks"], errors="coerce")
    table["value_text"] = table["value"]
    table["value"] = pd.to_numeric(table["value"].replace("", math.nan), errors="coerce")
    return table


def agreement_section(comparison: pd.DataFrame) -> dict | None:
    """Plain data for the report's "Agreement with RevMan" section (None without a table)."""
    if comparison is None or comparison.empty:
        return None
    compared = comparison[comparison["agrees"].notna() & (comparison["agrees"].astype(str) != "")]
    agree = compared["agrees"].astype(str).str.lower().isin(("true", "1"))
    worst = compared["rel_diff"].astype(float).max() if len(compared) else math.nan
    analyses = comparison["source_analysis"].astype(str).nunique()
    lines = [
        f"RevMan stored {len(comparison)} numbers for {analyses} analyses; {len(compared)} "
        f"could be compared, and {int(agree.sum())} agree to a relative {REL_TOL:g} "
        f"(largest relative difference {worst:.1e}).",
    ]
    skipped = len(comparison) - len(compared)
    if skipped:
        lines.append(
            f"{skipped} numbers were not compared (RevMan stored none, or the statistic is not "
            "defined for the analysis' model); results/reference_comparison.csv says why."
        )
    bad = compared[~agree].head(20)
    disagreements = [
        {
            "analysis": str(r["source_analysis"]),
            "statistic": str(r["statistic"]),
            "revman": f"{float(r['revman']):.6g}",
            "ours": f"{float(r['ours']):.6g}",
            "rel_diff": f"{float(r['rel_diff']):.1e}",
        }
        for _, r in bad.iterrows()
    ]
    return {"lines": lines, "disagreements": disagreements}
