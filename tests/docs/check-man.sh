#!/bin/sh
# check-man.sh KEYS VERSION - the man pages: groff finds nothing to warn
# about; each has the sections users expect; every key of the settings
# table (KEYS, as tests/build/docs-keys prints it) is documented: config
# names in kashim.conf(5), variables in kashim(8), options in kashim(1),
# all of them in README.md; and kashim(1) and `kashim --help` name the
# same options.
KEYS=$1
VERSION=$2
. tests/docs/lib.sh
pages="man/kashim.1 man/kashim.8 man/kashim.conf.5 man/kashim-bpf.8"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Page source as plain words: roff escapes for '-', fonts and quotes out.
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' \
		-e 's/\\(aq/'"'"'/g' -e 's/\\&//g' -e 's/\\e/\\/g' "$1"
}
# Does word $2 stand in file $1 as a whole word (options included)?
has_word() {
	grep -qE -- "(^|[^-[:alnum:]_])$2([^-[:alnum:]_]|\$)" "$1"
}

for p in $pages; do
	w=$(LC_ALL=C.UTF-8 groff -man -ww -z "$p" 2>&1)
	[ -z "$w" ] || fail "$p: groff -man -ww -z: $w"
	if command -v man >/dev/null 2>&1; then
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$p" 2>&1 >/dev/null)
		[ -z "$w" ] || fail "$p: man --warnings: $w"
	fi
	for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES LIMITATIONS EXAMPLES "SEE ALSO"; do
		grep -q "^\.SH \"*$s\"*\$" "$p" || fail "$p: no $s section"
	done
	grep -qE '^\.SH "?(OPTIONS|DIRECTIVES)"?$' "$p" || fail "$p: no OPTIONS or DIRECTIVES section"
	grep -q "^\.TH .* \"kashim $VERSION\" " "$p" || fail "$p: .TH does not name kashim $VERSION"
	plain "$p" >"$tmp/$(basename "$p")"
done
[ "$fails" -eq 0 ] && ok "groff -man -ww -z: no warning; sections and version in place"
plain README.md >"$tmp/README"

n=0
while IFS="$(printf '\t')" read -r name env opt def; do
	if [ "$name" != - ]; then
		grep -qE "^\.BR? $name( |\$)" man/kashim.conf.5 ||
			fail "kashim.conf(5) has no directive entry for $name"
		has_word "$tmp/README" "$name" || fail "README.md never names $name"
	fi
	has_word "$tmp/kashim.8" "$env" || fail "kashim(8) never names $env"
	has_word "$tmp/kashim.conf.5" "$env" || fail "kashim.conf(5) never names $env"
	has_word "$tmp/README" "$env" || fail "README.md never names $env"
	if [ "$opt" != - ]; then
		has_word "$tmp/kashim.1" "$opt" || fail "kashim(1) never names $opt"
		has_word "$tmp/README" "$opt" || fail "README.md never names $opt"
	fi
	if [ "$name" != - ]; then
		want=$def
		[ "$want" = - ] && want="{}"
		# kashim.conf(5): the entry's "(default: ...)".
		got=$(awk -v k="$name" '/^\.TP/ { on = 0 } on && /default:/ { print; exit }
			prev ~ /^\.TP/ && $0 ~ "^\\.BR? " k "( |$)" { on = 1 } { prev = $0 }' \
			"$tmp/kashim.conf.5" | sed -n 's/.*(default: \([^,)]*\).*/\1/p')
		[ "$got" = "$want" ] || fail "kashim.conf(5): $name has default '$got', the code '$want'"
		# README.md: the last cell of the key's row in the settings table.
		[ "$def" = - ] && want=all
		got=$(grep "^| \`$name\` |" "$tmp/README" | awk -F '|' '{ print $(NF-1) }' | tr -d ' `')
		[ "$got" = "$want" ] || fail "README.md: $name has default '$got', the code '$want'"
	fi
	n=$((n + 1))
done <"$KEYS"
echo "checked: $n keys of the settings table in the pages and README.md"

# Every variable src/common/defaults.h names, in the table or not, in kashim(8).
envs=$(sed -n 's/^#define KASHIM_ENV_[A-Z_]* "\(KASHIM_[A-Z_]*\)".*/\1/p' src/common/defaults.h)
[ -n "$envs" ] || fail "no KASHIM_ENV_* names read from src/common/defaults.h"
for env in $envs; do
	has_word "$tmp/kashim.8" "$env" || fail "kashim(8) never names $env (src/common/defaults.h)"
done

# kashim(8) lists exactly the functions the library exports.
if command -v nm >/dev/null 2>&1; then
	nm -D --defined-only src/libkashim.so | awk '$2 ~ /^[TWi]$/ { print $3 }' |
		sort -u >"$tmp/exports"
	sed -n '/exports only the functions it interposes/,/);/p' man/kashim.8 |
		sed -n 's/^\.R\{0,1\}BR\{0,1\} \(( \)\{0,1\}\([a-z0-9_]*\).*/\2/p' |
		sort -u >"$tmp/listed"
	if [ -s "$tmp/exports" ] && cmp -s "$tmp/exports" "$tmp/listed"; then
		ok "kashim(8) lists the $(wc -l <"$tmp/exports") functions libkashim.so exports"
	else
		fail "kashim(8) SECURITY lists $(tr '\n' ' ' <"$tmp/listed")but libkashim.so exports $(tr '\n' ' ' <"$tmp/exports")"
	fi
fi

# The command's own list of options, once it is built.
if [ -x src/kashim ]; then
	src/kashim --help >"$tmp/help" || fail "kashim --help failed"
	grep -oE -- '(^|[ ,])--?[a-zA-Z][a-z-]*' "$tmp/help" | tr -d ' ,' |
		sort -u >"$tmp/help-opts"
	for o in $(cat "$tmp/help-opts"); do
		has_word "$tmp/kashim.1" "$o" || fail "kashim(1) never names $o of kashim --help"
	done
	awk '/^\.TP/ { getline; print }' man/kashim.1 | plain /dev/stdin |
		grep -oE -- '^\.B[IR]? --?[a-zA-Z][a-z-]*' | sed 's/^\.B[IR]* //' |
		sort -u >"$tmp/page-opts"
	for o in $(cat "$tmp/page-opts"); do
		grep -qxF -- "$o" "$tmp/help-opts" || fail "kashim(1) documents $o, kashim --help does not know it"
	done
	echo "checked: kashim(1) against the $(wc -l <"$tmp/help-opts") options of kashim --help"
else
	echo "SKIP: kashim --help against kashim(1): src/kashim is not built yet"
fi
finish
