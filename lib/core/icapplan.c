/*
 * The ICAP plan (icapreq.h): one decision for one request's facts, and everything the c-icap
 * service (module/srv_pinsplice.c) answers for it.
 *
 * Squid 5.7 does not turn ICAP response headers into annotations, so the decision travels in the
 * adapted CONNECT request itself: the service removes any copy of the decision header the client
 * sent, adds "X-Pinsplice-Action: splice|terminate" and answers 200; squid.conf matches it with a
 * req_header acl (squid-conf/pinsplice-icap.conf). A bump needs no header: the snippet bumps
 * every CONNECT without one (its fail-closed answer), so a bump is answered 204 (unmodified),
 * which spares c-icap a write and two polls (bench/README.md, "ICAP"), unless the client sent a
 * copy of the header (the snippet refuses those before ICAP; if one gets here anyway it is
 * removed and "bump" added, 200). Every decided CONNECT, 200 or 204, carries the
 * X-Pinsplice-Action/-Rule ICAP headers and the log attributes.
 * Everything that is not a CONNECT gets 204 at once.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "icapreq.h"

static void
xheader(struct ps_icap_plan *p, const char *name, const char *value)
{
    if (p->n_xheaders < PS_ICAP_XHEADERS_MAX &&
        ps_icapreq_header_line(name, value, p->xheaders[p->n_xheaders], PS_ICAP_LINE_MAX, NULL) ==
            0)
        p->n_xheaders++;
}

static void
attr(struct ps_icap_plan *p, const char *name, const char *value)
{
    if (p->n_attrs < PS_ICAP_ATTRS_MAX) {
        p->attrs[p->n_attrs].name = name;
        p->attrs[p->n_attrs].value = value;
        p->n_attrs++;
    }
}

/* The decision as answered, when nothing may be decided: a malformed CONNECT, or client copies
 * of the decision header that could not be removed. */
static void
bad_input(struct ps_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->action = PS_ACTION_BUMP;
    d->reason = PS_REASON_BAD_INPUT;
}

/* The query a well-formed CONNECT asks. Its strings point into f. */
static void
make_query(const struct ps_icap_facts *f, struct ps_query *q)
{
    memset(q, 0, sizeof(*q));
    q->host = f->target;
    q->sni_unseen = true; /* REQMOD comes before any TLS byte: settings.no_sni_action is moot */
    q->client_ip = f->client_ip;
    q->program = f->program;
    q->user = f->user;
}

void
ps_icap_plan(const struct ps_icap_facts *f, const struct ps_icap_config *cfg,
             const struct ps_snapshot *snap, struct ps_decision *d, struct ps_icap_plan *p)
{
    const char *act;
    struct ps_query q;

    p->status = 204;
    p->action = PS_ACTION_BUMP;
    p->http_header[0] = '\0';
    p->n_xheaders = p->n_attrs = 0;
    p->rule[0] = p->host[0] = p->monitor_rule[0] = '\0';
    if (f->kind != PS_ICAP_CONNECT || f->client_copies < 0) {
        bad_input(d);
        if (f->kind == PS_ICAP_OTHER)
            return;
    } else {
        make_query(f, &q);
        ps_decide(snap, &q, d);
        ps_decide_fail_open(d, cfg->fail_open);
    }
    p->action = d->action;
    /* Copies of what points into the snapshot (the rule names), escaped for headers and log. */
    if (ps_icapreq_rule_label(d, p->rule, sizeof(p->rule), NULL) < 0)
        snprintf(p->rule, sizeof(p->rule), "(label-too-long)");
    if (ps_icapreq_escape(d->server_name, p->host, sizeof(p->host), NULL) < 0)
        p->host[0] = '\0';
    act = ps_action_str(d->action);
    xheader(p, PS_ICAP_ACTION_HEADER, act);
    xheader(p, PS_ICAP_RULE_HEADER, p->rule);
    if (d->monitor_rule != NULL) {
        const char *mon_act = ps_action_str(d->monitor_action);
        if (ps_icapreq_escape(d->monitor_rule, p->monitor_rule, sizeof(p->monitor_rule), NULL) < 0)
            snprintf(p->monitor_rule, sizeof(p->monitor_rule), "(label-too-long)");
        xheader(p, PS_ICAP_MONITOR_HEADER, mon_act);
        xheader(p, PS_ICAP_MONITOR_RULE_HEADER, p->monitor_rule);
        attr(p, "pinsplice:monitor", mon_act);
        attr(p, "pinsplice:monitor_rule", p->monitor_rule);
    }
    attr(p, "pinsplice:action", act);
    attr(p, "pinsplice:rule", p->rule);
    attr(p, "pinsplice:reason", ps_reason_str(d->reason));
    attr(p, "pinsplice:host", p->host[0] != '\0' ? p->host : "-");
    if (!ps_icapreq_needs_header(d->action, f->client_copies))
        return;
    p->status = 200;
    if (ps_icapreq_header_line(cfg->decision_header, act, p->http_header, sizeof(p->http_header),
                               NULL) < 0)
        p->http_header[0] = '\0';
}
