//! Resilience indicators of published returns.

use crate::resilience::{self, Return};

use pyo3::prelude::*;

use super::{Failure, from_py, to_py};

/// Resilience indicators of published returns, ranked within peer groups.
#[pyfunction]
pub(crate) fn resilience_indicators<'py>(
    py: Python<'py>,
    rows: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let rows: Vec<Return> = from_py(rows)?;
    let out = resilience::indicators(&rows).map_err(Failure::from)?;
    to_py(py, &out)
}

/// The resilience indicators: name, theme, direction and meaning.
#[pyfunction]
pub(crate) fn resilience_catalogue(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &resilience::INDICATORS)
}
