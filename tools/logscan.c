/*
 * pinsplice logscan: what Squid's access.log says pinsplice did, and which apps break under
 * bumping. Translates options to lib/log/logscan.h, lib/log/logfind.h and lib/log/logreport.h calls
 * and their results to an exit status; all the analysis is in lib/.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "pinsplice_log.h"

#define CMD "logscan"
#define DB_BUSY_MS 5000

static const char usage_text[] =
    "Usage: pinsplice logscan [OPTIONS] FILE...\n"
    "Report what Squid's access.log says pinsplice did (connections by action, rules, names,\n"
    "clients, bytes) and find the apps that break under bumping: names whose bumped\n"
    "connections the clients abandoned (rejected the certificate, reset, closed, or left\n"
    "without a request). FILE may be gzip-compressed; '-' reads stdin. Give rotated logs\n"
    "oldest first. Nothing is changed: --sql only prints statements for you to review.\n"
    "\n"
    "Input:\n"
    "  --format F         auto (default: per file, pinsplice or squid), pinsplice, squid\n"
    "  --logformat DEF    the records use this Squid logformat definition instead\n"
    "  --since TIME       skip records before TIME (UTC: YYYY-MM-DD[ HH:MM[:SS]], @UNIXTIME)\n"
    "  --until TIME       skip records after TIME (a date or minute includes all of it)\n"
    "  --show-bad N       show the first N lines that do not parse (default 5)\n"
    "Output:\n"
    "  --json             the whole report as one JSON object\n"
    "  --csv[=TABLE]      one table as CSV: names (default), clients, rules, findings\n"
    "  --sql              only the sqlite3 statements that would add bypass rules for the\n"
    "                     suspects, for review (through the management views; a catalogue\n"
    "                     app that covers a name is enabled instead of a new rule)\n"
    "  --expires DAYS     --sql: each rule expires DAYS after it is applied (default 7,\n"
    "                     0 = never)\n"
    "  --monitor          --sql: each rule starts in monitor mode (changes no answer)\n"
    "  --top N            rows in each top list (default 10, 0 = all)\n"
    "  --all              also list names below the thresholds and names the rules handle\n"
    "Finding apps that break:\n"
    "  --min-failures N   abandoned bumped connections to a name (default 5)\n"
    "  --min-clients N    from at least N client addresses (default 2, at most 17)\n"
    "  --min-ratio R      abandoned / (abandoned + with requests), 0..1 (default 0.5)\n"
    "  --window SECONDS   how long a bumped connection may wait for its first request\n"
    "                     (default 600)\n"
    "  --max-pending N    connections waiting at once, at most (default 1048576)\n"
    "  --db PATH          rules database: names it no longer bumps are not suspects\n"
    "                     (default: $PINSPLICE_DB, else the installed one, when it exists)\n"
    "  --no-db            do not read any rules database\n"
    "\n"
    "Exit status: 0 no suspect, 1 suspects found, 2 error (usage, unreadable file or DB),\n"
    "3 nothing could be judged (no record read, or none in the pinsplice logformat).\n"
    "See pinsplice(1), section LOGSCAN.\n";

struct args {
    struct ps_logscan_opts scan;
    struct ps_logfind_opts find;
    struct ps_logreport_opts report;
    struct ps_logfind_sql_opts sqlo;
    struct ps_logformat custom;
    const char *db;
    bool no_db, sql, sql_only; /* sql_only: an option that only --sql uses was given */
};

/* Checked unsigned number: digits only, within [lo, hi]. */
static int
number(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
       unsigned long long *out)
{
    uint64_t v;

    if (!ps_num_parse_str(s, hi, &v) || v < lo) {
        ps_cli_error(CMD, "--%s: '%s' is not a number in %llu..%llu", opt, s, lo, hi);
        return PS_EXIT_ERROR;
    }
    *out = v;
    return 0;
}

static int
ratio(const char *s, double *out)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
        ps_cli_error(CMD, "--min-ratio: '%s' is not a number in 0..1", s);
        return PS_EXIT_ERROR;
    }
    *out = v;
    return 0;
}

static int
table(const char *s, enum ps_logreport_table *t)
{
    static const char *const names[] = {"names", "clients", "rules", "findings"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *t = (enum ps_logreport_table)i;
            return 0;
        }
    }
    ps_cli_error(CMD, "--csv: unknown table '%s' (names, clients, rules, findings)", s);
    return PS_EXIT_ERROR;
}

enum {
    O_FORMAT = 256,
    O_LOGFORMAT,
    O_SINCE,
    O_UNTIL,
    O_SHOWBAD,
    O_JSON,
    O_CSV,
    O_SQL,
    O_EXPIRES,
    O_MONITOR,
    O_TOP,
    O_ALL,
    O_MINFAIL,
    O_MINCLIENTS,
    O_MINRATIO,
    O_WINDOW,
    O_MAXPENDING,
    O_DB,
    O_NODB
};

static const struct option options[] = {
    {"format", required_argument, NULL, O_FORMAT},
    {"logformat", required_argument, NULL, O_LOGFORMAT},
    {"since", required_argument, NULL, O_SINCE},
    {"until", required_argument, NULL, O_UNTIL},
    {"show-bad", required_argument, NULL, O_SHOWBAD},
    {"json", no_argument, NULL, O_JSON},
    {"csv", optional_argument, NULL, O_CSV},
    {"sql", no_argument, NULL, O_SQL},
    {"expires", required_argument, NULL, O_EXPIRES},
    {"monitor", no_argument, NULL, O_MONITOR},
    {"top", required_argument, NULL, O_TOP},
    {"all", no_argument, NULL, O_ALL},
    {"min-failures", required_argument, NULL, O_MINFAIL},
    {"min-clients", required_argument, NULL, O_MINCLIENTS},
    {"min-ratio", required_argument, NULL, O_MINRATIO},
    {"window", required_argument, NULL, O_WINDOW},
    {"max-pending", required_argument, NULL, O_MAXPENDING},
    {"db", required_argument, NULL, O_DB},
    {"no-db", no_argument, NULL, O_NODB},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
format_opt(struct args *a, const char *v)
{
    if (strcmp(v, "auto") == 0)
        a->scan.format = NULL;
    else if ((a->scan.format = ps_logformat_builtin(v)) == NULL) {
        ps_cli_error(CMD, "--format: unknown format '%s' (auto, pinsplice, squid)", v);
        return PS_EXIT_ERROR;
    }
    return 0;
}

/* One option; returns 0, PS_CLI_HELP or PS_EXIT_ERROR. */
static int
option(struct args *a, int c, const char *v)
{
    struct ps_err e = {0, ""};
    unsigned long long n;
    int rc = 0;

    switch (c) {
    case O_FORMAT:
        return format_opt(a, v);
    case O_LOGFORMAT:
        if (ps_logformat_compile("--logformat", v, &a->custom, &e) < 0) {
            ps_cli_error(CMD, "%s", e.msg);
            return PS_EXIT_ERROR;
        }
        a->scan.format = &a->custom;
        return 0;
    case O_SINCE:
    case O_UNTIL:
        if (ps_logline_datetime(v, c == O_UNTIL,
                                c == O_SINCE ? &a->scan.since_ms : &a->scan.until_ms, &e) < 0) {
            ps_cli_error(CMD, "--%s: %s", c == O_SINCE ? "since" : "until", e.msg);
            return PS_EXIT_ERROR;
        }
        return 0;
    case O_SHOWBAD:
        rc = number("show-bad", v, 0, 1000, &n);
        a->scan.keep_bad = n;
        break;
    case O_JSON:
        a->report.format = PS_LOGREPORT_JSON;
        break;
    case O_CSV:
        a->report.format = PS_LOGREPORT_CSV;
        return v != NULL ? table(v, &a->report.table) : 0;
    case O_SQL:
        a->sql = true;
        break;
    case O_EXPIRES:
        rc = number("expires", v, 0, 3650, &n);
        a->sqlo.expires_days = (int)n;
        a->sql_only = true;
        break;
    case O_MONITOR:
        a->sqlo.monitor = true;
        a->sql_only = true;
        break;
    case O_TOP:
        rc = number("top", v, 0, 1000000, &n);
        a->report.top = n;
        break;
    case O_ALL:
        a->report.all = true;
        break;
    case O_MINFAIL:
        rc = number("min-failures", v, 1, 1ULL << 40, &n);
        a->find.min_failures = n;
        break;
    case O_MINCLIENTS:
        rc = number("min-clients", v, 1, PS_LS_CLIENTS_TRACK + 1, &n);
        a->find.min_clients = (uint32_t)n;
        break;
    case O_MINRATIO:
        return ratio(v, &a->find.min_ratio);
    case O_WINDOW:
        rc = number("window", v, 1, 30 * 86400, &n);
        a->scan.window_ms = (int64_t)n * 1000;
        break;
    case O_MAXPENDING:
        rc = number("max-pending", v, 1, 1ULL << 30, &n);
        a->scan.max_pending = n;
        break;
    case O_DB:
        a->db = v;
        break;
    case O_NODB:
        a->no_db = true;
        break;
    case 'h':
        return PS_CLI_HELP;
    default:
        fprintf(stderr, "Try 'pinsplice logscan --help'.\n");
        return PS_EXIT_ERROR;
    }
    return rc;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
    int c, rc;

    ps_logscan_opts_init(&a->scan);
    ps_logfind_opts_init(&a->find);
    ps_logreport_opts_init(&a->report);
    ps_logfind_sql_opts_init(&a->sqlo);
    a->report.find = &a->find;
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if ((rc = option(a, c, optarg)) != 0)
            return rc;
    }
    if (optind >= argc) {
        ps_cli_error(CMD, "no FILE given ('-' reads stdin)");
        fprintf(stderr, "Try 'pinsplice logscan --help'.\n");
        return PS_EXIT_ERROR;
    }
    if (a->scan.since_ms > a->scan.until_ms) {
        ps_cli_error(CMD, "--since is after --until");
        return PS_EXIT_ERROR;
    }
    if (a->sql_only && !a->sql) {
        ps_cli_error(CMD, "--expires and --monitor shape the --sql statements: give --sql too");
        return PS_EXIT_ERROR;
    }
    if (a->sql && a->report.format != PS_LOGREPORT_TEXT) {
        ps_cli_error(CMD, "--sql cannot be combined with --json or --csv");
        return PS_EXIT_ERROR;
    }
    return 0;
}

/* Load the rules when asked for (--db: must work) or when the default DB exists (a broken one
 * is reported and the scan goes on without it). */
static int
load_rules(struct args *a, struct ps_snapshot **snap, char note[300])
{
    const char *path = ps_cli_db_path(a->db);
    struct ps_err e = {0, ""};
    struct stat st;

    if (a->no_db) {
        snprintf(note, 300, "not read (--no-db)");
        return 0;
    }
    if (a->db == NULL && stat(path, &st) != 0) {
        snprintf(note, 300, "none at %.250s", path);
        return 0;
    }
    if (ps_store_load(path, DB_BUSY_MS, snap, &e) < 0) {
        ps_cli_error(CMD, "%s: %s", path, e.msg);
        if (a->db != NULL)
            return PS_EXIT_ERROR; /* asked for: without it the suspects would be wrong */
        snprintf(note, 300, "could not be read (%.200s)", e.msg);
        return 0;
    }
    a->report.db = path;
    a->find.snap = *snap;
    return 0;
}

static int
read_inputs(struct ps_logscan *ls, int n, char **files, bool *failed)
{
    struct ps_err e = {0, ""};
    int i, rc;

    for (i = 0; i < n; i++) {
        if ((rc = ps_logread_file(ls, files[i], &e)) == PS_ENOMEM) {
            ps_cli_error(CMD, "out of memory");
            return PS_EXIT_ERROR;
        }
        if (rc < 0) {
            ps_cli_error(CMD, "%s", e.msg);
            *failed = true;
        }
    }
    if (ps_logscan_finish(ls) == PS_ENOMEM) {
        ps_cli_error(CMD, "out of memory");
        return PS_EXIT_ERROR;
    }
    return 0;
}

/* The catalogue app that covers each suspect, from the rules DB the scan compared with (none
 * read: *apps stays NULL and the SQL says so). One allocation: the pointer array, then the names.
 */
#define APP_NAME_MAX 200
static int
catalogue(const struct args *a, const struct ps_logfind_item *items, size_t n, const char ***apps)
{
    struct ps_err e = {0, ""};
    const char **names, **out;
    char *buf;
    size_t i;

    *apps = NULL;
    if (a->report.db == NULL || n == 0)
        return 0;
    if ((out = calloc(1, n * (2 * sizeof(char *) + APP_NAME_MAX + 1))) == NULL) {
        ps_cli_error(CMD, "out of memory");
        return PS_EXIT_ERROR;
    }
    names = out + n;
    buf = (char *)(names + n);
    for (i = 0; i < n; i++) {
        names[i] = items[i].name;
        out[i] = buf + i * (APP_NAME_MAX + 1);
    }
    if (ps_store_catalogue_apps(a->report.db, names, n, buf, APP_NAME_MAX + 1, &e) < 0) {
        ps_cli_error(CMD, "%s", e.msg);
        free(out);
        return PS_EXIT_ERROR;
    }
    *apps = out;
    return 0;
}

int
ps_cmd_logscan(int argc, char **argv)
{
    struct args a;
    struct ps_logscan *ls = NULL;
    struct ps_snapshot *snap = NULL;
    struct ps_logfind_item *items = NULL;
    struct ps_err e = {0, ""};
    char note[300] = "";
    const char **apps = NULL;
    size_t n = 0, i, suspects = 0;
    bool failed = false;
    int rc;

    memset(&a, 0, sizeof(a));
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        if (rc == PS_CLI_HELP)
            fputs(usage_text, stdout);
        return rc == PS_CLI_HELP ? PS_EXIT_OK : PS_EXIT_ERROR;
    }
    if ((rc = load_rules(&a, &snap, note)) != 0)
        goto done;
    a.report.db_note = note;
    if ((ls = ps_logscan_new(&a.scan)) == NULL) {
        ps_cli_error(CMD, "out of memory");
        rc = PS_EXIT_ERROR;
        goto done;
    }
    if ((rc = read_inputs(ls, argc - optind, argv + optind, &failed)) != 0)
        goto done;
    if (ps_logfind_run(ls, &a.find, &items, &n, &e) < 0) {
        ps_cli_error(CMD, "%s", e.msg);
        rc = PS_EXIT_ERROR;
        goto done;
    }
    for (i = 0; i < n; i++)
        suspects += items[i].suspect;
    if (a.sql) {
        if ((rc = catalogue(&a, items, n, &apps)) != 0)
            goto done;
        a.sqlo.apps = apps;
        ps_logfind_sql(stdout, items, n, &a.find, &a.sqlo);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            ps_cli_error(CMD, "writing the SQL: %s", strerror(errno));
            rc = PS_EXIT_ERROR;
            goto done;
        }
    } else if (ps_logreport_write(stdout, ls, items, n, &a.report, &e) < 0) {
        ps_cli_error(CMD, "%s", e.msg);
        rc = PS_EXIT_ERROR;
        goto done;
    }
    /* "no suspect" only when the records could show one: cron must not read a native-format
     * log, or an empty one, as all clear */
    if (!failed && !ps_logscan_can_find(ls))
        ps_cli_error(CMD, "%s",
                     ps_logscan_input(ls)->records == 0
                         ? "no record was read: nothing was judged (exit status 3)"
                         : "no record is in a format that shows client-side TLS "
                           "failures (use the pinsplice logformat): nothing was "
                           "judged (exit status 3)");
    rc = failed                     ? PS_EXIT_ERROR
         : suspects > 0             ? PS_EXIT_PROBLEMS
         : !ps_logscan_can_find(ls) ? PS_EXIT_UNJUDGED
                                    : PS_EXIT_OK;
done:
    free(apps);
    free(items);
    ps_logscan_free(ls);
    ps_snapshot_release(snap);
    return rc;
}
