#!/bin/bash
# t30-icap-service: srv_pinsplice in a real c-icap, driven with c-icap-client (no Squid).
#   - OPTIONS advertises the REQMOD service (preview 0, 204);
#   - CONNECT zoom.us:443 -> 200, X-Pinsplice-Action splice, the default rule's name, and the
#     decision header added to the CONNECT; evilzoom.us:443 -> bump (default): 204, the CONNECT
#     unmodified (no decision header: the snippet bumps), X-Pinsplice-Action/-Rule still in the
#     ICAP headers; without "Allow: 204" outside a preview, a bump is a 200 without the header;
#     GET -> 204;
#   - client-sent copies of the decision header are removed (exact name only), and then even a
#     bump is a 200 with "X-Pinsplice-Action: bump" in the CONNECT instead;
#   - client IP (X-Client-IP), user (X-Client-Username, X-Authenticated-User) and program
#     (X-Client-Process from a trusted source) reach the rules;
#   - malformed encapsulated requests are answered (bump) and the children survive;
#   - a sqlite3 edit applies without restart; a DB that stops loading keeps the last rules;
#   - no DB: every CONNECT bump (no-rules); `pinsplice:reload` loads at once;
#   - the info service shows the counters, and c-icap's access log the pinsplice attributes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-icap.sh"

e2e_init t30-icap-service
icap_init
e2e_require base64
E2E_DB=$(e2e_db_path)

# Rules for the source / user / program dimensions, next to the shipped defaults.
e2e_db_create \
    "UPDATE settings SET value = '10.9.8.0/24' WHERE key = 'program_trusted_sources';" \
    "INSERT INTO rules (name, action) VALUES ('Lab net', 'splice'), ('Alice only', 'splice'),
         ('Zoom tool', 'splice'), ('Block bad', 'terminate');
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'lab.test' FROM rules WHERE name = 'Lab net';
     INSERT INTO rule_sources (rule_id, source) SELECT id, '10.9.8.0/24' FROM rules WHERE name = 'Lab net';
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'user.test' FROM rules WHERE name = 'Alice only';
     INSERT INTO rule_sources (rule_id, source) SELECT id, 'user:alice' FROM rules WHERE name = 'Alice only';
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'prog.test' FROM rules WHERE name = 'Zoom tool';
     INSERT INTO rule_programs (rule_id, program) SELECT id, 'zoomtool.exe' FROM rules WHERE name = 'Zoom tool';
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'bad.test' FROM rules WHERE name = 'Block bad';"
zoom_rule=$(e2e_rule_for zoom.us)
[ -n "$zoom_rule" ] || e2e_die "the default rules have no rule for zoom.us"

icap_start
n_splice=0 n_bump=0 n_term=0 n_other=0

# expect_decision WHAT TARGET ACTION RULE [c-icap-client options...]: the ICAP headers name the
# action and rule; a bump is answered 204 (the CONNECT as sent, without a decision header), a
# splice or terminate 200 with "DecisionHeader: ACTION" in the CONNECT. WANT_STATUS / WANT_REQ
# (the decision header(s) expected in the returned CONNECT, "" for none) override the status and
# the header, e.g. for a client copy, which turns a bump into a 200 with the copy replaced.
expect_decision() {
    local what=$1 target=$2 action=$3 rule=$4 status=200 req=$3
    shift 4
    [ "$action" = bump ] && status=204 req=""
    icap_connect "$target" "$@"
    e2e_expect "$what: ICAP status" "${WANT_STATUS:-$status}" "$ICAP_STATUS"
    e2e_expect "$what: X-Pinsplice-Action" "$action" "$ICAP_ACTION"
    e2e_expect "$what: X-Pinsplice-Rule" "$rule" "$ICAP_RULE"
    e2e_expect "$what: decision header in the CONNECT" "${WANT_REQ-$req}" "$ICAP_REQ_ACTION"
    case $action in
        splice) n_splice=$((n_splice + 1)) ;;
        bump) n_bump=$((n_bump + 1)) ;;
        terminate) n_term=$((n_term + 1)) ;;
    esac
}

# ---- OPTIONS ----------------------------------------------------------------------------------
icap_client -s pinsplice -v
e2e_expect_match "OPTIONS: status" '^[[:space:]]*ICAP/1.0 200' "$(printf '%s\n' "$ICAP_OUT" | grep 'ICAP/1.0' | head -n 1)"
e2e_expect_match "OPTIONS: Methods" 'Methods: REQMOD$' "$(printf '%s\n' "$ICAP_OUT" | grep 'Methods:')"
e2e_expect_match "OPTIONS: Service names pinsplice" 'Service: .*pinsplice' "$(printf '%s\n' "$ICAP_OUT" | grep 'Service:')"
e2e_expect_match "OPTIONS: Preview 0" 'Preview: 0$' "$(printf '%s\n' "$ICAP_OUT" | grep -E '^\s*Preview:')"
e2e_expect_match "OPTIONS: Allow 204" 'Allow: 204' "$(printf '%s\n' "$ICAP_OUT" | grep -E '^\s*Allow:')"
e2e_expect_match "OPTIONS: asks for X-Client-IP" 'X-Include: .*X-Client-IP' "$(printf '%s\n' "$ICAP_OUT" | grep 'X-Include')"

# ---- CONNECT decisions ------------------------------------------------------------------------
expect_decision "zoom.us" zoom.us:443 splice "$zoom_rule"
expect_decision "www.zoom.us (subdomain)" www.zoom.us:443 splice "$zoom_rule"
expect_decision "ZOOM.US. (case, trailing dot)" ZOOM.US.:443 splice "$zoom_rule"
expect_decision "evilzoom.us" evilzoom.us:443 bump "(default)"
expect_decision "zoom.us.evil.test" zoom.us.evil.test:443 bump "(default)"
expect_decision "IPv6 literal" '[2001:db8::1]:443' bump "(default)"
expect_decision "bad name" 'bad..name:443' bump "(bad-name)"
expect_decision "terminate rule" bad.test:443 terminate "Block bad"
expect_decision "no preview, no 204" zoom.us:443 splice "$zoom_rule" -nopreview -no204
expect_decision "bump, no preview (Allow: 204)" evilzoom.us:443 bump "(default)" -nopreview
# No 204 allowed outside a preview: c-icap sends the CONNECT back unmodified in a 200; still no
# decision header, so still bumped by the snippet.
WANT_STATUS=200 expect_decision "bump, no preview, no 204" evilzoom.us:443 bump "(default)" \
    -nopreview -no204
e2e_expect_match "bump, no preview, no 204: CONNECT returned as sent" \
    '^[[:space:]]*CONNECT evilzoom.us:443 HTTP/' "$(printf '%s\n' "$ICAP_OUT" | sed -n '/^REQMOD HEADERS:/,/^$/p' | grep CONNECT)"

# ---- not a CONNECT: 204 at once ----------------------------------------------------------------
icap_client -s pinsplice -method GET -req http://zoom.us/ -v
icap_parse
n_other=$((n_other + 1))
e2e_expect "GET: ICAP status" 204 "$ICAP_STATUS"
e2e_expect "GET: no X-Pinsplice-Action" "" "$ICAP_ACTION"
icap_client -s pinsplice -method POST -req http://zoom.us/upload -v
icap_parse
n_other=$((n_other + 1))
e2e_expect "POST: ICAP status" 204 "$ICAP_STATUS"

# ---- the client's own decision header is removed ----------------------------------------------
WANT_STATUS=200 WANT_REQ=bump expect_decision "spoofed splice removed" evilzoom.us:443 bump \
    "(default)" -hx "X-Pinsplice-Action: splice" -hx "x-pinsplice-action:splice" \
    -hx "X-Pinsplice-Action-Note: keep me"
e2e_expect_match "spoof: look-alike header kept" 'X-Pinsplice-Action-Note: keep me' \
    "$(printf '%s\n' "$ICAP_OUT" | grep 'X-Pinsplice-Action-Note')"
expect_decision "spoofed bump replaced" zoom.us:443 splice "$zoom_rule" -hx "X-Pinsplice-Action: bump"

# ---- client IP, user, program --------------------------------------------------------------------
expect_decision "source in 10.9.8.0/24" lab.test:443 splice "Lab net" -x "X-Client-IP: 10.9.8.7"
expect_decision "source outside" lab.test:443 bump "(default)" -x "X-Client-IP: 10.9.9.7"
expect_decision "no client IP" lab.test:443 bump "(default)"
expect_decision "user alice" user.test:443 splice "Alice only" -x "X-Client-Username: alice"
expect_decision "user bob" user.test:443 bump "(default)" -x "X-Client-Username: bob"
expect_decision "X-Authenticated-User alice (base64, as Squid sends it)" user.test:443 splice \
    "Alice only" -x "X-Authenticated-User: $(printf 'alice' | base64)"
# Squid prefixes nothing: a "scheme://" is part of the name, compared exactly (issue 12 item 6).
expect_decision "X-Authenticated-User Local://alice is not alice" user.test:443 bump "(default)" \
    -x "X-Authenticated-User: $(printf 'Local://alice' | base64)"
expect_decision "user mallory://alice is not alice" user.test:443 bump "(default)" \
    -x "X-Client-Username: mallory://alice"
expect_decision "program from a trusted source" prog.test:443 splice "Zoom tool" \
    -x "X-Client-IP: 10.9.8.7" -hx 'X-Client-Process: C:\Program Files\Zoom\ZoomTool.EXE'
expect_decision "program from an untrusted source" prog.test:443 bump "(default)" \
    -x "X-Client-IP: 192.0.2.1" -hx 'X-Client-Process: ZoomTool.exe'
expect_decision "look-alike program header ignored" prog.test:443 bump "(default)" \
    -x "X-Client-IP: 10.9.8.7" -hx 'X-Client-Process-X: ZoomTool.exe'

# ---- malformed requests: answered, nobody crashes ---------------------------------------------
kids_before=$(ps -o pid= --ppid "$ICAP_PID" | sort | tr -d ' ' | paste -sd, -)
raw=$E2E_DIR/raw
mkdir -p "$raw"
# icap_req FILE HTTP-HEADER-BLOCK: a REQMOD with this encapsulated header block (CRLF lines).
icap_req() {
    local hdr=$2
    printf 'REQMOD icap://127.0.0.1:%s/pinsplice ICAP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\nAllow: 204\r\nPreview: 0\r\nEncapsulated: req-hdr=0, null-body=%d\r\n\r\n%s' \
        "$ICAP_PORT" "${#hdr}" "$hdr" >"$1"
}
icap_req "$raw/noversion" $'CONNECT zoom.us:443\r\nHost: zoom.us:443\r\n\r\n'
icap_req "$raw/notarget" $'CONNECT  HTTP/1.1\r\nHost: zoom.us\r\n\r\n'
icap_req "$raw/ctl" $'CONNECT zo\x01om.us:443 HTTP/1.1\r\n\r\n'
icap_req "$raw/binary" $'\x80\xff\xfe garbage \x7f\r\nX: \xff\r\n\r\n'
icap_req "$raw/longtarget" "CONNECT $(head -c 5000 /dev/zero | tr '\0' a):443 HTTP/1.1"$'\r\n\r\n'
icap_req "$raw/longhost" "CONNECT $(head -c 300 /dev/zero | tr '\0' a).com:443 HTTP/1.1"$'\r\n\r\n'
for f in noversion notarget ctl longtarget; do
    reply=$(icap_raw "$raw/$f" | tr -d '\r')
    e2e_expect_match "malformed CONNECT ($f) answered 204" '^ICAP/1.0 204' "$(printf '%s\n' "$reply" | head -n 1)"
    e2e_expect_match "malformed CONNECT ($f) bumped" 'X-Pinsplice-Action: bump' "$reply"
    n_bump=$((n_bump + 1))
done
reply=$(icap_raw "$raw/longhost" | tr -d '\r')
e2e_expect_match "over-long host name bumped" 'X-Pinsplice-Rule: \(bad-name\)' "$reply"
n_bump=$((n_bump + 1))
# A client copy of the decision header after 1100 other lines (past any scan limit) is removed
# too: the answer is a 200 whose request carries no client copy (issue 12 item 2), not a 204
# that leaves it for Squid's ACL.
filler=$(for i in $(seq 1100); do printf 'X-Filler-%d: v\r\n' "$i"; done)
icap_req "$raw/deepspoof" "CONNECT evilzoom.us:443 HTTP/1.1"$'\r\n'"Host: evilzoom.us:443"$'\r\n'"$filler"$'\nX-Pinsplice-Action: splice\r\n\r\n'
reply=$(timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$ICAP_PORT"'; cat "$1" >&3; timeout 3 cat <&3' \
    _ "$raw/deepspoof" 2>/dev/null | tr -d '\r')
e2e_expect_match "deep client copy: answered 200 (request modified)" '^ICAP/1.0 200' \
    "$(printf '%s\n' "$reply" | head -n 1)"
e2e_expect "deep client copy: no client 'splice' copy left" 0 \
    "$(printf '%s\n' "$reply" | grep -ci '^X-Pinsplice-Action: *splice')"
e2e_expect "deep client copy: the fillers are kept" 1100 "$(printf '%s\n' "$reply" | grep -c '^X-Filler-')"
n_bump=$((n_bump + 1))
reply=$(icap_raw "$raw/binary" | tr -d '\r')
e2e_expect_match "binary request line answered 204" '^ICAP/1.0 204' "$(printf '%s\n' "$reply" | head -n 1)"
n_other=$((n_other + 1))
sleep 0.3
kids_after=$(ps -o pid= --ppid "$ICAP_PID" | sort | tr -d ' ' | paste -sd, -)
e2e_expect "c-icap children unchanged after malformed input" "$kids_before" "$kids_after"
expect_decision "still deciding after malformed input" zoom.us:443 splice "$zoom_rule"

# ---- hot reload on a sqlite3 edit ---------------------------------------------------------------
e2e_sql "INSERT INTO rules (name, action) VALUES ('Evil test', 'splice');
         INSERT INTO rule_domains (rule_id, domain) SELECT id, 'evilzoom.us' FROM rules WHERE name = 'Evil test';"
n_poll=0
edit_applied() { n_poll=$((n_poll + 1)); icap_connect evilzoom.us:443; [ "$ICAP_RULE" = "Evil test" ]; }
if e2e_poll 10 edit_applied; then
    e2e_pass "sqlite3 edit applied without restart (${E2E_POLL_TOOK})"
    n_splice=$((n_splice + 1))
else
    e2e_fail "sqlite3 edit not applied after 10 s (last: $ICAP_ACTION $ICAP_RULE)"
fi
n_bump=$((n_bump + n_poll - 1))   # the polls that still saw the old rules answered bump

# ---- a DB that stops loading keeps the last good rules -----------------------------------------
cp "$E2E_DB" "$E2E_DIR/good.db"
printf 'this is not a database' >"$E2E_DIR/bad.db"
mv "$E2E_DIR/bad.db" "$E2E_DB"
failed_logged() { grep -q 'not a database\|file is not' "$ICAP_SERVER_LOG"; }
e2e_poll 10 failed_logged && e2e_pass "broken DB reported in the server log" ||
    e2e_fail "broken DB not reported in $ICAP_SERVER_LOG"
expect_decision "broken DB: last rules kept" evilzoom.us:443 splice "Evil test"
mv "$E2E_DIR/good.db" "$E2E_DB"

# ---- counters and the access log ---------------------------------------------------------------
sleep 1.2   # let the once-a-second statistics sync see the last loads
expect_decision "after sync" zoom.us:443 splice "$zoom_rule"
n_connect_bump=$n_bump
e2e_expect "info: splice" "$n_splice" "$(icap_info splice)"
e2e_expect "info: terminate" "$n_term" "$(icap_info terminate)"
e2e_expect "info: bump" "$n_connect_bump" "$(icap_info bump)"
e2e_expect "info: not CONNECT" "$n_other" "$(icap_info 'not CONNECT (204)')"
e2e_expect "info: requests" "$((n_splice + n_term + n_connect_bump + n_other))" "$(icap_info requests)"
# 4: the three spoofs above with c-icap-client, and the one past 1100 lines
e2e_expect "info: client decision headers removed" 4 "$(icap_info 'client decision headers removed')"
e2e_expect "info: malformed CONNECT" 4 "$(icap_info 'malformed CONNECT (bump)')"
reloads=$(icap_info reloads)
e2e_expect_match "info: reloads (2 children x initial + edit)" '^([3-9]|[1-9][0-9]+)$' "$reloads"
e2e_expect_match "info: load failures" '^[1-9][0-9]*$' "$(icap_info 'load failures')"
rec=$(grep ' zoom.us:443 ' "$ICAP_ACCESS_LOG" | grep ' splice ' | tail -n 1)
e2e_expect_match "access log: %{pinsplice:action}Sa / host / rule" \
    " splice zoom.us \[$zoom_rule\]\$" "$rec"
rec=$(grep 'bad.test' "$ICAP_ACCESS_LOG" | tail -n 1)
e2e_expect_match "access log: terminate" " terminate bad.test \[Block bad\]\$" "$rec"
rec=$(grep ' REQMOD 204 pinsplice zoom.us.evil.test:443 ' "$ICAP_ACCESS_LOG" | tail -n 1)
e2e_expect_match "access log: a bump answered 204 still logs its attributes" \
    " bump zoom.us.evil.test \[\(default\)\]\$" "$rec"

# ---- no rules at all, then pinsplice:reload ------------------------------------------------------
icap_stop
E2E_DB_SAVED=$E2E_DB
ICAP_DB=$E2E_DIR/later/rules.db ICAP_RELOAD=0 icap_start
expect_decision "no DB: bump" zoom.us:443 bump "(no-rules)"
mkdir -p "$E2E_DIR/later"
cp "$E2E_DB_SAVED" "$E2E_DIR/later/rules.db"
sleep 1.5
expect_decision "ReloadInterval 0: DB not looked at by itself" zoom.us:443 bump "(no-rules)"
icap_cmd pinsplice:reload
reload_applied() { icap_connect zoom.us:443; [ "$ICAP_ACTION" = splice ]; }
if e2e_poll 5 reload_applied; then e2e_pass "pinsplice:reload loaded the rules (${E2E_POLL_TOOK})"
else e2e_fail "pinsplice:reload: still $ICAP_ACTION $ICAP_RULE"; fi
expect_decision "after pinsplice:reload" zoom.us:443 splice "$zoom_rule"
icap_stop

# ---- FailOpen on: no rules -> splice, a malformed CONNECT still bump --------------------------
ICAP_DB=$E2E_DIR/none.db ICAP_EXTRA="pinsplice.FailOpen on" icap_start
expect_decision "FailOpen, no rules" evilzoom.us:443 splice "(no-rules)"
reply=$(icap_raw "$raw/noversion" | tr -d '\r')
e2e_expect_match "FailOpen: malformed CONNECT still bumped" 'X-Pinsplice-Action: bump' "$reply"
icap_stop

# ---- a bad directive stops c-icap at start ----------------------------------------------------------
for bad in "pinsplice.DecisionHeader Host" "pinsplice.DecisionHeader X Y" \
        "pinsplice.ReloadInterval -1" "pinsplice.Database relative.db"; do
    printf 'PidFile %s/bad.pid\nCommandsSocket %s/bad.ctl\nPort 127.0.0.1:%s\nServerLog %s/bad.log\nServicesDir %s\nService pinsplice %s\n%s\n' \
        "$ICAP_DIR" "$ICAP_DIR" "$(e2e_free_port)" "$ICAP_DIR" "$(dirname "$ICAP_MODULE")" \
        "$(basename "$ICAP_MODULE")" "$bad" >"$ICAP_DIR/bad.conf"
    out=$(timeout 10 c-icap -N -D -f "$ICAP_DIR/bad.conf" 2>&1)
    e2e_expect_match "refused: $bad" 'Fatal error while parsing config file' "$out"
done

e2e_finish
