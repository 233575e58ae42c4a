# bench.mk - `make bench`: what kashim costs, counted (strace, callgrind)
# and timed, against the same connections with the options set by hand.
# `make check-bench` is its counted rows (check-bench): identical system
# calls per connection (rows 1 and 8), instructions per connection (2),
# at start-up (3) and for a big config file (6), so that a regression of
# any of them fails `make check`; the timed rows stay in `make bench`.

BENCH_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g

bench/build:
	mkdir -p $@

bench/build/conn: bench/conn.c | bench/build
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The --status row: a server and many clients holding loopback connections.
bench/build/holder: tests/cmd/holder.c | bench/build
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench/build/libempty.so: bench/empty.c | bench/build
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $<

.PHONY: bench check-bench
# libdontdie0 is row 2's reference figure, not a dependency: when the
# mirror cannot deliver it, that figure says SKIP and the rest runs.
bench: build bench/build/conn bench/build/libempty.so bench/build/holder
	@tests/deps.sh libdontdie0 || echo "bench: libdontdie0 could not be installed; its figure will say SKIP"
	@bench/run.sh

check-bench: build bench/build/conn bench/build/libempty.so
	@bench/run.sh --quick

CHECK_TARGETS += check-bench
DEPS_PACKAGES += valgrind strace
# bench/build holds only files this fragment makes.
CLEAN_FILES += bench/build/conn bench/build/libempty.so bench/build/holder \
	$(wildcard bench/build/*)
