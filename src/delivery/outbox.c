#include "delivery/driver.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int deliver_outbox(const struct kunci_channel_config *cfg, const struct kunci_message *msg,
                          char *err, size_t err_size)
{
    char tmp[PATH_MAX + 64], final[PATH_MAX + 64];
    uint32_t rnd = randombytes_random();
    struct timespec ts;
    int r = KUNCI_ERR_IO;

    if (mkdir(cfg->outbox_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_size, "outbox %s: %s", cfg->outbox_dir, strerror(errno));
        return KUNCI_ERR_IO;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(final, sizeof(final), "%s/%lld%09ld-%08x.json", cfg->outbox_dir, (long long)ts.tv_sec,
             ts.tv_nsec, rnd);
    snprintf(tmp, sizeof(tmp), "%s/.%08x.tmp", cfg->outbox_dir, rnd);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "channel",
                          kunci_channel_name(msg->channel), "to", msg->to, "login", msg->login,
                          "subject", msg->subject, "text", msg->text, "code", msg->code);
    /* Written whole, then renamed: a reader never sees half a message. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (j != NULL && fd >= 0 && json_dumpfd(j, fd, JSON_INDENT(2)) == 0 && fsync(fd) == 0 &&
        close(fd) == 0) {
        fd = -1;
        if (rename(tmp, final) == 0)
            r = KUNCI_OK;
    }
    if (r != KUNCI_OK) {
        snprintf(err, err_size, "outbox %s: %s", cfg->outbox_dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
    }
    json_decref(j);
    return r;
}

const struct kunci_delivery_driver kunci_delivery_outbox = {
    .name = "outbox",
    .send = deliver_outbox,
};
