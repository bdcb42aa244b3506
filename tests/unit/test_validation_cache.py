"""Incremental validation of data/raw/ at workflow start (SYNTHETIC review copied to tmp)."""

import os
import shutil
from pathlib import Path

import pytest

import metareview.io
from metareview.config import validate_config
from metareview.validation import InputError
from metareview.validation_cache import RECORD, validate_inputs

EXAMPLE = Path(__file__).resolve().parents[1] / "integration" / "synthetic_review"


@pytest.fixture
def review(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture
def calls(monkeypatch):
    """Records the ``conditions`` argument of every load_inputs call."""
    seen = []
    real = metareview.io.load_inputs

    def spy(root, conditions=None):
        seen.append(None if conditions is None else sorted(conditions))
        return real(root, conditions)

    monkeypatch.setattr(metareview.io, "load_inputs", spy)
    return seen


CONFIG = validate_config({"subgroups": ["route"]})
ALL = ["crps", "fibromyalgia"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_unchanged_inputs_are_not_read_again(review, calls):
    assert validate_inputs(review, CONFIG, "code") == ["crps", "fibromyalgia"]
    assert calls == [ALL]
    assert validate_inputs(review, CONFIG, "code") == ["crps", "fibromyalgia"]
    assert calls == [ALL]
    assert (review / RECORD).exists()


def test_an_edited_outcome_table_is_validated_alone(review, calls):
    validate_inputs(review, CONFIG, "code")
    edit(review / "data/raw/outcomes/crps.csv", "20,20,4.1,1.9", "20,20,4.2,1.9")
    assert validate_inputs(review, CONFIG, "code") == ["crps", "fibromyalgia"]
    assert calls == [ALL, ["crps"]]


def test_a_bad_edit_fails_every_time_until_fixed(review, calls):
    validate_inputs(review, CONFIG, "code")
    crps = review / "data/raw/outcomes/crps.csv"
    edit(crps, "20,20,4.1,1.9", "20,20,4.1,-1.9")
    for _ in range(2):
        with pytest.raises(InputError, match="outcomes/crps.csv, line 2, column 'exp_sd'"):
            validate_inputs(review, CONFIG, "code")
    edit(crps, "20,20,4.1,-1.9", "20,20,4.1,1.9")
    assert validate_inputs(review, CONFIG, "code") == ["crps", "fibromyalgia"]


@pytest.mark.parametrize("change", ["studies", "new file", "config", "code"])
def test_other_changes_validate_everything(review, calls, change):
    validate_inputs(review, CONFIG, "code")
    config, code = CONFIG, "code"
    if change == "studies":
        edit(review / "data/raw/studies.csv", "Synthetic A 2001", "Synthetic A. 2001")
    elif change == "new file":
        shutil.copy(review / "data/raw/outcomes/crps.csv", review / "data/raw/outcomes/crps2.csv")
    elif change == "config":
        config = validate_config({"subgroups": ["comparator"]})
    else:
        code = "changed"
    conditions = validate_inputs(review, config, code)
    assert calls == [ALL, conditions]
    assert ("crps2" in conditions) == (change == "new file")


def test_a_bad_config_column_is_caught_from_the_record_path_too(review):
    validate_inputs(review, CONFIG, "code")
    with pytest.raises(InputError, match="not a column of data/raw/studies.csv"):
        validate_inputs(review, validate_config({"subgroups": ["nope"]}), "code")


ROB_HEADER = "study_id,outcome,d1,d2,d3,d4,d5,overall\n"


def _raw(review: Path, config: dict):
    from metareview.io import load_inputs

    return load_inputs(review, config.get("conditions") or None)


def test_a_judgement_for_an_outcome_the_study_does_not_report_is_refused(review):
    from metareview.validation_cache import cross_file_checks

    (review / "data/raw/risk_of_bias.csv").write_text(
        ROB_HEADER
        + "syn-a,,low,low,low,low,low,low\n"
        + "syn-a,pain_intensity,low,low,low,low,low,high\n"
        + "syn-b,pain_intensty,low,low,low,low,low,high\n"
    )
    with pytest.raises(InputError) as error:
        cross_file_checks(review, CONFIG, _raw(review, CONFIG))
    text = str(error.value)
    assert "1 problem" in text
    assert "data/raw/risk_of_bias.csv, line 4, column 'outcome'" in text
    assert "study 'syn-b' reports no outcome 'pain_intensty'" in text
    assert "'pain_intensity'" in text  # the outcomes it does report


def test_judgements_are_checked_against_outcomes_only_when_every_condition_is_loaded(review):
    from metareview.validation_cache import cross_file_checks

    (review / "data/raw/risk_of_bias.csv").write_text(
        ROB_HEADER + "syn-a,pain_intensity,low,low,low,low,low,high\n"
    )
    cross_file_checks(review, CONFIG, _raw(review, CONFIG))  # reported: no problem
    (review / "data/raw/risk_of_bias.csv").write_text(
        ROB_HEADER + "syn-a,only_in_another_condition,low,low,low,low,low,high\n"
    )
    one = validate_config({"subgroups": ["route"], "conditions": ["crps"]})
    cross_file_checks(review, one, _raw(review, one))  # another condition may report it
    with pytest.raises(InputError, match="reports no outcome 'only_in_another_condition'"):
        cross_file_checks(review, CONFIG, _raw(review, CONFIG))
