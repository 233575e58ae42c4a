#!/bin/sh
# run.sh - run every end-to-end test (tests/e2e/test_*.sh), each bounded
# by a timeout, and report every failure. As non-root each one prints a
# SKIP line and passes.
cd "$(dirname "$0")" || exit 1
fail=
for t in test_*.sh; do
	echo "--> e2e: $t"
	start=$(date +%s)
	# TERM first: the test's trap removes what it made; KILL 10 s later.
	timeout -k 10 180 bash "./$t"
	rc=$?
	[ "$rc" = 124 ] && echo "e2e: $t: timed out after 180 s" >&2
	[ "$rc" = 0 ] || fail="$fail $t"
	echo "--> e2e: $t: exit $rc in $(($(date +%s) - start)) s"
done
if [ -n "$fail" ]; then
	echo "e2e: FAILED:$fail" >&2
	exit 1
fi
echo "e2e: all passed"
