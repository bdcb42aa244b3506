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
- **RD with a zero cell (RevMan 5)**: the estimate uses the observed counts, only its variance
  the 0.5-corrected cells (metafor corrects both). ``PRPData-22-11.csv`` 7.3.1: 29/32 vs 13/13
  is stored as −0.09375 with SE 0.07302736.
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
RD_NOTE = "RevMan RD: estimate from the observed counts, variance from the corrected cells"
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
    out = _revman_smd(effects.copy(), level)
    return _revman_rd(out, level)


def _set_effect(out: pd.DataFrame, rows, yi, vi, level: float, note: str) -> None:
    crit = float(stats.norm.ppf(0.5 + level / 2))
    out.loc[rows, "yi"] = yi
    out.loc[rows, "vi"] = vi
    out.loc[rows, "sei"] = np.sqrt(vi)
    out.loc[rows, "ci_low"] = yi - crit * np.sqrt(vi)
    out.loc[rows, "ci_high"] = yi + crit * np.sqrt(vi)
    notes = out.loc[rows, "conversions"].fillna("").astype(str)
    out.loc[rows, "conversions"] = [f"{n}; {note}".lstrip("; ") for n in notes]


def _revman_smd(out: pd.DataFrame, level: float) -> pd.DataFrame:
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
    _set_effect(out, rows, g, vi, level, REVMAN_SMD_NOTE)
    return out


def _revman_rd(out: pd.DataFrame, level: float) -> pd.DataFrame:
    """RD from the observed counts; its variance from the 0.5-corrected cells (RevMan 5)."""
    rows = (out["measure"] == "RD") & (out["data_kind"] == "binary") & out["yi"].notna()
    if not rows.any():
        return out
    a, n1 = (out.loc[rows, c].astype(float).to_numpy() for c in ("exp_events", "exp_n"))
    c, n2 = (out.loc[rows, c].astype(float).to_numpy() for c in ("ctl_events", "ctl_n"))
    yi = a / n1 - c / n2
    _set_effect(out, rows, yi, out.loc[rows, "vi"].astype(float).to_numpy(), level, RD_NOTE)
    return out
