#!/usr/bin/env Rscript
# Mantel-Haenszel and Peto reference values from metafor (rma.mh, rma.peto) for
# src/metareview/stats/mantel_haenszel.py. Writes tests/reference/mantel_haenszel/expected.json.
#
#   Rscript tests/reference/make_mh_fixtures.R     (from the repository root; needs metafor)
#
# Tables: Fleiss 1993 aspirin trials (public, as in R meta's Fleiss1993bin), the GAD review's
# analysis 1.1 (tests/data/revman/, RevMan 5.3 file), and two SYNTHETIC sets (labelled so)
# with zero cells and a double-zero table. metafor's defaults are used throughout
# (add = 1/2, to = "only0", drop00 = TRUE; the MH estimate from the observed counts).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

sets <- list(
  fleiss1993 = list(
    source = "Fleiss 1993 aspirin after myocardial infarction (7 trials)",
    ai = c(49, 44, 102, 32, 85, 246, 1570), n1i = c(615, 758, 832, 317, 810, 2267, 8587),
    ci = c(67, 64, 126, 38, 52, 219, 1720), n2i = c(624, 771, 850, 309, 406, 2257, 8600)
  ),
  gad_1_1 = list(
    source = "Benzodiazepines vs pregabalin for GAD, RevMan analysis 1.1",
    ai = c(18, 17, 38, 12, 12, 13), n1i = c(34, 34, 62, 29, 29, 30),
    ci = c(36, 36, 31, 40, 54, 45), n2i = c(61, 69, 69, 87, 89, 85)
  ),
  synthetic_zero_cells = list(
    source = "SYNTHETIC: zero cells in some tables",
    ai = c(0, 3, 5, 1, 8), n1i = c(20, 25, 30, 15, 40),
    ci = c(2, 0, 9, 4, 12), n2i = c(21, 24, 31, 15, 38)
  ),
  synthetic_double_zero = list(
    source = "SYNTHETIC: a double-zero table and an all-events table",
    ai = c(0, 4, 7, 10, 2), n1i = c(12, 30, 28, 10, 22),
    ci = c(0, 8, 6, 9, 5), n2i = c(13, 31, 27, 10, 20)
  )
)

one <- function(fit) {
  list(
    estimate = unname(fit$beta[1]), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
    zval = fit$zval, pval = fit$pval, q = fit$QE, q_p = fit$QEp, k = fit$k,
    k_yi = fit$k.yi, i2 = fit$I2, h2 = fit$H2
  )
}

out <- list(metafor = as.character(packageVersion("metafor")), sets = list())
for (name in names(sets)) {
  s <- sets[[name]]
  res <- list(source = s$source, ai = s$ai, n1i = s$n1i, ci = s$ci, n2i = s$n2i)
  for (m in c("OR", "RR", "RD")) {
    res[[paste0("mh_", m)]] <- one(rma.mh(ai = s$ai, n1i = s$n1i, ci = s$ci, n2i = s$n2i, measure = m))
  }
  res$peto <- one(rma.peto(ai = s$ai, n1i = s$n1i, ci = s$ci, n2i = s$n2i))
  out$sets[[name]] <- res
}
dir.create("tests/reference/mantel_haenszel", showWarnings = FALSE, recursive = TRUE)
writeLines(
  toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
  "tests/reference/mantel_haenszel/expected.json"
)
