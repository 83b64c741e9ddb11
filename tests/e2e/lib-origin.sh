# tests/e2e/lib-origin.sh: the TLS servers the e2e tests connect to through Squid (sourced by
# lib.sh): `openssl s_server -www`, which answers a GET with a status page. Each listens on a
# free port of its own and is stopped by the EXIT trap.

# e2e_tls_server_start LABEL CERT KEY [ADDR]: start a TLS server with CERT and KEY on a free
# port of ADDR (default 127.0.0.1; "[::1]" for IPv6), its output in $E2E_DIR/LABEL-PORT.log.
# Sets E2E_SERVER_PORT and E2E_SERVER_PID; dies when it does not start.
e2e_tls_server_start() {
    local label=$1 cert=$2 key=$3 addr=${4:-127.0.0.1} port pid try
    for try in 1 2 3 4 5; do
        port=$(e2e_free_port)
        openssl s_server -quiet -www -accept "$addr:$port" -cert "$cert" -key "$key" \
            </dev/null >>"$E2E_DIR/$label-$port.log" 2>&1 &
        pid=$!
        e2e_bg "$pid"
        if e2e_wait_listen "$pid" "$port" 10; then
            E2E_SERVER_PORT=$port
            E2E_SERVER_PID=$pid
            e2e_vlog "$label pid $pid on $addr:$port"
            return 0
        fi
        e2e_kill "$pid"
    done
    e2e_die "TLS server $label on $addr did not start: $(tail -n 5 "$E2E_DIR/$label-$port.log")"
}

# e2e_origin_start: start a TLS origin on 127.0.0.1 with the origin certificate (e2e_pki). Sets
# E2E_ORIGIN_PORT (first origin) and E2E_LAST_ORIGIN_PORT; may be called again for more origins.
e2e_origin_start() {
    e2e_tls_server_start origin "$E2E_ORIGIN_CERT" "$E2E_ORIGIN_KEY"
    E2E_LAST_ORIGIN_PORT=$E2E_SERVER_PORT
    : "${E2E_ORIGIN_PORT:=$E2E_SERVER_PORT}"
}

# e2e_attacker_start [NAME]: an attacker's TLS server on 127.0.0.1: a certificate for NAME
# (default www.zoom.us) from "attacker CA" ($E2E_DIR/pki/evil-ca.pem), a CA neither the
# clients nor the helper's server check trust. Needs e2e_pki first. Sets E2E_ATTACKER_PORT.
e2e_attacker_start() {
    local pki=$E2E_DIR/pki name=${1:-www.zoom.us}
    [ -f "$pki/evil-ca.pem" ] || e2e_ca "$pki/evil-ca" "attacker CA"
    e2e_leaf "$pki/evil" "$pki/evil-ca" "$name"
    e2e_tls_server_start attacker "$pki/evil.pem" "$pki/evil.key"
    E2E_ATTACKER_PORT=$E2E_SERVER_PORT
}
