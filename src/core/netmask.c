#include "core/netmask.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int kunci_ip_parse(const char *s, struct kunci_ip *ip_r)
{
    memset(ip_r, 0, sizeof(*ip_r));
    if (inet_pton(AF_INET, s, ip_r->addr) == 1) {
        ip_r->family = AF_INET;
        return KUNCI_OK;
    }
    if (inet_pton(AF_INET6, s, ip_r->addr) == 1) {
        ip_r->family = AF_INET6;
        if (memcmp(ip_r->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
            memmove(ip_r->addr, ip_r->addr + 12, 4);
            memset(ip_r->addr + 4, 0, 12);
            ip_r->family = AF_INET;
        }
        return KUNCI_OK;
    }
    return KUNCI_ERR_INVALID;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;

    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

int kunci_net_parse(const char *s, struct kunci_net *net_r)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t addr_len = slash ? (size_t)(slash - s) : strlen(s);
    unsigned max_bits;

    memset(net_r, 0, sizeof(*net_r));
    if (addr_len == 0 || addr_len >= sizeof(addr))
        return KUNCI_ERR_INVALID;
    memcpy(addr, s, addr_len);
    addr[addr_len] = '\0';
    if (kunci_ip_parse(addr, &net_r->ip) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    max_bits = net_r->ip.family == AF_INET ? 32 : 128;
    net_r->prefix = max_bits;
    if (slash != NULL) {
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return KUNCI_ERR_INVALID;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || p > max_bits)
            return KUNCI_ERR_INVALID;
        net_r->prefix = (unsigned)p;
    }
    /* Host bits set usually means a typo (10.1.2.3/8); refuse rather than guess. */
    uint8_t masked[16];
    memcpy(masked, net_r->ip.addr, sizeof(masked));
    for (unsigned bit = net_r->prefix; bit < max_bits; bit++)
        masked[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
    if (memcmp(masked, net_r->ip.addr, sizeof(masked)) != 0)
        return KUNCI_ERR_INVALID;
    return KUNCI_OK;
}

bool kunci_net_contains(const struct kunci_net *net, const struct kunci_ip *ip)
{
    return net->ip.family == ip->family && prefix_equal(net->ip.addr, ip->addr, net->prefix);
}

/* Calls fn for each entry of a comma-separated list; stops at the first non-zero result. */
static int networks_each(const char *list, int (*fn)(const struct kunci_net *, void *), void *arg)
{
    char item[64];
    const char *p = list;
    size_t count = 0;

    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        const char *start = p;
        while (len > 0 && *start == ' ')
            start++, len--;
        while (len > 0 && start[len - 1] == ' ')
            len--;
        if (len == 0 || len >= sizeof(item) || ++count > KUNCI_NETWORKS_COUNT_MAX)
            return KUNCI_ERR_INVALID;
        memcpy(item, start, len);
        item[len] = '\0';
        struct kunci_net net;
        if (kunci_net_parse(item, &net) != KUNCI_OK)
            return KUNCI_ERR_INVALID;
        int r = fn(&net, arg);
        if (r != 0)
            return r;
        p += strcspn(p, ",");
        if (*p == ',' && *++p == '\0')
            return KUNCI_ERR_INVALID;
    }
    return 0;
}

struct canonical_out {
    char *out;
    size_t size, used;
};

static int append_canonical(const struct kunci_net *net, void *arg)
{
    struct canonical_out *c = arg;
    char addr[INET6_ADDRSTRLEN];

    inet_ntop(net->ip.family, net->ip.addr, addr, sizeof(addr));
    int n = snprintf(c->out + c->used, c->size - c->used, "%s%s/%u", c->used ? "," : "", addr,
                     net->prefix);
    if (n < 0 || (size_t)n >= c->size - c->used)
        return KUNCI_ERR_TOO_LONG;
    c->used += (size_t)n;
    return 0;
}

int kunci_networks_canonical(const char *list, char *out, size_t out_size)
{
    struct canonical_out c = {out, out_size, 0};

    if (out_size == 0)
        return KUNCI_ERR_TOO_LONG;
    out[0] = '\0';
    int r = networks_each(list, append_canonical, &c);
    if (r != 0)
        out[0] = '\0';
    return r;
}

static int match_ip(const struct kunci_net *net, void *arg)
{
    return kunci_net_contains(net, arg) ? 1 : 0;
}

bool kunci_network_trusted(const char *canonical_list, const char *address)
{
    struct kunci_ip ip;
    return canonical_list[0] != '\0' && address != NULL &&
           kunci_ip_parse(address, &ip) == KUNCI_OK && kunci_networks_allow(canonical_list, &ip);
}

bool kunci_networks_allow(const char *canonical_list, const struct kunci_ip *ip)
{
    if (canonical_list[0] == '\0')
        return true;
    if (ip == NULL)
        return false;
    return networks_each(canonical_list, match_ip, (void *)ip) == 1;
}
