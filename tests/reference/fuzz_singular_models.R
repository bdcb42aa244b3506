# metafor on the two singular models found by make fuzz (2026-11-22); run by hand:
#   Rscript tests/reference/fuzz_singular_models.R
# Expected (metafor 3.8-1): the time model and every meta-regression stop with an error;
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
