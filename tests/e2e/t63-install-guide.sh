#!/bin/bash
# t63: README's "Production install on Debian (packages)", run literally (issue 10, the install
# guide). Every ```sh block of that section preceded by a "<!-- t63 -->" line is run as root with
# `bash -e`, in order, in the source copy the packages are built from, against this machine's
# real system: Debian's own /etc/squid/squid.conf and Squid init script (`service squid
# restart`), Debian's c-icap service (`service c-icap restart`), apt-get, dpkg, logrotate.
# The blocks are run as written, except for these documented substitutions:
#   - Debian's ports: every "3128" in a block becomes 127.0.0.1:PORT and every "1344" becomes
#     a free port, and so do the two lines in Debian's files they edit (squid.conf's
#     "http_port 3128", c-icap.conf's "Port 1344"), so that everything listens on free loopback
#     ports; the installed pinsplice-icap.conf (which sends ICAP to 127.0.0.1:1344) gets the same
#     port after each package install;
#   - dpkg-buildpackage is skipped (a shell function that says so) when t62 or an earlier run
#     already built the packages of this very source tree (lib-deb.sh's cache); it runs with
#     DEB_BUILD_OPTIONS=nocheck otherwise;
#   - apt-get runs with APT_CONFIG = Assume-Yes and no upgrades of installed packages;
#   - `service c-icap restart` stops c-icap by its PID file's PID, then starts it as the init
#     script's start does (START=yes checked): the init script's stop would also stop every
#     other c-icap on the machine;
#   - /etc/squid/conf.d/t63-test.conf holds what the test's own origin needs: its CA
#     (tls_outgoing_options), its port (acl SSL_ports), its names (hosts_file), a quick shutdown.
# Checked: packages install, `man -k pinsplice` lists the three pages; before the opt-in Squid
# bumps everything; after it a pinned curl to a covered name is spliced (origin CA issuer,
# pinsplice.log "splice" by the Zoom rule) and another name bumped (the guide's CA), with both
# log lines written; the same with `workers 2` (helper and Squid memory measured for 1 and 2
# workers); the same through c-icap (ICAP variant); logrotate covers pinsplice.log and
# `squid -k rotate` reopens it; the upgrade keeps serving; after removal, reconfigure and a
# restart Squid serves and splices nothing (its own policy bumps everything), c-icap restarts.
# At the end every process started is stopped by PID, the packages are purged and Debian's
# files are restored: a manifest (path, mode, owner, SHA-256) of /etc/squid, /etc/c-icap,
# /etc/default/c-icap and /etc/apparmor.d/local is compared before and after.
# The test refuses to run when pinsplice is installed, Squid or c-icap is running as a system
# service, or the guide's paths (/etc/squid/ssl, /var/spool/squid/ssl_db) exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-deb.sh"
e2e_init t63-install-guide
e2e_require dpkg-buildpackage dh apt-get dpkg-query service logrotate mandb man c-icap \
    c-icap-client flock tar
# Debian's squid.conf, the guide's lines and pinsplice: cache.log and c-icap's server.log clean.
E2E_LOG_ALLOW='^$'
deb_system_lock

SQUID_CONF=/etc/squid/squid.conf
CICAP_CONF=/etc/c-icap/c-icap.conf
CICAP_DEFAULT=/etc/default/c-icap
LINK=/etc/squid/conf.d/pinsplice.conf
TESTCONF=/etc/squid/conf.d/t63-test.conf
ICAP_SNIPPET=/usr/share/pinsplice/squid-conf/pinsplice-icap.conf
readme=$PS_SRCDIR/README.md

# ---- refuse to touch a system that is in use --------------------------------------------------
installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null; }
for p in pinsplice libc-icap-mod-pinsplice; do
    case $(installed "$p") in ""|not-installed|config-files) ;;
        *) e2e_die "package $p is installed: t63 will not touch it (purge it first)" ;; esac
done
for f in "$SQUID_CONF" "$CICAP_CONF" "$CICAP_DEFAULT" /etc/init.d/squid /etc/init.d/c-icap; do
    [ -r "$f" ] || e2e_missing "$f absent (packages squid-openssl, c-icap)"
done
grep -qx 'http_port 3128' "$SQUID_CONF" || e2e_die "$SQUID_CONF is not Debian's (no 'http_port 3128')"
grep -qx 'Port 1344' "$CICAP_CONF" || e2e_die "$CICAP_CONF is not Debian's (no 'Port 1344')"
grep -qx 'START=no' "$CICAP_DEFAULT" || e2e_die "$CICAP_DEFAULT is not Debian's (no 'START=no')"
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
pid_alive /run/squid.pid && e2e_die "a system Squid runs (/run/squid.pid): t63 will not touch it"
pid_alive /run/c-icap/c-icap.pid && e2e_die "a system c-icap runs: t63 will not touch it"
for f in /etc/squid/ssl /var/spool/squid/ssl_db "$LINK" "$LINK.removed" "$TESTCONF" \
         /etc/squid/conf.d/workers.conf /var/lib/pinsplice; do
    [ -e "$f" ] || [ -L "$f" ] && e2e_die "$f exists: t63 will not touch it"
done

# ---- saved state: restored at the end, and compared -------------------------------------------
save=$E2E_DIR/saved
mkdir -p "$save"
etc_paths=(etc/squid etc/c-icap etc/default/c-icap etc/apparmor.d/local)
manifest() {
    local p
    for p in "${etc_paths[@]}"; do
        [ -e "/$p" ] || { echo "absent /$p"; continue; }
        find "/$p" -xdev -printf '%p %y %m %u:%g %l\n' | LC_ALL=C sort
        find "/$p" -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    done
}
manifest >"$save/manifest.before"
present=()
for p in "${etc_paths[@]}"; do [ -e "/$p" ] && present+=("$p"); done
tar -C / -cpf "$save/etc.tar" "${present[@]}" || e2e_die "cannot save ${present[*]}"
for d in /run/squid /run/c-icap; do [ -e "$d" ] && touch "$save/had-$(basename "$d")"; done
logs_before() { find /var/log/squid /var/log/c-icap -maxdepth 1 -type f -printf '%p %s\n' 2>/dev/null; }
logs_before >"$save/logs"

started=""     # PIDs of the Squid and c-icap masters started (services), stopped by PID
note_pid() {   # note_pid PIDFILE WHAT: wait (10 s) for a live PID in PIDFILE (daemons write it late)
    local pid
    e2e_wait_for 10 pid_alive "$1" || { e2e_fail "$2: no live PID in $1"; return 1; }
    pid=$(cat "$1")
    case " $started " in *" $pid "*) ;; *) started="$started $pid" ;; esac
    e2e_log "$2: pid $pid"
}
descendants() {   # descendants PID: every process below PID
    local k
    for k in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$k"; descendants "$k"; done
}
stop_started() {
    local pid kids k
    for pid in $started; do
        kill -0 "$pid" 2>/dev/null || continue
        kids=$(descendants "$pid")
        case $(cat "/proc/$pid/comm" 2>/dev/null) in squid) e2e_kill "$pid" INT ;; *) e2e_kill "$pid" TERM ;; esac
        for k in $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null; done
    done
    started=""
}
restored=0
restore_system() {
    [ "$restored" = 1 ] && return 0
    restored=1
    stop_started
    E2E_SQUID_PID=""
    local p f size
    for p in libc-icap-mod-pinsplice pinsplice; do
        case $(installed "$p") in ""|not-installed) ;; *)
            DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$p" >>"$E2E_DIR/apt.log" 2>&1 ;; esac
    done
    # Processes with Debian's own configuration are the services this test started (it refused
    # to run while either ran): any left (a PID file written after it was read) stop by PID.
    for p in $(pgrep -x squid) $(pgrep -x c-icap); do
        case $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null) in
            "/usr/sbin/squid -YC -f /etc/squid/squid.conf ")
                e2e_log "stopping leftover squid $p"; e2e_kill "$p" INT ;;
            "/usr/bin/c-icap ")
                e2e_log "stopping leftover c-icap $p"; e2e_kill "$p" TERM ;;
        esac
    done
    # The packages' man-db trigger indexes without purging: drop the removed pages again.
    if getent passwd man >/dev/null; then runuser -u man -- mandb -q >/dev/null 2>&1; fi
    for p in "${etc_paths[@]}"; do rm -rf "/${p:?}"; done
    tar -C / -xpf "$save/etc.tar"
    rm -rf /var/spool/squid/ssl_db /var/lib/pinsplice
    [ -e "$save/had-squid" ] || rm -rf /run/squid
    [ -e "$save/had-c-icap" ] || rm -rf /run/c-icap
    rm -f /run/squid.pid
    # Logs: what was there is cut back to its size, what is new is removed.
    for f in /var/log/squid/* /var/log/c-icap/*; do
        [ -f "$f" ] || continue
        size=$(awk -v f="$f" '$1 == f { print $2 }' "$save/logs")
        if [ -n "$size" ]; then truncate -s "$size" "$f"; else rm -f "$f"; fi
    done
}
trap '_rc=$?; restore_system; (exit $_rc); e2e_cleanup' EXIT
deb_busy_marker

# Debian's logs: the part written during the test, for e2e_check_logs_clean and the dumps.
cache_log_from=$(stat -c %s /var/log/squid/cache.log 2>/dev/null || echo 0)
server_log_from=$(stat -c %s /var/log/c-icap/server.log 2>/dev/null || echo 0)
E2E_CACHE_LOG=$E2E_DIR/cache.log
refresh_logs() {
    tail -c +$((cache_log_from + 1)) /var/log/squid/cache.log >"$E2E_CACHE_LOG" 2>/dev/null
    if [ -f /var/log/c-icap/server.log ]; then
        ICAP_SERVER_LOG=$E2E_DIR/c-icap-server.log
        tail -c +$((server_log_from + 1)) /var/log/c-icap/server.log >"$ICAP_SERVER_LOG"
    fi
}

# ---- the guide's blocks -----------------------------------------------------------------------
squid_port=$(e2e_free_port)
icap_port=$(e2e_free_port)
[ "$icap_port" = "$squid_port" ] && icap_port=$(e2e_free_port)
awk -v dir="$E2E_DIR" '
    /^## / { in_sec = ($0 == "## Production install on Debian (packages)") }
    /^### / { title = substr($0, 5) }
    in_sec && $0 == "<!-- t63 -->" { armed = 1; next }
    armed && $0 == "```sh" { n++; f = sprintf("%s/block%02d.sh", dir, n); printf "%s\n", title > (f ".title"); on = 1; armed = 0; next }
    { armed = 0 }
    on && $0 == "```" { on = 0; close(f); next }
    on { print > f }' "$readme"
nblocks=$(ls "$E2E_DIR"/block*.sh 2>/dev/null | wc -l)
e2e_expect "README's install guide has its 9 marked sh blocks" 9 "$nblocks"
[ "$nblocks" -ge 9 ] || e2e_die "guide blocks missing: markers or fences broken?"

printf 'APT::Get::Assume-Yes "true";\nAPT::Get::Upgrade "false";\n' >"$E2E_DIR/apt.conf"
DEB_BUILD_NOW=0 deb_build
# run_block N: block N with the port substitutions, in the source copy; 0 when it succeeded.
run_block() {
    local b=$E2E_DIR/block$(printf %02d "$1").sh title t0 rc
    title=$(cat "$b.title")
    {
        # Debian 12's /etc/init.d/c-icap stop ends with `start-stop-daemon --stop --exec
        # /usr/bin/c-icap`, which stops EVERY c-icap on the machine (other tests' too; on a
        # systemd host `service` goes through systemctl instead): here its restart stops the
        # service by the PID in its PID file, then runs the init script's own start.
        cat <<'EOS'
service() {
    if [ "$1" = c-icap ] && [ "$2" = restart ]; then
        p=$(cat /run/c-icap/c-icap.pid 2>/dev/null || :)
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p"
            for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f /run/c-icap/c-icap.pid
        # The init script's start, as it does it (its exit status is 1 when VERBOSE=no).
        . /etc/default/c-icap
        [ "$START" = yes ] || { echo "To enable c-icap, edit /etc/default/c-icap and set START=yes"; return 0; }
        [ -d /run/c-icap ] || install -d -m 0755 -o c-icap -g c-icap /run/c-icap
        start-stop-daemon --start --quiet --pidfile /run/c-icap/c-icap.pid --exec /usr/bin/c-icap -- $DAEMON_ARGS
    else
        command service "$@"
    fi
}
EOS
        if [ "$1" = 1 ] && [ "$DEB_BUILT" = 0 ]; then
            echo "dpkg-buildpackage() { echo \"t63: packages of this source already built in $DEB_DIR\"; }"
        fi
        sed -e "s/\\b3128\\b/127.0.0.1:$squid_port/g" -e "s/\\b1344\\b/$icap_port/g" "$b"
    } >"$b.run"
    t0=$SECONDS
    (cd "$DEB_SRC" && APT_CONFIG=$E2E_DIR/apt.conf DEBIAN_FRONTEND=noninteractive \
        DEB_BUILD_OPTIONS=nocheck bash -e "$b.run") >"$b.log" 2>&1
    rc=$?
    e2e_expect "guide step \"$title\" runs ($((SECONDS - t0)) s)" 0 "$rc"
    [ "$rc" = 0 ] || sed 's/^/#   /' "$b.log" | tail -n 15
    return "$rc"
}
icap_port_fix() {   # the installed ICAP snippet sends to 1344: the test's port instead
    [ -f "$ICAP_SNIPPET" ] && sed -i "s|icap://127.0.0.1:1344/|icap://127.0.0.1:$icap_port/|" "$ICAP_SNIPPET"
}

# Debian's two port lines, as the test's ports (see the header).
sed -i "s/^http_port 3128\$/http_port 127.0.0.1:$squid_port/" "$SQUID_CONF"
sed -i "s/^Port 1344\$/Port $icap_port/" "$CICAP_CONF"

# ---- 1. packages -------------------------------------------------------------------------------
run_block 1 || e2e_die "cannot install the packages"
[ "$DEB_BUILT" = 1 ] && e2e_log "built the packages in $DEB_DIR"
e2e_expect "pinsplice installed" installed "$(installed pinsplice)"
e2e_expect "libc-icap-mod-pinsplice installed" installed "$(installed libc-icap-mod-pinsplice)"
e2e_expect "no libtool .la in the module package" "" "$(dpkg -L libc-icap-mod-pinsplice | grep '\.la$')"
e2e_expect "srv_pinsplice.8 ships in the module package" 1 \
    "$(dpkg -L libc-icap-mod-pinsplice | grep -c '/man8/srv_pinsplice\.8\.gz$')"
mank=$(man -k pinsplice 2>/dev/null | awk '{print $1 $2}' | LC_ALL=C sort | paste -sd' ')
e2e_expect "man -k pinsplice (after the packages' mandb trigger) lists the three pages" \
    "ext_pinsplice_acl(8) pinsplice(1) srv_pinsplice(8)" "$mank"
icap_port_fix

# ---- 2-3. CA, certificate DB, bumping port, Squid started -------------------------------------
run_block 2 || e2e_die "CA / certificate DB step failed"
e2e_expect "certificate DB at Debian's path, owned by proxy" proxy \
    "$(stat -c %U /var/spool/squid/ssl_db/index.txt 2>/dev/null)"
e2e_pki
e2e_origin_start
e2e_hosts_file "$E2E_DIR/hosts"
cat >"$TESTCONF" <<EOF
# t63 only (removed at the end): the test origin's CA, port and names
tls_outgoing_options cafile=$E2E_ORIGIN_CA
acl SSL_ports port $E2E_ORIGIN_PORT
hosts_file $E2E_DIR/hosts
dns_nameservers 127.0.0.1
visible_hostname pinsplice-t63.test
pinger_enable off
shutdown_lifetime 1 seconds
EOF
cat /etc/squid/ssl/bump-ca.pem "$E2E_ORIGIN_CA" >"$E2E_DIR/trust-guide.pem"
E2E_TRUST=$E2E_DIR/trust-guide.pem
E2E_SQUID_PORT=$squid_port
PROXY_CA="My proxy CA"
ORIGIN_CA="pinsplice e2e origin CA"

run_block 3 || e2e_die "Squid did not start with the guide's port and policy"
note_pid /run/squid.pid "squid (service)" && E2E_SQUID_PID=$(cat /run/squid.pid)
squid_listens() { ss -Hltn "( sport = :$squid_port )" | grep -q "127.0.0.1:$squid_port"; }
e2e_wait_for 20 squid_listens || e2e_die "Squid does not listen on 127.0.0.1:$squid_port"
e2e_curl --pin www.zoom.us
e2e_expect "before the opt-in: pinned www.zoom.us bumped (installing changed nothing)" "90 $PROXY_CA" "$E2E_RC $E2E_ISSUER"

# ---- 4. the opt-in: helper path ----------------------------------------------------------------
E2E_ACCESS_LOG=/var/log/squid/pinsplice.log
e2e_log_mark 2>/dev/null
run_block 4
e2e_expect_match "pinsplice check --sni www.zoom.us says splice" 'splice' "$(cat "$E2E_DIR/block04.sh.log")"
e2e_log_cols /usr/share/pinsplice/squid-conf/pinsplice.conf
E2E_DB=/var/lib/pinsplice/rules.db
zoom_rule=$(e2e_rule_for zoom.us)
e2e_expect_match "installed DB has the Zoom rule" Zoom "$zoom_rule"
access_before=$(grep -c 'www.zoom.us' /var/log/squid/access.log 2>/dev/null)
check_paths() {   # check_paths WHAT: a pinned client to www.zoom.us spliced, unpinned.test bumped
    local what=$1
    e2e_poll 20 e2e_pinned_rc_is 0 www.zoom.us
    e2e_expect "$what: pinned curl to www.zoom.us spliced (exit 0, origin's issuer)" "0 $ORIGIN_CA" "$E2E_RC $E2E_ISSUER"
    e2e_log_connect
    e2e_expect "$what: pinsplice.log says splice by the Zoom rule" "splice splice $zoom_rule" \
        "$(e2e_field bump_mode) $(e2e_field action) $(e2e_field rule)"
    e2e_curl --pin unpinned.test
    e2e_expect "$what: pinned curl to unpinned.test bumped (pin fails, the guide's CA)" "90 $PROXY_CA" "$E2E_RC $E2E_ISSUER"
    e2e_log_connect
    e2e_expect "$what: pinsplice.log says bump" "bump bump" "$(e2e_field bump_mode) $(e2e_field action)"
    e2e_check_served "$what" unpinned.test
}
check_paths "helper"
access_grew() { [ "$(grep -c www.zoom.us /var/log/squid/access.log 2>/dev/null)" -gt "${access_before:-0}" ]; }
if e2e_wait_for 5 access_grew; then e2e_pass "Debian's access.log written too (both access_log lines)"
else e2e_fail "Debian's access.log got no record of the requests"; fi

# By executable: the kernel's comm keeps 15 characters ("ext_pinsplice_a").
exe_is() { [ "$(basename "$(readlink "/proc/$1/exe" 2>/dev/null)")" = "$2" ]; }
helpers_of() { local p; for p in $(descendants "$1"); do exe_is "$p" ext_pinsplice_acl && echo "$p"; done; }
rss_of() {   # rss_of MASTER EXE: "N processes, RSS K kB, PSS L kB" of EXE below MASTER (and itself)
    local p n=0 kb=0 pss=0 r q
    for p in "$1" $(descendants "$1"); do
        exe_is "$p" "$2" || continue
        r=$(ps -o rss= -p "$p" 2>/dev/null) || continue
        q=$(awk '$1 == "Pss:" { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        n=$((n + 1)); kb=$((kb + r)); pss=$((pss + ${q:-0}))
    done
    echo "$n processes, RSS $kb kB, PSS $pss kB"
}
master=$(cat /run/squid.pid)
exe=$(for p in $(helpers_of "$master"); do readlink "/proc/$p/exe"; done | sort -u)
e2e_expect "the helper runs from the package" /usr/lib/squid/ext_pinsplice_acl "$exe"
mem1_helpers=$(rss_of "$master" ext_pinsplice_acl)
mem1_squid=$(rss_of "$master" squid)
e2e_log "MEMORY workers 1: ext_pinsplice_acl: $mem1_helpers; squid: $mem1_squid"

# ---- 5. SMP workers ----------------------------------------------------------------------------
run_block 5
note_pid /run/squid.pid "squid, workers 2" && E2E_SQUID_PID=$(cat /run/squid.pid)
e2e_wait_for 20 squid_listens || e2e_fail "Squid (workers 2) does not listen"
check_paths "workers 2"
master=$(cat /run/squid.pid)
# Each kid has its own helpers, and so does Squid 5.7's SMP coordinator: 3 parents.
kids_with_helpers=$(for p in $(helpers_of "$master"); do ps -o ppid= -p "$p"; done | sort -u | wc -l)
e2e_expect "workers 2: helpers run under both kids and the coordinator" 3 "$kids_with_helpers"
mem2_helpers=$(rss_of "$master" ext_pinsplice_acl)
mem2_squid=$(rss_of "$master" squid)
e2e_log "MEMORY workers 2: ext_pinsplice_acl: $mem2_helpers; squid: $mem2_squid"

# ---- 6. ICAP variant ---------------------------------------------------------------------------
run_block 6
note_pid /run/c-icap/c-icap.pid "c-icap (service)"
e2e_expect "c-icap listens on loopback only" "127.0.0.1:$icap_port" \
    "$(ss -Hltn "( sport = :$icap_port )" | awk '{print $4}' | sort -u | paste -sd' ')"
sed -e 's/^logformat pinsplice_icap /logformat pinsplice /' \
    -e 's/{X-Pinsplice-Action}adapt::<last_h/{pinsplice_action_}note/' \
    -e 's/{X-Pinsplice-Rule}adapt::<last_h/{pinsplice_rule_}note/' "$ICAP_SNIPPET" >"$E2E_DIR/icap-cols.conf"
e2e_log_cols "$E2E_DIR/icap-cols.conf"
check_paths "ICAP"
no_helpers() { [ -z "$(helpers_of "$(cat /run/squid.pid)")" ]; }
e2e_wait_for 10 no_helpers
e2e_expect "ICAP: no helper runs under Squid any more" "" "$(helpers_of "$(cat /run/squid.pid)")"

# ---- 7. logrotate ------------------------------------------------------------------------------
run_block 7
# What logrotate's rotation does to pinsplice.log (Debian: nocreate, postrotate squid -k rotate).
mv /var/log/squid/pinsplice.log /var/log/squid/pinsplice.log.t63
squid -k rotate
e2e_curl --pin www.zoom.us
e2e_wait_for 10 grep -q "127.0.0.1:$E2E_LPORT " /var/log/squid/pinsplice.log
e2e_expect "after squid -k rotate the next request is in a new pinsplice.log" 0 "$?"
cat /var/log/squid/pinsplice.log >>/var/log/squid/pinsplice.log.t63 2>/dev/null
mv /var/log/squid/pinsplice.log.t63 /var/log/squid/pinsplice.log
squid -k rotate

# ---- 8. upgrade --------------------------------------------------------------------------------
sqlite3 -cmd '.timeout 5000' /var/lib/pinsplice/rules.db \
    "INSERT INTO add_domain(rule, domain) VALUES ('$zoom_rule', 'local-edit.test');" 2>"$E2E_DIR/sqlite.err" ||
    e2e_fail "local edit before the upgrade: $(cat "$E2E_DIR/sqlite.err")"
run_block 8
note_pid /run/c-icap/c-icap.pid "c-icap after the upgrade"
icap_port_fix
squid -k reconfigure
e2e_expect "the upgrade kept a local edit" 1 \
    "$(sqlite3 /var/lib/pinsplice/rules.db "SELECT count(*) FROM rule_domains WHERE domain = 'local-edit.test';")"
check_paths "after the upgrade (ICAP)"

# ---- 10. removal -------------------------------------------------------------------------------
run_block 9
note_pid /run/c-icap/c-icap.pid "c-icap after removal"
e2e_expect "packages removed" "" "$(dpkg-query -W -f='${db:Status-Status}\n' pinsplice libc-icap-mod-pinsplice 2>/dev/null | grep -x installed)"
service squid restart >"$E2E_DIR/restart.log" 2>&1
e2e_expect "service squid restart after removal" 0 "$?"
note_pid /run/squid.pid "squid after removal" && E2E_SQUID_PID=$(cat /run/squid.pid)
e2e_wait_for 20 squid_listens || e2e_fail "Squid does not listen after removal"
e2e_check_served "after removal" unpinned.test
e2e_curl --pin www.zoom.us
e2e_expect "after removal: pinned www.zoom.us is not spliced (bumped by the site's policy)" \
    "90 $PROXY_CA" "$E2E_RC $E2E_ISSUER"
e2e_expect "after removal: no pinsplice helper" "" "$(helpers_of "$(cat /run/squid.pid)")"
c-icap-client -i 127.0.0.1 -p "$icap_port" -s echo >"$E2E_DIR/echo.log" 2>&1
e2e_expect "after removal: c-icap serves (its echo service)" 0 "$?"
refresh_logs
e2e_expect "no FATAL in cache.log" "" "$(grep FATAL "$E2E_CACHE_LOG" | head -n 3)"

# ---- stop, purge, restore, compare ------------------------------------------------------------
restore_system
manifest >"$save/manifest.after"
e2e_expect "Debian's configuration restored exactly (manifest of ${etc_paths[*]})" "" \
    "$(diff "$save/manifest.before" "$save/manifest.after" | head -n 5)"
e2e_log "MEMORY summary: workers 1: helpers $mem1_helpers, squid $mem1_squid; workers 2: helpers $mem2_helpers, squid $mem2_squid"
e2e_finish
