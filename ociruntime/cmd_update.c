/*
 * cmd_update: `update` changes a running container's cgroup limits, from
 * runc's flags or from a LinuxResources JSON (-r FILE, "-" for stdin).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_resources.h"
#include "commands.h"
#include "json.h"
#include "state.h"

#define RESOURCES_FILE_MAX (4 * 1024 * 1024)

enum update_option_id {
    OPTION_MEMORY = 256,
    OPTION_MEMORY_SWAP,
    OPTION_MEMORY_RESERVATION,
    OPTION_KERNEL_MEMORY,
    OPTION_KERNEL_MEMORY_TCP,
    OPTION_CPU_SHARES,
    OPTION_CPU_QUOTA,
    OPTION_CPU_PERIOD,
    OPTION_CPU_RT_PERIOD,
    OPTION_CPU_RT_RUNTIME,
    OPTION_CPUSET_CPUS,
    OPTION_CPUSET_MEMS,
    OPTION_PIDS_LIMIT,
    OPTION_BLKIO_WEIGHT,
    OPTION_L3_CACHE_SCHEMA,
    OPTION_MEM_BW_SCHEMA,
};

/* A size as runc takes it: bytes, with an optional binary suffix (k, m, g,
 * t, with or without "b"), or -1 for unlimited. */
static int parse_size(const char *text, const char *what, int64_t *out, struct berr *err)
{
    char *end;
    long double value;
    int64_t multiplier = 1;

    if (strcmp(text, "-1") == 0) {
        *out = -1;
        return 0;
    }
    errno = 0;
    value = strtold(text, &end);
    if (errno || end == text || value < 0)
        return berr_set(err, BERR_INVALID, "%s: %s is not a size", what, text);
    switch (tolower((unsigned char)*end)) {
    case '\0':
        break;
    case 'k':
        multiplier = 1LL << 10;
        break;
    case 'm':
        multiplier = 1LL << 20;
        break;
    case 'g':
        multiplier = 1LL << 30;
        break;
    case 't':
        multiplier = 1LL << 40;
        break;
    default:
        return berr_set(err, BERR_INVALID, "%s: %s is not a size", what, text);
    }
    if (*end && end[1] && !((end[1] == 'b' || end[1] == 'B') && !end[2]))
        return berr_set(err, BERR_INVALID, "%s: %s is not a size", what, text);
    *out = (int64_t)(value * (long double)multiplier);
    return 0;
}

static int set_signed(const char *text, const char *what, struct opt_i64 *out, struct berr *err)
{
    long long value;

    if (command_parse_int(text, what, INT64_MIN, INT64_MAX, &value, err))
        return err->code;
    out->set = true;
    out->value = value;
    return 0;
}

static int set_unsigned(const char *text, const char *what, struct opt_u64 *out, struct berr *err)
{
    long long value;

    if (command_parse_int(text, what, 0, INT64_MAX, &value, err))
        return err->code;
    out->set = true;
    out->value = (uint64_t)value;
    return 0;
}

static int set_size(const char *text, const char *what, struct opt_i64 *out, struct berr *err)
{
    int64_t value;

    if (parse_size(text, what, &value, err))
        return err->code;
    out->set = true;
    out->value = value;
    return 0;
}

static int read_resources_file(struct arena *arena, const char *path, struct cgroup_resources *out,
                               struct berr *err)
{
    yajl_val tree;
    char *text;
    size_t used = 0, capacity = 65536;
    int rc;

    if (strcmp(path, "-") != 0) {
        if ((rc = json_parse_file(path, RESOURCES_FILE_MAX, &tree, err)))
            return rc;
    } else {
        text = malloc(capacity);
        for (;;) {
            ssize_t got;
            if (!text)
                return berr_set(err, BERR_NOMEM, "out of memory");
            if (used + 1 >= capacity) {
                char *bigger = capacity < RESOURCES_FILE_MAX ? realloc(text, capacity * 2) : NULL;
                if (!bigger) {
                    free(text);
                    return berr_set(err, BERR_INVALID, "resources on stdin: too large");
                }
                text = bigger;
                capacity *= 2;
            }
            got = read(0, text + used, capacity - used - 1);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                rc = berr_errno(err, errno, "read resources from stdin");
                free(text);
                return rc;
            }
            if (got == 0)
                break;
            used += (size_t)got;
        }
        text[used] = '\0';
        rc = json_parse(text, &tree, err);
        free(text);
        if (rc)
            return rc;
    }
    rc = cgroup_resources_parse(arena, tree, out, err);
    yajl_tree_free(tree);
    return rc;
}

int command_update(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const struct option options[] = {
        {"resources", required_argument, NULL, 'r'},
        {"memory", required_argument, NULL, OPTION_MEMORY},
        {"memory-swap", required_argument, NULL, OPTION_MEMORY_SWAP},
        {"memory-reservation", required_argument, NULL, OPTION_MEMORY_RESERVATION},
        {"kernel-memory", required_argument, NULL, OPTION_KERNEL_MEMORY},
        {"kernel-memory-tcp", required_argument, NULL, OPTION_KERNEL_MEMORY_TCP},
        {"cpu-shares", required_argument, NULL, OPTION_CPU_SHARES},
        {"cpu-quota", required_argument, NULL, OPTION_CPU_QUOTA},
        {"cpu-period", required_argument, NULL, OPTION_CPU_PERIOD},
        {"cpu-rt-period", required_argument, NULL, OPTION_CPU_RT_PERIOD},
        {"cpu-rt-runtime", required_argument, NULL, OPTION_CPU_RT_RUNTIME},
        {"cpuset-cpus", required_argument, NULL, OPTION_CPUSET_CPUS},
        {"cpuset-mems", required_argument, NULL, OPTION_CPUSET_MEMS},
        {"pids-limit", required_argument, NULL, OPTION_PIDS_LIMIT},
        {"blkio-weight", required_argument, NULL, OPTION_BLKIO_WEIGHT},
        {"l3-cache-schema", required_argument, NULL, OPTION_L3_CACHE_SCHEMA},
        {"mem-bw-schema", required_argument, NULL, OPTION_MEM_BW_SCHEMA},
        {NULL, 0, NULL, 0},
    };
    struct cgroup_resources *resources = arena_alloc(globals->arena, sizeof(*resources));
    struct container_state state;
    const char *file = NULL, *id;
    bool any_flag = false;
    int option, rc = 0;

    if (!resources) {
        berr_set(err, BERR_NOMEM, "out of memory");
        return -1;
    }
    opterr = 0;
    optind = 1;
    while (!rc && (option = getopt_long(argc, argv, "+r:", options, NULL)) != -1) {
        any_flag = any_flag || option != 'r';
        switch (option) {
        case 'r':
            file = optarg;
            break;
        case OPTION_MEMORY:
            rc = set_size(optarg, "--memory", &resources->memory_limit, err);
            break;
        case OPTION_MEMORY_SWAP:
            rc = set_size(optarg, "--memory-swap", &resources->memory_swap, err);
            break;
        case OPTION_MEMORY_RESERVATION:
            rc = set_size(optarg, "--memory-reservation", &resources->memory_reservation, err);
            break;
        case OPTION_KERNEL_MEMORY:
            rc = set_size(optarg, "--kernel-memory", &resources->memory_kernel, err);
            break;
        case OPTION_KERNEL_MEMORY_TCP:
            rc = set_size(optarg, "--kernel-memory-tcp", &resources->memory_kernel_tcp, err);
            break;
        case OPTION_CPU_SHARES:
            rc = set_unsigned(optarg, "--cpu-shares", &resources->cpu_shares, err);
            break;
        case OPTION_CPU_QUOTA:
            rc = set_signed(optarg, "--cpu-quota", &resources->cpu_quota, err);
            break;
        case OPTION_CPU_PERIOD:
            rc = set_unsigned(optarg, "--cpu-period", &resources->cpu_period, err);
            break;
        case OPTION_CPU_RT_PERIOD:
            rc = set_unsigned(optarg, "--cpu-rt-period", &resources->cpu_realtime_period, err);
            break;
        case OPTION_CPU_RT_RUNTIME:
            rc = set_signed(optarg, "--cpu-rt-runtime", &resources->cpu_realtime_runtime, err);
            break;
        case OPTION_CPUSET_CPUS:
            resources->cpuset_cpus = optarg;
            break;
        case OPTION_CPUSET_MEMS:
            resources->cpuset_mems = optarg;
            break;
        case OPTION_PIDS_LIMIT:
            rc = set_signed(optarg, "--pids-limit", &resources->pids_limit, err);
            break;
        case OPTION_BLKIO_WEIGHT:
            rc = set_unsigned(optarg, "--blkio-weight", &resources->blkio_weight, err);
            if (!rc && (resources->blkio_weight.value < 10 || resources->blkio_weight.value > 1000))
                rc = berr_set(err, BERR_INVALID, "--blkio-weight must be between 10 and 1000");
            break;
        case OPTION_L3_CACHE_SCHEMA:
        case OPTION_MEM_BW_SCHEMA:
            rc = berr_set(err, BERR_UNSUPPORTED, "Intel RDT is not supported by berth-runtime");
            break;
        default:
            rc = berr_set(err, BERR_INVALID, "update: unknown option %s", argv[optind - 1]);
        }
    }
    if (rc || command_container_id(argc - optind, argv + optind, "update", &id, err))
        return -1;
    if (file && any_flag) {
        berr_set(err, BERR_INVALID, "update: use either -r or the resource flags, not both");
        return -1;
    }
    if (file && read_resources_file(globals->arena, file, resources, err))
        return -1;
    if (state_load(globals->arena, globals->root, id, &state, err))
        return -1;
    if (state_status(&state) == CONTAINER_STOPPED) {
        berr_set(err, BERR_CONFLICT, "cannot update container %s: it is stopped", id);
        return -1;
    }
    return cgroup_update(&state.cgroup, resources, err) ? -1 : 0;
}
