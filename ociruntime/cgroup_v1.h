/*
 * cgroup_v1: resource files and statistics of cgroup v1 controllers.
 * Called by cgroup.c for each v1 hierarchy of a container; a hierarchy may
 * carry several controllers ("cpu,cpuacct"), and each function handles the
 * ones it finds in hierarchy->controllers.
 */
#ifndef BERTH_RUNTIME_CGROUP_V1_H
#define BERTH_RUNTIME_CGROUP_V1_H

#include <stdbool.h>

#include "berr.h"
#include "cgroup.h"
#include "cgroup_resources.h"
#include "json.h"

/* Writes the limits that belong to this hierarchy's controllers; the v2
 * hierarchy and controllers without limits ("name=systemd", "freezer")
 * get nothing. Errors name the file and value. */
int cgroup_v1_apply(const struct cgroup_hierarchy *hierarchy,
                    const struct cgroup_resources *resources, struct berr *err);

/* True when the resources ask for something the host's v1 hierarchies cannot
 * do (a controller that is not mounted); fills err with what. */
int cgroup_v1_check(const struct cgroup *cgroup, const struct cgroup_resources *resources,
                    struct berr *err);

/* Adds "cpu", "memory", "pids", "blkio", "hugetlb" members to an open JSON
 * object, from whichever v1 hierarchies the container has. */
int cgroup_v1_stats(const struct cgroup *cgroup, struct json_writer *writer, struct berr *err);

#endif
