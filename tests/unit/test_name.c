#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "name.h"

struct ncase {
    const char *in;
    int rc;              /* expected return */
    const char *out;     /* expected normal form when rc == 0 */
    enum ps_name_kind kind;
};

static const struct ncase ncases[] = {
    {"zoom.us", 0, "zoom.us", PS_NAME_DOMAIN},
    {"ZOOM.US.", 0, "zoom.us", PS_NAME_DOMAIN},
    {"Www.Zoom.Us", 0, "www.zoom.us", PS_NAME_DOMAIN},
    {"zoom.us..", PS_EINVAL, NULL, 0},           /* only one trailing dot is dropped */
    {"zoom..us", PS_EINVAL, NULL, 0},
    {".zoom.us", PS_EINVAL, NULL, 0},
    {"", PS_EINVAL, NULL, 0},
    {".", PS_EINVAL, NULL, 0},
    {"zoom us", PS_EINVAL, NULL, 0},
    {"zoom\tus", PS_EINVAL, NULL, 0},
    {"-zoom.us", PS_EINVAL, NULL, 0},
    {"zoom-.us", PS_EINVAL, NULL, 0},
    {"_dmarc.example.com", 0, "_dmarc.example.com", PS_NAME_DOMAIN},
    {"zoom.us/x", PS_EINVAL, NULL, 0},
    {"127.0.0.1", 0, "127.0.0.1", PS_NAME_IPV4},
    {"1.2.3", PS_EINVAL, NULL, 0},               /* numeric last label: an IP in disguise */
    {"0x7f.0.0.1", PS_EINVAL, NULL, 0},
    {"::1", 0, "::1", PS_NAME_IPV6},
    {"[2001:DB8::1]", 0, "2001:db8::1", PS_NAME_IPV6},
    {"[::1", PS_EINVAL, NULL, 0},
    {"[zoom.us]", PS_EINVAL, NULL, 0},          /* brackets hold an IPv6 literal only */
    {"[127.0.0.1]", PS_EINVAL, NULL, 0},
    {"[]", PS_EINVAL, NULL, 0},
    {"b\xc3\xbc" "cher.de", 0, "xn--bcher-kva.de", PS_NAME_DOMAIN},
    {"B\xc3\x9c" "CHER.DE", 0, "xn--bcher-kva.de", PS_NAME_DOMAIN},
    {"\xff\xfe.de", PS_EINVAL, NULL, 0},         /* not UTF-8 */
    {"a23456789012345678901234567890123456789012345678901234567890123.com", 0,
     "a23456789012345678901234567890123456789012345678901234567890123.com", PS_NAME_DOMAIN},
    {"a234567890123456789012345678901234567890123456789012345678901234.com", PS_EINVAL, NULL, 0},
};

static void
test_normalize_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
        char out[PS_NAME_MAX + 1] = "untouched";
        enum ps_name_kind kind = 0;
        struct ps_err err = {0, ""};
        int rc = ps_name_normalize(ncases[i].in, strlen(ncases[i].in), out, &kind, &err);
        if (rc != ncases[i].rc)
            fail_msg("case %zu '%s': rc %d, want %d (%s)", i, ncases[i].in, rc, ncases[i].rc,
                     err.msg);
        if (rc == 0) {
            assert_string_equal(out, ncases[i].out);
            assert_int_equal(kind, ncases[i].kind);
        } else {
            assert_string_equal(out, "untouched"); /* on error, nothing is changed */
            assert_true(strlen(err.msg) > 0);
        }
    }
}

static void
test_normalize_lengths(void **state)
{
    char in[600], out[PS_NAME_MAX + 1];
    enum ps_name_kind kind;
    size_t i;

    (void)state;
    /* 4 labels of 63 + 3 dots = 255 > 253 */
    for (i = 0; i < 255; i++)
        in[i] = (i % 64 == 63) ? '.' : 'a';
    assert_int_equal(ps_name_normalize(in, 255, out, &kind, NULL), PS_ETOOLONG);
    /* 253 exactly is fine */
    assert_int_equal(ps_name_normalize(in + 2, 253, out, &kind, NULL), 0);
    /* a NUL inside the given length is a control character, not an end */
    assert_int_equal(ps_name_normalize("zoom\0.us", 8, out, &kind, NULL), PS_EINVAL);
    memset(in, 'a', sizeof(in));
    assert_int_equal(ps_name_normalize(in, sizeof(in), out, &kind, NULL), PS_ETOOLONG);
    assert_int_equal(ps_name_normalize(NULL, 0, out, &kind, NULL), PS_EINVAL);
}

static void
test_check_stored(void **state)
{
    struct ps_err err = {0, ""};

    (void)state;
    assert_int_equal(ps_name_check_stored("zoom.us", &err), 0);
    assert_int_equal(ps_name_check_stored("Zoom.us", &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "upper case"));
    assert_int_equal(ps_name_check_stored("zoom.us.", &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "trailing dot"));
    assert_int_equal(ps_name_check_stored("zoom..us", &err), PS_EINVAL);
    assert_non_null(strstr(err.msg, "empty label"));
    assert_int_equal(ps_name_check_stored("b\xc3\xbc" "cher.de", &err), PS_EINVAL);
    assert_int_equal(ps_name_check_stored("10.0.0.1", &err), PS_EINVAL);
    assert_int_equal(ps_name_check_stored(NULL, &err), PS_EINVAL);
}

struct hcase {
    const char *in;
    int rc;
    const char *host;
    unsigned port;
};

static const struct hcase hcases[] = {
    {"zoom.us:443", 0, "zoom.us", 443},
    {"zoom.us", 0, "zoom.us", 0},
    {"[::1]:8443", 0, "::1", 8443},
    {"[::1]", 0, "::1", 0},
    {"::1", 0, "::1", 0},
    {"zoom.us:0", PS_EINVAL, NULL, 0},
    {"zoom.us:65536", PS_EINVAL, NULL, 0},
    {"zoom.us:", PS_EINVAL, NULL, 0},
    {"zoom.us:44x", PS_EINVAL, NULL, 0},
    {":443", PS_EINVAL, NULL, 0},
    {"[::1]x", PS_EINVAL, NULL, 0},
    {"[::1", PS_EINVAL, NULL, 0},
    {"[zoom.us]:443", PS_EINVAL, NULL, 0}, /* issue 12: not the domain zoom.us */
    {"[zoom.us]", PS_EINVAL, NULL, 0},
    {"[127.0.0.1]:443", PS_EINVAL, NULL, 0},
    {"[]:443", PS_EINVAL, NULL, 0},
    {"[::ffff:1.2.3.4]:443", 0, "::ffff:1.2.3.4", 443},
};

static void
test_hostport_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(hcases) / sizeof(hcases[0]); i++) {
        const char *h = NULL;
        size_t hl = 0;
        unsigned port = 99;
        int rc = ps_name_split_hostport(hcases[i].in, strlen(hcases[i].in), &h, &hl, &port, NULL);
        if (rc != hcases[i].rc)
            fail_msg("case '%s': rc %d want %d", hcases[i].in, rc, hcases[i].rc);
        if (rc == 0) {
            assert_int_equal(hl, strlen(hcases[i].host));
            assert_memory_equal(h, hcases[i].host, hl);
            assert_int_equal(port, hcases[i].port);
        }
    }
}

static void
test_program(void **state)
{
    char out[PS_PROGRAM_MAX + 1];
    char big[300];

    (void)state;
    assert_int_equal(ps_name_program("Zoom.exe", 8, out, NULL), 0);
    assert_string_equal(out, "zoom.exe");
    assert_int_equal(ps_name_program("C:\\Program Files\\Zoom\\Zoom.EXE", 30, out, NULL), 0);
    assert_string_equal(out, "zoom.exe");
    assert_int_equal(ps_name_program("/usr/bin/slack", 14, out, NULL), 0);
    assert_string_equal(out, "slack");
    assert_int_equal(ps_name_program("/usr/bin/", 9, out, NULL), PS_EINVAL);
    assert_int_equal(ps_name_program("a\nb", 3, out, NULL), PS_EINVAL);
    memset(big, 'a', sizeof(big));
    assert_int_equal(ps_name_program(big, sizeof(big), out, NULL), PS_ETOOLONG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_table), cmocka_unit_test(test_normalize_lengths),
        cmocka_unit_test(test_check_stored),    cmocka_unit_test(test_hostport_table),
        cmocka_unit_test(test_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
