#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "err.h"

struct ccase {
    const char *cidr, *addr;
    int parse_rc;
    bool inside;
};

static const struct ccase cases[] = {
    {"10.0.0.0/8", "10.1.2.3", 0, true},
    {"10.0.0.0/8", "11.0.0.1", 0, false},
    {"10.0.0.1/8", "10.0.0.1", PS_EINVAL, false}, /* host bits set: refused, not guessed */
    {"192.168.1.7", "192.168.1.7", 0, true},
    {"192.168.1.7", "192.168.1.8", 0, false},
    {"0.0.0.0/0", "203.0.113.9", 0, true},
    {"0.0.0.0/0", "::1", 0, false},               /* an IPv4 network never holds IPv6 */
    {"2001:db8::/32", "2001:db8:1::5", 0, true},
    {"2001:db8::/32", "2001:db9::5", 0, false},
    {"::/0", "10.0.0.1", 0, false},
    {"::ffff:10.0.0.0/104", "10.0.0.9", 0, true}, /* IPv4-mapped form */
    {"10.0.0.0/33", NULL, PS_EINVAL, false},
    {"10.0.0.0/", NULL, PS_EINVAL, false},
    {"10.0.0.0/x", NULL, PS_EINVAL, false},
    {"zoom.us/8", NULL, PS_EINVAL, false},
    {"", NULL, PS_EINVAL, false},
    {"172.16.0.0/12", "172.31.255.255", 0, true},
    {"172.16.0.0/12", "172.32.0.0", 0, false},
};

static void
test_cidr_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ps_cidr c;
        struct ps_addr a;
        struct ps_err err = {0, ""};
        int rc = ps_cidr_parse(cases[i].cidr, strlen(cases[i].cidr), &c, &err);
        if (rc != cases[i].parse_rc)
            fail_msg("case '%s': rc %d want %d (%s)", cases[i].cidr, rc, cases[i].parse_rc,
                     err.msg);
        if (rc != 0 || cases[i].addr == NULL)
            continue;
        assert_int_equal(ps_addr_parse(cases[i].addr, strlen(cases[i].addr), &a, NULL), 0);
        if (ps_cidr_contains(&c, &a) != cases[i].inside)
            fail_msg("case %s contains %s: want %d", cases[i].cidr, cases[i].addr,
                     cases[i].inside);
    }
}

static void
test_addr_bad(void **state)
{
    struct ps_addr a;
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_addr_parse("1.2.3", 5, &a, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "1.2.3"));
    assert_int_equal(ps_addr_parse("[::1]", 5, &a, NULL), PS_EINVAL);
    assert_int_equal(ps_addr_parse(NULL, 0, &a, NULL), PS_EINVAL);
    assert_int_equal(ps_addr_parse("::ffff:1.2.3.4", 14, &a, NULL), 0);
    assert_true(a.v4);
}

/* The whole given length is the address: a NUL inside it is an error, not the end (fuzz_addr
 * found "::\0..." and "10.0.0.1\0junk" accepted: inet_pton stopped at the NUL). */
static void
test_addr_nul(void **state)
{
    struct ps_addr a;
    struct ps_cidr c;
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_addr_parse("10.0.0.1\0junk", 13, &a, &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "NUL"));
    assert_int_equal(ps_addr_parse("::\0" "9", 4, &a, NULL), PS_EINVAL);
    assert_int_equal(ps_cidr_parse("10.0.0.0\0/8", 11, &c, NULL), PS_EINVAL);
    assert_int_equal(ps_addr_parse("10.0.0.1", 8, &a, NULL), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_table),
        cmocka_unit_test(test_addr_bad),
        cmocka_unit_test(test_addr_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
