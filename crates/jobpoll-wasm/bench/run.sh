#!/usr/bin/env bash
# Memory per waiting job (Node and headless Chromium) and main-thread time per
# poll (Node) of the browser package as it ships (size.sh), against the
# reference server. Prints one JSON line a measurement.
#
#   crates/jobpoll-wasm/bench/run.sh [--n 1000,10000] [--chromium /usr/bin/chromium]
set -euo pipefail
cd "$(dirname "$0")/../../.."
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
cargo build -p jobpoll-cli
crates/jobpoll-wasm/size.sh "$target_dir/jobpoll-wasm-bench-pkg"
node crates/jobpoll-wasm/bench/bench.mjs --jobpoll "$target_dir/debug/jobpoll" \
  --pkg "$target_dir/jobpoll-wasm-bench-pkg" "$@"
