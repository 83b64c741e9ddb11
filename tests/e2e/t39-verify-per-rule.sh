#!/bin/bash
# t39: per-rule server verification (issue 13, schema v2) through real Squid. An app whose
# servers use a private CA (not in settings.verify_ca_file) is reached by an IP-literal CONNECT
# with its SNI, so its splice waits for a server check:
# - without a pin: the check fails (verify-failed), the connection is bumped;
# - with the server's SPKI pin in rule_pins (add_pin): verified, spliced, the app sees its own
#   certificate;
# - with the private CA as the rule's verify_ca_file instead: verified, spliced;
# - rules.verify = 'off' for that rule: spliced without a check; rules.verify = 'ip' with
#   settings.splice_verify = 'off': checked anyway;
# - rules.verify = 'always': a CONNECT by name is checked too (the name resolved as Squid would):
#   the genuine origin spliced, a server without a certificate for the name bumped.
# Every consulted check is in the helper's reply and access.log (pinsplice_verify_).
. "$(dirname "$0")/lib.sh"
e2e_init t39-verify-per-rule
# the origin's certificate also names localhost: the name a rule with verify 'always' resolves
# (through the system's resolver, /etc/hosts, as Squid resolves names it was not told about)
E2E_NAMES+=" localhost"
e2e_pki
e2e_origin_start
pki=$E2E_DIR/pki

# the private app: its own CA, a certificate for app.private.test, a TLS server
e2e_ca "$pki/private-ca" "private app CA"
e2e_leaf "$pki/app" "$pki/private-ca" app.private.test
chgrp proxy "$pki"/private-ca.pem && chmod 0640 "$pki"/private-ca.pem
app_pin=$(e2e_pin "$pki/app.pem")
e2e_tls_server_start app "$pki/app.pem" "$pki/app.key"
app=$E2E_SERVER_PORT

e2e_db_create \
    "UPDATE settings SET value = '$E2E_ORIGIN_CA' WHERE key = 'verify_ca_file';
     INSERT INTO add_domain (rule, domain) VALUES ('Private app', 'private.test');"
e2e_squid_start

# try WHAT: s_client to 127.0.0.1:$app with SNI app.private.test through Squid; sets E2E_ISSUER
# and E2E_REC (the decision's CONNECT record).
try() {
    e2e_log_mark
    E2E_ORIGIN_PORT=$app e2e_sclient 127.0.0.1 app.private.test
    e2e_log_wait "\$method == \"CONNECT\" && \$url ~ /:$app\$/ && \$status ~ /^NONE/" ||
        e2e_log_wait "\$method == \"CONNECT\" && \$url ~ /:$app\$/" 1 ||
        e2e_fail "$1: no CONNECT record in access.log"
}
# edit SQL: change the rules; the helper reloads on the edit (inotify; the snippet has ttl=0)
edit() { e2e_sql "$1"; sleep 2; }

# ---- no pin, the private CA unknown: bumped ------------------------------------------------------
try "no pin"
e2e_expect "no pin: bumped (the client sees the proxy's certificate)" "pinsplice e2e proxy CA" "$E2E_ISSUER"
e2e_expect "no pin: access.log action, rule, check" "bump Private app verify-failed" \
    "$(e2e_field action) $(e2e_field rule) $(e2e_field verify)"

# ---- the server's pin: spliced -----------------------------------------------------------------
edit "INSERT INTO add_pin (rule, spki_sha256) VALUES ('Private app', '$app_pin')"
e2e_expect "add_pin: stored without the sha256// prefix" "${app_pin#sha256//}" \
    "$(e2e_sql "SELECT value FROM rule_entries WHERE rule = 'Private app' AND kind = 'pin'")"
try "pinned"
e2e_expect "pinned: spliced (the client sees the app's own certificate)" "private app CA" "$E2E_ISSUER"
e2e_expect "pinned: access.log action, rule, check" "splice Private app verified" \
    "$(e2e_field action) $(e2e_field rule) $(e2e_field verify)"
# another rule keeps the global trust: the vendor's Zoom rule to the same server is still bumped
e2e_log_mark
E2E_ORIGIN_PORT=$app e2e_sclient 127.0.0.1 www.zoom.us
e2e_log_wait "\$method == \"CONNECT\" && \$url ~ /:$app\$/ && \$status ~ /^NONE/" ||
    e2e_fail "zoom to the app's server: no CONNECT record"
e2e_expect "a pin is the rule's own: Zoom's rule to that server stays bumped" \
    "bump Bypass Zoom - Pre-configured verify-failed" "$(e2e_field action) $(e2e_field rule) $(e2e_field verify)"

# ---- a wrong pin: bumped (verify-pin) ------------------------------------------------------------
edit "INSERT INTO remove_entry (rule, value, kind) VALUES ('Private app', '${app_pin#sha256//}', 'pin');
      INSERT INTO add_pin (rule, spki_sha256) VALUES ('Private app', '${E2E_ORIGIN_PIN#sha256//}')"
try "wrong pin"
e2e_expect "wrong pin: access.log action and check" "bump verify-pin" \
    "$(e2e_field action) $(e2e_field verify)"

# ---- the private CA as the rule's verify_ca_file: spliced ------------------------------------------
edit "INSERT INTO remove_entry (rule, value, kind) VALUES ('Private app', '${E2E_ORIGIN_PIN#sha256//}', 'pin');
      INSERT INTO edit_rule (rule, field, value) VALUES ('Private app', 'verify_ca_file', '$pki/private-ca.pem')"
try "the rule's own CA file"
e2e_expect "the rule's CA file: spliced" "private app CA" "$E2E_ISSUER"
e2e_expect "the rule's CA file: access.log action and check" "splice verified" \
    "$(e2e_field action) $(e2e_field verify)"

# ---- rules.verify = 'off': spliced without a check ---------------------------------------------------
edit "INSERT INTO edit_rule (rule, field, value) VALUES ('Private app', 'verify_ca_file', NULL),
                                                    ('Private app', 'verify', 'off')"
try "verify off"
e2e_expect "verify off: spliced" "private app CA" "$E2E_ISSUER"
e2e_expect "verify off: access.log action, no check" "splice -" "$(e2e_field action) $(e2e_field verify)"

# ---- rules.verify = 'ip' while settings.splice_verify = 'off': checked all the same ---------------
edit "UPDATE settings SET value = 'off' WHERE key = 'splice_verify';
      INSERT INTO edit_rule (rule, field, value) VALUES ('Private app', 'verify', 'ip')"
try "verify ip over a global off"
e2e_expect "verify ip over a global off: bumped, checked" "bump verify-failed" \
    "$(e2e_field action) $(e2e_field verify)"

# ---- rules.verify = 'always': a CONNECT by name is checked too ------------------------------------
edit "UPDATE settings SET value = 'ip' WHERE key = 'splice_verify';
      INSERT INTO add_domain (rule, domain, exact) VALUES ('Local always', 'localhost', 1);
      INSERT INTO edit_rule (rule, field, value) VALUES ('Local always', 'verify', 'always'),
                                                        ('Local always', 'position', 1);"
e2e_curl --pin --fresh localhost
e2e_expect "always, genuine origin by name: pinned curl works" 0 "$E2E_RC"
e2e_log_connect
e2e_expect "always, genuine origin by name: access.log action, rule, check" \
    "splice Local always verified" "$(e2e_field action) $(e2e_field rule) $(e2e_field verify)"
e2e_curl --pin --fresh --port "$app" localhost
e2e_expect "always, a server without a certificate for the name: pin fails (bumped)" 90 "$E2E_RC"
e2e_log_connect
e2e_expect "always, a server without a certificate for the name: access.log action, check" \
    "bump verify-failed" "$(e2e_field action) $(e2e_field verify)"
edit "INSERT INTO edit_rule (rule, field, value) VALUES ('Local always', 'verify', 'inherit')"
e2e_curl --pin --fresh --port "$app" localhost
e2e_log_connect
e2e_expect "inherit (ip): the same name CONNECT is not checked, spliced on the name" "splice -" \
    "$(e2e_field action) $(e2e_field verify)"

# ---- bad values are refused, naming them -------------------------------------------------------------
out=$(sqlite3 "$(e2e_db_path)" "INSERT INTO edit_rule (rule, field, value) VALUES ('Private app', 'verify', 'sometimes')" 2>&1)
e2e_expect_match "refused: verify 'sometimes'" 'rule "Private app": verify "sometimes": use inherit' "$out"
out=$(sqlite3 "$(e2e_db_path)" "INSERT INTO edit_rule (rule, field, value) VALUES ('Private app', 'verify_ca_file', 'ca.pem')" 2>&1)
e2e_expect_match "refused: a relative verify_ca_file" 'rule "Private app": verify_ca_file "ca.pem": an absolute path' "$out"
out=$(sqlite3 "$(e2e_db_path)" "INSERT INTO add_pin (rule, spki_sha256) VALUES ('Private app', 'sha256//tooshort=')" 2>&1)
e2e_expect_match "refused: a pin that is no SHA-256" 'pin "tooshort=": not the base64 of a SHA-256' "$out"

# ---- the helper's reply names the check ------------------------------------------------------------
reply=$(printf '9 app.private.test 127.0.0.1:%s 127.0.0.1 - - splice\n' "$app" |
    timeout 10 "$PS_HELPER" --concurrency --db "$(e2e_db_path)" 2>/dev/null)
e2e_expect "helper reply: pinsplice_verify_ names the outcome" \
    "9 ERR pinsplice_action_=bump pinsplice_rule_=\"Private app\" pinsplice_verify_=verify-failed message=\"server not verified: verify-failed\"" \
    "$reply"

e2e_check_squid_healthy "after t39"
e2e_finish
