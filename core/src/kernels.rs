//! The inner loops of the exact computations, written so that the compiler vectorises them and so
//! that every platform computes the same bits.
//!
//! Each kernel is plain Rust over fixed-size lane arrays (`[f64; LANES]`): the order of every
//! addition is fixed by the source, never by the vector width the compiler picks. Rust never fuses
//! a multiplication and an addition into an FMA and never reassociates, so the x86-64 build with
//! SSE2, the AVX2 build selected at run time, and WebAssembly with `simd128` (see
//! `.cargo/config.toml`) give identical results; `tests` check the AVX2 path against the portable
//! one bit for bit.
//!
//! On x86-64 the kernels are compiled twice, for the baseline and for AVX2, and the AVX2 copy is
//! chosen once at run time when the processor has it.

/// Independent accumulators of a dot product (also the unrolling of every kernel).
pub(crate) const LANES: usize = 8;

/// Whether `STOCHGRAD_SIMD=128` asks the kernels to keep their baseline copy (128-bit lanes, as
/// wasm's `simd128`) where wider ones exist: for comparing WebAssembly with native code at the same
/// vector width (the benchmarks name their results after it).
pub fn narrow_simd_requested() -> bool {
    std::env::var("STOCHGRAD_SIMD").is_ok_and(|v| v.trim() == "128")
}

/// Which copy of the kernels runs (x86-64: detected once; elsewhere always portable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Isa {
    /// The best copy this processor runs.
    #[inline]
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::sync::atomic::{AtomicU8, Ordering};
            static CACHE: AtomicU8 = AtomicU8::new(0);
            match CACHE.load(Ordering::Relaxed) {
                1 => return Isa::Portable,
                2 => return Isa::Avx2,
                _ => {}
            }
            let narrow = narrow_simd_requested();
            let isa = if !narrow && std::is_x86_feature_detected!("avx2") { Isa::Avx2 } else { Isa::Portable };
            CACHE.store(if isa == Isa::Avx2 { 2 } else { 1 }, Ordering::Relaxed);
            isa
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Isa::Portable
        }
    }
}

/// Backward contraction of one upstream state's transition row with `β`, factorised over the two
/// halves of the layer: with `β` a `b.len() × a.len()` row-major matrix (row = the high half's
/// state, column = the low half's), `v[hi] = Σ_lo β[hi][lo]·a[lo]` and `c[lo] = Σ_hi b[hi]·β[hi][lo]`.
///
/// Order (fixed): `v[hi]` sums the row in [`LANES`] interleaved partial sums combined pairwise
/// (sequentially when the row is shorter than [`LANES`]); `c[lo]` adds the rows in order.
pub(crate) fn contract(isa: Isa, beta: &[f64], a: &[f64], b: &[f64], v: &mut [f64], c: &mut [f64]) {
    match isa {
        Isa::Portable => contract_impl(beta, a, b, v, c),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Isa::Avx2` is only ever produced after `is_x86_feature_detected!("avx2")`.
        Isa::Avx2 => unsafe { contract_avx2(beta, a, b, v, c) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn contract_avx2(beta: &[f64], a: &[f64], b: &[f64], v: &mut [f64], c: &mut [f64]) {
    contract_v::<avx2::Avx>(beta, a, b, v, c)
}

/// Four `f64` lanes. Every implementation performs the same IEEE operations lane by lane.
trait V4: Copy {
    fn zero() -> Self;
    fn splat(x: f64) -> Self;
    /// `x[0..4]`.
    ///
    /// # Safety
    /// Four `f64` must be readable at `x`.
    unsafe fn load(x: *const f64) -> Self;
    /// Into `x[0..4]`.
    ///
    /// # Safety
    /// Four `f64` must be writable at `x`.
    unsafe fn store(self, x: *mut f64);
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
}

/// The portable lanes (the compiler maps them onto whatever vectors the target has).
#[derive(Clone, Copy)]
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
struct Plain([f64; 4]);

impl V4 for Plain {
    #[inline(always)]
    fn zero() -> Self {
        Plain([0.0; 4])
    }
    #[inline(always)]
    fn splat(x: f64) -> Self {
        Plain([x; 4])
    }
    #[inline(always)]
    unsafe fn load(x: *const f64) -> Self {
        Plain([*x, *x.add(1), *x.add(2), *x.add(3)])
    }
    #[inline(always)]
    unsafe fn store(self, x: *mut f64) {
        *x = self.0[0];
        *x.add(1) = self.0[1];
        *x.add(2) = self.0[2];
        *x.add(3) = self.0[3];
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Plain([self.0[0] + o.0[0], self.0[1] + o.0[1], self.0[2] + o.0[2], self.0[3] + o.0[3]])
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Plain([self.0[0] - o.0[0], self.0[1] - o.0[1], self.0[2] - o.0[2], self.0[3] - o.0[3]])
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Plain([self.0[0] * o.0[0], self.0[1] * o.0[1], self.0[2] * o.0[2], self.0[3] * o.0[3]])
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Four lanes in one AVX register (only used inside `#[target_feature(enable = "avx2")]`).
    #[derive(Clone, Copy)]
    pub(super) struct Avx(__m256d);

    impl super::V4 for Avx {
        #[inline(always)]
        fn zero() -> Self {
            // SAFETY (all below): only reached from functions compiled with AVX2 enabled, called
            // after run-time detection.
            unsafe { Avx(_mm256_setzero_pd()) }
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            unsafe { Avx(_mm256_set1_pd(x)) }
        }
        #[inline(always)]
        unsafe fn load(x: *const f64) -> Self {
            Avx(_mm256_loadu_pd(x))
        }
        #[inline(always)]
        unsafe fn store(self, x: *mut f64) {
            _mm256_storeu_pd(x, self.0)
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            unsafe { Avx(_mm256_add_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            unsafe { Avx(_mm256_sub_pd(self.0, o.0)) }
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            unsafe { Avx(_mm256_mul_pd(self.0, o.0)) }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use core::arch::wasm32::*;

    /// Four lanes in two WebAssembly `f64x2` vectors.
    #[derive(Clone, Copy)]
    pub(super) struct Wasm(v128, v128);

    impl super::V4 for Wasm {
        #[inline(always)]
        fn zero() -> Self {
            Wasm(f64x2_splat(0.0), f64x2_splat(0.0))
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            Wasm(f64x2_splat(x), f64x2_splat(x))
        }
        // v128 loads and stores need no alignment.
        #[inline(always)]
        unsafe fn load(x: *const f64) -> Self {
            Wasm(v128_load(x as *const v128), v128_load(x.add(2) as *const v128))
        }
        #[inline(always)]
        unsafe fn store(self, x: *mut f64) {
            v128_store(x as *mut v128, self.0);
            v128_store(x.add(2) as *mut v128, self.1);
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            Wasm(f64x2_add(self.0, o.0), f64x2_add(self.1, o.1))
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            Wasm(f64x2_sub(self.0, o.0), f64x2_sub(self.1, o.1))
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            Wasm(f64x2_mul(self.0, o.0), f64x2_mul(self.1, o.1))
        }
    }
}

/// The lanes the portable path uses on this target.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Native = simd128::Wasm;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type Native = Plain;

#[inline(always)]
fn reduce<V: V4>(lo: V, hi: V) -> f64 {
    let mut a = [0.0; LANES];
    // SAFETY: `a` holds eight f64.
    unsafe {
        lo.store(a.as_mut_ptr());
        hi.store(a.as_mut_ptr().add(4));
    }
    ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

#[inline(always)]
fn contract_impl(beta: &[f64], a: &[f64], b: &[f64], v: &mut [f64], c: &mut [f64]) {
    contract_v::<Native>(beta, a, b, v, c)
}

#[inline(always)]
fn contract_v<V: V4>(beta: &[f64], a: &[f64], b: &[f64], v: &mut [f64], c: &mut [f64]) {
    let n = a.len();
    let rows = b.len();
    assert!(beta.len() == n * rows && v.len() == rows && c.len() == n);
    c.fill(0.0);
    if n % LANES != 0 {
        for ((row, &bh), vh) in beta.chunks_exact(n).zip(b).zip(v.iter_mut()) {
            let mut s = 0.0;
            for ((&x, &y), cv) in row.iter().zip(a).zip(c.iter_mut()) {
                s += x * y;
                *cv += bh * x;
            }
            *vh = s;
        }
        return;
    }
    // Two rows per pass: `c` is loaded and stored once for both (adding row 2h, then row 2h+1, as
    // the one-row loop would), and each chunk of `a` serves two dot products.
    let pairs = rows / 2;
    let (pa, pc) = (a.as_ptr(), c.as_mut_ptr());
    for k in 0..pairs {
        let r0 = beta[2 * k * n..(2 * k + 1) * n].as_ptr();
        let r1 = beta[(2 * k + 1) * n..(2 * k + 2) * n].as_ptr();
        let (b0, b1) = (V::splat(b[2 * k]), V::splat(b[2 * k + 1]));
        let (mut p0, mut q0, mut p1, mut q1) = (V::zero(), V::zero(), V::zero(), V::zero());
        let mut j = 0;
        while j < n {
            // SAFETY: j + 8 ≤ n, and a, c and both rows hold n values (checked above).
            unsafe {
                let (ya, yb) = (V::load(pa.add(j)), V::load(pa.add(j + 4)));
                let (x0a, x0b) = (V::load(r0.add(j)), V::load(r0.add(j + 4)));
                let (x1a, x1b) = (V::load(r1.add(j)), V::load(r1.add(j + 4)));
                p0 = p0.add(x0a.mul(ya));
                q0 = q0.add(x0b.mul(yb));
                p1 = p1.add(x1a.mul(ya));
                q1 = q1.add(x1b.mul(yb));
                let (ca, cb) = (V::load(pc.add(j)), V::load(pc.add(j + 4)));
                ca.add(b0.mul(x0a)).add(b1.mul(x1a)).store(pc.add(j));
                cb.add(b0.mul(x0b)).add(b1.mul(x1b)).store(pc.add(j + 4));
            }
            j += LANES;
        }
        v[2 * k] = reduce(p0, q0);
        v[2 * k + 1] = reduce(p1, q1);
    }
    // An odd number of rows (never for a layer split in halves, kept for completeness).
    for hi in 2 * pairs..rows {
        let row = beta[hi * n..(hi + 1) * n].as_ptr();
        let bh = V::splat(b[hi]);
        let (mut p, mut q) = (V::zero(), V::zero());
        let mut j = 0;
        while j < n {
            // SAFETY: as above.
            unsafe {
                let (ya, yb) = (V::load(pa.add(j)), V::load(pa.add(j + 4)));
                let (xa, xb) = (V::load(row.add(j)), V::load(row.add(j + 4)));
                p = p.add(xa.mul(ya));
                q = q.add(xb.mul(yb));
                V::load(pc.add(j)).add(bh.mul(xa)).store(pc.add(j));
                V::load(pc.add(j + 4)).add(bh.mul(xb)).store(pc.add(j + 4));
            }
            j += LANES;
        }
        v[hi] = reduce(p, q);
    }
}

/// Forward accumulation of upstream states' transition rows into `out` (a `rows × a.len()`
/// row-major matrix): for each upstream state `u` in order, `out[hi][lo] += coef[u][hi]·a[u][lo]`,
/// where `coef[u] = weight_u · b_u` is already scaled. The additions into each entry happen in the
/// order of `u`, exactly as one state at a time would do them.
pub(crate) fn outer_accumulate(isa: Isa, out: &mut [f64], a: &[&[f64]], coef: &[&[f64]]) {
    match isa {
        Isa::Portable => outer_impl(out, a, coef),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see `contract`.
        Isa::Avx2 => unsafe { outer_avx2(out, a, coef) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn outer_avx2(out: &mut [f64], a: &[&[f64]], coef: &[&[f64]]) {
    outer_v::<avx2::Avx>(out, a, coef)
}

#[inline(always)]
fn outer_impl(out: &mut [f64], a: &[&[f64]], coef: &[&[f64]]) {
    outer_v::<Native>(out, a, coef)
}

#[inline(always)]
fn outer_v<V: V4>(out: &mut [f64], a: &[&[f64]], coef: &[&[f64]]) {
    let Some(first) = a.first() else { return };
    let n = first.len();
    let rows = out.len() / n.max(1);
    assert!(out.len() == rows * n && a.len() == coef.len());
    assert!(a.iter().all(|x| x.len() == n) && coef.iter().all(|c| c.len() == rows));
    let mut start = 0;
    // Up to four upstream states per pass over `out`.
    while start < a.len() {
        let end = (start + 4).min(a.len());
        let (aa, cc) = (&a[start..end], &coef[start..end]);
        if aa.len() == 4 && n % 4 == 0 {
            let (x0, x1, x2, x3) = (aa[0].as_ptr(), aa[1].as_ptr(), aa[2].as_ptr(), aa[3].as_ptr());
            for (hi, row) in out.chunks_exact_mut(n).enumerate() {
                let (c0, c1, c2) = (V::splat(cc[0][hi]), V::splat(cc[1][hi]), V::splat(cc[2][hi]));
                let c3 = V::splat(cc[3][hi]);
                let o = row.as_mut_ptr();
                let mut j = 0;
                while j < n {
                    // SAFETY: j + 4 ≤ n; the row and the four vectors hold n values (checked above).
                    unsafe {
                        let y = V::load(o.add(j)).add(c0.mul(V::load(x0.add(j))));
                        let y = y.add(c1.mul(V::load(x1.add(j))));
                        let y = y.add(c2.mul(V::load(x2.add(j))));
                        y.add(c3.mul(V::load(x3.add(j)))).store(o.add(j));
                    }
                    j += 4;
                }
            }
        } else {
            for (x, c) in aa.iter().zip(cc) {
                for (row, &ch) in out.chunks_exact_mut(n).zip(c.iter()) {
                    for (o, &xv) in row.iter_mut().zip(x.iter()) {
                        *o += ch * xv;
                    }
                }
            }
        }
        start = end;
    }
}

/// One unweighted Welford step for every coordinate (`n` draws so far including this one,
/// `inv = 1/n`): `d = x − m`, `m ← m + d·inv`, `s ← s + d·(x − m)`.
pub(crate) fn welford(isa: Isa, mean: &mut [f64], m2: &mut [f64], x: &[f64], inv: f64) {
    if mean.len() <= 16 {
        return welford_v::<Native>(mean, m2, x, inv);
    }
    match isa {
        Isa::Portable => welford_v::<Native>(mean, m2, x, inv),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see `contract`.
        Isa::Avx2 => unsafe { welford_avx2(mean, m2, x, inv) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn welford_avx2(mean: &mut [f64], m2: &mut [f64], x: &[f64], inv: f64) {
    welford_v::<avx2::Avx>(mean, m2, x, inv)
}

#[inline(always)]
fn welford_v<V: V4>(mean: &mut [f64], m2: &mut [f64], x: &[f64], inv: f64) {
    let n = mean.len();
    assert!(m2.len() == n && x.len() >= n);
    let body = n / 4 * 4;
    let (pm, ps, px) = (mean.as_mut_ptr(), m2.as_mut_ptr(), x.as_ptr());
    let vi = V::splat(inv);
    let mut j = 0;
    while j < body {
        // SAFETY: j + 4 ≤ n for all three slices.
        unsafe {
            let (xv, mv, sv) = (V::load(px.add(j)), V::load(pm.add(j)), V::load(ps.add(j)));
            let d = xv.sub(mv);
            let m = mv.add(d.mul(vi));
            m.store(pm.add(j));
            sv.add(d.mul(xv.sub(m))).store(ps.add(j));
        }
        j += 4;
    }
    for j in body..n {
        let d = x[j] - mean[j];
        mean[j] += d * inv;
        m2[j] += d * (x[j] - mean[j]);
    }
}

/// One weighted Welford step for every coordinate (see `stats::Weighted::add`):
/// `d = x − m`, `m ← m·keep + x·frac`, `s ← s + (wk·d)·d` with `wk = w·keep`.
pub(crate) fn welford_weighted(isa: Isa, mean: &mut [f64], m2: &mut [f64], x: &[f64], keep: f64, frac: f64, wk: f64) {
    if mean.len() <= 16 {
        return welford_weighted_v::<Native>(mean, m2, x, keep, frac, wk);
    }
    match isa {
        Isa::Portable => welford_weighted_v::<Native>(mean, m2, x, keep, frac, wk),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see `contract`.
        Isa::Avx2 => unsafe { welford_weighted_avx2(mean, m2, x, keep, frac, wk) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn welford_weighted_avx2(mean: &mut [f64], m2: &mut [f64], x: &[f64], keep: f64, frac: f64, wk: f64) {
    welford_weighted_v::<avx2::Avx>(mean, m2, x, keep, frac, wk)
}

#[inline(always)]
fn welford_weighted_v<V: V4>(mean: &mut [f64], m2: &mut [f64], x: &[f64], keep: f64, frac: f64, wk: f64) {
    let n = mean.len();
    assert!(m2.len() == n && x.len() >= n);
    let body = n / 4 * 4;
    let (pm, ps, px) = (mean.as_mut_ptr(), m2.as_mut_ptr(), x.as_ptr());
    let (vk, vf, vw) = (V::splat(keep), V::splat(frac), V::splat(wk));
    let mut j = 0;
    while j < body {
        // SAFETY: j + 4 ≤ n for all three slices.
        unsafe {
            let (xv, mv, sv) = (V::load(px.add(j)), V::load(pm.add(j)), V::load(ps.add(j)));
            let d = xv.sub(mv);
            mv.mul(vk).add(xv.mul(vf)).store(pm.add(j));
            sv.add(vw.mul(d).mul(d)).store(ps.add(j));
        }
        j += 4;
    }
    for j in body..n {
        let d = x[j] - mean[j];
        mean[j] = mean[j] * keep + x[j] * frac;
        m2[j] += wk * d * d;
    }
}

/// `y[j] ← y[j] + a·x[j]` (the same single rounding per operation as the scalar loop). Short
/// vectors (a layer's width) stay on the inlined portable path: the call would cost more than the
/// wider lanes save.
pub(crate) fn axpy(isa: Isa, y: &mut [f64], a: f64, x: &[f64]) {
    if y.len() <= 32 {
        return axpy_v::<Native>(y, a, x);
    }
    match isa {
        Isa::Portable => axpy_v::<Native>(y, a, x),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see `contract`.
        Isa::Avx2 => unsafe { axpy_avx2(y, a, x) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn axpy_avx2(y: &mut [f64], a: f64, x: &[f64]) {
    axpy_v::<avx2::Avx>(y, a, x)
}

#[inline(always)]
fn axpy_v<V: V4>(y: &mut [f64], a: f64, x: &[f64]) {
    let n = y.len();
    assert!(x.len() >= n);
    let body = n / 4 * 4;
    let (py, px) = (y.as_mut_ptr(), x.as_ptr());
    let va = V::splat(a);
    let mut j = 0;
    while j < body {
        // SAFETY: j + 4 ≤ n for both slices.
        unsafe { V::load(py.add(j)).add(va.mul(V::load(px.add(j)))).store(py.add(j)) };
        j += 4;
    }
    for j in body..n {
        y[j] += a * x[j];
    }
}

/// `out[i·m + j] = g[i]·x[j]` for an `n × m` block (`m = x.len()`): a parameter gradient block
/// from per-unit logit gradients and the layer's input.
pub(crate) fn outer(isa: Isa, out: &mut [f64], g: &[f64], x: &[f64]) {
    match isa {
        Isa::Portable => outer_block_v::<Native>(out, g, x),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: see `contract`.
        Isa::Avx2 => unsafe { outer_block_avx2(out, g, x) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn outer_block_avx2(out: &mut [f64], g: &[f64], x: &[f64]) {
    outer_block_v::<avx2::Avx>(out, g, x)
}

#[inline(always)]
fn outer_block_v<V: V4>(out: &mut [f64], g: &[f64], x: &[f64]) {
    let m = x.len();
    assert!(out.len() == g.len() * m);
    if m % 4 != 0 {
        for (row, &gi) in out.chunks_exact_mut(m.max(1)).zip(g) {
            for (o, &xj) in row.iter_mut().zip(x) {
                *o = gi * xj;
            }
        }
        return;
    }
    let (po, px) = (out.as_mut_ptr(), x.as_ptr());
    for (i, &gi) in g.iter().enumerate() {
        let vg = V::splat(gi);
        let mut j = 0;
        while j < m {
            // SAFETY: i·m + j + 4 ≤ out.len() and j + 4 ≤ m.
            unsafe { vg.mul(V::load(px.add(j))).store(po.add(i * m + j)) };
            j += 4;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.3
            })
            .collect()
    }

    #[test]
    fn contract_matches_the_plain_sums() {
        for (rows, n) in [(2, 8), (4, 16), (8, 64), (2, 2), (4, 4), (1, 8), (3, 8), (2, 1)] {
            let beta = data(rows * n, 1);
            let a = data(n, 2);
            let b = data(rows, 3);
            let (mut v, mut c) = (vec![0.0; rows], vec![0.0; n]);
            contract(Isa::detect(), &beta, &a, &b, &mut v, &mut c);
            for hi in 0..rows {
                let want: f64 = (0..n).map(|lo| beta[hi * n + lo] * a[lo]).sum();
                assert!((v[hi] - want).abs() <= 1e-14 * (1.0 + want.abs()), "v {rows}×{n}");
            }
            for lo in 0..n {
                let want: f64 = (0..rows).map(|hi| b[hi] * beta[hi * n + lo]).sum();
                assert_eq!(c[lo], want, "c is summed in row order: {rows}×{n}");
            }
        }
    }

    #[test]
    fn welford_steps_match_the_scalar_formulas_bit_for_bit() {
        for n in [1, 4, 7, 112] {
            let x = data(n, 30);
            let (m0, s0) = (data(n, 31), data(n, 32));
            for isa in [Isa::Portable, Isa::detect()] {
                let (mut m, mut s) = (m0.clone(), s0.clone());
                welford(isa, &mut m, &mut s, &x, 1.0 / 7.0);
                for j in 0..n {
                    let d = x[j] - m0[j];
                    let mj = m0[j] + d * (1.0 / 7.0);
                    assert_eq!((m[j], s[j]), (mj, s0[j] + d * (x[j] - mj)));
                }
                let (mut m, mut s) = (m0.clone(), s0.clone());
                let (w, total) = (0.3, 1.7);
                let (keep, frac) = (1.4 / total, w / total);
                welford_weighted(isa, &mut m, &mut s, &x, keep, frac, w * keep);
                for j in 0..n {
                    let d = x[j] - m0[j];
                    assert_eq!((m[j], s[j]), (m0[j] * keep + x[j] * frac, s0[j] + w * keep * d * d));
                }
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let isa = Isa::detect();
        for (rows, n) in [(2, 8), (8, 64), (4, 4), (3, 16)] {
            let beta = data(rows * n, 4);
            let a = data(n, 5);
            let b = data(rows, 6);
            let (mut v1, mut c1, mut v2, mut c2) = (vec![0.0; rows], vec![0.0; n], vec![0.0; rows], vec![0.0; n]);
            contract(Isa::Portable, &beta, &a, &b, &mut v1, &mut c1);
            contract(isa, &beta, &a, &b, &mut v2, &mut c2);
            assert_eq!((v1, c1), (v2, c2));
            let xs: Vec<Vec<f64>> = (0..7).map(|u| data(n, 10 + u)).collect();
            let cs: Vec<Vec<f64>> = (0..7).map(|u| data(rows, 20 + u)).collect();
            let xr: Vec<&[f64]> = xs.iter().map(Vec::as_slice).collect();
            let cr: Vec<&[f64]> = cs.iter().map(Vec::as_slice).collect();
            let mut o1 = data(rows * n, 7);
            let mut o2 = o1.clone();
            let mut o3 = o1.clone();
            outer_accumulate(Isa::Portable, &mut o1, &xr, &cr);
            outer_accumulate(isa, &mut o2, &xr, &cr);
            // One upstream state at a time, the plain way.
            for (x, c) in xs.iter().zip(&cs) {
                for hi in 0..rows {
                    for lo in 0..n {
                        o3[hi * n + lo] += c[hi] * x[lo];
                    }
                }
            }
            assert_eq!(o1, o2);
            assert_eq!(o1, o3);
        }
    }
}
