#!/usr/bin/env bash
# Fuzzes the API from its own OpenAPI document: every check, zero failures allowed, under the
# per-operation allowances of .ci/schemathesis.toml. Two seeds, each against a fresh SQLite
# database with the demo data, run once anonymously and once with an admin token. The server is
# the debug binary the steps before this one have built (argon2 is optimised in the dev
# profile), which saves the five minutes a release build costs.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.ci/.venv
if [ ! -x "$VENV/bin/st" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

# Every operation that takes an Idempotency-Key must allow its 422 (a key already used with
# another body), which schemathesis meets when it repeats a generated key: checked here, before
# the long runs, so a new idempotent route cannot fail CI on one seed in four.
python3 - <<'PY'
import json, sys, tomllib
doc = json.load(open("openapi/openapi.json"))
allowed = {}
for entry in tomllib.load(open(".ci/schemathesis.toml", "rb"))["operations"]:
    names = entry["include-name"]
    for name in [names] if isinstance(names, str) else names:
        allowed.setdefault(name, entry.get("checks", {}).get("positive_data_acceptance", {}).get("expected-statuses", []))
missing = [
    f"{method.upper()} {path}"
    for path, item in doc["paths"].items()
    for method, op in item.items()
    if isinstance(op, dict)
    and any("Idempotency" in p.get("$ref", p.get("name", "")) or "ReplaysTheFirstAnswer" in p.get("$ref", "")
            for p in op.get("parameters", []))
    and "422" not in allowed.get(f"{method.upper()} {path}", [])
]
if missing:
    sys.exit("these idempotent operations need 422 in .ci/schemathesis.toml: " + ", ".join(missing))
PY

# A no-op in .ci/run, where the OpenAPI drift step (`cargo run`) has built this binary.
cargo build -q
BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/idpc-hub"
SEEDS=${ST_SEEDS:-1 2}
WORK=$(mktemp -d)
SERVER=
trap '[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export MAIL_TRANSPORT=log LOG_FORMAT=json RUST_LOG=warn \
       AUTH_RATE_LIMIT_PER_IP=1000000 AUTH_RATE_LIMIT_PER_ACCOUNT=1000000 \
       JWT_KEYS="ci:$(python3 -c 'import secrets; print(secrets.token_hex(32))')"

# Starts the server on a fresh database named $1 with the demo data (printed to $WORK/$1.demo).
start() {
    [ -z "$SERVER" ] || { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
    mkdir -p "$WORK/$1"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    export PORT DATABASE_URL="sqlite://$WORK/$1/st.db"
    ( cd "$WORK/$1" && "$BIN" demo-data >"$WORK/$1.demo" )
    ( cd "$WORK/$1" && exec "$BIN" serve >"$WORK/$1.log" 2>&1 ) &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "the server did not become ready:" >&2
    cat "$WORK/$1.log" >&2
    exit 1
}

# A fresh admin access token (they live 15 minutes, longer than a run may take).
admin_token() {
    curl -fsS "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
        -d '{"email":"admin@demo.idpc.example","password":"demo-admin-password"}' \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# The partner app demo-data printed once reads grants through the generated TypeScript client.
if [ -x .ci/tools/node_modules/.bin/tsc ] && [ -f .ci/ts/generated/api.ts ]; then
    start ts
    echo "-- the generated TypeScript client, as the demo partner app"
    .ci/tools/node_modules/.bin/tsc --strict --target es2022 --module commonjs --lib es2022,dom \
        --outDir "$WORK/ts-out" .ci/ts/run.ts
    BASE="http://127.0.0.1:$PORT" \
    CLIENT_ID=$(awk '$1 == "client_id" {print $2}' "$WORK/ts.demo") \
    CLIENT_SECRET=$(awk '$1 == "client_secret" {print $2}' "$WORK/ts.demo") \
        node "$WORK/ts-out/run.js"
fi

# One seed on a server and database of its own, both passes; a summary line per pass goes to
# $WORK/seed<seed>.sum. Each seed starts from the same demo data, so a failure reproduces with
# that seed alone (ST_SEEDS=2 bash .ci/schemathesis.sh).
seed_run() {
    local seed=$1 status=0 label started
    SERVER=
    trap '[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true' EXIT
    start "seed$seed"
    for label in anonymous "as admin"; do
        local auth=()
        [ "$label" = anonymous ] || auth=(-H "Authorization: Bearer $(admin_token)")
        started=$SECONDS
        echo "-- seed $seed, $label"
        if "$VENV/bin/st" --config-file .ci/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
            --checks all --max-examples 25 --seed "$seed" --no-color "${auth[@]}"; then
            echo "seed $seed, $label: passed in $((SECONDS - started)) s" >>"$WORK/seed$seed.sum"
        else
            status=1
            echo "seed $seed, $label: FAILED in $((SECONDS - started)) s" >>"$WORK/seed$seed.sum"
        fi
    done
    return "$status"
}

# The seeds run side by side (each mostly waits on its server), their output printed after.
[ -z "$SERVER" ] || { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }
STARTED=$SECONDS
PIDS=()
for seed in $SEEDS; do
    seed_run "$seed" >"$WORK/seed$seed.out" 2>&1 &
    PIDS+=("$!")
done
STATUS=0
for pid in "${PIDS[@]}"; do
    wait "$pid" || STATUS=1
done
for seed in $SEEDS; do
    cat "$WORK/seed$seed.out"
done
echo
for seed in $SEEDS; do
    cat "$WORK/seed$seed.sum" 2>/dev/null || echo "seed $seed: did not run (see above)"
done
echo "schemathesis: $((SECONDS - STARTED)) s for seeds $SEEDS"
exit "$STATUS"
