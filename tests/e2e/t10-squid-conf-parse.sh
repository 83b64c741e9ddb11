#!/bin/bash
# t10: the generated squid-conf/squid-minimal.conf (which includes squid-conf/pinsplice.conf) is a
# complete squid.conf that `squid -k parse` accepts once its documented placeholders exist, and
# the snippet keeps the promises its comments make (issue 3, "The snippet").
. "$(dirname "$0")/lib.sh"
e2e_init t10-squid-conf-parse

minimal=$PS_BUILDDIR/squid-conf/squid-minimal.conf
snippet=$PS_BUILDDIR/squid-conf/pinsplice.conf
for f in "$minimal" "$snippet"; do
    [ -r "$f" ] || e2e_die "$f not generated (run make in $PS_BUILDDIR)"
    e2e_expect "$(basename "$f"): every @var@ substituted" "" "$(grep -o '@[A-Za-z_]*@' "$f" | head -n 1)"
done

# The snippet's promises.
e2e_expect "helper line runs ext_pinsplice_acl --concurrency --db .../lib/pinsplice/rules.db" 1 \
    "$(grep -Ec '^external_acl_type pinsplice .* /[^ ]*/ext_pinsplice_acl --concurrency --db /[^ ]*/lib/pinsplice/rules\.db$' "$snippet")"
for opt in 'concurrency=[0-9]+' 'children-max=[0-9]+' 'children-startup=[0-9]+' 'children-idle=[0-9]+' \
    'queue-size=[0-9]+' ' ttl=[0-9]+' 'negative_ttl=[0-9]+' \
    '%#?ssl::>sni %#?>ru %>a %#?un %#>ha\{X-Client-Process\} /'; do
    e2e_expect_match "external_acl_type has $opt" "$opt" "$(grep '^external_acl_type pinsplice ' "$snippet")"
done
e2e_expect "ssl_bump lines, in order" \
    "peek pinsplice_step1|terminate pinsplice_terminate|splice pinsplice_splice|bump all" \
    "$(sed -n 's/^ssl_bump //p' "$snippet" | paste -sd'|')"
lf=$(grep '^logformat pinsplice ' "$snippet")
for tok in '%>a:%>p' '%ssl::bump_mode' 'ssl::>sni' '>rd' '%err_code/%err_detail' \
    '%ssl::>negotiated_version' '{pinsplice_action_}note' '{pinsplice_rule_}note' \
    '{pinsplice_verify_}note' '{pinsplice_monitor_}note' '{pinsplice_monitor_rule_}note' '%<st' '%>st' '%ts'; do
    case "$lf" in
        *"$tok"*) e2e_pass "logformat pinsplice records $tok" ;;
        *) e2e_fail "logformat pinsplice lacks $tok" ;;
    esac
done
# A bare %note or %>h (no {name}) anywhere turns on log_mime_hdrs for every log (SQUID.md).
unnamed() { grep -E '^(logformat|external_acl_type)' "$1" | grep -oE '%[^ {]*(note|>h|<h|>ha)( |$)' | head -n 1; }
e2e_expect "no unnamed %note / %>h / %<h / %>ha in any format" "" "$(unnamed "$snippet")"
printf 'logformat x %%ts %%note\n' >"$E2E_DIR/unnamed.conf"
e2e_expect "(control) the unnamed-code check catches a bare %note" "%note" "$(unnamed "$E2E_DIR/unnamed.conf")"

# squid -k parse of the minimal config with its placeholders filled in: the CA file and the
# included snippet (installed path -> this build's copy). Nothing else is touched.
e2e_pki
work=$E2E_DIR/parse
mkdir -p "$work"
include=$(sed -n 's/^include //p' "$minimal")
e2e_expect_match "minimal config includes the installed snippet" '/squid-conf/pinsplice\.conf$' "$include"
grep -q '/etc/squid/ssl/bump-ca.pem' "$minimal" || e2e_fail "placeholder /etc/squid/ssl/bump-ca.pem not in $minimal"
sed -e "s|/etc/squid/ssl/bump-ca.pem|$E2E_PROXY_CA_BUNDLE|g" \
    -e "s|^include .*/squid-conf/pinsplice\.conf\$|include $snippet|" "$minimal" >"$work/squid.conf"
# Squid 6 warns (rDNS test) when this machine's own host name does not resolve: that is the test
# machine's state, not the config's, so name the host as an admin whose host has no DNS would.
echo "visible_hostname pinsplice-t10.test" >>"$work/squid.conf"
squid -k parse -f "$work/squid.conf" >"$work/parse.log" 2>&1
e2e_expect "squid -k parse exit status" 0 "$?"
e2e_expect "squid -k parse reports no FATAL/ERROR/WARNING" "" \
    "$(grep -E 'FATAL|ERROR|WARNING|UPGRADE' "$work/parse.log" | head -n 3)"
e2e_expect "squid -k parse read the snippet" 1 \
    "$(grep -c "Processing Configuration File: $snippet" "$work/parse.log")"
e2e_expect "squid -k parse saw the external_acl_type" 1 \
    "$(grep -c 'Processing: external_acl_type pinsplice' "$work/parse.log")"

# Negative control: the parse check can fail (an unknown directive in the snippet is rejected).
sed 's/^ssl_bump bump all$/ssl_bump bumpp all/' "$snippet" >"$work/broken.conf"
sed -e "s|/etc/squid/ssl/bump-ca.pem|$E2E_PROXY_CA_BUNDLE|g" \
    -e "s|^include .*\$|include $work/broken.conf|" "$minimal" >"$work/broken-squid.conf"
echo "visible_hostname pinsplice-t10.test" >>"$work/broken-squid.conf"
squid -k parse -f "$work/broken-squid.conf" >"$work/broken.log" 2>&1
e2e_expect_not "squid -k parse rejects a broken snippet" 0 "$?"

e2e_finish
