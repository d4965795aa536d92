/*
 * namespaces: see namespaces.h.
 */
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static void plan_init(struct namespace_plan *plan)
{
    int kind;

    memset(plan, 0, sizeof(*plan));
    for (kind = 0; kind < NS_KIND_COUNT; kind++)
        plan->join_fds[kind] = -1;
    plan->pid_join_fd = plan->time_join_fd = -1;
    plan->saved_pid_fd = plan->saved_time_fd = -1;
}

void namespace_plan_close_fds(const struct namespace_plan *plan)
{
    int kind;

    for (kind = 0; kind < NS_KIND_COUNT; kind++)
        if (plan->join_fds[kind] >= 0)
            close(plan->join_fds[kind]);
    if (plan->pid_join_fd >= 0)
        close(plan->pid_join_fd);
    if (plan->time_join_fd >= 0)
        close(plan->time_join_fd);
    if (plan->saved_pid_fd >= 0)
        close(plan->saved_pid_fd);
    if (plan->saved_time_fd >= 0)
        close(plan->saved_time_fd);
}

void namespace_plan_close(struct namespace_plan *plan)
{
    namespace_plan_close_fds(plan);
    plan_init(plan);
}

static int open_namespace(const char *path, int kind, int *fd, struct berr *err)
{
    int opened = open(path, O_RDONLY | O_CLOEXEC);

    if (opened < 0)
        return berr_errno(err, errno, "open %s namespace %s", spec_namespace_name(kind), path);
    *fd = opened;
    return 0;
}

int namespace_plan_make(const struct spec *spec, struct namespace_plan *plan, struct berr *err)
{
    const struct spec_namespace *namespaces = spec->namespaces;
    bool join_user = namespaces[NS_USER].wanted && namespaces[NS_USER].path;
    int kind, rc;

    plan_init(plan);
    if (!namespaces[NS_MOUNT].wanted)
        return berr_set(err, BERR_INVALID,
                        "linux.namespaces must include a mount namespace: berth-runtime sets "
                        "up the root filesystem in one");
    for (kind = 0; kind < NS_KIND_COUNT; kind++) {
        const struct spec_namespace *namespace = &namespaces[kind];
        int flag = spec_namespace_clone_flag(kind);
        if (!namespace->wanted)
            continue;
        if (namespace->path) {
            int *fd = kind == NS_PID    ? &plan->pid_join_fd
                      : kind == NS_TIME ? &plan->time_join_fd
                                        : &plan->join_fds[kind];
            if ((rc = open_namespace(namespace->path, kind, fd, err)))
                goto fail;
            continue;
        }
        switch (kind) {
        case NS_CGROUP:
            plan->new_cgroup_namespace = true;
            break;
        case NS_TIME:
            plan->new_time_namespace = true;
            break;
        case NS_PID:
            if (join_user)
                plan->new_pid_after_join = true;
            else
                plan->clone_flags |= flag;
            break;
        default:
            /* New namespaces must belong to the joined user namespace, so after joining it. */
            if (join_user)
                plan->unshare_flags |= flag;
            else
                plan->clone_flags |= flag;
        }
    }
    return 0;
fail:
    namespace_plan_close(plan);
    return rc;
}

static int write_offsets(const struct spec *spec, struct berr *err)
{
    char line[128];
    size_t i;
    int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);

    if (fd < 0)
        return berr_errno(err, errno, "open /proc/self/timens_offsets");
    for (i = 0; i < spec->time_offset_count; i++) {
        const struct spec_time_offset *offset = &spec->time_offsets[i];
        int length = snprintf(line, sizeof(line), "%s %lld %u\n", offset->clock,
                              (long long)offset->seconds, offset->nanoseconds);
        if (write(fd, line, (size_t)length) < 0) {
            int rc = berr_errno(err, errno, "write time offset %s", offset->clock);
            close(fd);
            return rc;
        }
    }
    close(fd);
    return 0;
}

int namespace_enter_for_clone(const struct spec *spec, struct namespace_plan *plan,
                              struct berr *err)
{
    (void)spec;
    if (plan->pid_join_fd >= 0) {
        plan->saved_pid_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (plan->saved_pid_fd < 0)
            return berr_errno(err, errno, "open /proc/self/ns/pid");
        if (setns(plan->pid_join_fd, CLONE_NEWPID) < 0)
            return berr_errno(err, errno, "join pid namespace");
    }
    /* A joined time namespace: the kernel only lets a process that shares
     * its memory with no other change time namespace, so the runtime joins
     * it before the clone and stays there (it only affects the monotonic
     * and boot clocks of the runtime and its hooks). */
    if (plan->time_join_fd >= 0 && setns(plan->time_join_fd, CLONE_NEWTIME) < 0)
        return berr_errno(err, errno, "join time namespace");
    return 0;
}

int namespace_leave_after_clone(struct namespace_plan *plan, struct berr *err)
{
    if (plan->saved_pid_fd >= 0 && setns(plan->saved_pid_fd, CLONE_NEWPID) < 0)
        return berr_errno(err, errno, "return to the runtime's pid namespace");
    return 0;
}

static int write_map(pid_t pid, const char *file, const struct spec_id_mapping *mappings,
                     size_t count, struct berr *err)
{
    char path[64], text[4096];
    size_t used = 0, i;
    int fd, rc = 0;

    for (i = 0; i < count; i++) {
        int length = snprintf(text + used, sizeof(text) - used, "%u %u %u\n",
                              mappings[i].container_id, mappings[i].host_id, mappings[i].size);
        if (length < 0 || (size_t)length >= sizeof(text) - used)
            return berr_set(err, BERR_INVALID, "%s: too many id mappings", file);
        used += (size_t)length;
    }
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, errno, "open %s", path);
    if (write(fd, text, used) != (ssize_t)used)
        rc = berr_errno(err, errno, "write %s", path);
    close(fd);
    return rc;
}

int namespace_write_id_maps(pid_t pid, const struct spec *spec, struct berr *err)
{
    int rc = write_map(pid, "uid_map", spec->uid_mappings, spec->uid_mapping_count, err);

    if (rc)
        return rc;
    return write_map(pid, "gid_map", spec->gid_mappings, spec->gid_mapping_count, err);
}

int namespace_join(const struct namespace_plan *plan, const struct spec *spec, struct berr *err)
{
    int rc;

    /* User first: joining the others needs capabilities in their owner. */
    static const int order[] = {NS_USER, NS_NETWORK, NS_IPC, NS_UTS, NS_CGROUP, NS_MOUNT};
    size_t i;

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int kind = order[i];
        if (plan->join_fds[kind] < 0)
            continue;
        if (setns(plan->join_fds[kind], spec_namespace_clone_flag(kind)) < 0)
            return berr_errno(err, errno, "join %s namespace", spec_namespace_name(kind));
    }
    if (plan->unshare_flags && unshare(plan->unshare_flags) < 0)
        return berr_errno(err, errno, "create namespaces");
    if (plan->new_pid_after_join && unshare(CLONE_NEWPID) < 0)
        return berr_errno(err, errno, "create pid namespace");
    /* A new time namespace applies to this process from its exec on; its
     * offsets must be written before any process is in it. */
    if (plan->new_time_namespace) {
        if (unshare(CLONE_NEWTIME) < 0)
            return berr_errno(err, errno, "create time namespace");
        if (spec && spec->time_offset_count && (rc = write_offsets(spec, err)))
            return rc;
    }
    return 0;
}

int namespace_plan_for_process(pid_t pid, struct namespace_plan *plan, struct berr *err)
{
    static const char *const files[NS_KIND_COUNT] = {
        [NS_PID] = "pid", [NS_NETWORK] = "net", [NS_MOUNT] = "mnt",     [NS_IPC] = "ipc",
        [NS_UTS] = "uts", [NS_USER] = "user",   [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
    };
    int kind, rc;

    plan_init(plan);
    for (kind = 0; kind < NS_KIND_COUNT; kind++) {
        char theirs[64], ours[64];
        struct stat their_info, our_info;
        int *fd;
        snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, files[kind]);
        snprintf(ours, sizeof(ours), "/proc/self/ns/%s", files[kind]);
        if (stat(theirs, &their_info) < 0) {
            if (errno == ENOENT && kind == NS_TIME)
                continue; /* kernels without time namespaces */
            rc = berr_errno(err, errno, "stat %s", theirs);
            goto fail;
        }
        if (stat(ours, &our_info) == 0 && our_info.st_ino == their_info.st_ino &&
            our_info.st_dev == their_info.st_dev)
            continue; /* the same as ours: nothing to join */
        fd = kind == NS_PID    ? &plan->pid_join_fd
             : kind == NS_TIME ? &plan->time_join_fd
                               : &plan->join_fds[kind];
        if ((rc = open_namespace(theirs, kind, fd, err)))
            goto fail;
    }
    return 0;
fail:
    namespace_plan_close(plan);
    return rc;
}
