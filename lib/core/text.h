/*
 * text.h: the small text helpers every library shares: one checked decimal parser, ASCII
 * lower-casing, the UTF-8 sequence length, the UTC time formatter, reading a whole file, and
 * the default rules DB path. Each exists once; callers keep their own error messages.
 */
#ifndef PS_TEXT_H
#define PS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ps_err;

/* The n bytes at s as an unsigned decimal number: at least one digit, digits only (no sign,
 * no space), no overflow, and at most max. Returns false, leaving *out alone, otherwise. */
bool ps_num_parse(const char *s, size_t n, uint64_t max, uint64_t *out);

/* The same for a NUL-terminated string (NULL is refused). */
bool ps_num_parse_str(const char *s, uint64_t max, uint64_t *out);

/* c lower-cased if it is an ASCII capital, otherwise unchanged (no locale). */
static inline char
ps_ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Lower-case n bytes of src into dst (dst may be src). ASCII only; other bytes are copied. */
void ps_ascii_lower_copy(char *dst, const char *src, size_t n);

/* The length (1..4) of the well-formed UTF-8 character at s, with n bytes left, or 0 when it
 * is not one (RFC 3629: no overlong form, no surrogate, at most U+10FFFF). ASCII gives 1. */
size_t ps_utf8_len(const unsigned char *s, size_t n);

/* Format the time t (seconds since the epoch) in UTC with strftime's fmt into out. Returns
 * false, with out = "", when the time cannot be represented or does not fit. */
bool ps_utc_format(int64_t t, const char *fmt, char *out, size_t size)
    __attribute__((format(strftime, 2, 0)));

/* Read the whole file at path into a NUL-terminated buffer (*out, to free()), refusing one
 * larger than max bytes. *len (may be NULL) gets its length. Errors name the path: PS_ENOENT
 * when it does not exist, PS_EIO otherwise. */
int ps_file_read(const char *path, size_t max, char **out, size_t *len, struct ps_err *err);

/* The rules DB every program opens unless told otherwise: LOCALSTATEDIR/lib/pinsplice/rules.db. */
const char *ps_default_db_path(void);

#endif
