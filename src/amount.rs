//! The number type the year's arithmetic runs on, a foundation: `f64` for the simulation,
//! `Decimal` for the exact ledger. Every rule written over [`Amount`] is written once and runs
//! on both (see [`crate::plan`]).

use std::ops::{Add, AddAssign, Mul, Sub, SubAssign};

use rust_decimal::Decimal;

/// A number the ledger runs on: `f64` for simulation, `Decimal` for the exact ledger.
pub trait Amount:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + AddAssign
    + SubAssign
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// One half.
    const HALF: Self;

    /// The larger of itself and zero.
    fn max0(self) -> Self {
        if self > Self::ZERO { self } else { Self::ZERO }
    }

    /// The smaller of the two.
    fn min(self, other: Self) -> Self {
        if other < self { other } else { self }
    }

    /// Rounded to the penny, half away from zero.
    fn penny(self) -> Self;
}

impl Amount for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    const HALF: f64 = 0.5;

    fn penny(self) -> f64 {
        (self * 100.0).round() / 100.0
    }
}

impl Amount for Decimal {
    const ZERO: Decimal = Decimal::ZERO;
    const ONE: Decimal = Decimal::ONE;
    const HALF: Decimal = Decimal::from_parts(5, 0, 0, false, 1);

    fn penny(self) -> Decimal {
        self.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }
}
