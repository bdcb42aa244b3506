"""GRADE certainty of evidence for one analysis, automated, with the numbers behind each step.

Every rule lives here and in the table of ``docs/grade.md``; the thresholds come from the
config's ``grade:`` block (:class:`GradeSettings`, defaults documented in the schema). Randomized
evidence starts at high (4) and each domain rates down 0, 1 or 2 levels:

risk of bias
    From the overall RoB 2 judgements weighted by the random-effects weights: −2 when the
    share of weight at high risk is ≥ ``rob_very_serious_share``; −1 when the share at high risk
    or some concerns is ≥ ``rob_serious_share``. A study whose risk of bias was not assessed is
    counted as ``rob_not_assessed`` (default ``some_concerns``) — never as low — and the reason
    says so.
inconsistency (k ≥ 2)
    −2 when I² ≥ ``i2_very_serious`` and study estimates lie on both sides of no effect; −1
    when I² ≥ ``i2_serious``, or Cochran's Q p < ``q_p`` with estimates on both sides. The
    prediction interval is quoted. k = 1: not applicable.
indirectness
    From the optional ``indirectness`` column of ``studies.csv`` (``no | serious |
    very_serious``): −1 (or −2) when the flagged studies carry ≥ 50% of the weight. Without the
    column, no downgrade and the reason says indirectness was not assessed automatically.
imprecision
    CI part: −2 when the CI includes both an appreciable benefit and an appreciable harm
    (beyond ±MID), −1 when it includes no effect or straddles the MID. Size part: −1 when the
    participants fall short of the optimal information size (binary: two-arm sample size for
    a relative risk reduction ``ois_rrr`` at the control risk, two-sided ``ois_alpha``,
    ``ois_power``; continuous: ``ois_continuous`` participants) or k = 1. Total at most −2.
publication bias
    Only where k ≥ ``small_study_min_k``: −1 when Egger's test p < ``small_study_p`` or when
    trim-and-fill imputes studies and its CI then includes no effect while the original did not.
    Below that k: not assessable, no downgrade, and the reason says so.

A reviewer's override (``analyses.csv`` columns ``grade_<domain>`` with ``grade_<domain>_reason``)
replaces the automated downgrade; the result records both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
LEVELS = {4: "high", 3: "moderate", 2: "low", 1: "very_low"}
SYMBOLS = {4: "⊕⊕⊕⊕", 3: "⊕⊕⊕◯", 2: "⊕⊕◯◯", 1: "⊕◯◯◯"}
RATIO = ("RR", "OR", "ROM", "HR")
DEFAULT_MID = {"MD": 1.0, "SMD": 0.5, "ROM": 1.25, "RR": 1.25, "OR": 1.25, "RD": 0.05}


@dataclass(frozen=True)
class GradeSettings:
    """Thresholds of the rules (config ``grade:``); the defaults are the schema's."""

    rob_very_serious_share: float = 50.0
    rob_serious_share: float = 50.0
    rob_not_assessed: str = "some_concerns"
    i2_serious: float = 50.0
    i2_very_serious: float = 75.0
    q_p: float = 0.10
    mid: dict = field(default_factory=lambda: dict(DEFAULT_MID))
    ois_continuous: float = 400.0
    ois_rrr: float = 0.25
    ois_alpha: float = 0.05
    ois_power: float = 0.80
    small_study_min_k: int = 10
    small_study_p: float = 0.10
    control_risk: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, block: dict | None) -> GradeSettings:
        block = dict(block or {})
        mid = dict(DEFAULT_MID) | dict(block.pop("mid", {}) or {})
        known = {f for f in cls.__dataclass_fields__ if f != "mid"}
        return cls(mid=mid, **{k: v for k, v in block.items() if k in known})

    def mid_on_analysis_scale(self, measure: str) -> float:
        value = float(self.mid.get(measure, math.nan))
        return math.log(value) if measure in RATIO else value


@dataclass(frozen=True)
class Domain:
    """One GRADE domain: the downgrade applied (0, −1, −2) and why, with the numbers."""

    name: str
    downgrade: int
    reason: str
    automated: int
    override: bool = False


@dataclass(frozen=True)
class Evidence:
    """What the rules read for one analysis (analysis scale: log for ratios)."""

    measure: str
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    yi: tuple[float, ...]
    weights: tuple[float, ...]  # percent, summing to 100
    rob_overall: tuple[str, ...]  # low | some_concerns | high | not_assessed, per study
    participants: float = math.nan
    control_risk: float = math.nan
    i2: float = math.nan
    q_p: float = math.nan
    pi_low: float = math.nan
    pi_high: float = math.nan
    indirectness: tuple[str, ...] = ()  # per study: no | serious | very_serious | ""
    egger_p: float = math.nan
    trimfill_k0: float = math.nan
    trimfill_ci_low: float = math.nan
    trimfill_ci_high: float = math.nan


@dataclass(frozen=True)
class Grade:
    """The rating: domains in :data:`DOMAINS` order, the level (4…1) and its words."""

    domains: tuple[Domain, ...]
    score: int

    @property
    def certainty(self) -> str:
        return LEVELS[self.score]

    @property
    def symbols(self) -> str:
        return SYMBOLS[self.score]

    @property
    def label(self) -> str:
        return f"{self.symbols} {self.certainty.replace('_', ' ').upper()}"

    @property
    def downgrades(self) -> str:
        """``risk_of_bias:-1; imprecision:-2`` (only domains rated down)."""
        return "; ".join(f"{d.name}:{d.downgrade}" for d in self.domains if d.downgrade)

    @property
    def reasons(self) -> str:
        return " | ".join(f"{d.name.replace('_', ' ')}: {d.reason}" for d in self.domains)


def _pct(x: float) -> str:
    return f"{x:.0f}%"


def _num(x: float) -> str:
    return "NA" if x is None or not math.isfinite(x) else f"{x:.3g}"


def _crosses(lo: float, hi: float) -> bool:
    return lo <= 0.0 <= hi


def risk_of_bias(ev: Evidence, s: GradeSettings) -> Domain:
    """Weight shares of high and some-concerns studies (not assessed counted as configured)."""
    w = np.asarray(ev.weights, dtype=float)
    judged = np.asarray(ev.rob_overall, dtype=object)
    share = {lv: float(w[judged == lv].sum()) for lv in ("high", "some_concerns", "not_assessed")}
    na = share["not_assessed"]
    high = share["high"] + (na if s.rob_not_assessed == "high" else 0.0)
    concerns = share["high"] + share["some_concerns"] + na
    n_na = int((judged == "not_assessed").sum())
    words = (
        f"weight at high risk {_pct(share['high'])}, some concerns {_pct(share['some_concerns'])}"
        f", not assessed {_pct(na)}"
    )
    if n_na:
        words += (
            f" ({n_na} of {len(judged)} stud{'y' if len(judged) == 1 else 'ies'} not assessed,"
            f" counted as {s.rob_not_assessed.replace('_', ' ')}, never as low)"
        )
    if high >= s.rob_very_serious_share:
        return Domain(
            "risk_of_bias",
            -2,
            f"very serious: {words}; ≥ {s.rob_very_serious_share:g}% at high risk",
            -2,
        )
    if concerns >= s.rob_serious_share:
        return Domain(
            "risk_of_bias",
            -1,
            f"serious: {words}; ≥ {s.rob_serious_share:g}% at high risk or some concerns",
            -1,
        )
    return Domain("risk_of_bias", 0, f"not serious: {words}", 0)


def inconsistency(ev: Evidence, s: GradeSettings) -> Domain:
    """I², Q p-value and study estimates on both sides of no effect; PI quoted."""
    if ev.k < 2:
        return Domain("inconsistency", 0, "not applicable: a single study (k = 1)", 0)
    yi = np.asarray(ev.yi, dtype=float)
    both = bool((yi < 0).any() and (yi > 0).any())
    pi = ""
    if math.isfinite(ev.pi_low) and math.isfinite(ev.pi_high):
        pi = f", prediction interval {_num(ev.pi_low)} to {_num(ev.pi_high)}"
    words = (
        f"I² = {_num(ev.i2)}%, Q p = {_num(ev.q_p)}{pi}; study estimates "
        f"{'on both sides of' if both else 'on one side of'} no effect"
    )
    i2 = ev.i2 if math.isfinite(ev.i2) else 0.0
    if i2 >= s.i2_very_serious and both:
        return Domain(
            "inconsistency",
            -2,
            f"very serious: {words} (I² ≥ {s.i2_very_serious:g}% with estimates on both sides)",
            -2,
        )
    q_low = math.isfinite(ev.q_p) and ev.q_p < s.q_p and both
    if i2 >= s.i2_serious or q_low:
        why = f"I² ≥ {s.i2_serious:g}%" if i2 >= s.i2_serious else f"Q p < {s.q_p:g}"
        return Domain("inconsistency", -1, f"serious: {words} ({why})", -1)
    return Domain("inconsistency", 0, f"not serious: {words}", 0)


def indirectness(ev: Evidence, s: GradeSettings) -> Domain:
    """Weight share of studies flagged ``serious``/``very_serious`` in studies.csv."""
    flags = np.asarray(ev.indirectness, dtype=object)
    if flags.size == 0 or not any(f for f in flags):
        return Domain(
            "indirectness",
            0,
            "not assessed automatically (no 'indirectness' judgements in studies.csv); "
            "no downgrade unless a reviewer overrides",
            0,
        )
    w = np.asarray(ev.weights, dtype=float)
    very = float(w[flags == "very_serious"].sum())
    any_ = very + float(w[flags == "serious"].sum())
    words = f"weight of studies flagged indirect {_pct(any_)} (very serious {_pct(very)})"
    if very >= 50.0:
        return Domain("indirectness", -2, f"very serious: {words}", -2)
    if any_ >= 50.0:
        return Domain("indirectness", -1, f"serious: {words}", -1)
    return Domain("indirectness", 0, f"not serious: {words}", 0)


def optimal_information_size(
    control_risk: float, rrr: float, alpha: float = 0.05, power: float = 0.80
) -> float:
    """Total participants (two equal arms) to detect a relative risk reduction ``rrr``.

    n per arm = (z₁₋α/₂ + z_power)² · [p₁(1−p₁) + p₂(1−p₂)] / (p₁ − p₂)², p₂ = p₁(1 − rrr)
    (GRADE Handbook §5.2.2; checked against the hand calculation in the tests).
    """
    p1 = float(control_risk)
    if not (0.0 < p1 < 1.0) or rrr <= 0:
        return math.nan
    p2 = p1 * (1.0 - rrr)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    per_arm = z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2
    return 2.0 * math.ceil(per_arm)


def imprecision(ev: Evidence, s: GradeSettings) -> Domain:
    """CI against no effect and ±MID; participants against the OIS; k = 1."""
    mid = s.mid_on_analysis_scale(ev.measure)
    lo, hi = ev.ci_low, ev.ci_high
    parts, ci_part = [], 0
    shown = s.mid.get(ev.measure)
    ci_words = f"CI {_num(lo)} to {_num(hi)} (analysis scale)"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        ci_part, parts = 2, ["no confidence interval"]
    elif math.isfinite(mid) and lo < -mid and hi > mid:
        ci_part = 2
        parts.append(f"{ci_words} includes appreciable benefit and harm (MID {shown:g})")
    elif _crosses(lo, hi):
        ci_part = 1
        parts.append(f"{ci_words} includes no effect")
    elif math.isfinite(mid) and (lo < -mid < hi or lo < mid < hi):
        ci_part = 1
        parts.append(f"{ci_words} straddles the MID ({shown:g})")
    size_part = 0
    binary = ev.measure in ("RR", "OR", "RD")
    if binary:
        ois = optimal_information_size(ev.control_risk, s.ois_rrr, s.ois_alpha, s.ois_power)
        basis = f"OIS {_num(ois)} for RRR {s.ois_rrr:g} at control risk {_num(ev.control_risk)}"
    else:
        ois, basis = s.ois_continuous, f"OIS {s.ois_continuous:g} participants"
    if ev.k == 1:
        size_part = 1
        parts.append("a single study (k = 1)")
    if math.isfinite(ev.participants) and math.isfinite(ois) and ev.participants < ois:
        size_part = 1
        parts.append(f"{ev.participants:.0f} participants < {basis}")
    elif not math.isfinite(ev.participants):
        parts.append("number of participants not known")
    elif not math.isfinite(ois):
        parts.append("OIS not computable (no control risk)")
    down = -min(2, ci_part + size_part)
    if down == 0:
        extra = f"{ci_words}; {ev.participants:.0f} participants ≥ {basis}"
        return Domain("imprecision", 0, f"not serious: {extra}", 0)
    level = "very serious" if down == -2 else "serious"
    return Domain("imprecision", down, f"{level}: {'; '.join(parts)}", down)


def publication_bias(ev: Evidence, s: GradeSettings) -> Domain:
    """Egger's test and trim-and-fill, only where k ≥ ``small_study_min_k``."""
    if ev.k < s.small_study_min_k:
        return Domain(
            "publication_bias",
            0,
            f"not assessable: k = {ev.k} < {s.small_study_min_k} (small-study tests "
            "underpowered); no downgrade",
            0,
        )
    egger = math.isfinite(ev.egger_p) and ev.egger_p < s.small_study_p
    k0 = ev.trimfill_k0 if math.isfinite(ev.trimfill_k0) else 0
    tf_lo, tf_hi = ev.trimfill_ci_low, ev.trimfill_ci_high
    flips = (
        k0 > 0
        and math.isfinite(tf_lo)
        and math.isfinite(tf_hi)
        and _crosses(tf_lo, tf_hi)
        and not _crosses(ev.ci_low, ev.ci_high)
    )
    words = f"Egger p = {_num(ev.egger_p)}; trim-and-fill imputes {k0:.0f}"
    if flips:
        words += f" and its CI {_num(tf_lo)} to {_num(tf_hi)} includes no effect"
    if egger or flips:
        return Domain("publication_bias", -1, f"suspected: {words}", -1)
    return Domain("publication_bias", 0, f"not detected: {words}", 0)


RULES = {
    "risk_of_bias": risk_of_bias,
    "inconsistency": inconsistency,
    "indirectness": indirectness,
    "imprecision": imprecision,
    "publication_bias": publication_bias,
}


def rate(
    ev: Evidence,
    settings: GradeSettings | None = None,
    overrides: dict[str, tuple[int, str]] | None = None,
) -> Grade:
    """Rate one analysis; ``overrides`` maps a domain to (downgrade, reason) from the reviewer."""
    s = settings or GradeSettings()
    domains = []
    for name in DOMAINS:
        auto = RULES[name](ev, s)
        if overrides and name in overrides:
            value, why = overrides[name]
            auto_words = f"automated rule gave {auto.downgrade}: {auto.reason}"
            domains.append(
                Domain(
                    name,
                    int(value),
                    f"reviewer override ({int(value)}): {why} [{auto_words}]",
                    auto.downgrade,
                    override=True,
                )
            )
        else:
            domains.append(auto)
    score = max(1, 4 + sum(d.downgrade for d in domains))
    return Grade(tuple(domains), score)


__all__ = [
    "DOMAINS",
    "Domain",
    "Evidence",
    "Grade",
    "GradeSettings",
    "optimal_information_size",
    "rate",
]
