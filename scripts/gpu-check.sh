#!/usr/bin/env bash
# The GPU check, in two halves (README, "The GPU check"):
#
#   bash scripts/gpu-check.sh build [--venv DIR] [--bundle DIR] [--config release|debug]
#       here, on a machine with the Swift toolchain and the package mirror: installs PyPI's CUDA
#       torch wheel into a virtual environment (TORCH_VERSION below; it must be the torch of the
#       GPU machine, since libtorch's C++ symbols change between releases), builds vlp, vlp-bench
#       and the test bundle against it with NCCL (scripts/torch-env.sh), and packs what a machine
#       that has PyTorch but no Swift lacks into one folder: the binaries, the Swift runtime and
#       the other shared libraries they load that torch does not bring, the resource bundles,
#       the tokenizer assets and this script. For the trip it also writes, in gpu-check-pack/
#       beside the bundle, the bundle as one .tar.xz and in wheels/ the wheels of the train-step
#       peer that a PyTorch machine may lack (open_clip_torch and what it needs beyond torch:
#       ftfy, wcwidth).
#
#   bash scripts/gpu-check.sh run [--bundle DIR|FILE.tar.xz] [--out DIR] [--python PYTHON]
#       there: unpacks the bundle if it is the archive (and installs the wheels beside it into a
#       scratch folder when python cannot import open_clip), loads torch's libraries from the
#       installed PyTorch (python -c 'import torch'), then, each step under its own time limit (together at most 14 minutes):
#         1. tests   the TorchTests target of the test bundle (CUDATests among them: ops against
#                    the CPU, bf16 autocast, a 1-rank NCCL group), with the GPU visible
#         2. pretrain  vlp pretrain --device cuda: R2D2-tiny, bf16, PRETRAIN_STEPS steps
#         3. evaluate  vlp evaluate retrieval and matching --device cuda on that checkpoint
#         4. nccl    the 1-rank NCCL process group alone: all-reduce, all-gather, broadcast
#         5. bench   vlp-bench train-step with VLP_BENCH_DEVICE=cuda, against PyTorch on the GPU
#         6. embed   vlp-bench embed with VLP_BENCH_DEVICE=cuda, against cn_clip and open_clip there
#       and writes OUT/summary.md (one row a step: passed / failed / skipped, seconds, numbers)
#       and OUT/gpu-check.log (every step's output). Without a GPU the CUDA steps are reported
#       "skipped: no GPU" and their CPU fall-backs run instead (the tests as they are, a short
#       bf16 pretrain on the CPU, its evaluation), so the run path can be tried anywhere.
#
# With this workplace's device tool the packed bundle travels as a carried, git-ignored folder
# (the tool carries at most 64 MiB with the working tree, which the unpacked bundle is not):
#   run(command: "bash scripts/gpu-check.sh run --bundle gpu-check-pack/gpu-check-bundle.tar.xz --out $OUT",
#       carry: ["gpu-check-pack"])
#
# vlp-bench train-step reads VLP_BENCH_DEVICE (cpu | cuda) and finds its Python peer as the other
# benchmarks do (VLP_PEER_PYTHON, the peer script under Benchmarks/ relative to the working
# folder); the step is skipped while the bundle's vlp-bench does not list it.
#
# Sourced (as scripts/gpu-ablation.sh does), it defines its functions and runs nothing.
set -euo pipefail

TORCH_VERSION=${TORCH_VERSION:-2.11.0}   # the GPU machine's torch (2.11.0+cu130, PyPI's default wheel)
CUDA_HEADERS=${CUDA_HEADERS:-"nvidia-cuda-nvcc==13.0.* nvidia-cuda-cccl==13.0.*"}   # for NCCL; the wheel's CUDA
PRETRAIN_STEPS=${PRETRAIN_STEPS:-300}    # on the GPU; the CPU fall-back runs CPU_PRETRAIN_STEPS
CPU_PRETRAIN_STEPS=${CPU_PRETRAIN_STEPS:-20}
TEST_FILTER=${TEST_FILTER:-TorchTests}
# Benchmark steps to leave out, space-separated (bench, embed): device time is rationed.
SKIP_BENCHMARKS=${SKIP_BENCHMARKS:-}
# Tests that read model weights the bundle does not carry (it holds tokenizers only, to stay
# small), space-separated.
TEST_SKIP=${TEST_SKIP:-TorchTests.SerializationTests/testRealLegacyCheckpointMatchesTorchLoad}

repo=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "gpu-check: $*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

# The shared libraries a binary loads that the GPU machine may lack: everything ldd resolves
# outside torch's and the nvidia wheels' folders, except the C and C++ runtimes every Linux has
# (and that must match the machine's own loader).
foreign_libraries() {
    ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u | while read -r path; do
        case "$path" in
            "$site"/*) ;;
            */libc.so.* | */libm.so.* | */libdl.so.* | */librt.so.* | */libpthread.so.* | */ld-linux*) ;;
            */libstdc++.so.* | */libgcc_s.so.*) ;;
            *) echo "$path" ;;
        esac
    done
}

build() {
    local venv="$repo/.venv-cuda" bundle="$repo/gpu-check-bundle" config=release
    while [ $# -gt 0 ]; do
        case "$1" in
            --venv) venv=$2; shift 2 ;;
            --bundle) bundle=$2; shift 2 ;;
            --config) config=$2; shift 2 ;;
            *) die "build: unknown argument $1" ;;
        esac
    done
    local started=$SECONDS
    if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
        say "installing torch==$TORCH_VERSION and the CUDA headers into $venv (a few GB)"
        [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
        # shellcheck disable=SC2086  # CUDA_HEADERS is a list of requirements
        "$venv/bin/python" -m pip install -q "torch==$TORCH_VERSION" $CUDA_HEADERS
    fi
    site=$("$venv/bin/python" -c 'import site; print(site.getsitepackages()[0])')
    # shellcheck disable=SC1091  # sourced by path; shellcheck checks it on its own
    source "$repo/scripts/torch-env.sh" "$site"
    [ "${VLP_WITH_NCCL:-}" = 1 ] || die "torch-env did not enable NCCL: is $site's torch a CUDA build?"

    local scratch="$repo/.build-cuda" flags=()
    # A release build of the tests needs -enable-testing for their @testable imports.
    [ "$config" = release ] && flags=(-Xswiftc -enable-testing)
    say "building vlp, vlp-bench and the tests ($config) in $scratch"
    # shellcheck disable=SC2086  # TORCH_SWIFT_FLAGS is a list of flags
    (cd "$repo" && swift build -c "$config" --scratch-path "$scratch" --build-tests "${flags[@]}" $TORCH_SWIFT_FLAGS)
    local bin
    # shellcheck disable=SC2086
    bin=$(cd "$repo" && swift build -c "$config" --scratch-path "$scratch" --show-bin-path "${flags[@]}" $TORCH_SWIFT_FLAGS)
    local built=$((SECONDS - started))

    say "packing $bundle"
    rm -rf "$bundle"
    mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/assets/minilm" "$bundle/Benchmarks"
    local tests="$bin/swift-vlpPackageTests.xctest"
    [ -f "$tests" ] || die "no test bundle at $tests"
    cp "$bin/vlp" "$bin/vlp-bench" "$tests" "$bundle/bin/"
    # The resource bundles, less the VLP tests' fixtures (6 MB): the check runs the Torch target,
    # and the trip has 64 MiB.
    local resources
    for resources in "$bin"/*.resources; do
        [ "$(basename "$resources")" = swift-vlp_VLPTests.resources ] || cp -R "$resources" "$bundle/bin/"
    done
    # Symbols and debug information are most of a binary's size; nothing in the check reads them
    # (XCTest on Linux lists its tests in generated code, not by symbol lookup).
    strip --strip-all "$bundle"/bin/vlp "$bundle"/bin/vlp-bench "$bundle/bin/swift-vlpPackageTests.xctest"
    local library
    foreign_libraries "$bin/vlp" "$bin/vlp-bench" "$tests" | while read -r library; do
        cp -L "$library" "$bundle/lib/"
    done
    strip --strip-unneeded "$bundle"/lib/*.so*
    # What R2D2-tiny's tokenizers, the tests and vlp-bench embed read from assets/ (no model weights).
    cp -R "$repo/assets/cn-clip" "$repo/assets/jieba" "$repo/assets/open-clip" "$repo/assets/photos" "$bundle/assets/"
    cp "$repo/assets/minilm/vocab.txt" "$bundle/assets/minilm/"
    cp "$repo"/Benchmarks/*.py "$bundle/Benchmarks/" 2>/dev/null || true
    cp "$repo/scripts/gpu-check.sh" "$bundle/"
    {
        echo "torch=$TORCH_VERSION"
        echo "config=$config"
        echo "commit=$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD || echo '+changes')"
        echo "built=$(date -u +%Y-%m-%dT%H:%MZ)"
    } > "$bundle/manifest"
    local packed=$SECONDS
    say "built in ${built} s; bundle: $(du -sh "$bundle" | cut -f1) ($(find "$bundle/lib" -type f | wc -l) libraries); packed in $((packed - started - built)) s"

    # For the trip: the bundle as one xz archive, and the peer's wheels for a PyTorch machine
    # without open_clip (pure Python; any CPython 3).
    local pack
    pack="$(dirname "$bundle")/gpu-check-pack"
    rm -rf "$pack"
    mkdir -p "$pack/wheels"
    # One 256 MiB dictionary spans the whole archive, so the code the three binaries share (each
    # links the same modules) is stored about once.
    tar -C "$(dirname "$bundle")" -cf - "$(basename "$bundle")" | xz --lzma2=preset=9e,dict=256MiB > "$pack/$(basename "$bundle").tar.xz.partial"
    mv "$pack/$(basename "$bundle").tar.xz.partial" "$pack/$(basename "$bundle").tar.xz"
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$pack/wheels" open_clip_torch==2.32.0 ftfy==6.3.1 wcwidth==0.2.13 \
        cn-clip==1.6.0 six==1.16.0
    say "pack: $(du -sh "$pack" | cut -f1) in $pack (xz took $((SECONDS - packed)) s); the device tool carries 64 MiB with the working tree"
}

# ---------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------

# unpack_bundle ARCHIVE FOLDER: unpacks a packed bundle into FOLDER and prints the bundle's path.
unpack_bundle() {
    local bundle
    tar -C "$2" -xJf "$1" || die "cannot unpack $1"
    bundle=$(find "$2" -mindepth 2 -maxdepth 2 -name manifest -printf '%h\n' | head -1)
    [ -n "$bundle" ] || die "$1 holds no bundle (no manifest one folder down)"
    echo "$bundle"
}

# use_bundle_libraries BUNDLE TORCH_DIR: the loader finds the bundle's libraries, then torch's and
# the nvidia wheels' installed beside torch.
use_bundle_libraries() {
    local library_path="$1/lib:$2/lib" package
    for package in "$(dirname "$2")"/nvidia/*/lib; do
        [ -d "$package" ] && library_path="$library_path:$package"
    done
    export LD_LIBRARY_PATH="$library_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

rows=()      # summary rows: | step | status | seconds | result |
log=""       # the combined log

# step NAME LIMIT_SECONDS COMMAND...: runs the command under `timeout`, its output appended to
# the log and kept in $step_output; sets step_status (passed / failed / timed out) and step_seconds.
step() {
    local name=$1 limit=$2; shift 2
    local started=$SECONDS rc=0
    say "[$name] $* (at most $limit s)"
    { echo; echo "=== $name: $* (limit $limit s)"; } >> "$log"
    step_output=$(timeout --kill-after=10 "$limit" "$@" 2>&1) || rc=$?
    printf '%s\n' "$step_output" >> "$log"
    step_seconds=$((SECONDS - started))
    case $rc in
        0) step_status=passed ;;
        124 | 137) step_status="timed out" ;;
        *) step_status="failed (exit $rc)" ;;
    esac
    echo "=== $name: $step_status in $step_seconds s" >> "$log"
}

row() { rows+=("| $1 | $2 | $3 | $4 |"); }
skip() { say "[$1] skipped: $2"; echo "=== $1: skipped: $2" >> "$log"; row "$1" "skipped: $2" "" ""; }

# The XCTest summary line ("Executed 12 tests, with 0 failures (0 unexpected)") and the skips.
test_counts() {
    local executed
    executed=$(printf '%s\n' "$1" | grep -E "^[[:space:]]*Executed [0-9]+ tests?" | tail -1 | sed 's/^[[:space:]]*//; s/ in .*//')
    echo "${executed:-no XCTest summary}"
}

# A run folder's metrics.jsonl in one line: the loss at the first and last logged steps and the
# mean throughput after the first log (which holds the warm-up).
loss_summary() {
    "$python" - "$1/metrics.jsonl" <<'EOF'
import json, sys
rows = [r for r in map(json.loads, filter(str.strip, open(sys.argv[1]))) if "loss" in r]
if not rows:
    sys.exit(print("no training metrics"))
first, last = rows[0], rows[-1]
rates = [r["pairs_per_second"] for r in rows[1:] or rows if "pairs_per_second" in r]
print(f"loss {first['loss']:.3f} (step {first['step']}) -> {last['loss']:.3f} (step {last['step']}); "
      f"{sum(rates) / max(len(rates), 1):.0f} pairs/s")
EOF
}

pretrain_config() {   # DEVICE STEPS OUTPUT: R2D2-tiny in bf16 on the built-in corpus
    cat <<EOF
# Written by scripts/gpu-check.sh: configs/r2d2-tiny.yaml in bf16, no evaluation during the run.
model: r2d2-tiny
recipe: r2d2
data: {source: scenes, size: 4000, seed: 7, context_length: 32}
steps: $2
batch_size: 32
precision: bf16
device: $1
optimizer: {lr: 1.0e-3, weight_decay: 0.05, betas: [0.9, 0.98], clip_norm: 1.0}
schedule: {name: cosine, warmup_steps: $(($2 / 10))}
seed: 0
output: $3
checkpoint: {every: $2, keep: 1}
log_every: $(($2 / 10 > 0 ? $2 / 10 : 1))
EOF
}

run() {
    local bundle="$repo/gpu-check-bundle" out="$PWD/gpu-check-output" python=python3
    while [ $# -gt 0 ]; do
        case "$1" in
            --bundle) bundle=$2; shift 2 ;;
            --out) out=$2; shift 2 ;;
            --python) python=$2; shift 2 ;;
            *) die "run: unknown argument $1" ;;
        esac
    done
    # An absolute path: the steps run from inside the bundle.
    local found
    found=$(command -v "$python") || die "no python at $python"
    [[ $found == /* ]] || found="$PWD/$found"
    python=$found
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    log="$out/gpu-check.log"
    : > "$log"
    work=$(mktemp -d)   # global: the EXIT trap reads it after run returns
    trap 'rm -rf "$work"' EXIT
    local started=$SECONDS
    local unpacked=""
    if [ -f "$bundle" ]; then
        case "$bundle" in
            *.tar.xz) ;;
            *) die "$bundle is a file but not a .tar.xz bundle" ;;
        esac
        local archive
        archive=$(cd "$(dirname "$bundle")" && pwd)/$(basename "$bundle")
        mkdir -p "$work/bundle"
        bundle=$(unpack_bundle "$archive" "$work/bundle")
        unpacked=" (unpacked from $(basename "$archive") in $((SECONDS - started)) s)"
        # The peers' wheels, when this python lacks open_clip or cn_clip.
        if ! "$python" -c 'import open_clip, cn_clip' 2>/dev/null && compgen -G "$(dirname "$archive")/wheels/*.whl" >/dev/null; then
            "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$work/site" \
                "$(dirname "$archive")"/wheels/*.whl >>"$log" 2>&1 || say "warning: the peer's wheels did not install (see $log)"
            export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
        fi
    fi
    [ -f "$bundle/manifest" ] || die "no bundle at $bundle: run 'bash scripts/gpu-check.sh build' on the build machine"
    bundle=$(cd "$bundle" && pwd)

    # torch's libraries from the machine's PyTorch, the nvidia wheels' beside them.
    local torch_dir torch_version cuda gpu
    torch_dir=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>>"$log") ||
        die "$python cannot import torch (see $log)"
    torch_version=$("$python" -c 'import torch; print(torch.__version__)' 2>>"$log")
    cuda=$("$python" -c 'import torch; print(torch.cuda.is_available())' 2>>"$log")
    gpu="none"
    if [ "$cuda" = True ]; then
        gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>>"$log" | head -1 ||
            "$python" -c 'import torch; print(torch.cuda.get_device_name(0))')
    fi
    use_bundle_libraries "$bundle" "$torch_dir"
    local built_torch
    built_torch=$(sed -n 's/^torch=//p' "$bundle/manifest")
    say "torch $torch_version at $torch_dir (bundle built against $built_torch); GPU: $gpu"
    [ "${torch_version%%+*}" = "$built_torch" ] || say "warning: torch $torch_version here, the bundle was built against $built_torch: libtorch's symbols may not match"

    # vlp reads assets/ relative to the working folder; vlp-bench its peers under Benchmarks/.
    cd "$bundle"
    local vlp="$bundle/bin/vlp" device=cpu steps=$CPU_PRETRAIN_STEPS suffix=" (CPU fall-back)"
    if [ "$cuda" = True ]; then device=cuda; steps=$PRETRAIN_STEPS; suffix=""; fi

    # 0. the binaries start and find every library
    step start 30 "$vlp" --help
    if [ "$step_status" != passed ]; then
        row "binaries start" "$step_status" "$step_seconds" "$(printf '%s\n' "$step_output" | grep -m1 -i "error\|not found" || true)"
    else
        row "binaries start" passed "$step_seconds" "vlp --help"
    fi

    # 1. the test target, GPU visible (CUDATests skip without one)
    # XCTest on Linux filters by Module.Class[/test], comma-separated: a bare module name becomes
    # the list of its tests, less TEST_SKIP's.
    local filter=$TEST_FILTER
    # shellcheck disable=SC2086  # TEST_SKIP is a space-separated list
    case "$filter" in
        *.*) ;;
        *) filter=$("$bundle/bin/swift-vlpPackageTests.xctest" --list-tests 2>>"$log" | grep "^$filter\." |
               grep -vxF -f <(printf '%s\n' $TEST_SKIP) | paste -sd,) ;;
    esac
    step tests 180 "$bundle/bin/swift-vlpPackageTests.xctest" "$filter"
    row "tests ($TEST_FILTER${TEST_SKIP:+ but $TEST_SKIP})$([ "$cuda" = True ] || echo ', no GPU: CUDATests skip')" "$step_status" "$step_seconds" "$(test_counts "$step_output")"

    # 2. pretrain R2D2-tiny in bf16
    [ "$cuda" = True ] || skip "pretrain --device cuda" "no GPU"
    pretrain_config "$device" "$steps" "$work/run" > "$work/r2d2-tiny-bf16.yaml"
    step pretrain 120 "$vlp" pretrain --config "$work/r2d2-tiny-bf16.yaml" --device "$device"
    local metrics="no metrics"
    [ -f "$work/run/metrics.jsonl" ] && metrics=$(loss_summary "$work/run")
    row "pretrain --device $device, R2D2-tiny bf16, $steps steps$suffix" "$step_status" "$step_seconds" "$metrics"

    # 3. evaluate its checkpoint
    [ "$cuda" = True ] || skip "evaluate --device cuda" "no GPU"
    if [ -d "$work/run" ]; then
        step evaluate 45 "$vlp" evaluate retrieval --checkpoint "$work/run" --data scenes:icr:test --scenes-size 1000 --scenes-seed 7 --device "$device" --json
        row "evaluate retrieval --device $device$suffix" "$step_status" "$step_seconds" "$(printf '%s\n' "$step_output" | grep -m1 '^{' | cut -c1-300)"
        step matching 45 "$vlp" evaluate matching --checkpoint "$work/run" --data scenes:icm:test --scenes-size 1000 --scenes-seed 7 --device "$device" --json
        row "evaluate matching --device $device$suffix" "$step_status" "$step_seconds" "$(printf '%s\n' "$step_output" | grep -m1 '^{' | cut -c1-300)"
    else
        skip "evaluate --device $device" "no checkpoint from pretrain"
    fi

    # 4. a 1-rank NCCL group
    if [ "$cuda" = True ]; then
        step nccl 30 "$bundle/bin/swift-vlpPackageTests.xctest" TorchTests.CUDATests/testNCCLOneRankCollectives
        row "NCCL 1 rank: all-reduce, all-gather, broadcast" "$step_status" "$step_seconds" "$(test_counts "$step_output")"
    else
        skip "NCCL 1 rank" "no GPU"
    fi

    # 5. vlp-bench train-step against PyTorch on the same GPU
    local known reason
    known=$("$bundle/bin/vlp-bench" --list 2>&1 || true)
    # Why benchmark step $1 (vlp-bench's $2) does not run here; nothing when it does.
    benchmark_skip_reason() {
        if [[ " $SKIP_BENCHMARKS " == *" $1 "* ]]; then echo "left out (SKIP_BENCHMARKS)"
        elif ! printf '%s\n' "$known" | grep -q "\"$2\""; then echo "this vlp-bench has no $2 benchmark"
        elif [ "$cuda" != True ]; then echo "no GPU"
        fi
    }
    reason=$(benchmark_skip_reason bench train-step)
    if [ -n "$reason" ]; then
        skip "vlp-bench train-step --device cuda" "$reason"
    else
        # Eight processes (two rounds of each side and precision), each starting CUDA.
        step bench 150 env VLP_BENCH_DEVICE=cuda VLP_PEER_PYTHON="$python" VLP_BENCH_TRAIN_STEP_WARMUP=5 \
            VLP_BENCH_TRAIN_STEP_STEPS=30 "$bundle/bin/vlp-bench" train-step
        row "vlp-bench train-step (cuda, against open_clip on PyTorch)" "$step_status" "$step_seconds" "$(printf '%s\n' "$step_output" | tail -4 | tr '\n' ' ' | cut -c1-400)"
    fi

    # 6. vlp-bench embed against cn_clip and open_clip on the same GPU
    reason=$(benchmark_skip_reason embed embed)
    if [ -n "$reason" ]; then
        skip "vlp-bench embed --device cuda" "$reason"
    else
        step embed 240 env VLP_BENCH_DEVICE=cuda VLP_PEER_PYTHON="$python" VLP_BENCH_EMBED_REPEATS=5 "$bundle/bin/vlp-bench" embed
        row "vlp-bench embed (cuda, against cn_clip and open_clip on PyTorch)" "$step_status" "$step_seconds" "$(printf '%s\n' "$step_output" | grep -E '×|peak' | tr '\n' ' ' | cut -c1-1500)"
    fi

    {
        echo "# GPU check"
        echo
        echo "- machine: $(uname -n), $(nproc) CPUs; GPU: $gpu"
        echo "- torch here: $torch_version ($torch_dir); bundle: $(tr '\n' ' ' < "$bundle/manifest")$unpacked"
        echo "- total: $((SECONDS - started)) s; every step's output: gpu-check.log"
        echo
        echo "| step | status | seconds | result |"
        echo "| --- | --- | --- | --- |"
        printf '%s\n' "${rows[@]}"
    } > "$out/summary.md"
    cat "$out/summary.md"
    say "summary in $out/summary.md"
}

[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
case "${1:-}" in
    build) shift; build "$@" ;;
    run) shift; run "$@" ;;
    *) die "usage: $0 build [--venv DIR] [--bundle DIR] [--config debug|release] | run [--bundle DIR|FILE.tar.xz] [--out DIR] [--python PYTHON]" ;;
esac
