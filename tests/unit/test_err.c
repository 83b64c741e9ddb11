#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

/* ---- ps_err_set / ps_err_prefix ------------------------------------------------------------- */

static void
test_set(void **state)
{
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_err_set(&err, PS_EINVAL, "bad domain '%s': %s", "zoom..us", "empty label"),
                     PS_EINVAL);
    assert_int_equal(err.code, PS_EINVAL);
    assert_string_equal(err.msg, "bad domain 'zoom..us': empty label");
    /* A second error replaces the first. */
    assert_int_equal(ps_err_set(&err, PS_EDB, "rules.db: %d", 7), PS_EDB);
    assert_int_equal(err.code, PS_EDB);
    assert_string_equal(err.msg, "rules.db: 7");
    /* NULL is allowed: only the code comes back. */
    assert_int_equal(ps_err_set(NULL, PS_ENOMEM, "out of memory"), PS_ENOMEM);
    assert_int_equal(ps_err_set(&err, PS_OK, "%s", ""), PS_OK);
    assert_int_equal(err.code, PS_OK);
    assert_string_equal(err.msg, "");
}

/* A message longer than the buffer is cut, and the cut is visible. */
static void
test_set_truncates(void **state)
{
    struct ps_err err = {0, ""};
    char big[400], want[256];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(ps_err_set(&err, PS_ETOOLONG, "name '%s'", big), PS_ETOOLONG);
    assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
    memcpy(want, "name '", 6);
    memset(want + 6, 'x', sizeof(want) - 6);
    memcpy(want + sizeof(want) - 4, "...", 4);
    assert_string_equal(err.msg, want);
    /* Exactly filling the buffer (255 characters) is not a cut. */
    big[255] = '\0';
    ps_err_set(&err, PS_EINVAL, "%s", big);
    assert_int_equal(strlen(err.msg), 255);
    assert_int_equal(err.msg[254], 'x');
    /* 256 characters are: the last three shown become "...". */
    big[255] = 'x';
    big[256] = '\0';
    ps_err_set(&err, PS_EINVAL, "%s", big);
    assert_int_equal(strlen(err.msg), 255);
    assert_string_equal(err.msg + 252, "...");
}

static void
test_prefix(void **state)
{
    struct ps_err err = {0, ""};

    (void)state;
    ps_err_set(&err, PS_EINVAL, "bad domain 'a..b': empty label");
    assert_int_equal(ps_err_prefix(&err, "rule '%s'", "Bypass Zoom"), PS_EINVAL);
    assert_string_equal(err.msg, "rule 'Bypass Zoom': bad domain 'a..b': empty label");
    assert_int_equal(err.code, PS_EINVAL);
    /* Context adds up on the way out; the code is the original one. */
    ps_err_set(&err, PS_ETOOLONG, "too long");
    assert_int_equal(ps_err_prefix(&err, "rules.db"), PS_ETOOLONG);
    assert_int_equal(ps_err_prefix(&err, "reload"), PS_ETOOLONG);
    assert_string_equal(err.msg, "reload: rules.db: too long");
}

static void
test_prefix_truncates(void **state)
{
    struct ps_err err = {0, ""};
    char big[300];

    (void)state;
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ps_err_set(&err, PS_EINVAL, "the original message");
    assert_int_equal(ps_err_prefix(&err, "%s", big), PS_EINVAL);
    assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
    assert_string_equal(err.msg + sizeof(err.msg) - 4, "...");
    assert_int_equal(err.msg[0], 'p');
    /* A long message and a short prefix: the prefix is kept, the tail is cut. */
    memset(big, 'm', sizeof(big) - 1);
    ps_err_set(&err, PS_EIO, "%s", big);
    ps_err_prefix(&err, "file");
    assert_memory_equal(err.msg, "file: mmm", 9);
    assert_string_equal(err.msg + sizeof(err.msg) - 4, "...");
    assert_int_equal(err.code, PS_EIO);
}

/* Without a message buffer the code of the error being prefixed is not known: the contract
 * ("NULL is allowed everywhere") leaves the return value to PS_EINVAL. */
static void
test_prefix_null(void **state)
{
    (void)state;
    assert_int_equal(ps_err_prefix(NULL, "rule %d", 1), PS_EINVAL);
}

static void
test_str(void **state)
{
    static const struct {
        int code;
        const char *s;
    } c[] = {
        {PS_OK, "ok"},
        {PS_EINVAL, "invalid input"},
        {PS_ENOMEM, "out of memory"},
        {PS_EDB, "database error"},
        {PS_ETOOLONG, "input too long"},
        {PS_ENOENT, "not found"},
        {PS_EIO, "I/O error"},
        {PS_EBUSY, "database locked"},
        {-99, "unknown error"},
        {1, "unknown error"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        assert_string_equal(ps_err_str(c[i].code), c[i].s);
}

/* ---- logging -------------------------------------------------------------------------------- */

struct sink {
    char buf[2048];
    int last_level;
    int calls;
};

static void
capture(int level, const char *msg, void *ud)
{
    struct sink *s = ud;
    size_t len = strlen(s->buf);

    snprintf(s->buf + len, sizeof(s->buf) - len, "%d:%s\n", level, msg);
    s->last_level = level;
    s->calls++;
}

static void
test_log_levels(void **state)
{
    struct sink s;

    (void)state;
    memset(&s, 0, sizeof(s));
    ps_log_set(capture, &s, PS_LOG_WARN);
    ps_log(PS_LOG_ERROR, "rule '%s': bad pin", "a");
    ps_log(PS_LOG_WARN, "warn %d", 2);
    ps_log(PS_LOG_INFO, "info is above the level");
    ps_log(PS_LOG_DEBUG, "so is debug");
    assert_int_equal(s.calls, 2);
    assert_string_equal(s.buf, "1:rule 'a': bad pin\n2:warn 2\n");
    /* Raising the level lets debug through. */
    ps_log_set(capture, &s, PS_LOG_DEBUG);
    ps_log(PS_LOG_DEBUG, "debug");
    assert_int_equal(s.last_level, PS_LOG_DEBUG);
    assert_string_equal(s.buf, "1:rule 'a': bad pin\n2:warn 2\n5:debug\n");
    /* No sink: messages are dropped. */
    ps_log_set(NULL, &s, PS_LOG_DEBUG);
    ps_log(PS_LOG_ERROR, "dropped");
    assert_int_equal(s.calls, 3);
}

static void
test_log_truncates(void **state)
{
    static char big[1500];
    static struct sink s;
    char *line;

    (void)state;
    memset(&s, 0, sizeof(s));
    memset(big, 'y', sizeof(big) - 1);
    ps_log_set(capture, &s, PS_LOG_INFO);
    ps_log(PS_LOG_ERROR, "%s", big);
    ps_log_set(NULL, NULL, PS_LOG_INFO);
    assert_int_equal(s.calls, 1);
    line = s.buf + 2;                         /* after "1:" */
    assert_int_equal(strlen(line), 1023 + 1); /* the 1024-byte buffer, and the newline */
    assert_string_equal(line + 1020, "...\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),         cmocka_unit_test(test_set_truncates),
        cmocka_unit_test(test_prefix),      cmocka_unit_test(test_prefix_truncates),
        cmocka_unit_test(test_prefix_null), cmocka_unit_test(test_str),
        cmocka_unit_test(test_log_levels),  cmocka_unit_test(test_log_truncates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
