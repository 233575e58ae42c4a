#!/bin/sh
# build.sh VERSION ROOTFS - `make image`: the OCI image kashim:VERSION
# (and kashim:latest), offline. The Debian packages of this tree are
# built with `dpkg-buildpackage -us -uc -b` in a copy of it, installed
# with `dpkg --root` into a copy of the debootstrapped Debian 12 ROOTFS,
# with kashim-bpf-watch as the default command, and the result is
# imported with `podman import`. Nothing is fetched from a network.
set -eu
VERSION=$1
ROOTFS=$(realpath "$2")
TOP=$(pwd)
tmp=$TOP/tests/build/image.$$
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"

# The tree as git knows it (tracked and new files), build products aside.
git ls-files -z --cached --others --exclude-standard |
	xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	tar -c --null -T - -f - | tar -x -C "$tmp/src" -f -
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
echo "image: dpkg-buildpackage -us -uc -b (log: $tmp/build.log while it runs)"
if ! (cd "$tmp/src" && timeout -k 10 600 nice dpkg-buildpackage -us -uc -b) \
	>"$tmp/build.log" 2>&1; then
	tail -n 30 "$tmp/build.log"
	echo "image: dpkg-buildpackage failed" >&2
	exit 1
fi
set -- "$tmp"/kashim_"$VERSION"_*.deb "$tmp"/libkashim_"$VERSION"_*.deb \
	"$tmp"/kashim-bpf_"$VERSION"_*.deb
for d; do [ -f "$d" ] || { echo "image: $d was not built" >&2; exit 1; }; done

cp -a "$ROOTFS" "$tmp/root"
dpkg --root="$tmp/root" --force-not-root -i "$@" >"$tmp/dpkg.log" 2>&1 || {
	cat "$tmp/dpkg.log"
	exit 1
}
install -m 0755 deploy/container/kashim-bpf-watch "$tmp/root/usr/sbin/kashim-bpf-watch"
rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*

old=$(podman image inspect -f '{{.Id}}' "kashim:$VERSION" 2>/dev/null || true)
tar -C "$tmp/root" -c . | podman import \
	--change 'CMD ["/usr/sbin/kashim-bpf-watch"]' \
	--change 'ENV KASHIM_CGROUPS="kubepods.slice kubepods"' \
	--change "LABEL org.opencontainers.image.version=$VERSION" \
	- "kashim:$VERSION" >/dev/null
podman tag "kashim:$VERSION" kashim:latest
# The image these tags named before, now untagged, goes (unless in use).
[ -z "$old" ] || podman rmi "$old" >/dev/null 2>&1 || true
echo "image: kashim:$VERSION and kashim:latest ($(podman image inspect -f '{{.Size}}' "kashim:$VERSION") bytes)"
