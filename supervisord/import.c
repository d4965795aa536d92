/*
 * import: see import.h. One run: load (tar stream or directory) → plan the
 * images (names, targets, synthesised manifests) → check each is complete →
 * record them → drop the lease and collect what was added but not used.
 */
#include "import.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "leases.h"
#include "record.h"
#include "safe_path.h"

#define IMPORT_JSON_MAX     (8u << 20) /* index.json, manifest.json */
#define IMPORT_PATH_MAX     1024
#define IMPORT_LEASE_EXPIRY (24 * 60 * 60)
#define IMPORT_DEPTH_MAX    4
#define ARCHIVE_BLOCK       (64 * 1024)
/* "Not there" from helpers that otherwise return 0 or a berr code (never negative). */
#define ABSENT (-1)

struct blob_entry {
    char *path; /* as in the archive, cleaned */
    char digest[DIGEST_STRING_SIZE];
};

struct alias {
    char *path;
    char *target;
};

struct pending_image {
    char *name;
    char *media_type;
    char digest[DIGEST_STRING_SIZE];
    int64_t size;
};

struct import_run {
    const struct import_context *context;
    const char *namespace;
    const struct import_options *options;
    char lease[64];
    size_t blob_count;
    struct blob_entry *blobs;
    size_t alias_count;
    struct alias *aliases;
    size_t added_count;
    char **added; /* digests this import added to the namespace */
    char *index_json;
    size_t index_size;
    char *manifest_json;
    size_t manifest_size;
    char *layout_json;
    size_t layout_size;
    size_t pending_count;
    struct pending_image *pending;
};

/* ---- bookkeeping ---- */

static int oom(struct berr *err)
{
    return berr_set(err, BERR_NOMEM, "import: out of memory");
}

static int remember_added(struct import_run *run, const char *digest, struct berr *err)
{
    char **added = realloc(run->added, (run->added_count + 1) * sizeof(*added));

    if (!added)
        return oom(err);
    run->added = added;
    if (!(added[run->added_count] = strdup(digest)))
        return oom(err);
    run->added_count++;
    return 0;
}

static int remember_blob(struct import_run *run, const char *path, const char *digest,
                         struct berr *err)
{
    struct blob_entry *blobs = realloc(run->blobs, (run->blob_count + 1) * sizeof(*blobs));

    if (!blobs)
        return oom(err);
    run->blobs = blobs;
    if (!(blobs[run->blob_count].path = strdup(path)))
        return oom(err);
    snprintf(blobs[run->blob_count].digest, DIGEST_STRING_SIZE, "%s", digest);
    run->blob_count++;
    return 0;
}

/* The digest of the file at path (following a legacy layer alias); NULL if absent. */
static const char *find_blob(const struct import_run *run, const char *path)
{
    size_t i, j;

    for (i = run->blob_count; i-- > 0;)
        if (strcmp(run->blobs[i].path, path) == 0)
            return run->blobs[i].digest;
    for (j = 0; j < run->alias_count; j++)
        if (strcmp(run->aliases[j].path, path) == 0)
            for (i = run->blob_count; i-- > 0;)
                if (strcmp(run->blobs[i].path, run->aliases[j].target) == 0)
                    return run->blobs[i].digest;
    return NULL;
}

static void run_free(struct import_run *run)
{
    size_t i;

    for (i = 0; i < run->blob_count; i++)
        free(run->blobs[i].path);
    free(run->blobs);
    for (i = 0; i < run->alias_count; i++) {
        free(run->aliases[i].path);
        free(run->aliases[i].target);
    }
    free(run->aliases);
    for (i = 0; i < run->added_count; i++)
        free(run->added[i]);
    free(run->added);
    for (i = 0; i < run->pending_count; i++) {
        free(run->pending[i].name);
        free(run->pending[i].media_type);
    }
    free(run->pending);
    free(run->index_json);
    free(run->manifest_json);
    free(run->layout_json);
}

void import_result_clear(struct import_result *result)
{
    size_t i;

    if (!result)
        return;
    for (i = 0; i < result->image_count; i++)
        berth__supervisor__v1__image__free_unpacked(result->images[i], NULL);
    free(result->images);
    memset(result, 0, sizeof(*result));
}

/* ---- paths ---- */

static bool is_hex(const char *text, size_t length)
{
    size_t i;

    for (i = 0; i < length; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return false;
    return true;
}

/* Normalises an archive path ("./a//b/" → "a/b"); BERR_INVALID for absolute
 * paths and ".." components. */
static int clean_path(const char *raw, char *out, size_t size, struct berr *err)
{
    const char *cursor = raw;
    size_t length = 0;

    if (!raw)
        return berr_set(err, BERR_INVALID, "import: archive entry without a name");
    if (raw[0] == '/')
        return berr_set(err, BERR_INVALID, "import: refusing absolute path %.200s in archive", raw);
    while (*cursor) {
        const char *end = strchr(cursor, '/');
        size_t component = end ? (size_t)(end - cursor) : strlen(cursor);
        if (component == 2 && cursor[0] == '.' && cursor[1] == '.')
            return berr_set(err, BERR_INVALID, "import: refusing path %.200s with \"..\"", raw);
        if (component > 0 && !(component == 1 && cursor[0] == '.')) {
            if (length + component + 2 > size)
                return berr_set(err, BERR_INVALID, "import: path %.64s... too long", raw);
            if (length)
                out[length++] = '/';
            memcpy(out + length, cursor, component);
            length += component;
        }
        cursor += component;
        if (*cursor == '/')
            cursor++;
    }
    out[length] = '\0';
    return 0;
}

/* The digest a file's name promises: blobs/sha256/<hex> or legacy <hex>.json. */
static bool digest_from_path(const char *path, char out[DIGEST_STRING_SIZE])
{
    const char *hex = NULL;

    if (strncmp(path, "blobs/sha256/", 13) == 0 && strlen(path + 13) == DIGEST_SHA256_HEX_LEN)
        hex = path + 13;
    else if (strlen(path) == DIGEST_SHA256_HEX_LEN + 5 && !strchr(path, '/') &&
             strcmp(path + DIGEST_SHA256_HEX_LEN, ".json") == 0)
        hex = path;
    if (!hex || !is_hex(hex, DIGEST_SHA256_HEX_LEN))
        return false;
    snprintf(out, DIGEST_STRING_SIZE, "%s%.*s", DIGEST_SHA256_PREFIX, DIGEST_SHA256_HEX_LEN, hex);
    return true;
}

/* "<64 hex>/layer.tar" */
static bool legacy_layer_path(const char *path)
{
    return strlen(path) == DIGEST_SHA256_HEX_LEN + 10 && is_hex(path, DIGEST_SHA256_HEX_LEN) &&
           strcmp(path + DIGEST_SHA256_HEX_LEN, "/layer.tar") == 0;
}

/* ---- committing ---- */

static int commit(struct import_run *run, const char *path, content_read_fn read, void *user,
                  int64_t size, struct berr *err)
{
    struct content_commit_options options = {.lease = run->lease};
    char expected[DIGEST_STRING_SIZE], digest[DIGEST_STRING_SIZE];
    bool named = digest_from_path(path, expected);
    int rc = content_store_commit_stream(run->context->content, run->namespace, read, user, size,
                                         named ? expected : NULL, &options, digest, err);

    if (rc == 0)
        rc = remember_added(run, digest, err);
    else if (rc == BERR_EXISTS)
        rc = 0;
    else {
        berr_prefix(err, "import %s", path);
        return rc;
    }
    return rc ? rc : remember_blob(run, path, digest, err);
}

static int commit_buffer(struct import_run *run, const void *data, size_t size,
                         char digest[DIGEST_STRING_SIZE], struct berr *err)
{
    struct content_commit_options options = {.lease = run->lease};
    int rc = content_store_commit_buffer(run->context->content, run->namespace, data, size, NULL,
                                         &options, digest, err);

    if (rc == 0)
        return remember_added(run, digest, err);
    return rc == BERR_EXISTS ? 0 : rc;
}

/* ---- tarballs ---- */

struct stream_source {
    import_read_fn read;
    void *user;
    struct berr err;
    bool failed;
};

static la_ssize_t stream_read(struct archive *archive, void *client, const void **buffer)
{
    struct stream_source *source = client;
    ssize_t got = source->read(source->user, buffer, &source->err);

    if (got < 0) {
        source->failed = true;
        if (!source->err.code)
            berr_set(&source->err, BERR_IO, "import: the stream failed");
        archive_set_error(archive, EIO, "%s", source->err.message);
        return -1;
    }
    return got;
}

/* An error from libarchive, or the stream's own when that is what failed. */
static int archive_failure(struct archive *archive, struct stream_source *source, const char *what,
                           struct berr *err)
{
    if (source && source->failed) {
        if (err)
            *err = source->err;
        return source->err.code;
    }
    return berr_set(err, BERR_INVALID, "import: %s: %s", what,
                    archive_error_string(archive) ? archive_error_string(archive)
                                                  : "malformed archive");
}

struct entry_source {
    struct archive *archive;
    struct stream_source *stream;
    const char *path;
};

static ssize_t read_entry(void *user, void *buffer, size_t size, struct berr *err)
{
    struct entry_source *source = user;
    la_ssize_t got = archive_read_data(source->archive, buffer, size);

    if (got < 0) {
        archive_failure(source->archive, source->stream, source->path, err);
        return -1;
    }
    return got;
}

static int read_small_entry(struct archive *archive, struct stream_source *stream, const char *path,
                            char **out, size_t *out_size, struct berr *err)
{
    size_t capacity = 4096, length = 0;
    char *data = malloc(capacity);

    if (!data)
        return oom(err);
    for (;;) {
        la_ssize_t got;
        if (length + 1 == capacity) {
            char *bigger;
            if (capacity > IMPORT_JSON_MAX) {
                free(data);
                return berr_set(err, BERR_INVALID, "import: %s is larger than %u bytes", path,
                                IMPORT_JSON_MAX);
            }
            bigger = realloc(data, capacity * 2);
            if (!bigger) {
                free(data);
                return oom(err);
            }
            data = bigger;
            capacity *= 2;
        }
        got = archive_read_data(archive, data + length, capacity - length - 1);
        if (got < 0) {
            free(data);
            return archive_failure(archive, stream, path, err);
        }
        if (got == 0)
            break;
        length += (size_t)got;
    }
    data[length] = '\0';
    free(*out); /* a later entry of the same name wins, as tar extraction does */
    *out = data;
    *out_size = length;
    return 0;
}

/* The legacy alias "<id>/layer.tar" → "../<id2>/layer.tar"; other links are hostile. */
static int accept_link(struct import_run *run, const char *path, const char *target,
                       struct berr *err)
{
    char joined[IMPORT_PATH_MAX], cleaned[IMPORT_PATH_MAX];
    struct alias *aliases;

    if (!legacy_layer_path(path) || !target || strncmp(target, "../", 3) != 0 ||
        !legacy_layer_path(target + 3))
        return berr_set(err, BERR_INVALID, "import: refusing link %.200s in archive", path);
    snprintf(joined, sizeof(joined), "%s", target + 3);
    if (clean_path(joined, cleaned, sizeof(cleaned), err))
        return err ? err->code : BERR_INVALID;
    aliases = realloc(run->aliases, (run->alias_count + 1) * sizeof(*aliases));
    if (!aliases)
        return oom(err);
    run->aliases = aliases;
    aliases[run->alias_count].path = strdup(path);
    aliases[run->alias_count].target = strdup(cleaned);
    if (!aliases[run->alias_count].path || !aliases[run->alias_count].target) {
        free(aliases[run->alias_count].path);
        free(aliases[run->alias_count].target);
        return oom(err);
    }
    run->alias_count++;
    return 0;
}

static int read_archive(struct import_run *run, struct archive *archive,
                        struct stream_source *stream, struct berr *err)
{
    struct archive_entry *entry;
    char path[IMPORT_PATH_MAX];
    int status, rc;

    while ((status = archive_read_next_header(archive, &entry)) != ARCHIVE_EOF) {
        mode_t type;
        if (status < ARCHIVE_WARN)
            return archive_failure(archive, stream, "read archive", err);
        if ((rc = clean_path(archive_entry_pathname(entry), path, sizeof(path), err)))
            return rc;
        type = archive_entry_filetype(entry);
        if (archive_entry_hardlink(entry))
            return berr_set(err, BERR_INVALID, "import: refusing hard link %.200s in archive",
                            path);
        if (type == AE_IFDIR || (type == AE_IFREG && !path[0]))
            continue;
        if (type == AE_IFLNK) {
            if ((rc = accept_link(run, path, archive_entry_symlink(entry), err)))
                return rc;
            continue;
        }
        if (type != AE_IFREG)
            return berr_set(err, BERR_INVALID, "import: refusing special file %.200s in archive",
                            path);
        if (strcmp(path, "index.json") == 0)
            rc = read_small_entry(archive, stream, path, &run->index_json, &run->index_size, err);
        else if (strcmp(path, "manifest.json") == 0)
            rc = read_small_entry(archive, stream, path, &run->manifest_json, &run->manifest_size,
                                  err);
        else if (strcmp(path, "oci-layout") == 0)
            rc = read_small_entry(archive, stream, path, &run->layout_json, &run->layout_size, err);
        else if (strcmp(path, "repositories") == 0)
            rc = 0; /* manifest.json's RepoTags say the same */
        else {
            struct entry_source source = {archive, stream, path};
            rc = commit(run, path, read_entry, &source,
                        archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static struct archive *new_archive_reader(struct berr *err)
{
    struct archive *archive = archive_read_new();

    if (!archive) {
        oom(err);
        return NULL;
    }
    archive_read_support_format_tar(archive);
    archive_read_support_filter_gzip(archive);
    archive_read_support_filter_zstd(archive);
    archive_read_support_filter_xz(archive);
    archive_read_support_filter_bzip2(archive);
    return archive;
}

enum tar_source_kind {
    TAR_PATH,
    TAR_FD,
    TAR_STREAM,
};

struct tar_source {
    enum tar_source_kind kind;
    const char *path;
    int fd;
    struct stream_source stream;
};

static int load_tar(struct import_run *run, void *user, struct berr *err)
{
    struct tar_source *source = user;
    struct archive *archive = new_archive_reader(err);
    int status, rc;

    if (!archive)
        return BERR_NOMEM;
    if (source->kind == TAR_PATH)
        status = archive_read_open_filename(archive, source->path, ARCHIVE_BLOCK);
    else if (source->kind == TAR_FD)
        status = archive_read_open_fd(archive, source->fd, ARCHIVE_BLOCK);
    else
        status = archive_read_open(archive, &source->stream, NULL, stream_read, NULL);
    if (status != ARCHIVE_OK)
        rc = archive_failure(archive, source->kind == TAR_STREAM ? &source->stream : NULL,
                             "open archive", err);
    else
        rc = read_archive(run, archive, source->kind == TAR_STREAM ? &source->stream : NULL, err);
    archive_read_free(archive);
    return rc;
}

/* ---- directories ---- */

static int read_directory_file(int directory_fd, const char *name, char **out, size_t *size,
                               struct berr *err)
{
    struct stat info;
    ssize_t got;
    char *data;
    int fd = openat(directory_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return berr_errno(err, errno, "import: open %s", name);
    }
    if (fstat(fd, &info) < 0 || !S_ISREG(info.st_mode) || info.st_size > IMPORT_JSON_MAX) {
        close(fd);
        return berr_set(err, BERR_INVALID, "import: %s is not a file of at most %u bytes", name,
                        IMPORT_JSON_MAX);
    }
    data = malloc((size_t)info.st_size + 1);
    if (!data) {
        close(fd);
        return oom(err);
    }
    got = read(fd, data, (size_t)info.st_size);
    close(fd);
    if (got != info.st_size) {
        free(data);
        return berr_set(err, BERR_IO, "import: short read of %s", name);
    }
    data[got] = '\0';
    *out = data;
    *size = (size_t)got;
    return 0;
}

static ssize_t read_fd_source(void *user, void *buffer, size_t size, struct berr *err)
{
    int fd = *(int *)user;

    for (;;) {
        ssize_t got = read(fd, buffer, size);
        if (got >= 0)
            return got;
        if (errno != EINTR) {
            berr_errno(err, errno, "import: read");
            return -1;
        }
    }
}

/* Commits the file at path (relative, untrusted) inside the directory; ABSENT when it is not there.
 */
static int commit_directory_file(struct import_run *run, int directory_fd, const char *raw_path,
                                 struct berr *err)
{
    char path[IMPORT_PATH_MAX];
    struct stat info;
    int fd, rc;

    if ((rc = clean_path(raw_path, path, sizeof(path), err)))
        return rc;
    if (find_blob(run, path))
        return 0;
    rc = safe_path_open(directory_fd, path, O_RDONLY | O_CLOEXEC, 0, SAFE_PATH_BENEATH, &fd, err);
    if (rc == BERR_NOT_FOUND)
        return ABSENT;
    if (rc) {
        berr_prefix(err, "import");
        return rc;
    }
    if (fstat(fd, &info) < 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return berr_set(err, BERR_INVALID, "import: %s is not a regular file", path);
    }
    rc = commit(run, path, read_fd_source, &fd, info.st_size, err);
    close(fd);
    return rc;
}

/* Commits descriptor's blob from blobs/sha256/ and, for an index or
 * manifest, its children. Absent blobs are skipped: the completeness check
 * decides later whether they mattered. */
static int commit_directory_tree(struct import_run *run, int directory_fd,
                                 const struct image_descriptor *descriptor, bool leaf, int depth,
                                 struct berr *err)
{
    struct image_document *document;
    char path[128], *json;
    size_t size, i;
    int rc;

    if (depth > IMPORT_DEPTH_MAX)
        return berr_set(err, BERR_INVALID, "import: indexes nested too deep");
    snprintf(path, sizeof(path), "blobs/sha256/%s",
             descriptor->digest + sizeof(DIGEST_SHA256_PREFIX) - 1);
    if ((rc = commit_directory_file(run, directory_fd, path, err)))
        return rc == ABSENT ? 0 : rc;
    if (leaf)
        return 0;
    if ((rc = content_store_read_all(run->context->content, run->namespace, descriptor->digest,
                                     IMAGE_MANIFEST_MAX, &json, &size, err)))
        return rc;
    rc = image_document_parse(descriptor->media_type, json, size, &document, err);
    free(json);
    if (rc) {
        berr_prefix(err, "import %s", descriptor->digest);
        return rc;
    }
    for (i = 0; rc == 0 && i < document->manifest_count; i++)
        rc = commit_directory_tree(run, directory_fd, &document->manifests[i], false, depth + 1,
                                   err);
    if (rc == 0 && document->kind == IMAGE_DOCUMENT_MANIFEST) {
        rc = commit_directory_tree(run, directory_fd, &document->config, true, depth + 1, err);
        for (i = 0; rc == 0 && i < document->layer_count; i++)
            rc = commit_directory_tree(run, directory_fd, &document->layers[i], true, depth + 1,
                                       err);
    }
    image_document_free(document);
    return rc;
}

static int parse_manifest_json(const char *json, yajl_val *out, struct berr *err);

static int load_directory(struct import_run *run, void *user, struct berr *err)
{
    const char *path = user;
    struct image_document *index = NULL;
    yajl_val manifest = NULL;
    size_t i, j;
    int directory_fd, rc;

    directory_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0)
        return berr_errno(err, errno, "import: open %s", path);
    if ((rc = read_directory_file(directory_fd, "index.json", &run->index_json, &run->index_size,
                                  err)) ||
        (rc = read_directory_file(directory_fd, "manifest.json", &run->manifest_json,
                                  &run->manifest_size, err)) ||
        (rc = read_directory_file(directory_fd, "oci-layout", &run->layout_json, &run->layout_size,
                                  err)))
        goto done;
    if (run->index_json) {
        if ((rc = image_document_parse(IMAGE_MEDIA_OCI_INDEX, run->index_json, run->index_size,
                                       &index, err))) {
            berr_prefix(err, "import: index.json");
            goto done;
        }
        for (i = 0; rc == 0 && i < index->manifest_count; i++)
            rc = commit_directory_tree(run, directory_fd, &index->manifests[i], false, 1, err);
        if (rc)
            goto done;
    }
    if (run->manifest_json) {
        if ((rc = parse_manifest_json(run->manifest_json, &manifest, err)))
            goto done;
        for (i = 0; rc == 0 && i < manifest->u.array.len; i++) {
            yajl_val entry = manifest->u.array.values[i], config = json_get(entry, "Config"),
                     layers = json_get(entry, "Layers");
            if (YAJL_IS_STRING(config) &&
                (rc = commit_directory_file(run, directory_fd, YAJL_GET_STRING(config), err)) ==
                    ABSENT)
                rc = 0;
            for (j = 0; rc == 0 && YAJL_IS_ARRAY(layers) && j < layers->u.array.len; j++)
                if (YAJL_IS_STRING(layers->u.array.values[j]) &&
                    (rc = commit_directory_file(run, directory_fd,
                                                YAJL_GET_STRING(layers->u.array.values[j]), err)) ==
                        ABSENT)
                    rc = 0;
        }
    }
done:
    if (manifest)
        yajl_tree_free(manifest);
    image_document_free(index);
    close(directory_fd);
    return rc;
}

/* ---- planning the images ---- */

static int parse_manifest_json(const char *json, yajl_val *out, struct berr *err)
{
    yajl_val tree;
    size_t i;
    int rc = json_parse(json, &tree, err);

    if (rc) {
        berr_prefix(err, "import: manifest.json");
        return rc;
    }
    if (!YAJL_IS_ARRAY(tree)) {
        yajl_tree_free(tree);
        return berr_set(err, BERR_INVALID, "import: manifest.json is not an array");
    }
    for (i = 0; i < tree->u.array.len; i++) {
        yajl_val entry = tree->u.array.values[i];
        yajl_val config = json_get(entry, "Config"), layers = json_get(entry, "Layers"),
                 tags = json_get(entry, "RepoTags");
        if (!YAJL_IS_OBJECT(entry) || !YAJL_IS_STRING(config) ||
            (layers && !YAJL_IS_ARRAY(layers)) ||
            (tags && !YAJL_IS_NULL(tags) && !YAJL_IS_ARRAY(tags))) {
            yajl_tree_free(tree);
            return berr_set(err, BERR_INVALID,
                            "import: manifest.json entry %zu: expected Config, Layers, RepoTags",
                            i);
        }
    }
    *out = tree;
    return 0;
}

static bool pending_has(const struct import_run *run, const char *name)
{
    size_t i;

    for (i = 0; i < run->pending_count; i++)
        if (strcmp(run->pending[i].name, name) == 0)
            return true;
    return false;
}

/* Adds an image to create; a name already planned keeps its first target. */
static int plan(struct import_run *run, const char *name, const char *media_type,
                const char *digest, int64_t size, struct berr *err)
{
    struct pending_image *pending;

    if (pending_has(run, name))
        return 0;
    pending = realloc(run->pending, (run->pending_count + 1) * sizeof(*pending));
    if (!pending)
        return oom(err);
    run->pending = pending;
    pending += run->pending_count;
    pending->name = strdup(name);
    pending->media_type = strdup(media_type);
    snprintf(pending->digest, sizeof(pending->digest), "%s", digest);
    pending->size = size;
    if (!pending->name || !pending->media_type) {
        free(pending->name);
        free(pending->media_type);
        return oom(err);
    }
    run->pending_count++;
    return 0;
}

/* A Docker name, normalised; when it cannot be, the name as written. */
static int plan_reference(struct import_run *run, const char *reference, const char *media_type,
                          const char *digest, int64_t size, struct berr *err)
{
    char *normalized = NULL;
    int rc;

    if (image_reference_normalize(reference, &normalized, NULL) != 0)
        return plan(run, reference, media_type, digest, size, err);
    rc = plan(run, normalized, media_type, digest, size, err);
    free(normalized);
    return rc;
}

static int plan_unnamed(struct import_run *run, const char *media_type, const char *digest,
                        int64_t size, struct berr *err)
{
    const char *prefix = run->options && run->options->ref_prefix && run->options->ref_prefix[0]
                             ? run->options->ref_prefix
                             : "import";
    char name[512];

    snprintf(name, sizeof(name), "%s@%s", prefix, digest);
    return plan(run, name, media_type, digest, size, err);
}

/* RepoTags of a manifest.json entry; *named set when there was at least one. */
static int plan_repo_tags(struct import_run *run, yajl_val entry, const char *media_type,
                          const char *digest, int64_t size, bool *named, struct berr *err)
{
    yajl_val tags = json_get(entry, "RepoTags");
    size_t i;
    int rc;

    for (i = 0; tags && YAJL_IS_ARRAY(tags) && i < tags->u.array.len; i++) {
        yajl_val tag = tags->u.array.values[i];
        if (!YAJL_IS_STRING(tag))
            continue;
        if ((rc = plan_reference(run, YAJL_GET_STRING(tag), media_type, digest, size, err)))
            return rc;
        *named = true;
    }
    return 0;
}

/* The config digest a manifest.json entry names. */
static const char *entry_config(const struct import_run *run, yajl_val entry)
{
    char path[IMPORT_PATH_MAX];

    if (clean_path(YAJL_GET_STRING(json_get(entry, "Config")), path, sizeof(path), NULL))
        return NULL;
    return find_blob(run, path);
}

/* A layer's media type by its first bytes. */
static const char *layer_media_type(struct import_run *run, const char *digest)
{
    static const unsigned char gzip_magic[] = {0x1f, 0x8b}, zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
    struct content_reader *reader;
    unsigned char head[4] = {0};
    size_t got = 0;

    if (content_reader_open(run->context->content, run->namespace, digest, &reader, NULL) == 0) {
        content_reader_read_at(reader, 0, head, sizeof(head), &got, NULL);
        content_reader_close(reader);
    }
    if (got >= 2 && memcmp(head, gzip_magic, 2) == 0)
        return IMAGE_MEDIA_DOCKER_LAYER ".gzip";
    if (got >= 4 && memcmp(head, zstd_magic, 4) == 0)
        return IMAGE_MEDIA_DOCKER_LAYER ".zstd";
    return IMAGE_MEDIA_DOCKER_LAYER;
}

static int blob_size(struct import_run *run, const char *digest, int64_t *size, struct berr *err)
{
    Berth__Supervisor__V1__ContentInfo *info;
    int rc = content_store_info(run->context->content, run->namespace, digest, &info, err);

    if (rc == 0) {
        *size = info->size;
        berth__supervisor__v1__content_info__free_unpacked(info, NULL);
    }
    return rc;
}

/* A Docker schema 2 manifest for a manifest.json entry that has none. */
static int synthesize(struct import_run *run, yajl_val entry, size_t number, struct berr *err)
{
    yajl_val layers = json_get(entry, "Layers");
    const char *config_digest = entry_config(run, entry);
    char(*diff_ids)[DIGEST_STRING_SIZE] = NULL;
    char digest[DIGEST_STRING_SIZE], path[IMPORT_PATH_MAX], *config_json = NULL;
    size_t layer_count = layers ? layers->u.array.len : 0, diff_id_count = 0, config_size, i;
    struct json_writer writer = {0};
    const char *text;
    size_t text_length;
    int64_t size;
    bool named = false;
    int rc;

    if (!config_digest)
        return berr_set(err, BERR_INVALID, "import: manifest.json entry %zu: config %s not found",
                        number, YAJL_GET_STRING(json_get(entry, "Config")));
    if ((rc = content_store_read_all(run->context->content, run->namespace, config_digest,
                                     IMAGE_CONFIG_MAX, &config_json, &config_size, err)) ||
        (rc = image_config_parse(config_json, config_size, config_digest, NULL, &diff_ids,
                                 &diff_id_count, err)))
        goto done;
    if (diff_id_count != layer_count) {
        rc =
            berr_set(err, BERR_INVALID, "import: manifest.json entry %zu: %zu layers, %zu diff_ids",
                     number, layer_count, diff_id_count);
        goto done;
    }
    if ((rc = json_writer_init(&writer, false, err)) ||
        (rc = blob_size(run, config_digest, &size, err)))
        goto done;
    json_object_begin(&writer);
    json_kv_int(&writer, "schemaVersion", 2);
    json_kv_string(&writer, "mediaType", IMAGE_MEDIA_DOCKER_MANIFEST);
    json_key(&writer, "config");
    json_object_begin(&writer);
    json_kv_string(&writer, "mediaType", IMAGE_MEDIA_DOCKER_CONFIG);
    json_kv_int(&writer, "size", size);
    json_kv_string(&writer, "digest", config_digest);
    json_object_end(&writer);
    json_key(&writer, "layers");
    json_array_begin(&writer);
    for (i = 0; i < layer_count; i++) {
        yajl_val layer = layers->u.array.values[i];
        const char *layer_digest, *media_type;
        if (!YAJL_IS_STRING(layer) ||
            clean_path(YAJL_GET_STRING(layer), path, sizeof(path), NULL) != 0 ||
            !(layer_digest = find_blob(run, path))) {
            rc = berr_set(err, BERR_INVALID, "import: manifest.json entry %zu: layer %zu not found",
                          number, i);
            goto done;
        }
        media_type = layer_media_type(run, layer_digest);
        if (strcmp(media_type, IMAGE_MEDIA_DOCKER_LAYER) == 0 &&
            strcmp(layer_digest, diff_ids[i]) != 0) {
            rc = berr_set(err, BERR_INVALID,
                          "import: manifest.json entry %zu: layer %zu is %s, its config says %s",
                          number, i, layer_digest, diff_ids[i]);
            goto done;
        }
        if ((rc = blob_size(run, layer_digest, &size, err)))
            goto done;
        json_object_begin(&writer);
        json_kv_string(&writer, "mediaType", media_type);
        json_kv_int(&writer, "size", size);
        json_kv_string(&writer, "digest", layer_digest);
        json_object_end(&writer);
    }
    json_array_end(&writer);
    json_object_end(&writer);
    if ((rc = json_writer_result(&writer, &text, &text_length, err)) ||
        (rc = commit_buffer(run, text, text_length, digest, err)))
        goto done;
    if ((rc = plan_repo_tags(run, entry, IMAGE_MEDIA_DOCKER_MANIFEST, digest, (int64_t)text_length,
                             &named, err)))
        goto done;
    if (!named)
        rc = plan_unnamed(run, IMAGE_MEDIA_DOCKER_MANIFEST, digest, (int64_t)text_length, err);
done:
    if (writer.gen)
        json_writer_free(&writer);
    free(diff_ids);
    free(config_json);
    return rc;
}

/* The config digest of the manifest an index entry names (NULL for an index). */
static int manifest_config(struct import_run *run, const struct image_descriptor *descriptor,
                           char **media_type, char config[DIGEST_STRING_SIZE], struct berr *err)
{
    struct image_document *document;
    char *json;
    size_t size;
    int rc;

    config[0] = '\0';
    if ((rc = content_store_read_all(run->context->content, run->namespace, descriptor->digest,
                                     IMAGE_MANIFEST_MAX, &json, &size, err))) {
        berr_prefix(err, "import: index.json names %s", descriptor->digest);
        return rc;
    }
    rc = image_document_parse(descriptor->media_type, json, size, &document, err);
    free(json);
    if (rc) {
        berr_prefix(err, "import %s", descriptor->digest);
        return rc;
    }
    if (document->kind == IMAGE_DOCUMENT_MANIFEST)
        memcpy(config, document->config.digest, DIGEST_STRING_SIZE);
    *media_type = strdup(document->media_type);
    image_document_free(document);
    return *media_type ? 0 : oom(err);
}

static int plan_from_index(struct import_run *run, yajl_val manifest, struct berr *err)
{
    struct image_document *index;
    bool *used = NULL;
    size_t i, j, entry_count = manifest ? manifest->u.array.len : 0;
    int rc;

    if ((rc = image_document_parse(IMAGE_MEDIA_OCI_INDEX, run->index_json, run->index_size, &index,
                                   err))) {
        berr_prefix(err, "import: index.json");
        return rc;
    }
    if (index->kind != IMAGE_DOCUMENT_INDEX) {
        image_document_free(index);
        return berr_set(err, BERR_INVALID, "import: index.json is not an image index");
    }
    if (entry_count && !(used = calloc(entry_count, sizeof(*used)))) {
        image_document_free(index);
        return oom(err);
    }
    for (i = 0; rc == 0 && i < index->manifest_count; i++) {
        const struct image_descriptor *descriptor = &index->manifests[i];
        const char *ref_name = descriptor->ref_name;
        char config[DIGEST_STRING_SIZE], *media_type = NULL;
        bool named = false;
        if ((rc = manifest_config(run, descriptor, &media_type, config, err)))
            break;
        if (descriptor->name) {
            rc = plan_reference(run, descriptor->name, media_type, descriptor->digest,
                                descriptor->size, err);
            named = true;
        } else if (ref_name &&
                   (strchr(ref_name, '/') || strchr(ref_name, ':') || strchr(ref_name, '@'))) {
            rc = plan_reference(run, ref_name, media_type, descriptor->digest, descriptor->size,
                                err);
            named = true;
        } else if (ref_name && run->options && run->options->ref_prefix &&
                   run->options->ref_prefix[0]) {
            char name[512];
            snprintf(name, sizeof(name), "%s:%s", run->options->ref_prefix, ref_name);
            rc = plan_reference(run, name, media_type, descriptor->digest, descriptor->size, err);
            named = true;
        }
        /* Docker 25's tarballs: manifest.json's RepoTags name the manifest with that config. */
        for (j = 0; rc == 0 && config[0] && j < entry_count; j++) {
            const char *entry_config_digest = entry_config(run, manifest->u.array.values[j]);
            if (entry_config_digest && strcmp(entry_config_digest, config) == 0) {
                used[j] = true;
                rc = plan_repo_tags(run, manifest->u.array.values[j], media_type,
                                    descriptor->digest, descriptor->size, &named, err);
            }
        }
        if (rc == 0 && !named)
            rc = plan_unnamed(run, media_type, descriptor->digest, descriptor->size, err);
        free(media_type);
    }
    for (j = 0; rc == 0 && j < entry_count; j++)
        if (!used[j])
            rc = synthesize(run, manifest->u.array.values[j], j, err);
    free(used);
    image_document_free(index);
    return rc;
}

static int check_layout(const struct import_run *run, struct berr *err)
{
    const char *version = NULL;
    yajl_val tree;
    int rc;

    if (!run->layout_json)
        return 0;
    if ((rc = json_parse(run->layout_json, &tree, err))) {
        berr_prefix(err, "import: oci-layout");
        return rc;
    }
    rc = json_get_string(tree, "imageLayoutVersion", &version, err);
    if (rc == 0 && (!version || strncmp(version, "1.", 2) != 0))
        rc = berr_set(err, BERR_UNSUPPORTED, "import: image layout version %s is not supported",
                      version ? version : "(none)");
    yajl_tree_free(tree);
    return rc;
}

static int plan_images(struct import_run *run, struct berr *err)
{
    yajl_val manifest = NULL;
    size_t i;
    int rc;

    if (!run->index_json && !run->manifest_json)
        return berr_set(err, BERR_INVALID,
                        "import: neither an OCI image layout (index.json) nor "
                        "a docker save tarball (manifest.json)");
    if ((rc = check_layout(run, err)))
        return rc;
    if (run->manifest_json && (rc = parse_manifest_json(run->manifest_json, &manifest, err)))
        return rc;
    if (run->index_json)
        rc = plan_from_index(run, manifest, err);
    else
        for (i = 0; rc == 0 && i < manifest->u.array.len; i++)
            rc = synthesize(run, manifest->u.array.values[i], i, err);
    if (manifest)
        yajl_tree_free(manifest);
    if (rc == 0 && run->pending_count == 0)
        rc = berr_set(err, BERR_INVALID, "import: the archive holds no image");
    return rc;
}

/* ---- completeness ---- */

/* walk: read it as an index or manifest (media_type may be empty: the document says). */
static int check_tree(struct import_run *run, const char *image, const char *media_type,
                      const char *digest, bool optional, bool walk, int depth, struct berr *err)
{
    Berth__Supervisor__V1__ContentInfo *info;
    struct image_document *document;
    struct image_platform host;
    char *json;
    size_t size, i;
    int rc;

    if (depth > IMPORT_DEPTH_MAX)
        return berr_set(err, BERR_INVALID, "import: image %s: indexes nested too deep", image);
    rc = content_store_info(run->context->content, run->namespace, digest, &info, NULL);
    if (rc == BERR_NOT_FOUND)
        return optional ? 0
                        : berr_set(err, BERR_INVALID, "import: image %s: %s is not in the archive",
                                   image, digest);
    if (rc)
        return berr_set(err, rc, "import: image %s: cannot read %s", image, digest);
    berth__supervisor__v1__content_info__free_unpacked(info, NULL);
    if (!walk)
        return 0;
    if ((rc = content_store_read_all(run->context->content, run->namespace, digest,
                                     IMAGE_MANIFEST_MAX, &json, &size, err)))
        return rc;
    rc = image_document_parse(media_type, json, size, &document, err);
    free(json);
    if (rc) {
        berr_prefix(err, "import: image %s: %s", image, digest);
        return rc;
    }
    image_platform_host(&host);
    for (i = 0; rc == 0 && i < document->manifest_count; i++) {
        const struct image_descriptor *entry = &document->manifests[i];
        bool other_platform = entry->has_platform && !image_platform_match(&host, &entry->platform);
        rc = check_tree(run, image, entry->media_type, entry->digest, other_platform, true,
                        depth + 1, err);
    }
    if (rc == 0 && document->kind == IMAGE_DOCUMENT_MANIFEST) {
        rc = check_tree(run, image, NULL, document->config.digest, false, false, depth + 1, err);
        for (i = 0; rc == 0 && i < document->layer_count; i++)
            rc = check_tree(run, image, NULL, document->layers[i].digest, false, false, depth + 1,
                            err);
    }
    image_document_free(document);
    return rc;
}

/* ---- recording ---- */

static int record_images(struct import_run *run, struct import_result *result, struct berr *err)
{
    Berth__Supervisor__V1__Image *images = calloc(run->pending_count, sizeof(*images));
    Berth__Supervisor__V1__Descriptor *targets = calloc(run->pending_count, sizeof(*targets));
    const Berth__Supervisor__V1__Image **list = calloc(run->pending_count, sizeof(*list));
    struct label_set labels = {0};
    ProtobufCMessage **entries = NULL;
    size_t i;
    int rc = 0;

    if (!images || !targets || !list) {
        rc = oom(err);
        goto done;
    }
    for (i = 0; rc == 0 && run->options && i < run->options->label_count; i++)
        rc =
            label_set_put(&labels, run->options->labels[i].key, run->options->labels[i].value, err);
    if (rc ||
        (rc = record_labels_build(&labels, &berth__supervisor__v1__image__labels_entry__descriptor,
                                  &entries, err)))
        goto done;
    for (i = 0; i < run->pending_count; i++) {
        berth__supervisor__v1__descriptor__init(&targets[i]);
        targets[i].media_type = run->pending[i].media_type;
        targets[i].digest = run->pending[i].digest;
        targets[i].size = run->pending[i].size;
        berth__supervisor__v1__image__init(&images[i]);
        images[i].name = run->pending[i].name;
        images[i].target = &targets[i];
        images[i].n_labels = labels.count;
        images[i].labels = (Berth__Supervisor__V1__Image__LabelsEntry **)entries;
        list[i] = &images[i];
    }
    if ((rc = image_store_create_or_update(run->context->images, run->namespace, list,
                                           run->pending_count, err)))
        goto done;
    if (result) {
        result->images = calloc(run->pending_count, sizeof(*result->images));
        if (!result->images) {
            rc = oom(err);
            goto done;
        }
        for (i = 0; rc == 0 && i < run->pending_count; i++) {
            rc = image_store_get(run->context->images, run->namespace, run->pending[i].name,
                                 &result->images[i], err);
            if (rc == 0)
                result->image_count++;
        }
    }
done:
    record_labels_free(entries, labels.count);
    label_set_clear(&labels);
    free(images);
    free(targets);
    free(list);
    return rc;
}

static int run_import(const struct import_context *context, const char *namespace,
                      const struct import_options *options, struct import_result *result,
                      int (*load)(struct import_run *, void *, struct berr *), void *source,
                      struct berr *err)
{
    struct import_run run = {.context = context, .namespace = namespace, .options = options};
    Berth__Supervisor__V1__Lease *lease = NULL;
    struct berr cleanup_error = {0};
    size_t i;
    int rc;

    if (result)
        memset(result, 0, sizeof(*result));
    if (!namespace || !metadata_namespace_valid(namespace))
        return berr_set(err, BERR_INVALID, "import: invalid namespace %s",
                        namespace ? namespace : "");
    if ((rc = leases_create(context->metadata, namespace, NULL, NULL, 0, IMPORT_LEASE_EXPIRY,
                            &lease, err))) {
        berr_prefix(err, "import");
        return rc;
    }
    snprintf(run.lease, sizeof(run.lease), "%s", lease->id);
    berth__supervisor__v1__lease__free_unpacked(lease, NULL);

    rc = load(&run, source, err);
    if (rc == 0)
        rc = plan_images(&run, err);
    for (i = 0; rc == 0 && i < run.pending_count; i++)
        rc = check_tree(&run, run.pending[i].name, run.pending[i].media_type, run.pending[i].digest,
                        false, true, 0, err);
    if (rc == 0)
        rc = record_images(&run, result, err);

    /* The images hold what they need now; the rest of what was added goes. */
    leases_delete(context->metadata, namespace, run.lease, NULL);
    if (gc_collect_content(context->gc, namespace, (const char *const *)run.added, run.added_count,
                           NULL, &cleanup_error) != 0 &&
        rc == 0) {
        *err = cleanup_error;
        rc = cleanup_error.code;
    }
    if (rc && result)
        import_result_clear(result);
    run_free(&run);
    return rc;
}

int import_path(const struct import_context *context, const char *namespace, const char *path,
                const struct import_options *options, struct import_result *result,
                struct berr *err)
{
    struct tar_source source = {.kind = TAR_PATH, .path = path};
    struct stat info;

    if (!path || !path[0])
        return berr_set(err, BERR_INVALID, "import: a path is required");
    if (stat(path, &info) < 0)
        return berr_errno(err, errno, "import: %s", path);
    if (S_ISDIR(info.st_mode))
        return run_import(context, namespace, options, result, load_directory, (void *)path, err);
    return run_import(context, namespace, options, result, load_tar, &source, err);
}

int import_fd(const struct import_context *context, const char *namespace, int fd,
              const struct import_options *options, struct import_result *result, struct berr *err)
{
    struct tar_source source = {.kind = TAR_FD, .fd = fd};

    return run_import(context, namespace, options, result, load_tar, &source, err);
}

int import_stream(const struct import_context *context, const char *namespace, import_read_fn read,
                  void *user, const struct import_options *options, struct import_result *result,
                  struct berr *err)
{
    struct tar_source source = {.kind = TAR_STREAM};

    source.stream.read = read;
    source.stream.user = user;
    return run_import(context, namespace, options, result, load_tar, &source, err);
}
