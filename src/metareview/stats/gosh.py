"""GOSH: the random-effects model fitted to subsets of the studies, as ``metafor::gosh.rma``.

All 2^k − 1 non-empty subsets when that is at most ``max_subsets`` (metafor's default
10^6), else ``max_subsets`` random subsets drawn as metafor draws them: a size m with
probability ∝ Binomial(m; k, 1/2) (m ≥ 1), then m studies at random — from a seeded numpy
Generator. A subset whose tau² does not converge (Fisher scoring can cycle) is reported with
NaN, as metafor reports a failed fit as NA. Subsets come in metafor's order: by size, then
in ``expand.grid`` order (the first study varying fastest). A subset of one study reports
that study with tau² = 0, I² = 0, H² = 1 and Q = 0, as ``rma()`` does for k = 1. Every subset
is one row of a batch.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from metareview.stats.colsum import colsum
from metareview.stats.engine import make_batch, weighted_fit
from metareview.stats.options import FitOptions
from metareview.stats.single import CANCELLED, mend_cancelled_trace
from metareview.stats.summaries import MAX_CELLS, estimate_tau2, typical_variance

MAX_SUBSETS = 1_000_000
COLUMNS = ["k", "q", "i2", "h2", "tau2", "estimate"]


def subsets(k: int, max_subsets: int = MAX_SUBSETS, seed=None) -> tuple[np.ndarray, bool]:
    """Inclusion matrix (n, k) of the subsets to fit and whether it is every subset."""
    if 2**k - 1 <= max_subsets:
        codes = np.arange(1, 2**k)
        incl = ((codes[:, None] >> np.arange(k)) & 1).astype(bool)
        return incl, True
    rng = np.random.default_rng(seed)
    sizes = np.arange(1, k + 1)
    prob = stats.binom.pmf(sizes, k, 0.5)
    m = rng.choice(sizes, size=max_subsets, p=prob / prob.sum())
    incl = np.empty((max_subsets, k), dtype=bool)
    step = max(1, MAX_CELLS // k)
    for i in range(0, max_subsets, step):
        keys = rng.random((min(step, max_subsets - i), k))
        ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
        incl[i : i + step] = ranks < m[i : i + step, None]
    return incl, False


@lru_cache(maxsize=4)
def _every_subset(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every non-empty subset of k studies ordered by size, cached (read-only) in the
    transposed (k, subsets) layout of :func:`_dl_fits`: the 0/1 floats, the same as
    booleans, and the subset sizes."""
    incl, _ = subsets(k, 2**k)
    present = np.ascontiguousarray(incl[np.argsort(incl.sum(axis=1), kind="stable")].T)
    m = present.astype(float)
    out = (m, present, colsum(m))
    for array in out:
        array.flags.writeable = False
    return out


#: Subsets per pass of :func:`_dl_fits` (keeps its temporaries in cache).
DL_CHUNK = 2048


def _dl_fits(yi: np.ndarray, vi: np.ndarray, m, present, k) -> pd.DataFrame:
    """:func:`_fits` for DerSimonian–Laird (metafor's fast GOSH path) over every subset,
    in the transposed (k, subsets) layout (``m`` 0/1, ``present`` m > 0, ``k`` subset sizes)
    and cache-sized slices of subsets: each quantity computed once, with the batched
    engine's operations and numpy's summation order (:func:`colsum`), so the numbers are
    the engine's bit for bit."""
    n = k.size
    out = {name: np.empty(n) for name in ("q", "i2", "h2", "tau2", "estimate")}
    for i in range(0, n, DL_CHUNK):
        part = slice(i, i + DL_CHUNK)
        for name, values in _dl_chunk(yi, vi, m[:, part], present[:, part], k[part]).items():
            out[name][part] = values
    return pd.DataFrame({"k": k.astype(int)} | out)[COLUMNS]


def _dl_chunk(yi, vi, m, present, k) -> dict:
    y = np.where(present, yi[:, None], 0.0)  # padding as make_batch: y = 0, v = 1
    v = np.where(present, vi[:, None], 1.0)
    single = k == 1
    w = m / v
    sw = colsum(w)
    resid = y - colsum(w * y) / sw
    q = colsum(w * resid**2)
    sw2 = colsum(w**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        expanded = sw - sw2 / sw
        tr_p = mend_cancelled_trace(expanded.copy(), w.T, sw)  # as engine._traces
        tau2 = np.where(single, 0.0, np.maximum(0.0, (q - (k - 1)) / tr_p))
        w_re = m / (v + tau2)
        estimate = colsum(w_re * y) / colsum(w_re)
        # as summaries.typical_variance: (k − 1)/tr P where (Σw)² − Σw² cancels
        s2 = np.where(expanded > CANCELLED * sw, (k - 1) * sw / (sw**2 - sw2), (k - 1) / tr_p)
        i2, h2 = 100 * tau2 / (tau2 + s2), (tau2 + s2) / s2
    return {
        "q": np.where(single, 0.0, q),
        "i2": np.where(single, 0.0, i2),
        "h2": np.where(single, 1.0, h2),
        "tau2": tau2,
        "estimate": estimate,
    }


def _fits(batch, options: FitOptions) -> pd.DataFrame:
    """k, Q, I², H², tau², estimate of every row (only what GOSH reports)."""
    k = batch.k
    single = k == 1
    fit = estimate_tau2(batch, options)
    tau2 = np.where(single, 0.0, np.where(fit.converged, fit.tau2, np.nan))
    fe, re = weighted_fit(batch, 0.0), weighted_fit(batch, tau2)
    s2 = typical_variance(batch)
    with np.errstate(divide="ignore", invalid="ignore"):
        i2, h2 = 100 * tau2 / (tau2 + s2), (tau2 + s2) / s2
    return pd.DataFrame(
        {
            "k": k.astype(int),
            "q": np.where(single, 0.0, fe.q),
            "i2": np.where(single, 0.0, i2),
            "h2": np.where(single, 1.0, h2),
            "tau2": tau2,
            "estimate": re.beta[:, 0],
        }
    )


def gosh(
    yi, vi, options: FitOptions | None = None, *, max_subsets: int = MAX_SUBSETS, seed=None
) -> pd.DataFrame:
    """One row per subset: ``k, q, i2, h2, tau2, estimate`` (metafor's ``gosh()$res``)."""
    options = options or FitOptions()
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.size < 2:
        raise ValueError("GOSH needs at least 2 studies")
    small = 2**yi.size - 1 <= min(max_subsets, MAX_CELLS // yi.size)  # one cached chunk
    if small and options.tau2_method == "DL":
        return _dl_fits(yi, vi, *_every_subset(yi.size))
    if small:
        incl = np.ascontiguousarray(_every_subset(yi.size)[1].T)  # C order: numpy sums rows
    else:
        incl, _ = subsets(yi.size, max_subsets, seed)
        incl = incl[np.argsort(incl.sum(axis=1), kind="stable")]
    parts = []
    step = max(1, MAX_CELLS // yi.size)
    for i in range(0, incl.shape[0], step):
        mask = incl[i : i + step]
        if options.tau2_method == "DL":
            m = np.ascontiguousarray(mask.T, dtype=float)
            parts.append(_dl_fits(yi, vi, m, m > 0, colsum(m)))
        else:
            batch = make_batch(np.broadcast_to(yi, mask.shape), vi, mask)
            parts.append(_fits(batch, options))
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)[COLUMNS]
