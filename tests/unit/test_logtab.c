#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logtab.h"

struct val {
    uint64_t n;
    char tag[24];
};

static void
test_basic(void **state)
{
    struct ps_logtab *t = ps_logtab_new(sizeof(struct val));
    struct val *v, *w;
    bool created;
    size_t len;

    (void)state;
    assert_non_null(t);
    assert_null(ps_logtab_find(t, "a", 1));
    v = ps_logtab_get(t, "a", 1, &created);
    assert_non_null(v);
    assert_true(created);
    assert_int_equal(v->n, 0); /* zeroed */
    v->n = 7;
    w = ps_logtab_get(t, "a", 1, &created);
    assert_ptr_equal(v, w);
    assert_false(created);
    assert_string_equal(ps_logtab_key(t, v, &len), "a");
    assert_int_equal(len, 1);
    /* Keys are bytes: a prefix, an empty key and embedded NULs are all distinct. */
    assert_non_null(ps_logtab_get(t, "ab", 2, &created));
    assert_true(created);
    assert_non_null(ps_logtab_get(t, "", 0, &created));
    assert_true(created);
    assert_non_null(ps_logtab_get(t, "a\0b", 3, &created));
    assert_true(created);
    assert_non_null(ps_logtab_get(t, "a\0c", 3, &created));
    assert_true(created);
    assert_int_equal(ps_logtab_count(t), 5);
    assert_true(ps_logtab_remove(t, "a\0b", 3));
    assert_false(ps_logtab_remove(t, "a\0b", 3));
    assert_non_null(ps_logtab_find(t, "a\0c", 3));
    assert_int_equal(((struct val *)ps_logtab_find(t, "a", 1))->n, 7);
    assert_int_equal(ps_logtab_count(t), 4);
    assert_true(ps_logtab_bytes(t) > 4 * sizeof(struct val));
    ps_logtab_free(t);
    ps_logtab_free(NULL);
}

/* Many keys, random removals, checked against a plain array: growth and backward-shift deletion
 * keep every remaining key findable and its value in place. */
static void
test_against_reference(void **state)
{
    enum { N = 20000 };
    struct ps_logtab *t = ps_logtab_new(sizeof(struct val));
    static struct val *where[N];
    static bool present[N];
    char key[32];
    struct val *v;
    bool created;
    size_t i, pos, seen, count = 0;
    unsigned rnd = 12345;

    (void)state;
    assert_non_null(t);
    for (i = 0; i < 4 * N; i++) {
        rnd = rnd * 1103515245u + 12345u;
        size_t k = (rnd >> 8) % N;
        int len = snprintf(key, sizeof(key), "10.%zu.%zu:%zu", k % 251, k / 251, k);
        if (present[k] && (rnd & 0x10000u)) {
            assert_true(ps_logtab_remove(t, key, (size_t)len));
            present[k] = false;
            count--;
        } else {
            v = ps_logtab_get(t, key, (size_t)len, &created);
            assert_non_null(v);
            assert_int_equal(created, !present[k]);
            if (created) {
                v->n = k;
                where[k] = v;
                present[k] = true;
                count++;
            } else {
                assert_ptr_equal(v, where[k]); /* values never move */
            }
        }
    }
    assert_int_equal(ps_logtab_count(t), count);
    for (i = 0; i < N; i++) {
        int len = snprintf(key, sizeof(key), "10.%zu.%zu:%zu", i % 251, i / 251, i);
        v = ps_logtab_find(t, key, (size_t)len);
        if (present[i]) {
            assert_ptr_equal(v, where[i]);
            assert_int_equal(v->n, i);
        } else {
            assert_null(v);
        }
    }
    for (pos = 0, seen = 0; (v = ps_logtab_next(t, &pos)) != NULL; seen++)
        assert_true(present[v->n]);
    assert_int_equal(seen, count);
    ps_logtab_free(t);
}

static void
test_hash(void **state)
{
    (void)state;
    assert_int_equal(ps_logtab_hash("abc", 3), ps_logtab_hash("abc", 3));
    assert_int_not_equal(ps_logtab_hash("abc", 3), ps_logtab_hash("abd", 3));
    assert_int_not_equal(ps_logtab_hash("abcdefgh1", 9), ps_logtab_hash("abcdefgh2", 9));
    assert_int_not_equal(ps_logtab_hash("", 0), 0); /* 0 marks an empty slot */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_hash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
