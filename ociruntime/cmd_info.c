/*
 * cmd_info: the commands that report: state, list, ps, features, events.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berth_version.h"
#include "cgroup.h"
#include "commands.h"
#include "hooks.h"
#include "json.h"
#include "seccomp.h"
#include "capabilities.h"
#include "spec.h"
#include "state.h"

static int print_json(struct json_writer *writer, struct berr *err)
{
    const char *text;
    size_t length;
    int rc = json_writer_result(writer, &text, &length, err);

    if (rc == 0) {
        fwrite(text, 1, length, stdout);
        fputc('\n', stdout);
    }
    json_writer_free(writer);
    return rc;
}

int command_state(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    struct container_state state;
    struct json_writer writer;
    const char *id;

    if (argc > 1 && argv[1][0] == '-') {
        berr_set(err, BERR_INVALID, "state: unknown option %s", argv[1]);
        return -1;
    }
    if (command_container_id(argc - 1, argv + 1, "state", &id, err) ||
        state_load(globals->arena, globals->root, id, &state, err) ||
        json_writer_init(&writer, true, err))
        return -1;
    state_write_oci_json(&state, state_status(&state), &writer);
    return print_json(&writer, err) ? -1 : 0;
}

enum list_format { FORMAT_TABLE, FORMAT_JSON };

static int parse_format(const char *text, enum list_format *format, struct berr *err)
{
    if (strcmp(text, "table") == 0)
        *format = FORMAT_TABLE;
    else if (strcmp(text, "json") == 0)
        *format = FORMAT_JSON;
    else
        return berr_set(err, BERR_INVALID, "--format %s: must be table or json", text);
    return 0;
}

int command_list(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    enum list_format format = FORMAT_TABLE;
    struct json_writer writer;
    char **ids = NULL;
    size_t count = 0, i;
    bool quiet = false;
    int option, status = 0;

    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+f:q", options, NULL)) != -1) {
        if (option == 'f') {
            if (parse_format(optarg, &format, err))
                return -1;
        } else if (option == 'q') {
            quiet = true;
        } else {
            berr_set(err, BERR_INVALID, "list: unknown option %s", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        berr_set(err, BERR_INVALID, "list: unexpected argument %s", argv[optind]);
        return -1;
    }
    if (state_list_ids(globals->root, &ids, &count, err))
        return -1;
    if (format == FORMAT_JSON) {
        if (json_writer_init(&writer, false, err)) {
            status = -1;
            goto out;
        }
        json_array_begin(&writer);
    } else if (!quiet) {
        printf("%-12s %-10s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    }
    for (i = 0; i < count; i++) {
        struct container_state state;
        enum container_status container_status;
        if (state_load(globals->arena, globals->root, ids[i], &state, NULL))
            continue; /* vanished meanwhile */
        container_status = state_status(&state);
        if (format == FORMAT_JSON)
            state_write_oci_json(&state, container_status, &writer);
        else if (quiet)
            printf("%s\n", state.id);
        else
            printf("%-12s %-10d %-10s %-40s %-31s %s\n", state.id,
                   container_status == CONTAINER_STOPPED ? 0 : (int)state.pid,
                   container_status_name(container_status), state.bundle, state.created,
                   state.owner == 0 ? "root" : "");
    }
    if (format == FORMAT_JSON) {
        json_array_end(&writer);
        status = print_json(&writer, err) ? -1 : 0;
    }
out:
    for (i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
    return status;
}

static bool contains_pid(const pid_t *pids, size_t count, long pid)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

/* Runs ps with the given arguments and keeps the header and the container's lines. */
static int filter_ps(char **arguments, const pid_t *pids, size_t count, struct berr *err)
{
    char *line = NULL;
    size_t capacity = 0;
    int pipe_fds[2], status, pid_column = -1;
    bool header = true;
    FILE *output;
    pid_t child;

    if (pipe(pipe_fds) < 0)
        return berr_errno(err, errno, "pipe");
    child = fork();
    if (child < 0)
        return berr_errno(err, errno, "fork ps");
    if (child == 0) {
        dup2(pipe_fds[1], 1);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execvp("ps", arguments);
        _exit(127);
    }
    close(pipe_fds[1]);
    output = fdopen(pipe_fds[0], "r");
    while (output && getline(&line, &capacity, output) > 0) {
        if (header) {
            /* The PID column's index among the header's words. */
            char copy[4096], *word, *save = NULL;
            int index = 0;
            snprintf(copy, sizeof(copy), "%s", line);
            for (word = strtok_r(copy, " \t\n", &save); word;
                 word = strtok_r(NULL, " \t\n", &save), index++)
                if (strcmp(word, "PID") == 0)
                    pid_column = index;
            fputs(line, stdout);
            header = false;
            continue;
        }
        {
            char copy[4096], *word, *save = NULL;
            int index = 0;
            snprintf(copy, sizeof(copy), "%s", line);
            for (word = strtok_r(copy, " \t\n", &save); word;
                 word = strtok_r(NULL, " \t\n", &save), index++) {
                if (index == pid_column) {
                    if (contains_pid(pids, count, strtol(word, NULL, 10)))
                        fputs(line, stdout);
                    break;
                }
            }
        }
    }
    free(line);
    if (output)
        fclose(output);
    waitpid(child, &status, 0);
    if (pid_column < 0)
        return berr_set(err, BERR_INVALID, "ps: its output has no PID column");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return berr_set(err, BERR_IO, "ps %s failed", arguments[1] ? arguments[1] : "");
    return 0;
}

int command_ps(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    enum list_format format = FORMAT_TABLE;
    struct container_state state;
    pid_t *pids = NULL;
    size_t count = 0, i;
    int option, status = -1;

    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+f:", options, NULL)) != -1) {
        if (option != 'f') {
            berr_set(err, BERR_INVALID, "ps: unknown option %s", argv[optind - 1]);
            return -1;
        }
        if (parse_format(optarg, &format, err))
            return -1;
    }
    if (optind >= argc) {
        berr_set(err, BERR_INVALID, "ps: a container id is required");
        return -1;
    }
    if (state_load(globals->arena, globals->root, argv[optind], &state, err) ||
        cgroup_pids(&state.cgroup, &pids, &count, err))
        return -1;
    if (format == FORMAT_JSON) {
        printf("[");
        for (i = 0; i < count; i++)
            printf("%s%d", i ? "," : "", (int)pids[i]);
        printf("]\n");
        status = 0;
    } else {
        /* ps arguments after the id (after "--" if given), "-ef" by default. */
        int first = optind + 1, extra;
        if (first < argc && strcmp(argv[first], "--") == 0)
            first++;
        extra = argc - first;
        {
            char *arguments[extra + 2];
            arguments[0] = (char *)"ps";
            if (extra == 0) {
                arguments[1] = (char *)"-ef";
                arguments[2] = NULL;
            } else {
                for (i = 0; i < (size_t)extra; i++)
                    arguments[1 + i] = argv[first + (int)i];
                arguments[1 + extra] = NULL;
            }
            fflush(stdout);
            status = filter_ps(arguments, pids, count, err) ? -1 : 0;
        }
    }
    free(pids);
    return status;
}

int command_features(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network",
                                             "pid",    "time", "user",  "uts"};
    struct json_writer writer;
    int kind, capability;
    size_t i;

    (void)globals;
    if (argc > 1) {
        berr_set(err, BERR_INVALID, "features: unexpected argument %s", argv[1]);
        return -1;
    }
    if (json_writer_init(&writer, true, err))
        return -1;
    json_object_begin(&writer);
    json_kv_string(&writer, "ociVersionMin", "1.0.0");
    json_kv_string(&writer, "ociVersionMax", BERTH_OCI_VERSION);
    json_key(&writer, "hooks");
    json_array_begin(&writer);
    for (kind = 0; kind < HOOK_KIND_COUNT; kind++)
        json_string(&writer, hooks_kind_name(kind));
    json_array_end(&writer);
    json_key(&writer, "mountOptions");
    spec_write_mount_options(&writer);
    json_key(&writer, "linux");
    json_object_begin(&writer);
    json_key(&writer, "namespaces");
    json_array_begin(&writer);
    for (i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++)
        json_string(&writer, namespaces[i]);
    json_array_end(&writer);
    json_key(&writer, "capabilities");
    json_array_begin(&writer);
    for (capability = 0; capability_name(capability); capability++)
        json_string(&writer, capability_name(capability));
    json_array_end(&writer);
    json_key(&writer, "cgroup");
    json_object_begin(&writer);
    json_kv_bool(&writer, "v1", true);
    json_kv_bool(&writer, "v2", true);
    json_kv_bool(&writer, "systemd", false);
    json_kv_bool(&writer, "systemdUser", false);
    json_kv_bool(&writer, "rdma", false);
    json_object_end(&writer);
    seccomp_features(&writer);
    json_key(&writer, "apparmor");
    json_object_begin(&writer);
    json_kv_bool(&writer, "enabled", access("/sys/kernel/security/apparmor", F_OK) == 0);
    json_object_end(&writer);
    json_key(&writer, "selinux");
    json_object_begin(&writer);
    json_kv_bool(&writer, "enabled", access("/sys/fs/selinux/enforce", F_OK) == 0);
    json_object_end(&writer);
    json_key(&writer, "intelRdt");
    json_object_begin(&writer);
    json_kv_bool(&writer, "enabled", false);
    json_object_end(&writer);
    json_key(&writer, "mountExtensions");
    json_object_begin(&writer);
    json_key(&writer, "idmap");
    json_object_begin(&writer);
    json_kv_bool(&writer, "enabled", false);
    json_object_end(&writer);
    json_object_end(&writer);
    json_object_end(&writer);
    json_key(&writer, "annotations");
    json_object_begin(&writer);
    json_kv_string(&writer, "org.berth.runtime.version", BERTH_VERSION);
    json_kv_string(&writer, "org.berth.runtime.commit", BERTH_GIT_COMMIT);
    json_object_end(&writer);
    json_object_end(&writer);
    return print_json(&writer, err) ? -1 : 0;
}

static int print_stats(const struct container_state *state, struct berr *err)
{
    struct json_writer writer;
    int rc;

    if ((rc = json_writer_init(&writer, false, err)))
        return rc;
    json_object_begin(&writer);
    json_kv_string(&writer, "type", "stats");
    json_kv_string(&writer, "id", state->id);
    json_key(&writer, "data");
    json_object_begin(&writer);
    if ((rc = cgroup_stats(&state->cgroup, &writer, err))) {
        json_writer_free(&writer);
        return rc;
    }
    json_object_end(&writer);
    json_object_end(&writer);
    rc = print_json(&writer, err);
    fflush(stdout);
    return rc;
}

static void print_oom(const struct container_state *state)
{
    printf("{\"type\":\"oom\",\"id\":");
    {
        char quoted[STATE_ID_MAX * 6 + 3];
        json_quote(quoted, sizeof(quoted), state->id);
        fputs(quoted, stdout);
    }
    printf("}\n");
    fflush(stdout);
}

/* An fd that becomes readable when the container hits its memory limit:
 * v1's eventfd on memory.oom_control, or v2's memory.events (POLLPRI). */
static int open_oom_notifier(const struct container_state *state, bool *v2, uint64_t *last_kills)
{
    const struct cgroup_hierarchy *memory = cgroup_find(&state->cgroup, "memory");
    char path[PATH_MAX], line[64];
    int event_fd, control_fd, oom_fd;

    *v2 = false;
    *last_kills = 0;
    if (!memory)
        return -1;
    if (memory->is_v2) {
        *v2 = true;
        snprintf(path, sizeof(path), "%s/memory.events", memory->path);
        return open(path, O_RDONLY | O_CLOEXEC);
    }
    snprintf(path, sizeof(path), "%s/memory.oom_control", memory->path);
    oom_fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof(path), "%s/cgroup.event_control", memory->path);
    control_fd = open(path, O_WRONLY | O_CLOEXEC);
    event_fd = eventfd(0, EFD_CLOEXEC);
    if (oom_fd < 0 || control_fd < 0 || event_fd < 0)
        goto fail;
    snprintf(line, sizeof(line), "%d %d", event_fd, oom_fd);
    if (write(control_fd, line, strlen(line)) < 0)
        goto fail;
    close(control_fd);
    close(oom_fd);
    return event_fd;
fail:
    if (oom_fd >= 0)
        close(oom_fd);
    if (control_fd >= 0)
        close(control_fd);
    if (event_fd >= 0)
        close(event_fd);
    return -1;
}

static uint64_t v2_oom_kills(int fd)
{
    char text[1024], *line;
    ssize_t got = pread(fd, text, sizeof(text) - 1, 0);

    if (got <= 0)
        return 0;
    text[got] = '\0';
    line = strstr(text, "oom_kill ");
    return line ? strtoull(line + 9, NULL, 10) : 0;
}

/* runc's `events`: stats every interval, an "oom" event when it happens,
 * until the container stops. */
static int stream_events(struct container_state *state, int interval_ms, struct berr *err)
{
    bool v2;
    uint64_t kills;
    int notifier = open_oom_notifier(state, &v2, &kills), rc = 0;

    if (v2 && notifier >= 0)
        kills = v2_oom_kills(notifier);
    while (state_status(state) != CONTAINER_STOPPED) {
        struct pollfd ready = {notifier, v2 ? POLLPRI : POLLIN, 0};
        if ((rc = print_stats(state, err)))
            break;
        if (poll(&ready, notifier >= 0 ? 1 : 0, interval_ms) > 0) {
            if (v2) {
                uint64_t now = v2_oom_kills(notifier);
                if (now > kills)
                    print_oom(state);
                kills = now;
            } else {
                uint64_t count;
                if (read(notifier, &count, sizeof(count)) == sizeof(count))
                    print_oom(state);
            }
        }
    }
    if (notifier >= 0)
        close(notifier);
    return rc;
}

int command_events(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const struct option options[] = {
        {"stats", no_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    struct container_state state;
    bool once = false;
    long long interval_ms = 5000;
    const char *id;
    int option;

    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        if (option == 's') {
            once = true;
        } else if (option == 'i') {
            if (command_parse_duration(optarg, "--interval", &interval_ms, err))
                return -1;
            if (interval_ms <= 0) {
                berr_set(err, BERR_INVALID, "--interval must be positive");
                return -1;
            }
        } else {
            berr_set(err, BERR_INVALID, "events: unknown option %s", argv[optind - 1]);
            return -1;
        }
    }
    if (command_container_id(argc - optind, argv + optind, "events", &id, err) ||
        state_load(globals->arena, globals->root, id, &state, err))
        return -1;
    if (state_status(&state) == CONTAINER_STOPPED) {
        berr_set(err, BERR_CONFLICT, "container %s is not running", id);
        return -1;
    }
    if (once)
        return print_stats(&state, err) ? -1 : 0;
    return stream_events(&state, (int)interval_ms, err) ? -1 : 0;
}
