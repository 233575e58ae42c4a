#!/bin/bash
# run.sh - the kashim-bpf tests. Run from the top of the tree, as root.
#
# Everything happens in a cgroup this script makes (never the root
# cgroup) and on loopback: kashim-bpf is attached to it, clients and
# servers are started in it (or outside it, as the control), and each
# socket's options are read back from outside the process with
# `kashim --status PID --json` (pidfd_getfd + getsockopt). The EXIT trap
# detaches, kills every process started here by PID and removes the
# cgroup. Whether the host can run BPF at all is asked first, without
# kashim-bpf (tests/bpf/probe.c: a raw bpf() call attaching a trivial
# program to the test's cgroup): a host that refuses it makes a SKIP
# line; once it passed, every kashim-bpf failure is a failure.
set -u
ROOT=$PWD
KB=$ROOT/src/kashim-bpf
KASHIM=$ROOT/src/kashim
B=$ROOT/tests/build/bpf
T=$(mktemp -d /tmp/kashim-bpf.XXXXXX)
CG=
PIDS=()
pass=0
fail=0
PORT=$((20000 + ($$ % 400) * 20))

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# Detach, end every process started here, remove the cgroup and $T.
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		"$KB" detach --cgroup "$CG" >/dev/null 2>&1
		rmdir "$CG"/*/ 2>/dev/null # the cgroups existing.sh makes below
		rmdir "$CG" 2>/dev/null || echo "run.sh: could not remove $CG" >&2
	fi
	rm -rf "$T"
}
trap cleanup EXIT

skip() { echo "SKIP: kashim-bpf: $*"; exit 0; }

# A fresh port for the next case.
next_port() { PORT=$((PORT + 1)); }

# The kernel's own keep-alive values: what an untouched socket holds.
UNTOUCHED="0 $(cat /proc/sys/net/ipv4/tcp_keepalive_time) $(cat /proc/sys/net/ipv4/tcp_keepalive_intvl) $(cat /proc/sys/net/ipv4/tcp_keepalive_probes) 0"

# attach CONF [VAR=VALUE…]: attach with config file CONF ("" for none)
# and only the given KASHIM_* variables. Output in $T/attach.{out,err}.
attach() {
	local conf=$1
	shift
	env -i PATH="$PATH" KASHIM_CONFIG="$conf" "$@" \
		"$KB" attach --cgroup "$CG" >"$T/attach.out" 2>"$T/attach.err"
}

# start NAME INCG CMD…: run CMD in the background (in the test cgroup
# when INCG is 1), output in $T/NAME.{out,err}; LAST is its PID.
start() {
	local name=$1 incg=$2
	shift 2
	if [ "$incg" = 1 ]; then
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@" \
			>"$T/$name.out" 2>"$T/$name.err" &
	else
		"$@" >"$T/$name.out" 2>"$T/$name.err" &
	fi
	LAST=$!
	PIDS+=("$LAST")
}

# await NAME WORD: wait (at most 10 s) for WORD in NAME's output.
await() {
	local i
	for i in $(seq 200); do
		grep -q "^$2" "$T/$1.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "  $1 never said $2: $(head -c 300 "$T/$1.err")"
	return 1
}

# stop PID…: end processes started here.
stop() {
	local p
	for p in "$@"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}

# values PID PORT [STATE]: "KEEPALIVE IDLE INTERVAL COUNT USER_TIMEOUT"
# of PID's TCP socket in STATE (ESTABLISHED) with PORT at either end,
# read from outside.
values() {
	"$KASHIM" --status "$1" --json 2>"$T/status.err" |
		python3 "$ROOT/tests/lib/sock_values.py" "$2" "${3:-ESTABLISHED}"
}

# expect NAME GOT WANT: one read-back compared.
expect() {
	if [ "$2" = "$3" ]; then
		ok
		echo "  ok: $1: $2"
	else
		bad "$1: read back '$2', want '$3'"
	fi
}

# client NAME WANT INCG ADDR KIND [ARG…]: a server (peer accept, outside
# the cgroup) on ADDR and a fresh port, then a client of KIND (static:
# peer-static, dynamic: peer, go: goclient, preloaded: peer under
# libkashim.so with KASHIM_IDLE=33) with ARGs, in the cgroup
# (INCG 1) or outside; the client's socket must hold WANT.
client() {
	local name=$1 want=$2 incg=$3 addr=$4 kind=$5 srv cli hp
	shift 5
	next_port
	start "$name-srv" 0 "$B/peer" accept "$addr" "$PORT"
	srv=$LAST
	await "$name-srv" listening || { bad "$name: no server"; stop "$srv"; return; }
	case $addr in *:*) hp="[$addr]:$PORT" ;; *) hp="$addr:$PORT" ;; esac
	case $kind in
	static) start "$name" "$incg" "$B/peer-static" connect "$addr" "$PORT" "$@" ;;
	dynamic) start "$name" "$incg" "$B/peer" connect "$addr" "$PORT" "$@" ;;
	go) start "$name" "$incg" "$B/goclient" "$hp" "$@" ;;
	preloaded) start "$name" "$incg" env KASHIM_CONFIG= KASHIM_IDLE=33 \
		LD_PRELOAD="$ROOT/src/libkashim.so" "$B/peer" connect "$addr" "$PORT" "$@" ;;
	esac
	cli=$LAST
	if await "$name" ready; then
		expect "$name" "$(values "$cli" "$PORT")" "$want"
	else
		bad "$name: the client did not connect"
	fi
	stop "$cli" "$srv"
}

# server NAME WANT [--set OPT=V…]: a server in the cgroup (options set on
# its listener), a client outside; the accepted socket must hold WANT
# and the client's must be untouched.
server() {
	local name=$1 want=$2 srv cli
	shift 2
	next_port
	start "$name" 1 "$B/peer" accept 127.0.0.1 "$PORT" "$@"
	srv=$LAST
	await "$name" listening || { bad "$name: no server"; stop "$srv"; return; }
	start "$name-cli" 0 "$B/peer" connect 127.0.0.1 "$PORT"
	cli=$LAST
	if await "$name" ready && await "$name-cli" ready; then
		expect "$name (accepted)" "$(values "$srv" "$PORT")" "$want"
		expect "$name (its client, outside)" "$(values "$cli" "$PORT")" "$UNTOUCHED"
	else
		bad "$name: no connection"
	fi
	stop "$cli" "$srv"
}

# refused RC NAME PATTERN [WANT]: the last attach failed with exit WANT
# (1 unless given), a message matching PATTERN, and left nothing
# attached to the cgroup.
refused() {
	local rc=$1 name=$2 pat=$3 want=${4:-1}
	if [ "$rc" != "$want" ]; then
		bad "$name: exit $rc, want $want: $(cat "$T/attach.err")"
	elif ! grep -Eq "$pat" "$T/attach.err"; then
		bad "$name: message '$(cat "$T/attach.err")' does not say '$pat'"
	elif [ -n "$(bpftool cgroup show "$CG" 2>&1)" ]; then
		bad "$name: something is attached: $(bpftool cgroup show "$CG" 2>&1)"
	else
		ok
		echo "  ok: $name: $(head -n 1 "$T/attach.err")"
	fi
}

# kb ARG…: kashim-bpf with ARGs, no config file and no KASHIM_*
# variables but those given before the arguments as VAR=VALUE.
kb() {
	local vars=()
	while [ $# -gt 0 ] && [[ $1 == KASHIM_*=* ]]; do vars+=("$1"); shift; done
	env -i PATH="$PATH" KASHIM_CONFIG= "${vars[@]}" "$KB" "$@" \
		>"$T/attach.out" 2>"$T/attach.err"
}

# --- can this host run the tests? ----------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root (BPF programs, cgroups)"
MNT=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
[ -n "$MNT" ] || skip "cgroup v2 is not mounted on this host"
CG=$MNT/kashim-bpf-test-$$
mkdir "$CG" || { CG=; skip "cannot make a cgroup under $MNT"; }
# The host refusing BPF (no CAP_BPF in a container, seccomp, lockdown,
# an old kernel) is a SKIP, decided without kashim-bpf; from here on a
# kashim-bpf that fails is a failure, whatever it says.
probe=$("$B/probe" "$CG" 2>&1) || skip "this host does not load and attach BPF programs: $probe"
if ! attach ""; then
	echo "FAIL: kashim-bpf attach: $(cat "$T/attach.err")"
	exit 1
fi
echo "kernel $(uname -r), cgroup $CG"

echo "== clients in the cgroup, defaults (60/15/4, no user timeout)"
DEF="1 60 15 4 0"
client "static client (gcc -static)" "$DEF" 1 127.0.0.1 static
client "raw-syscall client" "$DEF" 1 127.0.0.1 dynamic --raw
client "IPv6 client" "$DEF" 1 ::1 static
client "process outside the cgroup" "$UNTOUCHED" 0 127.0.0.1 static
server "server in the cgroup" "$DEF"
if [ -x "$B/goclient" ]; then
	client "Go client, KeepAlive: -1" "$DEF" 1 127.0.0.1 go off
	# Go sets SO_KEEPALIVE, idle 15 and interval 15 itself after the
	# connect: its own choice stays, the count is kashim's.
	client "Go client, default" "1 15 15 4 0" 1 127.0.0.1 go default
else
	echo "SKIP: Go clients: $(cat "$B/goclient.skip" 2>/dev/null || echo 'not built')"
fi
if [ -x "$B/uring" ]; then
	next_port
	start uring-srv 0 "$B/peer" accept 127.0.0.1 "$PORT"
	await uring-srv listening
	start uring 1 "$B/uring" 127.0.0.1 "$PORT"
	u=$LAST
	if await uring ready; then
		expect "io_uring connect" "$(values "$u" "$PORT")" "$DEF"
	elif grep -q "io_uring unavailable" "$T/uring.err"; then
		echo "SKIP: io_uring connect: $(cat "$T/uring.err")"
	else
		bad "io_uring connect: $(cat "$T/uring.err")"
	fi
	stop "$u" "${PIDS[-2]}"
else
	echo "SKIP: io_uring connect: $(cat "$B/uring.skip" 2>/dev/null || echo 'not built')"
fi

echo "== the program's own choice, and override"
client "own SO_KEEPALIVE and idle" "1 5 $(cut -d' ' -f3- <<<"$UNTOUCHED" | cut -d' ' -f1-2) 0" \
	1 127.0.0.1 static --set keepalive=1 --set idle=5
client "own SO_KEEPALIVE=0" "$UNTOUCHED" 1 127.0.0.1 static --set keepalive=0
client "own idle only" "1 7 15 4 0" 1 127.0.0.1 static --set idle=7
server "own SO_KEEPALIVE on the listener" "1 9 $(cut -d' ' -f3-4 <<<"$UNTOUCHED") 0" \
	--set keepalive=1 --set idle=9
cat >"$T/override.conf" <<EOF
override = true
user_timeout = auto
EOF
attach "$T/override.conf" || bad "attach override: $(cat "$T/attach.err")"
client "override = true" "1 60 15 4 120000" 1 127.0.0.1 static \
	--set keepalive=0 --set idle=5 --set uto=1234
attach "" KASHIM_USER_TIMEOUT=auto || bad "attach: $(cat "$T/attach.err")"
client "own user timeout kept" "1 60 15 4 1234" 1 127.0.0.1 static --set uto=1234
# The library sets its options before connect(): kashim-bpf takes them
# as the program's own and leaves them; the user timeout, which the
# library left alone, is kashim-bpf's (auto, attached above).
client "the library and kashim-bpf together" "1 33 15 4 120000" 1 127.0.0.1 preloaded

echo "== rules: ports, hosts, direction, enable = false, programs; environment"
R=$PORT # the rules' ports: R+1 to R+7
cat >"$T/rules.conf" <<EOF
idle = 50
rule "broker" {
  ports = {$((PORT + 1)), "$((PORT + 2))-$((PORT + 3))"}
  idle = 20
  user_timeout = auto
}
rule "second-loopback" {
  hosts = {127.0.0.2/32, "::ffff:127.0.0.3"}
  idle = 21
}
rule "v6" {
  hosts = {"::1/128"}
  interval = 7
}
rule "database" {
  ports = {$((PORT + 4))}
  enable = false
}
rule "incoming-only" {
  ports = {$((PORT + 5))}
  direction = incoming
  idle = 22
}
rule "by-name" {
  ports = {$((PORT + 6))}
  programs = {"peer-stat*"}
  idle = 23
}
rule "by-other-name" {
  ports = {$((PORT + 7))}
  programs = {"mosquitto_sub"}
  idle = 24
}
EOF
attach "$T/rules.conf" KASHIM_COUNT=6 || bad "attach rules: $(cat "$T/attach.err")"
client "rule by port" "1 20 15 6 110000" 1 127.0.0.1 static
client "rule by port range" "1 20 15 6 110000" 1 127.0.0.1 static
client "rule by port range, end" "1 20 15 6 110000" 1 127.0.0.1 static
client "rule with enable = false" "$UNTOUCHED" 1 127.0.0.1 static
client "incoming rule, outgoing connection" "1 50 15 6 0" 1 127.0.0.1 static
client "rule by program (comm)" "1 23 15 6 0" 1 127.0.0.1 static
client "rule by another program" "1 50 15 6 0" 1 127.0.0.1 static
client "rule by CIDR (IPv4)" "1 21 15 6 0" 1 127.0.0.2 static
client "rule by CIDR (IPv4-mapped)" "1 21 15 6 0" 1 ::ffff:127.0.0.3 static
client "rule by CIDR (IPv6)" "1 50 7 6 0" 1 ::1 static
client "top level, no rule matches" "1 50 15 6 0" 1 127.0.0.1 static
PORT=$((R + 4))
server "incoming rule, accepted socket" "1 22 15 6 0"
PORT=$((R + 20))
"$KB" status >"$T/status.out" 2>&1
if grep -q "rule \"broker\": idle 20, interval 15, count 6, user_timeout 110000" "$T/status.out" &&
	grep -q "rule \"database\": enable = false" "$T/status.out" &&
	grep -Eq "sockets: [1-9][0-9]* set" "$T/status.out"; then ok; echo "  ok: status"
else bad "status: $(cat "$T/status.out")"; fi

echo "== environment over file; attach again replaces; detach"
attach "$T/rules.conf" KASHIM_IDLE=33 || bad "attach: $(cat "$T/attach.err")"
client "KASHIM_IDLE over the file" "1 33 15 4 0" 1 127.0.0.1 static
attach "" KASHIM_PRESET=aws || bad "attach: $(cat "$T/attach.err")"
client "KASHIM_PRESET=aws" "1 300 20 5 0" 1 127.0.0.1 static
attach "" KASHIM_ENABLE=0 || bad "attach: $(cat "$T/attach.err")"
client "KASHIM_ENABLE=0" "$UNTOUCHED" 1 127.0.0.1 static
attach "" KASHIM_DIRECTION=incoming || bad "attach: $(cat "$T/attach.err")"
client "direction = incoming, outgoing connection" "$UNTOUCHED" 1 127.0.0.1 static
attach "" || bad "attach: $(cat "$T/attach.err")"
client "attached again, defaults" "$DEF" 1 127.0.0.1 static

echo "== kashim's settings options"
kb attach --cgroup "$CG" --idle 41 --interval 9 --count 3 --user-timeout auto ||
	bad "attach --idle …: $(cat "$T/attach.err")"
client "--idle 41 --interval 9 --count 3 --user-timeout auto" "1 41 9 3 68000" 1 127.0.0.1 static
kb KASHIM_IDLE=70 KASHIM_COUNT=7 attach --cgroup "$CG" --idle 42 ||
	bad "attach --idle 42: $(cat "$T/attach.err")"
client "--idle 42 over KASHIM_IDLE=70 (KASHIM_COUNT=7 stays)" "1 42 15 7 0" 1 127.0.0.1 static
kb attach --cgroup "$CG" --preset aws --interval 11 || bad "attach --preset: $(cat "$T/attach.err")"
client "--preset aws --interval 11" "1 300 11 5 0" 1 127.0.0.1 static
kb attach --cgroup "$CG" --override || bad "attach --override: $(cat "$T/attach.err")"
client "--override, the program's own idle 5" "1 60 15 4 0" 1 127.0.0.1 static --set idle=5
kb attach --cgroup "$CG" --direction incoming || bad "attach --direction: $(cat "$T/attach.err")"
client "--direction incoming, outgoing connection" "$UNTOUCHED" 1 127.0.0.1 static
printf 'idle = 43\n' >"$T/idle43.conf"
kb attach --config "$T/idle43.conf" --cgroup "$CG" --count 2 ||
	bad "attach --config: $(cat "$T/attach.err")"
client "--config FILE --count 2" "1 43 15 2 0" 1 127.0.0.1 static

echo "== two attaches at once: one waits for the other"
race_ok=1
for i in 1 2 3 4 5; do
	env -i PATH="$PATH" KASHIM_CONFIG= KASHIM_IDLE=44 "$KB" attach --cgroup "$CG" \
		>"$T/race1.out" 2>"$T/race1.err" &
	r1=$!
	env -i PATH="$PATH" KASHIM_CONFIG= KASHIM_IDLE=44 "$KB" attach --cgroup "$CG" \
		>"$T/race2.out" 2>"$T/race2.err" &
	r2=$!
	wait "$r1"; rc1=$?
	wait "$r2"; rc2=$?
	if [ "$rc1$rc2" != 00 ]; then
		race_ok=0
		bad "two attaches at once, round $i: exits $rc1 $rc2: $(cat "$T/race1.err" "$T/race2.err")"
		break
	fi
	[ "$i" = 5 ] || "$KB" detach --cgroup "$CG" >/dev/null 2>&1
done
if [ "$race_ok" = 1 ]; then
	ok
	echo "  ok: 5 rounds of two first attaches at once: both succeed each time"
	client "after two attaches at once" "1 44 15 4 0" 1 127.0.0.1 static
fi
if "$KB" detach --cgroup "$CG" >"$T/detach.out" 2>&1 && [ -z "$(bpftool cgroup show "$CG")" ]; then ok
else bad "detach: $(cat "$T/detach.out") $(bpftool cgroup show "$CG")"; fi
client "after detach" "$UNTOUCHED" 1 127.0.0.1 static

echo "== a cgroup removed while attached"
GONE=$CG/gone
mkdir "$GONE" && env -i PATH="$PATH" KASHIM_CONFIG= "$KB" attach --cgroup "$GONE" >/dev/null 2>&1 &&
	rmdir "$GONE"
"$KB" status >"$T/status.out" 2>&1
if grep -q "^$GONE: the cgroup is gone" "$T/status.out" &&
	"$KB" detach --cgroup "$GONE" >/dev/null 2>&1 &&
	! "$KB" status 2>&1 | grep -q "^$GONE"; then
	ok
	echo "  ok: status says the cgroup is gone; detach by its old path removes the pins"
else
	bad "removed cgroup: $(cat "$T/status.out")"
	"$KB" detach --cgroup "$GONE" >/dev/null 2>&1
fi

echo "== refusals: exit 1, a reason, nothing attached"
printf 'idle = 0\n' >"$T/bad.conf"
attach "$T/bad.conf"; refused $? "invalid config, in kashim-bpf's words" "^kashim-bpf: $T/bad.conf:1: "
attach "" KASHIM_INTERVAL=x; refused $? "invalid environment" "KASHIM_INTERVAL"
printf 'rule "g" {\n  programs = {"mosq?itto"}\n}\n' >"$T/glob.conf"
attach "$T/glob.conf"; refused $? "programs glob a comm cannot honour" "comm"
env -i PATH="$PATH" KASHIM_CONFIG= "$KB" attach --cgroup "$T" >"$T/attach.out" 2>"$T/attach.err"
refused $? "not a cgroup" "not a cgroup v2 directory"
if command -v setpriv >/dev/null; then
	env -i PATH="$PATH" KASHIM_CONFIG= setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$KB" attach --cgroup "$CG" >"$T/attach.out" 2>"$T/attach.err"
	refused $? "not root" "needs root"
fi
env -i PATH="$PATH" KASHIM_CONFIG= "$KB" attach --unit "kashim-no-such-$$.service" \
	>"$T/attach.out" 2>"$T/attach.err"
refused $? "--unit of a unit that is not running" "^kashim-bpf: --unit kashim-no-such"
env -i PATH="$PATH" "$KB" attach --cgroup "$CG" --unit x.service >"$T/attach.out" 2>"$T/attach.err"
refused $? "both --cgroup and --unit" "^kashim-bpf: .*one of them" 2
kb attach; refused $? "attach without a cgroup" "^kashim-bpf: say which cgroup" 2
kb attach --cgroup "$CG" --idle 0; refused $? "--idle 0" "^kashim-bpf: --idle: " 2
kb attach --cgroup "$CG" --idel 5; refused $? "an unknown option" "^kashim-bpf: unknown option --idel" 2
kb attach --cgroup "$CG" --idle; refused $? "an option without its value" "^kashim-bpf: --idle needs an argument" 2
kb KASHIM_IDLE=0 attach --cgroup "$CG"; refused $? "KASHIM_IDLE=0" "^kashim-bpf: KASHIM_IDLE=0"
kb attach --config "$T/none.conf" --cgroup "$CG"
refused $? "--config of a missing file, in kashim-bpf's words" "^kashim-bpf: $T/none.conf: No such file"
kb detach --cgroup "$CG" --idle 5; refused $? "detach with a settings option" "^kashim-bpf: detach takes no settings" 2
kb frobnicate; refused $? "an unknown command" "^kashim-bpf: unknown command" 2

echo "== bpf() refused: not permitted (seccomp) is not a missing kernel feature"
"$ROOT/tests/build/deny" bpf EPERM -- env -i PATH="$PATH" KASHIM_CONFIG= "$KB" attach --cgroup "$CG" \
	>"$T/attach.out" 2>"$T/attach.err"
refused $? "bpf() refused by seccomp (EPERM)" "^kashim-bpf: the kernel does not permit bpf\(\).*seccomp"
if grep -q "this kernel" "$T/attach.err"; then bad "EPERM called a missing feature: $(cat "$T/attach.err")"; fi
"$ROOT/tests/build/deny" bpf EINVAL -- env -i PATH="$PATH" KASHIM_CONFIG= "$KB" attach --cgroup "$CG" \
	>"$T/attach.out" 2>"$T/attach.err"
refused $? "bpf() answering EINVAL (a kernel without it)" "^kashim-bpf: this kernel .*CONFIG_CGROUP_BPF"

echo "== a mount namespace of its own: pins there would not outlive it"
PRIV="unshare -m --propagation private"
$PRIV sh -c 'umount /sys/fs/bpf 2>/dev/null; exec "$@"' sh \
	env -i PATH="$PATH" KASHIM_CONFIG= "$KB" attach --cgroup "$CG" >"$T/attach.out" 2>"$T/attach.err"
refused $? "bpffs not mounted in the command's mount namespace" \
	"not mounted in this mount namespace.*initial mount namespace"
# A BPF filesystem is told from the initial namespace's through PID 1
# (/proc/1/ns/mnt), or on Linux 6.18 and later by the initial mount
# namespace's fixed number (0xEFFFFFF8); where neither is there,
# kashim-bpf cannot tell, and takes it.
if readlink /proc/1/ns/mnt >/dev/null 2>&1 ||
	[ "$(stat -Lc %i /proc/self/ns/mnt)" = $((0xEFFFFFF8)) ]; then
	$PRIV sh -c 'umount /sys/fs/bpf 2>/dev/null; mount -t bpf bpf /sys/fs/bpf && exec "$@"' sh \
		env -i PATH="$PATH" KASHIM_CONFIG= "$KB" attach --cgroup "$CG" >"$T/attach.out" 2>"$T/attach.err"
	refused $? "a bpffs of the mount namespace's own" "of this mount namespace's own.*bind it in"
else
	echo "SKIP: a bpffs of the mount namespace's own: PID 1 is hidden and this kernel gives the initial mount namespace no fixed number"
fi
if attach ""; then
	$PRIV sh -c 'umount /sys/fs/bpf 2>/dev/null; exec "$@"' sh "$KB" status >"$T/status.out" 2>&1
	rc=$?
	if [ "$rc" = 1 ] && ! grep -q "attached nowhere" "$T/status.out" &&
		grep -q "not mounted in this mount namespace" "$T/status.out"; then
		ok
		echo "  ok: status where the pins cannot be seen: $(head -c 120 "$T/status.out")…"
	else
		bad "status in a mount namespace without bpffs: exit $rc: $(cat "$T/status.out")"
	fi
	"$KB" detach --cgroup "$CG" >/dev/null 2>&1 || bad "detach: $("$KB" detach --cgroup "$CG" 2>&1)"
else
	bad "attach: $(cat "$T/attach.err")"
fi

echo "== another attach holding the lock"
# The holder is one process (the lock on its fd 9), ended by PID below.
bash -c 'exec 9</sys/fs/bpf/kashim && flock 9 && exec sleep 8' &
holder=$!
PIDS+=("$holder")
sleep 0.3
kb attach --cgroup "$CG"; refused $? "the lock held for longer than kashim-bpf waits" \
	"^kashim-bpf: another kashim-bpf attach or detach is in progress"
stop "$holder"
"$KB" detach --cgroup "$CG" >"$T/attach.out" 2>"$T/attach.err"
refused $? "detach where nothing is attached" "not attached"

. "$ROOT/tests/bpf/existing.sh"

echo "kashim-bpf: $pass passed, $fail failed"
[ "$fail" = 0 ]
