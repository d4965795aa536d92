/* Unit tests of supervisord/content_store. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"
#include "record.h"

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

static void digest_of(const char *text, char out[DIGEST_STRING_SIZE])
{
    assert_int_equal(digest_sha256_buffer(text, strlen(text), out, NULL), 0);
}

static void commit_text(const char *namespace, const char *text, const struct label *labels,
                        size_t label_count, char digest[DIGEST_STRING_SIZE])
{
    struct content_commit_options options = {labels, label_count, NULL};
    struct berr err = {0};
    int rc = content_store_commit_buffer(fixture.content, namespace, text, strlen(text), NULL,
                                         &options, digest, &err);
    if (rc)
        fail_msg("commit: %s", err.message);
}

static void writes_commits_and_reads(void **state)
{
    struct content_writer *writer;
    struct content_status status;
    struct content_reader *reader;
    Berth__Supervisor__V1__ContentInfo *info;
    struct label labels[] = {{"kind", "greeting"}};
    struct content_commit_options options = {labels, 1, NULL};
    char expected[DIGEST_STRING_SIZE], digest[DIGEST_STRING_SIZE], buffer[32];
    struct berr err = {0};
    char *all;
    size_t got, size;
    (void)state;

    digest_of("hello world", expected);
    assert_int_equal(
        content_writer_open(fixture.content, "default", "greeting", 11, expected, &writer, &err),
        0);
    assert_int_equal(content_writer_write(writer, 0, "hello ", 6, &err), 0);
    assert_int_equal(content_writer_write(writer, 6, "world", 5, &err), 0);
    content_writer_status(writer, &status);
    assert_int_equal(status.offset, 11);
    assert_int_equal(status.total, 11);
    assert_string_equal(status.expected, expected);
    assert_string_equal(status.ref, "greeting");
    assert_int_equal(fixture_count(&fixture, "ingest"), 1);
    assert_int_equal(content_writer_commit(writer, 11, expected, &options, digest, &err), 0);
    content_writer_close(writer);
    assert_string_equal(digest, expected);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 1);

    assert_int_equal(content_store_info(fixture.content, "default", expected, &info, &err), 0);
    assert_int_equal(info->size, 11);
    assert_non_null(info->created_at);
    assert_int_equal(info->n_labels, 1);
    assert_string_equal(info->labels[0]->key, "kind");
    assert_string_equal(info->labels[0]->value, "greeting");
    berth__supervisor__v1__content_info__free_unpacked(info, NULL);

    assert_int_equal(content_reader_open(fixture.content, "default", expected, &reader, &err), 0);
    assert_int_equal(content_reader_size(reader), 11);
    assert_int_equal(content_reader_read_at(reader, 6, buffer, 5, &got, &err), 0);
    assert_int_equal(got, 5);
    assert_memory_equal(buffer, "world", 5);
    assert_int_equal(content_reader_read_at(reader, 3, buffer, sizeof(buffer), &got, &err), 0);
    assert_int_equal(got, 8);
    assert_memory_equal(buffer, "lo world", 8);
    assert_int_equal(content_reader_read_at(reader, 11, buffer, sizeof(buffer), &got, &err), 0);
    assert_int_equal(got, 0);
    assert_int_equal(content_reader_read_at(reader, -1, buffer, 1, &got, &err), BERR_INVALID);
    content_reader_close(reader);

    assert_int_equal(
        content_store_read_all(fixture.content, "default", expected, 64, &all, &size, &err), 0);
    assert_string_equal(all, "hello world");
    free(all);
    assert_int_equal(
        content_store_read_all(fixture.content, "default", expected, 4, &all, &size, &err),
        BERR_INVALID);
}

static void resumes_an_interrupted_write(void **state)
{
    struct content_writer *writer;
    struct content_status status;
    char expected[DIGEST_STRING_SIZE], digest[DIGEST_STRING_SIZE];
    struct berr err = {0};
    (void)state;

    digest_of("resumable content", expected);
    assert_int_equal(
        content_writer_open(fixture.content, "default", "layer-1", 0, NULL, &writer, &err), 0);
    assert_int_equal(content_writer_write(writer, 0, "resumable", 9, &err), 0);
    content_writer_close(writer); /* the client went away */

    assert_int_equal(content_store_status(fixture.content, "default", "layer-1", &status, &err), 0);
    assert_int_equal(status.offset, 9);
    assert_true(status.started.tv_sec > 0);

    /* Reopened with the expectations now known: the data there is re-hashed. */
    assert_int_equal(
        content_writer_open(fixture.content, "default", "layer-1", 17, expected, &writer, &err), 0);
    content_writer_status(writer, &status);
    assert_int_equal(status.offset, 9);
    assert_int_equal(status.total, 17);
    assert_int_equal(content_writer_write(writer, 0, "again", 5, &err), BERR_INVALID);
    assert_int_equal(content_writer_write(writer, 9, " content", 8, &err), 0);
    assert_int_equal(content_writer_commit(writer, 0, NULL, NULL, digest, &err), 0);
    content_writer_close(writer);
    assert_string_equal(digest, expected);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
}

static void wrong_offsets_and_sizes_are_refused(void **state)
{
    struct content_writer *writer;
    struct berr err = {0};
    (void)state;

    assert_int_equal(
        content_writer_open(fixture.content, "default", "sized", 4, NULL, &writer, &err), 0);
    assert_int_equal(content_writer_write(writer, 1, "a", 1, &err), BERR_INVALID);
    assert_non_null(strstr(err.message, "offset"));
    assert_int_equal(content_writer_write(writer, 0, "abcde", 5, &err), BERR_INVALID);
    assert_int_equal(content_writer_write(writer, 0, "abc", 3, &err), 0);
    assert_int_equal(content_writer_commit(writer, 0, NULL, NULL, NULL, &err), BERR_INVALID);
    assert_non_null(strstr(err.message, "size mismatch"));
    assert_int_equal(content_writer_commit(writer, 2, NULL, NULL, NULL, &err), BERR_INVALID);
    assert_int_equal(content_writer_write(writer, 3, "d", 1, &err), 0);
    assert_int_equal(content_writer_commit(writer, 4, NULL, NULL, NULL, &err), 0);
    assert_int_equal(content_writer_write(writer, 4, "e", 1, &err), BERR_CONFLICT);
    content_writer_close(writer);
}

static void digest_mismatch_keeps_the_ingest(void **state)
{
    struct content_writer *writer;
    struct content_status status;
    char wrong[DIGEST_STRING_SIZE], right[DIGEST_STRING_SIZE], digest[DIGEST_STRING_SIZE];
    struct berr err = {0};
    (void)state;

    digest_of("something else", wrong);
    digest_of("payload", right);
    assert_int_equal(
        content_writer_open(fixture.content, "default", "mismatch", 0, wrong, &writer, &err), 0);
    assert_int_equal(content_writer_write(writer, 0, "payload", 7, &err), 0);
    assert_int_equal(content_writer_commit(writer, 7, NULL, NULL, digest, &err), BERR_INVALID);
    assert_non_null(strstr(err.message, "digest mismatch"));
    /* Nothing under blobs/, the ingest still there for a retry. */
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 0);
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 0);
    assert_int_equal(content_store_status(fixture.content, "default", "mismatch", &status, &err),
                     0);
    assert_int_equal(status.offset, 7);
    /* The retry with the right digest works (the hash is rebuilt from disk). */
    assert_int_equal(content_writer_commit(writer, 7, right, NULL, digest, &err), 0);
    assert_string_equal(digest, right);
    content_writer_close(writer);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 1);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
}

static void aborts(void **state)
{
    struct content_writer *writer, *second;
    struct content_status status;
    struct berr err = {0};
    (void)state;

    assert_int_equal(
        content_writer_open(fixture.content, "default", "doomed", 0, NULL, &writer, &err), 0);
    assert_int_equal(content_writer_write(writer, 0, "xyz", 3, &err), 0);
    /* A held ref cannot be aborted from the side, nor opened twice. */
    assert_int_equal(content_store_abort(fixture.content, "default", "doomed", &err),
                     BERR_CONFLICT);
    assert_int_equal(
        content_writer_open(fixture.content, "default", "doomed", 0, NULL, &second, &err),
        BERR_CONFLICT);
    assert_non_null(strstr(err.message, "locked"));
    content_writer_abort(writer);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
    assert_int_equal(content_store_status(fixture.content, "default", "doomed", &status, &err),
                     BERR_NOT_FOUND);

    assert_int_equal(
        content_writer_open(fixture.content, "default", "dropped", 0, NULL, &writer, &err), 0);
    assert_int_equal(content_writer_write(writer, 0, "xyz", 3, &err), 0);
    content_writer_close(writer);
    assert_int_equal(content_store_abort(fixture.content, "default", "dropped", &err), 0);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
    assert_int_equal(content_store_abort(fixture.content, "default", "dropped", &err),
                     BERR_NOT_FOUND);
}

static int collect_ref(const struct content_status *status, void *user)
{
    char *refs = user;
    strcat(refs, status->ref);
    strcat(refs, ";");
    return 0;
}

static void lists_statuses_per_namespace(void **state)
{
    struct content_writer *first, *second, *other;
    const char *filters[] = {"ref==two"};
    char refs[256] = "";
    struct berr err = {0};
    (void)state;

    assert_int_equal(content_writer_open(fixture.content, "a", "one", 0, NULL, &first, &err), 0);
    assert_int_equal(content_writer_open(fixture.content, "a", "two", 0, NULL, &second, &err), 0);
    assert_int_equal(content_writer_open(fixture.content, "b", "one", 0, NULL, &other, &err), 0);
    assert_int_equal(
        content_store_list_statuses(fixture.content, "a", NULL, 0, collect_ref, refs, &err), 0);
    assert_true(!strcmp(refs, "one;two;") || !strcmp(refs, "two;one;"));
    refs[0] = '\0';
    assert_int_equal(
        content_store_list_statuses(fixture.content, "a", filters, 1, collect_ref, refs, &err), 0);
    assert_string_equal(refs, "two;");
    content_writer_abort(first);
    content_writer_abort(second);
    content_writer_abort(other);
}

static void namespaces_are_isolated(void **state)
{
    Berth__Supervisor__V1__ContentInfo *info;
    struct content_reader *reader;
    char digest[DIGEST_STRING_SIZE], again[DIGEST_STRING_SIZE];
    struct berr err = {0};
    (void)state;

    commit_text("alpha", "shared bytes", NULL, 0, digest);
    assert_int_equal(content_store_info(fixture.content, "beta", digest, &info, &err),
                     BERR_NOT_FOUND);
    assert_int_equal(content_reader_open(fixture.content, "beta", digest, &reader, &err),
                     BERR_NOT_FOUND);
    assert_int_equal(fixture_content_count(&fixture, "beta", NULL), 0);
    /* beta proves it has the bytes by writing them; the file is shared. */
    commit_text("beta", "shared bytes", NULL, 0, again);
    assert_string_equal(digest, again);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 1);
    assert_int_equal(content_store_commit_buffer(fixture.content, "beta", "shared bytes", 12, NULL,
                                                 NULL, again, &err),
                     BERR_EXISTS);
    /* The file goes with the last namespace's record. */
    assert_int_equal(content_store_delete(fixture.content, "alpha", digest, &err), 0);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 1);
    assert_int_equal(content_store_delete(fixture.content, "alpha", digest, &err), BERR_NOT_FOUND);
    assert_int_equal(content_store_info(fixture.content, "beta", digest, &info, &err), 0);
    berth__supervisor__v1__content_info__free_unpacked(info, NULL);
    assert_int_equal(content_store_delete(fixture.content, "beta", digest, &err), 0);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 0);
}

static void labels_filters_and_updates(void **state)
{
    struct label config_labels[] = {{"kind", "config"}, {"berth.gc.root", "1"}};
    struct label layer_labels[] = {{"kind", "layer"}};
    char config[DIGEST_STRING_SIZE], layer[DIGEST_STRING_SIZE], plain[DIGEST_STRING_SIZE];
    char filter[128];
    Berth__Supervisor__V1__ContentInfo update = BERTH__SUPERVISOR__V1__CONTENT_INFO__INIT, *out;
    Berth__Supervisor__V1__ContentInfo__LabelsEntry entry =
        BERTH__SUPERVISOR__V1__CONTENT_INFO__LABELS_ENTRY__INIT;
    Berth__Supervisor__V1__ContentInfo__LabelsEntry *entries[] = {&entry};
    const char *mask_key[] = {"labels.kind"}, *mask_gone[] = {"labels.berth.gc.root"},
               *mask_all[] = {"labels"}, *mask_bad[] = {"size"};
    const char *two[2];
    struct berr err = {0};
    (void)state;

    commit_text("default", "{\"config\":1}", config_labels, 2, config);
    commit_text("default", "layer bytes", layer_labels, 1, layer);
    commit_text("default", "plain", NULL, 0, plain);

    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 3);
    assert_int_equal(fixture_content_count(&fixture, "default", "labels.kind==config"), 1);
    assert_int_equal(fixture_content_count(&fixture, "default", "labels.kind"), 2);
    /* The layer, and the plain blob: != reads its missing label as "". */
    assert_int_equal(fixture_content_count(&fixture, "default", "labels.kind!=config"), 2);
    assert_int_equal(fixture_content_count(&fixture, "default", "labels.kind~=^la"), 1);
    assert_int_equal(fixture_content_count(&fixture, "default", "labels.berth.gc.root==1"), 1);
    assert_int_equal(
        fixture_content_count(&fixture, "default", "labels.kind==config,labels.berth.gc.root"), 1);
    assert_int_equal(
        fixture_content_count(&fixture, "default", "labels.kind==\"layer\",labels.berth.gc.root"),
        0);
    snprintf(filter, sizeof(filter), "digest==%s", plain);
    assert_int_equal(fixture_content_count(&fixture, "default", filter), 1);
    two[0] = filter;
    two[1] = "labels.kind==layer";
    {
        int count = 0;
        assert_int_equal(
            content_store_list(fixture.content, "default", two, 2, count_visit, &count, &err), 0);
        assert_int_equal(count, 2);
    }
    assert_int_equal(fixture_content_count(&fixture, "default", "==x"), -1);

    /* labels.KEY sets one label... */
    update.digest = config;
    entry.key = "kind";
    entry.value = "configuration";
    update.n_labels = 1;
    update.labels = entries;
    assert_int_equal(
        content_store_update(fixture.content, "default", &update, mask_key, 1, &out, &err), 0);
    assert_int_equal(out->n_labels, 2);
    assert_string_equal(
        record_label_get((ProtobufCMessage *const *)out->labels, out->n_labels, "kind"),
        "configuration");
    berth__supervisor__v1__content_info__free_unpacked(out, NULL);
    /* ...or removes it when the update lacks it... */
    assert_int_equal(
        content_store_update(fixture.content, "default", &update, mask_gone, 1, &out, &err), 0);
    assert_int_equal(out->n_labels, 1);
    berth__supervisor__v1__content_info__free_unpacked(out, NULL);
    /* ..."labels" replaces them all; other fields cannot change. */
    update.n_labels = 0;
    assert_int_equal(
        content_store_update(fixture.content, "default", &update, mask_all, 1, &out, &err), 0);
    assert_int_equal(out->n_labels, 0);
    assert_true(out->updated_at->seconds >= out->created_at->seconds);
    berth__supervisor__v1__content_info__free_unpacked(out, NULL);
    assert_int_equal(
        content_store_update(fixture.content, "default", &update, mask_bad, 1, NULL, &err),
        BERR_INVALID);
    update.digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(content_store_update(fixture.content, "default", &update, NULL, 0, NULL, &err),
                     BERR_NOT_FOUND);
}

static void bad_input_is_refused(void **state)
{
    Berth__Supervisor__V1__ContentInfo *info;
    struct content_writer *writer;
    char digest[DIGEST_STRING_SIZE];
    struct berr err = {0};
    (void)state;

    assert_int_equal(content_store_info(fixture.content, "default", "sha256:abc", &info, &err),
                     BERR_INVALID);
    assert_int_equal(content_store_info(fixture.content, "default", "sha512:abc", &info, &err),
                     BERR_UNSUPPORTED);
    assert_int_equal(content_store_info(fixture.content, "Bad/NS", "sha256:abc", &info, &err),
                     BERR_INVALID);
    assert_int_equal(content_writer_open(fixture.content, "default", "", 0, NULL, &writer, &err),
                     BERR_INVALID);
    assert_int_equal(content_store_commit_buffer(fixture.content, "default", "x", 1,
                                                 "sha256:nothex", NULL, digest, &err),
                     BERR_INVALID);
    /* A one-call commit that does not verify leaves nothing. */
    assert_int_equal(content_store_commit_buffer(
                         fixture.content, "default", "x", 1,
                         "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                         NULL, digest, &err),
                     BERR_INVALID);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 0);
    /* Commits into a lease that does not exist fail and leave nothing either. */
    {
        struct content_commit_options options = {NULL, 0, "no-such-lease"};
        assert_int_equal(content_store_commit_buffer(fixture.content, "default", "y", 1, NULL,
                                                     &options, digest, &err),
                         BERR_NOT_FOUND);
        assert_int_equal(fixture_count(&fixture, "ingest"), 0);
        assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 0);
    }
}

struct thread_work {
    int number;
    int result;
};

static void *commit_in_thread(void *user)
{
    struct thread_work *work = user;
    char text[64], digest[DIGEST_STRING_SIZE];
    struct berr err = {0};
    int i, rc;

    work->result = 0;
    for (i = 0; i < 20; i++) {
        /* Half the blobs are common to all threads, half are the thread's own. */
        snprintf(text, sizeof(text), "blob %d of %d", i, i % 2 ? work->number : -1);
        rc = content_store_commit_buffer(fixture.content, "default", text, strlen(text), NULL, NULL,
                                         digest, &err);
        if (rc && rc != BERR_EXISTS)
            work->result = rc;
    }
    return NULL;
}

static void commits_from_many_threads(void **state)
{
    pthread_t threads[8];
    struct thread_work work[8];
    int i;
    (void)state;

    for (i = 0; i < 8; i++) {
        work[i].number = i;
        assert_int_equal(pthread_create(&threads[i], NULL, commit_in_thread, &work[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(work[i].result, 0);
    }
    /* 10 common blobs + 8 threads x 10 own ones. */
    assert_int_equal(fixture_content_count(&fixture, "default", NULL), 90);
    assert_int_equal(fixture_count(&fixture, "blobs/sha256"), 90);
    assert_int_equal(fixture_count(&fixture, "ingest"), 0);
}

/* ENOSPC: the content store on a 256 KiB tmpfs. */
static void full_disk_leaves_nothing(void **state)
{
    struct fixture small;
    struct content_writer *writer;
    struct content_status status;
    char digest[DIGEST_STRING_SIZE];
    struct berr err = {0};
    size_t size = 1 << 20;
    char *data = malloc(size);
    int rc;
    (void)state;

    if (fixture_open(&small, 256 * 1024) != 0) {
        free(data);
        skip(); /* no CAP_SYS_ADMIN here */
    }
    memset(data, 'z', size);
    rc =
        content_store_commit_buffer(small.content, "default", data, size, NULL, NULL, digest, &err);
    assert_int_equal(rc, BERR_NOSPACE);
    assert_int_equal(fixture_count(&small, "ingest"), 0);
    assert_int_equal(fixture_count(&small, "blobs/sha256"), 0);
    assert_int_equal(fixture_content_count(&small, "default", NULL), 0);

    /* A resumable writer keeps what it wrote before the failed write. */
    assert_int_equal(content_writer_open(small.content, "default", "big", 0, NULL, &writer, &err),
                     0);
    assert_int_equal(content_writer_write(writer, 0, data, 4096, &err), 0);
    assert_int_equal(content_writer_write(writer, 4096, data, size, &err), BERR_NOSPACE);
    content_writer_status(writer, &status);
    assert_int_equal(status.offset, 4096);
    content_writer_close(writer);
    assert_int_equal(content_store_status(small.content, "default", "big", &status, &err), 0);
    assert_int_equal(status.offset, 4096);
    assert_int_equal(content_store_abort(small.content, "default", "big", &err), 0);
    assert_int_equal(fixture_count(&small, "ingest"), 0);
    fixture_close(&small);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_commits_and_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(resumes_an_interrupted_write, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_offsets_and_sizes_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(digest_mismatch_keeps_the_ingest, setup, teardown),
        cmocka_unit_test_setup_teardown(aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(lists_statuses_per_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(namespaces_are_isolated, setup, teardown),
        cmocka_unit_test_setup_teardown(labels_filters_and_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(commits_from_many_threads, setup, teardown),
        cmocka_unit_test(full_disk_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
