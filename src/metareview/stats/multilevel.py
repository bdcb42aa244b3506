"""Three-level meta-analysis: effects (e.g. timepoints) nested in studies, fitted by REML.

The model is metafor's ``rma.mv(yi, vi, mods, random = ~ 1 | study/effect, method = "REML")``::

    y = X·β + u_study + u_effect + e,   u_study ~ N(0, σ²_study) shared by a study's effects,
                                         u_effect ~ N(0, σ²_effect), e ~ N(0, vi)

so the marginal covariance is V = diag(vi) + σ²_study·Z Zᵀ + σ²_effect·I (Z: study indicators).
The fixed effects are profiled out (generalised least squares given V) and the restricted
log-likelihood is maximised over (σ²_study, σ²_effect) ≥ 0 with L-BFGS-B, then polished by
projected Fisher scoring with analytic derivatives. A variance component whose REML optimum is at
the boundary is reported as exactly 0; metafor, which optimises log σ², reports a tiny positive
number there (~1e-9), a difference far below any printed digit. Inference is metafor's default
``test = "z"``: SE from (XᵀV⁻¹X)⁻¹, normal CIs and p-values.

One study only: σ²_study is not identifiable (a shared shift of all effects is absorbed by the
intercept), so it is fixed at 0 and the fit says so in ``note``. One effect per study: only
σ²_study + σ²_effect is identifiable, so σ²_effect is fixed at 0 and the model is the ordinary
REML random-effects model (metafor splits the sum arbitrarily, wherever its optimiser stops).

Validated against metafor 3.8-1 ``rma.mv`` on the fixtures of
``tests/reference/make_fixtures_multilevel.R`` (``tests/unit/test_multilevel.py``): balanced and
unbalanced timepoints, a study with one timepoint, σ² at 0; estimates and SEs to 1e-6 relative,
variance components to 1e-6 absolute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

#: Time moderators the configuration accepts (``multilevel.time_moderator``).
TIME_MODERATORS = ("log_weeks", "weeks", "none")


@dataclass(frozen=True)
class MultilevelFit:
    """A fitted three-level model. Arrays are indexed by the columns of ``X`` (``terms``)."""

    terms: tuple[str, ...]
    beta: np.ndarray
    vcov: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    sigma2_study: float
    sigma2_effect: float
    k_studies: int
    k_effects: int
    level: float
    converged: bool
    note: str = ""
    # what the robust variance needs
    X: np.ndarray = field(repr=False, default=None)
    yi: np.ndarray = field(repr=False, default=None)
    V: np.ndarray = field(repr=False, default=None)
    cluster: np.ndarray = field(repr=False, default=None)

    def predict(self, x_rows) -> dict:
        """Estimate, SE and z CI of ``x_rows @ beta`` (each row one covariate vector)."""
        x_rows = np.atleast_2d(np.asarray(x_rows, dtype=float))
        est = x_rows @ self.beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", x_rows, self.vcov, x_rows))
        z = stats.norm.ppf(0.5 + self.level / 2)
        return {"estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se}


class NotEstimable(ValueError):
    """The model cannot be fitted to these data in floating point (a singular system)."""


def _study_indicator(cluster: np.ndarray) -> np.ndarray:
    _, codes = np.unique(cluster, return_inverse=True)
    Z = np.zeros((cluster.size, codes.max() + 1))
    Z[np.arange(cluster.size), codes] = 1.0
    return Z


class _Reml:
    """Restricted likelihood of the three-level model with its first two derivatives."""

    def __init__(self, yi, vi, X, ZZ):
        self.y, self.vi, self.X = yi, vi, X
        self.G = (ZZ, np.eye(yi.size))

    def parts(self, s2):
        V = np.diag(self.vi) + s2[0] * self.G[0] + s2[1] * self.G[1]
        W = np.linalg.inv(V)
        XtW = self.X.T @ W
        XtWX = XtW @ self.X
        beta = np.linalg.solve(XtWX, XtW @ self.y)
        P = W - XtW.T @ np.linalg.solve(XtWX, XtW)
        return V, W, XtWX, beta, P

    def deviance(self, s2) -> float:
        """−2 × restricted log-likelihood, up to a constant."""
        V, W, XtWX, beta, P = self.parts(s2)
        r = self.y - self.X @ beta
        return float(np.linalg.slogdet(V)[1] + np.linalg.slogdet(XtWX)[1] + r @ W @ r)

    def gradient_information(self, s2):
        """Gradient of the deviance and its expected Hessian (2 × Fisher information)."""
        P = self.parts(s2)[4]
        Py = P @ self.y
        PG = [P @ g for g in self.G]
        grad = np.array([np.trace(pg) - Py @ g @ Py for pg, g in zip(PG, self.G, strict=True)])
        info = np.array([[np.sum(a * b.T) for b in PG] for a in PG])
        return grad, info


def _maximise(reml: _Reml, free: np.ndarray) -> tuple[np.ndarray, bool]:
    """REML estimates of (σ²_study, σ²_effect); components not ``free`` stay at 0."""
    scale = max(float(np.var(reml.y)), float(np.mean(reml.vi)), 1e-8)
    idx = np.flatnonzero(free)

    def expand(p):
        s2 = np.zeros(2)
        s2[idx] = p * scale
        return s2

    def fun(p):
        s2 = expand(p)
        grad = reml.gradient_information(s2)[0][idx] * scale
        return reml.deviance(s2), grad

    best = None
    for start in (0.1, 1.0, 0.01):
        res = optimize.minimize(
            fun,
            np.full(idx.size, start),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * idx.size,
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000},
        )
        if best is None or res.fun < best.fun:
            best = res
    s2 = expand(best.x)
    s2, polished = _fisher_polish(reml, s2, free)
    return s2, polished or bool(best.success)


def _fisher_polish(reml: _Reml, s2: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, bool]:
    """Projected Fisher scoring from a near-optimum; keeps a component at 0 when the deviance
    increases into the interior there (the boundary optimum)."""
    dev = reml.deviance(s2)
    for _ in range(200):
        grad, info = reml.gradient_information(s2)
        active = free & ~((s2 <= 0.0) & (grad >= 0.0))
        if not active.any():
            return s2, True
        ia = np.flatnonzero(active)
        try:
            step = -np.linalg.solve(info[np.ix_(ia, ia)], grad[ia])
        except np.linalg.LinAlgError:
            return s2, False
        size, moved = 1.0, False
        for _ in range(40):
            trial = s2.copy()
            trial[ia] = np.maximum(s2[ia] + size * step, 0.0)
            trial_dev = reml.deviance(trial)
            if trial_dev <= dev + 1e-13 * abs(dev):
                moved = True
                break
            size /= 2
        if not moved:
            return s2, True
        change = np.max(np.abs(trial - s2))
        s2, dev = trial, trial_dev
        if change < 1e-13 * max(1.0, float(np.max(s2))):
            return s2, True
    return s2, False


def fit_multilevel(
    yi,
    vi,
    study,
    X=None,
    *,
    terms: tuple[str, ...] = ("intercept",),
    level: float = 0.95,
) -> MultilevelFit:
    """Fit ``rma.mv(yi, vi, mods = X, random = ~ 1 | study/effect, method = "REML")``.

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances, one per effect (e.g. study × timepoint).
    study
        Cluster label of each effect; effects of one study share σ²_study.
    X
        Design matrix including the intercept column; ``None`` = intercept only.
    terms
        Names of the columns of ``X``.
    level
        Confidence level of the z intervals.

    Raises
    ------
    ValueError
        With fewer effects than coefficients + 1 (nothing left to estimate the variances).
    NotEstimable
        When the equations are numerically singular: e.g. times that differ in the seventh
        digit next to sampling variances 10¹² apart (metafor stops there too: "Cannot compute
        initial values").
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    study = np.asarray(study)
    try:
        return _fit(yi, vi, study, X, terms, level)
    except np.linalg.LinAlgError as error:
        raise NotEstimable(f"the model's equations are numerically singular ({error})") from error


def _fit(yi, vi, study, X, terms, level) -> MultilevelFit:
    X = np.ones((yi.size, 1)) if X is None else np.asarray(X, dtype=float)
    if yi.size <= X.shape[1]:
        raise ValueError(f"{yi.size} effects cannot fit {X.shape[1]} coefficients and variances")
    Z = _study_indicator(study)
    k_studies = Z.shape[1]
    reml = _Reml(yi, vi, X, Z @ Z.T)
    free, note = _free_components(k_studies, yi.size)
    s2, converged = _maximise(reml, free)
    if not converged:
        note = "; ".join(filter(None, [note, "REML did not converge"]))
    V, W, XtWX, beta, _ = reml.parts(s2)
    vcov = np.linalg.inv(XtWX)
    se = np.sqrt(np.diag(vcov))
    if not (np.isfinite(beta).all() and np.isfinite(se).all()):
        raise NotEstimable("the estimates or their standard errors are not finite")
    z = stats.norm.ppf(0.5 + level / 2)
    return MultilevelFit(
        terms=tuple(terms),
        beta=beta,
        vcov=vcov,
        se=se,
        ci_low=beta - z * se,
        ci_high=beta + z * se,
        p_value=2 * stats.norm.sf(np.abs(beta / se)),
        sigma2_study=float(s2[0]),
        sigma2_effect=float(s2[1]),
        k_studies=k_studies,
        k_effects=int(yi.size),
        level=level,
        converged=converged,
        note=note,
        X=X,
        yi=yi,
        V=V,
        cluster=study,
    )


def _free_components(k_studies: int, k_effects: int) -> tuple[np.ndarray, str]:
    """Which of (σ²_study, σ²_effect) are identifiable, and the note saying which are not."""
    one_each = k_studies == k_effects
    free = np.array([k_studies > 1, not one_each])
    note = "" if free[0] else "one study: sigma2_study fixed at 0 (not identifiable)"
    if one_each:
        note = (
            "one effect per study: sigma2_effect fixed at 0 (only the sum of the two "
            "variance components is identifiable; sigma2_study is the usual tau2)"
        )
    return free, note


def time_covariate(weeks, moderator: str) -> np.ndarray:
    """The time moderator: ln(weeks) for ``log_weeks`` (NaN at week 0), weeks for ``weeks``."""
    weeks = np.asarray(weeks, dtype=float)
    if moderator == "log_weeks":
        with np.errstate(divide="ignore"):
            return np.where(weeks > 0, np.log(np.where(weeks > 0, weeks, 1.0)), np.nan)
    if moderator == "weeks":
        return weeks
    raise ValueError(f"time moderator must be 'log_weeks' or 'weeks', not {moderator!r}")
