"""The kernels of :mod:`metareview.stats.single`, compiled with numba, for :mod:`metareview.api`.

One ``pool()`` is a chain of dependent scalar steps (Fisher scoring, two Brent roots of the
Q-profile), each a handful of numpy calls on a short vector, so numpy's per-call overhead sets
its floor. numba compiles :mod:`single`'s own functions (one source for both paths), with the
same floating-point operations in the same order:

* sums are numpy's pairwise summation (``np.add.reduce`` on a contiguous float64 vector:
  sequential below 8 values, eight interleaved accumulators up to 128, halves above), written
  out here in :func:`pairwise_sum`, which replaces :func:`single.pairwise_sum` in compiled code;
* ``a.dot(b)`` is BLAS ``ddot`` in numba as in numpy;
* scalar arithmetic is IEEE double, as Python floats (no fast-math, no contraction), and
  squares go through the C library's ``pow`` as in Python (see :func:`single.adjustment`).

So the results are bit for bit those of :mod:`single` (``tests/unit/test_compiled.py``
asserts equality, not closeness, on random inputs). The workflow does not use them: its jobs
would pay numba's import (~0.5 s) for a few pooled analyses each. ``pool()`` in
:mod:`metareview.api` does when numba is installed (``fast.compiled_kernels``), and falls back
to :mod:`single` when it is not. Compiled code is cached in ``__pycache__`` on first use;
numba checks only the source file of each cached function, so after editing
:func:`pairwise_sum` here, delete ``src/metareview/stats/__pycache__/single.*.nb*``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import overload, register_jitable

from metareview.stats import single
from metareview.stats.solvers import MAX_ITER as BRENT_MAX_ITER
from metareview.stats.solvers import RTOL

_INLINE = {"error_model": "numpy"}  # inf/NaN on division by zero, as numpy
_JIT = _INLINE | {"cache": True}
_LEAF = 128  # numpy's PW_BLOCKSIZE


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


# The kernels of single.py, compiled as written there: its helpers become jitable (numba
# compiles them where they are called) and its pairwise_sum becomes the one above.
# Not cache=True here: a helper's cache entry would be keyed like the function itself (the
# same file and name) and collide with it (a segfault on loading); callers cache them inlined.
overload(single.pairwise_sum, jit_options=_INLINE)(lambda a: pairwise_sum.py_func)
for _helper in (single.q_of, single.adjustment, single.reml_information, single.brent_step):
    register_jitable(**_INLINE)(_helper)
_wls = njit(**_JIT)(single.wls)
_fisher_scoring = njit(**_JIT)(single.fisher_scoring)
_q_brent = njit(**_JIT)(single.q_brent)


def wls(y, v, tau2: float):
    """``single.wls``, compiled: (w, Σw, β, Q)."""
    w, sw, beta, q = _wls(y, v, float(tau2))
    return w, float(sw), float(beta), float(q)


def fisher_scoring(y, v, method: str, tau2: float, threshold, rel: float, max_iter: int):
    """``single.fisher_scoring``, compiled: (tau², iterations, converged)."""
    threshold = None if threshold is None else float(threshold)
    t, it, ok = _fisher_scoring(y, v, method, float(tau2), threshold, float(rel),
                                int(max_iter), 2.0)  # fmt: skip
    return float(t), int(it), bool(ok)


def q_root(y, v, target: float, upper: float, f_upper: float, f0: float, xtol: float):
    """``single.q_root``, compiled: (root, iterations, converged)."""
    del f_upper, f0  # recomputed, as scipy (and single.q_root) does
    root, it, ok = _q_brent(y, v, float(target), 0.0, float(upper), float(xtol), RTOL,
                            BRENT_MAX_ITER)  # fmt: skip
    return float(root), int(it), bool(ok)
