# bpf.sh - row 7 of `make bench`, sourced by bench/run.sh: connections
# per CPU second of bench/conn in a cgroup with kashim-bpf attached,
# against the same in a cgroup without it. Rounds alternate which goes
# first; the figure is the median over the pairs of rounds of each pair's
# rate ratio, so load that drifts during the run cancels out (target
# >= 0.95x). Both cgroups are made here, never the root one, and removed
# after; kashim-bpf is detached. Prints SKIP when not root or the kernel
# refuses BPF.

bpf_cmd=$top/src/kashim-bpf
bpf_n=10000
bpf_rounds=41

# run_in CGROUP: bench/conn in that cgroup; prints the CPU time (user +
# system, the kernel's share being where the programs run) per
# connection in ns. CPU time, not wall time: on a shared machine the
# other tenants' load moves wall time far more than the cost measured.
bpf_run_in() {
	local t TIMEFORMAT='%3U %3S'

	t=$({ time sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$1" \
		"$conn" "$bpf_n" >/dev/null; } 2>&1) || return 1
	awk -v t="$t" -v n="$bpf_n" 'BEGIN { split(t, a, " "); printf "%.0f\n", (a[1] + a[2]) * 1e9 / n }'
}

# Detach and remove both cgroups of this run.
bpf_cleanup() {
	"$bpf_cmd" detach --cgroup "$bpf_cg" >/dev/null 2>&1
	rmdir "$bpf_cg" "$bpf_cg0" 2>/dev/null
	eval "${bpf_prev_trap:-trap - EXIT}" # the run's own trap, if any
}

# Interleaved rounds; prints the medians with and without (ns/connection),
# their spreads, and the median of the pairs' ratios (without / with).
bpf_rounds_run() {
	local i tw=$build/time-bpf tn=$build/time-nobpf

	: >"$tw"
	: >"$tn"
	for ((i = 0; i < bpf_rounds; i++)); do
		((i % 2)) && { bpf_run_in "$bpf_cg0" >>"$tn" || return 1; }
		bpf_run_in "$bpf_cg" >>"$tw" || return 1
		((i % 2)) || { bpf_run_in "$bpf_cg0" >>"$tn" || return 1; }
	done
	echo "$(median <"$tw") $(median <"$tn") $(spread <"$tw") $(spread <"$tn")" \
		"$(paste "$tn" "$tw" | awk '{ print $1 / $2 }' | median)"
}

bench_bpf() {
	local mnt tw tn sw sn r

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
	read -r tw tn sw sn r <<<"$(bpf_rounds_run)" || broken "bpf timing failed"
	"$bpf_cmd" status | sed -n 's/^ *sockets: /  kashim-bpf counted: /p'
	bpf_cleanup
	r=$(awk -v r="$r" 'BEGIN { printf "%.3f", r }')
	echo "  with kashim-bpf ${tw%.*} CPU ns/conn (rounds $sw), without ${tn%.*} ($sn):" \
		"the median of each round pair's ratio is ${r}x the rate"
	if awk -v r="$r" 'BEGIN { exit !(r >= 0.95) }'; then
		row "7 conn/CPU s in a cgroup, kashim-bpf" "$(awk -v w="$tw" -v n="$tn" 'BEGIN { printf "%.0f vs %.0f /s", 1e9 / w, 1e9 / n }')" ">= 0.95x of none" "${r}x OK"
	else
		row "7 conn/CPU s in a cgroup, kashim-bpf" "$(awk -v w="$tw" -v n="$tn" 'BEGIN { printf "%.0f vs %.0f /s", 1e9 / w, 1e9 / n }')" ">= 0.95x of none" "${r}x MISSED"
		misses=$((misses + 1))
	fi
}
