"""The peer of `vlp-bench search`: FAISS's own Python bindings (Debian's python3-faiss, the same
libfaiss as swift-vlp links) on the vectors the Swift side wrote. Prints one JSON object:
median seconds per step and the exact Flat ids, so the two sides can be checked to agree."""
import json
import statistics
import sys
import time

import faiss
import numpy as np

folder, k = sys.argv[1], int(sys.argv[2])
base = np.load(folder + "/base.npy").astype(np.float32)
queries = np.load(folder + "/queries.npy").astype(np.float32)
result, found = {}, {}
for factory in ("Flat", "HNSW32"):
    builds, batches, singles = [], [], []
    for _ in range(3 if factory == "Flat" else 1):
        start = time.perf_counter()
        index = faiss.index_factory(base.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        index.add(base)
        builds.append(time.perf_counter() - start)
    for _ in range(5):
        start = time.perf_counter()
        _, ids = index.search(queries, k)
        batches.append(time.perf_counter() - start)
    for query in queries[:200]:
        start = time.perf_counter()
        index.search(query[None, :], k)
        singles.append(time.perf_counter() - start)
    found[factory] = ids
    result[factory + "_build"] = statistics.median(builds)
    result[factory + "_batch"] = statistics.median(batches)
    result[factory + "_single"] = statistics.median(singles)
result["flat_ids"] = found["Flat"].tolist()
result["hnsw_recall"] = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found["Flat"], found["HNSW32"])]))
print(json.dumps(result))
