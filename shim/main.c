/*
 * berth-shim: the per-container shim. See docs/shim.md.
 *
 * main: the command line, and the start-up. The command that starts the
 * shim returns only once the shim is ready to serve: it forks twice (so the
 * shim is nobody's child but the nearest subreaper's, and in a session of
 * its own, and outlives whoever started it), and the shim reports back over
 * a pipe once it has its lock, its socket and its pid file, or why it could
 * not. So `berth-shim ... && connect` never races, and a failed start is an
 * error message on the starter's stderr and a non-zero exit, not a silent
 * daemon death.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
#include "berth_version.h"
#include "connection.h"
#include "log.h"
#include "loop.h"
#include "process.h"
#include "process_io.h"
#include "runtime.h"
#include "shim.h"
#include "unix_socket.h"

struct shim shim;

static struct watch signal_watch;
static char bundle_path[PATH_MAX];
static char socket_path[PATH_MAX];
static bool socket_created, pid_file_written;

static void print_usage(FILE *out)
{
    fprintf(out, "Usage: berth-shim --namespace NS --id ID --bundle DIR --runtime PATH\n"
                 "                  [--runtime-root DIR] [--socket PATH] [--log-level LEVEL]\n"
                 "\n"
                 "Serves one container: runs RUNTIME (berth-runtime, runc) on the OCI bundle DIR,\n"
                 "owns the container's stdio, logs, attach and exit status, and answers the\n"
                 "supervisor on a unix socket (default DIR/shim.sock) in framed protobuf\n"
                 "(proto/berth/shim/v1/shim.proto). Returns once the shim is ready; the shim\n"
                 "itself runs on in the background and logs to DIR/shim.log.\n");
}

void shim_exit_soon(void)
{
    shim.shutting_down = true;
    loop_stop();
}

static void on_signal(struct watch *watch, uint32_t events)
{
    struct signalfd_siginfo info;
    bool children = false;

    (void)events;
    while (read(watch->fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
        if (info.ssi_signo == SIGCHLD) {
            children = true;
        } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
            log_info("signal %u: exiting (the container keeps running)", info.ssi_signo);
            shim_exit_soon();
        }
    }
    if (children)
        process_reap_children();
}

static int64_t next_deadline(void)
{
    int64_t runtime = runtime_next_deadline(), process = process_next_deadline();

    if (runtime < 0)
        return process;
    if (process < 0)
        return runtime;
    return runtime < process ? runtime : process;
}

static void on_deadline(int64_t now_ms)
{
    runtime_check_deadline(now_ms);
    process_check_deadlines(now_ms);
}

/* Everything the shim needs before it may say it is ready. */
static int start(enum log_level level, struct berr *err)
{
    char pid_text[32];
    sigset_t handled;
    int fd, lock_fd, null_fd;

    /* Its own log first, so that what follows can be told. */
    fd = openat(shim.bundle_fd, "shim.log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return berr_errno(err, errno, "open %s/shim.log", shim.bundle);
    log_setup(fd, level, LOG_FORMAT_TEXT);

    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0)
        return berr_errno(err, errno, "open /dev/null");
    shim.devnull_fd = null_fd;
    /* The starter's stdio must not stay open: it may wait for their end. */
    if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
        return berr_errno(err, errno, "stdio to /dev/null");
    if (chdir("/") < 0)
        return berr_errno(err, errno, "chdir /");

    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return berr_errno(err, errno, "become a child subreaper");

    lock_fd = openat(shim.bundle_fd, "shim.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0)
        return berr_errno(err, errno, "open %s/shim.lock", shim.bundle);
    if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        char other[32] = "?";
        int saved_errno = errno, pid_fd;
        if (saved_errno != EWOULDBLOCK)
            return berr_errno(err, saved_errno, "lock %s/shim.lock", shim.bundle);
        pid_fd = openat(shim.bundle_fd, "shim.pid", O_RDONLY | O_CLOEXEC);
        if (pid_fd >= 0) {
            ssize_t got = read(pid_fd, other, sizeof(other) - 1);
            if (got > 0)
                other[got] = '\0';
            close(pid_fd);
        }
        return berr_set(err, BERR_EXISTS, "another shim (pid %s) already serves the bundle %s",
                        other, shim.bundle);
    }
    /* lock_fd stays open for the shim's life: the lock goes with the process. */

    sigemptyset(&handled);
    sigaddset(&handled, SIGCHLD);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &handled, NULL) < 0)
        return berr_errno(err, errno, "sigprocmask");
    signal(SIGPIPE, SIG_IGN);
    fd = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, errno, "signalfd");
    if (loop_init(err))
        return err->code;
    watch_init(&signal_watch);
    if (loop_add(&signal_watch, fd, EPOLLIN, on_signal, err))
        return err->code;

    /* A socket left by a dead shim: ours now that we hold the lock. */
    if (unlink(shim.socket_path) < 0 && errno != ENOENT)
        return berr_errno(err, errno, "remove the old socket %s", shim.socket_path);
    watch_init(&shim.listener);
    if (unix_listen(shim.socket_path, &fd, err))
        return err->code;
    socket_created = true;
    if (loop_add(&shim.listener, fd, EPOLLIN, connection_accept, err))
        return err->code;

    snprintf(pid_text, sizeof(pid_text), "%d", (int)shim.pid);
    if (atomic_write_file_at(shim.bundle_fd, "shim.pid", pid_text, strlen(pid_text), 0644, err))
        return err->code;
    pid_file_written = true;
    log_info("berth-shim %s serving %s/%s on %s (runtime %s)", BERTH_VERSION, shim.namespace_name,
             shim.id, shim.socket_path, shim.runtime);
    return 0;
}

static void clean_up(void)
{
    struct process *process;

    for (process = shim.processes; process; process = process->next)
        process_io_flush_partial_lines(process);
    if (socket_created)
        unlink(shim.socket_path);
    if (pid_file_written)
        unlinkat(shim.bundle_fd, "shim.pid", 0);
}

/* Tells the starter how the start went: "ok", or the error. */
static void report(int ready_fd, const char *message)
{
    if (ready_fd < 0)
        return;
    if (write_all(ready_fd, message, strlen(message)) < 0) {
        /* The starter is gone: nobody to tell. */
    }
    close(ready_fd);
}

/* The starter: waits for the shim's word. */
static int wait_for_shim(int ready_fd, pid_t child)
{
    char message[BERR_MESSAGE_MAX + 64];
    size_t used = 0;
    ssize_t got;
    int status;

    while (used < sizeof(message) - 1) {
        got = read(ready_fd, message + used, sizeof(message) - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    message[used] = '\0';
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (strcmp(message, "ok") == 0)
        return 0;
    fprintf(stderr, "berth-shim: %s\n",
            used ? message : "the shim exited while starting (see shim.log in the bundle)");
    return 1;
}

int main(int argc, char **argv)
{
    enum {
        OPTION_NAMESPACE = 256,
        OPTION_ID,
        OPTION_BUNDLE,
        OPTION_RUNTIME,
        OPTION_RUNTIME_ROOT,
        OPTION_SOCKET,
        OPTION_LOG_LEVEL
    };
    static const struct option options[] = {
        {"namespace", required_argument, NULL, OPTION_NAMESPACE},
        {"id", required_argument, NULL, OPTION_ID},
        {"bundle", required_argument, NULL, OPTION_BUNDLE},
        {"runtime", required_argument, NULL, OPTION_RUNTIME},
        {"runtime-root", required_argument, NULL, OPTION_RUNTIME_ROOT},
        {"socket", required_argument, NULL, OPTION_SOCKET},
        {"log-level", required_argument, NULL, OPTION_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    enum log_level level = LOG_LEVEL_INFO;
    const char *bundle = NULL, *socket_option = NULL;
    char runtime_root[PATH_MAX];
    struct berr err;
    int option, ready[2];
    pid_t child;

    /* Whatever the starter leaked must not live on in the shim. */
    if (close_range(3, ~0U, 0) < 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);

    opterr = 0;
    while ((option = getopt_long(argc, argv, "hv", options, NULL)) != -1) {
        switch (option) {
        case OPTION_NAMESPACE:
            shim.namespace_name = optarg;
            break;
        case OPTION_ID:
            shim.id = optarg;
            break;
        case OPTION_BUNDLE:
            bundle = optarg;
            break;
        case OPTION_RUNTIME:
            shim.runtime = optarg;
            break;
        case OPTION_RUNTIME_ROOT:
            shim.runtime_root = optarg;
            break;
        case OPTION_SOCKET:
            socket_option = optarg;
            break;
        case OPTION_LOG_LEVEL:
            if (log_parse_level(optarg, &level) < 0) {
                fprintf(stderr, "berth-shim: --log-level %s: want debug, info, warn or error\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        case 'v':
            printf("berth-shim version %s (commit %s)\n", BERTH_VERSION, BERTH_GIT_COMMIT);
            return 0;
        default:
            fprintf(stderr, "berth-shim: unknown or incomplete option %s\n", argv[optind - 1]);
            print_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth-shim: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    if (!shim.namespace_name || !shim.id || !bundle || !shim.runtime) {
        fprintf(stderr, "berth-shim: --namespace, --id, --bundle and --runtime are required\n");
        print_usage(stderr);
        return 2;
    }
    if (!*shim.id || strchr(shim.id, '/') || !*shim.namespace_name) {
        fprintf(stderr, "berth-shim: --id %s: not a container id\n", shim.id);
        return 2;
    }
    if (!realpath(bundle, bundle_path)) {
        fprintf(stderr, "berth-shim: --bundle %s: %s\n", bundle, strerror(errno));
        return 1;
    }
    shim.bundle = bundle_path;
    if (shim.runtime_root) {
        /* The runtime runs from "/": a relative root would move. */
        if (shim.runtime_root[0] != '/') {
            if (!realpath(shim.runtime_root, runtime_root)) {
                fprintf(stderr, "berth-shim: --runtime-root %s: %s\n", shim.runtime_root,
                        strerror(errno));
                return 1;
            }
            shim.runtime_root = runtime_root;
        }
    }
    if (socket_option && socket_option[0] != '/') {
        fprintf(stderr, "berth-shim: --socket %s: must be an absolute path\n", socket_option);
        return 2;
    }
    snprintf(socket_path, sizeof(socket_path), "%s", socket_option ? socket_option : "");
    if (!socket_option && snprintf(socket_path, sizeof(socket_path), "%s/shim.sock", bundle_path) >=
                              (int)sizeof(socket_path)) {
        fprintf(stderr, "berth-shim: --bundle %s: path too long\n", bundle_path);
        return 1;
    }
    shim.socket_path = socket_path;
    shim.bundle_fd = open(bundle_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (shim.bundle_fd < 0) {
        fprintf(stderr, "berth-shim: --bundle %s: %s\n", bundle_path, strerror(errno));
        return 1;
    }

    if (pipe2(ready, O_CLOEXEC) < 0) {
        fprintf(stderr, "berth-shim: pipe: %s\n", strerror(errno));
        return 1;
    }
    child = fork();
    if (child < 0) {
        fprintf(stderr, "berth-shim: fork: %s\n", strerror(errno));
        return 1;
    }
    if (child > 0) {
        close(ready[1]);
        return wait_for_shim(ready[0], child);
    }
    /* The middle process: a new session, then the shim is its orphan. */
    close(ready[0]);
    if (setsid() < 0) {
        report(ready[1], "setsid failed");
        _exit(1);
    }
    child = fork();
    if (child < 0) {
        report(ready[1], "fork failed");
        _exit(1);
    }
    if (child > 0)
        _exit(0);

    /* The shim. */
    shim.pid = getpid();
    mallopt(M_MMAP_THRESHOLD, 64 * 1024); /* big buffers go back to the system when freed */
    berr_clear(&err);
    if (start(level, &err)) {
        log_error("start: %s", err.message);
        report(ready[1], err.message);
        clean_up();
        return 1;
    }
    report(ready[1], "ok");
    loop_run(next_deadline, on_deadline);
    clean_up();
    log_info("exiting");
    return 0;
}
