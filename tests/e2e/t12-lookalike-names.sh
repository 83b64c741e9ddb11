#!/bin/bash
# t12: a domain rule covers the name and the names below it at a label boundary, nothing else:
# evilzoom.us and zoom.us.evil.test are bumped; zoom.us, ZOOM.US. and another default rule's
# subdomain are spliced (issue 3, End-to-end tests).
. "$(dirname "$0")/lib.sh"
e2e_init t12-lookalike-names
e2e_pki
e2e_origin_start
e2e_db_create
e2e_squid_start

zoom_rule="Bypass Zoom - Pre-configured"
lync_rule="Bypass Microsoft Lync and Skype - Pre-configured"
e2e_expect "default DB: the rule holding lync.com" "$lync_rule" "$(e2e_rule_for lync.com)"

# Look-alikes: a suffix that is not at a label boundary, and zoom.us as a left-hand label.
e2e_check_bumped "suffix without a dot" evilzoom.us
e2e_expect "evilzoom.us: access.log rule" "-" "$(e2e_field rule)"
e2e_check_bumped "zoom.us as a subdomain of another name" zoom.us.evil.test
e2e_expect "zoom.us.evil.test: access.log rule" "-" "$(e2e_field rule)"

# The rule's own name, and spellings of it.
e2e_check_spliced "apex" zoom.us "$zoom_rule"
e2e_check_spliced "upper case, trailing dot (curl)" ZOOM.US. "$zoom_rule"
# curl lower-cases the name and drops the dot before sending it; openssl s_client sends the SNI
# exactly as given, so the helper itself has to normalise "ZOOM.US.".
e2e_check_sclient splice "upper case, trailing dot (raw SNI)" ZOOM.US. ZOOM.US.
e2e_expect "raw SNI reached Squid unchanged" "ZOOM.US." "$(e2e_field sni)"
e2e_expect "raw SNI: access.log rule" "$zoom_rule" "$(e2e_field rule)"
e2e_check_sclient splice "mixed case subdomain (raw SNI)" www.zoom.us WwW.ZoOm.Us
e2e_check_sclient bump "look-alike (raw SNI, upper case)" evilzoom.us EVILZOOM.US.

# Another default rule: the right rule is named in the log.
e2e_check_spliced "another default rule" teams.lync.com "$lync_rule"

e2e_check_squid_healthy "after t12"
e2e_finish
