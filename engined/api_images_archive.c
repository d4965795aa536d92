/*
 * api_images_archive: POST /images/load and GET /images/get,
 * /images/{name}/get (docker load and docker save).
 *
 * Load streams the request body into the supervisor's Images.Import as it
 * arrives (nothing is spooled here); the supervisor checks the archive
 * (hostile paths, digests, completeness) and leaves nothing behind when it
 * refuses one, so this file only words the outcome as dockerd does.
 *
 * Save writes the format Docker 25 and later write: an OCI image layout
 * (oci-layout, index.json, blobs/sha256/<hex>) with Docker's manifest.json
 * and repositories beside it. manifest.json names the config and layers by
 * their blob paths, which is all `docker load` reads, so Docker 20.10 to 28
 * (and containerd, skopeo, berth) load it; blobs go out as stored
 * (compressed layers stay compressed: docker load decompresses them), so a
 * save is a copy of content-store streams into a tar, written with
 * libarchive straight into the response.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_images.h"
#include "log.h"
#include "reference.h"

/* ---- load ---- */

static ssize_t read_body(void *user, void *buffer, size_t size, struct berr *err)
{
    return http_request_read_body(user, buffer, size, err);
}

static void write_stream_message(struct json_writer *writer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void write_stream_message(struct json_writer *writer, const char *format, ...)
{
    char text[512];
    va_list arguments;

    va_start(arguments, format);
    vsnprintf(text, sizeof(text), format, arguments);
    va_end(arguments);
    json_object_begin(writer);
    json_kv_string(writer, "stream", text);
    json_object_end(writer);
    /* A JSON stream: each message a document of its own, then a newline. */
    yajl_gen_reset(writer->gen, "\n");
}

/* Whether an earlier loaded name led to the same image. */
static bool id_reported(size_t index, struct image_info *const *infos)
{
    for (size_t i = 0; i < index; i++)
        if (infos[i] && infos[index] && strcmp(infos[i]->id, infos[index]->id) == 0)
            return true;
    return false;
}

/* The messages docker load prints, and the load events. */
static void report_loaded(struct engine *engine, const struct image_load_result *result,
                          struct json_writer *writer)
{
    struct image_info **infos = calloc(result->count + 1, sizeof(*infos));

    if (!infos)
        return;
    for (size_t i = 0; i < result->count; i++) {
        const struct image_loaded *loaded = &result->images[i];
        struct berr err;
        if (image_store_info(engine->images, loaded->name, loaded->target, &infos[i], &err))
            log_warn("load: %s", err.message);
    }
    for (size_t i = 0; i < result->count; i++) {
        const struct image_loaded *loaded = &result->images[i];
        char *familiar = reference_familiar_of(loaded->name);
        if (!infos[i] || !familiar) {
            free(familiar);
            continue;
        }
        if (image_name_kind(loaded->name) == IMAGE_NAME_HIDDEN) {
            if (!id_reported(i, infos))
                write_stream_message(writer, "Loaded image ID: %s\n", infos[i]->id);
        } else {
            if (loaded->replaced)
                write_stream_message(writer,
                                     "The image %s already exists, renaming the old one with "
                                     "ID %s to empty string\n",
                                     familiar, loaded->replaced);
            write_stream_message(writer, "Loaded image: %s\n", familiar);
        }
        if (!id_reported(i, infos))
            api_images_event(engine, "load", infos[i]->id,
                             image_name_kind(loaded->name) == IMAGE_NAME_HIDDEN ? infos[i]->id
                                                                                : familiar,
                             infos[i]);
        free(familiar);
    }
    for (size_t i = 0; i < result->count; i++)
        image_info_release(infos[i]);
    free(infos);
}

static void load_images(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct image_load_result result;
    struct json_writer writer;
    struct berr err;

    if (image_store_load(engine->images, read_body, request, &result, &err) != 0) {
        const char *why = err.message;
        /* The supervisor's "import: import: ..." says little to a docker user. */
        while (strncmp(why, "import: ", 8) == 0)
            why += 8;
        if (err.code == BERR_INVALID)
            http_respond_error(request, 400, "invalid image archive: %s", why);
        else
            http_respond_error(request, http_status_from_berr(err.code), "load: %s", why);
        return;
    }
    if (json_writer_init(&writer, false, &err) != 0) {
        image_load_result_free(&result);
        http_respond_berr(request, &err);
        return;
    }
    report_loaded(engine, &result, &writer);
    image_load_result_free(&result);
    http_respond_json_writer(request, 200, &writer);
}

/* ---- save: what goes in ---- */

struct saved_image {
    struct image_info *info;
    char **names; /* full tag names given for it; NULL-terminated */
    size_t name_count;
};

struct save_job {
    struct engine *engine;
    struct saved_image *images;
    size_t count;
    struct http_stream *stream;
    struct archive *archive;
    bool failed;
};

static void save_job_free(void *context)
{
    struct save_job *job = context;

    for (size_t i = 0; i < job->count; i++) {
        image_info_release(job->images[i].info);
        json_free_string_array(job->images[i].names);
    }
    free(job->images);
    free(job);
}

static int add_saved(struct save_job *job, struct image_info *info, const char *tag_name,
                     struct berr *err)
{
    struct saved_image *image = NULL, *grown;
    char **names;

    for (size_t i = 0; i < job->count && !image; i++)
        if (strcmp(job->images[i].info->id, info->id) == 0)
            image = &job->images[i];
    if (!image) {
        if (!(grown = realloc(job->images, (job->count + 1) * sizeof(*grown))))
            return berr_set(err, BERR_NOMEM, "out of memory");
        job->images = grown;
        image = &grown[job->count++];
        memset(image, 0, sizeof(*image));
        image_info_hold(info);
        image->info = info;
        if (!(image->names = calloc(1, sizeof(char *))))
            return berr_set(err, BERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; tag_name && i < image->name_count; i++)
        if (strcmp(image->names[i], tag_name) == 0)
            return 0;
    if (!tag_name)
        return 0;
    if (!(names = realloc(image->names, (image->name_count + 2) * sizeof(char *))))
        return berr_set(err, BERR_NOMEM, "out of memory");
    image->names = names;
    if (!(names[image->name_count] = strdup(tag_name)))
        return berr_set(err, BERR_NOMEM, "out of memory");
    names[++image->name_count] = NULL;
    return 0;
}

/* "busybox" (a repository, no tag): every tag of it, as docker save does. */
static int add_repository(struct save_job *job, const char *text, bool *added, struct berr *err)
{
    struct image_reference reference;
    struct image_list list;
    char *repository;
    size_t length;
    int rc;

    *added = false;
    if (reference_parse(text, &reference, NULL) != 0)
        return 0;
    repository = reference.tag || reference.digest ? NULL : reference_name(&reference);
    reference_free(&reference);
    if (!repository)
        return 0;
    if ((rc = image_store_list(job->engine->images, &list, err))) {
        free(repository);
        return rc;
    }
    length = strlen(repository);
    for (size_t i = 0; i < list.count && !rc; i++)
        for (size_t j = 0; j < list.entries[i].name_count && !rc; j++) {
            const char *name = list.entries[i].names[j];
            if (strncmp(name, repository, length) == 0 && name[length] == ':' &&
                image_name_kind(name) == IMAGE_NAME_TAG) {
                rc = add_saved(job, list.entries[i].info, name, err);
                *added = true;
            }
        }
    image_list_free(&list);
    free(repository);
    return rc;
}

static int add_name(struct save_job *job, const char *text, struct berr *err)
{
    struct image_lookup lookup;
    bool added;
    int rc;

    if ((rc = add_repository(job, text, &added, err)) || added)
        return rc;
    if ((rc = image_store_lookup(job->engine->images, text, &lookup, err)))
        return rc;
    rc = add_saved(
        job, lookup.info,
        !lookup.by_id && image_name_kind(lookup.name) == IMAGE_NAME_TAG ? lookup.name : NULL, err);
    image_lookup_free(&lookup);
    return rc;
}

/* ---- save: the archive ---- */

static la_ssize_t archive_to_stream(struct archive *archive, void *context, const void *buffer,
                                    size_t length)
{
    struct save_job *job = context;
    struct berr err;

    if (job->failed)
        return (la_ssize_t)length; /* closing after a failure: nothing more goes out */
    if (http_stream_write(job->stream, buffer, length, &err) != 0) {
        archive_set_error(archive, EPIPE, "%s", err.message);
        return -1;
    }
    return (la_ssize_t)length;
}

static int archive_failed(struct save_job *job, const char *what, struct berr *err)
{
    return berr_set(err, BERR_IO, "save: %s: %s", what, archive_error_string(job->archive));
}

static int write_header(struct save_job *job, const char *path, bool directory, int64_t size,
                        struct berr *err)
{
    struct archive_entry *entry = archive_entry_new();
    int rc = 0;

    if (!entry)
        return berr_set(err, BERR_NOMEM, "out of memory");
    archive_entry_set_pathname(entry, path);
    archive_entry_set_filetype(entry, directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry, directory ? 0755 : 0644);
    archive_entry_set_size(entry, directory ? 0 : size);
    archive_entry_set_mtime(entry, 0, 0);
    if (archive_write_header(job->archive, entry) != ARCHIVE_OK)
        rc = archive_failed(job, path, err);
    archive_entry_free(entry);
    return rc;
}

static int write_file(struct save_job *job, const char *path, const char *data, size_t length,
                      struct berr *err)
{
    int rc;

    if ((rc = write_header(job, path, false, (int64_t)length, err)))
        return rc;
    if (length && archive_write_data(job->archive, data, length) != (la_ssize_t)length)
        return archive_failed(job, path, err);
    return 0;
}

struct blob_copy {
    struct save_job *job;
    int64_t written;
    int64_t size;
};

static int copy_chunk(void *user, const void *data, size_t length, struct berr *err)
{
    struct blob_copy *copy = user;

    if (copy->written + (int64_t)length > copy->size)
        return berr_set(err, BERR_INVALID, "longer than its descriptor's %lld bytes",
                        (long long)copy->size);
    if (archive_write_data(copy->job->archive, data, length) != (la_ssize_t)length)
        return archive_failed(copy->job, "blob", err);
    copy->written += (int64_t)length;
    return 0;
}

static int write_blob(struct save_job *job, const char *digest, int64_t size, char **written,
                      size_t *written_count, struct berr *err)
{
    struct blob_copy copy = {job, 0, size};
    char path[16 + DIGEST_STRING_SIZE];
    int rc;

    for (size_t i = 0; i < *written_count; i++)
        if (strcmp(written[i], digest) == 0)
            return 0;
    snprintf(path, sizeof(path), "blobs/sha256/%s", digest + strlen(DIGEST_SHA256_PREFIX));
    if ((rc = write_header(job, path, false, size, err)) ||
        (rc = image_store_read_blob(job->engine->images, digest, copy_chunk, &copy, err)))
        return rc;
    if (copy.written != size)
        return berr_set(err, BERR_INVALID, "save: blob %s: %lld bytes, its descriptor says %lld",
                        digest, (long long)copy.written, (long long)size);
    written[(*written_count)++] = (char *)digest;
    return 0;
}

static int write_blobs(struct save_job *job, struct berr *err)
{
    size_t total = 0, count = 0;
    char **written;
    int rc = 0;

    for (size_t i = 0; i < job->count; i++)
        total += 2 + job->images[i].info->layer_count;
    if (!(written = calloc(total + 1, sizeof(char *))))
        return berr_set(err, BERR_NOMEM, "out of memory");
    for (size_t i = 0; i < job->count && !rc; i++) {
        const struct image_info *info = job->images[i].info;
        rc = write_blob(job, info->manifest, info->manifest_size, written, &count, err);
        if (!rc)
            rc = write_blob(job, info->id, info->config_size, written, &count, err);
        for (size_t l = 0; l < info->layer_count && !rc; l++)
            rc =
                write_blob(job, info->layers[l].digest, info->layers[l].size, written, &count, err);
    }
    free(written);
    return rc;
}

static void blob_path(char *out, size_t size, const char *digest)
{
    snprintf(out, size, "blobs/sha256/%s", digest + strlen(DIGEST_SHA256_PREFIX));
}

static void write_manifest_json(struct json_writer *writer, const struct save_job *job)
{
    char path[16 + DIGEST_STRING_SIZE];

    json_array_begin(writer);
    for (size_t i = 0; i < job->count; i++) {
        const struct saved_image *image = &job->images[i];
        json_object_begin(writer);
        blob_path(path, sizeof(path), image->info->id);
        json_kv_string(writer, "Config", path);
        json_key(writer, "RepoTags");
        json_array_begin(writer);
        for (size_t n = 0; n < image->name_count; n++) {
            char *familiar = reference_familiar_of(image->names[n]);
            json_string(writer, familiar ? familiar : image->names[n]);
            free(familiar);
        }
        json_array_end(writer);
        json_key(writer, "Layers");
        json_array_begin(writer);
        for (size_t l = 0; l < image->info->layer_count; l++) {
            blob_path(path, sizeof(path), image->info->layers[l].digest);
            json_string(writer, path);
        }
        json_array_end(writer);
        json_object_end(writer);
    }
    json_array_end(writer);
}

static void write_index_entry(struct json_writer *writer, const struct image_info *info,
                              const char *name)
{
    const char *tag = name ? strrchr(name, ':') : NULL;

    json_object_begin(writer);
    json_kv_string(writer, "mediaType", info->manifest_media_type);
    json_kv_string(writer, "digest", info->manifest);
    json_kv_int(writer, "size", info->manifest_size);
    if (name) {
        json_key(writer, "annotations");
        json_object_begin(writer);
        json_kv_string(writer, "io.containerd.image.name", name);
        json_kv_string(writer, "org.opencontainers.image.ref.name", tag ? tag + 1 : "latest");
        json_object_end(writer);
    }
    json_object_end(writer);
}

static void write_index_json(struct json_writer *writer, const struct save_job *job)
{
    json_object_begin(writer);
    json_kv_int(writer, "schemaVersion", 2);
    json_kv_string(writer, "mediaType", "application/vnd.oci.image.index.v1+json");
    json_key(writer, "manifests");
    json_array_begin(writer);
    for (size_t i = 0; i < job->count; i++) {
        const struct saved_image *image = &job->images[i];
        for (size_t n = 0; n < image->name_count; n++)
            write_index_entry(writer, image->info, image->names[n]);
        if (!image->name_count)
            write_index_entry(writer, image->info, NULL);
    }
    json_array_end(writer);
    json_object_end(writer);
}

/* {"busybox": {"latest": "<ID hex>"}}, for tools of before manifest.json. */
static void write_repositories(struct json_writer *writer, const struct save_job *job)
{
    json_object_begin(writer);
    for (size_t i = 0; i < job->count; i++) {
        for (size_t n = 0; n < job->images[i].name_count; n++) {
            char *familiar = reference_familiar_of(job->images[i].names[n]);
            char *colon = familiar ? strrchr(familiar, ':') : NULL;
            if (colon) {
                *colon = '\0';
                json_key(writer, familiar);
                json_object_begin(writer);
                json_kv_string(writer, colon + 1,
                               job->images[i].info->id + strlen(DIGEST_SHA256_PREFIX));
                json_object_end(writer);
            }
            free(familiar);
        }
    }
    json_object_end(writer);
}

typedef void (*json_document)(struct json_writer *writer, const struct save_job *job);

static int write_json_file(struct save_job *job, const char *path, json_document document,
                           struct berr *err)
{
    struct json_writer writer;
    const char *text;
    size_t length;
    int rc;

    if ((rc = json_writer_init(&writer, false, err)))
        return rc;
    document(&writer, job);
    if (!(rc = json_writer_result(&writer, &text, &length, err)))
        rc = write_file(job, path, text, length, err);
    json_writer_free(&writer);
    return rc;
}

static int write_archive(struct save_job *job, struct berr *err)
{
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    int rc;

    if ((rc = write_header(job, "blobs/", true, 0, err)) ||
        (rc = write_header(job, "blobs/sha256/", true, 0, err)) || (rc = write_blobs(job, err)) ||
        (rc = write_json_file(job, "index.json", write_index_json, err)) ||
        (rc = write_json_file(job, "manifest.json", write_manifest_json, err)) ||
        (rc = write_file(job, "oci-layout", layout, sizeof(layout) - 1, err)) ||
        (rc = write_json_file(job, "repositories", write_repositories, err)))
        return rc;
    if (archive_write_close(job->archive) != ARCHIVE_OK)
        return archive_failed(job, "end of archive", err);
    return 0;
}

static void save_writer(struct http_stream *stream, void *context)
{
    struct save_job *job = context;
    struct berr err;
    int rc;

    job->stream = stream;
    if (!(job->archive = archive_write_new()) ||
        archive_write_set_format_pax_restricted(job->archive) != ARCHIVE_OK ||
        archive_write_open2(job->archive, job, NULL, archive_to_stream, NULL, NULL) != ARCHIVE_OK) {
        rc = berr_set(&err, BERR_NOMEM, "save: cannot start an archive");
    } else {
        rc = write_archive(job, &err);
    }
    /* Freeing an archive not closed pads and ends it: not after a failure. */
    job->failed = rc != 0;
    if (job->archive)
        archive_write_free(job->archive);
    if (rc) {
        /* The client must not take a cut archive for a whole one. */
        log_warn("%s", err.message);
        http_stream_abort(stream);
        return;
    }
    for (size_t i = 0; i < job->count; i++) {
        const struct saved_image *image = &job->images[i];
        char *familiar = image->name_count ? reference_familiar_of(image->names[0]) : NULL;
        api_images_event(job->engine, "save", image->info->id,
                         familiar ? familiar : image->info->id, image->info);
        free(familiar);
    }
}

static void save(struct http_request *request, struct engine *engine, const char *const *names,
                 size_t count)
{
    struct save_job *job = calloc(1, sizeof(*job));
    struct berr err;
    int rc = 0;

    if (!job) {
        http_respond_error(request, 500, "out of memory");
        return;
    }
    job->engine = engine;
    if (!count)
        rc = berr_set(&err, BERR_INVALID, "no image to save: give names=NAME");
    for (size_t i = 0; i < count && !rc; i++)
        rc = add_name(job, names[i], &err);
    if (rc) {
        save_job_free(job);
        http_respond_berr(request, &err);
        return;
    }
    /* Every name resolved: from here on only a broken stream can fail. */
    http_respond_stream(request, 200, "application/x-tar", save_writer, job, save_job_free);
}

static void save_many(struct http_request *request, void *data)
{
    size_t count;
    const char **names = http_request_query_all(request, "names", &count);

    save(request, data, names, count);
    free(names);
}

static void save_one(struct http_request *request, void *data)
{
    const char *name = http_request_param(request, "name");

    save(request, data, &name, 1);
}

int api_images_archive_register(struct engine *engine, struct berr *err)
{
    int rc;

    if ((rc = http_server_route(engine->http, "POST", "/images/load", load_images, engine,
                                HTTP_ROUTE_STREAM_BODY, err)) ||
        (rc = http_server_route(engine->http, "GET", "/images/get", save_many, engine, 0, err)) ||
        (rc = http_server_route(engine->http, "GET", "/images/{name*}/get", save_one, engine, 0,
                                err)))
        return rc;
    return 0;
}
