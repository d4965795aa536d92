/*
 * api_archive: /containers/{id}/archive, what `docker cp` uses: HEAD (the
 * path's stat in X-Docker-Container-Path-Stat), GET (a tar of it,
 * streamed) and PUT (a tar extracted into a directory), for running and
 * stopped containers. archive_path.h does the filesystem side; this file
 * finds the container's root filesystem and applies dockerd's rules
 * around it.
 *
 * Which root:
 *  - a running (or paused) container: /proc/PID/root of its init, the
 *    container's own view with every mount it has (binds, tmpfs, /proc);
 *  - a stopped one: its snapshot, mounted by a short-lived thread in a
 *    mount namespace of its own (so nobody else ever sees the mount) and
 *    taken out of it as a detached mount tree (open_tree), which lives as
 *    long as our descriptor; its bind mounts (Binds, Mounts of type bind)
 *    on top, as dockerd mounts a stopped container's volumes for cp. GET
 *    and HEAD mount it read-only (every layer a lower layer, as export
 *    does), so a start meanwhile is harmless; PUT mounts the writable
 *    layer and holds the container's `operation` lock until it is done,
 *    so the container cannot start (and mount the same upper directory)
 *    during the extraction.
 *
 * PUT into the root filesystem of a container with ReadonlyRootfs is 400
 * "container rootfs is marked read-only" and into a read-only bind 400
 * "mounted volume is marked read-only", checked on where the destination
 * resolves, as dockerd does (a tmpfs of HostConfig.Tmpfs is not a volume
 * for dockerd either; --mount type=tmpfs is).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "archive_path.h"
#include "container_store.h"
#include "containers.h"
#include "engine.h"
#include "log.h"
#include "rootfs.h"
#include "safe_path.h"
#include "supervisor_api.h"

#define MOUNT_OPTIONS_MAX 4096
#define USER_FILE_MAX     (1 << 20)

/* ---- the root filesystem ---- */

struct container_root {
    int fd;               /* the root directory: O_PATH */
    bool running;         /* /proc/PID/root; else a private mount of the snapshot */
    bool holds_operation; /* PUT into a stopped container: its `operation` lock */
};

struct bind {
    char *source, *destination;
    bool read_only;
};

struct mount_job {
    /* in */
    char *const *layers;                                 /* read-only view: every layer */
    const Berth__Supervisor__V1__MountsResponse *mounts; /* writable: the snapshot's own */
    const struct bind *binds;
    size_t bind_count;
    const char *target; /* an empty directory */
    /* out */
    int fd;
    int rc;
    struct berr err;
};

static int overlay_options(char *out, size_t size, const char *prefix, char *const *layers)
{
    size_t used = (size_t)snprintf(out, size, "%s", prefix);

    for (size_t i = 0; layers[i] && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ":" : "", layers[i]);
    return used < size ? 0 : -1;
}

static int mount_snapshot(struct mount_job *job)
{
    char options[MOUNT_OPTIONS_MAX];

    if (job->layers) {
        if (!job->layers[0])
            return berr_set(&job->err, BERR_INVALID, "the snapshot has no layers");
        if (!job->layers[1])
            return mount(job->layers[0], job->target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                           mount(NULL, job->target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) <
                               0
                       ? berr_errno(&job->err, errno, "bind %s", job->layers[0])
                       : 0;
        if (overlay_options(options, sizeof(options), "lowerdir=", job->layers) < 0)
            return berr_set(&job->err, BERR_UNSUPPORTED,
                            "the container's image has too many layers for docker cp");
        return mount("overlay", job->target, "overlay", MS_RDONLY, options) < 0
                   ? berr_errno(&job->err, errno, "mount the container's layers")
                   : 0;
    }
    for (size_t i = 0; i < job->mounts->n_mounts; i++) {
        const Berth__Supervisor__V1__Mount *mount_spec = job->mounts->mounts[i];
        unsigned long flags = 0;
        size_t used = 0;
        options[0] = '\0';
        for (size_t k = 0; k < mount_spec->n_options; k++) {
            const char *option = mount_spec->options[k];
            if (!strcmp(option, "ro"))
                flags |= MS_RDONLY;
            else if (!strcmp(option, "rbind") || !strcmp(option, "bind"))
                flags |= MS_BIND | MS_REC;
            else if (strcmp(option, "rw") != 0)
                used += (size_t)snprintf(options + used, sizeof(options) - used, "%s%s",
                                         used ? "," : "", option);
            if (used >= sizeof(options))
                return berr_set(&job->err, BERR_UNSUPPORTED,
                                "the container's image has too many layers for docker cp");
        }
        if (flags & MS_BIND) {
            if (mount(mount_spec->source, job->target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                ((flags & MS_RDONLY) &&
                 mount(NULL, job->target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0))
                return berr_errno(&job->err, errno, "bind %s", mount_spec->source);
        } else if (mount(mount_spec->source, job->target, mount_spec->type, flags, options) < 0) {
            return berr_errno(&job->err, errno, "mount the container's %s", mount_spec->type);
        }
    }
    return 0;
}

/* The container's bind mounts where they go; a destination that does not
 * exist in the image is left out (the container would have made it). */
static void mount_binds(struct mount_job *job)
{
    for (size_t i = 0; i < job->bind_count; i++) {
        const struct bind *bind = &job->binds[i];
        char *where = NULL;
        struct berr err;
        if (safe_path_join(job->target, bind->destination, SAFE_PATH_IN_ROOT, &where, &err))
            continue;
        if (access(where, F_OK) != 0) {
            free(where);
            continue;
        }
        if (mount(bind->source, where, NULL, MS_BIND | MS_REC, NULL) < 0) {
            log_debug("archive: bind %s on %s: %s", bind->source, bind->destination,
                      strerror(errno));
        } else if (bind->read_only &&
                   mount(NULL, where, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
            /* Never a writable view of a read-only volume: left out instead. */
            log_debug("archive: bind %s read-only on %s: %s", bind->source, bind->destination,
                      strerror(errno));
            umount2(where, MNT_DETACH);
        }
        free(where);
    }
}

static void *mount_privately(void *argument)
{
    struct mount_job *job = argument;

    /* This thread's own mount namespace (and fs_struct), private all the
     * way down, so nothing it mounts propagates anywhere. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        job->rc = berr_errno(&job->err, errno, "a private mount namespace");
        return NULL;
    }
    if ((job->rc = mount_snapshot(job)))
        return NULL;
    mount_binds(job);
    /* A detached copy of the tree: it outlives this namespace, which goes
     * with the thread. */
    job->fd = (int)syscall(SYS_open_tree, AT_FDCWD, job->target,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (job->fd < 0)
        job->rc = berr_errno(&job->err, errno, "open_tree %s", job->target);
    return NULL;
}

/* Binds and Mounts of type bind from HostConfig. */
static size_t host_binds(yajl_val host, struct bind **out)
{
    yajl_val binds = json_get(host, "Binds"), mounts = json_get(host, "Mounts");
    size_t capacity = (YAJL_IS_ARRAY(binds) ? binds->u.array.len : 0) +
                      (YAJL_IS_ARRAY(mounts) ? mounts->u.array.len : 0),
           count = 0;

    *out = calloc(capacity ? capacity : 1, sizeof(**out));
    if (!*out)
        return 0;
    for (size_t i = 0; YAJL_IS_ARRAY(binds) && i < binds->u.array.len; i++) {
        const char *text = YAJL_GET_STRING(binds->u.array.values[i]);
        char *copy, *destination, *mode;
        if (!text || text[0] != '/' || !(copy = strdup(text)))
            continue;
        destination = strchr(copy, ':');
        if (!destination) {
            free(copy);
            continue;
        }
        *destination++ = '\0';
        mode = strchr(destination, ':');
        if (mode)
            *mode++ = '\0';
        (*out)[count].source = copy;
        (*out)[count].destination = strdup(destination);
        (*out)[count].read_only = mode && (strstr(mode, "ro") == mode || strstr(mode, ",ro"));
        count++;
    }
    for (size_t i = 0; YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++) {
        yajl_val item = mounts->u.array.values[i];
        const char *type = NULL, *source = NULL, *target = NULL;
        bool read_only = false;
        json_get_string(item, "Type", &type, NULL);
        json_get_string(item, "Source", &source, NULL);
        json_get_string(item, "Target", &target, NULL);
        json_get_bool(item, "ReadOnly", &read_only, NULL);
        if (!type || strcmp(type, "bind") != 0 || !source || !target)
            continue;
        (*out)[count].source = strdup(source);
        (*out)[count].destination = strdup(target);
        (*out)[count].read_only = read_only;
        count++;
    }
    return count;
}

static void binds_free(struct bind *binds, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(binds[i].source);
        free(binds[i].destination);
    }
    free(binds);
}

static int snapshot_root(struct engine *engine, struct container *container, bool writable, int *fd,
                         struct berr *err)
{
    struct container_settings *settings = container_settings_get(container);
    Berth__Supervisor__V1__MountsResponse *mounts = NULL;
    struct mount_job job = {.fd = -1};
    char target[4096], **layers = NULL;
    struct bind *binds = NULL;
    pthread_t thread;
    int rc;

    snprintf(target, sizeof(target), "%s/archive", engine->state);
    if (mkdir(target, 0700) < 0 && errno != EEXIST) {
        rc = berr_errno(err, errno, "mkdir %s", target);
        goto out;
    }
    if (writable)
        rc = sv_snapshot_mounts(engine->supervisor, container->snapshot_key, &mounts, err);
    else
        rc = containers_layers(engine, container, &layers, err);
    if (rc)
        goto out;
    job.layers = layers;
    job.mounts = mounts;
    job.bind_count = host_binds(settings->host_config, &binds);
    job.binds = binds;
    job.target = target;
    if ((errno = pthread_create(&thread, NULL, mount_privately, &job)) != 0) {
        rc = berr_errno(err, errno, "start a thread");
        goto out;
    }
    pthread_join(thread, NULL);
    if ((rc = job.rc)) {
        *err = job.err;
        goto out;
    }
    *fd = job.fd;
out:
    if (mounts)
        berth__supervisor__v1__mounts_response__free_unpacked(mounts, NULL);
    json_free_string_array(layers);
    binds_free(binds, job.bind_count);
    container_settings_put(settings);
    return rc;
}

/* The running container's pid, or 0. */
static uint32_t running_pid(struct container *container)
{
    uint32_t pid;

    pthread_mutex_lock(&container->lock);
    pid = container->state.running && !container->state.restarting && !container->exiting
              ? container->state.pid
              : 0;
    pthread_mutex_unlock(&container->lock);
    return pid;
}

static int process_root(struct container *container, uint32_t pid, int *fd)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%u/root", pid);
    *fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    /* Still that container's init (not a recycled pid)? */
    if (*fd >= 0 && running_pid(container) != pid) {
        close(*fd);
        *fd = -1;
    }
    return *fd >= 0 ? 0 : -1;
}

static int root_open(struct engine *engine, struct container *container, bool writable,
                     struct container_root *root, struct berr *err)
{
    uint32_t pid = running_pid(container);
    int rc;

    memset(root, 0, sizeof(*root));
    root->fd = -1;
    if (pid && process_root(container, pid, &root->fd) == 0) {
        root->running = true;
        return 0;
    }
    if (writable) {
        pthread_mutex_lock(&container->operation);
        root->holds_operation = true;
        /* It may have started before we had the lock. */
        if ((pid = running_pid(container)) && process_root(container, pid, &root->fd) == 0) {
            pthread_mutex_unlock(&container->operation);
            root->holds_operation = false;
            root->running = true;
            return 0;
        }
    }
    pthread_mutex_lock(&container->lock);
    rc = container->removed || container->state.removing
             ? berr_set(err, BERR_CONFLICT, "container %s is being removed", container->id)
             : 0;
    pthread_mutex_unlock(&container->lock);
    if (rc == 0)
        rc = snapshot_root(engine, container, writable, &root->fd, err);
    if (rc && root->holds_operation) {
        pthread_mutex_unlock(&container->operation);
        root->holds_operation = false;
    }
    return rc;
}

static void root_close(struct container *container, struct container_root *root)
{
    if (root->fd >= 0)
        close(root->fd);
    root->fd = -1;
    if (root->holds_operation)
        pthread_mutex_unlock(&container->operation);
    root->holds_operation = false;
}

/* ---- requests ---- */

static struct container *route_container(struct http_request *request, struct engine *engine)
{
    struct container *container;
    struct berr err;

    if (container_store_get(engine->containers, http_request_param(request, "id"), &container,
                            &err)) {
        http_respond_berr(request, &err);
        return NULL;
    }
    return container;
}

/* dockerd's answer for a path that is not there. */
static void respond_path_error(struct http_request *request, const char *path,
                               const struct berr *err)
{
    if (err->code == BERR_NOT_FOUND)
        http_respond_error(request, 404, "Could not find the file %s in container %s", path,
                           http_request_param(request, "id"));
    else
        http_respond_berr(request, err);
}

static const char *path_argument(struct http_request *request)
{
    const char *path = http_request_query(request, "path");

    if (!path || !*path) {
        http_respond_error(request, 400, "bad parameter: path cannot be empty");
        return NULL;
    }
    return path;
}

/* Stats the path and adds the header; false when it answered an error. */
static bool add_stat_header(struct http_request *request, int root_fd, const char *path)
{
    struct archive_path_stat stat;
    char *header;
    struct berr err;

    if (archive_path_stat(root_fd, path, &stat, &err)) {
        respond_path_error(request, path, &err);
        return false;
    }
    header = archive_path_stat_header(&stat);
    archive_path_stat_free(&stat);
    if (!header ||
        http_request_add_response_header(request, "X-Docker-Container-Path-Stat", header, &err)) {
        free(header);
        http_respond_error(request, 500, "out of memory");
        return false;
    }
    free(header);
    return true;
}

struct tar_stream {
    struct engine *engine;
    struct container *container;
    struct container_root root;
    char *path;
};

static void free_tar_stream(void *context)
{
    struct tar_stream *stream = context;

    root_close(stream->container, &stream->root);
    container_put(stream->container);
    free(stream->path);
    free(stream);
}

static int stream_write(void *context, const void *data, size_t length)
{
    struct berr err;

    return http_stream_write(context, data, length, &err);
}

static void write_tar(struct http_stream *stream, void *context)
{
    struct tar_stream *tar = context;
    struct berr err;

    if (archive_path_tar(tar->root.fd, tar->path, stream_write, stream, &err)) {
        if (err.code != BERR_CANCELLED)
            log_warn("archive %.12s:%s: %s", tar->container->id, tar->path, err.message);
        http_stream_abort(stream);
    }
}

/* GET (and HEAD) /containers/{id}/archive?path= */
static void get_archive(struct http_request *request, void *data)
{
    struct engine *engine = data;
    const char *path = path_argument(request);
    struct container *container;
    struct tar_stream *stream;
    struct berr err;

    if (!path || !(container = route_container(request, engine)))
        return;
    stream = calloc(1, sizeof(*stream));
    if (!stream || !(stream->path = strdup(path))) {
        free(stream);
        container_put(container);
        http_respond_error(request, 500, "out of memory");
        return;
    }
    stream->engine = engine;
    stream->container = container;
    stream->root.fd = -1;
    if (root_open(engine, container, false, &stream->root, &err)) {
        http_respond_berr(request, &err);
        free_tar_stream(stream);
        return;
    }
    if (!add_stat_header(request, stream->root.fd, path)) {
        free_tar_stream(stream);
        return;
    }
    if (strcmp(http_request_method(request), "HEAD") == 0) {
        http_respond_empty(request, 200);
        free_tar_stream(stream);
        return;
    }
    container_event(engine->events, container, "archive-path", NULL);
    http_respond_stream(request, 200, "application/x-tar", write_tar, stream, free_tar_stream);
}

/* The deepest of the container's mounts holding path, if any. */
static const struct bind *mount_holding(const struct bind *mounts, size_t count, const char *path)
{
    const struct bind *best = NULL;
    size_t best_length = 0;

    for (size_t i = 0; i < count; i++) {
        const char *destination = mounts[i].destination;
        size_t length = strlen(destination);
        while (length > 1 && destination[length - 1] == '/')
            length--;
        if (strncmp(path, destination, length) == 0 &&
            (path[length] == '\0' || path[length] == '/' || length == 1) &&
            (!best || length > best_length)) {
            best = &mounts[i];
            best_length = length;
        }
    }
    return best;
}

/* dockerd's checkIfPathIsInAVolume and its read-only rootfs rule. Every
 * Mounts entry counts as a volume (tmpfs too), HostConfig.Tmpfs does not. */
static int check_writable(const struct container_settings *settings, const char *container_path,
                          struct berr *err)
{
    yajl_val host = settings->host_config, mounts = json_get(host, "Mounts");
    struct bind *binds = NULL, *all;
    size_t count = host_binds(host, &binds), total = count;
    const struct bind *holder;
    bool read_only_rootfs = false;
    int rc = 0;

    /* Mounts of other types (volume, tmpfs) are volumes too. */
    all = realloc(binds,
                  (count + (YAJL_IS_ARRAY(mounts) ? mounts->u.array.len : 0) + 1) * sizeof(*all));
    if (!all) {
        binds_free(binds, count);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++) {
        yajl_val item = mounts->u.array.values[i];
        const char *type = NULL, *target = NULL;
        bool read_only = false;
        json_get_string(item, "Type", &type, NULL);
        json_get_string(item, "Target", &target, NULL);
        json_get_bool(item, "ReadOnly", &read_only, NULL);
        if (!type || !target || strcmp(type, "bind") == 0)
            continue;
        all[total].source = NULL;
        all[total].destination = strdup(target);
        all[total].read_only = read_only;
        total++;
    }
    holder = mount_holding(all, total, container_path);
    json_get_bool(host, "ReadonlyRootfs", &read_only_rootfs, NULL);
    if (holder && holder->read_only)
        rc = berr_set(err, BERR_INVALID, "mounted volume is marked read-only");
    else if (!holder && read_only_rootfs)
        rc = berr_set(err, BERR_INVALID, "container rootfs is marked read-only");
    binds_free(all, total);
    return rc;
}

/* copyUIDGID: the owner is Config.User, looked up in the container's own
 * /etc/passwd and /etc/group (dockerd looks on the host, a known bug). */
static bool lookup_id(int root_fd, const char *file, const char *key, unsigned *id,
                      unsigned *primary_gid)
{
    char *text = NULL, *line, *save = NULL;
    int fd, read_failed;
    bool found = false;
    struct berr err;

    if (key[0] && strspn(key, "0123456789") == strlen(key)) {
        *id = (unsigned)strtoul(key, NULL, 10);
        if (!primary_gid)
            return true;
    }
    if (safe_path_open(root_fd, file, O_RDONLY | O_NOFOLLOW, 0, SAFE_PATH_IN_ROOT, &fd, &err))
        return key[0] && strspn(key, "0123456789") == strlen(key);
    read_failed = rootfs_read_fd(fd, USER_FILE_MAX, &text, &err);
    close(fd);
    if (read_failed)
        return false;
    for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
        char *fields[4] = {NULL};
        char *cursor = line;
        for (int i = 0; i < 4 && cursor; i++) {
            fields[i] = cursor;
            cursor = strchr(cursor, ':');
            if (cursor)
                *cursor++ = '\0';
        }
        if (!fields[2] || !fields[3] || line[0] == '#')
            continue;
        if (strcmp(fields[0], key) == 0 || strcmp(fields[2], key) == 0) {
            *id = (unsigned)strtoul(fields[2], NULL, 10);
            if (primary_gid)
                *primary_gid = (unsigned)strtoul(fields[3], NULL, 10);
            found = true;
        }
    }
    free(text);
    return found || (key[0] && strspn(key, "0123456789") == strlen(key));
}

static int copy_owner(const struct container_settings *settings, int root_fd,
                      struct archive_path_extract_options *options, struct berr *err)
{
    const char *user = "";
    char name[256], *group;
    unsigned uid = 0, gid = 0;

    json_get_string(settings->config, "User", &user, NULL);
    if (!user[0])
        return 0; /* dockerd: no user, the archive's own ids */
    snprintf(name, sizeof(name), "%s", user);
    group = strchr(name, ':');
    if (group)
        *group++ = '\0';
    if (!lookup_id(root_fd, "/etc/passwd", name, &uid, &gid))
        return berr_set(err, BERR_INVALID,
                        "unable to find user %s: no matching entries in passwd file", name);
    if (group && *group && !lookup_id(root_fd, "/etc/group", group, &gid, NULL))
        return berr_set(err, BERR_INVALID,
                        "unable to find group %s: no matching entries in group file", group);
    options->chown = true;
    options->uid = uid;
    options->gid = gid;
    return 0;
}

static ssize_t read_body(void *context, void *buffer, size_t size, struct berr *err)
{
    return http_request_read_body(context, buffer, size, err);
}

/* Reads what is left of the body, so that the client gets our answer. */
static void drain_body(struct http_request *request)
{
    char buffer[16384];
    struct berr err;

    while (http_request_read_body(request, buffer, sizeof(buffer), &err) > 0)
        ;
}

/* PUT /containers/{id}/archive?path=&noOverwriteDirNonDir=&copyUIDGID= */
static void put_archive(struct http_request *request, void *data)
{
    struct engine *engine = data;
    const char *path = path_argument(request);
    struct archive_path_extract_options options = {0};
    struct container_settings *settings = NULL;
    struct container_root root = {.fd = -1};
    struct container *container = NULL;
    char *container_path = NULL;
    int dest_fd = -1, rc;
    struct berr err;

    if (!path || !(container = route_container(request, engine))) {
        drain_body(request);
        return;
    }
    settings = container_settings_get(container);
    options.no_overwrite_dir_non_dir =
        http_request_query_bool(request, "noOverwriteDirNonDir", false);
    if ((rc = root_open(engine, container, true, &root, &err)) ||
        (rc = archive_path_destination(root.fd, path, &dest_fd, &container_path, &err)) ||
        (rc = check_writable(settings, container_path, &err)) ||
        (http_request_query_bool(request, "copyUIDGID", false) &&
         (rc = copy_owner(settings, root.fd, &options, &err))) ||
        (rc = archive_path_extract(dest_fd, read_body, request, &options, &err))) {
        drain_body(request);
        respond_path_error(request, path, &err);
    } else {
        container_event(engine->events, container, "extract-to-dir", NULL);
        http_respond_empty(request, 200);
    }
    if (dest_fd >= 0)
        close(dest_fd);
    free(container_path);
    root_close(container, &root);
    container_settings_put(settings);
    container_put(container);
}

int api_archive_register(struct engine *engine, struct berr *err)
{
    int rc;

    if ((rc = http_server_route(engine->http, "GET", "/containers/{id}/archive", get_archive,
                                engine, 0, err)) ||
        (rc = http_server_route(engine->http, "PUT", "/containers/{id}/archive", put_archive,
                                engine, HTTP_ROUTE_STREAM_BODY, err)))
        return rc;
    return 0;
}
