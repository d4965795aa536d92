/*
 * berth-runtime: an OCI runtime with runc's command line.
 *
 *   berth-runtime [global options] <command> [command options] [arguments]
 *
 * This file parses the global options, dispatches to a command (cmd_*.c)
 * and reports an error once: on stderr, and to the --log file as well when
 * there is one (supervisors read a runtime's errors from its json log).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth_version.h"
#include "commands.h"
#include "log.h"
#include "seccomp.h"

#define CREATE_OPTIONS                                                                             \
    "   --bundle, -b DIR        the bundle (default: the current directory)\n"                     \
    "   --console-socket PATH   where to send the pty master (process.terminal)\n"                 \
    "   --pid-file FILE         write the init process's pid there\n"                              \
    "   --no-pivot              move the root and chroot instead of pivot_root\n"                  \
    "   --no-new-keyring        keep the caller's session keyring\n"                               \
    "   --preserve-fds N        pass N more descriptors (from 3) to the process\n"

static const struct command commands[] = {
    {"create", command_create, "[command options] <container-id>", "create a container",
     CREATE_OPTIONS},
    {"start", command_start, "<container-id>", "start a created container", ""},
    {"run", command_run, "[command options] <container-id>", "create and start a container",
     CREATE_OPTIONS "   --detach, -d            return once the container runs\n"
                    "   --keep                  do not delete the container after it exits\n"
                    "   --no-subreaper          accepted for runc compatibility\n"},
    {"state", command_state, "<container-id>", "output the state of a container", ""},
    {"kill", command_kill, "[command options] <container-id> [signal]",
     "send a signal to the container's init process (default: SIGTERM)",
     "   --all, -a               signal every process of the container\n"},
    {"delete", command_delete, "[command options] <container-id>",
     "delete a container and everything it holds",
     "   --force, -f             kill the container first if it runs\n"},
    {"exec", command_exec, "[command options] <container-id> <command> [args...]",
     "run a new process inside a container",
     "   --process, -p FILE      the process as an OCI process JSON\n"
     "   --detach, -d            return once the process runs\n"
     "   --tty, -t               allocate a pseudo-terminal\n"
     "   --console-socket PATH   where to send the pty master\n"
     "   --pid-file FILE         write the process's pid there\n"
     "   --cwd, -w DIR           working directory\n"
     "   --env, -e NAME=VALUE    set an environment variable (repeatable)\n"
     "   --user, -u UID[:GID]    run as this user\n"
     "   --additional-gids, -g G add a supplementary group (repeatable)\n"
     "   --cap, -c CAP           add a capability (repeatable)\n"
     "   --no-new-privs          set no_new_privs\n"
     "   --preserve-fds N        pass N more descriptors (from 3)\n"
     "   --ignore-paused         exec even into a paused container\n"
     "   --cgroup [CTRL,...:]SUB a sub-cgroup of the container's to run in\n"},
    {"ps", command_ps, "[command options] <container-id> [ps options]",
     "list the processes of a container",
     "   --format, -f FORMAT     table (default, through ps(1)) or json\n"},
    {"pause", command_pause, "<container-id>", "suspend every process of a container", ""},
    {"resume", command_resume, "<container-id>", "resume a paused container", ""},
    {"update", command_update, "[command options] <container-id>",
     "change a container's resource limits",
     "   --resources, -r FILE    a LinuxResources JSON (\"-\": stdin)\n"
     "   --memory, --memory-swap, --memory-reservation, --kernel-memory,\n"
     "   --kernel-memory-tcp SIZE   bytes, or with k/m/g suffixes; -1: unlimited\n"
     "   --cpu-shares, --cpu-quota, --cpu-period, --cpu-rt-period, --cpu-rt-runtime N\n"
     "   --cpuset-cpus, --cpuset-mems LIST\n"
     "   --pids-limit N, --blkio-weight N\n"},
    {"list", command_list, "[command options]", "list the containers under --root",
     "   --format, -f FORMAT     table (default) or json\n"
     "   --quiet, -q             only the ids\n"},
    {"events", command_events, "[command options] <container-id>",
     "show a container's resource statistics",
     "   --stats                 print one set of statistics and exit\n"
     "   --interval DURATION     between statistics (default 5s)\n"},
    {"features", command_features, "", "show what this runtime supports, as JSON", ""},
    {"spec", command_spec, "[command options]", "write a new config.json",
     "   --bundle, -b DIR        where to write it (default: the current directory)\n"
     "   --rootless              a configuration for an unprivileged user\n"},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
    size_t i;

    fprintf(out, "Usage: berth-runtime [global options] <command> [command options] [arguments]\n"
                 "\n"
                 "berth-runtime runs OCI bundles (a root filesystem and a config.json) as\n"
                 "containers, with runc's command line.\n"
                 "\n"
                 "Commands:\n");
    for (i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "   %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "Global options:\n"
                 "   --root DIR          state directory (default " DEFAULT_STATE_ROOT ")\n"
                 "   --log FILE          write log lines to FILE (default: stderr)\n"
                 "   --log-format FORMAT text or json (default text)\n"
                 "   --debug             log debug messages\n"
                 "   --systemd-cgroup    manage cgroups through systemd (not supported)\n"
                 "   --rootless VALUE    accepted for runc compatibility (true, false, auto)\n"
                 "   --criu PATH         accepted for runc compatibility (no checkpointing)\n"
                 "   --help, -h          show this help\n"
                 "   --version, -v       show the version\n");
}

static void print_version(void)
{
    printf("berth-runtime version %s\ncommit: %s\nspec: %s\n", BERTH_VERSION, BERTH_GIT_COMMIT,
           BERTH_OCI_VERSION);
}

void command_print_help(const struct command *command)
{
    printf("Usage: berth-runtime %s %s\n\n%s.\n", command->name, command->usage, command->summary);
    if (command->options && *command->options)
        printf("\nOptions:\n%s", command->options);
}

static const struct command *find_command(const char *name)
{
    size_t i;

    for (i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

enum global_option_id {
    OPTION_ROOT = 1,
    OPTION_LOG,
    OPTION_LOG_FORMAT,
    OPTION_DEBUG,
    OPTION_SYSTEMD_CGROUP,
    OPTION_ROOTLESS,
    OPTION_CRIU,
};

struct log_settings {
    const char *path;
    enum log_format format;
    int fd;
};

static int parse_globals(int argc, char **argv, struct global_options *globals,
                         struct log_settings *log, int *next, struct berr *err)
{
    static const struct option options[] = {
        {"root", required_argument, NULL, OPTION_ROOT},
        {"log", required_argument, NULL, OPTION_LOG},
        {"log-format", required_argument, NULL, OPTION_LOG_FORMAT},
        {"debug", no_argument, NULL, OPTION_DEBUG},
        {"systemd-cgroup", no_argument, NULL, OPTION_SYSTEMD_CGROUP},
        {"rootless", required_argument, NULL, OPTION_ROOTLESS},
        {"criu", required_argument, NULL, OPTION_CRIU},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int option;

    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+hv", options, NULL)) != -1) {
        switch (option) {
        case OPTION_ROOT:
            globals->root = optarg;
            break;
        case OPTION_LOG:
            log->path = optarg;
            break;
        case OPTION_LOG_FORMAT:
            if (log_parse_format(optarg, &log->format) < 0)
                return berr_set(err, BERR_INVALID, "--log-format %s: must be text or json", optarg);
            break;
        case OPTION_DEBUG:
            globals->debug = true;
            break;
        case OPTION_SYSTEMD_CGROUP:
            globals->systemd_cgroup = true;
            break;
        case OPTION_ROOTLESS:
            if (strcmp(optarg, "true") && strcmp(optarg, "false") && strcmp(optarg, "auto"))
                return berr_set(err, BERR_INVALID, "--rootless %s: must be true, false or auto",
                                optarg);
            break;
        case OPTION_CRIU:
            break;
        case 'h':
            print_usage(stdout);
            *next = -1;
            return 0;
        case 'v':
            print_version();
            *next = -1;
            return 0;
        default:
            return berr_set(err, BERR_INVALID, "unknown global option %s", argv[optind - 1]);
        }
    }
    *next = optind;
    return 0;
}

static void report(const struct log_settings *log, const struct berr *err)
{
    /* Once on stderr; once more in the log file if it is a separate one. */
    fprintf(stderr, "berth-runtime: %s\n", err->message);
    if (log->fd >= 0 && log->fd != STDERR_FILENO)
        log_error("%s", err->message);
}

int main(int argc, char **argv)
{
    struct arena arena;
    struct global_options globals = {DEFAULT_STATE_ROOT, false, false, &arena};
    struct log_settings log = {NULL, LOG_FORMAT_TEXT, -1};
    const struct command *command;
    struct berr err;
    int next = 0, status;

    berr_clear(&err);
    arena_init(&arena);
    /* A vanished reader (a closed pipe to a hook) must be an error, not a death. */
    signal(SIGPIPE, SIG_IGN);
    if (parse_globals(argc, argv, &globals, &log, &next, &err) != 0) {
        fprintf(stderr, "berth-runtime: %s\n", err.message);
        return 1;
    }
    if (next < 0)
        return 0;
    if (log.path) {
        log.fd = open(log.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (log.fd < 0) {
            fprintf(stderr, "berth-runtime: open log file %s: %s\n", log.path, strerror(errno));
            return 1;
        }
    }
    log_setup(log.fd >= 0 ? log.fd : STDERR_FILENO,
              globals.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, log.format);
    if (next >= argc) {
        print_usage(stderr);
        return 1;
    }
    if (globals.systemd_cgroup) {
        berr_set(&err, BERR_UNSUPPORTED,
                 "--systemd-cgroup is not supported: berth-runtime manages cgroups directly");
        report(&log, &err);
        return 1;
    }
    if (strcmp(argv[next], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[next], "checkpoint") == 0 || strcmp(argv[next], "restore") == 0) {
        berr_set(&err, BERR_UNSUPPORTED, "%s is not supported by berth-runtime", argv[next]);
        report(&log, &err);
        return 1;
    }
    command = find_command(argv[next]);
    if (!command) {
        berr_set(&err, BERR_INVALID, "unknown command %s (see berth-runtime --help)", argv[next]);
        report(&log, &err);
        return 1;
    }
    if (next + 1 < argc &&
        (strcmp(argv[next + 1], "--help") == 0 || strcmp(argv[next + 1], "-h") == 0)) {
        command_print_help(command);
        return 0;
    }
    log_debug("command %s", command->name);
    /* A command returns its exit status, or -1 with err filled. */
    status = command->run(&globals, argc - next, argv + next, &err);
    if (status < 0) {
        if (err.code == BERR_OK)
            berr_set(&err, BERR_INTERNAL, "%s failed", command->name);
        report(&log, &err);
        return 1;
    }
    return status;
}
