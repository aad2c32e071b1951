#!/usr/bin/env bash
# Load test of `vlp serve` with wrk, on loopback only: text queries (varied), image POSTs and
# re-ranked text queries, each at 1, 16 and 64 connections. Prints requests/s, p50 and p99
# latency, errors (socket errors, timeouts and non-2xx answers) per run, and the server's
# resident memory before the first run and after the last.
#
#   Benchmarks/server-load.sh                       # builds this checkout's release vlp
#   Benchmarks/server-load.sh --source /tmp/old --scratch /tmp/old-build --index /tmp/vlp-load/search.index
#
# Options (all optional):
#   --source DIR     package to build (default: this checkout)
#   --scratch DIR    its release build folder (default: DIR/.build-load-release)
#   --index DIR      a search index to serve; made with `vlp demo --quick` when absent
#                    (default: /tmp/vlp-load-demo/search.index, reused when it exists)
#   --duration S     seconds per wrk run (default 20)
#   --port N         loopback port (default 18080)
#   --rerank K       candidates re-ranked by the re-ranked queries (default 10)
#   --kinds "K ..."  which of text, image, rerank to run (default all three)
#   --connections "N ..."  connection counts (default "1 16 64")
#   --soak S         afterwards, S seconds of text, image and re-ranked queries at once (64
#                    connections each), the server's resident memory printed every 30 s
#   --flood N        afterwards, N connections that each send half a request head and stall:
#                    how many were refused at once (503 past the server's cap), how many the
#                    header-read timeout closed and when, and whether a query is answered after
#   --serve-args "…" extra arguments for vlp serve (e.g. "--max-connections 256")
#   --binary PATH    a vlp already built to measure (no build)
# Every build and run is under nice -n 19; the server is stopped when the script ends.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
source_dir=$here
scratch=""
index=/tmp/vlp-load-demo/search.index
duration=20
port=18080
rerank=10
kinds="text image rerank"
connection_counts="1 16 64"
soak=0
flood=0
serve_args=""
binary=""
while [ $# -gt 0 ]; do
    case $1 in
        --source) source_dir=$(cd "$2" && pwd); shift 2 ;;
        --scratch) scratch=$2; shift 2 ;;
        --index) index=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        --rerank) rerank=$2; shift 2 ;;
        --kinds) kinds=$2; shift 2 ;;
        --connections) connection_counts=$2; shift 2 ;;
        --soak) soak=$2; shift 2 ;;
        --flood) flood=$2; shift 2 ;;
        --serve-args) serve_args=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
    esac
done
scratch=${scratch:-$source_dir/.build-load-release}
# Vocabularies (assets/) are found here when the checkout measured has none of its own.
export VLP_ROOT=${VLP_ROOT:-$here}
command -v wrk > /dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
command -v curl > /dev/null || { echo "curl is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/vlp-load.XXXXXX)
server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2> /dev/null; then
        kill "$server_pid"
        for _ in $(seq 1 100); do kill -0 "$server_pid" 2> /dev/null || break; sleep 0.1; done
    fi
    rm -rf "$work"
}
trap stop_server EXIT

if [ -n "$binary" ]; then
    vlp=$binary
    [ -x "$vlp" ] || { echo "--binary $vlp is not an executable" >&2; exit 2; }
else
    echo "building the release vlp of $source_dir in $scratch"
    (cd "$source_dir" && nice -n 19 swift build -c release --product vlp --scratch-path "$scratch" > "$work/build.log" 2>&1) \
        || { tail -20 "$work/build.log"; exit 1; }
    vlp=$scratch/release/vlp
fi

if [ ! -f "$index/manifest.json" ]; then
    demo=$(dirname "$index")
    echo "no index at $index: training one with vlp demo --quick --out $demo"
    (cd "$source_dir" && nice -n 19 "$vlp" demo --quick --out "$demo" > "$work/demo.log" 2>&1) || { tail -20 "$work/demo.log"; exit 1; }
    [ -f "$index/manifest.json" ] || { echo "vlp demo made no $index" >&2; exit 1; }
fi

# The server's log goes to a file: with one line a request, a terminal would slow it down.
# shellcheck disable=SC2086  # serve_args is a list of arguments
(cd "$source_dir" && exec nice -n 19 "$vlp" serve --index "$index" --host 127.0.0.1 --port "$port" $serve_args > "$work/serve.log" 2>&1) &
server_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 1 1200); do
    grep -q "serving" "$work/serve.log" 2> /dev/null && break
    kill -0 "$server_pid" 2> /dev/null || { cat "$work/serve.log"; exit 1; }
    sleep 0.1
done
grep -q "serving" "$work/serve.log" || { echo "vlp serve did not start in 120 s" >&2; cat "$work/serve.log"; exit 1; }
# The shell's child is `nice`, which exec'd vlp: the same process.
rss() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status"; }

curl -sf -o "$work/query.png" "$base/images/0" || { echo "could not fetch $base/images/0" >&2; exit 1; }

# Queries vary (wrk would otherwise send one URL); each is percent-encoded by the script.
cat > "$work/queries.lua" << 'EOF'
local queries = {
    "两个绿色的圆形", "一个红色的正方形在左边", "three blue triangles", "a yellow circle above a green square",
    "一只在草地上奔跑的狗", "两个蓝色的三角形和一个红色的圆形", "small red squares", "黄色的三角形在右边",
    "a big green circle", "紫色的正方形", "two circles and one square", "一个白色的圆形在上面",
}
local function encode(text)
    return (text:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local counter = 0
request = function()
    counter = counter + 1
    return wrk.format("GET", "/api/search?k=10" .. extra .. "&q=" .. encode(queries[counter % #queries + 1]))
end
EOF
cat > "$work/report.lua" << 'EOF'
done = function(summary, latency, requests)
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write
        + summary.errors.status + summary.errors.timeout
    io.write(string.format("RESULT %.1f %.1f %.1f %d %d\n", summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, summary.requests))
end
EOF
{ echo 'extra = ""'; cat "$work/queries.lua" "$work/report.lua"; } > "$work/text.lua"
{ echo "extra = \"&rerank=$rerank\""; cat "$work/queries.lua" "$work/report.lua"; } > "$work/rerank.lua"
{
    echo 'wrk.method = "POST"'
    echo "local file = io.open(\"$work/query.png\", \"rb\"); wrk.body = file:read(\"*a\"); file:close()"
    echo 'wrk.headers["Content-Type"] = "image/png"'
    echo 'wrk.path = "/api/search/image?k=10"'
    cat "$work/report.lua"
} > "$work/image.lua"

rss_start=$(rss)
printf "%-7s %5s %10s %10s %10s %8s %9s\n" kind conns "req/s" "p50 ms" "p99 ms" errors requests
for kind in $kinds; do
    for connections in $connection_counts; do
        threads=$((connections < 2 ? 1 : 2))
        line=$(nice -n 19 wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 10s -s "$work/$kind.lua" "$base" | grep '^RESULT') \
            || { echo "wrk failed for $kind at $connections connections" >&2; exit 1; }
        read -r _ rate p50 p99 errors requests <<< "$line"
        printf "%-7s %5d %10s %10s %10s %8s %9s\n" "$kind" "$connections" "$rate" "$p50" "$p99" "$errors" "$requests"
    done
done
rss_end=$(rss)
echo "server resident memory: ${rss_start} MiB at start, ${rss_end} MiB at end"

if [ "$soak" -gt 0 ]; then
    echo "soak: text, image and re-ranked queries at once, 64 connections each, $soak s"
    pids=()
    for kind in text image rerank; do
        nice -n 19 wrk -t1 -c64 -d"${soak}s" --timeout 10s -s "$work/$kind.lua" "$base" > "$work/soak-$kind.txt" &
        pids+=($!)
    done
    printf "%6s %8s\n" seconds "RSS MiB"
    printf "%6d %8s\n" 0 "$(rss)"
    for elapsed in $(seq 30 30 "$soak"); do
        sleep 30
        printf "%6d %8s\n" "$elapsed" "$(rss)"
    done
    wait "${pids[@]}"
    for kind in text image rerank; do
        read -r _ rate p50 p99 errors requests <<< "$(grep '^RESULT' "$work/soak-$kind.txt")"
        echo "soak $kind: $rate req/s, p50 $p50 ms, p99 $p99 ms, $errors errors, $requests requests"
    done
fi

if [ "$flood" -gt 0 ]; then
    echo "flood: $flood connections, each with half a request head"
    ulimit -n $((flood + 256))
    python3 - "$port" "$flood" "$base" << 'PY'
import socket, sys, time, select, urllib.request, urllib.error
port, count, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sockets = []
start = time.monotonic()
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    s.setblocking(False)
    sockets.append(s)
opened = time.monotonic() - start
refused, closed_at, pending = 0, [], {s.fileno(): s for s in sockets}
received = {fd: b"" for fd in pending}
# poll, not select: select cannot watch descriptors past 1023.
poller = select.poll()
for fd in pending:
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
deadline = time.monotonic() + 30
while pending and time.monotonic() < deadline:
    for fd, _ in poller.poll(500):
        s = pending[fd]
        ended = False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    ended = True
                    break
                received[fd] += chunk
        except BlockingIOError:
            pass
        except ConnectionResetError:
            ended = True
        if not ended:
            continue
        if received[fd].startswith(b"HTTP/1.1 503"):
            refused += 1
        else:
            closed_at.append(time.monotonic() - start)
        poller.unregister(fd)
        del pending[fd]
        s.close()
print(f"opened {count} in {opened:.1f} s; refused at once with 503: {refused}; "
      f"closed by the server without an answer: {len(closed_at)} "
      f"(first at {min(closed_at, default=0):.1f} s, last at {max(closed_at, default=0):.1f} s); still open after 30 s: {len(pending)}")
try:
    with urllib.request.urlopen(base + "/api/search?q=two+green+circles&k=3", timeout=10) as answer:
        print(f"a query after the flood: HTTP {answer.status}")
except urllib.error.URLError as error:
    print(f"a query after the flood failed: {error}")
PY
    echo "server resident memory after the flood: $(rss) MiB"
fi
