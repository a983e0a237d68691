#!/usr/bin/env bash
# Installs what building and testing 832 客服 needs, skipping whatever is already there.
#
#   bash scripts/setup.sh          # build tools: wasm target, cargo-leptos, wasm-bindgen, npm deps
#   bash scripts/setup.sh --test   # also Chromium, CJK fonts and PostgreSQL (kefu / kefu_test)
#
# Assumes rustup, Node.js, npm and apt. Versions are pinned on purpose (README, "Toolchain"):
# cargo-leptos 0.3.11 does not build on rustc 1.95, and wasm-bindgen-cli must equal the
# wasm-bindgen crate pinned in Cargo.toml.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
PG_VERSION=15

want_test=false
for arg in "$@"; do
  case "$arg" in
    --test) want_test=true ;;
    -h | --help)
      sed -n '2,9p' "$0"
      exit 0
      ;;
    *)
      echo "setup: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*"; }

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
  as_postgres() { (cd / && su postgres -c "$1"); }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo "$@"; }
  as_postgres() { (cd / && sudo -u postgres sh -c "$1"); }
else
  as_root() {
    echo "setup: need root or sudo to run: $*" >&2
    return 1
  }
  as_postgres() { as_root "$@"; }
fi

# --- Rust -------------------------------------------------------------------------------------
for tool in rustup cargo node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup: $tool is missing; install it first" >&2
    exit 1
  fi
done

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "wasm32-unknown-unknown target: present"
else
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

for component in rustfmt clippy; do
  if rustup component list --installed | grep -q "^${component}"; then
    say "${component}: present"
  else
    say "adding ${component}"
    rustup component add "$component"
  fi
done

if cargo leptos --version 2>/dev/null | grep -q "\b${CARGO_LEPTOS_VERSION//./\\.}\b"; then
  say "cargo-leptos ${CARGO_LEPTOS_VERSION}: present"
else
  say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (20-26 min on 2 cores, once per machine)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if wasm-bindgen --version 2>/dev/null | grep -q "\b${WASM_BINDGEN_VERSION//./\\.}\b"; then
  say "wasm-bindgen-cli ${WASM_BINDGEN_VERSION}: present"
else
  # Not --locked: its lock file wants a webpki-roots the registry does not have.
  say "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION} (about 8 min, once per machine)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# --- npm (Playwright, with Debian's Chromium: never download browsers) ------------------------
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f end2end/package-lock.json ]; then
  if [ -f end2end/node_modules/.package-lock.json ] &&
    [ ! end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ] &&
    [ ! end2end/package.json -nt end2end/node_modules/.package-lock.json ]; then
    say "end2end npm packages: present"
  else
    say "installing end2end npm packages (npm ci)"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
else
  say "installing end2end npm packages (npm install: no lock file)"
  (cd end2end && npm install --no-audit --no-fund)
fi

if [ "$want_test" = false ]; then
  say "done"
  exit 0
fi

# --- Browser tests and PostgreSQL -------------------------------------------------------------
missing=()
for pkg in chromium fonts-noto-cjk postgresql; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    say "apt package $pkg: present"
  else
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y "${missing[@]}"; then
    say "apt-get install failed; running apt-get update and retrying"
    as_root apt-get update
    as_root apt-get install -y "${missing[@]}"
  fi
fi

if pg_ctlcluster "$PG_VERSION" main status >/dev/null 2>&1; then
  say "PostgreSQL ${PG_VERSION}: running"
else
  say "starting PostgreSQL ${PG_VERSION}"
  as_root pg_ctlcluster "$PG_VERSION" main start
fi
for _ in $(seq 1 30); do
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    break
  fi
  sleep 1
done
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "setup: PostgreSQL does not answer on 127.0.0.1:5432" >&2
  exit 1
fi

if [ "$(as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'kefu'\"")" = 1 ]; then
  say "PostgreSQL role kefu: present"
else
  say "creating PostgreSQL role kefu"
  as_postgres "psql -qc \"CREATE ROLE kefu LOGIN PASSWORD 'kefu' CREATEDB\""
fi
if [ "$(as_postgres "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'kefu_test'\"")" = 1 ]; then
  say "PostgreSQL database kefu_test: present"
else
  say "creating PostgreSQL database kefu_test"
  as_postgres "createdb -O kefu kefu_test"
fi

say "done (TEST_DATABASE_URL=postgres://kefu:kefu@127.0.0.1:5432/kefu_test)"
