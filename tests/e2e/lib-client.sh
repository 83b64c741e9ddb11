# tests/e2e/lib-client.sh: the clients of the e2e tests (sourced by lib.sh): curl and openssl
# s_client through the test's Squid, trusting both test CAs, and the composite checks built on
# them and on access.log (lib-log.sh): spliced, bumped, served.

E2E_ISSUER=""
E2E_LPORT=""

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

