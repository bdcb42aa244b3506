"""Bad input is refused with file, line and column; awkward but valid input loads.

Every table here is SYNTHETIC test data, not real trial results.
"""

import shutil
from pathlib import Path

import pytest

from metareview.config import check_config_columns, validate_config
from metareview.io import load_inputs
from metareview.validation import InputError

BASE = Path(__file__).resolve().parents[1] / "integration" / "synthetic_review"
CRPS = "data/raw/outcomes/crps.csv"
STUDIES = "data/raw/studies.csv"


@pytest.fixture
def review(tmp_path) -> Path:
    shutil.copytree(BASE / "data", tmp_path / "data")
    return tmp_path


def edit(root: Path, rel: str, old: str, new: str, count: int = 1) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def problems_of(root: Path) -> str:
    with pytest.raises(InputError) as info:
        load_inputs(root)
    return str(info.value)


# (name, file, old text, new text, expected fragments of the message)
CASES = [
    ("unknown study id", CRPS, "syn-d,pain", "syn-x,pain", [CRPS, "line 5", "'study_id'", "unknown study_id 'syn-x'"]),
    ("path-like study id", CRPS, "syn-d,pain", "../etc,pain", [CRPS, "line 5", "not a slug"]),
    ("duplicate study id", STUDIES, "syn-b,Synthetic B", "syn-a,Synthetic B", [STUDIES, "line 3", "duplicate study_id"]),
    ("bad study slug", STUDIES, "syn-b,Synthetic B", "Syn B,Synthetic B", [STUDIES, "line 3", "not a slug"]),
    ("duplicate row", CRPS, "syn-d,pain_intensity,1", "syn-a,pain_intensity,1", [CRPS, "line 5", "duplicate of line 2"]),
    ("missing required column", CRPS, "study_id,outcome,timepoint_weeks", "study_id,outcome,timepoint", [CRPS, "line 1", "'timepoint_weeks'", "missing"]),
    ("misspelled column", CRPS, "exp_sd,", "exp_sdd,", [CRPS, "'exp_sdd'", "did you mean 'exp_sd'"]),
    ("text in numeric column", CRPS, "20,20,4.1", "20,20,four", [CRPS, "line 2", "'exp_mean'", "'four' is not a number"]),
    ("negative sd", CRPS, "4.1,1.9,", "4.1,-1.9,", [CRPS, "line 2", "'exp_sd'", "must be > 0"]),
    ("zero sd", CRPS, "4.1,1.9,", "4.1,0,", [CRPS, "line 2", "'exp_sd'", "must be > 0"]),
    ("zero n", CRPS, "syn-a,pain_intensity,1,20,", "syn-a,pain_intensity,1,0,", [CRPS, "line 2", "'exp_n'", "n must be"]),
    ("fractional n", CRPS, "syn-a,pain_intensity,1,20,", "syn-a,pain_intensity,1,20.5,", [CRPS, "line 2", "'exp_n'"]),
    ("events above n", CRPS, ",8,3,", ",28,3,", [CRPS, "line 6", "'exp_events'", "exceed"]),
    ("negative events", CRPS, ",8,3,", ",-1,3,", [CRPS, "line 6", "'exp_events'"]),
    ("mean outside scale", CRPS, "20,20,4.1", "20,20,14.1", [CRPS, "line 2", "'exp_mean'", "outside the scale"]),
    ("reversed CI", CRPS, "4.0,6.0,5.0,7.2", "6.0,4.0,5.0,7.2", [CRPS, "line 4", "'exp_ci_low'", "reversed"]),
    ("negative timepoint", CRPS, "syn-a,pain_intensity,1,", "syn-a,pain_intensity,-1,", [CRPS, "line 2", "'timepoint_weeks'", "≥ 0"]),
    ("nan value", CRPS, "20,20,4.1", "20,20,nan", [CRPS, "line 2", "'exp_mean'", "not a finite number"]),
    ("inf value", CRPS, "20,20,4.1", "20,20,inf", [CRPS, "line 2", "'exp_mean'", "not a finite number"]),
    ("two kinds in one row", CRPS, ",,,0,10,false,\n", ",8,3,0,10,false,\n", [CRPS, "line 2", "two kinds"]),
    ("extra field in row", CRPS, ",,,0,10,false,\n", ",,,,0,10,false,\n", [CRPS, "line 2", "28 fields but the header has 27"]),
    ("no data in row", CRPS, "syn-a,responders,1,20,20,,,,,,,,,,,,,,,,,8,3", "syn-a,responders,1,20,20,,,,,,,,,,,,,,,,,,", [CRPS, "line 6", "no outcome data"]),
    ("incomplete continuous row", CRPS, "4.1,1.9,5.6,2.0", "4.1,1.9,5.6,", [CRPS, "line 2", "incomplete continuous row", "ctl_mean with"]),
    ("bad outcome slug", CRPS, "syn-a,pain_intensity,1,", "syn-a,Pain Intensity,1,", [CRPS, "line 2", "'outcome'", "not a slug"]),
    ("bad higher_is_better", CRPS, "0,10,false,\n", "0,10,maybe,\n", [CRPS, "line 2", "'higher_is_better'", "true/false"]),
    ("bad design", STUDIES, "2001,parallel", "2001,randomised", [STUDIES, "line 2", "'design'", "not allowed"]),
    ("bad route", STUDIES, "parallel,iv,placebo,0.5", "parallel,IV drip,placebo,0.5", [STUDIES, "line 2", "'route'"]),
    ("bad year", STUDIES, "2001,parallel", "20O1,parallel", [STUDIES, "line 2", "'year'"]),
    ("bad risk of bias", STUDIES, "1,low,SYN", "1,unclear,SYN", [STUDIES, "line 2", "'risk_of_bias'"]),
    ("empty label", STUDIES, "syn-a,Synthetic A 2001", "syn-a,", [STUDIES, "line 2", "'label'", "empty"]),
    ("single arm with control", CRPS, "syn-e,responders,1,12,", "syn-e,responders,1,12,12", [CRPS, "line 9", "single-arm"]),
    ("scale min above max", CRPS, "0,10,false,\nsyn-b", "10,0,false,\nsyn-b", [CRPS, "line 2"]),
    ("ratio effect not positive", "data/raw/outcomes/fibromyalgia.csv", "-0.8,-1.9,0.3,MD", "-0.8,-1.9,0.3,RR", ["fibromyalgia.csv", "line 2", "must be > 0"]),
    ("bad effect measure", "data/raw/outcomes/fibromyalgia.csv", ",MD,", ",WMD,", ["fibromyalgia.csv", "line 2", "'effect_measure'", "not allowed"]),
    ("effect outside its CI", "data/raw/outcomes/fibromyalgia.csv", "-0.8,-1.9,0.3", "-2.8,-1.9,0.3", ["fibromyalgia.csv", "line 2", "'effect'", "outside its CI"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "file", "old", "new", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused(review, name, file, old, new, fragments):
    edit(review, file, old, new)
    message = problems_of(review)
    for fragment in fragments:
        assert fragment in message, f"{name}: {fragment!r} not in\n{message}"


def test_empty_table(review):
    (review / CRPS).write_text("study_id,outcome,timepoint_weeks\n")
    assert "the table has no rows" in problems_of(review)


def test_empty_file(review):
    (review / CRPS).write_text("")
    assert f"{CRPS}: the file is empty" in problems_of(review)


def test_bad_condition_file_name(review):
    shutil.copy(review / CRPS, review / "data/raw/outcomes/CRPS Type 1.csv")
    assert "is not a slug" in problems_of(review)


def test_all_problems_reported_together(review):
    edit(review, CRPS, "20,20,4.1", "20,20,four")
    edit(review, CRPS, "syn-d,pain", "syn-x,pain")
    message = problems_of(review)
    assert "line 2" in message and "line 5" in message and "2 problems" in message


def test_utf8_bom_crlf_and_unicode_labels_load(review):
    studies = review / STUDIES
    text = studies.read_text(encoding="utf-8").replace(
        "Synthetic A 2001", "Sørensen <b>&</b> Jørum 2001"
    )
    studies.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    crps = review / CRPS
    crps.write_bytes(crps.read_bytes().replace(b"\n", b"\r\n"))
    raw = load_inputs(review)
    assert "Sørensen <b>&</b> Jørum 2001" in set(raw.studies["label"])
    assert list(raw.studies.columns)[0] == "study_id"


# --- config ------------------------------------------------------------------------------

CONFIG_CASES = [
    ({"tau2_method": "FOO"}, ["key 'tau2_method'", "'FOO'", "use one of DL, REML"]),
    ({"ci_method": "t"}, ["key 'ci_method'", "use one of z, hksj"]),
    ({"level": 1.5}, ["key 'level'", "1.5", "below 1"]),
    ({"level": "high"}, ["key 'level'", "'high'"]),
    ({"measure": {"continuous": "WMD"}}, ["key 'measure.continuous'", "use one of MD, SMD, ROM"]),
    ({"measure": {"binary": "HR"}}, ["key 'measure.binary'", "use one of RR, OR, RD"]),
    ({"tau2_methd": "DL"}, ["'tau2_methd' is not a known setting", "did you mean 'tau2_method'"]),
    ({"conditions": ["CRPS"]}, ["key 'conditions.0'", "slug"]),
    ({"harmonize_scale_to": -10}, ["key 'harmonize_scale_to'"]),
    ({"crossover_correlation": 2}, ["key 'crossover_correlation'"]),
    ({"subgroups": "route"}, ["key 'subgroups'"]),
]


@pytest.mark.parametrize(("config", "fragments"), CONFIG_CASES)
def test_bad_config_is_refused(config, fragments):
    with pytest.raises(InputError) as info:
        validate_config(config)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_defaults_fill_every_key():
    config = validate_config({})
    assert config["tau2_method"] == "REML" and config["ci_method"] == "hksj"
    assert config["measure"] == {"continuous": "MD", "binary": "RR"}
    assert config["level"] == 0.95 and config["conditions"] == [] and config["subgroups"] == []


def test_config_columns_must_exist_in_studies(review):
    raw = load_inputs(review)
    with pytest.raises(InputError, match="key 'subgroups': value 'routee'"):
        check_config_columns({"subgroups": ["routee"], "moderators": []}, raw.studies)
    with pytest.raises(InputError, match="must be numeric"):
        check_config_columns({"subgroups": [], "moderators": ["route"]}, raw.studies)


def test_unknown_condition_in_config(review):
    with pytest.raises(InputError, match="outcomes/pain.csv: file not found"):
        load_inputs(review, ["pain"])


def test_repository_config_validates(repo):
    import yaml

    config = validate_config(yaml.safe_load((repo / "config.yaml").read_text()))
    raw = load_inputs(repo, config["conditions"])
    check_config_columns(config, raw.studies)
