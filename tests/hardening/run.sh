#!/bin/sh
# run.sh SECTION... - the hardening tests (tests/hardening/*.c), run from
# the top of the tree. Sections:
#   threads   8 threads x 2,000 connections, every socket read back
#   forks     connections after fork(), and forks racing threads
#   fdreuse   fd numbers changed behind kashim's back (dup2, fclose, raw)
#   refused   seccomp makes TCP_KEEPIDLE, then SO_KEEPALIVE, fail: one
#             warning per option per process, connections go on
#   conf      threads and fdreuse with a config file with rules
#   signals   the first connect from a signal handler: during the
#             settings read, and in the middle of malloc() (no hang)
#   pointers  bad pointers to connect, sendto, sendmsg, accept: EFAULT
#   vfork     what a vfork() child closes leaves the parent's state alone
#   fcntl     fcntl(F_DUPFD) copies keep what kashim knew; the rest passes
#   closed    close_range, closefrom, raw close, then a received socket
#   raw       a SOCK_RAW IPPROTO_TCP socket gets no setsockopt (strace)
#   syslog    kashim's syslog holds no fd and closes none (mount namespace)
#   logfifo   a FIFO as log file does not block the program
#   highfd    fds past the table (a build with a 64-entry table)
#   all       every section above
#   valgrind  memcheck over the programs above, the preload test
#             programs and the config parser with rules
#   preload   the preload test programs under the library (for the
#             sanitizer build)
# Environment: KASHIM_LIB (default src/libkashim.so), HARD_PRELOAD_FIRST
# (a runtime to preload before it: the ASan one), HARD_CONN (connections
# per thread in `threads`, default 2000).
set -u
cd "$(dirname "$0")/../.." || exit 1

B=tests/build/hardening
LIB=$(realpath "${KASHIM_LIB:-src/libkashim.so}") || exit 1
PRE=${HARD_PRELOAD_FIRST:+$HARD_PRELOAD_FIRST }$LIB
. tests/lib/lib.sh
TMP=$T
sockets=0

# Values neither the kernel's (7200/75/9) nor kashim's (60/15/4).
kashim_env_clear
export KASHIM_CONFIG='' KASHIM_IDLE=17 KASHIM_INTERVAL=7 KASHIM_COUNT=3
# A sanitizer in the library: it reports with its own exit code.
export ASAN_OPTIONS=exitcode=98:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=exitcode=98:print_stacktrace=1:halt_on_error=1

# Run a program under the library with a time bound (-t SECONDS, else
# 120); "ok:" lines from the program are counted into $sockets. Returns
# the program's status (124: out of time).
under() {
	limit=120
	if [ "$1" = -t ]; then limit=$2; shift 2; fi
	timeout -k 5 "$limit" env LD_PRELOAD="$PRE" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	cat "$TMP/out"
	n=$(sed -n 's/.* \([0-9][0-9]*\) sockets checked$/\1/p' "$TMP/out")
	sockets=$((sockets + ${n:-0}))
	[ "$rc" -eq 0 ] && pass "$*"
	return $rc
}

# Report a failed step with what it wrote on stderr.
bad() {
	fail "$*"
	sed 's/^/    /' "$TMP/err" | head -20
}

t_threads() {
	under "$B/threads" 8 "${HARD_CONN:-2000}" || bad "threads"
}

t_forks() {
	under "$B/forks" || bad "forks"
}

t_fdreuse() {
	under "$B/fdreuse" || bad "fdreuse"
}

# One process, 4 threads x 250 connections and as many accepts, then a
# forked child with 50, under a kernel refusing option $1 (label $2): one
# warning line per process, naming it.
t_refused_one() {
	under KASHIM_LOG=warn "$B/refuse" "$1" "$B/refused" "$1" ||
		{ bad "refused $1"; return; }
	lines=$(grep -c . "$TMP/err")
	warns=$(grep -c "^kashim\[[0-9]*\]: setsockopt($2=.*refused: Operation not permitted" "$TMP/err")
	pids=$(sed 's/^kashim\[\([0-9]*\)\].*/\1/' "$TMP/err" | sort -u | wc -l)
	if [ "$lines" != 2 ] || [ "$warns" != 2 ] || [ "$pids" != 2 ]; then
		bad "refused $1: want one warning about $2 from each of 2 processes, got $lines line(s), $warns about $2, $pids PID(s)"
		return
	fi
	echo "ok: refused $1: one warning per process for 2100 sockets: $(tr '\n' ' ' <"$TMP/err")"
}

# The library reading a config file with rules through its module: the
# rules leave loopback on ephemeral ports to the top level (env values).
t_conf() {
	cp tests/fixtures/hardening/rules.conf "$TMP/kashim.conf"
	chmod 600 "$TMP/kashim.conf"
	under KASHIM_CONFIG="$TMP/kashim.conf" "$B/threads" 4 200 ||
		bad "conf: threads under a config file with rules"
	under KASHIM_CONFIG="$TMP/kashim.conf" "$B/fdreuse" ||
		bad "conf: fdreuse under a config file with rules"
}

# The first TCP connect from a signal handler. in-read: during the read
# of a config file of 3,000 rules (a handler that waited on its own
# thread's read hung every time); in-malloc: a handler that interrupted
# malloc() (hung in most runs when parsing called malloc), 10 runs.
t_signals() {
	i=0
	while [ $i -lt 3000 ]; do
		i=$((i + 1))
		printf 'rule "r%d" {\n  ports = {%d}\n  idle = 30\n}\n' $i $i
	done >"$TMP/big.conf"
	chmod 600 "$TMP/big.conf"
	under -t 30 KASHIM_CONFIG="$TMP/big.conf" "$B/signal_connect" in-read ||
		bad "signals: connect in a handler during the settings read (124: hung)"
	i=0
	while [ $i -lt 10 ]; do
		i=$((i + 1))
		under -t 20 KASHIM_PORTS=1-65535,80 "$B/signal_connect" in-malloc >/dev/null ||
			{ bad "signals: first connect in a handler that interrupted malloc, run $i (124: hung)"; return; }
	done
	echo "ok: signals: 10 runs of a first connect in a handler amid malloc()"
}

# Under ASan, its own accept() interceptor reads *addrlen before the call
# (and dies of it, kashim or not): there only connect and the sends.
t_pointers() {
	if [ -n "${HARD_PRELOAD_FIRST:-}" ]; then
		echo "note: pointers under ASan: connect and the sends only; accept and accept4 are proven by check-hardening (ASan's own accept() interceptor reads the length first)"
		under "$B/bad_pointer" no-accept ||
			bad "pointers: a bad pointer must give EFAULT"
		return
	fi
	under "$B/bad_pointer" || bad "pointers: a bad pointer must give EFAULT"
}

t_vfork() {
	if ! nm -D --defined-only "$LIB" | grep -q ' vfork$'; then
		echo "SKIP: vfork: $(basename "$LIB") has no vfork hook (x86-64 without -fcf-protection only)"
		return
	fi
	under "$B/vfork_close" || bad "vfork: a vfork child changed the parent's state"
}

t_fcntl() {
	under "$B/fcntl_dup" || bad "fcntl: F_DUPFD copies, other commands"
}

t_closed() {
	under "$B/closed_behind" || bad "closed: a socket on a number closed behind kashim's back"
}

# A raw TCP socket: no setsockopt may appear in the trace.
t_raw() {
	if ! command -v strace >/dev/null; then
		fail "raw: strace is not installed"; return
	fi
	# LeakSanitizer cannot run under ptrace: no leak check here.
	under ASAN_OPTIONS=exitcode=98:detect_leaks=0 \
		strace -f -qq -e trace=setsockopt -o "$TMP/trace" "$B/raw_tcp"
	case $? in
	0) ;;
	2) echo "SKIP: raw: $(cat "$TMP/err")"; return ;;
	*) bad "raw: a SOCK_RAW IPPROTO_TCP socket"; return ;;
	esac
	if grep -q setsockopt "$TMP/trace"; then
		fail "raw: kashim called setsockopt on a raw socket:"
		sed 's/^/    /' "$TMP/trace" | head -5
	fi
}

# syslog in a mount namespace whose /dev is a tmpfs: the program binds
# its own /dev/log; the machine's is never touched.
t_syslog() {
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
		echo "SKIP: syslog: needs root and unshare for a private /dev"
		return
	fi
	# shellcheck disable=SC2016
	under KASHIM_LOG=info KASHIM_LOG_TARGET=syslog unshare -m sh -c \
		'mount -t tmpfs kashim-test /dev && exec "$0"' "$B/syslog_fd" ||
		bad "syslog: logging closed or kept a program's fd"
}

# A FIFO as log file: no reader, the program goes on (it used to block in
# open() for ever); a regular file still gets the lines.
t_logfifo() {
	rm -f "$TMP/fifo" "$TMP/kashim.log"
	mkfifo "$TMP/fifo"
	under -t 30 KASHIM_LOG=info KASHIM_LOG_TARGET="$TMP/fifo" "$B/threads" 1 5 ||
		bad "logfifo: a FIFO log target (124: the program hung)"
	under KASHIM_LOG=info KASHIM_LOG_TARGET="$TMP/kashim.log" "$B/threads" 1 5 ||
		bad "logfifo: a regular log file"
	[ "$(grep -c '^kashim\[' "$TMP/kashim.log" 2>/dev/null)" -ge 10 ] ||
		fail "logfifo: the regular log file did not get one line per socket"
}

# fds past the table, under the build with a 64-entry table.
t_highfd() {
	small=$B/small/libkashim.so
	if [ ! -e "$small" ]; then
		fail "highfd: $small is not built (make check-hardening builds it)"
		return
	fi
	saved_pre=$PRE
	PRE=${HARD_PRELOAD_FIRST:+$HARD_PRELOAD_FIRST }$(realpath "$small")
	under "$B/high_fd"
	case $? in
	0) ;;
	2) echo "SKIP: highfd: $(cat "$TMP/err")" ;;
	*) bad "highfd: fds past the table" ;;
	esac
	PRE=$saved_pre
}

t_refused() {
	t_refused_one keepidle TCP_KEEPIDLE
	t_refused_one keepalive SO_KEEPALIVE
}

# The preload test programs (named by tests/preload/*.c, built in
# tests/build/) and how to run each: the lines of preload.list, as
# "PROGRAM|ENV|ARGS". A built program with no line is reported.
preload_runs() {
	for c in tests/preload/*.c; do
		[ -e "$c" ] || continue
		name=$(basename "$c" .c)
		[ -x "tests/build/$name" ] || continue
		grep -q "^$name *|" tests/hardening/preload.list ||
			echo "NOTE: tests/build/$name has no line in tests/hardening/preload.list: not run" >&2
		grep "^$name *|" tests/hardening/preload.list |
			sed 's/ *| */|/g; s/ *$//'
	done
}

# Run one line of preload.list ($1) with $1 prefix words (valgrind);
# sets rc. Skips (rc=skip) what needs a missing helper or no sanitizer.
preload_one() {
	line=$1; shift
	name=${line%%|*}; rest=${line#*|}
	envs=${rest%%|*}; args=${rest#*|}
	before='' nosan='' extra=''
	for e in $envs; do
		case $e in
		BEFORE=*) before=tests/build/${e#BEFORE=} ;;
		NOSAN=*) nosan=1 ;;
		*) extra="$extra $e" ;;
		esac
	done
	if [ -n "$before" ] && [ ! -e "$before" ]; then
		echo "skip: $name $args: $before is not built (make check-preload builds it)"
		rc=skip; return
	fi
	if [ -n "$nosan" ] && [ -n "${HARD_PRELOAD_FIRST:-}" ]; then rc=skip; return; fi
	pre=${HARD_PRELOAD_FIRST:+$HARD_PRELOAD_FIRST }${before:+$(realpath "$before") }$LIB
	# shellcheck disable=SC2086
	timeout -k 10 300 env LD_PRELOAD="$pre" $extra "$@" "tests/build/$name" $args \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	what="$name${args:+ $args}${extra:+ (with$extra)}${before:+ (after $(basename "$before"))}"
}

t_preload() {
	n=0
	preload_runs >"$TMP/list"
	while IFS= read -r l; do
		preload_one "$l"
		[ "$rc" = skip ] && continue
		n=$((n + 1))
		if [ $rc = 98 ]; then
			bad "preload: $what: sanitizer error under $LIB"
		elif [ $rc != 0 ]; then
			bad "preload: $what: exit status $rc under $LIB"
		fi
	done <"$TMP/list"
	echo "ok: preload: $n run(s) of the preload test programs under $(basename "$LIB")${HARD_PRELOAD_FIRST:+ + $(basename "$HARD_PRELOAD_FIRST")}"
}

VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-fds=no"

# memcheck one command, run under the library unless $1 is -n; $VG_ENV
# holds extra VAR=value words, $VG_WRAP a command valgrind runs under.
vg_one() {
	pre=$PRE
	if [ "$1" = -n ]; then pre=; shift; fi
	# shellcheck disable=SC2086
	timeout -k 10 300 env ${pre:+LD_PRELOAD="$pre"} $VG_ENV $VG_WRAP $VG "$@" \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	vg_runs=$((vg_runs + 1))
	if [ $rc = 99 ] || grep -q '^==[0-9]*== ' "$TMP/err"; then
		bad "valgrind: $*: memcheck errors"
	elif [ $rc != 0 ]; then
		bad "valgrind: $*: exit status $rc"
	fi
}

t_valgrind() {
	if ! command -v valgrind >/dev/null; then
		fail "valgrind is not installed"; return
	fi
	vg_runs=0 VG_ENV='' VG_WRAP=''
	vg_one "$B/threads" 4 100
	vg_one "$B/forks"
	vg_one "$B/fdreuse"
	vg_one "$B/fcntl_dup"
	vg_one "$B/closed_behind"
	VG_WRAP="$B/refuse keepidle"
	vg_one "$B/refused" keepidle 2 50
	VG_WRAP="$B/refuse keepalive"
	vg_one "$B/refused" keepalive 2 50
	VG_WRAP=
	vg_one -n "$B/conf_load" tests/fixtures/hardening/rules.conf \
		tests/fixtures/hardening/bad-rule.conf 3
	# The library reading that config file itself, through its module.
	cp tests/fixtures/hardening/rules.conf "$TMP/kashim.conf"
	chmod 600 "$TMP/kashim.conf"
	VG_ENV=KASHIM_CONFIG=$TMP/kashim.conf
	vg_one "$B/fdreuse"
	vg_one "$B/threads" 2 50
	VG_ENV=
	preload_runs >"$TMP/list"
	while IFS= read -r l; do
		# shellcheck disable=SC2086
		preload_one "$l" $VG
		[ "$rc" = skip ] && continue
		vg_runs=$((vg_runs + 1))
		if [ $rc = 99 ] || grep -q '^==[0-9]*== ' "$TMP/err"; then
			bad "valgrind: $what: memcheck errors"
		elif [ $rc != 0 ]; then
			bad "valgrind: $what: exit status $rc"
		fi
	done <"$TMP/list"
	echo "ok: valgrind: $vg_runs memcheck run(s), no error, no definite leak"
}

[ $# -gt 0 ] || set -- all valgrind
for s in "$@"; do
	case $s in
	all) t_threads; t_forks; t_fdreuse; t_conf; t_refused; t_signals
	     t_pointers; t_vfork; t_fcntl; t_closed; t_raw; t_syslog
	     t_logfifo; t_highfd ;;
	threads|forks|fdreuse|conf|refused|valgrind|preload|signals|pointers|\
	vfork|fcntl|closed|raw|syslog|logfifo|highfd) "t_$s" ;;
	*) echo "run.sh: unknown section $s" >&2; exit 2 ;;
	esac
done
echo "hardening: $sockets sockets checked under $(basename "$LIB")${HARD_PRELOAD_FIRST:+ (+ $(basename "$HARD_PRELOAD_FIRST"))}"
summary hardening
