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
	$(SWIFT) run -c release $(SWIFT_BUILD_FLAGS) vlp-bench $(BENCH_ARGS)

clean:
	rm -rf .build
