#!/usr/bin/env python3
"""Makes the text fixtures in Tests/VLPTests/Fixtures/text/ from the reference tokenizers.

How to run (from the repository root, after `make assets`):

    python3 -m venv /tmp/textref
    /tmp/textref/bin/pip install --no-deps cn-clip==1.6.0 open_clip_torch==3.3.0
    /tmp/textref/bin/pip install ftfy regex tokenizers jieba==0.42.1
    /usr/bin/python3 scripts/reference/make_text_fixtures.py --venv /tmp/textref

Debian's /usr/bin/python3 (3.11) provides torch and numpy, which open_clip's tokenizer module
imports; the venv provides the pure reference packages (its site-packages goes first on sys.path).

References (the ids our Swift tokenizers must reproduce):
  bert-zh  cn_clip/clip/bert_tokenizer.py FullTokenizer(assets/cn-clip/vocab.txt, lower-case)
  bert-en  Hugging Face `tokenizers` loading assets/minilm/tokenizer.json (padding/truncation off)
  clip     open_clip.tokenizer.SimpleTokenizer(assets/open-clip/bpe_simple_vocab_16e6.txt.gz)
  jieba    jieba.lcut(s) (default mode, HMM=True) with assets/jieba/dict.txt

Real text, all offline and deterministic:
  zh  sentences of the seed articles (/work/shared/seeds/*.txt, or --seeds DIR) and the Chinese
      message catalogs of the system (/usr/share/locale/zh_{CN,TW}/LC_MESSAGES/*.mo)
  en  the English message ids of those catalogs and sentences of Python stdlib docstrings
plus hand-written tricky lines (emoji, full-width forms, accents, control characters, HTML
entities, curly quotes, very long words).

Output (JSON lines). To keep the fixtures small, every id list is stored as base64 of
little-endian uint16 (all vocabularies here have fewer than 65,536 entries); ids are without
special tokens unless said otherwise:
  zh.jsonl      {"text", "bert" (cn-clip ids), "words" (jieba word lengths, in code points),
                 "clip" (only for the first CLIP_ZH_SENTENCES rows)}
  en.jsonl      {"text", "bert" (HF ids), "clip"}
  tricky.jsonl  {"text", "bert_zh", "bert_en", "clip", "words"}
  bert-en-pairs.jsonl  {"a", "b", "ids", "type_ids", "attention_mask"}: HF pair encodings with
                       [CLS]/[SEP], longest-first truncation to 24, padding to 32
  clip-context.jsonl   {"text", "ids"}: SimpleTokenizer.__call__ rows (context 77, padded, eot kept)
A "clip_mojibake": true marks a sentence that ftfy.fix_encoding changes (we do not implement
mojibake repair); the Swift tests count those apart.
"""
import argparse
import base64
import gettext
import glob
import importlib.util
import inspect
import json
import os
import random
import re
import struct
import sys
import unicodedata

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "VLPTests", "Fixtures", "text")
ASSETS = os.path.join(ROOT, "assets")
SENTENCES_PER_LANGUAGE = 2100
MAX_CHARS = 90
CLIP_ZH_SENTENCES = 700

TRICKY = [
    "Hello, World! 你好，世界！",
    "ＦＵＬＬ－ＷＩＤＴＨ　ｔｅｘｔ：１２３４５，全角标点！？（测试）【标题】《书名》",
    "Café naïve résumé façade — Ångström, Øresund, Straße, İstanbul, ΣΊΣΥΦΟΣ, ΟΔΟΣ.",
    "Emoji 😀👍🏽🇨🇳 and ZWJ 👩‍👩‍👧 family; ♥ ☺ ✓ 🀄 in text.",
    "控制字符\u0000\u0007测试\u200b零宽\ufeff字符\u00ad软连字符\u0085NEL",
    "tabs\tand\nnew\r\nlines\u2028separators\u2029paragraphs\u3000ideographic space",
    "pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious",
    "a" * 120 + " short " + "b" * 99,
    "中" * 30 + "x" * 150 + " ok",
    "&lt;b&gt;bold&lt;/b&gt; &amp;amp; &quot;quoted&quot; &#39;apos&#39; &#x4E2D;&#25991; &nbsp;&copy;&eacute;",
    "\u201cCurly quotes\u201d and \u2018single\u2019 ones, the ﬁrst ﬂoor, ligature ﬀ.",
    "价格：¥1,299.00（含税）；折扣 15%，2024年3月8日 14:30 发布 v2.0.1 版本。",
    "GPT-4、CLIP 和 ViT-B/16 在 ImageNet-1k 上的 top-1 准确率分别为 88.5%、76.2% 与 81.8%。",
    "日本語のテキストとカタカナ、ﾊﾝｶｸｶﾀｶﾅ。한국어 문장도 있습니다.",
    "Математика — царица наук. Ελληνικά γράμματα. عربي نص. עברית.",
    "e-mail: someone@example.com, URL https://example.org/path?q=1&r=2#frag",
    "   leading and trailing spaces   ",
    "",
    "...!!!???,,,;;;:::---___***###",
    "don't won't it's we're they've I'm you'll she'd",
    "1234567890 3.14159 1e-10 0x1F 1,000,000 ½ ² ³ ①②③",
    "𠀀𠀁𪚥 extension-B characters and 〇〡 〈〉「」『』",
    "繁體中文測試：臺灣、香港與澳門的簡繁轉換問題。",
    "R2D2在Zero基准上的R@1为 85.6，超过 ALIGN（Jia et al., 2021）！",
    "C++ C# .NET node.js 3D-CNN α-β γ_δ",
    "\u0301combining at start, e\u0301 decomposed, A\u030A ring",
    "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ",
    "HTML without semicolon &amp &lt &copy; and uppercase &EACUTE; &NTILDE; &hellip;",
    "\x1b[36mterminal\x1b[0m escapes and \x80\x93 C1 controls",
    "word" + "很长" * 60,
]


def split_zh_sentences(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        for s in re.split(r"(?<=[。！？；!?])", line):
            s = s.strip()
            if len(s) >= 5:
                out.append(s)
    return out


def has_cjk(s):
    return any(0x4E00 <= ord(c) <= 0x9FFF for c in s)


def catalog_strings(lang):
    """(msgid, msgstr) pairs of the system's message catalogs for `lang`, sorted by file."""
    pairs = []
    for path in sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo")):
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog
        except Exception:
            continue
        for key, value in catalog.items():
            if isinstance(key, tuple):
                key = key[0]
            if key and isinstance(value, str):
                pairs.append((key, value))
    return pairs


def clean_line(s):
    s = s.strip()
    return s if 4 <= len(s) <= MAX_CHARS else None


def zh_sentences(seeds_dir, rng):
    seeds = []
    for path in sorted(glob.glob(os.path.join(seeds_dir, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            seeds.extend(s for s in split_zh_sentences(f.read()) if len(s) <= MAX_CHARS)
    catalog = []
    for lang in ("zh_CN", "zh_TW"):
        for _, msgstr in catalog_strings(lang):
            for line in msgstr.split("\n"):
                line = clean_line(line)
                if line and has_cjk(line):
                    catalog.append(line)
    seeds = list(dict.fromkeys(seeds))
    catalog = [s for s in dict.fromkeys(catalog) if s not in set(seeds)]
    need = max(0, SENTENCES_PER_LANGUAGE - len(seeds))
    return seeds + rng.sample(catalog, min(need, len(catalog)))


def en_sentences(rng):
    lines = []
    for _, (msgid, _) in enumerate(catalog_strings("zh_CN")):
        for line in msgid.split("\n"):
            line = clean_line(line)
            if line and re.search(r"[A-Za-z]{3}", line):
                lines.append(line)
    docs = []
    import collections, email, json as _json, textwrap, argparse as _argparse, logging, pathlib, string
    for module in (collections, email, _json, textwrap, _argparse, logging, pathlib, string, re, random,
                   os, glob, gettext, unicodedata, inspect):
        for _, obj in inspect.getmembers(module):
            doc = inspect.getdoc(obj) if (inspect.isfunction(obj) or inspect.isclass(obj)) else None
            if not doc:
                continue
            prose = " ".join(doc.split())
            for s in re.split(r"(?<=[.!?])\s+", prose):
                s = clean_line(s)
                if s and re.search(r"[a-z]{3}", s):
                    docs.append(s)
    lines = list(dict.fromkeys(lines))
    docs = [s for s in dict.fromkeys(docs) if s not in set(lines)]
    half = SENTENCES_PER_LANGUAGE // 2
    picked = rng.sample(docs, min(half, len(docs)))
    return picked + rng.sample(lines, SENTENCES_PER_LANGUAGE - len(picked))


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def packed(ids):
    return base64.b64encode(struct.pack(f"<{len(ids)}H", *ids)).decode("ascii")


def word_lengths(words):
    return [len(w) for w in words]


def write_jsonl(name, rows):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {path}: {len(rows)} rows, {os.path.getsize(path) // 1024} KiB", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", default="/tmp/textref", help="venv holding the reference packages")
    parser.add_argument("--seeds", default="/work/shared/seeds", help="folder of the seed articles")
    args = parser.parse_args()
    site = glob.glob(os.path.join(args.venv, "lib", "python3*", "site-packages"))
    if not site:
        sys.exit(f"no site-packages under {args.venv}; see the header of this script")
    sys.path.insert(0, site[0])

    import ftfy
    import jieba
    from tokenizers import Tokenizer

    site_packages = site[0]
    bert_module = load_module("cn_bert", os.path.join(site_packages, "cn_clip", "clip", "bert_tokenizer.py"))
    clip_module = load_module("oc_tokenizer", os.path.join(site_packages, "open_clip", "tokenizer.py"))

    bert_zh = bert_module.FullTokenizer(vocab_file=os.path.join(ASSETS, "cn-clip", "vocab.txt"), do_lower_case=True)
    bert_en = Tokenizer.from_file(os.path.join(ASSETS, "minilm", "tokenizer.json"))
    bert_en.no_padding()
    bert_en.no_truncation()
    clip = clip_module.SimpleTokenizer(bpe_path=os.path.join(ASSETS, "open-clip", "bpe_simple_vocab_16e6.txt.gz"))
    jieba.set_dictionary(os.path.join(ASSETS, "jieba", "dict.txt"))
    jieba.setLogLevel(60)
    jieba.initialize()

    def zh_ids(text):
        return packed(bert_zh.convert_tokens_to_ids(bert_zh.tokenize(text)))

    def en_ids(text):
        return packed(bert_en.encode(text, add_special_tokens=False).ids)

    def clip_row(row, text):
        row["clip"] = packed(clip.encode(text))
        if ftfy.fix_encoding(text) != text:
            row["clip_mojibake"] = True
        return row

    rng = random.Random(20240521)
    os.makedirs(OUT, exist_ok=True)

    special = re.compile(r"\[(PAD|UNK|CLS|SEP|MASK)\]|<(start|end)_of_text>")
    zh = [s for s in zh_sentences(args.seeds, rng) if not special.search(s)]
    en = [s for s in en_sentences(rng) if not special.search(s)]

    zh_rows = [{"text": s, "bert": zh_ids(s), "words": word_lengths(jieba.lcut(s))} for s in zh]
    for row in zh_rows[:CLIP_ZH_SENTENCES]:
        clip_row(row, row["text"])
    write_jsonl("zh.jsonl", zh_rows)
    write_jsonl("en.jsonl", [clip_row({"text": s, "bert": en_ids(s)}, s) for s in en])
    write_jsonl("tricky.jsonl", [
        clip_row({"text": s, "bert_zh": zh_ids(s), "bert_en": en_ids(s), "words": word_lengths(jieba.lcut(s))}, s)
        for s in TRICKY])

    pairs = []
    bert_en.enable_truncation(max_length=24, strategy="longest_first")
    bert_en.enable_padding(length=32, pad_id=0, pad_type_id=0, pad_token="[PAD]")
    for i in range(60):
        a, b = en[2 * i], en[2 * i + 1]
        if i % 3 == 0:
            b = b[:12]
        e = bert_en.encode(a, b)
        pairs.append({"a": a, "b": b, "ids": packed(e.ids), "type_ids": e.type_ids, "attention_mask": e.attention_mask})
    write_jsonl("bert-en-pairs.jsonl", pairs)

    longest = sorted(zh + en + TRICKY, key=lambda s: -len(clip.encode(s)))[:20] + zh[:10] + en[:10]
    rows = clip(longest).tolist()
    write_jsonl("clip-context.jsonl", [{"text": s, "ids": packed(r)} for s, r in zip(longest, rows)])
    print(f"zh {len(zh)} en {len(en)} tricky {len(TRICKY)}", file=sys.stderr)


if __name__ == "__main__":
    main()
