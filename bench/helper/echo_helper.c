/*
 * echo_helper: the pipe's upper bound for bench/helper/run.sh. Answers "[CHANNEL-ID ]OK" to every
 * request line and decides nothing, with ext_pinsplice_acl's batching: read up to 64 KiB, answer
 * every complete line, write all replies of that read in one write, then read again (never holding
 * a reply back waiting for input). A first field of 1..20 digits followed by a space is taken as a
 * channel-ID and echoed. A line longer than LINE_MAX_ is answered once and the rest of it drained,
 * like the real helper (the bench never sends one).
 *
 * Usage: echo_helper        (stdin: requests, stdout: replies; exits 0 at end of input)
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define LINE_MAX_ 16384
#define ID_MAX 20
#define REPLY_MAX (ID_MAX + 8)
#define OUT_MAX (256 * 1024)

static char in[LINE_MAX_ + 1 + READ_CHUNK];
static char out[OUT_MAX];
static size_t in_len, out_len;
static bool draining; /* the current line was answered already: discard up to its newline */

/* Write every pending reply. Returns 0, or -1 when stdout is gone. */
static int
flush_out(void)
{
    size_t off = 0;
    ssize_t n;

    while (off < out_len) {
        n = write(STDOUT_FILENO, out + off, out_len - off);
        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else
            return -1;
    }
    out_len = 0;
    return 0;
}

/* Append the reply to one line (len bytes, no newline). Returns 0 or -1. */
static int
answer(const char *line, size_t len)
{
    size_t d = 0;

    if (out_len + REPLY_MAX > sizeof(out) && flush_out() < 0)
        return -1;
    while (d < len && d <= ID_MAX && line[d] >= '0' && line[d] <= '9')
        d++;
    if (d > 0 && d <= ID_MAX && d < len && line[d] == ' ') {
        memcpy(out + out_len, line, d + 1);
        out_len += d + 1;
    }
    memcpy(out + out_len, "OK\n", 3);
    out_len += 3;
    return 0;
}

/* Answer every complete line; keep a partial one (or answer it once it is over the limit). */
static int
process(bool eof)
{
    size_t start = 0, len;
    const char *nl;

    while ((nl = memchr(in + start, '\n', in_len - start)) != NULL) {
        len = (size_t)(nl - (in + start));
        if (!draining && answer(in + start, len) < 0)
            return -1;
        draining = false;
        start += len + 1;
    }
    if (!draining && (in_len - start > LINE_MAX_ || (eof && in_len > start))) {
        if (answer(in + start, in_len - start) < 0)
            return -1;
        draining = !eof;
    }
    if (draining)
        start = in_len;
    memmove(in, in + start, in_len - start);
    in_len -= start;
    return 0;
}

int
main(void)
{
    ssize_t n;

    for (;;) {
        n = read(STDIN_FILENO, in + in_len, sizeof(in) - in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 1;
        in_len += (size_t)n;
        if (process(n == 0) < 0 || flush_out() < 0)
            return 1;
        if (n == 0)
            return 0;
    }
}
