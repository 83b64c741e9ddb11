#!/bin/bash
# bench/helper/run.sh: the Squid helper's throughput through pipes (issue 3, "Speed"), side by side
# in one run: a trivial echo helper (the pipe's limit), ext_pinsplice_acl at 16 and 1M domain
# entries, and squidGuard 1.6 with the same domain list, all driven by bench/helper/drive as Squid
# drives them. Then the time to the first answer at 1M, and 64 requests in flight while the 1M DB
# is replaced by rename 5 times (every answer checked against the lock-step run's).
#
# Usage: bench/helper/run.sh [BUILDDIR [SRCDIR]]     (or: make bench-helper)
# Environment: SECS (steady-state seconds per case, default 8), K (in flight, default 64),
#   NAMES (distinct names sampled from a DB for the queries, default 10000: 3 queries each),
#   ENTRIES (the big DB, default 1000000), DATA (where the generated DBs are kept between runs,
#   default BUILDDIR/bench/helper/data: generating the 1M DB and squidGuard's db for it takes a
#   minute or two; they are rebuilt when bench_decide.c or schema.sql is newer, or deleted).
# Needs: sqlite3, squidGuard (Debian package squidguard); the programs built in BUILDDIR
# (make bench-helper builds them). Prints one table; exits 1 when an answer failed.
set -eu

build=$(cd "${1:-.}" && pwd)
src=$(cd "${2:-$(dirname "$0")/../..}" && pwd)
secs=${SECS:-8}
k=${K:-64}
names=${NAMES:-10000}
big=${ENTRIES:-1000000}
data=${DATA:-$build/bench/helper/data}
drive=$build/bench/helper/drive
echo_helper=$build/bench/helper/echo_helper
acl=$build/helper/ext_pinsplice_acl
gen=$build/bench/bench_decide

for p in "$drive" "$echo_helper" "$acl" "$gen"; do
    [ -x "$p" ] || { echo "bench/helper: $p not built (make bench-helper builds it)" >&2; exit 2; }
done
for c in sqlite3 squidGuard; do
    command -v "$c" >/dev/null || { echo "bench/helper: '$c' not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/pinsplice-bench-helper.XXXXXX)
bgpid=""
cleanup() {
    if [ -n "$bgpid" ]; then
        kill "$bgpid" 2>/dev/null || true
        wait "$bgpid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$data"
t_start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- data: rules DBs (bench_decide's generator), squidGuard lists, queries ----------------------
# make_db N: $data/rules-N.db, generated once (deterministic: same N, same names).
make_db() {
    local db=$data/rules-$1.db
    if [ ! -s "$db" ] || [ "$src/bench/bench_decide.c" -nt "$db" ] ||
        [ "$src/sql/schema.sql" -nt "$db" ]; then
        echo "# generating $db ($1 entries)..." >&2
        PS_SQLDIR=$src/sql/schema.sql "$gen" gen "$1" "$db.tmp"
        mv "$db.tmp" "$db"
    fi
}
# make_sg N: a squidGuard dbhome with one dest "pin" whose domain list is exactly the DB's entries
# (squidGuard's domainlist, like a pinsplice domain entry, matches the name and every name below
# it), its Berkeley DB built with squidGuard -C all; and a squidGuard.conf in $tmp.
make_sg() {
    local dir=$data/sg-$1 conf=$tmp/squidGuard-$1.conf
    mkdir -p "$dir/pin" "$tmp/sglog-$1"
    cat >"$conf" <<EOF
dbhome $dir
logdir $tmp/sglog-$1

dest pin {
	domainlist pin/domains
}

acl {
	default {
		pass !pin all
		redirect http://127.0.0.1/pinsplice-bench-listed
	}
}
EOF
    if [ ! -s "$dir/pin/domains.db" ] || [ "$data/rules-$1.db" -nt "$dir/pin/domains.db" ]; then
        echo "# building squidGuard's db for $1 entries..." >&2
        rm -f "$dir/pin/domains.db"
        sqlite3 "$data/rules-$1.db" "SELECT domain FROM rule_domains ORDER BY id" \
            >"$dir/pin/domains"
        squidGuard -c "$conf" -C all
        [ -s "$dir/pin/domains.db" ] || {
            echo "bench/helper: squidGuard -C all built no $dir/pin/domains.db:" >&2
            cat "$tmp/sglog-$1"/* >&2
            exit 2
        }
    fi
}
# make_queries N: the same names for both helpers, in the same order, as bench_decide queries: for
# each sampled entry the name itself, one label below it, and a miss (a near name not below any
# entry, usually). $tmp/q-N-acl.txt: external ACL lines (SNI = CONNECT host, action splice, so OK =
# listed); $tmp/q-N-sg.txt: Squid 5.7's url_rewrite lines for the same CONNECT
# ("URL client/fqdn user method" + the default url_rewrite_extras), where OK (rewrite) = listed.
make_queries() {
    local n=$1 step
    step=$((n / names))
    [ "$step" -ge 1 ] || step=1
    sqlite3 "$data/rules-$n.db" \
        "SELECT domain FROM rule_domains WHERE id % $step = 0 ORDER BY id LIMIT $names" |
        awk '{ print $1; print "www." $1; print "nx" NR "." substr($1, 2) }' >"$tmp/names-$n"
    awk '{ print $1 " " $1 " 10.0.0.1 - - splice" }' "$tmp/names-$n" >"$tmp/q-$n-acl.txt"
    awk '{ print $1 ":443 10.0.0.1/- - CONNECT myip=127.0.0.1 myport=3128" }' "$tmp/names-$n" \
        >"$tmp/q-$n-sg.txt"
}
for n in 16 "$big"; do
    make_db "$n"
    make_sg "$n"
    make_queries "$n"
done

# ---- cases ---------------------------------------------------------------------------------------
# run_case NAME DRIVE-ARGS... -- COMMAND...: one drive run; its key=value line is kept in
# $tmp/r.NAME and echoed to stderr as progress.
fail=0
run_case() {
    local name=$1
    shift
    "$drive" -l "$name" "$@" >"$tmp/r.$name" || fail=1
    cat "$tmp/r.$name" >&2
}
get() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$tmp/r.$1"; }

q16=$tmp/q-16-acl.txt
qbig=$tmp/q-$big-acl.txt
run_case echo-lock -q "$qbig" -d "$secs" -- "$echo_helper"
run_case echo-k -q "$qbig" -k "$k" -d "$secs" -- "$echo_helper"
run_case acl16-lock -q "$q16" -d "$secs" -W "$tmp/v.acl16" -- "$acl" --db "$data/rules-16.db"
run_case acl16-k -q "$q16" -k "$k" -d "$secs" -E "$tmp/v.acl16" -- "$acl" --db "$data/rules-16.db"
run_case aclbig-lock -q "$qbig" -d "$secs" -W "$tmp/v.aclbig" -- "$acl" --db "$data/rules-$big.db"
run_case aclbig-k -q "$qbig" -k "$k" -d "$secs" -E "$tmp/v.aclbig" -- \
    "$acl" --db "$data/rules-$big.db"
run_case sg16-lock -q "$tmp/q-16-sg.txt" -d "$secs" -W "$tmp/v.sg16" -- \
    squidGuard -c "$tmp/squidGuard-16.conf"
run_case sgbig-lock -q "$tmp/q-$big-sg.txt" -d "$secs" -W "$tmp/v.sgbig" -- \
    squidGuard -c "$tmp/squidGuard-$big.conf"
for i in 1 2 3; do
    run_case first$i -q "$qbig" -n 1 -E "$tmp/v.aclbig" -- "$acl" --db "$data/rules-$big.db"
done

# Replace under load: K in flight against a copy of the big DB; once the helper has loaded it and
# answered for a second, the DB is replaced by cp + rename 5 times, each time waiting until the
# helper has logged the reload before the next; one more second of load, then the driver stops.
live=$tmp/live.db
cp "$data/rules-$big.db" "$live"
: >"$tmp/replace.log"
(
    loaded() { grep -c ': loaded ' "$tmp/replace.log" || true; }
    for _ in $(seq 600); do
        [ "$(loaded)" -gt 0 ] && break
        sleep 0.1
    done
    sleep 1
    for i in 1 2 3 4 5; do
        before=$(loaded)
        cp "$data/rules-$big.db" "$live.tmp" && mv "$live.tmp" "$live"
        echo "replaced $i $(date +%s.%N)" >>"$tmp/replaced"
        for _ in $(seq 300); do
            [ "$(loaded)" -gt "$before" ] && break
            sleep 0.1
        done
    done
    sleep 1
    touch "$tmp/stop"
) &
bgpid=$!
run_case replace -q "$qbig" -k "$k" -d 300 -S "$tmp/stop" -E "$tmp/v.aclbig" -L "$tmp/replace.log" \
    -- "$acl" --db "$live"
wait "$bgpid" || true
bgpid=""
replaced=0
[ -f "$tmp/replaced" ] && replaced=$(wc -l <"$tmp/replaced")
reloads=$(($(grep -c ': loaded ' "$tmp/replace.log" || true) - 1))

# ---- table ---------------------------------------------------------------------------------------
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * a / b : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }
differ() { cmp -l "$1" "$2" 2>/dev/null | wc -l; }
fmt='%-20s %5s %13s %9s %9s %11s %10s %6s\n'
# shellcheck disable=SC2059 # one format for the header and every row
row() { # row LABEL RULES CASE
    local mode
    mode=$(get "$3" mode | sed "s/inflight/$k in flight/;s/lockstep/lock-step/")
    printf "$fmt" "$1" "$2" "$mode" "$(get "$3" rate)" "$(get "$3" first_answer_ms)" \
        "$(get "$3" helper_cpu_us)" "$(get "$3" max_gap_ms)" "$(get "$3" failed)"
}
big_h=$(awk -v n="$big" 'BEGIN { print (n >= 1000000 && n % 1000000 == 0) ? n / 1000000 "M" : n }')
sgver=$(squidGuard -v 2>&1 | sed -n 's/^SquidGuard: \([^ ]*\).*/\1/p')
echo "# helper throughput through pipes, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs," \
    "load average at start $load0, $secs s per case; squidGuard $sgver"
# shellcheck disable=SC2059
printf "$fmt" helper rules mode lines/s first_ms cpu_us/line max_gap_ms failed
row "echo helper" - echo-lock
row "echo helper" - echo-k
row ext_pinsplice_acl 16 acl16-lock
row ext_pinsplice_acl 16 acl16-k
row ext_pinsplice_acl "$big_h" aclbig-lock
row ext_pinsplice_acl "$big_h" aclbig-k
row "squidGuard" 16 sg16-lock
row "squidGuard" "$big_h" sgbig-lock
row "ext_pinsplice_acl *" "$big_h" replace
echo "first_ms: spawn to first reply; cpu_us/line: the helper's user+system CPU per answer in"
echo "steady state; max_gap_ms: longest wait between two replies; failed: see bench/helper/drive.c"
echo "* while its DB was replaced by cp + rename $replaced times" \
    "($reloads reloads logged by the helper)"
firsts=$(for i in 1 2 3; do get first$i first_answer_ms; done | sort -n | tr '\n' ' ')
ffail=$(for i in 1 2 3; do get first$i failed; done | awk '{ s += $1 } END { print s }')
fmax=$(for i in 1 2 3; do get first$i first_answer_ms; done | sort -n | tail -n 1)
echo "first answer at $big_h (spawn to first reply, DB present, 3 runs): ${firsts}ms; failed $ffail"
echo "verdicts: squidGuard vs ext_pinsplice_acl differ on" \
    "$(differ "$tmp/v.sg16" "$tmp/v.acl16") of $(($(wc -c <"$tmp/v.acl16") - 1)) queries at 16," \
    "$(differ "$tmp/v.sgbig" "$tmp/v.aclbig") of $(($(wc -c <"$tmp/v.aclbig") - 1)) at $big_h" \
    "(listed = OK for both)"

e=$(get echo-k rate)
a16=$(get acl16-k rate)
abig=$(get aclbig-k rate)
sg=$(get sgbig-lock rate)
rfail=$(get replace failed)
verdict() { if awk "BEGIN { exit !($1) }"; then echo MET; else echo MISSED; fi; }
echo "targets:"
echo "  $k in flight >= 70% of the echo helper:" \
    "16: $(pct "$a16" "$e"), $big_h: $(pct "$abig" "$e")" \
    "-> $(verdict "$a16 >= 0.7 * $e && $abig >= 0.7 * $e")"
echo "  >= 20x squidGuard at $big_h: $k in flight $(ratio "$abig" "$sg")," \
    "lock-step vs lock-step $(ratio "$(get aclbig-lock rate)" "$sg")" \
    "-> $(verdict "$abig >= 20 * $sg")" \
    "(squidGuard cannot take channel-IDs: Squid runs it lock-step)"
echo "  first answer <= 1 s at $big_h: worst ${fmax} ms" \
    "-> $(verdict "$fmax <= 1000 && $ffail == 0")"
echo "  zero failed answers while the DB is replaced: $rfail failed, $replaced replacements," \
    "$reloads reloads -> $(verdict "$rfail == 0 && $replaced == 5 && $reloads >= 5")"
echo "# total $(($(date +%s) - t_start)) s, load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$fail" -eq 0 ] && [ "$rfail" = 0 ]
