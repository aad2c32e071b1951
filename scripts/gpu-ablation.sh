#!/usr/bin/env bash
# scripts/ablation.sh on a GPU machine from the GPU check's packed bundle (scripts/gpu-check.sh
# build): several invocations over one output folder share the GPU, each starting with another
# recipe (ablation.sh's locks give every run to one of them), until a deadline; then the table of
# the finished runs, and their results (no checkpoints) packed into one archive.
#
#   bash scripts/gpu-ablation.sh --bundle gpu-check-pack/gpu-check-bundle.tar.xz --out DIR \
#       [--seconds 330] [--jobs 8] [--steps 3000] [--seeds "0 1 2"] [RECIPE...]
#
# The machine needs PyTorch (python3 -c 'import torch': the bundle loads its libtorch, as
# gpu-check.sh run does) and a GPU. DIR gets ablation.txt (the table) and ablation.tgz (every
# run's yaml, log, metrics and json results, and each invocation's log).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
archive="" out="" seconds=330 jobs=8 steps=3000 seeds="0 1 2" recipes=()
while (($#)); do
    case $1 in
        --bundle) archive=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        -*) echo "gpu-ablation: unknown option $1" >&2; exit 2 ;;
        *) recipes+=("$1"); shift ;;
    esac
done
[[ -f $archive && -n $out ]] || { echo "gpu-ablation: --bundle FILE.tar.xz and --out DIR are required" >&2; exit 2; }
((${#recipes[@]})) || recipes=(r2d2 prd2 r2d2-no-et r2d2-no-twd r2d2-no-fgd r2d2-no-tgd unimo-cmcl)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The GPU check's own unpacking and library path.
# shellcheck source=scripts/gpu-check.sh
source "$repo/scripts/gpu-check.sh"
bundle=$(unpack_bundle "$archive" "$work")
use_bundle_libraries "$bundle" "$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
# The tokenizers' assets come from the bundle; one intra-op thread a process (the GPU does the
# work; the cores go to the data loaders).
export VLP_ROOT="$bundle" VLP_NUM_THREADS=${VLP_NUM_THREADS:-1}

runs="$work/runs"
mkdir -p "$runs"
started=$SECONDS
for ((job = 0; job < jobs; job++)); do
    # Invocation k starts at the k-th recipe (then wraps), so the first runs cover every recipe.
    rotated=()
    for ((i = 0; i < ${#recipes[@]}; i++)); do rotated+=("${recipes[(i + job) % ${#recipes[@]}]}"); done
    timeout "$seconds" bash "$repo/scripts/ablation.sh" --steps "$steps" --seeds "$seeds" --out "$runs" \
        --vlp "$bundle/bin/vlp" --device cuda "${rotated[@]}" > "$runs/invocation-$job.log" 2>&1 &
done
wait || true
echo "gpu-ablation: $jobs invocations for $((SECONDS - started)) s (deadline $seconds s)" | tee "$out/ablation.txt"
bash "$repo/scripts/ablation.sh" --summary-only --steps "$steps" --seeds "$seeds" --out "$runs" "${recipes[@]}" | tee -a "$out/ablation.txt"
(cd "$work" && find runs \( -name '*.json' -o -name '*.yaml' -o -name '*.log' -o -name 'metrics.jsonl' \) -print0 |
    tar -czf "$out/ablation.tgz" --null -T -)
