"""Agreement with R's metafor on every reference case, measure, tau² method and CI method.

The expected values were computed by ``tests/reference/make_fixtures.R`` from the very CSV
files in ``tests/reference/cases/`` (run ``make fixtures`` to regenerate; the tests need no
R). Effect sizes and pooled results here are computed by our code from those CSVs, end to end
from raw input.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from metareview.config import validate_config
from metareview.effect_sizes import EffectOptions, compute_effect_sizes
from metareview.io import load_inputs
from metareview.stats.pooling import pool
from metareview.stats.tau2 import METAFOR_TOL

REFERENCE = Path(__file__).resolve().parents[1] / "reference"
CASES = sorted(p.stem for p in (REFERENCE / "expected").glob("*.json"))
POOLED_FIELDS = [
    "k", "estimate", "se", "ci_low", "ci_high", "p_value", "pi_low", "pi_high",
    "tau2", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high", "h2",
    "q", "q_df", "q_p", "fe_estimate", "fe_se", "fe_ci_low", "fe_ci_high",
]  # fmt: skip
#: Closed-form quantities and iterative ones solved to 1e-12 on both sides.
RTOL = 1e-6


def load_case(case: str) -> dict:
    return json.loads((REFERENCE / "expected" / f"{case}.json").read_text())


def config_for(case: str, overrides: dict) -> dict:
    config = yaml.safe_load((REFERENCE / "cases" / case / "config.yaml").read_text()) or {}
    for dotted, value in overrides.items():
        node = config
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return validate_config(config)


def our_effects(case: str, analysis: dict):
    config = config_for(case, analysis.get("config_overrides", {}))
    raw = load_inputs(REFERENCE / "cases" / case, config["conditions"])
    options = EffectOptions.from_config(config)
    effects = compute_effect_sizes(raw.outcomes, raw.studies, options)
    mask = (
        (effects["condition"] == analysis["condition"])
        & (effects["outcome"] == analysis["outcome"])
        & np.isclose(effects["timepoint_weeks"], analysis["timepoint_weeks"])
        & (effects["measure"] == analysis["measure"])
    )
    return effects[mask], config


def analyses():
    for case in CASES:
        for index, analysis in enumerate(load_case(case)["analyses"]):
            yield pytest.param(case, index, id=f"{case}-{analysis['measure']}")


def assert_close(name: str, ours, theirs, rtol: float) -> None:
    if theirs is None:
        assert ours is None or (isinstance(ours, float) and math.isnan(ours)), (
            f"{name}: {ours} vs None"
        )
        return
    assert ours == pytest.approx(theirs, rel=rtol, abs=1e-10), (
        f"{name}: ours {ours!r}, metafor {theirs!r}"
    )


@pytest.mark.parametrize(("case", "index"), analyses())
def test_effect_sizes_match_escalc(case, index):
    analysis = load_case(case)["analyses"][index]
    effects, _ = our_effects(case, analysis)
    included = effects[effects["included"]].set_index("study_id")
    expected = analysis["escalc"]
    assert sorted(included.index) == sorted(expected["study_id"])
    for sid, yi, vi in zip(expected["study_id"], expected["yi"], expected["vi"], strict=True):
        assert_close(f"{sid} yi", float(included.at[sid, "yi"]), yi, 1e-9)
        assert_close(f"{sid} vi", float(included.at[sid, "vi"]), vi, 1e-9)
    excluded = set(effects.loc[~effects["included"], "study_id"])
    assert excluded == {e["study_id"] for e in analysis["excluded"]}


@pytest.mark.parametrize(("case", "index"), analyses())
def test_pooled_results_match_rma(case, index):
    analysis = load_case(case)["analyses"][index]
    effects, config = our_effects(case, analysis)
    included = effects[effects["included"]]
    checked = 0
    for key, by_ci in analysis["pooled"].items():
        method = key.removesuffix("_default")
        # "<M>_default" was fitted with metafor's default control: convergence="metafor"
        convergence = "metafor" if key.endswith("_default") else "exact"
        for ci_method, expected in by_ci.items():
            ours = pool(
                included["yi"].to_numpy(float), included["vi"].to_numpy(float),
                tau2_method=method, ci_method=ci_method, level=config["level"],
                convergence=convergence, tau2_search_limit=True,  # metafor's confint() limit
            ).to_dict()  # fmt: skip
            for field in POOLED_FIELDS:
                if field not in expected:
                    continue
                if convergence == "metafor" and field.startswith(("tau2_ci", "i2_ci")):
                    # R's uniroot stops within tol = eps^0.25 of the root: where the bound is
                    # that small, only agreement within metafor's own tolerance is meaningful
                    bound = field.replace("i2_ci", "tau2_ci")
                    if expected[bound] is not None and abs(expected[bound]) < 1e-2:
                        assert abs(ours[bound] - expected[bound]) <= METAFOR_TOL
                        continue
                assert_close(f"{key}/{ci_method}/{field}", ours[field], expected[field], RTOL)
            checked += 1
    assert checked >= 16


@pytest.mark.parametrize(("case", "index"), analyses())
def test_uncapped_q_profile_bound_matches_metafor_with_wide_limit(case, index):
    """Where metafor's default search limit cut the tau² CI, the lifted limit agrees with us."""
    analysis = load_case(case)["analyses"][index]
    effects, config = our_effects(case, analysis)
    included = effects[effects["included"]]
    for key, by_ci in analysis["pooled"].items():
        if key.endswith("_default"):
            continue
        for ci_method, expected in by_ci.items():
            if expected.get("tau2_ci_high_wide") is None:
                continue
            ours = pool(
                included["yi"].to_numpy(float), included["vi"].to_numpy(float),
                tau2_method=key, ci_method=ci_method, level=config["level"],
                tau2_search_limit=False,
            )  # fmt: skip
            assert_close("tau2_ci_high", ours.tau2_ci_high, expected["tau2_ci_high_wide"], RTOL)
            assert_close("tau2_ci_low", ours.tau2_ci_low, expected["tau2_ci_low_wide"], RTOL)
