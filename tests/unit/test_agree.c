/* The SQL interface and the loader agree (issue 12, items 4, 5, 7): every edit the tables and
 * views accept must be loadable by ps_store_load, with the order and expiry rule_overview shows.
 *
 * Generated values (lengths in bytes and characters around every limit, every byte as a character,
 * non-ASCII, NUL, IPv4/IPv6/CIDR edge cases, numbers, dates, each bound as text and some as
 * integer, real, blob and NULL) go through every column's INSERT and UPDATE and the management
 * views, on a DB made from sql/schema.sql + sql/audit.sql + sql/manage.sql. When SQLite accepts a statement, the
 * DB is loaded; a load failure, an order that differs from rule_overview's, or an expiry instant
 * that differs from rule_overview's "expired" is a disagreement. All disagreements are printed;
 * the test fails if there is any. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "err.h"
#include "snapshot.h"
#include "store.h"

/* ---- values --------------------------------------------------------------------------------- */

enum vtype { V_TEXT, V_INT, V_REAL, V_BLOB, V_NULL };

struct val {
    enum vtype t;
    char *s; /* text or blob bytes */
    size_t len;
    sqlite3_int64 i;
    double r;
};

static struct val *vals;
static size_t nvals, capvals;

static void
add_val(enum vtype t, const char *s, size_t len, sqlite3_int64 i, double r)
{
    struct val *v;

    if (nvals == capvals) {
        capvals = capvals ? 2 * capvals : 256;
        vals = realloc(vals, capvals * sizeof(*vals));
        assert_non_null(vals);
    }
    v = &vals[nvals++];
    memset(v, 0, sizeof(*v));
    v->t = t;
    if (s != NULL) {
        v->s = malloc(len + 1);
        assert_non_null(v->s);
        memcpy(v->s, s, len);
        v->s[len] = '\0';
        v->len = len;
    }
    v->i = i;
    v->r = r;
}

static void
add_text(const char *s)
{
    add_val(V_TEXT, s, strlen(s), 0, 0);
}

/* unit repeated n times */
static void
add_repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit), i;
    char *buf = malloc(ul * n + 1);

    assert_non_null(buf);
    for (i = 0; i < n; i++)
        memcpy(buf + i * ul, unit, ul);
    add_val(V_TEXT, buf, ul * n, 0, 0);
    free(buf);
}

/* A name of n characters with a dot every `every` characters (never at an end). */
static void
add_dotted(size_t n, size_t every)
{
    char *buf = malloc(n + 1);
    size_t i;

    assert_non_null(buf);
    for (i = 0; i < n; i++)
        buf[i] = (every && (i + 1) % (every + 1) == 0 && i + 1 < n) ? '.' : 'a';
    add_val(V_TEXT, buf, n, 0, 0);
    free(buf);
}

static void
gen_values(void)
{
    static const char *const fixed[] = {
        "", " ", "a", " a", "a ", "A", "a b", "zoom.us", "Zoom.US", "www.zoom.us",
        "xn--bcher-kva.example", "bücher.example", "a.b", "a..b", ".a", "a.", "-a.b", "a-.b",
        "a.-b", "a_b.c", "*.a.b", "a/b", "a\\b", "a:443", "1.2", "a.123", "a.b1", "123",
        "localhost", "user:alice", "user:", "user: a", "user:a ", "user:a b", "user:ü",
        "USER:a", "10.0.0.0/8", "10.20.0.1/16", "10.20.0.0/16", "/99", "10.0.0.0/99",
        "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/1000", "0.0.0.0/0", "1.2.3.4", "01.2.3.4",
        "1.2.3.256", "1.2.3", "1.2.3.4.5", "1.2.3.4/33", "1.2.3.4/32", "1.2.3.4/31",
        "255.255.255.255", "::::", ":::", "::", "::1", "::/0", "::1/128", "::1/127", "1::/129",
        "2001:db8::/32", "2001:DB8::/32", "2001:db8::1/32", "2001:db8::/33", "fe80::/10",
        "fe80::1%eth0", "::ffff:10.0.0.1", "::ffff:a00:1", "::ffff:a00:0/104",
        "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
        "1::2::3", "12345::", "1:2:3:4:5:6:7", ":1::", "1::", "1::/16", "ffff::/1",
        "8000::/1", "10.0.0.0/8, 192.168.0.0/16", "10.0.0.0/8,,::1", " 10.0.0.0/8 ",
        "10.0.0.0/8 ::::", "10.0.0.0/8\t::1", "10.0.0.0/8;::1", "splice", "bump", "terminate",
        "Splice", "off", "ip", "IP", "host", "ignore", "/etc/ssl/certs/ca.pem", "etc/ca.pem",
        "/", "99", "100", "3000", "30000", "30001", "0100", "1e3", "3000 ", "2026-12-31 18:00:00",
        "2026-12-31", "2026-12-31T18:00:00", "2026-12-31T18:00:00Z", "2026-12-31 18:00:00+02:00",
        "2026-12-31 18:00:00.5", "2026-12-31 18:00:00.000", "2026-12-31 18:00", "1970-01-01 00:00:00",
        "1970-01-01", "1970-01-01 00:00:01", "1969-12-31 23:59:59", "0000-01-01", "9999-12-31 23:59:59",
        "2026-02-30", "2026-13-01", "now", "12:00", "12:00:00", "2461000.5", "0", "1", "-1", "2",
        "5", "5.5", "5.0", "x", "0x10", "9223372036854775807", "9223372036854775808", "1e30",
        "windows", "macos", "linux", "any", "Windows", "vendor", "local", "zoom.exe", "Zoom.EXE",
        "c", "C", "domain", "program", "both", "Financial Services",
        /* schema v2: mode, verify, pins, destinations */
        "enforce", "monitor", "Monitor", "inherit", "always", "Enforce ",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=",
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==",
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU==", "=7DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "SHA256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "10.0.0.1", "10.0.0.1/32", "192.0.2.0/24", "::1/128", "2001:db8::1", "2001:0db8::/32",
        "0.0.0.0/8", "10.0.0.0/7", "/tmp/ca.pem", "/tmp/ca\n.pem", "//", "/a b", "/etc/",
    };
    static const char *const units[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    static const size_t lens[] = {1, 2, 5, 42, 43, 44, 62, 63, 64, 84, 85, 86, 99, 100, 101, 127,
                                  128, 199, 200, 201, 252, 253, 254, 255, 256};
    size_t i, j;
    char b[8];

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        add_text(fixed[i]);
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
            add_repeat(units[i], lens[j]);
    for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
        add_dotted(lens[j], 9);
        add_dotted(lens[j], 63);
        add_dotted(lens[j], 64);
    }
    /* every byte inside a name; the ones that matter at an end also at the start and the end */
    for (i = 0; i < 256; i++) {
        b[0] = 'a';
        b[1] = (char)i;
        b[2] = 'b';
        add_val(V_TEXT, b, 3, 0, 0);
        if (i <= ' ' || strchr(".-_/\\:*?[A", (int)i) != NULL || i >= 0x7f) {
            if (i > ' ' && i < 0x7f) {
                add_val(V_TEXT, b + 1, 2, 0, 0);
                add_val(V_TEXT, b, 2, 0, 0);
            } else if (i == 0 || i == ' ' || i == '\t' || i == 0x7f || i == 0x80 || i == 0xff) {
                add_val(V_TEXT, b + 1, 2, 0, 0);
                add_val(V_TEXT, b, 2, 0, 0);
            }
        }
    }
    add_val(V_TEXT, "zoom.us\0evil", 12, 0, 0);
    add_val(V_TEXT, "zoom.exe\0x", 10, 0, 0);
    add_val(V_TEXT, "10.0.0.0/8\0", 11, 0, 0);
    add_val(V_INT, NULL, 0, 0, 0);
    add_val(V_INT, NULL, 0, 1, 0);
    add_val(V_INT, NULL, 0, -1, 0);
    add_val(V_INT, NULL, 0, 5, 0);
    add_val(V_INT, NULL, 0, 2461000, 0);
    add_val(V_INT, NULL, 0, INT64_MAX, 0);
    add_val(V_REAL, NULL, 0, 0, 0.0);
    add_val(V_REAL, NULL, 0, 0, 5.5);
    add_val(V_REAL, NULL, 0, 0, 5.0);
    add_val(V_REAL, NULL, 0, 0, 2461000.5);
    add_val(V_REAL, NULL, 0, 0, 1e30);
    add_val(V_BLOB, "a", 1, 0, 0);
    add_val(V_BLOB, "zoom.us", 7, 0, 0);
    add_val(V_BLOB, "10.0.0.0/8", 10, 0, 0);
    add_val(V_BLOB, "", 0, 0, 0);
    add_val(V_NULL, NULL, 0, 0, 0);
}

static void
free_values(void)
{
    size_t i;

    for (i = 0; i < nvals; i++)
        free(vals[i].s);
    free(vals);
    vals = NULL;
    nvals = capvals = 0;
}

static void
bind_val(sqlite3_stmt *st, const struct val *v)
{
    switch (v->t) {
    case V_TEXT: sqlite3_bind_text(st, 1, v->s, (int)v->len, SQLITE_STATIC); break;
    case V_INT: sqlite3_bind_int64(st, 1, v->i); break;
    case V_REAL: sqlite3_bind_double(st, 1, v->r); break;
    case V_BLOB: sqlite3_bind_blob(st, 1, v->s, (int)v->len, SQLITE_STATIC); break;
    case V_NULL: sqlite3_bind_null(st, 1); break;
    }
}

static void
show_val(const struct val *v, char *out, size_t n)
{
    size_t i, o = 0;

    switch (v->t) {
    case V_INT: snprintf(out, n, "integer %lld", (long long)v->i); return;
    case V_REAL: snprintf(out, n, "real %g", v->r); return;
    case V_NULL: snprintf(out, n, "NULL"); return;
    case V_BLOB: o = (size_t)snprintf(out, n, "blob "); break;
    case V_TEXT: break;
    }
    o += (size_t)snprintf(out + o, n - o, "'");
    for (i = 0; i < v->len && o + 8 < n; i++) {
        unsigned char c = (unsigned char)v->s[i];
        if (c < 0x20 || c >= 0x7f || c == '\'')
            o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (i < v->len)
        o += (size_t)snprintf(out + o, n - o, "...(%zu bytes)", v->len);
    snprintf(out + o, n - o, "'");
}

/* ---- the databases ---------------------------------------------------------------------------- */

static char *
slurp(const char *name)
{
    const char *dir = getenv("PS_SQLDIR");
    char path[4096];
    FILE *f;
    char *buf;
    long len;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "sql", name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set PS_SQLDIR)", path);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("SQL failed: %s\n%.200s", msg ? msg : "?", sql);
}

/* NTARGET rows in every table, ids (or rowids) 1..NTARGET, so that an UPDATE of value k changes
 * row k: one DB holds every accepted value of a statement at once and is loaded once (a failing
 * load is bisected down to the value). Two rules with entries of every kind, a used and an unused
 * category, an app. */
#define NTARGET 700
#define SEQ "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700) "
static const char base_data[] =
    SEQ "INSERT INTO rules (name) SELECT 't' || i FROM n;"
    SEQ "INSERT INTO rule_domains (rule_id, domain) SELECT 1, 'd' || i || '.example' FROM n;"
    SEQ "INSERT INTO rule_programs (rule_id, program) SELECT 1, 'p' || i || '.exe' FROM n;"
    SEQ "INSERT INTO rule_sources (rule_id, source) SELECT i, '10.0.0.0/8' FROM n;"
    SEQ "INSERT INTO categories (name) SELECT 'u' || i FROM n;"
    "INSERT INTO categories (name) VALUES ('c');"
    SEQ "INSERT INTO rule_categories (rule_id, category) SELECT i, 'c' FROM n;"
    SEQ "INSERT INTO category_domains (category, domain) SELECT 'c', 'cd' || i || '.example' FROM n;"
    SEQ "INSERT INTO apps (name) SELECT 'A' || i FROM n;"
    SEQ "INSERT INTO app_domains (app_id, domain) SELECT 1, 'a' || i || '.example' FROM n;"
    SEQ "INSERT INTO app_programs (app_id, program) SELECT 1, 'a' || i || '.exe' FROM n;"
    SEQ "INSERT INTO settings (key, value) SELECT 'x' || i, '' FROM n;"
    SEQ "INSERT INTO rule_destinations (rule_id, cidr) SELECT 1, '10.' || (i / 256) || '.' || (i % 256)"
        " || '.0/24' FROM n;"
    SEQ "INSERT INTO rule_pins (rule_id, spki_sha256) SELECT i,"
        " 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' FROM n;"
    SEQ "INSERT INTO app_destinations (app_id, cidr) SELECT 1, '10.' || (i / 256) || '.' || (i % 256)"
        " || '.0/24' FROM n;"
    "INSERT INTO rules (name) VALUES ('r');"
    "INSERT INTO rules (name, action) VALUES ('s', 'bump');"
    "INSERT INTO rule_domains (rule_id, domain) VALUES (701, 'zoom.us');"
    "INSERT INTO rule_programs (rule_id, program) VALUES (702, 'zoom.exe');"
    "INSERT INTO rule_sources (rule_id, source) VALUES (702, '10.0.0.0/8');"
    "INSERT INTO rule_categories (rule_id, category) VALUES (701, 'c');"
    "INSERT INTO apps (name) VALUES ('A');"
    "INSERT INTO app_domains (app_id, domain) VALUES (701, 'a.example');"
    "INSERT INTO app_programs (app_id, program) VALUES (701, 'a.exe');"
    "INSERT INTO app_destinations (app_id, cidr) VALUES (701, '192.0.2.0/24');"
    "INSERT INTO rule_destinations (rule_id, cidr) VALUES (702, '192.0.2.0/24');";

static sqlite3 *
base_db(void)
{
    sqlite3 *db = NULL;
    char *s;

    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    s = slurp("schema.sql");
    exec_ok(db, s);
    free(s);
    s = slurp("audit.sql");
    exec_ok(db, s);
    free(s);
    s = slurp("manage.sql");
    exec_ok(db, s);
    free(s);
    exec_ok(db, base_data);
    return db;
}

static void
restore(sqlite3 *dst, sqlite3 *src)
{
    sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");

    assert_non_null(bk);
    assert_int_equal(sqlite3_backup_step(bk, -1), SQLITE_DONE);
    assert_int_equal(sqlite3_backup_finish(bk), SQLITE_OK);
}

/* ---- agreement on a loaded DB ---------------------------------------------------------------- */

/* The loader's rule order is rule_overview's (restricted to the rules the loader reads), and
 * every rule expires at the instant rule_overview's "expired" turns 1. Returns NULL or what
 * differs. */
static const char *
agree(sqlite3 *db, const struct ps_snapshot *s, char *why, size_t n)
{
    sqlite3_stmt *st = NULL, *ex = NULL;
    size_t k = 0, nr = ps_snapshot_nrules(s), i;
    int step;

    assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM rule_overview", -1, &st, NULL),
                     SQLITE_OK);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && k < nr) {
        if (sqlite3_column_int64(st, 0) == ps_snapshot_rule(s, k)->id)
            k++;
    }
    sqlite3_finalize(st);
    if (k != nr) {
        snprintf(why, n, "rule order: the loader's rule %zu (id %lld) is not where rule_overview has it",
                 k, (long long)ps_snapshot_rule(s, k)->id);
        return why;
    }
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT expires_at IS NULL,"
                                        " julianday(expires_at) <= julianday(?2, 'unixepoch'),"
                                        " julianday(expires_at) <= julianday(?2 - 1, 'unixepoch'),"
                                        " expires_at FROM rules WHERE id = ?1",
                                        -1, &ex, NULL),
                     SQLITE_OK);
    for (i = 0; i < nr; i++) {
        const struct ps_rule *r = ps_snapshot_rule(s, i);
        sqlite3_reset(ex);
        sqlite3_bind_int64(ex, 1, r->id);
        sqlite3_bind_int64(ex, 2, r->expires_at);
        assert_int_equal(sqlite3_step(ex), SQLITE_ROW);
        if ((r->expires_at == 0) != (sqlite3_column_int(ex, 0) == 1) ||
            (r->expires_at != 0 &&
             (sqlite3_column_int(ex, 1) != 1 || (r->expires_at > 1 && sqlite3_column_int(ex, 2) != 0)))) {
            snprintf(why, n, "expiry: rule id %lld: the loader says %lld, rule_overview's expires_at is '%s'",
                     (long long)r->id, (long long)r->expires_at,
                     sqlite3_column_text(ex, 3) ? (const char *)sqlite3_column_text(ex, 3) : "NULL");
            sqlite3_finalize(ex);
            return why;
        }
    }
    sqlite3_finalize(ex);
    return NULL;
}

/* ---- the statements --------------------------------------------------------------------------- */

/* ?1 = the value, ?2 = the target row (1..NTARGET): statements without ?2 change one fixed row
 * and are loaded after each accepted value. */
static const char *const stmts[] = {
    /* rules, every column */
    "INSERT INTO rules (name) VALUES (?1)",
    "UPDATE rules SET name = ?1 WHERE id = ?2",
    "INSERT INTO rules (name, action) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET action = ?1 WHERE id = ?2",
    "INSERT INTO rules (name, enabled) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET enabled = ?1 WHERE id = ?2",
    "INSERT INTO rules (name, position) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET position = ?1 WHERE id = ?2",
    "INSERT INTO rules (name, expires_at) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET expires_at = ?1 WHERE id = ?2",
    "INSERT INTO rules (name, origin) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET origin = ?1 WHERE id = ?2",
    "UPDATE rules SET comment = ?1 WHERE id = ?2",
    "UPDATE rules SET id = ?1 WHERE id = ?2",
    /* rules, the v2 columns */
    "INSERT INTO rules (name, mode) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET mode = ?1 WHERE id = ?2",
    "INSERT INTO rules (name, verify) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET verify = ?1 WHERE id = ?2",
    "INSERT INTO rules (name, verify_ca_file) VALUES ('n' || ?2, ?1)",
    "UPDATE rules SET verify_ca_file = ?1 WHERE id = ?2",
    /* rule_destinations, rule_pins, app_destinations (v2) */
    "INSERT INTO rule_destinations (rule_id, cidr) VALUES (701, ?1)",
    "UPDATE rule_destinations SET cidr = ?1 WHERE rowid = ?2",
    "INSERT INTO rule_destinations (rule_id, cidr) VALUES (?1, '11.' || (?2 / 256) || '.' || (?2 % 256) || '.0/24')",
    "UPDATE rule_destinations SET rule_id = ?1 WHERE rowid = ?2",
    "INSERT INTO rule_pins (rule_id, spki_sha256) VALUES (701, ?1)",
    "UPDATE rule_pins SET spki_sha256 = ?1 WHERE rowid = ?2",
    "UPDATE rule_pins SET rule_id = ?1 WHERE rowid = ?2",
    "INSERT INTO app_destinations (app_id, cidr) VALUES (701, ?1)",
    "UPDATE app_destinations SET cidr = ?1 WHERE rowid = ?2",
    /* rule_domains */
    "INSERT INTO rule_domains (rule_id, domain) VALUES (701, ?1)",
    "UPDATE rule_domains SET domain = ?1 WHERE id = ?2",
    "INSERT INTO rule_domains (rule_id, domain, exact) VALUES (701, 'x' || ?2 || '.example', ?1)",
    "UPDATE rule_domains SET exact = ?1 WHERE id = ?2",
    "INSERT INTO rule_domains (rule_id, domain) VALUES (?1, 'x' || ?2 || '.example')",
    "UPDATE rule_domains SET rule_id = ?1 WHERE id = ?2",
    /* rule_programs */
    "INSERT INTO rule_programs (rule_id, program) VALUES (702, ?1)",
    "UPDATE rule_programs SET program = ?1 WHERE id = ?2",
    "INSERT INTO rule_programs (rule_id, os, program) VALUES (702, ?1, 'p' || ?2 || '.exe')",
    "UPDATE rule_programs SET os = ?1 WHERE id = ?2",
    "UPDATE rule_programs SET rule_id = ?1 WHERE id = ?2",
    /* rule_categories */
    "INSERT INTO rule_categories (rule_id, category) VALUES (702, ?1)",
    "UPDATE rule_categories SET category = ?1 WHERE id = ?2",
    "UPDATE rule_categories SET rule_id = ?1 WHERE id = ?2",
    /* rule_sources */
    "INSERT INTO rule_sources (rule_id, source) VALUES (701, ?1)",
    "UPDATE rule_sources SET source = ?1 WHERE id = ?2",
    "UPDATE rule_sources SET rule_id = ?1 WHERE id = ?2",
    /* categories, category_domains */
    "INSERT INTO categories (name) VALUES (?1)",
    "UPDATE categories SET name = ?1 WHERE name = 'c'",
    "UPDATE categories SET name = ?1 WHERE rowid = ?2",
    "INSERT INTO category_domains (category, domain) VALUES ('c', ?1)",
    "UPDATE category_domains SET domain = ?1 WHERE domain = 'cd' || ?2 || '.example'",
    "INSERT INTO category_domains (category, domain) VALUES (?1, 'x' || ?2 || '.example')",
    "UPDATE category_domains SET category = ?1 WHERE domain = 'cd' || ?2 || '.example'",
    /* the catalogue (read by enable_app) */
    "INSERT INTO app_programs (app_id, program) VALUES (701, ?1)",
    "UPDATE app_programs SET program = ?1 WHERE id = ?2",
    "INSERT INTO app_domains (app_id, domain) VALUES (701, ?1)",
    "UPDATE app_domains SET domain = ?1 WHERE id = ?2",
    "INSERT INTO enable_app (app, by) VALUES ('A', ?1)",
    /* settings: every key the loader reads, and keys changed */
    "INSERT OR REPLACE INTO settings (key, value) VALUES ('default_action', ?1)",
    "UPDATE settings SET value = ?1 WHERE key = 'default_action'",
    "INSERT OR REPLACE INTO settings (key, value) VALUES ('program_trusted_sources', ?1)",
    "UPDATE settings SET value = ?1 WHERE key = 'program_trusted_sources'",
    "UPDATE settings SET value = ?1 WHERE key = 'splice_verify'",
    "INSERT OR REPLACE INTO settings (key, value) VALUES ('splice_verify', ?1)",
    "UPDATE settings SET value = ?1 WHERE key = 'verify_ca_file'",
    "UPDATE settings SET value = ?1 WHERE key = 'verify_timeout_ms'",
    "INSERT OR REPLACE INTO settings (key, value) VALUES ('verify_timeout_ms', ?1)",
    "UPDATE settings SET value = ?1 WHERE key = 'no_sni_action'",
    "UPDATE settings SET value = ?1 WHERE key = 'ip_sni_action'",
    "INSERT INTO settings (key, value) VALUES (?1, '10.0.0.0/99')",
    "UPDATE settings SET key = ?1 WHERE key = 'x' || ?2",
    /* the views */
    "INSERT INTO add_domain (rule, domain) VALUES ('r', ?1)",
    "INSERT INTO add_domain (rule, domain) VALUES (?1, 'x' || ?2 || '.example')",
    "INSERT INTO add_domain (rule, domain, exact) VALUES ('r', 'x' || ?2 || '.example', ?1)",
    "INSERT INTO add_program (rule, program) VALUES ('r', ?1)",
    "INSERT INTO add_program (rule, os, program) VALUES ('r', ?1, 'p' || ?2 || '.exe')",
    "INSERT INTO add_source (rule, source) VALUES ('r', ?1)",
    "INSERT INTO add_category (rule, category) VALUES ('r', ?1)",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'name', ?1 FROM rules WHERE id = ?2",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'action', ?1 FROM rules WHERE id = ?2",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'enabled', ?1 FROM rules WHERE id = ?2",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'position', ?1 FROM rules WHERE id = ?2",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'expires_at', ?1 FROM rules WHERE id = ?2",
    "INSERT INTO set_setting (key, value) VALUES ('default_action', ?1)",
    "INSERT INTO set_setting (key, value) VALUES ('program_trusted_sources', ?1)",
    "INSERT INTO set_setting (key, value) VALUES ('verify_timeout_ms', ?1)",
    "INSERT INTO add_destination (rule, cidr) VALUES ('r', ?1)",
    "INSERT INTO add_destination (rule, cidr) VALUES ('s', ?1)",
    "INSERT INTO add_pin (rule, spki_sha256) VALUES ('r', ?1)",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'mode', ?1 FROM rules WHERE id = ?2",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'verify', ?1 FROM rules WHERE id = ?2",
    "INSERT INTO edit_rule (rule, field, value) SELECT name, 'verify_ca_file', ?1 FROM rules WHERE id = ?2",
};

struct run {
    sqlite3 *base, *work;
    const char *path;
    size_t accepted, refused, loads, bad;
};

/* Apply values [lo, hi) of statement si to a fresh copy of the base; returns how many SQLite
 * accepted. */
static size_t
apply(struct run *r, size_t si, size_t lo, size_t hi, bool count)
{
    size_t vi, n = 0;

    sqlite3_stmt *st = NULL;

    restore(r->work, r->base);
    assert_int_equal(sqlite3_prepare_v2(r->work, stmts[si], -1, &st, NULL), SQLITE_OK);
    for (vi = lo; vi < hi; vi++) {
        int rc;

        sqlite3_reset(st);
        bind_val(st, &vals[vi]);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite3_bind_int64(st, 2, (sqlite3_int64)vi + 1);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            n++;
        if (count)
            *(rc == SQLITE_DONE ? &r->accepted : &r->refused) += 1;
    }
    sqlite3_finalize(st);
    return n;
}

/* Load; NULL or what disagrees. */
static const char *
check_load(struct run *r, char *why, size_t n)
{
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};
    const char *diff;

    r->loads++;
    if (ps_store_load(r->path, 100, &s, &err) != 0) {
        snprintf(why, n, "SQL accepts, the loader refuses: %s", err.msg);
        return why;
    }
    diff = agree(r->work, s, why, n);
    ps_snapshot_release(s);
    return diff;
}

/* Values [lo, hi) together; on a disagreement, halves until single values are left. */
static void
bisect(struct run *r, size_t si, size_t lo, size_t hi, bool count)
{
    char why[512], shown[160];
    size_t mid;

    if (apply(r, si, lo, hi, count) == 0 || check_load(r, why, sizeof(why)) == NULL)
        return;
    if (hi - lo == 1) {
        show_val(&vals[lo], shown, sizeof(shown));
        print_message("DISAGREE: %s with ?1 = %s: %s\n", stmts[si], shown, why);
        r->bad++;
        return;
    }
    mid = lo + (hi - lo) / 2;
    bisect(r, si, lo, mid, false);
    bisect(r, si, mid, hi, false);
}

static void
test_every_accepted_edit_loads(void **state)
{
    char path[64];
    struct run r;
    size_t si, vi;
    int fd;

    (void)state;
    memset(&r, 0, sizeof(r));
    /* tmpfs when there is one: ~100 loads and restores of a DB of a few MB */
    snprintf(path, sizeof(path), "%s/pinsplice-agree-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    r.path = path;
    gen_values();
    assert_true(nvals <= NTARGET);
    r.base = base_db();
    assert_int_equal(sqlite3_open(path, &r.work), SQLITE_OK);
    exec_ok(r.work, "PRAGMA synchronous = OFF");
    for (si = 0; si < sizeof(stmts) / sizeof(stmts[0]); si++) {
        if (strstr(stmts[si], "?2") != NULL || strncmp(stmts[si], "INSERT INTO ", 12) == 0) {
            bisect(&r, si, 0, nvals, true);
            continue;
        }
        /* one fixed row (a setting): each accepted value on its own */
        for (vi = 0; vi < nvals; vi++) {
            char why[512], shown[160];
            const char *diff;
            sqlite3_stmt *st = NULL;
            int rc;

            assert_int_equal(sqlite3_prepare_v2(r.work, stmts[si], -1, &st, NULL), SQLITE_OK);
            bind_val(st, &vals[vi]);
            rc = sqlite3_step(st);
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) {
                r.refused++;
                continue;
            }
            r.accepted++;
            diff = check_load(&r, why, sizeof(why));
            if (diff != NULL) {
                show_val(&vals[vi], shown, sizeof(shown));
                print_message("DISAGREE: %s with ?1 = %s: %s\n", stmts[si], shown, diff);
                r.bad++;
            }
            restore(r.work, r.base);
        }
    }
    print_message("agreement: %zu statements x %zu values: %zu accepted, %zu refused, %zu loads, "
                  "%zu disagreements\n",
                  sizeof(stmts) / sizeof(stmts[0]), nvals, r.accepted, r.refused, r.loads, r.bad);
    sqlite3_close(r.work);
    sqlite3_close(r.base);
    unlink(path);
    free_values();
    assert_true(r.accepted > 1000);
    assert_int_equal(r.bad, 0);
}

/* A DB written before the triggers (or by a tool that bypassed them) still loads with the order
 * and expiry rule_overview shows: non-integer positions, the epoch, a Julian day number, a
 * fraction of a second, a date before 1970. */
static void
test_legacy_values_agree(void **state)
{
    char path[] = "/tmp/pinsplice-agree-XXXXXX";
    sqlite3 *base, *work = NULL;
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};
    char why[512];
    const char *diff;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    base = base_db();
    assert_int_equal(sqlite3_open(path, &work), SQLITE_OK);
    restore(work, base);
    exec_ok(work,
            "DROP TRIGGER rules_check_insert; DROP TRIGGER rules_check_update;"
            "INSERT INTO rules (name, position) VALUES ('p1', 5.5), ('p2', 5), ('p3', 'abc'),"
            " ('p4', '7x'), ('p5', 1e3), ('p6', -2.5), ('p7', 6);"
            "INSERT INTO rules (name, expires_at) VALUES ('e1', '1970-01-01 00:00:00'),"
            " ('e2', '1970-01-01'), ('e3', 2461000.5), ('e4', '2026-12-31 18:00:00.5'),"
            " ('e5', '1969-07-20 20:17:40'), ('e6', '2999-01-01T00:00:00+01:00'), ('e7', 0),"
            " ('e8', '1970-01-01 00:00:00.001');"
            "INSERT INTO rule_domains (rule_id, domain) SELECT id, 'd' || id || '.example' FROM rules"
            " WHERE name GLOB '[pe][0-9]'");
    if (ps_store_load(path, 100, &s, &err) != 0)
        fail_msg("load failed: %s", err.msg);
    diff = agree(work, s, why, sizeof(why));
    if (diff != NULL)
        fail_msg("%s", diff);
    assert_int_equal(ps_snapshot_nrules(s), NTARGET + 2 + 7 + 8);
    ps_snapshot_release(s);
    sqlite3_close(work);
    sqlite3_close(base);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_accepted_edit_loads),
        cmocka_unit_test(test_legacy_values_agree),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
