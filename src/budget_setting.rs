//! A budget set every year (`[budget_setting]`): how the council closes the gap it carries into
//! each next year, in the order a chief finance officer would use, and how much it can close.
//!
//! Before each year after the first (the first year's budget is the plan as given), the
//! budget must meet what the year before leaves it: the recurring gap carried in and any deficit
//! brought forward (section 31A(2)(d) of the Local Government Finance Act 1992). It is closed:
//!
//! 1. by **council tax** up to the referendum limit, when `council_tax = "to_limit"` (default
//!    `"as_planned"`: no more than the plan's increases): the recurring gap only, since a rise is
//!    permanent; the headroom is the year's tax base times the previous year's Band D times the
//!    difference between the largest lawful increase (one basis point below the core principle,
//!    2.99% for 3%, plus the social care precept allowed) and the planned one;
//! 2. by **new savings** up to `new_savings_capacity`, a share of the year's net budget (a
//!    number or a distribution, drawn each year), first against the recurring gap, then against
//!    the deficit (one-off measures); they are delivered by `new_savings_delivery` (default: the
//!    programme's amber model), so they slip and fall short like any saving;
//! 3. by **reserves**, as the year meets any gap, and as the policy allows.
//!
//! The budget test of the statutory test (see `plan::year`) then asks whether what is left
//! after the council tax and new savings available exceeds usable reserves above the floor.
//!
//! # The default capacity
//!
//! `new_savings_capacity` defaults to 0.02 (2% of the net budget a year). The National Audit
//! Office's "Financial sustainability of local authorities 2018" (HC 834, 8 March 2018) found
//! councils' spending power down 28.6% in real terms from 2010-11 to 2017-18, about 4% a year,
//! and that in the three years to 2016-17 less than half of the savings required were met by
//! reducing service spending: about 2% of the budget a year, sustained across the sector. A
//! council with a record of larger programmes (Birmingham's £105.4m for 2015/16 on a net budget
//! near £880m, 12%) should say so.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::budget_setting::{BudgetSetting, BudgetSettingSpec, CouncilTaxPolicy};
//! let spec: BudgetSettingSpec = toml::from_str(
//!     "council_tax = \"to_limit\"\nnew_savings_capacity = { dist = \"uniform\", low = 0.01, high = 0.03 }",
//! ).unwrap();
//! assert_eq!(spec.council_tax, CouncilTaxPolicy::ToLimit);
//! let b = BudgetSetting::new(spec).unwrap();
//! assert!((b.capacity().mean() - 0.02).abs() < 1e-12);
//! // A bare number is a fixed share; the default is 2%.
//! let plain: BudgetSettingSpec = toml::from_str("").unwrap();
//! assert_eq!(BudgetSetting::new(plain).unwrap().capacity().mean(), 0.02);
//! ```

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::distribution::{Distribution, DistributionError, DistributionSpec};
use crate::money::Money;
use crate::saving::{DeliveryModel, DeliverySpec, SavingError};

/// The default share of the net budget a year's new savings can close (see the module
/// documentation for its evidence).
pub const DEFAULT_CAPACITY: f64 = 0.02;

/// Errors in `[budget_setting]`, each naming its key.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BudgetSettingError {
    /// A bad capacity distribution.
    #[error("budget_setting.new_savings_capacity.{0}")]
    Capacity(DistributionError),
    /// A capacity that reaches outside [0, 1].
    #[error(
        "budget_setting.new_savings_capacity: a share of the net budget lies in [0, 1] (0.02 is 2%), but this reaches {low:?} to {high:?}"
    )]
    CapacityRange {
        /// Its lowest value.
        low: f64,
        /// Its highest value.
        high: f64,
    },
    /// A bad delivery model.
    #[error("budget_setting.new_savings_delivery.{0}")]
    Delivery(SavingError),
}

/// How far the budget raises council tax to close a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouncilTaxPolicy {
    /// No more than the plan's increases.
    #[default]
    AsPlanned,
    /// Up to the referendum limit.
    ToLimit,
}

/// The share of the net budget new savings can close in a year: a number (a fixed share) or a
/// distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity(pub DistributionSpec);

impl Default for Capacity {
    fn default() -> Capacity {
        Capacity(DistributionSpec::Fixed {
            value: Money::from_f64(DEFAULT_CAPACITY).expect("a valid share"),
        })
    }
}

impl Serialize for Capacity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            DistributionSpec::Fixed { value } => s.serialize_f64(value.to_f64()),
            d => d.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Capacity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Capacity, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Capacity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a share of the net budget (0.02 is 2%) or a distribution of one")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Capacity, E> {
                let value = Money::from_f64(v).map_err(|e| E::custom(e.to_string()))?;
                Ok(Capacity(DistributionSpec::Fixed { value }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Capacity, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Capacity, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Capacity, A::Error> {
                DistributionSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Capacity)
            }
        }
        d.deserialize_any(V)
    }
}

/// `[budget_setting]` as written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSettingSpec {
    /// How far council tax may rise to close a gap (default `"as_planned"`).
    #[serde(default)]
    pub council_tax: CouncilTaxPolicy,
    /// The share of the net budget new savings can close in a year (default 0.02).
    #[serde(default)]
    pub new_savings_capacity: Capacity,
    /// How new savings are delivered (default: the programme's amber model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_savings_delivery: Option<DeliverySpec>,
}

/// A validated `[budget_setting]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetSetting {
    spec: BudgetSettingSpec,
    capacity: Distribution,
    delivery: Option<DeliveryModel>,
}

impl BudgetSetting {
    /// Validates a spec: the capacity within [0, 1], the delivery model's probabilities and
    /// distributions.
    pub fn new(spec: BudgetSettingSpec) -> Result<BudgetSetting, BudgetSettingError> {
        let capacity = Distribution::from_spec(spec.new_savings_capacity.0.clone())
            .map_err(BudgetSettingError::Capacity)?;
        let (low, high) = capacity.support();
        if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) {
            return Err(BudgetSettingError::CapacityRange { low, high });
        }
        let delivery = spec
            .new_savings_delivery
            .clone()
            .map(DeliveryModel::from_spec)
            .transpose()
            .map_err(BudgetSettingError::Delivery)?;
        Ok(BudgetSetting {
            spec,
            capacity,
            delivery,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &BudgetSettingSpec {
        &self.spec
    }

    /// The share of the net budget new savings can close in a year.
    pub fn capacity(&self) -> &Distribution {
        &self.capacity
    }

    /// The delivery model the spec states, if any (else the programme's amber model).
    pub fn delivery(&self) -> Option<&DeliveryModel> {
        self.delivery.as_ref()
    }

    /// Whether the budget raises council tax to the referendum limit.
    pub fn to_limit(&self) -> bool {
        self.spec.council_tax == CouncilTaxPolicy::ToLimit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<BudgetSetting, String> {
        let s: BudgetSettingSpec = toml::from_str(text).map_err(|e| e.to_string())?;
        BudgetSetting::new(s).map_err(|e| e.to_string())
    }

    #[test]
    fn a_capacity_is_a_number_or_a_distribution_within_zero_and_one() {
        assert_eq!(
            spec("new_savings_capacity = 0.05")
                .unwrap()
                .capacity()
                .mean(),
            0.05
        );
        assert_eq!(
            spec("new_savings_capacity = 0").unwrap().capacity().mean(),
            0.0
        );
        let e = spec("new_savings_capacity = 1.5").unwrap_err();
        assert!(
            e.starts_with("budget_setting.new_savings_capacity: a share"),
            "{e}"
        );
        let e = spec("new_savings_capacity = { dist = \"uniform\", low = -0.1, high = 0.1 }")
            .unwrap_err();
        assert!(e.contains("-0.1"), "{e}");
        let e = spec("new_savings_capacity = \"lots\"").unwrap_err();
        assert!(e.contains("a share of the net budget"), "{e}");
        let e = spec("council_tax = \"to_the_moon\"").unwrap_err();
        assert!(e.contains("as_planned") && e.contains("to_limit"), "{e}");
        let e = spec("new_savings_delivery = { p_full = 2.0, partial = { dist = \"fixed\", value = 1 }, p_slip = 0 }")
            .unwrap_err();
        assert!(
            e.starts_with("budget_setting.new_savings_delivery.p_full"),
            "{e}"
        );
    }

    #[test]
    fn a_fixed_capacity_writes_back_as_a_number() {
        let s: BudgetSettingSpec = toml::from_str("new_savings_capacity = 0.03").unwrap();
        let text = toml::to_string(&s).unwrap();
        assert!(text.contains("new_savings_capacity = 0.03"), "{text}");
        assert_eq!(toml::from_str::<BudgetSettingSpec>(&text).unwrap(), s);
    }
}
