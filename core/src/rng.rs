//! Random streams whose draws are fixed by their algorithm (ChaCha8), never by the platform:
//! the same seed gives the same draws natively and in WebAssembly.
//!
//! There is one stream family per `(sampling seed, estimator key)`; Monte-Carlo chunk `c` uses the
//! family's ChaCha stream number `c`, so any chunk can be computed by any worker, in any order, and
//! the merged result is the same.
//!
//! A [`Stream`] is a `rand` generator ([`Rng`]); the engine's three draws are `rand`
//! [`Distribution`]s ([`OpenUniform`], [`StandardLogistic`], [`StandardNormal`]) that work on any
//! generator, and [`Draws`] names them as methods. Samplers draw from a `Stream`: the page and the
//! CLI give them the family's ChaCha8 stream, and [`Stream::from_rng`] wraps any other `rand`
//! generator (`core/tests/any_rng.rs`).

use core::convert::Infallible;
pub use rand::distr::Distribution;
pub use rand::Rng;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use rand::SeedableRng;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use rand_chacha::ChaCha8Rng as Generator;

/// The ChaCha8 generator: `rand_chacha`'s natively (its block function uses the processor's SIMD
/// there); in WebAssembly [`crate::chacha::ChaCha8`], the same stream word for word, whose block
/// function uses `simd128` (`rand_chacha`'s is portable scalar code in wasm).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::chacha::ChaCha8 as Generator;

/// One random stream: a family's ChaCha8 stream ([`Stream::new`]), or any other `rand` generator
/// ([`Stream::from_rng`]) for a sampler driven by it.
pub struct Stream {
    rng: Source,
}

// The ChaCha8 stream inline (boxing it would add an indirection to every draw).
#[allow(clippy::large_enum_variant)]
enum Source {
    ChaCha(Generator),
    /// Any generator (a branch per word, not an indirect call: the ChaCha8 streams of the page and
    /// the CLI keep their speed).
    Any(Box<dyn Rng + Send>),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.rng {
            Source::ChaCha(_) => "Stream(ChaCha8)",
            Source::Any(_) => "Stream(any rand generator)",
        })
    }
}

impl Stream {
    /// Stream number `chunk` of the family `(seed, key)`.
    pub fn new(seed: u64, key: &str, chunk: u64) -> Stream {
        let mut rng = Generator::from_seed(crate::seed::family_key(seed, key));
        rng.set_stream(chunk);
        Stream { rng: Source::ChaCha(rng) }
    }

    /// A stream that draws from `rng`: every sampler, distribution and helper that takes a
    /// `Stream` then runs on any `rand` generator.
    pub fn from_rng(rng: impl Rng + Send + 'static) -> Stream {
        Stream { rng: Source::Any(Box::new(rng)) }
    }
}

impl rand::TryRng for Stream {
    type Error = Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(match &mut self.rng {
            Source::ChaCha(g) => g.next_u32(),
            Source::Any(r) => r.next_u32(),
        })
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(match &mut self.rng {
            Source::ChaCha(g) => g.next_u64(),
            Source::Any(r) => r.next_u64(),
        })
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match &mut self.rng {
            Source::ChaCha(g) => g.fill_bytes(dst),
            Source::Any(r) => r.fill_bytes(dst),
        }
        Ok(())
    }
}

/// A uniform draw in the open interval (0, 1): `(k + ½)·2^−53` rounded to the nearest double, `k`
/// the top 53 bits of one 64-bit word, and at most `1 − 2^−53` — the largest `k` would round to 1
/// (above ½ a double's spacing is 2^−53, so `k + ½` is a tie there, rounded to even). Never 0 or
/// 1, so its logit and logarithm are finite.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenUniform;

/// The largest double below 1.
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

impl Distribution<f64> for OpenUniform {
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        (((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / 9_007_199_254_740_992.0)).min(BELOW_ONE)
    }
}

/// A standard logistic draw `ln u − ln(1 − u)`, `u` from [`OpenUniform`] (one word).
#[derive(Clone, Copy, Debug, Default)]
pub struct StandardLogistic;

impl Distribution<f64> for StandardLogistic {
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        crate::math::logit(OpenUniform.sample(rng))
    }
}

/// A standard normal draw by Box–Muller: two [`OpenUniform`] draws per value and no cached second
/// value, so a generator's position depends only on the number of draws.
#[derive(Clone, Copy, Debug, Default)]
pub struct StandardNormal;

impl Distribution<f64> for StandardNormal {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u1 = OpenUniform.sample(rng);
        let u2 = OpenUniform.sample(rng);
        let r = (-2.0 * crate::math::ln(u1)).sqrt();
        r * libm::cos(2.0 * std::f64::consts::PI * u2)
    }
}

/// The engine's draws as methods of any generator (`rng.uniform()` = `OpenUniform.sample(rng)`).
pub trait Draws: Rng {
    #[inline]
    fn uniform(&mut self) -> f64 {
        OpenUniform.sample(self)
    }
    #[inline]
    fn logistic(&mut self) -> f64 {
        StandardLogistic.sample(self)
    }
    #[inline]
    fn normal(&mut self) -> f64 {
        StandardNormal.sample(self)
    }
}

impl<R: Rng + ?Sized> Draws for R {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let mut a = Stream::new(7, "reinforce", 0);
        let mut b = Stream::new(7, "reinforce", 0);
        let mut c = Stream::new(7, "st", 0);
        let mut d = Stream::new(7, "reinforce", 1);
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        let xd: Vec<u64> = (0..4).map(|_| d.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        assert_ne!(xa, xd);
    }

    /// `rand_chacha`'s generator seeded as [`Stream::new`] seeds its own.
    fn same_generator(seed: u64, key: &str, chunk: u64) -> rand_chacha::ChaCha8Rng {
        use rand::SeedableRng;
        let mut g = rand_chacha::ChaCha8Rng::from_seed(crate::seed::family_key(seed, key));
        g.set_stream(chunk);
        g
    }

    #[test]
    fn a_stream_from_any_generator_draws_what_that_generator_gives() {
        let mut ours = Stream::new(5, "st", 3);
        let mut any = Stream::from_rng(same_generator(5, "st", 3));
        for n in 0..300 {
            match n % 3 {
                0 => assert_eq!(ours.uniform().to_bits(), any.uniform().to_bits(), "{n}"),
                1 => assert_eq!(ours.logistic().to_bits(), any.logistic().to_bits(), "{n}"),
                _ => assert_eq!(ours.normal().to_bits(), any.normal().to_bits(), "{n}"),
            }
        }
        // The distributions on the bare generator, and through `Draws` on it, are the same draws.
        let mut bare = same_generator(5, "st", 3);
        let mut again = Stream::new(5, "st", 3);
        assert_eq!(OpenUniform.sample(&mut bare).to_bits(), again.uniform().to_bits());
        assert_eq!(StandardNormal.sample(&mut bare).to_bits(), again.normal().to_bits());
        assert_eq!(bare.logistic().to_bits(), StandardLogistic.sample(&mut again).to_bits());
    }

    /// A generator of fixed words, to pin the distributions' formulas.
    struct Words(Vec<u64>);
    impl rand::TryRng for Words {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            Ok(self.try_next_u64()? as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            Ok(self.0.remove(0))
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
            unimplemented!()
        }
    }

    #[test]
    fn the_distributions_are_open_and_follow_their_formulas() {
        // The extreme words give ½·2^−53 and 1 − 2^−53 (k + ½ would round up to 1): never 0 or 1.
        let lo = OpenUniform.sample(&mut Words(vec![0]));
        let hi = OpenUniform.sample(&mut Words(vec![u64::MAX]));
        assert_eq!(lo, 2f64.powi(-54));
        assert_eq!(hi, 1.0 - 2f64.powi(-53));
        assert!(hi < 1.0 && StandardLogistic.sample(&mut Words(vec![u64::MAX])).is_finite());
        // Below the top, (k + ½)·2^−53 rounded to even: the second largest k (even) stays k.
        let k = (1u64 << 53) - 2;
        assert_eq!(OpenUniform.sample(&mut Words(vec![k << 11])), k as f64 / 9_007_199_254_740_992.0);
        // The word 2^63 − 2^11 (top 53 bits 2^52 − 1): u = ½ − 2^−54, whose logit is −2^−52.
        let half = (1u64 << 63) - (1 << 11);
        assert_eq!(OpenUniform.sample(&mut Words(vec![half])), 0.5 - 2f64.powi(-54));
        assert!((StandardLogistic.sample(&mut Words(vec![half])) + 2f64.powi(-52)).abs() < 1e-30);
        // Box–Muller with u1 = u2 ≈ ½: √(2 ln 2)·cos π.
        let z = StandardNormal.sample(&mut Words(vec![half, half]));
        assert!((z + (2.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-15, "{z}");
        assert!(lo > 0.0 && hi < 1.0 && StandardLogistic.sample(&mut Words(vec![0])).is_finite());
    }

    #[test]
    fn the_stream_is_pinned() {
        // Pinned so that a dependency upgrade that changes the stream fails loudly: the page and
        // the CLI must keep drawing the same numbers for the same seed.
        let mut s = Stream::new(1, "reinforce", 0);
        let first = s.next_u64();
        let again = Stream::new(1, "reinforce", 0).next_u64();
        assert_eq!(first, again);
        assert_eq!(first, PINNED_FIRST_DRAW);
    }

    // Recorded from the first run; the browser test (app/tests/web.rs) checks the same value in wasm.
    pub(crate) const PINNED_FIRST_DRAW: u64 = 10_047_915_164_823_349_614;

    #[test]
    fn uniform_is_open_and_moments_are_right() {
        let mut s = Stream::new(3, "u", 0);
        let n = 200_000;
        let mut sum = 0.0;
        let mut sum2 = 0.0;
        for _ in 0..n {
            let u = s.uniform();
            assert!(u > 0.0 && u < 1.0);
            sum += u;
            sum2 += u * u;
        }
        let mean = sum / n as f64;
        let var = sum2 / n as f64 - mean * mean;
        // s.e. of the mean is sqrt(1/12/n) ≈ 6.5e-4; 5 s.e.
        assert!((mean - 0.5).abs() < 5.0 * (1.0 / 12.0 / n as f64).sqrt());
        assert!((var - 1.0 / 12.0).abs() < 2e-3);
    }
}
