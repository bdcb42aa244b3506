"""Pool every analysis (condition × outcome × timepoint × measure) into ``pooled.csv`` rows."""

from __future__ import annotations

import pandas as pd

from metareview.stats.options import FitOptions
from metareview.stats.pooling import pool
from metareview.tables import ANALYSIS_KEYS, POOLED_COLUMNS, analysis_id

GROUP_KEYS = [*ANALYSIS_KEYS, "measure"]


def included_groups(effects: pd.DataFrame):
    """Yield ((condition, outcome, timepoint_weeks, measure), rows) for included effects."""
    included = effects[effects["included"].astype(bool)]
    yield from included.groupby(GROUP_KEYS, sort=True, dropna=False)


def pool_analyses(
    effects: pd.DataFrame,
    *,
    tau2_method: str,
    ci_method: str,
    level: float,
    convergence: str = "exact",
) -> pd.DataFrame:
    """One ``pooled.csv`` row per analysis with at least one included study.

    Analyses whose rows were all excluded produce no row here; they appear (with reasons)
    in ``effect_sizes.csv`` and the report.
    """
    options = FitOptions(tau2_method, ci_method, level, convergence)
    rows = []
    for (condition, outcome, timepoint, measure), group in included_groups(effects):
        result = pool(
            group["yi"].to_numpy(float),
            group["vi"].to_numpy(float),
            options,
            measure=measure,
        )
        row = result.to_dict()
        row.update(
            condition=condition,
            outcome=outcome,
            timepoint_weeks=timepoint,
            higher_is_better=bool(group["higher_is_better"].astype(bool).any()),
            analysis_id=analysis_id(condition, outcome, timepoint),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)
