#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "err.h"
#include "fixture.h"
#include "snapshot.h"
#include "store.h"

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

int
fx_exec(const char *path, const char *sql, int may_fail)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK && !may_fail)
        fail_msg("SQL failed: %s\n%s", msg ? msg : "?", sql);
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

char *
fx_db(const char *extra_sql, int with_defaults)
{
    static const char *const files[] = {"schema.sql", "audit.sql", "manage.sql", "vendor.sql",
                                        "defaults.sql"};
    char *path = strdup("/tmp/pinsplice-unit-XXXXXX");
    size_t i;
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (i = 0; i < (with_defaults ? 5u : 1u); i++) {
        char *sql = slurp(files[i]);
        fx_exec(path, sql, 0);
        free(sql);
    }
    if (extra_sql != NULL)
        fx_exec(path, extra_sql, 0);
    return path;
}

void
fx_remove(char *path)
{
    if (path == NULL)
        return;
    unlink(path);
    free(path);
}

struct ps_snapshot *
fx_snapshot(const char *extra_sql, int with_defaults)
{
    char *path = fx_db(extra_sql, with_defaults);
    struct ps_snapshot *s = NULL;
    struct ps_err err = {0, ""};

    if (ps_store_load(path, 100, &s, &err) != 0)
        fail_msg("load failed: %s", err.msg);
    fx_remove(path);
    return s;
}
