#!/usr/bin/env python3
"""Makes Tests/VLPTests/Fixtures/evaluation/evaluation.json: reference retrieval recalls and
matching metrics for the Swift metrics in Sources/VLP/Evaluation.

How to run (from the repository root):

    python3 -m venv /tmp/evalref
    /tmp/evalref/bin/pip install numpy scikit-learn==1.9.1
    /tmp/evalref/bin/pip install --no-deps cn-clip==1.6.0
    /tmp/evalref/bin/python scripts/reference/make_evaluation_fixtures.py

References:
  retrieval  Chinese-CLIP 1.6.0. The top-10 lists are made as in
             cn_clip/eval/make_topk_predictions.py (text→image) and
             make_topk_predictions_tr.py (image→text):
                 sorted(score_tuples, key=lambda x: x[1], reverse=True)[:top_k]
             over (id, float32 score) tuples in id order (that script is a CUDA __main__ program,
             so its one ranking line is reproduced here; Python's stable sort keeps tied scores
             in id order). The image→text ground truth is built as in
             transform_ir_annotation_to_tr.py. The lists and ground truth are written as the
             JSON-lines files those tools exchange and scored by calling
             cn_clip.eval.evaluation.compute_score (text→image) and
             cn_clip.eval.evaluation_tr.compute_score (image→text) themselves.
  matching   sklearn.metrics.roc_auc_score for the AUC; for the best threshold accuracy,
             sklearn.metrics.accuracy_score(labels, scores >= t) at every distinct score t and
             at nextafter(max, +inf) (predict nothing positive), the first (lowest) best t kept.

Output: one JSON object
  retrieval: [{name, images, texts, text_image, similarity (row-major [images][texts], float32
              values written as exact doubles), i2t {r1, r5, r10}, t2i {r1, r5, r10}, rmean
              (mean of the six), i2t_top10 (per image, text ids), t2i_top10 (per text, image ids)}]
  matching:  [{name, scores, labels, auc, best_accuracy, best_threshold}]
"""
import argparse
import json
import os
import tempfile

import numpy as np
from cn_clip.eval import evaluation as cn_eval_t2i
from cn_clip.eval import evaluation_tr as cn_eval_i2t
from sklearn.metrics import accuracy_score, roc_auc_score

TOP_K = 10  # what make_topk_predictions*.py write and compute_score requires


def top_k(score_tuples, k=TOP_K):
    """The ranking line of cn_clip/eval/make_topk_predictions.py."""
    return [entry[0] for entry in sorted(score_tuples, key=lambda x: x[1], reverse=True)[:k]]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def chinese_clip_recall(similarity, text_image):
    """Recall of both directions through Chinese-CLIP's prediction files and compute_score."""
    images, texts = similarity.shape
    scores = similarity.astype(np.float32)
    t2i_top = [top_k([(i, float(scores[i, j])) for i in range(images)]) for j in range(texts)]
    i2t_top = [top_k([(j, float(scores[i, j])) for j in range(texts)]) for i in range(images)]
    # transform_ir_annotation_to_tr.py: image_id -> text_ids, in text order.
    t2i_record = {}
    for j in range(texts):
        t2i_record.setdefault(int(text_image[j]), []).append(j)
    with tempfile.TemporaryDirectory() as tmp:
        gold_t2i, pred_t2i = os.path.join(tmp, "t2i_gold.jsonl"), os.path.join(tmp, "t2i_pred.jsonl")
        gold_i2t, pred_i2t = os.path.join(tmp, "i2t_gold.tr.jsonl"), os.path.join(tmp, "i2t_pred.jsonl")
        write_jsonl(gold_t2i, [{"text_id": j, "image_ids": [int(text_image[j])]} for j in range(texts)])
        write_jsonl(pred_t2i, [{"text_id": j, "image_ids": t2i_top[j]} for j in range(texts)])
        write_jsonl(gold_i2t, [{"image_id": i, "text_ids": ts} for i, ts in t2i_record.items()])
        write_jsonl(pred_i2t, [{"image_id": i, "text_ids": i2t_top[i]} for i in range(images)])
        _, t2i_r1, t2i_r5, t2i_r10 = cn_eval_t2i.compute_score(gold_t2i, pred_t2i)
        _, i2t_r1, i2t_r5, i2t_r10 = cn_eval_i2t.compute_score(gold_i2t, pred_i2t)
    i2t = {"r1": i2t_r1, "r5": i2t_r5, "r10": i2t_r10}
    t2i = {"r1": t2i_r1, "r5": t2i_r5, "r10": t2i_r10}
    rmean = (i2t_r1 + i2t_r5 + i2t_r10 + t2i_r1 + t2i_r5 + t2i_r10) / 6
    return i2t, t2i, rmean, i2t_top, t2i_top


def text_assignment(rng, images, texts):
    """Every image gets at least one text, the rest at random; texts shuffled."""
    owners = list(range(images)) + list(rng.integers(0, images, size=texts - images))
    rng.shuffle(owners)
    return np.array(owners, dtype=np.int64)


def retrieval_case(name, rng, images, texts, quantum=None, boost=1.0, constant=None):
    text_image = text_assignment(rng, images, texts)
    if constant is not None:
        similarity = np.full((images, texts), constant, dtype=np.float64)
    else:
        similarity = rng.standard_normal((images, texts))
        similarity[text_image, np.arange(texts)] += boost
        if quantum is not None:
            similarity = np.round(similarity / quantum) * quantum
    similarity = similarity.astype(np.float32)
    i2t, t2i, rmean, i2t_top, t2i_top = chinese_clip_recall(similarity, text_image)
    return {
        "name": name, "images": images, "texts": texts,
        "text_image": [int(x) for x in text_image],
        "similarity": [float(x) for x in similarity.reshape(-1)],
        "i2t": i2t, "t2i": t2i, "rmean": rmean,
        "i2t_top10": i2t_top, "t2i_top10": t2i_top,
    }


def matching_case(name, rng, n, positive_rate, quantum=None, constant=None):
    labels = (rng.random(n) < positive_rate).astype(np.int64)
    if constant is not None:
        scores = np.full(n, constant, dtype=np.float64)
    else:
        scores = rng.standard_normal(n) + 0.8 * labels
        if quantum is not None:
            scores = np.round(scores / quantum) * quantum
    auc = roc_auc_score(labels, scores)
    candidates = sorted(set(float(s) for s in scores)) + [float(np.nextafter(scores.max(), np.inf))]
    accuracies = [accuracy_score(labels, scores >= t) for t in candidates]
    best = int(np.argmax(accuracies))  # the first (lowest) threshold among equals
    return {
        "name": name, "scores": [float(s) for s in scores], "labels": [int(x) for x in labels],
        "auc": float(auc), "best_accuracy": float(accuracies[best]), "best_threshold": candidates[best],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="Tests/VLPTests/Fixtures/evaluation/evaluation.json")
    args = parser.parse_args()
    rng = np.random.default_rng(20240607)
    fixture = {
        "retrieval": [
            # Scores rounded to 0.5: most rows have ties across the top-1/5/10 cut-offs.
            retrieval_case("ties-12x30", rng, 12, 30, quantum=0.5, boost=1.0),
            retrieval_case("coarse-ties-16x48", rng, 16, 48, quantum=1.0, boost=0.5),
            retrieval_case("continuous-15x40", rng, 15, 40, boost=1.5),
            # Every score equal: ranks are decided by the index tie-break alone.
            retrieval_case("all-equal-10x20", rng, 10, 20, constant=0.25),
        ],
        "matching": [
            matching_case("ties-200", rng, 200, 0.4, quantum=0.25),
            matching_case("continuous-150", rng, 150, 0.3),
            matching_case("all-equal-20", rng, 20, 0.5, constant=0.5),
            # Mostly negatives with useless scores: predicting nothing positive is best.
            matching_case("mostly-negative-30", rng, 30, 0.15, constant=-1.0),
        ],
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    for case in fixture["retrieval"]:
        print(f'{case["name"]}: i2t {case["i2t"]} t2i {case["t2i"]} R@M {case["rmean"]:.4f}')
    for case in fixture["matching"]:
        print(f'{case["name"]}: AUC {case["auc"]:.6f} best acc {case["best_accuracy"]:.4f} at {case["best_threshold"]}')
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
