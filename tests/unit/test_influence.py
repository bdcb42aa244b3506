"""Leave-one-out, influence diagnostics, cumulative and risk-of-bias sensitivity."""

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from metareview.stats.influence import (
    cumulative,
    influence_diagnostics,
    leave_one_out,
    without_high_risk,
)
from metareview.stats.pooling import pool

EXPECTED = Path(__file__).resolve().parents[1] / "reference" / "expected"
ESTIMATES = ("estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2", "q")
#: our column -> metafor's (influence.rma.uni)
DIAGNOSTICS = {"rstudent": "rstudent", "dffits": "dffits", "cooks_d": "cooks_d", "cov_r": "cov_r"}
DIAGNOSTICS |= {"tau2_del": "tau2_del", "qe_del": "q_del", "hat": "hat", "weight": "weight"}
DIAGNOSTICS |= {"dfbetas": "dfbs"}


def reference_blocks() -> list:
    """One param per fixture analysis × tau² method × CI method: (ids, yi, vi, method, ci, block)."""
    params = []
    for path in sorted(EXPECTED.glob("*.json")):
        case = json.loads(path.read_text())
        for a in case["analyses"]:
            es = a["escalc"]
            yi, vi = np.array(es["yi"]), np.array(es["vi"])
            for method, by_ci in a.get("sensitivity", {}).items():
                for ci, block in by_ci.items():
                    name = f"{path.stem}-{a['measure']}-{method}-{ci}"
                    values = (es["study_id"], yi, vi, method, ci, block)
                    params.append(pytest.param(*values, id=name))
    reason = "no metafor fixtures: run tests/reference/make_fixtures.R"
    return params or [pytest.param(*[None] * 6, marks=pytest.mark.skip(reason=reason))]


PARAMS = ("ids", "yi", "vi", "method", "ci", "block")


def tolerance(method: str) -> dict:
    """Closed form (DL) or iterative (REML, whose tau² near 0 may stop at ~1e-10 in metafor)."""
    return {"rtol": 1e-6, "atol": 1e-9} if method == "DL" else {"rtol": 1e-4, "atol": 1e-6}


@pytest.mark.parametrize(PARAMS, reference_blocks())
def test_leave_one_out_matches_metafor(ids, yi, vi, method, ci, block):
    rows = leave_one_out(yi, vi, tau2_method=method, ci_method=ci)
    expected = {r["omitted"]: r for r in block["leave_one_out"]}
    assert len(rows) == len(expected) == len(ids)
    for sid, row in zip(ids, rows, strict=True):
        for field in ESTIMATES:
            want = expected[sid][field]
            assert_allclose(row[field], want, **tolerance(method), err_msg=f"{sid} {field}")


@pytest.mark.parametrize(PARAMS, reference_blocks())
def test_influence_matches_metafor(ids, yi, vi, method, ci, block):
    rows = influence_diagnostics(yi, vi, tau2_method=method, ci_method=ci)
    if "influence_error" in block:
        # identical effects under HKSJ: metafor stops (Var(beta) = 0); ours are empty, noted
        assert np.ptp(yi) == 0 and ci == "hksj"
        assert all(np.isnan(r["cooks_d"]) and "Knapp-Hartung factor 0" in r["note"] for r in rows)
        return
    expected = {r["study_id"]: r for r in block["influence"]}
    for sid, row in zip(ids, rows, strict=True):
        want = expected[sid]
        for ours, theirs in DIAGNOSTICS.items():
            assert_allclose(row[ours], want[theirs], **tolerance(method), err_msg=f"{sid} {ours}")
        assert row["influential"] == want["is_infl"], sid


@pytest.mark.parametrize(PARAMS, reference_blocks())
def test_cumulative_matches_metafor(ids, yi, vi, method, ci, block):
    order = [ids.index(r["added"]) for r in block["cumulative"]]
    rows = cumulative(yi[order], vi[order], tau2_method=method, ci_method=ci)
    for step, (row, want) in enumerate(zip(rows, block["cumulative"], strict=True), start=1):
        assert row["k"] == step
        if want["estimate"] is None:  # metafor's REML did not converge; ours says so
            assert "did not converge" in row["note"]
            continue
        for field in ESTIMATES:
            if step == 1 and field in ("tau2", "i2"):
                # one study: metafor reports tau² = I² = 0; ours are empty with a note
                assert np.isnan(row[field]) and "k = 1" in row["note"]
                continue
            assert_allclose(
                row[field], want[field], **tolerance(method), err_msg=f"{step} {field}"
            )


RNG = np.random.default_rng(5)
VI = RNG.uniform(0.01, 0.2, 6)
YI = RNG.normal(0.3, np.sqrt(VI + 0.05))
YI[0] = 3.0  # an outlier


def test_fewer_than_three_studies_give_no_rows():
    assert leave_one_out(YI[:2], VI[:2]) == []
    assert influence_diagnostics(YI[:2], VI[:2]) == []


def test_leave_one_out_is_pool_without_the_study():
    rows = leave_one_out(YI, VI, tau2_method="PM", ci_method="z")
    fit = pool(YI[1:], VI[1:], tau2_method="PM", ci_method="z")
    assert rows[0]["k"] == 5
    assert_allclose(rows[0]["estimate"], fit.estimate, rtol=1e-12)
    assert_allclose(rows[0]["tau2"], fit.tau2, rtol=1e-12)


def test_outlier_is_flagged_influential():
    rows = influence_diagnostics(YI, VI, tau2_method="DL", ci_method="z")
    assert rows[0]["influential"]
    assert rows[0]["rstudent"] == max(r["rstudent"] for r in rows)
    assert_allclose(sum(r["weight"] for r in rows), 100.0)


def test_cumulative_first_step_is_the_first_study():
    rows = cumulative(YI, VI, tau2_method="REML", ci_method="hksj")
    assert [r["k"] for r in rows] == list(range(1, 7))
    assert_allclose(rows[0]["estimate"], YI[0])
    assert_allclose(rows[-1]["estimate"], pool(YI, VI, tau2_method="REML").estimate)


def test_without_high_risk_refits_on_the_rest():
    rob = ["high", "low", "some", None, "High", "low"]
    row = without_high_risk(YI, VI, rob, tau2_method="DL", ci_method="z")
    keep = [1, 2, 3, 5]
    assert (row["k_before"], row["k_after"], row["n_high"], row["n_unknown"]) == (6, 4, 2, 1)
    assert_allclose(
        row["estimate"], pool(YI[keep], VI[keep], tau2_method="DL", ci_method="z").estimate
    )


def test_all_studies_with_the_same_risk_of_bias():
    low = without_high_risk(YI, VI, ["low"] * 6, tau2_method="DL")
    assert low["k_after"] == 6 and "no study at high risk" in low["note"]
    assert_allclose(low["estimate"], pool(YI, VI, tau2_method="DL").estimate)
    high = without_high_risk(YI, VI, ["high"] * 6)
    assert high["k_after"] == 0 and np.isnan(high["estimate"])
    assert "every study" in high["note"]
    unknown = without_high_risk(YI, VI, [None] * 6)
    assert unknown["k_after"] == 6 and "not reported" in unknown["note"]


def test_one_study_left_after_removing_high_risk():
    row = without_high_risk(YI[:3], VI[:3], ["high", "high", "low"])
    assert row["k_after"] == 1 and np.isnan(row["tau2"]) and "k = 1" in row["note"]
    assert_allclose(row["estimate"], YI[2])
