//! UK financial years (April to March), labelled like `2019/20`, and plan horizons.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::period::{FinancialYear, Horizon};
//! let y: FinancialYear = "2019/20".parse().unwrap();
//! assert_eq!(y.start_year(), 2019);
//! assert_eq!(y.next().to_string(), "2020/21");
//! let h = Horizon::new(y, 3).unwrap();
//! let labels: Vec<String> = h.iter().map(|y| y.to_string()).collect();
//! assert_eq!(labels, ["2019/20", "2020/21", "2021/22"]);
//! assert!("2019/21".parse::<FinancialYear>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The earliest and latest years a label may name.
const FIRST_SUPPORTED: i32 = 1900;
const LAST_SUPPORTED: i32 = 2199;
/// Longest horizon accepted (a 25-year capital plan fits with room to spare).
pub const MAX_YEARS: u32 = 100;

/// Errors from reading financial years and horizons.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PeriodError {
    /// A label not of the form `2019/20`.
    #[error("{label:?} is not a financial year label like \"2019/20\"")]
    Malformed {
        /// The label given.
        label: String,
    },
    /// `2019/21`: the second part is not the year after the first.
    #[error("{label:?} is not a financial year: {end:02} does not follow {start}")]
    NotConsecutive {
        /// The label given.
        label: String,
        /// The first calendar year.
        start: i32,
        /// The two-digit second year.
        end: i32,
    },
    /// A year outside 1900/01 to 2199/00.
    #[error("{label:?} is outside the supported years 1900/01 to 2199/00")]
    OutOfRange {
        /// The label given.
        label: String,
    },
    /// A horizon of no years, or of more than [`MAX_YEARS`].
    #[error("years: {years} is not between 1 and {MAX_YEARS}")]
    BadLength {
        /// The length given.
        years: u32,
    },
    /// A year that is not in the horizon.
    #[error("{year} is outside the horizon {first} to {last}")]
    OutsideHorizon {
        /// The year asked for.
        year: FinancialYear,
        /// The horizon's first year.
        first: FinancialYear,
        /// The horizon's last year.
        last: FinancialYear,
    },
}

/// A UK financial year, April to March, named by the calendar year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FinancialYear(i32);

impl FinancialYear {
    /// The financial year starting in April of `start`.
    pub fn new(start: i32) -> Result<FinancialYear, PeriodError> {
        if !(FIRST_SUPPORTED..=LAST_SUPPORTED).contains(&start) {
            return Err(PeriodError::OutOfRange {
                label: format!("{start}/{:02}", (start + 1).rem_euclid(100)),
            });
        }
        Ok(FinancialYear(start))
    }

    /// The calendar year the financial year starts in.
    pub fn start_year(self) -> i32 {
        self.0
    }

    /// The following year.
    pub fn next(self) -> FinancialYear {
        FinancialYear(self.0 + 1)
    }

    /// `self` plus `n` years.
    pub fn offset(self, n: u32) -> FinancialYear {
        FinancialYear(self.0 + n as i32)
    }
}

impl FromStr for FinancialYear {
    type Err = PeriodError;

    fn from_str(label: &str) -> Result<FinancialYear, PeriodError> {
        let malformed = || PeriodError::Malformed {
            label: label.to_string(),
        };
        let (a, b) = label.split_once('/').ok_or_else(malformed)?;
        if a.len() != 4 || b.len() != 2 || !(a.bytes().chain(b.bytes())).all(|c| c.is_ascii_digit())
        {
            return Err(malformed());
        }
        let start: i32 = a.parse().map_err(|_| malformed())?;
        let end: i32 = b.parse().map_err(|_| malformed())?;
        if (start + 1) % 100 != end {
            return Err(PeriodError::NotConsecutive {
                label: label.to_string(),
                start,
                end,
            });
        }
        FinancialYear::new(start).map_err(|_| PeriodError::OutOfRange {
            label: label.to_string(),
        })
    }
}

impl TryFrom<String> for FinancialYear {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<FinancialYear, PeriodError> {
        s.parse()
    }
}

impl From<FinancialYear> for String {
    fn from(y: FinancialYear) -> String {
        y.to_string()
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.0, (self.0 + 1) % 100)
    }
}

/// Consecutive financial years: a plan's horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Horizon {
    first: FinancialYear,
    years: u32,
}

impl Horizon {
    /// `years` years starting with `first`.
    pub fn new(first: FinancialYear, years: u32) -> Result<Horizon, PeriodError> {
        if years == 0 || years > MAX_YEARS {
            return Err(PeriodError::BadLength { years });
        }
        FinancialYear::new(first.0 + years as i32 - 1)?;
        Ok(Horizon { first, years })
    }

    /// The first year.
    pub fn first(&self) -> FinancialYear {
        self.first
    }

    /// The last year.
    pub fn last(&self) -> FinancialYear {
        self.first.offset(self.years - 1)
    }

    /// How many years.
    pub fn len(&self) -> usize {
        self.years as usize
    }

    /// Never true: a horizon has at least one year.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The position of `year` in the horizon, or an error naming the horizon.
    pub fn index_of(&self, year: FinancialYear) -> Result<usize, PeriodError> {
        if year < self.first || year > self.last() {
            return Err(PeriodError::OutsideHorizon {
                year,
                first: self.first,
                last: self.last(),
            });
        }
        Ok((year.0 - self.first.0) as usize)
    }

    /// The years in order.
    pub fn iter(&self) -> impl Iterator<Item = FinancialYear> + '_ {
        (0..self.years).map(|i| self.first.offset(i))
    }

    /// The labels in order (`2019/20`, ...).
    pub fn labels(&self) -> Vec<String> {
        self.iter().map(|y| y.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_format_and_order() {
        let y: FinancialYear = "1999/00".parse().unwrap();
        assert_eq!(y.to_string(), "1999/00");
        assert_eq!(y.next().to_string(), "2000/01");
        assert!(y < y.next());
        for bad in [
            "2019",
            "2019-20",
            "19/20",
            "2019/2020",
            "201a/20",
            " 2019/20",
            "2019/21",
        ] {
            assert!(bad.parse::<FinancialYear>().is_err(), "{bad}");
        }
        let e = "2019/21".parse::<FinancialYear>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"2019/21\" is not a financial year: 21 does not follow 2019"
        );
        assert!(matches!(
            "2500/01".parse::<FinancialYear>(),
            Err(PeriodError::OutOfRange { .. })
        ));
    }

    #[test]
    fn horizon_index_and_bounds() {
        let h = Horizon::new("2019/20".parse().unwrap(), 4).unwrap();
        assert_eq!(h.last().to_string(), "2022/23");
        assert_eq!(h.index_of("2021/22".parse().unwrap()).unwrap(), 2);
        let e = h.index_of("2023/24".parse().unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "2023/24 is outside the horizon 2019/20 to 2022/23"
        );
        assert!(Horizon::new(h.first(), 0).is_err());
        assert!(Horizon::new("2190/91".parse().unwrap(), 20).is_err());
    }
}
