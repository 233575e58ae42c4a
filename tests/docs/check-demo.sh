#!/bin/sh
# check-demo.sh - `make demo`'s kashim --status tables read as tables:
# run demo/demo.sh as nobody (its loopback scene, quick; as root the
# network-namespace scene is check-e2e's), then every table it printed
# has each column starting at the same place in the header and in every
# row, although kashim's output went into a pipe (tab-separated).
. tests/docs/lib.sh
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v mosquitto >/dev/null; then
	echo "SKIP: make demo's tables: needs root (to run the demo as nobody), setpriv and mosquitto (make deps)"
	exit 0
fi
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
chmod 755 "$d"
setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$d" TMPDIR="$d" \
	timeout -k 5 120 bash demo/demo.sh >"$d/out" 2>&1
rc=$?
[ $rc -eq 0 ] || { fail "demo/demo.sh as nobody: exit $rc"; tail -n 20 "$d/out"; finish; }
# Each table: the line after "$ kashim --status", then rows up to the
# summary. A column starts where a header word starts; every row must
# have a field starting there (two spaces or more before it).
awk '
	/\$ kashim --status/ { t++; want = 1; next }
	want == 1 { hdr = $0; cols = ""; n = 0
		for (i = 1; i <= length(hdr); i++)
			if (substr(hdr, i, 1) != " " && (i == 1 || substr(hdr, i - 1, 1) == " "))
				pos[++n] = i
		want = 2; rows[t] = 0; next }
	want == 2 && /summary:/ { want = 0; next }
	want == 2 {
		rows[t]++
		if (index($0, "\t")) { print "table " t ": a tab in: " $0; bad++; next }
		for (k = 2; k <= n; k++)
			if (substr($0, pos[k], 1) == " " || substr($0, pos[k] - 1, 1) != " ") {
				print "table " t ": column " k " of the header at " pos[k] " not matched in: " $0
				bad++; break
			}
	}
	END { if (!t) { print "no kashim --status table"; bad++ }
		for (i = 1; i <= t; i++) if (!rows[i]) { print "table " i ": no row"; bad++ }
		print t " tables"; exit bad > 0 }' "$d/out" >"$d/check"
if [ $? -eq 0 ]; then
	ok "make demo: $(tail -n 1 "$d/check"), every column aligned with its header:"
	grep -A 3 '\$ kashim --status' "$d/out" | head -n 4
else
	fail "make demo's --status tables are not aligned:"
	cat "$d/check"
	grep -A 3 '\$ kashim --status' "$d/out" | head -n 8
fi
finish
