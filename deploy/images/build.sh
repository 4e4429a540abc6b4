#!/usr/bin/env bash
# Builds the container images edgefleet-cloud and edgefleet-agent from the distribution tarballs,
# without a Docker daemon and without pulling anything from an image registry:
#   1. a Debian root filesystem (mmdebstrap, variant minbase: libc, libstdc++ for ONNX Runtime,
#      CA certificates) with the user edgefleet (uid/gid 10001) and /var/lib/edgefleet;
#   2. per image, a Java runtime jlinked from the JDK with the modules jdeps finds in the
#      distribution's lib/ (plus a few loaded by reflection or service lookup);
#   3. buildah assembles base + runtime + the distribution's own layout under /opt/edgefleet,
#      commits OCI images and writes them as OCI archives.
#
# Usage: deploy/images/build.sh [--only cloud|agent] [--dist-dir DIR] [--out DIR]
#   --dist-dir  where edgefleet-{cloud,agent}-VERSION.tar.gz are (default: dist-cloud/target and
#               dist-agent/target, from `./mvnw -B -DskipTests package`)
#   --out       where the archives go (default: target/images)
# Environment: JAVA_HOME (the JDK whose jlink and jdeps are used; 21 or newer), DEBIAN_SUITE
# (bookworm), DEBIAN_MIRROR (mmdebstrap's default when unset), BUILDAH_ISOLATION (chroot).
# Output: OUT/edgefleet-cloud-VERSION.oci.tar and OUT/edgefleet-agent-VERSION.oci.tar
#   podman load -i target/images/edgefleet-cloud-VERSION.oci.tar
# Needs root or a user namespace for mmdebstrap and buildah (apt-get install mmdebstrap buildah).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/target/images"
DIST_DIRS=("$ROOT/dist-cloud/target" "$ROOT/dist-agent/target")
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --dist-dir) DIST_DIRS=("$2"); shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

SUITE="${DEBIAN_SUITE:-bookworm}"
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"
JDK="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v jlink || echo /nonexistent/bin/jlink)")")")}"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "build.sh: $1 not found; install it: $2" >&2; exit 1; }
}
need mmdebstrap "apt-get install mmdebstrap"
need buildah "apt-get install buildah"
need unzip "apt-get install unzip"
[ -x "$JDK/bin/jlink" ] && [ -x "$JDK/bin/jdeps" ] || {
  echo "build.sh: no jlink/jdeps under JAVA_HOME=$JDK; set JAVA_HOME to a JDK 21 or newer" >&2; exit 1; }

find_dist() { # $1 = cloud|agent -> path of edgefleet-$1-VERSION.tar.gz
  local f
  for d in "${DIST_DIRS[@]}"; do
    for f in "$d"/edgefleet-"$1"-*.tar.gz; do
      [ -f "$f" ] && { echo "$f"; return 0; }
    done
  done
  echo "build.sh: no edgefleet-$1-VERSION.tar.gz in ${DIST_DIRS[*]}; build it: ./mvnw -B -DskipTests package" >&2
  return 1
}

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-images.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 1. the base root filesystem, cached in OUT (delete it to rebuild: Debian security updates)
ROOTFS="$OUT/rootfs-$SUITE.tar"
if [ ! -s "$ROOTFS" ]; then
  echo "== root filesystem: Debian $SUITE minbase (mmdebstrap)"
  # shellcheck disable=SC2016 # the hooks' "$1" is mmdebstrap's, not ours
  mmdebstrap --variant=minbase --format=tar --include=libstdc++6,ca-certificates,tzdata \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='echo "edgefleet:x:10001:10001:EdgeFleet:/var/lib/edgefleet:/usr/sbin/nologin" >> "$1/etc/passwd"' \
    --customize-hook='echo "edgefleet:x:10001:" >> "$1/etc/group"' \
    --customize-hook='echo "edgefleet:!:19000::::::" >> "$1/etc/shadow"' \
    --customize-hook='mkdir -p "$1/var/lib/edgefleet" && chown 10001:10001 "$1/var/lib/edgefleet" && chmod 0750 "$1/var/lib/edgefleet"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
    "$SUITE" "$ROOTFS.part" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"}
  mv "$ROOTFS.part" "$ROOTFS"
fi

BASE="edgefleet-base:$SUITE"
echo "== base image $BASE"
c=$(buildah from scratch)
buildah add --quiet "$c" "$ROOTFS" / >/dev/null
buildah config --created-by "deploy/images/build.sh: mmdebstrap --variant=minbase $SUITE" "$c"
buildah commit --quiet --rm --format oci "$c" "$BASE" >/dev/null

# jdeps misses what is loaded by name: TLS EC curves and PKCS#11-free providers (jdk.crypto.ec),
# zip file systems (jdk.zipfs), DNS lookups by JNDI (jdk.naming.dns), JMX memory/thread beans
# (jdk.management), JFR for diagnosis (jdk.jfr), charsets beyond the basic ones (jdk.charsets).
EXTRA_MODULES="jdk.crypto.ec,jdk.zipfs,jdk.naming.dns,jdk.management,jdk.jfr,jdk.charsets,jdk.localedata"

image() { # $1 = cloud|agent, $2 = launcher, $3 = description, $4 = port list, $5... = env
  local kind="$1" launcher="$2" description="$3" ports="$4"; shift 4
  local tarball version stage modules name archive
  tarball=$(find_dist "$kind")
  version=$(basename "$tarball" .tar.gz); version=${version#edgefleet-"$kind"-}
  name="edgefleet-$kind:$version"
  archive="$OUT/edgefleet-$kind-$version.oci.tar"
  stage="$WORK/$kind"
  mkdir -p "$stage/edgefleet"
  echo "== $name from $(basename "$tarball")"
  tar -xzf "$tarball" -C "$stage/edgefleet" --strip-components=1 --no-same-owner
  [ -x "$stage/edgefleet/bin/$launcher" ] || { echo "build.sh: $tarball has no bin/$launcher" >&2; exit 1; }
  # jdeps over the jars themselves stops at modular jars whose requirements are absent
  # ("Module org.apache.commons.codec not found") or whose automatic names are invalid (DJL's
  # tflite natives), so it reads their classes as one class path instead
  local j
  mkdir -p "$stage/classes"
  for j in "$stage"/edgefleet/lib/*.jar; do
    unzip -qo "$j" '*.class' -x 'module-info.class' 'META-INF/*' -d "$stage/classes" 2>/dev/null || true
  done
  modules=$("$JDK/bin/jdeps" --ignore-missing-deps --print-module-deps "$stage/classes")
  rm -rf "$stage/classes"
  modules=$(echo "$modules,$EXTRA_MODULES" | tr ',' '\n' | sort -u | paste -sd, -)
  echo "   jlink modules: $modules"
  "$JDK/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages \
    --no-header-files --compress=zip-6 --generate-cds-archive --output "$stage/java"

  c=$(buildah from --pull-never "$BASE")
  buildah copy --quiet --chown 0:0 "$c" "$stage/java" /opt/java >/dev/null
  buildah copy --quiet --chown 0:0 "$c" "$stage/edgefleet" /opt/edgefleet >/dev/null
  local args=(--env JAVA_HOME=/opt/java --env PATH=/opt/java/bin:/opt/edgefleet/bin:/usr/sbin:/usr/bin:/sbin:/bin
    --env LANG=C.UTF-8 --user 10001:10001 --workingdir /var/lib/edgefleet --volume /var/lib/edgefleet
    --entrypoint "[\"/opt/edgefleet/bin/$launcher\"]" --cmd '[]' --stop-signal SIGTERM
    --label "org.opencontainers.image.title=edgefleet-$kind"
    --label "org.opencontainers.image.description=$description"
    --label "org.opencontainers.image.version=$version"
    --label "org.opencontainers.image.licenses=Apache-2.0"
    --label "org.opencontainers.image.vendor=EdgeFleet"
    --label "org.opencontainers.image.base.name=debian:$SUITE (mmdebstrap minbase, built locally)"
    --label "org.opencontainers.image.revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
    --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    --label "io.edgefleet.health=GET /observe/health/live (liveness), /observe/health/ready (readiness)")
  local p e
  for p in $ports; do args+=(--port "$p"); done
  for e in "$@"; do args+=(--env "$e"); done
  buildah config "${args[@]}" "$c"
  buildah commit --quiet --rm --format oci "$c" "$name" >/dev/null
  rm -f "$archive"
  buildah push --quiet "$name" "oci-archive:$archive:$name"
  echo "   $archive ($(du -h "$archive" | cut -f1))"
}

if [ -z "$ONLY" ] || [ "$ONLY" = cloud ]; then
  # HTTPS on every interface of the container; data (SQLite, chunks, keys, pki) in the volume
  image cloud edgefleet-cloud "EdgeFleet control plane: role control, ingest, inference or all (CLOUD_ROLES)" "8080/tcp" \
    CLOUD_HTTP_HOST=0.0.0.0 CLOUD_ROLES=control,ingest
fi
if [ -z "$ONLY" ] || [ "$ONLY" = agent ]; then
  image agent edgefleet-agent "EdgeFleet edge agent: Open Inference Protocol v2 over HTTP, CoAP, MQTT" "8000/tcp 5683/udp" \
    AGENT_HTTP_HOST=0.0.0.0
fi
