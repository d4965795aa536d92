/* docker cp's filesystem side on a temporary directory standing for a
 * container's root: dockerd's path rules (stat names, link targets, tar
 * entry names), resolution inside the root, and extraction refusing what
 * would leave the destination. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive_path.h"

struct fixture {
    char outside[64]; /* a directory with the root in it and a "secret" beside it */
    char root[128];
    int root_fd;
};

static void write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[512];

    snprintf(f->outside, sizeof(f->outside), "/tmp/berth-archive-XXXXXX");
    assert_non_null(mkdtemp(f->outside));
    snprintf(path, sizeof(path), "%s/secret", f->outside);
    write_file(path, "host secret");
    snprintf(f->root, sizeof(f->root), "%s/root", f->outside);
    assert_int_equal(mkdir(f->root, 0755), 0);
    snprintf(path, sizeof(path), "%s/etc", f->root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/etc/passwd", f->root);
    write_file(path, "root:x:0:0::/root:/bin/sh\n");
    snprintf(path, sizeof(path), "%s/etc/secret", f->root);
    write_file(path, "container secret");
    snprintf(path, sizeof(path), "%s/dest", f->root);
    assert_int_equal(mkdir(path, 0755), 0);
    /* Symlinks a container could plant. */
    snprintf(path, sizeof(path), "%s/abs", f->root);
    assert_int_equal(symlink("/etc", path), 0);
    snprintf(path, sizeof(path), "%s/leak", f->root);
    assert_int_equal(symlink("../../../../../../../../../secret", path), 0);
    snprintf(path, sizeof(path), "%s/hostpath", f->root);
    {
        char target[256];
        snprintf(target, sizeof(target), "%s/secret", f->outside);
        assert_int_equal(symlink(target, path), 0);
    }
    f->root_fd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->root_fd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char command[256];

    close(f->root_fd);
    snprintf(command, sizeof(command), "rm -rf '%s'", f->outside);
    assert_int_equal(system(command), 0);
    free(f);
    return 0;
}

static void test_stat(void **state)
{
    struct fixture *f = *state;
    struct archive_path_stat stat;
    struct berr err;

    assert_int_equal(archive_path_stat(f->root_fd, "/etc/passwd", &stat, &err), 0);
    assert_string_equal(stat.name, "passwd");
    assert_int_equal(stat.mode, 0644);
    assert_string_equal(stat.link_target, "");
    archive_path_stat_free(&stat);
    assert_int_equal(archive_path_stat(f->root_fd, "etc/", &stat, &err), 0);
    assert_string_equal(stat.name, "etc");
    assert_int_equal(stat.mode, (1u << 31) | 0755);
    archive_path_stat_free(&stat);
    assert_int_equal(archive_path_stat(f->root_fd, "/etc/.", &stat, &err), 0);
    assert_string_equal(stat.name, ".");
    archive_path_stat_free(&stat);
    assert_int_equal(archive_path_stat(f->root_fd, "/", &stat, &err), 0);
    assert_string_equal(stat.name, "/");
    archive_path_stat_free(&stat);
    /* A symlink is itself; its target is resolved in the root. */
    assert_int_equal(archive_path_stat(f->root_fd, "/abs", &stat, &err), 0);
    assert_int_equal(stat.mode, (1u << 27) | 0777);
    assert_string_equal(stat.link_target, "/etc");
    archive_path_stat_free(&stat);
    assert_int_equal(archive_path_stat(f->root_fd, "/leak", &stat, &err), 0);
    assert_string_equal(stat.link_target, "/secret");
    archive_path_stat_free(&stat);
    /* Through symlinks: the container's files, never the host's. */
    assert_int_equal(archive_path_stat(f->root_fd, "/abs/secret", &stat, &err), 0);
    assert_int_equal(stat.size, strlen("container secret"));
    archive_path_stat_free(&stat);
    assert_int_equal(archive_path_stat(f->root_fd, "/leak/x", &stat, &err), BERR_NOT_FOUND);
    assert_int_equal(archive_path_stat(f->root_fd, "/../../secret", &stat, &err), BERR_NOT_FOUND);
    assert_int_equal(archive_path_stat(f->root_fd, "/nope", &stat, &err), BERR_NOT_FOUND);
}

struct buffer {
    char *data;
    size_t length;
};

static int collect(void *context, const void *data, size_t length)
{
    struct buffer *buffer = context;

    buffer->data = realloc(buffer->data, buffer->length + length);
    memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
    return 0;
}

/* The entry names of a tar, "|"-joined; the data of the entry `wanted`. */
static void tar_names(const struct buffer *tar, char *names, size_t size, const char *wanted,
                      char *data, size_t data_size)
{
    struct archive *reader = archive_read_new();
    struct archive_entry *entry;

    names[0] = '\0';
    archive_read_support_format_tar(reader);
    assert_int_equal(archive_read_open_memory(reader, tar->data, tar->length), ARCHIVE_OK);
    while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
        if (names[0])
            strncat(names, "|", size - strlen(names) - 1);
        strncat(names, archive_entry_pathname(entry), size - strlen(names) - 1);
        if (wanted && strcmp(archive_entry_pathname(entry), wanted) == 0) {
            la_ssize_t got = archive_read_data(reader, data, data_size - 1);
            data[got > 0 ? got : 0] = '\0';
        }
    }
    archive_read_free(reader);
}

static void expect_tar(struct fixture *f, const char *path, const char *names, const char *wanted,
                       const char *data)
{
    struct buffer tar = {NULL, 0};
    char got[1024], content[256] = "";
    struct berr err;

    assert_int_equal(archive_path_tar(f->root_fd, path, collect, &tar, &err), 0);
    tar_names(&tar, got, sizeof(got), wanted, content, sizeof(content));
    assert_string_equal(got, names);
    if (data)
        assert_string_equal(content, data);
    free(tar.data);
}

static void test_tar_names(void **state)
{
    struct fixture *f = *state;
    struct buffer tar = {NULL, 0};
    struct berr err;

    expect_tar(f, "/etc", "etc/|etc/passwd|etc/secret", NULL, NULL);
    expect_tar(f, "/etc/", "etc/|etc/passwd|etc/secret", NULL, NULL);
    expect_tar(f, "/etc/.", "./|./passwd|./secret", NULL, NULL);
    expect_tar(f, "/etc/passwd", "passwd", "passwd", "root:x:0:0::/root:/bin/sh\n");
    /* The symlink itself; through it, the container's /etc. */
    expect_tar(f, "/abs", "abs", NULL, NULL);
    expect_tar(f, "/abs/", "abs/|abs/passwd|abs/secret", "abs/secret", "container secret");
    expect_tar(f, "/hostpath", "hostpath", NULL, NULL);
    assert_int_equal(archive_path_tar(f->root_fd, "/hostpath/", collect, &tar, &err),
                     BERR_NOT_FOUND);
    assert_int_equal(archive_path_tar(f->root_fd, "/leak/", collect, &tar, &err), BERR_NOT_FOUND);
    free(tar.data);
}

/* ---- extraction ---- */

struct tar_entry {
    const char *name;
    mode_t type;
    const char *data; /* a file's content, a link's target */
};

static struct buffer make_tar(const struct tar_entry *entries, size_t count)
{
    struct archive *writer = archive_write_new();
    struct buffer out = {malloc(1 << 20), 0};
    size_t used = 0;

    archive_write_set_format_pax_restricted(writer);
    assert_int_equal(archive_write_open_memory(writer, out.data, 1 << 20, &used), ARCHIVE_OK);
    for (size_t i = 0; i < count; i++) {
        struct archive_entry *entry = archive_entry_new();
        archive_entry_set_pathname(entry, entries[i].name);
        archive_entry_set_uid(entry, getuid());
        archive_entry_set_gid(entry, getgid());
        archive_entry_set_mtime(entry, 1700000000, 0);
        if (entries[i].type == 0) { /* a hard link */
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_perm(entry, 0644);
            archive_entry_set_hardlink(entry, entries[i].data);
        } else {
            archive_entry_set_filetype(entry, entries[i].type);
            archive_entry_set_perm(entry, entries[i].type == AE_IFDIR ? 0755 : 0640);
        }
        if (entries[i].type == AE_IFLNK)
            archive_entry_set_symlink(entry, entries[i].data);
        if (entries[i].type == AE_IFREG)
            archive_entry_set_size(entry, (la_int64_t)strlen(entries[i].data));
        assert_int_equal(archive_write_header(writer, entry), ARCHIVE_OK);
        if (entries[i].type == AE_IFREG)
            archive_write_data(writer, entries[i].data, strlen(entries[i].data));
        archive_entry_free(entry);
    }
    archive_write_close(writer);
    archive_write_free(writer);
    out.length = used;
    return out;
}

struct reader {
    const struct buffer *tar;
    size_t offset;
};

static ssize_t read_tar(void *context, void *buffer, size_t size, struct berr *err)
{
    struct reader *reader = context;
    size_t left = reader->tar->length - reader->offset;

    (void)err;
    if (size > left)
        size = left;
    memcpy(buffer, reader->tar->data + reader->offset, size);
    reader->offset += size;
    return (ssize_t)size;
}

static int extract(struct fixture *f, const char *destination, const struct tar_entry *entries,
                   size_t count, bool no_overwrite, struct berr *err)
{
    struct buffer tar = make_tar(entries, count);
    struct reader reader = {&tar, 0};
    struct archive_path_extract_options options = {.no_overwrite_dir_non_dir = no_overwrite};
    char *where = NULL;
    int fd, rc;

    rc = archive_path_destination(f->root_fd, destination, &fd, &where, err);
    if (rc == 0) {
        rc = archive_path_extract(fd, read_tar, &reader, &options, err);
        close(fd);
    }
    free(where);
    free(tar.data);
    return rc;
}

static bool exists(struct fixture *f, const char *relative)
{
    char path[512];
    struct stat info;

    snprintf(path, sizeof(path), "%s/%s", f->root, relative);
    return lstat(path, &info) == 0;
}

static void test_extract(void **state)
{
    struct fixture *f = *state;
    const struct tar_entry good[] = {
        {"dir", AE_IFDIR, NULL},
        {"dir/file", AE_IFREG, "content"},
        {"dir/link", AE_IFLNK, "file"},
        {"dir/abs", AE_IFLNK, "/etc/passwd"},
        {"dir/hard", 0, "dir/file"},
        {"./dir/./sub/../other", AE_IFREG, "x"},
        {"missing/parent/f", AE_IFREG, "y"},
    };
    char path[512], target[64];
    struct stat info;
    struct berr err;
    char *where = NULL;
    int fd;

    assert_int_equal(extract(f, "/dest", good, sizeof(good) / sizeof(good[0]), true, &err), 0);
    snprintf(path, sizeof(path), "%s/dest/dir/file", f->root);
    assert_int_equal(lstat(path, &info), 0);
    assert_int_equal(info.st_mode & 07777, 0640);
    assert_int_equal(info.st_nlink, 2);
    assert_int_equal(info.st_mtime, 1700000000);
    snprintf(path, sizeof(path), "%s/dest/dir/abs", f->root);
    assert_int_equal(readlink(path, target, sizeof(target)), strlen("/etc/passwd"));
    assert_true(exists(f, "dest/dir/other"));
    assert_true(exists(f, "dest/missing/parent/f"));
    /* Through a symlink to a directory (the destination is followed). */
    assert_int_equal(archive_path_destination(f->root_fd, "/abs", &fd, &where, &err), 0);
    assert_string_equal(where, "/etc");
    close(fd);
    free(where);
    assert_int_equal(archive_path_destination(f->root_fd, "/etc/passwd", &fd, &where, &err),
                     BERR_INVALID);
    assert_string_equal(err.message, "extraction point is not a directory");
    assert_int_equal(archive_path_destination(f->root_fd, "/no/such", &fd, &where, &err),
                     BERR_NOT_FOUND);
}

static void test_extract_refuses_breakouts(void **state)
{
    struct fixture *f = *state;
    const struct tar_entry cases[][2] = {
        {{"../escaped", AE_IFREG, "x"}, {NULL, 0, NULL}},
        {{"a/../../escaped", AE_IFREG, "x"}, {NULL, 0, NULL}},
        {{"/escaped", AE_IFREG, "x"}, {NULL, 0, NULL}},
        {{"out", AE_IFLNK, "../.."}, {"out/escaped", AE_IFREG, "x"}},
        {{"abs", AE_IFLNK, "/"}, {"abs/escaped", AE_IFREG, "x"}},
        {{"hard", 0, "../etc/secret"}, {NULL, 0, NULL}},
    };
    char path[512];
    struct berr err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t count = cases[i][1].name ? 2 : 1;
        assert_int_equal(extract(f, "/dest", cases[i], count, true, &err), BERR_INVALID);
    }
    assert_false(exists(f, "escaped"));
    assert_false(exists(f, "dest/escaped"));
    assert_false(exists(f, "dest/hard"));
    snprintf(path, sizeof(path), "%s/escaped", f->outside);
    assert_true(access(path, F_OK) != 0);
    /* A symlink already in the destination that leads out is not followed. */
    snprintf(path, sizeof(path), "%s/dest/planted", f->root);
    assert_int_equal(symlink("/etc", path), 0);
    {
        const struct tar_entry through[] = {{"planted/new", AE_IFREG, "x"}};
        assert_int_equal(extract(f, "/dest", through, 1, true, &err), BERR_INVALID);
        assert_false(exists(f, "etc/new"));
    }
}

static void test_extract_overwrite_rules(void **state)
{
    struct fixture *f = *state;
    const struct tar_entry make[] = {{"d", AE_IFDIR, NULL}, {"d/f", AE_IFREG, "file"}};
    const struct tar_entry file_over_dir[] = {{"d", AE_IFREG, "now a file"}};
    const struct tar_entry dir_over_file[] = {{"d/f", AE_IFDIR, NULL}};
    struct berr err;

    assert_int_equal(extract(f, "/dest", make, 2, true, &err), 0);
    assert_int_equal(extract(f, "/dest", file_over_dir, 1, true, &err), BERR_INVALID);
    assert_int_equal(extract(f, "/dest", dir_over_file, 1, true, &err), BERR_INVALID);
    /* Without noOverwriteDirNonDir, the entry replaces what is there. */
    assert_int_equal(extract(f, "/dest", file_over_dir, 1, false, &err), 0);
    assert_true(exists(f, "dest/d") && !exists(f, "dest/d/f"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tar_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract_refuses_breakouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract_overwrite_rules, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
