//! The Monte Carlo engine against independent truth: exact convolutions, exact expected
//! values, requested rank correlations, and thread-count independence.

mod common;

use common::*;
use fiscalrisk::DistributionSpec;
use fiscalrisk::simulation::{SimulationOptions, TOTAL, simulate};

fn run(
    reg: &fiscalrisk::RiskRegister,
    trials: u64,
    seed: u64,
    threads: Option<usize>,
    keep: bool,
) -> fiscalrisk::SimulationResult {
    simulate(
        reg,
        &SimulationOptions {
            trials,
            seed,
            threads,
            keep_trials: keep,
        },
    )
    .unwrap()
}

/// The exact distribution of a sum of independent fixed-impact risks, by enumerating outcomes:
/// (value, probability) atoms, sorted.
fn convolution(risks: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut atoms = vec![(0.0, 1.0)];
    for &(p, v) in risks {
        let mut next = Vec::with_capacity(atoms.len() * 2);
        for &(x, q) in &atoms {
            next.push((x, q * (1.0 - p)));
            next.push((x + v, q * p));
        }
        atoms = next;
    }
    atoms.sort_by(|a, b| a.0.total_cmp(&b.0));
    atoms
}

fn exact_quantile(atoms: &[(f64, f64)], p: f64) -> f64 {
    let mut c = 0.0;
    for &(x, q) in atoms {
        c += q;
        if c >= p - 1e-15 {
            return x;
        }
    }
    atoms.last().unwrap().0
}

#[test]
fn independent_fixed_risks_match_the_exact_convolution() {
    let spec = [
        (0.3, 1e6),
        (0.1, 5e6),
        (0.5, 2e6),
        (0.05, 20e6),
        (0.2, 3e6),
        (0.15, 0.5e6),
    ];
    let risks = spec
        .iter()
        .enumerate()
        .map(|(i, &(p, v))| risk(&format!("r{i}"), p, fixed(v)))
        .collect();
    let reg = register(risks, vec![], 1);
    let n = 200_000;
    let res = run(&reg, n, 11, None, false);
    let atoms = convolution(&spec);
    let total = res
        .summary()
        .into_iter()
        .find(|r| r.period == TOTAL)
        .unwrap();
    for (p, sim) in [
        (0.5, total.p50),
        (0.9, total.p90),
        (0.95, total.p95),
        (0.99, total.p99),
    ] {
        // The simulated quantile must be an exact quantile at a level within MC error of p.
        let d = MC_SIGMAS * (p * (1.0 - p) / n as f64).sqrt();
        let (lo, hi) = (exact_quantile(&atoms, p - d), exact_quantile(&atoms, p + d));
        assert!(lo <= sim && sim <= hi, "P{p}: {sim} not in [{lo}, {hi}]");
        assert!(
            atoms.iter().any(|a| a.0 == sim),
            "P{p}: {sim} is not an atom: atoms are exact"
        );
    }
    for amount in [0.0, 1.9e6, 4e6, 7.5e6, 20e6, 25e6] {
        let exact: f64 = atoms.iter().filter(|a| a.0 > amount).map(|a| a.1).sum();
        let sim = res.exceedance(amount, TOTAL).unwrap();
        let se = (exact * (1.0 - exact) / n as f64).sqrt().max(1e-9);
        assert!(
            (sim - exact).abs() <= MC_SIGMAS * se,
            "P(X > {amount}): {sim} vs {exact}"
        );
    }
    let exact_mean: f64 = spec.iter().map(|(p, v)| p * v).sum();
    assert!((total.mean - exact_mean).abs() <= MC_SIGMAS * total.se_mean);
}

fn mixed_register() -> fiscalrisk::RiskRegister {
    let mut shared = risk("games", 0.5, pert(0.0, 40e6, 200e6));
    shared.share = 0.25;
    shared.cap = Some("25000000".parse().unwrap());
    shared.profile = Some([("2020/21".to_string(), 0.2), ("2021/22".into(), 0.8)].into());
    let mut recurring = risk("care", 0.4, DistributionSpec::Normal { mean: 3e6, sd: 1e6 });
    recurring.recurring = true;
    recurring.profile = Some([("2020/21".to_string(), 1.0)].into());
    recurring.cap = Some("3500000".parse().unwrap());
    let mut lognormal = risk(
        "equal_pay",
        0.6,
        DistributionSpec::LogNormal {
            mu: None,
            sigma: None,
            p50: Some(40e6),
            p90: Some(120e6),
        },
    );
    lognormal.cap = Some("100000000".parse().unwrap());
    lognormal.share = 0.9;
    let tri = risk(
        "pfi",
        0.3,
        DistributionSpec::Triangular {
            low: 5e6,
            mode: 15e6,
            high: 60e6,
        },
    );
    let disc = risk(
        "strike",
        0.7,
        DistributionSpec::Discrete {
            values: vec![1e6, 4e6, 9e6],
            weights: vec![3.0, 2.0, 1.0],
        },
    );
    register(
        vec![shared, recurring, lognormal, tri, disc],
        vec![
            ("games".into(), "pfi".into(), 0.5),
            ("equal_pay".into(), "strike".into(), -0.3),
        ],
        4,
    )
}

#[test]
fn simulated_means_match_exact_expected_values() {
    let reg = mixed_register();
    let res = run(&reg, 100_000, 3, None, false);
    let by_period = res.contributions_by_period();
    let exact = reg.expected_values();
    assert_eq!(by_period.len(), exact.len());
    for (sim, (id, period, ev)) in by_period.iter().zip(&exact) {
        assert_eq!((&sim.risk_id, &sim.period), (id, period));
        let tol = MC_SIGMAS * sim.se_mean + 1e-9;
        assert!(
            (sim.mean - ev).abs() <= tol,
            "{id} {period}: {} vs {ev} (se {})",
            sim.mean,
            sim.se_mean
        );
    }
    // Years add up to the plan.
    let summary = res.summary();
    let years: f64 = summary[..4].iter().map(|r| r.mean).sum();
    assert!((years - summary[4].mean).abs() < 1e-6 * summary[4].mean);
}

#[test]
fn certain_risks_realise_the_requested_rank_correlation() {
    let risks = vec![
        risk("a", 1.0, pert(0.0, 1.0, 10.0)),
        risk(
            "b",
            1.0,
            DistributionSpec::LogNormal {
                mu: Some(0.0),
                sigma: Some(1.0),
                p50: None,
                p90: None,
            },
        ),
        risk(
            "c",
            1.0,
            DistributionSpec::Uniform {
                low: -5.0,
                high: 5.0,
            },
        ),
    ];
    let wanted = [("a", "b", 0.7), ("a", "c", -0.4), ("b", "c", 0.0)];
    let corr = wanted
        .iter()
        .map(|(a, b, r)| (a.to_string(), b.to_string(), *r))
        .collect();
    let reg = register(risks, corr, 1);
    let n = 40_000;
    let res = run(&reg, n, 5, None, true);
    let t = res.trial_table().unwrap();
    let col = |i: usize| -> Vec<f64> { (0..n as usize).map(|j| t.risks[j * 3 + i]).collect() };
    let (a, b, c) = (col(0), col(1), col(2));
    // Standard error of a Spearman correlation is below 1 / sqrt(n - 3).
    let tol = MC_SIGMAS / ((n - 3) as f64).sqrt();
    for ((x, y), (_, _, want)) in [(&a, &b), (&a, &c), (&b, &c)].into_iter().zip(wanted) {
        let got = spearman(x, y);
        assert!((got - want).abs() < tol, "spearman {got} vs {want}");
    }
}

#[test]
fn correlated_uncertain_risks_co_occur_more_often() {
    let make = |rho: Option<f64>| {
        let risks = vec![
            risk("a", 0.2, fixed(1.0)),
            risk("b", 0.2, fixed(1.0)),
            risk("c", 0.5, fixed(1.0)),
        ];
        let corr = rho.map_or(vec![], |r| vec![("a".to_string(), "b".to_string(), r)]);
        register(risks, corr, 1)
    };
    let n = 50_000u64;
    let both = |reg: &fiscalrisk::RiskRegister| {
        let res = run(reg, n, 9, None, true);
        let t = res.trial_table().unwrap();
        (0..n as usize)
            .filter(|&j| t.risks[j * 3] > 0.0 && t.risks[j * 3 + 1] > 0.0)
            .count() as f64
            / n as f64
    };
    let independent = both(&make(None));
    let correlated = both(&make(Some(0.8)));
    let se = (0.04f64 * 0.96 / n as f64).sqrt();
    assert!((independent - 0.04).abs() < MC_SIGMAS * se, "{independent}");
    assert!(correlated > 0.04 + 10.0 * se, "{correlated}");
    // Correlation does not change how often each risk happens.
    let res = run(&make(Some(0.8)), n, 9, None, false);
    let c = res.contributions();
    for row in &c[..2] {
        assert!((row.mean - 0.2).abs() < MC_SIGMAS * row.se_mean, "{row:?}");
    }
}

#[test]
fn same_seed_same_numbers_on_any_thread_count() {
    let reg = mixed_register();
    let one = run(&reg, 30_000, 21, Some(1), true);
    let two = run(&reg, 30_000, 21, Some(2), true);
    let three = run(&reg, 30_000, 21, Some(3), true);
    assert_eq!(one, two);
    assert_eq!(one, three);
    let other = run(&reg, 30_000, 22, Some(2), false);
    assert_ne!(one.summary(), other.summary());
}

#[test]
fn tail_contributions_sum_to_the_tail_mean_of_the_total() {
    let reg = mixed_register();
    let n = 20_000u64;
    let res = run(&reg, n, 4, None, true);
    let t = res.trial_table().unwrap();
    let width = res.periods().len();
    let threshold = res.tail_threshold();
    let tail: Vec<usize> = (0..n as usize)
        .filter(|&j| t.periods[j * width + width - 1] >= threshold)
        .collect();
    let tail_total: f64 = tail
        .iter()
        .map(|&j| t.periods[j * width + width - 1])
        .sum::<f64>()
        / tail.len() as f64;
    let sum: f64 = res.contributions().iter().map(|c| c.tail_mean).sum();
    assert!(
        (sum - tail_total).abs() < 1e-9 * tail_total,
        "{sum} vs {tail_total}"
    );
    // And the sketch's quantiles sit within one bucket of the exact order statistics.
    let mut totals: Vec<f64> = (0..n as usize)
        .map(|j| t.periods[j * width + width - 1])
        .collect();
    totals.sort_by(f64::total_cmp);
    let total = res.summary().pop().unwrap();
    for (p, q) in [
        (0.05, total.p5),
        (0.5, total.p50),
        (0.95, total.p95),
        (0.99, total.p99),
    ] {
        let exact = totals[((p * n as f64).ceil() as usize) - 1];
        assert!(
            (q - exact).abs() <= SKETCH_RELATIVE * exact.abs(),
            "P{p}: {q} vs {exact}"
        );
    }
    let worst = (0.05 * n as f64).ceil() as usize;
    let es: f64 = totals[totals.len() - worst..].iter().sum::<f64>() / worst as f64;
    assert!(
        (total.es95 - es).abs() <= SKETCH_RELATIVE * es,
        "{} vs {es}",
        total.es95
    );
}

#[test]
fn run_arguments_are_validated() {
    let reg = mixed_register();
    let err = |o: SimulationOptions| simulate(&reg, &o).unwrap_err().to_string();
    assert_eq!(
        err(SimulationOptions {
            trials: 0,
            ..Default::default()
        }),
        "trials: 0 is not between 1 and 1000000000"
    );
    assert_eq!(
        err(SimulationOptions {
            threads: Some(0),
            ..Default::default()
        }),
        "threads: 0 is not between 1 and 1024"
    );
    assert!(
        err(SimulationOptions {
            trials: 100_000_000,
            keep_trials: true,
            ..Default::default()
        })
        .starts_with("keep_trials:")
    );
    let res = run(&reg, 100, 1, None, false);
    assert_eq!(
        res.exceedance(1.0, "2030/31").unwrap_err().to_string(),
        "period: \"2030/31\" is not one of 2019/20, 2020/21, 2021/22, 2022/23, total"
    );
    assert!(res.exceedance(f64::NAN, TOTAL).is_err());
}

#[test]
fn interrupting_stops_the_run() {
    use std::ops::ControlFlow;
    let reg = mixed_register();
    let mut calls = 0;
    let out = fiscalrisk::simulation::simulate_with_progress(
        &reg,
        &SimulationOptions {
            trials: 1_000_000,
            ..Default::default()
        },
        &mut |_, _| {
            calls += 1;
            ControlFlow::Break(())
        },
    );
    assert_eq!(
        out.unwrap_err(),
        fiscalrisk::simulation::SimulationError::Interrupted
    );
    assert_eq!(calls, 1);
}

#[test]
fn standard_errors_match_the_spread_across_seeds() {
    // se_mean and se_p95 claim how far an estimate moves from run to run: check that claim
    // against the spread of 40 independent runs.
    let reg = mixed_register();
    let runs: Vec<_> = (0..40)
        .map(|seed| {
            run(&reg, 10_000, 1000 + seed, None, false)
                .summary()
                .pop()
                .unwrap()
        })
        .collect();
    let spread = |xs: Vec<f64>| {
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
    };
    let claimed = |xs: Vec<f64>| xs.iter().sum::<f64>() / xs.len() as f64;
    for (name, observed, stated) in [
        (
            "mean",
            spread(runs.iter().map(|r| r.mean).collect()),
            claimed(runs.iter().map(|r| r.se_mean).collect()),
        ),
        (
            "p95",
            spread(runs.iter().map(|r| r.p95).collect()),
            claimed(runs.iter().map(|r| r.se_p95).collect()),
        ),
    ] {
        // With 40 runs the sample standard deviation is within about 25% of the truth (2 sigma).
        let ratio = observed / stated;
        assert!(
            (0.6..1.6).contains(&ratio),
            "{name}: spread {observed} vs stated se {stated}"
        );
    }
}
