/* A database and its key file belong together: app passwords are stored as HMACs under a
 * key derived from the key file, and second-factor secrets sealed under another. Started
 * with another key file, kunci would refuse every app password as if it were wrong and
 * fail every authenticator code; so the database keeps the fingerprint of its key file (a
 * settings row, KUNCI_KEY_FINGERPRINT_SETTING, never shown as a setting), and a key file
 * with another fingerprint is refused before anything is decided with it. */
#ifndef KUNCI_KEY_BINDING_H
#define KUNCI_KEY_BINDING_H

#include <stdbool.h>

#include "core/context.h"
#include "core/store.h"

/* Not a setting's name (settings have no dot): kunci settings never lists or takes it. */
#define KUNCI_KEY_FINGERPRINT_SETTING ".key_fingerprint"

/* KUNCI_OK when the database names this key file's fingerprint (or, during a rotation, the
 * previous key's), or names none yet (this key's is written then; a database that takes no
 * writes is not refused for it); KUNCI_ERR_KEY_MISMATCH when it names another; a store error
 * when it cannot be read. found_r (may be NULL) receives the fingerprint the database names
 * now ("" when unreadable). */
int kunci_key_binding_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            char found_r[KUNCI_KEY_FINGERPRINT_HEX + 1]);

#endif
