/*
 * api_stats: GET /containers/{id}/stats, Docker's StatsJSON from the
 * runtime's `events --stats` data (Tasks.Metrics; runc's types.Stats, see
 * ociruntime/cgroup_stats.c), plus what dockerd adds itself: the host's
 * CPU time (/proc/stat, for the CLI's CPU %), the online CPUs, the
 * container's network interfaces (/proc/PID/net/dev, loopback left out
 * as dockerd's sandbox statistics leave it), its name and id.
 *
 * As dockerd: stream=1 (the default) sends a sample every second, the
 * first with empty precpu_stats; stream=0 takes two samples a second
 * apart and sends the second (so the CLI's CPU % is not zero); one-shot=1
 * (with stream=0) sends one sample at once. A container that is not
 * running gives samples of zeros (stream=0: one at once).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container_store.h"
#include "engine.h"
#include "log.h"
#include "supervisor_api.h"
#include "timefmt.h"

#define INTERVAL_MS 1000

/* ---- one sample ---- */

struct cpu_sample {
    yajl_val cpu;          /* the runtime's "cpu" object (NULL: zeros) */
    uint64_t system_usage; /* ns of host CPU time */
    uint32_t online_cpus;
};

struct sample {
    int64_t read;  /* ns; 0: none */
    yajl_val data; /* the runtime's data object (NULL: not running) */
    struct cpu_sample cpu;
    uint32_t pid;
};

static void sample_clear(struct sample *sample)
{
    yajl_tree_free(sample->data);
    memset(sample, 0, sizeof(*sample));
}

/* dockerd's getSystemCPUUsage: the first 7 fields of /proc/stat's "cpu"
 * line, in clock ticks, as ns. */
static uint64_t system_cpu_usage(void)
{
    unsigned long long fields[7] = {0}, total = 0;
    long ticks = sysconf(_SC_CLK_TCK);
    FILE *stat = fopen("/proc/stat", "re");
    int got;

    if (!stat)
        return 0;
    got = fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu", &fields[0], &fields[1], &fields[2],
                 &fields[3], &fields[4], &fields[5], &fields[6]);
    fclose(stat);
    for (int i = 0; i < got && i < 7; i++)
        total += fields[i];
    return ticks > 0 ? total * (1000000000ULL / (unsigned long long)ticks) : 0;
}

static void take_sample(struct engine *engine, struct container *container, struct sample *out)
{
    char *data = NULL;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct berr err;
    bool running;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&container->lock);
    running = container->state.running && !container->state.restarting;
    out->pid = container->state.pid;
    pthread_mutex_unlock(&container->lock);
    if (!running)
        return;
    if (sv_task_metrics(engine->supervisor, container->id, &data, &out->read, &err)) {
        if (err.code != BERR_NOT_FOUND)
            log_warn("stats of %.12s: %s", container->id, err.message);
        return;
    }
    if (json_parse(data, &out->data, &err))
        log_warn("stats of %.12s: %s", container->id, err.message);
    free(data);
    out->cpu.cpu = json_get(out->data, "cpu");
    out->cpu.system_usage = system_cpu_usage();
    out->cpu.online_cpus = cpus > 0 ? (uint32_t)cpus : 1;
}

/* ---- writing Docker's shape ---- */

static uint64_t number(yajl_val object, const char *key)
{
    yajl_val value = json_get(object, key);

    return YAJL_IS_INTEGER(value) && YAJL_GET_INTEGER(value) > 0 ? (uint64_t)YAJL_GET_INTEGER(value)
                                                                 : 0;
}

/* An array of numbers as it is, or nothing when absent (omitempty). */
static void write_number_array(struct json_writer *writer, const char *key, yajl_val array)
{
    if (!YAJL_IS_ARRAY(array) || !array->u.array.len)
        return;
    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        json_uint(writer, YAJL_IS_INTEGER(item) && YAJL_GET_INTEGER(item) > 0
                              ? (uint64_t)YAJL_GET_INTEGER(item)
                              : 0);
    }
    json_array_end(writer);
}

static void write_cpu(struct json_writer *writer, const char *key, const struct cpu_sample *cpu)
{
    yajl_val usage = json_get(cpu->cpu, "usage"), throttling = json_get(cpu->cpu, "throttling");

    json_key(writer, key);
    json_object_begin(writer);
    json_key(writer, "cpu_usage");
    json_object_begin(writer);
    json_kv_uint(writer, "total_usage", number(usage, "total"));
    write_number_array(writer, "percpu_usage", json_get(usage, "percpu"));
    json_kv_uint(writer, "usage_in_kernelmode", number(usage, "kernel"));
    json_kv_uint(writer, "usage_in_usermode", number(usage, "user"));
    json_object_end(writer);
    if (cpu->system_usage)
        json_kv_uint(writer, "system_cpu_usage", cpu->system_usage);
    if (cpu->online_cpus)
        json_kv_uint(writer, "online_cpus", cpu->online_cpus);
    json_key(writer, "throttling_data");
    json_object_begin(writer);
    json_kv_uint(writer, "periods", number(throttling, "periods"));
    json_kv_uint(writer, "throttled_periods", number(throttling, "throttledPeriods"));
    json_kv_uint(writer, "throttled_time", number(throttling, "throttledTime"));
    json_object_end(writer);
    json_object_end(writer);
}

static void write_blkio(struct json_writer *writer, yajl_val blkio)
{
    static const char *const names[][2] = {
        {"io_service_bytes_recursive", "ioServiceBytesRecursive"},
        {"io_serviced_recursive", "ioServicedRecursive"},
        {"io_queue_recursive", "ioQueueRecursive"},
        {"io_service_time_recursive", "ioServiceTimeRecursive"},
        {"io_wait_time_recursive", "ioWaitTimeRecursive"},
        {"io_merged_recursive", "ioMergedRecursive"},
        {"io_time_recursive", "ioTimeRecursive"},
        {"sectors_recursive", "sectorsRecursive"},
    };

    json_key(writer, "blkio_stats");
    json_object_begin(writer);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        yajl_val entries = json_get(blkio, names[i][1]);
        const char *op;
        json_key(writer, names[i][0]);
        if (!YAJL_IS_ARRAY(entries)) {
            json_null(writer);
            continue;
        }
        json_array_begin(writer);
        for (size_t j = 0; j < entries->u.array.len; j++) {
            yajl_val entry = entries->u.array.values[j];
            json_object_begin(writer);
            json_kv_uint(writer, "major", number(entry, "major"));
            json_kv_uint(writer, "minor", number(entry, "minor"));
            op = YAJL_IS_STRING(json_get(entry, "op")) ? json_get(entry, "op")->u.string : "";
            json_kv_string(writer, "op", op);
            json_kv_uint(writer, "value", number(entry, "value"));
            json_object_end(writer);
        }
        json_array_end(writer);
    }
    json_object_end(writer);
}

static uint64_t machine_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

static void write_memory(struct json_writer *writer, yajl_val memory)
{
    yajl_val usage = json_get(memory, "usage"), raw = json_get(memory, "raw");
    uint64_t limit = number(usage, "limit"), machine = machine_memory();

    /* No limit reads as the largest number: dockerd shows the host's memory. */
    if (machine && (limit > machine || (!limit && memory)))
        limit = machine;
    json_key(writer, "memory_stats");
    json_object_begin(writer);
    if (number(usage, "usage"))
        json_kv_uint(writer, "usage", number(usage, "usage"));
    if (number(usage, "max"))
        json_kv_uint(writer, "max_usage", number(usage, "max"));
    if (YAJL_IS_OBJECT(raw) && raw->u.object.len) {
        json_key(writer, "stats");
        json_value(writer, raw);
    }
    if (number(usage, "failcnt"))
        json_kv_uint(writer, "failcnt", number(usage, "failcnt"));
    if (limit)
        json_kv_uint(writer, "limit", limit);
    json_object_end(writer);
}

/* The container's interfaces but loopback, from its network namespace. */
static void write_networks(struct json_writer *writer, uint32_t pid)
{
    static const char *const names[] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                        "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};
    char path[64], line[512];
    bool any = false;
    FILE *dev;

    snprintf(path, sizeof(path), "/proc/%u/net/dev", pid);
    if (!pid || !(dev = fopen(path, "re")))
        return;
    while (fgets(line, sizeof(line), dev)) {
        unsigned long long v[16] = {0};
        char name[64];
        if (sscanf(line, " %63[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                   name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                   &v[10], &v[11]) != 13 ||
            strcmp(name, "lo") == 0)
            continue;
        if (!any) {
            json_key(writer, "networks");
            json_object_begin(writer);
            any = true;
        }
        unsigned long long values[] = {v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11]};
        json_key(writer, name);
        json_object_begin(writer);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            json_kv_uint(writer, names[i], values[i]);
        json_object_end(writer);
    }
    if (any)
        json_object_end(writer);
    fclose(dev);
}

struct stats_view {
    const char *name, *id;
    bool host_network;
};

static void write_stats(struct json_writer *writer, const struct stats_view *view,
                        const struct sample *now, const struct sample *before)
{
    char read[TIMEFMT_SIZE], preread[TIMEFMT_SIZE];
    yajl_val pids = json_get(now->data, "pids");

    json_object_begin(writer);
    json_kv_string(writer, "read", timefmt_rfc3339(now->read, read));
    json_kv_string(writer, "preread", timefmt_rfc3339(before->read, preread));
    json_key(writer, "pids_stats");
    json_object_begin(writer);
    if (number(pids, "current"))
        json_kv_uint(writer, "current", number(pids, "current"));
    if (number(pids, "limit"))
        json_kv_uint(writer, "limit", number(pids, "limit"));
    json_object_end(writer);
    write_blkio(writer, json_get(now->data, "blkio"));
    json_kv_uint(writer, "num_procs", 0);
    json_key(writer, "storage_stats");
    json_object_begin(writer);
    json_object_end(writer);
    write_cpu(writer, "cpu_stats", &now->cpu);
    write_cpu(writer, "precpu_stats", &before->cpu);
    write_memory(writer, json_get(now->data, "memory"));
    json_kv_string(writer, "name", view->name);
    json_kv_string(writer, "id", view->id);
    if (now->data && !view->host_network)
        write_networks(writer, now->pid);
    json_object_end(writer);
}

/* ---- the endpoint ---- */

struct stats_request {
    struct engine *engine;
    struct container *container;
    bool stream, one_shot;
};

static void free_stats_request(void *context)
{
    struct stats_request *stats = context;

    container_put(stats->container);
    free(stats);
}

static int send_stats(struct http_stream *stream, struct stats_request *stats,
                      const struct sample *now, const struct sample *before)
{
    struct container *container = stats->container;
    struct container_settings *settings = container_settings_get(container);
    struct stats_view view = {.id = container->id, .host_network = settings->host_network};
    struct json_writer writer;
    const char *text;
    size_t length;
    char *name;
    struct berr err;
    int rc;

    pthread_mutex_lock(&container->lock);
    name = strdup(container->name);
    pthread_mutex_unlock(&container->lock);
    view.name = name ? name : "";
    if ((rc = json_writer_init(&writer, false, &err)) == 0) {
        write_stats(&writer, &view, now, before);
        if ((rc = json_writer_result(&writer, &text, &length, &err)) == 0 &&
            (rc = http_stream_write(stream, text, length, &err)) == 0)
            rc = http_stream_write(stream, "\n", 1, &err);
        json_writer_free(&writer);
    }
    free(name);
    container_settings_put(settings);
    return rc;
}

/* Sleeps an interval; false when the client left meanwhile. */
static bool pause_interval(struct http_stream *stream)
{
    struct pollfd ready = {http_stream_poll_fd(stream), POLLIN, 0};

    return poll(&ready, 1, INTERVAL_MS) == 0;
}

static void write_stats_stream(struct http_stream *stream, void *context)
{
    struct stats_request *stats = context;
    struct sample before = {0}, now = {0};

    take_sample(stats->engine, stats->container, &now);
    if (!stats->stream && !stats->one_shot && now.data) {
        /* Prime precpu_stats, as dockerd does, so CPU % is not zero. */
        before = now;
        memset(&now, 0, sizeof(now));
        if (!pause_interval(stream))
            goto out;
        take_sample(stats->engine, stats->container, &now);
    }
    while (send_stats(stream, stats, &now, &before) == 0 && stats->stream &&
           pause_interval(stream)) {
        sample_clear(&before);
        before = now;
        take_sample(stats->engine, stats->container, &now);
    }
out:
    sample_clear(&before);
    sample_clear(&now);
}

static void get_stats(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct stats_request *stats = calloc(1, sizeof(*stats));
    struct berr err;

    if (!stats) {
        http_respond_error(request, 500, "out of memory");
        return;
    }
    stats->engine = engine;
    stats->stream = http_request_query_bool(request, "stream", true);
    stats->one_shot = http_request_query_bool(request, "one-shot", false);
    if (stats->stream && stats->one_shot) {
        free(stats);
        http_respond_error(request, 400, "cannot have stream=true and one-shot=true");
        return;
    }
    if (container_store_get(engine->containers, http_request_param(request, "id"),
                            &stats->container, &err)) {
        free(stats);
        http_respond_berr(request, &err);
        return;
    }
    http_respond_stream(request, 200, "application/json", write_stats_stream, stats,
                        free_stats_request);
}

int api_stats_register(struct engine *engine, struct berr *err)
{
    return http_server_route(engine->http, "GET", "/containers/{id}/stats", get_stats, engine, 0,
                             err);
}
