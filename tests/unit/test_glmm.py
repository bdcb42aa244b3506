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


def test_conditional_mode_search_does_not_cycle():
    """Found by `make fuzz` (issue 14): for an arm of 30/40 events against 7/10 at τ ≈ 3.2, full
    Newton steps clipped to ±5 jumped between u = 0 and u = 5 for all 100 iterations, so the
    quadrature was centred away from the mode. The AGQ log-likelihood must match direct
    numerical integration over u."""
    from scipy import integrate

    from metareview.stats.glmm import _study_log_lik

    alpha, beta, theta = 5.294, -7.9434659871891595, 3.195562739894968
    y1, n1, y2, n2 = 30.0, 40.0, 7.0, 10.0
    ours = _study_log_lik(
        np.array([alpha]), beta, theta, *(np.array([x]) for x in (y1, n1, y2, n2))
    )

    def log_binomial(y, n, eta):  # without the binomial coefficient
        return y * eta - n * np.logaddexp(0.0, eta)

    def integrand(u):
        eta1, eta2 = alpha + beta + theta * u / 2, alpha - theta * u / 2
        log_f = log_binomial(y1, n1, eta1) + log_binomial(y2, n2, eta2)
        return np.exp(log_f - u * u / 2) / np.sqrt(2 * np.pi)

    exact, _ = integrate.quad(integrand, -30, 30, limit=200, epsabs=0, epsrel=1e-12)
    assert ours[0] == pytest.approx(np.log(exact), rel=1e-6)


def test_a_hessian_not_positive_definite_gives_a_note_not_a_silent_nan(monkeypatch):
    """make fuzz hit a fit whose numerical Hessian at the optimum was not positive definite:
    ``sqrt`` of a negative variance gave NaN SE, CI and p-value with no note."""
    from metareview.stats import glmm

    monkeypatch.setattr(glmm, "_hessian", lambda fun, x, h: np.array([[-1.0, 0.0], [0.0, 1.0]]))
    fit = fit_um_fs([3, 5, 2], [40, 50, 30], [6, 9, 5], [40, 50, 30])
    assert "Hessian not positive definite" in fit.note
    assert all(np.isnan([fit.estimate, fit.se, fit.ci_low, fit.ci_high, fit.p_value]))
    assert fit.k == 3


def test_exactly_singular_hessian_is_reported_not_estimable():
    """Arms of 10⁶ to 10¹² participants leave the numerical Hessian at the optimum exactly
    singular: rule analyse_repeated raised LinAlgError (found by make fuzz). metafor's
    rma.glmm stops with "Cannot fit ML model" (tests/reference/fuzz_singular_models.R)."""
    fit = fit_um_fs([0, 0, 0, 1, 792], [2, 3, 10, 400, 1e12], [0, 0, 846, 5474, 1],
                    [3, 40, 1e6, 1e9, 400])  # fmt: skip
    assert (fit.k, fit.k_dropped) == (3, 2)
    assert np.isnan([fit.estimate, fit.se, fit.ci_low]).all()
    assert "Hessian not positive definite" in fit.note
