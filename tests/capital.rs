//! Capital financing against closed forms, hand calculations and published figures.

use fiscalrisk::capital::{Mrp, mrp_schedule};
use fiscalrisk::plan::{Case, Scenario};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn money(s: &str) -> fiscalrisk::Money {
    fiscalrisk::Money::from_str(s).unwrap()
}

fn scenario(text: &str) -> Scenario {
    Scenario::from_toml(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn straight_line_mrp_is_equal_parts() {
    // £10m over 5 years: £2m a year, then nothing.
    let s = mrp_schedule(&Mrp::StraightLine { years: 5 }, d("10000000"), 8);
    assert_eq!(&s[..5], &[d("2000000"); 5]);
    assert!(s[5..].iter().all(|x| x.is_zero()));
}

#[test]
fn annuity_mrp_matches_the_closed_form_and_the_level_payment() {
    // £10m over 25 years at 5%: year k's MRP is A r (1+r)^(k-1) / ((1+r)^n - 1); with interest
    // on the balance, the payment is level at A r / (1 - (1+r)^-n).
    let (a, r, n) = (10e6_f64, 0.05_f64, 25);
    let s = mrp_schedule(&Mrp::Annuity { years: n, rate: r }, d("10000000"), 30);
    let level = a * r / (1.0 - (1.0 + r).powi(-(n as i32)));
    let mut balance = a;
    for (k, m) in s.iter().enumerate().take(n as usize) {
        let m = m.to_f64().unwrap();
        let closed = a * r * (1.0 + r).powi(k as i32) / ((1.0 + r).powi(n as i32) - 1.0);
        assert!((m - closed).abs() < 1e-6, "year {k}: {m} against {closed}");
        assert!((m + r * balance - level).abs() < 1e-6, "year {k}");
        balance -= m;
    }
    let total: Decimal = s.iter().sum();
    assert!((total - d("10000000")).abs() < d("0.000001"), "{total}");
    assert!(s[n as usize..].iter().all(|x| x.is_zero()));
}

#[test]
fn fixed_mrp_stops_when_repaid() {
    let s = mrp_schedule(
        &Mrp::Fixed {
            amount: money("4000000"),
        },
        d("10000000"),
        4,
    );
    assert_eq!(s, vec![d("4000000"), d("4000000"), d("2000000"), d("0")]);
}

const PLAN: &str = "[plan]\nname = \"c\"\nfirst_year = \"2024/25\"\nyears = 3\nnet_budget = [500e6, 500e6, 500e6]\n[reserves]\ngeneral_fund = 100e6\n";

#[test]
fn the_cfr_rolls_forward_to_the_penny() {
    // Opening CFR £100m at 50 years straight-line (£2m a year); a £12.5m depot in 2024/25, £2.5m
    // of it from a grant, the rest borrowed over 4 years from 2025/26 (£2.5m a year).
    // 2024/25: 100 + 10 - 2 = 108; 2025/26: 108 - 2 - 2.5 = 103.5; 2026/27: 99.
    let s = scenario(&format!(
        "{PLAN}[capital]\nopening_cfr = 100e6\nopening_debt = 80e6\ndebt_rate = 0.04\nborrowing_rate = 0.05\n\
         mrp = {{ method = \"straight_line\", years = 50 }}\n\
         [[capital.programme]]\nname = \"Depot\"\nspend = {{ \"2024/25\" = 12.5e6 }}\ngrants = {{ \"2024/25\" = 2.5e6 }}\n\
         mrp = {{ method = \"straight_line\", years = 4 }}\n"
    ));
    let c = s.capital();
    let cfr: Vec<_> = c.iter().map(|r| r.cfr_end).collect();
    assert_eq!(
        cfr,
        vec![
            money("108000000.00"),
            money("103500000.00"),
            money("99000000.00")
        ]
    );
    assert_eq!(c[0].borrowing, money("10000000.00"));
    // Interest: the opening debt at 4% on what the opening CFR's MRP has not repaid (80m, 78m,
    // 76m); the depot's 10m at 5% from 2025/26 on its balance at the year's start (10m, 7.5m).
    assert_eq!(c[0].interest, money("3200000.00"));
    assert_eq!(c[1].interest, money("3620000.00"));
    assert_eq!(c[2].interest, money("3415000.00"));
    // Debt moves with the CFR: 80 + 10 - 2 = 88.
    assert_eq!(c[0].debt_end, money("88000000.00"));
    // With nothing budgeted, the whole cost enters the gap: MRP + interest.
    assert_eq!(c[1].gap_effect, money("8120000.00"));
    let ledger = s.ledger().unwrap();
    assert_eq!(ledger[1].gap, money("8120000.00"));
    let mtfs = s.mtfs(Case::Central).unwrap();
    assert_eq!(mtfs[1].capital_financing, money("8120000.00"));
    assert_eq!(mtfs[1].gap_after_savings, money("8120000.00"));
}

fn birmingham(extra: &str) -> Scenario {
    // The capitalisation direction "in principle" of 29 February 2024 (letter from the
    // Minister for Local Government to the Leader of Birmingham City Council, as reported by
    // Local Government Lawyer, "Government 'minded to' give Birmingham £1.2bn capitalisation
    // direction", 29 February 2024): £1,255.1m, of which £288.4m in 2020/21, £109.5m in
    // 2021/22, £172.2m in 2022/23 and £685.0m in 2024/25. MRP over 20 years; interest at an
    // assumed 4.5% borrowing rate plus a one-point premium (ASSUMPTION: the rates).
    scenario(&format!(
        "[plan]\nname = \"EFS\"\nfirst_year = \"2020/21\"\nyears = 7\nnet_budget = [1000e6, 1000e6, 1000e6, 1000e6, 1000e6, 1000e6, 1000e6]\n\
         [reserves]\ngeneral_fund = 100e6\n\
         [capital]\nopening_cfr = 0\nopening_debt = 0\ndebt_rate = 0.045\nborrowing_rate = 0.045\n\
         mrp = {{ method = \"straight_line\", years = 50 }}\n{extra}\
         [[capital.directions]]\nname = \"Exceptional financial support\"\n\
         amount = {{ \"2020/21\" = 288.4e6, \"2021/22\" = 109.5e6, \"2022/23\" = 172.2e6, \"2024/25\" = 685.0e6 }}\n\
         premium = 0.01\n"
    ))
}

#[test]
fn birminghams_capitalisation_direction_costs_62_755m_a_year_plus_interest() {
    let s = birmingham("");
    let c = s.capital();
    let total: Decimal = c.iter().map(|r| r.capitalised.decimal()).sum();
    assert_eq!(total, d("1255100000"));
    // From 2025/26, every tranche is being repaid: £1,255.1m / 20 = £62.755m a year.
    assert_eq!(c[5].mrp, money("62755000.00"));
    assert_eq!(c[6].mrp, money("62755000.00"));
    // Interest at 5.5% on what is outstanding at the start of 2025/26: 1,255.1m less the MRP
    // already paid (288.4m/20 x 4 + 109.5m/20 x 3 + 172.2m/20 x 2 = 91.325m): 1,163.775m.
    assert_eq!(c[5].interest, money("64007625.00"));
    assert_eq!(c[5].financing_cost, money("126762625.00"));
    // The direction funds each year's gap when it is made, and its cost lands in later years.
    assert_eq!(
        c[4].gap_effect.decimal(),
        c[4].financing_cost.decimal() - d("685000000")
    );
    // 2026/27: the same MRP, and 5.5% on 1,163.775m - 62.755m = 1,101.02m: 60.5561m.
    assert_eq!(c[6].interest, money("60556100.00"));
    assert_eq!(c[6].gap_effect, money("123311100.00"));
}

#[test]
fn mrp_below_the_stated_policy_is_flagged() {
    let text = format!(
        "{PLAN}[capital]\nopening_cfr = 100e6\nopening_debt = 100e6\ndebt_rate = 0.04\nborrowing_rate = 0.05\n\
         mrp = {{ method = \"straight_line\", years = 25 }}\nmrp_charged = {{ \"2024/25\" = 1e6 }}\n\
         authorised_limit = 101e6\noperational_boundary = 99e6\n"
    );
    let s = scenario(&text);
    let c = s.capital();
    // The policy requires 100m / 25 = 4m; 1m is charged in 2024/25.
    assert!(c[0].mrp_below_policy);
    assert_eq!(c[0].mrp, money("1000000.00"));
    assert_eq!(c[0].mrp_required, money("4000000.00"));
    assert!(!c[1].mrp_below_policy);
    let p = s.prudential_indicators();
    assert!(p[0].mrp_below_policy);
    // Debt 100m - 1m = 99m: at the boundary, not above; then 95m.
    assert_eq!(p[0].above_operational_boundary, Some(false));
    assert_eq!(p[0].above_authorised_limit, Some(false));
    // Financing costs: 1m MRP + 4m interest over 500m = 1%.
    assert_eq!(p[0].financing_costs_to_net_revenue, Some(money("0.01")));
    assert_eq!(p[0].debt_to_net_revenue, Some(money("0.198")));
    assert!(!p[0].debt_above_cfr);
}

#[test]
fn lost_commercial_income_moves_the_gap_by_exactly_the_loss() {
    // £10m of rent a year; a tenant default (a risk of the register, certain here) loses £4m a
    // year from 2025/26. The gap moves by exactly the lost income.
    let base = format!(
        "{PLAN}[capital]\nopening_cfr = 50e6\nopening_debt = 50e6\ndebt_rate = 0.04\nborrowing_rate = 0.05\n\
         mrp = {{ method = \"straight_line\", years = 50 }}\n\
         [[capital.commercial]]\nname = \"Investment property\"\nincome = 10e6\n"
    );
    let risk = "[[risks]]\nid = \"tenant_default\"\nname = \"Anchor tenant defaults\"\nprobability = 1.0\n\
                impact = { dist = \"fixed\", value = 4e6 }\nrecurring = true\nprofile = { \"2025/26\" = 1.0 }\ncategory = \"commercial\"\n";
    let without = scenario(&base).ledger().unwrap();
    let with = scenario(&format!("{base}{risk}")).ledger().unwrap();
    let change: Vec<Decimal> = with
        .iter()
        .zip(&without)
        .map(|(a, b)| a.gap.decimal() - b.gap.decimal())
        .collect();
    assert_eq!(change, vec![d("0"), d("4000000"), d("4000000")]);
}

#[test]
fn a_capital_scenario_round_trips_and_simulates_on_the_same_gap() {
    let s = birmingham("budgeted = { \"2025/26\" = 50e6 }\n");
    let again = scenario(&s.to_toml().unwrap());
    assert_eq!(s, again);
    assert_eq!(s.capital(), again.capital());
    let exact = s.mtfs(Case::Central).unwrap();
    let r = s.simulate(1_000, 1, None).unwrap();
    for (row, y) in exact.iter().zip(r.by_year()) {
        assert!(
            (y.gap_mean - row.gap_after_savings.to_f64()).abs() < 1e-3,
            "{}",
            row.year
        );
    }
    // The budgeted £50m comes off 2025/26's cost.
    assert_eq!(
        s.capital()[5].gap_effect.decimal(),
        s.capital()[5].financing_cost.decimal() - d("50000000")
    );
}

#[test]
fn bad_capital_input_is_refused_with_its_key_path() {
    let head = format!(
        "{PLAN}[capital]\nopening_cfr = 100e6\nopening_debt = 80e6\ndebt_rate = 0.04\nborrowing_rate = 0.05\n"
    );
    let cases = [
        (
            format!("{head}mrp = {{ method = \"straight_line\", years = 0 }}\n"),
            "capital.mrp.years: 0 is not between 1 and 250",
        ),
        (
            format!(
                "{head}mrp = {{ method = \"straight_line\", years = 50 }}\n[[capital.programme]]\nname = \"X\"\nspend = {{ \"2024/25\" = 1e6 }}\ngrants = {{ \"2024/25\" = 2e6 }}\nmrp = {{ method = \"straight_line\", years = 5 }}\n"
            ),
            "capital.programme[0]: in 2024/25 grants, receipts and revenue finance 1000000 more than the spend",
        ),
        (
            format!(
                "{head}mrp = {{ method = \"straight_line\", years = 50 }}\n[[capital.directions]]\nname = \"E\"\namount = {{ \"2031/32\" = 1e6 }}\n"
            ),
            "capital.directions[0].amount.\"2031/32\"",
        ),
        (
            format!("{head}mrp = {{ method = \"annuity\", years = 20, rate = 1.5 }}\n"),
            "capital.mrp.rate: 1.5 is not a yearly rate",
        ),
        (
            format!(
                "{head}mrp = {{ method = \"straight_line\", years = 50 }}\nmrp_charged = {{ \"2024/25\" = -1 }}\n"
            ),
            "capital.mrp_charged.\"2024/25\": -1.00 is negative",
        ),
    ];
    for (text, expected) in cases {
        let e = Scenario::from_toml(&text).unwrap_err().to_string();
        assert!(e.contains(expected), "{e}\nexpected: {expected}");
    }
}

#[test]
fn the_forward_resilience_view_gains_the_debt_measures() {
    let s = birmingham("");
    let r = s.simulate(1_000, 1, None).unwrap();
    let c = s.capital();
    let rows = r.resilience();
    for (y, row) in c.iter().enumerate() {
        let debt = rows
            .iter()
            .find(|f| f.indicator == "gross_debt_to_nre" && f.year == row.year)
            .unwrap();
        // Gross debt at the year's end over the net revenue stream (1,000m), the same in every
        // trial.
        let expected = row.debt_end.to_f64() / 1000e6;
        assert_eq!(
            (debt.p10, debt.p90, debt.defined),
            (debt.p50, debt.p50, 1.0)
        );
        assert!((debt.p50 - expected).abs() < 1e-15, "{y}");
        let financing = rows
            .iter()
            .find(|f| f.indicator == "capital_financing_to_nre" && f.year == row.year)
            .unwrap();
        assert!(
            (financing.p50 - (row.mrp.to_f64() + row.interest.to_f64()) / 1000e6).abs() < 1e-15
        );
    }
    // 2025/26: 1,163.775m of debt is 1.16 times the net revenue stream.
    assert_eq!(
        r.probability_below("gross_debt_to_nre", 1.2, "2025/26")
            .unwrap(),
        1.0
    );
    assert_eq!(
        r.probability_below("gross_debt_to_nre", 1.1, "2025/26")
            .unwrap(),
        0.0
    );
    // A result without capital has none of them.
    let plain = scenario(PLAN).simulate(1_000, 1, None).unwrap();
    assert!(
        !plain
            .resilience()
            .iter()
            .any(|f| f.indicator == "gross_debt_to_nre")
    );
}
