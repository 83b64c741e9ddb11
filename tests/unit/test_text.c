/* test_text: the shared text helpers (lib/core/text.c). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "text.h"

static void
num_accepts_digits_up_to_max(void **state)
{
    uint64_t v = 7;

    assert_true(ps_num_parse("0", 1, 0, &v));
    assert_int_equal(v, 0);
    assert_true(ps_num_parse("65535", 5, 65535, &v));
    assert_int_equal(v, 65535);
    assert_true(ps_num_parse("18446744073709551615", 20, UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    /* only the n bytes given are read */
    assert_true(ps_num_parse("12junk", 2, 99, &v));
    assert_int_equal(v, 12);
    assert_true(ps_num_parse_str("300", 300, &v));
    assert_int_equal(v, 300);
}

static void
num_refuses_the_rest(void **state)
{
    uint64_t v = 42;

    assert_false(ps_num_parse("", 0, 10, &v));
    assert_false(ps_num_parse(NULL, 3, 10, &v));
    assert_false(ps_num_parse("65536", 5, 65535, &v));
    assert_false(ps_num_parse("-1", 2, 10, &v));
    assert_false(ps_num_parse("+1", 2, 10, &v));
    assert_false(ps_num_parse(" 1", 2, 10, &v));
    assert_false(ps_num_parse("1 ", 2, 10, &v));
    assert_false(ps_num_parse("0x1", 3, 10, &v));
    assert_false(ps_num_parse("18446744073709551616", 20, UINT64_MAX, &v));
    assert_false(ps_num_parse("99999999999999999999999", 23, UINT64_MAX, &v));
    assert_false(ps_num_parse_str(NULL, 10, &v));
    assert_false(ps_num_parse_str("1\n", 10, &v));
    assert_int_equal(v, 42);
}

static void
lower_is_ascii_only(void **state)
{
    char buf[16];

    ps_ascii_lower_copy(buf, "WwW.Zoom.US\xc3\x84", 13);
    assert_memory_equal(buf, "www.zoom.us\xc3\x84", 13);
    memcpy(buf, "ABC", 4);
    ps_ascii_lower_copy(buf, buf, 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(ps_ascii_lower('@'), '@');
    assert_int_equal(ps_ascii_lower('['), '[');
    assert_int_equal(ps_ascii_lower('Z'), 'z');
}

static void
utf8_len_follows_rfc3629(void **state)
{
    assert_int_equal(ps_utf8_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
    /* truncated, overlong, surrogate, above U+10FFFF, lone continuation, empty */
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xe2\x82", 2), 0);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xc0\xaf", 2), 0);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xe0\x80\xaf", 3), 0);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
    assert_int_equal(ps_utf8_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(ps_utf8_len((const unsigned char *)"", 0), 0);
}

static void
utc_format_formats_and_refuses(void **state)
{
    char out[32];

    assert_true(ps_utc_format(0, "%Y-%m-%d %H:%M:%S UTC", out, sizeof(out)));
    assert_string_equal(out, "1970-01-01 00:00:00 UTC");
    assert_true(ps_utc_format(1764633600, "%Y-%m-%dT%H:%M:%SZ", out, sizeof(out)));
    assert_string_equal(out, "2025-12-02T00:00:00Z");
    assert_false(ps_utc_format(0, "%Y-%m-%d %H:%M:%S UTC", out, 8));
    assert_string_equal(out, "");
}

static void
file_read_reads_and_names_the_path(void **state)
{
    char path[] = "/tmp/test_text.XXXXXX";
    struct ps_err e = {0};
    char *buf = NULL;
    size_t len = 0;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc\0def", 7), 7);
    close(fd);
    assert_int_equal(ps_file_read(path, 7, &buf, &len, &e), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(buf, "abc\0def", 8);
    free(buf);
    buf = NULL;
    assert_int_equal(ps_file_read(path, 6, &buf, &len, &e), PS_EIO);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "larger than 6 bytes"));
    assert_null(buf);
    unlink(path);
    assert_int_equal(ps_file_read(path, 100, &buf, NULL, &e), PS_ENOENT);
    assert_non_null(strstr(e.msg, path));
    assert_int_equal(ps_file_read("/tmp", 100, &buf, NULL, &e), PS_EIO);
    assert_string_equal(e.msg, "/tmp: not a regular file");
}

static void
default_db_path_is_under_localstatedir(void **state)
{
    const char *p = ps_default_db_path();
    size_t n = strlen(p);

    assert_true(n > 23);
    assert_string_equal(p + n - 23, "/lib/pinsplice/rules.db");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(num_accepts_digits_up_to_max),
        cmocka_unit_test(num_refuses_the_rest),
        cmocka_unit_test(lower_is_ascii_only),
        cmocka_unit_test(utf8_len_follows_rfc3629),
        cmocka_unit_test(utc_format_formats_and_refuses),
        cmocka_unit_test(file_read_reads_and_names_the_path),
        cmocka_unit_test(default_db_path_is_under_localstatedir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
