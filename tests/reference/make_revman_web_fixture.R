#!/usr/bin/env Rscript
# A SYNTHETIC RevMan Web data package in the newer (2024 on) layout, for the importer's tests.
# No real package of that layout is available to us, so the numbers are invented (labelled
# SYNTHETIC) and the "stored" results are computed here with metafor 3.8, in the settings each
# analysis declares (iterations converged to 1e-12): REML with HKSJ (test = "knha"), REML with Wald, and Mantel-Haenszel.
# Prediction-interval columns are left empty: RevMan Web's PI convention is not confirmed.
#
#   Rscript tests/reference/make_revman_web_fixture.R   (from the repository root)
#
# Writes tests/data/revman/synthetic_revman_web/analysis-data/*.csv

suppressPackageStartupMessages(library(metafor))
out <- "tests/data/revman/synthetic_revman_web/analysis-data"
dir.create(out, recursive = TRUE, showWarnings = FALSE)
f <- function(x) ifelse(is.na(x), "", format(x, digits = 15, scientific = FALSE, trim = TRUE))

studies <- c("Alpha 2001", "Beta 2005", "Gamma 2010", "Delta 2015", "Epsilon 2020")
years <- c(2001, 2005, 2010, 2015, 2020)
rob <- c("Low", "Some concerns", "High", "Low", "Some concerns")

# 1.1 continuous MD, random effects, REML, HKSJ
md <- data.frame(m1 = c(4.1, 3.2, 5.0, 2.8, 3.9), sd1 = c(2.0, 1.8, 2.5, 1.6, 2.2),
                 n1 = c(30, 45, 25, 60, 40), m2 = c(5.0, 3.9, 5.2, 4.1, 4.4),
                 sd2 = c(2.1, 1.7, 2.4, 1.9, 2.0), n2 = c(31, 44, 27, 58, 41))
e1 <- escalc("MD", m1i = m1, sd1i = sd1, n1i = n1, m2i = m2, sd2i = sd2, n2i = n2, data = md)
r1 <- rma(yi, vi, data = e1, method = "REML", test = "knha", control = list(threshold = 1e-12, maxiter = 1000))
ci1 <- confint(r1, control = list(tol = 1e-12))$random["tau^2", ]

# 1.2 generic inverse variance (contrast level), log RR, random effects, REML, Wald
giv <- data.frame(y = log(c(0.80, 0.65, 1.05, 0.90)), se = c(0.20, 0.25, 0.30, 0.15))
r2 <- rma(giv$y, sei = giv$se, method = "REML", test = "z", control = list(threshold = 1e-12, maxiter = 1000))
ci2 <- confint(r2, control = list(tol = 1e-12))$random["tau^2", ]

# 1.3 dichotomous RR, Mantel-Haenszel, fixed effect (no zero cells)
bin <- data.frame(a = c(12, 20, 8, 15), n1 = c(50, 80, 40, 60), c = c(18, 25, 12, 16),
                  n2 = c(52, 78, 41, 59))
r3 <- rma.mh(ai = bin$a, n1i = bin$n1, ci = bin$c, n2i = bin$n2, measure = "RR")

overall_cols <- c("Analysis group", "Analysis number", "Analysis name", "Analysis group name",
  "Data type", "Log-scale data", "Experimental group label", "Control group label",
  "Statistical method", "Effect measure", "Analysis model", "Heterogeneity estimator",
  "CI method", "Prediction interval", "CI/PI level", "Subgroup estimates", "Overall estimates",
  "Mean", "CI start", "CI end", "PI start", "PI end", "Heterogeneity Tau²", "Tau² CI start",
  "Tau² CI end", "Heterogeneity Chi²", "Heterogeneity df", "Heterogeneity P",
  "Heterogeneity I²", "Effect Z", "Effect T", "Effect P", "ID")
row <- function(...) { x <- list(...); setNames(as.list(x), overall_cols) }
ov <- list(
  row(1, 1, "Pain score", "Drug X versus placebo (SYNTHETIC)", "Continuous", "false",
      "Drug X", "Placebo", "IV", "Mean Difference", "Random effect", "REML", "HKSJ", "true",
      "95%", "false", "true", f(r1$b[1]), f(r1$ci.lb), f(r1$ci.ub), "", "", f(r1$tau2),
      f(ci1[2]), f(ci1[3]), f(r1$QE), 4, f(r1$QEp), f(r1$I2), "", f(abs(r1$zval)), f(r1$pval),
      "analysis:1"),
  row(1, 2, "Relapse (adjusted)", "Drug X versus placebo (SYNTHETIC)", "Contrast level",
      "true", "Drug X", "Placebo", "IV", "Risk Ratio", "Random effect", "REML", "Wald", "false",
      "95%", "false", "true", f(exp(r2$b[1])), f(exp(r2$ci.lb)), f(exp(r2$ci.ub)), "", "",
      f(r2$tau2), f(ci2[2]), f(ci2[3]), f(r2$QE), 3, f(r2$QEp), f(r2$I2), f(abs(r2$zval)), "",
      f(r2$pval), "analysis:2"),
  row(1, 3, "Adverse events", "Drug X versus placebo (SYNTHETIC)", "Dichotomous", "true",
      "Drug X", "Placebo", "MH", "Risk Ratio", "Fixed effect", "", "Wald", "false", "95%",
      "false", "true", f(exp(r3$b[1])), f(exp(r3$ci.lb)), f(exp(r3$ci.ub)), "", "", "", "", "",
      f(r3$QE), 3, f(r3$QEp), f(r3$I2), f(abs(r3$zval)), "", f(r3$pval), "analysis:3")
)
as_df <- function(rows) do.call(rbind, lapply(rows, function(r)
  as.data.frame(lapply(r, as.character), check.names = FALSE)))
write.csv(as_df(ov), file.path(out,
  "000000-overall-estimates-and-settings.csv"), row.names = FALSE, fileEncoding = "UTF-8")

domains <- c("Bias arising from the randomization process",
  "Bias due to deviations from intended interventions", "Bias due to missing outcome data",
  "Bias in measurement of the outcome", "Bias in selection of the reported result",
  "Overall bias")
data_row <- function(an, i, m1 = "", sd1 = "", a = "", n1 = "", m2 = "", sd2 = "", cc = "",
                     n2 = "", gm = "", gse = "") {
  base <- list("Analysis group" = 1, "Analysis number" = an, "Analysis name" = "",
    "Subgroup" = "", "Applicability" = "SUBGROUP_AND_OVERALL", "Study" = studies[i],
    "Study year" = years[i], "GIV Mean" = gm, "GIV SE" = gse, "Experimental mean" = m1,
    "Experimental SD" = sd1, "Experimental cases" = a, "Experimental N" = n1,
    "Control mean" = m2, "Control SD" = sd2, "Control cases" = cc, "Control N" = n2)
  for (d in domains) {
    base[[paste0(d, " (judgement)")]] <- rob[i]
    base[[paste0(d, " (support)")]] <- "SYNTHETIC"
  }
  base
}
rows <- list()
for (i in 1:5) rows[[length(rows) + 1]] <- data_row(1, i, md$m1[i], md$sd1[i], "", md$n1[i],
  md$m2[i], md$sd2[i], "", md$n2[i])
for (i in 1:4) rows[[length(rows) + 1]] <- data_row(2, i, gm = f(giv$y[i]), gse = giv$se[i])
for (i in 1:4) rows[[length(rows) + 1]] <- data_row(3, i, a = bin$a[i], n1 = bin$n1[i],
  cc = bin$c[i], n2 = bin$n2[i])
dr <- as_df(rows)
write.csv(dr, file.path(out, "000000-data-rows.csv"), row.names = FALSE, fileEncoding = "UTF-8")
writeLines("Analysis group,Analysis number,Subgroup,Subgroup number,Mean,CI start,CI end",
  file.path(out, "000000-subgroup-estimates.csv"))
