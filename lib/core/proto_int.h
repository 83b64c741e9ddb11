/* proto_int.h: what the request parser (proto.c) and the replies (proto_reply.c) share.
 * Internal to lib/core. */
#ifndef PS_LIB_PROTO_INT_H
#define PS_LIB_PROTO_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

/* A control character: below 0x20, or DEL. */
static inline bool
ps_proto_is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* A channel-ID as Squid writes one: 1..PS_PROTO_ID_MAX decimal digits. */
static inline bool
ps_proto_is_id(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > PS_PROTO_ID_MAX)
        return false;
    for (i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

#endif /* PS_LIB_PROTO_INT_H */
