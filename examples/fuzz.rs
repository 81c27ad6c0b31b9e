//! A mutation fuzzer for every reader that takes hand-edited input: scenario files (TOML and
//! JSON, through validation to a simulation of a few trials), risk registers (TOML, simulated),
//! and monthly monitoring tables (CSV, through the `check` rules).
//!
//! cargo-fuzz needs a nightly toolchain, which this project's machines cannot fetch; this
//! harness does the same job on stable Rust. Each case takes an input from `fuzz/corpus/`,
//! mutates it (hostile values put in place of numbers and strings, lines deleted, duplicated or
//! swapped, bytes flipped, inserted or removed), and runs it. A case fails when it panics, takes
//! a second or more, yields a NaN or infinite number, or is rejected with an empty message.
//! Failing inputs are written to `fuzz/crashes/` (and become regression tests in
//! `tests/fuzz_regressions.rs`).
//!
//! ```text
//! cargo run --release --example fuzz -- --cases 1000000 --seed 1
//! ```

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fiscalrisk::monitoring::{self, Rules, Table};
use fiscalrisk::plan::Scenario;
use fiscalrisk::register::{RegisterSpec, RiskRegister};
use fiscalrisk::rng;
use fiscalrisk::simulation::{self, SimulationOptions};
use rand::RngExt;

/// Values that break careless readers.
const HOSTILE: &[&str] = &[
    "-1",
    "0",
    "-0.0",
    "1e308",
    "-1e308",
    "1e16",
    "nan",
    "inf",
    "-inf",
    "1.5",
    "2",
    "99999999999999999999999999",
    "0.0000000001",
    "\"\"",
    "\"abc\"",
    "\"£1,000,000.005\"",
    "\"9e99\"",
    "\"1999/00\"",
    "\"2019/20\"",
    "\"2019/21\"",
    "\"NaN\"",
    "[]",
    "{}",
    "[1, 2]",
    "true",
    "\"amberish\"",
    "\"red\"",
    "\"fixed\"",
    "\"lognormal\"",
    "\"\\u0000\"",
];

/// Cells for monitoring tables.
const HOSTILE_CELLS: &[&str] = &[
    "",
    "-",
    "0",
    "-1",
    "1e308",
    "(1,234.56)",
    "£1,234.567",
    "abc",
    "NaN",
    "inf",
    "TOTAL",
    "99999999999999999999999999999",
    "1,2,3",
    "\"",
    "yes",
    "one-off",
    "recurring",
];

#[derive(Default)]
struct Stats {
    cases: u64,
    accepted: u64,
    rejected: u64,
    failures: Vec<(String, String)>,
    slowest: Duration,
}

fn mutate(text: &str, rng: &mut rng::Rng, cells: bool) -> String {
    let rounds = 1 + rng.random_range(0..3);
    let mut out = text.to_string();
    for _ in 0..rounds {
        out = match rng.random_range(0..6) {
            // A hostile value in place of a number or a quoted string.
            0 | 1 => {
                let spans = token_spans(&out, cells);
                if spans.is_empty() {
                    out
                } else {
                    let (a, b) = spans[rng.random_range(0..spans.len())];
                    let pool = if cells { HOSTILE_CELLS } else { HOSTILE };
                    let v = pool[rng.random_range(0..pool.len())];
                    format!("{}{}{}", &out[..a], v, &out[b..])
                }
            }
            // Delete, duplicate or swap lines.
            2 => {
                let mut lines: Vec<&str> = out.lines().collect();
                if !lines.is_empty() {
                    let i = rng.random_range(0..lines.len());
                    match rng.random_range(0..3) {
                        0 => {
                            lines.remove(i);
                        }
                        1 => lines.insert(i, lines[i]),
                        _ => {
                            let j = rng.random_range(0..lines.len());
                            lines.swap(i, j);
                        }
                    }
                }
                lines.join("\n")
            }
            // Bytes: flip, insert or remove a few (kept as UTF-8, as files are decoded).
            _ => {
                let mut bytes = out.into_bytes();
                for _ in 0..1 + rng.random_range(0..4) {
                    if bytes.is_empty() {
                        break;
                    }
                    let i = rng.random_range(0..bytes.len());
                    match rng.random_range(0..3) {
                        0 => bytes[i] = b" \n\t\"'[]{}=,.-#0123456789eE_"[rng.random_range(0..26)],
                        1 => bytes.insert(i, rng.random::<u8>() & 0x7f),
                        _ => {
                            bytes.remove(i);
                        }
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
    }
    out
}

/// Byte ranges of numbers and quoted strings (or, for CSV, of cells).
fn token_spans(text: &str, cells: bool) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if cells {
            if c != b',' && c != b'\n' {
                let start = i;
                while i < b.len() && b[i] != b',' && b[i] != b'\n' {
                    i += 1;
                }
                spans.push((start, i));
                continue;
            }
        } else if c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            spans.push((start, (i + 1).min(b.len())));
        } else if c.is_ascii_digit() || (c == b'-' && i + 1 < b.len() && b[i + 1].is_ascii_digit())
        {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b"._-+".contains(&b[i])) {
                i += 1;
            }
            spans.push((start, i));
            continue;
        }
        i += 1;
    }
    spans
}

fn finite(values: impl IntoIterator<Item = f64>) -> Result<(), String> {
    for v in values {
        if !v.is_finite() {
            return Err(format!("a result is not finite: {v}"));
        }
    }
    Ok(())
}

/// Runs one input; Ok(true) accepted, Ok(false) rejected with a message.
fn run_scenario(
    scenario: Result<Scenario, fiscalrisk::plan::PlanError>,
    seed: u64,
) -> Result<bool, String> {
    let s = match scenario {
        Ok(s) => s,
        Err(e) => return rejection(&e.to_string()),
    };
    let r = match s.simulate(16, seed, Some(1)) {
        Ok(r) => r,
        Err(e) => return rejection(&e.to_string()),
    };
    for y in r.by_year() {
        finite([
            y.gap_mean,
            y.gap_p10,
            y.gap_p50,
            y.gap_p90,
            y.gap_p95,
            y.reserves_p5,
            y.reserves_p25,
            y.reserves_p50,
            y.reserves_p75,
            y.reserves_p95,
            y.p_below_minimum,
            y.p_exhausted,
            y.minimum,
            y.one_off_reliance,
            y.underlying_gap_mean,
        ])?;
    }
    for d in r.drivers() {
        finite([d.mean, d.exhausted_mean])?;
    }
    for f in r.resilience() {
        finite([f.mean, f.p10, f.p50, f.p90, f.defined])?;
    }
    for b in r.policy_breaches() {
        finite([b.probability, b.mean_amount])?;
    }
    let _ = s.ledger();
    Ok(true)
}

fn run_register(text: &str, seed: u64) -> Result<bool, String> {
    let spec: RegisterSpec = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => return rejection(&e.to_string()),
    };
    let reg = match RiskRegister::from_spec(spec) {
        Ok(r) => r,
        Err(e) => return rejection(&e.to_string()),
    };
    let options = SimulationOptions {
        trials: 16,
        seed,
        threads: Some(1),
        keep_trials: false,
    };
    let r = match simulation::simulate(&reg, &options) {
        Ok(r) => r,
        Err(e) => return rejection(&e.to_string()),
    };
    for s in r.summary() {
        finite([s.mean, s.p50, s.p90, s.p95, s.p99, s.es95])?;
    }
    Ok(true)
}

fn run_table(text: &str, month: usize) -> Result<bool, String> {
    let table = match Table::from_csv_text(text) {
        Ok(t) => t,
        Err(e) => return rejection(&e.to_string()),
    };
    let month = (month % 14).checked_sub(1);
    match monitoring::check(&table, month, Some(&table), &Rules::default()) {
        Ok(report) => {
            let _ = report.exit_code(true);
            Ok(true)
        }
        Err(e) => rejection(&e.to_string()),
    }
}

/// A rejection must say where: every message starts with the field's path or the position in
/// the file (`risks[3].impact.high: ...`, `TOML parse error at line 4, column 9`).
fn rejection(message: &str) -> Result<bool, String> {
    if message.contains(": ") || message.contains(" line ") {
        Ok(false)
    } else {
        Err(format!("rejected without naming where: {message:?}"))
    }
}

fn main() {
    let mut cases: u64 = 10_000;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cases" => cases = args.next().and_then(|v| v.parse().ok()).expect("--cases N"),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            other => panic!("unknown argument {other}"),
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut corpus: Vec<(PathBuf, String)> = std::fs::read_dir(root.join("corpus"))
        .expect("fuzz/corpus")
        .map(|e| e.expect("a corpus entry").path())
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a corpus file");
            (p, text)
        })
        .collect();
    corpus.sort();
    // Panics are failures to record, not noise on the terminal.
    panic::set_hook(Box::new(|_| {}));
    let mut stats = Stats::default();
    let mut rng = rng::stream(seed, 0);
    let started = Instant::now();
    for case in 0..cases {
        let (path, text) = &corpus[(case % corpus.len() as u64) as usize];
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let input = mutate(text, &mut rng, ext == "csv");
        let t0 = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| match ext {
            "csv" => run_table(&input, case as usize),
            "json" => run_scenario(Scenario::from_json(&input), case),
            _ if name.starts_with("register") => run_register(&input, case),
            _ => run_scenario(Scenario::from_toml(&input), case),
        }));
        let took = t0.elapsed();
        stats.slowest = stats.slowest.max(took);
        stats.cases += 1;
        let failure = match outcome {
            Err(p) => Some(format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
            Ok(Err(e)) => Some(e),
            Ok(Ok(true)) => {
                stats.accepted += 1;
                None
            }
            Ok(Ok(false)) => {
                stats.rejected += 1;
                None
            }
        };
        let failure =
            failure.or_else(|| (took >= Duration::from_secs(1)).then(|| format!("slow: {took:?}")));
        if let Some(why) = failure {
            let dir = root.join("crashes");
            std::fs::create_dir_all(&dir).expect("fuzz/crashes");
            let out = dir.join(format!("case-{seed}-{case}.{ext}"));
            std::fs::write(&out, &input).expect("a crash file");
            eprintln!("case {case} ({name}): {why} -> {}", out.display());
            stats.failures.push((out.display().to_string(), why));
        }
        if (case + 1) % 100_000 == 0 {
            eprintln!(
                "{} cases, {:.0} s",
                case + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuzz: {} cases in {:.1} s ({:.0} per second), seed {seed}: {} accepted and run, {} rejected with an error, {} failures; slowest case {:.1} ms",
        stats.cases,
        secs,
        stats.cases as f64 / secs,
        stats.accepted,
        stats.rejected,
        stats.failures.len(),
        stats.slowest.as_secs_f64() * 1e3
    );
    if !stats.failures.is_empty() {
        std::process::exit(1);
    }
}
