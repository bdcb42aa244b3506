"""The batched engine against metafor, timed in the same run (``make bench``; not a test).

For k = 10, 40, 200 (SYNTHETIC data with one moderator, seeded; REML and Knapp–Hartung as in
the issue) it times pooling with CIs (solved to 1e-12 by default, and once more with
``convergence="metafor"``: metafor's own stopping rules, the work the timed ``rma()`` +
``confint()`` does), leave-one-out, influence diagnostics, a 1,000-iteration
permutation test of the moderator and GOSH (DL, metafor's fast path: all 8,191 subsets of the
first 13 studies, a 2,000-subset sample at k = 40 and 200), plus 1,000 analyses of k = 10.
When ``Rscript`` with metafor is on the PATH each benchmark runs once more in R on the same
data (written to a temporary CSV; timed inside R over repetitions with ``proc.time``; both sides
in CPU time of their own process) and the
table shows the ratio and whether the numbers agree (to 1e-6; permutation p-values within
Monte Carlo error; sampled GOSH means within sampling error). It reports; it never fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from metareview import api

SIZES = (10, 40, 200)
PERM = 1000
GOSH_SAMPLE = 2000
BATCH = 1000


def synthetic(k: int, seed: int) -> pd.DataFrame:
    """SYNTHETIC effects with a moderator x (not from any study)."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, 10, k), 1)
    vi = rng.uniform(0.01, 0.25, k)
    yi = 0.1 + 0.05 * x + rng.normal(0, np.sqrt(0.04 + vi))
    return pd.DataFrame({"yi": yi, "vi": vi, "x": x})


def timed(fn, min_seconds: float = 0.5, max_reps: int = 200) -> tuple[float, object]:
    """(CPU seconds per call, last result), repeating until ``min_seconds`` have passed.

    CPU time of this process (``time.process_time``), as R's side uses ``proc.time()``'s user +
    system time: other jobs on a shared machine then distort the ratio far less than wall time.
    """
    out, reps, start = fn(), 1, time.process_time()
    out = fn()
    while (elapsed := time.process_time() - start) < min_seconds and reps < max_reps:
        out, reps = fn(), reps + 1
    return elapsed / reps, out


R_PRELUDE = """
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
d <- read.csv(Sys.getenv("BENCH_DATA"))
TIGHT <- list(threshold = 1e-12, maxiter = 10000)
tm <- function(expr, reps) {
  e <- substitute(expr); env <- parent.frame()
  cpu <- function() {p <- proc.time(); p[["user.self"]] + p[["sys.self"]]}
  t0 <- cpu(); for (i in seq_len(reps)) eval(e, env)
  (cpu() - t0) / reps
}
"""

R_CODE = {
    "pool": """
s <- tm({r <- rma(yi, vi, data=d, test="knha"); confint(r)}, REPS)
r <- rma(yi, vi, data=d, test="knha", control=TIGHT)
ci <- confint(r, control=list(tol=1e-12, tau2.max=1e6))
v <- c(r$beta[1], r$se, r$ci.lb, r$ci.ub, r$tau2, ci$random[1, 2], ci$random[1, 3])
""",
    "pool_metafor": """
s <- tm({r <- rma(yi, vi, data=d, test="knha"); confint(r)}, REPS)
r <- rma(yi, vi, data=d, test="knha")
ci <- confint(r)
v <- c(r$beta[1], r$se, r$ci.lb, r$ci.ub, r$tau2, ci$random[1, 2], ci$random[1, 3])
""",
    "leave_one_out": """
r0 <- rma(yi, vi, data=d, test="knha")
s <- tm(leave1out(r0), REPS)
l <- leave1out(rma(yi, vi, data=d, test="knha", control=TIGHT))
v <- c(l$estimate, l$tau2)
""",
    "influence": """
r0 <- rma(yi, vi, data=d, test="knha")
s <- tm(influence(r0), REPS)
f <- influence(rma(yi, vi, data=d, test="knha", control=TIGHT))
v <- c(f$inf$rstudent, f$inf$cook.d, f$inf$hat, f$dfbs[[1]])
""",
    "permutation": """
r0 <- rma(yi, vi, mods=~x, data=d, test="knha")
set.seed(1)
s <- tm(p <- permutest(r0, iter=1000, progbar=FALSE), REPS)
v <- c(p$pval[2])
""",
    "gosh": """
r0 <- rma(yi, vi, data=d, method="DL")
N <- sum(choose(nrow(d), 1:nrow(d)))
gs <- function() {
  if (N <= 8191) gosh(r0, progbar=FALSE) else gosh(r0, subsets=GOSH_N, progbar=FALSE)
}
s <- tm(g <- gs(), REPS)
v <- c(mean(g$res$estimate), mean(g$res$I2), sd(g$res$estimate), sd(g$res$I2), nrow(g$res))
""",
    "batch": """
B <- nrow(d) / 10
# an analysis whose REML fit does not converge in metafor (even with maxiter 1000) is skipped
# (its failed attempt is timed); ours converges (MAX_ITER 1000, threshold 1e-12)
one <- function(b) {j <- (10*(b-1)+1):(10*b)
  try(confint(rma(yi[j], vi[j], data=d, test="knha", control=list(maxiter=1000))), silent=TRUE)}
s <- tm(for (b in seq_len(B)) one(b), REPS)
v <- unlist(lapply(seq_len(B), function(b) {j <- (10*(b-1)+1):(10*b)
  r <- try(rma(yi[j], vi[j], data=d, test="knha", control=TIGHT), silent=TRUE)
  if (inherits(r, "try-error")) c(NA, NA) else c(r$beta[1], r$tau2)}))
""",
}


def run_r(kind: str, data: pd.DataFrame, reps: int) -> tuple[float, np.ndarray] | None:
    """(seconds per call, values) from metafor, or None without Rscript/metafor."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        data.to_csv(path, index=False)
        code = R_PRELUDE + R_CODE[kind].replace("REPS", str(reps))
        code = code.replace("GOSH_N", str(GOSH_SAMPLE))
        code += (
            "\ncat(toJSON(list(s = s, v = v), digits = I(15), auto_unbox = TRUE, na = 'null'))\n"
        )
        script = Path(tmp) / "bench.R"
        script.write_text(code)
        done = subprocess.run(["Rscript", str(script)], capture_output=True, text=True,
                              env={**os.environ, "BENCH_DATA": str(path)})  # fmt: skip
    if done.returncode != 0:
        print(f"  (R failed for {kind}: {done.stderr.strip()[-200:]})", file=sys.stderr)
        return None
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return float(out["s"]), np.atleast_1d(np.asarray(out["v"], dtype=float))


def ours(kind: str, d: pd.DataFrame):
    """(seconds per call, values comparable with R's) for one benchmark."""
    y, v, x = d["yi"].to_numpy(), d["vi"].to_numpy(), d["x"].to_numpy()
    if kind == "pool":
        s, r = timed(lambda: api.pool(y, v))
        return s, np.array([r.estimate, r.se, r.ci_low, r.ci_high, r.tau2, r.tau2_ci_low,
                            r.tau2_ci_high])  # fmt: skip
    if kind == "pool_metafor":  # metafor's stopping rules: the same work as the timed rma()
        s, r = timed(lambda: api.pool(y, v, convergence="metafor", tau2_search_limit=True))
        return s, np.array([r.estimate, r.se, r.ci_low, r.ci_high, r.tau2, r.tau2_ci_low,
                            r.tau2_ci_high])  # fmt: skip
    if kind == "leave_one_out":
        s, r = timed(lambda: api.leave_one_out(y, v))
        return s, np.concatenate([r["estimate"], r["tau2"]])
    if kind == "influence":
        s, r = timed(lambda: api.influence(y, v))
        return s, np.concatenate([r["rstudent"], r["cooks_d"], r["hat"], r["dfbetas"]])
    if kind == "permutation":
        s, r = timed(lambda: api.permutation_test(y, v, mods=x, n_perm=PERM, seed=1))
        return s, np.array([r.p_value])
    if kind == "gosh":
        s, g = timed(lambda: api.gosh(y, v, tau2_method="DL", max_subsets=_gosh_n(len(y)), seed=1))
        return s, np.array([g["estimate"].mean(), g["i2"].mean(), g["estimate"].std(),
                            g["i2"].std(), len(g)])  # fmt: skip
    Y, V = y.reshape(-1, 10), v.reshape(-1, 10)
    s, r = timed(lambda: api.pool_batch(Y, V))
    return s, np.column_stack([r["estimate"], r["tau2"]]).ravel()


def _gosh_n(k: int) -> int:
    return 8191 if k <= 13 else GOSH_SAMPLE


def agree(kind: str, a: np.ndarray, b: np.ndarray) -> str:
    """Whether our numbers agree with metafor's (see the module docstring)."""
    if kind == "permutation":
        p = b[0]
        tol = 3 * np.sqrt(max(p * (1 - p), 1e-3) / PERM) + 2 / PERM
        return f"yes (p {a[0]:.3f} vs {p:.3f})" if abs(a[0] - p) <= tol else f"NO ({a[0]} vs {p})"
    if kind == "gosh" and b[4] != 8191:
        n = b[4]
        ok = all(abs(a[i] - b[i]) <= 4 * b[i + 2] * np.sqrt(2 / n) for i in (0, 1))
        return "yes (sample means)" if ok else "NO (sample means)"
    if kind == "gosh":
        a, b = a[:2], b[:2]
    skipped = ""
    if kind == "batch" and a.shape == b.shape and np.isnan(b).any():
        fit = np.isfinite(b.reshape(-1, 2)).all(axis=1).repeat(2)
        skipped = f"; {int((~fit).sum() // 2)} not converged in metafor, skipped"
        a, b = a[fit], b[fit]
    ok = a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)
    return f"yes (1e-6{skipped})" if ok else f"NO (max diff {np.max(np.abs(a - b)):.2e})"


KINDS = ("pool", "pool_metafor", "leave_one_out", "influence", "permutation", "gosh")
CASES = [(kind, k) for k in SIZES for kind in KINDS] + [("batch", 10)]
R_REPS = {"pool": 20, "pool_metafor": 20, "leave_one_out": 3, "influence": 3, "permutation": 1,
          "gosh": 1, "batch": 1}  # fmt: skip


def data_for(kind: str, k: int) -> pd.DataFrame:
    if kind == "batch":
        return synthetic(10 * BATCH, 99)
    if kind == "gosh" and k == 10:
        return synthetic(13, 13)  # GOSH over every subset: 2^13 - 1 = 8,191
    return synthetic(k, k)


LABELS = {
    "pool": "pooling with CIs",
    "pool_metafor": 'pooling with CIs, `convergence="metafor"`',
    "batch": f"{BATCH} analyses, pooling with CIs",
    "gosh": "GOSH (DL)",
    "permutation": f"permutation test ({PERM})",
}


def main() -> int:
    print("| analysis | k | ours | metafor | metafor / ours | numbers agree |")
    print("|---|---|---|---|---|---|")
    for kind, k in CASES:
        d = data_for(kind, k)
        seconds, values = ours(kind, d)
        r = run_r(kind, d, R_REPS[kind] if k < 200 else 1)
        label = LABELS.get(kind, kind.replace("_", "-"))
        size = len(d) if kind != "batch" else 10
        if kind == "gosh":
            label += f", {'all' if len(d) <= 13 else GOSH_SAMPLE} subsets"
        if r is None:
            print(f"| {label} | {size} | {_t(seconds)} | – | – | – |")
        else:
            print(f"| {label} | {size} | {_t(seconds)} | {_t(r[0])} | {r[0] / seconds:,.0f}× "
                  f"| {agree(kind, values, r[1])} |", flush=True)  # fmt: skip
    return 0


def _t(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    raise SystemExit(main())
