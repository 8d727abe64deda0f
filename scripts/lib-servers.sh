# Shared by the benchmark scripts (source it): servers started in the background are killed and the scratch folder
# `$work` removed on exit; loopback ports picked free; waiting for a port to open, up to WAIT_PORT_SECONDS (10).
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Sets `bin`: $BIN when it is set, otherwise a release build of this checkout (built now).
release_binary() {
    if [ -n "${BIN:-}" ]; then
        bin=$BIN
    else
        scripts/release-build.sh tollgate >/dev/null
        bin=.build/release/tollgate
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_port() {
    local tries=$(( ${WAIT_PORT_SECONDS:-10} * 20 ))
    for _ in $(seq 1 "$tries"); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
    echo "port $1 did not open" >&2
    exit 1
}

# Lifts the monthly log quota of account `default` on the gateway at port $1 (admin token $2; default "bench"):
# on the free tier it stores 100,000 logs a month and keeps only the usage of the requests past that, so a load run
# with logging on would store logs for its first 100,000 requests only. With the limit lifted every request's log
# is stored, which is what "logging on" measures.
unlimited_default_account() {
    local answer
    answer=$(curl -sf -X PATCH -H "Authorization: Bearer ${2:-bench}" -H 'Content-Type: application/json' \
        "http://127.0.0.1:$1/api/v1/accounts/default" -d '{"log_limit":1000000000000}') || answer=""
    case "$answer" in
        *'"log_limit":1000000000000'*) ;;
        *) echo "could not lift the default account's log quota: ${answer:-no answer}" >&2; exit 1 ;;
    esac
}

# Writes to $1 the wrk script the benchmarks send: one chat completion request, JSON, with a provider key.
write_chat_request_lua() {
    cat > "$1" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"gpt-5-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of a short story about a lighthouse keeper in two sentences."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA
}

# start_gateway BIN PORT FOLDER: `tollgate serve` (BIN) on PORT with an empty data FOLDER, the mock at $mock_port as
# its openai upstream and admin token "bench", the default account's log quota lifted; its pid in $gw, stopped on
# exit. When the array `gateway_launcher` is set, the gateway runs under that command (a profiler) and $gw is the
# launcher's pid.
start_gateway() {
    TOLLGATE_ADMIN_TOKEN=bench ${gateway_launcher[@]+"${gateway_launcher[@]}"} "$1" serve --port "$2" --data "$3" \
        --upstream "openai=http://127.0.0.1:$mock_port/v1" --log-level error >/dev/null 2>&1 & gw=$!; pids+=($gw)
    wait_port "$2"
    unlimited_default_account "$2"
}

# start_mock_and_gateway: the mock provider on a free port ($mock_port), then `tollgate serve` ($bin) on an empty data
# folder in $work ($gw_port, pid $gw) as `start_gateway` starts it; both stopped on exit.
start_mock_and_gateway() {
    mock_port=$(free_port)
    gw_port=$(free_port)
    "$bin" mock-provider --port "$mock_port" >/dev/null 2>&1 & pids+=($!)
    wait_port "$mock_port"
    start_gateway "$bin" "$gw_port" "$work/data"
}

# write_nginx_conf FILE NGINX_PORT MOCK_PORT [MORE]: nginx as a plain keep-alive reverse proxy of the mock on
# NGINX_PORT (the benchmarks' reference), its pid and error log in $work; MORE is added inside its http block.
write_nginx_conf() {
    cat > "$1" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log error;
daemon off;
events { worker_connections 4096; }
http {
    access_log off;
    upstream mock { server 127.0.0.1:$3; keepalive 64; }
    server {
        listen 127.0.0.1:$2;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
${4:-}
}
NGINX
}
