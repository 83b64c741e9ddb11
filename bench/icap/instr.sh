#!/bin/bash
# bench/icap/instr.sh: user-space instructions per ICAP request in c-icap (master and child, all
# libraries and modules), counted by valgrind's callgrind, for echo, floor and srv_pinsplice (and
# EXTRA builds) at each splice share. Unlike the rates of run.sh, the counts do not depend on what
# else the machine runs, so they show small differences (a log attribute, a header lookup) that
# the rates cannot. They leave out the kernel: the extra write and polls of a 200 are not in them.
#
# Each service and share is run twice, SHORT and LONG seconds (c-icap started afresh under
# callgrind each time, one child, 4 threads, icap_load with 4 connections); the per-request count
# is (Ir_long - Ir_short) / (requests_long - requests_short), so start-up (the rule load) and
# shutdown cancel out. Requests are counted in c-icap's access log, which uses a LogFormat with
# %{pinsplice:action}Sa and %{pinsplice:rule}Sa, as an admin logging the decision would.
#
# Usage: bench/icap/instr.sh [BUILDDIR]        (default: the current directory)
# Environment: SPLICE (default "25 100"), SHORT / LONG (seconds, default 1 / 4), PS_SQLDIR,
#   EXTRA (as in run.sh: "NAME=/path/srv_x.so ...", each .so with its own mod_name NAME).
# Needs: valgrind, c-icap, sqlite3, cc, ss. Loopback only. Takes about 20 s per line of output.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-.}" && pwd)
sqldir=${PS_SQLDIR:-$here/../../sql}
module=$build/module/.libs/srv_pinsplice.so
PATH=$PATH:/usr/sbin:/sbin

for c in valgrind c-icap c-icap-config sqlite3 cc ss; do
    command -v "$c" >/dev/null || { echo "bench/icap: '$c' not found" >&2; exit 2; }
done
[ -r "$module" ] || { echo "bench/icap: $module not built" >&2; exit 2; }
modulesdir=$(c-icap-config --modulesdir 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/c_icap)

tmp=$(mktemp -d /tmp/pinsplice-bench-instr.XXXXXX)
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

services="echo floor pinsplice"
extra_conf=""
for x in ${EXTRA:-}; do
    name=${x%%=*}
    so=${x#*=}
    if [ -z "$name" ] || [ ! -r "$so" ]; then
        echo "bench/icap: EXTRA: '$x' is not NAME=/path/to/readable.so" >&2
        exit 2
    fi
    extra_conf="$extra_conf
Service $name $so
$name.Database $tmp/rules.db"
    services="$services $name"
done

# count SVC SPLICE SECONDS: one fresh c-icap under callgrind; sets REQUESTS and INSTRUCTIONS.
count() {
    local svc=$1 splice=$2 secs=$3 run port ir=0 f
    run=$(mktemp -d "$tmp/run.XXXXXX")
    for _ in $(seq 100); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        [ -z "$(ss -Htan "( sport = :$port )")" ] && break
    done
    cat >"$run/c-icap.conf" <<EOF
PidFile $run/c-icap.pid
CommandsSocket $run/c-icap.ctl
Port 127.0.0.1:$port
StartServers 1
MaxServers 1
ThreadsPerChild 4
MinSpareThreads 1
MaxSpareThreads 4
MaxKeepAliveRequests 0
KeepAliveTimeout 600
TmpDir $run
ServerLog $run/server.log
LogFormat bench "%tl %a %im %is %iu %{pinsplice:action}Sa %{pinsplice:rule}Sa"
AccessLog $run/access.log bench
DebugLevel 1
ModulesDir $modulesdir
ServicesDir $(dirname "$module")
Service echo $modulesdir/srv_echo.so
Service floor $tmp/srv_floor.so
Service pinsplice srv_pinsplice.so
pinsplice.Database $tmp/rules.db
$extra_conf
EOF
    valgrind --tool=callgrind --callgrind-out-file="$run/callgrind.%p" \
        c-icap -N -f "$run/c-icap.conf" >"$run/stdout.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do
        [ -n "$(ss -Hltn "( sport = :$port )")" ] && break
        kill -0 "$pid" 2>/dev/null || { cat "$run/stdout.log" >&2; exit 2; }
        sleep 0.1
    done
    sleep 2 # the child loads its rules
    "$tmp/icap_load" -p "$port" -s "$svc" -c 4 -S "$splice" -d "$secs" -w 0 >"$run/load.out" || {
        echo "bench/icap: run failed: $(cat "$run/load.out")" >&2
        exit 1
    }
    sleep 0.3
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=""
    for f in "$run"/callgrind.*; do
        ir=$((ir + $(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$f" | head -n 1)))
    done
    REQUESTS=$(wc -l <"$run/access.log")
    INSTRUCTIONS=$ir
}

echo "# c-icap $(c-icap -V 2>&1 | head -n 1) under $(valgrind --version); $(date -u +%Y-%m-%dT%H:%MZ)"
for splice in ${SPLICE:-25 100}; do
    for svc in $services; do
        count "$svc" "$splice" "${SHORT:-1}"
        n1=$REQUESTS i1=$INSTRUCTIONS
        count "$svc" "$splice" "${LONG:-4}"
        n2=$REQUESTS i2=$INSTRUCTIONS
        [ "$n2" -gt "$n1" ] || { echo "bench/icap: $svc: no more requests in the long run" >&2; exit 1; }
        echo "splice=$splice% service=$svc requests=$n1/$n2 instructions_per_request=$(((i2 - i1) / (n2 - n1)))"
    done
done
