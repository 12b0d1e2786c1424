# Settings every part reads: the compiler and its flags for what ships, the
# libraries, the quiet output, the layout of build/. Included first.

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
# Helpers the unit tests share (temporary trees, sandbox roots: tests/unit/support/), and
# the oracles they share with the fuzz harnesses (tests/common/), linked into each.
COMMON_SRC := $(wildcard tests/common/*.c)
UNIT_SUPPORT := $(wildcard tests/unit/support/*.c) $(COMMON_SRC)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
# pci.cfg read and written as a file is test code (the module goes through pvesh):
# the programs that use it link it, each in its build's flavour (TEST_OBJS, set
# per target in mk/tests.mk and mk/fuzz.mk).
PVE_CFG  := tests/tools/support/pve_cfg.c
GENERATOR := $(BUILD)/tools/argspec_gen
# Every module's generated argument spec (modules, unit tests and fuzz_args include them).
SPECS    := $(MODULES:%=$(GEN)/%_argspec.h)

VERSION  := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL  := homelab-passthrough-$(VERSION).tar.gz

# How many compilers, unit tests under valgrind and integration targets (PT_JOBS)
# run at once in make test: one per CPU.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
