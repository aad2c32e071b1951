#!/usr/bin/python3
"""Makes the ModifiedResNet import fixtures (Tests/VLPTests/Fixtures/resnet/): CLIP's "RN50"-style
image tower, as Chinese-CLIP (`cn_clip`) and OpenCLIP (`open_clip`) build it, each with the text
tower of that family's ViT fixture.

Run from the repository root, after `make assets`:
    /usr/bin/python3 scripts/reference/make_resnet_fixtures.py
Needs what make_cnclip_fixtures.py and make_openclip_fixtures.py need (Debian's python3-torch /
python3-torchvision 1.13 / 0.14, Pillow, cn-clip 1.6.0 and open_clip_torch 2.32.0 without their
dependencies, regex, ftfy, wcwidth, tqdm); it borrows those scripts' texts, vocabulary cuts and
tokenize helper, so the three fixtures tokenize the same way.

Both models have a small ModifiedResNet image tower: stage depths LAYERS = (2, 1, 1, 1) (so
layer1 holds a block with a projection shortcut and one with a plain identity shortcut), stem
width WIDTH = 4 (stem channels 2, 2, 4; stage outputs 16, 32, 64, 128), 64 px images (final grid
2 × 2, so the attention pool reads 4 + 1 tokens), attention pool 32 · WIDTH = 128 wide with
32 · WIDTH / 64 = 2 heads (both libraries' default head width 64, OpenAI's convention), projected
to EMBED = 24. (Width 8 would give 4 heads but 256-wide pool projections: 3.4 MB of fixtures.)
The cn_clip model's text tower is make_cnclip_fixtures.py's tiny BERT (hidden 32, 2 layers,
4 heads, intermediate 64, 64 positions) over the same cut vocabulary; the open_clip model's is
make_openclip_fixtures.py's text transformer (width 32, 2 layers, 4 heads, context 77) over the
same cut BPE merges, with QuickGELU (OpenAI's RN50 activation; the ResNet has none, only ReLU).

Each model is built with its library's own constructor, seeded, and then EVERY parameter is
perturbed (batch-norm weights and biases, the zero-initialised bn3 weights of each bottleneck,
projection biases, the logit scale). The batch norms' running statistics are then set from one
train-mode pass over the six photos (as training leaves them matched to the data: with the
constructor's mean 0 / variance 1 this random tower shrinks its input stage by stage and both
photos' features agree to 1e-3) and perturbed too (running_var · exp(N(0, 0.2)), so it stays
positive; running_mean + N(0, 0.1) · its standard deviation), so that a transposed, swapped or
skipped tensor, a skipped batch norm, mean and variance swapped or a wrong epsilon cannot go
unnoticed (the smallest running variance is below 0.01: epsilon 1e-6 for 1e-5 already moves the
features by 4e-3). Both are evaluated in eval mode (running statistics). Every batch norm also
carries an int64 0-d `num_batches_tracked` buffer (1 here: the one calibration pass), saved in
both checkpoints among the fp32 tensors.

Writes:
  vocab.txt               cn_clip's cut vocabulary (make_cnclip_fixtures.py's cut: special tokens +
                          every token of its TEXTS and EXTRA, in the full vocabulary's order).
  bpe-cut.txt.gz          open_clip's cut merges (make_openclip_fixtures.py's cut: the header line
                          and the first MERGES merges; vocabulary 512 + MERGES + 2).
  cnclip-rn50.pt          cn_clip's training-checkpoint layout: {"epoch", "step", "name",
                          "state_dict", "optimizer"}, `module.`-prefixed fp32 keys (zip format).
  openclip-rn50.pt        open_clip's plain state dict (the layout of a released
                          `open_clip_pytorch_model.bin`), fp32 (zip format).
  config-cnclip.json,
  config-openclip.json    each model as a swift-vlp model configuration (`vlp import --config`): the
                          `resnet` image tower (image size, layers, width, heads, output dim) and the
                          text tower.
  reference.safetensors   per model, prefixed `cnclip_` / `openclip_`:
                            pixels [2, 3, 64, 64]: chelsea.png and coffee.png through the family's
                              eval transform (cn_clip: `image_transform(64)`, a bicubic squash;
                              open_clip: `image_transform(64, is_train=False)`, shortest side
                              bicubic + centre crop; both CLIP mean/std);
                            text_ids: the family's TEXTS through its tokenizer ([3, 52] cn_clip's
                              tokenize logic, [3, 77] open_clip's SimpleTokenizer);
                            image_features [2, 24] / text_features [3, 24]: `encode_image` /
                              `encode_text`, not normalised; logit_scale [] (its exp);
                            logits_per_image [2, 3] (scale · cosine);
                          and, for the cn_clip model and the first image only (a batch of 1, sliced
                          from the forward over both images), the image tower's activations:
                          cnclip_stem [1, 4, 16, 16] (after the stem's average pool), cnclip_layer1
                          [1, 16, 16, 16], cnclip_layer2 [1, 32, 8, 8], cnclip_layer3 [1, 64, 4, 4],
                          cnclip_layer4 [1, 128, 2, 2], cnclip_attnpool [1, 24] (the attention pool's
                          output, equal to cnclip_image_features[:1]).
Each checkpoint is loaded back into a fresh model as soon as it is written and must give the same
outputs bit for bit; open_clip's ModifiedResNet is also run with cn_clip's visual weights and must
give cn_clip's image features bit for bit (the two towers are the same computation).

Full-size check (outside the test suite, nothing committed):
    /usr/bin/python3 scripts/reference/make_resnet_fixtures.py --full-size .build/debug/vlp
builds cn_clip's RN50@RBT3-chinese from its packaged model_configs (RN50: layers (3, 4, 6, 3),
width 64, 224 px, embed dim 1024, 2048-wide attention pool with 32 heads; RBT3: 3 BERT layers,
hidden 768, 12 heads) with its real 21,128-token vocabulary (assets/cn-clip/vocab.txt) and random,
perturbed weights (batch norms calibrated as above), saves it in the
training layout as fp16 (cn_clip's `convert_weights`, as released: convolutions, attention-pool
projections, BERT and text projection fp16; batch norms, the pool's positional embedding and the
logit scale fp32) under a temporary folder, runs `vlp import` (no --config: heads by convention)
and `vlp embed` on four photos and three texts, and prints the largest difference from cn_clip's
normalised features. With `--full-size VLP openai` it does the same for OpenAI's RN50 as open_clip
builds it (`RN50-quickgelu`), saved as OpenAI's fp16 state dict and imported with `--from open-clip
--activation quick_gelu`.
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
from PIL import Image

import cn_clip.clip
import open_clip
import open_clip.model
from cn_clip.clip.bert_tokenizer import FullTokenizer
from cn_clip.clip.model import CLIP as ChineseCLIP, convert_weights, convert_models_to_fp32
from cn_clip.clip.utils import image_transform as cnclip_transform
from open_clip.tokenizer import SimpleTokenizer
from open_clip.transform import image_transform as openclip_transform

import make_cnclip_fixtures as cnclip_fixtures
import make_openclip_fixtures as openclip_fixtures
from perturbation import perturb
from safetensors_writer import write_safetensors

OUT = os.path.join("Tests", "VLPTests", "Fixtures", "resnet")
ASSETS = "assets"
PHOTOS = ["chelsea.png", "coffee.png"]
CALIBRATION = ["astronaut.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "retina.jpg", "rocket.jpg"]

LAYERS = (2, 1, 1, 1)
WIDTH = 4
IMAGE_SIZE = 64
HEAD_WIDTH = 64  # both libraries' default: heads = 32 · width / head width
EMBED = 24

CNCLIP_TEXT = dict(text_hidden_size=32, text_num_hidden_layers=2, text_num_attention_heads=4, text_intermediate_size=64,
                   text_max_position_embeddings=64, text_type_vocab_size=2)
CNCLIP_TEXT_FIXED = dict(text_attention_probs_dropout_prob=0.1, text_hidden_act="gelu", text_hidden_dropout_prob=0.1,
                         text_initializer_range=0.02)
OPENCLIP_TEXT = openclip_fixtures.TEXT  # context 77, width 32, 4 heads, 2 layers


def cut_vocabularies():
    """make_cnclip_fixtures.py's vocab.txt and make_openclip_fixtures.py's bpe-cut.txt.gz, made by
    those scripts' own functions, written here instead of their folders."""
    cnclip_fixtures.OUT, openclip_fixtures.OUT = OUT, OUT
    return cnclip_fixtures.cut_vocabulary(), openclip_fixtures.cut_merges()




def calibrate_batch_norms(visual, pixels):
    """Sets every batch norm's running statistics to those of one train-mode pass over `pixels`
    (momentum None: a plain average, here of one batch), as training leaves them matched to the
    data. With the constructors' statistics (mean 0, variance 1) the random tower shrinks its
    input stage by stage and both photos' features agree to 1e-3: nothing a test could tell apart."""
    norms = [m for m in visual.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    visual.train()
    with torch.no_grad():
        visual(pixels)
    visual.eval()
    for m in norms:
        m.momentum = 0.1


def perturb_statistics(model):
    """Every batch norm's running statistics: variance · exp(N(0, 0.2)) (it stays positive), mean
    shifted by N(0, 0.1) · its standard deviation."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_var.mul_(torch.exp(0.2 * torch.randn_like(m.running_var)))
                m.running_mean.add_(0.1 * torch.randn_like(m.running_mean) * m.running_var.sqrt())


def prepare(model, calibration):
    """perturb, calibrate the batch norms on the calibration pixels, perturb their statistics, eval."""
    perturb(model)
    calibrate_batch_norms(model.visual, calibration)
    perturb_statistics(model)
    model.eval()


def make_cnclip(vocab_size, tokenizer):
    return ChineseCLIP(embed_dim=EMBED, image_resolution=IMAGE_SIZE, vision_layers=LAYERS, vision_width=WIDTH,
                       vision_patch_size=None, vision_head_width=HEAD_WIDTH, vocab_size=vocab_size, tokenizer=tokenizer,
                       **CNCLIP_TEXT, **CNCLIP_TEXT_FIXED)


def make_openclip(vocab_size):
    vision = dict(image_size=IMAGE_SIZE, layers=LAYERS, width=WIDTH, head_width=HEAD_WIDTH)
    return open_clip.model.CLIP(embed_dim=EMBED, vision_cfg=vision, text_cfg=dict(OPENCLIP_TEXT, vocab_size=vocab_size),
                                quick_gelu=True)


def outputs(model, pixels, ids):
    """encode_image / encode_text (not normalised), exp(logit scale), scale · cosine."""
    with torch.no_grad():
        image = model.encode_image(pixels).float()
        text = model.encode_text(ids).float()
        scale = model.logit_scale.exp().float()
        logits = scale * torch.nn.functional.normalize(image, dim=-1) @ torch.nn.functional.normalize(text, dim=-1).t()
    return image, text, scale, logits


def stages(model, pixels):
    """The image tower's activations for the first image, as its own forward over the whole batch
    computes them (forward hooks on the stem's average pool, the four stages and the attention
    pool), kept as a batch of 1."""
    visual = model.visual
    names = {"stem": visual.avgpool, "layer1": visual.layer1, "layer2": visual.layer2, "layer3": visual.layer3,
             "layer4": visual.layer4, "attnpool": visual.attnpool}
    seen, hooks = {}, []
    for name, module in names.items():
        hooks.append(module.register_forward_hook(lambda _m, _i, out, name=name: seen.__setitem__(name, out[:1].detach().clone())))
    with torch.no_grad():
        model.encode_image(pixels)
    for hook in hooks:
        hook.remove()
    return seen


def load_photos(transform, photos=PHOTOS):
    return torch.stack([transform(Image.open(os.path.join(ASSETS, "photos", name))) for name in photos])


def check_reload(fresh, state, pixels, ids, expected, label):
    """Loads `state` strictly into the fresh model and requires identical outputs."""
    fresh.load_state_dict(state)
    fresh.eval()
    got = outputs(fresh, pixels, ids)
    assert all(torch.equal(a, b) for a, b in zip(got, expected)), f"{label}: reloaded outputs differ"
    print(f"{label}: reloaded into a fresh model, outputs identical")


def main():
    os.makedirs(OUT, exist_ok=True)
    (vocab_path, cn_vocab), (bpe_path, open_vocab) = cut_vocabularies()

    # Chinese-CLIP: RN-style tower + tiny BERT, training-checkpoint layout.
    torch.manual_seed(20241207)
    cn_tokenizer = FullTokenizer(vocab_file=vocab_path)
    cn_model = make_cnclip(cn_vocab, cn_tokenizer)
    cn_pixels = load_photos(cnclip_transform(IMAGE_SIZE))
    prepare(cn_model, load_photos(cnclip_transform(IMAGE_SIZE), CALIBRATION))
    cn_ids = cnclip_fixtures.tokenize(cn_tokenizer, cnclip_fixtures.TEXTS)
    cn_out = outputs(cn_model, cn_pixels, cn_ids)
    with torch.no_grad():
        cn_logits, _ = cn_model.get_similarity(cn_pixels, cn_ids)
    assert torch.allclose(cn_logits, cn_out[3], atol=1e-5), "scale · cosine differs from cn_clip's get_similarity"
    cn_stages = stages(cn_model, cn_pixels)
    assert torch.equal(cn_stages["attnpool"], cn_out[0][:1]), "the hooked attention pool is not encode_image's output"
    cn_state = cn_model.state_dict()
    tracked = [k for k in cn_state if k.endswith("num_batches_tracked")]
    optimizer = torch.optim.AdamW(cn_model.parameters(), lr=5e-5)  # no step taken: its state holds no tensors
    cn_path = os.path.join(OUT, "cnclip-rn50.pt")
    torch.save({"epoch": 3, "step": 120, "name": "cnclip-rn50-tiny",
                "state_dict": {"module." + k: v.clone() for k, v in cn_state.items()},
                "optimizer": optimizer.state_dict()}, cn_path)
    print(f"wrote {cn_path} ({os.path.getsize(cn_path)} bytes, {len(cn_state)} tensors, "
          f"{len(tracked)} of them num_batches_tracked)")
    saved = torch.load(cn_path, map_location="cpu")["state_dict"]
    check_reload(make_cnclip(cn_vocab, cn_tokenizer), {k[len("module."):]: v for k, v in saved.items()},
                 cn_pixels, cn_ids, cn_out, "cnclip-rn50.pt")

    # OpenCLIP: RN-style tower + text transformer (QuickGELU), plain state dict.
    torch.manual_seed(20241208)
    open_tokenizer = SimpleTokenizer(bpe_path=bpe_path, context_length=openclip_fixtures.CONTEXT)
    assert len(open_tokenizer.encoder) == open_vocab, len(open_tokenizer.encoder)
    open_model = make_openclip(open_vocab)
    open_pixels = load_photos(openclip_transform(IMAGE_SIZE, is_train=False))
    prepare(open_model, load_photos(openclip_transform(IMAGE_SIZE, is_train=False), CALIBRATION))
    open_ids = open_tokenizer(openclip_fixtures.TEXTS)
    open_out = outputs(open_model, open_pixels, open_ids)
    open_state = open_model.state_dict()
    open_path = os.path.join(OUT, "openclip-rn50.pt")
    torch.save(open_state, open_path)
    print(f"wrote {open_path} ({os.path.getsize(open_path)} bytes, {len(open_state)} tensors)")
    check_reload(make_openclip(open_vocab), torch.load(open_path, map_location="cpu"), open_pixels, open_ids, open_out,
                 "openclip-rn50.pt")

    # The two families' towers are the same computation: open_clip's tower with cn_clip's weights.
    cn_visual = {k[len("visual."):]: v for k, v in cn_state.items() if k.startswith("visual.")}
    twin = make_openclip(open_vocab).visual
    twin.load_state_dict(cn_visual)
    twin.eval()
    with torch.no_grad():
        assert torch.equal(twin(cn_pixels), cn_out[0]), "open_clip's ModifiedResNet differs from cn_clip's"
    print("open_clip's ModifiedResNet with cn_clip's visual weights: identical image features")

    tensors = {}
    for prefix, pixels, ids, (image, text, scale, logits) in [("cnclip_", cn_pixels, cn_ids, cn_out),
                                                               ("openclip_", open_pixels, open_ids, open_out)]:
        tensors.update({prefix + "pixels": pixels, prefix + "text_ids": ids, prefix + "image_features": image,
                        prefix + "text_features": text, prefix + "logit_scale": scale, prefix + "logits_per_image": logits})
    tensors.update({"cnclip_" + name: value for name, value in cn_stages.items()})
    write_safetensors(os.path.join(OUT, "reference.safetensors"), tensors, metadata={
        "photos": json.dumps(PHOTOS),
        "cnclip_texts": json.dumps(cnclip_fixtures.TEXTS, ensure_ascii=False),
        "openclip_texts": json.dumps(openclip_fixtures.TEXTS),
        "cnclip_context_length": str(cnclip_fixtures.CONTEXT), "openclip_context_length": str(openclip_fixtures.CONTEXT),
        "torch": torch.__version__, "cn_clip": "1.6.0", "open_clip": open_clip.__version__})

    def vision(model):
        pool = model.visual.attnpool
        return {"kind": "resnet", "image_size": IMAGE_SIZE, "layers": list(LAYERS), "width": WIDTH,
                "heads": pool.num_heads, "output_dim": EMBED, "pool_width": pool.k_proj.in_features,
                "head_width": HEAD_WIDTH, "grid_size": IMAGE_SIZE // 32, "batch_norm_eps": model.visual.bn1.eps}
    shapes = {
        "cnclip": {
            "checkpoint": "cnclip-rn50.pt", "layout": "cn_clip training checkpoint (module.-prefixed state_dict)",
            "embed_dim": EMBED, "vision": vision(cn_model),
            "text": {"model_type": "bert", "vocabulary": "vocab.txt", "vocab_size": cn_vocab,
                     "hidden_size": CNCLIP_TEXT["text_hidden_size"], "num_hidden_layers": CNCLIP_TEXT["text_num_hidden_layers"],
                     "num_attention_heads": CNCLIP_TEXT["text_num_attention_heads"],
                     "intermediate_size": CNCLIP_TEXT["text_intermediate_size"], "hidden_act": "gelu",
                     "max_position_embeddings": CNCLIP_TEXT["text_max_position_embeddings"],
                     "type_vocab_size": CNCLIP_TEXT["text_type_vocab_size"], "layer_norm_eps": 1e-12,
                     "context_length": cnclip_fixtures.CONTEXT},
        },
        "openclip": {
            "checkpoint": "openclip-rn50.pt", "layout": "plain state dict",
            "embed_dim": EMBED, "vision": vision(open_model),
            "text": {"kind": "clip", "merges": "bpe-cut.txt.gz", "vocab_size": open_vocab, "width": OPENCLIP_TEXT["width"],
                     "layers": OPENCLIP_TEXT["layers"], "heads": OPENCLIP_TEXT["heads"],
                     "context_length": openclip_fixtures.CONTEXT, "activation": "quick_gelu"},
        },
    }
    # As swift-vlp model configurations, what `vlp import --config` takes (head counts are not in
    # the shapes): the ResNet tower's own keys, the text tower's as the other fixtures write them.
    for family, sizes in shapes.items():
        tower = {k: sizes["vision"][k] for k in ("kind", "image_size", "layers", "width", "heads", "output_dim")}
        text = {k: v for k, v in sizes["text"].items() if k not in ("vocabulary", "merges")}
        if family == "cnclip":
            del text["context_length"]
        config = {"architecture": "dual_encoder", "embed_dim": sizes["embed_dim"], "text": text, "vision": tower}
        with open(os.path.join(OUT, f"config-{family}.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        print(f"wrote config-{family}.json")
    for name, value in cn_stages.items():
        print(f"  cnclip_{name} {list(value.shape)}: mean {value.mean().item():.4f}, std {value.std().item():.4f}")
    for prefix, (image, text, _, _) in [("cnclip", cn_out), ("openclip", open_out)]:
        image, text = torch.nn.functional.normalize(image, dim=-1), torch.nn.functional.normalize(text, dim=-1)
        print(f"  {prefix}: cosine between the two images {(image[0] @ image[1]).item():.3f}, largest between texts "
              f"{(text @ text.t() - 2 * torch.eye(len(text))).max().item():.3f}")


def full_size_reference(photos, texts):
    """cn_clip's RN50@RBT3-chinese with random perturbed weights rounded to fp16 (as released):
    the fp16 training-layout checkpoint's contents, and the normalised image and text features of
    the fp32-upcast model."""
    torch.manual_seed(7)
    # cn_clip's create_model("RN50@RBT3-chinese"): the two packaged configs merged, the layer list parsed.
    configs = os.path.join(os.path.dirname(cn_clip.clip.__file__), "model_configs")
    config = {}
    for name in ["RN50.json", "RBT3-chinese.json"]:
        with open(os.path.join(configs, name)) as f:
            config.update(json.load(f))
    config["vision_layers"] = tuple(json.loads(config["vision_layers"]))  # "[3,4,6,3]"
    tokenizer = FullTokenizer(vocab_file=os.path.join(ASSETS, "cn-clip", "vocab.txt"))
    assert len(tokenizer.vocab) == config["vocab_size"], len(tokenizer.vocab)
    model = ChineseCLIP(tokenizer=tokenizer, **config)
    prepare(model, load_photos(cnclip_transform(224), CALIBRATION))
    convert_weights(model)  # released checkpoints are fp16 (batch norms stay fp32)
    checkpoint = {"epoch": 1, "step": 1, "name": "full-size-check",
                  "state_dict": {"module." + k: v.clone() for k, v in model.state_dict().items()},
                  "optimizer": torch.optim.AdamW(model.parameters(), lr=5e-5).state_dict()}
    convert_models_to_fp32(model)
    model.eval()
    pixels = load_photos(cnclip_transform(224), photos)
    ids = cnclip_fixtures.tokenize(tokenizer, texts)
    with torch.no_grad():
        image = torch.nn.functional.normalize(model.encode_image(pixels).float(), dim=-1)
        text = torch.nn.functional.normalize(model.encode_text(ids).float(), dim=-1)
    return checkpoint, image, text


def full_size(vlp):
    """RN50 + RBT3: cn_clip's features against `vlp import` + `vlp embed`."""
    photos = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"]
    texts = cnclip_fixtures.TEXTS
    checkpoint, image, text = full_size_reference(photos, texts)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "clip_cn_rn50-random.pt")
        torch.save(checkpoint, path)
        compare_with_vlp(vlp, path, ["--from", "cn-clip"], photos, texts, image, text, "full-size RN50@RBT3")


def compare_with_vlp(vlp, path, import_arguments, photos, texts, image, text, label):
    """`vlp import` of the checkpoint at `path` (beside it), `vlp embed` of the photos and texts, and
    the largest differences from the reference's normalised features `image` / `text`."""
    bundle = os.path.join(os.path.dirname(path), "bundle")
    subprocess.run([vlp, "import", path, "--output", bundle] + import_arguments, check=True)

    def embed(kind, inputs):
        out = subprocess.run([vlp, "embed", kind, "--checkpoint", bundle, "--json"] + inputs, check=True,
                             capture_output=True, text=True).stdout
        return torch.tensor([json.loads(line)["embedding"] for line in out.splitlines()])
    ours_image = embed("image", [os.path.join(ASSETS, "photos", name) for name in photos])
    ours_text = embed("text", texts)
    print(f"{label} ({os.path.getsize(path) / 1e6:.0f} MB fp16 checkpoint): text features "
          f"max |Δ| = {(ours_text - text).abs().max().item():.3g} on {len(texts)} texts")
    for photo, ours, theirs in zip(photos, ours_image, image):
        print(f"  {photo}: max |Δ| = {(ours - theirs).abs().max().item():.3g}")
    print("  (the features differ between inputs: largest off-diagonal cosine, images "
          f"{(image @ image.t() - torch.eye(len(photos))).max().item():.3f}, texts "
          f"{(text @ text.t() - torch.eye(len(texts))).max().item():.3f})")


def full_size_openai(vlp):
    """OpenAI's RN50 as open_clip builds it (`create_model("RN50-quickgelu")`: layers (3, 4, 6, 3),
    width 64, 224 px, embed dim 1024; a 512-wide 12-layer text transformer, 49,408 tokens; QuickGELU)
    with random perturbed weights (batch norms calibrated as above) rounded to fp16 as OpenAI's
    state dict is (`convert_weights_to_lp`): open_clip's features against `vlp import --from
    open-clip --activation quick_gelu` + `vlp embed`."""
    photos = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"]
    texts = openclip_fixtures.TEXTS
    torch.manual_seed(7)
    model = open_clip.create_model("RN50-quickgelu")
    transform = openclip_transform(224, is_train=False)
    prepare(model, load_photos(transform, CALIBRATION))
    open_clip.model.convert_weights_to_lp(model)  # OpenAI's released weights are fp16 (batch norms stay fp32)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.float().eval()
    pixels = load_photos(transform, photos)
    ids = open_clip.tokenize(texts)
    with torch.no_grad():
        image = torch.nn.functional.normalize(model.encode_image(pixels), dim=-1)
        text = torch.nn.functional.normalize(model.encode_text(ids), dim=-1)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "RN50-openai-random.pt")
        torch.save(state, path)
        compare_with_vlp(vlp, path, ["--from", "open-clip", "--activation", "quick_gelu"], photos, texts, image, text,
                         "full-size OpenAI RN50 via open_clip")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--full-size" and sys.argv[3] == "openai":
        sys.exit(full_size_openai(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "--full-size":
        sys.exit(full_size(sys.argv[2]))
    sys.exit(main())
