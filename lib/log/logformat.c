/* logformat.c: Squid logformat definitions compiled to the fields a record has (logformat.h). */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "logformat.h"

/* Squid's native format (squid.conf.documented, "logformat squid"). */
const char ps_logformat_squid_def[] = "%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt";

/* Must equal the "logformat pinsplice" line of squid-conf/pinsplice.conf.in (a unit test checks).
 */
const char ps_logformat_pinsplice_def[] =
    "%ts.%03tu %tr %>a:%>p %Ss/%03>Hs %<st %>st %rm %#ru %#un %ssl::bump_mode %#ssl::>sni "
    "%#>rd %err_code/%err_detail %ssl::>negotiated_version %#{pinsplice_action_}note "
    "%#{pinsplice_rule_}note %#{pinsplice_verify_}note %#{pinsplice_monitor_}note "
    "%#{pinsplice_monitor_rule_}note";

#define CODE_MAX 64 /* longest normalised token we look up */

static const struct {
    const char *code;
    enum ps_logfield kind;
} codes[] = {
    {"%ts.%tu", PS_LF_TIME},
    {"%ts", PS_LF_TIME},
    {"%tr", PS_LF_ELAPSED},
    {"%>a", PS_LF_CLIENT},
    {"%>a:%>p", PS_LF_CLIENT_PORT},
    {"%Ss/%>Hs", PS_LF_RESULT},
    {"%Ss/%Hs", PS_LF_RESULT},
    {"%<st", PS_LF_BYTES_OUT},
    {"%>st", PS_LF_BYTES_IN},
    {"%rm", PS_LF_METHOD},
    {"%ru", PS_LF_URL},
    {"%un", PS_LF_USER},
    {"%Sh/%<a", PS_LF_HIER},
    {"%Sh/%<A", PS_LF_HIER},
    {"%ssl::bump_mode", PS_LF_BUMP_MODE},
    {"%ssl::>sni", PS_LF_SNI},
    {"%>rd", PS_LF_RDOMAIN},
    {"%err_code/%err_detail", PS_LF_ERR},
    {"%ssl::>negotiated_version", PS_LF_TLS},
    {"%{pinsplice_action_}note", PS_LF_ACTION},
    {"%{pinsplice_rule_}note", PS_LF_RULE},
    {"%{pinsplice_verify_}note", PS_LF_VERIFY},
    {"%{pinsplice_monitor_}note", PS_LF_MONITOR},
    {"%{pinsplice_monitor_rule_}note", PS_LF_MONITOR_RULE},
    /* The ICAP snippet's format (pinsplice_icap) logs the same values as response headers. */
    {"%{X-Pinsplice-Action}adapt::<last_h", PS_LF_ACTION},
    {"%{X-Pinsplice-Rule}adapt::<last_h", PS_LF_RULE},
    {"%{X-Pinsplice-Verify}adapt::<last_h", PS_LF_VERIFY},
    {"%{X-Pinsplice-Monitor}adapt::<last_h", PS_LF_MONITOR},
    {"%{X-Pinsplice-Monitor-Rule}adapt::<last_h", PS_LF_MONITOR_RULE},
    /* The names before Squid 6 reserved annotation names without a trailing "_": logs written
     * with an older copy of the snippet still read. */
    {"%{pinsplice_action}note", PS_LF_ACTION},
    {"%{pinsplice_rule}note", PS_LF_RULE},
};

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Normalise one token: drop a literal "..." or [...] wrapper and every %-code's modifiers, keep
 * {arguments}. Returns 0, or PS_EINVAL (too long, unterminated argument). */
static int
normalise(const char *t, size_t len, char out[CODE_MAX])
{
    size_t i = 0, o = 0;

    if (len >= 2 && ((t[0] == '"' && t[len - 1] == '"') || (t[0] == '[' && t[len - 1] == ']'))) {
        t++;
        len -= 2;
    }
    while (i < len) {
        if (o + 1 >= CODE_MAX)
            return PS_EINVAL;
        out[o++] = t[i++];
        if (out[o - 1] != '%')
            continue;
        if (i < len && strchr("\"[#'/", t[i]) != NULL)
            i++;
        if (i < len && t[i] == '-')
            i++;
        while (i < len && (is_digit(t[i]) || t[i] == '.'))
            i++;
        /* an {argument} is copied with its code by the loop; it must be closed */
        if (i < len && t[i] == '{' && memchr(t + i, '}', len - i) == NULL)
            return PS_EINVAL;
    }
    out[o] = '\0';
    return 0;
}

int
ps_logformat_compile(const char *name, const char *def, struct ps_logformat *out,
                     struct ps_err *err)
{
    struct ps_logformat f;
    const char *p = def, *end;
    char code[CODE_MAX];
    size_t i, n = 0;

    if (name == NULL || def == NULL || out == NULL)
        return ps_err_set(err, PS_EINVAL, "logformat: no definition");
    memset(&f, 0, sizeof(f));
    for (i = 0; i + 1 < sizeof(f.name) && name[i] != '\0'; i++)
        f.name[i] = name[i];
    for (;;) {
        while (is_space(*p))
            p++;
        if (*p == '\0')
            break;
        for (end = p; *end != '\0' && !is_space(*end); end++)
            ;
        if (n >= PS_LOGFORMAT_FIELDS_MAX)
            return ps_err_set(err, PS_EINVAL, "logformat %s: more than %d fields", f.name,
                              PS_LOGFORMAT_FIELDS_MAX);
        if (normalise(p, (size_t)(end - p), code) < 0)
            return ps_err_set(err, PS_EINVAL, "logformat %s: bad token '%.*s'", f.name,
                              (int)(end - p > 64 ? 64 : end - p), p);
        f.kind[n] = PS_LF_SKIP;
        for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
            if (strcmp(code, codes[i].code) == 0) {
                f.kind[n] = (uint8_t)codes[i].kind;
                break;
            }
        }
        f.has |= 1u << f.kind[n];
        n++;
        p = end;
    }
    if (!(f.has & (1u << PS_LF_TIME)))
        return ps_err_set(err, PS_EINVAL, "logformat %s: no %%ts time field", f.name);
    f.nfields = (uint8_t)n;
    /* the notes added after the first snippet may be missing at the end of a record */
    f.nrequired = f.nfields;
    while (f.nrequired > 0 &&
           (f.kind[f.nrequired - 1] == PS_LF_VERIFY || f.kind[f.nrequired - 1] == PS_LF_MONITOR ||
            f.kind[f.nrequired - 1] == PS_LF_MONITOR_RULE))
        f.nrequired--;
    *out = f;
    return 0;
}

const struct ps_logformat *
ps_logformat_builtin(const char *name)
{
    static struct ps_logformat squid, pinsplice;
    static bool done;

    /* Compiling constant definitions cannot fail; done once, single-threaded callers (tools). */
    if (!done) {
        ps_logformat_compile("squid", ps_logformat_squid_def, &squid, NULL);
        ps_logformat_compile("pinsplice", ps_logformat_pinsplice_def, &pinsplice, NULL);
        done = true;
    }
    if (name == NULL)
        return NULL;
    if (strcmp(name, "squid") == 0)
        return &squid;
    if (strcmp(name, "pinsplice") == 0)
        return &pinsplice;
    return NULL;
}
