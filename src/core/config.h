/* kunci.conf: an INI file. Unknown sections or keys are errors, so a typo is noticed at
 * start-up rather than in production. */
#ifndef KUNCI_CONFIG_H
#define KUNCI_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define KUNCI_ADDR_MAX 64

/* How codes reach a phone or an address: [phone] and [email]. */
struct kunci_channel_config {
    char driver[16]; /* outbox, command, webhook; smtp for email */
    char outbox_dir[PATH_MAX];
    char command[1024]; /* program and arguments, split on spaces, run without a shell */
    char webhook_url[512];
    int timeout_ms;
    int retries;
    char smtp_url[512]; /* smtp://host:587 or smtps://host:465 */
    int smtp_starttls;  /* require STARTTLS on smtp:// */
    char smtp_user[128];
    char smtp_password_file[PATH_MAX];
    char smtp_ca_file[PATH_MAX]; /* trust this CA (PEM) instead of the system's */
    char from[256];
};

struct kunci_config {
    /* [store] */
    char data_dir[PATH_MAX - 64]; /* room for the file names joined to it */
    char store_backend[16];
    char store_location[PATH_MAX]; /* default: <data_dir>/kunci.db */
    int busy_timeout_ms;
    char key_file[PATH_MAX]; /* default: <data_dir>/kunci.key */
    /* [serve] */
    char auth_listen[KUNCI_ADDR_MAX];
    char auth_key_file[PATH_MAX];
    int threads;                     /* threads answering requests; default: the number of cores */
    int app_password_cache;          /* app-password lookups kept per request thread; 0: none */
    int hash_workers;                /* threads computing Argon2id; default: the number of cores */
    int hash_queue;                  /* primary-password checks waiting before "try again later" */
    int hash_queue_per_address;      /* of those, one client address's at most; 0: hash_queue/16 */
    int max_connections;             /* per listener; 0: from the file limit */
    int max_connections_per_address; /* 0: half of max_connections */
    int header_timeout;              /* seconds for a request's line and headers */
    int log_allowed;                 /* log allowed logins too (refusals are always logged) */
    char log_format[8];              /* [log] format: text (key=value) or json */
    char socket_path[108];           /* the local socket for pam_kunci; "" for none */
    int socket_mode;                 /* its file mode, octal in the file (default 0660) */
    /* [mail] backends, "IP:port" */
    char mail_imap[KUNCI_ADDR_MAX];
    char mail_pop3[KUNCI_ADDR_MAX];
    char mail_smtp[KUNCI_ADDR_MAX];
    char backend_password_file[PATH_MAX];
    int auth_wait; /* seconds nginx waits before telling a client its login failed */
    /* [serve] web */
    char web_listen[KUNCI_ADDR_MAX];
    char web_root[PATH_MAX];
    char organization_name[128]; /* [web]: shown in the header, or "" */
    char logo_file[PATH_MAX];    /* [web]: an image shown beside it (PNG, SVG, JPEG, WebP) */
    int session_idle_minutes;
    int session_max_hours;
    char issuer[64];           /* the name authenticator apps show */
    int secure_cookies;        /* always mark cookies Secure (also when X-Forwarded-Proto: https) */
    char trusted_proxies[512]; /* canonical CIDR list whose X-Forwarded-For is believed */
    /* [web] WebAuthn: the relying party's id (a domain) and the origin browsers show; by
     * default "localhost" and http://localhost:PORT for a loopback web_listen, else unset
     * (passkeys are then off: browsers refuse an IP address as the id). */
    char rp_id[254];
    char origin[300];
    int webauthn_uv_required; /* [web] webauthn_user_verification = required | preferred */
    /* [phone], [email] */
    struct kunci_channel_config phone;
    struct kunci_channel_config email;
    /* [devices]: the public mail settings a device is set up with (src/device/); off while
     * imap_host or smtp_host is empty. Ports 0: the usual one for the security. */
    struct kunci_devices_config {
        char imap_host[254], smtp_host[254], pop3_host[254];
        int imap_port, smtp_port, pop3_port;
        char imap_security[12], smtp_security[12], pop3_security[12]; /* ssl | starttls */
        char caldav_url[300], carddav_url[300];
        char organization[128];
        char profile_signing_cert[PATH_MAX], profile_signing_key[PATH_MAX];
    } devices;
    /* [passwords] */
    unsigned argon2_iterations;
    unsigned argon2_memory_kib;
};

#define KUNCI_DEFAULT_DATA_DIR "/var/lib/kunci"

void kunci_config_defaults(struct kunci_config *cfg);
/* Reads path over the defaults; on error writes "path:line: reason" to err. */
int kunci_config_load(struct kunci_config *cfg, const char *path, char *err, size_t err_size);
/* Fills the paths that derive from data_dir. */
void kunci_config_finish(struct kunci_config *cfg);
/* Every key of kunci.conf with its value in cfg, as kunci.conf would write it, grouped by
 * section (`kunci config show`, and the test that keeps kunci.conf(5) whole). */
void kunci_config_each(const struct kunci_config *cfg,
                       void (*each)(const char *section, const char *key, const char *value,
                                    void *arg),
                       void *arg);
/* Calls each for every key whose value differs between a and b. */
void kunci_config_diff(const struct kunci_config *a, const struct kunci_config *b,
                       void (*each)(const char *section, const char *key, void *arg), void *arg);
/* Copies one key's value from src to dst; false for a key kunci.conf does not have. */
bool kunci_config_copy_key(struct kunci_config *dst, const struct kunci_config *src,
                           const char *section, const char *key);
/* A DNS host name (ASCII letters, digits, '-', labels of 1-63), or "" (unset). */
bool kunci_hostname_valid(const char *s);
/* https://... with no space, control character, quote or angle bracket. */
bool kunci_https_url_valid(const char *s);
/* Splits "127.0.0.1:8081" or "[::1]:8081"; the host must be an IP literal. */
int kunci_addr_parse(const char *addr, char *host, size_t host_size, unsigned *port_r);

#endif
