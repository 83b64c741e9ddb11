#!/bin/bash
# t19 (fault): over-long and malformed fields reach the helper through Squid: huge
# X-Client-Process headers (over the helper's field and line limits), escapes and control bytes
# in it, and SNIs that are not host names. Nothing is spliced that the rules would not splice,
# Squid keeps serving, the helper keeps answering (issue 3, End-to-end tests, fault cases).
. "$(dirname "$0")/lib.sh"
e2e_init t19-malformed-fields
# cache.log may hold the helper's own warning for each malformed line this test sends, nothing else.
E2E_LOG_ALLOW='^ext_pinsplice_acl: WARNING: malformed request answered ERR: '
e2e_pki
e2e_origin_start
prog_rule="e2e example by program"
# www.example.test is spliced only for program zoom.exe from a trusted source (127.0.0.1), so a
# program field the helper misreads as "zoom.exe" would show up as a splice.
e2e_db_create \
    "UPDATE settings SET value = '127.0.0.1/32' WHERE key = 'program_trusted_sources';" \
    "INSERT INTO rules (name, position) VALUES ('$prog_rule', 1);" \
    "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'example.test' FROM rules WHERE name = '$prog_rule';" \
    "INSERT INTO rule_programs (rule_id, program) SELECT id, 'zoom.exe' FROM rules WHERE name = '$prog_rule';"
zoom_rule="Bypass Zoom - Pre-configured"
e2e_squid_start
helpers=$(e2e_helper_pids)
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; }

# Control: the rule does splice with a well-formed program name.
e2e_check_spliced "control, Zoom.exe" www.example.test "$prog_rule" --program Zoom.exe

# Program header variants that must not become "zoom.exe".
e2e_check_bumped "program with an escape (Zoom%2Eexe)" www.example.test --program 'Zoom%2Eexe'
e2e_check_bumped "program with %00 (Zoom.exe%00)" www.example.test --program 'Zoom.exe%00'
e2e_check_bumped "program with %00 inside (Zoom%00.exe)" www.example.test --program 'Zoom%00.exe'
e2e_check_bumped "program with a bad escape (Zoom.exe%)" www.example.test --program 'Zoom.exe%'
e2e_check_bumped "program with control bytes" www.example.test --program "$(printf 'Zoom.exe\001\177')"
e2e_check_bumped "program with a tab" www.example.test --program "$(printf 'Zoom.exe\tx')"
e2e_check_bumped "program, 5000 bytes" www.example.test --program "$(rep A 5000)"
e2e_check_bumped "program, 40000 bytes" www.example.test --program "$(rep A 40000)"
e2e_check_bumped "program, 60000 bytes" www.example.test --program "$(rep B 60000)"

# A 20000-byte path ending in \Zoom.exe: the rules would splice it (trusted source, basename
# zoom.exe) but it is over the helper's line limit, so ERR (bump) is also fine. Whatever the
# decision, the client must see what access.log says was decided.
e2e_curl --pin --program "C:\\$(rep D 20000)\\Zoom.exe" www.example.test
e2e_log_connect
action=$(e2e_field action)
e2e_expect_match "long path: the helper answered" '^(splice|bump)$' "$action"
case $action in
    splice) e2e_expect "long path: spliced, pinned curl exits 0" 0 "$E2E_RC" ;;
    *) e2e_expect "long path: bumped, pinned curl fails the pin" 90 "$E2E_RC" ;;
esac

# SNIs that are not host names (openssl s_client sends them as given).
e2e_check_sclient bump "SNI with %00" www.zoom.us 'www.zoom.us%00.evil.test'
e2e_check_sclient bump "SNI with a space" www.zoom.us 'www zoom.us'
e2e_check_sclient bump "SNI with a 64-byte label under zoom.us" www.zoom.us "$(rep a 64).zoom.us"
long_sni="$(for i in $(seq 7); do printf '%s.' "$(rep b 30)"; done)$(rep c 29).zoom.us"
e2e_expect "(setup) the long SNI is one byte over the 253-byte limit" 254 "${#long_sni}"
e2e_check_sclient bump "SNI of 254 bytes under zoom.us" www.zoom.us "$long_sni"
e2e_check_sclient bump "SNI with bytes over 0x7f" www.zoom.us "$(printf 'www.zo\377om.us')"
e2e_check_sclient bump "SNI with an empty label" www.zoom.us 'www..zoom.us'

# Still answering, still deciding right, with the same helper process.
e2e_check_spliced "after the faults" www.zoom.us "$zoom_rule" --fresh
e2e_check_spliced "after the faults, program rule" www.example.test "$prog_rule" --program zoom.exe
e2e_check_bumped "after the faults, unruled" unpinned.test --fresh
e2e_check_served "after the faults" unpinned.test --fresh
e2e_check_helpers_same "after t19" "$helpers"
e2e_check_squid_healthy "after t19"
e2e_finish
