"""The one-analysis fast path of ``pool()`` (stats/fast.py) is the batched engine, bit for bit.

SYNTHETIC data (seeded). Equality, not closeness: the fast path promises the same floating-point
operations in the same order, so the published results cannot move when pool() takes it.
"""

import math

import numpy as np
import pytest

from metareview.stats import fast, gosh, single, solvers
from metareview.stats.colsum import colsum
from metareview.stats.engine import make_batch
from metareview.stats.options import TAU2_METHODS, FitOptions
from metareview.stats.pooling import pool
from metareview.stats.summaries import q_profile, summarize


def _cases():
    rng = np.random.default_rng(20261122)
    out = []
    for k in (2, 3, 5, 9, 17, 40):
        y = rng.normal(0.2, 0.5, k)
        v = rng.uniform(0.01, 0.3, k)
        out.append((y, v))
    out.append((np.full(6, 0.3), rng.uniform(0.01, 0.3, 6)))  # tau2 = 0, identical effects
    out.append((rng.normal(0, 0.01, 8), rng.uniform(0.5, 1.0, 8)))  # tau2 on the boundary
    return out


def _same(a, b) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("method", TAU2_METHODS)
@pytest.mark.parametrize("ci_method", ["z", "hksj"])
@pytest.mark.parametrize("convergence", ["exact", "metafor"])
def test_pool_equals_the_batched_engine_exactly(method, ci_method, convergence):
    for limit in (False, True):
        opts = FitOptions(method, ci_method, 0.9, convergence, limit)
        for y, v in _cases():
            res = pool(y, v, opts)
            batch = make_batch(y, v)
            s = summarize(batch, opts)
            low, high, capped, _ = q_profile(batch, opts, s.tau2)
            for name in ("estimate", "se", "ci_low", "ci_high", "p_value", "pi_low", "pi_high",
                         "tau2", "i2", "h2", "q", "q_p", "fe_estimate", "fe_se"):  # fmt: skip
                assert _same(getattr(res, name), float(getattr(s, name)[0])), name
            assert res.tau2_iterations == s.iterations[0]
            assert (res.tau2_ci_low, res.tau2_ci_high) == (low[0], high[0])
            assert ("search limit" in res.note) == bool(capped[0])
            assert res.weights == tuple(s.weights[0])


def test_scalar_brent_takes_the_steps_of_the_vectorized_one():
    y, v = _cases()[4]
    q0, q50 = single.q_of(y, v, 0.0), single.q_of(y, v, 50.0)
    for target in np.linspace(q50, q0, 7)[1:-1]:

        def f(t, target=target):
            return single.q_of(y, v, t) - target

        ours = single.q_brent(y, v, target, 0.0, 50.0, 1e-14, solvers.RTOL, solvers.MAX_ITER)
        vec = solvers.brentq(
            lambda t, f=f: np.array([f(float(t[0]))]), np.zeros(1), np.array([50.0]),
            np.array([f(0.0)]), np.array([f(50.0)]), 1e-14,
        )  # fmt: skip
        assert ours[0] == vec[0][0] and ours[1] == vec[1][0] and ours[2]


def test_wald_divides_like_numpy():
    assert fast.wald(0.0, 0.0, 0.95) == (0.0, 0.0, 1.0)
    assert fast.wald(1.0, 0.0, 0.95, 3.0)[2] == 0.0
    assert math.isnan(fast._div(0.0, 0.0)) and fast._div(-1.0, 0.0) == -math.inf


def test_colsum_is_numpys_row_sum_bit_for_bit():
    rng = np.random.default_rng(7)
    for k in [*range(0, 40), 127, 128, 129, 300]:
        a = rng.standard_normal((50, k)) * 10.0 ** rng.uniform(-10, 10, (50, k))
        assert np.array_equal(colsum(np.ascontiguousarray(a.T)), a.sum(axis=1)), k


@pytest.mark.parametrize("k", [2, 3, 7, 13])
def test_gosh_dl_path_equals_the_batched_engine_exactly(k):
    rng = np.random.default_rng(k)
    y, v = rng.normal(0.2, 0.5, k), rng.uniform(0.01, 0.3, k)
    y[-1] = y[0]  # ties
    fast_path = gosh.gosh(y, v, FitOptions("DL"))
    incl = np.ascontiguousarray(gosh._every_subset(k)[1].T)
    generic = gosh._fits(make_batch(np.broadcast_to(y, incl.shape), v, incl), FitOptions("DL"))
    assert list(fast_path.columns) == gosh.COLUMNS
    assert np.array_equal(fast_path.to_numpy(), generic.to_numpy(), equal_nan=True)


@pytest.mark.parametrize("method", ["REML", "DL", "HE", "ML"])
def test_one_moderator_algebra_agrees_with_the_general_path(method):
    from dataclasses import replace

    from metareview.stats import permutation

    rng = np.random.default_rng(3)
    k = 12
    x = rng.uniform(0, 10, (50, k))
    X = np.stack([np.ones((50, k)), x], axis=2)
    y, v = rng.normal(0.3, 0.4, k), rng.uniform(0.01, 0.2, k)
    general = make_batch(y, v, X=X)
    closed = replace(general, one_moderator=True)
    for opts in (FitOptions(method, "z"), FitOptions(method, "hksj")):
        z_g, qm_g = permutation.statistics(general, opts)
        z_c, qm_c = permutation.statistics(closed, opts)
        np.testing.assert_allclose(z_c, z_g, rtol=1e-9)
        np.testing.assert_allclose(qm_c, qm_g, rtol=1e-9)
