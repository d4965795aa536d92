/*
 * cmd_spec: `spec` writes a starting config.json, as `runc spec` does:
 * busybox-friendly defaults (sh on a terminal, the usual mounts and masked
 * paths, a minimal capability set), or with --rootless a configuration for
 * an unprivileged user (a user namespace mapping the caller to root, no
 * network namespace, /sys bound from the host).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "berth_version.h"
#include "commands.h"
#include "json.h"

static void string_array(struct json_writer *writer, const char *key, const char *const *items)
{
    json_key(writer, key);
    json_array_begin(writer);
    for (; *items; items++)
        json_string(writer, *items);
    json_array_end(writer);
}

static void write_mount(struct json_writer *writer, const char *destination, const char *type,
                        const char *source, const char *const *options)
{
    json_object_begin(writer);
    json_kv_string(writer, "destination", destination);
    json_kv_string(writer, "type", type);
    json_kv_string(writer, "source", source);
    if (options)
        string_array(writer, "options", options);
    json_object_end(writer);
}

static void write_id_mapping(struct json_writer *writer, const char *key, unsigned host_id)
{
    json_key(writer, key);
    json_array_begin(writer);
    json_object_begin(writer);
    json_kv_uint(writer, "containerID", 0);
    json_kv_uint(writer, "hostID", host_id);
    json_kv_uint(writer, "size", 1);
    json_object_end(writer);
    json_array_end(writer);
}

static void write_default_spec(struct json_writer *writer, bool rootless)
{
    static const char *const capabilities[] = {"CAP_AUDIT_WRITE", "CAP_KILL",
                                               "CAP_NET_BIND_SERVICE", NULL};
    static const char *const environment[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL};
    static const char *const shell[] = {"sh", NULL};
    static const char *const dev_options[] = {"nosuid", "strictatime", "mode=755", "size=65536k",
                                              NULL};
    static const char *const devpts_options[] = {
        "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL};
    static const char *const devpts_rootless_options[] = {
        "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL};
    static const char *const shm_options[] = {"nosuid",    "noexec",      "nodev",
                                              "mode=1777", "size=65536k", NULL};
    static const char *const mqueue_options[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const sys_options[] = {"nosuid", "noexec", "nodev", "ro", NULL};
    static const char *const sys_rootless_options[] = {"rbind", "nosuid", "noexec",
                                                       "nodev", "ro",     NULL};
    static const char *const cgroup_options[] = {"nosuid",   "noexec", "nodev",
                                                 "relatime", "ro",     NULL};
    static const char *const masked[] = {"/proc/acpi",
                                         "/proc/asound",
                                         "/proc/kcore",
                                         "/proc/keys",
                                         "/proc/latency_stats",
                                         "/proc/timer_list",
                                         "/proc/timer_stats",
                                         "/proc/sched_debug",
                                         "/sys/firmware",
                                         "/proc/scsi",
                                         NULL};
    static const char *const readonly[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
    static const char *const namespaces[] = {"pid",   "network", "ipc", "uts",
                                             "mount", "cgroup",  NULL};
    static const char *const rootless_namespaces[] = {"pid",    "ipc",  "uts", "mount",
                                                      "cgroup", "user", NULL};
    const char *const *namespace;

    json_object_begin(writer);
    json_kv_string(writer, "ociVersion", BERTH_OCI_VERSION);
    json_key(writer, "process");
    json_object_begin(writer);
    json_kv_bool(writer, "terminal", true);
    json_key(writer, "user");
    json_object_begin(writer);
    json_kv_uint(writer, "uid", 0);
    json_kv_uint(writer, "gid", 0);
    json_object_end(writer);
    string_array(writer, "args", shell);
    string_array(writer, "env", environment);
    json_kv_string(writer, "cwd", "/");
    json_key(writer, "capabilities");
    json_object_begin(writer);
    string_array(writer, "bounding", capabilities);
    string_array(writer, "effective", capabilities);
    string_array(writer, "permitted", capabilities);
    json_object_end(writer);
    json_key(writer, "rlimits");
    json_array_begin(writer);
    json_object_begin(writer);
    json_kv_string(writer, "type", "RLIMIT_NOFILE");
    json_kv_uint(writer, "hard", 1024);
    json_kv_uint(writer, "soft", 1024);
    json_object_end(writer);
    json_array_end(writer);
    json_kv_bool(writer, "noNewPrivileges", true);
    json_object_end(writer);

    json_key(writer, "root");
    json_object_begin(writer);
    json_kv_string(writer, "path", "rootfs");
    json_kv_bool(writer, "readonly", true);
    json_object_end(writer);
    json_kv_string(writer, "hostname", "berth");

    json_key(writer, "mounts");
    json_array_begin(writer);
    write_mount(writer, "/proc", "proc", "proc", NULL);
    write_mount(writer, "/dev", "tmpfs", "tmpfs", dev_options);
    write_mount(writer, "/dev/pts", "devpts", "devpts",
                rootless ? devpts_rootless_options : devpts_options);
    write_mount(writer, "/dev/shm", "tmpfs", "shm", shm_options);
    write_mount(writer, "/dev/mqueue", "mqueue", "mqueue", mqueue_options);
    if (rootless) {
        write_mount(writer, "/sys", "none", "/sys", sys_rootless_options);
    } else {
        write_mount(writer, "/sys", "sysfs", "sysfs", sys_options);
        write_mount(writer, "/sys/fs/cgroup", "cgroup", "cgroup", cgroup_options);
    }
    json_array_end(writer);

    json_key(writer, "linux");
    json_object_begin(writer);
    if (rootless) {
        write_id_mapping(writer, "uidMappings", (unsigned)getuid());
        write_id_mapping(writer, "gidMappings", (unsigned)getgid());
    } else {
        json_key(writer, "resources");
        json_object_begin(writer);
        json_key(writer, "devices");
        json_array_begin(writer);
        json_object_begin(writer);
        json_kv_bool(writer, "allow", false);
        json_kv_string(writer, "access", "rwm");
        json_object_end(writer);
        json_array_end(writer);
        json_object_end(writer);
    }
    json_key(writer, "namespaces");
    json_array_begin(writer);
    for (namespace = rootless ? rootless_namespaces : namespaces; *namespace; namespace ++) {
        json_object_begin(writer);
        json_kv_string(writer, "type", *namespace);
        json_object_end(writer);
    }
    json_array_end(writer);
    string_array(writer, "maskedPaths", masked);
    string_array(writer, "readonlyPaths", readonly);
    json_object_end(writer);
    json_object_end(writer);
}

int command_spec(struct global_options *globals, int argc, char **argv, struct berr *err)
{
    static const struct option options[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"rootless", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *bundle = ".", *text;
    struct json_writer writer;
    bool rootless = false;
    size_t length;
    char path[PATH_MAX];
    int option, directory_fd, rc;

    (void)globals;
    opterr = 0;
    optind = 1;
    while ((option = getopt_long(argc, argv, "+b:", options, NULL)) != -1) {
        if (option == 'b') {
            bundle = optarg;
        } else if (option == 'r') {
            rootless = true;
        } else {
            berr_set(err, BERR_INVALID, "spec: unknown option %s", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        berr_set(err, BERR_INVALID, "spec: unexpected argument %s", argv[optind]);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/config.json", bundle);
    if (access(path, F_OK) == 0) {
        berr_set(err, BERR_EXISTS, "%s exists: remove it first", path);
        return -1;
    }
    directory_fd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0) {
        berr_errno(err, errno, "spec: bundle %s", bundle);
        return -1;
    }
    if ((rc = json_writer_init(&writer, true, err)) == 0) {
        write_default_spec(&writer, rootless);
        if ((rc = json_writer_result(&writer, &text, &length, err)) == 0)
            rc = atomic_write_file_at(directory_fd, "config.json", text, length, 0644, err);
        json_writer_free(&writer);
    }
    close(directory_fd);
    return rc ? -1 : 0;
}
