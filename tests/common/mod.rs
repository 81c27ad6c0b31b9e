//! Shared helpers and the tolerances of the Rust integration tests, in one place.
#![allow(dead_code)]

use fiscalrisk::DistributionSpec;
use fiscalrisk::register::{RegisterSpec, RiskRegister};
use fiscalrisk::risk::RiskSpec;

/// Monte Carlo checks allow this many standard errors.
pub const MC_SIGMAS: f64 = 4.0;
/// Relative error of a quantile read from the result's sketch (one bucket, 2^-10: the
/// documented accuracy, under 0.1%).
pub const SKETCH_RELATIVE: f64 = 1.0 / 1024.0;
/// Goodness-of-fit tests of fixed-seed samples pass when their p-value is above this.
pub const FIT_PVALUE: f64 = 1e-4;
/// Numerical-integration results against closed forms.
pub const INTEGRATION_RELATIVE: f64 = 1e-9;

pub fn risk(id: &str, probability: f64, impact: DistributionSpec) -> RiskSpec {
    RiskSpec {
        id: id.into(),
        name: format!("risk {id}"),
        probability,
        impact,
        profile: None,
        recurring: false,
        share: 1.0,
        cap: None,
        category: None,
        owner: None,
    }
}

pub fn fixed(value: f64) -> DistributionSpec {
    DistributionSpec::Fixed {
        value: fiscalrisk::Money::from_f64(value).unwrap(),
    }
}

pub fn pert(low: f64, mode: f64, high: f64) -> DistributionSpec {
    DistributionSpec::Pert {
        low,
        mode,
        high,
        lamb: 4.0,
    }
}

pub fn register(
    risks: Vec<RiskSpec>,
    correlations: Vec<(String, String, f64)>,
    years: u32,
) -> RiskRegister {
    RiskRegister::from_spec(RegisterSpec {
        first_year: Some("2019/20".into()),
        years: Some(years),
        strict: false,
        risks,
        correlations: correlations.into_iter().map(Into::into).collect(),
    })
    .unwrap()
}

/// Ranks (1-based, ties averaged) of `x`.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}
