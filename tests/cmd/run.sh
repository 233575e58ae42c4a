#!/bin/sh
# run.sh - tests of the `kashim` command (make check-cmd).
#
# Every check runs the real command: options are read back from the
# socket with getsockopt (tests/cmd/sockpair.c) or from outside with
# `kashim --status`; exit codes, messages and stdout are compared with
# what the SPEC promises. Run from the top of the tree, after make.
set -u

TOP=$(pwd)
KASHIM=$TOP/src/kashim
LIB=$TOP/src/libkashim.so
B=$TOP/tests/build/cmd
FIX=$TOP/tests/fixtures/cmd
PAIR=$B/sockpair
. "$TOP/tests/lib/lib.sh"
chmod 755 "$T"
# lib.sh kills what the test starts (by PID, in $PIDS) at exit.

# No config file of this host may change the results.
kashim_env_clear
unset LD_PRELOAD
export KASHIM_CONFIG=


# expect, contains, lacks and run come from tests/lib/lib.sh.

# line WHICH: the "out ..." or "in ..." line sockpair printed.
line() { printf '%s\n' "$OUT" | sed -n "s/^$1 //p"; }

# A fixture copied to the scratch directory with the mode the library wants.
fixture() {
	cp "$FIX/$1" "$T/$1"
	chmod 644 "$T/$1"
	echo "$T/$1"
}

echo "# options reach the socket (read back with getsockopt)"
run "$KASHIM" --idle 23 --interval 7 --count 3 --user-timeout 4500 "$PAIR"
expect "options: exit 0" 0 "$RC"
expect "options: outgoing socket" "keepalive=1 idle=23 interval=7 count=3 user_timeout=4500" "$(line out)"
expect "options: accepted socket" "keepalive=1 idle=23 interval=7 count=3 user_timeout=4500" "$(line in)"
run "$PAIR"
expect "without kashim: nothing set" "keepalive=0" "$(line out | cut -d' ' -f1)"
run "$KASHIM" --idle 10 --interval 2 --count 5 --user-timeout auto "$PAIR"
expect "--user-timeout auto = (idle + interval x count) s" "user_timeout=20000" "$(line out | cut -d' ' -f5)"
run "$KASHIM" --idle 23 --disable "$PAIR"
expect "--disable: nothing set" "keepalive=0 idle=7200" "$(line out | cut -d' ' -f1-2)"
run "$KASHIM" --idle 23 --ports 1 "$PAIR"
expect "--ports not matching: nothing set" "keepalive=0" "$(line out | cut -d' ' -f1)"
run "$KASHIM" --idle 23 --ports 1-65535 "$PAIR"
expect "--ports range matching" "keepalive=1 idle=23" "$(line out | cut -d' ' -f1-2)"
run "$KASHIM" --idle 23 --hosts 10.0.0.0/8 "$PAIR"
expect "--hosts not matching: nothing set" "keepalive=0" "$(line out | cut -d' ' -f1)"
run "$KASHIM" --idle 23 --hosts 127.0.0.0/8,::1 "$PAIR"
expect "--hosts matching (IPv4)" "keepalive=1 idle=23" "$(line out | cut -d' ' -f1-2)"
run "$KASHIM" --idle 24 --hosts ::1 "$PAIR" -6
expect "--hosts matching (IPv6)" "keepalive=1 idle=24" "$(line out | cut -d' ' -f1-2)"
run "$KASHIM" --idle 23 --direction incoming "$PAIR"
expect "--direction incoming: outgoing left alone" "keepalive=0" "$(line out | cut -d' ' -f1)"
expect "--direction incoming: accepted socket set" "keepalive=1 idle=23" "$(line in | cut -d' ' -f1-2)"
run "$KASHIM" --idle 23 "$PAIR" -o 100
expect "the program's own idle wins" "keepalive=1 idle=100" "$(line out | cut -d' ' -f1-2)"
run "$KASHIM" --idle 23 --override "$PAIR" -o 100
expect "--override: kashim's idle wins" "keepalive=1 idle=23" "$(line out | cut -d' ' -f1-2)"
GOOD=$(fixture good.conf)
run "$KASHIM" --config "$GOOD" "$PAIR"
expect "--config FILE: its values" "keepalive=1 idle=45 interval=10 count=5" "$(line out | cut -d' ' -f1-4)"
run "$KASHIM" --config "$GOOD" --idle 33 "$PAIR"
expect "an option wins over the file" "keepalive=1 idle=33 interval=10" "$(line out | cut -d' ' -f1-3)"
run env KASHIM_IDLE=12 "$KASHIM" --idle 34 "$PAIR"
expect "an option wins over the environment" "keepalive=1 idle=34" "$(line out | cut -d' ' -f1-2)"
run "$KASHIM" -v --idle 23 "$PAIR" -n
contains "-v: info lines on stderr" "kashim[" "$ERR"
NINFO=$(printf '%s\n' "$ERR" | grep -c 'kashim\[')
run "$KASHIM" -vv --idle 23 "$PAIR" -n
NDEBUG=$(printf '%s\n' "$ERR" | grep -c 'kashim\[')
expect "-vv: more lines than -v (debug)" yes "$([ "$NDEBUG" -gt "$NINFO" ] && echo yes || echo "no: $NDEBUG <= $NINFO")"
run env KASHIM_LOG=debug "$KASHIM" -q --idle 23 "$PAIR" -n
expect "-q wins over KASHIM_LOG" "" "$ERR"
run "$KASHIM" -q --idle 23 "$PAIR"
expect "-q: nothing on stderr" "" "$ERR"
expect "-q: options still applied" "keepalive=1 idle=23" "$(line out | cut -d' ' -f1-2)"
run "$KASHIM" --preset aws "$PAIR"
expect "--preset aws: its values on both ends" "keepalive=1 idle=300 interval=20 count=5 user_timeout=0
keepalive=1 idle=300 interval=20 count=5 user_timeout=0" "$(line out; line in)"
run "$KASHIM" --idle 17 --preset azure "$PAIR"
expect "--preset azure --idle 17: the explicit option wins, wherever it stands" \
	"keepalive=1 idle=17 interval=20 count=5" "$(line out | cut -d' ' -f1-4)"
run env KASHIM_PRESET=mobile "$KASHIM" "$PAIR"
expect "KASHIM_PRESET=mobile: user_timeout auto too" "keepalive=1 idle=40 interval=5 count=4 user_timeout=60000" "$(line out)"
run env KASHIM_PRESET=gcp KASHIM_COUNT=2 "$KASHIM" --config "$GOOD" "$PAIR"
expect "KASHIM_PRESET over the file's top level, KASHIM_COUNT over the preset" \
	"keepalive=1 idle=540 interval=20 count=2" "$(line out | cut -d' ' -f1-4)"
run "$KASHIM" --preset azur "$PAIR"
expect "--preset azur: exit 2" 2 "$RC"
contains "--preset azur: the known names listed" "'azur' is not a preset (none, default, aws, azure, gcp, cgnat, mobile, kubernetes)" "$ERR"
expect "--preset azur: nothing run" "" "$OUT"

echo "# LD_PRELOAD"
OTHER=$B/libother.so
run "$KASHIM" sh -c 'printf %s "$LD_PRELOAD"'
expect "LD_PRELOAD: the library, absolute" "$LIB" "$OUT"
run env LD_PRELOAD="$OTHER" "$KASHIM" sh -c 'printf %s "$LD_PRELOAD"'
expect "LD_PRELOAD: prepended, the other kept" "$LIB:$OTHER" "$OUT"
run env LD_PRELOAD="$OTHER" "$KASHIM" --idle 25 "$PAIR"
expect "LD_PRELOAD: options still reach the socket beside another preload" "keepalive=1 idle=25" "$(line out | cut -d' ' -f1-2)"
expect "LD_PRELOAD: the other library loads quietly" "" "$ERR"
run env LD_PRELOAD="$LIB" "$KASHIM" sh -c 'printf %s "$LD_PRELOAD"'
expect "LD_PRELOAD: kashim already in it, not twice" "$LIB" "$OUT"
run env LD_PRELOAD="$OTHER $LIB" "$KASHIM" sh -c 'printf %s "$LD_PRELOAD"'
expect "LD_PRELOAD: kashim moved first, never twice" "$LIB:$OTHER" "$OUT"
run "$KASHIM" "$KASHIM" sh -c 'printf %s "$LD_PRELOAD"'
expect "LD_PRELOAD: kashim under kashim, once" "$LIB" "$OUT"
mkdir -p "$T/inst/bin" "$T/inst/lib"
cp "$KASHIM" "$T/inst/bin/kashim"
cp "$LIB" "$T/inst/lib/libkashim.so"
run "$T/inst/bin/kashim" --idle 26 sh -c 'printf "%s\n" "$LD_PRELOAD"; exec "$0"' "$PAIR"
expect "installed tree: library found through bin/../lib" "$T/inst/lib/libkashim.so" "$(printf '%s\n' "$OUT" | head -n 1)"
expect "installed tree: options reach the socket" "keepalive=1 idle=26" "$(line out | cut -d' ' -f1-2)"

echo "# exit status"
run "$KASHIM" sh -c 'exit 7'
expect "COMMAND's status" 7 "$RC"
run "$KASHIM" true
expect "true: 0" 0 "$RC"
run "$KASHIM" --idle 30 -- sh -c 'exit 4'
expect "-- ends the options" 4 "$RC"
run "$KASHIM" /nonexistent/prog
expect "COMMAND missing: 127" 127 "$RC"
run "$KASHIM" kashim-no-such-command-in-path
expect "COMMAND not in PATH: 127" 127 "$RC"
printf 'not a program\n' >"$T/noexec"
chmod 644 "$T/noexec"
run "$KASHIM" "$T/noexec"
expect "COMMAND not executable: 126" 126 "$RC"
contains "COMMAND not executable: says why" "Permission denied" "$ERR"
run "$KASHIM"
expect "no COMMAND: 2" 2 "$RC"
run "$KASHIM" --no-such-option true
expect "unknown option: 2" 2 "$RC"
expect "unknown option: kashim: prefix" "kashim: unknown option --no-such-option
Try 'kashim --help' for more information." "$ERR"
run "$KASHIM" --idel 5 true
expect "a near miss: did you mean" "kashim: unknown option --idel; did you mean --idle?" "$(printf '%s\n' "$ERR" | head -n 1)"
run "$KASHIM" --intervall=5 true
contains "a near miss with =: did you mean" "did you mean --interval?" "$ERR"
run "$KASHIM" -x true
expect "unknown short option: kashim: prefix" "kashim: unknown option -x" "$(printf '%s\n' "$ERR" | head -n 1)"
run "$KASHIM" --idle
expect "missing argument: 2" 2 "$RC"
expect "missing argument: kashim: prefix" "kashim: --idle needs an argument" "$(printf '%s\n' "$ERR" | head -n 1)"
run env KASHIM_LOG_TARGET=SYSLOG KASHIM_LOG=INFO "$KASHIM" true
expect "keyword values in any case: KASHIM_LOG_TARGET=SYSLOG accepted" "0 " "$RC $ERR"
run "$KASHIM" --json true
expect "--json without --status: 2" 2 "$RC"

echo "# each bad option: exit 2, a message, nothing run, nothing on stdout"
while IFS='|' read -r opt val msg; do
	rm -f "$T/ran"
	run "$KASHIM" "$opt" "$val" touch "$T/ran"
	expect "$opt $val: exit 2" 2 "$RC"
	contains "$opt $val: message" "kashim: $opt: $msg" "$ERR"
	expect "$opt $val: COMMAND not run" no "$([ -e "$T/ran" ] && echo yes || echo no)"
	expect "$opt $val: stdout empty" "" "$OUT"
done <<'EOF'
--idle|abc|'abc' is not a number from 1 to 32767
--idle|0|'0' is not a number from 1 to 32767
--idle|32768|'32768' is not a number
--idle|-5|'-5' is not a number
--interval|0|'0' is not a number from 1 to 32767
--count|128|'128' is not a number from 1 to 127
--user-timeout|soon|'soon' is neither 'auto' nor a number
--user-timeout|2147483648|'2147483648' is neither 'auto' nor a number of ms from 0 to 2147483647
--ports|70000|'70000' is not a port
--ports|9100-9000|port range '9100-9000' is reversed
--ports|1883,,8883|empty item in '1883,,8883'
--hosts|broker.example|'broker.example' is not an IPv4 or IPv6 address (no names
--hosts|10.0.0.0/33|'10.0.0.0/33': prefix must be 0 to 32
--hosts|::1/129|'::1/129': prefix must be 0 to 128
--direction|sideways|'sideways' is not a direction
EOF
# --enable-unit and --disable-unit stand alone, whatever comes before
# them: nothing is looked up or written, exit 2.
for args in "--enable-system --enable-unit kt-x.service" \
	"--disable-unit kt-x.service --status-system" \
	"--enable-unit kt-x.service --check"; do
	run "$KASHIM" $args
	expect "$args: exit 2, refused together" \
		"2 kashim: --enable-unit and --disable-unit take one NAME and nothing else" \
		"$RC $ERR"
done
rm -f "$T/ran"
run env KASHIM_IDLE=abc "$KASHIM" touch "$T/ran"
expect "bad environment value: exit 2" 2 "$RC"
contains "bad environment value: named" "KASHIM_IDLE=abc" "$ERR"
expect "bad environment value: COMMAND not run" no "$([ -e "$T/ran" ] && echo yes || echo no)"
BADV=$(fixture bad-value.conf)
run "$KASHIM" --config "$BADV" touch "$T/ran"
expect "broken --config file: exit 2" 2 "$RC"
contains "broken --config file: FILE:LINE" "$BADV:5: count:" "$ERR"
expect "broken --config file: COMMAND not run" no "$([ -e "$T/ran" ] && echo yes || echo no)"
run "$KASHIM" --config "$T/missing.conf" true
expect "--config missing file: exit 2" 2 "$RC"
expect "--config missing file: blames --config, not KASHIM_CONFIG" \
	"kashim: --config $T/missing.conf: No such file or directory" "$ERR"
run sh -c 'cd "$1" && "$2" --config nosuch.conf true' sh "$T" "$KASHIM"
expect "--config nosuch.conf (relative): exit 2, the option blamed as typed" \
	"2 kashim: --config nosuch.conf: No such file or directory" "$RC $ERR"
run sh -c 'cd "$1" && "$2" --config nosuch.conf --check' sh "$T" "$KASHIM"
expect "--config nosuch.conf --check: exit 1, the option blamed" \
	"1 kashim: --config nosuch.conf: No such file or directory" "$RC $ERR"
cp "$GOOD" "$T/rel.conf"
chmod 644 "$T/rel.conf"
run sh -c 'cd "$1" && "$2" --config rel.conf sh -c "cd / && exec \"\$0\"" "$3"' sh "$T" "$KASHIM" "$PAIR"
expect "--config relative, COMMAND changes directory: the file's values" \
	"keepalive=1 idle=45 interval=10 count=5" "$(line out | cut -d' ' -f1-4)"
run sh -c 'cd "$1" && "$2" --config rel.conf sh -c "printf %s \"\$KASHIM_CONFIG\""' sh "$T" "$KASHIM"
expect "--config relative: passed on absolute" "$T/rel.conf" "$OUT"

echo "# --check"
run "$KASHIM" --check "$GOOD"
expect "--check good: exit 0" 0 "$RC"
expect "--check good: nothing on stderr" "" "$ERR"
contains "--check good: top level" "idle = 45" "$OUT"
contains "--check good: rule broker" 'rule "broker" {' "$OUT"
contains "--check good: rule ports" 'ports = {1883, 8883, "9000-9100"}' "$OUT"
contains "--check good: auto user timeout" "user_timeout = auto    # 70000 ms" "$OUT"
contains "--check good: rule database" 'hosts = {"10.0.0.0/8", "::1/128"}' "$OUT"
run env KASHIM_INTERVAL=9 "$KASHIM" --count 6 --check "$GOOD"
contains "--check: the environment applied" "interval = 9" "$OUT"
contains "--check: options applied" "count = 6" "$OUT"
contains "--check: rules inherit them" "user_timeout = auto    # 74000 ms" "$OUT"
run "$KASHIM" --check "$GOOD"
expect "--check: the top level's give-up time and path limits" \
	"# top level: a dead peer is given up after 95 s (idle 45 + interval 10 x count 5); idle 45 s survives aws 350 s, azure 240 s, gcp 600 s, cgnat 120 s, mobile 60 s, kubernetes 900 s" \
	"$(printf '%s\n' "$OUT" | grep '^# top level:')"
contains "--check: each rule's" '# rule "broker": a dead peer is given up' "$OUT"
printf 'rule "slow" {\n  ports = {1883}\n  idle = 900\n}\nrule "aws" {\n  ports = {8883}\n  preset = aws\n}\n' >"$T/slow.conf"
chmod 644 "$T/slow.conf"
run "$KASHIM" --check "$T/slow.conf"
expect "--check idle above every limit: still exit 0" 0 "$RC"
expect "--check idle above every limit: one warning naming the rule" \
	'kashim: warning: rule "slow": idle 900 s is at or above every path limit kashim knows (aws 350 s, azure 240 s, gcp 600 s, cgnat 120 s, mobile 60 s, kubernetes 900 s): a NAT or load balancer with any of them forgets an idle connection before its first probe' "$ERR"
contains "--check: a rule's preset, its values" "$(printf '  idle = 300\n  interval = 20\n  count = 5')" "$OUT"
contains "--check: keep-alive does not reach past an L7 proxy" \
	"$(printf '# TCP keep-alive does not refresh the idle timer of a proxy that ends TCP\n# (AWS ALB and CLB, other L7 proxies)')" "$OUT"
contains "--check: there the application's pings must be shorter" "the application's own pings" "$OUT"
contains "--check: a preset survives the limit it is named for" '# rule "aws": a dead peer is given up after 400 s (idle 300 + interval 20 x count 5); idle 300 s survives aws 350 s, gcp 600 s, kubernetes 900 s; not azure 240 s, cgnat 120 s, mobile 60 s' "$OUT"
run env KASHIM_CONFIG="$GOOD" "$KASHIM" --check
contains "--check without FILE: \$KASHIM_CONFIG" "$GOOD is valid" "$OUT"
run env -u KASHIM_CONFIG "$KASHIM" --check
# Valid, missing or broken, the system file is the one named.
contains "--check without FILE: the system file" "/kashim.conf" "$OUT$ERR"
run env KASHIM_CONFIG= "$KASHIM" --check
expect "--check with KASHIM_CONFIG empty: exit 0" 0 "$RC"
contains "--check with KASHIM_CONFIG empty: says so" "no config file" "$OUT"
while IFS='|' read -r file want; do
	f=$(fixture "$file")
	run "$KASHIM" --check "$f"
	expect "--check $file: exit 1" 1 "$RC"
	contains "--check $file: FILE:LINE: message" "$f:$want" "$ERR"
	expect "--check $file: stdout empty" "" "$OUT"
done <<'EOF'
unknown-key.conf|4: unknown key 'idel'; did you mean 'idle'?
bad-value.conf|5: count: '500' is not a number from 1 to 127
bad-rule.conf|6: hosts: '192.168.0.0/40': prefix must be 0 to 32
bad-ports.conf|4: ports: port range '9100-9000' is reversed
syntax.conf|3:
EOF
run "$KASHIM" --check "$T/missing.conf"
expect "--check missing FILE: exit 1" 1 "$RC"
expect "--check missing FILE: says so" "$T/missing.conf: No such file or directory" "$ERR"
run env KASHIM_CONFIG="$T/missing.conf" "$KASHIM" --check
expect "--check, KASHIM_CONFIG names a missing file: exit 1" 1 "$RC"
contains "--check, KASHIM_CONFIG names a missing file: says so" "$T/missing.conf: No such file or directory (named by KASHIM_CONFIG)" "$ERR"
run "$KASHIM" --check "$GOOD" --idle 33 -v
expect "--check FILE then options: exit 0" 0 "$RC"
contains "--check FILE then options: applied" "idle = 33" "$OUT"
contains "--check FILE then options: -v applied" "log_level = info" "$OUT"
run "$KASHIM" --check "$GOOD" "$GOOD"
expect "--check, two FILEs: exit 2" 2 "$RC"

echo "# --check warns about what bites system-wide"
cp "$GOOD" "$T/private.conf"
chmod 600 "$T/private.conf"
run "$KASHIM" --check "$T/private.conf"
expect "--check 0600 file: valid, exit 0" 0 "$RC"
contains "--check 0600 file: warned, not readable by others" "kashim: warning: $T/private.conf: not readable by other users (mode 0600)" "$ERR"
mkdir -m 777 "$T/open"
chmod 777 "$T/open"
cp "$GOOD" "$T/open/k.conf"
chmod 644 "$T/open/k.conf"
run "$KASHIM" --check "$T/open/k.conf"
expect "--check file in a world-writable directory: exit 0" 0 "$RC"
contains "--check file in a world-writable directory: warned" "directory $T/open is writable by others" "$ERR"
: >"$T/k.log"
chmod 644 "$T/k.log"
printf 'log_target = "%s"\n' "$T/k.log" >"$T/logt.conf"
chmod 644 "$T/logt.conf"
run "$KASHIM" --check "$T/logt.conf"
expect "--check log_target others cannot open: exit 0" 0 "$RC"
contains "--check log_target others cannot open: warned" "log_target $T/k.log: not writable by other users" "$ERR"
run "$KASHIM" --check "$GOOD"
expect "--check a file fit for every user: no warning" "" "$ERR"
run env KASHIM_IDLE=0 "$KASHIM" --check "$GOOD"
expect "--check bad environment: exit 1" 1 "$RC"
contains "--check bad environment: named" "KASHIM_IDLE=0" "$ERR"
cp "$GOOD" "$T/groupw.conf"
chmod 664 "$T/groupw.conf"
run "$KASHIM" --check "$T/groupw.conf"
expect "--check group-writable file: refused, exit 1" 1 "$RC"
contains "--check group-writable file: says why" "writable by its group" "$ERR"
cp "$GOOD" "$T/worldw.conf"
chmod 646 "$T/worldw.conf"
run "$KASHIM" --check "$T/worldw.conf"
contains "--check world-writable file: refused" "writable by others" "$ERR"
if [ "$(id -u)" = 0 ]; then
	cp "$GOOD" "$T/nobody.conf"
	chown nobody "$T/nobody.conf"
	run "$KASHIM" --check "$T/nobody.conf"
	expect "--check file owned by another user: exit 1" 1 "$RC"
	contains "--check file owned by another user: says why" "owned by uid" "$ERR"
else
	echo "SKIP: --check of a file owned by another user needs root"
fi

echo "# a config file that is a FIFO: refused at once, never waited on"
mkfifo -m 644 "$T/fifo.conf"
run timeout 10 "$KASHIM" --check "$T/fifo.conf"
expect "--check FIFO: exit 1 at once" 1 "$RC"
contains "--check FIFO: not a regular file" "$T/fifo.conf: not a regular file" "$ERR"
run timeout 10 "$KASHIM" --config "$T/fifo.conf" true
expect "--config FIFO: exit 2 at once" 2 "$RC"
contains "--config FIFO: not a regular file" "$T/fifo.conf: not a regular file" "$ERR"
run timeout 10 env LD_PRELOAD="$LIB" KASHIM_CONFIG="$T/fifo.conf" "$PAIR"
expect "FIFO as KASHIM_CONFIG: the first connect goes on" 0 "$RC"
contains "FIFO as KASHIM_CONFIG: reported" "$T/fifo.conf: not a regular file" "$ERR"
expect "FIFO as KASHIM_CONFIG: sockets left alone" "keepalive=0 keepalive=0" "$(line out | cut -d' ' -f1) $(line in | cut -d' ' -f1)"
rm -f "$T/fifo.conf"

echo "# --status"
"$KASHIM" --idle 23 --interval 6 --count 3 --user-timeout auto "$PAIR" -n -r "$T/ready1" -H 30 &
P1=$!
PIDS="$PIDS $P1"
"$PAIR" -6 -n -r "$T/ready2" -H 30 &
P2=$!
PIDS="$PIDS $P2"
if wait_file "$T/ready1" 10 && wait_file "$T/ready2" 10; then
	run "$KASHIM" --status "$P1"
	expect "--status: exit 0" 0 "$RC"
	expect "--status: header" "PID NAME FD LOCAL PEER STATE KEEPALIVE IDLE INTERVAL COUNT USER_TIMEOUT LIMIT" "$(printf '%s\n' "$OUT" | head -n 1 | tr -s '\t' ' ')"
	expect "--status: under kashim, both connected ends as set" \
		"ESTABLISHED on 23 6 3 41000
ESTABLISHED on 23 6 3 41000" \
		"$(printf '%s\n' "$OUT" | awk '$6 == "ESTABLISHED" { print $6, $7, $8, $9, $10, $11 }')"
	# The listener holds them too: kashim put them there for its accepts.
	expect "--status: the listener too" "LISTEN on 23 6 3 41000" "$(printf '%s\n' "$OUT" | awk '$6 == "LISTEN" { print $6, $7, $8, $9, $10, $11 }')"
	contains "--status: IPv4 addresses" "127.0.0.1:" "$OUT"
	run "$KASHIM" --status "$P2"
	expect "--status: without kashim, keep-alive off" "ESTABLISHED off
ESTABLISHED off" "$(printf '%s\n' "$OUT" | awk '$6 == "ESTABLISHED" { print $6, $7 }')"
	contains "--status: IPv6 addresses" "[::1]:" "$OUT"
	run "$KASHIM" --status "$P1" --json
	expect "--status --json: exit 0" 0 "$RC"
	expect "--status --json: parsed, values as set" "ESTABLISHED True 23 6 3 41000 ipv4
ESTABLISHED True 23 6 3 41000 ipv4
LISTEN True" "$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in sorted(d["processes"][0]["sockets"], key=lambda s: s["state"]):
    if s["state"] == "LISTEN":
        print(s["state"], s["keepalive"])
    else:
        print(s["state"], s["keepalive"], s["idle"], s["interval"], s["count"], s["user_timeout"], s["family"])
')"
	# ss(8) reads the same sockets through sock_diag: a second witness.
	PORT1=$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(min(s["local"]["port"] for s in d["processes"][0]["sockets"] if s["state"] == "ESTABLISHED"))
')
	SS=$(ss -tnoH state established "( sport = :$PORT1 )")
	expect "ss agrees: keep-alive timer running, at most 23 s" yes "$(printf '%s' "$SS" | grep -Eq 'timer:\(keepalive,(2[0-3]|1?[0-9])(\.[0-9]+)?(ms|sec)' && echo yes || echo "no: $SS")"
	run "$KASHIM" --status "$P2" --json
	expect "--status --json without kashim: parsed" "False False ipv6 ::1" "$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = [s for s in d["processes"][0]["sockets"] if s["state"] == "ESTABLISHED"]
print(c[0]["keepalive"], c[1]["keepalive"], c[0]["family"], c[0]["peer"]["address"])
')"
	expect "--status --json: the pid" "$P2" "$(printf '%s' "$OUT" | python3 -c 'import json, sys; print(json.load(sys.stdin)["processes"][0]["pid"])')"
	# --no-listener: the accepted end gets them on its own, the listener not.
	"$KASHIM" --no-listener --idle 24 "$PAIR" -n -r "$T/ready3" -H 30 &
	P3=$!
	PIDS="$PIDS $P3"
	if wait_file "$T/ready3" 10; then
		run "$KASHIM" --status "$P3"
		expect "--no-listener: both ends as set, the listener untouched" "ESTABLISHED on 24
ESTABLISHED on 24
LISTEN off" "$(printf '%s\n' "$OUT" | awk '$6 ~ /^(ESTABLISHED|LISTEN)$/ { print $6, $7, $8 }' | sort | sed 's/^LISTEN off .*/LISTEN off/')"
	else
		fail "--no-listener: sockpair did not get ready"
	fi
	if [ "$(id -u)" = 0 ]; then
		cp "$KASHIM" "$T/kashim-copy"
		chmod 755 "$T/kashim-copy"
		run setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/kashim-copy" --status "$P1"
		expect "--status without ptrace rights: exit 1" 1 "$RC"
		contains "--status without ptrace rights: names CAP_SYS_PTRACE" "CAP_SYS_PTRACE" "$ERR"
		contains "--status without ptrace rights: names the access mode" "PTRACE_MODE_ATTACH" "$ERR"
		contains "--status without ptrace rights: counted, not listed" "summary: 0 processes, 0 connections, 0 with keep-alive, 0 without, 1 not inspectable" "$OUT"
		cp "$PAIR" "$T/sockpair-copy"
		chmod 755 "$T/sockpair-copy"
		mkdir "$T/nobody"
		chown nobody "$T/nobody"
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$T/sockpair-copy" -n -r "$T/nobody/ready" -H 30 &
		P3=$!
		PIDS="$PIDS $P3"
		if wait_file "$T/nobody/ready" 10; then
			run setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/kashim-copy" --status "$P3"
			expect "--status by the process's own user: exit 0" 0 "$RC"
			expect "--status by the process's own user: its sockets" 3 "$(printf '%s\n' "$OUT" | grep -c '127.0.0.1:')"
		else
			fail "--status: the client as nobody did not start"
		fi
	else
		echo "SKIP: --status permission refusal needs root (to be refused as nobody)"
	fi
else
	fail "--status: the test clients did not start"
fi
sh -c 'exit 0' &
GONE=$!
wait "$GONE"
run "$KASHIM" --status "$GONE"
expect "--status on a gone process: exit 1" 1 "$RC"
contains "--status on a gone process: says so" "no process with PID $GONE" "$ERR"
run "$KASHIM" --status 0
expect "--status 0: exit 2" 2 "$RC"
run "$KASHIM" --status ''
expect "--status '': exit 2" 2 "$RC"
run "$KASHIM" --status no-such-process-name
expect "--status NAME that matches nothing: exit 1" 1 "$RC"
contains "--status NAME that matches nothing: says so" "no process named 'no-such-process-name'" "$ERR"

echo "# --status on a process that exits in the middle of the scan"
"$PAIR" -n -r "$T/ready3" -H 30 &
P3=$!
PIDS="$PIDS $P3"
if wait_file "$T/ready3" 10; then
	run env LD_PRELOAD="$B/libvanish.so" KASHIM_TEST_VANISH_PID="$P3" \
		"$KASHIM" --status "$P3"
	expect "--status, process gone mid-scan: exit 1" 1 "$RC"
	contains "--status, process gone mid-scan: says so" \
		"kashim: --status: process $P3 went away during the scan" "$ERR"
	expect "--status, process gone mid-scan: none of its sockets shown" 0 \
		"$(printf '%s\n' "$OUT" | awk -v p="$P3" '$1 == p' | wc -l)"
else
	fail "--status mid-scan: the helper did not start"
fi
wait "$P3" 2>/dev/null

echo "# warnings about programs LD_PRELOAD cannot reach"
run "$KASHIM" "$B/static"
expect "static: still run, its status" 0 "$RC"
contains "static: warned" "kashim: warning: $B/static is statically linked" "$ERR"
expect "static: one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
run "$KASHIM" -q "$B/static"
expect "static with -q: no warning" "" "$ERR"
run "$KASHIM" "$B/golike"
contains "Go note in a PT_NOTE segment: warned" "$B/golike is a Go program" "$ERR"
contains "Go warning: Go's own keep-alive" "15 s keep-alive" "$ERR"
contains "Go warning: bypasses libc" "bypasses libc" "$ERR"
run "$KASHIM" "$B/golike-section"
contains "Go note only as a section: warned" "$B/golike-section is a Go program" "$ERR"
if command -v go >/dev/null 2>&1; then
	mkdir -p "$T/go"
	printf 'package main\n\nimport "net"\n\nfunc main() { net.Dial("tcp", "127.0.0.1:1") }\n' >"$T/go/main.go"
	if (cd "$T/go" && HOME="$T/go" GOCACHE="$T/go/cache" GOPATH="$T/go/path" \
		GO111MODULE=off GOFLAGS= timeout 120 go build -o "$T/go/gobin" main.go) >"$T/go/log" 2>&1; then
		run "$KASHIM" "$T/go/gobin"
		contains "a real Go binary (golang-go): warned" "$T/go/gobin is a Go program" "$ERR"
	else
		fail "go build failed" "$(cat "$T/go/log")"
	fi
else
	skip "no go command (golang-go not installable): the Go note is tested by hand-made notes only"
fi
run "$KASHIM" true
expect "a dynamic program: no warning" "" "$ERR"
printf '#!/bin/sh\nexit 3\n' >"$T/script"
chmod 755 "$T/script"
run "$KASHIM" "$T/script"
expect "#! script: run" 3 "$RC"
expect "#! script with a dynamic interpreter: no warning" "" "$ERR"
printf '#! %s -x\n' "$B/static" >"$T/static-script"
chmod 755 "$T/static-script"
run "$KASHIM" "$T/static-script"
contains "#! script with a static interpreter: warned about it" "$B/static is statically linked" "$ERR"
mkdir -p "$T/path"
cp "$B/static" "$T/path/kashim-static-test"
run env PATH="$T/path:$PATH" "$KASHIM" kashim-static-test
contains "found in PATH like execvp: warned" "$T/path/kashim-static-test is statically linked" "$ERR"
if [ "$(id -u)" = 0 ]; then
	cp /bin/true "$T/setuid-true"
	chown nobody "$T/setuid-true"
	chmod 4755 "$T/setuid-true"
	run "$KASHIM" "$T/setuid-true"
	contains "setuid file: warned" "$T/setuid-true is setuid" "$ERR"
	contains "setuid file: points to /etc/ld.so.preload" "/etc/ld.so.preload" "$ERR"
	cp /bin/true "$T/setgid-true"
	chgrp nogroup "$T/setgid-true"
	chmod 2755 "$T/setgid-true"
	run "$KASHIM" "$T/setgid-true"
	contains "setgid file: warned" "$T/setgid-true is setgid" "$ERR"
	cp /bin/true "$T/setuid-self"
	chmod 4755 "$T/setuid-self"
	run "$KASHIM" "$T/setuid-self"
	expect "setuid to oneself (no secure mode): no warning" "" "$ERR"
else
	echo "SKIP: setuid warning needs root (to make a file setuid to another user)"
fi

echo "# stdout holds COMMAND's output and nothing else"
run "$KASHIM" -vv --idle 23 true
expect "-vv true: stdout empty" "" "$OUT"
run "$KASHIM" -vv --idle 23 "$PAIR" -n
expect "-vv, a program that connects quietly: stdout empty" "" "$OUT"
run "$KASHIM" "$B/static"
expect "warning: stdout empty" "" "$OUT"
run "$KASHIM" --idle 27 "$PAIR"
expect "stdout is the program's own, exactly" "out keepalive=1 idle=27 interval=15 count=4 user_timeout=0
in keepalive=1 idle=27 interval=15 count=4 user_timeout=0" "$OUT"

echo "# --help and --version"
run "$KASHIM" --help
expect "--help: exit 0" 0 "$RC"
for o in --idle --interval --count --user-timeout --override --ports --hosts \
	--direction --config --disable -v -vv -q --check --status --json --version \
	--enable-system --disable-system --status-system; do
	contains "--help mentions $o" "$o" "$OUT"
done
run "$KASHIM" --version
contains "--version" "kashim 0." "$OUT"

summary check-cmd
