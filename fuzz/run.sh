#!/bin/sh
# run.sh SECONDS NAME:SEEDDIR... - for each harness fuzz/build/fuzz_NAME:
# replay every seed file once (any crash, leak or UB fails), then fuzz
# for SECONDS starting from the seeds, new inputs going to
# fuzz/build/corpus-NAME. Prints the executions of each pass; a crash
# leaves its input in fuzz/build/ and fails.
set -u
cd "$(dirname "$0")/.." || exit 1
secs=$1; shift
fail=0 total=0
for spec in "$@"; do
	name=${spec%%:*}
	seeds=${spec#*:}
	bin=fuzz/build/fuzz_$name
	out=fuzz/build/corpus-$name
	log=fuzz/build/$name.log
	mkdir -p "$out"
	# shellcheck disable=SC2086
	files=$(find $seeds -type f | sort)
	# shellcheck disable=SC2086
	if ! timeout 60 "$bin" -runs=1 $files >"$log" 2>&1; then
		echo "FAIL: fuzz $name: a seed fails on replay (see $log)"
		grep -m5 -E 'ERROR|runtime error|SUMMARY' "$log"
		fail=1
		continue
	fi
	echo "ok: fuzz $name: $(echo "$files" | wc -l) seed file(s) replayed"
	# shellcheck disable=SC2086
	timeout $((secs + 60)) "$bin" -max_total_time="$secs" -timeout=10 \
		-print_final_stats=1 -artifact_prefix=fuzz/build/crash-$name- \
		"$out" $seeds >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	total=$((total + ${runs:-0}))
	if [ $rc != 0 ]; then
		echo "FAIL: fuzz $name: exit status $rc after ${runs:-?} executions (see $log)"
		grep -m5 -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log"
		fail=1
	else
		echo "ok: fuzz $name: $runs executions in ${secs}s, corpus $(find "$out" -type f | wc -l) file(s) in $out"
	fi
done
echo "fuzz: $total executions in all"
exit $fail
