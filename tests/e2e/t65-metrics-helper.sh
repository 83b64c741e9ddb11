#!/bin/bash
# t65-metrics-helper: the helper's live metrics (issue 14) through real Squid. The snippet's
# helper line gets --metrics DIR/helper-%p.prom --metrics-interval 1; then:
#   - connections the test makes (spliced by a rule, bumped by default, an IP-literal CONNECT
#     whose server is verified, one whose server fails the check) show in the helpers' files as
#     exactly the decisions, rule matches, answers, latency observations and server checks they
#     caused, and every file passes `promtool check metrics`;
#   - each file belongs to a running helper of this Squid (its name and its pid label);
#   - a DB replaced by garbage: load failures count, the rules are stale (seconds), the last good
#     rules keep splicing; restored: stale 0 again;
#   - a metrics directory that cannot be written: the helper keeps answering, says so once in
#     cache.log, and writes again once it can;
#   - Squid stopped: the helpers remove their files.
# First, the example alerts: README's block is doc/prometheus/pinsplice-alerts.yml, which
# `promtool check rules` accepts and `promtool test rules` fires as intended
# (tests/fixtures/prometheus/pinsplice-alerts.test.yml).
. "$(dirname "$0")/lib.sh"
e2e_init t65-metrics-helper
e2e_promtool

# ---- the example alerts -----------------------------------------------------------------------
alerts=$PS_SRCDIR/doc/prometheus/pinsplice-alerts.yml
awk '/^## Live metrics/ { s = 1 } s && /^```yaml$/ { y = 1; next } y && /^```$/ { exit } y' \
    "$PS_SRCDIR/README.md" >"$E2E_DIR/readme-alerts.yml"
e2e_expect "README's alert rules are doc/prometheus/pinsplice-alerts.yml" "" \
    "$(diff "$alerts" "$E2E_DIR/readme-alerts.yml" 2>&1 | head -n 5)"
out=$("$E2E_PROMTOOL" check rules "$alerts" 2>&1)
e2e_expect_match "promtool check rules: the 4 alerts" 'SUCCESS: 4 rules found' "$out"
mkdir -p "$E2E_DIR/alerts"
cp "$alerts" "$PS_SRCDIR/tests/fixtures/prometheus/pinsplice-alerts.test.yml" "$E2E_DIR/alerts/"
out=$(cd "$E2E_DIR/alerts" && "$E2E_PROMTOOL" test rules pinsplice-alerts.test.yml 2>&1)
e2e_expect "promtool test rules: stale, load failed, no rules, splice share jump fire as meant" \
    "0 SUCCESS" "$? $(printf '%s\n' "$out" | grep -o 'SUCCESS')"
# ---- bad options: refused at start, naming what is wrong ---------------------------------------
out=$("$PS_HELPER" --metrics "$E2E_DIR/one.prom" </dev/null 2>&1)
e2e_expect "--metrics without %p: exit 1" 1 "$?"
e2e_expect_match "--metrics without %p: FATAL naming the path" \
    "FATAL: --metrics: metrics path '$E2E_DIR/one\\.prom': no %p" "$out"
out=$("$PS_HELPER" --metrics "$E2E_DIR/m-%p.prom" --metrics-interval 0 </dev/null 2>&1)
e2e_expect_match "--metrics-interval 0: FATAL" "FATAL: --metrics-interval" "$out"
out=$("$PS_HELPER" --metrics-interval 5 </dev/null 2>&1)
e2e_expect_match "--metrics-interval alone: FATAL" "FATAL: --metrics-interval without --metrics" "$out"

e2e_pki
e2e_origin_start
genuine=$E2E_ORIGIN_PORT

# An attacker's server for www.zoom.us, certificate from another CA (the check fails).
e2e_attacker_start www.zoom.us
attacker=$E2E_ATTACKER_PORT

e2e_db_create
e2e_sql "UPDATE settings SET value = '$E2E_ORIGIN_CA' WHERE key = 'verify_ca_file';"
db=$(e2e_db_path)
zoom="Bypass Zoom - Pre-configured"

# The helper runs as proxy: the metrics directory is proxy's.
mdir=$E2E_DIR/metrics
mkdir -p "$mdir" && chown proxy:proxy "$mdir" && chmod 0755 "$mdir"
E2E_HELPER_ARGS="--metrics $mdir/helper-%p.prom --metrics-interval 1"
# Provoked on purpose below: the garbage DB, and the directory made unwritable.
E2E_LOG_ALLOW="ext_pinsplice_acl: ERROR: .*(not a database|file is not a database|keeping the last good rules)|ext_pinsplice_acl: ERROR: metrics: .*answers are not affected"
e2e_squid_start

# msum NAME [LABELS]: the sum of a series over every helper's file (lib.sh).
msum() { e2e_metrics_sum "$mdir/helper-*.prom" "$@"; }
# mwait SECS NAME LABELS WANT: wait until msum NAME LABELS is WANT (the files are rewritten
# every second).
msum_is() { [ "$(msum "$1" "$2")" = "$3" ]; }
mwait() { e2e_poll "$1" msum_is "$2" "$3" "$4"; }

# ---- the decisions the test makes ---------------------------------------------------------------
# Squid asks the helper twice per connection at step 2 (ssl_bump terminate pinsplice_terminate,
# then splice pinsplice_splice; ttl=0 caches nothing): each connection is two decided lines.
for i in 1 2 3; do e2e_check_spliced "rule $i" www.zoom.us "$zoom"; done
for i in 1 2; do e2e_check_bumped "default $i" unpinned.test; done
e2e_check_spliced "IP-literal CONNECT, genuine server (verified)" www.zoom.us "$zoom" \
    --port "$genuine" --connect-to 127.0.0.1
e2e_check_bumped "IP-literal CONNECT, attacker's server (verify-failed)" www.zoom.us \
    --port "$attacker" --connect-to 127.0.0.1

mwait 10 pinsplice_answers_total "" 14 ||
    e2e_fail "answers_total did not reach 14 in 10 s (got $(msum pinsplice_answers_total))"
e2e_expect "answers: 7 connections x 2 lines" 14 "$(msum pinsplice_answers_total)"
e2e_expect "decisions splice/rule: 4 spliced connections" 8 \
    "$(msum pinsplice_decisions_total ',action="splice",reason="rule"')"
e2e_expect "decisions bump/default: 2 bumped connections" 4 \
    "$(msum pinsplice_decisions_total ',action="bump",reason="default"')"
e2e_expect "decisions bump/unverified: the attacker's connection" 2 \
    "$(msum pinsplice_decisions_total ',action="bump",reason="unverified"')"
e2e_expect "decisions terminate/rule: none made" 0 \
    "$(msum pinsplice_decisions_total ',action="terminate",reason="rule"')"
e2e_expect "malformed: none sent" 0 "$(msum pinsplice_malformed_total)"
e2e_expect "rule matches: $zoom decided 8 lines" 8 \
    "$(msum pinsplice_rule_matches_total ",rule=\"$zoom\"")"
e2e_expect "latency histogram: one observation per answer" 14 \
    "$(msum pinsplice_answer_duration_seconds_count)"
e2e_expect "latency histogram: +Inf bucket = count" 14 \
    "$(msum pinsplice_answer_duration_seconds_bucket ',le="+Inf"')"
# The two lines of a connection share one check (cache or a check in flight), unless Squid sent
# them to two helpers: one or two checks per checked connection, and nothing else checked.
verified=$(msum pinsplice_verify_checks_total ',verdict="verified"')
failed=$(msum pinsplice_verify_checks_total ',verdict="verify-failed"')
e2e_expect_match "server checks: the genuine server verified (1 or 2 checks)" '^[12]$' "$verified"
e2e_expect_match "server checks: the attacker failed (1 or 2 checks)" '^[12]$' "$failed"
e2e_expect "server checks: started = finished" "$((verified + failed))" \
    "$(msum pinsplice_verify_started_total)"
e2e_expect "server checks: 4 checked lines = checks + cache hits + shared" 4 \
    "$(($(msum pinsplice_verify_started_total) + $(msum pinsplice_verify_cache_hits_total) + \
        $(msum pinsplice_verify_shared_total)))"
e2e_expect "server checks: none in flight" 0 "$(msum pinsplice_verify_inflight)"
rules=$(sqlite3 "$db" "SELECT count(*) FROM rules WHERE enabled = 1")
nfiles=$(ls "$mdir"/helper-*.prom | wc -l)
e2e_expect "rules loaded: the DB's enabled rules, in every helper's file" "$((rules * nfiles))" \
    "$(msum pinsplice_rules_loaded)"
e2e_expect "rule loads: one per helper" "$nfiles" "$(msum pinsplice_rule_loads_total)"
e2e_expect "rules not stale" 0 "$(msum pinsplice_rules_stale_seconds)"

# ---- every file: valid exposition, one running helper's ------------------------------------------
helpers=$(e2e_helper_pids | sort -n | tr '\n' ' ')
for f in "$mdir"/helper-*.prom; do
    pid=$(basename "$f" .prom)
    pid=${pid#helper-}
    out=$("$E2E_PROMTOOL" check metrics <"$f" 2>&1)
    e2e_expect "promtool check metrics $(basename "$f")" "0:" "$?:$out"
    case " $helpers " in
    *" $pid "*) e2e_pass "$(basename "$f"): a running helper of this Squid" ;;
    *) e2e_fail "$(basename "$f"): pid $pid is not one of this Squid's helpers ($helpers)" ;;
    esac
    e2e_expect "$(basename "$f"): every series has its pid label" "" \
        "$(grep -v '^#' "$f" | grep -v "{pid=\"$pid\"" | head -n 1)"
    e2e_expect "$(basename "$f"): readable by the collector (mode)" 644 "$(stat -c %a "$f")"
done
e2e_expect "no temporary file left in the metrics directory" "" \
    "$(ls "$mdir" | grep -v '^helper-[0-9]*\.prom$')"

# ---- stale rules: a DB that cannot be loaded ----------------------------------------------------
cp "$db" "$E2E_DIR/good.db"
echo "this is not a database" >"$db.new" && chmod 0644 "$db.new" && mv "$db.new" "$db"
msum_ge() { [ "$(msum "$1" "$2")" -ge "$3" ]; }
e2e_poll 10 msum_ge pinsplice_rules_stale_seconds "" 2 ||
    e2e_fail "rules_stale_seconds did not reach 2 within 10 s"
e2e_expect_match "garbage DB: stale seconds grow" '^[2-9]|^[1-9][0-9]' \
    "$(msum pinsplice_rules_stale_seconds)"
e2e_expect_match "garbage DB: load failures counted" '^[1-9]' "$(msum pinsplice_rule_load_failures_total)"
e2e_expect "garbage DB: the last good rules are still in force" "$((rules * nfiles))" \
    "$(msum pinsplice_rules_loaded)"
e2e_check_spliced "garbage DB, last good rules" www.zoom.us "$zoom"
cp "$E2E_DIR/good.db" "$db.new" && chmod 0644 "$db.new" && mv "$db.new" "$db"
e2e_poll 10 msum_is pinsplice_rules_stale_seconds "" 0 ||
    e2e_fail "rules_stale_seconds did not return to 0 within 10 s"
e2e_expect "DB restored: not stale" 0 "$(msum pinsplice_rules_stale_seconds)"
e2e_expect "DB restored: a second load per helper" "$((2 * nfiles))" \
    "$(msum pinsplice_rule_loads_total)"

# ---- a metrics directory that cannot be written -----------------------------------------------------
mline='ext_pinsplice_acl: ERROR: metrics: .*answers are not affected'
before=$(e2e_cachelog_count "$mline")
chmod 0555 "$mdir"
sleep 2.5 # two intervals or more: the failure is reported once, not per interval
e2e_check_spliced "metrics directory not writable" www.zoom.us "$zoom"
sleep 1.5
e2e_expect "unwritable: one cache.log line per helper, not one per interval" "$nfiles" \
    "$(($(e2e_cachelog_count "$mline") - before))"
chmod 0755 "$mdir"
mwait 10 pinsplice_answers_total "" 18 ||
    e2e_fail "answers_total did not reach 18 in 10 s after the directory came back"
e2e_expect "writable again: answers made meanwhile are counted" 18 "$(msum pinsplice_answers_total)"
e2e_expect_match "writable again: the failed writes counted" '^[1-9]' \
    "$(msum pinsplice_metrics_write_failures_total)"
e2e_cachelog_wait "ext_pinsplice_acl: metrics: writing .* again" 0 5
e2e_expect "writable again: said so in cache.log" "$nfiles" \
    "$(e2e_cachelog_count "ext_pinsplice_acl: metrics: writing .* again")"
e2e_check_squid_healthy "after t65"

# ---- Squid stopped: each helper removes its file ---------------------------------------------------
e2e_squid_stop
left() { [ -z "$(ls "$mdir")" ]; }
e2e_poll 5 left || true
e2e_expect "Squid stopped: no metrics file left" "" "$(ls "$mdir")"
e2e_finish
