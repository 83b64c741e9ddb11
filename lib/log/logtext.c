/* logtext.c: the text report, tables for people (logtext.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logfind.h"
#include "logmodel.h"
#include "logscan.h"
#include "logtext.h"
#include "tlsalert.h"

static const char *const action_label[PS_LS_NACTIONS] = {"spliced", "bumped", "terminated",
                                                         "other"};

static void
key_text(FILE *out, const char *key, size_t len)
{
    const char *k = ps_logmodel_key(key, &len);

    if (k != key)
        fputs(k, out);
    else
        ps_logmodel_text(out, key, len);
}

static void
text_input(FILE *out, const struct ps_logscan *ls)
{
    const struct ps_ls_input *in = ps_logscan_input(ls);
    const struct ps_ls_file *f;
    const struct ps_ls_bad *b;
    size_t nf, nb, i;
    char t1[32], t2[32];

    f = ps_logscan_files(ls, &nf);
    b = ps_logscan_bad(ls, &nb);
    fprintf(out,
            "Input: %zu file%s, %llu lines: %llu records, %llu bad, %llu blank, %llu outside "
            "the time range\n",
            nf, nf == 1 ? "" : "s", (unsigned long long)in->lines, (unsigned long long)in->records,
            (unsigned long long)in->bad, (unsigned long long)in->blank,
            (unsigned long long)in->filtered);
    fprintf(out, "  records from %s to %s UTC\n", ps_logmodel_time(in->first_ms, false, t1),
            ps_logmodel_time(in->last_ms, false, t2));
    for (i = 0; i < nf; i++) {
        fputs("  ", out);
        ps_logmodel_text(out, f[i].path, strlen(f[i].path));
        fprintf(out, ": %llu records (pinsplice %llu, squid %llu, --logformat %llu), %llu bad",
                (unsigned long long)f[i].records, (unsigned long long)f[i].by_format[0],
                (unsigned long long)f[i].by_format[1], (unsigned long long)f[i].by_format[2],
                (unsigned long long)f[i].bad);
        if (f[i].error) {
            fputs(", ERROR: ", out);
            ps_logmodel_text(out, f[i].message, strlen(f[i].message));
        }
        putc('\n', out);
    }
    if (nb > 0)
        fprintf(out, "\nBad lines (%llu; the first %zu):\n", (unsigned long long)in->bad, nb);
    for (i = 0; i < nb; i++) {
        fputs("  ", out);
        ps_logmodel_text(out, f[b[i].file].path, strlen(f[b[i].file].path));
        fprintf(out, ":%llu: %s: \"", (unsigned long long)b[i].line, b[i].reason);
        ps_logmodel_text(out, b[i].text, b[i].text_len);
        fprintf(out, "\"%s\n", b[i].cut ? "..." : "");
    }
}

static void
text_notes(FILE *out, const struct ps_logscan *ls)
{
    const struct ps_ls_input *in = ps_logscan_input(ls);
    unsigned fm = ps_logscan_formats(ls);

    if (fm & 2u)
        fprintf(out,
                "\nNote: %llu records are in Squid's native format, which has no SNI, no "
                "client port, no TLS\nerror and no pinsplice notes: their bumped connections are "
                "counted but not judged,\nrules are not known, and a terminated connection looks "
                "like the first record of a splice\n(%llu CONNECT records without a server "
                "connection). Use the pinsplice logformat.\n",
                (unsigned long long)in->by_format[1],
                (unsigned long long)in->native_connect_nohier);
    if (in->records > 0 && !ps_logscan_can_find(ls))
        fputs("\nNote: no record has client ip:port, %err_code and the TLS version: the search "
              "for apps that\nbreak under bumping had nothing to work with.\n",
              out);
    if (in->pending_early > 0)
        fprintf(out,
                "\nNote: %llu connections were judged before their --window ended because "
                "--max-pending was\nreached.\n",
                (unsigned long long)in->pending_early);
}

static void
text_actions(FILE *out, const struct ps_logscan *ls)
{
    const struct ps_ls_counts *t = ps_logscan_totals(ls);
    const struct ps_ls_input *in = ps_logscan_input(ls);
    int a;

    fprintf(out, "\nConnections by action\n  %-12s %11s %11s %15s %15s\n", "action", "connections",
            "requests", "bytes-out", "bytes-in");
    for (a = 0; a < PS_LS_NACTIONS; a++)
        fprintf(out, "  %-12s %11llu %11llu %15llu %15llu\n", action_label[a],
                (unsigned long long)t->conns[a], (unsigned long long)t->requests[a],
                (unsigned long long)t->bytes_out[a], (unsigned long long)t->bytes_in[a]);
    fprintf(out, "  %-12s %11llu %11llu %15llu %15llu\n", "total",
            (unsigned long long)ps_logmodel_sum(t->conns, PS_LS_NACTIONS),
            (unsigned long long)ps_logmodel_sum(t->requests, PS_LS_NACTIONS),
            (unsigned long long)ps_logmodel_sum(t->bytes_out, PS_LS_NACTIONS),
            (unsigned long long)ps_logmodel_sum(t->bytes_in, PS_LS_NACTIONS));
    fprintf(out, "  connections with a Squid error: %llu\n", (unsigned long long)t->errors);
    fprintf(out,
            "\nBumped connections: %llu went on to carry requests; %llu abandoned by the client "
            "(TLS alert %llu,\n  reset %llu, closed %llu, no request after the handshake %llu); "
            "other TLS errors %llu;\n  outcome unknown %llu%s\n",
            (unsigned long long)t->bump_ok,
            (unsigned long long)ps_logmodel_sum(t->fails, PS_LS_NFAILS),
            (unsigned long long)t->fails[PS_LS_FAIL_ALERT],
            (unsigned long long)t->fails[PS_LS_FAIL_RESET],
            (unsigned long long)t->fails[PS_LS_FAIL_CLOSED],
            (unsigned long long)t->fails[PS_LS_FAIL_NOREQ], (unsigned long long)t->tls_other,
            (unsigned long long)in->bump_unknown,
            in->bump_unknown > 0 && (ps_logscan_formats(ls) & 2u)
                ? " (Squid's native format cannot tell: its requests are counted above)"
                : "");
}

static size_t
limit(size_t n, size_t top)
{
    return top > 0 && top < n ? top : n;
}

static int
text_rules(FILE *out, const struct ps_logscan *ls, size_t top)
{
    struct ps_logmodel_row *rows;
    const struct ps_ls_rule *r;
    size_t n, i;

    if (ps_logmodel_rows(ps_logscan_rules(ls), PS_ORDER_RULE, &rows, &n) < 0)
        return PS_ENOMEM;
    if (n > 0)
        fprintf(out, "\nRules (pinsplice_rule_ note)\n  %11s %8s %8s %9s %8s  %s\n", "connections",
                "splice", "bump", "terminate", "other", "rule");
    for (i = 0; i < limit(n, top); i++) {
        r = rows[i].value;
        fprintf(out, "  %11llu %8llu %8llu %9llu %8llu  ",
                (unsigned long long)ps_logmodel_sum(r->conns, PS_LS_NACTIONS),
                (unsigned long long)r->conns[0], (unsigned long long)r->conns[1],
                (unsigned long long)r->conns[2], (unsigned long long)r->conns[3]);
        key_text(out, rows[i].key, rows[i].len);
        putc('\n', out);
    }
    free(rows);
    return 0;
}

/* Server checks (the pinsplice_verify_ note), when any was logged. */
static void
text_checks(FILE *out, const struct ps_logscan *ls)
{
    const struct ps_ls_input *in = ps_logscan_input(ls);
    uint64_t n = ps_logmodel_sum(in->verify, PS_LS_NVERIFY) + in->verify_other;
    int v;

    if (n == 0)
        return;
    fprintf(out,
            "\nServer checks before splicing (pinsplice_verify_ note): %llu connections\n"
            "  %llu verified and spliced; %llu bumped because the check failed\n",
            (unsigned long long)n, (unsigned long long)in->verify[0],
            (unsigned long long)(n - in->verify[0]));
    for (v = 1; v < PS_LS_NVERIFY; v++)
        if (in->verify[v] > 0)
            fprintf(out, "  %11llu  %s\n", (unsigned long long)in->verify[v],
                    ps_ls_verify_names[v]);
    if (in->verify_other > 0)
        fprintf(out, "  %11llu  (an outcome this version does not know)\n",
                (unsigned long long)in->verify_other);
}

/* Monitor rules (the pinsplice_monitor_ notes): the evidence for switching one to enforce. */
static int
text_monitors(FILE *out, const struct ps_logscan *ls, size_t top)
{
    static const char *const word[PS_LS_NACTIONS] = {"splice", "bump", "terminate", "other"};
    struct ps_logmodel_row *rows;
    const struct ps_ls_monitor *m;
    size_t n, i;
    int a, w;

    if (ps_logmodel_rows(ps_logscan_monitors(ls), PS_ORDER_MONITOR, &rows, &n) < 0)
        return PS_ENOMEM;
    if (n > 0)
        fprintf(out,
                "\nMonitor rules (they change no answer: what they would have done)\n"
                "  matched: connections the rule matched, and what it would have done with them;"
                "\n  spliced, bumped: what the real decision did; of the bumped, abandoned: the "
                "client gave up\n  (the rule would have fixed them), carried: requests went "
                "through (splicing would only\n  lose inspection)\n"
                "  %9s %-9s %9s %9s %10s %9s  %s\n",
                "matched", "would", "spliced", "bumped", "abandoned", "carried", "rule");
    for (i = 0; i < limit(n, top); i++) {
        m = rows[i].value;
        for (w = 0, a = 1; a < PS_LS_NACTIONS; a++)
            if (m->would[a] > m->would[w])
                w = a;
        fprintf(out, "  %9llu %-9s %9llu %9llu %10llu %9llu  ",
                (unsigned long long)ps_logmodel_sum(m->would, PS_LS_NACTIONS), word[w],
                (unsigned long long)m->conns[PS_LS_SPLICE],
                (unsigned long long)m->conns[PS_LS_BUMP], (unsigned long long)m->abandoned,
                (unsigned long long)m->carried);
        key_text(out, rows[i].key, rows[i].len);
        putc('\n', out);
    }
    free(rows);
    return 0;
}

static int
text_names(FILE *out, const struct ps_logscan *ls, size_t top, bool spliced)
{
    struct ps_logmodel_row *rows;
    const struct ps_ls_counts *c;
    size_t n, i;

    if (ps_logmodel_rows(ps_logscan_names(ls), spliced ? PS_ORDER_SPLICED : PS_ORDER_BUMPED, &rows,
                         &n) < 0)
        return PS_ENOMEM;
    if (n > 0 && spliced)
        fprintf(out, "\nTop spliced names (%zu of %zu)\n  %11s %15s %15s  %s\n", limit(n, top), n,
                "connections", "bytes-out", "bytes-in", "name");
    else if (n > 0)
        fprintf(out, "\nTop bumped names (%zu of %zu)\n  %11s %8s %9s %9s %15s  %s\n",
                limit(n, top), n, "connections", "ok", "abandoned", "requests", "bytes-out",
                "name");
    for (i = 0; i < limit(n, top); i++) {
        c = rows[i].value;
        if (spliced)
            fprintf(out, "  %11llu %15llu %15llu  ", (unsigned long long)c->conns[PS_LS_SPLICE],
                    (unsigned long long)c->bytes_out[PS_LS_SPLICE],
                    (unsigned long long)c->bytes_in[PS_LS_SPLICE]);
        else
            fprintf(out, "  %11llu %8llu %9llu %9llu %15llu  ",
                    (unsigned long long)c->conns[PS_LS_BUMP], (unsigned long long)c->bump_ok,
                    (unsigned long long)ps_logmodel_sum(c->fails, PS_LS_NFAILS),
                    (unsigned long long)c->requests[PS_LS_BUMP],
                    (unsigned long long)c->bytes_out[PS_LS_BUMP]);
        key_text(out, rows[i].key, rows[i].len);
        putc('\n', out);
    }
    free(rows);
    return 0;
}

static int
text_clients(FILE *out, const struct ps_logscan *ls, size_t top)
{
    struct ps_logmodel_row *rows;
    const struct ps_ls_counts *c;
    size_t n, i;

    if (ps_logmodel_rows(ps_logscan_clients(ls), PS_ORDER_CONNS, &rows, &n) < 0)
        return PS_ENOMEM;
    if (n > 0)
        fprintf(out, "\nTop clients (%zu of %zu)\n  %11s %8s %8s %10s %9s %9s %15s  %s\n",
                limit(n, top), n, "connections", "spliced", "bumped", "terminated", "abandoned",
                "requests", "bytes-out", "client");
    for (i = 0; i < limit(n, top); i++) {
        c = rows[i].value;
        fprintf(out, "  %11llu %8llu %8llu %10llu %9llu %9llu %15llu  ",
                (unsigned long long)ps_logmodel_sum(c->conns, PS_LS_NACTIONS),
                (unsigned long long)c->conns[PS_LS_SPLICE],
                (unsigned long long)c->conns[PS_LS_BUMP],
                (unsigned long long)c->conns[PS_LS_TERMINATE],
                (unsigned long long)ps_logmodel_sum(c->fails, PS_LS_NFAILS),
                (unsigned long long)ps_logmodel_sum(c->requests, PS_LS_NACTIONS),
                (unsigned long long)ps_logmodel_sum(c->bytes_out, PS_LS_NACTIONS));
        key_text(out, rows[i].key, rows[i].len);
        putc('\n', out);
    }
    free(rows);
    return 0;
}

static void
text_item(FILE *out, const struct ps_logfind_item *it, bool status)
{
    const struct ps_ls_counts *c = &it->stats->c;
    const struct ps_ls_failinfo *fi = it->stats->fail;
    char t1[32], t2[32], an[40];
    uint8_t k;

    fprintf(out, "  %9llu %6llu %6llu %6llu %7llu %6llu %6.2f %7u%c  %s  %s  ",
            (unsigned long long)it->failures, (unsigned long long)c->fails[PS_LS_FAIL_ALERT],
            (unsigned long long)c->fails[PS_LS_FAIL_RESET],
            (unsigned long long)c->fails[PS_LS_FAIL_CLOSED],
            (unsigned long long)c->fails[PS_LS_FAIL_NOREQ], (unsigned long long)c->bump_ok,
            it->ratio, fi->n_clients, fi->clients_capped ? '+' : ' ',
            ps_logmodel_time(fi->first_ms, false, t1), ps_logmodel_time(fi->last_ms, false, t2));
    ps_logmodel_text(out, it->name, strlen(it->name));
    fputs("\n             clients:", out);
    for (k = 0; k < fi->n_examples; k++)
        fprintf(out, " %s", fi->example[k]);
    if (fi->n_clients > fi->n_examples)
        fputs(" ...", out);
    for (k = 0; k < fi->n_alerts; k++)
        fprintf(out, "%s %s x%llu", k == 0 ? "; alerts:" : ",",
                ps_tlsalert_name(fi->alert[k], an, sizeof(an)),
                (unsigned long long)fi->alert_count[k]);
    if (c->conns[PS_LS_SPLICE] > 0)
        fprintf(out, "; spliced %llu", (unsigned long long)c->conns[PS_LS_SPLICE]);
    if (status)
        fprintf(out, "; %s",
                it->suspect   ? "SUSPECT"
                : it->handled ? "handled"
                              : "below thresholds");
    if (it->handled)
        fprintf(out, " by %s", it->handled_by);
    putc('\n', out);
}

static void
text_findings(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items, size_t n,
              const struct ps_logreport_opts *o)
{
    size_t i, suspects = 0, handled = 0, shown = 0;

    for (i = 0; i < n; i++) {
        suspects += items[i].suspect;
        handled += items[i].handled;
    }
    if (!ps_logscan_can_find(ls)) {
        fputs("\nApps that break under bumping: NOT JUDGED: no record has client ip:port, "
              "%err_code and the\n  TLS version (the pinsplice logformat has them); exit "
              "status 3\n",
              out);
        return;
    }
    fprintf(out, "\nApps that break under bumping: %zu suspect name%s", suspects,
            suspects == 1 ? "" : "s");
    if (o->find != NULL)
        fprintf(out, " (--min-failures %llu --min-clients %u --min-ratio %.2f)",
                (unsigned long long)o->find->min_failures, o->find->min_clients,
                o->find->min_ratio);
    putc('\n', out);
    for (i = 0; i < n; i++) {
        if (!items[i].suspect && !o->all)
            continue;
        if (shown++ == 0)
            fprintf(out, "  %9s %6s %6s %6s %7s %6s %6s %8s  %-19s  %-19s  %s\n", "abandoned",
                    "alert", "reset", "closed", "no-req", "ok", "ratio", "clients", "first seen",
                    "last seen", "name");
        text_item(out, &items[i], o->all);
    }
    if (!o->all && n > suspects)
        fprintf(out,
                "  %zu more name%s with abandoned connections: %zu below the thresholds, "
                "%zu handled by the rules\n  (--all lists them)\n",
                n - suspects, n - suspects == 1 ? "" : "s", n - suspects - handled, handled);
    if (o->db != NULL) {
        fputs("  Rules DB: ", out);
        ps_logmodel_text(out, o->db, strlen(o->db));
        fputs(" (names it no longer bumps are not suspects)\n", out);
    } else {
        fprintf(out, "  Rules DB: %s: names a rule already splices are not filtered out (--db)\n",
                o->db_note != NULL ? o->db_note : "not given");
    }
    if (suspects > 0)
        fputs("  Nothing was changed. `pinsplice logscan --sql ...` prints the statements that "
              "would add bypass\n  rules, for you to review and apply.\n",
              out);
}

int
ps_logtext_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                 size_t n, const struct ps_logreport_opts *o)
{
    fputs("pinsplice logscan report\n", out);
    text_input(out, ls);
    text_notes(out, ls);
    text_actions(out, ls);
    if (text_rules(out, ls, o->top) < 0)
        return PS_ENOMEM;
    text_checks(out, ls);
    if (text_monitors(out, ls, o->top) < 0 || text_names(out, ls, o->top, true) < 0 ||
        text_names(out, ls, o->top, false) < 0 || text_clients(out, ls, o->top) < 0)
        return PS_ENOMEM;
    text_findings(out, ls, items, n, o);
    return 0;
}
