# cmd.mk - the `kashim` command (src/cmd/ -> src/kashim) and its tests
# (check-cmd).
#
# The command links the library's settings code and the config reader, so
# options, environment and file are checked by the same parsers. It finds
# libkashim.so beside itself (build tree), then at KASHIM_BIN_TO_LIB
# relative to its own directory (an installed tree, even under DESTDIR or
# moved), then at KASHIM_LIBDIR.

CMD := src/kashim
CMD_OBJS := src/cmd/main.o src/cmd/unit.o src/cmd/check.o src/cmd/status.o \
	src/cmd/scan.o src/cmd/tcptab.o src/cmd/report.o src/cmd/parallel.o \
	src/cmd/elf.o src/cmd/system.o src/cmd/library.o src/cmd/apply.o \
	src/cmd/applysock.o src/cmd/procfs.o src/cmd/text.o \
	src/cmd/uring.o
# What it shares with the library and the config module.
CMD_LINK := $(CMD_OBJS) $(COMMON_OBJS) $(LOAD_OBJS) $(PRINT_OBJS) $(CONF_OBJS) \
	$(IO_OBJS) $(SYSTEMD_OBJS)

# The relative path from $(bindir) to $(libdir), e.g. ../lib.
KASHIM_BIN_TO_LIB := $(shell realpath -m --relative-to='$(bindir)' '$(libdir)' 2>/dev/null || echo ../lib)

ALL_TARGETS += $(CMD)
CHECK_TARGETS += check-cmd
# libc6-dev (static libc.a for the `gcc -static` test), util-linux (setpriv
# and unshare), golang-go (a real Go binary for the reach warning).
DEPS_PACKAGES += libc6-dev util-linux binutils coreutils golang-go
CLEAN_FILES += $(CMD)

src/cmd/library.o: ALL_CFLAGS += -DKASHIM_BIN_TO_LIB='"$(KASHIM_BIN_TO_LIB)"' \
	-DKASHIM_LIBDIR='"$(libdir)"'

$(CMD): $(CMD_LINK) src/.ldflags
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CMD_LINK) $(CONFUSE_LIBS) -pthread

# Test helpers, built with the test flags, outside src/.
CMD_TEST_DIR := tests/build/cmd
CMD_TEST_PROGS := $(CMD_TEST_DIR)/sockpair $(CMD_TEST_DIR)/static \
	$(CMD_TEST_DIR)/golike $(CMD_TEST_DIR)/golike-section \
	$(CMD_TEST_DIR)/libother.so $(CMD_TEST_DIR)/holder \
	$(CMD_TEST_DIR)/libvanish.so $(CMD_TEST_DIR)/applyee tests/build/deny

$(CMD_TEST_DIR):
	mkdir -p $@

$(CMD_TEST_DIR)/sockpair: tests/cmd/sockpair.c $(TEST_HEADERS) | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Many loopback connections held open: a server, and client processes.
$(CMD_TEST_DIR)/holder: tests/cmd/holder.c | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# A statically linked program: LD_PRELOAD cannot reach it.
$(CMD_TEST_DIR)/static: tests/cmd/hello.c | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -static -o $@ $<

# A dynamic ELF with Go's build-ID note in a PT_NOTE segment, as Go links.
$(CMD_TEST_DIR)/golike: tests/cmd/golike.c | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# The note only as a section (objcopy), with no segment around it.
$(CMD_TEST_DIR)/golike-section: tests/cmd/hello.c tests/cmd/go-note.s | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -o $@.tmp $<
	$(CC) -c -o $@.note.o tests/cmd/go-note.s
	objcopy --dump-section .note.go.buildid=$@.note $@.note.o
	objcopy --add-section .note.go.buildid=$@.note \
		--set-section-flags .note.go.buildid=readonly,contents \
		$@.tmp $@
	rm -f $@.tmp $@.note $@.note.o

# Connections made before `kashim --apply` looks, or an fd table churning.
$(CMD_TEST_DIR)/applyee: tests/cmd/applyee.c | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Preloaded into `kashim --status`: the process scanned exits mid-scan.
$(CMD_TEST_DIR)/libvanish.so: tests/cmd/vanish.c | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

# Another preload library, to be kept beside kashim's.
$(CMD_TEST_DIR)/libother.so: tests/cmd/other.c | $(CMD_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -fPIC -shared -o $@ $<

.PHONY: check-cmd
check-cmd: build $(CMD_TEST_PROGS)
	@tests/cmd/run.sh
	@echo "# --enable-system, --disable-system, --status-system (private mount namespace)"
	@tests/cmd/system.sh $(sysconfdir)/kashim.conf
	@echo "# --enable-unit, --disable-unit: the drop-in's directory (private mount namespace)"
	@tests/systemd/dropin.sh kashim
	@tests/cmd/status.sh
	@echo "# --status PID on a server of 10,000 connections killed during the scan"
	@tests/cmd/exiting.sh
	@tests/cmd/apply.sh
