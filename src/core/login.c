#include "core/login.h"
#include "core/err.h"

#include <string.h>

int kunci_login_canonical(const char *in, size_t in_len, char out[KUNCI_LOGIN_MAX + 1])
{
    size_t at = 0, ats = 0;

    out[0] = '\0';
    while (in_len > 0 && (*in == ' ' || *in == '\t'))
        in++, in_len--;
    while (in_len > 0 && (in[in_len - 1] == ' ' || in[in_len - 1] == '\t'))
        in_len--;
    if (in_len == 0 || in_len > KUNCI_LOGIN_MAX)
        return KUNCI_ERR_INVALID;
    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c == 0x7f || c == '"' || c == ',' || c == ';' || c == '<' || c == '>' ||
            c == '\\')
            return KUNCI_ERR_INVALID;
        if (c == '@') {
            at = i;
            ats++;
        }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[in_len] = '\0';
    if (ats != 1 || at == 0 || at == in_len - 1 || out[in_len - 1] == '.' || out[at + 1] == '.') {
        out[0] = '\0';
        return KUNCI_ERR_INVALID;
    }
    return KUNCI_OK;
}

int kunci_label_check(const char *s, size_t max)
{
    size_t len = strlen(s);

    if (len > max)
        return KUNCI_ERR_TOO_LONG;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return KUNCI_ERR_INVALID;
    }
    return KUNCI_OK;
}
