#!/bin/bash
# t24-liveness: the live-ness guarantee of issue 5. The real helper (ext_pinsplice_acl, reload
# interval 200 ms) answers a steady stream of requests through pipes, as Squid drives it, while an
# admin's sqlite3 CLI edits the DB every 200 ms for 30 s. Asserted:
#   - every request is answered, once, in order, with a well-formed line;
#   - no answer ever comes from a half-applied edit: each edit moves the name live.test, in ONE
#     transaction, from one rule to the other (DELETE the entry, rename the receiving rule
#     'Live N', INSERT the entry), alternating a splice rule and a bump rule. Every prefix of that
#     transaction leaves live.test in no rule, so a half-applied edit would answer "no rule"
#     (impossible), and a splice answer must come from an even N, a bump from an odd N. N never
#     goes back. An unrelated name (www.zoom.us) is answered the same throughout;
#   - each edit is in force within the reload interval plus a margin: from the end of its COMMIT
#     to the first reply showing it, measured on every edit. p95 <= interval + 100 ms, every edit
#     <= interval + 250 ms. The margin is one DB load plus thread scheduling: on an idle 2-core
#     machine the worst edit of 150 takes 200-250 ms; with other suites loading it (load average
#     8), up to ~370 ms. A reload that missed a change until the next edit (~400 ms) or a slower
#     reload cadence would fail the p95 check.
#
# Environment: PS_BUILDDIR / PS_HELPER, PS_SQLDIR. Needs python3 (the driver: timestamps and two
# pipes at once) and sqlite3; no Squid, no root. Runs ~32 s. Exit 0 pass, 1 fail, 77 when a tool
# is missing and PINSPLICE_ALLOW_SKIP=1.
. "$(dirname "$0")/../lib/check.sh"

e2e_workdir t24-liveness
e2e_require sqlite3 python3
[ -x "$PS_HELPER" ] || e2e_die "helper not built: $PS_HELPER"
DB=$E2E_DIR/rules.db
INTERVAL=200      # ms: the helper's --reload-interval, and the time between two edits
MARGIN_P95=100    # ms on top of the interval, for 95 % of the edits
MARGIN_MAX=250    # ms on top of the interval, for every edit (one load, scheduling under load)
DURATION=${T24_DURATION:-30} # s of edits

cat "$PS_SQLDIR/schema.sql" "$PS_SQLDIR/vendor.sql" "$PS_SQLDIR/defaults.sql" |
    sqlite3 -bail "$DB" || e2e_die "building $DB"
sqlite3 -bail "$DB" "INSERT INTO rules (name, action, position) VALUES ('Live 0', 'splice', 1), ('Live B', 'bump', 2);
INSERT INTO rule_domains (rule_id, domain) SELECT id, 'live.test' FROM rules WHERE name = 'Live 0';" ||
    e2e_die "adding the live rules"
A=$(sqlite3 "$DB" "SELECT id FROM rules WHERE name = 'Live 0'")
B=$(sqlite3 "$DB" "SELECT id FROM rules WHERE name = 'Live B'")

timeout $((DURATION + 30)) python3 - "$PS_HELPER" "$DB" "$INTERVAL" "$DURATION" "$A" "$B" \
    >"$E2E_DIR/result" 2>"$E2E_DIR/driver.err" <<'PY'
import re, subprocess, sys, threading, time

helper, db, interval, duration, rule_a, rule_b = sys.argv[1:]
interval, duration = int(interval), float(duration)
REQ_EVERY = 0.002  # s between two requests: ~500 requests/s
ZOOM = 'OK pinsplice_action_=splice pinsplice_rule_="Bypass Zoom - Pre-configured" message="rule matched"'
REPLY = re.compile(r'^(\d+) (OK|ERR) pinsplice_action_=(splice|bump|terminate) '
                   r'pinsplice_rule_=(-|"[^"]*") message="[^"]*"$')

h = subprocess.Popen([helper, '--db', db, '--reload-interval', str(interval)],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=open(db + '.helper.err', 'w'), bufsize=0)
sq = subprocess.Popen(['sqlite3', '-bail', '-batch', db], stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
sq.stdin.write('.timeout 5000\n')

sent = []       # (time, id, name)
replies = []    # (time, line)
commits = []    # (N, time the COMMIT had returned)
stop = threading.Event()

def reader():
    for raw in h.stdout:
        replies.append((time.monotonic(), raw.decode('utf-8', 'replace').rstrip('\n')))

def editor():
    n = 0
    nxt = time.monotonic() + interval / 1000.0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        time.sleep(max(0.0, nxt - time.monotonic()))
        nxt += interval / 1000.0
        n += 1
        rid = rule_a if n % 2 == 0 else rule_b
        sq.stdin.write("BEGIN;\n"
                       "DELETE FROM rule_domains WHERE domain = 'live.test';\n"
                       f"UPDATE rules SET name = 'Live {n}' WHERE id = {rid};\n"
                       f"INSERT INTO rule_domains (rule_id, domain) VALUES ({rid}, 'live.test');\n"
                       f"COMMIT;\nSELECT 'committed {n}';\n")
        line = sq.stdout.readline().strip()
        if line != f'committed {n}':
            print(f'edit {n}: sqlite3 said {line!r}', file=sys.stderr)
            break
        commits.append((n, time.monotonic()))
    stop.set()

rt = threading.Thread(target=reader)
et = threading.Thread(target=editor)
rt.start()
et.start()
i = 0
until = None
while until is None or time.monotonic() < until:
    if until is None and stop.is_set():
        until = time.monotonic() + interval / 1000.0 * 3  # the last edit comes into force
    i += 1
    name = 'www.zoom.us' if i % 5 == 0 else 'live.test'
    sent.append((time.monotonic(), i, name))
    h.stdin.write(f'{i} {name} {name} 10.0.0.1 - - splice\n'.encode())
    time.sleep(REQ_EVERY)
et.join()
h.stdin.close()
rt.join(timeout=10)
sq.stdin.write('.quit\n')
sq.stdin.close()
h.wait(timeout=10)
sq.wait(timeout=10)

# ---- analysis --------------------------------------------------------------------------------
bad = {'malformed': 0, 'misordered': 0, 'impossible': 0, 'regressions': 0, 'zoom_wrong': 0}
shown = 0
def show(what, line):
    global shown
    if shown < 10:
        print(f'{what}: {line}', file=sys.stderr)
        shown += 1

seen = []   # (receive time, N) for live.test replies
last_n = 0
for k, (t, line) in enumerate(replies):
    m = REPLY.match(line)
    if not m:
        bad['malformed'] += 1; show('malformed', line); continue
    rid = int(m.group(1))
    if k >= len(sent) or rid != sent[k][1]:
        bad['misordered'] += 1; show('misordered', line); continue
    name = sent[k][2]
    body = line.split(' ', 1)[1]
    if name == 'www.zoom.us':
        if body != ZOOM:
            bad['zoom_wrong'] += 1; show('zoom', line)
        continue
    rule = m.group(4)
    g = re.fullmatch(r'"Live (\d+)"', rule)
    if not g:
        bad['impossible'] += 1; show('impossible (no Live rule)', line); continue
    n = int(g.group(1))
    want = ('OK', 'splice') if n % 2 == 0 else ('ERR', 'bump')
    if (m.group(2), m.group(3)) != want:
        bad['impossible'] += 1; show(f'impossible (parity of {n})', line); continue
    if n < last_n:
        bad['regressions'] += 1; show(f'regression {last_n} -> {n}', line)
    last_n = max(last_n, n)
    seen.append((t, n))

lat = []
late = 0
never = 0
j = 0
for n, tc in commits:
    while j < len(seen) and seen[j][1] < n:
        j += 1
    if j == len(seen):
        never += 1; continue
    lat.append(max(0.0, (seen[j][0] - tc) * 1000.0))
    if lat[-1] > interval:
        print(f'edit {n}: in force after {lat[-1]:.0f} ms', file=sys.stderr)
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else -1
print(f'requests={len(sent)}')
print(f'replies={len(replies)}')
for k, v in bad.items():
    print(f'{k}={v}')
print(f'edits={len(commits)}')
print(f'last_seen={last_n}')
print(f'never_seen={never}')
print(f'lat_p50={pct(0.5):.0f}')
print(f'lat_p95={pct(0.95):.0f}')
print(f'lat_max={lat[-1] if lat else -1:.0f}')
PY
rc=$?
[ "$rc" = 0 ] || { cat "$E2E_DIR/driver.err"; e2e_die "driver exited $rc"; }
cat "$E2E_DIR/driver.err"
val() { sed -n "s/^$1=//p" "$E2E_DIR/result"; }
e2e_log "$(tr '\n' ' ' <"$E2E_DIR/result")"

e2e_expect_match "a steady stream of requests" '^[0-9]{4,}$' "$(val requests)"
e2e_expect "every request answered" "$(val requests)" "$(val replies)"
e2e_expect "replies well-formed" 0 "$(val malformed)"
e2e_expect "replies in order, channel-IDs matching" 0 "$(val misordered)"
e2e_expect "no answer from a half-applied edit" 0 "$(val impossible)"
e2e_expect "never an older state after a newer one" 0 "$(val regressions)"
e2e_expect "an unrelated rule answered the same throughout" 0 "$(val zoom_wrong)"
e2e_expect "an edit every ${INTERVAL} ms for ${DURATION} s" 1 \
    "$(( $(val edits) >= DURATION * 1000 / INTERVAL * 9 / 10 ))"
e2e_expect "the last edit was seen" "$(val edits)" "$(val last_seen)"
e2e_expect "every edit came into force" 0 "$(val never_seen)"
max=$(val lat_max)
p95=$(val lat_p95)
if [ "$p95" -ge 0 ] && [ "$p95" -le $((INTERVAL + MARGIN_P95)) ]; then
    e2e_pass "95 % of the edits in force within ${INTERVAL} + ${MARGIN_P95} ms (p50 $(val lat_p50), p95 $p95 ms)"
else
    e2e_fail "95 % of the edits took up to $p95 ms to come into force (limit $((INTERVAL + MARGIN_P95)) ms)"
fi
if [ "$max" -ge 0 ] && [ "$max" -le $((INTERVAL + MARGIN_MAX)) ]; then
    e2e_pass "every edit in force within ${INTERVAL} + ${MARGIN_MAX} ms (max $max ms)"
else
    e2e_fail "an edit took $max ms to come into force (limit $((INTERVAL + MARGIN_MAX)) ms; p50 $(val lat_p50), p95 $p95)"
fi
e2e_expect "helper wrote no error" "" "$(grep -E 'ERROR|FATAL' "$DB.helper.err")"
e2e_finish
