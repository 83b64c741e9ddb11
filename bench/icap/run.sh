#!/bin/bash
# bench/icap/run.sh: ICAP CONNECT decisions per second through a real c-icap, srv_pinsplice
# against c-icap's bundled echo service (the baseline) in the same c-icap, same settings.
# A third service, bench/icap/srv_floor.c, answers 200 with one added header and decides nothing:
# the least any service that delivers a decision to Squid can cost in c-icap (echo answers 204).
#
# Usage: bench/icap/run.sh [BUILDDIR]        (default: the current directory)
# Environment: CONNS (default "8 32": ICAP connections, one request in flight each, as Squid),
#   SECS (seconds per run, default 5), ROUNDS (default 3, alternating echo / pinsplice),
#   CICAP_SERVERS (children, default 2), CICAP_THREADS (threads per child, default 16),
#   PS_SQLDIR (default: this tree's sql/).
# Needs: c-icap, sqlite3, cc, ss; the module built in BUILDDIR/module/.libs. Loopback only.
# Prints one line per run (icap_load's key=value output) and a summary per connection count:
# median rate of each service and the ratios. The issue's target: pinsplice >= 90 % of echo.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-.}" && pwd)
sqldir=${PS_SQLDIR:-$here/../../sql}
module=$build/module/.libs/srv_pinsplice.so
conns_list=${CONNS:-8 32}
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
for conns in $conns_list; do
    for svc in echo floor pinsplice; do : >"$tmp/rates.$svc"; : >"$tmp/cpu.$svc"; done
    for r in $(seq "$rounds"); do
        for svc in echo floor pinsplice; do
            c0=$(cicap_ticks)
            line=$("$tmp/icap_load" -p "$port" -s "$svc" -c "$conns" -d "$secs" -w 1) || {
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
    median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", 100 * a / b }'; }
    e=$(median "$tmp/rates.echo")
    f=$(median "$tmp/rates.floor")
    p=$(median "$tmp/rates.pinsplice")
    echo "SUMMARY conns=$conns rate: echo=$e floor=$f pinsplice=$p pinsplice/echo=$(pct "$p" "$e") pinsplice/floor=$(pct "$p" "$f") floor/echo=$(pct "$f" "$e")"
    echo "SUMMARY conns=$conns c-icap CPU us/request: echo=$(median "$tmp/cpu.echo") floor=$(median "$tmp/cpu.floor") pinsplice=$(median "$tmp/cpu.pinsplice")"
done
