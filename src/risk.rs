//! A risk: something that may happen within the plan and cost the council money.
//!
//! A [`Risk`] happens within the plan with `probability`; if it does, its gross cost is drawn
//! from `impact`, the council bears `share` of it, at most `cap`, and the cost falls across
//! years by `profile` (fractions summing to one). A `recurring` risk's drawn cost is an annual
//! cost from the one year its profile names (by default the register's first year) to the end
//! of the plan; its `cap` applies to that annual cost. Risks are gathered, with the
//! correlations between them and the plan's years, in a [`crate::register::RiskRegister`].
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::risk::Risk;
//! let games: Risk = toml::from_str(r#"
//! id = "games"
//! name = "Commonwealth Games contribution"
//! probability = 0.5
//! share = 0.25
//! cap = 10e6
//! impact = { dist = "uniform", low = 0.0, high = 80e6 }
//! "#).unwrap();
//! // E[min(0.25 X, 10m)] with X ~ U(0, 80m): 0.25 E[min(X, 40m)] = 0.25 * 30m = 7.5m.
//! assert!((games.expected_cost_if_occurs() - 7.5e6).abs() < 1e-3);
//! let err = toml::from_str::<Risk>("id = \"x\"\nname = \"x\"\nprobability = 1.5\nimpact = { dist = \"fixed\", value = 1 }\n");
//! assert!(err.unwrap_err().to_string().contains("probability: 1.5 is outside [0, 1]"));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::{Distribution, DistributionError, DistributionSpec};
use crate::money::Money;
use crate::period::{FinancialYear, PeriodError};

/// How far profile fractions may sum from one.
pub const PROFILE_SUM_TOLERANCE: f64 = 1e-9;

/// Errors in one risk's fields.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RiskError {
    /// An empty id.
    #[error("id: must not be empty")]
    EmptyId,
    /// A probability outside [0, 1].
    #[error("probability: {value:?} is outside [0, 1]")]
    Probability {
        /// The value given.
        value: f64,
    },
    /// A share outside [0, 1].
    #[error("share: {value:?} is outside [0, 1]")]
    Share {
        /// The value given.
        value: f64,
    },
    /// A negative cap.
    #[error("cap: {value} is negative")]
    NegativeCap {
        /// The value given.
        value: Money,
    },
    /// A bad impact distribution.
    #[error("impact.{0}")]
    Impact(#[from] DistributionError),
    /// A profile key that is not a financial year.
    #[error("profile: {0}")]
    ProfileYear(PeriodError),
    /// A profile fraction outside [0, 1].
    #[error("profile[\"{year}\"]: {value:?} is outside [0, 1]")]
    ProfileFraction {
        /// The year.
        year: String,
        /// The fraction.
        value: f64,
    },
    /// Fractions that do not sum to one.
    #[error("profile: fractions sum to {sum:?}, not 1")]
    ProfileSum {
        /// Their sum.
        sum: f64,
    },
    /// An empty profile.
    #[error("profile: names no year (leave it out to put the cost in the first year)")]
    ProfileEmpty,
    /// A recurring risk whose profile names several years.
    #[error(
        "profile: a recurring risk starts in one year, but its profile names {count} years ({years})"
    )]
    RecurringProfile {
        /// How many years it names.
        count: usize,
        /// Which.
        years: String,
    },
}

fn default_share() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// A risk as written by a user: plain data, not yet validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSpec {
    /// Unique id, used by correlations and in results.
    pub id: String,
    /// What the risk is.
    pub name: String,
    /// Probability it happens within the plan.
    pub probability: f64,
    /// Gross cost if it happens, in pounds.
    pub impact: DistributionSpec,
    /// Fraction of the cost falling in each year, keyed by labels like `2019/20`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<BTreeMap<String, f64>>,
    /// An annual cost from its start year to the end of the plan.
    #[serde(default, skip_serializing_if = "is_false")]
    pub recurring: bool,
    /// Fraction of the cost the council bears.
    #[serde(default = "default_share", skip_serializing_if = "is_one")]
    pub share: f64,
    /// Most the council can lose after its share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Money>,
    /// Category (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Owner (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A validated risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RiskSpec", into = "RiskSpec")]
pub struct Risk {
    spec: RiskSpec,
    impact: Distribution,
    /// Profile years in order with their fractions.
    profile: Vec<(FinancialYear, f64)>,
}

impl TryFrom<RiskSpec> for Risk {
    type Error = RiskError;
    fn try_from(spec: RiskSpec) -> Result<Risk, RiskError> {
        Risk::from_spec(spec)
    }
}

impl From<Risk> for RiskSpec {
    fn from(r: Risk) -> RiskSpec {
        r.spec
    }
}

impl Risk {
    /// Validates a spec.
    pub fn from_spec(spec: RiskSpec) -> Result<Risk, RiskError> {
        if spec.id.trim().is_empty() {
            return Err(RiskError::EmptyId);
        }
        if !(0.0..=1.0).contains(&spec.probability) {
            return Err(RiskError::Probability {
                value: spec.probability,
            });
        }
        if !(0.0..=1.0).contains(&spec.share) {
            return Err(RiskError::Share { value: spec.share });
        }
        if let Some(cap) = spec.cap
            && cap < Money::ZERO
        {
            return Err(RiskError::NegativeCap { value: cap });
        }
        let impact = Distribution::from_spec(spec.impact.clone())?;
        let mut profile = Vec::new();
        if let Some(p) = &spec.profile {
            if p.is_empty() {
                return Err(RiskError::ProfileEmpty);
            }
            let mut sum = 0.0;
            for (label, &fraction) in p {
                let year: FinancialYear = label.parse().map_err(RiskError::ProfileYear)?;
                if !(0.0..=1.0).contains(&fraction) {
                    return Err(RiskError::ProfileFraction {
                        year: label.clone(),
                        value: fraction,
                    });
                }
                sum += fraction;
                profile.push((year, fraction));
            }
            if (sum - 1.0).abs() > PROFILE_SUM_TOLERANCE {
                return Err(RiskError::ProfileSum { sum });
            }
            profile.sort_by_key(|(y, _)| *y);
            if spec.recurring && profile.len() != 1 {
                return Err(RiskError::RecurringProfile {
                    count: profile.len(),
                    years: p.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
        }
        Ok(Risk {
            spec,
            impact,
            profile,
        })
    }

    /// The data it was built from.
    pub fn spec(&self) -> &RiskSpec {
        &self.spec
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// Its impact distribution.
    pub fn impact(&self) -> &Distribution {
        &self.impact
    }

    /// Profile years and fractions, in year order (empty: all in the register's first year).
    pub fn profile(&self) -> &[(FinancialYear, f64)] {
        &self.profile
    }

    /// The cap as a float, infinite when there is none.
    pub fn cap_f64(&self) -> f64 {
        self.spec.cap.map_or(f64::INFINITY, Money::to_f64)
    }

    /// `E[min(share * impact, cap)]`: the expected cost if it happens (per year if recurring).
    pub fn expected_cost_if_occurs(&self) -> f64 {
        self.impact
            .expected_capped(self.spec.share, self.spec.cap.map(Money::to_f64))
    }
}
