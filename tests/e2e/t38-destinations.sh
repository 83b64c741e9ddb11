#!/bin/bash
# t38: destination ranges (issue 15) through real Squid. A rule with rule_destinations matches
# a CONNECT to an IP literal inside its ranges, never a CONNECT by name:
# - a client that sends no SNI (openssl s_client to an address) to a covered address: spliced;
#   to an address outside the range: bumped; to a name that resolves to the covered address:
#   bumped (Squid resolves names itself, a client must not steer that);
# - IPv6 likewise (::1 inside ::1/128);
# - the same rule with an SNI: the server is checked first (splice_verify = ip): the genuine
#   origin is spliced, an attacker's server inside the range is bumped with verify-failed;
# - add_destination refuses bad input naming it, `db check` flags a range wider than /16, and
#   enable_app turns a catalogue app's destinations into a rule of their own.
. "$(dirname "$0")/lib.sh"
e2e_init t38-destinations
e2e_pki
e2e_origin_start
port=$E2E_ORIGIN_PORT

# the same origin on 127.0.0.2 (outside the range) and on ::1
e2e_tls_server_start origin2 "$E2E_ORIGIN_CERT" "$E2E_ORIGIN_KEY" 127.0.0.2
port2=$E2E_SERVER_PORT
e2e_tls_server_start origin6 "$E2E_ORIGIN_CERT" "$E2E_ORIGIN_KEY" "[::1]"
port6=$E2E_SERVER_PORT
# an attacker inside the range: a certificate for unpinned.test from a CA nobody trusts
e2e_attacker_start unpinned.test
attacker=$E2E_ATTACKER_PORT

e2e_db_create \
    "UPDATE settings SET value = '$E2E_ORIGIN_CA' WHERE key = 'verify_ca_file';
     INSERT INTO rules (name) VALUES ('Range app');
     INSERT INTO add_destination (rule, cidr) VALUES ('Range app', '127.0.0.1'),
                                                     ('Range app', '::1');"
e2e_expect "add_destination: addresses stored as networks" "127.0.0.1/32, ::1/128" \
    "$(e2e_sql "SELECT destinations FROM rule_overview WHERE name = 'Range app'")"
e2e_squid_start

# sclient_rec WHAT HOST PORT [SNI|--no-sni]: s_client through Squid; sets E2E_REC to the CONNECT
# record for HOST:PORT.
sclient_rec() {
    local what=$1 host=$2 p=$3 sni=${4:---no-sni}
    e2e_log_mark
    E2E_ORIGIN_PORT=$p e2e_sclient "$host" "$sni"
    # every server listens on a port of its own: the port names the connection
    # (a spliced connection logs two CONNECT records: the decision's, NONE/200, carries the notes)
    e2e_log_wait "\$method == \"CONNECT\" && \$url ~ /:$p\$/ && \$status ~ /^NONE/" ||
        e2e_log_wait "\$method == \"CONNECT\" && \$url ~ /:$p\$/" 1 ||
        e2e_fail "$what: no CONNECT record for $host:$p in access.log"
}

# ---- no SNI, IPv4 ------------------------------------------------------------------------------
sclient_rec "covered address" 127.0.0.1 "$port"
e2e_expect "no SNI, covered address: the client sees the origin's certificate" \
    "pinsplice e2e origin CA" "$E2E_ISSUER"
e2e_expect "no SNI, covered address: access.log action" splice "$(e2e_field action)"
e2e_expect "no SNI, covered address: access.log rule" "Range app" "$(e2e_field rule)"
e2e_expect "no SNI, covered address: access.log bump mode" splice "$(e2e_field bump_mode)"
e2e_expect "no SNI, covered address: no SNI logged" "-" "$(e2e_field sni)"
e2e_expect "no SNI, covered address: no server check (no name to check)" "-" "$(e2e_field verify)"

sclient_rec "address outside the range" 127.0.0.2 "$port2"
e2e_expect "no SNI, outside the range: the client sees the proxy's certificate" \
    "pinsplice e2e proxy CA" "$E2E_ISSUER"
e2e_expect "no SNI, outside the range: access.log action" bump "$(e2e_field action)"
e2e_expect "no SNI, outside the range: access.log rule" "-" "$(e2e_field rule)"

# a name that resolves to the covered address (hosts_file): never a destination match
sclient_rec "name CONNECT to the covered address" www.example.test "$port"
e2e_expect "name CONNECT: bumped though the name resolves into the range" \
    "pinsplice e2e proxy CA" "$E2E_ISSUER"
e2e_expect "name CONNECT: access.log action" bump "$(e2e_field action)"

# ---- no SNI, IPv6 ------------------------------------------------------------------------------
sclient_rec "covered IPv6 address" "[::1]" "$port6"
e2e_expect "no SNI, ::1: the client sees the origin's certificate" "pinsplice e2e origin CA" "$E2E_ISSUER"
e2e_expect "no SNI, ::1: access.log action and rule" "splice Range app" \
    "$(e2e_field action) $(e2e_field rule)"

# ---- with an SNI: the server at the covered address is checked first ---------------------------
sclient_rec "covered address with an SNI, genuine server" 127.0.0.1 "$port" unpinned.test
e2e_expect "SNI, genuine server: spliced (origin certificate)" "pinsplice e2e origin CA" "$E2E_ISSUER"
e2e_expect "SNI, genuine server: access.log action, rule, check" "splice Range app verified" \
    "$(e2e_field action) $(e2e_field rule) $(e2e_field verify)"
sclient_rec "covered address with an SNI, attacker's server" 127.0.0.1 "$attacker" unpinned.test
e2e_expect "SNI, attacker inside the range: bumped (proxy certificate)" "pinsplice e2e proxy CA" "$E2E_ISSUER"
e2e_expect "SNI, attacker inside the range: access.log action, rule, check" \
    "bump Range app verify-failed" "$(e2e_field action) $(e2e_field rule) $(e2e_field verify)"

# ---- the management views, db check, the catalogue --------------------------------------------
PS=$PS_BUILDDIR/tools/pinsplice
out=$(sqlite3 "$(e2e_db_path)" "INSERT INTO add_destination (rule, cidr) VALUES ('Range app', '127.0.0.1/8')" 2>&1)
e2e_expect_match "refused: host bits set, the network named" \
    'destination "127\.0\.0\.1/8": host bits set \(the network is 127\.0\.0\.0/8\)' "$out"
out=$(sqlite3 "$(e2e_db_path)" "INSERT INTO add_destination (rule, cidr) VALUES ('Range app', 'example.com')" 2>&1)
e2e_expect_match "refused: a name is not a destination" 'destination "example\.com/32": not an IPv4 or IPv6 network' "$out"
out=$(sqlite3 "$(e2e_db_path)" "INSERT INTO add_destination (rule, cidr) VALUES ('No such rule', '192.0.2.0/24')" 2>&1)
e2e_expect_match "refused: unknown rule" 'add_destination: no rule named "No such rule"' "$out"
e2e_sql "INSERT INTO add_destination (rule, cidr) VALUES ('Range app', '10.0.0.0/8')"
out=$("$PS" db check --db "$(e2e_db_path)" 2>&1)
e2e_expect_match "db check: a /8 is flagged" \
    "rule 'Range app': warning: destination '10\\.0\\.0\\.0/8' is a /8: wider than /16 for IPv4.*\\[wide-destination\\]" "$out"
e2e_expect "db check: the /32 and /128 are not flagged" "" \
    "$(printf '%s\n' "$out" | grep -E "destination '(127\\.0\\.0\\.1/32|::1/128)'")"
e2e_sql "INSERT INTO apps (name) VALUES ('AnyDesk');
         INSERT INTO app_destinations (app_id, cidr) SELECT id, '192.0.2.0/24' FROM apps WHERE name = 'AnyDesk';
         INSERT INTO app_domains (app_id, domain) SELECT id, 'anydesk.test' FROM apps WHERE name = 'AnyDesk';
         INSERT INTO enable_app (app, by) VALUES ('AnyDesk', 'domain');"
e2e_expect "enable_app: domains and destinations in two rules" \
    "App: AnyDesk|anydesk.test| App: AnyDesk (destinations)||192.0.2.0/24" \
    "$(e2e_sql "SELECT group_concat(name || '|' || coalesce(domains, '') || '|' || coalesce(destinations, ''), ' ') FROM rule_overview WHERE name LIKE 'App: AnyDesk%'")"
e2e_expect "enable_app: the destinations' rule decides an IP-literal CONNECT" "splice App: AnyDesk (destinations)" \
    "$("$PS" check --db "$(e2e_db_path)" --host 192.0.2.44:443 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["action"], d["rule"])')"
e2e_expect "enable_app: the domains' rule still decides a name CONNECT" "splice App: AnyDesk" \
    "$("$PS" check --db "$(e2e_db_path)" --sni www.anydesk.test --host www.anydesk.test:443 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["action"], d["rule"])')"

e2e_check_squid_healthy "after t38"
e2e_finish
