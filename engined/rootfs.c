/*
 * rootfs: see rootfs.h.
 */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "json.h"
#include "log.h"
#include "safe_path.h"

static int push(char ***layers, size_t *count, const char *layer, size_t length, struct berr *err)
{
    char **grown = realloc(*layers, (*count + 2) * sizeof(char *));

    if (!grown)
        return berr_set(err, BERR_NOMEM, "out of memory");
    *layers = grown;
    grown[*count] = strndup(layer, length);
    grown[*count + 1] = NULL;
    if (!grown[*count])
        return berr_set(err, BERR_NOMEM, "out of memory");
    (*count)++;
    return 0;
}

static const char *option_value(const Berth__Supervisor__V1__Mount *mount, const char *key)
{
    size_t length = strlen(key);

    for (size_t i = 0; i < mount->n_options; i++)
        if (strncmp(mount->options[i], key, length) == 0 && mount->options[i][length] == '=')
            return mount->options[i] + length + 1;
    return NULL;
}

int rootfs_layers(const Berth__Supervisor__V1__MountsResponse *mounts, char ***layers,
                  struct berr *err)
{
    size_t count = 0;
    int rc = 0;

    *layers = calloc(1, sizeof(char *));
    if (!*layers)
        return berr_set(err, BERR_NOMEM, "out of memory");
    for (size_t i = 0; i < mounts->n_mounts && rc == 0; i++) {
        const Berth__Supervisor__V1__Mount *mount = mounts->mounts[i];
        const char *upper, *lower;
        if (strcmp(mount->type, "bind") == 0) {
            rc = push(layers, &count, mount->source, strlen(mount->source), err);
            continue;
        }
        if (strcmp(mount->type, "overlay") != 0) {
            rc = berr_set(err, BERR_UNSUPPORTED, "snapshot mount type %s", mount->type);
            break;
        }
        if ((upper = option_value(mount, "upperdir")))
            rc = push(layers, &count, upper, strlen(upper), err);
        for (lower = option_value(mount, "lowerdir"); lower && *lower && rc == 0;) {
            size_t length = strcspn(lower, ":");
            rc = push(layers, &count, lower, length, err);
            lower += length + (lower[length] == ':');
        }
    }
    if (rc) {
        json_free_string_array(*layers);
        *layers = NULL;
    }
    return rc;
}

/* An overlayfs whiteout: a 0:0 character device. */
static bool is_whiteout(const struct stat *info)
{
    return S_ISCHR(info->st_mode) && info->st_rdev == makedev(0, 0);
}

static bool is_opaque(int layer_fd, const char *directory)
{
    char path[PATH_MAX], value[4];
    ssize_t length;

    snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", layer_fd, directory);
    length = lgetxattr(path, "trusted.overlay.opaque", value, sizeof(value));
    return length == 1 && value[0] == 'y';
}

/* Reads up to max bytes. The buffer grows with what is read, from the
 * file's size: a buffer of max bytes for a passwd file of a few hundred
 * would stay in the calling thread's malloc arena. */
int rootfs_read_fd(int fd, size_t max, char **out, struct berr *err)
{
    struct stat info;
    size_t used = 0, size = 4096;
    char *buffer;

    if (fstat(fd, &info) == 0 && info.st_size > 0 && (size_t)info.st_size < max)
        size = (size_t)info.st_size + 1;
    if (size > max)
        size = max;
    if (!(buffer = malloc(size + 1)))
        return berr_set(err, BERR_NOMEM, "out of memory");
    while (used < max) {
        ssize_t got;
        if (used == size) {
            size_t grown_size = size * 2 > max ? max : size * 2;
            char *grown = realloc(buffer, grown_size + 1);
            if (!grown) {
                free(buffer);
                return berr_set(err, BERR_NOMEM, "out of memory");
            }
            buffer = grown;
            size = grown_size;
        }
        got = read(fd, buffer + used, size - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buffer);
            return berr_errno(err, errno, "read");
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    buffer[used] = '\0';
    *out = buffer;
    return 0;
}

/* Looks at path in one layer: 1 found (read into *out), 0 absent (look
 * further down), -1 hidden (stop: whiteout or opaque parent). */
static int look_in_layer(const char *layer, const char *path, size_t max, char **out,
                         struct berr *err)
{
    char parent[PATH_MAX];
    struct stat info;
    int layer_fd, fd, result = 0;

    layer_fd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (layer_fd < 0)
        return 0;
    if (fstatat(layer_fd, path + 1, &info, AT_SYMLINK_NOFOLLOW) == 0) {
        if (is_whiteout(&info) || !S_ISREG(info.st_mode)) {
            result = -1;
        } else if (safe_path_open(layer_fd, path + 1, O_RDONLY | O_NOFOLLOW, 0, SAFE_PATH_BENEATH,
                                  &fd, err) == 0) {
            result = rootfs_read_fd(fd, max, out, err) == 0 ? 1 : -1;
            close(fd);
        } else {
            result = -1;
        }
    } else {
        /* An opaque parent directory hides everything below this layer. */
        snprintf(parent, sizeof(parent), "%s", path + 1);
        for (char *slash = strrchr(parent, '/'); slash && result == 0;
             slash = strrchr(parent, '/')) {
            *slash = '\0';
            if (fstatat(layer_fd, parent, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
                (is_whiteout(&info) || (S_ISDIR(info.st_mode) && is_opaque(layer_fd, parent))))
                result = -1;
        }
    }
    close(layer_fd);
    return result;
}

int rootfs_read_file(char *const *layers, const char *path, size_t max, char **out,
                     struct berr *err)
{
    if (path[0] != '/')
        return berr_set(err, BERR_INVALID, "%s: not an absolute path", path);
    for (size_t i = 0; layers && layers[i]; i++) {
        int found = look_in_layer(layers[i], path, max, out, err);
        if (found > 0)
            return 0;
        if (found < 0)
            break;
    }
    return berr_set(err, BERR_NOT_FOUND, "%s: not in the image", path);
}

/* ---- views ---- */

static int make_directories(const char *state_dir, const char *name, char **target,
                            struct berr *err)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/mounts", state_dir);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return berr_errno(err, errno, "mkdir %s", path);
    snprintf(path, sizeof(path), "%s/mounts/%s-XXXXXX", state_dir, name);
    if (!mkdtemp(path))
        return berr_errno(err, errno, "mkdtemp %s", path);
    *target = strdup(path);
    if (!*target) {
        rmdir(path);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    return 0;
}

int rootfs_view(const char *state_dir, const char *name, char *const *layers, char **target,
                struct berr *err)
{
    char options[4096];
    size_t used, count = 0;
    int rc;

    while (layers && layers[count])
        count++;
    if (!count)
        return berr_set(err, BERR_INVALID, "the snapshot has no layers");
    if ((rc = make_directories(state_dir, name, target, err)))
        return rc;
    if (count == 1) {
        if (mount(layers[0], *target, NULL, MS_BIND | MS_REC, NULL) < 0) {
            rc = berr_errno(err, errno, "bind %s on %s", layers[0], *target);
            goto fail;
        }
        if (mount(NULL, *target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
            rc = berr_errno(err, errno, "bind %s read-only on %s", layers[0], *target);
            umount2(*target, MNT_DETACH); /* not left writable, nor mounted */
            goto fail;
        }
        return 0;
    }
    used = (size_t)snprintf(options, sizeof(options), "lowerdir=");
    for (size_t i = 0; i < count && used < sizeof(options); i++)
        used += (size_t)snprintf(options + used, sizeof(options) - used, "%s%s", i ? ":" : "",
                                 layers[i]);
    if (used >= sizeof(options)) {
        rc = berr_set(err, BERR_UNSUPPORTED,
                      "the image has too many layers for a read-only view (%zu)", count);
        goto fail;
    }
    if (mount("overlay", *target, "overlay", MS_RDONLY, options) < 0) {
        rc = berr_errno(err, errno, "mount a read-only overlay on %s", *target);
        goto fail;
    }
    return 0;
fail:
    rmdir(*target);
    free(*target);
    *target = NULL;
    return rc;
}

void rootfs_view_release(const char *target)
{
    if (!target)
        return;
    if (umount2(target, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        log_warn("unmount %s: %s", target, strerror(errno));
    rmdir(target);
}

void rootfs_views_cleanup(const char *state_dir)
{
    char path[PATH_MAX];
    struct dirent *entry;
    DIR *directory;

    snprintf(path, sizeof(path), "%s/mounts", state_dir);
    directory = opendir(path);
    if (!directory)
        return;
    while ((entry = readdir(directory))) {
        char view[PATH_MAX];
        if (entry->d_name[0] == '.')
            continue;
        snprintf(view, sizeof(view), "%s/%s", path, entry->d_name);
        rootfs_view_release(view);
    }
    closedir(directory);
}

/* ---- changes ---- */

struct change {
    char *path;
    int kind;
};

struct change_list {
    struct change *items;
    size_t count, capacity;
    bool failed;
};

static void add_change(struct change_list *list, const char *path, int kind)
{
    if (list->failed)
        return;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 64;
        struct change *grown = realloc(list->items, capacity * sizeof(*grown));
        if (!grown) {
            list->failed = true;
            return;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count].path = strdup(path);
    list->items[list->count].kind = kind;
    if (!list->items[list->count].path)
        list->failed = true;
    else
        list->count++;
}

/* Whether path (relative) exists in the layers below the top one. */
static bool exists_below(char *const *layers, const char *path)
{
    for (size_t i = 1; layers[i]; i++) {
        char full[PATH_MAX];
        struct stat info;
        snprintf(full, sizeof(full), "%s/%s", layers[i], path);
        if (lstat(full, &info) == 0)
            return !is_whiteout(&info);
    }
    return false;
}

/* Recursive, so each level keeps its paths on the heap: handlers run on
 * 256 KiB stacks. */
static void walk_changes(char *const *layers, const char *relative, struct change_list *list,
                         int level)
{
    char *directory = NULL, *child = malloc(PATH_MAX), *full = malloc(PATH_MAX + 1);
    struct dirent *entry;
    DIR *handle = NULL;

    if (!child || !full || level > 256 || asprintf(&directory, "%s/%s", layers[0], relative) < 0 ||
        !(handle = opendir(directory))) {
        list->failed |= !child || !full;
        goto out;
    }
    while ((entry = readdir(handle))) {
        struct stat info;
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(child, PATH_MAX, "%s%s%s", relative, *relative ? "/" : "", entry->d_name);
        if (fstatat(dirfd(handle), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        snprintf(full, PATH_MAX + 1, "/%s", child);
        if (is_whiteout(&info)) {
            add_change(list, full, 2);
            continue;
        }
        add_change(list, full, layers[1] && exists_below(layers, child) ? 0 : 1);
        if (S_ISDIR(info.st_mode))
            walk_changes(layers, child, list, level + 1);
    }
out:
    if (handle)
        closedir(handle);
    free(directory);
    free(child);
    free(full);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct change *)a)->path, ((const struct change *)b)->path);
}

int rootfs_changes(char *const *layers, rootfs_change_visit visit, void *context, struct berr *err)
{
    struct change_list list = {0};
    int rc = 0;

    if (!layers || !layers[0])
        return berr_set(err, BERR_INVALID, "the snapshot has no layers");
    walk_changes(layers, "", &list, 0);
    if (list.failed)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    qsort(list.items, list.count, sizeof(*list.items), by_path);
    for (size_t i = 0; i < list.count; i++) {
        if (rc == 0)
            rc = visit(list.items[i].path, list.items[i].kind, context);
        free(list.items[i].path);
    }
    free(list.items);
    return rc;
}

/* ---- tar ---- */

struct tar_output {
    rootfs_write write;
    void *context;
};

static la_ssize_t tar_write(struct archive *archive, void *data, const void *buffer, size_t length)
{
    struct tar_output *output = data;

    (void)archive;
    if (output->write(output->context, buffer, length))
        return -1;
    return (la_ssize_t)length;
}

static int copy_entry(struct archive *disk, struct archive *tar, struct archive_entry *entry,
                      struct berr *err)
{
    char buffer[65536];
    la_ssize_t got;

    if (archive_write_header(tar, entry) != ARCHIVE_OK)
        return berr_set(err, BERR_IO, "tar: %s", archive_error_string(tar));
    /* A second name of a file (a hard link) carries no data. */
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_size(entry) == 0 ||
        archive_entry_hardlink(entry))
        return 0;
    while ((got = archive_read_data(disk, buffer, sizeof(buffer))) > 0)
        if (archive_write_data(tar, buffer, (size_t)got) < 0)
            return berr_set(err, BERR_IO, "tar: %s", archive_error_string(tar));
    if (got < 0)
        return berr_set(err, BERR_IO, "read %s: %s", archive_entry_pathname(entry),
                        archive_error_string(disk));
    return 0;
}

int rootfs_tar(const char *root, rootfs_write write, void *context, struct berr *err)
{
    struct tar_output output = {write, context};
    struct archive *disk = archive_read_disk_new(), *tar = archive_write_new();
    struct archive_entry_linkresolver *links = archive_entry_linkresolver_new();
    struct archive_entry *entry = NULL;
    size_t root_length = strlen(root);
    int rc = 0, status;

    if (!disk || !tar || !links) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    archive_entry_linkresolver_set_strategy(links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    archive_read_disk_set_standard_lookup(disk);
    archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
                                             ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS);
    archive_read_disk_set_symlink_physical(disk);
    archive_write_set_format_pax_restricted(tar);
    archive_write_set_bytes_per_block(tar, 10240);
    if (archive_write_open(tar, &output, NULL, tar_write, NULL) != ARCHIVE_OK ||
        archive_read_disk_open(disk, root) != ARCHIVE_OK) {
        rc = berr_set(err, BERR_IO, "tar %s: %s", root,
                      archive_error_string(tar) ? archive_error_string(tar)
                                                : archive_error_string(disk));
        goto out;
    }
    entry = archive_entry_new();
    while (rc == 0 && (status = archive_read_next_header2(disk, entry)) != ARCHIVE_EOF) {
        const char *path = archive_entry_pathname(entry);
        if (status < ARCHIVE_WARN) {
            rc = berr_set(err, BERR_IO, "walk %s: %s", root, archive_error_string(disk));
            break;
        }
        archive_read_disk_descend(disk);
        if (strlen(path) <= root_length) /* the root itself */
            continue;
        archive_entry_set_pathname(entry, path + root_length + 1);
        if (archive_entry_nlink(entry) > 1 && archive_entry_filetype(entry) != AE_IFDIR) {
            struct archive_entry *linked = entry, *spare = NULL;
            archive_entry_linkify(links, &linked, &spare);
            if (linked)
                rc = copy_entry(disk, tar, linked, err);
            continue;
        }
        rc = copy_entry(disk, tar, entry, err);
    }
    if (rc == 0 && archive_write_close(tar) != ARCHIVE_OK)
        rc = berr_set(err, BERR_IO, "tar: %s", archive_error_string(tar));
out:
    if (entry)
        archive_entry_free(entry);
    if (links)
        archive_entry_linkresolver_free(links);
    if (disk)
        archive_read_free(disk);
    if (tar)
        archive_write_free(tar);
    return rc;
}
