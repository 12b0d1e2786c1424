# --- fuzzing (libFuzzer) ----------------------------------------------------
# Every tests/fuzz/fuzz_*.c is a harness for one parser or editor, built with
# clang against the library's fuzz flavour (mk/lib.mk) and the generated argument
# specs, which fuzz_args embeds. tests/fuzz/run.sh runs each for a bounded time
# and fails when one crashes (the input is kept as build/fuzz/NAME-crash-*),
# printing the executions and libFuzzer's final coverage (cov:, ft:). Seeds: the
# corpus it grew before (build/fuzz/corpus/NAME, where new inputs go), the
# hand-written tests/fuzz/corpus/NAME, and the folders tests/fuzz/NAME.seeds
# lists, read-only and in place — relative to the repository when they start
# with ./ (e.g. ./tests/fixtures/files), else to SHARED (e.g. corpus/grub: the
# optional corpus layer, left out in one line when SHARED/corpus is absent).
# tests/fuzz/NAME.dict is the harness's libFuzzer dictionary (the words of its
# format), when present.
#   make fuzz         every harness for FUZZ_SECONDS (FUZZ=NAME... picks some)
#   make fuzz-smoke   every harness for FUZZ_SMOKE_SECONDS from its seeds only
#                     (a fresh corpus each time), as make test runs it
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ ?= $(notdir $(FUZZ_BIN))
# The oracles the harnesses share with the unit tests (tests/common/), instrumented too.
FUZZ_COMMON := $(COMMON_SRC:%.c=$(BUILD)/fuzz/obj/%.o)

.PHONY: fuzz fuzz-smoke

$(FUZZ_BIN): $(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h tests/common/*.h) $(FUZZ_OBJ) \
             $(FUZZ_COMMON) $(SPECS)
	$(call msg,CCLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -MMD -MP -DSOURCE_DIR=\"$(CURDIR)\" -o $@ $< \
	  $(TEST_OBJS) $(FUZZ_OBJ) $(FUZZ_COMMON) -ljansson -lpci

$(BUILD)/fuzz/fuzz_pci_cfg: TEST_OBJS = $(PVE_CFG:%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/fuzz_pci_cfg: $(PVE_CFG:%.c=$(BUILD)/fuzz/obj/%.o)

fuzz: $(FUZZ:%=$(BUILD)/fuzz/%)
	SHARED=$(SHARED) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ)

fuzz-smoke: $(FUZZ_BIN)
	SHARED=$(SHARED) tests/fuzz/run.sh --smoke $(FUZZ_SMOKE_SECONDS) $(notdir $(FUZZ_BIN))

-include $(wildcard $(BUILD)/fuzz/*.d)
