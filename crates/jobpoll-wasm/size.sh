#!/usr/bin/env bash
# Builds the browser package as it ships and prints the size of its files.
#
#   crates/jobpoll-wasm/size.sh [OUT_DIR]      (default: <target dir>/jobpoll-wasm-pkg)
#
# The steps:
#   1. cargo build of bundle/ (a workspace of its own: its Cargo.lock picks the
#      IDNA back end without Unicode tables, see bundle/Cargo.toml) with
#      --profile wasm (opt-level "z", LTO, one codegen unit, no debug info), on
#      the nightly toolchain with the standard library built with it
#      (-Zbuild-std, its `optimize_for_size` feature) and panics that abort at
#      once (-Cpanic=immediate-abort): 10.5 % smaller gzipped than the prebuilt
#      standard library, which is built for speed (docs/benchmarks.md). A
#      panic already ended the module without a message, so nothing a page
#      sees changes. WASM_TOOLCHAIN names another toolchain than `nightly`;
#      its rust-src component is installed when it is missing;
#   2. wasm-bindgen --target web (the version in Cargo.lock), named jobpoll_wasm;
#   3. wasm-opt with its clean-up passes only (binaryen 132 from npm unless
#      WASM_OPT names another wasm-opt), the wasm features rustc emits enabled:
#      -Oz makes the file 10 % smaller but 2.3 % larger gzipped (measured in
#      docs/benchmarks.md), and gzipped is what a page downloads;
#   4. prints the bytes and the gzipped bytes (gzip -9) of the .wasm and of the
#      JavaScript glue.
#
# The build has a target directory of its own (<target dir>/wasm-package),
# since the nightly compiler shares no artifact with the workspace's builds.
#
# WASM_BINDGEN_TARGET=nodejs builds the package for Node instead of a page;
# CARGO_FEATURES adds arguments to cargo build: "--features record" adds the
# `record` option, "--features profile-objects" profile objects (the package
# as it ships has neither; see bundle/Cargo.toml).
set -euo pipefail
cd "$(dirname "$0")/../.."

target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
out=${1:-$target_dir/jobpoll-wasm-pkg}
bindgen_target=${WASM_BINDGEN_TARGET:-web}

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qF " $version"; then
  echo "size.sh: wasm-bindgen $version (the version in Cargo.lock) is needed:" >&2
  echo "  cargo install wasm-bindgen-cli --version $version" >&2
  exit 1
fi

# The features rustc enables for wasm32-unknown-unknown; wasm-opt must accept
# every instruction they allow, or it refuses the module.
features=(--enable-bulk-memory --enable-bulk-memory-opt --enable-sign-ext
  --enable-nontrapping-float-to-int --enable-mutable-globals
  --enable-reference-types --enable-multivalue --enable-call-indirect-overlong)
if [ -n "${WASM_OPT:-}" ]; then
  wasm_opt=("$WASM_OPT")
else
  wasm_opt=(npm exec --yes --package=binaryen@132.0.0 -- wasm-opt)
fi
# An older wasm-opt (Debian's 108) knows fewer feature names; those it does not
# know, rustc's module does not use either.
known=$("${wasm_opt[@]}" --help)
enabled=()
for feature in "${features[@]}"; do
  if grep -qe "$feature\b" <<<"$known"; then
    enabled+=("$feature")
  fi
done
passes=(--dce --duplicate-function-elimination --remove-unused-module-elements --vacuum)

toolchain=${WASM_TOOLCHAIN:-nightly}
if ! rustc "+$toolchain" --version >/dev/null 2>&1; then
  echo "size.sh: the $toolchain toolchain is needed (it builds the standard library for size):" >&2
  echo "  rustup toolchain install $toolchain --profile minimal --component rust-src" >&2
  exit 1
fi
if ! rustup "+$toolchain" component list --installed | grep -qx 'rust-src'; then
  rustup "+$toolchain" component add rust-src
fi
build_dir=$target_dir/wasm-package
# shellcheck disable=SC2086 # CARGO_FEATURES is a list of arguments.
CARGO_TARGET_DIR=$build_dir RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
  cargo "+$toolchain" build --locked --manifest-path crates/jobpoll-wasm/bundle/Cargo.toml \
  --target wasm32-unknown-unknown --profile wasm \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size ${CARGO_FEATURES:-}
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target "$bindgen_target" --out-dir "$out" --out-name jobpoll_wasm \
  "$build_dir/wasm32-unknown-unknown/wasm/jobpoll_wasm_bundle.wasm"
wasm="$out/jobpoll_wasm_bg.wasm"
"${wasm_opt[@]}" "${enabled[@]}" "${passes[@]}" --strip-debug --strip-producers "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"

size() {
  printf '%-24s %9d B %9d B gzipped\n' "$(basename "$1")" "$(wc -c <"$1")" "$(gzip -9c "$1" | wc -c)"
}
echo "package in $out"
size "$wasm"
size "$out/jobpoll_wasm.js"
