# tests/e2e/lib-log.sh: Squid's access.log in the e2e tests (sourced by lib.sh). access.log uses
# the snippet's logformat ("pinsplice", or "pinsplice_icap" for the ICAP snippet); e2e_field NAME
# reads one field of a record by name (time rt client status bytes_out bytes_in method url user
# bump_mode sni host err tls action rule verify monitor monitor_rule). Columns are found by
# parsing the logformat line of the snippet actually used, so a reordered logformat does not
# silently shift the fields.

E2E_REC=""

# e2e_log_cols SNIPPET [LOGFORMAT]: find each named field's column in the snippet's logformat
# LOGFORMAT (default pinsplice) and set E2E_LOG_COLS ("NAME COLUMN" lines). The decision fields
# are the helper's notes (%{pinsplice_action_}note ...) in "pinsplice", the ICAP response headers
# (%{X-Pinsplice-Action}adapt::<last_h, present on 200 and 204; in older snippets the adapted
# request header %{X-Pinsplice-Action}>ha, absent when a bump is answered 204) in
# "pinsplice_icap". Dies when a field the tests read is missing.
e2e_log_cols() {
    local fmt=${2:-pinsplice} line fields need
    line=$(grep -E "^logformat $fmt " "$1") || e2e_die "no 'logformat $fmt' in $1"
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
            else if (t ~ /X-Pinsplice-Action}(>ha|adapt::<last_h)/) print "action", c
            else if (t ~ /X-Pinsplice-Rule}adapt::<last_h/) print "rule", c
            else if (t ~ /X-Pinsplice-Verify}adapt::<last_h/) print "verify", c
            else if (t ~ /X-Pinsplice-Monitor-Rule}adapt::<last_h/) print "monitor_rule", c
            else if (t ~ /X-Pinsplice-Monitor}adapt::<last_h/) print "monitor", c
        } }')
    case $fmt in
        pinsplice_icap) fields="client method status bump_mode sni host action rule" ;;
        *) fields="client method bump_mode sni host err tls action rule" ;;
    esac
    for need in $fields; do
        printf '%s\n' "$E2E_LOG_COLS" | grep -q "^$need " ||
            e2e_die "logformat $fmt has no field for '$need'"
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
