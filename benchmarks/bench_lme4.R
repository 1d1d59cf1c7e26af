# Times lme4 on the benchmark's models, for bench_engine.py (which calls it once per run).
# Usage: Rscript bench_lme4.R REPEATS DATA_DIR [insteval]
# Prints one line per model: id <tab> median wall seconds <tab> median CPU seconds (user + system)
# of a complete lmer() call <tab> REML criterion.
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
repeats <- as.integer(args[1]); data_dir <- args[2]; with_insteval <- length(args) > 2
sleep <- read.csv(file.path(data_dir, "sleepstudy.csv"))
models <- list(
  list("sleepstudy", Reaction ~ Days + (Days | Subject), sleep, repeats),
  list("penicillin", diameter ~ 1 + (1 | plate) + (1 | sample), lme4::Penicillin, repeats),
  list("pastes", strength ~ 1 + (1 | batch) + (1 | batch:cask), lme4::Pastes, repeats))
if (with_insteval)
  models[[length(models) + 1]] <- list("insteval", y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept), lme4::InstEval, 1)
for (m in models) {
  if (m[[4]] > 1) fit <- lmer(m[[2]], data = m[[3]])  # warm-up
  times <- replicate(m[[4]], {
    t <- system.time(fit <<- lmer(m[[2]], data = m[[3]]))
    c(t[["elapsed"]], t[["user.self"]] + t[["sys.self"]])
  })
  times <- matrix(times, nrow = 2)
  cat(m[[1]], "\t", median(times[1, ]), "\t", median(times[2, ]), "\t", sprintf("%.10f", REMLcrit(fit)), "\n", sep = "")
}
