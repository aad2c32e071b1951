#!/usr/bin/python3
"""Reference side of `vlp-bench embed`: a CLIP model embedding images and texts with its own
package, on Debian's torch 1.13 (the libtorch the Swift build links). Prints one JSON object.

    embed_peer.py save MODEL CHECKPOINT
        builds MODEL with random weights (seeded) and saves its state dict, which the Swift side
        imports (`vlp import`), so both sides run the same architecture and weights.
    embed_peer.py measure MODEL CHECKPOINT SPEC
        SPEC (JSON): batches, repeats, threads, photos (files), texts, device (cpu, the default, or
        cuda: model and inputs on the GPU, each timed call ending with torch.cuda.synchronize(),
        decoding and preprocessing on the CPU). For each batch size: images/s
        of the forward pass alone (pixels prepared once: the package's transform of the photos,
        cycled to the batch) and end to end (PIL decode + the package's transform + stack +
        forward), texts/s of the forward alone (ids tokenized once) and end to end (tokenize +
        forward); every feature L2-normalised, as swift-vlp returns them. Median seconds of
        `repeats` runs after one warm-up. Memory: the peak resident set (VmHWM) at the end minus
        the resident set just before the model is built.

MODEL: cn-clip-vit-b-16 (cn_clip 1.6's CLIP: ViT-B/16 at 224 px + RoBERTa-wwm-ext-base, 21,128
tokens; its `image_transform(224)` squash and `tokenize(context_length=52)`), or
openclip-vit-b-32 (open_clip 2.32's named ViT-B-32; `image_transform(224, is_train=False)`,
its tokenizer, 77 tokens)."""
import json
import os
import sys
import time

import torch
from PIL import Image

from peer_memory import peak_resident_bytes, resident_bytes


def build(name):
    """The model, its image transform and its tokenizer."""
    if name == "cn-clip-vit-b-16":
        from cn_clip.clip import tokenize
        from cn_clip.clip.model import CLIP
        from cn_clip.clip.utils import image_transform
        model = CLIP(embed_dim=512, image_resolution=224, vision_layers=12, vision_width=768, vision_patch_size=16,
                     vocab_size=21128, text_attention_probs_dropout_prob=0.1, text_hidden_act="gelu",
                     text_hidden_dropout_prob=0.1, text_hidden_size=768, text_initializer_range=0.02,
                     text_intermediate_size=3072, text_max_position_embeddings=512, text_num_attention_heads=12,
                     text_num_hidden_layers=12, text_type_vocab_size=2)
        return model, image_transform(224), lambda texts: tokenize(texts, context_length=52)
    if name == "openclip-vit-b-32":
        import open_clip
        from open_clip.transform import image_transform
        return open_clip.create_model("ViT-B-32"), image_transform(224, is_train=False), open_clip.get_tokenizer("ViT-B-32")
    raise SystemExit(f"unknown model {name}")


def median_seconds(body, repeats, device="cpu"):
    def run():
        body()
        if device == "cuda":
            torch.cuda.synchronize()
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def normalized(x):
    return x / x.norm(dim=-1, keepdim=True)


def measure(name, checkpoint, spec):
    torch.set_num_threads(spec["threads"])
    # As `TorchThreads.configureDefaults()` does on the Swift side.
    if "VLP_KEEP_DENORMALS" not in os.environ:
        torch.set_flush_denormal(True)
    before = resident_bytes()
    model, transform, tokenizer = build(name)
    model.load_state_dict(torch.load(checkpoint))
    device = spec.get("device", "cpu")
    if device not in ("cpu", "cuda"):
        sys.exit(f"embed_peer: device {device!r} is neither cpu nor cuda")
    model.to(device)
    model.eval()
    result = {"images": {}, "texts": {}}
    with torch.no_grad():
        for batch in spec["batches"]:
            files = [spec["photos"][i % len(spec["photos"])] for i in range(batch)]
            texts = [spec["texts"][i % len(spec["texts"])] for i in range(batch)]
            pixels = torch.stack([transform(Image.open(f)) for f in files]).to(device)
            ids = tokenizer(texts).to(device)
            result["images"][str(batch)] = {
                "forward": median_seconds(lambda: normalized(model.encode_image(pixels)), spec["repeats"], device),
                "end_to_end": median_seconds(
                    lambda: normalized(model.encode_image(torch.stack([transform(Image.open(f)) for f in files]).to(device))),
                    spec["repeats"], device),
            }
            result["texts"][str(batch)] = {
                "forward": median_seconds(lambda: normalized(model.encode_text(ids)), spec["repeats"], device),
                "end_to_end": median_seconds(lambda: normalized(model.encode_text(tokenizer(texts).to(device))), spec["repeats"], device),
            }
    result["resident_before_bytes"] = before
    result["peak_resident_bytes"] = peak_resident_bytes()
    result["parameters"] = sum(p.numel() for p in model.parameters())
    return result


if __name__ == "__main__":
    mode, name, checkpoint = sys.argv[1:4]
    if mode == "save":
        torch.manual_seed(1)
        model, _, _ = build(name)
        torch.save(model.state_dict(), checkpoint)
        print(json.dumps({"saved": checkpoint, "parameters": sum(p.numel() for p in model.parameters())}))
    else:
        print(json.dumps(measure(name, checkpoint, json.loads(sys.argv[4]))))
