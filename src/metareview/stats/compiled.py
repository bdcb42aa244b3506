"""numba-compiled twins of :mod:`metareview.stats.single` for :mod:`metareview.api`.

One ``pool()`` is a chain of dependent scalar steps (Fisher scoring, two Brent roots of the
Q-profile), each a handful of numpy calls on a short vector, so numpy's per-call overhead sets
its floor. These kernels run the same steps compiled, with the same floating-point operations
in the same order:

* sums are numpy's pairwise summation (``np.add.reduce`` on a contiguous float64 vector:
  sequential below 8 values, eight interleaved accumulators up to 128, halves above), written
  out in :func:`pairwise_sum`;
* dot products are ``np.dot``, which numba sends to BLAS ``ddot`` as ``ndarray.dot`` does;
* scalar arithmetic is IEEE double, as Python floats (no fast-math, no contraction).

So the results are bit for bit those of :mod:`single` (``tests/unit/test_compiled.py``
asserts equality, not closeness, on thousands of random inputs). The workflow does not use
them: its jobs would pay numba's import (~0.5 s) for a few pooled analyses each. ``pool()``
in :mod:`metareview.api` does when numba is installed (:func:`kernels`), and falls back to
:mod:`single` when it is not. Compiled code is cached next to this file
(``__pycache__``) on first use.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from metareview.stats.solvers import MAX_ITER as BRENT_MAX_ITER
from metareview.stats.solvers import RTOL

_JIT = {"cache": True, "error_model": "numpy"}
_LEAF = 128  # numpy's PW_BLOCKSIZE
_REML, _ML, _EB = 0, 1, 2
METHOD_CODES = {"REML": _REML, "ML": _ML, "EB": _EB}


@njit(**_JIT)
def _leaf_sum(a, lo, n):
    """numpy's pairwise sum of a[lo:lo + n] for n ≤ 128 (no recursion)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i, m = 8, n - n % 8
    while i < m:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(**_JIT)
def pairwise_sum(a):
    """``np.add.reduce(a)`` of a contiguous float64 vector, bit for bit.

    Above 128 values numpy sums the two halves (the first a multiple of 8 long) recursively;
    this walks the same tree with an explicit stack (numba cannot cache recursive functions).
    """
    n = a.size
    if n <= _LEAF:
        return _leaf_sum(a, 0, n)
    lo, size, state = np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int64)
    left = np.empty(64)
    top, lo[0], size[0], state[0] = 0, 0, n, 0
    returned, value = False, 0.0
    while True:
        if returned:
            if top < 0:
                return value
            if state[top] == 1:  # the left half is done: keep it, do the right half
                left[top], state[top], returned = value, 2, False
                half = size[top] // 2 - (size[top] // 2) % 8
                top += 1
                lo[top], size[top], state[top] = lo[top - 1] + half, size[top - 1] - half, 0
            else:  # both halves done
                value = left[top] + value
                top -= 1
        elif size[top] <= _LEAF:
            value, returned = _leaf_sum(a, lo[top], size[top]), True
            top -= 1
        else:
            state[top] = 1
            half = size[top] // 2 - (size[top] // 2) % 8
            top += 1
            lo[top], size[top], state[top] = lo[top - 1], half, 0


@njit(**_JIT)
def _wls(y, v, tau2):
    w = 1.0 / (v + tau2)
    sw = pairwise_sum(w)
    beta = pairwise_sum(w * y) / sw
    resid = y - beta
    return w, sw, beta, pairwise_sum(w * (resid * resid))


def wls(y, v, tau2: float):
    """``single.wls``, compiled: (w, Σw, β, Q)."""
    w, sw, beta, q = _wls(y, v, float(tau2))
    return w, float(sw), float(beta), float(q)


@njit(**_JIT)
def _adjustment(y, v, method, tau2, two):
    """One Fisher-scoring step of ``single.fisher_scoring`` at tau².

    ``two`` is 2.0, passed in at run time: ``x ** two`` then calls the C library's ``pow``, as
    Python's ``x ** 2`` does. With a literal 2, LLVM folds it to ``x * x``, which can differ
    from ``pow`` in the last bit.
    """
    k = y.size
    w = 1.0 / (v + tau2)
    sw = pairwise_sum(w)
    wr = w * (y - np.dot(w, y) / sw)
    if method == _REML:
        w2 = w * w
        sw2 = pairwise_sum(w2)
        return (np.dot(wr, wr) - (sw - sw2 / sw)) / (
            sw2 - 2 * np.dot(w2, w) / sw + (sw2 / sw) ** two
        )
    if method == _ML:
        return (np.dot(wr, wr) - sw) / np.dot(w, w)
    return (np.dot(wr, y - np.dot(w, y) / sw) * k / (k - 1) - k) / sw


@njit(**_JIT)
def _fisher_scoring(y, v, method, tau2, metafor, threshold, rel, max_iter, two):
    truncated = 0
    for iteration in range(1, max_iter + 1):
        adj = _adjustment(y, v, method, tau2, two)
        if not metafor:  # see estimators._update: truncate, halve once cycling
            while truncated >= 2 and tau2 + adj < 0.0:
                adj /= 2
            truncated += tau2 + adj < 0.0
            new = max(0.0, tau2 + adj)
            limit = rel * max(1.0, new)
        else:
            while tau2 + adj < 0.0:
                adj /= 2
            new, limit = tau2 + adj, threshold
        change, tau2 = abs(new - tau2), new
        if change <= limit:
            return tau2, iteration, True
    return tau2, max_iter, False


def fisher_scoring(y, v, method: str, tau2: float, threshold, rel: float, max_iter: int):
    """``single.fisher_scoring``, compiled: (tau², iterations, converged)."""
    metafor = threshold is not None
    t, it, ok = _fisher_scoring(
        y, v, METHOD_CODES[method], float(tau2), metafor,
        float(threshold) if metafor else 0.0, float(rel), int(max_iter), 2.0,
    )  # fmt: skip
    return float(t), int(it), bool(ok)


@njit(**_JIT)
def _q_minus(y, v, target, t):
    w = 1.0 / (v + t)
    r = y - np.dot(w, y) / pairwise_sum(w)
    return np.dot(w, r * r) - target


@njit(**_JIT)
def _brent_step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta):
    if xpre == xblk:
        stry = -fcur * (xcur - xpre) / (fcur - fpre)
    else:
        dpre = (fpre - fcur) / (xpre - xcur)
        dblk = (fblk - fcur) / (xblk - xcur)
        stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
    if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
        return scur, stry
    return sbis, sbis


@njit(**_JIT)
def _q_root(y, v, target, xpre, xcur, xtol, rtol, maxiter):
    """``single.brent`` on Q(tau²) − target, step for step."""
    fpre, fcur = _q_minus(y, v, target, xpre), _q_minus(y, v, target, xcur)
    if fpre == 0:
        return xpre, 0, True
    if fcur == 0:
        return xcur, 0, True
    if (fpre < 0) == (fcur < 0):
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
            return xcur, i, True
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            spre, scur = _brent_step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta)
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        if abs(scur) > delta:
            xcur += scur
        else:
            xcur += delta if sbis > 0 else -delta
        fcur = _q_minus(y, v, target, xcur)
    return xcur, maxiter, False


def q_root(y, v, target: float, upper: float, f_upper: float, f0: float, xtol: float):
    """``single.q_root``, compiled: (root, iterations, converged)."""
    del f_upper, f0  # recomputed, as scipy (and single.q_root) does
    root, it, ok = _q_root(y, v, float(target), 0.0, float(upper), float(xtol), RTOL,
                           BRENT_MAX_ITER)  # fmt: skip
    return float(root), int(it), bool(ok)
