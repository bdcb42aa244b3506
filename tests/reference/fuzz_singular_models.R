# metafor on the two singular models found by make fuzz (2026-11-22); run by hand:
#   Rscript tests/reference/fuzz_singular_models.R
# Expected (metafor 3.8-1): the time model and every meta-regression stop with an error, and
# rma.mh of the last block gives NA;
# the overall three-level model fits (values asserted in tests/unit/test_multilevel.py).
suppressMessages(library(metafor))
yi <- c(-1.5645571923148431, -1.1, 3.3295491136572135, 0, 0.07995748768473455, -1.1, 0, -3.267782013324874, -1.2706425103009038)
vi <- c(0.09, 400, 4, 4, 0.09, 2.4999999999999961e-03, 1.0000000000000625e-10, 4.0000000000000018e+00, 9.9999999999782765e-11)
study <- c('0','7kj','7kj','na','o5','o5','o_f822qs7','o_f822qs7','odn_a430g')
x <- c(-1.9459111490558132,-1.9459111490558132,-1.9459104490553585,-1.9459111490558132,-1.9459111490558132,-1.9459104490553585,-1.9459111490558132,-1.9459104490553585,-1.9459111490558132)
es <- seq_along(yi)
r <- tryCatch(rma.mv(yi, vi, mods=~x, random=~1|study/es, method="REML"), error=function(e) e)
print(r)
r0 <- tryCatch(rma.mv(yi, vi, random=~1|study/es, method="REML"), error=function(e) e)
print(r0)
print(sprintf("%.12g", c(coef(r0), r0$se, r0$sigma2)))

suppressMessages(library(metafor))
yi <- c(-1.5873724797492124, 2.4557953084969046, 0)
vi <- c(400, 2.5000000000000005e-03, 1.0000000000000002e-10)
x <- c(1997, 2016, 2016)
for (m in c("PM","DL","REML")) {
r <- tryCatch(rma(yi, vi, mods=~x, method=m), error=function(e) e)
print(m); if (inherits(r, "error")) print(conditionMessage(r)) else print(sprintf("%.12g", c(coef(r), r$se, r$tau2)))
}

# Mantel-Haenszel RR and OR with no experimental events in any study (make fuzz, 2026-11-22):
# metafor gives NA for the estimate, its SE and CI; metareview falls back to RevMan's
# zero-cell correction (tests/unit/test_mantel_haenszel.py).
for (m in c("RR", "OR")) {
r <- rma.mh(ai=c(0,0), n1i=c(2,1e6), ci=c(1e5,22), n2i=c(1e5,40), measure=m)
print(m); print(c(coef(r), r$se))
}

# Trim-and-fill's side regression (yi on sqrt(vi)) with a variance of 7.61e-12 next to ~0.3
# (an arm of 10^12 participants, found by probing): metareview's REML Fisher scoring looped
# for ever (tr P² cancelled to 0). tau² by every estimator, asserted in test_engine.py:
yi <- c(-1.5, -1.6999999999999997, -1.0999999999999996, -1.0)
vi <- c(7.61e-12, 0.33640000000000014, 0.48042330083965057, 0.3089908408338597)
for (m in c("REML","ML","EB","PM","DL","HE","SJ","HS")) {
r <- rma(yi, vi, mods=~sqrt(vi), method=m)
print(c(m, sprintf("%.12g", c(r$tau2, coef(r)))))
}

# A meta-regression invertible in floating point but rank deficient by qr's tolerance (make
# fuzz, 2026-11-22): rma stops with "singular matrix 'a' in solve" for PM, REML and DL.
yi <- c(0.0, 0.2054964137677286, 0.0); vi <- c(4.0, 0.09, 1.0000000000000625e-10)
x <- c(1990, 1994, 1994)
for (m in c("PM", "REML", "DL")) {
r <- tryCatch(rma(yi, vi, mods=~x, method=m, test="knha"), error=function(e) e)
print(m); print(if (inherits(r, "error")) conditionMessage(r) else coef(r))
}

# Mantel-Haenszel RD where only one table enters Q (the other has all events in both arms;
# make fuzz, 2026-11-22): rma.mh gives Q = 0, p = 1, I2 = 0, H2 = 1 (k.yi = 1), asserted in
# tests/unit/test_mantel_haenszel.py; metareview had Q = 79,284 on 0 df and an empty H2.
r <- suppressWarnings(rma.mh(ai=c(400,1e5), n1i=c(400,1e5), ci=c(400,0), n2i=c(400,1e12), measure="RD"))
print(sprintf("%.15g", c(coef(r), r$se, r$QE, r$QEp, r$I2, r$H2, r$k.yi)))

# Binomial-normal GLMM (UM.FS) whose numerical Hessian at the optimum is exactly singular (arms
# of 10^6 to 10^12 participants; make fuzz, 2026-11-22): rma.glmm stops with "Cannot fit ML
# model"; metareview reports the SE not estimable (tests/unit/test_glmm.py), it raised
# LinAlgError in rule analyse_repeated.
ai <- c(0,0,0,1,792); n1i <- c(2,3,10,400,1e12); ci <- c(0,0,846,5474,1); n2i <- c(3,40,1e6,1e9,400)
r <- tryCatch(rma.glmm(measure="OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, model="UM.FS"), error=function(e) e)
if (inherits(r, "error")) print(conditionMessage(r)) else print(sprintf("%.10g", c(coef(r), r$se, r$tau2)))

# Two studies where one weight dwarfs the other (variances 1e-12 and 1e5, effects 418 apart;
# found while fixing a make fuzz case, 2026-11-23). metafor 3.8-1 warns "Ratio of largest to
# smallest sampling variance extremely large" and its numbers lose digits: QE 1.311057075
# (exact: 1.7480761), DL tau2 31105.7075 and I2 23.73% (DL) / 27.22% (REML, tau2 37403.805).
# metareview gives the exact values (Q 1.7480761, DL tau2 37403.805, I2 42.79%, H2 1.748),
# asserted against Fractions in tests/unit/test_pooling.py: a deliberate deviation.
yi <- c(400.0, -18.1); vi <- c(1e-12, 1e5)
for (m in c("DL", "REML", "PM", "SJ")) {
r <- rma(yi, vi, method=m)
print(c(m, sprintf("%.15g", c(coef(r), r$se, r$tau2, r$QE, r$I2, r$H2))))
}
