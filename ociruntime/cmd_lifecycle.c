/*
 * cmd_lifecycle: create, start, run, kill, delete, pause, resume.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cgroup.h"
#include "commands.h"
#include "container.h"
#include "state.h"

enum create_option_id {
    OPTION_BUNDLE = 'b',
    OPTION_DETACH = 'd',
    OPTION_CONSOLE_SOCKET = 256,
    OPTION_PID_FILE,
    OPTION_NO_PIVOT,
    OPTION_NO_NEW_KEYRING,
    OPTION_PRESERVE_FDS,
    OPTION_KEEP,
    OPTION_NO_SUBREAPER,
};

/* The options create and run share (run adds --detach, --keep). */
static int parse_create_options(int argc, char **argv, bool for_run,
                                struct container_options *options, const char **id,
                                struct berr *err)
{
    static const struct option create_options[] = {
        {"bundle", required_argument, NULL, OPTION_BUNDLE},
        {"console-socket", required_argument, NULL, OPTION_CONSOLE_SOCKET},
        {"pid-file", required_argument, NULL, OPTION_PID_FILE},
        {"no-pivot", no_argument, NULL, OPTION_NO_PIVOT},
        {"no-new-keyring", no_argument, NULL, OPTION_NO_NEW_KEYRING},
        {"preserve-fds", required_argument, NULL, OPTION_PRESERVE_FDS},
        {"detach", no_argument, NULL, OPTION_DETACH},
        {"keep", no_argument, NULL, OPTION_KEEP},
        {"no-subreaper", no_argument, NULL, OPTION_NO_SUBREAPER},
        {NULL, 0, NULL, 0},
    };
    const char *command = argv[0];
    long long number;
    int option;

    options->bundle = ".";
    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, for_run ? "+b:d" : "+b:", create_options, NULL)) !=
           -1) {
        switch (option) {
        case OPTION_BUNDLE:
            options->bundle = optarg;
            break;
        case OPTION_CONSOLE_SOCKET:
            options->console_socket = optarg;
            break;
        case OPTION_PID_FILE:
            options->pid_file = optarg;
            break;
        case OPTION_NO_PIVOT:
            options->no_pivot = true;
            break;
        case OPTION_NO_NEW_KEYRING:
            options->no_new_keyring = true;
            break;
        case OPTION_PRESERVE_FDS:
            if (command_parse_int(optarg, "--preserve-fds", 0, 65536, &number, err))
                return err->code;
            options->preserve_fds = (int)number;
            break;
        case OPTION_DETACH:
        case OPTION_KEEP:
        case OPTION_NO_SUBREAPER:
            if (!for_run)
                goto unknown;
            if (option == OPTION_DETACH)
                options->detach = true;
            else if (option == OPTION_KEEP)
                options->keep = true;
            break;
        default:
        unknown:
            return berr_set(err, BERR_INVALID, "%s: unknown option %s", command, argv[optind - 1]);
        }
    }
    return command_container_id(argc - optind, argv + optind, command, id, err);
}

int command_create(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    struct container_options options;
    int rc;

    memset(&options, 0, sizeof(options));
    options.root = globals->root;
    if ((rc = parse_create_options(argc, argv, false, &options, &options.id, err)))
        return -1;
    return container_create(globals->arena, &options, err) ? -1 : 0;
}

int command_run(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    struct container_options options;
    int status = 0;

    memset(&options, 0, sizeof(options));
    options.root = globals->root;
    if (parse_create_options(argc, argv, true, &options, &options.id, err))
        return -1;
    if (container_run(globals->arena, &options, &status, err))
        return -1;
    return status;
}

/* Commands whose only argument is the container id. */
static int only_id(int argc, char **argv, const char **id, struct berr *err)
{
    if (argc > 1 && argv[1][0] == '-' && argv[1][1])
        return berr_set(err, BERR_INVALID, "%s: unknown option %s", argv[0], argv[1]);
    return command_container_id(argc - 1, argv + 1, argv[0], id, err);
}

int command_start(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    const char *id;

    if (only_id(argc, argv, &id, err))
        return -1;
    return container_start(globals->arena, globals->root, id, err) ? -1 : 0;
}

int command_kill(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const struct option options[] = {
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    int signal_number = SIGTERM, option;
    bool all = false;

    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+a", options, NULL)) != -1) {
        if (option != 'a') {
            berr_set(err, BERR_INVALID, "kill: unknown option %s", argv[optind - 1]);
            return -1;
        }
        all = true;
    }
    if (optind >= argc) {
        berr_set(err, BERR_INVALID, "kill: a container id is required");
        return -1;
    }
    if (argc - optind > 2) {
        berr_set(err, BERR_INVALID, "kill: unexpected argument %s", argv[optind + 2]);
        return -1;
    }
    if (argc - optind == 2 && command_parse_signal(argv[optind + 1], &signal_number, err))
        return -1;
    if (container_kill(globals->arena, globals->root, argv[optind], signal_number, all, err))
        return -1;
    return 0;
}

int command_delete(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const struct option options[] = {
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    const char *id;
    bool force = false;
    int option;

    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+f", options, NULL)) != -1) {
        if (option != 'f') {
            berr_set(err, BERR_INVALID, "delete: unknown option %s", argv[optind - 1]);
            return -1;
        }
        force = true;
    }
    if (command_container_id(argc - optind, argv + optind, "delete", &id, err))
        return -1;
    if (container_delete(globals->arena, globals->root, id, force, err)) {
        /* runc: deleting with --force what is not there is not an error. */
        if (force && err->code == BERR_NOT_FOUND)
            return 0;
        return -1;
    }
    return 0;
}

static int freeze(struct global_options *globals, int argc, char **argv, bool frozen,
                  struct berr *err)
{
    struct container_state state;
    enum container_status status;
    const char *id;

    if (only_id(argc, argv, &id, err) || state_load(globals->arena, globals->root, id, &state, err))
        return -1;
    status = state_status(&state);
    if (frozen && status != CONTAINER_RUNNING && status != CONTAINER_CREATED) {
        berr_set(err, BERR_CONFLICT, "cannot pause container %s: it is %s", id,
                 container_status_name(status));
        return -1;
    }
    if (!frozen && status != CONTAINER_PAUSED) {
        berr_set(err, BERR_CONFLICT, "cannot resume container %s: it is %s, not paused", id,
                 container_status_name(status));
        return -1;
    }
    return cgroup_freeze(&state.cgroup, frozen, err) ? -1 : 0;
}

int command_pause(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    return freeze(globals, argc, argv, true, err);
}

int command_resume(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    return freeze(globals, argc, argv, false, err);
}
