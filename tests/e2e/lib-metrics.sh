# tests/e2e/lib-metrics.sh: the live metrics files (Prometheus text format) of the helper and the
# module, and Prometheus's promtool (sourced by lib.sh).

# e2e_promtool: set E2E_PROMTOOL to Prometheus's promtool (validates metrics files and alert
# rules): $PS_PROMTOOL, else promtool on PATH, else the copy quickstart takes out of Debian's
# prometheus package (/var/cache/pinsplice/promtool, without installing the server).
e2e_promtool() {
    local p
    for p in "${PS_PROMTOOL:-}" "$(command -v promtool 2>/dev/null)" \
        /var/cache/pinsplice/promtool/usr/bin/promtool; do
        if [ -n "$p" ] && [ -x "$p" ]; then
            E2E_PROMTOOL=$p
            return 0
        fi
    done
    e2e_missing "promtool not found (./quickstart test fetches it from Debian's prometheus package)"
}

# e2e_metrics_sum 'GLOB' NAME [LABELS]: the sum over the Prometheus text files GLOB (quoted, so
# that it is expanded here) of the series NAME{pid="N"LABELS}, LABELS written as they follow the
# pid label (',action="splice",reason="rule"'; "" for none). Prints the integer part; 0 when none.
e2e_metrics_sum() {
    # shellcheck disable=SC2086 # the glob is expanded here on purpose
    cat $1 2>/dev/null | awk -v k="$2" -v l="${3:-}" '
        /^#/ { next }
        { v = $NF; s = $0; sub(/ [^ ]+$/, "", s)
          i = index(s, "{"); if (i == 0) next
          n = substr(s, 1, i - 1); lab = substr(s, i + 1); sub(/\}$/, "", lab)
          sub(/^pid="[0-9]+"/, "", lab)
          if (n == k && lab == l) t += v }
        END { printf "%d\n", t }'
}
