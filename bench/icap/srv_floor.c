/*
 * srv_floor: a bench-only c-icap REQMOD service that gives the answers srv_pinsplice gives, the
 * cheapest way, without deciding anything: the load driver (icap_load) says in an ICAP header
 * what the rules will decide ("X-Bench-Expect: splice|bump"); a splice is answered 200 with one
 * header added to the encapsulated request, anything else 204 (the snippet bumps a CONNECT
 * without the header). bench/icap/run.sh measures it next to echo (204 for everything) and
 * srv_pinsplice, to separate c-icap's own cost of the 200s from pinsplice's decision cost.
 */
#include <string.h>

#include <c_icap/c-icap.h>
#include <c_icap/header.h>
#include <c_icap/request.h>
#include <c_icap/service.h>
#include <c_icap/simple_api.h>

static int
floor_init(ci_service_xdata_t *srv_xdata, struct ci_server_conf *server_conf)
{
    ci_service_set_preview(srv_xdata, 0);
    ci_service_enable_204(srv_xdata);
    return CI_OK;
}

static int
floor_preview(char *data, int len, ci_request_t *req)
{
    const char *expect = ci_headers_value(req->request_header, "X-Bench-Expect");

    if (ci_http_request_headers(req) == NULL || expect == NULL || strcmp(expect, "splice") != 0)
        return CI_MOD_ALLOW204;
    ci_http_request_add_header(req, "X-Pinsplice-Action: splice");
    return CI_MOD_CONTINUE;
}

static int
floor_end(ci_request_t *req)
{
    return CI_MOD_DONE;
}

static int
floor_io(char *wbuf, int *wlen, char *rbuf, int *rlen, int iseof, ci_request_t *req)
{
    if (rlen != NULL)
        *rlen = 0;
    if (wlen != NULL)
        *wlen = CI_EOF;
    return CI_OK;
}

CI_DECLARE_MOD_DATA ci_service_module_t service = {
    "floor",       "bench: pinsplice's answers, nothing decided",
    ICAP_REQMOD,   floor_init,
    NULL,          NULL,
    NULL,          NULL,
    floor_preview, floor_end,
    floor_io,      NULL,
    NULL,
};
