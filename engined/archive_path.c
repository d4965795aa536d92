/*
 * archive_path: see archive_path.h. libarchive writes and reads the tar
 * format; the filesystem side is done here with *at calls on descriptors,
 * because libarchive's own disk reader and writer work on path strings,
 * which a container could redirect with a well-timed symlink.
 */
#include "archive_path.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "docker_time.h"
#include "json.h"
#include "log.h"
#include "safe_path.h"

#define COPY_BUFFER      (64 * 1024)
#define TAR_BLOCK        (64 * 1024)
#define CAPABILITY_XATTR "security.capability"

/* Go's os.FileMode bits. */
#define GO_MODE_DIR         (1u << 31)
#define GO_MODE_SYMLINK     (1u << 27)
#define GO_MODE_DEVICE      (1u << 26)
#define GO_MODE_NAMED_PIPE  (1u << 25)
#define GO_MODE_SOCKET      (1u << 24)
#define GO_MODE_SETUID      (1u << 23)
#define GO_MODE_SETGID      (1u << 22)
#define GO_MODE_CHAR_DEVICE (1u << 21)
#define GO_MODE_STICKY      (1u << 20)

/* ---- paths as dockerd reads them ---- */

struct docker_path {
    char *absolute; /* "/" + the cleaned path, its trailing "/" or "/." kept */
    char *dir;      /* absolute up to and including its last "/" */
    char *base;     /* what follows: a name, "." or "" */
    char *name;     /* Go's filepath.Base(absolute) */
};

/* Go's filepath.Base. */
static char *go_base(const char *path)
{
    size_t length = strlen(path), start;

    if (length == 0)
        return strdup(".");
    while (length > 0 && path[length - 1] == '/')
        length--;
    if (length == 0)
        return strdup("/");
    start = length;
    while (start > 0 && path[start - 1] != '/')
        start--;
    return strndup(path + start, length - start);
}

/* "/" + Go's filepath.Clean of it: no ".", no "..", no double "/". */
static char *clean_absolute(const char *path)
{
    size_t length = strlen(path), used = 0;
    char *out = malloc(length + 2);
    const char *cursor = path;

    if (!out)
        return NULL;
    out[0] = '\0';
    while (*cursor) {
        size_t part = strcspn(cursor, "/");
        if (part == 0 || (part == 1 && cursor[0] == '.')) {
            /* nothing */
        } else if (part == 2 && cursor[0] == '.' && cursor[1] == '.') {
            while (used > 0 && out[used - 1] != '/')
                used--;
            if (used > 0)
                used--;
            out[used] = '\0';
        } else {
            out[used++] = '/';
            memcpy(out + used, cursor, part);
            used += part;
            out[used] = '\0';
        }
        cursor += part;
        while (*cursor == '/')
            cursor++;
    }
    if (used == 0)
        strcpy(out, "/");
    return out;
}

static bool specifies_current_dir(const char *path)
{
    char *base = go_base(path);
    bool yes = base && strcmp(base, ".") == 0;

    free(base);
    return yes;
}

static void docker_path_free(struct docker_path *path)
{
    free(path->absolute);
    free(path->dir);
    free(path->base);
    free(path->name);
    memset(path, 0, sizeof(*path));
}

/* dockerd's archive.PreserveTrailingDotOrSeparator(filepath.Join("/", p), p)
 * and filepath.Split. */
static int docker_path_parse(const char *original, struct docker_path *out, struct berr *err)
{
    char *cleaned = clean_absolute(original), *grown, *slash;
    size_t length;

    memset(out, 0, sizeof(*out));
    if (!cleaned)
        return berr_set(err, BERR_NOMEM, "out of memory");
    length = strlen(cleaned);
    grown = realloc(cleaned, length + 4);
    if (!grown) {
        free(cleaned);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    cleaned = grown;
    if (!specifies_current_dir(cleaned) && specifies_current_dir(original)) {
        if (cleaned[length - 1] != '/')
            cleaned[length++] = '/';
        cleaned[length++] = '.';
        cleaned[length] = '\0';
    }
    if (cleaned[length - 1] != '/' && length > 0 && original[0] &&
        original[strlen(original) - 1] == '/') {
        cleaned[length++] = '/';
        cleaned[length] = '\0';
    }
    out->absolute = cleaned;
    slash = strrchr(cleaned, '/');
    out->dir = strndup(cleaned, (size_t)(slash - cleaned) + 1);
    out->base = strdup(slash + 1);
    out->name = go_base(cleaned);
    if (!out->dir || !out->base || !out->name) {
        docker_path_free(out);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    return 0;
}

/* ---- opening things safely ---- */

static int openat2_retry(int dirfd, const char *path, int flags, mode_t mode,
                         unsigned long long resolve)
{
    struct open_how how;
    int fd = -1;

    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0; attempt < 16; attempt++) {
        fd = (int)syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN)
            break;
    }
    return fd;
}

/* Below a directory we walk or extract into: nothing but real directories
 * on the way, nothing outside. */
static int open_below(int dirfd, const char *path, int flags)
{
    return openat2_retry(dirfd, path, flags, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
}

/* The client's path: resolved as the container would. */
static int open_in_root(int root_fd, const char *path, int flags)
{
    return openat2_retry(root_fd, path, flags, 0, RESOLVE_IN_ROOT);
}

static int not_found_or(struct berr *err, int errnum, const char *what, const char *path)
{
    if (errnum == ENOENT || errnum == ENOTDIR)
        return berr_set(err, BERR_NOT_FOUND, "%s %s: no such file or directory", what, path);
    if (errnum == EXDEV || errnum == ELOOP)
        return berr_set(err, BERR_INVALID, "%s %s: too many symlinks or a path escaping the root",
                        what, path);
    return berr_errno(err, errnum, "%s %s", what, path);
}

/* ---- stat ---- */

static uint32_t go_file_mode(mode_t mode)
{
    uint32_t out = mode & 0777;

    switch (mode & S_IFMT) {
    case S_IFDIR:
        out |= GO_MODE_DIR;
        break;
    case S_IFLNK:
        out |= GO_MODE_SYMLINK;
        break;
    case S_IFBLK:
        out |= GO_MODE_DEVICE;
        break;
    case S_IFCHR:
        out |= GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE;
        break;
    case S_IFIFO:
        out |= GO_MODE_NAMED_PIPE;
        break;
    case S_IFSOCK:
        out |= GO_MODE_SOCKET;
        break;
    default:
        break;
    }
    if (mode & S_ISUID)
        out |= GO_MODE_SETUID;
    if (mode & S_ISGID)
        out |= GO_MODE_SETGID;
    if (mode & S_ISVTX)
        out |= GO_MODE_STICKY;
    return out;
}

/* The directory part resolved in the root, and the last element's lstat. */
static int resolve_parts(int root_fd, const struct docker_path *path, int *dir_fd,
                         struct stat *info, struct berr *err)
{
    bool itself = path->base[0] == '\0' || strcmp(path->base, ".") == 0;

    *dir_fd = open_in_root(root_fd, path->dir, O_PATH | O_DIRECTORY);
    if (*dir_fd < 0)
        return not_found_or(err, errno, "lstat", path->absolute);
    if ((itself ? fstat(*dir_fd, info) : fstatat(*dir_fd, path->base, info, AT_SYMLINK_NOFOLLOW)) <
        0) {
        int rc = not_found_or(err, errno, "lstat", path->absolute);
        close(*dir_fd);
        *dir_fd = -1;
        return rc;
    }
    return 0;
}

int archive_path_stat(int root_fd, const char *original, struct archive_path_stat *out,
                      struct berr *err)
{
    struct docker_path path;
    struct stat info;
    int rc, dir_fd = -1;

    memset(out, 0, sizeof(*out));
    if ((rc = docker_path_parse(original, &path, err)))
        return rc;
    if ((rc = resolve_parts(root_fd, &path, &dir_fd, &info, err)))
        goto out;
    close(dir_fd);
    out->name = path.name;
    path.name = NULL;
    out->size = info.st_size;
    out->mode = go_file_mode(info.st_mode);
    out->mtime = (int64_t)info.st_mtim.tv_sec * 1000000000LL + info.st_mtim.tv_nsec;
    if (S_ISLNK(info.st_mode)) {
        char *relative = NULL;
        /* Fully evaluated in the container; shown as an absolute path. */
        if ((rc = safe_path_resolve(root_fd, path.absolute, SAFE_PATH_IN_ROOT, &relative, err)))
            goto out;
        if (asprintf(&out->link_target, "/%s", relative) < 0)
            out->link_target = NULL;
        free(relative);
    } else {
        out->link_target = strdup("");
    }
    if (!out->name || !out->link_target)
        rc = berr_set(err, BERR_NOMEM, "out of memory");
out:
    if (rc)
        archive_path_stat_free(out);
    docker_path_free(&path);
    return rc;
}

void archive_path_stat_free(struct archive_path_stat *stat)
{
    free(stat->name);
    free(stat->link_target);
    stat->name = stat->link_target = NULL;
}

static char *base64(const unsigned char *data, size_t length)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((length + 2) / 3 * 4 + 1), *end = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i + 2 < length; i += 3) {
        uint32_t triple = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *end++ = alphabet[triple >> 18 & 63];
        *end++ = alphabet[triple >> 12 & 63];
        *end++ = alphabet[triple >> 6 & 63];
        *end++ = alphabet[triple & 63];
    }
    if (i < length) {
        uint32_t triple =
            (uint32_t)data[i] << 16 | (i + 1 < length ? (uint32_t)data[i + 1] << 8 : 0);
        *end++ = alphabet[triple >> 18 & 63];
        *end++ = alphabet[triple >> 12 & 63];
        *end++ = i + 1 < length ? alphabet[triple >> 6 & 63] : '=';
        *end++ = '=';
    }
    *end = '\0';
    return out;
}

char *archive_path_stat_header(const struct archive_path_stat *stat)
{
    struct json_writer writer;
    char mtime[64];
    const char *text;
    size_t length;
    char *out = NULL;

    if (json_writer_init(&writer, false, NULL))
        return NULL;
    docker_time_format(stat->mtime, mtime, sizeof(mtime));
    json_object_begin(&writer);
    json_kv_string(&writer, "name", stat->name);
    json_kv_int(&writer, "size", stat->size);
    json_kv_uint(&writer, "mode", stat->mode);
    json_kv_string(&writer, "mtime", mtime);
    json_kv_string(&writer, "linkTarget", stat->link_target ? stat->link_target : "");
    json_object_end(&writer);
    if (json_writer_result(&writer, &text, &length, NULL) == 0)
        out = base64((const unsigned char *)text, length);
    json_writer_free(&writer);
    return out;
}

/* ---- tar ---- */

struct tar_job {
    struct archive *tar;
    struct archive_entry_linkresolver *links;
    archive_path_write write;
    void *context;
    bool write_failed;
    int source_fd; /* what relative paths are relative to */
    struct berr *err;
    /* Scratch for one entry at a time (used before recursing): keeps the
     * recursion's frames small, whatever depth a container's tree has. */
    char link[PATH_MAX + 1];
    char capability[1024];
};

static la_ssize_t tar_output(struct archive *archive, void *data, const void *buffer, size_t length)
{
    struct tar_job *job = data;

    (void)archive;
    if (job->write(job->context, buffer, length)) {
        job->write_failed = true;
        return -1;
    }
    return (la_ssize_t)length;
}

static int tar_failed(struct tar_job *job)
{
    if (job->write_failed)
        return berr_set(job->err, BERR_CANCELLED, "the client went away");
    return berr_set(job->err, BERR_IO, "tar: %s", archive_error_string(job->tar));
}

/* Filesystems whose files are not files: listed as empty directories. */
static bool pseudo_filesystem(int fd)
{
    static const long types[] = {PROC_SUPER_MAGIC,   SYSFS_MAGIC,         DEVPTS_SUPER_MAGIC,
                                 CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, 0x19800202 /* mqueue */,
                                 SECURITYFS_MAGIC,   DEBUGFS_MAGIC,       TRACEFS_MAGIC,
                                 BPF_FS_MAGIC,       PSTOREFS_MAGIC,      EFIVARFS_MAGIC,
                                 SELINUX_MAGIC,      SMACK_MAGIC,         NSFS_MAGIC};
    struct statfs info;

    if (fstatfs(fd, &info) < 0)
        return false;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if ((long)info.f_type == types[i])
            return true;
    return false;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted (dockerd walks in lexical order). */
static int list_directory(int fd, char ***names, size_t *count)
{
    DIR *directory = fdopendir(fd);
    struct dirent *entry;
    size_t capacity = 0;

    *names = NULL;
    *count = 0;
    if (!directory) {
        close(fd);
        return -1;
    }
    while ((entry = readdir(directory))) {
        if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
            continue;
        if (*count == capacity) {
            char **grown =
                realloc(*names, (capacity = capacity ? capacity * 2 : 16) * sizeof(char *));
            if (!grown)
                break;
            *names = grown;
        }
        if (!((*names)[*count] = strdup(entry->d_name)))
            break;
        (*count)++;
    }
    closedir(directory);
    if (*count)
        qsort(*names, *count, sizeof(char *), by_name);
    return 0;
}

static char *join_path(const char *a, const char *b)
{
    char *out;

    if (!a[0])
        return strdup(b);
    if (asprintf(&out, "%s/%s", a, b) < 0)
        return NULL;
    return out;
}

/* The file's data: exactly the size in its header (libarchive pads a file
 * that shrank meanwhile; one that grew is cut). */
static int copy_data(struct tar_job *job, int fd, int64_t size)
{
    char *buffer = malloc(COPY_BUFFER);
    int64_t left = size;
    int rc = 0;

    if (!buffer)
        return berr_set(job->err, BERR_NOMEM, "out of memory");
    while (left > 0) {
        ssize_t got = read(fd, buffer, left < COPY_BUFFER ? (size_t)left : COPY_BUFFER);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (archive_write_data(job->tar, buffer, (size_t)got) < 0) {
            rc = tar_failed(job);
            break;
        }
        left -= got;
    }
    free(buffer);
    return rc;
}

static int tar_entry(struct tar_job *job, const char *relative, const char *name, bool top);

static int tar_children(struct tar_job *job, int directory_fd, const char *relative,
                        const char *name)
{
    char **names;
    size_t count;
    int rc = 0;

    if (list_directory(directory_fd, &names, &count) < 0)
        return 0; /* gone meanwhile */
    for (size_t i = 0; i < count; i++) {
        char *child_relative = rc ? NULL : join_path(relative, names[i]);
        char *child_name = NULL;
        if (!rc && asprintf(&child_name, "%s/%s", name, names[i]) < 0)
            child_name = NULL;
        if (!rc && (!child_relative || !child_name))
            rc = berr_set(job->err, BERR_NOMEM, "out of memory");
        if (!rc)
            rc = tar_entry(job, child_relative, child_name, false);
        free(child_relative);
        free(child_name);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* One file and, for a directory, what is in it. name: the entry's name
 * without a directory's trailing "/". */
static int tar_entry(struct tar_job *job, const char *relative, const char *name, bool top)
{
    struct archive_entry *entry = NULL, *spare = NULL;
    struct stat info, opened;
    char *entry_name = NULL;
    ssize_t capability_length = -1;
    int fd = open_below(job->source_fd, relative, O_PATH | O_NOFOLLOW), data_fd = -1, rc = 0;

    if (fd < 0) {
        if (top)
            return not_found_or(job->err, errno, "open", name);
        log_debug("archive: skip %s: %s", name, strerror(errno));
        return 0;
    }
    if (fstat(fd, &info) < 0 || S_ISSOCK(info.st_mode))
        goto out; /* dockerd leaves sockets out */
    if (S_ISLNK(info.st_mode)) {
        ssize_t length = readlinkat(fd, "", job->link, sizeof(job->link) - 1);
        if (length < 0)
            goto out;
        job->link[length] = '\0';
    } else if (S_ISREG(info.st_mode)) {
        data_fd = open_below(job->source_fd, relative, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
        if (data_fd < 0 || fstat(data_fd, &opened) < 0 || !S_ISREG(opened.st_mode) ||
            opened.st_ino != info.st_ino || opened.st_dev != info.st_dev)
            goto out; /* replaced meanwhile */
        info = opened;
        capability_length =
            fgetxattr(data_fd, CAPABILITY_XATTR, job->capability, sizeof(job->capability));
    }
    if (asprintf(&entry_name, "%s%s", name,
                 S_ISDIR(info.st_mode) && (!name[0] || name[strlen(name) - 1] != '/') ? "/" : "") <
        0) {
        entry_name = NULL;
        rc = berr_set(job->err, BERR_NOMEM, "out of memory");
        goto out;
    }
    if (!(entry = archive_entry_new())) {
        rc = berr_set(job->err, BERR_NOMEM, "out of memory");
        goto out;
    }
    archive_entry_set_pathname(entry, entry_name);
    archive_entry_set_mode(entry, info.st_mode);
    archive_entry_set_uid(entry, info.st_uid);
    archive_entry_set_gid(entry, info.st_gid);
    archive_entry_set_mtime(entry, info.st_mtim.tv_sec, 0);
    archive_entry_set_dev(entry, info.st_dev);
    archive_entry_set_ino64(entry, (la_int64_t)info.st_ino);
    archive_entry_set_nlink(entry, (unsigned)info.st_nlink);
    if (S_ISREG(info.st_mode))
        archive_entry_set_size(entry, info.st_size);
    else
        archive_entry_set_size(entry, 0);
    if (S_ISLNK(info.st_mode))
        archive_entry_set_symlink(entry, job->link);
    if (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode))
        archive_entry_set_rdev(entry, info.st_rdev);
    if (capability_length > 0)
        archive_entry_xattr_add_entry(entry, CAPABILITY_XATTR, job->capability,
                                      (size_t)capability_length);
    /* Hard links: the second name of a file is a link to the first. */
    if (!S_ISDIR(info.st_mode) && info.st_nlink > 1) {
        archive_entry_linkify(job->links, &entry, &spare);
        if (spare)
            archive_entry_free(spare);
        if (!entry) /* not with the tar strategy, which never defers */
            goto out;
    }
    if (archive_write_header(job->tar, entry) != ARCHIVE_OK) {
        rc = tar_failed(job);
        goto out;
    }
    if (S_ISREG(info.st_mode) && !archive_entry_hardlink(entry) && info.st_size > 0 &&
        (rc = copy_data(job, data_fd, info.st_size)))
        goto out;
    /* Nothing of this entry stays open while its children are walked. */
    archive_entry_free(entry);
    entry = NULL;
    close(fd);
    fd = -1;
    if (S_ISDIR(info.st_mode)) {
        int directory_fd =
            open_below(job->source_fd, relative, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (directory_fd < 0)
            goto out;
        if (pseudo_filesystem(directory_fd)) {
            close(directory_fd);
            goto out;
        }
        rc = tar_children(job, directory_fd, relative,
                          name[0] && name[strlen(name) - 1] == '/' ? "" /* the root, named "/" */
                                                                   : name);
    }
out:
    if (entry)
        archive_entry_free(entry);
    free(entry_name);
    if (data_fd >= 0)
        close(data_fd);
    if (fd >= 0)
        close(fd);
    return rc;
}

int archive_path_tar(int root_fd, const char *original, archive_path_write write, void *context,
                     struct berr *err)
{
    struct tar_job job = {.write = write, .context = context, .err = err, .source_fd = -1};
    struct docker_path path;
    struct stat info;
    bool itself;
    const char *name;
    int rc;

    if ((rc = docker_path_parse(original, &path, err)))
        return rc;
    if ((rc = resolve_parts(root_fd, &path, &job.source_fd, &info, err)))
        goto out;
    itself = path.base[0] == '\0' || strcmp(path.base, ".") == 0;
    /* The entries are named after the path's last element; the root's are
     * "/" and "/bin/..." as dockerd's rebase makes them. */
    name = strcmp(path.name, "/") == 0 ? "/" : path.name;
    job.tar = archive_write_new();
    job.links = archive_entry_linkresolver_new();
    if (!job.tar || !job.links) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    archive_entry_linkresolver_set_strategy(job.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    archive_write_set_format_pax_restricted(job.tar);
    archive_write_set_bytes_per_block(job.tar, TAR_BLOCK);
    archive_write_set_bytes_in_last_block(job.tar, 1);
    if (archive_write_open(job.tar, &job, NULL, tar_output, NULL) != ARCHIVE_OK) {
        rc = tar_failed(&job);
        goto out;
    }
    rc = tar_entry(&job, itself ? "" : path.base, name, true);
    if (rc == 0 && archive_write_close(job.tar) != ARCHIVE_OK)
        rc = tar_failed(&job);
out:
    if (job.links)
        archive_entry_linkresolver_free(job.links);
    if (job.tar)
        archive_write_free(job.tar);
    if (job.source_fd >= 0)
        close(job.source_fd);
    docker_path_free(&path);
    return rc;
}

/* ---- extraction ---- */

int archive_path_destination(int root_fd, const char *original, int *fd, char **container_path,
                             struct berr *err)
{
    struct docker_path path;
    struct stat info;
    char *relative = NULL;
    int rc;

    *fd = -1;
    *container_path = NULL;
    if ((rc = docker_path_parse(original, &path, err)))
        return rc;
    /* The last element is followed too: a symlink to a directory is a
     * fine place to extract into. */
    *fd = open_in_root(root_fd, path.absolute, O_PATH);
    if (*fd < 0) {
        rc = not_found_or(err, errno, "lstat", path.absolute);
        goto out;
    }
    if (fstat(*fd, &info) < 0) {
        rc = berr_errno(err, errno, "stat %s", path.absolute);
        goto out;
    }
    if (!S_ISDIR(info.st_mode)) {
        rc = berr_set(err, BERR_INVALID, "extraction point is not a directory");
        goto out;
    }
    if ((rc = safe_path_resolve(root_fd, path.absolute, SAFE_PATH_IN_ROOT, &relative, err)))
        goto out;
    if (asprintf(container_path, "/%s", relative) < 0) {
        *container_path = NULL;
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    }
out:
    free(relative);
    if (rc && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    docker_path_free(&path);
    return rc;
}

struct extract_input {
    archive_path_read read;
    void *context;
    char *buffer;
    struct berr *err; /* the body's own error, if reading it failed */
    bool failed;
};

static la_ssize_t extract_input(struct archive *archive, void *data, const void **buffer)
{
    struct extract_input *input = data;
    ssize_t got = input->read(input->context, input->buffer, COPY_BUFFER, input->err);

    if (got < 0) {
        input->failed = true;
        archive_set_error(archive, EIO, "%s", input->err->message);
        return -1;
    }
    *buffer = input->buffer;
    return got;
}

/* An entry's name, relative to the destination, cleaned ("." for itself);
 * BERR_INVALID when absolute or leading out. */
static int entry_relative(const char *name, const char *what, char **out, struct berr *err)
{
    char *cleaned;

    if (!name || !name[0])
        return berr_set(err, BERR_INVALID, "invalid archive: an entry without a name");
    if (name[0] == '/')
        return berr_set(err, BERR_INVALID, "invalid archive: %s %s is an absolute path", what,
                        name);
    /* Clean as an absolute path under a marker; leaving it is a breakout. */
    {
        size_t depth = 0;
        const char *cursor = name;
        while (*cursor) {
            size_t part = strcspn(cursor, "/");
            if (part == 2 && cursor[0] == '.' && cursor[1] == '.') {
                if (depth == 0)
                    return berr_set(err, BERR_INVALID,
                                    "invalid archive: %s %s is outside of the destination", what,
                                    name);
                depth--;
            } else if (part > 0 && !(part == 1 && cursor[0] == '.')) {
                depth++;
            }
            cursor += part;
            while (*cursor == '/')
                cursor++;
        }
    }
    if (!(cleaned = clean_absolute(name)))
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (strcmp(cleaned, "/") == 0)
        *out = strdup(".");
    else
        *out = strdup(cleaned + 1);
    free(cleaned);
    return *out ? 0 : berr_set(err, BERR_NOMEM, "out of memory");
}

/* A symlink's relative target must stay in the destination (dockerd's
 * breakout check); an absolute one is the container's business. relative
 * is cleaned: its "/" count is the depth of the link's directory. */
static int check_symlink(const char *relative, const char *target, struct berr *err)
{
    int depth = 0;

    if (target[0] == '/')
        return 0;
    for (const char *cursor = relative; *cursor; cursor++)
        depth += *cursor == '/';
    for (const char *cursor = target; *cursor;) {
        size_t part = strcspn(cursor, "/");
        if (part == 2 && cursor[0] == '.' && cursor[1] == '.') {
            if (--depth < 0)
                return berr_set(err, BERR_INVALID,
                                "invalid archive: symlink %s -> %s leads outside of the "
                                "destination",
                                relative, target);
        } else if (part > 0 && !(part == 1 && cursor[0] == '.')) {
            depth++;
        }
        cursor += part;
        while (*cursor == '/')
            cursor++;
    }
    return 0;
}

/* The parent directory of relative, made if missing, never through a
 * symlink that leads outside the destination. *base points into relative. */
static int open_parent(int dest_fd, const char *relative, int *parent_fd, const char **base,
                       struct berr *err)
{
    const char *slash = strrchr(relative, '/');
    char *parent;
    int rc;

    *base = slash ? slash + 1 : relative;
    parent = slash ? strndup(relative, (size_t)(slash - relative)) : strdup("");
    if (!parent)
        return berr_set(err, BERR_NOMEM, "out of memory");
    rc = safe_path_mkdir_all(dest_fd, parent, 0755, SAFE_PATH_BENEATH, parent_fd, err);
    if (rc && rc != BERR_NOMEM) {
        struct berr inner = *err;
        rc = berr_set(err, BERR_INVALID, "invalid archive: cannot extract %s: %s", relative,
                      inner.message);
    }
    free(parent);
    return rc;
}

/* os.RemoveAll of parent/name, without following anything. */
static int remove_tree(int parent_fd, const char *name, int depth)
{
    struct stat info;
    int fd;
    char **names;
    size_t count;

    if (fstatat(parent_fd, name, &info, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(info.st_mode))
        return unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    if (depth > 256) {
        errno = ELOOP;
        return -1;
    }
    fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    {
        int copy = dup(fd);
        if (copy < 0 || list_directory(copy, &names, &count) < 0) {
            close(fd);
            return -1;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (remove_tree(fd, names[i], depth + 1) < 0 && errno != ENOENT)
            log_debug("archive: remove %s: %s", names[i], strerror(errno));
        free(names[i]);
    }
    free(names);
    close(fd);
    return unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

/* chmod through the descriptor (O_PATH included): /proc/self/fd/N names
 * that very inode, whatever happens to its name meanwhile. */
static int chmod_fd(int fd, mode_t mode)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return chmod(path, mode);
}

static void apply_xattrs(struct archive_entry *entry, int fd, const char *name)
{
    const char *key;
    const void *value;
    size_t size;

    for (archive_entry_xattr_reset(entry);
         archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK;)
        if (fsetxattr(fd, key, value, size, 0) < 0)
            log_debug("archive: %s: set %s: %s", name, key, strerror(errno));
}

struct directory_time {
    char *relative;
    struct timespec times[2];
};

struct extraction {
    int dest_fd;
    const struct archive_path_extract_options *options;
    struct directory_time *directories;
    size_t directory_count, directory_capacity;
    struct berr *err;
};

static void entry_times(struct archive_entry *entry, struct timespec times[2])
{
    times[1].tv_sec = archive_entry_mtime(entry);
    times[1].tv_nsec = archive_entry_mtime_nsec(entry);
    times[0] = times[1];
    /* dockerd: an access time before the modification time is the latter. */
    if (archive_entry_atime_is_set(entry) &&
        (archive_entry_atime(entry) > times[1].tv_sec ||
         (archive_entry_atime(entry) == times[1].tv_sec &&
          archive_entry_atime_nsec(entry) > times[1].tv_nsec))) {
        times[0].tv_sec = archive_entry_atime(entry);
        times[0].tv_nsec = archive_entry_atime_nsec(entry);
    }
}

static void owner(const struct extraction *job, struct archive_entry *entry, uid_t *uid, gid_t *gid)
{
    if (job->options->chown) {
        *uid = job->options->uid;
        *gid = job->options->gid;
    } else {
        *uid = (uid_t)archive_entry_uid(entry);
        *gid = (gid_t)archive_entry_gid(entry);
    }
}

static int write_file(struct extraction *job, struct archive *reader, struct archive_entry *entry,
                      int parent_fd, const char *base, const char *relative)
{
    char *buffer;
    la_ssize_t got;
    struct timespec times[2];
    uid_t uid;
    gid_t gid;
    int rc = 0,
        fd = openat(parent_fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0)
        return berr_errno(job->err, errno, "create %s", relative);
    if (!(buffer = malloc(COPY_BUFFER))) {
        close(fd);
        return berr_set(job->err, BERR_NOMEM, "out of memory");
    }
    while ((got = archive_read_data(reader, buffer, COPY_BUFFER)) > 0) {
        const char *cursor = buffer;
        while (got > 0) {
            ssize_t written = write(fd, cursor, (size_t)got);
            if (written < 0 && errno == EINTR)
                continue;
            if (written < 0) {
                rc = berr_errno(job->err, errno, "write %s", relative);
                goto out;
            }
            cursor += written;
            got -= written;
        }
    }
    if (got < 0) {
        rc = berr_set(job->err, BERR_INVALID, "Error processing tar file: %s",
                      archive_error_string(reader));
        goto out;
    }
    owner(job, entry, &uid, &gid);
    if (fchown(fd, uid, gid) < 0 ||
        fchmod(fd, archive_entry_perm(entry) | (archive_entry_mode(entry) & 07000)) < 0) {
        rc = berr_errno(job->err, errno, "chown/chmod %s", relative);
        goto out;
    }
    apply_xattrs(entry, fd, relative);
    entry_times(entry, times);
    futimens(fd, times);
out:
    free(buffer);
    close(fd);
    return rc;
}

static int remember_directory(struct extraction *job, const char *relative,
                              struct archive_entry *entry)
{
    struct directory_time *item;

    if (job->directory_count == job->directory_capacity) {
        size_t capacity = job->directory_capacity ? job->directory_capacity * 2 : 16;
        struct directory_time *grown = realloc(job->directories, capacity * sizeof(*grown));
        if (!grown)
            return berr_set(job->err, BERR_NOMEM, "out of memory");
        job->directories = grown;
        job->directory_capacity = capacity;
    }
    item = &job->directories[job->directory_count];
    if (!(item->relative = strdup(relative)))
        return berr_set(job->err, BERR_NOMEM, "out of memory");
    entry_times(entry, item->times);
    job->directory_count++;
    return 0;
}

static int extract_entry(struct extraction *job, struct archive *reader,
                         struct archive_entry *entry)
{
    const char *name = archive_entry_pathname(entry), *hardlink = archive_entry_hardlink(entry);
    const char *symlink = archive_entry_symlink(entry), *base;
    mode_t type = archive_entry_filetype(entry);
    char *relative = NULL, *link_relative = NULL;
    bool is_directory = type == AE_IFDIR && !hardlink;
    struct stat existing;
    struct timespec times[2];
    uid_t uid;
    gid_t gid;
    int parent_fd = -1, fd = -1, rc;

    if (!name)
        name = archive_entry_pathname_utf8(entry);
    if ((rc = entry_relative(name, "entry", &relative, job->err)))
        return rc;
    if (strcmp(relative, ".") == 0) {
        /* The destination itself: dockerd keeps it as it is. */
        if (!is_directory)
            rc = berr_set(job->err, BERR_INVALID,
                          "cannot overwrite directory \".\" with non-directory %s", name);
        goto out;
    }
    if (!hardlink && type == AE_IFSOCK)
        goto out;
    if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFCHR &&
        type != AE_IFBLK && type != AE_IFIFO) {
        rc = berr_set(job->err, BERR_INVALID, "invalid archive: %s: unhandled entry type", name);
        goto out;
    }
    if (hardlink && (rc = entry_relative(hardlink, "hard link target", &link_relative, job->err)))
        goto out;
    if (!hardlink && type == AE_IFLNK &&
        (rc = check_symlink(relative, symlink ? symlink : "", job->err)))
        goto out;
    if ((rc = open_parent(job->dest_fd, relative, &parent_fd, &base, job->err)))
        goto out;

    if (fstatat(parent_fd, base, &existing, AT_SYMLINK_NOFOLLOW) == 0) {
        bool was_directory = S_ISDIR(existing.st_mode);
        if (job->options->no_overwrite_dir_non_dir && was_directory && !is_directory) {
            rc = berr_set(job->err, BERR_INVALID,
                          "cannot overwrite directory \"%s\" with non-directory \"%s\"", relative,
                          name);
            goto out;
        }
        if (job->options->no_overwrite_dir_non_dir && !was_directory && is_directory) {
            rc = berr_set(job->err, BERR_INVALID,
                          "cannot overwrite non-directory \"%s\" with directory \"%s\"", relative,
                          name);
            goto out;
        }
        if (!(was_directory && is_directory) && remove_tree(parent_fd, base, 0) < 0) {
            rc = berr_errno(job->err, errno, "remove %s", relative);
            goto out;
        }
    } else if (errno != ENOENT) {
        rc = berr_errno(job->err, errno, "lstat %s", relative);
        goto out;
    }

    owner(job, entry, &uid, &gid);
    entry_times(entry, times);
    if (hardlink) {
        int target_parent = -1;
        const char *target_base = strrchr(link_relative, '/');
        char *target_dir = target_base
                               ? strndup(link_relative, (size_t)(target_base - link_relative))
                               : strdup("");
        target_base = target_base ? target_base + 1 : link_relative;
        if (!target_dir) {
            rc = berr_set(job->err, BERR_NOMEM, "out of memory");
            goto out;
        }
        if (safe_path_open(job->dest_fd, target_dir, O_PATH | O_DIRECTORY, 0, SAFE_PATH_BENEATH,
                           &target_parent, NULL) != 0)
            rc = berr_set(job->err, BERR_INVALID,
                          "invalid archive: hard link %s -> %s: no such file in the destination",
                          name, hardlink);
        else if (linkat(target_parent, target_base, parent_fd, base, 0) < 0)
            rc = errno == ENOENT || errno == EPERM
                     ? berr_set(job->err, BERR_INVALID, "invalid archive: hard link %s -> %s: %s",
                                name, hardlink, strerror(errno))
                     : berr_errno(job->err, errno, "link %s", relative);
        if (target_parent >= 0)
            close(target_parent);
        free(target_dir);
        goto out;
    }
    switch (type) {
    case AE_IFREG:
        rc = write_file(job, reader, entry, parent_fd, base, relative);
        break;
    case AE_IFDIR:
        if (mkdirat(parent_fd, base, 0700) < 0 && errno != EEXIST) {
            rc = berr_errno(job->err, errno, "mkdir %s", relative);
            break;
        }
        fd = openat(parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchown(fd, uid, gid) < 0 ||
            fchmod(fd, archive_entry_perm(entry) | (archive_entry_mode(entry) & 07000)) < 0) {
            rc = berr_errno(job->err, errno, "directory %s", relative);
            break;
        }
        apply_xattrs(entry, fd, relative);
        rc = remember_directory(job, relative, entry);
        break;
    case AE_IFLNK:
        if (symlinkat(symlink ? symlink : "", parent_fd, base) < 0 ||
            fchownat(parent_fd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = berr_errno(job->err, errno, "symlink %s", relative);
            break;
        }
        utimensat(parent_fd, base, times, AT_SYMLINK_NOFOLLOW);
        break;
    default: /* devices and FIFOs */
        if (mknodat(parent_fd, base, type | 0600, archive_entry_rdev(entry)) < 0 ||
            fchownat(parent_fd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            (fd = openat(parent_fd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            chmod_fd(fd, archive_entry_perm(entry) | (archive_entry_mode(entry) & 07000)) < 0) {
            rc = berr_errno(job->err, errno, "mknod %s", relative);
            break;
        }
        utimensat(parent_fd, base, times, AT_SYMLINK_NOFOLLOW);
        break;
    }
out:
    if (fd >= 0)
        close(fd);
    if (parent_fd >= 0)
        close(parent_fd);
    free(relative);
    free(link_relative);
    return rc;
}

int archive_path_extract(int dest_fd, archive_path_read read, void *context,
                         const struct archive_path_extract_options *options, struct berr *err)
{
    struct extract_input input = {.read = read, .context = context, .err = err};
    struct extraction job = {.dest_fd = dest_fd, .options = options, .err = err};
    struct archive *reader = archive_read_new();
    struct archive_entry *entry;
    struct berr body_err;
    int rc = 0, status;

    input.err = &body_err;
    berr_clear(&body_err);
    if (!reader || !(input.buffer = malloc(COPY_BUFFER))) {
        rc = berr_set(err, BERR_NOMEM, "out of memory");
        goto out;
    }
    archive_read_support_filter_gzip(reader);
    archive_read_support_filter_bzip2(reader);
    archive_read_support_filter_xz(reader);
    archive_read_support_format_tar(reader);
    archive_read_support_format_gnutar(reader);
    if (archive_read_open(reader, &input, NULL, extract_input, NULL) != ARCHIVE_OK) {
        rc = input.failed
                 ? berr_set(err, body_err.code ? body_err.code : BERR_IO, "%s", body_err.message)
                 : berr_set(err, BERR_INVALID, "Error processing tar file: %s",
                            archive_error_string(reader));
        goto out;
    }
    while (rc == 0 && (status = archive_read_next_header(reader, &entry)) != ARCHIVE_EOF) {
        if (status < ARCHIVE_WARN) {
            rc = input.failed ? berr_set(err, body_err.code ? body_err.code : BERR_IO, "%s",
                                         body_err.message)
                              : berr_set(err, BERR_INVALID, "Error processing tar file: %s",
                                         archive_error_string(reader));
            break;
        }
        rc = extract_entry(&job, reader, entry);
    }
    /* Directory times last: their entries changed them. */
    for (size_t i = 0; rc == 0 && i < job.directory_count; i++) {
        int fd =
            open_below(dest_fd, job.directories[i].relative, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd >= 0) {
            futimens(fd, job.directories[i].times);
            close(fd);
        }
    }
out:
    for (size_t i = 0; i < job.directory_count; i++)
        free(job.directories[i].relative);
    free(job.directories);
    free(input.buffer);
    if (reader)
        archive_read_free(reader);
    return rc;
}
