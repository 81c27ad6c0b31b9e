//! The savings tracker: each month, every saving's RAG status and forecast delivery, as a
//! programme management office keeps it ("savings implementation plans ... when one goes off
//! track, challenge and mitigating actions are picked up early": Birmingham City Council,
//! "Improvement Stock-take Report", March 2019), read exactly and checked before it goes to
//! Cabinet, like the monitoring table.
//!
//! A tracker has one row per saving with the columns `id`, `year` (due), `value` (the full-year
//! saving, £), `rag` (its status this month), `forecast_delivery` (£ forecast to be delivered
//! in its year) and `counted_in_budget` (whether the budget still counts on it), and optionally
//! `name`, `directorate` and `explanation`. [`check`] applies [`TRACKER_RULES`].
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::tracker::{Tracker, check};
//! let col = |name: &str, cells: &[&str]| {
//!     (name.to_string(), cells.iter().map(|c| Some(c.to_string())).collect::<Vec<_>>())
//! };
//! let table = |rag: &str, explanation: &str| Tracker::from_columns(&[
//!     col("id", &["S-1"]), col("year", &["2019/20"]), col("value", &["1000000"]),
//!     col("rag", &[rag]), col("forecast_delivery", &["500000"]),
//!     col("counted_in_budget", &["yes"]), col("explanation", &[explanation]),
//! ]).unwrap();
//! // Red, yet the budget still counts on it: an error.
//! assert_eq!(check(&table("red", ""), None).findings[0].rule, "red-counted-in-budget");
//! // Amber last month, green now, and no word why: a warning.
//! let moved = check(&table("green", ""), Some(&table("amber", "")));
//! assert_eq!(moved.findings[0].rule, "rag-improved-unexplained");
//! assert!(check(&table("green", "contract signed"), Some(&table("amber", ""))).findings.is_empty());
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::monitoring::{
    Finding, MonitoringError, Report, Rule, Severity, TextColumns, parse_bool,
};
use crate::period::FinancialYear;
use crate::saving::Rag;

/// The columns a tracker must have.
pub const REQUIRED_COLUMNS: [&str; 6] = [
    "id",
    "year",
    "value",
    "rag",
    "forecast_delivery",
    "counted_in_budget",
];

/// Every rule [`check`] applies to a tracker, in the order reports list them.
pub const TRACKER_RULES: [Rule; 5] = [
    Rule {
        name: "unreadable-cell",
        severity: Severity::Error,
        description: "every required cell is present and readable (an amount, a RAG status, a year, yes or no)",
    },
    Rule {
        name: "duplicate-saving-id",
        severity: Severity::Error,
        description: "saving ids are present and unique",
    },
    Rule {
        name: "red-counted-in-budget",
        severity: Severity::Error,
        description: "a red saving is not still counted in the budget",
    },
    Rule {
        name: "forecast-above-value",
        severity: Severity::Warning,
        description: "a saving's forecast delivery is no more than its value",
    },
    Rule {
        name: "rag-improved-unexplained",
        severity: Severity::Warning,
        description: "a RAG status that improved since last month says why",
    },
];

/// One saving's row, as read (`None` where a cell is blank or unreadable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerRow {
    /// The row in the sheet or CSV file, the headings being row 1.
    pub row: usize,
    /// The saving's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its directorate.
    pub directorate: Option<String>,
    /// Due year, as written.
    pub year: Option<String>,
    /// Full-year value (£).
    pub value: Option<Money>,
    /// RAG status this month.
    pub rag: Option<Rag>,
    /// Forecast delivery in its year (£).
    pub forecast_delivery: Option<Money>,
    /// Whether the budget still counts on it.
    pub counted_in_budget: Option<bool>,
    /// Why it moved.
    pub explanation: String,
}

/// A tracker, read exactly: its rows and the cells that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracker {
    /// One row per saving.
    pub rows: Vec<TrackerRow>,
    /// `(row, id, column, text, problem)` of each cell that could not be read.
    pub bad_cells: Vec<(usize, String, String, String, String)>,
}

impl Tracker {
    /// Reads a tracker from text columns (`(name, cells)`); a missing required column is an
    /// error naming it, an unreadable cell is kept for [`check`] to report with its row.
    pub fn from_columns(
        columns: &[(String, Vec<Option<String>>)],
    ) -> Result<Tracker, MonitoringError> {
        let text = TextColumns::new(columns, &REQUIRED_COLUMNS)?;
        let rows = text.rows;
        let cell = |name: &str, i: usize| text.cell(name, i);
        let mut out = Tracker {
            rows: Vec::with_capacity(rows),
            bad_cells: Vec::new(),
        };
        for i in 0..rows {
            let id = cell("id", i).unwrap_or("").to_string();
            let mut bad = |column: &str, text: &str, problem: &str| {
                out.bad_cells.push((
                    crate::monitoring::sheet_row(i),
                    id.clone(),
                    column.to_string(),
                    text.to_string(),
                    problem.to_string(),
                ));
            };
            let mut required = |column: &str| {
                let text = cell(column, i);
                if text.is_none() {
                    bad(column, "", "is blank; every saving needs it");
                }
                text
            };
            let year = required("year");
            let value = required("value");
            let rag = required("rag");
            let forecast = required("forecast_delivery");
            let counted = required("counted_in_budget");
            let mut money = |column: &str, text: Option<&str>| {
                let text = text?;
                match text.parse::<Money>() {
                    Ok(m) if m >= Money::ZERO => Some(m),
                    Ok(_) => {
                        bad(column, text, "is negative; amounts here are positive");
                        None
                    }
                    Err(_) => {
                        bad(column, text, "is not an amount of money");
                        None
                    }
                }
            };
            let value = money("value", value);
            let forecast_delivery = money("forecast_delivery", forecast);
            let rag = rag.and_then(|t| match t.parse::<Rag>() {
                Ok(r) => Some(r),
                Err(_) => {
                    bad("rag", t, "is not one of delivered, green, amber, red");
                    None
                }
            });
            let counted_in_budget = counted.and_then(|t| {
                let parsed = parse_bool(t);
                if parsed.is_none() {
                    bad("counted_in_budget", t, "is not yes or no");
                }
                parsed
            });
            if let Some(y) = year
                && y.parse::<FinancialYear>().is_err()
            {
                bad("year", y, "is not a financial year label like 2019/20");
            }
            out.rows.push(TrackerRow {
                row: crate::monitoring::sheet_row(i),
                id: id.clone(),
                name: cell("name", i).unwrap_or("").to_string(),
                directorate: cell("directorate", i).map(str::to_string),
                year: year.map(str::to_string),
                value,
                rag,
                forecast_delivery,
                counted_in_budget,
                explanation: cell("explanation", i).unwrap_or("").to_string(),
            });
        }
        Ok(out)
    }
}

/// How good a status is: red lowest, delivered highest.
fn rank(r: Rag) -> u8 {
    match r {
        Rag::Red => 0,
        Rag::Amber => 1,
        Rag::Green => 2,
        Rag::Delivered => 3,
    }
}

fn finding(
    rule: &str,
    severity: Severity,
    row: &TrackerRow,
    column: &str,
    message: String,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        row: Some(row.row),
        line_id: Some(row.id.clone()),
        column: Some(column.into()),
        message,
    }
}

/// Checks a tracker (against last month's when given) with [`TRACKER_RULES`]; the report's
/// month is 0 (a tracker is not a month of actuals).
pub fn check(current: &Tracker, previous: Option<&Tracker>) -> Report {
    use Severity::{Error as E, Warning as W};
    let mut out = Vec::new();
    for (row, id, column, text, problem) in &current.bad_cells {
        out.push(Finding {
            rule: "unreadable-cell".into(),
            severity: E,
            row: Some(*row),
            line_id: Some(id.clone()),
            column: Some(column.clone()),
            message: format!("row {row} ({id:?}), column {column}: {text:?} {problem}"),
        });
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in &current.rows {
        if r.id.is_empty() {
            out.push(finding(
                "duplicate-saving-id",
                E,
                r,
                "id",
                format!("row {}: no saving id", r.row),
            ));
        } else if let Some(first) = seen.insert(&r.id, r.row) {
            out.push(finding(
                "duplicate-saving-id",
                E,
                r,
                "id",
                format!(
                    "row {}: the id {:?} is already the id of row {first}",
                    r.row, r.id
                ),
            ));
        }
        if r.rag == Some(Rag::Red) && r.counted_in_budget == Some(true) {
            out.push(finding(
                "red-counted-in-budget",
                E,
                r,
                "counted_in_budget",
                format!(
                    "{:?} is red but still counted in the budget ({}): remove it, or say why it is not red",
                    r.id,
                    r.value.map_or("no value".into(), |v| v.to_string())
                ),
            ));
        }
        if let (Some(f), Some(v)) = (r.forecast_delivery, r.value)
            && f > v
        {
            out.push(finding(
                "forecast-above-value",
                W,
                r,
                "forecast_delivery",
                format!("{:?} forecasts {f} against a value of {v}", r.id),
            ));
        }
    }
    if let Some(previous) = previous {
        let before: HashMap<&str, &TrackerRow> =
            previous.rows.iter().map(|r| (r.id.as_str(), r)).collect();
        for r in &current.rows {
            let Some(was) = before.get(r.id.as_str()) else {
                continue;
            };
            if let (Some(now), Some(then)) = (r.rag, was.rag)
                && rank(now) > rank(then)
                && r.explanation.is_empty()
            {
                out.push(finding(
                    "rag-improved-unexplained",
                    W,
                    r,
                    "explanation",
                    format!(
                        "{:?} moved from {then} to {now} since last month with no explanation",
                        r.id
                    ),
                ));
            }
        }
    }
    let order = |f: &Finding| {
        (
            f.severity,
            TRACKER_RULES.iter().position(|r| r.name == f.rule),
            f.row,
        )
    };
    out.sort_by_key(order);
    Report {
        month: 0,
        findings: out,
    }
}
