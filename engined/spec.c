/*
 * spec: see spec.h. The spec is written in one pass with json_writer;
 * capabilities are collected first (the seccomp profile depends on them);
 * the mounts are spec_mounts.c's.
 */
#include "spec.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container_config.h"
#include "capabilities.h"
#include "spec_mounts.h"

#define MAX_CAPS 64

/* ---- capabilities ---- */

/* Docker's default set. */
static const char *const default_capabilities[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

const char *spec_capability_name(const char *text)
{
    const char *bare = text;

    if (strcasecmp(text, "ALL") == 0)
        return "ALL";
    if (strncasecmp(bare, "CAP_", 4) == 0)
        bare += 4;
    for (int i = 0; i < CAPABILITY_COUNT; i++)
        if (strcasecmp(capability_name(i) + 4, bare) == 0)
            return capability_name(i);
    return NULL;
}

/* The capabilities this engine holds itself: nobody can grant more. */
static unsigned long long own_bounding_set(void)
{
    FILE *status = fopen("/proc/self/status", "re");
    char line[256];
    unsigned long long mask = ~0ULL;

    if (!status)
        return mask;
    while (fgets(line, sizeof(line), status))
        if (sscanf(line, "CapBnd: %llx", &mask) == 1)
            break;
    fclose(status);
    return mask;
}

static bool in_vector(const char *const *vector, size_t count, const char *item)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(vector[i], item) == 0)
            return true;
    return false;
}

size_t spec_all_capabilities(const char **caps, size_t size)
{
    unsigned long long held = own_bounding_set();
    size_t n = 0;

    for (size_t i = 0; i < CAPABILITY_COUNT && n + 1 < size; i++)
        if (held >> i & 1)
            caps[n++] = capability_name((int)i);
    if (size)
        caps[n] = NULL;
    return n;
}

/* Normalised names of a CapAdd/CapDrop array into out. */
static int capability_list(yajl_val list, const char *what, const char **out, size_t *count,
                           struct berr *err)
{
    *count = 0;
    if (!list || YAJL_IS_NULL(list))
        return 0;
    if (!YAJL_IS_ARRAY(list))
        return berr_set(err, BERR_INVALID, "%s: expected an array", what);
    for (size_t i = 0; i < list->u.array.len && *count < MAX_CAPS; i++) {
        yajl_val item = list->u.array.values[i];
        const char *name = YAJL_IS_STRING(item) ? spec_capability_name(item->u.string) : NULL;
        if (!name)
            return berr_set(err, BERR_INVALID, "unknown capability: \"%s\"",
                            YAJL_IS_STRING(item) ? item->u.string : "?");
        out[(*count)++] = name;
    }
    return 0;
}

/* dockerd's TweakCapabilities: ALL in CapAdd, ALL in CapDrop, or the
 * defaults minus the drops plus the adds. NULL-terminated into caps. */
static int container_capabilities(yajl_val host, const char **caps, struct berr *err)
{
    const char *add[MAX_CAPS], *drop[MAX_CAPS];
    size_t add_count, drop_count, n = 0, i;
    unsigned long long held = own_bounding_set();
    bool privileged = false;
    int rc;

    if ((rc = capability_list(json_get(host, "CapAdd"), "CapAdd", add, &add_count, err)) ||
        (rc = capability_list(json_get(host, "CapDrop"), "CapDrop", drop, &drop_count, err)))
        return rc;
    json_get_bool(host, "Privileged", &privileged, NULL);
    if (privileged || in_vector(add, add_count, "ALL")) {
        for (i = 0; i < CAPABILITY_COUNT; i++)
            if ((held >> i & 1) &&
                (privileged || !in_vector(drop, drop_count, capability_name((int)i))))
                caps[n++] = capability_name((int)i);
    } else if (in_vector(drop, drop_count, "ALL")) {
        for (i = 0; i < add_count; i++)
            if (!in_vector(caps, n, add[i]))
                caps[n++] = add[i];
    } else {
        for (i = 0; i < sizeof(default_capabilities) / sizeof(default_capabilities[0]); i++)
            if (!in_vector(drop, drop_count, default_capabilities[i]))
                caps[n++] = default_capabilities[i];
        for (i = 0; i < add_count; i++)
            if (!in_vector(caps, n, add[i]))
                caps[n++] = add[i];
    }
    caps[n] = NULL;
    return 0;
}

/* ---- users ---- */

static bool all_digits(const char *text)
{
    return *text && strspn(text, "0123456789") == strlen(text);
}

/* Field `field` (0-based) of a colon-separated line into out. */
static bool line_field(const char *line, size_t length, int field, char *out, size_t size)
{
    const char *start = line, *end;

    for (int i = 0; i < field; i++) {
        start = memchr(start, ':', length - (size_t)(start - line));
        if (!start)
            return false;
        start++;
    }
    end = memchr(start, ':', length - (size_t)(start - line));
    if (!end)
        end = line + length;
    if ((size_t)(end - start) >= size)
        return false;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return true;
}

/* Finds the line of a passwd/group file whose name (field 0) or id
 * (field 2) is key; the line's fields into name/id/extra (field 3). */
static bool find_entry(const char *file, const char *key, char *name, unsigned *id, char *extra,
                       size_t extra_size)
{
    const char *line = file;
    bool by_id = all_digits(key);

    while (line && *line) {
        const char *next = strchr(line, '\n');
        size_t length = next ? (size_t)(next - line) : strlen(line);
        char field_name[256], field_id[32];
        if (length && line[0] != '#' &&
            line_field(line, length, 0, field_name, sizeof(field_name)) &&
            line_field(line, length, 2, field_id, sizeof(field_id)) && all_digits(field_id) &&
            strcmp(by_id ? field_id : field_name, key) == 0) {
            if (name)
                snprintf(name, 256, "%s", field_name);
            *id = (unsigned)strtoul(field_id, NULL, 10);
            if (extra && !line_field(line, length, 3, extra, extra_size))
                extra[0] = '\0';
            return true;
        }
        line = next ? next + 1 : NULL;
    }
    return false;
}

/* The groups whose member list (field 3) names user. */
static void member_groups(const char *group, const char *user, struct spec_user *ids)
{
    const char *line = group;

    while (line && *line && ids->group_count < SPEC_USER_GROUPS_MAX) {
        const char *next = strchr(line, '\n');
        size_t length = next ? (size_t)(next - line) : strlen(line);
        char members[4096], gid[32];
        if (length && line[0] != '#' && line_field(line, length, 3, members, sizeof(members)) &&
            line_field(line, length, 2, gid, sizeof(gid)) && all_digits(gid)) {
            char *save = NULL;
            for (char *member = strtok_r(members, ",", &save); member;
                 member = strtok_r(NULL, ",", &save)) {
                if (strcmp(member, user) == 0) {
                    ids->groups[ids->group_count++] = (unsigned)strtoul(gid, NULL, 10);
                    break;
                }
            }
        }
        line = next ? next + 1 : NULL;
    }
}

static int resolve_group(const char *group_file, const char *text, bool strict, unsigned *gid,
                         struct berr *err)
{
    if (all_digits(text)) {
        *gid = (unsigned)strtoul(text, NULL, 10);
        return 0;
    }
    if (group_file && find_entry(group_file, text, NULL, gid, NULL, 0))
        return 0;
    *gid = 0;
    return strict ? berr_set(err, BERR_INVALID,
                             "unable to find group %s: no matching entries in group file", text)
                  : 0;
}

/* "user[:group]" with the image's files, as runc's user lookup does. */
int spec_resolve_user(const char *spec, yajl_val group_add, const char *passwd, const char *group,
                      bool strict, struct spec_user *ids, struct berr *err)
{
    char user_part[256], name[256] = "", gid_field[32];
    const char *group_part;
    int rc;

    memset(ids, 0, sizeof(*ids));
    snprintf(user_part, sizeof(user_part), "%s", spec ? spec : "");
    group_part = spec && strchr(spec, ':') ? strchr(spec, ':') + 1 : NULL;
    user_part[strcspn(user_part, ":")] = '\0';
    if (!*user_part)
        snprintf(user_part, sizeof(user_part), "0");
    if (passwd && find_entry(passwd, user_part, name, &ids->uid, gid_field, sizeof(gid_field))) {
        /* The primary group is field 3 of the passwd line. */
        ids->gid = (unsigned)strtoul(gid_field, NULL, 10);
    } else if (all_digits(user_part)) {
        ids->uid = (unsigned)strtoul(user_part, NULL, 10);
    } else if (strict) {
        return berr_set(err, BERR_INVALID,
                        "unable to find user %s: no matching entries in passwd file", user_part);
    }
    if (group_part && *group_part &&
        (rc = resolve_group(group, group_part, strict, &ids->gid, err)))
        return rc;
    if (*name && group && !(group_part && *group_part))
        member_groups(group, name, ids);
    for (size_t i = 0; YAJL_IS_ARRAY(group_add) && i < group_add->u.array.len; i++) {
        yajl_val item = group_add->u.array.values[i];
        unsigned gid;
        if (!YAJL_IS_STRING(item) || ids->group_count >= SPEC_USER_GROUPS_MAX)
            continue;
        if ((rc = resolve_group(group, item->u.string, strict, &gid, err)))
            return rc;
        ids->groups[ids->group_count++] = gid;
    }
    return 0;
}

static int resolve_user(const struct spec_input *input, yajl_val host, struct spec_user *ids,
                        struct berr *err)
{
    const char *spec = "";

    json_get_string(input->settings->config, "User", &spec, NULL);
    return spec_resolve_user(spec, json_get(host, "GroupAdd"), input->passwd, input->group,
                             input->strict_user, ids, err);
}

/* ---- process ---- */

static bool env_key_matches(const char *entry, const char *other)
{
    size_t length = strcspn(entry, "=");

    return strncmp(entry, other, length) == 0 && (other[length] == '=' || !other[length]);
}

/* PATH, HOSTNAME, TERM first; Config.Env replaces or appends. */
static void write_env(struct json_writer *writer, const struct container_settings *settings)
{
    const char *hostname = "";
    char *defaults[3];
    char path[] = "PATH=" SPEC_DEFAULT_PATH, host_entry[300], term[] = "TERM=xterm";
    char **env = NULL;
    size_t n = 0, i, j;

    json_get_string(settings->config, "Hostname", &hostname, NULL);
    snprintf(host_entry, sizeof(host_entry), "HOSTNAME=%s", hostname);
    defaults[n++] = path;
    defaults[n++] = host_entry;
    if (settings->tty)
        defaults[n++] = term;
    container_config_str_slice(json_get(settings->config, "Env"), "Env", &env, NULL);
    json_key(writer, "env");
    json_array_begin(writer);
    for (i = 0; i < n; i++) {
        const char *value = defaults[i];
        for (j = 0; env && env[j]; j++)
            if (env_key_matches(defaults[i], env[j]))
                value = env[j];
        json_string(writer, value);
    }
    for (j = 0; env && env[j]; j++) {
        bool replaced = false;
        for (i = 0; i < n; i++)
            replaced |= env_key_matches(defaults[i], env[j]);
        if (!replaced)
            json_string(writer, env[j]);
    }
    json_array_end(writer);
    json_free_string_array(env);
}

static void write_args(struct json_writer *writer, const struct container_settings *settings,
                       bool init)
{
    char **entrypoint = NULL, **cmd = NULL;

    container_config_str_slice(json_get(settings->config, "Entrypoint"), "Entrypoint", &entrypoint,
                               NULL);
    container_config_str_slice(json_get(settings->config, "Cmd"), "Cmd", &cmd, NULL);
    json_key(writer, "args");
    json_array_begin(writer);
    if (init) {
        json_string(writer, SPEC_INIT_PATH);
        json_string(writer, "--");
    }
    for (size_t i = 0; entrypoint && entrypoint[i]; i++)
        json_string(writer, entrypoint[i]);
    for (size_t i = 0; cmd && cmd[i]; i++)
        json_string(writer, cmd[i]);
    json_array_end(writer);
    json_free_string_array(entrypoint);
    json_free_string_array(cmd);
}

static void write_capability_set(struct json_writer *writer, const char *key,
                                 const char *const *caps)
{
    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; caps[i]; i++)
        json_string(writer, caps[i]);
    json_array_end(writer);
}

static const char *const rlimit_names[] = {
    "as",     "core",  "cpu", "data",   "fsize",  "locks",      "memlock", "msgqueue", "nice",
    "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",   NULL,
};

static int write_rlimits(struct json_writer *writer, yajl_val host, struct berr *err)
{
    yajl_val ulimits = json_get(host, "Ulimits");

    json_key(writer, "rlimits");
    json_array_begin(writer);
    for (size_t i = 0; YAJL_IS_ARRAY(ulimits) && i < ulimits->u.array.len; i++) {
        yajl_val item = ulimits->u.array.values[i];
        const char *name = "";
        int64_t soft = 0, hard = 0;
        char type[32];
        size_t k;
        if (json_get_string(item, "Name", &name, err) || json_get_int64(item, "Soft", &soft, err) ||
            json_get_int64(item, "Hard", &hard, err))
            return berr_prefix(err, "Ulimits[%zu]", i);
        for (k = 0; rlimit_names[k] && strcmp(rlimit_names[k], name) != 0; k++)
            ;
        if (!rlimit_names[k])
            return berr_set(err, BERR_INVALID, "invalid ulimit type: %s", name);
        if (soft > hard && hard >= 0)
            return berr_set(err, BERR_INVALID,
                            "invalid ulimit argument: soft limit %lld must be less than or equal "
                            "to the hard limit %lld",
                            (long long)soft, (long long)hard);
        snprintf(type, sizeof(type), "RLIMIT_%s", name);
        for (char *c = type; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        json_object_begin(writer);
        json_kv_string(writer, "type", type);
        json_kv_uint(writer, "hard", (uint64_t)hard);
        json_kv_uint(writer, "soft", (uint64_t)soft);
        json_object_end(writer);
    }
    json_array_end(writer);
    return 0;
}

/* ---- security options ---- */

struct security {
    bool no_new_privileges;
    bool seccomp_unconfined;
    const char *seccomp_profile; /* inline JSON */
    bool system_paths_unconfined;
};

static int parse_security(yajl_val host, struct security *out, struct berr *err)
{
    yajl_val options = json_get(host, "SecurityOpt");

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; YAJL_IS_ARRAY(options) && i < options->u.array.len; i++) {
        yajl_val item = options->u.array.values[i];
        const char *text, *value;
        size_t key_length;
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "SecurityOpt[%zu]: expected a string", i);
        text = item->u.string;
        key_length = strcspn(text, "=:");
        value = text[key_length] ? text + key_length + 1 : NULL;
        if (strncmp(text, "no-new-privileges", key_length) == 0 && key_length == 17) {
            if (value && strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
                return berr_set(err, BERR_INVALID, "invalid --security-opt 2: \"%s\"", text);
            out->no_new_privileges = !value || strcmp(value, "true") == 0;
        } else if (key_length == 7 && strncmp(text, "seccomp", 7) == 0 && value) {
            if (strcmp(value, "unconfined") == 0)
                out->seccomp_unconfined = true;
            else
                out->seccomp_profile = value;
        } else if (key_length == 11 && strncmp(text, "systempaths", 11) == 0 && value &&
                   strcmp(value, "unconfined") == 0) {
            out->system_paths_unconfined = true;
        } else if ((key_length == 8 && strncmp(text, "apparmor", 8) == 0) ||
                   (key_length == 5 && strncmp(text, "label", 5) == 0)) {
            continue; /* no AppArmor or SELinux here: accepted, ignored (dockerd does too) */
        } else {
            return berr_set(err, BERR_INVALID, "invalid --security-opt 2: \"%s\"", text);
        }
    }
    return 0;
}

/* ---- resources ---- */

static void write_device_rule(struct json_writer *writer, bool allow, const char *type, long major,
                              long minor, const char *access)
{
    json_object_begin(writer);
    json_kv_bool(writer, "allow", allow);
    if (type)
        json_kv_string(writer, "type", type);
    if (major >= 0)
        json_kv_int(writer, "major", major);
    if (minor >= 0)
        json_kv_int(writer, "minor", minor);
    json_kv_string(writer, "access", access);
    json_object_end(writer);
}

static int64_t get_number(yajl_val object, const char *key, int64_t fallback)
{
    int64_t value = fallback;
    yajl_val field = json_get(object, key);

    if (field && YAJL_IS_INTEGER(field))
        value = YAJL_GET_INTEGER(field);
    return value;
}

static const char *get_text(yajl_val object, const char *key)
{
    yajl_val field = json_get(object, key);

    return YAJL_IS_STRING(field) ? field->u.string : "";
}

static void write_memory(struct json_writer *writer, yajl_val host)
{
    int64_t memory = get_number(host, "Memory", 0), swap = get_number(host, "MemorySwap", 0);
    int64_t reservation = get_number(host, "MemoryReservation", 0);
    int64_t swappiness = get_number(host, "MemorySwappiness", -1);
    yajl_val oom = json_get(host, "OomKillDisable");

    json_key(writer, "memory");
    json_object_begin(writer);
    if (memory > 0)
        json_kv_int(writer, "limit", memory);
    if (reservation > 0)
        json_kv_int(writer, "reservation", reservation);
    if (swap != 0)
        json_kv_int(writer, "swap", swap);
    if (swappiness >= 0)
        json_kv_uint(writer, "swappiness", (uint64_t)swappiness);
    if (oom && YAJL_IS_TRUE(oom))
        json_kv_bool(writer, "disableOOMKiller", true);
    json_object_end(writer);
}

static void write_cpu(struct json_writer *writer, yajl_val host)
{
    int64_t nano = get_number(host, "NanoCpus", 0), quota = get_number(host, "CpuQuota", 0);
    int64_t period = get_number(host, "CpuPeriod", 0), shares = get_number(host, "CpuShares", 0);
    int64_t rt_period = get_number(host, "CpuRealtimePeriod", 0);
    int64_t rt_runtime = get_number(host, "CpuRealtimeRuntime", 0);

    if (nano > 0) {
        period = 100000;
        quota = nano * period / 1000000000LL;
    }
    json_key(writer, "cpu");
    json_object_begin(writer);
    if (shares > 0)
        json_kv_uint(writer, "shares", (uint64_t)shares);
    if (quota != 0)
        json_kv_int(writer, "quota", quota);
    if (period > 0)
        json_kv_uint(writer, "period", (uint64_t)period);
    if (rt_runtime > 0)
        json_kv_int(writer, "realtimeRuntime", rt_runtime);
    if (rt_period > 0)
        json_kv_uint(writer, "realtimePeriod", (uint64_t)rt_period);
    if (*get_text(host, "CpusetCpus"))
        json_kv_string(writer, "cpus", get_text(host, "CpusetCpus"));
    if (*get_text(host, "CpusetMems"))
        json_kv_string(writer, "mems", get_text(host, "CpusetMems"));
    json_object_end(writer);
}

/* memory, cpu, pids, blockIO: the part `docker update` can change. */
static void write_resource_groups(struct json_writer *writer, yajl_val host)
{
    int64_t pids = get_number(host, "PidsLimit", 0), weight = get_number(host, "BlkioWeight", 0);

    write_memory(writer, host);
    write_cpu(writer, host);
    if (pids > 0) {
        json_key(writer, "pids");
        json_object_begin(writer);
        json_kv_int(writer, "limit", pids);
        json_object_end(writer);
    }
    if (weight > 0) {
        json_key(writer, "blockIO");
        json_object_begin(writer);
        json_kv_uint(writer, "weight", (uint64_t)weight);
        json_object_end(writer);
    }
}

int spec_resources(yajl_val host_config, char **out, size_t *length, struct berr *err)
{
    struct json_writer writer;
    const char *text;
    int rc;

    if ((rc = json_writer_init(&writer, false, err)))
        return rc;
    json_object_begin(&writer);
    write_resource_groups(&writer, host_config);
    json_object_end(&writer);
    if ((rc = json_writer_result(&writer, &text, length, err)) == 0 &&
        !(*out = strndup(text, *length)))
        rc = berr_set(err, BERR_NOMEM, "out of memory");
    json_writer_free(&writer);
    return rc;
}

/* ---- devices ---- */

struct device {
    char path[4096];
    char type[2];
    unsigned major, minor;
    unsigned mode;
};

static bool device_at(const char *path, struct device *device)
{
    struct stat info;

    if (stat(path, &info) < 0 || !(S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)))
        return false;
    snprintf(device->path, sizeof(device->path), "%s", path);
    device->type[0] = S_ISCHR(info.st_mode) ? 'c' : 'b';
    device->type[1] = '\0';
    device->major = major(info.st_rdev);
    device->minor = minor(info.st_rdev);
    device->mode = info.st_mode & 07777;
    return true;
}

static void write_device(struct json_writer *writer, const struct device *device,
                         const char *container_path)
{
    json_object_begin(writer);
    json_kv_string(writer, "path", container_path);
    json_kv_string(writer, "type", device->type);
    json_kv_int(writer, "major", device->major);
    json_kv_int(writer, "minor", device->minor);
    json_kv_uint(writer, "fileMode", device->mode);
    json_kv_uint(writer, "uid", 0);
    json_kv_uint(writer, "gid", 0);
    json_object_end(writer);
}

/* The devices every container gets from the runtime anyway. */
static bool is_standard_device(const char *name)
{
    static const char *const standard[] = {"null",    "zero", "full", "random",
                                           "urandom", "tty",  NULL};

    for (size_t i = 0; standard[i]; i++)
        if (strcmp(name, standard[i]) == 0)
            return true;
    return false;
}

/* Every device under directory (privileged), skipping pseudo-terminals and
 * the ones every container gets anyway. */
static void write_host_devices(struct json_writer *writer, const char *directory, int level)
{
    DIR *handle = opendir(directory);
    struct dirent *entry;

    if (!handle || level > 4) {
        if (handle)
            closedir(handle);
        return;
    }
    while ((entry = readdir(handle))) {
        char path[4096];
        struct device device;
        if (entry->d_name[0] == '.' || strcmp(entry->d_name, "pts") == 0 ||
            strcmp(entry->d_name, "shm") == 0 || strcmp(entry->d_name, "mqueue") == 0 ||
            strcmp(entry->d_name, "console") == 0 || strcmp(entry->d_name, "ptmx") == 0 ||
            (level == 0 && is_standard_device(entry->d_name)))
            continue;
        snprintf(path, sizeof(path), "%s/%s", directory, entry->d_name);
        if (entry->d_type == DT_DIR)
            write_host_devices(writer, path, level + 1);
        else if (entry->d_type != DT_LNK && device_at(path, &device))
            write_device(writer, &device, path);
    }
    closedir(handle);
}

struct device_request {
    char host[4096], container[4096], permissions[8];
};

static int parse_device_request(yajl_val item, struct device_request *out, struct berr *err)
{
    const char *host = "", *container = "", *permissions = "rwm";

    if (json_get_string(item, "PathOnHost", &host, err) ||
        json_get_string(item, "PathInContainer", &container, err) ||
        json_get_string(item, "CgroupPermissions", &permissions, err))
        return berr_prefix(err, "Devices");
    if (!*permissions)
        permissions = "rwm";
    if (host[0] != '/')
        return berr_set(err, BERR_INVALID, "invalid device path %s: not absolute", host);
    if (strspn(permissions, "rwm") != strlen(permissions))
        return berr_set(err, BERR_INVALID, "invalid device cgroup permissions: %s", permissions);
    snprintf(out->host, sizeof(out->host), "%s", host);
    snprintf(out->container, sizeof(out->container), "%s", *container ? container : host);
    snprintf(out->permissions, sizeof(out->permissions), "%s", permissions);
    return 0;
}

/* A device cgroup rule of HostConfig.Devices. */
struct device_rule {
    char type[2];
    unsigned major, minor;
    char access[8];
};

#define MAX_DEVICE_RULES 64

/* linux.devices of HostConfig.Devices; their cgroup rules into rules. */
static int write_user_devices(struct json_writer *writer, yajl_val host, struct device_rule *rules,
                              size_t *rule_count, struct berr *err)
{
    yajl_val devices = json_get(host, "Devices");
    int rc;

    for (size_t i = 0; YAJL_IS_ARRAY(devices) && i < devices->u.array.len; i++) {
        struct device_request request;
        struct device device;
        if ((rc = parse_device_request(devices->u.array.values[i], &request, err)))
            return rc;
        if (!device_at(request.host, &device))
            return berr_set(err, BERR_INVALID,
                            "error gathering device information while adding custom device "
                            "\"%s\": not a device node",
                            request.host);
        write_device(writer, &device, request.container);
        if (*rule_count < MAX_DEVICE_RULES) {
            struct device_rule *rule = &rules[(*rule_count)++];
            memcpy(rule->type, device.type, sizeof(rule->type));
            rule->major = device.major;
            rule->minor = device.minor;
            snprintf(rule->access, sizeof(rule->access), "%s", request.permissions);
        }
    }
    return 0;
}

/* ---- namespaces and the rest of "linux" ---- */

static void write_namespace(struct json_writer *writer, const char *type, const char *path)
{
    json_object_begin(writer);
    json_kv_string(writer, "type", type);
    if (path)
        json_kv_string(writer, "path", path);
    json_object_end(writer);
}

static void write_namespaces(struct json_writer *writer, const struct spec_input *input,
                             yajl_val host)
{
    json_key(writer, "namespaces");
    json_array_begin(writer);
    if (strcmp(get_text(host, "PidMode"), "host") != 0)
        write_namespace(writer, "pid", NULL);
    if (strcmp(get_text(host, "IpcMode"), "host") != 0)
        write_namespace(writer, "ipc", NULL);
    if (strcmp(get_text(host, "UTSMode"), "host") != 0)
        write_namespace(writer, "uts", NULL);
    write_namespace(writer, "mount", NULL);
    if (input->netns_path)
        write_namespace(writer, "network", input->netns_path);
    if (strcmp(get_text(host, "CgroupnsMode"), "private") == 0)
        write_namespace(writer, "cgroup", NULL);
    json_array_end(writer);
}

static const char *const default_masked[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};

static const char *const default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

void spec_write_default_paths(struct json_writer *writer, const char *key)
{
    const char *const *paths = strcmp(key, "MaskedPaths") == 0 ? default_masked : default_readonly;

    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; paths[i]; i++)
        json_string(writer, paths[i]);
    json_array_end(writer);
}

static void write_paths(struct json_writer *writer, const char *key, yajl_val paths)
{
    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; YAJL_IS_ARRAY(paths) && i < paths->u.array.len; i++)
        if (YAJL_IS_STRING(paths->u.array.values[i]))
            json_string(writer, paths->u.array.values[i]->u.string);
    json_array_end(writer);
}

static void write_sysctls(struct json_writer *writer, yajl_val host)
{
    yajl_val sysctls = json_get(host, "Sysctls");

    if (!YAJL_IS_OBJECT(sysctls) || !sysctls->u.object.len)
        return;
    json_key(writer, "sysctl");
    json_object_begin(writer);
    for (size_t i = 0; i < sysctls->u.object.len; i++) {
        if (!YAJL_IS_STRING(sysctls->u.object.values[i]))
            continue;
        json_kv_string(writer, sysctls->u.object.keys[i], sysctls->u.object.values[i]->u.string);
    }
    json_object_end(writer);
}

static int write_linux(struct json_writer *writer, const struct spec_input *input, yajl_val host,
                       bool privileged, const char *const *caps, struct berr *err)
{
    struct device_rule rules[MAX_DEVICE_RULES];
    size_t rule_count = 0;
    const char *parent = get_text(host, "CgroupParent");
    char cgroups_path[4096];
    struct security security;
    int rc;

    if ((rc = parse_security(host, &security, err)))
        return rc;
    snprintf(cgroups_path, sizeof(cgroups_path), "%s/%s", *parent ? parent : SPEC_CGROUP_PARENT,
             input->id);
    json_key(writer, "linux");
    json_object_begin(writer);
    json_kv_string(writer, "cgroupsPath", cgroups_path);
    json_key(writer, "devices");
    json_array_begin(writer);
    if (privileged)
        write_host_devices(writer, "/dev", 0);
    else if ((rc = write_user_devices(writer, host, rules, &rule_count, err)))
        return rc;
    json_array_end(writer);
    json_key(writer, "resources");
    json_object_begin(writer);
    json_key(writer, "devices");
    json_array_begin(writer);
    if (privileged) {
        write_device_rule(writer, true, NULL, -1, -1, "rwm");
    } else {
        write_device_rule(writer, false, NULL, -1, -1, "rwm");
        write_device_rule(writer, true, "c", -1, -1, "m");
        write_device_rule(writer, true, "b", -1, -1, "m");
        for (size_t i = 0; i < rule_count; i++)
            write_device_rule(writer, true, rules[i].type, rules[i].major, rules[i].minor,
                              rules[i].access);
    }
    json_array_end(writer);
    write_resource_groups(writer, host);
    json_object_end(writer);
    write_namespaces(writer, input, host);
    write_sysctls(writer, host);
    if (!privileged && !security.system_paths_unconfined) {
        write_paths(writer, "maskedPaths", json_get(host, "MaskedPaths"));
        write_paths(writer, "readonlyPaths", json_get(host, "ReadonlyPaths"));
    }
    if (!privileged && !security.seccomp_unconfined) {
        json_key(writer, "seccomp");
        if ((rc = seccomp_write(writer, security.seccomp_profile, caps, err)))
            return rc;
    }
    json_object_end(writer);
    return 0;
}

/* ---- the whole spec ---- */

static int write_process(struct json_writer *writer, const struct spec_input *input, yajl_val host,
                         const char *const *caps, struct berr *err)
{
    const struct container_settings *settings = input->settings;
    const char *working_dir = get_text(settings->config, "WorkingDir");
    bool init = json_get(host, "Init") && YAJL_IS_TRUE(json_get(host, "Init"));
    int64_t oom_score = get_number(host, "OomScoreAdj", 0);
    struct security security;
    struct spec_user ids;
    int rc;

    if ((rc = resolve_user(input, host, &ids, err)) || (rc = parse_security(host, &security, err)))
        return rc;
    json_key(writer, "process");
    json_object_begin(writer);
    json_kv_bool(writer, "terminal", settings->tty);
    json_key(writer, "user");
    json_object_begin(writer);
    json_kv_uint(writer, "uid", ids.uid);
    json_kv_uint(writer, "gid", ids.gid);
    if (ids.group_count) {
        json_key(writer, "additionalGids");
        json_array_begin(writer);
        for (size_t i = 0; i < ids.group_count; i++)
            json_uint(writer, ids.groups[i]);
        json_array_end(writer);
    }
    json_object_end(writer);
    write_args(writer, settings, init);
    write_env(writer, settings);
    json_kv_string(writer, "cwd", *working_dir ? working_dir : "/");
    json_key(writer, "capabilities");
    json_object_begin(writer);
    write_capability_set(writer, "bounding", caps);
    write_capability_set(writer, "effective", caps);
    write_capability_set(writer, "permitted", caps);
    json_object_end(writer);
    if ((rc = write_rlimits(writer, host, err)))
        return rc;
    json_kv_bool(writer, "noNewPrivileges", security.no_new_privileges);
    if (oom_score)
        json_kv_int(writer, "oomScoreAdj", oom_score);
    json_object_end(writer);
    return 0;
}

int spec_build(const struct spec_input *input, char **out, size_t *length, struct berr *err)
{
    const struct container_settings *settings = input->settings;
    yajl_val host = settings->host_config;
    const char *caps[MAX_CAPS + 1];
    struct json_writer writer;
    bool privileged = false, read_only = false;
    const char *text;
    int rc;

    json_get_bool(host, "Privileged", &privileged, NULL);
    json_get_bool(host, "ReadonlyRootfs", &read_only, NULL);
    if ((rc = container_capabilities(host, caps, err)) ||
        (rc = json_writer_init(&writer, false, err)))
        return rc;
    json_object_begin(&writer);
    json_kv_string(&writer, "ociVersion", "1.2.0");
    if ((rc = write_process(&writer, input, host, caps, err)))
        goto out;
    json_key(&writer, "root");
    json_object_begin(&writer);
    json_kv_string(&writer, "path", "rootfs");
    json_kv_bool(&writer, "readonly", read_only);
    json_object_end(&writer);
    if (strcmp(get_text(host, "UTSMode"), "host") != 0) {
        json_kv_string(&writer, "hostname", get_text(settings->config, "Hostname"));
        if (*get_text(settings->config, "Domainname"))
            json_kv_string(&writer, "domainname", get_text(settings->config, "Domainname"));
    }
    if ((rc = spec_mounts_write(&writer, input, host, privileged, err)) ||
        (rc = write_linux(&writer, input, host, privileged, caps, err)))
        goto out;
    json_object_end(&writer);
    if ((rc = json_writer_result(&writer, &text, length, err)) == 0 &&
        !(*out = strndup(text, *length)))
        rc = berr_set(err, BERR_NOMEM, "out of memory");
out:
    json_writer_free(&writer);
    return rc;
}

/* ---- checks at create ---- */

int spec_check_cpuset(yajl_val value, const char *what, struct berr *err)
{
    const char *cursor;

    if (!value || YAJL_IS_NULL(value) || (YAJL_IS_STRING(value) && !*value->u.string))
        return 0;
    if (!YAJL_IS_STRING(value))
        return berr_set(err, BERR_INVALID, "cpuset %s: expected a string", what);
    for (cursor = value->u.string; *cursor;) {
        char *end;
        long first = strtol(cursor, &end, 10), last;
        if (end == cursor || first < 0)
            goto invalid;
        last = first;
        if (*end == '-') {
            cursor = end + 1;
            last = strtol(cursor, &end, 10);
            if (end == cursor || last < first)
                goto invalid;
        }
        if (*end == ',')
            end++;
        else if (*end)
            goto invalid;
        cursor = end;
    }
    return 0;
invalid:
    return berr_set(err, BERR_INVALID, "Invalid value %s for cpuset %s", value->u.string, what);
}

static bool namespaced_sysctl(const char *name, bool host_network, bool host_ipc)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
                                      "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
                                      "kernel.shmmni", "kernel.shm_rmid_forced", NULL};

    for (size_t i = 0; ipc[i]; i++)
        if (strcmp(name, ipc[i]) == 0)
            return !host_ipc;
    if (strncmp(name, "fs.mqueue.", 10) == 0)
        return !host_ipc;
    if (strncmp(name, "net.", 4) == 0)
        return !host_network;
    return false;
}

static int check_sysctls(yajl_val host, struct berr *err)
{
    yajl_val sysctls = json_get(host, "Sysctls");
    bool host_network = strcmp(get_text(host, "NetworkMode"), "host") == 0;
    bool host_ipc = strcmp(get_text(host, "IpcMode"), "host") == 0;

    for (size_t i = 0; YAJL_IS_OBJECT(sysctls) && i < sysctls->u.object.len; i++) {
        const char *name = sysctls->u.object.keys[i];
        if (!YAJL_IS_STRING(sysctls->u.object.values[i]))
            return berr_set(err, BERR_INVALID, "Sysctls.%s: expected a string", name);
        if (!namespaced_sysctl(name, host_network, host_ipc))
            return berr_set(err, BERR_INVALID,
                            "sysctl '%s' is not allowed: it is not namespaced, or the container "
                            "shares that namespace with the host",
                            name);
    }
    return 0;
}

static int check_modes(yajl_val host, struct berr *err)
{
    static const struct {
        const char *key;
        const char *const allowed[6];
    } modes[] = {
        {"NetworkMode", {"", "default", "bridge", "host", "none", NULL}},
        {"PidMode", {"", "host", "private", NULL}},
        {"IpcMode", {"", "private", "shareable", "host", "none", NULL}},
        {"UTSMode", {"", "host", NULL}},
        {"UsernsMode", {"", NULL}},
        {"CgroupnsMode", {"", "private", "host", NULL}},
    };

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const char *value = get_text(host, modes[i].key);
        size_t k;
        for (k = 0; modes[i].allowed[k] && strcmp(modes[i].allowed[k], value) != 0; k++)
            ;
        if (!modes[i].allowed[k])
            return berr_set(err, BERR_INVALID,
                            "%s \"%s\" is not supported by berth yet (networks, containers' "
                            "namespaces and user namespaces come later)",
                            modes[i].key, value);
    }
    return 0;
}

static int check_binds_and_devices(yajl_val host, struct berr *err)
{
    yajl_val devices = json_get(host, "Devices"), extra = json_get(host, "ExtraHosts");
    int rc;

    if ((rc = spec_mounts_check(host, err)))
        return rc;
    for (size_t i = 0; YAJL_IS_ARRAY(devices) && i < devices->u.array.len; i++) {
        struct device_request request;
        if ((rc = parse_device_request(devices->u.array.values[i], &request, err)))
            return rc;
    }
    for (size_t i = 0; YAJL_IS_ARRAY(extra) && i < extra->u.array.len; i++) {
        yajl_val item = extra->u.array.values[i];
        if (!YAJL_IS_STRING(item) || !strpbrk(item->u.string, ":="))
            return berr_set(err, BERR_INVALID, "invalid ExtraHosts entry: expected HOST:IP");
    }
    return 0;
}

int spec_check_host_config(yajl_val host, struct berr *err)
{
    const char *caps[MAX_CAPS + 1];
    struct security security;
    struct json_writer scratch;
    int rc;

    if ((rc = check_modes(host, err)) || (rc = check_binds_and_devices(host, err)) ||
        (rc = container_capabilities(host, caps, err)) || (rc = check_sysctls(host, err)) ||
        (rc = parse_security(host, &security, err)) ||
        (rc = json_writer_init(&scratch, false, err)))
        return rc;
    /* Ulimits and a custom seccomp profile: written once to a scratch writer. */
    json_object_begin(&scratch);
    rc = write_rlimits(&scratch, host, err);
    if (rc == 0 && security.seccomp_profile) {
        json_key(&scratch, "seccomp");
        rc = seccomp_write(&scratch, security.seccomp_profile, caps, err);
    }
    json_writer_free(&scratch);
    return rc;
}
