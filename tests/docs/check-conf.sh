#!/bin/sh
# check-conf.sh KEYS - conf/kashim.conf holds every key of the settings
# table (KEYS: the table as tests/build/docs-keys prints it), commented,
# at its built-in default; it parses cleanly with the library's reader and
# changes nothing; uncommented, every example in it parses too.
KEYS=$1
. tests/docs/lib.sh
conf=conf/kashim.conf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Every key, at its default: `#key = value` (quotes and {} aside).
before=$fails
for k in $(cut -f1 "$KEYS" | grep -v '^-$'); do
	def=$(key_field "$k" 4)
	[ "$def" = - ] && def=
	line=$(grep -E "^#$k = " $conf)
	if [ -z "$line" ]; then
		fail "$conf: no '#$k = ...' line"
		continue
	fi
	val=$(printf '%s\n' "$line" | sed -e "s/^#$k = //" -e 's/[{}"]//g')
	[ "$val" = "$def" ] || fail "$conf: $k is '$val', the built-in default is '$def'"
done
[ "$fails" = "$before" ] && ok "$conf: every key of the table is listed at its default"

# Run the probe under the library with config file $1, stderr into $2,
# logging at level $3 (default info).
probe() {
	KASHIM_CONFIG=$1 KASHIM_LOG=${3:-info} LD_PRELOAD=$PWD/src/libkashim.so \
		timeout 20 python3 tests/docs/probe.py 2>"$2"
}
want="rule \"default\": TCP_KEEPIDLE=$(key_field idle 4) TCP_KEEPINTVL=$(key_field interval 4) TCP_KEEPCNT=$(key_field count 4) SO_KEEPALIVE=1"

# 2. As shipped: parsed without a message, the defaults applied.
cp $conf "$tmp/shipped.conf" && chmod 0644 "$tmp/shipped.conf"
out=$(probe "$tmp/shipped.conf" "$tmp/err")
if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF "$want" "$tmp/err" &&
	printf '%s' "$out" | grep -q '"mapped": \[[^]]*kashim-conf.so'; then
	ok "$conf parses with the library's reader and gives the defaults"
else
	fail "$conf under the library: stderr:"; cat "$tmp/err"
fi

# 3. Uncommented (`#x` lines, not `# prose`): still the same top level,
# and every example rule is read.
sed -n 's/^#\([^ #]\)/\1/p' $conf >"$tmp/open.conf"
chmod 0644 "$tmp/open.conf"
nrules=$(grep -c '^#rule ' $conf)
probe "$tmp/open.conf" "$tmp/err2" debug >/dev/null
if grep -qF "settings read: config file $tmp/open.conf, active, $nrules rule(s)" "$tmp/err2" &&
	grep -qF "$want" "$tmp/err2" && ! grep -qv -e 'settings read' -e "$want" "$tmp/err2"; then
	ok "$conf uncommented: $nrules example rules parse, top level unchanged"
else
	fail "$conf uncommented does not parse as expected:"; cat "$tmp/err2"
fi

# 4. The command agrees, once it is built: the shipped file checks the
# same as an empty one (comment lines, naming the file, aside), and the
# uncommented one is valid.
if [ -x src/kashim ]; then
	: >"$tmp/empty.conf" && chmod 0644 "$tmp/empty.conf"
	if src/kashim --check "$tmp/shipped.conf" >"$tmp/a" &&
		src/kashim --check "$tmp/empty.conf" >"$tmp/b" &&
		[ -s "$tmp/a" ] && grep -v '^#' "$tmp/a" >"$tmp/a2" &&
		grep -v '^#' "$tmp/b" | cmp -s "$tmp/a2" -; then
		ok "kashim --check: the shipped file is exactly the defaults"
	else
		fail "kashim --check: shipped file differs from the defaults:"
		diff "$tmp/a" "$tmp/b"
	fi
	if src/kashim --check "$tmp/open.conf" >"$tmp/c" &&
		[ "$(grep -c '^rule ' "$tmp/c")" -eq "$nrules" ]; then
		ok "kashim --check: the uncommented file and its $nrules rules are valid"
	else
		fail "kashim --check on the uncommented file:"; cat "$tmp/c"
	fi
else
	echo "SKIP: kashim --check: src/kashim is not built yet"
fi
finish
