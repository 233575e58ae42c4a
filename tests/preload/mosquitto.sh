#!/bin/sh
# mosquitto.sh - a real mosquitto broker on loopback, a real mosquitto_sub
# under kashim with KASHIM_IDLE=20, checked from outside with ss -tnoi;
# the same subscriber without kashim is the control.
set -u
LIB=$PWD/src/libkashim.so
T=$(mktemp -d /tmp/kashim-mosq.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

for tool in mosquitto mosquitto_sub ss; do
	command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
	command -v "$tool" >/dev/null || { echo "FAIL: $tool missing"; exit 1; }
done

# wait_for SECONDS COMMAND…: retry COMMAND every 0.1 s, at most SECONDS.
wait_for() {
	n=$(($1 * 10)); shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}
listening() { ss -Htln "( sport = :$port )" | grep -q .; }
started() { listening || ! kill -0 "$broker" 2>/dev/null; } # up, or gone

# A broker on a free loopback port below the ephemeral range: a port no
# socket uses, and a new one if the broker still could not bind it.
port=
for try in 1 2 3 4 5 6 7 8 9 10; do
	p=$(( (($$ * 7 + try * 131) % 12000) + 20000 ))
	ss -Htan "( sport = :$p )" | grep -q . && continue
	printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$p" >"$T/mosquitto.conf"
	mosquitto -c "$T/mosquitto.conf" >"$T/broker.log" 2>&1 &
	broker=$!
	pids="$pids $broker"
	port=$p
	wait_for 10 started && listening && break
	kill "$broker" 2>/dev/null
	port=
done
[ -n "$port" ] || { echo "FAIL: the broker did not listen"; cat "$T/broker.log"; exit 1; }

# The ss line of the subscriber with PID: its connection to the broker.
sub_line() { ss -Htnoip state established "( dport = :$port )" | grep "pid=$1,"; }

# subscribe NAME [VAR=VALUE…]: start mosquitto_sub with an MQTT keep-alive
# of 600 s, wait for its connection, and leave its ss line in $line.
subscribe() {
	name=$1; shift
	env "$@" mosquitto_sub -h 127.0.0.1 -p "$port" -k 600 -t kashim/test \
		>"$T/$name.out" 2>"$T/$name.err" &
	pid=$!
	pids="$pids $pid"
	wait_for 10 sub_line "$pid" >/dev/null || { echo "FAIL: $name did not connect"; cat "$T/$name.err"; exit 1; }
	line=$(sub_line "$pid")
	echo "$name: $line"
}

fail=0
subscribe with KASHIM_IDLE=20 LD_PRELOAD="$LIB"
secs=$(echo "$line" | sed -n 's/.*timer:(keepalive,\([0-9.]*\)sec.*/\1/p')
if [ -n "$secs" ] && [ "${secs%.*}" -le 20 ]; then
	echo "ok: mosquitto_sub under kashim holds a keep-alive timer of ${secs}s (<= 20)"
else
	echo "FAIL: no keep-alive timer of at most 20 s under kashim"; fail=1
fi
if [ -s "$T/with.err" ] || [ -s "$T/with.out" ]; then
	echo "FAIL: kashim wrote into the subscriber's output"; cat "$T/with.err"; fail=1
fi

subscribe without
if echo "$line" | grep -q 'timer:(keepalive'; then
	echo "FAIL: the control has a keep-alive timer: the check proves nothing"; fail=1
else
	echo "ok: the same subscriber without kashim has no keep-alive timer"
fi

# The broker, not under kashim, is untouched on its side.
if ss -Htno state established "( sport = :$port )" | grep -q 'timer:(keepalive'; then
	echo "FAIL: the broker's sockets have keep-alive"; fail=1
else
	echo "ok: the broker's side is untouched"
fi
exit $fail
