"""Three-level model (rma.mv REML) and CR2/Satterthwaite inference against metafor 3.8-1 and
clubSandwich (fixtures: tests/reference/make_fixtures_multilevel.R → repeated/multilevel.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from metareview.stats.multilevel import fit_multilevel, time_covariate
from metareview.stats.robust import CR2, cr2_satterthwaite

FIXTURE = json.loads(
    (Path(__file__).parents[1] / "reference" / "repeated" / "multilevel.json").read_text()
)
CASES = [(design, moderator) for design in FIXTURE["multilevel"] for moderator in design["models"]]


def _fit(design, moderator):
    data = design["data"]
    yi, vi = np.array(data["yi"], float), np.array(data["vi"], float)
    study, weeks = np.array(data["study"]), np.array(data["weeks"], float)
    if moderator == "none":
        return fit_multilevel(yi, vi, study), None
    x = time_covariate(weeks, moderator)
    keep = ~np.isnan(x)
    X = np.column_stack([np.ones(keep.sum()), x[keep]])
    fit = fit_multilevel(yi[keep], vi[keep], study[keep], X, terms=("intercept", moderator))
    return fit, x


@pytest.mark.parametrize(
    ("design", "moderator"), CASES, ids=[f"{d['design']}-{m}" for d, m in CASES]
)
def test_rma_mv_reml_matches_metafor(design, moderator):
    expected = design["models"][moderator]
    fit, _ = _fit(design, moderator)
    assert fit.k_studies == expected["k_studies"]
    assert fit.k_effects == expected["k_effects"]
    # metafor optimises log sigma2 (nlminb): at the boundary it stops at ~1e-10, we at 0
    assert fit.sigma2_study == pytest.approx(expected["sigma2_study"], abs=1e-6)
    assert fit.sigma2_effect == pytest.approx(expected["sigma2_effect"], abs=1e-6)
    for ours, key in [(fit.beta, "estimate"), (fit.se, "se"), (fit.ci_low, "ci_low"),
                      (fit.ci_high, "ci_high"), (fit.p_value, "p_value")]:  # fmt: skip
        np.testing.assert_allclose(ours, expected[key], rtol=1e-6, atol=1e-9, err_msg=key)


@pytest.mark.parametrize(
    ("design", "moderator"), CASES, ids=[f"{d['design']}-{m}" for d, m in CASES]
)
def test_cr2_satterthwaite_matches_clubsandwich(design, moderator):
    expected = design["models"][moderator]["robust"]
    fit, _ = _fit(design, moderator)
    robust = cr2_satterthwaite(fit.X, fit.yi, fit.V, fit.beta, fit.cluster)
    for key in ("se", "df", "ci_low", "ci_high", "p_value"):
        np.testing.assert_allclose(getattr(robust, key), expected[key], rtol=1e-6, err_msg=key)


@pytest.mark.parametrize(
    ("design", "moderator"),
    [c for c in CASES if c[1] != "none"],
    ids=[f"{d['design']}-{m}" for d, m in CASES if m != "none"],
)
def test_predictions_at_chosen_times_match_predict_rma(design, moderator):
    expected = design["models"][moderator]["predict"]
    fit, _ = _fit(design, moderator)
    x = time_covariate(expected["weeks"], moderator)
    pred = fit.predict(np.column_stack([np.ones(x.size), x]))
    for key in ("estimate", "se", "ci_low", "ci_high"):
        # atol: metafor's nlminb leaves sigma2 ~2e-7 from the optimum; a bound near 0 shows it
        np.testing.assert_allclose(pred[key], expected[key], rtol=1e-6, atol=1e-6, err_msg=key)


def test_boundary_design_gives_exact_zero_variances():
    design = next(d for d in FIXTURE["multilevel"] if d["design"] == "sigma2_zero")
    fit, _ = _fit(design, "none")
    assert fit.sigma2_study == 0.0
    assert fit.sigma2_effect == 0.0
    assert fit.converged


def test_one_study_fixes_sigma2_study_at_zero_and_says_so():
    fit = fit_multilevel([-1.0, -0.5, -0.2], [0.1, 0.1, 0.2], ["a", "a", "a"])
    assert fit.sigma2_study == 0.0
    assert "one study" in fit.note
    with pytest.raises(ValueError, match="two clusters"):
        cr2_satterthwaite(fit.X, fit.yi, fit.V, fit.beta, fit.cluster)


def test_too_few_effects_is_an_error():
    with pytest.raises(ValueError, match="cannot fit"):
        fit_multilevel([-1.0], [0.1], ["a"])


def test_log_weeks_is_undefined_at_week_zero():
    x = time_covariate([0, 1, 4], "log_weeks")
    assert np.isnan(x[0])
    np.testing.assert_allclose(x[1:], np.log([1, 4]))
    with pytest.raises(ValueError):
        time_covariate([1], "months")


@pytest.mark.parametrize(
    ("design", "moderator"),
    [c for c in CASES if "robust_se" in c[0]["models"][c[1]].get("predict", {})],
    ids=[
        f"{d['design']}-{m}" for d, m in CASES if "robust_se" in d["models"][m].get("predict", {})
    ],
)
def test_robust_predictions_match_clubsandwich_linear_contrast(design, moderator):
    expected = design["models"][moderator]["predict"]
    fit, _ = _fit(design, moderator)
    cr2 = CR2(fit.X, fit.yi, fit.V, fit.beta, fit.cluster)
    x = time_covariate(expected["weeks"], moderator)
    for i, xi in enumerate(x):
        c = np.array([1.0, xi])
        got = cr2.contrast(c, float(c @ fit.beta))
        for ours, theirs in [("se", "robust_se"), ("df", "robust_df"),
                             ("ci_low", "robust_ci_low"), ("ci_high", "robust_ci_high")]:  # fmt: skip
            assert got[ours] == pytest.approx(expected[theirs][i], rel=1e-6, abs=1e-6), ours


def test_one_effect_per_study_reduces_to_the_reml_random_effects_model():
    from metareview.stats import FitOptions, pool

    yi, vi = [-1.2, -0.4, -0.9, -1.6, -0.2], [0.1, 0.2, 0.15, 0.3, 0.12]
    fit = fit_multilevel(yi, vi, ["a", "b", "c", "d", "e"])
    ref = pool(np.array(yi), np.array(vi), options=FitOptions(tau2_method="REML", ci_method="z"))
    assert fit.sigma2_effect == 0.0
    assert "one effect per study" in fit.note
    assert fit.sigma2_study == pytest.approx(ref.tau2, rel=1e-6)
    assert fit.beta[0] == pytest.approx(ref.estimate, rel=1e-8)
    assert fit.se[0] == pytest.approx(ref.se, rel=1e-6)


# make fuzz (2026-11-22): times 0.142857 and 0.1428571 weeks (ln weeks 7e-7 apart) next to
# sampling variances from 1e-10 to 400 made the time model's GLS system singular, and
# LinAlgError crashed rule repeated_condition. metafor 3.8-1 refuses the same time model
# (tests/reference/fuzz_singular_models.R)
# (rma.mv: "Cannot compute initial values") and fits the overall model to the values below.
SINGULAR_TIMES = {
    "yi": [-1.5645571923148431, -1.1, 3.3295491136572135, 0.0, 0.07995748768473455, -1.1, 0.0,
           -3.267782013324874, -1.2706425103009038],
    "vi": [0.09, 400.0, 4.0, 4.0, 0.09, 0.002499999999999996, 1.0000000000000625e-10,
           4.000000000000002, 9.999999999978277e-11],
    "study": ["0", "7kj", "7kj", "na", "o5", "o5", "o_f822qs7", "o_f822qs7", "odn_a430g"],
    "weeks": [0.142857, 0.142857, 0.1428571, 0.142857, 0.142857, 0.1428571, 0.142857,
              0.1428571, 0.142857],
}  # fmt: skip


def test_numerically_singular_time_model_is_not_estimable_and_the_table_says_why():
    import pandas as pd

    from metareview.repeated import multilevel_tables
    from metareview.stats.multilevel import NotEstimable

    data = SINGULAR_TIMES
    overall = fit_multilevel(data["yi"], data["vi"], np.array(data["study"]))
    metafor = {"estimate": -0.715813912801, "se": 0.329398555026, "sigma2_effect": 0.551132264166}
    assert overall.beta[0] == pytest.approx(metafor["estimate"], rel=1e-6)
    assert overall.se[0] == pytest.approx(metafor["se"], rel=1e-6)
    assert overall.sigma2_effect == pytest.approx(metafor["sigma2_effect"], abs=1e-6)
    X = np.column_stack([np.ones(9), time_covariate(data["weeks"], "log_weeks")])
    with pytest.raises(NotEstimable, match="numerically singular"):
        fit_multilevel(data["yi"], data["vi"], np.array(data["study"]), X)
    effects = pd.DataFrame({"condition": "c", "outcome": "o", "measure": "HR", "included": True,
                            "study_id": data["study"], "timepoint_weeks": data["weeks"],
                            "yi": data["yi"], "vi": data["vi"]})  # fmt: skip
    table, course = multilevel_tables(effects)
    time = table[table["model"] == "time"]
    assert len(time) == 2 and time["estimate"].isna().all() and time["se"].isna().all()
    assert time["note"].str.startswith("time model not estimable: ").all()
    assert table.loc[table["model"] == "overall", "estimate"].notna().all()
    assert course.empty


def test_an_overall_model_that_cannot_be_fitted_gives_empty_rows_with_the_reason(monkeypatch):
    import pandas as pd

    import metareview.repeated as repeated
    from metareview.stats.multilevel import NotEstimable

    def singular(*args, **kwargs):
        raise NotEstimable("the model's equations are numerically singular (Singular matrix)")

    monkeypatch.setattr(repeated, "fit_multilevel", singular)
    data = SINGULAR_TIMES
    effects = pd.DataFrame({"condition": "c", "outcome": "o", "measure": "HR", "included": True,
                            "study_id": data["study"], "timepoint_weeks": data["weeks"],
                            "yi": data["yi"], "vi": data["vi"]})  # fmt: skip
    table, course = repeated.multilevel_tables(effects, level=0.9)
    assert list(table["model"]) == ["overall", "time", "time"]
    assert table["estimate"].isna().all() and (table["level"] == 0.9).all()
    assert table["note"].iloc[0].startswith("overall model not estimable: ")
    assert (table["k_studies"] == 6).all() and (table["k_effects"] == 9).all()
    assert course.empty
