"""Number, measure and label formatting shared by the figures and the report.

Figures use the typographic minus (U+2212); the report uses ASCII ``-`` so that numbers can
be copied into other software. Ratio measures are stored on the log scale and shown on the
natural scale everywhere a person reads them.
"""

from __future__ import annotations

import math

from metareview.tables import CONTINUOUS_MEASURES, RATIO_MEASURES

MINUS = "\u2212"

#: Long names as in RevMan ("Mean Difference") and the Cochrane Handbook.
MEASURE_NAMES = {
    "MD": "Mean Difference",
    "SMD": "Std. Mean Difference",
    "ROM": "Ratio of Means",
    "RR": "Risk Ratio",
    "OR": "Odds Ratio",
    "RD": "Risk Difference",
    "HR": "Hazard Ratio",
}

#: Between-study variance estimators, as named in the methods text.
TAU2_NAMES = {
    "DL": "DerSimonian–Laird",
    "REML": "restricted maximum likelihood (REML)",
    "PM": "Paule–Mandel",
    "ML": "maximum likelihood",
    "HE": "Hedges",
    "SJ": "Sidik–Jonkman",
    "HS": "Hunter–Schmidt",
    "EB": "empirical Bayes",
}


def is_missing(value) -> bool:
    """True for None, NaN, pandas NA and empty or whitespace-only strings.

    Text such as ``nan``, ``NA`` or ``None`` is a value (it may be an id or a label): tables
    are read with :func:`metareview.io.read_table`, where only an empty cell is missing.
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return False


def level_percent(level, default: float = 0.95) -> str:
    """``95`` for a confidence level of 0.95 (the default when the level is missing)."""
    return f"{100 * (default if is_missing(level) else float(level)):g}"


def ci_heading(levels, default: float = 0.95) -> str:
    """``95% CI`` when every level is the same (``default`` when there is none), else ``CI``."""
    percents = {level_percent(v) for v in levels} or {level_percent(None, default)}
    return f"{percents.pop()}% CI" if len(percents) == 1 else "CI"


def is_ratio(measure: str) -> bool:
    """Ratio measures are analysed on the log scale and drawn on a log axis."""
    return str(measure) in RATIO_MEASURES


def null_value(measure: str) -> float:
    """The no-effect value on the analysis scale (0, also log(1) for ratios)."""
    return 0.0


def to_natural(value: float, measure: str) -> float:
    """Analysis scale → the scale people read (exp for ratio measures)."""
    if is_missing(value):
        return math.nan
    if not is_ratio(measure):
        return float(value)
    try:
        return math.exp(float(value))
    except OverflowError:  # a log ratio beyond ~709 (e.g. a CI bound of a wild model fit)
        return math.inf


def experimental_favoured_above(measure: str, higher_is_better) -> bool:
    """Whether effects above the null favour the experimental arm.

    Continuous measures (MD, SMD, ROM) are sign-aligned by the data contract: a negative effect
    (ROM < 1) favours the experimental arm whatever the outcome. For binary and generic ratio
    or difference measures the effect is never flipped: the experimental arm is favoured above
    the null when the event is good (``higher_is_better``, e.g. responders), below it otherwise.
    """
    if str(measure) in CONTINUOUS_MEASURES:
        return False
    return as_bool(higher_is_better)


def as_bool(value) -> bool:
    """Read True/False, 'true'/'false', 1/0 and NaN (False) the same way."""
    if is_missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


#: From here on numbers are written in scientific notation: in text (``1.67e+12``) ...
LARGE_NUMBER = 1e9
#: ... and on axes (``1e+06``).
LARGE_TICK = 1e6


def fmt_num(value, digits: int = 2, minus: str = "-") -> str:
    """Fixed decimals with a chosen minus sign; empty string for missing values."""
    if is_missing(value):
        return ""
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else f"{minus}∞"
    if abs(value) >= LARGE_NUMBER:  # fixed decimals would print hundreds of spurious digits
        return f"{value:.{digits}e}".replace("-", minus)
    text = f"{value:.{digits}f}"
    if text.lstrip("-").strip("0.") == "":  # avoid "-0.00"
        text = text.lstrip("-")
    return text.replace("-", minus)


def fmt_arm(value, minus: str = "-") -> str:
    """Arm means and SDs as reported: at most two decimals, no trailing zeros."""
    if is_missing(value):
        return ""
    value = float(value)
    text = f"{value:.2f}" if abs(value) >= 0.1 or value == 0 else f"{value:.3g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", minus)


def fmt_int(value) -> str:
    """Counts and sample sizes without decimals."""
    if is_missing(value):
        return ""
    return f"{float(value):.0f}"


def fmt_effect(est, low, high, measure: str, minus: str = "-", digits: int = 2) -> str:
    """``-0.45 [-0.89, -0.01]`` on the natural scale (ratios exponentiated)."""
    if is_missing(est):
        return ""
    parts = [fmt_num(to_natural(v, measure), digits, minus) for v in (est, low, high)]
    if is_missing(low) or is_missing(high):
        return parts[0]
    return f"{parts[0]} [{parts[1]}, {parts[2]}]"


def fmt_interval(low, high, measure: str, minus: str = "-", digits: int = 2) -> str:
    """``[a, b]`` on the natural scale, empty when missing."""
    if is_missing(low) or is_missing(high):
        return ""
    a, b = (fmt_num(to_natural(v, measure), digits, minus) for v in (low, high))
    return f"[{a}, {b}]"


def fmt_p(p, minus: str = "-") -> str:
    """``P < 0.001``, ``P = 0.004``, ``P = 0.04``, ``P = 0.21`` (no leading symbol)."""
    if is_missing(p):
        return ""
    p = float(p)
    if p < 0.001:
        return "P < 0.001"
    if p < 0.01:
        return f"P = {p:.3f}"
    return f"P = {p:.2f}"


def fmt_p_value(p) -> str:
    """A p-value as a table cell: ``<0.001``, ``0.004``, ``0.21``."""
    return fmt_p(p).replace("P = ", "").replace("P < ", "<")


def fmt_pct(value, digits: int = 0) -> str:
    """``47%`` (empty when missing)."""
    if is_missing(value):
        return ""
    return f"{float(value):.{digits}f}%"


def fmt_weeks(weeks) -> str:
    """Timepoints for people: ``15 min``, ``3 h``, ``5 days``, ``week 4``."""
    if is_missing(weeks):
        return ""
    weeks = float(weeks)
    if weeks == 0:
        return "week 0"
    minutes = weeks * 7 * 24 * 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 36:
        return f"{hours:.0f} h"
    if weeks < 1:
        return f"{weeks * 7:.0f} days"
    return f"week {weeks:g}" if float(weeks).is_integer() else f"week {weeks:.1f}"


#: Display names of common moderator and subgroup columns.
COLUMN_LABELS = {
    "dose_mg_kg": "Dose (mg/kg)",
    "year": "Publication year",
    "route": "Route",
    "comparator": "Comparator",
    "risk_of_bias": "Risk of bias",
    "sessions": "Sessions",
}


def column_label(name) -> str:
    """``dose_mg_kg`` → ``Dose (mg/kg)``; other columns humanized."""
    return COLUMN_LABELS.get(str(name), humanize(name))


def humanize(slug) -> str:
    """``pain_intensity`` → ``Pain intensity``; ``crps`` → ``CRPS`` (short all-letter slugs)."""
    text = str(slug)
    if text.isalpha() and len(text) <= 4 and text.lower() == text:
        return text.upper()
    text = text.replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def wrap_title(text: str, width: int = 64) -> str:
    """Wrap a ``A · B · C`` title between its parts where possible, else between words."""
    import textwrap

    lines: list[str] = []
    for part in str(text).split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] = f"{lines[-1]} · {part}"
        else:
            lines.extend(textwrap.wrap(part, width) or [""])
    return "\n".join(lines)


def tick_label(value: float, measure: str, minus: str = MINUS) -> str:
    """Axis tick text on the natural scale: ``0.1``, ``1``, ``10``, ``−2``."""
    v = to_natural(value, measure)
    if not math.isfinite(v):  # an overflowing ratio (e^709+) or a missing value
        return fmt_num(v, minus=minus)
    if abs(v) >= LARGE_TICK * (1 - 1e-12):  # exp(log(1e6)) is 999999.9999999995
        text = f"{v:.2g}"  # 1e+06, not 1000000; 1e+300, not 301 digits
    elif abs(v) < 1:
        text = f"{v:.3g}"  # 0.5, 1e-05; e^-700 is 9.86e-305, not 0
    elif abs(v - round(v)) < 1e-9:
        text = f"{round(v):d}"
    else:
        text = f"{v:.2g}"
    return text.replace("-", minus)
