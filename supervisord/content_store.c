/*
 * content_store: see content_store.h for the model. Layout under the store's
 * directory:
 *
 *   blobs/sha256/<hex>        complete, verified, read-only (0444) blobs
 *   ingest/<h>/data           the bytes written so far under one ref
 *   ingest/<h>/ref            "NS/REF" (h = sha256 of it, so any ref is a safe name)
 *   ingest/<h>/started        "SECONDS.NANOSECONDS"
 *   ingest/<h>/total          expected size, when known
 *   ingest/<h>/expected       expected digest, when known
 *
 * The small ingest files are written without fsync: an ingest that loses
 * them in a crash is simply started again. The data is fsynced before its
 * rename into blobs/, and blobs/sha256 after it.
 */
#include "content_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "filter.h"
#include "leases.h"
#include "record.h"

#define HEX_OFFSET (sizeof(DIGEST_SHA256_PREFIX) - 1)
#define KEY_MAX    (CONTENT_REF_MAX + 80)
#define CHUNK_SIZE (1 << 20)
/* "Not there" from helpers that otherwise return 0 or a berr code (never negative). */
#define ABSENT     (-1)
#define SMALL_FILE 128

struct content_store {
    char *directory;
    int blobs_fd;  /* blobs/sha256 */
    int ingest_fd; /* ingest */
    struct metadata *metadata;
    pthread_mutex_t refs_lock; /* guards active_refs */
    size_t active_count;
    char **active_refs; /* "NS/REF" of open writers */
    pthread_mutex_t blobs_lock;
};

struct content_writer {
    struct content_store *store;
    char *namespace;
    char *ref;
    char key[KEY_MAX];             /* "NS/REF" */
    char name[DIGEST_STRING_SIZE]; /* the ingest directory: hex of sha256(key) */
    int directory_fd;
    int data_fd;
    int64_t offset;
    int64_t total;
    char expected[DIGEST_STRING_SIZE];
    struct timespec started;
    struct timespec updated;
    struct digest_sha256 hash;
    bool hash_valid; /* hash covers data[0, offset) */
    bool done;       /* committed: only close is left */
};

struct content_reader {
    int fd;
    int64_t size;
    char digest[DIGEST_STRING_SIZE];
};

/* ---- helpers ---- */

static int check_namespace(const char *namespace, struct berr *err)
{
    if (!namespace || !metadata_namespace_valid(namespace))
        return berr_set(err, BERR_INVALID, "invalid namespace %s", namespace ? namespace : "");
    return 0;
}

/* sha256 is the only algorithm: anything else is BERR_UNSUPPORTED, not "invalid". */
static int check_digest(const char *digest, struct berr *err)
{
    if (!digest || !digest[0])
        return berr_set(err, BERR_INVALID, "a digest is required");
    if (digest_is_valid(digest))
        return 0;
    if (strncmp(digest, DIGEST_SHA256_PREFIX, HEX_OFFSET) != 0 && strchr(digest, ':'))
        return berr_set(err, BERR_UNSUPPORTED, "digest %.100s: only sha256 is supported", digest);
    return berr_set(err, BERR_INVALID, "invalid digest %.100s", digest);
}

static int check_ref(const char *ref, struct berr *err)
{
    if (!ref || !ref[0])
        return berr_set(err, BERR_INVALID, "a ref is required");
    if (strlen(ref) > CONTENT_REF_MAX)
        return berr_set(err, BERR_INVALID, "ref %.64s...: longer than %d bytes", ref,
                        CONTENT_REF_MAX);
    return 0;
}

static const char *digest_hex(const char *digest)
{
    return digest + HEX_OFFSET;
}

static void timespec_now(struct timespec *out)
{
    clock_gettime(CLOCK_REALTIME, out);
}

static int read_small_file(int directory_fd, const char *name, char *buffer, size_t size)
{
    int fd = openat(directory_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t length;

    if (fd < 0)
        return -1;
    length = read(fd, buffer, size - 1);
    close(fd);
    if (length < 0)
        return -1;
    buffer[length] = '\0';
    return 0;
}

static int write_small_file(int directory_fd, const char *name, const char *text, struct berr *err)
{
    return atomic_write_file_at_no_sync(directory_fd, name, text, strlen(text), 0600, err);
}

/* Removes an ingest directory and whatever is in it (files only). */
static void remove_ingest(struct content_store *store, const char *name)
{
    int directory_fd = openat(store->ingest_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *listing;
    struct dirent *entry;

    if (directory_fd >= 0 && (listing = fdopendir(directory_fd))) {
        while ((entry = readdir(listing)))
            if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
                unlinkat(dirfd(listing), entry->d_name, 0);
        closedir(listing);
    } else if (directory_fd >= 0) {
        close(directory_fd);
    }
    unlinkat(store->ingest_fd, name, AT_REMOVEDIR);
}

static int ingest_name(const char *key, char out[DIGEST_STRING_SIZE], struct berr *err)
{
    char digest[DIGEST_STRING_SIZE];
    int rc = digest_sha256_buffer(key, strlen(key), digest, err);

    if (rc == 0)
        memcpy(out, digest_hex(digest), DIGEST_SHA256_HEX_LEN + 1);
    return rc;
}

/* Marks key as held by a writer; BERR_CONFLICT when it already is. */
static int hold_ref(struct content_store *store, const char *key, struct berr *err)
{
    char **refs, *copy;
    size_t i;
    int rc = 0;

    pthread_mutex_lock(&store->refs_lock);
    for (i = 0; i < store->active_count; i++) {
        if (strcmp(store->active_refs[i], key) == 0) {
            rc = berr_set(err, BERR_CONFLICT, "ref %s is locked by another writer", key);
            goto done;
        }
    }
    refs = realloc(store->active_refs, (store->active_count + 1) * sizeof(*refs));
    copy = strdup(key);
    if (refs)
        store->active_refs = refs;
    if (!refs || !copy) {
        free(copy);
        rc = berr_set(err, BERR_NOMEM, "ref %s: out of memory", key);
        goto done;
    }
    store->active_refs[store->active_count++] = copy;
done:
    pthread_mutex_unlock(&store->refs_lock);
    return rc;
}

static void release_ref(struct content_store *store, const char *key)
{
    size_t i;

    pthread_mutex_lock(&store->refs_lock);
    for (i = 0; i < store->active_count; i++) {
        if (strcmp(store->active_refs[i], key) == 0) {
            free(store->active_refs[i]);
            store->active_refs[i] = store->active_refs[--store->active_count];
            break;
        }
    }
    pthread_mutex_unlock(&store->refs_lock);
}

static int make_key(char out[KEY_MAX], const char *namespace, const char *ref, struct berr *err)
{
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_ref(ref, err)))
        return rc;
    snprintf(out, KEY_MAX, "%s/%s", namespace, ref);
    return 0;
}

/* ---- open/close ---- */

static int open_directory_at(int parent_fd, const char *name, int *out, const char *display,
                             struct berr *err)
{
    if (mkdirat(parent_fd, name, 0700) < 0 && errno != EEXIST)
        return berr_errno(err, errno, "create %s", display);
    *out = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*out < 0)
        return berr_errno(err, errno, "open %s", display);
    return 0;
}

int content_store_open(const char *directory, struct metadata *metadata, struct content_store **out,
                       struct berr *err)
{
    struct content_store *store = calloc(1, sizeof(*store));
    int root_fd = -1, blobs_parent = -1, rc;

    if (!store || !(store->directory = strdup(directory))) {
        free(store);
        return berr_set(err, BERR_NOMEM, "content store %s: out of memory", directory);
    }
    store->blobs_fd = store->ingest_fd = -1;
    store->metadata = metadata;
    pthread_mutex_init(&store->refs_lock, NULL);
    pthread_mutex_init(&store->blobs_lock, NULL);
    if (mkdir(directory, 0700) < 0 && errno != EEXIST) {
        rc = berr_errno(err, errno, "create content store %s", directory);
        goto fail;
    }
    root_fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
        rc = berr_errno(err, errno, "open content store %s", directory);
        goto fail;
    }
    if ((rc = open_directory_at(root_fd, "blobs", &blobs_parent, "content/blobs", err)) ||
        (rc = open_directory_at(blobs_parent, "sha256", &store->blobs_fd, "content/blobs/sha256",
                                err)) ||
        (rc = open_directory_at(root_fd, "ingest", &store->ingest_fd, "content/ingest", err)))
        goto fail;
    close(blobs_parent);
    close(root_fd);
    *out = store;
    return 0;
fail:
    if (blobs_parent >= 0)
        close(blobs_parent);
    if (root_fd >= 0)
        close(root_fd);
    content_store_close(store);
    return rc;
}

void content_store_close(struct content_store *store)
{
    size_t i;

    if (!store)
        return;
    if (store->blobs_fd >= 0)
        close(store->blobs_fd);
    if (store->ingest_fd >= 0)
        close(store->ingest_fd);
    for (i = 0; i < store->active_count; i++)
        free(store->active_refs[i]);
    free(store->active_refs);
    pthread_mutex_destroy(&store->refs_lock);
    pthread_mutex_destroy(&store->blobs_lock);
    free(store->directory);
    free(store);
}

void content_store_lock_blobs(struct content_store *store)
{
    pthread_mutex_lock(&store->blobs_lock);
}

void content_store_unlock_blobs(struct content_store *store)
{
    pthread_mutex_unlock(&store->blobs_lock);
}

/* ---- records ---- */

int content_store_info(struct content_store *store, const char *namespace, const char *digest,
                       Berth__Supervisor__V1__ContentInfo **out, struct berr *err)
{
    struct metadata_txn *txn;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_digest(digest, err)))
        return rc;
    if ((rc = metadata_begin(store->metadata, false, &txn, err)))
        return rc;
    rc = record_get(txn, METADATA_CONTENT, namespace, digest,
                    &berth__supervisor__v1__content_info__descriptor, (ProtobufCMessage **)out,
                    NULL);
    metadata_abort(txn);
    if (rc == BERR_NOT_FOUND)
        return berr_set(err, rc, "content %s not found", digest);
    if (rc)
        return berr_set(err, rc, "content %s: cannot read its record", digest);
    return 0;
}

static const char *content_field(const char *field, void *object)
{
    const Berth__Supervisor__V1__ContentInfo *info = object;

    if (strcmp(field, "digest") == 0)
        return info->digest;
    if (strncmp(field, "labels.", 7) == 0)
        return record_label_get((ProtobufCMessage *const *)info->labels, info->n_labels, field + 7);
    return NULL;
}

struct content_visit {
    content_store_visit visit;
    void *user;
};

static int visit_content(const ProtobufCMessage *message, void *user)
{
    const struct content_visit *typed = user;

    return typed->visit((const Berth__Supervisor__V1__ContentInfo *)message, typed->user);
}

int content_store_list(struct content_store *store, const char *namespace,
                       const char *const *filters, size_t filter_count, content_store_visit visit,
                       void *user, struct berr *err)
{
    struct content_visit typed = {visit, user};
    int rc;

    if ((rc = check_namespace(namespace, err)))
        return rc;
    return record_list(store->metadata, METADATA_CONTENT, namespace,
                       &berth__supervisor__v1__content_info__descriptor, filters, filter_count,
                       content_field, visit_content, &typed, err);
}

/* Applies an update mask to labels: "labels" or "labels.KEY"; none = "labels". */
static int apply_label_mask(struct label_set *labels, ProtobufCMessage *const *entries,
                            size_t entry_count, const char *const *mask, size_t mask_count,
                            const char *object, struct berr *err)
{
    size_t i;
    int rc;

    if (mask_count == 0) {
        label_set_clear(labels);
        return record_labels_add(labels, entries, entry_count, err);
    }
    for (i = 0; i < mask_count; i++) {
        const char *path = mask[i] ? mask[i] : "";
        if (strcmp(path, "labels") == 0) {
            label_set_clear(labels);
            if ((rc = record_labels_add(labels, entries, entry_count, err)))
                return rc;
        } else if (strncmp(path, "labels.", 7) == 0 && path[7]) {
            const char *value = record_label_get(entries, entry_count, path + 7);
            if (value && (rc = label_set_put(labels, path + 7, value, err)))
                return rc;
            if (!value)
                label_set_remove(labels, path + 7);
        } else {
            return berr_set(err, BERR_INVALID, "update %s: cannot update field %s", object, path);
        }
    }
    return 0;
}

int content_store_update(struct content_store *store, const char *namespace,
                         const Berth__Supervisor__V1__ContentInfo *info, const char *const *mask,
                         size_t mask_count, Berth__Supervisor__V1__ContentInfo **out,
                         struct berr *err)
{
    Berth__Supervisor__V1__ContentInfo *current = NULL;
    Berth__Supervisor__V1__Timestamp now = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    Berth__Supervisor__V1__Timestamp *previous_updated;
    Berth__Supervisor__V1__ContentInfo__LabelsEntry **previous_labels;
    size_t previous_count;
    struct label_set labels = {0};
    ProtobufCMessage **entries = NULL;
    struct metadata_txn *txn = NULL;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_digest(info->digest, err)))
        return rc;
    if ((rc = metadata_begin(store->metadata, true, &txn, err)))
        return rc;
    rc = record_get(txn, METADATA_CONTENT, namespace, info->digest,
                    &berth__supervisor__v1__content_info__descriptor, (ProtobufCMessage **)&current,
                    NULL);
    if (rc) {
        rc = berr_set(err, rc, "content %s %s", info->digest,
                      rc == BERR_NOT_FOUND ? "not found" : "cannot be read");
        goto done;
    }
    if ((rc = record_labels_add(&labels, (ProtobufCMessage *const *)current->labels,
                                current->n_labels, err)) ||
        (rc = apply_label_mask(&labels, (ProtobufCMessage *const *)info->labels, info->n_labels,
                               mask, mask_count, info->digest, err)) ||
        (rc = record_labels_build(&labels,
                                  &berth__supervisor__v1__content_info__labels_entry__descriptor,
                                  &entries, err)))
        goto done;
    record_now(&now);
    /* Swap in the new labels and time, write, then put the old pointers back for the free. */
    previous_labels = current->labels;
    previous_count = current->n_labels;
    previous_updated = current->updated_at;
    current->labels = (Berth__Supervisor__V1__ContentInfo__LabelsEntry **)entries;
    current->n_labels = labels.count;
    current->updated_at = &now;
    rc = record_put(txn, METADATA_CONTENT, namespace, info->digest, &current->base, err);
    if (rc == 0 && out)
        rc = record_copy(&current->base, (ProtobufCMessage **)out, err);
    current->labels = previous_labels;
    current->n_labels = previous_count;
    current->updated_at = previous_updated;
    if (rc == 0) {
        rc = metadata_commit(txn, err);
        txn = NULL;
        if (rc && out) {
            berth__supervisor__v1__content_info__free_unpacked(*out, NULL);
            *out = NULL;
        }
    }
done:
    metadata_abort(txn);
    if (current)
        berth__supervisor__v1__content_info__free_unpacked(current, NULL);
    record_labels_free(entries, labels.count);
    label_set_clear(&labels);
    return rc;
}

struct holder_search {
    const char *digest;
    const char *except_namespace;
    bool found;
};

/* Visits "NS/DIGEST" keys of every namespace. */
static int find_holder(const char *key, const void *data, size_t size, void *user)
{
    struct holder_search *search = user;
    const char *slash = strchr(key, '/');

    (void)data, (void)size;
    if (!slash || strcmp(slash + 1, search->digest) != 0)
        return 0;
    if (search->except_namespace && strlen(search->except_namespace) == (size_t)(slash - key) &&
        strncmp(key, search->except_namespace, (size_t)(slash - key)) == 0)
        return 0;
    search->found = true;
    return 1;
}

int content_store_delete(struct content_store *store, const char *namespace, const char *digest,
                         struct berr *err)
{
    struct holder_search search = {digest, namespace, false};
    struct metadata_txn *txn = NULL;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_digest(digest, err)))
        return rc;
    content_store_lock_blobs(store);
    if ((rc = metadata_begin(store->metadata, true, &txn, err)))
        goto done;
    if ((rc = metadata_delete(txn, METADATA_CONTENT, namespace, digest, NULL))) {
        rc = berr_set(err, rc, "content %s %s", digest,
                      rc == BERR_NOT_FOUND ? "not found" : "cannot be deleted");
        goto done;
    }
    /* Another namespace's record keeps the file. */
    rc = metadata_list_all(txn, METADATA_CONTENT, find_holder, &search, err);
    if (rc && !search.found)
        goto done;
    rc = metadata_commit(txn, err);
    txn = NULL;
    if (rc == 0 && !search.found && unlinkat(store->blobs_fd, digest_hex(digest), 0) == 0)
        fsync(store->blobs_fd);
done:
    metadata_abort(txn);
    content_store_unlock_blobs(store);
    return rc;
}

/* ---- reading ---- */

static int open_blob(struct content_store *store, const char *digest, struct content_reader **out,
                     struct berr *err)
{
    struct content_reader *reader = calloc(1, sizeof(*reader));
    struct stat info;

    if (!reader)
        return berr_set(err, BERR_NOMEM, "content %s: out of memory", digest);
    reader->fd = openat(store->blobs_fd, digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (reader->fd < 0 || fstat(reader->fd, &info) < 0) {
        int rc = berr_errno(err, errno, "content %s: open blob", digest);
        if (reader->fd >= 0)
            close(reader->fd);
        free(reader);
        return rc;
    }
    reader->size = info.st_size;
    snprintf(reader->digest, sizeof(reader->digest), "%s", digest);
    *out = reader;
    return 0;
}

int content_reader_open(struct content_store *store, const char *namespace, const char *digest,
                        struct content_reader **out, struct berr *err)
{
    struct metadata_txn *txn;
    struct metadata_value value;
    int rc;

    if ((rc = check_namespace(namespace, err)) || (rc = check_digest(digest, err)))
        return rc;
    if ((rc = metadata_begin(store->metadata, false, &txn, err)))
        return rc;
    rc = metadata_get(txn, METADATA_CONTENT, namespace, digest, &value, NULL);
    metadata_abort(txn);
    if (rc)
        return berr_set(err, rc, "content %s %s", digest,
                        rc == BERR_NOT_FOUND ? "not found" : "cannot be read");
    return open_blob(store, digest, out, err);
}

int64_t content_reader_size(const struct content_reader *reader)
{
    return reader->size;
}

int content_reader_read_at(struct content_reader *reader, int64_t offset, void *buffer, size_t size,
                           size_t *read_out, struct berr *err)
{
    size_t done = 0;

    if (offset < 0)
        return berr_set(err, BERR_INVALID, "content %s: negative offset", reader->digest);
    while (done < size) {
        ssize_t got = pread(reader->fd, (char *)buffer + done, size - done, offset + (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return berr_errno(err, errno, "content %s: read at %" PRId64, reader->digest, offset);
        if (got == 0)
            break;
        done += (size_t)got;
    }
    *read_out = done;
    return 0;
}

void content_reader_close(struct content_reader *reader)
{
    if (!reader)
        return;
    close(reader->fd);
    free(reader);
}

int content_store_open_fd(struct content_store *store, const char *namespace, const char *digest,
                          int *fd_out, struct berr *err)
{
    struct content_reader *reader;
    int rc = content_reader_open(store, namespace, digest, &reader, err);

    if (rc)
        return rc;
    *fd_out = reader->fd;
    free(reader);
    return 0;
}

static int read_whole(struct content_reader *reader, size_t max_size, char **data, size_t *size,
                      struct berr *err)
{
    char *buffer;
    size_t got;
    int rc;

    if (reader->size < 0 || (uint64_t)reader->size > max_size)
        return berr_set(err, BERR_INVALID, "content %s: %" PRId64 " bytes, more than %zu allowed",
                        reader->digest, reader->size, max_size);
    buffer = malloc((size_t)reader->size + 1);
    if (!buffer)
        return berr_set(err, BERR_NOMEM, "content %s: out of memory", reader->digest);
    if ((rc = content_reader_read_at(reader, 0, buffer, (size_t)reader->size, &got, err))) {
        free(buffer);
        return rc;
    }
    buffer[got] = '\0';
    *data = buffer;
    *size = got;
    return 0;
}

int content_store_read_all(struct content_store *store, const char *namespace, const char *digest,
                           size_t max_size, char **data, size_t *size, struct berr *err)
{
    struct content_reader *reader;
    int rc = content_reader_open(store, namespace, digest, &reader, err);

    if (rc)
        return rc;
    rc = read_whole(reader, max_size, data, size, err);
    content_reader_close(reader);
    return rc;
}

int content_store_read_any(struct content_store *store, const char *digest, size_t max_size,
                           char **data, size_t *size, struct berr *err)
{
    struct content_reader *reader;
    int rc;

    if ((rc = check_digest(digest, err)) || (rc = open_blob(store, digest, &reader, err)))
        return rc;
    rc = read_whole(reader, max_size, data, size, err);
    content_reader_close(reader);
    return rc;
}

/* ---- writing ---- */

static int parse_timespec(const char *text, struct timespec *out)
{
    long long seconds = 0;
    long nanoseconds = 0;

    if (sscanf(text, "%lld.%ld", &seconds, &nanoseconds) < 1)
        return -1;
    out->tv_sec = (time_t)seconds;
    out->tv_nsec = nanoseconds;
    return 0;
}

/* Fills a status from an ingest directory on disk; -1 if it is not a whole ingest. */
static int load_status(int directory_fd, struct content_status *out, char *ref_buffer,
                       size_t ref_size)
{
    char text[SMALL_FILE];
    struct stat info;

    memset(out, 0, sizeof(*out));
    if (read_small_file(directory_fd, "ref", ref_buffer, ref_size) < 0 ||
        read_small_file(directory_fd, "started", text, sizeof(text)) < 0 ||
        parse_timespec(text, &out->started) < 0 ||
        fstatat(directory_fd, "data", &info, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(info.st_mode))
        return -1;
    out->offset = info.st_size;
    out->updated = info.st_mtim;
    if (read_small_file(directory_fd, "total", text, sizeof(text)) == 0)
        out->total = strtoll(text, NULL, 10);
    if (read_small_file(directory_fd, "expected", text, sizeof(text)) == 0 && digest_is_valid(text))
        snprintf(out->expected, sizeof(out->expected), "%s", text);
    return 0;
}

/* Hashes data[0, offset) again: a resumed ingest, or after a failed commit. */
static int rehash(struct content_writer *writer, struct berr *err)
{
    char *buffer;
    int64_t position = 0;
    int rc;

    if (writer->hash_valid)
        return 0;
    if ((rc = digest_sha256_init(&writer->hash, err)))
        return rc;
    buffer = malloc(CHUNK_SIZE);
    if (!buffer) {
        digest_sha256_abort(&writer->hash);
        return berr_set(err, BERR_NOMEM, "ref %s: out of memory", writer->key);
    }
    while (position < writer->offset) {
        size_t want = (size_t)(writer->offset - position) < CHUNK_SIZE
                          ? (size_t)(writer->offset - position)
                          : CHUNK_SIZE;
        ssize_t got = pread(writer->data_fd, buffer, want, position);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            rc = got < 0 ? berr_errno(err, errno, "ref %s: read ingest data", writer->key)
                         : berr_set(err, BERR_IO, "ref %s: ingest data shrank", writer->key);
            free(buffer);
            digest_sha256_abort(&writer->hash);
            return rc;
        }
        digest_sha256_update(&writer->hash, buffer, (size_t)got);
        position += got;
    }
    free(buffer);
    writer->hash_valid = true;
    return 0;
}

static int record_expectations(struct content_writer *writer, int64_t total, const char *expected,
                               struct berr *err)
{
    char text[32];
    int rc;

    if (total > 0 && total != writer->total) {
        snprintf(text, sizeof(text), "%" PRId64, total);
        if ((rc = write_small_file(writer->directory_fd, "total", text, err)))
            return rc;
        writer->total = total;
    }
    if (expected && expected[0] && strcmp(expected, writer->expected) != 0) {
        if ((rc = write_small_file(writer->directory_fd, "expected", expected, err)))
            return rc;
        snprintf(writer->expected, sizeof(writer->expected), "%s", expected);
    }
    return 0;
}

/* A new ingest directory with its files; on failure nothing is left. */
static int create_ingest(struct content_writer *writer, struct berr *err)
{
    struct content_store *store = writer->store;
    char text[64];
    int rc;

    if (mkdirat(store->ingest_fd, writer->name, 0700) < 0)
        return berr_errno(err, errno, "ref %s: create ingest", writer->key);
    writer->directory_fd =
        openat(store->ingest_fd, writer->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (writer->directory_fd < 0) {
        rc = berr_errno(err, errno, "ref %s: open ingest", writer->key);
        goto fail;
    }
    timespec_now(&writer->started);
    writer->updated = writer->started;
    snprintf(text, sizeof(text), "%lld.%09ld", (long long)writer->started.tv_sec,
             writer->started.tv_nsec);
    if ((rc = write_small_file(writer->directory_fd, "ref", writer->key, err)) ||
        (rc = write_small_file(writer->directory_fd, "started", text, err)))
        goto fail;
    writer->data_fd = openat(writer->directory_fd, "data",
                             O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (writer->data_fd < 0) {
        rc = berr_errno(err, errno, "ref %s: create ingest data", writer->key);
        goto fail;
    }
    return 0;
fail:
    if (writer->directory_fd >= 0)
        close(writer->directory_fd);
    writer->directory_fd = -1;
    remove_ingest(store, writer->name);
    return rc;
}

/* Reopens an existing ingest; ABSENT when it is not a whole one (then it is removed). */
static int resume_ingest(struct content_writer *writer, struct berr *err)
{
    struct content_status status;
    char ref[KEY_MAX + 1];
    struct stat info;

    writer->directory_fd = openat(writer->store->ingest_fd, writer->name,
                                  O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (writer->directory_fd < 0)
        return berr_errno(err, errno, "ref %s: open ingest", writer->key);
    if (load_status(writer->directory_fd, &status, ref, sizeof(ref)) < 0 ||
        strcmp(ref, writer->key) != 0) {
        close(writer->directory_fd);
        writer->directory_fd = -1;
        remove_ingest(writer->store, writer->name);
        return ABSENT;
    }
    writer->data_fd = openat(writer->directory_fd, "data", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (writer->data_fd < 0 || fstat(writer->data_fd, &info) < 0)
        return berr_errno(err, errno, "ref %s: open ingest data", writer->key);
    writer->offset = info.st_size;
    writer->total = status.total;
    writer->started = status.started;
    writer->updated = info.st_mtim;
    snprintf(writer->expected, sizeof(writer->expected), "%s", status.expected);
    return 0;
}

static void writer_free(struct content_writer *writer)
{
    if (writer->hash_valid)
        digest_sha256_abort(&writer->hash);
    if (writer->data_fd >= 0)
        close(writer->data_fd);
    if (writer->directory_fd >= 0)
        close(writer->directory_fd);
    release_ref(writer->store, writer->key);
    free(writer->namespace);
    free(writer->ref);
    free(writer);
}

int content_writer_open(struct content_store *store, const char *namespace, const char *ref,
                        int64_t total, const char *expected, struct content_writer **out,
                        struct berr *err)
{
    struct content_writer *writer;
    char key[KEY_MAX];
    int rc;

    if ((rc = make_key(key, namespace, ref, err)))
        return rc;
    if (expected && expected[0] && (rc = check_digest(expected, err)))
        return rc;
    if (total < 0)
        return berr_set(err, BERR_INVALID, "ref %s: negative total", key);
    if ((rc = hold_ref(store, key, err)))
        return rc;
    writer = calloc(1, sizeof(*writer));
    if (!writer) {
        release_ref(store, key);
        return berr_set(err, BERR_NOMEM, "ref %s: out of memory", key);
    }
    writer->store = store;
    writer->directory_fd = writer->data_fd = -1;
    memcpy(writer->key, key, sizeof(key));
    writer->namespace = strdup(namespace);
    writer->ref = strdup(ref);
    if (!writer->namespace || !writer->ref) {
        rc = berr_set(err, BERR_NOMEM, "ref %s: out of memory", key);
        goto fail;
    }
    if ((rc = ingest_name(key, writer->name, err)))
        goto fail;
    rc = ABSENT;
    if (faccessat(store->ingest_fd, writer->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        rc = resume_ingest(writer, err);
    if (rc == ABSENT)
        rc = create_ingest(writer, err);
    if (rc)
        goto fail;
    if ((rc = record_expectations(writer, total, expected, err)) || (rc = rehash(writer, err)))
        goto fail;
    *out = writer;
    return 0;
fail:
    writer_free(writer);
    return rc;
}

void content_writer_status(const struct content_writer *writer, struct content_status *out)
{
    memset(out, 0, sizeof(*out));
    out->ref = writer->ref;
    out->offset = writer->offset;
    out->total = writer->total;
    snprintf(out->expected, sizeof(out->expected), "%s", writer->expected);
    out->started = writer->started;
    out->updated = writer->updated;
}

int content_writer_write(struct content_writer *writer, int64_t offset, const void *data,
                         size_t size, struct berr *err)
{
    size_t done = 0;
    int rc;

    if (writer->done)
        return berr_set(err, BERR_CONFLICT, "ref %s: already committed", writer->key);
    if (offset != writer->offset)
        return berr_set(err, BERR_INVALID,
                        "ref %s: write at offset %" PRId64 ", but %" PRId64 " bytes are written",
                        writer->key, offset, writer->offset);
    if (writer->total > 0 && writer->offset + (int64_t)size > writer->total)
        return berr_set(err, BERR_INVALID,
                        "ref %s: %" PRId64 " bytes, more than the total %" PRId64, writer->key,
                        writer->offset + (int64_t)size, writer->total);
    if ((rc = rehash(writer, err)))
        return rc;
    while (done < size) {
        ssize_t written =
            pwrite(writer->data_fd, (const char *)data + done, size - done, offset + (off_t)done);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0) {
            int saved = errno;
            /* Undo the partial write so data and hash stay in step. */
            if (ftruncate(writer->data_fd, offset) < 0)
                writer->hash_valid = false;
            return berr_errno(err, saved, "ref %s: write", writer->key);
        }
        done += (size_t)written;
    }
    digest_sha256_update(&writer->hash, data, size);
    writer->offset += (int64_t)size;
    timespec_now(&writer->updated);
    return 0;
}

/* Builds and stores the record (and the lease resource) of a committed blob. */
static int put_record(struct metadata_txn *txn, const char *namespace, const char *digest,
                      int64_t size, const struct content_commit_options *options, struct berr *err)
{
    Berth__Supervisor__V1__ContentInfo info = BERTH__SUPERVISOR__V1__CONTENT_INFO__INIT;
    Berth__Supervisor__V1__Timestamp now = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    struct label_set labels = {0};
    ProtobufCMessage **entries = NULL;
    size_t i;
    int rc = 0;

    for (i = 0; options && i < options->label_count && rc == 0; i++)
        rc = label_set_put(&labels, options->labels[i].key, options->labels[i].value, err);
    if (rc == 0)
        rc = record_labels_build(
            &labels, &berth__supervisor__v1__content_info__labels_entry__descriptor, &entries, err);
    if (rc == 0) {
        record_now(&now);
        info.digest = (char *)digest;
        info.size = size;
        info.created_at = &now;
        info.updated_at = &now;
        info.n_labels = labels.count;
        info.labels = (Berth__Supervisor__V1__ContentInfo__LabelsEntry **)entries;
        rc = record_put(txn, METADATA_CONTENT, namespace, digest, &info.base, err);
    }
    record_labels_free(entries, labels.count);
    label_set_clear(&labels);
    return rc;
}

/* The record and the rename as one step. BERR_EXISTS when the namespace had it. */
static int publish(struct content_writer *writer, const char *digest,
                   const struct content_commit_options *options, struct berr *err)
{
    struct content_store *store = writer->store;
    const char *lease = options ? options->lease : NULL;
    struct metadata_txn *txn = NULL;
    struct metadata_value existing;
    bool renamed = false;
    int rc;

    content_store_lock_blobs(store);
    if ((rc = metadata_begin(store->metadata, true, &txn, err)))
        goto done;
    if (lease && (rc = leases_add_resource_txn(txn, writer->namespace, lease,
                                               LEASE_RESOURCE_CONTENT, digest, err)))
        goto done;
    if (metadata_get(txn, METADATA_CONTENT, writer->namespace, digest, &existing, NULL) == 0) {
        if ((rc = metadata_commit(txn, err)) == 0)
            rc = berr_set(err, BERR_EXISTS, "content %s already exists", digest);
        txn = NULL;
        goto done;
    }
    if (faccessat(store->blobs_fd, digest_hex(digest), F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
        if (renameat(writer->directory_fd, "data", store->blobs_fd, digest_hex(digest)) < 0) {
            rc = berr_errno(err, errno, "ref %s: move %s into the store", writer->key, digest);
            goto done;
        }
        renamed = true;
        if (fsync(store->blobs_fd) < 0) {
            rc = berr_errno(err, errno, "ref %s: sync blobs", writer->key);
            goto done;
        }
    }
    if ((rc = put_record(txn, writer->namespace, digest, writer->offset, options, err)))
        goto done;
    rc = metadata_commit(txn, err);
    txn = NULL;
done:
    metadata_abort(txn);
    if (rc && rc != BERR_EXISTS && renamed) /* give the data back to the ingest */
        renameat(store->blobs_fd, digest_hex(digest), writer->directory_fd, "data");
    content_store_unlock_blobs(store);
    return rc;
}

int content_writer_commit(struct content_writer *writer, int64_t size, const char *expected,
                          const struct content_commit_options *options,
                          char digest_out[DIGEST_STRING_SIZE], struct berr *err)
{
    char digest[DIGEST_STRING_SIZE];
    size_t i;
    int rc;

    if (writer->done)
        return berr_set(err, BERR_CONFLICT, "ref %s: already committed", writer->key);
    if (!expected || !expected[0])
        expected = writer->expected[0] ? writer->expected : NULL;
    if (expected && (rc = check_digest(expected, err)))
        return rc;
    if (size <= 0)
        size = writer->total;
    for (i = 0; options && i < options->label_count; i++)
        if ((rc = label_validate(options->labels[i].key, options->labels[i].value, err)))
            return rc;
    if (size > 0 && size != writer->offset)
        return berr_set(err, BERR_INVALID,
                        "ref %s: size mismatch: %" PRId64 " bytes written, %" PRId64 " expected",
                        writer->key, writer->offset, size);
    if ((rc = rehash(writer, err)))
        return rc;
    digest_sha256_final(&writer->hash, digest);
    writer->hash_valid = false; /* final consumed it; rehash if the ingest goes on */
    if (expected && strcmp(expected, digest) != 0)
        return berr_set(err, BERR_INVALID, "ref %s: digest mismatch: got %s, expected %s",
                        writer->key, digest, expected);
    if (fdatasync(writer->data_fd) < 0 || fchmod(writer->data_fd, 0444) < 0)
        return berr_errno(err, errno, "ref %s: sync data", writer->key);
    rc = publish(writer, digest, options, err);
    if (rc && rc != BERR_EXISTS) {
        fchmod(writer->data_fd, 0644);
        return rc;
    }
    writer->done = true;
    close(writer->directory_fd);
    writer->directory_fd = -1;
    remove_ingest(writer->store, writer->name);
    if (digest_out)
        memcpy(digest_out, digest, DIGEST_STRING_SIZE);
    return rc;
}

void content_writer_close(struct content_writer *writer)
{
    if (writer)
        writer_free(writer);
}

void content_writer_abort(struct content_writer *writer)
{
    if (!writer)
        return;
    if (!writer->done) {
        if (writer->directory_fd >= 0)
            close(writer->directory_fd);
        writer->directory_fd = -1;
        remove_ingest(writer->store, writer->name);
    }
    writer_free(writer);
}

/* ---- ingests by ref ---- */

int content_store_status(struct content_store *store, const char *namespace, const char *ref,
                         struct content_status *out, struct berr *err)
{
    char key[KEY_MAX], name[DIGEST_STRING_SIZE], stored_ref[KEY_MAX + 1];
    int directory_fd, rc;

    if ((rc = make_key(key, namespace, ref, err)) || (rc = ingest_name(key, name, err)))
        return rc;
    directory_fd = openat(store->ingest_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (directory_fd < 0)
        return berr_set(err, BERR_NOT_FOUND, "ref %s not found", key);
    rc = load_status(directory_fd, out, stored_ref, sizeof(stored_ref));
    close(directory_fd);
    if (rc < 0 || strcmp(stored_ref, key) != 0)
        return berr_set(err, BERR_NOT_FOUND, "ref %s not found", key);
    out->ref = ref;
    return 0;
}

static const char *status_field(const char *field, void *object)
{
    const struct content_status *status = object;

    if (strcmp(field, "ref") == 0)
        return status->ref;
    if (strcmp(field, "expected") == 0)
        return status->expected[0] ? status->expected : NULL;
    return NULL;
}

int content_store_list_statuses(struct content_store *store, const char *namespace,
                                const char *const *filters, size_t filter_count,
                                content_status_visit visit, void *user, struct berr *err)
{
    struct filter *filter = NULL;
    size_t prefix_length;
    struct dirent *entry;
    DIR *listing;
    int listing_fd, rc;

    if ((rc = check_namespace(namespace, err)) ||
        (rc = filter_parse(filters, filter_count, &filter, err)))
        return rc;
    prefix_length = strlen(namespace);
    listing_fd = openat(store->ingest_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (listing_fd < 0 || !(listing = fdopendir(listing_fd))) {
        rc = berr_errno(err, errno, "list ingests");
        if (listing_fd >= 0)
            close(listing_fd);
        filter_free(filter);
        return rc;
    }
    while (rc == 0 && (entry = readdir(listing))) {
        struct content_status status;
        char stored_ref[KEY_MAX + 1];
        int directory_fd;
        if (entry->d_name[0] == '.')
            continue;
        directory_fd = openat(store->ingest_fd, entry->d_name,
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (directory_fd < 0)
            continue;
        if (load_status(directory_fd, &status, stored_ref, sizeof(stored_ref)) == 0 &&
            strncmp(stored_ref, namespace, prefix_length) == 0 &&
            stored_ref[prefix_length] == '/') {
            status.ref = stored_ref + prefix_length + 1;
            if (filter_match(filter, status_field, &status))
                rc = visit(&status, user);
        }
        close(directory_fd);
    }
    closedir(listing);
    filter_free(filter);
    return rc;
}

int content_store_abort(struct content_store *store, const char *namespace, const char *ref,
                        struct berr *err)
{
    struct content_status status;
    char key[KEY_MAX], name[DIGEST_STRING_SIZE];
    int rc;

    if ((rc = make_key(key, namespace, ref, err)) || (rc = ingest_name(key, name, err)))
        return rc;
    if ((rc = hold_ref(store, key, err)))
        return rc;
    rc = content_store_status(store, namespace, ref, &status, err);
    if (rc == 0 || faccessat(store->ingest_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        remove_ingest(store, name);
        rc = 0;
    }
    release_ref(store, key);
    return rc;
}

/* ---- one-call commits ---- */

/* A private ref for one-call commits. */
static void private_ref(char *out, size_t size)
{
    unsigned char random[12] = {0};
    size_t i, length;

    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
        struct timespec now;
        timespec_now(&now);
        memcpy(random, &now, sizeof(random) < sizeof(now) ? sizeof(random) : sizeof(now));
    }
    length = (size_t)snprintf(out, size, "berth-commit-");
    for (i = 0; i < sizeof(random) && length + 2 < size; i++)
        length += (size_t)snprintf(out + length, size - length, "%02x", random[i]);
}

/* When expected is known and the namespace has it: add the lease, skip the data
 * (BERR_EXISTS). ABSENT when the data must be written. */
static int commit_if_present(struct content_store *store, const char *namespace,
                             const char *expected, const struct content_commit_options *options,
                             char digest_out[DIGEST_STRING_SIZE], struct berr *err)
{
    struct metadata_txn *txn;
    struct metadata_value existing;
    int rc;

    if (!expected || !expected[0])
        return ABSENT;
    if ((rc = check_digest(expected, err)))
        return rc;
    if ((rc = metadata_begin(store->metadata, options && options->lease, &txn, err)))
        return rc;
    if (metadata_get(txn, METADATA_CONTENT, namespace, expected, &existing, NULL) != 0) {
        metadata_abort(txn);
        return ABSENT;
    }
    if (options && options->lease) {
        if ((rc = leases_add_resource_txn(txn, namespace, options->lease, LEASE_RESOURCE_CONTENT,
                                          expected, err))) {
            metadata_abort(txn);
            return rc;
        }
        if ((rc = metadata_commit(txn, err)))
            return rc;
    } else {
        metadata_abort(txn);
    }
    if (digest_out)
        snprintf(digest_out, DIGEST_STRING_SIZE, "%s", expected);
    return berr_set(err, BERR_EXISTS, "content %s already exists", expected);
}

int content_store_commit_stream(struct content_store *store, const char *namespace,
                                content_read_fn read, void *user, int64_t size,
                                const char *expected, const struct content_commit_options *options,
                                char digest_out[DIGEST_STRING_SIZE], struct berr *err)
{
    struct content_writer *writer;
    char ref[64];
    char *buffer;
    int rc;

    if ((rc = check_namespace(namespace, err)))
        return rc;
    if ((rc = commit_if_present(store, namespace, expected, options, digest_out, err)) != ABSENT)
        return rc;
    buffer = malloc(CHUNK_SIZE);
    if (!buffer)
        return berr_set(err, BERR_NOMEM, "commit: out of memory");
    private_ref(ref, sizeof(ref));
    if ((rc = content_writer_open(store, namespace, ref, size > 0 ? size : 0, expected, &writer,
                                  err))) {
        free(buffer);
        return rc;
    }
    for (;;) {
        ssize_t got = read(user, buffer, CHUNK_SIZE, err);
        if (got < 0) {
            rc = err && err->code ? err->code : BERR_IO;
            break;
        }
        if (got == 0) {
            /* The writer reads size 0 as "unknown": check a known empty size here. */
            if (size == 0 && writer->offset != 0)
                rc = berr_set(err, BERR_INVALID,
                              "commit: size mismatch: %" PRId64 " bytes read, 0 expected",
                              writer->offset);
            else
                rc = content_writer_commit(writer, size, expected, options, digest_out, err);
            break;
        }
        if ((rc = content_writer_write(writer, writer->offset, buffer, (size_t)got, err)))
            break;
    }
    free(buffer);
    if (rc && rc != BERR_EXISTS)
        content_writer_abort(writer);
    else
        content_writer_close(writer);
    return rc;
}

struct buffer_source {
    const char *data;
    size_t size;
    size_t position;
};

static ssize_t read_buffer(void *user, void *buffer, size_t size, struct berr *err)
{
    struct buffer_source *source = user;
    size_t left = source->size - source->position;

    (void)err;
    if (size > left)
        size = left;
    memcpy(buffer, source->data + source->position, size);
    source->position += size;
    return (ssize_t)size;
}

int content_store_commit_buffer(struct content_store *store, const char *namespace,
                                const void *data, size_t size, const char *expected,
                                const struct content_commit_options *options,
                                char digest_out[DIGEST_STRING_SIZE], struct berr *err)
{
    struct buffer_source source = {data, size, 0};

    return content_store_commit_stream(store, namespace, read_buffer, &source, (int64_t)size,
                                       expected, options, digest_out, err);
}

static ssize_t read_fd(void *user, void *buffer, size_t size, struct berr *err)
{
    int fd = *(int *)user;

    for (;;) {
        ssize_t got = read(fd, buffer, size);
        if (got >= 0)
            return got;
        if (errno != EINTR) {
            berr_errno(err, errno, "commit: read");
            return -1;
        }
    }
}

int content_store_commit_fd(struct content_store *store, const char *namespace, int fd,
                            int64_t size, const char *expected,
                            const struct content_commit_options *options,
                            char digest_out[DIGEST_STRING_SIZE], struct berr *err)
{
    return content_store_commit_stream(store, namespace, read_fd, &fd, size, expected, options,
                                       digest_out, err);
}

/* ---- for the collector ---- */

static bool hex_name(const char *name)
{
    size_t i;

    for (i = 0; i < DIGEST_SHA256_HEX_LEN; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return name[DIGEST_SHA256_HEX_LEN] == '\0';
}

int content_store_sweep_files(struct content_store *store, content_keep_fn keep, void *user,
                              int64_t *removed, int64_t *freed_bytes, struct berr *err)
{
    struct dirent *entry;
    DIR *listing;
    int listing_fd = openat(store->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool changed = false;

    if (listing_fd < 0 || !(listing = fdopendir(listing_fd))) {
        int rc = berr_errno(err, errno, "list blobs");
        if (listing_fd >= 0)
            close(listing_fd);
        return rc;
    }
    while ((entry = readdir(listing))) {
        char digest[DIGEST_STRING_SIZE];
        struct stat info;
        if (!hex_name(entry->d_name))
            continue;
        snprintf(digest, sizeof(digest), "%s%s", DIGEST_SHA256_PREFIX, entry->d_name);
        if (keep(digest, user))
            continue;
        if (fstatat(store->blobs_fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (unlinkat(store->blobs_fd, entry->d_name, 0) == 0) {
            changed = true;
            if (removed)
                (*removed)++;
            if (freed_bytes)
                *freed_bytes += info.st_size;
        }
    }
    closedir(listing);
    if (changed)
        fsync(store->blobs_fd);
    return 0;
}
