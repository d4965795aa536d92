/*
 * mount: see mount.h. Options split into mount(2) flags (ro, nosuid, ...)
 * and filesystem data (overlay's lowerdir=..., upperdir=...). An overlay
 * whose data does not fit in a page goes through the new mount API or, on
 * kernels without "lowerdir+", relative paths mounted from a child process
 * (a child because the working directory belongs to the whole process).
 */
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the list ---- */

static void mount_spec_free(struct mount_spec *spec)
{
    size_t i;

    free(spec->type);
    free(spec->source);
    for (i = 0; i < spec->option_count; i++)
        free(spec->options[i]);
    free(spec->options);
}

void mount_list_free(struct mount_list *list)
{
    size_t i;

    if (!list)
        return;
    for (i = 0; i < list->count; i++)
        mount_spec_free(&list->mounts[i]);
    free(list->mounts);
    list->mounts = NULL;
    list->count = 0;
}

int mount_list_add(struct mount_list *list, const char *type, const char *source,
                   const char *const *options, struct berr *err)
{
    struct mount_spec *grown, *spec;
    size_t count = 0, i;

    while (options && options[count])
        count++;
    grown = realloc(list->mounts, (list->count + 1) * sizeof(*grown));
    if (!grown)
        return berr_set(err, BERR_NOMEM, "mount %s: out of memory", source);
    list->mounts = grown;
    spec = &grown[list->count];
    memset(spec, 0, sizeof(*spec));
    spec->type = strdup(type);
    spec->source = strdup(source);
    spec->options = calloc(count ? count : 1, sizeof(char *));
    if (!spec->type || !spec->source || !spec->options)
        goto nomem;
    for (i = 0; i < count; i++) {
        if (!(spec->options[i] = strdup(options[i])))
            goto nomem;
        spec->option_count++;
    }
    list->count++;
    return 0;
nomem:
    mount_spec_free(spec);
    return berr_set(err, BERR_NOMEM, "mount %s: out of memory", source);
}

/* ---- options ---- */

struct flag_option {
    const char *name;
    bool clear;
    unsigned long flag;
};

static const struct flag_option flag_options[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

/* Splits options into flags and a comma-joined data string (malloc'ed). */
static int parse_options(const struct mount_spec *spec, unsigned long *flags_out, char **data_out,
                         struct berr *err)
{
    unsigned long flags = 0;
    size_t data_length = 0, i, j;
    char *data;

    for (i = 0; i < spec->option_count; i++)
        data_length += strlen(spec->options[i]) + 1;
    data = calloc(1, data_length + 1);
    if (!data)
        return berr_set(err, BERR_NOMEM, "mount %s: out of memory", spec->source);
    for (i = 0; i < spec->option_count; i++) {
        const char *option = spec->options[i];
        bool known = false;
        for (j = 0; j < sizeof(flag_options) / sizeof(flag_options[0]); j++) {
            if (strcmp(option, flag_options[j].name) != 0)
                continue;
            if (flag_options[j].clear)
                flags &= ~flag_options[j].flag;
            else
                flags |= flag_options[j].flag;
            known = true;
            break;
        }
        if (known)
            continue;
        if (data[0])
            strcat(data, ",");
        strcat(data, option);
    }
    *flags_out = flags;
    *data_out = data;
    return 0;
}

static unsigned long locked_flags(const char *target)
{
    static const struct {
        unsigned long statvfs_flag, mount_flag;
    } map[] = {{ST_NOSUID, MS_NOSUID},         {ST_NODEV, MS_NODEV},
               {ST_NOEXEC, MS_NOEXEC},         {ST_NOATIME, MS_NOATIME},
               {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
    unsigned long flags = 0;
    struct statvfs info;
    size_t i;

    if (statvfs(target, &info) < 0)
        return 0;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (info.f_flag & map[i].statvfs_flag)
            flags |= map[i].mount_flag;
    }
    return flags;
}

static int mount_bind(const struct mount_spec *spec, const char *target, struct berr *err)
{
    unsigned long flags;
    char *data;
    int rc = parse_options(spec, &flags, &data, err);

    if (rc)
        return rc;
    if (data[0]) {
        rc = berr_set(err, BERR_INVALID, "bind mount %s: unknown options %s", spec->source, data);
        free(data);
        return rc;
    }
    free(data);
    if (mount(spec->source, target, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
        return berr_errno(err, errno, "bind mount %s on %s", spec->source, target);
    /* The bind itself ignores the other flags; a remount applies them. */
    if (flags & ~(MS_BIND | MS_REC)) {
        unsigned long remount = MS_REMOUNT | MS_BIND | (flags & ~(MS_BIND | MS_REC));
        rc = mount(NULL, target, NULL, remount, NULL);
        /* In a user namespace the source's nosuid/nodev/noexec/atime flags
         * are locked: keep them, as runc does. */
        if (rc < 0 && errno == EPERM) {
            remount |= locked_flags(target);
            rc = mount(NULL, target, NULL, remount, NULL);
        }
        if (rc < 0) {
            rc = berr_errno(err, errno, "remount %s on %s", spec->source, target);
            umount2(target, MNT_DETACH);
            return rc;
        }
    }
    return 0;
}

/* ---- overlays longer than a page ---- */

/* The kernel's fs_context log: "e overlay: ..." lines after a failed fsconfig. */
static void read_fs_log(int fs_fd, char *out, size_t size)
{
    out[0] = '\0';
    for (;;) {
        char line[512];
        ssize_t got = read(fs_fd, line, sizeof(line) - 1);
        size_t used = strlen(out);
        if (got <= 0)
            break;
        line[got] = '\0';
        if (got > 2 && line[1] == ' ')
            snprintf(out + used, size - used, "%s%s", used ? "; " : "", line + 2);
    }
}

/* Calls visit for each path of a lowerdir value ("a:b:c", with "\:" escapes). */
static int for_each_lowerdir(const char *value, int (*visit)(const char *path, void *user),
                             void *user)
{
    size_t length = strlen(value);
    char *path = malloc(length + 1);
    size_t used = 0, i;
    int rc = 0;

    if (!path)
        return ENOMEM;
    for (i = 0; i <= length && !rc; i++) {
        if (value[i] == '\\' && value[i + 1]) {
            path[used++] = value[++i];
            continue;
        }
        if (value[i] == ':' || value[i] == '\0') {
            path[used] = '\0';
            if (used)
                rc = visit(path, user);
            used = 0;
            continue;
        }
        path[used++] = value[i];
    }
    free(path);
    return rc;
}

struct fsconfig_lower {
    int fs_fd;
};

static int add_lowerdir(const char *path, void *user)
{
    struct fsconfig_lower *lower = user;

    return fsconfig(lower->fs_fd, FSCONFIG_SET_STRING, "lowerdir+", path, 0) < 0 ? errno : 0;
}

/* Mounts an overlay through fsopen/fsconfig/fsmount. BERR_UNSUPPORTED when
 * the kernel lacks the API or "lowerdir+". */
static int mount_overlay_fsconfig(unsigned long flags, const char *data, const char *target,
                                  struct berr *err)
{
    unsigned int attributes = 0;
    char *copy = strdup(data), *option, *save = NULL, log[512];
    int fs_fd = -1, mount_fd = -1, rc = 0;

    if (!copy)
        return berr_set(err, BERR_NOMEM, "mount overlay on %s: out of memory", target);
    fs_fd = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fs_fd < 0) {
        rc = errno == ENOSYS ? berr_set(err, BERR_UNSUPPORTED, "fsopen: not supported")
                             : berr_errno(err, errno, "mount overlay on %s: fsopen", target);
        goto out;
    }
    for (option = strtok_r(copy, ",", &save); option; option = strtok_r(NULL, ",", &save)) {
        char *equals = strchr(option, '=');
        if (equals && strncmp(option, "lowerdir=", 9) == 0) {
            struct fsconfig_lower lower = {fs_fd};
            int failed = for_each_lowerdir(equals + 1, add_lowerdir, &lower);
            if (failed) {
                read_fs_log(fs_fd, log, sizeof(log));
                if (failed == EINVAL && strstr(log, "lowerdir+"))
                    rc = berr_set(err, BERR_UNSUPPORTED, "overlay: no lowerdir+ (%s)", log);
                else
                    rc =
                        berr_errno(err, failed, "mount overlay on %s: lowerdir+ (%s)", target, log);
                goto out;
            }
            continue;
        }
        if (equals) {
            *equals = '\0';
            rc = fsconfig(fs_fd, FSCONFIG_SET_STRING, option, equals + 1, 0);
        } else {
            rc = fsconfig(fs_fd, FSCONFIG_SET_FLAG, option, NULL, 0);
        }
        if (rc < 0) {
            int failed = errno;
            read_fs_log(fs_fd, log, sizeof(log));
            rc =
                berr_errno(err, failed, "mount overlay on %s: option %s (%s)", target, option, log);
            goto out;
        }
    }
    if (fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int failed = errno;
        read_fs_log(fs_fd, log, sizeof(log));
        rc = berr_errno(err, failed, "mount overlay on %s (%s)", target, log);
        goto out;
    }
    if (flags & MS_RDONLY)
        attributes |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID)
        attributes |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV)
        attributes |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC)
        attributes |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NOATIME)
        attributes |= MOUNT_ATTR_NOATIME;
    else if (flags & MS_STRICTATIME)
        attributes |= MOUNT_ATTR_STRICTATIME;
    if (flags & MS_NODIRATIME)
        attributes |= MOUNT_ATTR_NODIRATIME;
    mount_fd = fsmount(fs_fd, FSMOUNT_CLOEXEC, attributes);
    if (mount_fd < 0) {
        rc = berr_errno(err, errno, "mount overlay on %s: fsmount", target);
        goto out;
    }
    if (move_mount(mount_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        rc = berr_errno(err, errno, "mount overlay on %s: move_mount", target);
        goto out;
    }
    rc = 0;
out:
    if (mount_fd >= 0)
        close(mount_fd);
    if (fs_fd >= 0)
        close(fs_fd);
    free(copy);
    return rc;
}

struct relative_lowers {
    char *common; /* the longest common directory of all lowerdirs */
    size_t common_length;
    char *joined; /* relative paths, ':'-joined */
    size_t joined_length;
    bool first;
    bool failed;
};

static int find_common(const char *path, void *user)
{
    struct relative_lowers *lowers = user;
    size_t i;

    if (path[0] != '/') {
        lowers->failed = true;
        return EINVAL;
    }
    if (lowers->first) {
        const char *slash = strrchr(path, '/');
        lowers->common = strndup(path, (size_t)(slash - path));
        if (!lowers->common)
            return ENOMEM;
        lowers->common_length = strlen(lowers->common);
        lowers->first = false;
        return 0;
    }
    /* Shorten common to a directory prefix of path. */
    for (i = 0; i < lowers->common_length && path[i] == lowers->common[i]; i++)
        ;
    if (i == lowers->common_length && path[i] == '/')
        return 0;
    while (i > 0 && lowers->common[i] != '/')
        i--;
    if (i > 0 && path[i] != '/')
        i = 0;
    lowers->common_length = i;
    lowers->common[i] = '\0';
    return 0;
}

static int join_relative(const char *path, void *user)
{
    struct relative_lowers *lowers = user;
    const char *relative = path + lowers->common_length + 1;
    size_t length = strlen(relative), i;

    for (i = 0; i < length; i++) {
        if (relative[i] == ':' || relative[i] == ',' || relative[i] == '\\')
            return EINVAL; /* would need escaping; our paths never do */
    }
    if (lowers->joined_length)
        lowers->joined[lowers->joined_length++] = ':';
    memcpy(lowers->joined + lowers->joined_length, relative, length);
    lowers->joined_length += length;
    lowers->joined[lowers->joined_length] = '\0';
    return 0;
}

/* Mounts with lowerdirs relative to their common parent, from a child
 * process that has chdir'ed there. */
static int mount_overlay_relative(unsigned long flags, const char *data, const char *target,
                                  struct berr *err)
{
    struct relative_lowers lowers = {NULL, 0, NULL, 0, true, false};
    char *copy = strdup(data), *rewritten = NULL, *option, *save = NULL;
    char absolute_target[PATH_MAX];
    long page = sysconf(_SC_PAGESIZE);
    size_t used = 0;
    int rc = 0, status;
    pid_t child;

    if (!copy || !(rewritten = calloc(1, strlen(data) + 2))) {
        rc = berr_set(err, BERR_NOMEM, "mount overlay on %s: out of memory", target);
        goto out;
    }
    if (!realpath(target, absolute_target)) {
        rc = berr_errno(err, errno, "mount overlay on %s", target);
        goto out;
    }
    for (option = strtok_r(copy, ",", &save); option; option = strtok_r(NULL, ",", &save)) {
        if (strncmp(option, "lowerdir=", 9) == 0) {
            if (!(lowers.joined = calloc(1, strlen(option) + 1)) ||
                for_each_lowerdir(option + 9, find_common, &lowers) || lowers.failed ||
                lowers.common_length == 0 ||
                for_each_lowerdir(option + 9, join_relative, &lowers)) {
                rc = berr_set(err, BERR_INVALID,
                              "mount overlay on %s: lowerdirs have no common parent", target);
                goto out;
            }
            used +=
                (size_t)sprintf(rewritten + used, "%slowerdir=%s", used ? "," : "", lowers.joined);
        } else {
            used += (size_t)sprintf(rewritten + used, "%s%s", used ? "," : "", option);
        }
    }
    if (!lowers.common) {
        rc = berr_set(err, BERR_INVALID, "mount overlay on %s: no lowerdir", target);
        goto out;
    }
    if ((long)used >= page) {
        rc = berr_set(err, BERR_INVALID,
                      "mount overlay on %s: %zu bytes of options do not fit in a page even "
                      "relative to %s",
                      target, used, lowers.common);
        goto out;
    }
    child = fork();
    if (child < 0) {
        rc = berr_errno(err, errno, "mount overlay on %s: fork", target);
        goto out;
    }
    if (child == 0) {
        if (chdir(lowers.common) < 0)
            _exit(errno & 0xff);
        if (mount("overlay", absolute_target, "overlay", flags, rewritten) < 0)
            _exit(errno & 0xff);
        _exit(0);
    }
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            rc = berr_errno(err, errno, "mount overlay on %s: wait", target);
            goto out;
        }
    }
    if (!WIFEXITED(status))
        rc = berr_set(err, BERR_INTERNAL, "mount overlay on %s: the helper died", target);
    else if (WEXITSTATUS(status))
        rc = berr_errno(err, WEXITSTATUS(status), "mount overlay on %s (lowerdirs relative to %s)",
                        target, lowers.common);
out:
    free(lowers.common);
    free(lowers.joined);
    free(rewritten);
    free(copy);
    return rc;
}

static int mount_overlay(const struct mount_spec *spec, const char *target,
                         enum mount_long_options long_options, struct berr *err)
{
    unsigned long flags;
    char *data;
    int rc = parse_options(spec, &flags, &data, err);

    if (rc)
        return rc;
    flags &= ~(MS_BIND | MS_REC);
    if ((long)strlen(data) < sysconf(_SC_PAGESIZE)) {
        if (mount("overlay", target, "overlay", flags, data) < 0)
            rc = berr_errno(err, errno, "mount overlay on %s", target);
        free(data);
        return rc;
    }
    if (long_options != MOUNT_LONG_OPTIONS_RELATIVE) {
        rc = mount_overlay_fsconfig(flags, data, target, err);
        if (rc != BERR_UNSUPPORTED || long_options == MOUNT_LONG_OPTIONS_FSCONFIG) {
            free(data);
            return rc;
        }
    }
    rc = mount_overlay_relative(flags, data, target, err);
    free(data);
    return rc;
}

int snapshot_mount_with(const struct mount_list *list, const char *target,
                        enum mount_long_options long_options, struct berr *err)
{
    size_t i;

    for (i = 0; i < list->count; i++) {
        const struct mount_spec *spec = &list->mounts[i];
        int rc;
        if (strcmp(spec->type, "bind") == 0)
            rc = mount_bind(spec, target, err);
        else if (strcmp(spec->type, "overlay") == 0)
            rc = mount_overlay(spec, target, long_options, err);
        else
            rc = berr_set(err, BERR_UNSUPPORTED, "mount %s on %s: type %s is not supported",
                          spec->source, target, spec->type);
        if (rc) {
            while (i-- > 0)
                umount2(target, MNT_DETACH);
            return rc;
        }
    }
    return 0;
}

int snapshot_mount(const struct mount_list *list, const char *target, struct berr *err)
{
    return snapshot_mount_with(list, target, MOUNT_LONG_OPTIONS_AUTO, err);
}

int snapshot_unmount(const char *target, struct berr *err)
{
    int busy = 0;

    for (;;) {
        if (umount2(target, UMOUNT_NOFOLLOW) == 0)
            continue; /* another may be stacked below */
        if (errno == EINVAL || errno == ENOENT)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EBUSY && ++busy < 50) {
            struct timespec pause = {0, 20 * 1000 * 1000};
            nanosleep(&pause, NULL);
            continue;
        }
        return berr_errno(err, errno, "unmount %s", target);
    }
}
