/*
 * berth-engined: the Docker Engine API daemon (docs/engine.md).
 *
 * main() wires things: it takes the daemon's lock in --state, connects to
 * the supervisor (which must be up: the engine has nothing to serve
 * without it), registers every API area's routes and serves until SIGTERM
 * or SIGINT. Containers keep running across an engine restart: they belong
 * to their shims, and the supervisor keeps their state.
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
#include "container_store.h"
#include "engine.h"
#include "exec_store.h"
#include "health.h"
#include "log.h"
#include "monitor.h"
#include "rootfs.h"

#define DEFAULT_ROOT       "/var/lib/berth/engine"
#define DEFAULT_STATE      "/run/berth/engine"
#define DEFAULT_ADDRESS    "unix:///run/berth/engine.sock"
#define DEFAULT_SUPERVISOR "unix:///run/berth/supervisord.sock"

struct options {
    const char *root;
    const char *state;
    const char *address;
    const char *supervisor;
    enum log_level log_level;
    enum log_format log_format;
};

typedef int (*api_register)(struct engine *engine, struct berr *err);

static const api_register apis[] = {
    api_system_register,     /* _ping, version, info, events, df */
    api_images_register,     /* /images */
    api_containers_register, /* the containers' lifecycle */
    api_archive_register,    /* docker cp */
    api_attach_register,     /* attach, resize */
    api_logs_register,       /* logs */
    api_exec_register,       /* exec */
    api_stats_register,      /* stats */
};

/* The init of --init: Debian's tini package ships a static build. */
static const char *find_init(void)
{
    static const char *const candidates[] = {"/usr/bin/tini-static", "/usr/bin/docker-init",
                                             "/usr/libexec/docker/docker-init",
                                             "/usr/local/bin/tini-static"};

    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (access(candidates[i], X_OK) == 0)
            return candidates[i];
    return NULL;
}

static void print_usage(FILE *out)
{
    fprintf(out, "Usage: berth-engined [OPTIONS]\n"
                 "\n"
                 "The Docker Engine API daemon of berth, in front of berth-supervisord.\n"
                 "\n"
                 "Options:\n"
                 "  --root DIR          persistent state (default " DEFAULT_ROOT ")\n"
                 "  --state DIR         runtime state (default " DEFAULT_STATE ")\n"
                 "  --address ADDR      where the API listens (default " DEFAULT_ADDRESS ")\n"
                 "  -H, --host ADDR     the same, as dockerd spells it\n"
                 "  --supervisor ADDR   berth-supervisord's gRPC address\n"
                 "                      (default " DEFAULT_SUPERVISOR ")\n"
                 "  --log-level LEVEL   debug, info, warn or error (default info)\n"
                 "  --log-format FMT    text or json (default text)\n"
                 "  -h, --help          this text\n"
                 "  -v, --version       the version\n");
}

static int parse_options(int argc, char **argv, struct options *options)
{
    enum {
        OPTION_ROOT = 256,
        OPTION_STATE,
        OPTION_ADDRESS,
        OPTION_SUPERVISOR,
        OPTION_LOG_LEVEL,
        OPTION_LOG_FORMAT,
    };
    static const struct option long_options[] = {
        {"root", required_argument, NULL, OPTION_ROOT},
        {"state", required_argument, NULL, OPTION_STATE},
        {"address", required_argument, NULL, OPTION_ADDRESS},
        {"host", required_argument, NULL, 'H'},
        {"supervisor", required_argument, NULL, OPTION_SUPERVISOR},
        {"log-level", required_argument, NULL, OPTION_LOG_LEVEL},
        {"log-format", required_argument, NULL, OPTION_LOG_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int option;

    opterr = 0;
    while ((option = getopt_long(argc, argv, "hvH:", long_options, NULL)) != -1) {
        switch (option) {
        case OPTION_ROOT:
            options->root = optarg;
            break;
        case OPTION_STATE:
            options->state = optarg;
            break;
        case OPTION_ADDRESS:
        case 'H':
            options->address = optarg;
            break;
        case OPTION_SUPERVISOR:
            options->supervisor = optarg;
            break;
        case OPTION_LOG_LEVEL:
            if (log_parse_level(optarg, &options->log_level) < 0) {
                fprintf(stderr, "berth-engined: --log-level %s: want debug, info, warn or error\n",
                        optarg);
                return 2;
            }
            break;
        case OPTION_LOG_FORMAT:
            if (log_parse_format(optarg, &options->log_format) < 0) {
                fprintf(stderr, "berth-engined: --log-format %s: want text or json\n", optarg);
                return 2;
            }
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        case 'v':
            printf("berth-engined version %s (commit %s)\n", BERTH_VERSION, BERTH_GIT_COMMIT);
            return 0;
        default:
            fprintf(stderr, "berth-engined: unknown or incomplete option %s\n", argv[optind - 1]);
            print_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth-engined: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    return -1;
}

static int serve(struct engine *engine, const sigset_t *signals, struct berr *err)
{
    int rc, signal_number = 0;

    if ((rc = engine_events_create(&engine->events, err)))
        return rc;
    if ((rc = rpc_client_open(engine->supervisor_address, &engine->supervisor, err)))
        return berr_prefix(err, "supervisor %s", engine->supervisor_address);
    if ((rc = image_store_create(engine->supervisor, &engine->images, err)))
        return rc;
    if ((rc = container_store_open(engine->root, &engine->containers, err)) ||
        (rc = exec_store_create(&engine->execs, err)))
        return rc;
    rootfs_views_cleanup(engine->state);
    engine->init_path = find_init();
    /* Subscribed to exits before looking at any container: live restore
     * then misses nothing that happens while it runs. */
    if ((rc = monitor_start(engine, err)))
        return rc;
    monitor_restore(engine);
    if ((rc = health_start(engine, err)))
        return rc;
    if ((rc = http_server_create(engine->address, &engine->http, err)))
        return rc;
    for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
        if ((rc = apis[i](engine, err)))
            return rc;
    if ((rc = http_server_start(engine->http, err)))
        return rc;
    log_info("berth-engined %s listening on %s (supervisor %s)", BERTH_VERSION, engine->address,
             engine->supervisor_address);
    while (sigwait(signals, &signal_number) == 0 && signal_number == SIGHUP)
        ;
    log_info("berth-engined: signal %d, shutting down (containers keep running)", signal_number);
    return 0;
}

int main(int argc, char **argv)
{
    struct options options = {
        .root = DEFAULT_ROOT,
        .state = DEFAULT_STATE,
        .address = DEFAULT_ADDRESS,
        .supervisor = DEFAULT_SUPERVISOR,
        .log_level = LOG_LEVEL_INFO,
        .log_format = LOG_FORMAT_TEXT,
    };
    struct engine engine = {0};
    char root[PATH_MAX], state[PATH_MAX];
    struct berr err = {0};
    sigset_t signals;
    int rc, lock_fd = -1;

    if ((rc = parse_options(argc, argv, &options)) >= 0)
        return rc;
    log_setup(STDERR_FILENO, options.log_level, options.log_format);
    umask(022);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    if ((rc = daemon_make_directories(options.root, 0700, 0, &err)) ||
        (rc = daemon_make_directories(options.state, 0711, 0, &err)))
        goto out;
    if (!realpath(options.root, root) || !realpath(options.state, state)) {
        rc = berr_errno(&err, errno, "resolve --root/--state");
        goto out;
    }
    engine.root = root;
    engine.state = state;
    engine.address = options.address;
    engine.supervisor_address = options.supervisor;
    engine.started = time(NULL);
    /* One engine per state directory, taken before the socket is bound. */
    if ((rc = daemon_lock(state, "engined.lock", "berth-engined", &lock_fd, &err)))
        goto out;
    rc = serve(&engine, &signals, &err);
out:
    /* Every connection has ended when this returns. */
    http_server_stop(engine.http);
    health_stop(&engine);
    monitor_stop(&engine);
    exec_store_destroy(engine.execs);
    container_store_close(engine.containers);
    engine_events_destroy(engine.events);
    image_store_destroy(engine.images);
    if (engine.supervisor)
        rpc_client_close(engine.supervisor);
    if (lock_fd >= 0)
        close(lock_fd);
    if (rc) {
        fprintf(stderr, "berth-engined: %s\n", err.message);
        return 1;
    }
    return 0;
}
