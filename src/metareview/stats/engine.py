"""The batched engine: random/mixed-effects fits of many analyses or subsets at once.

A batch is a padded 2-D layout: ``y``, ``v`` and ``m`` of shape (B, k) — row b holds one
analysis or subset, ``m[b, i]`` is 1 for a study in it and 0 for padding or an excluded study
(its weight is then exactly 0) — and a design ``X`` of shape (B, k, p) (intercept-only when
omitted). Every quantity is computed for all rows in one vectorized pass; iterative tau²
estimators keep a per-row convergence mask, so each row stops exactly where a one-analysis
fit would.

The estimators follow ``metafor::rma.uni`` (Viechtbauer 2005): DL, HE, HS, SJ in closed form;
ML, REML and EB by Fisher scoring from the truncated Hedges estimate; PM (and EB under
``convergence="exact"``, which has the same root) by Brent's method on the generalized Q
equation. Every estimate is truncated at 0. Validated against metafor 3.8-1 through the
fixtures in ``tests/reference/`` (see ``tests/unit/test_reference_metafor.py`` and
``tests/unit/test_engine.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from metareview.stats.single import CANCELLED, mend_cancelled_trace, pairwise_sum

#: Convergence threshold on the change in tau² between iterations, relative to max(1, tau²)
#: (metafor's default is 1e-5 absolute: ``convergence="metafor"``).
THRESHOLD = 1e-12
#: Fisher scoring iterations before a fit is reported as not converged (metafor: 100).
MAX_ITER = 1_000
#: ``convergence="metafor"``: Fisher scoring threshold 1e-5, R's ``uniroot`` tolerance.
METAFOR_THRESHOLD = 1e-5
METAFOR_TOL = np.finfo(float).eps ** 0.25
EXACT_XTOL = 1e-14


@dataclass(frozen=True)
class Batch:
    """Padded data of B analyses: y, v, m of shape (B, k) and X of shape (B, k, p)."""

    y: np.ndarray
    v: np.ndarray
    m: np.ndarray
    X: np.ndarray
    intercept_only: bool = False  # X is a column of ones (fast path)
    #: X is [1, x] and p × p algebra may use closed 2 × 2 forms (sums instead of einsum and
    #: inv: the same numbers to rounding, not bit for bit; set by the permutation test only).
    one_moderator: bool = False

    @property
    def k(self) -> np.ndarray:
        """Number of studies in each row."""
        return self.m.sum(axis=1)

    @property
    def p(self) -> int:
        return self.X.shape[2]


def make_batch(y, v, m=None, X=None) -> Batch:
    """A :class:`Batch` from (B, k) or (k,) arrays (and X of (k, p) or (B, k, p)), broadcast
    to a common B; padding entries (m = 0) get y = 0, v = 1 and weight 0."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    v = np.atleast_2d(np.asarray(v, dtype=float))
    m = np.ones((1, y.shape[1])) if m is None else np.atleast_2d(np.asarray(m, dtype=float))
    if X is None:
        X = np.ones((1, y.shape[1], 1))
    else:
        X = np.asarray(X, dtype=float)
        X = X[None] if X.ndim == 2 else X
    intercept_only = X.shape[2] == 1 and bool(np.all(X == 1.0))
    n = max(y.shape[0], v.shape[0], m.shape[0], X.shape[0])
    shape = (n, y.shape[1])
    y, v, m = (np.broadcast_to(a, shape) for a in (y, v, m))
    y, v = np.where(m > 0, y, 0.0), np.where(m > 0, v, 1.0)
    X = np.broadcast_to(X, (n, *X.shape[1:]))
    return Batch(y, v, np.array(m), X, intercept_only)


def rows(batch: Batch, keep) -> Batch:
    """The rows ``keep`` (index, slice or boolean) of a batch."""
    return replace(batch, y=batch.y[keep], v=batch.v[keep], m=batch.m[keep], X=batch.X[keep])


@dataclass(frozen=True)
class WeightedFit:
    """Weighted least squares of every row at a given tau² (arrays over the batch)."""

    w: np.ndarray  # (B, k) weights m / (v + tau²)
    beta: np.ndarray  # (B, p)
    cov: np.ndarray  # (B, p, p) (XᵀWX)⁻¹
    resid: np.ndarray  # (B, k)
    q: np.ndarray  # (B,) Σ w·resid², Cochran's Q at tau² = 0

    @property
    def se_z(self) -> np.ndarray:
        return np.sqrt(np.diagonal(self.cov, axis1=1, axis2=2))


def weighted_fit(batch: Batch, tau2) -> WeightedFit:
    """WLS of y on X with weights m / (v + tau²) for every row."""
    tau2 = np.asarray(tau2, dtype=float)
    w = batch.m / (batch.v + (tau2[:, None] if tau2.ndim else tau2))
    if batch.intercept_only:
        sw = w.sum(axis=1)
        beta = ((w * batch.y).sum(axis=1) / sw)[:, None]
        resid = batch.y - beta
        cov = (1.0 / sw)[:, None, None]
    elif batch.one_moderator:
        return _moderator_fit(batch, w)
    else:
        XW = batch.X * w[..., None]
        cov = np.linalg.inv(np.einsum("bki,bkj->bij", XW, batch.X))
        beta = np.einsum("bij,bj->bi", cov, np.einsum("bki,bk->bi", XW, batch.y))
        resid = batch.y - np.einsum("bkp,bp->bk", batch.X, beta)
    return WeightedFit(w, beta, cov, resid, (w * resid**2).sum(axis=1))


def crossprod(batch: Batch, w: np.ndarray) -> np.ndarray:
    """XᵀWX of every row, (B, p, p), for per-study weights w (B, k)."""
    if not batch.one_moderator:
        return np.einsum("bki,bkj->bij", batch.X * w[..., None], batch.X)
    x = batch.X[:, :, 1]
    wx = w * x
    s0, s1, s2 = w.sum(axis=1), wx.sum(axis=1), (wx * x).sum(axis=1)
    return np.stack([np.stack([s0, s1], axis=1), np.stack([s1, s2], axis=1)], axis=1)


def _moderator_fit(batch: Batch, w: np.ndarray) -> WeightedFit:
    """:func:`weighted_fit` of X = [1, x] by the closed 2 × 2 inverse."""
    x = batch.X[:, :, 1]
    a = crossprod(batch, w)
    s0, s1, s2 = a[:, 0, 0], a[:, 0, 1], a[:, 1, 1]
    det = s0 * s2 - s1 * s1
    cov = np.stack([np.stack([s2, -s1], axis=1), np.stack([-s1, s0], axis=1)], axis=1)
    cov = cov / det[:, None, None]
    wy = w * batch.y
    t0, t1 = wy.sum(axis=1), (wy * x).sum(axis=1)
    beta = np.stack([(s2 * t0 - s1 * t1) / det, (s0 * t1 - s1 * t0) / det], axis=1)
    resid = batch.y - beta[:, :1] - beta[:, 1:] * x
    return WeightedFit(w, beta, cov, resid, (w * resid**2).sum(axis=1))


def residual_q(batch: Batch, tau2) -> np.ndarray:
    """Generalized Q statistic yᵀP(tau²)y of every row."""
    return weighted_fit(batch, tau2).q


def _traces(batch: Batch, fit: WeightedFit) -> tuple[np.ndarray, np.ndarray]:
    """(tr P, tr P²) with P = W − WX(XᵀWX)⁻¹XᵀW, from p × p matrices only."""
    w = fit.w
    w2 = w**2
    if batch.intercept_only:
        sw, sw2 = w.sum(axis=1), w2.sum(axis=1)
        tr_p = mend_cancelled_trace(sw - sw2 / sw, w, sw)
        return tr_p, sw2 - 2 * (w2 * w).sum(axis=1) / sw + (sw2 / sw) ** 2
    if batch.one_moderator:
        B2, B3 = crossprod(batch, w2), crossprod(batch, w2 * w)
    else:
        XW2 = batch.X * w2[..., None]
        B2 = np.einsum("bki,bkj->bij", XW2, batch.X)
        B3 = np.einsum("bki,bkj->bij", XW2 * w[..., None], batch.X)
    AB2 = fit.cov @ B2
    tr_p = w.sum(axis=1) - np.trace(AB2, axis1=1, axis2=2)
    tr_p2 = (
        w2.sum(axis=1)
        - 2 * np.trace(fit.cov @ B3, axis1=1, axis2=2)
        + np.einsum("bij,bji->b", AB2, AB2)
    )
    cancelled = ~(tr_p2 > CANCELLED * w2.sum(axis=1))
    for i in np.flatnonzero(cancelled):  # see single.CANCELLED
        tr_p[i], tr_p2[i] = _traces_by_entry(batch.X[i], w[i], fit.cov[i])
    return tr_p, tr_p2


def _traces_by_entry(X: np.ndarray, w: np.ndarray, cov: np.ndarray) -> tuple[float, float]:
    """(tr P, tr P²) of one row from P = W − WX(XᵀWX)⁻¹XᵀW itself (k × k): the expanded
    forms cancel when one weight dominates (a variance of 1e-12 next to 0.3, found by
    probing trim-and-fill's side regression); absent studies have w = 0 and add nothing."""
    wx = X * w[:, None]
    p = -(wx @ cov @ wx.T)
    p[np.diag_indices_from(p)] += w
    return float(np.trace(p)), pairwise_sum((p * p).ravel())
