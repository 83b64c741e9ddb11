#!/bin/bash
# t40 (issue 13): a server check by name (splice_verify = 'always') keeps its deadline when the
# resolver does not answer. glibc's own timeouts (5 s per try, 2 tries by default) are longer
# than a check may take; the check must give up at verify_timeout_ms and bump (verify-timeout),
# not wait for the resolver.
# In a network namespace of its own (nothing on the host is touched and no file is changed, so it
# also works in a chroot, where a mount namespace cannot be made private): only loopback, with
# every nameserver of /etc/resolv.conf added to it as an address, and a UDP socket on each one's
# port 53 that reads queries and never answers. `pinsplice check --verify` runs the same check
# the helper runs (lib/core/verify.c), on a name /etc/hosts does not have.
. "$(dirname "$0")/lib.sh"
e2e_init t40-verify-resolver
e2e_require unshare ip python3
e2e_db_create "INSERT INTO set_setting (key, value) VALUES ('splice_verify', 'always');
               INSERT INTO set_setting (key, value) VALUES ('verify_timeout_ms', '1500');"
name=www.zoom.us
resolv_before=$(sha256sum </etc/resolv.conf)
grep -qw "$name" /etc/hosts && e2e_missing "/etc/hosts names $name: the resolver would not be asked"
# the resolver's servers (glibc uses 127.0.0.1 when resolv.conf names none)
servers=$(awk '$1 == "nameserver" { print $2 }' /etc/resolv.conf)
[ -n "$servers" ] || servers=127.0.0.1
cat >"$E2E_DIR/blackhole.py" <<'PY'
import select, socket, sys
socks = []
for a in sys.argv[3:]:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a, 53))
    socks.append(s)
open(sys.argv[1], "w").write("ready\n")
n = 0
while True:
    for s in select.select(socks, [], [])[0]:
        s.recvfrom(4096)
        n += 1
        open(sys.argv[2], "w").write("%d\n" % n)
PY
cat >"$E2E_DIR/inside.sh" <<'SH'
set -u
d=$1 db=$2 pinsplice=$3 name=$4
shift 4
ip link set lo up || exit 90
for a in "$@"; do
    case $a in
        127.*) ;;
        *:*) ip -6 addr add "$a/128" dev lo nodad || exit 91 ;;
        *) ip addr add "$a/32" dev lo || exit 91 ;;
    esac
done
python3 "$d/blackhole.py" "$d/ready" "$d/queries" "$@" &
bh=$!
for i in $(seq 50); do [ -s "$d/ready" ] && break; sleep 0.1; done
t0=$(date +%s%3N)
"$pinsplice" check --db "$db" --sni "$name" --host "$name:443" --verify --json >"$d/check.json" 2>"$d/check.err"
echo "rc=$? ms=$(($(date +%s%3N) - t0))" >"$d/result"
kill "$bh"
wait "$bh" 2>/dev/null
exit 0
SH
# shellcheck disable=SC2086
timeout 60 unshare -n bash "$E2E_DIR/inside.sh" "$E2E_DIR" "$E2E_DB" "$PS_BUILDDIR/tools/pinsplice" \
    "$name" $servers
e2e_expect "the namespace was set up (loopback with the nameservers' addresses: $servers)" 0 "$?"
e2e_log "figures: $(cat "$E2E_DIR/result" 2>/dev/null)"
ms=$(sed -n 's/.*ms=\([0-9]*\).*/\1/p' "$E2E_DIR/result" 2>/dev/null)
e2e_expect "the resolver was asked (queries reached the silent server)" yes \
    "$([ -s "$E2E_DIR/queries" ] && echo yes || echo no)"
e2e_expect "check --verify: bump, verify-timeout" "bump verify-timeout" \
    "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["action"], d["check"]["verdict"])' \
        "$E2E_DIR/check.json" 2>/dev/null)"
if [ -n "$ms" ] && [ "$ms" -ge 1400 ] && [ "$ms" -lt 3000 ]; then
    e2e_pass "the check gave up at its 1500 ms deadline (${ms} ms), not the resolver's 10 s"
else
    e2e_fail "the check took ${ms:-?} ms (deadline 1500 ms, resolver 2 x 5 s)"
fi
e2e_expect "/etc/resolv.conf is untouched" "$resolv_before" "$(sha256sum </etc/resolv.conf)"
e2e_finish
