/* logkey.c: the keys and classes a record is counted under (logkey.h). */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "logkey.h"
#include "logline.h"
#include "logfigures.h"
#include "text.h"

#define KEY_NONAME "\001noname"
#define KEY_TOOLONG "\001toolong"

/* The host of a URL as Squid logs it: "host:port" (CONNECT), "scheme://[user@]host[:port]/...". */
static struct ps_logstr
url_host(struct ps_logstr u)
{
    const char *p = u.s, *end = u.s + u.n, *q, *at;

    for (q = p; q + 2 < end && q - p < 16; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            p = q + 3;
            break;
        }
    }
    for (q = p; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
        ;
    end = q;
    if ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
        p = at + 1;
    if (p < end && *p == '[') {
        q = memchr(p, ']', (size_t)(end - p));
        return q != NULL ? (struct ps_logstr){p + 1, (size_t)(q - p - 1)}
                         : (struct ps_logstr){p, (size_t)(end - p)};
    }
    for (q = end; q > p && q[-1] >= '0' && q[-1] <= '9'; q--)
        ;
    if (q > p && q < end && q[-1] == ':' && memchr(p, ':', (size_t)(q - 1 - p)) == NULL)
        end = q - 1;
    return (struct ps_logstr){p, (size_t)(end - p)};
}

struct ps_logstr
ps_logkey_name(const struct ps_logline *l, char buf[PS_LOGKEY_NAME_MAX + 1])
{
    struct ps_logstr s = l->sni.n ? l->sni : l->rdomain.n ? l->rdomain : url_host(l->url);

    if (s.n > 1 && s.s[s.n - 1] == '.')
        s.n--;
    if (s.n == 0)
        return (struct ps_logstr){KEY_NONAME, sizeof(KEY_NONAME) - 1};
    if (s.n > PS_LOGKEY_NAME_MAX)
        return (struct ps_logstr){KEY_TOOLONG, sizeof(KEY_TOOLONG) - 1};
    ps_ascii_lower_copy(buf, s.s, s.n);
    buf[s.n] = '\0';
    return (struct ps_logstr){buf, s.n};
}

enum ps_ls_action
ps_logkey_action(struct ps_logstr s)
{
    const char *comma = memchr(s.s, ',', s.n); /* several notes of one name: "a,b" */

    if (comma != NULL)
        s.n = (size_t)(comma - s.s);
    if (ps_logstr_eq(s, "splice"))
        return PS_LS_SPLICE;
    if (ps_logstr_eq(s, "bump"))
        return PS_LS_BUMP;
    if (ps_logstr_eq(s, "terminate"))
        return PS_LS_TERMINATE;
    return PS_LS_OTHER;
}

enum ps_ls_action
ps_logkey_record_action(const struct ps_logline *l)
{
    if (l->action.n > 0)
        return ps_logkey_action(l->action);
    if (ps_logstr_starts(l->result, "TCP_DENIED"))
        return PS_LS_OTHER;
    return ps_logkey_action(l->bump_mode);
}

const char *const ps_ls_verify_names[PS_LS_NVERIFY] = {
    "verified",       "verify-failed",    "verify-name", "verify-pin",   "verify-timeout",
    "verify-connect", "verify-handshake", "verify-busy", "verify-error",
};

int
ps_logkey_verify(struct ps_logstr v)
{
    int i;

    for (i = 0; i < PS_LS_NVERIFY; i++)
        if (ps_logstr_eq(v, ps_ls_verify_names[i]))
            return i;
    return -1;
}

/* The ICAP path names a decision without a rule "(default)", "(no-rules)", "(bad-name)" or
 * "(bad-input)" in X-Pinsplice-Rule, where the helper path logs "-": both are the same row. */
static bool
no_rule_label(struct ps_logstr k)
{
    static const char *const labels[] = {"(default)", "(no-rules)", "(bad-name)", "(bad-input)"};
    size_t i;

    for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
        if (ps_logstr_eq(k, labels[i]))
            return true;
    return false;
}

struct ps_logstr
ps_logkey_rule(const struct ps_logline *l)
{
    if (l->rule.n == 0 || no_rule_label(l->rule))
        return l->action.n > 0 ? (struct ps_logstr){PS_LS_RULE_DEFAULT, strlen(PS_LS_RULE_DEFAULT)}
                               : (struct ps_logstr){PS_LS_RULE_NONE, strlen(PS_LS_RULE_NONE)};
    return l->rule;
}
