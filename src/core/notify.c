#include "core/notify.h"

#include <stdio.h>
#include <string.h>

#include "core/timespec.h"

struct wording {
    const char *event, *reason; /* reason NULL: any */
    const char *subject;
    const char *en, *id; /* "{}" stands for the event's detail (or its address) */
};

static const struct wording wordings[] = {
    {"app_password_created", NULL, "New app password",
     "A new app password, \"{}\", was created for your account.",
     "Kata sandi aplikasi baru, \"{}\", dibuat untuk akun Anda."},
    {"method_added", NULL, "Sign-in method added",
     "A sign-in method was added to your account: {}.",
     "Metode masuk ditambahkan ke akun Anda: {}."},
    {"method_removed", NULL, "Sign-in method removed",
     "A sign-in method was removed from your account: {}.",
     "Metode masuk dihapus dari akun Anda: {}."},
    {"mfa_state_changed", "by_admin", "Multi-factor authentication changed",
     "An administrator changed multi-factor authentication for your account: {}.",
     "Administrator mengubah autentikasi multifaktor untuk akun Anda: {}."},
    {"password_changed", NULL, "Password changed", "Your password was changed.",
     "Kata sandi Anda diubah."},
    {"password_reset", NULL, "Password reset", "An administrator reset your password.",
     "Administrator mereset kata sandi Anda."},
    {"sign_in", "new_network", "Sign-in from a new network",
     "Your account was signed in to from a network it had not used before: {}.",
     "Akun Anda dimasuki dari jaringan yang belum pernah digunakan: {}."},
    {"account_locked", NULL, "Account locked",
     "Your account's password was locked after too many wrong passwords ({}). App passwords "
     "go on working.",
     "Kata sandi akun Anda terkunci setelah terlalu banyak kata sandi yang salah ({}). Kata "
     "sandi aplikasi tetap berfungsi."},
    {"access_pass_issued", NULL, "Temporary access pass issued",
     "An administrator issued a temporary access pass for your account, valid until {}.",
     "Administrator menerbitkan kode akses sementara untuk akun Anda, berlaku sampai {}."},
};

/* pattern with its first "{}" replaced by value. */
static void fill(char *out, size_t size, const char *pattern, const char *value)
{
    const char *at = strstr(pattern, "{}");
    if (at == NULL) {
        snprintf(out, size, "%s", pattern);
        return;
    }
    snprintf(out, size, "%.*s%s%s", (int)(at - pattern), pattern, value, at + 2);
}

bool kunci_notify_message(const struct kunci_event *ev, char subject[KUNCI_NOTIFY_SUBJECT_MAX],
                          char text[KUNCI_NOTIFY_TEXT_MAX])
{
    if (ev->subject[0] == '\0' || strcmp(ev->outcome, "ok") != 0)
        return false;
    for (size_t i = 0; i < sizeof(wordings) / sizeof(wordings[0]); i++) {
        const struct wording *w = &wordings[i];
        if (strcmp(w->event, ev->event) != 0 ||
            (w->reason != NULL && strcmp(w->reason, ev->reason) != 0))
            continue;
        char what[KUNCI_EVENT_DETAIL_MAX + KUNCI_IP_MAX + KUNCI_EVENT_AGENT_MAX + 8];
        if (strcmp(ev->event, "sign_in") == 0 || strcmp(ev->event, "account_locked") == 0)
            snprintf(what, sizeof(what), "%s%s%s", ev->client_ip[0] ? ev->client_ip : "?",
                     ev->agent[0] ? ", " : "", ev->agent);
        else
            snprintf(what, sizeof(what), "%s", ev->detail);
        char when[32], en[512], id[512];
        kunci_time_format(ev->at, when, sizeof(when));
        snprintf(subject, KUNCI_NOTIFY_SUBJECT_MAX, "%s", w->subject);
        fill(en, sizeof(en), w->en, what);
        fill(id, sizeof(id), w->id, what);
        snprintf(text, KUNCI_NOTIFY_TEXT_MAX,
                 "%s\n(%s UTC, account %s)\n\nIf this wasn't you: sign in, open Security info > "
                 "Recent activity and choose \"This wasn't me\", then tell your administrator.\n"
                 "\n---\n\n%s\n\nJika ini bukan Anda: masuk, buka Info keamanan > Aktivitas "
                 "terbaru dan pilih \"Ini bukan saya\", lalu beri tahu administrator Anda.\n",
                 en, when, ev->subject, id);
        return true;
    }
    return false;
}
