# stochgrad — the two commands are `make serve` and `make test`; both install what is missing first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)
PORT ?= 8080
E2E_PORT ?= 8093

.PHONY: setup setup-serve serve build build-dev cli docs test lint test-native test-wasm test-e2e bench clean

TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
# The release CLI. On Linux with glibc it is a static executable: no dynamic loading and symbol
# binding at every start (about 0.4 ms of each `stochgrad` process on the development VM, a tenth of
# `stochgrad exact` on (10,10,10); BENCHMARKS.md). `+crt-static` needs an explicit --target, so
# that build scripts and proc-macros (built for the host) are left dynamic.
HOST := $(shell $(firstword $(wildcard $(HOME)/.cargo/bin/rustc) rustc) -vV 2>/dev/null | sed -n 's/^host: //p')
ifneq ($(filter %-linux-gnu,$(HOST)),)
CLI_FLAGS := --target $(HOST) --config 'target.$(HOST).rustflags=["-C", "target-feature=+crt-static"]'
CLI := $(TARGET_DIR)/$(HOST)/release/stochgrad
else
CLI_FLAGS :=
CLI := $(TARGET_DIR)/release/stochgrad
endif

## Install every tool the build and the tests need (idempotent, offline-safe).
setup:
	bash scripts/setup.sh

setup-serve:
	bash scripts/setup.sh --serve

## Build the page and serve it at http://127.0.0.1:$(PORT)/ (rebuilds on change). After `make setup`,
## plain `trunk serve` (a dev build, the engine optimised) or `trunk serve --release` works too.
serve: setup-serve
	trunk serve --release --port $(PORT)

## Static release build into dist/: relative URLs, so it works from any web server and any sub-path.
build: setup-serve
	trunk build --release

## What plain `trunk serve` builds (the dev profile): a broken Trunk.toml or index.html fails here.
build-dev: setup-serve
	trunk build --dist target/trunk-dev

## The command-line tool, built for release; prints where it is.
cli:
	cargo build --release -p stochgrad-cli $(CLI_FLAGS)
	@echo "stochgrad: $(CLI)"

## Rewrite the generated blocks of README.md and docs/ (the estimator table, the CLI's synopses and
## flags, the URL keys, the example outputs) from the engine; `make test` fails while they differ.
docs:
	STOCHGRAD_BLESS=1 cargo test --test docs

## Everything: formatting, lints, native tests, browser tests, end-to-end tests.
test: setup lint test-native test-wasm test-e2e

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p stochgrad-app --target wasm32-unknown-unknown --all-targets -- -D warnings

test-native:
	cargo test --workspace

test-wasm:
	cargo test -p stochgrad-app --target wasm32-unknown-unknown

test-e2e: build-dev build cli
	node e2e/run.mjs --dist dist --port $(E2E_PORT) --cli $(CLI)

## Benchmarks (not run by CI): criterion natively, whole `stochgrad exact` processes, the same
## workloads in WebAssembly in headless Chromium, and the page itself (Playwright); prints one table
## and writes $(TARGET_DIR)/bench/table.md (see BENCHMARKS.md). Takes about 15 minutes.
bench: setup build cli
	cargo build --release -p stochgrad-core --example profile
	cargo bench -p stochgrad-core --bench engine -- --noplot
	STOCHGRAD_SIMD=128 cargo bench -p stochgrad-core --bench engine -- --noplot '^(exact_gradient_1_thread_128|mc_draws_8x8_128)/'
	cargo build -p stochgrad-bench --target wasm32-unknown-unknown --profile wasm-release
	wasm-bindgen --target web --no-typescript --out-dir bench/www/pkg \
		$(TARGET_DIR)/wasm32-unknown-unknown/wasm-release/stochgrad_bench.wasm
	wasm-opt -Oz bench/www/pkg/stochgrad_bench_bg.wasm -o bench/www/pkg/stochgrad_bench_bg.wasm
	node bench/run.mjs --target $(TARGET_DIR) --cli $(CLI) --dist dist

clean:
	cargo clean
	rm -rf dist
