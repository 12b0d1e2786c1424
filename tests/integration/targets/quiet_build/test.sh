#!/usr/bin/env bash
# The build's output: quiet by default, one line per step ("  CC      FILE.o"),
# every command in full with V=1, as kernel-style Makefiles do. One object is
# built each way into a scratch build directory under $PT_WORK (BUILD=...), so
# the checkout's build/ is left as it is.
source "$PT_REPO/tests/integration/lib.sh"

# build NAME [make options]: module_utils/cmdline.o into $PT_WORK/NAME; make's
# output in $PT_WORK/NAME.out.
build() {
	local name=$1; shift
	make -C "$PT_REPO" --no-print-directory "$@" BUILD="$PT_WORK/$name" \
		"$PT_WORK/$name/obj/module_utils/cmdline.o" >"$PT_WORK/$name.out" 2>&1 ||
		{ cat "$PT_WORK/$name.out"; fail "make ($name)"; }
	cat "$PT_WORK/$name.out"
}

note "quiet: one line, the step and the file"
build quiet
assert_eq "$(cat "$PT_WORK/quiet.out")" "  CC      module_utils/cmdline.o" "the quiet build's output"

note "V=1: the compiler's whole command line"
build verbose V=1
assert_eq "$(wc -l <"$PT_WORK/verbose.out")" 1 "V=1: lines"
assert_contains "$PT_WORK/verbose.out" "-Wall -Wextra -Werror"
assert_contains "$PT_WORK/verbose.out" "-c -o $PT_WORK/verbose/obj/module_utils/cmdline.o module_utils/cmdline.c"
[ -s "$PT_WORK/quiet/obj/module_utils/cmdline.o" ] || fail "the quiet build made no object"
echo "PASS quiet_build"
