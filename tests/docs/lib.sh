# lib.sh - shared by the docs checks: failure counting and a clean
# environment (no KASHIM_* or LD_PRELOAD from the caller).
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
ok() {
	echo "ok: $*"
}
# Print the result and exit with it.
finish() {
	if [ "$fails" -ne 0 ]; then
		echo "$fails failure(s)"
		exit 1
	fi
	exit 0
}
for v in $(env | sed -n 's/^\(KASHIM_[A-Z_]*\)=.*/\1/p'); do
	unset "$v"
done
unset LD_PRELOAD
# Field n (1: config name, 2: variable, 3: option, 4: default) of key k.
key_field() {
	awk -F '\t' -v k="$1" -v n="$2" '$1 == k { print $n }' "$KEYS"
}
