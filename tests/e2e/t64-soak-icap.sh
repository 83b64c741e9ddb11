#!/bin/bash
# t64-soak-icap: the t64 soak (mixed connections, DB edits every 200 ms, faults) through Squid
# and c-icap with srv_pinsplice instead of the helper: same assertions, on the c-icap children.
SOAK_PATH=icap
. "$(dirname "$0")/t64-soak.sh"
