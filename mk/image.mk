# image.mk - make image: the OCI image kashim:$(VERSION) and kashim:latest,
# built offline (deploy/container/build.sh) from this tree's Debian
# packages on the debootstrapped Debian 12 rootfs that check-systemd
# caches; its default command is deploy/container/kashim-bpf-watch.
# make check-image checks deploy/kubernetes/kashim-bpf.yaml with kubectl
# (a client dry run) and runs the image with podman (runc) as that
# DaemonSet runs it, on a cgroup of its own.

IMAGE_PACKAGES := podman runc debootstrap dpkg-dev debhelper python3
CHECK_TARGETS += check-image
DEPS_PACKAGES += $(IMAGE_PACKAGES)

.PHONY: image check-image check-image-run
image:
	@tests/deps.sh $(IMAGE_PACKAGES)
	@$(MAKE) --no-print-directory $(SYSTEMD_ROOTFS)
	deploy/container/build.sh $(VERSION) $(SYSTEMD_ROOTFS)

check-image:
	@tests/deps.sh $(IMAGE_PACKAGES) || \
		{ echo "SKIP: check-image: cannot install $(IMAGE_PACKAGES)"; exit 0; }
	@command -v kubectl >/dev/null || tests/deps.sh kubernetes-client || \
		echo "check-image: kubernetes-client cannot be installed: the test will SKIP"
	@$(MAKE) --no-print-directory image check-image-run

check-image-run: build $(BPF_TEST_PROGS) tests/build/systemd/kt-listen
	@timeout -k 10 180 tests/container/run.sh $(VERSION)
