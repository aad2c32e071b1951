# Text→image recall through `vlp serve`'s JSON API, on the title texts of a jsonl set: a check
# that serving ranks as `vlp evaluate retrieval --kinds title --rerank-top-k 0` does.
# (with RERANK K: `--rerank-top-k K`'s re-ranked t→i numbers).
#   python3 scripts/search-recall.py http://127.0.0.1:8080 data/pretrain/test.jsonl [RERANK]
import json, sys, urllib.parse, urllib.request
base, path = sys.argv[1], sys.argv[2]
rerank = int(sys.argv[3]) if len(sys.argv) > 3 else 0
hits = {1: 0, 5: 0, 10: 0}; n = 0
for line in open(path, encoding="utf-8"):
    sample = json.loads(line)
    for t in sample["texts"]:
        if t["kind"] != "title" or t.get("role", "original").startswith("negative"):
            continue
        url = base + "/api/search?" + urllib.parse.urlencode({"q": t["text"], "k": 10, "rerank": rerank})
        ids = [r["id"] for r in json.load(urllib.request.urlopen(url))["results"]]
        n += 1
        for k in hits:
            hits[k] += sample["id"] in ids[:k]
print(n, "texts;", {f"R@{k}": round(100 * v / n, 2) for k, v in hits.items()})
