#include "config.h"

#include <string.h>

#include "action.h"
#include "err.h"

const char *
ps_action_str(enum ps_action a)
{
    switch (a) {
    case PS_ACTION_SPLICE: return "splice";
    case PS_ACTION_TERMINATE: return "terminate";
    case PS_ACTION_BUMP: break;
    }
    return "bump";
}

int
ps_action_parse(const char *s, enum ps_action *out)
{
    if (s == NULL)
        return PS_EINVAL;
    if (strcmp(s, "splice") == 0)
        *out = PS_ACTION_SPLICE;
    else if (strcmp(s, "bump") == 0)
        *out = PS_ACTION_BUMP;
    else if (strcmp(s, "terminate") == 0)
        *out = PS_ACTION_TERMINATE;
    else
        return PS_EINVAL;
    return 0;
}

const char *
ps_reason_str(enum ps_reason r)
{
    switch (r) {
    case PS_REASON_RULE: return "rule";
    case PS_REASON_DEFAULT: return "default";
    case PS_REASON_NO_RULES: return "no-rules";
    case PS_REASON_BAD_NAME: return "bad-name";
    case PS_REASON_BAD_INPUT: return "bad-input";
    case PS_REASON_UNVERIFIED: return "unverified";
    case PS_REASON_POLICY: return "policy";
    }
    return "bad-input";
}
