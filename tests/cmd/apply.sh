#!/bin/sh
# apply.sh - `kashim --apply` on connections made before it (make
# check-cmd).
#
# Loopback servers and clients that connected with no kashim around; the
# values are read back from outside with `kashim --status` (getsockopt on
# a pidfd_getfd() duplicate: the kernel's own answer). By PID, by name,
# --all (inside a PID namespace of the test's own, so no other process
# of the machine is touched), --dry-run, the program's own choice kept
# and replaced with --override, rules by remote and by local port, a
# server's listener and what it accepts next, another user refused, an
# fd-churning target, the same answers with and without io_uring (the
# sets through the ring, counted with strace), and a process in its own
# network and PID namespace whose keep-alive sysctl differs from the
# host's. Run from the top of the tree, after make.
set -u

TOP=$(pwd)
KASHIM=$TOP/src/kashim
B=$TOP/tests/build/cmd
. "$TOP/tests/lib/lib.sh"
chmod 755 "$T"

kashim_env_clear
unset LD_PRELOAD
export KASHIM_CONFIG=

# prog NAME: a copy of applyee called NAME (its process name), in $T.
prog() {
	cp "$B/applyee" "$T/$1"
	chmod 755 "$T/$1"
}

# opts WHO [STATE]: the options of WHO's sockets in STATE (default
# ESTABLISHED) as --status shows them, "KEEPALIVE IDLE INTERVAL COUNT
# USER_TIMEOUT" per socket, sorted, counted when alike.
opts() {
	"$KASHIM" --status "$1" | awk -F '\t' -v s="${2:-ESTABLISHED}" \
		'$6 == s { print $7, $8, $9, $10, $11 }' | sort | uniq -c |
		sed 's/^ *//'
}

# server NAME: a holder server called NAME; sets SPORT and SPID.
server() {
	cp "$B/holder" "$T/$1"
	chmod 755 "$T/$1"
	"$T/$1" -s "$T/$1.port" -H 120 &
	SPID=$!
	PIDS="$PIDS $SPID"
	wait_file "$T/$1.port" || { fail "server $1 did not start"; summary apply; }
	SPORT=$(cat "$T/$1.port")
}

# client NAME PORT ARGS...: applyee called NAME, connected; sets CPID.
client() {
	n=$1
	p=$2
	shift 2
	prog "$n"
	"$T/$n" -c "$p" -r "$T/$n.ready" -H 120 "$@" &
	CPID=$!
	PIDS="$PIDS $CPID"
	wait_file "$T/$n.ready" || { fail "client $n did not connect"; summary apply; }
}

OFF="off 7200 75 9 0"
server "ksv$$"
SRV=$SPORT

echo "# by PID: --dry-run changes nothing, then the values, then already set"
client "kpid$$" "$SRV" -n 2
expect "before: 2 connections without keep-alive" "2 $OFF" "$(opts $CPID)"
run "$KASHIM" --apply --dry-run "$CPID"
expect "--dry-run: exit 0" 0 "$RC"
expect "--dry-run: both say would set, with before -> after" 2 \
	"$(printf '%s\n' "$OUT" | grep -c "	would set	keepalive off -> on, idle 7200 -> 60, interval 75 -> 15, count 9 -> 4$")"
contains "--dry-run: the summary" "summary: 1 process, 2 sockets: 2 would be set, 0 already set" "$OUT"
expect "--dry-run: the kernel holds what it held" "2 $OFF" "$(opts $CPID)"
run "$KASHIM" --apply --idle 20 --interval 5 --count 3 "$CPID"
expect "by PID: exit 0" 0 "$RC"
expect "by PID: header" "PID	NAME	FD	LOCAL	PEER	STATE	DIRECTION	RULE	RESULT	DETAIL" \
	"$(printf '%s\n' "$OUT" | head -n 1)"
expect "by PID: one line per socket, PID, name, outgoing, set" 2 \
	"$(printf '%s\n' "$OUT" | awk -F '\t' -v p="$CPID" -v n="kpid$$" \
		'$1 == p && $2 == n && $7 == "outgoing" && $9 == "set" && $10 == "keepalive off -> on, idle 7200 -> 20, interval 75 -> 5, count 9 -> 3"' | wc -l)"
expect "by PID: read back from outside" "2 on 20 5 3 0" "$(opts $CPID)"
lacks "by PID: 2 sockets say nothing of probes sent together" "netdev_max_backlog" "$ERR"
run "$KASHIM" --apply --idle 20 --interval 5 --count 3 "$CPID"
expect "again: exit 0" 0 "$RC"
contains "again: already set" "0 set, 2 already set" "$OUT"

echo "# by name, with a user timeout"
client "kname$$" "$SRV" -n 3
run "$KASHIM" --apply --user-timeout 7000 "kname$$"
expect "by name: exit 0" 0 "$RC"
expect "by name: read back" "3 on 60 15 4 7000" "$(opts "kname$$")"
run "$KASHIM" --apply "knone$$"
expect "a name nobody has: exit 1" 1 "$RC"
contains "a name nobody has: said" "--apply: no process named 'knone$$'" "$ERR"

echo "# the program's own choice: kept, then replaced with --override"
client "kka$$" "$SRV" -k
KA_PID=$CPID
client "kuto$$" "$SRV" -u 9000
UTO_PID=$CPID
run "$KASHIM" --apply "$KA_PID" "$UTO_PID"
expect "own: exit 0" 0 "$RC"
contains "own keep-alive: left alone, said why" "left alone	the program set its own keep-alive (override = false)" "$OUT"
expect "own keep-alive: untouched" "1 on 7200 75 9 0" "$(opts $KA_PID)"
run "$KASHIM" --apply --user-timeout 5000 "$KA_PID" "$UTO_PID"
expect "own keep-alive: only the user timeout added (as the library does)" "1 on 7200 75 9 5000" "$(opts $KA_PID)"
expect "own user timeout: kept, keep-alive added" "1 on 60 15 4 9000" "$(opts $UTO_PID)"
run "$KASHIM" --apply --override --user-timeout 5000 "$KA_PID" "$UTO_PID"
expect "--override: exit 0" 0 "$RC"
expect "--override: keep-alive timing replaced" "1 on 60 15 4 5000" "$(opts $KA_PID)"
expect "--override: user timeout replaced" "1 on 60 15 4 5000" "$(opts $UTO_PID)"

echo "# rules: one by remote port, one by local port (config file)"
server "krs1$$"
S1_PID=$SPID
P1=$SPORT
server "krs2$$"
S2_PID=$SPID
P2=$SPORT
client "krc1$$" "$P1"
C1_PID=$CPID
client "krc2$$" "$P2"
C2_PID=$CPID
cat >"$T/rules.conf" <<EOF
rule "remote" {
  ports = {$P1}
  direction = outgoing
  idle = 41
}
rule "local" {
  ports = {$P2}
  direction = incoming
  idle = 42
}
EOF
chmod 644 "$T/rules.conf"
run "$KASHIM" --config "$T/rules.conf" --apply "$C1_PID" "$C2_PID" "$S1_PID" "$S2_PID"
expect "rules: exit 0" 0 "$RC"
expect "rules: to the remote port: rule remote" "1 on 41 15 4 0" "$(opts $C1_PID)"
expect "rules: to the other port: the top level" "1 on 60 15 4 0" "$(opts $C2_PID)"
expect "rules: accepted on the other port: top level" "1 on 60 15 4 0" "$(opts $S1_PID)"
expect "rules: accepted on the local port: rule local" "1 on 42 15 4 0" "$(opts $S2_PID)"
expect "rules: named in the output" "default incoming
default outgoing
local incoming
remote outgoing" "$(printf '%s\n' "$OUT" | awk -F '\t' '$6 == "ESTABLISHED" { print $8, $7 }' | sort)"
expect "rules: the listeners get the incoming settings" "1 on 42 15 4 0" "$(opts $S2_PID LISTEN)"

echo "# a rule for one program (programs) before a rule for every port"
server "krs3$$"
P3=$SPORT
client "kprg$$" "$P3"
PRG_PID=$CPID
client "koth$$" "$P3"
OTH_PID=$CPID
cat >"$T/programs.conf" <<EOF
rule "mine" {
  programs = {"kprg$$"}
  ports = {$P3}
  direction = outgoing
  idle = 43
}
rule "wide" {
  ports = {"1-65535"}
  direction = outgoing
  idle = 44
}
EOF
chmod 644 "$T/programs.conf"
run "$KASHIM" --config "$T/programs.conf" --apply "$PRG_PID" "$OTH_PID"
expect "programs: exit 0" 0 "$RC"
expect "programs: the program named gets its rule" "1 on 43 15 4 0" "$(opts $PRG_PID)"
expect "programs: another program gets the next rule" "1 on 44 15 4 0" "$(opts $OTH_PID)"

echo "# more keep-alive timers started at once than net.core.netdev_max_backlog"
BACKLOG=$(cat /proc/sys/net/core/netdev_max_backlog 2>/dev/null || echo 0)
if [ "$BACKLOG" -gt 0 ] && [ "$BACKLOG" -le 4000 ]; then
	server "kbs$$"
	BS_PID=$SPID
	client "kbc$$" "$SPORT" -n $((BACKLOG / 2 + 50))
	BC_PID=$CPID
	run "$KASHIM" --apply --dry-run "$BS_PID" "$BC_PID"
	lacks "burst: --dry-run starts no timer, says nothing" "netdev_max_backlog" "$ERR"
	run "$KASHIM" --apply "$BS_PID" "$BC_PID"
	expect "burst: exit 0 (a note, not an error)" 0 "$RC"
	contains "burst: said, with the count and the sysctl" \
		"$((2 * (BACKLOG / 2 + 50))) sockets now send their keep-alive probes together, more than net.core.netdev_max_backlog ($BACKLOG)" "$ERR"
	run "$KASHIM" --apply "$BS_PID" "$BC_PID"
	lacks "burst: already set, no timer started: nothing said" "netdev_max_backlog" "$ERR"
	kill "$BS_PID" "$BC_PID" 2>/dev/null
else
	skip "burst: net.core.netdev_max_backlog is $BACKLOG (the test needs 1 to 4000)"
fi

echo "# a running server: its listener set, the next accepted sockets inherit"
server "klis$$"
L_PID=$SPID
client "kbef$$" "$SPORT"
run "$KASHIM" --apply --idle 25 "klis$$"
expect "listener: exit 0" 0 "$RC"
expect "listener: set" "1 on 25 15 4 0" "$(opts $L_PID LISTEN)"
client "kaft$$" "$SPORT" -n 3
i=0
while [ "$(ls /proc/$L_PID/fd | wc -l)" -lt 8 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect "listener: the one before set, the 3 accepted after inherit" "4 on 25 15 4 0" "$(opts $L_PID)"

echo "# JSON"
run "$KASHIM" --apply --json --dry-run --override --idle 26 "klis$$"
expect "--json: one document, the listener would be set" "True 1 would set 25 26" \
	"$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [x for p in d["processes"] for x in p["sockets"] if x["state"] == "LISTEN"]
print(d["dry_run"], len(s), s[0]["result"], s[0]["before"]["idle"], s[0]["after"]["idle"])')"
expect "--json --dry-run: nothing changed" "1 on 25 15 4 0" "$(opts $L_PID LISTEN)"

echo "# bad input: changes nothing"
run "$KASHIM" --apply --idle 0 "$CPID"
expect "bad --idle: exit 2" 2 "$RC"
run "$KASHIM" --apply
expect "no target: exit 2" 2 "$RC"
run "$KASHIM" --apply --all "$CPID"
expect "--all and a PID: exit 2" 2 "$RC"
run "$KASHIM" --dry-run --status "$CPID"
expect "--dry-run without --apply: exit 2" 2 "$RC"

echo "# another user's process: refused, untouched"
if [ "$(id -u)" = 0 ]; then
	prog "knob$$"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$T/knob$$" -c "$SRV" -r "$T/knob.ready" -H 120 &
	NOB_PID=$!
	PIDS="$PIDS $NOB_PID"
	chmod 777 "$T"
	wait_file "$T/knob.ready" || fail "nobody's client did not connect"
	cp "$KASHIM" "$T/kashim-copy"
	chmod 755 "$T/kashim-copy"
	run setpriv --reuid=1 --regid=1 --clear-groups "$T/kashim-copy" --apply "$NOB_PID"
	expect "another user: exit 1" 1 "$RC"
	contains "another user: named" "--apply: 1 process not inspectable: knob$$ ($NOB_PID)" "$ERR"
	contains "another user: the right named" "CAP_SYS_PTRACE" "$ERR"
	expect "another user: untouched" "1 $OFF" "$(opts $NOB_PID)"
	chmod 755 "$T"
else
	skip "another user's process needs root to make one"
fi

echo "# an fd-churning target: no socket mis-set"
prog "kchurn$$"
"$T/kchurn$$" -x 4 -r "$T/churn.ready" -o "$T/churn.out" -p "$T/churn.ports" &
CH_PID=$!
PIDS="$PIDS $CH_PID"
wait_file "$T/churn.ready" || fail "the churner did not start"
PA=$(cut -d' ' -f1 "$T/churn.ports")
n=0
: >"$T/churn.applied"
while kill -0 "$CH_PID" 2>/dev/null && [ $n -lt 300 ]; do
	"$KASHIM" --apply --ports "$PA" "$CH_PID" >>"$T/churn.applied" 2>/dev/null
	n=$((n + 1))
done
wait "$CH_PID"
wait_file "$T/churn.out"
echo "#   $n runs of --apply; $(grep -c '	set	' "$T/churn.applied") sockets set; churner: $(cat "$T/churn.out")"
contains "churn: no socket of port B got keep-alive" "misset 0" "$(cat "$T/churn.out")"
lacks "churn: no failure" "	failed	" "$(cat "$T/churn.applied")"

echo "# through io_uring, and through system calls alone (no io_uring)"
DENY=$TOP/tests/build/deny
# nouring CMD...: CMD as on a kernel without io_uring (seccomp).
nouring() {
	"$DENY" io_uring_setup ENOSYS -- "$@"
}
server "kusv$$"
US_PID=$SPID
client "kur$$" "$SPORT" -n 40
UR_PID=$CPID
for args in "--apply --dry-run --json" "--apply --dry-run --override --idle 9" "--status --json"; do
	run nouring "$KASHIM" $args "$UR_PID" "$US_PID"
	NO_OUT=$OUT
	NO_RC=$RC
	run "$KASHIM" $args "$UR_PID" "$US_PID"
	expect "no io_uring: $args: the same exit status" "$NO_RC" "$RC"
	expect "no io_uring: $args: the same answer" "$NO_OUT" "$OUT"
done
run nouring "$KASHIM" --apply --idle 31 "$UR_PID"
expect "no io_uring: exit 0" 0 "$RC"
expect "no io_uring: read back" "40 on 31 15 4 0" "$(opts $UR_PID)"
# calls FILE NAME: how many NAME system calls strace -c counted;
# answered: those that did not fail.
calls() {
	awk -v n="$2" '$NF == n { c = $4 } END { print c + 0 }' "$1"
}
answered() {
	awk -v n="$2" '$NF == n { c = $4 - (NF == 6 ? $5 : 0) } END { print c + 0 }' "$1"
}
nouring strace -f -qq -c -o "$T/nouring.strace" "$KASHIM" --apply --override --idle 32 "$UR_PID" >/dev/null 2>&1
expect "no io_uring: read back after --override" "40 on 32 15 4 0" "$(opts $UR_PID)"
expect "no io_uring: one setsockopt() per socket" 40 "$(calls "$T/nouring.strace" setsockopt)"
strace -f -qq -c -o "$T/ring.strace" "$KASHIM" --apply --override --idle 33 "$UR_PID" >"$T/ring.out" 2>&1
contains "io_uring: every socket set" "40 set, 0 already set" "$(cat "$T/ring.out")"
expect "io_uring: read back" "40 on 33 15 4 0" "$(opts $UR_PID)"
expect "io_uring: no setsockopt() system call (the sets went through the ring)" 0 \
	"$(calls "$T/ring.strace" setsockopt)"
n=$(answered "$T/ring.strace" getsockopt)
[ "$n" -le 120 ] && pass "io_uring: $n getsockopt() calls answered for 40 sockets: 3 per socket (idle, interval, count)" ||
	fail "io_uring: $n getsockopt() calls answered for 40 sockets, more than 3 per socket"
n=$(($(calls "$T/ring.strace" newfstatat) + $(calls "$T/ring.strace" fstat)))
[ "$n" -lt 40 ] && pass "io_uring: $n fstat() calls, not one per socket (the socket cookie identifies it)" ||
	fail "io_uring: $n fstat() calls for 40 sockets"
n=$(calls "$T/ring.strace" io_uring_enter)
[ "$n" -ge 2 ] && [ "$n" -le 8 ] && pass "io_uring: $n io_uring_enter() calls for 40 sockets" ||
	fail "io_uring: $n io_uring_enter() calls for 40 sockets (2 to 8 expected)"
# A submit of sets that fails (each io_uring_enter() of 32 or 8
# requests: the sets of 40 sockets, 32 and 8 per batch) is made good
# with setsockopt(): every socket set, none reported failed.
run "$DENY" io_uring_enter EIO 32 8 -- strace -f -qq -c -o "$T/fail.strace" "$KASHIM" --apply --override --idle 36 "$UR_PID"
expect "a failed submit of sets: exit 0" 0 "$RC"
contains "a failed submit of sets: every socket set" "40 sockets: 40 set, 0 already set, 0 left alone, 0 failed" "$OUT"
expect "a failed submit of sets: read back" "40 on 36 15 4 0" "$(opts $UR_PID)"
expect "a failed submit of sets: made with setsockopt()" 40 "$(calls "$T/fail.strace" setsockopt)"
expect "a failed submit of sets: io_uring_enter() refused once" 1 \
	"$(awk '$NF == "io_uring_enter" && NF == 6 { print $5 }' "$T/fail.strace")"

# One socket on two fds (dup()): set on the first, already set on the
# second, with the ring as without it.
client "kdup$$" "$SRV" -n 20 -d
DUP1=$CPID
client "kdp2$$" "$SRV" -n 20 -d
DUP2=$CPID
run "$KASHIM" --apply --idle 34 "$DUP1"
contains "io_uring: a socket on two fds: set once, then already set" "40 sockets: 20 set, 20 already set" "$OUT"
run nouring "$KASHIM" --apply --idle 34 "$DUP2"
contains "no io_uring: a socket on two fds: set once, then already set" "40 sockets: 20 set, 20 already set" "$OUT"
expect "a socket on two fds: read back" "40 on 34 15 4 0" "$(opts $DUP1)"
# With fds 0 to 5 only (3 to 5 closed here, whatever the shell holds):
# the pidfd, the listing of /proc/PID/fd and one duplicate. The scan
# then does without the ring rather than without the sockets.
(exec 3>&- 4>&- 5>&- && ulimit -n 6 && "$KASHIM" --status "$DUP1") >"$T/low.ring" 2>&1
echo "rc $?" >>"$T/low.ring"
(exec 3>&- 4>&- 5>&- && ulimit -n 6 && nouring "$KASHIM" --status "$DUP1") >"$T/low.none" 2>&1
echo "rc $?" >>"$T/low.none"
contains "ulimit -n 6: every socket shown, exit 0" "1 process, 40 connections, 40 with keep-alive, 0 without, 0 not inspectable
rc 0" "$(tail -n 2 "$T/low.ring")"
expect "ulimit -n 6: the same answer as without io_uring" "$(cat "$T/low.none")" "$(cat "$T/low.ring")"
kill "$US_PID" "$UR_PID" "$DUP1" "$DUP2" 2>/dev/null

echo "# a process in its own network and PID namespace (sysctl idle 100 there)"
if [ "$(id -u)" = 0 ] && unshare -n -p -f --mount-proc true 2>/dev/null; then
	prog "kns1$$"
	prog "kns2$$"
	cp "$B/holder" "$T/knsv$$"
	unshare -n -p -f --kill-child --mount-proc sh -c '
		ip link set lo up && sysctl -qw net.ipv4.tcp_keepalive_time=100 || exit 1
		"$1/knsv$2" -s "$1/ns.port" -H 120 &
		i=0
		while [ ! -s "$1/ns.port" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
		[ -s "$1/ns.port" ] || exit 1
		p=$(cat "$1/ns.port")
		"$1/kns1$2" -c "$p" -i 7200 -r "$1/ns1.ready" -H 120 &
		"$1/kns2$2" -c "$p" -r "$1/ns2.ready" -H 120 &
		wait' sh "$T" "$$" &
	# unshare holds SIGTERM back while it waits, and the namespace's
	# first process takes no signal from outside but SIGKILL: unshare
	# is killed, and --kill-child takes the namespace with it.
	NSU=$!
	trap 'kill -KILL "$NSU" 2>/dev/null; lib_cleanup' EXIT
	wait_file "$T/ns1.ready" && wait_file "$T/ns2.ready" || fail "the namespace's clients did not connect"
	expect "namespace: the sysctl shows through (idle 100 unset)" "1 off 100 75 9 0" "$(opts "kns2$$")"
	run "$KASHIM" --apply "kns1$$" "kns2$$"
	expect "namespace: exit 0" 0 "$RC"
	expect "namespace: idle 7200 set by the program kept (it differs from the namespace's 100), the rest set" \
		"1 on 7200 15 4 0" "$(opts "kns1$$")"
	expect "namespace: the other set" "1 on 60 15 4 0" "$(opts "kns2$$")"
	contains "namespace: host PIDs shown" "$(pgrep -x "kns2$$")	kns2$$	" "$OUT"
	run "$KASHIM" --apply --override "kns1$$"
	expect "namespace: --override replaces it" "1 on 60 15 4 0" "$(opts "kns1$$")"
	kill -KILL "$NSU" 2>/dev/null
	wait "$NSU" 2>/dev/null

	echo "# --all, inside a PID namespace of its own (only its processes)"
	unshare -n -p -f --mount-proc sh -c '
		ip link set lo up || exit 1
		"$1/knsv$2" -s "$1/all.port" -H 30 &
		i=0
		while [ ! -s "$1/all.port" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
		[ -s "$1/all.port" ] || { echo "no server port in 20 s" >"$1/all.out"; exit 1; }
		"$1/kns1$2" -c "$(cat "$1/all.port")" -n 2 -r "$1/all.ready" -H 30 &
		i=0
		while [ ! -e "$1/all.ready" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
		[ -e "$1/all.ready" ] || { echo "no client in 20 s" >"$1/all.out"; exit 1; }
		sleep 0.2
		"$3" --apply --all --idle 30 >"$1/all.out" 2>&1
		echo "rc $?" >>"$1/all.out"
		"$3" --status --all >>"$1/all.out" 2>&1
		kill $(jobs -p)' sh "$T" "$$" "$KASHIM" >/dev/null 2>&1
	contains "--all: exit 0" "rc 0" "$(cat "$T/all.out")"
	contains "--all: every socket of the namespace set" "3 processes, 5 sockets: 5 set" "$(cat "$T/all.out")"
	expect "--all: read back" 5 "$(awk -F '\t' '$7 == "on" && $8 == 30' "$T/all.out" | wc -l)"
else
	skip "namespaces need root and unshare -n -p"
fi

summary apply
