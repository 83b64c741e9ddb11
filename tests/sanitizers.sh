#!/bin/bash
# tests/sanitizers.sh: the sanitizer pass of `make check` (issue 12, "Sanitizers in CI").
# Builds the tree once more, aside, with clang and -fsanitize=address,undefined (configure
# --enable-asan --enable-ubsan --enable-fuzz), then in that build:
#   1. runs every unit test;
#   2. runs end-to-end tests that drive the helper (on stdin and under real Squid) and the c-icap
#      module (in real c-icap, from Squid): SAN_E2E below;
#   3. runs each libFuzzer target for SAN_FUZZ_TIME seconds over its committed seeds.
# Every sanitized process (unit tests, the helper Squid starts as proxy, c-icap with the module,
# the pinsplice command) writes its reports to one directory (log_path) and stops at the first
# one (halt_on_error); any report there, any failed test or any fuzz finding fails this test.
#
# Environment: PS_SRCDIR, PS_BUILDDIR (make check sets them); PS_SAN_BUILDDIR (default
# $PS_BUILDDIR/san: kept, so a second run only rebuilds what changed); SAN_E2E (test names),
# SAN_FUZZ_TIME (seconds per target, default 8); PINSPLICE_ALLOW_SKIP=1 turns a missing clang
# into a skip (CI must not skip).
set -u
# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/lib/check.sh"
san=${PS_SAN_BUILDDIR:-$PS_BUILDDIR/san}
: "${SAN_E2E:=t02-helper-protocol t11-splice-pinned t14-hot-reload t19-malformed-fields t30-icap-service t32-icap-both}"
: "${SAN_FUZZ_TIME:=8}"
SECONDS=0
step() { echo "# [$SECONDS s] $*"; }

command -v clang >/dev/null 2>&1 || e2e_missing "clang not found (install clang libclang-rt-dev)"
# The nested build is its own make, not a job of the make that runs this test.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

# ---- build -------------------------------------------------------------------------------------
step "building $san (clang, ASan + UBSan, fuzz targets)"
mkdir -p "$san"
cd "$san" || exit 1
if [ ! -f Makefile ]; then
    CC=clang "$PS_SRCDIR/configure" --quiet --enable-asan --enable-ubsan --enable-fuzz \
        >configure.log 2>&1 || { tail -n 30 configure.log; echo "FAIL: configure"; exit 1; }
fi
# One goal per make: "all" runs a sub-make, so "make all fuzz" would build the library twice at
# once and race.
if ! nice -n 5 make -j2 --no-print-directory all >build.log 2>&1 ||
    ! nice -n 5 make -j2 --no-print-directory fuzz >>build.log 2>&1 ||
    ! nice -n 5 make -j2 --no-print-directory check TESTS= >>build.log 2>&1; then
    grep -E 'error|Error' build.log | head -n 30
    echo "FAIL: the sanitized build failed (see $san/build.log)"
    exit 1
fi
nm helper/ext_pinsplice_acl | grep -q __asan_init && nm helper/ext_pinsplice_acl | grep -q __ubsan_handle ||
    { echo "FAIL: helper/ext_pinsplice_acl is not instrumented"; exit 1; }
e2e_pass "sanitized build ($SECONDS s)"

# ---- where every report goes -------------------------------------------------------------------
# The helper runs as proxy under Squid: the directory is world-writable (sticky), in /tmp.
reports=$(mktemp -d /tmp/pinsplice-san.XXXXXX) || exit 1
chmod 1777 "$reports"
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
# c-icap itself is not instrumented: the module gets the runtime preloaded, and c-icap's own
# allocations at exit are not ours to judge (no leak check there).
# Its name depends on the runtime layout (clang 14: ...-x86_64.so; per-target dirs: without).
rtdir=$(clang -print-runtime-dir)
asan_rt=""
# clang 19 (Debian 13) names the per-target dir but ships the old layout (lib/linux)
for f in "$rtdir/libclang_rt.asan-x86_64.so" "$rtdir/libclang_rt.asan.so" \
    "$(clang -print-file-name=libclang_rt.asan-x86_64.so)" "$(dirname "$rtdir")/linux/libclang_rt.asan-x86_64.so"; do
    [ -f "$f" ] && { asan_rt=$f; break; }
done
[ -n "$asan_rt" ] || { echo "FAIL: no ASan runtime (.so) in $rtdir (libclang-rt-dev)"; exit 1; }
export ICAP_WRAPPER="env LD_PRELOAD=$asan_rt ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=0:log_path=$reports/asan-icap"

reports_check() {
    local f found=""
    for f in "$reports"/*; do
        [ -e "$f" ] || continue
        found=1
        echo "---- $f"
        head -n 40 "$f"
    done
    if [ -n "$found" ]; then e2e_fail "$1: sanitizer reports (above)"; else e2e_pass "$1: no sanitizer report"; fi
    rm -f "$reports"/*
}

# ---- 1. unit tests -----------------------------------------------------------------------------
step "unit tests"
units=$(cd "$san" && for t in tests/unit/test_*; do [ -x "$t" ] && [ ! -d "$t" ] && echo "$t"; done)
if nice -n 5 make -j2 --no-print-directory check TESTS="$(echo $units)" >unit.log 2>&1; then
    e2e_pass "unit tests: $(sed -n 's/^# PASS: *//p' test-suite.log) passed"
else
    e2e_fail "unit tests (see $san/test-suite.log)"
    grep -E '^(FAIL|ERROR)' unit.log | head
fi
reports_check "unit tests"

# ---- 2. end-to-end tests with the sanitized helper and module ------------------------------------
# san_test NAME: the test's path without .sh, relative to the top (tests/e2e/ or tests/offline/).
san_test() {
    local d
    for d in e2e offline; do
        [ -e "$PS_SRCDIR/tests/$d/$1.sh" ] && { echo "tests/$d/$1"; return; }
    done
    echo "tests/e2e/$1"
}
e2e=""
for t in $SAN_E2E; do e2e="$e2e $(san_test "$t").sh"; done
step "end-to-end:$e2e"
if make --no-print-directory check TESTS="$e2e" >e2e.log 2>&1; then
    e2e_pass "end-to-end tests under the sanitizers: $(sed -n 's/^# PASS: *//p' test-suite.log) passed"
else
    e2e_fail "end-to-end tests under the sanitizers (see $san/test-suite.log)"
    grep -E '^(FAIL|ERROR)' e2e.log | head
    for t in $SAN_E2E; do
        t=$(san_test "$t")
        grep -q '^:test-result: PASS' "$t.trs" 2>/dev/null || tail -n 30 "$t.log"
    done
fi
reports_check "end-to-end tests"

# ---- 3. fuzz smoke -----------------------------------------------------------------------------
step "fuzz targets, $SAN_FUZZ_TIME s each"
unset ASAN_OPTIONS UBSAN_OPTIONS
if bash "$PS_SRCDIR/fuzz/run.sh" "$san" "$PS_SRCDIR" "$SAN_FUZZ_TIME"; then
    e2e_pass "fuzz targets: no finding"
else
    e2e_fail "fuzz targets: a finding (kept in $san/fuzz/findings)"
fi

e2e_finish
