"""Pool every analysis (condition × outcome × timepoint × measure) into ``pooled.csv`` rows."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from metareview.analysis_settings import AnalysisSettings, settings_for
from metareview.pooling import PooledResult, pool
from metareview.tables import ANALYSIS_KEYS, POOLED_COLUMNS, analysis_id

GROUP_KEYS = [*ANALYSIS_KEYS, "measure"]


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
    if s.pooling in ("MH", "Peto") and measure in ("RR", "OR", "RD") and len(group) > 1:
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
    result = pool(
        group["yi"].to_numpy(float),
        group["vi"].to_numpy(float),
        measure=measure,
        tau2_method=s.tau2_method,
        ci_method=s.ci_method,
        level=s.level,
        convergence=convergence,
    )
    if s.model == "common" and result.k > 1:
        note = "; ".join(x for x in ("common-effect model", result.note) if x)
        result = replace(
            result,
            ci_method="z",
            estimate=result.fe_estimate,
            se=result.fe_se,
            ci_low=result.fe_ci_low,
            ci_high=result.fe_ci_high,
            p_value=_z_p(result.fe_estimate, result.fe_se),
            pi_low=float("nan"),
            pi_high=float("nan"),
            note=note,
        )
    return result


def _z_p(estimate: float, se: float) -> float:
    from metareview.pooling import wald_interval

    return wald_interval(estimate, se, 0.95)[2]


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
    config; see :mod:`metareview.analysis_settings`). Analyses whose rows were all excluded
    produce no row here; they appear (with reasons) in ``effect_sizes.csv`` and the report.
    """
    defaults = AnalysisSettings(tau2_method=tau2_method, ci_method=ci_method, level=level)
    rows = []
    for (condition, outcome, timepoint, measure), group in included_groups(effects):
        s = settings_for(settings, defaults, condition, outcome, timepoint)
        pooling = s.pooling if measure in ("RR", "OR", "RD") else "IV"
        s = replace(s, pooling=pooling)
        result = pool_group(group, measure, s, conventions, convergence)
        row = result.to_dict()
        row.update(
            condition=condition,
            outcome=outcome,
            timepoint_weeks=timepoint,
            higher_is_better=bool(group["higher_is_better"].astype(bool).any()),
            analysis_id=analysis_id(condition, outcome, timepoint),
            model=s.model,
            pooling_method=pooling,
            source_analysis=s.source_analysis,
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)
