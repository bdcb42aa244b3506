"""GOSH subsets of every analysis with enough studies: the table behind the GOSH plots.

:func:`gosh_table` fits the random-effects model to every subset (or a seeded random sample of
:data:`MAX_SUBSETS` subsets when there are more) of each analysis with k ≥
:data:`~metareview.plots.gosh.GOSH_MIN_K`, as ``metafor::gosh``, and returns one tidy table
(``results/gosh.csv``). The sample of an analysis is seeded from the config ``seed`` and the
analysis' keys, so it does not depend on which other analyses exist.
"""

from __future__ import annotations

import pandas as pd

from metareview.plots.gosh import GOSH_MIN_K
from metareview.sensitivity import KEYS, _included
from metareview.stats.gosh import COLUMNS, gosh
from metareview.stats.options import FitOptions
from metareview.stats.permutation import seed_for

#: Subsets fitted per analysis: all of them up to k = 14 (16,383), a sample beyond.
MAX_SUBSETS = 2**14 - 1
TABLE_COLUMNS = [*KEYS, "subset", *COLUMNS]


def gosh_table(
    effects: pd.DataFrame, options: FitOptions, *, seed: int = 0, max_subsets: int = MAX_SUBSETS
) -> pd.DataFrame:
    """``results/gosh.csv``: keys, ``subset`` (1-based, metafor's order), ``k, q, i2, h2,
    tau2, estimate`` for each analysis with at least :data:`GOSH_MIN_K` included studies."""
    parts = []
    data = _included(effects)
    for key, group in data.groupby(KEYS, sort=True, dropna=False):
        if len(group) < GOSH_MIN_K:
            continue
        frame = gosh(
            group["yi"].to_numpy(float),
            group["vi"].to_numpy(float),
            options,
            max_subsets=max_subsets,
            seed=seed_for(seed, *key, "gosh"),
        )
        frame.insert(0, "subset", range(1, len(frame) + 1))
        for name, value in reversed(list(zip(KEYS, key, strict=True))):
            frame.insert(0, name, value)
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[TABLE_COLUMNS]
