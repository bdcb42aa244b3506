"""Cluster-robust (CR2) variance with Satterthwaite degrees of freedom, as clubSandwich.

For a model fitted by weighted least squares with working weights W = V⁻¹ (V the fitted marginal
covariance, block-diagonal by cluster), coefficients β = M XᵀWy with M = (XᵀWX)⁻¹ and residuals
e = y − Xβ, the bias-reduced linearisation estimator (Bell & McCaffrey 2002; Pustejovsky & Tipton
2018) is::

    V_CR2 = M [Σ_j X_jᵀ W_j A_j e_j e_jᵀ A_jᵀ W_j X_j] M,
    A_j = D_jᵀ (D_j (V_j − X_j M X_jᵀ) D_jᵀ)^(−1/2) D_j,   D_j = chol(V_j) (upper, D_jᵀD_j = V_j)

(the working model is the target, ``inverse_var = TRUE``; the inverse square root is symmetric,
over positive eigenvalues). The Satterthwaite df of the test of coefficient i, with
g_j = (M X_jᵀ W_j A_j)[i, :], are::

    P_jk = g_j (δ_jk V_j − X_j M X_kᵀ) g_kᵀ,   df = (Σ_j P_jj)² / Σ_jk P_jk²

and CIs are β ± t(df) · SE, p-values two-sided t(df). This is clubSandwich's ``vcovCR(fit,
cluster, type = "CR2")`` with ``coef_test(..., test = "Satterthwaite")``, which is what metafor's
``robust(fit, cluster, clubSandwich = TRUE)`` reports. Validated against metafor 3.8-1 with
clubSandwich on the fixtures of ``tests/reference/make_fixtures_multilevel.R``
(``tests/unit/test_robust.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class RobustResult:
    """CR2 standard errors, Satterthwaite df, t intervals and p-values per coefficient."""

    vcov: np.ndarray
    se: np.ndarray
    df: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    n_clusters: int


def _inv_sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric inverse square root over the positive eigenvalues (a pseudo-inverse)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    tol = np.finfo(float).eps ** 0.5 * max(float(np.max(np.abs(values))), 1e-300)
    inv = np.where(values > tol, 1.0 / np.sqrt(np.where(values > tol, values, 1.0)), 0.0)
    return (vectors * inv) @ vectors.T


class CR2:
    """The pieces of the CR2 estimator for one fit, reusable for any linear contrast."""

    def __init__(self, X, y, V, beta, cluster):
        X, y, V = np.asarray(X, float), np.asarray(y, float), np.asarray(V, float)
        cluster = np.asarray(cluster)
        self.labels = list(dict.fromkeys(cluster.tolist()))
        self.rows = [np.flatnonzero(cluster == c) for c in self.labels]
        self.X, self.V = X, V
        W = np.linalg.inv(V)
        self.M = np.linalg.inv(X.T @ W @ X)
        e = y - X @ np.asarray(beta, float)
        # E_j = X_j' W_j A_j (p × n_j) and the cluster's score E_j e_j
        self.E, scores = [], []
        for idx in self.rows:
            Vj, Xj = V[np.ix_(idx, idx)], X[idx]
            Wj = np.linalg.inv(Vj)
            D = np.linalg.cholesky(Vj).T
            B = D @ (Vj - Xj @ self.M @ Xj.T) @ D.T
            A = D.T @ _inv_sqrt_psd(B) @ D
            Ej = Xj.T @ Wj @ A
            self.E.append(Ej)
            scores.append(Ej @ e[idx])
        S = np.array(scores)
        self.scores = S
        self.vcov = self.M @ (S.T @ S) @ self.M

    def satterthwaite_df(self, c: np.ndarray) -> float:
        """Satterthwaite df of the contrast ``c @ beta`` under the working model."""
        g = [c @ self.M @ Ej for Ej in self.E]
        gX = np.array([gj @ self.X[idx] for gj, idx in zip(g, self.rows, strict=True)])  # J × p
        P = -(gX @ self.M @ gX.T)
        for j, (gj, idx) in enumerate(zip(g, self.rows, strict=True)):
            P[j, j] += gj @ self.V[np.ix_(idx, idx)] @ gj
        return float(np.trace(P) ** 2 / np.sum(P**2))

    def contrast(self, c, estimate: float, level: float = 0.95) -> dict:
        """Robust SE, df, t CI and p-value of ``c @ beta`` (its value given as ``estimate``)."""
        c = np.asarray(c, float)
        # c'Vc = |S M c|²: as a norm it cannot round below 0, as the quadratic form of a
        # positive semidefinite matrix can (make fuzz once warned of sqrt of an invalid value
        # here; that review was not kept, so the cause is not confirmed)
        se = float(np.linalg.norm(self.scores @ (self.M @ c)))
        df = self.satterthwaite_df(c)
        crit = stats.t.ppf(0.5 + level / 2, df)
        if se > 0:
            p = float(2 * stats.t.sf(abs(estimate / se), df))
        else:  # every residual is 0: the estimate is exact under this variance
            p = 1.0 if estimate == 0 else 0.0
        return {
            "se": se,
            "df": df,
            "ci_low": estimate - crit * se,
            "ci_high": estimate + crit * se,
            "p_value": p,
        }


def cr2_satterthwaite(X, y, V, beta, cluster, *, level: float = 0.95) -> RobustResult:
    """CR2 variance and Satterthwaite t tests of every coefficient (clubSandwich's coef_test).

    Parameters
    ----------
    X, y
        Design matrix and outcomes of the fitted model.
    V
        The fitted marginal covariance (the working model; weights are V⁻¹).
    beta
        The fitted coefficients.
    cluster
        Cluster label of every row (e.g. the study).

    Raises
    ------
    ValueError
        With fewer than two clusters (no between-cluster variation to estimate from).
    """
    cr2 = CR2(X, y, V, beta, cluster)
    if len(cr2.rows) < 2:
        raise ValueError("cluster-robust variance needs at least two clusters")
    p = cr2.M.shape[0]
    out = [cr2.contrast(np.eye(p)[i], float(beta[i]), level) for i in range(p)]
    col = {key: np.array([o[key] for o in out]) for key in out[0]}
    return RobustResult(
        vcov=cr2.vcov,
        se=col["se"],
        df=col["df"],
        ci_low=col["ci_low"],
        ci_high=col["ci_high"],
        p_value=col["p_value"],
        n_clusters=len(cr2.rows),
    )
