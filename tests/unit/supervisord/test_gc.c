/* Unit tests of supervisord/gc and supervisord/leases. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "store_fixture.h"
#include "record.h"

#ifndef BERTH_BUSYBOX_IMAGE_DIR
#define BERTH_BUSYBOX_IMAGE_DIR "build/images/busybox"
#endif

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct fixture fixture;

static int setup(void **state)
{
    (void)state;
    return fixture_open(&fixture, 0);
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(&fixture);
    return 0;
}

static void import_busybox(const char *namespace)
{
    const char *override = getenv("BERTH_BUSYBOX_IMAGE_DIR");
    struct import_result result = {0};
    struct berr err = {0};
    char path[600];

    snprintf(path, sizeof(path), "%s/oci", override ? override : BERTH_BUSYBOX_IMAGE_DIR);
    if (import_path(&fixture.import, namespace, path, NULL, &result, &err))
        fail_msg("import %s: %s", path, err.message);
    import_result_clear(&result);
}

static void put(const char *namespace, const char *text, const struct label *labels,
                size_t label_count, const char *lease, char digest[DIGEST_STRING_SIZE])
{
    struct content_commit_options options = {labels, label_count, lease};
    struct berr err = {0};
    int rc = content_store_commit_buffer(fixture.content, namespace, text, strlen(text), NULL,
                                         &options, digest, &err);
    if (rc && rc != BERR_EXISTS)
        fail_msg("put: %s", err.message);
}

static bool present(const char *namespace, const char *digest)
{
    Berth__Supervisor__V1__ContentInfo *info;

    if (content_store_info(fixture.content, namespace, digest, &info, NULL) != 0)
        return false;
    berth__supervisor__v1__content_info__free_unpacked(info, NULL);
    return true;
}

static void collect(struct gc_result *result)
{
    struct berr err = {0};

    if (gc_collect(fixture.gc, result, &err))
        fail_msg("collect: %s", err.message);
}

static void keeps_what_is_referenced(void **state)
{
    char orphan[DIGEST_STRING_SIZE], root[DIGEST_STRING_SIZE], child[DIGEST_STRING_SIZE];
    char grandchild[DIGEST_STRING_SIZE], leased[DIGEST_STRING_SIZE];
    struct label root_labels[2], child_labels[1];
    struct gc_result result;
    struct berr err = {0};
    (void)state;

    import_busybox("default");
    put("default", "nobody wants me", NULL, 0, NULL, orphan);
    put("default", "grandchild", NULL, 0, NULL, grandchild);
    child_labels[0] = (struct label){"berth.gc.ref.content.next", grandchild};
    put("default", "child", child_labels, 1, NULL, child);
    root_labels[0] = (struct label){GC_LABEL_ROOT, ""};
    root_labels[1] = (struct label){"berth.gc.ref.content.child", child};
    put("default", "a root", root_labels, 2, NULL, root);
    assert_int_equal(leases_create(fixture.metadata, "default", "pull-1", NULL, 0, 0, NULL, &err),
                     0);
    put("default", "leased", NULL, 0, "pull-1", leased);
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 10);

    collect(&result);
    assert_int_equal(result.removed_content, 1);
    assert_int_equal(result.removed_blobs, 1);
    assert_int_equal(result.freed_bytes, (int64_t)strlen("nobody wants me"));
    assert_false(present("default", orphan));
    assert_true(present("default", root));
    assert_true(present("default", child));
    assert_true(present("default", grandchild));
    assert_true(present("default", leased));
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 9);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 9);

    /* The lease gone, its blob goes; a second run finds nothing more. */
    assert_int_equal(leases_delete(fixture.metadata, "default", "pull-1", &err), 0);
    collect(&result);
    assert_int_equal(result.removed_content, 1);
    assert_false(present("default", leased));
    collect(&result);
    assert_int_equal(result.removed_content, 0);
    assert_int_equal(result.removed_blobs, 0);
}

static void follows_images(void **state)
{
    struct image_manifest *gzip_manifest, *zstd_manifest;
    struct gc_result result;
    struct berr err = {0};
    (void)state;

    import_busybox("default");
    assert_int_equal(
        image_store_manifest(fixture.images, "default", "busybox", NULL, &gzip_manifest, &err), 0);
    assert_int_equal(image_store_manifest(fixture.images, "default", "busybox:latest-zstd", NULL,
                                          &zstd_manifest, &err),
                     0);
    collect(&result);
    assert_int_equal(result.removed_content, 0);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 5);

    /* Without the zstd image: its manifest and layer go, the shared config stays. */
    assert_int_equal(image_store_delete(fixture.images, "default",
                                        "docker.io/library/busybox:latest-zstd", &err),
                     0);
    collect(&result);
    assert_int_equal(result.removed_content, 2);
    assert_false(present("default", zstd_manifest->manifest.digest));
    assert_false(present("default", zstd_manifest->layers[0].descriptor.digest));
    assert_true(present("default", zstd_manifest->config.digest));
    assert_true(present("default", gzip_manifest->layers[0].descriptor.digest));

    /* Without any image, everything goes. */
    assert_int_equal(
        image_store_delete(fixture.images, "default", "docker.io/library/busybox:latest", &err), 0);
    collect(&result);
    assert_int_equal(result.removed_content, 3);
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 0);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 0);
    image_manifest_free(gzip_manifest);
    image_manifest_free(zstd_manifest);
}

static void works_per_namespace(void **state)
{
    struct gc_result result;
    struct berr err = {0};
    char copy[DIGEST_STRING_SIZE];
    struct image_manifest *manifest;
    struct content_reader *reader;
    char *layer;
    size_t got;
    (void)state;

    import_busybox("alpha");
    assert_int_equal(
        image_store_manifest(fixture.images, "alpha", "busybox", NULL, &manifest, &err), 0);
    /* beta writes the same layer but has no image: its record goes, alpha's file stays. */
    assert_int_equal(content_reader_open(fixture.content, "alpha",
                                         manifest->layers[0].descriptor.digest, &reader, &err),
                     0);
    layer = malloc((size_t)content_reader_size(reader));
    assert_int_equal(
        content_reader_read_at(reader, 0, layer, (size_t)content_reader_size(reader), &got, &err),
        0);
    assert_int_equal(content_store_commit_buffer(fixture.content, "beta", layer, got,
                                                 manifest->layers[0].descriptor.digest, NULL, copy,
                                                 &err),
                     0);
    content_reader_close(reader);
    free(layer);
    collect(&result);
    assert_int_equal(result.removed_content, 1);
    assert_int_equal(result.removed_blobs, 0);
    assert_false(present("beta", copy));
    assert_true(present("alpha", copy));
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 5);
    image_manifest_free(manifest);
}

static void removes_orphaned_files(void **state)
{
    char path[512];
    struct gc_result result;
    int fd;
    (void)state;

    /* A crash between a rename and its record leaves such a file. */
    snprintf(path, sizeof(path), "%s/blobs/sha256/%064d", fixture.content_path, 0);
    fd = open(path, O_WRONLY | O_CREAT, 0444);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "lost", 4), 4);
    close(fd);
    snprintf(path, sizeof(path), "%s/blobs/sha256/not-a-digest", fixture.content_path);
    close(open(path, O_WRONLY | O_CREAT, 0444));
    collect(&result);
    assert_int_equal(result.removed_blobs, 1);
    assert_int_equal(result.freed_bytes, 4);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 1); /* not ours to judge */
}

static void expires_leases(void **state)
{
    Berth__Supervisor__V1__Lease lease = BERTH__SUPERVISOR__V1__LEASE__INIT;
    Berth__Supervisor__V1__Timestamp long_ago = BERTH__SUPERVISOR__V1__TIMESTAMP__INIT;
    struct metadata_txn *txn;
    struct gc_result result;
    struct berr err = {0};
    char digest[DIGEST_STRING_SIZE], kept[DIGEST_STRING_SIZE];
    (void)state;

    /* A lease created an hour ago that expired after a minute. */
    long_ago.seconds = time(NULL) - 3600;
    lease.id = "old";
    lease.created_at = &long_ago;
    lease.expires_in_seconds = 60;
    assert_int_equal(metadata_begin(fixture.metadata, true, &txn, &err), 0);
    assert_int_equal(record_put(txn, METADATA_LEASES, "default", "old", &lease.base, &err), 0);
    assert_int_equal(metadata_commit(txn, &err), 0);
    put("default", "held by an expired lease", NULL, 0, "old", digest);
    assert_int_equal(leases_create(fixture.metadata, "default", "fresh", NULL, 0, 3600, NULL, &err),
                     0);
    put("default", "held by a fresh lease", NULL, 0, "fresh", kept);

    collect(&result);
    assert_int_equal(result.removed_leases, 1);
    assert_int_equal(result.removed_content, 1);
    assert_false(present("default", digest));
    assert_true(present("default", kept));
    {
        Berth__Supervisor__V1__Lease *out;
        assert_int_equal(leases_get(fixture.metadata, "default", "old", &out, &err),
                         BERR_NOT_FOUND);
    }
}

struct hook_state {
    char digest[DIGEST_STRING_SIZE];
    bool saw_lease;
    int sweeps;
    int finishes;
    bool committed;
};

static int hook_mark(struct gc_mark *mark, struct metadata_txn *txn, void *user, struct berr *err)
{
    struct hook_state *hook = user;

    (void)txn, (void)err;
    hook->saw_lease = gc_leased(mark, "default", "snapshots/overlayfs", "layer-1");
    /* What a snapshot's labels say it was unpacked from. */
    gc_mark_label(mark, "default", "berth.gc.ref.content.l.0", hook->digest);
    gc_mark_label(mark, "default", "unrelated", "sha256:nothing");
    return 0;
}

static int hook_sweep(struct gc_mark *mark, struct metadata_txn *txn, void *user,
                      struct gc_result *result, struct berr *err)
{
    struct hook_state *hook = user;

    (void)mark, (void)txn, (void)err;
    hook->sweeps++;
    result->removed_snapshots += 2;
    return 0;
}

static void hook_finish(void *user, bool committed)
{
    struct hook_state *hook = user;

    hook->finishes++;
    hook->committed = committed;
}

static void runs_hooks(void **state)
{
    struct hook_state hook = {0};
    struct gc_hook definition = {
        .name = "snapshots",
        .mark = hook_mark,
        .sweep = hook_sweep,
        .finish = hook_finish,
        .user = &hook,
    };
    struct gc_result result;
    struct berr err = {0};
    (void)state;

    put("default", "unpacked layer", NULL, 0, NULL, hook.digest);
    assert_int_equal(leases_create(fixture.metadata, "default", "unpack", NULL, 0, 0, NULL, &err),
                     0);
    assert_int_equal(leases_add_resource(fixture.metadata, "default", "unpack",
                                         "snapshots/overlayfs", "layer-1", &err),
                     0);
    assert_int_equal(gc_register(fixture.gc, &definition, &err), 0);
    collect(&result);
    assert_true(hook.saw_lease);
    assert_int_equal(hook.sweeps, 1);
    assert_int_equal(hook.finishes, 1);
    assert_true(hook.committed);
    assert_int_equal(result.removed_snapshots, 2);
    assert_int_equal(result.removed_content, 0);
    assert_true(present("default", hook.digest));
}

static void follows_container_labels(void **state)
{
    Berth__Supervisor__V1__Container container = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    Berth__Supervisor__V1__Container__LabelsEntry entry =
        BERTH__SUPERVISOR__V1__CONTAINER__LABELS_ENTRY__INIT;
    Berth__Supervisor__V1__Container__LabelsEntry *entries[] = {&entry};
    char digest[DIGEST_STRING_SIZE];
    struct metadata_txn *txn;
    struct gc_result result;
    struct berr err = {0};
    (void)state;

    put("default", "checkpoint", NULL, 0, NULL, digest);
    container.id = "web";
    entry.key = "berth.gc.ref.content.checkpoint";
    entry.value = digest;
    container.n_labels = 1;
    container.labels = entries;
    assert_int_equal(metadata_begin(fixture.metadata, true, &txn, &err), 0);
    assert_int_equal(record_put(txn, METADATA_CONTAINERS, "default", "web", &container.base, &err),
                     0);
    assert_int_equal(metadata_commit(txn, &err), 0);
    collect(&result);
    assert_int_equal(result.removed_content, 0);
    assert_true(present("default", digest));
}

static int collect_lease_id(const Berth__Supervisor__V1__Lease *lease, void *user)
{
    strcat(user, lease->id);
    strcat(user, ";");
    return 0;
}

static int collect_resource(const char *type, const char *resource, void *user)
{
    strcat(user, type);
    strcat(user, "=");
    strcat(user, resource);
    strcat(user, ";");
    return 0;
}

static void manages_leases(void **state)
{
    struct label labels[] = {{"owner", "pull"}};
    Berth__Supervisor__V1__Lease *lease;
    const char *filters[] = {"labels.owner==pull"};
    char listed[512] = "";
    struct berr err = {0};
    (void)state;

    assert_int_equal(leases_create(fixture.metadata, "default", "one", labels, 1, 30, &lease, &err),
                     0);
    assert_string_equal(lease->id, "one");
    assert_int_equal(lease->expires_in_seconds, 30);
    assert_int_equal(lease->n_labels, 1);
    berth__supervisor__v1__lease__free_unpacked(lease, NULL);
    assert_int_equal(leases_create(fixture.metadata, "default", "one", NULL, 0, 0, NULL, &err),
                     BERR_EXISTS);
    assert_int_equal(leases_create(fixture.metadata, "default", NULL, NULL, 0, 0, &lease, &err), 0);
    assert_true(strlen(lease->id) > 10);
    berth__supervisor__v1__lease__free_unpacked(lease, NULL);
    assert_int_equal(leases_create(fixture.metadata, "default", "a/b", NULL, 0, 0, NULL, &err),
                     BERR_INVALID);

    assert_int_equal(
        leases_list(fixture.metadata, "default", filters, 1, collect_lease_id, listed, &err), 0);
    assert_string_equal(listed, "one;");

    assert_int_equal(
        leases_add_resource(fixture.metadata, "default", "one", "content", DIGEST_A, &err), 0);
    assert_int_equal(leases_add_resource(fixture.metadata, "default", "one", "snapshots/overlayfs",
                                         "key/with/slashes", &err),
                     0);
    assert_int_equal(leases_add_resource(fixture.metadata, "default", "one", "volumes", "x", &err),
                     BERR_INVALID);
    assert_int_equal(
        leases_add_resource(fixture.metadata, "default", "one", "content", "sha256:short", &err),
        BERR_INVALID);
    assert_int_equal(
        leases_add_resource(fixture.metadata, "default", "none", "content", DIGEST_A, &err),
        BERR_NOT_FOUND);
    listed[0] = '\0';
    assert_int_equal(
        leases_list_resources(fixture.metadata, "default", "one", collect_resource, listed, &err),
        0);
    assert_string_equal(listed, "content=" DIGEST_A ";snapshots/overlayfs=key/with/slashes;");
    assert_int_equal(
        leases_delete_resource(fixture.metadata, "default", "one", "content", DIGEST_A, &err), 0);
    assert_int_equal(
        leases_delete_resource(fixture.metadata, "default", "one", "content", DIGEST_A, &err),
        BERR_NOT_FOUND);
    assert_int_equal(leases_delete(fixture.metadata, "default", "one", &err), 0);
    assert_int_equal(leases_delete(fixture.metadata, "default", "one", &err), BERR_NOT_FOUND);
    /* Its resources went with it. */
    assert_int_equal(leases_create(fixture.metadata, "default", "one", NULL, 0, 0, NULL, &err), 0);
    listed[0] = '\0';
    assert_int_equal(
        leases_list_resources(fixture.metadata, "default", "one", collect_resource, listed, &err),
        0);
    assert_string_equal(listed, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keeps_what_is_referenced, setup, teardown),
        cmocka_unit_test_setup_teardown(follows_images, setup, teardown),
        cmocka_unit_test_setup_teardown(works_per_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(removes_orphaned_files, setup, teardown),
        cmocka_unit_test_setup_teardown(expires_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(runs_hooks, setup, teardown),
        cmocka_unit_test_setup_teardown(follows_container_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(manages_leases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
