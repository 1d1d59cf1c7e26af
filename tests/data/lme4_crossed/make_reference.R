# Reference fits of lme4 for the engine's multi-factor (crossed and nested) path.
# Needs R with lme4 and jsonlite (Debian: apt-get install r-base-core r-cran-lme4 r-cran-jsonlite).
# Usage (from this folder): Rscript make_reference.R
# Writes lme4_crossed.json and the data as CSV files (InstEval gzipped) so the tests need no R.
suppressMessages({library(lme4); library(jsonlite)})
models <- list(
  pastes        = list(data = "Pastes", formula = "strength ~ 1 + (1 | batch) + (1 | batch:cask)", reml = TRUE),
  pastes_nested = list(data = "Pastes", formula = "strength ~ 1 + (1 | batch/cask)", reml = TRUE),
  pastes_ml     = list(data = "Pastes", formula = "strength ~ 1 + (1 | batch) + (1 | batch:cask)", reml = FALSE),
  penicillin    = list(data = "Penicillin", formula = "diameter ~ 1 + (1 | plate) + (1 | sample)", reml = TRUE),
  penicillin_ml = list(data = "Penicillin", formula = "diameter ~ 1 + (1 | plate) + (1 | sample)", reml = FALSE),
  insteval      = list(data = "InstEval", formula = "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", reml = TRUE)
)
files <- c(Pastes = "pastes.csv", Penicillin = "penicillin.csv", InstEval = "insteval.csv.gz")
for (name in names(files)) {
  d <- get(name, envir = asNamespace("lme4"))
  cols <- switch(name, Pastes = c("strength", "batch", "cask", "sample"),
                 Penicillin = c("diameter", "plate", "sample"), InstEval = c("y", "service", "s", "d", "dept"))
  d <- d[, cols]
  out <- if (grepl("gz$", files[[name]])) gzfile(files[[name]], "w") else files[[name]]
  write.csv(d, out, row.names = FALSE)
  if (inherits(out, "connection")) close(out)
}
vc_list <- function(m) {
  vc <- VarCorr(m)
  lapply(names(vc), function(g) {
    S <- vc[[g]]
    list(group = g, terms = I(colnames(S)), sd = I(unname(attr(S, "stddev"))))
  })
}
re_list <- function(m) {
  re <- as.data.frame(ranef(m, condVar = TRUE))
  out <- list()
  for (g in unique(re$grpvar)) {
    d <- re[re$grpvar == g, ]
    out[[g]] <- list(levels = I(as.character(d$grp)), condval = I(d$condval), condsd = I(d$condsd))
  }
  out
}
res <- list()
for (id in names(models)) {
  r <- models[[id]]
  d <- get(r$data, envir = asNamespace("lme4"))
  m <- lmer(as.formula(r$formula), data = d, REML = r$reml)
  fe <- fixef(m); V <- as.matrix(vcov(m))
  res[[id]] <- list(
    id = id, data = files[[r$data]], formula = r$formula, reml = r$reml,
    nobs = nobs(m), ngroups = as.list(ngrps(m)),
    fixef = as.list(fe), fixef_se = as.list(setNames(sqrt(diag(V)), names(fe))),
    theta = I(unname(getME(m, "theta"))), sigma = sigma(m),
    objective = unname(if (isREML(m)) REMLcrit(m) else deviance(m)),
    evaluations = m@optinfo$feval, optimizer = m@optinfo$optimizer,
    singular = isSingular(m), varcorr = vc_list(m), ranef = re_list(m),
    lme4_version = as.character(packageVersion("lme4")), r_version = R.version.string)
}
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = FALSE), "lme4_crossed.json")
