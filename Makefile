# kashim - TCP keep-alive for programs that never asked for it.
#
#   make              build libkashim.so, its config module and the command
#   make check        install test dependencies (as root) and run every test
#   make demo         the mission, end to end, in about a minute
#   make help         every target and check
#
# Honours CC, CFLAGS, LDFLAGS, PKG_CONFIG, PREFIX, DESTDIR, sysconfdir,
# libdir, bindir and mandir; a change of any of them rebuilds what it
# affects. The rooms of src/:
#   src/lib/     the preloaded library (libkashim.so)
#   src/common/  settings and rules, shared by the library, the command,
#                kashim-bpf and the tests
#   src/conf/    the config file: its reader, the config module
#                (kashim-conf.so), and its printer
#   src/cmd/     the `kashim` command
#   src/bpf/     `kashim-bpf`: the same settings from cgroup BPF programs
# Each mk/*.mk fragment below adds one product or one group of checks.

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
	-Wall -Wextra -Werror -Wshadow -Wformat=2 -Isrc \
	-DKASHIM_VERSION='"$(VERSION)"' \
	-DKASHIM_SYSCONFDIR='"$(sysconfdir)"'
ALL_CFLAGS = $(KASHIM_CFLAGS) $(CFLAGS)

# Every header of src/, for the few rules that compile several sources in
# one command (the fuzzers, the small-table library of check-hardening).
# An object of its own depends on the headers it includes, and only on
# those: the compiler writes them to OBJECT.d (-MMD, -MP for a header
# since removed), included at the end of this file.
HEADERS := $(wildcard src/*/*.h)
DEPFLAGS = -MMD -MP

# src/common: what every product links.
COMMON_OBJS := src/common/settings.o src/common/rules.o
# The one settings loader (load.c), which the library links; LOAD_OBJS
# adds its command form (src/conf/loadcmd.c: kashim_settings_load_cmd()
# names the config reader, which the library does without), for the
# `kashim` command and kashim-bpf.
LOADER_OBJS := src/common/load.o
LOAD_OBJS := $(LOADER_OBJS) src/conf/loadcmd.o
IO_OBJS := src/common/io.o
# src/conf: the config file's reader (libconfuse; the config module) and
# its writer, the printer, which serves the command, the fuzzers and the
# reader's round trips, so the library does without it.
CONF_OBJS := src/conf/conf.o
PRINT_OBJS := src/conf/print.o
# What the command and kashim-bpf ask of systemd (not in the library).
SYSTEMD_OBJS := src/common/systemd.o

# src/lib: the preloaded library.
LIB := src/libkashim.so
SONAME := libkashim.so.0
LIB_OBJS := src/lib/hooks.o src/lib/real.o src/lib/init.o src/lib/apply.o \
	src/lib/fdstate.o src/lib/log.o src/lib/arena.o src/lib/listener.o \
	src/lib/vfork.o $(COMMON_OBJS) $(LOADER_OBJS) $(IO_OBJS)
# The config module, dlopen()ed by the library with libconfuse behind it.
MODULE := src/kashim-conf.so
MODULE_OBJS := $(CONF_OBJS) $(COMMON_OBJS)

# Everything `make` builds; fragments add their programs.
ALL_TARGETS := $(LIB) $(MODULE)
# Every test target `make check` runs, in order; fragments add theirs.
CHECK_TARGETS :=
# Debian packages the tests need; fragments add theirs.
DEPS_PACKAGES := build-essential pkg-config check libconfuse-dev \
	mosquitto mosquitto-clients iproute2 nftables valgrind strace \
	python3 procps binutils
CLEAN_FILES :=

.PHONY: all build check check-run deps clean help
all: build

# Before anything is built: the compiler, pkg-config and libconfuse. When
# one is missing, two lines name it and how to install it, and make stops
# before the first compiler error. Goals that build nothing, or install
# the packages first (deps, check, demo), are not held back.
KASHIM_NO_BUILD_GOALS := deps help clean clean-platforms check demo \
	install-man uninstall uninstall-musl uninstall-bpf
ifneq ($(filter-out $(KASHIM_NO_BUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
# libconfuse counts as there when pkg-config knows it or the compiler
# finds its header (a cross build's PKG_CONFIG may not exist); pkg-config
# is named with it, as the build looks for it through pkg-config.
KASHIM_MISSING := $(shell m=; \
	command -v '$(firstword $(CC))' >/dev/null 2>&1 || m="$$m, the C compiler $(firstword $(CC))"; \
	$(PKG_CONFIG) --exists libconfuse 2>/dev/null || \
	printf '\043include <confuse.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 || { \
		command -v '$(PKG_CONFIG)' >/dev/null 2>&1 || m="$$m, $(PKG_CONFIG)"; \
		m="$$m, libconfuse (libconfuse-dev)"; }; \
	echo "$${m#, }")
ifneq ($(KASHIM_MISSING),)
$(info kashim: cannot build: missing $(KASHIM_MISSING).)
$(error install what is missing with: sudo make deps (or: sudo apt-get install build-essential pkg-config libconfuse-dev))
endif
endif

# check-build: `make` on a machine without the compiler or libconfuse,
# header dependencies, the flags stamp (tests/docs/check-build.sh).
.PHONY: check-build
check-build:
	@tests/docs/check-build.sh "$(MAKE)"
# check-bare: plain `make` in a debootstrap root with make and nothing
# else (made once, kept in tests/build/bare/): the two lines, nothing built.
.PHONY: check-bare
check-bare:
	@tests/docs/check-bare.sh
CHECK_TARGETS += check-build check-bare
DEPS_PACKAGES += debootstrap

# The fragments, in the order `make check` runs their checks.
include mk/tests.mk      # check-unit, check-preload, check-rooms
include mk/bench.mk      # bench, check-bench
include mk/cmd.mk        # src/kashim, check-cmd
include mk/docs.mk       # check-conf, check-man
include mk/install.mk    # install, uninstall, check-install, check-deb
include mk/e2e.mk        # check-e2e, demo
include mk/hardening.mk  # check-hardening
include mk/sanitize.mk   # check-sanitize
include mk/fuzz.mk       # fuzz, check-fuzz
include mk/lint.mk       # lint, check-lint
include mk/platforms.mk  # check-musl, check-multiarch, check-aarch64
include mk/bpf.mk        # bpf, check-bpf, install-bpf
include mk/systemd.mk    # check-systemd
include mk/image.mk      # image, check-image

build: $(ALL_TARGETS)

# What the objects were built with: compiler, flags and the paths compiled
# in. A change rewrites the stamp, and everything that depends on it is
# built again (`make CC="gcc -m32"` on a built tree rebuilds it all).
BUILD_CFLAGS_STAMP := $(CC)|$(CFLAGS)|$(prefix):$(sysconfdir):$(bindir):$(libdir)
BUILD_LDFLAGS_STAMP := $(CC)|$(LDFLAGS)
src/.cflags: FORCE
	@echo '$(BUILD_CFLAGS_STAMP)' | cmp -s - $@ || echo '$(BUILD_CFLAGS_STAMP)' >$@
src/.ldflags: FORCE
	@echo '$(BUILD_LDFLAGS_STAMP)' | cmp -s - $@ || echo '$(BUILD_LDFLAGS_STAMP)' >$@
.PHONY: FORCE

# Every object under src/, whichever fragment's rule builds it, writes
# the list of headers it read beside itself (src/lib/hooks.d).
src/%.o: ALL_CFLAGS += $(DEPFLAGS)
src/%.o: src/%.c src/.cflags
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

src/conf/conf.o: src/conf/conf.c src/.cflags
	$(CC) $(ALL_CFLAGS) $(CONFUSE_CFLAGS) -c -o $@ $<

# Every symbol lookup at load time is paid by every process on the host:
# no start files (the library has no constructor or destructor, and the C
# runtime's would cost four lookups), and -Bsymbolic-functions so that the
# hooks' own addresses (the loop check in real.h) need none.
$(LIB): $(LIB_OBJS) src/.ldflags
	$(CC) $(ALL_CFLAGS) -shared -nostartfiles -Wl,-Bsymbolic-functions \
		-Wl,-soname,$(SONAME) -Wl,-z,defs $(LDFLAGS) -o $@ $(LIB_OBJS)

$(MODULE): $(MODULE_OBJS) src/.ldflags
	$(CC) $(ALL_CFLAGS) -shared -Wl,-z,defs $(LDFLAGS) -o $@ \
		$(MODULE_OBJS) $(CONFUSE_LIBS)

# `make check`: dependencies first (a fresh machine has none), then a new
# make that sees them, then every test target, reporting all failures.
# Each check's output is read for its SKIP lines ("SKIP: reason", any
# case, indented or not; a check may exit 0 after one), and the last line
# counts them: "all checks passed, 2 skipped: check-x: reason; ...".
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: build
	@tmp=$$(mktemp -d) || exit 1; trap 'rm -rf "$$tmp"' EXIT; \
	fail=; for t in $(CHECK_TARGETS); do \
		echo "==> $$t"; \
		{ $(MAKE) --no-print-directory $$t 2>&1; echo $$? >"$$tmp/rc"; } | \
			tee "$$tmp/log"; \
		[ "$$(cat "$$tmp/rc")" = 0 ] || fail="$$fail $$t"; \
		sed -n "s/^[[:space:]]*SKIP:[[:space:]]*/$$t: /Ip" "$$tmp/log" >>"$$tmp/skips"; \
	done; \
	n=$$(cat "$$tmp/skips" 2>/dev/null | wc -l); skipped=; \
	[ "$$n" -eq 0 ] || skipped=", $$n skipped: $$(sed 's/[.;]*$$//' "$$tmp/skips" | paste -sd ';' | sed 's/;/; /g')"; \
	if [ -n "$$fail" ]; then echo "==> FAILED:$$fail$$skipped"; exit 1; fi; \
	echo "==> all checks passed$$skipped"

# Each package once, whichever fragments need it; without root, the
# missing ones are named and `sudo make deps` suggested (check: make check).
deps:
	@KASHIM_DEPS_FOR='make $(if $(filter check,$(MAKECMDGOALS)),check,deps)' \
		tests/deps.sh $(sort $(DEPS_PACKAGES))

clean:
	rm -f src/*/*.o src/*/*.d src/*.so src/.cflags src/.ldflags $(CLEAN_FILES)
	rm -rf tests/build

help:
	@echo "Build:    make [all]      $(ALL_TARGETS)"
	@echo "          make deps       install the Debian packages to build and test (as root)"
	@echo "          make bpf        src/kashim-bpf alone (clang, llvm, bpftool, libbpf)"
	@echo "          make build-musl | build-i386 | build-aarch64   build/NAME/libkashim.so and its module"
	@echo "          make clean      remove what make built (src/, tests/build, build/)"
	@echo "Install:  make install | uninstall   library, module, command, man pages, kashim.conf"
	@echo "          make install-man           the man pages only"
	@echo "          make install-bpf | uninstall-bpf    kashim-bpf and kashim-bpf(8) (part of install)"
	@echo "          make install-musl | uninstall-musl  the musl build beside the glibc one"
	@echo "          (PREFIX, DESTDIR, sysconfdir, libdir, bindir, sbindir, mandir, moduledir)"
	@echo "          make image      the OCI image kashim:VERSION (kashim-bpf-watch, deploy/kubernetes)"
	@echo "Show:     make demo       the mission, end to end"
	@echo "Measure:  make bench      what kashim costs, counted and timed"
	@echo "          make fuzz       each fuzzer for FUZZ_SECONDS (default 60)"
	@echo "          make lint       cppcheck and clang-tidy over src/"
	@echo "Test:     make check      installs its packages (root), then runs, in order:"
	@for t in $(CHECK_TARGETS); do echo "            $$t"; done
	@echo "          make check-NAME runs one of them (after make deps)"
	@echo "          make help       this list"

# The headers each object read when it was last built (see DEPFLAGS); an
# object not built yet needs none, it is built anyway.
-include $(wildcard src/*/*.d build/*/obj/*/*.d tests/build/*.d \
	tests/build/san/*/*.d)
