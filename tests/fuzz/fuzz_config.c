/* kunci.conf: any bytes give a clean error or a configuration, never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kunci_config cfg;
    char path[64], err[PATH_MAX + 128];
    int fd = memfd_create("kunci-fuzz", 0);

    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        kunci_config_defaults(&cfg);
        if (kunci_config_load(&cfg, path, err, sizeof(err)) == 0)
            kunci_config_finish(&cfg);
    }
    close(fd);
    return 0;
}
