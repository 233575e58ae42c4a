# e2e.mk - the proof on the real thing: a real mosquitto broker behind a
# link killed with network namespaces and nft (tests/e2e/), and `make demo`.

CHECK_TARGETS += check-e2e check-demo
DEPS_PACKAGES += mosquitto mosquitto-clients iproute2 nftables python3 \
	procps util-linux coreutils mawk
# What `make demo` installs (as root) before it builds.
DEMO_PACKAGES := build-essential pkg-config libconfuse-dev mosquitto \
	mosquitto-clients iproute2 nftables procps util-linux mawk

.PHONY: check-e2e check-demo demo
check-e2e: build
	@E2E_SYSCONFDIR='$(sysconfdir)' tests/e2e/run.sh

# The demo's loopback scene, run as nobody: its --status tables aligned.
check-demo: build
	@tests/docs/check-demo.sh

# The mission in about a minute: what it needs, a build, then the show.
demo:
	@KASHIM_DEPS_FOR='make demo' tests/deps.sh $(DEMO_PACKAGES)
	@$(MAKE) --no-print-directory build
	@demo/demo.sh
