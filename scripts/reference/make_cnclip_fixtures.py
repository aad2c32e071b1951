#!/usr/bin/python3
"""Makes the Chinese-CLIP import fixtures (Tests/VLPTests/Fixtures/cnclip/) with the real `cn_clip`.

Run from the repository root, after `make assets`:
    /usr/bin/python3 scripts/reference/make_cnclip_fixtures.py
Needs Debian's python3-torch / python3-torchvision (1.13 / 0.14, the same libtorch as the Swift
build; `scripts/setup-system.sh --with bench`), Pillow, and cn-clip 1.6.0 without its
dependencies (it imports only torch, torchvision and PIL for what is used here):
    /usr/bin/python3 -m pip install --no-deps --break-system-packages cn-clip==1.6.0

A small `cn_clip.clip.model.CLIP` (ViT image tower: width 32, 2 layers, head width 16 so 2 heads,
patch 8, 32 px images; BERT text tower: hidden 32, 2 layers, 4 heads, intermediate 64, 64
positions; embed dim 32) is built with cn_clip's own constructor, seeded, and then EVERY
parameter is perturbed (layer-norm weights and biases, zero-initialised biases, the logit
scale), so that a transposed, swapped or skipped tensor cannot go unnoticed.

The text tower's vocabulary is cut to the tokens these fixtures use (`vocab.txt`, in the order of
cn-clip's 21,128-token vocabulary): a full-size embedding table would make the checkpoint megabytes.
cn_clip's own `FullTokenizer` reads it, so the ids come from the real tokenizer code.

Writes:
  vocab.txt               the cut vocabulary (special tokens + every token of TEXTS + EXTRA).
  config.json             the model's shape as a swift-vlp VLPModelConfiguration (dual_encoder), for
                          `vlp import --config`: the head counts are the one thing shapes cannot give.
  cnclip-train.pt         cn_clip's training-checkpoint layout: {"epoch", "step", "name", "state_dict"}
                          with `module.`-prefixed fp32 keys (zip format).
  cnclip-fp16.pt          the plain state dict after cn_clip's `convert_weights` (linear, conv,
                          attention, BERT and projections fp16; layer norms, embeddings of the ViT
                          and the logit scale fp32), in torch's legacy (non-zip) format.
  reference.safetensors   pixels [2, 3, 32, 32]: chelsea.png and coffee.png through cn_clip's
                          `image_transform(32)` (squash, bicubic, CLIP mean/std);
                          text_ids [3, 52]: TEXTS through cn_clip's tokenize logic at context 52;
                          image_features [2, 32] / text_features [3, 32]: `encode_image` /
                          `encode_text` (not normalised) of the fp32 model; logit_scale [] (its exp,
                          1/τ); logits_per_image [2, 3] from `get_similarity`;
                          image_features_fp16 / text_features_fp16 / logits_per_image_fp16: the same
                          from the fp16 checkpoint's values upcast to fp32 (CPU torch 1.13 has no
                          fp16 matmul; cn_clip's `load` also calls `model.float()` on CPU).

Full-size check (outside the test suite, nothing committed):
    /usr/bin/python3 scripts/reference/make_cnclip_fixtures.py --full-size .build/debug/vlp [MODEL]
builds cn_clip's MODEL (ViT-B-16, the default, ViT-L-14 or ViT-L-14-336 with RoBERTa-wwm-ext-base-chinese;
ViT-H-14, head width 80, with RoBERTa-wwm-ext-large-chinese) from its packaged configs with its real 21,128-token vocabulary and
random, perturbed weights, saves it in the training layout as fp16 (as released) under a temporary
folder, runs `vlp import` (no --config: heads by convention) and `vlp embed` on the photos and
three texts, and prints the largest difference from cn_clip's normalised features.
    /usr/bin/python3 scripts/reference/make_cnclip_fixtures.py --save-full-size FILE [MODEL]
only writes that checkpoint (scripts/full-size-use.sh runs the CLI on it).
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
from PIL import Image

from cn_clip.clip.bert_tokenizer import FullTokenizer
from cn_clip.clip.model import CLIP, convert_weights
from cn_clip.clip.utils import image_transform
from perturbation import perturb
from safetensors_writer import write_safetensors

OUT = os.path.join("Tests", "VLPTests", "Fixtures", "cnclip")
ASSETS = "assets"

CONTEXT = 52
PHOTOS = ["chelsea.png", "coffee.png"]
TEXTS = ["一只橘色的猫躺在地上", "一杯拿铁咖啡，放在木桌上", "宇航员站在国旗前面 NASA 2024"]
# More tokens the tests and the CLI check may meet (Scenes' zero-shot prompts fall back to [UNK]).
EXTRA = "红色绿色蓝色黄色圆形方形三角形物体照片图片这是张个"

SHAPE = dict(embed_dim=32, image_resolution=32, vision_layers=2, vision_width=32, vision_patch_size=8,
             vision_head_width=16, text_hidden_size=32, text_num_hidden_layers=2, text_num_attention_heads=4,
             text_intermediate_size=64, text_max_position_embeddings=64, text_type_vocab_size=2)


def cut_vocabulary():
    """cn-clip's vocabulary reduced to the special tokens and the tokens of TEXTS and EXTRA, in order."""
    full = FullTokenizer()  # cn_clip's packaged vocab.txt (the same file as assets/cn-clip/vocab.txt)
    needed = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    for text in TEXTS + [EXTRA]:
        needed.update(full.tokenize(text))
    ordered = sorted(needed, key=lambda token: full.vocab[token])
    path = os.path.join(OUT, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(token + "\n" for token in ordered))
    print(f"wrote {path} ({len(ordered)} tokens)")
    return path, len(ordered)


def tokenize(tokenizer, texts):
    """cn_clip.clip.utils.tokenize, with a given FullTokenizer instead of the packaged one."""
    result = torch.zeros(len(texts), CONTEXT, dtype=torch.long)
    for i, text in enumerate(texts):
        ids = [tokenizer.vocab["[CLS]"]] + tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))[:CONTEXT - 2] + [tokenizer.vocab["[SEP]"]]
        result[i, :len(ids)] = torch.tensor(ids)
    return result




def outputs(model, pixels, ids):
    with torch.no_grad():
        image = model.encode_image(pixels)
        text = model.encode_text(ids)
        logits_per_image, _ = model.get_similarity(pixels, ids)
    return image.float(), text.float(), logits_per_image.float()


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20240613)
    vocab_path, vocab_size = cut_vocabulary()
    tokenizer = FullTokenizer(vocab_file=vocab_path)
    model = CLIP(vocab_size=vocab_size, text_attention_probs_dropout_prob=0.1, text_hidden_act="gelu",
                 text_hidden_dropout_prob=0.1, text_initializer_range=0.02, tokenizer=tokenizer, **SHAPE)
    perturb(model)
    model.eval()

    transform = image_transform(SHAPE["image_resolution"])
    pixels = torch.stack([transform(Image.open(os.path.join(ASSETS, "photos", name))) for name in PHOTOS])
    ids = tokenize(tokenizer, TEXTS)
    image, text, logits = outputs(model, pixels, ids)
    state = model.state_dict()

    # The training-checkpoint layout cn_clip's trainer saves (module. from DistributedDataParallel).
    torch.save({"epoch": 3, "step": 120, "name": "cnclip-tiny",
                "state_dict": {"module." + k: v.clone() for k, v in state.items()}},
               os.path.join(OUT, "cnclip-train.pt"))
    print(f"wrote cnclip-train.pt ({os.path.getsize(os.path.join(OUT, 'cnclip-train.pt'))} bytes, {len(state)} tensors)")

    half = CLIP(vocab_size=vocab_size, text_attention_probs_dropout_prob=0.1, text_hidden_act="gelu",
                text_hidden_dropout_prob=0.1, text_initializer_range=0.02, tokenizer=tokenizer, **SHAPE)
    half.load_state_dict(state)
    convert_weights(half)
    half_state = half.state_dict()
    dtypes = sorted({str(v.dtype) for v in half_state.values()})
    torch.save(half_state, os.path.join(OUT, "cnclip-fp16.pt"), _use_new_zipfile_serialization=False)
    print(f"wrote cnclip-fp16.pt ({os.path.getsize(os.path.join(OUT, 'cnclip-fp16.pt'))} bytes, dtypes {dtypes})")
    half.float().eval()
    image16, text16, logits16 = outputs(half, pixels, ids)

    write_safetensors(os.path.join(OUT, "reference.safetensors"), {
        "pixels": pixels, "text_ids": ids,
        "image_features": image, "text_features": text, "logit_scale": model.logit_scale.exp().detach(),
        "logits_per_image": logits,
        "image_features_fp16": image16, "text_features_fp16": text16, "logits_per_image_fp16": logits16,
    }, metadata={"photos": json.dumps(PHOTOS), "texts": json.dumps(TEXTS, ensure_ascii=False),
                 "context_length": str(CONTEXT), "torch": torch.__version__, "cn_clip": "1.6.0"})

    config = {
        "architecture": "dual_encoder", "embed_dim": SHAPE["embed_dim"],
        "text": {"model_type": "bert", "vocab_size": vocab_size, "hidden_size": SHAPE["text_hidden_size"],
                 "num_hidden_layers": SHAPE["text_num_hidden_layers"], "num_attention_heads": SHAPE["text_num_attention_heads"],
                 "intermediate_size": SHAPE["text_intermediate_size"], "hidden_act": "gelu",
                 "max_position_embeddings": SHAPE["text_max_position_embeddings"], "type_vocab_size": SHAPE["text_type_vocab_size"],
                 "layer_norm_eps": 1e-12},
        "vision": {"image_size": SHAPE["image_resolution"], "patch_size": SHAPE["vision_patch_size"], "width": SHAPE["vision_width"],
                   "layers": SHAPE["vision_layers"], "heads": SHAPE["vision_width"] // SHAPE["vision_head_width"],
                   "activation": "quick_gelu", "layer_norm_eps": 1e-5},
    }
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print("wrote config.json")
    print("fp16 weights vs fp32: image max abs", (image16 - image).abs().max().item(),
          "text", (text16 - text).abs().max().item(), "logits", (logits16 - logits).abs().max().item())


# cn_clip's released image towers and the text tower each is paired with (cn_clip's _MODELS names).
FULL_SIZE_MODELS = {"ViT-B-16": "RoBERTa-wwm-ext-base-chinese", "ViT-L-14": "RoBERTa-wwm-ext-base-chinese",
                    "ViT-L-14-336": "RoBERTa-wwm-ext-base-chinese", "ViT-H-14": "RoBERTa-wwm-ext-large-chinese"}


def full_size_model(name):
    """One of cn_clip's released shapes (FULL_SIZE_MODELS; its packaged model_configs merged as its
    create_model merges them), seeded and perturbed, in fp16 as released; and its resolution."""
    import cn_clip.clip
    configs = os.path.join(os.path.dirname(cn_clip.clip.__file__), "model_configs")
    config = {}
    for part in [name, FULL_SIZE_MODELS[name]]:
        with open(os.path.join(configs, part + ".json")) as f:
            config.update(json.load(f))
    torch.manual_seed(7)
    model = CLIP(**config)
    perturb(model)
    convert_weights(model)  # released checkpoints are fp16
    return model, config["image_resolution"]


def save_training_layout(model, checkpoint):
    """cn_clip's training-checkpoint layout, as its released files are."""
    torch.save({"epoch": 1, "step": 1, "name": "full-size-check",
                "state_dict": {"module." + k: v for k, v in model.state_dict().items()}}, checkpoint)


def save_full_size(checkpoint, name="ViT-B-16"):
    """Only writes the full-size random model (for scripts/full-size-use.sh)."""
    model, _ = full_size_model(name)
    save_training_layout(model, checkpoint)
    print(f"{checkpoint}: cn_clip {name}@{FULL_SIZE_MODELS[name]}, random perturbed fp16 weights, "
          f"{os.path.getsize(checkpoint) / 1e6:.0f} MB")


def full_size(vlp, name="ViT-B-16"):
    """cn_clip's features of a full-size shape against `vlp import` + `vlp embed`."""
    from cn_clip.clip import tokenize as cn_tokenize
    from cn_clip.clip.model import convert_models_to_fp32
    model, resolution = full_size_model(name)
    photos = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"]
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = os.path.join(folder, f"clip_cn_{name.lower()}-random.pt")
        save_training_layout(model, checkpoint)
        convert_models_to_fp32(model)
        model.eval()
        transform = image_transform(resolution)
        pixels = torch.stack([transform(Image.open(os.path.join(ASSETS, "photos", name))) for name in photos])
        with torch.no_grad():
            image = model.encode_image(pixels)
            text = model.encode_text(cn_tokenize(TEXTS))
        image, text = image / image.norm(dim=-1, keepdim=True), text / text.norm(dim=-1, keepdim=True)
        bundle = os.path.join(folder, "bundle")
        subprocess.run([vlp, "import", "--from", "cn-clip", checkpoint, "--output", bundle], check=True)
        def embed(kind, inputs):
            out = subprocess.run([vlp, "embed", kind, "--checkpoint", bundle, "--json"] + inputs, check=True, capture_output=True, text=True).stdout
            return torch.tensor([json.loads(line)["embedding"] for line in out.splitlines()])
        ours_image = embed("image", [os.path.join(ASSETS, "photos", name) for name in photos])
        ours_text = embed("text", TEXTS)
        print(f"full-size {name}@{FULL_SIZE_MODELS[name]} (fp16 checkpoint, {os.path.getsize(checkpoint) / 1e6:.0f} MB): normalised image features "
              f"max |Δ| = {(ours_image - image).abs().max().item():.3g} on {len(photos)} photos, text features "
              f"max |Δ| = {(ours_text - text).abs().max().item():.3g} on {len(TEXTS)} texts")
        print("  (the features differ between inputs: largest off-diagonal cosine, images "
              f"{(image @ image.t() - torch.eye(len(photos))).max().item():.3f}, texts {(text @ text.t() - torch.eye(len(TEXTS))).max().item():.3f})")


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--full-size":
        sys.exit(full_size(*sys.argv[2:]))
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--save-full-size":
        sys.exit(save_full_size(*sys.argv[2:]))
    sys.exit(main())
