#!/bin/bash
# t64-soak-icap: the t64 soak (mixed connections, DB edits every 200 ms, faults) through Squid
# and c-icap with srv_pinsplice instead of the helper: same assertions, on the c-icap children.
# 45 s (not 60): the five fault kinds still come round once; CI time is counted per release.
SOAK_PATH=icap
: "${SOAK_SECONDS:=45}"
. "$(dirname "$0")/t64-soak.sh"
