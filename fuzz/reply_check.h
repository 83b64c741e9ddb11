/* fuzz/reply_check.h: a helper reply line read back the way Squid reads it (strwordtok: words
 * separated by spaces, "quoted" values with \" \\ \n \r escapes). Used by the proto target. */
#ifndef PS_FUZZ_REPLY_CHECK_H
#define PS_FUZZ_REPLY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "fuzz.h"

/* Decode one value at *p: "-" (absent, *absent set) or "quoted". Writes the decoded bytes to out
 * (size at least the reply's length + 1), NUL-terminated; returns false on any grammar error. */
static bool
reply_value(const char **p, char *out, bool *absent)
{
    const char *s = *p;
    size_t n = 0;

    *absent = false;
    if (*s == '-') {
        *absent = true;
        *p = s + 1;
        out[0] = '\0';
        return true;
    }
    if (*s++ != '"')
        return false;
    for (;;) {
        if (*s == '\0' || *s == '\n')
            return false;
        if (*s == '"')
            break;
        if (*s == '\\') {
            s++;
            switch (*s) {
            case '"': out[n++] = '"'; break;
            case '\\': out[n++] = '\\'; break;
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            default: return false; /* Squid would keep the backslash: not what was meant */
            }
            s++;
            continue;
        }
        out[n++] = *s++;
    }
    out[n] = '\0';
    *p = s + 1;
    return true;
}

/*
 * Check that reply (len bytes, NUL-terminated) is one well-formed helper reply line: optional
 * channel-ID id (NULL: none expected), OK|ERR, the action, the rule and the message, one '\n' at
 * the end and no other control byte. Aborts (fuzz_fail) when not. rule_out (size >= len + 1)
 * receives the decoded rule value ("" and *rule_absent when "-").
 */
static void
reply_check(const char *reply, size_t len, const char *id, char *rule_out, bool *rule_absent)
{
    static const char *const actions[] = {"bump", "splice", "terminate"};
    const char *p = reply;
    char msg[4096];
    bool absent;
    size_t i, k;

    fuzz_check(len > 0 && len < 2048, "reply length %zu", len);
    fuzz_check(strlen(reply) == len, "reply has a NUL inside");
    fuzz_check(reply[len - 1] == '\n', "reply does not end in a newline: %s", reply);
    for (i = 0; i + 1 < len; i++)
        fuzz_check((unsigned char)reply[i] >= 0x20 && reply[i] != 0x7f,
                   "control byte 0x%02x at %zu in reply %s", (unsigned char)reply[i], i, reply);
    if (id != NULL && id[0] != '\0') {
        k = strlen(id);
        fuzz_check(strncmp(p, id, k) == 0 && p[k] == ' ', "channel-ID %s not echoed: %s", id,
                   reply);
        p += k + 1;
    } else {
        fuzz_check(p[0] == 'O' || p[0] == 'E', "reply starts with neither OK nor ERR: %s", reply);
    }
    if (strncmp(p, "OK ", 3) == 0)
        p += 3;
    else if (strncmp(p, "ERR ", 4) == 0)
        p += 4;
    else
        fuzz_fail("no OK/ERR: %s", reply);
    fuzz_check(strncmp(p, "pinsplice_action_=", 18) == 0, "no action: %s", reply);
    p += 18;
    for (i = 0; i < 3; i++) {
        k = strlen(actions[i]);
        if (strncmp(p, actions[i], k) == 0 && p[k] == ' ')
            break;
    }
    fuzz_check(i < 3, "bad action: %s", reply);
    p += strlen(actions[i]) + 1;
    fuzz_check(strncmp(p, "pinsplice_rule_=", 16) == 0, "no rule: %s", reply);
    p += 16;
    fuzz_check(reply_value(&p, rule_out, rule_absent), "bad rule value: %s", reply);
    fuzz_check(strncmp(p, " message=", 9) == 0, "no message after the rule: %s", reply);
    p += 9;
    fuzz_check(len < sizeof(msg), "reply too long to check");
    fuzz_check(reply_value(&p, msg, &absent) && !absent, "bad message value: %s", reply);
    fuzz_check(p[0] == '\n' && p[1] == '\0', "bytes after the message: %s", reply);
}

#endif /* PS_FUZZ_REPLY_CHECK_H */
