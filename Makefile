# homelab.passthrough — build, test and run the collection. Every target, one line each:
#
#   make              build every module into plugins/modules/ (stripped binaries + docs)
#   make deps         install the Debian packages the build and tests need (apt-get)
#   make test         deps, all, unit, valgrind, integration, sanity, asan, fuzz-smoke, lint
#   make tools        the test tools (mkroot, stubs, fake pvesh) and the argspec generator
#   make unit         the unit tests (cmocka)
#   make valgrind     the unit tests under valgrind: no errors, no leaks
#   make integration  the integration targets against the installed collection
#   make sanity       ansible-test sanity (the tests that run offline) on the tarball's tree
#   make asan         unit and integration tests, ASan+UBSan-built (make test ASAN=0 leaves it out)
#   make asan-build   only build those (build/asan)
#   make fuzz         every libFuzzer harness for FUZZ_SECONDS (FUZZ=NAME... picks some)
#   make fuzz-smoke   every harness for FUZZ_SMOKE_SECONDS (10) from its seeds, as make test runs it
#   make lint         clang-format, cppcheck, clang-tidy, yamllint, ansible-lint: zero findings
#   make lint-format  (and lint-cppcheck, lint-tidy, lint-ansible) one checker of make lint
#   make run          the main job on this machine (facts) and on the bundled example
#   make install      ansible-galaxy collection build + install into ~/.ansible
#   make dist         the collection tarball users install (built modules, no compiler needed)
#   make test-matrix  integration, lint, argspec and sanity under Debian 13's ansible-core
#   make stress       pve_pci_mapping: 16 nodes writing one mapping at once, 20 runs
#   make snapshots-update  rewrite tests/fixtures/snapshots: only for a deliberate change
#                     of behaviour, reviewed in their diff (tests/fixtures/snapshots/README.md)
#   make bench        benchmarks (ratios against the tools people use today)
#   make bench-ssh    each module over SSH vs its nearest builtin and `raw` (bench/README.md)
#   make e2e          the role against real kernels in QEMU, CI's two profiles (E2E_PROFILES)
#   make e2e-all      the same for all eight profiles
#   make e2e-captures boot CI's profiles' guests and keep what they show as fixtures
#   make deps-e2e     the packages make e2e needs
#   make clean        remove build outputs
#
# V=1 prints every command in full. The rules are in mk/, one file a part:
#   config.mk   settings, quiet output, layout    deps.mk     make deps
#   lib.mk      the library in three flavours      modules.mk  the modules and their specs
#   tests.mk    tools, unit, valgrind, integration, stress, test-matrix, asan
#   fuzz.mk     fuzz, fuzz-smoke                   lint.mk     lint and its four checkers
#   dist.mk     dist, install, sanity, run         e2e.mk      e2e, e2e-all, deps-e2e
#   bench.mk    bench, bench-ssh

include mk/config.mk

.PHONY: all test clean
.SECONDARY:

all: $(BINS) $(DOCS)

include mk/deps.mk
include mk/lib.mk
include mk/modules.mk
include mk/tests.mk
include mk/fuzz.mk
include mk/lint.mk
include mk/dist.mk
include mk/e2e.mk
include mk/bench.mk

# Everything make test runs is built first, JOBS (mk/config.mk) at a time.
test: deps
	$(MAKE) -j$(JOBS) all tools $(UNIT_BIN) $(FUZZ_BIN) $(if $(filter-out 0,$(ASAN)),asan-build)
	$(MAKE) unit
	$(MAKE) valgrind
	$(MAKE) integration
	$(MAKE) sanity
	if [ "$(ASAN)" != 0 ]; then $(MAKE) asan ASAN_TARGETS="$(ASAN_TEST_TARGETS)"; fi
	$(MAKE) fuzz-smoke
	$(MAKE) lint

clean:
	rm -rf $(BUILD) $(BINS) $(DOCS) homelab-passthrough-*.tar.gz
