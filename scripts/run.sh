#!/usr/bin/env bash
# Starts 832 客服 for a developer: SQLite under data/, demo suppliers and accounts, rebuilt and
# restarted on every edit (`cargo leptos watch`). The first build takes several minutes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# DATABASE_URL defaults to sqlite://data/kefu.db?mode=rwc in the server (set it, or put it in
# .env, to use PostgreSQL instead).
export KEFU_DEMO_DATA=true
# Development mode: the built-in buyer-token secret and http://127.0.0.1:3000 as the public URL
# are allowed (a production start without KEFU_BUYER_TOKEN_SECRET and KEFU_PUBLIC_URL is refused).
export KEFU_DEV_MODE=true
# The mall page that may frame /chat: the browser tests' stand-in mall (widget.js test).
export KEFU_MALL_ORIGINS="${KEFU_MALL_ORIGINS:-http://localhost:3999}"

cat <<'TEXT'

832 客服 will be served at  http://127.0.0.1:3000  (login page: http://127.0.0.1:3000/login)
once the build below finishes (a cold debug build takes about 7 minutes on 2 cores).

Demo logins
  示例农产品供应商  客服管理员  demo_admin   / Demo@832admin   -> /admin
                    客服小童    kf101        / Demo@832agent   -> /agent
                    客服小李    kf102        / Demo@832agent   -> /agent
  山区茶叶合作社    管理员      demo_admin2  / Demo@832admin   -> /admin
                    茶社客服    kf201        / Demo@832agent   -> /agent

Stop with Ctrl-C.

TEXT

# No content hashes in file names while developing: `cargo leptos watch` rebuilds without them
# after an edit anyway, and the server then names the plain files (server/src/assets.rs).
export LEPTOS_HASH_FILES=false

exec cargo leptos watch
