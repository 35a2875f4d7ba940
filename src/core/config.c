#include "core/config.h"
#include "core/log.h"
#include "core/err.h"
#include "core/netmask.h"
#include "kunci_version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024

void kunci_config_defaults(struct kunci_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", KUNCI_DEFAULT_DATA_DIR);
    snprintf(cfg->store_backend, sizeof(cfg->store_backend), "sqlite");
    snprintf(cfg->log_format, sizeof(cfg->log_format), "text");
    cfg->busy_timeout_ms = 2000;
    snprintf(cfg->auth_listen, sizeof(cfg->auth_listen), "127.0.0.1:8081");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cores > 0 ? (int)cores : 2;
    cfg->hash_workers = cfg->threads;
    cfg->hash_queue = 256;
    cfg->app_password_cache = 4096;
    cfg->header_timeout = 5;
    cfg->auth_wait = 3;
    cfg->socket_mode = 0660;
    snprintf(cfg->web_listen, sizeof(cfg->web_listen), "127.0.0.1:8080");
    snprintf(cfg->web_root, sizeof(cfg->web_root), "%s",
             access(KUNCI_WEB_ROOT "/index.html", R_OK) == 0 ? KUNCI_WEB_ROOT
                                                             : KUNCI_WEB_ROOT_INSTALLED);
    cfg->session_idle_minutes = 30;
    cfg->session_max_hours = 12;
    snprintf(cfg->issuer, sizeof(cfg->issuer), "kunci");
    struct kunci_channel_config *channels[] = {&cfg->phone, &cfg->email};
    for (int i = 0; i < 2; i++) {
        snprintf(channels[i]->driver, sizeof(channels[i]->driver), "outbox");
        channels[i]->timeout_ms = 10000;
        channels[i]->retries = 2;
        snprintf(channels[i]->from, sizeof(channels[i]->from), "kunci@localhost");
    }
    cfg->argon2_iterations = 2;
    cfg->argon2_memory_kib = 19 * 1024;
    snprintf(cfg->devices.imap_security, sizeof(cfg->devices.imap_security), "ssl");
    snprintf(cfg->devices.smtp_security, sizeof(cfg->devices.smtp_security), "starttls");
    snprintf(cfg->devices.pop3_security, sizeof(cfg->devices.pop3_security), "ssl");
}

/* The origin's host: "https://login.example.org:8443" gives "login.example.org". */
static void origin_host(const char *origin, char *out, size_t size)
{
    const char *p = strstr(origin, "://");
    p = p != NULL ? p + 3 : origin;
    size_t n = strcspn(p, ":/");
    snprintf(out, size, "%.*s", (int)n, p);
}

/* WebAuthn's relying party from what was given, or from web_listen on a loopback address
 * (browsers refuse an IP address as the id, and http only for localhost). */
static void derive_rp(struct kunci_config *cfg)
{
    char host[KUNCI_ADDR_MAX];
    unsigned port = 0;

    if (cfg->origin[0] != '\0' && cfg->rp_id[0] == '\0')
        origin_host(cfg->origin, cfg->rp_id, sizeof(cfg->rp_id));
    else if (cfg->rp_id[0] != '\0' && cfg->origin[0] == '\0')
        snprintf(cfg->origin, sizeof(cfg->origin), "https://%s", cfg->rp_id);
    else if (cfg->rp_id[0] == '\0' &&
             kunci_addr_parse(cfg->web_listen, host, sizeof(host), &port) == KUNCI_OK &&
             (strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0)) {
        snprintf(cfg->rp_id, sizeof(cfg->rp_id), "localhost");
        snprintf(cfg->origin, sizeof(cfg->origin), "http://localhost:%u", port);
    }
}

/* What is wrong with a relying party given in kunci.conf, or NULL. */
static const char *rp_problem(const struct kunci_config *cfg)
{
    char host[sizeof(cfg->origin)];
    struct in6_addr ip;

    if (cfg->rp_id[0] == '\0')
        return NULL;
    if (inet_pton(AF_INET, cfg->rp_id, &ip) == 1 || strchr(cfg->rp_id, ':') != NULL ||
        strchr(cfg->rp_id, '/') != NULL)
        return "[web] rp_id must be a domain name (browsers refuse an IP address)";
    if (strncmp(cfg->origin, "https://", 8) != 0 &&
        strncmp(cfg->origin, "http://localhost", 16) != 0)
        return "[web] origin must start with https:// (or be http://localhost...)";
    origin_host(cfg->origin, host, sizeof(host));
    size_t hl = strlen(host), rl = strlen(cfg->rp_id);
    if (!(hl == rl && strcasecmp(host, cfg->rp_id) == 0) &&
        !(hl > rl && host[hl - rl - 1] == '.' && strcasecmp(host + hl - rl, cfg->rp_id) == 0))
        return "[web] rp_id must be the origin's host or a domain it is under";
    return NULL;
}

void kunci_config_finish(struct kunci_config *cfg)
{
    derive_rp(cfg);
    if (cfg->hash_queue_per_address == 0)
        cfg->hash_queue_per_address = cfg->hash_queue / 16 > 4 ? cfg->hash_queue / 16 : 4;
    if (cfg->store_location[0] == '\0')
        snprintf(cfg->store_location, sizeof(cfg->store_location), "%s/kunci.db", cfg->data_dir);
    if (cfg->key_file[0] == '\0')
        snprintf(cfg->key_file, sizeof(cfg->key_file), "%s/kunci.key", cfg->data_dir);
    if (cfg->phone.outbox_dir[0] == '\0')
        snprintf(cfg->phone.outbox_dir, sizeof(cfg->phone.outbox_dir), "%s/outbox", cfg->data_dir);
    if (cfg->email.outbox_dir[0] == '\0')
        snprintf(cfg->email.outbox_dir, sizeof(cfg->email.outbox_dir), "%s/outbox", cfg->data_dir);
}

int kunci_addr_parse(const char *addr, char *host, size_t host_size, unsigned *port_r)
{
    const char *colon, *h = addr;
    size_t hlen;
    struct kunci_ip ip;
    char *end;

    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':')
            return KUNCI_ERR_INVALID;
        h = addr + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            return KUNCI_ERR_INVALID;
        hlen = (size_t)(colon - addr);
    }
    if (hlen == 0 || hlen >= host_size)
        return KUNCI_ERR_INVALID;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (kunci_ip_parse(host, &ip) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || port == 0 || port > 65535)
        return KUNCI_ERR_INVALID;
    *port_r = (unsigned)port;
    return KUNCI_OK;
}

bool kunci_hostname_valid(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n == 0)
        return true; /* unset */
    if (n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-') {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

bool kunci_https_url_valid(const char *s)
{
    if (strncmp(s, "https://", 8) != 0 || s[8] == '\0' || s[8] == '/')
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("\"'<>\\`", *p) != NULL)
            return false;
    return true;
}

enum value_kind {
    V_STRING,
    V_INT,
    V_ADDR,
    V_BOOL,
    V_MODE,
    V_NETWORKS,
    V_LOG_FORMAT,
    V_USER_VERIFICATION,
    V_HOST,
    V_SECURITY,
    V_HTTPS_URL
};

struct config_key {
    const char *section, *key;
    enum value_kind kind;
    size_t offset, size;
    long min, max;
};

#define STR(sec, k, field)                                                                         \
    {                                                                                              \
        sec, k, V_STRING, offsetof(struct kunci_config, field),                                    \
            sizeof(((struct kunci_config *)0)->field), 0, 0                                        \
    }
#define ADDR(sec, k, field)                                                                        \
    {                                                                                              \
        sec, k, V_ADDR, offsetof(struct kunci_config, field),                                      \
            sizeof(((struct kunci_config *)0)->field), 0, 0                                        \
    }
#define BOOL(sec, k, field)                                                                        \
    {                                                                                              \
        sec, k, V_BOOL, offsetof(struct kunci_config, field), sizeof(int), 0, 1                    \
    }
#define INT(sec, k, field, lo, hi)                                                                 \
    {                                                                                              \
        sec, k, V_INT, offsetof(struct kunci_config, field), sizeof(int), lo, hi                   \
    }

static const struct config_key config_keys[] = {
    STR("store", "data_dir", data_dir),
    STR("store", "backend", store_backend),
    STR("store", "location", store_location),
    INT("store", "busy_timeout_ms", busy_timeout_ms, 1, 600000),
    STR("store", "key_file", key_file),
    ADDR("serve", "auth_listen", auth_listen),
    STR("serve", "auth_key_file", auth_key_file),
    INT("serve", "threads", threads, 1, 256),
    INT("serve", "hash_workers", hash_workers, 1, 256),
    INT("serve", "hash_queue", hash_queue, 1, 100000),
    INT("serve", "app_password_cache", app_password_cache, 0, 1048576),
    INT("serve", "hash_queue_per_address", hash_queue_per_address, 1, 100000),
    INT("serve", "max_connections", max_connections, 16, 100000),
    INT("serve", "max_connections_per_address", max_connections_per_address, 1, 100000),
    INT("serve", "header_timeout", header_timeout, 1, 300),
    BOOL("serve", "log_allowed", log_allowed),
    STR("serve", "socket", socket_path),
    {"serve", "socket_mode", V_MODE, offsetof(struct kunci_config, socket_mode), sizeof(int), 0,
     0777},
    ADDR("mail", "imap", mail_imap),
    ADDR("mail", "pop3", mail_pop3),
    ADDR("mail", "smtp", mail_smtp),
    STR("mail", "backend_password_file", backend_password_file),
    INT("mail", "auth_wait", auth_wait, 1, 60),
    ADDR("serve", "web_listen", web_listen),
    STR("serve", "web_root", web_root),
    STR("web", "organization_name", organization_name),
    STR("web", "logo_file", logo_file),
    STR("web", "rp_id", rp_id),
    STR("web", "origin", origin),
    {"web", "webauthn_user_verification", V_USER_VERIFICATION,
     offsetof(struct kunci_config, webauthn_uv_required), sizeof(int), 0, 1},
    INT("serve", "session_idle_minutes", session_idle_minutes, 1, 24 * 60),
    INT("serve", "session_max_hours", session_max_hours, 1, 24 * 30),
    STR("serve", "issuer", issuer),
    BOOL("serve", "secure_cookies", secure_cookies),
    {"serve", "trusted_proxies", V_NETWORKS, offsetof(struct kunci_config, trusted_proxies),
     sizeof(((struct kunci_config *)0)->trusted_proxies), 0, 0},
#define CHANNEL_KEYS(sec, ch)                                                                      \
    STR(sec, "driver", ch.driver), STR(sec, "outbox_dir", ch.outbox_dir),                          \
        STR(sec, "command", ch.command), STR(sec, "webhook_url", ch.webhook_url),                  \
        INT(sec, "timeout_ms", ch.timeout_ms, 100, 120000), INT(sec, "retries", ch.retries, 0, 10)
    CHANNEL_KEYS("phone", phone),
    CHANNEL_KEYS("email", email),
    STR("email", "smtp_url", email.smtp_url),
    BOOL("email", "smtp_starttls", email.smtp_starttls),
    STR("email", "smtp_user", email.smtp_user),
    STR("email", "smtp_password_file", email.smtp_password_file),
    STR("email", "smtp_ca_file", email.smtp_ca_file),
    STR("email", "from", email.from),
    {"log", "format", V_LOG_FORMAT, offsetof(struct kunci_config, log_format),
     sizeof(((struct kunci_config *)0)->log_format), 0, 0},
    INT("passwords", "argon2_iterations", argon2_iterations, 1, 100),
    INT("passwords", "argon2_memory_kib", argon2_memory_kib, 8, 4 * 1024 * 1024),
#define TYPED(sec, k, kind, field)                                                                 \
    {                                                                                              \
        sec, k, kind, offsetof(struct kunci_config, field),                                        \
            sizeof(((struct kunci_config *)0)->field), 0, 0                                        \
    }
    TYPED("devices", "imap_host", V_HOST, devices.imap_host),
    INT("devices", "imap_port", devices.imap_port, 0, 65535),
    TYPED("devices", "imap_security", V_SECURITY, devices.imap_security),
    TYPED("devices", "smtp_host", V_HOST, devices.smtp_host),
    INT("devices", "smtp_port", devices.smtp_port, 0, 65535),
    TYPED("devices", "smtp_security", V_SECURITY, devices.smtp_security),
    TYPED("devices", "pop3_host", V_HOST, devices.pop3_host),
    INT("devices", "pop3_port", devices.pop3_port, 0, 65535),
    TYPED("devices", "pop3_security", V_SECURITY, devices.pop3_security),
    TYPED("devices", "caldav_url", V_HTTPS_URL, devices.caldav_url),
    TYPED("devices", "carddav_url", V_HTTPS_URL, devices.carddav_url),
    STR("devices", "organization", devices.organization),
    STR("devices", "profile_signing_cert", devices.profile_signing_cert),
    STR("devices", "profile_signing_key", devices.profile_signing_key),
};

/* A key's value in cfg as kunci.conf would write it: text, or a pointer into cfg. */
static const char *format_value(const struct kunci_config *cfg, const struct config_key *k,
                                char text[32])
{
    const char *field = (const char *)cfg + k->offset;
    bool whole = k->kind == V_INT || k->kind == V_BOOL || k->kind == V_MODE ||
                 k->kind == V_USER_VERIFICATION;
    int n = whole ? *(const int *)(const void *)field : 0;
    switch (k->kind) {
    case V_INT:
        snprintf(text, 32, "%d", n);
        return text;
    case V_BOOL:
        return n ? "yes" : "no";
    case V_MODE:
        snprintf(text, 32, "%04o", (unsigned)n);
        return text;
    case V_USER_VERIFICATION:
        return n ? "required" : "preferred";
    default:
        return field;
    }
}

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

void kunci_config_each(const struct kunci_config *cfg,
                       void (*each)(const char *section, const char *key, const char *value,
                                    void *arg),
                       void *arg)
{
    char text[32];
    /* Sections in the order of their first key; keys in the table's order within each. */
    for (size_t s = 0; s < N_KEYS; s++) {
        const char *section = config_keys[s].section;
        bool first = true;
        for (size_t i = 0; i < s && first; i++)
            first = strcmp(config_keys[i].section, section) != 0;
        if (!first)
            continue;
        for (size_t i = s; i < N_KEYS; i++)
            if (strcmp(config_keys[i].section, section) == 0)
                each(section, config_keys[i].key, format_value(cfg, &config_keys[i], text), arg);
    }
}

void kunci_config_diff(const struct kunci_config *a, const struct kunci_config *b,
                       void (*each)(const char *section, const char *key, void *arg), void *arg)
{
    char ta[32], tb[32];
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(format_value(a, &config_keys[i], ta), format_value(b, &config_keys[i], tb)) != 0)
            each(config_keys[i].section, config_keys[i].key, arg);
}

bool kunci_config_copy_key(struct kunci_config *dst, const struct kunci_config *src,
                           const char *section, const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(config_keys[i].section, section) == 0 && strcmp(config_keys[i].key, key) == 0) {
            memcpy((char *)dst + config_keys[i].offset, (const char *)src + config_keys[i].offset,
                   config_keys[i].size);
            return true;
        }
    return false;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int set_value(struct kunci_config *cfg, const struct config_key *k, const char *value,
                     const char **why_r)
{
    char *field = (char *)cfg + k->offset;
    char host[KUNCI_ADDR_MAX];
    unsigned port;

    if (k->kind == V_LOG_FORMAT && kunci_log_format_parse(value) < 0) {
        *why_r = "expected text or json";
        return KUNCI_ERR_INVALID;
    }
    if (k->kind == V_USER_VERIFICATION) {
        if (strcmp(value, "required") != 0 && strcmp(value, "preferred") != 0) {
            *why_r = "expected required or preferred";
            return KUNCI_ERR_INVALID;
        }
        *(int *)(void *)field = strcmp(value, "required") == 0;
        return KUNCI_OK;
    }
    if (k->kind == V_BOOL) {
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
            *(int *)(void *)field = 1;
        else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
                 strcmp(value, "off") == 0)
            *(int *)(void *)field = 0;
        else {
            *why_r = "expected yes or no";
            return KUNCI_ERR_INVALID;
        }
        return KUNCI_OK;
    }
    if (k->kind == V_MODE) {
        char *end;
        long l = strtol(value, &end, 8);
        if (*value == '\0' || *end != '\0' || l < 0 || l > 0777) {
            *why_r = "expected an octal file mode like 0660";
            return KUNCI_ERR_INVALID;
        }
        *(int *)(void *)field = (int)l;
        return KUNCI_OK;
    }
    if (k->kind == V_INT) {
        char *end;
        errno = 0;
        long l = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno != 0 || l < k->min || l > k->max) {
            *why_r = "expected a whole number in range";
            return KUNCI_ERR_INVALID;
        }
        *(int *)(void *)field = (int)l;
        return KUNCI_OK;
    }
    if (strlen(value) >= k->size) {
        *why_r = "value too long";
        return KUNCI_ERR_INVALID;
    }
    if (k->kind == V_NETWORKS) {
        if (kunci_networks_canonical(value, field, k->size) != KUNCI_OK) {
            *why_r = "expected addresses or networks like 127.0.0.1, 10.0.0.0/8, ::1 "
                     "(comma-separated)";
            return KUNCI_ERR_INVALID;
        }
        return KUNCI_OK;
    }
    if (k->kind == V_HOST && !kunci_hostname_valid(value)) {
        *why_r = "expected a host name like mail.example.org (letters, digits, '-', '.')";
        return KUNCI_ERR_INVALID;
    }
    if (k->kind == V_SECURITY && strcmp(value, "ssl") != 0 && strcmp(value, "starttls") != 0) {
        *why_r = "expected ssl or starttls";
        return KUNCI_ERR_INVALID;
    }
    if (k->kind == V_HTTPS_URL && value[0] != '\0' && !kunci_https_url_valid(value)) {
        *why_r = "expected an https:// URL without spaces, quotes or '<', '>'";
        return KUNCI_ERR_INVALID;
    }
    if (k->kind == V_ADDR && kunci_addr_parse(value, host, sizeof(host), &port) != KUNCI_OK) {
        *why_r = "expected IP:port with an IP literal, like 127.0.0.1:143 or [::1]:143";
        return KUNCI_ERR_INVALID;
    }
    memcpy(field, value, strlen(value) + 1);
    return KUNCI_OK;
}

/* What is wrong with [devices] as a whole, or NULL. */
static const char *devices_problem(const struct kunci_devices_config *d)
{
    if ((d->imap_host[0] == '\0') != (d->smtp_host[0] == '\0'))
        return "[devices] needs both imap_host and smtp_host (or neither: device set-up off)";
    if ((d->profile_signing_cert[0] == '\0') != (d->profile_signing_key[0] == '\0'))
        return "[devices] needs both profile_signing_cert and profile_signing_key";
    return NULL;
}

int kunci_config_load(struct kunci_config *cfg, const char *path, char *err, size_t err_size)
{
    char line[LINE_MAX_LEN + 2], section[32] = "";
    const char *why = NULL;
    char bad_key[160];
    unsigned lineno = 0;
    int r = KUNCI_OK;
    FILE *f = fopen(path, "re");

    if (f == NULL) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return KUNCI_ERR_IO;
    }
    while (r == KUNCI_OK && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strlen(line) > LINE_MAX_LEN) {
            why = "line too long";
            r = KUNCI_ERR_INVALID;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == ';' || *s == '#')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close == NULL || close[1] != '\0' || (size_t)(close - s - 1) >= sizeof(section)) {
                why = "malformed section header";
                r = KUNCI_ERR_INVALID;
                break;
            }
            *close = '\0';
            snprintf(section, sizeof(section), "%s", trim(s + 1));
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            why = "expected key = value";
            r = KUNCI_ERR_INVALID;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = eq + 1;
        /* An inline comment starts at " ;" or " #": values never contain those. */
        char *comment = strstr(value, " ;");
        if (comment == NULL)
            comment = strstr(value, " #");
        if (comment != NULL)
            *comment = '\0';
        value = trim(value);
        const struct config_key *k = NULL;
        for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
            if (strcmp(config_keys[i].section, section) == 0 &&
                strcmp(config_keys[i].key, key) == 0)
                k = &config_keys[i];
        if (k == NULL) {
            snprintf(err, err_size, "%s:%u: unknown key '%s' in section [%s]", path, lineno, key,
                     section);
            fclose(f);
            return KUNCI_ERR_INVALID;
        }
        r = set_value(cfg, k, value, &why);
        if (r != KUNCI_OK) {
            snprintf(bad_key, sizeof(bad_key), "%s ([%s] %s)", why ? why : "invalid", section, key);
            why = bad_key;
        }
    }
    if (r == KUNCI_OK && ferror(f)) {
        why = strerror(errno);
        r = KUNCI_ERR_IO;
    }
    if (r == KUNCI_OK && (cfg->rp_id[0] != '\0' || cfg->origin[0] != '\0')) {
        struct kunci_config copy = *cfg;
        derive_rp(&copy);
        if ((why = rp_problem(&copy)) != NULL) {
            snprintf(err, err_size, "%s: %s", path, why);
            fclose(f);
            return KUNCI_ERR_INVALID;
        }
    }
    if (r == KUNCI_OK && (why = devices_problem(&cfg->devices)) != NULL) {
        snprintf(err, err_size, "%s: %s", path, why);
        fclose(f);
        return KUNCI_ERR_INVALID;
    }
    if (r != KUNCI_OK)
        snprintf(err, err_size, "%s:%u: %s", path, lineno, why ? why : "invalid");
    fclose(f);
    return r;
}
