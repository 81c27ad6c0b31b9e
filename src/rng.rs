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
