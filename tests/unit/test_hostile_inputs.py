"""The hostile-input probe corpus (issue 14): every finding refused cleanly, within seconds,
with file, line and column (or config key) named, or answered correctly.

Every table here is SYNTHETIC test data, not real trial results.
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metareview import io as mio
from metareview.analyses import pool_analyses
from metareview.config import load_config, load_config_file, validate_config
from metareview.effect_sizes import VI_FLOOR, EffectOptions, compute_effect_sizes
from metareview.io import load_inputs, unwritable_folders
from metareview.tables import analysis_id
from metareview.validation import InputError

BASE = Path(__file__).resolve().parents[1] / "integration" / "synthetic_review"
CRPS = "data/raw/outcomes/crps.csv"
STUDIES = "data/raw/studies.csv"
REVIEWS = "data/raw/reviews.csv"


@pytest.fixture
def review(tmp_path) -> Path:
    shutil.copytree(BASE / "data", tmp_path / "data")
    return tmp_path


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def refused(root: Path, *fragments: str) -> str:
    start = time.monotonic()
    with pytest.raises(InputError) as info:
        load_inputs(root)
    assert time.monotonic() - start < 30, "refusal took too long"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in\n{message}"
    return message


# --- 1: not regular files, size cap ----------------------------------------------------


def test_directory_named_like_a_table_is_refused(review):
    (review / "data/raw/outcomes/zdir.csv").mkdir()
    refused(review, "data/raw/outcomes/zdir.csv", "is a directory")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_hanging(review):
    os.mkfifo(review / "data/raw/outcomes/pipe.csv")
    refused(review, "data/raw/outcomes/pipe.csv", "not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_symlink_to_a_device_is_refused(review):
    (review / "data/raw/outcomes/zero.csv").symlink_to("/dev/zero")
    refused(review, "data/raw/outcomes/zero.csv", "not a regular file")


def test_oversized_file_is_refused(review, monkeypatch):
    monkeypatch.setattr(mio, "MAX_FILE_BYTES", 200)
    refused(review, STUDIES, "bytes; at most 200 bytes are read")


def test_wrong_case_extension_is_reported(review):
    shutil.copy(review / CRPS, review / "data/raw/outcomes/whiplash.CSV")
    refused(review, "whiplash.CSV", "lower-case .csv")


# --- 2: names and timepoints that cannot become file names -------------------------------


def test_long_condition_name_is_refused(review):
    shutil.copy(review / CRPS, review / f"data/raw/outcomes/{'c' * 240}.csv")
    refused(review, "240 characters long")


def test_long_outcome_is_refused(review):
    edit(review, CRPS, "syn-a,pain_intensity,1,", f"syn-a,{'o' * 250},1,")
    refused(review, CRPS, "line 2", "'outcome'", "250 characters long")


def test_huge_timepoint_is_refused(review):
    edit(review, CRPS, "syn-a,pain_intensity,1,", "syn-a,pain_intensity,1e250,")
    refused(review, CRPS, "line 2", "'timepoint_weeks'", "beyond 5200 weeks")


def test_long_ids_still_give_short_unique_file_names():
    long_c, long_o = "c" * 80, "o" * 80
    ids = {analysis_id(long_c, long_o, t) for t in (1, 2, 0.5)}
    assert len(ids) == 3 and all(len(i) <= 120 for i in ids)


# --- 3: YAML alias bombs, duplicate keys ------------------------------------------------


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        lines.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{','.join(['*' + prev] * 9)}]")
    lines.append("subgroups: *i")
    (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n")
    start = time.monotonic()
    with pytest.raises(InputError, match="aliases .* are not allowed") as info:
        load_config(tmp_path / "config.yaml")
    assert time.monotonic() - start < 5
    assert len(str(info.value)) < 500


def test_duplicate_config_keys_are_refused(tmp_path):
    (tmp_path / "config.yaml").write_text("tau2_method: DL\nlevel: 0.9\ntau2_method: REML\n")
    with pytest.raises(InputError, match="key 'tau2_method' appears twice"):
        load_config(tmp_path / "config.yaml")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "\n\n"])
def test_empty_or_comment_only_config_is_all_defaults(tmp_path, text):
    (tmp_path / "config.yaml").write_text(text)
    assert load_config(tmp_path / "config.yaml") == validate_config({})


# --- 4: every numeric setting finite and in range ---------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("level: .nan", "level"),
        ("level: .inf", "level"),
        ("harmonize_scale_to: .inf", "harmonize_scale_to"),
        ("harmonize_scale_to: .nan", "harmonize_scale_to"),
        ("crossover_correlation: .nan", "crossover_correlation"),
        ("crossover_correlation: -.inf", "crossover_correlation"),
        ("harmonize_scale_to: 1e300", "harmonize_scale_to"),
    ],
)
def test_non_finite_or_huge_settings_are_refused(tmp_path, text, key):
    (tmp_path / "config.yaml").write_text(text + "\n")
    with pytest.raises(InputError, match=f"key '{key}'"):
        load_config(tmp_path / "config.yaml")


def test_yaml_12_numbers_are_numbers(tmp_path):
    (tmp_path / "config.yaml").write_text("crossover_correlation: 5e-1\nlevel: 9.5E-1\n")
    config = load_config(tmp_path / "config.yaml")
    assert config["crossover_correlation"] == 0.5 and config["level"] == 0.95


def test_text_where_a_number_belongs_says_a_number():
    with pytest.raises(InputError) as info:
        validate_config({"crossover_correlation": "0,5"})
    assert "allowed: a number or null" in str(info.value)
    with pytest.raises(InputError) as info:
        validate_config({"level": "5e-1"})
    assert "a number" in str(info.value) and "read '5e-1' as text" in str(info.value)


def test_scalar_measure_gets_a_helpful_message():
    with pytest.raises(InputError) as info:
        validate_config({"measure": "SMD"})
    message = str(info.value)
    assert "key 'measure'" in message and "measure: {continuous: MD, binary: RR}" in message


def test_config_that_is_a_list_is_refused(tmp_path):
    (tmp_path / "config.yaml").write_text("- a\n- b\n")
    with pytest.raises(InputError, match="mapping of keys"):
        load_config(tmp_path / "config.yaml")


def test_malformed_yaml_names_the_line(tmp_path):
    (tmp_path / "config.yaml").write_text("level: 0.9\ntau2_method: [DL\n")
    with pytest.raises(InputError, match="config.yaml, line"):
        load_config_file(tmp_path / "config.yaml")


# --- 9: variances below the floor -------------------------------------------------------


def _effects(review: Path) -> pd.DataFrame:
    raw = load_inputs(review)
    return compute_effect_sizes(raw.outcomes, raw.studies, EffectOptions())


def test_generic_se_below_the_floor_is_excluded_with_reason(review):
    fib = "data/raw/outcomes/fibromyalgia.csv"
    text = (review / fib).read_text()
    (review / fib).write_text(text.replace("effect_measure,", "effect_measure,effect_se,", 1)
                              .replace("0.3,MD,", "0.3,MD,1e-160,", 1))  # fmt: skip
    effects = _effects(review)
    row = effects[effects["condition"] == "fibromyalgia"].iloc[0]
    assert not row["included"] and "below the floor" in row["exclusion_reason"]


def test_tiny_sd_gives_no_impossible_statistic(review):
    edit(review, CRPS, "20,20,4.1,1.9,5.6,2.0", "20,20,4.1,1e-150,5.6,1e-150")
    effects = _effects(review)
    row = effects[effects["study_id"].eq("syn-a") & effects["outcome"].eq("pain_intensity")]
    assert not row["included"].iloc[0]
    pooled = pool_analyses(effects, tau2_method="REML", ci_method="hksj", level=0.95)
    assert (pooled["q"].dropna() >= 0).all()
    assert pooled.loc[pooled["k"] > 1, ["i2", "h2"]].notna().all().all()
    assert VI_FLOOR == 1e-12


def test_six_identical_studies_get_a_note_on_the_zero_hksj_se():
    effects = pd.DataFrame(
        {"condition": "c", "outcome": "o", "timepoint_weeks": 1.0, "measure": "MD",
         "yi": [0.5] * 6, "vi": [0.1] * 6, "included": True, "higher_is_better": False}
    )  # fmt: skip
    row = pool_analyses(effects, tau2_method="REML", ci_method="hksj", level=0.95).iloc[0]
    assert "Knapp–Hartung SE is (near) 0" in row["note"]
    assert np.isfinite([row["i2"], row["h2"], row["q"]]).all()


# --- 11: reviews.csv validated like every table ------------------------------------------

REVIEWS_TEXT = "review_id,label,estimate,ci_low,ci_high\nr1,Review One,-1.1,-2.0,-0.2\n"


def test_latin1_reviews_csv_is_refused_with_line_and_byte(review):
    (review / REVIEWS).write_bytes(
        (REVIEWS_TEXT + "r2,Revue Sørensen,-1,-2,0\n").encode("latin-1")
    )
    message = refused(review, REVIEWS, "line 3", "not UTF-8", "byte 0xf8")
    assert "byte 11 of the line" in message


def test_ragged_reviews_csv_is_refused(review):
    (review / REVIEWS).write_text(REVIEWS_TEXT + "r2,Two,-1,-2\n")
    refused(review, REVIEWS, "line 3", "4 fields but the header has 5")


def test_reviews_numbers_are_checked(review):
    (review / REVIEWS).write_text(REVIEWS_TEXT + "r2,Two,about one,-2,0\n")
    refused(review, REVIEWS, "line 3", "'estimate'", "not a number")


def test_latin1_outcome_file_names_line_and_byte(review):
    path = review / CRPS
    path.write_bytes(path.read_bytes().replace(b"read as SEM", "read as SEM é".encode("cp1252")))
    refused(review, CRPS, "line 3", "not UTF-8", "byte 0xe9")


# --- 12: analysis ids unique ------------------------------------------------------------


def test_close_timepoints_and_double_dash_slugs_get_distinct_ids():
    rows = [
        ("c", "o", 0.142857), ("c", "o", 0.1428571),
        ("crps--pain", "x", 1.0), ("crps", "pain--x", 1.0),
    ]  # fmt: skip
    effects = pd.DataFrame(
        [{"condition": c, "outcome": o, "timepoint_weeks": t, "measure": "MD", "yi": 0.1,
          "vi": 0.1, "included": True, "higher_is_better": False} for c, o, t in rows]
    )  # fmt: skip
    pooled = pool_analyses(effects, tau2_method="DL", ci_method="z", level=0.95)
    assert len(pooled) == 4 and pooled["analysis_id"].is_unique
    again = pool_analyses(effects.iloc[::-1], tau2_method="DL", ci_method="z", level=0.95)
    assert sorted(again["analysis_id"]) == sorted(pooled["analysis_id"])


def test_one_outcome_on_two_measures_gets_two_ids():
    effects = pd.DataFrame(
        [{"condition": "c", "outcome": "o", "timepoint_weeks": 1.0, "measure": m, "yi": 0.1,
          "vi": 0.1, "included": True, "higher_is_better": False} for m in ("RR", "HR")]
    )  # fmt: skip
    pooled = pool_analyses(effects, tau2_method="DL", ci_method="z", level=0.95)
    assert sorted(pooled["analysis_id"]) == ["c--o--w1--hr", "c--o--w1--rr"]


# --- weak list --------------------------------------------------------------------------


def test_nul_bytes_are_refused(review):
    edit(review, STUDIES, "Synthetic B 2005", "Synthetic\x00B 2005")
    refused(review, STUDIES, "line 3", "NUL byte at character 16")


def test_underscored_number_is_not_nineteen(review):
    edit(review, CRPS, "20,20,4.1,1.9,", "20,20,4.1,1_9,")
    refused(review, CRPS, "line 2", "'exp_sd'", "'1_9' is not a number")


@pytest.mark.parametrize("word", ["infinity", "-Infinity", "NaN"])
def test_special_float_words_are_not_numbers(review, word):
    edit(review, CRPS, "20,20,4.1,1.9,", f"20,20,4.1,{word},")
    refused(review, CRPS, "line 2", "'exp_sd'", "not a finite number")


def test_inconsistent_higher_is_better_within_an_outcome_is_refused(review):
    edit(review, CRPS, "0,10,false,\nsyn-b", "0,10,true,\nsyn-b")
    refused(review, CRPS, "line 3", "'higher_is_better'", "true on line 2")


def test_unwritable_results_folder_gives_a_clear_message(tmp_path, monkeypatch):
    (tmp_path / "results").mkdir()

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mio.tempfile, "TemporaryFile", deny)
    message = unwritable_folders(tmp_path)
    assert "Cannot write to results/" in message and "Nothing was run" in message
    monkeypatch.undo()
    assert unwritable_folders(tmp_path) == ""


@pytest.mark.parametrize("method", ["DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB"])
def test_identical_effects_never_give_a_negative_q(method):
    """Found by the whole-review fuzz: Q = -1.3e-17 from rounding (HS, identical effects)."""
    from metareview.stats.pooling import pool

    for vi in ([0.1, 0.2, 0.3, 0.4], [1e-6, 1e-3, 1.0, 7.0], [0.04] * 4):
        fit = pool(np.full(4, 0.1823215567939546), np.array(vi), measure="RR",
                   tau2_method=method, ci_method="hksj", level=0.95).to_dict()  # fmt: skip
        assert fit["q"] >= 0 and fit["tau2"] >= 0


def test_prisma_yaml_refuses_aliases_and_duplicate_keys():
    from metareview.certainty.prisma import parse_prisma

    with pytest.raises(InputError, match="aliases"):
        parse_prisma("screened: &a 10\nassessed: *a\n", None)
    with pytest.raises(InputError, match="appears twice"):
        parse_prisma("screened: 10\nscreened: 11\n", None)
