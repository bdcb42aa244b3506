"""Tables for repeated timepoints (``multilevel.csv``) and rare events (``rare_events.csv``).

Multilevel models
-----------------
A condition × outcome (× measure) qualifies when its included effects span at least two distinct
timepoints. Every included effect of every study enters one model, effects nested in studies
(:func:`metareview.stats.multilevel.fit_multilevel`):

* ``overall``: intercept only — the average effect over all timepoints;
* ``time``: intercept + the time moderator (``multilevel.time_moderator``): ``log_weeks`` =
  ln(weeks), so the intercept is the effect at week 1 and the slope the change per e-fold of
  time; ``weeks`` = linear in weeks (intercept at week 0). ln(0) is undefined, so under
  ``log_weeks`` effects at week 0 (end of treatment) are left out of the ``time`` model only
  (``k_effects`` says how many entered; the ``note`` says how many were left out).
  The time model needs at least three effects at two or more distinct times.

Each row also carries the CR2 cluster-robust SE, Satterthwaite df and t interval (clusters =
studies; :mod:`metareview.stats.robust`). CR2 needs more studies than coefficients; otherwise
the robust columns are empty and ``note`` says why. With a single study σ²_study is fixed at 0.
``multilevel_timecourse.csv`` holds the time model's estimates at the chosen times
(``multilevel.times``, ``kind = chosen``) and on a grid over the observed times (``kind = curve``)
for the time-course figure.

Rare events
-----------
Every binary analysis (condition × outcome × timepoint) with at least two studies reporting both
arms' events and denominators is refitted by the binomial-normal UM.FS model
(:mod:`metareview.stats.glmm`) on the log odds ratio scale, without continuity correction.
Double-zero studies count towards ``k_reported`` but are dropped from the fit (as metafor);
fewer than two remaining, or an odds ratio at 0 or infinity, give an empty estimate with the
reason in ``note``. ``sparse`` flags analyses where most studies have fewer than 5 events in
an arm: there the GLMM is the primary result. ``mh_*`` is the Mantel–Haenszel common-effect log
OR without continuity correction (:mod:`metareview.stats.mantel_haenszel`, as ``rma.mh``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from metareview.stats.glmm import fit_um_fs
from metareview.stats.mantel_haenszel import Tables, mantel_haenszel
from metareview.stats.multilevel import NotEstimable, fit_multilevel, time_covariate
from metareview.stats.pooling import join_notes
from metareview.stats.robust import CR2

MULTILEVEL_COLUMNS = [
    "condition", "outcome", "model", "term", "estimate", "se", "ci_low", "ci_high", "p_value",
    "sigma2_study", "sigma2_effect", "k_studies", "k_effects", "robust_se", "robust_ci_low",
    "robust_ci_high", "measure", "time_moderator", "robust_df", "robust_p_value", "level", "note",
]  # fmt: skip
TIMECOURSE_COLUMNS = [
    "condition", "outcome", "measure", "time_moderator", "kind", "weeks", "estimate", "se",
    "ci_low", "ci_high", "robust_se", "robust_df", "robust_ci_low", "robust_ci_high", "level",
]  # fmt: skip
RARE_EVENTS_COLUMNS = [
    "condition", "outcome", "timepoint_weeks", "measure", "model", "k", "estimate", "se",
    "ci_low", "ci_high", "tau2", "p_value", "k_reported", "k_dropped", "exp_events", "exp_n",
    "ctl_events", "ctl_n", "sparse", "mh_estimate", "mh_se", "mh_ci_low", "mh_ci_high", "note",
]  # fmt: skip

#: A study arm with fewer events than this is "few events" (Cochrane Handbook 10.4.4.4).
FEW_EVENTS = 5
#: Points of the fitted curve in multilevel_timecourse.csv.
CURVE_POINTS = 60
DOUBLE_ZERO = "in both arms"


def _included(effects: pd.DataFrame) -> pd.DataFrame:
    flag = effects["included"]
    if flag.dtype != bool:
        flag = flag.astype(str).str.lower().isin(["true", "1"])
    return effects[flag]


# --- multilevel ---------------------------------------------------------------------------


def multilevel_tables(
    effects: pd.DataFrame,
    *,
    time_moderator: str = "log_weeks",
    times=(1, 4, 12, 26),
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``multilevel.csv`` and ``multilevel_timecourse.csv`` from ``effect_sizes.csv``."""
    rows, course = [], []
    included = _included(effects)
    keys = ["condition", "outcome", "measure"]
    for (condition, outcome, measure), group in included.groupby(keys, sort=True):
        if group["timepoint_weeks"].nunique() < 2:
            continue
        group = group.sort_values(["study_id", "timepoint_weeks"], kind="mergesort")
        base = {
            "condition": condition,
            "outcome": outcome,
            "measure": measure,
            "time_moderator": time_moderator,
            "level": level,
        }
        yi = group["yi"].to_numpy(float)
        vi = group["vi"].to_numpy(float)
        study = group["study_id"].to_numpy(str)
        weeks = group["timepoint_weeks"].to_numpy(float)
        try:
            fit = fit_multilevel(yi, vi, study, level=level)
            rows += _model_rows(base, "overall", fit, level, "")
        except NotEstimable as error:
            rows += _empty_rows(
                base, "overall", ("intercept",), study, _not_estimable("overall", error)
            )
        if time_moderator == "none":
            continue
        terms = ("intercept", time_moderator)
        x = time_covariate(weeks, time_moderator)
        keep = ~np.isnan(x)
        left_out = int((~keep).sum())
        note = f"{left_out} effect(s) at week 0 left out (ln 0 undefined)" if left_out else ""
        if keep.sum() < 3 or np.unique(x[keep]).size < 2:
            why = "time model needs at least 3 effects at 2 or more distinct times"
            rows += _empty_rows(base, "time", terms, study[keep], join_notes(note, why))
            continue
        X = np.column_stack([np.ones(keep.sum()), x[keep]])
        try:
            fit_t = fit_multilevel(yi[keep], vi[keep], study[keep], X, terms=terms, level=level)
        except NotEstimable as error:
            rows += _empty_rows(
                base, "time", terms, study[keep], join_notes(note, _not_estimable("time", error))
            )
            continue
        rows += _model_rows(base, "time", fit_t, level, note)
        course += _course_rows(base, fit_t, weeks[keep], times, time_moderator, level)
    return (
        pd.DataFrame(rows, columns=MULTILEVEL_COLUMNS),
        pd.DataFrame(course, columns=TIMECOURSE_COLUMNS),
    )


def _robust(fit):
    """The CR2 pieces, or (None, reason) when there are too few studies."""
    if fit.k_studies <= fit.X.shape[1]:
        return None, (
            f"robust CI needs more studies than coefficients ({fit.k_studies} studies, "
            f"{fit.X.shape[1]} coefficients)"
        )
    return CR2(fit.X, fit.yi, fit.V, fit.beta, fit.cluster), ""


def _model_rows(base: dict, model: str, fit, level: float, note: str) -> list[dict]:
    cr2, why = _robust(fit)
    out = []
    for i, term in enumerate(fit.terms):
        row = {
            **base,
            "model": model,
            "term": term,
            "estimate": fit.beta[i],
            "se": fit.se[i],
            "ci_low": fit.ci_low[i],
            "ci_high": fit.ci_high[i],
            "p_value": fit.p_value[i],
            "sigma2_study": fit.sigma2_study,
            "sigma2_effect": fit.sigma2_effect,
            "k_studies": fit.k_studies,
            "k_effects": fit.k_effects,
            "note": join_notes(note, fit.note, why),
        }
        if cr2 is not None:
            r = cr2.contrast(np.eye(len(fit.terms))[i], float(fit.beta[i]), level)
            row.update(
                robust_se=r["se"],
                robust_df=r["df"],
                robust_ci_low=r["ci_low"],
                robust_ci_high=r["ci_high"],
                robust_p_value=r["p_value"],
            )
        out.append(row)
    return out


def _not_estimable(model: str, error: NotEstimable) -> str:
    return f"{model} model not estimable: {error}"


def _empty_rows(base: dict, model: str, terms, study, note: str) -> list[dict]:
    """A model that could not be fitted: its counts and why, every number left empty."""
    return [
        {
            **base,
            "model": model,
            "term": term,
            "k_studies": len(set(study)),
            "k_effects": len(study),
            "note": note,
        }
        for term in terms
    ]


def _course_rows(base, fit, weeks, times, moderator, level) -> list[dict]:
    cr2, _ = _robust(fit)
    low, high = float(np.min(weeks)), float(np.max(weeks))
    if moderator == "log_weeks":
        grid = np.exp(np.linspace(np.log(low), np.log(high), CURVE_POINTS))
    else:
        grid = np.linspace(low, high, CURVE_POINTS)
    grid[0], grid[-1] = low, high  # exactly the observed range
    out = []
    for kind, points in (("chosen", np.asarray(times, float)), ("curve", grid)):
        x = time_covariate(points, moderator)
        rows_x = np.column_stack([np.ones(x.size), x])
        pred = fit.predict(rows_x)
        for j, week in enumerate(points):
            row = {**base, "kind": kind, "weeks": float(week)}
            row.update(
                {key: float(pred[key][j]) for key in ("estimate", "se", "ci_low", "ci_high")}
            )
            if cr2 is not None:
                r = cr2.contrast(rows_x[j], row["estimate"], level)
                row.update(
                    robust_se=r["se"],
                    robust_df=r["df"],
                    robust_ci_low=r["ci_low"],
                    robust_ci_high=r["ci_high"],
                )
            out.append(row)
    return out


# --- rare events --------------------------------------------------------------------------


def _binary_rows(effects: pd.DataFrame) -> pd.DataFrame:
    """Arm-level binary rows usable by the GLMM: included, or excluded only as double zero."""
    if effects.empty:
        return effects
    kind = effects["data_kind"].astype(str) == "binary"
    reason = effects["exclusion_reason"].fillna("").astype(str)
    flag = effects["included"]
    if flag.dtype != bool:
        flag = flag.astype(str).str.lower().isin(["true", "1"])
    usable = flag | reason.str.contains(DOUBLE_ZERO, regex=False)
    counts = effects[["exp_events", "exp_n", "ctl_events", "ctl_n"]].notna().all(axis=1)
    return effects[kind & usable & counts]


def mantel_haenszel_or(a, n1, c, n2, level: float = 0.95) -> dict:
    """Mantel–Haenszel common-effect log OR without continuity correction (``rma.mh``);
    empty when no table has events in the directions the OR needs (Σ a·d or Σ b·c is 0)."""
    tables = Tables.from_counts(a, n1, c, n2)
    r = np.sum(tables.ai * tables.di / tables.total)
    s = np.sum(tables.bi * tables.ci / tables.total)
    if r <= 0 or s <= 0:
        return {}
    fit = mantel_haenszel(tables, "OR")
    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "mh_estimate": fit.estimate,
        "mh_se": fit.se,
        "mh_ci_low": fit.estimate - z * fit.se,
        "mh_ci_high": fit.estimate + z * fit.se,
    }


def rare_events_table(
    effects: pd.DataFrame, *, model: str = "UM.FS", level: float = 0.95
) -> pd.DataFrame:
    """``rare_events.csv``: one UM.FS fit per binary analysis with k ≥ 2 (empty if ``none``)."""
    rows = []
    if model == "none":
        return pd.DataFrame(rows, columns=RARE_EVENTS_COLUMNS)
    binary = _binary_rows(effects)
    keys = ["condition", "outcome", "timepoint_weeks"]
    for (condition, outcome, timepoint), group in binary.groupby(keys, sort=True):
        # one row per study: a study can appear once per measure in effect_sizes.csv
        group = group.drop_duplicates("study_id")
        if len(group) < 2:
            continue
        a, n1 = group["exp_events"].to_numpy(float), group["exp_n"].to_numpy(float)
        c, n2 = group["ctl_events"].to_numpy(float), group["ctl_n"].to_numpy(float)
        fit = fit_um_fs(a, n1, c, n2, level=level)
        few = (np.minimum(a, c) < FEW_EVENTS).mean() > 0.5
        rows.append(
            {
                "condition": condition,
                "outcome": outcome,
                "timepoint_weeks": timepoint,
                "measure": "OR",
                "model": model,
                "k": fit.k,
                "estimate": fit.estimate,
                "se": fit.se,
                "ci_low": fit.ci_low,
                "ci_high": fit.ci_high,
                "tau2": fit.tau2,
                "p_value": fit.p_value,
                "k_reported": len(group),
                "k_dropped": fit.k_dropped,
                "exp_events": int(a.sum()),
                "exp_n": int(n1.sum()),
                "ctl_events": int(c.sum()),
                "ctl_n": int(n2.sum()),
                "sparse": bool(few),
                **mantel_haenszel_or(a, n1, c, n2, level),
                "note": join_notes(
                    fit.note,
                    f"{fit.k_dropped} double-zero stud{'y' if fit.k_dropped == 1 else 'ies'}"
                    " dropped (no information on the odds ratio)"
                    if fit.k_dropped
                    else "",
                ),
            }
        )
    return pd.DataFrame(rows, columns=RARE_EVENTS_COLUMNS)
