# bpf.mk - kashim-bpf (src/kashim-bpf): the same settings put on every
# TCP connection of a cgroup by BPF programs, for what LD_PRELOAD cannot
# reach (static binaries, Go, raw system calls, io_uring).
#
#   make bpf        build src/kashim-bpf (needs clang, llvm, bpftool,
#                   libbpf-dev); plain `make` builds it when they are
#                   installed and says in one line that it skipped it
#                   otherwise
#   make check-bpf  install those and the test tools, then run tests/bpf/
#
# The BPF object is compiled from src/bpf/kashim.bpf.c against the UAPI
# headers only (no vmlinux.h: the build does not depend on the running
# kernel), stripped of DWARF (BTF stays) and embedded into the command
# as a bpftool skeleton: no clang at run time. The command links
# libbpf; the library and the `kashim` command never do.

BPF_CLANG ?= clang
BPF_STRIP ?= llvm-strip
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),$(wildcard /usr/sbin/bpftool),bpftool)
BPF_CMD := src/kashim-bpf
BPF_DIR := src/bpf
BPF_OBJ := $(BPF_DIR)/kashim.bpf.o
BPF_SKEL := $(BPF_DIR)/kashim.skel.h
BPF_LOADER_OBJS := $(BPF_DIR)/main.o $(BPF_DIR)/image.o $(BPF_DIR)/checks.o \
	$(BPF_DIR)/attach.o $(BPF_DIR)/status.o
BPF_HEADERS := $(BPF_DIR)/kashim-bpf.h $(BPF_DIR)/kbpf.h
# src/common, as the `kashim` command links it: the same parsers, the
# same config reader, the same kashim_settings_load().
BPF_SHARED_OBJS := $(COMMON_OBJS) $(LOAD_OBJS) $(CONF_OBJS)
LIBBPF_CFLAGS = $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS = $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf)
# asm/types.h lives in the multiarch include directory.
BPF_ARCH_INC := /usr/include/$(shell $(CC) -print-multiarch 2>/dev/null)
BPF_PACKAGES := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config

# Are the tools there? Then `make` builds kashim-bpf as well.
BPF_TOOLS_OK := $(shell command -v $(BPF_CLANG) >/dev/null 2>&1 && \
	command -v $(BPF_STRIP) >/dev/null 2>&1 && \
	[ -x "$(BPFTOOL)" -o -n "$$(command -v $(BPFTOOL) 2>/dev/null)" ] && \
	$(PKG_CONFIG) --exists libbpf 2>/dev/null && echo yes)
ifeq ($(BPF_TOOLS_OK),yes)
ALL_TARGETS += $(BPF_CMD)
else
ALL_TARGETS += bpf-skipped
endif

CHECK_TARGETS += check-bpf
CLEAN_FILES += $(BPF_CMD) $(BPF_OBJ) $(BPF_SKEL) $(BPF_LOADER_OBJS)

.PHONY: bpf bpf-skipped check-bpf
bpf: $(BPF_CMD)

bpf-skipped:
	@echo "kashim: skipped src/kashim-bpf: needs clang, llvm-strip, bpftool and libbpf (apt-get install $(BPF_PACKAGES); then make bpf)"

$(BPF_OBJ): $(BPF_DIR)/kashim.bpf.c $(BPF_DIR)/kashim-bpf.h
	$(BPF_CLANG) -O2 -g -target bpf -Wall -Werror -I$(BPF_ARCH_INC) \
		-I$(BPF_DIR) -c -o $@ $<
	$(BPF_STRIP) -g $@

$(BPF_SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name kashim_bpf >$@.tmp
	mv $@.tmp $@

$(BPF_DIR)/%.o: $(BPF_DIR)/%.c $(BPF_HEADERS) $(HEADERS) src/.cflags
	$(CC) $(ALL_CFLAGS) $(LIBBPF_CFLAGS) -c -o $@ $<

$(BPF_DIR)/attach.o: $(BPF_SKEL)

$(BPF_CMD): $(BPF_LOADER_OBJS) $(BPF_SHARED_OBJS) src/.ldflags
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(BPF_LOADER_OBJS) $(BPF_SHARED_OBJS) \
		$(CONFUSE_LIBS) $(LIBBPF_LIBS)

# make lint (included before this fragment) covers the loader, with the
# skeleton it includes; kashim.bpf.c is C for the BPF target, checked by
# clang -Wall -Werror and by the kernel's verifier instead.
ifeq ($(BPF_TOOLS_OK),yes)
LINT_SRCS := $(filter-out $(BPF_DIR)/kashim.bpf.c,$(LINT_SRCS))
lint: $(BPF_SKEL)
else
LINT_SRCS := $(filter-out $(BPF_DIR)/%,$(LINT_SRCS))
endif

# --- install: $(sbindir)/kashim-bpf and kashim-bpf(8), when built -------
sbindir ?= $(exec_prefix)/sbin
KASHIM_BPF_BUILT = $(filter $(BPF_CMD),$(ALL_TARGETS))

.PHONY: install-bpf uninstall-bpf
install: install-bpf
uninstall: uninstall-bpf

install-bpf: build
	$(if $(KASHIM_BPF_BUILT),@strings -a $(BPF_CMD) | grep -qxF '$(sysconfdir)/kashim.conf' || { \
		echo "kashim: $(BPF_CMD) was built for another sysconfdir than $(sysconfdir): $(KASHIM_REBUILD)" >&2; \
		exit 1; })
	$(if $(KASHIM_BPF_BUILT),$(INSTALL) -D -m 0755 $(BPF_CMD) $(DESTDIR)$(sbindir)/kashim-bpf)
	$(if $(KASHIM_BPF_BUILT),@set -e; t=$$(mktemp); trap 'rm -f "$$t"' EXIT; \
		sed -e 's|/usr/local/sbin|$(call roff_path,$(sbindir))|g' $(MAN_SED) man/kashim-bpf.8 >$$t; \
		echo "$(INSTALL) -D -m 0644 man/kashim-bpf.8 $(call man_dest,man/kashim-bpf.8)"; \
		$(INSTALL) -D -m 0644 $$t $(call man_dest,man/kashim-bpf.8))

uninstall-bpf:
	rm -f $(DESTDIR)$(sbindir)/kashim-bpf $(call man_dest,man/kashim-bpf.8)

# --- tests: make check-bpf ------------------------------------------------
#
# tests/bpf/run.sh makes its own cgroup, attaches, starts clients and
# servers in it and outside it, reads every socket back with
# `kashim --status`, detaches and removes the cgroup. dead_link.sh is
# the end-to-end test of tests/e2e/ with a static client under kashim-bpf. The Go client and
# the io_uring client need golang-go and liburing-dev: where the mirror
# cannot deliver them, their cases print SKIP with the reason.

BPF_TEST_PACKAGES := util-linux python3 libc6-dev iproute2 nftables mawk
DEPS_PACKAGES += $(BPF_PACKAGES) $(BPF_TEST_PACKAGES)
BPF_TEST_DIR := tests/build/bpf
BPF_TEST_PROGS := $(BPF_TEST_DIR)/peer $(BPF_TEST_DIR)/peer-static
BPF_OPTIONAL := golang-go liburing-dev

$(BPF_TEST_DIR):
	mkdir -p $@

$(BPF_TEST_DIR)/peer: tests/bpf/peer.c | $(BPF_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -o $@ $<

# Out of LD_PRELOAD's reach: kashim-bpf must set its sockets all the same.
$(BPF_TEST_DIR)/peer-static: tests/bpf/peer.c | $(BPF_TEST_DIR)
	$(CC) $(TEST_CFLAGS) -static -o $@ $<

# Pure Go (no cgo): static, and Go's own keep-alive by default.
$(BPF_TEST_DIR)/goclient: tests/bpf/goclient.go | $(BPF_TEST_DIR)
	@rm -f $@.skip
	@if command -v go >/dev/null 2>&1; then \
		echo "go build -o $@ $<"; \
		HOME=$(abspath $(BPF_TEST_DIR)) GOCACHE=$(abspath $(BPF_TEST_DIR))/gocache \
		GOPATH=$(abspath $(BPF_TEST_DIR))/gopath GO111MODULE=off \
		CGO_ENABLED=0 GOFLAGS= go build -o $@ $<; \
	else echo "go is not installed (apt-get install golang-go)" >$@.skip; fi

$(BPF_TEST_DIR)/uring: tests/bpf/uring.c | $(BPF_TEST_DIR)
	@rm -f $@.skip
	@if [ -f /usr/include/liburing.h ]; then \
		echo "$(CC) -o $@ $< -luring"; \
		$(CC) $(TEST_CFLAGS) -o $@ $< -luring; \
	else echo "liburing-dev is not installed" >$@.skip; fi

check-bpf:
	@tests/deps.sh $(BPF_PACKAGES) $(BPF_TEST_PACKAGES)
	@for p in $(BPF_OPTIONAL); do tests/deps.sh $$p || \
		echo "check-bpf: $$p cannot be installed: its cases will SKIP"; done
	@$(MAKE) --no-print-directory check-bpf-run

.PHONY: check-bpf-run
check-bpf-run: $(BPF_CMD) src/kashim $(BPF_TEST_PROGS) $(BPF_TEST_DIR)/goclient \
		$(BPF_TEST_DIR)/uring
	@tests/bpf/run.sh
	@echo "== a dead link under kashim-bpf (a static client, network namespaces, nft)"
	@timeout -k 10 120 tests/bpf/dead_link.sh
