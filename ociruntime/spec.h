/*
 * spec: an OCI runtime config.json, parsed and validated into plain C.
 *
 * Everything is checked here, before anything is created: a config that
 * parses is one the runtime can carry out, and one that does not gets a
 * message naming the field. Fields this runtime cannot honour on this host
 * (intelRdt, an LSM label the kernel lacks, ...) are refused here too,
 * never silently ignored.
 *
 * All memory comes from the arena (see arena.h): the cloned container
 * process reads these structures after the parent has moved on.
 */
#ifndef BERTH_RUNTIME_SPEC_H
#define BERTH_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "arena.h"
#include "berr.h"

/* Optional numbers: config fields whose absence means "leave as is". */
struct opt_u64 {
    bool set;
    uint64_t value;
};
struct opt_i64 {
    bool set;
    int64_t value;
};

struct spec_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft;
    uint64_t hard;
};

struct spec_user {
    uid_t uid;
    gid_t gid;
    bool has_umask;
    mode_t umask;
    gid_t *additional_gids;
    size_t additional_gid_count;
};

/* Capability sets as bitmasks over capability numbers (all fit in 64 bits). */
struct spec_capabilities {
    uint64_t bounding;
    uint64_t effective;
    uint64_t inheritable;
    uint64_t permitted;
    uint64_t ambient;
};

struct spec_scheduler {
    int policy; /* SCHED_* */
    int nice;
    int priority;
    uint64_t flags;
    uint64_t runtime;
    uint64_t deadline;
    uint64_t period;
};

struct spec_process {
    bool terminal;
    unsigned console_height;
    unsigned console_width;
    struct spec_user user;
    char **args; /* NULL-terminated */
    char **env;  /* NULL-terminated */
    const char *cwd;
    bool has_capabilities;
    struct spec_capabilities capabilities;
    struct spec_rlimit *rlimits;
    size_t rlimit_count;
    bool no_new_privileges;
    bool has_oom_score_adj;
    int oom_score_adj;
    bool has_io_priority;
    int io_priority_class; /* IOPRIO_CLASS_* */
    int io_priority_level;
    bool has_scheduler;
    struct spec_scheduler scheduler;
    const char *apparmor_profile;
    const char *selinux_label;
};

/* One mount, with its options already split into flags and data. */
struct spec_mount {
    const char *destination;
    const char *type; /* NULL for a bind mount without a type */
    const char *source;
    unsigned long flags;       /* MS_* to set */
    unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", ...) */
    unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) */
    bool bind;                 /* "bind" or "rbind" (or type "bind") */
    bool recursive;            /* "rbind" */
    uint64_t attr_set;         /* MOUNT_ATTR_* set recursively ("rro", "rnosuid", ...) */
    uint64_t attr_clear;       /* MOUNT_ATTR_* cleared recursively ("rrw", "rsuid", ...) */
    const char *data;          /* filesystem-specific options, comma-joined, or NULL */
};

enum spec_namespace_kind {
    NS_PID,
    NS_NETWORK,
    NS_MOUNT,
    NS_IPC,
    NS_UTS,
    NS_USER,
    NS_CGROUP,
    NS_TIME,
    NS_KIND_COUNT,
};

struct spec_namespace {
    bool wanted;      /* listed in linux.namespaces */
    const char *path; /* join this one instead of creating one */
};

struct spec_id_mapping {
    uint32_t container_id;
    uint32_t host_id;
    uint32_t size;
};

struct spec_device {
    const char *path;
    char type; /* 'c', 'b', 'u' (unbuffered char), 'p' (fifo) */
    int64_t major;
    int64_t minor;
    bool has_file_mode;
    mode_t file_mode;
    bool has_uid;
    uid_t uid;
    bool has_gid;
    gid_t gid;
};

struct spec_hook {
    const char *path;
    char **args;         /* NULL-terminated; may be NULL */
    char **env;          /* NULL-terminated; may be NULL */
    int timeout_seconds; /* 0: none */
};

enum spec_hook_kind {
    HOOK_PRESTART,
    HOOK_CREATE_RUNTIME,
    HOOK_CREATE_CONTAINER,
    HOOK_START_CONTAINER,
    HOOK_POSTSTART,
    HOOK_POSTSTOP,
    HOOK_KIND_COUNT,
};

struct spec_hook_list {
    struct spec_hook *hooks;
    size_t count;
};

struct spec_sysctl {
    const char *key;
    const char *value;
};

struct spec_annotation {
    const char *key;
    const char *value;
};

struct spec_time_offset {
    const char *clock; /* "monotonic" or "boottime" */
    int64_t seconds;
    uint32_t nanoseconds;
};

struct cgroup_resources; /* cgroup_resources.h */
struct seccomp_spec;     /* seccomp.h */

struct spec {
    const char *oci_version;
    const char *bundle;    /* absolute path of the bundle directory */
    const char *root_path; /* absolute path of the root filesystem */
    bool root_readonly;
    const char *hostname;
    const char *domainname;
    bool has_process;
    struct spec_process process;
    struct spec_mount *mounts;
    size_t mount_count;
    struct spec_hook_list hooks[HOOK_KIND_COUNT];
    struct spec_annotation *annotations;
    size_t annotation_count;

    /* linux */
    struct spec_namespace namespaces[NS_KIND_COUNT];
    struct spec_id_mapping *uid_mappings;
    size_t uid_mapping_count;
    struct spec_id_mapping *gid_mappings;
    size_t gid_mapping_count;
    struct spec_device *devices;
    size_t device_count;
    const char *cgroups_path;
    struct cgroup_resources *resources; /* never NULL after parsing */
    struct seccomp_spec *seccomp;       /* NULL: no filter */
    unsigned long rootfs_propagation;   /* 0: the default (MS_SLAVE | MS_REC) */
    char **masked_paths;
    char **readonly_paths;
    struct spec_sysctl *sysctls;
    size_t sysctl_count;
    const char *mount_label;
    bool has_personality;
    unsigned long personality;
    struct spec_time_offset *time_offsets;
    size_t time_offset_count;
};

/* Reads BUNDLE/config.json and checks that the root filesystem exists.
 * bundle may be relative; it is made absolute. */
int spec_load(struct arena *arena, const char *bundle, struct spec **out, struct berr *err);

/* Reads a config.json at config_path whose relative paths are relative to
 * bundle (absolute), without looking at the filesystem. */
int spec_load_config(struct arena *arena, const char *config_path, const char *bundle,
                     struct spec **out, struct berr *err);

/* Parses a "process" object (config.json's, or exec --process). */
int spec_parse_process(struct arena *arena, yajl_val object, struct spec_process *out,
                       struct berr *err);

/* Names and numbers shared with other modules. */
const char *spec_namespace_name(enum spec_namespace_kind kind);
int spec_namespace_clone_flag(enum spec_namespace_kind kind);
int spec_rlimit_from_name(const char *name); /* -1 if unknown */

/* The mount options this runtime knows, as a JSON array (for `features`). */
struct json_writer;
void spec_write_mount_options(struct json_writer *writer);

/* The value of NAME in a NULL-terminated "NAME=value" vector, or NULL. */
const char *spec_getenv(char **env, const char *name);

/* Copies a JSON string array into the arena. Absent: *out untouched. */
int spec_string_array(struct arena *arena, yajl_val object, const char *key, char ***out,
                      size_t *count, struct berr *err);

#endif
