#!/bin/sh
# run.sh - the preload tests: small programs run under LD_PRELOAD that
# read their sockets' options back. Run from the top of the tree.
set -u
LIB=$PWD/src/libkashim.so
B=$PWD/tests/build
. tests/lib/lib.sh
kashim_env_clear

ok() { pass "${name:-step}"; }
bad() { fail "$*"; sed 's/^/    /' "$T/err" | head -20; }

# run NAME [VAR=VALUE…] -- PROGRAM ARGS: run under kashim, with no config
# file unless one is given, stdout to $T/out and stderr to $T/err.
run() {
	name=$1; shift
	env KASHIM_CONFIG= LD_PRELOAD="$LIB" "$@" >"$T/out" 2>"$T/err"
}

# expect NAME STATUS: the last run ended with STATUS and wrote nothing
# on stdout or stderr.
quiet() {
	rc=$1
	if [ "$rc" -ne 0 ]; then bad "$name: exit $rc"
	elif [ -s "$T/out" ] || [ -s "$T/err" ]; then
		bad "$name: unexpected output"; cat "$T/out"
	else ok; fi
}

echo "== exports"
exports=$(nm -D --defined-only "$LIB" | awk '{print $3}' | sort | tr '\n' ' ')
want=$(kashim_exports_want "$LIB")
if [ "$exports" = "$want" ]; then ok; else
	fail "exports '$exports', want '$want'"; fi

echo "== every kind of TCP socket"
"$B/tcp_kinds" none >"$T/out" 2>"$T/err"; name="control, no preload"; quiet $?
run "defaults" "$B/tcp_kinds" 60,15,4,0; quiet $?
run "all values" KASHIM_IDLE=20 KASHIM_INTERVAL=5 KASHIM_COUNT=3 \
	KASHIM_USER_TIMEOUT=auto "$B/tcp_kinds" 20,5,3,35000; quiet $?
run "user timeout" KASHIM_USER_TIMEOUT=5000 "$B/tcp_kinds" 60,15,4,5000; quiet $?
run "disabled" KASHIM_ENABLE=0 "$B/tcp_kinds" none; quiet $?
run "outgoing only" KASHIM_DIRECTION=outgoing "$B/tcp_kinds" 60,15,4,0 none; quiet $?
run "incoming only" KASHIM_DIRECTION=incoming "$B/tcp_kinds" none 60,15,4,0; quiet $?
run "other ports" KASHIM_PORTS=1-1023 "$B/tcp_kinds" none; quiet $?
run "loopback hosts" KASHIM_HOSTS=127.0.0.0/8,::1 KASHIM_IDLE=9 \
	"$B/tcp_kinds" 9,15,4,0; quiet $?
run "other hosts" KASHIM_HOSTS=10.0.0.0/8,2001:db8::/32 "$B/tcp_kinds" none; quiet $?
run "this program" KASHIM_PROGRAMS='tcp_*' KASHIM_IDLE=8 "$B/tcp_kinds" 8,15,4,0; quiet $?
run "other programs" KASHIM_PROGRAMS='mosquitto*' "$B/tcp_kinds" none; quiet $?

echo "== sockets that are not TCP"
if command -v strace >/dev/null; then
	run "not TCP" strace -f -qq -e trace=setsockopt -o "$T/trace" "$B/non_tcp"
	rc=$?
	# A protocol the kernel lacks is a SKIP line on stdout, passed on.
	grep '^SKIP: ' "$T/out"
	if [ $rc -ne 0 ] || [ -s "$T/err" ]; then bad "not TCP: exit $rc"
	elif grep -qv '^SKIP: ' "$T/out"; then
		cp "$T/out" "$T/err"; bad "not TCP: unexpected output"
	elif grep -q setsockopt "$T/trace"; then
		cp "$T/trace" "$T/err"; bad "not TCP: setsockopt was called"
	else ok; fi
else
	fail "strace missing"
fi

echo "== the program's own choice"
run "respected" KASHIM_USER_TIMEOUT=5000 "$B/own_choice" respect 60,15,4,5000; quiet $?
run "overridden" KASHIM_USER_TIMEOUT=5000 KASHIM_OVERRIDE=1 \
	"$B/own_choice" override 60,15,4,5000; quiet $?

echo "== listening sockets: the settings go on the listener once"
# Each accepted socket is read back; the listener itself shows whether
# kashim used it (kashim) or left it alone (untouched).
run "IPv4, accept and accept4" "$B/listen" v4 60,15,4,0 kashim; quiet $?
run "IPv6" KASHIM_IDLE=31 "$B/listen" v6 31,15,4,0 kashim; quiet $?
if unshare -n true 2>/dev/null; then
	run "dual-stack" unshare -n sh -c "ip link set lo up && exec $B/listen dual 60,15,4,0 kashim"
	quiet $?
else
	skip "dual-stack: no network namespace of its own here (unshare -n: needs root)"
fi
run "connections queued before the first accept" "$B/listen" queued 60,15,4,0 kashim; quiet $?
run "threads racing for the first accepts" "$B/listen" threads 60,15,4,0 kashim; quiet $?
run "children accepting after fork" "$B/listen" fork 60,15,4,0 kashim; quiet $?
run "the program's own keep-alive on the listener" "$B/listen" own own untouched; quiet $?
run "... with override" KASHIM_OVERRIDE=1 "$B/listen" own 60,15,4,0 kashim; quiet $?
run "listener = false (environment)" KASHIM_LISTENER=0 "$B/listen" v4 60,15,4,0 untouched; quiet $?
run "top-level hosts: per accept" KASHIM_HOSTS=127.0.0.0/8 KASHIM_IDLE=9 \
	"$B/listen" v4 9,15,4,0 untouched; quiet $?
# A listener left draining, then its number given to something new: the
# new listener (or client) gets kashim's values like any other.
for how in dup2 dup3 dup fcntl scm close close_range client; do
	run "a draining listener's number reused ($how)" "$B/listen_reuse" $how 60,15,4,0; quiet $?
done
run "... with a port rule" KASHIM_PORTS=1024-65535 KASHIM_IDLE=33 "$B/listen_reuse" dup2 33,15,4,0; quiet $?
# inherit PARENT-ARGS…: the listener made by a parent without kashim.
inherit() {
	name=$1; shift
	env KASHIM_CONFIG= KASHIM_LIB="$LIB" "$@" >"$T/out" 2>"$T/err"
}
inherit "inherited from a parent without kashim" "$B/listen" parent plain check - 60,15,4,0 kashim; quiet $?
inherit "inherited with keep-alive on (systemd KeepAlive=yes)" \
	"$B/listen" parent own check - own untouched; quiet $?
inherit "... with override" KASHIM_OVERRIDE=1 "$B/listen" parent own check - 60,15,4,0 kashim; quiet $?
conf() { printf '%s\n' "$@" >"$T/k.conf"; chmod 644 "$T/k.conf"; }
runc() { name=$1; shift; env KASHIM_CONFIG="$T/k.conf" LD_PRELOAD="$LIB" "$@" >"$T/out" 2>"$T/err"; }
conf 'rule "lan" {' '  hosts = {"127.0.0.0/8", "::1"}' '  direction = incoming' '  idle = 23' '}'
runc "a rule with hosts: per accept, still right" "$B/listen" v4 23,15,4,0 untouched; quiet $?
conf 'rule "low" {' '  ports = {"1-1023"}' '  hosts = {"127.0.0.0/8"}' '  idle = 23' '}' \
	'rule "rest" {' '  direction = incoming' '  idle = 24' '}'
runc "a rule with hosts for other ports: the listener" "$B/listen" v4 24,15,4,0 kashim; quiet $?
conf 'listener = false' 'idle = 25'
runc "listener = false (file)" "$B/listen" v4 25,15,4,0 untouched; quiet $?

# Per accept, no setsockopt, getsockopt or getsockname: the counts of a
# run of 5 accepts and of 40 are the same. The control with a hosts rule
# shows that the comparison sees per-accept calls.
# percall NAME RUN-ARGS…: strace counts of the three calls, 5 and 40 accepts.
percall() {
	name=$1; shift
	for n in 5 40; do
		env KASHIM_CONFIG= KASHIM_DIRECTION=incoming KASHIM_LIB="$LIB" \
			strace -f -qq -c -U calls,name -o "$T/c$n" "$@" "$n" >"$T/out" 2>"$T/err" ||
			{ bad "$name: exit $?"; return 1; }
		awk '$2 ~ /^(setsockopt|getsockopt|getsockname)$/ { print $2, $1 }' "$T/c$n" |
			sort >"$T/s$n"
	done
	cmp -s "$T/s5" "$T/s40"
}
if command -v strace >/dev/null; then
	if percall "made here" env LD_PRELOAD="$LIB" "$B/listen" count; then ok
	else bad "made here: calls per accept: $(tr '\n' ' ' <"$T/s5") vs $(tr '\n' ' ' <"$T/s40")"; fi
	if percall "inherited" "$B/listen" parent plain count; then ok
	else bad "inherited: calls per accept: $(tr '\n' ' ' <"$T/s5") vs $(tr '\n' ' ' <"$T/s40")"; fi
	if percall "control" env KASHIM_HOSTS=127.0.0.1 LD_PRELOAD="$LIB" "$B/listen" count; then
		bad "control: a hosts rule must cost calls per accept: the count proves nothing"
	else name=control; ok; fi
else
	fail "strace missing"
fi

echo "== another preloaded library's constructor, both orders"
run "kashim first" CTOR_EXPECT=60,15,4,0 LD_PRELOAD="$LIB $B/libctor.so" /bin/true; quiet $?
run "kashim second" CTOR_EXPECT=60,15,4,0 LD_PRELOAD="$B/libctor.so $LIB" /bin/true; quiet $?
env CTOR_EXPECT=60,15,4,0 LD_PRELOAD="$B/libctor.so" /bin/true 2>/dev/null
if [ $? -eq 3 ]; then ok; else bad "constructor control: the check cannot fail"; fi

echo "== threads, fork, a missing real symbol"
run "threads" KASHIM_IDLE=11 "$B/threads_fork" threads 11,15,4,0; quiet $?
run "fork" KASHIM_IDLE=12 "$B/threads_fork" fork 12,15,4,0; quiet $?
run "ENOSYS" LD_PRELOAD="$B/libnodlsym.so $LIB" "$B/enosys"; quiet $?

echo "== bad variables: one error naming it, then hands off"
for v in KASHIM_IDLE=abc KASHIM_IDLE=0 KASHIM_INTERVAL=32768 KASHIM_COUNT=1000 \
	KASHIM_USER_TIMEOUT=soon KASHIM_ENABLE=maybe KASHIM_OVERRIDE=2 \
	KASHIM_PORTS=99999 KASHIM_PORTS=2000-1000 KASHIM_HOSTS=example.com \
	KASHIM_HOSTS=10.0.0.0/40 KASHIM_PROGRAMS=/usr/bin/x KASHIM_DIRECTION=up \
	KASHIM_LOG=loud KASHIM_LOG_TARGET=kashim.log; do
	run "$v" "$v" "$B/tcp_kinds" none
	rc=$?
	lines=$(wc -l <"$T/err")
	if [ $rc -ne 0 ] || [ -s "$T/out" ]; then bad "$v: exit $rc or stdout"
	elif [ "$lines" -ne 1 ] || ! grep -q "^kashim\[[0-9]*\]: $v: " "$T/err"; then
		bad "$v: want one error line naming it"
	else ok; fi
done

echo "== logging"
run "info" KASHIM_LOG=info "$B/threads_fork" threads 60,15,4,0
if grep -q '^kashim\[[0-9]*\]: fd [0-9]* to 127.0.0.1:[0-9]* rule "default": TCP_KEEPIDLE=60 TCP_KEEPINTVL=15 TCP_KEEPCNT=4 SO_KEEPALIVE=1$' "$T/err" &&
	[ "$(grep -c ' to 127' "$T/err")" -eq 8 ] && [ ! -s "$T/out" ]; then ok
else bad "info: one line per socket changed"; fi
run "file" KASHIM_LOG=info KASHIM_LOG_TARGET="$T/k.log" "$B/tcp_kinds" 60,15,4,0
if [ ! -s "$T/err" ] && [ "$(grep -c 'rule "default"' "$T/k.log")" -ge 16 ]; then ok
else bad "log file: lines go to the file, none to stderr"; fi

echo "== debug: why a socket was left alone, and the file read"
# has NAME PATTERN: the last run exited 0 and its stderr holds PATTERN.
has() {
	if [ "$rc" -eq 0 ] && grep -q "$2" "$T/err"; then pass "$1"
	else fail "$1: exit $rc, no line matching: $2"; sed 's/^/    /' "$T/err" | head -8; fi
}
printf 'idle = 30\nrule "off" {\n  ports = {"1-65535"}\n  direction = outgoing\n  enable = false\n}\n' >"$T/why.conf"
chmod 644 "$T/why.conf"
run "debug" KASHIM_CONFIG="$T/why.conf" KASHIM_LOG=debug "$B/tcp_kinds" none 30,15,4,0; rc=$?
has "debug: rule with enable = false named" 'left alone: rule "off" has enable = false$'
has "debug: the config file named" "settings read: config file $T/why.conf, active"
run "info" KASHIM_CONFIG="$T/why.conf" KASHIM_LOG=info "$B/tcp_kinds" none 30,15,4,0; rc=$?
if [ "$rc" -eq 0 ] && ! grep -q "left alone" "$T/err" && grep -q 'rule "default"' "$T/err"; then pass "info: only sockets changed"
else fail "info: only sockets changed, no line for those left alone"; sed 's/^/    /' "$T/err" | head -8; fi
run "no rule" KASHIM_PORTS=1-1023 KASHIM_LOG=debug "$B/tcp_kinds" none; rc=$?
has "debug: no rule matched" 'left alone: no rule matched (port [0-9]*)'
has "debug: no config file" "settings read: config file none"
run "direction" KASHIM_DIRECTION=incoming KASHIM_LOG=debug "$B/tcp_kinds" none 60,15,4,0; rc=$?
has "debug: direction" 'to 127.0.0.1:[0-9]* left alone: direction: rule "default" is for incoming connections only'
run "own choice" KASHIM_LOG=debug "$B/own_choice" respect 60,15,4,0; rc=$?
has "debug: the program's own choice" 'left alone: the program set its own keep-alive (override = false)$'
printf 'idle = 0\n' >"$T/broken.conf"
chmod 644 "$T/broken.conf"
run "inactive" KASHIM_CONFIG="$T/broken.conf" KASHIM_LOG=debug "$B/tcp_kinds" none; rc=$?
has "debug: inactive after an error" 'left alone: kashim is inactive because of the error above$'
run "switched off" KASHIM_ENABLE=0 KASHIM_LOG=debug "$B/tcp_kinds" none; rc=$?
has "debug: switched off" 'left alone: kashim is switched off (enable = false)$'

echo "== a named config file that is missing"
run "missing" KASHIM_CONFIG="$T/no-such.conf" "$B/tcp_kinds" none; rc=$?
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
	grep -q "^kashim\[[0-9]*\]: $T/no-such.conf: No such file or directory (named by KASHIM_CONFIG); leaving every socket alone$" "$T/err"; then ok
else bad "missing KASHIM_CONFIG file: one error, sockets left alone"; fi
run "missing, log none" KASHIM_CONFIG="$T/no-such.conf" KASHIM_LOG=none "$B/tcp_kinds" none; quiet $?

echo "== config file rules on real connections"
conf() { printf '%s\n' "$@" >"$T/k.conf"; chmod 644 "$T/k.conf"; }
runc() { name=$1; shift; env KASHIM_CONFIG="$T/k.conf" LD_PRELOAD="$LIB" "$@" >"$T/out" 2>"$T/err"; }
conf 'idle = 30' 'rule "in" {' '  direction = incoming' '  idle = 22' '}'
runc "rule by direction" "$B/tcp_kinds" 30,15,4,0 22,15,4,0; quiet $?
conf 'idle = 30' 'rule "high" {' '  ports = {"1024-65535"}' '  direction = outgoing' \
	'  count = 7' '}' 'rule "off" {' '  hosts = {"127.0.0.1", "::1/128"}' '  enable = false' '}'
runc "rule by port, enable = false" "$B/tcp_kinds" 30,15,7,0 none; quiet $?
conf 'rule "low" {' '  ports = {"1-1023"}' '  idle = 27' '}' \
	'rule "in" {' '  ports = {"1024-65535"}' '  direction = incoming' '  idle = 26' '}'
runc "rule by local port of accepted sockets" "$B/tcp_kinds" 60,15,4,0 26,15,4,0; quiet $?
conf 'rule "me" {' '  programs = {"tcp_k*"}' '  idle = 24' '  user_timeout = auto' '}' \
	'rule "notme" {' '  programs = {"curl"}' '  idle = 25' '}'
runc "rule by program" "$B/tcp_kinds" 24,15,4,84000; quiet $?
runc "environment over file" KASHIM_INTERVAL=3 "$B/tcp_kinds" 24,3,4,36000; quiet $?
conf 'idle = 30' 'ports = {1}'
runc "top level match keys" "$B/tcp_kinds" none; quiet $?

echo "== broken and untrusted config files"
conf 'idle = 30' 'rule "a" {' '  count = 500' '}'
runc "broken file" "$B/tcp_kinds" none
if [ "$(wc -l <"$T/err")" -eq 1 ] &&
	grep -q "^kashim\[[0-9]*\]: $T/k.conf:3: count: '500' is not a number" "$T/err"; then ok
else bad "broken file: one FILE:LINE error"; fi
conf 'idle = 30'
chmod 666 "$T/k.conf"
runc "writable file" "$B/tcp_kinds" none
if grep -q "refused: writable by others" "$T/err"; then ok; else bad "writable file refused"; fi

mkdir "$T/alone" && cp "$LIB" "$T/alone/"
conf 'idle = 30'
env KASHIM_CONFIG="$T/k.conf" LD_PRELOAD="$T/alone/libkashim.so" "$B/tcp_kinds" none >"$T/out" 2>"$T/err"
if [ $? -eq 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "cannot load the config module" "$T/err"; then ok
else bad "config module missing: one error, sockets left alone"; fi

echo "== lazy: no file, no parser, unless a TCP connection is made"
conf 'idle = 30'
runc "udp only" strace -f -qq -e trace=openat,open,stat,newfstatat -o "$T/trace" "$B/maps" udp
if grep -q "libconfuse absent" "$T/out" && ! grep -q "k.conf\|kashim-conf" "$T/trace"; then ok
else bad "udp only: config read or parser mapped"; cat "$T/out"; fi
runc "tcp" "$B/maps" tcp
if grep -q "libconfuse mapped" "$T/out"; then ok; else bad "tcp: parser not mapped"; fi
if grep -q "cfg_init hidden" "$T/out"; then ok; else bad "libconfuse's symbols reach the program"; fi

summary preload
