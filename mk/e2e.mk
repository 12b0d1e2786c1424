# End to end: the role against real kernels (Debian 12 and 13 guests under
# QEMU/TCG, real GRUB or systemd-boot, initramfs-tools and vfio-pci).
# E2E_PROFILES: VENDOR-DIST-BOOT words (intel|amd, 12|13, bios|uefi; a bare
# intel or amd is VENDOR-12-bios). make e2e runs CI's pair, which covers both
# IOMMUs, both distributions and both boot loaders in two boots; make e2e-all
# runs all eight.
E2E_PKGS := debootstrap qemu-system-x86 fdisk e2fsprogs openssh-client ovmf
E2E_PROFILES ?= intel-13-uefi amd-12-bios
E2E_ALL := intel-12-bios amd-12-bios intel-12-uefi amd-12-uefi \
	intel-13-bios amd-13-bios intel-13-uefi amd-13-uefi

.PHONY: deps-e2e e2e e2e-all e2e-captures
deps-e2e:
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(E2E_PKGS)"

# E2E_SIDE_BY_SIDE=yes (the default) runs the profiles at once, one QEMU each
# (tests/e2e/parallel.sh): CI's two take about as long as the slower one.
E2E_SIDE_BY_SIDE ?= yes
e2e: deps deps-e2e
	$(MAKE) install tools
	tests/e2e/$(if $(filter yes,$(E2E_SIDE_BY_SIDE)),parallel.sh,run.sh) $(E2E_PROFILES)

e2e-all:
	$(MAKE) e2e E2E_PROFILES="$(E2E_ALL)"

# The e2e guests as their kernels show them, kept as fixtures: each profile's
# guest is booted, captured (tests/e2e/capture.sh: sysfs, /proc/iomem,
# reset_method, the interrupts table, the early-load files) and checked as in
# make e2e (the capture's root gives iommu_facts the guest's own evidence), and
# the tarball written to tests/fixtures/captures/e2e-PROFILE.tgz.
e2e-captures: deps deps-e2e
	$(MAKE) install tools
	tests/e2e/run.sh --captures $(E2E_PROFILES)
