#!/usr/bin/env python3
"""Peer of `vlp-bench tokenizer`: cn-clip's reference WordPiece tokenizer on the same text.

    python3 Benchmarks/tokenizer_peer.py VOCAB CORPUS RUNS

Loads cn_clip/clip/bert_tokenizer.py from the installed `cn-clip` package (by file, so that
torch is not imported), tokenizes every line of CORPUS (UTF-8) to ids RUNS times, and prints one
JSON object: {"chars": characters per run, "seconds": [per run], "id_sum": sum of all ids of one
run} — the Swift side checks id_sum against its own to be sure both did the same work.
"""
import importlib.util
import json
import os
import sys
import time


def main():
    vocab, corpus, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    spec = importlib.util.find_spec("cn_clip")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("cn-clip is not installed for this python: pip install --no-deps cn-clip six")
    path = os.path.join(list(spec.submodule_search_locations)[0], "clip", "bert_tokenizer.py")
    module_spec = importlib.util.spec_from_file_location("cn_clip_bert_tokenizer", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    tokenizer = module.FullTokenizer(vocab_file=vocab, do_lower_case=True)
    with open(corpus, encoding="utf-8") as f:
        lines = f.read().split("\n")
    chars = sum(len(line) for line in lines)
    seconds, id_sum = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        total = 0
        for line in lines:
            total += sum(tokenizer.convert_tokens_to_ids(tokenizer.tokenize(line)))
        seconds.append(time.perf_counter() - start)
        id_sum = total
    print(json.dumps({"chars": chars, "seconds": seconds, "id_sum": id_sum}))


if __name__ == "__main__":
    main()
