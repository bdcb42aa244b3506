"""Binomial-normal UM.FS model against metafor 3.8-1 rma.glmm / lme4 (fixtures:
tests/reference/make_fixtures_multilevel.R → repeated/multilevel.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from metareview.stats.glmm import fit_um_fs

FIXTURE = json.loads(
    (Path(__file__).parents[1] / "reference" / "repeated" / "multilevel.json").read_text()
)
DESIGNS = {d["design"]: d for d in FIXTURE["glmm"]}
KEYS = ("estimate", "se", "ci_low", "ci_high")


@pytest.fixture(scope="module")
def fits():
    return {
        name: fit_um_fs(d["data"]["ai"], d["data"]["n1i"], d["data"]["ci"], d["data"]["n2i"])
        for name, d in DESIGNS.items()
    }


@pytest.mark.parametrize("design", list(DESIGNS))
def test_um_fs_matches_rma_glmm_with_a_tight_optimiser(fits, design):
    fit, expected = fits[design], DESIGNS[design]["tight"]
    assert fit.k == expected["k"]
    for key in KEYS:
        assert getattr(fit, key) == pytest.approx(expected[key], rel=1e-5), key
    # a small p-value multiplies the relative error of z by about z²
    assert fit.p_value == pytest.approx(expected["p_value"], rel=1e-4)
    assert fit.tau2 == pytest.approx(expected["tau2"], abs=1e-6)


@pytest.mark.parametrize("design", list(DESIGNS))
def test_um_fs_matches_rma_glmm_defaults(fits, design):
    """lme4's default optimiser stops short of the maximum: 3e-4 on nielweise2007, < 1e-4 else."""
    fit, expected = fits[design], DESIGNS[design]["default"]
    rel = 1e-3 if design == "nielweise2007" else 1e-4
    for key in KEYS:
        assert getattr(fit, key) == pytest.approx(expected[key], rel=rel), key
    assert fit.p_value == pytest.approx(expected["p_value"], rel=30 * rel)
    assert fit.tau2 == pytest.approx(expected["tau2"], abs=1e-3 if rel == 1e-3 else 1e-4)


def test_double_zero_study_is_dropped_like_drop00(fits):
    sparse = DESIGNS["sparse"]["data"]
    assert sum(a == 0 and c == 0 for a, c in zip(sparse["ai"], sparse["ci"], strict=True)) == 1
    assert fits["sparse"].k_dropped == 1
    assert fits["sparse"].k == len(sparse["ai"]) - 1


def test_boundary_tau2_is_exactly_zero(fits):
    assert fits["tau2_zero"].tau2 == 0.0


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        (([0, 0], [20, 20], [0, 0], [20, 20]), "0 studies"),
        (([0, 3], [20, 20], [0, 0], [20, 20]), "1 study"),
        (([0, 0, 0], [20, 20, 20], [2, 1, 3], [20, 20, 20]), "not estimable"),
    ],
)
def test_degenerate_data_give_a_documented_empty_result(counts, reason):
    fit = fit_um_fs(*counts)
    assert np.isnan(fit.estimate)
    assert reason in fit.note
