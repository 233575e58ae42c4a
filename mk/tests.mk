# tests.mk - the two layers of tests: units without preload, and small
# programs run under LD_PRELOAD that read the effect back with getsockopt;
# and check-rooms, which keeps each room of src/ to its job (nm).
# tests/README.md maps each feature to the test that proves it.

CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck)
TEST_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -Isrc -Itests

UNIT_TESTS := $(patsubst tests/unit/%.c,tests/build/%,$(wildcard tests/unit/test_*.c))
PRELOAD_PROGS := $(patsubst tests/preload/%.c,tests/build/%,$(wildcard tests/preload/*.c))
TEST_HEADERS := $(wildcard tests/lib/*.h)

tests/build:
	mkdir -p $@

tests/build/test_settings: tests/unit/test_settings.c $(COMMON_OBJS) \
		$(LOADER_OBJS) $(PRINT_OBJS) | tests/build
	$(CC) $(TEST_CFLAGS) $(CHECK_CFLAGS) -o $@ $^ $(CHECK_LIBS)

tests/build/test_conf: tests/unit/test_conf.c $(CONF_OBJS) $(COMMON_OBJS) \
		$(LOAD_OBJS) $(PRINT_OBJS) | tests/build
	$(CC) $(TEST_CFLAGS) $(CHECK_CFLAGS) $(CONFUSE_CFLAGS) -o $@ $^ \
		$(CHECK_LIBS) $(CONFUSE_LIBS)

# The command's io_uring of socket options, on real sockets.
tests/build/test_ring: tests/unit/test_ring.c src/cmd/uring.o | tests/build
	$(CC) $(TEST_CFLAGS) $(CHECK_CFLAGS) -o $@ $^ $(CHECK_LIBS)

# A command run with one system call refused (seccomp): bpf() for
# check-bpf, io_uring for check-cmd.
tests/build/deny: tests/lib/deny.c | tests/build
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Preloaded helpers: a second library whose constructor makes a socket,
# and one whose dlsym() finds nothing.
tests/build/libctor.so: tests/preload/lib/ctor.c tests/preload/common.h \
		$(TEST_HEADERS) | tests/build
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

tests/build/libnodlsym.so: tests/preload/lib/nodlsym.c | tests/build
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

tests/build/%: tests/preload/%.c tests/preload/common.h $(TEST_HEADERS) \
		| tests/build
	$(CC) $(TEST_CFLAGS) -pthread -o $@ $<

.PHONY: check-unit check-preload check-rooms
check-unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do (cd tests && CK_FORK=yes ../$$t) || exit 1; done

check-preload: build $(PRELOAD_PROGS) tests/build/libctor.so tests/build/libnodlsym.so
	@tests/preload/run.sh
	@echo "== mosquitto on loopback"
	@tests/preload/mosquitto.sh
	@echo "== setuid: KASHIM_* ignored"
	@tests/preload/secure.sh $(sysconfdir)/kashim.conf
	@echo "== /etc/ld.so.preload: messages to a private /dev/log"
	@tests/preload/system_log.sh $(sysconfdir)/kashim.conf

# Rooms: no library unit but the hooks and the real-symbol layer names an
# interposed function, and the library carries no printing code.
check-rooms: build
	@tests/rooms.sh $(LIB) src/lib/hooks.o src/lib/real.o -- \
		$(filter-out src/lib/hooks.o src/lib/real.o,$(LIB_OBJS))

CHECK_TARGETS += check-unit check-preload check-rooms
