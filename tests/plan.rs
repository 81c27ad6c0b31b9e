//! The financial plan against closed forms and properties.

use fiscalrisk::plan::Scenario;
use proptest::prelude::*;

const MC_SIGMAS: f64 = 4.0;

fn binomial_tail(k: u64, p: f64, at_least: u64) -> f64 {
    let choose = |n: u64, r: u64| (0..r).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
    (at_least..=k)
        .map(|j| choose(k, j) * p.powi(j as i32) * (1.0 - p).powi((k - j) as i32))
        .sum()
}

#[test]
fn bernoulli_risks_exhaust_reserves_with_the_binomial_probability() {
    // Five independent 30% risks of a fixed 10m, all in 2019/20, against 25m of reserves:
    // reserves run out when three or more happen.
    let mut text = String::from(
        "[plan]\nname = \"B\"\nfirst_year = \"2019/20\"\nyears = 2\nnet_budget = [500e6, 500e6]\n[reserves]\ngeneral_fund = 25e6\n",
    );
    for i in 0..5 {
        text.push_str(&format!(
            "[[risks]]\nid = \"r{i}\"\nname = \"r{i}\"\nprobability = 0.3\nimpact = {{ dist = \"fixed\", value = 10e6 }}\n"
        ));
    }
    let s = Scenario::from_toml(&text).unwrap();
    let n = 100_000;
    let r = s.simulate(n, 11, None).unwrap();
    let exact = binomial_tail(5, 0.3, 3);
    let se = (exact * (1.0 - exact) / n as f64).sqrt();
    let years = r.by_year();
    assert!(
        (years[0].p_exhausted - exact).abs() < MC_SIGMAS * se,
        "{} vs {exact}",
        years[0].p_exhausted
    );
    assert_eq!(
        years[0].p_exhausted, years[1].p_exhausted,
        "exhaustion is counted as cumulative"
    );
    // The drivers: each risk's mean is 0.3 * 10m; in exhausted trials at least three of five happen.
    for d in r.drivers() {
        assert!((d.mean - 3e6).abs() < MC_SIGMAS * (0.21f64).sqrt() * 10e6 / (n as f64).sqrt());
        assert!(d.exhausted_mean > 6e6);
    }
}

fn scenario(reserve: f64, response: f64, probability: f64, rag: &str) -> Scenario {
    Scenario::from_toml(&format!(
        r#"
[plan]
name = "P"
first_year = "2019/20"
years = 4
net_budget = [800e6, 810e6, 820e6, 830e6]
management_response = {response}

[[pressures]]
name = "Demand"
amount = {{ dist = "triangular", low = 2e6, mode = 5e6, high = 12e6 }}
first_year = "2019/20"

[[savings]]
id = "S1"
name = "Redesign"
year = "2019/20"
value = 8e6
rag = "{rag}"

[[savings]]
id = "S2"
name = "Asset sale"
year = "2020/21"
value = 5e6
rag = "{rag}"
recurring = false

[[risks]]
id = "EP"
name = "Equal pay"
probability = {probability}
impact = {{ dist = "lognormal", p50 = 20e6, p90 = 60e6 }}
profile = {{ "2019/20" = 0.5, "2020/21" = 0.5 }}

[[risks]]
id = "IR"
name = "Industrial action"
probability = 0.3
impact = {{ dist = "uniform", low = 1e6, high = 8e6 }}
recurring = true

[[correlations]]
risks = ["EP", "IR"]
rho = 0.4

[reserves]
general_fund = {reserve}
earmarked = [{{ name = "Resilience", balance = 10e6, usable = true }}, {{ name = "Schools", balance = 30e6, usable = false }}]

[policy]
minimum_general_fund = {{ percent_of_budget = 0.02 }}
"#
    ))
    .unwrap()
}

fn p_exhausted(s: &Scenario, seed: u64) -> (f64, f64) {
    let n = 4_000;
    let p = s.simulate(n, seed, None).unwrap().p_exhausted();
    (p, (p * (1.0 - p) / n as f64).sqrt().max(1.0 / n as f64))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        rng_seed: proptest::test_runner::RngSeed::Fixed(2019),
        ..ProptestConfig::default()
    })]

    #[test]
    fn more_reserves_or_more_response_never_raise_exhaustion(
        reserve in 0.0..60e6f64, extra in 0.0..30e6f64, response in 0.0..1.0f64, less in 0.0..1.0f64, seed in any::<u64>()
    ) {
        // The same seed draws the same trials, so these hold trial by trial.
        let base = p_exhausted(&scenario(reserve, response, 0.5, "amber"), seed).0;
        prop_assert!(p_exhausted(&scenario(reserve + extra, response, 0.5, "amber"), seed).0 <= base);
        prop_assert!(p_exhausted(&scenario(reserve, response * less, 0.5, "amber"), seed).0 >= base);
    }

    #[test]
    fn higher_probability_or_worse_rag_never_lower_exhaustion(
        reserve in 10e6..50e6f64, p in 0.0..0.8f64, raise in 0.0..0.2f64, seed in any::<u64>()
    ) {
        // Different draws: allowed Monte Carlo error only.
        let (a, sa) = p_exhausted(&scenario(reserve, 0.0, p, "amber"), seed);
        let (b, sb) = p_exhausted(&scenario(reserve, 0.0, p + raise, "amber"), seed);
        prop_assert!(b >= a - MC_SIGMAS * (sa * sa + sb * sb).sqrt(), "{} < {}", b, a);
        let (g, sg) = p_exhausted(&scenario(reserve, 0.0, p, "green"), seed);
        let (r, sr) = p_exhausted(&scenario(reserve, 0.0, p, "red"), seed);
        prop_assert!(a >= g - MC_SIGMAS * (sa * sa + sg * sg).sqrt());
        prop_assert!(r >= a - MC_SIGMAS * (sa * sa + sr * sr).sqrt());
    }
}
