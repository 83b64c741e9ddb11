# tests/e2e/lib.sh: what pinsplice's end-to-end tests (real Squid, c-icap, curl, openssl) share.
# Source it from bash:
#
#     #!/bin/bash
#     . "$(dirname "$0")/lib.sh"
#     e2e_init t11-splice-pinned          # requirements, work dir, trap
#     e2e_pki                             # proxy CA, origin CA, origin certificate
#     e2e_origin_start                    # TLS origin on 127.0.0.1:$E2E_ORIGIN_PORT
#     e2e_db_create                       # rules DB from $PS_SQLDIR (schema, vendor, defaults)
#     e2e_squid_start                     # Squid with the pinsplice snippet on $E2E_SQUID_PORT
#     e2e_curl --pin www.zoom.us          # -> E2E_RC, E2E_ISSUER, E2E_LPORT
#     e2e_expect "pinned client spliced" 0 "$E2E_RC"
#     e2e_log_connect                     # -> E2E_REC: the CONNECT record of that connection
#     e2e_expect "logged splice" splice "$(e2e_field action)"
#     e2e_finish                          # summary, exit 0 (pass) or 1 (fail)
#
# Everything runs on loopback high ports, in a fresh work dir; every server started is stopped
# by PID from the EXIT trap, and the work dir is removed (kept when PS_KEEP=1, and its path
# printed). Must run as root: Squid drops privileges to user "proxy", so the work dir is group
# proxy and the files Squid or the helper read (DB, CA, hosts file) are readable by proxy.
#
# One file per job; this one sources them all, so a test sources only lib.sh:
#   ../lib/check.sh   results, skip policy (PINSPLICE_ALLOW_SKIP), work dir, cleanup, waiting;
#                     the environment (PS_SRCDIR, PS_BUILDDIR, PS_SQLDIR, PS_HELPER, PS_KEEP,
#                     PS_VERBOSE) is described there
#   lib-pki.sh        CAs, certificates, pins
#   lib-origin.sh     TLS origins (the genuine one, an attacker's)
#   lib-db.sh         the rules DB
#   lib-squid.sh      Squid: its config, start, stop, helpers, cache.log
#   lib-client.sh     clients through Squid (curl, s_client) and the checks built on them
#   lib-log.sh        access.log: fields by name, waiting for a record
#   lib-metrics.sh    Prometheus metrics files and promtool
# This file: e2e_init NAME (requirements, work dir), ports (e2e_free_port, e2e_wait_listen),
# e2e_dump_logs and e2e_check_logs_clean (the hooks check.sh runs on failure and at finish).
# Sourced apart, by the tests that need them: lib-icap.sh (c-icap), lib-latency.sh,
# lib-deb.sh, ../lib/logscan.sh.
#
# Results a test reads (globals, set by the functions):
#   E2E_DIR               work dir            E2E_NAMES        names in the origin certificate
#   E2E_PROXY_CA          proxy CA (PEM)      E2E_ORIGIN_CA    origin CA (PEM)
#   E2E_TRUST             bundle of both CAs (what the test clients trust)
#   E2E_ORIGIN_PIN        sha256//BASE64 of the origin key (curl --pinnedpubkey)
#   E2E_ORIGIN_PORT       port of the first origin (all names resolve to 127.0.0.1)
#   E2E_DB                rules DB the helper reads (may not exist yet: see e2e_db_create)
#   E2E_SQUID_PORT, E2E_SQUID_PID, E2E_SQUID_CONF, E2E_ACCESS_LOG, E2E_CACHE_LOG
#   E2E_RC                exit status of the last client command (curl / openssl s_client)
#   E2E_ISSUER            issuer CN of the certificate the client saw ("" when none)
#   E2E_LPORT             client-side local port of the last curl (its ip:port in access.log)
#   E2E_REC               the access.log record found by e2e_log_connect / e2e_log_wait
#   E2E_FAILS             number of failed expectations so far
#
# Knobs a test may set before e2e_squid_start:
#   E2E_NAMES             (before e2e_pki) names in the origin certificate and the hosts file
#   E2E_HELPER_ARGS       extra helper options appended to the snippet's helper line (--debug...)
#   E2E_SQUID_PRE/_POST   squid.conf lines placed before / after the snippets' includes
#   E2E_TIMEOUT           seconds one client command may take (default 20)
#   E2E_LOG_ALLOW         ERE of the cache.log WARNING/ERROR lines the test provokes on purpose
#
# Functions (each has its contract comment in its file):
#   setup        e2e_init NAME, e2e_require CMD..., e2e_missing MSG (skip policy), e2e_die MSG,
#                e2e_finish, e2e_bg PID (stop it in the trap), e2e_kill PID [SIG]
#   checks       e2e_expect / e2e_expect_match / e2e_expect_not WHAT EXPECTED ACTUAL,
#                e2e_pass / e2e_fail WHAT; composite: e2e_check_spliced, e2e_check_bumped,
#                e2e_check_served, e2e_check_sclient, e2e_check_squid_healthy,
#                e2e_check_helpers_same, e2e_check_logs_clean
#   waiting      e2e_wait_for SECS CMD..., e2e_poll SECS FUNC ARGS... (-> E2E_POLL_TOOK),
#                e2e_wait_listen PID PORT, e2e_free_port, e2e_now_ms
#   TLS          e2e_pki, e2e_ca, e2e_leaf, e2e_pin CERT, e2e_tls_server_start,
#                e2e_origin_start, e2e_attacker_start, e2e_issuer_cn, e2e_issuer_kind
#   rules DB     e2e_db_path, e2e_db_build PATH, e2e_db_create [SQL...], e2e_sql SQL,
#                e2e_rule_for DOMAIN
#   Squid        e2e_snippet OUT, e2e_hosts_file OUT, e2e_squid_conf PORT,
#                e2e_squid_start [LOGFORMAT SNIPPET...], e2e_squid_stop, e2e_squid_alive,
#                e2e_helper_pids, e2e_cachelog_count ERE, e2e_cachelog_wait ERE N SECS
#   clients      e2e_curl [--pin] [--program P] [--fresh] [--connect-to H] NAME,
#                e2e_sclient HOST [SNI|--no-sni], e2e_pinned_rc_is RC [curl opts] NAME
#   logs         e2e_log_cols SNIPPET [LOGFORMAT], e2e_field NAME [REC], e2e_log_mark,
#                e2e_log_since, e2e_log_find COND, e2e_log_wait COND [SECS],
#                e2e_log_connect [LPORT], e2e_urldecode TEXT
#   metrics      e2e_promtool, e2e_metrics_sum 'GLOB' NAME [LABELS]

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/check.sh
. "$E2E_LIB_DIR/../lib/check.sh"
E2E_CERTGEN=${E2E_CERTGEN:-/usr/lib/squid/security_file_certgen}
E2E_TIMEOUT=${E2E_TIMEOUT:-20}   # seconds any single client command may take
E2E_RC=""

for _f in pki origin db squid client log metrics; do
    # shellcheck source=/dev/null
    . "$E2E_LIB_DIR/lib-$_f.sh"
done
unset _f

E2E_ON_EXIT="e2e_squid_stop"
E2E_ON_FINISH="e2e_check_logs_clean"
E2E_ON_FAIL="e2e_dump_logs"

# ---- setup ---------------------------------------------------------------------------------------

# e2e_init NAME: check what every Squid test needs (root, Squid with OpenSSL, its certificate
# generator, the clients), make the work dir (group proxy), install the trap.
e2e_init() {
    E2E_NAME=$1
    [ "$(id -u)" = 0 ] || e2e_missing "$E2E_NAME must run as root (Squid drops to user proxy)"
    e2e_require squid curl openssl sqlite3 ss ps timeout runuser
    getent passwd proxy >/dev/null || e2e_missing "user 'proxy' (Squid's user) does not exist"
    [ -x "$E2E_CERTGEN" ] || e2e_missing "$E2E_CERTGEN not found (package squid-openssl)"
    squid -v 2>/dev/null | grep -q -- '--with-openssl' ||
        e2e_missing "this squid has no OpenSSL (ssl-bump): install squid-openssl"
    e2e_workdir "$E2E_NAME" /tmp
    chgrp proxy "$E2E_DIR" && chmod 0750 "$E2E_DIR"
    e2e_log "$E2E_NAME: work dir $E2E_DIR"
}

# ---- ports ---------------------------------------------------------------------------------------

# e2e_free_port: print a TCP port on 127.0.0.1 that nothing uses right now. A server started on
# it can still lose a race; the start functions retry with another port.
e2e_free_port() {
    local port i
    for i in $(seq 200); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if [ -z "$(ss -Htan "( sport = :$port or dport = :$port )" 2>/dev/null)" ]; then
            echo "$port"
            return 0
        fi
    done
    e2e_die "no free port found"
}

# e2e_wait_listen PID PORT [SECONDS]: wait until process PID itself listens on PORT (another
# process that won the port does not count). 0 ok, 1 dead or not listening in time.
e2e_wait_listen() {
    local pid=$1 port=$2 limit=${3:-30} i
    for i in $(seq $((limit * 20))); do
        kill -0 "$pid" 2>/dev/null || return 1
        ss -Hltnp "( sport = :$port )" 2>/dev/null | grep -q "pid=$pid," && return 0
        sleep 0.05
    done
    return 1
}

# ---- logs of the servers this test started -------------------------------------------------------

# e2e_dump_logs: the last lines of Squid's cache.log and access.log (on failure).
e2e_dump_logs() {
    [ -n "${E2E_DIR:-}" ] || return 0
    local f
    for f in "${E2E_CACHE_LOG:-}" "${E2E_ACCESS_LOG:-}"; do
        [ -n "$f" ] && [ -f "$f" ] || continue
        echo "---- last lines of $f"
        tail -n 40 "$f"
    done
}

# e2e_check_logs_clean: Squid's cache.log and c-icap's server log (those this test started) hold
# no WARNING, ERROR or FATAL line, on Squid 5.7 and 6.13 alike: a warning per decision (Squid 6's
# reserved annotation names) or a parse warning is a defect even when every decision is right.
# A test that injects a fault names the lines it expects in E2E_LOG_ALLOW (an ERE), e.g. the
# helper's own "ext_pinsplice_acl: ERROR: ... not a database".
e2e_check_logs_clean() {
    local f bad
    for f in "${E2E_CACHE_LOG:-}" "${ICAP_SERVER_LOG:-}"; do
        [ -n "$f" ] && [ -f "$f" ] || continue
        bad=$(grep -E 'WARNING|ERROR|FATAL|BUG|assertion failed' "$f" |
            grep -Ev -- "${E2E_LOG_ALLOW:-^\$}" | head -n 3)
        e2e_expect "no WARNING/ERROR/FATAL line in $(basename "$f")" "" "$bad"
    done
}
