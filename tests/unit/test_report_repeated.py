"""Report section of repeated timepoints and rare events: which CI it says to trust, and that a
sparse binary analysis leads with the GLMM (SYNTHETIC rows)."""

import pandas as pd

from metareview.report.repeated import repeated_section


def _ml(robust_df):
    base = {"condition": "c", "outcome": "pain", "measure": "MD", "time_moderator": "log_weeks",
            "sigma2_study": 0.2, "sigma2_effect": 0.1, "k_studies": 6, "k_effects": 15,
            "robust_se": 0.3, "robust_ci_low": -2.0, "robust_ci_high": -0.5, "note": ""}  # fmt: skip
    rows = [
        {
            **base,
            "model": "overall",
            "term": "intercept",
            "estimate": -1.3,
            "se": 0.3,
            "ci_low": -1.9,
            "ci_high": -0.7,
            "robust_df": robust_df,
        },  # fmt: skip
        {
            **base,
            "model": "time",
            "term": "intercept",
            "estimate": -1.7,
            "se": 0.4,
            "ci_low": -2.5,
            "ci_high": -1.0,
            "robust_df": robust_df + 1,
        },  # fmt: skip
        {
            **base,
            "model": "time",
            "term": "log_weeks",
            "estimate": 0.3,
            "se": 0.1,
            "ci_low": 0.03,
            "ci_high": 0.56,
            "robust_df": robust_df + 2,
        },  # fmt: skip
    ]
    return pd.DataFrame(rows)


def _rare(sparse):
    return pd.DataFrame(
        [
            {
                "condition": "c",
                "outcome": "ae_nausea",
                "timepoint_weeks": 1,
                "measure": "OR",
                "model": "UM.FS",
                "k": 5,
                "estimate": 1.2,
                "se": 0.6,
                "ci_low": 0.06,
                "ci_high": 2.35,
                "tau2": 0.0,
                "exp_events": 13,
                "exp_n": 202,
                "ctl_events": 4,
                "ctl_n": 194,
                "sparse": sparse,
                "note": "",
            }
        ]  # fmt: skip
    )


POOLED = pd.DataFrame(
    [
        {
            "condition": "c",
            "outcome": "ae_nausea",
            "timepoint_weeks": 1,
            "measure": "RR",
            "k": 5,
            "estimate": 0.9,
            "ci_low": -0.1,
            "ci_high": 1.9,
        }
    ]  # fmt: skip
)


def test_few_clusters_point_to_the_model_based_ci():
    section = repeated_section({"multilevel": _ml(3.2)}, POOLED, "c", set())
    (block,) = section["multilevel"]
    assert "model-based CI is the one to read" in block["trust"]
    assert len(block["table"]["rows"]) == 3
    assert "(df 3.2)" in block["table"]["rows"][0][3]


def test_enough_df_point_to_the_robust_ci():
    section = repeated_section({"multilevel": _ml(6.0)}, POOLED, "c", set())
    assert "cluster-robust CR2 CI" in section["multilevel"][0]["trust"]


def test_sparse_binary_analysis_leads_with_the_glmm():
    section = repeated_section({"rare_events": _rare(True)}, POOLED, "c", set())
    (block,) = section["rare_events"]
    assert block["sparse"]
    assert block["lines"][0].startswith("Few events")
    assert "GLMM is the primary result" in block["lines"][0]
    assert "inverse-variance RR" in block["lines"][1]


def test_common_binary_analysis_leads_with_inverse_variance():
    section = repeated_section({"rare_events": _rare(False)}, POOLED, "c", set())
    lines = section["rare_events"][0]["lines"]
    assert "inverse-variance RR" in lines[0]
    assert lines[1].startswith("Sensitivity: binomial-normal GLMM")


def test_other_conditions_and_missing_tables_give_empty_lists():
    assert repeated_section({}, POOLED, "c", set()) == {"multilevel": [], "rare_events": []}
    other = repeated_section({"multilevel": _ml(5.0)}, POOLED, "elsewhere", set())
    assert other["multilevel"] == []
