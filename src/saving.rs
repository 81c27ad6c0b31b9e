//! Budget-reduction programmes: savings by year, their RAG status, and how likely they are to
//! be delivered.
//!
//! A [`Saving`] of `value` (the full-year saving, exact money) is due in `year`. Each trial
//! draws its delivery from the [`DeliveryModel`] of its RAG status:
//!
//! 1. with probability `p_slip` it slips: nothing is saved in its due year, nor (for a recurring
//!    saving) until its `delay` (default one year) has passed; a slipped one-off saving is lost
//!    unless `one_off_late` says it still arrives, as a one-off in that year;
//! 2. it is delivered in full with probability `p_full`; otherwise the fraction delivered is
//!    drawn from `partial` (a distribution on [0, 1]).
//!
//! The shortfall is `value * (1 - fraction)` (all of `value` in the due year of a slipped
//! saving). A **recurring** saving's shortfall recurs in every later year of the plan, because
//! the base budget assumed it; a **one-off** saving's shortfall falls in its own year only, and
//! a one-off saving does not reduce the base budget at all: the plan reports its reliance on
//! one-off measures beside the gap.
//!
//! # Default delivery models
//!
//! | RAG | `p_full` | `partial` when not in full | `p_slip` |
//! |---|---|---|---|
//! | delivered | 1.00 | (none) | 0.00 |
//! | green | 0.90 | uniform 0.5 to 1.0 | 0.05 |
//! | amber | 0.60 | uniform 0.0 to 1.0 | 0.20 |
//! | red | 0.25 | uniform 0.0 to 0.5 | 0.40 |
//!
//! These are assumptions, to be replaced by a council's own track record (calibration): the
//! full-delivery rates follow the usual reading of a RAG rating (green: on track; amber: at
//! risk; red: unlikely); a green saving that falls short mostly falls short a little, a red one
//! mostly a lot; and slippage grows with the rating, as Birmingham's papers describe savings
//! "getting more and more difficult" to deliver on time (the Improvement Panel's "Draft Assessment of Birmingham City Council's Improvement Plan", 18 March 2015, para 1.34).
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::saving::{Rag, DeliveryModel};
//! let amber = DeliveryModel::default_for(Rag::Amber);
//! // Expected fraction delivered in the due year: not slipped, then full or partial.
//! let f = (1.0 - 0.2) * (0.6 + 0.4 * 0.5);
//! assert!((amber.expected_fraction_in_due_year() - f).abs() < 1e-12);
//! assert_eq!("amberish".parse::<Rag>().unwrap_err().to_string(),
//!            "\"amberish\" is not one of delivered, green, amber, red");
//! ```

use std::fmt;
use std::str::FromStr;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::{Distribution, DistributionError, DistributionSpec};
use crate::money::Money;
use crate::period::{FinancialYear, PeriodError};
use crate::rng;

/// Errors in a saving or a delivery model.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SavingError {
    /// A RAG status that is not one of the four.
    #[error("{text:?} is not one of delivered, green, amber, red")]
    Rag {
        /// The text given.
        text: String,
    },
    /// A probability outside [0, 1].
    #[error("{field}: {value:?} is outside [0, 1]")]
    Probability {
        /// `p_full` or `p_slip`.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A partial-delivery distribution that reaches outside [0, 1].
    #[error(
        "partial: a fraction delivered must lie in [0, 1], but this distribution reaches {low:?} to {high:?}"
    )]
    PartialRange {
        /// Its lowest value.
        low: f64,
        /// Its highest value.
        high: f64,
    },
    /// A bad partial-delivery distribution.
    #[error("partial.{0}")]
    Partial(DistributionError),
    /// A bad delay distribution.
    #[error("delay.{0}")]
    Delay(DistributionError),
    /// A delay outside 1 to 30 years.
    #[error(
        "delay: a slipped saving is 1 to 30 years late (draws are rounded to whole years), but this distribution reaches {low:?} to {high:?}"
    )]
    DelayRange {
        /// Its lowest value.
        low: f64,
        /// Its highest value.
        high: f64,
    },
    /// An empty id.
    #[error("id: must not be empty")]
    EmptyId,
    /// A bad year label.
    #[error("year: {0}")]
    Year(PeriodError),
    /// A negative saving.
    #[error("value: {value} is negative (a saving reduces spending; enter a pressure instead)")]
    Negative {
        /// The value.
        value: Money,
    },
    /// A programme or directorate correlation outside [0, 1].
    #[error("{field}: {value:?} is outside [0, 1]")]
    Correlation {
        /// `programme_correlation` or `directorate_correlation`.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A bad delivery model under a name (`unidentified`).
    #[error("{field}.{source}")]
    Model {
        /// The key.
        field: &'static str,
        /// What is wrong.
        source: Box<SavingError>,
    },
    /// Programme and directorate correlations that add to more than one.
    #[error(
        "programme_correlation {programme:?} plus directorate_correlation {directorate:?} is more than 1 (two savings of one directorate and year would be more than perfectly correlated)"
    )]
    CorrelationSum {
        /// The programme correlation.
        programme: f64,
        /// The directorate correlation.
        directorate: f64,
    },
}

/// RAG status of a saving when the budget was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Rag {
    /// Already delivered.
    Delivered,
    /// On track.
    Green,
    /// At risk.
    Amber,
    /// Unlikely.
    Red,
}

impl Rag {
    /// All four, best first.
    pub const ALL: [Rag; 4] = [Rag::Delivered, Rag::Green, Rag::Amber, Rag::Red];

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Rag::Delivered => "delivered",
            Rag::Green => "green",
            Rag::Amber => "amber",
            Rag::Red => "red",
        }
    }
}

impl FromStr for Rag {
    type Err = SavingError;
    fn from_str(s: &str) -> Result<Rag, SavingError> {
        Rag::ALL
            .into_iter()
            .find(|r| r.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| SavingError::Rag {
                text: s.to_string(),
            })
    }
}

impl TryFrom<String> for Rag {
    type Error = SavingError;
    fn try_from(s: String) -> Result<Rag, SavingError> {
        s.parse()
    }
}

impl From<Rag> for String {
    fn from(r: Rag) -> String {
        r.name().to_string()
    }
}

impl fmt::Display for Rag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A delivery model as written: `{ p_full = 0.6, partial = { dist = "uniform", low = 0.0, high = 1.0 }, p_slip = 0.2 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySpec {
    /// Probability of delivery in full (when not slipped).
    pub p_full: f64,
    /// Fraction delivered when not in full.
    pub partial: DistributionSpec,
    /// Probability the saving slips (is late).
    pub p_slip: f64,
    /// How many years a slipped saving is late: a distribution of whole years, 1 to
    /// [`MAX_DELAY`] (draws are rounded to the nearest year). Default: one year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<DistributionSpec>,
    /// Whether a slipped one-off saving is still delivered, as a one-off in the year it arrives
    /// (default: false, a slipped one-off saving is lost).
    #[serde(default, skip_serializing_if = "is_false")]
    pub one_off_late: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The longest delay a slipped saving may have, in years.
pub const MAX_DELAY: f64 = 30.0;

/// A validated delivery model.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryModel {
    spec: DeliverySpec,
    partial: Distribution,
    delay: Option<Distribution>,
    /// In the latent's normal scale: below the first, a slipped partial delivery; below the
    /// second, slipped; below the third, a partial delivery on time (see `outcome_z`).
    thresholds: [f64; 3],
}

impl DeliveryModel {
    /// Validates a spec.
    pub fn from_spec(spec: DeliverySpec) -> Result<DeliveryModel, SavingError> {
        for (field, value) in [("p_full", spec.p_full), ("p_slip", spec.p_slip)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(SavingError::Probability { field, value });
            }
        }
        let partial =
            Distribution::from_spec(spec.partial.clone()).map_err(SavingError::Partial)?;
        let (low, high) = partial.support();
        if low < 0.0 || high > 1.0 {
            return Err(SavingError::PartialRange { low, high });
        }
        let delay = match &spec.delay {
            None => None,
            Some(d) => {
                let d = Distribution::from_spec(d.clone()).map_err(SavingError::Delay)?;
                let (low, high) = d.support();
                if low < 0.5 || high >= MAX_DELAY + 0.5 {
                    return Err(SavingError::DelayRange { low, high });
                }
                Some(d)
            }
        };
        let q = crate::distribution::std_normal_quantile;
        let short = 1.0 - spec.p_full;
        let thresholds = [
            q(spec.p_slip * short),
            q(spec.p_slip),
            q(spec.p_slip + (1.0 - spec.p_slip) * short),
        ];
        Ok(DeliveryModel {
            spec,
            partial,
            delay,
            thresholds,
        })
    }

    /// Years late, for a saving that slipped: the delay's draw rounded to the nearest year, or
    /// one year (with no draw, so a model without `delay` draws exactly as before).
    pub fn draw_delay(&self, rng: &mut rng::Rng) -> usize {
        match &self.delay {
            None => 1,
            Some(d) => (d.draw(rng).round() as usize).clamp(1, MAX_DELAY as usize),
        }
    }

    /// Whether a slipped saving's delay is drawn (a `delay` distribution), so that
    /// [`DeliveryModel::draw_delay`] takes from the stream.
    pub(crate) fn draws_delay(&self) -> bool {
        self.delay.is_some()
    }

    /// The probability that a saving is still late `k` years after its due year
    /// (`P(slipped and delay > k)`; `k = 0` gives `p_slip`).
    pub fn p_late_beyond(&self, k: usize) -> f64 {
        let beyond = match &self.delay {
            None => (k < 1) as u8 as f64,
            Some(d) => 1.0 - d.cdf(k as f64 + 0.5),
        };
        self.spec.p_slip * beyond
    }

    /// The documented default for a RAG status (see the module documentation).
    pub fn default_for(rag: Rag) -> DeliveryModel {
        let (p_full, low, high, p_slip) = match rag {
            Rag::Delivered => (1.0, 1.0, 1.0, 0.0),
            Rag::Green => (0.9, 0.5, 1.0, 0.05),
            Rag::Amber => (0.6, 0.0, 1.0, 0.2),
            Rag::Red => (0.25, 0.0, 0.5, 0.4),
        };
        DeliveryModel::from_spec(DeliverySpec {
            p_full,
            partial: DistributionSpec::Uniform { low, high },
            p_slip,
            delay: None,
            one_off_late: false,
        })
        .expect("the defaults are valid")
    }

    /// The spec.
    pub fn spec(&self) -> &DeliverySpec {
        &self.spec
    }

    /// Expected fraction of the saving delivered in its due year.
    pub fn expected_fraction_in_due_year(&self) -> f64 {
        (1.0 - self.spec.p_slip) * self.expected_fraction_when_not_slipped()
    }

    /// Expected fraction delivered once it does not (or no longer) slip.
    pub fn expected_fraction_when_not_slipped(&self) -> f64 {
        self.spec.p_full + (1.0 - self.spec.p_full) * self.partial.mean()
    }

    /// The delivery at quantile `u` of the delivery outcome (0 the worst, 1 the best): with
    /// `u` uniform it has exactly the distribution of [`DeliveryModel::draw`] (slipped with
    /// probability `p_slip`, the fraction independent of it), and the amount delivered in the
    /// due year never falls as `u` rises, so correlated `u`s are deliveries that move together.
    ///
    /// ```
    /// use fiscalrisk::saving::{Rag, DeliveryModel};
    /// let amber = DeliveryModel::default_for(Rag::Amber); // p_slip 0.2, p_full 0.6, U(0, 1)
    /// // The worst fifth slips; within it, the top 60% is delivered in full a year late.
    /// assert_eq!(amber.outcome(0.1), (true, 1.0));
    /// let (slipped, f) = amber.outcome(0.05); // a quarter of the way: the partial's 0.625 quantile
    /// assert!(slipped && (f - 0.625).abs() < 1e-12);
    /// let (slipped, f) = amber.outcome(0.36); // not slipped; the partial's median
    /// assert!(!slipped && (f - 0.5).abs() < 1e-12);
    /// assert_eq!(amber.outcome(0.99), (false, 1.0));
    /// ```
    pub fn outcome(&self, u: f64) -> (bool, f64) {
        let (p_slip, p_full) = (self.spec.p_slip, self.spec.p_full);
        let slipped = u < p_slip;
        // Both sides computed and one chosen without a branch: in a batch's loop whether a
        // partial delivery slipped cannot be predicted.
        let on_time = if p_slip < 1.0 {
            (u - p_slip) / (1.0 - p_slip)
        } else {
            u
        };
        let w = std::hint::select_unpredictable(slipped, u / p_slip, on_time);
        let short = 1.0 - p_full;
        let fraction = if w >= short {
            1.0
        } else {
            self.partial.quantile(w / short).unwrap_or(0.0)
        };
        (slipped, fraction)
    }

    /// [`DeliveryModel::outcome`] at `u = Φ(z)` for a standard normal latent `z`, computing
    /// `Φ(z)` only where the fraction depends on it (a partial delivery): the full-delivery
    /// regions are told apart by their thresholds in `z`, fixed once per model. Equal to
    /// `outcome(Φ(z))` but on the thresholds themselves (probability zero), with `Φ` from a
    /// table within 1e-13 of the exact cdf.
    ///
    /// ```
    /// use fiscalrisk::saving::{Rag, DeliveryModel};
    /// let amber = DeliveryModel::default_for(Rag::Amber);
    /// // The normal cdf to double precision (musl's erfc).
    /// let phi = |z: f64| 0.5 * libm::erfc(-z / 2f64.sqrt());
    /// for z in [-2.5, -1.2, -0.9, -0.3, 0.0, 0.4, 0.7071, 2.0] {
    ///     let (a, b) = (amber.outcome_z(z), amber.outcome(phi(z)));
    ///     assert_eq!(a.0, b.0);
    ///     assert!((a.1 - b.1).abs() < 1e-12);
    /// }
    /// ```
    pub fn outcome_z(&self, z: f64) -> (bool, f64) {
        let [slip_partial, slip, stay_partial] = self.thresholds;
        if z < slip {
            if z >= slip_partial {
                return (true, 1.0);
            }
        } else if z >= stay_partial {
            return (false, 1.0);
        }
        self.outcome(crate::distribution::std_normal_cdf_fast(z))
    }

    /// [`DeliveryModel::outcome_z`] for each latent of `z`, into `slipped` and `fraction`
    /// (the same values). The full deliveries are told apart without a branch, and the
    /// partial ones (the only ones that need `Φ(z)`) gathered and done after them, so that
    /// the loop over a batch does not stall on branches it cannot predict. `partial` is
    /// scratch space.
    pub(crate) fn outcomes_z(
        &self,
        z: &[f64],
        (slipped, fraction): (&mut [bool], &mut [f64]),
        partial: &mut Vec<u32>,
    ) {
        let [slip_partial, slip, stay_partial] = self.thresholds;
        partial.clear();
        partial.resize(z.len(), 0);
        let mut m = 0;
        for (j, ((&z, s), f)) in z.iter().zip(&mut *slipped).zip(&mut *fraction).enumerate() {
            *s = z < slip;
            *f = 1.0;
            partial[m] = j as u32;
            m += usize::from((z < slip_partial) | ((z >= slip) & (z < stay_partial)));
        }
        let table = crate::distribution::NormalCdfTable::get();
        for &j in &partial[..m] {
            let j = j as usize;
            (slipped[j], fraction[j]) = self.outcome(table.cdf(z[j]));
        }
    }

    /// One trial's delivery: whether it slipped, and the fraction delivered (in the due year
    /// when it did not slip, from the following year when it did).
    pub fn draw(&self, rng: &mut rng::Rng) -> (bool, f64) {
        let slipped = rng.random::<f64>() < self.spec.p_slip;
        let fraction = if rng.random::<f64>() < self.spec.p_full {
            1.0
        } else {
            self.partial.draw(rng)
        };
        (slipped, fraction)
    }
}

fn yes() -> bool {
    true
}

/// How a programme's savings are delivered: delivery models by RAG status (the defaults where
/// none is given) and how much deliveries move together. Written as one table,
/// `[savings_delivery]`, with a model per status and the two correlations:
///
/// ```toml
/// [savings_delivery]
/// programme_correlation = 0.3     # 0 to 1; default 0
/// directorate_correlation = 0.2   # 0 to 1; default 0
/// amber = { p_full = 0.6, partial = { dist = "uniform", low = 0.0, high = 1.0 }, p_slip = 0.2 }
/// ```
///
/// **The one-factor model.** Each saving's delivery is its [`DeliveryModel::outcome`] at
/// `u = Φ(z)`, where `z = √ρp·F + √ρd·G + √(1 − ρp − ρd)·ε`: `F` is a common factor of the
/// savings due in one year, `G` a factor of the savings of one directorate due in that year,
/// `ε` the saving's own, all independent standard normals (a Gaussian copula on the delivery
/// latents, as for risks). Two savings due in one year have latent correlation `ρp`, or
/// `ρp + ρd` in one directorate; savings due in different years are independent; a saving with
/// no directorate has no directorate factor. Each saving's own distribution is the same at
/// any correlation: only how they move together changes, so splitting a saving into parts no
/// longer diversifies its risk away. With both correlations 0 each saving is drawn exactly as
/// before (the same numbers for the same seed).
///
/// A scenario's `correlations` may also link a saving to a risk or a pressure
/// (`["S-003", "waste_dispute", 0.5]`): the saving's latent then loads on the risk's (or the
/// pressure's) latent with the correlation converted as for risks (`2 sin(πρ/6)`), signed so
/// that a positive correlation makes a costlier risk a worse delivery, and its own part shrinks
/// to keep unit variance (the plan refuses loadings that would need more than all of it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProgrammeDelivery {
    /// Delivery models overriding the defaults, by RAG status.
    pub models: std::collections::BTreeMap<Rag, DeliverySpec>,
    /// `ρp`: the latent correlation of any two savings due in one year.
    pub programme_correlation: f64,
    /// `ρd`: the further correlation of two savings of one directorate due in one year.
    pub directorate_correlation: f64,
    /// The delivery model of savings still to be identified (default: never delivered).
    pub unidentified: Option<DeliverySpec>,
}

impl ProgrammeDelivery {
    /// Whether nothing is set (every default, independent deliveries).
    pub fn is_empty(&self) -> bool {
        self.models.is_empty() && !self.is_correlated() && self.unidentified.is_none()
    }

    /// Whether deliveries move together.
    pub fn is_correlated(&self) -> bool {
        self.programme_correlation != 0.0 || self.directorate_correlation != 0.0
    }

    /// Checks the correlations: each in [0, 1], their sum at most 1.
    pub fn validate(&self) -> Result<(), SavingError> {
        for (field, value) in [
            ("programme_correlation", self.programme_correlation),
            ("directorate_correlation", self.directorate_correlation),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(SavingError::Correlation { field, value });
            }
        }
        if self.programme_correlation + self.directorate_correlation > 1.0 + 1e-12 {
            return Err(SavingError::CorrelationSum {
                programme: self.programme_correlation,
                directorate: self.directorate_correlation,
            });
        }
        Ok(())
    }
}

impl Serialize for ProgrammeDelivery {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = ser.serialize_map(None)?;
        if self.programme_correlation != 0.0 {
            map.serialize_entry("programme_correlation", &self.programme_correlation)?;
        }
        if self.directorate_correlation != 0.0 {
            map.serialize_entry("directorate_correlation", &self.directorate_correlation)?;
        }
        for (rag, model) in &self.models {
            map.serialize_entry(rag.name(), model)?;
        }
        if let Some(model) = &self.unidentified {
            map.serialize_entry("unidentified", model)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ProgrammeDelivery {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ProgrammeDelivery;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a table of delivery models by RAG status (delivered, green, amber, red), with programme_correlation and directorate_correlation",
                )
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = ProgrammeDelivery::default();
                let (mut programme, mut directorate) = (false, false);
                while let Some(key) = map.next_key::<String>()? {
                    let twice = |what: &str| {
                        serde::de::Error::custom(format!("{key:?}: {what} is given twice"))
                    };
                    match key.as_str() {
                        "programme_correlation" => {
                            if std::mem::replace(&mut programme, true) {
                                return Err(twice("programme_correlation"));
                            }
                            out.programme_correlation = map.next_value()?;
                        }
                        "directorate_correlation" => {
                            if std::mem::replace(&mut directorate, true) {
                                return Err(twice("directorate_correlation"));
                            }
                            out.directorate_correlation = map.next_value()?;
                        }
                        "unidentified" => {
                            if out.unidentified.is_some() {
                                return Err(twice("unidentified"));
                            }
                            out.unidentified = Some(map.next_value()?);
                        }
                        _ => {
                            let rag: Rag = key.parse().map_err(|_| {
                                serde::de::Error::custom(format!(
                                    "{key:?} is not one of delivered, green, amber, red, unidentified, programme_correlation, directorate_correlation"
                                ))
                            })?;
                            let model: DeliverySpec = map.next_value()?;
                            if out.models.insert(rag, model).is_some() {
                                return Err(twice(&format!("the delivery model for {rag}")));
                            }
                        }
                    }
                }
                Ok(out)
            }
        }
        de.deserialize_map(Visitor)
    }
}

/// A saving as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavingSpec {
    /// Unique id.
    pub id: String,
    /// What it is.
    pub name: String,
    /// The year it is due (`2019/20`).
    pub year: String,
    /// Full-year saving in pounds.
    pub value: Money,
    /// RAG status when the budget was set.
    pub rag: Rag,
    /// Whether it reduces the base budget for good (true) or is a one-off measure.
    #[serde(default = "yes")]
    pub recurring: bool,
    /// Directorate (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directorate: Option<String>,
    /// This saving's own delivery model, instead of its RAG status's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliverySpec>,
}

/// A validated saving.
#[derive(Debug, Clone, PartialEq)]
pub struct Saving {
    spec: SavingSpec,
    year: FinancialYear,
    delivery: Option<DeliveryModel>,
}

impl Saving {
    /// Validates a spec.
    pub fn from_spec(spec: SavingSpec) -> Result<Saving, SavingError> {
        if spec.id.trim().is_empty() {
            return Err(SavingError::EmptyId);
        }
        let year = spec.year.parse().map_err(SavingError::Year)?;
        if spec.value < Money::ZERO {
            return Err(SavingError::Negative { value: spec.value });
        }
        let delivery = spec
            .delivery
            .clone()
            .map(DeliveryModel::from_spec)
            .transpose()?;
        Ok(Saving {
            spec,
            year,
            delivery,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &SavingSpec {
        &self.spec
    }

    /// The due year.
    pub fn year(&self) -> FinancialYear {
        self.year
    }

    /// Its own delivery model, if it has one.
    pub fn delivery(&self) -> Option<&DeliveryModel> {
        self.delivery.as_ref()
    }

    /// The shortfall in each year `due..years` of a plan, given one trial's delivery:
    /// `(slipped, fraction)`. Index 0 is the due year.
    pub fn shortfall(&self, slipped: bool, fraction: f64, years_from_due: usize) -> Vec<f64> {
        let value = self.spec.value.to_f64();
        let short = value * (1.0 - fraction);
        let first = if slipped { value } else { short };
        let later = if self.spec.recurring { short } else { 0.0 };
        (0..years_from_due)
            .map(|i| if i == 0 { first } else { later })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        for rag in Rag::ALL {
            let m = DeliveryModel::default_for(rag);
            assert!((0.0..=1.0).contains(&m.expected_fraction_in_due_year()));
        }
        assert_eq!(
            DeliveryModel::default_for(Rag::Delivered).expected_fraction_in_due_year(),
            1.0
        );
        let bad = |p_full, low, high, p_slip| {
            DeliveryModel::from_spec(DeliverySpec {
                p_full,
                partial: DistributionSpec::Uniform { low, high },
                p_slip,
                delay: None,
                one_off_late: false,
            })
            .unwrap_err()
            .to_string()
        };
        assert_eq!(bad(1.2, 0.0, 1.0, 0.1), "p_full: 1.2 is outside [0, 1]");
        assert_eq!(bad(0.5, 0.0, 1.0, -0.1), "p_slip: -0.1 is outside [0, 1]");
        assert_eq!(
            bad(0.5, 0.0, 1.5, 0.1),
            "partial: a fraction delivered must lie in [0, 1], but this distribution reaches 0.0 to 1.5"
        );
        assert_eq!(
            bad(0.5, 1.0, 0.0, 0.1),
            "partial.high: 0.0 is below low 1.0"
        );
    }

    #[test]
    fn batch_outcomes_are_the_single_outcomes() {
        let model = |p_full, partial, p_slip| {
            DeliveryModel::from_spec(DeliverySpec {
                p_full,
                partial,
                p_slip,
                delay: None,
                one_off_late: false,
            })
            .unwrap()
        };
        let uniform = |low, high| DistributionSpec::Uniform { low, high };
        let mut models: Vec<DeliveryModel> = Rag::ALL
            .iter()
            .map(|&r| DeliveryModel::default_for(r))
            .collect();
        models.extend([
            model(0.0, uniform(0.0, 1.0), 0.0),
            model(0.0, uniform(0.2, 0.9), 1.0),
            model(1.0, uniform(0.0, 1.0), 1.0),
            model(0.5, uniform(0.0, 1.0), 0.5),
            model(
                0.3,
                DistributionSpec::Pert {
                    low: 0.1,
                    mode: 0.7,
                    high: 1.0,
                    lamb: 4.0,
                },
                0.25,
            ),
        ]);
        let mut rng = crate::rng::stream(7, 0);
        for m in &models {
            // Normal latents, the thresholds themselves and their neighbours, and the ends.
            let mut z = crate::plan::engine::std_normals(&mut rng, 5000);
            for t in m.thresholds {
                z.extend([t, t.next_down(), t.next_up()]);
            }
            z.extend([-40.0, 40.0, 0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY]);
            let (mut slipped, mut fraction) = (vec![false; z.len()], vec![-1.0; z.len()]);
            m.outcomes_z(&z, (&mut slipped, &mut fraction), &mut Vec::new());
            let mut partial = 0;
            for (j, &x) in z.iter().enumerate() {
                let (s, f) = m.outcome_z(x);
                assert_eq!(
                    (slipped[j], fraction[j].to_bits()),
                    (s, f.to_bits()),
                    "z = {x}"
                );
                partial += usize::from(f < 1.0);
            }
            // The batch's partial deliveries were exercised wherever the model has them.
            assert_eq!(partial > 0, m.spec.p_full < 1.0, "{:?}", m.spec);
        }
    }

    #[test]
    fn recurring_shortfalls_carry_and_one_offs_do_not() {
        let spec = |recurring| SavingSpec {
            id: "S".into(),
            name: "S".into(),
            year: "2019/20".into(),
            value: "1000000".parse().unwrap(),
            rag: Rag::Amber,
            recurring,
            directorate: None,
            delivery: None,
        };
        let rec = Saving::from_spec(spec(true)).unwrap();
        let one = Saving::from_spec(spec(false)).unwrap();
        assert_eq!(rec.shortfall(false, 0.75, 3), vec![250_000.0; 3]);
        assert_eq!(one.shortfall(false, 0.75, 3), vec![250_000.0, 0.0, 0.0]);
        assert_eq!(rec.shortfall(true, 1.0, 3), vec![1_000_000.0, 0.0, 0.0]);
        assert_eq!(rec.shortfall(true, 0.5, 2), vec![1_000_000.0, 500_000.0]);
        let mut neg = spec(true);
        neg.value = "-5".parse().unwrap();
        assert!(
            Saving::from_spec(neg)
                .unwrap_err()
                .to_string()
                .starts_with("value: -5.00 is negative")
        );
        let mut bad_year = spec(true);
        bad_year.year = "2019".into();
        assert!(
            Saving::from_spec(bad_year)
                .unwrap_err()
                .to_string()
                .starts_with("year: ")
        );
    }
}
