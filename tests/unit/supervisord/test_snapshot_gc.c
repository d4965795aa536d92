/* Unit tests of supervisord/snapshot_gc: what keeps a snapshot through a
 * collection, and that directories go only with their last record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "berth/supervisor/v1/containers.pb-c.h"
#include "record.h"
#include "snapshot_gc.h"
#include "store_fixture.h"

#define CHAIN "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static struct fixture fixture;
static struct snapshotter *snapshotter;

static int setup(void **state)
{
    struct berr err = {0};

    (void)state;
    if (fixture_open(&fixture, 0) ||
        snapshotter_open(fixture.root, fixture.metadata, &snapshotter, &err) ||
        snapshot_gc_register(fixture.gc, snapshotter, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fixture_close(&fixture); /* closes the collector, and with it the hook */
    snapshotter_close(snapshotter);
    return 0;
}

static void check(int rc, const struct berr *err)
{
    if (rc)
        fail_msg("%s", err->message);
}

static void prepare(const char *namespace, const char *key, const char *parent,
                    const struct snapshot_label *labels, size_t label_count)
{
    struct berr err = {0};

    check(snapshot_prepare(snapshotter, namespace, key, parent, labels, label_count, NULL, &err),
          &err);
}

static void commit(const char *namespace, const char *name, const char *key)
{
    struct berr err = {0};

    check(snapshot_commit(snapshotter, namespace, name, key, NULL, 0, &err), &err);
}

static bool exists(const char *namespace, const char *key)
{
    struct snapshot_info info;

    if (snapshot_stat(snapshotter, namespace, key, &info, NULL) != 0)
        return false;
    snapshot_info_free(&info);
    return true;
}

static int64_t collect(void)
{
    struct gc_result result;
    struct berr err = {0};

    check(gc_collect(fixture.gc, &result, &err), &err);
    return result.removed_snapshots;
}

static int directories(void)
{
    struct dirent *entry;
    int count = 0;
    DIR *listing = opendir(snapshotter_directory(snapshotter));

    assert_non_null(listing);
    while ((entry = readdir(listing)))
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
            count++;
    closedir(listing);
    return count;
}

static void put_container(const char *id, const char *snapshotter_name, const char *key)
{
    Berth__Supervisor__V1__Container container = BERTH__SUPERVISOR__V1__CONTAINER__INIT;
    struct metadata_txn *txn;
    struct berr err = {0};

    container.id = (char *)id;
    container.snapshotter = (char *)snapshotter_name;
    container.snapshot_key = (char *)key;
    check(metadata_begin(fixture.metadata, true, &txn, &err), &err);
    check(record_put(txn, METADATA_CONTAINERS, "default", id, &container.base, &err), &err);
    check(metadata_commit(txn, &err), &err);
}

static void delete_container(const char *id)
{
    struct metadata_txn *txn;
    struct berr err = {0};

    check(metadata_begin(fixture.metadata, true, &txn, &err), &err);
    check(metadata_delete(txn, METADATA_CONTAINERS, "default", id, &err), &err);
    check(metadata_commit(txn, &err), &err);
}

static void put_content(const char *text, const struct label *labels, size_t count,
                        char digest[DIGEST_STRING_SIZE])
{
    struct content_commit_options options = {labels, count, NULL};
    struct berr err = {0};

    check(content_store_commit_buffer(fixture.content, "default", text, strlen(text), NULL,
                                      &options, digest, &err),
          &err);
}

static void unreferenced_snapshots_go_with_their_directories(void **state)
{
    (void)state;
    prepare("default", "base", NULL, NULL, 0);
    commit("default", "layer", "base");
    prepare("default", "top", "layer", NULL, 0);
    assert_int_equal(directories(), 2);
    assert_int_equal(collect(), 2);
    assert_false(exists("default", "top"));
    assert_false(exists("default", "layer"));
    assert_int_equal(directories(), 0);
}

static void a_container_keeps_its_snapshot_and_its_parents(void **state)
{
    (void)state;
    prepare("default", "base", NULL, NULL, 0);
    commit("default", "layer", "base");
    prepare("default", "rootfs", "layer", NULL, 0);
    prepare("default", "elsewhere", NULL, NULL, 0);
    put_container("web", "", "rootfs");
    put_container("db", "btrfs", "elsewhere"); /* another snapshotter's key */
    assert_int_equal(collect(), 1);
    assert_true(exists("default", "rootfs"));
    assert_true(exists("default", "layer"));
    assert_false(exists("default", "elsewhere"));
    delete_container("web");
    assert_int_equal(collect(), 2);
    assert_int_equal(directories(), 0);
}

static void unpacks_in_progress_are_left_alone(void **state)
{
    (void)state;
    prepare("default", "extract-1700000000000000000-1 " CHAIN, NULL, NULL, 0);
    prepare("default", "extracted-but-not-ours", NULL, NULL, 0);
    assert_int_equal(collect(), 1);
    assert_true(exists("default", "extract-1700000000000000000-1 " CHAIN));
}

static void a_shared_directory_stays_for_the_other_namespace(void **state)
{
    struct snapshot_label root = {(char *)GC_LABEL_ROOT, (char *)"1"};
    struct berr err = {0};

    (void)state;
    prepare("first", "unpacking", NULL, NULL, 0);
    check(snapshot_commit_chain(snapshotter, "first", CHAIN, "unpacking", NULL, 0, &err), &err);
    check(snapshot_share_chain(snapshotter, "second", CHAIN, NULL, &root, 1, &err), &err);
    assert_int_equal(collect(), 1);
    assert_false(exists("first", CHAIN));
    assert_true(exists("second", CHAIN));
    assert_int_equal(directories(), 1);
    check(snapshot_remove(snapshotter, "second", CHAIN, &err), &err);
    assert_int_equal(directories(), 0);
}

static void content_names_snapshots_only_while_it_is_kept(void **state)
{
    char kept[DIGEST_STRING_SIZE], dropped[DIGEST_STRING_SIZE];
    struct label keeping[] = {{GC_LABEL_ROOT, "1"}, {SNAPSHOT_GC_REF_LABEL, "kept"}};
    struct label naming[] = {{SNAPSHOT_GC_REF_LABEL ".other", "dropped"}};

    (void)state;
    prepare("default", "kept-work", NULL, NULL, 0);
    commit("default", "kept", "kept-work");
    prepare("default", "dropped-work", NULL, NULL, 0);
    commit("default", "dropped", "dropped-work");
    put_content("a root config", keeping, 2, kept);
    put_content("a config nothing keeps", naming, 1, dropped);
    assert_int_equal(collect(), 1);
    assert_true(exists("default", "kept"));
    assert_false(exists("default", "dropped"));
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 1);
}

/* root content → snapshot A → (content label) blob → snapshot B: two rounds. */
static void references_chain_across_rounds(void **state)
{
    char root_digest[DIGEST_STRING_SIZE], blob_digest[DIGEST_STRING_SIZE];
    struct label blob_labels[] = {{SNAPSHOT_GC_REF_LABEL, "b"}};
    struct snapshot_label a_labels[1];
    struct label root_labels[] = {{GC_LABEL_ROOT, "1"}, {SNAPSHOT_GC_REF_LABEL, "a"}};

    (void)state;
    put_content("blob naming b", blob_labels, 1, blob_digest);
    a_labels[0].key = (char *)GC_LABEL_REF_CONTENT "checkpoint";
    a_labels[0].value = blob_digest;
    prepare("default", "a", NULL, a_labels, 1);
    prepare("default", "b", NULL, NULL, 0);
    prepare("default", "c", NULL, NULL, 0);
    put_content("root naming a", root_labels, 2, root_digest);
    assert_int_equal(collect(), 1);
    assert_true(exists("default", "a"));
    assert_true(exists("default", "b"));
    assert_false(exists("default", "c"));
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 2);
}

static void leases_and_root_labels_keep_snapshots(void **state)
{
    struct snapshot_label root = {(char *)GC_LABEL_ROOT, (char *)""};
    struct berr err = {0};

    (void)state;
    prepare("default", "leased", NULL, NULL, 0);
    prepare("default", "rooted", NULL, &root, 1);
    prepare("default", "neither", NULL, NULL, 0);
    check(leases_create(fixture.metadata, "default", "work", NULL, 0, 0, NULL, &err), &err);
    check(
        leases_add_resource(fixture.metadata, "default", "work", SNAPSHOT_GC_LEASE, "leased", &err),
        &err);
    /* A lease of another namespace holds nothing here. */
    check(leases_create(fixture.metadata, "other", "work", NULL, 0, 0, NULL, &err), &err);
    check(
        leases_add_resource(fixture.metadata, "other", "work", SNAPSHOT_GC_LEASE, "neither", &err),
        &err);
    assert_int_equal(collect(), 1);
    assert_true(exists("default", "leased"));
    assert_true(exists("default", "rooted"));
    check(leases_delete(fixture.metadata, "default", "work", &err), &err);
    assert_int_equal(collect(), 1);
    assert_false(exists("default", "leased"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unreferenced_snapshots_go_with_their_directories, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_container_keeps_its_snapshot_and_its_parents, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unpacks_in_progress_are_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(a_shared_directory_stays_for_the_other_namespace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(content_names_snapshots_only_while_it_is_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(references_chain_across_rounds, setup, teardown),
        cmocka_unit_test_setup_teardown(leases_and_root_labels_keep_snapshots, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
