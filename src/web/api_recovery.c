/* Recovery on the web: backup codes (a new set on Security info, one as the second factor
 * at sign-in) and the temporary access pass an administrator issues. */
#include "web/api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/recovery.h"
#include "core/timespec.h"

enum MHD_Result api_backup_codes_new(struct web_request *rq)
{
    char codes[KUNCI_BACKUP_CODES][KUNCI_BACKUP_CODE_FORMATTED];
    int r = kunci_backup_codes_new(rq->ctx, rq->h, &rq->account, rq->now, codes);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    web_event(rq, "backup_codes_created", NULL, NULL, NULL, NULL);
    json_t *list = json_array();
    for (int i = 0; i < KUNCI_BACKUP_CODES; i++)
        json_array_append_new(list, json_string(codes[i]));
    sodium_memzero(codes, sizeof(codes));
    return api_json(rq, 201, json_pack("{s:o, s:i}", "codes", list, "unused", KUNCI_BACKUP_CODES));
}

/* A backup code instead of the default method's code, at sign-in. */
enum MHD_Result api_session_backup_code(struct web_request *rq)
{
    const char *code = web_body_string(rq, "code");
    int64_t retry_after = 0;

    if (web_next(rq) != KUNCI_NEXT_SECOND_FACTOR)
        return api_error(rq, 409, "not_needed", "No code is needed now.");
    if (web_passkey_only(rq))
        return api_error(rq, 403, "passkey_required",
                         "Your organization requires your passkey or security key here.");
    if (code == NULL)
        return api_error(rq, 400, "invalid", "Enter a backup code.");
    int r = kunci_backup_code_check(rq->ctx, rq->h, &rq->account, code, rq->now, &retry_after);
    web_event(rq, "second_factor", NULL, r == KUNCI_OK ? NULL : "refused",
              r == KUNCI_OK ? NULL : web_code_error_name(r), "backup code");
    if (r != KUNCI_OK)
        return web_code_error(rq, r, retry_after);
    rq->session.mfa_at = rq->now;
    if ((r = web_session_rotate(rq, KUNCI_SESSION_FULL)) != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, web_session_json(rq));
}

/* {valid: "8h", one_time: true}: shown once to the administrator, who gives it to the user. */
enum MHD_Result api_admin_access_pass(struct web_request *rq)
{
    struct kunci_account a;
    const char *valid = web_body_string(rq, "valid");
    json_t *one = json_object_get(rq->body, "one_time");
    char pass[KUNCI_ACCESS_PASS_FORMATTED], expires[32];
    int64_t until = 0;

    int r = kunci_account_get(rq->h, rq->params[0], &a);
    if (r != KUNCI_OK)
        return api_fail(rq, r == KUNCI_ERR_INVALID ? KUNCI_ERR_NOT_FOUND : r);
    if (kunci_expiry_parse(valid != NULL ? valid : "8h", rq->now, &until) != KUNCI_OK ||
        until - rq->now > KUNCI_ACCESS_PASS_MAX_SECONDS)
        return api_error(rq, 400, "bad_expiry", "valid is like 1h, 8h or 2d, at most 30 days.");
    r = kunci_access_pass_issue(rq->ctx, rq->h, &a, rq->now, until - rq->now,
                                one == NULL || json_is_true(one), pass);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    kunci_time_format(until, expires, sizeof(expires));
    web_event(rq, "access_pass_issued", &a, NULL, "by_admin", expires);
    json_t *out = json_pack("{s:s, s:s, s:s, s:b}", "login", a.login, "pass", pass, "expires_at",
                            expires, "one_time", one == NULL || json_is_true(one));
    sodium_memzero(pass, sizeof(pass));
    sodium_memzero(&a, sizeof(a));
    return api_json(rq, 201, out);
}
