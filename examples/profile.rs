//! Times one simulation of a register file: `cargo run --release --example profile -- FILE TRIALS THREADS`.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("register file");
    let reg: fiscalrisk::RiskRegister = toml::from_str(&text).expect("valid register");
    let trials: u64 = args.get(2).map_or(200_000, |t| t.parse().expect("trials"));
    let threads: Option<usize> = args.get(3).map(|t| t.parse().expect("threads"));
    for _ in 0..3 {
        let start = Instant::now();
        let opts = fiscalrisk::SimulationOptions {
            trials,
            seed: 42,
            threads,
            keep_trials: false,
        };
        let res = fiscalrisk::simulate(&reg, &opts).expect("simulation");
        let total = res.summary().pop().expect("total row");
        println!(
            "{:.3} s  mean {:.0}  p95 {:.0}",
            start.elapsed().as_secs_f64(),
            total.mean,
            total.p95
        );
    }
}
