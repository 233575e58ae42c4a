#!/bin/sh
# check-deb.sh VERSION - build the Debian package with
# `dpkg-buildpackage -us -uc -b` in a temporary copy of the tree (the
# work tree stays clean), check what the packages hold (libkashim, Multi-
# Arch: same: the library and module under /usr/lib/<triplet>/ only;
# kashim, Multi-Arch: foreign: command, man pages, /etc/kashim.conf as a
# conffile; no maintainer script touching /etc/ld.so.preload), run the
# command from the unpacked packages, then lintian, when installed, must
# report no error. Bounded: 10 minutes for the build, 5 for lintian.
VERSION=$1
. tests/docs/lib.sh
if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
	echo "SKIP: dpkg-buildpackage or debhelper is not installed (make deps)"
	exit 0
fi
src=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/kashim-$VERSION

# 0. The package's version is the Makefile's.
deb_version=$(dpkg-parsechangelog -S Version -l debian/changelog)
[ "$deb_version" = "$VERSION" ] || fail "debian/changelog is $deb_version, the Makefile says $VERSION"

# 1. A copy of the tree as the work tree holds it, build products aside.
mkdir "$copy"
if [ -d .git ] && command -v git >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar -c --null -T - -f - | tar -x -C "$copy" -f -
else
	tar -c --exclude='*.o' --exclude='*.so' --exclude=./tests/build -f - . |
		tar -x -C "$copy" -f -
fi
# The package build is a make of its own: nothing of ours leaks into it.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
start=$(date +%s)
if ! (cd "$copy" && timeout -k 10 600 dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	fail "dpkg-buildpackage -us -uc -b failed; the end of its log:"
	tail -n 40 "$tmp/build.log"
	finish
fi
deb=$(ls "$tmp"/kashim_"$VERSION"_*.deb 2>/dev/null | head -n 1)
libdeb=$(ls "$tmp"/libkashim_"$VERSION"_*.deb 2>/dev/null | head -n 1)
[ -f "$deb" ] || { fail "no kashim_${VERSION}_*.deb was built"; finish; }
[ -f "$libdeb" ] || { fail "no libkashim_${VERSION}_*.deb was built"; finish; }
ok "dpkg-buildpackage -us -uc -b: $(basename "$deb") $(basename "$libdeb") in $(($(date +%s) - start)) s"

# 2. What they hold.
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $NF }' | sed 's|^\./|/|'; }
files "$deb" >"$tmp/files"
files "$libdeb" >"$tmp/libfiles"
for f in /usr/lib/$ma/kashim/libkashim.so /usr/lib/$ma/kashim/kashim-conf.so \
	/usr/share/doc/libkashim/copyright; do
	grep -qxF "$f" "$tmp/libfiles" || fail "libkashim lacks $f"
done
for f in /usr/share/man/man1/kashim.1.gz /usr/share/man/man8/kashim.8.gz \
	/usr/share/man/man5/kashim.conf.5.gz /etc/kashim.conf \
	/usr/share/doc/kashim/copyright; do
	grep -qxF "$f" "$tmp/files" || fail "the package lacks $f"
done
# Multi-Arch: same: every file either under the architecture's own
# directory or the same for all architectures (its doc directory).
[ "$(dpkg-deb -f "$libdeb" Multi-Arch)" = same ] || fail "libkashim is not Multi-Arch: same"
[ "$(dpkg-deb -f "$deb" Multi-Arch)" = foreign ] || fail "kashim is not Multi-Arch: foreign"
stray=$(grep -v -e "^/usr/lib/$ma/" -e '^/usr/share/doc/libkashim/' "$tmp/libfiles" | tr '\n' ' ')
[ -z "$stray" ] || fail "libkashim holds files another architecture's copy would clash on: $stray"
grep -q kashim "$tmp/libfiles" && grep -q "/usr/lib/$ma/" "$tmp/files" &&
	fail "kashim holds files under /usr/lib/$ma/ (they belong in libkashim)"
if grep -q 'mk/cmd.mk' "$tmp/build.log" || [ -f "$copy/mk/cmd.mk" ]; then
	grep -qxF /usr/bin/kashim "$tmp/files" || fail "the package lacks /usr/bin/kashim"
fi
dpkg-deb -e "$deb" "$tmp/control"
grep -qxF /etc/kashim.conf "$tmp/control/conffiles" || fail "/etc/kashim.conf is not a conffile"
if grep -l ld.so.preload "$tmp"/control/*inst "$tmp"/control/*rm 2>/dev/null; then
	fail "a maintainer script touches /etc/ld.so.preload"
fi
[ "$fails" -eq 0 ] && ok "the package holds the library, module, man pages and /etc/kashim.conf (a conffile)"

# 3. The packaged command finds the packaged library, unpacked anywhere.
dpkg-deb -x "$deb" "$tmp/root"
dpkg-deb -x "$libdeb" "$tmp/root"
if [ -x "$tmp/root/usr/bin/kashim" ]; then
	lib=$(realpath "$tmp/root/usr/lib/$ma/kashim/libkashim.so")
	out=$(cd / && LD_PRELOAD= timeout 20 "$tmp/root/usr/bin/kashim" --config "$tmp/root/etc/kashim.conf" \
		--idle 24 python3 "$src/tests/docs/probe.py")
	if printf '%s' "$out" | grep -q '"idle": 24' &&
		printf '%s' "$out" | grep -qF "\"preload\": \"$lib"; then
		ok "the packaged kashim runs python3 with the packaged library: idle 24"
	else
		fail "the packaged kashim: $out"
	fi
	zcat "$tmp/root/usr/share/man/man8/kashim.8.gz" | grep -q "/usr/lib/$(echo "$ma" | sed 's/-/\\\\-/g')/kashim/libkashim.so" ||
		fail "the packaged kashim(8) does not name /usr/lib/$ma/kashim/libkashim.so"
fi

# 4. lintian: no error (warnings are shown, not fatal).
if command -v lintian >/dev/null 2>&1; then
	changes=$(ls "$tmp"/kashim_"$VERSION"_*.changes | head -n 1)
	timeout -k 10 300 lintian --fail-on error --display-info --pedantic "$changes" >"$tmp/lintian" 2>&1
	rc=$?
	sed 's/^/  lintian: /' "$tmp/lintian"
	if [ "$rc" -eq 0 ]; then
		ok "lintian: no error ($(grep -c '^W:' "$tmp/lintian") warning(s))"
	else
		fail "lintian exit $rc"
	fi
else
	echo "SKIP: lintian is not installed"
fi
finish
