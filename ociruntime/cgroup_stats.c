/*
 * cgroup_stats: the `events --stats` data and its JSON. See cgroup_stats.h.
 *
 * The JSON follows runc's types.Stats field by field, including which
 * fields are left out when zero (Go's omitempty and omitzero): consumers
 * written against runc see the same document. Map keys (memory "raw",
 * "hugetlb") come out sorted, as Go's encoder sorts them.
 */
#include "cgroup_stats.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUGEPAGES_DIRECTORY "/sys/kernel/mm/hugepages"

static int out_of_memory(struct berr *err)
{
    return berr_set(err, BERR_NOMEM, "out of memory");
}

/* Makes room for one more element in a malloc'ed array. */
static int grow(void **items, size_t count, size_t *capacity, size_t size, struct berr *err)
{
    size_t new_capacity;
    void *bigger;

    if (count < *capacity)
        return 0;
    new_capacity = *capacity ? *capacity * 2 : 8;
    bigger = realloc(*items, new_capacity * size);
    if (!bigger)
        return out_of_memory(err);
    *items = bigger;
    *capacity = new_capacity;
    return 0;
}

void cgroup_stats_init(struct cgroup_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
}

void cgroup_stats_free(struct cgroup_stats *stats)
{
    size_t i;

    free(stats->cpu_percpu.items);
    free(stats->cpu_percpu_kernel.items);
    free(stats->cpu_percpu_user.items);
    for (i = 0; i < stats->memory_raw_count; i++)
        free(stats->memory_raw[i].key);
    free(stats->memory_raw);
    for (i = 0; i < BLKIO_KIND_COUNT; i++)
        free(stats->blkio[i].items);
    free(stats->hugetlb);
    cgroup_stats_init(stats);
}

int cgroup_stats_add_u64(struct cgroup_u64_list *list, uint64_t value, struct berr *err)
{
    int rc = grow((void **)&list->items, list->count, &list->capacity, sizeof(uint64_t), err);

    if (rc)
        return rc;
    list->items[list->count++] = value;
    return 0;
}

static int add_raw(struct cgroup_stats *stats, const char *key, size_t key_length, uint64_t value,
                   struct berr *err)
{
    struct cgroup_raw_stat *entry;
    int rc = grow((void **)&stats->memory_raw, stats->memory_raw_count, &stats->memory_raw_capacity,
                  sizeof(*stats->memory_raw), err);

    if (rc)
        return rc;
    entry = &stats->memory_raw[stats->memory_raw_count];
    entry->key = strndup(key, key_length);
    if (!entry->key)
        return out_of_memory(err);
    entry->value = value;
    stats->memory_raw_count++;
    return 0;
}

int cgroup_stats_add_raw(struct cgroup_stats *stats, const char *text, struct berr *err)
{
    const char *line = text;

    while (*line) {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        const char *space = memchr(line, ' ', length);
        char number[32];
        uint64_t value;
        size_t number_length = space ? length - (size_t)(space - line) - 1 : 0;

        if (space && space > line && number_length > 0 && number_length < sizeof(number)) {
            memcpy(number, space + 1, number_length);
            number[number_length] = '\0';
            if (sscanf(number, "%" SCNu64, &value) == 1) {
                int rc = add_raw(stats, line, (size_t)(space - line), value, err);
                if (rc)
                    return rc;
            }
        }
        line += length;
        if (*line == '\n')
            line++;
    }
    return 0;
}

uint64_t cgroup_stats_raw(const struct cgroup_stats *stats, const char *key)
{
    size_t i;

    for (i = 0; i < stats->memory_raw_count; i++)
        if (strcmp(stats->memory_raw[i].key, key) == 0)
            return stats->memory_raw[i].value;
    return 0;
}

bool cgroup_stats_flat_value(const char *text, const char *key, uint64_t *out)
{
    size_t key_length = strlen(key);
    const char *line = text;

    while (line && *line) {
        if (strncmp(line, key, key_length) == 0 && line[key_length] == ' ')
            return sscanf(line + key_length + 1, "%" SCNu64, out) == 1;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return false;
}

int cgroup_stats_add_blkio(struct cgroup_stats *stats, enum cgroup_blkio_kind kind, uint64_t major,
                           uint64_t minor, const char *op, uint64_t value, struct berr *err)
{
    struct cgroup_blkio_list *list = &stats->blkio[kind];
    struct cgroup_blkio_entry *entry;
    int rc = grow((void **)&list->items, list->count, &list->capacity, sizeof(*list->items), err);

    if (rc)
        return rc;
    entry = &list->items[list->count++];
    entry->major = major;
    entry->minor = minor;
    snprintf(entry->op, sizeof(entry->op), "%s", op);
    entry->value = value;
    return 0;
}

int cgroup_stats_hugetlb(struct cgroup_stats *stats, const char *page_size,
                         struct cgroup_hugetlb_stat **out, struct berr *err)
{
    struct cgroup_hugetlb_stat *entry;
    size_t i;
    int rc;

    for (i = 0; i < stats->hugetlb_count; i++) {
        if (strcmp(stats->hugetlb[i].page_size, page_size) == 0) {
            *out = &stats->hugetlb[i];
            return 0;
        }
    }
    rc = grow((void **)&stats->hugetlb, stats->hugetlb_count, &stats->hugetlb_capacity,
              sizeof(*stats->hugetlb), err);
    if (rc)
        return rc;
    entry = &stats->hugetlb[stats->hugetlb_count++];
    memset(entry, 0, sizeof(*entry));
    snprintf(entry->page_size, sizeof(entry->page_size), "%s", page_size);
    *out = entry;
    return 0;
}

/* ---- huge page sizes ---- */

/* The kernel's own naming of hugetlb cgroup files: whole KB, MB or GB. */
static void name_page_size(uint64_t bytes, char name[16])
{
    if (bytes >= (1ULL << 30))
        snprintf(name, 16, "%" PRIu64 "GB", bytes >> 30);
    else if (bytes >= (1ULL << 20))
        snprintf(name, 16, "%" PRIu64 "MB", bytes >> 20);
    else
        snprintf(name, 16, "%" PRIu64 "KB", bytes >> 10);
}

static int compare_names(const void *left, const void *right)
{
    return strcmp(left, right);
}

int cgroup_hugepage_sizes(char sizes[][16], size_t capacity, size_t *count, struct berr *err)
{
    DIR *directory = opendir(HUGEPAGES_DIRECTORY);
    struct dirent *entry;
    size_t found = 0;

    *count = 0;
    if (!directory) {
        if (errno == ENOENT)
            return 0;
        return berr_errno(err, errno, "open %s", HUGEPAGES_DIRECTORY);
    }
    while ((entry = readdir(directory))) {
        uint64_t kilobytes;
        char unit[4];
        if (sscanf(entry->d_name, "hugepages-%" SCNu64 "%3s", &kilobytes, unit) != 2 ||
            strcmp(unit, "kB") != 0)
            continue;
        if (found == capacity)
            break;
        name_page_size(kilobytes * 1024, sizes[found++]);
    }
    closedir(directory);
    qsort(sizes, found, sizeof(sizes[0]), compare_names);
    *count = found;
    return 0;
}

/* ---- JSON ---- */

static void write_u64_list(struct json_writer *writer, const char *key,
                           const struct cgroup_u64_list *list)
{
    size_t i;

    if (!list->count)
        return;
    json_key(writer, key);
    json_array_begin(writer);
    for (i = 0; i < list->count; i++)
        json_uint(writer, list->items[i]);
    json_array_end(writer);
}

/* "key": value, left out when zero (omitempty). */
static void write_nonzero(struct json_writer *writer, const char *key, uint64_t value)
{
    if (value)
        json_kv_uint(writer, key, value);
}

static void write_cpu(const struct cgroup_stats *stats, struct json_writer *writer)
{
    bool has_usage = stats->cpu_total || stats->cpu_percpu.count ||
                     stats->cpu_percpu_kernel.count || stats->cpu_percpu_user.count ||
                     stats->cpu_kernel || stats->cpu_user;
    bool has_throttling = stats->throttling_periods || stats->throttling_throttled_periods ||
                          stats->throttling_throttled_time;

    json_key(writer, "cpu");
    json_object_begin(writer);
    if (has_usage) {
        json_key(writer, "usage");
        json_object_begin(writer);
        write_nonzero(writer, "total", stats->cpu_total);
        write_u64_list(writer, "percpu", &stats->cpu_percpu);
        write_u64_list(writer, "percpu_kernel", &stats->cpu_percpu_kernel);
        write_u64_list(writer, "percpu_user", &stats->cpu_percpu_user);
        json_kv_uint(writer, "kernel", stats->cpu_kernel);
        json_kv_uint(writer, "user", stats->cpu_user);
        json_object_end(writer);
    }
    if (has_throttling) {
        json_key(writer, "throttling");
        json_object_begin(writer);
        write_nonzero(writer, "periods", stats->throttling_periods);
        write_nonzero(writer, "throttledPeriods", stats->throttling_throttled_periods);
        write_nonzero(writer, "throttledTime", stats->throttling_throttled_time);
        json_object_end(writer);
    }
    json_object_end(writer);
}

/* A memory entry, left out when entirely zero (omitzero). */
static void write_memory_entry(struct json_writer *writer, const char *key,
                               const struct cgroup_memory_entry *entry)
{
    if (!entry->limit && !entry->usage && !entry->max && !entry->failcnt)
        return;
    json_key(writer, key);
    json_object_begin(writer);
    json_kv_uint(writer, "limit", entry->limit);
    write_nonzero(writer, "usage", entry->usage);
    write_nonzero(writer, "max", entry->max);
    json_kv_uint(writer, "failcnt", entry->failcnt);
    json_object_end(writer);
}

static int compare_raw(const void *left, const void *right)
{
    const struct cgroup_raw_stat *a = left, *b = right;

    return strcmp(a->key, b->key);
}

static void write_memory_raw(const struct cgroup_stats *stats, struct json_writer *writer)
{
    size_t i;

    if (!stats->memory_raw_count)
        return;
    json_key(writer, "raw");
    json_object_begin(writer);
    for (i = 0; i < stats->memory_raw_count; i++)
        json_kv_uint(writer, stats->memory_raw[i].key, stats->memory_raw[i].value);
    json_object_end(writer);
}

static void write_memory(const struct cgroup_stats *stats, struct json_writer *writer)
{
    json_key(writer, "memory");
    json_object_begin(writer);
    write_nonzero(writer, "cache", stats->memory_cache);
    write_memory_entry(writer, "usage", &stats->memory_usage);
    write_memory_entry(writer, "swap", &stats->memory_swap);
    write_memory_entry(writer, "kernel", &stats->memory_kernel);
    write_memory_entry(writer, "kernelTCP", &stats->memory_kernel_tcp);
    write_memory_raw(stats, writer);
    json_object_end(writer);
}

static void write_pids(const struct cgroup_stats *stats, struct json_writer *writer)
{
    json_key(writer, "pids");
    json_object_begin(writer);
    write_nonzero(writer, "current", stats->pids_current);
    write_nonzero(writer, "limit", stats->pids_limit);
    json_object_end(writer);
}

static const char *const blkio_names[BLKIO_KIND_COUNT] = {
    [BLKIO_SERVICE_BYTES] = "ioServiceBytesRecursive",
    [BLKIO_SERVICED] = "ioServicedRecursive",
    [BLKIO_QUEUED] = "ioQueueRecursive",
    [BLKIO_SERVICE_TIME] = "ioServiceTimeRecursive",
    [BLKIO_WAIT_TIME] = "ioWaitTimeRecursive",
    [BLKIO_MERGED] = "ioMergedRecursive",
    [BLKIO_TIME] = "ioTimeRecursive",
    [BLKIO_SECTORS] = "sectorsRecursive",
};

static void write_blkio(const struct cgroup_stats *stats, struct json_writer *writer)
{
    size_t kind, i;

    json_key(writer, "blkio");
    json_object_begin(writer);
    for (kind = 0; kind < BLKIO_KIND_COUNT; kind++) {
        const struct cgroup_blkio_list *list = &stats->blkio[kind];
        if (!list->count)
            continue;
        json_key(writer, blkio_names[kind]);
        json_array_begin(writer);
        for (i = 0; i < list->count; i++) {
            const struct cgroup_blkio_entry *entry = &list->items[i];
            json_object_begin(writer);
            write_nonzero(writer, "major", entry->major);
            write_nonzero(writer, "minor", entry->minor);
            if (entry->op[0])
                json_kv_string(writer, "op", entry->op);
            write_nonzero(writer, "value", entry->value);
            json_object_end(writer);
        }
        json_array_end(writer);
    }
    json_object_end(writer);
}

static int compare_hugetlb(const void *left, const void *right)
{
    const struct cgroup_hugetlb_stat *a = left, *b = right;

    return strcmp(a->page_size, b->page_size);
}

static void write_hugetlb(const struct cgroup_stats *stats, struct json_writer *writer)
{
    size_t i;

    json_key(writer, "hugetlb");
    json_object_begin(writer);
    for (i = 0; i < stats->hugetlb_count; i++) {
        const struct cgroup_hugetlb_stat *entry = &stats->hugetlb[i];
        json_key(writer, entry->page_size);
        json_object_begin(writer);
        write_nonzero(writer, "usage", entry->usage);
        write_nonzero(writer, "max", entry->max);
        json_kv_uint(writer, "failcnt", entry->failcnt);
        json_object_end(writer);
    }
    json_object_end(writer);
}

void cgroup_stats_write(struct cgroup_stats *stats, struct json_writer *writer)
{
    if (stats->memory_raw_count)
        qsort(stats->memory_raw, stats->memory_raw_count, sizeof(*stats->memory_raw), compare_raw);
    if (stats->hugetlb_count)
        qsort(stats->hugetlb, stats->hugetlb_count, sizeof(*stats->hugetlb), compare_hugetlb);
    write_cpu(stats, writer);
    write_memory(stats, writer);
    write_pids(stats, writer);
    write_blkio(stats, writer);
    write_hugetlb(stats, writer);
}
