#!/bin/bash
# t31-icap-squid: real Squid + real c-icap (srv_pinsplice) + curl --pinnedpubkey, with the
# shipped squid-conf/pinsplice-icap.conf.in:
#   - a pinned default-rule domain is spliced (curl exit 0, the origin CA seen), logged as such;
#     c-icap answered its CONNECT 200 (the decision header added);
#   - another name is bumped (exit 90, the proxy CA seen, "bump" logged from the ICAP response
#     header) although c-icap answered its CONNECT 204 (no header: the snippet's "bump all");
#     a rule on the client address works (the snippet makes Squid send X-Client-IP);
#   - the decision is made on the CONNECT host, not the SNI;
#   - a client that sends X-Pinsplice-Action itself is refused (403 inside the bumped
#     connection, nothing spliced), before c-icap sees it;
#   - a sqlite3 edit applies without restarting c-icap or Squid;
#   - with "peek" first, the synthetic second CONNECT gets the same decision;
#   - c-icap stopped: nothing is spliced, everything else still served (bypass=on).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-icap.sh"

e2e_init t31-icap-squid
icap_init
e2e_pki
e2e_origin_start
# A rule that needs the client address: proves the snippet makes Squid send X-Client-IP.
e2e_db_create \
    "INSERT INTO rules (name, action) VALUES ('Bank from loopback', 'splice');
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'bank.test' FROM rules WHERE name = 'Bank from loopback';
     INSERT INTO rule_sources (rule_id, source) SELECT id, '127.0.0.1/32' FROM rules WHERE name = 'Bank from loopback';"
zoom_rule=$(e2e_rule_for zoom.us)
[ -n "$zoom_rule" ] || e2e_die "the default rules have no rule for zoom.us"
icap_start
icap_squid_start

# icap_reqmods NAME [STATUS]: REQMOD lines in c-icap's access log with ICAP status STATUS
# (default 200) whose CONNECT host (huo) is NAME:port.
icap_reqmods() { grep -c " REQMOD ${2:-200} pinsplice $1:$E2E_ORIGIN_PORT " "$ICAP_ACCESS_LOG"; }

# ---- splice and bump --------------------------------------------------------------------------
e2e_check_spliced "default rule" www.zoom.us "$zoom_rule"
e2e_expect "default rule: the CONNECT went through c-icap once" 1 "$(icap_reqmods www.zoom.us)"
e2e_check_bumped "no rule" evilzoom.us
e2e_expect "no rule: c-icap answered the CONNECT 204 (unmodified)" "1 204, 0 200" \
    "$(icap_reqmods evilzoom.us 204) 204, $(icap_reqmods evilzoom.us) 200"
e2e_check_served "bumped, normal client" www.example.test
e2e_check_spliced "source rule (X-Client-IP from Squid)" www.bank.test "Bank from loopback"
e2e_check_squid_healthy "after splice and bump"

# ---- the CONNECT host decides, not the SNI -------------------------------------------------------
# CONNECT evilzoom.us with SNI www.zoom.us: bumped; CONNECT zoom.us with SNI evilzoom.us: spliced.
e2e_curl --pin --connect-to evilzoom.us www.zoom.us
e2e_expect "SNI www.zoom.us, CONNECT evilzoom.us: pin fails (bumped)" 90 "$E2E_RC"
e2e_log_connect
e2e_expect "SNI www.zoom.us, CONNECT evilzoom.us: logged bump" bump "$(e2e_field action)"
e2e_curl --pin --connect-to zoom.us evilzoom.us
e2e_expect "SNI evilzoom.us, CONNECT zoom.us: spliced" 0 "$E2E_RC"
e2e_expect "SNI evilzoom.us, CONNECT zoom.us: origin CA" "pinsplice e2e origin CA" "$E2E_ISSUER"

# ---- a client-sent decision header is refused --------------------------------------------------
# http_access denies the CONNECT before ICAP; Squid then bumps to show its error page, so a pinned
# client fails the pin and a client trusting the proxy CA reads 403.
# spoof NAME [curl options]: CONNECT NAME with "X-Pinsplice-Action: splice"; E2E_RC, SPOOF_CODE.
spoof() {
    local name=$1
    shift
    SPOOF_CODE=$(timeout "$E2E_TIMEOUT" curl -sS --proxy "http://127.0.0.1:$E2E_SQUID_PORT" \
        --cacert "$E2E_TRUST" --proxy-header "X-Pinsplice-Action: splice" -o /dev/null \
        -w '%{http_code}' "$@" "https://$name:$E2E_ORIGIN_PORT/" 2>"$E2E_DIR/spoof.err")
    E2E_RC=$?
}
reqmods_before=$(grep -c ' REQMOD ' "$ICAP_ACCESS_LOG")
e2e_log_mark
spoof evilzoom.us --pinnedpubkey "$E2E_ORIGIN_PIN"
e2e_expect "spoofed splice, pinned client: not spliced (pin fails)" 90 "$E2E_RC"
e2e_log_wait '$method == "CONNECT" && $status ~ /^TCP_DENIED/' 5
e2e_expect_match "spoofed splice: access.log TCP_DENIED" '^TCP_DENIED/' "$(e2e_field status)"
e2e_expect_match "spoofed splice: access.log ERR_ACCESS_DENIED" '^ERR_ACCESS_DENIED' "$(e2e_field err)"
spoof evilzoom.us
e2e_expect "spoofed splice, normal client: reads 403" 403 "$SPOOF_CODE"
e2e_expect "spoofed splice: never reached c-icap" "$reqmods_before" "$(grep -c ' REQMOD ' "$ICAP_ACCESS_LOG")"

# ---- a sqlite3 edit applies without restarting anything ----------------------------------------
icap_pid_before=$ICAP_PID squid_pid_before=$E2E_SQUID_PID
e2e_sql "INSERT INTO rules (name, action) VALUES ('Evil test', 'splice');
         INSERT INTO rule_domains (rule_id, domain) SELECT id, 'evilzoom.us' FROM rules WHERE name = 'Evil test';"
spliced_now() { e2e_curl --pin evilzoom.us; [ "$E2E_RC" = 0 ]; }
if e2e_poll 15 spliced_now; then e2e_pass "sqlite3 edit applied (${E2E_POLL_TOOK})"
else e2e_fail "sqlite3 edit not applied after 15 s (curl rc $E2E_RC)"; fi
e2e_log_connect
e2e_expect "edit: logged rule" "Evil test" "$(e2e_field rule)"
e2e_expect "edit: origin CA" "pinsplice e2e origin CA" "$E2E_ISSUER"
e2e_expect "edit: same c-icap" "$icap_pid_before" "$ICAP_PID"
e2e_expect "edit: same Squid" "$squid_pid_before" "$E2E_SQUID_PID"
e2e_sql "DELETE FROM rules WHERE name = 'Evil test';"

# ---- peek first: the synthetic CONNECT is decided the same way --------------------------------
e2e_squid_stop
ICAP_SNIPPET_EDIT='/^ssl_bump terminate pinsplice_icap_terminate/i ssl_bump peek pinsplice_icap_step1'
icap_squid_start
before=$(icap_reqmods zoom.us)
e2e_curl --pin --connect-to zoom.us evilzoom.us
e2e_expect "peek first: CONNECT zoom.us, SNI evilzoom.us spliced" 0 "$E2E_RC"
e2e_log_connect
e2e_expect "peek first: bump mode" splice "$(e2e_field bump_mode)"
e2e_expect "peek first: SNI seen" evilzoom.us "$(e2e_field sni)"
# Squid 5.7 was seen to send the synthetic CONNECT with the same request line and "Host: zoom.us"
# (no port); whatever its Host, it must be decided on the request line, as the first one was.
synth_seen() { [ $(( $(icap_reqmods zoom.us) - before )) -ge 2 ]; }
e2e_poll 5 synth_seen
e2e_expect "peek first: two REQMODs (the CONNECT and the synthetic one)" 2 \
    "$(( $(icap_reqmods zoom.us) - before ))"
e2e_expect "peek first: both decided splice on zoom.us by the same rule" \
    "2 x splice zoom.us [$zoom_rule]" \
    "$(grep " REQMOD 200 pinsplice zoom.us:$E2E_ORIGIN_PORT " "$ICAP_ACCESS_LOG" | tail -n 2 |
        sed 's/.*} //' | sort | uniq -c | sed 's/^ *\([0-9]*\) /\1 x /')"
e2e_check_bumped "peek first: no rule" evilzoom.us
e2e_check_squid_healthy "peek first"
e2e_squid_stop
ICAP_SNIPPET_EDIT=""
icap_squid_start

# ---- c-icap stopped: nothing spliced, the rest still served -------------------------------------
icap_stop
e2e_curl --pin www.zoom.us
e2e_expect "c-icap down: pinned curl to www.zoom.us bumped (pin fails)" 90 "$E2E_RC"
e2e_expect "c-icap down: proxy CA" "pinsplice e2e proxy CA" "$E2E_ISSUER"
e2e_log_connect
e2e_expect "c-icap down: bump mode" bump "$(e2e_field bump_mode)"
e2e_expect "c-icap down: no decision header" - "$(e2e_field action)"
e2e_check_served "c-icap down, normal client" www.example.test
spoof www.zoom.us
e2e_expect "c-icap down: spoofed splice still refused (403)" 403 "$SPOOF_CODE"
spoof www.zoom.us --pinnedpubkey "$E2E_ORIGIN_PIN"
e2e_expect "c-icap down: spoofed splice, pinned client not spliced" 90 "$E2E_RC"
e2e_check_squid_healthy "c-icap down"

e2e_finish
