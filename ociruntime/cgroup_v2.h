/*
 * cgroup_v2: resource files, device filtering and statistics of the
 * unified (v2) hierarchy. Device rules on v2 are an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the container's cgroup.
 */
#ifndef BERTH_RUNTIME_CGROUP_V2_H
#define BERTH_RUNTIME_CGROUP_V2_H

#include <stdbool.h>

#include "berr.h"
#include "cgroup.h"
#include "cgroup_resources.h"
#include "json.h"

/* Enables the controllers the resources need in every ancestor's
 * cgroup.subtree_control, from the hierarchy root down to path's parent. */
int cgroup_v2_enable_controllers(const char *path, const struct cgroup_resources *resources,
                                 struct berr *err);

/* Writes the limits (and the device filter) to the cgroup at path. */
int cgroup_v2_apply(const char *path, const struct cgroup_resources *resources, struct berr *err);

/* Adds "cpu", "memory", "pids", "blkio", "hugetlb" members to an open JSON object. */
int cgroup_v2_stats(const char *path, struct json_writer *writer, struct berr *err);

#endif
