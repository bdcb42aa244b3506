"""Permutation p-values of the test for subgroup differences against metafor (exact tests).

Fixture: ``tests/reference/subgroup_perm/expected.json`` from
``tests/reference/make_fixtures_subgroup_perm.R`` (metafor 3.8-1; SYNTHETIC data): every
distinct assignment of the subgroup labels is refitted with ``rma()`` per subgroup, so the
p-value has no Monte Carlo error and ours (exact enumeration too) must equal it.
"""

import json
from pathlib import Path

import pytest

from metareview.stats import subgroups
from metareview.stats.options import FitOptions

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "subgroup_perm" / "expected.json"
CASES = [
    (case, result)
    for case in json.loads(FIXTURE.read_text())["cases"]
    for result in case["results"]
]


@pytest.mark.parametrize(
    ("case", "result"),
    CASES,
    ids=[f"{c['name']}-{r['tau2_method']}-{r['ci_method']}" for c, r in CASES],
)
def test_exact_permutation_p_equals_metafor(case, result):
    opts = FitOptions(result["tau2_method"], result["ci_method"])
    yi, vi, groups = case["yi"], case["vi"], case["group"]
    observed = subgroups.test_subgroup_differences(
        *subgroups._observed(*_arrays(yi, vi, groups), opts)
    )
    assert observed.q_between == pytest.approx(result["q_between"], rel=1e-6)
    p = subgroups.permutation_p_value(yi, vi, groups, opts, n_perm=result["n_perm"], seed=1)
    assert p == pytest.approx(result["p_value"], abs=1e-12)


def _arrays(yi, vi, groups):
    import numpy as np

    keys = np.array(groups, dtype=str)
    return np.array(yi), np.array(vi), keys, np.unique(keys)
