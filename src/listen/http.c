#include "listen/listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/err.h"
#include "core/protocol.h"

static atomic_bool draining;

void http_set_draining(bool on)
{
    atomic_store(&draining, on);
}

bool http_draining(void)
{
    return atomic_load(&draining);
}

static struct MHD_Response *make_response(const struct http_header *headers, char *body,
                                          enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, mode);
    if (resp == NULL)
        return NULL;
    for (const struct http_header *h = headers; h != NULL && h->name != NULL; h++)
        if (h->value != NULL && http_header_safe(h->value))
            MHD_add_response_header(resp, h->name, h->value);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return resp;
}

struct MHD_Response *http_response_new(const struct http_header *headers)
{
    return make_response(headers, (char *)"", MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
                               const struct http_header *headers, char *body,
                               enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp = make_response(headers, body, mode);
    enum MHD_Result ret;

    if (resp == NULL) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    if (http_draining())
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result http_respond(struct MHD_Connection *conn, unsigned status,
                             const struct http_header *headers, const char *body)
{
    return respond(conn, status, headers, (char *)(body != NULL ? body : ""),
                   MHD_RESPMEM_PERSISTENT);
}

enum MHD_Result http_respond_owned(struct MHD_Connection *conn, unsigned status,
                                   const struct http_header *headers, char *body)
{
    return respond(conn, status, headers, body, MHD_RESPMEM_MUST_FREE);
}

bool http_header_copy(struct MHD_Connection *conn, const char *name, char *out, size_t max,
                      size_t *len_r)
{
    const char *v = NULL;
    size_t len = 0;

    out[0] = '\0';
    *len_r = 0;
    if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, name, strlen(name), &v, &len) !=
            MHD_YES ||
        v == NULL)
        return false;
    if (len > max || memchr(v, '\0', len) != NULL)
        return false;
    memcpy(out, v, len);
    out[len] = '\0';
    *len_r = len;
    return true;
}

bool http_sockaddr_text(const struct sockaddr *sa, char *out, size_t size)
{
    out[0] = '\0';
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                         (socklen_t)size) != NULL;
    if (sa->sa_family != AF_INET6)
        return false;
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6))
        return inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t)size) != NULL;
    return inet_ntop(AF_INET6, a6, out, (socklen_t)size) != NULL;
}

bool http_peer_address(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return http_sockaddr_text(ci != NULL ? ci->client_addr : NULL, out, size);
}

bool http_header_safe(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

bool http_listen_address(const char *addr, struct sockaddr_storage *ss, uint16_t *port_r,
                         unsigned *flags)
{
    char host[KUNCI_ADDR_MAX];
    unsigned port;

    memset(ss, 0, sizeof(*ss));
    if (kunci_addr_parse(addr, host, sizeof(host), &port) != KUNCI_OK)
        return false;
    *port_r = (uint16_t)port;
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *flags |= MHD_USE_IPv6;
        return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sin->sin_addr) == 1;
}
