/* Self-service password reset (password_reset_allowed, off by default): a code to the
 * account's phone or alternate e-mail, then its other method if it has one, then a new
 * password. The first answer is the same whether the account exists or not. */
#include "web/api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/login.h"
#include "core/mfa.h"
#include "core/session.h"
#include "core/settings.h"
#include "delivery/delivery.h"

struct pick {
    int64_t first; /* the code method the reset starts with */
    bool is_default;
    int others; /* verified methods besides it */
};

static int pick_method(void *arg, const struct kunci_mfa_method *m)
{
    struct pick *p = arg;
    if (!m->verified)
        return 0;
    /* The default phone or e-mail if it is one, else the first of them. */
    if (m->kind != KUNCI_METHOD_TOTP && (p->first == 0 || (m->is_default && !p->is_default))) {
        if (p->first != 0)
            p->others++;
        p->first = m->id;
        p->is_default = m->is_default;
    } else {
        p->others++;
    }
    return 0;
}

/* The method a reset of this account starts with (0: none can), and how many others. */
static struct pick reset_methods(struct web_request *rq)
{
    struct pick p = {0, false, 0};
    kunci_store_best_effort(kunci_store_method_list(rq->h, rq->account.id, pick_method, &p));
    return p;
}

static bool reset_allowed(struct web_request *rq, enum MHD_Result *ret_r)
{
    struct kunci_settings s;
    int r = kunci_settings_load(rq->h, &s);
    if (r != KUNCI_OK) {
        *ret_r = api_fail(rq, r);
        return false;
    }
    if (!s.password_reset_allowed) {
        *ret_r = api_error(rq, 403, "password_reset_off",
                           "Your organization does not offer resetting the password here. "
                           "Contact your administrator.");
        return false;
    }
    return true;
}

enum MHD_Result api_reset_begin(struct web_request *rq)
{
    const char *login = web_body_string(rq, "login");
    char canonical[KUNCI_LOGIN_MAX + 1], token[KUNCI_TOKEN_MAX], err[256] = "";
    enum MHD_Result ret;

    if (!reset_allowed(rq, &ret))
        return ret;
    if (login == NULL || kunci_login_canonical(login, strlen(login), canonical) != KUNCI_OK)
        return api_error(rq, 400, "bad_login", "Enter your account, like name@example.org.");
    struct kunci_delivery_request dr = {kunci_ctx_live(rq->ctx), web_language(rq)};
    struct kunci_session fresh;
    json_t *out = json_pack("{s:b}", "sent", 1);
    bool started = false;
    if (kunci_account_get(rq->h, canonical, &rq->account) == KUNCI_OK && rq->account.enabled) {
        struct pick p = reset_methods(rq);
        int64_t retry_after = 0;
        if (p.first != 0 &&
            kunci_mfa_send_code(rq->ctx, rq->h, &rq->account, p.first, rq->now, kunci_delivery_send,
                                &dr, err, sizeof(err), &retry_after) == KUNCI_OK &&
            kunci_session_start(rq->ctx, rq->h, rq->account.id, KUNCI_SESSION_RESET, rq->now, token,
                                &fresh) == KUNCI_OK &&
            /* Nothing proven yet, no password typed: in a reset session password_at holds the
             * second proof. */
            (fresh.password_at = 0, kunci_store_session_update(rq->h, &fresh)) == KUNCI_OK) {
            rq->session = fresh;
            rq->has_session = true;
            web_set_session_cookie(rq, token, false);
            json_object_set_new(out, "csrf", json_string(fresh.csrf));
            web_event(rq, "password_reset_started", NULL, NULL, NULL, NULL);
            started = true;
        }
    }
    if (!started) {
        /* No account, no method to send to, or a code that could not go out: the same
         * answer, with a cookie and a token that lead nowhere. */
        char csrf[KUNCI_TOKEN_MAX];
        kunci_random_token(token);
        kunci_random_token(csrf);
        web_set_session_cookie(rq, token, false);
        json_object_set_new(out, "csrf", json_string(csrf));
    }
    sodium_memzero(token, sizeof(token));
    return api_json(rq, 200, out);
}

static json_t *other_methods(struct web_request *rq, int64_t first)
{
    json_t *all = web_methods_json(rq), *v, *out = json_array();
    size_t i;
    json_array_foreach(all, i, v)
    {
        if (json_integer_value(json_object_get(v, "id")) != first)
            json_array_append(out, v);
    }
    json_decref(all);
    return out;
}

enum MHD_Result api_reset_verify(struct web_request *rq)
{
    const char *code = web_body_string(rq, "code");
    int64_t retry_after = 0;
    enum MHD_Result ret;

    if (!reset_allowed(rq, &ret))
        return ret;
    struct pick p = reset_methods(rq);
    if (code == NULL || p.first == 0)
        return api_error(rq, 400, "wrong_code", "That code didn't work. Check it and try again.");
    int r = kunci_mfa_check(rq->ctx, rq->h, &rq->account, p.first, code, rq->now, &retry_after);
    if (r != KUNCI_OK)
        return web_code_error(rq, r, retry_after);
    rq->session.mfa_at = rq->now;
    if ((r = kunci_store_session_update(rq->h, &rq->session)) != KUNCI_OK)
        return api_fail(rq, r);
    if (p.others == 0)
        return api_json(rq, 200, json_pack("{s:s}", "next", "new_password"));
    return api_json(
        rq, 200,
        json_pack("{s:s, s:o}", "next", "second_factor", "methods", other_methods(rq, p.first)));
}

/* A code for the second method, when it is a phone or an address. */
enum MHD_Result api_reset_code(struct web_request *rq)
{
    json_t *id = json_object_get(rq->body, "method_id");
    struct kunci_delivery_request dr = {kunci_ctx_live(rq->ctx), web_language(rq)};
    char err[256] = "";
    int64_t retry_after = 0;

    struct pick p = reset_methods(rq);
    if (rq->session.mfa_at == 0 || !json_is_integer(id) || json_integer_value(id) == p.first)
        return api_error(rq, 409, "verify_first", "Enter the first code first.");
    int r = kunci_mfa_send_code(rq->ctx, rq->h, &rq->account, json_integer_value(id), rq->now,
                                kunci_delivery_send, &dr, err, sizeof(err), &retry_after);
    if (r == KUNCI_ERR_RATE)
        return web_codes_refused(rq, retry_after);
    if (r != KUNCI_OK)
        return api_fail(rq, r == KUNCI_ERR_INVALID ? KUNCI_ERR_NOT_FOUND : r);
    return api_json(rq, 200, json_pack("{s:b}", "sent", 1));
}

enum MHD_Result api_reset_second(struct web_request *rq)
{
    json_t *id = json_object_get(rq->body, "method_id");
    const char *code = web_body_string(rq, "code");
    int64_t retry_after = 0;

    struct pick p = reset_methods(rq);
    if (rq->session.mfa_at == 0 || !json_is_integer(id) || json_integer_value(id) == p.first ||
        code == NULL)
        return api_error(rq, 409, "verify_first", "Enter the first code first.");
    int r = kunci_mfa_check(rq->ctx, rq->h, &rq->account, json_integer_value(id), code, rq->now,
                            &retry_after);
    if (r != KUNCI_OK)
        return web_code_error(rq, r, retry_after);
    rq->session.password_at = rq->now; /* in a reset session: the second proof */
    if ((r = kunci_store_session_update(rq->h, &rq->session)) != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, json_pack("{s:s}", "next", "new_password"));
}

enum MHD_Result api_reset_complete(struct web_request *rq)
{
    const char *fresh = web_body_string(rq, "new");
    bool revoked = false;
    enum MHD_Result ret;

    if (!reset_allowed(rq, &ret))
        return ret;
    struct pick p = reset_methods(rq);
    if (rq->session.mfa_at == 0 || (p.others > 0 && rq->session.password_at == 0))
        return api_error(rq, 409, "verify_first", "Enter the codes first.");
    if (fresh == NULL)
        return api_error(rq, 400, "invalid", "Enter your new password.");
    rq->account.must_change_password = false;
    /* The rule is checked there; every session ends, this one too, and remembered devices
     * are forgotten. */
    int r = kunci_account_set_password(rq->ctx, rq->h, &rq->account, fresh, strlen(fresh), rq->now,
                                       0, &revoked);
    if (r != KUNCI_OK)
        return web_password_set_failed(rq, r);
    web_event(rq, "password_changed", NULL, NULL, "self_service_reset", NULL);
    rq->has_session = false;
    web_set_session_cookie(rq, "", true);
    return api_json(rq, 200, json_pack("{s:b, s:b}", "done", 1, "app_passwords_revoked", revoked));
}
