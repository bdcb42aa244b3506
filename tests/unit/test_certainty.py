"""GRADE rules as a table of cases, absolute effects by hand, PRISMA arithmetic, RoB checks,
the certainty figures structurally. All data here are SYNTHETIC."""

import math

import numpy as np
import pandas as pd
import pytest

from metareview.certainty.grade import Evidence, GradeSettings, optimal_information_size, rate
from metareview.certainty.overrides import overrides_for, validate_overrides
from metareview.certainty.prisma import parse_prisma
from metareview.certainty.risk_of_bias import (
    for_analysis,
    from_studies,
    tidy,
    validate_risk_of_bias,
    weight_shares,
)
from metareview.certainty.summary_of_findings import (
    COLUMNS,
    difference_words,
    intervention_risk,
    summary_of_findings,
)
from metareview.plots.prisma import prisma_svg
from metareview.plots.rob import summary_plot, traffic_light_plot
from metareview.validation import InputError


def evidence(**kw) -> Evidence:
    base = dict(
        measure="MD",
        k=5,
        estimate=-3.0,
        ci_low=-3.5,
        ci_high=-2.5,
        yi=(-3.1, -2.9, -3.0, -3.2, -2.8),
        weights=(20.0,) * 5,
        rob_overall=("low",) * 5,
        participants=1000.0,
        i2=0.0,
        q_p=0.9,
    )
    return Evidence(**(base | kw))


CASES = [
    # (description, evidence overrides, certainty, downgrades, words that must appear)
    ("large, low risk, consistent, precise", {}, "high", "", ["not serious"]),
    (
        "high risk, I² > 75% both sides, CI crossing no effect",
        dict(
            rob_overall=("high",) * 5,
            i2=85.0,
            q_p=1e-6,
            yi=(-3.0, 2.0, -2.5, 3.0, 0.5),
            estimate=0.1,
            ci_low=-1.5,
            ci_high=1.7,
        ),
        "very_low",
        "risk_of_bias:-2; inconsistency:-2; imprecision:-2",
        ["weight at high risk 100%", "I² = 85%", "appreciable benefit and harm"],
    ),
    (
        "risk of bias not assessed: counted as some concerns",
        dict(rob_overall=("not_assessed",) * 5),
        "moderate",
        "risk_of_bias:-1",
        ["not assessed 100%", "never as low"],
    ),
    (
        "some concerns carry 60% of the weight",
        dict(
            rob_overall=("some_concerns", "some_concerns", "some_concerns", "low", "low"),
        ),
        "moderate",
        "risk_of_bias:-1",
        ["some concerns 60%"],
    ),
    (
        "k = 1: imprecision, inconsistency not applicable",
        dict(k=1, yi=(-3.0,), weights=(100.0,), rob_overall=("low",)),
        "moderate",
        "imprecision:-1",
        ["single study", "not applicable"],
    ),
    (
        "I² 60% one side",
        dict(i2=60.0, q_p=0.04),
        "moderate",
        "inconsistency:-1",
        ["I² ≥ 50%"],
    ),
    (
        "CI includes no effect, OIS met",
        dict(estimate=-0.5, ci_low=-1.0, ci_high=0.1),
        "moderate",
        "imprecision:-1",
        ["includes no effect"],
    ),
    (
        "CI straddles the MID and too few participants",
        dict(estimate=-1.2, ci_low=-1.8, ci_high=-0.6, participants=120.0),
        "low",
        "imprecision:-2",
        ["straddles the MID", "120 participants < OIS 400"],
    ),
    (
        "k ≥ 10 and Egger p < 0.10",
        dict(
            k=10,
            yi=(-3.0,) * 10,
            weights=(10.0,) * 10,
            rob_overall=("low",) * 10,
            egger_p=0.03,
            trimfill_k0=0.0,
        ),
        "moderate",
        "publication_bias:-1",
        ["Egger p = 0.03"],
    ),
    (
        "indirect studies carry the weight",
        dict(indirectness=("serious",) * 3 + ("", "")),
        "moderate",
        "indirectness:-1",
        ["flagged indirect 60%"],
    ),
]


@pytest.mark.parametrize(("name", "kw", "certainty", "downgrades", "words"), CASES)
def test_grade_rules(name, kw, certainty, downgrades, words):
    grade = rate(evidence(**kw))
    assert grade.certainty == certainty, grade.reasons
    assert grade.downgrades == downgrades
    for w in words:
        assert w in grade.reasons, (w, grade.reasons)


def test_publication_bias_not_assessable_below_ten_studies():
    grade = rate(evidence(egger_p=0.001))
    domain = {d.name: d for d in grade.domains}["publication_bias"]
    assert domain.downgrade == 0 and "k = 5 < 10" in domain.reason


def test_override_replaces_rule_and_is_shown():
    grade = rate(
        evidence(i2=90.0, yi=(-3.0, 1.0, -2.0, 2.0, -1.0)),
        overrides={"inconsistency": (0, "subgroups explain it")},
    )
    d = {d.name: d for d in grade.domains}["inconsistency"]
    assert d.override and d.downgrade == 0 and d.automated == -2
    assert "reviewer override (0): subgroups explain it" in d.reason
    assert grade.certainty == "high"


def test_settings_change_thresholds():
    s = GradeSettings.from_config({"i2_serious": 70, "mid": {"MD": 5.0}})
    assert s.mid["MD"] == 5.0 and s.mid["SMD"] == 0.5
    assert rate(evidence(i2=60.0), s).certainty == "high"


def test_optimal_information_size_by_hand():
    # p1 = 0.2, p2 = 0.15: (1.959964 + 0.841621)² · (0.16 + 0.1275) / 0.05² = 902.6 → 903/arm
    z = 1.959963984540054 + 0.8416212335729143
    per_arm = math.ceil(z**2 * (0.2 * 0.8 + 0.15 * 0.85) / 0.05**2)
    assert per_arm == 903
    assert optimal_information_size(0.2, 0.25) == 2 * per_arm
    assert math.isnan(optimal_information_size(0.0, 0.25))


def test_intervention_risk_formulas():
    assert intervention_risk(0.2, 1.5, "RR") == pytest.approx(0.3, abs=1e-12)
    # OR 2 at control risk 0.2: odds 0.25 → 0.5 → risk 1/3
    assert intervention_risk(0.2, 2.0, "OR") == pytest.approx(1 / 3, abs=1e-12)
    assert intervention_risk(0.2, -0.05, "RD") == pytest.approx(0.15, abs=1e-12)


def test_intervention_risk_limits_where_the_formula_is_undefined():
    # a CI bound beyond the floating-point range is inf; 0·∞ and ∞/∞ take their limits
    assert intervention_risk(0.2, math.inf, "OR") == 1.0
    assert intervention_risk(0.0, math.inf, "OR") == 0.0
    assert intervention_risk(1.0, 0.0, "OR") == 1.0
    assert intervention_risk(0.0, math.inf, "RR") == 0.0
    assert intervention_risk(0.2, math.inf, "RR") == math.inf  # cut at 1,000 by sof_row


def test_ratio_of_means_beyond_the_floating_point_range_reads_as_infinite():
    words = difference_words(0.1, -800.0, 800.0, "ROM", flipped=False)
    assert words == "ratio of means 1.11 (0.00 to ∞)"
    assert difference_words(0.1, -800.0, 800.0, "ROM", flipped=True) == (
        "ratio of means 0.90 (0.00 to ∞)"
    )


def _synthetic(measure: str, est: float, lo: float, hi: float):
    effects = pd.DataFrame(
        {
            "condition": "c",
            "study_id": ["s1", "s2"],
            "outcome": "o",
            "timepoint_weeks": 1.0,
            "measure": measure,
            "yi": [est, est],
            "vi": [0.04, 0.05],
            "included": True,
            "label": ["S1 2001", "S2 2002"],
            "year": [2001, 2002],
            "exp_n": [50, 60],
            "ctl_n": [50, 60],
            "exp_events": [20, 25],
            "ctl_events": [10, 23],
        }
    )
    pooled = pd.DataFrame(
        [
            dict(
                condition="c",
                outcome="o",
                timepoint_weeks=1.0,
                measure=measure,
                k=2,
                estimate=est,
                ci_low=lo,
                ci_high=hi,
                tau2=0.0,
                i2=0.0,
                q_p=0.8,
                analysis_id="c--o--w1",
            )
        ]
    )
    studies = pd.DataFrame({"study_id": ["s1", "s2"], "label": ["S1 2001", "S2 2002"]})
    return effects, pooled, studies


@pytest.mark.parametrize(
    ("measure", "est", "lo", "hi"),
    [
        ("RR", math.log(1.6), math.log(1.1), math.log(2.3)),
        ("OR", math.log(2.0), math.log(1.2), math.log(3.4)),
        ("RD", 0.12, 0.02, 0.22),
    ],
)
def test_absolute_effects_by_hand(measure, est, lo, hi):
    effects, pooled, studies = _synthetic(measure, est, lo, hi)
    sof = summary_of_findings(effects, pooled, studies)
    assert list(sof.columns[:16]) == COLUMNS[:16]
    row = sof.iloc[0]
    cr = (10 + 23) / (50 + 60)
    assert row["control_risk_per_1000"] == pytest.approx(1000 * cr, abs=1e-6)

    def by_hand(v):
        if measure == "RR":
            return 1000 * cr * math.exp(v)
        if measure == "OR":
            o = cr / (1 - cr) * math.exp(v)
            return 1000 * o / (1 + o)
        return 1000 * (cr + v)

    assert row["intervention_risk_per_1000"] == pytest.approx(by_hand(est), abs=1e-6)
    assert row["intervention_risk_ci_low"] == pytest.approx(by_hand(lo), abs=1e-6)
    assert row["intervention_risk_ci_high"] == pytest.approx(by_hand(hi), abs=1e-6)
    if measure != "RD":
        assert row["relative_estimate"] == pytest.approx(math.exp(est), rel=1e-12)
    assert row["participants"] == 220
    # no RoB anywhere: not assessed, rated down, said so
    assert "risk_of_bias:-1" in row["downgrades"] and "not assessed" in row["reasons"]


def test_configured_control_risk_is_used():
    effects, pooled, studies = _synthetic("RR", math.log(2.0), 0.0, math.log(4.0))
    s = GradeSettings.from_config({"control_risk": {"o": 0.1}})
    row = summary_of_findings(effects, pooled, studies, settings=s).iloc[0]
    assert row["control_risk_per_1000"] == pytest.approx(100.0)
    assert row["intervention_risk_per_1000"] == pytest.approx(200.0)
    assert row["control_risk_source"] == "config grade.control_risk"


def test_difference_words_undo_the_sign_flip():
    assert difference_words(-1.2, -2.1, -0.3, "MD", False) == (
        "MD 1.20 lower (2.10 lower to 0.30 lower)"
    )
    assert difference_words(-1.2, -2.1, -0.3, "MD", True) == (
        "MD 1.20 higher (0.30 higher to 2.10 higher)"
    )


# --- risk of bias ----------------------------------------------------------------------------


def _rob_frame(rows):
    cols = ["study_id", "outcome", "d1", "d2", "d3", "d4", "d5", "overall", "source"]
    frame = pd.DataFrame(rows, columns=cols, dtype=object)
    frame.attrs["lines"] = [i + 2 for i in range(len(rows))]
    return frame


def test_rob_validation_names_file_line_column():
    frame = _rob_frame(
        [
            ["a", "", "low", "low", "low", "low", "low", "low", "x"],
            ["zz", "", "low", "low", "low", "low", "low", "low", "x"],
            ["a", "", "low", "low", "low", "low", "low", "low", "x"],
            ["b", "pain", "low", "moderate", "low", "low", "low", "low", "x"],
        ]
    )
    _, problems = validate_risk_of_bias(frame, ["a", "b"])
    text = [str(p) for p in problems]
    assert any("line 3, column 'study_id': unknown study_id 'zz'" in t for t in text)
    assert any("line 4, column 'outcome': duplicate row" in t for t in text)
    assert any("line 5, column 'd2': 'moderate' is not allowed" in t for t in text)


def test_outcome_row_wins_and_missing_is_not_assessed():
    rob = tidy(
        _rob_frame(
            [
                ["a", "", "low", "low", "low", "low", "low", "low", "paper"],
                ["a", "pain", "high", "low", "low", "low", "", "high", "paper"],
            ]
        )
    )
    got = for_analysis(rob, ["a", "b"], "pain")
    assert got["overall"].tolist() == ["high", "not_assessed"]
    assert got.loc[0, "d5"] == "not_assessed"
    assert for_analysis(rob, ["a"], "other")["overall"].tolist() == ["low"]


def test_studies_column_maps_to_rob2_words():
    frame = from_studies(
        pd.DataFrame({"study_id": ["a", "b", "c"], "risk_of_bias": ["some", "", "high"]})
    )
    assert frame["overall"].tolist() == ["some_concerns", "not_assessed", "high"]


def test_weight_shares_sum_to_100_per_domain():
    judged = pd.DataFrame(
        {
            "d1": ["low", "high"],
            "d2": ["low", "low"],
            "d3": ["not_assessed", "some_concerns"],
            "d4": ["low", "low"],
            "d5": ["low", "low"],
            "overall": ["low", "high"],
        }
    )
    shares = weight_shares(judged, [75.0, 25.0])
    assert np.allclose(shares.groupby("domain")["weight"].sum(), 100.0)
    high = shares[(shares["domain"] == "d1") & (shares["judgement"] == "high")]["weight"]
    assert high.iloc[0] == pytest.approx(25.0)


# --- overrides -------------------------------------------------------------------------------


def test_override_needs_a_reason_and_an_allowed_value():
    frame = pd.DataFrame(
        {
            "condition": ["c", "c"],
            "outcome": ["o", "o"],
            "timepoint_weeks": ["", "2"],
            "grade_imprecision": ["-1", "-3"],
            "grade_imprecision_reason": ["", "x"],
        }
    )
    _, problems = validate_overrides(frame)
    text = [str(p) for p in problems]
    assert any(
        "line 2, column 'grade_imprecision_reason': an override needs a reason" in t for t in text
    )
    assert any("line 3, column 'grade_imprecision': '-3' is not allowed" in t for t in text)


def test_override_exact_timepoint_wins():
    rows = [
        {"condition": "c", "outcome": "o", "timepoint_weeks": math.nan, "line": 2,
         "overrides": {"imprecision": (-1, "any time")}},
        {"condition": "c", "outcome": "o", "timepoint_weeks": 2.0, "line": 3,
         "overrides": {"imprecision": (0, "week 2")}},
    ]  # fmt: skip
    assert overrides_for(rows, "c", "o", 2.0)["imprecision"][0] == 0
    assert overrides_for(rows, "c", "o", 4.0)["imprecision"][0] == -1


# --- PRISMA ----------------------------------------------------------------------------------

PRISMA = """identified: {databases: 1200, registers: 85, other: 12}
removed_before_screening: {duplicates: 310, automation: 0, other: 0}
screened: 987
excluded_screening: 901
sought_retrieval: 86
not_retrieved: 4
assessed: 82
excluded_reports: {"not randomized": 30, "wrong comparator": 21}
included_studies: 31
included_reports: 31
"""


def test_prisma_that_adds_up_is_accepted():
    p = parse_prisma(PRISMA, 31)
    assert p.screened == 987 and p.excluded_reports["not randomized"] == 30


@pytest.mark.parametrize(
    ("old", "new", "boxes"),
    [
        ("screened: 987", "screened: 980", ["'identified' (Σ = 1297)", "'screened' is 980"]),
        ("sought_retrieval: 86", "sought_retrieval: 85", ["'excluded_screening' (901)"]),
        ("assessed: 82", "assessed: 83", ["'not_retrieved' (4) = 82", "'assessed' is 83"]),
        ("included_reports: 31", "included_reports: 33", ["'excluded_reports' (Σ = 51) = 31"]),
    ],
)
def test_prisma_mismatch_names_the_boxes(old, new, boxes):
    with pytest.raises(InputError) as err:
        parse_prisma(PRISMA.replace(old, new), 31)
    for box in boxes:
        assert box in str(err.value)
    assert "data/raw/prisma.yaml, line" in str(err.value)


def test_prisma_included_studies_must_match_studies_csv():
    with pytest.raises(InputError, match="studies.csv has 30 studies"):
        parse_prisma(PRISMA, 30)


def test_prisma_unknown_key_and_negative_count():
    bad = PRISMA.replace("screened: 987", "screened: -1") + "identifed: 3\n"
    with pytest.raises(InputError) as err:
        parse_prisma(bad, 31)
    assert "key 'identifed' is not a PRISMA box" in str(err.value)
    assert "key 'screened': value -1 is not allowed" in str(err.value)


def test_prisma_svg_is_deterministic_and_holds_the_counts():
    p = parse_prisma(PRISMA, 31)
    svg = prisma_svg(p, usable=12, title="PRISMA")
    assert svg == prisma_svg(p, usable=12, title="PRISMA")
    svg = svg.replace("\u00a0", " ")
    assert svg.startswith("<svg") and svg.count("<rect") == 10
    for text in ("Records screened (n = 987)", "not randomized (n = 30)", "(n = 12)"):
        assert text in svg


# --- figures ---------------------------------------------------------------------------------


def _judged():
    return pd.DataFrame(
        {
            "study_id": ["a", "b", "c"],
            "label": ["A 2001", "B 2002", "C 2003"],
            "outcome": ["o", "o", "o"],
            "d1": ["low", "some_concerns", "high"],
            "d2": ["low"] * 3,
            "d3": ["not_assessed", "low", "high"],
            "d4": ["low"] * 3,
            "d5": ["high", "low", "low"],
            "overall": ["high", "some_concerns", "high"],
            "weight": [50.0, 30.0, 20.0],
        }
    )


def test_traffic_light_structure():
    p = traffic_light_plot(_judged())
    assert len(p.data) == 3 * 6
    assert set(p.data["symbol"]) == {"+", "!", "−", "?"}
    assert len(p.layers) == 2
    assert "D1: Randomization process" in p.labels.caption
    p.draw()


def test_rob_summary_structure():
    p = summary_plot(_judged(), "t")
    totals = p.data.groupby("domain", observed=True)["weight"].sum()
    assert np.allclose(totals, 100.0)
    overall_high = p.data[(p.data["domain"] == "Overall") & (p.data["judgement"] == "high")]
    assert overall_high["weight"].iloc[0] == pytest.approx(70.0)
    p.draw()


def test_rob_sensitivity_uses_per_outcome_judgements():
    from metareview.sensitivity import run_sensitivity

    effects = pd.DataFrame(
        {
            "condition": "c",
            "study_id": ["a", "b", "c", "a", "b", "c"],
            "outcome": ["pain"] * 3 + ["ae"] * 3,
            "timepoint_weeks": 1.0,
            "measure": "MD",
            "yi": [-1.0, -0.5, -2.0, -1.0, -0.5, -2.0],
            "vi": [0.1, 0.2, 0.15, 0.1, 0.2, 0.15],
            "included": True,
        }
    )
    studies = pd.DataFrame(
        {"study_id": ["a", "b", "c"], "label": ["A", "B", "C"], "year": [2001, 2002, 2003]}
    )
    rob = _rob_frame(
        [
            ["a", "", "low", "low", "low", "low", "low", "low", "x"],
            ["c", "", "low", "low", "low", "low", "low", "low", "x"],
            ["c", "pain", "high", "low", "low", "low", "low", "high", "x"],
        ]
    )
    out = run_sensitivity(effects, studies, risk_of_bias=rob)["rob_sensitivity"]
    by_outcome = out.set_index("outcome")
    assert by_outcome.loc["pain", "n_high"] == 1 and by_outcome.loc["pain", "excluded"] == "c"
    assert by_outcome.loc["ae", "n_high"] == 0
    assert by_outcome.loc["pain", "n_unknown"] == 1  # b: not assessed, kept, counted


def test_forest_gains_rob_dots_only_when_judged():
    from metareview.plots.build import with_rob
    from metareview.plots.forest import forest_plot

    effects, pooled, _ = _synthetic("RR", math.log(1.6), math.log(1.1), math.log(2.3))
    effects = effects.assign(ci_low=effects["yi"] - 0.4, ci_high=effects["yi"] + 0.4)
    prow = pooled.iloc[0].to_dict() | {"level": 0.95}
    judged = _judged().iloc[:2].assign(study_id=["s1", "s2"])
    plain = forest_plot(effects, prow)
    dotted = forest_plot(with_rob(effects, judged), prow)
    assert len(dotted.layers) > len(plain.layers)
    frames = [layer.geom.data for layer in dotted.layers]
    texts = pd.concat([d for d in frames if "label" in d])
    assert {"D1", "D5", "O", "Risk of bias"} <= set(texts["label"])
    points = [d for d in frames if "judgement" in d]
    assert sum(len(d) for d in points) == 2 * 6 * 2  # dots, and symbols on them
    unjudged = judged.assign(
        **{c: "not_assessed" for c in ["d1", "d2", "d3", "d4", "d5", "overall"]}
    )
    assert len(forest_plot(with_rob(effects, unjudged), prow).layers) == len(plain.layers)
    dotted.draw()


def test_traffic_light_one_row_per_study_unless_outcomes_differ():
    a = _judged().assign(outcome="pain")
    b = _judged().assign(outcome="ae")
    b.loc[0, "overall"] = "low"  # study a judged differently for the other outcome
    p = traffic_light_plot(pd.concat([a, b], ignore_index=True))
    studies = list(p.data["study"].cat.categories)[::-1]
    assert studies == ["A 2001 · ae", "A 2001 · pain", "B 2002", "C 2003"]


def test_certainty_inputs_report_every_file_together(tmp_path):
    from metareview.certainty.inputs import check_certainty_inputs

    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "prisma.yaml").write_text(PRISMA.replace("screened: 987", "screened: 1"))
    (raw / "risk_of_bias.csv").write_text(
        "study_id,outcome,d1,d2,d3,d4,d5,overall\nnope,,low,low,low,low,low,low\n"
    )
    (raw / "analyses.csv").write_text(
        "condition,outcome,timepoint_weeks,grade_imprecision,grade_imprecision_reason\nc,o,,-1,\n"
    )
    studies = pd.DataFrame({"study_id": ["a"] * 31, "indirectness": ["maybe"] + [""] * 30})
    with pytest.raises(InputError) as err:
        check_certainty_inputs(tmp_path, studies)
    text = str(err.value)
    assert "data/raw/studies.csv, line 2, column 'indirectness': 'maybe' is not allowed" in text
    assert "data/raw/risk_of_bias.csv, line 2, column 'study_id': unknown study_id 'nope'" in text
    assert "data/raw/prisma.yaml, line 3" in text and "'screened' is 1" in text
    assert "data/raw/analyses.csv, line 2, column 'grade_imprecision_reason'" in text


def test_generic_rows_without_arm_counts():
    effects, pooled, studies = _synthetic("MD", -1.0, -1.5, -0.5)
    effects = effects.drop(columns=["exp_n", "ctl_n", "exp_events", "ctl_events"])
    row = summary_of_findings(effects, pooled, studies).iloc[0]
    assert math.isnan(row["participants"]) and math.isnan(row["control_risk_per_1000"])
    assert "number of participants not known" in row["reasons"]
    assert row["effect_words"] == "MD 1.00 lower (1.50 lower to 0.50 lower)"


def test_sof_heading_names_the_level_or_each_row_does():
    from metareview.report.certainty import sof_block

    row = {"condition": "c", "outcome": "o", "timepoint_weeks": 4.0, "measure": "RR", "k": 2,
           "participants": 100.0, "relative_estimate": 1.2, "relative_ci_low": 0.9,
           "relative_ci_high": 1.6, "control_risk_per_1000": 200.0,
           "intervention_risk_per_1000": 240.0, "intervention_risk_ci_low": 180.0,
           "intervention_risk_ci_high": 320.0, "certainty_label": "low", "reasons": "",
           "overridden": "", "analysis_id": "a", "effect_words": "", "note": ""}  # fmt: skip
    same = sof_block(pd.DataFrame([row | {"level": 0.9}, row | {"level": 0.9}]), {})
    assert same["ci"] == "90% CI" and same["rows"][0]["relative"] == "RR 1.20 (0.90 to 1.60)"
    mixed = sof_block(pd.DataFrame([row | {"level": 0.95}, row | {"level": 0.9}]), {})
    assert mixed["ci"] == "CI"
    assert [r["relative"] for r in mixed["rows"]] == [
        "RR 1.20 (0.90 to 1.60; 95% CI)", "RR 1.20 (0.90 to 1.60; 90% CI)"
    ]  # fmt: skip
