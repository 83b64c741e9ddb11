/*
 * `pinsplice feed import`: write a parsed feed (lib/admin/feed.h) into the catalogue, inside the
 * caller's ps_admin transaction (see ps_admin_feed_import in lib/admin/admin.h). Part of the
 * write side, like lib/admin/admin_update.c, whose three-way merge this follows, for one feed's
 * apps instead of the vendor's.
 *
 * Every item of the feed's apps is flattened to a key (kind, owner, item) and a value:
 *   ('app', APP, 'exists' | 'reason' | 'note'), ('app_domain', APP, DOMAIN) -> {"exact","note"},
 *   ('app_program', APP, ["os","program"]), ('app_destination', APP, CIDR)
 * three times: fm_n from the feed (new), fm_l from the apps whose apps.feed is this feed (local),
 * fm_b from feed_base (base: what the previous import of this feed said). local = base: the admin
 * left it alone and the feed's state is taken (added, changed, removed); otherwise the admin's is
 * kept (a deleted app or entry stays deleted, an edited note stays, a local addition stays). An app
 * whose name another app holds (vendor, local or another feed) is a conflict: not written.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "admin.h"
#include "admin_int.h"
#include "err.h"
#include "feed.h"

#define F "(SELECT feed FROM fm_ctx)"
#define TAKE_N "lp = bp AND (NOT lp OR lv IS bv)"
#define RP "CASE WHEN take_n THEN np ELSE lp END"
#define FEED_ENTRY(KIND, ITEM_EXPR)                                                                \
    "EXISTS (SELECT 1 FROM fm_r r JOIN main.apps o ON o.name = r.owner AND o.feed = " F            \
    " WHERE r.kind = '" KIND "' AND o.id = e.app_id AND r.item = " ITEM_EXPR " AND r.take_n AND "
#define ADDED(KIND)                                                                                \
    " FROM fm_r r JOIN main.apps o ON o.name = r.owner AND o.feed = " F " WHERE r.kind = '" KIND   \
    "' AND r.take_n AND r.np AND NOT r.lp"

static const char setup_sql[] =
    "DROP TABLE IF EXISTS temp.fm_ctx; DROP TABLE IF EXISTS temp.fm_n;"
    "DROP TABLE IF EXISTS temp.fm_l; DROP TABLE IF EXISTS temp.fm_b; DROP TABLE IF EXISTS temp.fm_r;"
    "CREATE TEMP TABLE fm_ctx (feed TEXT NOT NULL);"
    "CREATE TEMP TABLE fm_n (kind TEXT NOT NULL, owner TEXT NOT NULL, item TEXT NOT NULL, value,"
    " PRIMARY KEY (kind, owner, item));"
    "CREATE TEMP TABLE fm_l (kind TEXT NOT NULL, owner TEXT NOT NULL, item TEXT NOT NULL, value,"
    " PRIMARY KEY (kind, owner, item));"
    "CREATE TEMP TABLE fm_b (kind TEXT NOT NULL, owner TEXT NOT NULL, item TEXT NOT NULL, value,"
    " PRIMARY KEY (kind, owner, item));";

static const char local_sql[] =
    "INSERT OR IGNORE INTO fm_l"
    " SELECT 'app', name, 'exists', NULL FROM main.apps WHERE feed = " F
    " UNION ALL SELECT 'app', name, 'reason', reason FROM main.apps WHERE feed = " F
    " UNION ALL SELECT 'app', name, 'note', note FROM main.apps WHERE feed = " F
    " UNION ALL SELECT 'app_domain', a.name, d.domain, json_object('exact', d.exact, 'note', d.note)"
    "  FROM main.app_domains d JOIN main.apps a ON a.id = d.app_id WHERE a.feed = " F
    " UNION ALL SELECT 'app_program', a.name, json_array(p.os, p.program), NULL"
    "  FROM main.app_programs p JOIN main.apps a ON a.id = p.app_id WHERE a.feed = " F ";"
    "INSERT INTO fm_b SELECT kind, owner, item, value FROM main.feed_base WHERE feed = " F ";";

static const char local_dest_sql[] =
    "INSERT OR IGNORE INTO fm_l SELECT 'app_destination', a.name, d.cidr, NULL"
    " FROM main.app_destinations d JOIN main.apps a ON a.id = d.app_id WHERE a.feed = " F ";";

static const char decide_sql[] =
    "CREATE TEMP TABLE fm_r AS"
    " WITH k AS (SELECT kind, owner, item FROM fm_l UNION SELECT kind, owner, item FROM fm_n"
    "            UNION SELECT kind, owner, item FROM fm_b)"
    " SELECT k.kind, k.owner, k.item, l.kind IS NOT NULL AS lp, l.value AS lv,"
    "  n.kind IS NOT NULL AS np, n.value AS nv, b.kind IS NOT NULL AS bp, b.value AS bv,"
    "  0 AS take_n, 0 AS excluded"
    " FROM k LEFT JOIN fm_l l ON l.kind = k.kind AND l.owner = k.owner AND l.item = k.item"
    " LEFT JOIN fm_n n ON n.kind = k.kind AND n.owner = k.owner AND n.item = k.item"
    " LEFT JOIN fm_b b ON b.kind = k.kind AND b.owner = k.owner AND b.item = k.item;"
    /* the apply steps look entries up by (kind, item) for every row of the entry tables */
    "CREATE INDEX temp.fm_r_item ON fm_r (kind, item, owner);"
    "CREATE INDEX temp.fm_r_owner ON fm_r (owner);"
    "UPDATE fm_r SET take_n = " TAKE_N ";"
    /* Another app (vendor, local, another feed) holds the name: not ours to write. */
    "UPDATE fm_r SET excluded = 1, take_n = 0 WHERE owner IN"
    " (SELECT name FROM main.apps WHERE feed IS NOT " F ");"
    /* An app the feed dropped is deleted only when the admin changed nothing of it. */
    "UPDATE fm_r SET take_n = 0 WHERE owner IN ("
    " SELECT owner FROM fm_r WHERE kind = 'app' AND item = 'exists' AND lp AND NOT np AND take_n"
    " INTERSECT SELECT owner FROM fm_r WHERE NOT (" TAKE_N "));"
    /* Nothing is added to an app that will not exist (the admin deleted it). */
    "UPDATE fm_r SET take_n = 0 WHERE NOT (kind = 'app' AND item = 'exists') AND take_n AND np"
    " AND NOT lp AND owner NOT IN (SELECT owner FROM fm_r WHERE kind = 'app' AND item = 'exists'"
    " AND " RP ");";

static const char apply_sql[] =
    "DELETE FROM main.apps WHERE feed = " F " AND name IN (SELECT owner FROM fm_r"
    " WHERE kind = 'app' AND item = 'exists' AND take_n AND lp AND NOT np);"
    "INSERT INTO main.apps (name, reason, note, origin, feed)"
    " SELECT r.owner, coalesce((SELECT y.nv FROM fm_r y WHERE y.kind = 'app' AND y.owner = r.owner"
    "  AND y.item = 'reason'), 'pinned certificate'),"
    " (SELECT y.nv FROM fm_r y WHERE y.kind = 'app' AND y.owner = r.owner AND y.item = 'note'),"
    " 'local', " F " FROM fm_r r WHERE r.kind = 'app' AND r.item = 'exists' AND r.take_n AND r.np"
    " AND NOT r.lp;"
    "UPDATE main.apps SET reason = r.nv FROM fm_r r WHERE r.kind = 'app' AND r.item = 'reason'"
    " AND r.owner = apps.name AND apps.feed = " F " AND r.take_n AND r.lp AND r.np"
    " AND r.lv IS NOT r.nv;"
    "UPDATE main.apps SET note = r.nv FROM fm_r r WHERE r.kind = 'app' AND r.item = 'note'"
    " AND r.owner = apps.name AND apps.feed = " F " AND r.take_n AND r.lp AND r.np"
    " AND r.lv IS NOT r.nv;"
    "DELETE FROM main.app_domains AS e WHERE " FEED_ENTRY("app_domain", "e.domain")
    "r.lp AND NOT r.np);"
    "UPDATE main.app_domains AS e SET"
    " exact = (SELECT r.nv ->> 'exact' FROM fm_r r JOIN main.apps o ON o.name = r.owner"
    "  WHERE r.kind = 'app_domain' AND o.id = e.app_id AND r.item = e.domain),"
    " note = (SELECT r.nv ->> 'note' FROM fm_r r JOIN main.apps o ON o.name = r.owner"
    "  WHERE r.kind = 'app_domain' AND o.id = e.app_id AND r.item = e.domain)"
    " WHERE " FEED_ENTRY("app_domain", "e.domain") "r.lp AND r.np AND r.lv IS NOT r.nv);"
    "INSERT INTO main.app_domains (app_id, domain, exact, note)"
    " SELECT o.id, r.item, r.nv ->> 'exact', r.nv ->> 'note'" ADDED("app_domain") ";"
    "DELETE FROM main.app_programs AS e WHERE "
    FEED_ENTRY("app_program", "json_array(e.os, e.program)") "r.lp AND NOT r.np);"
    "INSERT INTO main.app_programs (app_id, os, program)"
    " SELECT o.id, r.item ->> '$[0]', r.item ->> '$[1]'" ADDED("app_program") ";"
    /* What this feed said, for the next import (conflicting apps left out: once the other app
     * is gone, the feed's is added as new). */
    "DELETE FROM main.feed_base WHERE feed = " F ";"
    "INSERT INTO main.feed_base (feed, kind, owner, item, value)"
    " SELECT " F ", kind, owner, item, value FROM fm_n"
    " WHERE owner NOT IN (SELECT owner FROM fm_r WHERE excluded);";

static const char apply_dest_sql[] =
    "DELETE FROM main.app_destinations AS e WHERE " FEED_ENTRY("app_destination", "e.cidr")
    "r.lp AND NOT r.np);"
    "INSERT INTO main.app_destinations (app_id, cidr) SELECT o.id, r.item"
    ADDED("app_destination") ";";

/* Applied changes, kept local values and conflicts; the entries of an app added or removed whole
 * are folded into its line; then rules enable_app made from an app whose entries changed. */
static const char report_sql[] =
    "WITH o AS (SELECT kind, owner, item, lv, nv, lp, np, CASE"
    "  WHEN excluded THEN CASE WHEN kind = 'app' AND item = 'exists' THEN 'conflict' END"
    "  WHEN take_n AND np AND NOT lp THEN 'add'"
    "  WHEN take_n AND lp AND NOT np THEN 'remove'"
    "  WHEN take_n AND lp AND np AND lv IS NOT nv THEN 'update'"
    "  WHEN NOT take_n AND (lp <> np OR lv IS NOT nv) THEN 'keep' END AS op FROM fm_r),"
    " w AS (SELECT owner FROM o WHERE kind = 'app' AND item = 'exists' AND (op IN ('add', 'remove')"
    "  OR (op = 'keep' AND NOT lp)))"
    " SELECT kind, owner, item, op, lv, nv, lp, np FROM ("
    "  SELECT 0 AS s, * FROM o WHERE op IS NOT NULL AND (kind = 'app' AND item = 'exists'"
    "   OR owner NOT IN (SELECT owner FROM w))"
    "  UNION ALL SELECT 1, 'rule', r.name, 'entries', NULL, NULL, 1, 1, 'stale' FROM main.rules r"
    "   WHERE r.name IN (SELECT 'App: ' || owner FROM o WHERE kind <> 'app' AND op IN ('add',"
    "   'remove', 'update') UNION ALL SELECT 'App: ' || owner || ' (destinations)' FROM o"
    "   WHERE kind = 'app_destination' AND op IN ('add', 'remove')))"
    " ORDER BY s, owner, NOT (kind = 'app' AND item = 'exists'), kind, item";

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

/* One row into fm_n: (kind, owner, item, value); value is json_object('exact', x, 'note', y) for
 * a domain (exact >= 0), else the text v. */
static int
put(sqlite3 *db, sqlite3_stmt *ins, sqlite3_stmt *ins_dom, const char *kind, const char *owner,
    const char *item, const char *v, int exact, struct ps_err *err)
{
    sqlite3_stmt *st = exact >= 0 ? ins_dom : ins;
    int rc;

    sqlite3_reset(st);
    if (bind_text(st, 1, kind) < 0 || bind_text(st, 2, owner) < 0 || bind_text(st, 3, item) < 0 ||
        (v != NULL ? bind_text(st, 4, v) : sqlite3_bind_null(st, 4)) != 0 ||
        (exact >= 0 && sqlite3_bind_int(st, 5, exact) != SQLITE_OK))
        return ps_admin_db_fail(db, "reading the feed", err);
    rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : ps_admin_db_fail(db, "reading the feed", err);
}

/* The note an app is stored with: what the feed said, then the provenance. */
static char *
app_note(const struct ps_feed *f, const struct ps_feed_app *a, const char *now)
{
    const char *fn = a->note != NULL && a->note[0] != '\0' ? a->note : NULL;
    size_t n = (fn != NULL ? strlen(fn) : 0) + strlen(f->name) + strlen(f->source) +
               strlen(f->version) + strlen(now) + 96;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s%sFeed \"%s\" (%s): source %s, version %s, imported %s.",
                 fn != NULL ? fn : "", fn != NULL ? ". " : "", f->name,
                 ps_feed_format_str(f->format), f->source, f->version, now);
    return s;
}

static int
fill_new(sqlite3 *db, const struct ps_feed *f, const char *now, bool dests,
         struct ps_err *err)
{
    sqlite3_stmt *ins = NULL, *dom = NULL, *prg = NULL;
    size_t i, j;
    int rc = 0;

    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO fm_n VALUES (?1, ?2, ?3, ?4)", -1, &ins,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO fm_n VALUES (?1, ?2, ?3,"
                           " json_object('exact', ?5, 'note', ?4))",
                           -1, &dom, NULL) != SQLITE_OK ||
        /* the key json_array(os, program) gives for the stored row */
        sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO fm_n VALUES ('app_program', ?1,"
                           " json_array(?2, ?3), NULL)",
                           -1, &prg, NULL) != SQLITE_OK) {
        rc = ps_admin_db_fail(db, "reading the feed", err);
        goto done;
    }
    for (i = 0; i < f->n_apps && rc == 0; i++) {
        const struct ps_feed_app *a = &f->apps[i];
        char *note = app_note(f, a, now);
        if (note == NULL) {
            rc = ps_err_set(err, PS_ENOMEM, "out of memory");
            break;
        }
        rc = put(db, ins, dom, "app", a->name, "exists", NULL, -1, err);
        if (rc == 0)
            rc = put(db, ins, dom, "app", a->name, "reason",
                     a->reason != NULL ? a->reason : "pinned certificate", -1, err);
        if (rc == 0)
            rc = put(db, ins, dom, "app", a->name, "note", note, -1, err);
        free(note);
        for (j = 0; j < a->n_domains && rc == 0; j++)
            rc = put(db, ins, dom, "app_domain", a->name, a->domains[j].domain,
                     a->domains[j].note, a->domains[j].exact ? 1 : 0, err);
        for (j = 0; j < a->n_programs && rc == 0; j++) {
            sqlite3_reset(prg);
            if (bind_text(prg, 1, a->name) < 0 || bind_text(prg, 2, a->programs[j].os) < 0 ||
                bind_text(prg, 3, a->programs[j].program) < 0 || sqlite3_step(prg) != SQLITE_DONE)
                rc = ps_admin_db_fail(db, "reading the feed", err);
        }
        for (j = 0; dests && j < a->n_dests && rc == 0; j++)
            rc = put(db, ins, dom, "app_destination", a->name, a->dests[j], NULL, -1, err);
    }
done:
    sqlite3_finalize(ins);
    sqlite3_finalize(dom);
    sqlite3_finalize(prg);
    return rc;
}

static const char *
col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int
report(sqlite3 *db, ps_admin_change_fn *fn, void *ud, struct ps_admin_feed_stats *st,
       struct ps_err *err)
{
    sqlite3_stmt *q = NULL;
    int step;

    if (sqlite3_prepare_v2(db, report_sql, -1, &q, NULL) != SQLITE_OK)
        return ps_admin_db_fail(db, "reading the report", err);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ps_admin_change c = {col(q, 0),
                                    col(q, 1),
                                    col(q, 2),
                                    col(q, 3),
                                    col(q, 4),
                                    col(q, 5),
                                    sqlite3_column_int(q, 6) != 0,
                                    sqlite3_column_int(q, 7) != 0};
        if (c.kind == NULL || c.owner == NULL || c.item == NULL || c.op == NULL)
            continue;
        if (strcmp(c.op, "add") == 0)
            st->added++;
        else if (strcmp(c.op, "remove") == 0)
            st->removed++;
        else if (strcmp(c.op, "update") == 0)
            st->updated++;
        else if (strcmp(c.op, "keep") == 0)
            st->kept++;
        else if (strcmp(c.op, "conflict") == 0)
            st->conflicts++;
        else
            st->stale_rules++;
        if (fn != NULL)
            fn(&c, ud);
    }
    sqlite3_finalize(q);
    return step == SQLITE_DONE ? 0 : ps_admin_db_fail(db, "reading the report", err);
}

/* The feeds row and, when audited, one IMPORT row with the provenance and the counts. */
static int
record(struct ps_admin *a, const struct ps_feed *f, const char *now,
       const struct ps_admin_feed_stats *st, struct ps_err *err)
{
    static const char audit_sql[] =
        "INSERT INTO main.audit (tbl, op, row_id, old, new, who) VALUES ('feeds', 'IMPORT', NULL,"
        " (SELECT json_object('feed', name, 'format', format, 'source', source, 'version', version,"
        "  'imported_at', imported_at) FROM main.feeds WHERE name = ?1),"
        " json_object('feed', ?1, 'format', ?2, 'source', ?3, 'version', ?4, 'imported_at', ?5,"
        "  'apps', ?6, 'added', ?7, 'removed', ?8, 'updated', ?9, 'kept', ?10, 'conflicts', ?11,"
        "  'skipped', ?12, 'not_imported_default', ?13),"
        " (SELECT nullif(value, '') FROM main.settings WHERE key = 'audit_who'))";
    static const char feed_sql[] =
        "INSERT INTO main.feeds (name, format, source, version, imported_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET format = excluded.format,"
        " source = excluded.source, version = excluded.version, imported_at = excluded.imported_at";
    const char *sqls[2] = {audit_sql, feed_sql};
    int i, rc = 0;

    for (i = ps_admin_audited(a) ? 0 : 1; i < 2 && rc == 0; i++) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(a->db, sqls[i], -1, &q, NULL) != SQLITE_OK)
            return ps_admin_db_fail(a->db, "recording the feed", err);
        if (bind_text(q, 1, f->name) < 0 || bind_text(q, 2, ps_feed_format_str(f->format)) < 0 ||
            bind_text(q, 3, f->source) < 0 || bind_text(q, 4, f->version) < 0 ||
            bind_text(q, 5, now) < 0)
            rc = ps_admin_db_fail(a->db, "recording the feed", err);
        if (rc == 0 && i == 0 &&
            (sqlite3_bind_int64(q, 6, (sqlite3_int64)f->n_apps) != SQLITE_OK ||
             sqlite3_bind_int64(q, 7, st->added) != SQLITE_OK ||
             sqlite3_bind_int64(q, 8, st->removed) != SQLITE_OK ||
             sqlite3_bind_int64(q, 9, st->updated) != SQLITE_OK ||
             sqlite3_bind_int64(q, 10, st->kept) != SQLITE_OK ||
             sqlite3_bind_int64(q, 11, st->conflicts) != SQLITE_OK ||
             sqlite3_bind_int64(q, 12, (sqlite3_int64)f->n_skips) != SQLITE_OK ||
             sqlite3_bind_int64(q, 13, (sqlite3_int64)f->n_default) != SQLITE_OK))
            rc = ps_admin_db_fail(a->db, "recording the feed", err);
        if (rc == 0 && sqlite3_step(q) != SQLITE_DONE)
            rc = ps_admin_db_fail(a->db, "recording the feed", err);
        sqlite3_finalize(q);
    }
    return rc;
}

int
ps_admin_feed_import(struct ps_admin *a, const struct ps_feed *f, const char *now,
                     ps_admin_change_fn *fn, void *ud, struct ps_admin_feed_stats *out,
                     struct ps_err *err)
{
    struct ps_admin_feed_stats st;
    sqlite3_stmt *ctx = NULL;
    char what[160];
    long long n = 0;
    int rc;

    memset(&st, 0, sizeof(st));
    if (a == NULL || f == NULL || now == NULL)
        return ps_err_set(err, PS_EINVAL, "feed import: bad call");
    if (!ps_admin_has_object(a->db, "table", "feeds") ||
        !ps_admin_has_object(a->db, "table", "feed_base"))
        return ps_err_set(err, PS_EDB, "%s: no feeds table (run 'pinsplice db update')",
                          a->path);
    st.has_dests = ps_admin_has_object(a->db, "table", "app_destinations");
    snprintf(what, sizeof(what), "%s: feed \"%.80s\"", a->path, f->name);
    if ((rc = ps_admin_exec(a->db, setup_sql, what, err)) < 0)
        return rc;
    if (sqlite3_prepare_v2(a->db, "INSERT INTO fm_ctx (feed) VALUES (?1)", -1, &ctx, NULL) !=
            SQLITE_OK ||
        bind_text(ctx, 1, f->name) < 0 || sqlite3_step(ctx) != SQLITE_DONE) {
        sqlite3_finalize(ctx);
        return ps_admin_db_fail(a->db, what, err);
    }
    sqlite3_finalize(ctx);
    if ((rc = ps_admin_query_int(a->db, "SELECT count(*) FROM main.feeds WHERE name = ?1",
                                 f->name, &n, err)) < 0)
        return rc;
    st.first = n == 0;
    if ((rc = fill_new(a->db, f, now, st.has_dests, err)) < 0 ||
        (rc = ps_admin_exec(a->db, local_sql, what, err)) < 0 ||
        (st.has_dests && (rc = ps_admin_exec(a->db, local_dest_sql, what, err)) < 0) ||
        (rc = ps_admin_exec(a->db, decide_sql, what, err)) < 0 ||
        (rc = report(a->db, fn, ud, &st, err)) < 0 ||
        /* the feeds row first: apps.feed must name an existing feed */
        (rc = record(a, f, now, &st, err)) < 0 ||
        (rc = ps_admin_exec(a->db, apply_sql, what, err)) < 0 ||
        (st.has_dests && (rc = ps_admin_exec(a->db, apply_dest_sql, what, err)) < 0))
        return rc;
    if (!st.has_dests) {
        size_t i;
        for (i = 0; i < f->n_apps; i++)
            st.dests_unstored += f->apps[i].n_dests;
    }
    if (out != NULL)
        *out = st;
    return 0;
}

int
ps_admin_feed_import_db(const char *path, int busy_ms, const char *who, const struct ps_feed *f,
                        const char *now, bool dry_run, ps_admin_change_fn *fn, void *ud,
                        struct ps_admin_feed_stats *st, struct ps_err *err)
{
    struct ps_admin *a = NULL;
    int rc;

    if ((rc = ps_admin_open(path, busy_ms, who, &a, err)) < 0)
        return rc;
    if ((rc = ps_admin_feed_import(a, f, now, fn, ud, st, err)) < 0 || dry_run) {
        ps_admin_free(a);
        return rc;
    }
    return ps_admin_commit(a, err);
}
