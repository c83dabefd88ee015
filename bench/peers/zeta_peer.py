#!/usr/bin/python3
"""The Python peer for the throughput comparison (issue 8, target 1): the same job as
`zetaprep generate --n 8 --gamma 2.8 --batch-size 32 --size 224`, written the careful way with Debian's own
packages (python3-pil, python3-numpy):

- PIL with draft-mode JPEG decoding (`Image.draft`: libjpeg DCT scaling to the smallest scale ≥ the target),
  BILINEAR resize of the shorter side to SIZE, centre crop;
- numpy ζ-mixup within batches of 32: W (32×32, N = 8 non-zeros per row, dominant on the diagonal) @ X as float32,
  round half to even, uint8;
- PNG at compress_level=1;
- a process pool over all cores, one batch per task, results written in order.

Debian 12 ships no Parquet writer for Python (no pyarrow/fastparquet), so the peer writes the PNGs (and a JSON
label per sample) into a WebDataset tar; the container's cost is negligible next to the codecs (zetaprep's own
--profile puts its Parquet write under 2% of the time).

Usage: zeta_peer.py IN_DIR OUT.tar [--size 224] [--n 8] [--gamma 2.8] [--batch 32] [--workers CORES] [--seed 0]
"""
import argparse, io, json, os, random, sys, tarfile, time
from multiprocessing import Pool

import numpy as np
from PIL import Image

EXTS = {".jpg", ".jpeg", ".png"}


def list_inputs(root):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    items = []
    for ci, c in enumerate(classes):
        for dirpath, _, files in os.walk(os.path.join(root, c)):
            for f in files:
                if os.path.splitext(f)[1].lower() in EXTS:
                    items.append((os.path.relpath(os.path.join(dirpath, f), root), ci))
    items.sort()
    return classes, items


def load(path, size):
    im = Image.open(path)
    w, h = im.size
    s = size / min(w, h)
    im.draft("RGB", (max(1, int(w * s)), max(1, int(h * s))))  # DCT-domain downscale for JPEG
    im = im.convert("RGB")
    w, h = im.size
    s = size / min(w, h)
    nw, nh = max(size, round(w * s)), max(size, round(h * s))
    im = im.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(im.crop((left, top, left + size, top + size)), dtype=np.uint8)


def zeta_weights(m, n, gamma, rng):
    w = np.zeros((m, m), dtype=np.float32)
    ranks = np.arange(1, n + 1, dtype=np.float64) ** -gamma
    ranks /= ranks.sum()
    for k in range(m):
        others = [p for p in range(m) if p != k]
        members = [k] + list(rng.choice(others, size=n - 1, replace=False))
        w[k, members] = ranks.astype(np.float32)
    return w


def process(task):
    root, batch, size, n, gamma, seed, index, classes = task
    x = np.stack([load(os.path.join(root, rel), size) for rel, _ in batch])
    m = len(batch)
    rng = np.random.default_rng(seed * 1_000_003 + index)
    w = zeta_weights(m, min(n, m), gamma, rng)
    y = np.rint(w @ x.reshape(m, -1).astype(np.float32)).clip(0, 255).astype(np.uint8).reshape(x.shape)
    onehot = np.zeros((m, classes), dtype=np.float32)
    onehot[np.arange(m), [c for _, c in batch]] = 1
    labels = w @ onehot
    out = []
    for k in range(m):
        buf = io.BytesIO()
        Image.fromarray(y[k]).save(buf, format="PNG", compress_level=1)
        out.append((buf.getvalue(), json.dumps({"label": labels[k].tolist(), "dominant": batch[k][1]}).encode()))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input"); ap.add_argument("output")
    ap.add_argument("--size", type=int, default=224); ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--gamma", type=float, default=2.8); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--workers", type=int, default=os.cpu_count()); ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    start = time.perf_counter()
    classes, items = list_inputs(a.input)
    random.Random(a.seed).shuffle(items)
    batches = [items[i:i + a.batch] for i in range(0, len(items), a.batch)]
    tasks = [(a.input, b, a.size, a.n, a.gamma, a.seed, i, len(classes)) for i, b in enumerate(batches)]
    rows = 0
    with Pool(a.workers) as pool, tarfile.open(a.output + ".tmp", "w", format=tarfile.USTAR_FORMAT) as tar:
        for result in pool.imap(process, tasks):
            for png, meta in result:
                for suffix, data in ((".png", png), (".json", meta)):
                    info = tarfile.TarInfo(f"{rows:08d}{suffix}"); info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                rows += 1
    os.replace(a.output + ".tmp", a.output)
    wall = time.perf_counter() - start
    print(json.dumps({"rows": rows, "seconds": round(wall, 3), "images_per_s": round(rows / wall, 1), "workers": a.workers}))


if __name__ == "__main__":
    main()
