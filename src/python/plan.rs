//! The financial plan: scenarios, their simulation, results and the reverse stress test.

use crate::plan::{Case, Condition, PlanResult, Scenario, ScenarioSpec};

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

    fn mtfs<'py>(&self, py: Python<'py>, case: &str) -> PyResult<Bound<'py, PyAny>> {
        let case: Case = case.parse().map_err(Failure::from)?;
        let rows = self.inner.mtfs(case).map_err(Failure::from)?;
        to_py(py, &rows)
    }

    fn mtfs_lines<'py>(&self, py: Python<'py>, case: &str) -> PyResult<Bound<'py, PyAny>> {
        let case: Case = case.parse().map_err(Failure::from)?;
        to_py(py, &self.inner.mtfs_lines(case))
    }

    fn sensitivities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.sensitivities())
    }

    fn council_tax<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.council_tax())
    }

    fn capital<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.capital())
    }

    fn hra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.hra())
    }

    fn prudential_indicators<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.prudential_indicators())
    }

    fn net_budget(&self) -> Vec<String> {
        self.inner
            .net_budget()
            .iter()
            .map(|m| m.to_string())
            .collect()
    }

    fn has_funding(&self) -> bool {
        self.inner.spec().funding.is_some()
    }

    fn driver_names(&self) -> Vec<String> {
        self.inner
            .spec()
            .drivers
            .iter()
            .map(|d| d.name.trim().to_string())
            .collect()
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

    #[pyo3(signature = (trials, seed, confidence, threads=None, progress=None))]
    fn minimum_statement<'py>(
        &self,
        py: Python<'py>,
        trials: u64,
        seed: u64,
        confidence: f64,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let s = &self.inner;
        let out = interruptible(py, &progress, |check| {
            s.minimum_statement_with_progress(trials, seed, threads, confidence, check)
        })?;
        to_py(py, &out)
    }

    #[pyo3(signature = (trials, seed, threads=None, progress=None, keep_trials=false))]
    fn simulate(
        &self,
        py: Python<'_>,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
        keep_trials: bool,
    ) -> PyResult<PyPlanResult> {
        let s = &self.inner;
        let options = crate::simulation::SimulationOptions {
            trials,
            seed,
            threads,
            keep_trials,
        };
        let inner = interruptible(py, &progress, |check| s.simulate_with(&options, check))?;
        Ok(PyPlanResult { inner })
    }
}

type TrialArrays<'py> = (
    Vec<String>,
    Bound<'py, numpy::PyArray1<f64>>,
    Bound<'py, numpy::PyArray1<f64>>,
    Bound<'py, numpy::PyArray1<f64>>,
    Bound<'py, numpy::PyArray1<u8>>,
);

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

    #[pyo3(signature = (amount, year=None))]
    fn exceedance(&self, amount: f64, year: Option<&str>) -> Result<f64> {
        Ok(self.inner.exceedance(amount, year)?)
    }

    fn cumulative_gap_quantiles(&self, probs: Vec<f64>) -> Result<Vec<f64>> {
        Ok(self.inner.cumulative_gap_quantiles(&probs)?)
    }

    /// `(years, gap, usable_reserves, general_fund, flags)`: trial-major arrays (flags: bit 1
    /// below minimum, 2 exhausted, 4 s114), or `None` when trials were not kept.
    fn trial_table<'py>(&self, py: Python<'py>) -> Option<TrialArrays<'py>> {
        use numpy::IntoPyArray;
        self.inner.trial_table().map(|t| {
            let flags: Vec<u8> = (0..t.gap.len())
                .map(|i| {
                    u8::from(t.below_minimum[i])
                        | u8::from(t.exhausted[i]) << 1
                        | u8::from(t.s114[i]) << 2
                })
                .collect();
            (
                t.years,
                t.gap.into_pyarray(py),
                t.usable_reserves.into_pyarray(py),
                t.general_fund.into_pyarray(py),
                flags.into_pyarray(py),
            )
        })
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

    fn savings_shortfall<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = self.inner.savings_shortfall().map_err(Failure::from)?;
        to_py(py, &rows)
    }

    fn reserves_by_year<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.reserves_by_year())
    }

    fn provisions_by_year<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.provisions_by_year())
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

    fn mtfs(&self, statistic: &str) -> Result<Vec<Vec<f64>>> {
        Ok(self.inner.mtfs(statistic)?)
    }

    fn probability_below(&self, indicator: &str, threshold: f64, year: &str) -> Result<f64> {
        Ok(self.inner.probability_below(indicator, threshold, year)?)
    }
}

/// A bridge between two versions of a plan: `[{year, input, change}]`.
#[pyfunction]
pub(crate) fn bridge<'py>(
    py: Python<'py>,
    old: &PyScenario,
    new: &PyScenario,
) -> PyResult<Bound<'py, PyAny>> {
    let rows = crate::plan::bridge(&old.inner, &new.inner).map_err(Failure::from)?;
    to_py(py, &rows)
}

/// A principle as the binding returns it: `(year, class, core, asc, pounds, note, source)`.
type PrincipleRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

/// The referendum principles shipped: `[(year, class, core, asc, pounds, note, source)]`.
#[pyfunction]
pub(crate) fn referendum_principles() -> Vec<PrincipleRow> {
    crate::referendum::PRINCIPLES
        .iter()
        .map(|r| {
            (
                r.year.into(),
                r.class.as_str().into(),
                r.core.into(),
                r.asc.into(),
                r.pounds.map(Into::into),
                r.note.into(),
                r.source.into(),
            )
        })
        .collect()
}

/// The bespoke referendum principles shipped: `[(authority, year, additional, source)]`.
#[pyfunction]
pub(crate) fn dispensations() -> Vec<(String, String, String, String)> {
    crate::referendum::DISPENSATIONS
        .iter()
        .map(|r| {
            (
                r.authority.into(),
                r.year.into(),
                r.additional.into(),
                r.source.into(),
            )
        })
        .collect()
}

/// The documented default delivery model of each RAG status, `{rag: {p_full, partial, p_slip}}`:
/// the one source the report's assumptions table shows when a scenario keeps a default.
#[pyfunction]
pub(crate) fn default_delivery_models(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let models: std::collections::BTreeMap<&str, crate::saving::DeliverySpec> =
        crate::saving::Rag::ALL
            .into_iter()
            .map(|rag| {
                (
                    rag.name(),
                    crate::saving::DeliveryModel::default_for(rag)
                        .spec()
                        .clone(),
                )
            })
            .collect();
    to_py(py, &models)
}
