//! Distributions, risks, registers and the register's Monte Carlo engine.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::types::PyDict;

use crate::distribution::Distribution;
use crate::register::RiskRegister;
use crate::risk::Risk;
use crate::simulation::{self, SimulationOptions, SimulationResult};

use pyo3::prelude::*;

use super::interruptible;
use super::{Result, from_py, to_py};

/// A validated distribution.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "Distribution", frozen)]
pub(crate) struct PyDistribution {
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
pub(crate) struct PyRisk {
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
pub(crate) struct PyRiskRegister {
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
            inner: RiskRegister::from_toml(text)?,
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
pub(crate) struct PySimulationResult {
    inner: SimulationResult,
}

pub(crate) fn column<'py, T>(
    py: Python<'py>,
    rows: &[T],
    f: impl Fn(&T) -> f64,
) -> Bound<'py, PyArray1<f64>> {
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

/// Runs the Monte Carlo engine with the GIL released. As batches finish (at most every 50 ms)
/// the GIL is taken back briefly to check for Ctrl-C and to call `progress(done, total)` if given.
#[pyfunction]
#[pyo3(signature = (register, trials, seed, threads=None, keep_trials=false, progress=None))]
pub(crate) fn simulate(
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
    let inner = interruptible(py, &progress, |check| {
        simulation::simulate_with_progress(reg, &options, check)
    })?;
    Ok(PySimulationResult { inner })
}
