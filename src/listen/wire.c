#include "listen/wire.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/netmask.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool wire_percent_decode(const char *in, size_t len, char *out, size_t max, size_t *out_len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int hi, lo;
        if (c == '%' && i + 2 < len && (hi = hex_value(in[i + 1])) >= 0 &&
            (lo = hex_value(in[i + 2])) >= 0) {
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0' || o == max) {
            sodium_memzero(out, o);
            out[0] = '\0';
            return false;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    *out_len = o;
    return true;
}

bool wire_basic_credentials(const char *value, size_t len, struct wire_credentials *c)
{
    unsigned char decoded[1024];
    size_t decoded_len = 0;
    bool ok = false;

    if (len < 6 || strncasecmp(value, "Basic ", 6) != 0)
        return false;
    size_t i = 6;
    while (i < len && value[i] == ' ')
        i++;
    if (sodium_base642bin(decoded, sizeof(decoded), value + i, len - i, NULL, &decoded_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    const unsigned char *colon = memchr(decoded, ':', decoded_len);
    if (colon != NULL && memchr(decoded, '\0', decoded_len) == NULL) {
        size_t ulen = (size_t)(colon - decoded), plen = decoded_len - ulen - 1;
        if (ulen <= c->login_max && plen <= c->secret_max) {
            memcpy(c->login, decoded, ulen);
            c->login[ulen] = '\0';
            c->login_len = ulen;
            memcpy(c->secret, colon + 1, plen);
            c->secret[plen] = '\0';
            c->secret_len = plen;
            ok = true;
        }
    }
    sodium_memzero(decoded, sizeof(decoded));
    return ok;
}

bool wire_socket_request(char *line, size_t len, struct wire_socket_request *r)
{
    const char *fields[5];
    size_t start = 0;
    int n = 0;

    if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL)
        return false;
    /* Empty fields count (an empty password is a field too). */
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (n == 5)
            return false;
        fields[n++] = line + start;
        if (i < len)
            line[i] = '\0';
        start = i + 1;
    }
    if (n != 5 || strcmp(fields[0], "AUTH") != 0)
        return false;
    line[len] = '\0';
    r->protocol = fields[1];
    r->client_ip = fields[2];
    r->login = fields[3];
    r->secret = fields[4];
    return true;
}

bool wire_cookie(const char *header, size_t len, const char *name, char *out, size_t max)
{
    size_t name_len = strlen(name), i = 0;

    out[0] = '\0';
    while (i < len) {
        while (i < len && (header[i] == ' ' || header[i] == '\t' || header[i] == ';'))
            i++;
        size_t end = i;
        while (end < len && header[end] != ';')
            end++;
        const char *eq = memchr(header + i, '=', end - i);
        if (eq != NULL && (size_t)(eq - (header + i)) == name_len &&
            memcmp(header + i, name, name_len) == 0) {
            const char *v = eq + 1;
            size_t vlen = (size_t)(header + end - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            if (vlen > max || memchr(v, '\0', vlen) != NULL)
                return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        i = end;
    }
    return false;
}

static bool language_is(const char *p, size_t left, const char *code)
{
    return left >= 2 && strncasecmp(p, code, 2) == 0 &&
           (left == 2 || p[2] == '-' || p[2] == ';' || p[2] == ',' || p[2] == ' ');
}

static bool has(const char *h, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(h + i, needle, n) == 0)
            return true;
    return false;
}

void wire_user_agent(const char *header, size_t len, char *out, size_t size)
{
    /* Order matters: Edge says Chrome and Safari too, Chrome says Safari, Android says
     * Linux, iPhone says Mac OS X. */
    static const char *const browsers[][2] = {
        {"Edg/", "Edge"},
        {"OPR/", "Opera"},
        {"Firefox/", "Firefox"},
        {"Chrome/", "Chrome"},
        {"Chromium/", "Chromium"},
        {"Safari/", "Safari"},
        {"Thunderbird/", "Thunderbird"},
        {"curl/", "curl"},
        {"Python", "Python"},
        {"python", "Python"},
    };
    static const char *const systems[][2] = {
        {"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"},   {"Windows", "Windows"},
        {"Mac OS X", "macOS"},  {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
    };
    const char *browser = NULL, *os = NULL;

    if (size == 0)
        return;
    out[0] = '\0';
    if (header == NULL || len == 0)
        return;
    for (size_t i = 0; i < sizeof(browsers) / sizeof(browsers[0]) && browser == NULL; i++)
        if (has(header, len, browsers[i][0]))
            browser = browsers[i][1];
    for (size_t i = 0; i < sizeof(systems) / sizeof(systems[0]) && os == NULL; i++)
        if (has(header, len, systems[i][0]))
            os = systems[i][1];
    if (browser != NULL && os != NULL)
        snprintf(out, size, "%s on %s", browser, os);
    else if (browser != NULL || os != NULL)
        snprintf(out, size, "%s", browser != NULL ? browser : os);
    else
        snprintf(out, size, "another browser");
}

const char *wire_accept_language(const char *header, size_t len)
{
    size_t i = 0;

    while (i < len) {
        while (i < len && (header[i] == ' ' || header[i] == ','))
            i++;
        if (language_is(header + i, len - i, "id"))
            return "id";
        if (language_is(header + i, len - i, "en"))
            return "en";
        const char *comma = memchr(header + i, ',', len - i);
        if (comma == NULL)
            break;
        i = (size_t)(comma - header);
    }
    return "en";
}

bool wire_forwarded_for(const char *header, size_t len, bool (*trusted)(void *arg, const char *ip),
                        void *arg, char *out, size_t size)
{
    char hop[64];
    struct kunci_ip ip;
    size_t end = len;

    while (end > 0) {
        size_t start = end;
        while (start > 0 && header[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (header[a] == ' ' || header[a] == '\t'))
            a++;
        while (b > a && (header[b - 1] == ' ' || header[b - 1] == '\t'))
            b--;
        if (b - a >= sizeof(hop) || memchr(header + a, '\0', b - a) != NULL)
            return false;
        memcpy(hop, header + a, b - a);
        hop[b - a] = '\0';
        if (kunci_ip_parse(hop, &ip) != 0)
            return false; /* a malformed hop: trust nothing before it */
        if (!trusted(arg, hop)) {
            if (strlen(hop) >= size)
                return false;
            memcpy(out, hop, strlen(hop) + 1);
            return true;
        }
        if (start == 0)
            break;
        end = start - 1;
    }
    return false;
}

json_t *wire_json_object(const char *body, size_t len)
{
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}
