"""Random-effects and common-effect pooling of one analysis (k studies).

A one-row view of the batched engine (:mod:`metareview.stats.summaries`): tau² by any of the
eight estimators, the random-effects estimate with a z or Knapp–Hartung interval, Q, I², H²,
the Q-profile CI of tau² and the common-effect estimate. Definitions follow the data contract
and agree with ``metafor::rma`` (see ``tests/reference``), with one deliberate difference: the
prediction interval uses t(k − 2) (Higgins, Thompson & Spiegelhalter 2009; R's meta and the
Cochrane Handbook) where metafor's default uses z.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from metareview.stats import engine, fast
from metareview.stats.engine import make_batch
from metareview.stats.options import CI_METHODS, TAU2_METHODS, FitOptions, resolve
from metareview.stats.summaries import summarize, wald

__all__ = ["CI_METHODS", "TAU2_METHODS", "PooledResult", "WeightedFit", "pool"]
__all__ += ["wald_interval", "weighted_fit"]
NAN = float("nan")


def join_notes(*notes: str) -> str:
    """The non-empty notes, joined by "; " (the separator of every `note` column)."""
    return "; ".join(note for note in notes if note)


@dataclass(frozen=True)
class WeightedFit:
    """Coefficients of a weighted least-squares fit at a fixed tau²."""

    beta: np.ndarray
    se_z: np.ndarray  # sqrt(diag((XᵀWX)⁻¹)): the model-based SE
    se_hksj: np.ndarray  # Knapp–Hartung: se_z · sqrt(RSS_w / (k − p)), not truncated
    weights: np.ndarray  # 1 / (vi + tau2)
    df_resid: int


def weighted_fit(yi, vi, X, tau2: float) -> WeightedFit:
    """Fit yi = Xβ with weights 1/(vi + tau2) (one row of :func:`engine.weighted_fit`)."""
    batch = make_batch(yi, vi, X=X)
    fit = engine.weighted_fit(batch, tau2)
    k, p = batch.y.shape[1], batch.p
    scale = float(fit.q[0]) / (k - p) if k > p else NAN
    se_z = fit.se_z[0]
    return WeightedFit(fit.beta[0], se_z, se_z * np.sqrt(scale), fit.w[0], k - p)


def wald_interval(
    estimate: float, se: float, level: float, df: float | None = None
) -> tuple[float, float, float]:
    """Two-sided CI and p-value, normal (``df=None``) or t with ``df`` degrees of freedom."""
    low, high, p = wald(estimate, se, level, df)
    return float(low), float(high), float(p)


@dataclass(frozen=True)
class PooledResult:
    """One row of ``results/pooled.csv`` (contract columns) plus study weights."""

    k: int
    measure: str
    tau2_method: str
    ci_method: str
    level: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    pi_low: float
    pi_high: float
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    q: float
    q_df: int
    q_p: float
    fe_estimate: float
    fe_se: float
    fe_ci_low: float
    fe_ci_high: float
    tau2_iterations: int = 0
    note: str = ""
    weights: tuple[float, ...] = field(default=(), repr=False)  # random-effects weights, %

    def to_dict(self) -> dict:
        """Contract columns (and extras) as a flat dict; weights are left out."""
        row = asdict(self)
        row.pop("weights")
        return row


def pool(
    yi, vi, options: FitOptions | None = None, *, measure: str = "", kernels=fast.single,
    **overrides,
):  # fmt: skip
    """Pool k effect sizes with a random-effects model and a common-effect model.

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes (ratio measures on the log scale) and sampling variances (> 0).
    options : FitOptions, optional
        tau² method, CI method, level, convergence and Q-profile search limit; keyword
        arguments of the same names (``tau2_method="DL"``...) override its fields.
    measure : str
        Label carried into the result.
    kernels : module
        What runs the iterations: :mod:`~metareview.stats.single` (numpy) or
        :mod:`~metareview.stats.compiled` (numba; the same bits, faster).

    Returns
    -------
    PooledResult
        Degenerate cases: k = 1 reports the study's own estimate with a z-interval (no tau²,
        I², Q-test or PI; ``ci_method`` says ``z``); k = 2 is pooled without a PI.
    """
    opts = resolve(options, **overrides)
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.size == 0:
        raise ValueError("cannot pool zero studies")
    if not (np.isfinite(yi).all() and np.isfinite(vi).all() and (vi > 0).all()):
        raise ValueError("effect sizes must be finite and variances finite and positive")
    if yi.size == 1:
        return _single_study(summarize(make_batch(yi, vi), opts), opts, measure)
    t, iterations, converged = fast.tau2(yi, vi, opts, kernels)
    s = fast.summary(yi, vi, t, opts, kernels)
    low, high, capped, limit = fast.q_profile(yi, vi, s["q"], opts, t, kernels)
    notes = [] if yi.size >= 3 else ["k = 2: no prediction interval"]
    if capped:
        notes.append(f"tau2 CI bound beyond the search limit {limit:g} (as metafor)")
    if not converged:
        notes.append("tau2 did not converge")
    fe_low, fe_high, _ = fast.wald(s["fe_estimate"], s["fe_se"], opts.level)
    return PooledResult(
        **{name: s[name] for name in _SUMMARY_FIELDS},
        measure=measure,
        tau2_method=opts.tau2_method,
        ci_method=opts.ci_method,
        level=opts.level,
        tau2_ci_low=low,
        tau2_ci_high=high,
        i2_ci_low=fast._div(100 * low, low + s["s2"]),
        i2_ci_high=fast._div(100 * high, high + s["s2"]),
        q_df=yi.size - 1,
        fe_ci_low=fe_low,
        fe_ci_high=fe_high,
        tau2_iterations=iterations,
        note="; ".join(notes),
        weights=tuple(s["weights"].tolist()),
    )


_SUMMARY_FIELDS = (
    "k", "estimate", "se", "ci_low", "ci_high", "p_value", "pi_low", "pi_high", "tau2", "i2",
    "h2", "q", "q_p", "fe_estimate", "fe_se",
)  # fmt: skip


def _scalar(value):
    return int(value) if isinstance(value, np.integer) else float(value)


def _single_study(s, opts: FitOptions, measure: str) -> PooledResult:
    """k = 1: the study's own estimate with a z interval; no tau², I², Q-test or PI."""
    est, se = float(s.fe_estimate[0]), float(s.fe_se[0])
    low, high, p = wald_interval(est, se, opts.level)
    return PooledResult(
        k=1,
        measure=measure,
        tau2_method=opts.tau2_method,
        ci_method="z",
        level=opts.level,
        estimate=est,
        se=se,
        ci_low=low,
        ci_high=high,
        p_value=p,
        pi_low=NAN,
        pi_high=NAN,
        tau2=NAN,
        tau2_ci_low=NAN,
        tau2_ci_high=NAN,
        i2=NAN,
        i2_ci_low=NAN,
        i2_ci_high=NAN,
        h2=NAN,
        q=0.0,
        q_df=0,
        q_p=1.0,
        fe_estimate=est,
        fe_se=se,
        fe_ci_low=low,
        fe_ci_high=high,
        note="k = 1: single study, not pooled",
        weights=(100.0,),
    )
