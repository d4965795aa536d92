/*
 * cgroup_v2: resource files, device filter and statistics of the unified
 * hierarchy.
 *
 * Why it converts: the OCI spec speaks in cgroup v1 units (cpu shares,
 * blkio weights, memory+swap), so each value is translated to its v2 file
 * (cpu.weight, io.weight, memory.swap.max = swap - limit). Fields v2 has
 * no file for are refused (cgroup_v2_check), never silently dropped.
 *
 * A controller's files only appear in a cgroup when every ancestor lists it
 * in cgroup.subtree_control, so cgroup_v2_enable_controllers turns on, from
 * the hierarchy root down, exactly the controllers the resources need.
 *
 * Devices: v2 has no devices controller; access is decided by an eBPF
 * program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup. The
 * program is generated here from the rules, instruction by instruction,
 * so no eBPF library is linked in. Its meaning, per access bit (read,
 * write, mknod): the last rule that matches the device and names the bit
 * decides; a bit no rule names gets the default, which is "allow" unless
 * a rule of type "a" sets it (rules before that "a" rule can never be
 * reached, so they are left out). An access is granted when every bit it
 * asks for is allowed. This is runc's devicefilter semantics, made exact
 * for rules that overlap with different access letters.
 *
 * On update the new program is attached next to the old ones
 * (BPF_F_ALLOW_MULTI) and the old ones are detached afterwards, so the
 * container is never without a filter.
 */
#include "cgroup_v2.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup_file.h"
#include "cgroup_stats.h"

#define TABLE_SIZE(table) (sizeof(table) / sizeof((table)[0]))

#define CPU_SHARES_MIN   2
#define CPU_SHARES_MAX   262144
#define CPU_WEIGHT_MAX   10000
#define BLKIO_WEIGHT_MIN 10
#define BLKIO_WEIGHT_MAX 1000

/* ---- conversions ---- */

uint64_t cgroup_v2_cpu_weight(uint64_t shares)
{
    if (shares == 0)
        return 0;
    if (shares <= CPU_SHARES_MIN)
        return 1;
    if (shares >= CPU_SHARES_MAX)
        return CPU_WEIGHT_MAX;
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cgroup_v2_io_weight(uint64_t blkio_weight)
{
    if (blkio_weight == 0)
        return 0;
    if (blkio_weight <= BLKIO_WEIGHT_MIN)
        return 1;
    if (blkio_weight >= BLKIO_WEIGHT_MAX)
        return 10000;
    return 1 + (blkio_weight - 10) * 9999 / 990;
}

int cgroup_v2_swap_max(bool swap_set, int64_t swap, int64_t limit, char *text, size_t size,
                       struct berr *err)
{
    text[0] = '\0';
    if (!swap_set) {
        /* Unlimited memory lifts the swap limit too, as on v1. */
        if (limit == -1)
            snprintf(text, size, "max");
        return 0;
    }
    if (swap == -1)
        snprintf(text, size, "max");
    else if (limit == -1)
        snprintf(text, size, "%" PRId64, swap);
    else if (limit <= 0)
        return berr_set(err, BERR_INVALID,
                        "memory.swap: cgroup v2 limits swap alone, which needs memory.limit");
    else if (swap < limit)
        return berr_set(err, BERR_INVALID,
                        "memory.swap (memory plus swap, %" PRId64
                        ") must not be below memory.limit (%" PRId64 ")",
                        swap, limit);
    else
        snprintf(text, size, "%" PRId64, swap - limit);
    return 0;
}

static void format_quota(int64_t quota, char *text, size_t size)
{
    if (quota < 0)
        snprintf(text, size, "max");
    else
        snprintf(text, size, "%" PRId64, quota);
}

void cgroup_v2_cpu_max(const struct cgroup_resources *resources, const char *current, char *text,
                       size_t size)
{
    char quota[32];

    text[0] = '\0';
    if (resources->cpu_quota.set) {
        format_quota(resources->cpu_quota.value, quota, sizeof(quota));
    } else if (resources->cpu_period.set) {
        /* The file takes "quota [period]": keep the present quota. */
        size_t length = current ? strcspn(current, " \n") : 0;
        if (length == 0 || length >= sizeof(quota))
            snprintf(quota, sizeof(quota), "max");
        else
            snprintf(quota, sizeof(quota), "%.*s", (int)length, current);
    } else {
        return;
    }
    if (resources->cpu_period.set)
        snprintf(text, size, "%s %" PRIu64, quota, resources->cpu_period.value);
    else
        snprintf(text, size, "%s", quota);
}

/* ---- what v2 cannot do ---- */

int cgroup_v2_check(const struct cgroup_resources *r, struct berr *err)
{
    size_t i;

    if (r->memory_kernel.set && r->memory_kernel.value != -1)
        return berr_set(err, BERR_UNSUPPORTED,
                        "memory.kernel: cgroup v2 has no kernel memory limit");
    if (r->memory_kernel_tcp.set && r->memory_kernel_tcp.value != -1)
        return berr_set(err, BERR_UNSUPPORTED,
                        "memory.kernelTCP: cgroup v2 has no kernel TCP memory limit");
    if (r->memory_swappiness.set)
        return berr_set(err, BERR_UNSUPPORTED,
                        "memory.swappiness: cgroup v2 has no per-cgroup swappiness");
    if (r->has_disable_oom_killer && r->disable_oom_killer)
        return berr_set(err, BERR_UNSUPPORTED,
                        "memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer");
    if (r->has_use_hierarchy && !r->use_hierarchy)
        return berr_set(err, BERR_UNSUPPORTED,
                        "memory.useHierarchy: cgroup v2 is always hierarchical");
    if (r->cpu_realtime_runtime.set || r->cpu_realtime_period.set)
        return berr_set(err, BERR_UNSUPPORTED,
                        "cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime bandwidth");
    if (r->blkio_leaf_weight.set)
        return berr_set(err, BERR_UNSUPPORTED, "blockIO.leafWeight: cgroup v2 has no leaf weights");
    for (i = 0; i < r->blkio_weight_device_count; i++)
        if (r->blkio_weight_devices[i].leaf_weight.set)
            return berr_set(err, BERR_UNSUPPORTED,
                            "blockIO.weightDevice[%zu].leafWeight: cgroup v2 has no leaf weights",
                            i);
    if (r->network_class_id.set || r->network_priority_count)
        return berr_set(err, BERR_UNSUPPORTED,
                        "network: cgroup v2 has no net_cls or net_prio controller");
    return 0;
}

/* ---- controllers ---- */

/* The v2 controllers berth may need, as they appear in cgroup.controllers. */
static const char *const v2_controllers[] = {
    "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc",
};
enum {
    NEED_CPUSET = 1 << 0,
    NEED_CPU = 1 << 1,
    NEED_IO = 1 << 2,
    NEED_MEMORY = 1 << 3,
    NEED_HUGETLB = 1 << 4,
    NEED_PIDS = 1 << 5,
};

/* A unified key's controller: "memory.high" → memory; "cgroup.*" → none. */
static unsigned unified_key_needs(const char *key)
{
    size_t length = strcspn(key, ".");
    size_t i;

    for (i = 0; i < TABLE_SIZE(v2_controllers); i++)
        if (strlen(v2_controllers[i]) == length && strncmp(key, v2_controllers[i], length) == 0)
            return 1u << i;
    return 0;
}

static bool has_throttles(const struct cgroup_resources *r)
{
    return r->throttle_read_bps.count || r->throttle_write_bps.count ||
           r->throttle_read_iops.count || r->throttle_write_iops.count;
}

static unsigned needed_controllers(const struct cgroup_resources *r)
{
    unsigned needed = 0;
    size_t i;

    if (r->cpuset_cpus || r->cpuset_mems)
        needed |= NEED_CPUSET;
    if (r->cpu_shares.set || r->cpu_quota.set || r->cpu_period.set || r->cpu_burst.set ||
        r->cpu_idle.set)
        needed |= NEED_CPU;
    if (r->memory_limit.set || r->memory_reservation.set || r->memory_swap.set)
        needed |= NEED_MEMORY;
    if (r->pids_limit.set)
        needed |= NEED_PIDS;
    if (r->blkio_weight.set || r->blkio_weight_device_count || has_throttles(r))
        needed |= NEED_IO;
    if (r->hugepage_limit_count)
        needed |= NEED_HUGETLB;
    for (i = 0; i < r->unified_count; i++)
        needed |= unified_key_needs(r->unified[i].key);
    return needed;
}

/* True when the space-separated list names word. */
static bool list_has(const char *list, const char *word)
{
    size_t length = strlen(word);
    const char *cursor = list;

    while ((cursor = strstr(cursor, word))) {
        bool starts = cursor == list || cursor[-1] == ' ';
        bool ends = cursor[length] == '\0' || cursor[length] == ' ' || cursor[length] == '\n';
        if (starts && ends)
            return true;
        cursor += length;
    }
    return false;
}

static int check_available(const char *root, unsigned needed, struct berr *err)
{
    char available[1024];
    size_t i;
    int rc = cgroup_file_read(root, "cgroup.controllers", available, sizeof(available), err);

    if (rc)
        return berr_prefix(err, "%s", root);
    for (i = 0; i < TABLE_SIZE(v2_controllers); i++)
        if ((needed & (1u << i)) && !list_has(available, v2_controllers[i]))
            return berr_set(
                err, BERR_UNSUPPORTED,
                "the cgroup v2 %s controller is not available in %s (cgroup.controllers: "
                "\"%s\")",
                v2_controllers[i], root, available);
    return 0;
}

/* Writes "+a +b" to dir/cgroup.subtree_control for those not yet enabled. */
static int enable_in(const char *dir, unsigned needed, struct berr *err)
{
    char enabled[1024], request[256] = "";
    size_t i, used = 0;
    int rc = cgroup_file_read(dir, "cgroup.subtree_control", enabled, sizeof(enabled), err);

    if (rc)
        return berr_prefix(err, "%s", dir);
    for (i = 0; i < TABLE_SIZE(v2_controllers); i++) {
        if (!(needed & (1u << i)) || list_has(enabled, v2_controllers[i]))
            continue;
        used += (size_t)snprintf(request + used, sizeof(request) - used, "%s+%s", used ? " " : "",
                                 v2_controllers[i]);
    }
    if (!used)
        return 0;
    if ((rc = cgroup_file_write(dir, "cgroup.subtree_control", request, err)))
        return berr_prefix(err, "%s", dir);
    return 0;
}

int cgroup_v2_enable_controllers_from(const char *root, const char *path,
                                      const struct cgroup_resources *resources, struct berr *err)
{
    unsigned needed;
    size_t root_length = strlen(root);
    char dir[PATH_MAX];
    const char *cursor;
    int rc;

    if ((rc = cgroup_v2_check(resources, err)))
        return rc;
    needed = needed_controllers(resources);
    if (!needed)
        return 0;
    while (root_length > 1 && root[root_length - 1] == '/')
        root_length--;
    if (strncmp(path, root, root_length) != 0 || path[root_length] != '/' ||
        root_length >= sizeof(dir))
        return berr_set(err, BERR_INVALID, "%s is not below the cgroup v2 root %s", path, root);
    if ((rc = check_available(root, needed, err)))
        return rc;
    /* root, then each directory down to path's parent */
    memcpy(dir, root, root_length);
    dir[root_length] = '\0';
    cursor = path + root_length;
    for (;;) {
        const char *next;
        size_t length;
        while (*cursor == '/')
            cursor++;
        next = strchr(cursor, '/');
        if (!*cursor || !next || !next[strspn(next, "/")])
            break; /* cursor is path's last component */
        if ((rc = enable_in(dir, needed, err)))
            return rc;
        length = strlen(dir);
        if (length + 1 + (size_t)(next - cursor) >= sizeof(dir))
            return berr_set(err, BERR_INVALID, "%s: path too long", path);
        snprintf(dir + length, sizeof(dir) - length, "/%.*s", (int)(next - cursor), cursor);
        cursor = next;
    }
    return enable_in(dir, needed, err);
}

static bool is_cgroup2(const char *dir, dev_t *device)
{
    struct statfs filesystem;
    struct stat info;

    if (statfs(dir, &filesystem) != 0 || filesystem.f_type != CGROUP2_SUPER_MAGIC)
        return false;
    if (stat(dir, &info) != 0)
        return false;
    *device = info.st_dev;
    return true;
}

/* The mount point of the cgroup2 filesystem holding path's parent. */
static int find_root(const char *path, char *root, size_t size, struct berr *err)
{
    dev_t device, parent_device;
    char *slash;

    if (path[0] != '/' || strlen(path) >= size)
        return berr_set(err, BERR_INVALID, "%s: not an absolute cgroup path", path);
    snprintf(root, size, "%s", path);
    slash = strrchr(root, '/');
    *(slash == root ? slash + 1 : slash) = '\0';
    if (!is_cgroup2(root, &device))
        return berr_set(err, BERR_NOT_FOUND, "%s: not in a cgroup v2 filesystem", root);
    for (;;) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof(parent), "%s", root);
        slash = strrchr(parent, '/');
        if (!slash || strcmp(root, "/") == 0)
            return 0;
        *(slash == parent ? slash + 1 : slash) = '\0';
        if (!is_cgroup2(parent, &parent_device) || parent_device != device)
            return 0;
        snprintf(root, size, "%s", parent);
    }
}

int cgroup_v2_enable_controllers(const char *path, const struct cgroup_resources *resources,
                                 struct berr *err)
{
    char root[PATH_MAX];
    int rc;

    if ((rc = cgroup_v2_check(resources, err)))
        return rc;
    if (!needed_controllers(resources))
        return 0;
    if ((rc = find_root(path, root, sizeof(root), err)))
        return rc;
    return cgroup_v2_enable_controllers_from(root, path, resources, err);
}

/* ---- resource files ---- */

static int apply_cpuset(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    int rc;

    if (r->cpuset_cpus && (rc = cgroup_file_write(path, "cpuset.cpus", r->cpuset_cpus, err)))
        return rc;
    if (r->cpuset_mems)
        return cgroup_file_write(path, "cpuset.mems", r->cpuset_mems, err);
    return 0;
}

static int apply_cpu(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    bool idle_first = r->cpu_idle.set && r->cpu_idle.value == 0;
    bool burst_later = false;
    char current[64] = "", text[80];
    struct berr attempt;
    int rc;

    /* cpu.weight is refused while cpu.idle is 1: leave idle first, enter it last. */
    if (idle_first && (rc = cgroup_file_write(path, "cpu.idle", "0", err)))
        return rc;
    if (r->cpu_shares.set &&
        (rc = cgroup_file_write_u64(path, "cpu.weight", cgroup_v2_cpu_weight(r->cpu_shares.value),
                                    err)))
        return rc;
    /* The burst must stay below the quota: retry it after cpu.max. */
    if (r->cpu_burst.set) {
        rc = cgroup_file_write_u64(path, "cpu.max.burst", r->cpu_burst.value, &attempt);
        if (rc && !(attempt.sys_errno == EINVAL && r->cpu_quota.set)) {
            *err = attempt;
            return rc;
        }
        burst_later = rc != 0;
    }
    if (r->cpu_period.set && !r->cpu_quota.set &&
        (rc = cgroup_file_read(path, "cpu.max", current, sizeof(current), err)))
        return rc;
    cgroup_v2_cpu_max(r, current, text, sizeof(text));
    if (text[0] && (rc = cgroup_file_write(path, "cpu.max", text, err)))
        return rc;
    if (burst_later && (rc = cgroup_file_write_u64(path, "cpu.max.burst", r->cpu_burst.value, err)))
        return rc;
    if (r->cpu_idle.set && !idle_first)
        return cgroup_file_write_i64(path, "cpu.idle", r->cpu_idle.value, err);
    return 0;
}

static int check_memory_usage(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    uint64_t usage = 0, swap_usage = 0;
    int rc;

    if (!r->check_before_update)
        return 0;
    if ((rc = cgroup_file_read_u64(path, "memory.current", &usage, err)))
        return rc;
    if (r->memory_limit.set && r->memory_limit.value > 0 && (uint64_t)r->memory_limit.value < usage)
        return berr_set(err, BERR_CONFLICT,
                        "memory.limit %" PRId64 " is below the current usage %" PRIu64
                        " (checkBeforeUpdate)",
                        r->memory_limit.value, usage);
    if (r->memory_swap.set && r->memory_swap.value > 0 &&
        cgroup_file_exists(path, "memory.swap.current")) {
        if ((rc = cgroup_file_read_u64(path, "memory.swap.current", &swap_usage, err)))
            return rc;
        if ((uint64_t)r->memory_swap.value < usage + swap_usage)
            return berr_set(err, BERR_CONFLICT,
                            "memory.swap %" PRId64 " is below the current usage %" PRIu64
                            " (memory plus swap, checkBeforeUpdate)",
                            r->memory_swap.value, usage + swap_usage);
    }
    return 0;
}

/* The memory limit for the swap computation: the new one, or the present one. */
static int effective_memory_limit(const char *path, const struct cgroup_resources *r,
                                  int64_t *limit, struct berr *err)
{
    uint64_t current;
    int rc;

    if (r->memory_limit.set) {
        *limit = r->memory_limit.value;
        return 0;
    }
    *limit = 0;
    if (!r->memory_swap.set || r->memory_swap.value == -1)
        return 0;
    if ((rc = cgroup_file_read_u64(path, "memory.max", &current, err)))
        return rc;
    *limit = current > INT64_MAX ? -1 : (int64_t)current;
    return 0;
}

static int write_limit(const char *path, const char *name, int64_t value, struct berr *err)
{
    if (value == -1)
        return cgroup_file_write(path, name, "max", err);
    return cgroup_file_write_i64(path, name, value, err);
}

static int apply_memory(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    char swap[32];
    int64_t limit;
    int rc;

    if ((rc = check_memory_usage(path, r, err)) ||
        (rc = effective_memory_limit(path, r, &limit, err)) ||
        (rc = cgroup_v2_swap_max(r->memory_swap.set, r->memory_swap.value, limit, swap,
                                 sizeof(swap), err)))
        return rc;
    if (swap[0]) {
        rc = cgroup_file_write(path, "memory.swap.max", swap, err);
        /* Without swap accounting, "no swap limit" and "no swap" need no file. */
        if (rc == BERR_UNSUPPORTED && (strcmp(swap, "max") == 0 || strcmp(swap, "0") == 0))
            rc = 0;
        if (rc)
            return rc;
    }
    if (r->memory_limit.set && (rc = write_limit(path, "memory.max", r->memory_limit.value, err)))
        return rc;
    if (r->memory_reservation.set)
        return write_limit(path, "memory.low", r->memory_reservation.value, err);
    return 0;
}

static int apply_pids(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    if (!r->pids_limit.set)
        return 0;
    if (r->pids_limit.value <= 0)
        return cgroup_file_write(path, "pids.max", "max", err);
    return cgroup_file_write_i64(path, "pids.max", r->pids_limit.value, err);
}

/* io.max takes one "MAJ:MIN key=value" command per write; 0 lifts the limit. */
static int apply_io_max(int fd, const char *key, const struct cgroup_throttle_list *list,
                        struct berr *err)
{
    char text[96];
    size_t i;
    int rc;

    for (i = 0; i < list->count; i++) {
        const struct cgroup_block_device_throttle *device = &list->items[i];
        if (device->rate)
            snprintf(text, sizeof(text), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, device->major,
                     device->minor, key, device->rate);
        else
            snprintf(text, sizeof(text), "%" PRId64 ":%" PRId64 " %s=max", device->major,
                     device->minor, key);
        if ((rc = cgroup_file_write_fd(fd, "io.max", text, err)))
            return rc;
    }
    return 0;
}

static int apply_io_throttles(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    int fd, rc;

    if (!has_throttles(r))
        return 0;
    if ((rc = cgroup_file_open(path, "io.max", &fd, err)))
        return rc;
    if (!(rc = apply_io_max(fd, "rbps", &r->throttle_read_bps, err)) &&
        !(rc = apply_io_max(fd, "wbps", &r->throttle_write_bps, err)) &&
        !(rc = apply_io_max(fd, "riops", &r->throttle_read_iops, err)))
        rc = apply_io_max(fd, "wiops", &r->throttle_write_iops, err);
    close(fd);
    return rc;
}

/* Weights go to io.bfq.weight when BFQ is there (in blkio units, as BFQ
 * takes them), else to io.weight converted, as runc does. */
static int apply_io_weights(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    bool bfq = cgroup_file_exists(path, "io.bfq.weight");
    const char *file = bfq ? "io.bfq.weight" : "io.weight";
    char text[96];
    size_t i;
    int fd, rc;

    if (!r->blkio_weight.set && !r->blkio_weight_device_count)
        return 0;
    if ((rc = cgroup_file_open(path, file, &fd, err)))
        return rc;
    if (r->blkio_weight.set) {
        uint64_t weight = bfq ? r->blkio_weight.value : cgroup_v2_io_weight(r->blkio_weight.value);
        snprintf(text, sizeof(text), "%" PRIu64, weight);
        rc = cgroup_file_write_fd(fd, file, text, err);
    }
    for (i = 0; !rc && i < r->blkio_weight_device_count; i++) {
        const struct cgroup_block_device_weight *device = &r->blkio_weight_devices[i];
        uint64_t weight;
        if (!device->weight.set)
            continue;
        weight = bfq ? device->weight.value : cgroup_v2_io_weight(device->weight.value);
        snprintf(text, sizeof(text), "%" PRId64 ":%" PRId64 " %" PRIu64, device->major,
                 device->minor, weight);
        rc = cgroup_file_write_fd(fd, file, text, err);
    }
    close(fd);
    return rc;
}

static int apply_io(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    int rc = apply_io_weights(path, r, err);

    if (rc)
        return rc;
    return apply_io_throttles(path, r, err);
}

static int apply_hugetlb(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    char name[64];
    size_t i;
    int rc;

    for (i = 0; i < r->hugepage_limit_count; i++) {
        const struct cgroup_hugepage_limit *limit = &r->hugepage_limits[i];
        snprintf(name, sizeof(name), "hugetlb.%s.max", limit->page_size);
        if ((rc = cgroup_file_write_u64(path, name, limit->limit, err)))
            return rc;
        snprintf(name, sizeof(name), "hugetlb.%s.rsvd.max", limit->page_size);
        if (cgroup_file_exists(path, name) &&
            (rc = cgroup_file_write_u64(path, name, limit->limit, err)))
            return rc;
    }
    return 0;
}

static int apply_unified(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    size_t i;
    int rc;

    for (i = 0; i < r->unified_count; i++)
        if ((rc = cgroup_file_write(path, r->unified[i].key, r->unified[i].value, err)))
            return berr_prefix(err, "unified");
    return 0;
}

/* ---- device filter ---- */

struct bpf_program_text {
    struct bpf_insn *insns;
    size_t count;
};

static void emit(struct bpf_program_text *program, uint8_t code, uint8_t dst, uint8_t src,
                 int16_t offset, int32_t immediate)
{
    struct bpf_insn *insn = &program->insns[program->count++];

    memset(insn, 0, sizeof(*insn));
    insn->code = code;
    insn->dst_reg = dst & 0xf;
    insn->src_reg = src & 0xf;
    insn->off = offset;
    insn->imm = immediate;
}

static int32_t access_bits(const char *access)
{
    int32_t bits = 0;

    if (strchr(access, 'r'))
        bits |= BPF_DEVCG_ACC_READ;
    if (strchr(access, 'w'))
        bits |= BPF_DEVCG_ACC_WRITE;
    if (strchr(access, 'm'))
        bits |= BPF_DEVCG_ACC_MKNOD;
    return bits;
}

/* Registers: r2 device type, r3 access bits not yet decided, r4 major, r5 minor. */
enum { R0, R1, R2, R3, R4, R5 };

static void emit_return(struct bpf_program_text *program, bool allow)
{
    emit(program, BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, allow ? 1 : 0);
    emit(program, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* One rule: when the device matches and the rule names an undecided bit,
 * a deny rule refuses; an allow rule decides its bits, and grants once no
 * bit is left. Every jump goes to the end of the block (the next rule). */
static void emit_rule(struct bpf_program_text *program, const struct cgroup_device_rule *rule)
{
    size_t jumps[5], jump_count = 0, i;
    int32_t bits = access_bits(rule->access);

    if (rule->type != 'a') {
        jumps[jump_count++] = program->count;
        emit(program, BPF_JMP32 | BPF_JNE | BPF_K, R2, 0, 0,
             rule->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    }
    if (rule->major >= 0) {
        jumps[jump_count++] = program->count;
        emit(program, BPF_JMP32 | BPF_JNE | BPF_K, R4, 0, 0, (int32_t)(uint32_t)rule->major);
    }
    if (rule->minor >= 0) {
        jumps[jump_count++] = program->count;
        emit(program, BPF_JMP32 | BPF_JNE | BPF_K, R5, 0, 0, (int32_t)(uint32_t)rule->minor);
    }
    emit(program, BPF_ALU | BPF_MOV | BPF_X, R1, R3, 0, 0);
    emit(program, BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, bits);
    jumps[jump_count++] = program->count;
    emit(program, BPF_JMP32 | BPF_JEQ | BPF_K, R1, 0, 0, 0);
    if (rule->allow) {
        emit(program, BPF_ALU | BPF_AND | BPF_K, R3, 0, 0, ~bits);
        jumps[jump_count++] = program->count;
        emit(program, BPF_JMP32 | BPF_JNE | BPF_K, R3, 0, 0, 0);
    }
    emit_return(program, rule->allow);
    for (i = 0; i < jump_count; i++)
        program->insns[jumps[i]].off = (int16_t)(program->count - jumps[i] - 1);
}

#define RULE_INSNS_MAX      10
#define PROGRAM_FIXED_INSNS 8

/* Builds the program for rules into a malloc'ed instruction array. */
static int build_device_program(const struct cgroup_device_rule *rules, size_t count,
                                struct bpf_program_text *program, struct berr *err)
{
    size_t i;

    if (count > (SIZE_MAX - PROGRAM_FIXED_INSNS) / RULE_INSNS_MAX / sizeof(struct bpf_insn))
        return berr_set(err, BERR_INVALID, "devices: too many rules (%zu)", count);
    program->count = 0;
    program->insns =
        malloc((PROGRAM_FIXED_INSNS + RULE_INSNS_MAX * count) * sizeof(struct bpf_insn));
    if (!program->insns)
        return berr_set(err, BERR_NOMEM, "out of memory");
    /* struct bpf_cgroup_dev_ctx: u32 access_type (type | access << 16), u32 major, u32 minor */
    emit(program, BPF_LDX | BPF_W | BPF_MEM, R2, R1, 0, 0);
    emit(program, BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
    emit(program, BPF_LDX | BPF_W | BPF_MEM, R3, R1, 0, 0);
    emit(program, BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16);
    emit(program, BPF_LDX | BPF_W | BPF_MEM, R4, R1, 4, 0);
    emit(program, BPF_LDX | BPF_W | BPF_MEM, R5, R1, 8, 0);
    /* Last rule first: the first one met that decides a bit wins. */
    for (i = count; i-- > 0;) {
        if (rules[i].type == 'a') {
            emit_return(program, rules[i].allow); /* decides every bit left */
            return 0;
        }
        emit_rule(program, &rules[i]);
    }
    emit_return(program, true);
    return 0;
}

static int bpf_call(int command, union bpf_attr *attr)
{
    return (int)syscall(__NR_bpf, command, attr, sizeof(*attr));
}

static int load_device_program(const struct bpf_program_text *program, int *fd, struct berr *err)
{
    /* The kernel reads the license only to gate GPL-only helpers, which
     * this program does not call. */
    static const char license[] = "Proprietary";
    char log[4096];
    union bpf_attr attr;
    int saved;

    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)program->insns;
    attr.insn_cnt = (uint32_t)program->count;
    attr.license = (uint64_t)(uintptr_t)license;
    snprintf(attr.prog_name, sizeof(attr.prog_name), "berth_devices");
    *fd = bpf_call(BPF_PROG_LOAD, &attr);
    if (*fd >= 0)
        return 0;
    saved = errno;
    if (saved != EINVAL && saved != EACCES)
        return berr_errno(err, saved, "devices: load the eBPF device filter");
    /* Load again with the verifier's log, to say why. */
    log[0] = '\0';
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = sizeof(log);
    *fd = bpf_call(BPF_PROG_LOAD, &attr);
    if (*fd >= 0)
        return 0;
    log[strcspn(log, "\n")] = '\0';
    return berr_set(err, BERR_INTERNAL,
                    "devices: the kernel refused the eBPF device filter: %s (%s)", strerror(saved),
                    log);
}

#define ATTACHED_PROGRAMS_MAX 64

static int query_attached(int cgroup_fd, uint32_t *ids, uint32_t *count, struct berr *err)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = ATTACHED_PROGRAMS_MAX;
    if (bpf_call(BPF_PROG_QUERY, &attr) < 0)
        return berr_errno(err, errno, "devices: query the attached eBPF programs");
    *count = attr.query.prog_cnt;
    return 0;
}

static int attach_program(int cgroup_fd, int program_fd, struct berr *err)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)program_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf_call(BPF_PROG_ATTACH, &attr) < 0)
        return berr_errno(err, errno, "devices: attach the eBPF device filter");
    return 0;
}

static int detach_program(int cgroup_fd, uint32_t id, struct berr *err)
{
    union bpf_attr attr;
    int program_fd, rc = 0;

    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    program_fd = bpf_call(BPF_PROG_GET_FD_BY_ID, &attr);
    if (program_fd < 0) {
        if (errno == ENOENT)
            return 0; /* gone already */
        return berr_errno(err, errno, "devices: open the old eBPF program %u", id);
    }
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)program_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (bpf_call(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
        rc = berr_errno(err, errno, "devices: detach the old eBPF program %u", id);
    close(program_fd);
    return rc;
}

static int apply_devices(const char *path, const struct cgroup_resources *r, struct berr *err)
{
    struct bpf_program_text program = {NULL, 0};
    uint32_t old_ids[ATTACHED_PROGRAMS_MAX], old_count = 0, i;
    int program_fd = -1, cgroup_fd = -1, rc;

    if (!r->device_count)
        return 0;
    if ((rc = build_device_program(r->devices, r->device_count, &program, err)))
        return rc;
    rc = load_device_program(&program, &program_fd, err);
    free(program.insns);
    if (rc)
        return rc;
    cgroup_fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (cgroup_fd < 0)
        rc = berr_errno(err, errno, "devices: open %s", path);
    if (!rc)
        rc = query_attached(cgroup_fd, old_ids, &old_count, err);
    if (!rc)
        rc = attach_program(cgroup_fd, program_fd, err);
    for (i = 0; !rc && i < old_count; i++)
        rc = detach_program(cgroup_fd, old_ids[i], err);
    if (cgroup_fd >= 0)
        close(cgroup_fd);
    close(program_fd);
    return rc;
}

int cgroup_v2_apply(const char *path, const struct cgroup_resources *resources, struct berr *err)
{
    static int (*const steps[])(const char *, const struct cgroup_resources *, struct berr *) = {
        apply_cpuset,  apply_cpu,     apply_memory,  apply_pids, apply_io,
        apply_hugetlb, apply_devices, apply_unified, /* last: a unified key overrides what the
                                                        fields set */
    };
    struct berr local;
    size_t i;
    int rc;

    if (!err)
        err = &local;
    if ((rc = cgroup_v2_check(resources, err)))
        return rc;
    for (i = 0; i < TABLE_SIZE(steps); i++)
        if ((rc = steps[i](path, resources, err)))
            return rc;
    return 0;
}

/* ---- statistics ---- */

static int read_optional_text(const char *path, const char *name, char **text, struct berr *err)
{
    int rc = cgroup_file_read_all(path, name, text, err);

    if (rc == BERR_NOT_FOUND) {
        *text = NULL;
        return 0;
    }
    return rc;
}

static int read_optional(const char *path, const char *name, uint64_t *out, struct berr *err)
{
    int rc = cgroup_file_read_u64(path, name, out, err);

    if (rc == BERR_NOT_FOUND) {
        *out = 0;
        return 0;
    }
    return rc;
}

static int stats_cpu(const char *path, struct cgroup_stats *stats, struct berr *err)
{
    uint64_t value;
    char *text;
    int rc = read_optional_text(path, "cpu.stat", &text, err);

    if (rc || !text)
        return rc;
    if (cgroup_stats_flat_value(text, "usage_usec", &value))
        stats->cpu_total = value * 1000;
    if (cgroup_stats_flat_value(text, "user_usec", &value))
        stats->cpu_user = value * 1000;
    if (cgroup_stats_flat_value(text, "system_usec", &value))
        stats->cpu_kernel = value * 1000;
    cgroup_stats_flat_value(text, "nr_periods", &stats->throttling_periods);
    cgroup_stats_flat_value(text, "nr_throttled", &stats->throttling_throttled_periods);
    if (cgroup_stats_flat_value(text, "throttled_usec", &value))
        stats->throttling_throttled_time = value * 1000;
    free(text);
    return 0;
}

static uint64_t add_limits(uint64_t a, uint64_t b)
{
    return (a == UINT64_MAX || b == UINT64_MAX || a + b < a) ? UINT64_MAX : a + b;
}

static int stats_memory(const char *path, struct cgroup_stats *stats, struct berr *err)
{
    struct cgroup_memory_entry swap_only = {0, 0, 0, 0};
    char *text;
    int rc;

    if (!cgroup_file_exists(path, "memory.current"))
        return 0; /* the memory controller is not enabled here */
    if ((rc = read_optional_text(path, "memory.stat", &text, err)))
        return rc;
    if (text) {
        rc = cgroup_stats_add_raw(stats, text, err);
        free(text);
        if (rc)
            return rc;
    }
    stats->memory_cache = cgroup_stats_raw(stats, "file");
    if ((rc = read_optional(path, "memory.current", &stats->memory_usage.usage, err)) ||
        (rc = read_optional(path, "memory.max", &stats->memory_usage.limit, err)) ||
        (rc = read_optional(path, "memory.peak", &stats->memory_usage.max, err)))
        return rc;
    if (!cgroup_file_exists(path, "memory.swap.current"))
        return 0;
    if ((rc = read_optional(path, "memory.swap.current", &swap_only.usage, err)) ||
        (rc = read_optional(path, "memory.swap.max", &swap_only.limit, err)))
        return rc;
    /* runc reports memory + swap, as v1's memsw counters were. */
    stats->memory_swap.usage = swap_only.usage + stats->memory_usage.usage;
    stats->memory_swap.limit = add_limits(swap_only.limit, stats->memory_usage.limit);
    return 0;
}

static int stats_pids(const char *path, struct cgroup_stats *stats, struct berr *err)
{
    const char *cursor;
    char *text;
    int rc;

    if (cgroup_file_exists(path, "pids.current")) {
        if ((rc = read_optional(path, "pids.current", &stats->pids_current, err)) ||
            (rc = read_optional(path, "pids.max", &stats->pids_limit, err)))
            return rc;
        if (stats->pids_limit == UINT64_MAX)
            stats->pids_limit = 0;
        return 0;
    }
    /* No pids controller: count the processes. */
    if ((rc = read_optional_text(path, "cgroup.procs", &text, err)) || !text)
        return rc;
    for (cursor = text; (cursor = strchr(cursor, '\n')); cursor++)
        stats->pids_current++;
    free(text);
    return 0;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" */
static int parse_io_line(const char *line, size_t length, struct cgroup_stats *stats,
                         struct berr *err)
{
    static const struct {
        const char *key;
        enum cgroup_blkio_kind kind;
        const char *op;
    } fields[] = {
        {"rbytes", BLKIO_SERVICE_BYTES, "Read"},
        {"wbytes", BLKIO_SERVICE_BYTES, "Write"},
        {"rios", BLKIO_SERVICED, "Read"},
        {"wios", BLKIO_SERVICED, "Write"},
    };
    char copy[1024], *token, *save = NULL, *equals, *end;
    uint64_t major, minor, value;
    size_t i;
    int rc;

    if (length >= sizeof(copy))
        return 0;
    memcpy(copy, line, length);
    copy[length] = '\0';
    token = strtok_r(copy, " ", &save);
    if (!token || sscanf(token, "%" SCNu64 ":%" SCNu64, &major, &minor) != 2)
        return 0;
    while ((token = strtok_r(NULL, " ", &save))) {
        if (!(equals = strchr(token, '=')))
            continue;
        *equals = '\0';
        value = strtoull(equals + 1, &end, 10);
        if (end == equals + 1)
            continue;
        for (i = 0; i < TABLE_SIZE(fields); i++)
            if (strcmp(token, fields[i].key) == 0 &&
                (rc = cgroup_stats_add_blkio(stats, fields[i].kind, major, minor, fields[i].op,
                                             value, err)))
                return rc;
    }
    return 0;
}

static int stats_io(const char *path, struct cgroup_stats *stats, struct berr *err)
{
    const char *line, *end;
    char *text;
    int rc = read_optional_text(path, "io.stat", &text, err);

    if (rc || !text)
        return rc;
    for (line = text; *line; line = *end ? end + 1 : end) {
        end = line + strcspn(line, "\n");
        if ((rc = parse_io_line(line, (size_t)(end - line), stats, err)))
            break;
    }
    free(text);
    return rc;
}

static int stats_hugetlb(const char *path, struct cgroup_stats *stats, struct berr *err)
{
    char sizes[CGROUP_HUGEPAGE_SIZES_MAX][16], name[64];
    struct cgroup_hugetlb_stat *entry;
    size_t i, count;
    char *events;
    int rc = cgroup_hugepage_sizes(sizes, CGROUP_HUGEPAGE_SIZES_MAX, &count, err);

    for (i = 0; !rc && i < count; i++) {
        /* The reservation counter when the kernel has it, as runc reports. */
        snprintf(name, sizeof(name), "hugetlb.%s.rsvd.current", sizes[i]);
        if (!cgroup_file_exists(path, name))
            snprintf(name, sizeof(name), "hugetlb.%s.current", sizes[i]);
        if (!cgroup_file_exists(path, name))
            continue;
        if ((rc = cgroup_stats_hugetlb(stats, sizes[i], &entry, err)) ||
            (rc = read_optional(path, name, &entry->usage, err)))
            break;
        snprintf(name, sizeof(name), "hugetlb.%s.events", sizes[i]);
        if ((rc = read_optional_text(path, name, &events, err)))
            break;
        if (events) {
            cgroup_stats_flat_value(events, "max", &entry->failcnt);
            free(events);
        }
    }
    return rc;
}

int cgroup_v2_stats(const char *path, struct json_writer *writer, struct berr *err)
{
    static const struct {
        const char *what;
        int (*read)(const char *path, struct cgroup_stats *stats, struct berr *err);
    } readers[] = {
        {"cpu", stats_cpu}, {"memory", stats_memory},   {"pids", stats_pids},
        {"io", stats_io},   {"hugetlb", stats_hugetlb},
    };
    struct cgroup_stats stats;
    struct berr local;
    size_t i;
    int rc = 0;

    if (!err)
        err = &local;
    cgroup_stats_init(&stats);
    for (i = 0; i < TABLE_SIZE(readers) && !rc; i++)
        if ((rc = readers[i].read(path, &stats, err)))
            berr_prefix(err, "%s statistics", readers[i].what);
    if (!rc)
        cgroup_stats_write(&stats, writer);
    cgroup_stats_free(&stats);
    return rc;
}
