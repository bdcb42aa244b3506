"""Mantel–Haenszel and Peto pooling against metafor 3.8 (rma.mh, rma.peto) fixtures."""

import json
from pathlib import Path

import numpy as np
import pytest

from metareview.stats.binary_pooling import pool_binary
from metareview.stats.mantel_haenszel import Tables, mantel_haenszel, peto

FIXTURES = json.loads(
    (Path(__file__).parents[1] / "reference" / "mantel_haenszel" / "expected.json").read_text()
)["sets"]
RTOL = 1e-10


def tables(name: str) -> Tables:
    s = FIXTURES[name]
    return Tables.from_counts(s["ai"], s["n1i"], s["ci"], s["n2i"])


@pytest.mark.parametrize("name", sorted(FIXTURES))
@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_mantel_haenszel_equals_rma_mh(name, measure):
    expected = FIXTURES[name][f"mh_{measure}"]
    fit = mantel_haenszel(tables(name), measure)
    assert fit.estimate == pytest.approx(expected["estimate"], rel=RTOL)
    assert fit.se == pytest.approx(expected["se"], rel=RTOL)
    assert fit.q == pytest.approx(expected["q"], rel=RTOL, abs=1e-12)
    assert fit.k_q == expected["k_yi"]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_peto_equals_rma_peto(name):
    expected = FIXTURES[name]["peto"]
    fit = peto(tables(name))
    assert fit.estimate == pytest.approx(expected["estimate"], rel=RTOL)
    assert fit.se == pytest.approx(expected["se"], rel=RTOL)
    assert fit.q == pytest.approx(expected["q"], rel=RTOL, abs=1e-12)


@pytest.mark.parametrize("name", sorted(FIXTURES))
@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_common_effect_row_has_metafor_ci_p_and_i2(name, measure):
    expected = FIXTURES[name][f"mh_{measure}"]
    row = pool_binary(tables(name), method="MH", measure=measure, model="common")
    assert row.estimate == pytest.approx(expected["estimate"], rel=RTOL)
    assert row.ci_low == pytest.approx(expected["ci_low"], rel=RTOL)
    assert row.ci_high == pytest.approx(expected["ci_high"], rel=RTOL)
    assert row.p_value == pytest.approx(expected["pval"], rel=1e-8)
    assert row.q_p == pytest.approx(expected["q_p"], rel=1e-8)
    assert row.i2 == pytest.approx(expected["i2"], rel=1e-8, abs=1e-10)
    assert np.isnan(row.tau2) and np.isnan(row.pi_low)


def test_random_effects_on_mh_basis_is_dl_from_the_mh_q():
    """RevMan 5: τ² = (Q_MH − df)/(Σw − Σw²/Σw); summary by inverse variance with 1/(v + τ²)."""
    t = tables("gad_1_1")
    fe = mantel_haenszel(t, "RR")
    row = pool_binary(t, method="MH", measure="RR", model="random", tau2_method="DL")
    w = 1 / fe.vi
    tau2 = (fe.q - (fe.k_q - 1)) / (w.sum() - (w**2).sum() / w.sum())
    assert row.tau2 == pytest.approx(tau2, rel=1e-12)
    wr = 1 / (fe.vi + tau2)
    assert row.estimate == pytest.approx((wr * fe.yi).sum() / wr.sum(), rel=1e-12)
    # The GAD review's RevMan 5.3 file stores these (analysis 1.1, RANDOM=YES, METHOD=MH).
    assert row.tau2 == pytest.approx(0.019392961162680272, rel=1e-10)
    assert np.exp(row.estimate) == pytest.approx(0.9469509208110545, rel=1e-10)
    assert row.q == pytest.approx(7.195167604981083, rel=1e-10)


def test_revman_zero_cell_correction_changes_only_tables_with_zero_cells():
    t = tables("fleiss1993")
    a = mantel_haenszel(t, "OR", correct_zero_cells=False)
    b = mantel_haenszel(t, "OR", correct_zero_cells=True)
    assert a.estimate == b.estimate  # no zero cells: identical
    z = tables("synthetic_zero_cells")
    assert mantel_haenszel(z, "OR", correct_zero_cells=True).estimate != pytest.approx(
        mantel_haenszel(z, "OR").estimate
    )


def test_peto_refuses_other_measures():
    with pytest.raises(ValueError, match="odds ratio"):
        pool_binary(tables("fleiss1993"), method="Peto", measure="RR")


def _corrected_mh_ratio(tables_: list[tuple[float, float, float, float]], measure: str) -> float:
    """log MH RR or OR of (a, n1, c, n2) tables after adding 0.5 to each cell of zero-cell ones,
    by hand."""
    num = den = 0.0
    for a, n1, c, n2 in tables_:
        b, d = n1 - a, n2 - c
        if 0 in (a, b, c, d):
            a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        n1, n2, n = a + b, c + d, a + b + c + d
        num += a * n2 / n if measure == "RR" else a * d / n
        den += c * n1 / n if measure == "RR" else b * c / n
    return float(np.log(num / den))


@pytest.mark.parametrize("measure", ["RR", "OR"])
def test_mh_ratio_of_zero_falls_back_to_revman_correction_with_a_note(measure):
    """No experimental events in any study: the observed MH ratio is 0 (log −∞) and metafor's
    rma.mh gives NA (tests/reference/fuzz_singular_models.R). We give RevMan's corrected
    estimate and say so, never −∞ (a review found by make fuzz)."""
    counts = [(0, 2, 100000, 100000), (0, 1_000_000, 22, 40)]
    t = Tables.from_counts(*zip(*[(a, n1, c, n2) for a, n1, c, n2 in counts], strict=True))
    fe = mantel_haenszel(t, measure)
    assert fe.estimate == pytest.approx(_corrected_mh_ratio(counts, measure), rel=1e-12)
    assert fe.estimate == mantel_haenszel(t, measure, correct_zero_cells=True).estimate
    assert np.isfinite(fe.se) and fe.se > 0
    assert "not estimable from the observed counts" in fe.note
    for tau2_method in ("DL", "REML"):
        row = pool_binary(t, method="MH", measure=measure, tau2_method=tau2_method)
        assert np.isfinite([row.estimate, row.se, row.fe_estimate, row.fe_se, row.q]).all()
        assert fe.note in row.note
    # a finite observed ratio is left alone
    assert mantel_haenszel(tables("synthetic_zero_cells"), measure).note == ""


def test_one_table_in_q_gives_metafor_q_of_zero_and_h2_of_one():
    """One of two tables has all events in both arms, so only one enters Q: rma.mh gives
    Q = 0, p = 1, I² = 0 and H² = 1 (tests/reference/fuzz_singular_models.R). metareview gave
    Q = 79,284 on 0 df and an empty H² (a review found by make fuzz)."""
    t = Tables.from_counts([400, 1e5], [400, 1e5], [400, 0], [400, 1e12])
    for model in ("common", "random"):
        row = pool_binary(t, method="MH", measure="RD", model=model)
        assert row.fe_estimate == pytest.approx(0.998003991816766, rel=1e-12)
        assert row.fe_se == pytest.approx(9.97007581941478e-05, rel=1e-9)
        assert (row.q, row.q_df, row.q_p, row.i2, row.h2) == (0.0, 0, 1.0, 0.0, 1.0)
    assert row.tau2 == 0.0 and row.estimate == row.fe_estimate
    assert "fewer than 2 estimable studies" in row.note


@pytest.mark.parametrize("tau2_method", ["DL", "REML"])
def test_two_tables_in_the_random_effects_model_have_no_prediction_interval_and_say_why(
    tau2_method,
):
    """k = 3, but one table has no events in either arm, so two enter Q and the random-effects
    model: its PI would have k − 2 = 0 df. The row said nothing (a review found by make fuzz)."""
    from metareview.stats.binary_pooling import NO_PI

    t = Tables.from_counts([1e12, 0, 2], [1e12, 2, 2], [170, 0, 0], [400, 1e6, 10])
    row = pool_binary(t, method="MH", measure="RD", tau2_method=tau2_method)
    assert row.k == 3 and row.q_df == 1
    assert np.isnan([row.pi_low, row.pi_high]).all()
    assert np.isfinite([row.estimate, row.se, row.ci_low, row.ci_high]).all()
    assert NO_PI in row.note
    three = Tables.from_counts([1e12, 1, 2], [1e12, 2, 2], [170, 0, 0], [400, 1e6, 10])
    assert NO_PI not in pool_binary(three, method="MH", measure="RD").note


def test_peto_random_effects_with_one_dominant_table_has_a_finite_dl_tau2():
    """Peto variances of 8e-12 (arms of 10^12) and 1.6e6 (10^9 next to 10): Σw − Σw²/Σw
    cancelled to exactly 0, so τ² was ∞ and the estimate NaN (a review found by make fuzz,
    large profile). tr P for k = 2 is exactly 2·w₁w₂/(w₁ + w₂)."""
    from fractions import Fraction

    t = Tables.from_counts([1e12, 53], [1e12, 1e9], [0, 8], [1e12, 10])
    row = pool_binary(t, method="Peto", measure="OR", model="random", level=0.99)
    fe = peto(t)
    w1, w2 = (Fraction(1) / Fraction(float(v)) for v in fe.vi)
    tau2 = (Fraction(float(fe.q)) - 1) / (2 * w1 * w2 / (w1 + w2))
    assert row.tau2 == pytest.approx(float(tau2), rel=1e-12)
    assert np.isfinite([row.estimate, row.se, row.ci_low, row.ci_high, row.p_value]).all()
    wr = 1 / (fe.vi + row.tau2)
    assert row.estimate == pytest.approx((wr * fe.yi).sum() / wr.sum(), rel=1e-12)
