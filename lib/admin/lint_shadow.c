/* lint_shadow.c: the linter's checks on the loaded snapshot: expired and shadowed rules. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "err.h"
#include "keytab.h"
#include "lint.h"
#include "lint_int.h"
#include "snapshot.h"
#include "text.h"

/* ---- checks on the loaded snapshot ----------------------------------------------------------- */

static void
fmt_time(int64_t t, char out[32])
{
    if (!ps_utc_format(t, "%Y-%m-%d %H:%M:%S UTC", out, 32))
        snprintf(out, 32, "%lld", (long long)t);
}

/* Evaluation order of every enabled rule: rule id -> snapshot index. */
static int
snap_order(const struct ps_snapshot *snap, struct ps_keytab *order)
{
    size_t i, n = ps_snapshot_nrules(snap);

    for (i = 0; i < n; i++)
        if (ps_keytab_put(order, (uint64_t)ps_snapshot_rule(snap, i)->id, "", 0, i, NULL) < 0)
            return PS_ENOMEM;
    return 0;
}

static int
check_expired(struct ps_lint *l, const struct ps_snapshot *snap, time_t now)
{
    const struct ps_rule *sr;
    char when[32];
    size_t i, r;
    int rc = 0;

    for (i = 0; i < ps_snapshot_nrules(snap) && rc == 0; i++) {
        sr = ps_snapshot_rule(snap, i);
        if (sr->expires_at == 0 || sr->expires_at > (int64_t)now ||
            !ps_keytab_get(l->ruleids, (uint64_t)sr->id, "", 0, &r))
            continue;
        fmt_time(sr->expires_at, when);
        rc = ps_lint_note(l, PS_LINT_WARNING, "expired", r, SIZE_MAX,
                          "rule expired at %s: it matches nothing", when);
    }
    return rc;
}

/* Does the deciding rule s cover the whole subtree of the name (see lint.h)? */
static bool
covers_subtree(const struct ps_lint *l, size_t s, const struct ps_decision *d)
{
    struct lentry probe = {.kind = K_DOMAIN, .rule = s};
    size_t j;

    if (d->m_domain == NULL)
        return d->m_category != NULL;
    if (!ps_keytab_get(l->keys, ps_lint_key_ns(&probe), d->m_domain, strlen(d->m_domain), &j))
        return false;
    return !l->entries[j].exact;
}

static int
shadow_one(struct ps_lint *l, const struct ps_snapshot *snap, const struct ps_keytab *order,
           size_t i, time_t now)
{
    const struct lentry *en = &l->entries[i];
    const struct ps_rule *mine, *by;
    struct ps_query q = {.sni = en->value, .now = now};
    struct ps_decision d;
    char via[600], until[64] = "", when[32];
    size_t oi, od, s;
    bool same;

    if (!ps_keytab_get(order, (uint64_t)l->rules[en->rule].id, "", 0, &oi))
        return 0;
    ps_decide(snap, &q, &d);
    if (d.reason != PS_REASON_RULE || d.rule_id == l->rules[en->rule].id ||
        !ps_keytab_get(order, (uint64_t)d.rule_id, "", 0, &od) || od > oi ||
        !ps_keytab_get(l->ruleids, (uint64_t)d.rule_id, "", 0, &s))
        return 0;
    if (!en->exact && !covers_subtree(l, s, &d))
        return 0;
    mine = ps_snapshot_rule(snap, oi);
    by = ps_snapshot_rule(snap, od);
    snprintf(via, sizeof(via), "%s%s%s%s%s%s", d.m_domain ? "domain '" : "",
             d.m_domain ? d.m_domain : "", d.m_domain ? "'" : "",
             d.m_domain && d.m_category ? " and " : "", d.m_category ? "category " : "",
             d.m_category ? d.m_category : "");
    if (by->expires_at != 0) {
        fmt_time(by->expires_at, when);
        snprintf(until, sizeof(until), " until it expires at %s", when);
    }
    same = by->action == mine->action;
    if (same)
        return ps_lint_note(l, PS_LINT_WARNING, "shadowed", en->rule, i,
                            "domain '%s' never decides: rule '%s' (id %lld), evaluated earlier, "
                            "already %ss it (via %s)%s",
                            en->value, by->name, (long long)by->id, ps_action_str(by->action), via,
                            until);
    return ps_lint_note(l, PS_LINT_ERROR, "shadowed", en->rule, i,
                        "domain '%s' never decides: rule '%s' (id %lld), evaluated earlier, %ss "
                        "it (via %s)%s, not %s as this rule says; move this rule above it",
                        en->value, by->name, (long long)by->id, ps_action_str(by->action), via,
                        until, ps_action_str(mine->action));
}

static int
check_shadowed(struct ps_lint *l, const struct ps_snapshot *snap, time_t now)
{
    struct ps_keytab *order = ps_keytab_new();
    const struct lentry *en;
    size_t i;
    int rc = order == NULL ? PS_ENOMEM : snap_order(snap, order);

    for (i = 0; i < l->nentries && rc == 0; i++) {
        en = &l->entries[i];
        if (en->kind == K_DOMAIN && en->key != NULL && l->rules[en->rule].enabled)
            rc = shadow_one(l, snap, order, i, now);
    }
    ps_keytab_free(order);
    return rc;
}

int
ps_lint_check_snapshot(struct ps_lint *l, const struct ps_snapshot *snap, time_t now)
{
    int rc = check_expired(l, snap, now);

    if (rc == 0)
        rc = check_shadowed(l, snap, now);
    return rc;
}
