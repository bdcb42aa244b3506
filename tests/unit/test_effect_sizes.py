"""Effect sizes against closed-form values (metafor's escalc formulas)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from metareview.conversions import (
    ArmSummary,
    ConversionError,
    arm_summary,
    fivenum_to_mean_sd,
    sd_from_ci,
)
from metareview.effect_sizes import (
    EffectOptions,
    binary_effect,
    continuous_effect,
    hedges_correction,
    row_effect,
)


def arm(mean, sd):
    return ArmSummary(mean, sd, "sd", "")


def test_hedges_exact_correction_matches_gamma_ratio():
    m = 43
    expected = special.gamma(m / 2) / (math.sqrt(m / 2) * special.gamma((m - 1) / 2))
    assert hedges_correction(m) == pytest.approx(expected, rel=1e-12)
    assert hedges_correction(m) != pytest.approx(1 - 3 / (4 * m - 1), rel=1e-9)


def test_smd_worked_example_from_anchors():
    # ANCHORS.md §c1: n1=20, n2=25, means 1.0/0.5, SDs 1.0/1.2 -> g = 0.44014, metafor LS v = 0.092152
    g, v = continuous_effect("SMD", arm(1.0, 1.0), arm(0.5, 1.2), 20, 25)
    assert g == pytest.approx(0.44014, abs=5e-6)
    assert v == pytest.approx(0.092152, abs=5e-7)


def test_md_and_rom():
    yi, vi = continuous_effect("MD", arm(3.0, 2.0), arm(5.0, 1.0), 10, 20)
    assert (yi, vi) == pytest.approx((-2.0, 0.4 + 0.05))
    yi, vi = continuous_effect("ROM", arm(3.0, 2.0), arm(5.0, 1.0), 10, 20)
    assert yi == pytest.approx(math.log(0.6))
    assert vi == pytest.approx(4 / (10 * 9) + 1 / (20 * 25))


def test_binary_zero_cell_adds_half_to_all_cells():
    yi, vi, corrected = binary_effect("RR", 0, 10, 3, 10)
    assert corrected
    assert yi == pytest.approx(math.log((0.5 / 11) / (3.5 / 11)))
    assert vi == pytest.approx(1 / 0.5 - 1 / 11 + 1 / 3.5 - 1 / 11)


def test_binary_without_zero_cells_is_not_corrected():
    yi, vi, corrected = binary_effect("OR", 3, 20, 5, 20)
    assert not corrected
    assert yi == pytest.approx(math.log(3 * 15 / (17 * 5)))  # -0.636, unlike statsmodels' -0.581


@pytest.mark.parametrize("measure", ["RR", "OR"])
def test_double_zero_excluded_for_ratio_measures(measure):
    from metareview.effect_sizes import Exclusion

    with pytest.raises(Exclusion, match="no events in both arms"):
        binary_effect(measure, 0, 10, 0, 12)


def test_double_zero_kept_for_rd():
    yi, vi, corrected = binary_effect("RD", 0, 10, 0, 10)
    assert corrected and yi == 0.0 and vi > 0


def test_sd_from_ci_uses_t_quantile():
    assert sd_from_ci(4.0, 6.0, 15) == pytest.approx(
        math.sqrt(15) * 2 / (2 * stats.t.ppf(0.975, 14))
    )


def test_arm_summary_prefers_sd_then_se_then_ci():
    base = dict(n=25, mean=5.0, sd=None, se=None, ci_low=None, ci_high=None, median=None,
                q1=None, q3=None, min=None, max=None)  # fmt: skip
    assert arm_summary({**base, "sd": 2.0, "se": 9.0}).source == "sd"
    assert arm_summary({**base, "se": 0.4}).sd == pytest.approx(2.0)
    assert arm_summary({**base, "ci_low": 4.0, "ci_high": 6.0}).source == "ci"


def test_fivenum_luo_wan_for_symmetric_quartiles():
    mean, sd, source = fivenum_to_mean_sd(50, 5.0, q1=4.0, q3=6.0)
    eta = 2 * stats.norm.ppf((0.75 * 50 - 0.125) / 50.25)
    assert mean == pytest.approx(5.0)
    assert sd == pytest.approx(2.0 / eta)
    assert source == "median_iqr"


def test_fivenum_refuses_skewed_or_tiny_samples():
    with pytest.raises(ConversionError, match="skewness"):
        fivenum_to_mean_sd(100, 1.0, q1=0.9, q3=6.0)
    with pytest.raises(ConversionError, match="n ≥ 5"):
        fivenum_to_mean_sd(4, 5.0, q1=4.0, q3=6.0)


def row(**values):
    base = {"data_kind": "continuous", "design": "parallel", "higher_is_better": False,
            "assumptions": "", "effect_measure": ""}  # fmt: skip
    return pd.Series({**base, **values})


def test_higher_is_better_flips_continuous_sign():
    r = row(exp_n=10, ctl_n=10, exp_mean=6.0, exp_sd=1.0, ctl_mean=5.0, ctl_sd=1.0)
    plain = row_effect(r, EffectOptions())
    flipped = row_effect(r.copy().replace({False: True}), EffectOptions())
    assert plain["yi"] == pytest.approx(1.0)
    assert flipped["yi"] == pytest.approx(-1.0) and flipped["sign_flipped"]


def test_binary_never_flipped():
    r = row(
        data_kind="binary", exp_n=10, ctl_n=10, exp_events=6, ctl_events=3, higher_is_better=True
    )
    out = row_effect(r, EffectOptions())
    assert out["yi"] == pytest.approx(math.log(2.0)) and not out["sign_flipped"]


def test_scale_harmonization_for_md_only():
    r = row(exp_n=10, ctl_n=10, exp_mean=40.0, exp_sd=20.0, ctl_mean=60.0, ctl_sd=10.0,
            scale_min=0.0, scale_max=100.0)  # fmt: skip
    md = row_effect(r, EffectOptions(harmonize_scale_to=10))
    assert md["yi"] == pytest.approx(-2.0)
    assert md["vi"] == pytest.approx(4 / 10 + 1 / 10)
    smd = row_effect(r, EffectOptions(measure_continuous="SMD", harmonize_scale_to=10))
    smd_raw = row_effect(r, EffectOptions(measure_continuous="SMD"))
    assert smd["yi"] == pytest.approx(smd_raw["yi"])


def test_generic_ratio_row_se_from_ci_on_log_scale():
    r = row(
        data_kind="generic", effect=2.0, effect_ci_low=1.0, effect_ci_high=4.0, effect_measure="RR"
    )
    out = row_effect(r, EffectOptions())
    assert out["yi"] == pytest.approx(math.log(2.0))
    assert out["vi"] == pytest.approx((math.log(4.0) / (2 * 1.959964)) ** 2)


def test_generic_row_in_other_measure_is_excluded_with_reason():
    r = row(data_kind="generic", effect=-1.0, effect_se=0.5, effect_measure="MD")
    out = row_effect(r, EffectOptions(measure_continuous="SMD"))
    assert not out["included"] and "cannot be converted" in out["exclusion_reason"]


def test_crossover_flagged_as_parallel_by_default():
    r = row(
        design="crossover", exp_n=10, ctl_n=10, exp_mean=6.0, exp_sd=1.0, ctl_mean=5.0, ctl_sd=1.0
    )
    out = row_effect(r, EffectOptions())
    assert "parallel groups" in out["assumptions"]
    paired = row_effect(r, EffectOptions(crossover_correlation=0.5))
    assert paired["vi"] == pytest.approx(out["vi"] - 2 * 0.5 * 1 * 1 / 10)
    assert np.isfinite(paired["yi"])


def test_plausibility_warns_on_small_sd_and_on_sd_beyond_scale():
    small = row(exp_n=30, ctl_n=30, exp_mean=2.68, exp_sd=0.51, ctl_mean=5.45, ctl_sd=0.48,
                scale_min=0.0, scale_max=10.0)  # fmt: skip
    out = row_effect(small, EffectOptions())
    assert "implausibly small" in out["plausibility_warnings"] and out["included"]
    big = row(exp_n=30, ctl_n=30, exp_mean=5.0, exp_se=2.5, ctl_mean=5.0, ctl_se=2.5,
              scale_min=0.0, scale_max=10.0)  # fmt: skip
    assert "was the ± an SD?" in row_effect(big, EffectOptions())["plausibility_warnings"]
    fine = row(exp_n=30, ctl_n=30, exp_mean=5.0, exp_sd=2.0, ctl_mean=5.0, ctl_sd=2.0,
               scale_min=0.0, scale_max=10.0)  # fmt: skip
    assert row_effect(fine, EffectOptions())["plausibility_warnings"] == ""
