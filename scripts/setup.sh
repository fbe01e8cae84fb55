#!/usr/bin/env bash
# Installs every tool the build and the tests need, idempotently and offline-safe:
# only crates.io, the npm registry and Debian's packages are used; nothing downloads a binary from elsewhere.
#   scripts/setup.sh            everything (native + wasm + browser tests)
#   scripts/setup.sh --serve    only what `make serve` needs (no chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
# wasm-bindgen-cli must equal the wasm-bindgen version in Cargo.lock.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
WB_VERSION=${WB_VERSION:-0.2.130}

want_browser=1
[ "${1:-}" = "--serve" ] && want_browser=0

say() { printf '[setup] %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

# 1. Rust target for WebAssembly.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. trunk (0.22 needs a newer rustc than 1.95).
if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  say "installing trunk $TRUNK_VERSION from crates.io (about 10 minutes on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# 3. wasm-bindgen-cli at the exact Cargo.lock version (also provides wasm-bindgen-test-runner).
#    Not --locked: its lockfile pins a webpki-roots version this registry mirror does not carry.
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WB_VERSION\$"; then
  say "installing wasm-bindgen-cli $WB_VERSION from crates.io (about 4 minutes)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# 4. npm tools: wasm-opt (binaryen on node; Debian's binaryen 108 is too old) and playwright-core.
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ]; then
  say "installing npm packages (binaryen $BINARYEN_VERSION, playwright-core)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# 4b. Plain `trunk serve` at the root, with only ~/.cargo/bin added to PATH, finds wasm-opt there
#     (wasm-bindgen is there already): a link to npm's binaryen (a node script).
if ! "$HOME/.cargo/bin/wasm-opt" --version 2>/dev/null | grep -q "version_${BINARYEN_VERSION%%.*}"; then
  say "linking wasm-opt (binaryen $BINARYEN_VERSION) into ~/.cargo/bin for trunk"
  mkdir -p "$HOME/.cargo/bin"
  ln -sf "$PWD/node_modules/.bin/wasm-opt" "$HOME/.cargo/bin/wasm-opt"
fi

# 5. Chromium and ChromeDriver from Debian (browser tests and screenshots only).
if [ "$want_browser" = 1 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  say "installing Debian's chromium and chromium-driver"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# 6. Crates for offline builds (Trunk.toml sets offline = true).
cargo fetch --locked >/dev/null 2>&1 || cargo fetch

say "ready: $(trunk --version), $(wasm-bindgen --version), wasm-opt $(wasm-opt --version 2>/dev/null | head -1)"
