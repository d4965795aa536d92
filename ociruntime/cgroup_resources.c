/*
 * cgroup_resources: the LinuxResources object → struct cgroup_resources.
 *
 * Why it validates so much: these values end up as text written into
 * kernel files, and a bad one found there fails half-way through creating
 * or updating a container, with an errno that names nothing. Checked here,
 * the error names the field ("memory: \"swappiness\" must be between 0 and
 * 100, not 200") before anything is touched. Names that become file names
 * (hugepage sizes, unified keys) are checked so that they cannot leave the
 * cgroup directory.
 *
 * Zero means "unset" for the fields where runc treats it so (the memory
 * limits, cpu shares, quota, period and realtime values, blkio weights):
 * those fields have no useful zero, and Docker sends zeros for "not given".
 *
 * Everything is copied into the arena; the yajl tree is freed later.
 */
#include "cgroup_resources.h"

#include <inttypes.h>
#include <string.h>

#include "json.h"

#define CPU_SHARES_MIN     2
#define CPU_SHARES_MAX     262144
#define BLKIO_WEIGHT_MIN   10
#define BLKIO_WEIGHT_MAX   1000
#define INTERFACE_NAME_MAX 15 /* IFNAMSIZ - 1 */

static int out_of_memory(struct berr *err)
{
    return berr_set(err, BERR_NOMEM, "out of memory");
}

/* An array member of n elements, with room for at least one. */
static void *alloc_array(struct arena *arena, size_t count, size_t size)
{
    return arena_alloc(arena, (count ? count : 1) * size);
}

static bool is_present(yajl_val object, const char *key)
{
    yajl_val value = json_get(object, key);

    return value && !YAJL_IS_NULL(value);
}

/* ---- typed fields ---- */

static int get_opt_i64(yajl_val object, const char *key, struct opt_i64 *out, struct berr *err)
{
    int rc;

    if (!is_present(object, key))
        return 0;
    if ((rc = json_get_int64(object, key, &out->value, err)))
        return rc;
    out->set = true;
    return 0;
}

static int get_opt_u64(yajl_val object, const char *key, struct opt_u64 *out, struct berr *err)
{
    int rc;

    if (!is_present(object, key))
        return 0;
    if ((rc = json_get_uint64(object, key, &out->value, err)))
        return rc;
    out->set = true;
    return 0;
}

/* A byte limit: -1 for unlimited or a positive count; 0 is "unset". */
static int get_limit(yajl_val object, const char *key, struct opt_i64 *out, struct berr *err)
{
    struct opt_i64 value = {false, 0};
    int rc = get_opt_i64(object, key, &value, err);

    if (rc || !value.set || value.value == 0)
        return rc;
    if (value.value < -1)
        return berr_set(err, BERR_INVALID,
                        "\"%s\" must be -1 (unlimited) or a number of bytes, not %" PRId64, key,
                        value.value);
    *out = value;
    return 0;
}

static int get_ranged_u64(yajl_val object, const char *key, uint64_t minimum, uint64_t maximum,
                          bool zero_is_unset, struct opt_u64 *out, struct berr *err)
{
    struct opt_u64 value = {false, 0};
    int rc = get_opt_u64(object, key, &value, err);

    if (rc || !value.set || (zero_is_unset && value.value == 0))
        return rc;
    if (value.value < minimum || value.value > maximum)
        return berr_set(err, BERR_INVALID,
                        "\"%s\" must be between %" PRIu64 " and %" PRIu64 ", not %" PRIu64, key,
                        minimum, maximum, value.value);
    *out = value;
    return 0;
}

static int get_weight(yajl_val object, const char *key, struct opt_u64 *out, struct berr *err)
{
    return get_ranged_u64(object, key, BLKIO_WEIGHT_MIN, BLKIO_WEIGHT_MAX, true, out, err);
}

static int get_flag(yajl_val object, const char *key, bool *has, bool *out, struct berr *err)
{
    int rc;

    if (!is_present(object, key))
        return 0;
    if ((rc = json_get_bool(object, key, out, err)))
        return rc;
    if (has)
        *has = true;
    return 0;
}

static int require_i64(yajl_val object, const char *key, int64_t *out, struct berr *err)
{
    if (!is_present(object, key))
        return berr_set(err, BERR_INVALID, "\"%s\" is required", key);
    return json_get_int64(object, key, out, err);
}

static int require_u64(yajl_val object, const char *key, uint64_t *out, struct berr *err)
{
    if (!is_present(object, key))
        return berr_set(err, BERR_INVALID, "\"%s\" is required", key);
    return json_get_uint64(object, key, out, err);
}

static int copy_string(struct arena *arena, const char *text, const char **out, struct berr *err)
{
    *out = arena_strdup(arena, text);
    if (!*out)
        return out_of_memory(err);
    return 0;
}

/* An element of an array of objects: names the element in the error. */
static int element_object(yajl_val array, size_t index, const char *what, yajl_val *out,
                          struct berr *err)
{
    yajl_val item = array->u.array.values[index];

    if (!YAJL_IS_OBJECT(item))
        return berr_set(err, BERR_INVALID, "%s[%zu] must be an object, not %s", what, index,
                        json_type_name(item));
    *out = item;
    return 0;
}

/* ---- memory ---- */

static int parse_memory(yajl_val resources, struct cgroup_resources *out, struct berr *err)
{
    yajl_val memory = NULL;
    int rc = json_get_object(resources, "memory", &memory, err);

    if (rc || !memory)
        return rc;
    if ((rc = get_limit(memory, "limit", &out->memory_limit, err)) ||
        (rc = get_limit(memory, "reservation", &out->memory_reservation, err)) ||
        (rc = get_limit(memory, "swap", &out->memory_swap, err)) ||
        (rc = get_limit(memory, "kernel", &out->memory_kernel, err)) ||
        (rc = get_limit(memory, "kernelTCP", &out->memory_kernel_tcp, err)) ||
        (rc = get_ranged_u64(memory, "swappiness", 0, 100, false, &out->memory_swappiness, err)) ||
        (rc = get_flag(memory, "disableOOMKiller", &out->has_disable_oom_killer,
                       &out->disable_oom_killer, err)) ||
        (rc =
             get_flag(memory, "useHierarchy", &out->has_use_hierarchy, &out->use_hierarchy, err)) ||
        (rc = get_flag(memory, "checkBeforeUpdate", NULL, &out->check_before_update, err)))
        return berr_prefix(err, "memory");
    if (out->memory_limit.set && out->memory_swap.set && out->memory_limit.value > 0 &&
        out->memory_swap.value > 0 && out->memory_swap.value < out->memory_limit.value)
        return berr_set(err, BERR_INVALID,
                        "memory: \"swap\" (memory plus swap, %" PRId64
                        ") must not be below \"limit\" (%" PRId64 ")",
                        out->memory_swap.value, out->memory_limit.value);
    return 0;
}

/* ---- cpu ---- */

/* A cpu or memory node list as the kernel takes it: "0-3,8", "0-7:2/4". */
static int check_cpu_list(const char *key, const char *text, struct berr *err)
{
    if (strspn(text, "0123456789,-:/") != strlen(text))
        return berr_set(err, BERR_INVALID, "\"%s\" is not a list of numbers and ranges: %s", key,
                        text);
    return 0;
}

static int get_cpu_list(struct arena *arena, yajl_val cpu, const char *key, const char **out,
                        struct berr *err)
{
    const char *text = NULL;
    int rc = json_get_string(cpu, key, &text, err);

    if (rc || !text || !*text)
        return rc;
    if ((rc = check_cpu_list(key, text, err)))
        return rc;
    return copy_string(arena, text, out, err);
}

static int get_signed_period(yajl_val cpu, const char *key, struct opt_i64 *out, struct berr *err)
{
    struct opt_i64 value = {false, 0};
    int rc = get_opt_i64(cpu, key, &value, err);

    if (rc || !value.set || value.value == 0)
        return rc;
    if (value.value < -1)
        return berr_set(err, BERR_INVALID,
                        "\"%s\" must be -1 (unlimited) or a number of microseconds, not %" PRId64,
                        key, value.value);
    *out = value;
    return 0;
}

static int parse_cpu(struct arena *arena, yajl_val resources, struct cgroup_resources *out,
                     struct berr *err)
{
    yajl_val cpu = NULL;
    int rc = json_get_object(resources, "cpu", &cpu, err);

    if (rc || !cpu)
        return rc;
    if ((rc = get_ranged_u64(cpu, "shares", CPU_SHARES_MIN, CPU_SHARES_MAX, true, &out->cpu_shares,
                             err)) ||
        (rc = get_signed_period(cpu, "quota", &out->cpu_quota, err)) ||
        (rc = get_opt_u64(cpu, "burst", &out->cpu_burst, err)) ||
        (rc = get_ranged_u64(cpu, "period", 1, UINT64_MAX, true, &out->cpu_period, err)) ||
        (rc = get_signed_period(cpu, "realtimeRuntime", &out->cpu_realtime_runtime, err)) ||
        (rc = get_ranged_u64(cpu, "realtimePeriod", 1, UINT64_MAX, true, &out->cpu_realtime_period,
                             err)) ||
        (rc = get_cpu_list(arena, cpu, "cpus", &out->cpuset_cpus, err)) ||
        (rc = get_cpu_list(arena, cpu, "mems", &out->cpuset_mems, err)) ||
        (rc = get_opt_i64(cpu, "idle", &out->cpu_idle, err)))
        return berr_prefix(err, "cpu");
    if (out->cpu_idle.set && out->cpu_idle.value != 0 && out->cpu_idle.value != 1)
        return berr_set(err, BERR_INVALID, "cpu: \"idle\" must be 0 or 1, not %" PRId64,
                        out->cpu_idle.value);
    return 0;
}

/* ---- pids ---- */

static int parse_pids(yajl_val resources, struct cgroup_resources *out, struct berr *err)
{
    yajl_val pids = NULL;
    int rc = json_get_object(resources, "pids", &pids, err);

    if (rc || !pids)
        return rc;
    if ((rc = require_i64(pids, "limit", &out->pids_limit.value, err)))
        return berr_prefix(err, "pids");
    out->pids_limit.set = true;
    return 0;
}

/* ---- blockIO ---- */

static int get_device_number(yajl_val object, const char *key, int64_t *out, struct berr *err)
{
    int rc = require_i64(object, key, out, err);

    if (rc)
        return rc;
    if (*out < 0 || *out > UINT32_MAX)
        return berr_set(err, BERR_INVALID, "\"%s\" must be between 0 and %u, not %" PRId64, key,
                        UINT32_MAX, *out);
    return 0;
}

static int parse_weight_devices(struct arena *arena, yajl_val blkio, struct cgroup_resources *out,
                                struct berr *err)
{
    yajl_val array = NULL, item = NULL;
    size_t i;
    int rc = json_get_array(blkio, "weightDevice", &array, err);

    if (rc || !array)
        return rc;
    out->blkio_weight_devices =
        alloc_array(arena, array->u.array.len, sizeof(*out->blkio_weight_devices));
    if (!out->blkio_weight_devices)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        struct cgroup_block_device_weight *device = &out->blkio_weight_devices[i];
        if ((rc = element_object(array, i, "weightDevice", &item, err)))
            return rc;
        if ((rc = get_device_number(item, "major", &device->major, err)) ||
            (rc = get_device_number(item, "minor", &device->minor, err)) ||
            (rc = get_weight(item, "weight", &device->weight, err)) ||
            (rc = get_weight(item, "leafWeight", &device->leaf_weight, err)))
            return berr_prefix(err, "weightDevice[%zu]", i);
    }
    out->blkio_weight_device_count = array->u.array.len;
    return 0;
}

static int parse_throttles(struct arena *arena, yajl_val blkio, const char *key,
                           struct cgroup_throttle_list *out, struct berr *err)
{
    yajl_val array = NULL, item = NULL;
    size_t i;
    int rc = json_get_array(blkio, key, &array, err);

    if (rc || !array)
        return rc;
    out->items = alloc_array(arena, array->u.array.len, sizeof(*out->items));
    if (!out->items)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        struct cgroup_block_device_throttle *device = &out->items[i];
        if ((rc = element_object(array, i, key, &item, err)))
            return rc;
        /* An absent rate is 0: no limit on that device. */
        if ((rc = get_device_number(item, "major", &device->major, err)) ||
            (rc = get_device_number(item, "minor", &device->minor, err)) ||
            (rc = json_get_uint64(item, "rate", &device->rate, err)))
            return berr_prefix(err, "%s[%zu]", key, i);
    }
    out->count = array->u.array.len;
    return 0;
}

static int parse_block_io(struct arena *arena, yajl_val resources, struct cgroup_resources *out,
                          struct berr *err)
{
    yajl_val blkio = NULL;
    int rc = json_get_object(resources, "blockIO", &blkio, err);

    if (rc || !blkio)
        return rc;
    if ((rc = get_weight(blkio, "weight", &out->blkio_weight, err)) ||
        (rc = get_weight(blkio, "leafWeight", &out->blkio_leaf_weight, err)) ||
        (rc = parse_weight_devices(arena, blkio, out, err)) ||
        (rc = parse_throttles(arena, blkio, "throttleReadBpsDevice", &out->throttle_read_bps,
                              err)) ||
        (rc = parse_throttles(arena, blkio, "throttleWriteBpsDevice", &out->throttle_write_bps,
                              err)) ||
        (rc = parse_throttles(arena, blkio, "throttleReadIOPSDevice", &out->throttle_read_iops,
                              err)) ||
        (rc = parse_throttles(arena, blkio, "throttleWriteIOPSDevice", &out->throttle_write_iops,
                              err)))
        return berr_prefix(err, "blockIO");
    return 0;
}

/* ---- hugepageLimits ---- */

/* The schema's ^[1-9][0-9]*[KMG]B$: it becomes part of a file name. */
static bool is_page_size(const char *text)
{
    size_t digits = strspn(text, "0123456789");

    return digits > 0 && text[0] != '0' && text[digits] && strchr("KMG", text[digits]) &&
           text[digits + 1] == 'B' && text[digits + 2] == '\0';
}

static int parse_hugepage_limits(struct arena *arena, yajl_val resources,
                                 struct cgroup_resources *out, struct berr *err)
{
    yajl_val array = NULL, item = NULL;
    size_t i;
    int rc = json_get_array(resources, "hugepageLimits", &array, err);

    if (rc || !array)
        return rc;
    out->hugepage_limits = alloc_array(arena, array->u.array.len, sizeof(*out->hugepage_limits));
    if (!out->hugepage_limits)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        struct cgroup_hugepage_limit *limit = &out->hugepage_limits[i];
        const char *page_size = NULL;
        if ((rc = element_object(array, i, "hugepageLimits", &item, err)))
            return rc;
        if ((rc = json_get_string(item, "pageSize", &page_size, err)) ||
            (rc = require_u64(item, "limit", &limit->limit, err)))
            return berr_prefix(err, "hugepageLimits[%zu]", i);
        if (!page_size)
            return berr_set(err, BERR_INVALID, "hugepageLimits[%zu]: \"pageSize\" is required", i);
        if (!is_page_size(page_size))
            return berr_set(err, BERR_INVALID,
                            "hugepageLimits[%zu]: \"pageSize\" must look like 2MB or 1GB, not %s",
                            i, page_size);
        if ((rc = copy_string(arena, page_size, &limit->page_size, err)))
            return rc;
    }
    out->hugepage_limit_count = array->u.array.len;
    return 0;
}

/* ---- devices ---- */

static int get_device_type(yajl_val item, char *type, struct berr *err)
{
    const char *text = NULL;
    int rc = json_get_string(item, "type", &text, err);

    if (rc)
        return rc;
    if (!text || !*text || strcmp(text, "a") == 0)
        *type = 'a';
    else if (strcmp(text, "c") == 0 || strcmp(text, "b") == 0)
        *type = text[0];
    else
        return berr_set(err, BERR_INVALID, "\"type\" must be \"a\", \"c\" or \"b\", not \"%s\"",
                        text);
    return 0;
}

/* Absent or -1: any number. */
static int get_rule_number(yajl_val item, const char *key, int64_t *out, struct berr *err)
{
    int rc;

    *out = -1;
    if (!is_present(item, key))
        return 0;
    if ((rc = json_get_int64(item, key, out, err)))
        return rc;
    if (*out < -1 || *out > UINT32_MAX)
        return berr_set(err, BERR_INVALID,
                        "\"%s\" must be -1 (any) or between 0 and %u, not %" PRId64, key,
                        UINT32_MAX, *out);
    return 0;
}

/* Absent or empty: "rwm". Stored in the canonical order. */
static int get_access(yajl_val item, char access[4], struct berr *err)
{
    const char *text = NULL;
    bool read = false, write = false, mknod = false;
    size_t i, used = 0;
    int rc = json_get_string(item, "access", &text, err);

    if (rc)
        return rc;
    if (!text || !*text)
        text = "rwm";
    for (i = 0; text[i]; i++) {
        if (text[i] == 'r')
            read = true;
        else if (text[i] == 'w')
            write = true;
        else if (text[i] == 'm')
            mknod = true;
        else
            return berr_set(err, BERR_INVALID, "\"access\" must be made of r, w and m, not \"%s\"",
                            text);
    }
    if (read)
        access[used++] = 'r';
    if (write)
        access[used++] = 'w';
    if (mknod)
        access[used++] = 'm';
    access[used] = '\0';
    return 0;
}

static int parse_device_rule(yajl_val item, struct cgroup_device_rule *rule, struct berr *err)
{
    int rc;

    if (!is_present(item, "allow"))
        return berr_set(err, BERR_INVALID, "\"allow\" is required");
    if ((rc = json_get_bool(item, "allow", &rule->allow, err)) ||
        (rc = get_device_type(item, &rule->type, err)) ||
        (rc = get_rule_number(item, "major", &rule->major, err)) ||
        (rc = get_rule_number(item, "minor", &rule->minor, err)) ||
        (rc = get_access(item, rule->access, err)))
        return rc;
    /* The kernel (v1) reads any "a" rule as "everything": say so rather
     * than widen a narrower rule behind the user's back. */
    if (rule->type == 'a' &&
        (rule->major != -1 || rule->minor != -1 || strcmp(rule->access, "rwm") != 0))
        return berr_set(err, BERR_INVALID,
                        "a rule of type \"a\" covers every device and access: it cannot have a "
                        "major, a minor or an access other than \"rwm\"");
    return 0;
}

static int parse_devices(struct arena *arena, yajl_val resources, struct cgroup_resources *out,
                         struct berr *err)
{
    yajl_val array = NULL, item = NULL;
    size_t i;
    int rc = json_get_array(resources, "devices", &array, err);

    if (rc || !array)
        return rc;
    out->devices = alloc_array(arena, array->u.array.len, sizeof(*out->devices));
    if (!out->devices)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        if ((rc = element_object(array, i, "devices", &item, err)))
            return rc;
        if ((rc = parse_device_rule(item, &out->devices[i], err)))
            return berr_prefix(err, "devices[%zu]", i);
    }
    out->device_count = array->u.array.len;
    return 0;
}

/* ---- network ---- */

static int check_interface_name(const char *name, struct berr *err)
{
    size_t length = strlen(name);

    if (length == 0 || length > INTERFACE_NAME_MAX || strpbrk(name, "/ \t\n:") ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return berr_set(err, BERR_INVALID, "\"name\" is not a network interface name: \"%s\"",
                        name);
    return 0;
}

static int parse_priorities(struct arena *arena, yajl_val network, struct cgroup_resources *out,
                            struct berr *err)
{
    yajl_val array = NULL, item = NULL;
    size_t i;
    int rc = json_get_array(network, "priorities", &array, err);

    if (rc || !array)
        return rc;
    out->network_priorities =
        alloc_array(arena, array->u.array.len, sizeof(*out->network_priorities));
    if (!out->network_priorities)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        struct cgroup_network_priority *priority = &out->network_priorities[i];
        const char *name = NULL;
        uint64_t value = 0;
        if ((rc = element_object(array, i, "priorities", &item, err)))
            return rc;
        if ((rc = json_get_string(item, "name", &name, err)) ||
            (rc = require_u64(item, "priority", &value, err)))
            return berr_prefix(err, "priorities[%zu]", i);
        if (!name)
            return berr_set(err, BERR_INVALID, "priorities[%zu]: \"name\" is required", i);
        if ((rc = check_interface_name(name, err)))
            return berr_prefix(err, "priorities[%zu]", i);
        if (value > UINT32_MAX)
            return berr_set(err, BERR_INVALID,
                            "priorities[%zu]: \"priority\" is out of range: %" PRIu64, i, value);
        priority->priority = (uint32_t)value;
        if ((rc = copy_string(arena, name, &priority->interface, err)))
            return rc;
    }
    out->network_priority_count = array->u.array.len;
    return 0;
}

static int parse_network(struct arena *arena, yajl_val resources, struct cgroup_resources *out,
                         struct berr *err)
{
    yajl_val network = NULL;
    int rc = json_get_object(resources, "network", &network, err);

    if (rc || !network)
        return rc;
    if ((rc = get_ranged_u64(network, "classID", 0, UINT32_MAX, false, &out->network_class_id,
                             err)) ||
        (rc = parse_priorities(arena, network, out, err)))
        return berr_prefix(err, "network");
    return 0;
}

/* ---- unified ---- */

/* A key is written as path/key: it must be a plain file name. */
static int check_unified_key(const char *key, struct berr *err)
{
    if (!*key || strchr(key, '/') || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
        return berr_set(err, BERR_INVALID, "unified: \"%s\" is not a cgroup file name", key);
    return 0;
}

static int parse_unified(struct arena *arena, yajl_val resources, struct cgroup_resources *out,
                         struct berr *err)
{
    yajl_val unified = NULL;
    size_t i;
    int rc = json_get_object(resources, "unified", &unified, err);

    if (rc || !unified)
        return rc;
    out->unified = alloc_array(arena, unified->u.object.len, sizeof(*out->unified));
    if (!out->unified)
        return out_of_memory(err);
    for (i = 0; i < unified->u.object.len; i++) {
        const char *key = unified->u.object.keys[i];
        yajl_val value = unified->u.object.values[i];
        if ((rc = check_unified_key(key, err)))
            return rc;
        if (!YAJL_IS_STRING(value))
            return berr_set(err, BERR_INVALID, "unified: \"%s\" must be a string, not %s", key,
                            json_type_name(value));
        if ((rc = copy_string(arena, key, &out->unified[i].key, err)) ||
            (rc = copy_string(arena, value->u.string, &out->unified[i].value, err)))
            return rc;
    }
    out->unified_count = unified->u.object.len;
    return 0;
}

int cgroup_resources_parse(struct arena *arena, yajl_val object, struct cgroup_resources *out,
                           struct berr *err)
{
    int rc;

    if (!YAJL_IS_OBJECT(object))
        return berr_set(err, BERR_INVALID, "resources must be an object, not %s",
                        json_type_name(object));
    if ((rc = parse_memory(object, out, err)) || (rc = parse_cpu(arena, object, out, err)) ||
        (rc = parse_pids(object, out, err)) || (rc = parse_block_io(arena, object, out, err)) ||
        (rc = parse_hugepage_limits(arena, object, out, err)) ||
        (rc = parse_devices(arena, object, out, err)) ||
        (rc = parse_network(arena, object, out, err)) ||
        (rc = parse_unified(arena, object, out, err)))
        return rc;
    return 0;
}
