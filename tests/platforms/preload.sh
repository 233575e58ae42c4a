#!/bin/sh
# preload.sh NAME LIBDIR BINDIR all|fork - the preload tests for one
# build: LIBDIR holds libkashim.so and kashim-conf.so, BINDIR the test
# programs built with the same compiler and C library (mk/platforms.mk).
# "fork" runs only the fork-during-init test; "all" runs the programs of
# tests/preload that do not depend on the host's C library as well:
# every kind of TCP socket, the program's own choice, threads and fork,
# a config file read by this build's module, one error for a bad
# variable, another library's constructor, and (when strace can follow
# the program) no setsockopt on sockets that are not TCP.
# Run from the top of the tree; programs run directly, so a foreign one
# needs its binfmt_misc handler (tests/platforms/in-binfmt.sh).
set -u
. tests/lib/lib.sh
kashim_env_clear
NAME=$1
LIB=$(realpath "$2/libkashim.so")
B=$(realpath "$3")
WHAT=$4

ok() { pass "$NAME: $name"; }
# bad MSG: a failed step, with the end of the program's stderr.
bad() { fail "$NAME: $*" "$(head -n 20 "$T/err")"; }

# run NAME VAR=VALUE… PROGRAM ARGS: run under kashim with no config file
# unless one is given, stdout to $T/out and stderr to $T/err. $WRAP (a
# host program: timeout, strace) goes first, outside the preload: a build
# for one C library cannot be preloaded into a program of another.
WRAP=
run() {
	name=$1; shift
	$WRAP env KASHIM_CONFIG= LD_PRELOAD="$LIB" "$@" >"$T/out" 2>"$T/err"
}

# quiet STATUS: the last run ended with STATUS 0 and wrote nothing.
quiet() {
	if [ "$1" -ne 0 ]; then bad "$name: exit $1"
	elif [ -s "$T/out" ] || [ -s "$T/err" ]; then
		bad "$name: unexpected output"; cat "$T/out"
	else ok; fi
}

fork_test() {
	echo "== $NAME: fork() while another thread reads the settings"
	WRAP="timeout 30"
	run "fork during init" KASHIM_IDLE=13 "$B/fork_init" 13,15,4,0; rc=$?
	WRAP=
	quiet $rc
	"$B/fork_init" 13,15,4,0 >/dev/null 2>&1
	if [ $? -ne 0 ]; then pass "$NAME: control: fork_init fails without kashim"
	else bad "fork during init: passes without kashim"; fi
}

sockets() {
	echo "== $NAME: exports"
	exports=$(nm -D --defined-only "$LIB" | awk '{print $3}' | sort | tr '\n' ' ')
	want=$(kashim_exports_want "$LIB")
	if [ "$exports" = "$want" ]; then pass "$NAME: exports"
	else fail "$NAME: exports '$exports', want '$want'"; fi

	echo "== $NAME: every kind of TCP socket"
	"$B/tcp_kinds" none >"$T/out" 2>"$T/err"; name="control, no preload"; quiet $?
	run "defaults" "$B/tcp_kinds" 60,15,4,0; quiet $?
	run "all values" KASHIM_IDLE=20 KASHIM_INTERVAL=5 KASHIM_COUNT=3 \
		KASHIM_USER_TIMEOUT=auto "$B/tcp_kinds" 20,5,3,35000; quiet $?
	run "disabled" KASHIM_ENABLE=0 "$B/tcp_kinds" none; quiet $?
	run "incoming only" KASHIM_DIRECTION=incoming "$B/tcp_kinds" none 60,15,4,0; quiet $?
	run "this program" KASHIM_PROGRAMS='tcp_*' KASHIM_IDLE=8 "$B/tcp_kinds" 8,15,4,0; quiet $?
	run "respected" KASHIM_USER_TIMEOUT=5000 "$B/own_choice" respect 60,15,4,5000; quiet $?
	run "overridden" KASHIM_USER_TIMEOUT=5000 KASHIM_OVERRIDE=1 \
		"$B/own_choice" override 60,15,4,5000; quiet $?
	run "threads" KASHIM_IDLE=11 "$B/threads_fork" threads 11,15,4,0; quiet $?
	run "fork" KASHIM_IDLE=12 "$B/threads_fork" fork 12,15,4,0; quiet $?
	run "kashim first" CTOR_EXPECT=60,15,4,0 LD_PRELOAD="$LIB $B/libctor.so" "$B/hello"; quiet $?
	run "kashim second" CTOR_EXPECT=60,15,4,0 LD_PRELOAD="$B/libctor.so $LIB" "$B/hello"; quiet $?
}

config() {
	echo "== $NAME: a config file, read by this build's module"
	printf '%s\n' 'idle = 30' 'rule "in" {' '  direction = incoming' '  idle = 22' \
		'  user_timeout = 7000' '}' >"$T/k.conf"
	chmod 644 "$T/k.conf"
	name="rule by direction"
	env KASHIM_CONFIG="$T/k.conf" LD_PRELOAD="$LIB" "$B/tcp_kinds" 30,15,4,0 22,15,4,7000 \
		>"$T/out" 2>"$T/err"
	quiet $?
	run "bad variable" KASHIM_IDLE=abc "$B/tcp_kinds" none
	if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^kashim\[[0-9]*\]: KASHIM_IDLE=abc: " "$T/err"
	then ok; else bad "bad variable: want one error line naming it"; fi
}

# strace follows the program only where it runs natively, not under qemu.
non_tcp() {
	echo "== $NAME: sockets that are not TCP"
	if ! command -v strace >/dev/null || ! strace -qq -o /dev/null "$B/hello" 2>/dev/null; then
		skip "$NAME: sockets that are not TCP: strace cannot trace $NAME programs here"
		return 0
	fi
	WRAP="strace -f -qq -e trace=setsockopt -o $T/trace"
	run "not TCP" "$B/non_tcp"
	rc=$?
	WRAP=
	# A protocol the kernel lacks is a SKIP line on stdout, passed on.
	grep '^SKIP: ' "$T/out" | sed "s/^SKIP: /SKIP: $NAME: /"
	if [ $rc -ne 0 ] || [ -s "$T/err" ]; then bad "not TCP: exit $rc"
	elif grep -qv '^SKIP: ' "$T/out"; then cp "$T/out" "$T/err"; bad "not TCP: unexpected output"
	elif grep -q setsockopt "$T/trace"; then cp "$T/trace" "$T/err"; bad "not TCP: setsockopt"
	else ok; fi
}

fork_test
if [ "$WHAT" = all ]; then
	sockets
	config
	non_tcp
fi
summary "$NAME"
