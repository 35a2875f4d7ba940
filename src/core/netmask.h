/* Allowed networks of an app password: IPv4 and IPv6 CIDR blocks. */
#ifndef KUNCI_NETMASK_H
#define KUNCI_NETMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KUNCI_NETWORKS_COUNT_MAX 16

struct kunci_ip {
    int family; /* AF_INET or AF_INET6; IPv4-mapped IPv6 is folded to AF_INET */
    uint8_t addr[16];
};

struct kunci_net {
    struct kunci_ip ip;
    unsigned prefix;
};

int kunci_ip_parse(const char *s, struct kunci_ip *ip_r);
/* "10.0.0.0/8", "2001:db8::/32" or a single address. Host bits must be zero. */
int kunci_net_parse(const char *s, struct kunci_net *net_r);
bool kunci_net_contains(const struct kunci_net *net, const struct kunci_ip *ip);
/* Parses a comma-separated list and writes its canonical form ("" for an empty list). */
int kunci_networks_canonical(const char *list, char *out, size_t out_size);
/* true when the list is empty or one of its networks holds ip. */
bool kunci_networks_allow(const char *canonical_list, const struct kunci_ip *ip);
/* true when the (canonical) trusted networks hold the address; an empty list trusts none. */
bool kunci_network_trusted(const char *canonical_list, const char *address);

#endif
