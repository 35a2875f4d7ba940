#include "delivery/driver.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 32

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int deliver_command(const struct kunci_channel_config *cfg, const struct kunci_message *msg,
                           char *err, size_t err_size)
{
    char buf[sizeof(cfg->command)], *argv[MAX_ARGS + 1], *save = NULL;
    char env_channel[32], env_to[300], env_login[300], env_subject[300];
    char *envp[] = {env_channel, env_to, env_login, env_subject, "PATH=/usr/bin:/bin", NULL};
    posix_spawn_file_actions_t fa;
    int in[2], argc = 0, status = 0;
    pid_t pid;

    snprintf(buf, sizeof(buf), "%s", cfg->command);
    for (char *t = strtok_r(buf, " ", &save); t != NULL && argc < MAX_ARGS;
         t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    if (argc == 0) {
        snprintf(err, err_size, "command driver: no command configured");
        return KUNCI_ERR_INVALID;
    }
    /* The message goes in environment variables and on stdin: no shell, no quoting. */
    snprintf(env_channel, sizeof(env_channel), "KUNCI_CHANNEL=%s",
             kunci_channel_name(msg->channel));
    snprintf(env_to, sizeof(env_to), "KUNCI_TO=%s", msg->to);
    snprintf(env_login, sizeof(env_login), "KUNCI_LOGIN=%s", msg->login);
    snprintf(env_subject, sizeof(env_subject), "KUNCI_SUBJECT=%s", msg->subject);
    if (pipe2(in, O_CLOEXEC) != 0)
        return KUNCI_ERR_IO;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    if (rc != 0) {
        close(in[1]);
        snprintf(err, err_size, "command %s: %s", argv[0], strerror(rc));
        return KUNCI_ERR_IO;
    }
    size_t len = strlen(msg->text);
    ssize_t w = write(in[1], msg->text, len);
    (void)w; /* a program that ignores stdin is its own business; its exit status decides */
    close(in[1]);
    int64_t deadline = now_ms() + cfg->timeout_ms;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid)
            break;
        if (now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, err_size, "command %s: killed after %d ms", argv[0], cfg->timeout_ms);
            return KUNCI_ERR_IO;
        }
        poll(NULL, 0, 10);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, err_size, "command %s: exit status %d", argv[0],
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return KUNCI_ERR_IO;
    }
    return KUNCI_OK;
}

const struct kunci_delivery_driver kunci_delivery_command = {
    .name = "command",
    .send = deliver_command,
};
