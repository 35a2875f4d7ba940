/* Store operations written once, over each backend's transaction and shared-statement
 * primitives (tx_begin, tx_finish, run): the guards' tables (consecutive failures, distinct
 * wrong secrets, successes per address), the codes sent, housekeeping and the write probe. */
#include "core/err.h"
#include "store/store.h"
#include "store/store_sql.h"

#include <stdio.h>
#include <string.h>

#define RUN(h, id, cb, arg, changes, ...)                                                          \
    ((h)->backend->run(                                                                            \
        (h)->store, (id), (const struct kunci_sql_arg[]){__VA_ARGS__},                             \
        (int)(sizeof((const struct kunci_sql_arg[]){__VA_ARGS__}) / sizeof(struct kunci_sql_arg)), \
        (cb), (arg), (changes)))

/* Seconds a successful sign-in from an address is remembered, and housekeeping ages. */
#define GUARD_KEEP_SECONDS   (90 * 86400)
#define ADDRESS_KEEP_SECONDS (7 * 86400)
#define SENDS_KEEP_SECONDS   86400

int kunci_store_begin(struct kunci_store_handle *h)
{
    return h->backend->tx_begin(h->store);
}

int kunci_store_finish(struct kunci_store_handle *h, int r)
{
    return h->backend->tx_finish(h->store, r);
}

static int read_lockout(void *arg, const struct kunci_sql_row *row)
{
    struct kunci_lockout *l = arg;
    memset(l, 0, sizeof(*l));
    snprintf(l->scope, sizeof(l->scope), "%s", row->text(row, 0));
    snprintf(l->subject, sizeof(l->subject), "%s", row->text(row, 1));
    snprintf(l->label, sizeof(l->label), "%s", row->text(row, 2));
    l->failures = (int)row->integer(row, 3);
    l->locked_until = row->integer(row, 4);
    l->last_at = row->integer(row, 5);
    return KUNCI_OK;
}

/* Reads one row into arg through fill; KUNCI_ERR_NOT_FOUND when there was none. */
struct one_row {
    kunci_sql_row_cb fill;
    void *out;
    bool found;
};

static int take_one(void *arg, const struct kunci_sql_row *row)
{
    struct one_row *o = arg;
    if (o->found)
        return KUNCI_OK;
    o->found = true;
    return o->fill(o->out, row);
}

int kunci_store_lockout_hold(struct kunci_store_handle *h, const char *scope, const char *subject,
                             const char *label, int64_t now, struct kunci_lockout *row_r)
{
    struct one_row o = {read_lockout, row_r, false};
    int r = RUN(h, ST_LOCKOUT_ENSURE, NULL, NULL, NULL, SQL_TEXT(scope), SQL_TEXT(subject),
                SQL_TEXT(label), SQL_INT(now));
    if (r == KUNCI_OK)
        r = RUN(h, ST_LOCKOUT_HOLD, take_one, &o, NULL, SQL_TEXT(scope), SQL_TEXT(subject),
                SQL_TEXT(label));
    return r == KUNCI_OK && !o.found ? KUNCI_ERR_INTERNAL : r;
}

int kunci_store_lockout_get(struct kunci_store_handle *h, const char *scope, const char *subject,
                            struct kunci_lockout *row_r)
{
    struct one_row o = {read_lockout, row_r, false};
    int r = RUN(h, ST_LOCKOUT_GET, take_one, &o, NULL, SQL_TEXT(scope), SQL_TEXT(subject));
    return r == KUNCI_OK && !o.found ? KUNCI_ERR_NOT_FOUND : r;
}

int kunci_store_lockout_save(struct kunci_store_handle *h, const struct kunci_lockout *row)
{
    int64_t changes = 0;
    int r =
        RUN(h, ST_LOCKOUT_SAVE, NULL, NULL, &changes, SQL_TEXT(row->scope), SQL_TEXT(row->subject),
            SQL_INT(row->failures), SQL_INT(row->locked_until), SQL_INT(row->last_at));
    return r == KUNCI_OK && changes == 0 ? KUNCI_ERR_NOT_FOUND : r;
}

int kunci_store_lockout_delete(struct kunci_store_handle *h, const char *scope, const char *subject)
{
    return RUN(h, ST_LOCKOUT_DELETE, NULL, NULL, NULL, SQL_TEXT(scope), SQL_TEXT(subject));
}

int kunci_store_lockout_clear_label(struct kunci_store_handle *h, const char *label, int *count_r)
{
    int64_t changes = 0;
    int r = RUN(h, ST_LOCKOUT_CLEAR_LABEL, NULL, NULL, &changes, SQL_TEXT(label));
    if (count_r != NULL)
        *count_r = r == KUNCI_OK ? (int)changes : 0;
    return r;
}

struct lockout_each {
    kunci_lockout_cb cb;
    void *arg;
};

static int each_lockout(void *arg, const struct kunci_sql_row *row)
{
    struct lockout_each *e = arg;
    struct kunci_lockout l;
    read_lockout(&l, row);
    return e->cb(e->arg, &l);
}

int kunci_store_lockout_list(struct kunci_store_handle *h, kunci_lockout_cb cb, void *arg)
{
    struct lockout_each e = {cb, arg};
    return h->backend->run(h->store, ST_LOCKOUT_LIST, NULL, 0, each_lockout, &e, NULL);
}

int kunci_store_secret_seen(struct kunci_store_handle *h, const char *login_key,
                            const uint8_t *secret_key, int64_t now, bool *seen_r)
{
    int64_t changes = 0;
    int r = RUN(h, ST_SECRET_TOUCH, NULL, NULL, &changes, SQL_TEXT(login_key),
                SQL_BLOB(secret_key, KUNCI_DIGEST_BYTES), SQL_INT(now));
    *seen_r = r == KUNCI_OK && changes > 0;
    if (r == KUNCI_OK && changes == 0)
        r = RUN(h, ST_SECRET_ADD, NULL, NULL, NULL, SQL_TEXT(login_key),
                SQL_BLOB(secret_key, KUNCI_DIGEST_BYTES), SQL_INT(now));
    return r;
}

int kunci_store_secrets_forget(struct kunci_store_handle *h, const char *login_key)
{
    return RUN(h, ST_SECRETS_FORGET, NULL, NULL, NULL, SQL_TEXT(login_key));
}

int kunci_store_address_success(struct kunci_store_handle *h, const char *address,
                                const char *login_key, int64_t now)
{
    return RUN(h, ST_ADDRESS_SUCCESS, NULL, NULL, NULL, SQL_TEXT(address), SQL_TEXT(login_key),
               SQL_INT(now));
}

static int set_true(void *arg, const struct kunci_sql_row *row)
{
    (void)row;
    *(bool *)arg = true;
    return KUNCI_OK;
}

int kunci_store_address_known(struct kunci_store_handle *h, const char *address,
                              const char *client_ip, const char *login_key, const char *login,
                              int64_t since, bool *known_r)
{
    *known_r = false;
    return RUN(h, ST_ADDRESS_KNOWN, set_true, known_r, NULL, SQL_TEXT(address), SQL_TEXT(login_key),
               SQL_INT(since), SQL_TEXT(login), SQL_TEXT(client_ip));
}

static int read_account_sends(void *arg, const struct kunci_sql_row *row)
{
    struct kunci_code_sends *s = arg;
    s->account_recent = (int)row->integer(row, 0);
    s->account_day = (int)row->integer(row, 1);
    return KUNCI_OK;
}

static int read_destination_sends(void *arg, const struct kunci_sql_row *row)
{
    struct kunci_code_sends *s = arg;
    s->destination_recent = (int)row->integer(row, 0);
    s->destination_day = (int)row->integer(row, 1);
    s->destination_last = row->integer(row, 2);
    return KUNCI_OK;
}

static int read_registering_sends(void *arg, const struct kunci_sql_row *row)
{
    struct kunci_code_sends *s = arg;
    s->registering_destinations = (int)row->integer(row, 0);
    s->destination_registering = row->integer(row, 1) > 0;
    return KUNCI_OK;
}

int kunci_store_code_sends(struct kunci_store_handle *h, int64_t account_id,
                           const uint8_t *destination, int64_t recent_since, int64_t day_since,
                           struct kunci_code_sends *sends_r)
{
    memset(sends_r, 0, sizeof(*sends_r));
    int r = RUN(h, ST_CODE_SENDS_ACCOUNT, read_account_sends, sends_r, NULL, SQL_INT(account_id),
                SQL_INT(recent_since), SQL_INT(day_since));
    if (r == KUNCI_OK)
        r = RUN(h, ST_CODE_SENDS_DESTINATION, read_destination_sends, sends_r, NULL,
                SQL_BLOB(destination, KUNCI_DIGEST_BYTES), SQL_INT(recent_since),
                SQL_INT(day_since));
    if (r == KUNCI_OK)
        r = RUN(h, ST_CODE_SENDS_REGISTERING, read_registering_sends, sends_r, NULL,
                SQL_INT(account_id), SQL_BLOB(destination, KUNCI_DIGEST_BYTES), SQL_INT(day_since));
    return r;
}

int kunci_store_code_send_record(struct kunci_store_handle *h, int64_t account_id,
                                 const uint8_t *destination, bool registering, int64_t now)
{
    return RUN(h, ST_CODE_SEND_RECORD, NULL, NULL, NULL, SQL_INT(account_id),
               SQL_BLOB(destination, KUNCI_DIGEST_BYTES), SQL_INT(registering ? 1 : 0),
               SQL_INT(now));
}

int kunci_store_purge_guards(struct kunci_store_handle *h, int64_t now)
{
    int r = kunci_store_begin(h);
    if (r != KUNCI_OK)
        return r;
    r = RUN(h, ST_LOCKOUT_PURGE, NULL, NULL, NULL, SQL_INT(now - GUARD_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(h, ST_SECRETS_PURGE, NULL, NULL, NULL, SQL_INT(now - GUARD_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(h, ST_ADDRESS_PURGE, NULL, NULL, NULL, SQL_INT(now - ADDRESS_KEEP_SECONDS));
    if (r == KUNCI_OK)
        r = RUN(h, ST_CODE_SENDS_PURGE, NULL, NULL, NULL, SQL_INT(now - SENDS_KEEP_SECONDS));
    return kunci_store_finish(h, r);
}

int kunci_store_write_probe(struct kunci_store_handle *h, int64_t now)
{
    int64_t changes = 0;
    int r = RUN(h, ST_HEARTBEAT, NULL, NULL, &changes, SQL_INT(now));
    return r == KUNCI_OK && changes != 1 ? KUNCI_ERR_SCHEMA : r;
}
