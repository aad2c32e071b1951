#!/usr/bin/env bash
# Does FGR's negative sampling decide whether R2D2's ranking stage helps? Trains R2D2-tiny on
# Scenes with each hard-negative setting over several seeds, then evaluates text→image retrieval
# on a 1,000-image test split (scenes:icr:test of a 10,000-item corpus, titles) with the cosine
# alone, p alone and cos + w·p, and prints one line per run plus mean ± sd per setting.
#   scripts/fgr-negatives.sh [--steps N] [--seeds "0 1 2"] [--out DIR] [--vlp PATH] [SETTING...]
# SETTING is WEIGHTING/POSITIVES[/no-et], e.g. cosine/image (today's preset) or
# temperature/image_or_text; /no-et turns Enhanced Training off (FGR reads unmasked texts).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=600 seeds="0 1 2" out=runs/fgr-negatives vlp=.build/debug/vlp settings=()
while (($#)); do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --vlp) vlp=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    -*) echo "fgr-negatives: unknown option $1" >&2; exit 2 ;;
    *) settings+=("$1"); shift ;;
  esac
done
((${#settings[@]})) || settings=(cosine/image cosine/image_or_text temperature/image temperature/image_or_text)
[[ -x $vlp ]] || { echo "fgr-negatives: no vlp at $vlp (swift build first, or --vlp PATH)" >&2; exit 2; }
mkdir -p "$out"
weights=0.01,0.03,0.1,0.3,1
for setting in "${settings[@]}"; do
  IFS=/ read -r weighting positives variant <<< "$setting"
  et=true
  [[ $variant == no-et ]] && et=false
  for seed in $seeds; do
    run="$out/${weighting}-${positives}${variant:+-$variant}-seed$seed"
    if [[ ! -f $run/eval.json ]]; then
      cat > "$run.yaml" <<YAML
model: r2d2-tiny
recipe: {base: r2d2, name: r2d2-$weighting-$positives, enhanced_training: $et, hard_negatives: {weighting: $weighting, positives: $positives}}
data: {source: scenes, size: 4000, seed: 7, context_length: 32}
steps: $steps
batch_size: 32
optimizer: {lr: 1.0e-3, weight_decay: 0.05, betas: [0.9, 0.98], clip_norm: 1.0}
schedule: {name: cosine, warmup_steps: $((steps / 15))}
seed: $seed
output: $run
checkpoint: {every: $steps, keep: 1}
log_every: 50
YAML
      "$vlp" pretrain --config "$run.yaml" > "$run.log" 2>&1
      "$vlp" evaluate retrieval --checkpoint "$run" --data scenes:icr:test --scenes-size 10000 --scenes-seed 8 \
        --kinds title --rerank-top-k 10 --rerank-weights "$weights" --json > "$run/eval.json.tmp"
      mv "$run/eval.json.tmp" "$run/eval.json"
    fi
  done
done
python3 - "$out" "$seeds" "${settings[@]}" <<'PY'
import json, re, statistics, sys
out, seeds, settings = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
def stat(xs):
    return f"{statistics.mean(xs):5.1f} ± {statistics.stdev(xs):3.1f}" if len(xs) > 1 else f"{xs[0]:5.1f}"
print("R@M (mean of R@1/5/10 both ways) on 1,000 test images; FGR loss at the last logged step")
print(f"{'setting':28} {'cosine':>12} {'cos + p':>12} {'best w (test)':>15} {'p alone':>12} {'FGR loss':>9}  per seed: cosine → cos + p")
for setting in settings:
    rows = []
    for seed in seeds:
        run = f"{out}/{setting.replace('/', '-')}-seed{seed}"
        e = json.load(open(run + "/eval.json"))
        sweep = {str(p["score"]): p["result"]["rmean"] for p in e["sweep"]}
        fgr = [float(m) for m in re.findall(r"fgr ([0-9.]+)", open(run + ".log").read())]
        best = max(v for k, v in sweep.items() if k != "p")
        rows.append((e["retrieval"]["rmean"], e["retrieval_reranked"]["rmean"], best, sweep["p"], fgr[-1]))
    cols = list(zip(*rows))
    print(f"{setting:28} {stat(cols[0]):>12} {stat(cols[1]):>12} {stat(cols[2]):>15} {stat(cols[3]):>12} {statistics.mean(cols[4]):9.3f}  "
          + ", ".join(f"{a:.1f} → {b:.1f}" for a, b, *_ in rows))
PY
