#!/usr/bin/env bash
# Log index benchmark: the size of the catalog's log index per stored log and the latency of the logs API on it.
#
# Fills DATA with `tollgate generate` (RECORDS records of account bench over 30 days, --no-payload) unless it holds
# a catalog already, then prints the bytes of every table and index of catalog.sqlite (SQLite's dbstat: pages in
# use, so space freed by a migration is not counted) per stored log (`log_counts`), the log index (everything but the
# rollup_* tables) per log, and then serves the folder and times over loopback (curl, N requests each, p50 and p90):
# the first page of the newest logs, the same with a model filter (the commonest model) and with a rare model (the
# model with the fewest logs), the next page after the first with the model filter, and one log by id; each request
# on a connection of its own, then the lookups by id again on one kept-alive connection. nginx serving a small file
# the same way is the reference, in the same run.
#
# usage: scripts/bench-log-index.sh [DATA=/tmp/tollgate-bench-index] [RECORDS=1000000] [N=200]
# BIN=path/to/release/bin picks the binaries (default .build/release, built by `scripts/release-build.sh tollgate tollgate-bench`).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${1:-/tmp/tollgate-bench-index}
RECORDS=${2:-1000000}
N=${3:-200}
BIN=${BIN:-.build/release}
PORT=${PORT:-18787}
CATALOG="$DATA/catalog.sqlite"

if [[ ! -f "$CATALOG" ]]; then
    echo "== generate: $RECORDS records of account bench over 30 days"
    start=$(date +%s.%N)
    "$BIN/tollgate" generate --data "$DATA" --account bench --records "$RECORDS" --days 30 --no-payload --seed 1 \
        >/dev/null 2>&1
    echo "generate: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
fi

# The reference in the same run: nginx serving a small file, over a connection of its own per request, as curl
# sends the API requests below (what a request costs on this machine before any work of the server's own).
scripts/deps.sh nginx-light >/dev/null
REFERENCE=$(mktemp -d)
mkdir -p "$REFERENCE/www"
echo '{"id":"bench","tier":"paid"}' >"$REFERENCE/www/account.json"
chmod 755 "$REFERENCE" "$REFERENCE/www"
chmod 644 "$REFERENCE/www/account.json"
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat >"$REFERENCE/nginx.conf" <<NGINX
worker_processes auto;
pid $REFERENCE/nginx.pid;
error_log $REFERENCE/error.log error;
daemon off;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$NGINX_PORT; root $REFERENCE/www; } }
NGINX
nginx -c "$REFERENCE/nginx.conf" -p "$REFERENCE" &
NGINX=$!

# The gateway applies its migrations when it opens the catalog; serve first so the sizes are of its schema.
export TOLLGATE_ADMIN_TOKEN=bench-admin-token
"$BIN/tollgate" serve --data "$DATA" --port "$PORT" --retention-interval-minutes 0 --log-level error \
    >"$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" "$NGINX" 2>/dev/null || true; wait "$SERVER" "$NGINX" 2>/dev/null || true; rm -rf "$REFERENCE"' EXIT
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null

echo "== catalog: bytes per log (dbstat, pages in use)"
# Stored logs: what the quota counts (logs in sealed segments that answer for themselves have no `logs` row).
LOGS=$(sqlite3 "file:$CATALOG?mode=ro" "SELECT sum(stored) FROM log_counts")
ROWS=$(sqlite3 "file:$CATALOG?mode=ro" "SELECT count(*) FROM logs")
echo "logs: $LOGS ($ROWS with a row in logs); catalog.sqlite: $(stat -c %s "$CATALOG") bytes (and $(stat -c %s "$CATALOG-wal" 2>/dev/null || echo 0) of WAL)"
sqlite3 -separator ' ' "file:$CATALOG?mode=ro" "
    SELECT printf('%-32s %12d bytes %8.1f per log', name, sum(pgsize), sum(pgsize) * 1.0 / $LOGS)
    FROM dbstat GROUP BY name HAVING sum(pgsize) > 4096 * 4 ORDER BY sum(pgsize) DESC;
    SELECT printf('%-32s %12d bytes %8.1f per log', 'log index (all but rollup_*)', sum(pgsize),
                  sum(pgsize) * 1.0 / $LOGS)
    FROM dbstat WHERE name NOT LIKE 'rollup_%';"

API="http://127.0.0.1:$PORT/api/v1/accounts/bench/logs"
AUTH="Authorization: Bearer $TOLLGATE_ADMIN_TOKEN"
# Prints p50 and p90 of N timed GETs of $1 (after 5 untimed ones).
timed() {
    for _ in 1 2 3 4 5; do curl -sf -H "$AUTH" -o /dev/null "$1"; done
    for _ in $(seq 1 "$N"); do curl -sf -H "$AUTH" -o /dev/null -w '%{time_total}\n' "$1"; done \
        | sort -n | awk '{ t[NR] = $1 } END { printf "p50 %.2f ms, p90 %.2f ms\n", t[int(NR * 0.5)] * 1000, t[int(NR * 0.9)] * 1000 }'
}
first=$(curl -sf -H "$AUTH" "$API?limit=1")
id=$(echo "$first" | python3 -c 'import json, sys; print(json.load(sys.stdin)["logs"][0]["id"])')
models=$(curl -sf -H "$AUTH" "$API?limit=1000" | python3 -c '
import collections, json, sys
counts = collections.Counter(log["model"] for log in json.load(sys.stdin)["logs"] if log.get("model"))
print(counts.most_common()[0][0], counts.most_common()[-1][0])')
common=${models% *}
rare=${models#* }
cursor=$(curl -sf -H "$AUTH" "$API?model=$common" | python3 -c 'import json, sys; print(json.load(sys.stdin)["next_cursor"])')

# One id from each day of the span (each from its own segment once the folder holds more segments than the listing
# keeps decoded), for lookups whose segment's columns are not in memory.
oldest=$(curl -sf -H "$AUTH" "$API?order=asc&limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["logs"][0]["created_at"])')
start_ms=$(python3 -c "import datetime, sys; print(int(datetime.datetime.fromisoformat('$oldest'.replace('Z', '+00:00')).timestamp() * 1000))")
# A second set, half a day before each, for the same lookups on one kept-alive connection.
spread_ids=()
kept_ids=()
id_before() {
    local to
    to=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp(($start_ms + $1) / 1000, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
    curl -sf -H "$AUTH" "$API?to=$to&limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["logs"][0]["id"])'
}
for day in $(seq 1 29); do
    spread_ids+=("$(id_before $((day * 86400000)))")
    kept_ids+=("$(id_before $((day * 86400000 - 43200000)))")
done

echo "== logs API over loopback, $N requests each"
echo "reference: nginx, a small file:         $(timed "http://127.0.0.1:$NGINX_PORT/account.json")"
echo "floor: GET the account (no log read):   $(timed "http://127.0.0.1:$PORT/api/v1/accounts/bench")"
echo "first page (50 newest):                 $(timed "$API")"
echo "first page, model=$common:  $(timed "$API?model=$common")"
echo "next page, model=$common:   $(timed "$API?model=$common&cursor=$cursor")"
echo "first page, model=$rare:    $(timed "$API?model=$rare")"
echo "status_code=502, stream=true (~0.08 % of logs): $(timed "$API?status_code=502&stream=true")"
echo "one log by id (the newest):             $(timed "$API/$id")"
# Each of the 29 spread ids once, in order: after the first few, their segments' columns are not in memory.
for spread in "${spread_ids[@]}"; do curl -sf -H "$AUTH" -o /dev/null -w '%{time_total}\n' "$API/$spread"; done \
    | sort -n | awk '{ t[NR] = $1 } END { printf "one log by id, 29 ids one per day, each once: p50 %.2f ms, p90 %.2f ms\n", t[int(NR * 0.5)] * 1000, t[int(NR * 0.9)] * 1000 }'
# The same kind of lookups without a connection set up for each: one curl, one kept-alive connection for all (the
# account's GET first, the same way).
kept() {
    local args=()
    for url in "$@"; do args+=(-H "$AUTH" -o /dev/null -w '%{time_total}\n' "$url"); done
    curl -sf "${args[@]}" | sort -n \
        | awk '{ t[NR] = $1 } END { printf "p50 %.2f ms, p90 %.2f ms\n", t[int(NR * 0.5)] * 1000, t[int(NR * 0.9)] * 1000 }'
}
account_urls=()
for _ in $(seq 1 29); do account_urls+=("http://127.0.0.1:$PORT/api/v1/accounts/bench"); done
echo "one kept-alive connection: GET the account, 29 times: $(kept "${account_urls[@]}")"
kept_urls=()
for kept_id in "${kept_ids[@]}"; do kept_urls+=("$API/$kept_id"); done
echo "one kept-alive connection: one log by id, 29 other ids one per day, each once: $(kept "${kept_urls[@]}")"
