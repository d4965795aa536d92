/*
 * berth-supervisord: the gRPC supervisor daemon (docs/supervisor.md).
 *
 * main() only wires things: it opens the stores in dependency order
 * (metadata, content, snapshots, images, collector with the snapshotter's
 * hook, event bus, tasks),
 * repairs what a crash left (orphan snapshot directories, half-done
 * unpacks, shims that outlived the previous daemon), registers every
 * service and serves until SIGTERM or SIGINT. The containers keep running
 * across a restart: they belong to their shims.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth_version.h"
#include "daemon.h"
#include "log.h"
#include "snapshot_gc.h"
#include "supervisor.h"
#include "tasks.h"
#include "unpack.h"

#define DEFAULT_ROOT    "/var/lib/berth/supervisor"
#define DEFAULT_STATE   "/run/berth/supervisor"
#define DEFAULT_ADDRESS "unix:/run/berth/supervisord.sock"

struct options {
    const char *root;
    const char *state;
    const char *address;
    const char *shim;
    const char *runtime;
    enum log_level log_level;
    enum log_format log_format;
    bool cleanup;
};

typedef int (*service_register)(struct rpc_server *server, struct supervisor *supervisor,
                                struct berr *err);

/* One per line (clang-format would make columns of them). */
/* clang-format off */
static const service_register services[] = {
    service_version_register,
    service_namespaces_register,
    service_content_register,
    service_images_register,
    service_snapshots_register,
    service_leases_register,
    service_containers_register,
    service_tasks_register,
    service_events_register,
};
/* clang-format on */

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: berth-supervisord [OPTIONS]\n"
            "\n"
            "The gRPC supervisor of berth: content, images, snapshots, containers, tasks,\n"
            "events, leases and namespaces (proto/berth/supervisor/v1).\n"
            "\n"
            "Options:\n"
            "  --root DIR          persistent state (default " DEFAULT_ROOT ")\n"
            "  --state DIR         runtime state: bundles, shim sockets (default " DEFAULT_STATE
            ")\n"
            "  --address ADDR      where to listen: unix:PATH or HOST:PORT\n"
            "                      (default " DEFAULT_ADDRESS ")\n"
            "  --shim PATH         the shim binary (default: berth-shim beside this program)\n"
            "  --runtime PATH      the default OCI runtime (default: berth-runtime beside this\n"
            "                      program); containers may name another (runc, crun)\n"
            "  --log-level LEVEL   debug, info, warn or error (default info)\n"
            "  --log-format FMT    text or json (default text)\n"
            "  --cleanup           do not serve: stop and remove every container of\n"
            "                      --state (after a crash, or to take a stack down)\n"
            "  -h, --help          this text\n"
            "  -v, --version       the version\n");
}

/* PROGRAM beside our own binary, for the default shim and runtime. */
static char *beside_self(const char *program)
{
    char self[PATH_MAX], *slash, *path;
    ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (length <= 0)
        return strdup(program);
    self[length] = '\0';
    slash = strrchr(self, '/');
    if (!slash)
        return strdup(program);
    *slash = '\0';
    if (asprintf(&path, "%s/%s", self, program) < 0)
        return NULL;
    return path;
}

static int parse_options(int argc, char **argv, struct options *options)
{
    enum {
        OPTION_ROOT = 256,
        OPTION_STATE,
        OPTION_ADDRESS,
        OPTION_SHIM,
        OPTION_RUNTIME,
        OPTION_LOG_LEVEL,
        OPTION_LOG_FORMAT,
        OPTION_CLEANUP,
    };
    static const struct option long_options[] = {
        {"root", required_argument, NULL, OPTION_ROOT},
        {"state", required_argument, NULL, OPTION_STATE},
        {"address", required_argument, NULL, OPTION_ADDRESS},
        {"shim", required_argument, NULL, OPTION_SHIM},
        {"runtime", required_argument, NULL, OPTION_RUNTIME},
        {"log-level", required_argument, NULL, OPTION_LOG_LEVEL},
        {"log-format", required_argument, NULL, OPTION_LOG_FORMAT},
        {"cleanup", no_argument, NULL, OPTION_CLEANUP},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int option;

    opterr = 0;
    while ((option = getopt_long(argc, argv, "hv", long_options, NULL)) != -1) {
        switch (option) {
        case OPTION_ROOT:
            options->root = optarg;
            break;
        case OPTION_STATE:
            options->state = optarg;
            break;
        case OPTION_ADDRESS:
            options->address = optarg;
            break;
        case OPTION_SHIM:
            options->shim = optarg;
            break;
        case OPTION_RUNTIME:
            options->runtime = optarg;
            break;
        case OPTION_LOG_LEVEL:
            if (log_parse_level(optarg, &options->log_level) < 0) {
                fprintf(stderr,
                        "berth-supervisord: --log-level %s: want debug, info, warn or error\n",
                        optarg);
                return 2;
            }
            break;
        case OPTION_LOG_FORMAT:
            if (log_parse_format(optarg, &options->log_format) < 0) {
                fprintf(stderr, "berth-supervisord: --log-format %s: want text or json\n", optarg);
                return 2;
            }
            break;
        case OPTION_CLEANUP:
            options->cleanup = true;
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        case 'v':
            printf("berth-supervisord version %s (commit %s)\n", BERTH_VERSION, BERTH_GIT_COMMIT);
            return 0;
        default:
            fprintf(stderr, "berth-supervisord: unknown or incomplete option %s\n",
                    argv[optind - 1]);
            print_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth-supervisord: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    return -1; /* go on */
}

/* --cleanup: only what clean-up needs (metadata for the task records). */
static int cleanup(struct supervisor *supervisor, struct berr *err)
{
    char path[PATH_MAX];
    int rc;

    snprintf(path, sizeof(path), "%s/meta.lmdb", supervisor->root);
    if ((rc = metadata_open(path, &supervisor->metadata, err)) ||
        (rc = event_bus_create(&supervisor->events, err)) ||
        (rc = task_manager_create(supervisor, &supervisor->tasks, err)))
        return rc;
    return task_manager_cleanup(supervisor->tasks, err);
}

static int open_stores(struct supervisor *supervisor, struct berr *err)
{
    char path[PATH_MAX];
    int rc;

    snprintf(path, sizeof(path), "%s/meta.lmdb", supervisor->root);
    if ((rc = metadata_open(path, &supervisor->metadata, err)))
        return rc;
    snprintf(path, sizeof(path), "%s/content", supervisor->root);
    if ((rc = content_store_open(path, supervisor->metadata, &supervisor->content, err)) ||
        (rc = snapshotter_open(supervisor->root, supervisor->metadata, &supervisor->snapshotter,
                               err)) ||
        (rc = unpack_cleanup(supervisor->snapshotter, supervisor->metadata, err)) ||
        (rc = image_store_open(supervisor->metadata, supervisor->content, &supervisor->images,
                               err)) ||
        (rc = gc_open(supervisor->metadata, supervisor->content, &supervisor->gc, err)) ||
        (rc = snapshot_gc_register(supervisor->gc, supervisor->snapshotter, err)) ||
        (rc = event_bus_create(&supervisor->events, err)) ||
        (rc = task_manager_create(supervisor, &supervisor->tasks, err)))
        return rc;
    return task_manager_restore(supervisor->tasks, err);
}

static void close_stores(struct supervisor *supervisor)
{
    task_manager_destroy(supervisor->tasks);
    if (supervisor->events)
        event_bus_destroy(supervisor->events);
    if (supervisor->gc)
        gc_close(supervisor->gc);
    if (supervisor->images)
        image_store_close(supervisor->images);
    if (supervisor->snapshotter)
        snapshotter_close(supervisor->snapshotter);
    if (supervisor->content)
        content_store_close(supervisor->content);
    if (supervisor->metadata)
        metadata_close(supervisor->metadata);
}

static int serve(struct supervisor *supervisor, const char *address, const sigset_t *signals,
                 struct berr *err)
{
    struct rpc_server *server = NULL;
    int rc, signal_number = 0;

    if ((rc = rpc_server_create(address, &server, err)))
        return rc;
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if ((rc = services[i](server, supervisor, err)))
            goto out;
    if ((rc = rpc_server_start(server, err)))
        goto out;
    log_info("berth-supervisord %s listening on %s (root %s, state %s)", BERTH_VERSION, address,
             supervisor->root, supervisor->state);
    while (sigwait(signals, &signal_number) == 0 && signal_number == SIGHUP)
        ; /* nothing to reload */
    log_info("berth-supervisord: signal %d, shutting down (containers keep running)",
             signal_number);
out:
    /* Every handler has returned after this, so the stores can close. */
    rpc_server_shutdown_for_exit(server);
    return rc;
}

int main(int argc, char **argv)
{
    struct options options = {
        .root = DEFAULT_ROOT,
        .state = DEFAULT_STATE,
        .address = DEFAULT_ADDRESS,
        .log_level = LOG_LEVEL_INFO,
        .log_format = LOG_FORMAT_TEXT,
    };
    struct supervisor supervisor = {0};
    char root[PATH_MAX], state[PATH_MAX], *shim = NULL, *runtime = NULL;
    struct berr err = {0};
    sigset_t signals;
    int rc, lock_fd = -1;

    if ((rc = parse_options(argc, argv, &options)) >= 0)
        return rc;
    log_setup(STDERR_FILENO, options.log_level, options.log_format);
    umask(022);
    /* Shims and runtimes are our children only until they daemonize; a
     * broken client connection must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    /* Before any thread exists (gRPC's inherit the mask): only sigwait
     * below takes these. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    shim = options.shim ? strdup(options.shim) : beside_self("berth-shim");
    runtime = options.runtime ? strdup(options.runtime) : beside_self("berth-runtime");
    if (!shim || !runtime) {
        rc = berr_set(&err, BERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = daemon_make_directories(options.root, 0700, 0, &err)) ||
        (rc = daemon_make_directories(options.state, 0711, 0, &err)))
        goto out;
    if (!realpath(options.root, root) || !realpath(options.state, state)) {
        rc = berr_errno(&err, errno, "resolve --root/--state");
        goto out;
    }
    if (access(shim, X_OK) != 0 || access(runtime, X_OK) != 0) {
        rc = berr_errno(&err, errno, "%s", access(shim, X_OK) != 0 ? shim : runtime);
        berr_prefix(&err, "the shim or the runtime is not executable");
        goto out;
    }
    supervisor.root = root;
    supervisor.state = state;
    supervisor.shim_path = shim;
    supervisor.runtime_path = runtime;
    /* One daemon per root: a second would corrupt nothing in LMDB but would
     * fight over snapshots and shims. */
    if ((rc = daemon_lock(root, "supervisord.lock", "berth-supervisord", &lock_fd, &err)))
        goto out;
    if (options.cleanup) {
        rc = cleanup(&supervisor, &err);
        goto out;
    }
    if ((rc = open_stores(&supervisor, &err)))
        goto out;
    rc = serve(&supervisor, options.address, &signals, &err);
out:
    close_stores(&supervisor);
    if (lock_fd >= 0)
        close(lock_fd);
    free(shim);
    free(runtime);
    if (rc) {
        fprintf(stderr, "berth-supervisord: %s\n", err.message);
        return 1;
    }
    return 0;
}
