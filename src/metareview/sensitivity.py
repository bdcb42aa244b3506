"""Table-level driver for the sensitivity and small-study analyses of every analysis.

:func:`run_sensitivity` takes ``data/processed/effect_sizes.csv`` and ``data/raw/studies.csv``
as DataFrames and returns the tables of the data contract's "Sensitivity and bias outputs"
(plus ``rob_sensitivity`` and ``trimfill_filled``). Each table starts with
``condition, outcome, timepoint_weeks, measure``; analyses come in key order and, within an
analysis, studies in order of year, label and study_id. Where a number is undefined it is left
empty and the row's ``note`` says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metareview.jobs import SENSITIVITY_TABLES
from metareview.stats import influence, metaregression, permutation, small_study, subgroups
from metareview.stats.options import FitOptions
from metareview.stats.pooling import join_notes

log = logging.getLogger(__name__)

KEYS = ["condition", "outcome", "timepoint_weeks", "measure"]


def _names(text: str) -> list[str]:
    return KEYS + text.split()


_ESTIMATE = "estimate se ci_low ci_high p_value tau2 i2 q"

#: Columns of every table, keys first. Contract columns keep their names; the rest are extras.
COLUMNS: dict[str, list[str]] = {
    "subgroups": _names(
        "subgroup level k estimate se ci_low ci_high p_value tau2 i2 n_missing note"
    ),
    "subgroup_tests": _names("subgroup n_levels q_between df p_value p_value_perm n_missing note"),
    "metaregression": _names(
        "moderator k n_missing intercept intercept_se slope slope_se slope_ci_low slope_ci_high"
        " slope_p slope_p_perm tau2 tau2_re r2 note"
    ),
    "small_study": _names(
        "k egger_t egger_df egger_p begg_tau begg_p trimfill_k0 trimfill_side trimfill_estimate"
        " trimfill_ci_low trimfill_ci_high underpowered note"
    ),
    "leave_one_out": _names(f"omitted label k {_ESTIMATE} note"),
    "influence": _names(
        "study_id label rstudent dffits cooks_d cov_r tau2_del qe_del hat weight dfbetas"
        " influential note"
    ),
    "cumulative": _names(f"step added label year k {_ESTIMATE} note"),
    "rob_sensitivity": _names(f"k_before k_after n_high n_unknown excluded {_ESTIMATE} note"),
    "trimfill_filled": _names("filled side yi vi"),
}
TABLES = SENSITIVITY_TABLES  # the order of COLUMNS (tests/unit/test_sensitivity.py)


def _included(effects: pd.DataFrame) -> pd.DataFrame:
    """Rows with ``included`` true (a bool column, or ``true``/``false`` text from a CSV)."""
    if "included" not in effects.columns:
        return effects.copy()
    flag = effects["included"]
    if flag.dtype != bool:
        flag = flag.astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    return effects.loc[flag.to_numpy()].copy()


def _study_lookup(studies: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in studies.columns]
    if missing:
        raise ValueError(
            f"studies.csv has no column(s) {', '.join(missing)} (config subgroups/moderators)"
        )
    return studies.drop_duplicates("study_id").set_index("study_id")


def _numeric(values: pd.Series, column: str) -> np.ndarray:
    """Moderator values as floats; blanks are missing, anything else non-numeric is an error."""
    text = values.astype("string").str.strip()
    blank = values.isna() | (text == "")
    number = pd.to_numeric(values.where(~blank), errors="coerce")
    bad = ~blank & number.isna()
    if bad.any():
        raise ValueError(
            f"moderator {column!r} must be numeric; got {values[bad].iloc[0]!r} in studies.csv"
        )
    return number.to_numpy(dtype=float)


def run_sensitivity(
    effects: pd.DataFrame,
    studies: pd.DataFrame,
    *,
    tau2_method: str = "REML",
    ci_method: str = "hksj",
    level: float = 0.95,
    subgroups: list[str] | tuple[str, ...] = (),
    moderators: list[str] | tuple[str, ...] = (),
    convergence: str = "exact",
    permutations: int = 0,
    seed: int = 0,
    risk_of_bias: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Run every sensitivity and small-study analysis for every analysis in ``effects``.

    Parameters
    ----------
    effects : DataFrame
        ``data/processed/effect_sizes.csv``: ``condition, study_id, outcome, timepoint_weeks,
        measure, yi, vi, included`` (+ ``label``, ``year``); only included rows are used.
    studies : DataFrame
        ``data/raw/studies.csv``: ``study_id`` and the subgroup, moderator and
        ``risk_of_bias`` columns.
    tau2_method, ci_method, level, convergence
        As for ``results/pooled.csv``; every refit uses them.
    subgroups, moderators : list of str
        ``studies.csv`` columns for subgroup analyses and one-moderator meta-regressions.
    permutations, seed : int
        Permutations for the permutation p-values of each meta-regression slope
        (``slope_p_perm``, as ``metafor::permutest``) and subgroup test (``p_value_perm``);
        0 leaves them empty. Each test's generator is seeded from ``seed`` and the test's
        identity, so the numbers do not depend on the order of the analyses.
    risk_of_bias : DataFrame, optional
        The validated ``data/raw/risk_of_bias.csv``; when given, the RoB sensitivity analysis
        uses each study's overall judgement for the analysis' outcome (an outcome row wins
        over the study's blank-outcome row) instead of ``studies.csv``'s ``risk_of_bias``.

    Returns
    -------
    dict of str to DataFrame
        Keys :data:`TABLES`: ``subgroups, subgroup_tests, metaregression, small_study,
        leave_one_out, influence, cumulative, rob_sensitivity, trimfill_filled``; columns
        :data:`COLUMNS`. Tables with nothing to report are empty but keep their header.

    Raises
    ------
    ValueError
        When a subgroup or moderator column is missing from ``studies`` or a moderator value
        is not numeric.
    """
    subgroups, moderators = list(subgroups), list(moderators)
    level = float(level)
    lookup = _study_lookup(studies, subgroups + moderators)
    data = _included(effects)
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    opts = FitOptions(tau2_method, ci_method, level, convergence)
    perm = Permutations(int(permutations), int(seed))

    for key, group in data.groupby(KEYS, sort=True, dropna=False):
        keys = dict(zip(KEYS, key, strict=True))
        group = _ordered(group, lookup)
        yi = group["yi"].to_numpy(dtype=float)
        vi = group["vi"].to_numpy(dtype=float)
        info = lookup.reindex(group["study_id"])
        log.info("%s: k = %d", " / ".join(str(v) for v in key), yi.size)
        for column in subgroups:
            _subgroup_rows(rows, keys, yi, vi, info[column], column, opts, perm)
        for column in moderators:
            _metaregression_row(rows, keys, yi, vi, info[column], column, opts, perm)
        _small_study_rows(rows, keys, yi, vi, opts)
        _study_rows(rows, keys, group, opts)
        if risk_of_bias is not None or "risk_of_bias" in lookup.columns:
            rob = _overall_judgements(risk_of_bias, info, group, keys["outcome"])
            row = influence.without_high_risk(yi, vi, rob, group["study_id"].tolist(), opts)
            rows["rob_sensitivity"].append(keys | row)

    return {name: _frame(rows[name], COLUMNS[name]) for name in TABLES}


def _metaregression_row(rows, keys, yi, vi, values: pd.Series, column, opts, perm) -> None:
    """The one-moderator meta-regression on ``column`` (none when it cannot be fitted)."""
    x = _numeric(values.reset_index(drop=True), column)
    fit = metaregression.meta_regression(yi, vi, x, opts)
    if fit is None:
        return
    if fit["note"] != metaregression.SINGULAR:  # nothing to permute when it cannot be fitted
        fit["slope_p_perm"], note = perm.slope_p(yi, vi, x, opts, tuple(keys.values()), column)
        fit["note"] = join_notes(fit["note"], note)
    rows["metaregression"].append(keys | {"moderator": column} | fit)


def _small_study_rows(rows, keys, yi, vi, opts: FitOptions) -> None:
    """The small-study row of an analysis and its trim-and-fill filled studies."""
    row = small_study.small_study_tests(yi, vi, opts)
    if row is None:
        return
    filled = row.pop("filled")
    rows["small_study"].append(keys | row)
    for j, (y, v) in enumerate(filled, start=1):
        rows["trimfill_filled"].append(
            keys | {"filled": j, "side": row["trimfill_side"], "yi": y, "vi": v}
        )


def _overall_judgements(table, info: pd.DataFrame, group: pd.DataFrame, outcome) -> list:
    """Overall RoB per study of the analysis (None = not assessed)."""
    if table is None:
        return info["risk_of_bias"].tolist()
    from metareview.certainty.risk_of_bias import NOT_ASSESSED, overall_lookup, tidy

    found = overall_lookup(tidy(table), group["study_id"].astype(str), str(outcome))
    return [None if j == NOT_ASSESSED else j for j in found]


def _ordered(group: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """Studies of one analysis in order of year, label and study_id (missing years last)."""
    group = group.copy()
    for column in ("label", "year"):
        if column not in group.columns or group[column].isna().all():
            fallback = lookup[column] if column in lookup.columns else pd.Series(dtype=object)
            group[column] = group["study_id"].map(fallback)
    # object dtype first: an all-missing label column is float64, which a string fill warns on
    group["label"] = group["label"].astype(object).fillna(group["study_id"]).astype(str)
    group["year"] = pd.to_numeric(group["year"], errors="coerce")
    return group.sort_values(["year", "label", "study_id"], na_position="last", kind="stable")


def _study_rows(rows, keys, group: pd.DataFrame, opts: FitOptions) -> None:
    """Leave-one-out, influence and cumulative rows: one per study, in the group's order."""
    yi, vi = group["yi"].to_numpy(dtype=float), group["vi"].to_numpy(dtype=float)
    studies = list(zip(group["study_id"], group["label"], group["year"], strict=True))
    if yi.size >= influence.MIN_STUDIES:
        omitted = influence.leave_one_out(yi, vi, opts)
        diagnostics = influence.influence_diagnostics(yi, vi, opts)
        for (sid, label, _), fit, diag in zip(studies, omitted, diagnostics, strict=True):
            rows["leave_one_out"].append(keys | {"omitted": sid, "label": label} | fit)
            rows["influence"].append(keys | {"study_id": sid, "label": label} | diag)
    if yi.size >= 2:
        steps = influence.cumulative(yi, vi, opts)
        for step, ((sid, label, year), fit) in enumerate(zip(studies, steps, strict=True), 1):
            note = join_notes(fit["note"], "" if pd.notna(year) else "year missing: ordered last")
            added = {"step": step, "added": sid, "label": label, "year": year}
            rows["cumulative"].append(keys | added | fit | {"note": note})


def _subgroup_rows(rows, keys, yi, vi, values: pd.Series, column: str, opts, perm) -> None:
    levels, n_missing = subgroups.pool_levels(yi, vi, values.tolist(), opts)
    missing_note = ""
    if n_missing:
        missing_note = (
            f"{n_missing} stud{'y' if n_missing == 1 else 'ies'} without a value left out"
        )
    for lv in levels:
        rows["subgroups"].append(
            keys
            | {"subgroup": column}
            | lv
            | {"n_missing": n_missing, "note": join_notes(lv["note"], missing_note)}
        )
    if len(levels) >= 2:
        p_perm, perm_note = perm.subgroup_p(yi, vi, values.tolist(), opts, keys, column)
        test = subgroups.test_subgroup_differences(
            [lv["estimate"] for lv in levels], [lv["se"] for lv in levels]
        )
        rows["subgroup_tests"].append(
            keys
            | {
                "subgroup": column,
                "n_levels": len(levels),
                "q_between": test.q_between,
                "df": test.df,
                "p_value": test.p_value,
                "p_value_perm": p_perm,
                "n_missing": n_missing,
                "note": join_notes(test.note, missing_note, perm_note),
            }
        )


@dataclass(frozen=True)
class Permutations:
    """Permutation p-values of the moderator and subgroup tests (``n = 0``: not computed)."""

    n: int
    seed: int

    OFF = "no permutation test (permutations: 0)"

    def slope_p(self, yi, vi, x, opts: FitOptions, key, column: str) -> tuple[float, str]:
        """(permutation p of the slope, note when it is empty)."""
        if self.n <= 0:
            return NAN, self.OFF
        keep = ~np.isnan(x)
        seed = permutation.seed_for(self.seed, *key, "moderator", column)
        test = permutation.permutation_test(
            yi[keep], vi[keep], x[keep], opts, n_perm=self.n, seed=seed
        )
        return test.p_value, "" if np.isfinite(test.p_value) else "permutation p undefined"

    def subgroup_p(self, yi, vi, groups, opts: FitOptions, keys: dict, column: str):
        """(permutation p of the test for subgroup differences, note when it is empty)."""
        if self.n <= 0:
            return NAN, self.OFF
        seed = permutation.seed_for(self.seed, *keys.values(), "subgroup", column)
        p = subgroups.permutation_p_value(yi, vi, groups, opts, n_perm=self.n, seed=seed)
        return p, "" if np.isfinite(p) else "permutation p undefined"


NAN = float("nan")


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    if "note" in frame.columns:
        frame["note"] = frame["note"].fillna("")
    return frame.reset_index(drop=True)
