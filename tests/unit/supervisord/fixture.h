/* What the snapshot and unpack tests share: a snapshotter over a fresh
 * metadata store in a temporary directory, mount points that teardown
 * unmounts, and layer tarballs written with libarchive.
 *
 * main() calls fixture_private_mounts() first: the test process gets a
 * mount namespace of its own, so a mount a failed test leaves behind
 * vanishes with the process even if teardown never runs. */
#ifndef BERTH_TEST_SUPERVISORD_FIXTURE_H
#define BERTH_TEST_SUPERVISORD_FIXTURE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "digest.h"
#include "metadata.h"
#include "snapshots.h"

#define FIXTURE_MOUNTS 16

struct fixture {
    char root[PATH_MAX]; /* the temporary directory, removed by teardown */
    struct metadata *metadata;
    struct snapshotter *snapshotter;
    char mounts[FIXTURE_MOUNTS][PATH_MAX]; /* unmounted by teardown, last first */
    int mount_count;
};

/* Returns false (and says why) when the process cannot have its own mount
 * namespace; the tests that mount then skip. */
bool fixture_private_mounts(void);
bool fixture_can_mount(void);

/* cmocka setup/teardown: *state is a struct fixture. */
int fixture_setup(void **state);
int fixture_teardown(void **state);

/* Reopens the snapshotter (as a daemon restart would). */
void fixture_reopen(struct fixture *fixture);

/* ROOT/name (static buffer per call slot: keep at most 4 at once). */
const char *fixture_path(struct fixture *fixture, const char *name);

/* Makes the directory ROOT/name and registers it for unmounting. */
const char *fixture_mountpoint(struct fixture *fixture, const char *name);

/* mounts the list on a fresh mount point and returns it. */
const char *fixture_mount(struct fixture *fixture, const char *name, const struct mount_list *list);

void write_text(const char *path, const char *text);
/* The file's content (malloc'ed), or NULL if it cannot be read. */
char *read_text(const char *path);
bool path_exists(const char *path);
/* Entries in a directory, "." and ".." aside; -1 if it cannot be read. */
int count_entries(const char *path);

/* A tar entry for build_layer. */
enum layer_entry_type {
    ENTRY_FILE,
    ENTRY_DIR,
    ENTRY_SYMLINK,
    ENTRY_HARDLINK,
    ENTRY_CHAR,
    ENTRY_BLOCK,
    ENTRY_FIFO,
};

struct layer_entry {
    const char *name;
    enum layer_entry_type type;
    const char *content; /* file data; symlink or hard link target */
    mode_t mode;         /* 0: 0644 for files, 0755 for directories */
    unsigned uid, gid;
    unsigned rdev_major, rdev_minor;
    const char *xattr_name, *xattr_value;
};

/* Writes a pax tar of entries to path, compressed with "none", "gzip" or "zstd". */
void build_layer(const char *path, const char *compression, const struct layer_entry *entries,
                 size_t count);

/* The sha256 of a file as sha256sum prints it, "sha256:<hex>". */
void sha256sum(const char *path, char out[DIGEST_STRING_SIZE]);

/* Runs a shell command; fails the test if it does not exit 0. */
void run(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
