# The library (module_utils/*.c) and the modules' objects, in three flavours
# built by one set of rules (pt_library below), each in its own tree:
#
#   flavour  tree          compiler    flags             used by
#   plain    build/        $(CC)       $(ALL_CFLAGS)     the modules that ship, unit tests, tools
#   asan     build/asan/   $(ASAN_CC)  $(ASAN_CFLAGS)    make asan (mk/tests.mk)
#   fuzz     build/fuzz/   $(FUZZ_CC)  $(FUZZ_LIB_CFLAGS) the libFuzzer harnesses (mk/fuzz.mk)
#
# A flavour's objects are TREE/obj/<source path>.o and its archive TREE/libpt.a.

# --- asan: AddressSanitizer (LeakSanitizer included) and UBSan -------------
ASAN_DIR   := $(BUILD)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# clang, not gcc: a gcc binary carries ASan and UBSan as two runtimes, and UBSan's
# then ignores UBSAN_OPTIONS=log_path and reports on stderr only, where a module's
# report would be lost inside Ansible's result. clang's ASan runtime hosts UBSan and
# both write their reports to files (runtime: libclang-rt-dev). Symbols come from
# llvm-symbolizer (llvm). Sources a test includes are tracked by -MMD.
ASAN_CC    ?= clang
# Warnings are the normal build's gate (gcc, -Werror); here they stay warnings.
ASAN_CFLAGS = $(CSTD) $(filter-out -Werror,$(WARN)) -O1 -g $(ASAN_FLAGS) -Imodule_utils -I$(GEN) \
              $(EXTRA_CFLAGS)
ASAN_OBJS  := $(UTIL_SRC:%.c=$(ASAN_DIR)/obj/%.o)
ASAN_LIBPT := $(ASAN_DIR)/libpt.a

# --- fuzz: instrumented for libFuzzer's coverage (fuzzer-no-link) ----------
FUZZ_CC    := clang
FUZZ_SAN   := address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Imodule_utils -I$(GEN)
FUZZ_LIB_CFLAGS = $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN)
# Each harness links every object of the library (no archive).
FUZZ_OBJ   := $(UTIL_SRC:%.c=$(BUILD)/fuzz/obj/%.o)

# clang for both flavours; libclang-rt-dev holds the sanitizer runtimes and
# libFuzzer, which clang only recommends (make deps installs no recommends);
# llvm: llvm-symbolizer.
DEPS_PKGS  += clang libclang-rt-dev llvm

# $(call pt_library,TREE,CC,CFLAGS,SHOWN)
#   TREE    the flavour's tree (objects in TREE/obj, the archive TREE/libpt.a)
#   CC      the name of the variable holding its compiler
#   CFLAGS  the name of the variable holding its compile flags
#   SHOWN   what the quiet output leaves out of an object's path (the plain
#           flavour's objects show as module_utils/files.o, the others in full)
# The variables are read when a recipe runs, so command-line settings apply.
define pt_library
$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$(@:$(4)%=%))
	$$(Q)$$($(2)) $$($(3)) -MMD -MP -c -o $$@ $$<

# Modules include their generated spec header. A static pattern rule, so that
# make never picks the generic rule above while the header is still missing.
$$(MODULES:%=$(1)/obj/modules/%.o): $(1)/obj/modules/%.o: modules/%.c $$(GEN)/%_argspec.h
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$(@:$(4)%=%))
	$$(Q)$$($(2)) $$($(3)) -MMD -MP -c -o $$@ $$<

$(1)/libpt.a: $$(UTIL_SRC:%.c=$(1)/obj/%.o)
	@rm -f $$@
	$$(call msg,AR,$$@)
	$$(Q)ar rcs $$@ $$^

-include $$(shell find $(1)/obj -name '*.d' -type f 2>/dev/null)
endef

$(eval $(call pt_library,$(BUILD),CC,ALL_CFLAGS,$(OBJ)/))
$(eval $(call pt_library,$(ASAN_DIR),ASAN_CC,ASAN_CFLAGS,))
$(eval $(call pt_library,$(BUILD)/fuzz,FUZZ_CC,FUZZ_LIB_CFLAGS,))
