# kashim - TCP keep-alive for programs that never asked for it.
#
#   make              build libkashim.so, its config module and the command
#   make check        install test dependencies (as root) and run every test
#   make demo         the mission, end to end, in about a minute
#
# Honours CC, CFLAGS, LDFLAGS, PKG_CONFIG, PREFIX, DESTDIR, sysconfdir,
# libdir, bindir and mandir. Feature fragments live in mk/*.mk.

VERSION := 0.1.0

PREFIX ?= /usr/local
prefix ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir ?= $(exec_prefix)/bin
libdir ?= $(exec_prefix)/lib
sysconfdir ?= $(prefix)/etc
datarootdir ?= $(prefix)/share
mandir ?= $(datarootdir)/man
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
LDFLAGS ?=

CONFUSE_CFLAGS = $(shell $(PKG_CONFIG) --cflags libconfuse 2>/dev/null)
CONFUSE_LIBS = $(shell $(PKG_CONFIG) --libs libconfuse 2>/dev/null || echo -lconfuse)

KASHIM_CFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden \
	-Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-DKASHIM_VERSION='"$(VERSION)"' \
	-DKASHIM_SYSCONFDIR='"$(sysconfdir)"'
ALL_CFLAGS = $(KASHIM_CFLAGS) $(CFLAGS)

LIB := src/libkashim.so
SONAME := libkashim.so.0
MODULE := src/kashim-conf.so
LIB_OBJS := src/hooks.o src/init.o src/apply.o src/fdstate.o src/log.o \
	src/settings.o
MODULE_OBJS := src/conf.o src/settings.o

# Everything `make` builds; fragments add their programs.
ALL_TARGETS := $(LIB) $(MODULE)
# Every test target `make check` runs, in order; fragments add theirs.
CHECK_TARGETS := check-unit check-preload
# Debian packages the tests need; fragments add theirs.
DEPS_PACKAGES := build-essential pkg-config check libconfuse-dev \
	mosquitto mosquitto-clients iproute2 nftables valgrind strace \
	python3 procps binutils

.PHONY: all check check-run deps clean
all: build

include tests/tests.mk
-include $(sort $(wildcard mk/*.mk))

.PHONY: build
build: $(ALL_TARGETS)

# The paths compiled in: a change of PREFIX, sysconfdir, bindir or libdir
# rewrites this file, and every object is built again.
BUILD_PATHS := $(prefix):$(sysconfdir):$(bindir):$(libdir)
src/.paths: FORCE
	@echo '$(BUILD_PATHS)' | cmp -s - $@ || echo '$(BUILD_PATHS)' >$@
.PHONY: FORCE

src/%.o: src/%.c $(wildcard src/*.h) src/.paths
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

src/conf.o: src/conf.c $(wildcard src/*.h) src/.paths
	$(CC) $(ALL_CFLAGS) $(CONFUSE_CFLAGS) -c -o $@ $<

# Every symbol lookup at load time is paid by every process on the host:
# no start files (the library has no constructor or destructor, and the C
# runtime's would cost four lookups), and -Bsymbolic-functions so that the
# hooks' own addresses (the loop check in hooks.c) need none.
$(LIB): $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -shared -nostartfiles -Wl,-Bsymbolic-functions \
		-Wl,-soname,$(SONAME) -Wl,-z,defs $(LDFLAGS) -o $@ $(LIB_OBJS)

$(MODULE): $(MODULE_OBJS)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-z,defs $(LDFLAGS) -o $@ \
		$(MODULE_OBJS) $(CONFUSE_LIBS)

# `make check`: dependencies first (a fresh machine has none), then a new
# make that sees them, then every test target, reporting all failures.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: build
	@fail=; for t in $(CHECK_TARGETS); do \
		echo "==> $$t"; \
		$(MAKE) --no-print-directory $$t || fail="$$fail $$t"; \
	done; \
	if [ -n "$$fail" ]; then echo "FAILED:$$fail"; exit 1; fi; \
	echo "==> all checks passed: $(CHECK_TARGETS)"

deps:
	@tests/deps.sh $(DEPS_PACKAGES)

clean:
	rm -f src/*.o src/*.so src/.paths $(CLEAN_FILES)
	rm -rf tests/build
