#!/usr/bin/env bash
# Checks the package's TypeScript declarations and its JavaScript surface:
# builds the driver, generates the package with wasm-bindgen (--target nodejs),
# type-checks types-check/example.ts with `tsc --strict` (TypeScript installed
# into the target directory on first use), then runs the compiled example under
# Node. No server is needed; it takes a few seconds once built.
set -euo pipefail
cd "$(dirname "$0")/../.."

typescript_version=7.0.2
cargo build -p jobpoll-wasm --target wasm32-unknown-unknown
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
work="$target_dir/jobpoll-wasm-types"
mkdir -p "$work"
rm -rf "$work/pkg" "$work/example.js"
wasm-bindgen --target nodejs --out-dir "$work/pkg" \
  "$target_dir/wasm32-unknown-unknown/debug/jobpoll_wasm.wasm"
cp crates/jobpoll-wasm/types-check/example.ts crates/jobpoll-wasm/types-check/tsconfig.json "$work/"
if [ ! -x "$work/node_modules/.bin/tsc" ] \
  || ! "$work/node_modules/.bin/tsc" --version | grep -qF "$typescript_version"; then
  echo "installing typescript $typescript_version into $work"
  (cd "$work" && npm install --no-save --no-audit --no-fund --silent "typescript@$typescript_version")
fi
(cd "$work" && ./node_modules/.bin/tsc -p tsconfig.json)
node "$work/example.js"
