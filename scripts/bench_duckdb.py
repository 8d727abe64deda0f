"""The DuckDB side of scripts/bench-usage.sh: load `tollgate export` CSV, time the SQL equivalent of the monthly
report and of a usage query grouped by model with percentiles, and print the sums as JSON for comparison.

usage: bench_duckdb.py EXPORT.csv FROM_ISO TO_ISO RUNS [USAGE_FROM_ISO USAGE_TO_ISO]
(the report's range, then the usage query's when it differs: a rolling window)
"""
import json
import statistics
import sys
import time

import duckdb

path, start, end, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
usage_start, usage_end = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else (start, end)
con = duckdb.connect()
t0 = time.perf_counter()
con.execute(
    f"""
    CREATE TABLE logs AS SELECT * FROM read_csv('{path}', header = true, columns = {{
        'id': 'VARCHAR', 'created_at': 'TIMESTAMPTZ', 'account': 'VARCHAR', 'gateway': 'VARCHAR',
        'provider': 'VARCHAR', 'model': 'VARCHAR', 'method': 'VARCHAR', 'path': 'VARCHAR', 'status_code': 'INTEGER',
        'success': 'BOOLEAN', 'stream': 'BOOLEAN', 'duration_ms': 'DOUBLE', 'ttft_ms': 'DOUBLE', 'tokens_in': 'BIGINT',
        'cached_tokens_in': 'BIGINT', 'cache_write_tokens': 'BIGINT', 'cache_write_1h_tokens': 'BIGINT',
        'tokens_out': 'BIGINT', 'reasoning_tokens': 'BIGINT', 'service_tier': 'VARCHAR', 'cost': 'DECIMAL(38,12)',
        'custom_cost': 'BOOLEAN', 'error': 'VARCHAR'}})
    """
)
load_seconds = time.perf_counter() - t0
rows = con.execute("SELECT count(*) FROM logs").fetchone()[0]

monthly = f"""
    SELECT gateway, provider, model, cost IS NULL AS unpriced, count(*) AS requests,
           sum(coalesce(tokens_in, 0)) AS tokens_in, sum(coalesce(tokens_out, 0)) AS tokens_out,
           sum(coalesce(cached_tokens_in, 0)) AS cached_tokens_in,
           sum(coalesce(cache_write_tokens, 0)) AS cache_write_tokens, sum(cost) AS cost
    FROM logs WHERE created_at >= TIMESTAMPTZ '{start}' AND created_at < TIMESTAMPTZ '{end}'
    GROUP BY ALL ORDER BY ALL
"""
usage = f"""
    SELECT model, count(*) AS requests, sum(coalesce(tokens_in, 0)) AS tokens_in,
           sum(coalesce(tokens_out, 0)) AS tokens_out, sum(cost) AS cost,
           quantile_cont(duration_ms, [0.5, 0.9, 0.95, 0.99]) AS latency,
           quantile_cont(ttft_ms, [0.5, 0.9, 0.95, 0.99]) AS ttft
    FROM logs WHERE created_at >= TIMESTAMPTZ '{usage_start}' AND created_at < TIMESTAMPTZ '{usage_end}'
    GROUP BY model ORDER BY model
"""


def timed(sql):
    times = []
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = con.execute(sql).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    return result, times


monthly_rows, monthly_times = timed(monthly)
usage_rows, usage_times = timed(usage)
print(
    json.dumps(
        {
            "rows": rows,
            "load_seconds": round(load_seconds, 2),
            "monthly_ms": {"cold": round(monthly_times[0], 2), "warm_p50": round(statistics.median(monthly_times[1:] or monthly_times), 2)},
            "usage_ms": {"cold": round(usage_times[0], 2), "warm_p50": round(statistics.median(usage_times[1:] or usage_times), 2)},
            "totals": {
                "requests": sum(r[4] for r in monthly_rows),
                "tokens_in": sum(r[5] for r in monthly_rows),
                "tokens_out": sum(r[6] for r in monthly_rows),
                "cost": str(sum((r[9] for r in monthly_rows if r[9] is not None), 0)),
            },
            "by_model": {r[0] or "": {"requests": r[1], "tokens_in": r[2], "tokens_out": r[3], "cost": str(r[4] or 0),
                                     "latency_ms": [round(x, 3) for x in r[5]] if r[5] else None}
                         for r in usage_rows},
        }
    )
)
