/*
 * spec: config.json → struct spec. See spec.h.
 *
 * Each section has its own small parser that names the section in its
 * errors ("process.rlimits[2]: ..."). The linux.resources and
 * linux.seccomp sections are parsed by their own modules.
 */
#include "spec.h"

#include "capabilities.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cgroup_resources.h"
#include "json.h"
#include "log.h"
#include "seccomp.h"

#define CONFIG_MAX_SIZE (16 * 1024 * 1024)

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY      0x00000001
#define MOUNT_ATTR_NOSUID      0x00000002
#define MOUNT_ATTR_NODEV       0x00000004
#define MOUNT_ATTR_NOEXEC      0x00000008
#define MOUNT_ATTR__ATIME      0x00000070
#define MOUNT_ATTR_RELATIME    0x00000000
#define MOUNT_ATTR_NOATIME     0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME  0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* ---- names ---- */

static const char *const namespace_names[NS_KIND_COUNT] = {
    [NS_PID] = "pid", [NS_NETWORK] = "network", [NS_MOUNT] = "mount",   [NS_IPC] = "ipc",
    [NS_UTS] = "uts", [NS_USER] = "user",       [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};

const char *spec_namespace_name(enum spec_namespace_kind kind)
{
    return namespace_names[kind];
}

int spec_namespace_clone_flag(enum spec_namespace_kind kind)
{
    static const int flags[NS_KIND_COUNT] = {
        [NS_PID] = CLONE_NEWPID,       [NS_NETWORK] = CLONE_NEWNET,
        [NS_MOUNT] = CLONE_NEWNS,      [NS_IPC] = CLONE_NEWIPC,
        [NS_UTS] = CLONE_NEWUTS,       [NS_USER] = CLONE_NEWUSER,
        [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = 0x00000080 /* CLONE_NEWTIME */,
    };
    return flags[kind];
}

int spec_rlimit_from_name(const char *name)
{
    static const struct {
        const char *name;
        int resource;
    } names[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].resource;
    return -1;
}

const char *spec_getenv(char **env, const char *name)
{
    size_t length = strlen(name);

    for (; env && *env; env++)
        if (strncmp(*env, name, length) == 0 && (*env)[length] == '=')
            return *env + length + 1;
    return NULL;
}

/* ---- helpers ---- */

static int out_of_memory(struct berr *err)
{
    return berr_set(err, BERR_NOMEM, "out of memory");
}

int spec_string_array(struct arena *arena, yajl_val object, const char *key, char ***out,
                      size_t *count, struct berr *err)
{
    yajl_val array = NULL;
    char **copy;
    size_t i;
    int rc = json_get_array(object, key, &array, err);

    if (rc || !array)
        return rc;
    copy = arena_alloc(arena, (array->u.array.len + 1) * sizeof(*copy));
    if (!copy)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "\"%s\"[%zu] must be a string, not %s", key, i,
                            json_type_name(item));
        copy[i] = arena_strdup(arena, item->u.string);
        if (!copy[i])
            return out_of_memory(err);
    }
    *out = copy;
    if (count)
        *count = array->u.array.len;
    return 0;
}

static int get_u32(yajl_val object, const char *key, bool required, uint32_t *out, struct berr *err)
{
    yajl_val value = json_get(object, key);
    uint64_t number;
    int rc;

    if (!value || YAJL_IS_NULL(value)) {
        if (required)
            return berr_set(err, BERR_INVALID, "\"%s\" is required", key);
        return 0;
    }
    rc = json_as_uint64(value, key, &number, err);
    if (rc)
        return rc;
    if (number > UINT32_MAX)
        return berr_set(err, BERR_INVALID, "\"%s\" is out of range: %" PRIu64, key, number);
    *out = (uint32_t)number;
    return 0;
}

static int get_int(yajl_val object, const char *key, int minimum, int maximum, int *out,
                   bool *present, struct berr *err)
{
    int64_t number;
    yajl_val value = json_get(object, key);
    int rc;

    if (!value || YAJL_IS_NULL(value))
        return 0;
    rc = json_as_int64(value, key, &number, err);
    if (rc)
        return rc;
    if (number < minimum || number > maximum)
        return berr_set(err, BERR_INVALID, "\"%s\" must be between %d and %d, not %" PRId64, key,
                        minimum, maximum, number);
    *out = (int)number;
    if (present)
        *present = true;
    return 0;
}

static int require_string(yajl_val object, const char *key, const char **out, struct berr *err)
{
    int rc = json_get_string(object, key, out, err);

    if (rc)
        return rc;
    if (!*out)
        return berr_set(err, BERR_INVALID, "\"%s\" is required", key);
    return 0;
}

/* ---- process ---- */

static int parse_user(struct arena *arena, yajl_val process, struct spec_user *user,
                      struct berr *err)
{
    yajl_val object = NULL, gids = NULL;
    uint32_t number = 0;
    size_t i;
    int rc = json_get_object(process, "user", &object, err);

    if (rc || !object)
        return rc;
    if ((rc = get_u32(object, "uid", false, &number, err)))
        return berr_prefix(err, "user");
    user->uid = number;
    number = 0;
    if ((rc = get_u32(object, "gid", false, &number, err)))
        return berr_prefix(err, "user");
    user->gid = number;
    if (json_get(object, "umask") && !YAJL_IS_NULL(json_get(object, "umask"))) {
        if ((rc = get_u32(object, "umask", true, &number, err)))
            return berr_prefix(err, "user");
        if (number > 0777)
            return berr_set(err, BERR_INVALID, "user.umask %o is not a file mode mask", number);
        user->has_umask = true;
        user->umask = number;
    }
    if ((rc = json_get_array(object, "additionalGids", &gids, err)))
        return berr_prefix(err, "user");
    if (gids) {
        user->additional_gids = arena_alloc(arena, (gids->u.array.len + 1) * sizeof(gid_t));
        if (!user->additional_gids)
            return out_of_memory(err);
        for (i = 0; i < gids->u.array.len; i++) {
            uint64_t gid;
            if ((rc = json_as_uint64(gids->u.array.values[i], "additionalGids", &gid, err)))
                return berr_prefix(err, "user");
            if (gid > UINT32_MAX)
                return berr_set(err, BERR_INVALID, "user.additionalGids[%zu] is out of range", i);
            user->additional_gids[i] = (gid_t)gid;
        }
        user->additional_gid_count = gids->u.array.len;
    }
    return 0;
}

static int parse_capability_set(yajl_val object, const char *key, uint64_t *out, struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int rc = json_get_array(object, key, &array, err);

    if (rc || !array)
        return rc;
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        int capability;
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "\"%s\"[%zu] must be a string", key, i);
        capability = capability_number(item->u.string);
        if (capability < 0) {
            /* As runc: a capability this runtime does not know is skipped. */
            log_warn("capabilities.%s: unknown capability %s, ignored", key, item->u.string);
            continue;
        }
        *out |= 1ULL << capability;
    }
    return 0;
}

static int parse_capabilities(yajl_val process, struct spec_process *out, struct berr *err)
{
    yajl_val object = NULL;
    int rc = json_get_object(process, "capabilities", &object, err);

    if (rc || !object)
        return rc;
    out->has_capabilities = true;
    if ((rc = parse_capability_set(object, "bounding", &out->capabilities.bounding, err)) ||
        (rc = parse_capability_set(object, "effective", &out->capabilities.effective, err)) ||
        (rc = parse_capability_set(object, "inheritable", &out->capabilities.inheritable, err)) ||
        (rc = parse_capability_set(object, "permitted", &out->capabilities.permitted, err)) ||
        (rc = parse_capability_set(object, "ambient", &out->capabilities.ambient, err)))
        return berr_prefix(err, "capabilities");
    return 0;
}

static int parse_rlimits(struct arena *arena, yajl_val process, struct spec_process *out,
                         struct berr *err)
{
    yajl_val array = NULL;
    size_t i, j;
    int rc = json_get_array(process, "rlimits", &array, err);

    if (rc || !array)
        return rc;
    out->rlimits = arena_alloc(arena, (array->u.array.len + 1) * sizeof(struct spec_rlimit));
    if (!out->rlimits)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        struct spec_rlimit *limit = &out->rlimits[i];
        const char *type = NULL;
        if (!YAJL_IS_OBJECT(item))
            return berr_set(err, BERR_INVALID, "rlimits[%zu] must be an object", i);
        if ((rc = require_string(item, "type", &type, err)) ||
            (rc = json_get_uint64(item, "soft", &limit->soft, err)) ||
            (rc = json_get_uint64(item, "hard", &limit->hard, err)))
            return berr_prefix(err, "rlimits[%zu]", i);
        if (!json_get(item, "soft") || !json_get(item, "hard"))
            return berr_set(err, BERR_INVALID, "rlimits[%zu]: \"soft\" and \"hard\" are required",
                            i);
        limit->resource = spec_rlimit_from_name(type);
        if (limit->resource < 0)
            return berr_set(err, BERR_INVALID, "rlimits[%zu]: unknown type %s", i, type);
        if (limit->soft > limit->hard)
            return berr_set(err, BERR_INVALID, "rlimits[%zu] %s: soft limit above the hard limit",
                            i, type);
        for (j = 0; j < i; j++)
            if (out->rlimits[j].resource == limit->resource)
                return berr_set(err, BERR_INVALID, "rlimits: %s given twice", type);
    }
    out->rlimit_count = array->u.array.len;
    return 0;
}

static int parse_io_priority(yajl_val process, struct spec_process *out, struct berr *err)
{
    static const struct {
        const char *name;
        int class_id;
    } classes[] = {{"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
                   {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
                   {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE}};
    yajl_val object = NULL;
    const char *class_name = NULL;
    size_t i;
    int rc = json_get_object(process, "ioPriority", &object, err);

    if (rc || !object)
        return rc;
    if ((rc = require_string(object, "class", &class_name, err)) ||
        (rc = get_int(object, "priority", 0, 7, &out->io_priority_level, NULL, err)))
        return berr_prefix(err, "ioPriority");
    for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (strcmp(class_name, classes[i].name) == 0) {
            out->has_io_priority = true;
            out->io_priority_class = classes[i].class_id;
            return 0;
        }
    }
    return berr_set(err, BERR_INVALID, "ioPriority: unknown class %s", class_name);
}

static int parse_scheduler(yajl_val process, struct spec_process *out, struct berr *err)
{
    static const struct {
        const char *name;
        int policy;
    } policies[] = {
        {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
        {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_ISO", 4},           {"SCHED_IDLE", SCHED_IDLE},
        {"SCHED_DEADLINE", 6}};
    static const struct {
        const char *name;
        uint64_t flag;
    } flag_names[] = {{"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
                      {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
                      {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
                      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
    yajl_val object = NULL, flags = NULL;
    const char *policy = NULL;
    struct spec_scheduler *scheduler = &out->scheduler;
    size_t i, j;
    int rc = json_get_object(process, "scheduler", &object, err);

    if (rc || !object)
        return rc;
    if ((rc = require_string(object, "policy", &policy, err)) ||
        (rc = get_int(object, "nice", -20, 19, &scheduler->nice, NULL, err)) ||
        (rc = get_int(object, "priority", 0, 99, &scheduler->priority, NULL, err)) ||
        (rc = json_get_uint64(object, "runtime", &scheduler->runtime, err)) ||
        (rc = json_get_uint64(object, "deadline", &scheduler->deadline, err)) ||
        (rc = json_get_uint64(object, "period", &scheduler->period, err)) ||
        (rc = json_get_array(object, "flags", &flags, err)))
        return berr_prefix(err, "scheduler");
    for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
        if (strcmp(policy, policies[i].name) == 0)
            break;
    if (i == sizeof(policies) / sizeof(policies[0]))
        return berr_set(err, BERR_INVALID, "scheduler: unknown policy %s", policy);
    scheduler->policy = policies[i].policy;
    for (i = 0; flags && i < flags->u.array.len; i++) {
        yajl_val flag = flags->u.array.values[i];
        for (j = 0; j < sizeof(flag_names) / sizeof(flag_names[0]); j++)
            if (YAJL_IS_STRING(flag) && strcmp(flag->u.string, flag_names[j].name) == 0)
                break;
        if (j == sizeof(flag_names) / sizeof(flag_names[0]))
            return berr_set(err, BERR_INVALID, "scheduler: unknown flag %s",
                            YAJL_IS_STRING(flag) ? flag->u.string : "(not a string)");
        scheduler->flags |= flag_names[j].flag;
    }
    out->has_scheduler = true;
    return 0;
}

int spec_parse_process(struct arena *arena, yajl_val object, struct spec_process *out,
                       struct berr *err)
{
    yajl_val console = NULL;
    uint32_t number;
    int rc;

    if (!YAJL_IS_OBJECT(object))
        return berr_set(err, BERR_INVALID, "process must be an object");
    memset(out, 0, sizeof(*out));
    if ((rc = json_get_bool(object, "terminal", &out->terminal, err)) ||
        (rc = json_get_object(object, "consoleSize", &console, err)) ||
        (rc = parse_user(arena, object, &out->user, err)) ||
        (rc = spec_string_array(arena, object, "args", &out->args, NULL, err)) ||
        (rc = spec_string_array(arena, object, "env", &out->env, NULL, err)) ||
        (rc = json_get_string(object, "cwd", &out->cwd, err)) ||
        (rc = parse_capabilities(object, out, err)) ||
        (rc = parse_rlimits(arena, object, out, err)) ||
        (rc = json_get_bool(object, "noNewPrivileges", &out->no_new_privileges, err)) ||
        (rc = get_int(object, "oomScoreAdj", -1000, 1000, &out->oom_score_adj,
                      &out->has_oom_score_adj, err)) ||
        (rc = parse_io_priority(object, out, err)) || (rc = parse_scheduler(object, out, err)) ||
        (rc = json_get_string(object, "apparmorProfile", &out->apparmor_profile, err)) ||
        (rc = json_get_string(object, "selinuxLabel", &out->selinux_label, err)))
        return berr_prefix(err, "process");
    if (console) {
        number = 0;
        if ((rc = get_u32(console, "height", true, &number, err)))
            return berr_prefix(err, "process.consoleSize");
        out->console_height = number;
        if ((rc = get_u32(console, "width", true, &number, err)))
            return berr_prefix(err, "process.consoleSize");
        out->console_width = number;
    }
    if (!out->cwd)
        return berr_set(err, BERR_INVALID, "process.cwd is required");
    out->cwd = arena_strdup(arena, out->cwd);
    if (!out->args || !out->args[0])
        return berr_set(err, BERR_INVALID, "process.args must name a program to run");
    for (char **entry = out->env; entry && *entry; entry++)
        if (!strchr(*entry, '=') || **entry == '=')
            return berr_set(err, BERR_INVALID, "process.env: %s is not NAME=value", *entry);
    if (out->cwd[0] != '/')
        return berr_set(err, BERR_INVALID, "process.cwd must be an absolute path, not %s",
                        out->cwd);
    if (json_get(object, "execCPUAffinity"))
        return berr_set(err, BERR_UNSUPPORTED, "process.execCPUAffinity is not supported");
    if (!out->env) {
        out->env = arena_alloc(arena, sizeof(char *));
        if (!out->env)
            return out_of_memory(err);
    }
    if (out->apparmor_profile && !*out->apparmor_profile)
        out->apparmor_profile = NULL;
    if (out->selinux_label && !*out->selinux_label)
        out->selinux_label = NULL;
    if (out->apparmor_profile && access("/sys/kernel/security/apparmor", F_OK) != 0)
        return berr_set(err, BERR_UNSUPPORTED,
                        "process.apparmorProfile %s: AppArmor is not enabled on this host",
                        out->apparmor_profile);
    if (out->selinux_label && access("/sys/fs/selinux/enforce", F_OK) != 0)
        return berr_set(err, BERR_UNSUPPORTED,
                        "process.selinuxLabel %s: SELinux is not enabled on this host",
                        out->selinux_label);
    out->apparmor_profile = arena_strdup(arena, out->apparmor_profile);
    out->selinux_label = arena_strdup(arena, out->selinux_label);
    return 0;
}

/* ---- mounts ---- */

struct mount_option {
    const char *name;
    unsigned long set;
    unsigned long clear;
};

static const struct mount_option mount_flag_options[] = {
    {"async", 0, MS_SYNCHRONOUS},
    {"atime", 0, MS_NOATIME},
    {"defaults", 0, 0},
    {"dev", 0, MS_NODEV},
    {"diratime", 0, MS_NODIRATIME},
    {"dirsync", MS_DIRSYNC, 0},
    {"exec", 0, MS_NOEXEC},
    {"iversion", MS_I_VERSION, 0},
    {"lazytime", MS_LAZYTIME, 0},
    {"loud", 0, MS_SILENT},
    {"mand", MS_MANDLOCK, 0},
    {"noatime", MS_NOATIME, 0},
    {"nodev", MS_NODEV, 0},
    {"nodiratime", MS_NODIRATIME, 0},
    {"noexec", MS_NOEXEC, 0},
    {"noiversion", 0, MS_I_VERSION},
    {"nolazytime", 0, MS_LAZYTIME},
    {"nomand", 0, MS_MANDLOCK},
    {"norelatime", 0, MS_RELATIME},
    {"nostrictatime", 0, MS_STRICTATIME},
    {"nosuid", MS_NOSUID, 0},
    {"nosymfollow", MS_NOSYMFOLLOW, 0},
    {"relatime", MS_RELATIME, 0},
    {"remount", MS_REMOUNT, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"silent", MS_SILENT, 0},
    {"strictatime", MS_STRICTATIME, 0},
    {"suid", 0, MS_NOSUID},
    {"symfollow", 0, MS_NOSYMFOLLOW},
    {"sync", MS_SYNCHRONOUS, 0},
};

static const struct mount_option propagation_options[] = {
    {"private", MS_PRIVATE, 0},       {"rprivate", MS_PRIVATE | MS_REC, 0},
    {"shared", MS_SHARED, 0},         {"rshared", MS_SHARED | MS_REC, 0},
    {"slave", MS_SLAVE, 0},           {"rslave", MS_SLAVE | MS_REC, 0},
    {"unbindable", MS_UNBINDABLE, 0}, {"runbindable", MS_UNBINDABLE | MS_REC, 0},
};

/* Recursive attributes, applied with mount_setattr(AT_RECURSIVE). */
static const struct mount_option recursive_attr_options[] = {
    {"rro", MOUNT_ATTR_RDONLY, 0},
    {"rrw", 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0},
    {"rsuid", 0, MOUNT_ATTR_NOSUID},
    {"rnodev", MOUNT_ATTR_NODEV, 0},
    {"rdev", 0, MOUNT_ATTR_NODEV},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0},
    {"rexec", 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
    {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
};

static const struct mount_option *find_option(const struct mount_option *table, size_t count,
                                              const char *name)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

#define TABLE_SIZE(table) (sizeof(table) / sizeof((table)[0]))

void spec_write_mount_options(struct json_writer *writer)
{
    static const char *const others[] = {"bind", "rbind"};
    size_t i;

    json_array_begin(writer);
    for (i = 0; i < TABLE_SIZE(others); i++)
        json_string(writer, others[i]);
    for (i = 0; i < TABLE_SIZE(mount_flag_options); i++)
        json_string(writer, mount_flag_options[i].name);
    for (i = 0; i < TABLE_SIZE(propagation_options); i++)
        json_string(writer, propagation_options[i].name);
    for (i = 0; i < TABLE_SIZE(recursive_attr_options); i++)
        json_string(writer, recursive_attr_options[i].name);
    json_array_end(writer);
}

static int parse_mount_options(struct arena *arena, yajl_val options, struct spec_mount *mount,
                               size_t index, struct berr *err)
{
    size_t i, data_length = 0;
    char *data = NULL;

    if (!options)
        return 0;
    for (i = 0; i < options->u.array.len; i++) {
        yajl_val item = options->u.array.values[i];
        const struct mount_option *option;
        const char *name;
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "mounts[%zu].options[%zu] must be a string", index,
                            i);
        name = item->u.string;
        if (strcmp(name, "bind") == 0) {
            mount->bind = true;
        } else if (strcmp(name, "rbind") == 0) {
            mount->bind = true;
            mount->recursive = true;
        } else if ((option =
                        find_option(mount_flag_options, TABLE_SIZE(mount_flag_options), name))) {
            mount->flags = (mount->flags & ~option->clear) | option->set;
            mount->clear_flags = (mount->clear_flags & ~option->set) | option->clear;
        } else if ((option =
                        find_option(propagation_options, TABLE_SIZE(propagation_options), name))) {
            mount->propagation = option->set;
        } else if ((option = find_option(recursive_attr_options, TABLE_SIZE(recursive_attr_options),
                                         name))) {
            mount->attr_set = (mount->attr_set & ~option->clear) | option->set;
            mount->attr_clear = (mount->attr_clear & ~option->set) | option->clear;
        } else if (strcmp(name, "idmap") == 0 || strcmp(name, "ridmap") == 0) {
            return berr_set(err, BERR_UNSUPPORTED,
                            "mounts[%zu] %s: idmapped mounts are not supported", index,
                            mount->destination);
        } else if (strcmp(name, "tmpcopyup") == 0) {
            return berr_set(err, BERR_UNSUPPORTED,
                            "mounts[%zu] %s: option tmpcopyup is not supported", index,
                            mount->destination);
        } else {
            /* Anything else belongs to the filesystem: "mode=755", "size=64k", ... */
            size_t length = strlen(name);
            char *grown = arena_alloc(arena, data_length + length + 2);
            if (!grown)
                return out_of_memory(err);
            if (data_length) {
                memcpy(grown, data, data_length);
                grown[data_length++] = ',';
            }
            memcpy(grown + data_length, name, length + 1);
            data_length += length;
            data = grown;
        }
    }
    mount->data = data;
    return 0;
}

static int parse_mounts(struct arena *arena, yajl_val root, struct spec *spec, struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int rc = json_get_array(root, "mounts", &array, err);

    if (rc || !array)
        return rc;
    spec->mounts = arena_alloc(arena, (array->u.array.len + 1) * sizeof(struct spec_mount));
    if (!spec->mounts)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i], options = NULL;
        struct spec_mount *mount = &spec->mounts[i];
        const char *destination = NULL;
        if (!YAJL_IS_OBJECT(item))
            return berr_set(err, BERR_INVALID, "mounts[%zu] must be an object", i);
        if ((rc = require_string(item, "destination", &destination, err)) ||
            (rc = json_get_string(item, "type", &mount->type, err)) ||
            (rc = json_get_string(item, "source", &mount->source, err)) ||
            (rc = json_get_array(item, "options", &options, err)))
            return berr_prefix(err, "mounts[%zu]", i);
        if (!destination[0])
            return berr_set(err, BERR_INVALID, "mounts[%zu]: empty destination", i);
        if (json_get(item, "uidMappings") || json_get(item, "gidMappings"))
            return berr_set(err, BERR_UNSUPPORTED,
                            "mounts[%zu] %s: idmapped mounts are not supported", i, destination);
        /* A relative destination is relative to the container's root. */
        mount->destination = destination[0] == '/' ? arena_strdup(arena, destination)
                                                   : arena_printf(arena, "/%s", destination);
        mount->type = arena_strdup(arena, mount->type && *mount->type ? mount->type : NULL);
        mount->source = arena_strdup(arena, mount->source);
        if ((rc = parse_mount_options(arena, options, mount, i, err)))
            return rc;
        if (mount->type && strcmp(mount->type, "bind") == 0) {
            mount->bind = true;
            mount->type = NULL;
        }
        if (mount->bind && !mount->source)
            return berr_set(err, BERR_INVALID, "mounts[%zu] %s: a bind mount needs a source", i,
                            mount->destination);
        if (!mount->bind && !mount->type)
            return berr_set(err, BERR_INVALID, "mounts[%zu] %s: needs a type (or the bind option)",
                            i, mount->destination);
        if (!mount->source)
            mount->source = mount->type;
    }
    spec->mount_count = array->u.array.len;
    return 0;
}

/* ---- hooks ---- */

static int parse_hook_list(struct arena *arena, yajl_val hooks, const char *key,
                           struct spec_hook_list *out, struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int rc = json_get_array(hooks, key, &array, err);

    if (rc || !array)
        return rc;
    out->hooks = arena_alloc(arena, (array->u.array.len + 1) * sizeof(struct spec_hook));
    if (!out->hooks)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        struct spec_hook *hook = &out->hooks[i];
        const char *path = NULL;
        bool has_timeout = false;
        if (!YAJL_IS_OBJECT(item))
            return berr_set(err, BERR_INVALID, "hooks.%s[%zu] must be an object", key, i);
        if ((rc = require_string(item, "path", &path, err)) ||
            (rc = spec_string_array(arena, item, "args", &hook->args, NULL, err)) ||
            (rc = spec_string_array(arena, item, "env", &hook->env, NULL, err)) ||
            (rc = get_int(item, "timeout", INT_MIN, INT_MAX, &hook->timeout_seconds, &has_timeout,
                          err)))
            return berr_prefix(err, "hooks.%s[%zu]", key, i);
        if (path[0] != '/')
            return berr_set(err, BERR_INVALID, "hooks.%s[%zu]: path %s is not absolute", key, i,
                            path);
        if (has_timeout && hook->timeout_seconds <= 0)
            return berr_set(err, BERR_INVALID, "hooks.%s[%zu]: timeout must be positive", key, i);
        hook->path = arena_strdup(arena, path);
    }
    out->count = array->u.array.len;
    return 0;
}

static int parse_hooks(struct arena *arena, yajl_val root, struct spec *spec, struct berr *err)
{
    static const char *const keys[HOOK_KIND_COUNT] = {
        [HOOK_PRESTART] = "prestart",
        [HOOK_CREATE_RUNTIME] = "createRuntime",
        [HOOK_CREATE_CONTAINER] = "createContainer",
        [HOOK_START_CONTAINER] = "startContainer",
        [HOOK_POSTSTART] = "poststart",
        [HOOK_POSTSTOP] = "poststop",
    };
    yajl_val hooks = NULL;
    int kind, rc = json_get_object(root, "hooks", &hooks, err);

    if (rc || !hooks)
        return rc;
    for (kind = 0; kind < HOOK_KIND_COUNT; kind++)
        if ((rc = parse_hook_list(arena, hooks, keys[kind], &spec->hooks[kind], err)))
            return rc;
    return 0;
}

/* ---- linux ---- */

static int parse_namespaces(yajl_val linux_object, struct spec *spec, struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int kind, rc = json_get_array(linux_object, "namespaces", &array, err);

    if (rc || !array)
        return rc;
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        const char *type = NULL, *path = NULL;
        if (!YAJL_IS_OBJECT(item))
            return berr_set(err, BERR_INVALID, "linux.namespaces[%zu] must be an object", i);
        if ((rc = require_string(item, "type", &type, err)) ||
            (rc = json_get_string(item, "path", &path, err)))
            return berr_prefix(err, "linux.namespaces[%zu]", i);
        for (kind = 0; kind < NS_KIND_COUNT; kind++)
            if (strcmp(type, namespace_names[kind]) == 0)
                break;
        if (kind == NS_KIND_COUNT)
            return berr_set(err, BERR_INVALID, "linux.namespaces[%zu]: unknown namespace type %s",
                            i, type);
        if (spec->namespaces[kind].wanted)
            return berr_set(err, BERR_INVALID, "linux.namespaces: %s given twice", type);
        spec->namespaces[kind].wanted = true;
        if (path && *path) {
            if (path[0] != '/')
                return berr_set(err, BERR_INVALID, "linux.namespaces[%zu]: path %s is not absolute",
                                i, path);
            spec->namespaces[kind].path = path; /* copied by the caller */
        }
    }
    return 0;
}

static int parse_id_mappings(struct arena *arena, yajl_val linux_object, const char *key,
                             struct spec_id_mapping **out, size_t *count, struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int rc = json_get_array(linux_object, key, &array, err);

    if (rc || !array)
        return rc;
    *out = arena_alloc(arena, (array->u.array.len + 1) * sizeof(struct spec_id_mapping));
    if (!*out)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        struct spec_id_mapping *mapping = &(*out)[i];
        if (!YAJL_IS_OBJECT(item))
            return berr_set(err, BERR_INVALID, "linux.%s[%zu] must be an object", key, i);
        if ((rc = get_u32(item, "containerID", true, &mapping->container_id, err)) ||
            (rc = get_u32(item, "hostID", true, &mapping->host_id, err)) ||
            (rc = get_u32(item, "size", true, &mapping->size, err)))
            return berr_prefix(err, "linux.%s[%zu]", key, i);
        if (mapping->size == 0)
            return berr_set(err, BERR_INVALID, "linux.%s[%zu]: size must not be 0", key, i);
    }
    *count = array->u.array.len;
    return 0;
}

static int parse_devices(struct arena *arena, yajl_val linux_object, struct spec *spec,
                         struct berr *err)
{
    yajl_val array = NULL;
    size_t i;
    int rc = json_get_array(linux_object, "devices", &array, err);

    if (rc || !array)
        return rc;
    spec->devices = arena_alloc(arena, (array->u.array.len + 1) * sizeof(struct spec_device));
    if (!spec->devices)
        return out_of_memory(err);
    for (i = 0; i < array->u.array.len; i++) {
        yajl_val item = array->u.array.values[i];
        struct spec_device *device = &spec->devices[i];
        const char *path = NULL, *type = NULL;
        uint32_t number;
        if (!YAJL_IS_OBJECT(item))
            return berr_set(err, BERR_INVALID, "linux.devices[%zu] must be an object", i);
        if ((rc = require_string(item, "path", &path, err)) ||
            (rc = require_string(item, "type", &type, err)) ||
            (rc = json_get_int64(item, "major", &device->major, err)) ||
            (rc = json_get_int64(item, "minor", &device->minor, err)))
            return berr_prefix(err, "linux.devices[%zu]", i);
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
            return berr_set(err, BERR_INVALID, "linux.devices[%zu] %s: unknown type %s", i, path,
                            type);
        if (path[0] != '/' || strstr(path, ".."))
            return berr_set(err, BERR_INVALID, "linux.devices[%zu]: bad path %s", i, path);
        device->type = type[0];
        if (device->type != 'p' && (!json_get(item, "major") || !json_get(item, "minor")))
            return berr_set(err, BERR_INVALID,
                            "linux.devices[%zu] %s: major and minor are required", i, path);
        if (json_get(item, "fileMode") && !YAJL_IS_NULL(json_get(item, "fileMode"))) {
            if ((rc = get_u32(item, "fileMode", true, &number, err)))
                return berr_prefix(err, "linux.devices[%zu]", i);
            device->has_file_mode = true;
            device->file_mode = number & 07777;
        }
        if (json_get(item, "uid") && !YAJL_IS_NULL(json_get(item, "uid"))) {
            if ((rc = get_u32(item, "uid", true, &number, err)))
                return berr_prefix(err, "linux.devices[%zu]", i);
            device->has_uid = true;
            device->uid = number;
        }
        if (json_get(item, "gid") && !YAJL_IS_NULL(json_get(item, "gid"))) {
            if ((rc = get_u32(item, "gid", true, &number, err)))
                return berr_prefix(err, "linux.devices[%zu]", i);
            device->has_gid = true;
            device->gid = number;
        }
        device->path = arena_strdup(arena, path);
    }
    spec->device_count = array->u.array.len;
    return 0;
}

static int parse_string_map(struct arena *arena, yajl_val object, const char *where,
                            const char ***keys, const char ***values, size_t *count,
                            struct berr *err)
{
    size_t i, length;

    if (!object || YAJL_IS_NULL(object))
        return 0;
    if (!YAJL_IS_OBJECT(object))
        return berr_set(err, BERR_INVALID, "%s must be an object", where);
    length = object->u.object.len;
    *keys = arena_alloc(arena, (length + 1) * sizeof(char *));
    *values = arena_alloc(arena, (length + 1) * sizeof(char *));
    if (!*keys || !*values)
        return out_of_memory(err);
    for (i = 0; i < length; i++) {
        yajl_val value = object->u.object.values[i];
        if (!YAJL_IS_STRING(value))
            return berr_set(err, BERR_INVALID, "%s.%s must be a string", where,
                            object->u.object.keys[i]);
        (*keys)[i] = arena_strdup(arena, object->u.object.keys[i]);
        (*values)[i] = arena_strdup(arena, value->u.string);
    }
    *count = length;
    return 0;
}

static int parse_sysctls(struct arena *arena, yajl_val linux_object, struct spec *spec,
                         struct berr *err)
{
    const char **keys = NULL, **values = NULL;
    size_t i, count = 0;
    int rc = parse_string_map(arena, json_get(linux_object, "sysctl"), "linux.sysctl", &keys,
                              &values, &count, err);

    if (rc || !count)
        return rc;
    spec->sysctls = arena_alloc(arena, count * sizeof(struct spec_sysctl));
    if (!spec->sysctls)
        return out_of_memory(err);
    for (i = 0; i < count; i++) {
        if (!keys[i][0] || strstr(keys[i], "..") || strchr(keys[i], '/') == keys[i])
            return berr_set(err, BERR_INVALID, "linux.sysctl: bad key %s", keys[i]);
        spec->sysctls[i].key = keys[i];
        spec->sysctls[i].value = values[i];
    }
    spec->sysctl_count = count;
    return 0;
}

static int parse_propagation(const char *name, unsigned long *out, struct berr *err)
{
    const struct mount_option *option;

    if (!name || !*name)
        return 0;
    option = find_option(propagation_options, TABLE_SIZE(propagation_options), name);
    if (!option)
        return berr_set(err, BERR_INVALID, "linux.rootfsPropagation: unknown value %s", name);
    *out = option->set;
    return 0;
}

static int parse_personality(yajl_val linux_object, struct spec *spec, struct berr *err)
{
    yajl_val object = NULL, flags = NULL;
    const char *domain = NULL;
    int rc = json_get_object(linux_object, "personality", &object, err);

    if (rc || !object)
        return rc;
    if ((rc = require_string(object, "domain", &domain, err)) ||
        (rc = json_get_array(object, "flags", &flags, err)))
        return berr_prefix(err, "linux.personality");
    if (strcmp(domain, "LINUX") == 0)
        spec->personality = PER_LINUX;
    else if (strcmp(domain, "LINUX32") == 0)
        spec->personality = PER_LINUX32;
    else
        return berr_set(err, BERR_INVALID, "linux.personality: unknown domain %s", domain);
    if (flags && flags->u.array.len)
        return berr_set(err, BERR_UNSUPPORTED, "linux.personality.flags are not supported");
    spec->has_personality = true;
    return 0;
}

static int parse_time_offsets(struct arena *arena, yajl_val linux_object, struct spec *spec,
                              struct berr *err)
{
    yajl_val object = NULL;
    size_t i;
    int rc = json_get_object(linux_object, "timeOffsets", &object, err);

    if (rc || !object)
        return rc;
    spec->time_offsets =
        arena_alloc(arena, (object->u.object.len + 1) * sizeof(struct spec_time_offset));
    if (!spec->time_offsets)
        return out_of_memory(err);
    for (i = 0; i < object->u.object.len; i++) {
        const char *clock = object->u.object.keys[i];
        yajl_val value = object->u.object.values[i];
        struct spec_time_offset *offset = &spec->time_offsets[i];
        uint32_t nanoseconds = 0;
        if (strcmp(clock, "monotonic") != 0 && strcmp(clock, "boottime") != 0)
            return berr_set(err, BERR_INVALID, "linux.timeOffsets: unknown clock %s", clock);
        if (!YAJL_IS_OBJECT(value))
            return berr_set(err, BERR_INVALID, "linux.timeOffsets.%s must be an object", clock);
        if ((rc = json_get_int64(value, "secs", &offset->seconds, err)) ||
            (rc = get_u32(value, "nanosecs", false, &nanoseconds, err)))
            return berr_prefix(err, "linux.timeOffsets.%s", clock);
        if (nanoseconds >= 1000000000u)
            return berr_set(err, BERR_INVALID, "linux.timeOffsets.%s.nanosecs out of range", clock);
        offset->clock = arena_strdup(arena, clock);
        offset->nanoseconds = nanoseconds;
    }
    spec->time_offset_count = object->u.object.len;
    return 0;
}

/* Fields of linux this runtime cannot honour: refuse rather than ignore. */
static int refuse_unsupported(yajl_val linux_object, struct berr *err)
{
    static const char *const unsupported[] = {"intelRdt", "netDevices", "memoryPolicy"};
    yajl_val resources = json_get(linux_object, "resources");
    yajl_val rdma = json_get(resources, "rdma");
    size_t i;

    for (i = 0; i < TABLE_SIZE(unsupported); i++) {
        yajl_val value = json_get(linux_object, unsupported[i]);
        if (value && !YAJL_IS_NULL(value))
            return berr_set(err, BERR_UNSUPPORTED, "linux.%s is not supported by berth-runtime",
                            unsupported[i]);
    }
    if (rdma && YAJL_IS_OBJECT(rdma) && rdma->u.object.len)
        return berr_set(err, BERR_UNSUPPORTED, "linux.resources.rdma is not supported");
    return 0;
}

static int parse_linux(struct arena *arena, yajl_val root, struct spec *spec, struct berr *err)
{
    yajl_val linux_object = NULL, resources = NULL, seccomp = NULL;
    const char *propagation = NULL;
    int kind, rc = json_get_object(root, "linux", &linux_object, err);

    if (rc)
        return rc;
    spec->resources = arena_alloc(arena, sizeof(struct cgroup_resources));
    if (!spec->resources)
        return out_of_memory(err);
    if (!linux_object)
        return 0;
    if ((rc = refuse_unsupported(linux_object, err)) ||
        (rc = parse_namespaces(linux_object, spec, err)) ||
        (rc = parse_id_mappings(arena, linux_object, "uidMappings", &spec->uid_mappings,
                                &spec->uid_mapping_count, err)) ||
        (rc = parse_id_mappings(arena, linux_object, "gidMappings", &spec->gid_mappings,
                                &spec->gid_mapping_count, err)) ||
        (rc = parse_devices(arena, linux_object, spec, err)) ||
        (rc = parse_sysctls(arena, linux_object, spec, err)) ||
        (rc = parse_personality(linux_object, spec, err)) ||
        (rc = parse_time_offsets(arena, linux_object, spec, err)))
        return rc;
    for (kind = 0; kind < NS_KIND_COUNT; kind++)
        spec->namespaces[kind].path = arena_strdup(arena, spec->namespaces[kind].path);

    if ((rc = json_get_string(linux_object, "cgroupsPath", &spec->cgroups_path, err)) ||
        (rc = json_get_string(linux_object, "rootfsPropagation", &propagation, err)) ||
        (rc = json_get_string(linux_object, "mountLabel", &spec->mount_label, err)) ||
        (rc = spec_string_array(arena, linux_object, "maskedPaths", &spec->masked_paths, NULL,
                                err)) ||
        (rc = spec_string_array(arena, linux_object, "readonlyPaths", &spec->readonly_paths, NULL,
                                err)) ||
        (rc = json_get_object(linux_object, "resources", &resources, err)) ||
        (rc = json_get_object(linux_object, "seccomp", &seccomp, err)))
        return berr_prefix(err, "linux");
    spec->cgroups_path =
        arena_strdup(arena, spec->cgroups_path && *spec->cgroups_path ? spec->cgroups_path : NULL);
    if ((rc = parse_propagation(propagation, &spec->rootfs_propagation, err)))
        return rc;
    if (spec->mount_label && *spec->mount_label && access("/sys/fs/selinux/enforce", F_OK) != 0)
        return berr_set(err, BERR_UNSUPPORTED,
                        "linux.mountLabel: SELinux is not enabled on this host");
    spec->mount_label = NULL;
    if (resources && (rc = cgroup_resources_parse(arena, resources, spec->resources, err)))
        return berr_prefix(err, "linux.resources");
    if (seccomp && (rc = seccomp_spec_parse(arena, seccomp, &spec->seccomp, err)))
        return berr_prefix(err, "linux.seccomp");
    return 0;
}

static int check_namespaces(const struct spec *spec, struct berr *err)
{
    const struct spec_namespace *user = &spec->namespaces[NS_USER];

    if ((spec->uid_mapping_count || spec->gid_mapping_count) && !user->wanted)
        return berr_set(err, BERR_INVALID,
                        "linux.uidMappings/gidMappings need a user namespace in linux.namespaces");
    if (user->wanted && !user->path && (!spec->uid_mapping_count || !spec->gid_mapping_count))
        return berr_set(err, BERR_INVALID,
                        "a new user namespace needs linux.uidMappings and linux.gidMappings");
    if (user->wanted && user->path && (spec->uid_mapping_count || spec->gid_mapping_count))
        return berr_set(
            err, BERR_INVALID,
            "linux.uidMappings/gidMappings cannot be set when joining a user namespace");
    if (spec->time_offset_count &&
        (!spec->namespaces[NS_TIME].wanted || spec->namespaces[NS_TIME].path))
        return berr_set(err, BERR_INVALID, "linux.timeOffsets need a new time namespace");
    if (spec->hostname && *spec->hostname && !spec->namespaces[NS_UTS].wanted)
        return berr_set(err, BERR_INVALID, "hostname needs a new uts namespace");
    if (spec->domainname && *spec->domainname && !spec->namespaces[NS_UTS].wanted)
        return berr_set(err, BERR_INVALID, "domainname needs a new uts namespace");
    return 0;
}

static int parse_annotations(struct arena *arena, yajl_val root, struct spec *spec,
                             struct berr *err)
{
    const char **keys = NULL, **values = NULL;
    size_t i, count = 0;
    int rc = parse_string_map(arena, json_get(root, "annotations"), "annotations", &keys, &values,
                              &count, err);

    if (rc || !count)
        return rc;
    spec->annotations = arena_alloc(arena, count * sizeof(struct spec_annotation));
    if (!spec->annotations)
        return out_of_memory(err);
    for (i = 0; i < count; i++) {
        spec->annotations[i].key = keys[i];
        spec->annotations[i].value = values[i];
    }
    spec->annotation_count = count;
    return 0;
}

static int absolute_bundle(struct arena *arena, const char *bundle, const char **out,
                           struct berr *err)
{
    char resolved[PATH_MAX];

    if (!realpath(bundle, resolved))
        return berr_errno(err, errno, "bundle %s", bundle);
    *out = arena_strdup(arena, resolved);
    return *out ? 0 : out_of_memory(err);
}

int spec_load_config(struct arena *arena, const char *config_path, const char *bundle,
                     struct spec **out, struct berr *err)
{
    struct spec *spec;
    yajl_val root = NULL, root_object = NULL, process = NULL;
    const char *root_path = NULL;
    int rc;

    spec = arena_alloc(arena, sizeof(*spec));
    if (!spec)
        return out_of_memory(err);
    spec->bundle = arena_strdup(arena, bundle);
    if ((rc = json_parse_file(config_path, CONFIG_MAX_SIZE, &root, err)))
        return rc;
    if (!YAJL_IS_OBJECT(root)) {
        rc = berr_set(err, BERR_INVALID, "%s: must hold a JSON object", config_path);
        goto out;
    }
    if ((rc = json_get_string(root, "ociVersion", &spec->oci_version, err)) ||
        (rc = json_get_object(root, "root", &root_object, err)) ||
        (rc = json_get_string(root, "hostname", &spec->hostname, err)) ||
        (rc = json_get_string(root, "domainname", &spec->domainname, err)) ||
        (rc = json_get_object(root, "process", &process, err)))
        goto fail;
    if (!spec->oci_version) {
        rc = berr_set(err, BERR_INVALID, "\"ociVersion\" is required");
        goto fail;
    }
    if (!root_object || (rc = json_get_string(root_object, "path", &root_path, err)) ||
        !root_path) {
        if (!rc)
            rc = berr_set(err, BERR_INVALID, "\"root.path\" is required");
        goto fail;
    }
    if ((rc = json_get_bool(root_object, "readonly", &spec->root_readonly, err)))
        goto fail;
    spec->oci_version = arena_strdup(arena, spec->oci_version);
    spec->hostname = arena_strdup(arena, spec->hostname);
    spec->domainname = arena_strdup(arena, spec->domainname);
    spec->root_path = root_path[0] == '/' ? arena_strdup(arena, root_path)
                                          : arena_printf(arena, "%s/%s", bundle, root_path);
    if (process) {
        spec->has_process = true;
        if ((rc = spec_parse_process(arena, process, &spec->process, err)))
            goto fail;
    }
    if ((rc = parse_mounts(arena, root, spec, err)) || (rc = parse_hooks(arena, root, spec, err)) ||
        (rc = parse_annotations(arena, root, spec, err)) ||
        (rc = parse_linux(arena, root, spec, err)) || (rc = check_namespaces(spec, err)))
        goto fail;
    *out = spec;
    rc = 0;
    goto out;
fail:
    berr_prefix(err, "%s", config_path);
out:
    yajl_tree_free(root);
    return rc;
}

int spec_load(struct arena *arena, const char *bundle, struct spec **out, struct berr *err)
{
    const char *absolute = NULL;
    char config_path[PATH_MAX];
    int rc;

    if ((rc = absolute_bundle(arena, bundle, &absolute, err)))
        return rc;
    snprintf(config_path, sizeof(config_path), "%s/config.json", absolute);
    if ((rc = spec_load_config(arena, config_path, absolute, out, err)))
        return rc;
    if (access((*out)->root_path, F_OK) != 0)
        return berr_errno(err, errno, "root.path %s", (*out)->root_path);
    return 0;
}
