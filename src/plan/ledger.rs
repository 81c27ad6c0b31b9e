//! The year's arithmetic, written once: how a year's gap is built from its parts, how the
//! management response closes it, and how reserves meet it. Generic over the number type, so
//! that the exact ledger (`Decimal`), the central case of the reverse stress test and the
//! Monte Carlo batch (`f64`) run the same code.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::distribution::DistributionSpec;
use crate::money::Money;
use crate::period::Horizon;
use crate::reserves::{GENERAL_FUND, Minimum, Reserves, year_index};

use super::spec::{PlanError, Scenario};
use super::year::{YearIn, Years};

pub(crate) use crate::amount::Amount;

/// A risk's cost to one year of the plan: the share `f` of its cost `x` that falls in the year,
/// at most `income` when the risk is the loss of commercial income (a tenant cannot take away
/// more rent than it pays), less the MRP relief of that income, in each year it costs the plan
/// (see [`crate::capital::CommercialSpec`]). The ledger, the simulation and the reverse stress
/// test's central case all net it here.
pub(crate) fn relieved<T: Amount>(f: T, x: T, relief: T, income: Option<T>) -> T {
    let cost = f * x;
    let cost = match income {
        Some(cap) if cost > cap => cap,
        _ => cost,
    };
    cost - if f > T::ZERO && x > T::ZERO {
        relief
    } else {
        T::ZERO
    }
}

/// A ratio typed as a float (a management response, a share, a fraction) as an exact decimal:
/// through its shortest text, so 0.1 is one tenth.
pub(crate) fn ratio(x: f64) -> Decimal {
    Money::from_f64(x).map(Money::decimal).unwrap_or_default()
}

/// A saving's effect on the gap, given the fraction delivered in its due year and the fraction
/// that lasts after it: `(one-off in the due year, recurring from the due year, recurring from
/// the year after)`. A recurring saving's lasting shortfall recurs, because the base budget
/// assumed it; a one-off saving's due-year shortfall is one-off, and the saving itself falls
/// out of the base budget: the same amount is needed again from the next year.
pub(crate) fn saving_gap<T: Amount>(
    value: T,
    recurring: bool,
    due_fraction: T,
    lasting_fraction: T,
) -> (T, T, T) {
    let first = value * (T::ONE - due_fraction);
    if recurring {
        let lasting = value * (T::ONE - lasting_fraction);
        (first - lasting, lasting, T::ZERO)
    } else {
        (first, T::ZERO, value)
    }
}

/// Where a slipped saving's outcome falls beyond [`saving_gap`]: the number of years from its
/// due year in which the one-off part applies (a slipped recurring saving is missing for the
/// whole of its delay; otherwise only its due year), and a slipped one-off saving's late
/// delivery, `(years after its due year, amount received)`, when its model delivers it late.
pub(crate) fn spread<T: Amount>(
    value: T,
    recurring: bool,
    one_off_late: bool,
    slipped: bool,
    delay: usize,
    fraction: T,
) -> (usize, Option<(usize, T)>) {
    match (slipped, recurring, one_off_late) {
        (false, _, _) => (1, None),
        (true, true, _) => (delay.max(1), None),
        (true, false, true) => (1, Some((delay.max(1), value * fraction))),
        (true, false, false) => (1, None),
    }
}

/// The management response: each year closes the fraction `m` of the recurring gap still open
/// at the end of the year before. Closures are recurring measures, so they accumulate: a fixed
/// recurring pressure of 10 with `m = 0.5` leaves open gaps of 10, 5, 2.5, 1.25, ...
pub(crate) struct Closure<T> {
    m: T,
    closed: T,
    open: T,
}

/// A year's gap: the whole of it, and its recurring part still open after the management
/// response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YearGap<T> {
    pub(crate) gap: T,
    pub(crate) open: T,
}

impl<T: Amount> Closure<T> {
    pub(crate) fn new(m: T) -> Closure<T> {
        Closure {
            m,
            closed: T::ZERO,
            open: T::ZERO,
        }
    }

    /// What the response has closed by the last year run.
    pub(crate) fn closed(&self) -> T {
        self.closed
    }

    /// Year `y`'s gap from its recurring and one-off parts (years in order from 0).
    pub(crate) fn year(&mut self, y: usize, recurring: T, one_off: T) -> YearGap<T> {
        if y == 0 {
            self.closed = T::ZERO;
        } else {
            self.closed += self.m * self.open.max0();
        }
        self.open = recurring - self.closed;
        YearGap {
            gap: self.open + one_off,
            open: self.open,
        }
    }
}

/// Reserves compiled for the ledger: index 0 is the general fund, 1.. the earmarked reserves in
/// file order.
#[derive(Debug, Clone)]
pub(crate) struct ReservePlan<T> {
    /// Names as reported (`general_fund`, then the earmarked reserves' names).
    pub(crate) names: Vec<String>,
    pub(crate) usable: Vec<bool>,
    /// Uncommitted opening balances.
    pub(crate) opening: Vec<T>,
    /// Each earmarked reserve's minimum (0 for the general fund: its minimum is the policy's).
    pub(crate) floor: Vec<T>,
    /// Usable earmarked reserves in draw order.
    pub(crate) order: Vec<usize>,
    /// By year: planned uses and contributions (reserve, amount) and transfers (from, to,
    /// amount).
    pub(crate) uses: Vec<Vec<(usize, T)>>,
    pub(crate) contributions: Vec<Vec<(usize, T)>>,
    pub(crate) transfers: Vec<Vec<(usize, usize, T)>>,
    /// By year: planned use of the general fund for recurring spending.
    pub(crate) for_recurring: Vec<T>,
    /// By year: recurring spending that planned uses of earlier years funded and this year's
    /// planned use does not: it is still in the base budget, so it returns to the gap.
    pub(crate) returning: Vec<T>,
}

/// The reserves' state in one trial.
#[derive(Debug, Clone)]
pub(crate) struct Book<T> {
    /// Uncommitted balances.
    pub(crate) balance: Vec<T>,
    /// Usable reserves: the general fund plus usable earmarked reserves, kept as its own sum so
    /// that it does not depend on which balance a draw came from.
    pub(crate) usable: T,
}

impl<T: Amount> ReservePlan<T> {
    /// Compiles validated reserves (year labels already checked against `horizon`).
    pub(crate) fn new(r: &Reserves, horizon: &Horizon, money: impl Fn(Money) -> T) -> Self {
        let years = horizon.len();
        let mut names = vec![GENERAL_FUND.to_string()];
        let mut usable = vec![true];
        let mut opening = vec![money(r.general_fund)];
        let mut floor = vec![T::ZERO];
        for e in &r.earmarked {
            names.push(e.name.trim().to_string());
            usable.push(e.usable);
            opening.push(money(e.balance - e.committed));
            floor.push(money(e.minimum));
        }
        let mut order: Vec<usize> = (1..names.len()).filter(|&i| usable[i]).collect();
        order.sort_by_key(|&i| r.earmarked[i - 1].draw_order);
        let index = |name: &str| names.iter().position(|n| n == name.trim()).unwrap_or(0);
        let year = |label: &str| year_index("", label, horizon).unwrap_or(0);
        let mut uses = vec![Vec::new(); years];
        let mut contributions = vec![Vec::new(); years];
        let mut for_recurring = vec![T::ZERO; years];
        for (label, a) in &r.planned_use {
            uses[year(label)].push((0, money(*a)));
        }
        for (label, a) in &r.planned_contribution {
            contributions[year(label)].push((0, money(*a)));
        }
        for (label, a) in &r.planned_use_for_recurring {
            for_recurring[year(label)] += money(*a);
        }
        for (i, e) in r.earmarked.iter().enumerate() {
            for (label, a) in &e.planned_use {
                uses[year(label)].push((i + 1, money(*a)));
            }
            for (label, a) in &e.planned_contribution {
                contributions[year(label)].push((i + 1, money(*a)));
            }
        }
        // The recurring spending planned uses have funded so far: what a year's planned use does
        // not meet again returns to its gap.
        let mut returning = vec![T::ZERO; years];
        let mut funded = T::ZERO;
        for (r, used) in returning.iter_mut().zip(&for_recurring) {
            *r = (funded - *used).max0();
            if *used > funded {
                funded = *used;
            }
        }
        let mut transfers = vec![Vec::new(); years];
        for t in &r.transfers {
            transfers[year(&t.year)].push((index(&t.from), index(&t.to), money(t.amount)));
        }
        ReservePlan {
            names,
            usable,
            opening,
            floor,
            order,
            uses,
            contributions,
            transfers,
            for_recurring,
            returning,
        }
    }

    /// Usable reserves at the start of the plan.
    pub(crate) fn opening_usable(&self) -> T {
        let mut total = T::ZERO;
        for (b, u) in self.opening.iter().zip(&self.usable) {
            if *u {
                total += *b;
            }
        }
        total
    }

    /// A trial's reserves at the start of the plan.
    pub(crate) fn book(&self) -> Book<T> {
        Book {
            balance: self.opening.clone(),
            usable: self.opening_usable(),
        }
    }

    /// Resets `book` to the start of the plan and meets the in-year overspend (negative: an
    /// underspend, added to the general fund) from reserves in the usual order.
    pub(crate) fn open(&self, book: &mut Book<T>, overspend: T) {
        book.balance.copy_from_slice(&self.opening);
        book.usable = self.opening_usable();
        self.meet(book, overspend);
    }

    /// Meets `gap` from reserves in the order a chief finance officer uses (see
    /// [`crate::reserves`]) and returns the part met from balances above zero; a surplus goes
    /// to the general fund.
    fn meet(&self, book: &mut Book<T>, gap: T) -> T {
        book.usable -= gap;
        if gap <= T::ZERO {
            book.balance[0] -= gap;
            return T::ZERO;
        }
        let mut need = gap;
        let b = &mut book.balance;
        for &i in &self.order {
            let take = need.min((b[i] - self.floor[i]).max0());
            b[i] -= take;
            need -= take;
        }
        let take = need.min(b[0].max0());
        b[0] -= take;
        need -= take;
        for &i in &self.order {
            let take = need.min(b[i].max0());
            b[i] -= take;
            need -= take;
        }
        b[0] -= need;
        gap - need
    }

    /// Runs year `y`'s reserves: transfers at its start, planned contributions and uses, then
    /// the gap. Returns the part of the gap met from balances above zero, and reserves funding
    /// recurring spending against the policy: the part of the open recurring gap met from
    /// reserves, plus planned uses for recurring spending (zero when the policy allows it).
    /// The year itself, with the statutory test, is [`super::year::Years::year`].
    pub(crate) fn year(
        &self,
        book: &mut Book<T>,
        y: usize,
        gap: YearGap<T>,
        recurring_allowed: bool,
    ) -> (T, T) {
        for &(from, to, amount) in &self.transfers[y] {
            let moved = amount.min(book.balance[from].max0());
            book.balance[from] -= moved;
            book.balance[to] += moved;
            if self.usable[from] && !self.usable[to] {
                book.usable -= moved;
            }
        }
        for &(i, amount) in &self.contributions[y] {
            book.balance[i] += amount;
            if self.usable[i] {
                book.usable += amount;
            }
        }
        let recurring_use = self.for_recurring[y];
        for &(i, amount) in self.uses[y].iter().chain([(0, recurring_use)].iter()) {
            let from_own = amount.min(book.balance[i].max0());
            book.balance[i] -= from_own;
            book.balance[0] -= amount - from_own;
            if self.usable[i] {
                book.usable -= amount;
            } else {
                book.usable -= amount - from_own;
            }
        }
        let drawn = self.meet(book, gap.gap);
        let breach = if recurring_allowed {
            T::ZERO
        } else {
            gap.open.max0().min(drawn) + recurring_use
        };
        (drawn, breach)
    }

    /// Usable earmarked reserves in `book` (uncommitted).
    pub(crate) fn earmarked(&self, book: &Book<T>) -> T {
        let mut total = T::ZERO;
        for i in 1..self.usable.len() {
            if self.usable[i] {
                total += book.balance[i];
            }
        }
        total
    }
}

/// One row of [`Scenario::ledger`]: exact money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// The year.
    pub year: String,
    /// The gap (recurring part still open plus one-off part).
    pub gap: Money,
    /// The recurring part of the gap still open after the management response.
    pub recurring_gap: Money,
    /// The recurring gap carried into the next year's budget: the open recurring gap plus the
    /// one-off savings of the year, which fall out of the base budget.
    pub carried_gap: Money,
    /// The part of the year's gap funded by capitalisation directions (at most the gap: a
    /// direction is one year's money and never a surplus).
    #[serde(default)]
    pub capitalised: Money,
    /// With a budget set every year: what the year's budget closed with a council tax rise to
    /// the referendum limit.
    #[serde(default)]
    pub closed_by_council_tax: Money,
    /// With a budget set every year: what the year's budget closed with new savings (planned:
    /// their delivery may fall short, which the gap shows).
    #[serde(default)]
    pub closed_by_new_savings: Money,
    /// With exceptional financial support as a response: what was capitalised at the year's
    /// end (the shortfall below the statutory floor, up to the limit).
    #[serde(default)]
    pub efs: Money,
    /// The MRP and interest on earlier years' support, inside the year's gap.
    #[serde(default)]
    pub efs_cost: Money,
    /// With `[treasury]`: the net interest lost on cash below its level at the plan's start,
    /// inside the year's gap (see [`crate::treasury`]).
    #[serde(default)]
    pub treasury_cost: Money,
    /// The part of the gap met from reserves.
    pub drawn_from_reserves: Money,
    /// Reserves funding recurring spending against the policy.
    pub policy_breach: Money,
    /// General fund at the end of the year.
    pub general_fund: Money,
    /// Usable earmarked reserves at the end of the year (uncommitted).
    pub usable_earmarked: Money,
    /// Their sum.
    pub usable_reserves: Money,
    /// The minimum general fund balance.
    pub minimum: Money,
    /// Whether the general fund is below it.
    pub below_minimum: bool,
    /// Whether usable reserves were exhausted in this year or before.
    pub exhausted: bool,
    /// The deficit brought forward into the next budget: usable reserves below zero at the
    /// year's end, which s31A(2)(d) of the Local Government Finance Act 1992 makes the next
    /// budget provide for.
    #[serde(default)]
    pub deficit_brought_forward: Money,
    /// Whether the statutory test fails: in year (usable reserves below `policy.s114_floor`)
    /// or for the next budget (what it must meet exceeds usable reserves above the floor); see
    /// [`super::year`].
    pub s114: bool,
    /// Why: `"in_year"` or `"budget"` (both: `"in_year"`), or none.
    #[serde(default)]
    pub s114_reason: Option<String>,
    /// Each reserve's uncommitted balance at the end of the year, by name.
    pub reserves: Vec<(String, Money)>,
}

impl Scenario {
    /// The plan as an exact ledger, for a scenario with no uncertainty (every risk certain or
    /// impossible with a fixed impact, fixed pressures and in-year overspend, savings whose
    /// delivery is certain): by year the gap, what reserves met, each balance, the policy
    /// checks, to the penny in decimal arithmetic. It runs the same year arithmetic as the
    /// simulation. Errors name the first input that is uncertain.
    pub fn ledger(&self) -> Result<Vec<LedgerRow>, PlanError> {
        let fixed = |d: &DistributionSpec, what: String| match d {
            DistributionSpec::Fixed { value } => Ok(value.decimal()),
            _ => Err(PlanError::Uncertain {
                what,
                why: "not a fixed amount".into(),
            }),
        };
        let years = self.horizon.len();
        let mut recurring = vec![Decimal::ZERO; years];
        let mut one_off = vec![Decimal::ZERO; years];
        let relief = self.reliefs();
        if let Some(c) = &self.spec.capital
            && let Some(i) = c.programme.iter().position(|p| {
                p.slippage.is_some() || p.overrun.is_some() || p.receipts_shortfall.is_some()
            })
        {
            return Err(PlanError::Uncertain {
                what: format!("capital.programme[{i}]"),
                why: "its slippage, overrun or receipts shortfall is drawn".into(),
            });
        }
        if let Some(c) = &self.spec.capital {
            if let Some((label, _)) = c.mrp_charged.iter().find(|(_, a)| a.fixed().is_none()) {
                return Err(PlanError::Uncertain {
                    what: format!("capital.mrp_charged.{label:?}"),
                    why: "not a fixed amount".into(),
                });
            }
            for (i, l) in c.loans.iter().enumerate() {
                if let Some(y) = l
                    .expected_credit_loss
                    .iter()
                    .position(|a| a.fixed().is_none())
                {
                    return Err(PlanError::Uncertain {
                        what: format!("capital.loans[{i}].expected_credit_loss[{y}]"),
                        why: "not a fixed amount".into(),
                    });
                }
            }
        }
        for (i, r) in self.register.risks().iter().enumerate() {
            let spec = r.spec();
            if spec.probability != 0.0 && spec.probability != 1.0 {
                return Err(PlanError::Uncertain {
                    what: format!("risks[{i}].probability"),
                    why: format!("{:?} is not 0 or 1", spec.probability),
                });
            }
            let impact = fixed(&spec.impact, format!("risks[{i}].impact"))?;
            if spec.probability == 0.0 {
                continue;
            }
            let mut cost = ratio(spec.share) * impact;
            if let Some(cap) = spec.cap {
                cost = cost.min(cap.decimal());
            }
            let start = r
                .profile()
                .first()
                .map_or(0, |(y, _)| self.horizon.index_of(*y).unwrap_or(0));
            let (relief, income) = relief[i];
            let net = |f: Decimal| relieved(f, cost, relief, income);
            if spec.recurring {
                for v in &mut recurring[start..] {
                    *v += net(Decimal::ONE);
                }
            } else if r.profile().is_empty() {
                one_off[0] += net(Decimal::ONE);
            } else {
                for (y, f) in r.profile() {
                    one_off[self.horizon.index_of(*y).unwrap_or(0)] += net(ratio(*f));
                }
            }
        }
        for (i, p) in self.spec.pressures.iter().enumerate() {
            let amount = fixed(&p.amount, format!("pressures[{i}].amount"))?;
            let start = self.pressures[i].start;
            if p.recurring {
                for v in &mut recurring[start..] {
                    *v += amount;
                }
            } else {
                one_off[start] += amount;
            }
        }
        let mut fallout = vec![Decimal::ZERO; years];
        for (i, (saving, due)) in self.savings.iter().enumerate() {
            let m = self.model(saving).spec();
            let certain = |x: f64| x == 0.0 || x == 1.0;
            if !certain(m.p_slip) || !certain(m.p_full) {
                return Err(PlanError::Uncertain {
                    what: format!("savings[{i}]"),
                    why: format!(
                        "its delivery has p_full {:?} and p_slip {:?}, not 0 or 1",
                        m.p_full, m.p_slip
                    ),
                });
            }
            let fraction = if m.p_full == 1.0 {
                Decimal::ONE
            } else {
                fixed(&m.partial, format!("savings[{i}] partial delivery"))?
            };
            let due_fraction = if m.p_slip == 1.0 {
                Decimal::ZERO
            } else {
                fraction
            };
            let value = saving.spec().value.decimal();
            let (once, lasting, later) =
                saving_gap(value, saving.spec().recurring, due_fraction, fraction);
            let delay = match (&m.delay, m.p_slip == 1.0) {
                (Some(d), true) => {
                    let years = fixed(d, format!("savings[{i}] delay"))?;
                    u64::try_from(years.round()).map_or(1, |v| v as usize)
                }
                _ => 1,
            };
            let (span, late) = spread(
                value,
                saving.spec().recurring,
                m.one_off_late,
                m.p_slip == 1.0,
                delay,
                fraction,
            );
            for v in one_off.iter_mut().skip(*due).take(span) {
                *v += once;
            }
            if let Some((k, amount)) = late
                && due + k < years
            {
                one_off[due + k] -= amount;
            }
            for v in &mut recurring[*due..] {
                *v += lasting;
            }
            for v in &mut recurring[due + 1..] {
                *v += later;
            }
            if !saving.spec().recurring {
                fallout[*due] += value;
            }
        }
        let (overspend, underlying) = match (&self.spec.in_year, &self.spec.opening_overspend) {
            (Some(i), _) => {
                let o = fixed(&i.overspend, "in_year.overspend".into())?;
                let recurs = if i.in_base {
                    Decimal::ZERO
                } else {
                    o + i.one_off_mitigations.decimal()
                };
                (o, recurs)
            }
            (None, Some(d)) => (fixed(d, "opening_overspend".into())?, Decimal::ZERO),
            (None, None) => (Decimal::ZERO, Decimal::ZERO),
        };
        for v in &mut recurring {
            *v += underlying;
        }
        for (v, s) in recurring.iter_mut().zip(self.exact_structural()?) {
            *v += s;
        }
        let sheet = self.sheet.exact(years)?;
        for y in 0..years {
            one_off[y] += sheet.one_off[y];
            recurring[y] += sheet.recurring[y];
        }
        let minimum = self.exact_minimum()?;
        let directions = self.directions();
        let plan = ReservePlan::new(&self.spec.reserves, &self.horizon, Money::decimal);
        let mut book = plan.book();
        plan.open(&mut book, overspend);
        let mut run = Years::new(
            &plan,
            ratio(self.spec.plan.management_response),
            self.spec.policy.s114_floor.decimal(),
            self.spec.policy.reserves_for_recurring_gaps,
        );
        if let Some((support, _)) = &self.support {
            run = run.with_support(support);
        }
        let setting = match &self.budget_setting {
            Some(s) => {
                run = run.with_budget_setting(&s.headroom);
                self.exact_setting(s)?
            }
            None => vec![(Decimal::ZERO, Decimal::ONE, Decimal::ONE); years],
        };
        let mut exhausted = false;
        let m = |d: Decimal| Money::new(d).round_to_penny();
        let mut rows = Vec::with_capacity(years);
        let treasury = self.treasury.as_ref().map(|t| {
            (
                t.0,
                plan.opening_usable() + sheet.held[0] + t.0.working_capital,
            )
        });
        for y in 0..years {
            let interest = treasury.map_or(Decimal::ZERO, |(rates, base)| {
                rates.cost(base, book.usable + sheet.held[y] + rates.working_capital)
            });
            let end = run.year(
                &mut book,
                y,
                YearIn {
                    recurring: recurring[y] + interest,
                    one_off: one_off[y],
                    direction: directions[y],
                    fallout: fallout[y],
                    capacity: setting[y].0,
                    delivered: (setting[y].1, setting[y].2),
                    falling: sheet.falling[y],
                },
            );
            exhausted |= book.usable < Decimal::ZERO;
            let gf = book.balance[0];
            rows.push(LedgerRow {
                year: self.horizon.first().offset(y as u32).to_string(),
                gap: m(end.gap),
                recurring_gap: m(end.open),
                carried_gap: m(end.carried),
                capitalised: m(end.direction),
                closed_by_council_tax: m(end.closed_council_tax),
                closed_by_new_savings: m(end.closed_new_savings),
                efs: m(end.efs),
                efs_cost: m(end.efs_cost),
                treasury_cost: m(interest),
                drawn_from_reserves: m(end.drawn),
                policy_breach: m(end.breach),
                general_fund: m(gf),
                usable_earmarked: m(plan.earmarked(&book)),
                usable_reserves: m(book.usable),
                minimum: m(minimum[y]),
                below_minimum: gf < minimum[y],
                exhausted,
                deficit_brought_forward: m(end.deficit),
                s114: end.s114(),
                s114_reason: end.reason().map(|r| r.as_str().to_string()),
                reserves: plan
                    .names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.clone(), m(book.balance[i])))
                    .collect(),
            });
        }
        Ok(rows)
    }

    /// Capitalisation directions (and flexible receipts) that fund each year's gap: netted
    /// from capital financing's gap effect, which the year adds back to the recurring part so
    /// that a direction funds one year's gap only (see [`super::year`]).
    pub(crate) fn directions(&self) -> Vec<Decimal> {
        self.capital.as_ref().map_or_else(
            || vec![Decimal::ZERO; self.horizon.len()],
            |c| c.directions(),
        )
    }

    /// The general fund's minimum by year, exactly, for the forms that need no simulation.
    fn exact_minimum(&self) -> Result<Vec<Decimal>, PlanError> {
        let years = self.horizon.len();
        Ok(match &self.spec.policy.minimum_general_fund {
            Minimum::Amount(a) => vec![a.decimal(); years],
            Minimum::PercentOfBudget(p) => self
                .net_budget
                .iter()
                .map(|b| ratio(*p) * b.decimal())
                .collect(),
            Minimum::RiskMatrix(_) => {
                let total = Money::from_f64(self.risk_matrix_minimum())
                    .map(Money::decimal)
                    .unwrap_or_default();
                vec![total; years]
            }
            Minimum::RiskAssessed(_) => {
                return Err(PlanError::Uncertain {
                    what: "policy.minimum_general_fund".into(),
                    why: "risk_assessed is a quantile of a simulation; use an amount or a risk_matrix".into(),
                });
            }
        })
    }

    /// The risk-matrix minimum: each risk's impact (mean cost if it occurs; a recurring risk's
    /// annual cost) times its likelihood band's factor, summed (0 for other forms).
    pub fn risk_matrix_minimum(&self) -> f64 {
        let policy = &self.spec.policy;
        self.register
            .risks()
            .iter()
            .map(|r| {
                policy
                    .band_factor(r.spec().probability)
                    .map_or(0.0, |f| f * r.expected_cost_if_occurs())
            })
            .sum()
    }
}
