# homelab.passthrough — build, test and run the collection.
#
#   make            build every module into plugins/modules/ (stripped binaries + docs)
#   make deps       install the Debian packages the build and tests need (apt-get)
#   make test       deps, build, unit tests, valgrind, integration tests
#   make run        the main job on this machine (facts) and on the bundled example
#   make install    ansible-galaxy collection build + install into ~/.ansible
#   make bench      benchmarks (ratios against the tools people use today)
#   make stress     pve_pci_mapping: 16 nodes writing one mapping at once, 20 runs
#   make lint       clang-format check
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

# Debian packages `make deps` installs when missing.
DEPS_PKGS := gcc make pkg-config libjansson-dev libyaml-dev libpci-dev libcmocka-dev \
             pciutils valgrind ansible-core python3 hyperfine ansible-lint yamllint

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
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
GENERATOR := $(BUILD)/tools/argspec_gen

VERSION  := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL  := homelab-passthrough-$(VERSION).tar.gz

.PHONY: deps-e2e e2e all deps test unit valgrind integration run install bench lint clean tools fuzz stress
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
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	else echo "make deps: all packages present"; fi

# --- the library and the generator ----------------------------------------
$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBPT): $(UTIL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(GENERATOR): tools/argspec_gen.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -o $@ $< $(YAML_A) $(JANSSON_A)

# Each module's argument spec comes from its documentation (one source of truth).
$(GEN)/%_argspec.h: modules/%.yml $(GENERATOR)
	@mkdir -p $(dir $@)
	$(GENERATOR) $< $* > $@.tmp && mv $@.tmp $@

# Modules include their generated spec header. A static pattern rule, so that
# make never picks the generic $(OBJ)/%.o rule while the header is still missing.
$(MODULES:%=$(OBJ)/modules/%.o): $(OBJ)/modules/%.o: modules/%.c $(GEN)/%_argspec.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

plugins/modules/%: $(OBJ)/modules/%.o $(LIBPT)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBPT) $(JANSSON_A) $(PCI_LIBS)
	strip --strip-all --remove-section=.comment $@

plugins/modules/%.yml: modules/%.yml
	cp $< $@

# --- test tools (fixture builder, stubs, fake pvesh) -----------------------
tools: $(TOOL_BIN) $(GENERATOR)

# Stubs and fakes run chrooted inside sandbox roots, so they are static.
$(BUILD)/tools/%: tests/tools/%.c $(LIBPT)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -static -o $@ $< $(LIBPT) $(YAML_A) $(JANSSON_A)

# --- tests ----------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(LIBPT) $(MODULES:%=$(GEN)/%_argspec.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DSHARED_DIR=\"$(SHARED)\" -DSOURCE_DIR=\"$(CURDIR)\" -o $@ $< $(LIBPT) $(TEST_LIBS)
# test_vfio_bind compiles the module's source into itself to call its run function.
$(BUILD)/tests/test_vfio_bind: modules/vfio_bind.c

# Debian's stock /etc/default/grub (grub2-common ships it as the template its
# postinst installs) for the GRUB editor's tests; fetched, never committed.
$(BUILD)/debian/etc-default-grub:
	@mkdir -p $(BUILD)/debian
	cd $(BUILD)/debian && rm -rf pkg grub2-common_*.deb && apt-get download grub2-common \
	  && dpkg-deb -x grub2-common_*.deb pkg
	cp $(BUILD)/debian/pkg/usr/share/grub/default/grub $@

$(BUILD)/tests/test_grub_default: $(BUILD)/debian/etc-default-grub

unit: $(UNIT_BIN) tools
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

valgrind: $(UNIT_BIN) tools
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
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

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) valgrind
	$(MAKE) integration

# --- use --------------------------------------------------------------------
install: all
	rm -f $(TARBALL)
	ansible-galaxy collection build --force .
	ansible-galaxy collection install --force $(TARBALL)

run: deps
	$(MAKE) install tools
	tests/run-example.sh

# End to end: the role against real kernels (Debian 12 guest under QEMU/TCG,
# real GRUB, initramfs-tools and vfio-pci). E2E_PROFILES: intel amd.
E2E_PKGS := debootstrap qemu-system-x86 fdisk e2fsprogs openssh-client
E2E_PROFILES ?= intel amd
deps-e2e:
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(E2E_PKGS)"

e2e: deps deps-e2e
	$(MAKE) install tools
	tests/e2e/run.sh $(E2E_PROFILES)

bench: deps
	$(MAKE) all tools
	bench/run.sh

# --- fuzzing (libFuzzer) ----------------------------------------------------
# Every tests/fuzz/fuzz_*.c is built with clang against the library sources and
# run for FUZZ_SECONDS, seeded from tests/fuzz/corpus/NAME (when present) and
# ../shared/corpus.
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

$(BUILD)/fuzz/%: tests/fuzz/%.c $(UTIL_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -Imodule_utils -I$(GEN) -DSHARED_DIR=\"$(SHARED)\" -o $@ $< $(UTIL_SRC) -ljansson -lpci

fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	  mkdir -p $(BUILD)/fuzz/corpus/$$n; seeds=""; \
	  [ -d tests/fuzz/corpus/$$n ] && seeds="$$seeds tests/fuzz/corpus/$$n"; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz/corpus/$$n $$seeds 2>&1 | tail -n 12; \
	done

lint:
	clang-format --dry-run --Werror module_utils/*.[ch] modules/*.c tools/*.c tests/unit/*.c tests/tools/*.c

clean:
	rm -rf $(BUILD) $(BINS) $(DOCS) homelab-passthrough-*.tar.gz

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
