#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinsplice.h"
#include "cli.h"
#include "operands.h"

static const struct ps_cli_opt *
find_opt(const char *arg, size_t len, const struct ps_cli_opt *opts, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, arg, len) == 0)
            return &opts[i];
    return NULL;
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "pinsplice %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'pinsplice help %s'.\n", cmd);
    return PS_EXIT_ERROR;
}

/* One "--name[=value]" at argv[*i]; advances *i past a separate value. */
static int
parse_one(int argc, char **argv, int *i, const struct ps_cli_opt *opts, size_t n, bool *seen)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct ps_cli_opt *o = find_opt(arg, len, opts, n);

    if (o == NULL)
        return usage_error(argv[0], "unknown option '%s'", argv[*i]);
    if (seen[o - opts])
        return usage_error(argv[0], "option '--%s' given twice", o->name);
    seen[o - opts] = true;
    if (o->flag != NULL) {
        if (eq != NULL)
            return usage_error(argv[0], "option '--%s' takes no value", o->name);
        *o->flag = true;
        return 0;
    }
    if (eq != NULL) {
        *o->value = eq + 1;
        return 0;
    }
    if (*i + 1 >= argc)
        return usage_error(argv[0], "option '--%s' needs a value", o->name);
    *o->value = argv[++*i];
    return 0;
}

int
ps_cli_parse(int argc, char **argv, const struct ps_cli_opt *opts, size_t n_opts)
{
    bool seen[32] = {false};
    int i, rc;

    if (n_opts > sizeof(seen) / sizeof(seen[0]))
        return usage_error(argv[0], "internal error: too many options");
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return PS_CLI_HELP;
        if (strcmp(argv[i], "--") == 0) {
            if (i + 1 < argc)
                return usage_error(argv[0], "unexpected argument '%s'", argv[i + 1]);
            break;
        }
        if (strncmp(argv[i], "--", 2) != 0)
            return usage_error(argv[0], "unexpected argument '%s'", argv[i]);
        if ((rc = parse_one(argc, argv, &i, opts, n_opts, seen)) != 0)
            return rc;
    }
    return 0;
}

int
ps_cli_args(int argc, char **argv, const struct ps_cli_opt *opts, size_t n_opts, char **ops,
            size_t max_ops, size_t *n_ops)
{
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int n_rest = 0, rc = PS_EXIT_ERROR;

    if (rest == NULL)
        return PS_EXIT_ERROR;
    if (ps_cli_operands(argc, argv, opts, n_opts, ops, max_ops, n_ops, rest, &n_rest) == 0)
        rc = ps_cli_parse(n_rest, rest, opts, n_opts);
    free(rest);
    return rc;
}

const char *
ps_cli_db_path(const char *opt)
{
    const char *env = getenv("PINSPLICE_DB");

    if (opt != NULL)
        return opt;
    if (env != NULL && env[0] != '\0')
        return env;
    return ps_default_db_path();
}

void
ps_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "pinsplice %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
ps_cli_text_str(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t n;

    for (; *p != '\0'; p += n ? n : 1) {
        n = ps_utf8_len(p, (size_t)(end - p));
        /* C0 controls, DEL, C1 controls (U+0080..U+009F) and invalid UTF-8 as \xNN bytes */
        if (n == 0 || *p < 0x20 || *p == 0x7f || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
            size_t k, len = n ? n : 1;
            for (k = 0; k < len; k++)
                fprintf(out, "\\x%02X", p[k]);
        } else if (*p == '\\') {
            fputs("\\\\", out);
        } else {
            fwrite(p, 1, n, out);
        }
    }
}

void
ps_cli_json_str(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end;
    size_t n;

    if (s == NULL) {
        fputs("null", out);
        return;
    }
    end = p + strlen(s);
    fputc('"', out);
    for (; *p != '\0'; p += n ? n : 1) {
        n = ps_utf8_len(p, (size_t)(end - p));
        if (n == 0)
            fputs("\\ufffd", out);
        else if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fwrite(p, 1, n, out);
    }
    fputc('"', out);
}

void
ps_cli_utc(long long t, char out[32])
{
    if (!ps_utc_format((int64_t)t, "%Y-%m-%d %H:%M:%S UTC", out, 32))
        snprintf(out, 32, "%lld", t);
}
