# bpf.sh - row 7 of `make bench`, sourced by bench/run.sh: connections
# per CPU second of bench/conn in a cgroup with kashim-bpf attached,
# against the same in a cgroup without it (target >= 0.95x), and against
# the same connections setting the options by hand there (conn
# --by-hand: the kernel's own keep-alive work is the floor; target >=
# 0.98x). Rounds alternate which goes first; each figure is the median
# over the rounds of that round's rate ratio, so load that drifts during
# the run cancels out. Both cgroups are made here, never the root one,
# and removed after; kashim-bpf is detached. Prints SKIP when not root or
# the kernel refuses BPF.

bpf_cmd=$top/src/kashim-bpf
bpf_n=10000
bpf_rounds=41

# run_in CGROUP [CONN-ARGS]: bench/conn in that cgroup; prints the CPU
# time (user + system, the kernel's share being where the programs run)
# per connection in ns. CPU time, not wall time: on a shared machine the
# other tenants' load moves wall time far more than the cost measured.
bpf_run_in() {
	local t TIMEFORMAT='%3U %3S' cg=$1

	shift
	t=$({ time sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" \
		"$conn" "$@" "$bpf_n" >/dev/null; } 2>&1) || return 1
	awk -v t="$t" -v n="$bpf_n" 'BEGIN { split(t, a, " "); printf "%.0f\n", (a[1] + a[2]) * 1e9 / n }'
}

# Detach and remove both cgroups of this run.
bpf_cleanup() {
	"$bpf_cmd" detach --cgroup "$bpf_cg" >/dev/null 2>&1
	rmdir "$bpf_cg" "$bpf_cg0" 2>/dev/null
	eval "${bpf_prev_trap:-trap - EXIT}" # the run's own trap, if any
}

# Interleaved rounds; prints the medians with, without and by hand
# (ns/connection), their spreads, and the medians of the rounds' ratios
# (without / with, by hand / with).
bpf_rounds_run() {
	local i tw=$build/time-bpf tn=$build/time-nobpf th=$build/time-hand-cg

	: >"$tw"
	: >"$tn"
	: >"$th"
	for ((i = 0; i < bpf_rounds; i++)); do
		if ((i % 2)); then
			bpf_run_in "$bpf_cg0" >>"$tn" || return 1
			bpf_run_in "$bpf_cg0" --by-hand >>"$th" || return 1
		fi
		bpf_run_in "$bpf_cg" >>"$tw" || return 1
		if ! ((i % 2)); then
			bpf_run_in "$bpf_cg0" --by-hand >>"$th" || return 1
			bpf_run_in "$bpf_cg0" >>"$tn" || return 1
		fi
	done
	echo "$(median <"$tw") $(median <"$tn") $(median <"$th")" \
		"$(spread <"$tw") $(spread <"$tn") $(spread <"$th")" \
		"$(paste "$tn" "$tw" | awk '{ print $1 / $2 }' | median)" \
		"$(paste "$th" "$tw" | awk '{ print $1 / $2 }' | median)"
}

bench_bpf() {
	local mnt tw tn th sw sn sh r rh

	mnt=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	if [ "$(id -u)" != 0 ] || [ -z "$mnt" ]; then
		echo "SKIP: 7. kashim-bpf: needs root and cgroup v2"
		return
	fi
	bpf_cg=$mnt/kashim-bench-$$-bpf
	bpf_cg0=$mnt/kashim-bench-$$-none
	mkdir "$bpf_cg" "$bpf_cg0" || broken "cannot make cgroups under $mnt"
	bpf_prev_trap=$(trap -p EXIT)
	trap bpf_cleanup EXIT
	if ! env KASHIM_CONFIG="$noconf" "$bpf_cmd" attach --cgroup "$bpf_cg" \
		>"$build/bpf-attach" 2>&1; then
		bpf_cleanup
		grep -q "this kernel" "$build/bpf-attach" &&
			{ echo "SKIP: 7. kashim-bpf: $(cat "$build/bpf-attach")"; return; }
		broken "kashim-bpf attach: $(cat "$build/bpf-attach")"
	fi
	echo "== 7. connections per CPU second in a cgroup, kashim-bpf attached vs not ($bpf_rounds interleaved rounds of $bpf_n)"
	read -r tw tn th sw sn sh r rh <<<"$(bpf_rounds_run)" || broken "bpf timing failed"
	"$bpf_cmd" status | sed -n 's/^ *sockets: /  kashim-bpf counted: /p'
	bpf_cleanup
	r=$(awk -v r="$r" 'BEGIN { printf "%.3f", r }')
	rh=$(awk -v r="$rh" 'BEGIN { printf "%.3f", r }')
	echo "  with kashim-bpf ${tw%.*} CPU ns/conn (rounds $sw), without ${tn%.*} ($sn)," \
		"options set by hand without it ${th%.*} ($sh): the medians of the rounds'" \
		"ratios are ${r}x the rate without, ${rh}x the rate by hand"
	if awk -v r="$rh" 'BEGIN { exit !(r >= 0.98) }'; then
		row "7 conn/CPU s, kashim-bpf vs by hand" "$(awk -v w="$tw" -v h="$th" 'BEGIN { printf "%.0f vs %.0f /s", 1e9 / w, 1e9 / h }')" ">= 0.98x of by hand" "${rh}x OK"
	else
		row "7 conn/CPU s, kashim-bpf vs by hand" "$(awk -v w="$tw" -v h="$th" 'BEGIN { printf "%.0f vs %.0f /s", 1e9 / w, 1e9 / h }')" ">= 0.98x of by hand" "${rh}x MISSED"
		misses=$((misses + 1))
	fi
	if awk -v r="$r" 'BEGIN { exit !(r >= 0.95) }'; then
		row "7 conn/CPU s in a cgroup, kashim-bpf" "$(awk -v w="$tw" -v n="$tn" 'BEGIN { printf "%.0f vs %.0f /s", 1e9 / w, 1e9 / n }')" ">= 0.95x of none" "${r}x OK"
	else
		row "7 conn/CPU s in a cgroup, kashim-bpf" "$(awk -v w="$tw" -v n="$tn" 'BEGIN { printf "%.0f vs %.0f /s", 1e9 / w, 1e9 / n }')" ">= 0.95x of none" "${r}x MISSED"
		misses=$((misses + 1))
	fi
}
