# Two commands do all the set-up on a fresh Debian/Ubuntu machine:
#   make demo   — installs what is missing, fetches assets, builds, runs `vlp demo`
#   make test   — installs what is missing, fetches assets, builds, runs the test suite
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=

.PHONY: demo test setup assets build release bench clean

setup:
	@bash scripts/setup-system.sh

assets: setup
	@bash scripts/fetch-assets.sh

build: assets
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --product vlp

release: assets
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS) --product vlp

demo: release
	$(SWIFT) run -c release $(SWIFT_BUILD_FLAGS) vlp demo $(DEMO_ARGS)

test: assets
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_BUILD_FLAGS) $(TEST_ARGS)

bench: assets
	@VLP_BENCH_PEERS=1 bash scripts/setup-system.sh
	@python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('cn_clip') is None)" || python3 -m pip install -q --no-deps cn-clip==1.6.0 six
	$(SWIFT) run -c release $(SWIFT_BUILD_FLAGS) vlp-bench $(BENCH_ARGS)

clean:
	rm -rf .build
