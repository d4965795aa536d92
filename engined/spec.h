/*
 * spec: the OCI runtime spec of a container, from its Config and
 * HostConfig (container_config.h made them), as dockerd builds it.
 *
 * Why the engine and not the supervisor: every default here is Docker's
 * (capabilities, masked paths, the seccomp profile, /dev/shm, the
 * process environment), and the supervisor is meant to run any spec an
 * orchestrator gives it. The spec is a pure function of its input, so it
 * is rebuilt at every start (a `docker update` or a changed image user
 * database takes effect then) and unit-testable: the input carries the
 * image's /etc/passwd and /etc/group as text, read by the caller.
 *
 * Defaults (see docs/engine.md): namespaces pid, ipc, uts, mount, network
 * (a path the engine made, or none with the host network), cgroup on
 * cgroup v2; Docker's 14 capabilities; its masked and read-only paths;
 * /proc, /dev, /dev/pts, /sys (ro), /sys/fs/cgroup (ro), /dev/mqueue,
 * /dev/shm (ShmSize); the engine's hosts, hostname and resolv.conf; the
 * default seccomp profile (seccomp_default.c); cgroupsPath
 * /berth/<id> (or CgroupParent/<id>).
 */
#ifndef BERTH_ENGINED_SPEC_H
#define BERTH_ENGINED_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"
#include "container_store.h"
#include "json.h"

#define SPEC_INIT_PATH     "/sbin/docker-init"
#define SPEC_CGROUP_PARENT "/berth"
/* Docker's PATH for Linux containers. */
#define SPEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct spec_input {
    const char *id;
    const struct container_settings *settings;
    /* The image's /etc/passwd and /etc/group (NULL: none). */
    const char *passwd;
    const char *group;
    /* Unknown user or group names are errors (at start); lenient (at
     * create) they fall back to root. */
    bool strict_user;
    const char *hosts_path, *hostname_path, *resolv_conf_path;
    const char *netns_path; /* the container's network namespace; NULL: host network */
    const char *init_path;  /* the init binary for Init (tini-static); NULL: none found */
};

/* The spec as JSON text (*out malloc'ed, *length its size). */
int spec_build(const struct spec_input *input, char **out, size_t *length, struct berr *err);

/* The OCI LinuxResources object of a HostConfig (for Tasks.Update). */
int spec_resources(yajl_val host_config, char **out, size_t *length, struct berr *err);

/* Makes the missing host directories of HostConfig.Binds (dockerd does so
 * for -v; --mount sources must exist). Called before spec_build at start. */
int spec_prepare_binds(yajl_val host_config, struct berr *err);

/* Writes inspect's "Mounts" array (bind and tmpfs mounts of Binds and
 * Mounts). */
void spec_write_mount_points(struct json_writer *writer, yajl_val host_config);

/* What create checks beyond types (400s): binds, mounts, tmpfs, devices,
 * capabilities, sysctls, security options, ulimits, namespace modes. */
int spec_check_host_config(yajl_val host_config, struct berr *err);

/* A cpuset list ("0-2,4") or NULL/"": fine; else BERR_INVALID. */
int spec_check_cpuset(yajl_val value, const char *what, struct berr *err);

/* Writes "MaskedPaths": [...] or "ReadonlyPaths": [...] with Docker's defaults. */
void spec_write_default_paths(struct json_writer *writer, const char *key);

/* ---- users (also for exec's User) ---- */

#define SPEC_USER_GROUPS_MAX 64

struct spec_user {
    unsigned uid, gid;
    unsigned groups[SPEC_USER_GROUPS_MAX]; /* additional gids */
    size_t group_count;
};

/* "name|uid[:group|gid]" looked up in an image's /etc/passwd and
 * /etc/group texts (NULL: none), plus group_add (HostConfig.GroupAdd, may
 * be NULL), as runc's lookup. strict: unknown names are BERR_INVALID with
 * dockerd's message; else they fall back to root. */
int spec_resolve_user(const char *user, yajl_val group_add, const char *passwd, const char *group,
                      bool strict, struct spec_user *out, struct berr *err);

/* ---- capabilities (also for the seccomp profile's conditions) ---- */

/* Every capability the engine holds ("CAP_..."), what privileged gets:
 * up to size - 1 names and a NULL. Returns the count. */
size_t spec_all_capabilities(const char **caps, size_t size);

/* "CAP_NET_ADMIN" for "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL"
 * for "all"; NULL if unknown. */
const char *spec_capability_name(const char *text);

/* ---- seccomp (seccomp_default.c) ---- */

/* Writes the "seccomp" object for a profile (NULL: Docker's default;
 * else a Docker-format profile's JSON text) and the container's bounding
 * capabilities (NULL-terminated "CAP_..." names). */
int seccomp_write(struct json_writer *writer, const char *profile, const char *const *capabilities,
                  struct berr *err);

#endif
