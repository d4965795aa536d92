/*
 * tasks: see tasks.h. One watcher thread reads every shim's event
 * connection (epoll), so the number of threads does not grow with the
 * number of containers; request connections are used by the gRPC handler
 * threads, one request at a time each.
 */
#include "tasks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "atomic_file.h"
#include "containers.h"
#include "daemon.h"
#include "dirtree.h"
#include "json.h"
#include "log.h"
#include "metadata.h"
#include "mount.h"
#include "shim_client.h"
#include "supervisor.h"

extern char **environ;

#define SPEC_MAX (16 * 1024 * 1024)

struct task {
    struct task *next;
    int references; /* guarded by the manager's lock */
    char *namespace;
    char *id;
    char *bundle;
    char *socket;
    char *runtime;               /* the runtime binary the shim runs */
    char *runtime_root;          /* its --root */
    struct shim_client *control; /* requests */
    struct shim_client *events;  /* the event subscription, read by the watcher */
    bool deleting;               /* the shim goes away on purpose (atomic: read by any call) */
};

struct task_manager {
    struct supervisor *supervisor;
    pthread_mutex_t lock;
    /* Creates hold it shared while the runtime makes cgroups; the clean-up
     * of a namespace's parent cgroup holds it exclusive (see below). */
    pthread_rwlock_t cgroup_lock;
    struct task *tasks;
    int epoll_fd;
    int wake_fd;
    pthread_t watcher;
    bool watching;
};

const char *task_namespace(const struct task *task)
{
    return task->namespace;
}

const char *task_id(const struct task *task)
{
    return task->id;
}

const char *task_bundle(const struct task *task)
{
    return task->bundle;
}

static void free_task(struct task *task)
{
    if (task->control)
        shim_client_close(task->control);
    if (task->events)
        shim_client_close(task->events);
    free(task->namespace);
    free(task->id);
    free(task->bundle);
    free(task->socket);
    free(task->runtime);
    free(task->runtime_root);
    free(task);
}

void task_release(struct task_manager *manager, struct task *task)
{
    bool last;

    if (!task)
        return;
    pthread_mutex_lock(&manager->lock);
    last = --task->references == 0;
    pthread_mutex_unlock(&manager->lock);
    if (last)
        free_task(task);
}

/* Takes the task out of the list (once); returns true if it was there. */
static bool unlist(struct task_manager *manager, struct task *task)
{
    struct task **link;
    bool found = false;

    pthread_mutex_lock(&manager->lock);
    for (link = &manager->tasks; *link; link = &(*link)->next) {
        if (*link == task) {
            *link = task->next;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&manager->lock);
    if (found)
        task_release(manager, task); /* the list's reference */
    return found;
}

int task_find(struct task_manager *manager, const char *namespace, const char *container_id,
              struct task **out, struct berr *err)
{
    struct task *task;

    pthread_mutex_lock(&manager->lock);
    for (task = manager->tasks; task; task = task->next)
        if (strcmp(task->namespace, namespace) == 0 && strcmp(task->id, container_id) == 0)
            break;
    if (task)
        task->references++;
    pthread_mutex_unlock(&manager->lock);
    if (!task)
        return berr_set(err, BERR_NOT_FOUND, "no task for container %s", container_id);
    *out = task;
    return 0;
}

int task_list(struct task_manager *manager, const char *namespace, struct task ***tasks,
              size_t *count, struct berr *err)
{
    struct task *task;
    size_t n = 0, i = 0;

    pthread_mutex_lock(&manager->lock);
    for (task = manager->tasks; task; task = task->next)
        if (!namespace || strcmp(task->namespace, namespace) == 0)
            n++;
    *tasks = calloc(n ? n : 1, sizeof(struct task *));
    if (!*tasks) {
        pthread_mutex_unlock(&manager->lock);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    for (task = manager->tasks; task; task = task->next) {
        if (!namespace || strcmp(task->namespace, namespace) == 0) {
            task->references++;
            (*tasks)[i++] = task;
        }
    }
    pthread_mutex_unlock(&manager->lock);
    *count = n;
    return 0;
}

int task_call(struct task *task, Berth__Shim__V1__Request *request,
              Berth__Shim__V1__Response **response, struct berr *err)
{
    int rc = shim_client_call(task->control, request, response, err);

    /* A call that raced with the task's deletion (a kill as the exit is
     * being cleaned up, say) finds the task gone, not a broken shim. */
    if (rc == BERR_UNAVAILABLE && __atomic_load_n(&task->deleting, __ATOMIC_ACQUIRE))
        return berr_set(err, BERR_NOT_FOUND, "task %s was deleted", task->id);
    if (rc == BERR_UNAVAILABLE)
        berr_prefix(err, "the shim of %s is gone", task->id);
    return rc;
}

/* ---- events ---- */

static void timestamp_from(Berth__Supervisor__V1__Timestamp *out,
                           const Berth__Shim__V1__Timestamp *in)
{
    if (in) {
        out->seconds = in->seconds;
        out->nanos = in->nanos;
    }
}

static void publish_exit(struct task_manager *manager, struct task *task, const char *exec_id,
                         uint32_t pid, uint32_t status, const Berth__Shim__V1__Timestamp *when)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__TaskExit exit_event = BERTH__SUPERVISOR__V1__TASK_EXIT__INIT;
    Berth__Supervisor__V1__Timestamp exited = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;

    timestamp_from(&exited, when);
    exit_event.container_id = task->id;
    exit_event.id = (char *)(exec_id && *exec_id ? exec_id : task->id);
    exit_event.pid = pid;
    exit_event.exit_status = status;
    exit_event.exited_at = &exited;
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_EXIT;
    envelope.task_exit = &exit_event;
    event_bus_publish(manager->supervisor->events, task->namespace, "/tasks/exit", &envelope);
}

static void publish_delete(struct task_manager *manager, struct task *task, const char *exec_id,
                           uint32_t pid, uint32_t status, const Berth__Shim__V1__Timestamp *when)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__TaskDelete deleted = BERTH__SUPERVISOR__V1__TASK_DELETE__INIT;
    Berth__Supervisor__V1__Timestamp exited = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;

    timestamp_from(&exited, when);
    deleted.container_id = task->id;
    deleted.id = (char *)(exec_id && *exec_id ? exec_id : task->id);
    deleted.pid = pid;
    deleted.exit_status = status;
    deleted.exited_at = &exited;
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_DELETE;
    envelope.task_delete = &deleted;
    event_bus_publish(manager->supervisor->events, task->namespace, "/tasks/delete", &envelope);
}

void task_publish_simple(struct task_manager *manager, struct task *task, const char *topic)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__TaskOOM oom = BERTH__SUPERVISOR__V1__TASK_OOM__INIT;
    Berth__Supervisor__V1__TaskPaused paused = BERTH__SUPERVISOR__V1__TASK_PAUSED__INIT;
    Berth__Supervisor__V1__TaskResumed resumed = BERTH__SUPERVISOR__V1__TASK_RESUMED__INIT;

    if (strcmp(topic, "/tasks/oom") == 0) {
        oom.container_id = task->id;
        envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_OOM;
        envelope.task_oom = &oom;
    } else if (strcmp(topic, "/tasks/paused") == 0) {
        paused.container_id = task->id;
        envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_PAUSED;
        envelope.task_paused = &paused;
    } else {
        resumed.container_id = task->id;
        envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_RESUMED;
        envelope.task_resumed = &resumed;
    }
    event_bus_publish(manager->supervisor->events, task->namespace, topic, &envelope);
}

void task_publish_start(struct task_manager *manager, struct task *task, const char *exec_id,
                        uint32_t pid)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__TaskStart start = BERTH__SUPERVISOR__V1__TASK_START__INIT;
    Berth__Supervisor__V1__TaskExecStarted exec_started =
        BERTH__SUPERVISOR__V1__TASK_EXEC_STARTED__INIT;

    if (exec_id && *exec_id) {
        exec_started.container_id = task->id;
        exec_started.exec_id = (char *)exec_id;
        exec_started.pid = pid;
        envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_EXEC_STARTED;
        envelope.task_exec_started = &exec_started;
        event_bus_publish(manager->supervisor->events, task->namespace, "/tasks/exec-started",
                          &envelope);
        return;
    }
    start.container_id = task->id;
    start.pid = pid;
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_START;
    envelope.task_start = &start;
    event_bus_publish(manager->supervisor->events, task->namespace, "/tasks/start", &envelope);
}

void task_publish_exec_added(struct task_manager *manager, struct task *task, const char *exec_id)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__TaskExecAdded added = BERTH__SUPERVISOR__V1__TASK_EXEC_ADDED__INIT;

    added.container_id = task->id;
    added.exec_id = (char *)exec_id;
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_EXEC_ADDED;
    envelope.task_exec_added = &added;
    event_bus_publish(manager->supervisor->events, task->namespace, "/tasks/exec-added", &envelope);
}

static void publish_create(struct task_manager *manager, struct task *task, uint32_t pid)
{
    Berth__Supervisor__V1__Envelope envelope = BERTH__SUPERVISOR__V1__ENVELOPE__INIT;
    Berth__Supervisor__V1__TaskCreate created = BERTH__SUPERVISOR__V1__TASK_CREATE__INIT;

    created.container_id = task->id;
    created.pid = pid;
    created.bundle = task->bundle;
    envelope.event_case = BERTH__SUPERVISOR__V1__ENVELOPE__EVENT_TASK_CREATE;
    envelope.task_create = &created;
    event_bus_publish(manager->supervisor->events, task->namespace, "/tasks/create", &envelope);
}

/* ---- the bundle ---- */

/* The "linux" object, with a cgroupsPath of /NAMESPACE/ID when it has none,
 * so that the same id in two namespaces never shares a cgroup. */
static void write_linux(struct json_writer *writer, const struct task *task, yajl_val linux_object)
{
    char cgroups_path[PATH_MAX];
    bool has_path = false;
    size_t i;

    json_object_begin(writer);
    for (i = 0; YAJL_IS_OBJECT(linux_object) && i < linux_object->u.object.len; i++) {
        if (strcmp(linux_object->u.object.keys[i], "cgroupsPath") == 0)
            has_path = true;
        json_key(writer, linux_object->u.object.keys[i]);
        json_value(writer, linux_object->u.object.values[i]);
    }
    if (!has_path) {
        snprintf(cgroups_path, sizeof(cgroups_path), "/%s/%s", task->namespace, task->id);
        json_kv_string(writer, "cgroupsPath", cgroups_path);
    }
    json_object_end(writer);
}

/* The container's spec with its root moved to BUNDLE/rootfs. */
static int write_config(const struct task *task, const ProtobufCBinaryData *spec, struct berr *err)
{
    struct json_writer writer;
    const char *text;
    char *copy, path[PATH_MAX];
    yajl_val tree, root;
    size_t length, i;
    bool readonly = false;
    int rc;

    if (!spec->len || spec->len > SPEC_MAX)
        return berr_set(err, BERR_INVALID, "the container has no usable spec");
    copy = malloc(spec->len + 1);
    if (!copy)
        return berr_set(err, BERR_NOMEM, "out of memory");
    memcpy(copy, spec->data, spec->len);
    copy[spec->len] = '\0';
    rc = json_parse(copy, &tree, err);
    free(copy);
    if (rc)
        return berr_prefix(err, "container spec");
    root = json_get(tree, "root");
    json_get_bool(root, "readonly", &readonly, NULL);
    if ((rc = json_writer_init(&writer, false, err))) {
        yajl_tree_free(tree);
        return rc;
    }
    json_object_begin(&writer);
    for (i = 0; YAJL_IS_OBJECT(tree) && i < tree->u.object.len; i++) {
        if (strcmp(tree->u.object.keys[i], "root") == 0 ||
            strcmp(tree->u.object.keys[i], "linux") == 0)
            continue;
        json_key(&writer, tree->u.object.keys[i]);
        json_value(&writer, tree->u.object.values[i]);
    }
    json_key(&writer, "linux");
    write_linux(&writer, task, json_get(tree, "linux"));
    json_key(&writer, "root");
    json_object_begin(&writer);
    json_kv_string(&writer, "path", "rootfs");
    json_kv_bool(&writer, "readonly", readonly);
    json_object_end(&writer);
    json_object_end(&writer);
    yajl_tree_free(tree);
    snprintf(path, sizeof(path), "%s/config.json", task->bundle);
    if ((rc = json_writer_result(&writer, &text, &length, err)) == 0)
        rc = atomic_write_file(path, text, length, 0600, err);
    json_writer_free(&writer);
    return rc;
}

static int mounts_from_request(Berth__Supervisor__V1__Mount **rootfs, size_t count,
                               struct mount_list *out, struct berr *err)
{
    size_t i;
    int rc;

    for (i = 0; i < count; i++) {
        const Berth__Supervisor__V1__Mount *mount = rootfs[i];
        const char *options[mount->n_options + 1];
        memcpy(options, mount->options, mount->n_options * sizeof(char *));
        options[mount->n_options] = NULL;
        if ((rc = mount_list_add(out, mount->type, mount->source, options, err)))
            return rc;
    }
    return 0;
}

/* The runtime binary for a container's runtime name. */
static char *resolve_runtime(struct task_manager *manager, const char *name)
{
    char path[PATH_MAX];
    const char *search = getenv("PATH"), *cursor;

    if (!name || !*name || strcmp(name, "berth-runtime") == 0)
        return strdup(manager->supervisor->runtime_path);
    if (name[0] == '/')
        return strdup(name);
    for (cursor = search ? search : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
         *cursor;) {
        const char *end = strchrnul(cursor, ':');
        snprintf(path, sizeof(path), "%.*s/%s", (int)(end - cursor), cursor, name);
        if (access(path, X_OK) == 0)
            return strdup(path);
        cursor = *end ? end + 1 : end;
    }
    return NULL;
}

/* Starts berth-shim on the bundle; it returns once it listens. */
static int start_shim(struct task_manager *manager, struct task *task, struct berr *err)
{
    const char *argv[] = {manager->supervisor->shim_path,
                          "--namespace",
                          task->namespace,
                          "--id",
                          task->id,
                          "--bundle",
                          task->bundle,
                          "--runtime",
                          task->runtime,
                          "--runtime-root",
                          task->runtime_root,
                          NULL};
    posix_spawn_file_actions_t actions;
    char output[1024];
    ssize_t got = 0;
    int pipe_fds[2], status = 0, rc;
    pid_t pid;

    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return berr_errno(err, errno, "pipe");
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
    rc = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (rc) {
        close(pipe_fds[0]);
        return berr_errno(err, rc, "start the shim %s", argv[0]);
    }
    /* The shim's first process exits when the daemon is ready; its output is
     * an error message if it failed. */
    for (;;) {
        ssize_t chunk = read(pipe_fds[0], output + got, sizeof(output) - 1 - (size_t)got);
        if (chunk < 0 && errno == EINTR)
            continue;
        if (chunk <= 0 || (size_t)(got += chunk) >= sizeof(output) - 1)
            break;
    }
    close(pipe_fds[0]);
    output[got > 0 ? got : 0] = '\0';
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *newline = strrchr(output, '\n');
        if (newline && !newline[1])
            *newline = '\0';
        return berr_set(err, BERR_IO, "the shim for %s did not start: %s", task->id,
                        output[0] ? output : "(no message)");
    }
    return 0;
}

static int watch(struct task_manager *manager, struct task *task, struct berr *err);

/* Opens the request and event connections to a running shim. */
static int connect_shim(struct task_manager *manager, struct task *task, struct berr *err)
{
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__SubscribeRequest subscribe = BERTH__SHIM__V1__SUBSCRIBE_REQUEST__INIT;
    Berth__Shim__V1__Response *response = NULL;
    int rc;

    if ((rc = shim_client_connect(task->socket, &task->control, err)) ||
        (rc = shim_client_connect(task->socket, &task->events, err)))
        return rc;
    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_SUBSCRIBE;
    request.subscribe = &subscribe;
    if ((rc = shim_client_call(task->events, &request, &response, err)))
        return rc;
    berth__shim__v1__response__free_unpacked(response, NULL);
    return watch(manager, task, err);
}

static struct task *new_task(struct task_manager *manager, const char *namespace, const char *id,
                             const char *runtime)
{
    struct task *task = calloc(1, sizeof(*task));
    char path[PATH_MAX];

    if (!task)
        return NULL;
    task->references = 1;
    task->namespace = strdup(namespace);
    task->id = strdup(id);
    snprintf(path, sizeof(path), "%s/%s/%s", manager->supervisor->state, namespace, id);
    task->bundle = strdup(path);
    snprintf(path, sizeof(path), "%s/%s/%s/shim.sock", manager->supervisor->state, namespace, id);
    task->socket = strdup(path);
    snprintf(path, sizeof(path), "%s/runtime/%s", manager->supervisor->state, namespace);
    task->runtime_root = strdup(path);
    task->runtime = runtime ? strdup(runtime) : NULL;
    if (!task->namespace || !task->id || !task->bundle || !task->socket || !task->runtime_root ||
        !task->runtime) {
        free_task(task);
        return NULL;
    }
    return task;
}

static void add_to_list(struct task_manager *manager, struct task *task)
{
    pthread_mutex_lock(&manager->lock);
    task->references++;
    task->next = manager->tasks;
    manager->tasks = task;
    pthread_mutex_unlock(&manager->lock);
}

/* The task record: which runtime, for clean-up after a dead shim. */
static int record_task(struct task_manager *manager, struct task *task, bool present,
                       struct berr *err)
{
    struct metadata_txn *txn;
    char value[PATH_MAX + 64];
    int rc;

    if ((rc = metadata_begin(manager->supervisor->metadata, true, &txn, err)))
        return rc;
    if (present) {
        int length = snprintf(value, sizeof(value), "%s", task->runtime);
        rc = metadata_put(txn, METADATA_TASKS, task->namespace, task->id, value, (size_t)length,
                          err);
    } else {
        rc = metadata_delete(txn, METADATA_TASKS, task->namespace, task->id, err);
        if (rc == BERR_NOT_FOUND)
            rc = 0;
    }
    if (rc) {
        metadata_abort(txn);
        return rc;
    }
    return metadata_commit(txn, err);
}

/* Runs `RUNTIME --root R delete --force ID`: after a shim died, nothing else
 * will. Errors are logged only: this is best-effort clean-up. */
static void runtime_force_delete(struct task *task)
{
    const char *argv[] = {task->runtime, "--root", task->runtime_root, "delete", "--force",
                          task->id,      NULL};
    posix_spawn_file_actions_t actions;
    int status;
    pid_t pid;

    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ) == 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    posix_spawn_file_actions_destroy(&actions);
}

/* Unmounts the rootfs and removes the bundle. */
static void remove_bundle(struct task *task)
{
    char rootfs[PATH_MAX];
    struct berr err;

    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", task->bundle);
    if (snapshot_unmount(rootfs, &err))
        log_warn("task %s: %s", task->id, err.message);
    if (dirtree_remove(task->bundle, &err))
        log_warn("task %s: %s", task->id, err.message);
}

/*
 * Tasks get the cgroup /NAMESPACE/ID by default (write_linux), and runtimes
 * remove only the ID level. The empty NAMESPACE level would stay behind for
 * ever, so the last delete of a namespace removes it: rmdir fails on a
 * non-empty cgroup, which is the "not the last" case. The exclusive lock
 * keeps a concurrent create from losing the parent between its mkdirs.
 */
static void remove_namespace_cgroups(struct task_manager *manager, const char *namespace)
{
    char path[PATH_MAX];
    struct dirent *entry;
    DIR *hierarchies;

    pthread_rwlock_wrlock(&manager->cgroup_lock);
    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
        snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", namespace);
        rmdir(path);
    } else if ((hierarchies = opendir("/sys/fs/cgroup"))) {
        /* v1 controllers and the hybrid unified tree; symlinks (cpu ->
         * cpu,cpuacct) name a hierarchy twice and are skipped. */
        while ((entry = readdir(hierarchies))) {
            if (entry->d_name[0] == '.' || entry->d_type != DT_DIR)
                continue;
            snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", entry->d_name, namespace);
            rmdir(path);
        }
        closedir(hierarchies);
    }
    pthread_rwlock_unlock(&manager->cgroup_lock);
}

int task_create(struct task_manager *manager, const char *namespace, const char *container_id,
                Berth__Supervisor__V1__Mount **rootfs, size_t rootfs_count,
                const Berth__Supervisor__V1__IO *io, uint32_t *pid, struct berr *err)
{
    Berth__Supervisor__V1__Container *container = NULL;
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__CreateRequest create = BERTH__SHIM__V1__CREATE_REQUEST__INIT;
    Berth__Shim__V1__IO shim_io = BERTH__SHIM__V1__IO__INIT;
    Berth__Shim__V1__Response *response = NULL;
    struct mount_list mounts = {0};
    struct task *task = NULL, *existing = NULL;
    char rootfs_path[PATH_MAX], *runtime = NULL;
    bool bundle_made = false, mounted = false, shim_started = false;
    int rc;

    if ((rc = container_store_get(manager->supervisor->metadata, namespace, container_id,
                                  &container, err)))
        return rc;
    if (task_find(manager, namespace, container_id, &existing, NULL) == 0) {
        task_release(manager, existing);
        rc = berr_set(err, BERR_EXISTS, "container %s has a task already", container_id);
        goto out;
    }
    runtime = resolve_runtime(manager, container->runtime ? container->runtime->name : NULL);
    if (!runtime) {
        rc = berr_set(err, BERR_NOT_FOUND, "container %s: runtime %s not found", container_id,
                      container->runtime->name);
        goto out;
    }
    task = new_task(manager, namespace, container_id, runtime);
    if (!task) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    /* The root filesystem: the request's mounts, or the container's snapshot. */
    if (rootfs_count)
        rc = mounts_from_request(rootfs, rootfs_count, &mounts, err);
    else if (container->snapshot_key && *container->snapshot_key)
        rc = snapshot_mounts(manager->supervisor->snapshotter, namespace, container->snapshot_key,
                             &mounts, err);
    else
        rc = berr_set(err, BERR_INVALID,
                      "container %s has no snapshot_key, and the request gives no rootfs",
                      container_id);
    if (rc)
        goto fail;
    if (access(task->bundle, F_OK) == 0) {
        /* Left by a crash with no shim behind it (a live one would be listed). */
        remove_bundle(task);
    }
    snprintf(rootfs_path, sizeof(rootfs_path), "%s/rootfs", task->bundle);
    if ((rc = daemon_make_directories(rootfs_path, 0711, DAEMON_PRIVATE_PARENTS, err)) ||
        (rc = daemon_make_directories(task->runtime_root, 0711, DAEMON_PRIVATE_PARENTS, err)))
        goto fail;
    bundle_made = true;
    if ((rc = snapshot_mount(&mounts, rootfs_path, err)))
        goto fail;
    mounted = true;
    if ((rc = write_config(task, &container->spec, err)) ||
        (rc = record_task(manager, task, true, err)) || (rc = start_shim(manager, task, err)))
        goto fail;
    shim_started = true;
    if ((rc = connect_shim(manager, task, err)))
        goto fail;
    if (io) {
        shim_io.terminal = io->terminal;
        shim_io.stdin = io->stdin;
        shim_io.log_path = io->log_path;
        shim_io.log_max_size = io->log_max_size;
        shim_io.log_max_files = io->log_max_files;
        shim_io.console_width = io->console_width;
        shim_io.console_height = io->console_height;
    }
    create.io = &shim_io;
    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_CREATE;
    request.create = &create;
    pthread_rwlock_rdlock(&manager->cgroup_lock);
    rc = task_call(task, &request, &response, err);
    pthread_rwlock_unlock(&manager->cgroup_lock);
    if (rc)
        goto fail;
    *pid = response->create ? response->create->pid : 0;
    berth__shim__v1__response__free_unpacked(response, NULL);
    add_to_list(manager, task);
    publish_create(manager, task, *pid);
    task_release(manager, task);
    task = NULL;
    rc = 0;
    goto out;
fail:
    if (task) {
        __atomic_store_n(&task->deleting, true, __ATOMIC_RELEASE);
        if (shim_started) {
            Berth__Shim__V1__Request shutdown = BERTH__SHIM__V1__REQUEST__INIT;
            Berth__Shim__V1__ShutdownRequest force = BERTH__SHIM__V1__SHUTDOWN_REQUEST__INIT;
            force.force = true;
            shutdown.kind_case = BERTH__SHIM__V1__REQUEST__KIND_SHUTDOWN;
            shutdown.shutdown = &force;
            if (!task->control || task_call(task, &shutdown, &response, NULL) != 0)
                runtime_force_delete(task);
            else
                berth__shim__v1__response__free_unpacked(response, NULL);
        }
        if (mounted || bundle_made)
            remove_bundle(task);
        record_task(manager, task, false, NULL);
        if (shim_started)
            remove_namespace_cgroups(manager, namespace);
        task_release(manager, task);
    }
out:
    mount_list_free(&mounts);
    free(runtime);
    berth__supervisor__v1__container__free_unpacked(container, NULL);
    return rc;
}

/* ---- delete, wait, attach ---- */

static int shutdown_shim(struct task *task, struct berr *err)
{
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__ShutdownRequest shutdown = BERTH__SHIM__V1__SHUTDOWN_REQUEST__INIT;
    Berth__Shim__V1__Response *response = NULL;
    int rc;

    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_SHUTDOWN;
    request.shutdown = &shutdown;
    rc = task_call(task, &request, &response, err);
    if (rc == 0)
        berth__shim__v1__response__free_unpacked(response, NULL);
    return rc;
}

static void unwatch(struct task_manager *manager, struct task *task);

int task_delete(struct task_manager *manager, const char *namespace, const char *container_id,
                const char *exec_id, Berth__Shim__V1__DeleteResponse **deleted, struct berr *err)
{
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__DeleteRequest delete_request = BERTH__SHIM__V1__DELETE_REQUEST__INIT;
    Berth__Shim__V1__Response *response = NULL;
    struct task *task;
    bool whole = !exec_id || !*exec_id;
    int rc;

    if ((rc = task_find(manager, namespace, container_id, &task, err)))
        return rc;
    delete_request.exec_id = (char *)(whole ? "" : exec_id);
    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_DELETE;
    request.delete_ = &delete_request;
    if ((rc = task_call(task, &request, &response, err))) {
        task_release(manager, task);
        return rc;
    }
    *deleted = response->delete_;
    response->delete_ = NULL;
    response->kind_case = BERTH__SHIM__V1__RESPONSE__KIND__NOT_SET;
    berth__shim__v1__response__free_unpacked(response, NULL);
    if (whole) {
        __atomic_store_n(&task->deleting, true, __ATOMIC_RELEASE);
        unwatch(manager, task);
        if (shutdown_shim(task, err))
            log_warn("task %s: stop the shim: %s", task->id, err->message);
        remove_bundle(task);
        record_task(manager, task, false, NULL);
        unlist(manager, task);
        remove_namespace_cgroups(manager, task->namespace);
    }
    publish_delete(manager, task, exec_id, (*deleted)->pid, (*deleted)->exit_status,
                   (*deleted)->exited_at);
    task_release(manager, task);
    return 0;
}

int task_wait(struct task *task, const char *exec_id, bool (*cancelled)(void *), void *context,
              Berth__Shim__V1__WaitResponse **response, struct berr *err)
{
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__WaitRequest wait_request = BERTH__SHIM__V1__WAIT_REQUEST__INIT;
    Berth__Shim__V1__Response *answer = NULL;
    struct shim_client *client = NULL;
    int rc;

    /* A connection of its own: the answer may take days. */
    if ((rc = shim_client_connect(task->socket, &client, err)))
        return rc;
    wait_request.exec_id = (char *)(exec_id ? exec_id : "");
    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_WAIT;
    request.wait = &wait_request;
    rc = shim_client_call_cancellable(client, &request, cancelled, context, &answer, err);
    shim_client_close(client);
    if (rc)
        return rc;
    *response = answer->wait;
    answer->wait = NULL;
    answer->kind_case = BERTH__SHIM__V1__RESPONSE__KIND__NOT_SET;
    berth__shim__v1__response__free_unpacked(answer, NULL);
    if (!*response)
        return berr_set(err, BERR_IO, "the shim answered a wait without a status");
    return 0;
}

int task_attach(struct task *task, const char *exec_id, bool with_stdin, bool with_stdout,
                bool with_stderr, struct shim_client **out, struct berr *err)
{
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__AttachRequest attach = BERTH__SHIM__V1__ATTACH_REQUEST__INIT;
    Berth__Shim__V1__Response *response = NULL;
    struct shim_client *client = NULL;
    int rc;

    if ((rc = shim_client_connect(task->socket, &client, err)))
        return rc;
    attach.exec_id = (char *)(exec_id ? exec_id : "");
    attach.stdin = with_stdin;
    attach.stdout = with_stdout;
    attach.stderr = with_stderr;
    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_ATTACH;
    request.attach = &attach;
    if ((rc = shim_client_call(client, &request, &response, err))) {
        shim_client_close(client);
        return rc;
    }
    berth__shim__v1__response__free_unpacked(response, NULL);
    *out = client;
    return 0;
}

/* ---- watching the shims ---- */

static int watch(struct task_manager *manager, struct task *task, struct berr *err)
{
    struct epoll_event event = {EPOLLIN, {.ptr = task}};

    pthread_mutex_lock(&manager->lock);
    task->references++; /* held by the epoll registration */
    pthread_mutex_unlock(&manager->lock);
    if (epoll_ctl(manager->epoll_fd, EPOLL_CTL_ADD, shim_client_fd(task->events), &event) < 0) {
        int rc = berr_errno(err, errno, "watch the shim of %s", task->id);
        task_release(manager, task);
        return rc;
    }
    return 0;
}

static void unwatch(struct task_manager *manager, struct task *task)
{
    if (epoll_ctl(manager->epoll_fd, EPOLL_CTL_DEL, shim_client_fd(task->events), NULL) == 0)
        task_release(manager, task);
}

/* The shim went away without being asked: clean up its container. */
static void shim_died(struct task_manager *manager, struct task *task)
{
    Berth__Shim__V1__Timestamp now = BERTH__SHIM__V1__TIMESTAMP__INIT;

    log_warn("the shim of %s/%s is gone: cleaning up its container", task->namespace, task->id);
    now.seconds = time(NULL);
    runtime_force_delete(task);
    remove_bundle(task);
    record_task(manager, task, false, NULL);
    publish_exit(manager, task, "", 0, 255, &now);
    publish_delete(manager, task, "", 0, 255, &now);
    unlist(manager, task);
    remove_namespace_cgroups(manager, task->namespace);
}

static void handle_event(struct task_manager *manager, struct task *task)
{
    Berth__Shim__V1__Event *event = NULL;
    struct berr err;

    if (shim_client_next_event(task->events, &event, &err) != 0) {
        unwatch(manager, task);
        if (!__atomic_load_n(&task->deleting, __ATOMIC_ACQUIRE))
            shim_died(manager, task);
        return;
    }
    switch (event->kind) {
    case BERTH__SHIM__V1__EVENT__KIND__EXIT:
        publish_exit(manager, task, event->exec_id, event->pid, event->exit_status,
                     event->exited_at);
        break;
    case BERTH__SHIM__V1__EVENT__KIND__OOM:
        task_publish_simple(manager, task, "/tasks/oom");
        break;
    default:
        break; /* exec starts are published by the Start call */
    }
    berth__shim__v1__event__free_unpacked(event, NULL);
}

static void *watcher(void *argument)
{
    struct task_manager *manager = argument;
    struct epoll_event events[32];

    for (;;) {
        int count = epoll_wait(manager->epoll_fd, events, 32, -1), i;
        if (count < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (i = 0; i < count; i++) {
            if (events[i].data.ptr == NULL)
                return NULL; /* the wake fd: stop */
            handle_event(manager, events[i].data.ptr);
        }
    }
    return NULL;
}

int task_manager_create(struct supervisor *supervisor, struct task_manager **out, struct berr *err)
{
    struct task_manager *manager = calloc(1, sizeof(*manager));
    struct epoll_event wake = {EPOLLIN, {.ptr = NULL}};
    int rc;

    if (!manager)
        return berr_set(err, BERR_NOMEM, "out of memory");
    manager->supervisor = supervisor;
    pthread_mutex_init(&manager->lock, NULL);
    pthread_rwlock_init(&manager->cgroup_lock, NULL);
    manager->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    manager->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (manager->epoll_fd < 0 || manager->wake_fd < 0 ||
        epoll_ctl(manager->epoll_fd, EPOLL_CTL_ADD, manager->wake_fd, &wake) < 0) {
        rc = berr_errno(err, errno, "task manager");
        goto fail;
    }
    if ((rc = pthread_create(&manager->watcher, NULL, watcher, manager))) {
        rc = berr_errno(err, rc, "start the task watcher");
        goto fail;
    }
    manager->watching = true;
    *out = manager;
    return 0;
fail:
    if (manager->epoll_fd >= 0)
        close(manager->epoll_fd);
    if (manager->wake_fd >= 0)
        close(manager->wake_fd);
    free(manager);
    return rc;
}

void task_manager_destroy(struct task_manager *manager)
{
    struct task *task, *next;
    uint64_t one = 1;

    if (!manager)
        return;
    if (manager->watching) {
        if (write(manager->wake_fd, &one, sizeof(one)) < 0)
            log_warn("task manager: wake the watcher: %s", strerror(errno));
        pthread_join(manager->watcher, NULL);
    }
    /* The containers keep running; only our connections go. */
    for (task = manager->tasks; task; task = next) {
        next = task->next;
        if (epoll_ctl(manager->epoll_fd, EPOLL_CTL_DEL, shim_client_fd(task->events), NULL) == 0)
            task->references--;
        if (--task->references <= 0)
            free_task(task);
    }
    close(manager->epoll_fd);
    close(manager->wake_fd);
    pthread_mutex_destroy(&manager->lock);
    pthread_rwlock_destroy(&manager->cgroup_lock);
    free(manager);
}

/* ---- restart ---- */

static void replay_exits(struct task_manager *manager, struct task *task)
{
    Berth__Shim__V1__Request request = BERTH__SHIM__V1__REQUEST__INIT;
    Berth__Shim__V1__StateRequest state = BERTH__SHIM__V1__STATE_REQUEST__INIT;
    Berth__Shim__V1__Response *response = NULL;
    struct berr err;
    size_t i;

    request.kind_case = BERTH__SHIM__V1__REQUEST__KIND_STATE;
    request.state = &state;
    if (task_call(task, &request, &response, &err) != 0) {
        log_warn("task %s: state: %s", task->id, err.message);
        return;
    }
    /* Exits that happened while the supervisor was down: report them again
     * (subscribers treat /tasks/exit as idempotent). */
    for (i = 0; response->state && i < response->state->n_processes; i++) {
        const Berth__Shim__V1__ProcessState *process = response->state->processes[i];
        if (process->status == BERTH__SHIM__V1__STATUS__STATUS_STOPPED)
            publish_exit(manager, task, process->exec_id, process->pid, process->exit_status,
                         process->exited_at);
    }
    berth__shim__v1__response__free_unpacked(response, NULL);
}

static void restore_one(struct task_manager *manager, const char *namespace, const char *id)
{
    struct metadata_txn *txn = NULL;
    struct metadata_value value;
    char runtime[PATH_MAX] = "";
    struct task *task;
    struct berr err;

    if (metadata_begin(manager->supervisor->metadata, false, &txn, &err) == 0) {
        if (metadata_get(txn, METADATA_TASKS, namespace, id, &value, NULL) == 0 &&
            value.size < sizeof(runtime)) {
            memcpy(runtime, value.data, value.size);
            runtime[value.size] = '\0';
        }
        metadata_abort(txn);
    }
    task =
        new_task(manager, namespace, id, runtime[0] ? runtime : manager->supervisor->runtime_path);
    if (!task)
        return;
    if (connect_shim(manager, task, &err) != 0) {
        log_warn("task %s/%s: %s", namespace, id, err.message);
        shim_died(manager, task); /* not listed yet: unlist does nothing */
        task_release(manager, task);
        return;
    }
    add_to_list(manager, task);
    replay_exits(manager, task);
    task_release(manager, task);
}

/* The shim's pid, if that process is still the shim of this bundle (a pid
 * file can outlive its process, and pids are reused). */
static pid_t live_shim_pid(const struct task *task)
{
    char path[PATH_MAX], text[32], command_line[4096];
    ssize_t length;
    long pid;
    int fd;

    snprintf(path, sizeof(path), "%s/shim.pid", task->bundle);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    length = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (length <= 0)
        return 0;
    text[length] = '\0';
    pid = strtol(text, NULL, 10);
    if (pid <= 1)
        return 0;
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    length = read(fd, command_line, sizeof(command_line) - 1);
    close(fd);
    if (length <= 0)
        return 0;
    command_line[length] = '\0';
    for (ssize_t i = 0; i < length; i++)
        if (command_line[i] == '\0')
            command_line[i] = ' ';
    return strstr(command_line, task->bundle) ? (pid_t)pid : 0;
}

static void cleanup_one(struct task_manager *manager, const char *namespace, const char *id)
{
    struct task *task = new_task(manager, namespace, id, manager->supervisor->runtime_path);
    struct metadata_txn *txn = NULL;
    struct metadata_value value;
    struct berr err;
    pid_t shim;

    if (!task)
        return;
    if (metadata_begin(manager->supervisor->metadata, false, &txn, &err) == 0) {
        if (metadata_get(txn, METADATA_TASKS, namespace, id, &value, NULL) == 0 && value.size &&
            value.size < PATH_MAX) {
            char *runtime = strndup(value.data, value.size);
            if (runtime) {
                free(task->runtime);
                task->runtime = runtime;
            }
        }
        metadata_abort(txn);
    }
    log_info("cleanup: container %s/%s", namespace, id);
    runtime_force_delete(task);
    shim = live_shim_pid(task);
    if (shim > 0)
        kill(shim, SIGKILL);
    remove_bundle(task);
    record_task(manager, task, false, NULL);
    remove_namespace_cgroups(manager, namespace);
    task_release(manager, task);
}

/* Calls visit for every NAMESPACE/ID directory of --state (the runtime's
 * own --root and names that cannot be ours skipped). */
static int for_each_state_directory(struct task_manager *manager,
                                    void (*visit)(struct task_manager *manager,
                                                  const char *namespace, const char *id),
                                    struct berr *err)
{
    DIR *namespaces = opendir(manager->supervisor->state);
    struct dirent *namespace;

    if (!namespaces)
        return errno == ENOENT ? 0 : berr_errno(err, errno, "open %s", manager->supervisor->state);
    while ((namespace = readdir(namespaces))) {
        char path[PATH_MAX];
        DIR *ids;
        struct dirent *id;
        if (namespace->d_name[0] == '.' || strcmp(namespace->d_name, "runtime") == 0 ||
            !metadata_namespace_valid(namespace->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", manager->supervisor->state, namespace->d_name);
        ids = opendir(path);
        if (!ids)
            continue;
        while ((id = readdir(ids)))
            if (id->d_name[0] != '.' && container_id_check(id->d_name, NULL) == 0)
                visit(manager, namespace->d_name, id->d_name);
        closedir(ids);
    }
    closedir(namespaces);
    return 0;
}

int task_manager_cleanup(struct task_manager *manager, struct berr *err)
{
    return for_each_state_directory(manager, cleanup_one, err);
}

/* A directory with a shim.pid had a shim: reconnect to it or clean up. */
static void restore_if_started(struct task_manager *manager, const char *namespace, const char *id)
{
    char pid_file[PATH_MAX];

    snprintf(pid_file, sizeof(pid_file), "%s/%s/%s/shim.pid", manager->supervisor->state, namespace,
             id);
    if (access(pid_file, F_OK) == 0)
        restore_one(manager, namespace, id);
}

int task_manager_restore(struct task_manager *manager, struct berr *err)
{
    return for_each_state_directory(manager, restore_if_started, err);
}
