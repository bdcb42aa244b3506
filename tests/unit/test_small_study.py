"""Egger, Begg and trim-and-fill against metafor (``tests/reference/expected``) and edge cases."""

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from metareview.stats.pooling import pool
from metareview.stats.small_study import (
    egger_test,
    kendall_p_value,
    kendall_tau_b,
    rank_test,
    small_study_tests,
    trim_and_fill,
)

EXPECTED = Path(__file__).resolve().parents[1] / "reference" / "expected"
CLOSED, TRIMFILL = 1e-6, 2e-3


def reference_blocks(part: str) -> list:
    """One param per fixture analysis × tau² method × CI method: (yi, vi, method, ci, block)."""
    params = []
    for path in sorted(EXPECTED.glob("*.json")):
        case = json.loads(path.read_text())
        for a in case["analyses"]:
            yi, vi = np.array(a["escalc"]["yi"]), np.array(a["escalc"]["vi"])
            for method, by_ci in a.get("sensitivity", {}).items():
                for ci, block in by_ci.items():
                    name = f"{path.stem}-{a['measure']}-{method}-{ci}"
                    params.append(pytest.param(yi, vi, method, ci, block[part], id=name))
    reason = "no metafor fixtures: run tests/reference/make_fixtures.R"
    return params or [pytest.param(*[None] * 5, marks=pytest.mark.skip(reason=reason))]


@pytest.mark.parametrize(("yi", "vi", "method", "ci", "expected"), reference_blocks("small_study"))
def test_matches_metafor(yi, vi, method, ci, expected):
    row = small_study_tests(yi, vi, tau2_method=method, ci_method=ci)
    if np.ptp(yi) == 0:
        # metafor's Egger t and Kendall's tau are floating-point noise here and its
        # trim-and-fill does not converge; ours are undefined (noted) and k0 = 0
        assert np.isnan(row["egger_t"]) and np.isnan(row["begg_tau"])
        assert "undefined" in row["note"] and row["trimfill_k0"] == 0
        return
    assert row["egger_df"] == expected["egger_df"]
    assert_allclose(row["egger_t"], expected["egger_t"], rtol=CLOSED)
    assert_allclose(row["egger_p"], expected["egger_p"], rtol=CLOSED)
    assert_allclose(row["begg_tau"], expected["begg_tau"], rtol=CLOSED, atol=1e-12)
    assert_allclose(row["begg_p"], expected["begg_p"], rtol=CLOSED)
    assert row["trimfill_k0"] == expected["trimfill_k0"]
    assert row["trimfill_side"] == expected["trimfill_side"]
    filled = np.array(row["filled"]).reshape(-1, 2)
    assert_allclose(filled[:, 0], expected["trimfill_filled_yi"], rtol=TRIMFILL)
    assert_allclose(filled[:, 1], expected["trimfill_filled_vi"], rtol=CLOSED)
    # metafor refits the filled data with test="z" unless test= is passed on; we follow ci_method
    fit = expected.get("trimfill_refit_knha") if ci == "hksj" and row["trimfill_k0"] else None
    fit = fit or {f: expected[f"trimfill_{f}"] for f in ("estimate", "ci_low", "ci_high")}
    for field in ("estimate", "ci_low", "ci_high"):
        assert_allclose(row[f"trimfill_{field}"], fit[field], rtol=TRIMFILL, err_msg=field)


def test_kendall_exact_p_value_matches_r():
    # R 4.2: cor.test(x, y, method = "kendall", exact = TRUE)
    x = [0.3, -1.2, 0.8, 2.1, -0.4, 1.7, 0.05]
    y = [0.1, 0.5, 0.2, 0.9, 0.3, 0.7, 0.4]
    tau = kendall_tau_b(x, y)
    assert_allclose(tau, 0.23809523809523808, rtol=1e-12)
    assert_allclose(kendall_p_value(x, y, tau), 0.56190476190476191, rtol=1e-12)


def test_kendall_ties_use_normal_approximation_as_r():
    # R 4.2 (warns "Cannot compute exact p-value with ties" and uses z with tie correction)
    x = [0.3, -1.2, 0.8, 2.1, 0.8, 1.7, 0.05]
    y = [0.1, 0.5, 0.2, 0.9, 0.3, 0.7, 0.5]
    tau = kendall_tau_b(x, y)
    assert_allclose(tau, 0.34999999999999992, rtol=1e-12)
    assert_allclose(kendall_p_value(x, y, tau), 0.28225923269284486, rtol=1e-12)
    assert_allclose(tau, stats.kendalltau(x, y).statistic, rtol=1e-12)


def test_kendall_exact_agrees_with_scipy_for_larger_n():
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    y = x + 2 * rng.normal(size=60)
    tau = kendall_tau_b(x, y)
    expected = stats.kendalltau(x, y, method="exact")
    assert_allclose(tau, expected.statistic, rtol=1e-12)
    assert_allclose(kendall_p_value(x, y, tau), expected.pvalue, rtol=1e-9)


def test_fewer_than_three_studies_give_no_row():
    assert small_study_tests([0.1, 0.3], [0.1, 0.2]) is None
    assert np.isnan(egger_test([0.1, 0.3], [0.1, 0.2]).statistic)
    assert np.isnan(rank_test([0.1, 0.3], [0.1, 0.2]).statistic)
    with pytest.raises(ValueError, match="at least 3"):
        trim_and_fill([0.1, 0.3], [0.1, 0.2])


def test_equal_variances_leave_every_test_undefined_with_a_note():
    row = small_study_tests([0.1, 0.5, 0.9], [0.04, 0.04, 0.04], tau2_method="DL")
    for column in ("egger_t", "egger_p", "begg_tau", "begg_p", "trimfill_estimate"):
        assert np.isnan(row[column]), column
    assert "standard errors are equal" in row["note"]
    assert "trim-and-fill side undefined" in row["note"]


def test_underpowered_below_ten_studies():
    rng = np.random.default_rng(7)
    vi = rng.uniform(0.02, 0.3, 12)
    yi = rng.normal(0.2, np.sqrt(vi))
    assert small_study_tests(yi[:9], vi[:9], tau2_method="DL")["underpowered"]
    assert not small_study_tests(yi, vi, tau2_method="DL")["underpowered"]


def test_trim_and_fill_mirrors_studies_on_the_missing_side():
    # small studies only with large effects: studies are missing on the left
    yi = np.array([0.10, 0.12, 0.08, 0.45, 0.60, 0.75, 0.90])
    vi = np.array([0.005, 0.006, 0.005, 0.05, 0.08, 0.12, 0.2])
    right = trim_and_fill(yi, vi, tau2_method="DL", ci_method="z")
    assert right.side == "left" and right.k0 > 0
    assert right.estimate < pool(yi, vi, tau2_method="DL", ci_method="z").estimate
    # flipping the data flips the side and mirrors the filled studies
    left = trim_and_fill(-yi, vi, tau2_method="DL", ci_method="z")
    assert left.side == "right" and left.k0 == right.k0
    assert_allclose(left.filled_yi, -np.array(right.filled_yi), rtol=1e-12)
    assert_allclose(left.estimate, -right.estimate, rtol=1e-12)


def test_trimfill_side_is_undefined_when_square_roots_of_variances_are_equal():
    """make fuzz: variances one rounding step apart passed the 'all variances equal' check,
    but their square roots are equal, so the side regression was singular (LinAlgError)."""
    from metareview.stats.options import FitOptions
    from metareview.stats.small_study import small_study_tests

    v = 0.04
    vi = np.array([v, np.nextafter(v, 1), v, v, np.nextafter(v, 1)])
    assert np.ptp(vi) > 0 and np.ptp(np.sqrt(vi)) == 0
    yi = np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    row = small_study_tests(yi, vi, FitOptions(tau2_method="PM"))
    assert np.isnan(row["trimfill_estimate"])
    assert "trim-and-fill side undefined" in row["note"]


def test_singular_side_regression_gives_a_note(monkeypatch):
    """Found by `make fuzz` (issue 14): square roots of the variances a rounding step apart
    passed the equality check, and the side regression's Fisher step was singular."""
    from metareview.stats import small_study
    from metareview.stats.options import FitOptions

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(small_study, "estimate_side", singular)
    row, filled, note = small_study._trimfill_columns(
        np.array([0.1, 0.2, 0.3]), np.array([0.04, 0.05, 0.06]), FitOptions()
    )
    assert note == "variances nearly equal: trim-and-fill side undefined"
    assert filled == [] and np.isnan(row["trimfill_estimate"]) and row["trimfill_side"] == ""
