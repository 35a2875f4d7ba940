/* The parsers of what arrives on the wire, one libFuzzer target each (FUZZ_WIRE picks the
 * parser; tests/fuzz/meson.build builds one executable per parser). Each checks what the
 * parser promises about its outputs, not only that it does not crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listen/wire.h"
#include "web/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WIRE_NGINX_ESCAPE    1
#define WIRE_BASIC           2
#define WIRE_SOCKET_LINE     3
#define WIRE_COOKIE          4
#define WIRE_ACCEPT_LANGUAGE 5
#define WIRE_FORWARDED_FOR   6
#define WIRE_JSON_BODY       7
#define WIRE_ROUTE           8

static __attribute__((unused)) bool trusted(void *arg, const char *ip)
{
    (void)arg;
    return ip[0] == '1' && ip[1] == '0' && ip[2] == '.';
}

static __attribute__((unused)) enum MHD_Result handler(struct web_request *rq)
{
    (void)rq;
    return MHD_YES;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char out[300];
    size_t len = 0;
    (void)in;

#if FUZZ_WIRE == WIRE_NGINX_ESCAPE
    if (wire_percent_decode(in, size, out, 257, &len) &&
        (len > 257 || len > size || strlen(out) != len))
        abort();
#elif FUZZ_WIRE == WIRE_BASIC
    char login[33], secret[33];
    struct wire_credentials c = {login, 32, 0, secret, 32, 0};
    if (wire_basic_credentials(in, size, &c) &&
        (c.login_len > 32 || c.secret_len > 32 || strlen(login) != c.login_len ||
         strlen(secret) != c.secret_len))
        abort();
    (void)out;
    (void)len;
#elif FUZZ_WIRE == WIRE_SOCKET_LINE
    struct wire_socket_request r;
    char *line = malloc(size + 1);
    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    if (wire_socket_request(line, size, &r) &&
        (strchr(r.protocol, '\t') || strchr(r.client_ip, '\t') || strchr(r.login, '\t') ||
         strchr(r.secret, '\t') || strchr(r.secret, '\r')))
        abort();
    free(line);
    (void)out;
    (void)len;
#elif FUZZ_WIRE == WIRE_COOKIE
    if (wire_cookie(in, size, "kunci_session", out, 48) && strlen(out) > 48)
        abort();
    (void)wire_cookie(in, size, "__Host-kunci_device", out, 48);
    (void)len;
#elif FUZZ_WIRE == WIRE_ACCEPT_LANGUAGE
    const char *lang = wire_accept_language(in, size);
    if (strcmp(lang, "en") != 0 && strcmp(lang, "id") != 0)
        abort();
    (void)out;
    (void)len;
#elif FUZZ_WIRE == WIRE_FORWARDED_FOR
    if (wire_forwarded_for(in, size, trusted, NULL, out, 47) &&
        (strlen(out) >= 47 || trusted(NULL, out)))
        abort();
    (void)len;
#elif FUZZ_WIRE == WIRE_JSON_BODY
    json_t *v = wire_json_object(in, size);
    if (v != NULL && !json_is_object(v))
        abort();
    json_decref(v);
    (void)out;
    (void)len;
#elif FUZZ_WIRE == WIRE_ROUTE
    static const struct web_route table[] = {
        {"GET", "/methods", WEB_FULL, false, false, false, handler},
        {"POST", "/methods/{}/verify", WEB_REGISTERING, false, false, false, handler},
        {"DELETE", "/admin/users/{}/app-passwords", WEB_ADMIN, true, false, false, handler},
        {"POST", "/methods/{}", WEB_REGISTERING, true, false, false, handler},
    };
    char params[WEB_PATH_PARAMS][WEB_PATH_PARAM_MAX + 1];
    char *path = malloc(size + 1);
    if (path == NULL)
        return 0;
    memcpy(path, data, size);
    path[size] = '\0';
    const char *methods[] = {"GET", "POST", "DELETE"};
    for (int m = 0; m < 3; m++) {
        const struct web_route *route = web_route_match(table, 4, methods[m], path, params);
        if (route != NULL && (strcmp(route->method, methods[m]) != 0 ||
                              strlen(params[0]) > WEB_PATH_PARAM_MAX || strchr(params[0], '/')))
            abort();
    }
    free(path);
    (void)out;
    (void)len;
#else
#error "FUZZ_WIRE names no parser"
#endif
    return 0;
}
