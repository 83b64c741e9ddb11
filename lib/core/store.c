#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "decide.h"
#include "err.h"
#include "snapshot.h"
#include "store.h"
#include "store_int.h"
#include "text.h"
#include "tmpfile.h"

/* The largest SQL file ps_store_create reads (schema, vendor rules, defaults): far above any
 * real one (the shipped files are tens of KiB), low enough to refuse a wrong path to a huge
 * file before it is read into memory. */
#define SQL_FILE_MAX ((size_t)64 << 20)

/* The statements that read a snapshot, in one read transaction. Expiry is converted by SQLite
 * (strftime parses exactly what rule_overview's julianday() does). 0 means "never", so a set
 * expiry is at least 1 (the epoch, or any time before it, is long past), one SQLite cannot read
 * is 1 too (expired: the rule stops matching), and a fraction of a second rounds up (the rule
 * expires when now >= expires_at, as rule_overview's expired does). The position is read as
 * rule_overview sorts it: CAST(... AS INTEGER). */
static const char sql_settings[] = "SELECT key, value FROM settings";
static const char sql_rules[] =
    "SELECT id, name, action, CAST(coalesce(position, id) AS INTEGER), "
    "CASE WHEN expires_at IS NULL THEN 0 ELSE max(1, coalesce("
    "CAST(strftime('%s', expires_at) AS INTEGER) + (CAST(strftime('%f', expires_at) AS REAL) > "
    "CAST(strftime('%S', expires_at) AS INTEGER)), 1)) END, "
    "mode = 'monitor', verify, verify_ca_file FROM rules WHERE enabled = 1";
/* Entries of disabled rules are not read: a bad entry in a rule that is off must not stop the
 * rules that are on from loading (`pinsplice db check` still reports it). */
/* "+rule_id" keeps SQLite from walking the UNIQUE(rule_id, domain) index, which reads the rows
 * in index order (random page reads) instead of in one pass over the table. */
#define ENABLED_ONLY " WHERE +rule_id IN (SELECT id FROM rules WHERE enabled = 1)"
static const char sql_domains[] = "SELECT rule_id, domain, exact FROM rule_domains" ENABLED_ONLY;
static const char sql_programs[] = "SELECT rule_id, program FROM rule_programs" ENABLED_ONLY;
static const char sql_categories[] = "SELECT rule_id, category FROM rule_categories" ENABLED_ONLY;
static const char sql_sources[] = "SELECT rule_id, source FROM rule_sources" ENABLED_ONLY;
static const char sql_destinations[] =
    "SELECT rule_id, cidr FROM rule_destinations" ENABLED_ONLY;
static const char sql_pins[] =
    "SELECT rule_id, spki_sha256 FROM rule_pins" ENABLED_ONLY " ORDER BY rule_id, spki_sha256";
static const char sql_catdomains[] = "SELECT category, domain FROM category_domains";

/* On an entry's error, say which rule it belongs to by name (the builder knows only the id). */
static void
name_rule(sqlite3 *db, const char *sql, sqlite3_int64 id, struct ps_err *err)
{
    sqlite3_stmt *st = NULL;

    if (strstr(sql, "rule_id") != sql + 7) /* only "SELECT rule_id, ..." rows carry a rule */
        return;
    if (sqlite3_prepare_v2(db, "SELECT name FROM rules WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            ps_err_prefix(err, "rule '%.80s'", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
}

/* Run one query and hand every row to fn. */
typedef int row_fn(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err);

static int
each_row(sqlite3 *db, const char *path, const char *sql, row_fn *fn, struct ps_builder *b,
         struct ps_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return ps_store_db_err(db, path, "preparing a query (is this a pinsplice DB?)", err);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(st, b, err);
        if (rc < 0) {
            name_rule(db, sql, sqlite3_column_int64(st, 0), err);
            break;
        }
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = ps_store_db_err(db, path, "reading", err);
    sqlite3_finalize(st);
    return rc;
}

static const char *
text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return t ? (const char *)t : "";
}

static int
row_setting(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_setting(b, text(st, 0), text(st, 1), err);
}

static int
row_rule(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    enum ps_action a;

    if (ps_action_parse(text(st, 2), &a) < 0)
        return ps_err_set(err, PS_EINVAL, "rule '%.80s': bad action '%.20s'", text(st, 1),
                          text(st, 2));
    if (ps_builder_rule(b, sqlite3_column_int64(st, 0), text(st, 1), a,
                        sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), err) < 0)
        return PS_EINVAL;
    /* A NUL inside the path would name another file than the one stored: refused (the
     * management triggers refuse it too). */
    if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
        (size_t)sqlite3_column_bytes(st, 7) != strlen(text(st, 7)))
        return ps_err_set(err, PS_EINVAL, "rule '%.80s': verify_ca_file holds a NUL byte",
                          text(st, 1));
    return ps_builder_rule_opts(b, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 5) != 0,
                                text(st, 6),
                                sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL : text(st, 7),
                                err);
}

static int
row_domain(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_domain(b, sqlite3_column_int64(st, 0), text(st, 1),
                             sqlite3_column_int(st, 2) != 0, err);
}

static int
row_program(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_program(b, sqlite3_column_int64(st, 0), text(st, 1), err);
}

static int
row_category(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_category(b, sqlite3_column_int64(st, 0), text(st, 1), err);
}

static int
row_source(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_source(b, sqlite3_column_int64(st, 0), text(st, 1), err);
}

static int
row_destination(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_destination(b, sqlite3_column_int64(st, 0), text(st, 1), err);
}

static int
row_pin(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_pin(b, sqlite3_column_int64(st, 0), text(st, 1), err);
}

static int
row_catdomain(sqlite3_stmt *st, struct ps_builder *b, struct ps_err *err)
{
    return ps_builder_category_domain(b, text(st, 0), text(st, 1), err);
}

int
ps_store_load(const char *path, int busy_ms, struct ps_snapshot **out, struct ps_err *err)
{
    static const struct {
        const char *sql;
        row_fn *fn;
    } steps[] = {
        {sql_settings, row_setting},     {sql_rules, row_rule},
        {sql_domains, row_domain},       {sql_programs, row_program},
        {sql_categories, row_category},  {sql_sources, row_source},
        {sql_destinations, row_destination}, {sql_pins, row_pin},
        {sql_catdomains, row_catdomain},
    };
    struct ps_store_ro ro = {NULL, false, {0}};
    sqlite3 *db;
    struct ps_builder *b = NULL;
    size_t i;
    int rc;

    rc = ps_store_open_ro(path, busy_ms, &ro, err);
    if (rc < 0)
        goto done;
    db = ro.db;
    b = ps_builder_new();
    if (b == NULL) {
        rc = ps_err_set(err, PS_ENOMEM, "out of memory");
        goto done;
    }
    /* One read transaction: a concurrent edit is seen whole or not at all. */
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = ps_store_db_err(db, path, "starting a read", err);
        goto done;
    }
    rc = ps_store_check_version(db, path, err);
    for (i = 0; rc == 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
        rc = each_row(db, path, steps[i].sql, steps[i].fn, b, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    rc = ps_store_close_ro(&ro, path, rc, err);
    if (rc < 0) {
        if (rc == PS_EINVAL)
            ps_err_prefix(err, "%s", path);
        goto done;
    }
    rc = ps_builder_finish(b, out, err);
    b = NULL;
done:
    ps_builder_free(b);
    sqlite3_close(ro.db);
    return rc;
}

int
ps_store_create(const char *path, const char *const *sql_files, size_t n_files, bool force,
                struct ps_err *err)
{
    char tmp[4096];
    sqlite3 *db = NULL;
    char *sql = NULL, *msg = NULL;
    size_t i;
    int rc = 0;

    if (!force && access(path, F_OK) == 0)
        return ps_err_set(err, PS_EINVAL, "%s: exists (use --force to replace it)", path);
    if ((rc = ps_tmpfile_create(path, "new", tmp, sizeof(tmp), err)) < 0)
        return rc;
    if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = ps_err_set(err, PS_EDB, "%s: %s", tmp, db ? sqlite3_errmsg(db) : "cannot create");
        goto done;
    }
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK) {
        rc = ps_err_set(err, PS_EDB, "%s: %s", tmp, msg ? msg : "BEGIN failed");
        goto done;
    }
    for (i = 0; i < n_files; i++) {
        rc = ps_file_read(sql_files[i], SQL_FILE_MAX, &sql, NULL, err);
        if (rc < 0)
            goto done;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
            rc = ps_err_set(err, PS_EDB, "%s: %s", sql_files[i], msg ? msg : "failed");
            goto done;
        }
        free(sql);
        sql = NULL;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        rc = ps_err_set(err, PS_EDB, "%s: %s", tmp, msg ? msg : "COMMIT failed");
        goto done;
    }
    if (sqlite3_close(db) != SQLITE_OK) {
        rc = ps_err_set(err, PS_EDB, "%s: close failed", tmp);
        db = NULL;
        goto done;
    }
    db = NULL;
    if (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0)
        rc = ps_err_set(err, PS_EIO, "%s: %s", path, strerror(errno));
done:
    sqlite3_free(msg);
    free(sql);
    sqlite3_close(db);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

struct foreach_ctx {
    ps_store_entry_fn *fn;
    void *ud;
};

int
ps_store_foreach(const char *path, ps_store_entry_fn *fn, void *ud, struct ps_err *err)
{
    static const char rules_sql[] =
        "SELECT id, name, enabled, coalesce(position, id) FROM rules ORDER BY 4, id";
    static const char entries_sql[] =
        "SELECT 'domain', r.id, r.name, r.enabled, e.domain, e.exact, NULL, coalesce(r.position, r.id)"
        " FROM rule_domains e JOIN rules r ON r.id = e.rule_id"
        " UNION ALL SELECT 'program', r.id, r.name, r.enabled, e.program, 0, e.os, coalesce(r.position, r.id)"
        " FROM rule_programs e JOIN rules r ON r.id = e.rule_id"
        " UNION ALL SELECT 'category', r.id, r.name, r.enabled, e.category, 0, NULL, coalesce(r.position, r.id)"
        " FROM rule_categories e JOIN rules r ON r.id = e.rule_id"
        " UNION ALL SELECT 'source', r.id, r.name, r.enabled, e.source, 0, NULL, coalesce(r.position, r.id)"
        " FROM rule_sources e JOIN rules r ON r.id = e.rule_id"
        " UNION ALL SELECT 'destination', r.id, r.name, r.enabled, e.cidr, 0, NULL, coalesce(r.position, r.id)"
        " FROM rule_destinations e JOIN rules r ON r.id = e.rule_id"
        " UNION ALL SELECT 'known-category', 0, NULL, 1, name, 0, NULL, NULL FROM categories"
        " ORDER BY 8, 2, 1, 5";
    struct ps_store_ro ro = {NULL, false, {0}};
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int rc, step = SQLITE_DONE, pass;

    rc = ps_store_open_ro(path, 1000, &ro, err);
    if (rc < 0)
        return rc;
    db = ro.db;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        (rc = ps_store_check_version(db, path, err)) < 0) {
        if (rc == 0)
            rc = ps_store_db_err(db, path, "starting a read", err);
        goto done;
    }
    for (pass = 0; pass < 2 && rc == 0; pass++) {
        if (sqlite3_prepare_v2(db, pass ? entries_sql : rules_sql, -1, &st, NULL) != SQLITE_OK) {
            rc = ps_store_db_err(db, path, "preparing a query", err);
            goto done;
        }
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
            struct ps_store_entry e;
            memset(&e, 0, sizeof(e));
            if (pass == 0) {
                e.kind = "rule";
                e.rule_id = sqlite3_column_int64(st, 0);
                e.rule_name = text(st, 1);
                e.enabled = sqlite3_column_int(st, 2) != 0;
                e.position = sqlite3_column_int64(st, 3);
            } else {
                e.kind = text(st, 0);
                e.rule_id = sqlite3_column_int64(st, 1);
                e.rule_name = text(st, 2);
                e.enabled = sqlite3_column_int(st, 3) != 0;
                e.value = text(st, 4);
                e.exact = sqlite3_column_int(st, 5) != 0;
                e.os = sqlite3_column_type(st, 6) == SQLITE_NULL ? NULL : text(st, 6);
                e.position = sqlite3_column_int64(st, 7);
            }
            rc = fn(&e, ud);
        }
        if (rc == 0 && step != SQLITE_DONE)
            rc = ps_store_db_err(db, path, "reading", err);
        sqlite3_finalize(st);
        st = NULL;
    }
done:
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return ps_store_close_ro(&ro, path, rc, err);
}

/* Read len bytes at off of a regular file, never blocking (the path may be a FIFO: that is
 * refused by the load; here it must not wait). Returns 0 or -1; buf is unchanged on -1. */
static int
read_at(const char *path, off_t off, unsigned char *buf, size_t len)
{
    unsigned char tmp[16];
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), rc = -1;

    if (fd < 0)
        return -1;
    if (len <= sizeof(tmp) && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        pread(fd, tmp, len, off) == (ssize_t)len) {
        memcpy(buf, tmp, len);
        rc = 0;
    }
    close(fd);
    return rc;
}

int
ps_store_fingerprint(const char *path, struct ps_store_fp *out)
{
    static const char *const suffix[] = {"", "-wal"};
    struct ps_store_fp fp;
    size_t i;
    char p[4096];

    memset(&fp, 0, sizeof(fp));
    for (i = 0; i < 2; i++) {
        struct stat st;
        if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >= sizeof(p))
            return PS_ETOOLONG;
        if (stat(p, &st) < 0)
            continue;
        fp.f[i].exists = true;
        fp.f[i].dev = (unsigned long long)st.st_dev;
        fp.f[i].ino = (unsigned long long)st.st_ino;
        fp.f[i].size = (long long)st.st_size;
        fp.f[i].mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    }
    /* The header's file change counter (offset 24) moves on every commit in rollback-journal
     * mode, even when two commits land within one mtime tick and leave the size unchanged. */
    if (fp.f[0].exists) {
        unsigned char h[4];
        if (read_at(path, 24, h, sizeof(h)) == 0)
            fp.change_counter = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
                                (uint32_t)h[2] << 8 | h[3];
    }
    /* In WAL mode, a WAL restarted from its start (same size, maybe the same tick) gets a new
     * checkpoint sequence and salt (offsets 12-19 of its header). */
    if (fp.f[1].exists && snprintf(p, sizeof(p), "%s-wal", path) > 0)
        (void)read_at(p, 12, fp.wal_header, sizeof(fp.wal_header));
    *out = fp;
    return 0;
}

int
ps_store_catalogue_apps(const char *path, const char *const *names, size_t n, char *apps,
                        size_t size, struct ps_err *err)
{
    static const char sql[] =
        "SELECT a.name FROM app_domains d JOIN apps a ON a.id = d.app_id"
        " WHERE d.domain = ?1 OR (length(?1) > length(d.domain)"
        "   AND substr(?1, length(?1) - length(d.domain)) = '.' || d.domain)"
        " ORDER BY length(d.domain) DESC, a.id LIMIT 1";
    struct ps_store_ro ro = {NULL, false, {0}};
    sqlite3_stmt *st = NULL;
    const unsigned char *v;
    size_t i;
    int rc, step;

    if (size == 0)
        return ps_err_set(err, PS_EINVAL, "catalogue apps: no room");
    for (i = 0; i < n; i++)
        apps[i * size] = '\0';
    if ((rc = ps_store_open_ro(path, 1000, &ro, err)) < 0)
        return rc;
    if (sqlite3_exec(ro.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        (rc = ps_store_check_version(ro.db, path, err)) < 0) {
        if (rc == 0)
            rc = ps_store_db_err(ro.db, path, "starting a read", err);
        goto done;
    }
    if (sqlite3_prepare_v2(ro.db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = ps_store_db_err(ro.db, path, "preparing a query", err);
        goto done;
    }
    for (i = 0; i < n && rc == 0; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        if ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if ((v = sqlite3_column_text(st, 0)) != NULL)
                snprintf(apps + i * size, size, "%s", (const char *)v);
        } else if (step != SQLITE_DONE) {
            rc = ps_store_db_err(ro.db, path, "reading the app catalogue", err);
        }
    }
done:
    sqlite3_finalize(st);
    if (rc < 0)
        for (i = 0; i < n; i++)
            apps[i * size] = '\0';
    return ps_store_close_ro(&ro, path, rc, err);
}
