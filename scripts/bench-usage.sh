#!/usr/bin/env bash
# Cost-accounting benchmark: fills a data folder with `tollgate generate` (RECORDS records over 30 days for one
# account, OTHERS other accounts with OTHER_RECORDS each), then times the monthly report and a 30-day usage query
# grouped by model with percentiles (`tollgate-bench usage`: cold = first run in a fresh process, warm = median of
# the next 20), exports the account's logs (`tollgate export`), loads them into DuckDB and times the equivalent SQL,
# and checks that both give the same sums.
#
# usage: scripts/bench-usage.sh [RECORDS=10000000] [OTHERS=99] [OTHER_RECORDS=10000]
# ROLLING=HH:MM times a rolling window instead: the records span the month and one day more, and the usage query
# (and DuckDB's) runs from HH:MM on the month's first day to HH:MM 30 days later (ROLLING=14:37: neither end on an
# hour); the report is still the calendar month.
# Needs python3 (a venv in .venv gets duckdb from PyPI). Writes to a temporary folder, removed at the end
# (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${1:-10000000}
OTHERS=${2:-99}
OTHER_RECORDS=${3:-10000}

scripts/release-build.sh tollgate tollgate-bench >/dev/null
BIN=.build/release
DATA=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-usage.XXXXXX")
cleanup() { if [[ -z "${KEEP:-}" ]]; then rm -rf "$DATA"; else echo "data kept in $DATA"; fi; }
trap cleanup EXIT

# The span: the 30 days before the first of this month (UTC); the report is the previous month's.
END=$(date -u +%Y-%m-01)
FROM=$(date -u -d "$END - 30 days" +%Y-%m-%dT00:00:00Z)
MONTH=$(date -u -d "$END - 1 day" +%Y-%m)
DAYS=30
USAGE_FROM=$FROM
USAGE_TO="${END}T00:00:00Z"
DATA_END=$END
if [[ -n "${ROLLING:-}" ]]; then
    DAYS=31
    DATA_END=$(date -u -d "$END + 1 day" +%Y-%m-%d)
    USAGE_FROM="${FROM%T*}T${ROLLING}:00Z"
    USAGE_TO="${END}T${ROLLING}:00Z"
fi

echo "== generate: $RECORDS records for account bench over $DAYS days (to $DATA_END), $OTHERS other accounts × $OTHER_RECORDS"
start=$(date +%s.%N)
"$BIN/tollgate" generate --data "$DATA" --account bench --records "$RECORDS" --days "$DAYS" --end "$DATA_END" \
    --no-payload --seed 1 2>/dev/null
gen_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
for i in $(seq 1 "$OTHERS"); do
    "$BIN/tollgate" generate --data "$DATA" --account "other-$i" --records "$OTHER_RECORDS" --days "$DAYS" --end "$DATA_END" \
        --no-payload --seed "$((i + 1))" >/dev/null 2>&1
done
echo "generate (store + pricing + rollups): $(awk -v n="$RECORDS" -v s="$gen_seconds" 'BEGIN { printf "%d", n / s }') records/s (${gen_seconds}s)"
du -sh "$DATA" | sed 's/^/data folder: /'

echo "== tollgate: monthly report ($MONTH) and usage $USAGE_FROM..$USAGE_TO by day and model with percentiles"
"$BIN/tollgate-bench" usage --data "$DATA" --account bench --month "$MONTH" --from "$USAGE_FROM" \
    --to "$USAGE_TO" --runs 21 >"$DATA/tollgate.json"
cat "$DATA/tollgate.json"; echo

echo "== export for DuckDB"
start=$(date +%s.%N)
"$BIN/tollgate" export --data "$DATA" --account bench --from "$FROM" --to "${DATA_END}T00:00:00Z" \
    --output "$DATA/export.csv" 2>/dev/null
echo "export: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s, $(du -h "$DATA/export.csv" | cut -f1)"

if [[ ! -x .venv/bin/python ]]; then python3 -m venv .venv; fi
.venv/bin/pip install -q duckdb
echo "== DuckDB $(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)'): same questions in SQL"
.venv/bin/python scripts/bench_duckdb.py "$DATA/export.csv" "$FROM" "${END}T00:00:00Z" 6 \
    "$USAGE_FROM" "$USAGE_TO" >"$DATA/duckdb.json"
cat "$DATA/duckdb.json"; echo

.venv/bin/python - "$DATA/tollgate.json" "$DATA/duckdb.json" <<'PY'
import json, sys
from decimal import Decimal
t = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
tt, dt = t["totals"], d["totals"]
same = (tt["requests"] == dt["requests"] and tt["tokens_in"] == dt["tokens_in"]
        and tt["tokens_out"] == dt["tokens_out"] and Decimal(tt["cost"]) == Decimal(dt["cost"]))
models_same = all(
    t["by_model"].get(m, {}).get("requests") == v["requests"] and Decimal(t["by_model"][m]["cost"]) == Decimal(v["cost"])
    for m, v in d["by_model"].items())
print(f"sums identical: {same and models_same} (requests {tt['requests']}, cost {tt['cost']} USD)")
for q in ("monthly_ms", "usage_ms"):
    print(f"{q}: tollgate cold {t[q]['cold']} warm p50 {t[q]['warm_p50']} | duckdb cold {d[q]['cold']} "
          f"warm p50 {d[q]['warm_p50']} | speed-up warm {d[q]['warm_p50'] / max(t[q]['warm_p50'], 0.001):.1f}x")
sys.exit(0 if same and models_same else 1)
PY
