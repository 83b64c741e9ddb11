#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "decide.h"
#include "err.h"
#include "fixture.h"
#include "metrics.h"
#include "reload.h"

/* ---- paths -------------------------------------------------------------------------------- */

static void
test_path_check(void **state)
{
    static const struct {
        const char *in;
        int rc;
    } cases[] = {
        {"/var/lib/prometheus/node-exporter/pinsplice-%p.prom", 0},
        {"pinsplice-%p.prom", 0},
        {"%p", 0},
        {"", PS_EINVAL},
        {"/var/lib/prometheus/node-exporter/pinsplice.prom", PS_EINVAL}, /* no %p */
        {"/var/lib/%p/pinsplice.prom", PS_EINVAL},                       /* %p in a directory */
        {"/d/pinsplice-%p-%p.prom", PS_EINVAL},                          /* two */
        {"/d/pinsplice-%%-%p.prom", PS_EINVAL},                          /* another % */
        {"/d/pinsplice-%P.prom", PS_EINVAL},
        {"/d/pinsplice-%s.prom", PS_EINVAL},
    };
    struct ps_err err;
    char long_name[400];
    size_t i;

    (void)state;
    assert_int_equal(ps_metrics_path_check(NULL, NULL), PS_EINVAL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_int_equal(ps_metrics_path_check(cases[i].in, &err), cases[i].rc);
        if (cases[i].rc < 0 && cases[i].in[0] != '\0')
            assert_non_null(strstr(err.msg, cases[i].in)); /* the message names the path */
    }
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    memcpy(long_name + 10, "%p", 2);
    assert_int_equal(ps_metrics_path_check(long_name, NULL), PS_EINVAL); /* name > NAME_MAX */
}

static void
test_path_expand(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(ps_metrics_path_expand("/d/pinsplice-%p.prom", 1234, out, sizeof(out), NULL),
                     0);
    assert_string_equal(out, "/d/pinsplice-1234.prom");
    assert_int_equal(ps_metrics_path_expand("%p", 7, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "7");
    assert_int_equal(ps_metrics_path_expand("/d/pinsplice-%p.prom", 1234, out, 10, NULL),
                     PS_ETOOLONG);
    assert_string_equal(out, "");
    assert_int_equal(ps_metrics_path_expand("/d/x.prom", 1, out, sizeof(out), NULL), PS_EINVAL);
}

/* ---- label escaping ------------------------------------------------------------------------ */

static void
test_escape(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Bypass Zoom - Pre-configured", "Bypass Zoom - Pre-configured"},
        {"", ""},
        {"say \"hi\"", "say \\\"hi\\\""},
        {"C:\\Zoom", "C:\\\\Zoom"},
        {"two\nlines", "two\\nlines"},
        {"tab\there", "tab\there"},
        {"Zoom \xe2\x80\x93 Pr\xc3\xa9", "Zoom \xe2\x80\x93 Pr\xc3\xa9"}, /* en dash, e acute */
        {"\xf0\x9f\x94\x92 lock", "\xf0\x9f\x94\x92 lock"},                 /* U+1F512 */
        {"bad \xff", "bad \xef\xbf\xbd"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                         /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},         /* a surrogate */
        {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"},                 /* truncated */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
    };
    char out[128];
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = ps_metrics_escape_label(cases[i].in, out, sizeof(out));
        assert_string_equal(out, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
    /* too small: nothing written, not a cut value */
    assert_int_equal(ps_metrics_escape_label("abc\"", out, 5), 0);
    assert_string_equal(out, "");
    assert_int_equal(ps_metrics_escape_label("abc\"", out, 6), 5);
    assert_int_equal(ps_metrics_escape_label("x", out, 0), 0);
}

/* ---- counting and the exposition -------------------------------------------------------------- */

static char tmpdir[64];

static int
setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ps-test-metrics.XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct ps_metrics *
new_metrics(void)
{
    char pattern[128];
    struct ps_err err = {0, ""};
    struct ps_metrics *m;

    snprintf(pattern, sizeof(pattern), "%s/pinsplice-%%p.prom", tmpdir);
    m = ps_metrics_new(pattern, "test", &err);
    assert_non_null(m);
    return m;
}

static char *
format(struct ps_metrics *m)
{
    char *text = NULL;
    size_t len = 0;

    assert_int_equal(ps_metrics_format(m, &text, &len), 0);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

/* The value of the series "NAME{pid="N"LABELS}" in text, or -1 when absent; fails the test when
 * the series is there twice. */
static long long
value(const char *text, const char *name, const char *labels)
{
    char key[1024];
    const char *p;
    long long v;

    snprintf(key, sizeof(key), "\n%s{pid=\"%ld\"%s} ", name, (long)getpid(), labels);
    p = strstr(text, key);
    if (p == NULL)
        return -1;
    assert_null(strstr(p + 1, key));
    v = strtoll(p + strlen(key), NULL, 10);
    return v;
}

static struct ps_decision
decision(enum ps_action a, enum ps_reason r, int64_t id, const char *rule)
{
    struct ps_decision d;

    memset(&d, 0, sizeof(d));
    d.action = a;
    d.reason = r;
    d.rule_id = id;
    d.rule_name = rule;
    return d;
}

static void
test_counts(void **state)
{
    struct ps_metrics *m = new_metrics();
    struct ps_decision zoom = decision(PS_ACTION_SPLICE, PS_REASON_RULE, 3, "Bypass Zoom");
    struct ps_decision quoted = decision(PS_ACTION_TERMINATE, PS_REASON_RULE, 9, "say \"no\"\n");
    struct ps_decision dflt = decision(PS_ACTION_BUMP, PS_REASON_DEFAULT, 0, NULL);
    struct ps_decision bad = decision(PS_ACTION_BUMP, PS_REASON_BAD_NAME, 0, NULL);
    char copy[32];
    char *text;

    (void)state;
    ps_metrics_answer(m, &zoom, ps_metrics_now_ns());
    /* the same rule through another copy of its name (another snapshot): one series */
    snprintf(copy, sizeof(copy), "%s", "Bypass Zoom");
    zoom.rule_name = copy;
    ps_metrics_answer(m, &zoom, ps_metrics_now_ns());
    ps_metrics_answer(m, &quoted, 0); /* no latency observation */
    ps_metrics_answer(m, &dflt, ps_metrics_now_ns());
    ps_metrics_answer(m, &bad, ps_metrics_now_ns());
    ps_metrics_malformed(m, ps_metrics_now_ns());
    ps_metrics_monitor(m, 4, "Watch Teams");
    ps_metrics_monitor(m, 4, "Watch Teams");
    ps_metrics_monitor(m, 4, NULL);
    ps_metrics_answer(NULL, &zoom, 0); /* metrics off: no-ops */
    ps_metrics_malformed(NULL, 0);
    ps_metrics_monitor(NULL, 1, "x");
    ps_metrics_latency(m, ps_metrics_now_ns(), 3); /* three replies that left together */
    ps_metrics_latency(m, 0, 3);                   /* no start time: nothing */
    ps_metrics_latency(NULL, ps_metrics_now_ns(), 3);
    text = format(m);

    assert_int_equal(value(text, "pinsplice_answers_total", ""), 6);
    assert_int_equal(value(text, "pinsplice_malformed_total", ""), 1);
    assert_int_equal(value(text, "pinsplice_decisions_total", ",action=\"splice\",reason=\"rule\""),
                     2);
    assert_int_equal(
        value(text, "pinsplice_decisions_total", ",action=\"terminate\",reason=\"rule\""), 1);
    assert_int_equal(
        value(text, "pinsplice_decisions_total", ",action=\"bump\",reason=\"default\""), 1);
    assert_int_equal(
        value(text, "pinsplice_decisions_total", ",action=\"bump\",reason=\"bad-name\""), 1);
    /* every action x reason is there from 0 */
    assert_int_equal(
        value(text, "pinsplice_decisions_total", ",action=\"splice\",reason=\"unverified\""), 0);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"Bypass Zoom\""), 2);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"say \\\"no\\\"\\n\""),
                     1);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"Watch Teams\""), 0);
    assert_int_equal(value(text, "pinsplice_monitor_matches_total", ",rule=\"Watch Teams\""), 2);
    assert_int_equal(value(text, "pinsplice_monitor_matches_total", ",rule=\"Bypass Zoom\""), 0);
    /* 5 + 3 latency observations, the slowest well under 5 s */
    assert_int_equal(value(text, "pinsplice_answer_duration_seconds_count", ""), 8);
    assert_int_equal(value(text, "pinsplice_answer_duration_seconds_bucket", ",le=\"+Inf\""), 8);
    assert_int_equal(value(text, "pinsplice_answer_duration_seconds_bucket", ",le=\"5\""), 8);
    assert_non_null(strstr(text, "# TYPE pinsplice_answer_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "# TYPE pinsplice_decisions_total counter\n"));
    /* no reload, no verifier: their families are absent */
    assert_null(strstr(text, "pinsplice_rules_loaded"));
    assert_null(strstr(text, "pinsplice_verify_"));
    /* the last line ends with a newline, no empty line anywhere */
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_null(strstr(text, "\n\n"));
    free(text);
    ps_metrics_free(m);
}

struct hammer {
    struct ps_metrics *m;
    int64_t id;
};

#define HAMMER_N 50000

static void *
hammer_main(void *arg)
{
    struct hammer *h = arg;
    char name[32];
    struct ps_decision d;
    int i;

    /* every thread its own rule and one shared rule: slots are claimed concurrently */
    snprintf(name, sizeof(name), "rule %lld", (long long)h->id);
    for (i = 0; i < HAMMER_N; i++) {
        d = decision(PS_ACTION_SPLICE, PS_REASON_RULE, h->id, name);
        ps_metrics_answer(h->m, &d, i % 2 ? ps_metrics_now_ns() : 0);
        d = decision(PS_ACTION_BUMP, PS_REASON_RULE, 1000, "shared");
        ps_metrics_answer(h->m, &d, 0);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct ps_metrics *m = new_metrics();
    struct hammer hs[4];
    pthread_t t[4];
    char *text;
    int i;

    (void)state;
    for (i = 0; i < 4; i++) {
        hs[i].m = m;
        hs[i].id = i + 1;
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &hs[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    text = format(m);
    assert_int_equal(value(text, "pinsplice_answers_total", ""), 8 * HAMMER_N);
    assert_int_equal(value(text, "pinsplice_decisions_total", ",action=\"splice\",reason=\"rule\""),
                     4 * HAMMER_N);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"shared\""),
                     4 * HAMMER_N);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"rule 3\""), HAMMER_N);
    assert_int_equal(value(text, "pinsplice_answer_duration_seconds_count", ""), 2 * HAMMER_N);
    free(text);
    ps_metrics_free(m);
}

/* One answering thread (the helper): plain load + store, while another thread reads. */
static void
test_single_writer(void **state)
{
    struct ps_metrics *m = new_metrics();
    struct ps_decision d = decision(PS_ACTION_SPLICE, PS_REASON_RULE, 2, "one");
    char *text;
    int i;

    (void)state;
    ps_metrics_single_writer(m);
    ps_metrics_single_writer(NULL);
    assert_int_equal(ps_metrics_start(m, 1), 0); /* the writer reads meanwhile */
    for (i = 0; i < 3 * HAMMER_N; i++)
        ps_metrics_answer(m, &d, 0);
    ps_metrics_latency(m, ps_metrics_now_ns(), 3 * HAMMER_N);
    text = format(m);
    assert_int_equal(value(text, "pinsplice_answers_total", ""), 3 * HAMMER_N);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"one\""), 3 * HAMMER_N);
    assert_int_equal(value(text, "pinsplice_answer_duration_seconds_count", ""), 3 * HAMMER_N);
    free(text);
    ps_metrics_free(m);
}

static void
test_many_rules(void **state)
{
    struct ps_metrics *m = new_metrics();
    struct ps_decision d;
    char name[32], *text;
    int i;

    (void)state;
    /* more distinct rules than the table holds: the rest are counted, not lost */
    for (i = 0; i < 1100; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        d = decision(PS_ACTION_SPLICE, PS_REASON_RULE, i, name);
        ps_metrics_answer(m, &d, 0);
    }
    text = format(m);
    assert_int_equal(value(text, "pinsplice_rule_matches_untracked_total", ""), 1100 - 1024);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"r0\""), 1);
    free(text);
    ps_metrics_free(m);
}

/* ---- gauges from the reloader -------------------------------------------------------------- */

static void
test_reload_gauges(void **state)
{
    char *db = fx_db("INSERT INTO rules (name, action) VALUES ('Idle \"rule\"', 'splice');"
                     "INSERT INTO rule_domains (rule_id, domain) "
                     "SELECT id, 'idle.test' FROM rules WHERE name = 'Idle \"rule\"';",
                     1);
    struct ps_metrics *m = new_metrics();
    struct ps_reload *r = ps_reload_new(db, 10);
    struct ps_err err = {0, ""};
    char garbage[256], *text;
    FILE *f;

    (void)state;
    assert_int_equal(ps_reload_poll(r, true, &err), 1);
    ps_metrics_set_reload(m, r);
    text = format(m);
    assert_int_equal(value(text, "pinsplice_rule_loads_total", ""), 1);
    assert_int_equal(value(text, "pinsplice_rule_load_failures_total", ""), 0);
    assert_int_equal(value(text, "pinsplice_rules_available", ""), 1);
    assert_true(value(text, "pinsplice_rules_loaded", "") > 10); /* the default rules */
    assert_true(value(text, "pinsplice_rule_entries_loaded", ",kind=\"domain\"") > 10);
    assert_int_equal(value(text, "pinsplice_rules_stale_seconds", ""), 0);
    assert_non_null(strstr(text, "pinsplice_rules_stale_seconds{pid=\"")); /* "0.000" */
    assert_true(value(text, "pinsplice_rules_last_load_timestamp_seconds", "") >
                (long long)time(NULL) - 60);
    /* every loaded rule has its series from 0, escaped */
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"Idle \\\"rule\\\"\""), 0);
    assert_int_equal(
        value(text, "pinsplice_monitor_matches_total", ",rule=\"Idle \\\"rule\\\"\""), 0);
    free(text);

    /* The DB replaced by garbage: the load fails, the last rules stay, the rules are stale. */
    snprintf(garbage, sizeof(garbage), "%s.new", db);
    f = fopen(garbage, "w");
    assert_non_null(f);
    fputs("this is not a database\n", f);
    fclose(f);
    assert_int_equal(rename(garbage, db), 0);
    assert_true(ps_reload_poll(r, true, &err) < 0);
    usleep(1100 * 1000);
    text = format(m);
    assert_int_equal(value(text, "pinsplice_rule_load_failures_total", ""), 1);
    assert_int_equal(value(text, "pinsplice_rules_available", ""), 1);
    assert_true(value(text, "pinsplice_rules_stale_seconds", "") >= 1);
    free(text);
    ps_metrics_free(m);
    ps_reload_free(r);
    fx_remove(db);
}

/* ---- the file ------------------------------------------------------------------------------ */

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static int
count_entries(const char *dir)
{
    char cmd[160], line[32];
    FILE *p;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof(line), p));
    pclose(p);
    return atoi(line);
}

static void
test_write(void **state)
{
    struct ps_metrics *m = new_metrics();
    struct ps_decision d = decision(PS_ACTION_SPLICE, PS_REASON_RULE, 3, "Bypass Zoom");
    struct ps_err err = {0, ""};
    char expect[128], *text, *file;
    struct stat st;
    mode_t old;

    (void)state;
    snprintf(expect, sizeof(expect), "%s/pinsplice-%ld.prom", tmpdir, (long)getpid());
    assert_string_equal(ps_metrics_path(m), expect);
    ps_metrics_answer(m, &d, 0);
    old = umask(077); /* the file is readable by the collector whatever the umask */
    assert_int_equal(ps_metrics_write(m, &err), 0);
    umask(old);
    assert_int_equal(stat(expect, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    file = slurp(expect);
    text = format(m);
    assert_string_equal(file, text);
    free(file);
    free(text);
    assert_int_equal(count_entries(tmpdir), 1); /* no temporary file left */
    assert_int_equal(unlink(expect), 0);
    ps_metrics_free(m);
}

static void
test_write_fails(void **state)
{
    struct ps_metrics *m;
    struct ps_err err = {0, ""};
    char pattern[128];

    (void)state;
    snprintf(pattern, sizeof(pattern), "%s/no-such-dir/pinsplice-%%p.prom", tmpdir);
    m = ps_metrics_new(pattern, "test", &err);
    assert_non_null(m);
    assert_int_equal(ps_metrics_write(m, &err), PS_EIO);
    assert_non_null(strstr(err.msg, "no-such-dir"));
    /* the thread starts and keeps going; counting is unaffected */
    assert_int_equal(ps_metrics_start(m, 1), 0);
    ps_metrics_malformed(m, 0);
    ps_metrics_free(m);
    assert_int_equal(count_entries(tmpdir), 0);
}

/* A PID no process has now: a child that has exited and was reaped. */
static long
dead_pid(void)
{
    pid_t p = fork();

    if (p == 0)
        _exit(0);
    assert_true(p > 0);
    waitpid(p, NULL, 0);
    return (long)p;
}

/* tmpdir/PREFIX PID SUFFIX */
static const char *
fname(const char *prefix, long pid, const char *suffix)
{
    static char name[256];

    snprintf(name, sizeof(name), "%s/%s%ld%s", tmpdir, prefix, pid, suffix);
    return name;
}

static void
touch(const char *prefix, long pid, const char *suffix)
{
    FILE *f = fopen(fname(prefix, pid, suffix), "w");

    assert_non_null(f);
    fclose(f);
}

static bool
exists(const char *prefix, long pid, const char *suffix)
{
    return access(fname(prefix, pid, suffix), F_OK) == 0;
}

static void
test_thread_and_sweep(void **state)
{
    long dead = dead_pid(), alive = (long)getppid(), self = (long)getpid();
    struct ps_metrics *m;
    int i;

    (void)state;
    touch("pinsplice-", dead, ".prom");
    touch("pinsplice-", dead, ".prom.tmp-abcdef");
    touch("pinsplice-", alive, ".prom");
    touch("other-", dead, ".prom");
    touch("pinsplice-", dead, ".prom.bak");
    m = new_metrics();
    assert_int_equal(ps_metrics_start(m, 1), 0);
    for (i = 0; i < 300 && !exists("pinsplice-", self, ".prom"); i++)
        usleep(10 * 1000);
    assert_true(exists("pinsplice-", self, ".prom")); /* written at once */
    assert_false(exists("pinsplice-", dead, ".prom"));        /* a dead process's file */
    assert_false(exists("pinsplice-", dead, ".prom.tmp-abcdef")); /* and its temporary */
    assert_true(exists("pinsplice-", alive, ".prom"));        /* a live one's stays */
    assert_true(exists("other-", dead, ".prom"));             /* not our pattern */
    assert_true(exists("pinsplice-", dead, ".prom.bak"));
    ps_metrics_free(m);
    assert_false(exists("pinsplice-", self, ".prom")); /* removed when the process stops */
    ps_metrics_free(NULL);
}

/* A decision that carries a monitor match (schema v2) counts it for that rule, with no other
 * call; the decision itself is counted as usual. */
static void
test_monitor_from_decision(void **state)
{
    struct ps_metrics *m = new_metrics();
    struct ps_decision d = decision(PS_ACTION_BUMP, PS_REASON_DEFAULT, 0, NULL);
    char *text;

    (void)state;
    d.monitor_rule = "Watch Teams";
    d.monitor_rule_id = 4;
    d.monitor_action = PS_ACTION_SPLICE;
    ps_metrics_answer(m, &d, 0);
    ps_metrics_answer(m, &d, 0);
    d.monitor_rule = NULL;
    ps_metrics_answer(m, &d, 0);
    text = format(m);
    assert_int_equal(value(text, "pinsplice_monitor_matches_total", ",rule=\"Watch Teams\""), 2);
    assert_int_equal(value(text, "pinsplice_rule_matches_total", ",rule=\"Watch Teams\""), 0);
    assert_int_equal(
        value(text, "pinsplice_decisions_total", ",action=\"bump\",reason=\"default\""), 3);
    free(text);
    ps_metrics_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monitor_from_decision),
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_path_expand),
        cmocka_unit_test(test_escape),
        cmocka_unit_test_setup_teardown(test_counts, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_threads, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_single_writer, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_many_rules, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_reload_gauges, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_fails, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_thread_and_sweep, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
