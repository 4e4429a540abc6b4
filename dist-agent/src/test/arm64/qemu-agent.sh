#!/usr/bin/env bash
# Runs the packaged agent (dist-agent/target/edgefleet-agent-VERSION.tar.gz) on an arm64 JDK 21 under
# qemu-user-static: `edgefleet profiles probe` (ONNX Runtime's linux-aarch64 natives load, TFLite is
# reported not loadable with the reason) and the agent serving an ONNX model.
# A manual proof for docs/install.md#arm64, not part of `mvn verify`: it downloads Debian trixie's
# openjdk-21-jre-headless:arm64 (about 56 MB), needs qemu-user-static (installed when missing, as root)
# and an x86-64 JDK 21+ (JAVA_HOME or PATH) for the first load. Emulated, each arm64 step takes minutes.
#
# usage: dist-agent/src/test/arm64/qemu-agent.sh [WORK_DIR]     (after ./mvnw -B -DskipTests package)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
W=${1:-/tmp/edgefleet-arm64}
ROOT=$W/rootfs
J=$ROOT/usr/lib/jvm/java-21-openjdk-arm64
TARBALL=$(ls dist-agent/target/edgefleet-agent-*.tar.gz | head -1)
command -v qemu-aarch64-static >/dev/null || apt-get install -y -qq qemu-user-static
mkdir -p "$W/apt/lists/partial" "$W/apt/archives/partial" "$ROOT"

if [ ! -x "$J/bin/java.aarch64" ]; then
  touch "$W/apt/status"
  echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$W/apt/sources.list"
  o=(-oAPT::Architecture=arm64 -oAPT::Architectures=arm64 -oDir::State::Lists="$W/apt/lists" -oDir::State::status="$W/apt/status"
     -oDir::Etc::SourceList="$W/apt/sources.list" -oDir::Etc::SourceParts=/nonexistent -oDir::Cache::Archives="$W/apt/archives"
     -oAPT::Install-Recommends=false)
  apt-get "${o[@]}" update -qq
  apt-get "${o[@]}" install -y -qq --download-only openjdk-21-jre-headless libc6
  for f in "$W"/apt/archives/*.deb; do dpkg -x "$f" "$ROOT"; done
  ln -sfn usr/lib "$ROOT/lib"
  # the JDK's conf files are absolute symlinks into /etc: point them into the unpacked tree
  find "$J" -type l | while read -r l; do t=$(readlink "$l"); case "$t" in /etc/*) ln -sfn "$ROOT$t" "$l";; esac; done
  # without binfmt_misc a child JVM (the first-load verifier) cannot exec an aarch64 binary: wrap java in qemu
  mv "$J/bin/java" "$J/bin/java.aarch64"
  printf '#!/bin/sh\nexec env QEMU_LD_PREFIX=%s qemu-aarch64-static %s/bin/java.aarch64 "$@"\n' "$ROOT" "$J" > "$J/bin/java"
  chmod +x "$J/bin/java"
fi
"$J/bin/java" -version

rm -rf "$W/dist" "$W/data" "$W/models" && mkdir -p "$W/dist" "$W/models"
tar -xzf "$TARBALL" -C "$W/dist"
D=$(ls -d "$W"/dist/edgefleet-agent-*)
X86_JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
cat > "$W/Gen.java" <<'JAVA'
public class Gen { public static void main(String[] a) throws Exception {
    java.nio.file.Path p = io.edgefleet.engines.synth.SyntheticModels.classifierOnnx(java.nio.file.Path.of(a[0]));
    java.nio.file.Files.move(p, java.nio.file.Path.of(a[0], "cls.onnx"));
}}
JAVA
"$X86_JAVA" -cp "$D/lib/*" "$W/Gen.java" "$W/models"
infer() { curl -s -X POST "http://127.0.0.1:$1/v2/models/cls/infer" -H 'content-type: application/json' \
  -d '{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}'; echo; }
ready() { for _ in $(seq 1 "$2"); do curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/health/ready" | grep -q 200 && return 0; sleep 1; done; return 1; }

echo "== profiles probe on linux/aarch64 (emulated)"
JAVA_HOME=$J "$D/bin/edgefleet" profiles probe | grep '^runtime '

# The first load of a model is verified in a child JVM within 60 s: too short under emulation, so an
# x86-64 agent of the same tarball verifies and records it, and the arm64 agent restores that data folder.
echo "== x86-64: first load"
JAVA_HOME=${JAVA_HOME:-} "$D/bin/edgefleet" agent --data-dir "$W/data" --models-dir "$W/models" --http-port 18419 --coap-port -1 > "$W/x86.log" 2>&1 &
pid=$!
ready 18419 60 && echo "x86-64: $(infer 18419)"
kill "$pid"; wait "$pid" || true

echo "== arm64: the same data folder, served (emulated: minutes)"
start=$(date +%s)
JAVA_HOME=$J EDGEFLEET_JAVA_OPTS="-Djdk.lang.Process.launchMechanism=VFORK" \
  "$D/bin/edgefleet" agent --data-dir "$W/data" --http-port 18418 --coap-port -1 > "$W/arm64.log" 2>&1 &
pid=$!
if ready 18418 900; then
  echo "arm64 ready after $(( $(date +%s) - start )) s: $(infer 18418)"
  rc=0
else
  echo "arm64 agent not ready; see $W/arm64.log"; rc=1
fi
kill "$pid"; wait "$pid" || true
exit $rc
