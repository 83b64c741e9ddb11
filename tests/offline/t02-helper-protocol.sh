#!/bin/bash
# t02-helper-protocol: the built ext_pinsplice_acl driven through pipes, as Squid drives it, but
# without Squid: exact reply lines for decisions, channel-IDs, malformed and over-long lines, the
# command line, a DB missing at start, a DB replaced by garbage, and a rule name that needs quoting.
#
# Environment: PS_BUILDDIR / PS_HELPER (the helper), PS_SQLDIR (schema.sql, vendor.sql,
# defaults.sql). Needs the sqlite3 CLI; no root, no Squid, no network.
# Exit 0 all checks passed, 1 a check failed, 77 sqlite3 missing and PINSPLICE_ALLOW_SKIP=1.

# shellcheck source=tests/lib/check.sh
. "$(dirname "$0")/../lib/check.sh"

e2e_workdir t02-helper-protocol "${TMPDIR:-/tmp}"
command -v sqlite3 >/dev/null 2>&1 || e2e_missing "required program 'sqlite3' not found"
[ -x "$PS_HELPER" ] || e2e_die "helper not built: $PS_HELPER"
trap '' PIPE # a dead helper must fail a check, not kill this script
e2e_log "$E2E_NAME: work dir $E2E_DIR, helper $PS_HELPER"

ZOOM='Bypass Zoom - Pre-configured'
OK_ZOOM="OK pinsplice_action_=splice pinsplice_rule_=\"$ZOOM\" message=\"rule matched\""
NO_RULE='pinsplice_action_=bump pinsplice_rule_=- message="no rule matched: default action"'
UNAVAILABLE='ERR pinsplice_action_=bump pinsplice_rule_=- message="rules unavailable"'
# Every line a helper writes on stdout must look like this.
REPLY_RE='^([0-9]{1,20} )?(OK|ERR) pinsplice_action_=(splice|bump|terminate) pinsplice_rule_=(-|"([^"\\]|\\.)*") message="([^"\\]|\\.)*"$'

# ---- helpers -----------------------------------------------------------------------------------

# build_db PATH [SQL...]: a rules DB from the shipped SQL plus extra statements, built aside and
# renamed into place (as an admin replacing the DB would).
build_db() {
    local db=$1 tmp=$1.tmp.$$
    shift
    rm -f "$tmp"
    { cat "$PS_SQLDIR/schema.sql" "$PS_SQLDIR/vendor.sql" "$PS_SQLDIR/defaults.sql"
      for sql in "$@"; do printf '%s\n' "$sql"; done; } |
        sqlite3 -bail "$tmp" >"$E2E_DIR/sqlite.err" 2>&1 ||
        e2e_die "building $db: $(cat "$E2E_DIR/sqlite.err")"
    mv -f "$tmp" "$db"
}

# batch NAME INPUT-FILE [ARGS...]: run the helper once over the file (EOF ends it). Sets B_OUT,
# B_ERR (files) and B_RC.
batch() {
    local name=$1 input=$2
    shift 2
    B_OUT=$E2E_DIR/$name.out
    B_ERR=$E2E_DIR/$name.err
    timeout 20 "$PS_HELPER" "$@" <"$input" >"$B_OUT" 2>"$B_ERR"
    B_RC=$?
}

# expect_file WHAT EXPECTED-FILE ACTUAL-FILE: identical, line for line.
expect_file() {
    if cmp -s "$2" "$3"; then
        e2e_pass "$1 ($(wc -l <"$3") lines)"
    else
        e2e_fail "$1: replies differ (expected vs got):"
        diff "$2" "$3" | head -n 20 | sed 's/^/#   /'
    fi
}

# expect_protocol_only WHAT FILE: every stdout line is a well-formed reply.
expect_protocol_only() {
    local bad
    bad=$(grep -cvE "$REPLY_RE" "$2")
    e2e_expect "$1: stdout carries only reply lines" 0 "$bad"
}

# A helper reading from a FIFO, for conversations: helper_start NAME ARGS..., helper_ask LINE,
# helper_stop. H_PID, H_OUT, H_ERR; helper_ask sets REPLY_LINE ("" when none came within 5 s).
helper_start() {
    local name=$1 fifo=$E2E_DIR/$1.in
    shift
    H_OUT=$E2E_DIR/$name.out
    H_ERR=$E2E_DIR/$name.err
    mkfifo "$fifo" || e2e_die "mkfifo $fifo"
    "$PS_HELPER" "$@" <"$fifo" >"$H_OUT" 2>"$H_ERR" &
    H_PID=$!
    e2e_bg "$H_PID"
    exec {H_FD}>"$fifo"
    H_SEEN=0
}

helper_lines() { local n; n=$(wc -l <"$H_OUT"); echo "${n:-0}"; }

# helper_send TEXT: write raw text (backslash escapes interpreted) without waiting.
helper_send() { printf '%b' "$1" >&"$H_FD"; }

# helper_wait: wait up to 5 s for reply number H_SEEN + 1; sets REPLY_LINE.
helper_wait() {
    local i
    H_SEEN=$((H_SEEN + 1))
    REPLY_LINE=""
    for i in $(seq 100); do
        if [ "$(helper_lines)" -ge "$H_SEEN" ]; then
            REPLY_LINE=$(sed -n "${H_SEEN}p" "$H_OUT")
            return 0
        fi
        kill -0 "$H_PID" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

helper_ask() { printf '%s\n' "$1" >&"$H_FD"; helper_wait; }

# helper_stop: close its stdin and wait (5 s) for it to exit; H_RC is its exit status.
helper_stop() {
    local i
    exec {H_FD}>&-
    for i in $(seq 100); do
        kill -0 "$H_PID" 2>/dev/null || break
        sleep 0.05
    done
    wait "$H_PID" 2>/dev/null
    H_RC=$?
}

# now_ms: monotonic enough for intervals of a second.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

DB=$E2E_DIR/rules.db
build_db "$DB" \
    "INSERT INTO rules (name, action) VALUES ('Quote \"me\" \\ 100% Zürich', 'splice');" \
    "INSERT INTO rule_domains (rule_id, domain) VALUES ((SELECT id FROM rules WHERE name LIKE 'Quote%'), 'quote.test');" \
    "INSERT INTO rules (name, action) VALUES ('Zürich 日本 ✓', 'splice');" \
    "INSERT INTO rule_domains (rule_id, domain) VALUES ((SELECT id FROM rules WHERE name LIKE 'Z_rich%'), 'utf8.test');" \
    "INSERT INTO rules (name, action) VALUES ('Terminate bad', 'terminate');" \
    "INSERT INTO rule_domains (rule_id, domain) VALUES ((SELECT id FROM rules WHERE name = 'Terminate bad'), 'bad.test');"
e2e_expect "the default DB names the Zoom rule" "$ZOOM" \
    "$(sqlite3 "$DB" "SELECT r.name FROM rules r JOIN rule_domains d ON d.rule_id = r.id WHERE d.domain = 'zoom.us' AND r.enabled = 1 ORDER BY r.position LIMIT 1")"

# ---- 1. decisions, without channel-IDs ---------------------------------------------------------
cat >"$E2E_DIR/1.in" <<'EOF'
www.zoom.us www.zoom.us:443 192.0.2.1 - - splice
evilzoom.us evilzoom.us:443 192.0.2.1 - - splice
zoom.us.evil.test zoom.us.evil.test:443 192.0.2.1 - - splice
ZOOM.US. ZOOM.US.:443 192.0.2.1 - - -
www.zoom.us www.zoom.us:443 192.0.2.1 - - bump
evilzoom.us evilzoom.us:443 192.0.2.1 - - bump
bad.test bad.test:443 192.0.2.1 - - terminate
bad.test bad.test:443 192.0.2.1 - - splice
quote.test quote.test:443 192.0.2.1 - - splice
- www.zoom.us:443 192.0.2.1 - - splice
utf8.test utf8.test:443 192.0.2.1 - - splice
EOF
cat >"$E2E_DIR/1.want" <<EOF
$OK_ZOOM
ERR $NO_RULE
ERR $NO_RULE
$OK_ZOOM
ERR pinsplice_action_=splice pinsplice_rule_="$ZOOM" message="rule matched"
OK $NO_RULE
OK pinsplice_action_=terminate pinsplice_rule_="Terminate bad" message="rule matched"
ERR pinsplice_action_=terminate pinsplice_rule_="Terminate bad" message="rule matched"
OK pinsplice_action_=splice pinsplice_rule_="Quote \\"me\\" \\\\ 100% Zürich" message="rule matched"
$OK_ZOOM
OK pinsplice_action_=splice pinsplice_rule_="Zürich 日本 ✓" message="rule matched"
EOF
batch 1 "$E2E_DIR/1.in" --db "$DB"
e2e_expect "decisions: exit status at EOF" 0 "$B_RC"
expect_file "decisions: exact replies (splice, bump, terminate, quoting, UTF-8)" "$E2E_DIR/1.want" \
    "$B_OUT"
expect_protocol_only "decisions" "$B_OUT"

# --debug logs each request and its reply on stderr, and nothing more goes to stdout.
batch 1debug "$E2E_DIR/1.in" --db "$DB" --debug
expect_file "--debug: the same replies on stdout" "$E2E_DIR/1.want" "$B_OUT"
e2e_expect_match "--debug: request and reply on stderr" \
    "'utf8\\.test utf8\\.test:443 192\\.0\\.2\\.1 - - splice' -> OK pinsplice_action_=splice pinsplice_rule_=\"Zürich" \
    "$(grep -F 'utf8.test' "$B_ERR")"

# The same DB through $PINSPLICE_DB (no --db).
PINSPLICE_DB=$DB batch 1env "$E2E_DIR/1.in"
expect_file "PINSPLICE_DB is used when --db is not given" "$E2E_DIR/1.want" "$B_OUT"

# ---- 2. channel-IDs, malformed and over-long lines ---------------------------------------------
{
    echo "1 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
    echo "7 evilzoom.us evilzoom.us:443 192.0.2.1 - - splice"
    echo "123456789 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
    echo "0 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
    echo "4294967296 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
    echo "11 www.zoom.us www.zoom.us:443 192.0.2.1 - splice"
    echo "12 %zz www.zoom.us:443 192.0.2.1 - - splice"
    echo "13 www.zoom.us%00 www.zoom.us:443 192.0.2.1 - - splice"
    printf '14 '; head -c 100000 /dev/zero | tr '\0' a; echo " b c d e splice"
    echo "15 www.zoom.us www.zoom.us:443 192.0.2.1 - - SPLICE"
    printf '16 www.zoom.us\001 www.zoom.us:443 192.0.2.1 - - splice\n'
    printf '17 www.zo\000om.us www.zoom.us:443 192.0.2.1 - - splice\n'
    echo "18 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice x"
    echo "19 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
} >"$E2E_DIR/2.in"
cat >"$E2E_DIR/2.want" <<EOF
1 $OK_ZOOM
7 ERR $NO_RULE
123456789 $OK_ZOOM
0 $OK_ZOOM
4294967296 $OK_ZOOM
11 ERR pinsplice_action_=bump pinsplice_rule_=- message="5 fields, expected 6 after the channel-ID"
12 ERR pinsplice_action_=bump pinsplice_rule_=- message="SNI: bad %-escape (not % and two hex digits)"
13 ERR pinsplice_action_=bump pinsplice_rule_=- message="SNI: escaped NUL (%00)"
14 ERR pinsplice_action_=bump pinsplice_rule_=- message="line too long (over 16384 bytes)"
15 ERR pinsplice_action_=bump pinsplice_rule_=- message="ACTION: not splice, bump, terminate or -"
16 ERR pinsplice_action_=bump pinsplice_rule_=- message="SNI: control character 0x01"
17 ERR pinsplice_action_=bump pinsplice_rule_=- message="SNI: NUL byte"
18 ERR pinsplice_action_=bump pinsplice_rule_=- message="7 fields, expected 6 after the channel-ID"
19 $OK_ZOOM
EOF
batch 2 "$E2E_DIR/2.in" --db "$DB"
e2e_expect "channel-IDs: exit status at EOF" 0 "$B_RC"
expect_file "channel-IDs echoed; each malformed line gets one ERR and the helper goes on" \
    "$E2E_DIR/2.want" "$B_OUT"
expect_protocol_only "channel-IDs" "$B_OUT"
e2e_expect_match "a malformed line is logged on stderr" 'WARNING: malformed request answered ERR' \
    "$(head -n 3 "$B_ERR")"

# Forced modes: a line that does not fit is an error, answered in the forced mode.
printf '%s\n' "www.zoom.us www.zoom.us:443 192.0.2.1 - - splice" \
    "21 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice" >"$E2E_DIR/3.in"
batch 3c "$E2E_DIR/3.in" --db "$DB" --concurrency
printf '%s\n' \
    'ERR pinsplice_action_=bump pinsplice_rule_=- message="channel-ID: not 1 to 20 digits"' \
    "21 $OK_ZOOM" >"$E2E_DIR/3c.want"
expect_file "--concurrency: a line without channel-ID is an error" "$E2E_DIR/3c.want" "$B_OUT"
batch 3n "$E2E_DIR/3.in" --db "$DB" --no-concurrency
printf '%s\n' "$OK_ZOOM" \
    'ERR pinsplice_action_=bump pinsplice_rule_=- message="7 fields, expected 6"' >"$E2E_DIR/3n.want"
expect_file "--no-concurrency: a channel-ID is an error" "$E2E_DIR/3n.want" "$B_OUT"

# An over-long line with no channel-ID anywhere, then a last line without newline at EOF.
{ head -c 100000 /dev/zero | tr '\0' a; echo; printf 'www.zoom.us www.zoom.us:443 192.0.2.1 - - splice'; } \
    >"$E2E_DIR/4.in"
printf '%s\n' 'ERR pinsplice_action_=bump pinsplice_rule_=- message="line too long (over 16384 bytes)"' \
    "$OK_ZOOM" >"$E2E_DIR/4.want"
batch 4 "$E2E_DIR/4.in" --db "$DB"
expect_file "over-long line without channel-ID; last line without newline answered" \
    "$E2E_DIR/4.want" "$B_OUT"

# Many lines in flight at once (one write): every one answered, in order, IDs intact.
for i in $(seq 1 5000); do
    echo "$((i * 3)) www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
done >"$E2E_DIR/5.in"
for i in $(seq 1 5000); do echo "$((i * 3)) $OK_ZOOM"; done >"$E2E_DIR/5.want"
batch 5 "$E2E_DIR/5.in" --db "$DB"
expect_file "5000 requests in one stream" "$E2E_DIR/5.want" "$B_OUT"

# The same streams in small writes through a pipe: lines split across reads at every offset.
# dd_batch NAME INPUT-FILE BS ARGS...: like batch, the input written BS bytes at a time.
dd_batch() {
    local name=$1 input=$2 bs=$3
    shift 3
    B_OUT=$E2E_DIR/$name.out
    B_ERR=$E2E_DIR/$name.err
    dd if="$input" bs="$bs" status=none | timeout 60 "$PS_HELPER" "$@" >"$B_OUT" 2>"$B_ERR"
    B_RC=$?
}
dd_batch 5dd "$E2E_DIR/5.in" 13 --db "$DB"
e2e_expect "split writes: exit status at EOF" 0 "$B_RC"
expect_file "5000 requests written 13 bytes at a time" "$E2E_DIR/5.want" "$B_OUT"
dd_batch 2dd "$E2E_DIR/2.in" 7 --db "$DB"
expect_file "malformed, over-long and NUL lines written 7 bytes at a time" "$E2E_DIR/2.want" \
    "$B_OUT"

# ---- 3. conversation: no reply held back, split lines ------------------------------------------
helper_start conv --db "$DB"
helper_ask "31 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
e2e_expect "a reply comes while stdin stays open" "31 $OK_ZOOM" "$REPLY_LINE"
helper_send '32 www.zoom'
sleep 0.3
e2e_expect "half a line is not answered" 1 "$(helper_lines)"
helper_send '.us www.zoom.us:443 192.0.2.1 - - splice\n'
helper_wait
e2e_expect "a line split across writes is answered once" "32 $OK_ZOOM" "$REPLY_LINE"
helper_stop
e2e_expect "EOF: exit status 0" 0 "$H_RC"

# ---- 4. DB missing at start, then appears ------------------------------------------------------
NEW=$E2E_DIR/new.db
helper_start missing --db "$NEW" --reload-interval 200
helper_ask "41 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
e2e_expect "DB missing: ERR rules unavailable" "41 $UNAVAILABLE" "$REPLY_LINE"
helper_ask "42 evilzoom.us evilzoom.us:443 192.0.2.1 - - bump"
e2e_expect "DB missing: bump is still the decision" \
    '42 OK pinsplice_action_=bump pinsplice_rule_=- message="rules unavailable"' "$REPLY_LINE"
e2e_expect_match "DB missing: logged on stderr" "ext_pinsplice_acl: ERROR: .*new\.db" \
    "$(head -n 1 "$H_ERR")"
build_db "$NEW"
t0=$(now_ms)
id=43
while :; do
    helper_ask "$id www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
    [ "$REPLY_LINE" = "$id $OK_ZOOM" ] && break
    [ $(($(now_ms) - t0)) -gt 5000 ] && break
    id=$((id + 1))
    sleep 0.05
done
took=$(($(now_ms) - t0))
e2e_expect "DB appeared: the answer becomes OK" "$id $OK_ZOOM" "$REPLY_LINE"
e2e_log "rules picked up ${took} ms after the DB appeared (reload interval 200 ms)"
if [ "$took" -le 1500 ]; then e2e_pass "picked up within the reload interval (+ slack): ${took} ms"
else e2e_fail "picked up after ${took} ms, reload interval 200 ms"; fi

# ---- 5. DB replaced by garbage: last good rules stay -------------------------------------------
# error_lines: how many ERROR lines the helper logged so far.
error_lines() { grep -c 'ERROR' "$H_ERR"; }
# wait_error N: wait (5 s) until more than N ERROR lines were logged: the reload saw the change.
more_errors() { [ "$(error_lines)" -gt "$1" ]; }
wait_error() { e2e_wait_for 5 more_errors "$1"; }
errs=$(error_lines)
head -c 8192 /dev/urandom >"$NEW.garbage"
mv -f "$NEW.garbage" "$NEW"
wait_error "$errs" || e2e_fail "DB renamed over by garbage: no error logged within 5 s"
helper_ask "60 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
e2e_expect "DB renamed over by garbage: last good rules answer" "60 $OK_ZOOM" "$REPLY_LINE"
errs=$(error_lines)
: >"$NEW" # truncated in place (the same garbage again would not be reported twice)
wait_error "$errs" || e2e_fail "DB truncated in place: no error logged within 5 s"
sleep 1 # five more reload intervals: the broken DB must not be reported again
helper_ask "61 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
e2e_expect "DB truncated in place: last good rules answer" "61 $OK_ZOOM" "$REPLY_LINE"
# missing, garbage, truncated: one report each over ~15 reload intervals.
errs=$(error_lines)
if [ "$errs" -eq 3 ]; then
    e2e_pass "each broken DB reported once on stderr, not every interval ($errs ERROR lines)"
else
    e2e_fail "expected 3 ERROR lines on stderr (missing, garbage, truncated), got $errs"
    sed 's/^/#   /' "$H_ERR" | head -n 10
fi
# A good DB again, with the Zoom rule disabled: the helper is still reloading.
build_db "$NEW" "UPDATE rules SET enabled = 0 WHERE name = '$ZOOM';"
t0=$(now_ms)
id=62
while :; do
    helper_ask "$id www.zoom.us www.zoom.us:443 192.0.2.1 - - splice"
    case $REPLY_LINE in "$id ERR "*) break ;; esac
    [ $(($(now_ms) - t0)) -gt 5000 ] && break
    id=$((id + 1))
    sleep 0.05
done
e2e_expect "good DB again (Zoom rule disabled): reloaded" "$id ERR $NO_RULE" "$REPLY_LINE"
helper_stop
e2e_expect "conversation: exit status 0" 0 "$H_RC"
expect_protocol_only "reload conversation" "$H_OUT"

# ---- 6. --fail-open ----------------------------------------------------------------------------
printf '%s\n' "1 www.zoom.us www.zoom.us:443 192.0.2.1 - - splice" \
    "2 www.zoom.us www.zoom.us:443 192.0.2.1 - - terminate" "3 a%zz b c d e splice" \
    "4 zoom..us zoom..us:443 192.0.2.1 - - splice" "5 www.zoom.us www.zoom.us:443 10.0.0.999 - - splice" \
    "6 www.zoom.us www.zoom.us:443 192.0.2.1 - a/ splice" \
    "7 www.zoom.us%E2%80%8B www.zoom.us:443 192.0.2.1 - - splice" \
    >"$E2E_DIR/6.in"
# Fail-open means only "no rules": malformed input (bad name, client IP, program) is bumped.
printf '%s\n' \
    '1 OK pinsplice_action_=splice pinsplice_rule_=- message="rules unavailable (fail-open)"' \
    '2 ERR pinsplice_action_=splice pinsplice_rule_=- message="rules unavailable (fail-open)"' \
    '3 ERR pinsplice_action_=bump pinsplice_rule_=- message="SNI: bad %-escape (not % and two hex digits)"' \
    '4 ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad SNI"' \
    '5 ERR pinsplice_action_=bump pinsplice_rule_=- message="bad input: bad client IP"' \
    '6 ERR pinsplice_action_=bump pinsplice_rule_=- message="bad input: bad program name"' \
    '7 ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad SNI"' \
    >"$E2E_DIR/6.want"
batch 6 "$E2E_DIR/6.in" --db "$E2E_DIR/absent.db" --fail-open
expect_file "--fail-open without rules: splice; malformed lines still ERR" "$E2E_DIR/6.want" "$B_OUT"
batch 6b "$E2E_DIR/6.in" --db "$DB" --fail-open
e2e_expect "--fail-open with rules: the rules decide" "1 $OK_ZOOM" "$(head -n 1 "$B_OUT")"

# ---- 6b. names that are not ASCII, bracketed names (issue 12 items 8, 12) ----------------------
# RFC 6066 sends host names as ASCII: UTS#46 would fold a zero-width space (U+200B), a fullwidth
# or ideographic dot into www.zoom.us, a name the client never sent. Brackets hold an IPv6
# address, never a domain. Each is a bad name, bumped; the plain name still splices.
cat >"$E2E_DIR/ascii.in" <<'EOF'
www.zoom.us%E2%80%8B www.zoom.us:443 192.0.2.1 - - splice
www.zoom.us www.zoom%EF%BC%8Eus:443 192.0.2.1 - - splice
www%E3%80%82zoom.us www.zoom.us:443 192.0.2.1 - - splice
- www.zoom.us%E2%80%8B:443 192.0.2.1 - - splice
- [www.zoom.us]:443 192.0.2.1 - - splice
[www.zoom.us] www.zoom.us:443 192.0.2.1 - - splice
www.zoom.us www.zoom.us:443 192.0.2.1 - - splice
EOF
cat >"$E2E_DIR/ascii.want" <<EOF
ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad SNI"
ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad CONNECT host"
ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad SNI"
ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad CONNECT host"
ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad CONNECT host"
ERR pinsplice_action_=bump pinsplice_rule_=- message="bad server name: bad SNI"
$OK_ZOOM
EOF
batch ascii "$E2E_DIR/ascii.in" --db "$DB"
expect_file "non-ASCII and bracketed names: bumped as bad names" "$E2E_DIR/ascii.want" "$B_OUT"

# ---- 7. command line ---------------------------------------------------------------------------
: >"$E2E_DIR/empty.in"
for args in "--bogus" "--reload-interval abc" "--reload-interval 0" "--reload-interval" \
    "--db" "extra" "--db ''"; do
    eval "batch cli $E2E_DIR/empty.in $args"
    e2e_expect "bad command line '$args': exit 1" 1 "$B_RC"
    e2e_expect_match "bad command line '$args': FATAL on stderr" '^ext_pinsplice_acl: FATAL: ' \
        "$(cat "$B_ERR")"
    e2e_expect "bad command line '$args': nothing on stdout" 0 "$(wc -c <"$B_OUT")"
done
batch help "$E2E_DIR/empty.in" --help
e2e_expect_match "--help: usage, exit 0" "^Usage: ext_pinsplice_acl .*rc=0" "$(head -n 1 "$B_OUT") rc=$B_RC"
batch version "$E2E_DIR/empty.in" --version
e2e_expect_match "--version, exit 0" "^ext_pinsplice_acl \(pinsplice\) [0-9.]+ rc=0" "$(cat "$B_OUT") rc=$B_RC"
batch eof "$E2E_DIR/empty.in" --db "$DB" --debug --reload-interval 50
e2e_expect "empty input: exit 0, no output" "0:0" "$B_RC:$(wc -c <"$B_OUT")"

e2e_finish
