# corio front door. Quick start: `make demo`, `make test`.
JOBS       ?= 2
BUILD      ?= build
BENCH_DIR  ?= build-bench
BUILD_TYPE ?= RelWithDebInfo
PYTHON     := /usr/bin/python3

# The compiler: clang 19 (Debian 12's clang-19 package) unless CXX is set, in
# the environment or on the command line (make test CC=gcc CXX=g++).
# g++ 12 destroys twice a temporary aggregate or capturing lambda written inside
# a co_await expression (README, "Compilers"); clang 14 cannot compile corio
# with -fsanitize=undefined at -O0; clang 19 measured fastest on make bench.
# make's own default CXX is g++, hence $(origin): "default" means not set.
ifeq ($(origin CXX),default)
CXX := clang++-19
ifeq ($(origin CC),default)
CC := clang-19
endif
endif
# corio is C++ only: CC is passed on only when chosen here or by the user.
COMPILER_ENV := CXX=$(CXX) $(if $(filter default,$(origin CC)),,CC=$(CC))

.PHONY: all deps configure-build build test demo bench clean

all: build

deps:
	bash scripts/install-deps.sh core

# $(call configure,DIR,CMAKE ARGS): configure DIR with $(CXX). cmake reads CXX
# only when it creates a cache, so a DIR configured with another compiler (an
# older `make`, or another CXX) is configured again from scratch.
define configure
	@want=$$(readlink -f "$$(command -v $(CXX))"); \
	have=$$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' $(1)/CMakeCache.txt 2>/dev/null); \
	if [ -n "$$want" ] && [ -n "$$have" ] && [ "$$(readlink -f "$$have")" != "$$want" ]; then \
	    echo "make: $(1) was configured with $$have, not $(CXX): configuring it again"; \
	    rm -rf $(1)/CMakeCache.txt $(1)/CMakeFiles; \
	fi
	$(COMPILER_ENV) cmake -S . -B $(1) -G Ninja $(2)
endef

configure-build: deps
	$(call configure,$(BUILD),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE))

build: configure-build
	cmake --build $(BUILD) -j$(JOBS)

# The suite runs twice: on the automatic backend (io_uring where the kernel
# allows it) and forced onto epoll, so both backends pass every test.
test: build
	CORIO_BACKEND=epoll ctest --test-dir $(BUILD) --output-on-failure --no-tests=error -j$(JOBS) --timeout 1800
	ctest --test-dir $(BUILD) --output-on-failure --no-tests=error -j$(JOBS) --timeout 1800

# Builds the library and the examples only (not the test suite).
demo: configure-build
	cmake --build $(BUILD) -j$(JOBS) --target corio_examples
	bash examples/run_examples.sh $(BUILD)/examples

bench:
	bash scripts/install-deps.sh bench
	$(call configure,$(BENCH_DIR),-DCMAKE_BUILD_TYPE=Release \
	    -DCORIO_BUILD_BENCH=ON -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF)
	cmake --build $(BENCH_DIR) -j$(JOBS)
	$(PYTHON) bench/compare.py --build $(BENCH_DIR)

clean:
	rm -rf $(BUILD) $(BENCH_DIR) build-gcc build-clang build-asan build-clang19-asan
