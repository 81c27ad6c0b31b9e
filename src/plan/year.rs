//! One year of the plan, written once: the gap after the management response, what a
//! capitalisation direction funds, what reserves meet, and the statutory test with its reason.
//! Generic over the number type, so that the exact ledger (`Decimal`), the Monte Carlo batch and
//! the reverse stress test's central case (`f64`) only feed it the year's parts.
//!
//! # The statutory test
//!
//! Two tests, each at a year's end, each in one sentence:
//!
//! * **in year** (Local Government Finance Act 1988, s114(3)): the year's expenditure, one-off
//!   or recurring, exceeded the resources available to meet it: usable reserves after the year
//!   are below `policy.s114_floor` (default £0).
//! * **budget** (Local Government Finance Act 1992, s31A, with s25 of the Local Government Act
//!   2003): the next year's budget cannot be balanced: what it must meet (the recurring gap
//!   carried in and the deficit brought forward, s31A(2)(d), with what is already known to fall
//!   on it: a collection fund deficit estimated in January, the DSG deficit left when the
//!   statutory override ends) exceeds what it can lawfully draw on (usable reserves above the
//!   floor).
//!
//! The general fund's minimum is a prudence level, not a legal one: it plays no part in either
//! test. A deficit (usable reserves below zero at a year's end) stays on the balance sheet until
//! a budget provides for it; while it does, the in-year test fails and the next budget must
//! meet it in full.
//!
//! With a budget set every year (`[budget_setting]`, see [`crate::budget_setting`]), the
//! budget for the next year first closes what it must meet with council tax up to the limit
//! (the recurring gap only) and new savings up to their capacity (the recurring gap, then the
//! deficit); the budget test counts those as resources beside reserves above the floor. The
//! closures take effect in the next year: council tax in full and for good, new savings as
//! their delivery falls (a recurring saving's due-year part in its year and its lasting part
//! after; against the deficit, a one-off measure).
//!
//! With exceptional financial support as a response (`[efs]`, see [`crate::efs`]), a year whose
//! in-year test fails has the shortfall below the floor capitalised, up to the limit: reserves
//! end that year at the floor, the test still counts the year, and the direction's MRP and
//! interest fall on the following years' recurring gap.
//!
//! A capitalisation direction (Local Government Act 2003, s16(2)(b)) is one year's money: it
//! funds that year's gap, at most the whole of it, never the recurring gap carried forward and
//! never a surplus. Planned use of reserves for recurring spending leaves that spending in the
//! base budget: the need returns the next year unless a planned use meets it again.

use super::ledger::{Amount, Book, Closure, ReservePlan, YearGap};

/// Exceptional financial support compiled for the exact ledger and for floats.
pub(crate) type Supports = (Support<rust_decimal::Decimal>, Support<f64>);

/// Exceptional financial support as a response (see [`crate::efs`]), compiled for one number
/// type.
#[derive(Debug, Clone)]
pub(crate) struct Support<T> {
    /// The most that may be capitalised over the plan (`None`: no limit).
    pub(crate) limit: Option<T>,
    /// MRP's share of a direction a year (one over its years).
    pub(crate) share: T,
    /// Its years of MRP.
    pub(crate) years: usize,
    /// By year of the direction: the borrowing rate plus the premium.
    pub(crate) rate: Vec<T>,
}

/// Why the statutory test failed in a year (both: [`Reason::InYear`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Usable reserves after the year are below the floor (s114(3) of the 1988 Act).
    InYear,
    /// The next budget cannot be balanced (s31A of the 1992 Act).
    Budget,
}

impl Reason {
    /// The reason as the tables write it: `"in_year"` or `"budget"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InYear => "in_year",
            Reason::Budget => "budget",
        }
    }
}

/// A year's parts, as each caller assembles them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YearIn<T> {
    /// The recurring part of the gap before the management response (pressures, risks,
    /// savings' lasting shortfalls, one-off savings of earlier years, the base budget's
    /// structural gap, capital financing, the underlying in-year overspend).
    pub(crate) recurring: T,
    /// The one-off part (one-off pressures and risks, savings' due-year shortfalls).
    pub(crate) one_off: T,
    /// Capitalisation directions that fund the year's deficit (£ ≥ 0).
    pub(crate) direction: T,
    /// One-off savings of the year, which fall out of the next year's base budget.
    pub(crate) fallout: T,
    /// With a budget set every year: the new savings the next year's budget can close (£).
    pub(crate) capacity: T,
    /// With a budget set every year: the fractions of this year's new savings delivered in
    /// the year and lasting after it (1 and 1 when delivered in full).
    pub(crate) delivered: (T, T),
    /// What is known at the year's end to fall on the next budget (a collection fund deficit
    /// estimated in January, the DSG deficit left when the override ends): the next budget
    /// must provide for it, as for a deficit brought forward.
    pub(crate) falling: T,
}

/// What a year did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YearOut<T> {
    /// The year's gap after the management response and the direction.
    pub(crate) gap: T,
    /// Its recurring part still open after the management response.
    pub(crate) open: T,
    /// The recurring gap carried into the next budget (the open recurring gap plus the year's
    /// one-off savings, which fall out).
    pub(crate) carried: T,
    /// The part of the gap met from reserves.
    pub(crate) drawn: T,
    /// Reserves funding recurring spending against the policy.
    pub(crate) breach: T,
    /// The part of the direction that funded the year's gap.
    pub(crate) direction: T,
    /// The deficit brought forward into the next budget: usable reserves below zero.
    pub(crate) deficit: T,
    /// What this year's budget closed with a council tax rise to the limit (planned).
    pub(crate) closed_council_tax: T,
    /// What this year's budget closed with new savings (planned; delivery may fall short).
    pub(crate) closed_new_savings: T,
    /// Exceptional financial support capitalised at the year's end.
    pub(crate) efs: T,
    /// The MRP and interest on earlier years' support, in this year's gap.
    pub(crate) efs_cost: T,
    /// What budgets set every year took off this year's gap: their council tax and new
    /// savings as delivered...
    pub(crate) closure: T,
    /// ... of which council tax (the rest is new savings).
    pub(crate) closure_council_tax: T,
    /// What the management response has closed by this year (`plan.management_response`).
    pub(crate) management: T,
    /// The in-year test failed.
    pub(crate) in_year: bool,
    /// The budget test failed.
    pub(crate) budget: bool,
}

impl<T> YearOut<T> {
    /// Either test failed.
    pub(crate) fn s114(&self) -> bool {
        self.in_year || self.budget
    }

    /// Why, when it did (in year first).
    pub(crate) fn reason(&self) -> Option<Reason> {
        if self.in_year {
            Some(Reason::InYear)
        } else if self.budget {
            Some(Reason::Budget)
        } else {
            None
        }
    }
}

/// The plan's years in one trial: the management response's state and the rules every year
/// follows.
pub(crate) struct Years<'a, T> {
    plan: &'a ReservePlan<T>,
    closure: Closure<T>,
    floor: T,
    allowed: bool,
    /// With a budget set every year: by year (one more than the plan's, for the test of the
    /// last year), the council tax a budget can add by rising to the referendum limit.
    setting: Option<&'a [T]>,
    /// Recurring closures made by the budgets so far (council tax, lasting new savings)...
    closed: T,
    /// ... of which council tax.
    taxed: T,
    /// The closures the next budget makes: council tax, new savings against the recurring
    /// gap, new savings against the deficit.
    pending: [T; 3],
    /// Exceptional financial support as a response, and what it gave in each year so far.
    support: Option<&'a Support<T>>,
    given: Vec<T>,
}

impl<'a, T: Amount> Years<'a, T> {
    /// `m` the management response, `floor` the statutory test's floor on usable reserves,
    /// `allowed` whether the policy lets reserves fund recurring gaps.
    pub(crate) fn new(plan: &'a ReservePlan<T>, m: T, floor: T, allowed: bool) -> Self {
        Years {
            plan,
            closure: Closure::new(m),
            floor,
            allowed,
            setting: None,
            closed: T::ZERO,
            taxed: T::ZERO,
            pending: [T::ZERO; 3],
            support: None,
            given: Vec::new(),
        }
    }

    /// With exceptional financial support as a response.
    pub(crate) fn with_support(mut self, support: &'a Support<T>) -> Self {
        self.support = Some(support);
        self.given = vec![T::ZERO; support.rate.len()];
        self
    }

    /// The MRP and interest in year `y` on the support of earlier years: straight-line MRP
    /// from the year after each direction, interest on its balance at the start of the year.
    fn support_cost(&self, y: usize) -> T {
        let Some(s) = self.support else {
            return T::ZERO;
        };
        let mut cost = T::ZERO;
        for (x, (e, r)) in self.given[..y].iter().zip(&s.rate).enumerate() {
            let since = y - x - 1;
            if since < s.years {
                let repaid = s.share * Self::count(since);
                cost += *e * s.share + *r * *e * (T::ONE - repaid);
            }
        }
        cost
    }

    /// `k` as a number.
    fn count(k: usize) -> T {
        let mut out = T::ZERO;
        for _ in 0..k {
            out += T::ONE;
        }
        out
    }

    /// With a budget set every year: `headroom` the council tax a budget can add by year (one
    /// more than the plan's years; zeros when council tax stays as planned).
    pub(crate) fn with_budget_setting(mut self, headroom: &'a [T]) -> Self {
        self.setting = Some(headroom);
        self
    }

    /// Runs year `y` (years in order from 0) on `book`.
    pub(crate) fn year(&mut self, book: &mut Book<T>, y: usize, part: YearIn<T>) -> YearOut<T> {
        if y == 0 {
            self.closed = T::ZERO;
            self.taxed = T::ZERO;
            self.pending = [T::ZERO; 3];
            self.given.iter_mut().for_each(|g| *g = T::ZERO);
        }
        let efs_cost = self.support_cost(y);
        // The closures this year's budget made: council tax for good; a recurring new saving
        // by its due-year fraction now and its lasting fraction after; against the deficit, a
        // one-off measure.
        let [council_tax, recurring_savings, deficit_savings] = self.pending;
        let (due, lasting) = part.delivered;
        self.closed += council_tax + recurring_savings * lasting;
        self.taxed += council_tax;
        let late = recurring_savings * (lasting - due) - deficit_savings * due;
        let closure = self.closed - late;
        let g = self.closure.year(
            y,
            part.recurring + self.plan.returning[y] + efs_cost - self.closed,
            part.one_off + late,
        );
        let direction = part.direction.min(g.gap.max0());
        let g = YearGap {
            gap: g.gap - direction,
            open: g.open,
        };
        let carried = g.open + part.fallout;
        let (drawn, breach) = self.plan.year(book, y, g, self.allowed);
        let in_year = book.usable < self.floor;
        // Exceptional support: the shortfall below the floor capitalised, up to the limit,
        // into the general fund.
        let mut efs = T::ZERO;
        if let Some(s) = self.support
            && in_year
        {
            let given: T = {
                let mut t = T::ZERO;
                for g in &self.given {
                    t += *g;
                }
                t
            };
            efs = self.floor - book.usable;
            if let Some(limit) = s.limit {
                efs = efs.min((limit - given).max0());
            }
            self.given[y] = efs;
            book.balance[0] += efs;
            book.usable += efs;
        }
        let usable = book.usable;
        let deficit = (T::ZERO - usable).max0();
        // The next budget: council tax to the limit against the recurring gap, then new
        // savings against it and then against the deficit; what is left falls on reserves.
        self.pending = match self.setting {
            Some(headroom) => {
                let recurring = carried.max0();
                let tax = recurring.min(headroom[y + 1]);
                let savings = (recurring - tax).min(part.capacity);
                [tax, savings, deficit.min(part.capacity - savings)]
            }
            None => [T::ZERO; 3],
        };
        let [tax, savings, repaid] = self.pending;
        let left = carried + deficit + part.falling - tax - savings - repaid;
        YearOut {
            gap: g.gap,
            open: g.open,
            carried,
            drawn,
            breach,
            direction,
            deficit,
            closed_council_tax: council_tax,
            closed_new_savings: recurring_savings + deficit_savings,
            efs,
            efs_cost,
            closure,
            closure_council_tax: self.taxed,
            management: self.closure.closed(),
            in_year,
            budget: left > T::ZERO && left > (usable - self.floor).max0(),
        }
    }
}
