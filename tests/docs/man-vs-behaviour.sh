#!/bin/sh
# man-vs-behaviour.sh KEYS - the pages say what the built programs do,
# asked of the programs themselves (KEYS: the settings table as
# tests/build/docs-keys prints it). check-man.sh holds the rest: each
# key's entry and default, and kashim(1) against `kashim --help`.
#
#   1. Each key stands in the kashim.conf(5) list of its kind, as
#      `kashim --check` treats it: refused in a rule ("only at the top
#      level"), inherited by a rule (a value key), or not (a match key);
#      a sentence that counts the keys of a list counts right.
#   2. Each preset `kashim --check` knows: its row in kashim.conf(5)
#      PRESETS (limit, idle/interval/count, user_timeout = auto), its
#      source entry there, its line in conf/kashim.conf, its README row
#      and its name in kashim(1).
#   3. The messages' tag, as the library writes it, is the one kashim(8)
#      tells journalctl and grep to look for.
#   4. The installed pages name a `make` target only where they say it
#      is for a source tree: a package user has no Makefile.
KEYS=$1
. tests/docs/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
conf5=man/kashim.conf.5
[ -x src/kashim ] || { fail "src/kashim is not built"; finish; }

# `kashim --check` on a file holding $1 (printf format): stdout to
# $tmp/out, stderr to $tmp/err; returns its status.
check_text() {
	printf '%b' "$1" >"$tmp/t.conf"
	chmod 0644 "$tmp/t.conf"
	src/kashim --check "$tmp/t.conf" >"$tmp/out" 2>"$tmp/err"
}
# Which .SS list of kashim.conf(5) DIRECTIVES holds the entry of key $1.
list_of() {
	awk -v k="$1" '/^\.SH / { on = $2 == "DIRECTIVES" }
		on && /^\.SS / { sub(/^\.SS +/, ""); list = $0 }
		on && prev ~ /^\.TP/ && $0 ~ "^\\.BR? " k "( |$)" { print list; exit }
		{ prev = $0 }' "$conf5"
}
# A value for key $1 that parses: its default, {} for a list.
value_of() {
	v=$(key_field "$1" 4)
	case $v in -) echo "{}" ;; /*) echo "\"$v\"" ;; *) echo "$v" ;; esac
}

# 1. Each key in the list of its kind.
n=0
before=$fails
: >"$tmp/kinds"
for k in $(cut -f1 "$KEYS" | grep -v '^-$'); do
	v=$(value_of "$k")
	if check_text "rule \"r\" {\n  $k = $v\n}\n"; then
		# Allowed in a rule. Inherited when a rule that leaves it out
		# prints it; a key --check never prints stands for the value
		# keys it sets (preset).
		check_text "rule \"r\" {\n}\n" || fail "an empty rule does not check: $(cat "$tmp/err")"
		if sed -n '/^rule "r" {/,/^}/p' "$tmp/out" | grep -q "^  *$k = " ||
			! grep -q "^$k = " "$tmp/out"; then
			want="Value keys"
		else
			want="Match keys"
		fi
	elif grep -qF "$k: only at the top level" "$tmp/err"; then
		want="Top level only"
	else
		fail "$k in a rule: neither accepted nor 'only at the top level': $(cat "$tmp/err")"
		continue
	fi
	got=$(list_of "$k")
	[ "$got" = "$want" ] || fail "kashim.conf(5) lists $k under '$got'; kashim --check treats it as one of the '$want'"
	echo "$want" >>"$tmp/kinds"
	n=$((n + 1))
done
# "the first seven are ..., the next four ..., the last two ...": right.
awk '/^\.SH DIRECTIVES/ { on = 1; next } on && /^\.S[SH]/ { exit } on' "$conf5" |
	tr '\n' ' ' | grep -oE '(first|next|last) (one|two|three|four|five|six|seven|eight|nine|ten)' |
	awk '{ print $2 }' >"$tmp/said"
if [ -s "$tmp/said" ]; then
	i=0
	for kind in "Value keys" "Match keys" "Top level only"; do
		i=$((i + 1))
		word=$(sed -n "${i}p" "$tmp/said")
		[ -n "$word" ] || continue
		count=$(grep -cxF "$kind" "$tmp/kinds")
		num=$(echo "zero one two three four five six seven eight nine ten" |
			awk -v c="$count" '{ print $(c + 1) }')
		[ "$word" = "$num" ] || fail "kashim.conf(5) DIRECTIVES says '$word' of the $kind; there are $num"
	done
fi
[ "$fails" = "$before" ] && ok "kashim.conf(5): each of the $n keys in the list of its kind, as kashim --check treats it"

# 2. Presets: the names --check lists for an unknown one, the limits its
# warning lists for an idle time above them all.
before=$fails
check_text 'preset = "no-such-preset"\n'
names=$(sed -n "s/.*'no-such-preset' is not a preset (\(.*\)).*/\1/p" "$tmp/err" | tr -d ',')
[ -n "$names" ] || fail "kashim --check names no presets: $(cat "$tmp/err")"
check_text 'idle = 32767\n'
limits=$(sed -n 's/.*every path limit kashim knows (\([^)]*\)).*/\1/p' "$tmp/err")
[ -n "$limits" ] || fail "kashim --check names no path limits: $(cat "$tmp/err")"
sed -n '/^\.SH PRESETS/,/^\.SH ENVIRONMENT/p' "$conf5" | sed 's/\\(em/-/g' >"$tmp/presets"
np=0
for p in $names; do
	[ "$p" = none ] && continue # sets nothing
	check_text "preset = \"$p\"\n" || { fail "preset $p does not check: $(cat "$tmp/err")"; continue; }
	iic=$(awk '/^idle = / { i = $3 } /^interval = / { v = $3 } /^count = / { c = $3 }
		/^rule / { exit } END { print i "/" v "/" c }' "$tmp/out")
	auto=$(grep -c '^user_timeout = auto\b' "$tmp/out")
	limit=$(printf '%s\n' "$limits" | tr ',' '\n' | sed -n "s/^ *$p \([0-9]*\) s$/\1 s/p")
	[ -n "$limit" ] || limit=-
	row=$(grep -E "^$p +" "$tmp/presets")
	printf '%s\n' "$row" | grep -qE "^$p +$limit +$iic([ ,]|\$)" ||
		fail "kashim.conf(5) PRESETS row of $p is '$row'; kashim --check gives limit $limit, $iic"
	if [ "$auto" = 1 ]; then
		printf '%s\n' "$row" | grep -q 'user_timeout = auto' ||
			fail "kashim.conf(5) PRESETS row of $p omits user_timeout = auto"
	else
		printf '%s\n' "$row" | grep -q 'user_timeout' &&
			fail "kashim.conf(5) PRESETS row of $p names a user_timeout it does not set"
	fi
	if [ "$limit" != - ]; then
		grep -A1 '^\.TP' "$tmp/presets" | grep -qx "\.B $p" ||
			fail "kashim.conf(5) PRESETS gives no source for $p"
	fi
	grep -qE "^#   $p +$iic " conf/kashim.conf ||
		fail "conf/kashim.conf has no '#   $p  $iic' line"
	readme_limit=$limit
	[ "$limit" = - ] && readme_limit="—"
	grep -qE "^\| \`$p\` \| $readme_limit" README.md ||
		fail "README.md has no preset row for $p starting '$readme_limit'"
	grep -qw -- "$p" man/kashim.1 || fail "kashim(1) never names the preset $p"
	np=$((np + 1))
done
[ "$fails" = "$before" ] && ok "the $np presets kashim --check knows: kashim.conf(5) rows and sources, conf/kashim.conf, README.md, kashim(1)"

# 3. The tag: what the library writes before "[PID]:", on a bad variable.
KASHIM_IDLE=0 LD_PRELOAD=$PWD/src/libkashim.so timeout 20 python3 tests/docs/probe.py \
	>/dev/null 2>"$tmp/lib-err"
tag=$(sed -n 's/^\([a-z-]*\)\[[0-9]*\]: .*KASHIM_IDLE.*/\1/p' "$tmp/lib-err" | head -n 1)
if [ -z "$tag" ]; then
	fail "the library wrote no tagged message for KASHIM_IDLE=0: $(cat "$tmp/lib-err")"
else
	before=$fails
	grep -qF "journalctl \\-t $tag" man/kashim.8 ||
		fail "kashim(8) does not say 'journalctl -t $tag' (the library's tag is $tag)"
	grep -qF "grep \\(aq$tag\\e[\\(aq /var/log/syslog" man/kashim.8 ||
		fail "kashim(8) does not say how to find '${tag}[' in /var/log/syslog"
	[ "$fails" = "$before" ] && ok "kashim(8): journalctl -t $tag and /var/log/syslog, the tag the library writes"
fi

# 4. `make` only for a source tree, in the pages a package installs.
before=$fails
for page in man/kashim.1 man/kashim.8 man/kashim.conf.5 man/kashim-bpf.8; do
	awk -v page="$page" '
		function flush() {
			if (made != "" && para !~ /source tree/)
				printf "%s:%d: %s, in a paragraph that does not say it is for a source tree\n", page, line, made
			para = ""; made = ""
		}
		/^\.(PP|P|LP|SH|SS|TP|IP|HP)( |$)/ { flush() }
		/^\.(B|BR|RB|BI|IB) (\( )?"?make([ ;,"]|\\|$)/ && made == "" {
			made = $0; line = NR
		}
		{ para = para " " $0 }
		END { flush() }' "$page" >"$tmp/make"
	while IFS= read -r l; do
		fail "$l"
	done <"$tmp/make"
done
[ "$fails" = "$before" ] && ok "the installed pages name make targets for a source tree only"
finish
