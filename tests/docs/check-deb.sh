#!/bin/sh
# check-deb.sh VERSION - build the Debian package with
# `dpkg-buildpackage -us -uc -b` in a temporary copy of the tree (the
# work tree stays clean), where `git status` must then be clean too (the
# .gitignore files cover what a package build leaves); check what the
# packages hold (libkashim, Multi-Arch: same: the library and module under /usr/lib/<triplet>/ only, and
# its prerm, the only script touching /etc/ld.so.preload; kashim, Multi-
# Arch: foreign: command, man pages, /etc/kashim.conf as a conffile), run
# the command from the unpacked packages; as root, in a private mount
# namespace (overlays over /usr, /etc and /var), install both, enable
# system-wide, remove them: no dangling line, a foreign one kept; then
# lintian, when installed, must report no error. Bounded: 10 minutes for
# the build, 2 for the install, 5 for lintian.
VERSION=$1
. tests/docs/lib.sh
. tests/lib/tree.sh
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
tree_copy "$copy"
# The copy is a git tree of its own, committed, so that what the build
# leaves behind shows in `git status` (the tree's .gitignore files apply).
# Its own repository, named outright: never the one the tree came from (a
# worktree's .git is a file naming that repository; it is not copied).
gitc() { git --git-dir="$copy/.git" --work-tree="$copy" -c user.name=kashim \
	-c user.email=kashim@localhost "$@"; }
[ ! -e "$copy/.git" ] || { fail "the copy holds a .git of the tree's"; finish; }
if command -v git >/dev/null 2>&1; then
	gitc init -q && gitc add -A && gitc commit -q -m copy || fail "git init of the copy"
fi
# The package build is a make of its own: nothing of ours leaks into it.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
start=$(date +%s)
if ! (cd "$copy" && timeout -k 10 600 dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	fail "dpkg-buildpackage -us -uc -b failed; the end of its log:"
	tail -n 40 "$tmp/build.log"
	finish
fi
if ! command -v git >/dev/null 2>&1; then
	echo "SKIP: git status after the build: git is not installed"
elif [ -z "$(gitc status --porcelain)" ]; then
	ok "after dpkg-buildpackage, git status is clean (ignored: $(gitc status --porcelain --ignored | sed -n 's/^!! //p' | tr '\n' ' '))"
else
	fail "dpkg-buildpackage left files git does not ignore:" "$(gitc status --porcelain | head -n 20)"
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
dpkg-deb -e "$libdeb" "$tmp/libcontrol"
grep -qxF /etc/kashim.conf "$tmp/control/conffiles" || fail "/etc/kashim.conf is not a conffile"
if grep -l ld.so.preload "$tmp"/control/*inst "$tmp"/control/p*rm \
	"$tmp"/libcontrol/*inst "$tmp"/libcontrol/postrm 2>/dev/null; then
	fail "a script other than libkashim's prerm touches /etc/ld.so.preload (installing enables nowhere)"
fi
# The library's own package takes the line out, before the library goes.
grep -q 'PRELOAD=/etc/ld.so.preload' "$tmp/libcontrol/prerm" 2>/dev/null ||
	fail "libkashim has no prerm taking kashim's entry out of /etc/ld.so.preload"
grep -q "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/kashim" "$tmp/libcontrol/prerm" 2>/dev/null ||
	fail "the prerm does not name the packaged library's directory"
[ "$fails" -eq 0 ] && ok "the package holds the library, module, man pages and /etc/kashim.conf (a conffile)"

# 2b. kashim-bpf in a package of its own: libbpf stays off other hosts.
if [ -f mk/bpf.mk ]; then
	bpfdeb=$(ls "$tmp"/kashim-bpf_"$VERSION"_*.deb 2>/dev/null | head -n 1)
	[ -f "$bpfdeb" ] && dpkg-deb -c "$bpfdeb" >"$tmp/bpf-files"
	if grep -q '/usr/sbin/kashim-bpf$' "$tmp/bpf-files" 2>/dev/null &&
		grep -q '/man8/kashim-bpf\.8\.gz$' "$tmp/bpf-files" &&
		dpkg-deb -f "$bpfdeb" Depends | grep -q libbpf &&
		! dpkg-deb -f "$deb" Depends | grep -q libbpf &&
		! grep -q kashim-bpf "$tmp/files"; then
		ok "kashim-bpf: its own package with its man page; only it depends on libbpf"
	else
		fail "kashim-bpf is not packaged on its own: $(ls "$tmp"/*.deb)"
	fi
fi

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

# 4. Installed, enabled, removed, in a private mount namespace: dpkg -r
# takes kashim's line out before the library goes.
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: installing the package in a private mount namespace needs root"
elif [ ! -x "$tmp/root/usr/bin/kashim" ]; then
	echo "SKIP: the package has no kashim command to enable it with"
else
	chmod 755 "$tmp" # the foreign library is read by users like man-db's too
	printf 'int kashim_test_other;\n' | cc -shared -fPIC -x c -o "$tmp/other.so" - ||
		fail "cannot build a foreign library"
	host_before=$(sha256sum /etc/ld.so.preload 2>&1)
	timeout -k 10 120 unshare -m --propagation private sh -s "$tmp" "$deb" "$libdeb" <<'INNER' >"$tmp/ns.log" 2>&1
tmp=$1 deb=$2 libdeb=$3
P=/etc/ld.so.preload
mkdir -p "$tmp/ov" && mount -t tmpfs tmpfs "$tmp/ov" || exit 1
for dir in /usr /etc /var; do
	n=$(basename "$dir")
	mkdir -p "$tmp/ov/$n/up" "$tmp/ov/$n/work"
	mount -t overlay overlay -o "lowerdir=$dir,upperdir=$tmp/ov/$n/up,workdir=$tmp/ov/$n/work" "$dir" || exit 1
done
printf '# a comment\n%s\n' "$tmp/other.so" >"$P"
DEBIAN_FRONTEND=noninteractive dpkg -i "$libdeb" "$deb" >"$tmp/dpkg-i.log" 2>&1 || { echo "FAIL: dpkg -i"; cat "$tmp/dpkg-i.log"; exit 1; }
/usr/bin/kashim --enable-system || exit 1
grep -q '^/usr/\$LIB/kashim/libkashim.so$' "$P" || { echo "FAIL: enable wrote: $(cat "$P")"; exit 1; }
grep -q /kashim/libkashim.so /proc/self/maps || { echo "FAIL: a new program does not load kashim"; exit 1; }
dpkg -r kashim libkashim || exit 1
out=$(/bin/true 2>&1)
[ -z "$out" ] || { echo "FAIL: /bin/true after dpkg -r prints: $out"; exit 1; }
[ "$(cat "$P")" = "$(printf '# a comment\n%s' "$tmp/other.so")" ] || { echo "FAIL: $P after dpkg -r: $(cat "$P")"; exit 1; }
INNER
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "installed in a private namespace, enabled, dpkg -r: /bin/true quiet, the foreign line and the comment kept"
	else
		fail "install, enable, dpkg -r (exit $rc):"
	fi
	sed 's/^/  ns: /' "$tmp/ns.log"
	[ "$host_before" = "$(sha256sum /etc/ld.so.preload 2>&1)" ] || fail "the host's /etc/ld.so.preload changed"
fi

# 5. lintian: no error (warnings are shown, not fatal).
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
