//! The medium-term financial plan, simulated: how likely is the council to breach its reserves
//! policy, fail to balance next year's budget, or run out of reserves, in which year, and why?
//!
//! A [`Scenario`] holds the plan (years and net budget), pressures, savings with their delivery
//! models, risks with their correlations, the in-year position, named reserves and the reserves
//! policy. One ledger ([`ledger`]) runs each year, in exact decimals for a plan with no
//! uncertainty ([`Scenario::ledger`]) and in floats for each Monte Carlo trial:
//!
//! * **gap** = recurring part still open + one-off part. Recurring: recurring pressures and
//!   risks, the lasting shortfall of recurring savings, one-off savings of earlier years (the
//!   base budget does not keep them: unless replaced, the same amount is needed again) and the
//!   underlying in-year overspend. One-off: one-off pressures and risk costs, the due-year part
//!   of savings shortfalls.
//! * **management response** `m`: each year closes the fraction `m` of the recurring gap still
//!   open at the end of the year before. Closures are recurring measures and accumulate: a fixed
//!   recurring pressure of 10 with `m = 0.5` leaves gaps of 10, 5, 2.5, 1.25, ...
//! * **reserves** meet the gap in the order a chief finance officer draws them (see
//!   [`crate::reserves`]): usable earmarked reserves above their minimums in draw order, the
//!   general fund, then the earmarked minimums; a surplus goes to the general fund. Transfers
//!   and planned contributions and uses by year come first.
//! * **policy**: the general fund below its minimum; reserves funding recurring spending (the
//!   part of the open recurring gap actually met from reserves, plus planned uses for recurring
//!   spending) unless the policy allows it; usable reserves below zero: **exhausted** (a year
//!   counts as exhausted when reserves were exhausted in it or before).
//! * **the statutory test** (`p_s114`, with `p_s114_in_year` and `p_s114_budget`): in year,
//!   usable reserves end the year below `policy.s114_floor` (s114(3) of the Local Government
//!   Finance Act 1988); or the next budget cannot be balanced, the recurring gap carried into
//!   it (the open recurring gap, plus the year's one-off savings, which fall out) and any
//!   deficit brought forward exceeding usable reserves above that floor (s31A of the Local
//!   Government Finance Act 1992). The general fund's minimum plays no part. The budget test
//!   fires before exhaustion, as real notices have. See [`year`], where the year is written
//!   once for the exact ledger, the simulation and the reverse stress test.
//! * **in-year hand-over** (`[in_year]`): this year's forecast overspend is met from reserves
//!   before the plan's first year; the underlying overspend (the forecast plus the one-off
//!   mitigations inside it) recurs in every year's base budget.
//!
//! Trials run in the risk engine's batches: batch `b` draws the risks on its main stream (the
//! same numbers as simulating the register alone), and every other component (pressures,
//! funding and spending, savings, the in-year overspend, capital, a budget set every year) on a
//! stream of its own keyed by (seed, batch, component) (`rng::component`), so that adding a
//! component leaves every other draw as it was.
//!
//! The module follows the flow: [`spec`] (the file, validation, shared types), [`ledger`] (the
//! year's arithmetic), `engine` (the batches), `stress` (the reverse stress test, which calls
//! the engine), `minimum` (the risk-assessed minimum, itemised; it calls the engine too) and `result` (tables read from the engine's accumulators).
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::plan::Scenario;
//! let s = Scenario::from_toml(r#"
//! [plan]
//! name = "Two years"
//! first_year = "2019/20"
//! years = 2
//! net_budget = [100e6, 102e6]
//!
//! [[pressures]]
//! name = "Care demand"
//! amount = { dist = "fixed", value = 5e6 }
//! first_year = "2019/20"
//! recurring = true
//!
//! [reserves]
//! general_fund = 8e6
//! "#).unwrap();
//! let r = s.simulate(1000, 1, None).unwrap();
//! let years = r.by_year();
//! // A 5m recurring gap a year: 3m left after 2019/20, -2m (exhausted) after 2020/21.
//! assert_eq!(years[0].reserves_p50, 3e6);
//! assert_eq!(years[1].p_exhausted, 1.0);
//! // The 5m carried into 2020/21 exceeds the 3m left: the next budget cannot be balanced.
//! assert_eq!(years[0].p_s114, 1.0);
//! ```

pub(crate) mod engine;
pub mod ledger;
mod minimum;
pub mod mtfs;
mod result;
mod setting;
mod sheet;
pub mod spec;
mod stress;
pub mod year;

pub use ledger::LedgerRow;
pub use minimum::{MinimumRow, MinimumStatement};
pub use mtfs::{
    BridgeRow, Case, CouncilTaxRow, MTFS_COLUMNS, MtfsLine, MtfsRow, Sensitivity, bridge,
};
pub use result::{
    BUDGET_ITEM, BreachRow, CAPITAL_ITEM, DEBT_INDICATORS, DriverRow, EFS_ITEM, FORWARD_INDICATORS,
    ForwardRow, IN_YEAR_ITEM, PlanResult, ProvisionRow, RESPONSE_ITEM, RETURNING_ITEM, ReserveRow,
    SHEET_ITEM, ShortfallRow, TREASURY_ITEM, TrialTable, USABLE_RESERVES, YearRow,
};
pub use spec::{
    Condition, InYearSpec, MAX_INPUT_BYTES, MAX_ITEMS, MAX_NAME, PlanError, PlanSpec, PressureSpec,
    Scenario, ScenarioSpec,
};
pub use stress::{Combination, EXHAUSTIVE_SETS, ReverseStress, SMALLEST_SETS, StressInput};
pub use year::Reason;

#[cfg(test)]
mod tests;
