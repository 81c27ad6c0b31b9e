//! The pyo3 binding: `fiscalrisk._fiscalrisk`, private to the `fiscalrisk` Python package.
//!
//! Each function converts its arguments, calls one core function, converts back and maps the
//! error. Parameters cross as JSON (the core's serde form), arrays as numpy arrays; tables go
//! out as dicts of columns, from which the Python package builds polars DataFrames.

use std::ops::ControlFlow;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::distribution::{Distribution, DistributionError};
use crate::monitoring::{self, Calibration, HistoryRow, MonitoringError, Rules, Table};
use crate::plan::{Condition, PlanError, PlanResult, Scenario, ScenarioSpec};
use crate::register::{RegisterError, RiskRegister};
use crate::resilience::{self, ResilienceError, Return};
use crate::risk::{Risk, RiskError};
use crate::simulation::{self, SimulationError, SimulationOptions, SimulationResult};

/// Every failure the core reports, sorted into the Python exception it becomes.
enum Failure {
    /// Bad input: `fiscalrisk.ValidationError` (a `ValueError`).
    Validation(String),
    /// Stopped by Ctrl-C: `KeyboardInterrupt`.
    Interrupted,
    /// Anything else: `fiscalrisk.FiscalRiskError`.
    Other(String),
}

macro_rules! validation_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Failure {
                Failure::Validation(e.to_string())
            }
        }
    )*};
}
validation_errors!(
    DistributionError,
    RiskError,
    RegisterError,
    MonitoringError,
    ResilienceError,
    toml::de::Error
);

/// Reads a core parameter struct from Python data (dicts, lists, floats, strings). Type errors
/// name the path (`risks[3].probability: invalid type ...`); validation errors name their own.
fn from_py<T: DeserializeOwned>(obj: &Bound<'_, PyAny>) -> Result<T> {
    let mut de = pythonize::Depythonizer::from_object(obj);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Failure::Validation(if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        })
    })
}

/// Writes a core struct as Python data.
fn to_py<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(PyErr::from)
}

impl From<SimulationError> for Failure {
    fn from(e: SimulationError) -> Failure {
        match e {
            SimulationError::Interrupted => Failure::Interrupted,
            SimulationError::ThreadPool { .. } => Failure::Other(e.to_string()),
            _ => Failure::Validation(e.to_string()),
        }
    }
}

impl From<PlanError> for Failure {
    fn from(e: PlanError) -> Failure {
        match e {
            PlanError::Interrupted => Failure::Interrupted,
            _ => Failure::Validation(e.to_string()),
        }
    }
}

impl From<toml::ser::Error> for Failure {
    fn from(e: toml::ser::Error) -> Failure {
        Failure::Other(e.to_string())
    }
}

static VALIDATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FISCALRISK_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        Python::attach(|py| {
            let (cell, name, message) = match f {
                Failure::Validation(m) => (&VALIDATION_ERROR, "ValidationError", m),
                Failure::Other(m) => (&FISCALRISK_ERROR, "FiscalRiskError", m),
                Failure::Interrupted => {
                    return PyKeyboardInterrupt::new_err("the simulation was interrupted");
                }
            };
            match cell.import(py, "fiscalrisk.exceptions", name) {
                Ok(ty) => PyErr::from_type(ty.clone(), message),
                Err(e) => e,
            }
        })
    }
}

type Result<T> = std::result::Result<T, Failure>;

/// A validated distribution.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "Distribution", frozen)]
struct PyDistribution {
    inner: Distribution,
}

#[pymethods]
impl PyDistribution {
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> Result<Self> {
        Ok(PyDistribution {
            inner: from_py(data)?,
        })
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn mean(&self) -> f64 {
        self.inner.mean()
    }

    fn std(&self) -> f64 {
        self.inner.std()
    }

    fn quantile(&self, p: f64) -> Result<f64> {
        Ok(self.inner.quantile(p)?)
    }

    fn quantiles<'py>(
        &self,
        py: Python<'py>,
        p: PyReadonlyArray1<'py, f64>,
    ) -> Result<Bound<'py, PyArray1<f64>>> {
        let out: std::result::Result<Vec<f64>, _> = p
            .as_array()
            .iter()
            .map(|&p| self.inner.quantile(p))
            .collect();
        Ok(out?.into_pyarray(py))
    }

    fn cdf(&self, x: f64) -> f64 {
        self.inner.cdf(x)
    }

    fn cdfs<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f64>,
    ) -> Bound<'py, PyArray1<f64>> {
        let out: Vec<f64> = x.as_array().iter().map(|&x| self.inner.cdf(x)).collect();
        out.into_pyarray(py)
    }

    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
    ) -> Result<Bound<'py, PyArray1<f64>>> {
        let d = &self.inner;
        Ok(py.detach(|| d.sample(n, seed))?.into_pyarray(py))
    }

    fn expected_capped(&self, share: f64, cap: Option<f64>) -> f64 {
        self.inner.expected_capped(share, cap)
    }
}

/// A validated risk.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "Risk", frozen)]
struct PyRisk {
    inner: Risk,
}

#[pymethods]
impl PyRisk {
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> Result<Self> {
        Ok(PyRisk {
            inner: from_py(data)?,
        })
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    fn expected_cost_if_occurs(&self) -> f64 {
        self.inner.expected_cost_if_occurs()
    }
}

/// A validated risk register.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "RiskRegister", frozen)]
struct PyRiskRegister {
    inner: RiskRegister,
}

#[pymethods]
impl PyRiskRegister {
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> Result<Self> {
        Ok(PyRiskRegister {
            inner: from_py(data)?,
        })
    }

    #[staticmethod]
    fn from_toml(text: &str) -> Result<Self> {
        Ok(PyRiskRegister {
            inner: toml::from_str(text)?,
        })
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string(&self.inner)?)
    }

    fn warnings(&self) -> Vec<String> {
        self.inner.warnings().to_vec()
    }

    fn periods(&self) -> Vec<String> {
        self.inner.horizon().labels()
    }

    fn risk_ids(&self) -> Vec<String> {
        self.inner
            .risks()
            .iter()
            .map(|r| r.id().to_string())
            .collect()
    }

    fn expected_values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = self.inner.expected_values();
        let d = PyDict::new(py);
        d.set_item("risk_id", rows.iter().map(|r| &r.0).collect::<Vec<_>>())?;
        d.set_item("period", rows.iter().map(|r| &r.1).collect::<Vec<_>>())?;
        d.set_item(
            "expected",
            rows.iter()
                .map(|r| r.2)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        Ok(d)
    }
}

/// Two numpy arrays.
type ArrayPair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// What a simulation found.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "SimulationResult", frozen)]
struct PySimulationResult {
    inner: SimulationResult,
}

fn column<'py, T>(py: Python<'py>, rows: &[T], f: impl Fn(&T) -> f64) -> Bound<'py, PyArray1<f64>> {
    rows.iter().map(f).collect::<Vec<f64>>().into_pyarray(py)
}

#[pymethods]
impl PySimulationResult {
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> Result<Self> {
        Ok(PySimulationResult {
            inner: from_py(data)?,
        })
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    #[getter]
    fn trials(&self) -> u64 {
        self.inner.trials()
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed()
    }

    #[getter]
    fn tail_threshold(&self) -> f64 {
        self.inner.tail_threshold()
    }

    fn periods(&self) -> Vec<String> {
        self.inner.periods().to_vec()
    }

    fn risk_ids(&self) -> Vec<String> {
        self.inner.risk_ids().to_vec()
    }

    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = self.inner.summary();
        let d = PyDict::new(py);
        d.set_item("period", rows.iter().map(|r| &r.period).collect::<Vec<_>>())?;
        d.set_item("mean", column(py, &rows, |r| r.mean))?;
        d.set_item("std", column(py, &rows, |r| r.std))?;
        d.set_item("p5", column(py, &rows, |r| r.p5))?;
        d.set_item("p10", column(py, &rows, |r| r.p10))?;
        d.set_item("p50", column(py, &rows, |r| r.p50))?;
        d.set_item("p90", column(py, &rows, |r| r.p90))?;
        d.set_item("p95", column(py, &rows, |r| r.p95))?;
        d.set_item("p99", column(py, &rows, |r| r.p99))?;
        d.set_item("var95", column(py, &rows, |r| r.var95))?;
        d.set_item("es95", column(py, &rows, |r| r.es95))?;
        d.set_item("se_mean", column(py, &rows, |r| r.se_mean))?;
        d.set_item("se_p95", column(py, &rows, |r| r.se_p95))?;
        Ok(d)
    }

    fn exceedance(&self, amount: f64, period: &str) -> Result<f64> {
        Ok(self.inner.exceedance(amount, period)?)
    }

    fn contributions<'py>(&self, py: Python<'py>, by_period: bool) -> PyResult<Bound<'py, PyDict>> {
        let rows = if by_period {
            self.inner.contributions_by_period()
        } else {
            self.inner.contributions()
        };
        let d = PyDict::new(py);
        d.set_item(
            "risk_id",
            rows.iter().map(|r| &r.risk_id).collect::<Vec<_>>(),
        )?;
        if by_period {
            d.set_item("period", rows.iter().map(|r| &r.period).collect::<Vec<_>>())?;
        }
        d.set_item("mean", column(py, &rows, |r| r.mean))?;
        d.set_item("se_mean", column(py, &rows, |r| r.se_mean))?;
        d.set_item("tail_mean", column(py, &rows, |r| r.tail_mean))?;
        Ok(d)
    }

    /// `(periods, risks)`: row-major trial arrays, or `None` when trials were not kept.
    fn trial_table<'py>(&self, py: Python<'py>) -> Option<ArrayPair<'py>> {
        self.inner.trial_table().map(|t| {
            (
                t.periods.clone().into_pyarray(py),
                t.risks.clone().into_pyarray(py),
            )
        })
    }
}

/// Runs the Monte Carlo engine with the GIL released. Between windows of batches the GIL is
/// taken back briefly to check for Ctrl-C and to call `progress(done, total)` if given.
#[pyfunction]
#[pyo3(signature = (register, trials, seed, threads=None, keep_trials=false, progress=None))]
fn simulate(
    py: Python<'_>,
    register: &PyRiskRegister,
    trials: u64,
    seed: u64,
    threads: Option<usize>,
    keep_trials: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<PySimulationResult> {
    let options = SimulationOptions {
        trials,
        seed,
        threads,
        keep_trials,
    };
    let reg = &register.inner;
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        let mut check = callback(&progress, &mut raised);
        simulation::simulate_with_progress(reg, &options, &mut check)
    });
    match (result, raised) {
        (Ok(inner), _) => Ok(PySimulationResult { inner }),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(Failure::from(e).into()),
    }
}

/// The core's progress callback: checks for Ctrl-C and calls `progress(done, total)` with the
/// GIL held; a Python exception (KeyboardInterrupt included) stops the run and is kept in
/// `raised` to be re-raised once the threads have stopped.
fn callback<'a>(
    progress: &'a Option<Py<PyAny>>,
    raised: &'a mut Option<PyErr>,
) -> impl FnMut(u64, u64) -> ControlFlow<()> + 'a {
    move |done, total| {
        Python::attach(|py| {
            let outcome = py.check_signals().and_then(|_| match progress {
                Some(cb) => cb.call1(py, (done, total)).map(|_| ()),
                None => Ok(()),
            });
            match outcome {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    *raised = Some(e);
                    ControlFlow::Break(())
                }
            }
        })
    }
}

/// A monthly monitoring table, every amount read exactly.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "MonitoringTable", frozen)]
struct PyMonitoringTable {
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
        month: Option<usize>,
        previous: Option<&PyMonitoringTable>,
        rules: Option<&str>,
        calibration: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rules: Rules = match rules {
            Some(text) => toml::from_str(text).map_err(Failure::from)?,
            None => Rules::default(),
        };
        let calibration: Option<Calibration> = calibration.map(from_py).transpose()?;
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
        month: usize,
        profile: Option<Vec<String>>,
    ) -> Result<Vec<(String, Option<String>)>> {
        if !(1..=12).contains(&month) {
            return Err(MonitoringError::Month { month }.into());
        }
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
fn monitoring_calibrate<'py>(
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
fn monitoring_intervals(
    calibration: &Bound<'_, PyAny>,
    month: usize,
    budget_forecast: Vec<(f64, f64)>,
) -> Result<Vec<(f64, f64, f64)>> {
    if !(1..=12).contains(&month) {
        return Err(MonitoringError::Month { month }.into());
    }
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
fn monitoring_backtest<'py>(
    py: Python<'py>,
    history: Vec<(String, Vec<Option<String>>)>,
) -> PyResult<Bound<'py, PyAny>> {
    let rows = HistoryRow::from_columns(&history).map_err(Failure::from)?;
    let table = monitoring::backtest(&rows).map_err(Failure::from)?;
    to_py(py, &table)
}

/// A validated financial-plan scenario.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "Scenario", frozen)]
struct PyScenario {
    inner: Scenario,
}

#[pymethods]
impl PyScenario {
    #[staticmethod]
    fn from_toml(text: &str) -> Result<Self> {
        Ok(PyScenario {
            inner: Scenario::from_toml(text)?,
        })
    }

    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> Result<Self> {
        let spec: ScenarioSpec = from_py(data)?;
        Ok(PyScenario {
            inner: Scenario::from_spec(spec)?,
        })
    }

    fn to_toml(&self) -> Result<String> {
        Ok(self.inner.to_toml()?)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.inner.spec())
    }

    fn warnings(&self) -> Vec<String> {
        self.inner.register().warnings().to_vec()
    }

    fn ledger<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = self.inner.ledger().map_err(Failure::from)?;
        to_py(py, &rows)
    }

    #[pyo3(signature = (trials, seed, condition, top, threads=None))]
    fn reverse_stress<'py>(
        &self,
        py: Python<'py>,
        trials: u64,
        seed: u64,
        condition: &str,
        top: usize,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let condition: Condition = condition.parse().map_err(Failure::from)?;
        let s = &self.inner;
        let out = py
            .detach(|| s.reverse_stress(trials, seed, threads, condition, top))
            .map_err(Failure::from)?;
        to_py(py, &out)
    }

    #[pyo3(signature = (trials, seed, threads=None, progress=None))]
    fn simulate(
        &self,
        py: Python<'_>,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PyPlanResult> {
        let s = &self.inner;
        let mut raised: Option<PyErr> = None;
        let result = py.detach(|| {
            let mut check = callback(&progress, &mut raised);
            s.simulate_with_progress(trials, seed, threads, &mut check)
        });
        match (result, raised) {
            (Ok(inner), _) => Ok(PyPlanResult { inner }),
            (Err(_), Some(e)) => Err(e),
            (Err(e), None) => Err(Failure::from(e).into()),
        }
    }
}

/// What a plan simulation found.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "PlanResult", frozen)]
struct PyPlanResult {
    inner: PlanResult,
}

#[pymethods]
impl PyPlanResult {
    #[getter]
    fn trials(&self) -> u64 {
        self.inner.trials()
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed()
    }

    fn p_exhausted(&self) -> f64 {
        self.inner.p_exhausted()
    }

    fn by_year<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.by_year())
    }

    fn policy_breaches<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.policy_breaches())
    }

    fn drivers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.drivers())
    }

    fn risk_assessed_minimum(&self, confidence: f64) -> Result<Vec<f64>> {
        Ok(self.inner.risk_assessed_minimum(confidence)?)
    }

    fn gap_quantiles(&self, probs: Vec<f64>) -> Result<Vec<Vec<f64>>> {
        Ok(self.inner.gap_quantiles(&probs)?)
    }

    fn to_json(&self) -> Result<String> {
        serde_json::to_string(&self.inner).map_err(|e| Failure::Other(e.to_string()))
    }

    #[staticmethod]
    fn from_json(text: &str) -> Result<Self> {
        let inner = serde_json::from_str(text)
            .map_err(|e| Failure::Validation(format!("a plan result: {e}")))?;
        Ok(PyPlanResult { inner })
    }

    fn resilience<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.resilience())
    }

    fn probability_below(&self, indicator: &str, threshold: f64, year: &str) -> Result<f64> {
        Ok(self.inner.probability_below(indicator, threshold, year)?)
    }
}

/// Resilience indicators of published returns, ranked within peer groups.
#[pyfunction]
fn resilience_indicators<'py>(
    py: Python<'py>,
    rows: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let rows: Vec<Return> = from_py(rows)?;
    let out = resilience::indicators(&rows).map_err(Failure::from)?;
    to_py(py, &out)
}

/// The resilience indicators: name, theme, direction and meaning.
#[pyfunction]
fn resilience_catalogue(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &resilience::INDICATORS)
}

/// Panics, on this thread or on a worker thread, for the test that a panic escaping the core
/// becomes a Python exception (pyo3's `PanicException`) and never aborts the interpreter.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>, on_worker: bool) {
    py.detach(|| {
        if on_worker {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build();
            if let Ok(pool) = pool {
                pool.install(|| rayon::join(|| (), || panic!("a test panic on a worker thread")));
            }
        }
        panic!("a test panic");
    })
}

/// Twelve monthly shares that sum to one, read exactly.
fn parse_profile(p: &[String]) -> Result<[rust_decimal::Decimal; 12]> {
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

#[pymodule]
fn _fiscalrisk(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDistribution>()?;
    m.add_class::<PyRisk>()?;
    m.add_class::<PyRiskRegister>()?;
    m.add_class::<PySimulationResult>()?;
    m.add_class::<PyMonitoringTable>()?;
    m.add_class::<PyScenario>()?;
    m.add_class::<PyPlanResult>()?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring_calibrate, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring_intervals, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring_backtest, m)?)?;
    m.add_function(wrap_pyfunction!(resilience_indicators, m)?)?;
    m.add_function(wrap_pyfunction!(resilience_catalogue, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("BATCH_SIZE", simulation::BATCH_SIZE)?;
    m.add("RISKIEST_DECILE", resilience::RISKIEST_DECILE)?;
    m.add("MAX_INPUT_BYTES", crate::plan::MAX_INPUT_BYTES)?;
    m.add("MAX_RISKS", crate::register::MAX_RISKS)?;
    Ok(())
}
