#!/usr/bin/env bash
# Peak memory and step time of `vlp pretrain` with and without activation_checkpointing, at two
# batch sizes, on a ViT-B-shaped-but-smaller R2D2 (ViT 256 wide, 6 blocks, 96 px / patch 8 = 145
# tokens; BERT 256 wide, 4 blocks; cross encoders 256 wide, 2 blocks; the r2d2 recipe).
#
#   Benchmarks/activation-checkpointing.sh [--vlp PATH] [--steps N] [--batches "16 64"]
#
# Peak memory is the process's maximum resident set (GNU time's %M), so it includes libtorch,
# the model, AdamW's state and the teacher as well as the activations: the difference between
# the two rows of a batch size is what checkpointing saves. Step time is the median of the
# steps after the first (metrics.jsonl's pairs/s), so start-up and the first step's allocations
# are left out.
set -euo pipefail
vlp=.build/debug/vlp
steps=6
batches="16 64"
while [ $# -gt 0 ]; do
    case "$1" in
        --vlp) vlp="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --batches) batches="$2"; shift 2 ;;
        *) echo "usage: $0 [--vlp PATH] [--steps N] [--batches \"16 64\"]" >&2; exit 2 ;;
    esac
done
[ -x "$vlp" ] || { echo "no vlp binary at $vlp (swift build --product vlp)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/model.json" <<'JSON'
{
  "architecture": "r2d2",
  "embed_dim": 128,
  "text": {"model_type": "bert", "vocab_size": 21128, "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
           "intermediate_size": 1024, "hidden_act": "gelu", "max_position_embeddings": 64, "type_vocab_size": 2,
           "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "pad_token_id": 0},
  "vision": {"image_size": 96, "patch_size": 8, "width": 256, "layers": 6, "heads": 4, "mlp_width": 1024, "activation": "gelu"},
  "text_cross": {"width": 256, "layers": 2, "heads": 4, "mlp_width": 1024, "query_input_width": 256, "context_input_width": 256},
  "image_cross": {"width": 256, "layers": 2, "heads": 4, "mlp_width": 1024, "query_input_width": 256, "context_input_width": 256}
}
JSON
printf '| batch | activation_checkpointing | peak RSS MiB | s/step (median) |\n|---|---|---|---|\n'
for batch in $batches; do
    for checkpointing in false true; do
        out="$work/run-$batch-$checkpointing"
        cat > "$work/run.yaml" <<YAML
model: $work/model.json
recipe: r2d2
data: {source: scenes, size: 600, context_length: 32}
steps: $steps
batch_size: $batch
seed: 1
workers: 1
log_every: 1
output: $out
checkpoint: {every: 1000000, keep: 1}
activation_checkpointing: $checkpointing
YAML
        /usr/bin/time -f "%M" -o "$work/rss" "$vlp" pretrain --config "$work/run.yaml" > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
        rss_kib=$(cat "$work/rss")
        seconds=$(/usr/bin/python3 - "$out/metrics.jsonl" "$batch" <<'PY'
import json, statistics, sys
rates = [r["pairs_per_second"] for r in map(json.loads, open(sys.argv[1])) if "pairs_per_second" in r][1:]
print(f"{statistics.median(int(sys.argv[2]) / r for r in rates):.2f}")
PY
)
        printf '| %s | %s | %d | %s |\n' "$batch" "$checkpointing" $((rss_kib / 1024)) "$seconds"
    done
done
