/*
 * state: container directories and state.json. See state.h.
 */
#include "state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

#define STATE_MAX_SIZE (1024 * 1024)

const char *container_status_name(enum container_status status)
{
    static const char *const names[] = {
        [CONTAINER_CREATING] = "creating", [CONTAINER_CREATED] = "created",
        [CONTAINER_RUNNING] = "running",   [CONTAINER_PAUSED] = "paused",
        [CONTAINER_STOPPED] = "stopped",
    };
    return names[status];
}

int state_check_id(const char *id, struct berr *err)
{
    const char *c;

    if (!id || !*id)
        return berr_set(err, BERR_INVALID, "container id must not be empty");
    if (strlen(id) > STATE_ID_MAX)
        return berr_set(err, BERR_INVALID, "container id is longer than %d bytes", STATE_ID_MAX);
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return berr_set(err, BERR_INVALID, "invalid container id %s", id);
    for (c = id; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("_+-.", *c))
            return berr_set(err, BERR_INVALID,
                            "invalid container id %s: only letters, digits and _+-. are allowed",
                            id);
    return 0;
}

static int make_root(const char *root, struct berr *err)
{
    char partial[PATH_MAX];
    size_t i, length = strlen(root);

    if (length >= sizeof(partial))
        return berr_set(err, BERR_INVALID, "--root %s: path too long", root);
    memcpy(partial, root, length + 1);
    for (i = 1; i <= length; i++) {
        if (partial[i] != '/' && partial[i] != '\0')
            continue;
        partial[i] = '\0';
        if (mkdir(partial, 0711) < 0 && errno != EEXIST)
            return berr_errno(err, errno, "create state root %s", partial);
        partial[i] = root[i];
    }
    return 0;
}

int state_create_directory(const char *root, const char *id, int *directory_fd, struct berr *err)
{
    char path[PATH_MAX];
    int rc, fd;

    if ((rc = state_check_id(id, err)))
        return rc;
    if (snprintf(path, sizeof(path), "%s/%s", root, id) >= (int)sizeof(path))
        return berr_set(err, BERR_INVALID, "state path too long");
    if (mkdir(path, 0711) < 0) {
        if (errno == ENOENT) {
            if ((rc = make_root(root, err)))
                return rc;
            if (mkdir(path, 0711) == 0)
                goto opened;
        }
        if (errno == EEXIST)
            return berr_set(err, BERR_EXISTS, "container with id %s already exists", id);
        return berr_errno(err, errno, "create %s", path);
    }
opened:
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = berr_errno(err, errno, "open %s", path);
        rmdir(path);
        return rc;
    }
    *directory_fd = fd;
    return 0;
}

int state_save(int directory_fd, const struct container_state *state, struct berr *err)
{
    struct json_writer writer;
    const char *text;
    size_t length;
    int rc = json_writer_init(&writer, false, err);

    if (rc)
        return rc;
    json_object_begin(&writer);
    json_kv_string(&writer, "id", state->id);
    json_kv_int(&writer, "pid", state->pid);
    json_kv_uint(&writer, "pidStartTime", state->pid_start_time);
    json_kv_string(&writer, "bundle", state->bundle);
    json_kv_string(&writer, "rootfs", state->rootfs);
    json_kv_string(&writer, "created", state->created);
    json_kv_uint(&writer, "owner", state->owner);
    json_kv_bool(&writer, "ownPidNamespace", state->own_pid_namespace);
    json_kv_string(&writer, "ociVersion", state->oci_version);
    if (state->annotation_count) {
        size_t i;
        json_key(&writer, "annotations");
        json_object_begin(&writer);
        for (i = 0; i < state->annotation_count; i++)
            json_kv_string(&writer, state->annotations[i].key, state->annotations[i].value);
        json_object_end(&writer);
    }
    json_key(&writer, "cgroup");
    cgroup_to_json(&state->cgroup, &writer);
    json_object_end(&writer);
    rc = json_writer_result(&writer, &text, &length, err);
    if (rc == 0)
        rc = atomic_write_file_at_no_sync(directory_fd, STATE_FILE, text, length, 0600, err);
    json_writer_free(&writer);
    return rc;
}

int state_load(struct arena *arena, const char *root, const char *id, struct container_state *out,
               struct berr *err)
{
    char path[PATH_MAX];
    yajl_val tree = NULL, cgroup = NULL, annotations = NULL;
    const char *text;
    int64_t pid = 0;
    uint64_t owner = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = state_check_id(id, err)))
        return rc;
    snprintf(path, sizeof(path), "%s/%s/%s", root, id, STATE_FILE);
    rc = json_parse_file(path, STATE_MAX_SIZE, &tree, err);
    if (rc == BERR_NOT_FOUND)
        return berr_set(err, BERR_NOT_FOUND, "container %s does not exist", id);
    if (rc)
        return rc;
    out->id = arena_strdup(arena, id);
    out->root = arena_strdup(arena, root);
    out->directory = arena_printf(arena, "%s/%s", root, id);
    if ((rc = json_get_int64(tree, "pid", &pid, err)) ||
        (rc = json_get_uint64(tree, "pidStartTime", &out->pid_start_time, err)) ||
        (rc = json_get_uint64(tree, "owner", &owner, err)) ||
        (rc = json_get_bool(tree, "ownPidNamespace", &out->own_pid_namespace, err)) ||
        (rc = json_get_object(tree, "cgroup", &cgroup, err)))
        goto fail;
    out->pid = (pid_t)pid;
    out->owner = (uid_t)owner;
    text = NULL;
    if ((rc = json_get_string(tree, "bundle", &text, err)))
        goto fail;
    out->bundle = arena_strdup(arena, text ? text : "");
    text = NULL;
    if ((rc = json_get_string(tree, "rootfs", &text, err)))
        goto fail;
    out->rootfs = arena_strdup(arena, text ? text : "");
    text = NULL;
    if ((rc = json_get_string(tree, "created", &text, err)))
        goto fail;
    out->created = arena_strdup(arena, text ? text : "");
    text = NULL;
    if ((rc = json_get_string(tree, "ociVersion", &text, err)))
        goto fail;
    out->oci_version = arena_strdup(arena, text ? text : "1.2.0");
    if (cgroup && (rc = cgroup_from_json(arena, cgroup, &out->cgroup, err)))
        goto fail;
    if ((rc = json_get_object(tree, "annotations", &annotations, err)))
        goto fail;
    if (annotations && annotations->u.object.len) {
        size_t i, count = annotations->u.object.len;
        out->annotations = arena_alloc(arena, count * sizeof(struct spec_annotation));
        for (i = 0; out->annotations && i < count; i++) {
            const char *value = YAJL_GET_STRING(annotations->u.object.values[i]);
            out->annotations[i].key = arena_strdup(arena, annotations->u.object.keys[i]);
            out->annotations[i].value = arena_strdup(arena, value ? value : "");
        }
        out->annotation_count = out->annotations ? count : 0;
    }
    yajl_tree_free(tree);
    return 0;
fail:
    berr_prefix(err, "%s", path);
    yajl_tree_free(tree);
    return rc;
}

int state_load_spec(struct arena *arena, struct container_state *state, struct berr *err)
{
    char path[PATH_MAX];

    if (state->spec)
        return 0;
    snprintf(path, sizeof(path), "%s/%s", state->directory, STATE_CONFIG);
    return spec_load_config(arena, path, state->bundle, &state->spec, err);
}

uint64_t state_process_start_time(pid_t pid)
{
    char path[64], buffer[1024], *cursor;
    unsigned long long start_time = 0;
    ssize_t got;
    int fd, field;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    got = read(fd, buffer, sizeof(buffer) - 1);
    close(fd);
    if (got <= 0)
        return 0;
    buffer[got] = '\0';
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    cursor = strrchr(buffer, ')');
    if (!cursor || cursor[1] != ' ')
        return 0;
    cursor += 2;
    if (*cursor == 'Z' || *cursor == 'X')
        return 0; /* exited, not yet reaped */
    for (field = 3; field < 22 && cursor; field++) {
        cursor = strchr(cursor, ' ');
        if (cursor)
            cursor++;
    }
    if (!cursor || sscanf(cursor, "%llu", &start_time) != 1)
        return 0;
    return start_time;
}

bool state_init_alive(const struct container_state *state)
{
    uint64_t start_time = state_process_start_time(state->pid);

    return start_time != 0 && start_time == state->pid_start_time;
}

enum container_status state_status(const struct container_state *state)
{
    char fifo[PATH_MAX];
    bool frozen = false;

    if (state->pid <= 0)
        return CONTAINER_CREATING;
    if (!state_init_alive(state))
        return CONTAINER_STOPPED;
    if (state->cgroup.count && cgroup_find(&state->cgroup, "freezer") &&
        cgroup_is_frozen(&state->cgroup, &frozen, NULL) == 0 && frozen)
        return CONTAINER_PAUSED;
    snprintf(fifo, sizeof(fifo), "%s/%s", state->directory, STATE_FIFO);
    if (access(fifo, F_OK) == 0)
        return CONTAINER_CREATED;
    return CONTAINER_RUNNING;
}

int state_remove(const char *root, const char *id, struct berr *err)
{
    static const char *const files[] = {STATE_FILE, STATE_CONFIG, STATE_FIFO};
    char path[PATH_MAX];
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s/%s", root, id, files[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            return berr_errno(err, errno, "remove %s", path);
    }
    snprintf(path, sizeof(path), "%s/%s", root, id);
    if (rmdir(path) < 0 && errno != ENOENT)
        return berr_errno(err, errno, "remove %s", path);
    return 0;
}

void state_write_oci_json(const struct container_state *state, enum container_status status,
                          struct json_writer *writer)
{
    size_t i;

    json_object_begin(writer);
    json_kv_string(writer, "ociVersion", state->oci_version ? state->oci_version : "1.2.0");
    json_kv_string(writer, "id", state->id);
    json_kv_string(writer, "status", container_status_name(status));
    json_kv_int(writer, "pid", status == CONTAINER_STOPPED ? 0 : state->pid);
    json_kv_string(writer, "bundle", state->bundle);
    json_kv_string(writer, "rootfs", state->rootfs);
    json_kv_string(writer, "created", state->created);
    json_kv_string(writer, "owner", "");
    if (state->annotation_count) {
        json_key(writer, "annotations");
        json_object_begin(writer);
        for (i = 0; i < state->annotation_count; i++)
            json_kv_string(writer, state->annotations[i].key, state->annotations[i].value);
        json_object_end(writer);
    }
    json_object_end(writer);
}

static int compare_names(const void *left, const void *right)
{
    return strcmp(*(char *const *)left, *(char *const *)right);
}

int state_list_ids(const char *root, char ***ids, size_t *count, struct berr *err)
{
    DIR *listing = opendir(root);
    struct dirent *entry;
    size_t capacity = 0;

    *ids = NULL;
    *count = 0;
    if (!listing)
        return errno == ENOENT ? 0 : berr_errno(err, errno, "open %s", root);
    while ((entry = readdir(listing))) {
        char path[PATH_MAX];
        if (entry->d_name[0] == '.' || state_check_id(entry->d_name, NULL) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s/%s", root, entry->d_name, STATE_FILE);
        if (access(path, F_OK) != 0)
            continue;
        if (*count + 1 >= capacity) {
            size_t grown = capacity ? capacity * 2 : 16;
            char **bigger = realloc(*ids, grown * sizeof(char *));
            if (!bigger) {
                closedir(listing);
                return berr_set(err, BERR_NOMEM, "list containers: out of memory");
            }
            *ids = bigger;
            capacity = grown;
        }
        (*ids)[(*count)++] = strdup(entry->d_name);
        (*ids)[*count] = NULL;
    }
    closedir(listing);
    if (*count)
        qsort(*ids, *count, sizeof(char *), compare_names);
    return 0;
}
