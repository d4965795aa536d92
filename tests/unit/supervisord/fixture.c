/* See fixture.h. */
#include "fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "dirtree.h"

static bool can_mount;

bool fixture_private_mounts(void)
{
    if (unshare(CLONE_NEWNS) < 0) {
        fprintf(stderr, "no mount namespace (%s): mount tests skip\n", strerror(errno));
        return false;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        fprintf(stderr, "cannot make mounts private (%s): mount tests skip\n", strerror(errno));
        return false;
    }
    can_mount = true;
    return true;
}

bool fixture_can_mount(void)
{
    return can_mount;
}

static void open_snapshotter(struct fixture *fixture)
{
    struct berr err;
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/meta.lmdb", fixture->root);
    if (metadata_open(path, &fixture->metadata, &err) != 0)
        fail_msg("metadata_open: %s", err.message);
    if (snapshotter_open(fixture->root, fixture->metadata, &fixture->snapshotter, &err) != 0)
        fail_msg("snapshotter_open: %s", err.message);
}

int fixture_setup(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));

    if (!fixture)
        return -1;
    strcpy(fixture->root, "/tmp/berth-snapshots-XXXXXX");
    if (!mkdtemp(fixture->root)) {
        free(fixture);
        return -1;
    }
    open_snapshotter(fixture);
    *state = fixture;
    return 0;
}

int fixture_teardown(void **state)
{
    struct fixture *fixture = *state;
    struct berr err;
    int status = 0;

    if (!fixture)
        return 0;
    while (fixture->mount_count > 0) {
        if (snapshot_unmount(fixture->mounts[--fixture->mount_count], &err) != 0) {
            fprintf(stderr, "teardown: %s\n", err.message);
            umount2(fixture->mounts[fixture->mount_count], MNT_DETACH);
        }
    }
    snapshotter_close(fixture->snapshotter);
    metadata_close(fixture->metadata);
    if (dirtree_remove(fixture->root, &err) != 0) {
        fprintf(stderr, "teardown: %s\n", err.message);
        status = -1;
    }
    free(fixture);
    *state = NULL;
    return status;
}

void fixture_reopen(struct fixture *fixture)
{
    snapshotter_close(fixture->snapshotter);
    metadata_close(fixture->metadata);
    open_snapshotter(fixture);
}

const char *fixture_path(struct fixture *fixture, const char *name)
{
    static char buffers[4][PATH_MAX];
    static int next;
    char *buffer = buffers[next++ % 4];

    snprintf(buffer, PATH_MAX, "%s/%s", fixture->root, name);
    return buffer;
}

const char *fixture_mountpoint(struct fixture *fixture, const char *name)
{
    char path[PATH_MAX + NAME_MAX], *slot;

    assert_true(fixture->mount_count < FIXTURE_MOUNTS);
    slot = fixture->mounts[fixture->mount_count];
    snprintf(path, sizeof(path), "%s/%s", fixture->root, name);
    snprintf(slot, PATH_MAX, "%s", path);
    if (mkdir(slot, 0755) < 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", slot, strerror(errno));
    fixture->mount_count++;
    return slot;
}

const char *fixture_mount(struct fixture *fixture, const char *name, const struct mount_list *list)
{
    const char *target = fixture_mountpoint(fixture, name);
    struct berr err;

    if (snapshot_mount(list, target, &err) != 0)
        fail_msg("snapshot_mount %s: %s", target, err.message);
    return target;
}

void write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");

    if (!file)
        fail_msg("open %s: %s", path, strerror(errno));
    fputs(text, file);
    assert_int_equal(fclose(file), 0);
}

char *read_text(const char *path)
{
    FILE *file = fopen(path, "r");
    char *text;
    long size;

    if (!file)
        return NULL;
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    rewind(file);
    text = calloc(1, (size_t)size + 1);
    if (text && fread(text, 1, (size_t)size, file) != (size_t)size) {
        free(text);
        text = NULL;
    }
    fclose(file);
    return text;
}

bool path_exists(const char *path)
{
    struct stat info;

    return lstat(path, &info) == 0;
}

int count_entries(const char *path)
{
    DIR *directory = opendir(path);
    struct dirent *entry;
    int count = 0;

    if (!directory)
        return -1;
    while ((entry = readdir(directory)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            count++;
    }
    closedir(directory);
    return count;
}

void build_layer(const char *path, const char *compression, const struct layer_entry *entries,
                 size_t count)
{
    struct archive *archive = archive_write_new();
    struct archive_entry *entry = archive_entry_new();
    size_t i;

    assert_non_null(archive);
    assert_int_equal(archive_write_set_format_pax_restricted(archive), ARCHIVE_OK);
    if (strcmp(compression, "gzip") == 0)
        assert_int_equal(archive_write_add_filter_gzip(archive), ARCHIVE_OK);
    else if (strcmp(compression, "zstd") == 0)
        assert_int_equal(archive_write_add_filter_zstd(archive), ARCHIVE_OK);
    if (archive_write_open_filename(archive, path) != ARCHIVE_OK)
        fail_msg("write %s: %s", path, archive_error_string(archive));
    for (i = 0; i < count; i++) {
        const struct layer_entry *spec = &entries[i];
        size_t size = 0;
        archive_entry_clear(entry);
        archive_entry_set_pathname(entry, spec->name);
        archive_entry_set_uid(entry, spec->uid);
        archive_entry_set_gid(entry, spec->gid);
        archive_entry_set_mtime(entry, 1700000000 + (time_t)i, 0);
        switch (spec->type) {
        case ENTRY_FILE:
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_perm(entry, spec->mode ? spec->mode : 0644);
            size = spec->content ? strlen(spec->content) : 0;
            archive_entry_set_size(entry, (la_int64_t)size);
            break;
        case ENTRY_DIR:
            archive_entry_set_filetype(entry, AE_IFDIR);
            archive_entry_set_perm(entry, spec->mode ? spec->mode : 0755);
            break;
        case ENTRY_SYMLINK:
            archive_entry_set_filetype(entry, AE_IFLNK);
            archive_entry_set_perm(entry, 0777);
            archive_entry_set_symlink(entry, spec->content);
            break;
        case ENTRY_HARDLINK:
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_perm(entry, spec->mode ? spec->mode : 0644);
            archive_entry_set_hardlink(entry, spec->content);
            archive_entry_set_size(entry, 0);
            break;
        case ENTRY_CHAR:
        case ENTRY_BLOCK:
            archive_entry_set_filetype(entry, spec->type == ENTRY_CHAR ? AE_IFCHR : AE_IFBLK);
            archive_entry_set_perm(entry, spec->mode ? spec->mode : 0666);
            archive_entry_set_rdev(entry, makedev(spec->rdev_major, spec->rdev_minor));
            break;
        case ENTRY_FIFO:
            archive_entry_set_filetype(entry, AE_IFIFO);
            archive_entry_set_perm(entry, spec->mode ? spec->mode : 0644);
            break;
        }
        if (spec->xattr_name)
            archive_entry_xattr_add_entry(entry, spec->xattr_name, spec->xattr_value,
                                          strlen(spec->xattr_value));
        if (archive_write_header(archive, entry) != ARCHIVE_OK)
            fail_msg("write %s: %s", spec->name, archive_error_string(archive));
        if (size && archive_write_data(archive, spec->content, size) != (la_ssize_t)size)
            fail_msg("write %s: %s", spec->name, archive_error_string(archive));
    }
    assert_int_equal(archive_write_close(archive), ARCHIVE_OK);
    archive_write_free(archive);
    archive_entry_free(entry);
}

void sha256sum(const char *path, char out[DIGEST_STRING_SIZE])
{
    char command[PATH_MAX + 32], hex[80] = "";
    FILE *pipe;

    snprintf(command, sizeof(command), "sha256sum '%s'", path);
    pipe = popen(command, "r");
    assert_non_null(pipe);
    assert_int_equal(fscanf(pipe, "%64s", hex), 1);
    assert_int_equal(pclose(pipe), 0);
    snprintf(out, DIGEST_STRING_SIZE, "sha256:%s", hex);
}

void run(const char *format, ...)
{
    char command[4096];
    va_list args;
    int status;

    va_start(args, format);
    vsnprintf(command, sizeof(command), format, args);
    va_end(args);
    status = system(command);
    if (status != 0)
        fail_msg("command failed (%d): %s", status, command);
}
