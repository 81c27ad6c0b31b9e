//! # fiscalrisk
//!
//! How likely is a public body to run out of money, and why?
//!
//! The core is pure Rust; the Python binding lives in `src/python/` behind the `python` feature.
//! One module per domain concept:
//!
//! - [`money`]: exact money ([`money::Money`] on `rust_decimal`);
//! - [`period`]: UK financial years (`2019/20`) and plan horizons;
//! - [`distribution`]: distributions of uncertain amounts;
//! - [`risk`]: a risk: probability, impact, share, cap, profile;
//! - [`register`]: the probability-weighted risk register and its correlations;
//! - [`correlation`]: rank correlations, the Gaussian copula's matrix and its repair;
//! - [`simulation`]: the reproducible Monte Carlo engine;
//! - [`monitoring`]: in-year budget monitoring: the monthly table, its checks, run-rate
//!   forecasts and the movement since last month;
//! - [`saving`]: budget-reduction programmes: savings, RAG status, delivery models;
//! - [`reserves`]: reserves and the reserves policy;
//! - [`budget_setting`]: a budget set every year: council tax to the limit, new savings up to
//!   a capacity, then reserves;
//! - [`efs`]: exceptional financial support as a response to a failed statutory test;
//! - [`hra`]: the Housing Revenue Account, ring-fenced, as its own ledger;
//! - [`plan`]: the medium-term financial plan (scenario files) and its simulation;
//! - [`resilience`]: financial resilience indicators from published returns, ranked among
//!   peers;
//! - [`rng`]: the named random number generator and its streams.
//!
//! Each module has one error enum; every message names the field and the value.
#![warn(missing_docs)]

pub mod amount;
pub mod budget_setting;
pub mod capital;
pub mod collection_fund;
pub mod correlation;
pub mod distribution;
pub mod dsg;
pub mod efs;
pub mod funding;
pub mod hra;
pub mod money;
pub mod monitoring;
pub mod period;
pub mod plan;
pub mod provision;
pub mod referendum;
pub mod register;
pub mod reserves;
pub mod resilience;
pub mod risk;
pub mod rng;
pub mod saving;
pub mod simulation;
pub mod source;
pub mod tracker;
pub mod treasury;

#[cfg(feature = "python")]
mod python;

pub use distribution::{Distribution, DistributionSpec};
pub use money::Money;
pub use period::{FinancialYear, Horizon};
pub use register::{CorrelationSpec, RiskRegister};
pub use risk::{Risk, RiskSpec};
pub use simulation::{SimulationOptions, SimulationResult, simulate};
