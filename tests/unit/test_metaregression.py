"""Mixed-effects meta-regression on one moderator, against metafor and edge cases."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from metareview.stats.metaregression import meta_regression, pseudo_r2
from metareview.stats.tau2 import TAU2_METHODS

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
FIELDS = ("k", "intercept", "intercept_se", "slope", "slope_se", "slope_ci_low", "slope_ci_high")
FIELDS += ("slope_p", "tau2", "r2")


def reference_blocks() -> list:
    """One param per fixture analysis × moderator × tau² method × CI method."""
    params = []
    for path in sorted((REFERENCE / "expected").glob("*.json")):
        case = json.loads(path.read_text())
        moderators = case["config"].get("moderators") or []
        if not moderators:
            continue
        studies = pd.read_csv(REFERENCE / "cases" / path.stem / "data/raw/studies.csv")
        for a in case["analyses"]:
            info = studies.set_index("study_id").loc[a["escalc"]["study_id"]]
            yi, vi = np.array(a["escalc"]["yi"]), np.array(a["escalc"]["vi"])
            for method, by_ci in a.get("sensitivity", {}).items():
                for ci, block in by_ci.items():
                    rows = {r["moderator"]: r for r in block["metaregression"]}
                    for column in moderators:
                        x = pd.to_numeric(info[column], errors="coerce").to_numpy(dtype=float)
                        name = f"{path.stem}-{a['measure']}-{column}-{method}-{ci}"
                        values = (yi, vi, x, method, ci, rows.get(column))
                        params.append(pytest.param(*values, id=name))
    reason = "no metafor fixtures with moderators: run tests/reference/make_fixtures.R"
    return params or [pytest.param(*[None] * 6, marks=pytest.mark.skip(reason=reason))]


@pytest.mark.parametrize(("yi", "vi", "x", "method", "ci", "expected"), reference_blocks())
def test_matches_metafor(yi, vi, x, method, ci, expected):
    fit = meta_regression(yi, vi, x, tau2_method=method, ci_method=ci)
    if expected is None:
        assert fit is None
        return
    rtol = 1e-6 if method == "DL" else 1e-4
    for field in FIELDS:
        assert_allclose(fit[field], expected[field], rtol=rtol, atol=1e-10, err_msg=field)


RNG = np.random.default_rng(11)
VI = RNG.uniform(0.02, 0.2, 10)
X = np.arange(10.0)
YI = 0.1 + 0.05 * X + RNG.normal(0, np.sqrt(VI + 0.03))


@pytest.mark.parametrize("method", TAU2_METHODS)
def test_every_tau2_method_fits(method):
    fit = meta_regression(YI, VI, X, tau2_method=method, ci_method="hksj")
    assert fit["k"] == 10 and fit["tau2"] >= 0 and 0 <= fit["r2"] <= 100
    assert fit["slope_ci_low"] < fit["slope"] < fit["slope_ci_high"]


def test_fewer_than_three_studies_or_one_value_give_no_row():
    assert meta_regression(YI[:2], VI[:2], X[:2]) is None
    assert meta_regression(YI, VI, np.full(10, 3.0)) is None
    # three studies but only two with a moderator value
    assert meta_regression(YI[:3], VI[:3], [1.0, np.nan, 2.0]) is None


def test_missing_moderator_values_are_dropped_and_counted():
    x = X.copy()
    x[[2, 5]] = np.nan
    fit = meta_regression(YI, VI, x, tau2_method="DL")
    keep = ~np.isnan(x)
    same = meta_regression(YI[keep], VI[keep], X[keep], tau2_method="DL")
    assert fit["k"] == 8 and fit["n_missing"] == 2
    assert_allclose(fit["slope"], same["slope"], rtol=1e-12)


def test_hksj_uses_t_with_k_minus_2_df():
    fit = meta_regression(YI, VI, X, tau2_method="DL", ci_method="hksj")
    z = meta_regression(YI, VI, X, tau2_method="DL", ci_method="z")
    assert_allclose(fit["slope"], z["slope"])
    half = (fit["slope_ci_high"] - fit["slope_ci_low"]) / 2
    assert_allclose(half, stats.t.ppf(0.975, 8) * fit["slope_se"], rtol=1e-12)


def test_pseudo_r2_rules_as_metafor():
    assert pseudo_r2(0.0, 0.0) == 0.0  # no heterogeneity to explain: 0 (metafor >= 2.1)
    assert pseudo_r2(0.1, 0.2) == 0.0  # truncated at 0
    assert_allclose(pseudo_r2(0.2, 0.05), 75.0)


# make fuzz (2026-11-22): sampling variances 400, 0.0025 and 1e-10 with moderator year
# (1997, 2016, 2016) make [1, year]ᵀW[1, year] singular in floating point: LinAlgError in rule
# analyse_sensitivity. metafor 3.8-1 rma(yi, vi, mods = ~ x) stops with "singular matrix 'a'
# in solve" for PM, DL and REML (tests/reference/fuzz_singular_models.R); we say so in a row.
@pytest.mark.parametrize("method", ["PM", "DL", "REML"])
def test_numerically_singular_design_gives_a_row_that_says_why(method):
    from metareview.stats.metaregression import SINGULAR

    yi = [-1.5873724797492124, 2.4557953084969046, 0.0]
    vi = [400.0, 2.5000000000000005e-03, 1.0000000000000002e-10]
    fit = meta_regression(yi, vi, [1997.0, 2016.0, 2016.0], tau2_method=method, ci_method="z")
    assert fit["k"] == 3 and fit["note"] == SINGULAR
    assert np.isnan([fit["slope"], fit["slope_se"], fit["tau2"], fit["r2"]]).all()


def test_design_rank_deficient_by_metafors_tolerance_is_not_estimable():
    """Invertible in floating point, singular for metafor's qr (tol 1e-7): metafor's rma stops
    with "singular matrix" for PM, REML and DL (tests/reference/fuzz_singular_models.R)."""
    from metareview.stats.metaregression import SINGULAR, rank_deficient

    yi = np.array([0.0, 0.2054964137677286, 0.0])
    vi = np.array([4.0, 0.09, 1.0000000000000625e-10])
    x = np.array([1990.0, 1994.0, 1994.0])
    assert rank_deficient(vi, np.column_stack([np.ones(3), x]))
    for method in ("PM", "REML", "DL"):
        row = meta_regression(yi, vi, x, tau2_method=method, ci_method="hksj")
        assert row["note"] == SINGULAR and np.isnan(row["slope_se"])
    # an ordinary design is not flagged
    assert not rank_deficient(np.array([0.1, 0.2, 0.3]), np.column_stack([np.ones(3), x]))
