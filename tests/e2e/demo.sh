#!/bin/bash
# pinsplice demo (the README's first command runs it, via ./quickstart demo): a loopback Squid 5.7
# that bumps TLS, with pinsplice and the default rules deciding per connection. Shows
#   1. a pinning client (curl --pinnedpubkey) to www.zoom.us that works only because it is spliced,
#   2. a normal client (trusts the proxy CA) to www.example.test, bumped: Squid's certificate,
#   3. the same pinning client against the bumped name failing (curl exit 90),
# and the access.log lines that record it. Cleans up after itself; exits non-zero when what it
# shows did not happen. Run from a build tree after `make` (as root):
#     PS_BUILDDIR=/path/to/build PS_SRCDIR=/path/to/src sh tests/e2e/demo.sh
# (both default to this file's tree; PS_KEEP=1 keeps the work dir with every config and log).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

demo_bad=0
say() { printf '%s\n' "$*"; }
# shown WHAT CONDITION-RESULT: print the verdict of one claim the demo makes.
claim() {
    if [ "$2" = 0 ]; then say "     [ok] $1"; else say "     [NOT SHOWN] $1"; demo_bad=$((demo_bad + 1)); fi
}
show_cmd() { say "   \$ $*"; }

e2e_init demo >/dev/null
e2e_pki
e2e_origin_start
e2e_db_create
e2e_squid_start
zoom_rule="Bypass Zoom - Pre-configured"
url_port=$E2E_ORIGIN_PORT
pin=$E2E_ORIGIN_PIN

say ""
say "pinsplice demo: Squid $(squid -v | sed -n 's/^Squid Cache: Version //p') bumping TLS on loopback, pinsplice deciding per connection"
say ""
say "  proxy    127.0.0.1:$E2E_SQUID_PORT  (http_port ssl-bump, signs with \"pinsplice e2e proxy CA\")"
say "  origin   127.0.0.1:$url_port  (one TLS server for every name, certificate from \"pinsplice e2e origin CA\")"
say "  rules    the default DB: $(e2e_sql "SELECT count(*) FROM rules WHERE enabled = 1;") enabled rules, e.g. \"$zoom_rule\" splices zoom.us and below"
say "  helper   $(grep -o '[^ ]*/ext_pinsplice_acl --db [^ ]*' "$E2E_DIR/squid/pinsplice.conf")"
say ""

# 1. The pinning app, spliced.
say "1. A pinning app (curl --pinnedpubkey = the origin's own key) to www.zoom.us"
show_cmd "curl --proxy http://127.0.0.1:$E2E_SQUID_PORT --pinnedpubkey '$pin' https://www.zoom.us:$url_port/"
e2e_curl --pin www.zoom.us
zoom_port=$E2E_LPORT
say "     exit $E2E_RC, certificate issued by \"$E2E_ISSUER\""
[ "$E2E_RC" = 0 ]; claim "the pin holds: the client got the origin's own certificate (spliced)" $?
[ "$E2E_ISSUER" = "pinsplice e2e origin CA" ]; claim "issuer is the origin CA, not the proxy" $?
e2e_log_connect "$zoom_port"
[ "$(e2e_field action)" = splice ] && [ "$(e2e_field rule)" = "$zoom_rule" ]
claim "access.log: pinsplice_action_=splice by \"$zoom_rule\"" $?
say ""

# 2. A normal client, bumped.
say "2. A normal client (trusts the proxy CA, no pin) to www.example.test: no rule, so it is bumped"
show_cmd "curl --proxy http://127.0.0.1:$E2E_SQUID_PORT --cacert proxy-ca.pem https://www.example.test:$url_port/"
e2e_curl www.example.test
normal_port=$E2E_LPORT
say "     exit $E2E_RC, certificate issued by \"$E2E_ISSUER\", $(wc -c <"$E2E_BODY" 2>/dev/null || echo 0) bytes of the origin's page"
[ "$E2E_RC" = 0 ] && grep -q s_server "$E2E_BODY" 2>/dev/null
claim "the page came through the proxy" $?
[ "$E2E_ISSUER" = "pinsplice e2e proxy CA" ]; claim "issuer is the proxy CA: Squid decrypted (bumped) the connection" $?
e2e_log_connect "$normal_port"
[ "$(e2e_field action)" = bump ]; claim "access.log: pinsplice_action_=bump" $?
say ""

# 3. The pinning app against a bumped name.
say "3. The same pinning app to www.example.test (bumped): what every pinning app sees without pinsplice"
show_cmd "curl --proxy http://127.0.0.1:$E2E_SQUID_PORT --pinnedpubkey '$pin' https://www.example.test:$url_port/"
e2e_curl --pin www.example.test
pinfail_port=$E2E_LPORT
say "     exit $E2E_RC: $(grep -o 'curl: ([0-9]*) .*' "$E2E_DIR/curl/err" | head -n 1)"
[ "$E2E_RC" = 90 ]; claim "curl exit 90: public key does not match the pin" $?
[ "$E2E_ISSUER" = "pinsplice e2e proxy CA" ]; claim "issuer is the proxy CA" $?
e2e_log_connect "$pinfail_port"
[ "$(e2e_field action)" = bump ]; claim "access.log: pinsplice_action_=bump" $?
say ""

# The log lines.
sleep 0.3
say "access.log (logformat pinsplice; fields: time, ms, client, status, bytes out/in, method, URL,"
say "user, bump mode, SNI, CONNECT host, error, TLS version, pinsplice_action_, pinsplice_rule_):"
for p in "$zoom_port" "$normal_port" "$pinfail_port"; do
    grep -F " 127.0.0.1:$p " "$E2E_ACCESS_LOG" | sed 's/^/  /'
done
say ""
say "In short:"
for p in "$zoom_port" "$normal_port" "$pinfail_port"; do
    e2e_log_connect "$p"
    printf '  %-22s CONNECT %-17s bump mode %-7s pinsplice_action_=%-7s rule=%s\n' \
        "$(e2e_field client)" "$(e2e_field host)" "$(e2e_field bump_mode)" "$(e2e_field action)" \
        "$(e2e_field rule)"
done
say ""

if [ "$demo_bad" -ne 0 ]; then
    say "DEMO FAILED: $demo_bad of the claims above did not happen (PS_KEEP=1 keeps the logs)."
    e2e_dump_logs
    exit 1
fi
say "Demo done: the pinning app works through the bumping proxy only where pinsplice splices."
say "Admins edit the rules through the management views (sqlite3, or 'pinsplice sql', which"
say "records who did it in the audit); e.g. after"
say "    pinsplice sql --db rules.db \"INSERT INTO edit_rule (rule, field, value) VALUES ('$zoom_rule', 'enabled', 0)\""
say "step 1 fails like step 3 within about a second, without touching Squid (tests/e2e/t14-hot-reload.sh)."
exit 0
