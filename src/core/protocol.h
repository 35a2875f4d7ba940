/* The legacy protocols an app password may be scoped to. */
#ifndef KUNCI_PROTOCOL_H
#define KUNCI_PROTOCOL_H

#include <stddef.h>

enum kunci_protocol {
    KUNCI_PROTO_IMAP = 1u << 0,
    KUNCI_PROTO_POP3 = 1u << 1,
    KUNCI_PROTO_SMTP = 1u << 2,
    KUNCI_PROTO_EAS = 1u << 3, /* Exchange ActiveSync */
    KUNCI_PROTO_DAV = 1u << 4, /* CalDAV / CardDAV */
    KUNCI_PROTO_EWS = 1u << 5, /* Exchange Web Services */
};
#define KUNCI_PROTO_ALL 0x3fu
/* A stored scope that cannot be read: non-zero, so the scope applies, and no protocol's bit. */
#define KUNCI_PROTO_UNREADABLE (1u << 31)

/* One protocol name to its bit; 0 when unknown. Case-insensitive. */
unsigned kunci_protocol_parse(const char *name);
const char *kunci_protocol_name(unsigned proto);
/* "imap,smtp" to a mask. KUNCI_ERR_INVALID on an unknown or empty entry. */
int kunci_protocols_parse(const char *list, unsigned *mask_r);
/* A mask to its canonical list, "" for 0. */
void kunci_protocols_format(unsigned mask, char *out, size_t out_size);

#endif
