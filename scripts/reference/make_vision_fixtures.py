#!/usr/bin/env python3
"""Makes the vision test fixtures in Tests/VLPTests/Fixtures/vision from Pillow's outputs.

    python3 -m venv /tmp/visref && /tmp/visref/bin/pip install pillow numpy
    make assets     # the real photos in assets/photos
    /tmp/visref/bin/python scripts/reference/make_vision_fixtures.py

What it writes (all small):
  edge/*            tiny edge-case images (grayscale/CMYK/progressive/EXIF JPEGs, alpha, palette,
                    16-bit PNGs, WebPs) and bad inputs (truncated, zero-byte, random bytes)
  expected/*.rgb    Pillow's decode of each edge-case image: raw 8-bit RGB, row-major
  samples/*.png     Pillow's outputs for the photo cases, kept only every `stride`-th row and column
  manifest.json     the cases: the operations, Pillow's output size, stride, FNV-1a hash, means
The operations mirror what torchvision does with a PIL image (Resize with one int = shortest side,
CenterCrop with Python's round, RandomResizedCrop = crop then resize).
"""
import gzip
import io
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, ImageOps, features

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PHOTOS = os.path.join(ROOT, "assets", "photos")
OUT = os.path.join(ROOT, "Tests", "VLPTests", "Fixtures", "vision")
FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def fnv1a64(arr: np.ndarray) -> str:
    """FNV-1a (64-bit) of the array's bytes; the tests compute the same over their pixels."""
    h = 0xCBF29CE484222325
    for b in arr.astype(np.uint8).tobytes():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def rgb(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


# ---- torchvision's geometry, written out (torchvision 0.14+ semantics with a PIL image) ----

def short_side_size(w, h, size):
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def center_crop(im, cw, ch):
    w, h = im.size
    if cw > w or ch > h:
        pad = [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
               (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0]
        im = ImageOps.expand(im, border=tuple(pad), fill=0)
        w, h = im.size
        if (cw, ch) == (w, h):
            return im
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    return im.crop((left, top, left + cw, top + ch))


def apply(im, ops):
    for op in ops:
        kind = op["op"]
        if kind == "crop":
            x, y, w, h = op["box"]
            im = im.crop((x, y, x + w, y + h))
        elif kind == "resizeShortSide":
            size = short_side_size(im.size[0], im.size[1], op["size"])
            if size != im.size:
                im = im.resize(size, FILTERS[op["filter"]])
        elif kind == "resize":
            im = im.resize((op["width"], op["height"]), FILTERS[op["filter"]])
        elif kind == "centerCrop":
            im = center_crop(im, op["width"], op["height"])
        elif kind == "resizedCrop":  # torchvision F.resized_crop: crop, then resize
            x, y, w, h = op["box"]
            im = im.crop((x, y, x + w, y + h)).resize((op["width"], op["height"]), FILTERS[op["filter"]])
        else:
            raise ValueError(kind)
    return im


def stride_for(w, h, target=64):
    return max(1, math.ceil(max(w, h) / target))


def summary(arr):
    return {"width": int(arr.shape[1]), "height": int(arr.shape[0]), "fnv1a64": fnv1a64(arr),
            "mean": [float(arr[:, :, c].mean()) for c in range(3)]}


def write_sample(name, arr, stride):
    path = os.path.join(OUT, "samples", name + ".png")
    Image.fromarray(np.ascontiguousarray(arr[::stride, ::stride])).save(path, optimize=True)
    return "samples/" + name + ".png"


# ---- hand-written PNG (Pillow cannot write 16-bit RGB) ----

def png_bytes(arr: np.ndarray, color_type: int, bit_depth: int) -> bytes:
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].astype(">u2" if bit_depth == 16 else "u1").tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def make_edge_cases(manifest):
    edge = os.path.join(OUT, "edge")
    base = Image.open(os.path.join(PHOTOS, "astronaut.png")).convert("RGB").resize((32, 24), Image.BILINEAR)
    rng = np.random.default_rng(20240611)
    files = {}

    def save(name, data: bytes):
        with open(os.path.join(edge, name), "wb") as f:
            f.write(data)
        files[name] = data

    def encoded(im, fmt, **kw):
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        return buf.getvalue()

    save("rgb.jpg", encoded(base, "JPEG", quality=90))
    save("gray.jpg", encoded(base.convert("L"), "JPEG", quality=90))
    save("cmyk.jpg", encoded(base.convert("CMYK"), "JPEG", quality=90))
    save("progressive.jpg", encoded(base, "JPEG", quality=85, progressive=True))
    exif = Image.Exif()
    exif[0x0112] = 6
    save("orientation6.jpg", encoded(base, "JPEG", quality=90, exif=exif.tobytes()))
    rgba = base.copy()
    ys, xs = np.mgrid[0:24, 0:32]
    alpha = Image.fromarray(((xs * 8 + ys * 3) % 256).astype(np.uint8))   # every level of opacity
    rgba.putalpha(alpha)
    save("alpha.png", encoded(rgba, "PNG"))
    save("gray_alpha.png", encoded(rgba.convert("LA"), "PNG"))
    pal = base.quantize(colors=16)
    save("palette.png", encoded(pal, "PNG", transparency=3))
    save("gray.png", encoded(base.convert("L"), "PNG"))
    save("bilevel.png", encoded(base.convert("1"), "PNG"))
    wide = (np.asarray(base, dtype=np.uint16) * 257 + rng.integers(0, 257, (24, 32, 3))).astype(np.uint16)
    save("rgb16.png", png_bytes(wide, 2, 16))
    save("gray16.png", png_bytes(wide[:, :, 0], 0, 16))
    save("lossy.webp", encoded(base, "WEBP", quality=80))
    save("lossless_alpha.webp", encoded(rgba, "WEBP", lossless=True))
    save("png_named.jpg", files["gray.png"])                      # wrong extension, valid image
    save("truncated.jpg", files["rgb.jpg"][: len(files["rgb.jpg"]) * 2 // 3])
    save("truncated.png", files["alpha.png"][: len(files["alpha.png"]) // 2])
    save("truncated.webp", files["lossy.webp"][: len(files["lossy.webp"]) // 2])
    save("header_only.jpg", files["rgb.jpg"][:2])
    save("zero.jpg", b"")
    save("random.png", rng.integers(0, 256, 600, dtype=np.uint8).tobytes())  # random bytes, .png name
    corrupt = bytearray(files["rgb.jpg"])
    sos = corrupt.index(b"\xff\xda")
    corrupt[sos - 200: sos - 100] = rng.integers(0, 256, 100, dtype=np.uint8).tobytes()  # wreck the tables
    save("corrupt_tables.jpg", bytes(corrupt))

    cases = []
    for name in ["rgb.jpg", "gray.jpg", "cmyk.jpg", "progressive.jpg", "orientation6.jpg", "alpha.png",
                 "gray_alpha.png", "palette.png", "gray.png", "bilevel.png", "rgb16.png", "lossy.webp",
                 "lossless_alpha.webp", "png_named.jpg"]:
        im = Image.open(io.BytesIO(files[name]))
        transposed = ImageOps.exif_transpose(im)   # identity without an orientation tag
        arr = rgb(transposed)
        exp = "expected/" + name + ".rgb"
        with open(os.path.join(OUT, exp), "wb") as f:
            f.write(arr.tobytes())
        cases.append({"file": "edge/" + name, "mode": im.mode, "expected": exp,
                      "width": int(arr.shape[1]), "height": int(arr.shape[0])})
    # 16-bit gray: Pillow opens it as "I;16" and its convert("RGB") clips every value above 255 to
    # white. We keep the high byte instead (as Pillow does for 16-bit RGB); expected made here.
    g16 = (wide[:, :, 0] >> 8).astype(np.uint8)
    exp = "expected/gray16.png.rgb"
    with open(os.path.join(OUT, exp), "wb") as f:
        f.write(np.repeat(g16[:, :, None], 3, axis=2).tobytes())
    cases.append({"file": "edge/gray16.png", "mode": "I;16 (high byte, not Pillow's clip)",
                  "expected": exp, "width": 32, "height": 24})
    manifest["edgeDecodes"] = cases
    manifest["badInputs"] = [
        {"file": "edge/truncated.jpg", "error": "truncated"},
        {"file": "edge/truncated.png", "error": "truncated"},
        {"file": "edge/truncated.webp", "error": "truncated"},
        {"file": "edge/header_only.jpg", "error": "truncated"},
        {"file": "edge/zero.jpg", "error": "zeroByte"},
        {"file": "edge/random.png", "error": "unknownFormat"},
        {"file": "edge/corrupt_tables.jpg", "error": "corrupt"},
    ]


def make_photo_cases(manifest):
    decodes = []
    for name in ["rocket.jpg", "retina.jpg", "hubble_deep_field.jpg", "astronaut.png", "chelsea.png", "coffee.png"]:
        arr = rgb(Image.open(os.path.join(PHOTOS, name)))
        s = stride_for(arr.shape[1], arr.shape[0], 64)
        entry = {"photo": name, "stride": s, **summary(arr)}
        entry["sample"] = write_sample("decode-" + name, arr, s)
        decodes.append(entry)
    # DCT-domain downscaled decodes, compared with Pillow's draft() at the same scale.
    scaled = []
    for name, denom in [("rocket.jpg", 2), ("rocket.jpg", 4), ("retina.jpg", 8), ("hubble_deep_field.jpg", 4)]:
        im = Image.open(os.path.join(PHOTOS, name))
        w, h = im.size
        im.draft("RGB", (w // denom, h // denom))
        arr = rgb(im)
        assert arr.shape[1] == (w + denom - 1) // denom and arr.shape[0] == (h + denom - 1) // denom, (name, arr.shape)
        s = stride_for(arr.shape[1], arr.shape[0], 64)
        entry = {"photo": name, "scaleDenominator": denom, "targetShortSide": min(arr.shape[:2]),
                 "stride": s, **summary(arr)}
        entry["sample"] = write_sample(f"draft{denom}-" + name, arr, s)
        scaled.append(entry)
    manifest["photoDecodes"] = decodes
    manifest["scaledDecodes"] = scaled

    cases = [
        ("rocket-bilinear-short64", "rocket.jpg", [{"op": "resizeShortSide", "size": 64, "filter": "bilinear"}]),
        ("rocket-bicubic-short64", "rocket.jpg", [{"op": "resizeShortSide", "size": 64, "filter": "bicubic"}]),
        ("astronaut-bilinear-100x75", "astronaut.png", [{"op": "resize", "width": 100, "height": 75, "filter": "bilinear"}]),
        ("astronaut-bicubic-100x75", "astronaut.png", [{"op": "resize", "width": 100, "height": 75, "filter": "bicubic"}]),
        ("chelsea-clip224", "chelsea.png", [{"op": "resizeShortSide", "size": 224, "filter": "bicubic"},
                                            {"op": "centerCrop", "width": 224, "height": 224}]),
        ("coffee-bilinear224-crop224", "coffee.png", [{"op": "resizeShortSide", "size": 224, "filter": "bilinear"},
                                                      {"op": "centerCrop", "width": 224, "height": 224}]),
        ("retina-clip224", "retina.jpg", [{"op": "resizeShortSide", "size": 224, "filter": "bicubic"},
                                          {"op": "centerCrop", "width": 224, "height": 224}]),
        ("hubble-bicubic-333x291", "hubble_deep_field.jpg", [{"op": "resize", "width": 333, "height": 291, "filter": "bicubic"}]),
        ("astronaut-crop-bilinear-up", "astronaut.png", [{"op": "crop", "box": [200, 180, 40, 30]},
                                                         {"op": "resize", "width": 150, "height": 112, "filter": "bilinear"}]),
        ("astronaut-crop-bicubic-up", "astronaut.png", [{"op": "crop", "box": [200, 180, 40, 30]},
                                                        {"op": "resize", "width": 150, "height": 112, "filter": "bicubic"}]),
        ("chelsea-bicubic-up-short400", "chelsea.png", [{"op": "resizeShortSide", "size": 400, "filter": "bicubic"}]),
        ("chelsea-bilinear-mixed-600x200", "chelsea.png", [{"op": "resize", "width": 600, "height": 200, "filter": "bilinear"}]),
        # Pillow >= 13 resizes vertically first when the height loses over twice the pixels the
        # width loses: both orders are covered, and the boundary.
        ("chelsea-bicubic-440x100-vertical-first", "chelsea.png", [{"op": "resize", "width": 440, "height": 100, "filter": "bicubic"}]),
        ("coffee-bilinear-500x150-vertical-first", "coffee.png", [{"op": "resize", "width": 500, "height": 150, "filter": "bilinear"}]),
        ("coffee-bilinear-500x200-horizontal-first", "coffee.png", [{"op": "resize", "width": 500, "height": 200, "filter": "bilinear"}]),
        ("rocket-resizedcrop64", "rocket.jpg", [{"op": "resizedCrop", "box": [100, 50, 300, 200], "width": 64,
                                                 "height": 64, "filter": "bilinear"}]),
        ("coffee-centercrop-pad", "coffee.png", [{"op": "resize", "width": 60, "height": 40, "filter": "bilinear"},
                                                 {"op": "centerCrop", "width": 50, "height": 45}]),
    ]
    out = []
    for name, photo, ops in cases:
        arr = rgb(apply(Image.open(os.path.join(PHOTOS, photo)).convert("RGB"), ops))
        s = stride_for(arr.shape[1], arr.shape[0], 64)
        entry = {"name": name, "photo": photo, "ops": ops, "stride": s, **summary(arr)}
        entry["sample"] = write_sample(name, arr, s)
        out.append(entry)
    manifest["resizeCases"] = out


def make_normalization(manifest):
    # ToTensor then Normalize in float32, as torch computes them: (p / 255 - mean) / std.
    presets = {"clip": ([0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]),
               "imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])}
    p = np.arange(256, dtype=np.float32) / np.float32(255)
    table = {}
    for name, (mean, std) in presets.items():
        rows = []
        for c in range(3):
            v = (p - np.float32(mean[c])) / np.float32(std[c])
            rows.append([int(x) for x in v.astype(np.float32).view(np.uint32)])
        table[name] = rows
    manifest["normalizationBits"] = table


def make_gzip_cases(manifest):
    # For vlp_gunzip (the C target also serves the text code): members, padding, damage.
    os.makedirs(os.path.join(OUT, "gzip"), exist_ok=True)
    text = "swift-vlp 视觉-语言预训练 gzip fixture\n".encode() * 40
    one = gzip.compress(text[:700], mtime=0)
    two = gzip.compress(text[700:], mtime=0)
    cases = {"single.gz": one, "two_members.gz": one + two, "zero_padded.gz": one + two + b"\0" * 64,
             "truncated.gz": (one + two)[: len(one) + len(two) // 2],
             "trailing_garbage.gz": one + b"not gzip at all", "corrupt.gz": one[:12] + b"\xff" * 30 + one[42:]}
    for name, data in cases.items():
        with open(os.path.join(OUT, "gzip", name), "wb") as f:
            f.write(data)
    with open(os.path.join(OUT, "gzip", "expected.txt"), "wb") as f:
        f.write(text)
    manifest["gzip"] = {"expected": "gzip/expected.txt", "singleLength": 700}


def main():
    if not os.path.isdir(PHOTOS):
        sys.exit(f"no {PHOTOS}: run `make assets` first")
    for d in ["edge", "expected", "samples"]:
        os.makedirs(os.path.join(OUT, d), exist_ok=True)
    manifest = {"generator": "scripts/reference/make_vision_fixtures.py",
                "pillow": PIL.__version__, "libjpeg_turbo": features.version("libjpeg_turbo"),
                "libwebp": features.version("webp"), "numpy": np.__version__}
    make_edge_cases(manifest)
    make_photo_cases(manifest)
    make_normalization(manifest)
    make_gzip_cases(manifest)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
