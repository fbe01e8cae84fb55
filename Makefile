# stochgrad — the two commands are `make serve` and `make test`; both install what is missing first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)
PORT ?= 8080
E2E_PORT ?= 8093

.PHONY: setup setup-serve serve build test lint test-native test-wasm test-e2e bench clean

## Install every tool the build and the tests need (idempotent, offline-safe).
setup:
	bash scripts/setup.sh

setup-serve:
	bash scripts/setup.sh --serve

## Build the page and serve it at http://127.0.0.1:$(PORT)/ (rebuilds on change).
serve: setup-serve
	cd app && trunk serve --release --port $(PORT)

## Static release build into app/dist: relative URLs, so it works from any web server and any sub-path.
build: setup-serve
	cd app && trunk build --release

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

test-e2e: build
	cargo build --release -p stochgrad-cli
	node e2e/run.mjs --dist app/dist --port $(E2E_PORT) --cli target/release/stochgrad

## Benchmarks (not run by CI): criterion natively, and the in-browser measurement.
bench: setup
	cargo bench -p stochgrad-core

clean:
	cargo clean
	rm -rf app/dist
