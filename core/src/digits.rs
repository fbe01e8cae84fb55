//! The binarised 8×8 digits: the 1797 images of scikit-learn's digits data set (the test set of
//! the UCI "Optical Recognition of Handwritten Digits" data, E. Alpaydin and C. Kaynak), each pixel
//! 1 where its value (0–16) is ≥ 8, packed in `core/data/digits.bin` by `scripts/digits.py` (which
//! regenerates it from the scikit-learn 1.9.1 wheel and documents the format: 9 bytes per image,
//! eight rows of bits then the label). The data of the discrete VAE (issue 18); the split is by
//! index: every fifth image (index mod 5 = 4) is a test image.

/// Images in the data set.
pub const IMAGES: usize = 1797;
/// Pixels per image (8 × 8).
pub const PIXELS: usize = 64;

const PACKED: &[u8] = include_bytes!("../data/digits.bin");
const RECORD: usize = 9;

/// One image: its pixels row by row (0 or 1) and its label (0–9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digit {
    pub pixels: [u8; PIXELS],
    pub label: u8,
}

/// Image `index` (0 ≤ index < [`IMAGES`]), in the source file's order.
pub fn image(index: usize) -> Digit {
    let r = &PACKED[index * RECORD..(index + 1) * RECORD];
    let mut pixels = [0u8; PIXELS];
    for (k, p) in pixels.iter_mut().enumerate() {
        *p = (r[k / 8] >> (k % 8)) & 1;
    }
    Digit { pixels, label: r[8] }
}

/// Whether image `index` belongs to the test split (index mod 5 = 4: 359 images; the other 1438 train).
pub fn is_test(index: usize) -> bool {
    index % 5 == 4
}

/// The indices of the training images, ascending.
pub fn train() -> Vec<usize> {
    (0..IMAGES).filter(|&i| !is_test(i)).collect()
}

/// The indices of the test images, ascending.
pub fn test() -> Vec<usize> {
    (0..IMAGES).filter(|&i| is_test(i)).collect()
}

/// The fraction of 1-pixels over all images.
pub fn ones_fraction() -> f64 {
    let ones: u32 = PACKED.chunks_exact(RECORD).map(|r| r[..8].iter().map(|b| b.count_ones()).sum::<u32>()).sum();
    f64::from(ones) / (IMAGES * PIXELS) as f64
}
