/* The statements both SQL backends run, written once. Placeholders are ?N (the PostgreSQL
 * backend turns them into $N); a CAST stands where PostgreSQL needs a type; new ids come
 * back through RETURNING (SQLite 3.35 and PostgreSQL both have it). Only the schema
 * (migrations) is written per backend. */
#ifndef KUNCI_STORE_SQL_H
#define KUNCI_STORE_SQL_H

#define ACCOUNT_COLUMNS                                                                            \
    "a.id, a.login, a.display_name, a.role, a.enabled, a.mfa_state, a.password_hash, "             \
    "a.created_at, a.password_changed_at, a.must_change_password"
#define ACCOUNT_NCOLS 10
#define APP_PASSWORD_COLUMNS                                                                       \
    "ap.id, ap.account_id, ap.name, ap.digest, ap.protocols, ap.networks, ap.created_at, "         \
    "COALESCE(ap.expires_at, 0), COALESCE(ap.last_used_at, 0), COALESCE(ap.last_used_ip, ''), "    \
    "COALESCE(ap.last_used_protocol, '')"
#define APP_PASSWORD_NCOLS 11
#define SESSION_COLUMNS                                                                            \
    "id, account_id, token_hash, csrf, stage, created_at, last_seen_at, password_at, mfa_at"
/* A row of the users list: the account, and what the administrator sorts users by. ?5 is
 * since when a mail client on the account password counts. */
#define SUMMARY_COLUMNS                                                                            \
    ACCOUNT_COLUMNS ", (SELECT count(*) FROM mfa_methods m WHERE m.account_id = a.id AND "         \
                    "m.verified = 1), (SELECT count(*) FROM app_passwords ap WHERE "               \
                    "ap.account_id = a.id), COALESCE(a.last_sign_in_at, 0), (SELECT count(*) "     \
                    "FROM legacy_clients l WHERE l.account_id = a.id AND l.last_at > ?5)"
#define PASSKEY_COLUMNS                                                                            \
    "p.method_id, p.account_id, p.credential_id, p.public_key, p.algorithm, p.sign_count, "        \
    "p.aaguid, p.backup_eligible, p.backup_state, p.user_verified, p.discoverable, p.transports, " \
    "m.created_at, COALESCE(p.last_used_at, 0)"
#define METHOD_COLUMNS                                                                             \
    "id, account_id, kind, target, channel, secret, is_default, verified, last_totp_step, "        \
    "created_at"

/* X(name, sql) */
#define KUNCI_SQL_STATEMENTS(X)                                                                    \
    X(ACCOUNT_BY_LOGIN, "SELECT " ACCOUNT_COLUMNS " FROM accounts a WHERE a.login = ?1")           \
    X(ACCOUNT_BY_ID, "SELECT " ACCOUNT_COLUMNS " FROM accounts a WHERE a.id = ?1")                 \
    X(ACCOUNT_INSERT,                                                                              \
      "INSERT INTO accounts (login, display_name, role, enabled, mfa_state, password_hash, "       \
      "created_at, password_changed_at, must_change_password, display_key) "                       \
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id")                             \
    X(ACCOUNT_UPDATE, "UPDATE accounts SET display_name = ?2, role = ?3, enabled = ?4, "           \
                      "mfa_state = ?5, password_hash = ?6, password_changed_at = ?7, "             \
                      "must_change_password = ?8, display_key = ?9 WHERE id = ?1")                 \
    /* A page of the users list: a prefix of the login or the display name (lowercase, ranges      \
     * over indexes compared bytewise), after the last login of the previous page. */              \
    /* ?1 (the empty search) is named only so that PostgreSQL knows every parameter's type. */     \
    X(ACCOUNT_PAGE, "SELECT " SUMMARY_COLUMNS " FROM accounts a WHERE a.login > ?3 "               \
                    "AND CAST(?1 AS TEXT) = '' AND CAST(?2 AS TEXT) <> '' "                        \
                    "ORDER BY a.login LIMIT ?4")                                                   \
    /* Each prefix a range over its own index, each cut to a page before they are merged. */       \
    X(ACCOUNT_SEARCH,                                                                              \
      "SELECT " SUMMARY_COLUMNS " FROM accounts a WHERE a.id IN ("                                 \
      "SELECT id FROM (SELECT id FROM accounts WHERE login >= ?1 AND login < ?2 AND login > ?3 "   \
      "ORDER BY login LIMIT ?4) AS by_login UNION "                                                \
      "SELECT id FROM (SELECT id FROM accounts WHERE display_key >= ?1 AND display_key < ?2 "      \
      "AND login > ?3 ORDER BY login LIMIT ?4) AS by_name) ORDER BY a.login LIMIT ?4")             \
    X(ACCOUNT_SIGNED_IN, "UPDATE accounts SET last_sign_in_at = ?2 WHERE id = ?1")                 \
    X(ACCOUNT_DEFER_SETUP, "UPDATE accounts SET setup_deferred_at = "                              \
                           "COALESCE(setup_deferred_at, ?2) WHERE id = ?1 "                        \
                           "RETURNING setup_deferred_at")                                          \
    X(ACCOUNT_SETUP_DEFERRED, "SELECT COALESCE(setup_deferred_at, 0) FROM accounts WHERE id = ?1") \
    X(METHODS_DELETE_ALL, "DELETE FROM mfa_methods WHERE account_id = ?1")                         \
    /* A mail client that signed in with the account password (readiness before "enforced"):       \
     * written at most once a minute per client. */                                                \
    X(LEGACY_SEEN,                                                                                 \
      "INSERT INTO legacy_clients (account_id, protocol, client_ip, first_at, last_at, count) "    \
      "VALUES (?1, ?2, ?3, ?4, ?4, 1) ON CONFLICT (account_id, protocol, client_ip) DO UPDATE "    \
      "SET last_at = excluded.last_at, count = legacy_clients.count + 1 "                          \
      "WHERE legacy_clients.last_at < excluded.last_at - 60")                                      \
    X(LEGACY_LIST, "SELECT protocol, client_ip, first_at, last_at, count FROM legacy_clients "     \
                   "WHERE account_id = ?1 AND last_at > ?2 ORDER BY last_at DESC")                 \
    X(LEGACY_PURGE, "DELETE FROM legacy_clients WHERE last_at < ?1")                               \
    X(ACCOUNT_REHASH,                                                                              \
      "UPDATE accounts SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2")               \
    X(ACCOUNT_DELETE, "DELETE FROM accounts WHERE id = ?1")                                        \
    X(ACCOUNT_LIST, "SELECT " ACCOUNT_COLUMNS " FROM accounts a ORDER BY a.login")                 \
    /* PostgreSQL only: serialises one account's app-password inserts across servers (SQLite       \
     * has BEGIN IMMEDIATE). */                                                                    \
    X(ACCOUNT_LOCK, "SELECT id FROM accounts WHERE id = ?1 FOR UPDATE")                            \
    X(AP_COUNT, "SELECT count(*) FROM app_passwords WHERE account_id = ?1")                        \
    X(AP_INSERT, "INSERT INTO app_passwords (account_id, name, digest, protocols, networks, "      \
                 "created_at, expires_at, key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "                \
                 "NULLIF(CAST(?7 AS BIGINT), 0), ?8) RETURNING id")                                \
    /* Key rotation: a digest moved to the current key at its first use; the rows under a          \
     * key (those made before key ids are under the key of the first rotation). */                 \
    X(AP_REKEY, "UPDATE app_passwords SET digest = ?2, key_id = ?3 WHERE id = ?1 AND digest = ?4") \
    X(AP_KEY_MARK, "UPDATE app_passwords SET key_id = ?1 WHERE key_id = ''")                       \
    X(AP_KEY_COUNT, "SELECT count(*) FROM app_passwords WHERE key_id = ?1")                        \
    X(AP_KEY_DELETE, "DELETE FROM app_passwords WHERE key_id = ?1")                                \
    X(METHOD_SECRETS, "SELECT id, secret FROM mfa_methods WHERE secret IS NOT NULL ORDER BY id")   \
    X(METHOD_SECRET_SET, "UPDATE mfa_methods SET secret = ?2 WHERE id = ?1")                       \
    X(AP_LOOKUP, "SELECT " APP_PASSWORD_COLUMNS ", " ACCOUNT_COLUMNS ", "                          \
                 "COALESCE((SELECT value FROM settings WHERE key = 'app_passwords_allowed'), "     \
                 "'true') FROM app_passwords ap JOIN accounts a ON a.id = ap.account_id "          \
                 "WHERE ap.digest = ?1")                                                           \
    X(AP_LIST, "SELECT " APP_PASSWORD_COLUMNS " FROM app_passwords ap "                            \
               "WHERE ap.account_id = ?1 ORDER BY ap.id")                                          \
    X(AP_DELETE, "DELETE FROM app_passwords WHERE account_id = ?1 AND id = ?2")                    \
    X(AP_DELETE_ALL, "DELETE FROM app_passwords WHERE account_id = ?1")                            \
    X(AP_TOUCH, "UPDATE app_passwords SET last_used_at = ?2, last_used_ip = ?3, "                  \
                "last_used_protocol = ?4 WHERE id = ?1 AND (last_used_at IS NULL OR "              \
                "last_used_at <= CAST(?2 AS BIGINT) - CAST(?5 AS BIGINT) OR last_used_at > ?2)")   \
    X(SETTING_SET, "INSERT INTO settings (key, value) VALUES (?1, ?2) "                            \
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value")                       \
    X(SETTINGS_EACH, "SELECT key, value FROM settings ORDER BY key")                               \
    X(SESSION_INSERT,                                                                              \
      "INSERT INTO sessions (account_id, token_hash, csrf, stage, created_at, "                    \
      "last_seen_at, password_at, mfa_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "                \
      "RETURNING id")                                                                              \
    X(SESSION_LOOKUP, "SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1")            \
    X(SESSION_UPDATE, "UPDATE sessions SET stage = ?2, last_seen_at = ?3, password_at = ?4, "      \
                      "mfa_at = ?5 WHERE id = ?1")                                                 \
    X(SESSIONS_END, "DELETE FROM sessions WHERE account_id = ?1 AND id <> ?2")                     \
    X(DEVICES_FORGET, "DELETE FROM trusted_devices WHERE account_id = ?1")                         \
    X(SESSION_DELETE, "DELETE FROM sessions WHERE id = ?1")                                        \
    X(SESSION_COUNT, "SELECT count(*) FROM sessions")                                              \
    X(SESSION_FAILURE, "UPDATE sessions SET code_failures = code_failures + 1 WHERE id = ?1 "      \
                       "RETURNING code_failures")                                                  \
    X(PURGE_SESSIONS, "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2")           \
    X(PURGE_DEVICES, "DELETE FROM trusted_devices WHERE expires_at <= ?1")                         \
    X(PURGE_CODES, "DELETE FROM codes WHERE expires_at <= ?1")                                     \
    X(METHOD_INSERT, "INSERT INTO mfa_methods (account_id, kind, target, channel, secret, "        \
                     "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id")                   \
    X(METHOD_GET, "SELECT " METHOD_COLUMNS " FROM mfa_methods WHERE account_id = ?1 AND id = ?2")  \
    X(METHOD_LIST, "SELECT " METHOD_COLUMNS " FROM mfa_methods WHERE account_id = ?1 ORDER BY id") \
    X(METHOD_DELETE, "DELETE FROM mfa_methods WHERE account_id = ?1 AND id = ?2")                  \
    X(METHOD_CLEAR_DEFAULT, "UPDATE mfa_methods SET is_default = 0 WHERE account_id = ?1")         \
    X(METHOD_SET_DEFAULT, "UPDATE mfa_methods SET is_default = 1 WHERE account_id = ?1 AND "       \
                          "id = ?2 AND verified = 1")                                              \
    X(METHOD_USE_STEP,                                                                             \
      "UPDATE mfa_methods SET last_totp_step = ?2 WHERE id = ?1 AND last_totp_step < ?2")          \
    X(METHOD_VERIFY, "UPDATE mfa_methods SET verified = 1 WHERE account_id = ?1 AND id = ?2")      \
    X(METHOD_DEFAULT_IF_NONE,                                                                      \
      "UPDATE mfa_methods SET is_default = 1 WHERE id = ?2 AND NOT EXISTS "                        \
      "(SELECT 1 FROM mfa_methods WHERE account_id = ?1 AND is_default = 1)")                      \
    X(CODE_PUT, "INSERT INTO codes (account_id, method_id, code_hash, expires_at) "                \
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (method_id) DO UPDATE SET "                   \
                "code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0")  \
    X(CODE_GET, "SELECT id, account_id, method_id, code_hash, expires_at, attempts FROM codes "    \
                "WHERE account_id = ?1 AND method_id = ?2")                                        \
    X(CODE_ATTEMPT, "UPDATE codes SET attempts = attempts + 1 WHERE id = ?1")                      \
    X(CODE_DELETE, "DELETE FROM codes WHERE id = ?1")                                              \
    X(DEVICE_INSERT, "INSERT INTO trusted_devices (account_id, token_hash, created_at, "           \
                     "expires_at) VALUES (?1, ?2, ?3, ?4)")                                        \
    X(DEVICE_VALID, "SELECT 1 FROM trusted_devices WHERE account_id = ?1 AND token_hash = ?2 "     \
                    "AND expires_at > ?3")                                                         \
    /* Guards: consecutive failures, distinct wrong secrets, successes per address, codes sent. */ \
    X(LOCKOUT_ENSURE, "INSERT INTO lockouts (scope, subject, label, failures, locked_until, "      \
                      "last_at) VALUES (?1, ?2, ?3, 0, 0, ?4) ON CONFLICT (scope, subject) "       \
                      "DO NOTHING")                                                                \
    /* An update, so PostgreSQL holds the row until the transaction ends. */                       \
    X(LOCKOUT_HOLD, "UPDATE lockouts SET label = ?3 WHERE scope = ?1 AND subject = ?2 "            \
                    "RETURNING scope, subject, label, failures, locked_until, last_at")            \
    X(LOCKOUT_GET, "SELECT scope, subject, label, failures, locked_until, last_at FROM lockouts "  \
                   "WHERE scope = ?1 AND subject = ?2")                                            \
    X(LOCKOUT_SAVE, "UPDATE lockouts SET failures = ?3, locked_until = ?4, last_at = ?5 "          \
                    "WHERE scope = ?1 AND subject = ?2")                                           \
    X(LOCKOUT_DELETE, "DELETE FROM lockouts WHERE scope = ?1 AND subject = ?2")                    \
    X(LOCKOUT_CLEAR_LABEL, "DELETE FROM lockouts WHERE label = ?1")                                \
    X(LOCKOUT_LIST, "SELECT scope, subject, label, failures, locked_until, last_at FROM lockouts " \
                    "ORDER BY last_at DESC, scope, subject")                                       \
    X(LOCKOUT_PURGE, "DELETE FROM lockouts WHERE last_at < ?1 AND locked_until <> -1")             \
    X(SECRET_TOUCH, "UPDATE login_failures SET at = ?3 WHERE login_key = ?1 AND secret_key = ?2")  \
    X(SECRET_ADD, "INSERT INTO login_failures (login_key, secret_key, at) VALUES (?1, ?2, ?3)")    \
    X(SECRETS_FORGET, "DELETE FROM login_failures WHERE login_key = ?1")                           \
    X(SECRETS_PURGE, "DELETE FROM login_failures WHERE at < ?1")                                   \
    X(ADDRESS_SUCCESS, "INSERT INTO address_logins (address, login_key, at) VALUES (?1, ?2, ?3) "  \
                       "ON CONFLICT (address, login_key) DO UPDATE SET at = excluded.at "          \
                       "WHERE address_logins.at < excluded.at - 60")                               \
    X(ADDRESS_KNOWN,                                                                               \
      "SELECT 1 FROM address_logins WHERE address = ?1 AND login_key = ?2 AND at > ?3 "            \
      "UNION ALL SELECT 1 FROM app_passwords ap JOIN accounts a ON a.id = ap.account_id "          \
      "WHERE a.login = ?4 AND ap.last_used_ip = ?5 AND ap.last_used_at > ?3")                      \
    X(ADDRESS_PURGE, "DELETE FROM address_logins WHERE at < ?1")                                   \
    X(CODE_SENDS_ACCOUNT, "SELECT COALESCE(SUM(CASE WHEN at > ?2 THEN 1 ELSE 0 END), 0), "         \
                          "count(*) FROM code_sends WHERE account_id = ?1 AND at > ?3")            \
    X(CODE_SENDS_DESTINATION,                                                                      \
      "SELECT COALESCE(SUM(CASE WHEN at > ?2 THEN 1 ELSE 0 END), 0), count(*), "                   \
      "COALESCE(max(at), 0) FROM code_sends WHERE destination = ?1 AND at > ?3")                   \
    X(CODE_SENDS_REGISTERING,                                                                      \
      "SELECT count(DISTINCT destination), "                                                       \
      "COALESCE(SUM(CASE WHEN destination = ?2 THEN 1 ELSE 0 END), 0) FROM code_sends "            \
      "WHERE account_id = ?1 AND registering = 1 AND at > ?3")                                     \
    X(CODE_SEND_RECORD, "INSERT INTO code_sends (account_id, destination, registering, at) "       \
                        "VALUES (?1, ?2, ?3, ?4)")                                                 \
    X(CODE_SENDS_PURGE, "DELETE FROM code_sends WHERE at < ?1")                                    \
    X(ONCE_DROP, "DELETE FROM request_once WHERE account_id = ?1 AND request_key = ?2 AND "        \
                 "((status = 0 AND created_at < ?3) OR (status > 0 AND created_at < ?4))")         \
    X(ONCE_CLAIM, "INSERT INTO request_once (account_id, request_key, fingerprint, status, "       \
                  "created_at) VALUES (?1, ?2, ?3, 0, ?4) "                                        \
                  "ON CONFLICT (account_id, request_key) DO NOTHING RETURNING 1")                  \
    X(ONCE_GET, "SELECT fingerprint, status, sealed, created_at FROM request_once "                \
                "WHERE account_id = ?1 AND request_key = ?2")                                      \
    X(ONCE_FINISH, "UPDATE request_once SET status = ?3, sealed = ?4 "                             \
                   "WHERE account_id = ?1 AND request_key = ?2 AND status = 0")                    \
    X(ONCE_RELEASE,                                                                                \
      "DELETE FROM request_once WHERE account_id = ?1 AND request_key = ?2 AND status = 0")        \
    X(ONCE_PURGE, "DELETE FROM request_once WHERE created_at < ?1")                                \
    X(EVENT_INSERT, "INSERT INTO events (at, last_at, event, actor, subject, account_id, "         \
                    "client_ip, agent, outcome, reason, detail, app_password_id, count, agg_key, " \
                    "agg_bucket) VALUES (?1, ?2, ?3, ?4, ?5, NULLIF(CAST(?6 AS BIGINT), 0), ?7, "  \
                    "?8, ?9, ?10, ?11, NULLIF(CAST(?12 AS BIGINT), 0), ?13, NULL, NULL)")          \
    X(EVENT_UPSERT,                                                                                \
      "INSERT INTO events (at, last_at, event, actor, subject, account_id, client_ip, agent, "     \
      "outcome, reason, detail, app_password_id, count, agg_key, agg_bucket) VALUES (?1, ?2, "     \
      "?3, ?4, ?5, NULLIF(CAST(?6 AS BIGINT), 0), ?7, ?8, ?9, ?10, ?11, "                          \
      "NULLIF(CAST(?12 AS BIGINT), 0), ?13, ?14, ?15) ON CONFLICT (agg_key, agg_bucket) DO "       \
      "UPDATE SET count = events.count + excluded.count, last_at = CASE WHEN excluded.last_at > "  \
      "events.last_at THEN excluded.last_at ELSE events.last_at END")                              \
    X(EVENT_LIST,                                                                                  \
      "SELECT id, at, last_at, event, actor, subject, COALESCE(account_id, 0), client_ip, agent, " \
      "outcome, reason, detail, COALESCE(app_password_id, 0), count FROM events WHERE "            \
      "(CAST(?1 AS BIGINT) = 0 OR account_id = CAST(?1 AS BIGINT)) AND "                           \
      "(CAST(?2 AS TEXT) = '' OR subject = CAST(?2 AS TEXT)) AND "                                 \
      "(CAST(?3 AS TEXT) = '' OR event = CAST(?3 AS TEXT)) AND "                                   \
      "(CAST(?4 AS TEXT) = '' OR outcome = CAST(?4 AS TEXT)) AND "                                 \
      "(CAST(?5 AS TEXT) = '' OR agent = CAST(?5 AS TEXT)) AND "                                   \
      "(CAST(?6 AS TEXT) = '' OR client_ip = CAST(?6 AS TEXT)) AND "                               \
      "(CAST(?7 AS BIGINT) = 0 OR last_at >= CAST(?7 AS BIGINT)) AND "                             \
      "(CAST(?8 AS BIGINT) = 0 OR at < CAST(?8 AS BIGINT)) AND "                                   \
      "(CAST(?9 AS BIGINT) = 0 OR id < CAST(?9 AS BIGINT)) ORDER BY id DESC LIMIT ?10")            \
    X(EVENT_PURGE, "DELETE FROM events WHERE last_at < ?1")                                        \
    X(BACKUP_DELETE_ALL, "DELETE FROM backup_codes WHERE account_id = ?1")                         \
    X(BACKUP_INSERT,                                                                               \
      "INSERT INTO backup_codes (account_id, digest, created_at) VALUES (?1, ?2, ?3)")             \
    X(BACKUP_USE, "UPDATE backup_codes SET used_at = ?3 WHERE account_id = ?1 AND digest = ?2 "    \
                  "AND used_at IS NULL")                                                           \
    X(BACKUP_COUNT, "SELECT count(*), COALESCE(SUM(CASE WHEN used_at IS NULL THEN 1 ELSE 0 END), " \
                    "0), COALESCE(max(created_at), 0) FROM backup_codes WHERE account_id = ?1")    \
    X(PASS_SET,                                                                                    \
      "INSERT INTO access_passes (account_id, digest, created_at, expires_at, one_time) "          \
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (account_id) DO UPDATE SET "                        \
      "digest = excluded.digest, created_at = excluded.created_at, "                               \
      "expires_at = excluded.expires_at, one_time = excluded.one_time, used_at = NULL")            \
    /* A one-time pass is used up in the same statement that accepts it. */                        \
    X(PASS_USE, "UPDATE access_passes SET used_at = ?3 WHERE account_id = ?1 AND digest = ?2 "     \
                "AND expires_at > ?3 AND (one_time = 0 OR used_at IS NULL)")                       \
    X(PASS_DELETE, "DELETE FROM access_passes WHERE account_id = ?1")                              \
    X(PASSKEY_INSERT,                                                                              \
      "INSERT INTO passkeys (method_id, account_id, credential_id, public_key, algorithm, "        \
      "sign_count, aaguid, backup_eligible, backup_state, user_verified, discoverable, "           \
      "transports) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")                    \
    X(PASSKEY_BY_CREDENTIAL, "SELECT " PASSKEY_COLUMNS " FROM passkeys p JOIN mfa_methods m ON "   \
                             "m.id = p.method_id WHERE p.credential_id = ?1")                      \
    X(PASSKEY_LIST, "SELECT " PASSKEY_COLUMNS " FROM passkeys p JOIN mfa_methods m ON "            \
                    "m.id = p.method_id WHERE p.account_id = ?1 ORDER BY p.method_id")             \
    /* The counter must grow, or stay 0 where the authenticator keeps none. */                     \
    X(PASSKEY_USE, "UPDATE passkeys SET sign_count = ?2, backup_state = ?3, last_used_at = ?4 "    \
                   "WHERE method_id = ?1 AND (sign_count < ?2 OR (sign_count = 0 AND ?2 = 0))")    \
    X(METHOD_RENAME, "UPDATE mfa_methods SET target = ?3 WHERE account_id = ?1 AND id = ?2 AND "   \
                     "kind = 'passkey'")                                                           \
    X(CHALLENGE_USE, "INSERT INTO webauthn_challenges (challenge, expires_at) VALUES (?1, ?2) "    \
                     "ON CONFLICT (challenge) DO NOTHING RETURNING 1")                             \
    X(PURGE_CHALLENGES, "DELETE FROM webauthn_challenges WHERE expires_at <= ?1")                  \
    X(HEARTBEAT, "UPDATE heartbeat SET at = ?1 WHERE id = 1")

enum stmt_id {
#define KUNCI_SQL_ENUM(name, sql) ST_##name,
    KUNCI_SQL_STATEMENTS(KUNCI_SQL_ENUM)
#undef KUNCI_SQL_ENUM
        ST_COUNT
};

extern const char *const kunci_sql_text[ST_COUNT];

#endif
