#!/bin/bash
# t13: a CONNECT to a spliced name with a different SNI is not spliced, nor is the reverse
# (domain fronting); SNI and CONNECT host that both fall under the rule, or a CONNECT without
# SNI, are (issue 3, End-to-end tests; decision semantics of issue 2).
. "$(dirname "$0")/lib.sh"
e2e_init t13-sni-mismatch
e2e_pki
e2e_origin_start
e2e_db_create
e2e_squid_start

# curl --connect-to: CONNECT unpinned.test, TLS SNI www.zoom.us (the pinning client's name).
e2e_check_bumped "CONNECT unruled, SNI spliced name (curl --connect-to)" www.zoom.us --connect-to unpinned.test
e2e_expect "curl --connect-to: access.log SNI" www.zoom.us "$(e2e_field sni)"
e2e_expect "curl --connect-to: access.log CONNECT host" unpinned.test "$(e2e_field host)"
e2e_expect "curl --connect-to: access.log rule" "-" "$(e2e_field rule)"

# The other way round: CONNECT to the spliced name, SNI of another name.
e2e_check_bumped "CONNECT spliced name, SNI unruled (curl --connect-to)" unpinned.test --connect-to www.zoom.us
e2e_expect "CONNECT www.zoom.us: access.log CONNECT host" www.zoom.us "$(e2e_field host)"

# openssl s_client: CONNECT host and SNI chosen independently.
e2e_check_sclient bump "CONNECT www.zoom.us, SNI www.example.test" www.zoom.us www.example.test
e2e_expect "s_client: access.log SNI" www.example.test "$(e2e_field sni)"
e2e_check_sclient bump "CONNECT www.example.test, SNI www.zoom.us" www.example.test www.zoom.us
e2e_check_sclient bump "CONNECT evilzoom.us, SNI zoom.us" evilzoom.us zoom.us

# Controls: both names under zoom.us, or no SNI at all (the CONNECT host decides).
e2e_check_sclient splice "CONNECT www.zoom.us, SNI zoom.us" www.zoom.us zoom.us
e2e_check_sclient splice "CONNECT www.zoom.us, no SNI" www.zoom.us --no-sni
e2e_expect "no SNI: access.log SNI" "-" "$(e2e_field sni)"

# settings.no_sni_action (issue 15): the same no-SNI connection, bumped by policy, then terminated.
e2e_sql "UPDATE settings SET value = 'bump' WHERE key = 'no_sni_action'"
sleep 2 # the helper reloads on the edit (inotify); the snippet has ttl=0
e2e_check_sclient bump "no_sni_action bump: CONNECT www.zoom.us, no SNI" www.zoom.us --no-sni
e2e_check_sclient splice "no_sni_action bump: with an SNI, the rule still splices" www.zoom.us zoom.us
e2e_sql "UPDATE settings SET value = 'terminate' WHERE key = 'no_sni_action'"
sleep 2
e2e_sclient www.zoom.us --no-sni
e2e_expect_not "no_sni_action terminate: no TLS session with anyone" 0 "$E2E_RC"
e2e_expect "no_sni_action terminate: no certificate seen" "" "$E2E_ISSUER"

e2e_check_squid_healthy "after t13"
e2e_finish
