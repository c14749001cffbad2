# Thin wrapper over CMake. `make deps demo` sets up a fresh Debian 12 machine and runs the demo;
# `make test` builds and runs the whole test suite.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure demo test asan clean format check

all: configure
	cmake --build $(BUILD) -j$(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

deps:
	tools/install_deps.sh

demo: all
	$(BUILD)/cli/dpipe run examples/nci_rdkit --output-dir demo-run
	@echo "results: demo-run/final_descriptors.txt, demo-run/clusters.json, demo-run/summary.json"

test: all
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure

asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS='-DCMAKE_BUILD_TYPE=Debug -DDP_SANITIZE=address;undefined -DDP_WITH_CUDA=OFF'

format:
	tools/format.sh

check:
	tools/format.sh --check
	tools/check_layers.sh

clean:
	rm -rf $(BUILD) build-asan build-min build-ci
