#!/bin/bash
# t32-icap-both: the helper and the ICAP service together, as the README's "Using both" says:
# both snippets without their ssl_bump lines, one combined ssl_bump block. ICAP decides on the
# CONNECT host at step 1, the helper on the SNI at step 2; either one's splice splices (the
# helper's own rule: with an SNI and a different CONNECT name, both must match).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-icap.sh"

e2e_init t32-icap-both
icap_init
e2e_pki
e2e_origin_start
e2e_db_create
e2e_sql "UPDATE settings SET value = '$E2E_ORIGIN_CA' WHERE key = 'verify_ca_file'"
zoom_rule=$(e2e_rule_for zoom.us)
icap_start

s=$E2E_DIR/squid
mkdir -p "$s"
e2e_snippet "$s/pinsplice-helper.conf"
sed -i '/^ssl_bump /d' "$s/pinsplice-helper.conf"
chgrp proxy "$s/pinsplice-helper.conf" && chmod 0640 "$s/pinsplice-helper.conf"
ICAP_SNIPPET_EDIT='/^ssl_bump /d'
E2E_SQUID_POST="ssl_bump terminate pinsplice_icap_terminate
ssl_bump splice pinsplice_icap_splice
ssl_bump peek pinsplice_step1
ssl_bump terminate pinsplice_terminate
ssl_bump splice pinsplice_splice
ssl_bump bump all"
icap_squid_start "$s/pinsplice-helper.conf"
e2e_expect "one ssl_bump block (6 lines)" 6 "$(cat "$s"/*.conf | grep -c '^ssl_bump ')"

# ICAP splices on the CONNECT host at step 1: no SNI was read.
e2e_check_spliced "ICAP splice" www.zoom.us "$zoom_rule"
e2e_expect "ICAP splice: at step 1 (no SNI logged)" - "$(e2e_field sni)"

# CONNECT by IP address (ICAP: no name, bump), SNI www.zoom.us (helper: splice once it has checked
# that 127.0.0.1 holds a certificate for www.zoom.us from verify_ca_file) -> spliced at step 2 by
# the helper. This is what combining buys: ICAP never sees a name here.
e2e_curl --pin --connect-to 127.0.0.1 www.zoom.us
e2e_expect "CONNECT by IP, helper splices on the SNI: pinned curl exits 0" 0 "$E2E_RC"
e2e_expect "CONNECT by IP, helper splices on the SNI: origin CA" "pinsplice e2e origin CA" "$E2E_ISSUER"
e2e_log_connect
e2e_expect "CONNECT by IP: ICAP said bump" bump "$(e2e_field action)"
e2e_expect "CONNECT by IP: bump mode" splice "$(e2e_field bump_mode)"
e2e_expect "CONNECT by IP: SNI logged" www.zoom.us "$(e2e_field sni)"

# CONNECT evilzoom.us, SNI www.zoom.us: ICAP bumps on the host, and the helper, seeing two
# different names, wants both to match a rule: bumped.
e2e_check_bumped "CONNECT evilzoom.us, SNI www.zoom.us" www.zoom.us --connect-to evilzoom.us

# Neither says splice: bumped.
e2e_check_bumped "neither" evilzoom.us
e2e_check_served "neither, normal client" www.example.test
e2e_check_squid_healthy "both paths"

e2e_finish
