"""Small-study effects: Egger's regression test, Begg's rank test and trim-and-fill.

Each function takes the effect sizes ``yi`` and sampling variances ``vi`` of one analysis and
reproduces one ``metafor`` function:

- :func:`egger_test` — ``regtest(res, model="lm")`` (classic Egger: weighted regression of yi on
  its standard error with multiplicative dispersion);
- :func:`rank_test` — ``ranktest(res)`` (Begg and Mazumdar's Kendall's tau, exact p-value when
  there are no ties, as ``cor.test(..., method="kendall", exact=TRUE)``);
- :func:`trim_and_fill` — ``trimfill(res, test=res$test)`` with the L0 estimator.

:func:`small_study_tests` combines them into one row of ``results/small_study.csv``. They are
validated against metafor 3.8-1 on every reference fixture with a sensitivity block (REML and
DL, z and Knapp–Hartung; ``tests/unit/test_small_study.py``): Egger and Begg to 1e-6, trim-and-fill
to 2e-3 (in practice ~1e-10).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats

from metareview.stats.influence import fit_note
from metareview.stats.options import FitOptions, resolve
from metareview.stats.pooling import join_notes, pool, weighted_fit
from metareview.stats.tau2 import estimate_tau2

#: Fewer studies than this and the tests have too little power to rule out small-study effects
#: (Cochrane Handbook §13.3.5.4); the row is still computed but flagged ``underpowered``.
MIN_STUDIES_FOR_POWER = 10
#: The tests need at least this many studies (Egger's regression has k − 2 residual df).
MIN_STUDIES = 3
#: R's exact Kendall distribution counts permutations in doubles, which overflow past 170!;
#: metafor then falls back to the normal approximation (metafor ≥ 4.0).
MAX_EXACT_KENDALL = 170
#: Deviations smaller than this, relative to the largest |effect|, are rounding error and are
#: set to 0 (as metafor does for residuals in ``influence``), so that identical effects give a
#: symmetric funnel instead of ranks of floating-point noise.
ROUNDING = 100 * np.finfo(float).eps
NAN = float("nan")


@dataclass(frozen=True)
class TestResult:
    """A test statistic with its p-value; ``note`` says why they are NaN when they are."""

    statistic: float
    p_value: float
    df: float = NAN
    note: str = ""


def egger_test(yi, vi) -> TestResult:
    """Classic Egger test: WLS of yi on [1, sqrt(vi)] with weights 1/vi, t-test of the slope.

    The slope's standard error uses the weighted residual mean square (multiplicative
    dispersion), so the test is a t-test with k − 2 degrees of freedom, exactly as
    ``metafor::regtest(model="lm")``.

    Returns
    -------
    TestResult
        ``statistic`` is the t value; NaN with a note when all variances are equal (the
        predictor is collinear with the intercept) or the fit is perfect.
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    if k < MIN_STUDIES:
        return TestResult(NAN, NAN, note=f"k = {k}: Egger's test needs at least 3 studies")
    sei = np.sqrt(vi)
    if np.ptp(sei) == 0.0:
        return TestResult(NAN, NAN, note="all standard errors are equal: Egger's test undefined")
    res = sm.WLS(yi, np.column_stack([np.ones(k), sei]), weights=1.0 / vi).fit()
    if res.ssr <= (ROUNDING * 100) ** 2 * np.sum(yi**2 / vi):
        # residuals at rounding level: slope and SE are both noise (metafor reports the noise)
        return TestResult(
            NAN, NAN, k - 2, note="effects lie on a line (e.g. all equal): Egger's t undefined"
        )
    t = float(res.params[1] / res.bse[1])
    return TestResult(t, float(2 * stats.t.sf(abs(t), k - 2)), k - 2)


def _snap(deviations: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Set deviations at rounding level (relative to max |values|) to exactly 0."""
    tiny = ROUNDING * max(1.0, float(np.max(np.abs(values))))
    return np.where(np.abs(deviations) < tiny, 0.0, deviations)


def kendall_tau_b(x, y) -> float:
    """Kendall's tau-b (as R's ``cor(x, y, method="kendall")``); NaN if x or y is constant."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(x.size, 1)
    s = float(np.sum(sx[iu] * sy[iu]))
    denom = np.sqrt(float(np.sum(sx[iu] != 0)) * float(np.sum(sy[iu] != 0)))
    return s / denom if denom > 0 else NAN


def _kendall_null_pmf(n: int) -> np.ndarray:
    """Null distribution of the number of concordant pairs among n untied observations."""
    pmf = np.ones(1)
    for i in range(2, n + 1):
        # adding the i-th element adds 0..i-1 concordant pairs, each equally likely
        pmf = np.convolve(pmf, np.full(i, 1.0 / i))
    return pmf


def _tie_sizes(x: np.ndarray) -> np.ndarray:
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(float)


def kendall_p_value(x, y, tau: float) -> float:
    """Two-sided p-value of Kendall's tau, following R's ``cor.test(method="kendall",
    exact=TRUE)``: the exact null distribution when there are no ties (and n ≤ 170), else the
    normal approximation with R's tie-corrected variance and no continuity correction.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.size
    ties = min(np.unique(x).size, np.unique(y).size) < n
    if not ties and n <= MAX_EXACT_KENDALL:
        n_pairs = n * (n - 1) // 2
        q = int(np.round((tau + 1) * n * (n - 1) / 4))
        pmf = _kendall_null_pmf(n)
        # the null distribution is symmetric: P(T >= q) = P(T <= n_pairs - q)
        tail = pmf[: n_pairs - q + 1].sum() if q > n_pairs / 2 else pmf[: q + 1].sum()
        return float(min(2 * tail, 1.0))
    tx, ty = _tie_sizes(x), _tie_sizes(y)
    t0 = n * (n - 1) / 2
    t1 = np.sum(tx * (tx - 1)) / 2
    t2 = np.sum(ty * (ty - 1)) / 2
    s = tau * np.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(tx * (tx - 1) * (2 * tx + 5))
    vu = np.sum(ty * (ty - 1) * (2 * ty + 5))
    v1 = np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1))
    v2 = np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    return float(2 * stats.norm.sf(abs(s / np.sqrt(var_s))))


def rank_test(yi, vi) -> TestResult:
    """Begg and Mazumdar's rank correlation test, as ``metafor::ranktest``.

    Kendall's tau between the standardized deviates (yi − θ_FE) / sqrt(vi − v_FE), with θ_FE the
    common-effect estimate and v_FE = 1/Σ(1/vi) its variance, and the variances vi.

    Returns
    -------
    TestResult
        ``statistic`` is Kendall's tau-b; NaN with a note when all variances are equal.
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    if k < MIN_STUDIES:
        return TestResult(NAN, NAN, note=f"k = {k}: the rank test needs at least 3 studies")
    wi = 1.0 / vi
    theta = float(np.sum(wi * yi) / np.sum(wi))
    yi_star = _snap(yi - theta, yi) / np.sqrt(vi - 1.0 / np.sum(wi))
    tau = kendall_tau_b(yi_star, vi)
    if np.isnan(tau):
        return TestResult(NAN, NAN, note="all effects (or all variances) equal: tau undefined")
    return TestResult(tau, kendall_p_value(yi_star, vi, tau))


@dataclass(frozen=True)
class TrimFillResult:
    """Duval & Tweedie trim-and-fill (L0) and the random-effects fit of the filled data."""

    k0: int
    side: str  # "left" or "right": the side on which studies are imputed
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    tau2: float
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]
    iterations: int
    note: str = ""


def _intercept(yi: np.ndarray, vi: np.ndarray, tau2_method: str, convergence: str) -> float:
    """Random-effects estimate of an intercept-only model (one study: the study itself)."""
    X = np.ones((yi.size, 1))
    tau2 = estimate_tau2(yi, vi, X, tau2_method, convergence).tau2 if yi.size > 1 else 0.0
    return float(weighted_fit(yi, vi, X, tau2).beta[0])


def estimate_side(yi, vi, tau2_method: str, convergence: str = "exact") -> str:
    """Side with the missing studies, as metafor: the sign of the slope of a mixed-effects
    meta-regression of yi on sqrt(vi) (tau² by ``tau2_method``); a negative slope means
    studies are missing on the right."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    X = np.column_stack([np.ones(yi.size), np.sqrt(vi)])
    tau2 = estimate_tau2(yi, vi, X, tau2_method, convergence).tau2
    return "right" if weighted_fit(yi, vi, X, tau2).beta[1] < 0 else "left"


def _l0_iterations(ys, vs, tau2_method: str, convergence: str, max_iter: int):
    """(k0, last intercept, iterations) of the L0 estimator on flipped, sorted effects."""
    k = ys.size
    k0, k0_prev, iterations = 0, -1, 0
    while k0 != k0_prev:
        k0_prev = k0
        iterations += 1
        if iterations > max_iter:
            raise RuntimeError("trim-and-fill did not converge")
        beta = _intercept(ys[: k - k0], vs[: k - k0], tau2_method, convergence)
        centred = _snap(ys - beta, ys)
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(centred) * ranks
        s_r = float(signed[signed > 0].sum())
        k0 = max(0, int(np.round((4 * s_r - k * (k + 1)) / (2 * k - 1))))
    return k0, beta, iterations


def trim_and_fill(
    yi,
    vi,
    options: FitOptions | None = None,
    *,
    side: str | None = None,
    max_iter: int = 100,
    **overrides,
) -> TrimFillResult:
    """Trim-and-fill with the L0 estimator, exactly as ``metafor::trimfill.rma.uni``.

    The studies are flipped if the missing side is ``right``, sorted by effect (stable), and the
    intercept is re-estimated on the k − k0 smallest effects until k0 stops changing:
    k0 = round((4·S_r − k(k + 1)) / (2k − 1)), with S_r the sum of the positive signed ranks of
    the centred effects (ties ranked first-come). The k0 most extreme studies are then mirrored
    around the last intercept and the filled data are pooled with ``tau2_method``, ``ci_method``
    and ``level`` of ``options``.

    Notes
    -----
    metafor fits the filled data with its default ``test="z"`` unless ``test`` is passed through
    ``...``; here the filled fit always follows ``ci_method``, which equals
    ``trimfill(res, test=res$test)``. With k0 = 0 the result is the original model, as in
    metafor.
    """
    opts = resolve(options, **overrides)
    tau2_method, convergence = opts.tau2_method, opts.convergence
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    if k < MIN_STUDIES:
        raise ValueError(f"trim-and-fill needs at least {MIN_STUDIES} studies; got {k}")
    if side is None:
        side = estimate_side(yi, vi, tau2_method, convergence)
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * yi, kind="stable")
    ys, vs = sign * yi[order], vi[order]

    k0, beta, iterations = _l0_iterations(ys, vs, tau2_method, convergence, max_iter)
    # mirror the k0 largest (flipped) effects around the final intercept, in the original scale
    filled_yi = sign * (2 * beta - ys[k - k0 :])
    filled_vi = vs[k - k0 :]
    fit = pool(np.concatenate([yi, filled_yi]), np.concatenate([vi, filled_vi]), opts)
    return TrimFillResult(
        k0=k0,
        side=side,
        estimate=fit.estimate,
        se=fit.se,
        ci_low=fit.ci_low,
        ci_high=fit.ci_high,
        p_value=fit.p_value,
        tau2=fit.tau2,
        filled_yi=tuple(float(v) for v in filled_yi),
        filled_vi=tuple(float(v) for v in filled_vi),
        iterations=iterations,
        note=fit_note(fit),
    )


def _trimfill_columns(yi, vi, opts: FitOptions) -> tuple[dict, list, str]:
    """The trim-and-fill columns of a small-study row, the filled studies and a note (NaN
    columns when the side is undefined or k0 oscillates)."""
    row = {"trimfill_k0": NAN, "trimfill_side": "", "trimfill_estimate": NAN}
    row |= {"trimfill_ci_low": NAN, "trimfill_ci_high": NAN}
    # the side regresses yi on sqrt(vi): undefined when the square roots are all equal
    # (variances a rounding step apart have equal square roots)
    if np.ptp(np.sqrt(vi)) == 0.0:
        return row, [], "all variances equal: trim-and-fill side undefined"
    try:
        side = estimate_side(yi, vi, opts.tau2_method, opts.convergence)
    except np.linalg.LinAlgError:  # square roots a rounding step apart: singular side fit
        return row, [], "variances nearly equal: trim-and-fill side undefined"
    try:
        tf = trim_and_fill(yi, vi, opts, side=side)
    except RuntimeError as error:  # k0 oscillates
        return row, [], f"{error}: no trim-and-fill estimate"
    row |= {"trimfill_k0": tf.k0, "trimfill_side": tf.side}
    row |= {"trimfill_estimate": tf.estimate, "trimfill_ci_low": tf.ci_low}
    row |= {"trimfill_ci_high": tf.ci_high}
    return row, list(zip(tf.filled_yi, tf.filled_vi, strict=True)), tf.note


def small_study_tests(
    yi,
    vi,
    options: FitOptions | None = None,
    **overrides,
) -> dict | None:
    """One row of ``results/small_study.csv`` for an analysis, or ``None`` when k < 3.

    Returns
    -------
    dict or None
        ``k, egger_t, egger_df, egger_p, begg_tau, begg_p, trimfill_k0, trimfill_side,
        trimfill_estimate, trimfill_ci_low, trimfill_ci_high, underpowered, note`` plus the
        filled studies under ``filled`` (a list of ``(yi, vi)`` pairs, not a table column).
    """
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    if k < MIN_STUDIES:
        return None
    egger = egger_test(yi, vi)
    begg = rank_test(yi, vi)
    notes = [egger.note, begg.note]
    row = {
        "k": k,
        "egger_t": egger.statistic,
        "egger_df": egger.df,
        "egger_p": egger.p_value,
        "begg_tau": begg.statistic,
        "begg_p": begg.p_value,
    }
    columns, filled, note = _trimfill_columns(yi, vi, resolve(options, **overrides))
    row |= columns
    notes.append(note)
    underpowered = k < MIN_STUDIES_FOR_POWER
    if underpowered:
        notes.append(f"k = {k} < {MIN_STUDIES_FOR_POWER}: tests underpowered")
    row["underpowered"] = underpowered
    row["note"] = join_notes(*notes)
    row["filled"] = filled
    return row
