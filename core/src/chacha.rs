//! ChaCha8 as a random-number generator, word for word `rand_chacha`'s `ChaCha8Rng` (0.10): the
//! same key, 64-bit block counter and 64-bit stream number, the same four-block buffer, the same
//! `next_u64` (two words, low first). [`crate::rng::Stream`] draws from it in WebAssembly, where
//! `rand_chacha`'s block function is portable scalar code (it was 15–22 % of a Monte-Carlo draw in
//! wasm, against 6 % natively with AVX2); natively `Stream` keeps `rand_chacha`.
//!
//! The four blocks of a refill are computed side by side, one block per lane: sixteen 4-lane
//! vectors, one per state word. In wasm the lanes are `simd128` `i32x4` vectors (16- and 8-bit
//! rotations as byte shuffles); elsewhere they are `[u32; 4]` arrays — the same algorithm, which
//! the native tests check against `rand_chacha`, and the browser tests (`app/tests/web.rs`) check
//! the `simd128` lanes against it too.

/// "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
/// Words per refill: four 16-word blocks.
const BUF: usize = 64;
/// Double rounds of ChaCha8.
const DOUBLE_ROUNDS: usize = 4;

/// A ChaCha8 stream: `rand_chacha::ChaCha8Rng::from_seed(seed)` followed by `set_stream(stream)`.
#[derive(Clone, Debug)]
pub struct ChaCha8 {
    key: [u32; 8],
    /// Block number of the next refill's first block.
    block: u64,
    stream: u64,
    buf: [u32; BUF],
    /// Next unread word of `buf`; `BUF` when it is empty.
    index: usize,
}

impl ChaCha8 {
    /// The generator for a 256-bit seed (little-endian key words), stream 0, block 0.
    pub fn from_seed(seed: [u8; 32]) -> ChaCha8 {
        let mut key = [0u32; 8];
        for (k, b) in key.iter_mut().zip(seed.chunks_exact(4)) {
            *k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        ChaCha8 { key, block: 0, stream: 0, buf: [0; BUF], index: BUF }
    }

    /// Switch to stream `stream`, at the same position (as `ChaCha8Rng::set_stream`).
    pub fn set_stream(&mut self, stream: u64) {
        self.stream = stream;
        if self.index < BUF {
            // The buffer came from the old stream: regenerate it from the same blocks.
            let index = self.index;
            self.block = self.block.wrapping_sub(4);
            self.refill();
            self.index = index;
        }
    }

    /// Go to the start of block `block` (as `ChaCha8Rng::set_word_pos(16 · block)`).
    pub fn set_block_pos(&mut self, block: u64) {
        self.block = block;
        self.index = BUF;
    }

    /// The next 64 bits: the next two words, the first as the low half (as `rand_chacha`, also
    /// when a pair straddles two refills after an odd number of single words).
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        if self.index + 1 >= BUF {
            if self.index == BUF - 1 {
                let lo = self.next_u32();
                return (u64::from(self.next_u32()) << 32) | u64::from(lo);
            }
            self.refill();
        }
        let i = self.index;
        self.index = i + 2;
        (u64::from(self.buf[i + 1]) << 32) | u64::from(self.buf[i])
    }

    /// The next word.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= BUF {
            self.refill();
        }
        self.index += 1;
        self.buf[self.index - 1]
    }

    /// Bytes from the next words, little-endian; a last partial word is consumed whole (as
    /// `rand_core`'s block generators do).
    pub fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(4) {
            let w = self.next_u32().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }

    /// The next four blocks into `buf`; advances the block counter by four.
    #[inline(never)]
    fn refill(&mut self) {
        let mut init = [lanes::V::splat(0); 16];
        for (i, &s) in SIGMA.iter().enumerate() {
            init[i] = lanes::V::splat(s);
        }
        for (i, &k) in self.key.iter().enumerate() {
            init[4 + i] = lanes::V::splat(k);
        }
        let counters: [u64; 4] = std::array::from_fn(|j| self.block.wrapping_add(j as u64));
        init[12] = lanes::V::new(counters.map(|c| c as u32));
        init[13] = lanes::V::new(counters.map(|c| (c >> 32) as u32));
        init[14] = lanes::V::splat(self.stream as u32);
        init[15] = lanes::V::splat((self.stream >> 32) as u32);
        let mut x = init;
        for _ in 0..DOUBLE_ROUNDS {
            quarter(&mut x, 0, 4, 8, 12);
            quarter(&mut x, 1, 5, 9, 13);
            quarter(&mut x, 2, 6, 10, 14);
            quarter(&mut x, 3, 7, 11, 15);
            quarter(&mut x, 0, 5, 10, 15);
            quarter(&mut x, 1, 6, 11, 12);
            quarter(&mut x, 2, 7, 8, 13);
            quarter(&mut x, 3, 4, 9, 14);
        }
        for (xi, ii) in x.iter_mut().zip(init) {
            *xi = xi.add(ii);
        }
        // Lane j of word i is word i of block j: `buf[16 j + i]`.
        for g in 0..4 {
            let rows = lanes::V::transpose(x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]);
            for (j, row) in rows.into_iter().enumerate() {
                let at = 16 * j + 4 * g;
                row.store((&mut self.buf[at..at + 4]).try_into().expect("four words"));
            }
        }
        self.block = self.block.wrapping_add(4);
        self.index = 0;
    }
}

#[inline(always)]
fn quarter(x: &mut [lanes::V; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl16();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl::<12>();
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl8();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl::<7>();
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    /// Four `u32` lanes in one `simd128` vector.
    #[derive(Clone, Copy)]
    pub(super) struct V(v128);

    impl V {
        #[inline(always)]
        pub fn splat(x: u32) -> V {
            V(u32x4_splat(x))
        }
        #[inline(always)]
        pub fn new(x: [u32; 4]) -> V {
            V(u32x4(x[0], x[1], x[2], x[3]))
        }
        #[inline(always)]
        pub fn add(self, o: V) -> V {
            V(i32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn xor(self, o: V) -> V {
            V(v128_xor(self.0, o.0))
        }
        #[inline(always)]
        pub fn rotl<const N: u32>(self) -> V {
            V(v128_or(u32x4_shl(self.0, N), u32x4_shr(self.0, 32 - N)))
        }
        /// Rotate each word left by 16 bits: swap its two halves (little-endian bytes).
        #[inline(always)]
        pub fn rotl16(self) -> V {
            V(i8x16_shuffle::<2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13>(self.0, self.0))
        }
        /// Rotate each word left by 8 bits: bytes (b0 b1 b2 b3) become (b3 b0 b1 b2).
        #[inline(always)]
        pub fn rotl8(self) -> V {
            V(i8x16_shuffle::<3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14>(self.0, self.0))
        }
        /// Rows of the 4×4 matrix whose columns are `a, b, c, d`.
        #[inline(always)]
        pub fn transpose(a: V, b: V, c: V, d: V) -> [V; 4] {
            let ab0 = i32x4_shuffle::<0, 4, 1, 5>(a.0, b.0);
            let ab1 = i32x4_shuffle::<2, 6, 3, 7>(a.0, b.0);
            let cd0 = i32x4_shuffle::<0, 4, 1, 5>(c.0, d.0);
            let cd1 = i32x4_shuffle::<2, 6, 3, 7>(c.0, d.0);
            [
                V(i32x4_shuffle::<0, 1, 4, 5>(ab0, cd0)),
                V(i32x4_shuffle::<2, 3, 6, 7>(ab0, cd0)),
                V(i32x4_shuffle::<0, 1, 4, 5>(ab1, cd1)),
                V(i32x4_shuffle::<2, 3, 6, 7>(ab1, cd1)),
            ]
        }
        #[inline(always)]
        pub fn store(self, out: &mut [u32; 4]) {
            // SAFETY: `out` is four u32 (16 bytes); v128 stores need no alignment.
            unsafe { v128_store(out.as_mut_ptr() as *mut v128, self.0) }
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    /// Four `u32` lanes in an array (the same algorithm as the `simd128` lanes).
    #[derive(Clone, Copy)]
    pub(super) struct V([u32; 4]);

    impl V {
        #[inline(always)]
        pub fn splat(x: u32) -> V {
            V([x; 4])
        }
        #[inline(always)]
        pub fn new(x: [u32; 4]) -> V {
            V(x)
        }
        #[inline(always)]
        pub fn add(self, o: V) -> V {
            V(std::array::from_fn(|i| self.0[i].wrapping_add(o.0[i])))
        }
        #[inline(always)]
        pub fn xor(self, o: V) -> V {
            V(std::array::from_fn(|i| self.0[i] ^ o.0[i]))
        }
        #[inline(always)]
        pub fn rotl<const N: u32>(self) -> V {
            V(self.0.map(|x| x.rotate_left(N)))
        }
        #[inline(always)]
        pub fn rotl16(self) -> V {
            self.rotl::<16>()
        }
        #[inline(always)]
        pub fn rotl8(self) -> V {
            self.rotl::<8>()
        }
        #[inline(always)]
        pub fn transpose(a: V, b: V, c: V, d: V) -> [V; 4] {
            std::array::from_fn(|j| V([a.0[j], b.0[j], c.0[j], d.0[j]]))
        }
        #[inline(always)]
        pub fn store(self, out: &mut [u32; 4]) {
            *out = self.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChaCha8;
    use crate::seed::key_bytes as seed;
    use rand_chacha::ChaCha8Rng;
    use rand_core::{Rng, SeedableRng};

    #[test]
    fn equals_rand_chacha_word_for_word() {
        for s in [0u64, 1, 7, 0xdead_beef] {
            for stream in [0u64, 1, 5, 1 << 32, u64::MAX] {
                let mut ours = ChaCha8::from_seed(seed(s));
                ours.set_stream(stream);
                let mut theirs = ChaCha8Rng::from_seed(seed(s));
                theirs.set_stream(stream);
                // 300 draws: nine refills and a half.
                for n in 0..300 {
                    assert_eq!(ours.next_u64(), theirs.next_u64(), "seed {s}, stream {stream}, draw {n}");
                }
            }
        }
    }

    #[test]
    fn single_words_pairs_and_bytes_in_any_order_equal_rand_chacha() {
        // Odd positions: a pair straddling two refills, bytes with a partial last word.
        let mut ours = ChaCha8::from_seed(seed(11));
        ours.set_stream(3);
        let mut theirs = ChaCha8Rng::from_seed(seed(11));
        theirs.set_stream(3);
        for n in 0..400usize {
            match n % 5 {
                0 | 3 => assert_eq!(ours.next_u32(), theirs.next_u32(), "word {n}"),
                4 => {
                    let (mut a, mut b) = ([0u8; 7], [0u8; 7]);
                    ours.fill_bytes(&mut a);
                    theirs.fill_bytes(&mut b);
                    assert_eq!(a, b, "bytes {n}");
                }
                _ => assert_eq!(ours.next_u64(), theirs.next_u64(), "pair {n}"),
            }
        }
    }

    #[test]
    fn the_block_counter_carries_into_its_high_word_and_wraps() {
        for block in [(1u64 << 32) - 2, u64::MAX - 1] {
            let mut ours = ChaCha8::from_seed(seed(3));
            ours.set_stream(9);
            ours.set_block_pos(block);
            let mut theirs = ChaCha8Rng::from_seed(seed(3));
            theirs.set_stream(9);
            theirs.set_word_pos(u128::from(block) * 16);
            for n in 0..100 {
                assert_eq!(ours.next_u64(), theirs.next_u64(), "block {block}, draw {n}");
            }
        }
    }

    #[test]
    fn a_stream_switched_mid_buffer_regenerates_the_same_blocks() {
        let mut ours = ChaCha8::from_seed(seed(11));
        let mut theirs = ChaCha8Rng::from_seed(seed(11));
        for _ in 0..5 {
            assert_eq!(ours.next_u64(), theirs.next_u64());
        }
        ours.set_stream(4);
        theirs.set_stream(4);
        for n in 0..80 {
            assert_eq!(ours.next_u64(), theirs.next_u64(), "draw {n} after the switch");
        }
    }

    #[test]
    fn the_published_chacha8_test_vector() {
        // Strömbergson's ChaCha test vectors (draft-strombergson-chacha-test-vectors, TC1: 8
        // rounds, 256-bit all-zero key, all-zero IV), keystream block 0 — so that the comparisons
        // above do not only check one implementation of ChaCha8 against another.
        const BLOCK0: &str = "3e00ef2f895f40d67f5bb8e81f09a5a12c840ec3ce9a7f3b181be188ef711a1e\
                              984ce172b9216f419f445367456d5619314a42a3da86b001387bfdb80e0cfe42";
        let bytes: Vec<u8> = (0..64).map(|i| u8::from_str_radix(&BLOCK0[2 * i..2 * i + 2], 16).unwrap()).collect();
        let mut ours = ChaCha8::from_seed([0u8; 32]);
        for (n, b) in bytes.chunks_exact(8).enumerate() {
            assert_eq!(ours.next_u64(), u64::from_le_bytes(b.try_into().unwrap()), "word pair {n}");
        }
    }
}
