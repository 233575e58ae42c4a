#!/bin/sh
# cmd-libc.sh MAKE - the kashim command preloads the build made for the
# C library COMMAND runs with (the loader its PT_INTERP names, through
# `#!` and `#!/usr/bin/env`), and refuses when that build is missing.
# Needs build/musl/ and the glibc build (make check-musl makes both);
# installs both with make install and make install-musl into a DESTDIR
# under a temporary directory. Run from the top of the tree.
. tests/lib/lib.sh
kashim_env_clear
MAKE=${1:-make}
MUSL=$PWD/build/musl/tests/probe
GLIBC=$PWD/build/native/tests/probe
R=$T/root

# run PROGRAM ARGS: stdout to $T/out, stderr to $T/err, status in $rc.
run() { env KASHIM_CONFIG= LD_PRELOAD= "$@" >"$T/out" 2>"$T/err"; rc=$?; }

# The failures the command exists to prevent, shown first: a glibc build
# made with _FORTIFY_SOURCE, as Debian's package is, in a musl program
# (musl has no __snprintf_chk), and the musl build in a glibc program.
run env LD_PRELOAD="$PWD/build/fortified/libkashim.so" "$MUSL"
if [ $rc -eq 127 ] && [ ! -s "$T/out" ] && grep -q '__snprintf_chk' "$T/err"; then
	pass "control: a fortified glibc build stops a musl program (exit 127)"
else fail "control: a musl program under a fortified glibc build: exit $rc" "$(cat "$T/err")"; fi
run env LD_PRELOAD="$PWD/build/musl/libkashim.so" "$GLIBC"
if [ $rc -eq 127 ] && [ ! -s "$T/out" ]; then
	pass "control: the musl build stops a glibc program (exit 127)"
else fail "control: a glibc program under the musl build: exit $rc"; fi

# From the build tree there is no musl build beside src/libkashim.so.
run src/kashim --idle 21 "$MUSL"
if [ $rc -eq 125 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
	grep -q "runs with musl (its loader is /lib/ld-musl-[a-z0-9_]*\.so\.1), but .*/src/libkashim.so is built for glibc" "$T/err"; then
	pass "refused: $(cat "$T/err")"
else fail "want one refusal line and exit 125, got exit $rc" "$(cat "$T/err" "$T/out")"; fi

# Installed with both builds: each program gets its own.
if ! { $MAKE -s install DESTDIR="$R" && $MAKE -s install-musl DESTDIR="$R"; } >"$T/make" 2>&1; then
	fail "make install, make install-musl" "$(tail -n 5 "$T/make")"
	summary cmd-libc
fi
bin=$(find "$R" -path '*/bin/kashim' | head -n 1)
lib=$(find "$R" -name libkashim.so -not -path '*/musl/*' | head -n 1)
mlib=$(find "$R" -path '*/musl/libkashim.so' | head -n 1)

# expect WHAT IDLE LIB PROGRAM...: the probe's line shows IDLE, the
# file's count and LIB with its own module, beside it or in kashim/
# ($PRE: a prefix for the command, such as env PATH=...).
PRE=
expect() {
	what=$1 idle=$2 want=$3
	shift 3
	mod=$(dirname "$want")/kashim-conf.so
	[ -e "$mod" ] || mod=$(dirname "$want")/kashim/kashim-conf.so
	run $PRE "$bin" --config "$T/k.conf" --idle "$idle" "$@"
	if [ $rc -eq 0 ] && grep -q "^bits=[0-9]* keepalive=1 idle=$idle intvl=15 cnt=6 uto=0 lib=$want module=$mod$" "$T/out"; then
		pass "$what: $(sed 's/ lib=.*//' "$T/out"), $(echo "$want" | sed "s|^$R||")"
	else fail "$what: want idle $idle from $want" "$(cat "$T/out" "$T/err")"; fi
}
# A config file, so that each build's own module is loaded too.
printf 'count = 6\n' >"$T/k.conf" && chmod 644 "$T/k.conf"
expect "musl program" 21 "$mlib" "$MUSL"
expect "glibc program" 22 "$lib" "$GLIBC"
printf '#!%s\n' "$MUSL" >"$T/script" && chmod +x "$T/script"
expect "#! script run by a musl program" 23 "$mlib" "$T/script"
mkdir "$T/path" && ln -s "$MUSL" "$T/path/probe-musl"
printf '#!/usr/bin/env probe-musl\n' >"$T/envscript" && chmod +x "$T/envscript"
# env(1) is a glibc program here, and runs under the preload as well.
PRE="env PATH=$T/path:$PATH"
run $PRE "$bin" "$T/envscript"
if [ $rc -eq 125 ] && [ ! -s "$T/out" ] &&
	grep -q "runs programs of two C libraries (.*ld-linux.* and probe-musl's /lib/ld-musl-" "$T/err"; then
	pass "#!/usr/bin/env script of a musl program refused: $(cat "$T/err")"
else fail "#!/usr/bin/env script of a musl program: want a refusal" "$(cat "$T/err" "$T/out")"; fi
PRE=
summary cmd-libc
