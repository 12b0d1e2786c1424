# The tests that run on this machine: the test tools, the unit tests (plain and
# sanitized), valgrind, the integration suite, the concurrency stress run, the
# controller matrix and the sanitizer pass (make asan).

.PHONY: tools unit valgrind integration stress snapshots-update test-matrix asan asan-build

# --- test tools (fixture builder, stubs, fake pvesh) -----------------------
tools: $(TOOL_BIN) $(GENERATOR)

# Stubs and fakes run chrooted inside sandbox roots, so they are static.
$(BUILD)/tools/%: tests/tools/%.c $(LIBPT)
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -static -o $@ $< $(TEST_OBJS) $(LIBPT) $(YAML_A) $(JANSSON_A)

$(BUILD)/tools/fake-pvesh $(BUILD)/tests/test_pve_mapping: TEST_OBJS = $(PVE_CFG:%.c=$(OBJ)/%.o)
$(BUILD)/tools/fake-pvesh $(BUILD)/tests/test_pve_mapping: $(PVE_CFG:%.c=$(OBJ)/%.o)
$(ASAN_DIR)/tests/test_pve_mapping: TEST_OBJS = $(PVE_CFG:%.c=$(ASAN_DIR)/obj/%.o)
$(ASAN_DIR)/tests/test_pve_mapping: $(PVE_CFG:%.c=$(ASAN_DIR)/obj/%.o)

# --- unit tests -------------------------------------------------------------
# $(call pt_unit_tests,TREE,CC,CFLAGS): TREE/tests/test_NAME from
# tests/unit/test_NAME.c, with the support helpers and the library of the same
# flavour (mk/lib.mk: TREE/obj, TREE/libpt.a); CC and CFLAGS name its variables.
define pt_unit_tests
$(1)/tests/%: tests/unit/%.c $$(UNIT_SUPPORT:%.c=$(1)/obj/%.o) $(1)/libpt.a $$(SPECS)
	@mkdir -p $$(dir $$@)
	$$(call msg,CCLD,$$@)
	$$(Q)$$($(2)) $$($(3)) -MMD -MP -DSHARED_DIR=\"$$(SHARED)\" -DSOURCE_DIR=\"$$(CURDIR)\" -o $$@ $$< \
	  $$(UNIT_SUPPORT:%.c=$(1)/obj/%.o) $$(TEST_OBJS) $(1)/libpt.a $$(TEST_LIBS)

-include $$(wildcard $(1)/tests/*.d)
endef

$(eval $(call pt_unit_tests,$(BUILD),CC,ALL_CFLAGS))
$(eval $(call pt_unit_tests,$(ASAN_DIR),ASAN_CC,ASAN_CFLAGS))

# The tests read tests/fixtures (always there) and, when SHARED/corpus exists, the
# corpus layer too; without it the corpus tests are skipped, said in one line here
# (PT_CORPUS_NOTED keeps each test from saying it again; PT_SHARED makes the tests
# look where this line looked, whatever they were built with).
CORPUS_NOTE = if [ -d "$(SHARED)/corpus" ]; then echo "corpus layer: $(SHARED)/corpus"; \
	  else echo "corpus layer skipped: $(SHARED)/corpus is absent (SHARED=DIR to run it)"; fi; \
	  export PT_CORPUS_NOTED=1 PT_SHARED="$(SHARED)"

unit: $(UNIT_BIN) tools
	@set -e; $(CORPUS_NOTE); for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# JOBS tests at a time, each with its own log (build/valgrind/NAME.log), printed
# when it fails.
valgrind: $(UNIT_BIN) tools
	@set -e; $(CORPUS_NOTE); mkdir -p $(BUILD)/valgrind; \
	  printf '%s\n' $(UNIT_BIN) | xargs -P$(JOBS) -I{} sh -c 'log=$(BUILD)/valgrind/$$(basename {}).log; \
	    echo "== valgrind {}"; \
	    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	      {} >$$log 2>&1 || { cat $$log; echo "valgrind: {} failed"; exit 1; }'; \
	  echo "valgrind: no errors, no leaks"

# --- integration ------------------------------------------------------------
integration: all tools install
	PT_JOBS=$${PT_JOBS:-$(JOBS)} tests/integration/run.sh

# pve_pci_mapping's concurrency test (16 nodes write one mapping at once), 20 runs
# in a row; prints the retries each run needed.
STRESS_RUNS ?= 20
stress: all tools
	tests/integration/stress/concurrency.sh $(STRESS_RUNS)

# The snapshot test (an integration target) writing its snapshots instead of
# comparing them: every module's result on every fixture host, as printed.
snapshots-update: all tools
	SNAPSHOT_UPDATE=1 tests/integration/run.sh snapshots

# The integration tests (role targets included), ansible-lint, yamllint, the
# argspec vectors and ansible-test sanity again under Debian 13's ansible-core,
# in a Debian 13 root (tests/matrix/build-root.sh, cached) entered with chroot,
# against the modules built here.
test-matrix: deps
	@$(MAKE) --no-print-directory deps DEPS_PKGS=debootstrap
	$(MAKE) dist tools
	tests/matrix/run.sh

# --- sanitizers (make asan) -------------------------------------------------
# The unit tests and every module built with AddressSanitizer (LeakSanitizer
# included) and UndefinedBehaviorSanitizer in their own tree, build/asan (the asan
# flavour of mk/lib.mk: objects, library, tests, unstripped modules; build/ and
# plugins/modules/ stay as they are), then run by tests/asan/run.sh: every unit
# test, a canary module proving that a report made inside a module run by Ansible
# is seen, and the integration suite against a second copy of the collection
# holding the sanitized modules, installed into build/asan/collections
# (ANSIBLE_COLLECTIONS_PATH, for that run only; ~/.ansible stays as `make install`
# left it), and PT_MODULES_DIR=build/asan/bin for the tests that start the
# binaries themselves. Any sanitizer report fails the run. ASAN_TARGETS=NAME...
# limits the integration part.
# record-cmd and fake-pvesh stay static and unsanitized: they run chrooted in
# sandbox roots, and ASan cannot link -static. mkroot runs on the host, so it has
# a sanitized build too, which the run feeds every host description and capture.
ASAN       ?= 1
ASAN_TARGETS ?=
# What make test runs sanitized: every target that drives the modules themselves
# (options, files, commands, pvesh, the command line, stdin). The role, dist and
# SSH targets run the same module code again through more Ansible (most of their
# time is ansible-playbook), so make test leaves them to the plain integration
# pass and keeps CI inside its budget; `make asan` alone runs every target.
ASAN_TEST_TARGETS := bad_input fake_pvesh failure_injection fixtures grub_iommu iommu_facts \
                     module_cli pve_pci_mapping pve_pci_mapping_text vfio_bind
ASAN_BINS  := $(MODULES:%=$(ASAN_DIR)/bin/%) $(ASAN_DIR)/bin/asan_canary $(ASAN_DIR)/bin/mkroot
ASAN_UNIT  := $(UNIT_SRC:tests/unit/%.c=$(ASAN_DIR)/tests/%)

asan: all tools asan-build
	tests/asan/run.sh $(ASAN_TARGETS)

asan-build: $(ASAN_BINS) $(ASAN_UNIT)

# Not stripped: the reports name files and lines.
$(ASAN_DIR)/bin/%: $(ASAN_DIR)/obj/modules/%.o $(ASAN_LIBPT)
	@mkdir -p $(dir $@)
	$(call msg,LD,$@)
	$(Q)$(ASAN_CC) $(ASAN_FLAGS) -o $@ $< $(ASAN_LIBPT) $(JANSSON_A) $(PCI_LIBS)

$(ASAN_DIR)/bin/asan_canary: tests/asan/asan_canary.c
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -o $@ $< $(JANSSON_A)

$(ASAN_DIR)/bin/mkroot: tests/tools/mkroot.c $(ASAN_LIBPT)
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -MMD -MP -o $@ $< $(ASAN_LIBPT) $(YAML_A) $(JANSSON_A)

-include $(wildcard $(ASAN_DIR)/bin/*.d)
