#!/bin/bash
# bench/icap/run.sh: ICAP CONNECT decisions per second through a real c-icap, srv_pinsplice
# against c-icap's bundled echo service (the baseline) in the same c-icap, same settings.
# A third service, bench/icap/srv_floor.c, gives pinsplice's answers (200 with one added header
# for a splice, 204 for a bump) without deciding anything: the least any service that delivers
# the decision the same way can cost in c-icap (echo answers 204 to everything).
#
# Usage: bench/icap/run.sh [BUILDDIR]        (default: the current directory)
# Environment: CONNS (default "8 32": ICAP connections, one request in flight each, as Squid),
#   SPLICE (default "10 25 100": per cent of the CONNECTs to names the default rules splice;
#   10 and 25 are everyday mixes, most CONNECTs being bumped, 100 the worst case: every answer
#   a 200),
#   SECS (seconds per run, default 5), ROUNDS (default 3, alternating the services; more and
#   shorter rounds, e.g. SECS=2 ROUNDS=15, give steadier paired ratios on a busy machine),
#   CICAP_SERVERS (children, default 2), CICAP_THREADS (threads per child, default 16),
#   PS_SQLDIR (default: this tree's sql/),
#   EXTRA (optional "NAME=/path/srv_x.so ...": more builds of srv_pinsplice, each loaded as
#   service NAME with NAME.Database set, measured in the same rotation, e.g. to compare a change;
#   each .so must carry its own mod_name NAME).
# Needs: c-icap, sqlite3, cc, ss; the module built in BUILDDIR/module/.libs. Loopback only.
# Prints one line per run (icap_load's key=value output) and a summary per connection count and
# mix: median rate of each service and the ratios of those medians, then the median of the
# per-round ratios ("paired": each service against the echo run of the same round, seconds
# apart), which load from other processes on the machine disturbs less. The issue's target:
# pinsplice >= 90 % of echo.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-.}" && pwd)
sqldir=${PS_SQLDIR:-$here/../../sql}
module=$build/module/.libs/srv_pinsplice.so
conns_list=${CONNS:-8 32}
splice_list=${SPLICE:-10 25 100}
secs=${SECS:-5}
rounds=${ROUNDS:-3}
PATH=$PATH:/usr/sbin:/sbin

for c in c-icap c-icap-config sqlite3 cc ss; do
    command -v "$c" >/dev/null || { echo "bench/icap: '$c' not found" >&2; exit 2; }
done
[ -r "$module" ] || { echo "bench/icap: $module not built" >&2; exit 2; }
modulesdir=$(c-icap-config --modulesdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/c_icap)
echo_so=$modulesdir/srv_echo.so
[ -r "$echo_so" ] || { echo "bench/icap: $echo_so (c-icap's echo service) not found" >&2; exit 2; }

tmp=$(mktemp -d /tmp/pinsplice-bench-icap.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

cc -O2 -pthread -o "$tmp/icap_load" "$here/icap_load.c"
# shellcheck disable=SC2046 # c-icap-config prints several flags
cc -O2 -fPIC -shared $(c-icap-config --cflags) -o "$tmp/srv_floor.so" "$here/srv_floor.c"
cat "$sqldir/schema.sql" "$sqldir/vendor.sql" "$sqldir/defaults.sql" | sqlite3 -bail "$tmp/rules.db"

for i in $(seq 100); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    [ -z "$(ss -Htan "( sport = :$port )")" ] && break
done
cat >"$tmp/c-icap.conf" <<EOF
PidFile $tmp/c-icap.pid
CommandsSocket $tmp/c-icap.ctl
Port 127.0.0.1:$port
StartServers ${CICAP_SERVERS:-2}
MaxServers ${CICAP_SERVERS:-2}
ThreadsPerChild ${CICAP_THREADS:-16}
MinSpareThreads 1
MaxSpareThreads ${CICAP_THREADS:-16}
MaxKeepAliveRequests 0
KeepAliveTimeout 600
TmpDir $tmp
ServerLog $tmp/server.log
AccessLog $tmp/access.log
DebugLevel 1
ModulesDir $modulesdir
ServicesDir $(dirname "$module")
Service echo $echo_so
Service floor $tmp/srv_floor.so
Service pinsplice srv_pinsplice.so
pinsplice.Database $tmp/rules.db
EOF
services="echo floor pinsplice"
for x in ${EXTRA:-}; do
    name=${x%%=*}
    so=${x#*=}
    if [ -z "$name" ] || [ ! -r "$so" ]; then
        echo "bench/icap: EXTRA: '$x' is not NAME=/path/to/readable.so" >&2
        exit 2
    fi
    printf 'Service %s %s\n%s.Database %s\n' "$name" "$so" "$name" "$tmp/rules.db" >>"$tmp/c-icap.conf"
    services="$services $name"
done
c-icap -N -f "$tmp/c-icap.conf" >"$tmp/stdout.log" 2>&1 &
pid=$!
for i in $(seq 100); do
    [ -n "$(ss -Hltn "( sport = :$port )")" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/stdout.log" >&2; exit 2; }
    sleep 0.1
done

# cicap_ticks: user + system clock ticks used so far by the c-icap master and its children.
cicap_ticks() {
    local p t=0 f
    for p in $pid $(ps -o pid= --ppid "$pid"); do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${f% *} + ${f#* }))
    done
    echo "$t"
}

echo "# c-icap $(c-icap -V 2>&1 | head -n 1), ${CICAP_SERVERS:-2} children x ${CICAP_THREADS:-16} threads; $(nproc) CPUs; $(date -u +%Y-%m-%dT%H:%MZ)"
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", 100 * a / b }'; }
# paired SVC: median over the rounds of (SVC's rate / echo's rate in the same round), in %.
paired() {
    paste "$tmp/rates.$1" "$tmp/rates.echo" | awk '{ printf "%.1f\n", 100 * $1 / $2 }' >"$tmp/ratio"
    echo "$(median "$tmp/ratio")%"
}
for conns in $conns_list; do
    for splice in $splice_list; do
        for svc in $services; do : >"$tmp/rates.$svc"; : >"$tmp/cpu.$svc"; done
        for r in $(seq "$rounds"); do
            # Odd rounds in the listed order, even rounds reversed: a drift in the machine's load
            # during a round does not always favour the same service.
            order=$services
            # shellcheck disable=SC2086 # the list is split on purpose
            [ $((r % 2)) -eq 0 ] && order=$(printf '%s\n' $services | tac | paste -sd' ' -)
            for svc in $order; do
                c0=$(cicap_ticks)
                line=$("$tmp/icap_load" -p "$port" -s "$svc" -c "$conns" -S "$splice" -d "$secs" -w 1) || {
                    echo "bench/icap: run failed: $line" >&2
                    exit 1
                }
                c1=$(cicap_ticks)
                # c-icap CPU (all processes, user + system) per request, warm-up included: a figure
                # that other load on the machine disturbs much less than the rate.
                n=$(printf '%s\n' "$line" | sed -n 's/.* requests=\([0-9]*\) .*/\1/p')
                w=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v s="$secs" -v hz="$(getconf CLK_TCK)" \
                    'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / (n * (s + 1) / s) }')
                line="$line cicap_cpu_us_per_req=$w"
                echo "$line"
                echo "$w" >>"$tmp/cpu.$svc"
                printf '%s\n' "$line" | sed -n 's/.* rate=\([0-9]*\) .*/\1/p' >>"$tmp/rates.$svc"
            done
        done
        e=$(median "$tmp/rates.echo")
        f=$(median "$tmp/rates.floor")
        p=$(median "$tmp/rates.pinsplice")
        echo "SUMMARY conns=$conns splice=$splice% rate: echo=$e floor=$f pinsplice=$p pinsplice/echo=$(pct "$p" "$e") pinsplice/floor=$(pct "$p" "$f") floor/echo=$(pct "$f" "$e")"
        paired_line="pinsplice/echo=$(paired pinsplice) floor/echo=$(paired floor)"
        cpu="echo=$(median "$tmp/cpu.echo") floor=$(median "$tmp/cpu.floor") pinsplice=$(median "$tmp/cpu.pinsplice")"
        for svc in ${services#echo floor pinsplice}; do
            x=$(median "$tmp/rates.$svc")
            echo "SUMMARY conns=$conns splice=$splice% rate: $svc=$x $svc/echo=$(pct "$x" "$e") $svc/pinsplice=$(pct "$x" "$p")"
            cpu="$cpu $svc=$(median "$tmp/cpu.$svc")"
            paired_line="$paired_line $svc/echo=$(paired "$svc")"
        done
        echo "SUMMARY conns=$conns splice=$splice% paired (median of per-round ratios): $paired_line"
        echo "SUMMARY conns=$conns splice=$splice% c-icap CPU us/request: $cpu"
    done
done
