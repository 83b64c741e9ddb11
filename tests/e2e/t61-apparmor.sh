#!/bin/bash
# t61: the AppArmor rule the package ships (debian/apparmor/pinsplice-squid, hooked into
# /etc/apparmor.d/local/usr.sbin.squid by postinst) compiles inside Debian's real Squid profile
# and grants the helper read+lock on the DB, its journal, -wal and -shm (issue 10, item 2).
# apparmor_parser compiles without loading (-Q -K -T), so no AppArmor kernel is needed. The
# system's /etc/apparmor.d is copied, never changed; its disable/ dir is dropped from the copy
# (the parser silently skips disabled profiles, which would make a pass meaningless).
. "$(dirname "$0")/lib.sh"
e2e_init t61-apparmor
e2e_require apparmor_parser

rule=$PS_SRCDIR/debian/apparmor/pinsplice-squid
profile=/etc/apparmor.d/usr.sbin.squid
[ -r "$rule" ] || e2e_die "$rule missing"
[ -r "$profile" ] || e2e_missing "$profile not found (package squid)"

aa=$E2E_DIR/apparmor.d
cp -a /etc/apparmor.d "$aa" && rm -rf "$aa/disable" "$aa/force-complain" || e2e_die "copy of /etc/apparmor.d failed"
cp "$rule" "$aa/local/pinsplice-squid"
# The line postinst adds (kept in one place: the test reads it from postinst).
line=$(sed -n "s/^AA_LINE='\(.*\)'$/\1/p" "$PS_SRCDIR/debian/pinsplice.postinst")
e2e_expect "postinst names the include line" "include if exists <local/pinsplice-squid>" "$line"
printf '%s\n' "$line" >>"$aa/local/usr.sbin.squid"

compile() { apparmor_parser -Q -K -T -b "$aa" "$aa/usr.sbin.squid" >"$E2E_DIR/aa.log" 2>&1; }
compile
e2e_expect "Squid's profile with our rule compiles" 0 "$?"

# What the compiled profile contains: the preprocessed text of profile /usr/sbin/squid.
apparmor_parser -p -b "$aa" "$aa/usr.sbin.squid" 2>/dev/null >"$E2E_DIR/expanded" ||
    e2e_die "apparmor_parser -p failed"
body=$(awk '/^\/usr\/sbin\/squid .*\{/ {p=1} p' "$E2E_DIR/expanded")
e2e_expect "our rule sits inside profile /usr/sbin/squid" 1 \
    "$(printf '%s\n' "$body" | grep -c '^##included <local/pinsplice-squid>')"
e2e_expect "helpers in /usr/lib/squid inherit Squid's profile (ix)" 1 \
    "$(printf '%s\n' "$body" | grep -cE '^ *(/usr/lib/squid\{,3\}/\*|/usr/lib/squid/\*) rmix,')"
e2e_expect "nothing in the profile denies /var/lib" 0 "$(printf '%s\n' "$body" | grep -cE '^ *(audit +)?deny .*/var/lib')"

# Each DB path the helper opens is matched by one of our rules with r and k. AppArmor's "**"
# matches across '/', "*" within one component: bash's [[ == ]] glob with * is the same for these
# paths (no '/' after the directory).
for p in /var/lib/pinsplice/rules.db /var/lib/pinsplice/rules.db-journal \
         /var/lib/pinsplice/rules.db-wal /var/lib/pinsplice/rules.db-shm; do
    ok=0
    while read -r glob perms; do
        perms=${perms%,}
        g=${glob//\*\*/*}
        [[ $p == $g ]] && [[ $perms == *r* ]] && [[ $perms == *k* ]] && ok=1
    done < <(grep -E '^ *[/@]' "$rule")
    e2e_expect "rule grants read+lock on $p" 1 "$ok"
done

# Negative control: a malformed rule must make the compile fail (the check above is real).
echo '  /var/lib/pinsplice/** rkz,' >>"$aa/local/pinsplice-squid"
compile
e2e_expect_not "a malformed rule fails the compile" 0 "$?"

e2e_finish
