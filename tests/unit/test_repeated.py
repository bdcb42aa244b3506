"""Table-level rules of multilevel.csv / rare_events.csv on SYNTHETIC effect sizes: which
analyses qualify, and the defined results of degenerate data."""

import numpy as np
import pandas as pd
import pytest

from metareview.repeated import (
    MULTILEVEL_COLUMNS,
    RARE_EVENTS_COLUMNS,
    multilevel_tables,
    rare_events_table,
)


def _continuous(rows):
    return pd.DataFrame(
        [
            {
                "condition": "c",
                "outcome": o,
                "measure": "MD",
                "study_id": s,
                "timepoint_weeks": w,
                "yi": y,
                "vi": v,
                "included": True,
                "exclusion_reason": "",
                "data_kind": "continuous",
            }  # fmt: skip
            for o, s, w, y, v in rows
        ]
    )


def _binary(rows, outcome="ae", week=1):
    return pd.DataFrame(
        [
            {
                "condition": "c",
                "outcome": outcome,
                "measure": "RR",
                "study_id": s,
                "timepoint_weeks": week,
                "exp_events": a,
                "exp_n": n1,
                "ctl_events": c,
                "ctl_n": n2,
                "included": not (a == 0 and c == 0),
                "data_kind": "binary",
                "exclusion_reason": "no events in both arms: RR not estimable"
                if a == c == 0
                else "",
                "yi": np.nan,
                "vi": np.nan,
            }  # fmt: skip
            for s, a, n1, c, n2 in rows
        ]
    )


SEVERAL = [
    ("pain", "a", 1, -1.0, 0.1), ("pain", "a", 4, -0.8, 0.1), ("pain", "b", 1, -1.4, 0.2),
    ("pain", "b", 12, -0.5, 0.2), ("pain", "c", 4, -0.9, 0.15), ("pain", "d", 0, -1.6, 0.1),
    ("pain", "d", 26, -0.2, 0.3), ("single", "a", 4, -1.0, 0.1), ("single", "b", 4, -0.7, 0.1),
]  # fmt: skip


def test_only_outcomes_with_two_timepoints_qualify_and_columns_follow_the_contract():
    table, course = multilevel_tables(_continuous(SEVERAL))
    assert list(table.columns) == MULTILEVEL_COLUMNS
    assert set(table["outcome"]) == {"pain"}
    assert list(table["model"]) == ["overall", "time", "time"]
    assert list(table["term"]) == ["intercept", "intercept", "log_weeks"]
    assert table["k_effects"].tolist() == [7, 6, 6]  # the week-0 effect is not in the time model
    chosen = course[course["kind"] == "chosen"]
    assert chosen["weeks"].tolist() == [1, 4, 12, 26]
    # at week 1 ln(weeks) = 0: the time model's estimate there is its intercept
    assert chosen["estimate"].iloc[0] == pytest.approx(table["estimate"].iloc[1])


def test_time_moderator_none_and_weeks():
    none, course = multilevel_tables(_continuous(SEVERAL), time_moderator="none")
    assert list(none["model"]) == ["overall"]
    assert course.empty
    weeks, _ = multilevel_tables(_continuous(SEVERAL), time_moderator="weeks")
    assert list(weeks["term"]) == ["intercept", "intercept", "weeks"]
    assert weeks["k_effects"].tolist() == [7, 7, 7]


def test_one_study_with_several_timepoints_has_no_robust_ci_and_says_why():
    rows = [("pain", "a", 1, -1.0, 0.1), ("pain", "a", 4, -0.8, 0.1), ("pain", "a", 12, -0.4, 0.2)]
    table, _ = multilevel_tables(_continuous(rows))
    assert (table["sigma2_study"] == 0).all()
    assert table["robust_se"].isna().all()
    assert table["note"].str.contains("robust CI needs more studies").all()
    assert table["note"].str.contains("one study").all()


def test_two_effects_time_model_is_empty_with_a_reason():
    rows = [("pain", "a", 1, -1.0, 0.1), ("pain", "b", 4, -0.8, 0.1)]
    table, _ = multilevel_tables(_continuous(rows))
    time = table[table["model"] == "time"]
    assert time["estimate"].isna().all()
    assert time["note"].str.contains("at least 3 effects").all()
    assert np.isfinite(table.loc[table["model"] == "overall", "estimate"]).all()


def test_rare_events_rows_and_degenerate_analyses():
    effects = pd.concat(
        [
            _binary([("a", 2, 30, 0, 30), ("b", 0, 25, 0, 24), ("c", 3, 40, 1, 38)]),
            _binary([("a", 0, 30, 0, 30), ("b", 0, 25, 0, 24)], outcome="none_at_all"),
            _binary([("a", 1, 30, 0, 30)], outcome="single"),
        ]
    )
    flat = rare_events_table(effects)
    assert list(flat.columns) == RARE_EVENTS_COLUMNS
    table = flat.set_index("outcome")
    assert "single" not in table.index  # k = 1: no row (contract: k >= 2)
    assert table.loc["ae", "k"] == 2 and table.loc["ae", "k_reported"] == 3
    assert np.isfinite(table.loc["ae", "estimate"])
    assert table.loc["ae", "sparse"]
    assert np.isnan(table.loc["none_at_all", "estimate"])
    assert "0 studies with events" in table.loc["none_at_all", "note"]
    assert np.isfinite(table.loc["ae", "mh_estimate"])
    assert np.isnan(table.loc["none_at_all", "mh_estimate"])  # Σ a·d = Σ b·c = 0: no MH OR
    assert rare_events_table(effects, model="none").empty
