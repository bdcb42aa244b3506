"""Subgroup analyses: each level of a categorical study characteristic pooled on its own.

Every level gets its own random-effects model (separate tau², as R's ``meta`` with
``tau.common=FALSE``; metafor's ``rma(mods=~factor)`` would assume a common tau² instead).
Subgroup differences are tested with Cochran's Q across the level estimates, treating their
standard errors as known: a common-effect model on the level estimates, as
``rma(estimate, sei=se, method="EE")`` on the per-level fits. Validated against metafor 3.8-1
(``rma()`` on each level and that ``EE`` model; REML and DL, z and Knapp–Hartung) in
``tests/unit/test_subgroups.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from metareview.stats.engine import make_batch
from metareview.stats.options import FitOptions, resolve
from metareview.stats.summaries import estimate_rows, summarize

NAN = float("nan")


@dataclass(frozen=True)
class SubgroupTest:
    """Test for subgroup differences across ``df + 1`` levels."""

    q_between: float
    df: int
    p_value: float
    note: str = ""


def level_key(value) -> str:
    """A level as written in the output: integral floats (``2.0`` from a CSV) lose the ``.0``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def pool_levels(
    yi,
    vi,
    groups,
    options: FitOptions | None = None,
    **overrides,
) -> tuple[list[dict], int]:
    """Pool each level of ``groups`` separately.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances of one analysis.
    groups : array_like
        The level of each study; missing values (None/NaN/empty) form no level.
    options : FitOptions
        As for :func:`metareview.stats.pooling.pool`; every level is one row of a batch.

    Returns
    -------
    rows : list of dict
        One per level, sorted by level: ``level, k, estimate, se, ci_low, ci_high, p_value,
        tau2, i2, note``. A level with one study reports that study (tau² and I² NaN, noted).
    n_missing : int
        Studies left out because their level is missing.
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    labels = pd.Series(list(groups), dtype=object)
    missing = labels.isna() | (labels.astype(str).str.strip() == "")
    keys = labels.where(missing, labels.map(level_key))
    levels = sorted(keys[~missing].unique())
    if not levels:
        return [], int(missing.sum())
    masks = np.array([(keys == key).to_numpy() & ~missing.to_numpy() for key in levels])
    batch = make_batch(np.tile(yi, (len(levels), 1)), np.tile(vi, (len(levels), 1)), masks)
    rows = []
    for key, columns in zip(
        levels, estimate_rows(summarize(batch, resolve(options, **overrides))), strict=True
    ):
        columns.pop("q")  # not a column of subgroups.csv
        rows.append({"level": key, **columns})
    return rows, int(missing.sum())


def test_subgroup_differences(estimates, ses) -> SubgroupTest:
    """Cochran's Q across subgroup estimates with their standard errors taken as known.

    Q = Σ w_j (θ_j − θ̄)², w_j = 1/se_j², θ̄ the inverse-variance mean; Q ~ χ²(L − 1).
    """
    est, se = np.asarray(estimates, dtype=float), np.asarray(ses, dtype=float)
    df = est.size - 1
    if df < 1:
        raise ValueError("a test for subgroup differences needs at least 2 levels")
    if not np.all(se > 0):
        return SubgroupTest(NAN, df, NAN, "a subgroup standard error is 0: Q undefined")
    w = 1.0 / se**2
    mean = float(np.sum(w * est) / np.sum(w))
    q = float(np.sum(w * (est - mean) ** 2))
    return SubgroupTest(q, df, float(stats.chi2.sf(q, df)))


test_subgroup_differences.__test__ = False  # not a pytest test despite its name


def permutation_p_value(
    yi, vi, groups, options: FitOptions | None = None, *, n_perm: int = 1000, seed=None
) -> float:
    """Permutation p-value of the test for subgroup differences.

    The level labels of the studies with a level are permuted (every distinct assignment
    when there are at most ``n_perm``, else ``n_perm`` random ones including the observed,
    as ``metafor::permutest`` does for moderators); each permuted data set is pooled per level
    (one batch) and Q between levels recomputed. p = share of Q_perm ≥ Q_obs − sqrt(eps); NaN
    when Q is undefined (a level's SE is 0).
    """
    from metareview.stats.permutation import COMPTOL, label_permutations

    opts = resolve(options)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    labels = pd.Series(list(groups), dtype=object)
    missing = (labels.isna() | (labels.astype(str).str.strip() == "")).to_numpy()
    y, v = yi[~missing], vi[~missing]
    keys = labels[~missing].map(level_key).to_numpy(dtype=str)
    levels = np.unique(keys)
    if levels.size < 2:
        return NAN
    perms, _ = label_permutations(keys, n_perm, np.random.default_rng(seed))
    permuted = keys[perms]  # (n, k): the label of each study under each permutation
    masks = (permuted[:, None, :] == levels[None, :, None]).reshape(-1, y.size)
    s = summarize(make_batch(y, v, masks), opts)
    est, se = s.estimate.reshape(-1, levels.size), s.se.reshape(-1, levels.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = 1.0 / se**2
        mean = (w * est).sum(axis=1) / w.sum(axis=1)
        q = (w * (est - mean[:, None]) ** 2).sum(axis=1)
    q = np.where((se > 0).all(axis=1), q, np.nan)
    observed = test_subgroup_differences(*_observed(y, v, keys, levels, opts)).q_between
    if np.isnan(observed):
        return NAN
    return float(np.nanmean(q >= observed - COMPTOL))


def _observed(y, v, keys, levels, opts):
    masks = keys[None, :] == levels[:, None]
    s = summarize(make_batch(y, v, masks), opts)
    return s.estimate, s.se
