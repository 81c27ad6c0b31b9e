//! In-year budget monitoring: the monthly monitoring table, the checks a finance team's CI runs
//! on it before it goes to Cabinet, run-rate forecasts and the movement since last month.
//!
//! The table has one row per budget line and one `TOTAL` row. It reaches the core as text
//! columns (as read by polars with no type inference), so that every amount is parsed exactly,
//! as [`Money`], and a cell that is not an amount is reported with its row, column and text
//! rather than silently read as missing.
//!
//! Columns read (others are kept by the caller and ignored here): `line_id`, `directorate`,
//! `service`, `budget`, `m01` ... `m12` (actual spend by month, M1 = April; empty for months not
//! yet closed), `forecast_outturn`, `one_off_mitigations`, `reserves_use`, `recurring`,
//! `explanation`. Rows are numbered from 1, as a spreadsheet user counts data rows.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::monitoring::{Table, check, Rules, Severity};
//! let csv = "line_id,budget,m01,m02,forecast_outturn,one_off_mitigations,reserves_use,recurring\n\
//!            A,1200.00,100,110,1300,0,0,false\n\
//!            B,2400.00,200,190,2400,0,0,false\n\
//!            TOTAL,3600.00,300,300,3700,0,0,\n";
//! let table = Table::from_csv_text(csv).unwrap();
//! let report = check(&table, None, None, &Rules::default()).unwrap();
//! assert_eq!(report.month, 2);
//! assert!(report.findings.iter().all(|f| f.severity != Severity::Error), "{:?}", report.findings);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::Money;

/// The label of the totals row.
pub const TOTAL_ID: &str = "TOTAL";
/// Month columns, April (`m01`) to March (`m12`).
pub const MONTHS: [&str; 12] = [
    "m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12",
];
/// Columns that hold amounts of money (besides the months).
pub const AMOUNT_COLUMNS: [&str; 4] = [
    "budget",
    "forecast_outturn",
    "one_off_mitigations",
    "reserves_use",
];
/// Columns without which a table cannot be checked.
pub const REQUIRED_COLUMNS: [&str; 5] = [
    "line_id",
    "budget",
    "forecast_outturn",
    "one_off_mitigations",
    "reserves_use",
];

/// Errors that stop a table being read at all (a check reports everything else as findings).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MonitoringError {
    /// A required column is missing.
    #[error("columns: missing {missing} (the table has {present})")]
    MissingColumns {
        /// The missing columns.
        missing: String,
        /// The columns present.
        present: String,
    },
    /// Columns of different lengths.
    #[error("column {column:?} has {len} rows, not {expected}")]
    Ragged {
        /// The column.
        column: String,
        /// Its length.
        len: usize,
        /// The length of the first column.
        expected: usize,
    },
    /// Text that is not CSV this reader understands.
    #[error("line {line}: {message}")]
    Csv {
        /// The line of the file (1 is the header).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A history row that cannot be used.
    #[error("history row {row}: {message}")]
    History {
        /// Row number, from 1.
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// A month outside 1 to 12.
    #[error("month: {month} is not between 1 and 12")]
    Month {
        /// The month given.
        month: i64,
    },
    /// A rules file threshold out of its range.
    #[error("rules.{field}: {value} is outside {range}")]
    Rule {
        /// The threshold.
        field: &'static str,
        /// Its value.
        value: String,
        /// What is allowed.
        range: &'static str,
    },
    /// More rows than a monitoring table may have.
    #[error("rows: {rows} is more than the {MAX_ROWS} a monitoring table may have")]
    TooManyRows {
        /// How many.
        rows: usize,
    },
}

/// Most rows (budget lines and totals) a monitoring table may have: far beyond any council's
/// budget book, small enough that reading and checking one stays within memory and seconds.
pub const MAX_ROWS: usize = 100_000;

/// Most columns a table (monitoring, tracker) may have: a monitoring table has a dozen and
/// twelve months of actuals.
pub const MAX_COLUMNS: usize = 1_000;

/// A cell's text as a message quotes it: a number written out in hundreds of digits (an xlsx
/// reader expands 1E+308 so) is given in scientific form, as the spreadsheet shows it.
fn shown_number(text: &str) -> String {
    match text.trim().parse::<f64>() {
        Ok(v) if text.len() > 24 && v.is_finite() => format!("{v:e}"),
        _ => text.to_string(),
    }
}

/// The row a person sees for the `i`th data row (from 0): the sheet's or CSV file's own row
/// number, the headings being row 1, as Excel numbers it.
pub fn sheet_row(i: usize) -> usize {
    i + 2
}

/// Most bytes one part of an xlsx workbook (a sheet's XML, its shared strings) may unpack to:
/// the reader holds each whole, so a 1 MB file whose one cell unpacks to 1 GiB is refused before
/// it is read (issue 38, item 10).
pub const MAX_XLSX_PART_BYTES: usize = 256 << 20;

/// One rule of the check: its name, severity and what it asks of the table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rule {
    /// The name findings carry.
    pub name: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// What the rule asks.
    pub description: &'static str,
}

/// Every rule [`check`] applies, in the order reports list them: the one catalogue that text,
/// JSON and JUnit output are built from.
pub const RULES: [Rule; 11] = [
    Rule {
        name: "no-total-row",
        severity: Severity::Error,
        description: "exactly one row has line_id TOTAL",
    },
    Rule {
        name: "duplicate-line-id",
        severity: Severity::Error,
        description: "line ids are present and unique",
    },
    Rule {
        name: "not-a-number",
        severity: Severity::Error,
        description: "every amount (and recurring flag) can be read",
    },
    Rule {
        name: "missing-amount",
        severity: Severity::Error,
        description: "every line and the TOTAL row have a budget and a forecast outturn (0, not blank, for none)",
    },
    Rule {
        name: "missing-actuals",
        severity: Severity::Error,
        description: "actuals are present for every month up to the month reported",
    },
    Rule {
        name: "actuals-beyond-month",
        severity: Severity::Error,
        description: "no actuals after the month reported",
    },
    Rule {
        name: "totals",
        severity: Severity::Error,
        description: "lines add to the TOTAL row, to the penny, in every amount column",
    },
    Rule {
        name: "reserves-for-recurring",
        severity: Severity::Error,
        description: "no reserves_use on a line whose variance is recurring",
    },
    Rule {
        name: "unexplained-movement",
        severity: Severity::Warning,
        description: "a forecast that moved more than the threshold since last month is explained",
    },
    Rule {
        name: "one-off-share",
        severity: Severity::Warning,
        description: "one-off mitigations do not cover more than a share of the gross overspend",
    },
    Rule {
        name: "forecast-outside-band",
        severity: Severity::Warning,
        description: "the total forecast lies in the calibrated P10-P90 band around the run-rate (with history)",
    },
];

/// Most findings of one rule a report lists; the rest are counted in one more finding.
pub const MAX_FINDINGS_PER_RULE: usize = 100;

/// One budget line, or the totals row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The row in the sheet or CSV file, the headings being row 1 (the first line is row 2).
    pub row: usize,
    /// The line's id.
    pub line_id: String,
    /// Annual budget.
    pub budget: Option<Money>,
    /// Actual spend by month; `None` where the cell is empty (or not an amount).
    pub actuals: [Option<Money>; 12],
    /// The managers' forecast outturn for the year.
    pub forecast_outturn: Option<Money>,
    /// One-off measures included in the forecast.
    pub one_off_mitigations: Option<Money>,
    /// Reserves the forecast draws on.
    pub reserves_use: Option<Money>,
    /// Whether the variance is expected to recur next year.
    pub recurring: Option<bool>,
    /// Free text.
    pub explanation: String,
}

/// A month reported, 1 (April) to 12 (March), checked: the one place a month is validated.
///
/// ```
/// use fiscalrisk::monitoring::reported_month;
/// assert_eq!(reported_month(8).unwrap(), 8);
/// assert_eq!(reported_month(-1).unwrap_err().to_string(), "month: -1 is not between 1 and 12");
/// ```
pub fn reported_month(month: i64) -> Result<usize, MonitoringError> {
    if (1..=12).contains(&month) {
        Ok(month as usize)
    } else {
        Err(MonitoringError::Month { month })
    }
}

impl Line {
    /// The forecast variance: forecast outturn less budget (positive is an overspend).
    pub fn variance(&self) -> Option<Money> {
        Some(self.forecast_outturn? - self.budget?)
    }

    /// The underlying variance: the variance with the one-off mitigations inside the forecast
    /// added back (the position without one-off measures; blank mitigations count as none).
    pub fn underlying_variance(&self) -> Option<Money> {
        Some(self.variance()? + self.one_off_mitigations.unwrap_or_default())
    }

    /// The amount in a money column (`budget`, `m01`, ..., `reserves_use`).
    pub fn amount(&self, column: &str) -> Option<Money> {
        match column {
            "budget" => self.budget,
            "forecast_outturn" => self.forecast_outturn,
            "one_off_mitigations" => self.one_off_mitigations,
            "reserves_use" => self.reserves_use,
            _ => MONTHS
                .iter()
                .position(|m| *m == column)
                .and_then(|i| self.actuals[i]),
        }
    }

    /// Actual spend for months 1 to `k`, when every one of them is present.
    pub fn actuals_to(&self, k: usize) -> Option<Money> {
        self.actuals[..k].iter().copied().sum()
    }
}

/// A cell that is not what its column needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadCell {
    /// The row in the sheet or CSV file, the headings being row 1 (the first line is row 2).
    pub row: usize,
    /// The line's id.
    pub line_id: String,
    /// The column.
    pub column: String,
    /// The text found.
    pub text: String,
    /// What is wrong with it (`is not an amount of money`, ...).
    #[serde(default)]
    pub problem: String,
}

/// A monitoring table, read exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Budget lines, in file order.
    pub lines: Vec<Line>,
    /// The `TOTAL` rows (a valid table has exactly one).
    pub totals: Vec<Line>,
    /// Cells that could not be read.
    pub bad_cells: Vec<BadCell>,
}

/// A yes/no cell as finance tables write it (`true`, `yes`, `y`, `1`; `false`, `no`, `n`, `0`; any
/// case); anything else is `None`. The one reading of such cells: the monitoring table, registers
/// from DataFrames and savings histories all use it.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// Text columns as a table is handed over (name, cells; `None` for an empty cell), checked
/// once for every table read from them: the required columns are there, at most [`MAX_ROWS`]
/// rows, every column as long as the first.
pub(crate) struct TextColumns<'a> {
    /// Number of rows.
    pub(crate) rows: usize,
    by_name: HashMap<&'a str, &'a Vec<Option<String>>>,
}

impl<'a> TextColumns<'a> {
    pub(crate) fn new(
        columns: &'a [(String, Vec<Option<String>>)],
        required: &[&str],
    ) -> Result<TextColumns<'a>, MonitoringError> {
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !names.contains(c))
            .collect();
        if !missing.is_empty() {
            return Err(MonitoringError::MissingColumns {
                missing: missing.join(", "),
                present: names.join(", "),
            });
        }
        let rows = columns.first().map_or(0, |c| c.1.len());
        if rows > MAX_ROWS {
            return Err(MonitoringError::TooManyRows { rows });
        }
        for (name, cells) in columns {
            if cells.len() != rows {
                return Err(MonitoringError::Ragged {
                    column: name.clone(),
                    len: cells.len(),
                    expected: rows,
                });
            }
        }
        let by_name = columns.iter().map(|(n, c)| (n.as_str(), c)).collect();
        Ok(TextColumns { rows, by_name })
    }

    /// Column `name`'s cell in row `i` (from 0), trimmed; `None` when blank or absent.
    pub(crate) fn cell(&self, name: &str, i: usize) -> Option<&'a str> {
        self.by_name
            .get(name)
            .and_then(|c| c[i].as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

impl Table {
    /// Reads text columns (name, cells; `None` for an empty cell).
    pub fn from_columns(
        columns: &[(String, Vec<Option<String>>)],
    ) -> Result<Table, MonitoringError> {
        let text = TextColumns::new(columns, &REQUIRED_COLUMNS)?;
        let rows = text.rows;
        let cell = |name: &str, i: usize| text.cell(name, i);
        let mut table = Table {
            lines: Vec::new(),
            totals: Vec::new(),
            bad_cells: Vec::new(),
        };
        for i in 0..rows {
            let line_id = cell("line_id", i).unwrap_or("").to_string();
            let mut bad = Vec::new();
            let mut amount = |name: &str| -> Option<Money> {
                let text = cell(name, i)?;
                let problem = match text.parse::<Money>() {
                    // Amounts are to the penny: a finer one cannot be added up as the totals
                    // row is, and the check compares to the penny.
                    Ok(m) if m.decimal().normalize().scale() > 2 => {
                        "has more than two decimal places: amounts are to the penny".to_string()
                    }
                    // A negative mitigation would turn an overspend into an underspend and
                    // hide the underlying position: mitigations are pounds saved once.
                    Ok(m) if name == "one_off_mitigations" && m.decimal() < Decimal::ZERO => {
                        "is negative: one-off mitigations are the pounds of one-off measures inside the forecast (0 or more); an overspend belongs in forecast_outturn".to_string()
                    }
                    Ok(m) => return Some(m),
                    Err(crate::money::MoneyError::TooLarge { .. }) => {
                        "is beyond the 1e15 pounds that fiscalrisk accepts".to_string()
                    }
                    Err(_) => "is not an amount of money".to_string(),
                };
                bad.push((name.to_string(), shown_number(text), problem));
                None
            };
            let budget = amount("budget");
            let mut actuals = [None; 12];
            for (m, name) in MONTHS.iter().enumerate() {
                actuals[m] = amount(name);
            }
            let forecast_outturn = amount("forecast_outturn");
            let one_off_mitigations = amount("one_off_mitigations");
            let reserves_use = amount("reserves_use");
            let recurring = match cell("recurring", i) {
                None => None,
                Some(text) => {
                    let b = parse_bool(text);
                    if b.is_none() {
                        bad.push((
                            "recurring".into(),
                            text.into(),
                            "is not true or false".into(),
                        ));
                    }
                    b
                }
            };
            let line = Line {
                row: sheet_row(i),
                line_id: line_id.clone(),
                budget,
                actuals,
                forecast_outturn,
                one_off_mitigations,
                reserves_use,
                recurring,
                explanation: cell("explanation", i).unwrap_or("").to_string(),
            };
            table
                .bad_cells
                .extend(bad.into_iter().map(|(column, text, problem)| BadCell {
                    row: sheet_row(i),
                    line_id: line_id.clone(),
                    column,
                    text,
                    problem,
                }));
            if line_id == TOTAL_ID {
                table.totals.push(line);
            } else {
                table.lines.push(line);
            }
        }
        Ok(table)
    }

    /// Reads CSV text: a header row, then data rows; fields may be quoted with `"` (a quote
    /// inside is doubled). Empty fields are empty cells.
    pub fn from_csv_text(text: &str) -> Result<Table, MonitoringError> {
        if text.len() > crate::plan::MAX_INPUT_BYTES {
            return Err(MonitoringError::Csv {
                line: 1,
                message: format!(
                    "{} bytes is more than the {} a table may have",
                    text.len(),
                    crate::plan::MAX_INPUT_BYTES
                ),
            });
        }
        let records = parse_csv(text)?;
        let mut it = records.into_iter();
        let header = it.next().ok_or(MonitoringError::Csv {
            line: 1,
            message: "the file is empty".into(),
        })?;
        let mut columns: Vec<(String, Vec<Option<String>>)> = header
            .iter()
            .map(|h| (h.trim().to_string(), Vec::new()))
            .collect();
        for (n, record) in it.enumerate() {
            if record.len() == 1 && record[0].is_empty() {
                continue; // a blank line
            }
            if record.len() != columns.len() {
                return Err(MonitoringError::Csv {
                    line: n + 2,
                    message: format!(
                        "{} fields, but the header has {}",
                        record.len(),
                        columns.len()
                    ),
                });
            }
            for ((_, cells), field) in columns.iter_mut().zip(record) {
                cells.push((!field.is_empty()).then_some(field));
            }
        }
        Table::from_columns(&columns)
    }

    /// The last month for which any line has actuals (0 when none has).
    pub fn last_month_with_actuals(&self) -> usize {
        self.lines
            .iter()
            .flat_map(|l| (0..12).filter(|&m| l.actuals[m].is_some()).map(|m| m + 1))
            .max()
            .unwrap_or(0)
    }
}

/// Splits CSV text into records of fields.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, MonitoringError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                line += 1;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(MonitoringError::Csv {
            line,
            message: "a quoted field is not closed".into(),
        });
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The figures must not go to Cabinet as they are.
    Error,
    /// Worth a look; an error under `--strict`.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule (`totals`, `missing-actuals`, ...).
    pub rule: String,
    /// Error or warning.
    pub severity: Severity,
    /// The row in the sheet or CSV file (the headings are row 1), where it applies.
    pub row: Option<usize>,
    /// Line id, where it applies.
    pub line_id: Option<String>,
    /// Column, where it applies.
    pub column: Option<String>,
    /// What is wrong, with the figures.
    pub message: String,
}

/// Thresholds of the warning rules (a rules file overrides them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// A line's forecast may move by at most this since last month without an explanation.
    pub movement_without_explanation: Money,
    /// One-off mitigations above this share of the total gross variance (before them) warn.
    pub one_off_share: f64,
}

impl Rules {
    /// Checks each threshold's range (a value outside it would silently turn its rule off).
    pub fn validate(&self) -> Result<(), MonitoringError> {
        if !(self.one_off_share > 0.0 && self.one_off_share <= 1.0) {
            return Err(MonitoringError::Rule {
                field: "one_off_share",
                value: format!("{:?}", self.one_off_share),
                range: "(0, 1] (0.5 is half the gross overspend)",
            });
        }
        if self.movement_without_explanation < Money::ZERO {
            return Err(MonitoringError::Rule {
                field: "movement_without_explanation",
                value: self.movement_without_explanation.to_string(),
                range: "[0, 1e15] pounds",
            });
        }
        Ok(())
    }
}

impl Default for Rules {
    /// £1m of unexplained movement on one line; one-off mitigations covering more than half the
    /// gross overspend. Both are judgement calls, to be set in a council's rules file.
    fn default() -> Rules {
        Rules {
            movement_without_explanation: Money::new(Decimal::from(1_000_000)),
            one_off_share: 0.5,
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The month checked.
    pub month: usize,
    /// Findings, errors first, then by row.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The exit code: 1 when any error (or, when `strict`, any warning) was found, else 0.
    pub fn exit_code(&self, strict: bool) -> i32 {
        let failing = |f: &Finding| f.severity == Severity::Error || strict;
        i32::from(self.findings.iter().any(failing))
    }
}

fn finding(
    rule: &str,
    severity: Severity,
    line: Option<&Line>,
    column: Option<&str>,
    message: String,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        row: line.map(|l| l.row),
        line_id: line.map(|l| l.line_id.clone()),
        column: column.map(str::to_string),
        message,
    }
}

/// Checks a monitoring table for month `month` (default: the last month with actuals),
/// against last month's table when given.
///
/// Errors: no `TOTAL` row (or several); duplicate or empty `line_id`s; cells that are not
/// amounts; actuals missing for a month up to `month`, or present beyond it; lines that do not
/// add to the `TOTAL` row, to the penny; `reserves_use` on a line whose variance is recurring.
/// Warnings: a line's forecast moved by more than `rules.movement_without_explanation` since
/// last month with no explanation; one-off mitigations above `rules.one_off_share` of the gross
/// overspend.
pub fn check(
    table: &Table,
    month: Option<usize>,
    previous: Option<&Table>,
    rules: &Rules,
) -> Result<Report, MonitoringError> {
    check_with(table, month, previous, rules, None)
}

/// As [`check`], and, given a calibration, one more warning: the managers' total forecast
/// lies outside the P10-P90 band that the calibration puts around the run-rate (flat profile)
/// forecast from actuals, an independent view of where the year is heading.
pub fn check_with(
    table: &Table,
    month: Option<usize>,
    previous: Option<&Table>,
    rules: &Rules,
    calibration: Option<&Calibration>,
) -> Result<Report, MonitoringError> {
    if let Some(m) = month {
        reported_month(m as i64)?;
    }
    rules.validate()?;
    let k = month.unwrap_or_else(|| table.last_month_with_actuals());
    let mut out = Vec::new();
    use Severity::{Error as E, Warning as W};

    match table.totals.len() {
        0 => out.push(finding(
            "no-total-row",
            E,
            None,
            None,
            format!("no row has line_id {TOTAL_ID}"),
        )),
        1 => {}
        n => {
            for t in &table.totals[1..] {
                out.push(finding(
                    "no-total-row",
                    E,
                    Some(t),
                    None,
                    format!("{n} rows have line_id {TOTAL_ID}; one is needed"),
                ));
            }
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for l in &table.lines {
        if l.line_id.is_empty() {
            out.push(finding(
                "duplicate-line-id",
                E,
                Some(l),
                Some("line_id"),
                "line_id is empty".into(),
            ));
        } else if let Some(first) = seen.insert(&l.line_id, l.row) {
            out.push(finding(
                "duplicate-line-id",
                E,
                Some(l),
                Some("line_id"),
                format!("line_id {:?} is also on row {first}", l.line_id),
            ));
        }
    }
    for b in &table.bad_cells {
        out.push(Finding {
            rule: "not-a-number".into(),
            severity: E,
            row: Some(b.row),
            line_id: Some(b.line_id.clone()),
            column: Some(b.column.clone()),
            message: format!(
                "row {} ({:?}), column {}: {:?} {}",
                b.row, b.line_id, b.column, b.text, b.problem
            ),
        });
    }
    let bad: std::collections::HashSet<(usize, &str)> = table
        .bad_cells
        .iter()
        .map(|b| (b.row, b.column.as_str()))
        .collect();
    // A blank required amount: an Excel SUM over a blank agrees with the TOTAL, so the totals
    // rule alone would pass a line with no forecast.
    for l in table.lines.iter().chain(&table.totals) {
        for (name, value) in [
            ("budget", l.budget),
            ("forecast_outturn", l.forecast_outturn),
        ] {
            if value.is_none() && !bad.contains(&(l.row, name)) {
                out.push(finding(
                    "missing-amount",
                    E,
                    Some(l),
                    Some(name),
                    format!(
                        "row {} ({:?}), column {name}: blank; a line needs an amount (0 for none)",
                        l.row, l.line_id
                    ),
                ));
            }
        }
    }
    // A month given wrongly shows on every line: say so once, naming the month the table is at,
    // instead of one finding per line and month.
    let rows: Vec<&Line> = table.lines.iter().chain(&table.totals).collect();
    let closed = |m: usize| {
        !rows.is_empty()
            && rows
                .iter()
                .all(|l| l.actuals[m].is_some() || bad.contains(&(l.row, MONTHS[m])))
    };
    let common = (0..12).take_while(|&m| closed(m)).count();
    let any_after = |m: usize| {
        rows.iter()
            .any(|l| l.actuals[m..].iter().any(Option::is_some))
    };
    let month_is_early = k < 12 && closed(k);
    let month_is_late = k > 0 && !any_after(k - 1) && common < k;
    if month_is_early || month_is_late {
        let (what, rule) = if month_is_early {
            (
                format!("every line has actuals to m{common:02}"),
                "actuals-beyond-month",
            )
        } else {
            (
                format!("no line has actuals after m{common:02}"),
                "missing-actuals",
            )
        };
        out.push(finding(
            rule,
            E,
            None,
            None,
            format!(
                "the month reported is {k} but {what}: this looks like month {common}'s table (--month {common})"
            ),
        ));
    }
    for l in table.lines.iter().chain(&table.totals) {
        for (m, name) in MONTHS.iter().enumerate() {
            let present = l.actuals[m].is_some() || bad.contains(&(l.row, *name));
            if month_is_late && m >= common {
                continue;
            }
            if month_is_early && m >= k {
                continue;
            }
            if m < k && !present {
                let message = format!("no actuals for {name} (month {} of {k} reported)", m + 1);
                out.push(finding("missing-actuals", E, Some(l), Some(name), message));
            } else if m >= k && l.actuals[m].is_some() {
                let message = format!("actuals for {name} but the month reported is {k}");
                out.push(finding(
                    "actuals-beyond-month",
                    E,
                    Some(l),
                    Some(name),
                    message,
                ));
            }
        }
        if l.recurring == Some(true) && l.reserves_use.is_some_and(|r| r != Money::ZERO) {
            out.push(finding("reserves-for-recurring", E, Some(l), Some("reserves_use"),
                format!("reserves_use {} on a line whose variance is recurring: reserves must not fund a recurring overspend",
                    l.reserves_use.unwrap_or_default().pounds())));
        }
    }
    if let [total] = table.totals.as_slice() {
        for name in AMOUNT_COLUMNS.iter().chain(&MONTHS) {
            if bad.iter().any(|(_, c)| c == name) {
                continue; // already reported as not-a-number; a sum would mislead
            }
            let stated = total.amount(name);
            let sum: Money = table.lines.iter().filter_map(|l| l.amount(name)).sum();
            let any = table.lines.iter().any(|l| l.amount(name).is_some());
            match stated {
                Some(s) if s != sum => out.push(finding(
                    "totals",
                    E,
                    Some(total),
                    Some(name),
                    format!(
                        "lines add to {} but the TOTAL row says {} (difference {})",
                        sum.pounds(),
                        s.pounds(),
                        (s - sum).pounds()
                    ),
                )),
                None if any => out.push(finding(
                    "totals",
                    E,
                    Some(total),
                    Some(name),
                    format!("lines add to {} but the TOTAL row is empty", sum.pounds()),
                )),
                _ => {}
            }
        }
        // One-off mitigations against the gross overspend (the variance before them).
        if let (Some(v), Some(o)) = (total.variance(), total.one_off_mitigations) {
            let gross = v + o;
            if o > Money::ZERO && gross > Money::ZERO {
                let share = o.to_f64() / gross.to_f64();
                if share > rules.one_off_share {
                    out.push(finding("one-off-share", W, Some(total), Some("one_off_mitigations"),
                        format!("one-off mitigations of {} cover {:.0}% of the underlying overspend of {} (threshold {:.0}%)",
                            o.pounds(), share * 100.0, gross.pounds(), rules.one_off_share * 100.0)));
                }
            }
        }
    }
    if let (Some(cal), [total]) = (calibration, table.totals.as_slice())
        && let (Some(rr), Some(budget), Some(managers)) = (
            run_rate(total, k, None),
            total.budget,
            total.forecast_outturn,
        )
    {
        let band = cal.interval(k, budget.to_f64(), rr.to_f64());
        let f = managers.to_f64();
        if f < band.p10 || f > band.p90 {
            out.push(finding(
                "forecast-outside-band",
                W,
                Some(total),
                Some("forecast_outturn"),
                format!(
                    "the forecast outturn {} is outside the calibrated P10-P90 band {} to {} around the run-rate forecast {}",
                    managers.pounds(),
                    Money::from_f64(band.p10).map_or_else(|_| format!("{:.2}", band.p10), |m| m.pounds().to_string()),
                    Money::from_f64(band.p90).map_or_else(|_| format!("{:.2}", band.p90), |m| m.pounds().to_string()),
                    rr.pounds()
                ),
            ));
        }
    }
    if let Some(prev) = previous {
        for m in movements(table, prev) {
            if let (Some(l), Some(delta)) = (
                table.lines.iter().find(|l| l.line_id == m.line_id),
                m.change,
            ) {
                let abs = if delta < Money::ZERO { -delta } else { delta };
                if abs > rules.movement_without_explanation && l.explanation.is_empty() {
                    out.push(finding("unexplained-movement", W, Some(l), Some("explanation"),
                        format!("forecast moved by {} since last month with no explanation (threshold {})", delta.pounds(), rules.movement_without_explanation.pounds())));
                }
            }
        }
    }
    out.sort_by_key(|f| (f.severity, f.row.unwrap_or(0)));
    Ok(Report {
        month: k,
        findings: cap_findings(out),
    })
}

/// At most [`MAX_FINDINGS_PER_RULE`] findings of each rule, in order, and for each rule with
/// more one finding that counts the rest (so a hostile table cannot print millions of lines,
/// and the exit code is unchanged).
fn cap_findings(findings: Vec<Finding>) -> Vec<Finding> {
    let mut count: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(findings.len().min(4096));
    let mut extra: Vec<Finding> = Vec::new();
    for f in findings {
        let n = count.entry(f.rule.clone()).or_default();
        *n += 1;
        if *n <= MAX_FINDINGS_PER_RULE {
            out.push(f);
        } else if *n == MAX_FINDINGS_PER_RULE + 1 {
            extra.push(Finding {
                row: None,
                line_id: None,
                column: None,
                message: String::new(),
                ..f
            });
        }
    }
    for mut e in extra {
        let more = count[&e.rule] - MAX_FINDINGS_PER_RULE;
        e.message = format!("{more} more findings of this rule are not listed");
        out.push(e);
    }
    out.sort_by_key(|f| f.severity);
    out
}

/// One line's change in forecast outturn since last month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    /// The line (lines only in one of the two tables are included).
    pub line_id: String,
    /// Last month's forecast outturn (`None` for a new line).
    pub previous: Option<Money>,
    /// This month's (`None` for a removed line).
    pub current: Option<Money>,
    /// The change, counting a missing line as zero; `None` when a forecast is not an amount.
    pub change: Option<Money>,
}

/// The change in forecast outturn line by line, largest first (by size, then line id). The
/// changes add up exactly to the change in the sum of the lines.
pub fn movements(current: &Table, previous: &Table) -> Vec<Movement> {
    let mut by_id: BTreeMap<&str, (Option<&Line>, Option<&Line>)> = BTreeMap::new();
    for l in &previous.lines {
        by_id.entry(&l.line_id).or_default().0 = Some(l);
    }
    for l in &current.lines {
        by_id.entry(&l.line_id).or_default().1 = Some(l);
    }
    let mut out: Vec<Movement> = by_id
        .into_iter()
        .map(|(id, (p, c))| {
            let prev = p.and_then(|l| l.forecast_outturn);
            let cur = c.and_then(|l| l.forecast_outturn);
            let readable = p.is_none_or(|l| l.forecast_outturn.is_some())
                && c.is_none_or(|l| l.forecast_outturn.is_some());
            Movement {
                line_id: id.to_string(),
                previous: prev,
                current: cur,
                change: readable.then(|| cur.unwrap_or_default() - prev.unwrap_or_default()),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let size = |m: &Movement| m.change.map(|c| c.decimal().abs());
        size(b)
            .cmp(&size(a))
            .then_with(|| a.line_id.cmp(&b.line_id))
    });
    out
}

/// A run-rate forecast of the year's outturn from actuals for months 1 to `k`: actuals to date
/// divided by the share of the year's spend that falls in those months, by `profile` (twelve
/// monthly shares summing to one; `None` for a flat profile, 1/12 a month). Rounded to the
/// penny. `None` when an actual is missing or the profile gives no spend to date.
pub fn run_rate(line: &Line, k: usize, profile: Option<&[Decimal; 12]>) -> Option<Money> {
    if k == 0 || k > 12 {
        return None;
    }
    let to_date = line.actuals_to(k)?.decimal();
    let outturn = match profile {
        Some(p) => {
            let share: Decimal = p[..k].iter().sum();
            if share <= Decimal::ZERO {
                return None;
            }
            to_date / share
        }
        None => to_date * Decimal::from(12) / Decimal::from(k as u64),
    };
    Some(Money::new(outturn).round_to_penny())
}

/// Years of history a month needs before its calibration is used instead of the default.
pub const MIN_HISTORY_YEARS: usize = 3;
/// The default spread of (outturn - forecast) / budget at month 1, falling linearly to
/// [`DEFAULT_SPREAD_M12`] at month 12, used without history. The value is an assumption: a
/// council whose forecast overspend moved from £27m to £3m in one month (Birmingham, 2018/19,
/// months 7 to 8, on a net budget of about £850m) saw a 2.8% move late in the year; 3% at
/// month 1 and 0.5% at month 12 give intervals of that order.
pub const DEFAULT_SPREAD_M1: f64 = 0.03;
/// See [`DEFAULT_SPREAD_M1`].
pub const DEFAULT_SPREAD_M12: f64 = 0.005;

/// One past month's forecast of a year's outturn, and the outturn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// The financial year (`2016/17`).
    pub year: String,
    /// The month of the forecast, 1 (April) to 12.
    pub month: usize,
    /// The year's budget.
    pub budget: Money,
    /// The forecast outturn made at that month.
    pub forecast_outturn: Money,
    /// The final outturn.
    pub outturn: Money,
}

/// Where a month's calibration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Measured from the council's own history.
    History,
    /// The documented default (too little history).
    Default,
}

/// How far month-`k` forecasts have been from outturns, as shares of the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthCalibration {
    /// The month, 1 to 12.
    pub month: usize,
    /// Years of history behind it.
    pub years: usize,
    /// Mean of (outturn - forecast) / budget: positive when forecasts were optimistic.
    pub bias: f64,
    /// Standard deviation of (outturn - forecast) / budget (n - 1).
    pub spread: f64,
    /// The multiplier of `spread` for the P10 and P90: Student's t with n - 1 degrees of
    /// freedom times sqrt(1 + 1/n) for a prediction from history; the normal 1.2816 for the
    /// default.
    pub multiplier: f64,
    /// History or default.
    pub method: Method,
}

/// A forecast with its calibrated interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// 10th percentile of the outturn.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// Forecast errors by month, from history or the documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Twelve months, in order.
    pub months: Vec<MonthCalibration>,
}

fn default_month(month: usize) -> MonthCalibration {
    let t = (12 - month) as f64 / 11.0;
    MonthCalibration {
        month,
        years: 0,
        bias: 0.0,
        spread: DEFAULT_SPREAD_M12 + (DEFAULT_SPREAD_M1 - DEFAULT_SPREAD_M12) * t,
        multiplier: crate::distribution::std_normal_quantile(0.9),
        method: Method::Default,
    }
}

impl Default for Calibration {
    fn default() -> Calibration {
        Calibration {
            months: (1..=12).map(default_month).collect(),
        }
    }
}

impl Calibration {
    /// Measures bias and spread by month from `history`; a month with fewer than
    /// [`MIN_HISTORY_YEARS`] years keeps the default (its `method` says so).
    pub fn from_history(history: &[HistoryRow]) -> Result<Calibration, MonitoringError> {
        use statrs::distribution::{ContinuousCDF, StudentsT};
        let mut by_month: Vec<Vec<f64>> = vec![Vec::new(); 12];
        let mut seen = std::collections::HashSet::new();
        for (i, h) in history.iter().enumerate() {
            let bad = |message: String| MonitoringError::History {
                row: sheet_row(i),
                message,
            };
            if !(1..=12).contains(&h.month) {
                return Err(bad(format!("month {} is not between 1 and 12", h.month)));
            }
            if h.budget <= Money::ZERO {
                return Err(bad(format!("budget {} is not positive", h.budget)));
            }
            if !seen.insert((h.year.clone(), h.month)) {
                return Err(bad(format!("{} month {} appears twice", h.year, h.month)));
            }
            let e = (h.outturn - h.forecast_outturn).to_f64() / h.budget.to_f64();
            by_month[h.month - 1].push(e);
        }
        let months = by_month
            .iter()
            .enumerate()
            .map(|(m, errors)| {
                let n = errors.len();
                if n < MIN_HISTORY_YEARS {
                    return default_month(m + 1);
                }
                let mean = errors.iter().sum::<f64>() / n as f64;
                let var = errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                    .map(|d| d.inverse_cdf(0.9))
                    .unwrap_or(f64::NAN);
                MonthCalibration {
                    month: m + 1,
                    years: n,
                    bias: mean,
                    spread: var.sqrt(),
                    multiplier: t * (1.0 + 1.0 / n as f64).sqrt(),
                    method: Method::History,
                }
            })
            .collect();
        Ok(Calibration { months })
    }

    /// The P10, P50 and P90 of the outturn given a month-`month` forecast and the budget.
    pub fn interval(&self, month: usize, budget: f64, forecast: f64) -> Interval {
        let c = &self.months[month.clamp(1, 12) - 1];
        let p50 = forecast + budget * c.bias;
        let half = budget * c.spread * c.multiplier;
        Interval {
            p10: p50 - half,
            p50,
            p90: p50 + half,
        }
    }
}

impl HistoryRow {
    /// Reads history from text columns `year`, `month`, `budget`, `forecast_outturn`, `outturn`
    /// (other columns are ignored); errors name the row, the column and the text.
    pub fn from_columns(
        columns: &[(String, Vec<Option<String>>)],
    ) -> Result<Vec<HistoryRow>, MonitoringError> {
        const NEEDED: [&str; 5] = ["year", "month", "budget", "forecast_outturn", "outturn"];
        let get = |name: &str| columns.iter().find(|(n, _)| n == name).map(|(_, c)| c);
        let missing: Vec<&str> = NEEDED
            .iter()
            .copied()
            .filter(|n| get(n).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(MonitoringError::MissingColumns {
                missing: missing.join(", "),
                present: columns
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let rows = get("year").map_or(0, Vec::len);
        let cell = |name: &str, i: usize| -> Result<&str, MonitoringError> {
            get(name)
                .and_then(|c| c.get(i))
                .and_then(|v| v.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or(MonitoringError::History {
                    row: sheet_row(i),
                    message: format!("{name} is empty"),
                })
        };
        let money = |name: &str, i: usize| -> Result<Money, MonitoringError> {
            let text = cell(name, i)?;
            text.parse().map_err(|_| MonitoringError::History {
                row: sheet_row(i),
                message: format!("{name}: {text:?} is not an amount of money"),
            })
        };
        (0..rows)
            .map(|i| {
                let month_text = cell("month", i)?;
                let month = month_text
                    .parse::<f64>()
                    .ok()
                    .filter(|m| m.fract() == 0.0 && (1.0..=12.0).contains(m))
                    .ok_or_else(|| MonitoringError::History {
                        row: sheet_row(i),
                        message: format!("month: {month_text:?} is not a month from 1 to 12"),
                    })? as usize;
                Ok(HistoryRow {
                    year: cell("year", i)?.to_string(),
                    month,
                    budget: money("budget", i)?,
                    forecast_outturn: money("forecast_outturn", i)?,
                    outturn: money("outturn", i)?,
                })
            })
            .collect()
    }
}

/// Accuracy of past forecasts by month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRow {
    /// The month.
    pub month: usize,
    /// Years with a forecast at this month.
    pub years: usize,
    /// Mean of outturn - forecast, in pounds (positive: forecasts were optimistic).
    pub bias: f64,
    /// Mean absolute error, in pounds.
    pub mae: f64,
    /// Share of years whose outturn fell inside the P10-P90 interval calibrated on the other
    /// years (leave one year out); `None` with fewer than [`MIN_HISTORY_YEARS`] + 1 years.
    pub coverage: Option<f64>,
}

/// How good month-`k` forecasts have been: bias, mean absolute error and the coverage of
/// leave-one-year-out calibrated intervals, by month.
pub fn backtest(history: &[HistoryRow]) -> Result<Vec<BacktestRow>, MonitoringError> {
    Calibration::from_history(history)?; // validates the rows
    let mut rows = Vec::new();
    for month in 1..=12 {
        let at: Vec<&HistoryRow> = history.iter().filter(|h| h.month == month).collect();
        if at.is_empty() {
            continue;
        }
        let errors: Vec<f64> = at
            .iter()
            .map(|h| (h.outturn - h.forecast_outturn).to_f64())
            .collect();
        let n = at.len();
        let coverage = (n > MIN_HISTORY_YEARS).then(|| {
            let covered = at
                .iter()
                .filter(|h| {
                    let others: Vec<HistoryRow> = at
                        .iter()
                        .filter(|o| o.year != h.year)
                        .map(|o| (*o).clone())
                        .collect();
                    let cal = Calibration::from_history(&others).unwrap_or_default();
                    let i = cal.interval(month, h.budget.to_f64(), h.forecast_outturn.to_f64());
                    let y = h.outturn.to_f64();
                    i.p10 <= y && y <= i.p90
                })
                .count();
            covered as f64 / n as f64
        });
        rows.push(BacktestRow {
            month,
            years: n,
            bias: errors.iter().sum::<f64>() / n as f64,
            mae: errors.iter().map(|e| e.abs()).sum::<f64>() / n as f64,
            coverage,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = "line_id,directorate,budget,m01,m02,m03,m04,m05,m06,m07,m08,m09,m10,m11,m12,forecast_outturn,one_off_mitigations,reserves_use,recurring,explanation
ASC-01,Adults,120000000.00,10100000,10200000,10300000,10000000,9900000,10400000,10600000,,,,,,125000000.00,1000000.00,0,true,demand
WST-01,Place,60000000.00,5000000,5000000,5100000,4900000,5000000,5000000,5200000,,,,,,61000000.00,0,1000000.00,false,strike costs
TOTAL,,180000000.00,15100000,15200000,15400000,14900000,14900000,15400000,15800000,,,,,,186000000.00,1000000.00,1000000.00,,
";

    fn table(text: &str) -> Table {
        Table::from_csv_text(text).unwrap()
    }

    #[test]
    fn sub_penny_and_extreme_cells_are_named_not_summed() {
        let text = CLEAN.replace("125000000.00", "125000000.004");
        let report = check(&table(&text), None, None, &Rules::default()).unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.rule == "not-a-number")
            .unwrap();
        assert_eq!(
            f.message,
            "row 2 (\"ASC-01\"), column forecast_outturn: \"125000000.004\" has more than two decimal places: amounts are to the penny"
        );
        // An xlsx reader writes 1E+308 out in 309 digits: the message gives it as the sheet does.
        let digits = format!("{:.0}", 1e308_f64);
        let report = check(
            &table(&CLEAN.replace("125000000.00", &digits)),
            None,
            None,
            &Rules::default(),
        )
        .unwrap();
        let f = &report.findings[0];
        assert_eq!(
            f.message,
            "row 2 (\"ASC-01\"), column forecast_outturn: \"1e308\" is beyond the 1e15 pounds that fiscalrisk accepts"
        );
        for cell in ["1e-28", "7e27", "-5e28"] {
            let text = CLEAN.replace("61000000.00", cell);
            let report = check(&table(&text), None, None, &Rules::default()).unwrap();
            assert!(
                report
                    .findings
                    .iter()
                    .any(|f| f.rule == "not-a-number" && f.message.contains(cell)),
                "{cell}"
            );
            // No difference that rounds to zero is ever printed as a failure.
            assert!(
                report
                    .findings
                    .iter()
                    .all(|f| !f.message.contains("difference 0.00"))
            );
        }
    }

    #[test]
    fn a_blank_forecast_is_an_error_even_when_the_total_agrees() {
        // ASC-01's forecast blank and the TOTAL reduced to match, as an Excel SUM would give.
        let text = CLEAN
            .replace("125000000.00,1000000.00,0,true", ",1000000.00,0,true")
            .replace("186000000.00", "61000000.00");
        let report = check(&table(&text), None, None, &Rules::default()).unwrap();
        let f: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule == "missing-amount")
            .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "row 2 (\"ASC-01\"), column forecast_outturn: blank; a line needs an amount (0 for none)"
        );
        assert_eq!(report.exit_code(false), 1);
        // Every rule a check can report is in the catalogue.
        let names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert!(
            report
                .findings
                .iter()
                .all(|f| names.contains(&f.rule.as_str()))
        );
    }

    #[test]
    fn rules_thresholds_are_validated() {
        for (share, ok) in [
            (0.5, true),
            (1.0, true),
            (50.0, false),
            (-5.0, false),
            (f64::NAN, false),
            (0.0, false),
        ] {
            let rules = Rules {
                one_off_share: share,
                ..Rules::default()
            };
            let out = check(&table(CLEAN), None, None, &rules);
            assert_eq!(out.is_ok(), ok, "{share}");
            if !ok {
                assert!(
                    out.unwrap_err()
                        .to_string()
                        .starts_with("rules.one_off_share: ")
                );
            }
        }
        let rules = Rules {
            movement_without_explanation: Money::new(Decimal::from(-5)),
            ..Rules::default()
        };
        assert!(
            check(&table(CLEAN), None, None, &rules)
                .unwrap_err()
                .to_string()
                .starts_with("rules.movement_without_explanation: -5.00")
        );
    }

    #[test]
    fn repeated_findings_are_capped_and_counted() {
        let mut text = String::from(CLEAN.lines().next().unwrap());
        text.push('\n');
        for i in 0..250 {
            // Every line's budget is not an amount: 250 findings of one rule.
            text.push_str(&format!(
                "L{i},Adults,oops,1,1,1,1,1,1,1,,,,,,1,0,0,true,x\n"
            ));
        }
        text.push_str("TOTAL,,0,250,250,250,250,250,250,250,,,,,,250,0,0,,\n");
        let report = check(&table(&text), None, None, &Rules::default()).unwrap();
        let of_rule: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule == "not-a-number")
            .collect();
        assert_eq!(of_rule.len(), MAX_FINDINGS_PER_RULE + 1);
        assert_eq!(
            of_rule.last().unwrap().message,
            "150 more findings of this rule are not listed"
        );
        assert_eq!(report.exit_code(false), 1);
        let rows = vec![("line_id".to_string(), vec![None; MAX_ROWS + 1])];
        assert!(matches!(
            Table::from_columns(&rows),
            Err(MonitoringError::MissingColumns { .. }) | Err(MonitoringError::TooManyRows { .. })
        ));
        let mut columns: Vec<(String, Vec<Option<String>>)> = REQUIRED_COLUMNS
            .iter()
            .map(|c| (c.to_string(), vec![None; MAX_ROWS + 1]))
            .collect();
        columns.truncate(REQUIRED_COLUMNS.len());
        assert_eq!(
            Table::from_columns(&columns).unwrap_err().to_string(),
            format!(
                "rows: {} is more than the {MAX_ROWS} a monitoring table may have",
                MAX_ROWS + 1
            )
        );
    }

    fn rules_tripped(text: &str) -> Vec<String> {
        check(&table(text), None, None, &Rules::default())
            .unwrap()
            .findings
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    #[test]
    fn clean_table_passes() {
        let report = check(&table(CLEAN), None, None, &Rules::default()).unwrap();
        assert_eq!(report.month, 7);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert_eq!(report.exit_code(true), 0);
    }

    #[test]
    fn each_rule_trips_on_its_fixture() {
        let cases = [
            (
                CLEAN.replace("TOTAL,,180000000.00", "TOTAL,,180000000.01"),
                "totals",
            ),
            (CLEAN.replace("TOTAL,", "ALL,"), "no-total-row"),
            (CLEAN.replace("WST-01", "ASC-01"), "duplicate-line-id"),
            (
                CLEAN.replace("5100000,4900000", "51OOOOO,4900000"),
                "not-a-number",
            ),
            (
                CLEAN.replace("120000000.00,10100000,", "120000000.00,,"),
                "missing-actuals",
            ),
            (
                CLEAN.replace("1000000.00,false", "1000000.00,true"),
                "reserves-for-recurring",
            ),
        ];
        for (text, rule) in cases {
            let tripped = rules_tripped(&text);
            assert!(tripped.contains(&rule.to_string()), "{rule}: {tripped:?}");
            assert_eq!(
                check(&table(&text), None, None, &Rules::default())
                    .unwrap()
                    .exit_code(false),
                1
            );
        }
        let bad = check(
            &table(&CLEAN.replace("5100000,4900000", "51OOOOO,4900000")),
            None,
            None,
            &Rules::default(),
        )
        .unwrap();
        assert_eq!(
            bad.findings[0].message,
            "row 3 (\"WST-01\"), column m03: \"51OOOOO\" is not an amount of money"
        );
        let off = check(
            &table(&CLEAN.replace("TOTAL,,180000000.00", "TOTAL,,180000000.01")),
            None,
            None,
            &Rules::default(),
        )
        .unwrap();
        assert_eq!(
            off.findings[0].message,
            "lines add to £180,000,000.00 but the TOTAL row says £180,000,000.01 (difference £0.01)"
        );
        // Actuals beyond the month reported on every line: one finding naming the table's month.
        let beyond = check(&table(CLEAN), Some(6), None, &Rules::default()).unwrap();
        assert_eq!(beyond.findings.len(), 1, "{:?}", beyond.findings);
        assert_eq!(beyond.findings[0].rule, "actuals-beyond-month");
        assert!(
            beyond.findings[0].message.ends_with(
                "every line has actuals to m07: this looks like month 7's table (--month 7)"
            ),
            "{}",
            beyond.findings[0].message
        );
        // A month not yet closed on any line: likewise one finding.
        let late = check(&table(CLEAN), Some(12), None, &Rules::default()).unwrap();
        assert_eq!(late.findings.len(), 1, "{:?}", late.findings);
        assert_eq!(late.findings[0].rule, "missing-actuals");
    }

    #[test]
    fn warnings_fail_only_when_strict() {
        let heavy = CLEAN
            .replace(
                "125000000.00,1000000.00,0,true",
                "125000000.00,5000000.00,0,true",
            )
            .replace("186000000.00,1000000.00", "186000000.00,5000000.00");
        // Gross overspend 6m + 5m = 11m; 5m is 45%: below the default half, above 40%.
        let report = check(&table(&heavy), None, None, &Rules::default()).unwrap();
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        let strict_rules = Rules {
            one_off_share: 0.4,
            ..Rules::default()
        };
        let report = check(&table(&heavy), None, None, &strict_rules).unwrap();
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert_eq!(report.findings[0].rule, "one-off-share");
        assert!(
            report.findings[0]
                .message
                .contains("one-off mitigations of £5,000,000.00 cover 45% of the underlying overspend of £11,000,000.00")
        );
        assert_eq!((report.exit_code(false), report.exit_code(true)), (0, 1));
    }

    #[test]
    fn movements_add_up_and_unexplained_ones_warn() {
        let previous = table(CLEAN);
        let now_text = CLEAN
            .replace("125000000.00,1000000.00", "110000000.00,1000000.00")
            .replace("186000000.00,1000000.00", "171000000.00,1000000.00")
            .replace(",demand\n", ",\n");
        let now = table(&now_text);
        let moves = movements(&now, &previous);
        let total: Money = moves.iter().filter_map(|m| m.change).sum();
        let stated =
            now.totals[0].forecast_outturn.unwrap() - previous.totals[0].forecast_outturn.unwrap();
        assert_eq!(total, stated);
        assert_eq!(moves[0].line_id, "ASC-01");
        let report = check(&now, None, Some(&previous), &Rules::default()).unwrap();
        assert_eq!(
            report
                .findings
                .iter()
                .map(|f| f.rule.as_str())
                .collect::<Vec<_>>(),
            ["unexplained-movement"]
        );
    }

    #[test]
    fn run_rate_is_exact() {
        let t = table(CLEAN);
        // Seven months of ASC-01 sum to 71.5m; flat: 71.5m * 12 / 7 = 122,571,428.571... -> .57.
        assert_eq!(
            run_rate(&t.lines[0], 7, None).unwrap().to_string(),
            "122571428.57"
        );
        let mut profile = [Decimal::ZERO; 12];
        profile[..10].fill(Decimal::new(8, 2));
        profile[10] = Decimal::new(10, 2);
        profile[11] = Decimal::new(10, 2);
        // 7 months at 8% is 56% of the year: 71.5m / 0.56 = 127,678,571.428... -> .43.
        assert_eq!(
            run_rate(&t.lines[0], 7, Some(&profile))
                .unwrap()
                .to_string(),
            "127678571.43"
        );
        assert!(run_rate(&t.lines[0], 8, None).is_none());
    }

    #[test]
    fn unreadable_tables_are_errors() {
        assert!(matches!(
            Table::from_csv_text("line_id,budget\n"),
            Err(MonitoringError::MissingColumns { .. })
        ));
        let ragged = "line_id,budget,forecast_outturn,one_off_mitigations,reserves_use\nA,1,2\n";
        assert_eq!(
            Table::from_csv_text(ragged).unwrap_err().to_string(),
            "line 2: 3 fields, but the header has 5"
        );
        assert!(Table::from_csv_text("line_id,\"budget\n").is_err());
    }

    #[test]
    fn negative_one_off_mitigations_are_bad_cells_not_amounts() {
        // A negative mitigation turned a £3m overspend into a £2m underspend (issue 38).
        let csv = "line_id,budget,forecast_outturn,one_off_mitigations,reserves_use\n\
                   A,100,103,-5,0\nB,100,103,5,0\n";
        let t = Table::from_csv_text(csv).unwrap();
        assert_eq!(t.lines[0].one_off_mitigations, None);
        assert_eq!(
            t.lines[1].one_off_mitigations,
            Some(Money::from_f64(5.0).unwrap())
        );
        assert_eq!(t.bad_cells.len(), 1);
        let b = &t.bad_cells[0];
        assert_eq!(
            (b.row, b.column.as_str(), b.text.as_str()),
            (2, "one_off_mitigations", "-5")
        );
        assert!(b.problem.starts_with("is negative"), "{}", b.problem);
    }

    /// Synthetic history: forecasts at month k err by bias_k + spread_k * z, z standard normal.
    fn synthetic(years: usize, seed: u64) -> (Vec<HistoryRow>, Vec<(f64, f64)>) {
        use rand::distr::Distribution as _;
        let mut rng = crate::rng::stream(seed, 0);
        let normal = statrs::distribution::Normal::standard();
        let truth: Vec<(f64, f64)> = (1..=12)
            .map(|k| (0.01 * (12 - k) as f64 / 11.0, 0.02 * (13 - k) as f64 / 12.0))
            .collect();
        let mut rows = Vec::new();
        for y in 0..years {
            let budget = 850e6;
            let outturn = budget * 1.01;
            for (k, (bias, spread)) in truth.iter().enumerate() {
                let z: f64 = normal.sample(&mut rng);
                let forecast = outturn - budget * (bias + spread * z);
                rows.push(HistoryRow {
                    year: format!("{}/{:02}", 1900 + y, (1901 + y) % 100),
                    month: k + 1,
                    budget: Money::from_f64(budget).unwrap(),
                    forecast_outturn: Money::from_f64(forecast.round()).unwrap(),
                    outturn: Money::from_f64(outturn).unwrap(),
                });
            }
        }
        (rows, truth)
    }

    #[test]
    fn calibration_recovers_known_bias_and_spread() {
        let years = 400;
        let (rows, truth) = synthetic(years, 1);
        let cal = Calibration::from_history(&rows).unwrap();
        for (c, (bias, spread)) in cal.months.iter().zip(truth) {
            assert_eq!(c.method, Method::History);
            // Standard errors of a mean and of a standard deviation from n draws.
            let n = years as f64;
            assert!((c.bias - bias).abs() < 4.0 * spread / n.sqrt(), "{c:?}");
            assert!(
                (c.spread - spread).abs() < 4.0 * spread / (2.0 * n).sqrt(),
                "{c:?}"
            );
        }
        // The interval narrows as the year goes on.
        let widths: Vec<f64> = (1..=12)
            .map(|k| {
                let i = cal.interval(k, 850e6, 860e6);
                i.p90 - i.p10
            })
            .collect();
        assert!(widths.windows(2).all(|w| w[1] < w[0]), "{widths:?}");
    }

    #[test]
    fn intervals_cover_about_80_percent_of_fresh_years() {
        let (train, _) = synthetic(8, 2);
        let (fresh, _) = synthetic(500, 3);
        let cal = Calibration::from_history(&train).unwrap();
        let covered = fresh
            .iter()
            .filter(|h| {
                let i = cal.interval(h.month, h.budget.to_f64(), h.forecast_outturn.to_f64());
                (i.p10..=i.p90).contains(&h.outturn.to_f64())
            })
            .count() as f64
            / fresh.len() as f64;
        // With 8 years of history the t-based prediction interval is calibrated on average;
        // one draw of the 8 years moves its coverage by several points.
        assert!((0.68..0.92).contains(&covered), "coverage {covered}");
        let bt = backtest(&train).unwrap();
        assert_eq!(bt.len(), 12);
        assert!(bt.iter().all(|r| r.years == 8 && r.coverage.is_some()));
    }

    #[test]
    fn too_little_history_falls_back_to_the_default() {
        let (rows, _) = synthetic(2, 4);
        let cal = Calibration::from_history(&rows).unwrap();
        assert!(cal.months.iter().all(|c| c.method == Method::Default));
        assert_eq!(cal, Calibration::default());
        let mut dup = rows.clone();
        dup.push(rows[0].clone());
        assert_eq!(
            Calibration::from_history(&dup).unwrap_err().to_string(),
            "history row 26: 1900/01 month 1 appears twice"
        );
    }

    #[test]
    fn forecast_outside_the_calibrated_band_warns() {
        // ASC and WST spent 71.5m and 35.2m in seven months: a flat run-rate of 106.7m * 12 / 7
        // = 182.91m for the total, against a managers' forecast of 186m.
        let t = table(CLEAN);
        let rr = run_rate(&t.totals[0], 7, None).unwrap();
        assert_eq!(rr.to_string(), "182914285.71");
        let tight = Calibration {
            months: (1..=12)
                .map(|m| MonthCalibration {
                    spread: 0.001,
                    ..default_month(m)
                })
                .collect(),
        };
        let report = check_with(&t, None, None, &Rules::default(), Some(&tight)).unwrap();
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert_eq!(report.findings[0].rule, "forecast-outside-band");
        // The default's band at month 7 is 1.2816 * 1.64% = 2.1% of the 180m budget either side
        // (179.1m to 186.7m): 186m is inside.
        let report = check_with(
            &t,
            None,
            None,
            &Rules::default(),
            Some(&Calibration::default()),
        )
        .unwrap();
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }
}
