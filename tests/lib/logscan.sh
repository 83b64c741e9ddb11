# tests/lib/logscan.sh: helpers shared by the `pinsplice logscan` tests (e2e/t50, offline/t51).
# Source it after tests/lib/check.sh (t51, which needs no Squid) or tests/e2e/lib.sh (t50).
#
#   ls_init                      sets LS_BIN (the built pinsplice) and checks python3
#   ls_run OUT ARGS...           runs `pinsplice logscan ARGS...` > OUT (stderr in OUT.err);
#                                sets LS_RC
#   jget FILE PATH               one value of a JSON report (written by ls_run): PATH is
#                                dot-separated keys, [N] list indexes and [key=value] list
#                                selections; prints scalars as they are, objects and lists as
#                                sorted JSON, true/false, null, MISSING when absent

ls_init() {
    LS_BIN=$PS_BUILDDIR/tools/pinsplice
    [ -x "$LS_BIN" ] || e2e_die "$LS_BIN not built (run make)"
    command -v python3 >/dev/null 2>&1 || e2e_missing "python3 not found (reads the JSON reports)"
}

ls_run() {
    local out=$1
    shift
    rm -f "$out.flat"
    "$LS_BIN" logscan "$@" >"$out" 2>"$out.err"
    LS_RC=$?
}

# jflat FILE: FILE.flat, one "PATH<TAB>VALUE" line per node of the JSON in FILE (one python3 run
# per report, not one per value). Lists of objects are also indexed by their "name", "rule",
# "kind" or "client" member: rules[kind=default].connections.bump.
jflat() {
    python3 - "$1" >"$1.flat" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("\tBADJSON: %s" % str(e).replace("\n", " "))
    sys.exit(0)
def val(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True)
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
def walk(path, v):
    print("%s\t%s" % (path, val(v)))
    if isinstance(v, dict):
        for k, x in v.items():
            walk(path + "." + k if path else k, x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk("%s[%d]" % (path, i), x)
            for key in ("name", "rule", "kind", "client"):
                if isinstance(x, dict) and isinstance(x.get(key), str):
                    walk("%s[%s=%s]" % (path, key, x[key]), x)
walk("", d)
PY
}

jget() {
    [ -e "$1.flat" ] || jflat "$1"
    awk -F '\t' -v p="$2" '$1 == p { print $2; found = 1; exit } END { if (!found) print "MISSING" }' \
        "$1.flat"
}
