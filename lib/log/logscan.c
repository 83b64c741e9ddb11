#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logcount.h"
#include "logline.h"
#include "logscan.h"
#include "logtab.h"

struct ps_logscan {
    struct ps_logscan_opts o;
    struct ps_logcount *count;
    struct ps_ls_input in;
    struct ps_ls_file *files;
    size_t nfiles;
    struct ps_ls_bad *bad;
    size_t nbad;
    const struct ps_logformat *cur;        /* format of the current input's last good record */
    const struct ps_logformat *builtin[2]; /* pinsplice, squid: tried in this order */
    unsigned formats;
    bool can_find;
};

void
ps_logscan_opts_init(struct ps_logscan_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->since_ms = INT64_MIN;
    o->until_ms = INT64_MAX;
    o->window_ms = PS_LOGSCAN_WINDOW_MS;
    o->max_pending = PS_LOGSCAN_MAX_PENDING;
    o->keep_bad = 5;
}

struct ps_logscan *
ps_logscan_new(const struct ps_logscan_opts *o)
{
    struct ps_logscan *ls = calloc(1, sizeof(*ls));

    if (ls == NULL)
        return NULL;
    ls->o = *o;
    ls->builtin[0] = ps_logformat_builtin("pinsplice");
    ls->builtin[1] = ps_logformat_builtin("squid");
    ls->count = ps_logcount_new(o->window_ms, o->max_pending, &ls->in);
    ls->bad = calloc(ls->o.keep_bad > 0 ? ls->o.keep_bad : 1, sizeof(*ls->bad));
    if (ls->count == NULL || ls->bad == NULL) {
        ps_logscan_free(ls);
        return NULL;
    }
    return ls;
}

void
ps_logscan_free(struct ps_logscan *ls)
{
    size_t i;

    if (ls == NULL)
        return;
    ps_logcount_free(ls->count);
    for (i = 0; i < ls->nfiles; i++)
        free(ls->files[i].path);
    free(ls->files);
    free(ls->bad);
    free(ls);
}

/* ---- lines ---------------------------------------------------------------------------------- */

static void
keep_bad(struct ps_logscan *ls, const char *line, size_t len, const char *reason)
{
    struct ps_ls_file *fl = &ls->files[ls->nfiles - 1];
    struct ps_ls_bad *b;
    size_t n;

    fl->bad++;
    ls->in.bad++;
    if (ls->nbad >= ls->o.keep_bad)
        return;
    b = &ls->bad[ls->nbad++];
    b->file = ls->nfiles - 1;
    b->line = fl->lines;
    snprintf(b->reason, sizeof(b->reason), "%s", reason);
    n = len < PS_LS_BAD_TEXT ? len : PS_LS_BAD_TEXT;
    memcpy(b->text, line, n);
    b->text[n] = '\0';
    b->text_len = n;
    b->cut = len > n;
}

static int
format_index(const struct ps_logscan *ls, const struct ps_logformat *f)
{
    return f == ls->builtin[0] ? 0 : f == ls->builtin[1] ? 1 : 2;
}

/* "too few fields" and the like say the record is another format, not what is wrong with it. */
static bool
shape_error(const struct ps_err *e)
{
    return strncmp(e->msg, "too few fields", 14) == 0 || strncmp(e->msg, "unterminated", 12) == 0;
}

/* Parse with the forced format, or the current one, then the others. NULL when none fits; why
 * then says what is wrong in the format the line most looks like. */
static const struct ps_logformat *
parse(struct ps_logscan *ls, char *line, size_t len, struct ps_logline *l, struct ps_err *why)
{
    const struct ps_logformat *const *cand = ls->builtin;
    struct ps_err e[2] = {{0, ""}, {0, ""}};
    int i;

    if (ls->o.format != NULL)
        return ps_logline_parse(ls->o.format, line, len, l, why) == 0 ? ls->o.format : NULL;
    if (ls->cur != NULL && ps_logline_parse(ls->cur, line, len, l, why) == 0)
        return ls->cur;
    for (i = 0; i < 2; i++) {
        if (cand[i] != ls->cur && ps_logline_parse(cand[i], line, len, l, &e[i]) == 0)
            return ls->cur = cand[i];
    }
    for (i = 0; i < 2 && ls->cur != NULL && shape_error(why); i++) {
        if (cand[i] != ls->cur && !shape_error(&e[i]))
            *why = e[i];
    }
    if (ls->cur == NULL) /* before the first good record, say why neither fits */
        ps_err_set(why, PS_EINVAL, "not pinsplice (%s) nor squid (%s) format", e[0].msg, e[1].msg);
    return NULL;
}

int
ps_logscan_begin(struct ps_logscan *ls, const char *name, struct ps_err *err)
{
    struct ps_ls_file *nf = realloc(ls->files, (ls->nfiles + 1) * sizeof(*nf));

    if (nf == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    ls->files = nf;
    memset(&nf[ls->nfiles], 0, sizeof(*nf));
    if ((nf[ls->nfiles].path = strdup(name)) == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    ls->nfiles++;
    ls->cur = NULL;
    return 0;
}

int
ps_logscan_line(struct ps_logscan *ls, char *line, size_t len, struct ps_err *err)
{
    struct ps_ls_file *fl = &ls->files[ls->nfiles - 1];
    const struct ps_logformat *f;
    struct ps_logline l;
    struct ps_err why = {0, ""};
    int fi;

    fl->lines++;
    ls->in.lines++;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0) {
        fl->blank++;
        ls->in.blank++;
        return 0;
    }
    if ((f = parse(ls, line, len, &l, &why)) == NULL) {
        keep_bad(ls, line, len, why.msg);
        return 0;
    }
    if (l.time_ms < ls->o.since_ms || l.time_ms > ls->o.until_ms) {
        fl->filtered++;
        ls->in.filtered++;
        return 0;
    }
    fi = format_index(ls, f);
    fl->records++;
    fl->by_format[fi]++;
    ls->in.records++;
    ls->in.by_format[fi]++;
    ls->formats |= 1u << fi;
    if ((f->has & (1u << PS_LF_CLIENT_PORT)) && (f->has & (1u << PS_LF_ERR)) &&
        (f->has & (1u << PS_LF_TLS)))
        ls->can_find = true;
    if (fl->first_ms == 0 || l.time_ms < fl->first_ms)
        fl->first_ms = l.time_ms;
    if (l.time_ms > fl->last_ms)
        fl->last_ms = l.time_ms;
    if (ls->in.first_ms == 0 || l.time_ms < ls->in.first_ms)
        ls->in.first_ms = l.time_ms;
    if (l.time_ms > ls->in.last_ms)
        ls->in.last_ms = l.time_ms;
    if (ps_logcount_record(ls->count, &l, f) < 0)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    return 0;
}

void
ps_logscan_skip(struct ps_logscan *ls, const char *text, size_t len, const char *reason)
{
    ls->files[ls->nfiles - 1].lines++;
    ls->in.lines++;
    keep_bad(ls, text, len, reason);
}

void
ps_logscan_input_error(struct ps_logscan *ls, const char *message)
{
    struct ps_ls_file *fl = &ls->files[ls->nfiles - 1];

    fl->error = true;
    snprintf(fl->message, sizeof(fl->message), "%s", message);
}

int
ps_logscan_finish(struct ps_logscan *ls)
{
    return ps_logcount_finish(ls->count);
}

/* ---- results -------------------------------------------------------------------------------- */

const struct ps_ls_counts *
ps_logscan_totals(const struct ps_logscan *ls)
{
    return ps_logcount_totals(ls->count);
}

const struct ps_ls_input *
ps_logscan_input(const struct ps_logscan *ls)
{
    return &ls->in;
}

const struct ps_logtab *
ps_logscan_names(const struct ps_logscan *ls)
{
    return ps_logcount_names(ls->count);
}

const struct ps_logtab *
ps_logscan_clients(const struct ps_logscan *ls)
{
    return ps_logcount_clients(ls->count);
}

const struct ps_logtab *
ps_logscan_rules(const struct ps_logscan *ls)
{
    return ps_logcount_rules(ls->count);
}

const struct ps_logtab *
ps_logscan_monitors(const struct ps_logscan *ls)
{
    return ps_logcount_monitors(ls->count);
}

const struct ps_ls_file *
ps_logscan_files(const struct ps_logscan *ls, size_t *n)
{
    *n = ls->nfiles;
    return ls->files;
}

const struct ps_ls_bad *
ps_logscan_bad(const struct ps_logscan *ls, size_t *n)
{
    *n = ls->nbad;
    return ls->bad;
}

unsigned
ps_logscan_formats(const struct ps_logscan *ls)
{
    return ls->formats;
}

bool
ps_logscan_can_find(const struct ps_logscan *ls)
{
    return ls->can_find;
}

size_t
ps_logscan_bytes(const struct ps_logscan *ls)
{
    return ps_logcount_bytes(ls->count);
}
