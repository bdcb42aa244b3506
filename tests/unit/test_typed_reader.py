"""One typed reader for every table: ids stay text, spaces never split values, extra columns
never collide, and validation is linear. Every table here is SYNTHETIC test data."""

from pathlib import Path

import pandas as pd

from metareview.analyses import pool_analyses
from metareview.effect_sizes import EffectOptions, compute_effect_sizes
from metareview.io import load_inputs, read_csv_text, read_table, validate_outcomes
from metareview.outputs import write_csv
from metareview.sensitivity import run_sensitivity

OUTCOME_HEADER = "study_id,outcome,timepoint_weeks,exp_n,ctl_n,exp_mean,exp_sd,ctl_mean,ctl_sd"


def make_review(root: Path, studies: str, outcomes: dict[str, str]) -> Path:
    raw = root / "data" / "raw"
    (raw / "outcomes").mkdir(parents=True)
    (raw / "studies.csv").write_text(studies, encoding="utf-8")
    for name, text in outcomes.items():
        (raw / "outcomes" / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def run_to_tables(root: Path, tmp: Path, subgroups=()):
    """Effect sizes and pooled table, written and re-read through the typed reader."""
    raw = load_inputs(root)
    effects = compute_effect_sizes(raw.outcomes, raw.studies, EffectOptions())
    write_csv(effects, tmp / "effect_sizes.csv")
    effects = read_table(tmp / "effect_sizes.csv")
    pooled = pool_analyses(effects, tau2_method="REML", ci_method="z", level=0.95)
    write_csv(pooled, tmp / "pooled.csv")
    studies = read_table(root / "data" / "raw" / "studies.csv")
    tables = run_sensitivity(effects, studies, subgroups=list(subgroups), ci_method="z")
    for name, table in tables.items():
        write_csv(table, tmp / f"{name}.csv")
    return (
        effects,
        read_table(tmp / "pooled.csv"),
        {n: read_table(tmp / f"{n}.csv") for n in tables},
    )


IDS = ["null", "nan", "na", "001", "1", "01", "none"]


def test_ids_that_look_like_missing_values_or_numbers_stay_ids(tmp_path):
    studies = "study_id,label,year,design,route\n" + "".join(
        f"{sid},Synthetic {sid},{2000 + i},parallel,iv\n" for i, sid in enumerate(IDS)
    )
    rows = "".join(
        f"{sid},nan,1,{20 + i},20,{4 + i / 10},1.9,5.6,2.0\n" for i, sid in enumerate(IDS)
    )
    root = make_review(tmp_path / "r", studies, {"x": OUTCOME_HEADER + "\n" + rows})
    out = tmp_path / "out"
    out.mkdir()
    effects, pooled, tables = run_to_tables(root, out, subgroups=["route"])
    assert sorted(effects["study_id"]) == sorted(IDS)
    assert pooled["outcome"].tolist() == ["nan"]
    assert pooled["k"].tolist() == [len(IDS)]
    assert sorted(tables["leave_one_out"]["omitted"]) == sorted(IDS)
    assert sorted(tables["influence"]["study_id"]) == sorted(IDS)
    assert tables["subgroups"]["level"].tolist() == ["iv"]


def test_outcomes_01_and_1_are_two_analyses(tmp_path):
    studies = "study_id,label,year,design\na,A,2001,parallel\nb,B,2002,parallel\n"
    rows = "a,01,1,20,20,4,1.9,5.6,2\nb,01,1,20,20,4.5,1.9,5.6,2\na,1,1,20,20,3,1.9,5.6,2\n"
    root = make_review(tmp_path / "r", studies, {"x": OUTCOME_HEADER + "\n" + rows})
    out = tmp_path / "out"
    out.mkdir()
    _, pooled, _ = run_to_tables(root, out)
    assert sorted(zip(pooled["outcome"], pooled["k"], strict=True)) == [("01", 2), ("1", 1)]
    assert pooled["analysis_id"].is_unique


def test_spaces_after_commas_are_stripped_everywhere(tmp_path):
    studies = (
        "study_id, label, year, design, route\n"
        "a, A, 2001, parallel, iv\nb, B, 2002, parallel,  iv\nc, C, 2003, parallel, iv \n"
    )
    rows = "a,p,1,20,20,4,1.9,5.6,2\nb,p,1,20,20,4.5,1.9,5.6,2\nc,p,1,20,20,3,1.9,5.6,2\n"
    root = make_review(tmp_path / "r", studies, {"x": OUTCOME_HEADER + "\n" + rows})
    out = tmp_path / "out"
    out.mkdir()
    _, _, tables = run_to_tables(root, out, subgroups=["route"])
    sub = tables["subgroups"]
    assert sub["level"].tolist() == ["iv"] and sub["k"].tolist() == [3]


def test_extra_columns_named_like_ours_are_kept_under_extra(tmp_path):
    studies = "study_id,label,year,design\na,A,2001,parallel\nb,B,2002,parallel\n"
    header = OUTCOME_HEADER + ",condition,design,label,year,measure,yi"
    rows = "a,p,1,20,20,4,1.9,5.6,2,other,cross,My label,1999,XX,7\n"
    rows += "b,p,1,20,20,4.5,1.9,5.6,2,other,cross,My label,1999,XX,7\n"
    root = make_review(tmp_path / "r", studies, {"x": header + "\n" + rows})
    raw = load_inputs(root)
    assert raw.outcomes["condition"].tolist() == ["x", "x"]
    assert raw.outcomes["extra_condition"].tolist() == ["other", "other"]
    assert raw.outcomes["extra_label"].tolist() == ["My label"] * 2
    effects = compute_effect_sizes(raw.outcomes, raw.studies, EffectOptions())
    assert effects["label"].tolist() == ["A", "B"]
    assert effects["design"].tolist() == ["parallel", "parallel"]
    assert effects["measure"].tolist() == ["MD", "MD"]
    assert effects["included"].all()


def test_typed_reader_declares_types(tmp_path):
    frame = pd.DataFrame(
        {
            "study_id": ["001", "null"],
            "label": ["=SUM(A1) 0", "-2+3"],
            "included": [True, False],
            "yi": [-0.5, float("nan")],
            "level": [0.95, 0.95],
        }
    )
    write_csv(frame, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text()
    assert "'=SUM(A1) 0" in text and "'-2+3" in text
    back = read_table(tmp_path / "t.csv")
    assert back["study_id"].tolist() == ["001", "null"]
    assert back["label"].tolist() == ["=SUM(A1) 0", "-2+3"]
    assert back["included"].tolist() == [True, False]
    assert back["yi"].dtype == float and back["level"].dtype == float


def test_validation_is_linear_not_quadratic(tmp_path):
    """5,000 rows: with attrs copied per row this took ~3 minutes; now well under 10 s."""
    rows = 5000
    studies = "study_id,label,year,design\n" + "".join(
        f"s{i},S {i},2000,parallel\n" for i in range(rows)
    )
    lines = "".join(f"s{i},p,1,20,20,4.1,1.9,5.6,2.0\n" for i in range(rows))
    root = make_review(tmp_path / "r", studies, {"x": OUTCOME_HEADER + "\n" + lines})
    frame = read_csv_text(root / "data/raw/outcomes/x.csv", "x.csv")
    designs = {f"s{i}": "parallel" for i in range(rows)}
    typed, problems = validate_outcomes(frame, "x.csv", "x", designs)
    assert problems == [] and len(typed) == rows
    assert typed["source_line"].iloc[-1] == rows + 1


def test_forest_plot_shows_labels_as_written_after_a_csv_round_trip(tmp_path):
    """Issue 14, item 3: neutralization is for CSV files only, never for what people see."""
    from metareview.plots.forest import forest_plot

    studies = (
        "study_id,label,year,design\na,=SUM(A1) 0,2001,parallel\nb,-2+3 trial,2002,parallel\n"
    )
    rows = "a,p,1,20,20,4,1.9,5.6,2\nb,p,1,20,20,4.5,1.9,5.6,2\n"
    root = make_review(tmp_path / "r", studies, {"x": OUTCOME_HEADER + "\n" + rows})
    out = tmp_path / "out"
    out.mkdir()
    effects, pooled, _ = run_to_tables(root, out)
    assert "'=SUM(A1) 0" in (out / "effect_sizes.csv").read_text()
    plot = forest_plot(effects, pooled.iloc[0])
    texts = pd.concat(
        [layer.geom.data for layer in plot.layers if type(layer.geom).__name__ == "geom_text"]
    )["label"].astype(str)
    assert "=SUM(A1) 0" in set(texts) and "-2+3 trial" in set(texts)
    assert not texts.str.startswith("'").any()


def test_every_entry_script_reads_tables_through_the_typed_reader():
    """Issue 14, item 6: a plain ``pd.read_csv`` re-infers types (outcome ``010`` becomes 10,
    study ``null`` becomes missing); every rule must use ``read_table``."""
    repo = Path(__file__).resolve().parents[2]
    scripts = sorted((repo / "workflow" / "scripts").glob("*.py"))
    assert scripts
    offenders = [p.name for p in scripts if "pd.read_csv(" in p.read_text(encoding="utf-8")]
    assert not offenders, f"entry scripts reading CSVs without read_table: {offenders}"
