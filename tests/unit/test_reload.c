#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "decide.h"
#include "err.h"
#include "fixture.h"
#include "reload.h"
#include "snapshot.h"

/* The action for www.zoom.us under the reloader's current rules. */
static enum ps_action
zoom(struct ps_reload *r)
{
    struct ps_query q = {"www.zoom.us", NULL, NULL, NULL, NULL, 0, false};
    struct ps_decision d;
    struct ps_snapshot *s = ps_reload_acquire(r);

    ps_decide(s, &q, &d);
    ps_snapshot_release(s);
    return d.action;
}

static void
test_missing_then_present(void **state)
{
    char *db = fx_db(NULL, 1);
    char *path = strdup(db);
    struct ps_reload *r;
    struct ps_err err = {0, ""};
    struct ps_reload_stats st;

    (void)state;
    unlink(db);
    r = ps_reload_new(path, 0);
    assert_non_null(r);
    assert_int_equal(ps_reload_poll(r, true, &err), PS_ENOENT);
    assert_null(ps_reload_acquire(r));
    assert_int_equal(zoom(r), PS_ACTION_BUMP); /* no rules: fail closed */
    fx_remove(db);
    db = fx_db(NULL, 1);
    assert_int_equal(rename(db, path), 0);
    assert_int_equal(ps_reload_poll(r, false, &err), 1);
    assert_int_equal(zoom(r), PS_ACTION_SPLICE);
    assert_int_equal(ps_reload_poll(r, false, &err), 0); /* unchanged */
    ps_reload_stats(r, &st);
    assert_int_equal(st.loads, 1);
    assert_int_equal(st.failures, 1);
    ps_reload_free(r);
    free(db);
    unlink(path);
    free(path);
}

static void
test_edits_and_broken_db(void **state)
{
    char *db = fx_db(NULL, 1);
    char bad[4096];
    struct ps_reload *r = ps_reload_new(db, 0);
    struct ps_err err = {0, ""};
    FILE *f;

    (void)state;
    assert_int_equal(ps_reload_poll(r, false, &err), 1);
    assert_int_equal(zoom(r), PS_ACTION_SPLICE);
    /* two edits in quick succession are both seen (same size, maybe the same mtime tick) */
    fx_exec(db, "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured'", 0);
    assert_int_equal(ps_reload_poll(r, false, &err), 1);
    assert_int_equal(zoom(r), PS_ACTION_BUMP);
    fx_exec(db, "UPDATE rules SET enabled = 1 WHERE name = 'Bypass Zoom - Pre-configured'", 0);
    assert_int_equal(ps_reload_poll(r, false, &err), 1);
    assert_int_equal(zoom(r), PS_ACTION_SPLICE);
    /* replaced by garbage: the last good rules stay */
    snprintf(bad, sizeof(bad), "%s.bad", db);
    f = fopen(bad, "wb");
    assert_non_null(f);
    fputs("garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage "
          "garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage",
          f);
    fclose(f);
    assert_int_equal(rename(bad, db), 0);
    assert_true(ps_reload_poll(r, false, &err) < 0);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(zoom(r), PS_ACTION_SPLICE);
    /* the same broken file is not loaded again and again */
    assert_int_equal(ps_reload_poll(r, false, &err), 0);
    ps_reload_free(r);
    fx_remove(db);
}

static void
test_thread_picks_up_edit(void **state)
{
    char *db = fx_db(NULL, 1);
    struct ps_reload *r = ps_reload_new(db, 50);
    struct ps_err err = {0, ""};
    int i;

    (void)state;
    assert_int_equal(ps_reload_poll(r, true, &err), 1);
    assert_int_equal(ps_reload_start(r), 0);
    fx_exec(db, "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured'", 0);
    for (i = 0; i < 100 && zoom(r) != PS_ACTION_BUMP; i++)
        usleep(20000);
    assert_int_equal(zoom(r), PS_ACTION_BUMP);
    ps_reload_free(r); /* joins the thread */
    fx_remove(db);
}

/* Milliseconds the reader waited for one answer. */
static long
answer_ms(struct ps_reload *r, enum ps_action *out)
{
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    *out = zoom(r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a.tv_sec) * 1000L + (b.tv_nsec - a.tv_nsec) / 1000000L;
}

/*
 * Issue 12 item 1: the DB path becomes a FIFO (nobody ever writes to it) or a directory while the
 * reload thread runs. Every answer stays prompt and uses the last good rules; each is refused as
 * a load failure; a good DB put back is loaded. Before the fix the thread's open() of the FIFO
 * hung with the lock readers take, and so did every answer: SIGALRM then kills the test.
 */
static void
test_not_a_regular_file(void **state)
{
    static const char *const kinds[] = {"fifo", "dir"};
    char *db = fx_db(NULL, 1);
    char aside[4096];
    struct ps_reload *r = ps_reload_new(db, 20);
    struct ps_err err = {0, ""};
    struct ps_reload_stats st;
    enum ps_action a;
    size_t k;
    int i;

    (void)state;
    snprintf(aside, sizeof(aside), "%s.good", db);
    assert_int_equal(ps_reload_poll(r, true, &err), 1);
    assert_int_equal(ps_reload_start(r), 0);
    alarm(20); /* a hang is a failure, not a stuck test run */
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        unsigned long failed;
        ps_reload_stats(r, &st);
        failed = st.failures;
        assert_int_equal(rename(db, aside), 0);
        if (k == 0)
            assert_int_equal(mkfifo(db, 0644), 0);
        else
            assert_int_equal(mkdir(db, 0755), 0);
        for (i = 0; i < 200 && st.failures == failed; i++) {
            assert_true(answer_ms(r, &a) < 100);
            assert_int_equal(a, PS_ACTION_SPLICE); /* the last good rules */
            usleep(10000);
            ps_reload_stats(r, &st);
        }
        assert_true(st.failures > failed); /* refused, as a load failure */
        for (i = 0; i < 20; i++) { /* and answers stay prompt afterwards too */
            assert_true(answer_ms(r, &a) < 100);
            assert_int_equal(a, PS_ACTION_SPLICE);
            usleep(10000);
        }
        /* the message names the path and says what is wrong */
        assert_true(ps_reload_poll(r, true, &err) < 0);
        assert_non_null(strstr(err.msg, db));
        assert_non_null(strstr(err.msg, k == 0 ? "FIFO" : "directory"));
        if (k == 0)
            assert_int_equal(unlink(db), 0);
        else
            assert_int_equal(rmdir(db), 0);
        fx_exec(aside, "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured'",
                0);
        assert_int_equal(rename(aside, db), 0);
        for (i = 0; i < 200 && zoom(r) != PS_ACTION_BUMP; i++)
            usleep(10000);
        assert_int_equal(zoom(r), PS_ACTION_BUMP); /* the good DB is back and loaded */
        fx_exec(db, "UPDATE rules SET enabled = 1 WHERE name = 'Bypass Zoom - Pre-configured'", 0);
        for (i = 0; i < 200 && zoom(r) != PS_ACTION_SPLICE; i++)
            usleep(10000);
        assert_int_equal(zoom(r), PS_ACTION_SPLICE);
    }
    alarm(0);
    ps_reload_free(r);
    fx_remove(db);
}

static unsigned long
loads(struct ps_reload *r)
{
    struct ps_reload_stats st;

    ps_reload_stats(r, &st);
    return st.loads;
}

/* Wait up to ms for zoom(r) == want; returns the milliseconds it took, or -1. */
static long
wait_zoom(struct ps_reload *r, enum ps_action want, long ms)
{
    struct timespec a, b;
    long took;

    clock_gettime(CLOCK_MONOTONIC, &a);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        took = (b.tv_sec - a.tv_sec) * 1000L + (b.tv_nsec - a.tv_nsec) / 1000000L;
        if (zoom(r) == want)
            return took;
        if (took > ms)
            return -1;
        usleep(5000);
    }
}

/*
 * Issue 16: with a polling interval of 30 s, only inotify can make an edit, a rename over the DB
 * (`db publish`) or a journal-mode switch show within a second; a burst of 100 statements gives a
 * bounded number of loads (debounced), and the last state wins.
 */
static void
test_inotify_edit_rename_burst(void **state)
{
    char *db = fx_db(NULL, 1);
    char *other = fx_db(NULL, 1);
    char sql[8192];
    struct ps_reload *r = ps_reload_new(db, 30000);
    struct ps_err err = {0, ""};
    unsigned long before;
    size_t n = 0;
    int i;

    (void)state;
    assert_int_equal(ps_reload_poll(r, true, &err), 1);
    assert_int_equal(ps_reload_start(r), 0);
    usleep(100000);
    fx_exec(db, "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured'", 0);
    assert_true(wait_zoom(r, PS_ACTION_BUMP, 1500) >= 0);
    /* a DB renamed over the old one */
    fx_exec(other, "UPDATE rules SET enabled = 1 WHERE name = 'Bypass Zoom - Pre-configured'", 0);
    assert_int_equal(rename(other, db), 0);
    assert_true(wait_zoom(r, PS_ACTION_SPLICE, 1500) >= 0);
    /* WAL mode, edits with the -wal file */
    fx_exec(db, "PRAGMA journal_mode=WAL", 0);
    fx_exec(db, "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured'", 0);
    assert_true(wait_zoom(r, PS_ACTION_BUMP, 1500) >= 0);
    fx_exec(db, "PRAGMA journal_mode=DELETE", 0);
    /* a burst: 100 statements (autocommit each), ending with the rule enabled */
    usleep(300000);
    before = loads(r);
    for (i = 0; i < 100; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                              "UPDATE rules SET enabled = %d WHERE name = "
                              "'Bypass Zoom - Pre-configured';",
                              i % 2);
    fx_exec(db, sql, 0);
    assert_true(wait_zoom(r, PS_ACTION_SPLICE, 1500) >= 0);
    usleep(400000);
    print_message("burst of 100 statements: %lu load(s)\n", loads(r) - before);
    assert_true(loads(r) - before >= 1);
    assert_true(loads(r) - before <= 5);
    ps_reload_free(r);
    free(other);
    fx_remove(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_then_present),
        cmocka_unit_test(test_edits_and_broken_db),
        cmocka_unit_test(test_thread_picks_up_edit),
        cmocka_unit_test(test_not_a_regular_file),
        cmocka_unit_test(test_inotify_edit_rename_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
