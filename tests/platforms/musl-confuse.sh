#!/bin/sh
# musl-confuse.sh DIR CC - libconfuse for musl: DIR/lib/libconfuse.a
# (position-independent, to be linked into kashim-conf.so) and
# DIR/include/confuse.h, built with CC from Debian's own source package.
#
# The source comes only from the Debian archive this machine already
# uses: apt-get source, with a private list of deb-src entries made from
# /etc/apt/sources.list{,.d} and private state and cache under DIR/apt,
# so the machine's apt setup is not changed. The upstream tarball is used
# as the .dsc lists it (its SHA-256 checked against the .dsc, which apt
# checked against the archive's signed index); Debian's packaging is not
# needed for a static library. Exit 0 when built, 2 when the source could
# not be had (the message says why), 1 on a build failure.
set -u
DIR=$(realpath -m "$1")
CC=$2
APT=$DIR/apt
SRC=$DIR/src
log=$DIR/build.log

die() { echo "musl-confuse: $*" >&2; exit "${rc:-1}"; }

# deb-src entries for every enabled Debian deb entry of the machine.
deb_src_lists() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
	done >"$APT/parts/kashim.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" && echo
	done >"$APT/parts/kashim.sources"
}

# apt-get with the private lists, state and cache.
apt_private() {
	apt-get -q -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$APT/parts" \
		-o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" \
		-o APT::Sandbox::User="$(id -un)" -o Debug::NoLocking=1 "$@"
}

# Fetch the .dsc and the upstream tarball into $SRC; print the tarball.
fetch() {
	mkdir -p "$APT/parts" "$APT/lists/partial" "$APT/cache/archives/partial" "$SRC"
	deb_src_lists
	apt_private update >"$log" 2>&1
	(cd "$SRC" && apt_private source --download-only libconfuse) >>"$log" 2>&1
	dsc=$(ls "$SRC"/libconfuse_*.dsc 2>/dev/null | head -n 1)
	[ -f "$dsc" ] || rc=2 die "Debian's libconfuse source is not available from the mirror ($(grep -m1 '^E:' "$log"))"
	sed -n '/^Checksums-Sha256:/,/^[^ ]/s/^ \([0-9a-f]\{64\}\) [0-9]* \(.*\.orig\.tar\..*\)$/\1  \2/p' \
		"$dsc" >"$SRC/orig.sha256"
	(cd "$SRC" && [ -s orig.sha256 ] && sha256sum -c --quiet orig.sha256) >>"$log" 2>&1 ||
		rc=2 die "the upstream tarball of $(basename "$dsc") is missing or does not match it"
	echo "$SRC/$(awk '{ print $2 }' "$SRC/orig.sha256")"
}

# Build the static library from the unpacked tree $1.
build() {
	s=$1/src
	flex -Pcfg_yy -o"$s/lexer.c" "$s/lexer.l" || die "flex failed"
	for f in confuse lexer; do
		$CC -O2 -g -fPIC -D_GNU_SOURCE -DHAVE_UNISTD_H -DHAVE_STRING_H \
			-DHAVE_STRINGS_H -DHAVE_SYS_STAT_H -DHAVE_FMEMOPEN \
			-DHAVE_REALLOCARRAY -DHAVE_STRCASECMP -DHAVE_STRDUP \
			-DHAVE_STRNDUP -DHAVE_SETENV -DHAVE_UNSETENV \
			-DPACKAGE_VERSION="\"$version\"" \
			-DPACKAGE_STRING="\"libConfuse $version\"" \
			-w -c -o "$s/$f.o" "$s/$f.c" || die "$CC failed on $f.c"
	done
	mkdir -p "$DIR/lib" "$DIR/include"
	ar rcs "$DIR/lib/libconfuse.a" "$s/confuse.o" "$s/lexer.o" &&
		cp "$s/confuse.h" "$DIR/include/" || die "cannot install into $DIR"
}

command -v apt-get >/dev/null || rc=2 die "apt-get is needed to fetch Debian's libconfuse source"
command -v flex >/dev/null || rc=2 die "flex is needed to build libconfuse"
mkdir -p "$DIR" || exit 1
tarball=$(fetch) || exit $?
rm -rf "$SRC/tree" && mkdir "$SRC/tree" &&
	tar -xf "$tarball" -C "$SRC/tree" --strip-components=1 || die "cannot unpack $tarball"
version=$(basename "$tarball" | sed 's/^libconfuse_\(.*\)\.orig\.tar\..*/\1/')
build "$SRC/tree"
echo "musl-confuse: libconfuse $version from $(basename "$tarball"), built with $CC"
