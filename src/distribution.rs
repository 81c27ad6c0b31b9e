//! Distributions of uncertain amounts: the impact of a risk, a pressure, a fraction delivered.
//!
//! A [`DistributionSpec`] is the plain data a user writes (serde-tagged by `dist`, so
//! `{ dist = "pert", low = 5e6, mode = 1e7, high = 4e7 }` in TOML); a [`Distribution`] is a
//! validated one, ready to give moments, quantiles, the cdf and samples. Parametric families use
//! [`statrs`] for their cdf, inverse cdf and samplers, but for PERT's draws (since 0.5.0): an
//! exact rejection sampler for the Beta from a step envelope of its density with a squeeze,
//! four times as fast as statrs' two gamma draws (the private module `beta` explains it).
//!
//! | `dist` | parameters | notes |
//! |---|---|---|
//! | `fixed` | `value` | exact money |
//! | `uniform` | `low`, `high` | |
//! | `triangular` | `low`, `mode`, `high` | |
//! | `pert` | `low`, `mode`, `high`, `lamb = 4` | Beta on `[low, high]`, mean `(low + lamb mode + high) / (lamb + 2)` |
//! | `normal` | `mean`, `sd` | may go below zero: an opportunity |
//! | `lognormal` | `mu`, `sigma`, or `p50`, `p90` | `mu`, `sigma` of the log |
//! | `discrete` | `values`, `weights` | weights need not sum to one |
//! | `empirical` | `samples` | the samples' own distribution: each equally likely |
//!
//! Quantiles of `discrete` and `empirical` are the inverse of the cdf (numpy's
//! `method="inverted_cdf"`): the smallest value whose cdf reaches `p`.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::distribution::Distribution;
//! let d: Distribution = serde_json::from_str(
//!     r#"{"dist": "pert", "low": 5e6, "mode": 1e7, "high": 4e7}"#).unwrap();
//! assert!((d.mean() - (5e6 + 4.0 * 1e7 + 4e7) / 6.0).abs() < 1e-6);
//! assert!(d.quantile(0.5).unwrap() > 5e6);
//!
//! let err = Distribution::triangular(10.0, 7.0, 5.0).unwrap_err();
//! assert_eq!(err.to_string(), "mode: 7.0 is below low 10.0");
//! ```

use rand::RngExt;
use rand::distr::Distribution as _;
use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF, LogNormal, Normal, Triangular};
use thiserror::Error;

use crate::money::Money;
use crate::rng;
use beta::BetaSampler;

mod beta;

/// PERT's default weight on the mode.
pub const DEFAULT_LAMB: f64 = 4.0;
/// Largest PERT weight on the mode. Classic PERT uses 4, "modified PERT" up to a few dozen;
/// beyond about a thousand the Beta's shapes are so large that its incomplete-beta function
/// (statrs) loses accuracy and, past a million, stops converging.
pub const MAX_LAMB: f64 = 1000.0;
/// Largest amount (in absolute value) a parameter, mean or standard deviation may have: a
/// thousand trillion pounds, far beyond any public body, and small enough that sums over a plan
/// and the squares in a variance stay finite.
pub const MAX_AMOUNT: f64 = 1e15;
/// Most draws [`Distribution::sample`] gives at once.
pub const MAX_POINTS: usize = 50_000_000;
/// Most values a `discrete` or `empirical` distribution may hold: reading 4.2 million took
/// 13 s and 1.5 GB (issue 38, item 13); a million is far beyond any published table of
/// outcomes, and a larger sample is better summarised.
pub const MAX_VALUES: usize = 1_000_000;

/// Errors from building a distribution or asking it something it cannot answer.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DistributionError {
    /// NaN or infinity where a number was needed.
    #[error("{field}: {value:?} is not a finite number")]
    NotFinite {
        /// The parameter.
        field: String,
        /// The value given.
        value: f64,
    },
    /// A p90 that is not above the p50.
    #[error(
        "{field}: {value:?} is not above {other_field} {other:?} (a p90 must be above the p50)"
    )]
    NotAbove {
        /// The parameter that is too small.
        field: &'static str,
        /// Its value.
        value: f64,
        /// The parameter it must be above.
        other_field: &'static str,
        /// That parameter's value.
        other: f64,
    },
    /// `high` below `low` and the like.
    #[error("{field}: {value:?} is below {other_field} {other:?}")]
    Below {
        /// The parameter that is too small.
        field: String,
        /// Its value.
        value: f64,
        /// The parameter it must not be below.
        other_field: &'static str,
        /// That parameter's value.
        other: f64,
    },
    /// A number beyond [`MAX_AMOUNT`].
    #[error(
        "{field}: {value:?} is beyond the {MAX_AMOUNT:e} in absolute value that fiscalrisk accepts"
    )]
    TooLarge {
        /// The parameter (or `mean`, `std` of the distribution).
        field: String,
        /// The value.
        value: f64,
    },
    /// A parameter outside its range.
    #[error("{field}: {value:?} is outside {range}")]
    Range {
        /// The parameter.
        field: &'static str,
        /// The value.
        value: f64,
        /// The range allowed.
        range: &'static str,
    },
    /// A scale parameter that is zero or negative.
    #[error("{field}: {value:?} must be greater than 0")]
    NotPositive {
        /// The parameter.
        field: String,
        /// The value given.
        value: f64,
    },
    /// A negative weight.
    #[error("weights[{index}]: {value:?} is negative")]
    NegativeWeight {
        /// Position of the weight.
        index: usize,
        /// The weight.
        value: f64,
    },
    /// Every weight zero.
    #[error("weights: all weights are zero")]
    ZeroWeights,
    /// `values` and `weights` of different lengths.
    #[error("weights: {weights} weights for {values} values")]
    LengthMismatch {
        /// Number of values.
        values: usize,
        /// Number of weights.
        weights: usize,
    },
    /// No values at all.
    #[error("{field}: needs at least one value")]
    Empty {
        /// The parameter.
        field: &'static str,
    },
    /// More values than fiscalrisk holds.
    #[error("{field}: {len} values is more than the {most} allowed")]
    TooMany {
        /// The parameter.
        field: &'static str,
        /// The limit.
        most: usize,
        /// How many were given.
        len: usize,
    },
    /// A lognormal given neither (mu, sigma) nor (p50, p90), or both.
    #[error("lognormal: give either mu and sigma, or p50 and p90 (got {given})")]
    LogNormalParameters {
        /// The parameters given.
        given: String,
    },
    /// A probability outside [0, 1].
    #[error("{field}: {value:?} is outside [0, 1]")]
    Probability {
        /// The argument.
        field: &'static str,
        /// The value given.
        value: f64,
    },
}

fn default_lamb() -> f64 {
    DEFAULT_LAMB
}

/// A distribution as written by a user: plain data, not yet validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum DistributionSpec {
    /// Always `value`.
    Fixed {
        /// The amount, exact.
        value: Money,
    },
    /// Equally likely anywhere in `[low, high]`.
    Uniform {
        /// Lowest value.
        low: f64,
        /// Highest value.
        high: f64,
    },
    /// Triangular on `[low, high]` peaking at `mode`.
    Triangular {
        /// Lowest value.
        low: f64,
        /// Most likely value.
        mode: f64,
        /// Highest value.
        high: f64,
    },
    /// PERT (a scaled Beta) on `[low, high]` with most likely value `mode`.
    Pert {
        /// Lowest value.
        low: f64,
        /// Most likely value.
        mode: f64,
        /// Highest value.
        high: f64,
        /// Weight on the mode (4 in classic PERT).
        #[serde(default = "default_lamb")]
        lamb: f64,
    },
    /// Normal.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Log-normal: `exp(N(mu, sigma))`, or given by its median and 90th percentile.
    #[serde(rename = "lognormal")]
    LogNormal {
        /// Mean of the log.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mu: Option<f64>,
        /// Standard deviation of the log.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sigma: Option<f64>,
        /// Median (the central estimate).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p50: Option<f64>,
        /// 90th percentile (the bad case).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p90: Option<f64>,
    },
    /// Finitely many values with weights.
    Discrete {
        /// The values.
        values: Vec<f64>,
        /// Their weights (normalised to sum to one).
        weights: Vec<f64>,
    },
    /// The distribution of a sample: each sample equally likely.
    Empirical {
        /// The samples.
        samples: Vec<f64>,
    },
}

/// The validated form, with what sampling and quantiles need computed once.
#[derive(Debug, Clone)]
enum Kind {
    Point(f64),
    Uniform {
        low: f64,
        high: f64,
    },
    Triangular {
        low: f64,
        mode: f64,
        high: f64,
        inner: Triangular,
    },
    Pert {
        low: f64,
        high: f64,
        a: f64,
        b: f64,
        inner: Beta,
        /// How its Beta is drawn.
        sampler: BetaSampler,
    },
    Normal {
        mean: f64,
        sd: f64,
        inner: Normal,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
        inner: LogNormal,
    },
    /// Values sorted ascending with probabilities and cumulative probabilities.
    Discrete {
        values: Vec<f64>,
        probs: Vec<f64>,
        cum: Vec<f64>,
    },
    /// Samples sorted ascending.
    Empirical {
        sorted: Vec<f64>,
    },
}

/// A validated distribution.
///
/// Built with the constructors ([`Distribution::pert`], ...), from a [`DistributionSpec`] with
/// [`Distribution::from_spec`], or by serde, which validates on the way in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "DistributionSpec", into = "DistributionSpec")]
pub struct Distribution {
    spec: DistributionSpec,
    kind: Kind,
}

impl PartialEq for Distribution {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

impl TryFrom<DistributionSpec> for Distribution {
    type Error = DistributionError;
    fn try_from(spec: DistributionSpec) -> Result<Self, Self::Error> {
        Distribution::from_spec(spec)
    }
}

impl From<Distribution> for DistributionSpec {
    fn from(d: Distribution) -> DistributionSpec {
        d.spec
    }
}

fn finite(field: &str, value: f64) -> Result<f64, DistributionError> {
    if !value.is_finite() {
        return Err(DistributionError::NotFinite {
            field: field.to_string(),
            value,
        });
    }
    if value.abs() > MAX_AMOUNT {
        return Err(DistributionError::TooLarge {
            field: field.to_string(),
            value,
        });
    }
    Ok(value)
}

fn positive(field: &str, value: f64) -> Result<f64, DistributionError> {
    finite(field, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(DistributionError::NotPositive {
            field: field.to_string(),
            value,
        })
    }
}

fn not_below(
    field: &str,
    value: f64,
    other_field: &'static str,
    other: f64,
) -> Result<(), DistributionError> {
    if value < other {
        Err(DistributionError::Below {
            field: field.to_string(),
            value,
            other_field,
            other,
        })
    } else {
        Ok(())
    }
}

fn points(field: &'static str, xs: &[f64]) -> Result<(), DistributionError> {
    if xs.is_empty() {
        return Err(DistributionError::Empty { field });
    }
    if xs.len() > MAX_VALUES {
        return Err(DistributionError::TooMany {
            field,
            len: xs.len(),
            most: MAX_VALUES,
        });
    }
    for (i, &x) in xs.iter().enumerate() {
        finite(&format!("{field}[{i}]"), x)?;
    }
    Ok(())
}

/// Where the Beta quantile is below this, it is taken from the cdf's closed-form lower tail:
/// statrs' inverse regularised beta loses accuracy there (it returns 3.8e-15 for both p = 1e-50
/// and 1e-100 on PERT(0, 1, 10)) and fails outright below about 1e-150.
const BETA_TAIL: f64 = 1e-8;

/// The Beta(a, b) quantile on the whole of [0, 1]. In the lower tail the cdf is
/// `x^a / (a B(a, b))` to first order (relative error of order `x`), so where that gives
/// `x < BETA_TAIL` the quantile is `(p a B(a, b))^(1 / a)`, accurate to about 1e-8.
fn beta_quantile(inner: &Beta, a: f64, b: f64, p: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    let tail = ((p.ln() + a.ln() + statrs::function::beta::ln_beta(a, b)) / a).exp();
    if tail < BETA_TAIL {
        return tail;
    }
    if p >= BETA_BISECT {
        return inner.inverse_cdf(p);
    }
    // Far in the tail of a steep Beta: invert the cdf by bisection (the cdf is monotone; 128
    // halvings of [0, 1] reach the float's resolution).
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..128 {
        let mid = 0.5 * (lo + hi);
        if inner.cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Below this probability (and outside the closed-form tail) the Beta quantile is found by
/// bisection; uniform draws never come this low (their smallest is 2^-53), so simulated
/// numbers do not depend on it.
const BETA_BISECT: f64 = 1e-12;

/// Standard normal quantile (inverse cdf).
pub(crate) fn std_normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else {
        Normal::standard().inverse_cdf(p)
    }
}

/// Standard normal cdf.
pub(crate) fn std_normal_cdf(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// Nodes of [`std_normal_cdf_fast`]'s table per unit of `z`.
const CDF_STEPS: f64 = 512.0;
/// Its table covers `[-CDF_RANGE, CDF_RANGE]`.
const CDF_RANGE: f64 = 8.5;

/// The standard normal cdf by cubic Hermite interpolation in a table of the cdf (from musl's
/// `erfc`, to double precision) and the density at steps of 1/512 over [-8.5, 8.5] (outside
/// it, [`std_normal_cdf`]): within 1e-13 of the exact cdf (the interpolation's error is at
/// most the third derivative of the density, at most 1.4, times `h^4 / 384`: about 5e-14;
/// tested), at a fraction of the cost. For the hot loop of correlated savings.
pub(crate) fn std_normal_cdf_fast(z: f64) -> f64 {
    NormalCdfTable::get().cdf(z)
}

/// The table behind [`std_normal_cdf_fast`], fetched once for a loop of many values.
#[derive(Clone, Copy)]
pub(crate) struct NormalCdfTable(&'static [(f64, f64)]);

impl NormalCdfTable {
    /// The table (made on first use).
    pub(crate) fn get() -> NormalCdfTable {
        static TABLE: std::sync::OnceLock<Vec<(f64, f64)>> = std::sync::OnceLock::new();
        NormalCdfTable(TABLE.get_or_init(|| {
            let nodes = (2.0 * CDF_RANGE * CDF_STEPS) as usize + 1;
            (0..nodes)
                .map(|i| {
                    let x = i as f64 / CDF_STEPS - CDF_RANGE;
                    (exact_normal_cdf(x), std_normal_pdf(x))
                })
                .collect()
        }))
    }

    /// [`std_normal_cdf_fast`] at `z`.
    #[inline]
    pub(crate) fn cdf(self, z: f64) -> f64 {
        if !(z > -CDF_RANGE && z < CDF_RANGE) {
            return std_normal_cdf(z);
        }
        self.interpolate(z)
    }

    #[inline]
    fn interpolate(self, z: f64) -> f64 {
        let table = self.0;
        let t = (z + CDF_RANGE) * CDF_STEPS;
        let i = (t as usize).min(table.len() - 2);
        let s = t - i as f64;
        let ((p0, d0), (p1, d1)) = (table[i], table[i + 1]);
        let h = 1.0 / CDF_STEPS;
        let (s2, s3) = (s * s, s * s * s);
        p0 * (2.0 * s3 - 3.0 * s2 + 1.0)
            + h * d0 * (s3 - 2.0 * s2 + s)
            + p1 * (3.0 * s2 - 2.0 * s3)
            + h * d1 * (s3 - s2)
    }
}

/// The standard normal cdf through musl's `erfc` (double precision everywhere; statrs' erf
/// has a seam of 2.5e-11 where it changes approximation, at 0.5).
fn exact_normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

fn std_normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Integral of `f` over `[a, b]` by composite 5-point Gauss-Legendre on `panels` panels.
/// Exact for polynomials of degree 9 on each panel; used for smooth, bounded integrands.
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64, panels: usize) -> f64 {
    const NODES: [f64; 5] = [
        0.0,
        -0.538_469_310_105_683_1,
        0.538_469_310_105_683_1,
        -0.906_179_845_938_664,
        0.906_179_845_938_664,
    ];
    const WEIGHTS: [f64; 5] = [
        0.568_888_888_888_888_9,
        0.478_628_670_499_366_5,
        0.478_628_670_499_366_5,
        0.236_926_885_056_189_1,
        0.236_926_885_056_189_1,
    ];
    if b <= a {
        return 0.0;
    }
    let h = (b - a) / panels as f64;
    let mut total = 0.0;
    for i in 0..panels {
        let mid = a + (i as f64 + 0.5) * h;
        let mut s = 0.0;
        for (x, w) in NODES.iter().zip(WEIGHTS) {
            s += w * f(mid + 0.5 * h * x);
        }
        total += 0.5 * h * s;
    }
    total
}

/// An amount in one year as written: a number (£, exact) or a distribution
/// (`{ dist = "uniform", low = 5e6, high = 14e6 }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AmountSpec {
    /// A fixed amount.
    Value(Money),
    /// An uncertain amount.
    Distribution(DistributionSpec),
}

impl AmountSpec {
    /// The distribution it stands for (a number: always that number).
    pub fn distribution(&self) -> Result<Distribution, DistributionError> {
        match self {
            AmountSpec::Value(v) => Distribution::fixed(*v),
            AmountSpec::Distribution(d) => Distribution::from_spec(d.clone()),
        }
    }

    /// The amount, exactly, when it is fixed (a number or `dist = "fixed"`).
    pub fn fixed(&self) -> Option<Money> {
        match self {
            AmountSpec::Value(v)
            | AmountSpec::Distribution(DistributionSpec::Fixed { value: v }) => Some(*v),
            AmountSpec::Distribution(_) => None,
        }
    }
}

impl Distribution {
    /// Validates a spec.
    pub fn from_spec(spec: DistributionSpec) -> Result<Distribution, DistributionError> {
        use DistributionSpec as S;
        let (spec, kind) = match spec {
            S::Fixed { value } => {
                let v = value.to_f64();
                finite("value", v)?;
                (spec, Kind::Point(v))
            }
            S::Uniform { low, high } => {
                finite("low", low)?;
                finite("high", high)?;
                not_below("high", high, "low", low)?;
                let kind = if low == high {
                    Kind::Point(low)
                } else {
                    Kind::Uniform { low, high }
                };
                (spec, kind)
            }
            S::Triangular { low, mode, high } => {
                finite("low", low)?;
                finite("mode", mode)?;
                finite("high", high)?;
                not_below("mode", mode, "low", low)?;
                not_below("high", high, "mode", mode)?;
                let kind = if low == high {
                    Kind::Point(low)
                } else {
                    let inner = Triangular::new(low, high, mode).map_err(|_| {
                        DistributionError::NotFinite {
                            field: "mode".into(),
                            value: mode,
                        }
                    })?;
                    Kind::Triangular {
                        low,
                        mode,
                        high,
                        inner,
                    }
                };
                (spec, kind)
            }
            S::Pert {
                low,
                mode,
                high,
                lamb,
            } => {
                finite("low", low)?;
                finite("mode", mode)?;
                finite("high", high)?;
                positive("lamb", lamb)?;
                if lamb > MAX_LAMB {
                    return Err(DistributionError::Range {
                        field: "lamb",
                        value: lamb,
                        range: "(0, 1000]",
                    });
                }
                not_below("mode", mode, "low", low)?;
                not_below("high", high, "mode", mode)?;
                let kind = if low == high {
                    Kind::Point(low)
                } else {
                    let a = 1.0 + lamb * (mode - low) / (high - low);
                    let b = 1.0 + lamb * (high - mode) / (high - low);
                    let inner = Beta::new(a, b).map_err(|_| DistributionError::NotPositive {
                        field: "lamb".into(),
                        value: lamb,
                    })?;
                    Kind::Pert {
                        low,
                        high,
                        a,
                        b,
                        inner,
                        sampler: BetaSampler::new(a, b),
                    }
                };
                (spec, kind)
            }
            S::Normal { mean, sd } => {
                finite("mean", mean)?;
                positive("sd", sd)?;
                let inner = Normal::new(mean, sd).map_err(|_| DistributionError::NotPositive {
                    field: "sd".into(),
                    value: sd,
                })?;
                (spec, Kind::Normal { mean, sd, inner })
            }
            S::LogNormal {
                mu,
                sigma,
                p50,
                p90,
            } => {
                let (mu, sigma) = match (mu, sigma, p50, p90) {
                    (Some(mu), Some(sigma), None, None) => {
                        finite("mu", mu)?;
                        positive("sigma", sigma)?;
                        (mu, sigma)
                    }
                    (None, None, Some(p50), Some(p90)) => {
                        positive("p50", p50)?;
                        finite("p90", p90)?;
                        if p90 <= p50 {
                            return Err(DistributionError::NotAbove {
                                field: "p90",
                                value: p90,
                                other_field: "p50",
                                other: p50,
                            });
                        }
                        let mu = p50.ln();
                        (mu, (p90.ln() - mu) / std_normal_quantile(0.9))
                    }
                    _ => {
                        let names = [("mu", mu), ("sigma", sigma), ("p50", p50), ("p90", p90)];
                        let given: Vec<&str> = names
                            .iter()
                            .filter(|(_, v)| v.is_some())
                            .map(|(n, _)| *n)
                            .collect();
                        return Err(DistributionError::LogNormalParameters {
                            given: if given.is_empty() {
                                "none".into()
                            } else {
                                given.join(", ")
                            },
                        });
                    }
                };
                let inner =
                    LogNormal::new(mu, sigma).map_err(|_| DistributionError::NotPositive {
                        field: "sigma".into(),
                        value: sigma,
                    })?;
                let spec = S::LogNormal {
                    mu: Some(mu),
                    sigma: Some(sigma),
                    p50: None,
                    p90: None,
                };
                (spec, Kind::LogNormal { mu, sigma, inner })
            }
            S::Discrete {
                ref values,
                ref weights,
            } => {
                points("values", values)?;
                if weights.len() != values.len() {
                    return Err(DistributionError::LengthMismatch {
                        values: values.len(),
                        weights: weights.len(),
                    });
                }
                for (i, &w) in weights.iter().enumerate() {
                    finite(&format!("weights[{i}]"), w)?;
                    if w < 0.0 {
                        return Err(DistributionError::NegativeWeight { index: i, value: w });
                    }
                }
                let total: f64 = weights.iter().sum();
                if total <= 0.0 {
                    return Err(DistributionError::ZeroWeights);
                }
                if !total.is_finite() {
                    return Err(DistributionError::NotFinite {
                        field: "weights (their sum)".into(),
                        value: total,
                    });
                }
                let mut pairs: Vec<(f64, f64)> = values
                    .iter()
                    .zip(weights)
                    .map(|(&v, &w)| (v, w / total))
                    .collect();
                pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
                let sorted: Vec<f64> = pairs.iter().map(|p| p.0).collect();
                let probs: Vec<f64> = pairs.iter().map(|p| p.1).collect();
                let mut cum = Vec::with_capacity(probs.len());
                let mut acc = 0.0;
                for p in &probs {
                    acc += p;
                    cum.push(acc);
                }
                // Guard the last step against rounding so that every u < 1 finds a value.
                if let Some(last) = cum.last_mut() {
                    *last = 1.0;
                }
                let kind = Kind::Discrete {
                    values: sorted,
                    probs,
                    cum,
                };
                (spec, kind)
            }
            S::Empirical { ref samples } => {
                points("samples", samples)?;
                let mut sorted = samples.clone();
                sorted.sort_by(f64::total_cmp);
                (spec, Kind::Empirical { sorted })
            }
        };
        let d = Distribution { spec, kind };
        for (field, value) in [("mean", d.mean()), ("std", d.std())] {
            if value.is_nan() || value.abs() > MAX_AMOUNT {
                return Err(DistributionError::TooLarge {
                    field: field.into(),
                    value,
                });
            }
        }
        Ok(d)
    }

    /// Always `value`.
    pub fn fixed(value: Money) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::Fixed { value })
    }

    /// Uniform on `[low, high]`.
    pub fn uniform(low: f64, high: f64) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::Uniform { low, high })
    }

    /// Triangular on `[low, high]` with mode `mode`.
    pub fn triangular(low: f64, mode: f64, high: f64) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::Triangular { low, mode, high })
    }

    /// PERT on `[low, high]` with mode `mode` and weight `lamb` (classically 4).
    pub fn pert(
        low: f64,
        mode: f64,
        high: f64,
        lamb: f64,
    ) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::Pert {
            low,
            mode,
            high,
            lamb,
        })
    }

    /// Normal with mean `mean` and standard deviation `sd`.
    pub fn normal(mean: f64, sd: f64) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::Normal { mean, sd })
    }

    /// Log-normal with log-mean `mu` and log-sd `sigma`.
    pub fn lognormal(mu: f64, sigma: f64) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::LogNormal {
            mu: Some(mu),
            sigma: Some(sigma),
            p50: None,
            p90: None,
        })
    }

    /// Log-normal with median `p50` and 90th percentile `p90` (`0 < p50 < p90`).
    ///
    /// ```
    /// use fiscalrisk::distribution::Distribution;
    /// let d = Distribution::lognormal_from_quantiles(10e6, 25e6).unwrap();
    /// assert!((d.quantile(0.9).unwrap() - 25e6).abs() < 1e-3);
    /// ```
    pub fn lognormal_from_quantiles(p50: f64, p90: f64) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::LogNormal {
            mu: None,
            sigma: None,
            p50: Some(p50),
            p90: Some(p90),
        })
    }

    /// Finitely many `values` with `weights`.
    pub fn discrete(
        values: Vec<f64>,
        weights: Vec<f64>,
    ) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::Discrete { values, weights })
    }

    /// The distribution of `samples`.
    pub fn empirical(samples: Vec<f64>) -> Result<Distribution, DistributionError> {
        Self::from_spec(DistributionSpec::Empirical { samples })
    }

    /// The spec this distribution was built from (a lognormal given by quantiles is stored by
    /// its `mu` and `sigma`).
    pub fn spec(&self) -> &DistributionSpec {
        &self.spec
    }

    /// The family name, as in the `dist` tag.
    pub fn name(&self) -> &'static str {
        match self.spec {
            DistributionSpec::Fixed { .. } => "fixed",
            DistributionSpec::Uniform { .. } => "uniform",
            DistributionSpec::Triangular { .. } => "triangular",
            DistributionSpec::Pert { .. } => "pert",
            DistributionSpec::Normal { .. } => "normal",
            DistributionSpec::LogNormal { .. } => "lognormal",
            DistributionSpec::Discrete { .. } => "discrete",
            DistributionSpec::Empirical { .. } => "empirical",
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match &self.kind {
            Kind::Point(v) => *v,
            Kind::Uniform { low, high } => 0.5 * (low + high),
            Kind::Triangular {
                low, mode, high, ..
            } => (low + mode + high) / 3.0,
            Kind::Pert {
                low, high, a, b, ..
            } => low + (high - low) * a / (a + b),
            Kind::Normal { mean, .. } => *mean,
            Kind::LogNormal { mu, sigma, .. } => (mu + 0.5 * sigma * sigma).exp(),
            Kind::Discrete { values, probs, .. } => {
                values.iter().zip(probs).map(|(v, p)| v * p).sum()
            }
            Kind::Empirical { sorted } => sorted.iter().sum::<f64>() / sorted.len() as f64,
        }
    }

    /// The standard deviation (of the distribution itself: an empirical one's is the population
    /// standard deviation of its samples).
    pub fn std(&self) -> f64 {
        let var = match &self.kind {
            Kind::Point(_) => 0.0,
            Kind::Uniform { low, high } => (high - low).powi(2) / 12.0,
            Kind::Triangular {
                low, mode, high, ..
            } => {
                (low * low + mode * mode + high * high - low * mode - low * high - mode * high)
                    / 18.0
            }
            Kind::Pert {
                low, high, a, b, ..
            } => (high - low).powi(2) * a * b / ((a + b).powi(2) * (a + b + 1.0)),
            Kind::Normal { sd, .. } => sd * sd,
            Kind::LogNormal { mu, sigma, .. } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Kind::Discrete { values, probs, .. } => {
                let m = self.mean();
                values
                    .iter()
                    .zip(probs)
                    .map(|(v, p)| p * (v - m).powi(2))
                    .sum()
            }
            Kind::Empirical { sorted } => {
                let m = self.mean();
                sorted.iter().map(|v| (v - m).powi(2)).sum::<f64>() / sorted.len() as f64
            }
        };
        var.max(0.0).sqrt()
    }

    /// The lowest and highest values, where finite.
    pub fn support(&self) -> (f64, f64) {
        match &self.kind {
            Kind::Point(v) => (*v, *v),
            Kind::Uniform { low, high }
            | Kind::Triangular { low, high, .. }
            | Kind::Pert { low, high, .. } => (*low, *high),
            Kind::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Kind::LogNormal { .. } => (0.0, f64::INFINITY),
            Kind::Discrete { values, .. } => (values[0], values[values.len() - 1]),
            Kind::Empirical { sorted } => (sorted[0], sorted[sorted.len() - 1]),
        }
    }

    /// `P(X <= x)`.
    pub fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        match &self.kind {
            Kind::Point(v) => {
                if x >= *v {
                    1.0
                } else {
                    0.0
                }
            }
            Kind::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
            Kind::Triangular { inner, .. } => inner.cdf(x),
            Kind::Pert {
                low, high, inner, ..
            } => {
                let t = (x - low) / (high - low);
                if t <= 0.0 {
                    0.0
                } else if t >= 1.0 {
                    1.0
                } else {
                    inner.cdf(t)
                }
            }
            Kind::Normal { inner, .. } => inner.cdf(x),
            Kind::LogNormal { inner, .. } => {
                if x <= 0.0 {
                    0.0
                } else {
                    inner.cdf(x)
                }
            }
            Kind::Discrete { values, cum, .. } => {
                let n = values.partition_point(|v| *v <= x);
                if n == 0 { 0.0 } else { cum[n - 1] }
            }
            Kind::Empirical { sorted } => {
                sorted.partition_point(|v| *v <= x) as f64 / sorted.len() as f64
            }
        }
    }

    /// The `p` quantile: the smallest `x` with `cdf(x) >= p`. `p` must be in `[0, 1]`; the 0 and
    /// 1 quantiles of unbounded distributions are infinite, as in scipy.
    pub fn quantile(&self, p: f64) -> Result<f64, DistributionError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(DistributionError::Probability {
                field: "p",
                value: p,
            });
        }
        Ok(self.quantile_unchecked(p))
    }

    fn quantile_unchecked(&self, p: f64) -> f64 {
        match &self.kind {
            Kind::Point(v) => *v,
            Kind::Uniform { low, high } => low + p * (high - low),
            Kind::Triangular { inner, .. } => inner.inverse_cdf(p),
            Kind::Pert {
                low,
                high,
                a,
                b,
                inner,
                ..
            } => low + (high - low) * beta_quantile(inner, *a, *b, p),
            Kind::Normal { mean, sd, .. } => mean + sd * std_normal_quantile(p),
            Kind::LogNormal { mu, sigma, .. } => (mu + sigma * std_normal_quantile(p)).exp(),
            Kind::Discrete { values, cum, .. } => {
                let i = cum.partition_point(|c| *c < p).min(values.len() - 1);
                values[i]
            }
            Kind::Empirical { sorted } => {
                let n = sorted.len();
                // Smallest k with k / n >= p, as a 1-based rank.
                let k = (p * n as f64).ceil() as usize;
                sorted[k.clamp(1, n) - 1]
            }
        }
    }

    /// One draw.
    #[inline]
    pub fn draw(&self, rng: &mut rng::Rng) -> f64 {
        match &self.kind {
            Kind::Point(v) => *v,
            Kind::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Kind::Triangular { inner, .. } => inner.sample(rng),
            Kind::Pert {
                low, high, sampler, ..
            } => low + (high - low) * sampler.draw(rng),
            Kind::Normal { inner, .. } => inner.sample(rng),
            Kind::LogNormal { inner, .. } => inner.sample(rng),
            Kind::Discrete { values, cum, .. } => {
                let u: f64 = rng.random();
                let i = cum.partition_point(|c| *c <= u).min(values.len() - 1);
                values[i]
            }
            Kind::Empirical { sorted } => sorted[rng.random_range(0..sorted.len())],
        }
    }

    /// Fills `out` with independent draws: the numbers `out.len()` calls of
    /// [`Distribution::draw`] give, in turn, from the same stream, but with the kind chosen
    /// once and the generator's state kept in registers for the whole run.
    ///
    /// # Examples
    ///
    /// ```
    /// use fiscalrisk::{distribution::Distribution, rng};
    /// let d = Distribution::pert(1e6, 2e6, 9e6, 4.0).unwrap();
    /// let (mut a, mut b) = (rng::stream(7, 0), rng::stream(7, 0));
    /// let mut many = [0.0; 5];
    /// d.draw_into(&mut a, &mut many);
    /// assert!(many.iter().all(|&x| x == d.draw(&mut b)));
    /// ```
    pub fn draw_into(&self, rng: &mut rng::Rng, out: &mut [f64]) {
        fn each(out: &mut [f64], mut f: impl FnMut() -> f64) {
            for x in out {
                *x = f();
            }
        }
        let mut r = rng.clone();
        match &self.kind {
            Kind::Point(v) => out.fill(*v),
            Kind::Uniform { low, high } => {
                each(out, || low + (high - low) * r.random::<f64>());
            }
            Kind::Triangular { inner, .. } => each(out, || inner.sample(&mut r)),
            Kind::Pert {
                low, high, sampler, ..
            } => each(out, || low + (high - low) * sampler.draw(&mut r)),
            Kind::Normal { inner, .. } => each(out, || inner.sample(&mut r)),
            Kind::LogNormal { inner, .. } => each(out, || inner.sample(&mut r)),
            Kind::Discrete { .. } | Kind::Empirical { .. } => each(out, || self.draw(&mut r)),
        }
        *rng = r;
    }

    /// `n` independent draws from stream 0 of `seed` (see [`crate::rng`]); at most
    /// [`MAX_POINTS`].
    pub fn sample(&self, n: usize, seed: u64) -> Result<Vec<f64>, DistributionError> {
        if n > MAX_POINTS {
            return Err(DistributionError::TooMany {
                field: "n",
                len: n,
                most: MAX_POINTS,
            });
        }
        let mut r = rng::stream(seed, 0);
        let mut out = vec![0.0; n];
        self.draw_into(&mut r, &mut out);
        Ok(out)
    }

    /// `E[(X - k)^+]`: the expected excess over `k`. Exact where a closed form exists, by
    /// Gauss-Legendre integration of the survival function for triangular and PERT.
    pub fn expected_excess(&self, k: f64) -> f64 {
        let (lo, hi) = self.support();
        if k <= lo {
            return self.mean() - k;
        }
        if k >= hi {
            return 0.0;
        }
        match &self.kind {
            Kind::Point(_) => 0.0, // k is strictly inside an empty interval: unreachable
            Kind::Uniform { low, high } => (high - k).powi(2) / (2.0 * (high - low)),
            Kind::Triangular { mode, high, .. } => {
                // Split at the mode, where the density has a kink.
                let s = |x: f64| 1.0 - self.cdf(x);
                if k < *mode {
                    integrate(s, k, *mode, 64) + integrate(s, *mode, *high, 64)
                } else {
                    integrate(s, k, *high, 64)
                }
            }
            Kind::Pert { high, .. } => integrate(|x| 1.0 - self.cdf(x), k, *high, 256),
            Kind::Normal { mean, sd, .. } => {
                let d = (mean - k) / sd;
                sd * std_normal_pdf(d) + (mean - k) * std_normal_cdf(d)
            }
            Kind::LogNormal { mu, sigma, .. } => {
                let d1 = (mu + sigma * sigma - k.ln()) / sigma;
                let d2 = d1 - sigma;
                self.mean() * std_normal_cdf(d1) - k * std_normal_cdf(d2)
            }
            Kind::Discrete { values, probs, .. } => values
                .iter()
                .zip(probs)
                .map(|(v, p)| p * (v - k).max(0.0))
                .sum(),
            Kind::Empirical { sorted } => {
                sorted.iter().map(|v| (v - k).max(0.0)).sum::<f64>() / sorted.len() as f64
            }
        }
    }

    /// `E[min(share * X, cap)]` for `share >= 0`: the expected cost a council bears.
    pub fn expected_capped(&self, share: f64, cap: Option<f64>) -> f64 {
        if share == 0.0 {
            return match cap {
                Some(c) => c.min(0.0),
                None => 0.0,
            };
        }
        match cap {
            None => share * self.mean(),
            Some(c) => share * (self.mean() - self.expected_excess(c / share)),
        }
    }
}

/// The smallest and largest probabilities a latent is read at (as everywhere a latent normal
/// becomes a draw: `Φ(z)` clamped to `[1e-15, 1 - 1e-15]`).
pub(crate) const LATENT_U_MIN: f64 = 1e-15;

/// Nodes of [`LatentQuantile`]'s table, evenly spaced in `z` between the latents at which the
/// clamp takes over (about -7.94 and 7.94), so that no node interval straddles its kink.
const LATENT_NODES: usize = 4097;

/// A distribution's quantile at the cdf of a standard normal latent, `quantile(Φ(z))` with
/// `Φ(z)` clamped to `[1e-15, 1 - 1e-15]`, made cheap for a batch of latents: exact closed
/// forms for the normal and log-normal, a cubic table in `z` for PERT (whose quantile is an
/// iterative inverse of the incomplete beta function; the table is within 1e-8 of the
/// distribution's range of the exact quantile for `z` up to 6, beyond which `Φ(z)` is within
/// 1e-9 of 1 and the exact route itself steps with the doubles; tested), the exact quantile
/// otherwise.
#[derive(Debug, Clone)]
pub(crate) enum LatentQuantile {
    Normal { mean: f64, sd: f64, z_max: f64 },
    LogNormal { mu: f64, sigma: f64, z_max: f64 },
    Table { q: Vec<f64>, z_max: f64 },
    Exact(Distribution),
}

impl Distribution {
    /// See [`LatentQuantile`].
    pub(crate) fn latent_quantile(&self) -> LatentQuantile {
        let z_max = -std_normal_quantile(LATENT_U_MIN);
        match &self.kind {
            Kind::Normal { mean, sd, .. } => LatentQuantile::Normal {
                mean: *mean,
                sd: *sd,
                z_max,
            },
            Kind::LogNormal { mu, sigma, .. } => LatentQuantile::LogNormal {
                mu: *mu,
                sigma: *sigma,
                z_max,
            },
            Kind::Pert { .. } => {
                let h = 2.0 * z_max / (LATENT_NODES - 1) as f64;
                let q = (0..LATENT_NODES)
                    .map(|k| {
                        let z = -z_max + k as f64 * h;
                        let u = std_normal_cdf(z).clamp(LATENT_U_MIN, 1.0 - LATENT_U_MIN);
                        self.quantile_unchecked(u)
                    })
                    .collect();
                LatentQuantile::Table { q, z_max }
            }
            _ => LatentQuantile::Exact(self.clone()),
        }
    }
}

impl LatentQuantile {
    /// `quantile(Φ(z))`.
    pub(crate) fn at(&self, z: f64) -> f64 {
        match self {
            LatentQuantile::Normal { mean, sd, z_max } => mean + sd * z.clamp(-z_max, *z_max),
            LatentQuantile::LogNormal { mu, sigma, z_max } => {
                (mu + sigma * z.clamp(-z_max, *z_max)).exp()
            }
            LatentQuantile::Table { q, z_max } => {
                let h = 2.0 * z_max / (LATENT_NODES - 1) as f64;
                let t = (z.clamp(-z_max, *z_max) + z_max) / h;
                // Four nodes around t (shifted inwards at the ends), Lagrange's cubic through them.
                let i = (t.floor() as usize).clamp(1, LATENT_NODES - 3);
                let x = t - i as f64;
                let (a, b, c, d) = (q[i - 1], q[i], q[i + 1], q[i + 2]);
                let (xm1, x1, x2) = (x + 1.0, x - 1.0, x - 2.0);
                -a * x * x1 * x2 / 6.0 + b * xm1 * x1 * x2 / 2.0 - c * xm1 * x * x2 / 2.0
                    + d * xm1 * x * x1 / 6.0
            }
            LatentQuantile::Exact(dist) => {
                dist.quantile_unchecked(std_normal_cdf(z).clamp(LATENT_U_MIN, 1.0 - LATENT_U_MIN))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quantile_of_the_open_interval_is_answered() {
        for d in [
            DistributionSpec::Pert {
                low: 0.0,
                mode: 1.0,
                high: 10.0,
                lamb: 4.0,
            },
            DistributionSpec::Pert {
                low: 0.0,
                mode: 9.0,
                high: 10.0,
                lamb: 1000.0,
            },
            DistributionSpec::Triangular {
                low: 0.0,
                mode: 1.0,
                high: 10.0,
            },
        ] {
            let d = Distribution::from_spec(d).unwrap();
            let mut last = f64::NEG_INFINITY;
            for p in [
                5e-324,
                1e-300,
                1e-200,
                1e-101,
                1e-100,
                1e-99,
                1e-50,
                1e-10,
                0.5,
                1.0 - 1e-16,
            ] {
                let q = d.quantile(p).unwrap();
                assert!(q.is_finite() && q >= last, "{p}: {q} after {last}");
                last = q;
            }
        }
        // Where the two methods meet they agree: the quantile of the cdf at x is x.
        let d = Distribution::from_spec(DistributionSpec::Pert {
            low: 0.0,
            mode: 1.0,
            high: 10.0,
            lamb: 4.0,
        })
        .unwrap();
        for x in [1e-30, 1e-12, 1e-9, 2e-8, 5e-8, 1e-7] {
            let q = d.quantile(d.cdf(10.0 * x)).unwrap() / 10.0;
            assert!((q / x - 1.0).abs() < 1e-6, "{x}: {q}");
        }
    }

    #[test]
    fn messages_name_field_and_value() {
        let e = |r: Result<Distribution, DistributionError>| r.unwrap_err().to_string();
        assert_eq!(
            e(Distribution::uniform(10.0, 5.0)),
            "high: 5.0 is below low 10.0"
        );
        assert_eq!(
            e(Distribution::normal(1.0, 0.0)),
            "sd: 0.0 must be greater than 0"
        );
        assert_eq!(
            e(Distribution::pert(1.0, 2.0, f64::INFINITY, 4.0)),
            "high: inf is not a finite number"
        );
        assert_eq!(
            e(Distribution::discrete(vec![1.0, 2.0], vec![1.0, -1.0])),
            "weights[1]: -1.0 is negative"
        );
        assert_eq!(
            e(Distribution::discrete(vec![1.0, 2.0], vec![0.0, 0.0])),
            "weights: all weights are zero"
        );
        assert_eq!(
            e(Distribution::empirical(vec![])),
            "samples: needs at least one value"
        );
        assert_eq!(
            e(Distribution::empirical(vec![1.0, f64::NAN])),
            "samples[1]: NaN is not a finite number"
        );
        assert_eq!(
            e(Distribution::lognormal_from_quantiles(10.0, 5.0)),
            "p90: 5.0 is not above p50 10.0 (a p90 must be above the p50)"
        );
        let json = r#"{"dist": "lognormal", "mu": 1.0}"#;
        let err = serde_json::from_str::<Distribution>(json).unwrap_err();
        assert!(err.to_string().contains("got mu"), "{err}");
        let err = serde_json::from_str::<Distribution>(r#"{"dist": "pert", "low": 1}"#);
        assert!(err.is_err());
        let err = serde_json::from_str::<Distribution>(
            r#"{"dist": "uniform", "low": 1, "high": 2, "hgih": 3}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("hgih"), "{err}");
    }

    #[test]
    fn absurd_amounts_are_rejected() {
        let e = |r: Result<Distribution, DistributionError>| r.unwrap_err().to_string();
        assert_eq!(
            e(Distribution::triangular(0.0, 0.0, f64::MAX)),
            "high: 1.7976931348623157e308 is beyond the 1e15 in absolute value that fiscalrisk accepts"
        );
        assert!(e(Distribution::lognormal(30.0, 5.0)).starts_with("mean: "));
        assert!(e(Distribution::lognormal(0.0, 8.0)).starts_with("std: "));
    }

    #[test]
    fn pert_weight_is_bounded_and_accurate_up_to_the_bound() {
        assert_eq!(
            Distribution::pert(0.0, 0.3, 1.0, 1e7)
                .unwrap_err()
                .to_string(),
            "lamb: 10000000.0 is outside (0, 1000]"
        );
        for mode in [0.0, 0.3, 1.0] {
            let d = Distribution::pert(0.0, mode, 1.0, MAX_LAMB).unwrap();
            for x in [0.0, 0.1, 0.299, 0.3, 0.301, 0.5, 0.9, 1.0] {
                assert!((0.0..=1.0).contains(&d.cdf(x)), "cdf({x}) = {}", d.cdf(x));
            }
            let q = d.quantile(0.5).unwrap();
            assert!(
                (d.cdf(q) - 0.5).abs() < 1e-6,
                "mode {mode}: cdf(q) = {}",
                d.cdf(q)
            );
        }
    }

    #[test]
    fn degenerate_ranges_are_points() {
        for d in [
            Distribution::uniform(3.0, 3.0).unwrap(),
            Distribution::triangular(3.0, 3.0, 3.0).unwrap(),
            Distribution::pert(3.0, 3.0, 3.0, 4.0).unwrap(),
        ] {
            assert_eq!(d.mean(), 3.0);
            assert_eq!(d.std(), 0.0);
            assert_eq!(d.sample(5, 1).unwrap(), vec![3.0; 5]);
            assert!(d.sample(MAX_POINTS + 1, 1).is_err());
            assert_eq!(d.cdf(2.999), 0.0);
            assert_eq!(d.cdf(3.0), 1.0);
        }
    }

    #[test]
    fn serde_round_trip_is_equal() {
        let toml_text = r#"dist = "pert"
low = 5e6
mode = 1e7
high = 4e7
"#;
        let d: Distribution = toml::from_str(toml_text).unwrap();
        let back: Distribution = toml::from_str(&toml::to_string(&d).unwrap()).unwrap();
        assert_eq!(d, back);
        let f: Distribution = toml::from_str("dist = \"fixed\"\nvalue = 2.5e6\n").unwrap();
        assert_eq!(f.mean(), 2.5e6);
    }

    #[test]
    fn draws_into_a_slice_are_the_draws_one_at_a_time() {
        // Every kind, PERT by the envelope and by the gamma ratio: the same numbers, bit for
        // bit, and the stream left where the single draws leave it.
        let specs = [
            "dist = \"fixed\"\nvalue = 3.5",
            "dist = \"uniform\"\nlow = -2.0\nhigh = 5.0",
            "dist = \"triangular\"\nlow = 1.0\nmode = 2.0\nhigh = 9.0",
            "dist = \"pert\"\nlow = 1.0\nmode = 2.0\nhigh = 9.0",
            "dist = \"pert\"\nlow = 0.0\nmode = 0.0\nhigh = 1.0\nlamb = 1000.0",
            "dist = \"normal\"\nmean = 3.0\nsd = 2.0",
            "dist = \"lognormal\"\nmu = 1.0\nsigma = 0.5",
            "dist = \"discrete\"\nvalues = [1.0, 5.0, 2.0]\nweights = [1.0, 2.0, 3.0]",
            "dist = \"empirical\"\nsamples = [4.0, 1.0, 7.0, 7.0]",
        ];
        for text in specs {
            let d: Distribution = toml::from_str(text).unwrap();
            let (mut r1, mut r2) = (rng::stream(5, 2), rng::stream(5, 2));
            let mut many = vec![0.0; 1000];
            d.draw_into(&mut r1, &mut many);
            for (k, x) in many.iter().enumerate() {
                assert_eq!(x.to_bits(), d.draw(&mut r2).to_bits(), "{text}: draw {k}");
            }
            assert_eq!(
                r1.random::<u64>(),
                r2.random::<u64>(),
                "{text}: the stream after"
            );
        }
    }

    #[test]
    fn the_fast_normal_cdf_is_within_1e_13_of_the_exact_cdf() {
        let (mut worst, mut statrs): (f64, f64) = (0.0, 0.0);
        for k in -900_000..=900_000 {
            let z = k as f64 * 1e-5 + 1e-6 * ((k % 7) as f64);
            worst = worst.max((std_normal_cdf_fast(z) - exact_normal_cdf(z)).abs());
            statrs = statrs.max((std_normal_cdf_fast(z) - std_normal_cdf(z)).abs());
        }
        assert!(worst < 1e-13, "{worst:e}");
        // And statrs' cdf, with its seam at z = 1/sqrt(2).
        assert!(statrs < 3e-11, "{statrs:e}");
        for z in [f64::NEG_INFINITY, -40.0, -8.5, 8.5, 40.0, f64::INFINITY] {
            assert_eq!(std_normal_cdf_fast(z), std_normal_cdf(z));
        }
        assert!(std_normal_cdf_fast(f64::NAN).is_nan());
    }

    #[test]
    fn latent_quantiles_match_the_exact_quantile() {
        let dists = [
            Distribution::pert(0.01, 0.02, 0.05, DEFAULT_LAMB).unwrap(),
            Distribution::pert(20e6, 45e6, 50e6, DEFAULT_LAMB).unwrap(),
            Distribution::pert(-0.03, 0.01, 0.03, 2.0).unwrap(),
            Distribution::pert(0.0, 0.0, 1.0, 4.0).unwrap(),
            Distribution::normal(0.03, 0.01).unwrap(),
            Distribution::lognormal(-3.0, 0.4).unwrap(),
            Distribution::triangular(0.0, 0.02, 0.06).unwrap(),
        ];
        for d in &dists {
            let t = d.latent_quantile();
            let (low, high) = (d.quantile(1e-15).unwrap(), d.quantile(1.0 - 1e-15).unwrap());
            let range = high - low;
            let mut worst: f64 = 0.0;
            let mut previous = f64::NEG_INFINITY;
            for k in 0..=200_000 {
                let z = -9.0 + 18.0 * k as f64 / 200_000.0;
                let u = std_normal_cdf(z).clamp(1e-15, 1.0 - 1e-15);
                let exact = d.quantile(u).unwrap();
                let x = t.at(z);
                // Beyond z = 6 (a chance of 1e-9) Φ(z) is within 1e-9 of 1, where doubles are
                // 1.1e-16 apart: the exact route's u steps there, so only order and bounds are
                // checked.
                if z <= 6.0 {
                    worst = worst.max((x - exact).abs() / range);
                }
                assert!(
                    (z > 6.0 || x >= previous - 1e-12 * range)
                        && x >= low - 1e-3 * range
                        && x <= high + 1e-3 * range,
                    "{:?} at {z}: {x} after {previous}, in [{low}, {high}]",
                    d.spec()
                );
                previous = x;
            }
            assert!(worst < 1e-8, "{:?}: {worst:e}", d.spec());
        }
    }
}
