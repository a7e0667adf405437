# Fit the Weibull and exponential life models with R's survival::survreg and print JSON.
#
#   Rscript tests/engine/survreg_fit.R LIVES.csv
#
# LIVES.csv: columns entry (age when observation began; 0 = from installation), time (age at renewal or at the
# end of observation), event (1 renewed, 0 in service).
#
# Without truncation (every entry 0): survreg(Surv(time, event) ~ 1, dist = "weibull"), translated to gunmane's
# parameters — survreg's scale is 1/k and its intercept ln λ — and dist = "exponential" for the nested model.
# survreg does not take left truncation (Surv(start, stop, event) is refused: "Invalid survival type"), so with
# truncation the reference is R's own Weibull distribution functions: the truncated log-likelihood
#   Σ d·dweibull(t, log = TRUE) + (1 − d)·pweibull(t, lower = FALSE, log = TRUE) − pweibull(a, lower = FALSE, log = TRUE)
# maximised by optim (BFGS, tight tolerances) from survreg's untruncated fit, and its Hessian by optimHess.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
lives <- read.csv(args[1])
fmt <- function(v) paste(sprintf("%.17g", v), collapse = ", ")
weib <- survreg(Surv(time, event) ~ 1, data = lives, dist = "weibull",
                control = survreg.control(rel.tolerance = 1e-13, maxiter = 200))
expo <- survreg(Surv(time, event) ~ 1, data = lives, dist = "exponential",
                control = survreg.control(rel.tolerance = 1e-13, maxiter = 200))
truncated <- any(lives$entry > 0)
if (!truncated) {
  # (Intercept, Log(scale)) = (ln λ, −ln k): the covariance of (ln k, ln λ) swaps and flips the sign of one
  v <- vcov(weib)
  out <- list(method = "survreg", shape = 1 / weib$scale, scale = exp(coef(weib)[[1]]),
              loglik = weib$loglik[2], se_log_shape = sqrt(v[2, 2]), se_log_scale = sqrt(v[1, 1]),
              cov_log = -v[1, 2], converged = weib$iter < 200)
} else {
  nll <- function(p) {
    k <- exp(p[1]); lam <- exp(p[2])
    -sum(ifelse(lives$event == 1, dweibull(lives$time, k, lam, log = TRUE),
                pweibull(lives$time, k, lam, lower.tail = FALSE, log.p = TRUE))
         - pweibull(lives$entry, k, lam, lower.tail = FALSE, log.p = TRUE))
  }
  start <- c(-log(weib$scale), coef(weib)[[1]])
  opt <- optim(start, nll, method = "BFGS", control = list(reltol = 1e-15, maxit = 1000, parscale = c(0.01, 0.01)))
  opt <- optim(opt$par, nll, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 5000))
  opt <- optim(opt$par, nll, method = "BFGS", control = list(reltol = 1e-15, maxit = 1000, parscale = c(0.01, 0.01)))
  v <- solve(optimHess(opt$par, nll))
  out <- list(method = "optim", shape = exp(opt$par[1]), scale = exp(opt$par[2]), loglik = -opt$value,
              se_log_shape = sqrt(v[1, 1]), se_log_scale = sqrt(v[2, 2]), cov_log = v[1, 2],
              converged = opt$convergence == 0)
}
cat(sprintf(paste0('{"method": "%s", "shape": %.17g, "scale": %.17g, "loglik": %.17g, "se_log_shape": %.17g, ',
                   '"se_log_scale": %.17g, "cov_log": %.17g, "converged": %s, "exponential_scale": %.17g, ',
                   '"exponential_loglik": %.17g, "survival_version": "%s"}\n'),
            out$method, out$shape, out$scale, out$loglik, out$se_log_shape, out$se_log_scale, out$cov_log,
            if (out$converged) "true" else "false", exp(coef(expo)[[1]]), expo$loglik[2],
            as.character(packageVersion("survival"))))
