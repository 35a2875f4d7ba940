/* Which events the account's owner is told of by e-mail (to the login's address), and the
 * words: a new app password, a method added or removed, MFA changed by an administrator,
 * the password changed or reset, a sign-in from a new network, a lock, a temporary access
 * pass. Each says what to do if it was not them. */
#ifndef KUNCI_NOTIFY_H
#define KUNCI_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/events.h"

#define KUNCI_NOTIFY_SUBJECT_MAX 128
#define KUNCI_NOTIFY_TEXT_MAX    2048

/* true when ev is one to tell its subject of; the message is written (English, then
 * Indonesian). */
bool kunci_notify_message(const struct kunci_event *ev, char subject[KUNCI_NOTIFY_SUBJECT_MAX],
                          char text[KUNCI_NOTIFY_TEXT_MAX]);

#endif
