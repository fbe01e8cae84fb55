//! Seeding: how a seed and an estimator key become a ChaCha8 key. Its own module, because both the
//! streams ([`crate::rng`]) and the generator's tests ([`crate::chacha`]) use it.

/// FNV-1a, 64-bit: a stable hash of an estimator key (std's hasher is not guaranteed stable).
pub fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64 step (used only to expand a 64-bit seed into a 256-bit key).
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 256-bit ChaCha key from a 64-bit seed: four SplitMix64 words, little-endian.
pub fn key_bytes(seed: u64) -> [u8; 32] {
    let mut state = seed;
    let mut bytes = [0u8; 32];
    for part in bytes.chunks_mut(8) {
        part.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    bytes
}

/// The ChaCha8 key of the stream family `(seed, estimator key)` (its streams are the Monte-Carlo
/// chunks; see [`crate::rng::Stream::new`]).
pub fn family_key(seed: u64, key: &str) -> [u8; 32] {
    key_bytes(seed ^ fnv1a(key).rotate_left(17))
}
