# systemd.mk - make check-systemd: kashim-bpf enable --unit and kashim
# --enable-unit tested under a real systemd, booted with systemd-nspawn
# from a minbase Debian 12 rootfs cached in tests/build/systemd/rootfs
# (debootstrap from this machine's Debian mirror, once). The tree's own
# build is installed into a staging directory bound over the
# container's /usr/local; the rootfs itself is never changed (the
# container runs with --volatile=overlay).

SYSTEMD_TEST_PACKAGES := debootstrap systemd-container python3 util-linux
SYSTEMD_ROOTFS := tests/build/systemd/rootfs
# The mirror this machine's apt uses (deb822 or one-line sources).
DEBIAN_MIRROR = $(or $(shell sed -n 's/^URIs: *\([^ ]*\).*/\1/p; s/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\) bookworm .*/\2/p' \
	/etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1),http://deb.debian.org/debian)
SYSTEMD_INCLUDE := systemd,systemd-sysv,dbus,libbpf1,libelf1,libconfuse2,iproute2,procps

CHECK_TARGETS += check-systemd
DEPS_PACKAGES += $(SYSTEMD_TEST_PACKAGES)

.PHONY: check-systemd check-systemd-run
check-systemd:
	@tests/deps.sh $(SYSTEMD_TEST_PACKAGES) || \
		{ echo "SKIP: check-systemd: cannot install $(SYSTEMD_TEST_PACKAGES)"; exit 0; }
	@$(MAKE) --no-print-directory check-systemd-run

$(SYSTEMD_ROOTFS):
	@mkdir -p $(dir $@)
	rm -rf $@.tmp
	nice debootstrap --variant=minbase --include=$(SYSTEMD_INCLUDE) \
		bookworm $@.tmp $(DEBIAN_MIRROR)
	mv $@.tmp $@

tests/build/systemd/kt-listen: tests/systemd/listen.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $<

check-systemd-run: build $(BPF_CMD) $(BPF_TEST_PROGS) tests/build/systemd/kt-listen \
		| $(SYSTEMD_ROOTFS)
	@timeout -k 10 300 tests/systemd/run.sh $(SYSTEMD_ROOTFS)
