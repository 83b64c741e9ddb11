#!/bin/bash
# tests/layering.sh: the three libraries keep their edges (doc/ARCHITECTURE.md).
#   1. srv_pinsplice.so and ext_pinsplice_acl link the core only: no libpsl, zlib or jansson is
#      linked (readelf: NEEDED), no symbol defined by the admin or the log library is in them (nm), and the
#      module exports nothing but c-icap's entry point `service`.
#   2. The sources include along the edges only: programs include the public headers
#      (lib/include) and nothing else of lib/; the core includes nothing of admin or log; the
#      log library nothing of admin; a library's _int.h headers stay in its folder.
#   3. No include circle between two headers or a header and the other's source, in lib/.
# Environment: PS_SRCDIR, PS_BUILDDIR (make check sets them). Needs binutils (nm, readelf).
set -u
: "${PS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PS_BUILDDIR:=$PS_SRCDIR}"
checks=0 fails=0
pass() { checks=$((checks + 1)); echo "ok $checks - $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "not ok $checks - $*"; }
expect_empty() { # what, text
    if [ -z "$2" ]; then pass "$1"; else fail "$1:"; printf '#   %s\n' $2; fi
}

for tool in nm readelf; do
    command -v "$tool" >/dev/null 2>&1 || { echo "not ok 1 - $tool not found"; exit 1; }
done

b=$PS_BUILDDIR s=$PS_SRCDIR
module=$b/module/.libs/srv_pinsplice.so helper=$b/helper/ext_pinsplice_acl
for f in "$b/lib/core/.libs/libpinsplice-core.a" "$b/lib/admin/.libs/libpinsplice-admin.a" \
    "$b/lib/log/.libs/libpinsplice-log.a" "$module" "$helper"; do
    [ -f "$f" ] || { echo "not ok 1 - $f not built (make all first)"; exit 1; }
done

# ---- 1. what the helper and the module carry --------------------------------------------------
# What they link is their own NEEDED list: ldd also lists what the libraries we link load in
# turn (Debian 13's libcrypto needs libz for its own compression), which is not ours to choose.
for bin in "$module" "$helper"; do
    name=${bin##*/}
    needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    case $needed in *libsqlite3*) ;; *) fail "$name: readelf shows no NEEDED libsqlite3 ($needed)" ;; esac
    libs=$(printf '%s\n' $needed | grep -E 'libpsl|libz\.|libjansson' || true)
    expect_empty "$name links neither libpsl, zlib nor jansson" "$libs"
done
# Every global symbol the admin and the log libraries define; none may be in the programs.
nm --defined-only -g "$b/lib/admin/.libs/libpinsplice-admin.a" "$b/lib/log/.libs/libpinsplice-log.a" |
    awk 'NF == 3 { print $3 }' | sort -u >"${TMPDIR:-/tmp}/layering.$$.syms"
trap 'rm -f "${TMPDIR:-/tmp}/layering.$$".*' EXIT
n=$(wc -l <"${TMPDIR:-/tmp}/layering.$$.syms")
[ "$n" -gt 50 ] && pass "the admin and log libraries define $n symbols" ||
    fail "only $n symbols found in the admin and log libraries"
for bin in "$module" "$helper"; do
    name=${bin##*/}
    have=$(nm "$bin" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u |
        comm -12 - "${TMPDIR:-/tmp}/layering.$$.syms")
    expect_empty "$name holds no admin or log symbol" "$have"
done
core_n=$(nm "$module" | grep -c ' [tT] ps_')
[ "$core_n" -gt 50 ] && pass "srv_pinsplice.so holds the core ($core_n ps_ functions)" ||
    fail "srv_pinsplice.so holds only $core_n ps_ functions: is nm reading its symbols?"
exported=$(nm -D --defined-only "$module" | awk '{ print $3 }' | grep -vx 'service' | grep -v '^_' || true)
expect_empty "srv_pinsplice.so exports only service" "$exported"

# ---- 2. includes follow the edges -------------------------------------------------------------
# The quoted includes of a file, one per line ("name.h" or "../core/name.h").
incs() { sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$@"; }
public='^(config\.h|pinsplice\.h|pinsplice_admin\.h|pinsplice_log\.h)$'
bad=""
for f in "$s"/helper/*.c "$s"/module/*.c "$s"/tools/*.[ch]; do
    for i in $(incs "$f"); do
        case $f in */tools/*) [ -f "$s/tools/$i" ] && continue ;; esac
        echo "$i" | grep -Eq "$public" || bad="$bad ${f#"$s"/}:$i"
    done
done
expect_empty "helper/, module/ and tools/ include only the public headers" "$bad"
bad=""
for f in "$s"/helper/*.c "$s"/module/*.c; do
    incs "$f" | grep -Eq 'pinsplice_(admin|log)\.h' && bad="$bad ${f#"$s"/}"
done
expect_empty "the helper and the module include the core's header only" "$bad"

# A library's file may include its own headers, the core's, and (for no one) the others'.
check_lib() { # folder, allowed other folders (regex of header owners)
    local dir=$1 allow=$2 out="" f i owner
    for f in "$s/lib/$dir"/*.[ch]; do
        for i in $(incs "$f"); do
            i=${i##*/}
            [ "$i" = config.h ] && continue
            owner=""
            for d in core admin log; do [ -f "$s/lib/$d/$i" ] && owner=$d; done
            [ -n "$owner" ] || { out="$out ${f#"$s"/}:$i(unknown)"; continue; }
            [ "$owner" = "$dir" ] && continue
            echo "$owner" | grep -Eqx "$allow" || out="$out ${f#"$s"/}:$owner/$i"
            case $i in *_int.h) out="$out ${f#"$s"/}:$owner/$i(internal)" ;; esac
        done
    done
    echo "$out"
}
expect_empty "lib/core includes nothing of lib/admin or lib/log" "$(check_lib core 'none')"
expect_empty "lib/log includes the core only" "$(check_lib log 'core')"
expect_empty "lib/admin includes the core only" "$(check_lib admin 'core')"
bad=""
for f in "$s"/lib/include/*.h; do
    for i in $(incs "$f"); do case $i in *_int.h) bad="$bad ${f#"$s"/}:$i" ;; esac; done
done
expect_empty "no public header includes an internal (_int.h) header" "$bad"

# ---- 3. no include circles of length two in lib/ ----------------------------------------------
# a's files include b's header while b's include a's. A file's internal header (a_int.h) is
# part of a (it extends a.h for a's own sources), so a.c -> a_int.h -> a.h is no circle.
bad=""
for d in core admin log; do
    for f in "$s/lib/$d"/*.[ch]; do
        a=$(basename "$f"); a=${a%.*}; a=${a%_int}
        for i in $(incs "$f"); do
            i=${i##*/}; bb=${i%.h}; bb=${bb%_int}
            [ "$bb" = "$a" ] || [ "$i" = config.h ] && continue
            for g in "$s"/lib/*/"$bb".c "$s"/lib/*/"$bb".h "$s"/lib/*/"$bb"_int.h; do
                [ -f "$g" ] || continue
                incs "$g" | sed 's|.*/||' | grep -Eqx "$a(_int)?\.h" && bad="$bad $a<->$bb"
            done
        done
    done
done
[ -z "$bad" ] || bad=$(printf '%s\n' $bad | awk -F'<->' '{ k = ($1 < $2) ? $1 "<->" $2 : $2 "<->" $1; if (!s[k]++) print k }')
expect_empty "no include circle between two files of lib/" "$bad"

echo "$((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
