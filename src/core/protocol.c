#include "core/protocol.h"
#include "core/err.h"
#include "core/types.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const protocol_names[] = {"imap", "pop3", "smtp", "eas", "dav", "ews"};
#define N_PROTOCOLS (sizeof(protocol_names) / sizeof(protocol_names[0]))

unsigned kunci_protocol_parse(const char *name)
{
    for (size_t i = 0; i < N_PROTOCOLS; i++)
        if (strcasecmp(name, protocol_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *kunci_protocol_name(unsigned proto)
{
    for (size_t i = 0; i < N_PROTOCOLS; i++)
        if (proto == 1u << i)
            return protocol_names[i];
    return "unknown";
}

int kunci_protocols_parse(const char *list, unsigned *mask_r)
{
    char item[16];
    unsigned mask = 0;
    const char *p = list;

    *mask_r = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        while (len > 0 && *p == ' ')
            p++, len--;
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0 || len >= sizeof(item))
            return KUNCI_ERR_INVALID;
        memcpy(item, p, len);
        item[len] = '\0';
        unsigned bit = kunci_protocol_parse(item);
        if (bit == 0)
            return KUNCI_ERR_INVALID;
        mask |= bit;
        p += strcspn(p, ",");
        if (*p == ',') {
            p++;
            if (*p == '\0')
                return KUNCI_ERR_INVALID;
        }
    }
    *mask_r = mask;
    return KUNCI_OK;
}

void kunci_protocols_format(unsigned mask, char *out, size_t out_size)
{
    size_t used = 0;

    if (out_size == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < N_PROTOCOLS; i++) {
        if ((mask & (1u << i)) == 0)
            continue;
        int n = snprintf(out + used, out_size - used, "%s%s", used ? "," : "", protocol_names[i]);
        if (n < 0 || (size_t)n >= out_size - used)
            return;
        used += (size_t)n;
    }
}

const char *kunci_role_name(enum kunci_role role)
{
    return role == KUNCI_ROLE_ADMIN ? "admin" : "user";
}

int kunci_role_parse(const char *s, enum kunci_role *role_r)
{
    if (strcmp(s, "user") == 0)
        *role_r = KUNCI_ROLE_USER;
    else if (strcmp(s, "admin") == 0)
        *role_r = KUNCI_ROLE_ADMIN;
    else
        return KUNCI_ERR_INVALID;
    return KUNCI_OK;
}

const char *kunci_mfa_state_name(enum kunci_mfa_state state)
{
    switch (state) {
    case KUNCI_MFA_DISABLED:
        return "disabled";
    case KUNCI_MFA_ENABLED:
        return "enabled";
    case KUNCI_MFA_ENFORCED:
        return "enforced";
    }
    return "unknown";
}

int kunci_mfa_state_parse(const char *s, enum kunci_mfa_state *state_r)
{
    if (strcmp(s, "disabled") == 0)
        *state_r = KUNCI_MFA_DISABLED;
    else if (strcmp(s, "enabled") == 0)
        *state_r = KUNCI_MFA_ENABLED;
    else if (strcmp(s, "enforced") == 0)
        *state_r = KUNCI_MFA_ENFORCED;
    else
        return KUNCI_ERR_INVALID;
    return KUNCI_OK;
}

const char *kunci_method_kind_name(enum kunci_method_kind kind)
{
    switch (kind) {
    case KUNCI_METHOD_TOTP:
        return "totp";
    case KUNCI_METHOD_PHONE:
        return "phone";
    case KUNCI_METHOD_EMAIL:
        return "email";
    case KUNCI_METHOD_PASSKEY:
        return "passkey";
    }
    return "unknown";
}

int kunci_method_kind_parse(const char *s, enum kunci_method_kind *kind_r)
{
    if (strcmp(s, "totp") == 0)
        *kind_r = KUNCI_METHOD_TOTP;
    else if (strcmp(s, "phone") == 0)
        *kind_r = KUNCI_METHOD_PHONE;
    else if (strcmp(s, "email") == 0)
        *kind_r = KUNCI_METHOD_EMAIL;
    else if (strcmp(s, "passkey") == 0)
        *kind_r = KUNCI_METHOD_PASSKEY;
    else
        return KUNCI_ERR_INVALID;
    return KUNCI_OK;
}
