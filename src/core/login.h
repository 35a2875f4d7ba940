/* Logins are addresses like alice@example.org, compared case-insensitively. */
#ifndef KUNCI_LOGIN_H
#define KUNCI_LOGIN_H

#include <stddef.h>

#include "core/types.h"

/* Trims, folds ASCII case and checks the shape local@domain. */
int kunci_login_canonical(const char *in, size_t in_len, char out[KUNCI_LOGIN_MAX + 1]);
/* A display name or app password name: printable, no line breaks, capped. */
int kunci_label_check(const char *s, size_t max);

#endif
