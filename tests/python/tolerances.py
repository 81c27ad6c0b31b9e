"""Every tolerance the Python tests use, in one place, with why."""

#: Monte Carlo estimates may sit this many standard errors from the truth.
MC_SIGMAS = 4.0
#: Closed forms computed two ways (ours and scipy's) agree to this relative error.
CLOSED_FORM_RTOL = 1e-9
#: Quantiles by inverting a cdf numerically (statrs' inverse beta, scipy's ppf).
QUANTILE_RTOL = 1e-7
#: Expected values of capped impacts by numerical integration (ours: Gauss-Legendre; scipy: quad).
INTEGRATION_RTOL = 1e-6
#: A quantile from the result's sketch against the exact order statistic: one bucket, 2^-10
#: (the documented accuracy, under 0.1%).
SKETCH_RTOL = 2.0**-10
#: Kolmogorov-Smirnov p-value below which samples are judged not to follow the distribution.
KS_PVALUE = 1e-4
#: The same arithmetic done in Rust and by hand in Python (a ratio, a mean of three moves):
#: a few ulps apart at most.
ARITHMETIC_RTOL = 1e-12
