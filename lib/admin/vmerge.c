/*
 * The vendor merge of `pinsplice db update` as SQL text (run by lib/admin/admin_update.c; see
 * lib/admin/vmerge.h).
 *
 * Every vendor item is flattened to a key (kind, owner, item) and a value:
 *   ('rule', NAME, 'exists' | 'action' | 'enabled' | 'position' | 'expires_at' | 'comment')
 *   ('rule_domain', RULE, DOMAIN) -> {"exact":..,"comment":..}
 *   ('rule_program', RULE, ["os","program"]) -> comment   ('rule_category', RULE, CATEGORY)
 *   ('rule_source', RULE, SOURCE) -> comment
 *   ('app', NAME, 'exists' | 'reason' | 'note')   ('app_domain', APP, DOMAIN) -> note
 *   ('app_program', APP, ["os","program"]) -> note
 *   ('category', NAME, 'exists' | 'comment')
 * for the rules and apps of origin 'vendor' (rows of origin 'local' are never flattened, so never
 * written) and every category, three times: vm_l from the DB (local), vm_n from the new vendor DB
 * (new), vm_b from main.vendor_base (base: what the previous update applied).
 *
 * Per key: local = base (present in both with the same value, or absent from both) means the admin
 * left it alone, so the new vendor state is taken (take_n): added, changed or removed. Otherwise
 * the admin's state is kept. Without a base (first update) a key the DB lacks is added unless the
 * audit trail shows the admin deleted (or renamed) it (vm_g); a value the DB holds is refreshed
 * only when the audit trail holds the owner's whole history (vm_h: its INSERT) and no UPDATE of
 * that key (vm_t); everything else the DB holds is kept.
 */
#include "config.h"

#include <stddef.h>

#include "vmerge.h"

#define FLAT_RULE(S, F)                                                                            \
    " UNION ALL SELECT 'rule', name, '" F "', " F " FROM " S ".rules WHERE origin = 'vendor'"
#define FLAT_ENTRY(S, KIND, TBL, ITEM, VALUE, OWNER_TBL, OWNER_COL)                                \
    " UNION ALL SELECT '" KIND "', o.name, " ITEM ", " VALUE " FROM " S "." TBL " e JOIN " S       \
    "." OWNER_TBL " o ON o.id = e." OWNER_COL " WHERE o.origin = 'vendor'"

/* Every vendor item of schema S as (kind, owner, item, value). */
#define FLATTEN(S)                                                                                 \
    "SELECT 'rule', name, 'exists', NULL FROM " S ".rules WHERE origin = 'vendor'"                 \
    FLAT_RULE(S, "action") FLAT_RULE(S, "enabled") FLAT_RULE(S, "position")                        \
    FLAT_RULE(S, "expires_at") FLAT_RULE(S, "comment")                                             \
    FLAT_ENTRY(S, "rule_domain", "rule_domains", "e.domain",                                       \
               "json_object('exact', e.exact, 'comment', e.comment)", "rules", "rule_id")          \
    FLAT_ENTRY(S, "rule_program", "rule_programs", "json_array(e.os, e.program)", "e.comment",     \
               "rules", "rule_id")                                                                 \
    FLAT_ENTRY(S, "rule_category", "rule_categories", "e.category", "NULL", "rules", "rule_id")    \
    FLAT_ENTRY(S, "rule_source", "rule_sources", "e.source", "e.comment", "rules", "rule_id")      \
    " UNION ALL SELECT 'app', name, 'exists', NULL FROM " S ".apps WHERE origin = 'vendor'"        \
    " UNION ALL SELECT 'app', name, 'reason', reason FROM " S ".apps WHERE origin = 'vendor'"      \
    " UNION ALL SELECT 'app', name, 'note', note FROM " S ".apps WHERE origin = 'vendor'"          \
    FLAT_ENTRY(S, "app_domain", "app_domains", "e.domain", "e.note", "apps", "app_id")             \
    FLAT_ENTRY(S, "app_program", "app_programs", "json_array(e.os, e.program)", "e.note", "apps",  \
               "app_id")                                                                           \
    " UNION ALL SELECT 'category', name, 'exists', NULL FROM " S ".categories"                     \
    " UNION ALL SELECT 'category', name, 'comment', comment FROM " S ".categories"

#define KEYTABLE(T)                                                                                \
    "CREATE TEMP TABLE " T " (kind TEXT NOT NULL, owner TEXT, item TEXT NOT NULL, value,"         \
    " PRIMARY KEY (kind, owner, item));"

/* A changed or deleted row in the audit trail, as the key it had (bootstrap only). */
#define GONE(KIND, TBL, OWNER, ITEM, CHANGED)                                                      \
    " UNION ALL SELECT '" KIND "', old ->> '" OWNER "', " ITEM " FROM main.audit WHERE tbl = '"    \
    TBL "' AND (op = 'DELETE' OR (op = 'UPDATE' AND (" CHANGED ")))"
#define DIFF(F) "old ->> '" F "' IS NOT new ->> '" F "'"
/* A field or an entry's value an UPDATE changed, as the key it has now (bootstrap only). */
#define TOUCHED_FIELD(KIND, TBL, F)                                                                \
    " UNION ALL SELECT '" KIND "', new ->> 'name', '" F "' FROM main.audit WHERE tbl = '" TBL      \
    "' AND op = 'UPDATE' AND " DIFF(F)
#define TOUCHED_ENTRY(KIND, TBL, OWNER, ITEM)                                                      \
    " UNION ALL SELECT '" KIND "', new ->> '" OWNER "', " ITEM " FROM main.audit WHERE tbl = '"    \
    TBL "' AND op = 'UPDATE'"

/* The key of an entry row e, joined to its vendor owner o, equals x's. */
#define MATCH_RULE_ENTRY(KIND, ITEM_EXPR)                                                          \
    "EXISTS (SELECT 1 FROM vm_x x JOIN main.rules o ON o.name = x.owner AND o.origin = 'vendor'"   \
    " WHERE x.kind = '" KIND "' AND o.id = e.rule_id AND x.item = " ITEM_EXPR " AND "
#define MATCH_APP_ENTRY(KIND, ITEM_EXPR)                                                           \
    "EXISTS (SELECT 1 FROM vm_x x JOIN main.apps o ON o.name = x.owner AND o.origin = 'vendor'"    \
    " WHERE x.kind = '" KIND "' AND o.id = e.app_id AND x.item = " ITEM_EXPR " AND "
#define REMOVED "x.lp AND NOT x.rp)"
#define CHANGED_VALUE "x.lp AND x.rp AND x.rv IS NOT x.lv)"

/* Entries to add: the key's owner exists (vendor origin) after the rule/app steps. */
#define ADDED_RULE_ENTRIES(KIND)                                                                   \
    " FROM vm_x x JOIN main.rules o ON o.name = x.owner AND o.origin = 'vendor'"                   \
    " WHERE x.kind = '" KIND "' AND x.rp AND NOT x.lp"
#define ADDED_APP_ENTRIES(KIND)                                                                    \
    " FROM vm_x x JOIN main.apps o ON o.name = x.owner AND o.origin = 'vendor'"                    \
    " WHERE x.kind = '" KIND "' AND x.rp AND NOT x.lp"

/* A field of a rule or app, as merged (x is the owner's 'exists' row). */
#define FIELD(KIND, F)                                                                             \
    "(SELECT y.rv FROM vm_x y WHERE y.kind = '" KIND "' AND y.owner = x.owner AND y.item = '" F    \
    "' AND y.rp)"
#define SET_FIELD(TBL, KIND, F)                                                                    \
    "UPDATE main." TBL " SET " F " = x.rv FROM vm_x x WHERE x.kind = '" KIND "' AND x.item = '" F  \
    "' AND x.owner = " TBL ".name AND " TBL ".origin = 'vendor' AND x.lp AND x.rp"                 \
    " AND x.rv IS NOT x.lv;"

static const struct ps_vmerge_stmt stmts[] = {
    {"reading the vendor items", false,
     "CREATE TEMP TABLE vm_ctx AS SELECT"
     " EXISTS (SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'vendor_base')"
     " AS has_base;"
     /* Not read by the matcher; one row per vendor item as the last update applied it. */
     "CREATE TABLE IF NOT EXISTS main.vendor_base (kind TEXT NOT NULL, owner TEXT NOT NULL,"
     " item TEXT NOT NULL, value, PRIMARY KEY (kind, owner, item)) WITHOUT ROWID;"
     KEYTABLE("vm_l") KEYTABLE("vm_n") KEYTABLE("vm_b") KEYTABLE("vm_g") KEYTABLE("vm_t")
     "CREATE TEMP TABLE vm_h (fam TEXT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (fam, owner));"
     "INSERT INTO vm_l " FLATTEN("main") ";"
     "INSERT INTO vm_n " FLATTEN("v") ";"
     "INSERT INTO vm_b SELECT kind, owner, item, value FROM main.vendor_base;"},
    /* Bootstrap: what the admin deleted or renamed, from the audit trail. */
    {"reading the audit trail", true,
     "INSERT OR IGNORE INTO vm_g (kind, owner, item) SELECT kind, owner, item FROM ("
     "SELECT NULL AS kind, NULL AS owner, NULL AS item WHERE 0"
     GONE("rule", "rules", "name", "'exists'", DIFF("name") " OR " DIFF("origin"))
     GONE("rule_domain", "rule_domains", "rule", "old ->> 'domain'",
          DIFF("domain") " OR " DIFF("rule_id"))
     GONE("rule_program", "rule_programs", "rule", "json_array(old ->> 'os', old ->> 'program')",
          DIFF("os") " OR " DIFF("program") " OR " DIFF("rule_id"))
     GONE("rule_category", "rule_categories", "rule", "old ->> 'category'",
          DIFF("category") " OR " DIFF("rule_id"))
     GONE("rule_source", "rule_sources", "rule", "old ->> 'source'",
          DIFF("source") " OR " DIFF("rule_id"))
     GONE("app", "apps", "name", "'exists'", DIFF("name") " OR " DIFF("origin"))
     GONE("app_domain", "app_domains", "app", "old ->> 'domain'",
          DIFF("domain") " OR " DIFF("app_id"))
     GONE("app_program", "app_programs", "app", "json_array(old ->> 'os', old ->> 'program')",
          DIFF("os") " OR " DIFF("program") " OR " DIFF("app_id"))
     GONE("category", "categories", "name", "'exists'", DIFF("name"))
     ") WHERE owner IS NOT NULL;"},
    /* Bootstrap: owners whose whole history is in the audit trail (their INSERT is there: the
     * trail is pruned oldest first), and the keys an UPDATE changed since. */
    {"reading the audit trail (history)", true,
     "INSERT OR IGNORE INTO vm_h (fam, owner) SELECT fam, owner FROM ("
     "SELECT 'rule' AS fam, new ->> 'name' AS owner FROM main.audit"
     " WHERE tbl = 'rules' AND op = 'INSERT'"
     " UNION ALL SELECT 'app', new ->> 'name' FROM main.audit WHERE tbl = 'apps' AND op = 'INSERT'"
     " UNION ALL SELECT 'category', new ->> 'name' FROM main.audit"
     " WHERE tbl = 'categories' AND op = 'INSERT') WHERE owner IS NOT NULL;"
     "INSERT OR IGNORE INTO vm_t (kind, owner, item) SELECT kind, owner, item FROM ("
     "SELECT NULL AS kind, NULL AS owner, NULL AS item WHERE 0"
     TOUCHED_FIELD("rule", "rules", "action") TOUCHED_FIELD("rule", "rules", "enabled")
     TOUCHED_FIELD("rule", "rules", "position") TOUCHED_FIELD("rule", "rules", "expires_at")
     TOUCHED_FIELD("rule", "rules", "comment") TOUCHED_FIELD("app", "apps", "reason")
     TOUCHED_FIELD("app", "apps", "note") TOUCHED_FIELD("category", "categories", "comment")
     TOUCHED_ENTRY("rule_domain", "rule_domains", "rule", "new ->> 'domain'")
     TOUCHED_ENTRY("rule_program", "rule_programs", "rule",
                   "json_array(new ->> 'os', new ->> 'program')")
     TOUCHED_ENTRY("rule_source", "rule_sources", "rule", "new ->> 'source'")
     TOUCHED_ENTRY("app_domain", "app_domains", "app", "new ->> 'domain'")
     TOUCHED_ENTRY("app_program", "app_programs", "app",
                   "json_array(new ->> 'os', new ->> 'program')")
     ") WHERE owner IS NOT NULL;"},
    {"deciding each item", false,
     "CREATE TEMP TABLE vm_r AS"
     " WITH k AS (SELECT kind, owner, item FROM vm_l UNION SELECT kind, owner, item FROM vm_n"
     "            UNION SELECT kind, owner, item FROM vm_b)"
     " SELECT k.kind, k.owner, k.item,"
     "  CASE WHEN k.kind GLOB 'rule*' THEN 'rule' WHEN k.kind GLOB 'app*' THEN 'app'"
     "       ELSE k.kind END AS fam,"
     "  l.kind IS NOT NULL AS lp, l.value AS lv, n.kind IS NOT NULL AS np, n.value AS nv,"
     "  b.kind IS NOT NULL AS bp, b.value AS bv, g.kind IS NOT NULL AS gone,"
     "  h.fam IS NOT NULL AND t.kind IS NULL AS untouched,"
     "  0 AS take_n, 0 AS excluded"
     " FROM k"
     " LEFT JOIN vm_l l ON l.kind = k.kind AND l.owner = k.owner AND l.item = k.item"
     " LEFT JOIN vm_n n ON n.kind = k.kind AND n.owner = k.owner AND n.item = k.item"
     " LEFT JOIN vm_b b ON b.kind = k.kind AND b.owner = k.owner AND b.item = k.item"
     " LEFT JOIN vm_g g ON g.kind = k.kind AND g.owner = k.owner AND g.item = k.item"
     " LEFT JOIN vm_t t ON t.kind = k.kind AND t.owner = k.owner AND t.item = k.item"
     " LEFT JOIN vm_h h ON h.fam = CASE WHEN k.kind GLOB 'rule*' THEN 'rule'"
     "  WHEN k.kind GLOB 'app*' THEN 'app' ELSE k.kind END AND h.owner = k.owner;"
     /* Three-way with a base. Without one: add what the DB lacks unless the admin removed it;
      * refresh a value the audit trail shows nobody changed; keep everything else. */
     "UPDATE vm_r SET take_n = CASE WHEN (SELECT has_base FROM vm_ctx)"
     " THEN lp = bp AND (NOT lp OR lv IS bv)"
     " ELSE (NOT lp AND np AND NOT gone) OR (lp AND np AND item <> 'exists' AND untouched) END;"
     /* A local rule or app with a vendor name: the vendor's is not applied. */
     "UPDATE vm_r SET excluded = 1, take_n = 0 WHERE"
     " (fam = 'rule' AND owner IN (SELECT name FROM main.rules WHERE origin <> 'vendor'))"
     " OR (fam = 'app' AND owner IN (SELECT name FROM main.apps WHERE origin <> 'vendor'));"
     /* Categories are never deleted: they may hold imported lists and be used by local rules. */
     "UPDATE vm_r SET take_n = 0 WHERE fam = 'category' AND lp AND NOT np;"
     /* A rule or app the vendor dropped is deleted only if the admin changed nothing of it;
      * otherwise it is kept whole, as it is. */
     "UPDATE vm_r SET take_n = 0 WHERE (fam, owner) IN ("
     " SELECT fam, owner FROM vm_r WHERE item = 'exists' AND kind IN ('rule', 'app')"
     "  AND lp AND NOT np AND take_n"
     " INTERSECT SELECT fam, owner FROM vm_r WHERE NOT (lp = bp AND (NOT lp OR lv IS bv)));"
     "CREATE TEMP VIEW vm_x AS SELECT *,"
     " CASE WHEN take_n THEN np ELSE lp END AS rp, CASE WHEN take_n THEN nv ELSE lv END AS rv"
     " FROM vm_r WHERE NOT excluded;"},
    /* The report, before anything changes: applied changes, kept local values the vendor would
     * change (or drops), conflicts. Entries of an owner added or removed whole are folded into
     * its 'exists' line; settings keys the DB lacks are added. */
    {"writing the report", false,
     "CREATE TEMP TABLE vm_report AS"
     " WITH y AS (SELECT *, CASE WHEN take_n THEN np ELSE lp END AS rp,"
     "                 CASE WHEN take_n THEN nv ELSE lv END AS rv FROM vm_r),"
     " z AS (SELECT kind, owner, item, fam, lv, nv, lp, np,"
     "   CASE WHEN excluded THEN 'conflict' WHEN rp AND NOT lp THEN 'add'"
     "        WHEN lp AND NOT rp THEN 'remove' WHEN rp AND rv IS NOT lv THEN 'update'"
     "        ELSE 'keep' END AS op"
     "  FROM y WHERE (excluded AND item = 'exists' AND kind IN ('rule', 'app') AND np)"
     "   OR (NOT excluded AND (rp <> lp OR (rp AND rv IS NOT lv)))"
     "   OR (NOT excluded AND NOT take_n"
     "       AND ((np AND (NOT lp OR lv IS NOT nv)) OR (bp AND NOT np AND lp))))"
     " SELECT kind, owner, CASE WHEN kind GLOB '*_program'"
     "  THEN (item ->> '$[0]') || ':' || (item ->> '$[1]') ELSE item END AS item,"
     " op, lv AS local, nv AS vendor, lp, np, fam FROM z"
     " WHERE (kind IN ('rule', 'app', 'category') AND item = 'exists')"
     "  OR (fam, owner) NOT IN (SELECT fam, owner FROM z WHERE item = 'exists'"
     "   AND kind IN ('rule', 'app', 'category') AND op IN ('add', 'remove', 'conflict'))"
     " UNION ALL SELECT 'setting', key, 'exists', 'add', NULL, value, 0, 1, 'setting'"
     "  FROM v.settings"
     "  WHERE key NOT IN (SELECT key FROM main.settings);"},
    {"adding categories", false,
     "INSERT INTO main.categories (name, comment) SELECT x.owner, " FIELD("category", "comment")
     " FROM vm_x x WHERE x.kind = 'category' AND x.item = 'exists' AND x.rp AND NOT x.lp;"
     "UPDATE main.categories SET comment = x.rv FROM vm_x x WHERE x.kind = 'category'"
     " AND x.item = 'comment' AND x.owner = categories.name AND x.lp AND x.rp"
     " AND x.rv IS NOT x.lv;"},
    {"deleting vendor rules and apps the vendor dropped", false,
     "DELETE FROM main.rules WHERE origin = 'vendor' AND name IN (SELECT owner FROM vm_x"
     " WHERE kind = 'rule' AND item = 'exists' AND lp AND NOT rp);"
     "DELETE FROM main.apps WHERE origin = 'vendor' AND name IN (SELECT owner FROM vm_x"
     " WHERE kind = 'app' AND item = 'exists' AND lp AND NOT rp);"},
    {"adding new vendor rules and apps", false,
     "INSERT INTO main.rules (name, action, enabled, position, expires_at, origin, comment)"
     " SELECT x.owner, coalesce(" FIELD("rule", "action") ", 'splice'),"
     " coalesce(" FIELD("rule", "enabled") ", 1), " FIELD("rule", "position") ","
     " " FIELD("rule", "expires_at") ", 'vendor', " FIELD("rule", "comment")
     " FROM vm_x x WHERE x.kind = 'rule' AND x.item = 'exists' AND x.rp AND NOT x.lp;"
     "INSERT INTO main.apps (name, reason, note, origin)"
     " SELECT x.owner, coalesce(" FIELD("app", "reason") ", 'pinned certificate'),"
     " " FIELD("app", "note") ", 'vendor'"
     " FROM vm_x x WHERE x.kind = 'app' AND x.item = 'exists' AND x.rp AND NOT x.lp;"},
    {"refreshing vendor rules and apps", false,
     SET_FIELD("rules", "rule", "action") SET_FIELD("rules", "rule", "enabled")
     SET_FIELD("rules", "rule", "position") SET_FIELD("rules", "rule", "expires_at")
     SET_FIELD("rules", "rule", "comment") SET_FIELD("apps", "app", "reason")
     SET_FIELD("apps", "app", "note")},
    {"refreshing the entries of vendor rules", false,
     "DELETE FROM main.rule_domains AS e WHERE " MATCH_RULE_ENTRY("rule_domain", "e.domain") REMOVED ";"
     "DELETE FROM main.rule_programs AS e WHERE "
     MATCH_RULE_ENTRY("rule_program", "json_array(e.os, e.program)") REMOVED ";"
     "DELETE FROM main.rule_categories AS e WHERE "
     MATCH_RULE_ENTRY("rule_category", "e.category") REMOVED ";"
     "DELETE FROM main.rule_sources AS e WHERE " MATCH_RULE_ENTRY("rule_source", "e.source") REMOVED ";"
     "UPDATE main.rule_domains AS e SET exact = (SELECT x.rv ->> 'exact' FROM vm_x x"
     "  JOIN main.rules o ON o.name = x.owner AND o.origin = 'vendor'"
     "  WHERE x.kind = 'rule_domain' AND o.id = e.rule_id AND x.item = e.domain),"
     " comment = (SELECT x.rv ->> 'comment' FROM vm_x x"
     "  JOIN main.rules o ON o.name = x.owner AND o.origin = 'vendor'"
     "  WHERE x.kind = 'rule_domain' AND o.id = e.rule_id AND x.item = e.domain)"
     " WHERE " MATCH_RULE_ENTRY("rule_domain", "e.domain") CHANGED_VALUE ";"
     "UPDATE main.rule_programs AS e SET comment = (SELECT x.rv FROM vm_x x"
     "  JOIN main.rules o ON o.name = x.owner AND o.origin = 'vendor' WHERE x.kind = 'rule_program'"
     "  AND o.id = e.rule_id AND x.item = json_array(e.os, e.program))"
     " WHERE " MATCH_RULE_ENTRY("rule_program", "json_array(e.os, e.program)") CHANGED_VALUE ";"
     "UPDATE main.rule_sources AS e SET comment = (SELECT x.rv FROM vm_x x"
     "  JOIN main.rules o ON o.name = x.owner AND o.origin = 'vendor' WHERE x.kind = 'rule_source'"
     "  AND o.id = e.rule_id AND x.item = e.source)"
     " WHERE " MATCH_RULE_ENTRY("rule_source", "e.source") CHANGED_VALUE ";"
     "INSERT INTO main.rule_domains (rule_id, domain, exact, comment)"
     " SELECT o.id, x.item, coalesce(x.rv ->> 'exact', 0), x.rv ->> 'comment'"
     ADDED_RULE_ENTRIES("rule_domain") ";"
     "INSERT INTO main.rule_programs (rule_id, os, program, comment)"
     " SELECT o.id, x.item ->> '$[0]', x.item ->> '$[1]', x.rv" ADDED_RULE_ENTRIES("rule_program") ";"
     /* A category the admin deleted is not brought back by a rule's entry. */
     "INSERT INTO main.rule_categories (rule_id, category) SELECT o.id, x.item"
     ADDED_RULE_ENTRIES("rule_category")
     " AND x.item IN (SELECT name FROM main.categories);"
     "INSERT INTO main.rule_sources (rule_id, source, comment) SELECT o.id, x.item, x.rv"
     ADDED_RULE_ENTRIES("rule_source") ";"},
    {"refreshing the entries of vendor apps", false,
     "DELETE FROM main.app_domains AS e WHERE " MATCH_APP_ENTRY("app_domain", "e.domain") REMOVED ";"
     "DELETE FROM main.app_programs AS e WHERE "
     MATCH_APP_ENTRY("app_program", "json_array(e.os, e.program)") REMOVED ";"
     "UPDATE main.app_domains AS e SET note = (SELECT x.rv FROM vm_x x"
     "  JOIN main.apps o ON o.name = x.owner AND o.origin = 'vendor' WHERE x.kind = 'app_domain'"
     "  AND o.id = e.app_id AND x.item = e.domain)"
     " WHERE " MATCH_APP_ENTRY("app_domain", "e.domain") CHANGED_VALUE ";"
     "UPDATE main.app_programs AS e SET note = (SELECT x.rv FROM vm_x x"
     "  JOIN main.apps o ON o.name = x.owner AND o.origin = 'vendor' WHERE x.kind = 'app_program'"
     "  AND o.id = e.app_id AND x.item = json_array(e.os, e.program))"
     " WHERE " MATCH_APP_ENTRY("app_program", "json_array(e.os, e.program)") CHANGED_VALUE ";"
     "INSERT INTO main.app_domains (app_id, domain, note) SELECT o.id, x.item, x.rv"
     ADDED_APP_ENTRIES("app_domain") ";"
     "INSERT INTO main.app_programs (app_id, os, program, note)"
     " SELECT o.id, x.item ->> '$[0]', x.item ->> '$[1]', x.rv" ADDED_APP_ENTRIES("app_program") ";"},
    {"adding new settings", false,
     "INSERT OR IGNORE INTO main.settings (key, value, comment)"
     " SELECT key, value, comment FROM v.settings;"},
    {"recording the vendor baseline", false,
     "DELETE FROM main.vendor_base;"
     "INSERT INTO main.vendor_base (kind, owner, item, value)"
     " SELECT kind, owner, item, value FROM vm_n;"},
};

const struct ps_vmerge_stmt *
ps_vmerge_stmts(size_t *n)
{
    *n = sizeof(stmts) / sizeof(stmts[0]);
    return stmts;
}

const char ps_vmerge_report_sql[] =
    "SELECT kind, owner, item, op, local, vendor, lp, np FROM vm_report"
    " ORDER BY CASE fam WHEN 'setting' THEN 0 WHEN 'category' THEN 1 WHEN 'app' THEN 2"
    " ELSE 3 END, owner, item <> 'exists' OR kind NOT IN ('rule', 'app', 'category'), kind, item";
