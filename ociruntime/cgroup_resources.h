/*
 * cgroup_resources: the "linux.resources" object of the OCI spec, parsed.
 *
 * Shared by config.json (create), `update -r resources.json` and the update
 * flags. Every field is optional: an unset field is left as the kernel has
 * it. The cgroup drivers (cgroup_v1.c, cgroup_v2.c) turn this into files.
 */
#ifndef BERTH_RUNTIME_CGROUP_RESOURCES_H
#define BERTH_RUNTIME_CGROUP_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "arena.h"
#include "berr.h"
#include "spec.h"

struct cgroup_device_rule {
    bool allow;
    char type;      /* 'a', 'c' or 'b' */
    int64_t major;  /* -1: any */
    int64_t minor;  /* -1: any */
    char access[4]; /* subset of "rwm", NUL-terminated */
};

struct cgroup_block_device_weight {
    int64_t major;
    int64_t minor;
    struct opt_u64 weight;
    struct opt_u64 leaf_weight;
};

struct cgroup_block_device_throttle {
    int64_t major;
    int64_t minor;
    uint64_t rate;
};

struct cgroup_throttle_list {
    struct cgroup_block_device_throttle *items;
    size_t count;
};

struct cgroup_hugepage_limit {
    const char *page_size; /* "2MB", "1GB", ... */
    uint64_t limit;
};

struct cgroup_unified_entry {
    const char *key; /* a cgroup v2 file name, e.g. "memory.high" */
    const char *value;
};

struct cgroup_network_priority {
    const char *interface;
    uint32_t priority;
};

struct cgroup_resources {
    /* memory; limits are bytes, -1 means unlimited */
    struct opt_i64 memory_limit;
    struct opt_i64 memory_reservation;
    struct opt_i64 memory_swap; /* memory + swap, as in the spec */
    struct opt_i64 memory_kernel;
    struct opt_i64 memory_kernel_tcp;
    struct opt_u64 memory_swappiness;
    bool has_disable_oom_killer;
    bool disable_oom_killer;
    bool has_use_hierarchy;
    bool use_hierarchy;
    bool check_before_update;

    /* cpu */
    struct opt_u64 cpu_shares;
    struct opt_i64 cpu_quota;
    struct opt_u64 cpu_burst;
    struct opt_u64 cpu_period;
    struct opt_i64 cpu_realtime_runtime;
    struct opt_u64 cpu_realtime_period;
    const char *cpuset_cpus;
    const char *cpuset_mems;
    struct opt_i64 cpu_idle;

    /* pids: limit <= 0 means unlimited */
    struct opt_i64 pids_limit;

    /* blockIO */
    struct opt_u64 blkio_weight;
    struct opt_u64 blkio_leaf_weight;
    struct cgroup_block_device_weight *blkio_weight_devices;
    size_t blkio_weight_device_count;
    struct cgroup_throttle_list throttle_read_bps;
    struct cgroup_throttle_list throttle_write_bps;
    struct cgroup_throttle_list throttle_read_iops;
    struct cgroup_throttle_list throttle_write_iops;

    struct cgroup_hugepage_limit *hugepage_limits;
    size_t hugepage_limit_count;

    struct cgroup_device_rule *devices;
    size_t device_count;

    struct opt_u64 network_class_id;
    struct cgroup_network_priority *network_priorities;
    size_t network_priority_count;

    struct cgroup_unified_entry *unified;
    size_t unified_count;
};

/* Parses a LinuxResources object into out (which the caller zeroes). */
int cgroup_resources_parse(struct arena *arena, yajl_val object, struct cgroup_resources *out,
                           struct berr *err);

#endif
