#!/usr/bin/env Rscript
# Reference fixtures for the Python meta-analysis package, computed with R/metafor.
#
#   Rscript tests/reference/make_fixtures.R                # fixtures from the shipped case CSVs
#   Rscript tests/reference/make_fixtures.R --build-cases  # (re)write the case folders first
#
# Run from the repository root. The fixtures are computed ONLY from the files in
# tests/reference/cases/<case>/ (config.yaml, data/raw/studies.csv, data/raw/outcomes/*.csv);
# the metafor datasets and the synthetic definitions are used only by --build-cases.
# See tests/reference/README.md for what every number is.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
  library(yaml)
})

options(warn = 1, stringsAsFactors = FALSE)

## ---------------------------------------------------------------- paths ----

script_dir <- local({
  a <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(a)) dirname(normalizePath(sub("^--file=", "", a[1]))) else file.path(getwd(), "tests", "reference")
})
CASES_DIR <- file.path(script_dir, "cases")
EXPECTED_DIR <- file.path(script_dir, "expected")

## ------------------------------------------------------------- settings ----

TAU2_METHODS <- c("DL", "REML", "PM", "ML", "HE", "SJ", "HS", "EB")
DEFAULT_COPIES <- c("REML", "ML", "PM", "EB")        # also fitted with metafor's default control
CI_METHODS <- c("z", "hksj")
SENS_METHODS <- c("REML", "DL")
TIGHT <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12)
QP_TIGHT <- list(tol = 1e-12, maxiter = 10000)
ADD <- 1/2
TO <- "only0"
Z975 <- 1.959964                                    # contract constant for generic CIs

## Per-case extras that a single config.yaml cannot express. Every analysis uses the case's
## config.yaml; `measures` lists the effect measures computed (the first is the one in
## config.yaml, the others differ from it ONLY in measure.continuous / measure.binary).
## `sensitivity` says whether the sensitivity block is computed.
BCG_SRC <- "metafor/metadat dat.bcg: Colditz, G. A., Brewer, T. F., Berkey, C. S., Wilson, M. E., Burdick, E., Fineberg, H. V., & Mosteller, F. (1994). Efficacy of BCG vaccine in the prevention of tuberculosis: Meta-analysis of the published literature. JAMA, 271(9), 698-702. https://doi.org/10.1001/jama.1994.03510330076038"
NORMAND_SRC <- "metafor/metadat dat.normand1999: Normand, S. T. (1999). Meta-analysis: Formulating, evaluating, combining, and reporting. Statistics in Medicine, 18(3), 321-359. https://doi.org/10.1002/(SICI)1097-0258(19990215)18:3<321::AID-SIM28>3.0.CO;2-P (the dataset has no per-study years: year = 1999 placeholder)"
CASE_META <- list(
  bcg                 = list(measures = c("RR", "OR", "RD"), sensitivity = TRUE, source = BCG_SRC),
  normand             = list(measures = c("MD", "SMD", "ROM"), sensitivity = TRUE, source = NORMAND_SRC),
  level90             = list(measures = c("MD"), sensitivity = FALSE,
                             source = paste(NORMAND_SRC, "| same data as 'normand', level = 0.90")),
  nielweise2007       = list(measures = c("RR", "OR", "RD"), sensitivity = TRUE,
                             source = "metafor/metadat dat.nielweise2007: Niel-Weise, B. S., Stijnen, T., & van den Broek, P. J. (2007). Anti-infective-treated central venous catheters: A systematic review of randomized controlled trials. Intensive Care Medicine, 33(12), 2058-2068. https://doi.org/10.1007/s00134-007-0897-3 (zero cells; Yucel 2004 is a double zero)"),
  synthetic_mixed     = list(measures = c("MD"), sensitivity = TRUE,
                             source = "SYNTHETIC: invented ketamine-like pain trials mixing SD / SE / 95% CI / median+IQR / median+range / five-number reporting, on NRS 0-10 and VAS 0-100, harmonized to 0-10 for MD"),
  synthetic_mixed_smd = list(measures = c("SMD"), sensitivity = FALSE,
                             source = "SYNTHETIC: same data as synthetic_mixed, measure SMD, no harmonization"),
  synthetic_generic   = list(measures = c("RR"), sensitivity = TRUE,
                             source = "SYNTHETIC: 3 arm-level binary rows (one with a zero cell) and 4 generic RR rows (CI only, SE only, SE and CI)"),
  k1                  = list(measures = c("MD"), sensitivity = FALSE, source = "SYNTHETIC: a single continuous study (k = 1)"),
  k2                  = list(measures = c("MD"), sensitivity = FALSE, source = "SYNTHETIC: two continuous studies (k = 2)"),
  tau2_zero           = list(measures = c("MD"), sensitivity = TRUE,
                             source = "SYNTHETIC: four studies with exactly the same mean difference (-1.5)"),
  homogeneous         = list(measures = c("MD"), sensitivity = FALSE,
                             source = "SYNTHETIC: five near-identical mean differences (Q far below its df)"),
  higher_better       = list(measures = c("MD", "ROM"), sensitivity = FALSE,
                             source = "SYNTHETIC: continuous outcome where higher is better (higher_is_better = true on every row)"),
  rd_double_zero      = list(measures = c("RD", "RR"), sensitivity = FALSE,
                             source = "SYNTHETIC: binary with one double-zero study (kept for RD, excluded for RR) and one single-zero study"),
  sens                = list(measures = c("RR"), sensitivity = TRUE,
                             source = paste(BCG_SRC, "| column 'era' derived from year (<1950, 1950s, >=1960) for this test")),
  sens_continuous     = list(measures = c("SMD"), sensitivity = TRUE,
                             source = "metafor/metadat dat.bangertdrowns2004: Bangert-Drowns, R. L., Hurley, M. M., & Wilkinson, B. (2004). The effects of school-based writing-to-learn interventions on academic achievement: A meta-analysis. Review of Educational Research, 74(1), 29-58. https://doi.org/10.3102/00346543074001029 (yi/vi given; shipped as generic rows effect = yi, effect_se = sqrt(vi))")
)

CONTINUOUS_MEASURES <- c("MD", "SMD", "ROM")
BINARY_MEASURES <- c("RR", "OR", "RD")
RATIO_MEASURES <- c("RR", "OR", "HR", "ROM")

## ================================================================ helpers ==

col_or_na <- function(d, name, type = "numeric") {
  if (name %in% names(d)) {
    x <- d[[name]]
    if (type == "numeric") suppressWarnings(as.numeric(x)) else as.character(x)
  } else {
    if (type == "numeric") rep(NA_real_, nrow(d)) else rep(NA_character_, nrow(d))
  }
}

as_flag <- function(x) {
  x <- tolower(trimws(as.character(x)))
  !is.na(x) & x %in% c("true", "1", "yes")
}

num_or_na <- function(x) {
  if (is.null(x) || length(x) == 0) return(NA_real_)
  x <- as.numeric(x)[1]
  if (!is.finite(x)) NA_real_ else x
}

read_case_csv <- function(path) {
  d <- read.csv(path, stringsAsFactors = FALSE, na.strings = c("", "NA"),
                colClasses = c(study_id = "character"), check.names = FALSE)
  d
}

## ------------------------------------------ median/quartile/range → mean/SD --
## Re-implementation of the DEFAULT method of metafor::conv.fivenum() (metafor >= 4.0;
## the metafor on this machine may predate it, see README). dist = "norm", test = TRUE:
##   mean: Luo et al. (2018) — case 1 (min, med, max), case 2 (q1, med, q3), case 3 (all five)
##   SD:   Wan et al. (2014) eq. 9 (case 1) and eq. 16 (case 2); Shi et al. (2020) (case 3)
##   rows with n < 5, or whose skewness test (Shi et al.) rejects, give NA.
## When metafor::conv.fivenum exists it is used instead and the two are checked to agree.
fivenum_default <- function(mn, q1, med, q3, mx, n) {
  out <- list(mean = NA_real_, sd = NA_real_, case = NA_character_, tval = NA_real_, crit = NA_real_)
  if (is.na(n) || n < 5 || is.na(med)) return(out)
  has_range <- !is.na(mn) && !is.na(mx)
  has_iqr <- !is.na(q1) && !is.na(q3)
  xi <- 2 * qnorm((n - 0.375) / (n + 0.25))          # expected range of n std normals (approx.)
  eta <- 2 * qnorm((0.75 * n - 0.125) / (n + 0.25))  # expected IQR of n std normals (approx.)
  if (has_range && has_iqr) {
    out$case <- "min_q1_median_q3_max"
    out$tval <- max(2.65 * log(0.6 * n) / sqrt(n) * abs((mn + mx - 2 * med) / (mx - mn)),
                    abs((q1 + q3 - 2 * med) / (q3 - q1)))
    out$crit <- 3 / sqrt(n) - 40 / n^3
    w1 <- 2.2 / (2.2 + n^0.75)
    w2 <- 0.7 - 0.72 / n^0.55
    m <- w1 * (mn + mx) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * med
    w <- 1 / (1 + 0.07 * n^0.6)
    s <- w * (mx - mn) / xi + (1 - w) * (q3 - q1) / eta
  } else if (has_range) {
    out$case <- "min_median_max"
    out$tval <- abs((mn + mx - 2 * med) / (mx - mn))
    out$crit <- 1 / log(n + 9) + 2.5 / (n + 1)
    w <- 4 / (4 + n^0.75)
    m <- w * (mn + mx) / 2 + (1 - w) * med
    s <- (mx - mn) / xi
  } else if (has_iqr) {
    out$case <- "q1_median_q3"
    out$tval <- abs((q1 + q3 - 2 * med) / (q3 - q1))
    out$crit <- 2.65 / sqrt(n) - 6 / n^2
    w <- 0.7 + 0.39 / n
    m <- w * (q1 + q3) / 2 + (1 - w) * med
    s <- (q3 - q1) / eta
  } else {
    return(out)
  }
  if (isTRUE(out$tval >= out$crit)) return(out)      # skewed: metafor returns NA
  out$mean <- m
  out$sd <- s
  out
}

fivenum_convert <- function(mn, q1, med, q3, mx, n) {
  mine <- fivenum_default(mn, q1, med, q3, mx, n)
  used <- "make_fixtures.R re-implementation of conv.fivenum default"
  if (exists("conv.fivenum", where = asNamespace("metafor"), inherits = FALSE)) {
    cf <- get("conv.fivenum", envir = asNamespace("metafor"))
    arg <- function(v) if (is.na(v)) NULL else v
    r <- do.call(cf, Filter(Negate(is.null), list(min = arg(mn), q1 = arg(q1), median = med,
                                                   q3 = arg(q3), max = arg(mx), n = n)))
    m2 <- as.numeric(r[[1]]); s2 <- as.numeric(r[[2]])
    if (!isTRUE(all.equal(c(m2, s2), c(mine$mean, mine$sd), tolerance = 1e-12)))
      warning(sprintf("conv.fivenum (%s) differs from re-implementation: %s vs %s",
                      packageVersion("metafor"), toString(c(m2, s2)), toString(c(mine$mean, mine$sd))))
    mine$mean <- m2; mine$sd <- s2
    used <- "metafor::conv.fivenum (default method)"
  }
  mine$implementation <- used
  mine
}

## --------------------------------------------------------- row handling ----

row_kind <- function(d) {
  generic <- !is.na(col_or_na(d, "effect"))
  binary <- !is.na(col_or_na(d, "exp_events")) & !is.na(col_or_na(d, "ctl_events"))
  kind <- ifelse(generic, "generic", ifelse(binary, "binary", "continuous"))
  kind
}

## dispersion for one arm ("exp" or "ctl"); returns list of vectors
arm_values <- function(d, arm) {
  g <- function(x) col_or_na(d, paste0(arm, "_", x))
  n <- g("n"); mean <- g("mean"); sd <- g("sd"); se <- g("se")
  cl <- g("ci_low"); ch <- g("ci_high")
  med <- g("median"); q1 <- g("q1"); q3 <- g("q3"); mn <- g("min"); mx <- g("max")
  source <- rep(NA_character_, nrow(d))
  conv_mean <- rep(NA_real_, nrow(d)); conv_sd <- rep(NA_real_, nrow(d))
  impl <- rep(NA_character_, nrow(d))
  for (i in seq_len(nrow(d))) {
    if (!is.na(sd[i])) {
      source[i] <- "sd"
    } else if (!is.na(se[i])) {
      sd[i] <- se[i] * sqrt(n[i]); source[i] <- "se"
    } else if (!is.na(cl[i]) && !is.na(ch[i])) {
      sd[i] <- sqrt(n[i]) * (ch[i] - cl[i]) / (2 * qt(0.975, n[i] - 1)); source[i] <- "ci"
    } else if (!is.na(med[i])) {
      f <- fivenum_convert(mn[i], q1[i], med[i], q3[i], mx[i], n[i])
      sd[i] <- f$sd; conv_mean[i] <- f$mean; conv_sd[i] <- f$sd
      source[i] <- paste0("fivenum:", f$case); impl[i] <- f$implementation
    }
    if (is.na(mean[i]) && !is.na(conv_mean[i])) mean[i] <- conv_mean[i]
  }
  list(n = n, mean = mean, sd = sd, source = source, impl = impl)
}

## effect sizes for one analysis; returns list(es = data.frame, arms = list|NULL, excluded = list)
compute_effects <- function(d, measure, harmonize_to) {
  kind <- row_kind(d)
  is_cont_measure <- measure %in% CONTINUOUS_MEASURES
  yi <- rep(NA_real_, nrow(d)); vi <- rep(NA_real_, nrow(d))
  excluded <- list()
  arms <- NULL

  cont <- kind == "continuous"
  if (any(cont)) {
    if (!is_cont_measure) stop("continuous rows in a binary analysis")
    dc <- d[cont, , drop = FALSE]
    e <- arm_values(dc, "exp"); c <- arm_values(dc, "ctl")
    if (measure == "MD" && !is.null(harmonize_to)) {
      smin <- col_or_na(dc, "scale_min"); smax <- col_or_na(dc, "scale_max")
      bounded <- !is.na(smin) & !is.na(smax)
      f <- ifelse(bounded, harmonize_to / (smax - smin), 1)
      off <- ifelse(bounded, smin, 0)
      e$mean <- (e$mean - off) * f; e$sd <- e$sd * f
      c$mean <- (c$mean - off) * f; c$sd <- c$sd * f
    }
    es <- escalc(measure, m1i = e$mean, sd1i = e$sd, n1i = e$n,
                 m2i = c$mean, sd2i = c$sd, n2i = c$n)
    y <- as.numeric(es$yi)
    flip <- as_flag(col_or_na(dc, "higher_is_better", "character"))
    y[flip] <- -y[flip]
    yi[cont] <- y; vi[cont] <- as.numeric(es$vi)
    arms <- list(study_id = I(dc$study_id),
                 exp_n = I(e$n), exp_mean = I(e$mean), exp_sd = I(e$sd), exp_sd_source = I(e$source),
                 ctl_n = I(c$n), ctl_mean = I(c$mean), ctl_sd = I(c$sd), ctl_sd_source = I(c$source),
                 higher_is_better = I(flip),
                 harmonized = I(if (measure == "MD" && !is.null(harmonize_to))
                   !is.na(col_or_na(dc, "scale_min")) & !is.na(col_or_na(dc, "scale_max")) else rep(FALSE, nrow(dc))),
                 fivenum_implementation = I(ifelse(is.na(e$impl), c$impl, e$impl)))
  }

  bin <- kind == "binary"
  if (any(bin)) {
    if (is_cont_measure) stop("binary rows in a continuous analysis")
    db <- d[bin, , drop = FALSE]
    es <- escalc(measure, ai = col_or_na(db, "exp_events"), n1i = col_or_na(db, "exp_n"),
                 ci = col_or_na(db, "ctl_events"), n2i = col_or_na(db, "ctl_n"),
                 add = ADD, to = TO, drop00 = measure %in% c("RR", "OR"))
    yi[bin] <- as.numeric(es$yi); vi[bin] <- as.numeric(es$vi)
  }

  gen <- kind == "generic"
  if (any(gen)) {
    dg <- d[gen, , drop = FALSE]
    em <- toupper(col_or_na(dg, "effect_measure", "character"))
    if (any(em != measure)) stop("generic effect_measure does not match the analysis measure")
    eff <- col_or_na(dg, "effect"); ese <- col_or_na(dg, "effect_se")
    lo <- col_or_na(dg, "effect_ci_low"); hi <- col_or_na(dg, "effect_ci_high")
    ratio <- em %in% RATIO_MEASURES
    y <- ifelse(ratio, log(eff), eff)
    se <- ifelse(!is.na(ese), ese,
                 ifelse(ratio, (log(hi) - log(lo)) / (2 * Z975), (hi - lo) / (2 * Z975)))
    yi[gen] <- y; vi[gen] <- se^2
  }

  drop <- is.na(yi) | is.na(vi)
  for (i in which(drop)) {
    reason <- if (kind[i] == "binary" && col_or_na(d, "exp_events")[i] == 0 &&
                  col_or_na(d, "ctl_events")[i] == 0) "double zero" else "effect not estimable"
    excluded[[length(excluded) + 1]] <- list(study_id = d$study_id[i], reason = reason)
  }
  es <- data.frame(study_id = d$study_id, kind = kind, yi = yi, vi = vi)[!drop, , drop = FALSE]
  list(es = es, arms = arms, excluded = excluded)
}

## ------------------------------------------------------------- pooling ----

extract_fit <- function(res) {
  list(estimate = num_or_na(res$b), se = num_or_na(res$se), ci_low = num_or_na(res$ci.lb),
       ci_high = num_or_na(res$ci.ub), p_value = num_or_na(res$pval))
}

pooled_row <- function(keys, yi, vi, method, ci, level, control, qp_control) {
  k <- length(yi)
  test <- if (ci == "hksj") "knha" else "z"
  fe <- rma(yi, vi, method = "EE", level = 100 * level)
  row <- c(keys, list(tau2_method = method, ci_method = ci, k = k))
  if (k == 1) {
    res <- rma(yi, vi, method = "EE", level = 100 * level)
    row <- c(row, extract_fit(res), list(
      pi_low = NA, pi_high = NA, tau2 = NA, tau2_ci_low = NA, tau2_ci_high = NA,
      i2 = NA, i2_ci_low = NA, i2_ci_high = NA, h2 = NA, h2_ci_low = NA, h2_ci_high = NA,
      q = num_or_na(res$QE), q_df = 0, q_p = num_or_na(res$QEp),
      fe_estimate = num_or_na(fe$b), fe_se = num_or_na(fe$se), fe_ci_low = num_or_na(fe$ci.lb),
      fe_ci_high = num_or_na(fe$ci.ub),
      metafor_pi_low = NA, metafor_pi_high = NA, tau2_ci_low_sign = NA, tau2_ci_high_sign = NA,
      tau2_ci_null = NA, tau2_ci_low_wide = NA, tau2_ci_high_wide = NA, i2_ci_low_wide = NA, i2_ci_high_wide = NA,
      h2_ci_low_wide = NA, h2_ci_high_wide = NA, tau2_ci_high_wide_sign = NA,
      fitted_with = "EE, test z (k = 1)"))
    return(row)
  }
  args <- list(yi = yi, vi = vi, method = method, test = test, level = 100 * level)
  if (!is.null(control)) args$control <- control
  res <- do.call(rma, args)
  pi <- if (k >= 3) as.numeric(res$b) + c(-1, 1) * qt((1 + level) / 2, k - 2) * sqrt(res$tau2 + res$se^2) else c(NA, NA)
  ci_args <- list(res, type = "QP")
  if (!is.null(qp_control)) ci_args$control <- qp_control
  cit <- tryCatch(suppressWarnings(do.call(confint, ci_args)), error = function(e) NULL)
  g <- function(r, c) if (is.null(cit)) NA else num_or_na(cit$random[r, c])
  ## same Q-profile CI with the search interval widened from metafor's default [0, max(100, 10*tau2)]
  ## to [0, 1e8] (metafor caps the upper bound at tau2.max and flags it with ">")
  wide_args <- ci_args
  wide_args$control <- c(if (is.null(qp_control)) list() else qp_control, list(tau2.max = 1e8))
  ciw <- if (is.null(qp_control)) NULL else
    tryCatch(suppressWarnings(do.call(confint, wide_args)), error = function(e) NULL)
  gw <- function(r, c) if (is.null(ciw)) NA else num_or_na(ciw$random[r, c])
  pr <- predict(res)
  row <- c(row, extract_fit(res), list(
    pi_low = num_or_na(pi[1]), pi_high = num_or_na(pi[2]),
    tau2 = num_or_na(res$tau2), tau2_ci_low = g("tau^2", "ci.lb"), tau2_ci_high = g("tau^2", "ci.ub"),
    i2 = num_or_na(res$I2), i2_ci_low = g("I^2(%)", "ci.lb"), i2_ci_high = g("I^2(%)", "ci.ub"),
    h2 = num_or_na(res$H2), h2_ci_low = g("H^2", "ci.lb"), h2_ci_high = g("H^2", "ci.ub"),
    q = num_or_na(res$QE), q_df = k - 1, q_p = num_or_na(res$QEp),
    fe_estimate = num_or_na(fe$b), fe_se = num_or_na(fe$se), fe_ci_low = num_or_na(fe$ci.lb),
    fe_ci_high = num_or_na(fe$ci.ub),
    metafor_pi_low = num_or_na(pr$pi.lb), metafor_pi_high = num_or_na(pr$pi.ub),
    tau2_ci_low_sign = if (is.null(cit)) NA else cit$lb.sign,
    tau2_ci_high_sign = if (is.null(cit)) NA else cit$ub.sign,
    tau2_ci_null = if (is.null(cit)) NA else isTRUE(cit$ci.null),
    tau2_ci_low_wide = gw("tau^2", "ci.lb"), tau2_ci_high_wide = gw("tau^2", "ci.ub"),
    i2_ci_low_wide = gw("I^2(%)", "ci.lb"), i2_ci_high_wide = gw("I^2(%)", "ci.ub"),
    h2_ci_low_wide = gw("H^2", "ci.lb"), h2_ci_high_wide = gw("H^2", "ci.ub"),
    tau2_ci_high_wide_sign = if (is.null(ciw)) NA else ciw$ub.sign,
    fitted_with = sprintf("rma(method=\"%s\", test=\"%s\")", method, test)))
  row
}

## ---------------------------------------------------------- sensitivity ----

fit_sub <- function(yi, vi, method, test, level) {
  if (length(yi) == 1) rma(yi, vi, method = "EE", level = 100 * level)
  else rma(yi, vi, method = method, test = test, level = 100 * level, control = TIGHT)
}

sensitivity_block <- function(es, studies, method, ci, level, subgroups, moderators) {
  test <- if (ci == "hksj") "knha" else "z"
  k <- nrow(es)
  st <- studies[match(es$study_id, studies$study_id), , drop = FALSE]
  out <- list()

  ## subgroups
  sg_rows <- list(); sg_tests <- list()
  for (col in subgroups) {
    v <- as.character(st[[col]])
    levs <- sort(unique(v[!is.na(v)]))
    ests <- c(); ses <- c()
    for (lv in levs) {
      idx <- which(!is.na(v) & v == lv)
      r <- fit_sub(es$yi[idx], es$vi[idx], method, test, level)
      one <- length(idx) == 1
      sg_rows[[length(sg_rows) + 1]] <- c(list(subgroup = col, level = lv, k = length(idx)),
        extract_fit(r), list(tau2 = if (one) NA else num_or_na(r$tau2),
                             i2 = if (one) NA else num_or_na(r$I2),
                             fitted_with = if (one) "EE, test z (k = 1)" else
                               sprintf("rma(method=\"%s\", test=\"%s\")", method, test)))
      ests <- c(ests, as.numeric(r$b)); ses <- c(ses, r$se)
    }
    if (length(levs) >= 2) {
      t <- rma(ests, sei = ses, method = "EE")
      sg_tests[[length(sg_tests) + 1]] <- list(subgroup = col, q_between = num_or_na(t$QE),
                                               df = length(levs) - 1, p_value = num_or_na(t$QEp))
    }
  }
  out$subgroups <- sg_rows
  out$subgroup_tests <- sg_tests

  ## meta-regression
  mr <- list()
  for (col in moderators) {
    x <- suppressWarnings(as.numeric(st[[col]]))
    ok <- !is.na(x)
    if (sum(ok) >= 3 && length(unique(x[ok])) >= 2) {
      r <- suppressWarnings(rma(es$yi, es$vi, mods = ~x, method = method, test = test,
                                level = 100 * level, control = TIGHT))
      mr[[length(mr) + 1]] <- list(moderator = col, k = r$k,
        intercept = num_or_na(r$b[1]), intercept_se = num_or_na(r$se[1]),
        slope = num_or_na(r$b[2]), slope_se = num_or_na(r$se[2]),
        slope_ci_low = num_or_na(r$ci.lb[2]), slope_ci_high = num_or_na(r$ci.ub[2]),
        slope_p = num_or_na(r$pval[2]), tau2 = num_or_na(r$tau2),
        r2 = if (is.null(r$R2)) NA else num_or_na(r$R2))
    }
  }
  out$metaregression <- mr

  if (k < 3) return(out)

  res <- rma(es$yi, es$vi, method = method, test = test, level = 100 * level,
             control = TIGHT, slab = es$study_id)

  ## small-study effects
  try_or_msg <- function(expr) tryCatch(suppressWarnings(expr), error = function(e) conditionMessage(e))
  rt <- try_or_msg(regtest(res, model = "lm"))
  rk <- try_or_msg(ranktest(res))
  tf <- try_or_msg(trimfill(res, control = TIGHT))
  ss <- list()
  if (is.character(rt)) {
    ss <- c(ss, list(egger_t = NA, egger_p = NA, egger_error = rt))
  } else {
    ss <- c(ss, list(egger_t = num_or_na(rt$zval), egger_p = num_or_na(rt$pval), egger_df = num_or_na(rt$dfs),
                     egger_limit_estimate = num_or_na(rt$est)))
  }
  if (is.character(rk)) {
    ss <- c(ss, list(begg_tau = NA, begg_p = NA, begg_error = rk))
  } else {
    ss <- c(ss, list(begg_tau = num_or_na(rk$tau), begg_p = num_or_na(rk$pval)))
  }
  if (is.character(tf)) {
    ss <- c(ss, list(trimfill_k0 = NA, trimfill_side = NA, trimfill_estimate = NA,
                     trimfill_ci_low = NA, trimfill_ci_high = NA, trimfill_error = tf))
  } else {
    fill <- if (is.null(tf$fill)) rep(FALSE, length(tf$yi)) else tf$fill
    ss <- c(ss, list(trimfill_k0 = num_or_na(tf$k0), trimfill_side = tf$side,
             trimfill_estimate = num_or_na(tf$b), trimfill_se = num_or_na(tf$se),
             trimfill_ci_low = num_or_na(tf$ci.lb), trimfill_ci_high = num_or_na(tf$ci.ub),
             trimfill_p_value = num_or_na(tf$pval),
             trimfill_tau2 = num_or_na(tf$tau2), trimfill_test = tf$test,
             trimfill_filled_yi = I(as.numeric(tf$yi)[fill]), trimfill_filled_vi = I(as.numeric(tf$vi)[fill])))
    if (test == "knha") {
      tk <- suppressWarnings(trimfill(res, control = TIGHT, test = "knha"))
      ss$trimfill_refit_knha <- list(estimate = num_or_na(tk$b), se = num_or_na(tk$se),
                                     ci_low = num_or_na(tk$ci.lb), ci_high = num_or_na(tk$ci.ub),
                                     p_value = num_or_na(tk$pval))
    }
  }
  out$small_study <- ss

  ## leave-one-out
  l1 <- try_or_msg(leave1out(res))
  if (is.character(l1)) { out$leave_one_out_error <- l1; l1 <- list(estimate = numeric(0)) }
  pv <- if (!is.null(l1$pval)) l1$pval else l1$pvals
  out$leave_one_out <- lapply(seq_along(l1$estimate), function(i) list(
    omitted = as.character(l1$slab[i]), estimate = num_or_na(l1$estimate[i]), se = num_or_na(l1$se[i]),
    ci_low = num_or_na(l1$ci.lb[i]), ci_high = num_or_na(l1$ci.ub[i]), p_value = num_or_na(pv[i]),
    tau2 = num_or_na(l1$tau2[i]), i2 = num_or_na(l1$I2[i]), h2 = num_or_na(l1$H2[i]),
    q = num_or_na(l1$Q[i]), q_p = num_or_na(l1$Qp[i])))

  ## influence
  inf <- try_or_msg(influence(res))
  if (is.character(inf)) { out$influence_error <- inf; inf <- list(inf = list(rstudent = numeric(0))) }
  ii <- inf$inf
  out$influence <- lapply(seq_along(ii$rstudent), function(i) list(
    study_id = as.character(ii$slab[i]), rstudent = num_or_na(ii$rstudent[i]),
    dffits = num_or_na(ii$dffits[i]), cooks_d = num_or_na(ii$cook.d[i]), cov_r = num_or_na(ii$cov.r[i]),
    tau2_del = num_or_na(ii$tau2.del[i]), q_del = num_or_na(ii$QE.del[i]),
    hat = num_or_na(ii$hat[i]), weight = num_or_na(ii$weight[i]),
    dfbs = num_or_na(inf$dfbs[[1]][i]), is_infl = isTRUE(inf$is.infl[i])))

  ## cumulative (by year; ties keep file order)
  yr <- as.numeric(st$year)
  cu <- try_or_msg(cumul(res, order = yr))
  if (is.character(cu)) { out$cumulative_error <- cu; cu <- list(estimate = numeric(0)) }
  pv <- if (!is.null(cu$pval)) cu$pval else cu$pvals
  yr_sorted <- yr[order(yr)]
  out$cumulative <- lapply(seq_along(cu$estimate), function(i) list(
    step = i, added = as.character(cu$slab[i]), year = yr_sorted[i],
    estimate = num_or_na(cu$estimate[i]), se = num_or_na(cu$se[i]),
    ci_low = num_or_na(cu$ci.lb[i]), ci_high = num_or_na(cu$ci.ub[i]), p_value = num_or_na(pv[i]),
    tau2 = num_or_na(cu$tau2[i]), i2 = num_or_na(cu$I2[i]), q = num_or_na(cu$Q[i])))
  out
}

## ---------------------------------------------------------------- JSON ----

source(file.path(script_dir, "json_fixture.R"))

## ================================================================ cases ====

run_case <- function(case) {
  dir <- file.path(CASES_DIR, case)
  cfg <- read_yaml(file.path(dir, "config.yaml"))
  meta <- CASE_META[[case]]
  if (is.null(meta)) meta <- list(measures = NULL, sensitivity = FALSE)
  level <- if (is.null(cfg$level)) 0.95 else as.numeric(cfg$level)
  harmonize <- cfg$harmonize_scale_to
  subgroups <- unlist(cfg$subgroups); moderators <- unlist(cfg$moderators)
  studies <- read_case_csv(file.path(dir, "data", "raw", "studies.csv"))
  conds <- unlist(cfg$conditions)
  if (length(conds) == 0)
    conds <- sort(sub("\\.csv$", "", list.files(file.path(dir, "data", "raw", "outcomes"), "\\.csv$")))
  synthetic <- any(grepl("SYNTHETIC", col_or_na(studies, "citation", "character")))

  analyses <- list()
  for (cond in conds) {
    d <- read_case_csv(file.path(dir, "data", "raw", "outcomes", paste0(cond, ".csv")))
    keys <- unique(d[, c("outcome", "timepoint_weeks")])
    for (j in seq_len(nrow(keys))) {
      dd <- d[d$outcome == keys$outcome[j] & d$timepoint_weeks == keys$timepoint_weeks[j], , drop = FALSE]
      kinds <- row_kind(dd)
      family <- if (any(kinds == "continuous") ||
                    any(toupper(col_or_na(dd, "effect_measure", "character")) %in% CONTINUOUS_MEASURES))
        "continuous" else "binary"
      cfg_measure <- if (family == "continuous") cfg$measure$continuous else cfg$measure$binary
      measures <- if (is.null(meta$measures)) cfg_measure else meta$measures
      if (measures[1] != cfg_measure) stop(case, ": first measure must be the config.yaml one")
      for (m in measures) {
        if ((family == "continuous") != (m %in% CONTINUOUS_MEASURES)) next
        eff <- compute_effects(dd, m, harmonize)
        es <- eff$es
        akeys <- list(condition = cond, outcome = keys$outcome[j],
                      timepoint_weeks = as.numeric(keys$timepoint_weeks[j]), measure = m)
        pooled <- list()
        for (M in TAU2_METHODS) {
          pooled[[M]] <- list()
          for (ci in CI_METHODS)
            pooled[[M]][[ci]] <- pooled_row(akeys, es$yi, es$vi, M, ci, level, TIGHT, QP_TIGHT)
        }
        for (M in DEFAULT_COPIES) {
          key <- paste0(M, "_default")
          pooled[[key]] <- list()
          for (ci in CI_METHODS)
            pooled[[key]][[ci]] <- pooled_row(akeys, es$yi, es$vi, M, ci, level, NULL, NULL)
        }
        a <- c(akeys, list(
          config_overrides = if (m == cfg_measure) setNames(list(), character(0)) else
            setNames(list(m), paste0("measure.", family)),
          escalc = list(study_id = I(es$study_id), kind = I(es$kind), yi = I(es$yi), vi = I(es$vi)),
          arms = eff$arms,
          excluded = eff$excluded,
          pooled = pooled))
        if (is.null(a$arms)) a$arms <- NULL
        if (isTRUE(meta$sensitivity)) {
          sens <- list()
          for (M in SENS_METHODS) {
            sens[[M]] <- list()
            for (ci in CI_METHODS)
              sens[[M]][[ci]] <- sensitivity_block(es, studies, M, ci, level, subgroups, moderators)
          }
          a$sensitivity <- sens
        }
        analyses[[length(analyses) + 1]] <- a
      }
    }
  }
  src <- if (is.null(meta$source)) "" else meta$source
  for (key in c("conditions", "subgroups", "moderators"))
    cfg[key] <- list(I(as.character(unlist(cfg[[key]]))))
  obj <- list(case = case, synthetic = synthetic, source = src,
              metafor_version = as.character(packageVersion("metafor")),
              R_version = R.version.string,
              config = cfg,
              settings = list(add = ADD, to = TO, control = TIGHT, confint_control = QP_TIGHT,
                              generic_z = Z975),
              analyses = analyses)
  dir.create(EXPECTED_DIR, showWarnings = FALSE, recursive = TRUE)
  write_json_file(obj, file.path(EXPECTED_DIR, paste0(case, ".json")))
  message("wrote ", case, " (", length(analyses), " analyses)")
}

## ============================================================ build cases ==
## Only with --build-cases: writes tests/reference/cases/<case>/ from metafor's datasets and
## the synthetic definitions below. The fixtures never read these definitions.

build_cases <- function() {
  slug <- function(x) {
    x <- tolower(iconv(x, to = "ASCII//TRANSLIT"))
    x <- gsub("[^a-z0-9]+", "-", x)
    gsub("^-+|-+$", "", x)
  }
  write_case <- function(case, config, studies, outcomes, ...) {  # ... = description only
    dir <- file.path(CASES_DIR, case)
    dir.create(file.path(dir, "data", "raw", "outcomes"), recursive = TRUE, showWarnings = FALSE)
    cfg <- list(conditions = as.list(names(outcomes)),
                measure = list(continuous = config$continuous %||% "MD",
                               binary = config$binary %||% "RR"),
                tau2_method = config$tau2_method %||% "REML",
                ci_method = config$ci_method %||% "z",
                level = config$level %||% 0.95,
                harmonize_scale_to = config$harmonize_scale_to,
                subgroups = as.list(config$subgroups),
                moderators = as.list(config$moderators))
    y <- as.yaml(cfg, handlers = list(logical = function(x) { r <- ifelse(x, "true", "false"); class(r) <- "verbatim"; r }))
    y <- sub("harmonize_scale_to: ~", "harmonize_scale_to: null", y, fixed = TRUE)
    y <- gsub("\\[\\]", "[]", y)
    writeLines(y, file.path(dir, "config.yaml"))
    write.csv(studies, file.path(dir, "data", "raw", "studies.csv"), row.names = FALSE, na = "")
    for (cond in names(outcomes)) {
      o <- outcomes[[cond]]
      keep <- vapply(names(o), function(n) n %in% c("study_id", "outcome", "timepoint_weeks", "exp_n", "ctl_n") ||
                       !all(is.na(o[[n]])), TRUE)
      o <- o[, keep, drop = FALSE]
      write.csv(o, file.path(dir, "data", "raw", "outcomes", paste0(cond, ".csv")), row.names = FALSE, na = "")
    }
  }
  `%||%` <- function(a, b) if (is.null(a)) b else a
  OUT_COLS <- c("study_id", "outcome", "timepoint_weeks", "exp_n", "ctl_n",
                "exp_mean", "exp_sd", "ctl_mean", "ctl_sd", "exp_se", "ctl_se",
                "exp_ci_low", "exp_ci_high", "ctl_ci_low", "ctl_ci_high",
                "exp_median", "exp_q1", "exp_q3", "exp_min", "exp_max",
                "ctl_median", "ctl_q1", "ctl_q3", "ctl_min", "ctl_max",
                "exp_events", "ctl_events",
                "effect", "effect_se", "effect_ci_low", "effect_ci_high", "effect_measure",
                "scale_min", "scale_max", "higher_is_better")
  outcome_frame <- function(rows) {
    # rows: list of named lists
    df <- as.data.frame(setNames(replicate(length(OUT_COLS), rep(NA, length(rows)), simplify = FALSE), OUT_COLS))
    for (i in seq_along(rows)) for (n in names(rows[[i]])) {
      if (!n %in% OUT_COLS) stop("unknown column ", n)
      df[i, n] <- rows[[i]][[n]]
    }
    df
  }
  SYN <- "SYNTHETIC test data - not a real trial"
  syn_studies <- function(ids, years, extra = NULL) {
    s <- data.frame(study_id = ids, label = paste(tools::toTitleCase(sub("-.*", "", ids)), years),
                    year = years, design = "parallel", route = "iv", comparator = "placebo",
                    dose_mg_kg = NA, sessions = NA, risk_of_bias = NA, doi = NA, pmid = NA, citation = SYN)
    if (!is.null(extra)) s <- cbind(s, extra)
    s
  }

  ## --- bcg (dat.bcg), and sens (same data, extra subgroup 'era')
  b <- dat.bcg
  bcg_ids <- sprintf("t%02d-%s-%d", b$trial, slug(b$author), b$year)
  bcg_studies <- data.frame(study_id = bcg_ids, label = paste(b$author, b$year), year = b$year,
                            design = "parallel", route = NA, comparator = "no vaccination",
                            dose_mg_kg = NA, sessions = NA, risk_of_bias = NA, doi = NA, pmid = NA,
                            citation = paste0(b$author, " ", b$year, "; as tabulated in Colditz et al. (1994) JAMA 271:698-702 (metafor/metadat dat.bcg)"),
                            ablat = b$ablat, alloc = b$alloc)
  bcg_out <- outcome_frame(lapply(seq_len(nrow(b)), function(i) list(
    study_id = bcg_ids[i], outcome = "tb_positive", timepoint_weeks = 0,
    exp_n = b$tpos[i] + b$tneg[i], ctl_n = b$cpos[i] + b$cneg[i],
    exp_events = b$tpos[i], ctl_events = b$cpos[i])))
  bcg_src <- "metafor/metadat dat.bcg: Colditz, G. A., Brewer, T. F., Berkey, C. S., Wilson, M. E., Burdick, E., Fineberg, H. V., & Mosteller, F. (1994). Efficacy of BCG vaccine in the prevention of tuberculosis: Meta-analysis of the published literature. JAMA, 271(9), 698-702. https://doi.org/10.1001/jama.1994.03510330076038"
  write_case("bcg", list(binary = "RR", subgroups = "alloc", moderators = c("ablat", "year")),
             bcg_studies, list(tuberculosis = bcg_out), bcg_src)
  sens_studies <- bcg_studies
  sens_studies$era <- ifelse(b$year < 1950, "1940s", ifelse(b$year < 1960, "1950s", "1960_onward"))
  write_case("sens", list(binary = "RR", subgroups = c("alloc", "era"), moderators = c("ablat", "year")),
             sens_studies, list(tuberculosis = bcg_out),
             paste(bcg_src, "| column 'era' derived from year (<1950, 1950s, >=1960) for this test."))

  ## --- normand (dat.normand1999), and level90
  nd <- dat.normand1999
  n_ids <- sprintf("s%d-%s", nd$study, slug(nd$source))
  n_studies <- data.frame(study_id = n_ids, label = nd$source, year = 1999, design = "parallel",
                          route = NA, comparator = "routine care", dose_mg_kg = NA, sessions = NA,
                          risk_of_bias = NA, doi = NA, pmid = NA,
                          citation = paste0(nd$source, "; as tabulated in Normand (1999) Stat Med 18:321-359 (metafor/metadat dat.normand1999)"))
  n_out <- outcome_frame(lapply(seq_len(nrow(nd)), function(i) list(
    study_id = n_ids[i], outcome = "length_of_stay_days", timepoint_weeks = 0,
    exp_n = nd$n1i[i], exp_mean = nd$m1i[i], exp_sd = nd$sd1i[i],
    ctl_n = nd$n2i[i], ctl_mean = nd$m2i[i], ctl_sd = nd$sd2i[i])))
  n_src <- "metafor/metadat dat.normand1999: Normand, S. T. (1999). Meta-analysis: Formulating, evaluating, combining, and reporting. Statistics in Medicine, 18(3), 321-359. https://doi.org/10.1002/(SICI)1097-0258(19990215)18:3<321::AID-SIM28>3.0.CO;2-P (year column: 1999 placeholder = year of the review, the dataset has no per-study years)"
  write_case("normand", list(continuous = "MD"), n_studies, list(stroke = n_out), n_src)
  write_case("level90", list(continuous = "MD", level = 0.9), n_studies, list(stroke = n_out),
             paste(n_src, "| same data as 'normand', level 0.90"))

  ## --- nielweise2007 (zero cells, one double zero: Yucel 2004)
  nw <- dat.nielweise2007
  nw_ids <- sprintf("s%02d-%s-%d", nw$study, slug(nw$author), nw$year)
  nw_studies <- data.frame(study_id = nw_ids, label = paste(nw$author, nw$year), year = nw$year,
                           design = "parallel", route = NA, comparator = "standard catheter",
                           dose_mg_kg = NA, sessions = NA, risk_of_bias = NA, doi = NA, pmid = NA,
                           citation = paste0(nw$author, " ", nw$year, "; as tabulated in Niel-Weise et al. (2007) Intensive Care Med 33:2058-2068 (metafor/metadat dat.nielweise2007)"))
  nw_out <- outcome_frame(lapply(seq_len(nrow(nw)), function(i) list(
    study_id = nw_ids[i], outcome = "crbsi", timepoint_weeks = 0,
    exp_n = nw$n1i[i], exp_events = nw$ai[i], ctl_n = nw$n2i[i], ctl_events = nw$ci[i])))
  write_case("nielweise2007", list(binary = "RR"), nw_studies, list(catheter_infection = nw_out),
             "metafor/metadat dat.nielweise2007: Niel-Weise, B. S., Stijnen, T., & van den Broek, P. J. (2007). Anti-infective-treated central venous catheters: A systematic review of randomized controlled trials. Intensive Care Medicine, 33(12), 2058-2068. https://doi.org/10.1007/s00134-007-0897-3")

  ## --- sens_continuous (dat.bangertdrowns2004, generic SMD rows)
  bd <- dat.bangertdrowns2004
  bd_ids <- sprintf("s%02d-%s-%d", bd$id, slug(bd$author), bd$year)
  grade_lab <- c("elementary", "middle", "high_school", "college")[bd$grade]
  bd_studies <- data.frame(study_id = bd_ids, label = paste(bd$author, bd$year), year = bd$year,
                           design = "parallel", route = NA, comparator = "conventional instruction",
                           dose_mg_kg = NA, sessions = NA, risk_of_bias = NA, doi = NA, pmid = NA,
                           citation = paste0(bd$author, " ", bd$year, "; as tabulated in Bangert-Drowns et al. (2004) Rev Educ Res 74:29-58 (metafor/metadat dat.bangertdrowns2004)"),
                           grade = grade_lab, meta = ifelse(is.na(bd$meta), NA, ifelse(bd$meta == 1, "yes", "no")),
                           length_weeks = bd$length)
  bd_out <- outcome_frame(lapply(seq_len(nrow(bd)), function(i) list(
    study_id = bd_ids[i], outcome = "achievement", timepoint_weeks = 0,
    effect = bd$yi[i], effect_se = sqrt(bd$vi[i]), effect_measure = "SMD")))
  write_case("sens_continuous", list(continuous = "SMD", subgroups = c("grade", "meta"),
                                     moderators = c("length_weeks", "year")),
             bd_studies, list(writing_to_learn = bd_out),
             "metafor/metadat dat.bangertdrowns2004: Bangert-Drowns, R. L., Hurley, M. M., & Wilkinson, B. (2004). The effects of school-based writing-to-learn interventions on academic achievement: A meta-analysis. Review of Educational Research, 74(1), 29-58. https://doi.org/10.3102/00346543074001029 (yi/vi given; shipped as generic rows effect = yi, effect_se = sqrt(vi))")

  ## --- synthetic_mixed (+ _smd)
  P <- list(outcome = "pain_intensity", timepoint_weeks = 1)
  NRS <- list(scale_min = 0, scale_max = 10); VAS <- list(scale_min = 0, scale_max = 100)
  mixed_rows <- list(
    c(list(study_id = "alpha-2015"), P, NRS, list(exp_n = 30, exp_mean = 3.1, exp_sd = 2.0, ctl_n = 28, ctl_mean = 5.6, ctl_sd = 2.2)),
    c(list(study_id = "bravo-2016"), P, VAS, list(exp_n = 24, exp_mean = 38, exp_sd = 21, exp_se = 9.9, ctl_n = 25, ctl_mean = 52, ctl_sd = 19)),
    c(list(study_id = "charlie-2017"), P, NRS, list(exp_n = 40, exp_mean = 4.5, exp_se = 0.42, ctl_n = 41, ctl_mean = 5.1, ctl_se = 0.40)),
    c(list(study_id = "delta-2018"), P, VAS, list(exp_n = 20, exp_mean = 31, exp_ci_low = 23.5, exp_ci_high = 38.5, ctl_n = 19, ctl_mean = 55, ctl_ci_low = 47.0, ctl_ci_high = 63.0)),
    c(list(study_id = "echo-2019"), P, NRS, list(exp_n = 35, exp_median = 4, exp_q1 = 2.5, exp_q3 = 5.8, ctl_n = 33, ctl_median = 5.5, ctl_q1 = 4, ctl_q3 = 7)),
    c(list(study_id = "foxtrot-2020"), P, VAS, list(exp_n = 26, exp_median = 30, exp_min = 3, exp_max = 62, ctl_n = 26, ctl_median = 50, ctl_min = 12, ctl_max = 92)),
    c(list(study_id = "golf-2021"), P, NRS, list(exp_n = 45, exp_min = 0.5, exp_q1 = 2.8, exp_median = 4.0, exp_q3 = 5.5, exp_max = 8.5,
                                                  ctl_n = 44, ctl_min = 1.5, ctl_q1 = 4.2, ctl_median = 5.6, ctl_q3 = 7.0, ctl_max = 9.8)),
    c(list(study_id = "hotel-2022"), P, VAS, list(exp_n = 15, exp_mean = 44, exp_sd = 18, ctl_n = 16, ctl_mean = 49, ctl_se = 5.1)))
  mixed_out <- outcome_frame(mixed_rows)
  mixed_st <- syn_studies(mixed_out$study_id, c(2015:2022),
                          data.frame(dose_group = c("low", "high", "low", "high", "low", "high", "high", "low"),
                                     dose = c(0.15, 0.5, 0.2, 0.5, 0.1, 0.35, 0.5, 0.25)))
  mixed_st$dose_mg_kg <- mixed_st$dose; mixed_st$dose <- NULL
  mixed_st$risk_of_bias <- c("low", "some", "low", "high", "some", "low", "some", "high")
  mixed_st$sessions <- c(1, 1, 3, 1, 6, 1, 2, 1)
  write_case("synthetic_mixed", list(continuous = "MD", harmonize_scale_to = 10,
                                     subgroups = c("dose_group", "risk_of_bias"), moderators = c("dose_mg_kg")),
             mixed_st, list(crps = mixed_out),
             "SYNTHETIC: invented ketamine-like pain trials mixing SD / SE / CI / median+IQR / median+range / five-number reporting on NRS 0-10 and VAS 0-100.")
  write_case("synthetic_mixed_smd", list(continuous = "SMD", harmonize_scale_to = NULL),
             mixed_st, list(crps = mixed_out),
             "SYNTHETIC: same data as synthetic_mixed, measure SMD, no harmonization.")

  ## --- synthetic_generic (binary + generic RR rows)
  A <- list(outcome = "ae_nausea", timepoint_weeks = 0)
  gen_rows <- list(
    c(list(study_id = "india-2014"), A, list(exp_n = 40, exp_events = 12, ctl_n = 41, ctl_events = 6)),
    c(list(study_id = "juliet-2015"), A, list(exp_n = 30, exp_events = 8, ctl_n = 30, ctl_events = 5)),
    c(list(study_id = "kilo-2016"), A, list(exp_n = 25, exp_events = 0, ctl_n = 24, ctl_events = 3)),
    c(list(study_id = "lima-2017"), A, list(effect = 1.85, effect_ci_low = 0.92, effect_ci_high = 3.72, effect_measure = "RR")),
    c(list(study_id = "mike-2018"), A, list(effect = 4.4, effect_ci_low = 2.0, effect_ci_high = 9.7, effect_measure = "RR")),
    c(list(study_id = "november-2019"), A, list(effect = 0.8, effect_se = 0.28, effect_measure = "RR")),
    c(list(study_id = "oscar-2020"), A, list(effect = 1.6, effect_se = 0.35, effect_ci_low = 0.5, effect_ci_high = 5.0, effect_measure = "RR")))
  gen_out <- outcome_frame(gen_rows)
  write_case("synthetic_generic", list(binary = "RR"), syn_studies(gen_out$study_id, 2014:2020),
             list(depression = gen_out),
             "SYNTHETIC: 3 arm-level binary rows (one with a zero cell) and 4 generic RR rows (CI only, SE only, SE and CI).")

  ## --- k1, k2
  K <- list(outcome = "pain_intensity", timepoint_weeks = 2)
  k2_out <- outcome_frame(list(
    c(list(study_id = "papa-2019"), K, list(exp_n = 22, exp_mean = 3.9, exp_sd = 1.8, ctl_n = 21, ctl_mean = 5.2, ctl_sd = 2.1)),
    c(list(study_id = "quebec-2021"), K, list(exp_n = 35, exp_mean = 4.6, exp_sd = 2.3, ctl_n = 33, ctl_mean = 4.9, ctl_sd = 2.0))))
  write_case("k2", list(continuous = "MD"), syn_studies(k2_out$study_id, c(2019, 2021)), list(pain = k2_out),
             "SYNTHETIC: two continuous studies (k = 2).")
  k1_out <- outcome_frame(list(
    c(list(study_id = "romeo-2020"), K, list(exp_n = 18, exp_mean = 3.5, exp_sd = 1.9, ctl_n = 19, ctl_mean = 5.0, ctl_sd = 2.2))))
  write_case("k1", list(continuous = "MD"), syn_studies(k1_out$study_id, 2020), list(pain = k1_out),
             "SYNTHETIC: a single continuous study (k = 1).")

  ## --- tau2_zero (identical MDs: every estimator gives tau2 = 0), homogeneous (near-identical)
  tz_out <- outcome_frame(list(
    c(list(study_id = "sierra-2016"), K, list(exp_n = 30, exp_mean = 4.0, exp_sd = 2.0, ctl_n = 30, ctl_mean = 5.5, ctl_sd = 2.1)),
    c(list(study_id = "tango-2017"), K, list(exp_n = 45, exp_mean = 3.25, exp_sd = 1.7, ctl_n = 44, ctl_mean = 4.75, ctl_sd = 1.9)),
    c(list(study_id = "uniform-2018"), K, list(exp_n = 25, exp_mean = 4.5, exp_sd = 2.4, ctl_n = 27, ctl_mean = 6.0, ctl_sd = 2.2)),
    c(list(study_id = "victor-2019"), K, list(exp_n = 60, exp_mean = 5.0, exp_sd = 2.2, ctl_n = 58, ctl_mean = 6.5, ctl_sd = 2.0))))
  write_case("tau2_zero", list(continuous = "MD"), syn_studies(tz_out$study_id, 2016:2019), list(pain = tz_out),
             "SYNTHETIC: four studies with exactly the same mean difference (-1.5), so every tau2 estimator gives 0.")
  hm_out <- outcome_frame(list(
    c(list(study_id = "whiskey-2015"), K, list(exp_n = 30, exp_mean = 4.0, exp_sd = 2.0, ctl_n = 30, ctl_mean = 5.4, ctl_sd = 2.1)),
    c(list(study_id = "xray-2016"), K, list(exp_n = 45, exp_mean = 3.3, exp_sd = 1.7, ctl_n = 44, ctl_mean = 4.8, ctl_sd = 1.9)),
    c(list(study_id = "yankee-2017"), K, list(exp_n = 25, exp_mean = 4.5, exp_sd = 2.4, ctl_n = 27, ctl_mean = 5.95, ctl_sd = 2.2)),
    c(list(study_id = "zulu-2018"), K, list(exp_n = 60, exp_mean = 5.0, exp_sd = 2.2, ctl_n = 58, ctl_mean = 6.55, ctl_sd = 2.0)),
    c(list(study_id = "alpha2-2019"), K, list(exp_n = 40, exp_mean = 4.2, exp_sd = 2.1, ctl_n = 40, ctl_mean = 5.72, ctl_sd = 2.0))))
  write_case("homogeneous", list(continuous = "MD"), syn_studies(hm_out$study_id, 2015:2019), list(pain = hm_out),
             "SYNTHETIC: five near-identical mean differences (Q far below its df): tau2 = 0 except for SJ, Q-profile CI [0, 0].")

  ## --- higher_better
  H <- list(outcome = "function_score", timepoint_weeks = 4, higher_is_better = "true")
  hb_out <- outcome_frame(list(
    c(list(study_id = "bravo2-2015"), H, list(exp_n = 28, exp_mean = 62, exp_sd = 14, ctl_n = 27, ctl_mean = 55, ctl_sd = 15)),
    c(list(study_id = "charlie2-2016"), H, list(exp_n = 40, exp_mean = 58, exp_sd = 12, ctl_n = 42, ctl_mean = 54, ctl_sd = 13)),
    c(list(study_id = "delta2-2017"), H, list(exp_n = 22, exp_mean = 70, exp_sd = 16, ctl_n = 20, ctl_mean = 57, ctl_sd = 17)),
    c(list(study_id = "echo2-2018"), H, list(exp_n = 50, exp_mean = 51, exp_sd = 11, ctl_n = 49, ctl_mean = 50, ctl_sd = 12)),
    c(list(study_id = "foxtrot2-2019"), H, list(exp_n = 35, exp_mean = 66, exp_sd = 13, ctl_n = 36, ctl_mean = 56, ctl_sd = 14))))
  write_case("higher_better", list(continuous = "MD"), syn_studies(hb_out$study_id, 2015:2019), list(function_score = hb_out),
             "SYNTHETIC: continuous outcome where higher is better (higher_is_better = true on every row).")

  ## --- rd_double_zero
  R <- list(outcome = "ae_serious", timepoint_weeks = 0)
  rd_out <- outcome_frame(list(
    c(list(study_id = "golf2-2014"), R, list(exp_n = 50, exp_events = 3, ctl_n = 50, ctl_events = 8)),
    c(list(study_id = "hotel2-2015"), R, list(exp_n = 40, exp_events = 0, ctl_n = 42, ctl_events = 0)),
    c(list(study_id = "india2-2016"), R, list(exp_n = 60, exp_events = 1, ctl_n = 58, ctl_events = 4)),
    c(list(study_id = "juliet2-2017"), R, list(exp_n = 35, exp_events = 0, ctl_n = 36, ctl_events = 2)),
    c(list(study_id = "kilo2-2018"), R, list(exp_n = 80, exp_events = 5, ctl_n = 79, ctl_events = 9))))
  write_case("rd_double_zero", list(binary = "RD"), syn_studies(rd_out$study_id, 2014:2018), list(safety = rd_out),
             "SYNTHETIC: binary with one double-zero study (kept for RD, excluded for RR) and one single-zero study.")
  message("cases written to ", CASES_DIR)
}

## ================================================================= main ====

args <- commandArgs(trailingOnly = TRUE)
if ("--build-cases" %in% args) build_cases()
cases <- setdiff(args, "--build-cases")
if (length(cases) == 0) cases <- sort(list.dirs(CASES_DIR, full.names = FALSE, recursive = FALSE))
for (case in cases) run_case(case)
