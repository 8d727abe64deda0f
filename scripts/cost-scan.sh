#!/usr/bin/env bash
# What the usage scanners cost per body, in instructions (valgrind's callgrind), which do not move with the
# machine's load: `tollgate-bench scan` (release) on the benchmark chat completion's request body, its JSON response
# and the same response as a stream of server-sent events, each run for N and 2N iterations; the difference of the
# two totals over N is one body's cost (start-up cancels out).
#
#   scripts/cost-scan.sh [path to a release tollgate-bench binary, default: build one] [N, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh valgrind
source scripts/lib-callgrind.sh
measured_copy tollgate-bench "${1:-}"
trap 'rm -rf "$work"' EXIT
n=${2:-2000}
echo "| body | instructions per body |"
echo "|---|---:|"
for body in request json stream; do
    totals=()
    for iterations in "$n" $((2 * n)); do
        valgrind --tool=callgrind --callgrind-out-file="$work/out" "$work/tollgate-bench" scan \
            --iterations "$iterations" --body "$body" >/dev/null 2>&1
        totals+=("$(callgrind_annotate "$work/out" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')")
    done
    echo "| $body | $(((totals[1] - totals[0]) / n)) |"
done
