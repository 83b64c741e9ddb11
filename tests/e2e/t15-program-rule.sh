#!/bin/bash
# t15: a rule for program zoom.exe + domain zoom.us splices only when the CONNECT carries
# "X-Client-Process: Zoom.exe" from a source listed in settings.program_trusted_sources, and
# never from an untrusted one (issue 3, End-to-end tests; issue 2 program semantics).
. "$(dirname "$0")/lib.sh"
e2e_init t15-program-rule
e2e_pki
e2e_origin_start
prog_rule="e2e Zoom by program"
# Only the program rule may splice zoom.us here: the domain-only default rule is disabled.
e2e_db_create \
    "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured';" \
    "INSERT INTO rules (name, position, comment) VALUES ('$prog_rule', 1, 'tests/e2e/t15');" \
    "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'zoom.us' FROM rules WHERE name = '$prog_rule';" \
    "INSERT INTO rule_programs (rule_id, os, program) SELECT id, 'windows', 'zoom.exe' FROM rules WHERE name = '$prog_rule';"
e2e_expect "default DB trusts no source's program name" "" \
    "$(e2e_sql "SELECT value FROM settings WHERE key = 'program_trusted_sources';")"
e2e_squid_start
limit=15

# Untrusted (the default): the header is ignored, whatever it says.
e2e_check_bumped "untrusted, Zoom.exe" www.zoom.us --program Zoom.exe
e2e_expect "untrusted: access.log rule" "-" "$(e2e_field rule)"
e2e_check_bumped "untrusted, no header" www.zoom.us

# Trust 127.0.0.1 (the test client): the next lookups believe the header.
e2e_sql "UPDATE settings SET value = '127.0.0.1/32' WHERE key = 'program_trusted_sources';"
if e2e_poll "$limit" e2e_pinned_rc_is 0 --program Zoom.exe www.zoom.us; then
    e2e_pass "trusted, Zoom.exe: spliced after ${E2E_POLL_TOOK}"
else
    e2e_fail "trusted, Zoom.exe: not spliced after ${limit}s (last curl exit $E2E_RC)"
fi
e2e_check_spliced "trusted, Zoom.exe" www.zoom.us "$prog_rule" --program Zoom.exe
e2e_check_spliced "trusted, full Windows path" www.zoom.us "$prog_rule" \
    --program 'C:\Program Files\Zoom\bin\Zoom.exe'
e2e_check_spliced "trusted, lower case" zoom.us "$prog_rule" --program zoom.exe
e2e_check_bumped "trusted, no header" www.zoom.us
e2e_check_bumped "trusted, another program" www.zoom.us --program curl.exe
e2e_check_bumped "trusted, look-alike program" www.zoom.us --program Zoom.exe.evil
e2e_check_bumped "trusted, Zoom.exe to a name outside the rule" unpinned.test --program Zoom.exe
e2e_check_bumped "trusted, Zoom.exe to a look-alike name" evilzoom.us --program Zoom.exe

# Trust another network only: 127.0.0.1 is untrusted again.
e2e_sql "UPDATE settings SET value = '10.0.0.0/8, 192.0.2.0/24' WHERE key = 'program_trusted_sources';"
if e2e_poll "$limit" e2e_pinned_rc_is 90 --program Zoom.exe www.zoom.us; then
    e2e_pass "source no longer trusted: bumped after ${E2E_POLL_TOOK}"
else
    e2e_fail "source no longer trusted: still spliced after ${limit}s"
fi
e2e_check_bumped "untrusted again, Zoom.exe" www.zoom.us --program Zoom.exe

e2e_check_squid_healthy "after t15"
e2e_finish
