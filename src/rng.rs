//! The one random number generator fiscalrisk uses, and how its streams are seeded.
//!
//! Every stream is a **Xoshiro256++** generator (Blackman and Vigna, 2019), whose algorithm is
//! fixed and will not change with a `rand` release (unlike `StdRng`). A stream is named by
//! `(seed, stream)`: its 256-bit state is four successive outputs of **SplitMix64** started from
//! `seed` mixed with `stream`. The Monte Carlo engine uses one stream per fixed batch of trials,
//! which is why results do not depend on the number of threads.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::rng::stream;
//! use rand::RngExt;
//! let a: f64 = stream(42, 0).random();
//! let b: f64 = stream(42, 0).random();
//! let c: f64 = stream(42, 1).random();
//! assert_eq!(a, b);
//! assert_ne!(a, c);
//! ```

use rand::SeedableRng;
pub use rand::rngs::Xoshiro256PlusPlus as Rng;

/// SplitMix64's output function (Steele, Lea and Flood, 2014).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator for stream `stream` of seed `seed`.
pub fn stream(seed: u64, stream: u64) -> Rng {
    // Mix the stream number through SplitMix64 first so that (seed, stream) and
    // (seed + 1, stream - 1) do not start from related states.
    let mut key = stream;
    let mut state = seed ^ splitmix64(&mut key);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    Rng::from_seed(bytes)
}

/// The generator of component `component`'s draws in batch `batch` of seed `seed`: each part of
/// a plan that draws on its own (a budget set every year, say) has a stream of its own, so that
/// adding it leaves every other draw as it was, whatever order the parts are drawn in.
/// Component 0 is the batch's main stream, [`stream`]`(seed, batch)`.
///
/// ```
/// use fiscalrisk::rng::{component, stream};
/// use rand::RngExt;
/// let main: f64 = component(42, 3, 0).random();
/// assert_eq!(main, stream(42, 3).random::<f64>());
/// let own: f64 = component(42, 3, 1).random();
/// assert_ne!(own, main);
/// assert_eq!(own, component(42, 3, 1).random::<f64>());
/// ```
pub fn component(seed: u64, batch: u64, component: u64) -> Rng {
    if component == 0 {
        return stream(seed, batch);
    }
    // A seed of the component's own, through SplitMix64, so that components of one seed start
    // from unrelated states.
    let mut key = seed ^ component.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    stream(splitmix64(&mut key), batch)
}
