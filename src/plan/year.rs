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
//!   carried in and the deficit brought forward, s31A(2)(d)) exceeds what it can lawfully draw
//!   on (usable reserves above the floor).
//!
//! The general fund's minimum is a prudence level, not a legal one: it plays no part in either
//! test. A deficit (usable reserves below zero at a year's end) stays on the balance sheet until
//! a budget provides for it; while it does, the in-year test fails and the next budget must
//! meet it in full.
//!
//! A capitalisation direction (Local Government Act 2003, s16(2)(b)) is one year's money: it
//! funds that year's gap, at most the whole of it, never the recurring gap carried forward and
//! never a surplus. Planned use of reserves for recurring spending leaves that spending in the
//! base budget: the need returns the next year unless a planned use meets it again.

use super::ledger::{Amount, Book, Closure, ReservePlan, YearGap};

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
        }
    }

    /// Runs year `y` (years in order from 0) on `book`.
    pub(crate) fn year(&mut self, book: &mut Book<T>, y: usize, part: YearIn<T>) -> YearOut<T> {
        let g = self
            .closure
            .year(y, part.recurring + self.plan.returning[y], part.one_off);
        let direction = part.direction.min(g.gap.max0());
        let g = YearGap {
            gap: g.gap - direction,
            open: g.open,
        };
        let carried = g.open + part.fallout;
        let (drawn, breach) = self.plan.year(book, y, g, self.allowed);
        let usable = book.usable;
        let deficit = (T::ZERO - usable).max0();
        let need = carried + deficit;
        YearOut {
            gap: g.gap,
            open: g.open,
            carried,
            drawn,
            breach,
            direction,
            deficit,
            in_year: usable < self.floor,
            budget: need > T::ZERO && need > (usable - self.floor).max0(),
        }
    }
}
