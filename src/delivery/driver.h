/* One way of delivering a one-time code: delivery.c picks one by the name in [phone] or
 * [email] driver =. A driver sends one message and says why it could not. */
#ifndef KUNCI_DELIVERY_DRIVER_H
#define KUNCI_DELIVERY_DRIVER_H

#include <stddef.h>

#include "core/config.h"
#include "core/mfa.h"

struct kunci_delivery_driver {
    const char *name;
    int (*send)(const struct kunci_channel_config *cfg, const struct kunci_message *msg, char *err,
                size_t err_size);
};

extern const struct kunci_delivery_driver kunci_delivery_outbox;
extern const struct kunci_delivery_driver kunci_delivery_command;
extern const struct kunci_delivery_driver kunci_delivery_webhook;
extern const struct kunci_delivery_driver kunci_delivery_smtp;

#endif
