#!/usr/bin/env bash
# Builds the libFuzzer binary (vlp-fuzz with -sanitize=fuzzer,address, scratch .build-fuzz) and
# fuzzes one target or all of them, each for SECONDS (default 300), in one process (no -jobs:
# libFuzzer would fork a child per job and log to fuzz-N.log in the working folder).
#   Fuzz/fuzz.sh                  every target, 300 s each
#   Fuzz/fuzz.sh tar 600          one target
# New inputs that reach new code are added to Fuzz/Corpora/TARGET; a crash is written to
# Fuzz/Crashers/TARGET/ (keep it, mend the parser, `make test` replays it). Afterwards the
# corpus is minimised in place (-merge=1). Extra libFuzzer flags: FUZZ_FLAGS="-max_len=65536".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
all_targets=(safetensors pytorch tar config jsonl cnclip image gzip idx query)
targets=("${all_targets[@]}")
seconds="${2:-300}"
if [[ $# -ge 1 && "$1" != "all" ]]; then
    targets=("$1")
fi

swift="${SWIFT:-swift}"
scratch="${FUZZ_SCRATCH:-.build-fuzz}"
# SwiftPM's --sanitize=fuzzer instruments the C targets and links libFuzzer's main (no Swift
# entry point), but gives the Swift compiles only -sanitize=address: the -Xswiftc flag adds the
# coverage counters libFuzzer needs to the Swift modules.
build_flags=(--product vlp-fuzz --scratch-path "$scratch" --disable-index-store
    --sanitize=fuzzer --sanitize=address -Xswiftc "-sanitize=fuzzer,address" -Xswiftc -DVLP_FUZZING)
echo "fuzz.sh: building vlp-fuzz with libFuzzer and AddressSanitizer ($scratch)" >&2
nice -n 19 "$swift" build "${build_flags[@]}"
binary="$("$swift" build "${build_flags[@]}" --show-bin-path)/vlp-fuzz"

# libtorch and the system codecs are not instrumented: container annotations would differ
# between the two sides of a std::vector, and libtorch keeps allocations alive to the end.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_container_overflow=0:detect_leaks=0}"

for target in "${targets[@]}"; do
    corpus="Fuzz/Corpora/$target"
    crashers="Fuzz/Crashers/$target"
    if [[ ! -d "$corpus" ]]; then
        echo "fuzz.sh: no corpus folder $corpus (targets: ${all_targets[*]})" >&2
        exit 2
    fi
    mkdir -p "$crashers"
    work="$(mktemp -d)"
    echo "fuzz.sh: $target for $seconds s" >&2
    status=0
    # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
    VLP_FUZZ_TARGET="$target" nice -n 19 "$binary" "$work" "$corpus" \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 \
        -artifact_prefix="$crashers/" -print_final_stats=1 ${FUZZ_FLAGS:-} || status=$?
    # Minimise: the seeds plus what this run found, down to the inputs that each add coverage.
    merged="$(mktemp -d)"
    # The corpus is replaced only by a merge that kept something.
    if VLP_FUZZ_TARGET="$target" nice -n 19 "$binary" -merge=1 -rss_limit_mb=4096 -timeout=20 \
        "$merged" "$corpus" "$work" >/dev/null 2>&1 && [[ -n "$(ls -A "$merged")" ]]; then
        rm -f "$corpus"/*
        cp "$merged"/* "$corpus"/
    fi
    rm -rf "$work" "$merged"
    if [[ $status -ne 0 ]]; then
        echo "fuzz.sh: $target stopped with status $status; the input is in $crashers/" >&2
        exit "$status"
    fi
done
