#!/bin/bash
# Builds edgefleet-agent_DEBVERSION_all.deb from the agent distribution tarball, with dpkg-deb only
# (no debhelper, no fakeroot: --root-owner-group makes every file root's).
# gzip, not xz: the payload is jars, already deflated; xz would take minutes for a few per cent.
#
#   build-deb.sh TARBALL OUTDIR
#
# TARBALL is edgefleet-agent-VERSION.tar.gz (top folder edgefleet-agent-VERSION/ with bin/, lib/,
# conf/agent.yaml, conf/jvm.options, README.md); the Debian version is the Maven one with '-'
# turned into '~' (0.1.0-SNAPSHOT -> 0.1.0~SNAPSHOT, which sorts before 0.1.0). Prints the .deb's
# path. SOURCE_DATE_EPOCH, when set, dates every file (reproducible builds); else the tarball's
# modification time does.
#
# Layout: the program under /usr/lib/edgefleet-agent (the tarball's bin/ and lib/, unchanged, and
# conf -> /etc/edgefleet), /usr/bin/edgefleet, configuration in /etc/edgefleet (conffiles), the unit
# /lib/systemd/system/edgefleet-agent.service, data in /var/lib/edgefleet (made by postinst).
set -euo pipefail

usage() { echo "usage: $0 TARBALL OUTDIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
tarball=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
pkg=edgefleet-agent

[ -f "$tarball" ] || { echo "$0: no tarball at $tarball" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "$0: dpkg-deb not found (apt-get install dpkg)" >&2; exit 1; }
name=$(basename "$tarball")
case "$name" in
    $pkg-*.tar.gz) version=${name#"$pkg"-}; version=${version%.tar.gz} ;;
    *) echo "$0: $name is not named $pkg-VERSION.tar.gz" >&2; exit 1 ;;
esac
debversion=${version//-/\~}
if ! [[ "$debversion" =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
    echo "$0: version $version does not make a Debian version ($debversion)" >&2
    exit 1
fi
epoch=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$tarball")}

mkdir -p "$out"
out=$(cd "$out" && pwd)
work="$out/deb-build"
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/unpacked"
root="$work/root"
tar -xzf "$tarball" -C "$work/unpacked"
dist="$work/unpacked/$pkg-$version"
for f in bin/edgefleet bin/edgefleet-agent conf/agent.yaml conf/jvm.options; do
    [ -f "$dist/$f" ] || { echo "$0: the tarball has no $pkg-$version/$f" >&2; exit 1; }
done
compgen -G "$dist/lib/*.jar" >/dev/null || { echo "$0: the tarball has no $pkg-$version/lib/*.jar" >&2; exit 1; }

# the program
prog="$root/usr/lib/$pkg"
install -d -m 0755 "$prog" "$root/usr/bin" "$root/etc/edgefleet" "$root/lib/systemd/system" "$root/usr/share/doc/$pkg" "$root/DEBIAN"
cp -R "$dist/bin" "$dist/lib" "$prog/"
ln -s /etc/edgefleet "$prog/conf" # the launchers' default $HOME/conf is the configuration folder
install -m 0755 "$here/edgefleet" "$root/usr/bin/edgefleet"

# configuration: the tarball's commented defaults, the data folder set to /var/lib/edgefleet
# (a data-dir: line is rewritten; without one, it is added under agent:, or an agent: node is added)
yaml="$root/etc/edgefleet/agent.yaml"
sed -E 's#^([[:space:]]*)data-dir:[[:space:]]*[^#[:space:]]+#\1data-dir: /var/lib/edgefleet#' "$dist/conf/agent.yaml" > "$yaml"
if ! grep -Eq '^[[:space:]]+data-dir: /var/lib/edgefleet' "$yaml"; then
    line='  data-dir: /var/lib/edgefleet   # the package'"'"'s data folder (the unit'"'"'s ReadWritePaths)'
    if grep -q '^agent:' "$yaml"; then
        awk -v line="$line" '{ print } !done && /^agent:/ { print line; done = 1 }' "$yaml" > "$yaml.new" && mv "$yaml.new" "$yaml"
    else
        printf '\nagent:\n%s\n' "$line" >> "$yaml"
    fi
fi
chmod 0644 "$yaml"
# the other files of conf/ (jvm.options, logging.properties...) as they are
for f in "$dist"/conf/*; do
    [ "$(basename "$f")" = agent.yaml ] || install -m 0644 "$f" "$root/etc/edgefleet/$(basename "$f")"
done
install -m 0640 "$here/agent.env" "$root/etc/edgefleet/agent.env" # group edgefleet: postinst
install -m 0644 "$here/$pkg.service" "$root/lib/systemd/system/$pkg.service"

# documentation, lintian overrides (each with its reason)
install -d -m 0755 "$root/usr/share/man/man1" "$root/usr/share/lintian/overrides"
gzip -9n < "$here/edgefleet.1" > "$root/usr/share/man/man1/edgefleet.1.gz"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/$pkg"
install -m 0644 "$here/copyright" "$root/usr/share/doc/$pkg/copyright"
[ -f "$dist/README.md" ] && install -m 0644 "$dist/README.md" "$root/usr/share/doc/$pkg/README.md"
{
    printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$debversion"
    printf '  * Built from %s.\n\n' "$name"
    printf ' -- EdgeFleet maintainers <edgefleet@example.org>  %s\n' "$(LC_ALL=C date -u -R -d "@$epoch")"
} | gzip -9n > "$root/usr/share/doc/$pkg/changelog.gz"
chmod 0644 "$root/usr/share/doc/$pkg/changelog.gz" "$root/usr/share/man/man1/edgefleet.1.gz"

# modes: the tarball's, normalised; scripts executable
find "$root" -type d -exec chmod 0755 {} +
find "$prog/lib" -type f -exec chmod 0644 {} +
find "$prog/bin" -type f -exec chmod 0755 {} +

# control files
(cd "$root" && find etc -type f -printf '/%p\n' | LC_ALL=C sort) > "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
installed_kib=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debversion/" -e "s/@INSTALLED_SIZE@/$installed_kib/" "$here/control.in" > "$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

find "$root" -exec touch -h -d "@$epoch" {} +
deb="$out/${pkg}_${debversion}_all.deb"
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zgzip -z9 --build "$root" "$deb" >/dev/null
echo "$deb"
