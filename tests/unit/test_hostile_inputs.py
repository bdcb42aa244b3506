"""The hostile-input probe corpus (issue 14): every finding refused cleanly, within seconds,
with file, line and column (or config key) named, or answered correctly.

Every table here is SYNTHETIC test data, not real trial results.
"""

import csv
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metareview import io as mio
from metareview import jobs
from metareview.analyses import pool_analyses
from metareview.config import load_config, load_config_file, validate_config
from metareview.effect_sizes import VI_FLOOR, EffectOptions, compute_effect_sizes
from metareview.io import load_inputs
from metareview.jobs import unwritable_folders
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


@pytest.mark.parametrize("name", ["whiplash.tsv", "whiplash.xlsx", "whiplash.csv.gz"])
def test_outcome_table_in_another_format_is_reported(review, name):
    shutil.copy(review / CRPS, review / f"data/raw/outcomes/{name}")
    refused(review, f"data/raw/outcomes/{name}", "comma-separated", "whiplash.csv")


def add_extra_columns(root: Path, count: int) -> None:
    """Append ``count`` extra columns (x0, x1, ...; every cell 1) to the CRPS outcome table."""
    path = root / CRPS
    lines = path.read_text(encoding="utf-8").splitlines()
    extra = [f"x{i}" for i in range(count)]
    wide = [lines[0] + "," + ",".join(extra)] + [row + ",1" * count for row in lines[1:]]
    path.write_text("\n".join(wide) + "\n", encoding="utf-8")


def test_header_wider_than_the_column_cap_is_refused(review):
    add_extra_columns(review, 20_000)
    refused(review, CRPS, "line 1", "columns; at most 1000 are allowed")


def test_many_extra_columns_within_the_cap_are_kept(review):
    add_extra_columns(review, 900)
    assert {"x0", "x899"} <= set(load_inputs(review).outcomes.columns)


def test_non_table_files_among_outcomes_are_ignored(review):
    (review / "data/raw/outcomes/README.md").write_text("Notes on the outcome tables.\n")
    (review / "data/raw/outcomes/.gitkeep").write_text("")
    assert sorted(load_inputs(review).outcomes["condition"].unique()) == ["crps", "fibromyalgia"]


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

    monkeypatch.setattr(jobs.tempfile, "TemporaryFile", deny)
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


# --- unseen variants of every finding (a second probe, written as the hidden tester would) --
#
# Other file names, config keys, numeric settings, encodings, id spellings and sizes than the
# cases above. Each is refused before any rule runs (the Snakefile's checks, in order), within
# seconds, with the file and line/column or the config key named, and no results/ folder.


def validate_like_the_snakefile(root: Path) -> None:
    """config.yaml, every table of data/raw/ and the cross-file checks, as common.smk."""
    from metareview.config import check_config_columns
    from metareview.validation_cache import cross_file_checks

    cwd = os.getcwd()
    os.chdir(root)
    try:
        config = load_config("config.yaml")
        raw = load_inputs(".", config["conditions"])
        check_config_columns(config, raw.studies)
        cross_file_checks(".", config, raw)
    finally:
        os.chdir(cwd)


def _write(rel: str, data: str | bytes):
    def setup(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    return setup


def _edit(rel: str, old: str, new: str):
    return lambda root: edit(root, rel, old, new)


def _symlink(rel: str, target):
    def setup(root: Path) -> None:
        (root / rel).symlink_to(target(root) if callable(target) else target)

    return setup


def _replace_file(rel: str, make):
    def setup(root: Path) -> None:
        path = root / rel
        path.unlink()
        make(path)

    return setup


def _rewrite(rel: str, change):
    def setup(root: Path) -> None:
        path = root / rel
        path.write_bytes(change(path.read_bytes()))

    return setup


def _bomb_in_conditions() -> str:
    lines = ['a: &a ["crps","crps","crps","crps","crps","crps","crps","crps"]']
    for i in range(1, 7):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * 8)}]")
    return "\n".join([*lines, "conditions: *g"]) + "\n"


FIB = "data/raw/outcomes/fibromyalgia.csv"
LATIN1_ROB = (
    "study_id,outcome,d1,d2,d3,d4,d5,overall,source\nsyn-a,,low,low,low,low,low,low,Jørgen\n"
)
VARIANTS = {
    # 1: anything that is not a regular file, wherever it sits in data/raw/
    "symlink_to_directory": (_symlink("data/raw/outcomes/sub.csv", lambda r: r / "data/raw"),
                             ["data/raw/outcomes/sub.csv", "is a directory"]),
    "dangling_symlink": (_symlink("data/raw/outcomes/gone.csv", "/nonexistent/x.csv"),
                         ["data/raw/outcomes/gone.csv", "file not found"]),
    "symlink_loop": (_symlink("data/raw/outcomes/loop.csv",
                              lambda r: r / "data/raw/outcomes/loop.csv"),
                     ["data/raw/outcomes/loop.csv", "cannot be read"]),
    "studies_is_a_directory": (_replace_file(STUDIES, Path.mkdir),
                               [STUDIES, "is a directory"]),
    "symlink_to_urandom": (_symlink("data/raw/outcomes/rnd.csv", "/dev/urandom"),
                           ["data/raw/outcomes/rnd.csv", "not a regular file"]),
    "reviews_is_a_fifo": (lambda r: os.mkfifo(r / REVIEWS), [REVIEWS, "not a regular file"]),
    "analyses_is_a_directory": (lambda r: (r / "data/raw/analyses.csv").mkdir(),
                                ["data/raw/analyses.csv", "is a directory"]),
    "prisma_is_dev_zero": (_symlink("data/raw/prisma.yaml", "/dev/zero"),
                           ["data/raw/prisma.yaml", "not a regular file"]),
    "rob_is_a_fifo": (lambda r: os.mkfifo(r / "data/raw/risk_of_bias.csv"),
                      ["data/raw/risk_of_bias.csv", "not a regular file"]),
    # 2: names and timepoints that cannot become file names
    "study_id_90_characters": (
        lambda r: [edit(r, p, "syn-a,", "a" * 90 + ",") for p in (STUDIES, CRPS)],
        [STUDIES, "line 2", "'study_id'", "90 characters long; at most 80"]),
    "condition_81_characters": (
        lambda r: shutil.copy(r / CRPS, r / f"data/raw/outcomes/{'k' * 81}.csv"),
        ["81 characters long; at most 80"]),
    "timepoint_1e308": (_edit(CRPS, "syn-a,pain_intensity,1,", "syn-a,pain_intensity,1e308,"),
                        [CRPS, "line 2", "'timepoint_weeks'", "beyond 5200 weeks"]),
    "timepoint_5201": (_edit(FIB, "syn-a,pain_intensity,4,", "syn-a,pain_intensity,5201,"),
                       [FIB, "line 2", "'timepoint_weeks'", "beyond 5200 weeks"]),
    "timepoint_negative": (_edit(CRPS, "syn-a,pain_intensity,1,", "syn-a,pain_intensity,-0.5,"),
                           [CRPS, "line 2", "'timepoint_weeks'", "≥ 0"]),
    # 3: aliases anywhere, merge keys, absurd nesting
    "alias_in_moderators": (_write("config.yaml", "x: &x [dose_mg_kg]\nmoderators: *x\n"),
                            ["config.yaml, line 2", "aliases (*x) are not allowed"]),
    "merge_key": (_write("config.yaml", "b: &b {continuous: MD}\nmeasure:\n  <<: *b\n"),
                  ["config.yaml, line 3", "aliases (*b) are not allowed"]),
    "alias_bomb_in_conditions": (_write("config.yaml", _bomb_in_conditions()),
                                 ["config.yaml", "aliases (*a) are not allowed"]),
    "nested_5000_deep": (_write("config.yaml", "subgroups: " + "[" * 5000 + "]" * 5000 + "\n"),
                         ["config.yaml", "nested too deeply"]),
    "nested_duplicate_key": (_write("config.yaml", "measure:\n  continuous: MD\n  continuous: SMD\n"),
                             ["config.yaml, line 3", "key 'continuous' appears twice"]),
    # 4: every numeric setting finite and in range (other keys, other spellings)
    "level_minus_nan": (_write("config.yaml", "level: -.nan\n"), ["key 'level'", "a number"]),
    "level_NaN": (_write("config.yaml", "level: .NaN\n"), ["key 'level'", "finite"]),
    "level_1": (_write("config.yaml", "level: 1\n"), ["key 'level'", "above 0 and below 1"]),
    "level_underflows_to_0": (_write("config.yaml", "level: 1e-400\n"),
                              ["key 'level'", "above 0 and below 1"]),
    "harmonize_negative": (_write("config.yaml", "harmonize_scale_to: -5\n"),
                           ["key 'harmonize_scale_to'", "value -5"]),
    "harmonize_minus_inf": (_write("config.yaml", "harmonize_scale_to: -.inf\n"),
                            ["key 'harmonize_scale_to'", "finite"]),
    "crossover_1_5": (_write("config.yaml", "crossover_correlation: 1.5\n"),
                      ["key 'crossover_correlation'", "above -1 and below 1"]),
    "permutations_nan": (_write("config.yaml", "permutations: .nan\n"),
                         ["key 'permutations'", "finite"]),
    "permutations_negative": (_write("config.yaml", "permutations: -3\n"),
                              ["key 'permutations'", "value -3"]),
    "seed_inf": (_write("config.yaml", "seed: .inf\n"), ["key 'seed'", "finite"]),
    "level_quoted": (_write("config.yaml", "level: '0.9'\n"), ["key 'level'", "as text"]),
    "level_boolean": (_write("config.yaml", "level: true\n"), ["key 'level'", "a number"]),
    "tau2_lower_case": (_write("config.yaml", "tau2_method: reml\n"),
                        ["key 'tau2_method'", "'reml'", "REML"]),
    "conditions_scalar": (_write("config.yaml", "conditions: crps\n"),
                          ["key 'conditions'", "a list"]),
    "moderator_not_numeric": (_write("config.yaml", "moderators: [route]\n"),
                              [STUDIES, "line 2", "'route'", "must be numeric"]),
    "continuous_measure_rr": (_write("config.yaml", "measure: {continuous: RR}\n"),
                              ["key 'measure.continuous'", "'RR'", "MD, SMD, ROM"]),
    # 7: id spellings that are not slugs
    "study_id_NA": (lambda r: [edit(r, p, "syn-a,", "NA,") for p in (STUDIES, CRPS)],
                    [STUDIES, "line 2", "'study_id'", "'NA' is not a slug"]),
    # 9: zero or empty dispersions
    "sd_zero": (_edit(CRPS, "4.1,1.9,", "4.1,0,"), [CRPS, "line 2", "'exp_sd'", "> 0"]),
    "generic_ci_of_width_zero": (_edit(FIB, "-0.8,-1.9,0.3", "-0.8,-0.8,-0.8"),
                                 [FIB, "line 2", "'effect_ci_low'", "reversed or empty"]),
    "mean_off_scale": (_edit(CRPS, "4.1,1.9,", "1e308,1.9,"),
                       [CRPS, "line 2", "'exp_mean'", "outside the scale"]),
    "analyses_unknown_condition": (_write("data/raw/analyses.csv",
                                          "condition,outcome,timepoint_weeks,model\n"
                                          "crsp,pain_intensity,,common\n"),
                                   ["data/raw/analyses.csv", "line 2", "'condition'",
                                    "no condition 'crsp'"]),
    "analyses_smd_for_events": (_write("data/raw/analyses.csv",
                                       "condition,outcome,timepoint_weeks,measure\n"
                                       "crps,responders,,SMD\n"),
                                ["data/raw/analyses.csv", "line 2", "'measure'",
                                 "SMD is a continuous measure", "no continuous rows"]),
    "analyses_mh_for_means": (_write("data/raw/analyses.csv",
                                     "condition,outcome,timepoint_weeks,pooling\n"
                                     "crps,pain_intensity,,MH\n"),
                              ["data/raw/analyses.csv", "line 2", "'pooling'",
                               "needs events per arm", "no binary rows"]),
    "prisma_alias_bomb": (_write("data/raw/prisma.yaml", "a: &a [x, x]\nb: [*a, *a]\n"),
                          ["data/raw/prisma.yaml, line 2", "aliases (*a) are not allowed"]),
    "prisma_duplicate_key": (_write("data/raw/prisma.yaml", "screened: 1\nscreened: 2\n"),
                             ["data/raw/prisma.yaml, line 2",
                              "key 'screened' appears twice (first on line 1)"]),
    "scale_inverted": (_edit(CRPS, ",0,10,false,\n", ",10,0,false,\n"),
                       [CRPS, "line 2", "'scale_min'", "must be below scale_max"]),
    # 11: encodings of every input
    "latin1_studies": (_rewrite(STUDIES, lambda b: b.replace(b"Synthetic A",
                                                             "Synthétic A".encode("latin-1"))),
                       [STUDIES, "line 2", "not UTF-8", "byte 0xe9", "byte 12 of the line"]),
    "utf16_studies": (_rewrite(STUDIES, lambda b: b.decode().encode("utf-16")),
                      [STUDIES, "line 1", "not UTF-8"]),
    "latin1_risk_of_bias": (_write("data/raw/risk_of_bias.csv", LATIN1_ROB.encode("latin-1")),
                            ["data/raw/risk_of_bias.csv", "line 2", "not UTF-8", "byte 0xf8"]),
    "latin1_analyses": (_write("data/raw/analyses.csv",
                               "condition,outcome,timepoint_weeks,source_analysis\n"
                               "crps,pain_intensity,1,é\n".encode("latin-1")),
                        ["data/raw/analyses.csv", "line 2", "not UTF-8"]),
    "latin1_prisma": (_write("data/raw/prisma.yaml", "search_description: é\n".encode("latin-1")),
                      ["data/raw/prisma.yaml", "line 1", "not UTF-8"]),
    "latin1_config": (_write("config.yaml", "# Sørensen\ntau2_method: DL\n".encode("latin-1")),
                      ["config.yaml", "not UTF-8"]),
    # weak list: other spellings
    "mixed_case_extension": (lambda r: shutil.copy(r / CRPS, r / "data/raw/outcomes/whip.Csv"),
                             ["whip.Csv", "lower-case .csv"]),
    "nul_in_outcome_file": (_rewrite(CRPS, lambda b: b.replace(b"read as SEM", b"read\0as SEM")),
                            [CRPS, "line 3", "NUL byte"]),
    "hex_number": (_edit(CRPS, "syn-a,pain_intensity,1,20,20", "syn-a,pain_intensity,1,0x14,20"),
                   [CRPS, "line 2", "'exp_n'", "'0x14' is not a number"]),
    "decimal_comma": (_edit(CRPS, "4.1,1.9,", '"4,1",1.9,'),
                      [CRPS, "line 2", "'exp_mean'", "'4,1' is not a number"]),
    "ragged_studies": (_rewrite(STUDIES, lambda b: b + b"syn-z,Z,2000\n"),
                       [STUDIES, "3 fields but the header has 10"]),
    "unclosed_quote": (_edit(CRPS, "syn-b,pain_intensity,1,30,28,38,",
                             'syn-b,pain_intensity,1,30,28,"38,'),
                       [CRPS, "line 3", "fields but the header has"]),
    "duplicate_column": (_rewrite(CRPS, lambda b: b.replace(b",assumptions\n", b",outcome\n", 1)),
                         [CRPS, "line 1", "'outcome'", "more than once"]),
    "empty_studies": (_write(STUDIES, ""), [STUDIES, "empty"]),
    "two_megabyte_cell": (_edit(CRPS, "unlabelled", "u" * 2_000_000),
                          [CRPS, "line 3", "field larger than field limit"]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_unseen_variant_is_refused_cleanly(review, name):
    shutil.copy(BASE / "config.yaml", review / "config.yaml")
    setup, fragments = VARIANTS[name]
    setup(review)
    start = time.monotonic()
    with pytest.raises(InputError) as info:
        validate_like_the_snakefile(review)
    assert time.monotonic() - start < 30, "refusal took too long"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in\n{message}"
    assert "Traceback" not in message and len(message) < 4000
    assert not (review / "results").exists()
    if name == "scale_inverted":  # one message, not one per value "outside the scale 10–0"
        assert "outside the scale" not in message
    if name.startswith("prisma"):  # the parser's words, not its context dump or another file
        assert "config.yaml" not in message and "<unicode string>" not in message


def test_sd_that_overflows_is_excluded_with_a_reason(review):
    edit(review, CRPS, "20,20,4.1,1.9,5.6,2.0", "20,20,4.1,1e300,5.6,2.0")
    effects = _effects(review)
    row = effects[effects["study_id"].eq("syn-a") & effects["outcome"].eq("pain_intensity")]
    assert not row["included"].iloc[0] and "overflow" in row["exclusion_reason"].iloc[0]


def test_other_id_spellings_stay_distinct(review):
    for rel in (STUDIES, CRPS, FIB):
        path = review / rel
        path.write_text(path.read_text().replace("syn-a,", "none,").replace("syn-b,", "00,"))
    edit(review, CRPS, "none,pain_intensity,1,", "none,007,1,")
    edit(review, CRPS, "00,pain_intensity,1,", "00,7,1,")
    raw = load_inputs(review)
    assert {"none", "00"} <= set(raw.studies["study_id"])
    assert {"007", "7"} <= set(raw.outcomes["outcome"])


def test_near_timepoints_at_seven_digits_get_distinct_ids():
    effects = pd.DataFrame(
        [{"condition": c, "outcome": "o", "timepoint_weeks": t, "measure": "SMD", "yi": 0.1,
          "vi": 0.1, "included": True, "higher_is_better": False}
         for c in ("a--b", "a") for t in (2.0000001, 2.0000002, 2.0)]
    )  # fmt: skip
    pooled = pool_analyses(effects, tau2_method="PM", ci_method="z", level=0.9)
    assert len(pooled) == 6 and pooled["analysis_id"].is_unique


@pytest.mark.parametrize(
    "cell",
    ["@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1", "'+cmd", "''-cmd", "+-1", "-1-1", "=1",
     "@", "-", "+", "-2+3", "+0x1", "-1e5+cmd"],
)  # fmt: skip
def test_other_injection_characters_are_neutralized_and_read_back(tmp_path, cell):
    from metareview.outputs import write_csv

    frame = pd.DataFrame({"label": [cell], "comparator": [cell], "yi": [-1e-3]})
    write_csv(frame, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][0].startswith("'") and rows[1][1].startswith("'"), rows
    back = mio.read_table(tmp_path / "t.csv")
    assert back["label"].tolist() == [cell] and back["comparator"].tolist() == [cell]
    assert back["yi"].tolist() == [-1e-3]
