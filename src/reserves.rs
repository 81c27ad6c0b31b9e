//! Reserves and the reserves policy.
//!
//! # Reserves
//!
//! The **general fund** (unallocated) balance and named **earmarked reserves**. Each earmarked
//! reserve has a `balance`, a `committed` part (already promised: never available for a gap), a
//! `usable` flag (false: ring-fenced, such as schools balances, never drawn for the council's
//! gaps) and a `minimum` below which it is drawn only once the general fund is empty. A year's
//! gap is met the way a chief finance officer meets it:
//!
//! 1. usable earmarked reserves above their minimum, lowest `draw_order` first (contingency
//!    and financial resilience reserves are set up to be drawn first; ties in file order);
//! 2. the general fund, down to zero (it has the policy minimum, and is drawn last);
//! 3. what is left of the usable earmarked reserves (their minimums), in draw order;
//! 4. anything still unmet is a deficit, carried on the general fund (below zero).
//!
//! A surplus (a negative gap) goes to the general fund. **Usable reserves** are the general
//! fund plus the uncommitted balances of usable earmarked reserves; below zero they are
//! **exhausted**. Moving money between usable reserves, or changing the draw order, changes
//! which balance falls, never the total: exhaustion does not depend on it, the general fund's
//! minimum does.
//!
//! Planned movements are each under a name that says its direction, by year label, always
//! positive amounts: `planned_contribution` (added to the reserve), `planned_use` (taken from
//! it, for one-off spending: what the reserve is for) and, on the general fund,
//! `planned_use_for_recurring` (reserves balancing recurring spending: a policy breach unless
//! the policy allows it; the spending it funds stays in the base budget, so the need returns
//! to the next year's gap unless that year's planned use meets it again). A planned use larger
//! than its reserve's balance takes the rest from
//! the general fund. `transfers` move an amount between reserves at the start of a year (at
//! most what the source holds then); `general_fund` names the general fund.
//!
//! `general_fund` may be negative: a deficit brought forward, which the plan's first budget
//! must provide for (Local Government Finance Act 1992, s31A(2)(d)).
//!
//! # Policy
//!
//! `s114_floor` (£, default 0) is the statutory test's floor on usable reserves (see
//! `plan::year`); the minimum general fund balance below is a prudence level and plays no part
//! in that test.
//!
//! The minimum general fund balance is an amount, a share of each year's net budget, or
//! risk-assessed, by one of two documented methods that give **one figure for the plan**:
//!
//! * `risk_assessed = c`: the quantile `c` (e.g. 0.95) of the plan's cumulative one-off
//!   exposure beyond the budget (one-off risk costs, one-off pressures beyond their budgeted
//!   mean, the due-year part of savings shortfalls, the in-year overspend), simulated, and
//!   itemised by `Scenario::minimum_statement`;
//! * `risk_matrix = [...]`: the method of councils' budget risk matrices: each risk's impact
//!   (its mean cost if it occurs, the council's share and cap applied; a recurring risk's annual
//!   cost) times the provision factor of the likelihood band its probability falls in, summed
//!   over the register. Bands are `{ up_to = probability, factor = share }`, in increasing
//!   `up_to`, the last reaching 1.
//!
//! And the policy says whether reserves may fund recurring gaps. Birmingham City Council's
//! reserves policy (approved 21 January 2019) and its external auditor's statutory
//! recommendation (July 2018) say they may not: reserves are for one-off "rainy day" events,
//! "not ... to meet ongoing pressures or where savings have not been achieved". So the default is
//! `false`, and the part of a recurring gap actually met from reserves, and any planned use for
//! recurring spending, is reported as a policy breach.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::reserves::{Policy, Minimum, Reserves};
//! let p: Policy = toml::from_str("minimum_general_fund = { percent_of_budget = 0.05 }").unwrap();
//! assert_eq!(p.minimum_general_fund, Minimum::PercentOfBudget(0.05));
//! assert!(!p.reserves_for_recurring_gaps);
//!
//! // A bare signed number is refused: its direction would have to be guessed.
//! let r: Reserves = toml::from_str("general_fund = 10e6\nplanned = { \"2019/20\" = -5e6 }").unwrap();
//! assert!(r.validate().unwrap_err().to_string().contains("planned_use"));
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::MAX_AMOUNT;
use crate::money::Money;
use crate::period::{FinancialYear, Horizon, PeriodError};

/// The name by which transfers refer to the general fund.
pub const GENERAL_FUND: &str = "general_fund";

/// Errors in reserves or the policy, each naming its key.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ReservesError {
    /// A negative amount.
    #[error("{field}: {value} is negative (amounts are positive; the key says the direction)")]
    Negative {
        /// The field.
        field: String,
        /// The value.
        value: Money,
    },
    /// An amount beyond what fiscalrisk accepts.
    #[error(
        "{field}: {value} is beyond the {MAX_AMOUNT:e} in absolute value that fiscalrisk accepts"
    )]
    TooLarge {
        /// The field.
        field: String,
        /// The value.
        value: Money,
    },
    /// A committed amount larger than the balance.
    #[error("{field}: committed {committed} is more than the balance {balance}")]
    Overcommitted {
        /// The field.
        field: String,
        /// The committed amount.
        committed: Money,
        /// The balance.
        balance: Money,
    },
    /// A percentage or confidence outside its range.
    #[error("minimum_general_fund.{field}: {value:?} is outside {range}")]
    Range {
        /// `percent_of_budget`, `risk_assessed` or a risk-matrix key.
        field: String,
        /// The value.
        value: f64,
        /// The range allowed.
        range: &'static str,
    },
    /// Risk-matrix bands out of order or not reaching probability 1.
    #[error("minimum_general_fund.risk_matrix: {0}")]
    Bands(String),
    /// The old signed `planned` key.
    #[error(
        "planned: a bare signed number is ambiguous; write planned_use (taken from reserves) or planned_contribution (added to reserves), each a positive amount by year"
    )]
    BareSigned,
    /// Two reserves with one name, or an earmarked reserve named like the general fund.
    #[error("earmarked[{index}].name: {name:?} {why}")]
    Name {
        /// Its position.
        index: usize,
        /// The name.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// A transfer or movement naming no reserve, or a bad transfer.
    #[error("{field}: {message}")]
    Transfer {
        /// The key path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A year label that is not a year of the plan.
    #[error("{field}: {source}")]
    Year {
        /// The key path.
        field: String,
        /// What is wrong.
        source: PeriodError,
    },
}

/// Amounts by year label (`"2019/20" = 5e6`).
pub type ByYear = BTreeMap<String, Money>;

fn is_zero(m: &Money) -> bool {
    *m == Money::ZERO
}

/// An earmarked reserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Earmarked {
    /// Its name (unique; transfers refer to it).
    pub name: String,
    /// Balance at the start of the plan, committed part included.
    pub balance: Money,
    /// The part already promised: never available for a gap (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub committed: Money,
    /// Whether it may be drawn for the council's gaps (false: ring-fenced).
    pub usable: bool,
    /// Drawn below this only once the general fund is empty (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub minimum: Money,
    /// Lower is drawn first (default 0; ties in file order).
    #[serde(default)]
    pub draw_order: i32,
    /// Planned uses by year (taken from this reserve).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned_use: ByYear,
    /// Planned contributions by year (added to this reserve).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned_contribution: ByYear,
}

/// A transfer between reserves at the start of a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The year.
    pub year: String,
    /// The reserve it comes from (`general_fund` or an earmarked reserve's name).
    pub from: String,
    /// The reserve it goes to.
    pub to: String,
    /// How much (at most what `from` holds then).
    pub amount: Money,
}

/// Reserves at the start of the plan and planned movements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Reserves {
    /// General fund balance at the start of the plan.
    pub general_fund: Money,
    /// Earmarked reserves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earmarked: Vec<Earmarked>,
    /// Planned uses of the general fund by year, for one-off spending.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned_use: ByYear,
    /// Planned uses of the general fund by year that balance recurring spending (a policy
    /// breach unless the policy allows reserves for recurring gaps).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned_use_for_recurring: ByYear,
    /// Planned contributions to the general fund by year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned_contribution: ByYear,
    /// Transfers between reserves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfers: Vec<Transfer>,
    /// The old signed key, read only to be refused with a message that names the new ones.
    #[serde(default, skip_serializing)]
    pub planned: Option<serde_json::Value>,
}

fn check_amount(field: String, value: Money) -> Result<(), ReservesError> {
    if value < Money::ZERO {
        return Err(ReservesError::Negative { field, value });
    }
    if value.to_f64() > MAX_AMOUNT {
        return Err(ReservesError::TooLarge { field, value });
    }
    Ok(())
}

fn check_by_year(
    field: &str,
    map: &ByYear,
    horizon: Option<&Horizon>,
) -> Result<(), ReservesError> {
    for (label, amount) in map {
        let f = format!("{field}.{label:?}");
        check_amount(f.clone(), *amount)?;
        if let Some(h) = horizon {
            year_index(&f, label, h)?;
        }
    }
    Ok(())
}

/// The index of a year label in the plan, or an error naming the key.
pub fn year_index(field: &str, label: &str, horizon: &Horizon) -> Result<usize, ReservesError> {
    let bad = |source| ReservesError::Year {
        field: field.to_string(),
        source,
    };
    let year: FinancialYear = label.parse().map_err(bad)?;
    horizon.index_of(year).map_err(bad)
}

impl Reserves {
    /// Checks amounts (positive, within range), names (unique) and transfers (known reserves,
    /// never from a ring-fenced one).
    pub fn validate(&self) -> Result<(), ReservesError> {
        self.check(None)
    }

    /// [`Reserves::validate`], and every year label a year of `horizon`.
    pub fn validate_for(&self, horizon: &Horizon) -> Result<(), ReservesError> {
        self.check(Some(horizon))
    }

    fn check(&self, horizon: Option<&Horizon>) -> Result<(), ReservesError> {
        if self.planned.is_some() {
            return Err(ReservesError::BareSigned);
        }
        // A negative general fund is a deficit brought forward (Slough's -£96m in 2021/22):
        // the plan's first budget must provide for it (s31A(2)(d) of the 1992 Act).
        if self.general_fund.to_f64().abs() > MAX_AMOUNT {
            return Err(ReservesError::TooLarge {
                field: "general_fund".into(),
                value: self.general_fund,
            });
        }
        check_by_year("planned_use", &self.planned_use, horizon)?;
        check_by_year(
            "planned_use_for_recurring",
            &self.planned_use_for_recurring,
            horizon,
        )?;
        check_by_year("planned_contribution", &self.planned_contribution, horizon)?;
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, e) in self.earmarked.iter().enumerate() {
            let at = crate::source::item("earmarked", i, e.name.trim());
            let f = |k: &str| format!("{at}.{k}");
            check_amount(f("balance"), e.balance)?;
            check_amount(f("committed"), e.committed)?;
            check_amount(f("minimum"), e.minimum)?;
            if e.committed > e.balance {
                return Err(ReservesError::Overcommitted {
                    field: at.clone(),
                    committed: e.committed,
                    balance: e.balance,
                });
            }
            check_by_year(&f("planned_use"), &e.planned_use, horizon)?;
            check_by_year(&f("planned_contribution"), &e.planned_contribution, horizon)?;
            let name = e.name.trim();
            if e.usable && crate::hra::names_the_hra(name) {
                return Err(ReservesError::Name {
                    index: i,
                    name: e.name.clone(),
                    why: format!(
                        "is usable, but {}; give it as [hra], or as a reserve with usable = false",
                        crate::hra::RING_FENCE
                    ),
                });
            }
            let why = if name.is_empty() {
                Some("must not be empty".to_string())
            } else if name == GENERAL_FUND {
                Some(format!("is the name of the general fund ({GENERAL_FUND})"))
            } else {
                names
                    .get(name)
                    .map(|first| format!("is already the name of earmarked[{first}]"))
            };
            if let Some(why) = why {
                return Err(ReservesError::Name {
                    index: i,
                    name: e.name.clone(),
                    why,
                });
            }
            names.insert(name, i);
        }
        for (i, t) in self.transfers.iter().enumerate() {
            let field = |k: &str| format!("transfers[{i}].{k}");
            check_amount(field("amount"), t.amount)?;
            if let Some(h) = horizon {
                year_index(&field("year"), &t.year, h)?;
            }
            if crate::hra::names_the_hra(&t.from) {
                return Err(ReservesError::Transfer {
                    field: field("from"),
                    message: format!("{:?}: {}", t.from, crate::hra::RING_FENCE),
                });
            }
            for (key, name) in [("from", &t.from), ("to", &t.to)] {
                if name != GENERAL_FUND && !names.contains_key(name.trim()) {
                    return Err(ReservesError::Transfer {
                        field: field(key),
                        message: format!(
                            "{name:?} is not {GENERAL_FUND} or the name of an earmarked reserve"
                        ),
                    });
                }
            }
            if t.from.trim() == t.to.trim() {
                return Err(ReservesError::Transfer {
                    field: field("to"),
                    message: format!("{:?} is also the reserve it comes from", t.to),
                });
            }
            if let Some(&k) = names.get(t.from.trim())
                && !self.earmarked[k].usable
            {
                return Err(ReservesError::Transfer {
                    field: field("from"),
                    message: format!("{:?} is ring-fenced (usable = false)", t.from),
                });
            }
            if let Some(h) = horizon {
                self.check_transfer_held(i, t, &names, h)?;
            }
        }
        Ok(())
    }

    /// A transfer moves at most what its source holds: one for more than the source can hold
    /// as planned by then (its opening uncommitted balance, the planned contributions of the
    /// years before, and the transfers into it before this one) is refused, rather than capped
    /// in silence (issue 38, item 7: £1e12 from a £30m general fund moved £30m without a word).
    fn check_transfer_held(
        &self,
        i: usize,
        t: &Transfer,
        names: &BTreeMap<&str, usize>,
        horizon: &Horizon,
    ) -> Result<(), ReservesError> {
        let from = t.from.trim();
        let year = |label: &str| year_index("", label, horizon).unwrap_or(usize::MAX);
        let y = year(&t.year);
        let (opening, contributions) = match names.get(from) {
            Some(&k) => {
                let e = &self.earmarked[k];
                (e.balance - e.committed, &e.planned_contribution)
            }
            None => (self.general_fund, &self.planned_contribution),
        };
        let mut held = opening.max(Money::ZERO);
        for (label, amount) in contributions {
            if year(label) < y {
                held = held + *amount;
            }
        }
        for (j, other) in self.transfers.iter().enumerate() {
            let z = year(&other.year);
            if other.to.trim() == from && (z < y || (z == y && j < i)) {
                held = held + other.amount;
            }
        }
        if t.amount > held {
            return Err(ReservesError::Transfer {
                field: format!("transfers[{i}].amount"),
                message: format!(
                    "£{} is more than {:?} can hold by the start of {} as planned (£{}: its \
                     opening uncommitted balance, planned contributions before then and \
                     transfers in); a transfer moves at most what its source holds",
                    t.amount, t.from, t.year, held
                ),
            });
        }
        Ok(())
    }

    /// Uncommitted balances of usable earmarked reserves.
    pub fn usable_earmarked(&self) -> Money {
        self.earmarked
            .iter()
            .filter(|e| e.usable)
            .map(|e| e.balance - e.committed)
            .sum()
    }
}

/// A likelihood band of a risk matrix: risks with a probability up to `up_to` (and above the
/// previous band's) are provided for at `factor` times their impact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// The band's highest probability.
    pub up_to: f64,
    /// The share of the impact provided for.
    pub factor: f64,
}

/// The minimum general fund balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Minimum {
    /// A fixed amount.
    Amount(Money),
    /// A share of the year's net budget (0.05 for 5%).
    PercentOfBudget(f64),
    /// One figure for the plan: the quantile at this confidence (0.95) of the plan's simulated
    /// cumulative one-off exposure.
    RiskAssessed(f64),
    /// One figure for the plan: each risk's impact times its likelihood band's factor, summed.
    RiskMatrix(Vec<Band>),
}

fn no() -> bool {
    false
}

fn no_minimum() -> Minimum {
    Minimum::Amount(Money::ZERO)
}

/// The reserves policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The minimum general fund balance (default: none).
    #[serde(default = "no_minimum")]
    pub minimum_general_fund: Minimum,
    /// Whether reserves may fund recurring gaps (default: no).
    #[serde(default = "no")]
    pub reserves_for_recurring_gaps: bool,
    /// The statutory test's floor on usable reserves (£ ≥ 0, default 0): the in-year test
    /// fails when usable reserves end a year below it, and the budget test counts only
    /// reserves above it. Independent of `minimum_general_fund`, which is a prudence level,
    /// not a legal one.
    #[serde(default)]
    pub s114_floor: Money,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            minimum_general_fund: no_minimum(),
            reserves_for_recurring_gaps: false,
            s114_floor: Money::ZERO,
        }
    }
}

impl Policy {
    /// Checks the minimum's parameter.
    pub fn validate(&self) -> Result<(), ReservesError> {
        let range = |field: &str, value: f64, range| ReservesError::Range {
            field: field.to_string(),
            value,
            range,
        };
        check_amount("s114_floor".into(), self.s114_floor)?;
        match &self.minimum_general_fund {
            Minimum::Amount(a) => check_amount("minimum_general_fund.amount".into(), *a),
            Minimum::PercentOfBudget(p) if !(0.0..=1.0).contains(p) => {
                Err(range("percent_of_budget", *p, "[0, 1] (0.05 is 5%)"))
            }
            Minimum::RiskAssessed(c) if !(0.5..1.0).contains(c) => Err(range(
                "risk_assessed",
                *c,
                "[0.5, 1) (a confidence such as 0.95)",
            )),
            Minimum::RiskMatrix(bands) => {
                if bands.is_empty() {
                    return Err(ReservesError::Bands("needs at least one band".into()));
                }
                let mut last = 0.0;
                for (i, b) in bands.iter().enumerate() {
                    if !(b.up_to > last && b.up_to <= 1.0) {
                        return Err(range(
                            &format!("risk_matrix[{i}].up_to"),
                            b.up_to,
                            "(previous band's up_to, 1]: bands in increasing probability",
                        ));
                    }
                    if !(0.0..=1.0).contains(&b.factor) {
                        return Err(range(
                            &format!("risk_matrix[{i}].factor"),
                            b.factor,
                            "[0, 1] (0.5 provides for half the impact)",
                        ));
                    }
                    last = b.up_to;
                }
                if last != 1.0 {
                    return Err(ReservesError::Bands(format!(
                        "the last band's up_to is {last:?}: it must be 1, so that every probability has a band"
                    )));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The factor of the band a probability falls in (a risk matrix's), or `None` for the
    /// other forms of minimum.
    pub fn band_factor(&self, probability: f64) -> Option<f64> {
        match &self.minimum_general_fund {
            Minimum::RiskMatrix(bands) => bands
                .iter()
                .find(|b| probability <= b.up_to)
                .or(bands.last())
                .map(|b| b.factor),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_forms_and_errors() {
        let p = |t: &str| toml::from_str::<Policy>(t).unwrap();
        assert_eq!(
            p("minimum_general_fund = { amount = 30e6 }").minimum_general_fund,
            Minimum::Amount("30000000".parse().unwrap())
        );
        assert_eq!(
            p("minimum_general_fund = { risk_assessed = 0.95 }").minimum_general_fund,
            Minimum::RiskAssessed(0.95)
        );
        let bad = p("minimum_general_fund = { percent_of_budget = 5.0 }");
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "minimum_general_fund.percent_of_budget: 5.0 is outside [0, 1] (0.05 is 5%)"
        );
        assert!(toml::from_str::<Policy>("minimum_general_fund = { pct = 0.05 }").is_err());
        let gap = p("minimum_general_fund = { risk_matrix = [{ up_to = 0.5, factor = 0.2 }] }");
        assert!(
            gap.validate()
                .unwrap_err()
                .to_string()
                .contains("must be 1")
        );
        let order = p(
            "minimum_general_fund = { risk_matrix = [{ up_to = 0.5, factor = 0.2 }, { up_to = 0.4, factor = 0.5 }] }",
        );
        assert!(
            order
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("minimum_general_fund.risk_matrix[1].up_to: 0.4")
        );
        let ok = p(
            "minimum_general_fund = { risk_matrix = [{ up_to = 0.25, factor = 0.25 }, { up_to = 1, factor = 0.75 }] }",
        );
        ok.validate().unwrap();
        assert_eq!(ok.band_factor(0.25), Some(0.25));
        assert_eq!(ok.band_factor(0.26), Some(0.75));
    }

    #[test]
    fn reserves_validation_names_the_key() {
        let r = |t: &str| toml::from_str::<Reserves>(t).unwrap();
        let ok = r(
            "general_fund = 125e6\nearmarked = [{ name = \"Schools\", balance = 60e6, usable = false }, { name = \"Resilience\", balance = 100e6, committed = 10e6, usable = true }]",
        );
        ok.validate().unwrap();
        assert_eq!(ok.usable_earmarked(), "90000000".parse().unwrap());
        let err = |t: &str| r(t).validate().unwrap_err().to_string();
        assert_eq!(
            err(
                "general_fund = 1\nearmarked = [{ name = \"A\", balance = 5, committed = 6, usable = true }]"
            ),
            "earmarked[0] (\"A\"): committed 6.00 is more than the balance 5.00"
        );
        assert!(
            err("general_fund = 1\nplanned_use = { \"2019/20\" = -5 }")
                .starts_with("planned_use.\"2019/20\": -5.00 is negative")
        );
        assert_eq!(
            err(
                "general_fund = 1\ntransfers = [{ year = \"2019/20\", from = \"Corporate\", to = \"general_fund\", amount = 5 }]"
            ),
            "transfers[0].from: \"Corporate\" is not general_fund or the name of an earmarked reserve"
        );
        assert_eq!(
            err(
                "general_fund = 1\nearmarked = [{ name = \"S\", balance = 5, usable = false }]\ntransfers = [{ year = \"2019/20\", from = \"S\", to = \"general_fund\", amount = 5 }]"
            ),
            "transfers[0].from: \"S\" is ring-fenced (usable = false)"
        );
        assert!(
            err("general_fund = 1\nearmarked = [{ name = \"A\", balance = 5, usable = true }, { name = \"A\", balance = 5, usable = true }]")
                .contains("is already the name of earmarked[0]")
        );
        let h = Horizon::new("2019/20".parse().unwrap(), 2).unwrap();
        let late = r("general_fund = 1\nplanned_contribution = { \"2024/25\" = 5 }");
        assert!(
            late.validate_for(&h)
                .unwrap_err()
                .to_string()
                .starts_with("planned_contribution.\"2024/25\": ")
        );
    }
}
