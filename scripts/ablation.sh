#!/usr/bin/env bash
# R2D2's ablations like for like (issue 14): trains each recipe on the same Scenes data over
# several seeds, chooses R2D2's re-ranking weight λ on a 1,000-image validation split, then
# evaluates on a 1,000-image test split with both scorers — text↔image retrieval R@M by the
# cosine and two-stage (cos + λ·p), matching AUC by the cosine and by the match heads — and
# prints one line per run and mean ± sd per recipe, with the article's direction beside each.
#   scripts/ablation.sh [--steps N] [--seeds "0 1 2 3 4"] [--out DIR] [--vlp PATH] [--data-extra YAML] [--model NAME|FILE] [--device cpu|cuda] [--summary-only] [RECIPE...]
# RECIPE is a preset (r2d2, prd2, r2d2-no-et, r2d2-no-twd, r2d2-no-fgd, r2d2-no-tgd, unimo-cmcl,
# r2d2-retrieved-negatives: its data gets rewrites: 1, retrieved_negatives: 2)
# or LABEL='{YAML recipe table}', e.g. r2d2-tgd-replaces='{base: r2d2, name: r2d2-tgd-replaces, weights: {gcpr: 0}}'.
# --data-extra adds keys to every run's data table, e.g. 'retrieved_negatives: 2'; --model replaces
# r2d2-tiny (PRD2 keeps r2d2-tiny-dual), e.g. a JSON file with deeper cross encoders. --device
# trains and evaluates there (default cpu); several invocations over one --out share one GPU.
# --summary-only prints the table of the finished runs under --out and trains nothing.
# Finished runs (their test.json exists) are not trained again; a run that another invocation
# over the same --out is training (its RUN.lock folder exists) is left to that one.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=1000 seeds="0 1 2 3 4" out=runs/ablation vlp=.build/debug/vlp data_extra="" r2d2_model=r2d2-tiny device=cpu summary_only=false recipes=()
while (($#)); do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --vlp) vlp=$2; shift 2 ;;
    --data-extra) data_extra=", $2"; shift 2 ;;
    --model) r2d2_model=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --summary-only) summary_only=true; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "ablation: unknown option $1" >&2; exit 2 ;;
    *) recipes+=("$1"); shift ;;
  esac
done
((${#recipes[@]})) || recipes=(r2d2 prd2 r2d2-no-et r2d2-no-twd r2d2-no-fgd r2d2-no-tgd unimo-cmcl)
$summary_only || [[ -x $vlp ]] || { echo "ablation: no vlp at $vlp (swift build first, or --vlp PATH)" >&2; exit 2; }
mkdir -p "$out"
# The evaluation corpus: another seed than pretraining; 10,000 items give 1,000 validation and
# 1,000 test images.
evaluation=(--scenes-size 10000 --scenes-seed 8 --kinds title --device "$device")
for entry in "${recipes[@]}"; do
  $summary_only && break
  label=${entry%%=*} recipe=$label
  [[ $entry == *=* ]] && recipe=${entry#*=}
  model=$r2d2_model extra_data=""
  [[ $label == prd2 ]] && model=r2d2-tiny-dual
  [[ $label == unimo-cmcl ]] && extra_data=", rewrites: 3, retrieved_negatives: 2"
  [[ $recipe == r2d2-retrieved-negatives ]] && extra_data=", rewrites: 1, retrieved_negatives: 2"
  # FGR's rewritten negatives (hard_negatives: {rewrites: true}) read each sample's first rewrite.
  [[ $recipe == *"rewrites: true"* ]] && extra_data=", rewrites: 1"
  for seed in $seeds; do
    run="$out/$label-seed$seed"
    [[ -f $run/test.json ]] && continue
    # mkdir is atomic: of two invocations queued over one --out, one trains the run.
    if ! mkdir "$run.lock" 2> /dev/null; then
      echo "ablation: skipping $run: another invocation is training it ($run.lock exists; remove it if none is)" >&2
      continue
    fi
    trap 'rmdir "$run.lock" 2> /dev/null' EXIT
    cat > "$run.yaml" <<YAML
model: $model
recipe: $recipe
data: {source: scenes, size: 5000, seed: 7, context_length: 32$extra_data$data_extra}
steps: $steps
batch_size: 32
optimizer: {lr: 1.0e-3, weight_decay: 0.05, betas: [0.9, 0.98], clip_norm: 1.0}
schedule: {name: cosine, warmup_steps: $((steps / 15))}
distillation: {alpha: 0.4, alpha_ramp_steps: 125}
seed: $seed
device: $device
output: $run
checkpoint: {every: $steps, keep: 1}
log_every: 50
YAML
    "$vlp" pretrain --config "$run.yaml" > "$run.log" 2>&1
    if [[ $model != r2d2-tiny-dual ]]; then
      "$vlp" evaluate retrieval --checkpoint "$run" --data scenes:icr:valid "${evaluation[@]}" --choose-rerank-weight --json \
        > "$run/valid.json" 2>> "$run.log"
    fi
    "$vlp" evaluate matching --checkpoint "$run" --data scenes:icm:test "${evaluation[@]}" --json > "$run/matching.json" 2>> "$run.log"
    "$vlp" evaluate retrieval --checkpoint "$run" --data scenes:icr:test "${evaluation[@]}" --json > "$run/test.json.tmp" 2>> "$run.log"
    mv "$run/test.json.tmp" "$run/test.json"
    rmdir "$run.lock"
    trap - EXIT
  done
done
python3 - "$out" "$seeds" "${recipes[@]}" <<'PY'
import json, os, statistics, sys
out, seeds, entries = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
labels = [e.split("=", 1)[0] for e in entries]
# The article's Table 4 / text: what removing each part does to R2D2's R@M.
direction = {"r2d2": "reference", "prd2": "below R2D2 (Table 3)", "r2d2-no-et": "below R2D2", "r2d2-no-twd": "below R2D2 (74.06 → 73.10)",
             "r2d2-no-fgd": "below R2D2 (74.06 → 73.29)", "r2d2-no-tgd": "below R2D2", "unimo-cmcl": "(UNIMO; not in R2D2's table)"}
def stat(xs):
    xs = [x for x in xs if x is not None]
    if not xs: return "—"
    return f"{statistics.mean(xs):5.1f} ± {statistics.stdev(xs):3.1f}" if len(xs) > 1 else f"{xs[0]:5.1f}"
print(f"R@M (mean of R@1/5/10 both ways) on 1,000 test images, λ chosen on 1,000 validation images; AUC on the ICM test pairs; seeds {' '.join(seeds)}")
print("p alone: R@M on the validation images with each query's top 10 ordered by the heads' match probability alone")
print(f"{'recipe':22} {'R@M cosine':>12} {'R@M 2-stage':>12} {'AUC cosine':>12} {'AUC heads':>12} {'p alone':>12}  article")
for label in labels:
    rows, unfinished = [], []
    for seed in seeds:
        run = f"{out}/{label}-seed{seed}"
        if not os.path.exists(run + "/test.json"):
            unfinished.append(seed)  # another invocation is training it
            continue
        test, matching = json.load(open(run + "/test.json")), json.load(open(run + "/matching.json"))
        reranked = test.get("retrieval_reranked")
        heads = matching.get("match_head_auc")
        # The heads alone re-ordering each validation query's top 10 ("p" of the λ sweep).
        alone = None
        if os.path.exists(run + "/valid.json"):
            sweep = json.load(open(run + "/valid.json")).get("sweep") or []
            alone = next((point["result"]["rmean"] for point in sweep if point["score"] == "p"), None)
        rows.append((test["retrieval"]["rmean"], reranked["rmean"] if reranked else None,
                     matching["auc"] * 100, heads * 100 if heads is not None else None, alone))
    if not rows:
        print(f"{label:22} no finished run (seeds {' '.join(unfinished)} are being trained elsewhere)")
        continue
    cols = list(zip(*rows))
    print(f"{label:22} {stat(cols[0]):>12} {stat(cols[1]):>12} {stat(cols[2]):>12} {stat(cols[3]):>12} {stat(cols[4]):>12}  {direction.get(label, '')}")
    print(f"{'':22} per seed: " + ", ".join(f"{a:.1f}" + (f" → {b:.1f}" if b is not None else "") for a, b, *_ in rows)
          + (f"; not finished: seeds {' '.join(unfinished)}" if unfinished else ""))
PY
