/* `pinsplice db check`: report what is wrong, dangerous or useless in the rules (lib/lint.c). */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "err.h"
#include "lint.h"

static void
print_text(const char *path, const struct ps_lint *l)
{
    const struct ps_lint_finding *f;
    size_t i, n = ps_lint_count(l), e, w;

    for (i = 0; i < n; i++) {
        f = ps_lint_get(l, i);
        printf("%s: ", path);
        if (f->rule != NULL)
            printf("rule '%s': ", f->rule);
        printf("%s: %s [%s]\n", ps_lint_severity_str(f->severity), f->message, f->check);
    }
    if (n == 0) {
        printf("%s: no problems found\n", path);
        return;
    }
    e = ps_lint_count_severity(l, PS_LINT_ERROR);
    w = ps_lint_count_severity(l, PS_LINT_WARNING);
    printf("%s: %zu error%s, %zu warning%s\n", path, e, e == 1 ? "" : "s", w, w == 1 ? "" : "s");
}

static void
print_json(const char *path, const struct ps_lint *l)
{
    const struct ps_lint_finding *f;
    size_t i, n = ps_lint_count(l);

    fputs("{\"db\":", stdout);
    ps_cli_json_str(stdout, path);
    printf(",\"errors\":%zu,\"warnings\":%zu,\"findings\":[",
           ps_lint_count_severity(l, PS_LINT_ERROR), ps_lint_count_severity(l, PS_LINT_WARNING));
    for (i = 0; i < n; i++) {
        f = ps_lint_get(l, i);
        printf("%s{\"severity\":\"%s\",\"check\":\"%s\",\"rule_id\":", i ? "," : "",
               ps_lint_severity_str(f->severity), f->check);
        if (f->rule != NULL)
            printf("%lld", f->rule_id);
        else
            fputs("null", stdout);
        fputs(",\"rule\":", stdout);
        ps_cli_json_str(stdout, f->rule);
        fputs(",\"kind\":", stdout);
        ps_cli_json_str(stdout, f->kind);
        fputs(",\"value\":", stdout);
        ps_cli_json_str(stdout, f->value);
        fputs(",\"message\":", stdout);
        ps_cli_json_str(stdout, f->message);
        fputc('}', stdout);
    }
    fputs("]}\n", stdout);
}

int
ps_cmd_db_check(int argc, char **argv)
{
    const char *db = NULL, *path;
    bool json = false;
    const struct ps_cli_opt opts[] = {{"db", &db, NULL}, {"json", NULL, &json}};
    struct ps_lint *l = NULL;
    struct ps_err err = {0, ""};
    int rc;

    rc = ps_cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
    if (rc == PS_CLI_HELP)
        return ps_cli_help(argv[0], stdout);
    if (rc != 0)
        return rc;
    path = ps_cli_db_path(db);
    if (ps_lint_db(path, 2000, &l, &err) < 0) {
        ps_cli_error(argv[0], "%s", err.msg);
        return PS_EXIT_ERROR;
    }
    if (json)
        print_json(path, l);
    else
        print_text(path, l);
    rc = ps_lint_count(l) > 0 ? PS_EXIT_PROBLEMS : PS_EXIT_OK;
    ps_lint_free(l);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ps_cli_error(argv[0], "writing the report failed");
        return PS_EXIT_ERROR;
    }
    return rc;
}
