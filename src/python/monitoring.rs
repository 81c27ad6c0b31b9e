//! Monthly budget monitoring: tables, the check rules, calibration and backtests.

use crate::monitoring::{self, Calibration, HistoryRow, Rules, Table};

use pyo3::prelude::*;

use super::{Failure, Result, from_py, to_py};

/// A monthly monitoring table, every amount read exactly.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "MonitoringTable", frozen)]
pub(crate) struct PyMonitoringTable {
    inner: Table,
}

#[pymethods]
impl PyMonitoringTable {
    /// From `(name, cells)` pairs of text columns (`None` for an empty cell).
    #[staticmethod]
    fn from_columns(columns: Vec<(String, Vec<Option<String>>)>) -> Result<Self> {
        Ok(PyMonitoringTable {
            inner: Table::from_columns(&columns)?,
        })
    }

    fn last_month_with_actuals(&self) -> usize {
        self.inner.last_month_with_actuals()
    }

    /// The lines as read (amounts exact), TOTAL rows last.
    fn lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let all: Vec<&monitoring::Line> =
            self.inner.lines.iter().chain(&self.inner.totals).collect();
        to_py(py, &all)
    }

    /// `(variance, underlying_variance)` per line as exact text (None where an amount is
    /// blank), TOTAL last: the core's arithmetic, not repeated in Python.
    fn variances(&self) -> Vec<(Option<String>, Option<String>)> {
        self.inner
            .lines
            .iter()
            .chain(&self.inner.totals)
            .map(|l| {
                (
                    l.variance().map(|m| m.to_string()),
                    l.underlying_variance().map(|m| m.to_string()),
                )
            })
            .collect()
    }

    /// Cells that could not be read.
    fn bad_cells<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.bad_cells)
    }

    /// The check's report as a dict; `rules` is the text of a rules TOML file, `calibration`
    /// the dict form of a calibration.
    #[pyo3(signature = (month=None, previous=None, rules=None, calibration=None))]
    fn check<'py>(
        &self,
        py: Python<'py>,
        month: Option<i64>,
        previous: Option<&PyMonitoringTable>,
        rules: Option<&str>,
        calibration: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rules: Rules = match rules {
            Some(text) => toml::from_str(text).map_err(Failure::from)?,
            None => Rules::default(),
        };
        let calibration: Option<Calibration> = calibration.map(from_py).transpose()?;
        let month = month
            .map(monitoring::reported_month)
            .transpose()
            .map_err(Failure::from)?;
        let report = monitoring::check_with(
            &self.inner,
            month,
            previous.map(|p| &p.inner),
            &rules,
            calibration.as_ref(),
        )
        .map_err(Failure::from)?;
        to_py(py, &report)
    }

    fn movements<'py>(
        &self,
        py: Python<'py>,
        previous: &PyMonitoringTable,
    ) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &monitoring::movements(&self.inner, &previous.inner))
    }

    /// `(line_id, run-rate outturn as text or None)` per line, TOTAL last.
    #[pyo3(signature = (month, profile=None))]
    fn run_rate(
        &self,
        month: i64,
        profile: Option<Vec<String>>,
    ) -> Result<Vec<(String, Option<String>)>> {
        let month = monitoring::reported_month(month)?;
        let profile = match profile {
            None => None,
            Some(p) => Some(parse_profile(&p)?),
        };
        Ok(self
            .inner
            .lines
            .iter()
            .chain(&self.inner.totals)
            .map(|l| {
                let rr = monitoring::run_rate(l, month, profile.as_ref());
                (l.line_id.clone(), rr.map(|m| m.to_string()))
            })
            .collect())
    }
}

/// The calibration by month, as a dict, from history text columns (or the default).
#[pyfunction]
#[pyo3(signature = (history=None))]
pub(crate) fn monitoring_calibrate<'py>(
    py: Python<'py>,
    history: Option<Vec<(String, Vec<Option<String>>)>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cal = match history {
        Some(columns) => {
            let rows = HistoryRow::from_columns(&columns).map_err(Failure::from)?;
            Calibration::from_history(&rows).map_err(Failure::from)?
        }
        None => Calibration::default(),
    };
    to_py(py, &cal)
}

/// P10, P50, P90 of the outturn for each `(budget, forecast)` at `month`.
#[pyfunction]
pub(crate) fn monitoring_intervals(
    calibration: &Bound<'_, PyAny>,
    month: i64,
    budget_forecast: Vec<(f64, f64)>,
) -> Result<Vec<(f64, f64, f64)>> {
    let month = monitoring::reported_month(month)?;
    let cal: Calibration = from_py(calibration)?;
    Ok(budget_forecast
        .into_iter()
        .map(|(b, f)| {
            let i = cal.interval(month, b, f);
            (i.p10, i.p50, i.p90)
        })
        .collect())
}

/// The backtest table as a list of dicts.
#[pyfunction]
pub(crate) fn monitoring_backtest<'py>(
    py: Python<'py>,
    history: Vec<(String, Vec<Option<String>>)>,
) -> PyResult<Bound<'py, PyAny>> {
    let rows = HistoryRow::from_columns(&history).map_err(Failure::from)?;
    let table = monitoring::backtest(&rows).map_err(Failure::from)?;
    to_py(py, &table)
}

/// Twelve monthly shares that sum to one, read exactly.
pub(crate) fn parse_profile(p: &[String]) -> Result<[rust_decimal::Decimal; 12]> {
    use std::str::FromStr;
    if p.len() != 12 {
        return Err(Failure::Validation(format!(
            "profile: {} monthly shares given; twelve are needed",
            p.len()
        )));
    }
    let mut out = [rust_decimal::Decimal::ZERO; 12];
    for (i, text) in p.iter().enumerate() {
        out[i] = rust_decimal::Decimal::from_str(text)
            .or_else(|_| rust_decimal::Decimal::from_scientific(text))
            .map_err(|_| Failure::Validation(format!("profile[{i}]: {text:?} is not a number")))?;
        if out[i].is_sign_negative() {
            return Err(Failure::Validation(format!(
                "profile[{i}]: {text} is negative"
            )));
        }
    }
    let sum: rust_decimal::Decimal = out.iter().sum();
    if (sum - rust_decimal::Decimal::ONE).abs() > rust_decimal::Decimal::new(1, 9) {
        return Err(Failure::Validation(format!(
            "profile: monthly shares sum to {sum}, not 1"
        )));
    }
    Ok(out)
}

/// The check's rules: name, severity and description, the one catalogue outputs are built from.
#[pyfunction]
pub(crate) fn monitoring_rules(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &monitoring::RULES)
}

/// The core's reading of a yes/no cell (`None` when it is neither).
#[pyfunction]
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    monitoring::parse_bool(text)
}

/// The core's reading of a number typed as text (`None` when it is not one).
#[pyfunction]
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    crate::money::parse_number(text)
}

/// An error message with its long lines clipped, as the core clips its own.
#[pyfunction]
pub(crate) fn clip_message(message: &str) -> String {
    crate::source::clip(message)
}

/// The core's reading of a financial year label (`2019/20`): the calendar year it starts in,
/// or the core's error naming the label.
#[pyfunction]
pub(crate) fn financial_year_start(label: &str) -> Result<i32> {
    let year: crate::period::FinancialYear = label
        .parse()
        .map_err(|e: crate::period::PeriodError| Failure::Validation(e.to_string()))?;
    Ok(year.start_year())
}

/// A savings tracker read exactly (see `fiscalrisk::tracker`).
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "SavingsTracker", frozen)]
pub(crate) struct PySavingsTracker {
    inner: crate::tracker::Tracker,
}

#[pymethods]
impl PySavingsTracker {
    #[new]
    fn new(columns: Vec<(String, Vec<Option<String>>)>) -> Result<Self> {
        Ok(PySavingsTracker {
            inner: crate::tracker::Tracker::from_columns(&columns).map_err(Failure::from)?,
        })
    }

    /// The rows as read (amounts exact, as text).
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.rows)
    }

    /// The check's report as a dict, against last month's tracker when given.
    #[pyo3(signature = (previous=None))]
    fn check<'py>(
        &self,
        py: Python<'py>,
        previous: Option<&PySavingsTracker>,
    ) -> PyResult<Bound<'py, PyAny>> {
        to_py(
            py,
            &crate::tracker::check(&self.inner, previous.map(|p| &p.inner)),
        )
    }
}

/// The tracker check's rules: name, severity and description.
#[pyfunction]
pub(crate) fn tracker_rules(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &crate::tracker::TRACKER_RULES)
}
