"""Axis breaks are ours, for any data; every figure renders for legal but awkward data.

Issue 14: a funnel plot of eight large, consistent RR trials crashed inside mizani's
``_extend_breaks``; so did huge trials and rare events. SYNTHETIC data only.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metareview.analyses import pool_analyses
from metareview.effect_sizes import binary_effect
from metareview.plots.breaks import linear_breaks, log_breaks, span_of
from metareview.plots.build import figures
from metareview.plots.export import svg_bytes
from metareview.plots.forest import forest_plot
from metareview.plots.funnel import funnel_plot
from metareview.sensitivity import run_sensitivity

finite = st.floats(-1e12, 1e12, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(a=finite, b=finite)
def test_linear_breaks_are_at_least_two_increasing_and_inside(a, b):
    lo, hi = span_of([a, b])
    breaks = linear_breaks(a, b)
    assert len(breaks) >= 2 and all(math.isfinite(x) for x in breaks)
    assert breaks == sorted(set(breaks))
    tol = (hi - lo) * 1e-6
    assert lo - tol <= breaks[0] and breaks[-1] <= hi + tol


@settings(max_examples=300, deadline=None)
@given(a=st.floats(1e-200, 1e200), b=st.floats(1e-200, 1e200))
def test_log_breaks_are_at_least_two_positive_and_increasing(a, b):
    breaks = log_breaks(a, b)
    assert len(breaks) >= 2 and all(x > 0 and math.isfinite(x) for x in breaks)
    assert breaks == sorted(set(breaks))


@pytest.mark.parametrize("values", [[], [math.nan], [math.inf, -math.inf], [3.0, 3.0], [0.0]])
def test_degenerate_ranges_still_give_two_breaks(values):
    assert len(linear_breaks(*span_of(values))) >= 2


def binary_review(k: int, n: int, risk: float, seed: int = 0, spread: float = 0.0):
    """Effects and pooled rows for k RR trials with n per arm and control risk ``risk``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(k):
        p_exp = min(max(risk * math.exp(rng.normal(0, spread)), 0), 1)
        a, c = rng.binomial(n, p_exp), rng.binomial(n, risk)
        yi, vi, _ = binary_effect("RR", a, n, c, n)
        rows.append(dict(condition="c", study_id=f"s{i:03d}", outcome="responders",
                         timepoint_weeks=4.0, measure="RR", yi=yi, vi=vi, sei=math.sqrt(vi),
                         ci_low=yi - 1.96 * math.sqrt(vi), ci_high=yi + 1.96 * math.sqrt(vi),
                         included=True, exclusion_reason="", label=f"Synthetic {i}",
                         year=2000 + i % 20, design="parallel", data_kind="binary",
                         higher_is_better=True, exp_n=n, ctl_n=n, exp_events=a, ctl_events=c))  # fmt: skip
    effects = pd.DataFrame(rows)
    return effects


def render_all(effects: pd.DataFrame, studies: pd.DataFrame | None = None) -> list[str]:
    pooled = pool_analyses(effects, tau2_method="REML", ci_method="hksj", level=0.95)
    studies = studies if studies is not None else effects[["study_id", "label", "year"]]
    sens = run_sensitivity(effects, studies, ci_method="hksj")
    names = []
    for name, plot in figures(effects, pooled, studies, sens):
        assert svg_bytes(plot).startswith(b"<?xml")
        names.append(name)
    return names


@pytest.mark.parametrize(
    ("k", "n", "risk"),
    [(8, 400, 0.4), (5, 100_000, 0.4), (6, 100_000, 0.001)],
    ids=["eight-consistent-trials", "n-1e5-per-arm", "rare-events"],
)
def test_probe_crashes_now_render(k, n, risk):
    names = render_all(binary_review(k, n, risk))
    assert any(n.startswith("funnel_") for n in names)


def test_identical_effects_and_zero_width_cis_render():
    effects = binary_review(6, 400, 0.4)
    effects[["yi", "vi"]] = [0.0, 1e-8]
    effects["sei"] = 1e-4
    effects["ci_low"] = effects["ci_high"] = 0.0
    render_all(effects)


def test_huge_range_of_ratios_renders():
    effects = binary_review(5, 40, 0.3)
    effects["yi"] = [-4.6, -2.0, 0.0, 3.0, 6.9]  # 0.01 to 1,000
    effects["vi"] = [4.0, 0.5, 0.01, 1.0, 9.0]
    render_all(effects)


def test_several_hundred_studies_render():
    effects = binary_review(300, 200, 0.3, spread=0.3)
    effects["label"] = [f"<b>Synthetic</b> & $x$ {'long ' * (i % 9)}{i}" for i in range(300)]
    pooled = pool_analyses(effects, tau2_method="DL", ci_method="z", level=0.95).iloc[0]
    assert svg_bytes(forest_plot(effects, pooled)).startswith(b"<?xml")
    assert svg_bytes(funnel_plot(effects, pooled)).startswith(b"<?xml")
