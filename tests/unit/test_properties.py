"""Property and degenerate-data tests over generated SYNTHETIC datasets (issue 6)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metareview.analyses import pool_analyses
from metareview.effect_sizes import EffectOptions, row_effect
from metareview.stats.pooling import pool

arm_values = st.tuples(
    st.integers(5, 200), st.floats(0, 10), st.floats(0.1, 5), st.integers(5, 200),
    st.floats(0, 10), st.floats(0.1, 5),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(arms=arm_values, shift=st.floats(-50, 50, allow_nan=False))
def test_md_is_unchanged_when_both_arms_shift(arms, shift):
    n1, m1, s1, n2, m2, s2 = arms
    base = dict(data_kind="continuous", design="parallel", higher_is_better=False, assumptions="",
                effect_measure="", exp_n=n1, exp_sd=s1, ctl_n=n2, ctl_sd=s2)  # fmt: skip
    plain = row_effect(pd.Series({**base, "exp_mean": m1, "ctl_mean": m2}), EffectOptions())
    moved = row_effect(
        pd.Series({**base, "exp_mean": m1 + shift, "ctl_mean": m2 + shift}), EffectOptions()
    )
    assert moved["yi"] == pytest.approx(plain["yi"], abs=1e-9)
    assert moved["vi"] == pytest.approx(plain["vi"], rel=1e-12)


def effects_table(rng, k_per, conditions=("crps", "fibromyalgia")):
    rows = []
    for condition in conditions:
        for i in range(k_per):
            rows.append(dict(condition=condition, study_id=f"s{i}", outcome="pain_intensity",
                             timepoint_weeks=1.0, measure="MD", yi=rng.normal(-1, 0.7),
                             vi=rng.uniform(0.05, 0.5), included=True, higher_is_better=False))  # fmt: skip
    return pd.DataFrame(rows)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 8))
def test_pooled_table_is_invariant_to_row_order_across_files(seed, k):
    rng = np.random.default_rng(seed)
    effects = effects_table(rng, k)
    shuffled = effects.sample(frac=1, random_state=seed % 2**31).reset_index(drop=True)
    a = pool_analyses(effects, tau2_method="REML", ci_method="hksj", level=0.95)
    b = pool_analyses(shuffled, tau2_method="REML", ci_method="hksj", level=0.95)
    pd.testing.assert_frame_equal(a, b, rtol=1e-7, atol=1e-10)


def test_one_huge_study_dominates_without_breaking_anything():
    r = pool([-1.0, 0.2, 0.1, 0.3], [1e-6, 0.2, 0.3, 0.25], tau2_method="REML")
    assert np.isfinite([r.estimate, r.se, r.tau2, r.tau2_ci_high, r.pi_low]).all()
    assert r.fe_estimate == pytest.approx(-1.0, abs=1e-4)  # the common effect is the huge study
    assert sum(r.weights) == pytest.approx(100.0) and r.tau2 > 0  # heterogeneity evens RE weights


@pytest.mark.parametrize("method", ["DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB"])
def test_tiny_variances_give_finite_results(method):
    r = pool([0.10, 0.12, 0.11, 0.13], [1e-10, 2e-10, 1.5e-10, 1e-10], tau2_method=method)
    values = [r.estimate, r.se, r.ci_low, r.ci_high, r.tau2, r.i2, r.h2, r.q, r.fe_se]
    assert np.isfinite(values).all() and r.tau2 > 0


def test_all_studies_with_zero_events_are_excluded_for_rr_with_reasons():
    rows = [dict(data_kind="binary", design="parallel", higher_is_better=False, assumptions="",
                 effect_measure="", exp_n=20, ctl_n=20, exp_events=0, ctl_events=0)] * 3  # fmt: skip
    outs = [row_effect(pd.Series(r), EffectOptions()) for r in rows]
    assert all(
        not o["included"] and "no events in both arms" in o["exclusion_reason"] for o in outs
    )
    rd = [row_effect(pd.Series(r), EffectOptions(measure_binary="RD")) for r in rows]
    assert all(o["included"] and o["yi"] == 0.0 for o in rd)
