/*
 * host_info: see host_info.h. Cgroup v2 is recognised by the filesystem
 * type of /sys/fs/cgroup; its controllers come from cgroup.controllers.
 * Under v1 a controller is there when its hierarchy is mounted (a
 * directory /sys/fs/cgroup/NAME with the files that say so).
 */
#include "host_info.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "atomic_file.h"

#define CGROUP_ROOT          "/sys/fs/cgroup"
#define CGROUP2_SUPER_MAGIC_ 0x63677270

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* The first line of a small file, without its newline; "" if unreadable. */
static void read_line(const char *path, char *out, size_t size)
{
    FILE *file = fopen(path, "re");

    out[0] = '\0';
    if (!file)
        return;
    if (fgets(out, (int)size, file))
        out[strcspn(out, "\n")] = '\0';
    fclose(file);
}

static bool file_says_one(const char *path)
{
    char line[16];

    read_line(path, line, sizeof(line));
    return strcmp(line, "1") == 0;
}

bool host_os_release_value(const char *path, const char *key, char *out, size_t size)
{
    FILE *file = fopen(path, "re");
    size_t key_length = strlen(key);
    char line[512];
    bool found = false;

    if (!file)
        return false;
    while (!found && fgets(line, sizeof(line), file)) {
        char *value = line + key_length + 1, *end;
        if (strncmp(line, key, key_length) != 0 || line[key_length] != '=')
            continue;
        value[strcspn(value, "\n")] = '\0';
        end = value + strlen(value);
        if ((*value == '"' || *value == '\'') && end > value + 1 && end[-1] == *value) {
            end[-1] = '\0';
            value++;
        }
        snprintf(out, size, "%s", value);
        found = true;
    }
    fclose(file);
    return found;
}

static bool has_word(const char *list, const char *word)
{
    size_t length = strlen(word);

    for (const char *cursor = list; (cursor = strstr(cursor, word)); cursor += length)
        if ((cursor == list || cursor[-1] == ' ') && (cursor[length] == ' ' || !cursor[length]))
            return true;
    return false;
}

static void read_cgroups(struct host_info *out)
{
    struct statfs fs;
    char controllers[512];

    out->cgroup_version =
        statfs(CGROUP_ROOT, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC_ ? 2 : 1;
    if (out->cgroup_version == 2) {
        read_line(CGROUP_ROOT "/cgroup.controllers", controllers, sizeof(controllers));
        out->memory_limit = has_word(controllers, "memory");
        out->swap_limit = out->memory_limit;
        out->cpu_cfs = out->cpu_shares = has_word(controllers, "cpu");
        out->cpuset = has_word(controllers, "cpuset");
        out->pids_limit = has_word(controllers, "pids");
        return;
    }
    out->memory_limit = exists(CGROUP_ROOT "/memory/memory.limit_in_bytes");
    out->swap_limit = exists(CGROUP_ROOT "/memory/memory.memsw.limit_in_bytes");
    out->kernel_memory_tcp = exists(CGROUP_ROOT "/memory/memory.kmem.tcp.limit_in_bytes");
    out->oom_kill_disable = exists(CGROUP_ROOT "/memory/memory.oom_control");
    out->cpu_cfs = exists(CGROUP_ROOT "/cpu/cpu.cfs_quota_us");
    out->cpu_shares = exists(CGROUP_ROOT "/cpu/cpu.shares");
    out->cpuset = exists(CGROUP_ROOT "/cpuset/cpuset.cpus");
    out->pids_limit = exists(CGROUP_ROOT "/pids");
}

static const char *filesystem_name(long type)
{
    switch ((unsigned long)type) {
    case 0xEF53:
        return "extfs";
    case 0x58465342:
        return "xfs";
    case 0x9123683E:
        return "btrfs";
    case 0x01021994:
        return "tmpfs";
    case 0x794C7630:
        return "overlayfs";
    case 0x2FC12FC1:
        return "zfs";
    case 0x65735546:
        return "fuseblk";
    default:
        return "unknown";
    }
}

void host_info_read(const char *root, struct host_info *out)
{
    struct utsname host;
    struct sysinfo system;
    struct statfs fs;

    memset(out, 0, sizeof(*out));
    if (!host_os_release_value("/etc/os-release", "PRETTY_NAME", out->os_name,
                               sizeof(out->os_name)) &&
        !host_os_release_value("/usr/lib/os-release", "PRETTY_NAME", out->os_name,
                               sizeof(out->os_name)))
        snprintf(out->os_name, sizeof(out->os_name), "Linux");
    if (!host_os_release_value("/etc/os-release", "VERSION_ID", out->os_version,
                               sizeof(out->os_version)))
        out->os_version[0] = '\0';
    if (uname(&host) == 0) {
        snprintf(out->kernel, sizeof(out->kernel), "%s", host.release);
        snprintf(out->machine, sizeof(out->machine), "%s", host.machine);
    }
    if (gethostname(out->hostname, sizeof(out->hostname) - 1) < 0)
        out->hostname[0] = '\0';
    read_cgroups(out);
    out->ipv4_forwarding = file_says_one("/proc/sys/net/ipv4/ip_forward");
    out->bridge_nf_iptables = file_says_one("/proc/sys/net/bridge/bridge-nf-call-iptables");
    out->bridge_nf_ip6tables = file_says_one("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
    out->cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (sysinfo(&system) == 0)
        out->memory_total = (int64_t)system.totalram * system.mem_unit;
    snprintf(out->backing_fs, sizeof(out->backing_fs), "%s",
             statfs(root, &fs) == 0 ? filesystem_name(fs.f_type) : "unknown");
}

int host_engine_id(const char *root, char *out, size_t size, struct berr *err)
{
    char path[4096], id[64];

    snprintf(path, sizeof(path), "%s/engine-id", root);
    read_line(path, id, sizeof(id));
    if (strlen(id) != 36) {
        read_line("/proc/sys/kernel/random/uuid", id, sizeof(id));
        if (strlen(id) != 36)
            return berr_set(err, BERR_IO, "cannot make an engine ID");
        if (atomic_write_file(path, id, strlen(id), 0644, err) != 0)
            return berr_prefix(err, "keep the engine ID");
    }
    snprintf(out, size, "%s", id);
    return 0;
}
