# hardening.mk - kashim inside other people's programs must not crash,
# hang, leak or change errno. check-hardening: threads, fork, fd reuse, a
# kernel that refuses an option (seccomp), signal handlers, bad pointers,
# vfork, fds closed behind kashim's back, syslog, fds past the table,
# valgrind memcheck.
# (ASan/UBSan: sanitize.mk; libFuzzer: fuzz.mk; static analysis: lint.mk.)

HARD_DIR := tests/build/hardening
HARD_PROGS := $(addprefix $(HARD_DIR)/,threads forks fdreuse refused refuse \
	signal_connect bad_pointer vfork_close fcntl_dup closed_behind raw_tcp \
	syslog_fd high_fd)
# The library with a 64-entry fd table (numbers from 64 up take the path
# of numbers from 2^20 up), for high_fd.
HARD_SMALL_LIB := $(HARD_DIR)/small/libkashim.so
HARD_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -Isrc -Itests

$(HARD_DIR):
	mkdir -p $@

$(HARD_DIR)/%: tests/hardening/%.c tests/hardening/common.h $(TEST_HEADERS) \
		| $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) -pthread -o $@ $<

$(HARD_DIR)/refuse: tests/hardening/refuse.c | $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) -o $@ $<

# The config parser with rules, linked directly (no preload).
$(HARD_DIR)/conf_load: tests/hardening/conf_load.c tests/hardening/common.h \
		$(TEST_HEADERS) \
		$(CONF_OBJS) $(COMMON_OBJS) | $(HARD_DIR)
	$(CC) $(HARD_CFLAGS) $(CONFUSE_CFLAGS) -o $@ $(filter-out %.h,$^) \
		$(CONFUSE_LIBS)

$(HARD_SMALL_LIB): $(LIB_OBJS:.o=.c) $(HEADERS) src/.cflags src/.ldflags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DKASHIM_FD_TABLE_SIZE=64 -DKASHIM_FD_BLOCK_SIZE=4096 \
		-shared -nostartfiles -Wl,-Bsymbolic-functions -Wl,-z,defs \
		$(LDFLAGS) -o $@ $(LIB_OBJS:.o=.c)

.PHONY: check-hardening
check-hardening: build $(HARD_PROGS) $(HARD_DIR)/conf_load $(PRELOAD_PROGS) \
		$(HARD_SMALL_LIB)
	@tests/hardening/run.sh all valgrind

CHECK_TARGETS += check-hardening
DEPS_PACKAGES += valgrind
CLEAN_FILES += $(HARD_PROGS) $(HARD_DIR)/conf_load $(HARD_SMALL_LIB)
