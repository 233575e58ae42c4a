#!/bin/sh
# status.sh - `kashim --status` over many processes (make check-cmd).
#
# A loopback server and 20 client processes of 10 connections each: 10
# run under kashim with idle 30, 10 bare. --all and the name form must
# find exactly that split; --path-limit must flip the exit status with
# the limit; --json must parse as one document; --prometheus must pass
# promtool (from Debian's prometheus package, unpacked, never installed)
# and a parser of its own; a process of another user must show as not
# inspectable when run as nobody. Run from the top of the tree, after make.
set -u

TOP=$(pwd)
KASHIM=$TOP/src/kashim
B=$TOP/tests/build/cmd
. "$TOP/tests/lib/lib.sh"
chmod 755 "$T"
# lib.sh kills what the test starts (by PID, in $PIDS) at exit.

kashim_env_clear
unset LD_PRELOAD
export KASHIM_CONFIG=

# wait_files N PATTERN: wait until N files match PATTERN, at most 20 s.
wait_files() {
	i=0
	while [ "$(ls $2 2>/dev/null | wc -l)" -lt "$1" ] && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(ls $2 2>/dev/null | wc -l)" -ge "$1" ]
}

# Names of our own (comm is at most 15 characters), so no other process
# on the machine is counted.
CLI=kcli$$
SRV=ksrv$$
CLI=$(printf '%.15s' "$CLI")
cp "$B/holder" "$T/$CLI"
cp "$B/holder" "$T/$SRV"
chmod 755 "$T/$CLI" "$T/$SRV"

echo "# a server and 20 clients of 10 connections, 10 of them under kashim (idle 30)"
"$T/$SRV" -s "$T/port" -H 120 &
PIDS="$PIDS $!"
SRV_PID=$!
wait_files 1 "$T/port" || { fail "the server did not start"; summary status; }
PORT=$(cat "$T/port")
KA_PIDS=
BARE_PIDS=
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$KASHIM" --idle 30 "$T/$CLI" -c "$PORT" -n 10 -r "$T/ready.ka$i" -H 120 &
	PIDS="$PIDS $!"
	KA_PIDS="$KA_PIDS $!"
	"$T/$CLI" -c "$PORT" -n 10 -r "$T/ready.bare$i" -H 120 &
	PIDS="$PIDS $!"
	BARE_PIDS="$BARE_PIDS $!"
done
if ! wait_files 20 "$T/ready.*"; then
	fail "the clients did not connect"
	summary status
fi
# The server has accepted every connection once it holds 200 sockets.
i=0
while [ "$(ls /proc/$SRV_PID/fd | wc -l)" -lt 204 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done

echo "# the name form"
run "$KASHIM" --status "$CLI"
expect "name: exit 0" 0 "$RC"
expect "name: the summary line is the last line" \
	"summary: 20 processes, 200 connections, 100 with keep-alive, 100 without, 0 not inspectable" \
	"$(printf '%s\n' "$OUT" | tail -n 1)"
expect "name: header, tab-separated when not a terminal" \
	"PID	NAME	FD	LOCAL	PEER	STATE	KEEPALIVE	IDLE	INTERVAL	COUNT	USER_TIMEOUT	LIMIT" \
	"$(printf '%s\n' "$OUT" | head -n 1)"
expect "name: 100 connections on with idle 30, 100 off" "100 off
100 on 30" "$(printf '%s\n' "$OUT" | awk -F '\t' -v n="$CLI" '$2 == n && $6 == "ESTABLISHED" {
	print ($7 == "on" ? $7 " " $8 : $7) }' | sort | uniq -c | sed 's/^ *//')"
expect "name: every row names the process" 200 \
	"$(printf '%s\n' "$OUT" | awk -F '\t' -v n="$CLI" '$2 == n && $6 == "ESTABLISHED"' | wc -l)"
ka_rows=0
for p in $KA_PIDS; do
	ka_rows=$((ka_rows + $(printf '%s\n' "$OUT" | awk -F '\t' -v p="$p" '$1 == p && $7 == "on" && $8 == 30' | wc -l)))
done
expect "name: the keep-alive ones are exactly the kashim processes" 100 "$ka_rows"
run "$KASHIM" --status "$CLI" "$SRV"
expect "two names: the server's 200 accepted connections too" \
	"summary: 21 processes, 400 connections, 100 with keep-alive, 300 without, 0 not inspectable" \
	"$(printf '%s\n' "$OUT" | tail -n 1)"
run "$KASHIM" --status "$CLI" no-such-name-$$
expect "a name that matches nothing: exit 1" 1 "$RC"
contains "a name that matches nothing: says so" "no process named 'no-such-name-$$'" "$ERR"

echo "# PIDs"
# shellcheck disable=SC2086
run "$KASHIM" --status $KA_PIDS
expect "10 PIDs: exit 0" 0 "$RC"
expect "10 PIDs: their 100 connections" \
	"summary: 10 processes, 100 connections, 100 with keep-alive, 0 without, 0 not inspectable" \
	"$(printf '%s\n' "$OUT" | tail -n 1)"

echo "# --all"
run "$KASHIM" --status --all --json
expect "--all --json: exit 0" 0 "$RC"
printf '%s' "$OUT" >"$T/all.json"
if python3 -m json.tool "$T/all.json" >/dev/null 2>"$T/json.err"; then
	pass "--all --json parses with python3 -m json.tool"
else
	fail "--all --json does not parse" "$(cat "$T/json.err")"
fi
expect "--all: our clients, exactly the split" "20 200 100 100 30" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ps = [p for p in d["processes"] if p["name"] == sys.argv[2]]
cs = [s for p in ps for s in p["sockets"] if s["state"] == "ESTABLISHED"]
on = [s for s in cs if s["keepalive"]]
print(len(ps), len(cs), len(on), len(cs) - len(on), sorted(set(s["idle"] for s in on)))
' "$T/all.json" "$CLI" | tr -d '[]')"
expect "--all: the summary counts every inspected process" yes "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
n = sum(1 for p in d["processes"] for c in p["sockets"] if c["state"] not in ("LISTEN", "CLOSE"))
print("yes" if s["processes"] == len(d["processes"]) and s["connections"] == n and s["processes"] >= 21 else s)
' "$T/all.json")"

echo "# --path-limit"
# shellcheck disable=SC2086
run "$KASHIM" --status $KA_PIDS --path-limit 31
expect "idle 30 under a 31 s limit: exit 0" 0 "$RC"
# shellcheck disable=SC2086
run "$KASHIM" --status $KA_PIDS --path-limit 30
expect "idle 30 under a 30 s limit: exit 3" 3 "$RC"
contains "30 s limit: counted in the summary" "100 cut by a path limit of 30 s" "$OUT"
expect "30 s limit: every established row says CUT" 100 \
	"$(printf '%s\n' "$OUT" | awk -F '\t' '$6 == "ESTABLISHED" && $12 == "CUT"' | wc -l)"
# shellcheck disable=SC2086
run "$KASHIM" --status $KA_PIDS --path-limit mobile
expect "idle 30 under the mobile preset (60 s): exit 0" 0 "$RC"
contains "a preset's limit is named" "0 cut by the mobile path limit (60 s)" "$OUT"
run "$KASHIM" --status "$CLI" --path-limit aws
expect "bare connections under any limit: exit 3" 3 "$RC"
contains "bare: 100 cut" "100 cut by the aws path limit (350 s)" "$OUT"
run "$KASHIM" --status "$CLI" --path-limit 0
expect "--path-limit 0: exit 2" 2 "$RC"
run "$KASHIM" --status "$CLI" --path-limit azur
expect "--path-limit of an unknown name: exit 2" 2 "$RC"
contains "--path-limit of an unknown name: lists the presets" "aws 350 s, azure 240 s, gcp 600 s" "$ERR"
run "$KASHIM" --status "$CLI" --path-limit default
expect "--path-limit default (a preset without a limit): exit 2" 2 "$RC"
run "$KASHIM" --path-limit 30
expect "--path-limit without --status: exit 2" 2 "$RC"
run "$KASHIM" --status --all "$CLI"
expect "--all with a name: exit 2" 2 "$RC"
run "$KASHIM" --status
expect "--status alone: exit 2" 2 "$RC"

echo "# --prometheus"
run "$KASHIM" --status --all --prometheus --path-limit gcp
expect "--prometheus: exit 3 (bare connections)" 3 "$RC"
printf '%s\n' "$OUT" >"$T/metrics.prom"
expect "--prometheus: parsed, our clients' series" "on 100 off 100 cut 100 limit 600" "$(python3 -c '
import re, sys
line = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*=\"(\\.|[^\"\\])*\",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$")
typed = set()
got = {}
for l in open(sys.argv[1]):
    l = l.rstrip("\n")
    if not l:
        continue
    if l.startswith("# TYPE "):
        typed.add(l.split()[2])
        continue
    if l.startswith("# HELP "):
        continue
    m = line.match(l)
    if not m or m.group(1) not in typed:
        sys.exit("bad line: " + l)
    got[l.rsplit(" ", 1)[0]] = float(l.rsplit(" ", 1)[1])
n = sys.argv[2]
print("on %d off %d cut %d limit %d" % (
    got["kashim_connections{process=\"%s\",keepalive=\"on\"}" % n],
    got["kashim_connections{process=\"%s\",keepalive=\"off\"}" % n],
    got["kashim_connections_cut{process=\"%s\"}" % n],
    got["kashim_path_limit_seconds"]))
' "$T/metrics.prom" "$CLI" 2>&1)"
# promtool comes in Debian's prometheus package; it is unpacked into
# tests/build (once), never installed: installing would start a server.
PROMTOOL=$TOP/tests/build/promtool/usr/bin/promtool
if [ ! -x "$PROMTOOL" ]; then
	rm -rf "$TOP/tests/build/promtool" && mkdir -p "$TOP/tests/build/promtool"
	(cd "$TOP/tests/build/promtool" && timeout 300 apt-get download prometheus >/dev/null 2>"$T/apt.err" &&
		dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb)
fi
if [ -x "$PROMTOOL" ]; then
	if "$PROMTOOL" check metrics <"$T/metrics.prom" >"$T/promtool.out" 2>&1; then
		pass "promtool check metrics: no finding"
	else
		fail "promtool check metrics" "$(cat "$T/promtool.out")"
	fi
else
	skip "promtool: Debian's prometheus package could not be downloaded ($(tail -n 1 "$T/apt.err" 2>/dev/null)); the format was checked by the parser above"
fi

echo "# the terminal: aligned columns"
if command -v script >/dev/null 2>&1; then
	script -qec "$KASHIM --status $CLI" /dev/null | tr -d '\r' >"$T/tty.out"
	expect "terminal: no tabs, columns aligned (the last column starts at one place)" "0 1" \
		"$(grep -c "$(printf '\t')" "$T/tty.out") $(grep -v '^summary' "$T/tty.out" | sed 's/[^ ]*$//' | awk '{ print length($0) }' | sort -u | wc -l)"
	expect "terminal: the summary line is the last line" summary "$(tail -n 1 "$T/tty.out" | cut -d: -f1)"
else
	skip "script(1) is missing: the aligned table was not checked"
fi

echo "# process names that are not UTF-8 or hold a newline (any user can set them)"
ODD1=$(printf 'r\377')
ODD2=$(printf 'k\nl%s' "$$")
"$T/$CLI" -N "$ODD1" -c "$PORT" -n 2 -r "$T/odd.1" -H 120 &
PIDS="$PIDS $!"
ODD1_PID=$!
"$T/$CLI" -N "$ODD2" -c "$PORT" -n 2 -r "$T/odd.2" -H 120 &
PIDS="$PIDS $!"
ODD2_PID=$!
wait_files 2 "$T/odd.*" || fail "the oddly named clients did not connect"
"$KASHIM" --status --all --json >"$T/odd.json" 2>/dev/null
expect "odd names, --all --json: valid UTF-8 JSON, names as kashim(1) says" \
	"'r\\ufffd' 2 'k\\nl$$' 2" "$(python3 -c '
import json, sys
raw = open(sys.argv[1], "rb").read()
d = json.loads(raw.decode("utf-8", errors="strict"))
by = {p["pid"]: p for p in d["processes"]}
out = []
for pid in sys.argv[2:]:
    p = by[int(pid)]
    out.append("%s %d" % (ascii(p["name"]), len(p["sockets"])))
print(" ".join(out))
' "$T/odd.json" "$ODD1_PID" "$ODD2_PID" 2>&1 | tail -n 1)"
run "$KASHIM" --status "$ODD1_PID" "$ODD2_PID"
expect "odd names, the table: a header, 4 rows and the summary, 12 fields a row" "6 0" \
	"$(printf '%s\n' "$OUT" | wc -l) $(printf '%s\n' "$OUT" | grep -v '^summary' | awk -F '\t' 'NF != 12' | wc -l)"
expect "odd names, the table: each name on one line, '?' for what cannot be shown" \
	"2 k?l$$
2 r?" "$(printf '%s\n' "$OUT" | awk -F '\t' 'NR > 1 && NF == 12 { print $2 }' | sort | uniq -c | sed 's/^ *//')"
expect "two PIDs: the rows in the order the PIDs were given" "$ODD1_PID $ODD2_PID|$ODD2_PID $ODD1_PID" \
	"$(printf '%s\n' "$OUT" | awk -F '\t' 'NR > 1 && NF == 12 { print $1 }' | uniq | tr '\n' ' ' | sed 's/ $//')|$("$KASHIM" --status "$ODD2_PID" --json "$ODD1_PID" | python3 -c '
import json, sys
print(" ".join(str(p["pid"]) for p in json.load(sys.stdin)["processes"]))')"
if command -v script >/dev/null 2>&1; then
	script -qec "$KASHIM --status $ODD1_PID $ODD2_PID" /dev/null | tr -d '\r' >"$T/odd.tty"
	expect "odd names, the terminal: 6 lines, the last column starts at one place" "6 1" \
		"$(wc -l <"$T/odd.tty") $(grep -v '^summary' "$T/odd.tty" | sed 's/[^ ]*$//' | awk '{ print length($0) }' | sort -u | wc -l)"
fi
"$KASHIM" --status "$ODD1_PID" "$ODD2_PID" --prometheus >"$T/odd.prom" 2>/dev/null
expect "odd names, --prometheus: UTF-8, the newline escaped" \
	"kashim_connections{process=\"k\\\\nl$$\",keepalive=\"off\"} 2|kashim_connections{process=\"r\\ufffd\",keepalive=\"off\"} 2" \
	"$(python3 -c '
import sys
t = open(sys.argv[1], "rb").read().decode("utf-8", errors="strict")
print("|".join(ascii(l)[1:-1] for l in t.splitlines() if l.startswith("kashim_connections{") and "off" in l))
' "$T/odd.prom" 2>&1 | tail -n 1)"
if [ -x "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics <"$T/odd.prom" >"$T/promtool.out" 2>&1 &&
		pass "odd names: promtool check metrics: no finding" ||
		fail "odd names: promtool check metrics" "$(cat "$T/promtool.out")"
fi
kill "$ODD1_PID" "$ODD2_PID" 2>/dev/null

echo "# another user's processes: not inspectable, named on one line"
if [ "$(id -u)" = 0 ]; then
	cp "$KASHIM" "$T/kashim-copy"
	chmod 755 "$T/kashim-copy"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/kashim-copy" --status "$CLI"
	expect "as nobody, by name: exit 1" 1 "$RC"
	expect "as nobody: one line on stderr" 1 "$(printf '%s\n' "$ERR" | wc -l)"
	contains "as nobody: counted" "20 processes not inspectable:" "$ERR"
	contains "as nobody: named" "$CLI (" "$ERR"
	contains "as nobody: says what is needed" "CAP_SYS_PTRACE" "$ERR"
	contains "as nobody: the summary counts them" "0 processes, 0 connections, 0 with keep-alive, 0 without, 20 not inspectable" "$OUT"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/kashim-copy" --status --all --json
	expect "as nobody, --all: exit 0" 0 "$RC"
	expect "as nobody, --all: our clients listed as not inspectable" 20 "$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for r in d["not_inspectable"] if r["name"] == sys.argv[1]))
' "$CLI")"
else
	skip "not inspectable as nobody needs root"
fi

summary status
