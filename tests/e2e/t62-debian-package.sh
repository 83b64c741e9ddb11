#!/bin/bash
# t62: the Debian packages, installed into this machine's real system (issue 10, Tests 1-5):
# build with dpkg-buildpackage, `apt-get install ./*.deb`, enable with the one documented link in
# Debian's /etc/squid/conf.d, check splice and bump through a real Squid that includes
# /etc/squid/conf.d/*.conf, remove the packages, `squid -k reconfigure`: Squid keeps running
# and serving. Then purge, and check every system file we touched is as before.
# Squid here is a private instance (own pid/log/port on loopback); the system squid service is
# not started. The test refuses to run when pinsplice is already installed or enabled.
. "$(dirname "$0")/lib.sh"
e2e_init t62-debian-package
# After removal Squid has no ssl_bump rules left and says so (expected: it falls back to tunnel).
E2E_LOG_ALLOW='WARNING: No ssl_bump configured\. Disabling ssl-bump on http_port '
e2e_require dpkg-buildpackage dh apt-get dpkg-query

LINK=/etc/squid/conf.d/pinsplice.conf
AA_LOCAL=/etc/apparmor.d/local/usr.sbin.squid
CICAP_CONF=/etc/c-icap/c-icap.conf
INCLUDE_LINE='Include /usr/share/pinsplice/c-icap/srv_pinsplice.conf'

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null; }
for p in pinsplice libc-icap-mod-pinsplice; do
    case $(installed "$p") in
        ""|not-installed|config-files) ;;
        *) e2e_die "package $p is installed on this system: t62 will not touch it (purge it first)" ;;
    esac
done
[ -e "$LINK" ] || [ -L "$LINK" ] && e2e_die "$LINK exists: t62 will not touch an enabled pinsplice"
[ -e /var/lib/pinsplice ] && e2e_die "/var/lib/pinsplice exists: t62 will not touch it"

# Saved system state, restored and compared at the end.
save=$E2E_DIR/saved
mkdir -p "$save"
# Debian's log files: the wrapper logs there; remember what was there to restore it.
for f in access pinsplice; do
    if [ -e /var/log/squid/$f.log ]; then stat -c %s /var/log/squid/$f.log >"$save/$f.size"; fi
done
aa_had=0; [ -e "$AA_LOCAL" ] && { aa_had=1; cp -a "$AA_LOCAL" "$save/aa-local"; }
[ -e "$CICAP_CONF" ] && cp -a "$CICAP_CONF" "$save/c-icap.conf"
pkg_cleanup() {
    local p
    for p in libc-icap-mod-pinsplice pinsplice; do
        case $(installed "$p") in ""|not-installed) ;; *)
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y -qq "$p" >>"$E2E_DIR/apt.log" 2>&1 ;;
        esac
    done
    rm -f "$LINK" "$LINK.removed"
    for f in access pinsplice; do
        if [ -e "$save/$f.size" ]; then truncate -s "$(cat "$save/$f.size")" /var/log/squid/$f.log
        else rm -f /var/log/squid/$f.log; fi
    done
    [ -e "$save/c-icap.conf" ] && cp -a "$save/c-icap.conf" "$CICAP_CONF"
    if [ "$aa_had" = 1 ]; then cp -a "$save/aa-local" "$AA_LOCAL"; fi
}
trap '_rc=$?; pkg_cleanup; (exit $_rc); e2e_cleanup' EXIT

# 1. Build (a copy of the source tree: dh configures in the source dir) and install.
src=$E2E_DIR/src/pinsplice
mkdir -p "$src"
tar -C "$PS_SRCDIR" --exclude=./_build --exclude=./.git --exclude='./autom4te.cache' -cf - . |
    tar -C "$src" -xf - || e2e_die "copy of $PS_SRCDIR failed"
(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$E2E_DIR/build.log" 2>&1 ||
    e2e_die "dpkg-buildpackage failed: $(tail -n 20 "$E2E_DIR/build.log")"
debs=("$E2E_DIR"/src/pinsplice_*.deb "$E2E_DIR"/src/libc-icap-mod-pinsplice_*.deb)
e2e_expect "two binary packages built" 2 "$(ls "${debs[@]}" 2>/dev/null | wc -l)"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${debs[@]}" \
    >"$E2E_DIR/apt.log" 2>&1
e2e_expect "apt-get install ./pinsplice*.deb ./libc-icap-mod-pinsplice*.deb" 0 "$?"
e2e_expect "pinsplice installed" installed "$(installed pinsplice)"

# postinst: the DB exists, readable by proxy, and passes its own check; AppArmor line present;
# nothing enabled in Squid or c-icap yet.
db=/var/lib/pinsplice/rules.db
e2e_expect "postinst created $db" 1 "$([ -f "$db" ] && echo 1)"
e2e_expect "proxy can read $db" 0 "$(runuser -u proxy -- test -r "$db"; echo $?)"
e2e_expect "AppArmor local include added" 1 \
    "$(grep -cxF 'include if exists <local/pinsplice-squid>' "$AA_LOCAL")"
e2e_expect "install enabled nothing in Squid" "" "$(ls /etc/squid/conf.d | grep pinsplice)"
sqlite3 "$db" "INSERT INTO add_domain(rule, domain) VALUES ('Bypass Zoom - Pre-configured', 'local-edit.test');" \
    2>"$E2E_DIR/sqlite.err" || e2e_die "local edit: $(cat "$E2E_DIR/sqlite.err")"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --reinstall "$E2E_DIR"/src/pinsplice_*.deb \
    >>"$E2E_DIR/apt.log" 2>&1
e2e_expect "upgrade path (reinstall) ran db update without error" 0 "$(grep -c 'run it by hand' "$E2E_DIR/apt.log")"
e2e_expect "upgrade keeps a local edit" 1 \
    "$(sqlite3 "$db" "SELECT count(*) FROM rule_domains WHERE domain = 'local-edit.test';")"

# 2. The documented opt-in step, and a Squid that includes Debian's conf.d like squid.conf does.
ln -s /usr/share/pinsplice/squid-conf/debian.conf "$LINK"
e2e_squid_conf() {   # replaces lib.sh's: the snippet comes from /etc/squid/conf.d
    local port=$1 s=$E2E_DIR/squid
    E2E_SQUID_CONF=$s/squid.conf
    cp /usr/share/pinsplice/squid-conf/pinsplice.conf "$s/pinsplice.conf"   # for e2e_log_cols
    e2e_hosts_file "$s/hosts"
    cat >"$E2E_SQUID_CONF" <<EOC
http_port 127.0.0.1:$port ssl-bump tls-cert=$E2E_PROXY_CA_BUNDLE generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program $E2E_CERTGEN -s $s/ssl_db -M 4MB
sslcrtd_children 3 startup=1 idle=1
tls_outgoing_options cafile=$E2E_ORIGIN_CA
include /etc/squid/conf.d/*.conf
http_access allow localhost
http_access deny all
cache_log $s/log/cache.log
cache_store_log none
pid_filename $s/run/squid.pid
coredump_dir $s/run
cache deny all
cache_mem 8 MB
pinger_enable off
shutdown_lifetime 1 seconds
netdb_filename none
hosts_file $s/hosts
dns_nameservers 127.0.0.1
visible_hostname pinsplice-t62.test
EOC
}
e2e_pki
e2e_origin_start
e2e_squid_start
E2E_ACCESS_LOG=/var/log/squid/pinsplice.log   # the wrapper's log line
E2E_DB=$db
zoom_rule=$(e2e_rule_for zoom.us)
e2e_expect_match "installed DB has the zoom rule" 'Zoom' "$zoom_rule"

# 3. Splice and bump through the packaged helper.
e2e_check_spliced "packaged helper: zoom" www.zoom.us "$zoom_rule"
e2e_check_bumped "packaged helper: unruled" unpinned.test
helper_exe() {
    local pid
    for pid in $(ps -o pid= --ppid "$E2E_SQUID_PID"); do readlink "/proc/$pid/exe"; done |
        grep ext_pinsplice_acl | sort -u
}
e2e_expect "helper runs from the package" /usr/lib/squid/ext_pinsplice_acl "$(helper_exe)"

# c-icap: the admin's one Include line (the service is not started here: it would need
# Debian's fixed port); removal must comment it out.
[ -e "$CICAP_CONF" ] && printf '%s\n' "$INCLUDE_LINE" >>"$CICAP_CONF"

# 4. Remove, reconfigure: Squid keeps running and serving.
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 remove -y -qq pinsplice libc-icap-mod-pinsplice \
    >>"$E2E_DIR/apt.log" 2>&1
e2e_expect "apt-get remove" 0 "$?"
e2e_expect "helper binary gone" 0 "$([ -e /usr/lib/squid/ext_pinsplice_acl ] && echo 1 || echo 0)"
e2e_expect "removal put the Squid link aside" "0 1" \
    "$([ -e "$LINK" ] || [ -L "$LINK" ] && echo 1 || echo 0) $([ -L "$LINK.removed" ] && echo 1 || echo 0)"
if [ -e "$CICAP_CONF" ]; then
    e2e_expect "removal commented out the c-icap Include" 1 \
        "$(grep -cxF "#pinsplice-removed# $INCLUDE_LINE" "$CICAP_CONF")"
fi
squid -k parse -f "$E2E_SQUID_CONF" >"$E2E_DIR/parse2.log" 2>&1
e2e_expect "squid -k parse after removal" 0 "$?"
squid -k reconfigure -n "$E2E_SQUID_SERVICE" -f "$E2E_SQUID_CONF" >"$E2E_DIR/reconf.log" 2>&1
e2e_expect "squid -k reconfigure after removal" 0 "$?"
sleep 3
e2e_check_squid_healthy "after removal + reconfigure"
e2e_check_served "served after removal" unpinned.test
e2e_expect "after removal: no pinsplice helper runs" "" "$(helper_exe)"
e2e_expect "after removal: Debian's access.log still written" 1 \
    "$(grep -c "unpinned.test" /var/log/squid/access.log | awk '{print ($1 > 0)}')"
e2e_curl --pin www.zoom.us
# Without pinsplice's ssl_bump rules Squid's own default applies (no bump: tunnel); what matters
# is that it still serves. Record which it was.
e2e_log "after removal: pinned www.zoom.us -> curl rc=$E2E_RC issuer='$E2E_ISSUER'"
e2e_expect "after removal: pinned client still connects" 0 "$E2E_RC"
e2e_expect "after removal: Squid says it stopped bumping" 1 \
    "$(grep -c 'No ssl_bump configured' "$E2E_CACHE_LOG")"

# 5. Purge: data gone, our AppArmor line gone, system files as before.
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y -qq pinsplice libc-icap-mod-pinsplice \
    >>"$E2E_DIR/apt.log" 2>&1
e2e_expect "purge removes /var/lib/pinsplice" 0 "$([ -e /var/lib/pinsplice ] && echo 1 || echo 0)"
e2e_expect "purge removes the put-aside link" 0 "$([ -L "$LINK.removed" ] && echo 1 || echo 0)"
if [ "$aa_had" = 1 ]; then
    e2e_expect "AppArmor local file as before" "$(sha256sum <"$save/aa-local")" "$(sha256sum <"$AA_LOCAL")"
fi
if [ -e "$save/c-icap.conf" ]; then
    e2e_expect "c-icap.conf as before" "$(sha256sum <"$save/c-icap.conf")" "$(sha256sum <"$CICAP_CONF")"
fi
e2e_finish
