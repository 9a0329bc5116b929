#!/usr/bin/env bash
# Runs a benchmark end to end: bench/run.sh directory | grants | login
# Installs wrk when missing (Debian/Ubuntu), needs a PostgreSQL server (BENCH_PG_URL, default
# postgres://postgres@127.0.0.1:5432/postgres, a role that may create databases) and pgbench
# (PGBENCH, default /usr/lib/postgresql/15/bin/pgbench, else pgbench on PATH).
# All load stays on 127.0.0.1 and every measurement stops after BENCH_SECONDS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: bench/run.sh directory|grants|login}"
if [ "$name" = directory ] && ! command -v wrk >/dev/null; then
    apt-get install -y wrk >/dev/null || sudo apt-get install -y wrk >/dev/null
fi
cargo bench --bench "$name"
