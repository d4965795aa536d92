/*
 * container_config: see container_config.h. Config is written field by
 * field in Docker's order; HostConfig goes through one table of every
 * field with its default, so inspect always shows the full shape.
 */
#include "container_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "health.h"
#include "spec.h"

#define MIN_MEMORY     (6 * 1024 * 1024)
#define DEFAULT_SHM    (64 * 1024 * 1024)
#define DEFAULT_PERIOD 100000

/* ---- string vectors ---- */

static size_t vector_length(char *const *vector)
{
    size_t n = 0;

    while (vector && vector[n])
        n++;
    return n;
}

static int vector_push(char ***vector, const char *value, struct berr *err)
{
    size_t n = vector_length(*vector);
    char **grown = realloc(*vector, (n + 2) * sizeof(char *));

    if (!grown)
        return berr_set(err, BERR_NOMEM, "out of memory");
    *vector = grown;
    grown[n] = strdup(value);
    grown[n + 1] = NULL;
    return grown[n] ? 0 : berr_set(err, BERR_NOMEM, "out of memory");
}

int container_config_str_slice(yajl_val value, const char *what, char ***out, struct berr *err)
{
    size_t i;
    int rc;

    *out = NULL;
    if (!value || YAJL_IS_NULL(value))
        return 0;
    if (YAJL_IS_STRING(value)) {
        *out = calloc(1, sizeof(char *));
        if (!*out)
            return berr_set(err, BERR_NOMEM, "out of memory");
        return vector_push(out, value->u.string, err);
    }
    if (!YAJL_IS_ARRAY(value))
        return berr_set(err, BERR_INVALID, "%s: expected a string or an array of strings", what);
    *out = calloc(1, sizeof(char *));
    if (!*out)
        return berr_set(err, BERR_NOMEM, "out of memory");
    for (i = 0; i < value->u.array.len; i++) {
        yajl_val item = value->u.array.values[i];
        if (!YAJL_IS_STRING(item)) {
            json_free_string_array(*out);
            *out = NULL;
            return berr_set(err, BERR_INVALID, "%s[%zu]: expected a string", what, i);
        }
        if ((rc = vector_push(out, item->u.string, err)))
            return rc;
    }
    return 0;
}

static void write_vector(struct json_writer *writer, const char *key, char *const *vector)
{
    json_key(writer, key);
    if (!vector) {
        json_null(writer);
        return;
    }
    json_array_begin(writer);
    for (size_t i = 0; vector[i]; i++)
        json_string(writer, vector[i]);
    json_array_end(writer);
}

/* ---- Config ---- */

struct merged {
    char **env, **cmd, **entrypoint;
    const char *user, *working_dir, *stop_signal, *hostname;
    char hostname_buffer[256];
};

static void merged_free(struct merged *merged)
{
    json_free_string_array(merged->env);
    json_free_string_array(merged->cmd);
    json_free_string_array(merged->entrypoint);
}

static bool env_has_key(char *const *env, const char *entry)
{
    size_t key_length = strcspn(entry, "=");

    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], entry, key_length) == 0 &&
            (env[i][key_length] == '=' || env[i][key_length] == '\0'))
            return true;
    return false;
}

static int merge_env(yajl_val request, yajl_val image, struct merged *merged, struct berr *err)
{
    char **image_env = NULL;
    int rc;

    if ((rc = container_config_str_slice(json_get(request, "Env"), "Env", &merged->env, err)) ||
        (rc = container_config_str_slice(json_get(image, "Env"), "image Env", &image_env, err)))
        return rc;
    for (size_t i = 0; merged->env && merged->env[i]; i++) {
        if (merged->env[i][0] == '=' || !strchr(merged->env[i], '=')) {
            rc = berr_set(err, BERR_INVALID, "invalid environment variable: %s", merged->env[i]);
            goto out;
        }
    }
    if (!merged->env || !merged->env[0]) {
        json_free_string_array(merged->env);
        merged->env = image_env;
        image_env = NULL;
        goto out;
    }
    for (size_t i = 0; image_env && image_env[i]; i++)
        if (!env_has_key(merged->env, image_env[i]) &&
            (rc = vector_push(&merged->env, image_env[i], err)))
            goto out;
out:
    json_free_string_array(image_env);
    return rc;
}

static int merge_command(yajl_val request, yajl_val image, struct merged *merged, struct berr *err)
{
    char **image_cmd = NULL, **image_entrypoint = NULL;
    bool cleared;
    int rc;

    if ((rc = container_config_str_slice(json_get(request, "Cmd"), "Cmd", &merged->cmd, err)) ||
        (rc = container_config_str_slice(json_get(request, "Entrypoint"), "Entrypoint",
                                         &merged->entrypoint, err)) ||
        (rc = container_config_str_slice(json_get(image, "Cmd"), "image Cmd", &image_cmd, err)) ||
        (rc = container_config_str_slice(json_get(image, "Entrypoint"), "image Entrypoint",
                                         &image_entrypoint, err)))
        goto out;
    /* --entrypoint "": no entrypoint at all, not even the image's. */
    cleared =
        merged->entrypoint && vector_length(merged->entrypoint) == 1 && !merged->entrypoint[0][0];
    if (cleared) {
        json_free_string_array(merged->entrypoint);
        merged->entrypoint = NULL;
    } else if (vector_length(merged->entrypoint) == 0) {
        if (vector_length(merged->cmd) == 0) {
            json_free_string_array(merged->cmd);
            merged->cmd = image_cmd;
            image_cmd = NULL;
        }
        json_free_string_array(merged->entrypoint);
        merged->entrypoint = image_entrypoint;
        image_entrypoint = NULL;
    }
    if (!vector_length(merged->entrypoint) && !vector_length(merged->cmd))
        rc = berr_set(err, BERR_INVALID, "No command specified");
out:
    json_free_string_array(image_cmd);
    json_free_string_array(image_entrypoint);
    return rc;
}

static const char *string_or(yajl_val object, const char *key, const char *fallback)
{
    yajl_val value = json_get(object, key);

    return YAJL_IS_STRING(value) && *value->u.string ? value->u.string : fallback;
}

static int check_config_types(yajl_val request, struct berr *err)
{
    static const char *const strings[] = {"Hostname",   "Domainname", "User",
                                          "WorkingDir", "StopSignal", "MacAddress"};
    static const char *const booleans[] = {"AttachStdin", "AttachStdout", "AttachStderr",   "Tty",
                                           "OpenStdin",   "StdinOnce",    "NetworkDisabled"};
    static const char *const objects[] = {"Labels", "Volumes", "ExposedPorts", "Healthcheck",
                                          "HostConfig"};
    const char *text;
    bool flag;
    int64_t number;
    yajl_val object;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if ((rc = json_get_string(request, strings[i], &text, err)))
            return rc;
    for (i = 0; i < sizeof(booleans) / sizeof(booleans[0]); i++)
        if ((rc = json_get_bool(request, booleans[i], &flag, err)))
            return rc;
    for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
        if ((rc = json_get_object(request, objects[i], &object, err)))
            return rc;
    if ((rc = json_get_int64(request, "StopTimeout", &number, err)) ||
        (rc = health_config_check(json_get(request, "Healthcheck"), err)))
        return rc;
    object = json_get(request, "Labels");
    for (i = 0; object && i < object->u.object.len; i++)
        if (!YAJL_IS_STRING(object->u.object.values[i]))
            return berr_set(err, BERR_INVALID, "Labels.%s: expected a string",
                            object->u.object.keys[i]);
    return 0;
}

static int merge_config(const struct container_config_input *input, struct merged *merged,
                        struct berr *err)
{
    yajl_val request = input->request, image = input->image_config;
    yajl_val host = json_get(request, "HostConfig");
    const char *network_mode = string_or(host, "NetworkMode", "default");
    int rc;

    if ((rc = check_config_types(request, err)) || (rc = merge_env(request, image, merged, err)) ||
        (rc = merge_command(request, image, merged, err)))
        return rc;
    merged->user = string_or(request, "User", string_or(image, "User", ""));
    merged->working_dir = string_or(request, "WorkingDir", string_or(image, "WorkingDir", ""));
    merged->stop_signal = string_or(request, "StopSignal", string_or(image, "StopSignal", NULL));
    if (*merged->working_dir && merged->working_dir[0] != '/')
        return berr_set(err, BERR_INVALID,
                        "the working directory '%s' is invalid, it needs to be an absolute path",
                        merged->working_dir);
    merged->hostname = string_or(request, "Hostname", NULL);
    if (!merged->hostname && strcmp(network_mode, "host") == 0 &&
        gethostname(merged->hostname_buffer, sizeof(merged->hostname_buffer) - 1) == 0)
        merged->hostname = merged->hostname_buffer;
    if (!merged->hostname) {
        snprintf(merged->hostname_buffer, 13, "%s", input->id);
        merged->hostname = merged->hostname_buffer;
    }
    return 0;
}

/* Two objects as one: every key of primary, then secondary's others. */
static void write_union(struct json_writer *writer, const char *key, yajl_val primary,
                        yajl_val secondary, bool null_when_empty)
{
    size_t i, count = 0;

    if (YAJL_IS_OBJECT(primary))
        count += primary->u.object.len;
    if (YAJL_IS_OBJECT(secondary))
        count += secondary->u.object.len;
    json_key(writer, key);
    if (!count && null_when_empty) {
        json_null(writer);
        return;
    }
    json_object_begin(writer);
    for (i = 0; YAJL_IS_OBJECT(primary) && i < primary->u.object.len; i++) {
        json_key(writer, primary->u.object.keys[i]);
        json_value(writer, primary->u.object.values[i]);
    }
    for (i = 0; YAJL_IS_OBJECT(secondary) && i < secondary->u.object.len; i++) {
        if (json_get(primary, secondary->u.object.keys[i]))
            continue;
        json_key(writer, secondary->u.object.keys[i]);
        json_value(writer, secondary->u.object.values[i]);
    }
    json_object_end(writer);
}

/* Healthcheck: the user's fields, the image's for those left at zero. */
static void write_healthcheck(struct json_writer *writer, yajl_val user, yajl_val image)
{
    static const char *const fields[] = {"Test",        "Interval",      "Timeout",
                                         "StartPeriod", "StartInterval", "Retries"};

    if (!YAJL_IS_OBJECT(user) && !YAJL_IS_OBJECT(image))
        return;
    json_key(writer, "Healthcheck");
    json_object_begin(writer);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        yajl_val value = json_get(user, fields[i]);
        bool empty = !value || YAJL_IS_NULL(value) ||
                     (YAJL_IS_NUMBER(value) && YAJL_GET_INTEGER(value) == 0) ||
                     (YAJL_IS_ARRAY(value) && value->u.array.len == 0);
        if (empty)
            value = json_get(image, fields[i]);
        if (!value || YAJL_IS_NULL(value))
            continue;
        json_key(writer, fields[i]);
        json_value(writer, value);
    }
    json_object_end(writer);
}

static void write_bool_field(struct json_writer *writer, yajl_val request, const char *key)
{
    bool value = false;

    json_get_bool(request, key, &value, NULL);
    json_kv_bool(writer, key, value);
}

static void write_config(struct json_writer *writer, const struct container_config_input *input,
                         const struct merged *merged)
{
    yajl_val request = input->request, image = input->image_config, value;
    int64_t stop_timeout;

    json_object_begin(writer);
    json_kv_string(writer, "Hostname", merged->hostname);
    json_kv_string(writer, "Domainname", string_or(request, "Domainname", ""));
    json_kv_string(writer, "User", merged->user);
    write_bool_field(writer, request, "AttachStdin");
    write_bool_field(writer, request, "AttachStdout");
    write_bool_field(writer, request, "AttachStderr");
    if (json_get(request, "ExposedPorts") || json_get(image, "ExposedPorts"))
        write_union(writer, "ExposedPorts", json_get(request, "ExposedPorts"),
                    json_get(image, "ExposedPorts"), true);
    write_bool_field(writer, request, "Tty");
    write_bool_field(writer, request, "OpenStdin");
    write_bool_field(writer, request, "StdinOnce");
    write_vector(writer, "Env", merged->env);
    write_vector(writer, "Cmd", merged->cmd);
    write_healthcheck(writer, json_get(request, "Healthcheck"), json_get(image, "Healthcheck"));
    json_kv_string(writer, "Image", string_or(request, "Image", ""));
    write_union(writer, "Volumes", json_get(request, "Volumes"), json_get(image, "Volumes"), true);
    json_kv_string(writer, "WorkingDir", merged->working_dir);
    write_vector(writer, "Entrypoint", merged->entrypoint);
    if ((value = json_get(request, "NetworkDisabled")) && YAJL_IS_TRUE(value))
        json_kv_bool(writer, "NetworkDisabled", true);
    if (*string_or(request, "MacAddress", ""))
        json_kv_string(writer, "MacAddress", string_or(request, "MacAddress", ""));
    json_key(writer, "OnBuild");
    value = json_get(image, "OnBuild");
    if (value && YAJL_IS_ARRAY(value))
        json_value(writer, value);
    else
        json_null(writer);
    write_union(writer, "Labels", json_get(request, "Labels"), json_get(image, "Labels"), false);
    if (merged->stop_signal)
        json_kv_string(writer, "StopSignal", merged->stop_signal);
    if ((value = json_get(request, "StopTimeout")) && YAJL_IS_INTEGER(value) &&
        json_get_int64(request, "StopTimeout", &stop_timeout, NULL) == 0)
        json_kv_int(writer, "StopTimeout", stop_timeout);
    if ((value = json_get(request, "Shell")) && YAJL_IS_ARRAY(value)) {
        json_key(writer, "Shell");
        json_value(writer, value);
    } else if ((value = json_get(image, "Shell")) && YAJL_IS_ARRAY(value)) {
        json_key(writer, "Shell");
        json_value(writer, value);
    }
    json_object_end(writer);
}

/* ---- HostConfig ---- */

/* Every field, in Docker's order, with the default shown when the request
 * has none (NULL: left out when absent). */
static const struct {
    const char *key;
    const char *fallback;
} host_fields[] = {
    {"Binds", "null"},
    {"ContainerIDFile", "\"\""},
    {"LogConfig", "{\"Type\":\"json-file\",\"Config\":{}}"},
    {"NetworkMode", "\"default\""},
    {"PortBindings", "{}"},
    {"RestartPolicy", "{\"Name\":\"no\",\"MaximumRetryCount\":0}"},
    {"AutoRemove", "false"},
    {"VolumeDriver", "\"\""},
    {"VolumesFrom", "null"},
    {"ConsoleSize", "[0,0]"},
    {"Annotations", NULL},
    {"CapAdd", "null"},
    {"CapDrop", "null"},
    {"CgroupnsMode", "\"\""},
    {"Dns", "[]"},
    {"DnsOptions", "[]"},
    {"DnsSearch", "[]"},
    {"ExtraHosts", "null"},
    {"GroupAdd", "null"},
    {"IpcMode", "\"private\""},
    {"Cgroup", "\"\""},
    {"Links", "null"},
    {"OomScoreAdj", "0"},
    {"PidMode", "\"\""},
    {"Privileged", "false"},
    {"PublishAllPorts", "false"},
    {"ReadonlyRootfs", "false"},
    {"SecurityOpt", "null"},
    {"StorageOpt", NULL},
    {"Tmpfs", NULL},
    {"UTSMode", "\"\""},
    {"UsernsMode", "\"\""},
    {"ShmSize", "67108864"},
    {"Sysctls", NULL},
    {"Runtime", "\"berth-runtime\""},
    {"Isolation", "\"\""},
    {"CpuShares", "0"},
    {"Memory", "0"},
    {"NanoCpus", "0"},
    {"CgroupParent", "\"\""},
    {"BlkioWeight", "0"},
    {"BlkioWeightDevice", "[]"},
    {"BlkioDeviceReadBps", "[]"},
    {"BlkioDeviceWriteBps", "[]"},
    {"BlkioDeviceReadIOps", "[]"},
    {"BlkioDeviceWriteIOps", "[]"},
    {"CpuPeriod", "0"},
    {"CpuQuota", "0"},
    {"CpuRealtimePeriod", "0"},
    {"CpuRealtimeRuntime", "0"},
    {"CpusetCpus", "\"\""},
    {"CpusetMems", "\"\""},
    {"Devices", "[]"},
    {"DeviceCgroupRules", "null"},
    {"DeviceRequests", "null"},
    {"MemoryReservation", "0"},
    {"MemorySwap", "0"},
    {"MemorySwappiness", "null"},
    {"OomKillDisable", "null"},
    {"PidsLimit", "null"},
    {"Ulimits", "[]"},
    {"CpuCount", "0"},
    {"CpuPercent", "0"},
    {"IOMaximumIOps", "0"},
    {"IOMaximumBandwidth", "0"},
    {"Mounts", NULL},
    {"MaskedPaths", NULL},
    {"ReadonlyPaths", NULL},
    {"Init", NULL},
};

#define HOST_FIELDS (sizeof(host_fields) / sizeof(host_fields[0]))

/* The resource fields update may change, and RestartPolicy. */
static const char *const update_fields[] = {
    "CpuShares",          "Memory",
    "NanoCpus",           "CgroupParent",
    "BlkioWeight",        "CpuPeriod",
    "CpuQuota",           "CpuRealtimePeriod",
    "CpuRealtimeRuntime", "CpusetCpus",
    "CpusetMems",         "MemoryReservation",
    "MemorySwap",         "MemorySwappiness",
    "OomKillDisable",     "PidsLimit",
    "RestartPolicy",      "BlkioWeightDevice",
    "KernelMemoryTCP",    "CpuCount",
    "CpuPercent",         "IOMaximumIOps",
    "IOMaximumBandwidth",
};

static bool is_update_field(const char *key)
{
    for (size_t i = 0; i < sizeof(update_fields) / sizeof(update_fields[0]); i++)
        if (strcmp(update_fields[i], key) == 0)
            return true;
    return false;
}

static bool is_null_or_absent(yajl_val value)
{
    return !value || YAJL_IS_NULL(value);
}

/* Writes every field: overrides' value, else base's, else the default. */
static int write_host_fields(struct json_writer *writer, yajl_val overrides, yajl_val base,
                             struct berr *err)
{
    json_object_begin(writer);
    for (size_t i = 0; i < HOST_FIELDS; i++) {
        yajl_val value = json_get(overrides, host_fields[i].key);
        if (is_null_or_absent(value))
            value = json_get(base, host_fields[i].key);
        if (!is_null_or_absent(value)) {
            json_key(writer, host_fields[i].key);
            json_value(writer, value);
        } else if (host_fields[i].fallback) {
            yajl_val fallback;
            int rc = json_parse(host_fields[i].fallback, &fallback, err);
            if (rc)
                return rc;
            json_key(writer, host_fields[i].key);
            json_value(writer, fallback);
            yajl_tree_free(fallback);
        }
    }
    json_object_end(writer);
    return 0;
}

static int writer_text(struct json_writer *writer, char **out, struct berr *err)
{
    const char *text;
    size_t length;
    int rc = json_writer_result(writer, &text, &length, err);

    if (rc == 0 && !(*out = strndup(text, length)))
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    json_writer_free(writer);
    return rc;
}

/* Swap limits work: cgroup v2, or v1 with memory.memsw files. */
static bool swap_limits(void)
{
    struct stat info;

    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
        return true;
    return stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", &info) == 0;
}

static long online_cpus(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    return cpus > 0 ? cpus : 1;
}

struct resources {
    int64_t memory, swap, reservation, nano_cpus, quota, period, shares, pids, shm, swappiness,
        oom_score;
};

static int read_resources(yajl_val host, struct resources *r, struct berr *err)
{
    int rc;

    memset(r, 0, sizeof(*r));
    r->swappiness = -1;
    if ((rc = json_get_int64(host, "Memory", &r->memory, err)) ||
        (rc = json_get_int64(host, "MemorySwap", &r->swap, err)) ||
        (rc = json_get_int64(host, "MemoryReservation", &r->reservation, err)) ||
        (rc = json_get_int64(host, "NanoCpus", &r->nano_cpus, err)) ||
        (rc = json_get_int64(host, "CpuQuota", &r->quota, err)) ||
        (rc = json_get_int64(host, "CpuPeriod", &r->period, err)) ||
        (rc = json_get_int64(host, "CpuShares", &r->shares, err)) ||
        (rc = json_get_int64(host, "PidsLimit", &r->pids, err)) ||
        (rc = json_get_int64(host, "ShmSize", &r->shm, err)) ||
        (rc = json_get_int64(host, "MemorySwappiness", &r->swappiness, err)) ||
        (rc = json_get_int64(host, "OomScoreAdj", &r->oom_score, err)))
        return rc;
    return 0;
}

/* dockerd's checks of the resources (verifyPlatformContainerResources). */
static int check_resources(yajl_val host, struct berr *err)
{
    struct resources r;
    long cpus = online_cpus();
    int rc;

    if ((rc = read_resources(host, &r, err)))
        return rc;
    if (r.memory > 0 && r.memory < MIN_MEMORY)
        return berr_set(err, BERR_INVALID, "Minimum memory limit allowed is 6MB");
    if (r.memory > 0 && r.swap > 0 && r.swap < r.memory)
        return berr_set(err, BERR_INVALID,
                        "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (r.memory == 0 && r.swap > 0)
        return berr_set(err, BERR_INVALID,
                        "You should always set the Memory limit when using Memoryswap limit, see "
                        "usage");
    if (r.memory > 0 && r.reservation > 0 && r.memory < r.reservation)
        return berr_set(err, BERR_INVALID,
                        "Minimum memory limit can not be less than memory reservation limit, see "
                        "usage");
    if (r.swappiness != -1 && (r.swappiness < 0 || r.swappiness > 100))
        return berr_set(err, BERR_INVALID,
                        "Invalid value: %lld, valid memory swappiness range is 0-100",
                        (long long)r.swappiness);
    if (r.nano_cpus > 0 && r.period > 0)
        return berr_set(err, BERR_INVALID,
                        "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    if (r.nano_cpus > 0 && r.quota > 0)
        return berr_set(err, BERR_INVALID,
                        "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    if (r.nano_cpus < 0 || r.nano_cpus > cpus * 1000000000LL)
        return berr_set(err, BERR_INVALID,
                        "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
                        "available",
                        cpus, cpus);
    if (r.period != 0 && (r.period < 1000 || r.period > 1000000))
        return berr_set(err, BERR_INVALID,
                        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 "
                        "second (i.e. 1000000)");
    if (r.quota > 0 && r.quota < 1000)
        return berr_set(err, BERR_INVALID, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    if (r.shares < 0)
        return berr_set(err, BERR_INVALID, "invalid CPU shares %lld", (long long)r.shares);
    if (r.shm < 0)
        return berr_set(err, BERR_INVALID, "SHM size can not be less than 0");
    if (r.oom_score < -1000 || r.oom_score > 1000)
        return berr_set(err, BERR_INVALID,
                        "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                        (long long)r.oom_score);
    if ((rc = spec_check_cpuset(json_get(host, "CpusetCpus"), "cpus", err)))
        return rc;
    return spec_check_cpuset(json_get(host, "CpusetMems"), "mems", err);
}

/* Values dockerd fills in at create: twice the memory as swap, the cgroup
 * namespace mode, ShmSize, PidsLimit 0 as unlimited, masked paths. */
static int host_adjustments(yajl_val host, char **out, struct berr *err)
{
    struct json_writer writer;
    struct resources r;
    bool privileged = false;
    int rc;

    if ((rc = read_resources(host, &r, err)) ||
        (rc = json_get_bool(host, "Privileged", &privileged, err)) ||
        (rc = json_writer_init(&writer, false, err)))
        return rc;
    json_object_begin(&writer);
    if (r.memory > 0 && r.swap == 0 && swap_limits())
        json_kv_int(&writer, "MemorySwap", 2 * r.memory);
    if (!*string_or(host, "CgroupnsMode", ""))
        json_kv_string(&writer, "CgroupnsMode",
                       access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "private" : "host");
    if (r.shm == 0)
        json_kv_int(&writer, "ShmSize", DEFAULT_SHM);
    if (!*string_or(host, "NetworkMode", ""))
        json_kv_string(&writer, "NetworkMode", "default");
    if (!*string_or(json_get(host, "LogConfig"), "Type", "")) {
        yajl_val options = json_get(json_get(host, "LogConfig"), "Config");
        json_key(&writer, "LogConfig");
        json_object_begin(&writer);
        json_kv_string(&writer, "Type", "json-file");
        json_key(&writer, "Config");
        if (YAJL_IS_OBJECT(options))
            json_value(&writer, options);
        else
            json_object_begin(&writer), json_object_end(&writer);
        json_object_end(&writer);
    }
    if (!privileged) {
        if (is_null_or_absent(json_get(host, "MaskedPaths")))
            spec_write_default_paths(&writer, "MaskedPaths");
        if (is_null_or_absent(json_get(host, "ReadonlyPaths")))
            spec_write_default_paths(&writer, "ReadonlyPaths");
    }
    json_object_end(&writer);
    return writer_text(&writer, out, err);
}

/* request's HostConfig → the full, checked HostConfig text. */
static int build_host_config(yajl_val request_host, char **out, struct berr *err)
{
    struct json_writer writer;
    yajl_val adjustments = NULL, built = NULL;
    char *adjustments_text = NULL, *first = NULL;
    int rc;

    if ((rc = host_adjustments(request_host, &adjustments_text, err)) ||
        (rc = json_parse(adjustments_text, &adjustments, err)) ||
        (rc = json_writer_init(&writer, false, err)))
        goto out;
    if ((rc = write_host_fields(&writer, adjustments, request_host, err))) {
        json_writer_free(&writer);
        goto out;
    }
    if ((rc = writer_text(&writer, &first, err)) || (rc = json_parse(first, &built, err)))
        goto out;
    if ((rc = check_resources(built, err)) || (rc = spec_check_host_config(built, err)))
        goto out;
    *out = first;
    first = NULL;
out:
    free(adjustments_text);
    free(first);
    yajl_tree_free(adjustments);
    yajl_tree_free(built);
    return rc;
}

/* ---- build ---- */

static int set_process(const struct merged *merged, struct container_config_output *out,
                       struct berr *err)
{
    char **all = NULL;
    int rc = 0;

    for (size_t i = 0; merged->entrypoint && merged->entrypoint[i] && rc == 0; i++)
        rc = vector_push(&all, merged->entrypoint[i], err);
    for (size_t i = 0; merged->cmd && merged->cmd[i] && rc == 0; i++)
        rc = vector_push(&all, merged->cmd[i], err);
    if (rc) {
        json_free_string_array(all);
        return rc;
    }
    out->path = strdup(all[0]);
    out->args = calloc(vector_length(all), sizeof(char *));
    if (!out->path || !out->args) {
        json_free_string_array(all);
        return berr_set(err, BERR_NOMEM, "out of memory");
    }
    for (size_t i = 1; all[i]; i++)
        out->args[i - 1] = all[i];
    free(all[0]);
    free(all);
    return 0;
}

int container_config_build(const struct container_config_input *input,
                           struct container_config_output *out, struct berr *err)
{
    struct merged merged = {0};
    struct json_writer writer;
    yajl_val request_host = json_get(input->request, "HostConfig");
    int rc;

    memset(out, 0, sizeof(*out));
    out->warnings = calloc(1, sizeof(char *));
    if (!out->warnings)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if ((rc = merge_config(input, &merged, err)) || (rc = set_process(&merged, out, err)) ||
        (rc = build_host_config(request_host, &out->host_config, err)) ||
        (rc = json_writer_init(&writer, false, err)))
        goto out;
    write_config(&writer, input, &merged);
    rc = writer_text(&writer, &out->config, err);
out:
    merged_free(&merged);
    if (rc)
        container_config_output_free(out);
    return rc;
}

void container_config_output_free(struct container_config_output *out)
{
    free(out->config);
    free(out->host_config);
    free(out->path);
    json_free_string_array(out->args);
    json_free_string_array(out->warnings);
    memset(out, 0, sizeof(*out));
}

/* ---- update ---- */

static bool values_differ(yajl_val a, yajl_val b)
{
    struct json_writer one, two;
    const char *x = "", *y = "";
    size_t lx = 0, ly = 0;
    bool differ = true;

    if (json_writer_init(&one, false, NULL))
        return true;
    if (json_writer_init(&two, false, NULL)) {
        json_writer_free(&one);
        return true;
    }
    a ? json_value(&one, a) : json_null(&one);
    b ? json_value(&two, b) : json_null(&two);
    if (json_writer_result(&one, &x, &lx, NULL) == 0 &&
        json_writer_result(&two, &y, &ly, NULL) == 0)
        differ = lx != ly || memcmp(x, y, lx) != 0;
    json_writer_free(&one);
    json_writer_free(&two);
    return differ;
}

/* The update's fields that update may change, as an overrides object. */
static int update_overrides(yajl_val host_config, yajl_val update, char **out,
                            bool *resources_changed, struct berr *err)
{
    struct json_writer writer;
    struct resources r;
    int rc;

    *resources_changed = false;
    if ((rc = read_resources(update, &r, err)) || (rc = json_writer_init(&writer, false, err)))
        return rc;
    json_object_begin(&writer);
    for (size_t i = 0; YAJL_IS_OBJECT(update) && i < update->u.object.len; i++) {
        const char *key = update->u.object.keys[i];
        yajl_val value = update->u.object.values[i];
        if (!is_update_field(key) || is_null_or_absent(value))
            continue;
        /* Zeros mean "unchanged" in an update, as in dockerd. */
        if (YAJL_IS_INTEGER(value) && YAJL_GET_INTEGER(value) == 0 && strcmp(key, "PidsLimit") != 0)
            continue;
        if (YAJL_IS_STRING(value) && !*value->u.string && strcmp(key, "RestartPolicy") != 0)
            continue;
        if (strcmp(key, "RestartPolicy") != 0 && values_differ(value, json_get(host_config, key)))
            *resources_changed = true;
        json_key(&writer, key);
        json_value(&writer, value);
    }
    json_object_end(&writer);
    return writer_text(&writer, out, err);
}

int container_config_update(yajl_val host_config, yajl_val update, bool auto_remove, char **out,
                            bool *resources_changed, struct berr *err)
{
    struct json_writer writer;
    yajl_val overrides = NULL, built = NULL, policy;
    char *overrides_text = NULL, *text = NULL;
    const char *name = "";
    int rc;

    if (!YAJL_IS_OBJECT(update))
        return berr_set(err, BERR_INVALID, "the update must be a JSON object");
    policy = json_get(update, "RestartPolicy");
    if (policy && (rc = json_get_string(policy, "Name", &name, err)))
        return rc;
    if (auto_remove && *name && strcmp(name, "no") != 0)
        return berr_set(err, BERR_INVALID,
                        "Restart policy cannot be updated because AutoRemove is enabled for the "
                        "container");
    {
        int64_t memory = 0, swap = 0, old_swap = 0;
        json_get_int64(update, "Memory", &memory, NULL);
        json_get_int64(update, "MemorySwap", &swap, NULL);
        json_get_int64(host_config, "MemorySwap", &old_swap, NULL);
        if (memory > 0 && swap == 0 && old_swap > 0 && memory > old_swap)
            return berr_set(err, BERR_INVALID,
                            "Memory limit should be smaller than already set memoryswap limit, "
                            "update the memoryswap at the same time");
    }
    if ((rc = update_overrides(host_config, update, &overrides_text, resources_changed, err)) ||
        (rc = json_parse(overrides_text, &overrides, err)) ||
        (rc = json_writer_init(&writer, false, err)))
        goto out;
    if ((rc = write_host_fields(&writer, overrides, host_config, err))) {
        json_writer_free(&writer);
        goto out;
    }
    if ((rc = writer_text(&writer, &text, err)) || (rc = json_parse(text, &built, err)) ||
        (rc = check_resources(built, err)))
        goto out;
    *out = text;
    text = NULL;
out:
    free(overrides_text);
    free(text);
    yajl_tree_free(overrides);
    yajl_tree_free(built);
    return rc;
}
