#!/usr/bin/python3
"""Makes the Torch test fixtures from PyTorch (Debian's python3-torch, the same libtorch).

Run from the repository root:   /usr/bin/python3 scripts/reference/make_torch_fixtures.py

Writes Tests/TorchTests/Fixtures/:
  ops.safetensors          for each case NAME: NAME.in0, NAME.in1, … (inputs), NAME.out (output),
                           NAME.grad0, … (gradients of sum(out * NAME.upstream) w.r.t. float inputs)
  layers.safetensors       for each layer case: the layer's state dict under NAME.state.<key>,
                           its input(s) NAME.in*, output NAME.out
  checkpoint_zip.pt        a small state dict saved by torch.save (zip format)
  checkpoint_legacy.pt     the same saved in the legacy (pre-1.6) format
  checkpoint_expected.safetensors   the same tensors, for comparison
The safetensors files are written by a small writer below (the format is a JSON header and raw
little-endian bytes), so Swift's reader is checked against an independent writer too.
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors_writer import write_safetensors

OUT = os.path.join("Tests", "TorchTests", "Fixtures")
torch.manual_seed(0)


ops = {}


def case(name, fn, *inputs):
    """Records fn(*inputs), and gradients of sum(out * upstream) for float inputs."""
    inputs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out = fn(*inputs)
    for i, x in enumerate(inputs):
        ops[f"{name}.in{i}"] = x.detach()
    ops[f"{name}.out"] = out.detach()
    if out.is_floating_point() and any(x.requires_grad for x in inputs):
        upstream = torch.randn(out.shape, dtype=out.dtype)
        ops[f"{name}.upstream"] = upstream
        (out * upstream).sum().backward()
        for i, x in enumerate(inputs):
            if x.requires_grad:
                ops[f"{name}.grad{i}"] = x.grad


r = torch.randn
case("add_broadcast", lambda a, b: a + b, r(3, 1), r(1, 4))
case("sub", lambda a, b: a - b, r(2, 3), r(2, 3))
case("mul_scalar", lambda a: a * 2.5 + 1.0, r(2, 3))
case("div", lambda a, b: a / b, r(2, 3), r(2, 3).abs() + 0.5)
case("pow", lambda a: a.abs().pow(1.7), r(2, 3))
case("matmul", lambda a, b: a @ b, r(3, 4), r(4, 5))
case("matmul_batched", lambda a, b: a @ b, r(2, 3, 4), r(4, 5))
case("bmm", torch.bmm, r(2, 3, 4), r(2, 4, 5))
case("sum_dims", lambda a: a.sum(dim=(0, 2), keepdim=True), r(2, 3, 4))
case("mean_dim", lambda a: a.mean(dim=1), r(2, 3, 4))
case("amax", lambda a: a.amax(dim=-1), r(3, 5))
case("logsumexp", lambda a: torch.logsumexp(a, dim=1), r(3, 5))
case("norm", lambda a: a.norm(p=2, dim=1), r(3, 5))
case("exp", torch.exp, r(2, 3))
case("log", lambda a: torch.log(a.abs() + 0.1), r(2, 3))
case("sqrt", lambda a: torch.sqrt(a.abs() + 0.1), r(2, 3))
case("tanh", torch.tanh, r(2, 3))
case("sigmoid", torch.sigmoid, r(2, 3))
case("clamp", lambda a: a.clamp(-0.5, 0.7), r(3, 4))
case("relu", F.relu, r(3, 4))
case("silu", F.silu, r(3, 4))
case("gelu", F.gelu, r(3, 4))
case("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), r(3, 4))
case("softmax", lambda a: F.softmax(a, dim=-1), r(3, 5))
case("log_softmax", lambda a: F.log_softmax(a, dim=1), r(3, 5))
case("layer_norm", lambda x, w, b: F.layer_norm(x, (6,), w, b, 1e-5), r(2, 3, 6), r(6), r(6))
case("linear", F.linear, r(4, 3), r(5, 3), r(5))
case("embedding", lambda w, i: F.embedding(i, w), r(10, 4), torch.tensor([[1, 3, 3], [0, 9, 2]]))
case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), r(2, 3, 7, 7), r(4, 3, 3, 3), r(4))
case("conv2d_groups", lambda x, w: F.conv2d(x, w, None, stride=1, padding=1, groups=4), r(1, 4, 5, 5), r(8, 1, 3, 3))
bn_mean, bn_var = r(3), r(3).abs() + 0.5
ops["batch_norm_eval.mean"], ops["batch_norm_eval.var"] = bn_mean, bn_var
case("batch_norm_eval", lambda x, w, b: F.batch_norm(x, bn_mean, bn_var, w, b, training=False, eps=1e-5),
     r(2, 3, 4, 4), r(3), r(3))
case("transpose_reshape", lambda a: a.transpose(0, 2).reshape(4, -1), r(2, 3, 4))
case("permute", lambda a: a.permute(2, 0, 1).contiguous(), r(2, 3, 4))
case("cat", lambda a, b: torch.cat([a, b], dim=1), r(2, 3), r(2, 2))
case("stack", lambda a, b: torch.stack([a, b], dim=1), r(2, 3), r(2, 3))
case("narrow_slice", lambda a: a.narrow(1, 1, 2)[:, :, 1:4:2], r(3, 4, 5))
case("index_select", lambda a, i: a.index_select(0, i), r(5, 3), torch.tensor([4, 0, 4]))
case("gather", lambda a, i: a.gather(1, i), r(3, 4), torch.tensor([[0, 3], [1, 1], [2, 0]]))
case("scatter", lambda a, i, s: a.scatter(1, i, s), r(3, 4), torch.tensor([[0, 3], [1, 2], [2, 0]]), r(3, 2))
case("masked_fill", lambda a, m: a.masked_fill(m, -1.5), r(3, 4), r(3, 4) > 0)
case("where", lambda c, a, b: torch.where(c, a, b), r(3, 4) > 0, r(3, 4), r(3, 4))
case("expand", lambda a: a.expand(3, 4) * 1.0, r(3, 1))
case("cross_entropy", lambda x, t: F.cross_entropy(x, t), r(4, 5), torch.tensor([1, 0, 4, 2]))
case("cross_entropy_ignore", lambda x, t: F.cross_entropy(x, t, ignore_index=-100), r(4, 5), torch.tensor([1, -100, 4, 2]))
case("cross_entropy_smoothing", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), r(4, 5), torch.tensor([1, 0, 4, 2]))
ops["cross_entropy_weighted.weight"] = class_weight = torch.tensor([1.0, 2.0])
case("cross_entropy_weighted", lambda x, t: F.cross_entropy(x, t, weight=class_weight), r(4, 2), torch.tensor([1, 0, 1, 1]))
case("cross_entropy_soft", lambda x, t: F.cross_entropy(x, t), r(4, 5), F.softmax(r(4, 5), dim=1))
case("cross_entropy_seq", lambda x, t: F.cross_entropy(x, t, ignore_index=-100), r(2, 7, 3), torch.tensor([[1, -100, 6], [0, 2, -100]]))
ops["bce_logits.pos_weight"] = pos_weight = torch.tensor([1.0, 2.0, 0.5])
case("bce_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=pos_weight), r(4, 3), (r(4, 3) > 0).float())
case("mse", F.mse_loss, r(3, 4), r(3, 4))
case("normalize", lambda a: F.normalize(a, dim=-1), r(3, 4))
case("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=1), r(3, 4), r(3, 4))


def attention(q, k, v, allowed):
    # The same masking as CTorch: masked scores get float32's lowest finite value.
    s = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    s = s.masked_fill(~allowed, torch.finfo(torch.float32).min)
    return F.softmax(s, dim=-1) @ v


pad = torch.tensor([[True] * 5, [True] * 3 + [False] * 2]).view(2, 1, 1, 5)
case("sdpa_padding", lambda q, k, v, m: attention(q, k, v, m), r(2, 2, 4, 8), r(2, 2, 5, 8), r(2, 2, 5, 8), pad)
causal = torch.ones(4, 4, dtype=torch.bool).tril()
case("sdpa_causal", lambda q, k, v, m: attention(q, k, v, m), r(2, 2, 4, 8), r(2, 2, 4, 8), r(2, 2, 4, 8), causal)

write_safetensors(os.path.join(OUT, "ops.safetensors"), ops)

# --- layers: real torch.nn modules, in eval mode -------------------------------------------
layers = {}


def split_in_proj(prefix, mha, into):
    """nn.MultiheadAttention packs q/k/v into in_proj_*; ours keeps q_proj/k_proj/v_proj."""
    for name, w, b in [("q_proj", 0, 0), ("k_proj", 1, 1), ("v_proj", 2, 2)]:
        e = mha.embed_dim
        into[f"{prefix}{name}.weight"] = mha.in_proj_weight[w * e:(w + 1) * e]
        into[f"{prefix}{name}.bias"] = mha.in_proj_bias[b * e:(b + 1) * e]
    into[f"{prefix}out_proj.weight"] = mha.out_proj.weight
    into[f"{prefix}out_proj.bias"] = mha.out_proj.bias


mha = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
x, kv = r(2, 5, 16), r(2, 6, 16)
key_padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
with torch.no_grad():
    out, weights = mha(x, kv, kv, key_padding_mask=key_padding, average_attn_weights=False)
state = {}
split_in_proj("", mha, state)
for k, v in state.items():
    layers[f"mha.state.{k}"] = v
layers.update({"mha.in0": x, "mha.in1": kv, "mha.key_padding": key_padding, "mha.out": out, "mha.weights": weights})

for norm_first in (True, False):
    name = "encoder_prenorm" if norm_first else "encoder_postnorm"
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation="gelu", batch_first=True,
                                             norm_first=norm_first).eval()
    x = r(2, 5, 16)
    pad = torch.tensor([[False] * 5, [False] * 3 + [True] * 2])
    with torch.no_grad():
        # The fast path skips padded rows' outputs (fills them); compare with it disabled by
        # running under autograd-enabled inputs.
        out = layer(x.requires_grad_(), src_key_padding_mask=pad).detach()
    state = {}
    split_in_proj("self_attn.", layer.self_attn, state)
    for key in ["linear1", "linear2", "norm1", "norm2"]:
        m = getattr(layer, key)
        state[f"{key}.weight"], state[f"{key}.bias"] = m.weight, m.bias
    for k, v in state.items():
        layers[f"{name}.state.{k}"] = v
    layers.update({f"{name}.in0": x.detach(), f"{name}.key_padding": pad, f"{name}.out": out})

bn = torch.nn.BatchNorm2d(3)
bn.running_mean.copy_(r(3))
bn.running_var.copy_(r(3).abs() + 0.5)
bn.weight.data.copy_(r(3))
bn.bias.data.copy_(r(3))
bn.eval()
x = r(2, 3, 4, 4)
with torch.no_grad():
    layers["batchnorm.out"] = bn(x)
layers["batchnorm.in0"] = x
for k, v in bn.state_dict().items():
    layers[f"batchnorm.state.{k}"] = v

write_safetensors(os.path.join(OUT, "layers.safetensors"), {k: v.detach() for k, v in layers.items()})

# --- checkpoints --------------------------------------------------------------------------
from collections import OrderedDict

sd = OrderedDict([("encoder.weight", r(3, 4)), ("encoder.bias", r(3)), ("head.weight", r(2, 3).t()),
                  ("steps", torch.tensor(7)), ("mask", torch.tensor([True, False, True])),
                  ("ids", torch.tensor([1, 2, 3], dtype=torch.int32))])
torch.save(sd, os.path.join(OUT, "checkpoint_zip.pt"))
torch.save(sd, os.path.join(OUT, "checkpoint_legacy.pt"), _use_new_zipfile_serialization=False)
write_safetensors(os.path.join(OUT, "checkpoint_expected.safetensors"), {k: v.contiguous() for k, v in sd.items()})
print("wrote", len(ops), "op tensors,", len(layers), "layer tensors")

# --- optimizers: three steps on fixed gradients ---------------------------------------------
optim = {}
w0, b0 = r(3, 4), r(4)
grads = [(r(3, 4), r(4)) for _ in range(3)]
optim["w0"], optim["b0"] = w0, b0
for i, (gw, gb) in enumerate(grads):
    optim[f"grad{i}.w"], optim[f"grad{i}.b"] = gw, gb


def run(make):
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = make(w, b)
    for gw, gb in grads:
        w.grad, b.grad = gw.clone(), gb.clone()
        opt.step()
    return w.detach(), b.detach()


optim["adamw.w"], optim["adamw.b"] = run(lambda w, b: torch.optim.AdamW(
    [{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}], lr=0.01, betas=(0.9, 0.98), eps=1e-6))
optim["sgd.w"], optim["sgd.b"] = run(lambda w, b: torch.optim.SGD(
    [w, b], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01))
write_safetensors(os.path.join(OUT, "optim.safetensors"), optim)

# --- a real legacy checkpoint: names, shapes and sums of EfficientNet-Lite0 (assets/) ---------
real = torch.load(os.path.join("assets", "efficientnet-lite0", "efficientnet-lite0-57934424.pth"), map_location="cpu")
summary = {k: {"shape": list(v.shape), "dtype": str(v.dtype), "sum": float(v.double().sum())} for k, v in real.items()}
with open(os.path.join(OUT, "efficientnet_lite0_summary.json"), "w") as f:
    json.dump(summary, f, indent=0, sort_keys=True)
