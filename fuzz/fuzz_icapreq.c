/* fuzz_icapreq: what the c-icap module parses from an encapsulated request (lib/core/icapreq.c): the
 * CONNECT request line, header field lines matched by name, the user name header (plain or
 * base64), directive values; and the escaping of what it writes back. Input: up to three parts
 * separated by '\n' (request line, header line, header name); the first byte picks base64.
 * Invariants: a CONNECT target is the request line's second word, copied as sent; a header value
 * is found only when the line's field name is the name; a user name holds no control byte; an
 * escaped value is header-safe and unescapes to its input; a parsed seconds value is in range.
 * The same bytes are also one whole request for the facts and the plan (icapplan.c): lines up to
 * an empty one are the HTTP request (its first the request line), the rest ICAP headers; the
 * first byte also picks FailOpen and a failed strip. Invariants: only a CONNECT is planned; the
 * stripped list holds no decision header; every header written is header-safe; no rules never
 * splices but with FailOpen a well-formed CONNECT; 200 exactly when ps_icapreq_needs_header. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "fuzz.h"
#include "icapreq.h"
#include "name.h"

static void
connect_target(const char *line)
{
    char out[PS_ICAPREQ_TARGET_MAX + 1];
    struct ps_err err = {0};
    size_t n;
    int rc;

    strcpy(out, "untouched");
    rc = ps_icapreq_connect_target(line, out, &err);
    if (rc != 1) {
        fuzz_check(strcmp(out, "untouched") == 0, "out changed on %d", rc);
        fuzz_check(rc == 0 || err.msg[0] != '\0', "an error without a message");
        return;
    }
    n = strlen(out);
    fuzz_check(strncmp(line, "CONNECT ", 8) == 0, "a CONNECT that does not start 'CONNECT '");
    fuzz_check(n > 0 && strncmp(line + 8, out, n) == 0 && line[8 + n] == ' ',
               "target '%s' is not the second word", out);
    fuzz_check(strncmp(line + 8 + n + 1, "HTTP/", 5) == 0, "no HTTP version after the target");
    for (n = 0; out[n] != '\0'; n++)
        fuzz_check((unsigned char)out[n] > 0x20 && out[n] != 0x7f, "target byte 0x%02x",
                   (unsigned char)out[n]);
}

static void
header(const char *line, const char *name)
{
    const char *v = ps_icapreq_header_value(line, name);
    bool is = ps_icapreq_header_is(line, name);
    size_t n = strlen(name);

    fuzz_check((v != NULL) == is, "header_value and header_is disagree");
    if (!is)
        return;
    fuzz_check(n > 0 && strncasecmp(line, name, n) == 0 && line[n] == ':',
               "'%s' matched name '%s'", line, name);
    fuzz_check(v >= line + n + 1 && v <= line + strlen(line) && *v != ' ' && *v != '\t',
               "value does not point past the colon and blanks");
}

static void
user(const char *value, bool base64)
{
    char out[PS_ICAPREQ_USER_MAX + 1];
    struct ps_err err = {0};
    size_t i;

    strcpy(out, "untouched");
    if (ps_icapreq_user(value, base64, out, &err) != 0) {
        fuzz_check(strcmp(out, "untouched") == 0, "out changed on error");
        return;
    }
    fuzz_check(out[0] != '\0' && strlen(out) <= PS_ICAPREQ_USER_MAX, "user length");
    for (i = 0; out[i] != '\0'; i++)
        fuzz_check((unsigned char)out[i] >= 0x20 && out[i] != 0x7f, "user has byte 0x%02x",
                   (unsigned char)out[i]);
    if (!base64)
        fuzz_check(strstr(value, out) != NULL, "a plain user name that is not in its header");
}

static void
escape(const char *in)
{
    static char out[PS_ICAPREQ_VALUE_MAX * 8], back[sizeof(out)];
    struct ps_err err = {0};
    size_t i, n = 0, len;

    if (ps_icapreq_escape(in, out, sizeof(out), &err) != 0) {
        fuzz_check(out[0] == '\0', "an escape error leaves output");
        return;
    }
    len = strlen(out);
    fuzz_check(len == 0 || (out[0] != ' ' && out[len - 1] != ' '), "edge space survives");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        fuzz_check(c >= 0x20 && c < 0x7f, "escaped value has byte 0x%02x", c);
        if (c == '%') {
            int hi = ps_name_hexval((unsigned char)out[i + 1]);
            int lo = hi < 0 ? -1 : ps_name_hexval((unsigned char)out[i + 2]);
            fuzz_check(hi >= 0 && lo >= 0, "'%%' not followed by two hex digits");
            back[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            back[n++] = (char)c;
        }
    }
    back[n] = '\0';
    fuzz_check(strcmp(back, in) == 0, "escape does not unescape to its input");
    {
        char line[sizeof(out) + 80];
        if (ps_icapreq_header_line("X-Pinsplice-Rule", out, line, sizeof(line), &err) == 0)
            fuzz_check(ps_icapreq_header_is(line, "X-Pinsplice-Rule") &&
                           strcmp(ps_icapreq_header_value(line, "x-pinsplice-rule"), out) == 0,
                       "a written header does not read back");
    }
}

static void
directives(const char *s)
{
    unsigned ms = 12345;
    struct ps_err err = {0};
    size_t i;

    if (ps_icapreq_seconds(s, 3600, &ms, &err) == 0)
        fuzz_check(ms <= 3600u * 1000 && ms % 1000 == 0, "seconds gave %u ms", ms);
    else
        fuzz_check(ms == 12345 && err.msg[0] != '\0', "a refused value changed the output");
    if (ps_icapreq_header_name_check(s, &err) == 0) {
        fuzz_check(strlen(s) >= 1 && strlen(s) <= PS_ICAPREQ_HEADER_NAME_MAX, "name length");
        for (i = 0; s[i] != '\0'; i++)
            fuzz_check((unsigned char)s[i] > 0x20 && s[i] != ':' && (unsigned char)s[i] < 0x7f,
                       "header name with byte 0x%02x", (unsigned char)s[i]);
        fuzz_check(strcasecmp(s, "Host") != 0 && strcasecmp(s, "Content-Length") != 0 &&
                       strcasecmp(s, "Transfer-Encoding") != 0,
                   "framing header '%s' accepted", s);
    }
}

#define PLAN_LINES 64

static void
safe_line(const char *line)
{
    for (; *line != '\0'; line++)
        fuzz_check((unsigned char)*line >= 0x20 && (unsigned char)*line < 0x7f,
                   "a written header has byte 0x%02x", (unsigned char)*line);
}

static void
plan(char *buf, uint8_t flags)
{
    static struct ps_icap_plan p;
    const struct ps_icap_config cfg = {"X-Client-Process", "X-Pinsplice-Action",
                                       "X-Client-Username", flags & 1, (flags & 2) != 0};
    const char *http[PLAN_LINES], *icap[PLAN_LINES], *kept[PLAN_LINES];
    int nh = 0, ni = 0, nk = 0, i;
    bool in_icap = false, splice;
    struct ps_icap_facts f;
    struct ps_decision d;
    char *line = buf, *nl, want[80], target[PS_ICAPREQ_TARGET_MAX + 1];

    while (line != NULL) {
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        if (!in_icap && nh > 0 && line[0] == '\0')
            in_icap = true;
        else if (in_icap && ni < PLAN_LINES)
            icap[ni++] = line;
        else if (!in_icap && nh < PLAN_LINES)
            http[nh++] = line;
        line = nl;
    }
    ps_icap_facts_fill(&f, &cfg, nh > 0 ? http[0] : NULL, http, nh, icap, ni);
    fuzz_check((f.kind == PS_ICAP_OTHER) ==
                   (nh == 0 || ps_icapreq_connect_target(http[0], target, NULL) == 0),
               "kind %d for '%.40s'", (int)f.kind, nh > 0 ? http[0] : "");
    fuzz_check((f.strip != NULL) == (f.client_copies > 0), "strip without copies");
    if (f.user != NULL)
        for (i = 0; f.user[i] != '\0'; i++)
            fuzz_check((unsigned char)f.user[i] >= 0x20 && f.user[i] != 0x7f, "user byte");
    if (f.strip != NULL) {
        for (i = 0; i < nh; i++)
            if (!ps_icap_strips(&f, i, http[i]))
                kept[nk++] = http[i];
        fuzz_check(nk == nh - f.client_copies, "%d kept of %d, %d copies", nk, nh, f.client_copies);
        for (i = 1; i < nk; i++)
            fuzz_check(!ps_icapreq_header_is(kept[i], cfg.decision_header), "a copy survives");
        ps_icap_stripped(&f, &cfg, (flags & 4) == 0, kept, nk);
    }
    ps_icap_plan(&f, &cfg, NULL, &d, &p);
    fuzz_check(p.action == d.action, "plan and decision disagree");
    if (f.kind == PS_ICAP_OTHER) {
        fuzz_check(p.status == 204 && p.n_xheaders == 0 && p.n_attrs == 0, "planned a non-CONNECT");
        return;
    }
    splice = f.kind == PS_ICAP_CONNECT && f.client_copies >= 0 && cfg.fail_open &&
             d.reason == PS_REASON_NO_RULES;
    fuzz_check((d.action == PS_ACTION_SPLICE) == splice, "action %s, reason %s",
               ps_action_str(d.action), ps_reason_str(d.reason));
    fuzz_check(d.action != PS_ACTION_TERMINATE, "terminate without rules");
    fuzz_check(p.n_xheaders == 2 && p.n_attrs == 4, "%zu headers, %zu attributes", p.n_xheaders,
               p.n_attrs);
    for (i = 0; i < (int)p.n_xheaders; i++)
        safe_line(p.xheaders[i]);
    safe_line(p.http_header);
    fuzz_check((p.status == 200) == ps_icapreq_needs_header(d.action, f.client_copies), "status %d",
               p.status);
    snprintf(want, sizeof(want), "%s: %s", cfg.decision_header, ps_action_str(d.action));
    fuzz_check(p.status == 204 ? p.http_header[0] == '\0' : strcmp(p.http_header, want) == 0,
               "decision header '%s'", p.http_header);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *part[3] = {"", "", ""}, *p, *nl;
    bool base64;
    int i;

    if (size == 0)
        return 0;
    base64 = data[0] & 1;
    buf = malloc(size);
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    plan(buf, data[0] >> 1);
    memcpy(buf, data + 1, size - 1);
    p = buf;
    for (i = 0; i < 3 && p != NULL; i++) {
        part[i] = p;
        nl = strchr(p, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        p = nl;
    }
    connect_target(part[0]);
    header(part[1], part[2][0] != '\0' ? part[2] : "X-Pinsplice-Action");
    {
        const char *v = ps_icapreq_header_value(part[1], "X-Client-Username");
        user(v != NULL ? v : part[1], base64);
    }
    escape(part[0]);
    directives(part[2]);
    free(buf);
    return 0;
}
