"""The eight tau² estimators of ``metafor::rma.uni``, for a whole :class:`Batch` at once.

:func:`estimate` returns per-row tau², iteration counts and convergence flags. Closed forms
(DL, HE, HS, SJ) take one pass; Fisher scoring (ML, REML, EB) and Paule–Mandel (PM; EB under
``convergence="exact"``) iterate with a per-row mask of rows still moving.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from metareview.stats import single
from metareview.stats.engine import (
    EXACT_XTOL,
    MAX_ITER,
    METAFOR_THRESHOLD,
    METAFOR_TOL,
    THRESHOLD,
    Batch,
    _traces,
    crossprod,
    rows,
    weighted_fit,
)
from metareview.stats.options import FitOptions
from metareview.stats.solvers import brentq


@dataclass(frozen=True)
class Tau2Batch:
    """tau² of every row with the iterations it took (0 for closed forms)."""

    tau2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def estimate(batch: Batch, options: FitOptions) -> Tau2Batch:
    """tau² by ``options.tau2_method`` for every row (rows need k > p)."""
    method = options.tau2_method
    if method in ("DL", "HE", "HS", "SJ"):
        tau2 = np.maximum(0.0, CLOSED_FORMS[method](batch))
        n = tau2.size
        return Tau2Batch(tau2, np.zeros(n, dtype=int), np.ones(n, dtype=bool))
    if options.convergence == "metafor":
        if method == "PM":
            return paule_mandel(batch, METAFOR_TOL, limit=metafor_tau2_max(batch))
        return fisher_scoring(batch, method, METAFOR_THRESHOLD)
    if method in ("PM", "EB"):
        return paule_mandel(batch, EXACT_XTOL)
    return fisher_scoring(batch, method, None)


def dersimonian_laird(batch: Batch) -> np.ndarray:
    fit = weighted_fit(batch, 0.0)
    tr_p, _ = _traces(batch, fit)
    return (fit.q - (batch.k - batch.p)) / tr_p


def hedges(batch: Batch) -> np.ndarray:
    """Hedges' (HE) estimator: OLS residual sum of squares minus tr(P_ols V), over k − p."""
    ols = weighted_fit(_with_v(batch, np.ones_like(batch.v)), 0.0)
    # weights m / (1 + 0) = m: ordinary least squares on the rows' studies
    mv = batch.m * batch.v
    hat_v = np.einsum("bij,bji->b", ols.cov, crossprod(batch, mv))
    return (ols.q - (mv.sum(axis=1) - hat_v)) / (batch.k - batch.p)


def _one_row(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    keep = batch.m[0] > 0
    return batch.y[0][keep], batch.v[0][keep]


def _with_v(batch: Batch, v: np.ndarray) -> Batch:
    return replace(batch, v=v)


def hunter_schmidt(batch: Batch) -> np.ndarray:
    return (weighted_fit(batch, 0.0).q - batch.k) / (batch.m / batch.v).sum(axis=1)


def sidik_jonkman(batch: Batch) -> np.ndarray:
    """SJ from metafor's start var(y)·(k − 1)/k (0 when every effect is equal)."""
    k = batch.k
    mean = (batch.m * batch.y).sum(axis=1) / k
    start = (batch.m * (batch.y - mean[:, None]) ** 2).sum(axis=1) / k
    q = weighted_fit(batch, start).q
    return np.where(start == 0.0, 0.0, start * q / (k - batch.p))


CLOSED_FORMS = {
    "DL": dersimonian_laird,
    "HE": hedges,
    "HS": hunter_schmidt,
    "SJ": sidik_jonkman,
}


def _fisher_step(batch: Batch, method: str, tau2: np.ndarray) -> np.ndarray:
    fit = weighted_fit(batch, tau2)
    w, k = fit.w, batch.k
    py2 = ((w * fit.resid) ** 2).sum(axis=1)
    if method == "REML":
        tr_p, tr_p2 = _traces(batch, fit)
        return (py2 - tr_p) / tr_p2
    if method == "ML":
        return (py2 - w.sum(axis=1)) / (w**2).sum(axis=1)
    return (fit.q * k / (k - batch.p) - k) / w.sum(axis=1)  # EB (Morris)


def fisher_scoring(batch: Batch, method: str, threshold: float | None) -> Tau2Batch:
    """ML/REML/EB by Fisher scoring from the truncated Hedges estimate, as metafor.

    ``threshold=None``: iterate until the change is ≤ 1e-12·max(1, tau²), truncating a
    negative step at 0; with a threshold (metafor's 1e-5), halve a step that would make tau²
    negative until it does not, and stop when the change is ≤ the threshold. For ML and
    REML a converged estimate is then checked against tau² = 0 as metafor does
    (``ll0check``): where the (restricted) likelihood is higher at 0, Fisher scoring stopped
    at a local maximum and tau² is set to 0.
    """
    fit = _fisher_scoring(batch, method, threshold)
    if method not in ("ML", "REML"):
        return fit
    limit = THRESHOLD if threshold is None else threshold
    tau2 = np.where(fit.converged & local_maximum(batch, method, fit.tau2, limit), 0.0, fit.tau2)
    return Tau2Batch(tau2, fit.iterations, fit.converged)


#: metafor's ``control$tol`` default (.Machine$double.eps^0.25), used by its ``ll0check``.
LL0_TOL = np.finfo(float).eps ** 0.25


def log_likelihood(batch: Batch, method: str, tau2) -> np.ndarray:
    """(Restricted) log-likelihood of every row at tau², as metafor's ``ll0check``."""
    fit = weighted_fit(batch, tau2)
    k, p = batch.k, batch.p
    tau2 = np.broadcast_to(np.asarray(tau2, dtype=float), k.shape)
    logv = (batch.m * np.log(batch.v + tau2[:, None])).sum(axis=1)
    if method == "ML":
        return -k / 2 * np.log(2 * np.pi) - logv / 2 - fit.q / 2
    if batch.intercept_only:
        logdet = -np.log(fit.cov[:, 0, 0])  # log det(XᵀWX) = log Σw
    else:
        logdet = -np.linalg.slogdet(fit.cov)[1]
    return -(k - p) / 2 * np.log(2 * np.pi) - logv / 2 - logdet / 2 - fit.q / 2


def local_maximum(batch: Batch, method: str, tau2: np.ndarray, threshold: float) -> np.ndarray:
    """Rows where the likelihood at tau² = 0 beats the estimate by more than metafor's tol."""
    ll0 = log_likelihood(batch, method, 0.0)
    ll = log_likelihood(batch, method, tau2)
    return (ll0 - ll > LL0_TOL) & (tau2 > threshold)


def _fisher_scoring(batch: Batch, method: str, threshold: float | None) -> Tau2Batch:
    """The Fisher scoring iterations of :func:`fisher_scoring`."""
    tau2 = np.maximum(0.0, hedges(batch))
    n = tau2.size
    if n == 1 and batch.intercept_only:
        y, v = _one_row(batch)
        t, it, ok = single.fisher_scoring(
            y, v, method, float(tau2[0]), threshold, THRESHOLD, MAX_ITER
        )
        return Tau2Batch(np.array([t]), np.array([it]), np.array([ok]))
    if batch.intercept_only:
        return _fisher_intercept(batch, method, tau2, threshold)
    iterations = np.zeros(n, dtype=int)
    moving = np.ones(n, dtype=bool)
    truncated = np.zeros(n, dtype=int)
    for _ in range(MAX_ITER):
        idx = np.flatnonzero(moving)
        if idx.size == 0:
            break
        sub = batch if idx.size == n else rows(batch, idx)
        old = tau2[idx]
        adj = _fisher_step(sub, method, old)
        new, limit, truncated[idx] = _update(old, adj, threshold, truncated[idx])
        tau2[idx] = new
        iterations[idx] += 1
        moving[idx[np.abs(new - old) <= limit]] = False
    return Tau2Batch(tau2, iterations, ~moving)


#: Halvings of one negative Fisher step: 2⁻¹¹⁰⁰ takes any finite double to 0.
HALVINGS = 1100


def _update(old, adj, threshold, truncated):
    """One Fisher scoring update: ``(new, convergence limit, truncation count)``.

    ``threshold=None`` (exact): a step below 0 is truncated at 0, so a boundary optimum is
    exactly 0; a row truncated twice is cycling (0 → τ² → 0 ...: the optimum is interior
    and the step overshoots) and from then on halves such steps, as metafor always does.
    With metafor's threshold every negative step is halved.
    """
    step = old + adj
    negative = step < 0.0
    if negative.any():
        halve = truncated >= 2 if threshold is None else np.ones(old.shape, dtype=bool)
        for _ in range(HALVINGS):  # an infinite step never stops being negative
            if not (halve & negative).any():
                break
            adj = np.where(halve & negative, adj / 2, adj)
            step = old + adj
            negative = step < 0.0
        step = np.where(halve & negative, 0.0, step)
    if threshold is not None:
        return step, threshold, truncated
    new = np.maximum(0.0, step)
    return new, THRESHOLD * np.maximum(1.0, new), truncated + negative


def _intercept_step(method: str, Y, V, M, K, tau2):
    """Fisher scoring step of intercept-only rows, from sums only (~15 array operations)."""
    w = M / (V + tau2[:, None])
    sw = _rowsum(w, 1)
    r = Y - (_rowsum(w * Y, 1) / sw)[:, None]
    wr = w * r
    if method == "REML":
        w2 = w * w
        sw2 = _rowsum(w2, 1)
        tr_p2 = sw2 - 2 * _rowsum(w2 * w, 1) / sw + (sw2 / sw) ** 2
        cancelled = ~(tr_p2 > single.CANCELLED * sw2)
        if cancelled.any():  # see single.CANCELLED
            for i in np.flatnonzero(cancelled):  # absent studies have w = 0: no terms
                tr_p2[i] = single.reml_information(w[i], float(sw[i]))
        return (_rowsum(wr * wr, 1) - (sw - sw2 / sw)) / tr_p2
    if method == "ML":
        return (_rowsum(wr * wr, 1) - sw) / _rowsum(w * w, 1)
    return (_rowsum(wr * r, 1) * K / (K - 1) - K) / sw  # EB (Morris)


#: ``a.sum(axis=1)`` without ndarray.sum's Python wrapper (the same reduction).
_rowsum = np.add.reduce


def _fisher_intercept(batch: Batch, method: str, tau2: np.ndarray, threshold) -> Tau2Batch:
    """:func:`fisher_scoring` for intercept-only rows; converged rows leave the arrays."""
    n = tau2.size
    iterations, moving = np.zeros(n, dtype=int), np.ones(n, dtype=bool)
    truncated = np.zeros(n, dtype=int)
    idx = np.arange(n)
    Y, V, M, K = batch.y, batch.v, batch.m, batch.k
    for _ in range(MAX_ITER):
        if idx.size == 0:
            break
        old = tau2[idx]
        adj = _intercept_step(method, Y, V, M, K, old)
        new, limit, truncated[idx] = _update(old, adj, threshold, truncated[idx])
        tau2[idx] = new
        iterations[idx] += 1
        done = np.abs(new - old) <= limit
        if done.any():
            moving[idx[done]] = False
            keep = ~done
            idx, Y, V, M, K = idx[keep], Y[keep], V[keep], M[keep], K[keep]
    return Tau2Batch(tau2, iterations, ~moving)


def metafor_tau2_max(batch: Batch) -> np.ndarray:
    """metafor's default upper search limit for PM: max(100, 10·mad(y)²) per row."""
    y = np.where(batch.m > 0, batch.y, np.nan)
    med = np.nanmedian(y, axis=1)
    mad = 1.4826 * np.nanmedian(np.abs(y - med[:, None]), axis=1)
    return np.maximum(100.0, 10 * mad**2)


def q_root(batch: Batch, target: np.ndarray, xtol: float, limit=None):
    """Per row, the tau² ≥ 0 where Q(tau²) = target (Q decreases in tau²).

    Rows with Q(0) ≤ target give 0. Without ``limit`` the bracket starts at
    max(1, 10·var(y)) and is widened ×10 until it holds the root; with a ``limit`` a row whose
    root lies beyond it gives the limit and ``capped``. Returns ``(root, iterations,
    converged, capped)``.
    """
    n = batch.y.shape[0]
    q0 = weighted_fit(batch, 0.0).q
    root, iterations = np.zeros(n), np.zeros(n, dtype=int)
    converged, capped = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    todo = np.flatnonzero(q0 > target)
    if todo.size == 0:
        return root, iterations, converged, capped
    sub = rows(batch, todo)
    goal = np.broadcast_to(target, (n,))[todo]
    upper, f_upper = _bracket(
        sub, goal, None if limit is None else np.broadcast_to(limit, (n,))[todo]
    )
    beyond = f_upper > 0.0
    capped[todo[beyond]] = True
    root[todo[beyond]] = upper[beyond]
    converged[todo[beyond]] = False
    inside = ~beyond
    if inside.any() and todo.size <= 2 and batch.intercept_only:
        for j in np.flatnonzero(inside):
            y, v = _one_row(rows(sub, [j]))
            f0 = float(q0[todo[j]] - goal[j])
            root[todo[j]], iterations[todo[j]], converged[todo[j]] = single.q_root(
                y, v, float(goal[j]), float(upper[j]), float(f_upper[j]), f0, xtol
            )
    elif inside.any():
        ok = np.flatnonzero(inside)
        part = rows(sub, ok)
        r, it, conv = brentq(
            lambda t: weighted_fit(part, t).q - goal[ok],
            np.zeros(ok.size),
            upper[ok],
            q0[todo][ok] - goal[ok],
            f_upper[ok],
            xtol,
        )
        root[todo[ok]], iterations[todo[ok]], converged[todo[ok]] = r, it, conv
    return root, iterations, converged, capped


def _bracket(batch: Batch, goal: np.ndarray, limit):
    """Upper end of the search interval and Q − goal there."""
    if limit is not None:
        upper = np.asarray(limit, dtype=float).copy()
        return upper, weighted_fit(batch, upper).q - goal
    k = batch.k
    mean = (batch.m * batch.y).sum(axis=1) / k
    var = (batch.m * (batch.y - mean[:, None]) ** 2).sum(axis=1) / k
    upper = np.maximum(1.0, 10 * var)
    f_upper = weighted_fit(batch, upper).q - goal
    while np.any(f_upper > 0.0):
        grow = f_upper > 0.0
        upper = np.where(grow, upper * 10, upper)
        f_upper = np.where(grow, weighted_fit(batch, upper).q - goal, f_upper)
    return upper, f_upper


def paule_mandel(batch: Batch, xtol: float, limit=None) -> Tau2Batch:
    """Solve yᵀP(tau²)y = k − p per row (PM; EB has the same root)."""
    root, iterations, converged, _ = q_root(batch, batch.k - batch.p, xtol, limit)
    return Tau2Batch(root, iterations, converged)
