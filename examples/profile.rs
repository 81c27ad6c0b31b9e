//! Times a simulation of a register file or a scenario file (one with a `[plan]` table), best
//! of 10: `cargo run --release --example profile -- FILE [TRIALS] [THREADS]`.
use std::ops::ControlFlow;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("a register or scenario file");
    let trials: u64 = args.get(2).map_or(200_000, |t| t.parse().expect("trials"));
    let threads: Option<usize> = args.get(3).map(|t| t.parse().expect("threads"));
    let opts = fiscalrisk::SimulationOptions {
        trials,
        seed: 42,
        threads,
        keep_trials: false,
    };
    let plan = text.contains("[plan]");
    let scenario =
        plan.then(|| fiscalrisk::plan::Scenario::from_toml(&text).expect("valid scenario"));
    let reg: Option<fiscalrisk::RiskRegister> =
        (!plan).then(|| toml::from_str(&text).expect("valid register"));
    let mut best = f64::INFINITY;
    for _ in 0..10 {
        let start = Instant::now();
        if let Some(s) = &scenario {
            let r = s
                .simulate_with(&opts, &mut |_, _| ControlFlow::Continue(()))
                .expect("simulation");
            assert!(r.trials() == trials);
        } else if let Some(reg) = &reg {
            let res = fiscalrisk::simulate(reg, &opts).expect("simulation");
            assert!(res.summary().iter().all(|r| r.mean.is_finite()));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let what = if plan { "plan" } else { "register" };
    println!("{what}: {trials} trials, threads {threads:?}: best of 10 {best:.4} s");
}
