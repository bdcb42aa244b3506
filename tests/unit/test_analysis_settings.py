"""data/raw/analyses.csv: validation (file, line, column) and per-analysis overrides."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metareview.analyses import pool_analyses
from metareview.analysis_settings import (
    ANALYSES_FILE,
    AnalysisSettings,
    check_analyses_against,
    read_analyses,
    settings_for,
)
from metareview.review_labels import ReviewLabels, current_labels, use_labels
from metareview.validation import InputError


def write(tmp_path, text: str):
    path = tmp_path / ANALYSES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return tmp_path


def test_absent_file_gives_an_empty_table(tmp_path):
    assert read_analyses(tmp_path).empty


def test_typed_table_keeps_extra_columns(tmp_path):
    root = write(
        tmp_path,
        "condition,outcome,timepoint_weeks,model,pooling,level,grade_note\n"
        "crps,pain,,common,MH,0.9,keep me\n",
    )
    table = read_analyses(root)
    assert table.loc[0, "grade_note"] == "keep me"
    assert np.isnan(table.loc[0, "timepoint_weeks"]) and table.loc[0, "level"] == 0.9


def test_bad_values_name_file_line_and_column(tmp_path):
    root = write(
        tmp_path,
        "condition,outcome,timepoint_weeks,model,pooling,measure,level\n"
        "crps,pain,1,mixed,IV,,0.95\n"
        "crps,pain,1,random,MH,MD,1.5\n"
        "Bad Slug,pain,,random,IV,,\n",
    )
    with pytest.raises(InputError) as err:
        read_analyses(root)
    text = str(err.value)
    assert "data/raw/analyses.csv, line 2, column 'model': 'mixed' is not allowed" in text
    assert "line 3, column 'pooling': MH pooling needs a binary measure" in text
    assert "line 3, column 'level'" in text
    assert "line 3: the same analysis is already set on line 2" in text
    assert "line 4, column 'condition'" in text


def test_rows_must_name_existing_outcomes(tmp_path):
    root = write(tmp_path, "condition,outcome\ncrps,nothing\n")
    outcomes = pd.DataFrame({"condition": ["crps"], "outcome": ["pain"]})
    with pytest.raises(InputError, match="line 2, column 'outcome': no outcome 'nothing'"):
        check_analyses_against(read_analyses(root), outcomes)


def test_exact_timepoint_beats_blank(tmp_path):
    root = write(
        tmp_path,
        "condition,outcome,timepoint_weeks,tau2_method,source_analysis\n"
        "crps,pain,,DL,1.1\ncrps,pain,4,PM,1.2\n",
    )
    table = read_analyses(root)
    base = AnalysisSettings()
    assert settings_for(table, base, "crps", "pain", 4.0).tau2_method == "PM"
    assert settings_for(table, base, "crps", "pain", 1.0).source_analysis == "1.1"
    assert settings_for(table, base, "crps", "other", 1.0) == base


def effects_table() -> pd.DataFrame:
    """SYNTHETIC binary effects of one analysis (counts invented for the test)."""
    a, n1, c, n2 = [5, 9, 3, 12], [40, 50, 30, 60], [9, 14, 6, 15], [41, 52, 29, 58]
    a_, n1_, c_, n2_ = (np.asarray(x, float) for x in (a, n1, c, n2))
    yi = np.log((a_ / n1_) / (c_ / n2_))
    vi = 1 / a_ - 1 / n1_ + 1 / c_ - 1 / n2_
    return pd.DataFrame(
        {
            "condition": "crps",
            "outcome": "ae",
            "timepoint_weeks": 0.0,
            "measure": "RR",
            "yi": yi,
            "vi": vi,
            "included": True,
            "higher_is_better": False,
            "exp_events": a,
            "exp_n": n1,
            "ctl_events": c,
            "ctl_n": n2,
        }
    )


def test_pooled_rows_follow_the_settings(tmp_path):
    root = write(
        tmp_path,
        "condition,outcome,model,pooling,source_analysis\ncrps,ae,common,MH,2.3\n",
    )
    pooled = pool_analyses(
        effects_table(), tau2_method="REML", ci_method="hksj", level=0.95,
        settings=read_analyses(root),
    )  # fmt: skip
    row = pooled.iloc[0]
    assert (row["pooling_method"], row["model"], row["source_analysis"]) == ("MH", "common", "2.3")
    assert row["estimate"] == row["fe_estimate"] and np.isnan(row["tau2"])
    default = pool_analyses(effects_table(), tau2_method="REML", ci_method="hksj", level=0.95)
    assert default.iloc[0]["pooling_method"] == "IV" and default.iloc[0]["model"] == "random"
    assert default.iloc[0]["estimate"] != pytest.approx(row["estimate"])


def test_review_labels_default_neutral_and_configurable():
    assert current_labels().favours == ("Favours experimental", "Favours control")
    with use_labels({"title": "Aspirin after MI", "intervention": "aspirin"}) as labels:
        assert current_labels() is labels
        assert labels.report_title == "Aspirin after MI: meta-analysis report"
        assert labels.favours == ("Favours aspirin", "Favours control")
        assert labels.experimental_heading == "Aspirin"
    assert current_labels() == ReviewLabels()


def test_measure_override_recomputes_that_analysis_only(tmp_path):
    from metareview.analysis_settings import compute_effects_with_settings
    from metareview.effect_sizes import EffectOptions
    from metareview.io import load_inputs

    example = Path(__file__).resolve().parents[1] / "integration" / "synthetic_review"
    raw = load_inputs(example)
    first = raw.outcomes.iloc[0]
    kind_measure = "SMD" if first["data_kind"] == "continuous" else "OR"
    root = write(
        tmp_path,
        f"condition,outcome,measure\n{first['condition']},{first['outcome']},{kind_measure}\n",
    )
    options = EffectOptions()
    effects = compute_effects_with_settings(
        raw.outcomes, raw.studies, options, read_analyses(root)
    )
    key = (effects["condition"] == first["condition"]) & (effects["outcome"] == first["outcome"])
    same_kind = effects["data_kind"] == first["data_kind"]
    assert set(effects.loc[key & same_kind, "measure"]) == {kind_measure}
    assert kind_measure not in set(effects.loc[~key & same_kind, "measure"])
    assert len(effects) == len(raw.outcomes)


def test_methods_name_mh_and_common_analyses():
    from metareview.report.analysis_methods import analysis_methods

    pooled = pd.DataFrame(
        {
            "condition": ["c", "c"],
            "outcome": ["a", "b"],
            "pooling_method": ["MH", "IV"],
            "model": ["random", "common"],
            "source_analysis": ["1.1", ""],
        }
    )
    lines = analysis_methods(pooled, "revman")
    assert "Mantel–Haenszel pooling" in lines[0] and "c · a (RevMan 1.1)" in lines[0]
    assert lines[1].startswith("Common-effect model") and "c · b" in lines[1]
    assert "RevMan conventions" in lines[2]
    assert analysis_methods(pooled.assign(pooling_method="IV", model="random")) == []
