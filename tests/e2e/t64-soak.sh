#!/bin/bash
# t64-soak: real Squid + the helper under a steady mix of connections for SOAK_SECONDS (default
# 60) while the rules DB is edited every 200 ms (each edit is a reload) and, at intervals,
# replaced by garbage, a FIFO, a directory, locked, or switched to WAL (issue 12, "Soak through
# real Squid"). Four clients loop over 30 names at once:
#   - pinned clients to *.splice.soak.test (a splice rule): must reach the origin (curl exit 0,
#     the origin CA's certificate);
#   - pinned clients to *.bump.soak.test (no rule): must be bumped (exit 90, the proxy CA);
#   - normal clients to *.bump.soak.test: bumped and served (exit 0, the proxy CA);
#   - pinned clients to *.flip.soak.test, whose rule is enabled and disabled every 8 s: a
#     connection made at least 1.5 s after a flip and before the next one must follow the state
#     then in force (the helper picks a change up in ~0.1 s: t28).
# Meanwhile a writer inserts and deletes a domain of an unrelated rule every 200 ms and injects
# the faults (writer, below).
# Asserted: every connection got the answer of the rules in force (zero wrong, zero unanswered),
# access.log agrees for every record, the helpers Squid started are the ones still running
# (none restarted), their RSS does not grow (bounded: SOAK_RSS_KB, default 4096 KiB, from the
# 10 s mark to the end), cache.log holds no helper failure and no WARNING/ERROR.
#
# SOAK_PATH=icap (tests/e2e/t64-soak-icap.sh) runs the same soak through Squid + c-icap with the
# module (srv_pinsplice, two c-icap children) instead of the helper.
. "$(dirname "$0")/lib.sh"
: "${SOAK_PATH:=helper}"
if [ "$SOAK_PATH" = icap ]; then
    . "$(dirname "$0")/lib-icap.sh"
    e2e_init t64-soak-icap
    icap_init
    # The faults the writer injects (below): each child says it keeps the last good rules.
    E2E_LOG_ALLOW='pinsplice: .*rules\.db: .*\(keeping the last good rules\)'
    grace=2500 # the module also reloads in ~0.1 s (inotify; t34); a wider margin: 2 children
else
    e2e_init t64-soak
    E2E_LOG_ALLOW='^ext_pinsplice_acl: ERROR: [^ ]*rules\.db: .*\(keeping the last good rules\)'
    grace=1500
fi
: "${SOAK_SECONDS:=60}"
: "${SOAK_RSS_KB:=4096}"
soak_names=""
for i in $(seq 10); do
    soak_names="$soak_names s$i.splice.soak.test b$i.bump.soak.test f$i.flip.soak.test"
done
E2E_NAMES="$E2E_NAMES $soak_names"
e2e_pki
origins=""
for w in 1 2 3 4; do
    e2e_origin_start
    origins="$origins $E2E_LAST_ORIGIN_PORT"
done
e2e_db_create \
    "INSERT INTO rules (name, action) VALUES ('Soak splice', 'splice'), ('Soak flip', 'splice'),
         ('Soak churn', 'terminate');
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'splice.soak.test' FROM rules
         WHERE name = 'Soak splice';
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'flip.soak.test' FROM rules
         WHERE name = 'Soak flip';
     INSERT INTO rule_domains (rule_id, domain) SELECT id, 'churn0.soak.test' FROM rules
         WHERE name = 'Soak churn';"
if [ "$SOAK_PATH" = icap ]; then
    icap_start
    icap_squid_start
    helpers=$(ps -o pid= --ppid "$ICAP_PID" | tr -d ' ')
    declog=$ICAP_SERVER_LOG # where the deciding processes log
else
    e2e_squid_start
    helpers=$(e2e_helper_pids)
    declog=$E2E_CACHE_LOG
fi
e2e_check_spliced "warm-up" s1.splice.soak.test "Soak splice"
e2e_check_bumped "warm-up" b1.bump.soak.test
e2e_expect_match "$SOAK_PATH processes running" '^[0-9]+' "$(echo $helpers)"

out=$E2E_DIR/soak
mkdir -p "$out"
t_start=$(e2e_now_ms)
t_end=$((t_start + SOAK_SECONDS * 1000))

# One client loop: W ORIGIN-PORT. Writes "start_ms end_ms class name rc issuer-kind" per
# connection to $out/conn.W.
client() {
    local w=$1 port=$2 n=0 class name pin rc issuer t0 t1 r
    while [ "$(e2e_now_ms)" -lt "$t_end" ]; do
        n=$((n + 1))
        r=$((RANDOM % 10 + 1))
        case $((RANDOM % 4)) in
            0) class=S name=s$r.splice.soak.test pin=(--pinnedpubkey "$E2E_ORIGIN_PIN") ;;
            1) class=B name=b$r.bump.soak.test pin=(--pinnedpubkey "$E2E_ORIGIN_PIN") ;;
            2) class=N name=b$r.bump.soak.test pin=() ;;
            3) class=F name=f$r.flip.soak.test pin=(--pinnedpubkey "$E2E_ORIGIN_PIN") ;;
        esac
        t0=$(e2e_now_ms)
        timeout 30 curl -sS -v --proxy "http://127.0.0.1:$E2E_SQUID_PORT" --cacert "$E2E_TRUST" \
            --max-time 20 "${pin[@]}" --proxy-header "X-Client-Process: soak-$w-$n" \
            -o /dev/null "https://$name:$port/" 2>"$out/err.$w"
        rc=$?
        t1=$(e2e_now_ms)
        case $(e2e_issuer_cn "$(sed -n 's/^\*  *issuer: //p' "$out/err.$w" | head -n 1)") in
            "pinsplice e2e origin CA") issuer=origin ;;
            "pinsplice e2e proxy CA") issuer=proxy ;;
            *) issuer=none ;;
        esac
        echo "$t0 $t1 $class $name $rc $issuer" >>"$out/conn.$w"
    done
}

# The writer, the only process that touches the DB:
#   - every 200 ms an edit (insert, then delete, a domain of 'Soak churn');
#   - every 8 s 'Soak flip' enabled or disabled; "ms state" to $out/flips after each commit;
#   - 4 s after each flip, for 1 s, a fault (in turn): the DB overwritten with garbage (by
#     rename), replaced by a FIFO, replaced by a directory, held under an exclusive lock, switched
#     to WAL mode (edits go on in the WAL); then the good DB is put back by rename (or the lock
#     released, or DELETE mode restored). The rules in force meanwhile are the last good ones,
#     which are the rules of the last flip. "ms kind" to $out/faults.
edit() {
    sqlite3 -cmd '.timeout 5000' "$E2E_DB" "$1" 2>>"$out/writer.err" ||
        echo "edit failed: $1" >>"$out/writer.err"
}
fault() {
    local kind=$1 good=$out/good.db tmp=$out/tmp.db
    echo "$(e2e_now_ms) $kind" >>"$out/faults"
    case $kind in
    garbage | fifo | directory)
        mv "$E2E_DB" "$good"
        case $kind in
        garbage) head -c 65536 /dev/urandom >"$tmp" && chmod 0644 "$tmp" && mv "$tmp" "$E2E_DB" ;;
        fifo) mkfifo -m 0644 "$E2E_DB" ;;
        directory) mkdir -m 0755 "$E2E_DB" ;;
        esac
        sleep 1
        rm -rf "$E2E_DB"
        mv "$good" "$E2E_DB" ;;
    locked)
        { echo 'BEGIN EXCLUSIVE;'; sleep 1; echo 'COMMIT;'; } |
            sqlite3 -cmd '.timeout 5000' "$E2E_DB" 2>>"$out/writer.err" ;;
    wal)
        edit "PRAGMA journal_mode=WAL;" >/dev/null
        edit "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'wal.soak.test' FROM rules WHERE name = 'Soak churn';"
        sleep 0.5
        edit "DELETE FROM rule_domains WHERE domain = 'wal.soak.test';"
        sleep 0.5
        edit "PRAGMA journal_mode=DELETE;" >/dev/null ;;
    esac
}
writer() {
    local n=0 state=1 next_flip next_fault k=0 now
    local kinds=(garbage fifo directory locked wal)
    echo "$(e2e_now_ms) 1" >"$out/flips"
    next_flip=$(($(e2e_now_ms) + 8000))
    next_fault=$(($(e2e_now_ms) + 4000))
    while now=$(e2e_now_ms) && [ "$now" -lt "$t_end" ]; do
        if [ "$now" -ge "$next_flip" ] && [ $((now + 2000)) -lt "$t_end" ]; then
            state=$((1 - state))
            edit "UPDATE rules SET enabled = $state WHERE name = 'Soak flip';"
            echo "$(e2e_now_ms) $state" >>"$out/flips"
            next_flip=$((now + 8000))
            next_fault=$((now + 4000))
        elif [ "$now" -ge "$next_fault" ] && [ $((now + 2000)) -lt "$t_end" ]; then
            fault "${kinds[k % 5]}"
            k=$((k + 1))
            next_fault=$((next_flip + 4000))
        else
            n=$((n + 1))
            if [ $((n % 2)) = 1 ]; then
                edit "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'churn$n.soak.test' FROM rules WHERE name = 'Soak churn';"
            else
                edit "DELETE FROM rule_domains WHERE domain = 'churn$((n - 1)).soak.test';"
            fi
            echo "$n" >"$out/edits"
        fi
        sleep 0.2
    done
}

# RSS of each helper (KiB), "ms pid kib" lines, every 2 s.
rss_sampler() {
    local pid
    while [ "$(e2e_now_ms)" -lt "$t_end" ]; do
        for pid in $helpers; do
            echo "$(e2e_now_ms) $pid $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)"
        done >>"$out/rss"
        sleep 2
    done
}

pids=""
w=0
for port in $origins; do
    w=$((w + 1))
    client "$w" "$port" &
    pids="$pids $!"
done
writer &
pids="$pids $!"
rss_sampler &
pids="$pids $!"
for p in $pids; do e2e_bg "$p"; done
e2e_log "soak: $SOAK_SECONDS s, 4 clients, helpers: $(echo $helpers)"
for p in $pids; do wait "$p"; done

cat "$out"/conn.* >"$out/all"
total=$(wc -l <"$out/all")
e2e_expect_match "connections made" '^[1-9][0-9]{2,}$' "$total"
edits=$(cat "$out/edits" 2>/dev/null)
e2e_expect_match "DB edits made (one every 200 ms)" '^[0-9]{2,}$' "${edits:-0}"
e2e_expect "no DB edit failed" "" "$(head -n 3 "$out/writer.err" 2>/dev/null)"
e2e_log "faults: $(awk '{ printf "%s ", $2 }' "$out/faults" 2>/dev/null)"
nf=$(wc -l <"$out/faults")
e2e_expect_match "faults injected (one per 8 s)" '^[1-9][0-9]*$' "$nf"
# Five kinds in turn: 60 s makes seven faults, so every kind at least once.
e2e_expect "fault kinds injected" "$((nf < 5 ? nf : 5))" \
    "$(awk '{ print $2 }' "$out/faults" | sort -u | wc -l)"
# The helper noticed the replaced DBs (garbage, FIFO, directory) and kept its rules.
kept=$(grep -Ec 'rules\.db: .*\(keeping the last good rules\)' "$declog")
e2e_expect_match "faults seen by the helper, last good rules kept" '^([3-9]|[1-9][0-9]+)$' "$kept"
# Each reload the helper makes is one "loaded N rules ... (load K)" line in cache.log.
reloads=$(grep -c 'loaded [0-9]* rules.*(load [0-9]*)' "$declog")
e2e_log "DB edits: $edits, helper reloads: $reloads"
if [ "$reloads" -ge $((edits / 4)) ]; then e2e_pass "the helper reloaded through the soak ($reloads reloads)"
else e2e_fail "only $reloads reloads for $edits edits"; fi

# Every connection judged against the rules in force; a flip connection only when it started
# 1.5 s or more after the last flip and ended before the next one.
verdict=$(awk -v flips="$out/flips" -v grace="$grace" '
    BEGIN { while ((getline l < flips) > 0) { split(l, f, " "); nf++; ft[nf] = f[1]; fs[nf] = f[2] } }
    {
        t0 = $1; t1 = $2; class = $3; rc = $5; is = $6; want = ""
        if (class == "S") want = "0 origin"
        else if (class == "B") want = "90 proxy"
        else if (class == "N") want = "0 proxy"
        else {
            state = -1
            for (i = nf; i >= 1; i--) if (ft[i] <= t0) { state = fs[i]; break }
            if (state < 0 || t0 - ft[i] < grace || (i < nf && t1 >= ft[i + 1])) { skipped++; next }
            want = state == 1 ? "0 origin" : "90 proxy"
        }
        n[class]++
        if (rc " " is != want) { bad++; if (bad <= 5) print "WRONG " $0 " (want " want ")" > "/dev/stderr" }
    }
    END { printf "S=%d B=%d N=%d F=%d flip-skipped=%d wrong=%d\n", n["S"], n["B"], n["N"], n["F"],
          skipped, bad }' "$out/all")
e2e_log "connections: $total; $verdict"
e2e_expect_match "every connection answered by the rules in force" 'wrong=0$' "$verdict"
e2e_expect_match "flip connections judged" 'F=[1-9][0-9]*' "$verdict"
e2e_expect_match "rule flips made" '^([2-9]|[1-9][0-9]+)$' "$(($(wc -l <"$out/flips") - 1))"

# access.log: every CONNECT decision record of a soak name carries the pinsplice note, and the
# stable names the right one. With the helper that is the NONE_NONE record Squid writes when it
# decides (a splice adds a TCP_TUNNEL record without the note when the tunnel closes); with the
# module, decided at the CONNECT, the only CONNECT record (TCP_TUNNEL for a splice).
decrec='^NONE'
[ "$SOAK_PATH" = icap ] && decrec='.'
sleep 1
logv=$(awk -v cols="$E2E_LOG_COLS" -v decrec="$decrec" '
    BEGIN { n = split(cols, c, " "); for (i = 1; i < n; i += 2) col[c[i]] = c[i + 1] }
    $col["method"] == "CONNECT" && $col["url"] ~ /\.soak\.test:/ && $col["status"] ~ decrec {
        conns++; a = $col["action"]
        if (a != "splice" && a != "bump") noanswer++
        else if ($col["url"] ~ /\.splice\.soak/ && a != "splice") wrong++
        else if ($col["url"] ~ /\.bump\.soak/ && a != "bump") wrong++
    }
    END { printf "records=%d unanswered=%d wrong=%d\n", conns, noanswer, wrong }' "$E2E_ACCESS_LOG")
e2e_log "access.log: $logv"
e2e_expect_match "access.log: every soak CONNECT answered, stable names right" \
    'unanswered=0 wrong=0$' "$logv"
recs=$(echo "$logv" | sed -n 's/^records=\([0-9]*\).*/\1/p')
# Warm-up made two connections; every soak connection has its CONNECT record.
e2e_expect "access.log: one CONNECT record per connection" "$((total + 2))" "$recs"

# Helper (c-icap child) memory: from the first sample after the 10 s mark to the last, per helper.
rssv=$(awk -v from=$((t_start + 10000)) '
    $1 >= from && $3 != "" { if (!($2 in first)) first[$2] = $3; last[$2] = $3
                              if ($3 > max[$2]) max[$2] = $3 }
    END { worst = 0
          for (p in first) { g = last[p] - first[p]; if (g > worst) worst = g
                             printf "pid %s: %d -> %d KiB (max %d); ", p, first[p], last[p], max[p] }
          printf "growth %d\n", worst }' "$out/rss")
e2e_log "helper RSS: $rssv"
growth=${rssv##*growth }
if [ -n "$growth" ] && [ "$growth" -le "$SOAK_RSS_KB" ]; then
    e2e_pass "helper RSS flat: grew $growth KiB (limit $SOAK_RSS_KB)"
else
    e2e_fail "helper RSS grew ${growth:-?} KiB (limit $SOAK_RSS_KB): $rssv"
fi

e2e_check_helpers_same "after the soak" "$helpers"
e2e_expect "no helper exit or restart in cache.log" "" \
    "$(grep -Ei 'exited|crash|Too few|respawn|queue|suspend|down' "$E2E_CACHE_LOG" | head -n 3)"
if [ "$SOAK_PATH" = icap ]; then
    e2e_expect "c-icap: no child died or restarted" "" \
        "$(grep -Ei 'died|exited|crash|signal|Starting child' "$ICAP_SERVER_LOG" | head -n 3)"
    e2e_expect "c-icap: the same two children" "$(echo $helpers)" \
        "$(echo $(ps -o pid= --ppid "$ICAP_PID"))"
fi
e2e_check_squid_healthy "after t64"
e2e_finish
