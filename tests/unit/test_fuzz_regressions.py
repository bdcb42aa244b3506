"""Generated reviews that once failed the whole-review fuzz, kept as regression tests.

SYNTHETIC data only (tests/review_strategies.py drew them)."""

from review_strategies import Review
from test_whole_review_fuzz import run_and_check

# Report crashed: 'dict object' has no attribute 'intervention' (Summary of Findings
# heading, HR generic rows with wide CIs, a single-arm study; fixed on main).
SOF_HEADING = {
    "config": {
        "ci_method": "hksj",
        "crossover_correlation": None,
        "harmonize_scale_to": 10,
        "level": 0.95,
        "measure": {"binary": "RD", "continuous": "SMD"},
        "moderators": ["dose_mg_kg"],
        "subgroups": ["comparator", "risk_of_bias"],
        "tau2_method": "SJ",
    },
    "outcomes": {
        "crps": [
            {
                "effect": "6.049647464412946",
                "effect_ci_high": "304.88297059275027",
                "effect_ci_low": "0.12004027109983904",
                "effect_measure": "HR",
                "higher_is_better": "true",
                "outcome": "010",
                "outcome_label": "Pain <i>VAS</i>",
                "study_id": "d",
                "timepoint_weeks": "52",
            },
            {
                "effect": "2.564299715256036",
                "effect_ci_high": "129.23254111523173",
                "effect_ci_low": "0.050882176988216475",
                "effect_measure": "HR",
                "higher_is_better": "true",
                "outcome": "010",
                "outcome_label": "",
                "study_id": "w",
                "timepoint_weeks": "52",
            },
            {
                "effect": "1.2214027581601699",
                "effect_measure": "HR",
                "effect_se": "1e-05",
                "higher_is_better": "true",
                "outcome": "010",
                "outcome_label": "Pain <i>VAS</i>",
                "study_id": "true",
                "timepoint_weeks": "52",
            },
            {
                "effect": "0.030197041641493325",
                "effect_measure": "HR",
                "effect_se": "2",
                "higher_is_better": "true",
                "outcome": "010",
                "outcome_label": "Pain <i>VAS</i>",
                "study_id": "na",
                "timepoint_weeks": "52",
            },
            {
                "effect": "1.7332530178673953",
                "effect_ci_high": "183186288515127584",
                "effect_ci_low": "1.6399513567841793e-17",
                "effect_measure": "ROM",
                "higher_is_better": "true",
                "outcome": "011",
                "outcome_label": "Pain <i>VAS</i>",
                "study_id": "d",
                "timepoint_weeks": "0.0001",
            },
            {
                "effect": "6.049647464412946",
                "effect_measure": "ROM",
                "effect_se": "0.001",
                "higher_is_better": "true",
                "outcome": "011",
                "outcome_label": "Pain <i>VAS</i>",
                "study_id": "w",
                "timepoint_weeks": "0.0001",
            },
        ]
    },
    "studies": [
        {
            "citation": "SYNTHETIC test data - not a real trial",
            "comparator": "-1+1",
            "design": "parallel",
            "dose_mg_kg": "2.5",
            "label": "<b>bold</b> & <script>alert(1)</script>",
            "risk_of_bias": "some",
            "route": "",
            "study_id": "d",
            "year": "2016",
        },
        {
            "citation": "SYNTHETIC test data - not a real trial",
            "comparator": "midazolam",
            "design": "parallel",
            "dose_mg_kg": "2.5",
            "label": "Synthetic a_b",
            "risk_of_bias": "",
            "route": "oral",
            "study_id": "a_b",
            "year": "2002",
        },
        {
            "citation": "SYNTHETIC test data - not a real trial",
            "comparator": "-1+1",
            "design": "parallel",
            "dose_mg_kg": "",
            "label": "Synthetic w",
            "risk_of_bias": "",
            "route": "oral",
            "study_id": "w",
            "year": "2009",
        },
        {
            "citation": "SYNTHETIC test data - not a real trial",
            "comparator": "midazolam",
            "design": "single_arm",
            "dose_mg_kg": "0.5",
            "label": "Synthetic 5-dq",
            "risk_of_bias": "low",
            "route": "intranasal",
            "study_id": "5-dq",
            "year": "2014",
        },
        {
            "citation": "SYNTHETIC test data - not a real trial",
            "comparator": "=cmd",
            "design": "crossover",
            "dose_mg_kg": "2.5",
            "label": "Sørensen – Jørum 2009",
            "risk_of_bias": "low",
            "route": "oral",
            "study_id": "true",
            "year": "2024",
        },
        {
            "citation": "SYNTHETIC test data - not a real trial",
            "comparator": "",
            "design": "parallel",
            "dose_mg_kg": "2.5",
            "label": "Synthetic na",
            "risk_of_bias": "",
            "route": "",
            "study_id": "na",
            "year": "2010",
        },
    ],
}


def test_review_with_hr_rows_and_single_arm_study_reaches_the_report():
    run_and_check(Review(**SOF_HEADING))


# make fuzz (FUZZ_LARGE) hung for > 10 minutes in analyse_repeated: the binomial-normal GLMM of
# 23 binary studies with arms of up to 10^6 and complete separation. The profiled intercepts
# never met an absolute 1e-12 tolerance (rounding noise of a log-likelihood of ~10^5), so each
# deviance took ~2,400 likelihood evaluations and the fit ran for hours.
SEPARATED_HUGE_ARMS = (
    [0, 0, 9, 10, 2, 0, 0, 479, 12332, 1e6, 0, 0, 4, 13, 10, 0, 1e5, 1e6, 0, 36, 0, 33, 10],
    [
        3,
        1e5,
        10,
        10,
        2,
        40,
        1e5,
        1e6,
        1e6,
        1e6,
        40,
        3,
        10,
        40,
        10,
        400,
        1e5,
        1e6,
        3,
        40,
        3,
        40,
        10,
    ],
    [0, 0, 400, 0, 40, 1e6, 2, 39, 0, 3693, 40, 2, 0, 0, 0, 7735, 0, 594, 10, 0, 2, 0, 0],
    [
        10,
        400,
        400,
        400,
        40,
        1e6,
        2,
        40,
        1e5,
        1e5,
        40,
        3,
        3,
        40,
        40,
        1e5,
        40,
        1e5,
        10,
        10,
        2,
        2,
        10,
    ],
)


def test_glmm_profile_converges_to_rounding_noise_with_huge_arms():
    import numpy as np

    from metareview.stats import glmm

    y1, n1, y2, n2 = (np.asarray(v, dtype=float) for v in SEPARATED_HUGE_ARMS)
    keep = ~(((y1 == 0) & (y2 == 0)) | ((y1 == n1) & (y2 == n2)))
    profile = glmm._Profile(y1[keep], n1[keep], y2[keep], n2[keep])
    first = profile.deviance(0.5, 0.5)
    used = profile.evaluations
    again = profile.deviance(0.5, 0.5)  # from the converged intercepts: a few steps at most
    assert used < 300 and profile.evaluations - used < 60
    assert np.isfinite(first) and abs(again - first) < 1e-9 * abs(first)


def test_glmm_that_does_not_converge_is_reported_not_run_for_hours(monkeypatch):
    import math

    from metareview.stats import glmm

    monkeypatch.setattr(glmm, "MAX_EVALUATIONS", 400)
    fit = glmm.fit_um_fs(*SEPARATED_HUGE_ARMS, level=0.9)
    assert math.isnan(fit.estimate) and "did not converge within 400" in fit.note


def _identical_review() -> Review:
    """Six parallel studies with identical arms (mean 5, SD 2, n 400), doses varying."""
    studies, rows = [], []
    for i, dose in enumerate(["0.5", "1", "1", "2.5", "0", ""]):
        sid = f"s{i}"
        studies.append({"study_id": sid, "label": f"Synthetic {sid}", "year": str(2000 + i),
                        "design": "parallel", "comparator": ["placebo", "midazolam"][i % 2],
                        "dose_mg_kg": dose, "citation": "SYNTHETIC test data"})  # fmt: skip
        rows.append({"study_id": sid, "outcome": "pain", "timepoint_weeks": "4",
                     "exp_n": "400", "exp_mean": "5", "exp_sd": "2",
                     "ctl_n": "400", "ctl_mean": "5", "ctl_sd": "2"})  # fmt: skip
    config = {"measure": {"continuous": "ROM", "binary": "RD"}, "tau2_method": "HE",
              "ci_method": "hksj", "level": 0.5, "subgroups": ["comparator"],
              "moderators": ["dose_mg_kg"]}  # fmt: skip
    return Review(config=config, studies=studies, outcomes={"x": rows})


# make fuzz: identical effects with a moderator under hksj stopped analyse_sensitivity with
# "LinAlgError: Singular matrix" in the permutation test (the Knapp-Hartung scale is 0, so the
# moderator's variance is 0); after the fix its permutation p was 0 (NaN compared as False).
def test_identical_effects_with_moderator_under_hksj_reach_the_report():
    run_and_check(_identical_review())


def test_undefined_permutation_statistic_has_no_p_value():
    import math

    import numpy as np

    from metareview.stats import permutation
    from metareview.stats.options import FitOptions

    test = permutation.permutation_test(
        np.zeros(5), np.full(5, 0.02), [0.5, 1, 1, 2.5, 0],
        FitOptions(tau2_method="HE", ci_method="hksj"), n_perm=50, seed=1,
    )  # fmt: skip
    assert math.isnan(test.statistic) and math.isnan(test.p_value)


# make fuzz: the report stopped with "OverflowError: math range error" formatting a
# multilevel model's CI on a ratio scale (a log-scale bound beyond ~709 cannot be
# exponentiated); it is now shown as infinite.
def test_ratio_bound_beyond_exp_range_is_formatted_as_infinite():
    from metareview.plots.format import fmt_effect, to_natural

    assert to_natural(800.0, "OR") == float("inf")
    assert fmt_effect(0.1, -800.0, 800.0, "RR") == "1.11 [0.00, ∞]"
    assert fmt_effect(-900.0, -1000.0, -800.0, "HR") == "0.00 [0.00, 0.00]"


# make fuzz: outcome "010" with six binary studies: rule gosh_condition read the effect sizes
# with plain pd.read_csv, so gosh.csv said outcome 10, and the plot job drew
# gosh_crps--10--w52.svg (pooled.csv says "010").
def test_gosh_keeps_text_ids_as_written():
    import tempfile
    from pathlib import Path

    from review_runner import run_review

    from metareview.io import read_table

    studies, rows = [], []
    for i, (events, n) in enumerate([(6, 10), (337, 400), (0, 10), (40, 40), (30, 40), (5, 12)]):
        sid = f"0{i}"
        studies.append({"study_id": sid, "label": f"Synthetic {sid}", "year": str(2000 + i),
                        "design": "parallel", "citation": "SYNTHETIC test data"})  # fmt: skip
        rows.append({"study_id": sid, "outcome": "010", "timepoint_weeks": "52",
                     "exp_n": str(n), "exp_events": str(events),
                     "ctl_n": str(n), "ctl_events": str(max(events - 3, 1))})  # fmt: skip
    config = {"measure": {"continuous": "MD", "binary": "RR"}, "tau2_method": "ML",
              "ci_method": "hksj", "level": 0.99}  # fmt: skip
    review = Review(config=config, studies=studies, outcomes={"crps": rows})
    with tempfile.TemporaryDirectory() as tmp:
        root = review.write(Path(tmp))
        run_review(root)
        gosh = read_table(root / "results" / "gosh.csv")
        assert set(gosh["outcome"]) == {"010"}
        assert (root / "results/figures/crps/gosh_crps--010--w52.svg").is_file()
        assert not (root / "results/figures/crps/gosh_crps--10--w52.svg").exists()


# make fuzz (2026-11-22): REML Fisher scoring divided by zero (ZeroDivisionError) when one
# variance dwarfs the other (1e-10 next to 400): tr P² = Σw² − 2Σw³/Σw + (Σw²/Σw)² cancelled
# to 0. metafor (rma, REML; tests/reference values of this run): tau2 = 0 and these estimates.
CANCELLING = [
    ([0.0, 0.0], [400.0, 1e-6], 0.0),
    ([3.07665138, 0.66706547], [1e-10, 400.0], 3.0766513799993986),
    ([0.3, 0.1, -0.2], [1e-8, 50.0, 900.0], 0.29999999995444437),
]


def test_reml_information_that_cancels_is_summed_entry_by_entry():
    import numpy as np

    from metareview import api
    from metareview.stats.pooling import pool

    for y, v, metafor_estimate in CANCELLING:
        fit = pool(np.array(y), np.array(v), tau2_method="REML", ci_method="z")
        assert fit.tau2 == 0.0
        assert abs(fit.estimate - metafor_estimate) <= 1e-9 * max(1.0, abs(metafor_estimate))
        compiled = api.pool(np.array(y), np.array(v), tau2_method="REML", ci_method="z")
        assert (compiled.tau2, compiled.estimate, compiled.se) == (fit.tau2, fit.estimate, fit.se)
    batch = api.pool_batch(np.array([c[0][:2] for c in CANCELLING]),
                           np.array([c[1][:2] for c in CANCELLING]), ci_method="z")  # fmt: skip
    assert np.isfinite(batch["tau2"]).all() and (batch["tau2"] == 0.0).all()
    assert abs(batch["estimate"][1] - CANCELLING[1][2]) <= 1e-9 * CANCELLING[1][2]


def _saved_review(name: str) -> Review:
    """A failing review saved by ``make fuzz`` as JSON (tests/data/fuzz_regressions/)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "fuzz_regressions" / f"{name}.json"
    saved = json.loads(path.read_text(encoding="utf-8"))
    return Review(saved["config"], saved["studies"], saved["outcomes"], saved.get("analyses", []))


def _run(review: Review, root):
    from review_runner import run_review
    from test_whole_review_fuzz import check_review

    review.write(root)
    run_review(root)
    check_review(root, review)
    return root / "results"


# make fuzz (2026-11-22): rule repeated_condition crashed with "LinAlgError: Singular matrix":
# HR rows at 0.142857 and 0.1428571 weeks (ln weeks 7e-7 apart) with sampling variances
# from 1e-10 to 400 make the time model's equations singular (metafor refuses it too).
def test_singular_time_model_is_reported_not_estimable(tmp_path):
    from metareview.io import read_table

    results = _run(_saved_review("singular_time_model"), tmp_path)
    table = read_table(results / "multilevel.csv")
    time = table[table["model"] == "time"]
    assert len(time) == 2 and time["estimate"].isna().all()
    assert time["note"].str.contains("time model not estimable: ").all()
    assert table.loc[table["model"] == "overall", "estimate"].notna().all()


# make fuzz (2026-11-22): rule assess_certainty crashed with "OverflowError: math range
# error": an OR whose 99% HKSJ CI (k = 2, t(1)) reaches e^866 on the natural scale.
def test_ratio_bound_beyond_the_floating_point_range_is_inf_in_the_summary_of_findings(
    tmp_path,
):
    import math

    from metareview.certainty.summary_of_findings import OVERFLOW_NOTE
    from metareview.io import read_table

    results = _run(_saved_review("sof_ratio_overflow"), tmp_path)
    sof = read_table(results / "summary_of_findings.csv")
    row = sof[sof["timepoint_weeks"] == 12].iloc[0]
    assert row["relative_ci_high"] == math.inf and row["relative_ci_low"] == 0.0
    assert OVERFLOW_NOTE in row["note"]
    assert 0 <= row["intervention_risk_ci_low"] <= row["intervention_risk_ci_high"] == 1000
    report = (results / "report.md").read_text(encoding="utf-8")
    assert "OR 0.00 (0.00 to ∞)" in report
    # the review's level is 0.99: the Summary of Findings and the three-level tables say so
    assert "| Relative effect (99% CI) |" in report and "model-based 99% CI" in report
    assert (read_table(results / "multilevel.csv")["level"] == 0.99).all()


def test_ratio_bounds_beyond_exp_range_stay_infinite_in_the_report_text():
    # the same overflow as above, where the report compares with RevMan's stored numbers
    import math

    from metareview.report.reference_comparison import our_value

    pooled = {"model": "random", "ci_method": "z", "estimate": 0.1, "ci_low": -800.0,
              "ci_high": 800.0}  # fmt: skip
    assert our_value(pooled, "ci_high", "OR")[0] == math.inf
    assert our_value(pooled, "ci_low", "OR")[0] == 0.0


# make fuzz (2026-11-22, analyses.csv overrides): Peto pooling under a random-effects model
# (RevMan's DL around the Peto estimate) left the τ² and I² intervals empty without a word.
def test_peto_random_effects_says_why_tau2_has_no_interval(tmp_path):
    from metareview.io import read_table
    from metareview.stats.binary_pooling import NO_TAU2_CI

    results = _run(_saved_review("peto_random_no_tau2_ci"), tmp_path)
    pooled = read_table(results / "pooled.csv")
    peto = pooled[pooled["pooling_method"] == "Peto"]
    assert len(peto) == 2 and peto["tau2"].notna().all()
    assert peto["tau2_ci_low"].isna().all() and peto["i2_ci_high"].isna().all()
    assert peto["note"].str.contains(NO_TAU2_CI, regex=False).all()


# make fuzz (2026-11-22): timepoints 0 and 0.0001 weeks under time_moderator "weeks" made
# rule plot_condition fail inside mizani (minor breaks of the three-level time course).
def test_multilevel_figure_over_a_tiny_time_range_is_drawn(tmp_path):
    results = _run(_saved_review("multilevel_tiny_time_range"), tmp_path)
    assert (results / "figures/001/multilevel_001--10--HR.svg").is_file()


# make fuzz (2026-11-22): a meta-regression on year with variances 400, 0.0025 and 1e-10
# raised "LinAlgError: Singular matrix" in rule analyse_sensitivity (metafor refuses it too).
def test_singular_metaregression_is_a_row_that_says_why(tmp_path):
    from metareview.io import read_table
    from metareview.stats.metaregression import SINGULAR

    results = _run(_saved_review("metaregression_singular_design"), tmp_path)
    table = read_table(results / "metaregression.csv")
    singular = table[table["note"] == SINGULAR]
    assert len(singular) == 1 and singular["slope"].isna().all()
    assert singular["slope_p_perm"].isna().all()


# make fuzz (2026-11-22, analyses.csv overrides): an MH risk ratio whose studies have no
# experimental events gave a common effect of −∞ (metafor: NA) and Q = ∞ in pooled.csv.
def test_mh_ratio_of_zero_is_estimated_with_revman_correction(tmp_path):
    from metareview.io import read_table

    results = _run(_saved_review("mh_ratio_of_zero"), tmp_path)
    pooled = read_table(results / "pooled.csv")
    row = pooled[pooled["analysis_id"] == "001--responders0--w1"].iloc[0]
    assert row["pooling_method"] == "MH" and row["k"] == 2
    assert "not estimable from the observed counts" in row["note"]
    assert "Knapp–Hartung SE is (near) 0" not in row["note"]


# make fuzz (2026-11-22): variances 4, 0.09 and 1.0000000000000625e-10 with years 1990, 1994,
# 1994 left the weighted design invertible in floating point but rank deficient by metafor's
# tolerance (rma: "singular matrix"); the row had a NaN Knapp–Hartung SE and no reason.
def test_nearly_singular_metaregression_is_not_estimable_as_in_metafor(tmp_path):
    from metareview.io import read_table
    from metareview.stats.metaregression import SINGULAR

    results = _run(_saved_review("metaregression_nearly_singular"), tmp_path)
    table = read_table(results / "metaregression.csv")
    rows = table[(table["condition"] == "a--b") & (table["timepoint_weeks"] == 0.1428571)]
    assert len(rows) == 1 and rows.iloc[0]["note"] == SINGULAR and rows.iloc[0]["k"] == 3


# make fuzz (2026-11-22, analyses.csv overrides): an MH risk difference of two tables, one
# with all events in both arms, so only one enters Q: pooled.csv had Q = 79,284 on 0 df, an
# empty H² and no reason for the empty τ² interval (rma.mh: Q = 0, H² = 1).
def test_mh_with_one_table_in_q_has_metafor_heterogeneity_and_a_reason(tmp_path):
    from metareview.io import read_table
    from metareview.stats.binary_pooling import FEWER_THAN_TWO

    results = _run(_saved_review("mh_one_table_in_q"), tmp_path)
    row = read_table(results / "pooled.csv").iloc[0]
    assert row["pooling_method"] == "MH" and row["k"] == 2 and row["measure"] == "RD"
    assert (row["q"], row["q_df"], row["h2"], row["tau2"]) == (0.0, 0, 1.0, 0.0)
    assert FEWER_THAN_TWO in row["note"]


# make fuzz (2026-11-22, analyses.csv overrides): an MH risk difference of k = 3 with one
# double-zero table, so two tables enter the random-effects model: the prediction interval
# was empty (t on k − 2 = 0 df) with no word on why.
def test_mh_random_effects_on_two_tables_says_why_it_has_no_prediction_interval(tmp_path):
    from metareview.io import read_table
    from metareview.stats.binary_pooling import NO_PI

    results = _run(_saved_review("mh_two_tables_in_model"), tmp_path)
    pooled = read_table(results / "pooled.csv")
    row = pooled[pooled["analysis_id"] == "fibromyalgia--nan0--w4"].iloc[0]
    assert row["pooling_method"] == "MH" and row["k"] == 3 and row["q_df"] == 1
    assert NO_PI in row["note"]


# make fuzz (2026-11-22): the binomial-normal GLMM of arms of 10⁶ to 10¹² participants had an
# exactly singular numerical Hessian at the optimum; rule analyse_repeated raised LinAlgError.
def test_glmm_with_a_singular_hessian_is_a_row_that_says_why(tmp_path):
    from metareview.io import read_table

    results = _run(_saved_review("glmm_singular_hessian"), tmp_path)
    rare = read_table(results / "rare_events.csv")
    row = rare[(rare["outcome"] == "11") & (rare["timepoint_weeks"] == 4)].iloc[0]
    assert "Hessian not positive definite" in row["note"]


# make fuzz (2026-11-22): an MH risk difference of k = 5 (empirical Bayes τ²) with one table
# in Q: the empty prediction interval had no word on why.
def test_mh_random_effects_on_one_table_says_why_it_has_no_prediction_interval(tmp_path):
    from metareview.io import read_table
    from metareview.stats.binary_pooling import FEWER_THAN_TWO

    results = _run(_saved_review("mh_one_table_of_five"), tmp_path)
    row = read_table(results / "pooled.csv").set_index("analysis_id").loc["x--10--w52"]
    assert row["k"] == 5 and row["q_df"] == 0 and row["tau2"] == 0
    assert FEWER_THAN_TWO in row["note"] and "no prediction interval" in row["note"]


# make fuzz (2026-11-23): level 0.5 (one analysis at 0.9) with nothing poolable: the overview's
# heading named a 95% CI.
def test_overview_of_a_review_with_nothing_pooled_names_the_configured_level(tmp_path):
    results = _run(_saved_review("overview_level_nothing_pooled"), tmp_path)
    overview = (results / "figures/overview.svg").read_text(encoding="utf-8")
    assert "Estimate [50% CI]" in overview and "95% CI" not in overview


# make fuzz, large profile (2026-11-23): a Peto odds ratio whose pooled log estimate (~2,500)
# lies past a float's exp range; the GOSH figure's line crashed with OverflowError.
def test_gosh_figure_of_a_ratio_past_exp_range_is_drawn(tmp_path):
    from metareview.io import read_table

    results = _run(_saved_review("gosh_ratio_overflow"), tmp_path)
    pooled = read_table(results / "pooled.csv")
    assert float(pooled["estimate"].astype(float).max()) > 709  # the case: e^estimate overflows
    gosh = next((results / "figures").rglob("gosh_*.svg")).read_text(encoding="utf-8")
    assert "lies outside the axis" in gosh


# make fuzz, large profile (2026-11-23): Peto random effects on two tables, one with arms of
# 10^12: the DL denominator Σw − Σw²/Σw cancelled to 0, so tau2 was inf and the estimate NaN.
def test_peto_random_effects_with_a_dominant_table_is_finite(tmp_path):
    import numpy as np

    from metareview.io import read_table

    results = _run(_saved_review("peto_random_dominant_table"), tmp_path)
    row = read_table(results / "pooled.csv").iloc[0]
    assert row["pooling_method"] == "Peto" and int(row["k"]) == 2
    assert np.isfinite([float(row[c]) for c in ("estimate", "se", "tau2", "ci_low")]).all()
