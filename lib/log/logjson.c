#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logfind.h"
#include "logjson.h"
#include "logmodel.h"
#include "logscan.h"
#include "logtab.h"
#include "text.h"
#include "tlsalert.h"

static const char *const action_key[PS_LS_NACTIONS] = {"splice", "bump", "terminate", "other"};
static const char *const fail_key[PS_LS_NFAILS] = {"alert", "reset", "closed", "no_request"};

void
ps_logjson_string(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;

    putc('"', out);
    while (i < n) {
        if (p[i] == '"' || p[i] == '\\') {
            putc('\\', out);
            putc(p[i++], out);
        } else if (p[i] < 0x20 || p[i] == 0x7F) {
            fprintf(out, "\\u%04x", p[i++]);
        } else if ((k = ps_utf8_len(p + i, n - i)) == 0) {
            fputs("\\ufffd", out);
            i++;
        } else {
            fwrite(p + i, 1, k, out);
            i += k;
        }
    }
    putc('"', out);
}

static void
str(FILE *out, const char *s)
{
    if (s == NULL)
        fputs("null", out);
    else
        ps_logjson_string(out, s, strlen(s));
}

static void
time_val(FILE *out, int64_t ms)
{
    char buf[32];

    if (ms == 0)
        fputs("null", out);
    else
        fprintf(out, "\"%s\"", ps_logmodel_time(ms, true, buf));
}

static void
by_action(FILE *out, const char *name, const uint64_t *v)
{
    int a;

    fprintf(out, "\"%s\": {", name);
    for (a = 0; a < PS_LS_NACTIONS; a++)
        fprintf(out, "\"%s\": %llu, ", action_key[a], (unsigned long long)v[a]);
    fprintf(out, "\"total\": %llu}", (unsigned long long)ps_logmodel_sum(v, PS_LS_NACTIONS));
}

static void
counts(FILE *out, const struct ps_ls_counts *c)
{
    int k;

    putc('{', out);
    by_action(out, "connections", c->conns);
    fputs(", ", out);
    by_action(out, "requests", c->requests);
    fputs(", ", out);
    by_action(out, "bytes_out", c->bytes_out);
    fputs(", ", out);
    by_action(out, "bytes_in", c->bytes_in);
    fprintf(out, ", \"errors\": %llu, \"bumped_ok\": %llu, \"abandoned\": {",
            (unsigned long long)c->errors, (unsigned long long)c->bump_ok);
    for (k = 0; k < PS_LS_NFAILS; k++)
        fprintf(out, "\"%s\": %llu, ", fail_key[k], (unsigned long long)c->fails[k]);
    fprintf(out, "\"total\": %llu}, \"tls_other\": %llu, \"first\": ",
            (unsigned long long)ps_logmodel_sum(c->fails, PS_LS_NFAILS),
            (unsigned long long)c->tls_other);
    time_val(out, c->first_ms);
    fputs(", \"last\": ", out);
    time_val(out, c->last_ms);
    putc('}', out);
}

static void
input(FILE *out, const struct ps_logscan *ls)
{
    const struct ps_ls_input *in = ps_logscan_input(ls);
    const struct ps_ls_file *f = NULL;
    const struct ps_ls_bad *b;
    size_t nf, nb, i;

    f = ps_logscan_files(ls, &nf);
    fprintf(out,
            "\"input\": {\"lines\": %llu, \"records\": %llu, \"bad\": %llu, \"blank\": %llu, "
            "\"filtered\": %llu, \"records_by_format\": {\"pinsplice\": %llu, \"squid\": %llu, "
            "\"logformat\": %llu}, \"tunnels\": %llu, \"other_records\": %llu, "
            "\"native_connect_without_server\": %llu, \"bumped_outcome_unknown\": %llu, "
            "\"waiting_peak\": %llu, \"waiting_at_end\": %llu, \"waiting_judged_early\": %llu, "
            "\"first\": ",
            (unsigned long long)in->lines, (unsigned long long)in->records,
            (unsigned long long)in->bad, (unsigned long long)in->blank,
            (unsigned long long)in->filtered, (unsigned long long)in->by_format[0],
            (unsigned long long)in->by_format[1], (unsigned long long)in->by_format[2],
            (unsigned long long)in->tunnels, (unsigned long long)in->other_records,
            (unsigned long long)in->native_connect_nohier, (unsigned long long)in->bump_unknown,
            (unsigned long long)in->pending_peak, (unsigned long long)in->pending_end,
            (unsigned long long)in->pending_early);
    time_val(out, in->first_ms);
    fputs(", \"last\": ", out);
    time_val(out, in->last_ms);
    fputs(", \"files\": [", out);
    for (i = 0; i < nf; i++) {
        fputs(i ? ", {\"path\": " : "{\"path\": ", out);
        str(out, f[i].path);
        fprintf(out,
                ", \"lines\": %llu, \"records\": %llu, \"bad\": %llu, \"blank\": %llu, "
                "\"filtered\": %llu, \"records_by_format\": {\"pinsplice\": %llu, \"squid\": "
                "%llu, \"logformat\": %llu}, \"first\": ",
                (unsigned long long)f[i].lines, (unsigned long long)f[i].records,
                (unsigned long long)f[i].bad, (unsigned long long)f[i].blank,
                (unsigned long long)f[i].filtered, (unsigned long long)f[i].by_format[0],
                (unsigned long long)f[i].by_format[1], (unsigned long long)f[i].by_format[2]);
        time_val(out, f[i].first_ms);
        fputs(", \"last\": ", out);
        time_val(out, f[i].last_ms);
        fputs(", \"error\": ", out);
        str(out, f[i].error ? f[i].message : NULL);
        putc('}', out);
    }
    fputs("]},\n\"bad_lines\": [", out);
    b = ps_logscan_bad(ls, &nb);
    for (i = 0; i < nb; i++) {
        fputs(i ? ", {\"file\": " : "{\"file\": ", out);
        str(out, f[b[i].file].path);
        fprintf(out, ", \"line\": %llu, \"reason\": ", (unsigned long long)b[i].line);
        str(out, b[i].reason);
        fputs(", \"text\": ", out);
        ps_logjson_string(out, b[i].text, b[i].text_len);
        fprintf(out, ", \"cut\": %s}", b[i].cut ? "true" : "false");
    }
    fputs("],\n", out);
}

static void
notes(FILE *out, const struct ps_logscan *ls)
{
    const struct ps_ls_input *in = ps_logscan_input(ls);
    int n = 0;

    fputs("\"notes\": [", out);
    if (ps_logscan_formats(ls) & 2u)
        fprintf(out,
                "%s\"native squid format: no SNI, client port, TLS error or pinsplice notes; "
                "bumped connections are not judged, rules and terminated connections are not "
                "known\"",
                n++ ? ", " : "");
    if (in->records > 0 && !ps_logscan_can_find(ls))
        fprintf(out,
                "%s\"no record has client ip:port, %%err_code and the TLS version: no "
                "pinning-app search\"",
                n++ ? ", " : "");
    if (in->pending_early > 0)
        fprintf(out, "%s\"connections judged early: --max-pending reached\"", n++ ? ", " : "");
    fputs("],\n", out);
}

/* A sorted table as an array of objects: {"KEYNAME": key, ...counts}. */
static int
table(FILE *out, const char *title, const char *keyname, const struct ps_logtab *t,
      enum ps_logmodel_order order, size_t top)
{
    struct ps_logmodel_row *rows;
    const struct ps_ls_rule *r;
    size_t n, i, len;
    const char *k;

    if (ps_logmodel_rows(t, order, &rows, &n) < 0)
        return PS_ENOMEM;
    fprintf(out, "\"%s\": [", title);
    for (i = 0; i < n && (top == 0 || i < top); i++) {
        fprintf(out, "%s{\"%s\": ", i ? ",\n  " : "\n  ", keyname);
        len = rows[i].len;
        k = ps_logmodel_key(rows[i].key, &len);
        if (k != rows[i].key)
            fputs("null", out); /* special keys: no name, default action, no decision */
        else
            ps_logjson_string(out, k, len);
        if (order == PS_ORDER_RULE) {
            r = rows[i].value;
            fprintf(out, ", \"kind\": \"%s\", ",
                    k == rows[i].key                               ? "rule"
                    : strcmp(rows[i].key, PS_LS_RULE_DEFAULT) == 0 ? "default"
                                                                   : "none");
            by_action(out, "connections", r->conns);
            fputs(", \"first\": ", out);
            time_val(out, r->first_ms);
            fputs(", \"last\": ", out);
            time_val(out, r->last_ms);
        } else {
            fputs(", \"counts\": ", out);
            counts(out, rows[i].value);
        }
        putc('}', out);
    }
    fputs("]", out);
    free(rows);
    return 0;
}

static void
finding(FILE *out, const struct ps_logfind_item *it)
{
    const struct ps_ls_failinfo *fi = it->stats->fail;
    char an[40];
    uint8_t k;

    fputs("{\"name\": ", out);
    str(out, it->name);
    fprintf(out,
            ", \"status\": \"%s\", \"abandoned\": %llu, \"ratio\": %.4f, \"clients\": %u, "
            "\"clients_more\": %s, \"example_clients\": [",
            it->suspect   ? "suspect"
            : it->handled ? "handled"
                          : "below",
            (unsigned long long)it->failures, it->ratio, fi->n_clients,
            fi->clients_capped ? "true" : "false");
    for (k = 0; k < fi->n_examples; k++) {
        fputs(k ? ", " : "", out);
        str(out, fi->example[k]);
    }
    fputs("], \"alerts\": [", out);
    for (k = 0; k < fi->n_alerts; k++)
        fprintf(out, "%s{\"alert\": %u, \"name\": \"%s\", \"count\": %llu}", k ? ", " : "",
                fi->alert[k], ps_tlsalert_name(fi->alert[k], an, sizeof(an)),
                (unsigned long long)fi->alert_count[k]);
    fputs("], \"first_failure\": ", out);
    time_val(out, fi->first_ms);
    fputs(", \"last_failure\": ", out);
    time_val(out, fi->last_ms);
    fputs(", \"handled_by\": ", out);
    str(out, it->handled ? it->handled_by : NULL);
    fputs(", \"counts\": ", out);
    counts(out, &it->stats->c);
    putc('}', out);
}

static void
findings(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items, size_t n,
         const struct ps_logreport_opts *o)
{
    size_t i, shown = 0;

    fputs("\"findings\": {\"searched\": ", out);
    fputs(ps_logscan_can_find(ls) ? "true" : "false", out);
    if (o->find != NULL)
        fprintf(out, ", \"min_failures\": %llu, \"min_clients\": %u, \"min_ratio\": %.4f",
                (unsigned long long)o->find->min_failures, o->find->min_clients,
                o->find->min_ratio);
    fputs(", \"rules_db\": ", out);
    str(out, o->db);
    fputs(", \"rules_db_note\": ", out);
    str(out, o->db == NULL ? (o->db_note != NULL ? o->db_note : "not given") : NULL);
    fputs(", \"names\": [", out);
    for (i = 0; i < n; i++) {
        if (!items[i].suspect && !o->all)
            continue;
        fputs(shown++ ? ",\n  " : "\n  ", out);
        finding(out, &items[i]);
    }
    fputs("]}", out);
}

/* "server_checks": connections by pinsplice_verify_ outcome, in total and per rule. */
static int
checks(FILE *out, const struct ps_logscan *ls)
{
    const struct ps_ls_input *in = ps_logscan_input(ls);
    struct ps_logmodel_row *rows;
    const struct ps_ls_rule *r;
    size_t n, i, len, shown = 0;
    const char *k;
    int v;

    fputs("\"server_checks\": {", out);
    for (v = 0; v < PS_LS_NVERIFY; v++)
        fprintf(out, "\"%s\": %llu, ", ps_ls_verify_names[v], (unsigned long long)in->verify[v]);
    fprintf(out, "\"unknown\": %llu, \"by_rule\": [", (unsigned long long)in->verify_other);
    if (ps_logmodel_rows(ps_logscan_rules(ls), PS_ORDER_RULE, &rows, &n) < 0)
        return PS_ENOMEM;
    for (i = 0; i < n; i++) {
        r = rows[i].value;
        if (ps_logmodel_sum(r->verify, PS_LS_NVERIFY) == 0)
            continue;
        len = rows[i].len;
        k = ps_logmodel_key(rows[i].key, &len);
        fputs(shown++ ? ",\n  {\"rule\": " : "\n  {\"rule\": ", out);
        if (k != rows[i].key)
            fputs("null", out);
        else
            ps_logjson_string(out, k, len);
        for (v = 0; v < PS_LS_NVERIFY; v++)
            fprintf(out, ", \"%s\": %llu", ps_ls_verify_names[v], (unsigned long long)r->verify[v]);
        putc('}', out);
    }
    fputs("]}", out);
    free(rows);
    return 0;
}

/* "monitor_rules": what each monitor rule would have done, and what happened instead. */
static int
monitors(FILE *out, const struct ps_logscan *ls)
{
    struct ps_logmodel_row *rows;
    const struct ps_ls_monitor *m;
    size_t n, i;

    if (ps_logmodel_rows(ps_logscan_monitors(ls), PS_ORDER_MONITOR, &rows, &n) < 0)
        return PS_ENOMEM;
    fputs("\"monitor_rules\": [", out);
    for (i = 0; i < n; i++) {
        m = rows[i].value;
        fputs(i ? ",\n  {\"rule\": " : "\n  {\"rule\": ", out);
        ps_logjson_string(out, rows[i].key, rows[i].len);
        fputs(", ", out);
        by_action(out, "would", m->would);
        fputs(", ", out);
        by_action(out, "decided", m->conns);
        fprintf(out, ", \"abandoned\": %llu, \"carried\": %llu, \"first\": ",
                (unsigned long long)m->abandoned, (unsigned long long)m->carried);
        time_val(out, m->first_ms);
        fputs(", \"last\": ", out);
        time_val(out, m->last_ms);
        putc('}', out);
    }
    fputs("]", out);
    free(rows);
    return 0;
}

int
ps_logjson_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                 size_t n, const struct ps_logreport_opts *o)
{
    fputs("{\"report\": \"pinsplice logscan\", \"version\": 1,\n", out);
    input(out, ls);
    notes(out, ls);
    fputs("\"totals\": ", out);
    counts(out, ps_logscan_totals(ls));
    fputs(",\n", out);
    if (table(out, "rules", "rule", ps_logscan_rules(ls), PS_ORDER_RULE, 0) < 0)
        return PS_ENOMEM;
    fputs(",\n", out);
    if (checks(out, ls) < 0)
        return PS_ENOMEM;
    fputs(",\n", out);
    if (monitors(out, ls) < 0)
        return PS_ENOMEM;
    fputs(",\n", out);
    if (table(out, "top_spliced", "name", ps_logscan_names(ls), PS_ORDER_SPLICED, o->top) < 0)
        return PS_ENOMEM;
    fputs(",\n", out);
    if (table(out, "top_bumped", "name", ps_logscan_names(ls), PS_ORDER_BUMPED, o->top) < 0)
        return PS_ENOMEM;
    fputs(",\n", out);
    if (table(out, "top_clients", "client", ps_logscan_clients(ls), PS_ORDER_CONNS, o->top) < 0)
        return PS_ENOMEM;
    fputs(",\n", out);
    findings(out, ls, items, n, o);
    fputs("}\n", out);
    return 0;
}
