#!/bin/sh
# system_log.sh SYSTEM_CONFIG - messages of a library that came in
# through /etc/ld.so.preload go to syslog, not to other people's stderr.
#
# In a private mount namespace: an overlay over /etc holds an
# /etc/ld.so.preload naming the library, one over the config directory
# a broken system file, and one over /dev a private /dev/log: a UNIX
# datagram socket bound by a small listener that writes what it
# receives to a file. A program that connects over TCP then prints
# nothing on stderr and the error arrives at /dev/log; named in
# LD_PRELOAD (the control) or with KASHIM_LOG_TARGET=stderr, the same
# error goes to stderr. The machine's /etc, /dev and config are never
# written.
set -u
SYSCONF=${1:?usage: system_log.sh SYSTEM_CONFIG}
LIB=$PWD/src/libkashim.so
PROG=$PWD/tests/build/tcp_kinds
. tests/lib/lib.sh
kashim_env_clear

if [ "$(id -u)" != 0 ]; then
	skip "the /dev/log test needs root (unshare -m, overlays)"; exit 0
fi
for tool in unshare mount python3; do
	command -v "$tool" >/dev/null || { fail "$tool missing"; summary system-log; }
done
if [ ! -d "$(dirname "$SYSCONF")" ]; then
	skip "$(dirname "$SYSCONF") does not exist here; an overlay needs it"; exit 0
fi
host_before=$(cat /etc/ld.so.preload 2>/dev/null; ls -l /dev/log 2>&1)

unshare -m --propagation private sh -s "$T" "$LIB" "$SYSCONF" "$PROG" <<'INNER'
set -u
. tests/lib/lib.sh
trap - EXIT
rmdir "$T"
T=$1 LIB=$2 SYSCONF=$3 PROG=$4
overlay() { # overlay DIR NAME: a writable layer over DIR, gone with the namespace
	mkdir -p "$T/ov/$2/up" "$T/ov/$2/work"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$T/ov/$2/up,workdir=$T/ov/$2/work" "$1"
}
mkdir -p "$T/ov" && mount -t tmpfs tmpfs "$T/ov" || exit 1
overlay /etc etc && overlay /dev dev || { fail "cannot overlay /etc and /dev"; summary system-log; }
[ "$(dirname "$SYSCONF")" = /etc ] || overlay "$(dirname "$SYSCONF")" conf || exit 1
printf 'idle = 0\n' >"$SYSCONF"
chmod 644 "$SYSCONF"
rm -f /dev/log
python3 - "$T/syslog" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(20)
with open(sys.argv[1], "ab", buffering=0) as out:
    try:
        while True:
            out.write(s.recv(4096) + b"\n")
    except socket.timeout:
        pass
EOF
listener=$!
i=0
while [ ! -e "$T/syslog.ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S /dev/log ] || { fail "the private /dev/log listener did not start"; kill $listener; summary system-log; }
echo "$LIB" >/etc/ld.so.preload

# wait_line PATTERN: wait (at most 5 s) for PATTERN at /dev/log.
wait_line() {
	i=0
	while ! grep -q "$1" "$T/syslog" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q "$1" "$T/syslog" 2>/dev/null
}
msg="kashim\[[0-9]*\]: $SYSCONF:1: idle: '0' is not a number"

env -i PATH="$PATH" "$PROG" none >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$T/err" ] && [ ! -s "$T/out" ]; then
	pass "under /etc/ld.so.preload: nothing on the program's stderr"
else
	fail "under /etc/ld.so.preload: exit $rc, stderr: $(cat "$T/err")"
fi
if wait_line "$msg"; then
	pass "under /etc/ld.so.preload: the error reached /dev/log"
else
	fail "under /etc/ld.so.preload: no error at /dev/log" "$(cat "$T/syslog" 2>/dev/null)"
fi
[ "$(grep -c "$msg" "$T/syslog")" -eq 1 ] && pass "reported once" ||
	fail "want the error once at /dev/log: $(grep -c "$msg" "$T/syslog")"

env -i PATH="$PATH" LD_PRELOAD="$LIB" "$PROG" none >"$T/out" 2>"$T/err"
if grep -q "$msg" "$T/err"; then pass "named in LD_PRELOAD: the error on stderr (control)"
else fail "named in LD_PRELOAD: want the error on stderr" "$(cat "$T/err")"; fi
env -i PATH="$PATH" KASHIM_LOG_TARGET=stderr "$PROG" none >"$T/out" 2>"$T/err"
if grep -q "$msg" "$T/err"; then pass "KASHIM_LOG_TARGET=stderr still wins"
else fail "KASHIM_LOG_TARGET=stderr: want the error on stderr" "$(cat "$T/err")"; fi
kill $listener 2>/dev/null
wait $listener 2>/dev/null
summary system-log
INNER
rc=$?
[ "$host_before" = "$(cat /etc/ld.so.preload 2>/dev/null; ls -l /dev/log 2>&1)" ] || {
	echo "FAIL: the host's /etc/ld.so.preload or /dev/log changed"; rc=1; }
exit $rc
