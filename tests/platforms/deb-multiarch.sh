#!/bin/sh
# deb-multiarch.sh ARCH - the Debian packages co-install for two
# architectures: build the binary packages for this machine and, cross,
# for ARCH (dpkg-buildpackage -B -aARCH) in a copy of the tree, then
# install kashim, libkashim and libkashim:ARCH together into a private
# dpkg database and root (the machine's own dpkg is not touched). Each
# libkashim must put its library and module under its own
# /usr/lib/<triplet>/kashim/. Bounded: 10 minutes per build.
. tests/lib/lib.sh
. tests/lib/tree.sh
kashim_env_clear
ARCH=${1:?usage: deb-multiarch.sh ARCH}
VERSION=$(dpkg-parsechangelog -S Version -l debian/changelog)
native=$(dpkg --print-architecture)
for tool in dpkg-buildpackage dh fakeroot; do
	command -v $tool >/dev/null || { skip "deb-multiarch: $tool is missing (make deps)"; exit 0; }
done

# build ARCH: the binary packages for ARCH, from a copy of the tree as git
# sees it (build products aside) in $T/ARCH/, the .debs into $T/.
build() {
	mkdir -p "$T/$1/kashim-$VERSION"
	tree_copy "$T/$1/kashim-$VERSION"
	(cd "$T/$1/kashim-$VERSION" && DEB_BUILD_OPTIONS="noddebs nocheck" \
		timeout -k 10 600 dpkg-buildpackage -us -uc -B -a"$1" -Ppkg.kashim.nobpf) >"$T/build-$1.log" 2>&1 &&
		mv "$T/$1"/*.deb "$T/"
}
# Built with the profile pkg.kashim.nobpf: what co-installs is libkashim,
# and kashim-bpf's build tools are not installed for a foreign ARCH.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
# Both at once: two builds of a few files each, on two cores.
build "$native" & pid=$!
build "$ARCH"; rc=$?
wait "$pid" || rc=1
if [ "$rc" -ne 0 ]; then
	for a in "$native" "$ARCH"; do tail -n 10 "$T/build-$a.log"; done
	fail "dpkg-buildpackage -B for $native and -a$ARCH"
	summary deb-multiarch
fi
pass "dpkg-buildpackage -B for $native and -a$ARCH"

# A private dpkg: its own database, root and architectures.
db=$T/db root=$T/root
mkdir -p "$db/updates" "$db/info" "$root" && touch "$db/status"
dpkg --admindir="$db" --add-architecture "$ARCH"
if dpkg --admindir="$db" --instdir="$root" --force-not-root --force-depends \
	--force-script-chrootless -i "$T/kashim_${VERSION}_$native.deb" \
	"$T/libkashim_${VERSION}_$native.deb" "$T/libkashim_${VERSION}_$ARCH.deb" \
	>"$T/install.log" 2>&1; then
	pass "kashim, libkashim:$native and libkashim:$ARCH installed together"
else
	fail "dpkg -i of both libkashim packages" "$(grep -v 'dependency problems\|depends on\|not installed\|configuring anyway' "$T/install.log" | tail -n 10)"
fi
# The ELF class (1: 32-bit, 2: 64-bit) of file $1.
elf_class() { od -An -tu1 -j4 -N1 "$1" 2>/dev/null | tr -d ' '; }
for a in "$native" "$ARCH"; do
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH -a"$a" 2>/dev/null)
	bits=$(dpkg-architecture -qDEB_HOST_ARCH_BITS -a"$a" 2>/dev/null)
	state=$(dpkg-query --admindir="$db" -W -f='${db:Status-Abbrev}' "libkashim:$a" 2>/dev/null)
	ok=yes
	for f in libkashim.so kashim-conf.so; do
		[ "$(elf_class "$root/usr/lib/$ma/kashim/$f")" = $((bits / 32)) ] || ok=
	done
	if [ "$state" = "ii " ] && [ -n "$ok" ]; then
		pass "libkashim:$a: /usr/lib/$ma/kashim/libkashim.so and kashim-conf.so, $bits-bit"
		echo "  libkashim:$a installed: /usr/lib/$ma/kashim/libkashim.so, kashim-conf.so ($bits-bit ELF)"
	else
		fail "libkashim:$a is '$state', or its /usr/lib/$ma/kashim/ files are missing or not $bits-bit"
	fi
done
summary deb-multiarch
