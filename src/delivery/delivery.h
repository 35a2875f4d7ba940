/* Delivery of one-time codes: one driver per channel, chosen in [phone] and [email].
 *   outbox   each message a JSON file in a folder (development default)
 *   command  a program run without a shell, the message on stdin, with a time limit
 *   webhook  an HTTP POST of JSON through libcurl, with a time limit and retries
 *   smtp     e-mail through libcurl: STARTTLS or implicit TLS, optional authentication */
#ifndef KUNCI_DELIVERY_H
#define KUNCI_DELIVERY_H

#include <stddef.h>

#include "core/config.h"
#include "core/mfa.h"

/* Checks a channel's configuration; on error writes the reason. */
int kunci_delivery_check(const char *section, const struct kunci_channel_config *cfg, char *err,
                         size_t err_size);
/* What the server's send function needs: where to send, and the user's language. */
struct kunci_delivery_request {
    const struct kunci_config *cfg;
    const char *lang; /* "en" or "id" */
};

/* kunci_send_fn for the server: arg is a struct kunci_delivery_request. The message is
 * worded in the request's language. */
int kunci_delivery_send(void *arg, const struct kunci_message *msg, char *err, size_t err_size);

/* A notice to the account's owner (core/notify.h) by the e-mail channel: to is the
 * login's address. */
int kunci_delivery_notify(const struct kunci_config *cfg, const char *to, const char *subject,
                          const char *text, char *err, size_t err_size);

#endif
