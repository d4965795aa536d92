/*
 * unpack: see unpack.h for what and why.
 *
 * Two libarchive readers are chained: the first ("raw" format, gzip / zstd
 * / xz filters) only decompresses; the second (tar) pulls its input from
 * the first through a callback that hashes every byte on the way, and after
 * the tar's end the rest of the stream (padding) is drained into the hash
 * too. So the diff ID is the sha256 of exactly the uncompressed stream, as
 * `zcat layer | sha256sum` computes it, in the same single pass as the
 * unpacking.
 *
 * Every entry is created relative to an fd of its parent directory, which
 * is resolved with safe_path_mkdir_all (SAFE_PATH_BENEATH) and cached while
 * consecutive entries share it; the last component is never followed
 * (O_NOFOLLOW / O_EXCL, and an existing entry in the way is removed first).
 * Directory times are set at the end, as creating entries changes them.
 */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "dirtree.h"
#include "safe_path.h"

#define READ_BLOCK        (128 * 1024)
#define OPAQUE_MARKER     ".wh..wh..opq"
#define WHITEOUT_PREFIX   ".wh."
#define WHITEOUT_META     ".wh..wh."
#define OVERLAY_XATTRS    "trusted.overlay."
#define OPAQUE_XATTR      "trusted.overlay.opaque"
#define EXTRACT_KEY_START "extract-"

/* ---- the decompressed stream ---- */

struct layer_stream {
    struct archive *compressed; /* raw format: yields the decompressed bytes */
    struct digest_sha256 digest;
    uint64_t size;
    bool done;
};

static la_ssize_t stream_read(struct archive *tar, void *user, const void **buffer)
{
    struct layer_stream *stream = user;
    const void *block;
    size_t size;
    la_int64_t offset;
    int rc;

    if (stream->done)
        return 0;
    rc = archive_read_data_block(stream->compressed, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) {
        stream->done = true;
        return 0;
    }
    if (rc < ARCHIVE_WARN) {
        if (tar)
            archive_set_error(tar, archive_errno(stream->compressed), "%s",
                              archive_error_string(stream->compressed));
        return -1;
    }
    digest_sha256_update(&stream->digest, block, size);
    stream->size += size;
    *buffer = block;
    return (la_ssize_t)size;
}

/* A libarchive failure: an I/O error reading the blob is BERR_IO, anything
 * else means the stream is not a valid (compressed) tar. */
static int archive_failure(struct archive *archive, const char *what, struct berr *err)
{
    int errnum = archive_errno(archive);
    const char *message = archive_error_string(archive);

    if (errnum == EIO || errnum == ENOMEM || errnum == EBADF)
        return berr_errno(err, errnum, "%s: %s", what, message ? message : "read failed");
    return berr_set(err, BERR_INVALID, "%s: %s", what, message ? message : "not a valid tar");
}

/* ---- entry names ---- */

/* Cleans an entry name into a relative path without "." components or
 * trailing slashes (malloc'ed; "" for the root). Absolute names and ".."
 * components are hostile. */
static int clean_name(const char *what, const char *name, char **out, struct berr *err)
{
    size_t length = strlen(name), used = 0, i = 0;
    char *clean;

    if (name[0] == '/')
        return berr_set(err, BERR_INVALID, "%s %s: absolute path", what, name);
    clean = malloc(length + 1);
    if (!clean)
        return berr_set(err, BERR_NOMEM, "%s %s: out of memory", what, name);
    while (i < length) {
        size_t start = i, component;
        while (i < length && name[i] != '/')
            i++;
        component = i - start;
        while (i < length && name[i] == '/')
            i++;
        if (component == 0 || (component == 1 && name[start] == '.'))
            continue;
        if (component == 2 && name[start] == '.' && name[start + 1] == '.') {
            free(clean);
            return berr_set(err, BERR_INVALID, "%s %s: \"..\" in path", what, name);
        }
        if (used)
            clean[used++] = '/';
        memcpy(clean + used, name + start, component);
        used += component;
    }
    clean[used] = '\0';
    *out = clean;
    return 0;
}

static const char *entry_path(struct archive_entry *entry)
{
    const char *name = archive_entry_pathname(entry);

    /* In the C locale libarchive cannot convert a non-ASCII pax (UTF-8)
     * name and returns NULL; the UTF-8 bytes are the name on Linux. */
    return name ? name : archive_entry_pathname_utf8(entry);
}

static const char *entry_hardlink(struct archive_entry *entry)
{
    const char *name = archive_entry_hardlink(entry);

    return name ? name : archive_entry_hardlink_utf8(entry);
}

static const char *entry_symlink(struct archive_entry *entry)
{
    const char *name = archive_entry_symlink(entry);

    return name ? name : archive_entry_symlink_utf8(entry);
}

/* ---- applying entries ---- */

struct directory_times {
    char *path;
    struct timespec times[2];
};

struct unpacker {
    int root_fd;
    const struct unpack_options *options;
    struct archive *tar;
    char *parent_path; /* the cached parent directory */
    int parent_fd;
    bool parent_stale; /* something was removed since it was resolved */
    struct directory_times *directories;
    size_t directory_count, directory_capacity;
};

static void forget_parent(struct unpacker *unpacker)
{
    if (unpacker->parent_fd >= 0)
        close(unpacker->parent_fd);
    unpacker->parent_fd = -1;
    free(unpacker->parent_path);
    unpacker->parent_path = NULL;
}

/* An fd of the directory path (created if missing), resolved beneath the root. */
static int open_parent(struct unpacker *unpacker, const char *path, int *fd_out, struct berr *err)
{
    int fd, rc;

    if (!unpacker->parent_stale && unpacker->parent_path &&
        strcmp(unpacker->parent_path, path) == 0) {
        *fd_out = unpacker->parent_fd;
        return 0;
    }
    forget_parent(unpacker);
    unpacker->parent_stale = false;
    rc = safe_path_mkdir_all(unpacker->root_fd, path, 0755, SAFE_PATH_BENEATH, &fd, err);
    if (rc)
        return rc;
    unpacker->parent_path = strdup(path);
    if (!unpacker->parent_path) {
        close(fd);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    unpacker->parent_fd = fd;
    *fd_out = fd;
    return 0;
}

/* Clears the place for a new entry: removes what is there, except a
 * directory when the new entry is a directory too (*kept). *was_whiteout
 * says a whiteout was there. */
static int clear_place(struct unpacker *unpacker, int parent_fd, const char *base, bool directory,
                       bool *kept, bool *was_whiteout, struct berr *err)
{
    struct stat info;

    *kept = false;
    *was_whiteout = false;
    if (fstatat(parent_fd, base, &info, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return berr_errno(err, errno, "stat %s", base);
    }
    if (directory && S_ISDIR(info.st_mode)) {
        *kept = true;
        return 0;
    }
    *was_whiteout = S_ISCHR(info.st_mode) && info.st_rdev == makedev(0, 0);
    /* Paths resolved through what goes away may lead elsewhere now: the
     * next entry resolves its parent again (this one's stays valid). */
    unpacker->parent_stale = true;
    if (!S_ISDIR(info.st_mode)) {
        if (unlinkat(parent_fd, base, 0) < 0)
            return berr_errno(err, errno, "replace %s", base);
        return 0;
    }
    return dirtree_remove_at(parent_fd, base, err);
}

static void entry_times(struct archive_entry *entry, struct timespec times[2])
{
    times[1].tv_sec = archive_entry_mtime(entry);
    times[1].tv_nsec = archive_entry_mtime_nsec(entry);
    if (archive_entry_atime_is_set(entry)) {
        times[0].tv_sec = archive_entry_atime(entry);
        times[0].tv_nsec = archive_entry_atime_nsec(entry);
    } else {
        times[0] = times[1];
    }
}

/* Sets the entry's xattrs on fd, or on parent_fd/base when fd is -1. */
static int apply_xattrs(struct archive_entry *entry, int fd, int parent_fd, const char *base,
                        struct berr *err)
{
    const char *name;
    const void *value;
    size_t size;
    char path[64 + NAME_MAX];

    if (archive_entry_xattr_reset(entry) == 0)
        return 0;
    if (fd < 0)
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", parent_fd, base);
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
        int rc;
        if (strncmp(name, OVERLAY_XATTRS, strlen(OVERLAY_XATTRS)) == 0)
            continue;
        rc = fd >= 0 ? fsetxattr(fd, name, value, size, 0) : lsetxattr(path, name, value, size, 0);
        if (rc < 0 && errno != ENOTSUP && errno != EOPNOTSUPP)
            return berr_errno(err, errno, "set xattr %s", name);
    }
    return 0;
}

/* chown, chmod (after chown, which clears set-id bits), xattrs (after
 * both: chown clears security.capability) and times of an open file. */
static int apply_metadata_fd(struct archive_entry *entry, int fd, struct berr *err)
{
    struct timespec times[2];

    if (fchown(fd, (uid_t)archive_entry_uid(entry), (gid_t)archive_entry_gid(entry)) < 0)
        return berr_errno(err, errno, "chown");
    if (fchmod(fd, archive_entry_perm(entry) & 07777) < 0)
        return berr_errno(err, errno, "chmod");
    if (apply_xattrs(entry, fd, -1, NULL, err))
        return err ? err->code : BERR_IO;
    entry_times(entry, times);
    if (futimens(fd, times) < 0)
        return berr_errno(err, errno, "set times");
    return 0;
}

/* The same for an entry that cannot be opened (symlink, device, fifo). */
static int apply_metadata_at(struct archive_entry *entry, int parent_fd, const char *base,
                             bool symlink, struct berr *err)
{
    struct timespec times[2];

    if (fchownat(parent_fd, base, (uid_t)archive_entry_uid(entry), (gid_t)archive_entry_gid(entry),
                 AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(err, errno, "chown");
    /* Only for the device or fifo just made: nothing can have replaced it. */
    if (!symlink && fchmodat(parent_fd, base, archive_entry_perm(entry) & 07777, 0) < 0)
        return berr_errno(err, errno, "chmod");
    if (apply_xattrs(entry, -1, parent_fd, base, err))
        return err ? err->code : BERR_IO;
    entry_times(entry, times);
    if (utimensat(parent_fd, base, times, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(err, errno, "set times");
    return 0;
}

static int pwrite_all(int fd, const void *data, size_t size, off_t offset)
{
    const char *cursor = data;

    while (size) {
        ssize_t wrote = pwrite(fd, cursor, size, offset);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote < 0)
            return -1;
        cursor += wrote;
        size -= (size_t)wrote;
        offset += wrote;
    }
    return 0;
}

static int write_file(struct unpacker *unpacker, struct archive_entry *entry, int parent_fd,
                      const char *base, struct berr *err)
{
    int64_t end = 0, size = archive_entry_size(entry);
    int fd, rc = 0;

    fd = openat(parent_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return berr_errno(err, errno, "create");
    for (;;) {
        const void *block;
        size_t length;
        la_int64_t offset;
        int read = archive_read_data_block(unpacker->tar, &block, &length, &offset);
        if (read == ARCHIVE_EOF)
            break;
        if (read < ARCHIVE_WARN) {
            rc = archive_failure(unpacker->tar, "read data", err);
            goto out;
        }
        /* Sparse entries skip the holes: the offsets jump over them. */
        if (length && pwrite_all(fd, block, length, (off_t)offset) < 0) {
            rc = berr_errno(err, errno, "write");
            goto out;
        }
        if (offset + (la_int64_t)length > end)
            end = offset + (la_int64_t)length;
    }
    if (size > end && ftruncate(fd, (off_t)size) < 0) {
        rc = berr_errno(err, errno, "extend to %lld bytes", (long long)size);
        goto out;
    }
    rc = apply_metadata_fd(entry, fd, err);
out:
    if (close(fd) < 0 && !rc)
        rc = berr_errno(err, errno, "close");
    return rc;
}

static int remember_directory(struct unpacker *unpacker, const char *path,
                              struct archive_entry *entry, struct berr *err)
{
    struct directory_times *slot;

    if (unpacker->directory_count == unpacker->directory_capacity) {
        size_t capacity = unpacker->directory_capacity ? unpacker->directory_capacity * 2 : 64;
        struct directory_times *grown = realloc(unpacker->directories, capacity * sizeof(*grown));
        if (!grown)
            return berr_set(err, BERR_NOMEM, "out of memory");
        unpacker->directories = grown;
        unpacker->directory_capacity = capacity;
    }
    slot = &unpacker->directories[unpacker->directory_count];
    slot->path = strdup(path);
    if (!slot->path)
        return berr_set(err, BERR_NOMEM, "out of memory");
    entry_times(entry, slot->times);
    unpacker->directory_count++;
    return 0;
}

static int set_opaque(int directory_fd, struct berr *err)
{
    if (fsetxattr(directory_fd, OPAQUE_XATTR, "y", 1, 0) < 0)
        return berr_errno(err, errno, "set %s", OPAQUE_XATTR);
    return 0;
}

static int make_directory(struct unpacker *unpacker, struct archive_entry *entry, int parent_fd,
                          const char *base, const char *path, struct berr *err)
{
    bool kept, was_whiteout;
    int rc, fd;

    if ((rc = clear_place(unpacker, parent_fd, base, true, &kept, &was_whiteout, err)))
        return rc;
    if (!kept && mkdirat(parent_fd, base, 0700) < 0)
        return berr_errno(err, errno, "mkdir");
    fd = openat(parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, errno, "open");
    rc = apply_metadata_fd(entry, fd, err);
    /* A directory replacing a deleted one must not show the lower one's files. */
    if (!rc && was_whiteout)
        rc = set_opaque(fd, err);
    close(fd);
    if (!rc)
        rc = remember_directory(unpacker, path, entry, err);
    return rc;
}

static int make_hardlink(struct unpacker *unpacker, const char *target_name, int parent_fd,
                         const char *base, const char *path, struct berr *err)
{
    char *target = NULL, *slash;
    const char *target_base;
    bool kept, was_whiteout;
    int target_parent = -1, rc;

    if ((rc = clean_name("hard link to", target_name, &target, err)))
        return rc;
    if (!target[0]) {
        rc = berr_set(err, BERR_INVALID, "hard link to the layer's root");
        goto out;
    }
    if (strcmp(target, path) == 0)
        goto out; /* a link to itself: nothing to do */
    slash = strrchr(target, '/');
    if (slash) {
        *slash = '\0';
        target_base = slash + 1;
    } else {
        target_base = target;
    }
    rc = safe_path_open(unpacker->root_fd, slash ? target : "", O_PATH | O_DIRECTORY, 0,
                        SAFE_PATH_BENEATH, &target_parent, err);
    if (rc) {
        if (err)
            berr_prefix(err, "hard link to %s", target_name);
        goto out;
    }
    if ((rc = clear_place(unpacker, parent_fd, base, false, &kept, &was_whiteout, err)))
        goto out;
    if (linkat(target_parent, target_base, parent_fd, base, 0) < 0) {
        rc = errno == ENOENT
                 ? berr_set(err, BERR_INVALID, "hard link to %s: no such entry", target_name)
                 : berr_errno(err, errno, "hard link to %s", target_name);
        goto out;
    }
out:
    if (target_parent >= 0)
        close(target_parent);
    free(target);
    return rc;
}

static int make_whiteout(struct unpacker *unpacker, int parent_fd, const char *base,
                         struct berr *err)
{
    const char *hidden = base + strlen(WHITEOUT_PREFIX);
    struct stat info;
    int fd, rc;

    if (strcmp(base, OPAQUE_MARKER) == 0) {
        if (unpacker->options->base_layer)
            return 0;
        fd = openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return berr_errno(err, errno, "open");
        rc = set_opaque(fd, err);
        close(fd);
        return rc;
    }
    if (strncmp(base, WHITEOUT_META, strlen(WHITEOUT_META)) == 0)
        return 0; /* aufs bookkeeping (.wh..wh.plnk, ...): not part of the image */
    if (!hidden[0] || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0)
        return berr_set(err, BERR_INVALID, "bad whiteout name");
    if (unpacker->options->base_layer)
        return 0;
    /* A whiteout hides lower layers only: an entry of this layer stays. */
    if (fstatat(parent_fd, hidden, &info, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    if (errno != ENOENT)
        return berr_errno(err, errno, "stat %s", hidden);
    if (mknodat(parent_fd, hidden, S_IFCHR | 0, makedev(0, 0)) < 0)
        return berr_errno(err, errno, "whiteout %s", hidden);
    return 0;
}

static int make_special(struct unpacker *unpacker, struct archive_entry *entry, int parent_fd,
                        const char *base, mode_t type, struct berr *err)
{
    bool kept, was_whiteout;
    dev_t device = type == S_IFIFO ? 0 : archive_entry_rdev(entry);
    int rc;

    if ((type == S_IFCHR || type == S_IFBLK) && !unpacker->options->allow_devices)
        return berr_set(err, BERR_INVALID, "device nodes are not allowed in this layer");
    if ((rc = clear_place(unpacker, parent_fd, base, false, &kept, &was_whiteout, err)))
        return rc;
    if (mknodat(parent_fd, base, type | (archive_entry_perm(entry) & 0777), device) < 0)
        return berr_errno(err, errno, "mknod");
    return apply_metadata_at(entry, parent_fd, base, false, err);
}

static int make_symlink(struct unpacker *unpacker, struct archive_entry *entry, int parent_fd,
                        const char *base, struct berr *err)
{
    const char *target = entry_symlink(entry);
    bool kept, was_whiteout;
    int rc;

    if (!target || !target[0])
        return berr_set(err, BERR_INVALID, "symlink without a target");
    if ((rc = clear_place(unpacker, parent_fd, base, false, &kept, &was_whiteout, err)))
        return rc;
    if (symlinkat(target, parent_fd, base) < 0)
        return berr_errno(err, errno, "symlink");
    return apply_metadata_at(entry, parent_fd, base, true, err);
}

static int apply_entry(struct unpacker *unpacker, struct archive_entry *entry, struct berr *err)
{
    const char *name = entry_path(entry), *base, *hardlink;
    char *path = NULL, *parent, *slash;
    mode_t type;
    int parent_fd = -1, rc;

    if (!name)
        return berr_set(err, BERR_INVALID, "layer entry without a name");
    if ((rc = clean_name("layer entry", name, &path, err)))
        return rc;
    if (!path[0]) {
        free(path); /* the layer's root: the snapshot's own directory */
        return 0;
    }
    parent = strdup(path);
    if (!parent) {
        free(path);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        base = path + (slash - parent) + 1;
    } else {
        parent[0] = '\0';
        base = path;
    }
    rc = open_parent(unpacker, parent, &parent_fd, err);
    if (rc)
        goto out;

    hardlink = entry_hardlink(entry);
    type = archive_entry_filetype(entry);
    if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
        rc = make_whiteout(unpacker, parent_fd, base, err);
    else if (hardlink)
        rc = make_hardlink(unpacker, hardlink, parent_fd, base, path, err);
    else if (type == AE_IFREG) {
        bool kept, was_whiteout;
        rc = clear_place(unpacker, parent_fd, base, false, &kept, &was_whiteout, err);
        if (!rc)
            rc = write_file(unpacker, entry, parent_fd, base, err);
    } else if (type == AE_IFDIR)
        rc = make_directory(unpacker, entry, parent_fd, base, path, err);
    else if (type == AE_IFLNK)
        rc = make_symlink(unpacker, entry, parent_fd, base, err);
    else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
        rc = make_special(unpacker, entry, parent_fd, base, type, err);
    else
        rc = berr_set(err, BERR_INVALID, "unsupported entry type %o", (unsigned)type);
out:
    if (rc && err)
        berr_prefix(err, "layer entry %s", name);
    free(parent);
    free(path);
    return rc;
}

static int finish_directories(struct unpacker *unpacker, struct berr *err)
{
    size_t i;

    for (i = 0; i < unpacker->directory_count; i++) {
        const struct directory_times *directory = &unpacker->directories[i];
        int fd, rc;
        /* Gone or replaced by a later entry: nothing to do. */
        if (safe_path_open(unpacker->root_fd, directory->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                           0, SAFE_PATH_BENEATH, &fd, NULL) != 0)
            continue;
        rc = futimens(fd, directory->times);
        close(fd);
        if (rc < 0)
            return berr_errno(err, errno, "layer entry %s: set times", directory->path);
    }
    return 0;
}

int unpack_layer(int directory_fd, int layer_fd, const struct unpack_options *options,
                 struct unpack_result *result, struct berr *err)
{
    static const struct unpack_options defaults = {false, false};
    struct layer_stream stream;
    struct unpacker unpacker;
    struct archive_entry *entry;
    uint64_t entries = 0;
    bool digest_open = false;
    int rc = 0, got, sync_fd = -1;
    size_t i;

    memset(&stream, 0, sizeof(stream));
    memset(&unpacker, 0, sizeof(unpacker));
    unpacker.parent_fd = -1;
    unpacker.options = options ? options : &defaults;
    unpacker.root_fd = openat(directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (unpacker.root_fd < 0)
        return berr_errno(err, errno, "unpack: open the target directory");
    if ((rc = digest_sha256_init(&stream.digest, err)))
        goto out;
    digest_open = true;

    stream.compressed = archive_read_new();
    unpacker.tar = archive_read_new();
    if (!stream.compressed || !unpacker.tar) {
        rc = berr_set(err, BERR_NOMEM, "unpack: out of memory");
        goto out;
    }
    /* Only filters done in-process: libarchive would run external
     * programs for some others (lrzip, lzop, ...). */
    archive_read_support_filter_gzip(stream.compressed);
    archive_read_support_filter_zstd(stream.compressed);
    archive_read_support_filter_xz(stream.compressed);
    archive_read_support_format_raw(stream.compressed);
    if (archive_read_open_fd(stream.compressed, layer_fd, READ_BLOCK) != ARCHIVE_OK) {
        rc = archive_failure(stream.compressed, "unpack: open layer", err);
        goto out;
    }
    got = archive_read_next_header(stream.compressed, &entry);
    if (got == ARCHIVE_EOF) {
        rc = berr_set(err, BERR_INVALID, "unpack: the layer is empty");
        goto out;
    }
    if (got < ARCHIVE_WARN) {
        rc = archive_failure(stream.compressed, "unpack: read layer", err);
        goto out;
    }
    archive_read_support_format_tar(unpacker.tar);
    if (archive_read_open(unpacker.tar, &stream, NULL, stream_read, NULL) != ARCHIVE_OK) {
        rc = archive_failure(unpacker.tar, "unpack: read layer", err);
        goto out;
    }
    for (;;) {
        got = archive_read_next_header(unpacker.tar, &entry);
        if (got == ARCHIVE_EOF)
            break;
        if (got < ARCHIVE_WARN) {
            rc = archive_failure(unpacker.tar, "unpack: read layer", err);
            goto out;
        }
        if ((rc = apply_entry(&unpacker, entry, err)))
            goto out;
        entries++;
    }
    /* The tar ends before the stream does (padding): hash the rest too. */
    for (;;) {
        const void *block;
        la_ssize_t size = stream_read(NULL, &stream, &block);
        if (size == 0)
            break;
        if (size < 0) {
            rc = archive_failure(stream.compressed, "unpack: read layer", err);
            goto out;
        }
    }
    forget_parent(&unpacker);
    if ((rc = finish_directories(&unpacker, err)))
        goto out;
    /* The layer will be committed (and trusted) after this: it must be on
     * disk first, or a power cut could leave a committed layer of empty files. */
    sync_fd = openat(unpacker.root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sync_fd < 0 || syncfs(sync_fd) < 0) {
        rc = berr_errno(err, errno, "unpack: sync");
        goto out;
    }
    if (result) {
        digest_sha256_final(&stream.digest, result->diff_id);
        digest_open = false;
        result->uncompressed_size = stream.size;
        result->entries = entries;
    }
out:
    if (digest_open)
        digest_sha256_abort(&stream.digest);
    if (sync_fd >= 0)
        close(sync_fd);
    forget_parent(&unpacker);
    for (i = 0; i < unpacker.directory_count; i++)
        free(unpacker.directories[i].path);
    free(unpacker.directories);
    if (unpacker.tar)
        archive_read_free(unpacker.tar);
    if (stream.compressed)
        archive_read_free(stream.compressed);
    close(unpacker.root_fd);
    return rc;
}

/* ---- images ---- */

int unpack_chain_id(const char *parent_chain_id, const char *diff_id,
                    char chain_id_out[DIGEST_STRING_SIZE], struct berr *err)
{
    char joined[2 * DIGEST_STRING_SIZE + 2];

    if (!digest_is_valid(diff_id))
        return berr_set(err, BERR_INVALID, "invalid diff ID \"%s\"", diff_id);
    if (!parent_chain_id || !parent_chain_id[0]) {
        memcpy(chain_id_out, diff_id, strlen(diff_id) + 1);
        return 0;
    }
    if (!digest_is_valid(parent_chain_id))
        return berr_set(err, BERR_INVALID, "invalid chain ID \"%s\"", parent_chain_id);
    snprintf(joined, sizeof(joined), "%s %s", parent_chain_id, diff_id);
    return digest_sha256_buffer(joined, strlen(joined), chain_id_out, err);
}

static bool media_type_supported(const char *media_type)
{
    static const char *const supported[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    size_t i;

    if (!media_type || !media_type[0])
        return true;
    for (i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
        if (strcmp(media_type, supported[i]) == 0)
            return true;
    }
    return false;
}

/* Prepares an extraction snapshot on parent, unpacks the blob into it,
 * checks the diff ID and commits it as chain_id. */
static int unpack_one(struct snapshotter *snapshotter, const char *namespace,
                      const struct unpack_layer_ref *layer, const char *chain_id,
                      const char *parent, unpack_open_blob open_blob, void *open_context,
                      const struct unpack_image_options *options, bool base_layer,
                      struct unpack_result *result, struct berr *err)
{
    static unsigned long counter;
    struct unpack_options layer_options = options->layer;
    struct timespec time;
    char key[160], *path = NULL;
    int directory_fd = -1, blob_fd = -1, rc;

    clock_gettime(CLOCK_REALTIME, &time);
    snprintf(key, sizeof(key), EXTRACT_KEY_START "%lld%09ld-%lu %s", (long long)time.tv_sec,
             time.tv_nsec, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), chain_id);
    if ((rc = snapshot_prepare(snapshotter, namespace, key, parent, NULL, 0, NULL, err)))
        return rc;
    if ((rc = snapshot_active_directory(snapshotter, namespace, key, &path, err)))
        goto fail;
    directory_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (directory_fd < 0) {
        rc = berr_errno(err, errno, "open %s", path);
        goto fail;
    }
    if ((rc = open_blob(open_context, layer->digest, &blob_fd, err)))
        goto fail;
    layer_options.base_layer = base_layer;
    if ((rc = unpack_layer(directory_fd, blob_fd, &layer_options, result, err)))
        goto fail;
    if (strcmp(result->diff_id, layer->diff_id) != 0) {
        rc = berr_set(err, BERR_INVALID, "diff ID %s does not match the image's %s",
                      result->diff_id, layer->diff_id);
        goto fail;
    }
    close(directory_fd);
    directory_fd = -1;
    close(blob_fd);
    blob_fd = -1;
    if ((rc = snapshot_commit_chain(snapshotter, namespace, chain_id, key, options->labels,
                                    options->label_count, err)))
        goto fail;
    free(path);
    return 0;
fail:
    if (directory_fd >= 0)
        close(directory_fd);
    if (blob_fd >= 0)
        close(blob_fd);
    free(path);
    snapshot_remove(snapshotter, namespace, key, NULL);
    return rc;
}

int unpack_image(struct snapshotter *snapshotter, const char *namespace,
                 const struct unpack_layer_ref *layers, size_t count, unpack_open_blob open_blob,
                 void *open_context, const struct unpack_image_options *options,
                 char chain_id_out[DIGEST_STRING_SIZE], struct berr *err)
{
    static const struct unpack_image_options defaults;
    char parent[DIGEST_STRING_SIZE] = "", chain_id[DIGEST_STRING_SIZE];
    size_t i;
    int rc;

    if (!options)
        options = &defaults;
    if (count == 0)
        return berr_set(err, BERR_INVALID, "unpack: the image has no layers");
    for (i = 0; i < count; i++) {
        if (!layers[i].digest || !layers[i].diff_id)
            return berr_set(err, BERR_INVALID, "unpack: layer %zu lacks a digest or diff ID", i);
        if (!media_type_supported(layers[i].media_type))
            return berr_set(err, BERR_UNSUPPORTED, "unpack: layer %s: media type %s",
                            layers[i].digest, layers[i].media_type);
    }
    for (i = 0; i < count; i++) {
        enum unpack_layer_outcome outcome = UNPACK_LAYER_EXISTED;
        struct unpack_result result;
        struct snapshot_info info;

        memset(&result, 0, sizeof(result));
        if ((rc = unpack_chain_id(parent, layers[i].diff_id, chain_id, err))) {
            if (err)
                berr_prefix(err, "unpack layer %s", layers[i].digest);
            return rc;
        }
        if ((rc = snapshotter_lock(snapshotter, chain_id, err)))
            return rc;
        rc = snapshot_stat(snapshotter, namespace, chain_id, &info, err);
        if (rc == 0) {
            if (info.kind != SNAPSHOT_KIND_COMMITTED)
                rc = berr_set(err, BERR_CONFLICT, "snapshot %s exists and is not committed",
                              chain_id);
            snapshot_info_free(&info);
        } else if (rc == BERR_NOT_FOUND) {
            outcome = UNPACK_LAYER_SHARED;
            rc = snapshot_share_chain(snapshotter, namespace, chain_id, parent, options->labels,
                                      options->label_count, err);
            if (rc == BERR_NOT_FOUND) {
                outcome = UNPACK_LAYER_UNPACKED;
                rc = unpack_one(snapshotter, namespace, &layers[i], chain_id, parent, open_blob,
                                open_context, options, i == 0, &result, err);
            }
        }
        snapshotter_unlock(snapshotter, chain_id);
        if (rc) {
            if (err)
                berr_prefix(err, "unpack layer %s (%s)", layers[i].digest, chain_id);
            return rc;
        }
        if (options->progress)
            options->progress(options->progress_context, i, chain_id, outcome,
                              outcome == UNPACK_LAYER_UNPACKED ? &result : NULL);
        memcpy(parent, chain_id, sizeof(parent));
    }
    memcpy(chain_id_out, chain_id, DIGEST_STRING_SIZE);
    return 0;
}

/* ---- cleanup ---- */

struct extract_keys {
    char **keys; /* "NAMESPACE/KEY" */
    size_t count;
    int rc;
};

static int collect_extract_key(const char *key, const void *data, size_t size, void *user)
{
    struct extract_keys *found = user;
    const char *slash = strchr(key, '/');
    char **grown;

    (void)data;
    (void)size;
    if (!slash || slash == key ||
        strncmp(slash + 1, EXTRACT_KEY_START, strlen(EXTRACT_KEY_START)) != 0)
        return 0;
    grown = realloc(found->keys, (found->count + 1) * sizeof(*grown));
    if (!grown || !(grown[found->count] = strdup(key))) {
        if (grown)
            found->keys = grown;
        found->rc = BERR_NOMEM;
        return 1;
    }
    found->keys = grown;
    found->count++;
    return 0;
}

int unpack_cleanup(struct snapshotter *snapshotter, struct metadata *metadata, struct berr *err)
{
    struct extract_keys found = {NULL, 0, 0};
    struct metadata_txn *txn;
    size_t i;
    int rc;

    if ((rc = metadata_begin(metadata, false, &txn, err)))
        return rc;
    rc = metadata_list_all(txn, METADATA_SNAPSHOTS, collect_extract_key, &found, err);
    metadata_abort(txn);
    if (found.rc)
        rc = berr_set(err, BERR_NOMEM, "unpack cleanup: out of memory");
    for (i = 0; i < found.count; i++) {
        char *key = strchr(found.keys[i], '/');
        struct snapshot_info info;
        *key++ = '\0';
        if (rc == 0 && snapshot_stat(snapshotter, found.keys[i], key, &info, NULL) == 0) {
            if (info.kind == SNAPSHOT_KIND_ACTIVE)
                rc = snapshot_remove(snapshotter, found.keys[i], key, err);
            snapshot_info_free(&info);
        }
        free(found.keys[i]);
    }
    free(found.keys);
    return rc;
}
