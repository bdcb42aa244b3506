"""One-row fast paths of the engine's two loops (an intercept-only batch of one analysis).

A vectorized step costs ~20 numpy calls whatever the batch size, which dominates when the
batch is a single analysis. These loops do the same arithmetic on 1-D arrays with scalar
bookkeeping: Fisher scoring takes exactly the steps of
:func:`metareview.stats.estimators.fisher_scoring`, and the Q-profile/Paule–Mandel roots use
:func:`q_brent`, scipy's ``brentq`` C routine step for step (of which
:func:`metareview.stats.solvers.brentq` is a line-by-line vectorization). Results agree with
the batched path to rounding (~1e-15 relative).

The functions are written in the Python that numba compiles (scalars, loops, ``a.dot(b)``,
sums through :func:`pairwise_sum`), and :mod:`metareview.stats.compiled` compiles these very
functions for :mod:`metareview.api`: one source for both paths. Here they run on numpy.
"""

from __future__ import annotations

import numpy as np

from metareview.stats.solvers import MAX_ITER as BRENT_MAX_ITER
from metareview.stats.solvers import RTOL

_sum = np.add.reduce  # ndarray.sum without its Python wrapper (same arithmetic)
# ``a.dot(b)`` is ``a @ b`` (the same BLAS ddot) at half the call overhead; sums and products
# of the reductions are done on Python floats (the same IEEE operations as numpy scalars).
REML, ML, EB = "REML", "ML", "EB"


def pairwise_sum(a: np.ndarray) -> float:
    """numpy's sum of a float vector (pairwise summation); compiled code gets the same
    summation from :func:`metareview.stats.compiled.pairwise_sum`."""
    return float(_sum(a))


def wls(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[np.ndarray, float, float, float]:
    """(w, Σw, β, Q) of the intercept-only weighted fit at tau² (``engine.weighted_fit``'s
    operations)."""
    w = 1.0 / (v + tau2)
    sw = pairwise_sum(w)
    beta = pairwise_sum(w * y) / sw
    resid = y - beta
    return w, sw, beta, pairwise_sum(w * (resid * resid))


def q_of(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Cochran's generalized Q of an intercept-only model at tau²."""
    w = 1.0 / (v + tau2)
    r = y - w.dot(y) / pairwise_sum(w)
    return float(w.dot(r * r))


def adjustment(y, v, method: str, tau2: float, two: float) -> float:
    """One Fisher-scoring step at tau² (see ``estimators``).

    ``two`` is 2.0, a run-time value so that compiled code squares by the C library's ``pow``
    as Python's ``x ** 2`` does (LLVM folds a constant ``x ** 2.0`` into ``x * x``, which can
    differ from ``pow`` in the last bit).
    """
    k = y.size
    w = 1.0 / (v + tau2)
    sw = pairwise_sum(w)
    wr = w * (y - float(w.dot(y)) / sw)
    if method == REML:
        w2 = w * w
        sw2 = pairwise_sum(w2)
        information = sw2 - 2 * float(w2.dot(w)) / sw + (sw2 / sw) ** two
        if not information > CANCELLED * sw2:
            information = reml_information(w, sw)
        return (float(wr.dot(wr)) - (sw - sw2 / sw)) / information
    if method == ML:
        return (float(wr.dot(wr)) - sw) / float(w.dot(w))
    return (float(wr.dot(y - float(w.dot(y)) / sw)) * k / (k - 1) - k) / sw  # EB


#: tr P² = Σw² − 2Σw³/Σw + (Σw²/Σw)² cancels when one weight dominates (a variance of 1e-10
#: next to 400: the terms are ~1e20, tr P² ~1e-5) and may come out 0 or negative; below this
#: fraction of Σw² it is summed entry by entry instead (found by make fuzz).
CANCELLED = 1e-6


def reml_information(w: np.ndarray, sw: float) -> float:
    """tr P² of an intercept-only model, P = W − wwᵀ/Σw, summed over its entries: no
    cancellation between large terms, O(k²)."""
    p = -np.outer(w, w) / sw
    for i in range(w.size):
        p[i, i] += w[i]
    return pairwise_sum((p * p).ravel())


def trace_p(w: np.ndarray, sw: float) -> float:
    """tr P = Σw − Σw²/Σw of an intercept-only model, as Σᵢ wᵢ·(Σ_{j≠i} wⱼ)/Σw with the sums
    over the other studies taken without a subtraction: the expanded form cancels to exactly 0
    when one weight dominates (Peto variances of 8e-12 next to 1.6e6; found by make fuzz)."""
    w = np.asarray(w, dtype=float)
    before = np.concatenate((np.zeros(1), np.cumsum(w)[:-1]))
    after = np.concatenate((np.cumsum(w[::-1])[:-1][::-1], np.zeros(1)))
    return pairwise_sum(w * (before + after)) / sw


def mend_cancelled_trace(tr_p: np.ndarray, w: np.ndarray, sw: np.ndarray) -> np.ndarray:
    """``tr_p`` (Σw − Σw²/Σw of each row of ``w``, in place) with every entry that cancelled
    below ``CANCELLED``·Σw (or k = 1, tr P = 0) summed again by :func:`trace_p`."""
    for i in np.flatnonzero(~(tr_p > CANCELLED * sw)):
        tr_p[i] = trace_p(w[i], sw[i])
    return tr_p


def fisher_scoring(y, v, method: str, tau2: float, threshold, rel: float, max_iter: int,
                   two: float = 2.0):  # fmt: skip
    """(tau², iterations, converged) from the start ``tau2``; see ``estimators``."""
    truncated = 0
    for iteration in range(1, max_iter + 1):
        adj = adjustment(y, v, method, tau2, two)
        if threshold is None:  # see estimators._update: truncate, halve once cycling
            while truncated >= 2 and tau2 + adj < 0.0:
                adj /= 2
            truncated += tau2 + adj < 0.0
            new = max(0.0, tau2 + adj)
            limit = rel * max(1.0, new)
        else:
            while tau2 + adj < 0.0:
                adj /= 2
            new, limit = tau2 + adj, threshold
        change, tau2 = abs(new - tau2), float(new)
        if change <= limit:
            return tau2, iteration, True
    return tau2, max_iter, False


def q_root(y, v, target: float, upper: float, f_upper: float, f0: float, xtol: float):
    """Root of Q(tau²) = target in [0, upper] by Brent's method: (root, iterations, ok).

    ``f_upper`` and ``f0`` are recomputed, as scipy does.
    """
    return q_brent(y, v, target, 0.0, upper, xtol, RTOL, BRENT_MAX_ITER)


def q_brent(y, v, target: float, xpre: float, xcur: float, xtol: float, rtol: float,
            maxiter: int):  # fmt: skip
    """scipy's ``brentq`` C routine on Q(tau²) − target: (root, iterations, converged)."""
    fpre, fcur = q_of(y, v, xpre) - target, q_of(y, v, xcur) - target
    if fpre == 0:
        return float(xpre), 0, True
    if fcur == 0:
        return float(xcur), 0, True
    if (fpre < 0) == (fcur < 0):  # both nonzero here: signbit as scipy
        return 0.0, 0, False
    xblk = fblk = spre = scur = 0.0
    for i in range(1, maxiter + 1):
        if fpre != 0 and fcur != 0 and (fpre < 0) != (fcur < 0):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return float(xcur), i, True
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            spre, scur = brent_step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta)
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = q_of(y, v, xcur) - target
    return float(xcur), maxiter, False


def brent_step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta):
    """(spre, scur) of an interpolation step if it is good and short, else bisection."""
    if xpre == xblk:
        stry = -fcur * (xcur - xpre) / (fcur - fpre)
    else:
        dpre = (fpre - fcur) / (xpre - xcur)
        dblk = (fblk - fcur) / (xblk - xcur)
        stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
    if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
        return scur, stry
    return sbis, sbis
