/* feed_format.c: the feed documents walked, m365 (Microsoft's endpoints list) and our json. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "addr.h"
#include "err.h"
#include "feed.h"
#include "feed_int.h"
#include "keytab.h"
#include "lint.h"
#include "name.h"
#include "text.h"

/* ---- m365 ---------------------------------------------------------------------------------- */

/* Whether a tcpPorts/udpPorts value is a list of ports ("80,443", "443", "1024-65535"). */
static bool
ports_ok(const char *s)
{
    return s[0] != '\0' && strspn(s, "0123456789,- ") == strlen(s);
}

static int
m365_entry(struct ps_feed_ctx *c, json_t *e, size_t idx)
{
    const char *area, *display, *cat, *tcp, *udp, *notes;
    json_t *id = json_object_get(e, "id"), *urls, *ips, *req;
    char name[320], text[160];
    struct ps_feed_app *a;
    json_int_t idv;
    int rc;

    snprintf(c->where, sizeof(c->where), "entry %zu", idx);
    if (!json_is_object(e))
        return ps_feed_fail(c, "must be an object");
    if (!json_is_integer(id))
        return ps_feed_fail(c, "\"id\" must be a whole number");
    idv = json_integer_value(id);
    snprintf(c->where, sizeof(c->where), "entry %zu (id %lld)", idx, (long long)idv);
    if ((rc = ps_feed_get_str(c, e, "serviceArea", true, &area)) < 0 ||
        (rc = ps_feed_get_str(c, e, "serviceAreaDisplayName", false, &display)) < 0 ||
        (rc = ps_feed_get_str(c, e, "category", true, &cat)) < 0 ||
        (rc = ps_feed_get_str(c, e, "tcpPorts", false, &tcp)) < 0 ||
        (rc = ps_feed_get_str(c, e, "udpPorts", false, &udp)) < 0 ||
        (rc = ps_feed_get_str(c, e, "notes", false, &notes)) < 0 ||
        (rc = ps_feed_get_str_array(c, e, "urls", &urls)) < 0 ||
        (rc = ps_feed_get_str_array(c, e, "ips", &ips)) < 0)
        return rc;
    req = json_object_get(e, "required");
    if (!json_is_boolean(req))
        return ps_feed_fail(c, "\"required\" must be true or false");
    if (strcmp(cat, "Optimize") != 0 && strcmp(cat, "Allow") != 0 && strcmp(cat, "Default") != 0)
        return ps_feed_fail(
            c, "\"category\" \"%s\": Microsoft's categories are Optimize, Allow, Default", cat);
    if ((tcp != NULL && !ports_ok(tcp)) || (udp != NULL && !ports_ok(udp)))
        return ps_feed_fail(c, "\"tcpPorts\"/\"udpPorts\" \"%s\": a list of ports like \"80,443\"",
                            tcp != NULL && !ports_ok(tcp) ? tcp : udp);
    if (strcmp(cat, "Default") == 0) {
        c->f->n_default++;
        return 0;
    }
    if (tcp == NULL) {
        c->f->n_udp_only++;
        char ports[80];
        snprintf(ports, sizeof(ports), "udpPorts %.60s", udp != NULL ? udp : "none");
        return ps_feed_skip(c, ports, "no tcpPorts (UDP only: Squid never sees it); not imported");
    }
    if (json_array_size(urls) == 0 && json_array_size(ips) == 0)
        return 0;
    snprintf(name, sizeof(name), "%s: %s (%s)", c->f->name, display != NULL ? display : area, cat);
    if ((a = ps_feed_app_find(c, name)) == NULL) {
        if ((rc = ps_feed_app_new(c, name, &a)) < 0)
            return rc;
        snprintf(text, sizeof(text),
                 "Microsoft 365 endpoints, service area %.40s, category %s (%s)", area, cat,
                 strcmp(cat, "Optimize") == 0 ? "Microsoft: route directly, do not inspect TLS"
                                              : "Microsoft: do not inspect TLS");
        if ((rc = ps_feed_app_note(c, &a->note, text)) < 0)
            return rc;
    }
    snprintf(text, sizeof(text), "id %lld%s tcp %.40s", (long long)idv,
             json_is_true(req) ? " required" : " optional", tcp);
    if ((rc = ps_feed_app_note(c, &a->note, text)) < 0)
        return rc;
    if ((rc = ps_feed_app_names(c, a, urls, "urls")) < 0 ||
        (rc = ps_feed_app_dests(c, a, ips, "ips")) < 0)
        return rc;
    return 0;
}

int
ps_feed_parse_m365(struct ps_feed_ctx *c, json_t *root)
{
    json_t *e;
    size_t i;
    int rc;

    if (!json_is_array(root))
        return ps_err_set(c->err, PS_EINVAL,
                          "%s: not an m365 endpoint list: the top level must be an array of "
                          "endpoint sets (is this --format json?)",
                          c->label);
    json_array_foreach(root, i, e)
    {
        c->f->n_entries++;
        if ((rc = m365_entry(c, e, i + 1)) < 0)
            return rc;
    }
    return 0;
}

/* ---- our generic format -------------------------------------------------------------------- */

static int
json_programs(struct ps_feed_ctx *c, struct ps_feed_app *a, json_t *app)
{
    json_t *v = json_object_get(app, "programs"), *it;
    char field[48];
    size_t i;
    int rc;

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return ps_feed_fail(c, "\"programs\" must be an array");
    json_array_foreach(v, i, it)
    {
        const char *os = NULL, *prog = NULL;
        snprintf(field, sizeof(field), "\"programs\"[%zu]", i);
        if (json_is_string(it))
            prog = json_string_value(it);
        else if (json_is_object(it)) {
            if ((rc = ps_feed_get_str(c, it, "os", false, &os)) < 0 ||
                (rc = ps_feed_get_str(c, it, "program", true, &prog)) < 0)
                return rc;
        } else
            return ps_feed_fail(c, "%s must be a string or {\"os\": ..., \"program\": ...}", field);
        if ((rc = ps_feed_app_program(c, a, os, prog, field)) < 0)
            return rc;
    }
    return 0;
}

static int
json_app(struct ps_feed_ctx *c, json_t *app, size_t idx)
{
    const char *name, *note, *reason;
    json_t *domains, *dests;
    struct ps_feed_app *a;
    int rc;

    snprintf(c->where, sizeof(c->where), "apps[%zu]", idx);
    if (!json_is_object(app))
        return ps_feed_fail(c, "must be an object");
    if ((rc = ps_feed_get_str(c, app, "name", true, &name)) < 0)
        return rc;
    snprintf(c->where, sizeof(c->where), "apps[%zu] \"%.60s\"", idx, name);
    if ((rc = ps_feed_get_str(c, app, "note", false, &note)) < 0 ||
        (rc = ps_feed_get_str(c, app, "reason", false, &reason)) < 0 ||
        (rc = ps_feed_get_str_array(c, app, "domains", &domains)) < 0 ||
        (rc = ps_feed_get_str_array(c, app, "destinations", &dests)) < 0)
        return rc;
    if (ps_feed_app_find(c, name) != NULL)
        return ps_feed_fail(c, "app \"%s\" is listed twice", name);
    if ((rc = ps_feed_app_new(c, name, &a)) < 0)
        return rc;
    if ((note != NULL && (a->note = ps_feed_dup(note)) == NULL) ||
        (reason != NULL && reason[0] != '\0' && (a->reason = ps_feed_dup(reason)) == NULL))
        return ps_feed_oom(c);
    if ((rc = ps_feed_app_names(c, a, domains, "domains")) < 0 ||
        (rc = ps_feed_app_dests(c, a, dests, "destinations")) < 0 ||
        (rc = json_programs(c, a, app)) < 0)
        return rc;
    return 0;
}

int
ps_feed_parse_json(struct ps_feed_ctx *c, json_t *root, const struct ps_feed_opts *o)
{
    const char *name, *source, *version;
    json_t *ver, *apps, *app;
    size_t i;
    int rc;

    snprintf(c->where, sizeof(c->where), "top level");
    if (!json_is_object(root))
        return ps_err_set(c->err, PS_EINVAL,
                          "%s: not a pinsplice feed: the top level must be an object with "
                          "\"pinsplice_feed\": 1 (is this --format m365?)",
                          c->label);
    ver = json_object_get(root, "pinsplice_feed");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        return ps_feed_fail(c, "\"pinsplice_feed\" must be 1 (the version of this format)");
    if ((rc = ps_feed_get_str(c, root, "name", o->name == NULL, &name)) < 0 ||
        (rc = ps_feed_get_str(c, root, "source", false, &source)) < 0 ||
        (rc = ps_feed_get_str(c, root, "version", false, &version)) < 0)
        return rc;
    if ((o->name == NULL && (c->f->name = ps_feed_dup(name)) == NULL) ||
        (o->source == NULL && source != NULL && (c->f->source = ps_feed_dup(source)) == NULL) ||
        (o->version == NULL && version != NULL && (c->f->version = ps_feed_dup(version)) == NULL))
        return ps_feed_oom(c);
    apps = json_object_get(root, "apps");
    if (!json_is_array(apps))
        return ps_feed_fail(c, "\"apps\" must be an array");
    json_array_foreach(apps, i, app)
    {
        c->f->n_entries++;
        if ((rc = json_app(c, app, i)) < 0)
            return rc;
    }
    return 0;
}
