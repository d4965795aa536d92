/*
 * cmd_exec: `exec`, runc's flags: the process comes from --process FILE, or
 * from the container's own process with the command line's arguments and
 * overrides (--tty, --cwd, --env, --user, --additional-gids, --cap,
 * --no-new-privs, --apparmor, --process-label).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capabilities.h"
#include "commands.h"
#include "exec_process.h"
#include "json.h"
#include "state.h"

#define PROCESS_FILE_MAX (4 * 1024 * 1024)

enum exec_option_id {
    OPTION_CONSOLE_SOCKET = 256,
    OPTION_PID_FILE,
    OPTION_PROCESS_LABEL,
    OPTION_APPARMOR,
    OPTION_NO_NEW_PRIVS,
    OPTION_PRESERVE_FDS,
    OPTION_IGNORE_PAUSED,
    OPTION_CGROUP,
};

struct exec_flags {
    struct exec_options options;
    const char *process_file;
    const char *cwd;
    const char *user;
    const char *apparmor;
    const char *process_label;
    bool tty;
    bool no_new_privs;
    char *environment[256];
    size_t environment_count;
    char *capabilities[64];
    size_t capability_count;
    char *groups[64];
    size_t group_count;
};

static int append(char **list, size_t *count, size_t capacity, char *value, const char *what,
                  struct berr *err)
{
    if (*count >= capacity)
        return berr_set(err, BERR_INVALID, "too many %s options", what);
    list[(*count)++] = value;
    return 0;
}

static int parse_flags(int argc, char **argv, struct exec_flags *flags, struct berr *err)
{
    static const struct option options[] = {
        {"console-socket", required_argument, NULL, OPTION_CONSOLE_SOCKET},
        {"pid-file", required_argument, NULL, OPTION_PID_FILE},
        {"process", required_argument, NULL, 'p'},
        {"detach", no_argument, NULL, 'd'},
        {"tty", no_argument, NULL, 't'},
        {"cwd", required_argument, NULL, 'w'},
        {"env", required_argument, NULL, 'e'},
        {"user", required_argument, NULL, 'u'},
        {"additional-gids", required_argument, NULL, 'g'},
        {"cap", required_argument, NULL, 'c'},
        {"no-new-privs", no_argument, NULL, OPTION_NO_NEW_PRIVS},
        {"apparmor", required_argument, NULL, OPTION_APPARMOR},
        {"process-label", required_argument, NULL, OPTION_PROCESS_LABEL},
        {"preserve-fds", required_argument, NULL, OPTION_PRESERVE_FDS},
        {"ignore-paused", no_argument, NULL, OPTION_IGNORE_PAUSED},
        {"cgroup", required_argument, NULL, OPTION_CGROUP},
        {NULL, 0, NULL, 0},
    };
    long long number;
    int option;

    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+p:dtw:e:u:g:c:", options, NULL)) != -1) {
        switch (option) {
        case OPTION_CONSOLE_SOCKET:
            flags->options.console_socket = optarg;
            break;
        case OPTION_PID_FILE:
            flags->options.pid_file = optarg;
            break;
        case 'p':
            flags->process_file = optarg;
            break;
        case 'd':
            flags->options.detach = true;
            break;
        case 't':
            flags->tty = true;
            break;
        case 'w':
            flags->cwd = optarg;
            break;
        case 'e':
            if (append(flags->environment, &flags->environment_count, 255, optarg, "--env", err))
                return err->code;
            break;
        case 'u':
            flags->user = optarg;
            break;
        case 'g':
            if (append(flags->groups, &flags->group_count, 64, optarg, "--additional-gids", err))
                return err->code;
            break;
        case 'c':
            if (append(flags->capabilities, &flags->capability_count, 64, optarg, "--cap", err))
                return err->code;
            break;
        case OPTION_NO_NEW_PRIVS:
            flags->no_new_privs = true;
            break;
        case OPTION_APPARMOR:
            flags->apparmor = optarg;
            break;
        case OPTION_PROCESS_LABEL:
            flags->process_label = optarg;
            break;
        case OPTION_PRESERVE_FDS:
            if (command_parse_int(optarg, "--preserve-fds", 0, 65536, &number, err))
                return err->code;
            flags->options.preserve_fds = (int)number;
            break;
        case OPTION_IGNORE_PAUSED:
            flags->options.ignore_paused = true;
            break;
        case OPTION_CGROUP:
            flags->options.cgroup = optarg;
            break;
        default:
            return berr_set(err, BERR_INVALID, "exec: unknown option %s", argv[optind - 1]);
        }
    }
    return 0;
}

static int load_process_file(struct arena *arena, const char *path, struct spec_process *out,
                             struct berr *err)
{
    yajl_val tree;
    int rc = json_parse_file(path, PROCESS_FILE_MAX, &tree, err);

    if (rc)
        return rc;
    rc = spec_parse_process(arena, tree, out, err);
    yajl_tree_free(tree);
    if (rc)
        berr_prefix(err, "--process %s", path);
    return rc;
}

/* NAME=value replaces NAME in env, or is appended. */
static char **set_environment(struct arena *arena, char **env, char **extra, size_t extra_count)
{
    size_t count = 0, i, j;
    char **merged;

    while (env && env[count])
        count++;
    merged = arena_alloc(arena, (count + extra_count + 1) * sizeof(char *));
    if (!merged)
        return NULL;
    memcpy(merged, env, count * sizeof(char *));
    for (i = 0; i < extra_count; i++) {
        const char *equals = strchr(extra[i], '=');
        size_t name_length = equals ? (size_t)(equals - extra[i]) : strlen(extra[i]);
        for (j = 0; j < count; j++)
            if (strncmp(merged[j], extra[i], name_length) == 0 && merged[j][name_length] == '=')
                break;
        merged[j] = extra[i];
        if (j == count)
            count++;
    }
    merged[count] = NULL;
    return merged;
}

static int parse_id(const char *text, const char *what, unsigned *out, struct berr *err)
{
    long long value;

    if (command_parse_int(text, what, 0, 4294967295LL, &value, err))
        return err->code;
    *out = (unsigned)value;
    return 0;
}

/* The container's own process, with the command line's changes. */
static int process_from_flags(struct arena *arena, const struct container_state *state,
                              struct exec_flags *flags, char **arguments, size_t argument_count,
                              struct spec_process *out, struct berr *err)
{
    size_t i;
    int rc;

    if (!state->spec || !state->spec->has_process)
        return berr_set(err, BERR_INVALID, "container %s has no process to start from", state->id);
    *out = state->spec->process;
    if (!argument_count)
        return berr_set(err, BERR_INVALID, "exec: a command to run is required");
    out->args = arena_alloc(arena, (argument_count + 1) * sizeof(char *));
    if (!out->args)
        return berr_set(err, BERR_NOMEM, "out of memory");
    memcpy(out->args, arguments, argument_count * sizeof(char *));
    out->terminal = flags->tty;
    out->console_height = out->console_width = 0;
    if (flags->cwd) {
        if (flags->cwd[0] != '/')
            return berr_set(err, BERR_INVALID, "--cwd %s: must be an absolute path", flags->cwd);
        out->cwd = flags->cwd;
    }
    if (flags->environment_count &&
        !(out->env =
              set_environment(arena, out->env, flags->environment, flags->environment_count)))
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (flags->user) {
        char copy[64], *colon;
        unsigned uid = 0, gid = 0;
        snprintf(copy, sizeof(copy), "%s", flags->user);
        colon = strchr(copy, ':');
        if (colon)
            *colon = '\0';
        if ((rc = parse_id(copy, "--user", &uid, err)) ||
            (colon && (rc = parse_id(colon + 1, "--user", &gid, err))))
            return rc;
        out->user.uid = uid;
        out->user.gid = gid;
    }
    if (flags->group_count) {
        out->user.additional_gids = arena_alloc(arena, flags->group_count * sizeof(gid_t));
        if (!out->user.additional_gids)
            return berr_set(err, BERR_NOMEM, "out of memory");
        for (i = 0; i < flags->group_count; i++) {
            unsigned gid = 0;
            if ((rc = parse_id(flags->groups[i], "--additional-gids", &gid, err)))
                return rc;
            out->user.additional_gids[i] = gid;
        }
        out->user.additional_gid_count = flags->group_count;
    }
    for (i = 0; i < flags->capability_count; i++) {
        int capability = capability_number(flags->capabilities[i]);
        if (capability < 0)
            return berr_set(err, BERR_INVALID, "--cap %s: unknown capability",
                            flags->capabilities[i]);
        if (!out->has_capabilities) {
            out->has_capabilities = true;
            memset(&out->capabilities, 0, sizeof(out->capabilities));
        }
        out->capabilities.bounding |= 1ULL << capability;
        out->capabilities.effective |= 1ULL << capability;
        out->capabilities.permitted |= 1ULL << capability;
    }
    if (flags->no_new_privs)
        out->no_new_privileges = true;
    if (flags->apparmor)
        return berr_set(err, BERR_UNSUPPORTED, "--apparmor: AppArmor is not enabled on this host");
    if (flags->process_label)
        return berr_set(err, BERR_UNSUPPORTED,
                        "--process-label: SELinux is not enabled on this host");
    return 0;
}

int command_exec(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    struct exec_flags *flags = arena_alloc(globals->arena, sizeof(*flags));
    struct spec_process *process = arena_alloc(globals->arena, sizeof(*process));
    struct container_state state;
    int first, status = 0;

    if (!flags || !process) {
        berr_set(err, BERR_NOMEM, "out of memory");
        return -1;
    }
    if (parse_flags(argc, argv, flags, err))
        return -1;
    if (optind >= argc) {
        berr_set(err, BERR_INVALID, "exec: a container id is required");
        return -1;
    }
    flags->options.root = globals->root;
    flags->options.id = argv[optind];
    first = optind + 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (flags->process_file) {
        if (first < argc) {
            berr_set(err, BERR_INVALID, "exec: arguments are not allowed with --process");
            return -1;
        }
        if (load_process_file(globals->arena, flags->process_file, process, err))
            return -1;
    } else {
        if (state_load(globals->arena, globals->root, flags->options.id, &state, err) ||
            state_load_spec(globals->arena, &state, err) ||
            process_from_flags(globals->arena, &state, flags, argv + first, (size_t)(argc - first),
                               process, err))
            return -1;
    }
    if (exec_process(globals->arena, &flags->options, process, &status, err))
        return -1;
    return status;
}
