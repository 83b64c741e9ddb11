#!/bin/bash
# t37: monitor mode (issue 14) through real Squid. A rule in mode 'monitor' never changes an
# answer: the real decision is the one the rules after it (or the default action) make, and
# access.log carries what the monitor rule would have done (fields 18-19: pinsplice_monitor_,
# pinsplice_monitor_rule_). One statement (edit_rule) switches it to enforce, and then
# it decides. `pinsplice check` shows the monitor match beside the real decision. Then the same
# through c-icap's pinsplice service: X-Pinsplice-Monitor / X-Pinsplice-Monitor-Rule.
. "$(dirname "$0")/lib.sh"
e2e_init t37-monitor
e2e_pki
e2e_origin_start
zoom="Bypass Zoom - Pre-configured"
# Two monitor rules tried first: one that would terminate Zoom (the vendor's splice rule decides
# meanwhile), one that would splice a name nothing covers (the default action bumps meanwhile).
e2e_db_create \
    "INSERT INTO add_domain (rule, domain, action) VALUES ('Watch zoom', 'zoom.us', 'terminate');
     INSERT INTO add_domain (rule, domain) VALUES ('Try unpinned', 'unpinned.test');
     INSERT INTO edit_rule (rule, field, value) VALUES ('Watch zoom', 'mode', 'monitor'),
         ('Watch zoom', 'position', 1), ('Try unpinned', 'mode', 'monitor'),
         ('Try unpinned', 'position', 2);"
e2e_expect "rule_overview: both rules shown in monitor mode" "Watch zoom|monitor|monitor Try unpinned|monitor|monitor" \
    "$(e2e_sql "SELECT group_concat(name || '|' || mode || '|' || state, ' ') FROM rule_overview WHERE position < 10")"
e2e_squid_start
grep -q 'pinsplice_monitor_rule_' "$E2E_DIR/squid/pinsplice.conf" ||
    e2e_die "the snippet's logformat has no pinsplice_monitor_rule_ field"

# ---- monitor 'terminate' over a real splice: still spliced, the annotation logged --------------
e2e_check_spliced "zoom under a monitor rule" www.zoom.us "$zoom"
e2e_expect "zoom: access.log monitor action" terminate "$(e2e_field monitor)"
e2e_expect "zoom: access.log monitor rule" "Watch zoom" "$(e2e_field monitor_rule)"

# ---- monitor 'splice' over the default bump: still bumped, the annotation logged ---------------
e2e_check_bumped "unpinned.test under a monitor rule" unpinned.test
e2e_expect "unpinned: access.log rule (none decided)" "-" "$(e2e_field rule)"
e2e_expect "unpinned: access.log monitor action" splice "$(e2e_field monitor)"
e2e_expect "unpinned: access.log monitor rule" "Try unpinned" "$(e2e_field monitor_rule)"
e2e_check_served "unpinned.test, normal client, still inspected" unpinned.test

# ---- no monitor rule matches: no annotation -----------------------------------------------------
e2e_check_bumped "a name no rule covers" www.example.test
e2e_expect "www.example.test: access.log monitor action" "-" "$(e2e_field monitor)"
e2e_expect "www.example.test: access.log monitor rule" "-" "$(e2e_field monitor_rule)"

# ---- logscan on this access.log: the evidence for switching a monitor rule to enforce ----------
"$PS_BUILDDIR/tools/pinsplice" logscan --json --no-db "$E2E_ACCESS_LOG" >"$E2E_DIR/logscan.json"
mon() {
    python3 - "$E2E_DIR/logscan.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = [r for r in d["monitor_rules"] if r["rule"] == sys.argv[2]]
if not m:
    print("absent"); sys.exit()
m = m[0]
w = [k for k in ("splice", "terminate") if m["would"][k]]
print("would %s %d, decided splice %d bump %d, abandoned %d, carried %d" % (
    ",".join(w), m["would"]["total"], m["decided"]["splice"], m["decided"]["bump"],
    m["abandoned"], m["carried"]))
PY
}
e2e_expect "logscan: Try unpinned matched 2 bumped connections: 1 abandoned (the pinned client), 1 carried requests" \
    "would splice 2, decided splice 0 bump 2, abandoned 1, carried 1" "$(mon 'Try unpinned')"
e2e_expect "logscan: Watch zoom would have terminated the spliced zoom connection" \
    "would terminate 1, decided splice 1 bump 0, abandoned 0, carried 0" "$(mon 'Watch zoom')"
"$PS_BUILDDIR/tools/pinsplice" logscan --no-db "$E2E_ACCESS_LOG" >"$E2E_DIR/logscan.txt"
e2e_expect_match "logscan text: the monitor section names the rule" \
    "^ +2 splice +0 +2 +1 +1  Try unpinned$" "$(cat "$E2E_DIR/logscan.txt")"

# ---- pinsplice check: the monitor match beside the real decision ------------------------------
PS=$PS_BUILDDIR/tools/pinsplice
out=$("$PS" check --db "$(e2e_db_path)" --sni unpinned.test)
e2e_expect_match "check: the real decision" "action: +bump" "$out"
e2e_expect_match "check: the monitor match" "monitor: +splice by Try unpinned \\(id [0-9]+; mode monitor: not applied\\)" "$out"
json=$("$PS" check --db "$(e2e_db_path)" --sni www.zoom.us --json)
e2e_expect "check --json: decision and monitor" "splice $zoom terminate Watch zoom" \
    "$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["action"], d["rule"], d["monitor"]["action"], d["monitor"]["rule"])')"

# ---- one statement switches the rule to enforce: now it decides -------------------------------
e2e_sql "INSERT INTO edit_rule (rule, field, value) VALUES ('Try unpinned', 'mode', 'enforce')"
e2e_expect "audit: the switch is recorded with old and new mode" "monitor enforce" \
    "$(e2e_sql "SELECT old ->> 'mode', new ->> 'mode' FROM audit WHERE tbl = 'rules' AND op = 'UPDATE' ORDER BY id DESC LIMIT 1" | tr '|' ' ')"
sleep 2 # the helper reloads on the edit (inotify); the snippet has ttl=0
e2e_check_spliced "unpinned.test once enforced" unpinned.test "Try unpinned" --fresh
e2e_expect "enforced: no monitor annotation left" "-" "$(e2e_field monitor)"

# ---- a bad mode is refused, naming the value --------------------------------------------------
out=$(sqlite3 "$(e2e_db_path)" "INSERT INTO edit_rule (rule, field, value) VALUES ('Watch zoom', 'mode', 'watch')" 2>&1)
e2e_expect_match "refused: mode 'watch'" "edit_rule: rule \"Watch zoom\": mode \"watch\": use enforce" "$out"

# ---- the helper's own reply carries the pairs --------------------------------------------------
reply=$(printf '5 www.zoom.us www.zoom.us:443 127.0.0.1 - - splice\n' |
    timeout 10 "$PS_HELPER" --concurrency --db "$(e2e_db_path)" 2>/dev/null)
e2e_expect "helper reply: monitor pairs between rule and message" \
    "5 OK pinsplice_action_=splice pinsplice_rule_=\"$zoom\" pinsplice_monitor_=terminate pinsplice_monitor_rule_=\"Watch zoom\" message=\"rule matched\"" \
    "$reply"

e2e_check_squid_healthy "after t37 (helper)"

# ---- the same through the ICAP service (pinsplice-icap.conf, decided on the CONNECT host) -----
. "$(dirname "$0")/lib-icap.sh"
icap_init
e2e_squid_stop
icap_start
icap_squid_start
grep -q 'X-Pinsplice-Monitor-Rule' "$E2E_DIR/squid/pinsplice-icap.conf" ||
    e2e_die "the ICAP snippet's logformat has no X-Pinsplice-Monitor-Rule field"
e2e_check_spliced "ICAP: zoom under a monitor rule" www.zoom.us "$zoom" --fresh
e2e_expect "ICAP: zoom: access.log monitor action (X-Pinsplice-Monitor)" terminate "$(e2e_field monitor)"
e2e_expect "ICAP: zoom: access.log monitor rule (X-Pinsplice-Monitor-Rule)" "Watch zoom" "$(e2e_field monitor_rule)"
e2e_sql "INSERT INTO add_domain (rule, domain) VALUES ('Watch evil', 'evilzoom.us');
         INSERT INTO edit_rule (rule, field, value) VALUES ('Watch evil', 'mode', 'monitor');"
sleep 2 # c-icap reloads (pinsplice.ReloadInterval 1)
e2e_check_bumped "ICAP: a monitor rule over the default bump" evilzoom.us --fresh
e2e_expect "ICAP: evilzoom.us: access.log monitor action" splice "$(e2e_field monitor)"
e2e_expect "ICAP: evilzoom.us: access.log monitor rule" "Watch evil" "$(e2e_field monitor_rule)"
e2e_check_bumped "ICAP: no monitor rule" www.example.test --fresh
e2e_expect "ICAP: www.example.test: no monitor annotation" "-" "$(e2e_field monitor)"

e2e_check_squid_healthy "after t37 (ICAP)"
e2e_finish
