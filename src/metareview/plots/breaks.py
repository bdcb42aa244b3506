"""Axis breaks chosen by us, for any data: never left to mizani's defaults.

mizani's break finders fail on degenerate input (``_extend_breaks`` indexes an empty array
when a log axis holds one major break: a funnel plot of eight large, consistent trials). The
functions here always return at least two finite, strictly increasing breaks inside the
limits they are given, for zero-width, tiny and huge ranges, and ignore non-finite values.
Every plot passes them (and ``minor_breaks=[]``) explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

#: Mantissas of "nice" steps.
STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
#: The widest log-scale value drawn on a ratio axis, ±700 (a float's exp() overflows past ~709).
LOG_EDGE = 700.0
#: Natural-scale multiples within a decade used on log axes, finest first.
LOG_MULTIPLES = ((1, 2, 5), (1, 3), (1,))


def finite(values: Iterable) -> list[float]:
    """The finite floats among ``values`` (None, NaN, ±inf and text dropped)."""
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def span_of(values: Iterable, *, min_width: float = 0.0) -> tuple[float, float]:
    """(lo, hi) of the finite values, widened to a positive width.

    A range narrower than max(|v|·1e-3, 1e-200, min_width) is widened to it around
    the value, so an axis can always be drawn; no finite values give (-1, 1).
    """
    vals = finite(values)
    if not vals:
        return -1.0, 1.0
    lo, hi = min(vals), max(vals)
    width = hi - lo
    need = max(min_width, max(abs(lo), abs(hi)) * 1e-3, 1e-200)
    if width < need:
        mid = (lo + hi) / 2
        lo, hi = mid - need / 2, mid + need / 2
    return lo, hi


def nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at least ``raw`` (> 0)."""
    exponent = math.floor(math.log10(raw))
    for mantissa in STEPS:
        step = mantissa * 10.0**exponent
        if step >= raw * (1 - 1e-12):
            return step
    return 10.0 ** (exponent + 1)


def linear_breaks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` nice breaks within [lo, hi]; at least two, always finite.

    Degenerate limits (equal, reversed, non-finite, subnormal widths) are first widened by
    :func:`span_of`.
    """
    lo, hi = span_of([lo, hi])
    width = hi - lo
    if not math.isfinite(width):
        return [lo, hi]
    step = nice_step(width / max(n - 1, 1))
    while True:
        first = math.ceil(lo / step - 1e-9)
        last = math.floor(hi / step + 1e-9)
        if last - first + 1 >= 2 or step <= width * 1e-6:
            break
        step = step / 2 if step / 2 > 0 else step
        if step == 0:
            break
    breaks = [round_clean(i * step, step) for i in range(first, last + 1)]
    breaks = [b for b in breaks if lo - 1e-9 * width <= b <= hi + 1e-9 * width]
    if len(breaks) < 2:  # floating point corner: fall back to the limits themselves
        breaks = [lo, hi]
    return sorted(set(breaks))


def round_clean(value: float, step: float) -> float:
    """``value`` rounded to the decimals of ``step`` (no 0.30000000000000004)."""
    if value == 0:
        return 0.0
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return float(round(value, min(decimals, 300)))


def log_breaks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Natural-scale breaks for a log axis over [lo, hi] (both > 0): at least two.

    Ranges over less than a factor of ~3 get linear nice breaks (1.02, 1.04, ...); wider
    ones 1-2-5, 1-3 or 1 per decade; very wide ones every few decades.
    """
    vals = [v for v in finite([lo, hi]) if v > 0]
    if len(vals) < 2:
        vals = [0.5, 2.0] if not vals else [vals[0] / 1.01, vals[0] * 1.01]
    lo, hi = min(vals), max(vals)
    if hi / lo < 3.0:
        return [b for b in linear_breaks(lo, hi, n) if b > 0] or [lo, hi]
    llo, lhi = math.log10(lo), math.log10(hi)
    for multiples in LOG_MULTIPLES:
        breaks = [
            m * 10.0**e
            for e in range(math.floor(llo), math.ceil(lhi) + 1)
            for m in multiples
            if lo * (1 - 1e-9) <= m * 10.0**e <= hi * (1 + 1e-9)
        ]
        if 2 <= len(breaks) <= n + 2:
            return breaks
    decades = max(1, math.ceil((lhi - llo) / max(n - 1, 1)))
    breaks = [10.0**e for e in range(math.ceil(llo), math.floor(lhi) + 1) if e % decades == 0]
    if len(breaks) < 2:
        breaks = [10.0 ** math.ceil(llo), 10.0 ** math.floor(lhi)]
        breaks = sorted(set(breaks)) if breaks[0] < breaks[1] else [lo, hi]
    return breaks


def log_limits(values: Iterable, pad: float = 0.0) -> tuple[float, float]:
    """Natural-scale limits of positive ``values`` (log-scale padding ``pad`` of the span)."""
    logs = [math.log(v) for v in finite(values) if v > 0]
    llo, lhi = span_of(logs)
    extra = (lhi - llo) * pad
    llo, lhi = max(llo - extra, -LOG_EDGE), min(lhi + extra, LOG_EDGE)
    return math.exp(llo), math.exp(lhi)


def not_drawn(count: int, noun: str, why: str) -> str:
    """What a figure leaves out: ``3 subsets without a fit not drawn``."""
    return f"{count:,} {noun}{'s' if count > 1 else ''} {why} not drawn"


def beyond_log_edge(count: int, noun: str) -> str:
    """What a ratio axis leaves out: ``3 subsets beyond e^±700 not drawn``."""
    return not_drawn(count, noun, f"beyond e^±{LOG_EDGE:.0f}")


def as_array(values) -> np.ndarray:
    return np.asarray(finite(values), dtype=float)
