//! The packed digits (`core/data/digits.bin`, written by `scripts/digits.py`): the file is the one
//! the script writes (its SHA-256), it decodes to 1797 images of 64 binary pixels with labels 0–9,
//! its first images are the source's first lines binarised at 8, and the split has 1438 training
//! and 359 test images.

use sha2::{Digest, Sha256};
use stochgrad_core::digits::{self, IMAGES, PIXELS};

#[test]
fn the_file_is_the_one_the_script_writes() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.bin")).unwrap();
    assert_eq!(bytes.len(), IMAGES * 9);
    let digest: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(digest, "f94a2d07d543304c48c49376af2285d7b396fa1c5f7c061f41c66575bdb30c06");
}

#[test]
fn images_decode_to_the_source_binarised_at_eight() {
    // The first two lines of sklearn/datasets/data/digits.csv.gz (scikit-learn 1.9.1): 64 values, the label.
    let source: [(&str, u8); 2] = [
        ("0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0", 0),
        ("0,0,0,12,13,5,0,0,0,0,0,11,16,9,0,0,0,0,3,15,16,6,0,0,0,7,15,16,16,2,0,0,0,0,1,16,16,3,0,0,0,0,1,16,16,6,0,0,0,0,1,16,16,6,0,0,0,0,0,11,16,10,0,0", 1),
    ];
    for (i, (line, label)) in source.iter().enumerate() {
        let d = digits::image(i);
        let want: Vec<u8> = line.split(',').map(|v| u8::from(v.parse::<u8>().unwrap() >= 8)).collect();
        assert_eq!(d.pixels.to_vec(), want, "image {i}");
        assert_eq!(d.label, *label, "image {i}");
    }
}

#[test]
fn every_image_is_binary_with_a_digit_label_and_the_split_is_by_index() {
    let mut per_label = [0usize; 10];
    for i in 0..IMAGES {
        let d = digits::image(i);
        assert!(d.pixels.iter().all(|&p| p <= 1));
        per_label[usize::from(d.label)] += 1;
    }
    // Every digit is there, about 180 of each.
    assert!(per_label.iter().all(|&n| (170..=190).contains(&n)), "{per_label:?}");
    let (train, test) = (digits::train(), digits::test());
    assert_eq!((train.len(), test.len()), (1438, 359));
    assert!(test.iter().all(|&i| i % 5 == 4) && train.iter().all(|&i| i % 5 != 4));
    // The fraction of 1-pixels, counted here over the decoded images.
    let ones: usize = (0..IMAGES).map(|i| digits::image(i).pixels.iter().filter(|&&p| p == 1).count()).sum();
    assert_eq!(digits::ones_fraction(), ones as f64 / (IMAGES * PIXELS) as f64);
}
