# tests/e2e/lib.sh: shared harness for pinsplice's end-to-end tests. Source it from bash:
#
#     #!/bin/bash
#     . "$(dirname "$0")/lib.sh"
#     e2e_init t11-splice-pinned          # work dir, trap, requirement checks
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
# Environment (make check sets the first three; standalone runs derive them):
#   PS_SRCDIR             source tree (default: two levels above this file)
#   PS_BUILDDIR           build tree holding helper/ext_pinsplice_acl (default: PS_SRCDIR)
#   PS_SQLDIR             the SQL pinsplice db init loads (default: $PS_SRCDIR/sql)
#   PS_HELPER             helper binary to run (default: $PS_BUILDDIR/helper/ext_pinsplice_acl)
#   PS_KEEP=1             keep the work dir (logs, configs, DB) after the test
#   PS_VERBOSE=1          print every command's details (curl -v output etc.) as it runs
#   PINSPLICE_ALLOW_SKIP=1  exit 77 (skip) when squid/curl/openssl/sqlite3/root are missing;
#                         without it a missing component is a FAILURE (CI must not skip)
#
# Results a test reads (globals, set by the functions below):
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
#   E2E_SQUID_PRE/_POST   squid.conf lines placed before / after the snippet's include
#   E2E_TIMEOUT           seconds one client command may take (default 20)
#
# Functions (each has its contract comment below):
#   setup/exit   e2e_init NAME, e2e_require CMD..., e2e_missing MSG (skip policy), e2e_die MSG,
#                e2e_finish, e2e_bg PID (stop it in the trap), e2e_kill PID [SIG]
#   checks       e2e_expect / e2e_expect_match / e2e_expect_not WHAT EXPECTED ACTUAL,
#                e2e_pass / e2e_fail WHAT; composite: e2e_check_spliced, e2e_check_bumped,
#                e2e_check_served, e2e_check_sclient, e2e_check_squid_healthy,
#                e2e_check_helpers_same
#   waiting      e2e_wait_for SECS CMD..., e2e_poll SECS FUNC ARGS... (-> E2E_POLL_TOOK),
#                e2e_wait_listen PID PORT, e2e_free_port, e2e_now_ms
#   TLS          e2e_pki, e2e_ca, e2e_pin CERT, e2e_origin_start, e2e_issuer_cn, e2e_issuer_kind
#   rules DB     e2e_db_path, e2e_db_build PATH, e2e_db_create [SQL...], e2e_sql SQL,
#                e2e_rule_for DOMAIN
#   Squid        e2e_snippet OUT, e2e_hosts_file OUT, e2e_squid_conf PORT, e2e_squid_start,
#                e2e_squid_stop, e2e_squid_alive, e2e_helper_pids
#   clients      e2e_curl [--pin] [--program P] [--fresh] [--connect-to H] NAME,
#                e2e_sclient HOST [SNI|--no-sni], e2e_pinned_rc_is RC [curl opts] NAME
#   logs         e2e_log_cols SNIPPET, e2e_field NAME [REC], e2e_log_mark, e2e_log_since,
#                e2e_log_find COND, e2e_log_wait COND [SECS], e2e_log_connect [LPORT],
#                e2e_urldecode TEXT, e2e_cachelog_count ERE, e2e_cachelog_wait ERE N SECS
#
# access.log uses the snippet's "logformat pinsplice"; e2e_field NAME reads one field of a record
# by name (time rt client status bytes_out bytes_in method url user bump_mode sni host err tls
# action rule). Columns are found by parsing the logformat line of the snippet actually used, so
# a reordered logformat does not silently shift the fields.

set -u

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${PS_SRCDIR:=$(cd "$E2E_LIB_DIR/../.." && pwd)}"
: "${PS_BUILDDIR:=$PS_SRCDIR}"
: "${PS_SQLDIR:=$PS_SRCDIR/sql}"
: "${PS_HELPER:=$PS_BUILDDIR/helper/ext_pinsplice_acl}"
: "${PS_KEEP:=0}"
: "${PS_VERBOSE:=0}"
: "${PINSPLICE_ALLOW_SKIP:=0}"
PATH=$PATH:/usr/sbin:/sbin
E2E_CERTGEN=${E2E_CERTGEN:-/usr/lib/squid/security_file_certgen}

# Names the origin certificate carries and the hosts file maps to 127.0.0.1. A test may add
# names before e2e_pki / e2e_squid_start (E2E_NAMES+=" x.test").
E2E_NAMES="www.zoom.us zoom.us evilzoom.us zoom.us.evil.test www.example.test unpinned.test
teams.lync.com www.bank.test bank.test"
E2E_PIDS=""            # every background process a test started (killed by the trap)
E2E_FAILS=0
E2E_CHECKS=0
E2E_SQUID_PID=""
E2E_RC=""
E2E_ISSUER=""
E2E_LPORT=""
E2E_REC=""
E2E_TIMEOUT=${E2E_TIMEOUT:-20}   # seconds any single client command may take

# ---- messages, expectations, exit --------------------------------------------------------------

e2e_log() { printf '# %s\n' "$*"; }
e2e_vlog() { if [ "$PS_VERBOSE" = 1 ]; then printf '#   %s\n' "$*"; fi; }

# A missing requirement: skip (77) only when the caller allowed it, else fail loudly.
e2e_missing() {
    if [ "$PINSPLICE_ALLOW_SKIP" = 1 ]; then
        echo "SKIP: $*  (PINSPLICE_ALLOW_SKIP=1)"
        exit 77
    fi
    echo "FAIL: $*  (set PINSPLICE_ALLOW_SKIP=1 to skip instead)" >&2
    exit 1
}

# Stop now: an error that makes the rest of the test meaningless.
e2e_die() {
    echo "FAIL: $*" >&2
    E2E_FAILS=$((E2E_FAILS + 1))
    e2e_dump_logs
    exit 1
}

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

# Print the summary and exit 0 when every expectation held.
e2e_finish() {
    e2e_check_logs_clean
    if [ "$E2E_CHECKS" -eq 0 ]; then
        echo "FAIL: $E2E_NAME checked nothing"
        exit 1
    fi
    if [ "$E2E_FAILS" -ne 0 ]; then
        echo "FAIL: $E2E_NAME: $E2E_FAILS of $E2E_CHECKS checks failed"
        e2e_dump_logs
        exit 1
    fi
    echo "PASS: $E2E_NAME: $E2E_CHECKS checks ($SECONDS s)"
    exit 0
}

# ---- setup, cleanup ----------------------------------------------------------------------------

# e2e_require CMD...: each must be on PATH (or an executable path).
e2e_require() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || e2e_missing "required program '$c' not found"
    done
}

# e2e_init NAME: check the common requirements, make the work dir, install the trap.
e2e_init() {
    E2E_NAME=$1
    SECONDS=0
    [ "$(id -u)" = 0 ] || e2e_missing "$E2E_NAME must run as root (Squid drops to user proxy)"
    e2e_require squid curl openssl sqlite3 ss ps timeout runuser
    getent passwd proxy >/dev/null || e2e_missing "user 'proxy' (Squid's user) does not exist"
    [ -x "$E2E_CERTGEN" ] || e2e_missing "$E2E_CERTGEN not found (package squid-openssl)"
    squid -v 2>/dev/null | grep -q -- '--with-openssl' ||
        e2e_missing "this squid has no OpenSSL (ssl-bump): install squid-openssl"
    E2E_DIR=$(mktemp -d /tmp/pinsplice-e2e.XXXXXX) || e2e_die "mktemp failed"
    chgrp proxy "$E2E_DIR" && chmod 0750 "$E2E_DIR"
    trap e2e_cleanup EXIT
    trap 'exit 1' INT TERM HUP
    e2e_log "$E2E_NAME: work dir $E2E_DIR"
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

e2e_cleanup() {
    local rc=$? pid
    trap - EXIT
    e2e_squid_stop
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

# ---- certificates ------------------------------------------------------------------------------

# e2e_pki: make the proxy CA (Squid signs bumped certificates with it), the origin CA, and one
# origin certificate (EC P-256) whose SANs are $E2E_NAMES. Sets E2E_PROXY_CA, E2E_ORIGIN_CA,
# E2E_TRUST, E2E_ORIGIN_CERT, E2E_ORIGIN_KEY, E2E_ORIGIN_PIN.
e2e_pki() {
    local d=$E2E_DIR/pki n san=""
    mkdir -p "$d"
    e2e_ca "$d/proxy-ca" "pinsplice e2e proxy CA"
    e2e_ca "$d/origin-ca" "pinsplice e2e origin CA"
    for n in $E2E_NAMES; do san="${san:+$san,}DNS:$n"; done
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$d/origin.key" -out "$d/origin.csr" -subj "/CN=pinsplice e2e origin" \
        2>"$d/openssl.err" || e2e_die "origin key: $(cat "$d/openssl.err")"
    printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$san" >"$d/origin.ext"
    openssl x509 -req -in "$d/origin.csr" -CA "$d/origin-ca.pem" -CAkey "$d/origin-ca.key" \
        -CAcreateserial -days 2 -extfile "$d/origin.ext" -out "$d/origin.pem" \
        2>"$d/openssl.err" || e2e_die "origin certificate: $(cat "$d/openssl.err")"
    # Squid's http_port tls-cert: CA certificate and key in one file.
    cat "$d/proxy-ca.pem" "$d/proxy-ca.key" >"$d/proxy-ca-bundle.pem"
    cat "$d/proxy-ca.pem" "$d/origin-ca.pem" >"$d/trust.pem"
    chgrp -R proxy "$d" && chmod 0750 "$d" && chmod 0640 "$d"/*
    E2E_PROXY_CA=$d/proxy-ca.pem
    E2E_PROXY_CA_BUNDLE=$d/proxy-ca-bundle.pem
    E2E_ORIGIN_CA=$d/origin-ca.pem
    E2E_TRUST=$d/trust.pem
    E2E_ORIGIN_CERT=$d/origin.pem
    E2E_ORIGIN_KEY=$d/origin.key
    E2E_ORIGIN_PIN=$(e2e_pin "$d/origin.pem")
    [ -n "$E2E_ORIGIN_PIN" ] || e2e_die "cannot compute the origin key's pin"
}

# e2e_ca BASE CN: self-signed CA BASE.pem + BASE.key.
e2e_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -keyout "$1.key" -out "$1.pem" -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>"$1.err" || e2e_die "CA $2: $(cat "$1.err")"
}

# e2e_pin CERT.pem: print sha256//BASE64 of the certificate's public key (curl --pinnedpubkey).
e2e_pin() {
    local b64
    b64=$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64) || return 1
    echo "sha256//$b64"
}

# ---- origins -----------------------------------------------------------------------------------

# e2e_origin_start: start a TLS origin (openssl s_server -www: answers GET with a status page)
# on a free 127.0.0.1 port with the origin certificate. Sets E2E_ORIGIN_PORT (first origin) and
# E2E_LAST_ORIGIN_PORT; may be called again for more origins.
e2e_origin_start() {
    local port pid try
    for try in 1 2 3 4 5; do
        port=$(e2e_free_port)
        openssl s_server -quiet -www -accept "127.0.0.1:$port" \
            -cert "$E2E_ORIGIN_CERT" -key "$E2E_ORIGIN_KEY" \
            </dev/null >>"$E2E_DIR/origin-$port.log" 2>&1 &
        pid=$!
        e2e_bg "$pid"
        if e2e_wait_listen "$pid" "$port" 10; then
            E2E_LAST_ORIGIN_PORT=$port
            : "${E2E_ORIGIN_PORT:=$port}"
            e2e_vlog "origin pid $pid on 127.0.0.1:$port"
            return 0
        fi
        e2e_kill "$pid"
    done
    e2e_die "TLS origin did not start: $(tail -n 5 "$E2E_DIR/origin-$port.log")"
}

# ---- rules DB ----------------------------------------------------------------------------------

# The DB lives where the snippet's @localstatedir@ points for the test: $E2E_DIR/var.
e2e_db_path() { echo "$E2E_DIR/var/lib/pinsplice/rules.db"; }

# e2e_db_build PATH: create a rules DB at PATH the way an admin does: `pinsplice db init` of this
# build, from the source tree's SQL (PINSPLICE_SQLDIR=$PS_SQLDIR), readable by proxy.
e2e_db_build() {
    local db=$1 tool=$PS_BUILDDIR/tools/pinsplice
    rm -f "$db"
    [ -x "$tool" ] || e2e_die "$tool not built (run make first)"
    PINSPLICE_SQLDIR=$PS_SQLDIR "$tool" db init --db "$db" >"$E2E_DIR/sqlite.err" 2>&1 ||
        e2e_die "pinsplice db init --db $db: $(cat "$E2E_DIR/sqlite.err")"
    chown proxy:proxy "$db" && chmod 0644 "$db"
}

# e2e_db_create: build the default DB at E2E_DB. Optional SQL arguments run afterwards (test
# setup, e.g. adding a rule), before Squid starts.
e2e_db_create() {
    E2E_DB=$(e2e_db_path)
    mkdir -p "$(dirname "$E2E_DB")"
    chown proxy:proxy "$(dirname "$E2E_DB")"
    e2e_db_build "$E2E_DB"
    local sql
    for sql in "$@"; do e2e_sql "$sql"; done
}

# e2e_sql SQL: run SQL on E2E_DB as an admin would (sqlite3 CLI, waits up to 5 s for a lock).
# Dies on an SQL error; prints the query output.
e2e_sql() {
    sqlite3 -bail -cmd '.timeout 5000' "$E2E_DB" "$1" 2>"$E2E_DIR/sqlite.err" ||
        e2e_die "sqlite3: $1: $(cat "$E2E_DIR/sqlite.err")"
}

# e2e_rule_for DOMAIN: name of the enabled rule holding exactly this domain entry (first by
# position), for asserting what access.log names.
e2e_rule_for() {
    e2e_sql "SELECT r.name FROM rules r JOIN rule_domains d ON d.rule_id = r.id
             WHERE d.domain = '$1' AND r.enabled = 1 ORDER BY r.position, r.id LIMIT 1;"
}

# ---- Squid -------------------------------------------------------------------------------------

# e2e_snippet OUT: generate the pinsplice snippet from squid-conf/pinsplice.conf.in with the
# build-tree helper and the test DB (the Makefile's substitutions, test paths). Extra helper
# options (e.g. --reload-interval 200, --debug) come from E2E_HELPER_ARGS.
e2e_snippet() {
    local out=$1 in=$PS_SRCDIR/squid-conf/pinsplice.conf.in helper=$PS_HELPER
    [ -r "$in" ] || e2e_die "$in not found"
    [ -x "$helper" ] || e2e_die "helper $helper not built (run make in $PS_BUILDDIR)"
    # Squid runs the helper as proxy: copy it when proxy cannot reach the build tree.
    if ! runuser -u proxy -- test -x "$helper" 2>/dev/null; then
        mkdir -p "$E2E_DIR/bin"
        cp "$helper" "$E2E_DIR/bin/ext_pinsplice_acl"
        chgrp -R proxy "$E2E_DIR/bin" && chmod 0750 "$E2E_DIR/bin"
        helper=$E2E_DIR/bin/ext_pinsplice_acl
    fi
    sed -e "s|@squidhelperdir@/ext_pinsplice_acl|$helper|g" \
        -e "s|@localstatedir@|$E2E_DIR/var|g" \
        -e "s|@pkgdatadir@|$PS_SRCDIR|g" -e "s|@bindir@|$PS_BUILDDIR/tools|g" \
        -e "s|@sysconfdir@|$E2E_DIR/etc|g" "$in" >"$out.tmp" || e2e_die "sed $in"
    if [ -n "${E2E_HELPER_ARGS:-}" ]; then
        sed -i -e "s|^\(external_acl_type pinsplice .*\)\$|\1 $E2E_HELPER_ARGS|" "$out.tmp"
    fi
    grep -q '@[a-zA-Z_]*@' "$out.tmp" && e2e_die "unsubstituted @var@ left in $out"
    mv "$out.tmp" "$out"
}

# e2e_hosts_file OUT: map every name in E2E_NAMES to 127.0.0.1.
e2e_hosts_file() {
    { echo "127.0.0.1 localhost"; echo "127.0.0.1 $(echo $E2E_NAMES)"; } >"$1"
}

# e2e_squid_conf PORT: write $E2E_DIR/squid/squid.conf. E2E_SQUID_PRE / E2E_SQUID_POST: extra
# lines placed before / after the snippet's include.
e2e_squid_conf() {
    local port=$1 s=$E2E_DIR/squid
    E2E_SQUID_CONF=$s/squid.conf
    e2e_snippet "$s/pinsplice.conf"
    e2e_hosts_file "$s/hosts"
    cat >"$E2E_SQUID_CONF" <<EOF
# generated by tests/e2e/lib.sh for $E2E_NAME
http_port 127.0.0.1:$port ssl-bump tls-cert=$E2E_PROXY_CA_BUNDLE generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program $E2E_CERTGEN -s $s/ssl_db -M 4MB
sslcrtd_children 3 startup=1 idle=1
tls_outgoing_options cafile=$E2E_ORIGIN_CA
http_access allow localhost
http_access deny all
${E2E_SQUID_PRE:-}
include $s/pinsplice.conf
${E2E_SQUID_POST:-}
access_log stdio:$s/log/access.log logformat=pinsplice
cache_log $s/log/cache.log
cache_store_log none
pid_filename $s/run/squid.pid
coredump_dir $s/run
cache deny all
cache_mem 8 MB
pinger_enable off
shutdown_lifetime 1 seconds
netdb_filename none
hosts_file $s/hosts
dns_nameservers 127.0.0.1
visible_hostname pinsplice-e2e.test
logfile_rotate 0
EOF
}

# e2e_squid_start: write the config and start `squid -N` on a free port; wait until it listens.
# Sets E2E_SQUID_PORT, E2E_SQUID_PID, E2E_ACCESS_LOG, E2E_CACHE_LOG, E2E_LOG_COLS.
e2e_squid_start() {
    local s=$E2E_DIR/squid try port
    mkdir -p "$s/log" "$s/run"
    rm -rf "$s/ssl_db"
    "$E2E_CERTGEN" -c -s "$s/ssl_db" -M 4MB >"$s/certgen.log" 2>&1 ||
        e2e_die "security_file_certgen -c: $(cat "$s/certgen.log")"
    chown -R proxy:proxy "$s/log" "$s/run" "$s/ssl_db"
    chgrp proxy "$s" && chmod 0750 "$s"
    E2E_SQUID_SERVICE=pse2e$$
    for try in 1 2 3 4 5; do
        port=$(e2e_free_port)
        e2e_squid_conf "$port"
        chgrp proxy "$s"/*.conf "$s/hosts" && chmod 0640 "$s"/*.conf "$s/hosts"
        squid -k parse -f "$E2E_SQUID_CONF" >"$s/parse.log" 2>&1 ||
            e2e_die "squid -k parse rejected $E2E_SQUID_CONF: $(grep -E 'FATAL|ERROR' "$s/parse.log")"
        squid -N -n "$E2E_SQUID_SERVICE" -f "$E2E_SQUID_CONF" >>"$s/log/squid.out" 2>&1 &
        E2E_SQUID_PID=$!
        if e2e_wait_listen "$E2E_SQUID_PID" "$port" 30; then
            E2E_SQUID_PORT=$port
            E2E_ACCESS_LOG=$s/log/access.log
            E2E_CACHE_LOG=$s/log/cache.log
            e2e_log_cols "$s/pinsplice.conf"
            e2e_vlog "squid pid $E2E_SQUID_PID on 127.0.0.1:$port"
            return 0
        fi
        e2e_squid_stop
        grep -q 'Address already in use' "$s/log/cache.log" 2>/dev/null || break
    done
    E2E_CACHE_LOG=$s/log/cache.log
    e2e_die "squid did not start: $(tail -n 5 "$s/log/squid.out" "$s/log/cache.log" 2>/dev/null)"
}

# e2e_squid_alive: 0 when the Squid we started is still running.
e2e_squid_alive() { [ -n "$E2E_SQUID_PID" ] && kill -0 "$E2E_SQUID_PID" 2>/dev/null; }

# e2e_squid_stop: stop Squid by PID with SIGINT (Squid's "-k interrupt": shut down without
# waiting shutdown_lifetime); it stops its helpers, and any left are stopped by PID too.
e2e_squid_stop() {
    [ -n "${E2E_SQUID_PID:-}" ] || return 0
    local kids pid
    kids=$(ps -o pid= --ppid "$E2E_SQUID_PID" 2>/dev/null)
    e2e_kill "$E2E_SQUID_PID" INT
    for pid in $kids; do
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    done
    E2E_SQUID_PID=""
}

# e2e_helper_pids: PIDs of the running ext_pinsplice_acl processes of our Squid.
e2e_helper_pids() {
    [ -n "$E2E_SQUID_PID" ] || return 0
    local pid
    for pid in $(ps -o pid= --ppid "$E2E_SQUID_PID" 2>/dev/null); do
        grep -q ext_pinsplice_acl "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
    done
}

# ---- clients -----------------------------------------------------------------------------------

# e2e_issuer_cn TEXT: the CN of an issuer line as curl ("CN=x; O=y") or openssl ("CN = x") print it.
e2e_issuer_cn() { printf '%s' "$1" | sed -n 's/.*CN *= *\([^;,/]*\).*/\1/p' | sed 's/ *$//'; }

# e2e_issuer_kind: "origin", "proxy", "none" or the raw CN, for E2E_ISSUER.
e2e_issuer_kind() {
    case "$E2E_ISSUER" in
        "pinsplice e2e origin CA") echo origin ;;
        "pinsplice e2e proxy CA") echo proxy ;;
        "") echo none ;;
        *) echo "$E2E_ISSUER" ;;
    esac
}

# e2e_curl [--pin] [--program P] [--proxy-header 'H: v'] [--connect-to HOST] [--port N] NAME [PATH]
# One HTTPS GET of https://NAME:PORT/PATH through the proxy, trusting both test CAs; --pin adds
# --pinnedpubkey with the origin key's pin (a real pinning client: fails with exit 90 when
# bumped). --program P sends "X-Client-Process: P" on the CONNECT (as an endpoint agent would;
# note curl's -H never reaches the CONNECT, --proxy-header does). --connect-to HOST makes curl
# CONNECT to HOST while the SNI stays NAME. --fresh sends a program name never used before, so
# the line Squid sends the helper is new and Squid's answer cache (ttl) cannot answer it: use it
# to observe the helper's current answer (program names only count from trusted sources).
# Sets E2E_RC (curl's exit status), E2E_ISSUER (issuer CN of the certificate it saw),
# E2E_LPORT (its local port to the proxy), E2E_BODY (file with the response body).
e2e_curl() {
    local pin="" port=${E2E_ORIGIN_PORT:-} name path="" args=() out=$E2E_DIR/curl
    while [ $# -gt 0 ]; do
        case $1 in
            --pin) pin=1 ;;
            --fresh)
                E2E_FRESH=$((${E2E_FRESH:-0} + 1))
                args+=(--proxy-header "X-Client-Process: e2e-probe-$$-$E2E_FRESH") ;;
            --program) args+=(--proxy-header "X-Client-Process: $2"); shift ;;
            --proxy-header) args+=(--proxy-header "$2"); shift ;;
            --connect-to) args+=(--connect-to "::$2:"); shift ;;
            --port) port=$2; shift ;;
            *) break ;;
        esac
        shift
    done
    name=$1
    path=${2:-}
    [ -n "$pin" ] && args+=(--pinnedpubkey "$E2E_ORIGIN_PIN")
    mkdir -p "$out"
    E2E_BODY=$out/body
    rm -f "$out/body" "$out/err"
    # The client port ties the CONNECT record to the connection. curl 8 (Debian 13) reports
    # %{local_port} as -1 when the transfer failed (a pin mismatch), so choose the port instead;
    # 45 is curl's "could not bind" (the port was taken meanwhile): try another.
    local try
    for try in 1 2 3 4 5; do
        E2E_LPORT=$(e2e_free_port)
        timeout "$E2E_TIMEOUT" curl -sS -v --proxy "http://127.0.0.1:$E2E_SQUID_PORT" \
            --local-port "$E2E_LPORT" --cacert "$E2E_TRUST" --max-time "$E2E_TIMEOUT" \
            -o "$out/body" "${args[@]}" "https://$name:$port/$path" 2>"$out/err"
        E2E_RC=$?
        [ "$E2E_RC" = 45 ] || break
    done
    E2E_ISSUER=$(e2e_issuer_cn "$(sed -n 's/^\*  *issuer: //p' "$out/err" | head -n 1)")
    e2e_vlog "curl ${pin:+--pin }${args[*]:0:4} https://$name:$port/$path -> rc=$E2E_RC issuer='$E2E_ISSUER' lport=$E2E_LPORT"
    [ "$PS_VERBOSE" = 1 ] && sed 's/^/#     /' "$out/err" | grep -E 'issuer|CONNECT|HTTP/|curl: \(' | head -n 12
    return 0
}

# e2e_sclient CONNECT-HOST [SNI|--no-sni]: openssl s_client through the proxy (CONNECT to
# CONNECT-HOST:E2E_ORIGIN_PORT), with SNI (default: CONNECT-HOST) or none, sends nothing, closes.
# Sets E2E_RC and E2E_ISSUER (issuer CN of the server certificate seen).
e2e_sclient() {
    local host=$1 sni=${2:-$1} out=$E2E_DIR/sclient sniarg
    mkdir -p "$out"
    if [ "$sni" = --no-sni ]; then sniarg=(-noservername); else sniarg=(-servername "$sni"); fi
    timeout "$E2E_TIMEOUT" openssl s_client -proxy "127.0.0.1:$E2E_SQUID_PORT" \
        -connect "$host:$E2E_ORIGIN_PORT" "${sniarg[@]}" -CAfile "$E2E_TRUST" \
        </dev/null >"$out/out" 2>"$out/err"
    E2E_RC=$?
    E2E_ISSUER=$(e2e_issuer_cn "$(sed -n 's/^issuer=//p' "$out/out" | head -n 1)")
    e2e_vlog "s_client CONNECT $host SNI $sni -> rc=$E2E_RC issuer='$E2E_ISSUER'"
    return 0
}

# ---- access.log --------------------------------------------------------------------------------

# e2e_log_cols SNIPPET: find each named field's column in the snippet's `logformat pinsplice`.
e2e_log_cols() {
    local line
    line=$(grep -E '^logformat pinsplice ' "$1") || e2e_die "no 'logformat pinsplice' in $1"
    E2E_LOG_COLS=$(printf '%s\n' "$line" | awk '
        { for (i = 3; i <= NF; i++) {
            t = $i; c = i - 2
            if (t ~ /^%ts/) print "time", c
            else if (t ~ /^%tr$/) print "rt", c
            else if (t ~ /^%>a:%>p$/) print "client", c
            else if (t ~ /^%Ss\//) print "status", c
            else if (t ~ /^%<st$/) print "bytes_out", c
            else if (t ~ /^%>st$/) print "bytes_in", c
            else if (t ~ /^%rm$/) print "method", c
            else if (t ~ /^%#?ru$/) print "url", c
            else if (t ~ /^%#?un$/) print "user", c
            else if (t ~ /ssl::bump_mode/) print "bump_mode", c
            else if (t ~ /ssl::>sni/) print "sni", c
            else if (t ~ /^%#?>rd$/) print "host", c
            else if (t ~ /^%err_code/) print "err", c
            else if (t ~ /ssl::>negotiated_version/) print "tls", c
            else if (t ~ /pinsplice_action_/) print "action", c
            else if (t ~ /pinsplice_rule_/) print "rule", c
            else if (t ~ /pinsplice_verify_/) print "verify", c
            else if (t ~ /pinsplice_monitor_rule_/) print "monitor_rule", c
            else if (t ~ /pinsplice_monitor_/) print "monitor", c
        } }')
    local need
    for need in client method bump_mode sni host err tls action rule; do
        printf '%s\n' "$E2E_LOG_COLS" | grep -q "^$need " ||
            e2e_die "logformat pinsplice has no field for '$need'"
    done
}

# e2e_urldecode TEXT
e2e_urldecode() { local s=${1//+/%2B}; printf '%b' "${s//%/\\x}"; }

# e2e_field NAME [RECORD]: field NAME of RECORD (default E2E_REC), URL-decoded.
e2e_field() {
    local rec=${2-$E2E_REC} col
    col=$(printf '%s\n' "$E2E_LOG_COLS" | awk -v n="$1" '$1 == n { print $2 }')
    [ -n "$col" ] || e2e_die "unknown access.log field '$1'"
    e2e_urldecode "$(printf '%s\n' "$rec" | awk -v c="$col" '{ print $c }')"
}

# e2e_log_mark: remember the current end of access.log; e2e_log_wait looks only after it.
e2e_log_mark() { E2E_LOG_MARK=$(wc -l <"$E2E_ACCESS_LOG" 2>/dev/null || echo 0); }

# e2e_log_since: access.log records written after the last e2e_log_mark.
e2e_log_since() { tail -n "+$((${E2E_LOG_MARK:-0} + 1))" "$E2E_ACCESS_LOG" 2>/dev/null; }

# e2e_log_find AWK-CONDITION: the last record after the mark (e2e_log_mark) matching the
# condition, where $client, $method, $sni... (the e2e_field names) stand for their columns and
# compare the raw, still URL-escaped text. Prints it; 1 when none.
e2e_log_find() {
    local cond=$1 n c line
    while read -r n c; do cond=${cond//\$$n/\$$c}; done <<<"$E2E_LOG_COLS"
    line=$(e2e_log_since | awk "$cond" 2>/dev/null | tail -n 1)
    [ -n "$line" ] || return 1
    printf '%s\n' "$line"
}

# e2e_log_wait AWK-CONDITION [SECONDS]: wait (default 10 s) for a record matching the condition;
# sets E2E_REC (empty when none came). Squid writes a record when the transaction ends, which
# can be a moment after the client exits.
e2e_log_wait() {
    local cond=$1 limit=${2:-10} end=$((SECONDS + ${2:-10}))
    E2E_REC=""
    while :; do
        E2E_REC=$(e2e_log_find "$cond") && return 0
        [ "$SECONDS" -ge "$end" ] && { E2E_REC=""; return 1; }
        sleep 0.1
    done
}

# e2e_log_connect [LPORT]: the CONNECT record (the one carrying the pinsplice notes) of the
# client connection from 127.0.0.1:LPORT (default: the last curl's E2E_LPORT). Sets E2E_REC.
e2e_log_connect() {
    local lport=${1:-$E2E_LPORT}
    e2e_log_wait "\$client == \"127.0.0.1:$lport\" && \$method == \"CONNECT\" && \$status ~ /^NONE/" ||
        e2e_log_wait "\$client == \"127.0.0.1:$lport\" && \$method == \"CONNECT\"" 1
}

# ---- composite checks used by several scenarios -------------------------------------------------

# e2e_check_spliced WHAT NAME [RULE] [curl options...]: a pinning client reaches NAME untouched:
# curl exit 0, origin CA issuer, access.log splice (by RULE when given).
e2e_check_spliced() {
    local what=$1 name=$2 rule=${3:-}
    shift 2; [ $# -gt 0 ] && shift
    e2e_curl --pin "$@" "$name"
    e2e_expect "$what: pinned curl to $name exits 0" 0 "$E2E_RC"
    e2e_expect "$what: $name certificate issued by" "pinsplice e2e origin CA" "$E2E_ISSUER"
    e2e_log_connect
    e2e_expect "$what: access.log bump mode for $name" splice "$(e2e_field bump_mode)"
    e2e_expect "$what: access.log pinsplice_action_ for $name" splice "$(e2e_field action)"
    [ -n "$rule" ] && e2e_expect "$what: access.log pinsplice_rule_ for $name" "$rule" "$(e2e_field rule)"
    return 0
}

# e2e_check_bumped WHAT NAME [curl options...]: a pinning client to NAME is bumped: curl exit 90
# (pin mismatch), proxy CA issuer, access.log bump with pinsplice_action_=bump (the helper
# answered: a missing note would mean Squid never got an answer).
e2e_check_bumped() {
    local what=$1 name=$2
    shift 2
    e2e_curl --pin "$@" "$name"
    e2e_expect "$what: pinned curl to $name fails the pin" 90 "$E2E_RC"
    e2e_expect "$what: $name certificate issued by" "pinsplice e2e proxy CA" "$E2E_ISSUER"
    e2e_log_connect
    e2e_expect "$what: access.log bump mode for $name" bump "$(e2e_field bump_mode)"
    e2e_expect "$what: access.log pinsplice_action_ for $name" bump "$(e2e_field action)"
    return 0
}

# e2e_check_served WHAT NAME [curl options...]: a normal client (trusting the proxy CA, no pin)
# gets the origin's page through Squid: Squid is serving.
e2e_check_served() {
    local what=$1 name=$2
    shift 2
    e2e_curl "$@" "$name"
    e2e_expect "$what: normal curl to $name exits 0" 0 "$E2E_RC"
    if grep -q 's_server' "$E2E_BODY" 2>/dev/null; then e2e_pass "$what: origin page received"
    else e2e_fail "$what: no origin page in the response body"; fi
}

# e2e_check_squid_healthy WHAT: Squid alive, no helper crash / queue overflow / BH in cache.log.
e2e_check_squid_healthy() {
    if e2e_squid_alive; then e2e_pass "$1: squid still running"
    else e2e_fail "$1: squid died"; fi
    local bad
    bad=$(grep -E 'crashing too rapidly|queue full|queue overload|exited|assertion failed|FATAL|BH ' \
        "$E2E_CACHE_LOG" 2>/dev/null | head -n 3)
    e2e_expect "$1: no helper failure in cache.log" "" "$bad"
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

# e2e_check_sclient splice|bump WHAT CONNECT-HOST SNI|--no-sni: openssl s_client through the
# proxy; spliced = origin CA issuer and access.log splice, bumped = proxy CA issuer and bump.
e2e_check_sclient() {
    local want=$1 what=$2 host=$3 sni=$4 issuer="pinsplice e2e proxy CA"
    [ "$want" = splice ] && issuer="pinsplice e2e origin CA"
    e2e_log_mark
    e2e_sclient "$host" "$sni"
    e2e_expect "$what: s_client certificate issued by" "$issuer" "$E2E_ISSUER"
    e2e_log_wait '$method == "CONNECT" && $status ~ /^NONE/'
    e2e_expect "$what: access.log bump mode" "$want" "$(e2e_field bump_mode)"
    e2e_expect "$what: access.log pinsplice_action_" "$want" "$(e2e_field action)"
    E2E_LOG_MARK=0
}

# e2e_pinned_rc_is RC [e2e_curl options] NAME: one pinned curl; 0 when its exit status is RC.
# For e2e_poll: wait until a rule change shows (e.g. e2e_poll 15 e2e_pinned_rc_is 0 www.bank.test).
e2e_pinned_rc_is() {
    local want=$1
    shift
    e2e_curl --pin "$@"
    [ "$E2E_RC" = "$want" ]
}

# e2e_cachelog_count ERE: how many cache.log lines match (the helper's stderr lands there).
e2e_cachelog_count() { grep -Ec -- "$1" "$E2E_CACHE_LOG" 2>/dev/null; }

# e2e_cachelog_wait ERE N SECONDS: wait until more than N cache.log lines match; 1 on timeout.
e2e_cachelog_wait() {
    local ere=$1 n=$2
    e2e_wait_for "$3" e2e_cachelog_more "$ere" "$n"
}
e2e_cachelog_more() { [ "$(e2e_cachelog_count "$1")" -gt "$2" ]; }

# e2e_check_helpers_same WHAT PIDS: every helper process in PIDS is still running (it answered
# through the faults instead of crashing and being restarted by Squid).
e2e_check_helpers_same() {
    local pid alive=""
    for pid in $2; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
    e2e_expect "$1: original helper process(es) still running" "$(echo $2)" "$(echo $alive)"
}
