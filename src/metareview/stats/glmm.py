"""Binomial-normal model of a binary outcome, as ``rma.glmm(measure = "OR", model = "UM.FS")``.

The unconditional model with fixed study effects (Stijnen, Hamza & Özdemir 2010; metafor's
UM.FS) fits the arms' event counts directly, without a continuity correction::

    logit p_exp,i = α_i + β + u_i/2,   logit p_ctl,i = α_i − u_i/2,   u_i ~ N(0, τ²)

so that β is the pooled log odds ratio and τ² the between-study variance of the log odds ratios
(metafor codes the random effect ±1/2 in the two arms, its default ``coding = 1/2``). It is fitted
by maximum likelihood, the marginal likelihood of each study integrated over u_i by adaptive
Gauss–Hermite quadrature with 7 nodes (lme4's ``glmer(..., nAGQ = 7)``, which rma.glmm calls):
centred at the conditional mode of u_i and scaled by the curvature there. The study intercepts
α_i are profiled out (each study's likelihood is maximised over its own α_i), leaving a
two-parameter optimisation over (β, τ) with τ ≥ 0. The SE of β is the one lme4 reports: from the
inverse Hessian of the deviance in (τ, β, α), computed here on the profile deviance (the same
matrix block) by central differences.

As metafor (``drop00 = TRUE``), studies with no events in both arms, or only events in both
arms, carry no information on the odds ratio and are dropped. Studies with a zero in one arm stay
in, uncorrected.

Validated against metafor 3.8-1 / lme4 1.1-31 on the fixtures of
``tests/reference/make_fixtures_multilevel.R`` (``tests/unit/test_glmm.py``): against rma.glmm
run with a tight optimiser (bobyqa, ``rhoend = 1e-12``) to ~1e-6; lme4's default optimiser
(bobyqa then Nelder–Mead) stops up to ~3e-4 (relative) from the maximum on ``nielweise2007``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from scipy.special import expit, logsumexp

#: Quadrature nodes (rma.glmm's default ``nAGQ = 7``).
N_AGQ = 7
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(N_AGQ)
_LOG_WEIGHTS = np.log(_WEIGHTS / np.sqrt(2 * np.pi))
#: Most study-likelihood evaluations one fit may use (the metafor fixtures need at most ~1,100);
#: a fit that has not converged by then (e.g. separation with arms of 10^6) is reported as not
#: converged instead of running for hours (issue 14).
MAX_EVALUATIONS = 10_000


class _OutOfBudget(RuntimeError):
    pass


@dataclass(frozen=True)
class GlmmResult:
    """Pooled log odds ratio of the UM.FS model. ``estimate`` etc. are NaN when not estimable,
    with the reason in ``note``."""

    k: int
    k_dropped: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    tau2: float
    log_likelihood: float
    note: str = ""


def _log1pexp(eta):
    return np.logaddexp(0.0, eta)


def _log_integrand(u, alpha, beta, theta, y1, n1, y2, n2):
    """log of each study's integrand in u (up to constants): its conditional mode maximises it."""
    eta1, eta2 = alpha + beta + theta * u / 2, alpha - theta * u / 2
    return y1 * eta1 - n1 * _log1pexp(eta1) + y2 * eta2 - n2 * _log1pexp(eta2) - u * u / 2


def _safe_step(raw, u, args):
    """The Newton step ``raw`` clipped to ±5; a clipped step is halved until the integrand
    improves (a full clipped step can overshoot the mode and cycle between two points for
    ever: issue 14, an arm of 30/40 events at τ ≈ 3). Unclipped steps are taken as they are."""
    step = np.clip(raw, -5, 5)
    clipped = np.abs(raw) > 5
    if np.any(clipped):
        current = _log_integrand(u, *args)
        for _ in range(60):
            worse = clipped & (_log_integrand(u + step, *args) < current)
            if not np.any(worse):
                break
            step = np.where(worse, step / 2, step)
    return step


def _study_log_lik(alpha, beta, theta, y1, n1, y2, n2):
    """Each study's AGQ log-likelihood (without the binomial coefficients)."""
    u = np.zeros_like(alpha)
    c2 = theta * theta / 4
    args = (alpha, beta, theta, y1, n1, y2, n2)
    for _ in range(100):
        p1, p2 = expit(alpha + beta + theta * u / 2), expit(alpha - theta * u / 2)
        grad = theta / 2 * ((y1 - n1 * p1) - (y2 - n2 * p2)) - u
        curv = c2 * (n1 * p1 * (1 - p1) + n2 * p2 * (1 - p2)) + 1
        step = _safe_step(grad / curv, u, args)
        u = u + step
        # Rounding noise of the gradient grows with the arm sizes (issue 14: n = 10^6 never
        # reached 1e-12 and spent 100 iterations on every call).
        if np.all(np.abs(step) < 1e-12 + 1e-15 * theta * (n1 + n2) / curv):
            break
    p1, p2 = expit(alpha + beta + theta * u / 2), expit(alpha - theta * u / 2)
    sigma = 1 / np.sqrt(c2 * (n1 * p1 * (1 - p1) + n2 * p2 * (1 - p2)) + 1)
    nodes = u[:, None] + sigma[:, None] * _NODES[None, :]
    per_node = (x[:, None] for x in (y1, n1, y2, n2))
    h = _log_integrand(nodes, alpha[:, None], beta, theta, *per_node)
    return np.log(sigma) + logsumexp(_LOG_WEIGHTS + h + _NODES**2 / 2, axis=1)


class _Profile:
    """Deviance of (β, τ) with the study intercepts maximised out; remembers the last α."""

    def __init__(self, y1, n1, y2, n2):
        self.data = (y1, n1, y2, n2)
        self.alpha = np.log((y2 + 0.5) / (n2 - y2 + 0.5))
        self.evaluations = 0

    def objective(self, par) -> float:
        """:meth:`deviance` at ``par = (β, τ)``."""
        return self.deviance(par[0], par[1])

    def deviance(self, beta: float, theta: float) -> float:
        alpha, h = self.alpha.copy(), 1e-5

        def ll(a):
            self.evaluations += 1
            if self.evaluations > MAX_EVALUATIONS:
                raise _OutOfBudget
            return _study_log_lik(a, beta, theta, *self.data)

        current = ll(alpha)
        for _ in range(100):
            up, down = ll(alpha + h), ll(alpha - h)
            d1 = (up - down) / (2 * h)
            d2 = np.minimum((up - 2 * current + down) / h**2, -1e-8)
            step = np.clip(-d1 / d2, -5, 5)
            trial = alpha + step
            new = ll(trial)
            # Rounding noise of a log-likelihood grows with its size (huge arms): relative.
            noise = 1e-12 * (1 + np.abs(current))
            worse = new < current - noise
            while np.any(worse):  # halve the steps that did not improve
                step = np.where(worse, step / 2, step)
                trial = alpha + step
                new = ll(trial)
                worse = (new < current - noise) & (np.abs(step) > 1e-14)
            gain = new - current
            alpha, current = trial, new
            if np.max(np.abs(step)) < 1e-9:  # finite-difference noise is ~1e-10
                break
            if np.all(gain <= noise):  # converged to rounding noise (huge arms, issue 14)
                break
        self.alpha = alpha
        return float(-2 * np.sum(current))


def _not_estimable(y1, n1, y2, n2) -> str:
    if np.all((y1 == 0) | (y2 == n2)) or np.all((y1 == n1) | (y2 == 0)):
        return "odds ratio not estimable: no study has events in the direction of both arms"
    return ""


def _gradient(objective, par, h=1e-6):
    """Central-difference gradient of the deviance."""
    g = np.zeros(2)
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        g[i] = (objective(par + e) - objective(par - e)) / (2 * h)
    return g


def _minimize(objective, y1, n1, y2, n2) -> tuple[float, float]:
    """(β, τ) minimizing the deviance: L-BFGS-B from two starting τ, the better kept; a
    boundary optimum is refitted at τ = 0 exactly."""
    start_beta = float(
        np.log((y1.sum() + 0.5) * (n2 - y2).sum() / ((y2.sum() + 0.5) * (n1 - y1).sum()))
    )
    best = None
    for theta0 in (0.5, 0.05):
        res = optimize.minimize(
            objective,
            np.array([start_beta, theta0]),
            jac=lambda par: _gradient(objective, par),
            method="L-BFGS-B",
            bounds=[(None, None), (0.0, None)],
            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 500},
        )
        if best is None or res.fun < best.fun:
            best = res
    beta, theta = float(best.x[0]), float(best.x[1])
    if theta < 1e-7:  # the profile deviance is even in τ: a boundary optimum is τ = 0 exactly
        theta = 0.0
        beta = float(
            optimize.minimize_scalar(
                lambda b: objective([b, 0.0]), bracket=(beta - 0.1, beta + 0.1), tol=1e-12
            ).x
        )
    return beta, theta


def fit_um_fs(ai, n1i, ci, n2i, *, level: float = 0.95) -> GlmmResult:
    """Fit ``rma.glmm(measure = "OR", ai, n1i, ci, n2i, model = "UM.FS")`` (ML, nAGQ = 7).

    Parameters
    ----------
    ai, n1i
        Events and participants in the experimental arm of each study.
    ci, n2i
        Events and participants in the control arm.
    level
        Confidence level of the z interval.

    Returns
    -------
    GlmmResult
        Fewer than two informative studies, or a pooled odds ratio at 0 or infinity (e.g. no
        events in any experimental arm), give NaN estimates with the reason in ``note``.
    """
    y1, n1, y2, n2 = (np.asarray(v, dtype=float) for v in (ai, n1i, ci, n2i))
    drop = ((y1 == 0) & (y2 == 0)) | ((y1 == n1) & (y2 == n2))
    y1, n1, y2, n2 = y1[~drop], n1[~drop], y2[~drop], n2[~drop]
    k = int(y1.size)
    nan = float("nan")

    def empty(note: str) -> GlmmResult:
        return GlmmResult(k, int(drop.sum()), nan, nan, nan, nan, nan, nan, nan, note)

    if k < 2:
        return empty(f"{k} stud{'y' if k == 1 else 'ies'} with events: GLMM needs at least 2")
    reason = _not_estimable(y1, n1, y2, n2)
    if reason:
        return empty(reason)
    try:
        return _fit(y1, n1, y2, n2, k, int(drop.sum()), level, empty)
    except _OutOfBudget:
        return empty(f"did not converge within {MAX_EVALUATIONS} likelihood evaluations")


def _fit(y1, n1, y2, n2, k, k_dropped, level, empty) -> GlmmResult:
    objective = _Profile(y1, n1, y2, n2).objective
    beta, theta = _minimize(objective, y1, n1, y2, n2)
    if abs(beta) > 20:
        return empty("odds ratio not estimable: the estimate diverges (separation)")
    hessian = _hessian(objective, np.array([beta, theta]), 1e-4)
    try:
        variance = float(2 * np.linalg.inv(hessian)[0, 0])
    except np.linalg.LinAlgError:  # exactly singular (found by make fuzz)
        variance = float("nan")
    if not (math.isfinite(variance) and variance > 0):
        # Found by make fuzz: a deviance flat or not convex at the optimum (numerically) has
        # no curvature-based standard error; the z interval would be NaN without a word.
        return empty(
            "standard error not estimable: the deviance is not convex at the optimum "
            "(Hessian not positive definite)"
        )
    se = math.sqrt(variance)
    z = stats.norm.ppf(0.5 + level / 2)
    return GlmmResult(
        k=k,
        k_dropped=k_dropped,
        estimate=beta,
        se=se,
        ci_low=beta - z * se,
        ci_high=beta + z * se,
        p_value=float(2 * stats.norm.sf(abs(beta / se))),
        tau2=theta**2,
        log_likelihood=-objective([beta, theta]) / 2,
    )


def _hessian(fun, x: np.ndarray, h: float) -> np.ndarray:
    """Central-difference Hessian (the deviance is even in τ, so τ − h < 0 is legitimate)."""
    n = x.size
    out = np.zeros((n, n))
    f0 = fun(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h
        out[i, i] = (fun(x + ei) - 2 * f0 + fun(x - ei)) / h**2
        for j in range(i + 1, n):
            ej = np.zeros(n)
            ej[j] = h
            out[i, j] = out[j, i] = (
                fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej)
            ) / (4 * h * h)
    return out
