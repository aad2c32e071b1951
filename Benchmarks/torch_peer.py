#!/usr/bin/python3
"""PyTorch side of `vlp-bench torch`: the same measurements on the same libtorch (Debian's
python3-torch). Prints one JSON object. Arguments: intra-op threads, repeats."""
import json
import sys
import time

import torch

threads, repeats = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)


def median_seconds(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


result = {}
a, b = torch.ones(4), torch.ones(4)
for _ in range(1000):
    a + b
result["add_us"] = median_seconds(lambda: [a + b for _ in range(10000)], 5) / 10000 * 1e6
ag = torch.ones(4, requires_grad=True)
result["add_grad_us"] = median_seconds(lambda: [ag + b for _ in range(10000)], 5) / 10000 * 1e6
for n in (512, 1024):
    x, y = torch.randn(n, n), torch.randn(n, n)
    x @ y
    result[f"matmul{n}_s"] = median_seconds(lambda: x @ y, repeats)

block = torch.nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
inp = torch.randn(32, 64, 256)


def step():
    block.zero_grad(set_to_none=True)
    block(inp).sum().backward()


for _ in range(3):
    step()
result["block_s"] = median_seconds(step, repeats)
print(json.dumps(result))
