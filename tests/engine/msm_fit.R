# Fit the progressive (pure-birth) multi-state model with R's msm on panel data and print JSON.
#
#   Rscript tests/engine/msm_fit.R OBS.csv [N_STATES] [COVARIATE] [default]
#
# OBS.csv: columns subject, years, state (1..N_STATES; N_STATES absorbing), optional covariate column.
# Consecutive observations of each subject are a panel (obstype = 1, exacttimes = FALSE): the
# likelihood is the product of the transition probabilities P(s_k -> s_k+1, t_k+1 - t_k), the same as
# gunmane's pair likelihood.  Prints {"hazards": [...], "loglik": ..., "coef": [...], "seconds": ...}.
suppressPackageStartupMessages(library(msm))
args <- commandArgs(trailingOnly = TRUE)
obs <- read.csv(args[1], stringsAsFactors = FALSE)
J <- if (length(args) >= 2) as.integer(args[2]) else 4L
covariate <- if (length(args) >= 3) args[3] else ""
tight <- !(length(args) >= 4 && args[4] == "default")  # "default": msm's own optim tolerances
q <- matrix(0, J, J)
for (i in 1:(J - 1)) q[i, i + 1] <- 0.05
obs <- obs[order(obs$subject, obs$years), ]
# starting values 0.05 per year (gen.inits = TRUE fails when a grade has no direct exit, e.g. III→IV)
ctrl <- if (tight) list(fnscale = nrow(obs), reltol = 1e-14, maxit = 10000) else list(fnscale = nrow(obs))
t0 <- proc.time()[["elapsed"]]
if (covariate == "") {
  fit <- msm(state ~ years, subject = subject, data = obs, qmatrix = q, obstype = 1,
             exacttimes = FALSE, gen.inits = FALSE, control = ctrl)
} else {
  fit <- msm(state ~ years, subject = subject, data = obs, qmatrix = q, obstype = 1,
             exacttimes = FALSE, gen.inits = FALSE, control = ctrl,
             covariates = as.formula(paste("~", covariate)), center = FALSE)
}
seconds <- proc.time()[["elapsed"]] - t0
est <- fit$estimates  # log intensities (baseline at covariate = 0 with center = FALSE), then covariate effects
nq <- J - 1
haz <- exp(est[1:nq])
coef <- if (length(est) > nq) est[(nq + 1):length(est)] else numeric(0)
fmt <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
cat(sprintf('{"hazards": [%s], "coef": [%s], "loglik": %.17g, "seconds": %.6g, "converged": %s, "msm_version": "%s"}\n',
            fmt(haz), fmt(coef), -fit$minus2loglik / 2, seconds,
            if (is.null(fit$opt$convergence) || fit$opt$convergence == 0) "true" else "false",
            as.character(packageVersion("msm"))))
