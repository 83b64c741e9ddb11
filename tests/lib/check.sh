# tests/lib/check.sh: the harness every test script shares: results, the skip policy, the work
# dir and what the EXIT trap cleans up. Needs bash and coreutils only (no Squid, no root), so the
# offline tests (tests/offline/) use it alone; tests/e2e/lib.sh builds the Squid tests on it.
#
#     #!/bin/bash
#     . "$(dirname "$0")/../lib/check.sh"
#     e2e_workdir t00-seed                # E2E_NAME, clock, E2E_DIR, EXIT trap
#     e2e_require sqlite3                 # missing: skip or fail (the skip policy below)
#     e2e_expect "16 rules" 16 "$(...)"   # prints "ok N - ..." or "not ok N - ..."
#     e2e_finish                          # summary, exit 0 (pass) or 1 (fail)
#
# Environment (make check sets the first three; standalone runs derive them):
#   PS_SRCDIR             source tree (default: two levels above this file)
#   PS_BUILDDIR           build tree (default: PS_SRCDIR)
#   PS_SQLDIR             the SQL pinsplice db init loads (default: $PS_SRCDIR/sql)
#   PS_HELPER             helper binary to run (default: $PS_BUILDDIR/helper/ext_pinsplice_acl)
#   PS_KEEP=1             keep the work dir (logs, configs, DB) after the test
#   PS_VERBOSE=1          print every command's details (curl -v output etc.) as it runs
#   PINSPLICE_ALLOW_SKIP=1  exit 77 (skip) when a required program or component is missing;
#                         without it a missing component is a FAILURE (CI must not skip)
#
# Functions:
#   messages     e2e_log MSG, e2e_vlog MSG (only with PS_VERBOSE=1)
#   skip policy  e2e_missing MSG, e2e_require CMD...
#   checks       e2e_expect / e2e_expect_match / e2e_expect_not WHAT EXPECTED ACTUAL,
#                e2e_pass / e2e_fail WHAT
#   exit         e2e_die MSG, e2e_finish
#   work dir     e2e_workdir NAME [PARENT], e2e_bg PID (stopped by the trap), e2e_kill PID [SIG],
#                e2e_cleanup (the EXIT trap)
#   waiting      e2e_wait_for SECS CMD..., e2e_poll SECS FUNC ARGS... (-> E2E_POLL_TOOK),
#                e2e_now_ms
#
# Hooks (lists of function names a library adds to; each runs with no arguments):
#   E2E_ON_EXIT           first thing the EXIT trap runs (lib.sh: stop Squid)
#   E2E_ON_FINISH         checks e2e_finish runs before it counts (lib.sh: cache.log is clean)
#   E2E_ON_FAIL           what to print when the test fails or dies (lib.sh: the last log lines)

[ -n "${E2E_CHECK_LOADED:-}" ] && return 0
E2E_CHECK_LOADED=1
set -u

: "${PS_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PS_BUILDDIR:=$PS_SRCDIR}"
: "${PS_SQLDIR:=$PS_SRCDIR/sql}"
: "${PS_HELPER:=$PS_BUILDDIR/helper/ext_pinsplice_acl}"
: "${PS_KEEP:=0}"
: "${PS_VERBOSE:=0}"
: "${PINSPLICE_ALLOW_SKIP:=0}"
PATH=$PATH:/usr/sbin:/sbin

E2E_NAME=${E2E_NAME:-$(basename "$0" .sh)}
E2E_PIDS=""            # every background process a test started (killed by the trap)
E2E_FAILS=0
E2E_CHECKS=0
E2E_ON_EXIT=""
E2E_ON_FINISH=""
E2E_ON_FAIL=""

# ---- messages, the skip policy -------------------------------------------------------------------

e2e_log() { printf '# %s\n' "$*"; }
e2e_vlog() { if [ "$PS_VERBOSE" = 1 ]; then printf '#   %s\n' "$*"; fi; }

# e2e_missing MSG: a missing requirement: skip (77) only when the caller allowed it, else fail
# loudly. The one place that decides between the two.
e2e_missing() {
    if [ "$PINSPLICE_ALLOW_SKIP" = 1 ]; then
        echo "SKIP: $*  (PINSPLICE_ALLOW_SKIP=1)"
        exit 77
    fi
    echo "FAIL: $*  (set PINSPLICE_ALLOW_SKIP=1 to skip instead)" >&2
    exit 1
}

# e2e_require CMD...: each must be on PATH (or an executable path).
e2e_require() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || e2e_missing "required program '$c' not found"
    done
}

# ---- expectations --------------------------------------------------------------------------------

e2e_pass() { E2E_CHECKS=$((E2E_CHECKS + 1)); echo "ok $E2E_CHECKS - $*"; }
e2e_fail() {
    E2E_CHECKS=$((E2E_CHECKS + 1))
    E2E_FAILS=$((E2E_FAILS + 1))
    echo "not ok $E2E_CHECKS - $*"
}

# e2e_expect WHAT EXPECTED ACTUAL: equality.
e2e_expect() {
    if [ "$2" = "$3" ]; then e2e_pass "$1 ($3)"; else e2e_fail "$1: expected '$2', got '$3'"; fi
}
# e2e_expect_match WHAT ERE ACTUAL: extended regular expression match.
e2e_expect_match() {
    local m
    if m=$(printf '%s' "$3" | grep -Eo -- "$2" | head -n 1) && [ -n "$m" ]; then e2e_pass "$1 ($m)"
    else e2e_fail "$1: expected /$2/, got '$3'"; fi
}
# e2e_expect_not WHAT UNEXPECTED ACTUAL
e2e_expect_not() {
    if [ "$2" != "$3" ]; then e2e_pass "$1 ($3)"; else e2e_fail "$1: got '$3'"; fi
}

# ---- exit ----------------------------------------------------------------------------------------

# e2e_hooks LIST: run each function named in LIST.
e2e_hooks() {
    local f
    for f in $1; do "$f"; done
}

# e2e_die MSG: stop now: an error that makes the rest of the test meaningless.
e2e_die() {
    echo "FAIL: $*" >&2
    E2E_FAILS=$((E2E_FAILS + 1))
    e2e_hooks "$E2E_ON_FAIL"
    exit 1
}

# e2e_finish: print the summary and exit 0 when every expectation held.
e2e_finish() {
    e2e_hooks "$E2E_ON_FINISH"
    if [ "$E2E_CHECKS" -eq 0 ]; then
        echo "FAIL: $E2E_NAME checked nothing"
        exit 1
    fi
    if [ "$E2E_FAILS" -ne 0 ]; then
        echo "FAIL: $E2E_NAME: $E2E_FAILS of $E2E_CHECKS checks failed"
        e2e_hooks "$E2E_ON_FAIL"
        exit 1
    fi
    echo "PASS: $E2E_NAME: $E2E_CHECKS checks ($SECONDS s)"
    exit 0
}

# ---- work dir, background processes, cleanup ----------------------------------------------------

# e2e_workdir NAME [PARENT]: name the test, start its clock, make its work dir E2E_DIR in PARENT
# (default /tmp: the users a test runs things as, proxy or nobody, can reach it) and install the
# trap that cleans up on exit.
e2e_workdir() {
    E2E_NAME=$1
    SECONDS=0
    E2E_DIR=$(mktemp -d "${2:-/tmp}/pinsplice-$E2E_NAME.XXXXXX") || e2e_die "mktemp failed"
    trap e2e_cleanup EXIT
    trap 'exit 1' INT TERM HUP
}

# e2e_bg PID: register a background process for the trap.
e2e_bg() { E2E_PIDS="$E2E_PIDS $1"; }

# e2e_kill PID [SIGNAL]: stop one process (SIGNAL, default TERM; KILL after 5 s) and reap it if
# it is our child.
e2e_kill() {
    local pid=$1 sig=${2:-TERM} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -"$sig" "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# e2e_cleanup: the EXIT trap: the E2E_ON_EXIT hooks, every process of e2e_bg, the work dir (kept
# with PS_KEEP=1); exits with the status the test exited with.
e2e_cleanup() {
    local rc=$? pid
    trap - EXIT
    e2e_hooks "$E2E_ON_EXIT"
    for pid in $E2E_PIDS; do e2e_kill "$pid"; done
    if [ -n "${E2E_DIR:-}" ] && [ -d "$E2E_DIR" ]; then
        if [ "$PS_KEEP" = 1 ]; then
            echo "# kept work dir $E2E_DIR"
        else
            rm -rf "$E2E_DIR"
        fi
    fi
    exit "$rc"
}

# ---- waiting -------------------------------------------------------------------------------------

# e2e_wait_for SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds; 1 on timeout.
e2e_wait_for() {
    local limit=$1 end
    shift
    end=$((SECONDS + limit))
    while :; do
        "$@" && return 0
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# e2e_now_ms: milliseconds since the epoch.
e2e_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# e2e_poll SECONDS FUNCTION ARGS...: call FUNCTION (which must return 0 when the wanted state is
# reached) every 0.3 s until it does or SECONDS passed. Sets E2E_POLL_TOOK to the time it took
# ("1.234s"). 1 on timeout.
e2e_poll() {
    local limit=$1 t0 now rc=1
    shift
    t0=$(e2e_now_ms)
    while :; do
        if "$@"; then rc=0; break; fi
        now=$(e2e_now_ms)
        [ $((now - t0)) -ge $((limit * 1000)) ] && break
        sleep 0.3
    done
    now=$(($(e2e_now_ms) - t0))
    E2E_POLL_TOOK=$(printf '%d.%03ds' $((now / 1000)) $((now % 1000)))
    return $rc
}
