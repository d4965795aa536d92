/*
 * cmd_cp: cp between a container and the local filesystem, over the
 * archive endpoints (GET/HEAD/PUT /containers/ID/archive) whose bodies are
 * tar streams. Tar is written and read with libarchive (pax headers, long
 * names, links: not hand-written), through a temporary file so the HTTP
 * transfer and the archive work stay separate. Destination rules are
 * docker's: into an existing directory the source keeps its name;
 * otherwise it takes the destination's name; "SRC/." copies a directory's
 * contents; "-" is a tar stream on stdin/stdout.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "streams.h"
#include "units.h"

struct location {
    char *container; /* NULL: local */
    char *path;
};

static int split_location(const char *arg, struct location *out)
{
    const char *colon = strchr(arg, ':');

    out->container = NULL;
    /* a local path with a colon must start with / or . to be local */
    if (colon && arg[0] != '/' && arg[0] != '.' && colon != arg) {
        out->container = xstrndup(arg, (size_t)(colon - arg));
        out->path = xstrdup(colon + 1);
    } else {
        out->path = xstrdup(arg);
    }
    return 0;
}

static char *path_base(const char *path)
{
    char *copy = xstrdup(path);
    size_t len = strlen(copy);
    char *base;

    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    base = xstrdup(basename(copy));
    free(copy);
    return base;
}

static char *path_dir(const char *path)
{
    char *copy = xstrdup(path);
    size_t len = strlen(copy);
    char *dir;

    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    dir = xstrdup(dirname(copy));
    free(copy);
    return dir;
}

static bool ends_with_dot(const char *path)
{
    size_t len = strlen(path);

    return len >= 2 && strcmp(path + len - 2, "/.") == 0;
}

static int archive_failed(struct archive *a, const char *what, struct berr *err)
{
    return berr_set(err, BERR_IO, "%s: %s", what, archive_error_string(a));
}

/* "old/rest" → "new/rest" (the top entry takes the destination's name). */
static char *rename_top(const char *name, const char *old_top, const char *new_top)
{
    size_t len = strlen(old_top);
    const char *p = name;

    if (strncmp(p, "./", 2) == 0)
        p += 2;
    if (!new_top || strncmp(p, old_top, len) != 0 || (p[len] && p[len] != '/'))
        return xstrdup(p);
    return xasprintf("%s%s", new_top, p + len);
}

/* Base64 (standard or URL alphabet, padding optional) into out; returns the length. */
static size_t base64_decode(const char *in, unsigned char *out, size_t out_size)
{
    unsigned bits = 0, value = 0;
    size_t len = 0;

    for (; *in && *in != '='; in++) {
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *pos = strchr(alphabet, *in == '-' ? '+' : *in == '_' ? '/' : *in);

        if (!pos)
            break;
        value = (value << 6) | (unsigned)(pos - alphabet);
        bits += 6;
        if (bits >= 8 && len < out_size) {
            bits -= 8;
            out[len++] = (unsigned char)(value >> bits);
        }
    }
    return len;
}

#define GO_MODE_DIR     (1LL << 31)
#define GO_MODE_SYMLINK (1LL << 27)

/* HEAD a container path: 0 with its Go file mode and (for a symlink) its
 * target resolved in the container (*link_target, malloc'ed, may be NULL);
 * -1 when it is missing; -2 on another error (err set). */
static int container_path_stat(struct api *api, const char *container, const char *path,
                               int64_t *mode, char **link_target, struct berr *err)
{
    struct strbuf url = STRBUF_INIT;
    struct http_request request = {.method = "HEAD", .body_fd = -1};
    struct http_response response;
    unsigned char decoded[3072];
    yajl_val stat = NULL;
    struct berr ignored;
    int rc;

    *mode = 0;
    if (link_target)
        *link_target = NULL;
    sb_puts(&url, "/containers/");
    api_segment(&url, container);
    sb_puts(&url, "/archive");
    api_query(&url, "path", path);
    request.path = sb_str(&url);
    rc = api_do(api, &request, &response, err);
    sb_free(&url);
    if (rc == BERR_NOT_FOUND) {
        /* HEAD has no body: tell a missing path from a missing container by asking again */
        struct strbuf check = STRBUF_INIT;
        yajl_val info = NULL;

        sb_puts(&check, "/containers/");
        api_segment(&check, container);
        sb_puts(&check, "/json");
        rc = api_get_json(api, sb_str(&check), &info, err);
        sb_free(&check);
        if (info)
            yajl_tree_free(info);
        return rc ? -2 : -1;
    }
    if (rc)
        return -2;
    decoded[base64_decode(response.path_stat, decoded, sizeof(decoded) - 1)] = '\0';
    http_response_free(&response);
    if (json_parse((const char *)decoded, &stat, &ignored) == 0) {
        *mode = jint(stat, "mode");
        if (link_target && *jstr(stat, "linkTarget"))
            *link_target = xstrdup(jstr(stat, "linkTarget"));
        yajl_tree_free(stat);
    }
    return 0;
}

/* HEAD the destination, following a symlink as docker does (*path may be
 * replaced by its target): 1 a directory, 0 something else, -1 missing,
 * -2 error (err set). */
static int container_path_kind(struct api *api, const char *container, char **path,
                               struct berr *err)
{
    char *target = NULL;
    int64_t mode;
    int rc = container_path_stat(api, container, *path, &mode, &target, err);

    if (rc == 0 && (mode & GO_MODE_SYMLINK) && target) {
        free(*path);
        *path = target;
        target = NULL;
        rc = container_path_stat(api, container, *path, &mode, NULL, err);
    }
    free(target);
    if (rc)
        return rc;
    return (mode & GO_MODE_DIR) ? 1 : 0;
}

/* ------------------------------------------------------------ container → local */

static int extract(int fd, const char *dest_dir, const char *old_top, const char *new_top,
                   struct berr *err)
{
    struct archive *in = archive_read_new();
    struct archive *out = archive_write_disk_new();
    struct archive_entry *entry;
    int rc = 0;

    archive_read_support_format_tar(in);
    archive_read_support_format_gnutar(in);
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                            ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                            ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
        rc = archive_failed(in, "read the archive", err);
        goto out;
    }
    while (archive_read_next_header(in, &entry) == ARCHIVE_OK) {
        char *name = rename_top(archive_entry_pathname(entry), old_top, new_top);
        char *full = xasprintf("%s/%s", dest_dir, name);
        const char *link = archive_entry_hardlink(entry);

        archive_entry_set_pathname(entry, full);
        if (link) {
            char *lname = rename_top(link, old_top, new_top);
            char *lfull = xasprintf("%s/%s", dest_dir, lname);

            archive_entry_set_hardlink(entry, lfull);
            free(lname);
            free(lfull);
        }
        free(name);
        free(full);
        if (archive_read_extract2(in, entry, out) != ARCHIVE_OK) {
            rc = archive_failed(in, "extract", err);
            goto out;
        }
    }
out:
    archive_read_free(in);
    archive_write_free(out);
    return rc;
}

static int to_fd(void *ctx, const char *data, size_t len, struct berr *err)
{
    return write_all_fd(*(int *)ctx, data, len, err);
}

static int download(struct api *api, const char *container, const char *path, int fd,
                    struct berr *err)
{
    struct strbuf url = STRBUF_INIT;
    struct http_request request = {.method = "GET", .body_fd = -1};
    struct http_response response;
    int rc;

    sb_puts(&url, "/containers/");
    api_segment(&url, container);
    sb_puts(&url, "/archive");
    api_query(&url, "path", path);
    request.path = sb_str(&url);
    request.sink = to_fd;
    request.sink_ctx = &fd;
    rc = api_do(api, &request, &response, err);
    if (rc == 0)
        http_response_free(&response);
    sb_free(&url);
    return rc;
}

static int copy_from_container(struct api *api, struct location *src, const char *dest, bool follow,
                               off_t *copied, struct berr *err)
{
    FILE *tmp = tmpfile();
    struct stat info;
    char *src_base = path_base(src->path), *fetch = xstrdup(src->path), *link_target = NULL;
    char *dest_dir = NULL, *new_top = NULL;
    const char *old_top = src_base;
    int64_t mode = 0;
    int rc;

    if (!tmp) {
        free(src_base);
        free(fetch);
        return berr_errno(err, errno, "tmpfile");
    }
    if (follow) {
        /* -L: what the symlink names, under the symlink's own name. */
        rc = container_path_stat(api, src->container, src->path, &mode, &link_target, err);
        if (rc == -1) {
            rc = berr_set(err, BERR_NOT_FOUND, "Could not find the file %s in container %s",
                          src->path, src->container);
            goto out;
        }
        if (rc) {
            rc = err->code;
            goto out;
        }
        if ((mode & GO_MODE_SYMLINK) && link_target) {
            free(fetch);
            fetch = link_target;
            link_target = NULL;
        }
    }
    rc = download(api, src->container, fetch, fileno(tmp), err);
    if (rc)
        goto out;
    fstat(fileno(tmp), &info);
    *copied = info.st_size;
    lseek(fileno(tmp), 0, SEEK_SET);
    if (strcmp(dest, "-") == 0) {
        char buf[65536];
        ssize_t n;

        while ((n = read(fileno(tmp), buf, sizeof(buf))) > 0)
            if ((rc = write_all_fd(STDOUT_FILENO, buf, (size_t)n, err)) != 0)
                goto out;
        goto out;
    }
    if (strcmp(fetch, src->path) != 0) {
        free(src_base);
        src_base = path_base(fetch);
        old_top = src_base;
    }
    if (stat(dest, &info) == 0 && S_ISDIR(info.st_mode)) {
        dest_dir = xstrdup(dest);
        if (ends_with_dot(src->path))
            new_top = xstrdup(".");
        else if (strcmp(fetch, src->path) != 0)
            new_top = path_base(src->path);
    } else {
        struct stat parent;

        dest_dir = path_dir(dest);
        if (stat(dest_dir, &parent) != 0 || !S_ISDIR(parent.st_mode)) {
            rc = berr_set(err, BERR_NOT_FOUND,
                          "invalid output path: directory \"%s\" does not "
                          "exist",
                          dest_dir);
            goto out;
        }
        new_top = path_base(dest);
    }
    rc = extract(fileno(tmp), dest_dir, old_top, new_top, err);
out:
    fclose(tmp);
    free(fetch);
    free(link_target);
    free(src_base);
    free(dest_dir);
    free(new_top);
    return rc;
}

/* ------------------------------------------------------------ local → container */

static int add_tree(struct archive *out, const char *src, const char *top, struct berr *err)
{
    struct archive *disk = archive_read_disk_new();
    struct archive_entry *entry;
    size_t src_len = strlen(src);
    int rc = 0;

    archive_read_disk_set_standard_lookup(disk);
    archive_read_disk_set_symlink_physical(disk);
    if (archive_read_disk_open(disk, src) != ARCHIVE_OK) {
        rc = archive_failed(disk, "read the source", err);
        archive_read_free(disk);
        return rc;
    }
    for (;;) {
        int r;
        char *name;
        const char *path;

        entry = archive_entry_new();
        r = archive_read_next_header2(disk, entry);
        if (r == ARCHIVE_EOF) {
            archive_entry_free(entry);
            break;
        }
        if (r != ARCHIVE_OK) {
            rc = archive_failed(disk, "read the source", err);
            archive_entry_free(entry);
            break;
        }
        archive_read_disk_descend(disk);
        path = archive_entry_pathname(entry);
        name = strlen(path) > src_len ? xasprintf("%s%s", top, path + src_len) : xstrdup(top);
        archive_entry_set_pathname(entry, name);
        free(name);
        if (archive_write_header(out, entry) != ARCHIVE_OK) {
            rc = archive_failed(out, "write the archive", err);
            archive_entry_free(entry);
            break;
        }
        if (archive_entry_filetype(entry) == AE_IFREG) {
            int fd = open(archive_entry_sourcepath(entry), O_RDONLY | O_CLOEXEC);
            char buf[65536];
            ssize_t n;

            while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
                archive_write_data(out, buf, (size_t)n);
            if (fd >= 0)
                close(fd);
        }
        archive_entry_free(entry);
    }
    archive_read_close(disk);
    archive_read_free(disk);
    return rc;
}

static int make_tar(const char *src, const char *top, int fd, struct berr *err)
{
    struct archive *out = archive_write_new();
    int rc;

    archive_write_set_format_pax_restricted(out);
    if (archive_write_open_fd(out, fd) != ARCHIVE_OK) {
        rc = archive_failed(out, "write the archive", err);
        archive_write_free(out);
        return rc;
    }
    rc = add_tree(out, src, top, err);
    if (archive_write_close(out) != ARCHIVE_OK && rc == 0)
        rc = archive_failed(out, "write the archive", err);
    archive_write_free(out);
    return rc;
}

static int upload(struct api *api, const char *container, const char *dir, bool copy_uid_gid,
                  int fd, struct berr *err)
{
    struct strbuf url = STRBUF_INIT;
    struct http_request request = {.method = "PUT", .content_type = "application/x-tar"};
    struct http_response response;
    int rc;

    sb_puts(&url, "/containers/");
    api_segment(&url, container);
    sb_puts(&url, "/archive");
    api_query(&url, "path", dir);
    api_query(&url, "noOverwriteDirNonDir", "true");
    if (copy_uid_gid)
        api_query(&url, "copyUIDGID", "true");
    request.path = sb_str(&url);
    request.body_fd = fd;
    rc = api_do(api, &request, &response, err);
    if (rc == 0)
        http_response_free(&response);
    sb_free(&url);
    return rc;
}

static int copy_to_container(struct api *api, const char *src, struct location *dest,
                             bool copy_uid_gid, bool follow, off_t *copied, struct berr *err)
{
    int kind = container_path_kind(api, dest->container, &dest->path, err);
    char *dir = NULL, *top = NULL, *src_path = NULL;
    struct stat info;
    FILE *tmp = NULL;
    int rc = 0;

    if (kind == -2)
        return err->code;
    if (strcmp(src, "-") == 0) {
        if (kind != 1)
            return berr_set(err, BERR_INVALID, "destination \"%s:%s\" must be a directory",
                            dest->container, dest->path);
        return upload(api, dest->container, dest->path, copy_uid_gid, STDIN_FILENO, err);
    }
    if (lstat(src, &info) != 0)
        return berr_errno(err, errno, "lstat %s", src);
    src_path = xstrdup(src);
    if (follow && S_ISLNK(info.st_mode)) {
        /* -L: the file the link names, under the link's name. */
        char resolved[PATH_MAX];
        if (!realpath(src, resolved)) {
            free(src_path);
            return berr_errno(err, errno, "lstat %s", src);
        }
        free(src_path);
        src_path = xstrdup(resolved);
    }
    if (ends_with_dot(src)) {
        src_path[strlen(src_path) - 2] = '\0';
        top = xstrdup(".");
        dir = xstrdup(dest->path);
    } else if (kind == 1) {
        top = path_base(src);
        dir = xstrdup(dest->path);
    } else {
        top = path_base(dest->path);
        dir = path_dir(dest->path);
    }
    tmp = tmpfile();
    if (!tmp) {
        rc = berr_errno(err, errno, "tmpfile");
        goto out;
    }
    rc = make_tar(src_path, top, fileno(tmp), err);
    if (rc)
        goto out;
    fstat(fileno(tmp), &info);
    *copied = info.st_size;
    lseek(fileno(tmp), 0, SEEK_SET);
    rc = upload(api, dest->container, dir, copy_uid_gid, fileno(tmp), err);
out:
    if (tmp)
        fclose(tmp);
    free(src_path);
    free(dir);
    free(top);
    return rc;
}

int cmd_cp(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool archive = false, follow = false, quiet = false;
    const struct opt opts[] = {
        {"archive", 'a', OPT_BOOL, &archive, "Archive mode (copy all uid/gid information)", NULL,
         NULL, false},
        {"follow-link", 'L', OPT_BOOL, &follow, "Always follow symbol link in SRC_PATH", NULL, NULL,
         false},
        {"quiet", 'q', OPT_BOOL, &quiet, "Suppress progress output during copy", NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {"cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-",
                                "Copy files/folders between a container and the local filesystem",
                                opts,
                                true,
                                2,
                                2};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct location src = {NULL, NULL}, dest = {NULL, NULL};
    struct api *api;
    off_t copied = 0;
    char size[32];
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    split_location(parsed.args.items[0], &src);
    split_location(parsed.args.items[1], &dest);
    if (src.container && dest.container) {
        berr_set(err, BERR_INVALID, "copying between containers is not supported");
        goto out;
    }
    if (!src.container && !dest.container) {
        berr_set(err, BERR_INVALID, "must specify at least one container source");
        goto out;
    }
    if (cli_api(cli, &api, err))
        goto out;
    if (src.container ? copy_from_container(api, &src, dest.path, follow, &copied, err)
                      : copy_to_container(api, src.path, &dest, archive, follow, &copied, err))
        goto out;
    units_human_size((double)copied, 3, size, sizeof(size));
    if (!quiet && !(src.container && strcmp(dest.path, "-") == 0))
        fprintf(stderr, "Successfully copied %s to %s\n", size, parsed.args.items[1]);
    status = 0;
out:
    free(src.container);
    free(src.path);
    free(dest.container);
    free(dest.path);
    opt_result_free(&parsed);
    return status;
}
