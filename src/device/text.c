/* A bounded text in one allocation (text.h). */
#include "device/text.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_init(struct text *t)
{
    t->cap = TEXT_CAP;
    t->len = 0;
    t->s = malloc(t->cap);
    t->failed = t->s == NULL;
    if (t->s != NULL)
        t->s[0] = '\0';
}

void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->failed)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        t->failed = true;
        return;
    }
    t->len += (size_t)n;
}

static void add_char(struct text *t, char c)
{
    if (t->failed)
        return;
    if (t->len + 1 >= t->cap) {
        t->failed = true;
        return;
    }
    t->s[t->len++] = c;
    t->s[t->len] = '\0';
}

void text_xml(struct text *t, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            text_add(t, "&amp;");
            break;
        case '<':
            text_add(t, "&lt;");
            break;
        case '>':
            text_add(t, "&gt;");
            break;
        case '"':
            text_add(t, "&quot;");
            break;
        case '\'':
            text_add(t, "&apos;");
            break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
                add_char(t, (char)c);
        }
    }
}

void text_json(struct text *t, const char *s)
{
    add_char(t, '"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            add_char(t, '\\');
            add_char(t, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            add_char(t, ' ');
        } else {
            add_char(t, (char)c);
        }
    }
    add_char(t, '"');
}

char *text_finish(struct text *t)
{
    if (t->failed) {
        if (t->s != NULL) {
            sodium_memzero(t->s, t->cap);
            free(t->s);
        }
        t->s = NULL;
    }
    return t->s;
}

void text_free_secret(char *s)
{
    if (s != NULL) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}
