"""Mantel–Haenszel and Peto pooling of 2×2 tables, as ``metafor::rma.mh`` and ``rma.peto``.

Cells per study: ``ai`` (experimental events), ``bi`` (experimental non-events), ``ci``
(control events), ``di`` (control non-events). Variances of the pooled log ratio / difference:

- OR: Robins, Breslow and Greenland (1986) ("RBG"), as ``rma.mh(measure="OR")``;
- RR: Greenland and Robins (1985), as ``rma.mh(measure="RR")``;
- RD: Greenland and Robins (1985) / Sato, Greenland and Robins (1989), as
  ``rma.mh(measure="RD")``;
- Peto OR: Σ(O − E) / ΣV with variance 1/ΣV (Yusuf et al. 1985), as ``rma.peto``.

Heterogeneity Q is Σ wᵢ (yᵢ − θ̂)² with the studies' own inverse-variance weights around the
MH (or Peto) estimate θ̂, as metafor and RevMan compute it; yᵢ, vᵢ add 0.5 to every cell of a
table with a zero cell, and tables with no events or only events in both arms are left out
of Q (metafor's ``add=1/2, to="only0", drop00=TRUE``). Validated against metafor 3.8-1
fixtures in ``tests/reference/mantel_haenszel/expected.json`` (rtol 1e-10).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

MH_MEASURES = ("OR", "RR", "RD")


@dataclass(frozen=True)
class Tables:
    """2×2 tables of k studies (float arrays)."""

    ai: np.ndarray
    bi: np.ndarray
    ci: np.ndarray
    di: np.ndarray

    @classmethod
    def from_counts(cls, exp_events, exp_n, ctl_events, ctl_n) -> Tables:
        ai = np.asarray(exp_events, dtype=float)
        ci = np.asarray(ctl_events, dtype=float)
        return cls(ai, np.asarray(exp_n, dtype=float) - ai, ci, np.asarray(ctl_n, float) - ci)

    @property
    def n1(self) -> np.ndarray:
        return self.ai + self.bi

    @property
    def n2(self) -> np.ndarray:
        return self.ci + self.di

    @property
    def total(self) -> np.ndarray:
        return self.n1 + self.n2

    def subset(self, mask: np.ndarray) -> Tables:
        return Tables(self.ai[mask], self.bi[mask], self.ci[mask], self.di[mask])

    def double_zero(self) -> np.ndarray:
        """Tables with no events, or only events, in both arms."""
        return ((self.ai == 0) & (self.ci == 0)) | ((self.bi == 0) & (self.di == 0))

    def zero_cell(self) -> np.ndarray:
        return (self.ai == 0) | (self.bi == 0) | (self.ci == 0) | (self.di == 0)

    def corrected(self, add: float = 0.5) -> Tables:
        """``add`` added to all four cells of tables with a zero cell (``to="only0"``)."""
        inc = np.where(self.zero_cell(), add, 0.0)
        return Tables(self.ai + inc, self.bi + inc, self.ci + inc, self.di + inc)


def study_effects(tables: Tables, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """(yi, vi) of each table on the analysis scale, as ``escalc`` (no correction applied)."""
    a, b, c, d, n1, n2 = tables.ai, tables.bi, tables.ci, tables.di, tables.n1, tables.n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
        if measure == "RR":
            return np.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2
        if measure == "RD":
            p1, p2 = a / n1, c / n2
            return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        if measure == "PETO":
            o_e, v = peto_terms(tables)
            return o_e / v, 1 / v
    raise ValueError(f"unknown measure {measure!r}; use one of OR, RR, RD")


def peto_terms(tables: Tables) -> tuple[np.ndarray, np.ndarray]:
    """(O − E, V) per table: observed minus expected experimental events and its variance."""
    n1, n2, n = tables.n1, tables.n2, tables.total
    events = tables.ai + tables.ci
    expected = events * n1 / n
    v = events * (tables.bi + tables.di) * n1 * n2 / (n**2 * (n - 1))
    return tables.ai - expected, v


@dataclass(frozen=True)
class CommonEffect:
    """A pooled common effect and its heterogeneity statistic."""

    estimate: float  # log scale for OR/RR
    se: float
    q: float
    k_q: int  # tables contributing to Q (df = k_q − 1)
    yi: np.ndarray  # per-study effects of the Q tables
    vi: np.ndarray
    note: str = ""  # how the estimate was reached, when not as asked (see UNESTIMABLE)


def _q(yi: np.ndarray, vi: np.ndarray, estimate: float) -> float:
    return float(np.sum((yi - estimate) ** 2 / vi)) if yi.size else 0.0


def q_tables(tables: Tables, measure: str, add: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """yi, vi used for Q: double-zero tables dropped, zero-cell tables corrected by ``add``."""
    kept = tables.subset(~tables.double_zero())
    return study_effects(kept.corrected(add), measure)


#: The note of an MH odds or risk ratio that the observed counts leave at 0 or ∞.
UNESTIMABLE = (
    "Mantel-Haenszel {measure} not estimable from the observed counts ({arm}; "
    "metafor's rma.mh gives NA): 0.5 added to every cell of each table with a zero "
    "cell, as RevMan"
)


def mantel_haenszel(tables: Tables, measure: str, *, correct_zero_cells: bool = False):
    """Mantel–Haenszel common effect of ``measure`` (OR, RR, RD) over the tables.

    ``correct_zero_cells=False`` uses the observed counts, as ``rma.mh``;
    ``True`` is RevMan's convention: for OR and RR, 0.5 is first added to every cell of a table
    with a zero cell and tables without events (or non-events) in either arm are dropped (as
    R meta's ``MH.exact = FALSE``); for RD the estimate and the studies' yᵢ use the observed
    counts and only the studies' variances vᵢ (in Q) use the corrected cells (RevMan's
    per-study RD of 29/32 vs 13/13 is −0.09375 with SE 0.0730; ``PRPData-22-11.csv``, 7.3.1).

    An OR or RR whose observed counts give a ratio of 0 or ∞ (no experimental events in any
    study, say: metafor returns NA) is estimated with RevMan's correction instead, and the
    result's ``note`` (:data:`UNESTIMABLE`) says so.
    """
    if measure not in MH_MEASURES:
        raise ValueError(f"Mantel-Haenszel pooling of {measure!r}; use one of OR, RR, RD")
    if not correct_zero_cells and measure != "RD":
        arm = _degenerate_arm(tables, measure)
        if arm:
            fallback = mantel_haenszel(tables, measure, correct_zero_cells=True)
            return replace(fallback, note=UNESTIMABLE.format(measure=measure, arm=arm))
    work = tables
    if correct_zero_cells and measure != "RD":
        work = tables.subset(~tables.double_zero()).corrected(0.5)
    a, b, c, d = work.ai, work.bi, work.ci, work.di
    n1, n2, n = work.n1, work.n2, work.total
    if measure == "OR":
        r_i, s_i = a * d / n, b * c / n
        r, s = r_i.sum(), s_i.sum()
        p_i, q_i = (a + d) / n, (b + c) / n
        est = np.log(r / s)
        var = 0.5 * (
            (p_i * r_i).sum() / r**2
            + (p_i * s_i + q_i * r_i).sum() / (r * s)
            + (q_i * s_i).sum() / s**2
        )
    elif measure == "RR":
        r, s = (a * n2 / n).sum(), (c * n1 / n).sum()
        p = ((n1 * n2 * (a + c) - a * c * n) / n**2).sum()
        est = np.log(r / s)
        var = p / (r * s)
    else:
        w = n1 * n2 / n
        est = ((a * n2 - c * n1) / n).sum() / w.sum()
        var = (
            est
            * (c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2).sum()
            + (a * (n2 - c) / n + c * (n1 - a) / n).sum() / 2
        ) / w.sum() ** 2
    if correct_zero_cells and measure == "RD":
        yi = study_effects(tables, measure)[0]
        vi = study_effects(tables.corrected(0.5), measure)[1]
    else:
        yi, vi = q_tables(tables, measure)
    return CommonEffect(float(est), float(np.sqrt(var)), _q(yi, vi, est), int(yi.size), yi, vi)


def _degenerate_arm(tables: Tables, measure: str) -> str:
    """What leaves the MH ratio of the observed counts at 0 or ∞ ("" when it is finite)."""
    a, b, c, d = tables.ai, tables.bi, tables.ci, tables.di
    if measure == "RR":
        zero = {"no study has experimental events": a, "no study has control events": c}
    else:  # OR: Σ a·d/n = 0 or Σ b·c/n = 0
        zero = {"every study lacks experimental events or control non-events": a * d,
                "every study lacks experimental non-events or control events": b * c}  # fmt: skip
    return next((arm for arm, terms in zero.items() if not (terms > 0).any()), "")


def peto(tables: Tables) -> CommonEffect:
    """Peto's one-step odds ratio (log scale), as ``rma.peto``; tables with V = 0 are left out."""
    o_e, v = peto_terms(tables)
    keep = v > 0
    o_e, v = o_e[keep], v[keep]
    est = float(o_e.sum() / v.sum())
    yi, vi = o_e / v, 1 / v
    return CommonEffect(est, float(np.sqrt(1 / v.sum())), _q(yi, vi, est), int(yi.size), yi, vi)
