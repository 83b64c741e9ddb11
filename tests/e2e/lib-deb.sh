# tests/e2e/lib-deb.sh: the Debian packages for the tests that install them into this machine's
# real system (t62, t63). Source it after lib.sh.
#
#   deb_system_lock     wait (up to 15 min) for the machine-wide lock those tests hold while they
#                       install packages and edit /etc/squid, /etc/c-icap: two at once (another
#                       checkout's suite, say) would undo each other.
#   deb_build           the packages of this source tree, built once per tree content with
#                       `DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b` in a copy of it,
#                       kept in $PS_BUILDDIR/deb-cache/HASH/ (HASH: SHA-256 of the tree's files).
#                       Sets DEB_SRC (the copy, where dpkg-buildpackage ran: its .. holds the
#                       .debs), DEB_DIR (= DEB_SRC/..), DEB_BUILT (1: built now, 0: reused).
#                       With DEB_BUILD_NOW=0 it only finds a cached build (DEB_BUILT=0) and
#                       leaves the build to the caller when there is none (DEB_BUILT=1, DEB_SRC
#                       prepared, nothing built).

deb_system_lock() {
    local lock=/run/lock/pinsplice-system-packages.lock
    exec 9>"$lock" || e2e_die "cannot open $lock"
    if ! flock -n 9; then
        e2e_log "waiting for $lock (another test is installing pinsplice packages)"
        flock -w 900 9 || e2e_die "$lock still held after 15 min"
    fi
    # Copies of t62 from before this lock existed (another checkout's suite) do not take it:
    # wait until none runs (one waiting in flock is a new one, and waits for us).
    local i
    for i in $(seq 300); do
        deb_foreign_running >/dev/null || return 0
        [ "$i" = 1 ] && e2e_log "waiting for another checkout's t62/t63 (pid $(deb_foreign_running))"
        sleep 2
    done
    e2e_die "another checkout's t62/t63 still runs after 10 min (pid $(deb_foreign_running))"
}
deb_foreign_running() {   # prints the PID of a t62/t63 run that is not ours and not in flock
    local p q mine=" $$ " a0 a1 rest
    q=$$
    while q=$(awk '{ print $4 }' "/proc/$q/stat" 2>/dev/null) && [ "${q:-0}" -gt 1 ]; do
        mine="$mine$q "
    done
    for p in $(pgrep -x bash); do
        case $mine in *" $p "*) continue ;; esac
        # The test itself: "bash .../t62-debian-package.sh" (as make check and by hand run it).
        { IFS= read -r -d '' a0 && IFS= read -r -d '' a1 && rest=$(cat); } 2>/dev/null </proc/$p/cmdline || continue
        [ "$(basename "$a0")" = bash ] && [ -z "$rest" ] || continue
        case $a1 in */t62-debian-package.sh|*/t63-install-guide.sh|t62-debian-package.sh|t63-install-guide.sh) ;; *) continue ;; esac
        pgrep -x flock -P "$p" >/dev/null && continue
        echo "$p"
        return 0
    done
    return 1
}
# deb_busy_marker: once the caller checked /var/lib/pinsplice is absent, make it: a t62 from
# before the lock refuses to start while it exists (postinst makes the DB inside it as usual).
deb_busy_marker() { install -d -m 0755 /var/lib/pinsplice; }

deb_build() {
    local hash cache
    hash=$(cd "$PS_SRCDIR" && find . \( -path ./_build -o -path ./.git -o -path ./autom4te.cache \
            -o -path ./deb-cache \) -prune -o -type f -print0 | LC_ALL=C sort -z |
        xargs -0 sha256sum | sha256sum | cut -c1-16)
    cache=$PS_BUILDDIR/deb-cache/$hash
    DEB_DIR=$cache
    DEB_SRC=$cache/pinsplice
    if ls "$cache"/pinsplice_*.deb "$cache"/libc-icap-mod-pinsplice_*.deb >/dev/null 2>&1; then
        DEB_BUILT=0
        e2e_log "packages of this source tree already built: $cache"
        return 0
    fi
    # Another tree's build: not needed any more.
    rm -rf "$PS_BUILDDIR/deb-cache"
    mkdir -p "$DEB_SRC"
    tar -C "$PS_SRCDIR" --exclude=./_build --exclude=./.git --exclude='./autom4te.cache' \
        --exclude=./deb-cache -cf - . | tar -C "$DEB_SRC" -xf - || e2e_die "copy of $PS_SRCDIR failed"
    DEB_BUILT=1
    [ "${DEB_BUILD_NOW:-1}" = 1 ] || return 0
    (cd "$DEB_SRC" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$cache/build.log" 2>&1 ||
        { local log; log=$(tail -n 20 "$cache/build.log"); rm -rf "$cache"; e2e_die "dpkg-buildpackage failed: $log"; }
}
