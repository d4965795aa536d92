/*
 * snapshots: see snapshots.h for the model. This file keeps the
 * operations: directories, mounts, prepare/view/commit/remove, listing,
 * usage; snapshot_record.c keeps how each is stored in LMDB.
 */
#include "snapshots.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/supervisor/v1/snapshots.pb-c.h"
#include "dirtree.h"
#include "filter.h"
#include "snapshot_record.h"
#include "log.h"

#define KEY_MAX_LENGTH   400  /* with "NAMESPACE/", under LMDB's 511-byte keys */
#define LABEL_MAX_LENGTH 4096 /* key + value, containerd's limit */

struct held_name {
    char *name;
    struct held_name *next;
};

struct snapshotter {
    struct metadata *metadata;
    char *directory; /* ROOT/snapshots */
    int directory_fd;
    bool overlay_index; /* the overlay module knows index=off */
    pthread_mutex_t lock_mutex;
    pthread_cond_t lock_released;
    struct held_name *held;
};

/* ---- info and labels ---- */

/* berr_prefix, keeping rc when the caller passed no err. */
static int with_context(int rc, struct berr *err, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int with_context(int rc, struct berr *err, const char *format, ...)
{
    char context[256];
    va_list args;

    if (!err)
        return rc;
    va_start(args, format);
    vsnprintf(context, sizeof(context), format, args);
    va_end(args);
    berr_prefix(err, "%s", context);
    return rc;
}

static void free_labels(struct snapshot_label *labels, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        free(labels[i].key);
        free(labels[i].value);
    }
    free(labels);
}

void snapshot_info_free(struct snapshot_info *info)
{
    if (!info)
        return;
    free(info->name);
    free(info->parent);
    free_labels(info->labels, info->label_count);
    memset(info, 0, sizeof(*info));
}

void snapshot_info_array_free(struct snapshot_info *infos, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        snapshot_info_free(&infos[i]);
    free(infos);
}

static int copy_labels(const struct snapshot_label *labels, size_t count,
                       struct snapshot_label **out, struct berr *err)
{
    struct snapshot_label *copy = calloc(count ? count : 1, sizeof(*copy));
    size_t i;

    if (!copy)
        return berr_set(err, BERR_NOMEM, "labels: out of memory");
    for (i = 0; i < count; i++) {
        copy[i].key = strdup(labels[i].key);
        copy[i].value = strdup(labels[i].value ? labels[i].value : "");
        if (!copy[i].key || !copy[i].value) {
            free_labels(copy, i + 1);
            return berr_set(err, BERR_NOMEM, "labels: out of memory");
        }
    }
    *out = copy;
    return 0;
}

static int validate_labels(const struct snapshot_label *labels, size_t count, struct berr *err)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (!labels[i].key || !labels[i].key[0])
            return berr_set(err, BERR_INVALID, "label with an empty key");
        if (strlen(labels[i].key) + strlen(labels[i].value ? labels[i].value : "") >
            LABEL_MAX_LENGTH)
            return berr_set(err, BERR_INVALID, "label %s is longer than %d bytes", labels[i].key,
                            LABEL_MAX_LENGTH);
    }
    return 0;
}

static int validate_key(const char *what, const char *key, struct berr *err)
{
    if (!key || !key[0])
        return berr_set(err, BERR_INVALID, "snapshot %s is empty", what);
    if (strlen(key) > KEY_MAX_LENGTH)
        return berr_set(err, BERR_INVALID, "snapshot %s %.40s... is longer than %d bytes", what,
                        key, KEY_MAX_LENGTH);
    return 0;
}

static int validate_namespace(const char *namespace, struct berr *err)
{
    if (!namespace || !metadata_namespace_valid(namespace))
        return berr_set(err, BERR_INVALID, "invalid namespace \"%s\"",
                        namespace ? namespace : "(null)");
    return 0;
}

static struct timespec now(void)
{
    struct timespec time;

    clock_gettime(CLOCK_REALTIME, &time);
    return time;
}

static const char *kind_name(enum snapshot_kind kind)
{
    switch (kind) {
    case SNAPSHOT_KIND_VIEW:
        return "view";
    case SNAPSHOT_KIND_ACTIVE:
        return "active";
    case SNAPSHOT_KIND_COMMITTED:
        return "committed";
    default:
        return "unknown";
    }
}

/* ---- paths and mounts ---- */

static int directory_path(const struct snapshotter *snapshotter, uint64_t id, const char *sub,
                          char **out, struct berr *err)
{
    if (asprintf(out, "%s/%llu%s%s", snapshotter->directory, (unsigned long long)id, sub ? "/" : "",
                 sub ? sub : "") < 0)
        return berr_set(err, BERR_NOMEM, "out of memory");
    return 0;
}

/* The directory ids of parent and its ancestors, top first (malloc'ed). */
static int parent_chain(struct metadata_txn *txn, const char *namespace, const char *parent,
                        uint64_t **ids_out, size_t *count_out, struct berr *err)
{
    uint64_t *ids = NULL;
    size_t count = 0;
    char *next = parent && parent[0] ? strdup(parent) : NULL;
    int rc = 0;

    if (parent && parent[0] && !next)
        return berr_set(err, BERR_NOMEM, "out of memory");
    while (next) {
        struct snapshot_record record;
        uint64_t *grown;
        if (count >= SNAPSHOT_MAX_DEPTH) {
            rc = berr_set(err, BERR_INVALID, "snapshot %s has more than %d parents", parent,
                          SNAPSHOT_MAX_DEPTH);
            break;
        }
        if ((rc = snapshot_record_load(txn, namespace, next, &record, err)))
            break;
        free(next);
        next = NULL;
        if (record.info.kind != SNAPSHOT_KIND_COMMITTED) {
            rc = berr_set(err, BERR_INTERNAL, "snapshot %s: parent %s is %s", parent,
                          record.info.name, kind_name(record.info.kind));
            snapshot_record_free(&record);
            break;
        }
        grown = realloc(ids, (count + 1) * sizeof(*ids));
        if (!grown) {
            snapshot_record_free(&record);
            rc = berr_set(err, BERR_NOMEM, "out of memory");
            break;
        }
        ids = grown;
        ids[count++] = record.id;
        if (record.info.parent[0]) {
            next = record.info.parent;
            record.info.parent = NULL;
        }
        snapshot_record_free(&record);
    }
    free(next);
    if (rc) {
        free(ids);
        return rc;
    }
    *ids_out = ids;
    *count_out = count;
    return 0;
}

static int build_mounts(const struct snapshotter *snapshotter, enum snapshot_kind kind, uint64_t id,
                        const uint64_t *parents, size_t parent_count, struct mount_list *out,
                        struct berr *err)
{
    const char *options[6];
    char *work = NULL, *upper = NULL, *lower = NULL, *single = NULL;
    size_t n = 0, length = 0, i;
    int rc;

    memset(out, 0, sizeof(*out));
    if (parent_count == 0 || (kind == SNAPSHOT_KIND_VIEW && parent_count == 1)) {
        rc = parent_count ? directory_path(snapshotter, parents[0], "fs", &single, err)
                          : directory_path(snapshotter, id, "fs", &single, err);
        if (rc)
            return rc;
        options[n++] = kind == SNAPSHOT_KIND_VIEW ? "ro" : "rw";
        options[n++] = "rbind";
        options[n] = NULL;
        rc = mount_list_add(out, "bind", single, options, err);
        free(single);
        return rc;
    }

    for (i = 0; i < parent_count; i++)
        length += strlen(snapshotter->directory) + 32;
    lower = malloc(length + sizeof("lowerdir="));
    if (!lower)
        return berr_set(err, BERR_NOMEM, "out of memory");
    length = (size_t)sprintf(lower, "lowerdir=");
    for (i = 0; i < parent_count; i++)
        length += (size_t)sprintf(lower + length, "%s%s/%llu/fs", i ? ":" : "",
                                  snapshotter->directory, (unsigned long long)parents[i]);
    if (snapshotter->overlay_index)
        options[n++] = "index=off";
    if (kind == SNAPSHOT_KIND_ACTIVE) {
        if (asprintf(&work, "workdir=%s/%llu/work", snapshotter->directory,
                     (unsigned long long)id) < 0)
            work = NULL;
        if (asprintf(&upper, "upperdir=%s/%llu/fs", snapshotter->directory,
                     (unsigned long long)id) < 0)
            upper = NULL;
        if (!work || !upper) {
            rc = berr_set(err, BERR_NOMEM, "out of memory");
            goto out;
        }
        options[n++] = work;
        options[n++] = upper;
    } else {
        options[n++] = "ro";
    }
    options[n++] = lower;
    options[n] = NULL;
    rc = mount_list_add(out, "overlay", "overlay", options, err);
out:
    free(work);
    free(upper);
    free(lower);
    return rc;
}

/* ---- opening and cleanup ---- */

static bool all_digits(const char *name)
{
    if (!*name)
        return false;
    for (; *name; name++) {
        if (*name < '0' || *name > '9')
            return false;
    }
    return true;
}

/* Removes the directories no record names: left by a crash between making
 * a directory and committing its record, or during a Remove. */
static int remove_orphans(struct snapshotter *snapshotter, struct berr *err)
{
    struct metadata_txn *txn = NULL;
    char **orphans = NULL;
    size_t orphan_count = 0, i;
    struct dirent *entry;
    DIR *directory;
    int stream_fd, rc = 0;

    stream_fd = openat(snapshotter->directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (stream_fd < 0)
        return berr_errno(err, errno, "open %s", snapshotter->directory);
    directory = fdopendir(stream_fd);
    if (!directory) {
        close(stream_fd);
        return berr_errno(err, errno, "read %s", snapshotter->directory);
    }
    if ((rc = metadata_begin(snapshotter->metadata, false, &txn, err)))
        goto out;
    while ((entry = readdir(directory)) != NULL) {
        struct snapshot_directory_record record;
        char **grown;
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        if (all_digits(entry->d_name) &&
            snapshot_directory_load(txn, strtoull(entry->d_name, NULL, 10), &record, NULL, NULL) ==
                0)
            continue;
        grown = realloc(orphans, (orphan_count + 1) * sizeof(*orphans));
        if (!grown || !(grown[orphan_count] = strdup(entry->d_name))) {
            if (grown)
                orphans = grown;
            rc = berr_set(err, BERR_NOMEM, "out of memory");
            goto out;
        }
        orphans = grown;
        orphan_count++;
    }
    metadata_abort(txn);
    txn = NULL;
    for (i = 0; i < orphan_count && !rc; i++) {
        log_info("snapshots: removing orphan directory %s/%s", snapshotter->directory, orphans[i]);
        rc = dirtree_remove_at(snapshotter->directory_fd, orphans[i], err);
    }
out:
    metadata_abort(txn);
    closedir(directory);
    for (i = 0; i < orphan_count; i++)
        free(orphans[i]);
    free(orphans);
    return rc;
}

int snapshotter_open(const char *root, struct metadata *metadata, struct snapshotter **out,
                     struct berr *err)
{
    struct snapshotter *snapshotter;
    char absolute[PATH_MAX];
    int rc;

    if (strpbrk(root, ",:\\"))
        return berr_set(err, BERR_INVALID,
                        "snapshotter root %s: ',', ':' and '\\' cannot be used in mount options",
                        root);
    if (!realpath(root, absolute))
        return berr_errno(err, errno, "snapshotter root %s", root);
    snapshotter = calloc(1, sizeof(*snapshotter));
    if (!snapshotter)
        return berr_set(err, BERR_NOMEM, "snapshotter: out of memory");
    snapshotter->metadata = metadata;
    snapshotter->directory_fd = -1;
    pthread_mutex_init(&snapshotter->lock_mutex, NULL);
    pthread_cond_init(&snapshotter->lock_released, NULL);
    if (asprintf(&snapshotter->directory, "%s/snapshots", strcmp(absolute, "/") ? absolute : "") <
        0) {
        snapshotter->directory = NULL;
        rc = berr_set(err, BERR_NOMEM, "snapshotter: out of memory");
        goto fail;
    }
    /* 0700: layers hold setuid binaries that only containers should reach. */
    if (mkdir(snapshotter->directory, 0700) < 0 && errno != EEXIST) {
        rc = berr_errno(err, errno, "create %s", snapshotter->directory);
        goto fail;
    }
    /* O_RDONLY, not O_PATH: it is fsynced after each new directory. */
    snapshotter->directory_fd = open(snapshotter->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (snapshotter->directory_fd < 0) {
        rc = berr_errno(err, errno, "open %s", snapshotter->directory);
        goto fail;
    }
    snapshotter->overlay_index = access("/sys/module/overlay/parameters/index", F_OK) == 0;
    if ((rc = remove_orphans(snapshotter, err)))
        goto fail;
    *out = snapshotter;
    return 0;
fail:
    snapshotter_close(snapshotter);
    return rc;
}

void snapshotter_close(struct snapshotter *snapshotter)
{
    if (!snapshotter)
        return;
    if (snapshotter->directory_fd >= 0)
        close(snapshotter->directory_fd);
    while (snapshotter->held) {
        struct held_name *held = snapshotter->held;
        snapshotter->held = held->next;
        free(held->name);
        free(held);
    }
    pthread_mutex_destroy(&snapshotter->lock_mutex);
    pthread_cond_destroy(&snapshotter->lock_released);
    free(snapshotter->directory);
    free(snapshotter);
}

const char *snapshotter_directory(const struct snapshotter *snapshotter)
{
    return snapshotter->directory;
}

/* ---- prepare and view ---- */

/* Makes ROOT/snapshots/ID/{fs,work} for a new id and records it. */
static int allocate_directory(struct snapshotter *snapshotter, struct metadata_txn *txn,
                              uint64_t *id_out, struct berr *err)
{
    struct snapshot_directory_record record = {1, -1, -1};
    struct metadata_value value;
    uint64_t id = 1, next;
    char name[32];
    int fd, rc;

    rc = metadata_get(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, "next-id", &value, err);
    if (rc == 0 && value.size == sizeof(id))
        memcpy(&id, value.data, sizeof(id));
    else if (rc != 0 && rc != BERR_NOT_FOUND)
        return rc;
    next = id + 1;
    if ((rc = metadata_put(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, "next-id", &next,
                           sizeof(next), err)))
        return rc;
    if ((rc = snapshot_directory_store(txn, id, &record, NULL, err)))
        return rc;

    snprintf(name, sizeof(name), "%llu", (unsigned long long)id);
    if (mkdirat(snapshotter->directory_fd, name, 0700) < 0) {
        if (errno != EEXIST)
            return berr_errno(err, errno, "create snapshot directory %s/%s", snapshotter->directory,
                              name);
        /* An orphan of a crashed transaction that reused this id. */
        if ((rc = dirtree_remove_at(snapshotter->directory_fd, name, err)))
            return rc;
        if (mkdirat(snapshotter->directory_fd, name, 0700) < 0)
            return berr_errno(err, errno, "create snapshot directory %s/%s", snapshotter->directory,
                              name);
    }
    fd = openat(snapshotter->directory_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || mkdirat(fd, "fs", 0755) < 0 || mkdirat(fd, "work", 0700) < 0 || fsync(fd) < 0) {
        rc =
            berr_errno(err, errno, "create snapshot directory %s/%s", snapshotter->directory, name);
        if (fd >= 0)
            close(fd);
        dirtree_remove_at(snapshotter->directory_fd, name, NULL);
        return rc;
    }
    close(fd);
    *id_out = id;
    return 0;
}

static void discard_directory(struct snapshotter *snapshotter, uint64_t id)
{
    char name[32];

    snprintf(name, sizeof(name), "%llu", (unsigned long long)id);
    dirtree_remove_at(snapshotter->directory_fd, name, NULL);
}

static int create_snapshot(struct snapshotter *snapshotter, const char *namespace,
                           enum snapshot_kind kind, const char *key, const char *parent,
                           const struct snapshot_label *labels, size_t label_count,
                           struct mount_list *mounts_out, struct berr *err)
{
    struct metadata_txn *txn = NULL;
    struct snapshot_record record;
    uint64_t *parents = NULL, id = 0;
    size_t parent_count = 0;
    struct mount_list mounts = {NULL, 0};
    bool made_directory = false;
    int rc;

    memset(&record, 0, sizeof(record));
    if (!parent)
        parent = "";
    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)) ||
        (rc = validate_labels(labels, label_count, err)))
        return rc;
    if ((rc = metadata_begin(snapshotter->metadata, true, &txn, err)))
        return rc;
    if (snapshot_record_exists(txn, namespace, key)) {
        rc = berr_set(err, BERR_EXISTS, "snapshot %s already exists in namespace %s", key,
                      namespace);
        goto fail;
    }
    if (parent[0]) {
        struct snapshot_record parent_record;
        if ((rc = snapshot_record_load(txn, namespace, parent, &parent_record, err)))
            goto fail;
        if (parent_record.info.kind != SNAPSHOT_KIND_COMMITTED) {
            rc = berr_set(err, BERR_INVALID, "parent %s of snapshot %s is %s, not committed",
                          parent, key, kind_name(parent_record.info.kind));
            snapshot_record_free(&parent_record);
            goto fail;
        }
        snapshot_record_free(&parent_record);
        if ((rc = parent_chain(txn, namespace, parent, &parents, &parent_count, err)))
            goto fail;
    }
    if ((rc = allocate_directory(snapshotter, txn, &id, err)))
        goto fail;
    made_directory = true;

    record.id = id;
    record.info.name = strdup(key);
    record.info.parent = strdup(parent);
    record.info.kind = kind;
    record.info.created_at = record.info.updated_at = now();
    if (!record.info.name || !record.info.parent) {
        rc = berr_set(err, BERR_NOMEM, "snapshot %s: out of memory", key);
        goto fail;
    }
    if ((rc = copy_labels(labels, label_count, &record.info.labels, err)))
        goto fail;
    record.info.label_count = label_count;
    if ((rc = snapshot_record_store(txn, namespace, &record, err)))
        goto fail;
    if ((rc = build_mounts(snapshotter, kind, id, parents, parent_count, &mounts, err)))
        goto fail;
    /* The directory must be on disk before a record that names it. */
    if (fsync(snapshotter->directory_fd) < 0) {
        rc = berr_errno(err, errno, "sync %s", snapshotter->directory);
        goto fail;
    }
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc)
        goto fail;
    if (mounts_out)
        *mounts_out = mounts;
    else
        mount_list_free(&mounts);
    free(parents);
    snapshot_record_free(&record);
    return 0;
fail:
    metadata_abort(txn);
    if (made_directory)
        discard_directory(snapshotter, id);
    mount_list_free(&mounts);
    free(parents);
    snapshot_record_free(&record);
    return with_context(rc, err, "%s %s", kind == SNAPSHOT_KIND_VIEW ? "view" : "prepare", key);
}

int snapshot_prepare(struct snapshotter *snapshotter, const char *namespace, const char *key,
                     const char *parent, const struct snapshot_label *labels, size_t label_count,
                     struct mount_list *mounts_out, struct berr *err)
{
    return create_snapshot(snapshotter, namespace, SNAPSHOT_KIND_ACTIVE, key, parent, labels,
                           label_count, mounts_out, err);
}

int snapshot_view(struct snapshotter *snapshotter, const char *namespace, const char *key,
                  const char *parent, const struct snapshot_label *labels, size_t label_count,
                  struct mount_list *mounts_out, struct berr *err)
{
    return create_snapshot(snapshotter, namespace, SNAPSHOT_KIND_VIEW, key, parent, labels,
                           label_count, mounts_out, err);
}

int snapshot_mounts(struct snapshotter *snapshotter, const char *namespace, const char *key,
                    struct mount_list *mounts_out, struct berr *err)
{
    struct metadata_txn *txn;
    struct snapshot_record record;
    uint64_t *parents = NULL;
    size_t parent_count = 0;
    int rc;

    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)))
        return rc;
    if ((rc = metadata_begin(snapshotter->metadata, false, &txn, err)))
        return rc;
    if ((rc = snapshot_record_load(txn, namespace, key, &record, err))) {
        metadata_abort(txn);
        return rc;
    }
    if (record.info.kind == SNAPSHOT_KIND_COMMITTED) {
        rc = berr_set(err, BERR_CONFLICT,
                      "snapshot %s is committed: it has no mounts of its own (View it)", key);
    } else {
        rc = parent_chain(txn, namespace, record.info.parent, &parents, &parent_count, err);
        if (!rc)
            rc = build_mounts(snapshotter, record.info.kind, record.id, parents, parent_count,
                              mounts_out, err);
    }
    metadata_abort(txn);
    free(parents);
    snapshot_record_free(&record);
    return rc;
}

/* ---- commit ---- */

/* The id of an active snapshot (read transaction). */
static int active_id(struct snapshotter *snapshotter, const char *namespace, const char *key,
                     uint64_t *id_out, struct berr *err)
{
    struct metadata_txn *txn;
    struct snapshot_record record;
    int rc;

    if ((rc = metadata_begin(snapshotter->metadata, false, &txn, err)))
        return rc;
    rc = snapshot_record_load(txn, namespace, key, &record, err);
    metadata_abort(txn);
    if (rc)
        return rc;
    if (record.info.kind != SNAPSHOT_KIND_ACTIVE)
        rc = berr_set(err, BERR_CONFLICT, "snapshot %s is %s, not active", key,
                      kind_name(record.info.kind));
    *id_out = record.id;
    snapshot_record_free(&record);
    return rc;
}

static int measure(struct snapshotter *snapshotter, uint64_t id, struct snapshot_usage *out,
                   struct berr *err)
{
    char name[48];
    int fd, rc;

    snprintf(name, sizeof(name), "%llu/fs", (unsigned long long)id);
    fd = openat(snapshotter->directory_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, errno, "usage of %s/%s", snapshotter->directory, name);
    rc = dirtree_usage(fd, &out->size, &out->inodes, err);
    close(fd);
    return rc;
}

static int commit_snapshot(struct snapshotter *snapshotter, const char *namespace, const char *name,
                           const char *key, const struct snapshot_label *labels, size_t label_count,
                           bool verified_chain, struct berr *err)
{
    struct metadata_txn *txn = NULL;
    struct snapshot_record record, committed;
    struct snapshot_directory_record directory;
    struct snapshot_usage usage;
    uint64_t id, chain_holder;
    char *chain = NULL;
    int rc;

    memset(&record, 0, sizeof(record));
    memset(&committed, 0, sizeof(committed));
    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)) ||
        (rc = validate_key("name", name, err)) || (rc = validate_labels(labels, label_count, err)))
        return rc;
    /* Measure outside the write transaction: a big layer takes a while. */
    if ((rc = active_id(snapshotter, namespace, key, &id, err)) ||
        (rc = measure(snapshotter, id, &usage, err)))
        goto fail;

    if ((rc = metadata_begin(snapshotter->metadata, true, &txn, err)))
        goto fail;
    if ((rc = snapshot_record_load(txn, namespace, key, &record, err)))
        goto fail;
    if (record.info.kind != SNAPSHOT_KIND_ACTIVE || record.id != id) {
        rc = berr_set(err, BERR_CONFLICT, "snapshot %s changed while being committed", key);
        goto fail;
    }
    if (snapshot_record_exists(txn, namespace, name)) {
        rc = berr_set(err, BERR_EXISTS, "snapshot %s already exists in namespace %s", name,
                      namespace);
        goto fail;
    }
    committed.id = id;
    committed.info.name = strdup(name);
    committed.info.parent = strdup(record.info.parent);
    committed.info.kind = SNAPSHOT_KIND_COMMITTED;
    committed.info.created_at = committed.info.updated_at = now();
    if (!committed.info.name || !committed.info.parent) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto fail;
    }
    if (label_count) {
        if ((rc = copy_labels(labels, label_count, &committed.info.labels, err)))
            goto fail;
        committed.info.label_count = label_count;
    } else {
        committed.info.labels = record.info.labels;
        committed.info.label_count = record.info.label_count;
        record.info.labels = NULL;
        record.info.label_count = 0;
    }
    if ((rc = metadata_delete(txn, METADATA_SNAPSHOTS, namespace, key, err)) ||
        (rc = snapshot_record_store(txn, namespace, &committed, err)))
        goto fail;
    if ((rc = snapshot_directory_load(txn, id, &directory, &chain, err)))
        goto fail;
    directory.size = usage.size;
    directory.inodes = usage.inodes;
    if (verified_chain) {
        char chain_key[128];
        /* Another namespace's verified copy, if any, stays the shared one. */
        snapshot_chain_key(chain_key, sizeof(chain_key), name);
        if (snapshot_chain_load(txn, name, &chain_holder, NULL) != 0 &&
            (rc = metadata_put(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, chain_key, &id,
                               sizeof(id), err)))
            goto fail;
    }
    if ((rc = snapshot_directory_store(txn, id, &directory, verified_chain ? name : chain, err)))
        goto fail;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc)
        goto fail;
    free(chain);
    snapshot_record_free(&record);
    snapshot_record_free(&committed);
    return 0;
fail:
    metadata_abort(txn);
    free(chain);
    snapshot_record_free(&record);
    snapshot_record_free(&committed);
    return with_context(rc, err, "commit %s as %s", key, name);
}

int snapshot_commit(struct snapshotter *snapshotter, const char *namespace, const char *name,
                    const char *key, const struct snapshot_label *labels, size_t label_count,
                    struct berr *err)
{
    return commit_snapshot(snapshotter, namespace, name, key, labels, label_count, false, err);
}

int snapshot_commit_chain(struct snapshotter *snapshotter, const char *namespace, const char *name,
                          const char *key, const struct snapshot_label *labels, size_t label_count,
                          struct berr *err)
{
    return commit_snapshot(snapshotter, namespace, name, key, labels, label_count, true, err);
}

int snapshot_share_chain(struct snapshotter *snapshotter, const char *namespace,
                         const char *chain_id, const char *parent,
                         const struct snapshot_label *labels, size_t label_count, struct berr *err)
{
    struct metadata_txn *txn = NULL;
    struct snapshot_directory_record directory;
    struct snapshot_record record;
    char *chain = NULL;
    uint64_t id;
    int rc;

    memset(&record, 0, sizeof(record));
    if (!parent)
        parent = "";
    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("name", chain_id, err)) ||
        (rc = validate_labels(labels, label_count, err)))
        return rc;
    if ((rc = metadata_begin(snapshotter->metadata, true, &txn, err)))
        return rc;
    rc = snapshot_chain_load(txn, chain_id, &id, err);
    if (rc == BERR_NOT_FOUND) {
        rc = berr_set(err, BERR_NOT_FOUND, "no verified snapshot of %s to share", chain_id);
        goto fail;
    }
    if (rc)
        goto fail;
    if (snapshot_record_exists(txn, namespace, chain_id)) {
        rc = berr_set(err, BERR_EXISTS, "snapshot %s already exists in namespace %s", chain_id,
                      namespace);
        goto fail;
    }
    if (parent[0]) {
        struct snapshot_record parent_record;
        if ((rc = snapshot_record_load(txn, namespace, parent, &parent_record, err)))
            goto fail;
        if (parent_record.info.kind != SNAPSHOT_KIND_COMMITTED)
            rc = berr_set(err, BERR_INVALID, "parent %s is not committed", parent);
        snapshot_record_free(&parent_record);
        if (rc)
            goto fail;
    }
    if ((rc = snapshot_directory_load(txn, id, &directory, &chain, err)))
        goto fail;
    directory.references++;
    if ((rc = snapshot_directory_store(txn, id, &directory, chain, err)))
        goto fail;
    record.id = id;
    record.info.name = strdup(chain_id);
    record.info.parent = strdup(parent);
    record.info.kind = SNAPSHOT_KIND_COMMITTED;
    record.info.created_at = record.info.updated_at = now();
    if (!record.info.name || !record.info.parent) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = copy_labels(labels, label_count, &record.info.labels, err)))
        goto fail;
    record.info.label_count = label_count;
    if ((rc = snapshot_record_store(txn, namespace, &record, err)))
        goto fail;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc)
        goto fail;
    free(chain);
    snapshot_record_free(&record);
    return 0;
fail:
    metadata_abort(txn);
    free(chain);
    snapshot_record_free(&record);
    return with_context(rc, err, "share %s", chain_id);
}

/* ---- remove ---- */

struct child_search {
    const char *parent;
    char *child; /* the first child found */
    struct berr *err;
    int rc;
};

static int find_child(const char *key, const void *data, size_t size, void *user)
{
    struct child_search *search = user;
    struct snapshot_record record;

    if ((search->rc = snapshot_record_decode(key, data, size, &record, search->err)))
        return 1;
    if (strcmp(record.info.parent, search->parent) == 0) {
        search->child = strdup(key);
        snapshot_record_free(&record);
        if (!search->child)
            search->rc = berr_set(search->err, BERR_NOMEM, "out of memory");
        return 1;
    }
    snapshot_record_free(&record);
    return 0;
}

/* Deletes the record of namespace/key (loaded as record) and its share of
 * the directory; *last says whether that was the directory's last record,
 * so the caller deletes the directory once the transaction committed. */
static int remove_record(struct metadata_txn *txn, const char *namespace,
                         const struct snapshot_record *record, bool *last, struct berr *err)
{
    struct snapshot_directory_record directory;
    char *chain = NULL;
    int rc;

    *last = false;
    if ((rc = metadata_delete(txn, METADATA_SNAPSHOTS, namespace, record->info.name, err)))
        return rc;
    rc = snapshot_directory_load(txn, record->id, &directory, &chain, err);
    if (rc == BERR_NOT_FOUND) {
        *last = true; /* already gone: nothing to count */
        return 0;
    }
    if (rc)
        return rc;
    if (directory.references > 1) {
        directory.references--;
        rc = snapshot_directory_store(txn, record->id, &directory, chain, err);
    } else {
        char directory_name[64];
        *last = true;
        snapshot_directory_key(directory_name, sizeof(directory_name), record->id);
        rc = metadata_delete(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, directory_name,
                             err);
        if (rc == 0 && chain[0]) {
            uint64_t holder;
            char chain_key[128];
            snapshot_chain_key(chain_key, sizeof(chain_key), chain);
            if (snapshot_chain_load(txn, chain, &holder, NULL) == 0 && holder == record->id)
                rc = metadata_delete(txn, METADATA_SNAPSHOTS, SNAPSHOT_GLOBAL_NAMESPACE, chain_key,
                                     err);
        }
    }
    free(chain);
    return rc;
}

void snapshot_remove_directory(struct snapshotter *snapshotter, uint64_t directory)
{
    struct berr removal;
    char name[32];

    snprintf(name, sizeof(name), "%llu", (unsigned long long)directory);
    /* The record is gone; a directory left here is an orphan that the next
     * start removes, so this is nobody's failure. */
    if (dirtree_remove_at(snapshotter->directory_fd, name, &removal))
        log_warn("snapshots: cannot remove %s/%s: %s", snapshotter->directory, name,
                 removal.message);
}

int snapshot_remove(struct snapshotter *snapshotter, const char *namespace, const char *key,
                    struct berr *err)
{
    struct child_search search = {key, NULL, err, 0};
    struct metadata_txn *txn = NULL;
    struct snapshot_record record;
    bool last = false;
    int rc;

    memset(&record, 0, sizeof(record));
    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)))
        return rc;
    if ((rc = metadata_begin(snapshotter->metadata, true, &txn, err)))
        return rc;
    if ((rc = snapshot_record_load(txn, namespace, key, &record, err)))
        goto fail;
    if (record.info.kind == SNAPSHOT_KIND_COMMITTED) {
        rc = metadata_list(txn, METADATA_SNAPSHOTS, namespace, NULL, find_child, &search, err);
        if (search.rc) {
            rc = search.rc;
            goto fail;
        }
        if (rc && rc != 1)
            goto fail;
        if (search.child) {
            rc = berr_set(err, BERR_CONFLICT, "snapshot %s is the parent of %s", key, search.child);
            goto fail;
        }
    }
    if ((rc = remove_record(txn, namespace, &record, &last, err)))
        goto fail;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc)
        goto fail;
    if (last)
        snapshot_remove_directory(snapshotter, record.id);
    free(search.child);
    snapshot_record_free(&record);
    return 0;
fail:
    metadata_abort(txn);
    free(search.child);
    snapshot_record_free(&record);
    return with_context(rc, err, "remove %s", key);
}

int snapshot_remove_txn(struct metadata_txn *txn, const char *namespace, const char *key,
                        uint64_t *directory_out, struct berr *err)
{
    struct snapshot_record record;
    bool last = false;
    int rc;

    *directory_out = 0;
    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)) ||
        (rc = snapshot_record_load(txn, namespace, key, &record, err)))
        return rc;
    rc = remove_record(txn, namespace, &record, &last, err);
    if (rc == 0 && last)
        *directory_out = record.id;
    snapshot_record_free(&record);
    return rc ? with_context(rc, err, "remove %s", key) : 0;
}

struct walk_context {
    snapshot_walk_visit visit;
    void *user;
    struct berr *err;
    int rc;
};

static int walk_visit(const char *key, const void *data, size_t size, void *user)
{
    struct walk_context *context = user;
    const char *slash = strchr(key, '/');
    char namespace[128];
    struct snapshot_record record;
    int rc;

    if (!slash || slash == key)
        return 0; /* the global records */
    if ((size_t)(slash - key) >= sizeof(namespace)) {
        context->rc = berr_set(context->err, BERR_INTERNAL, "snapshot %s: bad key", key);
        return 1;
    }
    memcpy(namespace, key, (size_t)(slash - key));
    namespace[slash - key] = '\0';
    if ((context->rc = snapshot_record_decode(key, data, size, &record, context->err)))
        return 1;
    rc = context->visit(namespace, &record.info, context->user);
    snapshot_record_free(&record);
    return rc;
}

int snapshot_walk(struct metadata_txn *txn, snapshot_walk_visit visit, void *user, struct berr *err)
{
    struct walk_context context = {visit, user, err, 0};
    int rc = metadata_list_all(txn, METADATA_SNAPSHOTS, walk_visit, &context, err);

    return context.rc ? context.rc : rc;
}

/* ---- stat, update ---- */

int snapshot_stat(struct snapshotter *snapshotter, const char *namespace, const char *key,
                  struct snapshot_info *out, struct berr *err)
{
    struct metadata_txn *txn;
    struct snapshot_record record;
    int rc;

    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)))
        return rc;
    if ((rc = metadata_begin(snapshotter->metadata, false, &txn, err)))
        return rc;
    rc = snapshot_record_load(txn, namespace, key, &record, err);
    metadata_abort(txn);
    if (rc)
        return rc;
    *out = record.info;
    return 0;
}

static const char *find_label(const struct snapshot_label *labels, size_t count, const char *key)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (strcmp(labels[i].key, key) == 0)
            return labels[i].value;
    }
    return NULL;
}

/* Sets (value not NULL) or removes key in info's labels. */
static int set_label(struct snapshot_info *info, const char *key, const char *value,
                     struct berr *err)
{
    struct snapshot_label *grown;
    size_t i;

    for (i = 0; i < info->label_count; i++) {
        if (strcmp(info->labels[i].key, key) != 0)
            continue;
        if (value) {
            char *copy = strdup(value);
            if (!copy)
                return berr_set(err, BERR_NOMEM, "out of memory");
            free(info->labels[i].value);
            info->labels[i].value = copy;
        } else {
            free(info->labels[i].key);
            free(info->labels[i].value);
            memmove(&info->labels[i], &info->labels[i + 1],
                    (info->label_count - i - 1) * sizeof(*info->labels));
            info->label_count--;
        }
        return 0;
    }
    if (!value)
        return 0;
    grown = realloc(info->labels, (info->label_count + 1) * sizeof(*grown));
    if (!grown)
        return berr_set(err, BERR_NOMEM, "out of memory");
    info->labels = grown;
    grown[info->label_count].key = strdup(key);
    grown[info->label_count].value = strdup(value);
    if (!grown[info->label_count].key || !grown[info->label_count].value) {
        free(grown[info->label_count].key);
        free(grown[info->label_count].value);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    info->label_count++;
    return 0;
}

int snapshot_update(struct snapshotter *snapshotter, const char *namespace,
                    const struct snapshot_info *info, const char *const *fieldpaths,
                    size_t fieldpath_count, struct snapshot_info *out, struct berr *err)
{
    static const char *const all_labels[] = {"labels"};
    struct metadata_txn *txn = NULL;
    struct snapshot_record record;
    size_t i;
    int rc;

    memset(&record, 0, sizeof(record));
    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", info->name, err)) ||
        (rc = validate_labels(info->labels, info->label_count, err)))
        return rc;
    if (fieldpath_count == 0) {
        fieldpaths = all_labels;
        fieldpath_count = 1;
    }
    for (i = 0; i < fieldpath_count; i++) {
        if (strcmp(fieldpaths[i], "labels") != 0 && strncmp(fieldpaths[i], "labels.", 7) != 0)
            return berr_set(err, BERR_INVALID, "update %s: field %s cannot be changed", info->name,
                            fieldpaths[i]);
    }
    if ((rc = metadata_begin(snapshotter->metadata, true, &txn, err)))
        return rc;
    if ((rc = snapshot_record_load(txn, namespace, info->name, &record, err)))
        goto fail;
    for (i = 0; i < fieldpath_count; i++) {
        if (strcmp(fieldpaths[i], "labels") == 0) {
            struct snapshot_label *labels;
            if ((rc = copy_labels(info->labels, info->label_count, &labels, err)))
                goto fail;
            free_labels(record.info.labels, record.info.label_count);
            record.info.labels = labels;
            record.info.label_count = info->label_count;
        } else {
            const char *key = fieldpaths[i] + 7;
            if ((rc = set_label(&record.info, key, find_label(info->labels, info->label_count, key),
                                err)))
                goto fail;
        }
    }
    record.info.updated_at = now();
    if ((rc = snapshot_record_store(txn, namespace, &record, err)))
        goto fail;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc)
        goto fail;
    if (out) {
        *out = record.info;
        memset(&record.info, 0, sizeof(record.info));
    }
    snapshot_record_free(&record);
    return 0;
fail:
    metadata_abort(txn);
    snapshot_record_free(&record);
    return with_context(rc, err, "update %s", info->name);
}

/* ---- list ---- */

/* The fields filters see, as containerd's snapshot adaptor has them: name
 * and parent always present (parent=="" finds the bottom snapshots), kind
 * in lower case and compared as it is (kind==Active matches nothing). */
static const char *snapshot_field(const char *field, void *object)
{
    const struct snapshot_info *info = object;

    if (strcmp(field, "name") == 0)
        return info->name;
    if (strcmp(field, "parent") == 0)
        return info->parent;
    if (strcmp(field, "kind") == 0) {
        const char *kind = kind_name(info->kind);
        return strcmp(kind, "unknown") == 0 ? NULL : kind;
    }
    if (strncmp(field, "labels.", 7) == 0)
        return find_label(info->labels, info->label_count, field + 7);
    return NULL;
}

struct list_walk {
    const struct filter *filter;
    struct snapshot_info *infos;
    size_t count, capacity;
    struct berr *err;
    int rc;
};

static int list_visit(const char *key, const void *data, size_t size, void *user)
{
    struct list_walk *walk = user;
    struct snapshot_record record;

    if ((walk->rc = snapshot_record_decode(key, data, size, &record, walk->err)))
        return 1;
    if (!filter_match(walk->filter, snapshot_field, &record.info)) {
        snapshot_record_free(&record);
        return 0;
    }
    if (walk->count == walk->capacity) {
        size_t capacity = walk->capacity ? walk->capacity * 2 : 16;
        struct snapshot_info *grown = realloc(walk->infos, capacity * sizeof(*grown));
        if (!grown) {
            snapshot_record_free(&record);
            walk->rc = berr_set(walk->err, BERR_NOMEM, "out of memory");
            return 1;
        }
        walk->infos = grown;
        walk->capacity = capacity;
    }
    walk->infos[walk->count++] = record.info;
    return 0;
}

int snapshot_list(struct snapshotter *snapshotter, const char *namespace,
                  const char *const *filters, size_t filter_count, struct snapshot_info **infos_out,
                  size_t *count_out, struct berr *err)
{
    struct list_walk walk;
    struct metadata_txn *txn;
    struct filter *filter;
    int rc;

    memset(&walk, 0, sizeof(walk));
    if ((rc = validate_namespace(namespace, err)) ||
        (rc = filter_parse(filters, filter_count, &filter, err)))
        return rc;
    walk.filter = filter;
    walk.err = err;
    if ((rc = metadata_begin(snapshotter->metadata, false, &txn, err))) {
        filter_free(filter);
        return rc;
    }
    rc = metadata_list(txn, METADATA_SNAPSHOTS, namespace, NULL, list_visit, &walk, err);
    metadata_abort(txn);
    filter_free(filter);
    if (walk.rc)
        rc = walk.rc;
    if (rc) {
        snapshot_info_array_free(walk.infos, walk.count);
        return rc;
    }
    *infos_out = walk.infos;
    *count_out = walk.count;
    return 0;
}

/* ---- usage ---- */

int snapshot_usage(struct snapshotter *snapshotter, const char *namespace, const char *key,
                   struct snapshot_usage *out, struct berr *err)
{
    struct snapshot_directory_record directory;
    struct metadata_txn *txn;
    struct snapshot_record record;
    int rc;

    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)))
        return rc;
    if ((rc = metadata_begin(snapshotter->metadata, false, &txn, err)))
        return rc;
    if ((rc = snapshot_record_load(txn, namespace, key, &record, err))) {
        metadata_abort(txn);
        return rc;
    }
    rc = snapshot_directory_load(txn, record.id, &directory, NULL, err);
    metadata_abort(txn);
    if (!rc && record.info.kind == SNAPSHOT_KIND_COMMITTED && directory.size >= 0) {
        out->size = directory.size;
        out->inodes = directory.inodes;
    } else if (!rc) {
        rc = measure(snapshotter, record.id, out, err);
    }
    snapshot_record_free(&record);
    return rc ? with_context(rc, err, "usage of %s", key) : 0;
}

int snapshot_active_directory(struct snapshotter *snapshotter, const char *namespace,
                              const char *key, char **path_out, struct berr *err)
{
    uint64_t id;
    int rc;

    if ((rc = validate_namespace(namespace, err)) || (rc = validate_key("key", key, err)))
        return rc;
    if ((rc = active_id(snapshotter, namespace, key, &id, err)))
        return rc;
    return directory_path(snapshotter, id, "fs", path_out, err);
}

/* ---- locks ---- */

int snapshotter_lock(struct snapshotter *snapshotter, const char *name, struct berr *err)
{
    struct held_name *held = calloc(1, sizeof(*held));

    if (!held || !(held->name = strdup(name))) {
        free(held);
        return berr_set(err, BERR_NOMEM, "lock %s: out of memory", name);
    }
    pthread_mutex_lock(&snapshotter->lock_mutex);
    for (;;) {
        struct held_name *other;
        for (other = snapshotter->held; other; other = other->next) {
            if (strcmp(other->name, name) == 0)
                break;
        }
        if (!other)
            break;
        pthread_cond_wait(&snapshotter->lock_released, &snapshotter->lock_mutex);
    }
    held->next = snapshotter->held;
    snapshotter->held = held;
    pthread_mutex_unlock(&snapshotter->lock_mutex);
    return 0;
}

void snapshotter_unlock(struct snapshotter *snapshotter, const char *name)
{
    struct held_name **link;

    pthread_mutex_lock(&snapshotter->lock_mutex);
    for (link = &snapshotter->held; *link; link = &(*link)->next) {
        if (strcmp((*link)->name, name) == 0) {
            struct held_name *held = *link;
            *link = held->next;
            free(held->name);
            free(held);
            break;
        }
    }
    pthread_cond_broadcast(&snapshotter->lock_released);
    pthread_mutex_unlock(&snapshotter->lock_mutex);
}
