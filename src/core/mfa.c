#include "core/mfa.h"
#include "core/err.h"
#include "core/guard.h"
#include "core/login.h"
#include "core/secret.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int kunci_phone_canonical(const char *country_code, const char *number, char *out, size_t out_size)
{
    char digits[24];
    size_t n = 0;

    const char *cc = country_code[0] == '+' ? country_code + 1 : country_code;
    size_t cc_len = strlen(cc);
    if (cc_len < 1 || cc_len > 3 || strspn(cc, "0123456789") != cc_len || cc[0] == '0')
        return KUNCI_ERR_INVALID;
    for (const char *p = number; *p != '\0'; p++) {
        if (*p == ' ' || *p == '-' || *p == '(' || *p == ')')
            continue;
        if (*p < '0' || *p > '9' || n + 1 >= sizeof(digits))
            return KUNCI_ERR_INVALID;
        digits[n++] = *p;
    }
    digits[n] = '\0';
    /* A leading trunk 0 (081234... in Indonesia) is not dialled after the country code. */
    const char *d = digits[0] == '0' ? digits + 1 : digits;
    if (strlen(d) < 4 || strlen(d) + cc_len > 15) /* E.164: at most 15 digits */
        return KUNCI_ERR_INVALID;
    int w = snprintf(out, out_size, "+%s %s", cc, d);
    return w > 0 && (size_t)w < out_size ? KUNCI_OK : KUNCI_ERR_TOO_LONG;
}

int kunci_email_check(const char *address)
{
    char canon[KUNCI_LOGIN_MAX + 1];
    return kunci_login_canonical(address, strlen(address), canon) == KUNCI_OK &&
                   strcmp(canon, address) == 0 && strchr(strchr(address, '@'), '.') != NULL
               ? KUNCI_OK
               : KUNCI_ERR_INVALID;
}

static void code_hash(const struct kunci_ctx *ctx, int64_t method_id, const char *code,
                      uint8_t out[KUNCI_TOKEN_HASH_BYTES])
{
    crypto_auth_hmacsha256_state st;
    char id[24];

    snprintf(id, sizeof(id), "%lld:", (long long)method_id);
    crypto_auth_hmacsha256_init(&st, ctx->keys->tokens, KUNCI_SUBKEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)code, strlen(code));
    crypto_auth_hmacsha256_final(&st, out);
}

struct id_list {
    int64_t ids[32];
    size_t n;
    int verified;
    int64_t default_id;
    int64_t first_verified;
};

static int collect_methods(void *arg, const struct kunci_mfa_method *m)
{
    struct id_list *l = arg;
    if (m->verified) {
        if (l->verified++ == 0)
            l->first_verified = m->id;
        if (m->is_default)
            l->default_id = m->id;
    } else if (l->n < sizeof(l->ids) / sizeof(l->ids[0])) {
        l->ids[l->n++] = m->id;
    }
    return 0;
}

/* Drops registrations that were started and never verified. Collected first: deleting
 * while the list statement runs is not allowed. */
static int delete_unfinished(struct kunci_store_handle *h, int64_t account_id,
                             const struct id_list *l)
{
    int r = KUNCI_OK;
    for (size_t i = 0; r == KUNCI_OK && i < l->n; i++)
        r = kunci_store_method_delete(h, account_id, l->ids[i]);
    return r;
}

static int forget_unfinished(struct kunci_store_handle *h, int64_t account_id)
{
    struct id_list l = {.n = 0};
    int r = kunci_store_method_list(h, account_id, collect_methods, &l);
    return r == KUNCI_OK ? delete_unfinished(h, account_id, &l) : r;
}

int kunci_mfa_verified_count(struct kunci_store_handle *h, int64_t account_id, int *count_r,
                             int64_t *default_id_r)
{
    struct id_list l = {.n = 0};
    int r = kunci_store_method_list(h, account_id, collect_methods, &l);
    *count_r = l.verified;
    if (default_id_r != NULL)
        *default_id_r = l.default_id;
    return r;
}

/* A registration started and not verified stays pending this long: a reload, Back or a
 * second tab shows the same secret, so the entry already scanned keeps working. */
#define TOTP_PENDING_SECONDS 1800

/* One pass over the methods: the unfinished ones, and among them a recent TOTP one. */
struct pending_totp {
    struct id_list unfinished;
    int64_t now;
    bool found;
    struct kunci_mfa_method m;
};

static int find_pending_totp(void *arg, const struct kunci_mfa_method *m)
{
    struct pending_totp *p = arg;
    collect_methods(&p->unfinished, m);
    if (!p->found && !m->verified && m->kind == KUNCI_METHOD_TOTP && m->created_at <= p->now &&
        p->now - m->created_at < TOTP_PENDING_SECONDS) {
        p->m = *m;
        p->found = true;
    }
    return 0;
}

int kunci_mfa_totp_begin(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const struct kunci_account *acct, const char *issuer, int64_t now,
                         struct kunci_totp_enrollment *out)
{
    struct pending_totp pending = {.unfinished = {.n = 0}, .now = now, .found = false};
    struct kunci_mfa_method m;
    uint8_t secret[KUNCI_TOTP_SECRET_BYTES];
    size_t secret_len = 0;
    int r;

    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    if ((r = kunci_store_method_list(h, acct->id, find_pending_totp, &pending)) != KUNCI_OK)
        return r;
    if (pending.found &&
        kunci_unseal(ctx->keys, pending.m.secret, pending.m.secret_len, secret, sizeof(secret),
                     &secret_len) == KUNCI_OK &&
        secret_len == sizeof(secret)) {
        m = pending.m; /* the same secret and method as before */
    } else {
        if ((r = delete_unfinished(h, acct->id, &pending.unfinished)) != KUNCI_OK)
            goto out;
        kunci_totp_secret_new(secret);
        m.account_id = acct->id;
        m.kind = KUNCI_METHOD_TOTP;
        m.created_at = now;
        r = kunci_seal(ctx->keys, secret, sizeof(secret), m.secret, sizeof(m.secret),
                       &m.secret_len);
        if (r == KUNCI_OK)
            r = kunci_store_method_insert(h, &m);
    }
    if (r == KUNCI_OK)
        r = kunci_totp_base32(secret, sizeof(secret), out->base32);
    if (r == KUNCI_OK)
        r = kunci_totp_uri(issuer, acct->login, out->base32, out->uri, sizeof(out->uri));
    out->method_id = m.id;
out:
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(&m, sizeof(m));
    sodium_memzero(&pending, sizeof(pending));
    if (r != KUNCI_OK)
        sodium_memzero(out, sizeof(*out));
    return r;
}

/* Where a code goes, as a keyed hash: the same phone or address under any account. */
static void destination_key(const struct kunci_ctx *ctx, const struct kunci_mfa_method *m,
                            uint8_t out[KUNCI_DIGEST_BYTES])
{
    crypto_auth_hmacsha256_state st;
    const char *kind = m->kind == KUNCI_METHOD_EMAIL ? "email:" : "phone:";

    crypto_auth_hmacsha256_init(&st, ctx->keys->tokens, KUNCI_SUBKEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"code-destination:", 17);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)kind, strlen(kind));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)m->target, strlen(m->target));
    crypto_auth_hmacsha256_final(&st, out);
}

/* The limits on codes sent, checked and the send recorded in one transaction, so requests
 * sent at once cannot outrun them. */
static int may_send(const struct kunci_settings *s, const struct kunci_code_sends *n,
                    bool registering, int64_t now, int64_t *retry_after_r)
{
    int64_t since_last = now - n->destination_last;
    if (n->destination_last != 0 && since_last < s->code_resend_seconds) {
        *retry_after_r = s->code_resend_seconds - since_last;
        return KUNCI_ERR_RATE;
    }
    if (n->account_recent >= s->codes_per_15_minutes ||
        n->destination_recent >= s->codes_per_15_minutes) {
        *retry_after_r = 15 * 60;
        return KUNCI_ERR_RATE;
    }
    if (n->account_day >= s->codes_per_day || n->destination_day >= s->codes_per_day ||
        (registering && !n->destination_registering &&
         n->registering_destinations >= s->code_destinations_per_day)) {
        *retry_after_r = 86400;
        return KUNCI_ERR_RATE;
    }
    return KUNCI_OK;
}

static int count_send(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                      const struct kunci_account *acct, const struct kunci_mfa_method *m,
                      bool registering, int64_t now, int64_t *retry_after_r)
{
    struct kunci_settings s;
    struct kunci_code_sends n;
    uint8_t dest[KUNCI_DIGEST_BYTES];
    int64_t ignored = 0;

    if (retry_after_r == NULL)
        retry_after_r = &ignored;
    *retry_after_r = 0;
    int r = kunci_settings_load(h, &s);
    if (r != KUNCI_OK || (r = kunci_store_begin(h)) != KUNCI_OK)
        return r;
    destination_key(ctx, m, dest);
    r = kunci_store_code_sends(h, acct->id, dest, now - 15 * 60, now - 86400, &n);
    if (r == KUNCI_OK)
        r = may_send(&s, &n, registering, now, retry_after_r);
    if (r == KUNCI_OK)
        r = kunci_store_code_send_record(h, acct->id, dest, registering, now);
    return kunci_store_finish(h, r);
}

static int issue_code(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                      const struct kunci_account *acct, const struct kunci_mfa_method *m,
                      int64_t now, kunci_send_fn send, void *send_arg, char *err, size_t err_size)
{
    struct kunci_code c;
    struct kunci_message msg;
    char code[KUNCI_CODE_DIGITS + 1], text[256];

    memset(&c, 0, sizeof(c));
    kunci_random_string(code, KUNCI_CODE_DIGITS, "0123456789");
    c.account_id = acct->id;
    c.method_id = m->id;
    c.expires_at = now + KUNCI_CODE_LIFETIME;
    code_hash(ctx, m->id, code, c.code_hash);
    int r = kunci_store_code_put(h, &c);
    if (r != KUNCI_OK)
        return r;
    snprintf(text, sizeof(text),
             "Your verification code is %s. It expires in 10 minutes. If you did not ask for "
             "it, tell your administrator.",
             code);
    msg.channel = m->kind == KUNCI_METHOD_EMAIL      ? KUNCI_CHANNEL_EMAIL
                  : strcmp(m->channel, "voice") == 0 ? KUNCI_CHANNEL_VOICE
                                                     : KUNCI_CHANNEL_SMS;
    msg.to = m->target;
    msg.login = acct->login;
    msg.code = code;
    msg.subject = "Your verification code";
    msg.text = text;
    r = send(send_arg, &msg, err, err_size);
    sodium_memzero(code, sizeof(code));
    sodium_memzero(text, sizeof(text));
    if (r != KUNCI_OK) {
        struct kunci_code stored;
        if (kunci_store_code_get(h, acct->id, m->id, &stored) == KUNCI_OK)
            kunci_store_best_effort(kunci_store_code_delete(h, stored.id));
        return KUNCI_ERR_DELIVERY;
    }
    return KUNCI_OK;
}

int kunci_mfa_code_begin(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const struct kunci_account *acct, enum kunci_method_kind kind,
                         const char *target, const char *channel, int64_t now, kunci_send_fn send,
                         void *send_arg, char *err, size_t err_size, int64_t *method_id_r,
                         int64_t *retry_after_r)
{
    struct kunci_mfa_method m;
    int r;

    *method_id_r = 0;
    memset(&m, 0, sizeof(m));
    if (kind != KUNCI_METHOD_PHONE && kind != KUNCI_METHOD_EMAIL)
        return KUNCI_ERR_INVALID;
    if (kind == KUNCI_METHOD_PHONE && strcmp(channel, "sms") != 0 && strcmp(channel, "voice") != 0)
        return KUNCI_ERR_INVALID;
    if (kind == KUNCI_METHOD_EMAIL && kunci_email_check(target) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    if ((r = forget_unfinished(h, acct->id)) != KUNCI_OK)
        return r;
    m.account_id = acct->id;
    m.kind = kind;
    m.created_at = now;
    snprintf(m.target, sizeof(m.target), "%s", target);
    snprintf(m.channel, sizeof(m.channel), "%s", kind == KUNCI_METHOD_PHONE ? channel : "");
    if ((r = count_send(ctx, h, acct, &m, true, now, retry_after_r)) != KUNCI_OK)
        return r;
    if ((r = kunci_store_method_insert(h, &m)) != KUNCI_OK)
        return r;
    r = issue_code(ctx, h, acct, &m, now, send, send_arg, err, err_size);
    if (r != KUNCI_OK) {
        kunci_store_best_effort(
            kunci_store_method_delete(h, acct->id, m.id)); /* nothing half-registered */
        return r;
    }
    *method_id_r = m.id;
    return KUNCI_OK;
}

int kunci_mfa_send_code(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        const struct kunci_account *acct, int64_t method_id, int64_t now,
                        kunci_send_fn send, void *send_arg, char *err, size_t err_size,
                        int64_t *retry_after_r)
{
    struct kunci_mfa_method m;
    int r = kunci_store_method_get(h, acct->id, method_id, &m);
    if (r != KUNCI_OK)
        return r;
    if (m.kind == KUNCI_METHOD_TOTP)
        return KUNCI_ERR_INVALID;
    r = count_send(ctx, h, acct, &m, !m.verified, now, retry_after_r);
    if (r == KUNCI_OK)
        r = issue_code(ctx, h, acct, &m, now, send, send_arg, err, err_size);
    sodium_memzero(&m, sizeof(m));
    return r;
}

static int check_totp(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                      const struct kunci_mfa_method *m, const char *code, int64_t now)
{
    uint8_t secret[KUNCI_TOTP_SECRET_BYTES];
    size_t len;
    int64_t step;

    int r = kunci_unseal(ctx->keys, m->secret, m->secret_len, secret, sizeof(secret), &len);
    if (r != KUNCI_OK)
        return r;
    r = kunci_totp_check(secret, len, code, now, &step);
    sodium_memzero(secret, sizeof(secret));
    if (r != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    /* Accepted once: the step must be later than any accepted before. */
    r = kunci_store_method_use_totp_step(h, m->id, step);
    return r == KUNCI_ERR_EXISTS ? KUNCI_ERR_REUSED : r;
}

static int check_sent_code(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                           const struct kunci_account *acct, const struct kunci_mfa_method *m,
                           const char *code, int64_t now)
{
    struct kunci_code c;
    uint8_t hash[KUNCI_TOKEN_HASH_BYTES];

    int r = kunci_store_code_get(h, acct->id, m->id, &c);
    if (r != KUNCI_OK)
        return r;
    if (now >= c.expires_at) {
        kunci_store_best_effort(kunci_store_code_delete(h, c.id));
        return KUNCI_ERR_EXPIRED;
    }
    if (c.attempts >= KUNCI_CODE_MAX_ATTEMPTS) {
        kunci_store_best_effort(kunci_store_code_delete(h, c.id));
        return KUNCI_ERR_LIMIT;
    }
    if (strlen(code) != KUNCI_CODE_DIGITS || strspn(code, "0123456789") != KUNCI_CODE_DIGITS) {
        memset(hash, 0, sizeof(hash));
    } else {
        code_hash(ctx, m->id, code, hash);
    }
    if (sodium_memcmp(hash, c.code_hash, sizeof(hash)) != 0) {
        r = kunci_store_code_count_attempt(h, c.id);
        if (r != KUNCI_OK)
            return r;
        if (c.attempts + 1 >= KUNCI_CODE_MAX_ATTEMPTS) {
            kunci_store_best_effort(kunci_store_code_delete(h, c.id));
            return KUNCI_ERR_LIMIT;
        }
        return KUNCI_ERR_INVALID;
    }
    return kunci_store_code_delete(h, c.id); /* single use */
}

int kunci_mfa_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                    const struct kunci_account *acct, int64_t method_id, const char *code,
                    int64_t now, int64_t *retry_after_r)
{
    struct kunci_mfa_method m;
    struct kunci_settings s;
    struct kunci_guard_result g;

    if (retry_after_r != NULL)
        *retry_after_r = 0;
    int r = kunci_store_method_get(h, acct->id, method_id, &m);
    if (r != KUNCI_OK)
        return r;
    /* Counted before it is checked, per account: not per session, not per code sent. */
    r = kunci_settings_load(h, &s);
    if (r == KUNCI_OK)
        r = kunci_guard_code_begin(h, &s, acct->id, acct->login, now, &g);
    if (r == KUNCI_OK && g.verdict != KUNCI_GUARD_GO) {
        if (retry_after_r != NULL)
            *retry_after_r = g.retry_after;
        r = KUNCI_ERR_LOCKED;
    }
    if (r == KUNCI_OK)
        r = m.kind == KUNCI_METHOD_TOTP ? check_totp(ctx, h, &m, code, now)
                                        : check_sent_code(ctx, h, acct, &m, code, now);
    if (r == KUNCI_OK)
        (void)kunci_guard_code_success(h, acct->id); /* best effort: it stays counted */
    sodium_memzero(&m, sizeof(m));
    return r;
}

int kunci_mfa_verify_method(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            const struct kunci_account *acct, int64_t method_id, const char *code,
                            int64_t now, int64_t *retry_after_r)
{
    int r = kunci_mfa_check(ctx, h, acct, method_id, code, now, retry_after_r);
    if (r != KUNCI_OK)
        return r;
    return kunci_store_method_verify(h, acct->id, method_id);
}

int kunci_mfa_complete(struct kunci_store_handle *h, struct kunci_account *acct)
{
    int count = 0;
    int r = kunci_mfa_verified_count(h, acct->id, &count, NULL);
    if (r != KUNCI_OK)
        return r;
    if (count == 0)
        return KUNCI_ERR_POLICY;
    if (acct->mfa_state == KUNCI_MFA_ENABLED) {
        acct->mfa_state = KUNCI_MFA_ENFORCED;
        return kunci_store_account_update(h, acct, 0, 0);
    }
    return KUNCI_OK;
}

int kunci_mfa_remove(struct kunci_store_handle *h, const struct kunci_account *acct,
                     int64_t method_id)
{
    struct kunci_mfa_method m;
    int count = 0;
    int64_t default_id = 0;

    int r = kunci_store_method_get(h, acct->id, method_id, &m);
    if (r == KUNCI_OK)
        r = kunci_mfa_verified_count(h, acct->id, &count, &default_id);
    if (r != KUNCI_OK)
        return r;
    if (m.verified && count <= 1 && acct->mfa_state != KUNCI_MFA_DISABLED)
        return KUNCI_ERR_POLICY; /* the last method while MFA is required */
    r = kunci_store_method_delete(h, acct->id, method_id);
    if (r == KUNCI_OK && default_id == method_id) {
        /* Another verified method becomes the default. */
        struct id_list l = {.n = 0};
        r = kunci_store_method_list(h, acct->id, collect_methods, &l);
        if (r == KUNCI_OK && l.verified > 0)
            r = kunci_store_method_set_default(h, acct->id, l.first_verified);
    }
    return r;
}

const char *kunci_channel_name(enum kunci_channel channel)
{
    switch (channel) {
    case KUNCI_CHANNEL_SMS:
        return "sms";
    case KUNCI_CHANNEL_VOICE:
        return "voice";
    case KUNCI_CHANNEL_EMAIL:
        return "email";
    }
    return "unknown";
}
