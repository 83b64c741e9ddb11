#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tlsalert.h"

struct dcase {
    const char *detail;
    enum ps_tlsfail_kind kind;
    int alert;
    unsigned long reason;
    int io_err, sys_errno;
};

/* %err_detail values: the first four as Squid 5.7 logged them (SQUID.md, tests/fixtures). */
static const struct dcase dcases[] = {
    {"SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1", PS_TLSFAIL_ALERT, 48, 1048, 1, 0},
    {"SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000412+TLS_IO_ERR=1", PS_TLSFAIL_ALERT, 42, 1042, 1, 0},
    {"SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=104", PS_TLSFAIL_RESET, -1, 0, 5, 104},
    {"SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5", PS_TLSFAIL_CLOSED, -1, 0, 5, 0},
    {"SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=32", PS_TLSFAIL_RESET, -1, 0, 5, 32},   /* EPIPE */
    {"SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=110", PS_TLSFAIL_OTHER, -1, 0, 5, 110}, /* timeout */
    {"SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=6", PS_TLSFAIL_CLOSED, -1, 0, 6, 0}, /* close_notify */
    /* OpenSSL 1.1 packing (lib 20 << 24 | func << 12 | reason) */
    {"SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=14094416+TLS_IO_ERR=1", PS_TLSFAIL_ALERT, 46, 1046, 1, 0},
    /* a library error that is not an alert: "wrong version number" (not TLS) */
    {"SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A00010B+TLS_IO_ERR=1", PS_TLSFAIL_OTHER, -1, 267, 1, 0},
    /* another library's error: no SSL reason */
    {"TLS_LIB_ERR=5800088", PS_TLSFAIL_OTHER, -1, 0, -1, 0},
    {"", PS_TLSFAIL_NONE, -1, 0, -1, 0},
    {"WITH_SERVER", PS_TLSFAIL_NONE, -1, 0, -1, 0},
    {"TLS_LIB_ERR=zz+TLS_IO_ERR=x+errno=", PS_TLSFAIL_NONE, -1, 0, -1, 0},
    {"TLS_LIB_ERR=A000418A000418A000418", PS_TLSFAIL_NONE, -1, 0, -1, 0}, /* over 16 digits */
    {"+++TLS_LIB_ERR=a000418+", PS_TLSFAIL_ALERT, 48, 1048, -1, 0}, /* lower-case hex, empty parts */
};

static void
test_parse(void **state)
{
    struct ps_tlsfail f;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
        const struct dcase *c = &dcases[i];
        ps_tlsalert_parse(c->detail, strlen(c->detail), &f);
        if (f.kind != c->kind || f.alert != c->alert || f.reason != c->reason ||
            f.io_err != c->io_err || f.sys_errno != c->sys_errno)
            fail_msg("case %zu '%s': kind %d alert %d reason %lu io %d errno %d", i, c->detail,
                     f.kind, f.alert, f.reason, f.io_err, f.sys_errno);
    }
}

static void
test_parse_bounded(void **state)
{
    char many[4096] = "";
    struct ps_tlsfail f;
    int i;

    (void)state;
    /* Only the first 16 parts are looked at. */
    for (i = 0; i < 20; i++)
        strcat(many, "X+");
    strcat(many, "TLS_LIB_ERR=A000418");
    ps_tlsalert_parse(many, strlen(many), &f);
    assert_int_equal(f.kind, PS_TLSFAIL_NONE);
    /* Not NUL-terminated: the length bounds the walk. */
    ps_tlsalert_parse("TLS_LIB_ERR=A000418", 15, &f); /* "TLS_LIB_ERR=A00" */
    assert_int_equal(f.lib_err, 0xA00);
    assert_int_equal(f.kind, PS_TLSFAIL_OTHER);
}

struct ncase {
    int alert;
    const char *name;
};

/* Names as RFC 8446 spells them, from OpenSSL's tables. */
static const struct ncase ncases[] = {
    {0, "close_notify"},         {40, "handshake_failure"},     {42, "bad_certificate"},
    {45, "certificate_expired"}, {46, "certificate_unknown"},   {48, "unknown_ca"},
    {70, "protocol_version"},    {80, "internal_error"},        {90, "user_canceled"},
    {112, "unrecognized_name"},  {116, "certificate_required"}, {120, "no_application_protocol"},
    {200, "alert_200"},          {-1, "alert_-1"},              {256, "alert_256"},
};

static void
test_names(void **state)
{
    char buf[40], small[8];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++)
        assert_string_equal(ps_tlsalert_name(ncases[i].alert, buf, sizeof(buf)), ncases[i].name);
    /* A small buffer truncates, never overflows. */
    assert_string_equal(ps_tlsalert_name(48, small, sizeof(small)), "unknown");
    assert_string_equal(ps_tlsalert_reason(1048), "tlsv1 alert unknown ca");
    assert_string_equal(ps_tlsalert_reason(267), "wrong version number");
    assert_null(ps_tlsalert_reason(0));
    assert_null(ps_tlsalert_reason(0x800000));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_bounded),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
