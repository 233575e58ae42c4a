# install.mk - `make install` and `make uninstall`, and their checks:
#   check-install  make install into a temporary DESTDIR, run the installed
#                  kashim against the installed library, make uninstall
#   check-deb      dpkg-buildpackage -us -uc -b in a copy of the tree, the
#                  package's contents, then lintian with no error
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [sysconfdir=] [libdir=]
#                [bindir=] [mandir=] [moduledir=]
#
# Installs $(libdir)/libkashim.so, its config module as
# $(moduledir)/kashim-conf.so (default $(libdir)/kashim: the library looks
# for it beside itself, then in kashim/ beside itself), $(bindir)/kashim,
# the three man pages, and $(sysconfdir)/kashim.conf unless a config file
# is already there. `make uninstall` removes what install put, and the
# config file only when it is still the one shipped; it refuses while an
# /etc/ld.so.preload names the library it would remove.
#
# The library reads $(sysconfdir)/kashim.conf and the command finds the
# library through the paths it was built with: objects are rebuilt when
# PREFIX, sysconfdir, libdir or bindir change, and install checks that the
# build it installs names the right ones. `make install-man` installs only
# the man pages.

moduledir ?= $(libdir)/kashim
INSTALL ?= install

# The command, when its fragment has added it to the build.
KASHIM_CMD_BUILT = $(filter src/kashim,$(ALL_TARGETS))

MAN_PAGES := man/kashim.1 man/kashim.8 man/kashim.conf.5
# Where a man page goes: man/kashim.conf.5 -> $(mandir)/man5/kashim.conf.5
man_dest = $(DESTDIR)$(mandir)/man$(subst .,,$(suffix $(1)))/$(notdir $(1))
# The pages name the default PREFIX's paths; install writes the real ones
# in (a '-' in a path is '\-' in roff).
roff_path = $(subst -,\\-,$(1))
MAN_SED = -e 's|/usr/local/lib/kashim/|$(call roff_path,$(moduledir))/|g' \
	-e 's|/usr/local/lib|$(call roff_path,$(libdir))|g' \
	-e 's|/usr/local/etc|$(call roff_path,$(sysconfdir))|g' \
	-e 's|/usr/local/bin|$(call roff_path,$(bindir))|g'

# Refuse to install objects built for other paths: the library would read
# another kashim.conf, the command look for the library elsewhere.
KASHIM_REBUILD = run make clean, then make and make install with the same \
	PREFIX, sysconfdir, libdir and bindir
define KASHIM_CHECK_PATHS
	@strings -a $(LIB) | grep -qxF '$(sysconfdir)/kashim.conf' || { \
		echo "kashim: $(LIB) was built for another sysconfdir than $(sysconfdir): $(KASHIM_REBUILD)" >&2; \
		exit 1; }
	$(if $(KASHIM_CMD_BUILT),@strings -a src/kashim | grep -qxF '$(libdir)/libkashim.so' || { \
		echo "kashim: src/kashim was built for another libdir than $(libdir): $(KASHIM_REBUILD)" >&2; \
		exit 1; })
endef

# The man pages, with the installed paths written in.
define KASHIM_INSTALL_MAN
	@set -e; t=$$(mktemp -d); trap 'rm -rf "$$t"' EXIT; \
	$(foreach p,$(MAN_PAGES),sed $(MAN_SED) $(p) >$$t/$(notdir $(p)); \
		echo "$(INSTALL) -D -m 0644 $(p) $(call man_dest,$(p))"; \
		$(INSTALL) -D -m 0644 $$t/$(notdir $(p)) $(call man_dest,$(p));)
endef

# What ld.so puts for $LIB in a preload line here (lib/<multiarch>).
KASHIM_DOLLAR_LIB := lib$(addprefix /,$(shell $(CC) -print-multiarch 2>/dev/null))

# Refuse to remove a library that /etc/ld.so.preload still names: from
# then on every program of the host would print "cannot be preloaded".
# The machine's file is read for the library's full path (under
# DESTDIR too: a DESTDIR tree can be enabled), and with DESTDIR that
# tree's own etc/ld.so.preload for the path inside it. Entries are split
# as ld.so splits them ('#' comments, spaces, tabs, colons) and $LIB is
# expanded; a path that names the same file in another way still counts.
define KASHIM_PRELOAD_GUARD
	@lib=$$(realpath -m '$(DESTDIR)$(libdir)/libkashim.so'); \
	for root in / $(DESTDIR); do \
		f=$${root%/}/etc/ld.so.preload; \
		[ -f "$$f" ] || continue; \
		awk '{ sub(/#.*/, ""); n = split($$0, e, /[ \t:]+/); \
			for (i = 1; i <= n; i++) if (e[i] != "") print NR, e[i] }' "$$f" | \
		while read -r nr e; do \
			p=$$(printf '%s' "$$e" | sed 's|\$${LIB}|$(KASHIM_DOLLAR_LIB)|g; s|\$$LIB|$(KASHIM_DOLLAR_LIB)|g'); \
			[ "$$root" = / ] || p=$$root/$$p; \
			[ "$$(realpath -m "$$p")" = "$$lib" ] || continue; \
			echo "kashim: $$f line $$nr names $$e, the library make uninstall would remove; every program would then print \"cannot be preloaded\"." >&2; \
			echo "kashim: remove that line first: kashim --disable-system (or edit $$f), then make uninstall again" >&2; \
			exit 1; \
		done || exit 1; \
	done
endef

.PHONY: install install-man uninstall
install: build
	$(KASHIM_CHECK_PATHS)
	$(INSTALL) -D -m 0644 $(LIB) $(DESTDIR)$(libdir)/libkashim.so
	$(INSTALL) -D -m 0644 $(MODULE) $(DESTDIR)$(moduledir)/kashim-conf.so
	$(if $(KASHIM_CMD_BUILT),$(INSTALL) -D -m 0755 src/kashim $(DESTDIR)$(bindir)/kashim)
	$(KASHIM_INSTALL_MAN)
	@if [ -e $(DESTDIR)$(sysconfdir)/kashim.conf ]; then \
		echo "kept the existing $(DESTDIR)$(sysconfdir)/kashim.conf (the shipped one is conf/kashim.conf)"; \
	else \
		echo "$(INSTALL) -D -m 0644 conf/kashim.conf $(DESTDIR)$(sysconfdir)/kashim.conf"; \
		$(INSTALL) -D -m 0644 conf/kashim.conf $(DESTDIR)$(sysconfdir)/kashim.conf; \
	fi

# Only the man pages (they need no build).
install-man:
	$(KASHIM_INSTALL_MAN)

# The guard runs before anything is removed: every part of uninstall
# (uninstall-musl, uninstall-bpf) waits for it. Alone, those parts remove
# no library that /etc/ld.so.preload can name, and are not held back.
.PHONY: uninstall-guard
uninstall-guard:
	$(if $(filter uninstall,$(MAKECMDGOALS)),$(KASHIM_PRELOAD_GUARD))
uninstall-musl uninstall-bpf: | uninstall-guard

# rmdir_quiet DIR: remove DIR when it is there and empty, saying so.
rmdir_quiet = @if rmdir $(1) 2>/dev/null; then echo "rmdir $(1)"; fi

uninstall: uninstall-guard
	rm -f $(DESTDIR)$(libdir)/libkashim.so
	rm -f $(DESTDIR)$(moduledir)/kashim-conf.so
	$(call rmdir_quiet,$(DESTDIR)$(moduledir))
	rm -f $(DESTDIR)$(bindir)/kashim
	rm -f $(foreach p,$(MAN_PAGES),$(call man_dest,$(p)))
	@f=$(DESTDIR)$(sysconfdir)/kashim.conf; \
	if [ ! -e $$f ]; then :; \
	elif cmp -s conf/kashim.conf $$f; then \
		echo "rm -f $$f"; rm -f $$f; \
	else \
		echo "kept $$f: it differs from the shipped conf/kashim.conf"; \
	fi

.PHONY: check-install check-deb
check-install: build
	@tests/docs/check-install.sh "$(MAKE)" "$(filter src/kashim,$(ALL_TARGETS))"

check-deb:
	@tests/docs/check-deb.sh $(VERSION)

CHECK_TARGETS += check-install check-deb
DEPS_PACKAGES += dpkg-dev debhelper fakeroot lintian libconfuse-dev pkg-config
