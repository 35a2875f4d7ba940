#include "delivery/driver.h"
#include "core/err.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct payload {
    const char *data;
    size_t len, off;
};

static size_t read_payload(char *out, size_t size, size_t n, void *arg)
{
    struct payload *p = arg;
    size_t left = p->len - p->off, want = size * n;
    size_t k = left < want ? left : want;
    memcpy(out, p->data + p->off, k);
    p->off += k;
    return k;
}

static int read_password(const char *path, char *out, size_t size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return KUNCI_ERR_IO;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return KUNCI_ERR_KEY_PERMS;
    }
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    if (n < 0)
        return KUNCI_ERR_IO;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return KUNCI_OK;
}

static int deliver_smtp(const struct kunci_channel_config *cfg, const struct kunci_message *msg,
                        char *err, size_t err_size)
{
    char message[2048], date[64], from[300], to[300], password[256] = "";
    struct curl_slist *rcpt = NULL;
    struct payload p;
    time_t now = time(NULL);
    struct tm tm;
    int r = KUNCI_ERR_IO;

    /* Addresses were checked for shape; CR and LF can never reach these headers. */
    if (strpbrk(msg->to, "\r\n<>") != NULL || strpbrk(cfg->from, "\r\n<>") != NULL)
        return KUNCI_ERR_INVALID;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    int n = snprintf(message, sizeof(message),
                     "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
                     "Message-ID: <%08x%08x@kunci>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
                     date, cfg->from, msg->to, msg->subject, randombytes_random(),
                     randombytes_random(), msg->text);
    if (n < 0 || (size_t)n >= sizeof(message))
        return KUNCI_ERR_TOO_LONG;
    if (cfg->smtp_password_file[0] != '\0' &&
        read_password(cfg->smtp_password_file, password, sizeof(password)) != KUNCI_OK) {
        snprintf(err, err_size,
                 "smtp: cannot read smtp_password_file (missing, or readable "
                 "by others)");
        return KUNCI_ERR_IO;
    }
    snprintf(from, sizeof(from), "<%s>", cfg->from);
    snprintf(to, sizeof(to), "<%s>", msg->to);
    rcpt = curl_slist_append(NULL, to);
    for (int attempt = 0; attempt <= cfg->retries && r != KUNCI_OK; attempt++) {
        CURL *c = curl_easy_init();
        if (c == NULL)
            break;
        p = (struct payload){message, (size_t)n, 0};
        curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_payload);
        curl_easy_setopt(c, CURLOPT_READDATA, &p);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (cfg->smtp_starttls)
            curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        if (cfg->smtp_ca_file[0] != '\0')
            curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca_file);
        if (cfg->smtp_user[0] != '\0') {
            curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
            curl_easy_setopt(c, CURLOPT_PASSWORD, password);
        }
        CURLcode rc = curl_easy_perform(c);
        if (rc == CURLE_OK)
            r = KUNCI_OK;
        else
            /* Not the URL: an operator may have put credentials in it. */
            snprintf(err, err_size, "smtp: %s", curl_easy_strerror(rc));
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(rcpt);
    sodium_memzero(password, sizeof(password));
    sodium_memzero(message, sizeof(message));
    return r;
}

const struct kunci_delivery_driver kunci_delivery_smtp = {
    .name = "smtp",
    .send = deliver_smtp,
};
