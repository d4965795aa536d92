/* Unit tests of supervisord/snapshots and supervisord/mount: the snapshot
 * lifecycle against a real LMDB store and real directories in /tmp, and
 * real overlay mounts (in the test's own mount namespace, also unmounted by
 * teardown). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "dirtree.h"
#include "fixture.h"
#include "mount.h"
#include "snapshots.h"

#define NS "default"

static const char *option_value(const struct mount_spec *mount, const char *prefix)
{
    size_t i, length = strlen(prefix);

    for (i = 0; i < mount->option_count; i++) {
        if (strncmp(mount->options[i], prefix, length) == 0)
            return mount->options[i] + length;
    }
    return NULL;
}

static bool has_option(const struct mount_spec *mount, const char *option)
{
    size_t i;

    for (i = 0; i < mount->option_count; i++) {
        if (strcmp(mount->options[i], option) == 0)
            return true;
    }
    return false;
}

/* The fs/ of an active snapshot, where a test writes its files. */
static char *active_directory(struct fixture *fixture, const char *key)
{
    struct berr err;
    char *path = NULL;

    if (snapshot_active_directory(fixture->snapshotter, NS, key, &path, &err) != 0)
        fail_msg("%s", err.message);
    return path;
}

/* Prepares key on parent, writes name=content in it, commits it as name. */
static void commit_layer(struct fixture *fixture, const char *name, const char *parent,
                         const char *file, const char *content)
{
    char key[256], path[PATH_MAX];
    struct berr err;
    char *directory;

    snprintf(key, sizeof(key), "prepare-%s", name);
    if (snapshot_prepare(fixture->snapshotter, NS, key, parent, NULL, 0, NULL, &err) != 0)
        fail_msg("%s", err.message);
    directory = active_directory(fixture, key);
    if (file) {
        snprintf(path, sizeof(path), "%s/%s", directory, file);
        write_text(path, content);
    }
    free(directory);
    if (snapshot_commit(fixture->snapshotter, NS, name, key, NULL, 0, &err) != 0)
        fail_msg("%s", err.message);
}

static void lifecycle(void **state)
{
    struct fixture *fixture = *state;
    struct mount_list mounts = {NULL, 0};
    struct snapshot_info info;
    struct berr err;
    char *directory, path[PATH_MAX];

    /* No parent: a bind mount of the snapshot's own fs/. */
    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "a", NULL, NULL, 0, &mounts, &err),
                     0);
    assert_int_equal(mounts.count, 1);
    assert_string_equal(mounts.mounts[0].type, "bind");
    assert_true(has_option(&mounts.mounts[0], "rw"));
    assert_true(has_option(&mounts.mounts[0], "rbind"));
    directory = active_directory(fixture, "a");
    assert_string_equal(mounts.mounts[0].source, directory);
    snprintf(path, sizeof(path), "%s/hello", directory);
    write_text(path, "world\n");
    mount_list_free(&mounts);

    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "a", NULL, NULL, 0, NULL, &err),
                     BERR_EXISTS);
    assert_int_equal(snapshot_commit(fixture->snapshotter, NS, "base", "a", NULL, 0, &err), 0);
    /* The same directory, now committed, read-only by convention. */
    assert_true(path_exists(path));
    assert_int_equal(snapshot_stat(fixture->snapshotter, NS, "a", &info, &err), BERR_NOT_FOUND);
    assert_int_equal(snapshot_stat(fixture->snapshotter, NS, "base", &info, &err), 0);
    assert_string_equal(info.name, "base");
    assert_string_equal(info.parent, "");
    assert_int_equal(info.kind, SNAPSHOT_KIND_COMMITTED);
    assert_true(info.created_at.tv_sec > 0);
    snapshot_info_free(&info);
    assert_int_equal(snapshot_mounts(fixture->snapshotter, NS, "base", &mounts, &err),
                     BERR_CONFLICT);

    /* On a parent: an overlay; upperdir and workdir are the snapshot's own. */
    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, NS, "b", "base", NULL, 0, &mounts, &err), 0);
    assert_int_equal(mounts.count, 1);
    assert_string_equal(mounts.mounts[0].type, "overlay");
    {
        char *upper = active_directory(fixture, "b"), lower[PATH_MAX];
        snprintf(lower, sizeof(lower), "%s", directory);
        assert_string_equal(option_value(&mounts.mounts[0], "upperdir="), upper);
        assert_string_equal(option_value(&mounts.mounts[0], "lowerdir="), lower);
        assert_non_null(option_value(&mounts.mounts[0], "workdir="));
        free(upper);
    }
    mount_list_free(&mounts);
    assert_int_equal(snapshot_mounts(fixture->snapshotter, NS, "b", &mounts, &err), 0);
    assert_string_equal(mounts.mounts[0].type, "overlay");
    mount_list_free(&mounts);

    /* A view of one layer: a read-only bind of that layer. */
    assert_int_equal(snapshot_view(fixture->snapshotter, NS, "v", "base", NULL, 0, &mounts, &err),
                     0);
    assert_string_equal(mounts.mounts[0].type, "bind");
    assert_string_equal(mounts.mounts[0].source, directory);
    assert_true(has_option(&mounts.mounts[0], "ro"));
    mount_list_free(&mounts);
    assert_int_equal(snapshot_stat(fixture->snapshotter, NS, "v", &info, &err), 0);
    assert_int_equal(info.kind, SNAPSHOT_KIND_VIEW);
    assert_string_equal(info.parent, "base");
    snapshot_info_free(&info);

    /* Wrong kinds and missing parents. */
    assert_int_equal(snapshot_commit(fixture->snapshotter, NS, "v2", "v", NULL, 0, &err),
                     BERR_CONFLICT);
    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "c", "b", NULL, 0, NULL, &err),
                     BERR_INVALID);
    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "c", "nope", NULL, 0, NULL, &err),
                     BERR_NOT_FOUND);
    assert_int_equal(snapshot_commit(fixture->snapshotter, NS, "base", "b", NULL, 0, &err),
                     BERR_EXISTS);
    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, "Bad/NS", "c", NULL, NULL, 0, NULL, &err),
        BERR_INVALID);
    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "", NULL, NULL, 0, NULL, &err),
                     BERR_INVALID);

    /* A parent stays while it has children. */
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, "base", &err), BERR_CONFLICT);
    assert_non_null(strstr(err.message, "parent"));
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, "b", &err), 0);
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, "base", &err), BERR_CONFLICT);
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, "v", &err), 0);
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, "base", &err), 0);
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, "base", &err), BERR_NOT_FOUND);
    assert_false(path_exists(directory));
    assert_int_equal(count_entries(snapshotter_directory(fixture->snapshotter)), 0);
    free(directory);
}

static void namespaces_are_separate(void **state)
{
    struct fixture *fixture = *state;
    struct snapshot_info *infos, info;
    size_t count;
    struct berr err;

    commit_layer(fixture, "layer", NULL, "f", "one");
    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, "other", "layer", NULL, NULL, 0, NULL, &err), 0);
    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, "other", "x", "layer", NULL, 0, NULL, &err),
        BERR_INVALID); /* other's "layer" is active, not the default's committed one */
    assert_int_equal(snapshot_list(fixture->snapshotter, "other", NULL, 0, &infos, &count, &err),
                     0);
    assert_int_equal(count, 1);
    assert_int_equal(infos[0].kind, SNAPSHOT_KIND_ACTIVE);
    snapshot_info_array_free(infos, count);
    assert_int_equal(snapshot_remove(fixture->snapshotter, "other", "layer", &err), 0);
    assert_int_equal(snapshot_stat(fixture->snapshotter, NS, "layer", &info, &err), 0);
    assert_int_equal(info.kind, SNAPSHOT_KIND_COMMITTED);
    snapshot_info_free(&info);
}

static void labels_update_and_list(void **state)
{
    struct fixture *fixture = *state;
    struct snapshot_label labels[] = {{"color", "red"}, {"containerd.io/gc.root", "yes"}};
    struct snapshot_label changes[] = {{"color", "blue"}, {"size", "big"}};
    struct snapshot_info info, updated, *infos;
    size_t count;
    struct berr err;

    commit_layer(fixture, "base", NULL, "f", "x");
    commit_layer(fixture, "middle", "base", "g", "y");
    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, NS, "work", "middle", labels, 2, NULL, &err), 0);
    assert_int_equal(snapshot_view(fixture->snapshotter, NS, "look", "base", NULL, 0, NULL, &err),
                     0);
    assert_int_equal(snapshot_stat(fixture->snapshotter, NS, "work", &info, &err), 0);
    assert_int_equal(info.label_count, 2);
    assert_string_equal(info.labels[0].key, "color");
    assert_string_equal(info.labels[0].value, "red");

    /* labels.KEY: set one, remove one absent from info, leave the rest. */
    {
        struct snapshot_info request = info;
        const char *paths[] = {"labels.color", "labels.size", "labels.containerd.io/gc.root"};
        request.labels = changes;
        request.label_count = 2;
        assert_int_equal(
            snapshot_update(fixture->snapshotter, NS, &request, paths, 3, &updated, &err), 0);
        assert_int_equal(updated.label_count, 2);
        assert_string_equal(updated.labels[0].key, "color");
        assert_string_equal(updated.labels[0].value, "blue");
        assert_string_equal(updated.labels[1].key, "size");
        assert_true(updated.updated_at.tv_sec >= info.updated_at.tv_sec);
        snapshot_info_free(&updated);
        /* Only labels may change. */
        paths[0] = "parent";
        assert_int_equal(snapshot_update(fixture->snapshotter, NS, &request, paths, 1, NULL, &err),
                         BERR_INVALID);
        /* No mask: all labels replaced. */
        request.label_count = 1;
        assert_int_equal(
            snapshot_update(fixture->snapshotter, NS, &request, NULL, 0, &updated, &err), 0);
        assert_int_equal(updated.label_count, 1);
        snapshot_info_free(&updated);
    }
    snapshot_info_free(&info);

    {
        const char *by_parent[] = {"parent==middle"};
        const char *by_kind[] = {"kind==committed"};
        const char *by_label[] = {"labels.color==blue"};
        const char *either[] = {"name==base", "name==look"};
        const char *both[] = {"kind==committed,parent==base"};
        /* As containerd's adaptor: parent is always present, "" for none. */
        const char *present[] = {"parent"};
        const char *bottom[] = {"parent==\"\""};
        const char *regex[] = {"name~=^(ba|mi)"};
        const char *slashed[] = {"kind~=/^(active|view)$/"};
        const char *quoted[] = {"labels.\"color\"==\"blue\""};
        const char *not_equal[] = {"kind!=committed"};
        /* != reads a missing label as "": base, middle and look have none. */
        const char *no_label[] = {"labels.color!=blue"};
        /* Kind is lower case, compared as it is. */
        const char *capital[] = {"kind==Committed"};
        /* Unknown fields are absent, not errors. */
        const char *unknown[] = {"weight==3"}, *not_unknown[] = {"weight!=3"};
        const char *bad[] = {"name==\"open"};

        assert_int_equal(snapshot_list(fixture->snapshotter, NS, NULL, 0, &infos, &count, &err), 0);
        assert_int_equal(count, 4);
        assert_string_equal(infos[0].name, "base"); /* key order */
        assert_string_equal(infos[3].name, "work");
        snapshot_info_array_free(infos, count);
#define LIST_COUNT(filters, expected)                                                              \
    do {                                                                                           \
        assert_int_equal(snapshot_list(fixture->snapshotter, NS, filters,                          \
                                       sizeof(filters) / sizeof(filters[0]), &infos, &count,       \
                                       &err),                                                      \
                         0);                                                                       \
        assert_int_equal(count, expected);                                                         \
        snapshot_info_array_free(infos, count);                                                    \
    } while (0)
        LIST_COUNT(by_parent, 1);
        LIST_COUNT(by_kind, 2);
        LIST_COUNT(by_label, 1);
        LIST_COUNT(either, 2);
        LIST_COUNT(both, 1);
        LIST_COUNT(present, 4);
        LIST_COUNT(bottom, 1);
        LIST_COUNT(regex, 2);
        LIST_COUNT(slashed, 2);
        LIST_COUNT(quoted, 1);
        LIST_COUNT(not_equal, 2);
        LIST_COUNT(no_label, 3);
        LIST_COUNT(capital, 0);
        LIST_COUNT(unknown, 0);
        LIST_COUNT(not_unknown, 4);
        assert_int_equal(snapshot_list(fixture->snapshotter, NS, bad, 1, &infos, &count, &err),
                         BERR_INVALID);
    }
}

static void usage_counts_hardlinks_once(void **state)
{
    struct fixture *fixture = *state;
    struct snapshot_usage usage, committed;
    char *directory, path[PATH_MAX], other[PATH_MAX];
    struct berr err;
    char block[8192];
    int fd;

    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "u", NULL, NULL, 0, NULL, &err), 0);
    assert_int_equal(snapshot_usage(fixture->snapshotter, NS, "u", &usage, &err), 0);
    assert_int_equal(usage.inodes, 1); /* fs/ itself */
    directory = active_directory(fixture, "u");
    snprintf(path, sizeof(path), "%s/data", directory);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    memset(block, 'x', sizeof(block));
    for (int i = 0; i < 128; i++) /* 1 MiB */
        assert_int_equal(write(fd, block, sizeof(block)), sizeof(block));
    close(fd);
    snprintf(other, sizeof(other), "%s/link", directory);
    assert_int_equal(link(path, other), 0);
    snprintf(other, sizeof(other), "%s/sub", directory);
    assert_int_equal(mkdir(other, 0755), 0);
    snprintf(other, sizeof(other), "%s/sub/link2", directory);
    assert_int_equal(link(path, other), 0);
    free(directory);

    assert_int_equal(snapshot_usage(fixture->snapshotter, NS, "u", &usage, &err), 0);
    assert_int_equal(usage.inodes, 3); /* fs/, sub/, data (three names, one inode) */
    assert_true(usage.size >= 1024 * 1024);
    assert_true(usage.size < 2 * 1024 * 1024);
    assert_int_equal(snapshot_commit(fixture->snapshotter, NS, "c", "u", NULL, 0, &err), 0);
    assert_int_equal(snapshot_usage(fixture->snapshotter, NS, "c", &committed, &err), 0);
    assert_int_equal(committed.size, usage.size);
    assert_int_equal(committed.inodes, usage.inodes);
    assert_int_equal(snapshot_usage(fixture->snapshotter, NS, "gone", &usage, &err),
                     BERR_NOT_FOUND);
}

static void orphans_removed_at_open(void **state)
{
    struct fixture *fixture = *state;
    char snapshots[PATH_MAX], path[PATH_MAX + 32];
    struct snapshot_info info;
    struct berr err;

    snprintf(snapshots, sizeof(snapshots), "%s", snapshotter_directory(fixture->snapshotter));
    commit_layer(fixture, "kept", NULL, "f", "x"); /* directory 1 */
    /* What a crash leaves: the next id's directory made, its record not
     * committed; and a half-removed one with no record. */
    snprintf(path, sizeof(path), "%s/2", snapshots);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/2/fs", snapshots);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/2/fs/stale", snapshots);
    write_text(path, "old");
    snprintf(path, sizeof(path), "%s/77", snapshots);
    assert_int_equal(mkdir(path, 0700), 0);

    /* A prepare meeting the orphan of its own id starts from an empty directory. */
    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "p", NULL, NULL, 0, NULL, &err), 0);
    snprintf(path, sizeof(path), "%s/2/fs/stale", snapshots);
    assert_false(path_exists(path));
    assert_int_equal(snapshot_remove(fixture->snapshotter, NS, "p", &err), 0);

    snprintf(path, sizeof(path), "%s/77", snapshots);
    assert_true(path_exists(path));
    fixture_reopen(fixture);
    assert_false(path_exists(path));
    assert_int_equal(count_entries(snapshots), 1);
    assert_int_equal(snapshot_stat(fixture->snapshotter, NS, "kept", &info, &err), 0);
    snapshot_info_free(&info);
    /* Ids are never reused: the next one is 3 although 2 is free. */
    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "q", NULL, NULL, 0, NULL, &err), 0);
    snprintf(path, sizeof(path), "%s/3", snapshots);
    assert_true(path_exists(path));
}

static void root_with_comma_refused(void **state)
{
    struct fixture *fixture = *state;
    struct snapshotter *snapshotter;
    struct berr err;

    assert_int_equal(snapshotter_open("/tmp/a,b", fixture->metadata, &snapshotter, &err),
                     BERR_INVALID);
}

/* ---- mounts ---- */

static void overlay_stack_of_three(void **state)
{
    struct fixture *fixture = *state;
    struct mount_list mounts = {NULL, 0};
    const char *target;
    char path[PATH_MAX], *text, *upper;
    struct berr err;

    if (!fixture_can_mount())
        skip();
    commit_layer(fixture, "l1", NULL, "shared", "from l1");
    commit_layer(fixture, "l2", "l1", "two", "from l2");
    commit_layer(fixture, "l3", "l2", "shared", "from l3");

    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, NS, "rootfs", "l3", NULL, 0, &mounts, &err), 0);
    /* lowerdir is the chain, top first. */
    {
        const char *lower = option_value(&mounts.mounts[0], "lowerdir=");
        const char *snapshots = snapshotter_directory(fixture->snapshotter);
        char expected[3 * PATH_MAX];
        snprintf(expected, sizeof(expected), "%s/3/fs:%s/2/fs:%s/1/fs", snapshots, snapshots,
                 snapshots);
        assert_string_equal(lower, expected);
    }
    target = fixture_mount(fixture, "rootfs", &mounts);
    mount_list_free(&mounts);
    snprintf(path, sizeof(path), "%s/shared", target);
    text = read_text(path);
    assert_string_equal(text, "from l3");
    free(text);
    snprintf(path, sizeof(path), "%s/two", target);
    text = read_text(path);
    assert_string_equal(text, "from l2");
    free(text);
    /* Writes land in the upper layer only. */
    snprintf(path, sizeof(path), "%s/new", target);
    write_text(path, "written");
    snprintf(path, sizeof(path), "%s/two", target);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(snapshot_unmount(target, &err), 0);
    upper = active_directory(fixture, "rootfs");
    snprintf(path, sizeof(path), "%s/new", upper);
    assert_true(path_exists(path));
    snprintf(path, sizeof(path), "%s/two", upper); /* the whiteout overlayfs made */
    {
        struct stat info;
        assert_int_equal(lstat(path, &info), 0);
        assert_true(S_ISCHR(info.st_mode));
        assert_int_equal(info.st_rdev, makedev(0, 0));
    }
    free(upper);
    snprintf(path, sizeof(path), "%s/2/fs/two", snapshotter_directory(fixture->snapshotter));
    assert_true(path_exists(path));

    /* A view of the three: a read-only overlay. */
    assert_int_equal(snapshot_view(fixture->snapshotter, NS, "look", "l3", NULL, 0, &mounts, &err),
                     0);
    assert_string_equal(mounts.mounts[0].type, "overlay");
    assert_null(option_value(&mounts.mounts[0], "upperdir="));
    target = fixture_mount(fixture, "look", &mounts);
    mount_list_free(&mounts);
    snprintf(path, sizeof(path), "%s/two", target);
    assert_true(path_exists(path));
    snprintf(path, sizeof(path), "%s/nope", target);
    assert_int_equal(open(path, O_WRONLY | O_CREAT, 0644), -1);
    assert_int_equal(errno, EROFS);

    /* Unmounting twice, or what was never mounted, is fine. */
    assert_int_equal(snapshot_unmount(target, &err), 0);
    assert_int_equal(snapshot_unmount(target, &err), 0);
    assert_int_equal(snapshot_unmount(fixture_path(fixture, "missing"), &err), 0);
}

static void bind_mounts_of_single_layers(void **state)
{
    struct fixture *fixture = *state;
    struct mount_list mounts = {NULL, 0};
    const char *target;
    char path[PATH_MAX];
    struct berr err;

    if (!fixture_can_mount())
        skip();
    commit_layer(fixture, "l1", NULL, "file", "content");
    assert_int_equal(snapshot_view(fixture->snapshotter, NS, "v", "l1", NULL, 0, &mounts, &err), 0);
    target = fixture_mount(fixture, "view", &mounts);
    mount_list_free(&mounts);
    snprintf(path, sizeof(path), "%s/file", target);
    assert_true(path_exists(path));
    assert_int_equal(open(path, O_WRONLY), -1);
    assert_int_equal(errno, EROFS);

    assert_int_equal(snapshot_prepare(fixture->snapshotter, NS, "rw", NULL, NULL, 0, &mounts, &err),
                     0);
    target = fixture_mount(fixture, "rw", &mounts);
    mount_list_free(&mounts);
    snprintf(path, sizeof(path), "%s/made", target);
    write_text(path, "here");
}

static void many_layers(struct fixture *fixture, int layers, enum mount_long_options how)
{
    struct mount_list mounts = {NULL, 0};
    char name[32], parent[32] = "", file[32], path[PATH_MAX], *text;
    const char *target;
    struct berr err;
    int i;

    for (i = 0; i < layers; i++) {
        snprintf(name, sizeof(name), "layer-%03d", i);
        snprintf(file, sizeof(file), "file-%03d", i);
        commit_layer(fixture, name, parent[0] ? parent : NULL, file, name);
        strcpy(parent, name);
    }
    assert_int_equal(
        snapshot_prepare(fixture->snapshotter, NS, "top", parent, NULL, 0, &mounts, &err), 0);
    /* Longer than the page mount(2) takes: this is what the test is about. */
    assert_true(strlen(option_value(&mounts.mounts[0], "lowerdir=")) > 4096);
    target = fixture_mountpoint(fixture, "top");
    if (snapshot_mount_with(&mounts, target, how, &err) != 0)
        fail_msg("mount %d layers: %s", layers, err.message);
    mount_list_free(&mounts);
    for (i = 0; i < layers; i += layers - 1) {
        snprintf(path, sizeof(path), "%s/file-%03d", target, i);
        text = read_text(path);
        snprintf(name, sizeof(name), "layer-%03d", i);
        assert_non_null(text);
        assert_string_equal(text, name);
        free(text);
    }
    assert_int_equal(count_entries(target), layers);
    assert_int_equal(snapshot_unmount(target, &err), 0);
}

static void two_hundred_layers_mount(void **state)
{
    if (!fixture_can_mount())
        skip();
    many_layers(*state, 200, MOUNT_LONG_OPTIONS_AUTO);
}

static void two_hundred_layers_mount_relative(void **state)
{
    if (!fixture_can_mount())
        skip();
    /* The path older kernels (no "lowerdir+") take. */
    many_layers(*state, 200, MOUNT_LONG_OPTIONS_RELATIVE);
}

static void two_hundred_layers_mount_fsconfig(void **state)
{
    if (!fixture_can_mount())
        skip();
    many_layers(*state, 200, MOUNT_LONG_OPTIONS_FSCONFIG);
}

static void bad_mounts_fail_cleanly(void **state)
{
    struct fixture *fixture = *state;
    struct mount_list mounts = {NULL, 0};
    const char *options[] = {"lowerdir=/nonexistent/a:/nonexistent/b", NULL};
    const char *target;
    struct berr err;

    if (!fixture_can_mount())
        skip();
    target = fixture_mountpoint(fixture, "bad");
    assert_int_equal(mount_list_add(&mounts, "overlay", "overlay", options, &err), 0);
    assert_int_not_equal(snapshot_mount(&mounts, target, &err), 0);
    assert_non_null(strstr(err.message, target));
    mount_list_free(&mounts);
    options[0] = "rbind";
    assert_int_equal(mount_list_add(&mounts, "tmpfs", "none", options, &err), 0);
    assert_int_equal(snapshot_mount(&mounts, target, &err), BERR_UNSUPPORTED);
    mount_list_free(&mounts);
    assert_int_equal(count_entries(target), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lifecycle, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(namespaces_are_separate, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(labels_update_and_list, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(usage_counts_hardlinks_once, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(orphans_removed_at_open, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(root_with_comma_refused, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(overlay_stack_of_three, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(bind_mounts_of_single_layers, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(two_hundred_layers_mount, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(two_hundred_layers_mount_relative, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(two_hundred_layers_mount_fsconfig, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(bad_mounts_fail_cleanly, fixture_setup, fixture_teardown),
    };

    fixture_private_mounts();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
