"""Per-condition tables stacked by metareview.gather equal the whole-review tables, byte for
byte (SYNTHETIC inputs from tests/integration/synthetic_review)."""

from pathlib import Path

import pandas as pd
import pytest

from metareview.analyses import pool_analyses
from metareview.effect_sizes import EffectOptions, compute_effect_sizes
from metareview.gather import combine, combine_files
from metareview.gather import read_table as read_part
from metareview.io import load_inputs, read_table
from metareview.outputs import write_csv
from metareview.sensitivity import TABLES, run_sensitivity

EXAMPLE = Path(__file__).resolve().parents[1] / "integration" / "synthetic_review"
OPTIONS = EffectOptions("MD", "RR", 10, None, 0.95)
POOL = {"tau2_method": "REML", "ci_method": "hksj", "level": 0.95}


def written(frame: pd.DataFrame, path: Path) -> bytes:
    write_csv(frame, path)
    return path.read_bytes()


def stages(outcomes: pd.DataFrame, studies: pd.DataFrame, tmp: Path) -> dict[str, Path]:
    """Effect sizes, pooled and sensitivity tables as the workflow writes and reads them."""
    tmp.mkdir(parents=True, exist_ok=True)
    files = {"effect_sizes": tmp / "effect_sizes.csv", "pooled": tmp / "pooled.csv"}
    write_csv(compute_effect_sizes(outcomes, studies, OPTIONS), files["effect_sizes"])
    effects = read_table(files["effect_sizes"])
    write_csv(pool_analyses(effects, **POOL), files["pooled"])
    tables = run_sensitivity(effects, studies, subgroups=["route"], moderators=["dose_mg_kg"])
    for name, table in tables.items():
        files[name] = tmp / f"{name}.csv"
        write_csv(table, files[name])
    return files


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("gather")
    raw = load_inputs(EXAMPLE)
    whole = stages(raw.outcomes, raw.studies, root / "whole")
    parts = {}
    for condition in sorted(raw.outcomes["condition"].unique()):
        one = load_inputs(EXAMPLE, [condition])
        parts[condition] = stages(one.outcomes, one.studies, root / condition)
    return whole, parts, root


@pytest.mark.parametrize("table", ["effect_sizes", "pooled", *TABLES])
def test_stacked_conditions_equal_the_whole_review(runs, table):
    whole, parts, root = runs
    assert len(parts) == 2
    out = root / f"combined_{table}.csv"
    combine_files([parts[c][table] for c in sorted(parts)], out)
    assert out.read_bytes() == whole[table].read_bytes()


def test_integer_column_empty_in_another_condition_becomes_float(tmp_path):
    # In one table [3, None] is a float column ("3.0"); stacked parts must say the same.
    whole = pd.DataFrame([{"condition": "a", "k": 3}, {"condition": "b", "k": None}])
    parts = [[{"condition": "a", "k": 3}], [{"condition": "b", "k": None}]]
    paths = []
    for i, part in enumerate(parts):
        paths.append(tmp_path / f"{i}.csv")
        write_csv(pd.DataFrame(part), paths[-1])
    assert read_part(paths[0])["k"].dtype.kind == "i"
    combine_files(paths, tmp_path / "all.csv")
    assert (tmp_path / "all.csv").read_bytes() == written(whole, tmp_path / "whole.csv")
    assert (tmp_path / "all.csv").read_text().splitlines()[1] == "a,3.0"


def test_floats_round_trip_exactly_and_slugs_stay_text(tmp_path):
    value = 0.1 + 0.2  # 0.30000000000000004
    frame = pd.DataFrame({"outcome": ["nan", "null"], "yi": [value, 1 / 3]})
    frame = pd.concat([frame, pd.DataFrame({"outcome": ["x"], "yi": [-2.5e-300]})])
    write_csv(frame, tmp_path / "a.csv")
    back = read_part(tmp_path / "a.csv")
    assert back["yi"].tolist() == [value, 1 / 3, -2.5e-300]
    assert back["outcome"].tolist() == ["nan", "null", "x"]


def test_combine_keeps_the_header_of_empty_tables():
    empty = pd.DataFrame(columns=["condition", "estimate"])
    assert list(combine([empty, empty]).columns) == ["condition", "estimate"]
    assert combine([]).empty
