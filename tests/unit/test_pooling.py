"""Pooling: degenerate cases and invariants (metafor agreement is in test_reference_metafor.py)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from metareview.stats.pooling import pool
from metareview.stats.tau2 import TAU2_METHODS, estimate_tau2

METHODS = list(TAU2_METHODS)


def test_k1_reports_the_study_itself():
    r = pool([0.5], [0.04], tau2_method="REML", ci_method="hksj")
    assert r.k == 1 and r.estimate == 0.5 and r.se == pytest.approx(0.2)
    assert r.ci_method == "z" and r.ci_low == pytest.approx(0.5 - 1.959964 * 0.2, rel=1e-6)
    assert np.isnan(r.tau2) and np.isnan(r.pi_low) and "k = 1" in r.note


@pytest.mark.parametrize("method", METHODS)
def test_k2_pools_without_prediction_interval(method):
    r = pool([0.1, 0.6], [0.05, 0.08], tau2_method=method, ci_method="hksj")
    assert r.k == 2 and np.isfinite(r.estimate) and np.isfinite(r.ci_low)
    assert np.isnan(r.pi_low) and np.isnan(r.pi_high)


@pytest.mark.parametrize("method", METHODS)
def test_identical_effects_give_zero_heterogeneity(method):
    r = pool([0.3] * 4, [0.02, 0.05, 0.03, 0.08], tau2_method=method, ci_method="z")
    assert r.tau2 == 0.0 and r.i2 == 0.0 and r.h2 == 1.0 and r.q == pytest.approx(0.0, abs=1e-12)
    assert r.estimate == pytest.approx(0.3) and r.tau2_ci_low == 0.0 and r.tau2_ci_high == 0.0


def test_hksj_identical_effects_collapse_ci_like_metafor():
    r = pool([0.3] * 3, [0.02, 0.05, 0.03], ci_method="hksj")
    assert r.se == pytest.approx(0.0, abs=1e-12)


def test_dl_i2_equals_classic_formula_when_positive():
    y, v = [0.1, 0.9, -0.4, 0.5, 1.2], [0.05, 0.04, 0.09, 0.03, 0.06]
    r = pool(y, v, tau2_method="DL", ci_method="z")
    assert r.i2 == pytest.approx(100 * (r.q - r.q_df) / r.q, rel=1e-10)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="tau2_method"):
        pool([0.1, 0.2], [0.1, 0.1], tau2_method="FOO")
    with pytest.raises(ValueError, match="ci_method"):
        pool([0.1, 0.2], [0.1, 0.1], ci_method="t")


def test_pm_and_eb_solve_the_same_equation():
    y, v = [0.1, 0.9, -0.4, 0.5, 1.2], [0.05, 0.04, 0.09, 0.03, 0.06]
    assert estimate_tau2(y, v, method="PM").tau2 == pytest.approx(
        estimate_tau2(y, v, method="EB").tau2, rel=1e-12
    )


studies = st.lists(
    st.tuples(
        st.floats(-3, 3, allow_nan=False, allow_infinity=False),
        st.floats(0.005, 2.0, allow_nan=False, allow_infinity=False),
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(data=studies, method=st.sampled_from(METHODS), ci=st.sampled_from(["z", "hksj"]),
       seed=st.integers(0, 2**32 - 1))  # fmt: skip
def test_invariants(data, method, ci, seed):
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    r = pool(y, v, tau2_method=method, ci_method=ci)
    assert r.tau2 >= 0.0
    assert r.ci_low <= r.estimate <= r.ci_high
    assert y.min() - 1e-9 <= r.fe_estimate <= y.max() + 1e-9
    assert y.min() - 1e-9 <= r.estimate <= y.max() + 1e-9
    assert 0.0 <= r.i2 < 100.0 and r.h2 >= 1.0
    assert r.tau2_ci_low <= r.tau2_ci_high
    perm = np.random.default_rng(seed).permutation(y.size)
    s = pool(y[perm], v[perm], tau2_method=method, ci_method=ci)
    assert s.estimate == pytest.approx(r.estimate, rel=1e-7, abs=1e-9)
    assert s.tau2 == pytest.approx(r.tau2, rel=1e-6, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(data=studies.filter(lambda d: len(d) >= 3), method=st.sampled_from(METHODS))
def test_intervals_nest_as_level_grows(data, method):
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    narrow = pool(y, v, tau2_method=method, level=0.90)
    wide = pool(y, v, tau2_method=method, level=0.99)
    assert wide.ci_low <= narrow.ci_low and narrow.ci_high <= wide.ci_high
    assert wide.pi_low <= narrow.pi_low and narrow.pi_high <= wide.pi_high
    assert wide.tau2_ci_low <= narrow.tau2_ci_low + 1e-12
    assert narrow.tau2_ci_high <= wide.tau2_ci_high + 1e-12


@settings(max_examples=30, deadline=None)
@given(data=studies, shift=st.floats(-5, 5, allow_nan=False), method=st.sampled_from(METHODS))
def test_shifting_every_effect_shifts_the_estimate(data, shift, method):
    y = np.array([d[0] for d in data])
    v = np.array([d[1] for d in data])
    base = pool(y, v, tau2_method=method)
    moved = pool(y + shift, v, tau2_method=method)
    # A fit whose tau² did not converge (Fisher scoring cycles, as metafor's rma() stops with
    # "did not converge" on six (0, 1) and one (1.5, 0.25)) ends wherever its iterations stop:
    # it says so in its note and has no invariance to keep.
    assume("did not converge" not in base.note + moved.note)
    assert moved.estimate == pytest.approx(base.estimate + shift, abs=1e-7)
    assert moved.tau2 == pytest.approx(base.tau2, rel=1e-6, abs=1e-10)


def test_reml_that_cycles_says_it_did_not_converge():
    # Found by the shift property in a fresh clone's make test: REML's Fisher scoring cycles on
    # these (metafor 3.8-1: "Fisher scoring algorithm did not converge").
    y, v = np.array([0.0] * 6 + [1.5]), np.array([1.0] * 6 + [0.25])
    for shift in (0.0, 1.0):
        assert "tau2 did not converge" in pool(y + shift, v, tau2_method="REML").note


def test_trace_p_without_subtraction_equals_the_expanded_form_on_ordinary_weights():
    from metareview.stats.single import trace_p

    w = np.array([0.5, 2.0, 3.25, 10.0])
    assert trace_p(w, w.sum()) == pytest.approx(w.sum() - (w**2).sum() / w.sum(), rel=1e-14)
    assert trace_p(np.array([4.0]), 4.0) == 0.0  # k = 1


@pytest.mark.parametrize("tau2_method", ["DL", "REML", "PM", "SJ"])
def test_one_weight_dwarfing_the_other_gives_a_finite_fit(tau2_method):
    """Variances 1e-12 and 1e5 with effects 418 apart: Σw − Σw²/Σw cancelled to exactly 0, so
    DL's τ² was ∞ and pool() raised ZeroDivisionError (found while fixing the Peto case that
    make fuzz found). tr P for k = 2 is exactly 2·w₁w₂/(w₁ + w₂)."""
    r = pool([400.0, -18.1], [1e-12, 1e5], tau2_method=tau2_method)
    assert np.isfinite([r.estimate, r.se, r.tau2, r.ci_low, r.ci_high, r.q, r.i2, r.h2]).all()
    w1, w2 = (Fraction(1) / Fraction(v) for v in (1e-12, 1e5))
    mean = (w1 * Fraction(400.0) + w2 * Fraction(-18.1)) / (w1 + w2)
    q = w1 * (Fraction(400.0) - mean) ** 2 + w2 * (Fraction(-18.1) - mean) ** 2
    typical = (w1 + w2) / (2 * w1 * w2)  # (k − 1)/tr P, tr P = 2·w₁w₂/(w₁ + w₂)
    assert r.q == pytest.approx(float(q), rel=1e-12)
    if tau2_method == "DL":
        assert r.tau2 == pytest.approx(float((q - 1) / (1 / typical)), rel=1e-12)
    # (Σw)² − Σw² cancelled to 0 as well: s² was ∞, so I² = 0 and H² NaN whatever τ².
    # metafor 3.8-1 gives other numbers here (tests/reference/fuzz_singular_models.R): its Q
    # (1.311) and tr P lose digits; these are the exact ones.
    tau2 = Fraction(r.tau2)
    assert r.i2 == pytest.approx(float(100 * tau2 / (tau2 + typical)), rel=1e-12)
    assert r.h2 == pytest.approx(float((tau2 + typical) / typical), rel=1e-12)
