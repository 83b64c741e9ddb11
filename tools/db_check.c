/* `pinsplice db check`: report what is wrong, dangerous or useless in the rules (lib/admin/lint*.c). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "pinsplice_admin.h"

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

/* One line of the --as report; returns 1 when the check failed. */
static int
access_line(const char *db, const char *user, const char *file, int mode, const char *what)
{
    if (access(file, mode) == 0) {
        printf("%s: as %s: %s: ok (%s)\n", db, user, file, what);
        return 0;
    }
    if (errno == ENOENT && mode == R_OK && strcmp(file, db) != 0) {
        printf("%s: as %s: %s: absent\n", db, user, file);
        return 0;
    }
    printf("%s: as %s: %s: error: cannot %s: %s\n", db, user, file,
           mode == X_OK ? "enter it" : "read it", strerror(errno));
    return 1;
}

/* In the child, as the user: every directory up to the DB, the DB, its journal, -wal and -shm,
 * then a real load. Returns the number of failures. */
static int
access_report(const char *db, const char *user)
{
    static const char *const suffix[] = {"-journal", "-wal", "-shm"};
    char p[4096], *slash;
    struct ps_snapshot *snap = NULL;
    struct ps_snapshot_stats st;
    struct ps_err err = {0, ""};
    int bad = 0;
    size_t i;

    if (snprintf(p, sizeof(p), "%s", db) >= (int)sizeof(p))
        return 1;
    /* each parent directory needs search permission, from the top down */
    for (slash = strchr(p + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        bad += access_line(db, user, p, X_OK, "search");
        *slash = '/';
    }
    if (strchr(db, '/') == NULL)
        bad += access_line(db, user, ".", X_OK, "search");
    bad += access_line(db, user, db, R_OK, "read");
    for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", db, suffix[i]);
        bad += access_line(db, user, p, R_OK, "read");
    }
    if (ps_store_load(db, 2000, &snap, &err) < 0) {
        printf("%s: as %s: error: the rules do not load: %s\n", db, user, err.msg);
        return bad + 1;
    }
    ps_snapshot_stats(snap, &st);
    ps_snapshot_release(snap);
    printf("%s: as %s: loads: %zu rules, %zu domains\n", db, user, st.rules, st.domains);
    return bad;
}

/* `--as USER`: report whether USER (Squid's helper user, c-icap's User) can read and load the
 * DB, checked for real in a child process running as USER. Returns 0 (it can), 1 (it cannot) or
 * PS_EXIT_ERROR. */
static int
check_as(const char *cmd, const char *db, const char *user)
{
    struct passwd *pw = getpwnam(user);
    pid_t pid;
    int status;

    if (pw == NULL) {
        ps_cli_error(cmd, "--as '%s': no such user", user);
        return PS_EXIT_ERROR;
    }
    if (geteuid() != 0 && geteuid() != pw->pw_uid) {
        ps_cli_error(cmd, "--as '%s': run this as root (or as '%s')", user, user);
        return PS_EXIT_ERROR;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        ps_cli_error(cmd, "fork: %s", strerror(errno));
        return PS_EXIT_ERROR;
    }
    if (pid == 0) {
        if (geteuid() != pw->pw_uid &&
            (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
             setuid(pw->pw_uid) < 0 || getuid() != pw->pw_uid)) {
            ps_cli_error(cmd, "--as '%s': cannot switch to that user: %s", user,
                         strerror(errno));
            _exit(PS_EXIT_ERROR);
        }
        status = access_report(db, user);
        fflush(stdout);
        _exit(status > 0 ? 1 : 0);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) == PS_EXIT_ERROR)
        return PS_EXIT_ERROR;
    return WEXITSTATUS(status);
}

int
ps_cmd_db_check(int argc, char **argv)
{
    const char *db = NULL, *path, *as = NULL;
    bool json = false;
    const struct ps_cli_opt opts[] = {
        {"db", &db, NULL}, {"json", NULL, &json}, {"as", &as, NULL}};
    int as_rc = 0;
    struct ps_lint *l = NULL;
    struct ps_err err = {0, ""};
    int rc;

    rc = ps_cli_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
    if (rc == PS_CLI_HELP)
        return ps_cli_help(argv[0], stdout);
    if (rc != 0)
        return rc;
    path = ps_cli_db_path(db);
    if (as != NULL && json) {
        ps_cli_error(argv[0], "--as reports in text only: use it without --json");
        return PS_EXIT_ERROR;
    }
    if (as != NULL && (as_rc = check_as(argv[0], path, as)) == PS_EXIT_ERROR)
        return PS_EXIT_ERROR;
    if (ps_lint_db(path, 2000, &l, &err) < 0) {
        ps_cli_error(argv[0], "%s", err.msg);
        return PS_EXIT_ERROR;
    }
    if (json)
        print_json(path, l);
    else
        print_text(path, l);
    rc = ps_lint_count(l) > 0 || as_rc != 0 ? PS_EXIT_PROBLEMS : PS_EXIT_OK;
    ps_lint_free(l);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ps_cli_error(argv[0], "writing the report failed");
        return PS_EXIT_ERROR;
    }
    return rc;
}
