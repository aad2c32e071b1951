# Two commands do all the set-up on a fresh Debian/Ubuntu machine:
#   make demo   — installs what is missing, fetches assets, builds, runs `vlp demo`
#   make test   — installs what is missing, fetches assets, builds, runs the test suite
#
# Both use the one debug build in .build/debug, so whichever runs second builds almost nothing.
# A fresh debug build of `vlp` took 98 s on this 2-core machine, a release build 212 s (+18 s
# for `swift run`); the full demo ran as fast from either (266-293 s debug, 271 s release: its
# work is in libtorch), `--quick` 39 s against 33 s. Measured: README "Set-up on a fresh machine".
# CONFIG=release builds and runs the optimised binary instead (`make demo CONFIG=release`), as
# `make release` builds it.
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
CONFIG ?= debug
# The index store stays on although a fresh debug build of vlp took 12% less time without it:
# on Linux, `swift build --build-tests` finds the XCTest cases through it, and one set of flags
# for both targets is what lets the second command reuse the first one's build.
BUILD_FLAGS = $(SWIFT_BUILD_FLAGS)

.PHONY: demo test setup assets build release bench fuzz clean

setup:
	@echo "make: [1/4] system packages (scripts/setup-system.sh: only what is missing)" >&2
	@bash scripts/setup-system.sh

assets: setup
	@echo "make: [2/4] assets (scripts/fetch-assets.sh: vocabularies, configs, weights, photos)" >&2
	@bash scripts/fetch-assets.sh

build: assets
	@echo "make: [3/4] building vlp ($(CONFIG); a fresh build takes minutes, progress below)" >&2
	$(SWIFT) build -c $(CONFIG) $(BUILD_FLAGS) --product vlp

release:
	@$(MAKE) --no-print-directory build CONFIG=release

# The binary is run directly: `swift run` would plan (and on some machines rebuild) again.
demo: build
	@echo "make: [4/4] vlp demo $(DEMO_ARGS)" >&2
	"$$($(SWIFT) build -c $(CONFIG) $(BUILD_FLAGS) --show-bin-path)/vlp" demo $(DEMO_ARGS)

test: assets
	@echo "make: [3/4] building vlp and the tests (debug; a fresh build takes minutes, progress below)" >&2
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	@echo "make: [4/4] swift test" >&2
	$(SWIFT) test --skip-build $(BUILD_FLAGS) $(TEST_ARGS)

bench: assets
	@bash scripts/setup-system.sh --with bench
	@/usr/bin/python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('cn_clip') is None)" || \
		/usr/bin/python3 -m pip install -q --no-deps --break-system-packages cn-clip==1.6.0
	@/usr/bin/python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('open_clip') is None)" || \
		/usr/bin/python3 -m pip install -q --no-deps --break-system-packages open_clip_torch==2.32.0 regex ftfy wcwidth tqdm
	$(SWIFT) run -c release $(BUILD_FLAGS) vlp-bench $(BENCH_ARGS)

# Fuzzes every parser of untrusted bytes with libFuzzer + AddressSanitizer (Fuzz/fuzz.sh, its own
# build in .build-fuzz): FUZZ_SECONDS per target, FUZZ_TARGET=tar for one (safetensors, pytorch,
# tar, config, jsonl, cnclip, image, gzip, idx, query). New inputs are merged into Fuzz/Corpora; crashes land in
# Fuzz/Crashers; `make test` replays both (FuzzCorpusReplayTests).
FUZZ_SECONDS ?= 300
FUZZ_TARGET ?= all
fuzz: assets
	SWIFT=$(SWIFT) bash Fuzz/fuzz.sh $(FUZZ_TARGET) $(FUZZ_SECONDS)

clean:
	rm -rf .build .build-fuzz
