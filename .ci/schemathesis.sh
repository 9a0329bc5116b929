#!/usr/bin/env bash
# Fuzzes the API from its own OpenAPI document: every check, zero failures allowed.
# It runs once anonymously and once with an admin token, against a fresh SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.ci/.venv
if [ ! -x "$VENV/bin/st" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

cargo build --release -q
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite://$WORK/st.db" PORT MAIL_TRANSPORT=log LOG_FORMAT=json RUST_LOG=warn \
       AUTH_RATE_LIMIT_PER_IP=1000000 AUTH_RATE_LIMIT_PER_ACCOUNT=1000000 \
       JWT_KEYS="ci:$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
ROOT=$(pwd)
( cd "$WORK" && "$ROOT/target/release/idpc-hub" demo-data >"$WORK/demo.txt" )
( cd "$WORK" && exec "$ROOT/target/release/idpc-hub" serve >"$WORK/server.log" 2>&1 ) &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
TOKEN=$(curl -fsS "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"admin@demo.idpc.example","password":"demo-admin-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# The partner app demo-data printed once reads grants through the generated TypeScript client.
if [ -x .ci/tools/node_modules/.bin/tsc ] && [ -f .ci/ts/generated/api.ts ]; then
    echo "-- the generated TypeScript client, as the demo partner app"
    .ci/tools/node_modules/.bin/tsc --strict --target es2022 --module commonjs --lib es2022,dom \
        --outDir "$WORK/ts" .ci/ts/run.ts
    BASE="http://127.0.0.1:$PORT" \
    CLIENT_ID=$(awk '$1 == "client_id" {print $2}' "$WORK/demo.txt") \
    CLIENT_SECRET=$(awk '$1 == "client_secret" {print $2}' "$WORK/demo.txt") \
        node "$WORK/ts/run.js"
fi

run() {
    "$VENV/bin/st" --config-file .ci/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" --checks all \
        --max-examples 25 --seed 1 --no-color "$@"
}
echo "-- anonymous"
run
echo "-- as admin"
run -H "Authorization: Bearer $TOKEN"
