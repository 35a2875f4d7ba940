/* A text of bounded size built in one allocation, so what it holds (a password, in a
 * profile) is in one place to wipe: never moved by a realloc. Internal to src/device. */
#ifndef KUNCI_DEVICE_TEXT_H
#define KUNCI_DEVICE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct text {
    char *s;
    size_t len, cap;
    bool failed; /* out of memory or out of room: the text is useless */
};

#define TEXT_CAP (64 * 1024) /* a profile is a few KiB */

void text_init(struct text *t);
void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with &, <, >, " and ' as XML's entities; control characters other than tab, CR and LF
 * (which XML 1.0 cannot hold) dropped. */
void text_xml(struct text *t, const char *s);
/* s as a JSON string, quotes included, on one line: control characters (line breaks among
 * them, which Thunderbird for Android refuses in any value) become spaces. */
void text_json(struct text *t, const char *s);
/* The text, handed over (NULL if it failed: then it is wiped and freed). */
char *text_finish(struct text *t);
/* Wipes and frees a text text_finish handed over. */
void text_free_secret(char *s);

#endif
