#!/usr/bin/python3
"""open_clip side of `vlp-bench train-step`: the same dual encoder built with open_clip's own
`open_clip.model.CLIP` from a custom config (nothing downloaded), trained on fixed random inputs
(forward, `open_clip.loss.ClipLoss`, backward, `torch.optim.AdamW`) on Debian's torch 1.13 —
the libtorch the Swift build links. Prints one JSON object.

Arguments: the model's shape as JSON (open_clip's embed_dim, vision_cfg, text_cfg), the
precision (fp32 or bf16: forward and loss under `torch.autocast("cpu", dtype=torch.bfloat16)`,
backward outside), batch, warm-up steps, timed steps, intra-op threads, and the device (cpu, the
default, or cuda: inputs and model on the GPU, `torch.autocast("cuda", ...)` for bf16, each step
timed up to `torch.cuda.synchronize()`).

Memory is measured as on the Swift side: the resident set just before the model is built
(/proc/self/statm) and the process's peak resident set at the end (VmHWM in /proc/self/status)."""
import json
import os
import sys
import time

import torch

from open_clip.loss import ClipLoss
from open_clip.model import CLIP
from peer_memory import peak_resident_bytes, resident_bytes


shape, precision = json.loads(sys.argv[1]), sys.argv[2]
batch, warmup, steps, threads = (int(a) for a in sys.argv[3:7])
device = sys.argv[7] if len(sys.argv) > 7 else "cpu"
if device not in ("cpu", "cuda"):
    sys.exit(f"train_step_peer: device {device!r} is neither cpu nor cuda")
torch.set_num_threads(threads)
# As `TorchThreads.configureDefaults()` does on the Swift side.
if "VLP_KEEP_DENORMALS" not in os.environ:
    torch.set_flush_denormal(True)
torch.manual_seed(1)

vision, text = shape["vision_cfg"], shape["text_cfg"]
size, length, vocabulary = vision["image_size"], text["context_length"], text["vocab_size"]
images = torch.randn(batch, 3, size, size)
# Random tokens, the end-of-text token (the vocabulary's last id, where argmax pools) last.
ids = torch.randint(1000, vocabulary - 1, (batch, length))
ids[:, -1] = vocabulary - 1
images, ids = images.to(device), ids.to(device)

before = resident_bytes()
# bf16: open_clip's cast_dtype picks its LayerNormFp32 (normalises in fp32, returns the input's
# dtype), which is what lets autocast run here: torch 1.13's CPU layer_norm rejects a bf16 input
# with fp32 weights. It changes nothing else in the model.
model = CLIP(embed_dim=shape["embed_dim"], vision_cfg=vision, text_cfg=text, quick_gelu=False,
             cast_dtype=torch.bfloat16 if precision == "bf16" else None)
model.to(device)
model.train()
loss_fn = ClipLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)


def step():
    optimizer.zero_grad(set_to_none=True)
    if precision == "bf16":
        with torch.autocast(device, dtype=torch.bfloat16):
            loss = loss_fn(*model(images, ids))
    else:
        loss = loss_fn(*model(images, ids))
    loss.backward()
    optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()


for _ in range(warmup):
    step()
times = []
for _ in range(steps):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)

print(json.dumps({
    "step_seconds": times,
    "parameters": sum(p.numel() for p in model.parameters()),
    "resident_before_bytes": before,
    "peak_resident_bytes": peak_resident_bytes(),
}))
