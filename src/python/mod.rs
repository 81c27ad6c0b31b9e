//! The pyo3 binding: `fiscalrisk._fiscalrisk`, private to the `fiscalrisk` Python package.
//!
//! Each function converts its arguments, calls one core function, converts back and maps the
//! error. Parameters cross as JSON (the core's serde form), arrays as numpy arrays; tables go
//! out as dicts of columns, from which the Python package builds polars DataFrames.

use std::ops::ControlFlow;

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::distribution::DistributionError;
use crate::monitoring::MonitoringError;
use crate::plan::PlanError;
use crate::register::RegisterError;
use crate::resilience::ResilienceError;
use crate::risk::RiskError;
use crate::simulation::{self, SimulationError};

/// Every failure the core reports, sorted into the Python exception it becomes.
pub(crate) enum Failure {
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
///
/// The data is read strictly ([`data::Data`]): a boolean is not a number and text is not a
/// boolean, as in TOML and JSON.
pub(crate) fn from_py<T: DeserializeOwned>(obj: &Bound<'_, PyAny>) -> Result<T> {
    let data = data::Data::from_py(obj).map_err(Failure::Validation)?;
    serde_path_to_error::deserialize(data)
        .map_err(|e| Failure::Validation(crate::source::with_path(e)))
}

/// Writes a core struct as Python data.
pub(crate) fn to_py<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
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
            // No message echoes a whole input, whichever error carries it.
            let message = crate::source::clip(&message);
            match cell.import(py, "fiscalrisk.exceptions", name) {
                Ok(ty) => PyErr::from_type(ty.clone(), message),
                Err(e) => e,
            }
        })
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

mod data;
mod monitoring;
mod plan;
mod register;
mod resilience;

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

/// The interruptible-run pattern, written once: runs `run` with the GIL released, handing it
/// the progress callback above; a Python exception raised there (Ctrl-C included) is re-raised
/// once the core has stopped its threads, and a core error is mapped as usual.
pub(crate) fn interruptible<T: Send, E: Send + Into<Failure>>(
    py: Python<'_>,
    progress: &Option<Py<PyAny>>,
    run: impl FnOnce(&mut dyn FnMut(u64, u64) -> ControlFlow<()>) -> std::result::Result<T, E> + Send,
) -> PyResult<T> {
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        let mut check = callback(progress, &mut raised);
        run(&mut check)
    });
    match (result, raised) {
        (Ok(v), _) => Ok(v),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(e.into().into()),
    }
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

#[pymodule]
fn _fiscalrisk(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // A panic reaches Python as pyo3's PanicException (the command line: exit 3, "internal
    // error"); this library's copy of the standard library says so in one line rather than
    // with the default hook's backtrace (issue 38, item 18).
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!("fiscalrisk: internal error (a Rust panic{at}; please report it)");
    }));
    m.add_class::<register::PyDistribution>()?;
    m.add_class::<register::PyRisk>()?;
    m.add_class::<register::PyRiskRegister>()?;
    m.add_class::<register::PySimulationResult>()?;
    m.add_class::<monitoring::PyMonitoringTable>()?;
    m.add_class::<monitoring::PySavingsTracker>()?;
    m.add_class::<plan::PyScenario>()?;
    m.add_class::<plan::PyPlanResult>()?;
    m.add_function(wrap_pyfunction!(register::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::monitoring_calibrate, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::monitoring_intervals, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::monitoring_backtest, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::monitoring_rules, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::parse_bool, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::parse_number, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::clip_message, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::tracker_rules, m)?)?;
    m.add_function(wrap_pyfunction!(monitoring::financial_year_start, m)?)?;
    m.add_function(wrap_pyfunction!(plan::default_delivery_models, m)?)?;
    m.add_function(wrap_pyfunction!(plan::bridge, m)?)?;
    m.add_function(wrap_pyfunction!(plan::referendum_principles, m)?)?;
    m.add_function(wrap_pyfunction!(plan::dispensations, m)?)?;
    m.add(
        "MTFS_COLUMNS",
        crate::plan::MTFS_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
    )?;
    m.add_function(wrap_pyfunction!(resilience::resilience_indicators, m)?)?;
    m.add_function(wrap_pyfunction!(resilience::resilience_catalogue, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("BATCH_SIZE", simulation::BATCH_SIZE)?;
    m.add("RISKIEST_DECILE", crate::resilience::RISKIEST_DECILE)?;
    m.add("MAX_INPUT_BYTES", crate::plan::MAX_INPUT_BYTES)?;
    m.add("MAX_RISKS", crate::register::MAX_RISKS)?;
    m.add("MAX_MONITORING_ROWS", crate::monitoring::MAX_ROWS)?;
    m.add("MAX_TABLE_COLUMNS", crate::monitoring::MAX_COLUMNS)?;
    m.add(
        "MAX_XLSX_PART_BYTES",
        crate::monitoring::MAX_XLSX_PART_BYTES,
    )?;
    Ok(())
}
