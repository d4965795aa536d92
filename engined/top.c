/*
 * top: see top.h.
 */
#include "top.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PS_OUTPUT_MAX (8u << 20)

static bool has_pid(const uint32_t *pids, size_t count, long pid)
{
    for (size_t i = 0; i < count; i++)
        if ((long)pids[i] == pid)
            return true;
    return false;
}

/* ---- the native -ef ---- */

struct process_info {
    long pid, ppid;
    unsigned uid;
    unsigned long long utime, stime, start_ticks;
    int tty;
    char command[4096];
};

static int read_text(const char *path, char *buffer, size_t size, size_t *length)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got;

    if (fd < 0)
        return -1;
    got = read(fd, buffer, size - 1);
    close(fd);
    if (got < 0)
        return -1;
    buffer[got] = '\0';
    if (length)
        *length = (size_t)got;
    return 0;
}

static int read_process(long pid, struct process_info *info)
{
    char path[64], buffer[4096], *after_comm, comm[256] = "";
    size_t length;
    char *open_paren;

    memset(info, 0, sizeof(*info));
    info->pid = pid;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (read_text(path, buffer, sizeof(buffer), NULL) < 0)
        return -1;
    open_paren = strchr(buffer, '(');
    after_comm = strrchr(buffer, ')');
    if (!open_paren || !after_comm)
        return -1;
    snprintf(comm, sizeof(comm), "%.*s", (int)(after_comm - open_paren - 1), open_paren + 1);
    /* Fields after comm: state(3) ppid(4) pgrp session tty_nr(7) ... utime(14) stime(15)
     * ... starttime(22). */
    if (sscanf(after_comm + 2,
               "%*c %ld %*d %*d %d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu",
               &info->ppid, &info->tty, &info->utime, &info->stime, &info->start_ticks) != 5)
        return -1;
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    if (read_text(path, buffer, sizeof(buffer), NULL) == 0) {
        char *uid = strstr(buffer, "\nUid:");
        unsigned real = 0, effective = 0;
        if (uid && sscanf(uid + 5, "%u %u", &real, &effective) == 2)
            info->uid = effective;
    }
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    if (read_text(path, info->command, sizeof(info->command), &length) == 0 && length > 0) {
        for (size_t i = 0; i + 1 < length; i++)
            if (info->command[i] == '\0')
                info->command[i] = ' ';
    } else {
        snprintf(info->command, sizeof(info->command), "[%s]", comm);
    }
    return 0;
}

static double uptime_seconds(void)
{
    char buffer[128];
    double uptime = 0;

    if (read_text("/proc/uptime", buffer, sizeof(buffer), NULL) == 0)
        sscanf(buffer, "%lf", &uptime);
    return uptime;
}

static void format_user(unsigned uid, char *out, size_t size)
{
    struct passwd entry, *found = NULL;
    char buffer[1024];

    if (getpwuid_r(uid, &entry, buffer, sizeof(buffer), &found) == 0 && found)
        snprintf(out, size, "%s", found->pw_name);
    else
        snprintf(out, size, "%u", uid);
}

static void format_tty(int tty, char *out, size_t size)
{
    unsigned major = major((dev_t)tty), minor = minor((dev_t)tty);

    if (tty == 0)
        snprintf(out, size, "?");
    else if (major >= 136 && major <= 143)
        snprintf(out, size, "pts/%u", (major - 136) * 256 + minor);
    else if (major == 4 && minor < 64)
        snprintf(out, size, "tty%u", minor);
    else if (major == 4)
        snprintf(out, size, "ttyS%u", minor - 64);
    else
        snprintf(out, size, "?");
}

/* ps's STIME: "HH:MM" today, "MonDD" this year, else the year. */
static void format_start(time_t started, char *out, size_t size)
{
    time_t now = time(NULL);
    struct tm start_tm, now_tm;

    localtime_r(&started, &start_tm);
    localtime_r(&now, &now_tm);
    if (now - started < 24 * 3600 && start_tm.tm_yday == now_tm.tm_yday)
        strftime(out, size, "%H:%M", &start_tm);
    else if (start_tm.tm_year == now_tm.tm_year)
        strftime(out, size, "%b%d", &start_tm);
    else
        strftime(out, size, "%Y", &start_tm);
}

static void write_native_row(struct json_writer *writer, const struct process_info *info,
                             double uptime, long ticks)
{
    char user[64], number[32], start[32], tty[32], cpu_time[32];
    double total = (double)(info->utime + info->stime) / (double)ticks;
    double alive = uptime - (double)info->start_ticks / (double)ticks;
    long seconds = (long)total, days = seconds / 86400;

    json_array_begin(writer);
    format_user(info->uid, user, sizeof(user));
    json_string(writer, user);
    snprintf(number, sizeof(number), "%ld", info->pid);
    json_string(writer, number);
    snprintf(number, sizeof(number), "%ld", info->ppid);
    json_string(writer, number);
    snprintf(number, sizeof(number), "%d", alive > 0 ? (int)(total * 100 / alive) : 0);
    json_string(writer, number);
    format_start(time(NULL) - (time_t)alive, start, sizeof(start));
    json_string(writer, start);
    format_tty(info->tty, tty, sizeof(tty));
    json_string(writer, tty);
    if (days)
        snprintf(cpu_time, sizeof(cpu_time), "%ld-%02ld:%02ld:%02ld", days, seconds / 3600 % 24,
                 seconds / 60 % 60, seconds % 60);
    else
        snprintf(cpu_time, sizeof(cpu_time), "%02ld:%02ld:%02ld", seconds / 3600, seconds / 60 % 60,
                 seconds % 60);
    json_string(writer, cpu_time);
    json_string(writer, info->command);
    json_array_end(writer);
}

static int compare_pids(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int write_native(const uint32_t *pids, size_t count, struct json_writer *writer)
{
    static const char *const titles[] = {"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"};
    uint32_t *sorted = malloc((count ? count : 1) * sizeof(*sorted));
    double uptime = uptime_seconds();
    long ticks = sysconf(_SC_CLK_TCK);

    if (!sorted)
        return -1;
    memcpy(sorted, pids, count * sizeof(*sorted));
    qsort(sorted, count, sizeof(*sorted), compare_pids);
    json_object_begin(writer);
    json_key(writer, "Titles");
    json_array_begin(writer);
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        json_string(writer, titles[i]);
    json_array_end(writer);
    json_key(writer, "Processes");
    json_array_begin(writer);
    for (size_t i = 0; i < count; i++) {
        struct process_info info;
        if (read_process(sorted[i], &info) == 0)
            write_native_row(writer, &info, uptime, ticks > 0 ? ticks : 100);
    }
    json_array_end(writer);
    json_object_end(writer);
    free(sorted);
    return 0;
}

/* ---- ps with other arguments ---- */

static int run_ps(const char *ps_args, char **output, struct berr *err)
{
    char *argv[64], *copy = strdup(ps_args), *save = NULL, *word;
    posix_spawn_file_actions_t actions;
    size_t argc = 0, used = 0, capacity = 65536;
    int pipe_fds[2], status = 0, rc;
    char *buffer;
    pid_t pid;

    if (!copy)
        return berr_set(err, BERR_NOMEM, "out of memory");
    argv[argc++] = "ps";
    for (word = strtok_r(copy, " \t", &save); word && argc < 62;
         word = strtok_r(NULL, " \t", &save))
        argv[argc++] = word;
    argv[argc] = NULL;
    if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
        free(copy);
        return berr_errno(err, errno, "pipe");
    }
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    rc = posix_spawnp(&pid, "ps", &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    free(copy);
    if (rc) {
        close(pipe_fds[0]);
        return berr_errno(err, rc, "run ps");
    }
    buffer = malloc(capacity);
    while (buffer) {
        ssize_t got;
        if (used + 1 >= capacity) {
            char *grown = capacity < PS_OUTPUT_MAX ? realloc(buffer, capacity * 2) : NULL;
            if (!grown)
                break;
            buffer = grown;
            capacity *= 2;
        }
        got = read(pipe_fds[0], buffer + used, capacity - used - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    close(pipe_fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!buffer)
        return berr_set(err, BERR_NOMEM, "out of memory");
    buffer[used] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buffer);
        return berr_set(err, BERR_INVALID, "ps %s failed (exit status %d)", ps_args,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    *output = buffer;
    return 0;
}

/* Splits a line into at most max fields; the last takes the rest. */
static size_t split_fields(char *line, char **fields, size_t max)
{
    size_t count = 0;

    while (*line && count < max) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line)
            break;
        fields[count++] = line;
        if (count == max)
            break;
        while (*line && *line != ' ' && *line != '\t')
            line++;
        if (*line)
            *line++ = '\0';
    }
    return count;
}

static int write_from_ps(const uint32_t *pids, size_t count, const char *ps_args,
                         struct json_writer *writer, struct berr *err)
{
    char *output = NULL, *line, *save = NULL, *titles[64];
    size_t title_count, pid_column = SIZE_MAX;
    int rc;

    if ((rc = run_ps(ps_args, &output, err)))
        return rc;
    line = strtok_r(output, "\n", &save);
    title_count = line ? split_fields(line, titles, 64) : 0;
    for (size_t i = 0; i < title_count; i++)
        if (strcmp(titles[i], "PID") == 0)
            pid_column = i;
    if (pid_column == SIZE_MAX) {
        free(output);
        return berr_set(err, BERR_INVALID, "Couldn't find PID field in ps output");
    }
    json_object_begin(writer);
    json_key(writer, "Titles");
    json_array_begin(writer);
    for (size_t i = 0; i < title_count; i++)
        json_string(writer, titles[i]);
    json_array_end(writer);
    json_key(writer, "Processes");
    json_array_begin(writer);
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *fields[64];
        size_t n = split_fields(line, fields, title_count);
        if (n <= pid_column || !has_pid(pids, count, strtol(fields[pid_column], NULL, 10)))
            continue;
        json_array_begin(writer);
        for (size_t i = 0; i < n; i++)
            json_string(writer, fields[i]);
        json_array_end(writer);
    }
    json_array_end(writer);
    json_object_end(writer);
    free(output);
    return 0;
}

int top_write(const uint32_t *pids, size_t count, const char *ps_args, struct json_writer *writer,
              struct berr *err)
{
    if (!ps_args || !*ps_args || strcmp(ps_args, "-ef") == 0 || strcmp(ps_args, "-fe") == 0 ||
        strcmp(ps_args, "-e -f") == 0) {
        if (write_native(pids, count, writer) < 0)
            return berr_set(err, BERR_NOMEM, "out of memory");
        return 0;
    }
    if (strchr(ps_args, ';') || strchr(ps_args, '|') || strchr(ps_args, '`'))
        return berr_set(err, BERR_INVALID, "invalid ps_args: %s", ps_args);
    return write_from_ps(pids, count, ps_args, writer, err);
}
