#!/usr/bin/env python3
"""Regenerate core/data/digits.bin, the binarised 8×8 digits stochgrad trains its discrete VAE on.

Source: the 1797 images of scikit-learn's digits data set (a copy of the test set of the UCI
"Optical Recognition of Handwritten Digits" data, E. Alpaydin and C. Kaynak; 8×8 pixels, values
0–16), as `sklearn/datasets/data/digits.csv.gz` inside the scikit-learn 1.9.1 wheel on PyPI
(scikit-learn is BSD-3-licensed). Each line of that file is 64 pixel values, row by row, then the label.

    python3 scripts/digits.py                  # pip download --no-deps scikit-learn==1.9.1, then pack
    python3 scripts/digits.py --wheel W.whl    # pack from a wheel already downloaded

Output, 1797 records of 9 bytes in the file's order: bytes 0–7 are the image's rows, top first;
bit c of a row's byte (least significant first) is the pixel in column c, 1 where the value is
≥ 8; byte 8 is the label (0–9). core/tests/digits.rs checks the result's SHA-256 (printed below)
and decodes it against the source's first lines.
"""
import argparse
import glob
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

VERSION = "1.9.1"
MEMBER = "sklearn/datasets/data/digits.csv.gz"
# The source file's SHA-256 (the same in every platform's wheel of this version).
SOURCE_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "data", "digits.bin")


def pack(csv_gz: bytes) -> bytes:
    out = bytearray()
    for line in gzip.decompress(csv_gz).decode("ascii").splitlines():
        if not line.strip():
            continue
        values = [int(float(v)) for v in line.split(",")]
        assert len(values) == 65, f"a line of {len(values)} values"
        pixels, label = values[:64], values[64]
        assert all(0 <= p <= 16 for p in pixels) and 0 <= label <= 9
        for r in range(8):
            out.append(sum(1 << c for c in range(8) if pixels[8 * r + c] >= 8))
        out.append(label)
    assert len(out) == 1797 * 9, f"{len(out) // 9} images"
    return bytes(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", help="a scikit-learn wheel already downloaded")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", f"scikit-learn=={VERSION}", "-d", tmp],
                           check=True)
            wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
        raw = zipfile.ZipFile(wheel).read(MEMBER)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        sys.exit(f"{MEMBER} in {wheel} has SHA-256 {digest}, not {SOURCE_SHA256}")
    data = pack(raw)
    with open(OUT, "wb") as f:
        f.write(data)
    print(f"wrote {os.path.normpath(OUT)}: {len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
