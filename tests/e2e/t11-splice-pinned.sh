#!/bin/bash
# t11: a pinning client (curl --pinnedpubkey) to www.zoom.us through the bumping proxy works
# because the default rule splices it; the same client to a name no rule covers is bumped and
# fails its pin (issue 3, End-to-end tests, first scenario).
. "$(dirname "$0")/lib.sh"
e2e_init t11-splice-pinned
e2e_pki
e2e_origin_start
e2e_db_create
e2e_squid_start

zoom_rule="Bypass Zoom - Pre-configured"
e2e_expect "default DB: the rule holding zoom.us" "$zoom_rule" "$(e2e_rule_for zoom.us)"
e2e_expect "default DB: no rule holds unpinned.test" "" "$(e2e_rule_for unpinned.test)"

# Spliced: the client sees the origin's own certificate, so its pin holds.
e2e_check_spliced "zoom" www.zoom.us "$zoom_rule"
e2e_expect "zoom: access.log SNI" www.zoom.us "$(e2e_field sni)"
e2e_expect "zoom: access.log CONNECT host" www.zoom.us "$(e2e_field host)"
e2e_expect "zoom: access.log error" "-/-" "$(e2e_field err)"
zoom_port=$E2E_LPORT
e2e_log_wait "\$client == \"127.0.0.1:$zoom_port\" && \$status ~ /^TCP_TUNNEL/"
e2e_expect_match "zoom: tunnel record carries the bytes" '^[1-9][0-9]*$' "$(e2e_field bytes_out)"
e2e_expect "zoom: no request inside the tunnel was logged" "" \
    "$(e2e_log_find "\$client == \"127.0.0.1:$zoom_port\" && \$method != \"CONNECT\"")"

# Bumped: the client sees a certificate from the proxy CA; the pin fails (curl exit 90).
e2e_check_bumped "unruled" unpinned.test
e2e_expect "unruled: access.log rule" "-" "$(e2e_field rule)"
e2e_expect_match "unruled: access.log negotiated TLS version" '^TLS/1\.[23]$' "$(e2e_field tls)"
e2e_expect "unruled: pin failure is not a TLS error for Squid" "-/-" "$(e2e_field err)"

# A normal client (trusts the proxy CA, no pin) to the same name is bumped and served.
e2e_check_served "normal client" unpinned.test
e2e_expect "normal client: certificate issued by" "pinsplice e2e proxy CA" "$E2E_ISSUER"
e2e_log_wait "\$client == \"127.0.0.1:$E2E_LPORT\" && \$method == \"GET\""
e2e_expect "normal client: inner GET logged as bumped" bump "$(e2e_field bump_mode)"
e2e_expect_match "normal client: inner GET status" '/200$' "$(e2e_field status)"

e2e_check_squid_healthy "after t11"
e2e_finish
