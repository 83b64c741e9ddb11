/*
 * srv_pinsplice: c-icap REQMOD service that tells Squid to splice, bump or terminate a CONNECT.
 *
 * This file only carries out a plan: lib/core/icapreq.c reads the request's facts once,
 * lib/core/icapplan.c decides once and says what to answer (204 or 200, the header to strip, the
 * headers to add, the log attributes; why a bump is a 204 is told there), lib/core/reload.c keeps
 * the rules current.
 *
 * Process model: c-icap forks children from a master that has loaded this module. Nothing here
 * opens the rules DB before fork(): each child creates its ps_reload (which loads a snapshot with
 * a short-lived SQLite connection and starts the reload thread) in CI_CMD_CHILD_START. The worker
 * threads of a child share that child's immutable snapshot, one reference per request.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <c_icap/c-icap.h>
#include <c_icap/body.h>
#include <c_icap/commands.h>
#include <c_icap/debug.h>
#include <c_icap/header.h>
#include <c_icap/request.h>
#include <c_icap/service.h>
#include <c_icap/simple_api.h>
#include <c_icap/stats.h>

#include "pinsplice.h"

#define DB_PATH_MAX 4096
#define RELOAD_MAX_S 3600

/* ---- configuration (pinsplice.* directives; reset in init, read after parsing) ------------- */

static struct {
    char db[DB_PATH_MAX + 1];
    unsigned reload_ms;
    char program_header[PS_ICAPREQ_HEADER_NAME_MAX + 1];
    char decision_header[PS_ICAPREQ_HEADER_NAME_MAX + 1];
    char user_header[PS_ICAPREQ_HEADER_NAME_MAX + 1];
    int user_base64;
    int fail_open;
    char metrics[DB_PATH_MAX + 1]; /* "" : off */
    unsigned metrics_ms;
} cfg;

static void
cfg_defaults(void)
{
    snprintf(cfg.db, sizeof(cfg.db), "%s", ps_default_db_path());
    cfg.reload_ms = 1000;
    snprintf(cfg.program_header, sizeof(cfg.program_header), "X-Client-Process");
    snprintf(cfg.decision_header, sizeof(cfg.decision_header), "X-Pinsplice-Action");
    snprintf(cfg.user_header, sizeof(cfg.user_header), "X-Client-Username");
    cfg.user_base64 = 0;
    cfg.fail_open = 0;
    cfg.metrics[0] = '\0';
    cfg.metrics_ms = 5000;
}

/* c-icap setters return non-zero on success; zero makes c-icap refuse the configuration. */
static int
set_header(const char *directive, const char **argv, void *setdata)
{
    struct ps_err err = {0};

    if (argv == NULL || argv[0] == NULL || argv[1] != NULL) {
        ci_debug_printf(1, "pinsplice: %s takes one header name\n", directive);
        return 0;
    }
    if (ps_icapreq_header_name_check(argv[0], &err) < 0) {
        ci_debug_printf(1, "pinsplice: %s: %s\n", directive, err.msg);
        return 0;
    }
    snprintf(setdata, PS_ICAPREQ_HEADER_NAME_MAX + 1, "%s", argv[0]);
    return 1;
}

static int
set_db(const char *directive, const char **argv, void *setdata)
{
    if (argv == NULL || argv[0] == NULL || argv[1] != NULL || argv[0][0] != '/') {
        ci_debug_printf(1, "pinsplice: %s takes one absolute path\n", directive);
        return 0;
    }
    if (strlen(argv[0]) > DB_PATH_MAX) {
        ci_debug_printf(1, "pinsplice: %s: path over %d bytes\n", directive, DB_PATH_MAX);
        return 0;
    }
    snprintf(setdata, DB_PATH_MAX + 1, "%s", argv[0]);
    return 1;
}

static int
set_seconds(const char *directive, const char **argv, void *setdata)
{
    struct ps_err err = {0};

    if (argv == NULL || argv[0] == NULL || argv[1] != NULL ||
        ps_icapreq_seconds(argv[0], RELOAD_MAX_S, setdata, &err) < 0) {
        ci_debug_printf(1, "pinsplice: %s takes seconds, 0..%d: %s\n", directive, RELOAD_MAX_S,
                        err.msg);
        return 0;
    }
    return 1;
}

/* MetricsFile: a path with %p (each child writes its own file, lib/core/metrics.h). */
static int
set_metrics(const char *directive, const char **argv, void *setdata)
{
    struct ps_err err = {0};

    if (argv == NULL || argv[0] == NULL || argv[1] != NULL) {
        ci_debug_printf(1, "pinsplice: %s takes one path\n", directive);
        return 0;
    }
    if (strlen(argv[0]) > DB_PATH_MAX || ps_metrics_path_check(argv[0], &err) < 0) {
        ci_debug_printf(1, "pinsplice: %s: %s\n", directive,
                        err.msg[0] != '\0' ? err.msg : "path too long");
        return 0;
    }
    snprintf(setdata, DB_PATH_MAX + 1, "%s", argv[0]);
    return 1;
}

static int
set_metrics_interval(const char *directive, const char **argv, void *setdata)
{
    if (!set_seconds(directive, argv, setdata))
        return 0;
    if (*(unsigned *)setdata < 1000) {
        ci_debug_printf(1, "pinsplice: %s takes seconds, 1..%d\n", directive, RELOAD_MAX_S);
        return 0;
    }
    return 1;
}

static struct ci_conf_entry conf_table[] = {
    {"Database", cfg.db, set_db, "the rules DB (absolute path)"},
    {"ReloadInterval", &cfg.reload_ms, set_seconds, "seconds between checks of the DB; 0: never"},
    {"ProgramHeader", cfg.program_header, set_header, "request header naming the program"},
    {"DecisionHeader", cfg.decision_header, set_header, "request header carrying the decision"},
    {"UserHeader", cfg.user_header, set_header, "ICAP header carrying the proxy user"},
    {"UserHeaderBase64", &cfg.user_base64, ci_cfg_onoff, "on: UserHeader is base64"},
    {"FailOpen", &cfg.fail_open, ci_cfg_onoff, "on: splice while no rules are loaded"},
    {"MetricsFile", cfg.metrics, set_metrics, "Prometheus metrics file per child (%p: PID)"},
    {"MetricsInterval", &cfg.metrics_ms, set_metrics_interval, "seconds between writes"},
    {NULL, NULL, NULL, NULL},
};

/* ---- statistics (c-icap's info service; per child, summed by c-icap) ----------------------- */

/* Two increments per request (requests + the answer): each takes c-icap's statistics mutex.
 * CONNECTs = splice + bump + terminate. */
enum {
    ST_REQUESTS,
    ST_SPLICE,
    ST_BUMP,
    ST_TERMINATE,
    ST_OTHER,
    ST_MALFORMED,
    ST_SPOOF,
    ST_RELOADS,
    ST_LOAD_FAILURES,
    ST_COUNT
};
static const char *const stat_labels[ST_COUNT] = {
    "requests",
    "splice",
    "bump",
    "terminate",
    "not CONNECT (204)",
    "malformed CONNECT (bump)",
    "client decision headers removed",
    "reloads",
    "load failures",
};
static int stat_id[ST_COUNT];

static void
stat_add(int which, unsigned long n)
{
    if (stat_id[which] >= 0 && n > 0)
        ci_stat_uint64_inc(stat_id[which], (int)n);
}

/* ---- per-child rule holder ---------------------------------------------------------------- */

static struct ps_reload *child_reload; /* set in CHILD_START, read by worker threads */
static struct ps_metrics *child_metrics; /* MetricsFile: set in CHILD_START (NULL: off) */
static unsigned long seen_loads, seen_failures;
static time_t last_sync;

static struct ps_reload *
reload_get(void)
{
    return __atomic_load_n(&child_reload, __ATOMIC_ACQUIRE);
}

static struct ps_metrics *
metrics_get(void)
{
    return __atomic_load_n(&child_metrics, __ATOMIC_ACQUIRE);
}

/* This child's metrics file (lib/core/metrics.h: its own thread writes it; a failure is logged once
 * and never changes an answer). */
static void
metrics_start(struct ps_reload *r)
{
    struct ps_err err = {0};
    struct ps_metrics *m;

    if (cfg.metrics[0] == '\0')
        return;
    m = ps_metrics_new(cfg.metrics, "srv_pinsplice", &err);
    if (m == NULL) {
        ci_debug_printf(1, "pinsplice: MetricsFile: %s: no metrics\n", err.msg);
        return;
    }
    ps_metrics_set_reload(m, r);
    if (ps_metrics_start(m, cfg.metrics_ms / 1000) < 0)
        ci_debug_printf(1, "pinsplice: cannot start the metrics thread: %s is not written\n",
                        ps_metrics_path(m));
    __atomic_store_n(&child_metrics, m, __ATOMIC_RELEASE);
}

static void
metrics_stop(void)
{
    ps_metrics_free(__atomic_exchange_n(&child_metrics, NULL, __ATOMIC_ACQ_REL));
}

/* Move the lib's load counters into c-icap's statistics (deltas since the last call). */
static void
sync_reload_stats(void)
{
    struct ps_reload *r = reload_get();
    struct ps_reload_stats rs;
    unsigned long prev;

    if (r == NULL)
        return;
    ps_reload_stats(r, &rs);
    prev = __atomic_exchange_n(&seen_loads, rs.loads, __ATOMIC_ACQ_REL);
    if (rs.loads > prev)
        stat_add(ST_RELOADS, rs.loads - prev);
    prev = __atomic_exchange_n(&seen_failures, rs.failures, __ATOMIC_ACQ_REL);
    if (rs.failures > prev)
        stat_add(ST_LOAD_FAILURES, rs.failures - prev);
}

static void
log_sink(int level, const char *msg, void *ud)
{
    ci_debug_printf(level, "pinsplice: %s\n", msg);
}

static void
child_start(const char *name, int type, void *data)
{
    struct ps_err err = {0};
    struct ps_reload *r;
    int rc;

    r = ps_reload_new(cfg.db, cfg.reload_ms > 0 ? cfg.reload_ms : 1000);
    if (r == NULL) {
        ci_debug_printf(1, "pinsplice: out of memory: every CONNECT is answered bump\n");
        return;
    }
    rc = ps_reload_poll(r, true, &err);
    if (rc < 0) {
        ci_debug_printf(1, "pinsplice: %s: %s: %s\n", cfg.db, err.msg,
                        cfg.fail_open ? "no rules, FailOpen on: every CONNECT is answered splice"
                                      : "no rules: every CONNECT is answered bump");
    }
    if (cfg.reload_ms > 0 && ps_reload_start(r) < 0) {
        ci_debug_printf(1, "pinsplice: cannot start the reload thread: rules stay as loaded\n");
    }
    __atomic_store_n(&child_reload, r, __ATOMIC_RELEASE);
    sync_reload_stats();
    metrics_start(r);
}

static void
child_stop(const char *name, int type, void *data)
{
    struct ps_reload *r;

    metrics_stop(); /* first: it reads the reload's statistics */
    r = __atomic_exchange_n(&child_reload, NULL, __ATOMIC_ACQ_REL);
    ps_reload_free(r);
}

/* `echo -n pinsplice:reload > CommandsSocket`: runs in the master, then in every child. */
static void
ctl_reload(const char *name, int type, const char **argv)
{
    struct ps_err err = {0};
    struct ps_reload *r = reload_get();
    int rc;

    if (r == NULL)
        return; /* the master holds no rules */
    rc = ps_reload_poll(r, true, &err);
    if (rc < 0) {
        ci_debug_printf(1, "pinsplice: reload of %s failed, previous rules kept: %s\n", cfg.db,
                        err.msg);
    } else {
        ci_debug_printf(3, "pinsplice: reload of %s: %s\n", cfg.db,
                        rc > 0 ? "new rules in force" : "unchanged");
    }
    sync_reload_stats();
}

/* ---- per-request data (only a request carrying a body needs one: its body is echoed) ------- */

struct req_data {
    ci_ring_buf_t *body;
    bool eof;
};

/* What a request without a body gets: nothing to allocate on the hot path. */
static struct req_data no_body;

static void *
init_request_data(ci_request_t *req)
{
    struct req_data *rd;

    if (!ci_req_hasbody(req))
        return &no_body;
    rd = calloc(1, sizeof(*rd));
    if (rd == NULL)
        return NULL;
    rd->body = ci_ring_buf_new(4096);
    if (rd->body == NULL) {
        free(rd);
        return NULL;
    }
    return rd;
}

static void
release_request_data(void *data)
{
    struct req_data *rd = data;

    if (rd == NULL || rd == &no_body)
        return;
    ci_ring_buf_destroy(rd->body);
    free(rd);
}

/* ---- carrying out the plan ---------------------------------------------------------------- */

static void
plan_config(struct ps_icap_config *pc)
{
    pc->program_header = cfg.program_header;
    pc->decision_header = cfg.decision_header;
    pc->user_header = cfg.user_header;
    pc->user_base64 = cfg.user_base64 != 0;
    pc->fail_open = cfg.fail_open != 0;
}

static const char *const *
lines(ci_headers_list_t *h)
{
    return h != NULL ? (const char *const *)h->headers : NULL;
}

/*
 * Remove the lines f->strip names from the HTTP request, exactly (c-icap's own remove matches by
 * prefix), every one however many there are. Rebuilds the list, which only a client copy of the
 * decision header asks for (the snippet's http_access rule makes it rare). Returns false when
 * the list could not be rebuilt.
 */
static bool
strip_lines(ci_request_t *req, ci_headers_list_t *h, const struct ps_icap_facts *f)
{
    char *copy, *p;
    int i, used = h->used;
    size_t total = 0;
    bool ok = false;

    for (i = 0; i < used; i++)
        total += strlen(h->headers[i]) + 1;
    copy = malloc(total);
    if (copy == NULL)
        return false;
    for (p = copy, i = 0; i < used; i++) {
        size_t l = strlen(h->headers[i]) + 1;
        memcpy(p, h->headers[i], l);
        p += l;
    }
    if (!ci_http_request_reset_headers(req))
        goto done;
    for (p = copy, i = 0; i < used; i++) {
        if (!ps_icap_strips(f, i, p) && ci_http_request_add_header(req, p) == NULL)
            goto done;
        p += strlen(p) + 1;
    }
    ok = true;
done:
    free(copy);
    return ok;
}

/* The ICAP headers, log attributes and counters of a decided CONNECT, 200 or 204. */
static void
announce(ci_request_t *req, const struct ps_icap_plan *p)
{
    size_t i;

    for (i = 0; i < p->n_xheaders; i++)
        ci_icap_add_xheader(req, p->xheaders[i]);
    for (i = 0; i < p->n_attrs; i++)
        ci_request_set_str_attribute(req, p->attrs[i].name, p->attrs[i].value);
    switch (p->action) {
    case PS_ACTION_SPLICE:
        stat_add(ST_SPLICE, 1);
        break;
    case PS_ACTION_TERMINATE:
        stat_add(ST_TERMINATE, 1);
        break;
    default:
        stat_add(ST_BUMP, 1);
    }
}

/*
 * The whole decision happens here: Squid sends a CONNECT with "Preview: 0" and no body. The facts
 * are read once, the client's decision headers stripped, the plan made once and carried out: 204
 * (CI_MOD_ALLOW204: unmodified; the missing header means bump) or 200 with the modified request
 * (CI_MOD_CONTINUE; c-icap sends it). Outside a preview with no "Allow: 204", c-icap turns
 * CI_MOD_ALLOW204 into a 200 with the request unchanged: bump too.
 */
static int
check_preview(char *preview_data, int preview_data_len, ci_request_t *req)
{
    struct ps_icap_config pc;
    struct ps_icap_facts f;
    struct ps_icap_plan plan;
    struct ps_decision d;
    struct ps_reload *r;
    struct ps_snapshot *snap;
    ci_headers_list_t *http;
    time_t now;
    uint64_t started_ns = metrics_get() != NULL ? ps_metrics_now_ns() : 0;

    stat_add(ST_REQUESTS, 1);
    now = time(NULL);
    if (__atomic_load_n(&last_sync, __ATOMIC_RELAXED) != now &&
        __atomic_exchange_n(&last_sync, now, __ATOMIC_ACQ_REL) != now)
        sync_reload_stats();

    plan_config(&pc);
    http = ci_http_request_headers(req);
    ps_icap_facts_fill(&f, &pc, http != NULL ? ci_http_request(req) : NULL, lines(http),
                       http != NULL ? http->used : 0, lines(req->request_header),
                       req->request_header != NULL ? req->request_header->used : 0);
    if (f.kind == PS_ICAP_OTHER) {
        stat_add(ST_OTHER, 1);
        ps_metrics_answered(metrics_get(), started_ns);
        return CI_MOD_ALLOW204;
    }
    if (f.strip != NULL) {
        bool ok = strip_lines(req, http, &f);
        ps_icap_stripped(&f, &pc, ok, lines(http), http->used);
        stat_add(ST_SPOOF, ok ? (unsigned long)f.client_copies : 1);
        ci_debug_printf(3, "pinsplice: %s sent by the client %s\n", f.strip,
                        ok ? "removed" : "could not be removed: bump");
    }
    if (ci_req_hasbody(req)) {
        ci_req_unlock_data(req);
    }
    stat_add(ST_MALFORMED, f.kind == PS_ICAP_MALFORMED ? 1 : 0);
    r = f.kind == PS_ICAP_CONNECT && f.client_copies >= 0 ? reload_get() : NULL;
    snap = r != NULL ? ps_reload_acquire(r) : NULL;
    ps_icap_plan(&f, &pc, snap, &d, &plan);
    ps_metrics_answer(metrics_get(), &d, started_ns); /* before the rule names are released */
    ps_snapshot_release(snap);
    announce(req, &plan);
    if (plan.status == 204)
        return CI_MOD_ALLOW204;
    /* No header: the snippet bumps, which is what a failure must give. */
    if (plan.http_header[0] != '\0' && ci_http_request_add_header(req, plan.http_header) == NULL)
        ci_debug_printf(1, "pinsplice: cannot add %s to the request: bump\n", pc.decision_header);
    return CI_MOD_CONTINUE;
}

static int
end_of_data(ci_request_t *req)
{
    struct req_data *rd = ci_service_data(req);

    if (rd != NULL && rd != &no_body)
        rd->eof = true;
    return CI_MOD_DONE;
}

/* Echo a body unchanged (a CONNECT has none; this keeps a malformed one from stalling). */
static int
service_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    struct req_data *rd = ci_service_data(req);

    if (rd == NULL || rd->body == NULL) {
        if (rlen != NULL)
            *rlen = 0;
        if (wlen != NULL)
            *wlen = CI_EOF;
        return CI_OK;
    }
    if (iseof)
        rd->eof = true;
    if (rbuf != NULL && rlen != NULL) {
        *rlen = ci_ring_buf_write(rd->body, rbuf, *rlen);
        if (*rlen < 0)
            return CI_ERROR;
    }
    if (wbuf != NULL && wlen != NULL) {
        *wlen = ci_ring_buf_read(rd->body, wbuf, *wlen);
        if (*wlen == 0 && rd->eof)
            *wlen = CI_EOF;
    }
    return CI_OK;
}

/* ---- service life cycle ------------------------------------------------------------------- */

/* Pre-daemon, as root, before the pinsplice.* directives are parsed. */
static int
init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    int i;

    cfg_defaults();
    ci_service_set_preview(srv_xdata, 0);
    ci_service_enable_204(srv_xdata);
    ci_service_set_xopts(srv_xdata, CI_XCLIENTIP | CI_XAUTHENTICATEDUSER);
    ci_service_set_istag(srv_xdata, "pinsplice-" PACKAGE_VERSION);
    for (i = 0; i < ST_COUNT; i++)
        stat_id[i] =
            ci_stat_entry_register((char *)stat_labels[i], STAT_INT64_T, "Service pinsplice");
    ci_command_register_action("pinsplice:child_start", CI_CMD_CHILD_START, NULL, child_start);
    ci_command_register_action("pinsplice:child_stop", CI_CMD_CHILD_STOP, NULL, child_stop);
    ci_command_register_ctl_cmd("pinsplice:reload", CI_CMD_MONITOR_PROC | CI_CMD_CHILDS_PROC,
                                ctl_reload);
    return CI_OK;
}

/* In the master, after the configuration is read, before the children are forked. The DB is not
 * opened here: no SQLite handle may cross fork(). */
static int
post_init_service(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    ps_log_set(log_sink, NULL, PS_LOG_DEBUG);
    if (strcasecmp(cfg.program_header, cfg.decision_header) == 0) {
        ci_debug_printf(1, "pinsplice: ProgramHeader and DecisionHeader are both %s\n",
                        cfg.decision_header);
        return CI_ERROR;
    }
    ci_debug_printf(3,
                    "pinsplice: Database %s, ReloadInterval %us, DecisionHeader %s, "
                    "ProgramHeader %s, UserHeader %s%s, FailOpen %s\n",
                    cfg.db, cfg.reload_ms / 1000, cfg.decision_header, cfg.program_header,
                    cfg.user_header, cfg.user_base64 ? " (base64)" : "",
                    cfg.fail_open ? "on" : "off");
    return CI_OK;
}

static void
close_service(void)
{
    struct ps_reload *r;

    metrics_stop();
    r = __atomic_exchange_n(&child_reload, NULL, __ATOMIC_ACQ_REL);

    ps_reload_free(r);
}

CI_DECLARE_MOD_DATA ci_service_module_t service = {
    "pinsplice",                                    /* mod_name */
    "pinsplice: splice/bump decisions for CONNECT", /* mod_short_descr */
    ICAP_REQMOD,                                    /* mod_type */
    init_service,                                   /* mod_init_service */
    post_init_service,                              /* mod_post_init_service */
    close_service,                                  /* mod_close_service */
    init_request_data,                              /* mod_init_request_data */
    release_request_data,                           /* mod_release_request_data */
    check_preview,                                  /* mod_check_preview_handler */
    end_of_data,                                    /* mod_end_of_data_handler */
    service_io,                                     /* mod_service_io */
    conf_table,                                     /* mod_conf_table */
    NULL,                                           /* mod_data */
};
