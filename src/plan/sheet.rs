//! The balance sheet items that fall on the general fund: provisions (see
//! [`crate::provision`]), the DSG deficit (see [`crate::dsg`]) and the collection fund (see
//! [`crate::collection_fund`]), compiled for a plan, and each trial's effect on its years: a
//! one-off part and a recurring part of each year's gap, and what each year's end knows falls
//! on the next budget (the statutory test's deficit brought forward). The exact ledger, the
//! simulation and the reverse stress test's central case all take them from here.

use rust_decimal::Decimal;

use crate::amount::Amount;
use crate::collection_fund::{self, CollectionFund};
use crate::dsg::{self, Dsg};
use crate::money::Money;
use crate::provision::{self, Provision};
use crate::rng::Rng;

use super::spec::{PlanError, ScenarioSpec};
use crate::period::Horizon;

/// A series [`crate::plan::PlanResult::provisions_by_year`] and `by_year` report, by kind.
pub(crate) const PROVISION_CHARGE: &str = "provision_charge";
pub(crate) const PROVISION_PAYMENTS: &str = "provision_payments";
pub(crate) const PROVISION_BALANCE: &str = "provision_balance";
pub(crate) const DSG_DEFICIT: &str = "dsg_deficit";
pub(crate) const DSG_INTEREST: &str = "dsg_interest";
pub(crate) const COLLECTION_FUND: &str = "collection_fund";

/// The balance sheet items of a scenario, compiled.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sheet {
    pub(crate) provisions: Vec<Provision>,
    pub(crate) dsg: Option<Dsg>,
    pub(crate) collection_fund: Option<CollectionFund>,
}

/// One trial's (or the exact ledger's) effect of the balance sheet on the plan's years.
#[derive(Debug, Clone)]
pub(crate) struct SheetYears<T> {
    /// By year: the one-off part of the gap (provisions' charges, the DSG deficit left when
    /// the override ends, collection fund deficits falling on the year).
    pub(crate) one_off: Vec<T>,
    /// By year: the recurring part (DSG interest; the DSG's own deficit after the override).
    pub(crate) recurring: Vec<T>,
    /// By year: what the year's end knows falls on the next budget.
    pub(crate) falling: Vec<T>,
    /// By year, at its start: the cash the balance sheet holds (provisions' balances) less the
    /// cash it has spent ahead (the DSG deficit), for treasury cash.
    pub(crate) held: Vec<T>,
    /// The reported series, `[series * years + year]`, in the order of [`Sheet::series`].
    pub(crate) series: Vec<T>,
}

/// A trial's draws.
pub(crate) struct Draws<T> {
    /// `[provision][year]`: what is recognised (the year's charge).
    pub(crate) recognised: Vec<Vec<T>>,
    /// By year: what is added to the DSG deficit.
    pub(crate) dsg: Vec<T>,
    /// Whether government clears its share of the DSG deficit.
    pub(crate) cleared: bool,
    /// The collection fund: the deficit brought forward, then each plan year's.
    pub(crate) arising: Vec<T>,
}

impl Sheet {
    /// Compiles the scenario's balance sheet items (an empty sheet without any).
    pub(crate) fn compile(spec: &ScenarioSpec, horizon: &Horizon) -> Result<Sheet, PlanError> {
        let years = horizon.len();
        let mut provisions = Vec::with_capacity(spec.provisions.len());
        for (i, p) in spec.provisions.iter().enumerate() {
            let compiled = p.compile(i, years)?;
            if let Some(first) = provisions
                .iter()
                .position(|q: &Provision| q.name.eq_ignore_ascii_case(&compiled.name))
            {
                return Err(provision::ProvisionError::Name {
                    index: i,
                    name: p.name.clone(),
                    why: format!("is already the name of provisions[{first}]"),
                }
                .into());
            }
            provisions.push(compiled);
        }
        Ok(Sheet {
            provisions,
            dsg: spec.dsg.as_ref().map(|d| d.compile(horizon)).transpose()?,
            collection_fund: spec
                .collection_fund
                .as_ref()
                .map(|c| c.compile(years))
                .transpose()?,
        })
    }

    /// Whether there is anything on it.
    pub(crate) fn is_empty(&self) -> bool {
        self.provisions.is_empty() && self.dsg.is_none() && self.collection_fund.is_none()
    }

    /// How many series [`Sheet::series`] names, without naming them (a trial's count).
    pub(crate) fn series_count(&self) -> usize {
        3 * self.provisions.len()
            + 2 * usize::from(self.dsg.is_some())
            + usize::from(self.collection_fund.is_some())
    }

    /// The reported series, each as (kind, name), in order: each provision's charge and
    /// payments and closing balance, the DSG deficit and its interest, the collection fund's charge.
    pub(crate) fn series(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in &self.provisions {
            out.push((PROVISION_CHARGE.to_string(), p.name.clone()));
            out.push((PROVISION_PAYMENTS.to_string(), p.name.clone()));
            out.push((PROVISION_BALANCE.to_string(), p.name.clone()));
        }
        if self.dsg.is_some() {
            out.push((DSG_DEFICIT.to_string(), String::new()));
            out.push((DSG_INTEREST.to_string(), String::new()));
        }
        if self.collection_fund.is_some() {
            out.push((COLLECTION_FUND.to_string(), String::new()));
        }
        out
    }

    /// The effect of one trial's draws on the plan's `years`, with the DSG's rule and the
    /// collection fund's split for the number type.
    pub(crate) fn years<T: Amount>(
        &self,
        years: usize,
        draws: &Draws<T>,
        dsg_rule: Option<&dsg::Rule<T>>,
        part: impl Fn(T, usize) -> T,
        payments: impl Fn(Money) -> T,
        opening: impl Fn(Money) -> T,
    ) -> SheetYears<T> {
        let mut out = SheetYears {
            one_off: vec![T::ZERO; years],
            recurring: vec![T::ZERO; years],
            falling: vec![T::ZERO; years],
            held: vec![T::ZERO; years],
            series: Vec::with_capacity(self.series_count() * years),
        };
        for (p, recognised) in self.provisions.iter().zip(&draws.recognised) {
            let paid: Vec<T> = p.payments.iter().map(|m| payments(*m)).collect();
            let rows = provision::ledger(opening(p.opening), recognised, &paid);
            for (v, r) in out.one_off.iter_mut().zip(&rows) {
                *v += r.0;
            }
            for y in 0..years {
                out.held[y] += if y == 0 {
                    opening(p.opening)
                } else {
                    rows[y - 1].2
                };
            }
            out.series.extend(rows.iter().map(|r| r.0));
            out.series.extend(rows.iter().map(|r| r.1));
            out.series.extend(rows.iter().map(|r| r.2));
        }
        if let Some(rule) = dsg_rule {
            let rows = dsg::ledger(rule, &draws.dsg, draws.cleared);
            for y in 0..years {
                out.held[y] -= if y == 0 {
                    rule.opening
                } else {
                    rows[y - 1].deficit
                };
            }
            for (y, r) in rows.iter().enumerate() {
                out.one_off[y] += r.one_off;
                out.recurring[y] += r.recurring + r.interest;
                out.falling[y] += r.falling;
            }
            out.series.extend(rows.iter().map(|r| r.deficit));
            out.series.extend(rows.iter().map(|r| r.interest));
        }
        if let Some(c) = &self.collection_fund {
            let falls = collection_fund::charges(&draws.arising, c.spread, part);
            for y in 0..years {
                out.one_off[y] += falls[y];
                out.falling[y] += falls[y + 1];
            }
            out.series.extend(falls.iter().take(years).copied());
        }
        out
    }

    /// The exact effect, for a sheet with nothing uncertain. Errors name the first uncertain
    /// input.
    pub(crate) fn exact(&self, years: usize) -> Result<SheetYears<Decimal>, PlanError> {
        let uncertain = |what: String| PlanError::Uncertain {
            what,
            why: "not a fixed amount".into(),
        };
        let mut recognised = Vec::new();
        for (i, p) in self.provisions.iter().enumerate() {
            let fixed = p
                .fixed
                .as_ref()
                .ok_or_else(|| uncertain(format!("provisions[{i}].recognised")))?;
            recognised.push(fixed.iter().map(|m| m.decimal()).collect());
        }
        let (mut dsg, mut cleared) = (Vec::new(), false);
        if let Some(d) = &self.dsg {
            dsg = d
                .fixed
                .as_ref()
                .ok_or_else(|| uncertain("dsg.in_year".into()))?
                .iter()
                .map(|m| m.decimal())
                .collect();
            if d.rule.write_off.is_some() {
                if d.probability != 0.0 && d.probability != 1.0 {
                    return Err(PlanError::Uncertain {
                        what: "dsg.write_off.probability".into(),
                        why: format!("{:?} is not 0 or 1", d.probability),
                    });
                }
                cleared = d.probability == 1.0;
            }
        }
        let mut arising = Vec::new();
        if let Some(c) = &self.collection_fund {
            arising.push(c.brought_forward.decimal());
            arising.extend(
                c.fixed
                    .as_ref()
                    .ok_or_else(|| uncertain("collection_fund".into()))?,
            );
        }
        let spread = self.collection_fund.as_ref().map_or(1, |c| c.spread);
        Ok(self.years(
            years,
            &Draws {
                recognised,
                dsg,
                cleared,
                arising,
            },
            self.dsg.as_ref().map(|d| &d.exact),
            |x, i| collection_fund::exact_part(x, spread, i),
            |m| m.decimal(),
            |m| m.decimal(),
        ))
    }

    /// One trial's draws, on the balance sheet's own stream: each provision's years, the DSG's
    /// years and whether its write-off happens, the collection fund's years.
    pub(crate) fn draw(&self, years: usize, rng: &mut Rng) -> Draws<f64> {
        let recognised = self
            .provisions
            .iter()
            .map(|p| {
                p.recognised
                    .iter()
                    .map(|(d, times)| d.draw(rng) * f64::from(*times))
                    .collect()
            })
            .collect();
        let (mut dsg, mut cleared) = (Vec::new(), false);
        if let Some(d) = &self.dsg {
            dsg = d.in_year.iter().map(|x| x.draw(rng)).collect();
            if d.rule.write_off.is_some() {
                cleared = rand::RngExt::random::<f64>(rng) < d.probability;
            }
        }
        let mut arising = Vec::new();
        if let Some(c) = &self.collection_fund {
            arising.push(c.brought_forward.to_f64());
            arising
                .extend((0..years).map(|y| c.arising[y].iter().map(|d| d.draw(rng)).sum::<f64>()));
        }
        Draws {
            recognised,
            dsg,
            cleared,
            arising,
        }
    }

    /// The central case: every amount at its mean, the DSG's write-off weighted by its
    /// probability.
    pub(crate) fn central(&self, years: usize) -> SheetYears<f64> {
        let mean = |cleared: bool| {
            let draws = Draws {
                recognised: self
                    .provisions
                    .iter()
                    .map(|p| {
                        p.recognised
                            .iter()
                            .map(|(d, t)| d.mean() * f64::from(*t))
                            .collect()
                    })
                    .collect(),
                dsg: self
                    .dsg
                    .as_ref()
                    .map(|d| d.in_year.iter().map(|x| x.mean()).collect())
                    .unwrap_or_default(),
                cleared,
                arising: self
                    .collection_fund
                    .as_ref()
                    .map(|c| {
                        std::iter::once(c.brought_forward.to_f64())
                            .chain(c.arising.iter().map(|ds| ds.iter().map(|d| d.mean()).sum()))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            self.float_years(years, &draws)
        };
        let p = self.dsg.as_ref().map_or(0.0, |d| d.probability);
        let (with, without) = (mean(true), mean(false));
        let mix = |a: &[f64], b: &[f64]| -> Vec<f64> {
            a.iter()
                .zip(b)
                .map(|(x, y)| p * x + (1.0 - p) * y)
                .collect()
        };
        SheetYears {
            one_off: mix(&with.one_off, &without.one_off),
            recurring: mix(&with.recurring, &without.recurring),
            falling: mix(&with.falling, &without.falling),
            held: mix(&with.held, &without.held),
            series: mix(&with.series, &without.series),
        }
    }

    /// The effect of drawn (or mean) amounts, in floats.
    pub(crate) fn float_years(&self, years: usize, draws: &Draws<f64>) -> SheetYears<f64> {
        let spread = self.collection_fund.as_ref().map_or(1, |c| c.spread) as f64;
        self.years(
            years,
            draws,
            self.dsg.as_ref().map(|d| &d.rule),
            |x, _| x / spread,
            |m| m.to_f64(),
            |m| m.to_f64(),
        )
    }
}
