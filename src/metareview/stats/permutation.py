"""Permutation tests of a random/mixed-effects model, as ``metafor::permutest.rma.uni``.

Intercept-only models permute the signs of the effects; models with moderators permute the
rows of the moderator matrix. When the number of distinct permutations (2^k, or the number
of distinct orderings of the moderator rows) is at most ``n_perm`` every one is fitted (an
exact test, as metafor); otherwise ``n_perm`` random permutations are drawn from a seeded
numpy Generator and the first is replaced by the observed data (so p > 0), as metafor does.
The p-value is metafor's default: the share of permutations whose |z| (or |t| under
Knapp–Hartung) is at least the observed |z| − sqrt(eps); QM (omnibus test of the moderators)
is permuted the same way. All permuted fits are one batch of the engine.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from metareview.stats import estimators
from metareview.stats.engine import Batch, make_batch, weighted_fit
from metareview.stats.options import FitOptions

#: metafor's ``comptol``: observed statistics are compared with this slack.
COMPTOL = np.finfo(float).eps ** 0.5


@dataclass(frozen=True)
class PermutationResult:
    """Observed test statistic and its permutation p-value (plus the omnibus QM test)."""

    statistic: float  # z (or t under hksj) of the tested coefficient
    p_value: float  # permutation p-value of that coefficient
    qm: float  # omnibus statistic of the moderators (z² / F); of the intercept if none
    qm_p_value: float
    n_perm: int  # permutations fitted (including the observed data)
    exact: bool  # every distinct permutation was fitted
    coefficient: str  # "intercept" or the moderator's position ("mods[0]", ...)


def statistics(batch: Batch, options: FitOptions) -> tuple[np.ndarray, np.ndarray]:
    """(z or t of every coefficient, QM of the non-intercept ones) for every row."""
    tau2 = estimators.estimate(batch, options).tau2
    fit = weighted_fit(batch, tau2)
    cov = fit.cov
    if options.ci_method == "hksj":
        s2w = fit.q / (batch.k - batch.p)
        cov = cov * s2w[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = fit.beta / np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        tested = slice(1, None) if batch.p > 1 else slice(0, 1)
        b = fit.beta[:, tested]
        vb = cov[:, tested, tested]
        qm = np.einsum("bi,bi->b", b, _solve_rows(vb, b))
    if options.ci_method == "hksj":
        qm = qm / b.shape[1]  # metafor's F statistic
    return z, qm


def _solve_rows(vb: np.ndarray, b: np.ndarray) -> np.ndarray:
    """vb⁻¹ b for every row; NaN for a singular row (e.g. identical effects under hksj, whose
    scale is 0: issue 14), instead of failing the whole batch."""
    try:
        return np.linalg.solve(vb, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full_like(b, np.nan)
        for i in range(b.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.solve(vb[i], b[i])
        return out


def n_distinct(X: np.ndarray) -> int:
    """Number of distinct row orderings of X (multinomial coefficient), as metafor."""
    counts = Counter(map(tuple, X)).values()
    k = X.shape[0]
    return math.factorial(k) // math.prod(math.factorial(c) for c in counts)


def distinct_orderings(X: np.ndarray) -> np.ndarray:
    """Every distinct ordering of the rows of X, as an index array (n, k)."""
    _, labels = np.unique(X, axis=0, return_inverse=True)
    labels = labels.ravel()
    first = {lab: int(np.flatnonzero(labels == lab)[0]) for lab in np.unique(labels)}
    out: list[list[int]] = []

    def extend(prefix: list[int], left: Counter) -> None:
        if not left:
            out.append(prefix)
            return
        for lab in sorted(left):
            rest = left.copy()
            rest[lab] -= 1
            if rest[lab] == 0:
                del rest[lab]
            extend([*prefix, first[lab]], rest)

    extend([], Counter(labels.tolist()))
    return np.array(out, dtype=int)


def permutation_test(
    yi, vi, mods=None, options: FitOptions | None = None, *, n_perm: int = 1000, seed=None
) -> PermutationResult:
    """Permutation test of the moderators (or of the intercept when ``mods`` is None).

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes and sampling variances (k ≥ p + 1 studies).
    mods : array_like, optional
        k or k × q moderator values (an intercept is added).
    options : FitOptions
        How every model is fitted (tau² method, z or Knapp–Hartung...).
    n_perm : int
        Random permutations when an exact test needs more than this many.
    seed : int or numpy Generator
        Seeds the permutations; the result is deterministic for a given seed.
    """
    options = options or FitOptions()
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    if mods is None:
        X = np.ones((k, 1))
    else:
        X = np.column_stack([np.ones(k), np.asarray(mods, dtype=float).reshape(k, -1)])
    if k <= X.shape[1]:
        raise ValueError(f"a permutation test needs more than {X.shape[1]} studies; got {k}")
    z_obs, qm_obs = (a[0] for a in statistics(make_batch(yi, vi, X=X), options))
    batch, exact = _permuted(yi, vi, X, n_perm, np.random.default_rng(seed))
    z, qm = statistics(batch, options)
    if not exact:  # the first random permutation is the observed data, as metafor
        z[0], qm[0] = z_obs, qm_obs
    col = X.shape[1] - 1
    p = np.nanmean(np.abs(z[:, col]) >= np.abs(z_obs[col]) - COMPTOL)
    qm_p = np.nanmean(qm >= qm_obs - COMPTOL)
    # An undefined observed statistic (e.g. zero Knapp-Hartung scale) has no p-value; the
    # comparisons above would be all False and read as p = 0.
    p = p if np.isfinite(z_obs[col]) else np.nan
    qm_p = qm_p if np.isfinite(qm_obs) else np.nan
    name = "intercept" if col == 0 else f"mods[{col - 1}]"
    return PermutationResult(
        float(z_obs[col]), float(min(p, 1.0)), float(qm_obs), float(qm_p), len(z), exact, name
    )


def _permuted(yi, vi, X, n_perm: int, rng: np.random.Generator) -> tuple[Batch, bool]:
    """The batch of permuted data sets and whether it enumerates every permutation."""
    k = yi.size
    if X.shape[1] == 1:
        if 2**k <= n_perm:  # every sign pattern (expand.grid order: first study fastest)
            bits = (np.arange(2**k)[:, None] >> np.arange(k)) & 1
            return make_batch(yi * (1 - 2 * bits), vi), True
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_perm, k))
        return make_batch(yi * signs, vi), False
    order = np.lexsort(X.T[::-1])  # metafor permutes the sorted moderator rows
    Xs = X[order]
    exact = n_distinct(Xs) <= n_perm
    perms = distinct_orderings(Xs) if exact else np.argsort(rng.random((n_perm, k)), axis=1)
    batch = make_batch(yi, vi, X=Xs[perms])
    # one moderator: closed 2 × 2 algebra (the p-value counts |z| ≥ |z_obs| − COMPTOL, so
    # rounding-level differences from the observed fit's algebra do not matter)
    return replace(batch, one_moderator=X.shape[1] == 2), exact


def seed_for(seed: int, *parts) -> np.random.SeedSequence:
    """A seed for one test derived from the config seed and the test's identity (stable
    across runs and independent of the order in which analyses are run)."""
    import zlib

    return np.random.SeedSequence([int(seed), zlib.crc32("\x1f".join(map(str, parts)).encode())])


def label_permutations(labels: np.ndarray, n_perm: int, rng: np.random.Generator):
    """Index arrays permuting ``labels``: every distinct ordering when they are at most
    ``n_perm`` (exact), else ``n_perm`` random ones with the identity first."""
    codes = np.unique(labels, return_inverse=True)[1].reshape(-1, 1).astype(float)
    if n_distinct(codes) <= n_perm:
        order = np.argsort(codes[:, 0], kind="stable")
        return order[distinct_orderings(codes[order])], True
    perms = np.argsort(rng.random((n_perm, labels.size)), axis=1)
    perms[0] = np.arange(labels.size)
    return perms, False
