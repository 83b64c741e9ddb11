#!/bin/bash
# t66-metrics-icap: srv_pinsplice's live metrics (issue 14) through real c-icap (2 children) and
# real Squid with the ICAP snippet. pinsplice.MetricsFile DIR/icap-%p.prom, MetricsInterval 1:
#   - one file per c-icap child, named and labelled by the child's PID, each passing
#     `promtool check metrics`;
#   - the CONNECTs the test makes through Squid (spliced by a rule, bumped by default) and the
#     REQMODs it sends itself (a bad name, a request that is not a CONNECT) add up, over the
#     children's files, to exactly those decisions, and to c-icap's own access log;
#   - rules loaded and loads per child; the latency histogram counts every answer;
#   - c-icap stopped, then started again: no file of a child that is gone is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-icap.sh"
e2e_init t66-metrics-icap
icap_init
e2e_promtool
e2e_pki
e2e_origin_start
e2e_db_create
zoom=$(e2e_rule_for zoom.us)
[ -n "$zoom" ] || e2e_die "the default rules have no rule for zoom.us"
mdir=$E2E_DIR/metrics
mkdir -p "$mdir" && chmod 0777 "$mdir" # c-icap's children write it, whatever their user
ICAP_EXTRA="pinsplice.MetricsFile $mdir/icap-%p.prom
pinsplice.MetricsInterval 1"
icap_start
icap_squid_start

msum() { e2e_metrics_sum "$mdir/icap-*.prom" "$@"; }
msum_is() { [ "$(msum "$1" "$2")" = "$3" ]; }
children() { ps -o pid= --ppid "$ICAP_PID" 2>/dev/null | tr -d ' ' | sort -n | tr '\n' ' '; }
files() { ls "$mdir" 2>/dev/null | sed -n 's/^icap-\([0-9]*\)\.prom$/\1/p' | sort -n | tr '\n' ' '; }
same_files() { [ "$(files)" = "$(children)" ]; }

e2e_poll 10 same_files || true
kids=$(children)
e2e_expect "one metrics file per c-icap child" "$kids" "$(files)"
e2e_expect_match "two children" '^[0-9]+ [0-9]+ $' "$kids"

# ---- decisions through Squid: one REQMOD per CONNECT ------------------------------------------
for i in 1 2 3; do e2e_check_spliced "rule $i" www.zoom.us "$zoom"; done
for i in 1 2; do e2e_check_bumped "default $i" evilzoom.us; done
# ... and REQMODs sent directly: a bad name (decided bump, bad-name), not a CONNECT (204, no
# decision).
icap_connect 'bad..name:443'
e2e_expect "bad name: answered bump" bump "$ICAP_ACTION"
icap_client -s pinsplice -req "http://www.zoom.us/" -v
e2e_expect_match "GET: answered 204" 'ICAP/1.0 204' "$ICAP_OUT"

e2e_poll 10 msum_is pinsplice_answers_total "" 7 ||
    e2e_fail "answers_total did not reach 7 in 10 s (got $(msum pinsplice_answers_total))"
e2e_expect "answers: 5 CONNECTs through Squid + 2 direct REQMODs" 7 \
    "$(msum pinsplice_answers_total)"
e2e_expect "answers = c-icap's access log REQMOD lines" "$(grep -c ' REQMOD ' "$ICAP_ACCESS_LOG")" \
    "$(msum pinsplice_answers_total)"
e2e_expect "decisions splice/rule: 3 spliced CONNECTs" 3 \
    "$(msum pinsplice_decisions_total ',action="splice",reason="rule"')"
e2e_expect "decisions splice/rule = c-icap's log of splices by $zoom" \
    "$(grep -c " REQMOD 200 pinsplice www.zoom.us:$E2E_ORIGIN_PORT .* splice www.zoom.us \[$zoom\]" \
        "$ICAP_ACCESS_LOG")" "$(msum pinsplice_decisions_total ',action="splice",reason="rule"')"
e2e_expect "decisions bump/default: 2 bumped CONNECTs" 2 \
    "$(msum pinsplice_decisions_total ',action="bump",reason="default"')"
e2e_expect "decisions bump/bad-name: the bad name" 1 \
    "$(msum pinsplice_decisions_total ',action="bump",reason="bad-name"')"
all=0
for a in splice bump terminate; do
    for r in rule default no-rules bad-name bad-input unverified policy; do
        all=$((all + $(msum pinsplice_decisions_total ",action=\"$a\",reason=\"$r\"")))
    done
done
e2e_expect "decisions: 6 in all (the GET decided nothing)" 6 "$all"
e2e_expect "rule matches: $zoom" 3 "$(msum pinsplice_rule_matches_total ",rule=\"$zoom\"")"
e2e_expect "latency histogram: one observation per answer" 7 \
    "$(msum pinsplice_answer_duration_seconds_count)"
rules=$(sqlite3 "$E2E_DB" "SELECT count(*) FROM rules WHERE enabled = 1")
nfiles=$(echo $kids | wc -w)
e2e_expect "rules loaded, in each child's file" "$((rules * nfiles))" "$(msum pinsplice_rules_loaded)"
e2e_expect "rule loads: one per child" "$nfiles" "$(msum pinsplice_rule_loads_total)"
e2e_expect "no server-check series on the ICAP path" "" "$(cat "$mdir"/icap-*.prom | grep pinsplice_verify_)"

for f in "$mdir"/icap-*.prom; do
    pid=$(basename "$f" .prom)
    pid=${pid#icap-}
    out=$("$E2E_PROMTOOL" check metrics <"$f" 2>&1)
    e2e_expect "promtool check metrics $(basename "$f")" "0:" "$?:$out"
    e2e_expect "$(basename "$f"): every series has the child's pid label" "" \
        "$(grep -v '^#' "$f" | grep -v "{pid=\"$pid\"" | head -n 1)"
    e2e_expect_match "$(basename "$f"): program label" 'program="srv_pinsplice"' \
        "$(grep '^pinsplice_info' "$f")"
done
e2e_check_squid_healthy "after t66"

# ---- children gone: no file of theirs stays ----------------------------------------------------
# A child that stops removes its file; one killed cannot, and every child removes, each interval,
# the files of processes that are gone.
old=$kids
icap_stop
icap_start
e2e_poll 10 same_files || true
new=$(children)
e2e_expect "restarted c-icap: only the new children's files" "$new" "$(files)"
for p in $old; do
    e2e_expect "old child $p: its file is gone" no "$([ -e "$mdir/icap-$p.prom" ] && echo yes || echo no)"
done
e2e_finish
