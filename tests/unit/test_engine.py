"""The batched engine agrees row by row with one-analysis fits; solver, permutations, GOSH."""

import numpy as np
import pytest
from scipy import optimize

from metareview import api
from metareview.stats.engine import make_batch
from metareview.stats.options import TAU2_METHODS, FitOptions
from metareview.stats.permutation import distinct_orderings, n_distinct
from metareview.stats.pooling import pool
from metareview.stats.solvers import brentq
from metareview.stats.summaries import q_profile, summarize

RNG = np.random.default_rng(20261122)


def synthetic(k, seed):
    """SYNTHETIC effects (not from any study)."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.3, k)
    return rng.normal(0.2, np.sqrt(v + 0.05)), v


@pytest.mark.parametrize("method", TAU2_METHODS)
@pytest.mark.parametrize("convergence", ["exact", "metafor"])
def test_batch_rows_equal_single_fits(method, convergence):
    """Padded rows of different k give what pool() gives for each analysis alone."""
    opts = FitOptions(tau2_method=method, convergence=convergence)
    sizes = [2, 3, 5, 9, 14]
    data = [synthetic(k, seed) for seed, k in enumerate(sizes)]
    width = max(sizes)
    y, v, m = np.zeros((5, width)), np.ones((5, width)), np.zeros((5, width))
    for i, (yi, vi) in enumerate(data):
        y[i, : yi.size], v[i, : yi.size], m[i, : yi.size] = yi, vi, 1
    batch = make_batch(y, v, m)
    s = summarize(batch, opts)
    low, high, _, _ = q_profile(batch, opts, s.tau2)
    for i, (yi, vi) in enumerate(data):
        one = pool(yi, vi, opts)
        for name in ("estimate", "se", "ci_low", "ci_high", "p_value", "tau2", "i2", "q"):
            assert getattr(s, name)[i] == pytest.approx(getattr(one, name), rel=1e-9, abs=1e-12)
        # Brent's path can differ by a step where Q differs in the last bit (sum vs dot)
        brent = method in ("PM", "EB") and convergence == "exact" or method == "PM"
        assert abs(s.iterations[i] - one.tau2_iterations) <= (1 if brent else 0)
        assert low[i] == pytest.approx(one.tau2_ci_low, rel=1e-9, abs=1e-12)
        assert high[i] == pytest.approx(one.tau2_ci_high, rel=1e-9, abs=1e-12)


def test_vectorized_brent_takes_scipys_steps():
    """Each row stops exactly where scipy's brentq stops, iteration count included."""
    shifts = np.array([0.3, 1.7, 2.9, 0.01])

    def f(x):
        return np.exp(x) - 1 - shifts

    root, iterations, ok = brentq(
        f, np.zeros(4), np.full(4, 3.0), f(np.zeros(4)), f(np.full(4, 3.0)), 1e-5
    )
    for i, c in enumerate(shifts):
        r, info = optimize.brentq(lambda x, c=c: np.exp(x) - 1 - c, 0.0, 3.0, xtol=1e-5,
                                  rtol=4 * np.finfo(float).eps, full_output=True)  # fmt: skip
        assert root[i] == r and iterations[i] == info.iterations and ok[i]


def test_pool_batch_marks_missing_with_nan():
    y1, v1 = synthetic(6, 1)
    y2, v2 = synthetic(4, 2)
    y = np.full((2, 6), np.nan)
    v = np.full((2, 6), np.nan)
    y[0], v[0], y[1, :4], v[1, :4] = y1, v1, y2, v2
    frame = api.pool_batch(y, v)
    assert list(frame["k"]) == [6, 4]
    assert frame.loc[1, "tau2_ci_high"] == pytest.approx(api.pool(y2, v2).tau2_ci_high, rel=1e-9)


def test_leave_one_out_and_cumulative_agree_with_refits():
    yi, vi = synthetic(7, 3)
    loo = api.leave_one_out(yi, vi, tau2_method="PM")
    for i in range(7):
        keep = np.arange(7) != i
        assert loo.loc[i, "estimate"] == pytest.approx(
            pool(yi[keep], vi[keep], tau2_method="PM").estimate, rel=1e-10
        )


def test_large_k_leave_one_out_is_chunked_and_finite():
    yi, vi = synthetic(1200, 4)
    loo = api.leave_one_out(yi, vi)
    assert len(loo) == 1200 and np.isfinite(loo["estimate"]).all()


def test_exact_permutations_are_enumerated():
    X = np.array([[1, 0], [1, 0], [1, 1], [1, 2]], dtype=float)
    orders = distinct_orderings(X)
    assert n_distinct(X) == 12 and len(orders) == 12
    assert len({tuple(map(tuple, X[o])) for o in orders}) == 12


def test_permutation_test_is_exact_for_few_and_seeded_for_many():
    yi, vi = synthetic(6, 5)
    exact = api.permutation_test(yi, vi, n_perm=1000)
    assert exact.exact and exact.n_perm == 64 and exact.p_value * 64 == round(exact.p_value * 64)
    yi, vi = synthetic(20, 6)
    x = np.linspace(0, 1, 20)
    a = api.permutation_test(yi, vi, mods=x, n_perm=200, seed=7)
    b = api.permutation_test(yi, vi, mods=x, n_perm=200, seed=7)
    assert a == b and not a.exact and 1 / 200 <= a.p_value <= 1


def test_gosh_enumerates_every_subset_or_a_seeded_sample():
    yi, vi = synthetic(8, 8)
    full = api.gosh(yi, vi)
    assert len(full) == 255 and (np.diff(full["k"]) >= 0).all()
    singles = full[full["k"] == 1]
    assert np.allclose(np.sort(singles["estimate"]), np.sort(yi)) and (singles["tau2"] == 0).all()
    whole = full.iloc[-1]
    assert whole["estimate"] == pytest.approx(pool(yi, vi).estimate, rel=1e-10)
    a = api.gosh(yi, vi, max_subsets=50, seed=3)
    assert len(a) == 50 and a.equals(api.gosh(yi, vi, max_subsets=50, seed=3))


def test_huge_k_counts_permutations_and_subsets_without_overflow():
    yi, vi = synthetic(1100, 9)
    x = np.arange(1100.0)
    assert not api.permutation_test(yi, vi, mods=x, n_perm=20, seed=1).exact
    assert not api.permutation_test(yi, vi, n_perm=20, seed=1).exact
    assert len(api.gosh(yi, vi, tau2_method="DL", max_subsets=20, seed=1)) == 20


# metafor 3.8-1, rma(yi, vi, mods = ~sqrt(vi), method = m): tests/reference/fuzz_singular_models.R
DOMINANT_YI = [-1.5, -1.6999999999999997, -1.0999999999999996, -1.0]
DOMINANT_VI = [7.61e-12, 0.33640000000000014, 0.48042330083965057, 0.3089908408338597]
DOMINANT_TAU2 = {"SJ": 0.0273887470656} | dict.fromkeys(
    ["REML", "ML", "EB", "PM", "DL", "HE", "HS"], 0.0
)


@pytest.mark.parametrize("method", sorted(DOMINANT_TAU2))
def test_moderator_model_with_one_dominant_weight_ends_at_metafors_tau2(method):
    """A variance of 7.61e-12 next to ~0.3 (an arm of 10^12 participants, trim-and-fill's
    side regression): the expanded tr P² cancelled to 0 and REML Fisher scoring never ended."""
    from metareview.stats.engine import _traces, weighted_fit
    from metareview.stats.tau2 import estimate_tau2

    vi = np.array(DOMINANT_VI)
    X = np.column_stack([np.ones(4), np.sqrt(vi)])
    fit = estimate_tau2(np.array(DOMINANT_YI), vi, X, method, "exact")
    assert fit.converged and fit.tau2 == pytest.approx(DOMINANT_TAU2[method], abs=1e-11)
    batch = make_batch(np.array(DOMINANT_YI), vi, X=X)
    tr_p, tr_p2 = _traces(batch, weighted_fit(batch, np.array([1e-9])))
    assert tr_p2[0] > 0 and tr_p[0] > 0


def test_traces_by_entry_equal_the_expanded_form_when_nothing_cancels():
    from metareview.stats.engine import _traces, _traces_by_entry, weighted_fit

    rng = np.random.default_rng(3)
    yi, vi = rng.normal(size=9), rng.uniform(0.05, 0.5, 9)
    X = np.column_stack([np.ones(9), rng.normal(size=9), rng.normal(size=9)])
    batch = make_batch(yi, vi, X=X)
    fit = weighted_fit(batch, np.array([0.1]))
    expanded = _traces(batch, fit)
    by_entry = _traces_by_entry(batch.X[0], fit.w[0], fit.cov[0])
    assert by_entry == pytest.approx((expanded[0][0], expanded[1][0]), rel=1e-12)
