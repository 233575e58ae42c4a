# platforms.mk - kashim for other C libraries and architectures, and
# their checks. Each builds the library, its config module and the test
# programs with another compiler into build/NAME/ (left there for use;
# `make clean` removes build/), installs its own packages, and prints
# SKIP with the reason when the mirror or the kernel cannot give what it
# needs:
#
#   check-musl       musl-gcc, libconfuse built for musl from Debian's
#                    source package; preload tests and the fork-during-
#                    init test against musl-linked programs (and the
#                    fork test against the glibc build too); the kashim
#                    command picks the build for each program's C library
#   check-multiarch  an i386 copy beside the x86-64 one: both under
#                    /usr/lib/<triplet>/kashim/ and one /usr/$LIB line in
#                    /etc/ld.so.preload, in a private mount namespace; a
#                    64-bit and a 32-bit program get the config file's
#                    rule; then the preload tests for the i386 copy, and
#                    the Debian packages built for amd64 and (cross) i386
#                    installed together into a private dpkg database
#   check-aarch64    cross-built; preload tests run under qemu-user
#                    through a binfmt_misc private to a user namespace
#
# build/musl/libkashim.so, build/i386/libkashim.so and
# build/aarch64/libkashim.so, each with kashim-conf.so beside it, are
# ready to copy after their check.

PLATFORM_CFLAGS ?= -O2 -g
# The preload test programs every platform runs, and the platform tests'.
PLATFORM_PROGS := tcp_kinds own_choice threads_fork non_tcp fork_init probe \
	hello libctor.so

comma := ,

# $(call kashim_platform,NAME,CC,CONFUSE_CFLAGS,CONFUSE_LIBS,MODULE_DEPS):
# the rules for build/NAME/: objects, library, module and test programs.
define kashim_platform
build/$(1)/obj/%.o: src/%.c src/.cflags | $(5)
	@mkdir -p $$(@D)
	$(2) $$(KASHIM_CFLAGS) $$(DEPFLAGS) $$(PLATFORM_CFLAGS) $(3) -c -o $$@ $$<

build/$(1)/libkashim.so: $$(patsubst src/%,build/$(1)/obj/%,$$(LIB_OBJS))
	$(2) $$(KASHIM_CFLAGS) $$(PLATFORM_CFLAGS) -shared -nostartfiles \
		-Wl,-Bsymbolic-functions -Wl,-soname,$$(SONAME) -Wl,-z,defs \
		-o $$@ $$^

build/$(1)/kashim-conf.so: $$(patsubst src/%,build/$(1)/obj/%,$$(MODULE_OBJS)) $(5)
	$(2) $$(KASHIM_CFLAGS) $$(PLATFORM_CFLAGS) -shared -Wl,-z,defs \
		-o $$@ $$(filter %.o,$$^) $(4)

build/$(1)/tests/%: tests/platforms/%.c tests/preload/common.h $$(TEST_HEADERS)
	@mkdir -p $$(@D)
	$(2) $$(TEST_CFLAGS) $$(PLATFORM_TEST_CFLAGS) -pthread -rdynamic -o $$@ $$<

build/$(1)/tests/%: tests/preload/%.c tests/preload/common.h $$(TEST_HEADERS)
	@mkdir -p $$(@D)
	$(2) $$(TEST_CFLAGS) $$(PLATFORM_TEST_CFLAGS) -pthread -o $$@ $$<

build/$(1)/tests/hello: tests/cmd/hello.c
	@mkdir -p $$(@D)
	$(2) $$(TEST_CFLAGS) -o $$@ $$<

build/$(1)/tests/libctor.so: tests/preload/lib/ctor.c tests/preload/common.h $$(TEST_HEADERS)
	@mkdir -p $$(@D)
	$(2) $$(TEST_CFLAGS) -fPIC -shared -o $$@ $$<

.PHONY: build-$(1)
build-$(1): build/$(1)/libkashim.so build/$(1)/kashim-conf.so \
	$$(addprefix build/$(1)/tests/,$$(PLATFORM_PROGS))
endef

# musl: libconfuse linked into the module, its symbols kept inside.
MUSL_CONFUSE := build/musl/confuse
$(eval $(call kashim_platform,musl,musl-gcc,-I$(MUSL_CONFUSE)/include,\
	$(MUSL_CONFUSE)/lib/libconfuse.a -Wl$(comma)--exclude-libs$(comma)ALL,\
	$(MUSL_CONFUSE)/lib/libconfuse.a))
$(eval $(call kashim_platform,i386,i686-linux-gnu-gcc,,-lconfuse,))
$(eval $(call kashim_platform,aarch64,aarch64-linux-gnu-gcc,,-lconfuse,))
# Test programs for this machine's own glibc build (src/libkashim.so): the
# fork test and the 64-bit half of the multiarch test.
$(eval $(call kashim_platform,native,$(CC),$(CONFUSE_CFLAGS),$(CONFUSE_LIBS),))
NATIVE_PROGS := build/native/tests/fork_init build/native/tests/probe
# The glibc library as Debian's package builds it (_FORTIFY_SOURCE): the
# control of the kashim command's test, a build a musl program cannot load.
$(eval $(call kashim_platform,fortified,$(CC),,,))
build/fortified/%: PLATFORM_CFLAGS = -O2 -D_FORTIFY_SOURCE=2

# Built once per tree: build/musl/ survives until make clean.
$(MUSL_CONFUSE)/lib/libconfuse.a:
	tests/platforms/musl-confuse.sh $(MUSL_CONFUSE) musl-gcc

# musl-gcc sees only musl's headers; the test programs also need the
# kernel's (linux/netlink.h), which libc6-dev's linux-libc-dev provides.
MUSL_KERNEL_HEADERS := build/musl/kernel-headers
build/musl/tests/%: PLATFORM_TEST_CFLAGS = -idirafter $(MUSL_KERNEL_HEADERS)
build/musl/tests/non_tcp: | $(MUSL_KERNEL_HEADERS)
$(MUSL_KERNEL_HEADERS):
	mkdir -p $@
	ln -sfn /usr/include/linux /usr/include/asm-generic $@/
	ln -sfn /usr/include/$(shell $(CC) -print-multiarch)/asm $@/asm

# make install-musl: the musl build where the kashim command looks for
# it, in musl/ beside the glibc build ($(libdir)/musl/, its module
# beside it). The two builds never meet in one process: each program gets
# the one made for its C library, and musl has no /etc/ld.so.preload.
MUSL_LIBDIR = $(libdir)/musl
.PHONY: install-musl uninstall-musl
install-musl: build/musl/libkashim.so build/musl/kashim-conf.so
	$(INSTALL) -D -m 0644 build/musl/libkashim.so $(DESTDIR)$(MUSL_LIBDIR)/libkashim.so
	$(INSTALL) -D -m 0644 build/musl/kashim-conf.so $(DESTDIR)$(MUSL_LIBDIR)/kashim-conf.so

uninstall: uninstall-musl
uninstall-musl:
	rm -f $(DESTDIR)$(MUSL_LIBDIR)/libkashim.so $(DESTDIR)$(MUSL_LIBDIR)/kashim-conf.so
	$(call rmdir_quiet,$(DESTDIR)$(MUSL_LIBDIR))

# The packages of each check, installed by the check itself.
MUSL_PACKAGES := musl-tools musl-dev flex apt strace binutils
I386_PACKAGES := gcc-i686-linux-gnu libc6-dev-i386-cross libconfuse-dev:i386 \
	libc6:i386 qemu-user-static util-linux binutils dpkg-dev debhelper fakeroot
AARCH64_PACKAGES := gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	libconfuse-dev:arm64 libc6:arm64 qemu-user-static util-linux binutils

.PHONY: check-musl check-multiarch check-aarch64
check-musl: build
	@tests/platforms/deps.sh check-musl - $(MUSL_PACKAGES) || exit 0; \
	$(MAKE) -s --no-print-directory build-musl $(NATIVE_PROGS) \
		build/fortified/libkashim.so || exit 1; \
	tests/platforms/preload.sh glibc src build/native/tests fork && \
	tests/platforms/preload.sh musl build/musl build/musl/tests all && \
	tests/platforms/cmd-libc.sh "$(MAKE)"

check-multiarch: build
	@tests/platforms/deps.sh check-multiarch i386 $(I386_PACKAGES) || exit 0; \
	$(MAKE) -s --no-print-directory build-i386 $(NATIVE_PROGS) || exit 1; \
	tests/platforms/in-binfmt.sh i386 build/i386/tests/hello \
		tests/platforms/multiarch.sh $(sysconfdir)/kashim.conf src build/native/tests/probe \
		build/i386 build/i386/tests/probe && \
	tests/platforms/in-binfmt.sh i386 build/i386/tests/hello \
		tests/platforms/preload.sh i386 build/i386 build/i386/tests all && \
	tests/platforms/deb-multiarch.sh i386

check-aarch64: build
	@tests/platforms/deps.sh check-aarch64 arm64 $(AARCH64_PACKAGES) || exit 0; \
	$(MAKE) -s --no-print-directory build-aarch64 || exit 1; \
	tests/platforms/in-binfmt.sh aarch64 build/aarch64/tests/hello \
		tests/platforms/preload.sh aarch64 build/aarch64 build/aarch64/tests all

CHECK_TARGETS += check-musl check-multiarch check-aarch64

.PHONY: clean-platforms
clean: clean-platforms
clean-platforms:
	rm -rf build
