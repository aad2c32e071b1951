#!/usr/bin/python3
"""Makes the R2D2 import fixture (Tests/VLPTests/Fixtures/r2d2/): a small, randomly initialised R2D2
(yuxie11/R2D2, models/r2d2.py) saved in the layout of R2D2's released checkpoints, and its outputs.

Run from the repository root, after `make assets`:
    /usr/bin/python3 scripts/reference/make_r2d2_fixtures.py            (--keys also prints the key list)
Needs Debian's python3-torch 1.13, Pillow and transformers 4.39.3 (as make_hfclip_fixtures.py). There is
no R2D2 package, so the model is put together here as models/r2d2.py does it:
  visual_encoder     transformers' CLIP vision transformer (`CLIPVisionModel(...).vision_model`; R2D2
                     takes `CLIPModel(...).vision_model`, the same class). `last_hidden_state` is the
                     output BEFORE post_layernorm, which R2D2 never uses (its weights are still saved).
  text_encoder       `transformers.BertModel` with its (unused) pooler.
  vision_proj, text_proj   nn.Linear with bias; features are F.normalize(proj(states[:, 0])).
  text_joint_layer, img_joint_layer   R2D2's models/bert.py BertModel (BLIP's med.py) with cross-attention
                     and no pooler, written below as `CrossBert` (own code, same parameter tree and
                     arithmetic: post-LN layers of self-attention, cross-attention, exact-erf GELU MLP;
                     masks as additive (1 - m) * -10000). Their `embeddings` (word + position + LayerNorm:
                     med.py's embeddings have NO token_type_embeddings) are saved but never run: R2D2 calls
                     the joint layers with `encoder_embeds=`. The text joint layer's cross-attention key /
                     value take the vision width, the image joint layer's the text width.
  img_joint_proj     nn.Linear(vision width, text width), applied to the image states before img_joint_layer.
  temp               a 0-d parameter holding τ itself (0.07 at init; logits are feat_t @ feat_iᵀ / temp).
  itm_head, itm_head_i     nn.Linear(text width, 2), class 1 = match.
Two-stage score of a (text, image) pair, as train_r2d2_retrieval.py's `compute_cross_score`: the mean of the
two heads' match probabilities plus the cosine of the normalised features (not divided by temp).

Shape (tiny): vision 32 px, patch 16 (4 patches + class token), width 48, 3 heads, intermediate 96,
2 layers, QuickGELU, eps 1e-5; text BERT over the cut vocabulary (the cn_clip / hfcnclip fixtures' cut:
TEXTS + EXTRA, see make_cnclip_fixtures.py), hidden 32, 2 heads, 2 layers, intermediate 64, 64 positions,
2 token types, eps 1e-12, initializer_range 0.2 (make_hfcnclip_fixtures.py says why); joint layers hidden 32,
2 heads, 2 layers (R2D2 has 6), intermediate 64, eps 1e-12, embeddings of the cut vocabulary and 64
positions, initialised with std JOINT_INIT_STD = 0.2 instead of BERT's 0.02 (at 0.02 the [CLS] outputs
of the 2-layer post-norm stacks barely depend on the other modality: a text's match probability moves by
about 0.002 between the two photos, at 0.2 by 0.07 or more; the script checks that the six pairs'
probabilities are at least 1e-3 apart); embed_dim 24. Head width 16 throughout, NOT R2D2's 64: the head counts
are not in the weights. About 650 KB of fp32 values (the vision tower half of it: its 16 x 16 x 3 -> 48
patch embedding alone is 147 KB). Seeded; EVERY parameter is perturbed (perturbation.py: temp 0.07 -> 0.37, inside
R2D2's clamp [0.001, 0.5]).

Writes:
  r2d2.pth       `torch.save({"model": state_dict, "epoch": 3, "config": {...}})` (zip format, fp32) as
                 R2D2's training scripts save (they also save "optimizer", which the released files do not
                 need). The state dict also carries the constant buffers that transformers 4.16 (R2D2's
                 release) saved and 4.39 no longer does: visual_encoder.embeddings.position_ids int64 [1, 5],
                 text_encoder.embeddings.position_ids int64 [1, 64], and the joint layers'
                 embeddings.position_ids int64 [1, 64] (med.py registers them as saved buffers).
  vocab.txt      the cut vocabulary.
  config.json    swift-vlp's model configuration of it, with its head counts (16 wide: `vlp import --config`).
  reference.safetensors   pixel_values [2, 3, 32, 32]: chelsea.png and coffee.png through R2D2's transform
                 (PIL bicubic resize to 32 x 32 — a squash ignoring aspect —, /255, CLIP mean / std);
                 input_ids / attention_mask [3, 64] int64: TEXTS through BertTokenizer(vocab.txt) with
                 padding="max_length", truncation, max_length 64 (R2D2's tokenize_text; [PAD] = 0);
                 image_features [2, 24] / text_features [3, 24] (normalised); logits_per_text [3, 2]
                 (/ temp); temp []; itm_logits_text / itm_logits_image [3, 2, 2]: itm_head / itm_head_i
                 logits of each (text t, image i) pair; match_probability [3, 2]: their class-1 softmax
                 mean; two_stage_score [3, 2]: cosine + match_probability. Pairs are run as
                 compute_cross_score does for text→image: a text's states repeated against the images'.

Full-size check (outside the test suite, nothing committed):
    /usr/bin/python3 scripts/reference/make_r2d2_fixtures.py --full-size .build/debug/vlp
builds R2D2's released ViT-L/14 shape (vision 1024 wide, 24 layers, 16 heads, patch 14, 224 px; text
RoBERTa-wwm-ext-base: cn-clip's 21,128-token vocabulary, 768 wide, 12 layers, 12 heads, 512 positions;
joint layers 6 x 768, 12 heads; embed_dim 768) with random perturbed weights, saves it like r2d2.pth to a
temporary folder, frees the model, runs `vlp import --from r2d2` and `vlp embed` on four photos and three
texts, and prints the largest differences from the reference's normalised features.
"""
import gc
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch import nn
from PIL import Image
import transformers
from transformers import BertConfig, BertModel, BertTokenizer, CLIPVisionConfig, CLIPVisionModel

from perturbation import perturb
from safetensors_writer import write_safetensors
# The Chinese-CLIP fixtures' texts and their cut of the vocabulary, so the fixtures share one cut vocabulary.
from make_hfcnclip_fixtures import TEXTS, cut_vocabulary

OUT = os.path.join("Tests", "VLPTests", "Fixtures", "r2d2")
ASSETS = "assets"
FULL_VOCAB = os.path.join(ASSETS, "cn-clip", "vocab.txt")  # cn-clip's 21,128-token Chinese BERT vocabulary (= hfl_roberta's)
CONTEXT = 64  # R2D2's tokenize_text: padding="max_length", max_length=64
PHOTOS = ["chelsea.png", "coffee.png"]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
JOINT_INIT_STD = 0.2

TINY = dict(image_size=32, patch=16, vision_width=48, vision_heads=3, vision_intermediate=96, vision_layers=2,
            text_width=32, text_heads=2, text_layers=2, text_intermediate=64, positions=64,
            joint_heads=2, joint_layers=2, joint_intermediate=64, embed_dim=24,
            text_init=0.2, joint_init=JOINT_INIT_STD)
# R2D2's released large model (checkpoints/r2d2_config/vision_config.json, hfl_roberta, bert_config.json with 6 layers).
LARGE = dict(image_size=224, patch=14, vision_width=1024, vision_heads=16, vision_intermediate=4096, vision_layers=24,
             text_width=768, text_heads=12, text_layers=12, text_intermediate=3072, positions=512,
             joint_heads=12, joint_layers=6, joint_intermediate=3072, embed_dim=768,
             text_init=0.02, joint_init=0.02)


# ---- The joint layers: a BERT encoder with cross-attention that starts from given hidden states. ----

def additive(mask):
    """A [B, L] 0/1 mask as the [B, 1, 1, L] term added to attention scores (0 kept, -10000 masked)."""
    return (1.0 - mask[:, None, None, :].float()) * -10000.0


class QueryKeyValue(nn.Module):
    def __init__(self, width, source_width):
        super().__init__()
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(source_width, width)
        self.value = nn.Linear(source_width, width)


class DenseAddNorm(nn.Module):
    """LayerNorm(dense(x) + residual): BERT's attention output and layer output."""
    def __init__(self, inner, width, eps):
        super().__init__()
        self.dense = nn.Linear(inner, width)
        self.LayerNorm = nn.LayerNorm(width, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    """Multi-head attention of `x` over `source` (itself for self-attention) and its add & norm."""
    def __init__(self, width, source_width, heads, eps):
        super().__init__()
        self.heads = heads
        self.self = QueryKeyValue(width, source_width)
        self.output = DenseAddNorm(width, width, eps)

    def forward(self, x, source, mask_term):
        def split(t):  # [B, L, W] -> [B, heads, L, W / heads]
            return t.view(t.shape[0], t.shape[1], self.heads, -1).transpose(1, 2)
        q, k, v = split(self.self.query(x)), split(self.self.key(source)), split(self.self.value(source))
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + mask_term
        context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(x.shape)
        return self.output(context, x)


class Intermediate(nn.Module):
    def __init__(self, width, inner):
        super().__init__()
        self.dense = nn.Linear(width, inner)

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact (erf) GELU, BERT's "gelu"


class CrossLayer(nn.Module):
    def __init__(self, width, source_width, heads, inner, eps):
        super().__init__()
        self.attention = Attention(width, width, heads, eps)
        self.crossattention = Attention(width, source_width, heads, eps)
        self.intermediate = Intermediate(width, inner)
        self.output = DenseAddNorm(inner, width, eps)

    def forward(self, h, mask_term, source, source_mask_term):
        h = self.attention(h, h, mask_term)
        h = self.crossattention(h, source, source_mask_term)
        return self.output(self.intermediate(h), h)


class UnusedEmbeddings(nn.Module):
    """med.py's BertEmbeddings (word + absolute position + LayerNorm, no token types): saved, never run by R2D2."""
    def __init__(self, vocabulary, positions, width, eps):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocabulary, width)
        self.position_embeddings = nn.Embedding(positions, width)
        self.LayerNorm = nn.LayerNorm(width, eps=eps)
        self.register_buffer("position_ids", torch.arange(positions).unsqueeze(0))  # saved, as med.py's


class Encoder(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layer = nn.ModuleList(layers)


class CrossBert(nn.Module):
    """R2D2's `text_joint_layer` / `img_joint_layer`, called as `model(encoder_embeds=..., ...)`."""
    def __init__(self, width, source_width, heads, layers, inner, vocabulary, positions, init_std, eps=1e-12):
        super().__init__()
        self.embeddings = UnusedEmbeddings(vocabulary, positions, width, eps)
        self.encoder = Encoder([CrossLayer(width, source_width, heads, inner, eps) for _ in range(layers)])
        for module in self.modules():  # BERT's _init_weights
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=init_std)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, encoder_embeds, attention_mask, encoder_hidden_states, encoder_attention_mask):
        h, mask_term, source_mask_term = encoder_embeds, additive(attention_mask), additive(encoder_attention_mask)
        for layer in self.encoder.layer:
            h = layer(h, mask_term, encoder_hidden_states, source_mask_term)
        return h


class R2D2(nn.Module):
    """models/r2d2.py's R2D2: the same attribute names (so the same state-dict keys) and the same arithmetic."""
    def __init__(self, vocabulary, s):
        super().__init__()
        vision = CLIPVisionConfig(hidden_size=s["vision_width"], intermediate_size=s["vision_intermediate"],
                                  num_hidden_layers=s["vision_layers"], num_attention_heads=s["vision_heads"],
                                  image_size=s["image_size"], patch_size=s["patch"], hidden_act="quick_gelu", layer_norm_eps=1e-5)
        self.visual_encoder = CLIPVisionModel(vision).vision_model
        text = BertConfig(vocab_size=vocabulary, hidden_size=s["text_width"], num_hidden_layers=s["text_layers"],
                          num_attention_heads=s["text_heads"], intermediate_size=s["text_intermediate"],
                          max_position_embeddings=s["positions"], type_vocab_size=2, hidden_act="gelu",
                          layer_norm_eps=1e-12, initializer_range=s["text_init"])
        self.text_encoder = BertModel(text)
        vw, tw = s["vision_width"], s["text_width"]
        self.vision_proj = nn.Linear(vw, s["embed_dim"])
        self.text_proj = nn.Linear(tw, s["embed_dim"])
        joint = dict(heads=s["joint_heads"], layers=s["joint_layers"], inner=s["joint_intermediate"], vocabulary=vocabulary,
                     positions=s["positions"], init_std=s["joint_init"])
        self.text_joint_layer = CrossBert(tw, vw, **joint)
        self.img_joint_layer = CrossBert(tw, tw, **joint)
        self.img_joint_proj = nn.Linear(vw, tw)
        self.temp = nn.Parameter(0.07 * torch.ones([]))
        self.itm_head = nn.Linear(tw, 2)
        self.itm_head_i = nn.Linear(tw, 2)

    def encode_text(self, ids, mask):
        states = self.text_encoder(ids, attention_mask=mask).last_hidden_state
        return states, F.normalize(self.text_proj(states[:, 0, :]), dim=-1)

    def encode_image(self, pixels):
        states = self.visual_encoder(pixels).last_hidden_state
        return states, F.normalize(self.vision_proj(states[:, 0, :]), dim=-1)

    def cross_output(self, text_states, text_mask, image_states, image_mask):
        """r2d2_retrieval.py's cross_output: the two joint layers' [CLS] outputs' head logits."""
        text_out = self.text_joint_layer(encoder_embeds=text_states, attention_mask=text_mask,
                                         encoder_hidden_states=image_states, encoder_attention_mask=image_mask)
        image_out = self.img_joint_layer(encoder_embeds=self.img_joint_proj(image_states), attention_mask=image_mask,
                                         encoder_hidden_states=text_states, encoder_attention_mask=text_mask)
        return self.itm_head(text_out[:, 0, :]), self.itm_head_i(image_out[:, 0, :])

    def state_dict_as_released(self):
        """The state dict with the constant buffers transformers 4.16 saved and 4.39 leaves out."""
        state = {k: v.detach().clone() for k, v in self.state_dict().items()}
        vision_positions = self.visual_encoder.embeddings.position_embedding.num_embeddings
        state["visual_encoder.embeddings.position_ids"] = torch.arange(vision_positions).unsqueeze(0)
        text_positions = self.text_encoder.embeddings.position_embeddings.num_embeddings
        state["text_encoder.embeddings.position_ids"] = torch.arange(text_positions).unsqueeze(0)
        return state


def preprocess(path, size):
    """r2d2_inference_demo.py's preprocess: Resize((size, size), BICUBIC) of the PIL image, ToTensor, Normalize."""
    image = Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC)
    pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(size, size, 3)
    pixels = pixels.permute(2, 0, 1).float() / 255.0
    return (pixels - torch.tensor(CLIP_MEAN).view(3, 1, 1)) / torch.tensor(CLIP_STD).view(3, 1, 1)


def build(vocabulary, shape, seed):
    torch.manual_seed(seed)
    model = R2D2(vocabulary, shape)
    perturb(model)
    return model.eval()


def training_config(shape):
    """A plain dict as a training run's yaml config (config/retrieval_*_large.yaml) is saved under "config"."""
    return {"train_batch_size": 32, "test_batch_size": 32, "num_epoch": 20, "weight_decay": 0.05, "base_lr": 1e-5,
            "min_lr": 0, "warmup_lr": 1e-6, "warmup_steps": 500, "vit_type": "large", "image_size": shape["image_size"],
            "top_k": 128, "data": "flickrcna", "pretrained_model": "checkpoints/r2d2/r2d2_pretrain_250m.pth"}


def write_vlp_configuration(path, s, vocabulary):
    """swift-vlp's model configuration of this R2D2 (what `vlp import --config` checks against the
    shapes): the fixture's head counts are 16 wide, not R2D2's 64, so the test passes them here."""
    def cross(query_width, context_width, query_map):
        return {"width": s["text_width"], "layers": s["joint_layers"], "heads": s["joint_heads"], "mlp_width": s["joint_intermediate"],
                "query_input_width": query_width, "context_input_width": context_width, "query_map": query_map, "context_map": "direct"}
    configuration = {
        "architecture": "r2d2", "embed_dim": s["embed_dim"], "projection_bias": True,
        "text": {"model_type": "bert", "vocab_size": vocabulary, "hidden_size": s["text_width"], "num_hidden_layers": s["text_layers"],
                 "num_attention_heads": s["text_heads"], "intermediate_size": s["text_intermediate"], "hidden_act": "gelu",
                 "max_position_embeddings": s["positions"], "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
                 "attention_probs_dropout_prob": 0.1, "pad_token_id": 0},
        "vision": {"image_size": s["image_size"], "patch_size": s["patch"], "width": s["vision_width"], "layers": s["vision_layers"],
                   "heads": s["vision_heads"], "mlp_width": s["vision_intermediate"], "layer_norm_eps": 1e-5, "activation": "quick_gelu",
                   "post_layernorm": False},
        "text_cross": cross(s["text_width"], s["vision_width"], "direct"),
        "image_cross": cross(s["vision_width"], s["text_width"], "linear"),
    }
    with open(path, "w") as f:
        json.dump(configuration, f, indent=2)
        f.write("\n")


def main(print_keys=False):
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    vocab_path, vocabulary = cut_vocabulary(OUT)
    cnclip_vocab = os.path.join("Tests", "VLPTests", "Fixtures", "cnclip", "vocab.txt")
    if os.path.exists(cnclip_vocab):
        with open(cnclip_vocab, encoding="utf-8") as a, open(vocab_path, encoding="utf-8") as b:
            print(f"cut vocabulary: {vocabulary} tokens, {'the same as' if a.read() == b.read() else 'DIFFERENT from'} {cnclip_vocab}")
    write_vlp_configuration(os.path.join(OUT, "config.json"), TINY, vocabulary)
    model = build(vocabulary, TINY, seed=20250311)
    state = model.state_dict_as_released()
    checkpoint = os.path.join(OUT, "r2d2.pth")
    torch.save({"model": state, "epoch": 3, "config": training_config(TINY)}, checkpoint)
    if print_keys:
        for key in sorted(state):
            print(f"  {key} {list(state[key].shape)} {str(state[key].dtype).replace('torch.', '')}")

    # Everything below runs on the model loaded back from r2d2.pth, as R2D2's load_checkpoint does.
    loaded = torch.load(checkpoint, map_location="cpu")["model"]
    model = R2D2(vocabulary, TINY).eval()
    missing, unexpected = model.load_state_dict(loaded, strict=False)
    assert not missing and sorted(unexpected) == ["text_encoder.embeddings.position_ids", "visual_encoder.embeddings.position_ids"], (missing, unexpected)

    tokenizer = BertTokenizer(vocab_path)
    encoded = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=CONTEXT, return_tensors="pt")
    ids, mask = encoded.input_ids, encoded.attention_mask
    pixels = torch.stack([preprocess(os.path.join(ASSETS, "photos", name), TINY["image_size"]) for name in PHOTOS])
    with torch.no_grad():
        text_states, text_features = model.encode_text(ids, mask)
        image_states, image_features = model.encode_image(pixels)
        logits_per_text = text_features @ image_features.t() / model.temp
        cosine = text_features @ image_features.t()
        # compute_cross_score, text -> image: one text's states repeated once per image.
        n_images = len(PHOTOS)
        image_mask = torch.ones(image_states.shape[:-1], dtype=torch.long)
        itm_text, itm_image = [], []
        for t in range(len(TEXTS)):
            a, b = model.cross_output(text_states[t].repeat(n_images, 1, 1), mask[t].repeat(n_images, 1), image_states, image_mask)
            itm_text.append(a)
            itm_image.append(b)
        itm_text, itm_image = torch.stack(itm_text), torch.stack(itm_image)  # [texts, images, 2]
        probability = (itm_text.softmax(dim=-1)[..., 1] + itm_image.softmax(dim=-1)[..., 1]) / 2
        two_stage = cosine + probability
        # The image -> text direction (one image repeated against the texts) must give the same pairs.
        other = torch.stack([torch.stack(model.cross_output(text_states, mask, image_states[i].repeat(len(TEXTS), 1, 1),
                                                            image_mask[i].repeat(len(TEXTS), 1)), dim=1)
                             for i in range(n_images)], dim=1)  # [texts, images, head, 2]
    print(f"image -> text pairing vs text -> image: max |Δ| of the head logits = "
          f"{(other - torch.stack([itm_text, itm_image], dim=2)).abs().max().item():.3g}")

    write_safetensors(os.path.join(OUT, "reference.safetensors"), {
        "pixel_values": pixels, "input_ids": ids, "attention_mask": mask,
        "image_features": image_features, "text_features": text_features, "logits_per_text": logits_per_text,
        "temp": model.temp.detach().clone(), "itm_logits_text": itm_text, "itm_logits_image": itm_image,
        "match_probability": probability, "two_stage_score": two_stage,
    }, metadata={"photos": json.dumps(PHOTOS), "texts": json.dumps(TEXTS, ensure_ascii=False),
                 "context_length": str(CONTEXT), "joint_layer_init_std": str(JOINT_INIT_STD),
                 "torch": torch.__version__, "transformers": transformers.__version__})

    # Checks: the six match probabilities are told apart (each depends on both members of the pair), and
    # the preprocessing equals torchvision's transform as r2d2_inference_demo.py builds it.
    p = probability.flatten()
    gaps = (p[:, None] - p[None, :]).abs() + torch.eye(len(p))
    print(f"match_probability {probability.min().item():.4f} .. {probability.max().item():.4f}, smallest gap between "
          f"pairs {gaps.min().item():.3g}; two_stage_score {two_stage.min().item():.4f} .. {two_stage.max().item():.4f}; "
          f"temp {model.temp.item():.4f}")
    assert gaps.min().item() > 1e-3, "match probabilities too close: raise JOINT_INIT_STD"
    print("  (features differ between inputs: largest off-diagonal cosine, images "
          f"{(image_features @ image_features.t() - torch.eye(n_images)).max().item():.3f}, texts "
          f"{(text_features @ text_features.t() - torch.eye(len(TEXTS))).max().item():.3f})")
    try:
        from torchvision import transforms
        from torchvision.transforms.functional import InterpolationMode
        transform = transforms.Compose([transforms.Resize((32, 32), interpolation=InterpolationMode.BICUBIC), transforms.ToTensor(),
                                        transforms.Normalize(CLIP_MEAN, CLIP_STD)])
        theirs = torch.stack([transform(Image.open(os.path.join(ASSETS, "photos", name)).convert("RGB")) for name in PHOTOS])
        print(f"pixel_values vs torchvision's R2D2 transform: max |Δ| = {(theirs - pixels).abs().max().item():.3g}")
    except ImportError:
        print("torchvision not installed: preprocessing cross-check skipped")

    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print(f"wrote {os.path.join(OUT, name)} ({size} bytes)")
    print(f"fixture: {total} bytes in all, {len(state)} checkpoint tensors")


def full_size(vlp):
    """R2D2 ViT-L/14 shape with random perturbed weights and cn-clip's full vocabulary: its normalised
    features against `vlp import --from r2d2` + `vlp embed`."""
    photos = ["chelsea.png", "coffee.png", "astronaut.png", "hubble_deep_field.jpg"]
    with tempfile.TemporaryDirectory() as folder:
        tokenizer = BertTokenizer(FULL_VOCAB)
        model = build(len(tokenizer.vocab), LARGE, seed=7)
        checkpoint = os.path.join(folder, "r2d2_large_random.pth")
        torch.save({"model": model.state_dict_as_released(), "epoch": 1, "config": training_config(LARGE)}, checkpoint)
        encoded = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=CONTEXT, return_tensors="pt")
        pixels = torch.stack([preprocess(os.path.join(ASSETS, "photos", name), LARGE["image_size"]) for name in photos])
        with torch.no_grad():
            text_states, text = model.encode_text(encoded.input_ids, encoded.attention_mask)
            image_states, image = model.encode_image(pixels)
            # Two-stage scores of every (text, photo) pair, as compute_cross_score gives them.
            image_mask = torch.ones(image_states.shape[:2], dtype=torch.long)
            two_stage = torch.zeros(len(TEXTS), len(photos))
            for t in range(len(TEXTS)):
                a, b = model.cross_output(text_states[t:t + 1].repeat(len(photos), 1, 1), encoded.attention_mask[t:t + 1].repeat(len(photos), 1),
                                          image_states, image_mask)
                two_stage[t] = (text[t] @ image.t()) + (a.softmax(dim=-1)[:, 1] + b.softmax(dim=-1)[:, 1]) / 2
        del model, text_states, image_states  # about 2 GB in fp32; the binary loads its own copy
        gc.collect()
        bundle = os.path.join(folder, "bundle")
        subprocess.run([vlp, "import", "--from", "r2d2", checkpoint, "--output", bundle, "--vocabulary", FULL_VOCAB], check=True)
        def embed(kind, inputs):
            out = subprocess.run([vlp, "embed", kind, "--checkpoint", bundle, "--json"] + inputs, check=True, capture_output=True, text=True).stdout
            return torch.tensor([json.loads(line)["embedding"] for line in out.splitlines()])
        ours_image = embed("image", [os.path.join(ASSETS, "photos", name) for name in photos])
        ours_text = embed("text", TEXTS)
        print(f"full-size R2D2 (ViT-L/14 + RoBERTa-wwm-ext-base shape, fp32, {os.path.getsize(checkpoint) / 1e6:.0f} MB): "
              f"text features max |Δ| = {(ours_text - text).abs().max().item():.3g} on {len(TEXTS)} texts")
        for name, ours, theirs in zip(photos, ours_image, image):
            print(f"  {name}: max |Δ| = {(ours - theirs).abs().max().item():.3g}")
        # `vlp index` + `vlp search --rerank`: each hit's score is the two-stage score.
        folder_of_photos = os.path.join(folder, "photos")
        os.makedirs(folder_of_photos)
        for name in photos:
            shutil.copy(os.path.join(ASSETS, "photos", name), folder_of_photos)
        index = os.path.join(folder, "photos.index")
        subprocess.run([vlp, "index", "--checkpoint", bundle, "--images", folder_of_photos, "--out", index], check=True, capture_output=True)
        worst = 0.0
        for t, query in enumerate(TEXTS):
            out = subprocess.run([vlp, "search", "--index", index, query, "-k", str(len(photos)), "--rerank", str(len(photos)), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            for hit in json.loads(out)["results"]:
                worst = max(worst, abs(hit["score"] - two_stage[t, photos.index(hit["id"])].item()))
        print(f"  vlp search --rerank {len(photos)}: two-stage scores (cosine + mean match probability) of {len(TEXTS)} x {len(photos)} pairs, "
              f"max |Δ| = {worst:.3g} (scores {two_stage.min().item():.3f} .. {two_stage.max().item():.3f})")
        print("  (the features differ between inputs: largest off-diagonal cosine, images "
              f"{(image @ image.t() - torch.eye(len(photos))).max().item():.3f}, texts {(text @ text.t() - torch.eye(len(TEXTS))).max().item():.3f})")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--full-size":
        sys.exit(full_size(sys.argv[2]))
    sys.exit(main(print_keys=sys.argv[1:] == ["--keys"]))
