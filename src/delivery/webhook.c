#include "delivery/driver.h"
#include "core/err.h"

#include <curl/curl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static int deliver_webhook(const struct kunci_channel_config *cfg, const struct kunci_message *msg,
                           char *err, size_t err_size)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "channel",
                          kunci_channel_name(msg->channel), "to", msg->to, "login", msg->login,
                          "subject", msg->subject, "text", msg->text, "code", msg->code);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    int r = KUNCI_ERR_IO;

    json_decref(j);
    for (int attempt = 0; body != NULL && attempt <= cfg->retries && r != KUNCI_OK; attempt++) {
        CURL *c = curl_easy_init();
        long status = 0;
        if (c == NULL)
            break;
        if (attempt > 0)
            poll(NULL, 0, 200 * attempt); /* back off a little between tries */
        curl_easy_setopt(c, CURLOPT_URL, cfg->webhook_url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        CURLcode rc = curl_easy_perform(c);
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK && status >= 200 && status < 300)
            r = KUNCI_OK;
        else if (rc != CURLE_OK)
            snprintf(err, err_size, "webhook: %s", curl_easy_strerror(rc));
        else
            snprintf(err, err_size, "webhook: HTTP status %ld", status);
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(headers);
    free(body);
    return r;
}

const struct kunci_delivery_driver kunci_delivery_webhook = {
    .name = "webhook",
    .send = deliver_webhook,
};
