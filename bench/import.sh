#!/bin/sh
# Category import benchmark (issue 5): `pinsplice categories import` of a generated UT1-style
# directory with N names (default 1 000 000) in mapped lists, into a fresh rules DB, then the same
# directory again (every list replaced). Run from the build tree:
#     make bench-import        (or: sh bench/import.sh BUILDDIR SRCDIR [N])
# The names are random labels under 8 TLDs, in random order (UT1's files are sorted; unsorted
# input is the slower case for the B-tree), 1 % of the lines invalid (IP addresses, spaces), plus
# comments and blank lines and an unmapped list of N/4 names that must be skipped.
set -eu
build=${1:-.}
src=${2:-.}
n=${3:-1000000}
ps=$build/tools/pinsplice
work=$(mktemp -d /tmp/pinsplice-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# gen FILE COUNT SEED: COUNT lines of a UT1 domains file.
gen() {
    awk -v count="$2" -v seed="$3" 'BEGIN {
        srand(seed)
        split("com net org fr de co.uk io info", tld, " ")
        print "# generated for bench/import.sh"
        print ""
        for (i = 0; i < count; i++) {
            if (i % 100 == 99) { print (i % 200 == 99) ? "10.1.2." (i % 250) : "two words.test"; continue }
            l = ""
            len = 6 + int(rand() * 10)
            for (j = 0; j < len; j++) l = l substr("abcdefghijklmnopqrstuvwxyz0123456789", 1 + int(rand() * 36), 1)
            sub_ = (rand() < 0.3) ? "www." : ""
            print sub_ l "." tld[1 + int(rand() * 8)]
        }
    }' >"$1"
}

mkdir -p "$work/bl/bank" "$work/bl/financial" "$work/bl/government" "$work/bl/legal" "$work/bl/adult"
gen "$work/bl/bank/domains" $((n * 4 / 10)) 1
gen "$work/bl/financial/domains" $((n * 3 / 10)) 2
gen "$work/bl/government/domains" $((n * 2 / 10)) 3
gen "$work/bl/legal/domains" $((n - n * 4 / 10 - n * 3 / 10 - n * 2 / 10)) 4
gen "$work/bl/adult/domains" $((n / 4)) 5
printf 'x.test/path\n' >"$work/bl/bank/urls"

lines=$(cat "$work"/bl/*/domains | wc -l)
echo "names: $n in 4 mapped lists ($lines lines in 5 lists, $(du -sh "$work/bl" | cut -f1))"
# GNU time gives the CPU time too: on a shared machine it moves much less than the wall time.
timed() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%e %U %S' -o "$work/time" "$@"
    else
        start=$(date +%s%N)
        "$@"
        end=$(date +%s%N)
        echo "$(awk "BEGIN{print ($end - $start) / 1e9}") ? ?" >"$work/time"
    fi
}
for db in plain audited; do
    rm -f "$work/rules.db"
    PINSPLICE_SQLDIR=$src/sql "$ps" db init --db "$work/rules.db" >/dev/null
    # audited: the DB with sql/audit.sql's audit trail, as `db update` leaves it
    [ "$db" = plain ] || PINSPLICE_SQLDIR=$src/sql "$ps" db update --db "$work/rules.db" >/dev/null
    for run in first again; do
        timed "$ps" categories import "$work/bl" --db "$work/rules.db" >"$work/out" 2>"$work/err"
        read -r wall user sys <"$work/time"
        printf '%-8s %-6s import: %6.2f s wall, %6.2f s CPU (user %s + sys %s)\n' "$db" "$run" \
            "$wall" "$(awk "BEGIN{print $user + $sys}" 2>/dev/null || echo '?')" "$user" "$sys"
    done
done
tail -n 1 "$work/out"
echo "rows: $(sqlite3 "$work/rules.db" 'SELECT count(*) FROM category_domains'), DB $(du -h "$work/rules.db" | cut -f1)"
start=$(date +%s%N)
"$ps" check --db "$work/rules.db" --sni www.example.test >/dev/null
end=$(date +%s%N)
printf 'load of the imported DB (pinsplice check): %.2f s\n' "$(awk "BEGIN{print ($end - $start) / 1e9}")"
echo "target: <= 10 s for 1M names"
