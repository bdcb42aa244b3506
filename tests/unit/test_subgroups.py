"""Subgroup pooling and the test for subgroup differences, against metafor and edge cases."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from metareview.stats.pooling import pool
from metareview.stats.subgroups import level_key, pool_levels, test_subgroup_differences

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


def reference_blocks() -> list:
    """One param per fixture analysis × tau² method × CI method with subgroup columns."""
    params = []
    for path in sorted((REFERENCE / "expected").glob("*.json")):
        case = json.loads(path.read_text())
        columns = case["config"].get("subgroups") or []
        if not columns:
            continue
        studies = pd.read_csv(REFERENCE / "cases" / path.stem / "data/raw/studies.csv")
        for a in case["analyses"]:
            info = studies.set_index("study_id").loc[a["escalc"]["study_id"]]
            yi, vi = np.array(a["escalc"]["yi"]), np.array(a["escalc"]["vi"])
            for method, by_ci in a.get("sensitivity", {}).items():
                for ci, block in by_ci.items():
                    name = f"{path.stem}-{a['measure']}-{method}-{ci}"
                    values = (yi, vi, info[columns], method, ci, block)
                    params.append(pytest.param(*values, id=name))
    reason = "no metafor fixtures with subgroups: run tests/reference/make_fixtures.R"
    return params or [pytest.param(*[None] * 6, marks=pytest.mark.skip(reason=reason))]


@pytest.mark.parametrize(("yi", "vi", "info", "method", "ci", "block"), reference_blocks())
def test_matches_metafor(yi, vi, info, method, ci, block):
    rtol = 1e-6 if method == "DL" else 1e-4
    expected = {(r["subgroup"], r["level"]): r for r in block["subgroups"]}
    tests = {r["subgroup"]: r for r in block["subgroup_tests"]}
    for column in info.columns:
        rows, _ = pool_levels(yi, vi, info[column], tau2_method=method, ci_method=ci)
        assert {(column, r["level"]) for r in rows} == {k for k in expected if k[0] == column}
        for row in rows:
            want = expected[(column, row["level"])]
            assert row["k"] == want["k"]
            for field in ("estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2"):
                if want[field] is None:  # a one-study level: no tau², no I²
                    assert np.isnan(row[field]) and row["note"], field
                else:
                    assert_allclose(row[field], want[field], rtol=rtol, atol=1e-9, err_msg=field)
        if len(rows) >= 2:
            q = test_subgroup_differences([r["estimate"] for r in rows], [r["se"] for r in rows])
            assert q.df == tests[column]["df"]
            assert_allclose(q.q_between, tests[column]["q_between"], rtol=rtol)
            assert_allclose(q.p_value, tests[column]["p_value"], rtol=rtol)
        else:
            assert column not in tests


YI = np.array([0.2, 0.5, -0.1, 0.8, 0.3])
VI = np.array([0.04, 0.09, 0.05, 0.2, 0.1])


def test_one_study_level_is_the_study_itself():
    rows, n_missing = pool_levels(YI, VI, ["a", "a", "b", "b", "c"], tau2_method="DL")
    single = rows[-1]
    assert (single["level"], single["k"], n_missing) == ("c", 1, 0)
    assert_allclose(single["estimate"], YI[4])
    assert_allclose(single["se"], np.sqrt(VI[4]))
    assert np.isnan(single["tau2"]) and np.isnan(single["i2"])
    assert "k = 1" in single["note"]


def test_each_level_has_its_own_tau2():
    rows, _ = pool_levels(YI, VI, ["a", "a", "a", "b", "b"], tau2_method="REML", ci_method="z")
    assert_allclose(rows[0]["tau2"], pool(YI[:3], VI[:3], tau2_method="REML").tau2)
    assert_allclose(rows[1]["estimate"], pool(YI[3:], VI[3:], ci_method="z").estimate)
    assert "prediction interval" not in rows[1]["note"]


def test_missing_values_form_no_level():
    rows, n_missing = pool_levels(YI, VI, ["a", None, np.nan, "", "a"], tau2_method="DL")
    assert [r["level"] for r in rows] == ["a"]
    assert rows[0]["k"] == 2 and n_missing == 3


def test_numeric_levels_print_without_decimal_zero():
    assert [level_key(v) for v in (2.0, 2.5, 3, "iv")] == ["2", "2.5", "3", "iv"]
    rows, _ = pool_levels(YI, VI, [1.0, 1.0, 2.0, 2.0, 2.0], tau2_method="DL")
    assert [r["level"] for r in rows] == ["1", "2"]


def test_q_between_is_the_common_effect_q_of_the_level_estimates():
    est, se = np.array([0.1, 0.5, 0.3]), np.array([0.1, 0.2, 0.15])
    w = 1 / se**2
    expected = np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2)
    result = test_subgroup_differences(est, se)
    assert result.df == 2
    assert_allclose(result.q_between, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="at least 2 levels"):
        test_subgroup_differences([0.1], [0.1])


def test_zero_standard_error_makes_q_undefined_with_a_note():
    result = test_subgroup_differences([0.1, 0.2], [0.0, 0.1])
    assert np.isnan(result.q_between) and "0" in result.note
