#!/usr/bin/python3
"""Makes the Hugging Face CLIP import fixture (Tests/VLPTests/Fixtures/hfclip/) with the real `transformers`.

Run from the repository root, after `make assets`:
    /usr/bin/python3 scripts/reference/make_hfclip_fixtures.py
Needs Debian's python3-torch 1.13, Pillow, open_clip_torch 2.32.0 (for the BPE merges file and
the vocabulary order, see make_openclip_fixtures.py), and transformers 4.39.3 without its
dependencies, plus the modules it imports:
    /usr/bin/python3 -m pip install --no-deps --break-system-packages transformers==4.39.3 \
        tokenizers==0.15.2 huggingface_hub==0.22.2 safetensors==0.4.2 packaging filelock fsspec

A small `transformers.CLIPModel` is built from a `CLIPConfig` with its own constructor — text:
vocabulary 914 (the first 400 merges of CLIP's BPE), width 32, intermediate 64, 2 layers,
4 heads, 77 positions, exact GELU, eos_token_id 913 (the cut vocabulary's <|endoftext|>);
vision: width 32, intermediate 64, 2 layers, 2 heads, patch 8, 32 px, QuickGELU; projection_dim
24 (unlike the widths, so a transposed projection cannot pass) — seeded, and EVERY parameter is
perturbed. The two towers use different activations so that each is read from its own section.

Writes the model directory as `save_pretrained` and the tokenizer / image processor write it:
  config.json, model.safetensors                      the model, every tensor fp16 (torch_dtype float16)
  vocab.json, merges.txt, tokenizer_config.json,
  special_tokens_map.json                             `CLIPTokenizer` over the cut vocabulary
  preprocessor_config.json                            `CLIPImageProcessor`: shortest edge 32,
                                                      centre crop 32, bicubic, CLIP mean/std
and reference.safetensors: pixel_values [2, 3, 32, 32] of chelsea.png and coffee.png from the
image processor; input_ids / attention_mask [3, 77] of TEXTS from the tokenizer (padded to 77
with <|endoftext|>, as Hugging Face pads CLIP); image_features [2, 24] / text_features [3, 24]
from `get_image_features` / `get_text_features` (not normalised; the fp16 weights upcast to fp32); logit_scale [] (its exp);
logits_per_image [2, 3].

Full-size check (outside the test suite, nothing committed):
    /usr/bin/python3 scripts/reference/make_hfclip_fixtures.py --full-size .build/debug/vlp
saves transformers' default CLIPConfig (OpenAI's ViT-B/32 shape, QuickGELU) with random perturbed
weights, the full vocabulary and the default CLIPImageProcessor as a directory, runs `vlp import`
on it and `vlp embed` on four photos and three texts, and prints the largest differences from
transformers' normalised features.
"""
import json
import os
import shutil
import sys

import torch
from PIL import Image
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer
import transformers

from open_clip.tokenizer import SimpleTokenizer
from perturbation import perturb
from safetensors_writer import write_safetensors

OUT = os.path.join("Tests", "VLPTests", "Fixtures", "hfclip")
OPENCLIP_MERGES = os.path.join("Tests", "VLPTests", "Fixtures", "openclip", "bpe-cut.txt.gz")
ASSETS = "assets"
PHOTOS = ["chelsea.png", "coffee.png"]
TEXTS = ["a photo of a cat", "A cup of coffee on a wooden table.", "an astronaut in front of the U.S. flag, 2024!"]


def tokenizer_files(bpe=OPENCLIP_MERGES, out=OUT):
    """vocab.json and merges.txt of an open_clip merges file (the open_clip fixture's cut one),
    in Hugging Face's form: the same ids, special tokens named <|startoftext|> / <|endoftext|>."""
    import gzip
    with gzip.open(bpe) as f:
        lines = f.read().decode("utf-8").split("\n")[:1 + 49152 - 256 - 2]
    merges_path = os.path.join(out, "merges.txt")
    with open(merges_path, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(lines[1:]) + "\n")
    encoder = SimpleTokenizer(bpe_path=bpe).encoder
    renamed = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {renamed.get(token, token): index for token, index in encoder.items()}
    vocab_path = os.path.join(out, "vocab.json")
    with open(vocab_path, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    return vocab_path, merges_path, len(vocab)




def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    torch.manual_seed(20241204)
    vocab_path, merges_path, vocabulary = tokenizer_files()
    tokenizer = CLIPTokenizer(vocab_file=vocab_path, merges_file=merges_path)
    config = CLIPConfig(
        text_config=dict(vocab_size=vocabulary, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=77, hidden_act="gelu",
                         bos_token_id=vocabulary - 2, eos_token_id=vocabulary - 1, pad_token_id=vocabulary - 1),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8, hidden_act="quick_gelu"),
        projection_dim=24)
    model = CLIPModel(config)
    perturb(model)
    model.eval()
    # Saved in fp16, as many hub models are (and half the bytes); the reference runs on the same
    # fp16 values upcast (CPU torch 1.13 has no fp16 matmul).
    model.half()
    model.save_pretrained(OUT, safe_serialization=True)
    model.float()
    tokenizer.save_pretrained(OUT)
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor.save_pretrained(OUT)

    images = [Image.open(os.path.join(ASSETS, "photos", name)).convert("RGB") for name in PHOTOS]
    pixels = processor(images=images, return_tensors="pt").pixel_values
    encoded = tokenizer(TEXTS, padding="max_length", max_length=77, return_tensors="pt")
    with torch.no_grad():
        image = model.get_image_features(pixel_values=pixels)
        text = model.get_text_features(input_ids=encoded.input_ids, attention_mask=encoded.attention_mask)
        logits = model(input_ids=encoded.input_ids, attention_mask=encoded.attention_mask, pixel_values=pixels).logits_per_image
    write_safetensors(os.path.join(OUT, "reference.safetensors"), {
        "pixel_values": pixels, "input_ids": encoded.input_ids, "attention_mask": encoded.attention_mask,
        "image_features": image, "text_features": text, "logit_scale": model.logit_scale.exp().detach(),
        "logits_per_image": logits,
    }, metadata={"photos": json.dumps(PHOTOS), "texts": json.dumps(TEXTS), "torch": torch.__version__,
                 "transformers": transformers.__version__})
    for name in sorted(os.listdir(OUT)):
        print(f"wrote {os.path.join(OUT, name)} ({os.path.getsize(os.path.join(OUT, name))} bytes)")


def full_size(vlp):
    """transformers' default CLIPConfig (OpenAI's ViT-B/32 shape, QuickGELU) with random perturbed
    weights and the full 49,408-token vocabulary: its features against `vlp import` + `vlp embed`."""
    import subprocess
    import tempfile
    torch.manual_seed(7)
    photos = ["chelsea.png", "coffee.png", "astronaut.png", "hubble_deep_field.jpg"]
    with tempfile.TemporaryDirectory() as folder:
        directory = os.path.join(folder, "clip-vit-base-patch32-random")
        os.makedirs(directory)
        vocab_path, merges_path, _ = tokenizer_files(os.path.join(ASSETS, "open-clip", "bpe_simple_vocab_16e6.txt.gz"), directory)
        tokenizer = CLIPTokenizer(vocab_file=vocab_path, merges_file=merges_path)
        model = CLIPModel(CLIPConfig())
        perturb(model)
        model.eval()
        model.save_pretrained(directory, safe_serialization=True)
        tokenizer.save_pretrained(directory)
        processor = CLIPImageProcessor()
        processor.save_pretrained(directory)
        images = [Image.open(os.path.join(ASSETS, "photos", name)).convert("RGB") for name in photos]
        with torch.no_grad():
            image = model.get_image_features(pixel_values=processor(images=images, return_tensors="pt").pixel_values)
            encoded = tokenizer(TEXTS, padding=True, return_tensors="pt")
            text = model.get_text_features(input_ids=encoded.input_ids, attention_mask=encoded.attention_mask)
        image, text = image / image.norm(dim=-1, keepdim=True), text / text.norm(dim=-1, keepdim=True)
        bundle = os.path.join(folder, "bundle")
        subprocess.run([vlp, "import", directory, "--output", bundle], check=True)
        def embed(kind, inputs):
            out = subprocess.run([vlp, "embed", kind, "--checkpoint", bundle, "--json"] + inputs, check=True, capture_output=True, text=True).stdout
            return torch.tensor([json.loads(line)["embedding"] for line in out.splitlines()])
        ours_image = embed("image", [os.path.join(ASSETS, "photos", name) for name in photos])
        ours_text = embed("text", TEXTS)
        print(f"full-size Hugging Face CLIPModel (ViT-B/32 shape, fp32 safetensors): text features max |Δ| = "
              f"{(ours_text - text).abs().max().item():.3g} on {len(TEXTS)} texts")
        for name, ours, theirs in zip(photos, ours_image, image):
            print(f"  {name}: max |Δ| = {(ours - theirs).abs().max().item():.3g}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--full-size":
        sys.exit(full_size(sys.argv[2]))
    sys.exit(main())
