"""What the importer reads from any RevMan format: analyses, their data rows, stored results."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: RevMan's effect-measure spellings → ours (ratios analysed on the log scale).
MEASURES = {
    "RR": "RR",
    "RISK RATIO": "RR",
    "OR": "OR",
    "ODDS RATIO": "OR",
    "PETO_OR": "OR",
    "PETO ODDS RATIO": "OR",
    "RD": "RD",
    "RISK DIFFERENCE": "RD",
    "MD": "MD",
    "MEAN DIFFERENCE": "MD",
    "SMD": "SMD",
    "STD. MEAN DIFFERENCE": "SMD",
    "STANDARDIZED MEAN DIFFERENCE": "SMD",
    "STANDARDISED MEAN DIFFERENCE": "SMD",
    "HR": "HR",
    "HAZARD RATIO": "HR",
}
#: Measures RevMan can store that this workflow cannot pool (refused with a message).
UNSUPPORTED = ("ROM", "OE", "O-E", "HAZARD RATIO (O-E)")

#: Stored result statistics, in the order reference_results.csv lists them.
STATISTICS = (
    "estimate",
    "ci_low",
    "ci_high",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "q",
    "q_df",
    "q_p",
    "i2",
    "z",
    "t",
    "p_value",
    "pi_low",
    "pi_high",
)


def number(text) -> float:
    """RevMan's number text → float (NaN for empty, '#N/A', 'NA'); '95%' → 95."""
    if text is None:
        return math.nan
    s = str(text).strip().rstrip("%").replace("\u2212", "-")
    if s in ("", "#N/A", "NA", "N/A", "-"):
        return math.nan
    try:
        return float(s)
    except ValueError:
        return math.nan


@dataclass
class DataRow:
    """One study entry of one analysis (a multi-arm study may appear more than once)."""

    study: str
    year: str = ""
    subgroup: str = ""
    exp_events: float = math.nan
    exp_n: float = math.nan
    exp_mean: float = math.nan
    exp_sd: float = math.nan
    ctl_events: float = math.nan
    ctl_n: float = math.nan
    ctl_mean: float = math.nan
    ctl_sd: float = math.nan
    giv_estimate: float = math.nan  # generic inverse variance, analysis scale
    giv_se: float = math.nan
    giv_natural: bool = False  # giv_estimate read on the natural scale (ratio measures)
    stored_effect: float = math.nan  # RevMan's per-study estimate (natural scale)
    stored_ci_low: float = math.nan
    stored_ci_high: float = math.nan
    stored_weight: float = math.nan
    estimable: bool = True


@dataclass
class StoredResult:
    """RevMan's stored pooled numbers for an analysis (``subgroup`` '' = overall)."""

    subgroup: str
    values: dict[str, float]  # statistic → value, as stored (estimate on the natural scale)
    fields: dict[str, str] = field(default_factory=dict)  # statistic → RevMan's field name


@dataclass
class Analysis:
    """One RevMan analysis ("1.1": comparison 1, outcome 1)."""

    number: str
    comparison: str
    name: str
    data_type: str  # dichotomous | continuous | generic
    method: str  # IV | MH | Peto
    measure: str  # ours: RR, OR, RD, MD, SMD, HR
    model: str  # random | common
    tau2_method: str = "DL"
    ci_method: str = "z"
    level: float = 0.95
    experimental_label: str = ""
    control_label: str = ""
    favours_experimental: str = ""
    favours_control: str = ""
    totals: bool = True  # RevMan computed an overall result
    log_scale_giv: bool = True
    rows: list[DataRow] = field(default_factory=list)
    results: list[StoredResult] = field(default_factory=list)
    source_measure: str = ""  # RevMan's own spelling


@dataclass
class Study:
    name: str
    year: str = ""
    rob: dict[str, str] = field(default_factory=dict)  # domain → judgement (RoB 2)
    rob_support: dict[str, str] = field(default_factory=dict)


@dataclass
class Review:
    title: str
    source: str  # file name the review was read from
    fmt: str  # rm5 | revman5-csv | revman-web
    analyses: list[Analysis] = field(default_factory=list)
    studies: dict[str, Study] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    conventions: str = "revman5"  # revman5 | revman-web


class RevManError(ValueError):
    """A source that is not a readable RevMan file; the message names the file."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source


def our_measure(source: str, revman_measure: str, where: str) -> str:
    key = str(revman_measure).strip().upper()
    if key in MEASURES:
        return MEASURES[key]
    raise RevManError(
        source,
        f"{where}: effect measure '{revman_measure}' is not supported; known: "
        + ", ".join(sorted({*MEASURES})),
    )
