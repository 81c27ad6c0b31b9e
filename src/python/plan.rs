//! The financial plan: scenarios, their simulation, results and the reverse stress test.

use crate::plan::{Condition, PlanResult, Scenario, ScenarioSpec};

use pyo3::prelude::*;

use super::interruptible;
use super::{Failure, Result, from_py, to_py};

/// A validated financial-plan scenario.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "Scenario", frozen)]
pub(crate) struct PyScenario {
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
        self.inner.warnings().to_vec()
    }

    fn ledger<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = self.inner.ledger().map_err(Failure::from)?;
        to_py(py, &rows)
    }

    fn reserve_names(&self) -> Vec<String> {
        self.inner.reserve_names()
    }

    fn risk_matrix_minimum(&self) -> f64 {
        self.inner.risk_matrix_minimum()
    }

    #[pyo3(signature = (trials, seed, condition, top, threads=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn reverse_stress<'py>(
        &self,
        py: Python<'py>,
        trials: u64,
        seed: u64,
        condition: &str,
        top: usize,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let condition: Condition = condition.parse().map_err(Failure::from)?;
        let s = &self.inner;
        let out = interruptible(py, &progress, |check| {
            s.reverse_stress_with_progress(trials, seed, threads, condition, top, check)
        })?;
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
        let inner = interruptible(py, &progress, |check| {
            s.simulate_with_progress(trials, seed, threads, check)
        })?;
        Ok(PyPlanResult { inner })
    }
}

/// What a plan simulation found.
#[pyclass(module = "fiscalrisk._fiscalrisk", name = "PlanResult", frozen)]
pub(crate) struct PyPlanResult {
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

    fn reserves_by_year<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.reserves_by_year())
    }

    fn minimum(&self) -> Vec<f64> {
        self.inner.minimum().to_vec()
    }

    fn risk_assessed_minimum(&self, confidence: f64) -> Result<f64> {
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
        let inner = serde_json::from_str(text).map_err(|e| {
            let m = e.to_string();
            Failure::Validation(if m.starts_with("a plan result") {
                m
            } else {
                format!("a plan result: {m}")
            })
        })?;
        Ok(PyPlanResult { inner })
    }

    fn resilience<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.resilience())
    }

    fn probability_below(&self, indicator: &str, threshold: f64, year: &str) -> Result<f64> {
        Ok(self.inner.probability_below(indicator, threshold, year)?)
    }
}
