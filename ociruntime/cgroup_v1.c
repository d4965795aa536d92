/*
 * cgroup_v1: resource files and statistics of cgroup v1 controllers.
 *
 * Why the care about order: several v1 files constrain each other, and the
 * kernel refuses a write that would break the constraint for a moment,
 * even when the next write would restore it:
 *  - memory.memsw.limit_in_bytes (memory + swap) must stay >= the memory
 *    limit: raising both writes memsw first, lowering writes the limit
 *    first.
 *  - cpu.cfs_burst_us must stay <= the quota, and period and quota must
 *    stay within the parent's bandwidth: period and burst go first, and
 *    one refused with EINVAL is retried after the quota.
 *  - cpu.rt_runtime_us must stay <= cpu.rt_period_us: same retry.
 *  - cpu.shares cannot be written while cpu.idle is 1.
 *
 * Kernel memory (memory.kernel): Linux 5.16 made memory.kmem.limit_in_bytes
 * a file that accepts any write and ignores it (later kernels drop it).
 * runc ignores the field silently; berth refuses it with BERR_UNSUPPORTED
 * when the file is missing or reads back unchanged after the write, so a
 * limit is never reported as applied when it is not. memory.kernelTCP
 * still works on current kernels and is written when its file exists.
 *
 * A controller the host does not mount cannot take its resources:
 * cgroup_v1_check refuses them before anything is created.
 */
#include "cgroup_v1.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_file.h"
#include "cgroup_stats.h"

#define TABLE_SIZE(table) (sizeof(table) / sizeof((table)[0]))

/* True when the comma list ("cpu,cpuacct") names controller. */
static bool has_controller(const char *list, const char *controller)
{
    size_t length = strlen(controller);
    const char *item = list;

    while (item && *item) {
        const char *comma = strchr(item, ',');
        size_t item_length = comma ? (size_t)(comma - item) : strlen(item);
        if (item_length == length && strncmp(item, controller, length) == 0)
            return true;
        item = comma ? comma + 1 : NULL;
    }
    return false;
}

static const struct cgroup_hierarchy *find_hierarchy(const struct cgroup *cgroup,
                                                     const char *controller)
{
    size_t i;

    for (i = 0; i < cgroup->count; i++) {
        const struct cgroup_hierarchy *hierarchy = &cgroup->hierarchies[i];
        if (!hierarchy->is_v2 && hierarchy->controllers &&
            has_controller(hierarchy->controllers, controller))
            return hierarchy;
    }
    return NULL;
}

/* Writes name, or remembers it for a second try after a related file
 * (the quota, the realtime runtime) when the kernel says EINVAL. */
struct deferred_write {
    const char *name;
    char value[32];
};

static int write_or_defer(const char *dir, const char *name, const char *value, bool can_defer,
                          struct deferred_write *deferred, size_t *deferred_count, struct berr *err)
{
    struct berr attempt;
    int rc = cgroup_file_write(dir, name, value, &attempt);

    if (!rc)
        return 0;
    if (can_defer && attempt.sys_errno == EINVAL) {
        deferred[*deferred_count].name = name;
        snprintf(deferred[*deferred_count].value, sizeof(deferred[0].value), "%s", value);
        (*deferred_count)++;
        return 0;
    }
    *err = attempt;
    return rc;
}

static int write_deferred(const char *dir, const struct deferred_write *deferred, size_t count,
                          struct berr *err)
{
    size_t i;
    int rc;

    for (i = 0; i < count; i++)
        if ((rc = cgroup_file_write(dir, deferred[i].name, deferred[i].value, err)))
            return rc;
    return 0;
}

/* ---- memory ---- */

static int apply_kernel_memory(const char *dir, const struct cgroup_resources *resources,
                               struct berr *err)
{
    const char *file = "memory.kmem.limit_in_bytes";
    int64_t wanted = resources->memory_kernel.value;
    uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE), now;
    int rc;

    if (resources->memory_kernel.set) {
        if (!cgroup_file_exists(dir, file))
            return berr_set(err, BERR_UNSUPPORTED,
                            "%s: this kernel has no kernel memory limit (memory.kernel)", file);
        if ((rc = cgroup_file_write_i64(dir, file, wanted, err)) ||
            (rc = cgroup_file_read_u64(dir, file, &now, err)))
            return rc;
        /* The kernel rounds down to pages; anything else means it ignored us. */
        if (wanted > 0 && now != (uint64_t)wanted / page_size * page_size)
            return berr_set(err, BERR_UNSUPPORTED,
                            "%s: this kernel ignores kernel memory limits (wrote %" PRId64
                            ", reads %" PRIu64 "); remove memory.kernel",
                            file, wanted, now);
    }
    if (resources->memory_kernel_tcp.set)
        return cgroup_file_write_i64(dir, "memory.kmem.tcp.limit_in_bytes",
                                     resources->memory_kernel_tcp.value, err);
    return 0;
}

/* checkBeforeUpdate: refuse a limit below what the cgroup already uses,
 * instead of letting the kernel reclaim or OOM-kill to get there. */
static int check_usage(const char *dir, const char *usage_file, const char *field, int64_t limit,
                       struct berr *err)
{
    uint64_t usage;
    int rc;

    if (limit <= 0)
        return 0;
    if ((rc = cgroup_file_read_u64(dir, usage_file, &usage, err)))
        return rc;
    if ((uint64_t)limit < usage)
        return berr_set(err, BERR_CONFLICT,
                        "memory.%s %" PRId64 " is below the current usage %" PRIu64
                        " (checkBeforeUpdate)",
                        field, limit, usage);
    return 0;
}

static int write_memory_limit(const char *dir, int64_t limit, struct berr *err)
{
    uint64_t usage = 0, peak = 0;
    int rc = cgroup_file_write_i64(dir, "memory.limit_in_bytes", limit, err);

    if (rc && err->sys_errno == EBUSY) {
        cgroup_file_read_u64(dir, "memory.usage_in_bytes", &usage, NULL);
        cgroup_file_read_u64(dir, "memory.max_usage_in_bytes", &peak, NULL);
        return berr_set(err, BERR_CONFLICT,
                        "memory.limit_in_bytes: write %" PRId64
                        ": below what the cgroup uses (usage %" PRIu64 ", peak %" PRIu64 ")",
                        limit, usage, peak);
    }
    return rc;
}

static int apply_memory_and_swap(const char *dir, const struct cgroup_resources *resources,
                                 struct berr *err)
{
    const char *memsw = "memory.memsw.limit_in_bytes";
    struct opt_i64 limit = resources->memory_limit, swap = resources->memory_swap;
    uint64_t current_limit;
    int rc = 0;

    /* Unlimited memory with swap left alone would fail (memsw < limit):
     * lift memory + swap too, when the kernel accounts swap. */
    if (limit.set && limit.value == -1 && !swap.set && cgroup_file_exists(dir, memsw)) {
        swap.set = true;
        swap.value = -1;
    }
    if (resources->check_before_update &&
        ((limit.set &&
          (rc = check_usage(dir, "memory.usage_in_bytes", "limit", limit.value, err))) ||
         (swap.set &&
          (rc = check_usage(dir, "memory.memsw.usage_in_bytes", "swap", swap.value, err)))))
        return rc;
    if (limit.set && swap.set) {
        if ((rc = cgroup_file_read_u64(dir, "memory.limit_in_bytes", &current_limit, err)))
            return rc;
        if (swap.value == -1 || (uint64_t)swap.value >= current_limit) {
            if ((rc = cgroup_file_write_i64(dir, memsw, swap.value, err)))
                return rc;
            return write_memory_limit(dir, limit.value, err);
        }
    }
    if (limit.set && (rc = write_memory_limit(dir, limit.value, err)))
        return rc;
    if (swap.set)
        return cgroup_file_write_i64(dir, memsw, swap.value, err);
    return 0;
}

static int apply_memory(const char *dir, const struct cgroup_resources *resources, struct berr *err)
{
    int rc;

    /* Kernel memory first: it is the write most likely to be refused. */
    if ((rc = apply_kernel_memory(dir, resources, err)) ||
        (rc = apply_memory_and_swap(dir, resources, err)))
        return rc;
    if (resources->memory_reservation.set &&
        (rc = cgroup_file_write_i64(dir, "memory.soft_limit_in_bytes",
                                    resources->memory_reservation.value, err)))
        return rc;
    if (resources->memory_swappiness.set &&
        (rc = cgroup_file_write_u64(dir, "memory.swappiness", resources->memory_swappiness.value,
                                    err)))
        return rc;
    if (resources->has_disable_oom_killer &&
        (rc = cgroup_file_write(dir, "memory.oom_control",
                                resources->disable_oom_killer ? "1" : "0", err)))
        return rc;
    if (resources->has_use_hierarchy) {
        rc = cgroup_file_write(dir, "memory.use_hierarchy", resources->use_hierarchy ? "1" : "0",
                               err);
        if (rc && !resources->use_hierarchy && err->sys_errno == EINVAL)
            return berr_set(err, BERR_UNSUPPORTED,
                            "memory.use_hierarchy: write 0: this kernel only accounts "
                            "hierarchically (useHierarchy must be true)");
        return rc;
    }
    return 0;
}

/* ---- cpu ---- */

static int apply_cfs_bandwidth(const char *dir, const struct cgroup_resources *resources,
                               struct berr *err)
{
    struct deferred_write deferred[2];
    size_t deferred_count = 0;
    bool has_quota = resources->cpu_quota.set;
    char value[32];
    int rc;

    if (resources->cpu_period.set) {
        snprintf(value, sizeof(value), "%" PRIu64, resources->cpu_period.value);
        if ((rc = write_or_defer(dir, "cpu.cfs_period_us", value, has_quota, deferred,
                                 &deferred_count, err)))
            return rc;
    }
    if (resources->cpu_burst.set) {
        snprintf(value, sizeof(value), "%" PRIu64, resources->cpu_burst.value);
        if ((rc = write_or_defer(dir, "cpu.cfs_burst_us", value, has_quota, deferred,
                                 &deferred_count, err)))
            return rc;
    }
    if (!has_quota)
        return 0;
    if ((rc = cgroup_file_write_i64(dir, "cpu.cfs_quota_us", resources->cpu_quota.value, err)))
        return rc;
    return write_deferred(dir, deferred, deferred_count, err);
}

static int apply_realtime(const char *dir, const struct cgroup_resources *resources,
                          struct berr *err)
{
    struct deferred_write deferred[1];
    size_t deferred_count = 0;
    bool has_runtime = resources->cpu_realtime_runtime.set;
    char value[32];
    int rc;

    if (resources->cpu_realtime_period.set) {
        snprintf(value, sizeof(value), "%" PRIu64, resources->cpu_realtime_period.value);
        if ((rc = write_or_defer(dir, "cpu.rt_period_us", value, has_runtime, deferred,
                                 &deferred_count, err)))
            return rc;
    }
    if (!has_runtime)
        return 0;
    if ((rc = cgroup_file_write_i64(dir, "cpu.rt_runtime_us", resources->cpu_realtime_runtime.value,
                                    err)))
        return rc;
    return write_deferred(dir, deferred, deferred_count, err);
}

static int apply_cpu(const char *dir, const struct cgroup_resources *resources, struct berr *err)
{
    bool idle_first = resources->cpu_idle.set && resources->cpu_idle.value == 0;
    int rc;

    /* cpu.shares is refused while cpu.idle is 1: leave idle first, enter it last. */
    if (idle_first && (rc = cgroup_file_write(dir, "cpu.idle", "0", err)))
        return rc;
    if (resources->cpu_shares.set &&
        (rc = cgroup_file_write_u64(dir, "cpu.shares", resources->cpu_shares.value, err)))
        return rc;
    if ((rc = apply_cfs_bandwidth(dir, resources, err)))
        return rc;
    if (resources->cpu_idle.set && !idle_first &&
        (rc = cgroup_file_write_i64(dir, "cpu.idle", resources->cpu_idle.value, err)))
        return rc;
    return apply_realtime(dir, resources, err);
}

static int apply_cpuset(const char *dir, const struct cgroup_resources *resources, struct berr *err)
{
    int rc;

    if (resources->cpuset_cpus &&
        (rc = cgroup_file_write(dir, "cpuset.cpus", resources->cpuset_cpus, err)))
        return rc;
    if (resources->cpuset_mems)
        return cgroup_file_write(dir, "cpuset.mems", resources->cpuset_mems, err);
    return 0;
}

static int apply_pids(const char *dir, const struct cgroup_resources *resources, struct berr *err)
{
    if (!resources->pids_limit.set)
        return 0;
    if (resources->pids_limit.value <= 0)
        return cgroup_file_write(dir, "pids.max", "max", err);
    return cgroup_file_write_i64(dir, "pids.max", resources->pids_limit.value, err);
}

/* ---- blkio ---- */

static int write_device_value(const char *dir, const char *name, int64_t major, int64_t minor,
                              uint64_t value, struct berr *err)
{
    char text[96];

    snprintf(text, sizeof(text), "%" PRId64 ":%" PRId64 " %" PRIu64, major, minor, value);
    return cgroup_file_write(dir, name, text, err);
}

static int apply_throttles(const char *dir, const char *name,
                           const struct cgroup_throttle_list *list, struct berr *err)
{
    size_t i;
    int rc;

    for (i = 0; i < list->count; i++) {
        const struct cgroup_block_device_throttle *device = &list->items[i];
        if ((rc = write_device_value(dir, name, device->major, device->minor, device->rate, err)))
            return rc;
    }
    return 0;
}

static int apply_blkio(const char *dir, const struct cgroup_resources *resources, struct berr *err)
{
    /* CFQ's files went with CFQ (Linux 5.0); BFQ has its own weights. */
    bool has_cfq = cgroup_file_exists(dir, "blkio.weight");
    const char *weight_file = has_cfq ? "blkio.weight" : "blkio.bfq.weight";
    const char *weight_device_file = has_cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
    size_t i;
    int rc;

    if (resources->blkio_weight.set &&
        (rc = cgroup_file_write_u64(dir, weight_file, resources->blkio_weight.value, err)))
        return rc;
    if (resources->blkio_leaf_weight.set &&
        (rc = cgroup_file_write_u64(dir, "blkio.leaf_weight", resources->blkio_leaf_weight.value,
                                    err)))
        return rc;
    for (i = 0; i < resources->blkio_weight_device_count; i++) {
        const struct cgroup_block_device_weight *device = &resources->blkio_weight_devices[i];
        if (device->weight.set &&
            (rc = write_device_value(dir, weight_device_file, device->major, device->minor,
                                     device->weight.value, err)))
            return rc;
        if (device->leaf_weight.set &&
            (rc = write_device_value(dir, "blkio.leaf_weight_device", device->major, device->minor,
                                     device->leaf_weight.value, err)))
            return rc;
    }
    if ((rc = apply_throttles(dir, "blkio.throttle.read_bps_device", &resources->throttle_read_bps,
                              err)) ||
        (rc = apply_throttles(dir, "blkio.throttle.write_bps_device",
                              &resources->throttle_write_bps, err)) ||
        (rc = apply_throttles(dir, "blkio.throttle.read_iops_device",
                              &resources->throttle_read_iops, err)) ||
        (rc = apply_throttles(dir, "blkio.throttle.write_iops_device",
                              &resources->throttle_write_iops, err)))
        return rc;
    return 0;
}

/* ---- hugetlb, devices, network ---- */

static int apply_hugetlb(const char *dir, const struct cgroup_resources *resources,
                         struct berr *err)
{
    char name[64];
    size_t i;
    int rc;

    for (i = 0; i < resources->hugepage_limit_count; i++) {
        const struct cgroup_hugepage_limit *limit = &resources->hugepage_limits[i];
        snprintf(name, sizeof(name), "hugetlb.%s.limit_in_bytes", limit->page_size);
        if ((rc = cgroup_file_write_u64(dir, name, limit->limit, err)))
            return rc;
        /* Reservations (Linux 5.7+) get the same limit, as runc does. */
        snprintf(name, sizeof(name), "hugetlb.%s.rsvd.limit_in_bytes", limit->page_size);
        if (cgroup_file_exists(dir, name) &&
            (rc = cgroup_file_write_u64(dir, name, limit->limit, err)))
            return rc;
    }
    return 0;
}

static void format_device_number(int64_t number, char *text, size_t size)
{
    if (number < 0)
        snprintf(text, size, "*");
    else
        snprintf(text, size, "%" PRId64, number);
}

/* "c 1:3 rwm", or "a" for a rule over every device. */
static void format_device_rule(const struct cgroup_device_rule *rule, char *text, size_t size)
{
    char major[24], minor[24];

    if (rule->type == 'a') {
        snprintf(text, size, "a");
        return;
    }
    format_device_number(rule->major, major, sizeof(major));
    format_device_number(rule->minor, minor, sizeof(minor));
    snprintf(text, size, "%c %s:%s %s", rule->type, major, minor, rule->access);
}

/* In order: a leading deny-all ("a" to devices.deny) empties the allow
 * list, and each later rule adds to or removes from it. */
static int apply_devices(const char *dir, const struct cgroup_resources *resources,
                         struct berr *err)
{
    char text[80];
    size_t i;
    int rc;

    for (i = 0; i < resources->device_count; i++) {
        const struct cgroup_device_rule *rule = &resources->devices[i];
        format_device_rule(rule, text, sizeof(text));
        if ((rc =
                 cgroup_file_write(dir, rule->allow ? "devices.allow" : "devices.deny", text, err)))
            return rc;
    }
    return 0;
}

static int apply_net_cls(const char *dir, const struct cgroup_resources *resources,
                         struct berr *err)
{
    if (!resources->network_class_id.set)
        return 0;
    return cgroup_file_write_u64(dir, "net_cls.classid", resources->network_class_id.value, err);
}

static int apply_net_prio(const char *dir, const struct cgroup_resources *resources,
                          struct berr *err)
{
    char text[64];
    size_t i;
    int rc;

    for (i = 0; i < resources->network_priority_count; i++) {
        const struct cgroup_network_priority *priority = &resources->network_priorities[i];
        snprintf(text, sizeof(text), "%s %" PRIu32, priority->interface, priority->priority);
        if ((rc = cgroup_file_write(dir, "net_prio.ifpriomap", text, err)))
            return rc;
    }
    return 0;
}

/* ---- what each controller needs ---- */

static bool needs_memory(const struct cgroup_resources *r)
{
    return r->memory_limit.set || r->memory_reservation.set || r->memory_swap.set ||
           r->memory_kernel.set || r->memory_kernel_tcp.set || r->memory_swappiness.set ||
           r->has_disable_oom_killer || r->has_use_hierarchy;
}

static bool needs_cpu(const struct cgroup_resources *r)
{
    return r->cpu_shares.set || r->cpu_quota.set || r->cpu_burst.set || r->cpu_period.set ||
           r->cpu_realtime_runtime.set || r->cpu_realtime_period.set || r->cpu_idle.set;
}

static bool needs_cpuset(const struct cgroup_resources *r)
{
    return r->cpuset_cpus || r->cpuset_mems;
}

static bool needs_pids(const struct cgroup_resources *r)
{
    return r->pids_limit.set;
}

static bool needs_blkio(const struct cgroup_resources *r)
{
    return r->blkio_weight.set || r->blkio_leaf_weight.set || r->blkio_weight_device_count ||
           r->throttle_read_bps.count || r->throttle_write_bps.count ||
           r->throttle_read_iops.count || r->throttle_write_iops.count;
}

static bool needs_hugetlb(const struct cgroup_resources *r)
{
    return r->hugepage_limit_count > 0;
}

static bool needs_devices(const struct cgroup_resources *r)
{
    return r->device_count > 0;
}

static bool needs_net_cls(const struct cgroup_resources *r)
{
    return r->network_class_id.set;
}

static bool needs_net_prio(const struct cgroup_resources *r)
{
    return r->network_priority_count > 0;
}

static const struct v1_controller {
    const char *name;
    const char *fields; /* the resources it takes, for messages */
    bool (*needed)(const struct cgroup_resources *resources);
    int (*apply)(const char *dir, const struct cgroup_resources *resources, struct berr *err);
} v1_controllers[] = {
    {"cpuset", "cpu.cpus/cpu.mems", needs_cpuset, apply_cpuset},
    {"cpu", "cpu", needs_cpu, apply_cpu},
    {"memory", "memory", needs_memory, apply_memory},
    {"pids", "pids", needs_pids, apply_pids},
    {"blkio", "blockIO", needs_blkio, apply_blkio},
    {"hugetlb", "hugepageLimits", needs_hugetlb, apply_hugetlb},
    {"devices", "devices", needs_devices, apply_devices},
    {"net_cls", "network.classID", needs_net_cls, apply_net_cls},
    {"net_prio", "network.priorities", needs_net_prio, apply_net_prio},
};

int cgroup_v1_apply(const struct cgroup_hierarchy *hierarchy,
                    const struct cgroup_resources *resources, struct berr *err)
{
    struct berr local;
    size_t i;
    int rc;

    if (!err)
        err = &local;
    if (hierarchy->is_v2 || !hierarchy->controllers)
        return 0;
    for (i = 0; i < TABLE_SIZE(v1_controllers); i++) {
        const struct v1_controller *controller = &v1_controllers[i];
        if (!has_controller(hierarchy->controllers, controller->name) ||
            !controller->needed(resources))
            continue;
        if ((rc = controller->apply(hierarchy->path, resources, err)))
            return rc;
    }
    return 0;
}

int cgroup_v1_check(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                    struct berr *err)
{
    size_t i;

    for (i = 0; i < TABLE_SIZE(v1_controllers); i++) {
        const struct v1_controller *controller = &v1_controllers[i];
        if (controller->needed(resources) && !find_hierarchy(cgroup, controller->name))
            return berr_set(err, BERR_UNSUPPORTED,
                            "%s: needs the %s cgroup controller, which this host does not mount",
                            controller->fields, controller->name);
    }
    if (resources->unified_count)
        return berr_set(err, BERR_UNSUPPORTED,
                        "unified: needs a cgroup v2 (unified) host; this one has %s",
                        cgroup->layout == CGROUP_LAYOUT_HYBRID ? "v1 controllers (hybrid layout)"
                                                               : "v1 controllers only");
    return 0;
}

/* ---- statistics ---- */

/* Reads a number file; a missing one reads as 0 (optional kernel features). */
static int read_optional(const char *dir, const char *name, uint64_t *out, struct berr *err)
{
    int rc = cgroup_file_read_u64(dir, name, out, err);

    if (rc == BERR_NOT_FOUND) {
        *out = 0;
        return 0;
    }
    return rc;
}

/* Reads a whole file; a missing one gives NULL and no error. */
static int read_optional_text(const char *dir, const char *name, char **text, struct berr *err)
{
    int rc = cgroup_file_read_all(dir, name, text, err);

    if (rc == BERR_NOT_FOUND) {
        *text = NULL;
        return 0;
    }
    return rc;
}

static int stats_cpu(const char *dir, struct cgroup_stats *stats, struct berr *err)
{
    char *text;
    int rc = read_optional_text(dir, "cpu.stat", &text, err);

    if (rc || !text)
        return rc;
    cgroup_stats_flat_value(text, "nr_periods", &stats->throttling_periods);
    cgroup_stats_flat_value(text, "nr_throttled", &stats->throttling_throttled_periods);
    cgroup_stats_flat_value(text, "throttled_time", &stats->throttling_throttled_time);
    free(text);
    return 0;
}

static int parse_number_list(const char *text, struct cgroup_u64_list *list, struct berr *err)
{
    const char *cursor = text;
    char *end;
    int rc;

    for (;;) {
        uint64_t value = strtoull(cursor, &end, 10);
        if (end == cursor)
            return 0;
        if ((rc = cgroup_stats_add_u64(list, value, err)))
            return rc;
        cursor = end;
    }
}

/* cpuacct.usage_all: a "cpu user system" header, then one line per CPU. */
static int parse_usage_all(const char *text, struct cgroup_stats *stats, struct berr *err)
{
    const char *line = strchr(text, '\n');
    int rc;

    if (strncmp(text, "cpu user system", 15) != 0)
        return 0;
    while (line && *++line) {
        uint64_t cpu, user, system;
        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64, &cpu, &user, &system) == 3) {
            if ((rc = cgroup_stats_add_u64(&stats->cpu_percpu_kernel, system, err)) ||
                (rc = cgroup_stats_add_u64(&stats->cpu_percpu_user, user, err)))
                return rc;
        }
        line = strchr(line, '\n');
    }
    return 0;
}

static int stats_cpuacct(const char *dir, struct cgroup_stats *stats, struct berr *err)
{
    uint64_t ticks_per_second = (uint64_t)sysconf(_SC_CLK_TCK), ticks;
    char *text = NULL;
    int rc;

    if ((rc = read_optional(dir, "cpuacct.usage", &stats->cpu_total, err)))
        return rc;
    if ((rc = read_optional_text(dir, "cpuacct.stat", &text, err)))
        return rc;
    if (text) {
        /* USER_HZ ticks to nanoseconds */
        if (cgroup_stats_flat_value(text, "user", &ticks))
            stats->cpu_user = ticks * 1000000000ULL / ticks_per_second;
        if (cgroup_stats_flat_value(text, "system", &ticks))
            stats->cpu_kernel = ticks * 1000000000ULL / ticks_per_second;
        free(text);
    }
    if ((rc = read_optional_text(dir, "cpuacct.usage_percpu", &text, err)))
        return rc;
    if (text) {
        rc = parse_number_list(text, &stats->cpu_percpu, err);
        free(text);
        if (rc)
            return rc;
    }
    if ((rc = read_optional_text(dir, "cpuacct.usage_all", &text, err)))
        return rc;
    if (text) {
        rc = parse_usage_all(text, stats, err);
        free(text);
    }
    return rc;
}

/* memory.<prefix>usage_in_bytes, max_usage_in_bytes, failcnt, limit_in_bytes. */
static int memory_entry(const char *dir, const char *prefix, struct cgroup_memory_entry *entry,
                        struct berr *err)
{
    char name[64];
    int rc;

    snprintf(name, sizeof(name), "memory.%susage_in_bytes", prefix);
    if (!cgroup_file_exists(dir, name))
        return 0;
    if ((rc = read_optional(dir, name, &entry->usage, err)))
        return rc;
    snprintf(name, sizeof(name), "memory.%smax_usage_in_bytes", prefix);
    if ((rc = read_optional(dir, name, &entry->max, err)))
        return rc;
    snprintf(name, sizeof(name), "memory.%sfailcnt", prefix);
    if ((rc = read_optional(dir, name, &entry->failcnt, err)))
        return rc;
    snprintf(name, sizeof(name), "memory.%slimit_in_bytes", prefix);
    return read_optional(dir, name, &entry->limit, err);
}

static int stats_memory(const char *dir, struct cgroup_stats *stats, struct berr *err)
{
    char *text;
    int rc = read_optional_text(dir, "memory.stat", &text, err);

    if (rc || !text)
        return rc;
    rc = cgroup_stats_add_raw(stats, text, err);
    free(text);
    if (rc)
        return rc;
    stats->memory_cache = cgroup_stats_raw(stats, "cache");
    if ((rc = memory_entry(dir, "", &stats->memory_usage, err)) ||
        (rc = memory_entry(dir, "memsw.", &stats->memory_swap, err)) ||
        (rc = memory_entry(dir, "kmem.", &stats->memory_kernel, err)) ||
        (rc = memory_entry(dir, "kmem.tcp.", &stats->memory_kernel_tcp, err)))
        return rc;
    return 0;
}

static int stats_pids(const char *dir, struct cgroup_stats *stats, struct berr *err)
{
    int rc;

    if ((rc = read_optional(dir, "pids.current", &stats->pids_current, err)) ||
        (rc = read_optional(dir, "pids.max", &stats->pids_limit, err)))
        return rc;
    if (stats->pids_limit == UINT64_MAX)
        stats->pids_limit = 0;
    return 0;
}

/* One blkio statistics file: "8:0 Read 1282048" or "8:0 6792" lines,
 * and a "Total N" line that is skipped. Returns how many entries. */
static int parse_blkio_file(const char *text, enum cgroup_blkio_kind kind,
                            struct cgroup_stats *stats, size_t *added, struct berr *err)
{
    const char *line = text;
    int rc;

    *added = 0;
    while (line && *line) {
        uint64_t major, minor, value;
        char op[16];
        if (sscanf(line, "%" SCNu64 ":%" SCNu64 " %15s %" SCNu64, &major, &minor, op, &value) ==
            4) {
            if ((rc = cgroup_stats_add_blkio(stats, kind, major, minor, op, value, err)))
                return rc;
            (*added)++;
        } else if (sscanf(line, "%" SCNu64 ":%" SCNu64 " %" SCNu64, &major, &minor, &value) == 3) {
            if ((rc = cgroup_stats_add_blkio(stats, kind, major, minor, "", value, err)))
                return rc;
            (*added)++;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

struct blkio_source {
    const char *file;
    enum cgroup_blkio_kind kind;
};

/* runc's order of preference: BFQ with debug files, BFQ, CFQ, then the
 * throttling layer's counters (recursive, then this cgroup only). */
static const struct blkio_source bfq_debug_sources[] = {
    {"blkio.bfq.sectors_recursive", BLKIO_SECTORS},
    {"blkio.bfq.io_service_time_recursive", BLKIO_SERVICE_TIME},
    {"blkio.bfq.io_wait_time_recursive", BLKIO_WAIT_TIME},
    {"blkio.bfq.io_merged_recursive", BLKIO_MERGED},
    {"blkio.bfq.io_queued_recursive", BLKIO_QUEUED},
    {"blkio.bfq.time_recursive", BLKIO_TIME},
    {"blkio.bfq.io_serviced_recursive", BLKIO_SERVICED},
    {"blkio.bfq.io_service_bytes_recursive", BLKIO_SERVICE_BYTES},
    {NULL, 0},
};
static const struct blkio_source bfq_sources[] = {
    {"blkio.bfq.io_serviced_recursive", BLKIO_SERVICED},
    {"blkio.bfq.io_service_bytes_recursive", BLKIO_SERVICE_BYTES},
    {NULL, 0},
};
static const struct blkio_source cfq_sources[] = {
    {"blkio.sectors_recursive", BLKIO_SECTORS},
    {"blkio.io_service_time_recursive", BLKIO_SERVICE_TIME},
    {"blkio.io_wait_time_recursive", BLKIO_WAIT_TIME},
    {"blkio.io_merged_recursive", BLKIO_MERGED},
    {"blkio.io_queued_recursive", BLKIO_QUEUED},
    {"blkio.time_recursive", BLKIO_TIME},
    {"blkio.io_serviced_recursive", BLKIO_SERVICED},
    {"blkio.io_service_bytes_recursive", BLKIO_SERVICE_BYTES},
    {NULL, 0},
};
static const struct blkio_source throttle_recursive_sources[] = {
    {"blkio.throttle.io_serviced_recursive", BLKIO_SERVICED},
    {"blkio.throttle.io_service_bytes_recursive", BLKIO_SERVICE_BYTES},
    {NULL, 0},
};
static const struct blkio_source throttle_sources[] = {
    {"blkio.throttle.io_serviced", BLKIO_SERVICED},
    {"blkio.throttle.io_service_bytes", BLKIO_SERVICE_BYTES},
    {NULL, 0},
};

/* Reads a group of files; *used is false when its first file is missing
 * or empty, and the next group should be tried. */
static int read_blkio_group(const char *dir, const struct blkio_source *sources,
                            struct cgroup_stats *stats, bool *used, struct berr *err)
{
    size_t i, added;
    char *text;
    int rc;

    *used = false;
    for (i = 0; sources[i].file; i++) {
        if ((rc = read_optional_text(dir, sources[i].file, &text, err)))
            return rc;
        if (!text)
            return 0;
        rc = parse_blkio_file(text, sources[i].kind, stats, &added, err);
        free(text);
        if (rc)
            return rc;
        if (i == 0 && added == 0)
            return 0;
        *used = true;
    }
    return 0;
}

static int stats_blkio(const char *dir, struct cgroup_stats *stats, struct berr *err)
{
    const struct blkio_source *const groups[] = {bfq_debug_sources, bfq_sources, cfq_sources,
                                                 throttle_recursive_sources, throttle_sources};
    bool used = false;
    size_t i;
    int rc;

    for (i = 0; i < TABLE_SIZE(groups) && !used; i++)
        if ((rc = read_blkio_group(dir, groups[i], stats, &used, err)))
            return rc;
    return 0;
}

static int stats_hugetlb(const char *dir, struct cgroup_stats *stats, struct berr *err)
{
    char sizes[CGROUP_HUGEPAGE_SIZES_MAX][16], prefix[48], name[96];
    struct cgroup_hugetlb_stat *entry;
    size_t i, count;
    int rc = cgroup_hugepage_sizes(sizes, CGROUP_HUGEPAGE_SIZES_MAX, &count, err);

    for (i = 0; !rc && i < count; i++) {
        /* The reservation counters when the kernel has them, as runc reports. */
        snprintf(prefix, sizeof(prefix), "hugetlb.%s.rsvd", sizes[i]);
        snprintf(name, sizeof(name), "%s.usage_in_bytes", prefix);
        if (!cgroup_file_exists(dir, name))
            snprintf(prefix, sizeof(prefix), "hugetlb.%s", sizes[i]);
        snprintf(name, sizeof(name), "%s.usage_in_bytes", prefix);
        if (!cgroup_file_exists(dir, name))
            continue;
        if ((rc = cgroup_stats_hugetlb(stats, sizes[i], &entry, err)) ||
            (rc = read_optional(dir, name, &entry->usage, err)))
            break;
        snprintf(name, sizeof(name), "%s.max_usage_in_bytes", prefix);
        if ((rc = read_optional(dir, name, &entry->max, err)))
            break;
        snprintf(name, sizeof(name), "%s.failcnt", prefix);
        rc = read_optional(dir, name, &entry->failcnt, err);
    }
    return rc;
}

static const struct v1_statistics {
    const char *controller;
    int (*read)(const char *dir, struct cgroup_stats *stats, struct berr *err);
} v1_statistics[] = {
    {"cpu", stats_cpu},   {"cpuacct", stats_cpuacct}, {"memory", stats_memory},
    {"pids", stats_pids}, {"blkio", stats_blkio},     {"hugetlb", stats_hugetlb},
};

int cgroup_v1_stats(const struct cgroup *cgroup, struct json_writer *writer, struct berr *err)
{
    struct cgroup_stats stats;
    struct berr local;
    size_t i;
    int rc = 0;

    if (!err)
        err = &local;
    cgroup_stats_init(&stats);
    for (i = 0; i < TABLE_SIZE(v1_statistics) && !rc; i++) {
        const struct cgroup_hierarchy *hierarchy =
            find_hierarchy(cgroup, v1_statistics[i].controller);
        if (hierarchy && (rc = v1_statistics[i].read(hierarchy->path, &stats, err)))
            berr_prefix(err, "%s statistics", v1_statistics[i].controller);
    }
    if (!rc)
        cgroup_stats_write(&stats, writer);
    cgroup_stats_free(&stats);
    return rc;
}
