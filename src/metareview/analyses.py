"""Pool every analysis (condition × outcome × timepoint × measure) into ``pooled.csv`` rows."""

from __future__ import annotations

import pandas as pd

from metareview.stats.options import FitOptions
from metareview.stats.pooling import pool
from metareview.tables import ANALYSIS_KEYS, POOLED_COLUMNS, analysis_id, short_hash

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
