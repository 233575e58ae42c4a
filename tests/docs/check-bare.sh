#!/bin/sh
# check-bare.sh - `make` on a bare Debian 12, as a newcomer meets it: a
# minimal debootstrap root (minbase and make, nothing else: no compiler,
# no pkg-config, no libconfuse), made once and kept in tests/build/bare/
# (make clean removes it), a copy of the tree in it, then plain `make`
# run there through chroot. It must stop at once with two lines naming
# what is missing and how to install it, and build nothing. Needs root
# (chroot) and the Debian mirror; without either, one SKIP line.
. tests/docs/lib.sh
. tests/lib/tree.sh
root=$PWD/tests/build/bare
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: make on a bare machine: chroot needs root"
	exit 0
fi
if [ ! -e "$root/.kashim-complete" ]; then
	tests/deps.sh debootstrap >/dev/null 2>&1 || {
		echo "SKIP: make on a bare machine: debootstrap cannot be installed (make deps)"; exit 0; }
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	rm -rf "$root.tmp" "$root"
	mkdir -p "$(dirname "$root")"
	if ! timeout -k 10 900 debootstrap --variant=minbase --include=make bookworm \
		"$root.tmp" "${mirror:-http://deb.debian.org/debian}" >"$root.log" 2>&1; then
		echo "SKIP: make on a bare machine: debootstrap failed (the mirror?): $(tail -n 1 "$root.log")"
		rm -rf "$root.tmp"
		exit 0
	fi
	touch "$root.tmp/.kashim-complete" && mv "$root.tmp" "$root"
fi
for t in cc gcc pkg-config; do
	[ -z "$(chroot "$root" sh -c "command -v $t")" ] || fail "the bare root has $t"
done
w=/tmp/kashim-bare-$$
mkdir -p "$root$w"
trap 'rm -rf "${root:?}$w"' EXIT
tree_copy "$root$w"
chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	sh -c "cd $w && make" >"$root$w.out" 2>&1
rc=$?
mv "$root$w.out" "$root$w/make.out"
if [ $rc -ne 0 ] && [ "$(wc -l <"$root$w/make.out")" -eq 2 ] &&
	grep -q '^kashim: cannot build: missing the C compiler cc, pkg-config, libconfuse (libconfuse-dev)\.$' "$root$w/make.out" &&
	grep -q 'sudo make deps' "$root$w/make.out" &&
	[ -z "$(find "$root$w/src" -name '*.o')" ]; then
	ok "bare Debian 12 (debootstrap minbase + make): make exits $rc and prints only:"
	sed 's/^/    /' "$root$w/make.out"
else
	fail "bare Debian 12: make exit $rc, want two lines naming cc, pkg-config and libconfuse:"
	sed 's/^/    /' "$root$w/make.out"
fi
finish
