"""The numba kernels of ``metareview.api.pool`` give the numpy path's numbers bit for bit."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import metareview.stats
from metareview import api
from metareview.stats import fast, single
from metareview.stats.options import FitOptions
from metareview.stats.pooling import pool

compiled = pytest.importorskip("metareview.stats.compiled")

SIZES = [*range(1, 40), 63, 64, 65, 127, 128, 129, 135, 136, 137, 255, 256, 257, 1000, 1031, 4099]


def same(a, b) -> bool:
    """Equal, NaN equal to NaN: the exact-equality test of two results."""
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("n", SIZES)
def test_pairwise_sum_is_numpys_sum(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        a = rng.standard_normal(n) * 10.0 ** rng.uniform(-8, 8, n)
        assert compiled.pairwise_sum(a) == np.add.reduce(a)


def random_analyses(count: int, seed: int):
    """SYNTHETIC (yi, vi) pairs: k from 2 to 300, variances over six orders of magnitude,
    with and without heterogeneity, some effects identical."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        k = int(rng.integers(2, 300 if i % 10 == 0 else 41))
        v = rng.uniform(0.01, 1, k) * 10.0 ** rng.uniform(-3, 3)
        y = rng.normal(0, np.sqrt(v + rng.uniform(0, 1) * rng.integers(0, 2)))
        if i % 17 == 0:
            y[:] = y[0]
        yield y, v


@pytest.mark.parametrize("method", ["REML", "ML", "EB", "DL", "PM"])
def test_compiled_pool_equals_numpy_pool_bit_for_bit(method):
    checked = 0
    for i, (y, v) in enumerate(random_analyses(150, seed=len(method))):
        for convergence in ("exact", "metafor"):
            opts = FitOptions(method, "hksj" if i % 2 else "z", 0.95, convergence, i % 7 == 0)
            a = pool(y, v, opts).to_dict()
            b = pool(y, v, opts, kernels=compiled).to_dict()
            differ = {n: (a[n], b[n]) for n in a if not same(a[n], b[n])}
            assert not differ, f"k = {y.size}, {convergence}: {differ}"
            assert pool(y, v, opts).weights == pool(y, v, opts, kernels=compiled).weights
            checked += 1
    assert checked == 300


def test_each_kernel_matches_its_numpy_twin():
    for y, v in random_analyses(100, seed=5):
        for tau2 in (0.0, 0.01, 3.0):
            assert compiled.wls(y, v, tau2)[1:] == single.wls(y, v, tau2)[1:]
        for method in ("REML", "ML", "EB"):
            for threshold in (None, 1e-5):
                args = (y, v, method, 0.0, threshold, 1e-12, 1000)
                assert compiled.fisher_scoring(*args) == single.fisher_scoring(*args)
        q0 = single.q_of(y, v, 0.0)
        if q0 > 1.0:
            upper = 10.0 * (1.0 + float(np.var(y)))
            while single.q_of(y, v, upper) > 1.0:
                upper *= 10
            args = (y, v, 1.0, upper, 0.0, 0.0, 1e-14)
            assert compiled.q_root(*args) == single.q_root(*args)


def test_api_pool_runs_compiled_and_agrees_with_the_workflow_path():
    assert fast.compiled_kernels() is compiled
    y, v = next(random_analyses(1, seed=9))
    assert api.pool(y, v).to_dict().keys() == pool(y, v).to_dict().keys()
    a, b = api.pool(y, v).to_dict(), pool(y, v).to_dict()
    assert all(same(a[n], b[n]) for n in a)


def test_without_numba_the_api_falls_back_to_numpy(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    monkeypatch.delitem(sys.modules, "metareview.stats.compiled")
    monkeypatch.delattr(metareview.stats, "compiled")
    fast.compiled_kernels.cache_clear()
    try:
        assert fast.compiled_kernels() is single
        y, v = next(random_analyses(1, seed=3))
        assert api.pool(y, v).estimate == pool(y, v).estimate
    finally:
        monkeypatch.undo()
        fast.compiled_kernels.cache_clear()
    assert fast.compiled_kernels() is compiled
