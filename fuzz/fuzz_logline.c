/* fuzz_logline: the access.log side of `pinsplice logscan` (lib/log/logformat.c, logline.c,
 * logscan.c, logcount.c, logfind.c and the reports): a logformat definition as --logformat takes
 * it, records in that format, and the time values --since/--until take. Input: the first byte
 * picks the format (built-in squid, built-in pinsplice, or the first line compiled as a
 * definition), the other lines are records. Invariants: a compiled format has
 * 1..PS_LOGFORMAT_FIELDS_MAX fields and its `has` bits are exactly its kinds; every field of a
 * parsed record lies inside the line; a record's numbers are in range; the scanner counts every
 * line once (lines = records + bad + blank + filtered) and its report is written without error. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "logfind.h"
#include "logline.h"
#include "logreport.h"
#include "logscan.h"

static FILE *devnull;

static void
in_line(const struct ps_logstr *f, const char *line, size_t len, const char *what)
{
    if (f->n == 0)
        return;
    fuzz_check(f->s >= line && f->s + f->n <= line + len, "field %s outside the line", what);
}

static void
check_format(const struct ps_logformat *f)
{
    uint32_t has = 0;
    unsigned i;

    fuzz_check(f->nfields >= 1 && f->nfields <= PS_LOGFORMAT_FIELDS_MAX, "%u fields",
               (unsigned)f->nfields);
    for (i = 0; i < f->nfields; i++) {
        fuzz_check(f->kind[i] < PS_LF_COUNT, "kind %u", (unsigned)f->kind[i]);
        has |= 1u << f->kind[i];
    }
    fuzz_check(has == f->has, "has bits 0x%x, kinds give 0x%x", f->has, has);
    fuzz_check(f->has & (1u << PS_LF_TIME), "a format without a time accepted");
}

static void
parse(const struct ps_logformat *f, const char *text, size_t len)
{
    static char line[PS_LOGLINE_MAX + 1];
    struct ps_logline r;
    struct ps_err err = {0};

    if (len > PS_LOGLINE_MAX)
        len = PS_LOGLINE_MAX;
    memcpy(line, text, len);
    line[len] = '\0';
    if (ps_logline_parse(f, line, len, &r, &err) != 0) {
        fuzz_check(err.msg[0] != '\0', "a refused record without a message");
        return;
    }
    in_line(&r.client, line, len, "client");
    in_line(&r.peer, line, len, "peer");
    in_line(&r.result, line, len, "result");
    in_line(&r.method, line, len, "method");
    in_line(&r.url, line, len, "url");
    in_line(&r.user, line, len, "user");
    in_line(&r.hier, line, len, "hier");
    in_line(&r.bump_mode, line, len, "bump_mode");
    in_line(&r.sni, line, len, "sni");
    in_line(&r.rdomain, line, len, "rdomain");
    in_line(&r.err_code, line, len, "err_code");
    in_line(&r.err_detail, line, len, "err_detail");
    in_line(&r.tls, line, len, "tls");
    in_line(&r.action, line, len, "action");
    in_line(&r.rule, line, len, "rule");
    fuzz_check(r.port <= 65535, "port %u", r.port);
    fuzz_check(r.status >= 0 && r.status <= 999, "status %d", r.status);
    fuzz_check(r.bytes_out >= -1 && r.bytes_in >= -1, "negative byte counts");
    fuzz_check(r.elapsed_ms >= -1, "negative elapsed time");
}

static void
scan(const struct ps_logformat *f, const char *text, size_t len)
{
    static char line[PS_LOGLINE_MAX + 1];
    struct ps_logscan_opts o;
    struct ps_logfind_opts fo;
    struct ps_logreport_opts ro;
    struct ps_logfind_item *items = NULL;
    const struct ps_ls_input *in;
    struct ps_logscan *ls;
    struct ps_err err = {0};
    const char *s = text, *end = text + len, *nl;
    size_t n = 0, lines = 0;

    ps_logscan_opts_init(&o);
    o.format = f;
    o.max_pending = 4; /* the early judgement path too */
    if ((ls = ps_logscan_new(&o)) == NULL)
        return;
    if (ps_logscan_begin(ls, "fuzz", &err) != 0)
        goto done;
    while (s < end) {
        nl = memchr(s, '\n', (size_t)(end - s));
        if (nl == NULL)
            nl = end;
        n = (size_t)(nl - s) > PS_LOGLINE_MAX ? PS_LOGLINE_MAX : (size_t)(nl - s);
        memcpy(line, s, n);
        line[n] = '\0';
        if (ps_logscan_line(ls, line, n, &err) == PS_ENOMEM)
            goto done;
        lines++;
        s = nl + 1;
    }
    ps_logscan_finish(ls);
    in = ps_logscan_input(ls);
    fuzz_check(in->lines == lines, "%zu lines given, %llu counted", lines,
               (unsigned long long)in->lines);
    fuzz_check(in->records + in->bad + in->blank + in->filtered == in->lines,
               "records %llu + bad %llu + blank %llu + filtered %llu != lines %llu",
               (unsigned long long)in->records, (unsigned long long)in->bad,
               (unsigned long long)in->blank, (unsigned long long)in->filtered,
               (unsigned long long)in->lines);
    ps_logfind_opts_init(&fo);
    if (ps_logfind_run(ls, &fo, &items, &n, &err) != 0)
        goto done;
    ps_logreport_opts_init(&ro);
    ro.find = &fo;
    ro.all = true;
    ro.top = 0;
    fuzz_check(ps_logreport_write(devnull, ls, items, n, &ro, &err) == 0, "text report: %s",
               err.msg);
    ro.format = PS_LOGREPORT_JSON;
    fuzz_check(ps_logreport_write(devnull, ls, items, n, &ro, &err) == 0, "JSON report: %s",
               err.msg);
    ps_logfind_sql(devnull, items, n, &fo, NULL); /* the default suggestion options */
done:
    free(items);
    ps_logscan_free(ls);
}

static void
times(const char *text, size_t len)
{
    char z[64];
    int64_t ms, ms_end;
    struct ps_err err = {0};

    if (ps_logline_time(text, len, &ms) == 0)
        fuzz_check(ms >= 0, "negative time");
    if (len >= sizeof(z))
        return;
    memcpy(z, text, len);
    z[len] = '\0';
    if (ps_logline_datetime(z, false, &ms, &err) == 0) {
        fuzz_check(ps_logline_datetime(z, true, &ms_end, &err) == 0, "start but no end");
        fuzz_check(ms_end >= ms, "'%s' ends before it starts", z);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_logformat custom;
    const struct ps_logformat *f;
    const char *text, *end, *s, *nl;
    struct ps_err err = {0};
    char def[1024];

    if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
        abort();
    if (size == 0)
        return 0;
    text = (const char *)data + 1;
    end = (const char *)data + size;
    switch (data[0] % 3) {
    case 0:
        f = ps_logformat_builtin("squid");
        break;
    case 1:
        f = ps_logformat_builtin("pinsplice");
        break;
    default:
        nl = memchr(text, '\n', (size_t)(end - text));
        if (nl == NULL || (size_t)(nl - text) >= sizeof(def))
            return 0;
        memcpy(def, text, (size_t)(nl - text));
        def[nl - text] = '\0';
        text = nl + 1;
        if (ps_logformat_compile("fuzz", def, &custom, &err) != 0) {
            fuzz_check(err.msg[0] != '\0', "a refused format without a message");
            return 0;
        }
        f = &custom;
    }
    check_format(f);
    for (s = text; s < end; s = nl + 1) {
        nl = memchr(s, '\n', (size_t)(end - s));
        if (nl == NULL)
            nl = end;
        parse(f, s, (size_t)(nl - s));
        times(s, (size_t)(nl - s));
    }
    scan(f, text, (size_t)(end - text));
    return 0;
}
