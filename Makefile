# corio front door. Quick start: `make demo`, `make test`.
JOBS       ?= 2
BUILD      ?= build
BENCH_DIR  ?= build-bench
BUILD_TYPE ?= RelWithDebInfo
PYTHON     := /usr/bin/python3

.PHONY: all deps build test demo bench clean

all: build

deps:
	bash scripts/install-deps.sh core

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD) -j$(JOBS)

# The suite runs twice: on the automatic backend (io_uring where the kernel
# allows it) and forced onto epoll, so both backends pass every test.
test: build
	CORIO_BACKEND=epoll ctest --test-dir $(BUILD) --output-on-failure --no-tests=error -j$(JOBS) --timeout 1800
	ctest --test-dir $(BUILD) --output-on-failure --no-tests=error -j$(JOBS) --timeout 1800

demo: build
	bash examples/run_examples.sh $(BUILD)/examples

bench:
	bash scripts/install-deps.sh bench
	cmake -S . -B $(BENCH_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	    -DCORIO_BUILD_BENCH=ON -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF
	cmake --build $(BENCH_DIR) -j$(JOBS)
	$(PYTHON) bench/compare.py --build $(BENCH_DIR)

clean:
	rm -rf $(BUILD) $(BENCH_DIR) build-clang build-asan
