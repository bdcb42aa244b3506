"""Pool every analysis (condition × outcome × timepoint × measure) into ``pooled.csv`` rows."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from metareview.analysis_settings import AnalysisSettings, settings_for
from metareview.stats.options import FitOptions
from metareview.stats.pooling import PooledResult, join_notes, pool, wald_interval
from metareview.tables import ANALYSIS_KEYS, POOLED_COLUMNS, analysis_id, short_hash

GROUP_KEYS = [*ANALYSIS_KEYS, "measure"]
BINARY = ("RR", "OR", "RD")


def included_groups(effects: pd.DataFrame):
    """Yield ((condition, outcome, timepoint_weeks, measure), rows) for included effects."""
    included = effects[effects["included"].astype(bool)]
    yield from included.groupby(GROUP_KEYS, sort=True, dropna=False)


def pool_group(
    group: pd.DataFrame, measure: str, s: AnalysisSettings, conventions: str, convergence: str
) -> PooledResult:
    """One analysis pooled as its settings say (IV, MH or Peto; random or common).

    A single study (k = 1) is reported as itself (its own estimate with a z interval) whatever
    the pooling method, as the contract defines k = 1 and as RevMan reports it.
    """
    if s.pooling in ("MH", "Peto") and measure in BINARY and len(group) > 1:
        from metareview.stats.binary_pooling import pool_binary
        from metareview.stats.mantel_haenszel import Tables

        counts = group[["exp_events", "exp_n", "ctl_events", "ctl_n"]].astype(float)
        if counts.notna().all().all():
            tables = Tables.from_counts(*(counts[c].to_numpy() for c in counts))
            return pool_binary(
                tables,
                method=s.pooling,
                measure=measure,
                model=s.model,
                tau2_method=s.tau2_method,
                ci_method=s.ci_method,
                level=s.level,
                correct_zero_cells=conventions == "revman",
            )
    options = FitOptions(s.tau2_method, s.ci_method, s.level, convergence)
    result = pool(
        group["yi"].to_numpy(float), group["vi"].to_numpy(float), options, measure=measure
    )
    if s.model == "common" and result.k > 1:
        note = join_notes("common-effect model", result.note)
        result = replace(
            result,
            ci_method="z",
            estimate=result.fe_estimate,
            se=result.fe_se,
            ci_low=result.fe_ci_low,
            ci_high=result.fe_ci_high,
            p_value=wald_interval(result.fe_estimate, result.fe_se, s.level)[2],
            pi_low=float("nan"),
            pi_high=float("nan"),
            tau2=float("nan"),
            note=note,
        )
    return result


def pool_analyses(
    effects: pd.DataFrame,
    *,
    tau2_method: str,
    ci_method: str,
    level: float,
    convergence: str = "exact",
    settings: pd.DataFrame | None = None,
    conventions: str = "metafor",
) -> pd.DataFrame:
    """One ``pooled.csv`` row per analysis with at least one included study.

    ``settings`` is the typed ``data/raw/analyses.csv`` (per-analysis overrides of the
    config; see :mod:`metareview.analysis_settings`); ``conventions`` is the config's profile
    (``revman``: RevMan's zero-cell handling inside Mantel–Haenszel). Analyses whose rows were
    all excluded produce no row here; they appear (with reasons) in ``effect_sizes.csv`` and
    the report.
    """
    defaults = AnalysisSettings(tau2_method=tau2_method, ci_method=ci_method, level=level)
    rows = []
    for (condition, outcome, timepoint, measure), group in included_groups(effects):
        s = settings_for(settings, defaults, condition, outcome, timepoint)
        s = replace(s, pooling=s.pooling if measure in BINARY else "IV")
        result = pool_group(group, measure, s, conventions, convergence)
        row = result.to_dict()
        if ci_method == "hksj" and row["k"] > 1 and row["se"] <= 1e-9 * row["fe_se"]:
            row["note"] = join_notes(
                row.get("note") or "",
                "all studies have the same estimate: the Knapp–Hartung SE is (near) 0, so "
                "the CI has zero width and p ≈ 0 (not evidence of certainty; see the "
                "common-effect CI)",
            )
        row.update(
            condition=condition,
            outcome=outcome,
            timepoint_weeks=timepoint,
            higher_is_better=bool(group["higher_is_better"].astype(bool).any()),
            analysis_id=analysis_id(condition, outcome, timepoint),
            model=s.model,
            pooling_method=s.pooling,
            source_analysis=s.source_analysis,
        )
        rows.append(row)
    pooled = pd.DataFrame(rows, columns=POOLED_COLUMNS)
    return unique_ids(pooled)


def unique_ids(pooled: pd.DataFrame) -> pd.DataFrame:
    """Make ``analysis_id`` unique: analyses that share an id (one outcome pooled on two
    measures, e.g. RR rows and reported HRs) get their measure appended; any still shared
    (timepoints equal to 6 significant digits, slugs with ``--``) get a hash of their exact
    key. Ids of analyses that do not collide are left as they are."""
    pooled = pooled.copy()
    shared = pooled["analysis_id"].duplicated(keep=False)
    if shared.any():
        pooled.loc[shared, "analysis_id"] = [
            f"{aid}--{measure.lower()}"
            for aid, measure in zip(
                pooled.loc[shared, "analysis_id"], pooled.loc[shared, "measure"], strict=True
            )
        ]
    shared = pooled["analysis_id"].duplicated(keep=False)
    if shared.any():
        keys = pooled.loc[shared, [*GROUP_KEYS, "analysis_id"]].itertuples(index=False)
        pooled.loc[shared, "analysis_id"] = [
            f"{aid}-{short_hash(str(c), str(o), float(t), str(m))}" for c, o, t, m, aid in keys
        ]
    dupes = pooled["analysis_id"][pooled["analysis_id"].duplicated()]
    if not dupes.empty:
        raise ValueError(f"two analyses share the id {dupes.iloc[0]!r}")
    return pooled
