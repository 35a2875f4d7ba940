/* The JSON views of what the API shows: the session, the methods, an app password. */
#include "web/views.h"
#include "web/api.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/protocol.h"
#include "core/settings.h"
#include "core/timespec.h"
#include "core/webauthn.h"

json_t *web_session_json(struct web_request *rq)
{
    if (!rq->has_session || rq->session.stage == KUNCI_SESSION_RESET)
        return json_pack("{s:b}", "signed_in", 0);
    const struct kunci_account *a = &rq->account;
    json_t *out =
        json_pack("{s:b, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:b}, s:o}", "signed_in", 1, "next",
                  kunci_next_step_name(web_next(rq)), "csrf", rq->session.csrf, "user", "login",
                  a->login, "display_name", a->display_name, "role", kunci_role_name(a->role),
                  "mfa_state", kunci_mfa_state_name(a->mfa_state), "must_change_password",
                  a->must_change_password, "methods", web_methods_json(rq));
    /* mfa_phishing_resistant_required: only passkeys are offered where it names the user. */
    bool named = web_passkey_named(rq);
    json_object_set_new(out, "passkey_required", json_boolean(named));
    if (named && web_next(rq) == KUNCI_NEXT_SECOND_FACTOR) {
        /* web_passkey_only, from the methods listed above rather than read again */
        bool has = false;
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(out, "methods"), i, m) has =
            has || strcmp(json_string_value(json_object_get(m, "kind")), "passkey") == 0;
        json_object_set_new(out, "passkey_only", json_boolean(has));
    }
    int total = 0, unused = 0;
    int64_t made = 0;
    char made_at[32];
    if (out != NULL &&
        kunci_store_backup_codes_count(rq->h, a->id, &total, &unused, &made) == KUNCI_OK &&
        total > 0) {
        kunci_time_format(made, made_at, sizeof(made_at));
        json_object_set_new(
            out, "backup_codes",
            json_pack("{s:i, s:i, s:s}", "total", total, "unused", unused, "created_at", made_at));
    }
    /* While MFA is required and not set up: the mail apps that "enforced" will cut off, and
     * how long set-up may still be put off ("Not now"). */
    if (out != NULL && a->mfa_state == KUNCI_MFA_ENABLED) {
        json_t *legacy = web_legacy_clients(rq, a->id);
        json_object_set_new(out, "account_password_clients", legacy ? legacy : json_array());
        bool allowed = false;
        int64_t until = 0;
        char when[32];
        if (kunci_setup_grace(rq->h, a, rq->now, false, &allowed, &until) == KUNCI_OK &&
            until != 0) {
            kunci_time_format(until, when, sizeof(when));
            json_object_set_new(out, "setup_grace",
                                json_pack("{s:b, s:s}", "allowed", allowed, "until", when));
        }
    }
    return out;
}

/* "+62 ••••••7890", "a•••@example.org": enough to recognise, not to harvest. */
static void mask_target(const struct kunci_mfa_method *m, char *out, size_t size)
{
    const char *t = m->target;
    if (m->kind == KUNCI_METHOD_EMAIL) {
        const char *at = strchr(t, '@');
        snprintf(out, size, "%c\u2022\u2022\u2022%s", t[0], at ? at : "");
    } else if (m->kind == KUNCI_METHOD_PHONE) {
        size_t len = strlen(t);
        const char *space = strchr(t, ' ');
        int cc = space ? (int)(space - t) : 0;
        snprintf(out, size, "%.*s \u2022\u2022\u2022\u2022%s", cc, t, len > 4 ? t + len - 4 : t);
    } else if (m->kind == KUNCI_METHOD_PASSKEY) {
        snprintf(out, size, "%s", t); /* the name its owner gave it */
    } else {
        out[0] = '\0';
    }
}

void web_method_label(const struct kunci_mfa_method *m, char *out, size_t size)
{
    char masked[300];
    mask_target(m, masked, sizeof(masked));
    snprintf(out, size, "%s%s%s", kunci_method_kind_name(m->kind), masked[0] ? " " : "", masked);
}

void web_method_label_of(struct web_request *rq, int64_t id, const char *fallback, char *out,
                         size_t size)
{
    struct kunci_mfa_method m;
    snprintf(out, size, "%s", fallback);
    if (kunci_store_method_get(rq->h, rq->account.id, id, &m) == KUNCI_OK)
        web_method_label(&m, out, size);
}

static int add_method(void *arg, const struct kunci_mfa_method *m)
{
    char masked[300], added[32];
    if (!m->verified)
        return 0;
    mask_target(m, masked, sizeof(masked));
    kunci_time_format(m->created_at, added, sizeof(added));
    json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:b, s:s}", "id", (json_int_t)m->id,
                                         "kind", kunci_method_kind_name(m->kind), "target", masked,
                                         "channel", m->channel, "default", m->is_default,
                                         "created_at", added));
    return 0;
}

/* The providers' table (web/passkey-providers.json), read once: it is data kunci ships, so
 * a missing or damaged file only leaves passkeys with their default names. */
static json_t *providers;
static bool providers_read;
static pthread_mutex_t providers_lock = PTHREAD_MUTEX_INITIALIZER;

const char *web_passkey_provider(const char *web_root, const uint8_t aaguid[16])
{
    char id[37], path[4200];
    pthread_mutex_lock(&providers_lock);
    if (!providers_read) {
        snprintf(path, sizeof(path), "%s/passkey-providers.json", web_root);
        providers = json_load_file(path, 0, NULL);
        providers_read = true;
    }
    pthread_mutex_unlock(&providers_lock);
    kunci_aaguid_format(aaguid, id);
    /* Read-only from here on: jansson's lookups of an unchanging object are safe together. */
    return json_string_value(json_object_get(providers, id));
}

struct passkey_details {
    json_t *list;
    const char *web_root;
};

/* A passkey's details beside its method: last used, synced, where it lives. */
static int add_passkey_details(void *arg, const struct kunci_passkey *pk)
{
    struct passkey_details *d = arg;
    json_t *m;
    size_t i;
    char used[32] = "", aaguid[37];
    json_array_foreach(d->list, i, m)
    {
        if (json_integer_value(json_object_get(m, "id")) != pk->method_id)
            continue;
        if (pk->last_used_at != 0)
            kunci_time_format(pk->last_used_at, used, sizeof(used));
        kunci_aaguid_format(pk->aaguid, aaguid);
        json_t *more = json_pack("{s:s?, s:b, s:b, s:s, s:s, s:s?}", "last_used_at",
                                 used[0] ? used : NULL, "discoverable", pk->discoverable, "synced",
                                 pk->backup_state, "transports", pk->transports, "aaguid", aaguid,
                                 "provider", web_passkey_provider(d->web_root, pk->aaguid));
        json_object_update(m, more);
        json_decref(more);
    }
    return 0;
}

json_t *web_methods_json(struct web_request *rq)
{
    json_t *list = json_array();
    kunci_store_best_effort(kunci_store_method_list(rq->h, rq->account.id, add_method, list));
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        if (strcmp(json_string_value(json_object_get(m, "kind")), "passkey") == 0) {
            struct passkey_details d = {list, rq->ctx->cfg.web_root};
            kunci_store_best_effort(
                kunci_store_passkey_list(rq->h, rq->account.id, add_passkey_details, &d));
            break;
        }
    }
    return list;
}

json_t *web_app_password_json(const struct kunci_app_password *ap)
{
    char created[32], expires[32], used[32];
    json_t *protocols = json_array();

    for (unsigned bit = KUNCI_PROTO_IMAP; bit <= KUNCI_PROTO_EWS; bit <<= 1)
        if (ap->protocols & bit)
            json_array_append_new(protocols, json_string(kunci_protocol_name(bit)));
    kunci_time_format(ap->created_at, created, sizeof(created));
    kunci_time_format(ap->expires_at, expires, sizeof(expires));
    kunci_time_format(ap->last_used_at, used, sizeof(used));
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s?, s:o}", "id", (json_int_t)ap->id, "name",
                     ap->name, "protocols", protocols, "networks", ap->networks, "created_at",
                     created, "expires_at", ap->expires_at ? expires : NULL, "last_used",
                     ap->last_used_at
                         ? json_pack("{s:s, s:s, s:s}", "at", used, "ip", ap->last_used_ip,
                                     "protocol", ap->last_used_protocol)
                         : json_null());
}

json_int_t web_resend_after(struct web_request *rq)
{
    struct kunci_settings s;
    return kunci_settings_load(rq->h, &s) == KUNCI_OK ? s.code_resend_seconds : 60;
}
