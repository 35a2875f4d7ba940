/* Every store operation, written once over a database driver (driver.h): the statements
 * (statements.h), their arguments, the row decoders and the rules that fail closed (an
 * unreadable MFA state reads as enforced, an unreadable scope allows no protocol). */
#include "core/err.h"
#include "core/metrics.h"
#include "core/protocol.h"
#include "core/settings.h"
#include "store/driver.h"
#include "store/lookup_cache.h"
#include "store/statements.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kunci_store {
    const struct kunci_sql_driver *driver;
    void *db;
    struct lookup_cache *cache;                /* NULL: none */
    bool in_transaction;                       /* what it reads may differ from what is committed */
    bool lookup_changed;                       /* this transaction wrote what a lookup reads */
    struct kunci_app_password_match looked_up; /* the last lookup's row, when not cached */
};

#define ARGS(...)                                                                                  \
    (const struct kunci_sql_arg[]){__VA_ARGS__},                                                   \
        (int)(sizeof((const struct kunci_sql_arg[]){__VA_ARGS__}) / sizeof(struct kunci_sql_arg))

/* The database's failures (not an answer like "not found"), for /metrics. */
static int counted(int r)
{
    if (r == KUNCI_ERR_TEMPFAIL || r == KUNCI_ERR_STORE_ACCESS || r == KUNCI_ERR_STORE_INVALID)
        kunci_metrics_store_error();
    return r;
}

/* ---- What this process changed ----
 *
 * A driver's generation may learn of a commit a little after it returns (PostgreSQL's
 * notifications travel through the server), so the commits of this very process are
 * counted here too: a check on the node that deleted an app password or disabled an account
 * refuses at once, and only other processes and nodes wait for the driver's bound. A
 * statement counts when it writes a table an app-password lookup reads (ST_AP_LOOKUP), but
 * not the columns it never reads (a last use, a last sign-in): those would empty the caches
 * for nothing. Counted after the commit, so a lookup that read the old row was tagged with
 * the count before. */
static atomic_ullong local_changes;
static bool changes_lookup[ST_COUNT];
static pthread_once_t changes_lookup_once = PTHREAD_ONCE_INIT;

static bool writes_lookup_table(const char *sql)
{
    static const char *const verbs[] = {"INSERT INTO ", "UPDATE ", "DELETE FROM "};
    static const char *const tables[] = {"accounts", "app_passwords", "settings"};
    for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
        size_t n = strlen(verbs[v]);
        if (strncmp(sql, verbs[v], n) != 0)
            continue;
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
            size_t m = strlen(tables[t]);
            if (strncmp(sql + n, tables[t], m) == 0 && strchr(" (", sql[n + m]) != NULL)
                return true;
        }
    }
    return false;
}

static void classify_statements(void)
{
    for (int i = 0; i < ST_COUNT; i++)
        changes_lookup[i] = writes_lookup_table(kunci_sql_text[i]);
    changes_lookup[ST_AP_TOUCH] = false;
    changes_lookup[ST_ACCOUNT_SIGNED_IN] = false;
    changes_lookup[ST_ACCOUNT_DEFER_SETUP] = false;
}

static int run_statement(struct kunci_store *s, int id, const struct kunci_sql_arg *args, int nargs,
                         kunci_sql_row_cb cb, void *arg, int64_t *changes_r)
{
    int r = counted(s->driver->run(s->db, id, args, nargs, cb, arg, changes_r));
    if (changes_lookup[id]) {
        if (s->in_transaction)
            s->lookup_changed = true; /* counted when it ends */
        else
            atomic_fetch_add(&local_changes, 1);
    }
    return r;
}

/* RUN(s, statement, row callback, its argument, changes_r, arguments...) */
#define RUN(s, id, cb, arg, changes, ...)                                                          \
    run_statement((s), (id), ARGS(__VA_ARGS__), (cb), (arg), (changes))
#define RUN0(s, id, cb, arg, changes) run_statement((s), (id), NULL, 0, (cb), (arg), (changes))

/* Seconds a successful sign-in from an address is remembered, and housekeeping ages. */
#define GUARD_KEEP_SECONDS   (90 * 86400)
#define ADDRESS_KEEP_SECONDS (7 * 86400)
#define SENDS_KEEP_SECONDS   86400
#define ONCE_KEEP_SECONDS    3600 /* beyond any answer's life (core/once.h) */

/* ---- Rows ---- */

static void copy_text(char *dst, size_t size, const struct kunci_sql_row *row, int col)
{
    snprintf(dst, size, "%s", row->text(row, col));
}

/* A blob of exactly `size` bytes, else zeros (a malformed value matches nothing). */
static void copy_exact(void *dst, size_t size, const struct kunci_sql_row *row, int col)
{
    if (row->blob(row, col, dst, size) != size)
        memset(dst, 0, size);
}

static void decode_account(const struct kunci_sql_row *row, int c, struct kunci_account *a)
{
    memset(a, 0, sizeof(*a));
    a->id = row->integer(row, c + 0);
    copy_text(a->login, sizeof(a->login), row, c + 1);
    copy_text(a->display_name, sizeof(a->display_name), row, c + 2);
    a->role = strcmp(row->text(row, c + 3), "admin") == 0 ? KUNCI_ROLE_ADMIN : KUNCI_ROLE_USER;
    a->enabled = row->integer(row, c + 4) != 0;
    if (kunci_mfa_state_parse(row->text(row, c + 5), &a->mfa_state) != 0)
        a->mfa_state = KUNCI_MFA_ENFORCED; /* unreadable: the strictest state */
    copy_text(a->password_hash, sizeof(a->password_hash), row, c + 6);
    a->created_at = row->integer(row, c + 7);
    a->password_changed_at = row->integer(row, c + 8);
    a->must_change_password = row->integer(row, c + 9) != 0;
}

static void decode_app_password(const struct kunci_sql_row *row, struct kunci_app_password *ap)
{
    memset(ap, 0, sizeof(*ap));
    ap->id = row->integer(row, 0);
    ap->account_id = row->integer(row, 1);
    copy_text(ap->name, sizeof(ap->name), row, 2);
    copy_exact(ap->digest, KUNCI_DIGEST_BYTES, row, 3);
    if (kunci_protocols_parse(row->text(row, 4), &ap->protocols) != 0)
        ap->protocols = KUNCI_PROTO_UNREADABLE; /* fail closed: matches no protocol */
    copy_text(ap->networks, sizeof(ap->networks), row, 5);
    ap->created_at = row->integer(row, 6);
    ap->expires_at = row->integer(row, 7);
    ap->last_used_at = row->integer(row, 8);
    copy_text(ap->last_used_ip, sizeof(ap->last_used_ip), row, 9);
    copy_text(ap->last_used_protocol, sizeof(ap->last_used_protocol), row, 10);
}

static void decode_session(const struct kunci_sql_row *row, struct kunci_session *x)
{
    memset(x, 0, sizeof(*x));
    x->id = row->integer(row, 0);
    x->account_id = row->integer(row, 1);
    copy_exact(x->token_hash, KUNCI_TOKEN_HASH_BYTES, row, 2);
    copy_text(x->csrf, sizeof(x->csrf), row, 3);
    int64_t stage = row->integer(row, 4);
    x->stage = stage == KUNCI_SESSION_FULL    ? KUNCI_SESSION_FULL
               : stage == KUNCI_SESSION_RESET ? KUNCI_SESSION_RESET
                                              : KUNCI_SESSION_PASSWORD;
    x->created_at = row->integer(row, 5);
    x->last_seen_at = row->integer(row, 6);
    x->password_at = row->integer(row, 7);
    x->mfa_at = row->integer(row, 8);
}

static void decode_method(const struct kunci_sql_row *row, struct kunci_mfa_method *m)
{
    memset(m, 0, sizeof(*m));
    m->id = row->integer(row, 0);
    m->account_id = row->integer(row, 1);
    if (kunci_method_kind_parse(row->text(row, 2), &m->kind) != 0)
        m->kind = 0; /* unknown: no method a code can pass */
    copy_text(m->target, sizeof(m->target), row, 3);
    copy_text(m->channel, sizeof(m->channel), row, 4);
    size_t n = row->blob(row, 5, m->secret, sizeof(m->secret));
    m->secret_len = n <= sizeof(m->secret) ? n : 0;
    m->is_default = row->integer(row, 6) != 0;
    m->verified = row->integer(row, 7) != 0;
    m->last_totp_step = row->integer(row, 8);
    m->created_at = row->integer(row, 9);
}

static void decode_code(const struct kunci_sql_row *row, struct kunci_code *c)
{
    memset(c, 0, sizeof(*c));
    c->id = row->integer(row, 0);
    c->account_id = row->integer(row, 1);
    c->method_id = row->integer(row, 2);
    copy_exact(c->code_hash, KUNCI_TOKEN_HASH_BYTES, row, 3);
    c->expires_at = row->integer(row, 4);
    c->attempts = (int)row->integer(row, 5);
}

static void decode_lockout(const struct kunci_sql_row *row, struct kunci_lockout *l)
{
    memset(l, 0, sizeof(*l));
    copy_text(l->scope, sizeof(l->scope), row, 0);
    copy_text(l->subject, sizeof(l->subject), row, 1);
    copy_text(l->label, sizeof(l->label), row, 2);
    l->failures = (int)row->integer(row, 3);
    l->locked_until = row->integer(row, 4);
    l->last_at = row->integer(row, 5);
}

/* Row callbacks: into one struct (the first row only), or each row to a caller's callback. */
struct into {
    void (*decode)(const struct kunci_sql_row *row, void *out);
    void *out;
    bool found;
};

static int take_first(void *arg, const struct kunci_sql_row *row)
{
    struct into *o = arg;
    if (!o->found && o->decode != NULL)
        o->decode(row, o->out);
    o->found = true;
    return KUNCI_OK;
}

static int one_row(int r, const struct into *o)
{
    return r == KUNCI_OK && !o->found ? KUNCI_ERR_NOT_FOUND : r;
}

/* The decoders as row callbacks' targets (a call through a cast function pointer would be
 * undefined). */
#define AS_DECODER(name, fn, type)                                                                 \
    static void name(const struct kunci_sql_row *row, void *out)                                   \
    {                                                                                              \
        fn(row, (type *)out);                                                                      \
    }
static void decode_account_at0(const struct kunci_sql_row *row, void *out)
{
    decode_account(row, 0, out);
}
AS_DECODER(decode_session_v, decode_session, struct kunci_session)
AS_DECODER(decode_method_v, decode_method, struct kunci_mfa_method)
AS_DECODER(decode_code_v, decode_code, struct kunci_code)
AS_DECODER(decode_lockout_v, decode_lockout, struct kunci_lockout)

static void decode_int(const struct kunci_sql_row *row, void *out)
{
    *(int64_t *)out = row->integer(row, 0);
}

/* KUNCI_ERR_NOT_FOUND when a change touched no row. By pointer: it is read after the
 * statement ran (the order of a call's arguments is unspecified). */
static int changed(int r, const int64_t *changes)
{
    return r == KUNCI_OK && *changes == 0 ? KUNCI_ERR_NOT_FOUND : r;
}

/* ---- The store's life ---- */

static const struct kunci_store_backend sql_backend;

int kunci_store_sql_open(const struct kunci_sql_driver *driver,
                         const struct kunci_store_options *opts, struct kunci_store_handle *h_r)
{
    struct kunci_store *s = calloc(1, sizeof(*s));

    memset(h_r, 0, sizeof(*h_r));
    if (s == NULL)
        return KUNCI_ERR_NOMEM;
    s->driver = driver;
    pthread_once(&changes_lookup_once, classify_statements);
    /* A handle that cannot open (the database away) is an outage like a failed statement. */
    int r = counted(driver->open(opts, &s->db));
    if (r != KUNCI_OK) {
        free(s);
        return r;
    }
    if (driver->generation != NULL && opts->lookup_cache > 0)
        s->cache = lookup_cache_new(opts->lookup_cache); /* none when memory is short */
    h_r->backend = &sql_backend;
    h_r->store = s;
    return KUNCI_OK;
}

static void sql_close(struct kunci_store *s)
{
    lookup_cache_free(s->cache);
    s->driver->close(s->db);
    free(s);
}

static void sql_cache_counts(struct kunci_store *s, uint64_t *hits_r, uint64_t *misses_r)
{
    lookup_cache_counts(s->cache, hits_r, misses_r);
}

static int sql_migrate(struct kunci_store *s, int *version_r)
{
    return s->driver->migrate(s->db, version_r);
}

static int sql_begin(struct kunci_store *s)
{
    int r = counted(s->driver->begin(s->db));
    s->in_transaction = r == KUNCI_OK;
    return r;
}

static int sql_finish(struct kunci_store *s, int r)
{
    s->in_transaction = false;
    int f = s->driver->finish(s->db, r);
    if (s->lookup_changed) {
        s->lookup_changed = false;
        atomic_fetch_add(&local_changes, 1);
    }
    return f != r ? counted(f) : f; /* a failure of the commit itself */
}

/* ---- Accounts ---- */

static int account_by_login(struct kunci_store *s, const char *login, struct kunci_account *a)
{
    struct into o = {decode_account_at0, a, false};
    return one_row(RUN(s, ST_ACCOUNT_BY_LOGIN, take_first, &o, NULL, SQL_TEXT(login)), &o);
}

static int account_by_id(struct kunci_store *s, int64_t id, struct kunci_account *a)
{
    struct into o = {decode_account_at0, a, false};
    return one_row(RUN(s, ST_ACCOUNT_BY_ID, take_first, &o, NULL, SQL_INT(id)), &o);
}

/* The display name as the users list searches it: ASCII letters lowercased (logins are
 * lowercase already), compared bytewise on both databases. */
static void display_key(const char *name, char *out, size_t size)
{
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < size; i++)
        out[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    out[i] = '\0';
}

static int account_insert(struct kunci_store *s, struct kunci_account *a)
{
    char key[KUNCI_DISPLAY_NAME_MAX + 1];
    display_key(a->display_name, key, sizeof(key));
    int64_t id = 0;
    struct into o = {decode_int, &id, false};
    int r = RUN(s, ST_ACCOUNT_INSERT, take_first, &o, NULL, SQL_TEXT(a->login),
                SQL_TEXT(a->display_name), SQL_TEXT(kunci_role_name(a->role)),
                SQL_INT(a->enabled ? 1 : 0), SQL_TEXT(kunci_mfa_state_name(a->mfa_state)),
                SQL_TEXT(a->password_hash), SQL_INT(a->created_at), SQL_INT(a->password_changed_at),
                SQL_INT(a->must_change_password ? 1 : 0), SQL_TEXT(key));
    if (r == KUNCI_OK && !o.found)
        r = KUNCI_ERR_INTERNAL;
    if (r == KUNCI_OK)
        a->id = id;
    return r;
}

static int account_update(struct kunci_store *s, const struct kunci_account *a, unsigned flags,
                          int64_t keep_session_id)
{
    int64_t changes = 0;
    char key[KUNCI_DISPLAY_NAME_MAX + 1];
    display_key(a->display_name, key, sizeof(key));
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    r = changed(RUN(s, ST_ACCOUNT_UPDATE, NULL, NULL, &changes, SQL_INT(a->id),
                    SQL_TEXT(a->display_name), SQL_TEXT(kunci_role_name(a->role)),
                    SQL_INT(a->enabled ? 1 : 0), SQL_TEXT(kunci_mfa_state_name(a->mfa_state)),
                    SQL_TEXT(a->password_hash), SQL_INT(a->password_changed_at),
                    SQL_INT(a->must_change_password ? 1 : 0), SQL_TEXT(key)),
                &changes);
    if (r == KUNCI_OK && (flags & KUNCI_UPDATE_REVOKE_APP_PASSWORDS))
        r = RUN(s, ST_AP_DELETE_ALL, NULL, NULL, NULL, SQL_INT(a->id));
    if (r == KUNCI_OK && (flags & (KUNCI_UPDATE_END_SESSIONS | KUNCI_UPDATE_SIGN_OUT)))
        r = RUN(s, ST_SESSIONS_END, NULL, NULL, NULL, SQL_INT(a->id), SQL_INT(keep_session_id));
    if (r == KUNCI_OK && (flags & (KUNCI_UPDATE_END_SESSIONS | KUNCI_UPDATE_FORGET_DEVICES)))
        r = RUN(s, ST_DEVICES_FORGET, NULL, NULL, NULL, SQL_INT(a->id));
    if (r == KUNCI_OK && (flags & KUNCI_UPDATE_RESET_METHODS))
        r = RUN(s, ST_METHODS_DELETE_ALL, NULL, NULL, NULL, SQL_INT(a->id));
    if (r == KUNCI_OK && (flags & KUNCI_UPDATE_RESET_METHODS))
        r = RUN(s, ST_BACKUP_DELETE_ALL, NULL, NULL, NULL, SQL_INT(a->id));
    return sql_finish(s, r);
}

static int account_rehash(struct kunci_store *s, int64_t account_id, const char *old_hash,
                          const char *new_hash)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_ACCOUNT_REHASH, NULL, NULL, &changes, SQL_INT(account_id),
                       SQL_TEXT(old_hash), SQL_TEXT(new_hash)),
                   &changes);
}

static int account_delete(struct kunci_store *s, int64_t account_id)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_ACCOUNT_DELETE, NULL, NULL, &changes, SQL_INT(account_id)), &changes);
}

struct each_account {
    kunci_account_cb cb;
    void *arg;
};

static int each_account(void *arg, const struct kunci_sql_row *row)
{
    struct each_account *e = arg;
    struct kunci_account a;
    decode_account(row, 0, &a);
    int r = e->cb(e->arg, &a);
    sodium_memzero(a.password_hash, sizeof(a.password_hash));
    return r;
}

static int account_list(struct kunci_store *s, kunci_account_cb cb, void *arg)
{
    struct each_account e = {cb, arg};
    return RUN0(s, ST_ACCOUNT_LIST, each_account, &e, NULL);
}

struct each_summary {
    kunci_account_summary_cb cb;
    void *arg;
};

static int each_summary(void *arg, const struct kunci_sql_row *row)
{
    struct each_summary *e = arg;
    struct kunci_account_summary x;
    decode_account(row, 0, &x.account);
    sodium_memzero(x.account.password_hash, sizeof(x.account.password_hash));
    x.methods = (int)row->integer(row, ACCOUNT_NCOLS);
    x.app_passwords = (int)row->integer(row, ACCOUNT_NCOLS + 1);
    x.last_sign_in_at = row->integer(row, ACCOUNT_NCOLS + 2);
    x.legacy_clients = (int)row->integer(row, ACCOUNT_NCOLS + 3);
    return e->cb(e->arg, &x);
}

static int account_search(struct kunci_store *s, const char *prefix, const char *after_login,
                          int limit, int64_t legacy_since, kunci_account_summary_cb cb, void *arg)
{
    struct each_summary e = {cb, arg};
    char low[KUNCI_LOGIN_MAX + 1], high[KUNCI_LOGIN_MAX + 8];
    display_key(prefix, low, sizeof(low));
    /* Everything that starts with low sorts below low + U+10FFFF's UTF-8 bytes. */
    snprintf(high, sizeof(high), "%s\xf4\x8f\xbf\xbf", low);
    /* Both statements take all five arguments, so that ?5 means the same in each. */
    return RUN(s, low[0] != '\0' ? ST_ACCOUNT_SEARCH : ST_ACCOUNT_PAGE, each_summary, &e, NULL,
               SQL_TEXT(low), SQL_TEXT(high), SQL_TEXT(after_login), SQL_INT(limit),
               SQL_INT(legacy_since));
}

static int account_signed_in(struct kunci_store *s, int64_t account_id, int64_t now)
{
    return RUN(s, ST_ACCOUNT_SIGNED_IN, NULL, NULL, NULL, SQL_INT(account_id), SQL_INT(now));
}

static int account_setup_deferred(struct kunci_store *s, int64_t account_id, bool defer,
                                  int64_t now, int64_t *at_r)
{
    struct into o = {decode_int, at_r, false};
    *at_r = 0;
    if (defer)
        return one_row(
            RUN(s, ST_ACCOUNT_DEFER_SETUP, take_first, &o, NULL, SQL_INT(account_id), SQL_INT(now)),
            &o);
    return one_row(RUN(s, ST_ACCOUNT_SETUP_DEFERRED, take_first, &o, NULL, SQL_INT(account_id)),
                   &o);
}

static int backup_codes_replace(struct kunci_store *s, int64_t account_id,
                                const uint8_t (*digests)[KUNCI_DIGEST_BYTES], int n, int64_t now)
{
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    r = RUN(s, ST_BACKUP_DELETE_ALL, NULL, NULL, NULL, SQL_INT(account_id));
    for (int i = 0; r == KUNCI_OK && i < n; i++)
        r = RUN(s, ST_BACKUP_INSERT, NULL, NULL, NULL, SQL_INT(account_id),
                SQL_BLOB(digests[i], KUNCI_DIGEST_BYTES), SQL_INT(now));
    return sql_finish(s, r);
}

static int backup_code_use(struct kunci_store *s, int64_t account_id, const uint8_t *digest,
                           int64_t now)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_BACKUP_USE, NULL, NULL, &changes, SQL_INT(account_id),
                       SQL_BLOB(digest, KUNCI_DIGEST_BYTES), SQL_INT(now)),
                   &changes);
}

struct backup_counts {
    int *total, *unused;
    int64_t *created_at;
};

static void decode_backup_counts(const struct kunci_sql_row *row, void *out)
{
    struct backup_counts *c = out;
    *c->total = (int)row->integer(row, 0);
    *c->unused = (int)row->integer(row, 1);
    *c->created_at = row->integer(row, 2);
}

static int backup_codes_count(struct kunci_store *s, int64_t account_id, int *total_r,
                              int *unused_r, int64_t *created_at_r)
{
    struct backup_counts c = {total_r, unused_r, created_at_r};
    struct into o = {decode_backup_counts, &c, false};
    *total_r = *unused_r = 0;
    *created_at_r = 0;
    return RUN(s, ST_BACKUP_COUNT, take_first, &o, NULL, SQL_INT(account_id));
}

static int access_pass_set(struct kunci_store *s, int64_t account_id, const uint8_t *digest,
                           int64_t now, int64_t expires_at, bool one_time)
{
    return RUN(s, ST_PASS_SET, NULL, NULL, NULL, SQL_INT(account_id),
               SQL_BLOB(digest, KUNCI_DIGEST_BYTES), SQL_INT(now), SQL_INT(expires_at),
               SQL_INT(one_time ? 1 : 0));
}

static int access_pass_use(struct kunci_store *s, int64_t account_id, const uint8_t *digest,
                           int64_t now)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_PASS_USE, NULL, NULL, &changes, SQL_INT(account_id),
                       SQL_BLOB(digest, KUNCI_DIGEST_BYTES), SQL_INT(now)),
                   &changes);
}

static int access_pass_delete(struct kunci_store *s, int64_t account_id)
{
    return RUN(s, ST_PASS_DELETE, NULL, NULL, NULL, SQL_INT(account_id));
}

static int legacy_client_seen(struct kunci_store *s, int64_t account_id, const char *protocol,
                              const char *client_ip, int64_t now)
{
    return RUN(s, ST_LEGACY_SEEN, NULL, NULL, NULL, SQL_INT(account_id), SQL_TEXT(protocol),
               SQL_TEXT(client_ip), SQL_INT(now));
}

struct each_legacy {
    kunci_legacy_client_cb cb;
    void *arg;
};

static int each_legacy(void *arg, const struct kunci_sql_row *row)
{
    struct each_legacy *e = arg;
    struct kunci_legacy_client c;
    copy_text(c.protocol, sizeof(c.protocol), row, 0);
    copy_text(c.client_ip, sizeof(c.client_ip), row, 1);
    c.first_at = row->integer(row, 2);
    c.last_at = row->integer(row, 3);
    c.count = (int)row->integer(row, 4);
    return e->cb(e->arg, &c);
}

static int legacy_client_list(struct kunci_store *s, int64_t account_id, int64_t since,
                              kunci_legacy_client_cb cb, void *arg)
{
    struct each_legacy e = {cb, arg};
    return RUN(s, ST_LEGACY_LIST, each_legacy, &e, NULL, SQL_INT(account_id), SQL_INT(since));
}

/* ---- App passwords ---- */

static int app_password_insert(struct kunci_store *s, struct kunci_app_password *ap,
                               int max_per_account)
{
    char protocols[KUNCI_PROTOCOLS_MAX];
    int64_t count = 0, id = 0;
    struct into n = {decode_int, &count, false}, o = {decode_int, &id, false};
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    /* Where the database locks rows rather than itself, the account's row serialises its
     * inserts across servers. */
    if (s->driver->features & KUNCI_SQL_ROW_LOCKS) {
        struct into lock = {NULL, NULL, false};
        r = one_row(RUN(s, ST_ACCOUNT_LOCK, take_first, &lock, NULL, SQL_INT(ap->account_id)),
                    &lock);
    }
    if (r == KUNCI_OK)
        r = RUN(s, ST_AP_COUNT, take_first, &n, NULL, SQL_INT(ap->account_id));
    if (r == KUNCI_OK && count >= max_per_account)
        r = KUNCI_ERR_LIMIT;
    if (r == KUNCI_OK) {
        kunci_protocols_format(ap->protocols, protocols, sizeof(protocols));
        r = RUN(s, ST_AP_INSERT, take_first, &o, NULL, SQL_INT(ap->account_id), SQL_TEXT(ap->name),
                SQL_BLOB(ap->digest, KUNCI_DIGEST_BYTES), SQL_TEXT(protocols),
                SQL_TEXT(ap->networks), SQL_INT(ap->created_at), SQL_INT(ap->expires_at),
                SQL_TEXT(ap->key_id));
        if (r == KUNCI_OK && !o.found)
            r = KUNCI_ERR_INTERNAL;
    }
    r = sql_finish(s, r);
    if (r == KUNCI_OK)
        ap->id = id;
    return r;
}

static void decode_match(const struct kunci_sql_row *row, void *out)
{
    struct kunci_app_password_match *m = out;
    decode_app_password(row, &m->app_password);
    decode_account(row, APP_PASSWORD_NCOLS, &m->account);
    m->app_passwords_allowed = kunci_setting_true(
        "app_passwords_allowed", row->text(row, APP_PASSWORD_NCOLS + ACCOUNT_NCOLS));
}

/* Through the handle's cache while the driver vouches for its generation (lookup_cache.h);
 * never inside a transaction, whose reads may differ from what is committed. */
static int app_password_lookup(struct kunci_store *s, const struct kunci_app_password_query *q,
                               const struct kunci_app_password_match **match_r)
{
    struct kunci_sql_generation gen;
    struct kunci_app_password_match *m = &s->looked_up;
    struct into o = {decode_match, m, false};
    uint8_t digest[KUNCI_DIGEST_BYTES];
    bool cached = s->cache != NULL && !s->in_transaction && q->cache_key != NULL;

    if (cached && s->driver->generation(s->db, &gen) != KUNCI_OK) {
        lookup_cache_missed(s->cache);
        cached = false;
    }
    if (cached)
        gen.local = atomic_load(&local_changes);
    if (cached && (*match_r = lookup_cache_get(s->cache, &gen, q->cache_key)) != NULL)
        return KUNCI_OK;
    q->digest(q, digest);
    int r = one_row(
        RUN(s, ST_AP_LOOKUP, take_first, &o, NULL, SQL_BLOB(digest, KUNCI_DIGEST_BYTES)), &o);
    sodium_memzero(digest, sizeof(digest));
    sodium_memzero(m->account.password_hash, sizeof(m->account.password_hash));
    if (r == KUNCI_OK) {
        if (cached)
            lookup_cache_put(s->cache, q->cache_key, m);
        *match_r = m;
    }
    return r;
}

struct each_app_password {
    kunci_app_password_cb cb;
    void *arg;
};

static int each_app_password(void *arg, const struct kunci_sql_row *row)
{
    struct each_app_password *e = arg;
    struct kunci_app_password ap;
    decode_app_password(row, &ap);
    return e->cb(e->arg, &ap);
}

static int app_password_list(struct kunci_store *s, int64_t account_id, kunci_app_password_cb cb,
                             void *arg)
{
    struct each_app_password e = {cb, arg};
    return RUN(s, ST_AP_LIST, each_app_password, &e, NULL, SQL_INT(account_id));
}

static int app_password_count(struct kunci_store *s, int64_t account_id, int *count_r)
{
    int64_t n = 0;
    struct into o = {decode_int, &n, false};
    int r = RUN(s, ST_AP_COUNT, take_first, &o, NULL, SQL_INT(account_id));
    *count_r = (int)n;
    return r;
}

static int app_password_delete(struct kunci_store *s, int64_t account_id, int64_t id)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_AP_DELETE, NULL, NULL, &changes, SQL_INT(account_id), SQL_INT(id)),
                   &changes);
}

static int app_password_delete_all(struct kunci_store *s, int64_t account_id, int *count_r)
{
    int64_t changes = 0;
    int r = RUN(s, ST_AP_DELETE_ALL, NULL, NULL, &changes, SQL_INT(account_id));
    if (count_r != NULL)
        *count_r = r == KUNCI_OK ? (int)changes : 0;
    return r;
}

static int app_password_touch(struct kunci_store *s, int64_t id, int64_t now, int64_t min_interval,
                              const char *ip, const char *protocol)
{
    int r = RUN(s, ST_AP_TOUCH, NULL, NULL, NULL, SQL_INT(id), SQL_INT(now), SQL_TEXT(ip),
                SQL_TEXT(protocol), SQL_INT(min_interval));
    /* Whether this write or another's recorded it, the use is recent: the cached row says so,
     * or (a last use changes no generation) every check after the interval would send the
     * write again. */
    if (r == KUNCI_OK)
        lookup_cache_used(s->cache, id, now);
    return r;
}

/* ---- Key rotation ---- */

static int app_password_rekey(struct kunci_store *s, int64_t id, const uint8_t *old_digest,
                              const uint8_t *new_digest, const char *key_id)
{
    return RUN(s, ST_AP_REKEY, NULL, NULL, NULL, SQL_INT(id),
               SQL_BLOB(new_digest, KUNCI_DIGEST_BYTES), SQL_TEXT(key_id),
               SQL_BLOB(old_digest, KUNCI_DIGEST_BYTES));
}

static int count_changes(struct kunci_store *s, int stmt, const char *key_id, int *count_r)
{
    int64_t changes = 0;
    int r = RUN(s, stmt, NULL, NULL, &changes, SQL_TEXT(key_id));
    *count_r = r == KUNCI_OK ? (int)changes : 0;
    return r;
}

static int app_password_key_mark(struct kunci_store *s, const char *key_id, int *count_r)
{
    return count_changes(s, ST_AP_KEY_MARK, key_id, count_r);
}

static int app_password_key_delete(struct kunci_store *s, const char *key_id, int *count_r)
{
    return count_changes(s, ST_AP_KEY_DELETE, key_id, count_r);
}

static int app_password_key_count(struct kunci_store *s, const char *key_id, int *count_r)
{
    int64_t n = 0;
    struct into o = {decode_int, &n, false};
    int r = RUN(s, ST_AP_KEY_COUNT, take_first, &o, NULL, SQL_TEXT(key_id));
    *count_r = (int)n;
    return r;
}

struct each_sealed {
    kunci_sealed_cb cb;
    void *arg;
};

static int each_sealed(void *arg, const struct kunci_sql_row *row)
{
    struct each_sealed *e = arg;
    uint8_t sealed[KUNCI_SECRET_BOX_MAX];
    size_t len = row->blob(row, 1, sealed, sizeof(sealed));
    if (len == SIZE_MAX)
        return KUNCI_ERR_STORE_INVALID;
    int r = e->cb(e->arg, row->integer(row, 0), sealed, len);
    sodium_memzero(sealed, sizeof(sealed));
    return r;
}

static int method_secret_each(struct kunci_store *s, kunci_sealed_cb cb, void *arg)
{
    struct each_sealed e = {cb, arg};
    return RUN(s, ST_METHOD_SECRETS, each_sealed, &e, NULL);
}

static int method_secret_set(struct kunci_store *s, int64_t method_id, const uint8_t *sealed,
                             size_t len)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_METHOD_SECRET_SET, NULL, NULL, &changes, SQL_INT(method_id),
                       SQL_BLOB(sealed, len)),
                   &changes);
}

/* ---- Settings ---- */

static int setting_set(struct kunci_store *s, const char *key, const char *value)
{
    return RUN(s, ST_SETTING_SET, NULL, NULL, NULL, SQL_TEXT(key), SQL_TEXT(value));
}

struct each_setting {
    kunci_setting_cb cb;
    void *arg;
};

static int each_setting(void *arg, const struct kunci_sql_row *row)
{
    struct each_setting *e = arg;
    return e->cb(e->arg, row->text(row, 0), row->text(row, 1));
}

static int settings_each(struct kunci_store *s, kunci_setting_cb cb, void *arg)
{
    struct each_setting e = {cb, arg};
    return RUN0(s, ST_SETTINGS_EACH, each_setting, &e, NULL);
}

/* ---- Web sessions ---- */

static int session_insert(struct kunci_store *s, struct kunci_session *x)
{
    int64_t id = 0;
    struct into o = {decode_int, &id, false};
    int r = RUN(s, ST_SESSION_INSERT, take_first, &o, NULL, SQL_INT(x->account_id),
                SQL_BLOB(x->token_hash, KUNCI_TOKEN_HASH_BYTES), SQL_TEXT(x->csrf),
                SQL_INT(x->stage), SQL_INT(x->created_at), SQL_INT(x->last_seen_at),
                SQL_INT(x->password_at), SQL_INT(x->mfa_at));
    if (r == KUNCI_OK && !o.found)
        r = KUNCI_ERR_INTERNAL;
    if (r == KUNCI_OK)
        x->id = id;
    return r;
}

static int session_lookup(struct kunci_store *s, const uint8_t *token_hash, struct kunci_session *x)
{
    struct into o = {decode_session_v, x, false};
    return one_row(RUN(s, ST_SESSION_LOOKUP, take_first, &o, NULL,
                       SQL_BLOB(token_hash, KUNCI_TOKEN_HASH_BYTES)),
                   &o);
}

static int session_update(struct kunci_store *s, const struct kunci_session *x)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_SESSION_UPDATE, NULL, NULL, &changes, SQL_INT(x->id),
                       SQL_INT(x->stage), SQL_INT(x->last_seen_at), SQL_INT(x->password_at),
                       SQL_INT(x->mfa_at)),
                   &changes);
}

static int session_delete(struct kunci_store *s, int64_t id)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_SESSION_DELETE, NULL, NULL, &changes, SQL_INT(id)), &changes);
}

static int session_count(struct kunci_store *s, int64_t *count_r)
{
    struct into o = {decode_int, count_r, false};
    *count_r = 0;
    return RUN0(s, ST_SESSION_COUNT, take_first, &o, NULL);
}

static int session_code_failure(struct kunci_store *s, int64_t id, int *count_r)
{
    int64_t count = 0;
    struct into o = {decode_int, &count, false};
    int r = one_row(RUN(s, ST_SESSION_FAILURE, take_first, &o, NULL, SQL_INT(id)), &o);
    *count_r = (int)count;
    return r;
}

static int purge_expired(struct kunci_store *s, int64_t idle_before, int64_t created_before,
                         int64_t now)
{
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    r = RUN(s, ST_PURGE_SESSIONS, NULL, NULL, NULL, SQL_INT(idle_before), SQL_INT(created_before));
    if (r == KUNCI_OK)
        r = RUN(s, ST_PURGE_DEVICES, NULL, NULL, NULL, SQL_INT(now));
    if (r == KUNCI_OK)
        r = RUN(s, ST_PURGE_CODES, NULL, NULL, NULL, SQL_INT(now));
    if (r == KUNCI_OK)
        r = RUN(s, ST_PURGE_CHALLENGES, NULL, NULL, NULL, SQL_INT(now));
    return sql_finish(s, r);
}

/* ---- Second factors ---- */

static int method_insert(struct kunci_store *s, struct kunci_mfa_method *m)
{
    int64_t id = 0;
    struct into o = {decode_int, &id, false};
    /* No secret is NULL, not an empty blob. */
    struct kunci_sql_arg secret =
        m->secret_len > 0 ? SQL_BLOB(m->secret, m->secret_len) : SQL_BLOB(NULL, 0);
    int r = RUN(s, ST_METHOD_INSERT, take_first, &o, NULL, SQL_INT(m->account_id),
                SQL_TEXT(kunci_method_kind_name(m->kind)), SQL_TEXT(m->target),
                SQL_TEXT(m->channel), secret, SQL_INT(m->created_at));
    if (r == KUNCI_OK && !o.found)
        r = KUNCI_ERR_INTERNAL;
    if (r == KUNCI_OK)
        m->id = id;
    return r;
}

static int method_get(struct kunci_store *s, int64_t account_id, int64_t id,
                      struct kunci_mfa_method *m)
{
    struct into o = {decode_method_v, m, false};
    return one_row(RUN(s, ST_METHOD_GET, take_first, &o, NULL, SQL_INT(account_id), SQL_INT(id)),
                   &o);
}

struct each_method {
    kunci_method_cb cb;
    void *arg;
};

static int each_method(void *arg, const struct kunci_sql_row *row)
{
    struct each_method *e = arg;
    struct kunci_mfa_method m;
    decode_method(row, &m);
    int r = e->cb(e->arg, &m);
    sodium_memzero(&m, sizeof(m));
    return r;
}

static int method_list(struct kunci_store *s, int64_t account_id, kunci_method_cb cb, void *arg)
{
    struct each_method e = {cb, arg};
    return RUN(s, ST_METHOD_LIST, each_method, &e, NULL, SQL_INT(account_id));
}

static int method_delete(struct kunci_store *s, int64_t account_id, int64_t id)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_METHOD_DELETE, NULL, NULL, &changes, SQL_INT(account_id), SQL_INT(id)),
                   &changes);
}

static int method_set_default(struct kunci_store *s, int64_t account_id, int64_t id)
{
    int64_t changes = 0;
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    r = RUN(s, ST_METHOD_CLEAR_DEFAULT, NULL, NULL, NULL, SQL_INT(account_id));
    if (r == KUNCI_OK)
        r = changed(
            RUN(s, ST_METHOD_SET_DEFAULT, NULL, NULL, &changes, SQL_INT(account_id), SQL_INT(id)),
            &changes);
    return sql_finish(s, r);
}

static int method_use_totp_step(struct kunci_store *s, int64_t id, int64_t step)
{
    int64_t changes = 0;
    int r = changed(RUN(s, ST_METHOD_USE_STEP, NULL, NULL, &changes, SQL_INT(id), SQL_INT(step)),
                    &changes);
    return r == KUNCI_ERR_NOT_FOUND ? KUNCI_ERR_EXISTS : r;
}

static int method_verify(struct kunci_store *s, int64_t account_id, int64_t id)
{
    int64_t changes = 0;
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    r = changed(RUN(s, ST_METHOD_VERIFY, NULL, NULL, &changes, SQL_INT(account_id), SQL_INT(id)),
                &changes);
    /* The first verified method becomes the default; one that had a default keeps it. */
    if (r == KUNCI_OK)
        r = RUN(s, ST_METHOD_DEFAULT_IF_NONE, NULL, NULL, NULL, SQL_INT(account_id), SQL_INT(id));
    return sql_finish(s, r);
}

/* ---- Passkeys ---- */

static void decode_passkey(const struct kunci_sql_row *row, struct kunci_passkey *pk)
{
    memset(pk, 0, sizeof(*pk));
    pk->method_id = row->integer(row, 0);
    pk->account_id = row->integer(row, 1);
    /* A value too long reads as empty: it matches nothing and no key is built from it. */
    size_t n = row->blob(row, 2, pk->credential_id, sizeof(pk->credential_id));
    pk->credential_id_len = n <= sizeof(pk->credential_id) ? n : 0;
    n = row->blob(row, 3, pk->public_key, sizeof(pk->public_key));
    pk->public_key_len = n <= sizeof(pk->public_key) ? n : 0;
    pk->algorithm = (int)row->integer(row, 4);
    pk->sign_count = (uint32_t)row->integer(row, 5);
    copy_exact(pk->aaguid, KUNCI_AAGUID_BYTES, row, 6);
    pk->backup_eligible = row->integer(row, 7) != 0;
    pk->backup_state = row->integer(row, 8) != 0;
    pk->user_verified = row->integer(row, 9) != 0;
    pk->discoverable = row->integer(row, 10) != 0;
    copy_text(pk->transports, sizeof(pk->transports), row, 11);
    pk->created_at = row->integer(row, 12);
    pk->last_used_at = row->integer(row, 13);
}
AS_DECODER(decode_passkey_v, decode_passkey, struct kunci_passkey)

static int passkey_insert(struct kunci_store *s, struct kunci_mfa_method *m,
                          const struct kunci_passkey *pk)
{
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    m->kind = KUNCI_METHOD_PASSKEY;
    m->secret_len = 0;
    m->channel[0] = '\0';
    r = method_insert(s, m);
    if (r == KUNCI_OK)
        r = RUN(s, ST_PASSKEY_INSERT, NULL, NULL, NULL, SQL_INT(m->id), SQL_INT(m->account_id),
                SQL_BLOB(pk->credential_id, pk->credential_id_len),
                SQL_BLOB(pk->public_key, pk->public_key_len), SQL_INT(pk->algorithm),
                SQL_INT(pk->sign_count), SQL_BLOB(pk->aaguid, KUNCI_AAGUID_BYTES),
                SQL_INT(pk->backup_eligible), SQL_INT(pk->backup_state), SQL_INT(pk->user_verified),
                SQL_INT(pk->discoverable), SQL_TEXT(pk->transports));
    if (r == KUNCI_OK)
        r = RUN(s, ST_METHOD_VERIFY, NULL, NULL, NULL, SQL_INT(m->account_id), SQL_INT(m->id));
    if (r == KUNCI_OK)
        r = RUN(s, ST_METHOD_DEFAULT_IF_NONE, NULL, NULL, NULL, SQL_INT(m->account_id),
                SQL_INT(m->id));
    return sql_finish(s, r);
}

static int passkey_find(struct kunci_store *s, const uint8_t *credential_id, size_t len,
                        struct kunci_passkey *pk)
{
    struct into o = {decode_passkey_v, pk, false};
    return one_row(
        RUN(s, ST_PASSKEY_BY_CREDENTIAL, take_first, &o, NULL, SQL_BLOB(credential_id, len)), &o);
}

struct each_passkey {
    kunci_passkey_cb cb;
    void *arg;
};

static int each_passkey(void *arg, const struct kunci_sql_row *row)
{
    struct each_passkey *e = arg;
    struct kunci_passkey pk;
    decode_passkey(row, &pk);
    return e->cb(e->arg, &pk);
}

static int passkey_list(struct kunci_store *s, int64_t account_id, kunci_passkey_cb cb, void *arg)
{
    struct each_passkey e = {cb, arg};
    return RUN(s, ST_PASSKEY_LIST, each_passkey, &e, NULL, SQL_INT(account_id));
}

static int passkey_use(struct kunci_store *s, int64_t method_id, uint32_t sign_count,
                       bool backup_state, int64_t now)
{
    int64_t changes = 0;
    int r = changed(RUN(s, ST_PASSKEY_USE, NULL, NULL, &changes, SQL_INT(method_id),
                        SQL_INT(sign_count), SQL_INT(backup_state), SQL_INT(now)),
                    &changes);
    return r == KUNCI_ERR_NOT_FOUND ? KUNCI_ERR_COUNTER : r;
}

static int method_rename(struct kunci_store *s, int64_t account_id, int64_t id, const char *name)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_METHOD_RENAME, NULL, NULL, &changes, SQL_INT(account_id), SQL_INT(id),
                       SQL_TEXT(name)),
                   &changes);
}

static int challenge_use(struct kunci_store *s, const uint8_t *challenge, size_t len,
                         int64_t expires_at)
{
    struct into o = {NULL, NULL, false};
    int r = RUN(s, ST_CHALLENGE_USE, take_first, &o, NULL, SQL_BLOB(challenge, len),
                SQL_INT(expires_at));
    return r == KUNCI_OK && !o.found ? KUNCI_ERR_REUSED : r;
}

/* ---- One-time codes and remembered devices ---- */

static int code_put(struct kunci_store *s, struct kunci_code *c)
{
    return RUN(s, ST_CODE_PUT, NULL, NULL, NULL, SQL_INT(c->account_id), SQL_INT(c->method_id),
               SQL_BLOB(c->code_hash, KUNCI_TOKEN_HASH_BYTES), SQL_INT(c->expires_at));
}

static int code_get(struct kunci_store *s, int64_t account_id, int64_t method_id,
                    struct kunci_code *c)
{
    struct into o = {decode_code_v, c, false};
    return one_row(
        RUN(s, ST_CODE_GET, take_first, &o, NULL, SQL_INT(account_id), SQL_INT(method_id)), &o);
}

static int code_count_attempt(struct kunci_store *s, int64_t id)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_CODE_ATTEMPT, NULL, NULL, &changes, SQL_INT(id)), &changes);
}

static int code_delete(struct kunci_store *s, int64_t id)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_CODE_DELETE, NULL, NULL, &changes, SQL_INT(id)), &changes);
}

static int device_insert(struct kunci_store *s, int64_t account_id, const uint8_t *token_hash,
                         int64_t created_at, int64_t expires_at)
{
    return RUN(s, ST_DEVICE_INSERT, NULL, NULL, NULL, SQL_INT(account_id),
               SQL_BLOB(token_hash, KUNCI_TOKEN_HASH_BYTES), SQL_INT(created_at),
               SQL_INT(expires_at));
}

static int device_valid(struct kunci_store *s, int64_t account_id, const uint8_t *token_hash,
                        int64_t now)
{
    struct into o = {NULL, NULL, false};
    return one_row(RUN(s, ST_DEVICE_VALID, take_first, &o, NULL, SQL_INT(account_id),
                       SQL_BLOB(token_hash, KUNCI_TOKEN_HASH_BYTES), SQL_INT(now)),
                   &o);
}

/* ---- The guards ---- */

static int lockout_hold(struct kunci_store *s, const char *scope, const char *subject,
                        const char *label, int64_t now, struct kunci_lockout *row_r)
{
    struct into o = {decode_lockout_v, row_r, false};
    int r = RUN(s, ST_LOCKOUT_ENSURE, NULL, NULL, NULL, SQL_TEXT(scope), SQL_TEXT(subject),
                SQL_TEXT(label), SQL_INT(now));
    if (r == KUNCI_OK)
        r = RUN(s, ST_LOCKOUT_HOLD, take_first, &o, NULL, SQL_TEXT(scope), SQL_TEXT(subject),
                SQL_TEXT(label));
    return r == KUNCI_OK && !o.found ? KUNCI_ERR_INTERNAL : r;
}

static int lockout_get(struct kunci_store *s, const char *scope, const char *subject,
                       struct kunci_lockout *row_r)
{
    struct into o = {decode_lockout_v, row_r, false};
    return one_row(RUN(s, ST_LOCKOUT_GET, take_first, &o, NULL, SQL_TEXT(scope), SQL_TEXT(subject)),
                   &o);
}

static int lockout_save(struct kunci_store *s, const struct kunci_lockout *row)
{
    int64_t changes = 0;
    return changed(RUN(s, ST_LOCKOUT_SAVE, NULL, NULL, &changes, SQL_TEXT(row->scope),
                       SQL_TEXT(row->subject), SQL_INT(row->failures), SQL_INT(row->locked_until),
                       SQL_INT(row->last_at)),
                   &changes);
}

static int lockout_delete(struct kunci_store *s, const char *scope, const char *subject)
{
    return RUN(s, ST_LOCKOUT_DELETE, NULL, NULL, NULL, SQL_TEXT(scope), SQL_TEXT(subject));
}

static int lockout_clear_label(struct kunci_store *s, const char *label, int *count_r)
{
    int64_t changes = 0;
    int r = RUN(s, ST_LOCKOUT_CLEAR_LABEL, NULL, NULL, &changes, SQL_TEXT(label));
    if (count_r != NULL)
        *count_r = r == KUNCI_OK ? (int)changes : 0;
    return r;
}

struct each_lockout {
    kunci_lockout_cb cb;
    void *arg;
};

static int each_lockout(void *arg, const struct kunci_sql_row *row)
{
    struct each_lockout *e = arg;
    struct kunci_lockout l;
    decode_lockout(row, &l);
    return e->cb(e->arg, &l);
}

static int lockout_list(struct kunci_store *s, kunci_lockout_cb cb, void *arg)
{
    struct each_lockout e = {cb, arg};
    return RUN0(s, ST_LOCKOUT_LIST, each_lockout, &e, NULL);
}

static int secret_seen(struct kunci_store *s, const char *login_key, const uint8_t *secret_key,
                       int64_t now, bool *seen_r)
{
    int64_t changes = 0;
    int r = RUN(s, ST_SECRET_TOUCH, NULL, NULL, &changes, SQL_TEXT(login_key),
                SQL_BLOB(secret_key, KUNCI_DIGEST_BYTES), SQL_INT(now));
    *seen_r = r == KUNCI_OK && changes > 0;
    if (r == KUNCI_OK && changes == 0)
        r = RUN(s, ST_SECRET_ADD, NULL, NULL, NULL, SQL_TEXT(login_key),
                SQL_BLOB(secret_key, KUNCI_DIGEST_BYTES), SQL_INT(now));
    return r;
}

static int secrets_forget(struct kunci_store *s, const char *login_key)
{
    return RUN(s, ST_SECRETS_FORGET, NULL, NULL, NULL, SQL_TEXT(login_key));
}

static int address_success(struct kunci_store *s, const char *address, const char *login_key,
                           int64_t now)
{
    return RUN(s, ST_ADDRESS_SUCCESS, NULL, NULL, NULL, SQL_TEXT(address), SQL_TEXT(login_key),
               SQL_INT(now));
}

static int address_known(struct kunci_store *s, const char *address, const char *client_ip,
                         const char *login_key, const char *login, int64_t since, bool *known_r)
{
    struct into o = {NULL, NULL, false};
    int r = RUN(s, ST_ADDRESS_KNOWN, take_first, &o, NULL, SQL_TEXT(address), SQL_TEXT(login_key),
                SQL_INT(since), SQL_TEXT(login), SQL_TEXT(client_ip));
    *known_r = r == KUNCI_OK && o.found;
    return r;
}

static void decode_account_sends(const struct kunci_sql_row *row, void *out)
{
    struct kunci_code_sends *x = out;
    x->account_recent = (int)row->integer(row, 0);
    x->account_day = (int)row->integer(row, 1);
}

static void decode_destination_sends(const struct kunci_sql_row *row, void *out)
{
    struct kunci_code_sends *x = out;
    x->destination_recent = (int)row->integer(row, 0);
    x->destination_day = (int)row->integer(row, 1);
    x->destination_last = row->integer(row, 2);
}

static void decode_registering_sends(const struct kunci_sql_row *row, void *out)
{
    struct kunci_code_sends *x = out;
    x->registering_destinations = (int)row->integer(row, 0);
    x->destination_registering = row->integer(row, 1) > 0;
}

static int code_sends(struct kunci_store *s, int64_t account_id, const uint8_t *destination,
                      int64_t recent_since, int64_t day_since, struct kunci_code_sends *sends_r)
{
    struct into a = {decode_account_sends, sends_r, false},
                d = {decode_destination_sends, sends_r, false},
                g = {decode_registering_sends, sends_r, false};
    memset(sends_r, 0, sizeof(*sends_r));
    int r = RUN(s, ST_CODE_SENDS_ACCOUNT, take_first, &a, NULL, SQL_INT(account_id),
                SQL_INT(recent_since), SQL_INT(day_since));
    if (r == KUNCI_OK)
        r = RUN(s, ST_CODE_SENDS_DESTINATION, take_first, &d, NULL,
                SQL_BLOB(destination, KUNCI_DIGEST_BYTES), SQL_INT(recent_since),
                SQL_INT(day_since));
    if (r == KUNCI_OK)
        r = RUN(s, ST_CODE_SENDS_REGISTERING, take_first, &g, NULL, SQL_INT(account_id),
                SQL_BLOB(destination, KUNCI_DIGEST_BYTES), SQL_INT(day_since));
    return r;
}

static int code_send_record(struct kunci_store *s, int64_t account_id, const uint8_t *destination,
                            bool registering, int64_t now)
{
    return RUN(s, ST_CODE_SEND_RECORD, NULL, NULL, NULL, SQL_INT(account_id),
               SQL_BLOB(destination, KUNCI_DIGEST_BYTES), SQL_INT(registering ? 1 : 0),
               SQL_INT(now));
}

static void decode_once(const struct kunci_sql_row *row, void *out)
{
    struct kunci_once_row *x = out;
    copy_exact(x->fingerprint, sizeof(x->fingerprint), row, 0);
    x->status = (int)row->integer(row, 1);
    x->created_at = row->integer(row, 3);
    x->sealed = NULL;
    x->sealed_len = 0;
    if (x->status <= 0)
        return;
    uint8_t *buf = malloc(KUNCI_ONCE_SEALED_MAX);
    size_t len = buf != NULL ? row->blob(row, 2, buf, KUNCI_ONCE_SEALED_MAX) : SIZE_MAX;
    if (len == SIZE_MAX || len == 0) {
        free(buf);
        return; /* unreadable: an answer that cannot be given again (core/once.c says so) */
    }
    x->sealed = buf;
    x->sealed_len = len;
}

static int once_claim(struct kunci_store *s, int64_t account_id, const char *key,
                      const uint8_t *fingerprint, int64_t now, int64_t stale_before,
                      int64_t expired_before, bool *claimed_r, struct kunci_once_row *row_r)
{
    struct into claimed = {NULL, NULL, false}, held = {decode_once, row_r, false};
    *claimed_r = false;
    memset(row_r, 0, sizeof(*row_r));
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    r = RUN(s, ST_ONCE_DROP, NULL, NULL, NULL, SQL_INT(account_id), SQL_TEXT(key),
            SQL_INT(stale_before), SQL_INT(expired_before));
    if (r == KUNCI_OK)
        r = RUN(s, ST_ONCE_CLAIM, take_first, &claimed, NULL, SQL_INT(account_id), SQL_TEXT(key),
                SQL_BLOB(fingerprint, KUNCI_ONCE_DIGEST_BYTES), SQL_INT(now));
    if (r == KUNCI_OK && !claimed.found)
        r = one_row(
            RUN(s, ST_ONCE_GET, take_first, &held, NULL, SQL_INT(account_id), SQL_TEXT(key)),
            &held);
    r = sql_finish(s, r);
    if (r != KUNCI_OK) {
        free(row_r->sealed);
        memset(row_r, 0, sizeof(*row_r));
        return r;
    }
    *claimed_r = claimed.found;
    return KUNCI_OK;
}

static int once_finish(struct kunci_store *s, int64_t account_id, const char *key, int status,
                       const uint8_t *sealed, size_t sealed_len)
{
    return RUN(s, ST_ONCE_FINISH, NULL, NULL, NULL, SQL_INT(account_id), SQL_TEXT(key),
               SQL_INT(status), SQL_BLOB(sealed, sealed_len));
}

static int once_release(struct kunci_store *s, int64_t account_id, const char *key)
{
    return RUN(s, ST_ONCE_RELEASE, NULL, NULL, NULL, SQL_INT(account_id), SQL_TEXT(key));
}

static int event_write(struct kunci_store *s, const struct kunci_event *events, int n)
{
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    for (int i = 0; r == KUNCI_OK && i < n; i++) {
        const struct kunci_event *e = &events[i];
        if (e->aggregate)
            r = RUN(s, ST_EVENT_UPSERT, NULL, NULL, NULL, SQL_INT(e->at), SQL_INT(e->last_at),
                    SQL_TEXT(e->event), SQL_TEXT(e->actor), SQL_TEXT(e->subject),
                    SQL_INT(e->account_id), SQL_TEXT(e->client_ip), SQL_TEXT(e->agent),
                    SQL_TEXT(e->outcome), SQL_TEXT(e->reason), SQL_TEXT(e->detail),
                    SQL_INT(e->app_password_id), SQL_INT(e->count),
                    SQL_BLOB(e->agg_key, KUNCI_EVENT_AGG_BYTES), SQL_INT(e->agg_bucket));
        else
            r = RUN(s, ST_EVENT_INSERT, NULL, NULL, NULL, SQL_INT(e->at), SQL_INT(e->last_at),
                    SQL_TEXT(e->event), SQL_TEXT(e->actor), SQL_TEXT(e->subject),
                    SQL_INT(e->account_id), SQL_TEXT(e->client_ip), SQL_TEXT(e->agent),
                    SQL_TEXT(e->outcome), SQL_TEXT(e->reason), SQL_TEXT(e->detail),
                    SQL_INT(e->app_password_id), SQL_INT(e->count));
    }
    return sql_finish(s, r);
}

struct event_rows {
    kunci_event_cb cb;
    void *arg;
};

static int each_event(void *arg, const struct kunci_sql_row *row)
{
    struct event_rows *x = arg;
    struct kunci_event e;
    memset(&e, 0, sizeof(e));
    e.id = row->integer(row, 0);
    e.at = row->integer(row, 1);
    e.last_at = row->integer(row, 2);
    copy_text(e.event, sizeof(e.event), row, 3);
    copy_text(e.actor, sizeof(e.actor), row, 4);
    copy_text(e.subject, sizeof(e.subject), row, 5);
    e.account_id = row->integer(row, 6);
    copy_text(e.client_ip, sizeof(e.client_ip), row, 7);
    copy_text(e.agent, sizeof(e.agent), row, 8);
    copy_text(e.outcome, sizeof(e.outcome), row, 9);
    copy_text(e.reason, sizeof(e.reason), row, 10);
    copy_text(e.detail, sizeof(e.detail), row, 11);
    e.app_password_id = row->integer(row, 12);
    e.count = (int)row->integer(row, 13);
    return x->cb(x->arg, &e);
}

static int event_list(struct kunci_store *s, const struct kunci_event_query *q, kunci_event_cb cb,
                      void *arg)
{
    struct event_rows x = {cb, arg};
    int limit = q->limit > 0 && q->limit <= KUNCI_EVENT_LIST_MAX ? q->limit : KUNCI_EVENT_LIST_MAX;
    return RUN(s, ST_EVENT_LIST, each_event, &x, NULL, SQL_INT(q->account_id), SQL_TEXT(q->subject),
               SQL_TEXT(q->event), SQL_TEXT(q->outcome), SQL_TEXT(q->agent), SQL_TEXT(q->client_ip),
               SQL_INT(q->since), SQL_INT(q->until), SQL_INT(q->before_id), SQL_INT(limit));
}

static int event_purge(struct kunci_store *s, int64_t before)
{
    return RUN(s, ST_EVENT_PURGE, NULL, NULL, NULL, SQL_INT(before));
}

static int purge_guards(struct kunci_store *s, int64_t now)
{
    int r = sql_begin(s);
    if (r != KUNCI_OK)
        return r;
    r = RUN(s, ST_LOCKOUT_PURGE, NULL, NULL, NULL, SQL_INT(now - GUARD_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(s, ST_SECRETS_PURGE, NULL, NULL, NULL, SQL_INT(now - GUARD_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(s, ST_ADDRESS_PURGE, NULL, NULL, NULL, SQL_INT(now - ADDRESS_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(s, ST_CODE_SENDS_PURGE, NULL, NULL, NULL, SQL_INT(now - SENDS_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(s, ST_ONCE_PURGE, NULL, NULL, NULL, SQL_INT(now - ONCE_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(s, ST_LEGACY_PURGE, NULL, NULL, NULL, SQL_INT(now - GUARD_KEEP_SECONDS));
    return sql_finish(s, r);
}

static int write_probe(struct kunci_store *s, int64_t now)
{
    int64_t changes = 0;
    int r = RUN(s, ST_HEARTBEAT, NULL, NULL, &changes, SQL_INT(now));
    return r == KUNCI_OK && changes != 1 ? KUNCI_ERR_SCHEMA : r;
}

static const struct kunci_store_backend sql_backend = {
    .name = "sql",
    .close = sql_close,
    .cache_counts = sql_cache_counts,
    .migrate = sql_migrate,
    .begin = sql_begin,
    .finish = sql_finish,
    .account_by_login = account_by_login,
    .account_by_id = account_by_id,
    .account_insert = account_insert,
    .account_update = account_update,
    .account_rehash = account_rehash,
    .account_delete = account_delete,
    .account_list = account_list,
    .account_search = account_search,
    .app_password_count = app_password_count,
    .account_signed_in = account_signed_in,
    .account_setup_deferred = account_setup_deferred,
    .backup_codes_replace = backup_codes_replace,
    .backup_code_use = backup_code_use,
    .backup_codes_count = backup_codes_count,
    .access_pass_set = access_pass_set,
    .access_pass_use = access_pass_use,
    .access_pass_delete = access_pass_delete,
    .legacy_client_seen = legacy_client_seen,
    .legacy_client_list = legacy_client_list,
    .app_password_insert = app_password_insert,
    .app_password_lookup = app_password_lookup,
    .app_password_list = app_password_list,
    .app_password_delete = app_password_delete,
    .app_password_delete_all = app_password_delete_all,
    .app_password_touch = app_password_touch,
    .app_password_rekey = app_password_rekey,
    .app_password_key_mark = app_password_key_mark,
    .app_password_key_count = app_password_key_count,
    .app_password_key_delete = app_password_key_delete,
    .method_secret_each = method_secret_each,
    .method_secret_set = method_secret_set,
    .setting_set = setting_set,
    .settings_each = settings_each,
    .session_insert = session_insert,
    .session_lookup = session_lookup,
    .session_update = session_update,
    .session_delete = session_delete,
    .session_count = session_count,
    .session_code_failure = session_code_failure,
    .purge_expired = purge_expired,
    .method_insert = method_insert,
    .method_get = method_get,
    .method_list = method_list,
    .method_delete = method_delete,
    .method_set_default = method_set_default,
    .method_use_totp_step = method_use_totp_step,
    .method_verify = method_verify,
    .passkey_insert = passkey_insert,
    .passkey_find = passkey_find,
    .passkey_list = passkey_list,
    .passkey_use = passkey_use,
    .method_rename = method_rename,
    .challenge_use = challenge_use,
    .code_put = code_put,
    .code_get = code_get,
    .code_count_attempt = code_count_attempt,
    .code_delete = code_delete,
    .device_insert = device_insert,
    .device_valid = device_valid,
    .lockout_hold = lockout_hold,
    .lockout_get = lockout_get,
    .lockout_save = lockout_save,
    .lockout_delete = lockout_delete,
    .lockout_clear_label = lockout_clear_label,
    .lockout_list = lockout_list,
    .secret_seen = secret_seen,
    .secrets_forget = secrets_forget,
    .address_success = address_success,
    .address_known = address_known,
    .code_sends = code_sends,
    .code_send_record = code_send_record,
    .once_claim = once_claim,
    .once_finish = once_finish,
    .once_release = once_release,
    .event_write = event_write,
    .event_list = event_list,
    .event_purge = event_purge,
    .purge_guards = purge_guards,
    .write_probe = write_probe,
};
