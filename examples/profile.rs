//! Times a simulation of a register file, best of 10:
//! `cargo run --release --example profile -- FILE [TRIALS] [THREADS]`.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("register file");
    let reg: fiscalrisk::RiskRegister = toml::from_str(&text).expect("valid register");
    let trials: u64 = args.get(2).map_or(200_000, |t| t.parse().expect("trials"));
    let threads: Option<usize> = args.get(3).map(|t| t.parse().expect("threads"));
    let opts = fiscalrisk::SimulationOptions {
        trials,
        seed: 42,
        threads,
        keep_trials: false,
    };
    let mut best = f64::INFINITY;
    for _ in 0..10 {
        let start = Instant::now();
        let res = fiscalrisk::simulate(&reg, &opts).expect("simulation");
        best = best.min(start.elapsed().as_secs_f64());
        assert!(res.summary().iter().all(|r| r.mean.is_finite()));
    }
    println!("{trials} trials, threads {threads:?}: best of 10 {best:.3} s");
}
