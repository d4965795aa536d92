/*
 * oom: see oom.h.
 */
#include "oom.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "service.h"

static struct watch oom_watch;  /* the eventfd (v1) or the inotify fd (v2) */
static int counter_fd = -1;     /* memory.oom_control (v1) or memory.events (v2) */
static uint64_t oom_kills_seen; /* the counter when last looked at */

/* The "oom_kill N" counter of an open memory.oom_control or memory.events;
 * false when the cgroup is gone. */
static bool read_oom_kills(uint64_t *count)
{
    char text[1024], *found;
    ssize_t got = pread(counter_fd, text, sizeof(text) - 1, 0);

    if (got <= 0)
        return false;
    text[got] = '\0';
    found = strstr(text, "oom_kill ");
    if (!found)
        return false;
    *count = strtoull(found + strlen("oom_kill "), NULL, 10);
    return true;
}

void oom_check(void)
{
    uint64_t count;

    if (counter_fd < 0 || !read_oom_kills(&count) || count <= oom_kills_seen)
        return;
    oom_kills_seen = count;
    log_info("the container hit its memory limit (oom_kill %" PRIu64 ")", count);
    service_oom();
}

static void on_oom(struct watch *watch, uint32_t events)
{
    char drain[4096];

    (void)events;
    /* The eventfd's counter or the inotify events: what counts is the file. */
    while (read(watch->fd, drain, sizeof(drain)) > 0)
        ;
    oom_check();
}

/* Scratch space for finding the cgroup: on the heap, because stack pages
 * stay resident for the shim's life and these are needed once. */
struct cgroup_search {
    char relative[PATH_MAX], unified[PATH_MAX], root[PATH_MAX], mount_point[PATH_MAX];
    char directory[PATH_MAX], path[PATH_MAX + 32];
};

/* Finds the directory of pid's memory cgroup (search->directory): *v2 when
 * it is the unified hierarchy (no v1 memory controller). */
static int find_memory_cgroup(pid_t pid, struct cgroup_search *search, bool *v2, struct berr *err)
{
    char *line = NULL, type[32], options[512];
    size_t capacity = 0;
    bool found_v1 = false;
    FILE *file;
    int rc = 0;

    snprintf(search->path, sizeof(search->path), "/proc/%d/cgroup", (int)pid);
    file = fopen(search->path, "re");
    if (!file)
        return berr_errno(err, errno, "open %s", search->path);
    search->relative[0] = search->unified[0] = '\0';
    while (getline(&line, &capacity, file) > 0) {
        char *controllers = strchr(line, ':'), *cgroup_path, *item, *save = NULL;
        if (!controllers || !(cgroup_path = strchr(controllers + 1, ':')))
            continue;
        *cgroup_path++ = '\0';
        cgroup_path[strcspn(cgroup_path, "\n")] = '\0';
        controllers++;
        if (!*controllers) {
            snprintf(search->unified, sizeof(search->unified), "%s", cgroup_path);
            continue;
        }
        for (item = strtok_r(controllers, ",", &save); item; item = strtok_r(NULL, ",", &save))
            if (!strcmp(item, "memory")) {
                snprintf(search->relative, sizeof(search->relative), "%s", cgroup_path);
                found_v1 = true;
            }
    }
    fclose(file);
    if (!found_v1 && !search->unified[0]) {
        free(line);
        return berr_set(err, BERR_UNSUPPORTED, "no memory cgroup");
    }
    *v2 = !found_v1;
    if (!found_v1)
        memcpy(search->relative, search->unified, sizeof(search->relative));

    /* Where that hierarchy is mounted: /proc/self/mountinfo's
     * "ID PARENT DEV ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE SUPEROPTIONS". */
    file = fopen("/proc/self/mountinfo", "re");
    if (!file) {
        free(line);
        return berr_errno(err, errno, "open /proc/self/mountinfo");
    }
    rc = berr_set(err, BERR_UNSUPPORTED, "the memory cgroup is not mounted");
    while (getline(&line, &capacity, file) > 0) {
        const char *separator = strstr(line, " - ");
        size_t root_length;
        if (!separator ||
            sscanf(line, "%*s %*s %*s %4095s %4095s", search->root, search->mount_point) != 2 ||
            sscanf(separator + 3, "%31s %*s %511s", type, options) != 2)
            continue;
        if (*v2 ? strcmp(type, "cgroup2") != 0
                : (strcmp(type, "cgroup") != 0 || !strstr(options, "memory")))
            continue;
        root_length = strcmp(search->root, "/") ? strlen(search->root) : 0;
        if (root_length && strncmp(search->relative, search->root, root_length) != 0)
            continue;
        snprintf(search->directory, sizeof(search->directory), "%s%s", search->mount_point,
                 search->relative + root_length);
        berr_clear(err);
        rc = 0;
        break;
    }
    fclose(file);
    free(line);
    return rc;
}

static int watch_cgroup(pid_t pid, struct cgroup_search *search, struct berr *err)
{
    char registration[64];
    bool v2 = false;
    int fd = -1, control, rc;

    if (find_memory_cgroup(pid, search, &v2, err)) {
        log_info("not watching for OOM: %s", err->message);
        berr_clear(err);
        return 0;
    }
    snprintf(search->path, sizeof(search->path), "%s/%s", search->directory,
             v2 ? "memory.events" : "memory.oom_control");
    counter_fd = open(search->path, O_RDONLY | O_CLOEXEC);
    if (counter_fd < 0) {
        rc = berr_errno(err, errno, "open %s", search->path);
        goto fail;
    }
    if (v2) {
        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0 || inotify_add_watch(fd, search->path, IN_MODIFY) < 0) {
            rc = berr_errno(err, errno, "inotify on %s", search->path);
            goto fail;
        }
    } else {
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) {
            rc = berr_errno(err, errno, "eventfd");
            goto fail;
        }
        snprintf(search->path, sizeof(search->path), "%s/cgroup.event_control", search->directory);
        snprintf(registration, sizeof(registration), "%d %d", fd, counter_fd);
        control = open(search->path, O_WRONLY | O_CLOEXEC);
        if (control < 0 || write(control, registration, strlen(registration)) < 0) {
            rc = berr_errno(err, errno, "register with %s", search->path);
            if (control >= 0)
                close(control);
            goto fail;
        }
        close(control);
    }
    if (!read_oom_kills(&oom_kills_seen))
        oom_kills_seen = 0;
    watch_init(&oom_watch);
    if ((rc = loop_add(&oom_watch, fd, EPOLLIN, on_oom, err)))
        goto fail;
    log_debug("watching %s for OOM kills", search->directory);
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    if (counter_fd >= 0)
        close(counter_fd);
    counter_fd = -1;
    return rc;
}

int oom_watch_start(pid_t pid, struct berr *err)
{
    struct cgroup_search *search = malloc(sizeof(*search));
    int rc;

    oom_watch_stop();
    if (!search)
        return berr_set(err, BERR_NOMEM, "out of memory");
    rc = watch_cgroup(pid, search, err);
    free(search);
    malloc_trim(0);
    return rc;
}

void oom_watch_stop(void)
{
    loop_close(&oom_watch);
    if (counter_fd >= 0)
        close(counter_fd);
    counter_fd = -1;
}
