/* Unit tests of supervisord/unpack: layers written with libarchive (and
 * gzip, zstd and GNU tar where a real tool's output matters) unpacked into
 * directories and snapshots in /tmp; hostile layers refused with nothing
 * written outside; whiteouts seen through a real overlay mount; a full disk
 * on a tiny tmpfs; the bundled busybox image. Mounts happen in the test's
 * own mount namespace and teardown unmounts them too. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "digest.h"
#include "dirtree.h"
#include "fixture.h"
#include "json.h"
#include "snapshots.h"
#include "unpack.h"

/* Layer tables name only the fields an entry needs; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define NS          "default"
#define OCI_TAR     "application/vnd.oci.image.layer.v1.tar"
#define OCI_TAR_GZ  "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_TAR_ZST "application/vnd.oci.image.layer.v1.tar+zstd"

/* ---- helpers ---- */

/* Unpacks the layer file into ROOT/<directory> (made if missing). */
static int unpack_file(struct fixture *fixture, const char *layer, const char *directory,
                       bool allow_devices, struct unpack_result *result, struct berr *err)
{
    struct unpack_options options = {allow_devices, false};
    struct unpack_result ignored;
    const char *target = fixture_path(fixture, directory);
    int directory_fd, layer_fd, rc;

    if (mkdir(target, 0755) < 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", target, strerror(errno));
    directory_fd = open(target, O_RDONLY | O_DIRECTORY);
    layer_fd = open(layer, O_RDONLY);
    assert_true(directory_fd >= 0 && layer_fd >= 0);
    rc = unpack_layer(directory_fd, layer_fd, &options, result ? result : &ignored, err);
    close(directory_fd);
    close(layer_fd);
    return rc;
}

/* Blobs are files named by digest in a directory (an OCI layout's blobs/sha256/). */
static int open_blob_file(void *context, const char *digest, int *fd_out, struct berr *err)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", (const char *)context, digest + strlen("sha256:"));
    *fd_out = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd_out < 0)
        return berr_errno(err, errno, "open blob %s", digest);
    return 0;
}

/* Writes the layer as a blob under ROOT/blobs and fills ref (strings in storage). */
struct test_layer {
    char digest[DIGEST_STRING_SIZE];
    char diff_id[DIGEST_STRING_SIZE];
    struct unpack_layer_ref ref;
};

static void make_blob(struct fixture *fixture, const char *compression,
                      const struct layer_entry *entries, size_t count, struct test_layer *out)
{
    char blobs[PATH_MAX], tar[PATH_MAX + 32], blob[PATH_MAX + 160];

    snprintf(blobs, sizeof(blobs), "%s", fixture_path(fixture, "blobs"));
    mkdir(blobs, 0755);
    snprintf(tar, sizeof(tar), "%s/layer.tar", blobs);
    build_layer(tar, "none", entries, count);
    sha256sum(tar, out->diff_id);
    if (strcmp(compression, "gzip") == 0)
        run("gzip -n -f '%s'", tar), strcat(tar, ".gz");
    else if (strcmp(compression, "zstd") == 0)
        run("zstd -q -f --rm '%s' -o '%s.zst'", tar, tar), strcat(tar, ".zst");
    sha256sum(tar, out->digest);
    snprintf(blob, sizeof(blob), "%s/%s", blobs, out->digest + 7);
    assert_int_equal(rename(tar, blob), 0);
    out->ref.digest = out->digest;
    out->ref.diff_id = out->diff_id;
    out->ref.media_type = strcmp(compression, "gzip") == 0   ? OCI_TAR_GZ
                          : strcmp(compression, "zstd") == 0 ? OCI_TAR_ZST
                                                             : OCI_TAR;
}

static int unpack_layers(struct fixture *fixture, const char *namespace, struct test_layer *layers,
                         size_t count, const struct unpack_image_options *options,
                         char chain_id[DIGEST_STRING_SIZE], struct berr *err)
{
    struct unpack_layer_ref refs[8];
    size_t i;

    assert_true(count <= 8);
    for (i = 0; i < count; i++)
        refs[i] = layers[i].ref;
    return unpack_image(fixture->snapshotter, namespace, refs, count, open_blob_file,
                        (void *)fixture_path(fixture, "blobs"), options, chain_id, err);
}

static size_t list_count(struct fixture *fixture, const char *namespace, const char *filter)
{
    struct snapshot_info *infos;
    size_t count;
    struct berr err;

    if (snapshot_list(fixture->snapshotter, namespace, filter ? &filter : NULL, filter ? 1 : 0,
                      &infos, &count, &err) != 0)
        fail_msg("%s", err.message);
    snapshot_info_array_free(infos, count);
    return count;
}

/* Mounts a new active snapshot on top of parent and returns the mount point. */
static const char *mount_rootfs(struct fixture *fixture, const char *namespace, const char *key,
                                const char *parent)
{
    struct mount_list mounts = {NULL, 0};
    const char *target;
    struct berr err;

    if (snapshot_prepare(fixture->snapshotter, namespace, key, parent, NULL, 0, &mounts, &err))
        fail_msg("%s", err.message);
    target = fixture_mount(fixture, key, &mounts);
    mount_list_free(&mounts);
    return target;
}

static char *joined(const char *directory, const char *name)
{
    static char buffers[4][PATH_MAX * 2];
    static int next;
    char *buffer = buffers[next++ % 4];

    snprintf(buffer, PATH_MAX * 2, "%s/%s", directory, name);
    return buffer;
}

/* ---- entries ---- */

static void entries_and_metadata(void **state)
{
    struct fixture *fixture = *state;
    const struct layer_entry entries[] = {
        {"./etc/", ENTRY_DIR, NULL, 0750, 0, 0, 0, 0, NULL, NULL},
        {"./etc/passwd", ENTRY_FILE, "root:x:0:0\n", 0644, 0, 0, 0, 0, NULL, NULL},
        {"bin/", ENTRY_DIR, NULL, 0, 0, 0, 0, 0, NULL, NULL},
        {"bin/su", ENTRY_FILE, "#!/bin/true\n", 04755, 1000, 1001, 0, 0, "user.origin", "test"},
        {"bin/sudo", ENTRY_HARDLINK, "bin/su", 0, 0, 0, 0, 0, NULL, NULL},
        {"bin/sh", ENTRY_SYMLINK, "/bin/busybox", 0, 0, 0, 0, 0, NULL, NULL},
        {"bin/rel", ENTRY_SYMLINK, "../etc/passwd", 0, 0, 0, 0, 0, NULL, NULL},
        {"dev/null", ENTRY_CHAR, NULL, 0666, 0, 0, 1, 3, NULL, NULL},
        {"run/fifo", ENTRY_FIFO, NULL, 0600, 0, 0, 0, 0, NULL, NULL},
        {"deep/implicit/parents/file", ENTRY_FILE, "x", 0, 0, 0, 0, 0, NULL, NULL},
        {"steer", ENTRY_FILE, "y", 0, 0, 0, 0, 0, "trusted.overlay.redirect", "/elsewhere"},
        {"replaced", ENTRY_FILE, "first", 0, 0, 0, 0, 0, NULL, NULL},
        {"replaced", ENTRY_FILE, "second", 0, 0, 0, 0, 0, NULL, NULL},
        {"dir-then-file/", ENTRY_DIR, NULL, 0, 0, 0, 0, 0, NULL, NULL},
        {"dir-then-file/child", ENTRY_FILE, "c", 0, 0, 0, 0, 0, NULL, NULL},
        {"dir-then-file", ENTRY_FILE, "now a file", 0, 0, 0, 0, 0, NULL, NULL},
    };
    char layer[PATH_MAX], value[64], *text;
    const char *root = fixture_path(fixture, "out");
    struct unpack_result result;
    struct stat info, other;
    struct berr err;
    ssize_t length;

    snprintf(layer, sizeof(layer), "%s", fixture_path(fixture, "layer.tar"));
    build_layer(layer, "none", entries, sizeof(entries) / sizeof(entries[0]));
    if (unpack_file(fixture, layer, "out", true, &result, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(result.entries, sizeof(entries) / sizeof(entries[0]));
    root = fixture_path(fixture, "out");

    assert_int_equal(stat(joined(root, "etc"), &info), 0);
    assert_int_equal(info.st_mode & 07777, 0750);
    assert_int_equal(info.st_mtime, 1700000000); /* set after its children were made */
    text = read_text(joined(root, "etc/passwd"));
    assert_string_equal(text, "root:x:0:0\n");
    free(text);

    assert_int_equal(lstat(joined(root, "bin/su"), &info), 0);
    assert_int_equal(info.st_mode & 07777, 04755); /* chmod after chown keeps set-uid */
    assert_int_equal(info.st_uid, 1000);
    assert_int_equal(info.st_gid, 1001);
    assert_int_equal(info.st_mtime, 1700000003);
    length = getxattr(joined(root, "bin/su"), "user.origin", value, sizeof(value));
    assert_int_equal(length, 4);
    assert_memory_equal(value, "test", 4);
    assert_int_equal(lstat(joined(root, "bin/sudo"), &other), 0);
    assert_int_equal(other.st_ino, info.st_ino);
    assert_int_equal(info.st_nlink, 2);

    assert_int_equal(lstat(joined(root, "bin/sh"), &info), 0);
    assert_true(S_ISLNK(info.st_mode));
    length = readlink(joined(root, "bin/sh"), value, sizeof(value));
    assert_int_equal(length, strlen("/bin/busybox"));
    assert_int_equal(lstat(joined(root, "dev/null"), &info), 0);
    assert_true(S_ISCHR(info.st_mode));
    assert_int_equal(info.st_rdev, makedev(1, 3));
    assert_int_equal(lstat(joined(root, "run/fifo"), &info), 0);
    assert_true(S_ISFIFO(info.st_mode));
    assert_int_equal(info.st_mode & 0777, 0600);
    assert_true(path_exists(joined(root, "deep/implicit/parents/file")));
    assert_int_equal(
        lgetxattr(joined(root, "steer"), "trusted.overlay.redirect", value, sizeof(value)), -1);
    text = read_text(joined(root, "replaced"));
    assert_string_equal(text, "second");
    free(text);
    assert_int_equal(lstat(joined(root, "dir-then-file"), &info), 0);
    assert_true(S_ISREG(info.st_mode));
}

static void diff_id_is_sha256_of_the_uncompressed_tar(void **state)
{
    struct fixture *fixture = *state;
    const struct layer_entry entries[] = {
        {"a", ENTRY_FILE, "some text\n", 0, 0, 0, 0, 0, NULL, NULL},
        {"b/", ENTRY_DIR, NULL, 0, 0, 0, 0, 0, NULL, NULL},
        {"b/c", ENTRY_FILE, "more text, a bit longer than the first\n", 0, 0, 0, 0, 0, NULL, NULL},
    };
    char tar[PATH_MAX], expected[DIGEST_STRING_SIZE], compressed[PATH_MAX + 8];
    struct unpack_result result;
    struct stat info;
    struct berr err;

    snprintf(tar, sizeof(tar), "%s", fixture_path(fixture, "layer.tar"));
    build_layer(tar, "none", entries, 3);
    sha256sum(tar, expected);
    assert_int_equal(stat(tar, &info), 0);

    assert_int_equal(unpack_file(fixture, tar, "plain", false, &result, &err), 0);
    assert_string_equal(result.diff_id, expected);
    assert_int_equal(result.uncompressed_size, info.st_size);

    run("gzip -n -k '%s'", tar);
    snprintf(compressed, sizeof(compressed), "%s.gz", tar);
    assert_int_equal(unpack_file(fixture, compressed, "gzip", false, &result, &err), 0);
    assert_string_equal(result.diff_id, expected);
    assert_true(path_exists(joined(fixture_path(fixture, "gzip"), "b/c")));

    run("zstd -q -k '%s' -o '%s.zst'", tar, tar);
    snprintf(compressed, sizeof(compressed), "%s.zst", tar);
    assert_int_equal(unpack_file(fixture, compressed, "zstd", false, &result, &err), 0);
    assert_string_equal(result.diff_id, expected);
    assert_true(path_exists(joined(fixture_path(fixture, "zstd"), "b/c")));

    /* libarchive's own writers too (gzip, zstd). */
    build_layer(tar, "gzip", entries, 3);
    assert_int_equal(unpack_file(fixture, tar, "lagzip", false, &result, &err), 0);
    build_layer(tar, "zstd", entries, 3);
    assert_int_equal(unpack_file(fixture, tar, "lazstd", false, &result, &err), 0);
    assert_true(path_exists(joined(fixture_path(fixture, "lazstd"), "a")));

    /* Not a tar at all. */
    write_text(tar, "this is not a tar archive, not even close to one............");
    assert_int_equal(unpack_file(fixture, tar, "garbage", false, &result, &err), BERR_INVALID);
}

static void chain_ids(void **state)
{
    const char *a = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";
    const char *b = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
    char chain[DIGEST_STRING_SIZE], expected[80];
    struct berr err;
    FILE *pipe;
    (void)state;

    assert_int_equal(unpack_chain_id(NULL, a, chain, &err), 0);
    assert_string_equal(chain, a);
    assert_int_equal(unpack_chain_id(a, b, chain, &err), 0);
    pipe = popen("printf '%s' 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b4"
                 "6d4 sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef' | "
                 "sha256sum",
                 "r");
    assert_non_null(pipe);
    strcpy(expected, "sha256:");
    assert_int_equal(fscanf(pipe, "%64s", expected + 7), 1);
    pclose(pipe);
    assert_string_equal(chain, expected);
    assert_int_equal(unpack_chain_id(a, "sha256:short", chain, &err), BERR_INVALID);
}

static void sparse_files_stay_sparse(void **state)
{
    struct fixture *fixture = *state;
    const char *source = fixture_path(fixture, "sparse-source");
    char tar[PATH_MAX];
    struct unpack_result result;
    struct stat info;
    struct berr err;

    mkdir(source, 0755);
    run("cd '%s' && truncate -s 64M holes && printf start | dd of=holes conv=notrunc "
        "status=none && printf middle | dd of=holes bs=1M seek=32 conv=notrunc status=none",
        source);
    snprintf(tar, sizeof(tar), "%s", fixture_path(fixture, "sparse.tar"));
    run("tar --sparse --format=posix -C '%s' -cf '%s' holes", source, tar);
    assert_int_equal(unpack_file(fixture, tar, "sparse", false, &result, &err), 0);
    assert_int_equal(stat(joined(fixture_path(fixture, "sparse"), "holes"), &info), 0);
    assert_int_equal(info.st_size, 64 * 1024 * 1024);
    assert_true(info.st_blocks * 512 < 1024 * 1024); /* holes, not 64 MiB of zeros */
    run("cmp '%s/holes' '%s/holes'", source, fixture_path(fixture, "sparse"));
}

/* ---- hostile layers ---- */

struct hostile_case {
    const char *what;
    struct layer_entry entries[3];
    size_t count;
};

static void hostile_layers_are_refused(void **state)
{
    struct fixture *fixture = *state;
    char outside[PATH_MAX], secret[PATH_MAX + 16], absolute[PATH_MAX + 16];
    char absolute_link[PATH_MAX + 16], tar[PATH_MAX];
    struct berr err;
    size_t i;

    snprintf(outside, sizeof(outside), "%s", fixture_path(fixture, "outside"));
    assert_int_equal(mkdir(outside, 0755), 0);
    snprintf(secret, sizeof(secret), "%s/secret", outside);
    write_text(secret, "do not touch");
    snprintf(absolute, sizeof(absolute), "%s/evil", outside);
    snprintf(absolute_link, sizeof(absolute_link), "%s/secret", outside);
    {
        const struct hostile_case cases[] = {
            {"../ entry", {{"../outside/evil", ENTRY_FILE, "x"}}, 1},
            {"../ in the middle", {{"a/../../outside/evil", ENTRY_FILE, "x"}}, 1},
            {"absolute path", {{absolute, ENTRY_FILE, "x"}}, 1},
            {"relative symlink escape, then a file through it",
             {{"esc", ENTRY_SYMLINK, "../outside"}, {"esc/evil", ENTRY_FILE, "x"}},
             2},
            {"absolute symlink, then a file through it",
             {{"esc", ENTRY_SYMLINK, outside}, {"esc/evil", ENTRY_FILE, "x"}},
             2},
            {"symlink escape, then a directory through it",
             {{"esc", ENTRY_SYMLINK, "../outside"}, {"esc/sub/", ENTRY_DIR}},
             2},
            {"nested symlink escape",
             {{"a/", ENTRY_DIR}, {"a/b", ENTRY_SYMLINK, "../../outside"}, {"a/b/evil", ENTRY_FILE}},
             3},
            {"whiteout through a symlink",
             {{"esc", ENTRY_SYMLINK, "../outside"}, {"esc/.wh.secret", ENTRY_FILE}},
             2},
            {"opaque marker through a symlink",
             {{"esc", ENTRY_SYMLINK, "../outside"}, {"esc/.wh..wh..opq", ENTRY_FILE}},
             2},
            {"hard link to outside", {{"h", ENTRY_HARDLINK, "../outside/secret"}}, 1},
            {"hard link to an absolute path", {{"h", ENTRY_HARDLINK, absolute_link}}, 1},
            {"hard link through a symlink",
             {{"esc", ENTRY_SYMLINK, "../outside"}, {"h", ENTRY_HARDLINK, "esc/secret"}},
             2},
            {"character device when not allowed",
             {{"dev/null", ENTRY_CHAR, NULL, 0666, 0, 0, 1, 3}},
             1},
            {"block device when not allowed",
             {{"dev/sda", ENTRY_BLOCK, NULL, 0660, 0, 0, 8, 0}},
             1},
        };
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            struct stat info;
            int rc;
            snprintf(tar, sizeof(tar), "%s", fixture_path(fixture, "hostile.tar"));
            build_layer(tar, "none", cases[i].entries, cases[i].count);
            rc = unpack_file(fixture, tar, "target", false, NULL, &err);
            if (rc != BERR_INVALID)
                fail_msg("%s: got %s (%s)", cases[i].what, berr_code_name(rc),
                         rc ? err.message : "unpacked");
            /* Nothing outside changed. */
            if (count_entries(outside) != 1)
                fail_msg("%s: something was written outside", cases[i].what);
            assert_int_equal(stat(secret, &info), 0);
            assert_int_equal(info.st_nlink, 1);
            assert_int_equal(info.st_size, strlen("do not touch"));
            assert_int_equal(dirtree_remove(fixture_path(fixture, "target"), &err), 0);
        }
    }

    /* A symlink in the way of a file is replaced, never written through. */
    {
        const struct layer_entry entries[] = {
            {"victim", ENTRY_SYMLINK, secret},
            {"victim", ENTRY_FILE, "replaced"},
            {"dir-victim", ENTRY_SYMLINK, "../outside"},
            {"dir-victim/", ENTRY_DIR},
        };
        struct stat info;
        char *text;
        snprintf(tar, sizeof(tar), "%s", fixture_path(fixture, "replace.tar"));
        build_layer(tar, "none", entries, 4);
        assert_int_equal(unpack_file(fixture, tar, "target", false, NULL, &err), 0);
        text = read_text(secret);
        assert_string_equal(text, "do not touch");
        free(text);
        assert_int_equal(lstat(joined(fixture_path(fixture, "target"), "victim"), &info), 0);
        assert_true(S_ISREG(info.st_mode));
        assert_int_equal(lstat(joined(fixture_path(fixture, "target"), "dir-victim"), &info), 0);
        assert_true(S_ISDIR(info.st_mode));
        assert_int_equal(count_entries(outside), 1);
    }
}

/* ---- images into snapshots ---- */

static void whiteouts_and_opaque_dirs_through_overlay(void **state)
{
    struct fixture *fixture = *state;
    const struct layer_entry bottom[] = {
        {"a/", ENTRY_DIR}, {"a/1", ENTRY_FILE, "1"},   {"a/2", ENTRY_FILE, "2"},
        {"b/", ENTRY_DIR}, {"b/x", ENTRY_FILE, "x"},   {"c", ENTRY_FILE, "c"},
        {"d/", ENTRY_DIR}, {"d/old", ENTRY_FILE, "o"}, {".wh.nothing", ENTRY_FILE},
    };
    const struct layer_entry middle[] = {
        {".wh.c", ENTRY_FILE},          /* delete a file */
        {"a/.wh.1", ENTRY_FILE},        /* delete a file in a directory */
        {"b/.wh..wh..opq", ENTRY_FILE}, /* b's lower content goes */
        {"b/y", ENTRY_FILE, "y"},
        {".wh.d", ENTRY_FILE}, /* d deleted and made again: opaque */
        {"d/", ENTRY_DIR},
        {"d/new", ENTRY_FILE, "n"},
        {"e", ENTRY_FILE, "e"},
        {"f", ENTRY_FILE, "kept"},
        {".wh.f", ENTRY_FILE}, /* a whiteout never hides its own layer's entry */
    };
    const struct layer_entry top[] = {
        {"a/3", ENTRY_FILE, "3"},
        {".wh.e", ENTRY_FILE},
    };
    struct test_layer layers[3];
    char chain[DIGEST_STRING_SIZE], value[8];
    const char *target, *snapshots;
    struct stat info;
    struct berr err;

    if (!fixture_can_mount())
        skip();
    make_blob(fixture, "gzip", bottom, sizeof(bottom) / sizeof(bottom[0]), &layers[0]);
    make_blob(fixture, "zstd", middle, sizeof(middle) / sizeof(middle[0]), &layers[1]);
    make_blob(fixture, "none", top, sizeof(top) / sizeof(top[0]), &layers[2]);
    if (unpack_layers(fixture, NS, layers, 3, NULL, chain, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(list_count(fixture, NS, "kind==committed"), 3);

    /* On disk, overlayfs's forms. */
    snapshots = snapshotter_directory(fixture->snapshotter);
    assert_int_equal(lstat(joined(snapshots, "2/fs/c"), &info), 0);
    assert_true(S_ISCHR(info.st_mode));
    assert_int_equal(info.st_rdev, makedev(0, 0));
    assert_int_equal(
        getxattr(joined(snapshots, "2/fs/b"), "trusted.overlay.opaque", value, sizeof(value)), 1);
    assert_int_equal(
        getxattr(joined(snapshots, "2/fs/d"), "trusted.overlay.opaque", value, sizeof(value)), 1);
    assert_false(path_exists(joined(snapshots, "1/fs/nothing"))); /* bottom: nothing to hide */
    assert_false(path_exists(joined(snapshots, "1/fs/.wh.nothing")));

    target = mount_rootfs(fixture, NS, "container", chain);
    assert_false(path_exists(joined(target, "a/1")));
    assert_true(path_exists(joined(target, "a/2")));
    assert_true(path_exists(joined(target, "a/3")));
    assert_false(path_exists(joined(target, "b/x")));
    assert_true(path_exists(joined(target, "b/y")));
    assert_false(path_exists(joined(target, "c")));
    assert_false(path_exists(joined(target, "d/old")));
    assert_true(path_exists(joined(target, "d/new")));
    assert_false(path_exists(joined(target, "e")));
    assert_true(path_exists(joined(target, "f")));
    assert_int_equal(count_entries(target), 4); /* a b d f */

    /* Again: every chain ID is committed already, nothing is unpacked. */
    {
        char again[DIGEST_STRING_SIZE];
        assert_int_equal(unpack_layers(fixture, NS, layers, 3, NULL, again, &err), 0);
        assert_string_equal(again, chain);
        assert_int_equal(count_entries(snapshots), 4); /* 3 layers + the container */
    }
}

static void diff_id_mismatch_commits_nothing(void **state)
{
    struct fixture *fixture = *state;
    const struct layer_entry first[] = {{"one", ENTRY_FILE, "1"}};
    const struct layer_entry second[] = {{"two", ENTRY_FILE, "2"}};
    struct test_layer layers[2];
    char chain[DIGEST_STRING_SIZE];
    struct berr err;

    make_blob(fixture, "gzip", first, 1, &layers[0]);
    make_blob(fixture, "gzip", second, 1, &layers[1]);

    /* The bottom layer wrong: nothing committed, nothing left on disk. */
    memcpy(layers[0].diff_id, layers[1].diff_id, sizeof(layers[0].diff_id));
    assert_int_equal(unpack_layers(fixture, NS, layers, 1, NULL, chain, &err), BERR_INVALID);
    assert_non_null(strstr(err.message, "does not match"));
    assert_int_equal(list_count(fixture, NS, NULL), 0);
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)), 0);
}

/* The second layer wrong: it and everything above stay uncommitted; the
 * verified bottom layer stays for the next attempt. */
static void diff_id_mismatch_on_upper_layer(void **state)
{
    struct fixture *fixture = *state;
    const struct layer_entry first[] = {{"one", ENTRY_FILE, "1"}};
    const struct layer_entry second[] = {{"two", ENTRY_FILE, "2"}};
    struct test_layer layers[2];
    char chain[DIGEST_STRING_SIZE];
    struct berr err;

    make_blob(fixture, "gzip", first, 1, &layers[0]);
    make_blob(fixture, "gzip", second, 1, &layers[1]);
    memcpy(layers[1].diff_id, layers[0].diff_id, sizeof(layers[1].diff_id));
    assert_int_equal(unpack_layers(fixture, NS, layers, 2, NULL, chain, &err), BERR_INVALID);
    assert_int_equal(list_count(fixture, NS, NULL), 1);
    assert_int_equal(list_count(fixture, NS, "kind==active"), 0);
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)), 1);
}

static void unsupported_media_type(void **state)
{
    struct fixture *fixture = *state;
    const struct layer_entry first[] = {{"one", ENTRY_FILE, "1"}};
    struct test_layer layer;
    char chain[DIGEST_STRING_SIZE];
    struct berr err;

    make_blob(fixture, "gzip", first, 1, &layer);
    layer.ref.media_type = "application/vnd.oci.image.layer.v1.tar+encrypted";
    assert_int_equal(unpack_layers(fixture, NS, &layer, 1, NULL, chain, &err), BERR_UNSUPPORTED);
    assert_int_equal(list_count(fixture, NS, NULL), 0);
}

static void full_disk_leaves_nothing(void **state)
{
    struct fixture *fixture = *state;
    struct snapshotter *tiny_snapshotter;
    struct metadata *tiny_metadata;
    struct test_layer layer;
    char tiny[PATH_MAX], chain[DIGEST_STRING_SIZE], big[PATH_MAX], *content;
    struct layer_entry entries[2] = {{"small", ENTRY_FILE, "fits"}, {"big", ENTRY_FILE, NULL}};
    struct snapshot_info *infos;
    size_t count;
    struct berr err;
    int rc;

    if (!fixture_can_mount())
        skip();
    snprintf(tiny, sizeof(tiny), "%s", fixture_mountpoint(fixture, "tiny"));
    if (mount("tmpfs", tiny, "tmpfs", 0, "size=1m") < 0)
        fail_msg("mount tmpfs: %s", strerror(errno));
    /* 3 MiB that gzip cannot shrink below 1 MiB. */
    snprintf(big, sizeof(big), "%s", fixture_path(fixture, "random"));
    run("head -c 2400000 /dev/urandom | base64 -w0 > '%s'", big);
    content = read_text(big);
    assert_non_null(content);
    entries[1].content = content;
    make_blob(fixture, "gzip", entries, 2, &layer);
    free(content);

    assert_int_equal(metadata_open(fixture_path(fixture, "tiny.lmdb"), &tiny_metadata, &err), 0);
    assert_int_equal(snapshotter_open(tiny, tiny_metadata, &tiny_snapshotter, &err), 0);
    {
        struct unpack_layer_ref ref = layer.ref;
        rc = unpack_image(tiny_snapshotter, NS, &ref, 1, open_blob_file,
                          (void *)fixture_path(fixture, "blobs"), NULL, chain, &err);
    }
    assert_int_equal(rc, BERR_NOSPACE);
    assert_non_null(strstr(err.message, "big"));
    assert_int_equal(snapshot_list(tiny_snapshotter, NS, NULL, 0, &infos, &count, &err), 0);
    assert_int_equal(count, 0);
    snapshot_info_array_free(infos, count);
    assert_int_equal(count_entries(joined(tiny, "snapshots")), 0);
    snapshotter_close(tiny_snapshotter);
    metadata_close(tiny_metadata);
}

struct progress_counts {
    int existed, shared, unpacked;
};

static void count_progress(void *context, size_t index, const char *chain_id,
                           enum unpack_layer_outcome outcome, const struct unpack_result *result)
{
    struct progress_counts *counts = context;
    (void)index;
    (void)chain_id;
    if (outcome == UNPACK_LAYER_UNPACKED) {
        assert_non_null(result);
        __atomic_add_fetch(&counts->unpacked, 1, __ATOMIC_SEQ_CST);
    } else if (outcome == UNPACK_LAYER_SHARED) {
        __atomic_add_fetch(&counts->shared, 1, __ATOMIC_SEQ_CST);
    } else {
        __atomic_add_fetch(&counts->existed, 1, __ATOMIC_SEQ_CST);
    }
}

struct concurrent_unpack {
    struct fixture *fixture;
    struct test_layer *layers;
    char blobs[PATH_MAX];
    struct unpack_image_options options;
    char chain[DIGEST_STRING_SIZE];
    struct berr err;
    int rc;
};

static void *unpack_thread(void *argument)
{
    struct concurrent_unpack *job = argument;
    struct unpack_layer_ref refs[3];
    int i;

    for (i = 0; i < 3; i++)
        refs[i] = job->layers[i].ref;
    job->rc = unpack_image(job->fixture->snapshotter, NS, refs, 3, open_blob_file, job->blobs,
                           &job->options, job->chain, &job->err);
    return NULL;
}

static void concurrent_unpacks_do_not_collide(void **state)
{
    struct fixture *fixture = *state;
    struct layer_entry entries[3][40];
    char names[3][40][16];
    struct test_layer layers[3];
    struct progress_counts counts = {0, 0, 0};
    struct concurrent_unpack jobs[4];
    pthread_t threads[4];
    int i, j;

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 40; j++) {
            snprintf(names[i][j], sizeof(names[i][j]), "l%d-f%02d", i, j);
            memset(&entries[i][j], 0, sizeof(entries[i][j]));
            entries[i][j].name = names[i][j];
            entries[i][j].type = ENTRY_FILE;
            entries[i][j].content = names[i][j];
        }
        make_blob(fixture, i == 1 ? "zstd" : "gzip", entries[i], 40, &layers[i]);
    }
    for (i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].fixture = fixture;
        jobs[i].layers = layers;
        snprintf(jobs[i].blobs, sizeof(jobs[i].blobs), "%s", fixture_path(fixture, "blobs"));
        jobs[i].options.progress = count_progress;
        jobs[i].options.progress_context = &counts;
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, unpack_thread, &jobs[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    for (i = 0; i < 4; i++) {
        if (jobs[i].rc != 0)
            fail_msg("unpack %d: %s", i, jobs[i].err.message);
        assert_string_equal(jobs[i].chain, jobs[0].chain);
    }
    /* Each layer unpacked once: three snapshots, three directories. */
    assert_int_equal(list_count(fixture, NS, NULL), 3);
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)), 3);
    assert_int_equal(counts.unpacked, 3);
    assert_int_equal(counts.existed, 9);
}

/* ---- the bundled busybox image ---- */

struct oci_image {
    char blobs[PATH_MAX];
    struct unpack_layer_ref refs[8];
    char digests[8][DIGEST_STRING_SIZE], diff_ids[8][DIGEST_STRING_SIZE], media[8][128];
    size_t count;
};

static yajl_val parse_blob(const char *blobs, const char *digest)
{
    char path[PATH_MAX * 2];
    struct berr err;
    yajl_val tree;

    snprintf(path, sizeof(path), "%s/%s", blobs, digest + 7);
    if (json_parse_file(path, 1 << 20, &tree, &err) != 0)
        fail_msg("%s", err.message);
    return tree;
}

/* Loads manifest number `which` of the OCI layout at layout. */
static bool load_oci_image(const char *layout, int which, struct oci_image *image)
{
    char path[PATH_MAX + 16];
    yajl_val index, manifest, config, layers, diff_ids, rootfs;
    const char *digest = NULL;
    struct berr err;
    size_t i;

    snprintf(path, sizeof(path), "%s/index.json", layout);
    if (!path_exists(path))
        return false;
    snprintf(image->blobs, sizeof(image->blobs), "%s/blobs/sha256", layout);
    assert_int_equal(json_parse_file(path, 1 << 20, &index, &err), 0);
    assert_int_equal(json_get_string(json_get(index, "manifests")->u.array.values[which], "digest",
                                     &digest, &err),
                     0);
    manifest = parse_blob(image->blobs, digest);
    assert_int_equal(json_get_string(json_get(manifest, "config"), "digest", &digest, &err), 0);
    config = parse_blob(image->blobs, digest);
    layers = json_get(manifest, "layers");
    rootfs = json_get(config, "rootfs");
    diff_ids = json_get(rootfs, "diff_ids");
    assert_int_equal(layers->u.array.len, diff_ids->u.array.len);
    image->count = layers->u.array.len;
    for (i = 0; i < image->count; i++) {
        const char *media = NULL;
        assert_int_equal(json_get_string(layers->u.array.values[i], "digest", &digest, &err), 0);
        assert_int_equal(json_get_string(layers->u.array.values[i], "mediaType", &media, &err), 0);
        snprintf(image->digests[i], DIGEST_STRING_SIZE, "%s", digest);
        snprintf(image->media[i], sizeof(image->media[i]), "%s", media);
        snprintf(image->diff_ids[i], DIGEST_STRING_SIZE, "%s",
                 YAJL_GET_STRING(diff_ids->u.array.values[i]));
        image->refs[i].digest = image->digests[i];
        image->refs[i].media_type = image->media[i];
        image->refs[i].diff_id = image->diff_ids[i];
    }
    yajl_tree_free(index);
    yajl_tree_free(manifest);
    yajl_tree_free(config);
    return true;
}

static void busybox_image(void **state)
{
    struct fixture *fixture = *state;
    const char *layout = BERTH_BUILD_DIR "/images/busybox/oci";
    struct oci_image gzip_image, zstd_image;
    struct progress_counts counts = {0, 0, 0};
    struct unpack_image_options options;
    char chain[DIGEST_STRING_SIZE], zstd_chain[DIGEST_STRING_SIZE];
    const char *target;
    struct stat info;
    struct berr err;
    size_t i;

    if (!load_oci_image(layout, 0, &gzip_image) || !load_oci_image(layout, 1, &zstd_image)) {
        fprintf(stderr, "no %s: build the busybox-image target\n", layout);
        skip();
    }
    assert_non_null(strstr(gzip_image.media[0], "gzip"));
    assert_non_null(strstr(zstd_image.media[0], "zstd"));

    /* Each blob alone: the diff ID the config names. */
    for (i = 0; i < gzip_image.count; i++) {
        struct unpack_result result;
        char path[PATH_MAX * 2];
        snprintf(path, sizeof(path), "%s/%s", gzip_image.blobs, gzip_image.digests[i] + 7);
        assert_int_equal(unpack_file(fixture, path, "gzip-layer", false, &result, &err), 0);
        assert_string_equal(result.diff_id, gzip_image.diff_ids[i]);
        snprintf(path, sizeof(path), "%s/%s", zstd_image.blobs, zstd_image.digests[i] + 7);
        assert_int_equal(unpack_file(fixture, path, "zstd-layer", false, &result, &err), 0);
        assert_string_equal(result.diff_id, zstd_image.diff_ids[i]);
    }
    assert_true(path_exists(joined(fixture_path(fixture, "zstd-layer"), "bin/sh")));

    memset(&options, 0, sizeof(options));
    options.progress = count_progress;
    options.progress_context = &counts;
    if (unpack_image(fixture->snapshotter, NS, gzip_image.refs, gzip_image.count, open_blob_file,
                     gzip_image.blobs, &options, chain, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(counts.unpacked, (int)gzip_image.count);

    /* Another namespace, the zstd manifest of the same image: same chain
     * IDs, so the verified directories are shared, not unpacked again. */
    if (unpack_image(fixture->snapshotter, "other", zstd_image.refs, zstd_image.count,
                     open_blob_file, zstd_image.blobs, &options, zstd_chain, &err) != 0)
        fail_msg("%s", err.message);
    assert_string_equal(zstd_chain, chain);
    assert_int_equal(counts.shared, (int)zstd_image.count);
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)),
                     (int)gzip_image.count);

    if (fixture_can_mount()) {
        target = mount_rootfs(fixture, "other", "container", chain);
        assert_int_equal(stat(joined(target, "bin/sh"), &info), 0);
        assert_true(S_ISREG(info.st_mode));
        assert_true(info.st_mode & S_IXUSR);
        assert_int_equal(snapshot_unmount(target, &err), 0);
        assert_int_equal(snapshot_remove(fixture->snapshotter, "other", "container", &err), 0);
    }
    /* The shared directory lives while one namespace still has it. */
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, chain, &err), 0);
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)),
                     (int)gzip_image.count);
    assert_int_equal(snapshot_remove(fixture->snapshotter, "other", chain, &err), 0);
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)),
                     (int)gzip_image.count - 1);
}

static void cleanup_removes_abandoned_extractions(void **state)
{
    struct fixture *fixture = *state;
    struct snapshot_info info;
    struct berr err;

    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "extract-1-2 sha256:00", NULL, NULL,
                                      0, NULL, &err),
                     0);
    assert_int_equal(snapshot_prepare(fixture->snapshotter, "other", "extract-3-4 sha256:00", NULL,
                                      NULL, 0, NULL, &err),
                     0);
    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, NS, "container", NULL, NULL, 0, NULL, &err), 0);
    assert_int_equal(unpack_cleanup(fixture->snapshotter, fixture->metadata, &err), 0);
    assert_int_equal(list_count(fixture, NS, NULL), 1);
    assert_int_equal(list_count(fixture, "other", NULL), 0);
    assert_int_equal(snapshot_stat(fixture->snapshotter, NS, "container", &info, &err), 0);
    snapshot_info_free(&info);
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(entries_and_metadata, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(diff_id_is_sha256_of_the_uncompressed_tar, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test(chain_ids),
        cmocka_unit_test_setup_teardown(sparse_files_stay_sparse, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(hostile_layers_are_refused, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(whiteouts_and_opaque_dirs_through_overlay, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(diff_id_mismatch_commits_nothing, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(diff_id_mismatch_on_upper_layer, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(unsupported_media_type, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(full_disk_leaves_nothing, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(concurrent_unpacks_do_not_collide, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(busybox_image, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(cleanup_removes_abandoned_extractions, fixture_setup,
                                        fixture_teardown),
    };

    fixture_private_mounts();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
