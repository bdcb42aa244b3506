"""run_sensitivity (the table driver) against metafor fixtures, its edge cases and entry script."""

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from metareview.sensitivity import COLUMNS, KEYS, TABLES, run_sensitivity
from metareview.stats.pooling import pool

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tests" / "reference"


def reference_cases() -> list:
    """One param per fixture case with sensitivity blocks × tau² method × CI method."""
    params = []
    for path in sorted((REFERENCE / "expected").glob("*.json")):
        case = json.loads(path.read_text())
        analyses = [a for a in case["analyses"] if "sensitivity" in a]
        if not analyses:
            continue
        for method, by_ci in analyses[0]["sensitivity"].items():
            for ci in by_ci:
                params.append(
                    pytest.param(path.stem, case, method, ci, id=f"{path.stem}-{method}-{ci}")
                )
    reason = "no metafor fixtures: run tests/reference/make_fixtures.R"
    return params or [pytest.param(*[None] * 4, marks=pytest.mark.skip(reason=reason))]


def effects_of(case: dict, studies: pd.DataFrame) -> pd.DataFrame:
    """An effect_sizes.csv-like frame from the fixture's escalc values."""
    frames = []
    for a in case["analyses"]:
        if "sensitivity" not in a:
            continue
        frame = pd.DataFrame({k: a["escalc"][k] for k in ("study_id", "yi", "vi")})
        frames.append(frame.assign(**{k: a[k] for k in KEYS}, included=True))
    labels = studies[["study_id", "label", "year"]]
    return pd.concat(frames, ignore_index=True).merge(labels, on="study_id", how="left")


def assert_rows_match(ours: pd.DataFrame, expected: list, key: str, columns, rtol: float):
    """Each expected row (metafor names mapped where they differ) equals ours by ``key``."""
    assert sorted(ours[key].astype(str)) == sorted(str(r[key]) for r in expected)
    indexed = ours.set_index(ours[key].astype(str))
    for want in expected:
        row = indexed.loc[str(want[key])]
        for ours_name, theirs in columns.items():
            if want[theirs] is None:
                assert np.isnan(row[ours_name]) and row["note"], (want[key], ours_name)
                continue
            assert_allclose(row[ours_name], want[theirs], rtol=rtol, atol=1e-6, err_msg=ours_name)


def same(*names: str) -> dict:
    return {n: n for n in names}


ESTIMATES = same("estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2", "q")
#: table -> (row key, {our column: metafor's}); subgroups get a key "column=level"
MATCHED = {
    "subgroups": ("key", same("k", "estimate", "se", "ci_low", "ci_high", "tau2", "i2")),
    "subgroup_tests": ("subgroup", same("q_between", "df", "p_value")),
    "metaregression": ("moderator", same("k", "intercept", "slope", "slope_se", "slope_p", "r2")),
    "leave_one_out": ("omitted", ESTIMATES),
    "influence": ("study_id", same("rstudent", "dffits", "cooks_d", "cov_r", "tau2_del", "hat")),
}
MATCHED["metaregression"][1].update(same("slope_ci_low", "slope_ci_high", "tau2"))
MATCHED["influence"][1].update({"weight": "weight", "qe_del": "q_del", "dfbetas": "dfbs"})


@pytest.mark.parametrize(("name", "case", "method", "ci"), reference_cases())
def test_tables_match_metafor(name, case, method, ci):
    studies = pd.read_csv(REFERENCE / "cases" / name / "data/raw/studies.csv")
    config = case["config"]
    tables = run_sensitivity(
        effects_of(case, studies),
        studies,
        tau2_method=method,
        ci_method=ci,
        level=config["level"],
        subgroups=config.get("subgroups") or [],
        moderators=config.get("moderators") or [],
    )
    tables["subgroups"]["key"] = (
        tables["subgroups"]["subgroup"] + "=" + tables["subgroups"]["level"]
    )
    rtol = 1e-6 if method == "DL" else 1e-4
    for a in (a for a in case["analyses"] if "sensitivity" in a):
        block = a["sensitivity"][method][ci]
        for r in block["subgroups"]:
            r["key"] = f"{r['subgroup']}={r['level']}"
        ours = {
            t: f[(f[KEYS] == pd.Series({k: a[k] for k in KEYS})).all(axis=1)]
            for t, f in tables.items()
        }
        for table, (key, columns) in MATCHED.items():
            if f"{table}_error" not in block:  # metafor failed (identical effects under HKSJ)
                assert_rows_match(ours[table], block[table], key, columns, rtol)
        if "influence_error" not in block:
            flagged = ours["influence"].set_index("study_id")["influential"]
            assert all(flagged[r["study_id"]] == r["is_infl"] for r in block["influence"])

        (small,) = ours["small_study"].to_dict("records")
        ss = block["small_study"]
        assert small["k"] == len(a["escalc"]["yi"])
        if "trimfill_error" not in ss:  # identical effects: see test_small_study
            for column in ("egger_t", "egger_p", "begg_tau", "begg_p"):
                assert_allclose(small[column], ss[column], rtol=1e-6, atol=1e-12, err_msg=column)
            assert small["trimfill_k0"] == ss["trimfill_k0"]
            assert small["trimfill_side"] == ss["trimfill_side"]
            refit = ss.get("trimfill_refit_knha") if ci == "hksj" and ss["trimfill_k0"] else None
            for field in ("estimate", "ci_low", "ci_high"):
                want = refit[field] if refit else ss[f"trimfill_{field}"]
                assert_allclose(small[f"trimfill_{field}"], want, rtol=2e-3, err_msg=field)
            filled = ours["trimfill_filled"]["yi"].to_numpy(dtype=float)
            assert_allclose(filled, np.asarray(ss["trimfill_filled_yi"], dtype=float), rtol=2e-3)

        cumul = ours["cumulative"]
        assert cumul["k"].tolist() == list(range(1, len(a["escalc"]["yi"]) + 1))
        if cumul["added"].tolist() == [r["added"] for r in block["cumulative"]]:  # no year ties
            # step 1: metafor says tau² = 0 (ours empty, noted); None: metafor's REML failed
            rows = [r for r in block["cumulative"][1:] if r["estimate"] is not None]
            later = cumul[cumul["added"].isin([r["added"] for r in rows])]
            assert_rows_match(later, rows, "added", ESTIMATES, rtol)


STUDIES = pd.DataFrame(
    {
        "study_id": ["s1", "s2", "s3", "s4", "s5"],
        "label": ["Alpha 2001", "Bravo 2003", "Charlie 2003", "Delta 2005", "Echo 2007"],
        "year": [2001, 2003, 2003, 2005, 2007],
        "route": ["iv", "iv", "oral", "oral", None],
        "dose_mg_kg": [0.1, 0.2, 0.3, None, 0.5],
        "sessions": [1, 1, 1, 1, 1],
        "risk_of_bias": ["low", "high", "some", "low", "high"],
    }
)


def effects(k: int = 5, condition: str = "crps", **extra) -> pd.DataFrame:
    rng = np.random.default_rng(k)
    vi = rng.uniform(0.02, 0.2, k)
    frame = pd.DataFrame(
        {
            "condition": condition,
            "study_id": STUDIES["study_id"][:k],
            "outcome": "pain_intensity",
            "timepoint_weeks": 1.0,
            "measure": "SMD",
            "yi": rng.normal(-0.4, np.sqrt(vi + 0.05)),
            "vi": vi,
            "included": True,
            "label": STUDIES["label"][:k],
            "year": STUDIES["year"][:k],
        }
    )
    return frame.assign(**extra)


def run(frame: pd.DataFrame, **kwargs) -> dict:
    options = {"tau2_method": "REML", "ci_method": "hksj", "level": 0.95}
    options |= {"subgroups": ["route", "risk_of_bias"], "moderators": ["dose_mg_kg", "sessions"]}
    return run_sensitivity(frame, STUDIES, **(options | kwargs))


def test_empty_input_gives_empty_tables_with_headers():
    tables = run(effects().iloc[:0])
    assert tuple(tables) == TABLES
    for name, table in tables.items():
        assert table.empty and list(table.columns) == COLUMNS[name]
        assert list(table.columns[:4]) == KEYS


def test_every_table_starts_with_the_analysis_keys_and_is_sorted():
    frame = pd.concat([effects(5, "pdn"), effects(4, "crps")], ignore_index=True)
    tables = run(frame)
    for name, table in tables.items():
        assert list(table.columns[:4]) == KEYS, name
        conditions = table["condition"].tolist()
        assert conditions == sorted(conditions), name
    assert tables["cumulative"]["added"].tolist()[:4] == ["s1", "s2", "s3", "s4"]  # crps first


def test_fewer_than_three_studies():
    tables = run(effects(2))
    for name in ("small_study", "leave_one_out", "influence", "metaregression", "trimfill_filled"):
        assert tables[name].empty, name
    assert len(tables["cumulative"]) == 2
    sub = tables["subgroups"].set_index(["subgroup", "level"])["k"]
    assert sub.to_dict() == {
        ("route", "iv"): 2,
        ("risk_of_bias", "high"): 1,
        ("risk_of_bias", "low"): 1,
    }


def test_subgroup_level_with_one_study_and_missing_values():
    sub = run(effects(5))["subgroups"]
    route = sub[sub["subgroup"] == "route"].set_index("level")
    assert route.loc["iv", "k"] == 2 and route.loc["oral", "k"] == 2
    assert (route["n_missing"] == 1).all()
    assert route["note"].str.contains("1 study without a value").all()


def test_moderator_with_one_value_gives_no_row():
    mr = run(effects(5))["metaregression"]
    assert mr["moderator"].tolist() == ["dose_mg_kg"]
    assert mr.loc[0, "k"] == 4 and mr.loc[0, "n_missing"] == 1


def test_risk_of_bias_sensitivity():
    rob = run(effects(5))["rob_sensitivity"].iloc[0]
    assert (rob["k_before"], rob["k_after"], rob["n_high"]) == (5, 3, 2)
    assert rob["excluded"] == "s2;s5"
    studies = STUDIES.assign(risk_of_bias="low")
    low = run_sensitivity(effects(5), studies)["rob_sensitivity"].iloc[0]
    assert low["k_after"] == 5 and "no study at high risk" in low["note"]
    without = run_sensitivity(effects(5), STUDIES.drop(columns="risk_of_bias"))
    assert without["rob_sensitivity"].empty


def test_no_silent_nan():
    frame = pd.concat([effects(5), effects(3, "pdn"), effects(1, "zz")], ignore_index=True)
    studies = STUDIES.assign(risk_of_bias=["high", "high", "high", "low", "low"])
    tables = run_sensitivity(frame, studies, subgroups=["route"], moderators=["dose_mg_kg"])
    for name, table in tables.items():
        numbers = table.select_dtypes("number")
        undefined = numbers.isna().any(axis=1)
        if "note" in table:
            assert (table.loc[undefined, "note"] != "").all(), name
        else:
            assert not undefined.any(), name


def test_excluded_rows_are_left_out():
    frame = effects(5, included=["True", "true", "False", "TRUE", "yes"])
    assert run(frame)["small_study"].loc[0, "k"] == 4


def test_bad_columns_stop_with_a_message():
    with pytest.raises(ValueError, match="no column"):
        run(effects(5), subgroups=["country"])
    studies = STUDIES.assign(sessions=["1", "2", "many", "1", "1"])
    with pytest.raises(ValueError, match="'sessions' must be numeric"):
        run_sensitivity(effects(5), studies, moderators=["sessions"])


def test_convergence_setting_reaches_every_refit():
    frame = effects(5)
    tables = run(frame, convergence="metafor")
    yi, vi = frame["yi"].to_numpy()[1:], frame["vi"].to_numpy()[1:]
    loo = tables["leave_one_out"].set_index("omitted")
    for convergence in ("metafor", "exact"):
        fit = pool(yi, vi, tau2_method="REML", ci_method="hksj", convergence=convergence)
        # batched refits agree with a one-analysis fit to rounding; the settings differ ~1e-6
        matches = abs(loo.loc["s1", "tau2"] - fit.tau2) <= 1e-13 * fit.tau2
        assert matches == (convergence == "metafor")


class Outputs(dict):
    """Stand-in for Snakemake's named output list: names → paths."""

    __getattr__ = dict.__getitem__


def test_entry_script_writes_every_table_into_its_folder(tmp_path):
    path = REPO / "workflow" / "scripts" / "analyse_sensitivity.py"
    spec = importlib.util.spec_from_file_location("analyse_sensitivity", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    effects(5).to_csv(tmp_path / "effects.csv", index=False)
    STUDIES.to_csv(tmp_path / "studies.csv", index=False)
    folder = tmp_path / "sensitivity"
    smk = SimpleNamespace(
        input=SimpleNamespace(effects=tmp_path / "effects.csv", studies=tmp_path / "studies.csv"),
        output=Outputs({"tables": folder}),
        params=SimpleNamespace(
            tau2_method="DL",
            ci_method="z",
            level=0.95,
            subgroups=["route"],
            moderators=None,
            convergence="exact",
            permutations=50,
            seed=1,
        ),
        log=[tmp_path / "log.txt"],
    )
    script.main(smk)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.csv" for n in TABLES)
    for name in TABLES:
        written = pd.read_csv(folder / f"{name}.csv", keep_default_na=False)
        assert list(written.columns) == COLUMNS[name]
        assert b"\r\n" not in (folder / f"{name}.csv").read_bytes()


def test_the_table_names_the_snakefile_uses_are_the_tables_written():
    from metareview.jobs import SENSITIVITY_TABLES
    from metareview.sensitivity import COLUMNS

    assert tuple(COLUMNS) == SENSITIVITY_TABLES
