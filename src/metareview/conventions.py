"""Conventions profiles: ``metafor`` (default) and ``revman`` (config key ``conventions``).

``revman`` reproduces RevMan where its definitions differ from metafor's; each convention was
confirmed on the per-study and pooled numbers stored in real RevMan files
(``tests/data/revman/``, see README "RevMan conventions"):

- **SMD (RevMan 5)**: Hedges' g with the approximate correction J = 1 − 3/(4N − 9) and
  variance N/(n₁n₂) + g²/(2(N − 3.94)), N = n₁ + n₂ (metafor: exact J, variance
  1/n₁ + 1/n₂ + g²/(2N)). Matches RevMan's per-study SE in ``PRPData-22-11.csv`` to 1e-8.
- **Mantel–Haenszel with zero cells**: 0.5 is added to every cell of a study with a zero cell
  before the MH estimate (metafor's ``rma.mh`` uses the raw counts; R meta's
  ``MH.exact = FALSE`` does the same as RevMan). Applied in
  :func:`metareview.stats.binary_pooling.pool_binary` (``correct_zero_cells``).
- **MH-based random effects**: DL τ² from Q computed around the MH estimate with
  inverse-variance weights (:mod:`metareview.stats.binary_pooling`); used under both profiles
  because metafor has no MH random-effects model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from metareview.effect_sizes import hedges_correction

CONVENTIONS = ("metafor", "revman")
REVMAN_SMD_NOTE = "RevMan 5 SMD (J = 1 - 3/(4N - 9), variance N/(n1 n2) + g^2/(2(N - 3.94)))"


def revman5_smd(d: np.ndarray, n1: np.ndarray, n2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RevMan 5's Hedges' g and its variance from Cohen's d (pooled-SD standardized)."""
    n = n1 + n2
    g = d * (1 - 3 / (4 * n - 9))
    return g, n / (n1 * n2) + g**2 / (2 * (n - 3.94))


def apply_conventions(effects: pd.DataFrame, conventions: str, level: float = 0.95):
    """Effect sizes under ``conventions``; ``metafor`` returns them unchanged."""
    if conventions not in CONVENTIONS:
        raise ValueError(f"conventions {conventions!r}; use one of {', '.join(CONVENTIONS)}")
    if conventions == "metafor" or effects.empty:
        return effects
    out = effects.copy()
    rows = (
        (out["measure"] == "SMD")
        & (out["data_kind"] == "continuous")
        & out["yi"].notna()
        & out["included"].astype(bool)
    )
    if not rows.any():
        return out
    n1 = out.loc[rows, "exp_n"].astype(float).to_numpy()
    n2 = out.loc[rows, "ctl_n"].astype(float).to_numpy()
    j = np.array([hedges_correction(df) for df in n1 + n2 - 2])
    g, vi = revman5_smd(out.loc[rows, "yi"].astype(float).to_numpy() / j, n1, n2)
    crit = float(stats.norm.ppf(0.5 + level / 2))
    out.loc[rows, "yi"] = g
    out.loc[rows, "vi"] = vi
    out.loc[rows, "sei"] = np.sqrt(vi)
    out.loc[rows, "ci_low"] = g - crit * np.sqrt(vi)
    out.loc[rows, "ci_high"] = g + crit * np.sqrt(vi)
    notes = out.loc[rows, "conversions"].fillna("").astype(str)
    out.loc[rows, "conversions"] = [f"{n}; {REVMAN_SMD_NOTE}".lstrip("; ") for n in notes]
    return out
