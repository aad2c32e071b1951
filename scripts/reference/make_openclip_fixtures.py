#!/usr/bin/python3
"""Makes the OpenCLIP import fixtures (Tests/VLPTests/Fixtures/openclip/) with the real `open_clip`.

Run from the repository root, after `make assets`:
    /usr/bin/python3 scripts/reference/make_openclip_fixtures.py
Needs Debian's python3-torch / python3-torchvision (1.13 / 0.14, the same libtorch as the Swift
build), Pillow, and open_clip_torch 2.32.0 without its dependencies, plus the few pure-Python
modules it imports for what is used here (its tokenizer's regex and ftfy, tqdm):
    /usr/bin/python3 -m pip install --no-deps --break-system-packages open_clip_torch==2.32.0 \
        regex ftfy wcwidth tqdm
(open_clip 2.32.0 imports and runs on torch 1.13; huggingface_hub, timm and safetensors are not
needed: nothing is downloaded.)

A small `open_clip.model.CLIP` (ViT image tower: width 32, 2 layers, head width 16 so 2 heads,
patch 8, 32 px images; text transformer: width 32, 2 layers, 4 heads, context 77; embed dim 32;
GELU, as open_clip's own named configs without "-quickgelu") is built with open_clip's own
constructor, seeded, and then EVERY parameter is perturbed (layer-norm weights and biases,
zero-initialised biases, the logit scale), so a transposed, swapped or skipped tensor shows.

The BPE vocabulary is cut: `bpe-cut.txt.gz` holds the header line and the first MERGES merges of
open_clip's `bpe_simple_vocab_16e6.txt.gz` (a prefix of the merge list is itself a valid merge
list), so the vocabulary is 512 byte symbols + MERGES merges + 2 special tokens and the token
embedding a few hundred rows instead of 49,408 (6 MB at width 32). open_clip's own
`SimpleTokenizer(bpe_path=...)` reads it, so the ids come from the real tokenizer code.

Writes:
  bpe-cut.txt.gz          the cut merges file (no trailing newline: open_clip splits on '\\n').
  config.json             the model's shape as a swift-vlp VLPModelConfiguration (dual_encoder, text
                          kind clip), for `vlp import --config`: head counts are not in the shapes.
  openclip-epoch.pt       open_clip_train's checkpoint layout: {"epoch", "name", "state_dict",
                          "optimizer"} with `module.`-prefixed keys (DistributedDataParallel), fp32.
  openclip-fp16.pt        the plain state dict (the layout of released `open_clip_pytorch_model.bin`
                          files), after open_clip's `convert_weights_to_lp(model, float16)`
                          (linear, conv, attention, `proj`, `text_projection` fp16; layer norms,
                          embeddings, the logit scale fp32), torch's legacy (non-zip) format.
  reference.safetensors   pixels [2, 3, 32, 32]: chelsea.png and coffee.png through open_clip's
                          `image_transform(32, is_train=False)` (shortest side bicubic + centre crop,
                          CLIP mean/std); text_ids [3, 77]: TEXTS through the tokenizer;
                          image_features [2, 32] / text_features [3, 32]: `encode_image` /
                          `encode_text` (not normalised); logit_scale [] (its exp); logits_per_image
                          [2, 3] (scale · cosine); *_fp16: the same from the fp16 checkpoint's
                          values upcast to fp32 (CPU torch 1.13 has no fp16 matmul); *_jit: the same
                          for openai-jit.pt.
  openai-jit.pt           a stand-in for OpenAI's released `ViT-B-32.pt`: the same weights in a
                          QuickGELU model (OpenAI's activation), converted to fp16 as above, saved by
                          `torch.jit.save(torch.jit.script(model))` — a TorchScript archive.

Full-size check (outside the test suite, nothing committed):
    /usr/bin/python3 scripts/reference/make_openclip_fixtures.py --full-size .build/debug/vlp
builds open_clip's named ViT-B-32 (GELU) and ViT-B-32-quickgelu (OpenAI's activation) with the
real 49,408-token vocabulary and random, perturbed weights, saves the first in open_clip_train's
epoch layout (fp32) and the second as an fp16 plain state dict under a temporary folder, runs
`vlp import` (no --config: heads by OpenAI's convention, width / 64; `--activation quick_gelu` for
the second) and `vlp embed` on four photos and the three texts, and prints the largest
differences from open_clip's normalised features.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import torch
from PIL import Image

import open_clip
from open_clip.model import CLIP, convert_weights_to_lp
from open_clip.tokenizer import SimpleTokenizer
from open_clip.transform import image_transform
from perturbation import perturb
from safetensors_writer import write_safetensors

OUT = os.path.join("Tests", "VLPTests", "Fixtures", "openclip")
ASSETS = "assets"
BPE = os.path.join(ASSETS, "open-clip", "bpe_simple_vocab_16e6.txt.gz")

MERGES = 400
CONTEXT = 77
PHOTOS = ["chelsea.png", "coffee.png"]
TEXTS = ["a photo of a cat", "A cup of coffee on a wooden table.", "an astronaut in front of the U.S. flag, 2024!"]

VISION = dict(image_size=32, layers=2, width=32, patch_size=8, head_width=16)
TEXT = dict(context_length=CONTEXT, width=32, heads=4, layers=2)
EMBED = 32


def cut_merges():
    """The header line and the first MERGES merges of open_clip's merges file, gzipped."""
    with gzip.open(BPE) as f:
        lines = f.read().decode("utf-8").split("\n")
    path = os.path.join(OUT, "bpe-cut.txt.gz")
    # mtime 0: the same bytes on every run.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write("\n".join(lines[:1 + MERGES]).encode("utf-8"))
    vocabulary = 512 + MERGES + 2
    print(f"wrote {path} ({MERGES} merges, vocabulary {vocabulary})")
    return path, vocabulary




def outputs(model, pixels, ids):
    with torch.no_grad():
        image = model.encode_image(pixels).float()
        text = model.encode_text(ids).float()
        scale = model.logit_scale.exp().float()
        logits = scale * torch.nn.functional.normalize(image, dim=-1) @ torch.nn.functional.normalize(text, dim=-1).t()
    return image, text, logits


def make_model(vocabulary, quick_gelu=False):
    return CLIP(embed_dim=EMBED, vision_cfg=VISION, text_cfg=dict(TEXT, vocab_size=vocabulary), quick_gelu=quick_gelu)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20241203)
    bpe_path, vocabulary = cut_merges()
    tokenizer = SimpleTokenizer(bpe_path=bpe_path, context_length=CONTEXT)
    assert len(tokenizer.encoder) == vocabulary, len(tokenizer.encoder)
    model = make_model(vocabulary)
    perturb(model)
    model.eval()

    transform = image_transform(VISION["image_size"], is_train=False)
    pixels = torch.stack([transform(Image.open(os.path.join(ASSETS, "photos", name))) for name in PHOTOS])
    ids = tokenizer(TEXTS)
    image, text, logits = outputs(model, pixels, ids)
    state = model.state_dict()

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)  # no step taken: its state holds no tensors
    torch.save({"epoch": 2, "name": "openclip-tiny",
                "state_dict": {"module." + k: v.clone() for k, v in state.items()},
                "optimizer": optimizer.state_dict()},
               os.path.join(OUT, "openclip-epoch.pt"))
    print(f"wrote openclip-epoch.pt ({os.path.getsize(os.path.join(OUT, 'openclip-epoch.pt'))} bytes, {len(state)} tensors)")

    half = make_model(vocabulary)
    half.load_state_dict(state)
    convert_weights_to_lp(half, torch.float16)
    half_state = half.state_dict()
    dtypes = sorted({str(v.dtype) for v in half_state.values()})
    torch.save(half_state, os.path.join(OUT, "openclip-fp16.pt"), _use_new_zipfile_serialization=False)
    print(f"wrote openclip-fp16.pt ({os.path.getsize(os.path.join(OUT, 'openclip-fp16.pt'))} bytes, dtypes {dtypes})")
    half.float().eval()
    image16, text16, logits16 = outputs(half, pixels, ids)

    # OpenAI distributes its CLIPs as TorchScript archives of a QuickGELU model with fp16 weights.
    openai = make_model(vocabulary, quick_gelu=True)
    openai.load_state_dict(state)
    convert_weights_to_lp(openai, torch.float16)
    openai.eval()
    jit_path = os.path.join(OUT, "openai-jit.pt")
    torch.jit.save(torch.jit.script(openai), jit_path)
    archived = torch.jit.load(jit_path).state_dict()
    assert all(torch.equal(archived[k], v) for k, v in openai.state_dict().items())
    print(f"wrote openai-jit.pt ({os.path.getsize(jit_path)} bytes, TorchScript, QuickGELU, {len(archived)} tensors)")
    openai.float()
    image_jit, text_jit, logits_jit = outputs(openai, pixels, ids)

    write_safetensors(os.path.join(OUT, "reference.safetensors"), {
        "pixels": pixels, "text_ids": ids,
        "image_features": image, "text_features": text, "logit_scale": model.logit_scale.exp().detach(),
        "logits_per_image": logits,
        "image_features_fp16": image16, "text_features_fp16": text16, "logits_per_image_fp16": logits16,
        "image_features_jit": image_jit, "text_features_jit": text_jit, "logits_per_image_jit": logits_jit,
    }, metadata={"photos": json.dumps(PHOTOS), "texts": json.dumps(TEXTS), "context_length": str(CONTEXT),
                 "torch": torch.__version__, "open_clip": open_clip.__version__})

    config = {
        "architecture": "dual_encoder", "embed_dim": EMBED,
        "text": {"kind": "clip", "vocab_size": vocabulary, "width": TEXT["width"], "layers": TEXT["layers"],
                 "heads": TEXT["heads"], "context_length": CONTEXT, "activation": "gelu"},
        "vision": {"image_size": VISION["image_size"], "patch_size": VISION["patch_size"], "width": VISION["width"],
                   "layers": VISION["layers"], "heads": VISION["width"] // VISION["head_width"],
                   "activation": "gelu", "layer_norm_eps": 1e-5},
    }
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print("wrote config.json")
    print("fp16 weights vs fp32: image max abs", (image16 - image).abs().max().item(),
          "text", (text16 - text).abs().max().item(), "logits", (logits16 - logits).abs().max().item())


def full_size_check(vlp, name, layout, activation):
    """open_clip's named `name` with random perturbed weights, saved in `layout` ("epoch": the fp32
    epoch checkpoint; "fp16": a plain state dict after convert_weights_to_lp; "jit": the fp16
    model as a TorchScript archive, OpenAI's form), against `vlp import`
    (no --config; `--activation activation` when given) + `vlp embed`."""
    torch.manual_seed(7)
    model = open_clip.create_model(name)
    perturb(model)
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    photos = ["chelsea.png", "coffee.png", "astronaut.png", "hubble_deep_field.jpg"]
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, "checkpoint.pt")
        if layout == "epoch":
            torch.save({"epoch": 1, "name": "full-size-check",
                        "state_dict": {"module." + k: v for k, v in model.state_dict().items()}}, checkpoint)
        elif layout == "jit":
            convert_weights_to_lp(model, torch.float16)
            torch.jit.save(torch.jit.script(model), checkpoint)
            model.float()
        else:
            convert_weights_to_lp(model, torch.float16)
            torch.save(model.state_dict(), checkpoint)
            model.float()
        transform = image_transform(224, is_train=False)
        pixels = torch.stack([transform(Image.open(os.path.join(ASSETS, "photos", photo))) for photo in photos])
        with torch.no_grad():
            image = model.encode_image(pixels, normalize=True)
            text = model.encode_text(tokenizer(TEXTS), normalize=True)
        bundle = os.path.join(folder, "bundle")
        subprocess.run([vlp, "import", "--from", "open-clip", checkpoint, "--output", bundle]
                       + (["--activation", activation] if activation else []), check=True)
        def embed(kind, inputs):
            out = subprocess.run([vlp, "embed", kind, "--checkpoint", bundle, "--json"] + inputs, check=True, capture_output=True, text=True).stdout
            return torch.tensor([json.loads(line)["embedding"] for line in out.splitlines()])
        ours_image = embed("image", [os.path.join(ASSETS, "photos", photo) for photo in photos])
        ours_text = embed("text", TEXTS)
        print(f"full-size {name} ({layout} checkpoint, {os.path.getsize(checkpoint) / 1e6:.0f} MB): normalised text features "
              f"max |Δ| = {(ours_text - text).abs().max().item():.3g} on {len(TEXTS)} texts")
        for photo, ours, theirs in zip(photos, ours_image, image):
            print(f"  {photo}: max |Δ| = {(ours - theirs).abs().max().item():.3g}")
        print("  (the features differ between inputs: largest off-diagonal cosine, images "
              f"{(image @ image.t() - torch.eye(len(photos))).max().item():.3f}, texts {(text @ text.t() - torch.eye(len(TEXTS))).max().item():.3f})")


def full_size(vlp):
    """ViT-B-32 (GELU, LAION-style) as an fp32 epoch checkpoint, and ViT-B-32-quickgelu (OpenAI's
    activation) as an fp16 plain state dict imported with --activation quick_gelu and as an fp16
    TorchScript archive (OpenAI's released form) imported with no --activation."""
    full_size_check(vlp, "ViT-B-32", "epoch", None)
    full_size_check(vlp, "ViT-B-32-quickgelu", "fp16", "quick_gelu")
    full_size_check(vlp, "ViT-B-32-quickgelu", "jit", None)  # an archive: QuickGELU assumed


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--full-size":
        sys.exit(full_size(sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "--full-size":
        # Another named model: the fp16 state dict, with QuickGELU for the -quickgelu names (OpenAI's).
        name = sys.argv[3]
        sys.exit(full_size_check(sys.argv[2], name, "fp16", "quick_gelu" if name.endswith("-quickgelu") else None))
    sys.exit(main())
