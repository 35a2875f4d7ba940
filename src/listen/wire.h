/* The parsers of what arrives on the wire, as pure functions over a pointer and a length:
 * nginx's percent-escaped Auth-* headers, a Basic Authorization header, the local socket's
 * request line, cookies, Accept-Language, X-Forwarded-For and JSON request bodies. No I/O,
 * no libmicrohttpd: each has unit tests (tests/unit/test_wire.c) and a libFuzzer target
 * (tests/fuzz/fuzz_wire.c). Every output is bounded by its caller's buffer; anything that
 * does not fit, or holds a NUL, is refused rather than cut. */
#ifndef KUNCI_LISTEN_WIRE_H
#define KUNCI_LISTEN_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* %XX decoded (as nginx escapes Auth-User and Auth-Pass; a % not followed by two hex digits
 * stays as it is). out holds max + 1 bytes; false when the result is longer than max or
 * holds a NUL. */
bool wire_percent_decode(const char *in, size_t len, char *out, size_t max, size_t *out_len);

/* "Basic base64(login:secret)" (the scheme in any case). login and secret hold max + 1
 * bytes each; false when malformed, too long, or holding a NUL. */
struct wire_credentials {
    char *login;
    size_t login_max, login_len;
    char *secret;
    size_t secret_max, secret_len;
};
bool wire_basic_credentials(const char *value, size_t len, struct wire_credentials *c);

/* The local socket's request: "AUTH<TAB>protocol<TAB>client-ip<TAB>login<TAB>secret", split
 * in place (line is changed; len excludes the newline). The fields point into line. */
struct wire_socket_request {
    const char *protocol, *client_ip, *login, *secret;
};
bool wire_socket_request(char *line, size_t len, struct wire_socket_request *r);

/* The value of cookie `name` in a Cookie header (the first one of that name), copied into
 * out (max + 1 bytes); false when absent or longer than max. */
bool wire_cookie(const char *header, size_t len, const char *name, char *out, size_t max);

/* A User-Agent as people read it in an activity list: "Firefox on Windows", "Safari on
 * iPhone", "curl"; "" when empty. Only names from a fixed list reach out, so a hostile
 * header cannot put its own text there. */
void wire_user_agent(const char *header, size_t len, char *out, size_t size);

/* The first of the user's languages that kunci has: "id" or "en" (also when none). */
const char *wire_accept_language(const char *header, size_t len);

/* The browser's address behind proxies: walking X-Forwarded-For from the right, the first
 * address that `trusted` does not vouch for (what the last trusted proxy saw). false when
 * every hop is trusted, a hop is malformed before one is found, or the header is too
 * long; out holds size bytes. */
bool wire_forwarded_for(const char *header, size_t len, bool (*trusted)(void *arg, const char *ip),
                        void *arg, char *out, size_t size);

/* A JSON request body: an object, keys unique. NULL otherwise. */
json_t *wire_json_object(const char *body, size_t len);

#endif
