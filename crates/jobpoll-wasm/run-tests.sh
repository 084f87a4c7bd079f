#!/usr/bin/env bash
# Runs the browser driver's tests against the reference server, under Node and
# then in headless Chromium (through chromedriver): installs wasm-bindgen-cli at
# the wasm-bindgen version in Cargo.lock if it is missing, builds and starts
# `jobpoll serve` on a free loopback port, runs
# `cargo test -p jobpoll-wasm --target wasm32-unknown-unknown` with the server's
# address once per runtime, replays with `jobpoll-sim replay` a trace recorded
# by the Node build of the package, and stops the server.
#
#   run-tests.sh [--node | --chromium] [CARGO TEST ARGS...]
#
# Chromium and chromedriver are found on PATH, or at $CHROMEDRIVER. Without them
# the Chromium run is skipped with a warning, except under CI=true, where that
# fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

runtimes="node chromium"
case "${1:-}" in
  --node) runtimes=node; shift ;;
  --chromium) runtimes=chromium; shift ;;
esac

if ! command -v node >/dev/null; then
  echo "run-tests.sh: the tests run under Node (18 or later), and node is not on PATH" >&2
  exit 1
fi

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
  echo "run-tests.sh: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if ! wasm-bindgen-test-runner --version 2>/dev/null | grep -qF " $version"; then
  echo "installing wasm-bindgen-cli $version"
  # --locked uses the tool's own lock file; when a crate it pins is not on the
  # registry any more, install without it.
  cargo install wasm-bindgen-cli --version "$version" --locked \
    || cargo install wasm-bindgen-cli --version "$version"
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

cargo build -p jobpoll-cli
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
log=$(mktemp)
"$target_dir/debug/jobpoll" serve --listen 127.0.0.1:0 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

address=""
for _ in $(seq 100); do
  address=$(sed -n 's/^jobpoll serve: listening on \(http[^ ]*\).*/\1/p' "$log")
  [ -n "$address" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    cat "$log" >&2
    echo "run-tests.sh: the server did not start" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$address" ]; then
  cat "$log" >&2
  echo "run-tests.sh: the server did not say where it listens" >&2
  exit 1
fi
echo "reference server at $address"

for runtime in $runtimes; do
  if [ "$runtime" = chromium ]; then
    chromedriver=${CHROMEDRIVER:-$(command -v chromedriver || true)}
    if [ -z "$chromedriver" ] || ! command -v chromium >/dev/null; then
      if [ "${CI:-}" = true ]; then
        echo "run-tests.sh: chromium and chromedriver are needed for the browser run (apt-get install chromium chromium-driver)" >&2
        exit 1
      fi
      echo "run-tests.sh: WARNING: chromium or chromedriver is missing: the tests did NOT run in a browser" >&2
      continue
    fi
    echo "== the browser driver's tests in headless Chromium ($chromedriver)"
    # The test page comes from the runner's own server: the reference server is
    # another origin, as an API is to a real page.
    JOBPOLL_TEST_SERVER="$address" WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="$chromedriver" \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
      cargo test -p jobpoll-wasm --target wasm32-unknown-unknown "$@"
  else
    echo "== the browser driver's tests under Node"
    JOBPOLL_TEST_SERVER="$address" \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
      cargo test -p jobpoll-wasm --target wasm32-unknown-unknown "$@"
  fi
done

if [ "$runtimes" != chromium ]; then
  # A trace recorded by the Node build of the package replays with the simulator's
  # command, as a trace from the command line does.
  cargo build -p jobpoll-wasm --target wasm32-unknown-unknown
  cargo build -p jobpoll-sim
  package="$target_dir/jobpoll-wasm-node"
  wasm-bindgen --target nodejs --out-dir "$package" \
    "$target_dir/wasm32-unknown-unknown/debug/jobpoll_wasm.wasm"
  trace="$package/recorded.jsonl"
  node crates/jobpoll-wasm/tests/node/record-trace.cjs "$package" "$address" "$trace"
  "$target_dir/debug/jobpoll-sim" replay "$trace"
fi
