#!/bin/bash
# t29: no uninspected tunnel on the client's word alone (issue 13). A CONNECT to an IP literal
# with a covered SNI (www.zoom.us) is spliced only after the helper has checked that the server
# at that address and port holds a certificate for www.zoom.us from settings.verify_ca_file:
# - the genuine origin (origin CA): spliced, the pinning curl works;
# - an attacker's server whose certificate names www.zoom.us but comes from another CA: bumped;
# - a port that accepts and never answers: bumped once the check times out, while other
#   connections are answered meanwhile;
# - the same attacker with splice_verify = 'off': spliced, as before the check existed;
# - a second connection within the cache time starts no new check.
. "$(dirname "$0")/lib.sh"
e2e_init t29-verify-splice
e2e_require python3
# The helper reports each failed check in cache.log (its stderr), at info level: no WARNING.
e2e_pki
e2e_origin_start
genuine=$E2E_ORIGIN_PORT

# The attacker: its own CA, a certificate for www.zoom.us, a TLS server on another port.
e2e_attacker_start www.zoom.us
attacker=$E2E_ATTACKER_PORT

# A server that accepts TCP connections and never says a word.
silent=$(e2e_free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$silent" &
pid=$!
e2e_bg "$pid"
e2e_wait_listen "$pid" "$silent" 10 || e2e_die "silent server did not start"

e2e_db_create
e2e_sql "UPDATE settings SET value = '$E2E_ORIGIN_CA' WHERE key = 'verify_ca_file';
         UPDATE settings SET value = '1500' WHERE key = 'verify_timeout_ms';"
e2e_expect "settings: splice_verify defaults to ip" ip \
    "$(e2e_sql "SELECT value FROM settings WHERE key = 'splice_verify'")"
e2e_squid_start
zoom="Bypass Zoom - Pre-configured"

# ---- the genuine server: verified, spliced -----------------------------------------------------
e2e_check_spliced "IP-literal CONNECT, genuine server" www.zoom.us "$zoom" --port "$genuine" \
    --connect-to 127.0.0.1
e2e_expect "genuine: access.log CONNECT host is the address" 127.0.0.1 "$(e2e_field host)"
e2e_expect "genuine: access.log SNI" www.zoom.us "$(e2e_field sni)"
e2e_expect "genuine: access.log server check outcome (field 17)" verified "$(e2e_field verify)"

# ---- the attacker: same name, another CA: bumped -----------------------------------------------
e2e_check_bumped "IP-literal CONNECT, attacker's server" www.zoom.us --port "$attacker" \
    --connect-to 127.0.0.1
e2e_expect "attacker: access.log rule of the refused splice" "$zoom" "$(e2e_field rule)"
e2e_expect "attacker: access.log server check outcome (field 17)" verify-failed "$(e2e_field verify)"
e2e_cachelog_wait "server check 127\\.0\\.0\\.1:$attacker www\\.zoom\\.us: verify-failed" 0 5
e2e_expect "attacker: cache.log names the check and its reason" 1 \
    "$(e2e_cachelog_count "server check 127\\.0\\.0\\.1:$attacker www\\.zoom\\.us: verify-failed")"

# A name CONNECT is not checked (Squid resolves the name itself: hosts_file -> 127.0.0.1).
e2e_check_spliced "name CONNECT, no check needed" www.zoom.us "$zoom" --port "$genuine"

# ---- a server that never answers: bumped after the timeout, others answered meanwhile ----------
# Once bumped, Squid itself waits for that server's certificate, so the client times out either
# way: what counts is the helper's answer (bump, after the 1500 ms check timeout) and that other
# connections were answered while the check was pending.
slow_port=$(e2e_free_port)
t0=$(e2e_now_ms)
timeout 20 curl -sS --proxy "http://127.0.0.1:$E2E_SQUID_PORT" --local-port "$slow_port" \
    --cacert "$E2E_TRUST" --pinnedpubkey "$E2E_ORIGIN_PIN" --connect-to "::127.0.0.1:" \
    --max-time 4 -o /dev/null "https://www.zoom.us:$silent/" >/dev/null 2>"$E2E_DIR/slow.err" &
slow=$!
sleep 0.3
# Meanwhile: a bumped connection and a cached splice are answered at once.
t1=$(e2e_now_ms)
e2e_check_served "while a check hangs: a bumped connection" unpinned.test
e2e_check_spliced "while a check hangs: the genuine server (cached check)" www.zoom.us "$zoom" \
    --port "$genuine" --connect-to 127.0.0.1 --fresh
t2=$(e2e_now_ms)
if [ $((t2 - t1)) -lt 1200 ]; then
    e2e_pass "while a check hangs: two other connections answered in $((t2 - t1)) ms"
else
    e2e_fail "while a check hangs: two other connections took $((t2 - t1)) ms (check timeout 1500)"
fi
timeout_line="server check 127\\.0\\.0\\.1:$silent www\\.zoom\\.us: verify-timeout"
e2e_cachelog_wait "$timeout_line" 0 5
slow_ms=$(($(e2e_now_ms) - t0))
e2e_expect "never-answering server: cache.log says verify-timeout" 1 "$(e2e_cachelog_count "$timeout_line")"
if [ "$slow_ms" -ge 1400 ] && [ "$slow_ms" -lt 3500 ]; then
    e2e_pass "never-answering server: check given up after the 1500 ms timeout (~${slow_ms} ms)"
else
    e2e_fail "never-answering server: check given up after ${slow_ms} ms (timeout 1500)"
fi
wait "$slow"
slow_rc=$?
e2e_expect_not "never-answering server: the client got no working connection" 0 "$slow_rc"
# The helper's own replies, on its stdin: the pending line is answered last, bump, with its reason.
replies=$(printf '1 www.zoom.us 127.0.0.1:%s 127.0.0.1 - - splice\n2 unpinned.test unpinned.test:443 127.0.0.1 - - splice\n' \
    "$silent" | timeout 10 "$PS_HELPER" --concurrency --db "$(e2e_db_path)" 2>/dev/null)
e2e_expect "helper: the line behind the hanging check is answered first" 2 \
    "$(printf '%s\n' "$replies" | head -n 1 | cut -d' ' -f1)"
e2e_expect "helper: the hanging check's line: bump, verify-timeout" \
    "1 ERR pinsplice_action_=bump pinsplice_rule_=\"$zoom\" pinsplice_verify_=verify-timeout message=\"server not verified: verify-timeout\"" \
    "$(printf '%s\n' "$replies" | sed -n 2p)"

# ---- the cache: a second connection starts no new check ----------------------------------------
# --fresh changes the line (a new X-Client-Process), so Squid's own answer cache cannot answer it.
e2e_check_bumped "attacker again (cached result)" www.zoom.us --port "$attacker" \
    --connect-to 127.0.0.1 --fresh
e2e_expect "attacker again: no second check in cache.log" 1 \
    "$(e2e_cachelog_count "server check 127\\.0\\.0\\.1:$attacker www\\.zoom\\.us: ")"

# ---- pinsplice check --verify: the same check, by hand, with the certificate shown -----------
out=$("$PS_BUILDDIR/tools/pinsplice" check --db "$(e2e_db_path)" --sni www.zoom.us --host "127.0.0.1:$attacker")
e2e_expect_match "check: says a check is needed" "check: +needed before splicing: 127\\.0\\.0\\.1:$attacker as www\\.zoom\\.us" "$out"
out=$("$PS_BUILDDIR/tools/pinsplice" check --db "$(e2e_db_path)" --sni www.zoom.us --host "127.0.0.1:$attacker" --verify)
e2e_expect_match "check --verify, attacker: bump" "action: +bump" "$out"
e2e_expect_match "check --verify, attacker: verdict" "verdict: +verify-failed" "$out"
e2e_expect_match "check --verify, attacker: issuer shown" "issuer: +/CN=attacker CA" "$out"
e2e_expect_match "check --verify, attacker: SAN shown" "SAN: +www\\.zoom\\.us" "$out"
json=$("$PS_BUILDDIR/tools/pinsplice" check --db "$(e2e_db_path)" --sni www.zoom.us --host "127.0.0.1:$genuine" --verify --json)
e2e_expect "check --verify --json, genuine: action and verdict" "splice verified 127.0.0.1:$genuine" \
    "$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["action"], d["check"]["verdict"], d["check"]["target"])')"

# ---- splice_verify = 'off': the name is trusted, as before -------------------------------------
e2e_sql "UPDATE settings SET value = 'off' WHERE key = 'splice_verify'"
sleep 2 # the helper reloads on the edit (inotify); the snippet has ttl=0
e2e_curl --pin --port "$attacker" --connect-to 127.0.0.1 --fresh www.zoom.us
e2e_log_connect
e2e_expect "splice_verify off: attacker spliced (access.log)" splice "$(e2e_field action)"
e2e_expect "splice_verify off: no server check in access.log (field 17)" "-" "$(e2e_field verify)"
e2e_expect "splice_verify off: curl refuses the attacker's certificate itself (exit 60)" 60 "$E2E_RC"
E2E_ORIGIN_PORT=$attacker e2e_sclient 127.0.0.1 www.zoom.us
e2e_expect "splice_verify off: s_client sees the attacker's certificate, not the proxy's" \
    "attacker CA" "$E2E_ISSUER"

# ---- bad settings are refused by the DB, nothing changes ---------------------------------------
before=$(e2e_sql "SELECT group_concat(key || '=' || value, ' ') FROM settings WHERE key LIKE '%verify%'")
for bad in "splice_verify:sometimes" "verify_ca_file:relative.pem" "verify_timeout_ms:50" \
    "verify_timeout_ms:3s"; do
    k=${bad%%:*} v=${bad#*:}
    out=$(sqlite3 "$(e2e_db_path)" "UPDATE settings SET value = '$v' WHERE key = '$k'" 2>&1)
    e2e_expect_match "refused: $k = '$v'" "settings\\.$k: " "$out"
done
e2e_expect "refused edits left the settings as they were" "$before" \
    "$(e2e_sql "SELECT group_concat(key || '=' || value, ' ') FROM settings WHERE key LIKE '%verify%'")"

e2e_check_squid_healthy "after t29"
e2e_finish
