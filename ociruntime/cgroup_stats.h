/*
 * cgroup_stats: the statistics of `events --stats`, whichever cgroup
 * version they come from.
 *
 * Why: runc's `events --stats` output is what the engine (and Docker
 * clients above it) read, so berth writes the same "data" object: runc's
 * types.Stats members cpu, memory, pids, blkio and hugetlb, with the same
 * names, nesting and omitted-when-zero fields. The v1 and v2 drivers fill
 * this struct from their files; cgroup_stats_write is the one place that
 * knows the JSON shape.
 */
#ifndef BERTH_RUNTIME_CGROUP_STATS_H
#define BERTH_RUNTIME_CGROUP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "json.h"

struct cgroup_u64_list {
    uint64_t *items;
    size_t count;
    size_t capacity;
};

struct cgroup_memory_entry {
    uint64_t limit;
    uint64_t usage;
    uint64_t max;
    uint64_t failcnt;
};

struct cgroup_raw_stat {
    char *key;
    uint64_t value;
};

struct cgroup_blkio_entry {
    uint64_t major;
    uint64_t minor;
    char op[16];
    uint64_t value;
};

struct cgroup_blkio_list {
    struct cgroup_blkio_entry *items;
    size_t count;
    size_t capacity;
};

/* The blkio lists, in runc's order; see cgroup_stats.c for their names. */
enum cgroup_blkio_kind {
    BLKIO_SERVICE_BYTES,
    BLKIO_SERVICED,
    BLKIO_QUEUED,
    BLKIO_SERVICE_TIME,
    BLKIO_WAIT_TIME,
    BLKIO_MERGED,
    BLKIO_TIME,
    BLKIO_SECTORS,
    BLKIO_KIND_COUNT,
};

struct cgroup_hugetlb_stat {
    char page_size[16]; /* "2MB" */
    uint64_t usage;
    uint64_t max;
    uint64_t failcnt;
};

struct cgroup_stats {
    /* cpu; times in nanoseconds */
    uint64_t cpu_total;
    struct cgroup_u64_list cpu_percpu;
    struct cgroup_u64_list cpu_percpu_kernel;
    struct cgroup_u64_list cpu_percpu_user;
    uint64_t cpu_kernel;
    uint64_t cpu_user;
    uint64_t throttling_periods;
    uint64_t throttling_throttled_periods;
    uint64_t throttling_throttled_time;

    /* memory */
    uint64_t memory_cache;
    struct cgroup_memory_entry memory_usage;
    struct cgroup_memory_entry memory_swap;
    struct cgroup_memory_entry memory_kernel;
    struct cgroup_memory_entry memory_kernel_tcp;
    struct cgroup_raw_stat *memory_raw;
    size_t memory_raw_count;
    size_t memory_raw_capacity;

    /* pids; limit 0 is "no limit" */
    uint64_t pids_current;
    uint64_t pids_limit;

    struct cgroup_blkio_list blkio[BLKIO_KIND_COUNT];

    struct cgroup_hugetlb_stat *hugetlb;
    size_t hugetlb_count;
    size_t hugetlb_capacity;
};

void cgroup_stats_init(struct cgroup_stats *stats);
void cgroup_stats_free(struct cgroup_stats *stats);

int cgroup_stats_add_u64(struct cgroup_u64_list *list, uint64_t value, struct berr *err);
/* Adds every "key value" line of a memory.stat text to memory_raw. */
int cgroup_stats_add_raw(struct cgroup_stats *stats, const char *text, struct berr *err);
/* The value of a raw key, or 0. */
uint64_t cgroup_stats_raw(const struct cgroup_stats *stats, const char *key);
/* The value of key in a "key value" per line text (cpu.stat); false if absent. */
bool cgroup_stats_flat_value(const char *text, const char *key, uint64_t *out);
int cgroup_stats_add_blkio(struct cgroup_stats *stats, enum cgroup_blkio_kind kind, uint64_t major,
                           uint64_t minor, const char *op, uint64_t value, struct berr *err);
/* The entry for page_size, added if new. */
int cgroup_stats_hugetlb(struct cgroup_stats *stats, const char *page_size,
                         struct cgroup_hugetlb_stat **out, struct berr *err);

#define CGROUP_HUGEPAGE_SIZES_MAX 16

/* The huge page sizes of this host as the kernel names them in cgroup
 * files ("2MB", "1GB"), from /sys/kernel/mm/hugepages, sorted. None (and
 * no error) when the kernel has no huge pages. */
int cgroup_hugepage_sizes(char sizes[][16], size_t capacity, size_t *count, struct berr *err);

/* Writes the members "cpu", "memory", "pids", "blkio", "hugetlb" into an
 * open JSON object. Sorts the maps (raw, hugetlb) in place first. */
void cgroup_stats_write(struct cgroup_stats *stats, struct json_writer *writer);

#endif
