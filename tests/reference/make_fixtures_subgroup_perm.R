# Exact permutation p-values of the test for subgroup differences, computed with metafor
# (Rscript tests/reference/make_fixtures_subgroup_perm.R, from the repository root).
#
# The statistic is the workflow's: each subgroup pooled on its own (rma, its own tau2), then
# Q between = sum w_j (theta_j - theta_bar)^2 with w_j = 1 / se_j^2. metafor's permutest()
# permutes a mixed-effects model with one common tau2, a different statistic, so the
# permutation is done here by enumerating every distinct assignment of the subgroup labels to
# the studies (an exact test, no Monte Carlo error) and refitting with rma() each time.
# p = share of assignments with Q >= Q_observed - sqrt(eps) (metafor's comptol).
# SYNTHETIC data (seeded); not from any study.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
TIGHT <- list(threshold = 1e-12, maxiter = 1000)

q_between <- function(yi, vi, labels, method, test) {
  fits <- lapply(sort(unique(labels)), function(l) {
    r <- rma(yi[labels == l], vi[labels == l], method = method, test = test, control = TIGHT)
    c(r$beta[1], r$se)
  })
  est <- sapply(fits, `[`, 1); se <- sapply(fits, `[`, 2)
  w <- 1 / se^2
  sum(w * (est - sum(w * est) / sum(w))^2)
}

# every distinct assignment of the multiset of labels to positions 1..k
assignments <- function(labels) {
  levels <- sort(unique(labels)); k <- length(labels)
  out <- list()
  rec <- function(free, lv, current) {
    if (lv > length(levels)) { out[[length(out) + 1]] <<- current; return(invisible()) }
    n <- sum(labels == levels[lv])
    sets <- if (n == length(free)) list(free) else combn(free, n, simplify = FALSE)
    for (s in sets) {
      nxt <- current; nxt[s] <- levels[lv]
      rec(setdiff(free, s), lv + 1, nxt)
    }
  }
  rec(seq_len(k), 1, rep(NA_character_, k))
  out
}

make_case <- function(name, seed, sizes, shift) {
  set.seed(seed)
  labels <- rep(c("a", "b", "c")[seq_along(sizes)], sizes)
  k <- length(labels)
  vi <- round(runif(k, 0.01, 0.2), 4)
  yi <- round(rnorm(k, 0.2 + shift * (labels == "b"), sqrt(0.03 + vi)), 4)
  all <- assignments(labels)
  results <- list()
  for (method in c("REML", "DL")) for (test in c("z", "knha")) {
    obs <- q_between(yi, vi, labels, method, test)
    qs <- sapply(all, function(l) q_between(yi, vi, l, method, test))
    results[[length(results) + 1]] <- list(
      tau2_method = method, ci_method = if (test == "knha") "hksj" else "z",
      q_between = obs, p_value = mean(qs >= obs - sqrt(.Machine$double.eps)),
      n_perm = length(qs))
  }
  list(name = name, yi = yi, vi = vi, group = labels, results = results)
}

cases <- list(
  make_case("two_groups_4_4", 11, c(4, 4), 0.4),
  make_case("three_groups_3_3_3", 12, c(3, 3, 3), 0.3)
)
out <- list(source = paste("metafor", packageVersion("metafor"), "rma() per subgroup,",
                           "exact enumeration of label assignments"), cases = cases)
writeLines(toJSON(out, digits = I(15), auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/subgroup_perm/expected.json")
