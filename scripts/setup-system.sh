#!/usr/bin/env bash
# Installs the system packages swift-vlp needs on Debian/Ubuntu, only those that are missing.
# Uses sudo when not root. Retries apt-get, whose libtorch-dev install was seen to fail once
# when its temporary folder vanished.
set -euo pipefail

PACKAGES=(
  libtorch-dev          # tensors + autograd (CTorch links libtorch, libtorch_cpu, libc10)
  libopenblas0-pthread  # fast BLAS behind libtorch (Debian otherwise links the reference BLAS)
  libturbojpeg0-dev     # JPEG decode with DCT-domain scaling
  libjpeg62-turbo-dev
  libpng-dev
  libwebp-dev
  zlib1g-dev            # vlp_gunzip in CImageCodecs (libpng-dev pulls it in too)
  libgloo-dev           # Gloo headers for c10d process groups (distributed training on CPU)
  libfaiss-dev          # vector search for VLPServer (CFaiss links the static libfaiss.a)
  libblas-dev           # libblas.so / liblapack.so link names that libfaiss.a needs
  liblapack-dev
  unzip
  dataset-fashion-mnist # real image–label set for zero-shot (idx files under /usr/share/datasets)
)

# The benchmarks' Python peers (same libtorch as ours) and cn-clip's tokenizer.
if [ "${VLP_BENCH_PEERS:-0}" = 1 ]; then
  PACKAGES+=(python3-torch python3-torchvision python3-pil python3-six python3-faiss)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "setup: missing ${missing[*]} and no apt-get here; install them by hand (see README)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d)
for attempt in 1 2 3; do
  if TMPDIR="$tmp" $SUDO apt-get update -qq && \
     TMPDIR="$tmp" $SUDO -E apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    rm -rf "$tmp"; exit 0
  fi
  echo "setup: apt-get failed (attempt $attempt), retrying" >&2
  mkdir -p "$tmp"; sleep 3
done
echo "setup: could not install ${missing[*]}" >&2
exit 1
