/*
 * cgroup: the container's cgroup directories and processes. See cgroup.h.
 *
 * Hierarchies are found from /proc/self/cgroup (which v1 hierarchies exist,
 * and where the runtime itself sits in each), with each one expected at
 * /sys/fs/cgroup/<controllers> as every distribution mounts them; the v2
 * tree is /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid).
 *
 * Moving a process into a v1 cgroup waits for an RCU grace period the first
 * time (the kernel's cgroup_threadgroup_rwsem), which costs milliseconds.
 * So the write is split out (cgroup_open_procs + cgroup_attach_fds) for the
 * runtime to do it while the container process sets up its mounts.
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cgroup_resources.h"
#include "cgroup_v1.h"
#include "cgroup_v2.h"
#include "raw_syscall.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

const char *cgroup_layout_name(enum cgroup_layout layout)
{
    switch (layout) {
    case CGROUP_LAYOUT_V1:
        return "v1";
    case CGROUP_LAYOUT_HYBRID:
        return "hybrid";
    default:
        return "v2";
    }
}

static bool is_cgroup2(const char *path)
{
    struct statfs info;

    return statfs(path, &info) == 0 && info.f_type == CGROUP2_SUPER_MAGIC;
}

/* Joins parent and child into a normalised absolute path. */
static char *join(struct arena *arena, const char *base, const char *relative)
{
    size_t base_length = strlen(base);

    while (base_length > 1 && base[base_length - 1] == '/')
        base_length--;
    while (*relative == '/')
        relative++;
    if (!*relative)
        return arena_strndup(arena, base, base_length);
    return arena_printf(arena, "%.*s/%s", (int)base_length, base, relative);
}

/* Refuses cgroupsPath components that would climb out of the hierarchy. */
static int check_cgroups_path(const char *path, struct berr *err)
{
    const char *component = path;

    while (*component) {
        const char *end = strchrnul(component, '/');
        size_t length = (size_t)(end - component);
        if (length == 2 && component[0] == '.' && component[1] == '.')
            return berr_set(err, BERR_INVALID, "linux.cgroupsPath %s: \"..\" is not allowed", path);
        component = *end ? end + 1 : end;
    }
    return 0;
}

/* The v1 hierarchy's mount point for a /proc/self/cgroup controller list. */
static char *v1_mount_point(struct arena *arena, const char *controllers)
{
    const char *name = controllers;

    if (strncmp(name, "name=", 5) == 0)
        name += 5;
    return arena_printf(arena, CGROUP_ROOT "/%s", name);
}

int cgroup_resolve(struct arena *arena, const char *cgroups_path, const char *container_id,
                   struct cgroup *out, struct berr *err)
{
    char line[1024];
    FILE *file;
    bool has_v1 = false, has_v2 = false;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!cgroups_path)
        cgroups_path = container_id;
    if ((rc = check_cgroups_path(cgroups_path, err)))
        return rc;
    if (strncmp(cgroups_path, "system.slice:", 13) == 0 || strchr(cgroups_path, ':'))
        return berr_set(err, BERR_UNSUPPORTED,
                        "linux.cgroupsPath %s: systemd cgroup paths (slice:prefix:name) are not "
                        "supported; berth-runtime manages cgroupfs directly",
                        cgroups_path);

    file = fopen("/proc/self/cgroup", "re");
    if (!file)
        return berr_errno(err, errno, "open /proc/self/cgroup");
    while (fgets(line, sizeof(line), file)) {
        char *first = strchr(line, ':'), *second, *own, *newline;
        struct cgroup_hierarchy *hierarchy;
        const char *mount_point;
        if (!first || !(second = strchr(first + 1, ':')))
            continue;
        *second = '\0';
        own = second + 1;
        if ((newline = strchr(own, '\n')))
            *newline = '\0';
        if (out->count == CGROUP_MAX_HIERARCHIES)
            break;
        hierarchy = &out->hierarchies[out->count];
        if (first[1] == '\0') {
            /* "0::/path": the v2 hierarchy. */
            mount_point = is_cgroup2(CGROUP_ROOT) ? CGROUP_ROOT : CGROUP_ROOT "/unified";
            if (!is_cgroup2(mount_point))
                continue;
            hierarchy->is_v2 = true;
            hierarchy->controllers = "";
            has_v2 = true;
        } else {
            hierarchy->controllers = arena_strdup(arena, first + 1);
            mount_point = v1_mount_point(arena, first + 1);
            if (!mount_point || access(mount_point, F_OK) != 0)
                continue;
            has_v1 = true;
        }
        hierarchy->path = cgroups_path[0] == '/'
                              ? join(arena, mount_point, cgroups_path)
                              : join(arena, join(arena, mount_point, own), cgroups_path);
        if (!hierarchy->path || !hierarchy->controllers) {
            fclose(file);
            return berr_set(err, BERR_NOMEM, "cgroup paths: out of memory");
        }
        out->count++;
    }
    fclose(file);
    if (!has_v1 && !has_v2)
        return berr_set(err, BERR_UNSUPPORTED, "no cgroup hierarchy is mounted under " CGROUP_ROOT);
    out->layout = !has_v1 ? CGROUP_LAYOUT_V2 : has_v2 ? CGROUP_LAYOUT_HYBRID : CGROUP_LAYOUT_V1;
    return 0;
}

static bool has_controller(const char *controllers, const char *wanted)
{
    size_t length = strlen(wanted);
    const char *cursor = controllers;

    while ((cursor = strstr(cursor, wanted))) {
        bool starts = cursor == controllers || cursor[-1] == ',';
        bool ends = cursor[length] == '\0' || cursor[length] == ',';
        if (starts && ends)
            return true;
        cursor += length;
    }
    return false;
}

const struct cgroup_hierarchy *cgroup_find(const struct cgroup *cgroup, const char *controller)
{
    size_t i;

    for (i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *hierarchy = &cgroup->hierarchies[i];
        if (hierarchy->is_v2 ? cgroup->layout == CGROUP_LAYOUT_V2
                             : has_controller(hierarchy->controllers, controller))
            return hierarchy;
    }
    return NULL;
}

/* ---- creating ---- */

static int read_small_file(const char *path, char *buffer, size_t size)
{
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    got = read(fd, buffer, size - 1);
    close(fd);
    if (got < 0)
        return -1;
    buffer[got] = '\0';
    while (got > 0 && (buffer[got - 1] == '\n' || buffer[got - 1] == ' '))
        buffer[--got] = '\0';
    return 0;
}

static int write_small_file(const char *path, const char *value, struct berr *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    if (fd < 0)
        return berr_errno(err, errno, "open %s", path);
    if (write(fd, value, strlen(value)) < 0) {
        int rc = berr_errno(err, errno, "write %s to %s", value, path);
        close(fd);
        return rc;
    }
    close(fd);
    return 0;
}

/* A new v1 cpuset cgroup starts with empty cpus and mems, and a process
 * cannot join it until they are set: copy them from the parent. */
static int initialise_cpuset(const char *directory, struct berr *err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    char path[PATH_MAX], value[4096], parent[PATH_MAX];
    size_t i;
    int rc;

    snprintf(parent, sizeof(parent), "%s", directory);
    *strrchr(parent, '/') = '\0';
    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", directory, files[i]);
        if (read_small_file(path, value, sizeof(value)) == 0 && value[0])
            continue;
        snprintf(path, sizeof(path), "%s/%s", parent, files[i]);
        if (read_small_file(path, value, sizeof(value)) != 0)
            return berr_errno(err, errno, "read %s", path);
        snprintf(path, sizeof(path), "%s/%s", directory, files[i]);
        if ((rc = write_small_file(path, value, err)))
            return rc;
    }
    return 0;
}

/* mkdir -p, initialising each new cpuset level. */
static int make_directories(const char *path, bool cpuset, struct berr *err)
{
    char partial[PATH_MAX];
    size_t length = strlen(path), i;
    int rc;

    if (length >= sizeof(partial))
        return berr_set(err, BERR_INVALID, "cgroup path too long: %s", path);
    memcpy(partial, path, length + 1);
    for (i = strlen(CGROUP_ROOT) + 1; i <= length; i++) {
        if (partial[i] != '/' && partial[i] != '\0')
            continue;
        partial[i] = '\0';
        if (mkdir(partial, 0755) == 0) {
            if (cpuset && (rc = initialise_cpuset(partial, err)))
                return rc;
        } else if (errno != EEXIST) {
            return berr_errno(err, errno, "mkdir %s", partial);
        }
        partial[i] = path[i];
    }
    if (cpuset)
        return initialise_cpuset(path, err);
    return 0;
}

/* The v2 directory of a cgroup and its hierarchy's mount point. */
static const struct cgroup_hierarchy *v2_hierarchy(const struct cgroup *cgroup)
{
    size_t i;

    for (i = 0; i < cgroup->count; i++)
        if (cgroup->hierarchies[i].is_v2)
            return &cgroup->hierarchies[i];
    return NULL;
}

static bool v2_root_offers(const char *controller)
{
    char value[512], *word, *save = NULL;

    if (read_small_file(CGROUP_ROOT "/unified/cgroup.controllers", value, sizeof(value)) != 0)
        return false;
    for (word = strtok_r(value, " \n", &save); word; word = strtok_r(NULL, " \n", &save))
        if (strcmp(word, controller) == 0)
            return true;
    return false;
}

/* In the hybrid layout hugetlb may live in the v2 tree only (as on hosts
 * where systemd leaves it there): hugepage limits then go to the v2
 * directory. Returns true when that is the case. */
static bool hugetlb_on_v2(const struct cgroup *cgroup, const struct cgroup_resources *resources)
{
    return cgroup->layout == CGROUP_LAYOUT_HYBRID && resources->hugepage_limit_count &&
           !cgroup_find(cgroup, "hugetlb") && v2_hierarchy(cgroup) && v2_root_offers("hugetlb");
}

/* The resources without what hugetlb_on_v2 routes to the v2 tree. */
static void without_hugepages(const struct cgroup_resources *resources,
                              struct cgroup_resources *out)
{
    *out = *resources;
    out->hugepage_limits = NULL;
    out->hugepage_limit_count = 0;
}

/* Only the hugepage limits. */
static void only_hugepages(const struct cgroup_resources *resources, struct cgroup_resources *out)
{
    memset(out, 0, sizeof(*out));
    out->hugepage_limits = resources->hugepage_limits;
    out->hugepage_limit_count = resources->hugepage_limit_count;
}

static int apply_hybrid_hugepages(const struct cgroup *cgroup,
                                  const struct cgroup_resources *resources, bool enable,
                                  struct berr *err)
{
    const struct cgroup_hierarchy *v2 = v2_hierarchy(cgroup);
    struct cgroup_resources hugepages;
    int rc;

    only_hugepages(resources, &hugepages);
    if (enable &&
        (rc = cgroup_v2_enable_controllers_from(CGROUP_ROOT "/unified", v2->path, &hugepages, err)))
        return rc;
    return cgroup_v2_apply(v2->path, &hugepages, err);
}

static int apply_resources(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                           struct berr *err)
{
    struct cgroup_resources v1_part;
    bool hugepages_on_v2 = hugetlb_on_v2(cgroup, resources);
    size_t i;
    int rc;

    if (hugepages_on_v2)
        without_hugepages(resources, &v1_part);
    for (i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *hierarchy = &cgroup->hierarchies[i];
        if (hierarchy->is_v2) {
            /* In the hybrid layout the v2 tree only tracks (and may hold hugetlb). */
            if (cgroup->layout != CGROUP_LAYOUT_V2)
                continue;
            rc = cgroup_v2_apply(hierarchy->path, resources, err);
        } else {
            rc = cgroup_v1_apply(hierarchy, hugepages_on_v2 ? &v1_part : resources, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int check_resources(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                           struct berr *err)
{
    struct cgroup_resources v1_part;

    if (cgroup->layout != CGROUP_LAYOUT_V2) {
        if (resources->unified_count)
            return berr_set(err, BERR_UNSUPPORTED,
                            "linux.resources.unified needs cgroup v2, and this host's "
                            "controllers are on v1");
        if (hugetlb_on_v2(cgroup, resources)) {
            without_hugepages(resources, &v1_part);
            return cgroup_v1_check(cgroup, &v1_part, err);
        }
        return cgroup_v1_check(cgroup, resources, err);
    }
    return 0;
}

int cgroup_create(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                  struct berr *err)
{
    size_t i;
    int rc;

    if ((rc = check_resources(cgroup, resources, err)))
        return rc;
    for (i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *hierarchy = &cgroup->hierarchies[i];
        bool cpuset = !hierarchy->is_v2 && has_controller(hierarchy->controllers, "cpuset");
        if (hierarchy->is_v2 && cgroup->layout == CGROUP_LAYOUT_V2 &&
            (rc = cgroup_v2_enable_controllers(hierarchy->path, resources, err)))
            goto fail;
        if ((rc = make_directories(hierarchy->path, cpuset, err)))
            goto fail;
    }
    if ((rc = apply_resources(cgroup, resources, err)))
        goto fail;
    if (hugetlb_on_v2(cgroup, resources) &&
        (rc = apply_hybrid_hugepages(cgroup, resources, true, err)))
        goto fail;
    return 0;
fail:
    cgroup_destroy(cgroup, 0, NULL);
    return rc;
}

int cgroup_update(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                  struct berr *err)
{
    int rc = check_resources(cgroup, resources, err);

    if (rc || (rc = apply_resources(cgroup, resources, err)))
        return rc;
    if (hugetlb_on_v2(cgroup, resources))
        return apply_hybrid_hugepages(cgroup, resources, true, err);
    return 0;
}

/* ---- processes ---- */

int cgroup_open_procs(const struct cgroup *cgroup, int *fds, struct berr *err)
{
    char path[PATH_MAX];
    size_t i;

    for (i = 0; i < cgroup->count; i++) {
        snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup->hierarchies[i].path);
        fds[i] = open(path, O_WRONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            int rc = berr_errno(err, errno, "open %s", path);
            cgroup_close_fds(fds, i);
            return rc;
        }
    }
    return 0;
}

int cgroup_attach_fds(const int *fds, size_t count, pid_t pid, size_t *failed)
{
    char text[16];
    int length = 0;
    unsigned value = (unsigned)pid;
    char digits[16];
    size_t i;

    /* Formatting by hand: no libc call that could touch shared state. */
    do {
        digits[length++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (i = 0; i < (size_t)length; i++)
        text[i] = digits[length - 1 - i];
    for (i = 0; i < count; i++) {
        long rc = raw_write(fds[i], text, (unsigned long)length);
        if (rc < 0) {
            *failed = i;
            return (int)rc;
        }
    }
    return 0;
}

void cgroup_close_fds(int *fds, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int cgroup_attach(const struct cgroup *cgroup, pid_t pid, struct berr *err)
{
    int fds[CGROUP_MAX_HIERARCHIES];
    size_t failed = 0;
    int rc = cgroup_open_procs(cgroup, fds, err);

    if (rc)
        return rc;
    rc = cgroup_attach_fds(fds, cgroup->count, pid, &failed);
    cgroup_close_fds(fds, cgroup->count);
    if (rc < 0)
        return berr_errno(err, -rc, "move process %d into %s", (int)pid,
                          cgroup->hierarchies[failed].path);
    return 0;
}

static void sleep_milliseconds(long milliseconds)
{
    struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};

    nanosleep(&delay, NULL);
}

/* Removes directory and any child cgroups (children first). */
static int remove_tree(const char *directory)
{
    DIR *listing = opendir(directory);
    struct dirent *entry;
    char child[PATH_MAX];

    if (!listing)
        return errno == ENOENT ? 0 : -1;
    while ((entry = readdir(listing))) {
        if (entry->d_type != DT_DIR || entry->d_name[0] == '.')
            continue;
        snprintf(child, sizeof(child), "%s/%s", directory, entry->d_name);
        remove_tree(child);
    }
    closedir(listing);
    if (rmdir(directory) == 0 || errno == ENOENT)
        return 0;
    return -1;
}

int cgroup_destroy(const struct cgroup *cgroup, int timeout_ms, struct berr *err)
{
    int waited = 0, delay = 1;
    size_t i;

    for (;;) {
        int busy_errno = 0;
        const char *busy_path = NULL;
        for (i = 0; i < cgroup->count; i++) {
            if (remove_tree(cgroup->hierarchies[i].path) != 0) {
                busy_errno = errno;
                busy_path = cgroup->hierarchies[i].path;
            }
        }
        if (!busy_path)
            return 0;
        /* EBUSY: processes are still exiting; give them a moment. */
        if (busy_errno != EBUSY || waited >= timeout_ms)
            return berr_errno(err, busy_errno, "remove cgroup %s", busy_path);
        sleep_milliseconds(delay);
        waited += delay;
        if (delay < 20)
            delay *= 2;
    }
}

/* ---- freezer ---- */

static int freezer_file(const struct cgroup *cgroup, char *path, size_t size, bool *v2,
                        struct berr *err)
{
    const struct cgroup_hierarchy *hierarchy = cgroup_find(cgroup, "freezer");

    if (!hierarchy)
        return berr_set(err, BERR_UNSUPPORTED, "the freezer cgroup controller is not available");
    *v2 = hierarchy->is_v2;
    snprintf(path, size, "%s/%s", hierarchy->path, *v2 ? "cgroup.freeze" : "freezer.state");
    return 0;
}

int cgroup_is_frozen(const struct cgroup *cgroup, bool *frozen, struct berr *err)
{
    char path[PATH_MAX], value[64];
    bool v2;
    int rc = freezer_file(cgroup, path, sizeof(path), &v2, err);

    if (rc)
        return rc;
    if (read_small_file(path, value, sizeof(value)) != 0)
        return berr_errno(err, errno, "read %s", path);
    *frozen = v2 ? strcmp(value, "1") == 0 : strcmp(value, "THAWED") != 0;
    return 0;
}

int cgroup_freeze(const struct cgroup *cgroup, bool frozen, struct berr *err)
{
    char path[PATH_MAX], value[256], events[PATH_MAX];
    bool v2;
    int rc = freezer_file(cgroup, path, sizeof(path), &v2, err), attempt;

    if (rc)
        return rc;
    if ((rc = write_small_file(path, v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED"),
                               err)))
        return rc;
    /* Freezing is asynchronous: wait until every task has stopped. */
    snprintf(events, sizeof(events), "%.*s/cgroup.events", (int)(strrchr(path, '/') - path), path);
    for (attempt = 0; attempt < 2000; attempt++) {
        if (v2) {
            char *line;
            if (read_small_file(events, value, sizeof(value)) != 0)
                return berr_errno(err, errno, "read %s", events);
            line = strstr(value, "frozen ");
            if (!frozen || (line && line[7] == '1'))
                return 0;
        } else {
            if (read_small_file(path, value, sizeof(value)) != 0)
                return berr_errno(err, errno, "read %s", path);
            if (strcmp(value, frozen ? "FROZEN" : "THAWED") == 0)
                return 0;
            /* A task stuck in FREEZING: nudge it as runc does, by writing again. */
            if (frozen && attempt % 50 == 49 && (rc = write_small_file(path, "FROZEN", err)))
                return rc;
        }
        sleep_milliseconds(1);
    }
    return berr_set(err, BERR_TIMEOUT, "%s: the cgroup did not %s within 2 s", path,
                    frozen ? "freeze" : "thaw");
}

/* ---- listing and signalling ---- */

static int collect_pids(const char *directory, pid_t **pids, size_t *count, size_t *capacity)
{
    char path[PATH_MAX], line[32];
    FILE *file;
    DIR *listing;
    struct dirent *entry;

    snprintf(path, sizeof(path), "%s/cgroup.procs", directory);
    file = fopen(path, "re");
    if (!file)
        return errno == ENOENT ? 0 : -1;
    while (fgets(line, sizeof(line), file)) {
        if (*count == *capacity) {
            size_t grown = *capacity ? *capacity * 2 : 64;
            pid_t *bigger = realloc(*pids, grown * sizeof(pid_t));
            if (!bigger) {
                fclose(file);
                errno = ENOMEM;
                return -1;
            }
            *pids = bigger;
            *capacity = grown;
        }
        (*pids)[(*count)++] = (pid_t)atoi(line);
    }
    fclose(file);
    listing = opendir(directory);
    if (!listing)
        return 0;
    while ((entry = readdir(listing))) {
        if (entry->d_type != DT_DIR || entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", directory, entry->d_name);
        if (collect_pids(path, pids, count, capacity) < 0) {
            closedir(listing);
            return -1;
        }
    }
    closedir(listing);
    return 0;
}

/* The hierarchy to list processes from: v2, else one every v1 host has. */
static const struct cgroup_hierarchy *process_hierarchy(const struct cgroup *cgroup)
{
    static const char *const preferred[] = {"pids", "freezer", "memory", "cpu", "devices"};
    const struct cgroup_hierarchy *hierarchy;
    size_t i;

    for (i = 0; i < cgroup->count; i++)
        if (cgroup->hierarchies[i].is_v2 && cgroup->layout == CGROUP_LAYOUT_V2)
            return &cgroup->hierarchies[i];
    for (i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
        if ((hierarchy = cgroup_find(cgroup, preferred[i])))
            return hierarchy;
    return cgroup->count ? &cgroup->hierarchies[0] : NULL;
}

int cgroup_pids(const struct cgroup *cgroup, pid_t **pids, size_t *count, struct berr *err)
{
    const struct cgroup_hierarchy *hierarchy = process_hierarchy(cgroup);
    size_t capacity = 0;

    *pids = NULL;
    *count = 0;
    if (!hierarchy)
        return 0;
    if (collect_pids(hierarchy->path, pids, count, &capacity) < 0) {
        int rc = berr_errno(err, errno, "list processes of %s", hierarchy->path);
        free(*pids);
        *pids = NULL;
        *count = 0;
        return rc;
    }
    return 0;
}

int cgroup_signal_all(const struct cgroup *cgroup, int signal, struct berr *err)
{
    pid_t *pids = NULL;
    size_t count = 0, i;
    bool frozen = cgroup_find(cgroup, "freezer") && cgroup_freeze(cgroup, true, NULL) == 0;
    int rc = cgroup_pids(cgroup, &pids, &count, err);

    if (rc == 0) {
        for (i = 0; i < count; i++)
            if (kill(pids[i], signal) < 0 && errno != ESRCH && rc == 0)
                rc = berr_errno(err, errno, "send signal %d to process %d", signal, (int)pids[i]);
    }
    free(pids);
    if (frozen)
        cgroup_freeze(cgroup, false, NULL);
    return rc;
}

int cgroup_stats(const struct cgroup *cgroup, struct json_writer *writer, struct berr *err)
{
    size_t i;

    for (i = 0; i < cgroup->count; i++)
        if (cgroup->hierarchies[i].is_v2 && cgroup->layout == CGROUP_LAYOUT_V2)
            return cgroup_v2_stats(cgroup->hierarchies[i].path, writer, err);
    return cgroup_v1_stats(cgroup, writer, err);
}

/* ---- state file form ---- */

void cgroup_to_json(const struct cgroup *cgroup, struct json_writer *writer)
{
    size_t i;

    json_object_begin(writer);
    json_kv_string(writer, "layout", cgroup_layout_name(cgroup->layout));
    json_key(writer, "hierarchies");
    json_array_begin(writer);
    for (i = 0; i < cgroup->count; i++) {
        json_object_begin(writer);
        json_kv_string(writer, "controllers", cgroup->hierarchies[i].controllers);
        json_kv_string(writer, "path", cgroup->hierarchies[i].path);
        json_kv_bool(writer, "v2", cgroup->hierarchies[i].is_v2);
        json_object_end(writer);
    }
    json_array_end(writer);
    json_object_end(writer);
}

int cgroup_from_json(struct arena *arena, yajl_val object, struct cgroup *out, struct berr *err)
{
    const char *layout = NULL;
    yajl_val hierarchies = NULL;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = json_get_string(object, "layout", &layout, err)) ||
        (rc = json_get_array(object, "hierarchies", &hierarchies, err)))
        return berr_prefix(err, "cgroup");
    if (!layout || !hierarchies || hierarchies->u.array.len > CGROUP_MAX_HIERARCHIES)
        return berr_set(err, BERR_INVALID, "cgroup: missing or bad layout and hierarchies");
    out->layout = strcmp(layout, "v1") == 0       ? CGROUP_LAYOUT_V1
                  : strcmp(layout, "hybrid") == 0 ? CGROUP_LAYOUT_HYBRID
                                                  : CGROUP_LAYOUT_V2;
    for (i = 0; i < hierarchies->u.array.len; i++) {
        yajl_val item = hierarchies->u.array.values[i];
        const char *controllers = NULL, *path = NULL;
        bool v2 = false;
        if ((rc = json_get_string(item, "controllers", &controllers, err)) ||
            (rc = json_get_string(item, "path", &path, err)) ||
            (rc = json_get_bool(item, "v2", &v2, err)))
            return berr_prefix(err, "cgroup.hierarchies[%zu]", i);
        if (!controllers || !path || strncmp(path, CGROUP_ROOT "/", strlen(CGROUP_ROOT) + 1) != 0)
            return berr_set(err, BERR_INVALID, "cgroup.hierarchies[%zu]: bad entry", i);
        out->hierarchies[i].controllers = arena_strdup(arena, controllers);
        out->hierarchies[i].path = arena_strdup(arena, path);
        out->hierarchies[i].is_v2 = v2;
    }
    out->count = hierarchies->u.array.len;
    return 0;
}
