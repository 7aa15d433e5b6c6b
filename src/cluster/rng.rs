//! A small seeded random number generator whose stream is fixed forever (SplitMix64), so that a seed
//! written in a manifest reproduces the same themes on any machine and any future build.

/// SplitMix64 (Steele, Lea and Flood 2014): 64-bit state, passes BigCrush, trivially seedable.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for `seed`, with `stream` separating independent uses of one seed.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng { state: seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93) };
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// What the `n`-th call of [`Rng::next_u64`] from here would return (`n >= 1`), without advancing:
    /// SplitMix64's state moves by a constant, so draws can be made out of order, in parallel, and be
    /// the same as in sequence.
    pub fn nth_ahead(&self, n: u64) -> u64 {
        mix(self.state.wrapping_add(GAMMA.wrapping_mul(n)))
    }

    /// Uniform in [0, 1), with 53 bits of precision.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_ahead_equal_draws_in_sequence() {
        let ahead = Rng::new(42, 3);
        let mut sequence = ahead.clone();
        for n in 1..=100 {
            assert_eq!(ahead.nth_ahead(n), sequence.next_u64());
        }
    }

    #[test]
    fn stream_is_fixed_and_sane() {
        let mut a = Rng::new(42, 0);
        let mut b = Rng::new(42, 0);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(42, 1).next_u64(), Rng::new(42, 0).next_u64());
        let mut r = Rng::new(7, 0);
        let n = 20_000;
        let mean: f64 = (0..n).map(|_| r.normal()).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.05);
        assert!((0..1000).all(|_| r.below(7) < 7));
    }
}
