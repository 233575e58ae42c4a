#!/bin/sh
# check-build.sh MAKE - how `make` builds, in a copy of the tree as git
# sees it (the caller's build is not touched):
#   1. on a machine without the compiler, pkg-config or libconfuse, plain
#      `make` prints two lines, naming what is missing and how to install
#      it, and builds nothing (PATH holds only what make and sh need;
#      PKG_CONFIG_LIBDIR an empty directory); a cross build whose
#      PKG_CONFIG does not exist still builds (the compiler finds
#      confuse.h);
#   2. a header change rebuilds the objects that include it and no other
#      (the .d files the compiler writes): a header of the command
#      rebuilds no object of the library or of src/common, a header of
#      the library no object of the command;
#   3. a change of CFLAGS rebuilds every object (the stamp src/.cflags);
#   4. `make check`'s last line counts the SKIP lines of every check, the
#      ones of a check that exits 0 after its SKIP, and of one that fails;
#   5. without root, `make check` names each missing package once, and
#      `make demo` suggests `sudo make demo` (as nobody, root only).
MAKE=${1:-make}
. tests/docs/lib.sh
. tests/lib/tree.sh
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
tree=$d/tree
mkdir "$tree"
tree_copy "$tree"
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

# 1. A bare machine: a PATH of make, sh and the few tools a Makefile's
# $(shell) uses, and no compiler, pkg-config or .pc file.
mkdir "$d/bin" "$d/pc"
for t in make sh env cat echo command dirname realpath sed; do
	p=$(command -v $t 2>/dev/null) && [ -x "$p" ] && ln -s "$p" "$d/bin/$t"
done
(cd "$tree" && env -i HOME="$d" PATH="$d/bin" PKG_CONFIG_LIBDIR="$d/pc" \
	make) >"$d/out" 2>&1
rc=$?
lines=$(wc -l <"$d/out")
if [ $rc -ne 0 ] && [ "$lines" -eq 2 ] &&
	grep -q '^kashim: cannot build: missing the C compiler cc, pkg-config, libconfuse (libconfuse-dev)\.$' "$d/out" &&
	grep -q 'sudo make deps' "$d/out" &&
	grep -q 'apt-get install build-essential pkg-config libconfuse-dev' "$d/out" &&
	[ -z "$(find "$tree/src" -name '*.o' -o -name '*.so')" ]; then
	ok "bare machine: make exits $rc and says only:"
	sed 's/^/    /' "$d/out"
else
	fail "bare machine: want two lines naming cc, pkg-config and libconfuse, exit != 0, nothing built; got exit $rc:"
	sed 's/^/    /' "$d/out"
fi
# Only libconfuse missing: the compiler is there (PATH as usual), but
# neither pkg-config nor the compiler (-nostdinc) finds libconfuse.
(cd "$tree" && PKG_CONFIG_LIBDIR="$d/pc" $MAKE CC='cc -nostdinc') >"$d/out" 2>&1
if [ $? -ne 0 ] && [ "$(wc -l <"$d/out")" -eq 2 ] &&
	grep -q '^kashim: cannot build: missing libconfuse (libconfuse-dev)\.$' "$d/out"; then
	ok "libconfuse missing: $(head -n 1 "$d/out")"
else
	fail "libconfuse missing: want it named alone:"
	sed 's/^/    /' "$d/out"
fi

# A cross compiler's pkg-config that does not exist: the build goes on.
if (cd "$tree" && $MAKE -n PKG_CONFIG=kashim-no-pkg-config-$$ build) >"$d/out" 2>&1; then
	ok "PKG_CONFIG missing, confuse.h found by the compiler: make goes on"
else
	fail "PKG_CONFIG missing but confuse.h there: make refused:"; sed 's/^/    /' "$d/out"
fi

# 2. Header dependencies. compiled LOG: the objects a make run compiled.
compiled() {
	sed -n 's/.* -c -o \(src\/[^ ]*\.o\) .*/\1/p' "$1" | sort | tr '\n' ' '
}
# includers HEADER: the objects whose source includes HEADER, by the
# compiler's own record (every .d file names its object first).
includers() {
	grep -l "[ /]$1\( \|$\)" "$tree"/src/*/*.d 2>/dev/null |
		sed "s|^$tree/||; s|\.d$|.o|" | sort | tr '\n' ' '
}
if ! (cd "$tree" && $MAKE -s -j2 build) >"$d/build.log" 2>&1; then
	fail "make build in the copy:"
	tail -n 20 "$d/build.log"
	finish
fi
# touch_rebuild HEADER FORBIDDEN-ROOMS...: touch HEADER, make, and compare
# what was compiled with what includes it; none in the forbidden rooms.
touch_rebuild() {
	h=$1
	shift
	want=$(includers "$h")
	sleep 1
	touch "$tree/$h"
	(cd "$tree" && $MAKE build) >"$d/log" 2>&1
	got=$(compiled "$d/log")
	bad=
	for room in "$@"; do
		case " $got" in *" src/$room/"*) bad="$bad src/$room" ;; esac
	done
	# The fragment of src/bpf/ may still name every header (mk/bpf.mk).
	got_own=$(echo "$got" | tr ' ' '\n' | grep -v '^src/bpf/' | tr '\n' ' ')
	want_own=$(echo "$want" | tr ' ' '\n' | grep -v '^src/bpf/' | tr '\n' ' ')
	if [ -z "$want" ]; then
		fail "$h: no object includes it (the .d files are missing?)"
	elif [ -n "$bad" ] || [ "$got_own" != "$want_own" ]; then
		fail "touch $h: compiled '$got', want '$want' (none in:$bad)"
	else
		ok "touch $h: $(echo "$got_own" | wc -w) objects rebuilt, the ones that include it, none in $*"
	fi
}
touch_rebuild src/cmd/cmd.h lib common
touch_rebuild src/lib/real.h cmd common

# 3. The stamp: other CFLAGS, every object again.
all=$(ls "$tree"/src/*/*.d | wc -l)
(cd "$tree" && $MAKE CFLAGS='-O1 -g' build) >"$d/log" 2>&1
n=$(compiled "$d/log" | wc -w)
if [ "$n" -eq "$all" ]; then ok "CFLAGS='-O1 -g': all $n objects rebuilt"
else fail "CFLAGS='-O1 -g': $n of $all objects rebuilt"; fi

# 4. The summary of check-run, over checks of a makefile of our own
# (MAKEFILES reaches the make each check runs in).
printf '%s\n' 'check-a:' \
	'	@echo "SKIP: i386: the kernel refuses a user namespace" || exit 0' \
	'check-b:' '	@echo "  SKIP: lintian is not installed."; echo "ok: the rest"; echo "skip: lower case"' \
	'check-c:' '	@echo passed' \
	'check-d:' '	@echo "SKIP: half of it"; exit 1' >"$d/checks.mk"
(cd "$tree" && MAKEFILES="$d/checks.mk" $MAKE -s check-run CHECK_TARGETS="check-a check-b check-c") >"$d/log" 2>&1
want='==> all checks passed, 3 skipped: check-a: i386: the kernel refuses a user namespace; check-b: lintian is not installed; check-b: lower case'
if [ "$(tail -n 1 "$d/log")" = "$want" ]; then ok "make check counts skips: $want"
else fail "make check's last line: want '$want'" "$(tail -n 3 "$d/log")"; fi
(cd "$tree" && MAKEFILES="$d/checks.mk" $MAKE -s check-run CHECK_TARGETS="check-c check-d") >"$d/log" 2>&1
rc=$?
want='==> FAILED: check-d, 1 skipped: check-d: half of it'
if [ $rc -ne 0 ] && grep -qxF "$want" "$d/log"; then ok "a failed check: $want"
else fail "a failed check: want '$want' and exit != 0, got exit $rc" "$(tail -n 3 "$d/log")"; fi

# 5. Missing packages, as a user who cannot install them: two names that
# no mirror has, each asked for twice as fragments do, beside python3,
# which several fragments ask for too.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	miss="kashim-missing-a-$$ kashim-missing-b-$$"
	printf 'DEPS_PACKAGES += %s python3 %s\nDEMO_PACKAGES += %s\n' "$miss" "$miss" "$miss" >"$d/pk.mk"
	chmod -R a+rX "$d"
	nobody() { (cd "$tree" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env HOME=/nonexistent $MAKE --no-print-directory -f Makefile -f "$d/pk.mk" "$@") >"$d/log" 2>&1; }
	nobody check
	rc=$?
	line=$(grep '^kashim: missing packages:' "$d/log")
	dups=$(echo "${line#*:*:}" | tr ' ' '\n' | sed '/^$/d' | sort | uniq -d)
	if [ $rc -ne 0 ] && [ -z "$dups" ] && echo "$line" | grep -q "kashim-missing-a-$$ kashim-missing-b-$$" &&
		grep -q 'sudo make check$' "$d/log"; then
		ok "make check without root: $line"
	else fail "make check without root: each missing package once, then sudo make check" "$(cat "$d/log")"; fi
	nobody demo
	if grep -q "^kashim: install them (sudo apt-get install $miss) or run: sudo make demo$" "$d/log"; then
		ok "make demo without root: $(grep 'sudo make demo' "$d/log")"
	else fail "make demo without root: want 'sudo make demo'" "$(cat "$d/log")"; fi
else
	echo "SKIP: make check and make demo as another user: needs root and setpriv"
fi
finish
