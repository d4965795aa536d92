/*
 * host_info: facts about the machine that /info reports (cgroup version
 * and controllers, the OS, memory, CPUs, the filesystem under the root,
 * forwarding), read from /proc, /sys and /etc when asked.
 *
 * Why a module: they are plain file reads with fallbacks, testable alone,
 * and /info should not grow a page of parsing. Nothing here fails: an
 * unreadable fact is reported as unknown (empty, false or 0), as dockerd
 * does with its warnings.
 */
#ifndef BERTH_ENGINED_HOST_INFO_H
#define BERTH_ENGINED_HOST_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "berr.h"

struct host_info {
    char os_name[128];   /* os-release PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)" */
    char os_version[64]; /* os-release VERSION_ID: "12" */
    char kernel[128];    /* uname -r */
    char machine[64];    /* uname -m: "x86_64" */
    char hostname[256];
    int cgroup_version; /* 1 or 2 */
    /* What the cgroup hierarchy offers (dockerd's sysinfo flags). */
    bool memory_limit, swap_limit, kernel_memory_tcp, cpu_cfs, cpu_shares, cpuset, pids_limit,
        oom_kill_disable;
    bool ipv4_forwarding, bridge_nf_iptables, bridge_nf_ip6tables;
    long cpus;
    int64_t memory_total; /* bytes */
    char backing_fs[32];  /* of the engine's root: "extfs", "xfs", "tmpfs"... */
};

/* root: the engine's --root (for the backing filesystem). */
void host_info_read(const char *root, struct host_info *out);

/* The engine's ID: a UUID made once and kept in ROOT/engine-id. */
int host_engine_id(const char *root, char *out, size_t size, struct berr *err);

/* The value of KEY= in an os-release style file ("KEY=value" or
 * KEY="value"), unquoted; false when absent. */
bool host_os_release_value(const char *path, const char *key, char *out, size_t size);

#endif
