//! The council's responses, compiled for the plan: a budget set every year (the council tax
//! headroom by year, and each year's new-savings capacity and delivery, exactly for the
//! ledger, at their means for the reverse stress test's central case, or drawn for the
//! simulation), and exceptional financial support (its limit, MRP and rates). The rules
//! themselves are [`super::year::Years::year`]; the inputs' meaning is
//! [`crate::budget_setting`] and [`crate::efs`].

use rust_decimal::Decimal;

use crate::budget_setting::BudgetSetting;
use crate::distribution::DistributionSpec;
use crate::money::Money;
use crate::rng;
use crate::saving::{DeliveryModel, Rag};

use super::ledger::ReservePlan;
use super::ledger::ratio;
use super::spec::{PlanError, Scenario, Setting};
use super::year::{Support, Supports, Years};

/// The largest core increase below a principle: councils set 2.99% under a 3% principle.
fn below(limit: Decimal) -> Decimal {
    limit - Decimal::new(1, 4)
}

impl Scenario {
    /// The plan's years in floats, for one trial of the simulation or the reverse stress
    /// test's central case: the management response, the statutory floor, the reserves policy,
    /// and the council's responses (a budget set every year, exceptional support) when the
    /// scenario has them. The exact ledger builds the same in decimals.
    pub(crate) fn years<'a>(&'a self, plan: &'a ReservePlan<f64>) -> Years<'a, f64> {
        let mut run = Years::new(
            plan,
            self.spec.plan.management_response,
            self.spec.policy.s114_floor.to_f64(),
            self.spec.policy.reserves_for_recurring_gaps,
        );
        if let Some(s) = &self.budget_setting {
            run = run.with_budget_setting(&s.headroom_f64);
        }
        if let Some((_, support)) = &self.support {
            run = run.with_support(support);
        }
        run
    }

    /// Compiles `[budget_setting]`, if any.
    pub(crate) fn setting(&self) -> Result<Option<Setting>, PlanError> {
        let Some(spec) = &self.spec.budget_setting else {
            return Ok(None);
        };
        let m = self.spec.plan.management_response;
        if m > 0.0 {
            return Err(PlanError::TwoResponses(m));
        }
        let rule = BudgetSetting::new(spec.clone())?;
        let delivery = rule
            .delivery()
            .cloned()
            .unwrap_or_else(|| self.models[&Rag::Amber].clone());
        let headroom = if rule.to_limit() {
            self.council_tax_headroom()?
        } else {
            vec![Decimal::ZERO; self.horizon.len() + 1]
        };
        let headroom_f64 = headroom.iter().map(|d| Money::new(*d).to_f64()).collect();
        Ok(Some(Setting {
            rule,
            delivery,
            headroom,
            headroom_f64,
        }))
    }

    /// Compiles `[efs]`, if any: the rate of a direction made in each year is the borrowing
    /// rate (`efs.borrowing_rate`, or the capital plan's central rate) plus the premium.
    pub(crate) fn support(&self) -> Result<Option<Supports>, PlanError> {
        let Some(spec) = &self.spec.efs else {
            return Ok(None);
        };
        let efs = crate::efs::Efs::new(spec.clone())?;
        if !spec.capitalise {
            return Ok(None);
        }
        let years = self.horizon.len();
        let base: Vec<Decimal> = match (spec.borrowing_rate, &self.capital) {
            (Some(r), _) => vec![ratio(r); years],
            (None, Some(c)) => c.central_borrowing_rate(),
            (None, None) => return Err(crate::efs::EfsError::NoRate.into()),
        };
        let rate: Vec<Decimal> = base
            .iter()
            .enumerate()
            .map(|(y, r)| r + ratio(efs.premium_for(self.horizon.first().offset(y as u32))))
            .collect();
        let n = spec.mrp_years as usize;
        let exact = Support {
            limit: spec.limit.map(Money::decimal),
            share: Decimal::ONE / Decimal::from(spec.mrp_years),
            years: n,
            rate,
        };
        let float = Support {
            limit: spec.limit.map(Money::to_f64),
            share: 1.0 / f64::from(spec.mrp_years),
            years: n,
            rate: exact.rate.iter().map(|r| Money::new(*r).to_f64()).collect(),
        };
        Ok(Some((exact, float)))
    }

    /// By year, one more than the plan's: the council tax a budget adds by raising the year's
    /// increase to the largest lawful one (one basis point below the core principle, plus the
    /// social care precept allowed), on the previous year's Band D and the year's tax base, at
    /// the collection rate. No headroom in the first year (its budget is the plan's), in a year
    /// with no principle, or where the plan already rises further (a dispensation). Later
    /// years' percentages apply to the planned Band D: the compounding of an earlier extra rise
    /// is left out.
    fn council_tax_headroom(&self) -> Result<Vec<Decimal>, PlanError> {
        let years = self.horizon.len();
        let spec = self
            .spec
            .funding
            .as_ref()
            .and_then(|f| f.council_tax.as_ref())
            .ok_or(PlanError::NoCouncilTax)?;
        let rows = self.council_tax();
        let collection = ratio(spec.collection_rate);
        let mut out = vec![Decimal::ZERO; years + 1];
        for y in 1..years {
            let (row, before) = (&rows[y], &rows[y - 1]);
            let Some(threshold) = row.threshold else {
                continue;
            };
            let flag = self.funded().and_then(|f| f.flags.get(y));
            // A budget set every year takes the whole social care allowance in each year from
            // the second, so what carries across years (2019/20's 6%, 2021/22's deferral) is
            // what those budgets left, not what the plan's own precepts left.
            let mut threshold = threshold.decimal();
            if let (Some(p), None) = (
                crate::referendum::principle(spec.authority_class, &row.year),
                spec.referendum_limits.get(&row.year),
            ) {
                let taken = |label: &str| -> Option<Decimal> {
                    match rows.iter().position(|r| r.year == label) {
                        Some(0) => Some(rows[0].asc_precept.decimal()),
                        Some(k) => rows[k].asc_limit.map(Money::decimal),
                        None => spec
                            .asc_precept_before
                            .get(label)
                            .map(|x| crate::funding::fraction(*x)),
                    }
                };
                let table: Decimal = p.asc.parse().unwrap_or_default();
                let core: Decimal = p.core.parse().unwrap_or_default();
                threshold = core
                    + crate::referendum::asc_allowance(&row.year, table, &taken)
                    + flag.map_or(Decimal::ZERO, |f| f.additional);
            }
            // The largest lawful rise: a basis point below the total threshold, or a district's
            // £ alternative on the year before's Band D when that is more.
            let pounds = flag.and_then(|f| f.pounds);
            let mut largest = below(threshold);
            if let Some(p) = pounds
                && before.band_d.decimal() > Decimal::ZERO
            {
                largest = largest.max(p / before.band_d.decimal());
            }
            let planned = row.core_increase.decimal() + row.asc_precept.decimal();
            let rise = (largest - planned).max(Decimal::ZERO);
            out[y] =
                (row.tax_base.decimal() * before.band_d.decimal() * rise * collection).round_dp(2);
        }
        out[years] = out[years - 1];
        Ok(out)
    }

    /// The net budget of the year a budget is set for: year `y + 1` (the last year's for the
    /// year after the plan).
    fn next_budget(&self, y: usize) -> Money {
        self.net_budget[(y + 1).min(self.horizon.len() - 1)]
    }

    /// Exactly, for the ledger: by year, the new savings the next budget can close and the
    /// fractions of the year's new savings delivered in the year and lasting. Errors name an
    /// input that is uncertain.
    pub(crate) fn exact_setting(
        &self,
        s: &Setting,
    ) -> Result<Vec<(Decimal, Decimal, Decimal)>, PlanError> {
        let share = match &s.rule.spec().new_savings_capacity.0 {
            DistributionSpec::Fixed { value } => value.decimal(),
            _ => {
                return Err(PlanError::Uncertain {
                    what: "budget_setting.new_savings_capacity".into(),
                    why: "a distribution".into(),
                });
            }
        };
        let m = s.delivery.spec();
        let certain = |x: f64| x == 0.0 || x == 1.0;
        if !certain(m.p_slip) || !certain(m.p_full) {
            return Err(PlanError::Uncertain {
                what: "budget_setting.new_savings_delivery".into(),
                why: format!(
                    "p_full {:?} and p_slip {:?}, not 0 or 1 (the default is the amber model)",
                    m.p_full, m.p_slip
                ),
            });
        }
        let fraction = match (m.p_full == 1.0, &m.partial) {
            (true, _) => Decimal::ONE,
            (false, DistributionSpec::Fixed { value }) => value.decimal(),
            (false, _) => {
                return Err(PlanError::Uncertain {
                    what: "budget_setting.new_savings_delivery.partial".into(),
                    why: "not a fixed fraction".into(),
                });
            }
        };
        let due = if m.p_slip == 1.0 {
            Decimal::ZERO
        } else {
            fraction
        };
        Ok((0..self.horizon.len())
            .map(|y| (share * self.next_budget(y).decimal(), due, fraction))
            .collect())
    }

    /// At their means, for the reverse stress test's central case.
    pub(crate) fn central_setting(&self, s: &Setting) -> Vec<(f64, f64, f64)> {
        let share = s.rule.capacity().mean();
        let m: &DeliveryModel = &s.delivery;
        (0..self.horizon.len())
            .map(|y| {
                (
                    share * self.next_budget(y).to_f64(),
                    m.expected_fraction_in_due_year(),
                    m.expected_fraction_when_not_slipped(),
                )
            })
            .collect()
    }

    /// Drawn for `n` trials of batch `batch` (`[trial * years + year]`), from the budget
    /// setting's own stream: each trial's years in order, the capacity's share (when it is a
    /// distribution) and, from the second year, the year's new savings' delivery.
    pub(crate) fn drawn_setting(
        &self,
        s: &Setting,
        seed: u64,
        batch: u64,
        n: usize,
    ) -> Vec<(f64, f64, f64)> {
        let years = self.horizon.len();
        let mut rng = rng::component(seed, batch, super::engine::stream::BUDGET_SETTING);
        let budgets: Vec<f64> = (0..years).map(|y| self.next_budget(y).to_f64()).collect();
        let fixed = match &s.rule.spec().new_savings_capacity.0 {
            DistributionSpec::Fixed { value } => Some(value.to_f64()),
            _ => None,
        };
        let mut out = Vec::with_capacity(n * years);
        for _ in 0..n {
            for (y, budget) in budgets.iter().enumerate() {
                let share = fixed.unwrap_or_else(|| s.rule.capacity().draw(&mut rng));
                let (due, lasting) = if y == 0 {
                    (1.0, 1.0)
                } else {
                    let (slipped, fraction) = s.delivery.draw(&mut rng);
                    (if slipped { 0.0 } else { fraction }, fraction)
                };
                out.push((share * budget, due, lasting));
            }
        }
        out
    }
}
