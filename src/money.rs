//! Exact money.
//!
//! [`Money`] is what users type and read: fixed impacts, caps, budgets. It wraps a
//! [`rust_decimal::Decimal`], so ledger arithmetic (sums of budget lines, a plan with no
//! uncertainty) is exact to the penny. Simulation converts to `f64` once, at the start.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::money::Money;
//! let a: Money = "1234567.89".parse().unwrap();
//! let b = Money::from_f64(0.11).unwrap();
//! assert_eq!((a + b).to_string(), "1234568.00");
//! assert!("12,3x".parse::<Money>().is_err());
//! ```

use std::fmt;
use std::ops::{Add, Neg, Sub};
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Errors from reading or converting money.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MoneyError {
    /// Text that is not a decimal amount.
    #[error("{text:?} is not an amount of money")]
    Malformed {
        /// The text given.
        text: String,
    },
    /// A float that is NaN or infinite.
    #[error("{value} is not a finite amount of money")]
    NotFinite {
        /// The value given.
        value: f64,
    },
    /// An amount beyond [`MAX_MONEY`] in absolute value.
    #[error("{value} is beyond the 1e15 pounds in absolute value that fiscalrisk accepts")]
    TooLarge {
        /// The value given.
        value: String,
    },
}

/// The largest amount, in absolute value, that a user may type (1e15 pounds, a thousand times
/// any public body's budget): every sum the ledgers and checks make of such amounts stays far
/// inside a 96-bit decimal, so exact arithmetic cannot overflow.
pub const MAX_MONEY: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// An exact amount of money in pounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// Zero pounds.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps a decimal.
    pub fn new(value: Decimal) -> Money {
        Money(value)
    }

    /// Whether it is zero pounds.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// The decimal amount.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// From a float, through its shortest round-trip text, so `2.5e6` and `0.1` are read as
    /// the decimals a user typed, not as their binary approximations.
    pub fn from_f64(value: f64) -> Result<Money, MoneyError> {
        if !value.is_finite() {
            return Err(MoneyError::NotFinite { value });
        }
        // `{}` on f64 prints the shortest text that reads back as the same float.
        let text = format!("{value}");
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Money)
            // Said in scientific form: `{}` writes 1e300 with its 301 digits.
            .map_err(|_| MoneyError::TooLarge {
                value: format!("{value:e}"),
            })
    }

    /// The nearest float, for simulation.
    pub fn to_f64(self) -> f64 {
        self.0.to_f64().unwrap_or(f64::NAN)
    }

    /// Rounded to the penny (banker's rounding is not used: half away from zero, as ledgers do).
    pub fn round_to_penny(self) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
    }

    /// This amount, or [`MoneyError::TooLarge`] naming `text` when it is beyond [`MAX_MONEY`].
    pub fn bounded(self, text: &str) -> Result<Money, MoneyError> {
        if self.0.abs() > MAX_MONEY {
            return Err(MoneyError::TooLarge {
                value: text.to_string(),
            });
        }
        Ok(self)
    }

    /// Whether the float form reads back as exactly this amount.
    fn float_round_trips(self) -> bool {
        Money::from_f64(self.to_f64()).is_ok_and(|m| m.0 == self.0)
    }
}

/// A number's text without its thousands separators, or `None` when it is not a number's
/// text: digits, `.`, an exponent, and `,` only between digit groups of three (so `12,3`, a
/// decimal comma, is refused rather than read as 123). No sign or `£` (the callers take them).
fn ungrouped(body: &str) -> Option<String> {
    if body.is_empty() || body.starts_with(['-', '+']) {
        return None;
    }
    let cleaned: String = if body.contains(',') {
        let int_part = body.split(['.', 'e', 'E']).next().unwrap_or("");
        let groups: Vec<&str> = int_part.split(',').collect();
        let ok = !groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3)
            && !body[int_part.len()..].contains(',');
        if !ok {
            return None;
        }
        body.replace(',', "")
    } else {
        body.to_string()
    };
    cleaned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        .then_some(cleaned)
}

/// A number typed as text in a table (`0.753`, `-12`, `1,250,000`, `£2.5e6`): the rule
/// [`Money`]'s parser applies to amounts, for any number (a ratio, £ thousands), so that every
/// reader takes one rule. `None` when it is not a number's text, e.g. `12,3` (a decimal comma).
///
/// # Examples
///
/// ```
/// use fiscalrisk::money::parse_number;
/// assert_eq!(parse_number("1,250,000.5"), Some(1_250_000.5));
/// assert_eq!(parse_number("-0.753"), Some(-0.753));
/// assert_eq!(parse_number("12,3"), None);
/// assert_eq!(parse_number("1,2345"), None);
/// ```
pub fn parse_number(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let body = body.strip_prefix('£').unwrap_or(body);
    let value: f64 = ungrouped(body)?.parse().ok()?;
    value
        .is_finite()
        .then_some(if negative { -value } else { value })
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Reads `1234.56`, `-12`, `2.5e6`, with an optional leading `£` and `,` thousands separators.
    fn from_str(s: &str) -> Result<Money, MoneyError> {
        let malformed = || MoneyError::Malformed {
            text: s.to_string(),
        };
        let trimmed = s.trim();
        let (negative, body) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let body = body.strip_prefix('£').unwrap_or(body);
        let cleaned = ungrouped(body).ok_or_else(malformed)?;
        let value = if cleaned.contains(['e', 'E']) {
            Decimal::from_scientific(&cleaned)
        } else {
            Decimal::from_str(&cleaned)
        }
        .map_err(|e| {
            if e.to_string().contains("overflow") || e.to_string().contains("too") {
                MoneyError::TooLarge {
                    value: s.to_string(),
                }
            } else {
                malformed()
            }
        })?;
        Money(if negative { -value } else { value }).bounded(s)
    }
}

/// A [`Money`] for a person to read: `£1,234,567.89`, `-£12.50` (see [`Money::pounds`]).
#[derive(Debug, Clone, Copy)]
pub struct Pounds(Money);

impl fmt::Display for Pounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.abs().to_string();
        let (whole, pence) = text.split_once('.').unwrap_or((&text, "00"));
        let sign =
            if self.0.round_to_penny().0.is_sign_negative() && !self.0.round_to_penny().is_zero() {
                "-"
            } else {
                ""
            };
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}£{grouped}.{pence}")
    }
}

impl Money {
    /// The amount as a person reads it, in messages: a pound sign, thousands separators and
    /// pence.
    ///
    /// # Examples
    /// ```
    /// use fiscalrisk::money::Money;
    /// let m: Money = "-9000000".parse().unwrap();
    /// assert_eq!(m.pounds().to_string(), "-£9,000,000.00");
    /// assert_eq!("858000000.004".parse::<Money>().unwrap().pounds().to_string(), "£858,000,000.00");
    /// ```
    pub fn pounds(self) -> Pounds {
        Pounds(self)
    }

    fn abs(self) -> Money {
        Money(self.0.abs())
    }
}

impl fmt::Display for Money {
    /// Pounds with pence: `1234.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.round_to_penny().0;
        d.rescale(2);
        write!(f, "{d}")
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl Serialize for Money {
    /// A number where the float reads back exactly (so TOML and JSON stay readable), text otherwise.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.float_round_trips() {
            serializer.serialize_f64(self.to_f64())
        } else {
            serializer.serialize_str(&self.0.normalize().to_string())
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts a number (read through its shortest text) or a string such as `"1,250,000.00"`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of money (a number or a string such as \"1250000.00\")")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                Money::from_f64(v)
                    .and_then(|m| m.bounded(&v.to_string()))
                    .map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Money(Decimal::from(v))
                    .bounded(&v.to_string())
                    .map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Money(Decimal::from(v))
                    .bounded(&v.to_string())
                    .map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_beyond_1e15_are_refused_wherever_they_are_typed() {
        assert_eq!(MAX_MONEY, Decimal::from(1_000_000_000_000_000i64));
        assert!("1e15".parse::<Money>().is_ok() && "-1e15".parse::<Money>().is_ok());
        for text in [
            "1.0000000000000001e15",
            "7e28",
            "-5e28",
            "99999999999999999999",
        ] {
            let e = text.parse::<Money>().unwrap_err().to_string();
            assert!(e.contains("beyond the 1e15"), "{text}: {e}");
        }
        assert!(toml::from_str::<std::collections::BTreeMap<String, Money>>("a = 7e28").is_err());
        assert!(serde_json::from_str::<Money>("70000000000000000000000000000").is_err());
        assert!(serde_json::from_str::<Money>("-9223372036854775808").is_err());
    }

    #[test]
    fn reads_what_users_type() {
        let m = |s: &str| s.parse::<Money>().unwrap().to_string();
        assert_eq!(m("1,234,567.891"), "1234567.89");
        assert_eq!(m("£2.5e6"), "2500000.00");
        assert_eq!(m("-0.005"), "-0.01");
        for bad in ["", "£", "1,23", "12a", "--1", "1,2345", "1.2.3"] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn floats_are_read_as_typed() {
        // 0.1 + 0.2 is not 0.3 in binary; it is in money.
        let sum = Money::from_f64(0.1).unwrap() + Money::from_f64(0.2).unwrap();
        assert_eq!(sum, "0.3".parse().unwrap());
        assert!(Money::from_f64(f64::NAN).is_err());
        assert!(matches!(
            Money::from_f64(1e30),
            Err(MoneyError::TooLarge { .. })
        ));
    }

    #[test]
    fn serde_round_trips_exactly() {
        for text in ["2500000", "1234567.89", "999999999999999.99"] {
            let m: Money = text.parse().unwrap();
            let json = serde_json::to_string(&m).unwrap();
            let back: Money = serde_json::from_str(&json).unwrap();
            assert_eq!(back, m, "{json}");
        }
        // The long one does not fit a float, so it travels as text.
        assert!(
            serde_json::to_string(&"999999999999999.99".parse::<Money>().unwrap())
                .unwrap()
                .starts_with('"')
        );
    }
}
