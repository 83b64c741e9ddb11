#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "keytab.h"
#include "oom.h"

static void
test_empty(void **state)
{
    struct ps_keytab *t = ps_keytab_new();
    size_t v = 42;

    (void)state;
    assert_non_null(t);
    assert_int_equal(ps_keytab_count(t), 0);
    assert_int_equal(ps_keytab_count(NULL), 0);
    assert_false(ps_keytab_get(t, 0, "a", 1, &v));
    assert_false(ps_keytab_get(t, 0, NULL, 0, &v));
    assert_false(ps_keytab_get(NULL, 0, "a", 1, &v));
    assert_int_equal(v, 42); /* unchanged on a miss */
    ps_keytab_free(t);
    ps_keytab_free(NULL);
}

/* Keys are compared by bytes, not by pointer; the namespace and the length are part of the key. */
static void
test_keys(void **state)
{
    struct ps_keytab *t = ps_keytab_new();
    char copy[8];
    size_t v = 0, old = 7;

    (void)state;
    assert_int_equal(ps_keytab_put(t, 1, "zoom.us", 7, 10, NULL), 0);
    assert_int_equal(ps_keytab_put(t, 2, "zoom.us", 7, 20, NULL), 0);
    assert_int_equal(ps_keytab_put(t, 1, "zoom.u", 6, 30, NULL), 0);
    assert_int_equal(ps_keytab_put(t, 1, "a\0b", 3, 40, NULL), 0); /* any bytes */
    assert_int_equal(ps_keytab_put(t, 1, "a\0c", 3, 50, NULL), 0);
    assert_int_equal(ps_keytab_put(t, UINT64_MAX, NULL, 0, 60, NULL), 0);
    assert_int_equal(ps_keytab_count(t), 6);
    memcpy(copy, "zoom.us", 8);
    assert_true(ps_keytab_get(t, 1, copy, 7, &v));
    assert_int_equal(v, 10);
    assert_true(ps_keytab_get(t, 2, copy, 7, &v));
    assert_int_equal(v, 20);
    assert_false(ps_keytab_get(t, 3, copy, 7, &v));
    assert_true(ps_keytab_get(t, 1, copy, 6, &v));
    assert_int_equal(v, 30);
    assert_true(ps_keytab_get(t, 1, "a\0c", 3, &v));
    assert_int_equal(v, 50);
    assert_false(ps_keytab_get(t, 1, "a", 1, &v));
    assert_true(ps_keytab_get(t, UINT64_MAX, "", 0, &v));
    assert_int_equal(v, 60);
    assert_false(ps_keytab_get(t, 0, "", 0, &v));
    /* A duplicate is reported with the value stored, and changes nothing. */
    assert_int_equal(ps_keytab_put(t, 1, copy, 7, 99, &old), 1);
    assert_int_equal(old, 10);
    assert_int_equal(ps_keytab_put(t, 1, copy, 7, 99, NULL), 1);
    assert_true(ps_keytab_get(t, 1, "zoom.us", 7, &v));
    assert_int_equal(v, 10);
    assert_int_equal(ps_keytab_count(t), 6);
    ps_keytab_free(t);
}

/* Growing (64 slots at first, doubled at 3/4) keeps every key, including across namespaces that
 * share bytes. */
static void
test_growth(void **state)
{
    static char keys[5000][12];
    struct ps_keytab *t = ps_keytab_new();
    size_t i, v;

    (void)state;
    for (i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%zu", i / 2);
        assert_int_equal(ps_keytab_put(t, i % 2, keys[i], strlen(keys[i]), i, NULL), 0);
        assert_int_equal(ps_keytab_count(t), i + 1);
    }
    for (i = 0; i < 5000; i++) {
        assert_true(ps_keytab_get(t, i % 2, keys[i], strlen(keys[i]), &v));
        assert_int_equal(v, i);
    }
    ps_keytab_free(t);
}

/* Out of memory while growing: PS_ENOMEM and the table as it was. */
static void
test_enomem(void **state)
{
    static char keys[100][8];
    struct ps_keytab *t;
    size_t i, v;

    (void)state;
    oom_fail_at(0);
    assert_null(ps_keytab_new());
    assert_true(oom_hit());
    t = ps_keytab_new();
    assert_non_null(t);
    oom_fail_at(0); /* the first put allocates the slots */
    assert_int_equal(ps_keytab_put(t, 0, "a", 1, 1, NULL), PS_ENOMEM);
    assert_int_equal(ps_keytab_count(t), 0);
    assert_false(ps_keytab_get(t, 0, "a", 1, &v));
    for (i = 0; i < 48; i++) { /* 48 of 64 slots: the next put grows */
        snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
        assert_int_equal(ps_keytab_put(t, 0, keys[i], strlen(keys[i]), i, NULL), 0);
    }
    oom_fail_at(0);
    assert_int_equal(ps_keytab_put(t, 0, "new", 3, 48, NULL), PS_ENOMEM);
    assert_true(oom_hit());
    assert_int_equal(ps_keytab_count(t), 48);
    assert_false(ps_keytab_get(t, 0, "new", 3, &v));
    for (i = 0; i < 48; i++) {
        assert_true(ps_keytab_get(t, 0, keys[i], strlen(keys[i]), &v));
        assert_int_equal(v, i);
    }
    /* Memory back: the same put works. */
    assert_int_equal(ps_keytab_put(t, 0, "new", 3, 48, NULL), 0);
    assert_int_equal(ps_keytab_count(t), 49);
    ps_keytab_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_enomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
