/* Unit tests of supervisord/import: the bundled busybox image (OCI layout and
 * docker save tarball, from a path, an fd and a stream), legacy docker save,
 * naming, hostile tarballs, a full disk, and a collection during an import. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"
#include "json.h"
#include "record.h"

#ifndef BERTH_BUSYBOX_IMAGE_DIR
#define BERTH_BUSYBOX_IMAGE_DIR "build/images/busybox"
#endif

static struct fixture fixture;
static char image_dir[512];

static int setup(void **state)
{
    const char *override = getenv("BERTH_BUSYBOX_IMAGE_DIR");

    (void)state;
    snprintf(image_dir, sizeof(image_dir), "%s", override ? override : BERTH_BUSYBOX_IMAGE_DIR);
    return fixture_open(&fixture, 0);
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(&fixture);
    return 0;
}

static void busybox_path(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", image_dir, name);
    if (access(out, R_OK) != 0)
        fail_msg("%s is missing: build the busybox-image target", out);
}

static int count_leases_visit(const Berth__Supervisor__V1__Lease *lease, void *user)
{
    (void)lease;
    (*(int *)user)++;
    return 0;
}

static int count_leases_in(struct fixture *which, const char *namespace)
{
    struct berr err = {0};
    int count = 0;

    assert_int_equal(
        leases_list(which->metadata, namespace, NULL, 0, count_leases_visit, &count, &err), 0);
    return count;
}

static int count_leases(const char *namespace)
{
    return count_leases_in(&fixture, namespace);
}

static int count_image(const Berth__Supervisor__V1__Image *image, void *user)
{
    (void)image;
    (*(int *)user)++;
    return 0;
}

static int count_images_in(struct fixture *which, const char *namespace)
{
    struct berr err = {0};
    int count = 0;

    assert_int_equal(image_store_list(which->images, namespace, NULL, 0, count_image, &count, &err),
                     0);
    return count;
}

static int count_images(const char *namespace)
{
    return count_images_in(&fixture, namespace);
}

/* Nothing of an import is left: no records, files, ingests, leases or images. */
static void assert_empty(struct fixture *which, const char *namespace)
{
    assert_int_equal(fixture_content_count(which, namespace, NULL), 0);
    assert_int_equal(fixture_count(which, "blobs/sha256"), 0);
    assert_int_equal(fixture_count(which, "ingest"), 0);
    assert_int_equal(count_leases_in(which, namespace), 0);
    assert_int_equal(count_images_in(which, namespace), 0);
}

/* The digest index.json gives the manifest whose ref.name is ref. */
static void layout_manifest(const char *index_path, const char *ref, char out[DIGEST_STRING_SIZE])
{
    yajl_val index, manifests;
    struct berr err = {0};
    size_t i;

    assert_int_equal(json_parse_file(index_path, 1 << 20, &index, &err), 0);
    manifests = json_get(index, "manifests");
    out[0] = '\0';
    for (i = 0; manifests && i < manifests->u.array.len; i++) {
        yajl_val entry = manifests->u.array.values[i];
        yajl_val annotations = json_get(entry, "annotations");
        yajl_val name = json_get(annotations, "org.opencontainers.image.ref.name");
        if (YAJL_IS_STRING(name) && strcmp(name->u.string, ref) == 0)
            snprintf(out, DIGEST_STRING_SIZE, "%s", YAJL_GET_STRING(json_get(entry, "digest")));
    }
    yajl_tree_free(index);
    assert_true(out[0] != '\0');
}

static void check_busybox(const char *name, const char *layer_media_type)
{
    struct image_manifest *manifest;
    struct berr err = {0};

    if (image_store_manifest(fixture.images, "default", name, NULL, &manifest, &err))
        fail_msg("walk %s: %s", name, err.message);
    assert_int_equal(manifest->layer_count, 1);
    assert_string_equal(manifest->layers[0].descriptor.media_type, layer_media_type);
    /* One layer: its chain ID is its diff ID. */
    assert_string_equal(manifest->layers[0].chain_id, manifest->layers[0].diff_id);
    assert_string_equal(manifest->chain_id, manifest->layers[0].diff_id);
    assert_non_null(strstr(manifest->config_json, "\"diff_ids\""));
    assert_string_equal(manifest->platform.os, "linux");
    image_manifest_free(manifest);
}

static void imports_the_oci_layout(void **state)
{
    struct import_result result = {0};
    Berth__Supervisor__V1__Image *image;
    struct image_manifest *gzip_manifest, *zstd_manifest;
    char path[600], index_path[600], latest[DIGEST_STRING_SIZE], zstd[DIGEST_STRING_SIZE];
    struct berr err = {0};
    (void)state;

    busybox_path("oci", path, sizeof(path));
    busybox_path("oci/index.json", index_path, sizeof(index_path));
    if (import_path(&fixture.import, "default", path, NULL, &result, &err))
        fail_msg("import: %s", err.message);
    assert_int_equal(result.image_count, 2);
    import_result_clear(&result);
    layout_manifest(index_path, "latest", latest);
    layout_manifest(index_path, "latest-zstd", zstd);

    assert_int_equal(image_store_get(fixture.images, "default", "docker.io/library/busybox:latest",
                                     &image, &err),
                     0);
    assert_string_equal(image->target->digest, latest);
    assert_string_equal(image->target->media_type, IMAGE_MEDIA_OCI_MANIFEST);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    assert_int_equal(image_store_get(fixture.images, "default",
                                     "docker.io/library/busybox:latest-zstd", &image, &err),
                     0);
    assert_string_equal(image->target->digest, zstd);
    berth__supervisor__v1__image__free_unpacked(image, NULL);

    /* config + 2 layers + 2 manifests; the lease is gone, no ingest left. */
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 5);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 5);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
    assert_int_equal(count_leases("default"), 0);

    check_busybox("busybox", IMAGE_MEDIA_OCI_LAYER "+gzip");
    check_busybox("busybox:latest-zstd", IMAGE_MEDIA_OCI_LAYER "+zstd");
    /* Both compressions of one layer: same diff ID, same chain ID. */
    assert_int_equal(
        image_store_manifest(fixture.images, "default", "busybox", NULL, &gzip_manifest, &err), 0);
    assert_int_equal(image_store_manifest(fixture.images, "default", "busybox:latest-zstd", NULL,
                                          &zstd_manifest, &err),
                     0);
    assert_string_equal(gzip_manifest->chain_id, zstd_manifest->chain_id);
    assert_string_not_equal(gzip_manifest->layers[0].descriptor.digest,
                            zstd_manifest->layers[0].descriptor.digest);
    image_manifest_free(gzip_manifest);
    image_manifest_free(zstd_manifest);

    /* Importing again changes nothing. */
    assert_int_equal(import_path(&fixture.import, "default", path, NULL, &result, &err), 0);
    import_result_clear(&result);
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 5);
    assert_int_equal(count_images("default"), 2);
}

static void check_tarball_import(void)
{
    Berth__Supervisor__V1__Image *image;
    struct image_manifest *manifest;
    struct berr err = {0};

    assert_int_equal(count_images("default"), 1);
    assert_int_equal(image_store_get(fixture.images, "default", "docker.io/library/busybox:latest",
                                     &image, &err),
                     0);
    assert_string_equal(image->target->media_type, IMAGE_MEDIA_OCI_MANIFEST);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    assert_int_equal(
        image_store_manifest(fixture.images, "default", "busybox", NULL, &manifest, &err), 0);
    assert_int_equal(manifest->layer_count, 1);
    assert_string_equal(manifest->layers[0].descriptor.media_type, IMAGE_MEDIA_OCI_LAYER);
    /* An uncompressed layer's digest is its diff ID. */
    assert_string_equal(manifest->layers[0].descriptor.digest, manifest->layers[0].diff_id);
    image_manifest_free(manifest);
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 3);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 3);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
    assert_int_equal(count_leases("default"), 0);
}

static void imports_the_docker_save_tarball(void **state)
{
    struct import_result result = {0};
    struct berr err = {0};
    char path[600];
    (void)state;

    busybox_path("busybox.tar", path, sizeof(path));
    if (import_path(&fixture.import, "default", path, NULL, &result, &err))
        fail_msg("import: %s", err.message);
    /* index.json's name and manifest.json's RepoTags agree on one image. */
    assert_int_equal(result.image_count, 1);
    assert_string_equal(result.images[0]->name, "docker.io/library/busybox:latest");
    import_result_clear(&result);
    check_tarball_import();
}

static void imports_an_unpacked_docker_save(void **state)
{
    struct import_result result = {0};
    struct berr err = {0};
    char tarball[600], directory[300], command[1200], path[400];
    int fd;
    (void)state;

    busybox_path("busybox.tar", tarball, sizeof(tarball));
    snprintf(directory, sizeof(directory), "%s/unpacked", fixture.root);
    assert_int_equal(mkdir(directory, 0755), 0);
    snprintf(command, sizeof(command), "tar -xf '%s' -C '%s'", tarball, directory);
    assert_int_equal(system(command), 0);
    if (import_path(&fixture.import, "default", directory, NULL, &result, &err))
        fail_msg("import: %s", err.message);
    import_result_clear(&result);
    check_tarball_import();

    /* manifest.json is untrusted too: a path out of the directory is refused. */
    snprintf(path, sizeof(path), "%s/index.json", directory);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/manifest.json", directory);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    {
        const char *hostile = "[{\"Config\":\"../../../etc/passwd\",\"Layers\":[]}]";
        assert_int_equal(write(fd, hostile, strlen(hostile)), (ssize_t)strlen(hostile));
    }
    close(fd);
    assert_int_equal(import_path(&fixture.import, "default", directory, NULL, &result, &err),
                     BERR_INVALID);
    assert_non_null(strstr(err.message, "refusing"));
}

static void imports_from_an_fd(void **state)
{
    struct import_result result = {0};
    struct berr err = {0};
    char path[600];
    int fd;
    (void)state;

    busybox_path("busybox.tar", path, sizeof(path));
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(import_fd(&fixture.import, "default", fd, NULL, &result, &err), 0);
    close(fd);
    import_result_clear(&result);
    check_tarball_import();
}

struct chunks {
    char *data;
    size_t size;
    size_t position;
    size_t chunk;
    size_t collect_at; /* run a collection when the stream reaches this offset; 0: never */
    bool collected;
    struct gc_result gc;
    bool fail;
};

static ssize_t next_chunk(void *user, const void **data, struct berr *err)
{
    struct chunks *chunks = user;
    size_t size = chunks->size - chunks->position;

    if (chunks->collect_at && !chunks->collected && chunks->position >= chunks->collect_at) {
        chunks->collected = true;
        if (gc_collect(fixture.gc, &chunks->gc, err))
            return -1;
    }
    if (chunks->fail && chunks->position > chunks->size / 2)
        return berr_set(err, BERR_CANCELLED, "the client went away"), -1;
    if (size > chunks->chunk)
        size = chunks->chunk;
    *data = chunks->data + chunks->position;
    chunks->position += size;
    return (ssize_t)size;
}

static void load_file(const char *path, struct chunks *chunks)
{
    int fd = open(path, O_RDONLY);
    off_t size;

    assert_true(fd >= 0);
    size = lseek(fd, 0, SEEK_END);
    chunks->data = malloc((size_t)size);
    assert_non_null(chunks->data);
    assert_int_equal(pread(fd, chunks->data, (size_t)size, 0), size);
    close(fd);
    chunks->size = (size_t)size;
}

static void imports_from_a_stream(void **state)
{
    struct chunks chunks = {.chunk = 1000};
    struct import_result result = {0};
    struct berr err = {0};
    char path[600];
    (void)state;

    busybox_path("busybox.tar", path, sizeof(path));
    load_file(path, &chunks);
    /* A collection in the middle of the layer: only the lease keeps the
     * manifest and config written before it (no image names them yet). */
    chunks.collect_at = chunks.size / 2;
    if (import_stream(&fixture.import, "default", next_chunk, &chunks, NULL, &result, &err))
        fail_msg("import: %s", err.message);
    assert_true(chunks.collected);
    assert_int_equal(chunks.gc.removed_content, 0);
    import_result_clear(&result);
    check_tarball_import();

    /* A stream that fails: its error, and nothing new left. */
    assert_int_equal(
        image_store_delete(fixture.images, "default", "docker.io/library/busybox:latest", &err), 0);
    assert_int_equal(gc_collect(fixture.gc, NULL, &err), 0);
    assert_empty(&fixture, "default");
    chunks.position = 0;
    chunks.collect_at = 0;
    chunks.fail = true;
    assert_int_equal(
        import_stream(&fixture.import, "default", next_chunk, &chunks, NULL, &result, &err),
        BERR_CANCELLED);
    assert_non_null(strstr(err.message, "went away"));
    assert_empty(&fixture, "default");
    free(chunks.data);
}

/* ---- tarballs made here ---- */

struct tar_entry {
    const char *path;
    mode_t type;
    const void *data;
    size_t size;
    const char *link; /* symlink target, or hard link target with type 0 */
};

static void add_entry(struct archive *tar, const struct tar_entry *item)
{
    struct archive_entry *entry = archive_entry_new();

    archive_entry_set_pathname(entry, item->path);
    archive_entry_set_perm(entry, 0644);
    if (item->type == 0) {
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, item->link);
    } else {
        archive_entry_set_filetype(entry, item->type);
        if (item->type == AE_IFLNK)
            archive_entry_set_symlink(entry, item->link);
        if (item->type == AE_IFREG)
            archive_entry_set_size(entry, (la_int64_t)item->size);
    }
    assert_int_equal(archive_write_header(tar, entry), ARCHIVE_OK);
    if (item->type == AE_IFREG && item->size)
        assert_int_equal(archive_write_data(tar, item->data, item->size), (ssize_t)item->size);
    archive_entry_free(entry);
}

static struct archive *tar_create(const char *path)
{
    struct archive *tar = archive_write_new();

    archive_write_set_format_pax_restricted(tar);
    assert_int_equal(archive_write_open_filename(tar, path), ARCHIVE_OK);
    return tar;
}

static void tar_close(struct archive *tar)
{
    assert_int_equal(archive_write_close(tar), ARCHIVE_OK);
    archive_write_free(tar);
}

/* Copies busybox.tar's entries (all of them, or only those whose name has skip absent). */
static void copy_busybox(struct archive *out, const char *skip)
{
    struct archive *in = archive_read_new();
    struct archive_entry *entry;
    char path[600], buffer[65536];
    la_ssize_t got;

    busybox_path("busybox.tar", path, sizeof(path));
    archive_read_support_format_tar(in);
    assert_int_equal(archive_read_open_filename(in, path, 65536), ARCHIVE_OK);
    while (archive_read_next_header(in, &entry) == ARCHIVE_OK) {
        if (skip && strstr(archive_entry_pathname(entry), skip))
            continue;
        assert_int_equal(archive_write_header(out, entry), ARCHIVE_OK);
        while ((got = archive_read_data(in, buffer, sizeof(buffer))) > 0)
            assert_int_equal(archive_write_data(out, buffer, (size_t)got), got);
    }
    archive_read_free(in);
}

static void refuses_hostile_tarballs(void **state)
{
    static const char data[] = "owned";
    const struct tar_entry hostile[] = {
        {"../escape", AE_IFREG, data, 5, NULL},
        {"blobs/../../escape", AE_IFREG, data, 5, NULL},
        {"/etc/cron.d/evil", AE_IFREG, data, 5, NULL},
        {"blobs/sha256/link", AE_IFLNK, NULL, 0, "/etc/passwd"},
        {"abc/layer.tar", AE_IFLNK, NULL, 0, "../../../etc/shadow"},
        {"hard", 0, NULL, 0, "index.json"},
        {"fifo", AE_IFIFO, NULL, 0, NULL},
        {"dev", AE_IFCHR, NULL, 0, NULL},
    };
    struct import_result result = {0};
    char path[300];
    size_t i;
    (void)state;

    snprintf(path, sizeof(path), "%s/hostile.tar", fixture.root);
    for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        struct berr err = {0};
        struct archive *tar = tar_create(path);
        /* The whole image first, so that blobs are in the store when the bad entry comes. */
        copy_busybox(tar, NULL);
        add_entry(tar, &hostile[i]);
        tar_close(tar);
        assert_int_equal(import_path(&fixture.import, "default", path, NULL, &result, &err),
                         BERR_INVALID);
        assert_non_null(strstr(err.message, "refusing"));
        assert_int_equal(result.image_count, 0);
        assert_empty(&fixture, "default");
    }
}

static void refuses_incomplete_and_foreign_input(void **state)
{
    struct import_result result = {0};
    struct berr err = {0};
    char path[300];
    struct archive *tar;
    int fd;
    (void)state;

    /* The layer is missing. */
    snprintf(path, sizeof(path), "%s/incomplete.tar", fixture.root);
    tar = tar_create(path);
    copy_busybox(tar, "a6f9d1e1"); /* the layer's name in the bundled tarball */
    tar_close(tar);
    assert_int_equal(import_path(&fixture.import, "default", path, NULL, &result, &err),
                     BERR_INVALID);
    assert_empty(&fixture, "default");

    /* Not a tarball at all. */
    snprintf(path, sizeof(path), "%s/text", fixture.root);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    assert_int_equal(import_path(&fixture.import, "default", path, NULL, &result, &err),
                     BERR_INVALID);
    /* A tarball of something else. */
    snprintf(path, sizeof(path), "%s/other.tar", fixture.root);
    tar = tar_create(path);
    {
        const struct tar_entry readme = {"README", AE_IFREG, "hi", 2, NULL};
        add_entry(tar, &readme);
    }
    tar_close(tar);
    assert_int_equal(import_path(&fixture.import, "default", path, NULL, &result, &err),
                     BERR_INVALID);
    assert_non_null(strstr(err.message, "manifest.json"));
    assert_empty(&fixture, "default");
    assert_int_equal(import_path(&fixture.import, "default", "/nonexistent", NULL, &result, &err),
                     BERR_NOT_FOUND);
}

/* A small uncompressed layer tar in memory. */
static void make_layer(const char *file, const char *content, char **data, size_t *size)
{
    struct archive *tar = archive_write_new();
    struct archive_entry *entry = archive_entry_new();
    size_t capacity = 64 * 1024, used = 0;

    *data = calloc(1, capacity);
    archive_write_set_format_pax_restricted(tar);
    assert_int_equal(archive_write_open_memory(tar, *data, capacity, &used), ARCHIVE_OK);
    archive_entry_set_pathname(entry, file);
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, (la_int64_t)strlen(content));
    assert_int_equal(archive_write_header(tar, entry), ARCHIVE_OK);
    assert_int_equal(archive_write_data(tar, content, strlen(content)), (ssize_t)strlen(content));
    archive_entry_free(entry);
    archive_write_close(tar);
    archive_write_free(tar);
    *size = used;
}

static void imports_a_legacy_docker_save(void **state)
{
    char *layer_one, *layer_two, config[1024], manifest[1024], config_name[80];
    char one_digest[DIGEST_STRING_SIZE], two_digest[DIGEST_STRING_SIZE];
    char config_digest[DIGEST_STRING_SIZE], path[300];
    size_t one_size, two_size;
    const char *one_id = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *two_id = "2222222222222222222222222222222222222222222222222222222222222222";
    const char *three_id = "3333333333333333333333333333333333333333333333333333333333333333";
    char one_path[80], two_path[80], three_path[80], three_link[80], one_json[80];
    struct import_result result = {0};
    struct image_manifest *walked;
    struct berr err = {0};
    struct archive *tar;
    (void)state;

    make_layer("hello.txt", "hello\n", &layer_one, &one_size);
    make_layer("world.txt", "world\n", &layer_two, &two_size);
    digest_sha256_buffer(layer_one, one_size, one_digest, NULL);
    digest_sha256_buffer(layer_two, two_size, two_digest, NULL);
    /* Three layers, the third the first again (saved as a symlink, as Docker did). */
    snprintf(config, sizeof(config),
             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\",\"%s\"]}}",
             one_digest, two_digest, one_digest);
    digest_sha256_buffer(config, strlen(config), config_digest, NULL);
    snprintf(config_name, sizeof(config_name), "%s.json", config_digest + 7);
    snprintf(one_path, sizeof(one_path), "%s/layer.tar", one_id);
    snprintf(two_path, sizeof(two_path), "%s/layer.tar", two_id);
    snprintf(three_path, sizeof(three_path), "%s/layer.tar", three_id);
    snprintf(three_link, sizeof(three_link), "../%s/layer.tar", one_id);
    snprintf(one_json, sizeof(one_json), "%s/json", one_id);
    snprintf(manifest, sizeof(manifest),
             "[{\"Config\":\"%s\",\"RepoTags\":[\"legacy:1\",\"example.com/team/legacy:v1\"],"
             "\"Layers\":[\"%s\",\"%s\",\"%s\"]}]",
             config_name, one_path, two_path, three_path);
    {
        const struct tar_entry entries[] = {
            {one_id, AE_IFDIR, NULL, 0, NULL},
            {one_path, AE_IFREG, layer_one, one_size, NULL},
            {one_json, AE_IFREG, "{}", 2, NULL},
            {two_path, AE_IFREG, layer_two, two_size, NULL},
            {three_path, AE_IFLNK, NULL, 0, three_link},
            {config_name, AE_IFREG, config, strlen(config), NULL},
            {"manifest.json", AE_IFREG, manifest, strlen(manifest), NULL},
            {"repositories", AE_IFREG, "{}", 2, NULL},
        };
        size_t i;
        snprintf(path, sizeof(path), "%s/legacy.tar", fixture.root);
        tar = tar_create(path);
        for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
            add_entry(tar, &entries[i]);
        tar_close(tar);
    }
    if (import_path(&fixture.import, "default", path, NULL, &result, &err))
        fail_msg("import: %s", err.message);
    assert_int_equal(result.image_count, 2);
    assert_string_equal(result.images[0]->name, "docker.io/library/legacy:1");
    assert_string_equal(result.images[1]->name, "example.com/team/legacy:v1");
    assert_string_equal(result.images[0]->target->media_type, IMAGE_MEDIA_DOCKER_MANIFEST);
    import_result_clear(&result);

    assert_int_equal(
        image_store_manifest(fixture.images, "default", "legacy:1", "linux/amd64", &walked, &err),
        0);
    assert_int_equal(walked->layer_count, 3);
    assert_string_equal(walked->config.digest, config_digest);
    assert_string_equal(walked->layers[0].descriptor.media_type, IMAGE_MEDIA_DOCKER_LAYER);
    assert_string_equal(walked->layers[0].descriptor.digest, one_digest);
    assert_string_equal(walked->layers[2].descriptor.digest, one_digest);
    {
        char joined[2 * DIGEST_STRING_SIZE], chain[DIGEST_STRING_SIZE];
        snprintf(joined, sizeof(joined), "%s %s", one_digest, two_digest);
        digest_sha256_buffer(joined, strlen(joined), chain, NULL);
        assert_string_equal(walked->layers[0].chain_id, one_digest);
        assert_string_equal(walked->layers[1].chain_id, chain);
    }
    assert_string_not_equal(walked->layers[2].chain_id, walked->layers[0].chain_id);
    image_manifest_free(walked);
    /* Config, two layers and the synthesised manifest; "<id>/json" was collected. */
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 4);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 4);
    free(layer_one);
    free(layer_two);
}

static void copy_file(const char *from, const char *to)
{
    char buffer[65536];
    ssize_t got;
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(in >= 0 && out >= 0);
    while ((got = read(in, buffer, sizeof(buffer))) > 0)
        assert_int_equal(write(out, buffer, (size_t)got), got);
    close(in);
    close(out);
}

static void names_layouts_with_a_prefix(void **state)
{
    char source[600], layout[300], blobs[400], from[800], to[800], index_path[600];
    char latest[DIGEST_STRING_SIZE], zstd[DIGEST_STRING_SIZE], index[2048], unnamed[512];
    struct import_options options = {.ref_prefix = "example.com/bb"};
    struct label labels[] = {{"imported-by", "test"}};
    struct import_result result = {0};
    Berth__Supervisor__V1__Image *image;
    struct berr err = {0};
    struct dirent *entry;
    DIR *listing;
    int fd;
    (void)state;

    busybox_path("oci", source, sizeof(source));
    busybox_path("oci/index.json", index_path, sizeof(index_path));
    layout_manifest(index_path, "latest", latest);
    layout_manifest(index_path, "latest-zstd", zstd);
    /* A copy of the layout with bare ref names, one manifest with none. */
    snprintf(layout, sizeof(layout), "%s/layout", fixture.root);
    snprintf(blobs, sizeof(blobs), "%s/blobs", layout);
    assert_int_equal(mkdir(layout, 0755), 0);
    assert_int_equal(mkdir(blobs, 0755), 0);
    snprintf(blobs, sizeof(blobs), "%s/blobs/sha256", layout);
    assert_int_equal(mkdir(blobs, 0755), 0);
    snprintf(from, sizeof(from), "%s/blobs/sha256", source);
    listing = opendir(from);
    assert_non_null(listing);
    while ((entry = readdir(listing))) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf(from, sizeof(from), "%s/blobs/sha256/%s", source, entry->d_name);
        snprintf(to, sizeof(to), "%s/%s", blobs, entry->d_name);
        copy_file(from, to);
    }
    closedir(listing);
    {
        /* Sizes from the files. */
        struct stat latest_info, zstd_info;
        snprintf(to, sizeof(to), "%s/%s", blobs, latest + 7);
        assert_int_equal(stat(to, &latest_info), 0);
        snprintf(to, sizeof(to), "%s/%s", blobs, zstd + 7);
        assert_int_equal(stat(to, &zstd_info), 0);
        snprintf(index, sizeof(index),
                 "{\"schemaVersion\":2,\"manifests\":["
                 "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,"
                 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}},"
                 "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}]}",
                 IMAGE_MEDIA_OCI_MANIFEST, latest, (long long)latest_info.st_size,
                 IMAGE_MEDIA_OCI_MANIFEST, zstd, (long long)zstd_info.st_size);
    }
    snprintf(to, sizeof(to), "%s/index.json", layout);
    fd = open(to, O_WRONLY | O_CREAT, 0644);
    assert_int_equal(write(fd, index, strlen(index)), (ssize_t)strlen(index));
    close(fd);

    options.labels = labels;
    options.label_count = 1;
    if (import_path(&fixture.import, "default", layout, &options, &result, &err))
        fail_msg("import: %s", err.message);
    assert_int_equal(result.image_count, 2);
    import_result_clear(&result);
    assert_int_equal(image_store_get(fixture.images, "default", "example.com/bb:v1", &image, &err),
                     0);
    assert_string_equal(image->target->digest, latest);
    assert_int_equal(image->n_labels, 1);
    assert_string_equal(image->labels[0]->value, "test");
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    snprintf(unnamed, sizeof(unnamed), "example.com/bb@%s", zstd);
    assert_int_equal(image_store_get(fixture.images, "default", unnamed, &image, &err), 0);
    berth__supervisor__v1__image__free_unpacked(image, NULL);
    /* Another namespace sees none of it. */
    assert_int_equal(count_images("other"), 0);
    assert_int_equal(fixture_content_count(&fixture, "other", NULL), 0);
}

static void full_disk_leaves_nothing(void **state)
{
    struct fixture small;
    struct import_result result = {0};
    struct import_context context;
    struct berr err = {0};
    char path[600];
    (void)state;

    busybox_path("busybox.tar", path, sizeof(path));
    if (fixture_open(&small, 512 * 1024) != 0)
        skip();
    context = small.import;
    assert_int_equal(import_path(&context, "default", path, NULL, &result, &err), BERR_NOSPACE);
    assert_empty(&small, "default");
    fixture_close(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(imports_the_oci_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(imports_the_docker_save_tarball, setup, teardown),
        cmocka_unit_test_setup_teardown(imports_an_unpacked_docker_save, setup, teardown),
        cmocka_unit_test_setup_teardown(imports_from_an_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(imports_from_a_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_hostile_tarballs, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_incomplete_and_foreign_input, setup, teardown),
        cmocka_unit_test_setup_teardown(imports_a_legacy_docker_save, setup, teardown),
        cmocka_unit_test_setup_teardown(names_layouts_with_a_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(full_disk_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
