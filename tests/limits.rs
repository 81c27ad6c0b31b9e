//! Hostile inputs are refused with an error that names what is wrong, before they can exhaust
//! memory or time: oversized files, deep nesting, registers and programmes beyond the limits,
//! trial counts out of range, amounts beyond what an exact decimal holds.

use std::time::Instant;

use fiscalrisk::plan::{MAX_INPUT_BYTES, MAX_ITEMS, Scenario};
use fiscalrisk::register::{MAX_RISKS, RegisterSpec, RiskRegister};
use fiscalrisk::simulation::{self, SimulationOptions};

mod common;

const PLAN: &str =
    "[plan]\nname = \"x\"\nfirst_year = \"2019/20\"\nyears = 2\nnet_budget = [1e6, 1e6]\n";

#[test]
fn deeply_nested_toml_and_json_are_refused_quickly() {
    let depth = 100_000;
    let t0 = Instant::now();
    let toml = format!("{PLAN}x = {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let e = Scenario::from_toml(&toml).unwrap_err().to_string();
    assert!(e.contains("line 6"), "{e}");
    let json = format!("{{\"plan\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    let e = Scenario::from_json(&json).unwrap_err().to_string();
    assert!(e.starts_with("plan"), "{e}");
    // A guard against a hang (a parser that walked the nesting), not a speed target: a debug
    // build on a busy machine takes a fraction of a second; the bound is far above it.
    assert!(t0.elapsed().as_secs_f64() < 30.0);
}

#[test]
fn an_oversized_file_is_refused_before_parsing() {
    let text = format!("{PLAN}# {}\n", "x".repeat(MAX_INPUT_BYTES));
    let e = Scenario::from_toml(&text).unwrap_err().to_string();
    assert!(
        e.starts_with("input: ") && e.contains("bytes is more than"),
        "{e}"
    );
    let e = fiscalrisk::monitoring::Table::from_csv_text(&text)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bytes is more than"), "{e}");
}

#[test]
fn registers_and_programmes_beyond_the_limits_are_refused() {
    let spec = RegisterSpec {
        risks: (0..=MAX_RISKS)
            .map(|i| common::risk(&format!("r{i}"), 0.1, common::fixed(1.0)))
            .collect(),
        ..RegisterSpec::default()
    };
    let e = RiskRegister::from_spec(spec).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "risks: {} risks is more than the {MAX_RISKS} a register holds",
            MAX_RISKS + 1
        )
    );
    let savings: String = (0..=MAX_ITEMS)
        .map(|i| format!("[[savings]]\nid = \"s{i}\"\nname = \"s\"\nyear = \"2019/20\"\nvalue = 1\nrag = \"green\"\n"))
        .collect();
    let e = Scenario::from_toml(&format!("{PLAN}{savings}"))
        .unwrap_err()
        .to_string();
    // The line is the first [[savings]] table's.
    assert_eq!(
        e,
        format!(
            "savings: {} is more than the {MAX_ITEMS} a scenario may have (line 6)",
            MAX_ITEMS + 1
        )
    );
}

#[test]
fn absurd_trial_counts_and_amounts_are_refused() {
    let reg = common::register(vec![common::risk("a", 0.5, common::fixed(1.0))], vec![], 1);
    for trials in [0, 1_000_000_001, u64::MAX] {
        let options = SimulationOptions {
            trials,
            seed: 1,
            threads: None,
            keep_trials: false,
        };
        let e = simulation::simulate(&reg, &options)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("trials: {trials} is not between 1 and")),
            "{e}"
        );
    }
    let s = Scenario::from_toml(PLAN).unwrap();
    assert!(
        s.simulate(0, 1, None)
            .unwrap_err()
            .to_string()
            .starts_with("trials: 0")
    );
    for amount in [
        "\"1e40\"",
        "\"99999999999999999999999999999999999\"",
        "1e300",
    ] {
        let text = PLAN.replace(
            "net_budget = [1e6, 1e6]",
            &format!("net_budget = [{amount}, 1e6]"),
        );
        let e = Scenario::from_toml(&text).unwrap_err().to_string();
        assert!(e.contains("net_budget[0]"), "{amount}: {e}");
    }
}
