//! A mergeable, deterministic quantile sketch with bounded memory.
//!
//! Values are grouped into logarithmic buckets: the bucket of a positive `x` is its float's
//! exponent and top [`MANTISSA_BITS`] mantissa bits, so a bucket spans a relative width of
//! `2^-10` (0.098%). While a simulation runs, each bucket keeps its count, minimum and maximum
//! (and the sketch the sum of all its values); a finished result keeps less
//! ([`Sketch::compact`]):
//!
//! * each bucket's count;
//! * the exact value of a bucket whose values are all equal (an atom, such as the cost of a
//!   fixed impact, or zero when nothing happens), reported exactly;
//! * the exact minimum, maximum and sum (so the mean) of all the values.
//!
//! Any other quantile is interpolated between the bounds of one bucket: a relative error of at
//! most `2^-10`, under 0.1% of the value and far inside the Monte Carlo error of any run.
//! Memory depends on the spread of the values, not on the number of trials, and a compact
//! sketch stores in about three bytes a bucket (its keys and counts as base64 varints).
//!
//! Sketches merge by adding bucket statistics. While an engine runs, each thread counts its
//! batches' values into its own [`Bank`] per sketch (counts, minima and maxima, which do not
//! depend on order), and each batch's count and sum travel up the run's fixed merge tree
//! ([`Sketch::tally`]); the banks are merged at the end ([`Banks::fill_on`], [`Sketch::fill`]).
//! Every result is therefore the same on any number of threads, and (since 0.4.1) bit for bit
//! what sorting each batch's sketch and merging them up the tree gave.

use serde::{Deserialize, Serialize};

/// Mantissa bits that name a bucket: part of the reproducibility contract (since 0.2.0 it is
/// 10; 0.1.0 used 12, with buckets a quarter as wide and four times as many).
pub const MANTISSA_BITS: u32 = 10;
/// Where a value's bits are cut to make its key.
const SHIFT: u32 = 52 - MANTISSA_BITS;
/// The largest key of a finite value, plus one.
const KEY_LIMIT: i64 = (0x7FF << MANTISSA_BITS) + 1;

/// Statistics of the values in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Bucket key (ordered like the values).
    pub key: i64,
    /// How many values.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

/// The bucket key of `x`: monotone in `x`, 0 for zero.
#[inline]
pub fn key(x: f64) -> i64 {
    if x == 0.0 {
        return 0;
    }
    let k = (x.abs().to_bits() >> SHIFT) as i64 + 1;
    if x > 0.0 { k } else { -k }
}

/// The range of values with key `key`: from the first (included) to the first of the next
/// bucket (excluded); `(0, 0)` for key 0.
pub fn bounds(key: i64) -> (f64, f64) {
    if key == 0 {
        return (0.0, 0.0);
    }
    let k = key.unsigned_abs() - 1;
    let lo = f64::from_bits(k << SHIFT);
    let hi = f64::from_bits((k + 1) << SHIFT);
    if key > 0 { (lo, hi) } else { (-hi, -lo) }
}
/// Maps a float to an integer with the same order (`-0.0` just below `0.0`), so that slices of
/// floats sort as plain integers: several times faster than comparing floats with a closure.
#[inline]
pub fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// The inverse of [`ordered_bits`].
#[inline]
pub fn from_ordered_bits(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Sorts floats ascending (NaN never reaches it).
pub fn sort_floats(values: &mut [f64]) {
    let mut keys: Vec<u64> = values.iter().map(|&x| ordered_bits(x)).collect();
    keys.sort_unstable();
    for (v, k) in values.iter_mut().zip(keys) {
        *v = from_ordered_bits(k);
    }
}

/// A quantile sketch: buckets in key order. It serialises compacted (see [`Sketch::compact`]),
/// its keys and counts as base64 varints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "Stored", try_from = "Stored")]
pub struct Sketch {
    buckets: Vec<Bucket>,
    count: u64,
    /// The sum of all the values.
    sum: f64,
}

/// The serialised form of a [`Sketch`]: what [`Sketch::compact`] keeps.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// [`MANTISSA_BITS`] when it was written.
    bits: u32,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    /// The first key (zigzag), then each key's step from the one before, as varints.
    keys: String,
    /// Each bucket's count, as varints.
    counts: String,
    /// `(bucket position, value)` of the buckets whose values are all equal.
    atoms: Vec<(u64, f64)>,
}

impl From<Sketch> for Stored {
    fn from(s: Sketch) -> Stored {
        let b = &s.buckets;
        let mut keys = Vec::with_capacity(2 * b.len());
        let mut counts = Vec::with_capacity(2 * b.len());
        let mut previous = None;
        let mut atoms = Vec::new();
        for (i, bucket) in b.iter().enumerate() {
            match previous {
                None => varint::put(&mut keys, varint::zigzag(bucket.key)),
                Some(p) => varint::put(&mut keys, (bucket.key - p) as u64),
            }
            previous = Some(bucket.key);
            varint::put(&mut counts, bucket.count);
            if is_atom(bucket) {
                atoms.push((i as u64, bucket.min));
            }
        }
        Stored {
            bits: MANTISSA_BITS,
            count: s.count,
            sum: s.sum,
            min: b.first().map_or(0.0, |b| b.min),
            max: b.last().map_or(0.0, |b| b.max),
            keys: base64::encode(&keys),
            counts: base64::encode(&counts),
            atoms,
        }
    }
}

/// A bucket that holds one value (however many times), other than 0: its value is kept.
fn is_atom(b: &Bucket) -> bool {
    b.key != 0 && b.count >= 2 && b.min == b.max
}

impl TryFrom<Stored> for Sketch {
    type Error = String;
    fn try_from(s: Stored) -> Result<Sketch, String> {
        if s.bits != MANTISSA_BITS {
            return Err(format!(
                "a sketch with buckets of {} mantissa bits (this version of fiscalrisk uses {MANTISSA_BITS}): simulate again",
                s.bits
            ));
        }
        let keys = base64::decode(&s.keys).ok_or("a sketch's keys are not base64")?;
        let counts = base64::decode(&s.counts).ok_or("a sketch's counts are not base64")?;
        let mut key_list = Vec::new();
        let mut at = 0;
        while at < keys.len() {
            let v = varint::get(&keys, &mut at).ok_or("a sketch's keys are cut short")?;
            let k = match key_list.last() {
                None => varint::unzigzag(v),
                Some(&p) => {
                    if v == 0 || v > (2 * KEY_LIMIT) as u64 {
                        return Err("a sketch's keys are not increasing".into());
                    }
                    p + v as i64
                }
            };
            if k.abs() >= KEY_LIMIT {
                return Err(format!("a sketch's key {k} is beyond the finite numbers"));
            }
            key_list.push(k);
        }
        let mut count_list = Vec::with_capacity(key_list.len());
        let mut at = 0;
        while at < counts.len() {
            let c = varint::get(&counts, &mut at).ok_or("a sketch's counts are cut short")?;
            if c == 0 {
                return Err("a sketch's bucket holds no values".into());
            }
            count_list.push(c);
        }
        if count_list.len() != key_list.len() {
            return Err(format!(
                "a sketch has {} keys and {} counts",
                key_list.len(),
                count_list.len()
            ));
        }
        let total = count_list
            .iter()
            .try_fold(0u64, |a, &c| a.checked_add(c))
            .ok_or("a sketch's counts overflow")?;
        if total != s.count {
            return Err(format!(
                "a sketch's buckets hold {total} values, not its count {}",
                s.count
            ));
        }
        if !(s.min.is_finite() && s.max.is_finite() && s.sum.is_finite()) || s.min > s.max {
            return Err("a sketch's minimum, maximum or sum is not a finite number".into());
        }
        if let (Some(&first), Some(&last)) = (key_list.first(), key_list.last())
            && (key(s.min) != first || key(s.max) != last)
        {
            return Err("a sketch's minimum or maximum is not in its first or last bucket".into());
        }
        let mut atoms = s.atoms.iter().peekable();
        let mut buckets = Vec::with_capacity(key_list.len());
        for (i, (&k, &c)) in key_list.iter().zip(&count_list).enumerate() {
            let atom = match atoms.peek() {
                Some(&&(at, v)) if at == i as u64 => {
                    atoms.next();
                    if key(v) != k || !v.is_finite() {
                        return Err(format!("a sketch's atom {v} is not in its bucket"));
                    }
                    Some(v)
                }
                _ => None,
            };
            buckets.push(compact_bucket(k, c, atom, s.min, s.max));
        }
        if atoms.next().is_some() {
            return Err("a sketch's atoms are not in bucket order".into());
        }
        Ok(Sketch {
            buckets,
            count: s.count,
            sum: s.sum,
        })
    }
}

/// A bucket as a compact sketch holds it: an atom's value, or the values spread evenly over
/// its bounds, within the sketch's exact minimum and maximum.
fn compact_bucket(key: i64, count: u64, atom: Option<f64>, min: f64, max: f64) -> Bucket {
    let (lo, hi) = match atom {
        Some(v) => (v, v),
        None => {
            let (lo, hi) = bounds(key);
            (lo.max(min), hi.min(max))
        }
    };
    Bucket {
        key,
        count,
        sum: count as f64 * (0.5 * lo + 0.5 * hi),
        min: lo,
        max: hi,
    }
}

/// Unsigned LEB128 varints, and zigzag for the first (signed) key.
mod varint {
    pub(super) fn put(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub(super) fn get(bytes: &[u8], at: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *bytes.get(*at)?;
            *at += 1;
            v |= u64::from(b & 0x7F).checked_shl(shift)?;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    pub(super) fn zigzag(k: i64) -> u64 {
        ((k << 1) ^ (k >> 63)) as u64
    }

    pub(super) fn unzigzag(v: u64) -> i64 {
        ((v >> 1) as i64) ^ -((v & 1) as i64)
    }
}

/// Standard base64 with padding (RFC 4648), for the sketch's bytes in JSON.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub(super) fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        let t = text.as_bytes();
        if !t.len().is_multiple_of(4) {
            return None;
        }
        let mut table = [u8::MAX; 256];
        for (i, &a) in ALPHABET.iter().enumerate() {
            table[a as usize] = i as u8;
        }
        let value = |c: u8| (table[c as usize] != u8::MAX).then(|| u32::from(table[c as usize]));
        let mut out = Vec::with_capacity(t.len() / 4 * 3);
        for (q, chunk) in t.chunks(4).enumerate() {
            let last = q + 1 == t.len() / 4;
            let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return None;
            }
            let mut n = 0u32;
            for &c in &chunk[..4 - pad] {
                n = (n << 6) | value(c)?;
            }
            n <<= 6 * pad as u32;
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..3 - pad]);
        }
        Some(out)
    }
}

impl Sketch {
    /// The sketch of `values` (NaN never reaches it). The values are grouped by bucket with a
    /// stable radix sort of their keys, so each bucket's sum is taken in the values' order.
    /// The engines no longer build sketches this way (see [`Bank`]); it is the reference their
    /// banks are tested against.
    pub fn from_values(values: &[f64]) -> Sketch {
        let n = values.len();
        // Keys offset to be non-negative: below 2^23.
        let keys: Vec<u32> = values
            .iter()
            .map(|&x| (key(x) + KEY_LIMIT) as u32)
            .collect();
        let varying = keys.iter().fold(0, |acc, &k| acc | (k ^ keys[0]));
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut spare = vec![0u32; n];
        for shift in [0, 8, 16] {
            if (varying >> shift) & 0xFF == 0 {
                continue;
            }
            let mut at = [0usize; 257];
            for &k in &keys {
                at[((k >> shift) & 0xFF) as usize + 1] += 1;
            }
            for d in 1..257 {
                at[d] += at[d - 1];
            }
            for &i in &order {
                let d = ((keys[i as usize] >> shift) & 0xFF) as usize;
                spare[at[d]] = i;
                at[d] += 1;
            }
            std::mem::swap(&mut order, &mut spare);
        }
        let mut buckets: Vec<Bucket> = Vec::new();
        for &i in &order {
            let x = values[i as usize];
            let k = keys[i as usize] as i64 - KEY_LIMIT;
            match buckets.last_mut() {
                Some(b) if b.key == k => {
                    b.count += 1;
                    b.sum += x;
                    b.min = b.min.min(x);
                    b.max = b.max.max(x);
                }
                _ => buckets.push(Bucket {
                    key: k,
                    count: 1,
                    sum: x,
                    min: x,
                    max: x,
                }),
            }
        }
        Sketch {
            sum: values.iter().sum(),
            buckets,
            count: n as u64,
        }
    }

    /// The count and sum of `values`, without buckets: a batch's share of a sketch whose
    /// buckets are gathered in [`Banks`] (see [`Sketch::fill`]). Merged in the run's fixed
    /// tree, it keeps the sum in the same order as [`Sketch::from_values`] would.
    pub fn tally(values: &[f64]) -> Sketch {
        Sketch::tallied(values.len() as u64, values.iter().sum())
    }

    /// [`Sketch::tally`] of `count` values whose sum (`Iterator::sum`, in order) is known.
    pub fn tallied(count: u64, sum: f64) -> Sketch {
        Sketch {
            buckets: Vec::new(),
            count,
            sum,
        }
    }

    /// Gives a tallied sketch (see [`Sketch::tally`]) the buckets of `banks` taken together
    /// (one bank, or each thread's), which counted the same values. Its quantiles are then
    /// those of [`Sketch::from_values`] over them, and so is its [`Sketch::compact`] form, bit
    /// for bit.
    pub fn fill(&mut self, banks: &[&Bank]) {
        self.buckets = Bank::buckets(banks);
        debug_assert_eq!(
            self.buckets.iter().map(|b| b.count).sum::<u64>(),
            self.count
        );
    }

    /// The sketch a finished result keeps: each bucket's count, the value of each atom (a
    /// bucket whose values are all equal), and the exact minimum, maximum and sum; any other
    /// bucket's values are taken as spread evenly over its bounds. It is what a stored sketch
    /// reads back as, so a result answers the same before and after a round trip.
    pub fn compact(&self) -> Sketch {
        let mut c = self.clone();
        c.make_compact();
        c
    }

    /// Makes this sketch its [`Sketch::compact`] form, in place (no new buckets are
    /// allocated: a run's sketches are compacted where they were filled).
    ///
    /// # Examples
    ///
    /// ```
    /// use fiscalrisk::simulation::sketch::Sketch;
    /// // Three values of 1.0 (an atom) and 1,000 values evenly spread from 2.0 to 2.999.
    /// let values: Vec<f64> = [1.0; 3]
    ///     .into_iter()
    ///     .chain((0..1_000).map(|i| 2.0 + i as f64 / 1_000.0))
    ///     .collect();
    /// let mut s = Sketch::from_values(&values);
    /// s.make_compact();
    /// assert_eq!(s, Sketch::from_values(&values).compact());
    /// // The atom and the extremes stay exact; the median (the 502nd smallest of 1,003,
    /// // 2.498) is within 2^-10 of its value.
    /// assert_eq!(s.quantile(0.001), 1.0);
    /// assert_eq!(s.quantile(1.0), 2.999);
    /// assert!((s.quantile(0.5) - 2.498).abs() <= 2.498 / 1024.0);
    /// ```
    pub fn make_compact(&mut self) {
        let (min, max) = match (self.buckets.first(), self.buckets.last()) {
            (Some(f), Some(l)) => (f.min, l.max),
            _ => return,
        };
        for b in &mut self.buckets {
            *b = compact_bucket(b.key, b.count, is_atom(b).then_some(b.min), min, max);
        }
    }

    /// Makes each of `sketches` its compact form (see [`Sketch::make_compact`]), shared out
    /// among `pool`'s threads: the end of a run, where the sketches it filled become the
    /// ones its result keeps.
    pub fn compact_on(pool: &rayon::ThreadPool, mut sketches: Vec<&mut Sketch>) {
        use rayon::prelude::*;
        pool.install(|| sketches.par_iter_mut().for_each(|s| s.make_compact()));
    }

    /// Adds `other` into `self`. Merging in a fixed order gives the same sums every time.
    pub fn merge(&mut self, other: &Sketch) {
        let mut out = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.buckets, &other.buckets);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].key < b[j].key) {
                out.push(a[i]);
                i += 1;
            } else if i == a.len() || b[j].key < a[i].key {
                out.push(b[j]);
                j += 1;
            } else {
                out.push(Bucket {
                    key: a[i].key,
                    count: a[i].count + b[j].count,
                    sum: a[i].sum + b[j].sum,
                    min: a[i].min.min(b[j].min),
                    max: a[i].max.max(b[j].max),
                });
                i += 1;
                j += 1;
            }
        }
        self.buckets = out;
        self.count += other.count;
        self.sum += other.sum;
    }

    /// The mean of the values (0 when there are none).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum / self.count as f64
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of buckets in use.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether it holds no values.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The value of 1-based rank `k` (clamped to `1..=count`), interpolated within its bucket.
    pub fn value_at_rank(&self, k: u64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let k = k.clamp(1, self.count);
        // The extremes are exact.
        if k == 1 {
            return self.buckets[0].min;
        }
        if k == self.count {
            return self.buckets[self.buckets.len() - 1].max;
        }
        let mut before = 0;
        for b in &self.buckets {
            if before + b.count >= k {
                if b.min == b.max {
                    return b.min;
                }
                if b.count == 1 {
                    return 0.5 * b.min + 0.5 * b.max;
                }
                let t = (k - before - 1) as f64 / (b.count - 1) as f64;
                return b.min + t * (b.max - b.min);
            }
            before += b.count;
        }
        self.buckets.last().map_or(0.0, |b| b.max)
    }

    /// The smallest value in the bucket holding rank `k` (clamped to `1..=count`): exact, and
    /// at most the value of rank `k`.
    pub fn bucket_min_at_rank(&self, k: u64) -> f64 {
        let k = k.clamp(1, self.count.max(1));
        let mut before = 0;
        for b in &self.buckets {
            if before + b.count >= k {
                return b.min;
            }
            before += b.count;
        }
        0.0
    }

    /// The `p` quantile as the inverse of the empirical cdf (numpy's `inverted_cdf`): the value
    /// of rank `ceil(p n)`.
    pub fn quantile(&self, p: f64) -> f64 {
        let n = self.count as f64;
        self.value_at_rank((p * n).ceil() as u64)
    }

    /// The fraction of values strictly above `x`.
    pub fn exceedance(&self, x: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let mut above = 0.0;
        for b in self.buckets.iter().rev() {
            if b.min > x {
                above += b.count as f64;
            } else if b.max > x {
                // Values spread evenly from min (not above x) to max (above x); one value
                // alone sits at the middle.
                if b.count == 1 {
                    above += f64::from(u8::from(0.5 * b.min + 0.5 * b.max > x));
                } else {
                    let frac = (x - b.min) / (b.max - b.min);
                    let at_or_below = 1 + (frac * (b.count - 1) as f64).floor() as u64;
                    above += (b.count - at_or_below.min(b.count - 1)) as f64;
                }
                break;
            } else {
                break;
            }
        }
        above / self.count as f64
    }

    /// The mean of the largest `m` values (interpolated within the last bucket it reaches).
    pub fn mean_of_largest(&self, m: u64) -> f64 {
        let m = m.clamp(1, self.count.max(1));
        let mut taken = 0u64;
        let mut sum = 0.0;
        for b in self.buckets.iter().rev() {
            let need = m - taken;
            if b.count <= need {
                sum += b.sum;
                taken += b.count;
            } else {
                // The top `need` of values spread evenly from min to max.
                let step = if b.count > 1 {
                    (b.max - b.min) / (b.count - 1) as f64
                } else {
                    0.0
                };
                sum += need as f64 * b.max - step * (need * (need - 1)) as f64 / 2.0;
                taken += need;
            }
            if taken == m {
                break;
            }
        }
        if taken == 0 { 0.0 } else { sum / taken as f64 }
    }
}

/// Keys in a page of a [`Bank`]: one binade (one float exponent) of buckets.
const PAGE: usize = 1 << MANTISSA_BITS;
/// Pages a [`Bank`] can hold: every exponent, for each sign.
const PAGES: usize = 2 << 11;

/// Bucket counts and extremes gathered value by value, without sorting: a page of
/// 1,024 (`PAGE`) buckets is opened for each binade the values reach, and a value is counted into its
/// bucket where it falls. Counts, minima and maxima do not depend on the order in which values
/// arrive, so each thread of a run keeps one bank per sketch for all the batches it runs (see
/// [`Banks`]), and the banks merge into the same buckets on any number of threads. A bank keeps
/// no sums of its buckets: a finished result has none either (see [`Sketch::compact`]); the
/// sum of all the values travels with the [`Sketch`] it fills (see [`Sketch::tally`]).
#[derive(Debug, Clone)]
pub struct Bank {
    /// `slot[page]`: 1 + which page of `cells` it is, or 0 when not opened.
    slot: Vec<u16>,
    /// Which page each run of [`PAGE`] cells (after the first, the zeros') is.
    pages: Vec<u16>,
    /// The zeros' count, then each bucket's count, minimum and maximum, a page at a time.
    cells: Vec<Cell>,
    /// Whether any zero was `-0.0`, and any `+0.0`.
    negative_zero: bool,
    positive_zero: bool,
    /// Each value's cell, for [`Bank::count`].
    scratch: Vec<u32>,
    /// Values added and not yet counted (see [`Bank::add`]), and how many may wait.
    pending: Vec<f64>,
    limit: usize,
}

impl Default for Bank {
    fn default() -> Bank {
        Bank {
            slot: vec![0; PAGES],
            pages: Vec::new(),
            cells: vec![Cell::EMPTY],
            negative_zero: false,
            positive_zero: false,
            scratch: Vec::new(),
            pending: Vec::new(),
            limit: 0,
        }
    }
}

impl Bank {
    /// Opens page `page`; returns its slot (1-based).
    #[cold]
    fn open(&mut self, page: usize) -> usize {
        self.pages.push(page as u16);
        self.slot[page] = self.pages.len() as u16;
        self.cells.resize(self.cells.len() + PAGE, Cell::EMPTY);
        self.pages.len()
    }

    /// Counts `values` (NaN never reaches it), at least `limit` values at a time (see
    /// [`Bank::with_limit`]): they wait in the bank until there are that many (or until
    /// [`Bank::flush`]).
    pub fn add(&mut self, values: &[f64]) {
        if self.pending.is_empty() && values.len() >= self.limit {
            self.count(values);
            return;
        }
        self.pending.extend_from_slice(values);
        if self.pending.len() >= self.limit {
            self.flush();
        }
    }

    /// A bank that gathers `limit` values before it counts them, so that the cache lines of
    /// its cells, cold again after each batch's sampling, are fetched once for several
    /// batches' values instead of once for each; at the cost of `8 * limit` bytes.
    pub fn with_limit(limit: usize) -> Bank {
        Bank {
            limit,
            ..Bank::default()
        }
    }

    /// The bank emptied, its pages kept open (an open page with no values gives no buckets).
    fn clear(&mut self) {
        self.cells.fill(Cell::EMPTY);
        self.negative_zero = false;
        self.positive_zero = false;
        self.pending.clear();
    }

    /// Bytes the bank holds in memory: its open pages' cells (not the capacity beyond them,
    /// which its growth by doubling reserves but nothing writes, so the kernel never maps it)
    /// and its buffers.
    fn bytes(&self) -> usize {
        self.cells.len() * std::mem::size_of::<Cell>()
            + self.pending.capacity() * 8
            + self.scratch.capacity() * 4
            + self.slot.capacity() * 2
    }

    /// Counts the values waiting in the bank.
    pub fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.count(&pending);
        self.pending = pending;
        self.pending.clear();
    }

    /// Counts `values`. First each value's cell, then the counts and extremes: the second
    /// loop's updates do not wait on each other, so the cache misses of a wide sketch overlap.
    fn count(&mut self, values: &[f64]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for &x in values {
            let bits = x.to_bits();
            let magnitude = bits & !(1 << 63);
            self.negative_zero |= bits == 1 << 63;
            self.positive_zero |= bits == 0;
            // |key| - 1 (see [`key`]): the exponent and the top mantissa bits.
            let u = (magnitude >> SHIFT) as usize;
            let page = (u >> MANTISSA_BITS) | (((bits >> 63) as usize) << 11);
            let mut s = self.slot[page] as usize;
            if s == 0 && magnitude != 0 {
                s = self.open(page);
            }
            let cell = 1 + (s.max(1) - 1) * PAGE + (u & (PAGE - 1));
            scratch.push(if magnitude == 0 { 0 } else { cell as u32 });
        }
        for (&x, &i) in values.iter().zip(&scratch) {
            let c = &mut self.cells[i as usize];
            c.count += 1;
            c.min = c.min.min(x);
            c.max = c.max.max(x);
        }
        self.scratch = scratch;
    }

    /// The buckets of `banks` taken together, in key order, each with its count and
    /// extremes, and as its sum the count times its midpoint (what [`Sketch::compact`] would
    /// make of it). Counts add and extremes are extremes, so the order of the banks does not
    /// matter.
    fn buckets(banks: &[&Bank]) -> Vec<Bucket> {
        assert!(
            banks.iter().all(|b| b.pending.is_empty()),
            "a bank is flushed before it is read"
        );
        // Every page any bank opened, in page order: positives by exponent, then negatives.
        let mut pages: Vec<usize> = banks
            .iter()
            .flat_map(|b| b.pages.iter().map(|&p| p as usize))
            .collect();
        pages.sort_unstable();
        pages.dedup();
        // A page's cells, taken together over the banks that opened it, into `page_cells`
        // (one pass over each bank's page, in cell order); then its buckets, in key order.
        let mut page_cells = vec![Cell::EMPTY; PAGE];
        let mut add_page = |out: &mut Vec<Bucket>, page: usize| {
            let mut first = true;
            for b in banks {
                let Some(s) = b.slot[page].checked_sub(1) else {
                    continue;
                };
                let cells = &b.cells[1 + s as usize * PAGE..1 + (s as usize + 1) * PAGE];
                if first {
                    page_cells.copy_from_slice(cells);
                    first = false;
                } else {
                    for (c, x) in page_cells.iter_mut().zip(cells) {
                        c.count += x.count;
                        c.min = c.min.min(x.min);
                        c.max = c.max.max(x.max);
                    }
                }
            }
            let bucket = |d: usize, c: &Cell| {
                let k = ((page & 2047) * PAGE + d) as i64 + 1;
                Bucket {
                    key: if page >= 2048 { -k } else { k },
                    count: c.count,
                    sum: c.count as f64 * (0.5 * c.min + 0.5 * c.max),
                    min: c.min,
                    max: c.max,
                }
            };
            let used = page_cells.iter().enumerate().filter(|(_, c)| c.count > 0);
            if page >= 2048 {
                // Negative values: the largest magnitude (the most negative key) first.
                out.extend(used.rev().map(|(d, c)| bucket(d, c)));
            } else {
                out.extend(used.map(|(d, c)| bucket(d, c)));
            }
        };
        let split = pages.partition_point(|&p| p < 2048);
        let mut out = Vec::new();
        for &p in pages[split..].iter().rev() {
            add_page(&mut out, p);
        }
        let zeros: u64 = banks.iter().map(|b| b.cells[0].count).sum();
        if zeros > 0 {
            let (negative, positive) = (
                banks.iter().any(|b| b.negative_zero),
                banks.iter().any(|b| b.positive_zero),
            );
            out.push(Bucket {
                key: 0,
                count: zeros,
                sum: 0.0,
                min: if negative { -0.0 } else { 0.0 },
                max: if positive { 0.0 } else { -0.0 },
            });
        }
        for &p in &pages[..split] {
            add_page(&mut out, p);
        }
        out
    }
}

/// A bucket of a [`Bank`].
#[derive(Debug, Clone, Copy)]
struct Cell {
    count: u64,
    min: f64,
    max: f64,
}

impl Cell {
    const EMPTY: Cell = Cell {
        count: 0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };
}

/// Most bytes of banks that [`Banks::recycle`] keeps between runs.
pub const KEPT_BYTES: usize = 8 << 20;

/// Banks kept between runs (see [`Banks::recycle`]).
static KEPT: std::sync::Mutex<Vec<Bank>> = std::sync::Mutex::new(Vec::new());

/// One [`Bank`] per sketch for each thread of a pool: a batch counts its values into the
/// banks of the thread it runs on (see [`Banks::with`]), and [`Banks::fill_on`] merges the
/// threads' banks, which gives the same buckets whatever the number of threads.
#[derive(Debug)]
pub struct Banks {
    threads: Vec<std::sync::Mutex<Vec<Bank>>>,
    /// Values each bank gathers before it counts them (see [`Bank::with_limit`]).
    pending: usize,
}

impl Banks {
    /// Banks for a pool of `threads` threads, each gathering `pending` values before it
    /// counts them (see [`Bank::with_limit`]; 0 counts each batch's values at once).
    pub fn new(threads: usize, pending: usize) -> Banks {
        Banks {
            threads: (0..threads.max(1))
                .map(|_| std::sync::Mutex::new(Vec::new()))
                .collect(),
            pending,
        }
    }

    /// Calls `f` with the banks of the thread it runs on, at least `sketches` of them (an
    /// earlier run's, emptied, where [`Banks::recycle`] kept some).
    pub fn with<R>(&self, sketches: usize, f: impl FnOnce(&mut [Bank]) -> R) -> R {
        let t = rayon::current_thread_index().unwrap_or(0) % self.threads.len();
        let mut banks = self.threads[t].lock().unwrap_or_else(|e| e.into_inner());
        if banks.len() < sketches {
            let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
            // A kept bank is emptied here, by the thread that will count into it, not at the
            // end of the run that kept it, on the thread that ends the run.
            banks.resize_with(sketches, || match kept.pop() {
                Some(mut bank) => {
                    bank.clear();
                    Bank {
                        limit: self.pending,
                        ..bank
                    }
                }
                None => Bank::with_limit(self.pending),
            });
        }
        f(&mut banks)
    }

    /// Keeps the banks for the next run's (at most [`KEPT_BYTES`] of them), which empties
    /// them (see [`Banks::with`]): a bank's pages, new, are faulted in from the kernel as
    /// values reach them, about 400 times in a 200,000-trial register run on one thread. An
    /// emptied bank counts as a new one.
    pub fn recycle(self) {
        let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
        let mut bytes: usize = kept.iter().map(Bank::bytes).sum();
        for banks in self.threads {
            for bank in banks.into_inner().unwrap_or_else(|e| e.into_inner()) {
                if bytes + bank.bytes() <= KEPT_BYTES {
                    bytes += bank.bytes();
                    kept.push(bank);
                }
            }
        }
    }

    /// Fills each `(k, sketch)` of `sketches` (see [`Sketch::fill`]) from every thread's
    /// `k`-th bank, once the values still waiting in them are counted. The sketches are
    /// shared out among `pool`'s threads; a sketch's buckets do not depend on the order of
    /// the banks. A run's batches are over when it is called: it holds every thread's banks
    /// meanwhile.
    pub fn fill_on(&self, pool: &rayon::ThreadPool, sketches: Vec<(usize, &mut Sketch)>) {
        use rayon::prelude::*;
        let mut held: Vec<_> = self
            .threads
            .iter()
            .map(|t| t.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        // Each sketch's banks, one from each thread that has one.
        let mut by_sketch: Vec<Vec<&mut Bank>> = Vec::new();
        for banks in held.iter_mut() {
            for (k, bank) in banks.iter_mut().enumerate() {
                if by_sketch.len() <= k {
                    by_sketch.resize_with(k + 1, Vec::new);
                }
                by_sketch[k].push(bank);
            }
        }
        let work: Vec<(&mut Sketch, Vec<&mut Bank>)> = sketches
            .into_iter()
            .map(|(k, sketch)| {
                let banks = by_sketch.get_mut(k).map(std::mem::take);
                (sketch, banks.unwrap_or_default())
            })
            .collect();
        pool.install(|| {
            work.into_par_iter().for_each(|(sketch, mut banks)| {
                banks.iter_mut().for_each(|b| b.flush());
                let banks: Vec<&Bank> = banks.into_iter().map(|b| &*b).collect();
                sketch.fill(&banks);
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each bucket's key, count and extremes' bits, to compare buckets exactly.
    fn bits(buckets: &[Bucket]) -> Vec<(i64, u64, u64, u64)> {
        buckets
            .iter()
            .map(|b| (b.key, b.count, b.min.to_bits(), b.max.to_bits()))
            .collect()
    }

    /// Uniforms in [0, 1) from a 64-bit linear congruential generator seeded with `seed`.
    fn uniforms(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn a_batch_sketch_is_the_merge_of_its_values_one_by_one() {
        // Narrow, wide, with zeros, negatives and repeats:
        // the same buckets, counts, extremes and bit-identical sums as merging each value in
        // turn.
        let mut next = uniforms(7);
        let narrow: Vec<f64> = (0..4096).map(|_| 8.1e8 + 2e6 * next()).collect();
        let wide: Vec<f64> = (0..4096)
            .map(|i| match i % 7 {
                0 => 0.0,
                1 => -3e6 * next(),
                2 => 4.5e6,
                _ => 1e9 * next().powi(3),
            })
            .collect();
        for values in [narrow, wide, vec![1.5; 10], vec![-2.0]] {
            let fast = Sketch::from_values(&values);
            let mut slow = Sketch::default();
            for x in &values {
                slow.merge(&Sketch::from_values(&[*x]));
            }
            assert_eq!(fast.buckets, slow.buckets);
            assert_eq!(fast.count, slow.count);
        }
    }

    #[test]
    fn banks_give_the_buckets_of_a_sorted_sketch_on_any_number_of_threads() {
        // Values over many binades of both signs, zeros, subnormals and repeats, counted in
        // chunks on banks of 1, 2 and 3 threads, at once or gathered 2,500 at a time (so that
        // some wait until the banks are gathered): the same keys, counts and extremes as
        // `from_values` over all of them, and the same compact sketch, bit for bit, as merging
        // each chunk's sketch in turn.
        let mut next = uniforms(11);
        let values: Vec<f64> = (0..20_000)
            .map(|i| match i % 9 {
                0 => 0.0,
                1 => -3e6 * next(),
                2 => 4.5e6,
                3 => 1e-310 * next(),
                4 => -1e12 * next().powi(5),
                _ => 1e9 * next().powi(3),
            })
            .collect();
        let sorted = Sketch::from_values(&values);
        for (threads, pending) in [(1, 0), (2, 0), (3, 0), (1, 2500), (2, 2500), (3, 2500)] {
            let banks = Banks::new(threads, pending);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (mut tallied, mut merged) = (Sketch::default(), Sketch::default());
            for chunk in values.chunks(1000) {
                tallied.merge(&Sketch::tally(chunk));
                merged.merge(&Sketch::from_values(chunk));
                pool.install(|| banks.with(2, |b| b[1].add(chunk)));
            }
            let mut untouched = Sketch::default();
            banks.fill_on(&pool, vec![(0, &mut untouched), (1, &mut tallied)]);
            assert!(untouched.buckets.is_empty());
            assert_eq!(bits(&tallied.buckets), bits(&sorted.buckets));
            assert_eq!(tallied.count, sorted.count);
            // What the engines did before banks: each chunk's sketch merged in turn.
            assert_eq!(tallied.compact(), merged.compact());
            for q in [0.0, 0.05, 0.5, 0.95, 1.0] {
                assert_eq!(tallied.quantile(q), sorted.quantile(q));
            }
        }
    }

    #[test]
    fn banks_that_opened_different_pages_give_one_banks_buckets() {
        // Three banks, each with binades (pages) of both signs that only it opened, and
        // binades that all opened: their buckets together are one bank's over all the
        // values, whichever bank is read first.
        let mut next = uniforms(23);
        let parts: Vec<Vec<f64>> = [(1e3, -1e9), (1e6, -1e3), (1e9, -1e6)]
            .iter()
            .map(|&(own, own_negative)| {
                (0..4_000)
                    .map(|i| match i % 4 {
                        0 => own * (1.0 + next()),
                        1 => own_negative * (1.0 + next()),
                        2 => 5e4 * (1.0 + next()),
                        _ => -5e4 * (1.0 + next()),
                    })
                    .collect()
            })
            .collect();
        let bank = |values: &[f64]| {
            let mut b = Bank::with_limit(0);
            b.add(values);
            b
        };
        let all = bank(&parts.concat());
        let banks: Vec<Bank> = parts.iter().map(|p| bank(p)).collect();
        let expected = bits(&Bank::buckets(&[&all]));
        assert!(expected.iter().any(|b| b.0 < 0) && expected.iter().any(|b| b.0 > 0));
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let read: Vec<&Bank> = order.iter().map(|&k| &banks[k]).collect();
            assert_eq!(bits(&Bank::buckets(&read)), expected);
        }
    }

    #[test]
    fn an_emptied_bank_counts_as_a_new_one() {
        // A bank that counted values over many binades of both signs, with zeros of both
        // signs, then emptied (as `Banks::with` empties a kept one), counts other values (fewer
        // binades, only +0.0) into the buckets a new bank gives them: no count, extreme or
        // zero's sign is left over, and its open pages with no values give no buckets.
        let mut next = uniforms(5);
        let first: Vec<f64> = (0..5_000)
            .map(|i| match i % 5 {
                0 => -0.0,
                1 => -1e9 * next(),
                2 => 1e-3 * next(),
                _ => 1e12 * next().powi(4),
            })
            .collect();
        let second: Vec<f64> = (0..3_000)
            .map(|i| if i % 10 == 0 { 0.0 } else { 2e6 + 1e5 * next() })
            .collect();
        let mut used = Bank::with_limit(1_000);
        used.add(&first);
        used.flush();
        used.clear();
        used.add(&second);
        used.flush();
        let mut new = Bank::with_limit(1_000);
        new.add(&second);
        new.flush();
        assert!(used.pages.len() > new.pages.len());
        assert_eq!(
            bits(&Bank::buckets(&[&used])),
            bits(&Bank::buckets(&[&new]))
        );
        let sorted = Sketch::from_values(&second);
        let mut filled = Sketch::tally(&second);
        filled.fill(&[&used]);
        assert_eq!(filled.compact(), sorted.compact());
    }

    #[test]
    fn ordered_bits_sort_like_floats() {
        let mut xs = vec![
            3.5,
            -0.0,
            0.0,
            -1e300,
            1e-300,
            -2.0,
            f64::MAX,
            -f64::MAX,
            7.0,
            -7.0,
        ];
        let mut expected = xs.clone();
        expected.sort_by(f64::total_cmp);
        sort_floats(&mut xs);
        assert_eq!(
            xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            expected.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn keys_are_monotone() {
        let xs = [-1e9, -3.0, -1e-3, 0.0, 1e-300, 1.0, 1.0001, 2.0, 1e12];
        for w in xs.windows(2) {
            assert!(key(w[0]) <= key(w[1]), "{w:?}");
        }
        assert_eq!(key(-0.0), 0);
    }

    #[test]
    fn atoms_are_exact_and_quantiles_close() {
        // 1..=10000 and an atom of 5000 zeros.
        let mut v: Vec<f64> = (1..=10_000).map(f64::from).collect();
        v.extend(std::iter::repeat_n(0.0, 5000));
        let mut exact = v.clone();
        exact.sort_by(f64::total_cmp);
        let s = Sketch::from_values(&v);
        assert_eq!(s.quantile(0.2), 0.0);
        for p in [0.34, 0.5, 0.9, 0.95, 0.999] {
            let k = (p * exact.len() as f64).ceil() as usize;
            let truth = exact[k - 1];
            assert!(
                (s.quantile(p) - truth).abs() <= truth * 2f64.powi(-(MANTISSA_BITS as i32)),
                "{p}: {} vs {truth}",
                s.quantile(p)
            );
        }
        assert!((s.exceedance(9000.0) - 1000.0 / 15000.0).abs() < 1e-3);
        let top: f64 = exact[exact.len() - 750..].iter().sum::<f64>() / 750.0;
        assert!((s.mean_of_largest(750) - top).abs() < 1e-3 * top);
    }

    #[test]
    fn merging_equals_building_at_once() {
        let a: Vec<f64> = (0..500).map(|i| (i as f64).sqrt() * 1e6).collect();
        let b: Vec<f64> = (0..700).map(|i| (i as f64) * 3e3 - 1e5).collect();
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let mut merged = Sketch::from_values(&a);
        merged.merge(&Sketch::from_values(&b));
        let whole = Sketch::from_values(&all);
        assert_eq!(merged.count(), whole.count());
        for p in [0.01, 0.3, 0.5, 0.77, 0.99] {
            assert_eq!(merged.quantile(p), whole.quantile(p));
        }
    }

    #[test]
    fn base64_and_varints_match_their_standards() {
        // RFC 4648, section 10.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64::encode(plain.as_bytes()), coded);
            assert_eq!(base64::decode(coded).unwrap(), plain.as_bytes());
        }
        for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9*"] {
            assert_eq!(base64::decode(bad), None, "{bad}");
        }
        // LEB128: 300 is 0xAC 0x02; zigzag interleaves signs (0, -1, 1, -2, ...).
        let mut out = Vec::new();
        varint::put(&mut out, 300);
        assert_eq!(out, [0xAC, 0x02]);
        let mut at = 0;
        assert_eq!(varint::get(&out, &mut at), Some(300));
        assert_eq!(varint::get(&[0x80], &mut 0), None);
        for (k, z) in [(0i64, 0u64), (-1, 1), (1, 2), (-2, 3), (i64::MIN, u64::MAX)] {
            assert_eq!(varint::zigzag(k), z);
            assert_eq!(varint::unzigzag(z), k);
        }
    }

    /// A skewed sample with an atom at zero, an atom at 7e6 and a spread part.
    fn sample() -> Vec<f64> {
        let mut v: Vec<f64> = (1..=20_000)
            .map(|i| {
                let u = i as f64 / 20_001.0;
                1e6 * (-(1.0 - u).ln()).powf(1.5) + 12_345.678
            })
            .collect();
        v.extend(std::iter::repeat_n(0.0, 30_000));
        v.extend(std::iter::repeat_n(7e6, 5_000));
        v.push(-2.5e6);
        v
    }

    #[test]
    fn a_compact_sketch_keeps_atoms_extremes_and_the_mean_exactly() {
        let v = sample();
        let mut exact = v.clone();
        exact.sort_by(f64::total_cmp);
        let whole = Sketch::from_values(&v);
        let c = whole.compact();
        let n = exact.len();
        assert_eq!(c.count(), n as u64);
        assert_eq!(c.value_at_rank(1), -2.5e6);
        assert_eq!(c.value_at_rank(n as u64), exact[n - 1]);
        assert_eq!(c.mean(), whole.mean());
        let mean = exact.iter().sum::<f64>() / n as f64;
        assert!((c.mean() - mean).abs() <= 1e-12 * mean);
        // Atoms: 0 (ranks 2 to 30,001) and 7e6.
        assert_eq!(c.quantile(0.3), 0.0);
        let rank_7e6 = exact.iter().position(|&x| x == 7e6).unwrap() + 1;
        assert_eq!(c.value_at_rank(rank_7e6 as u64 + 10), 7e6);
        // Every other rank within one bucket (2^-10) of the exact order statistic.
        let width = 2f64.powi(-(MANTISSA_BITS as i32));
        for k in (1..=n).step_by(97) {
            let truth = exact[k - 1];
            let got = c.value_at_rank(k as u64);
            assert!(
                (got - truth).abs() <= width * truth.abs(),
                "rank {k}: {got} vs {truth}"
            );
        }
        // Exceedance within a bucket's share of the values, and the tail mean close.
        for x in [1e5, 1e6, 3e6, 6.5e6] {
            let truth = exact.iter().filter(|&&y| y > x).count() as f64 / n as f64;
            let near = exact
                .iter()
                .filter(|&&y| (y - x).abs() <= width * x)
                .count() as f64
                / n as f64;
            assert!((c.exceedance(x) - truth).abs() <= near + 1e-12, "{x}");
        }
        let top: f64 = exact[n - 1000..].iter().sum::<f64>() / 1000.0;
        assert!((c.mean_of_largest(1000) - top).abs() <= width * top);
    }

    #[test]
    fn a_stored_sketch_reads_back_as_its_compact_form() {
        let v = sample();
        let s = Sketch::from_values(&v);
        let text = serde_json::to_string(&s).unwrap();
        let back: Sketch = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s.compact());
        assert_eq!(back.compact(), back);
        // About three bytes a bucket.
        assert!(
            text.len() < 4 * s.len() + 200,
            "{} bytes, {} buckets",
            text.len(),
            s.len()
        );
        let empty: Sketch =
            serde_json::from_str(&serde_json::to_string(&Sketch::default()).unwrap()).unwrap();
        assert_eq!(empty, Sketch::default());
    }

    #[test]
    fn a_malformed_stored_sketch_is_an_error() {
        let v = vec![1.0, 2.0, 2.0, 5.0];
        let good: serde_json::Value = serde_json::to_value(Sketch::from_values(&v)).unwrap();
        for (field, value, message) in [
            ("bits", serde_json::json!(12), "mantissa bits"),
            ("count", serde_json::json!(5), "not its count"),
            ("keys", serde_json::json!("@@@@"), "not base64"),
            ("counts", serde_json::json!("AAAA"), "holds no values"),
            ("min", serde_json::json!(3.0), "first or last bucket"),
            ("atoms", serde_json::json!([[0, 9.0]]), "not in its bucket"),
        ] {
            let mut bad = good.clone();
            bad[field] = value;
            let err = serde_json::from_value::<Sketch>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{field}: {err}");
        }
    }
}
