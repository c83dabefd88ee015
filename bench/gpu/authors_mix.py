#!/usr/bin/env python3
"""GPU peer for issue 8, target 5: the paper authors' zeta-mixup formulation in PyTorch, timed on the same GPU and the
same batches as ZetaPrep's CUDA kernel (`ZetaPrep.Bench gpu`): B images of SIZE x SIZE x 3, N = B (their B x B matrix).

Their formulation (github.com/kakumarabhishek/zeta-mixup, zeta_mixup.py): a B x B weight matrix whose rows are ranks
1..B (rank 1 on the diagonal) raised to -gamma and normalised, and x_new = einsum("ijkl,pi->pjkl", x, W) over float32
NCHW tensors already on the GPU. Measured (CUDA events, median, inputs rotated over more than the L2 cache):
  authors_f32   their einsum on float32 NCHW on the device (what their training loop does)
  torch_u8      the same job as ZetaPrep's kernel in PyTorch ops: uint8 NHWC on the device -> float -> einsum ->
                round -> clamp -> uint8 (several kernels and float32 intermediates)
  step_u8_host  torch_u8 plus the copies from and to pinned uint8 host memory, one batch at a time
Prints one JSON line per measurement. Usage: authors_mix.py [SIZE]"""
import json
import sys

import numpy as np
import torch

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 224
GAMMA = 2.8
dev = torch.device("cuda")
rng = np.random.default_rng()


def zeta_weights(b):
    """Rows: a random permutation of ranks 1..b, rotated so rank 1 sits on the diagonal; rank^-gamma, normalised."""
    ranks = np.argsort(rng.random((b, b)), axis=1) + 1
    for i in range(b):
        ranks[i] = np.roll(ranks[i], i - int(np.argmax(ranks[i] == 1)))
    w = ranks.astype(np.float64) ** -GAMMA
    return torch.tensor(w / w.sum(axis=1, keepdims=True), dtype=torch.float32, device=dev)


def timed(fn, reps=20, inner=10):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / inner)
    return sorted(times)[reps // 2]


def sets_for(batch_bytes):
    return max(2, -(-256_000_000 // batch_bytes))


props = torch.cuda.get_device_properties(0)
print(json.dumps({"device": props.name, "torch": torch.__version__, "cuda": torch.version.cuda}))
a = torch.empty(1 << 30, dtype=torch.uint8, device=dev).random_(0, 255)
bcopy = torch.empty_like(a)
copy_ms = timed(lambda: bcopy.copy_(a), reps=10, inner=1)
bandwidth = 2 * a.numel() / (copy_ms / 1e3)
del a, bcopy
print(json.dumps({"measure": "d2d_copy", "gb_per_s": round(bandwidth / 1e9)}))

pixels = SIZE * SIZE * 3
for b in (32, 64, 128, 256):
    w = zeta_weights(b)
    # Their inputs: float32 NCHW on the device.
    n = sets_for(b * pixels * 4)
    xs = [torch.rand(b, 3, SIZE, SIZE, device=dev) for _ in range(n)]
    k = [0]

    def authors():
        k[0] += 1
        return torch.einsum("ijkl,pi->pjkl", xs[k[0] % n], w)

    ms = timed(authors)
    floor = 2 * 4 * b * pixels / bandwidth * 1e3
    print(json.dumps({"measure": "authors_f32", "batch": b, "ms": round(ms, 4), "images_per_s": round(b / ms * 1e3),
                      "own_floor_ms": round(floor, 4), "of_own_floor": round(floor / ms, 2)}))
    del xs

    # ZetaPrep's job in PyTorch ops: uint8 in, uint8 out.
    n = sets_for(b * pixels)
    x8 = [torch.randint(0, 256, (b, SIZE, SIZE, 3), dtype=torch.uint8, device=dev) for _ in range(n)]

    def torch_u8():
        k[0] += 1
        x = x8[k[0] % n].float()
        y = torch.einsum("ihwc,pi->phwc", x, w)
        return y.round_().clamp_(0, 255).to(torch.uint8)

    ms = timed(torch_u8)
    floor = 2 * b * pixels / bandwidth * 1e3
    print(json.dumps({"measure": "torch_u8", "batch": b, "ms": round(ms, 4), "images_per_s": round(b / ms * 1e3),
                      "floor_ms": round(floor, 4), "of_floor": round(floor / ms, 2)}))
    del x8

# One batch of 32 at a time from pinned host memory and back, as a pipeline would call it.
b = 32
w = zeta_weights(b)
host_in = torch.randint(0, 256, (b, SIZE, SIZE, 3), dtype=torch.uint8).pin_memory()
host_out = torch.empty_like(host_in).pin_memory()


def step():
    x = host_in.to(dev, non_blocking=True).float()
    y = torch.einsum("ihwc,pi->phwc", x, w).round_().clamp_(0, 255).to(torch.uint8)
    host_out.copy_(y, non_blocking=True)


ms = timed(step, reps=20, inner=5)
print(json.dumps({"measure": "step_u8_host", "batch": b, "ms": round(ms, 4), "images_per_s": round(b / ms * 1e3)}))
