#!/usr/bin/env bash
# bench/engine-overhead.sh: the engine's overhead over the raw ONNX Runtime call on the dense model
# (bench/EngineOverhead.java: paired rounds in one JVM, median and p99 of each, their ratio).
# A developer tool, not a CI test. Needs a JDK 21+ (JAVA_HOME, else java on the PATH); builds inference-engines (and what it needs)
# offline first unless --no-build.
#
#   bench/engine-overhead.sh [--no-build] [SIZE [ROUNDS [CALLS_PER_ROUND]]]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ "${1:-}" = "--no-build" ]; then
  shift
else
  ./mvnw -B -o -q verify -DskipTests -pl inference-engines -am -P'!deb' >/dev/null
fi
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -B -o -q dependency:build-classpath -pl inference-engines -Dmdep.outputFile="$cp_file" >/dev/null
# this checkout's classes, never io.edgefleet jars another build left in the local repository
deps=$(tr ':' '\n' <"$cp_file" | grep -v '/io/edgefleet/' | paste -sd: -)
cp="inference-engines/target/classes:protocols/target/classes:device-profiles/target/classes:testkit/target/classes:$deps"
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" --enable-native-access=ALL-UNNAMED -cp "$cp" bench/EngineOverhead.java "$@"
