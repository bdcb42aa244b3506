#!/usr/bin/env Rscript
# Reference fixtures for the batched engine and metareview.api, computed with R/metafor.
#
#   Rscript tests/reference/make_fixtures_engine.R          # (from the repository root)
#
# Writes tests/reference/engine/<data>.csv (the data: bcg from metafor's dat.bcg, and a
# SYNTHETIC k = 40 data set with a moderator, seeded) and tests/reference/engine/expected_<data>.json:
# rma() fits, leave1out(), influence(), permutest() (exact where few permutations, else many
# iterations) and gosh() over all 8,191 subsets of k = 13. Iterative fits use a tight control
# (threshold 1e-12) so they compare with convergence = "exact".

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
options(warn = 1)

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else file.path(getwd(), "tests", "reference")
})
DATA_DIR <- file.path(script_dir, "engine")
EXPECTED_DIR <- file.path(script_dir, "engine")
dir.create(DATA_DIR, showWarnings = FALSE)
TIGHT <- list(threshold = 1e-12, maxiter = 10000)
PERM_ITER <- 2000

## ------------------------------------------------------------------ data ----

bcg <- local({
  d <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  data.frame(study = d$trial, yi = as.numeric(d$yi), vi = as.numeric(d$vi), x = d$ablat)
})

synthetic_k40 <- local({
  # SYNTHETIC data (not from any trial): k = 40, moderator x, true slope 0.05, tau2 = 0.04
  set.seed(20261122)
  k <- 40
  x <- round(runif(k, 0, 10), 1)
  vi <- round(runif(k, 0.01, 0.25), 4)
  yi <- round(0.1 + 0.05 * x + rnorm(k, 0, sqrt(0.04 + vi)), 4)
  data.frame(study = seq_len(k), yi = yi, vi = vi, x = x)
})

## --------------------------------------------------------------- helpers ----

fit <- function(d, method, test, mods = FALSE) {
  if (mods) {
    rma(yi, vi, mods = ~x, data = d, method = method, test = test, control = TIGHT)
  } else {
    rma(yi, vi, data = d, method = method, test = test, control = TIGHT)
  }
}

pooled <- function(res) {
  ci <- confint(res, control = list(tol = 1e-12, maxiter = 10000, tau2.max = 1e6))
  list(estimate = c(res$beta)[1], se = res$se[1], ci_low = res$ci.lb[1], ci_high = res$ci.ub[1],
       p_value = res$pval[1], tau2 = res$tau2, q = res$QE, i2 = res$I2, h2 = res$H2,
       tau2_ci_low = ci$random["tau^2", "ci.lb"], tau2_ci_high = ci$random["tau^2", "ci.ub"])
}

loo <- function(res) {
  l <- leave1out(res)
  list(estimate = l$estimate, se = l$se, ci_low = l$ci.lb, ci_high = l$ci.ub, p_value = l$pval,
       tau2 = l$tau2, q = l$Q, i2 = l$I2)
}

infl <- function(res) {
  inf <- influence(res)
  list(rstudent = inf$inf$rstudent, dffits = inf$inf$dffits, cooks_d = inf$inf$cook.d,
       cov_r = inf$inf$cov.r, tau2_del = inf$inf$tau2.del, qe_del = inf$inf$QE.del,
       hat = inf$inf$hat, weight = inf$inf$weight, dfbetas = inf$dfbs[[1]])
}

perm <- function(res, iter, seed) {
  set.seed(seed)
  t0 <- proc.time()[["elapsed"]]
  p <- permutest(res, iter = iter, progbar = FALSE)
  last <- length(p$pval)
  list(iter = iter, exact = p$exact.iter <= iter, exact_iter = p$exact.iter,
       statistic = res$zval[last], p_value = p$pval[last], qm = res$QM, qm_p_value = p$QMp,
       seconds = proc.time()[["elapsed"]] - t0)
}

goshs <- function(res) {
  g <- gosh(res, progbar = FALSE)$res
  ok <- stats::complete.cases(g)
  list(n_subsets = nrow(g), n_failed = sum(!ok),
       mean_estimate = mean(g$estimate[ok]), mean_i2 = mean(g$I2[ok]), mean_tau2 = mean(g$tau2[ok]),
       mean_q = mean(g$QE[ok]), mean_k = mean(g$k),
       # per-subset values, metafor's order (by k, then expand.grid order); NA where a fit failed
       estimate = g$estimate, i2 = g$I2, tau2 = g$tau2, q = g$QE, k = g$k)
}

analyses <- function(d, gosh_methods) {
  out <- list()
  for (method in c("REML", "DL")) for (test in c("z", "knha")) {
    res <- fit(d, method, test)
    key <- paste(method, test, sep = "_")
    out[[key]] <- list(pooled = pooled(res), leave_one_out = loo(res), influence = infl(res))
  }
  out$permutation <- list(
    REML_knha_mods = perm(fit(d, "REML", "knha", mods = TRUE), PERM_ITER, 1),
    DL_z_mods = perm(fit(d, "DL", "z", mods = TRUE), PERM_ITER, 2),
    REML_z_intercept = perm(fit(d, "REML", "z"), PERM_ITER, 3),
    # few permutations: metafor enumerates them all (exact test)
    REML_knha_mods_first6 = perm(fit(d[1:6, ], "REML", "knha", mods = TRUE), 1000, 4),
    DL_z_intercept_first8 = perm(fit(d[1:8, ], "DL", "z"), 1000, 5)
  )
  out$gosh <- lapply(setNames(gosh_methods, gosh_methods), function(m) goshs(fit(d[1:13, ], m, "z")))
  out
}

write_fixture <- function(name, d, gosh_methods) {
  write.csv(d, file.path(DATA_DIR, paste0(name, ".csv")), row.names = FALSE)
  obj <- c(list(data = paste0("tests/reference/engine/", name, ".csv"),
                metafor_version = as.character(packageVersion("metafor")),
                R_version = paste(R.version$major, R.version$minor, sep = ".")),
           analyses(d, gosh_methods))
  txt <- toJSON(obj, auto_unbox = TRUE, digits = I(15), pretty = TRUE, na = "null")
  writeLines(txt, file.path(EXPECTED_DIR, paste0("expected_", name, ".json")))
  message("wrote expected_", name, ".json")
}

args <- commandArgs(TRUE)
if (!length(args) || "bcg" %in% args) write_fixture("bcg", bcg, c("REML", "DL"))
if (!length(args) || "synthetic_k40" %in% args) write_fixture("synthetic_k40", synthetic_k40, "DL")
