#!/usr/bin/env bash
# bench/json-throughput.sh: the agent's Open Inference Protocol v2 over HTTP, JSON against the binary
# tensor extension, and against a plain Node.js peer on onnxruntime-node (bench/node-peer), on the
# dense model (SyntheticModels.denseOnnx: y = Relu(x W + B), x [1,SIZE] FP32), driven by an
# out-of-process load generator (bench/HttpLoad.java, its own JVM, keep-alive connections in a
# closed loop). Both servers run for the whole run; the load goes to one at a time, alternating
# peer by peer within each round, so all three see the same machine load. Prints requests/s per
# round, the medians, the ratios JSON/binary and JSON/Node at each concurrency, and the load average.
# Next to each rate, the server's CPU time per request (utime+stime of its process over the whole
# load run, warm-up included, divided by the requests answered in it, estimated from the rate): a
# figure the other processes on a busy machine inflate far less than they inflate the rates.
# A warm-up pass (each kind at the highest concurrency, untimed) runs first: without it the first
# rows measure the JIT.
# A developer tool, not a CI test. Needs a JDK 21+, node and npm, curl; run after
# `./mvnw -B -DskipTests verify` (today's agent: the class path ./edgefleet uses).
#
#   bench/json-throughput.sh [--rounds N] [--duration S] [--concurrency "1 4"] [--size N]
#
# The Node peer's onnxruntime-node is installed on first use with `npm install --ignore-scripts`
# (its install script would fetch CUDA binaries; the CPU binding for linux-x64 ships in the package).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=3 duration=8 warmup=3 conc="1 4" size=256
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --concurrency) conc=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "json-throughput: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

source "$root/edgefleet"   # edgefleet_find_jdk
JAVA_HOME=$(edgefleet_find_jdk) || { echo "json-throughput: needs a JDK 21 or newer" >&2; exit 1; }
export JAVA_HOME
java=$JAVA_HOME/bin/java
for tool in node npm curl; do
  command -v $tool >/dev/null || { echo "json-throughput: needs $tool" >&2; exit 1; }
done
[ -f "$root/simulator/target/simulator.jar" ] || { echo "json-throughput: build first (./mvnw -B -DskipTests verify)" >&2; exit 1; }

peer=$root/bench/node-peer
if [ ! -d "$peer/node_modules/onnxruntime-node" ]; then
  (cd "$peer" && npm install --ignore-scripts --no-audit --no-fund >/dev/null)
fi
(cd "$peer" && node -e "require('onnxruntime-node')") \
  || { echo "json-throughput: onnxruntime-node's prebuilt binding does not load here" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/json-throughput.XXXXXX")
agent_pid="" node_pid=""
cleanup() {
  for p in $agent_pid $node_pid; do
    if kill -0 "$p" 2>/dev/null; then kill "$p"; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp="$root/simulator/target/simulator.jar:$root/simulator/target/lib/*"
flags=(--enable-native-access=ALL-UNNAMED -XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError)
[ "$(edgefleet_jdk_version "$JAVA_HOME")" -ge 23 ] && flags+=(--sun-misc-unsafe-memory-access=allow)
mkdir -p "$tmp/models"
model=$("$java" -cp "$root/simulator/target/lib/*" "$root/bench/V2Bodies.java" "$tmp/models" "$size")
name=$(basename "$model" .onnx)
hlen=$(cat "$tmp/models/binary.header-length")
mv "$tmp/models"/*.body "$tmp/models/binary.header-length" "$tmp/"

free_port() { "$java" -XX:TieredStopAtLevel=1 -Xshare:auto "$root/bench/FreePort.java"; }
wait_ready() {
  local port=$1 pid=$2 log=$3 deadline=$((SECONDS + 120))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready"; do
    kill -0 "$pid" 2>/dev/null || { echo "json-throughput: a server exited before it was ready; its log:" >&2; cat "$log" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "json-throughput: not ready within 120 s; its log:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.05
  done
}

agent_port=$(free_port)
"$java" "${flags[@]}" -cp "$cp" io.edgefleet.cli.Main agent --models-dir "$tmp/models" --data-dir "$tmp/agent-data" \
  --http-port "$agent_port" --coap-port 0 > "$tmp/agent.log" 2>&1 &
agent_pid=$!
node_port=$(free_port)
node "$peer/server.js" "$model" "$node_port" > "$tmp/node.log" 2>&1 &
node_pid=$!
wait_ready "$agent_port" "$agent_pid" "$tmp/agent.log"
wait_ready "$node_port" "$node_pid" "$tmp/node.log"

# the three answer the same request; check once that each answers 200 before timing
path=/v2/models/$name/infer
for check in "$agent_port json.body" "$node_port json.body"; do
  set -- $check
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$tmp/$2" "http://127.0.0.1:$1$path")
  [ "$code" = 200 ] || { echo "json-throughput: port $1 answered $code to $2" >&2; exit 1; }
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' -H "Inference-Header-Content-Length: $hlen" \
  --data-binary "@$tmp/binary.body" "http://127.0.0.1:$agent_port$path")
[ "$code" = 200 ] || { echo "json-throughput: the agent answered $code to the binary request" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# load KIND CONNECTIONS [WARMUP_S DURATION_S]: prints "requests/s cpu_us_per_request"
load() {
  local kind=$1 c=$2 out server c0 c1
  local warmup=${3:-$warmup} duration=${4:-$duration}
  server=$agent_pid
  [ "$kind" = node ] && server=$node_pid
  c0=$(cpu_ticks "$server")
  case $kind in
    json) out=$("$java" -Xshare:auto "$root/bench/HttpLoad.java" 127.0.0.1 "$agent_port" "$path" "$tmp/json.body" "$c" "$warmup" "$duration") ;;
    binary) out=$("$java" -Xshare:auto "$root/bench/HttpLoad.java" 127.0.0.1 "$agent_port" "$path" "$tmp/binary.body" "$c" "$warmup" "$duration" \
                "Content-Type: application/octet-stream" "Inference-Header-Content-Length: $hlen") ;;
    node) out=$("$java" -Xshare:auto "$root/bench/HttpLoad.java" 127.0.0.1 "$node_port" "$path" "$tmp/json.body" "$c" "$warmup" "$duration") ;;
  esac
  c1=$(cpu_ticks "$server")
  case $out in *" failed=0") ;; *) echo "json-throughput: failed requests ($kind, $c connections): $out" >&2 ;; esac
  out=${out#requests_per_s=}
  out=${out%% *}
  echo "$out $(awk -v t=$((c1 - c0)) -v hz="$ticks" -v r="$out" -v s=$((warmup + duration)) 'BEGIN { printf "%.0f", t / hz * 1e6 / (r * s) }')"
}

echo "# $(nproc) cores, $("$java" -version 2>&1 | head -n 1), node $(node --version), onnxruntime-node $(node -p "require('$peer/node_modules/onnxruntime-node/package.json').version")"
echo "# model $name (x [1,$size] FP32), JSON body $(wc -c < "$tmp/json.body") bytes, binary body $(wc -c < "$tmp/binary.body") bytes"
echo "# $rounds rounds; each: per concurrency, agent JSON, agent binary, Node JSON in turn (${warmup} s warm-up + ${duration} s counted each)"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
max_c=$(echo $conc | tr ' ' '\n' | sort -g | tail -n 1)
for kind in json binary node; do load "$kind" "$max_c" 2 8 >/dev/null; done
printf '%5s %4s %10s %7s %10s %7s %10s %7s\n' round conc json_req_s cpu_us bin_req_s cpu_us node_req_s cpu_us
for r in $(seq 1 "$rounds"); do
  for c in $conc; do
    j=$(load json "$c"); b=$(load binary "$c"); n=$(load node "$c")
    echo "$c $j $b $n" >> "$tmp/results.txt"
    # shellcheck disable=SC2086
    printf '%5d %4d %10s %7s %10s %7s %10s %7s\n' "$r" "$c" $j $b $n
  done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "# medians; ratios of rates (higher is better for JSON) and of CPU per request (lower is better for JSON)"
printf '%4s %10s %10s %10s %12s %12s %9s %9s %9s %14s %14s\n' conc json_med bin_med node_med json/binary json/node \
  json_cpu bin_cpu node_cpu cpu_json/bin cpu_json/node
for c in $conc; do
  col() { awk -v c="$c" -v k="$1" '$1 == c { print $k }' "$tmp/results.txt" | median; }
  j=$(col 2); jc=$(col 3); b=$(col 4); bc=$(col 5); n=$(col 6); nc=$(col 7)
  printf '%4d %10s %10s %10s %11.2fx %11.2fx %9s %9s %9s %13.2fx %13.2fx\n' "$c" "$j" "$b" "$n" \
    "$(awk -v a="$j" -v b="$b" 'BEGIN { print a / b }')" "$(awk -v a="$j" -v b="$n" 'BEGIN { print a / b }')" \
    "$jc" "$bc" "$nc" "$(awk -v a="$jc" -v b="$bc" 'BEGIN { print a / b }')" "$(awk -v a="$jc" -v b="$nc" 'BEGIN { print a / b }')"
done
