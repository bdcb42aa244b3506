"""Vectorized root finding: Brent's method for a batch of brackets at once.

:func:`brentq` is a line-by-line vectorization of scipy's ``brentq`` (the C routine, itself
R's ``zeroin``): every row takes exactly the steps the scalar routine takes, and a row stops
when it has converged while the others go on. With metafor's tolerance it therefore stops where
R's ``uniroot`` stops, so ``convergence="metafor"`` reproduces ``rma(method="PM")`` and
``confint()`` bounds; with ``xtol=1e-14`` it solves to machine level.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RTOL = 4 * np.finfo(float).eps
MAX_ITER = 100


def brentq(
    f: Callable[[np.ndarray], np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    xtol: float,
    rtol: float = RTOL,
    maxiter: int = MAX_ITER,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Roots of ``f`` in [a, b] for every row (f(a), f(b) of opposite sign or zero).

    ``f`` maps an array of x (one per row) to f(x) per row. Returns ``(root, iterations,
    converged)``.
    """
    xpre, xcur = np.array(a, dtype=float), np.array(b, dtype=float)
    fpre, fcur = np.array(fa, dtype=float), np.array(fb, dtype=float)
    n = xcur.size
    root = np.where(fpre == 0, xpre, xcur)
    done = (fpre == 0) | (fcur == 0)
    iterations = np.zeros(n, dtype=int)
    xblk, fblk = np.zeros(n), np.zeros(n)
    spre, scur = np.zeros(n), np.zeros(n)
    for _ in range(maxiter):
        active = ~done
        if not active.any():
            break
        iterations += active
        xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta = _orient(
            xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, xtol, rtol
        )
        stop = active & ((fcur == 0) | (np.abs(sbis) < delta))
        root = np.where(stop, xcur, root)
        done |= stop
        active = ~done
        spre, scur = _step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta)
        xpre, fpre = np.where(active, xcur, xpre), np.where(active, fcur, fpre)
        move = np.where(np.abs(scur) > delta, scur, np.where(sbis > 0, delta, -delta))
        xcur = np.where(active, xcur + move, xcur)
        if active.any():
            fcur = np.where(active, f(xcur), fcur)
    root = np.where(done, root, xcur)
    return root, iterations, done


def _orient(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, xtol, rtol):
    """Keep the root bracketed by [xcur, xblk] with |f(xcur)| the smallest."""
    new_bracket = (fpre != 0) & (fcur != 0) & (np.signbit(fpre) != np.signbit(fcur))
    xblk, fblk = np.where(new_bracket, xpre, xblk), np.where(new_bracket, fpre, fblk)
    spre = np.where(new_bracket, xcur - xpre, spre)
    scur = np.where(new_bracket, xcur - xpre, scur)
    swap = np.abs(fblk) < np.abs(fcur)
    xpre, xcur, xblk = np.where(swap, xcur, xpre), np.where(swap, xblk, xcur), xblk
    xblk = np.where(swap, xpre, xblk)
    fpre, fcur = np.where(swap, fcur, fpre), np.where(swap, fblk, fcur)
    fblk = np.where(swap, fpre, fblk)
    delta = (xtol + rtol * np.abs(xcur)) / 2
    sbis = (xblk - xcur) / 2
    return xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta


def _step(xpre, xcur, xblk, fpre, fcur, fblk, spre, scur, sbis, delta):
    """Interpolation or extrapolation step if it is good and short, else bisection."""
    with np.errstate(divide="ignore", invalid="ignore"):
        interpolate = -fcur * (xcur - xpre) / (fcur - fpre)
        dpre = (fpre - fcur) / (xpre - xcur)
        dblk = (fblk - fcur) / (xblk - xcur)
        extrapolate = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
    stry = np.where(xpre == xblk, interpolate, extrapolate)
    try_it = (np.abs(spre) > delta) & (np.abs(fcur) < np.abs(fpre))
    good = try_it & (2 * np.abs(stry) < np.minimum(np.abs(spre), 3 * np.abs(sbis) - delta))
    new_spre = np.where(good, scur, sbis)
    new_scur = np.where(good, stry, sbis)
    return new_spre, new_scur
