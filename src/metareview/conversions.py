"""Arm-level conversions to a mean and SD (Cochrane Handbook ch. 6; metafor ``conv.fivenum``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class ArmSummary:
    """Mean and SD of one arm, with the dispersion source and conversion used."""

    mean: float
    sd: float
    source: str  # sd | se | ci | median_iqr | median_range | median_iqr_range
    conversion: str  # human-readable, empty when the SD was reported


class ConversionError(ValueError):
    """An arm's summary cannot be converted (the reason is the message)."""


def sd_from_se(se: float, n: float) -> float:
    """SD = SE·√n."""
    return se * math.sqrt(n)


def sd_from_ci(low: float, high: float, n: float) -> float:
    """SD from a 95% CI of a mean: √n·(high − low)/(2·t(0.975, n−1))."""
    return math.sqrt(n) * (high - low) / (2 * stats.t.ppf(0.975, n - 1))


def fivenum_to_mean_sd(
    n: float,
    median: float,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> tuple[float, float, str]:
    """Mean and SD from a median with quartiles and/or range, as ``metafor::conv.fivenum``.

    Methods are metafor's defaults for normal data: mean by Luo et al. (2018), SD by Wan et
    al. (2014) from the IQR or range alone and by Shi et al. (2020) from both. As metafor
    does, a study with n < 5, or whose skewness test (Shi et al.) is significant, is not
    converted (``ConversionError``).

    Returns
    -------
    (mean, sd, source)
    """
    has_iqr = q1 is not None and q3 is not None
    has_range = minimum is not None and maximum is not None
    if not (has_iqr or has_range):
        raise ConversionError("a median needs quartiles (q1, q3) or a range (min, max)")
    if n < 5:
        raise ConversionError(f"median-based conversion needs n ≥ 5 (n = {n:g})")
    xi = 2 * stats.norm.ppf((n - 0.375) / (n + 0.25))
    eta = 2 * stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    if has_iqr and has_range:
        skew = max(
            2.65
            * math.log(0.6 * n)
            / math.sqrt(n)
            * abs((minimum + maximum - 2 * median) / (maximum - minimum)),
            abs((q1 + q3 - 2 * median) / (q3 - q1)),
        )
        crit = 3 / math.sqrt(n) - 40 / n**3
        w1 = 2.2 / (2.2 + n**0.75)
        w2 = 0.7 - 0.72 / n**0.55
        mean = w1 * (minimum + maximum) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
        w = 1 / (1 + 0.07 * n**0.6)
        sd = w * (maximum - minimum) / xi + (1 - w) * (q3 - q1) / eta
        source = "median_iqr_range"
    elif has_iqr:
        skew = abs((q1 + q3 - 2 * median) / (q3 - q1))
        crit = 2.65 / math.sqrt(n) - 6 / n**2
        w = 0.7 + 0.39 / n
        mean = w * (q1 + q3) / 2 + (1 - w) * median
        sd = (q3 - q1) / eta
        source = "median_iqr"
    else:
        skew = abs((minimum + maximum - 2 * median) / (maximum - minimum))
        crit = 1 / math.log(n + 9) + 2.5 / (n + 1)
        w = 4 / (4 + n**0.75)
        mean = w * (minimum + maximum) / 2 + (1 - w) * median
        sd = (maximum - minimum) / xi
        source = "median_range"
    if skew >= crit:
        raise ConversionError(
            f"skewness test significant ({skew:.3f} ≥ {crit:.3f}): median-based mean/SD "
            "not estimated (metafor conv.fivenum)"
        )
    return mean, sd, source


def present(value) -> bool:
    """True for a value that is neither None nor NaN."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def arm_summary(arm: dict) -> ArmSummary:
    """Best available mean and SD for one arm: SD, then SE, then CI, then median-based.

    ``arm`` has keys n, mean, sd, se, ci_low, ci_high, median, q1, q3, min, max (None/NaN
    when absent).
    """
    n, mean = arm["n"], arm.get("mean")
    if present(mean) and present(arm.get("sd")):
        return ArmSummary(mean, arm["sd"], "sd", "")
    if present(mean) and present(arm.get("se")):
        return ArmSummary(mean, sd_from_se(arm["se"], n), "se", "SD = SE·√n")
    if present(mean) and present(arm.get("ci_low")) and present(arm.get("ci_high")):
        sd = sd_from_ci(arm["ci_low"], arm["ci_high"], n)
        return ArmSummary(mean, sd, "ci", "SD from 95% CI: √n·(high − low)/(2·t(0.975, n−1))")
    if present(arm.get("median")):
        opt = {k: arm.get(k) if present(arm.get(k)) else None for k in ("q1", "q3", "min", "max")}
        mean, sd, source = fivenum_to_mean_sd(
            n, arm["median"], opt["q1"], opt["q3"], opt["min"], opt["max"]
        )
        return ArmSummary(
            mean, sd, source, f"mean/SD from {source.replace('_', ' ')} (conv.fivenum)"
        )
    raise ConversionError("no usable dispersion (SD, SE, CI or median with IQR/range)")
