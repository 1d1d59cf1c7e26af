# Reference confidence intervals from real lme4 for tests/engine/test_confint.py.
#
#   cd tests/data/lme4_confint && Rscript make_reference.R
#
# Writes penicillin.csv and cake.csv (lme4's data sets, small) and lme4_confint.json:
# for every model, confint(fit, method = "profile") and confint(fit, method = "Wald") with
# oldNames = FALSE, at level 0.95 (and a few other levels for one model), plus the fit
# itself (fixef, SEs, objective, theta, SDs, sigma), any warnings lme4 gave, and each table as
# print() shows it (for the CLI's R-style printing).
suppressPackageStartupMessages({library(lme4); library(jsonlite)})

write.csv(Penicillin, "penicillin.csv", row.names = FALSE)
write.csv(cake[, c("replicate", "recipe", "temperature", "angle", "temp")], "cake.csv", row.names = FALSE)
gpa <- read.csv("../../../datasets/gpa.csv")
gpa$student <- factor(gpa$student)

models <- list(
  list(id = "sleep_corr", data = "sleepstudy", formula = "Reaction ~ Days + (Days | Subject)", reml = TRUE,
       levels = c(0.95, 0.9, 0.99)),
  list(id = "sleep_corr_ml", data = "sleepstudy", formula = "Reaction ~ Days + (Days | Subject)", reml = FALSE),
  list(id = "sleep_diag", data = "sleepstudy", formula = "Reaction ~ Days + (Days || Subject)", reml = TRUE),
  list(id = "sleep_ri", data = "sleepstudy", formula = "Reaction ~ Days + (1 | Subject)", reml = TRUE),
  list(id = "penicillin_ml", data = "penicillin", formula = "diameter ~ 1 + (1 | plate) + (1 | sample)",
       reml = FALSE),
  list(id = "gpa_cat", data = "gpa", formula = "gpa ~ occasion + sex + (1 | student)", reml = TRUE),
  list(id = "cake", data = "cake", formula = "angle ~ recipe * temperature + (1 | recipe:replicate)",
       reml = TRUE),
  list(id = "sleep_quad", data = "sleepstudy_quad", formula = "Reaction ~ Days + D2 + (Days + D2 | Subject)",
       reml = TRUE),
  list(id = "gpa_slope", data = "gpa", formula = "gpa ~ occasion + sex + (1 + occasion | student)", reml = TRUE),
  list(id = "iris_slope", data = "iris", formula = "Sepal.Length ~ Petal.Length + (Petal.Length | Species)",
       reml = TRUE),
  list(id = "boundary_ri", data = "boundary", formula = "y ~ x + (1 | g)", reml = TRUE)
)
frames <- list(sleepstudy = sleepstudy, sleepstudy_quad = transform(sleepstudy, D2 = (Days - 4.5)^2 / 10), penicillin = Penicillin, cake = cake, iris = iris, gpa = gpa,
               boundary = transform(read.csv("../lme4_extra/boundary.csv"), g = factor(g)))

table_of <- function(ci) list(names = rownames(ci), columns = colnames(ci),
                              lower = unname(ci[, 1]), upper = unname(ci[, 2]))

with_warnings <- function(expr) {
  msgs <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning")})
  list(value = value, warnings = unique(msgs))
}

out <- list()
for (m in models) {
  cat(m$id, "\n")
  fit <- lmer(as.formula(m$formula), frames[[m$data]], REML = m$reml)
  levels <- if (is.null(m$levels)) 0.95 else m$levels
  entry <- list(id = m$id, data = m$data, formula = m$formula, reml = m$reml,
                fixef = as.list(fixef(fit)), fixef_se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
                objective = unname(if (m$reml) REMLcrit(fit) else deviance(fit)),
                theta = unname(getME(fit, "theta")), sigma = sigma(fit),
                sd = as.data.frame(VarCorr(fit))$sdcor, singular = isSingular(fit),
                profile = list(), wald = list(), warnings = character(0))
  for (lv in levels) {
    key <- format(lv)
    t0 <- Sys.time()
    p <- with_warnings(suppressMessages(confint(fit, method = "profile", level = lv, oldNames = FALSE)))
    entry$profile[[key]] <- table_of(p$value)
    entry$profile[[key]]$printed <- capture.output(print(p$value))
    entry$profile_seconds <- as.numeric(Sys.time() - t0, units = "secs")
    entry$warnings <- unique(c(entry$warnings, p$warnings))
    wald <- confint(fit, method = "Wald", level = lv, oldNames = FALSE)
    entry$wald[[key]] <- table_of(wald)
    entry$wald[[key]]$printed <- capture.output(print(wald))
  }
  out[[m$id]] <- entry
}
# Checks with lme4's own deviance where lme4 warned and its interval differs from this
# project's (see tests/engine/test_confint.py). Each point holds one parameter at the bound
# lme4 reports and gives values for the others (found by lmm_core's profiler); lme4's
# deviance there minus its minimum is below qchisq(0.95, 1) = 3.8415, so lme4's reported
# bound lies strictly inside the 95 % profile region: the profile interval is wider.
# Variance parameters: lme4's devfun2 (the profiling deviance on the SD/cor/sigma scale);
# fixed effects: an ML refit with the coefficient as an offset, started at the given theta.
checks <- list(
  list(model = "iris_slope", parameter = "sd_Petal.Length|Species", side = "lower",
       at = c(0.8194208308118655, -1, 0.0771530007731581, 0.33420797548997566)),
  list(model = "boundary_ri", parameter = "sigma", side = "lower", at = c(0.11658817, 0.826774230463404)),
  list(model = "boundary_ri", parameter = "(Intercept)", side = "lower", value = 0.809154888912478,
       theta = 0.12671829),
  list(model = "boundary_ri", parameter = "(Intercept)", side = "upper", value = 1.37406252558745,
       theta = 0.14342461)
)
check_out <- list()
for (ck in checks) {
  m <- Filter(function(m) m$id == ck$model, models)[[1]]
  fm <- refitML(suppressMessages(lmer(as.formula(m$formula), frames[[m$data]], REML = m$reml)))
  dd <- lme4:::devfun2(fm, useSc = TRUE, signames = FALSE)
  base <- attr(dd, "basedev")
  if (!is.null(ck$at)) {
    dev <- unname(dd(ck$at))
  } else {  # y ~ x + (1 | g) with the intercept held: y ~ 0 + x + (1 | g) with an offset
    fr <- frames[[m$data]]
    refit <- suppressMessages(lmer(y ~ 0 + x + (1 | g), fr, REML = FALSE, offset = rep(ck$value, nrow(fr)),
                                   start = list(theta = ck$theta)))
    dev <- deviance(refit)
  }
  ck$deviance_minus_minimum <- dev - base
  ck$reported <- out[[ck$model]]$profile[["0.95"]][[ck$side]][match(ck$parameter, out[[ck$model]]$profile[["0.95"]]$names)]
  check_out[[length(check_out) + 1]] <- ck
}
out$`_checks` <- check_out
out$`_about` <- list(lme4 = as.character(packageVersion("lme4")), R = R.version.string,
                     profile_seconds = "wall time of each model's profile confint(), at the load below",
                     load_average = if (file.exists("/proc/loadavg")) readLines("/proc/loadavg") else NA,
                     made_with = "tests/data/lme4_confint/make_reference.R")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), "lme4_confint.json")
