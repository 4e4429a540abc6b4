#!/usr/bin/env bash
# bench/sync-link.sh: `./edgefleet model sync-bench` with the loopback interface shaped to the speed of a
# real link, so that model sync and curl fetch the same bytes from the same server over a "wire" of a
# known rate (issue 19: "sync at wire speed"), then once more unshaped (loopback at memory speed, where
# the download is bound by the CPU of a 2-core machine shared with the server, not by any wire).
# A developer tool, not a CI test. Needs root (or sudo) for tc, Debian's iproute2, curl and a JDK 21+.
#
#   bench/sync-link.sh [--runs N] [RATE ...]        RATE as tc writes it: 100mbit 1gbit 2500mbit (default)
#
# How: a token-bucket filter on lo (`tc qdisc add dev lo root tbf rate RATE burst 1mb latency 50ms`)
# for the length of one sync-bench invocation, removed afterwards (also on Ctrl-C or an error). It
# shapes every loopback packet of this machine: run it on a machine doing nothing else. It refuses to
# start when lo already has a root qdisc of its own (it would replace somebody's setting).
# Prints each run's "ratios:" line (full download vs curl of the same resource, delta and resume
# shares) and a table at the end. Exit 2 for a bad argument (checked before lo is touched), 1 when tc or
# the benchmark fails (the shaping removed either way). About 4 minutes for the three default rates.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
rates=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:-}"; shift; [ $# -gt 0 ] && shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "sync-link: unknown option $1" >&2; exit 2 ;;
    *) rates+=("$1"); shift ;;
  esac
done
[ ${#rates[@]} -gt 0 ] || rates=(100mbit 1gbit 2500mbit)
# everything checked before lo is touched: a bad argument must not leave a link shaped for a whole run
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "sync-link: --runs takes a whole number of runs, 1 or more (got '${runs}')" >&2
  exit 2
fi
for rate in "${rates[@]}"; do
  if ! [[ "$rate" =~ ^[0-9]+(\.[0-9]+)?([kmgt]?bit|[kmgt]?bps)$ ]]; then
    echo "sync-link: '$rate' is not a rate as tc writes it (e.g. 100mbit, 1gbit, 2500mbit)" >&2
    exit 2
  fi
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v tc >/dev/null 2>&1; then
  echo "sync-link: tc not found (Debian package iproute2)" >&2
  exit 1
fi
if ! $sudo tc qdisc show dev lo | grep -q '^qdisc noqueue'; then
  echo "sync-link: lo already has a root qdisc ($($sudo tc qdisc show dev lo | head -1)); not replacing it" >&2
  exit 1
fi
# the jars first (the launcher builds them when missing or older than the sources): never a build on a shaped lo
./edgefleet model sync-bench --help >/dev/null
shaped=0
unshape() {
  if [ "$shaped" -eq 1 ]; then
    $sudo tc qdisc del dev lo root 2>/dev/null || true
    shaped=0
  fi
}
trap unshape EXIT
trap 'exit 130' INT   # exiting runs the EXIT trap: the shaping goes, no later rate is shaped
trap 'exit 143' TERM

summary=()
bench() { # label
  local out
  out=$(./edgefleet model sync-bench --runs "$runs" 2>&1) || { echo "$out" >&2; return 1; }
  local curl ratio perrun cpu
  curl=$(sed -n 's/^  curl of the same resource .*one request): \([0-9]*\) MiB\/s.*/\1/p' <<<"$out")
  ratio=$(sed -n 's/^  curl of the same resource .*model sync \([0-9.]*\)x of it.*/\1/p' <<<"$out")
  perrun=$(sed -n 's/^  curl of the same resource .*(per-run ratios \([0-9. ]*\)).*/\1/p' <<<"$out")
  cpu=$(sed -n 's/^  CPU time .*: \([0-9.]*\)x$/\1/p' <<<"$out")
  grep '^ratios:' <<<"$out" | sed "s/^/$1: /"
  summary+=("$(printf '%-22s %9s %8s   %-28s %s' "$1" "${curl:-?}" "${ratio:-?}x" "${perrun:-?}" "${cpu:-?}x")")
}

for rate in "${rates[@]}"; do
  $sudo tc qdisc add dev lo root tbf rate "$rate" burst 1mb latency 50ms
  shaped=1
  bench "link $rate"
  unshape
done
bench "loopback, unshaped"

echo
echo "model sync's full download against curl of the same resource, $runs runs each after a warm-up, medians ($(nproc) cores):"
printf '%-22s %9s %8s   %-28s %s\n' "link" "curl MiB/s" "sync/curl" "per-run ratios" "CPU curl+server / sync+server"
printf '%s\n' "${summary[@]}"
