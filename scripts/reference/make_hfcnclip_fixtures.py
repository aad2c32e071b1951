#!/usr/bin/python3
"""Makes the Hugging Face Chinese-CLIP import fixture (Tests/VLPTests/Fixtures/hfcnclip/) with the real `transformers`.

Run from the repository root, after `make assets`:
    /usr/bin/python3 scripts/reference/make_hfcnclip_fixtures.py
Needs what make_hfclip_fixtures.py needs (Debian's python3-torch 1.13, Pillow, transformers 4.39.3
without its dependencies), plus cn-clip 1.6.0 for a cross-check of the image preprocessing (see
make_cnclip_fixtures.py).

A small `transformers.ChineseCLIPModel` is built from a `ChineseCLIPConfig` with its own constructor —
text (BERT): the vocabulary cut to the tokens of TEXTS and EXTRA (the same cut as the cn_clip fixture,
see make_cnclip_fixtures.py), hidden 32, 2 layers, 4 heads, intermediate 64, 64 positions, 2 token
types, exact GELU, initialised with std 0.2 rather than BERT's 0.02 (at 0.02 the [CLS] output of a
2-layer, 32-wide post-norm BERT barely depends on the text: cosine 0.99999 between the three texts'
features, 0.96 at 0.2; `initializer_range` is an initialisation setting only, written to config.json);
vision: width 32, intermediate 64, 2 layers, 2 heads, patch 8, 32 px, QuickGELU;
projection_dim 24 (unlike the widths, so a transposed projection cannot pass) — seeded, and EVERY
parameter is perturbed (layer-norm weights and biases, the class embedding, the logit scale).

Writes the model directory as Hugging Face writes it:
  config.json, model.safetensors      `save_pretrained` of the model, every tensor fp16 (torch_dtype
                                      float16); ChineseCLIPModel has no text pooler, so no
                                      text_model.pooler.* keys.
  vocab.txt, tokenizer_config.json,
  special_tokens_map.json             `BertTokenizer(vocab.txt).save_pretrained` over the cut vocabulary.
  preprocessor_config.json            written by hand in the form of the released OFA-Sys directories
                                      (feature_extractor_type ChineseCLIPFeatureExtractor, bicubic, CLIP
                                      mean/std, do_center_crop false) at 32 px. Its `size` is the
                                      {"height", "width"} dict: transformers 4.39.3's
                                      ChineseCLIPImageProcessor resizes to exactly (height, width) — a
                                      squash, as cn_clip does — and fails (KeyError 'height') on a bare
                                      `"size": N`, which it reads as {"shortest_edge": N}.
  sharded/                            the same fp16 weights as `save_pretrained(max_shard_size="40KB")`
                                      writes them: model-0000K-of-0000N.safetensors and
                                      model.safetensors.index.json (for the sharded-weights reader).
  sharded-bin/                        the same, `safe_serialization=False`: pytorch_model-0000K-of-0000N.bin
                                      (torch.save's zip pickles) and pytorch_model.bin.index.json.
and reference.safetensors, computed by the model loaded back from the directory in fp32 (so the
reference is what the files hold: the fp16 values upcast): pixel_values [2, 3, 32, 32] of chelsea.png
and coffee.png from the image processor loaded back from the directory; input_ids / attention_mask /
token_type_ids [3, 52] of TEXTS from the saved tokenizer (padded with [PAD] = 0 to cn_clip's context
length 52); image_features [2, 24] / text_features [3, 24] from `get_image_features` /
`get_text_features` (not normalised); logit_scale [] (its exp); logits_per_image [2, 3].

With --with-bin it also writes bin/: the same config, tokenizer and processor files with the same
weight values as pytorch_model.bin in fp32 (torch_dtype float32), for the .bin reader. Off by
default: the fp32 copy alone is about twice model.safetensors and would take the fixture well past
150 KB.

Full-size check (outside the test suite, nothing committed):
    /usr/bin/python3 scripts/reference/make_hfcnclip_fixtures.py --full-size .build/debug/vlp
saves a ChineseCLIPConfig shaped as OFA-Sys/chinese-clip-vit-base-patch16 (RoBERTa-wwm-ext-base:
21,128-token vocabulary, 768 wide, 12 layers, 12 heads, 512 positions; ViT-B/16 at 224 px — patch 16
set explicitly, transformers' default vision config is patch 32; projection 512) with random perturbed
weights, cn-clip's full vocabulary and the released processor form at 224 as a directory, runs
`vlp import` on it and `vlp embed` on four photos and three texts, and prints the largest differences
from transformers' normalised features.
"""
import copy
import json
import os
import shutil
import sys
import tempfile

import torch
from PIL import Image
from transformers import BertTokenizer, ChineseCLIPConfig, ChineseCLIPImageProcessor, ChineseCLIPModel
import transformers

from perturbation import perturb
from safetensors_writer import write_safetensors

OUT = os.path.join("Tests", "VLPTests", "Fixtures", "hfcnclip")
ASSETS = "assets"
FULL_VOCAB = os.path.join(ASSETS, "cn-clip", "vocab.txt")  # cn-clip's 21,128-token Chinese BERT vocabulary
CONTEXT = 52  # cn_clip's context length
PHOTOS = ["chelsea.png", "coffee.png"]
# The cn_clip fixture's texts and extra tokens (make_cnclip_fixtures.py), so both fixtures share one cut vocabulary.
TEXTS = ["一只橘色的猫躺在地上", "一杯拿铁咖啡，放在木桌上", "宇航员站在国旗前面 NASA 2024"]
EXTRA = "红色绿色蓝色黄色圆形方形三角形物体照片图片这是张个"
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def cut_vocabulary(out):
    """FULL_VOCAB reduced to the special tokens and the word pieces of TEXTS and EXTRA (as BertTokenizer
    splits them over the full vocabulary), kept in the full vocabulary's order; written as out/vocab.txt."""
    full = BertTokenizer(FULL_VOCAB)
    needed = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    for text in TEXTS + [EXTRA]:
        needed.update(full.tokenize(text))
    ordered = sorted(needed, key=lambda token: full.vocab[token])
    path = os.path.join(out, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(token + "\n" for token in ordered))
    return path, len(ordered)


def released_processor_config(pixels):
    """preprocessor_config.json as the released OFA-Sys ChineseCLIP directories carry it, at `pixels` px."""
    return {"crop_size": pixels, "do_center_crop": False, "do_normalize": True, "do_resize": True,
            "feature_extractor_type": "ChineseCLIPFeatureExtractor", "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
            "resample": 3, "size": {"height": pixels, "width": pixels}}


def write_processor_config(directory, pixels):
    with open(os.path.join(directory, "preprocessor_config.json"), "w") as f:
        json.dump(released_processor_config(pixels), f, indent=2, sort_keys=True)
        f.write("\n")




def folder_bytes(folder):
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(folder) for name in names)


def main(with_bin=False):
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    torch.manual_seed(20241205)
    vocab_path, vocabulary = cut_vocabulary(OUT)
    cnclip_vocab = os.path.join("Tests", "VLPTests", "Fixtures", "cnclip", "vocab.txt")
    if os.path.exists(cnclip_vocab):
        with open(cnclip_vocab, encoding="utf-8") as a, open(vocab_path, encoding="utf-8") as b:
            print(f"cut vocabulary: {vocabulary} tokens, {'the same as' if a.read() == b.read() else 'DIFFERENT from'} {cnclip_vocab}")
    tokenizer = BertTokenizer(vocab_path)
    config = ChineseCLIPConfig(
        text_config=dict(vocab_size=vocabulary, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu",
                         initializer_range=0.2),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8, hidden_act="quick_gelu", projection_dim=24),
        projection_dim=24)
    model = ChineseCLIPModel(config)
    perturb(model)
    model.eval()
    # Saved in fp16, as many hub models are (and half the bytes); the reference runs on the same fp16
    # values upcast (CPU torch 1.13 has no fp16 matmul).
    model.half()
    model.save_pretrained(OUT, safe_serialization=True)
    tokenizer.save_pretrained(OUT)
    write_processor_config(OUT, 32)

    # Everything below reads the directory back, as a user of it would.
    model = ChineseCLIPModel.from_pretrained(OUT, torch_dtype=torch.float32).eval()
    tokenizer = BertTokenizer.from_pretrained(OUT)
    processor = ChineseCLIPImageProcessor.from_pretrained(OUT)
    images = [Image.open(os.path.join(ASSETS, "photos", name)).convert("RGB") for name in PHOTOS]
    pixels = processor(images=images, return_tensors="pt").pixel_values
    encoded = tokenizer(TEXTS, padding="max_length", max_length=CONTEXT, return_tensors="pt")
    text_inputs = dict(input_ids=encoded.input_ids, attention_mask=encoded.attention_mask, token_type_ids=encoded.token_type_ids)
    with torch.no_grad():
        image = model.get_image_features(pixel_values=pixels)
        text = model.get_text_features(**text_inputs)
        logits = model(pixel_values=pixels, **text_inputs).logits_per_image
    write_safetensors(os.path.join(OUT, "reference.safetensors"), {
        "pixel_values": pixels, **text_inputs,
        "image_features": image, "text_features": text, "logit_scale": model.logit_scale.exp().detach(),
        "logits_per_image": logits,
    }, metadata={"photos": json.dumps(PHOTOS), "texts": json.dumps(TEXTS, ensure_ascii=False),
                 "context_length": str(CONTEXT), "torch": torch.__version__, "transformers": transformers.__version__})

    # Cross-checks: the image processor squashes exactly as cn_clip's transform does; the tokenizer's ids
    # are cn_clip's (a BERT WordPiece over the same vocabulary, [CLS] ... [SEP], padded with 0).
    try:
        from cn_clip.clip.bert_tokenizer import FullTokenizer
        from cn_clip.clip.utils import image_transform
        theirs = torch.stack([image_transform(32)(Image.open(os.path.join(ASSETS, "photos", name))) for name in PHOTOS])
        print(f"pixel_values vs cn_clip image_transform(32): max |Δ| = {(theirs - pixels).abs().max().item():.3g}")
        cn = FullTokenizer(vocab_file=vocab_path)
        same = all(encoded.input_ids[i, :len(ids)].tolist() == ids and not encoded.input_ids[i, len(ids):].any()
                   for i, ids in enumerate([[cn.vocab["[CLS]"]] + cn.convert_tokens_to_ids(cn.tokenize(t)) + [cn.vocab["[SEP]"]] for t in TEXTS]))
        print(f"input_ids {'equal' if same else 'DIFFER from'} cn_clip's tokenization")
    except ImportError:
        print("cn_clip not installed: cross-checks skipped")

    # The same fp16 weights as `save_pretrained` shards them past `max_shard_size`: numbered
    # safetensors files and model.safetensors.index.json mapping each key to its shard (sharded/),
    # and the same in the legacy pickle format, pytorch_model-0000K-of-0000N.bin and
    # pytorch_model.bin.index.json (sharded-bin/). Only those files are kept; the tests put them
    # beside the other files in place of model.safetensors.
    for safe, name_of_folder, prefix, suffix in [(True, "sharded", "model", ".safetensors"),
                                                 (False, "sharded-bin", "pytorch_model", ".bin")]:
        with tempfile.TemporaryDirectory() as staging:
            copy.deepcopy(model).half().save_pretrained(staging, safe_serialization=safe, max_shard_size="40KB")
            folder = os.path.join(OUT, name_of_folder)
            os.makedirs(folder)
            for name in sorted(os.listdir(staging)):
                if name.startswith(prefix) and (name.endswith(suffix) or name.endswith(".index.json")):
                    shutil.copy(os.path.join(staging, name), folder)

    if with_bin:
        # The same values in fp32 as pytorch_model.bin (config.json then says torch_dtype float32), and copies
        # of the tokenizer and processor files.
        folder = os.path.join(OUT, "bin")
        model.config._name_or_path = ""
        model.save_pretrained(folder, safe_serialization=False)
        for name in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json"]:
            shutil.copy(os.path.join(OUT, name), folder)
    for root, _, names in sorted(os.walk(OUT)):
        for name in sorted(names):
            print(f"wrote {os.path.join(root, name)} ({os.path.getsize(os.path.join(root, name))} bytes)")
    print(f"fixture: {folder_bytes(OUT)} bytes in all")


def full_size(vlp):
    """ChineseCLIPModel shaped as OFA-Sys/chinese-clip-vit-base-patch16 with random perturbed weights and
    cn-clip's full 21,128-token vocabulary: its features against `vlp import` + `vlp embed`."""
    import subprocess
    import tempfile
    torch.manual_seed(7)
    photos = ["chelsea.png", "coffee.png", "astronaut.png", "hubble_deep_field.jpg"]
    with tempfile.TemporaryDirectory() as folder:
        directory = os.path.join(folder, "chinese-clip-vit-base-patch16-random")
        os.makedirs(directory)
        tokenizer = BertTokenizer(FULL_VOCAB)
        config = ChineseCLIPConfig(
            text_config=dict(vocab_size=21128, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                             intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2),
            vision_config=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                               image_size=224, patch_size=16, projection_dim=512),
            projection_dim=512)
        model = ChineseCLIPModel(config)
        perturb(model)
        model.eval()
        model.save_pretrained(directory, safe_serialization=True)
        tokenizer.save_pretrained(directory)
        write_processor_config(directory, 224)
        processor = ChineseCLIPImageProcessor.from_pretrained(directory)
        images = [Image.open(os.path.join(ASSETS, "photos", name)).convert("RGB") for name in photos]
        with torch.no_grad():
            image = model.get_image_features(pixel_values=processor(images=images, return_tensors="pt").pixel_values)
            encoded = tokenizer(TEXTS, padding=True, return_tensors="pt")
            text = model.get_text_features(input_ids=encoded.input_ids, attention_mask=encoded.attention_mask,
                                           token_type_ids=encoded.token_type_ids)
        image, text = image / image.norm(dim=-1, keepdim=True), text / text.norm(dim=-1, keepdim=True)
        bundle = os.path.join(folder, "bundle")
        subprocess.run([vlp, "import", directory, "--output", bundle], check=True)
        def embed(kind, inputs):
            out = subprocess.run([vlp, "embed", kind, "--checkpoint", bundle, "--json"] + inputs, check=True, capture_output=True, text=True).stdout
            return torch.tensor([json.loads(line)["embedding"] for line in out.splitlines()])
        ours_image = embed("image", [os.path.join(ASSETS, "photos", name) for name in photos])
        ours_text = embed("text", TEXTS)
        print(f"full-size Hugging Face ChineseCLIPModel (ViT-B/16 + RoBERTa-wwm-ext-base shape, fp32 safetensors): "
              f"text features max |Δ| = {(ours_text - text).abs().max().item():.3g} on {len(TEXTS)} texts")
        for name, ours, theirs in zip(photos, ours_image, image):
            print(f"  {name}: max |Δ| = {(ours - theirs).abs().max().item():.3g}")
        print("  (the features differ between inputs: largest off-diagonal cosine, images "
              f"{(image @ image.t() - torch.eye(len(photos))).max().item():.3f}, texts {(text @ text.t() - torch.eye(len(TEXTS))).max().item():.3f})")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--full-size":
        sys.exit(full_size(sys.argv[2]))
    sys.exit(main(with_bin=sys.argv[1:] == ["--with-bin"]))
