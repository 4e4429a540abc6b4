#!/usr/bin/env bash
# bench/agent-footprint.sh: today's agent (what the developer launcher ./edgefleet runs: the full class path,
# default JVM flags) against the packaged agent (bin/edgefleet-agent of the agent distribution: its
# own lib/ and conf/jvm.options), started alternately in the same run, one small model each.
# A developer tool, not a CI test. Needs a JDK 21+ and curl; run after `./mvnw -B -DskipTests package`.
# "Today's agent" is the java command line that ./edgefleet execs (simulator/target: every module's
# jars, 150 of them; --enable-native-access, -XX:MaxRAMPercentage=50, -XX:+ExitOnOutOfMemoryError).
#
#   bench/agent-footprint.sh [--runs N] [--model FILE --body FILE] [--agent-home DIR]
#                            [--connections N] [--duration S]
#
# Per start it prints:
#   ready_ms   process start until GET /v2/health/ready answers 200 (polled every 10 ms)
#   cpu_ms     CPU time the agent (and its model-verifier child) used until then: start cost that a
#              busy machine does not inflate the way it inflates wall time
#   idle_rss   VmRSS (/proc/PID/status) after IDLE_S seconds idle, in MiB
#   req_s      requests/s of POST /v2/models/NAME/infer from an out-of-process load generator
#              (bench/HttpLoad.java, its own JVM, CONNECTIONS keep-alive connections, 3 s warm-up)
#   load_rss   VmRSS right after the load
#   re_ready_ms, re_cpu_ms  the same agent restarted on the data folder of that start (a device's reboot:
#              the model is already installed there, so it loads in-process without the verifier child)
# Before the table, the packaged agent's idle RSS grouped by mapping (/proc/PID/smaps: the AOT cache or CDS
# archives, libjvm.so, the model runtime's library, [anon] for heap, malloc, JIT code and stacks).
# then the medians and the ratios packaged/today. The packaged agent's first start (not timed)
# writes its AppCDS archive (JDK 21-24) or trains its AOT cache (JDK 25+; then one more untimed start
# lets the launcher check it) into a temporary EDGEFLEET_CACHE_DIR, as a device's first boot does.
# --agent-home: an unpacked distribution (default: dist-agent/target/edgefleet-agent-*.tar.gz
# unpacked into a temporary folder). --model: a model file (default: hello_world_float.tflite from
# ../shared/models when present, else a synthetic 4-input classifier) and --body the JSON v2
# inference request for it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=5 connections=2 duration=10 idle=5 model="" body="" home=""
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --body) body=$2; shift 2 ;;
    --agent-home) home=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "agent-footprint: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$model" ] && [ -z "$body" ] && { echo "agent-footprint: --model needs --body (a v2 inference request for it)" >&2; exit 2; }

source "$root/edgefleet"   # edgefleet_find_jdk
JAVA_HOME=$(edgefleet_find_jdk) || { echo "agent-footprint: needs a JDK 21 or newer" >&2; exit 1; }
export JAVA_HOME
java=$JAVA_HOME/bin/java
command -v curl >/dev/null || { echo "agent-footprint: needs curl" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agent-footprint.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$home" ]; then
  tarball=$(ls "$root"/dist-agent/target/edgefleet-agent-*.tar.gz 2>/dev/null | head -n 1 || true)
  [ -n "$tarball" ] || { echo "agent-footprint: no dist-agent/target/edgefleet-agent-*.tar.gz; run ./mvnw -B -DskipTests package first" >&2; exit 1; }
  mkdir -p "$tmp/dist"
  tar -xzf "$tarball" -C "$tmp/dist"
  home=$(echo "$tmp"/dist/edgefleet-agent-*)
fi
[ -x "$home/bin/edgefleet-agent" ] || { echo "agent-footprint: $home has no bin/edgefleet-agent" >&2; exit 1; }
[ -f "$root/simulator/target/simulator.jar" ] || { echo "agent-footprint: build first (./mvnw -B -DskipTests package)" >&2; exit 1; }

# Today's agent: the java command ./edgefleet execs (its flags and class path), without its
# rebuild-when-sources-look-newer step, which would otherwise land in the timings.
today_cp="$root/simulator/target/simulator.jar:$root/simulator/target/lib/*"
today_flags=(--enable-native-access=ALL-UNNAMED -XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError)
[ "$(edgefleet_jdk_version "$JAVA_HOME")" -ge 23 ] && today_flags+=(--sun-misc-unsafe-memory-access=allow)

mkdir -p "$tmp/models"
if [ -z "$model" ] && [ -f "$root/../shared/models/hello_world/hello_world_float.tflite" ]; then
  model=$root/../shared/models/hello_world/hello_world_float.tflite
  printf '{"inputs":[{"name":"serving_default_dense_input:0","shape":[1,1],"datatype":"FP32","data":[0.5]}]}' > "$tmp/body.json"
elif [ -z "$model" ]; then
  # A synthetic classifier written by the project's own generator (TFLite, float x[-1,4] -> probs[-1,3]).
  cat > "$tmp/Synth.java" <<'JAVA'
public class Synth { public static void main(String[] a) { System.out.println(io.edgefleet.engines.synth.SyntheticModels.classifierTflite(java.nio.file.Path.of(a[0]))); } }
JAVA
  model=$("$java" -cp "$home/lib/*" "$tmp/Synth.java" "$tmp")
  printf '{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[0.1,0.2,0.3,0.4]}]}' > "$tmp/body.json"
else
  cp "$body" "$tmp/body.json"
fi
name=$(basename "$model"); name=${name%.*}; name=$(echo "$name" | tr -c 'A-Za-z0-9_.\n-' '-')
cp "$model" "$tmp/models/$name.${model##*.}"
export EDGEFLEET_CACHE_DIR=$tmp/cache   # the packaged agent's CDS archive lands here
unset EDGEFLEET_JAVA_OPTS EDGEFLEET_JVM_OPTIONS_FILE EDGEFLEET_CONFIG

free_port() { "$java" -XX:TieredStopAtLevel=1 -Xshare:auto "$root/bench/FreePort.java"; }
ticks=$(getconf CLK_TCK)

# start KIND PORT [DATA]: starts one agent in the background (on a new data folder unless DATA), sets $pid and $data
start() {
  local kind=$1 port=$2
  data=${3:-$tmp/data-$kind-$RANDOM}
  local -a args=(--models-dir "$tmp/models" --data-dir "$data" --http-port "$port" --coap-port 0)
  case $kind in
    today) "$java" "${today_flags[@]}" -cp "$today_cp" io.edgefleet.cli.Main agent "${args[@]}" > "$tmp/$kind.log" 2>&1 & ;;
    packaged) "$home/bin/edgefleet-agent" "${args[@]}" > "$tmp/$kind.log" 2>&1 & ;;
  esac
  pid=$!
}

wait_ready() {
  local port=$1 deadline=$((SECONDS + 120))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready"; do
    kill -0 "$pid" 2>/dev/null || { echo "agent-footprint: the agent exited before it was ready; its log:" >&2; cat "$tmp"/*.log >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "agent-footprint: not ready within 120 s; its log and threads:" >&2; cat "$tmp"/*.log >&2
                                    "$JAVA_HOME/bin/jcmd" "$pid" Thread.print >&2 || true; kill -9 "$pid"; exit 1; }
    sleep 0.01
  done
}

rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
cpu_ms() { awk -v t="$ticks" '{ sub(/^.*\) /, ""); print int(($12 + $13 + $14 + $15) * 1000 / t) }' "/proc/$1/stat"; }

stop() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

# measure KIND: one start and one restart, prints "ready_ms cpu_ms idle_rss req_s load_rss re_ready_ms re_cpu_ms"
measure() {
  local kind=$1 port t0 t1 cpu irss load lrss rt0 rt1 rcpu
  port=$(free_port)
  t0=$(date +%s%N)
  start "$kind" "$port"
  wait_ready "$port"
  t1=$(date +%s%N)
  cpu=$(cpu_ms "$pid")
  sleep "$idle"
  irss=$(rss_mib "$pid")
  load=$("$java" -Xshare:auto "$root/bench/HttpLoad.java" 127.0.0.1 "$port" "/v2/models/$name/infer" "$tmp/body.json" \
         "$connections" 3 "$duration")
  case $load in *" failed=0") ;; *) echo "agent-footprint: failed requests against $kind: $load" >&2 ;; esac
  load=${load#requests_per_s=}; load=${load%% *}
  lrss=$(rss_mib "$pid")
  stop
  port=$(free_port)
  rt0=$(date +%s%N)
  start "$kind" "$port" "$data"
  wait_ready "$port"
  rt1=$(date +%s%N)
  rcpu=$(cpu_ms "$pid")
  stop
  echo "$(( (t1 - t0) / 1000000 )) $cpu $irss $load $lrss $(( (rt1 - rt0) / 1000000 )) $rcpu"
}

echo "# $(nproc) cores, $("$java" -version 2>&1 | head -n 1), model $name ($(wc -c < "$model") bytes), $runs starts each, alternating"
echo "# packaged: $home; JVM options: $(grep -v '^[[:space:]]*#' "$home/conf/jvm.options" | grep -v '^[[:space:]]*$' | tr '\n' ' ')"
echo "# first start of the packaged agent (writes its CDS archive, or on JDK 25+ trains its AOT cache; not counted)"
port=$(free_port); start packaged "$port"; wait_ready "$port"; stop
if [ -f "$EDGEFLEET_CACHE_DIR/agent.aot.state" ]; then
  # the launcher checks a new AOT cache once, at the start after training: not counted either
  port=$(free_port); start packaged "$port"; wait_ready "$port"; stop
  echo "# AOT cache state: $(cat "$EDGEFLEET_CACHE_DIR/agent.aot.state")"
fi
echo "# archive after it: $(ls -l "$EDGEFLEET_CACHE_DIR"/*.jsa "$EDGEFLEET_CACHE_DIR"/*.aot 2>/dev/null | awk '{ printf "%s %.1f MiB ", $NF, $5 / 1048576 }' || true)"
# Where the packaged agent's idle RSS goes: /proc/PID/smaps grouped by what is mapped (a file's base name, or
# [anon]: Java heap, malloc, JIT code, thread stacks). "anon" is the anonymous (private, written) part of each,
# e.g. the AOT cache's read-write region; the rest of a file's RSS is clean page-cache pages (shared, droppable).
port=$(free_port); start packaged "$port"; wait_ready "$port"; sleep "$idle"
echo "# packaged agent, idle RSS by mapping (MiB; mappings of 0.5 MiB or more):"
awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; sub(/.*\//, "", name); next }
     /^Rss:/ { rss[name] += $2; total += $2 }
     /^Anonymous:/ { anon[name] += $2 }
     END { for (n in rss) if (rss[n] >= 512) printf "#   %8.1f rss %8.1f anon  %s\n", rss[n] / 1024, anon[n] / 1024, n
           printf "#   %8.1f rss in all\n", total / 1024 }' "/proc/$pid/smaps" | sort -k2 -g -r
stop
printf '%-9s %4s %9s %8s %9s %9s %9s %11s %9s\n' kind run ready_ms cpu_ms idle_MiB req_s load_MiB re_ready_ms re_cpu_ms
: > "$tmp/today.txt"; : > "$tmp/packaged.txt"
for i in $(seq 1 "$runs"); do
  for kind in today packaged; do
    r=$(measure "$kind")
    echo "$r" >> "$tmp/$kind.txt"
    # shellcheck disable=SC2086
    printf '%-9s %4d %9s %8s %9s %9s %9s %11s %9s\n' "$kind" "$i" $r
  done
done
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "# medians and ratios (packaged / today)"
printf '%-9s %9s %8s %9s %9s %9s %11s %9s\n' "" ready_ms cpu_ms idle_MiB req_s load_MiB re_ready_ms re_cpu_ms
declare -A med
for kind in today packaged; do
  line=""
  for col in 1 2 3 4 5 6 7; do
    m=$(cut -d' ' -f"$col" "$tmp/$kind.txt" | median)
    med[$kind$col]=$m; line="$line $m"
  done
  # shellcheck disable=SC2086
  printf '%-9s %9s %8s %9s %9s %9s %11s %9s\n' "$kind" $line
done
printf '%-9s' ratio
for col in 1 2 3 4 5 6 7; do printf ' %8.2fx' "$(awk -v a="${med[packaged$col]}" -v b="${med[today$col]}" 'BEGIN { print a / b }')"; done
echo
