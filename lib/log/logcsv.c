/* logcsv.c: one table of the report as CSV (logcsv.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logcsv.h"
#include "logfind.h"
#include "logmodel.h"
#include "logscan.h"
#include "tlsalert.h"

/* One CSV field: escaped as in text, quoted when it holds a comma, quote or space. */
static void
csv_field(FILE *out, const char *s, size_t n, bool last)
{
    bool quote = n == 0 ? false : (memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, ' ', n));
    size_t i;

    if (quote)
        putc('"', out);
    for (i = 0; i < n; i++) {
        if (s[i] == '"')
            fputs("\"\"", out);
        else
            ps_logmodel_text(out, s + i, 1);
    }
    if (quote)
        putc('"', out);
    putc(last ? '\n' : ',', out);
}

static void
csv_key(FILE *out, const struct ps_logmodel_row *r)
{
    size_t len = r->len;
    const char *k = ps_logmodel_key(r->key, &len);

    csv_field(out, k, len, false);
}

static void
csv_counts(FILE *out, const struct ps_ls_counts *c)
{
    char t1[32], t2[32];

    fprintf(out,
            "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,"
            "%s,%s\n",
            (unsigned long long)ps_logmodel_sum(c->conns, PS_LS_NACTIONS),
            (unsigned long long)c->conns[0], (unsigned long long)c->conns[1],
            (unsigned long long)c->conns[2], (unsigned long long)c->conns[3],
            (unsigned long long)ps_logmodel_sum(c->requests, PS_LS_NACTIONS),
            (unsigned long long)ps_logmodel_sum(c->bytes_out, PS_LS_NACTIONS),
            (unsigned long long)ps_logmodel_sum(c->bytes_in, PS_LS_NACTIONS),
            (unsigned long long)c->errors, (unsigned long long)c->bump_ok,
            (unsigned long long)c->fails[0], (unsigned long long)c->fails[1],
            (unsigned long long)c->fails[2], (unsigned long long)c->fails[3],
            (unsigned long long)c->tls_other, (unsigned long long)ps_logmodel_sum(c->fails, 4),
            ps_logmodel_time(c->first_ms, true, t1), ps_logmodel_time(c->last_ms, true, t2));
}

static int
csv_table(FILE *out, const struct ps_logscan *ls, enum ps_logreport_table t)
{
    struct ps_logmodel_row *rows;
    const struct ps_ls_rule *r;
    char t1[32], t2[32];
    size_t n, i;

    if (ps_logmodel_rows(t == PS_LOGREPORT_RULES     ? ps_logscan_rules(ls)
                         : t == PS_LOGREPORT_CLIENTS ? ps_logscan_clients(ls)
                                                     : ps_logscan_names(ls),
                         t == PS_LOGREPORT_RULES ? PS_ORDER_RULE : PS_ORDER_CONNS, &rows, &n) < 0)
        return PS_ENOMEM;
    if (t == PS_LOGREPORT_RULES)
        fputs("rule,connections,splice,bump,terminate,other,first_seen,last_seen\n", out);
    else
        fprintf(out,
                "%s,connections,spliced,bumped,terminated,other,requests,bytes_out,bytes_in,"
                "errors,bumped_ok,alert,reset,closed,no_request,tls_other,abandoned,first_seen,"
                "last_seen\n",
                t == PS_LOGREPORT_CLIENTS ? "client" : "name");
    for (i = 0; i < n; i++) {
        csv_key(out, &rows[i]);
        if (t != PS_LOGREPORT_RULES) {
            csv_counts(out, rows[i].value);
            continue;
        }
        r = rows[i].value;
        fprintf(out, "%llu,%llu,%llu,%llu,%llu,%s,%s\n",
                (unsigned long long)ps_logmodel_sum(r->conns, PS_LS_NACTIONS),
                (unsigned long long)r->conns[0], (unsigned long long)r->conns[1],
                (unsigned long long)r->conns[2], (unsigned long long)r->conns[3],
                ps_logmodel_time(r->first_ms, true, t1), ps_logmodel_time(r->last_ms, true, t2));
    }
    free(rows);
    return 0;
}

static void
csv_finding(FILE *out, const struct ps_logfind_item *it)
{
    const struct ps_ls_counts *c = &it->stats->c;
    const struct ps_ls_failinfo *fi = it->stats->fail;
    char t1[32], t2[32], an[40], list[320];
    size_t len = 0;
    uint8_t k;

    csv_field(out, it->name, strlen(it->name), false);
    fprintf(out, "%s,%llu,%llu,%llu,%llu,%llu,%llu,%.4f,%u,%d,",
            it->suspect   ? "suspect"
            : it->handled ? "handled"
                          : "below",
            (unsigned long long)it->failures, (unsigned long long)c->fails[0],
            (unsigned long long)c->fails[1], (unsigned long long)c->fails[2],
            (unsigned long long)c->fails[3], (unsigned long long)c->bump_ok, it->ratio,
            fi->n_clients, fi->clients_capped ? 1 : 0);
    list[0] = '\0';
    for (k = 0; k < fi->n_examples && len < sizeof(list); k++)
        len +=
            (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", k ? " " : "", fi->example[k]);
    csv_field(out, list, strlen(list), false);
    len = 0;
    list[0] = '\0';
    for (k = 0; k < fi->n_alerts && len < sizeof(list); k++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s:%llu", k ? " " : "",
                                ps_tlsalert_name(fi->alert[k], an, sizeof(an)),
                                (unsigned long long)fi->alert_count[k]);
    csv_field(out, list, strlen(list), false);
    fprintf(out, "%s,%s,%llu,", ps_logmodel_time(fi->first_ms, true, t1),
            ps_logmodel_time(fi->last_ms, true, t2), (unsigned long long)c->conns[PS_LS_SPLICE]);
    csv_field(out, it->handled_by, strlen(it->handled_by), true);
}

int
ps_logcsv_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                size_t n, const struct ps_logreport_opts *o)
{
    size_t i;

    if (o->table != PS_LOGREPORT_FINDINGS)
        return csv_table(out, ls, o->table);
    fputs("name,status,abandoned,alert,reset,closed,no_request,bumped_ok,ratio,clients,"
          "clients_more,example_clients,alerts,first_failure,last_failure,spliced,handled_by\n",
          out);
    for (i = 0; i < n; i++) {
        if (items[i].suspect || o->all)
            csv_finding(out, &items[i]);
    }
    return 0;
}
