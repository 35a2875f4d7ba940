#include "core/metrics.h"
#include "delivery/delivery.h"
#include "delivery/driver.h"
#include "core/err.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A secret file must be there and the owner's alone, as kunci.key: said at start, not at the
 * first code that cannot be sent. */
static int check_password_file(const char *section, const char *path, char *err, size_t err_size)
{
    struct stat st;

    if (path[0] == '\0')
        return KUNCI_OK;
    if (stat(path, &st) != 0) {
        snprintf(err, err_size, "[%s] smtp_password_file %s: %s", section, path, strerror(errno));
        return KUNCI_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "[%s] smtp_password_file %s is not a file", section, path);
        return KUNCI_ERR_IO;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, err_size,
                 "[%s] smtp_password_file %s is readable by group or others; run chmod 600 on it",
                 section, path);
        return KUNCI_ERR_KEY_PERMS;
    }
    return KUNCI_OK;
}

int kunci_delivery_check(const char *section, const struct kunci_channel_config *cfg, char *err,
                         size_t err_size)
{
    const char *d = cfg->driver;
    bool email = strcmp(section, "email") == 0;

    if (strcmp(d, "outbox") == 0)
        return KUNCI_OK;
    if (strcmp(d, "command") == 0 && cfg->command[0] != '\0')
        return KUNCI_OK;
    if (strcmp(d, "webhook") == 0 && (strncmp(cfg->webhook_url, "http://", 7) == 0 ||
                                      strncmp(cfg->webhook_url, "https://", 8) == 0))
        return KUNCI_OK;
    if (email && strcmp(d, "smtp") == 0 &&
        (strncmp(cfg->smtp_url, "smtp://", 7) == 0 || strncmp(cfg->smtp_url, "smtps://", 8) == 0))
        return check_password_file(section, cfg->smtp_password_file, err, err_size);
    snprintf(err, err_size,
             "[%s] driver = %s: use outbox, command (with command =), webhook (with an http(s) "
             "webhook_url =)%s",
             section, d, email ? " or smtp (with smtp_url = smtp://host:port)" : "");
    return KUNCI_ERR_INVALID;
}

/* The messages' wording, per language (the UI's catalogs are web/i18n). */
static const struct kunci_delivery_driver *const drivers[] = {
    &kunci_delivery_outbox,
    &kunci_delivery_command,
    &kunci_delivery_webhook,
    &kunci_delivery_smtp,
};

static const struct {
    const char *lang, *subject, *before, *after; /* the code stands between before and after */
} wording[] = {
    {"en", "Your verification code", "Your verification code is ",
     ". It expires in 10 minutes. If you did not ask for it, tell your administrator."},
    {"id", "Kode verifikasi Anda", "Kode verifikasi Anda adalah ",
     ". Kode ini kedaluwarsa dalam 10 menit. Jika Anda tidak memintanya, beri tahu "
     "administrator Anda."},
};

int kunci_delivery_notify(const struct kunci_config *cfg, const char *to, const char *subject,
                          const char *text, char *err, size_t err_size)
{
    struct kunci_message m = {KUNCI_CHANNEL_EMAIL, to, to, NULL, subject, text};
    const struct kunci_delivery_driver *driver = &kunci_delivery_outbox;
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (strcmp(cfg->email.driver, drivers[i]->name) == 0)
            driver = drivers[i];
    int r = driver->send(&cfg->email, &m, err, err_size);
    kunci_metrics_delivery(driver->name, r == KUNCI_OK);
    return r == KUNCI_OK ? KUNCI_OK : KUNCI_ERR_DELIVERY;
}

int kunci_delivery_send(void *arg, const struct kunci_message *original, char *err, size_t err_size)
{
    const struct kunci_delivery_request *req = arg;
    const struct kunci_config *cfg = req->cfg;
    struct kunci_message m = *original;
    const struct kunci_message *msg = &m;
    char text[512];
    int r;

    for (size_t i = 0; i < sizeof(wording) / sizeof(wording[0]); i++)
        if (req->lang != NULL && strcmp(req->lang, wording[i].lang) == 0) {
            snprintf(text, sizeof(text), "%s%s%s", wording[i].before, original->code,
                     wording[i].after);
            m.subject = wording[i].subject;
            m.text = text;
        }
    const struct kunci_channel_config *ch =
        msg->channel == KUNCI_CHANNEL_EMAIL ? &cfg->email : &cfg->phone;

    const struct kunci_delivery_driver *driver = &kunci_delivery_outbox;
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (strcmp(ch->driver, drivers[i]->name) == 0)
            driver = drivers[i];
    r = driver->send(ch, msg, err, err_size);
    kunci_metrics_delivery(driver->name, r == KUNCI_OK);
    sodium_memzero(text, sizeof(text));
    return r == KUNCI_OK ? KUNCI_OK : KUNCI_ERR_DELIVERY;
}
