/*
 * cgroup_v2: resource files, device filtering and statistics of the
 * unified (v2) hierarchy. Device rules on v2 are an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the container's cgroup.
 */
#ifndef BERTH_RUNTIME_CGROUP_V2_H
#define BERTH_RUNTIME_CGROUP_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "cgroup.h"
#include "cgroup_resources.h"
#include "json.h"

/* Enables the controllers the resources need in every ancestor's
 * cgroup.subtree_control, from the hierarchy root (the top of the cgroup2
 * mount holding path) down to path's parent, which must exist. A needed
 * controller the root does not offer is BERR_UNSUPPORTED, before any write. */
int cgroup_v2_enable_controllers(const char *path, const struct cgroup_resources *resources,
                                 struct berr *err);

/* Writes the limits (and the device filter) to the cgroup at path. With
 * no device rules in resources, an attached filter is left as it is. */
int cgroup_v2_apply(const char *path, const struct cgroup_resources *resources, struct berr *err);

/* Adds "cpu", "memory", "pids", "blkio", "hugetlb" members to an open JSON object. */
int cgroup_v2_stats(const char *path, struct json_writer *writer, struct berr *err);

/* Refuses the resources cgroup v2 has no file for (kernel memory,
 * swappiness, realtime cpu, leaf weights, net_cls/net_prio, ...) with
 * BERR_UNSUPPORTED. cgroup_v2_enable_controllers and cgroup_v2_apply call
 * it first; it touches nothing. */
int cgroup_v2_check(const struct cgroup_resources *resources, struct berr *err);

/* cgroup_v2_enable_controllers with the hierarchy root given: enables in
 * root and each directory below it down to path's parent. */
int cgroup_v2_enable_controllers_from(const char *root, const char *path,
                                      const struct cgroup_resources *resources, struct berr *err);

/* Conversions from the v1 units of the OCI spec. */
/* cpu.shares (2..262144) to cpu.weight (1..10000); 0 stays 0 (unset). */
uint64_t cgroup_v2_cpu_weight(uint64_t shares);
/* blkio weight (10..1000) to io.weight (1..10000); 0 stays 0 (unset). */
uint64_t cgroup_v2_io_weight(uint64_t blkio_weight);
/* memory.swap.max from the spec's memory+swap and the memory limit (-1 for
 * unlimited): "max", a number, or "" when there is nothing to write. */
int cgroup_v2_swap_max(bool swap_set, int64_t swap, int64_t limit, char *text, size_t size,
                       struct berr *err);
/* cpu.max ("quota period", "max period" or just "quota"), or "" when
 * neither is set. current is the file's present text, used when only the
 * period changes (it may be NULL otherwise). */
void cgroup_v2_cpu_max(const struct cgroup_resources *resources, const char *current, char *text,
                       size_t size);

#endif
