#!/usr/bin/env bash
# Runs every test of 832 客服:
#   1. setup        tools, Chromium, CJK fonts, PostgreSQL role kefu and database kefu_test
#   2. lints        `cargo fmt --check`; clippy with warnings as errors for the host crates and
#                   for the wasm (hydrate) build; the browser tests' TypeScript type-checked
#   3. cargo test   domain, server and app crates, on SQLite and on PostgreSQL (TEST_DATABASE_URL)
#   4. build        `cargo leptos build` (debug: the one build the browser tests run against)
#   5. browser      Playwright in Chromium against the real server (`cargo leptos end-to-end`),
#                   on a fresh SQLite database with the demo data
# Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

started=$SECONDS

# Runs one stage and reports its time. Stage bodies must not rely on `set -e` (it is off inside
# a function called from `if`), so multi-step stages chain with `&&`.
stage() {
  local name=$1
  shift
  local t=$SECONDS
  printf '\n==> %s\n' "$name"
  if "$@"; then
    printf '<== %s: ok (%d s)\n' "$name" $((SECONDS - t))
  else
    local rc=$?
    printf '<== %s: FAILED with exit code %d after %d s (total %d s)\n' \
      "$name" "$rc" $((SECONDS - t)) $((SECONDS - started)) >&2
    exit "$rc"
  fi
}

export TEST_DATABASE_URL=postgres://kefu:kefu@127.0.0.1:5432/kefu_test

# Not `cargo test --workspace`: the frontend crate is the wasm (hydrate) build and must not be
# built for the host together with the ssr features.
unit_tests() {
  cargo test -p vocab -p domain -p server -p app
}

# Style does not drift: formatting, and clippy on both builds (the hydrate-only code is seen
# only by the wasm one).
lints() {
  cargo fmt --all -- --check &&
    cargo clippy -p vocab -p domain -p server -p app -p loadgen --all-targets -- -D warnings &&
    cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings &&
    (cd end2end && npx tsc --noEmit -p .)
}

# `cargo leptos end-to-end` exits 0 when the build fails (it just skips the tests), so build
# first with `cargo leptos build`, which does fail; end-to-end then finds everything up to date.
browser_tests() {
  rm -rf target/e2e end2end/test-results &&
    mkdir -p target/e2e &&
    DATABASE_URL='sqlite://target/e2e/kefu.db?mode=rwc' KEFU_DEMO_DATA=true KEFU_DEV_MODE=true KEFU_MALL_ORIGINS=http://localhost:3999 \
      KEFU_UPLOAD_DIR=target/e2e/uploads \
      cargo leptos end-to-end &&
    check_playwright_ran
}

# Belt and braces for the same reason: insist that Playwright ran and recorded a pass.
check_playwright_ran() {
  local last=end2end/test-results/.last-run.json
  if [ ! -f "$last" ]; then
    echo "browser tests: Playwright did not run ($last missing)" >&2
    return 1
  fi
  if ! grep -q '"status": *"passed"' "$last"; then
    echo "browser tests: Playwright did not pass:" >&2
    cat "$last" >&2
    return 1
  fi
}

stage "setup" bash scripts/setup.sh --test
stage "lints (cargo fmt --check, cargo clippy -D warnings)" lints
stage "cargo test -p vocab -p domain -p server -p app" unit_tests
stage "cargo leptos build" cargo leptos build
stage "browser tests (cargo leptos end-to-end)" browser_tests

printf '\nall tests passed in %d s\n' $((SECONDS - started))
