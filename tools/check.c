/* `pinsplice check`: decide one connection as the helper would, and say why. */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "pinsplice.h"

/* The server check of an IP-literal splice (lib/core/decide.h): not needed, needed but not run, or
 * run (--verify). */
struct vcheck {
    bool needed, ran;
    struct ps_verify_target t;
    struct ps_verify_result r;
};

static void
print_verify_text(const struct vcheck *v)
{
    char a[32];

    if (!v->needed)
        return;
    printf("check:       %s%s%s%s:%u as %s\n", v->ran ? "" : "needed before splicing: ",
           strchr(v->t.addr, ':') ? "[" : "", v->t.addr, strchr(v->t.addr, ':') ? "]" : "",
           v->t.port, v->t.sni);
    if (!v->ran) {
        printf("             (--verify runs it now)\n");
        return;
    }
    printf("verdict:     %s (%s, %ld ms)\n", ps_verify_reason(v->r.verdict), v->r.detail,
           v->r.elapsed_ms);
    if (v->r.subject[0] != '\0') {
        printf("subject:     %s\n", v->r.subject);
        printf("SAN:         %s\n", v->r.san[0] ? v->r.san : "none");
        printf("issuer:      %s\n", v->r.issuer);
        ps_cli_utc(v->r.not_after, a);
        printf("not after:   %s\n", a);
    }
}

static void
print_verify_json(const struct vcheck *v)
{
    char when[32], target[PS_VERIFY_TARGET_ADDR + 16];

    fputs(",\"check\":", stdout);
    if (!v->needed) {
        fputs("null", stdout);
        return;
    }
    snprintf(target, sizeof(target), "%s%s%s:%u", strchr(v->t.addr, ':') ? "[" : "", v->t.addr,
             strchr(v->t.addr, ':') ? "]" : "", v->t.port);
    fputs("{\"target\":", stdout);
    ps_cli_json_str(stdout, target);
    fputs(",\"name\":", stdout);
    ps_cli_json_str(stdout, v->t.sni);
    if (!v->ran) {
        fputs(",\"verdict\":null}", stdout);
        return;
    }
    printf(",\"verdict\":\"%s\",\"detail\":", ps_verify_reason(v->r.verdict));
    ps_cli_json_str(stdout, v->r.detail);
    fputs(",\"subject\":", stdout);
    ps_cli_json_str(stdout, v->r.subject[0] ? v->r.subject : NULL);
    fputs(",\"san\":", stdout);
    ps_cli_json_str(stdout, v->r.san[0] ? v->r.san : NULL);
    fputs(",\"issuer\":", stdout);
    ps_cli_json_str(stdout, v->r.issuer[0] ? v->r.issuer : NULL);
    fputs(",\"not_after\":", stdout);
    if (v->r.not_after != 0) {
        ps_cli_utc(v->r.not_after, when);
        ps_cli_json_str(stdout, when);
    } else {
        fputs("null", stdout);
    }
    printf(",\"elapsed_ms\":%ld}", v->r.elapsed_ms);
}

/* The Unicode-to-A-label mappings the CLI applied to --sni / --host (the Squid paths accept only
 * ASCII: lib/core/name.h). */
struct mapped {
    const char *sni_in, *host_in; /* NULL: not mapped */
    char sni[PS_NAME_ASCII_MAX], host[PS_NAME_ASCII_MAX];
};

/* Map a Unicode --sni / --host for the user; a name that cannot be mapped stays as given and is
 * then decided as the bad name it is. */
static void
map_names(struct ps_query *q, struct mapped *m)
{
    struct ps_err err = {0, ""};

    if (ps_name_to_ascii(q->sni, false, m->sni, &err) == 1) {
        m->sni_in = q->sni;
        q->sni = m->sni;
    }
    if (ps_name_to_ascii(q->host, true, m->host, &err) == 1) {
        m->host_in = q->host;
        q->host = m->host;
    }
}

static void
print_mapped_text(const struct mapped *m)
{
    if (m->sni_in != NULL) {
        fputs("mapped:      sni '", stdout);
        ps_cli_text_str(stdout, m->sni_in);
        printf("' -> '%s' (UTS#46; Squid would bump the Unicode name as bad-name)\n", m->sni);
    }
    if (m->host_in != NULL) {
        fputs("mapped:      host '", stdout);
        ps_cli_text_str(stdout, m->host_in);
        printf("' -> '%s' (UTS#46; Squid would bump the Unicode name as bad-name)\n", m->host);
    }
}

/* Only when a name was mapped (the usual ASCII answer keeps its shape). */
static void
print_mapped_json(const struct mapped *m)
{
    if (m->sni_in == NULL && m->host_in == NULL)
        return;
    fputs(",\"mapped\":{\"sni\":", stdout);
    ps_cli_json_str(stdout, m->sni_in != NULL ? m->sni : NULL);
    fputs(",\"host\":", stdout);
    ps_cli_json_str(stdout, m->host_in != NULL ? m->host : NULL);
    fputs("}", stdout);
}

static void
print_text(const struct ps_decision *d)
{
    static const char *const labels[] = {"domain:", "program:", "category:", "source:",
                                         "destination:"};
    const char *matched[] = {d->m_domain, d->m_program, d->m_category, d->m_source,
                             d->m_destination};
    char when[32];
    size_t i;

    printf("action:      %s\n", ps_action_str(d->action));
    if (d->rule_name != NULL) {
        fputs("rule:        ", stdout);
        ps_cli_text_str(stdout, d->rule_name); /* the DB's text: no raw control bytes */
        printf(" (id %lld)\n", (long long)d->rule_id);
    } else
        /* "(default)": the label the ICAP header and logscan give the default too. */
        printf("rule:        none%s\n", d->reason == PS_REASON_DEFAULT ? " (default)" : "");
    if (d->reason == PS_REASON_UNVERIFIED && d->detail != NULL && strrchr(d->detail, ' '))
        printf("reason:      %s (%s)\n", ps_reason_str(d->reason), strrchr(d->detail, ' ') + 1);
    else {
        printf("reason:      %s%s", ps_reason_str(d->reason), d->detail ? ": " : "");
        ps_cli_text_str(stdout, d->detail ? d->detail : "");
        putchar('\n');
    }
    printf("server name: %s\n", d->server_name[0] ? d->server_name : "none");
    for (i = 0; i < 5; i++)
        if (matched[i] != NULL) {
            printf("%-12s ", labels[i]);
            ps_cli_text_str(stdout, matched[i]);
            putchar('\n');
        }
    /* A monitor rule never decides: what it would have done, beside the real decision. */
    if (d->monitor_rule != NULL) {
        printf("monitor:     %s by ", ps_action_str(d->monitor_action));
        ps_cli_text_str(stdout, d->monitor_rule);
        printf(" (id %lld; mode monitor: not applied)\n", (long long)d->monitor_rule_id);
    }
    if (d->rule_name == NULL)
        return;
    if (d->expires_at == 0) {
        printf("expires:     never\n");
        return;
    }
    ps_cli_utc(d->expires_at, when);
    printf("expires:     %s\n", when);
}

static void
print_json(const struct ps_decision *d, const struct vcheck *v, const struct mapped *m)
{
    char when[32];

    printf("{\"action\":\"%s\",\"rule\":", ps_action_str(d->action));
    ps_cli_json_str(stdout, d->rule_name);
    if (d->rule_name != NULL)
        printf(",\"rule_id\":%lld", (long long)d->rule_id);
    else
        fputs(",\"rule_id\":null", stdout);
    printf(",\"reason\":\"%s\",\"detail\":", ps_reason_str(d->reason));
    ps_cli_json_str(stdout, d->detail);
    fputs(",\"matched\":{\"domain\":", stdout);
    ps_cli_json_str(stdout, d->m_domain);
    fputs(",\"program\":", stdout);
    ps_cli_json_str(stdout, d->m_program);
    fputs(",\"category\":", stdout);
    ps_cli_json_str(stdout, d->m_category);
    fputs(",\"source\":", stdout);
    ps_cli_json_str(stdout, d->m_source);
    fputs(",\"destination\":", stdout);
    ps_cli_json_str(stdout, d->m_destination);
    fputs("},\"monitor\":", stdout);
    if (d->monitor_rule != NULL) {
        printf("{\"action\":\"%s\",\"rule\":", ps_action_str(d->monitor_action));
        ps_cli_json_str(stdout, d->monitor_rule);
        printf(",\"rule_id\":%lld}", (long long)d->monitor_rule_id);
    } else {
        fputs("null", stdout);
    }
    fputs(",\"server_name\":", stdout);
    ps_cli_json_str(stdout, d->server_name[0] ? d->server_name : NULL);
    fputs(",\"expires_at\":", stdout);
    if (d->expires_at != 0) {
        ps_cli_utc(d->expires_at, when);
        ps_cli_json_str(stdout, when);
    } else {
        fputs("null", stdout);
    }
    print_verify_json(v);
    print_mapped_json(m);
    printf(",\"settings\":{\"no_sni_action\":\"%s\",\"ip_sni_action\":\"%s\","
           "\"splice_verify\":\"%s\"}}\n",
           d->settings.no_sni_action, d->settings.ip_sni_action, d->settings.splice_verify);
}

int
ps_cmd_check(int argc, char **argv)
{
    const char *db = NULL, *path;
    struct ps_query q = {NULL, NULL, NULL, NULL, NULL, 0, false};
    bool json = false, verify = false;
    struct vcheck v = {0};
    struct mapped m = {0};
    const struct ps_cli_opt opts[] = {
        {"db", &db, NULL},           {"sni", &q.sni, NULL},   {"host", &q.host, NULL},
        {"src", &q.client_ip, NULL}, {"user", &q.user, NULL}, {"program", &q.program, NULL},
        {"json", NULL, &json},       {"verify", NULL, &verify},
    };
    struct ps_snapshot *snap = NULL;
    struct ps_decision d;
    struct ps_err err = {0, ""};
    int rc;

    rc = ps_cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
    if (rc == PS_CLI_HELP)
        return ps_cli_help(argv[0], stdout);
    if (rc != 0)
        return rc;
    if (!q.sni && !q.host && !q.client_ip && !q.user && !q.program) {
        ps_cli_error(argv[0],
                     "say what to decide: --sni, --host, --src, --user or --program\n"
                     "Try 'pinsplice help %s'.",
                     argv[0]);
        return PS_EXIT_ERROR;
    }
    path = ps_cli_db_path(db);
    if (ps_store_load(path, 2000, &snap, &err) < 0) {
        ps_cli_error(argv[0], "%s", err.msg);
        return PS_EXIT_ERROR;
    }
    map_names(&q, &m);
    ps_decide(snap, &q, &d);
    v.needed = ps_decide_verify_target(snap, &q, &d, &v.t);
    if (v.needed && verify) {
        signal(SIGPIPE, SIG_IGN); /* the server may close first */
        if (v.t.trust == NULL) {
            v.r.verdict = PS_VERIFY_ERROR;
            snprintf(v.r.detail, sizeof(v.r.detail), "verify_ca_file cannot be read");
        } else {
            ps_verify_run(v.t.addr, v.t.port, v.t.sni, v.t.trust, v.t.timeout_ms, &v.r);
        }
        v.ran = true;
        ps_decide_verified(&d, v.r.verdict);
    }
    if (json)
        print_json(&d, &v, &m);
    else {
        print_mapped_text(&m);
        print_text(&d);
        print_verify_text(&v);
    }
    ps_snapshot_release(snap);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ps_cli_error(argv[0], "writing the answer failed");
        return PS_EXIT_ERROR;
    }
    return PS_EXIT_OK;
}
