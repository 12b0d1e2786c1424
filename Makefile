# homelab.passthrough — build, test and run the collection.
#
#   make            build every module into plugins/modules/ (stripped binaries + docs)
#   make deps       install the Debian packages the build and tests need (apt-get)
#   make test       deps, build, unit tests, valgrind, integration tests, ansible-test sanity,
#                   asan (ASAN=0 skips), fuzz smoke
#   make asan       unit and integration tests with ASan+UBSan-built modules and tests
#   make fuzz       every libFuzzer harness for FUZZ_SECONDS (fuzz-smoke: 10 s each, in make test)
#   make run        the main job on this machine (facts) and on the bundled example
#   make install    ansible-galaxy collection build + install into ~/.ansible
#   make dist       the collection tarball users install (built modules, no compiler needed)
#   make sanity     ansible-test sanity (the tests that run offline) on the tarball's tree
#   make test-matrix  integration, lint, argspec and sanity under Debian 13's ansible-core
#   make bench      benchmarks (ratios against the tools people use today)
#   make bench-ssh  what a task costs over SSH: each module vs its nearest builtin and
#                   `raw` (throwaway sshd on 127.0.0.1; bench/README.md)
#   make stress     pve_pci_mapping: 16 nodes writing one mapping at once, 20 runs
#   make snapshots-update  rewrite tests/fixtures/snapshots (only for a deliberate change
#                   of behaviour, reviewed in their diff: tests/fixtures/snapshots/README.md)
#   make lint       clang-format, cppcheck, clang-tidy, yamllint, ansible-lint: zero findings
#   make clean

# --- settings -------------------------------------------------------------
CC       ?= gcc
# C11 with the POSIX/GNU interfaces the host work needs (openat, pipe2, ...).
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
# -Os: the modules are I/O-bound, and their size is what Ansible copies to every
# host for every task (target: under 100 KB stripped).
OPT      ?= -Os -fno-asynchronous-unwind-tables
# Sections per function and data object let the linker drop what a module does
# not use from the library: each binary is copied to the host for every task.
CFLAGS   ?= $(OPT) -ffunction-sections -fdata-sections
SHARED   ?= $(abspath ../shared)
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Imodule_utils -I$(GEN) $(EXTRA_CFLAGS)
LDFLAGS  ?= -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--as-needed
# jansson and libyaml are linked statically: the binary is copied to hosts that
# need not have them. libpci stays dynamic (Debian ships no static archive; every
# Proxmox host has libpci3 through pciutils).
LIBDIR   := $(shell pkg-config --variable=libdir jansson 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)
JANSSON_A := $(LIBDIR)/libjansson.a
YAML_A   := $(LIBDIR)/libyaml.a
PCI_LIBS := -lpci
# Tests may link everything dynamically and use cmocka.
TEST_LIBS := -lcmocka -lyaml -ljansson -lpci

# Quiet by default, one line per step as kernel-style Makefiles print it
# ("  CC      module_utils/files.o"); V=1 prints every command in full. Compiler
# diagnostics (and -Werror failures) show either way: only the echo of the
# command is left out.
V        ?= 0
ifeq ($(V),1)
Q        :=
msg       =
QUIET_OUT :=
else
Q        := @
msg       = @printf '  %-7s %s\n' '$(1)' '$(2)'
# Tools that report progress on stdout (ansible-galaxy): errors stay on stderr.
QUIET_OUT := >/dev/null
MAKEFLAGS += --no-print-directory
endif

# Debian packages `make deps` installs when missing. While it installs them, a
# policy-rc.d (unless the machine has one) keeps their services from starting:
# openssh-server would otherwise start a system sshd listening on port 22, and the
# tests start their own on 127.0.0.1 only.
DEPS_PKGS := gcc make pkg-config libjansson-dev libyaml-dev libpci-dev libcmocka-dev \
             pciutils valgrind ansible-core python3 hyperfine ansible-lint yamllint
# The SSH transport test and make bench-ssh: their own sshd on 127.0.0.1 (the
# package's service is not used), sudo for become from a non-root user.
DEPS_PKGS += openssh-server openssh-client sudo

# --- layout ---------------------------------------------------------------
BUILD    := build
GEN      := $(BUILD)/gen
OBJ      := $(BUILD)/obj
MODULES  := $(basename $(notdir $(wildcard modules/*.c)))
UTIL_SRC := $(wildcard module_utils/*.c)
UTIL_OBJ := $(UTIL_SRC:%.c=$(OBJ)/%.o)
LIBPT    := $(BUILD)/libpt.a
BINS     := $(MODULES:%=plugins/modules/%)
DOCS     := $(MODULES:%=plugins/modules/%.yml)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers the unit tests share (temporary trees: tests/unit/support/), linked into each.
UNIT_SUPPORT := $(wildcard tests/unit/support/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
# pci.cfg read and written as a file is test code (the module goes through pvesh):
# the programs that use it link it, each in its build's flavour (TEST_OBJS below).
PVE_CFG  := tests/tools/support/pve_cfg.c
GENERATOR := $(BUILD)/tools/argspec_gen

VERSION  := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL  := homelab-passthrough-$(VERSION).tar.gz

.PHONY: deps-e2e e2e e2e-all all deps test unit valgrind integration run install dist sanity test-matrix bench \
        bench-ssh lint clean tools fuzz fuzz-smoke stress snapshots-update
.SECONDARY:

all: $(BINS) $(DOCS)

# --- dependencies ---------------------------------------------------------
deps:
	@missing=""; for p in $(DEPS_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d; \
	    trap 'rm -f /usr/sbin/policy-rc.d' EXIT; \
	  fi; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	else echo "make deps: all packages present"; fi

# --- the library and the generator ----------------------------------------
$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$(@:$(OBJ)/%=%))
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBPT): $(UTIL_OBJ)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(GENERATOR): tools/argspec_gen.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CSTD) $(WARN) $(CFLAGS) -o $@ $< $(YAML_A) $(JANSSON_A)

# Each module's argument spec comes from its documentation (one source of truth).
$(GEN)/%_argspec.h: modules/%.yml $(GENERATOR)
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q)$(GENERATOR) $< $* > $@.tmp && mv $@.tmp $@

# Modules include their generated spec header. A static pattern rule, so that
# make never picks the generic $(OBJ)/%.o rule while the header is still missing.
$(MODULES:%=$(OBJ)/modules/%.o): $(OBJ)/modules/%.o: modules/%.c $(GEN)/%_argspec.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$(@:$(OBJ)/%=%))
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Unwind tables go too (about 8 KB of jansson's): these C programs never
# unwind (no exceptions, no thread cancellation, no backtraces).
plugins/modules/%: $(OBJ)/modules/%.o $(LIBPT)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBPT) $(JANSSON_A) $(PCI_LIBS)
	$(Q)strip --strip-all --remove-section=.comment --remove-section=.eh_frame \
	  --remove-section=.eh_frame_hdr $@

plugins/modules/%.yml: modules/%.yml
	$(call msg,CP,$@)
	$(Q)cp $< $@

# --- test tools (fixture builder, stubs, fake pvesh) -----------------------
tools: $(TOOL_BIN) $(GENERATOR)

# Stubs and fakes run chrooted inside sandbox roots, so they are static.
$(BUILD)/tools/%: tests/tools/%.c $(LIBPT)
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -static -o $@ $< $(TEST_OBJS) $(LIBPT) $(YAML_A) $(JANSSON_A)

$(BUILD)/tools/fake-pvesh $(BUILD)/tests/test_pve_mapping: TEST_OBJS = $(PVE_CFG:%.c=$(OBJ)/%.o)
$(BUILD)/tools/fake-pvesh $(BUILD)/tests/test_pve_mapping: $(PVE_CFG:%.c=$(OBJ)/%.o)

# --- tests ----------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(UNIT_SUPPORT:%.c=$(OBJ)/%.o) $(LIBPT) \
                  $(MODULES:%=$(GEN)/%_argspec.h)
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -DSHARED_DIR=\"$(SHARED)\" -DSOURCE_DIR=\"$(CURDIR)\" -o $@ $< \
	  $(UNIT_SUPPORT:%.c=$(OBJ)/%.o) $(TEST_OBJS) $(LIBPT) $(TEST_LIBS)

# The tests read tests/fixtures (always there) and, when SHARED/corpus exists, the
# corpus layer too; without it the corpus tests are skipped, said in one line here
# (PT_CORPUS_NOTED keeps each test from saying it again; PT_SHARED makes the tests
# look where this line looked, whatever they were built with).
CORPUS_NOTE = if [ -d "$(SHARED)/corpus" ]; then echo "corpus layer: $(SHARED)/corpus"; \
	  else echo "corpus layer skipped: $(SHARED)/corpus is absent (SHARED=DIR to run it)"; fi; \
	  export PT_CORPUS_NOTED=1 PT_SHARED="$(SHARED)"

unit: $(UNIT_BIN) tools
	@set -e; $(CORPUS_NOTE); for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

valgrind: $(UNIT_BIN) tools
	@set -e; $(CORPUS_NOTE); for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    $$t >$(BUILD)/valgrind.log 2>&1 || { cat $(BUILD)/valgrind.log; exit 1; }; done; \
	  echo "valgrind: no errors, no leaks"

integration: all tools install
	tests/integration/run.sh

# pve_pci_mapping's concurrency test (16 nodes write one mapping at once), 20 runs
# in a row; prints the retries each run needed.
STRESS_RUNS ?= 20
stress: all tools
	tests/integration/stress/concurrency.sh $(STRESS_RUNS)

# The snapshot test (an integration target) writing its snapshots instead of
# comparing them: every module's result on every fixture host, as printed.
snapshots-update: all tools
	SNAPSHOT_UPDATE=1 tests/integration/run.sh snapshots

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) valgrind
	$(MAKE) integration
	$(MAKE) sanity
	if [ "$(ASAN)" != 0 ]; then $(MAKE) asan ASAN_TARGETS="$(ASAN_TEST_TARGETS)"; fi
	$(MAKE) fuzz-smoke
	$(MAKE) lint

# --- use --------------------------------------------------------------------
# The tarball a user installs with `ansible-galaxy collection install` on a
# controller without a compiler: the built modules and their docs, the role, the
# playbooks, the sources (build_ignore in galaxy.yml keeps build outputs and test
# scratch out; of tests/ only tests/sanity, ansible-test's ignore files, ships).
dist: all
	@rm -f $(TARBALL)
	$(call msg,BUILD,$(TARBALL))
	$(Q)ansible-galaxy collection build --force . $(QUIET_OUT)

install: dist
	$(call msg,INSTALL,$(TARBALL))
	$(Q)ansible-galaxy collection install --force $(TARBALL) $(QUIET_OUT)

# ansible-test sanity on the tarball's tree, every test that needs no download
# (tests/tools/sanity.sh says which it leaves out and why).
sanity: dist
	tests/tools/sanity.sh $(TARBALL)

# The integration tests (role targets included), ansible-lint, yamllint, the
# argspec vectors and ansible-test sanity again under Debian 13's ansible-core,
# in a Debian 13 root (tests/matrix/build-root.sh, cached) entered with chroot,
# against the modules built here.
test-matrix: deps
	@$(MAKE) --no-print-directory deps DEPS_PKGS=debootstrap
	$(MAKE) dist tools
	tests/matrix/run.sh

run: deps
	$(Q)$(MAKE) install tools
	$(Q)tests/run-example.sh

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

bench: deps
	$(MAKE) all tools
	bench/run.sh

# Not part of make test: a benchmark, several minutes (bench/README.md).
bench-ssh: deps
	$(MAKE) install tools
	bench/ssh.sh

# --- sanitizers (make asan) -------------------------------------------------
# The unit tests and every module built with AddressSanitizer (LeakSanitizer
# included) and UndefinedBehaviorSanitizer in their own tree, build/asan (objects,
# library, tests, unstripped modules; build/ and plugins/modules/ stay as they
# are), then run by tests/asan/run.sh: every unit test, a canary module proving
# that a report made inside a module run by Ansible is seen, and the integration
# suite against a second copy of the collection holding the sanitized modules,
# installed into build/asan/collections (ANSIBLE_COLLECTIONS_PATH, for that run
# only; ~/.ansible stays as `make install` left it), and PT_MODULES_DIR=
# build/asan/bin for the tests that start the binaries themselves. Any sanitizer
# report fails the run. ASAN_TARGETS=NAME... limits the integration part.
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
ASAN_DIR   := $(BUILD)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# clang, not gcc: a gcc binary carries ASan and UBSan as two runtimes, and UBSan's
# then ignores UBSAN_OPTIONS=log_path and reports on stderr only, where a module's
# report would be lost inside Ansible's result. clang's ASan runtime hosts UBSan and
# both write their reports to files (runtime: libclang-rt-dev). Symbols come from
# llvm-symbolizer (llvm). Sources a test includes are tracked by -MMD.
ASAN_CC    ?= clang
DEPS_PKGS  += clang libclang-rt-dev llvm
# Warnings are the normal build's gate (gcc, -Werror); here they stay warnings.
ASAN_CFLAGS = $(CSTD) $(filter-out -Werror,$(WARN)) -O1 -g $(ASAN_FLAGS) -Imodule_utils -I$(GEN) \
              $(EXTRA_CFLAGS)
ASAN_OBJS  := $(UTIL_SRC:%.c=$(ASAN_DIR)/obj/%.o)
ASAN_LIBPT := $(ASAN_DIR)/libpt.a
ASAN_BINS  := $(MODULES:%=$(ASAN_DIR)/bin/%) $(ASAN_DIR)/bin/asan_canary $(ASAN_DIR)/bin/mkroot
ASAN_UNIT  := $(UNIT_SRC:tests/unit/%.c=$(ASAN_DIR)/tests/%)

.PHONY: asan asan-build
asan: all tools asan-build
	tests/asan/run.sh $(ASAN_TARGETS)

asan-build: $(ASAN_BINS) $(ASAN_UNIT)

$(ASAN_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -MMD -MP -c -o $@ $<

$(MODULES:%=$(ASAN_DIR)/obj/modules/%.o): $(ASAN_DIR)/obj/modules/%.o: modules/%.c $(GEN)/%_argspec.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -MMD -MP -c -o $@ $<

$(ASAN_LIBPT): $(ASAN_OBJS)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

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

$(ASAN_DIR)/tests/%: tests/unit/%.c $(UNIT_SUPPORT:%.c=$(ASAN_DIR)/obj/%.o) $(ASAN_LIBPT) \
                     $(MODULES:%=$(GEN)/%_argspec.h)
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(ASAN_CC) $(ASAN_CFLAGS) -MMD -MP -DSHARED_DIR=\"$(SHARED)\" -DSOURCE_DIR=\"$(CURDIR)\" \
	  -o $@ $< $(UNIT_SUPPORT:%.c=$(ASAN_DIR)/obj/%.o) $(TEST_OBJS) $(ASAN_LIBPT) $(TEST_LIBS)

$(ASAN_DIR)/tests/test_pve_mapping: TEST_OBJS = $(PVE_CFG:%.c=$(ASAN_DIR)/obj/%.o)
$(ASAN_DIR)/tests/test_pve_mapping: $(PVE_CFG:%.c=$(ASAN_DIR)/obj/%.o)

-include $(shell find $(ASAN_DIR) -name '*.d' -type f 2>/dev/null)

# --- fuzzing (libFuzzer) ----------------------------------------------------
# Every tests/fuzz/fuzz_*.c is a harness for one parser or editor, built with
# clang against the library sources (and the generated argument specs, which
# fuzz_args embeds). tests/fuzz/run.sh runs each for a bounded time and fails
# when one crashes (the input is kept as build/fuzz/NAME-crash-*), printing the
# executions and libFuzzer's final coverage (cov:, ft:). Seeds: the corpus it
# grew before (build/fuzz/corpus/NAME, where new inputs go), the hand-written
# tests/fuzz/corpus/NAME, and the folders tests/fuzz/NAME.seeds lists, read-only
# and in place — relative to the repository when they start with ./ (e.g.
# ./tests/fixtures/files), else to SHARED (e.g. corpus/grub: the optional corpus
# layer, left out in one line when SHARED/corpus is absent). tests/fuzz/NAME.dict is
# the harness's libFuzzer dictionary (the words of its format), when present.
#   make fuzz         every harness for FUZZ_SECONDS (FUZZ=NAME... picks some)
#   make fuzz-smoke   every harness for FUZZ_SMOKE_SECONDS from its seeds only
#                     (a fresh corpus each time), as make test runs it
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
# libFuzzer (and the sanitizer runtimes) ship in libclang-rt-dev, which clang
# only recommends: make deps installs no recommends.
DEPS_PKGS += clang libclang-rt-dev
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ ?= $(notdir $(FUZZ_BIN))
FUZZ_SAN := address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Imodule_utils -I$(GEN)
# The library once, instrumented for coverage (fuzzer-no-link); each harness links it.
FUZZ_OBJ := $(UTIL_SRC:%.c=$(BUILD)/fuzz/obj/%.o)

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c -o $@ $<

$(FUZZ_BIN): $(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJ) \
             $(MODULES:%=$(GEN)/%_argspec.h)
	$(call msg,CCLD,$@)
	$(Q)clang $(FUZZ_FLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -MMD -MP -DSOURCE_DIR=\"$(CURDIR)\" -o $@ $< \
	  $(TEST_OBJS) $(FUZZ_OBJ) -ljansson -lpci

$(BUILD)/fuzz/fuzz_pci_cfg: TEST_OBJS = $(PVE_CFG:%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/fuzz_pci_cfg: $(PVE_CFG:%.c=$(BUILD)/fuzz/obj/%.o)

fuzz: $(FUZZ:%=$(BUILD)/fuzz/%)
	SHARED=$(SHARED) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ)

fuzz-smoke: $(FUZZ_BIN)
	SHARED=$(SHARED) tests/fuzz/run.sh --smoke $(FUZZ_SMOKE_SECONDS) $(notdir $(FUZZ_BIN))

# --- lint (make lint) ---------------------------------------------------------
# Every checker over everything it applies to, zero findings allowed:
#   clang-format  the repository's .clang-format, C sources and headers;
#   cppcheck      warning, performance and portability checks (tests/lint/cppcheck.cfg
#                 teaches it jansson's macros and cmocka's noreturn calls; false
#                 positives are suppressed inline, each with its reason);
#   clang-tidy    the check set in .clang-tidy (which says why each left-out check is
#                 left out), LINT_JOBS files at a time;
#   yamllint and ansible-lint (production profile) on the Ansible content: the role,
#                 the playbooks and the inventory. ansible-lint resolves the role's
#                 modules through the installed collection (hence install), and is
#                 given the role on its own: 6.13 skips a role's task files when given
#                 several paths.
# lint-format, lint-cppcheck, lint-tidy and lint-ansible run one checker each.
DEPS_PKGS += clang-format clang-tidy cppcheck
LINT_C    := $(wildcard module_utils/*.c modules/*.c tools/*.c tests/unit/*.c tests/unit/support/*.c \
                        tests/tools/*.c tests/tools/support/*.c tests/fuzz/*.c)
LINT_H    := $(wildcard module_utils/*.h tests/unit/*.h tests/unit/support/*.h tests/tools/*.h \
                        tests/tools/support/*.h tests/fuzz/*.h)
LINT_DEFS := -D_GNU_SOURCE -Imodule_utils -I$(GEN) -DSHARED_DIR=\"$(SHARED)\" -DSOURCE_DIR=\"$(CURDIR)\"
LINT_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Extra clang-tidy arguments, e.g. LINT_TIDY_ARGS='--checks=clang-analyzer-*' for the
# (slow) static analyzer, which .clang-tidy leaves out of make lint.
LINT_TIDY_ARGS ?=
LINT_SPECS := $(MODULES:%=$(GEN)/%_argspec.h)

.PHONY: lint-format lint-cppcheck lint-tidy lint-ansible
lint: lint-format lint-cppcheck lint-tidy lint-ansible
	@echo "make lint: no findings"

lint-format:
	@echo "clang-format --dry-run --Werror (C sources and headers)"
	@clang-format --dry-run --Werror $(LINT_C) $(LINT_H)

lint-cppcheck: $(LINT_SPECS)
	@echo "cppcheck (tests/lint/cppcheck.cfg, tests/lint/cppcheck.supp)"
	@cppcheck -q -j$(LINT_JOBS) --error-exitcode=1 --inline-suppr --std=c11 \
	  --enable=warning,performance,portability --library=posix \
	  --library=tests/lint/cppcheck.cfg --suppressions-list=tests/lint/cppcheck.supp \
	  $(LINT_DEFS) $(LINT_C)

lint-tidy: $(LINT_SPECS)
	@echo "clang-tidy (.clang-tidy), $(LINT_JOBS) at a time"
	@printf '%s\n' $(LINT_C) | xargs -P$(LINT_JOBS) -n4 \
	  bash -c 'set -o pipefail; clang-tidy -quiet $(LINT_TIDY_ARGS) "$$@" -- $(CSTD) $(LINT_DEFS) 2>&1 \
	    | { grep -v "^[0-9]* warnings\? generated\.$$" || true; }' clang-tidy
	@echo "clang-tidy: no findings"

lint-ansible: install
	yamllint -s -c .yamllint roles/gpu_passthrough playbooks inventory .yamllint .ansible-lint
	ansible-lint --nocolor -q --profile production roles/gpu_passthrough
	ansible-lint --nocolor -q --profile production playbooks inventory

clean:
	rm -rf $(BUILD) $(BINS) $(DOCS) homelab-passthrough-*.tar.gz

-include $(shell find $(OBJ) $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null) $(wildcard $(BUILD)/fuzz/*.d) $(wildcard $(BUILD)/tests/*.d)
