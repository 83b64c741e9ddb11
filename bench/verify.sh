#!/bin/bash
# bench/verify.sh: what the server check before a splice costs the helper (issue 13, "Speed"),
# side by side in one run, driven by bench/helper/drive as Squid drives the helper
# (concurrency=64):
#   - the helper's lines/s when no line needs a check (name CONNECTs), and when 10 % of the lines
#     are IP-literal CONNECTs with a covered SNI whose check is cached (one real check at the
#     start, then cache hits), and when every line needs a (cached) check;
#   - the added latency of a first connection: time to the reply of one line that needs a real
#     check (a TLS handshake with a local OpenSSL server) against one that needs none.
#
# Usage: bench/verify.sh [BUILDDIR [SRCDIR]]     (or: make bench-verify)
# Environment: SECS (seconds per case, default 5), K (in flight, default 64), RUNS (first-answer
# samples, default 20).
set -eu

build=$(cd "${1:-.}" && pwd)
src=$(cd "${2:-$(dirname "$0")/..}" && pwd)
secs=${SECS:-5}
k=${K:-64}
runs=${RUNS:-20}
drive=$build/bench/helper/drive
acl=$build/helper/ext_pinsplice_acl
cli=$build/tools/pinsplice
for p in "$drive" "$acl" "$cli"; do
    [ -x "$p" ] || { echo "bench/verify: $p not built (make bench-verify builds it)" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/pinsplice-bench-verify.XXXXXX)
srv=""
cleanup() {
    if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

# A CA, a certificate for www.zoom.us, an OpenSSL server on a free loopback port.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=bench-ca \
    -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=www.zoom.us \
    -keyout srv.key -out srv.csr 2>/dev/null
printf 'subjectAltName=DNS:www.zoom.us\n' >srv.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile srv.ext \
    -out srv.pem 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -quiet -accept "127.0.0.1:$port" -cert srv.pem -key srv.key -naccept 100000 \
    </dev/null >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do
    ss -ltn "sport = :$port" | grep -q LISTEN && break
    sleep 0.1
done

PINSPLICE_SQLDIR=$src/sql "$cli" db init --db rules.db >/dev/null
sqlite3 rules.db "UPDATE settings SET value = '$tmp/ca.pem' WHERE key = 'verify_ca_file'"

# Query files: 1000 lines each. Bumped names (no rule), name CONNECTs to a spliced name, and
# IP-literal CONNECTs with a covered SNI (a check; cached after the first).
python3 - "$port" <<'EOF'
import sys
port = sys.argv[1]
def write(name, share):
    with open(name, "w") as f:
        for i in range(1000):
            if share and i % (100 // share) == 0:
                f.write("www.zoom.us 127.0.0.1:%s 10.0.%d.%d - - splice\n" % (port, i // 250, i % 250))
            elif i % 2:
                f.write("www.zoom.us www.zoom.us:443 10.0.%d.%d - - splice\n" % (i // 250, i % 250))
            else:
                f.write("host%d.example.test host%d.example.test:443 10.0.%d.%d - - splice\n"
                        % (i, i, i // 250, i % 250))
write("q0.txt", 0)
with open("q0s.txt", "w") as f:  # the same splice as q100's lines, by name: no check
    for i in range(1000):
        f.write("www.zoom.us www.zoom.us:%s 10.0.%d.%d - - splice\n" % (port, i // 250, i % 250))
write("q10.txt", 10)
write("q100.txt", 100)
EOF

echo "# bench/verify.sh, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg), K=$k, ${secs}s per case"
printf '%-34s %12s %16s %10s\n' "case" "lines/s" "helper_cpu_us" "failed"
for q in q0 q10 q0s q100; do
    out=$("$drive" -q "$q.txt" -k "$k" -d "$secs" -- "$acl" --concurrency --db rules.db) || true
    rate=$(printf '%s\n' "$out" | sed -n 's/.* rate=\([0-9]*\).*/\1/p')
    cpu=$(printf '%s\n' "$out" | sed -n 's/.* helper_cpu_us=\([0-9.]*\).*/\1/p')
    failed=$(printf '%s\n' "$out" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
    case $q in
        q0) label="no line needs a check" ;;
        q10) label="10 % need a check (cached)" ;;
        q0s) label="every line a splice, by name" ;;
        q100) label="every line a splice, checked (cached)" ;;
    esac
    printf '%-34s %12s %16s %10s\n' "$label" "$rate" "$cpu" "${failed:-?}"
done

# First answer: one line, a fresh helper, with and without a real check (median of RUNS).
first() { # LINE -> ms to the reply, helper start and rule load included
    python3 - "$acl" "$tmp/rules.db" "$1" <<'EOF'
import subprocess, sys, time
acl, db, line = sys.argv[1:4]
p = subprocess.Popen([acl, "--concurrency", "--db", db], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
t = time.monotonic()
p.stdin.write(("1 " + line + "\n").encode()); p.stdin.flush()
reply = p.stdout.readline().decode()
ms = (time.monotonic() - t) * 1000
p.stdin.close(); p.wait()
print("%.2f %s" % (ms, reply.split()[1]))
EOF
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for kind in name ip; do
    if [ $kind = name ]; then line="www.zoom.us www.zoom.us:443 10.0.0.1 - - splice"
    else line="www.zoom.us 127.0.0.1:$port 10.0.0.1 - - splice"; fi
    : >"$kind.ms"
    for _ in $(seq "$runs"); do first "$line" >>"$kind.ms"; done
    verdicts=$(cut -d' ' -f2 "$kind.ms" | sort | uniq -c | tr -s ' ' | paste -sd,)
    printf '%-34s %9s ms  (%s)\n' "first answer, $kind CONNECT" "$(cut -d' ' -f1 "$kind.ms" | median)" \
        "$verdicts"
done
