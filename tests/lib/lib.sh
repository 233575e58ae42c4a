# lib.sh - what every shell test shares. Source it: `. tests/lib/lib.sh`.
#
#   pass MSG      count a passed step (prints "PASS: MSG" when VERBOSE=1)
#   fail MSG [DETAIL...]  count a failed step, print "FAIL: MSG" and each
#                 DETAIL on a line of its own
#   skip MSG      print "SKIP: MSG" (a reason is required; never silent)
#   summary NAME  print "NAME: N passed, N failed" and exit 1 on a failure
#   run CMD...    run CMD: RC, OUT (stdout) and ERR (stderr) are set
#   expect NAME WANT GOT, contains NAME NEEDLE TEXT, lacks NAME NEEDLE
#                 TEXT  one step each, passed or failed with what differed
#   kashim_env_clear  unset every KASHIM_* variable of the environment,
#                 whatever its name, so no setting of the caller's leaks in
#   $T            a private temporary directory, removed at exit
#   $PIDS         processes the test started: add each PID, and the exit
#                 kills and reaps them by PID before $T goes
#
# A script that needs its own EXIT trap calls lib_cleanup from it.

lib_pass=0
lib_fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/kashim-test.XXXXXX") || exit 1

PIDS=

lib_cleanup() {
	for lib_pid in $PIDS; do kill "$lib_pid" 2>/dev/null; done
	for lib_pid in $PIDS; do wait "$lib_pid" 2>/dev/null; done
	rm -rf "$T"
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM

pass() {
	lib_pass=$((lib_pass + 1))
	[ "${VERBOSE:-0}" = 1 ] && echo "PASS: $*"
	return 0
}

fail() {
	lib_fail=$((lib_fail + 1))
	echo "FAIL: $1"
	shift
	for lib_line in "$@"; do echo "       $lib_line"; done
	return 0
}

skip() {
	echo "SKIP: ${*:?skip needs a reason}"
}

summary() {
	echo "$1: $lib_pass passed, $lib_fail failed"
	[ "$lib_fail" -eq 0 ] || exit 1
}

kashim_env_clear() {
	for lib_var in $(env | sed -n 's/^\(KASHIM_[A-Za-z0-9_]*\)=.*/\1/p'); do
		unset "$lib_var"
	done
	unset lib_var
}

# kashim_exports_want LIB: the functions LIB must export, sorted, one
# line with a space after each: the interposed libc functions, and vfork
# where its assembly trampoline exists (x86-64 built without
# -fcf-protection). The one list the export checks share.
kashim_exports_want() {
	lib_vfork=
	if readelf -h "$1" 2>/dev/null | grep -q 'Machine:.*X86-64' &&
		! ${CC:-cc} -dM -E -x c /dev/null | grep -q __CET__; then
		lib_vfork="vfork "
	fi
	echo "accept accept4 close close_range closefrom connect dup dup2 dup3 fclose fcntl fcntl64 listen recvmsg sendmsg sendto setsockopt socket $lib_vfork"
}

# wait_file FILE [SECONDS]: wait until FILE exists, at most SECONDS
# (default 20); true when it does.
wait_file() {
	lib_i=0
	while [ ! -e "$1" ] && [ $lib_i -lt $((${2:-20} * 10)) ]; do
		sleep 0.1
		lib_i=$((lib_i + 1))
	done
	[ -e "$1" ]
}

run() {
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out" 2>/dev/null)
	ERR=$(cat "$T/err" 2>/dev/null)
}

expect() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "wanted: $2" "got:    $3"; fi
}

contains() {
	case $3 in
	*"$2"*) pass "$1" ;;
	*) fail "$1" "wanted to find: $2" "in: $3" ;;
	esac
}

lacks() {
	case $3 in
	*"$2"*) fail "$1" "did not want: $2" "in: $3" ;;
	*) pass "$1" ;;
	esac
}
