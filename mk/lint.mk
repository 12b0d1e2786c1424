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
                        tests/common/*.c tests/tools/*.c tests/tools/support/*.c tests/fuzz/*.c)
LINT_H    := $(wildcard module_utils/*.h tests/unit/*.h tests/unit/support/*.h tests/common/*.h \
                        tests/tools/*.h tests/tools/support/*.h tests/fuzz/*.h)
LINT_DEFS := -D_GNU_SOURCE -Imodule_utils -I$(GEN) -DSHARED_DIR=\"$(SHARED)\" -DSOURCE_DIR=\"$(CURDIR)\"
LINT_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Extra clang-tidy arguments, e.g. LINT_TIDY_ARGS='--checks=clang-analyzer-*' for the
# (slow) static analyzer, which .clang-tidy leaves out of make lint.
LINT_TIDY_ARGS ?=
LINT_SPECS := $(SPECS)

.PHONY: lint lint-format lint-cppcheck lint-tidy lint-ansible
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
