"""One-row fast paths of the engine's two loops (an intercept-only batch of one analysis).

A vectorized step costs ~20 numpy calls whatever the batch size, which dominates when the
batch is a single analysis. These loops do the same arithmetic on 1-D arrays with scalar
bookkeeping: Fisher scoring takes exactly the steps of
:func:`metareview.stats.estimators.fisher_scoring`, and the Q-profile/Paule–Mandel roots use
scipy's ``brentq``, of which :func:`metareview.stats.solvers.brentq` is a line-by-line
vectorization. Results agree with the batched path to rounding (~1e-15 relative).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from metareview.stats.solvers import MAX_ITER as BRENT_MAX_ITER
from metareview.stats.solvers import RTOL


def q_of(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Cochran's generalized Q of an intercept-only model at tau²."""
    w = 1.0 / (v + tau2)
    r = y - (w @ y) / w.sum()
    return float(w @ (r * r))


def fisher_scoring(y, v, method: str, tau2: float, threshold, rel: float, max_iter: int):
    """(tau², iterations, converged) from the start ``tau2``; see ``estimators``."""
    k, truncated = y.size, 0
    for iteration in range(1, max_iter + 1):
        w = 1.0 / (v + tau2)
        sw = w.sum()
        wr = w * (y - (w @ y) / sw)
        if method == "REML":
            w2 = w * w
            sw2 = w2.sum()
            adj = (wr @ wr - (sw - sw2 / sw)) / (sw2 - 2 * (w2 @ w) / sw + (sw2 / sw) ** 2)
        elif method == "ML":
            adj = (wr @ wr - sw) / (w @ w)
        else:  # EB
            adj = (float(wr @ (y - (w @ y) / sw)) * k / (k - 1) - k) / sw
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
    """Root of Q(tau²) = target in [0, upper] by scipy's Brent: (root, iterations, ok)."""
    root, info = optimize.brentq(
        lambda t: q_of(y, v, t) - target,
        0.0,
        upper,
        xtol=xtol,
        rtol=RTOL,
        maxiter=BRENT_MAX_ITER,
        full_output=True,
        disp=False,
    )
    return float(root), int(info.iterations), bool(info.converged)
