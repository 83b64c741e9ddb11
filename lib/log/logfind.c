#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "err.h"
#include "logfind.h"
#include "logmodel.h"
#include "logscan.h"
#include "logtab.h"
#include "name.h"
#include "tlsalert.h"

void
ps_logfind_opts_init(struct ps_logfind_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->min_failures = PS_LOGFIND_MIN_FAILURES;
    o->min_clients = PS_LOGFIND_MIN_CLIENTS;
    o->min_ratio = PS_LOGFIND_MIN_RATIO;
}

static uint64_t
failures(const struct ps_ls_name *nm)
{
    uint64_t n = 0;
    int k;

    for (k = 0; k < PS_LS_NFAILS; k++)
        n += nm->c.fails[k];
    return n;
}

/* Would the rules still bump this name today? Fills handled_by when not. */
static void
check_rules(const struct ps_logfind_opts *o, struct ps_logfind_item *it)
{
    struct ps_query q;
    struct ps_decision d;

    if (o->snap == NULL)
        return;
    memset(&q, 0, sizeof(q));
    q.sni = it->name;
    q.host = it->name;
    q.client_ip = it->stats->fail->n_examples > 0 ? it->stats->fail->example[0] : NULL;
    ps_decide(o->snap, &q, &d);
    if (d.action == PS_ACTION_BUMP)
        return;
    it->handled = true;
    if (d.reason == PS_REASON_RULE && d.rule_name != NULL)
        snprintf(it->handled_by, sizeof(it->handled_by), "rule '%.180s' (%s)", d.rule_name,
                 ps_action_str(d.action));
    else
        snprintf(it->handled_by, sizeof(it->handled_by), "%s (%s)", ps_reason_str(d.reason),
                 ps_action_str(d.action));
}

static int
cmp_items(const void *a, const void *b)
{
    const struct ps_logfind_item *x = a, *y = b;

    if (x->suspect != y->suspect)
        return x->suspect ? -1 : 1;
    if (x->failures != y->failures)
        return x->failures > y->failures ? -1 : 1;
    return strcmp(x->name, y->name);
}

int
ps_logfind_run(const struct ps_logscan *ls, const struct ps_logfind_opts *o,
               struct ps_logfind_item **out, size_t *n, struct ps_err *err)
{
    const struct ps_logtab *names = ps_logscan_names(ls);
    struct ps_logfind_item *items = NULL, *it;
    const struct ps_ls_name *nm;
    char norm[PS_NAME_MAX + 1];
    enum ps_name_kind kind;
    size_t pos = 0, count = 0, len;
    const char *key;

    while ((nm = ps_logtab_next(names, &pos)) != NULL)
        count += nm->fail != NULL;
    if (count > 0 && (items = calloc(count, sizeof(*items))) == NULL)
        return ps_err_set(err, PS_ENOMEM, "out of memory");
    count = 0;
    pos = 0;
    while ((nm = ps_logtab_next(names, &pos)) != NULL) {
        if (nm->fail == NULL)
            continue;
        key = ps_logtab_key(names, nm, &len);
        /* Only names a domain rule can match (the key is already lower case, no dot at the end). */
        if (ps_name_normalize(key, len, norm, &kind, NULL) < 0 || kind != PS_NAME_DOMAIN ||
            strcmp(norm, key) != 0)
            continue;
        it = &items[count++];
        it->name = key;
        it->stats = nm;
        it->failures = failures(nm);
        it->ratio = (double)it->failures / (double)(it->failures + nm->c.bump_ok);
        it->clients = nm->fail->n_clients + (nm->fail->clients_capped ? 1 : 0);
        check_rules(o, it);
        it->suspect = !it->handled && it->failures >= o->min_failures &&
                      it->clients >= o->min_clients && it->ratio >= o->min_ratio;
    }
    if (count > 1)
        qsort(items, count, sizeof(*items), cmp_items);
    if (count == 0) {
        free(items);
        items = NULL;
    }
    *out = items;
    *n = count;
    return 0;
}

/* ---- SQL ------------------------------------------------------------------------------------ */

#define RULE_NAME_MAX 200 /* rules.name CHECK in sql/schema.sql */

/* Evidence for one name, as SQL comment lines. */
static void
sql_evidence(FILE *out, const struct ps_logfind_item *it)
{
    const struct ps_ls_counts *c = &it->stats->c;
    const struct ps_ls_failinfo *fi = it->stats->fail;
    char t1[32], t2[32], an[40];
    uint8_t k;

    fprintf(out,
            "-- %s: %llu abandoned bumped connections (TLS alert %llu, reset %llu, closed %llu,"
            " no request %llu),\n--   %llu with requests (failure ratio %.2f), from %u%s client%s:",
            it->name, (unsigned long long)it->failures,
            (unsigned long long)c->fails[PS_LS_FAIL_ALERT],
            (unsigned long long)c->fails[PS_LS_FAIL_RESET],
            (unsigned long long)c->fails[PS_LS_FAIL_CLOSED],
            (unsigned long long)c->fails[PS_LS_FAIL_NOREQ], (unsigned long long)c->bump_ok,
            it->ratio, fi->n_clients, fi->clients_capped ? "+" : "", fi->n_clients == 1 ? "" : "s");
    for (k = 0; k < fi->n_examples; k++)
        fprintf(out, " %s", fi->example[k]);
    if (fi->n_clients > fi->n_examples)
        fputs(" ...", out);
    fprintf(out, "\n--   first %s, last %s UTC", ps_logmodel_time(fi->first_ms, false, t1),
            ps_logmodel_time(fi->last_ms, false, t2));
    for (k = 0; k < fi->n_alerts; k++)
        fprintf(out, "%s %s x%llu", k == 0 ? "; alerts:" : ",",
                ps_tlsalert_name(fi->alert[k], an, sizeof(an)),
                (unsigned long long)fi->alert_count[k]);
    fputs("\n", out);
}

void
ps_logfind_sql_opts_init(struct ps_logfind_sql_opts *so)
{
    memset(so, 0, sizeof(*so));
    so->expires_days = PS_LOGFIND_EXPIRES_DAYS;
}

/* s as an SQL string literal: quotes doubled. */
static void
sql_str(FILE *out, const char *s)
{
    putc('\'', out);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            putc('\'', out);
        putc(*s, out);
    }
    putc('\'', out);
}

/* The evidence says the name works under bumping for others: scope the rule to the clients
 * that failed (all of them known). */
static bool
scoped(const struct ps_logfind_item *it)
{
    const struct ps_ls_failinfo *fi = it->stats->fail;

    return !fi->clients_capped && fi->n_clients > 0 && fi->n_examples == fi->n_clients &&
           it->stats->c.bump_ok > 0;
}

/* The rule's expiry and mode, through edit_rule (which refuses a rule that does not exist). */
static void
sql_rule_settings(FILE *out, const char *rule, const struct ps_logfind_sql_opts *so)
{
    if (so->expires_days > 0) {
        fputs("INSERT INTO edit_rule (rule, field, value) VALUES (", out);
        sql_str(out, rule);
        fprintf(out, ", 'expires_at', datetime('now', '+%d days'));\n", so->expires_days);
    }
    if (so->monitor) {
        fputs("INSERT INTO edit_rule (rule, field, value) VALUES (", out);
        sql_str(out, rule);
        fputs(", 'mode', 'monitor');\n", out);
    }
}

size_t
ps_logfind_sql(FILE *out, const struct ps_logfind_item *items, size_t n,
               const struct ps_logfind_opts *o, const struct ps_logfind_sql_opts *so)
{
    struct ps_logfind_sql_opts defaults;
    const struct ps_ls_failinfo *fi;
    char stamp[32], rule[RULE_NAME_MAX + 1];
    size_t i, written = 0, len, keep;
    const char *app;
    time_t now;
    uint8_t k;

    if (so == NULL) {
        ps_logfind_sql_opts_init(&defaults);
        so = &defaults;
    }
    now = so->now != 0 ? so->now : time(NULL);
    ps_logmodel_time((int64_t)now * 1000, false, stamp);
    fprintf(
        out,
        "-- pinsplice logscan: suggested bypass rules, %s UTC.\n"
        "-- Thresholds: --min-failures %llu --min-clients %u --min-ratio %.2f.\n"
        "-- REVIEW BEFORE APPLYING. A failed handshake is evidence, not proof: a transient\n"
        "-- network error, a client without the proxy CA, or a client faking failures on\n"
        "-- purpose produce the same records. Splicing a name stops inspecting its traffic.\n"
        "-- Nothing has been changed. Apply with:  sqlite3 /path/to/rules.db < THIS_FILE\n"
        "-- Every statement goes through the management views (their checks, the audit). A new\n"
        "-- rule is placed last: a rule above it that bumps the name still wins. exact = 1\n"
        "-- bypasses the name only; set 0 to cover its subdomains too.\n",
        stamp, (unsigned long long)o->min_failures, o->min_clients, o->min_ratio);
    if (so->expires_days > 0)
        fprintf(out, "-- Each rule expires %d days after it is applied (--expires 0: never).\n",
                so->expires_days);
    else
        fputs("-- The rules never expire (--expires 0).\n", out);
    if (so->monitor)
        fputs("-- Each rule starts in monitor mode: it changes no answer, and `pinsplice logscan`\n"
              "-- shows what it would have done. Switch it on with\n"
              "--   INSERT INTO edit_rule (rule, field, value) VALUES ('...', 'mode', 'enforce');\n",
              out);
    if (so->apps == NULL)
        fputs("-- The app catalogue was not consulted (no rules DB): a name a catalogue app covers\n"
              "-- gets a rule of its own here.\n",
              out);
    for (i = 0; i < n; i++) {
        if (!items[i].suspect)
            continue;
        if (written++ == 0)
            fputs("BEGIN;\n", out);
        fputs("\n", out);
        sql_evidence(out, &items[i]);
        app = so->apps != NULL ? so->apps[i] : NULL;
        if (app != NULL && app[0] != '\0') {
            fputs("-- The catalogue app ", out);
            sql_str(out, app);
            fprintf(out, " covers %s: enable the app (all its domains) rather than a new rule.\n",
                    items[i].name);
            fputs("INSERT INTO enable_app (app, by) VALUES (", out);
            sql_str(out, app);
            fputs(", 'domain');\n", out);
            snprintf(rule, sizeof(rule), "App: %s", app);
            sql_rule_settings(out, rule, so);
            continue;
        }
        len = strlen(items[i].name);
        /* "logscan: NAME", keeping the end of an over-long name (the registrable part). */
        keep = len > RULE_NAME_MAX - 9 ? RULE_NAME_MAX - 9 : len;
        snprintf(rule, sizeof(rule), "logscan: %s", items[i].name + (len - keep));
        fputs("INSERT INTO add_domain (rule, domain, exact, action, comment) VALUES (", out);
        sql_str(out, rule);
        fprintf(out,
                ", '%s', 1, 'splice', 'suggested by pinsplice logscan on %.10s: %llu abandoned "
                "bumped connections');\n",
                items[i].name, stamp, (unsigned long long)items[i].failures);
        fi = items[i].stats->fail;
        if (scoped(&items[i])) {
            fprintf(out,
                    "-- Only these clients failed, and %llu other bumped connection%s to the name "
                    "carried\n-- requests: the rule covers them only (delete these lines to "
                    "cover everyone).\n",
                    (unsigned long long)items[i].stats->c.bump_ok,
                    items[i].stats->c.bump_ok == 1 ? "" : "s");
            for (k = 0; k < fi->n_examples; k++) {
                fputs("INSERT INTO add_source (rule, source, comment) VALUES (", out);
                sql_str(out, rule);
                fputs(", ", out);
                sql_str(out, fi->example[k]);
                fputs(", 'failed under bumping');\n", out);
            }
        }
        sql_rule_settings(out, rule, so);
    }
    if (written > 0)
        fputs("\nCOMMIT;\n", out);
    else
        fputs("-- No name passes the thresholds: nothing to suggest.\n", out);
    return written;
}
