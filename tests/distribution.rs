//! Samplers against the exact distributions: chi-square tests of PERT draws in equiprobable
//! bins of statrs' Beta, over PERT weights from 1 to 500 and modes from one end to the other
//! (the envelope sampler and, for the spikiest shape, the gamma ratio).

mod common;

use common::*;
use fiscalrisk::distribution::Distribution;
use statrs::distribution::{Beta, ChiSquared, ContinuousCDF};

/// The chi-square statistic's p-value for `draws` of PERT(`low`, `mode`, `high`, `lamb`) in
/// `bins` bins of equal probability under the exact Beta.
fn pert_fit(low: f64, mode: f64, high: f64, lamb: f64, draws: usize, bins: usize) -> f64 {
    let a = 1.0 + lamb * (mode - low) / (high - low);
    let b = 1.0 + lamb * (high - mode) / (high - low);
    let beta = Beta::new(a, b).unwrap();
    let edges: Vec<f64> = (1..bins)
        .map(|k| low + (high - low) * beta.inverse_cdf(k as f64 / bins as f64))
        .collect();
    let d = Distribution::pert(low, mode, high, lamb).unwrap();
    let mut counts = vec![0u64; bins];
    for x in d.sample(draws, 17).unwrap() {
        assert!((low..=high).contains(&x), "{x} outside [{low}, {high}]");
        counts[edges.partition_point(|e| *e < x)] += 1;
    }
    let expected = draws as f64 / bins as f64;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    1.0 - ChiSquared::new((bins - 1) as f64).unwrap().cdf(chi2)
}

#[test]
fn pert_draws_fit_the_beta_in_equiprobable_bins() {
    for lamb in [1.0, 4.0, 40.0, 500.0] {
        for (mode, why) in [
            (0.0, "mode at the low end"),
            (1.5, "skewed, as most risk impacts are"),
            (7.0, "symmetric"),
            (14.0, "mode at the high end"),
        ] {
            let p = pert_fit(0.0, mode, 14.0, lamb, 200_000, 100);
            assert!(p > FIT_PVALUE, "lamb {lamb}, {why}: p = {p}");
        }
    }
    // The spikiest shape there is (weight 1,000, mode at an end), drawn by the gamma ratio.
    let p = pert_fit(1e6, 1e6, 15e6, 1000.0, 200_000, 100);
    assert!(p > FIT_PVALUE, "lamb 1000: p = {p}");
}
