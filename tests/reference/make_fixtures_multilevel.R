#!/usr/bin/env Rscript
# Reference fixtures for repeated timepoints (three-level rma.mv, CR2 robust inference) and
# rare events (rma.glmm UM.FS), computed with R/metafor 3.8-1, lme4 and clubSandwich.
#
#   Rscript tests/reference/make_fixtures_multilevel.R                # fixtures
#   Rscript tests/reference/make_fixtures_multilevel.R --build-cases  # (re)write the case folder first
#
# Run from the repository root. Writes tests/reference/repeated/multilevel.json (designs given
# as yi/vi or arm counts in the script) and tests/reference/repeated/repeated_synthetic.json
# (computed only from the CSV files of tests/reference/repeated/case/).
# Every synthetic number is invented (seeded RNG, rounded): SYNTHETIC test data, not real trials.
# See tests/reference/README.md ("Repeated timepoints and rare events").

suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
  library(clubSandwich)
  library(jsonlite)
  library(yaml)
})
options(warn = 1, stringsAsFactors = FALSE)

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else file.path(getwd(), "tests", "reference")
})
EXPECTED_DIR <- file.path(script_dir, "repeated")
CASE_DIR <- file.path(script_dir, "repeated", "case")
TIMES <- c(1, 4, 12, 26)

## ---------------------------------------------------------------- JSON ----

source(file.path(script_dir, "json_fixture.R"))

versions <- function() list(
  metafor_version = as.character(packageVersion("metafor")),
  lme4_version = as.character(packageVersion("lme4")),
  clubSandwich_version = as.character(packageVersion("clubSandwich")),
  R_version = R.version.string)

## ------------------------------------------------------------ multilevel ----

# One rma.mv fit (REML, z tests) with its CR2/Satterthwaite robust counterpart.
fit_mv <- function(d, moderator = c("none", "log_weeks", "weeks")) {
  moderator <- match.arg(moderator)
  if (moderator == "log_weeks") d <- d[d$weeks > 0, ]
  d$effect <- seq_len(nrow(d))
  fit <- function(control) switch(moderator,
    none = rma.mv(yi, vi, random = ~ 1 | study/effect, data = d, method = "REML", control = control),
    log_weeks = rma.mv(yi, vi, mods = ~ log(weeks), random = ~ 1 | study/effect, data = d, method = "REML", control = control),
    weeks = rma.mv(yi, vi, mods = ~ weeks, random = ~ 1 | study/effect, data = d, method = "REML", control = control))
  # metafor's defaults first; where nlminb stops before converging (near the boundary), again
  # with more iterations (recorded in fitted_with)
  fitted_with <- "defaults"
  res <- try(fit(list()), silent = TRUE)
  for (alt in list(list(iter.max = 10000, eval.max = 10000), list(optimizer = "bobyqa"))) {
    if (!inherits(res, "try-error")) break
    fitted_with <- paste0("control = ", paste(deparse(alt), collapse = ""), "; before it: ",
                          trimws(as.character(res)))
    res <- try(fit(alt), silent = TRUE)
  }
  if (inherits(res, "try-error")) stop(res)
  out <- list(
    moderator = moderator, fitted_with = fitted_with,
    terms = I(c("intercept", if (moderator != "none") moderator)),
    k_studies = length(unique(d$study)), k_effects = nrow(d),
    estimate = I(c(res$beta)), se = I(res$se), ci_low = I(res$ci.lb), ci_high = I(res$ci.ub),
    p_value = I(res$pval), sigma2_study = res$sigma2[1], sigma2_effect = res$sigma2[2],
    logLik_reml = c(logLik(res)))
  if (out$k_studies >= 2) {
    rob <- try(robust(res, cluster = d$study, clubSandwich = TRUE), silent = TRUE)
    if (inherits(rob, "try-error")) {
      out$robust_error <- as.character(rob)
    } else {
      out$robust <- list(se = I(rob$se), df = I(rob$ddf), ci_low = I(rob$ci.lb),
                         ci_high = I(rob$ci.ub), p_value = I(rob$pval))
    }
  }
  if (moderator != "none") {
    x <- if (moderator == "log_weeks") log(TIMES) else TIMES
    p <- predict(res, newmods = x)
    out$predict <- list(weeks = I(TIMES), estimate = I(p$pred), se = I(p$se),
                        ci_low = I(p$ci.lb), ci_high = I(p$ci.ub))
    if (out$k_studies >= 3) {
      # the same estimates with CR2 / Satterthwaite: clubSandwich::linear_contrast
      lc <- linear_contrast(res, vcov = "CR2", cluster = d$study, test = "Satterthwaite",
                            contrasts = cbind(1, x))
      out$predict$robust_se <- I(lc$SE)
      out$predict$robust_df <- I(lc$df)
      out$predict$robust_ci_low <- I(lc$CI_L)
      out$predict$robust_ci_high <- I(lc$CI_U)
    }
  }
  out
}

# SYNTHETIC designs: yi = mu + slope*log(weeks) + u_study + u_effect + e, rounded to 4 decimals.
simulate_design <- function(seed, weeks_list, mu = -1.5, slope = 0.3, s2_study = 0.25,
                            s2_effect = 0.1, vi_range = c(0.05, 0.3)) {
  set.seed(seed)
  rows <- list()
  for (s in seq_along(weeks_list)) {
    u <- rnorm(1, 0, sqrt(s2_study))
    for (w in weeks_list[[s]]) {
      vi <- round(runif(1, vi_range[1], vi_range[2]), 5)
      lw <- if (w > 0) log(w) else 0
      yi <- round(mu + slope * lw + u + rnorm(1, 0, sqrt(s2_effect)) + rnorm(1, 0, sqrt(vi)), 4)
      rows[[length(rows) + 1]] <- data.frame(study = sprintf("syn-%02d", s), weeks = w, yi = yi, vi = vi)
    }
  }
  do.call(rbind, rows)
}

MULTILEVEL_DESIGNS <- list(
  balanced = list(
    description = "SYNTHETIC: 6 studies x weeks 1, 4, 12 (balanced)",
    data = function() simulate_design(101, rep(list(c(1, 4, 12)), 6)),
    moderators = c("none", "log_weeks", "weeks")),
  unbalanced = list(
    description = "SYNTHETIC: 8 studies with 1-4 timepoints each; two studies with one timepoint",
    data = function() simulate_design(202, list(c(1, 4, 12), c(1, 2), 4, c(1, 4, 12, 26), c(2, 8), 1, c(4, 12), c(1, 6, 26))),
    moderators = c("none", "log_weeks")),
  no_heterogeneity = list(
    description = "SYNTHETIC: no heterogeneity simulated at either level, large sampling variances",
    data = function() simulate_design(303, list(c(1, 4), c(1, 4, 12), c(2, 12), c(1, 26), c(4, 8)),
                                      slope = 0, s2_study = 0, s2_effect = 0, vi_range = c(0.8, 1.2)),
    moderators = c("none", "log_weeks")),
  sigma2_zero = list(
    description = "SYNTHETIC: effects far closer together than their sampling variances allow (both variance components at the boundary 0)",
    data = function() data.frame(
      study = c("syn-01", "syn-01", "syn-02", "syn-02", "syn-02", "syn-03", "syn-03", "syn-04", "syn-05", "syn-05"),
      weeks = c(1, 4, 1, 4, 12, 2, 12, 26, 4, 8),
      yi = c(-1.02, -0.97, -1.05, -0.99, -0.95, -1.01, -0.98, -1.03, -1.00, -0.96),
      vi = c(0.9, 1.1, 1.0, 0.8, 1.2, 0.95, 1.05, 1.0, 0.85, 1.15)),
    moderators = c("none", "log_weeks")),
  study_only = list(
    description = "SYNTHETIC: between-study heterogeneity only, no within-study (effect-level) heterogeneity",
    data = function() simulate_design(404, list(c(1, 4, 12), c(1, 4), c(2, 12), c(1, 26), c(4, 8), c(1, 2, 4)),
                                      s2_study = 0.5, s2_effect = 0, vi_range = c(0.1, 0.2)),
    moderators = c("none", "log_weeks")),
  konstantopoulos2011 = list(
    description = "REAL: metafor dat.konstantopoulos2011 (56 schools in 11 districts); 'weeks' = year - 1975 (a linear moderator, for the test only)",
    data = function() {
      d <- dat.konstantopoulos2011
      data.frame(study = sprintf("district-%d", d$district), weeks = d$year - 1975, yi = d$yi, vi = d$vi)
    },
    moderators = c("none", "weeks"))
)

run_multilevel <- function(name) {
  spec <- MULTILEVEL_DESIGNS[[name]]
  d <- spec$data()
  fits <- lapply(spec$moderators, function(m) fit_mv(d, m))
  names(fits) <- spec$moderators
  list(design = name, description = spec$description,
       data = list(study = I(d$study), weeks = I(d$weeks), yi = I(d$yi), vi = I(d$vi)),
       models = fits)
}

## ------------------------------------------------------------------ GLMM ----

fit_glmm <- function(d) {
  res <- rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, model = "UM.FS")
  tight <- rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, model = "UM.FS",
                    control = list(glmerCtrl = list(optimizer = c("bobyqa", "bobyqa"),
                                                    optCtrl = list(rhoend = 1e-12, maxfun = 1e6))))
  row <- function(r) list(k = r$k, estimate = c(r$beta), se = r$se, ci_low = r$ci.lb, ci_high = r$ci.ub,
                          p_value = r$pval, tau2 = r$tau2, logLik = c(logLik(r)))
  list(default = row(res), tight = row(tight))
}

GLMM_DESIGNS <- list(
  nielweise2007 = list(
    description = "REAL: metafor dat.nielweise2007 (18 trials; single zeros and one double zero)",
    data = function() {
      d <- dat.nielweise2007
      data.frame(study = sprintf("s%02d", seq_len(nrow(d))), ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
    }),
  sparse = list(
    description = "SYNTHETIC: a sparse harm, 7 studies with 0-4 events per arm, two single-zero studies and one double zero",
    data = function() data.frame(study = sprintf("syn-%02d", 1:7),
                                 ai = c(2, 0, 3, 1, 4, 0, 1), n1i = c(30, 25, 40, 22, 50, 35, 28),
                                 ci = c(0, 1, 1, 0, 2, 0, 1), n2i = c(30, 24, 38, 21, 48, 33, 30))),
  moderate = list(
    description = "SYNTHETIC: 6 studies with 5-25 events per arm and visible heterogeneity",
    data = function() data.frame(study = sprintf("syn-%02d", 1:6),
                                 ai = c(12, 25, 8, 18, 5, 20), n1i = c(40, 60, 35, 50, 30, 45),
                                 ci = c(6, 10, 9, 5, 6, 7), n2i = c(40, 58, 36, 52, 31, 44))),
  tau2_zero = list(
    description = "SYNTHETIC: 5 studies with (nearly) the same odds ratio (tau2 at the boundary 0)",
    data = function() data.frame(study = sprintf("syn-%02d", 1:5),
                                 ai = c(10, 20, 15, 5, 30), n1i = c(50, 100, 75, 25, 150),
                                 ci = c(5, 10, 8, 2, 15), n2i = c(50, 100, 75, 25, 150)))
)

run_glmm <- function(name) {
  spec <- GLMM_DESIGNS[[name]]
  d <- spec$data()
  c(list(design = name, description = spec$description,
         data = list(study = I(d$study), ai = I(d$ai), n1i = I(d$n1i), ci = I(d$ci), n2i = I(d$n2i))),
    fit_glmm(d))
}

## ------------------------------------------------- end-to-end case folder ----

build_case <- function() {
  dir.create(file.path(CASE_DIR, "data", "raw", "outcomes"), recursive = TRUE, showWarnings = FALSE)
  writeLines(c("conditions:", "- neuropathic", "measure:", "  continuous: MD", "  binary: RR",
               "tau2_method: REML", "ci_method: z", "level: 0.95", "harmonize_scale_to: null",
               "subgroups: []", "moderators: []", "multilevel:", "  time_moderator: log_weeks",
               "rare_events:", "  model: UM.FS"),
             file.path(CASE_DIR, "config.yaml"))
  ids <- sprintf("syn-%s", c("a", "b", "c", "d", "e", "f"))
  studies <- data.frame(study_id = ids, label = sprintf("Synthetic %s 20%02d", toupper(substr(ids, 5, 5)), 10:15),
                        year = 2010:2015, design = "parallel", citation = "SYNTHETIC test data - not a real trial")
  write.csv(studies, file.path(CASE_DIR, "data", "raw", "studies.csv"), row.names = FALSE, na = "")
  set.seed(505)
  weeks <- list(c(0, 1, 4, 12), c(1, 4), c(1, 12, 26), 4, c(1, 2, 4, 8), c(1, 26))
  rows <- list()
  for (s in seq_along(ids)) {
    u <- rnorm(1, 0, 0.6)
    for (w in weeks[[s]]) {
      n1 <- sample(20:60, 1); n2 <- sample(20:60, 1)
      eff <- -1.6 + 0.35 * log(max(w, 0.5)) + u + rnorm(1, 0, 0.3)
      rows[[length(rows) + 1]] <- data.frame(
        study_id = ids[s], outcome = "pain_intensity", timepoint_weeks = w, exp_n = n1, ctl_n = n2,
        exp_mean = round(5 + eff + rnorm(1, 0, 0.2), 2), exp_sd = round(runif(1, 1.5, 2.5), 2),
        ctl_mean = round(5 + rnorm(1, 0, 0.2), 2), ctl_sd = round(runif(1, 1.5, 2.5), 2),
        exp_events = NA, ctl_events = NA)
    }
  }
  # a sparse harm at week 1 (one double zero, two single zeros) and a second outcome with one timepoint
  ae <- data.frame(study_id = ids, outcome = "ae_dissociation", timepoint_weeks = 1,
                   exp_n = c(30, 25, 40, 22, 50, 35), ctl_n = c(30, 24, 38, 21, 48, 33),
                   exp_mean = NA, exp_sd = NA, ctl_mean = NA, ctl_sd = NA,
                   exp_events = c(3, 0, 4, 1, 5, 0), ctl_events = c(0, 1, 1, 0, 2, 0))
  nausea <- data.frame(study_id = ids[1:4], outcome = "ae_nausea", timepoint_weeks = 1,
                       exp_n = c(30, 25, 40, 22), ctl_n = c(30, 24, 38, 21),
                       exp_mean = NA, exp_sd = NA, ctl_mean = NA, ctl_sd = NA,
                       exp_events = c(8, 6, 12, 5), ctl_events = c(4, 5, 6, 2))
  out <- rbind(do.call(rbind, rows), ae, nausea)
  write.csv(out, file.path(CASE_DIR, "data", "raw", "outcomes", "neuropathic.csv"), row.names = FALSE, na = "")
}

run_case <- function() {
  d <- read.csv(file.path(CASE_DIR, "data", "raw", "outcomes", "neuropathic.csv"))
  cont <- d[d$outcome == "pain_intensity", ]
  es <- escalc("MD", m1i = exp_mean, sd1i = exp_sd, n1i = exp_n, m2i = ctl_mean, sd2i = ctl_sd, n2i = ctl_n, data = cont)
  ml <- data.frame(study = cont$study_id, weeks = cont$timepoint_weeks, yi = c(es$yi), vi = es$vi)
  multilevel <- list(list(condition = "neuropathic", outcome = "pain_intensity",
                          models = list(none = fit_mv(ml, "none"), log_weeks = fit_mv(ml, "log_weeks"))))
  rare <- list()
  for (o in c("ae_dissociation", "ae_nausea")) {
    b <- d[d$outcome == o, ]
    g <- data.frame(study = b$study_id, ai = b$exp_events, n1i = b$exp_n, ci = b$ctl_events, n2i = b$ctl_n)
    mh <- rma.mh(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = g)
    rare[[length(rare) + 1]] <- c(list(condition = "neuropathic", outcome = o, timepoint_weeks = 1), fit_glmm(g),
                                  list(mh = list(estimate = c(mh$beta), se = mh$se, ci_low = mh$ci.lb, ci_high = mh$ci.ub)))
  }
  c(list(case = "repeated_synthetic", synthetic = TRUE), versions(),
    list(multilevel = multilevel, rare_events = rare))
}

## ------------------------------------------------------------------ main ----

args <- commandArgs(TRUE)
if ("--build-cases" %in% args) build_case()
fixtures <- c(list(synthetic = TRUE,
                   note = "designs marked SYNTHETIC are invented numbers, not real trials"),
              versions(),
              list(times = I(TIMES),
                   multilevel = lapply(names(MULTILEVEL_DESIGNS), run_multilevel),
                   glmm = lapply(names(GLMM_DESIGNS), run_glmm)))
write_json_file(fixtures, file.path(EXPECTED_DIR, "multilevel.json"))
write_json_file(run_case(), file.path(EXPECTED_DIR, "repeated_synthetic.json"))
