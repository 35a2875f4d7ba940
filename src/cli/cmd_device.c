/* kunci device profile: a device's settings with a new app password in them, for an
 * administrator who provisions devices (src/device/, docs/devices.md). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/events.h"
#include "core/protocol.h"
#include "core/secret.h"
#include "core/timespec.h"
#include "device/device.h"
#include "device/profile_sign.h"

static const char device_usage[] =
    "Usage: kunci device profile LOGIN --kind apple|android|autoconfig [--name NAME]\n"
    "                            [--expires 90d|12h|2w|2027-01-31] --out FILE\n"
    "\n"
    "  Creates an app password for one device, named NAME (by default after the kind) and\n"
    "  scoped to the protocols the settings configure, and writes FILE (mode 0600, never over\n"
    "  an existing file) from [devices] in kunci.conf:\n"
    "    apple       a signed configuration profile (.mobileconfig) with the password in it\n"
    "    android     the QR code (SVG) Thunderbird for Android imports, password included\n"
    "    autoconfig  Thunderbird's config-v1.1.xml (no password: it is printed once here)\n"
    "  FILE holds a password (apple, android): hand it to the device, then delete it.\n";

struct profile_opts {
    const char *kind, *name, *expires, *out;
};

static int parse(struct cli *cli, int argc, char **argv, struct profile_opts *o)
{
    static const struct option opts[] = {{"kind", required_argument, NULL, 'k'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"expires", required_argument, NULL, 'e'},
                                         {"out", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'k':
            o->kind = optarg;
            break;
        case 'n':
            o->name = optarg;
            break;
        case 'e':
            o->expires = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        default:
            fputs(device_usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || o->kind == NULL || o->out == NULL) {
        cli_error("usage: kunci device profile LOGIN --kind apple|android|autoconfig --out FILE");
        return EXIT_USAGE;
    }
    return -1;
}

/* FILE, new (never over one that is there), 0600: it will hold a password. Opened before
 * the app password is made, so a wrong path makes nothing. */
static int open_new(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        cli_error("%s: %s%s", path, strerror(errno),
                  errno == EEXIST ? " (choose a new file: an existing one is never replaced)" : "");
    return fd;
}

static int write_new(int fd, const char *path, const void *data, size_t len)
{
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
    int saved = left > 0 ? (errno != 0 ? errno : EIO) : fsync(fd) != 0 ? errno : 0;
    if (close(fd) != 0 && saved == 0)
        saved = errno;
    if (saved != 0) {
        cli_error("%s: %s", path, strerror(saved));
        unlink(path);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* What the kind needs of kunci.conf, checked before any app password is made. */
static int check_kind(struct cli *cli, enum kunci_device_kind kind, const char *login,
                      struct kunci_profile_signer **signer_r)
{
    const struct kunci_devices_config *d = &cli->cfg.devices;
    char err[PATH_MAX * 2 + 128];
    if (!kunci_devices_enabled(d)) {
        cli_error("device set-up is off: set imap_host and smtp_host in [devices] of kunci.conf");
        return EXIT_FAIL;
    }
    if (kind == KUNCI_DEVICE_ANDROID && kunci_device_address(login) == NULL) {
        cli_error("%s is not an e-mail address: Thunderbird for Android needs one", login);
        return EXIT_FAIL;
    }
    if (kind != KUNCI_DEVICE_APPLE)
        return EXIT_OK;
    if (d->profile_signing_cert[0] == '\0') {
        cli_error("Apple profiles are signed: set profile_signing_cert and profile_signing_key "
                  "in [devices] of kunci.conf");
        return EXIT_FAIL;
    }
    if (kunci_profile_signer_load(d->profile_signing_cert, d->profile_signing_key, signer_r, err,
                                  sizeof(err)) != KUNCI_OK) {
        cli_error("[devices] %s", err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* The file for the device, made from its new password. */
static int write_profile(struct cli *cli, int fd, const struct profile_opts *o,
                         const struct kunci_device_choice *c,
                         const struct kunci_profile_signer *signer,
                         const struct kunci_device_profile *p)
{
    int r = EXIT_FAIL;
    if (c->kind == KUNCI_DEVICE_APPLE) {
        uint8_t *der = NULL;
        size_t der_len = 0;
        char *plist = kunci_apple_profile(p);
        int s = plist != NULL ? kunci_profile_sign(signer, plist, strlen(plist), &der, &der_len)
                              : KUNCI_ERR_NOMEM;
        kunci_device_free(plist);
        if (s != KUNCI_OK) {
            close(fd);
            unlink(o->out);
            return cli_fail(s, "signing the profile");
        }
        r = write_new(fd, o->out, der, der_len);
        sodium_memzero(der, der_len);
        free(der);
        return r;
    }
    char *text = NULL;
    if (c->kind == KUNCI_DEVICE_ANDROID) {
        char *payload = kunci_android_payload(p);
        text = payload != NULL ? kunci_qr_svg(payload) : NULL;
        kunci_device_free(payload);
    } else {
        text = kunci_autoconfig_xml(&cli->cfg.devices, p->address, p->login);
    }
    if (text == NULL) {
        close(fd);
        unlink(o->out);
        return cli_fail(KUNCI_ERR_NOMEM, "the device's settings");
    }
    r = write_new(fd, o->out, text, strlen(text));
    kunci_device_free(text);
    return r;
}

static void report(struct cli *cli, const struct profile_opts *o,
                   const struct kunci_device_choice *c, const struct kunci_app_password *ap,
                   const char *login, const char *password)
{
    char shown[KUNCI_APP_PASSWORD_FORMATTED_MAX];
    bool show = c->kind == KUNCI_DEVICE_AUTOCONFIG;
    kunci_app_password_format(password, shown, sizeof(shown));
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "login", login, "kind", c->id, "id",
                              (json_int_t)ap->id, "name", ap->name, "file", o->out);
        if (show)
            json_object_set_new(j, "password", json_string(shown));
        cli_print_json(j);
    } else if (show) {
        printf("app password \"%s\" (id %lld) for %s; settings in %s. The password, shown "
               "once:\n\n    %s\n\n",
               ap->name, (long long)ap->id, login, o->out, shown);
    } else {
        printf("app password \"%s\" (id %lld) for %s, inside %s. The file holds the password: "
               "give it only to that device, then delete it.\n",
               ap->name, (long long)ap->id, login, o->out);
    }
    sodium_memzero(shown, sizeof(shown));
}

static int device_profile(struct cli *cli, int argc, char **argv)
{
    struct profile_opts o = {NULL, NULL, NULL, NULL};
    struct kunci_device_choice c;
    struct kunci_profile_signer *signer = NULL;
    struct kunci_app_password ap;
    struct kunci_account a;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1];
    int64_t now = (int64_t)time(NULL), expires_at = 0;
    int r = parse(cli, argc, argv, &o);

    if (r >= 0)
        return r;
    if (!kunci_device_choice_parse(o.kind, &c) ||
        (strcmp(c.id, "apple") != 0 && strcmp(c.id, "android") != 0 &&
         strcmp(c.id, "autoconfig") != 0)) {
        cli_error("--kind takes apple, android or autoconfig");
        return EXIT_USAGE;
    }
    const char *base = strrchr(o.out, '/');
    const char *dot = strrchr(base != NULL ? base + 1 : o.out, '.');
    if (c.kind == KUNCI_DEVICE_ANDROID && dot != NULL && strcmp(dot, ".svg") != 0) {
        cli_error("--kind android writes an SVG image: name the file .svg");
        return EXIT_USAGE;
    }
    if (o.expires != NULL && kunci_expiry_parse(o.expires, now, &expires_at) != KUNCI_OK) {
        cli_error("--expires takes a duration (90d, 12h, 2w) or a future date (2027-01-31)");
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK || (r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    if ((r = check_kind(cli, c.kind, a.login, &signer)) != EXIT_OK)
        return r;
    int fd = open_new(o.out);
    if (fd < 0) {
        kunci_profile_signer_free(signer);
        return EXIT_FAIL;
    }
    int k = kunci_device_app_password(&cli->ctx, &cli->store, &a, c.kind,
                                      o.name != NULL ? o.name : c.name, expires_at, now, pw,
                                      sizeof(pw), &ap);
    if (k == KUNCI_ERR_LIMIT) {
        cli_error("%s has reached the limit of app passwords (app_passwords_max); delete one "
                  "first",
                  a.login);
        r = EXIT_FAIL;
    } else if (k == KUNCI_ERR_INVALID || k == KUNCI_ERR_TOO_LONG) {
        cli_error("the name must be 1 to %d printable characters", KUNCI_APP_NAME_MAX);
        r = EXIT_FAIL;
    } else if (k != KUNCI_OK) {
        r = cli_fail(k, "cannot create an app password");
    } else {
        struct kunci_device_profile p = {
            &cli->cfg.devices, a.login,      a.display_name, kunci_device_address(a.login), pw,
            ap.name,           ap.expires_at};
        r = write_profile(cli, fd, &o, &c, signer, &p);
        fd = -1; /* closed by write_profile */
        if (r == EXIT_OK) {
            char reason[32];
            snprintf(reason, sizeof(reason), "device_%s", c.id);
            cli_event_why(cli, "app_password_created", &a, reason, ap.name);
            report(cli, &o, &c, &ap, a.login, pw);
        } else {
            /* No file, no device: the password nobody can use goes again. */
            kunci_store_best_effort(kunci_store_app_password_delete(&cli->store, a.id, ap.id));
        }
    }
    if (fd >= 0) { /* nothing was made: nothing left behind */
        close(fd);
        unlink(o.out);
    }
    sodium_memzero(pw, sizeof(pw));
    kunci_profile_signer_free(signer);
    return r;
}

int cmd_device(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {{"profile", device_profile, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "device", cmds, argc, argv, device_usage);
}
