#!/usr/bin/env python3
"""Exports the first PER_CLASS test images of each Fashion-MNIST class as 8-bit grayscale PNGs into
samples/fashion-mnist/<index>_<name>/<test-index>.png (ImageFolder layout; folder names sort in label order).
Usage: export_fashion_mnist.py [PER_CLASS [OUT_DIR [train|t10k]]]

Source: Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), standard library only.
"""
import gzip, os, struct, sys, zlib

SRC = "/usr/share/datasets/fashion-mnist"
NAMES = ["tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]
PER_CLASS = int(sys.argv[1]) if len(sys.argv) > 1 else 32
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-mnist")
SPLIT = sys.argv[3] if len(sys.argv) > 3 else "t10k"


def png_gray(pixels, w, h):
    raw = b"".join(b"\x00" + pixels[y * w:(y + 1) * w] for y in range(h))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


with gzip.open(f"{SRC}/{SPLIT}-images-idx3-ubyte.gz") as f:
    magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
    assert magic == 2051
    images = f.read()
with gzip.open(f"{SRC}/{SPLIT}-labels-idx1-ubyte.gz") as f:
    magic, n2 = struct.unpack(">II", f.read(8))
    assert magic == 2049 and n2 == n
    labels = f.read()

counts = [0] * 10
for i in range(n):
    c = labels[i]
    if counts[c] >= PER_CLASS:
        continue
    counts[c] += 1
    d = os.path.join(OUT, f"{c}_{NAMES[c]}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{i:05d}.png"), "wb") as out:
        out.write(png_gray(images[i * rows * cols:(i + 1) * rows * cols], cols, rows))
    if min(counts) >= PER_CLASS:
        break
print(f"wrote {sum(counts)} images to {OUT}")
