#!/usr/bin/env bash
# Builds the browser driver's package for pages as it ships (size.sh: the size
# profile, `wasm-bindgen --target web`, wasm-opt's clean-up passes), into OUT_DIR (default: the copy the reference
# server embeds, crates/jobpoll-server/page/pkg). Next to the package it writes
# STAMP, a hash of what the package is built from (see stamp() below).
#
#   crates/jobpoll-wasm/pack.sh [OUT_DIR]   build the package
#   crates/jobpoll-wasm/pack.sh --check     fail when the embedded copy is stale
#
# Installs wasm-bindgen-cli at the wasm-bindgen version in Cargo.lock when it is
# missing (building needs it; --check does not).
set -euo pipefail
cd "$(dirname "$0")/../.."

embedded=crates/jobpoll-server/page/pkg

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$version" ]; then
  echo "pack.sh: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi

# What the package is built from: the sources of the driver and the core, the
# versions and features of every crate the wasm build compiles (Cargo.lock's
# part that matters), the page beside the embedded copy, and the wasm-bindgen
# version. Paths and contents both count.
stamp() {
  {
    echo "wasm-bindgen $version"
    find crates/jobpoll-wasm/Cargo.toml crates/jobpoll-wasm/src crates/jobpoll-wasm/size.sh \
      crates/jobpoll-wasm/bundle/Cargo.toml crates/jobpoll-wasm/bundle/lib.rs \
      crates/jobpoll-core/Cargo.toml crates/jobpoll-core/src -type f -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum
    find crates/jobpoll-server/page -maxdepth 1 -type f \
      \( -name '*.html' -o -name '*.js' -o -name '*.css' \) -print0 \
      | LC_ALL=C sort -z | xargs -0 -r sha256sum
    cargo tree --locked --manifest-path crates/jobpoll-wasm/bundle/Cargo.toml \
      --target wasm32-unknown-unknown -e normal,build \
      --prefix none --format '{p} {f}' | sed 's/ (\/[^)]*)//' | LC_ALL=C sort -u
  } | sha256sum | cut -d' ' -f1
}

# The bundle's Cargo.lock (crates/jobpoll-wasm/bundle) must pick the same
# versions as the workspace's, but for the IDNA back end it chooses on purpose:
# the package ships what the tests ran.
locked() {
  awk '/^name = / { name = $3 } /^version = / { print name, $3 }' "$1" | tr -d '"' | LC_ALL=C sort
}
drift=$(LC_ALL=C comm -13 <(locked Cargo.lock) <(locked crates/jobpoll-wasm/bundle/Cargo.lock) \
  | grep -v -e '^idna_adapter ' -e '^jobpoll-wasm-bundle ' || true)
if [ -n "$drift" ]; then
  echo "pack.sh: crates/jobpoll-wasm/bundle/Cargo.lock has crates at versions Cargo.lock does not:" >&2
  echo "$drift" | sed 's/^/  /' >&2
  echo "  Copy Cargo.lock there and run, in that directory:" >&2
  echo "  cargo update -p idna_adapter --precise 1.0.0" >&2
  exit 1
fi

if [ "${1:-}" = "--check" ]; then
  want=$(stamp)
  have=$(cat "$embedded/STAMP" 2>/dev/null || echo none)
  if [ "$want" != "$have" ]; then
    echo "pack.sh: the browser driver's package the server embeds ($embedded) is stale:" >&2
    echo "  its sources, the crates it builds from or the page changed since it was built" >&2
    echo "  (stamp $have, sources $want)." >&2
    echo "  Rebuild it with crates/jobpoll-wasm/pack.sh and commit $embedded." >&2
    exit 1
  fi
  echo "the embedded browser package is up to date ($want)"
  exit 0
fi

out=${1:-$embedded}

if ! wasm-bindgen --version 2>/dev/null | grep -qF " $version"; then
  echo "installing wasm-bindgen-cli $version"
  cargo install wasm-bindgen-cli --version "$version" --locked \
    || cargo install wasm-bindgen-cli --version "$version"
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

crates/jobpoll-wasm/size.sh "$out"
stamp >"$out/STAMP"
echo "built $out:"
ls -l "$out"
