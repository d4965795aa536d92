/*
 * spec_mounts: the "mounts" of a container's spec, and the other readers
 * of HostConfig's Binds, Mounts and Tmpfs (create's checks, -v directories
 * made at start, inspect's Mounts).
 *
 * The mounts are collected first (Docker's defaults, then the user's, then
 * the engine's /etc files and the init), a later one replacing an earlier
 * one on the same destination, and written parents first.
 */
#include "spec_mounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_MOUNTS 256

static const char *get_text(yajl_val object, const char *key)
{
    yajl_val field = json_get(object, key);

    return YAJL_IS_STRING(field) ? field->u.string : "";
}

/* ---- mounts ---- */

struct mount_entry {
    char destination[4096];
    const char *type;
    char source[4096];
    const char *options[16];
    char option_storage[8][128];
    size_t option_count;
};

/* Entries are allocated one by one as mounts are added: a container has a
 * dozen, and an array for MAX_MOUNTS (2.4 MB) per spec would leave each
 * connection thread's malloc arena that much larger for good. */
struct mount_set {
    struct mount_entry *entries[MAX_MOUNTS];
    size_t order[MAX_MOUNTS]; /* the writing order (sort_mounts) */
    size_t count;
    bool full;      /* a mount did not fit: MAX_MOUNTS reached */
    bool no_memory; /* a mount could not be allocated */
};

/* What mount_add could not do, as the error of the whole set. */
static int mount_set_status(const struct mount_set *set, struct berr *err)
{
    if (set->no_memory)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (set->full)
        return berr_set(err, BERR_INVALID, "too many mounts: at most %d", MAX_MOUNTS);
    return 0;
}

static void mount_set_free(struct mount_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->entries[i]);
    set->count = 0;
}

static struct mount_entry *mount_add(struct mount_set *set, const char *destination,
                                     const char *type, const char *source)
{
    struct mount_entry *entry = NULL;

    /* A later mount on the same destination replaces an earlier one. */
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->entries[i]->destination, destination) == 0)
            entry = set->entries[i];
    if (!entry) {
        if (set->count == MAX_MOUNTS) {
            set->full = true;
            return NULL;
        }
        if (!(entry = malloc(sizeof(*entry)))) {
            set->no_memory = true;
            return NULL;
        }
        set->entries[set->count++] = entry;
    }
    memset(entry, 0, sizeof(*entry));
    snprintf(entry->destination, sizeof(entry->destination), "%s", destination);
    entry->type = type;
    snprintf(entry->source, sizeof(entry->source), "%s", source);
    return entry;
}

static void mount_option(struct mount_entry *entry, const char *option)
{
    if (entry->option_count < 16)
        entry->options[entry->option_count++] = option;
}

/* An option built at run time ("size=65536k"). */
static void mount_option_copy(struct mount_entry *entry, const char *option)
{
    size_t slot = 0;

    while (slot < 8 && entry->option_storage[slot][0])
        slot++;
    if (slot == 8)
        return;
    snprintf(entry->option_storage[slot], sizeof(entry->option_storage[slot]), "%s", option);
    mount_option(entry, entry->option_storage[slot]);
}

static void default_mounts(struct mount_set *set, yajl_val host, bool privileged)
{
    struct mount_entry *entry;
    const char *ipc_mode = "";
    int64_t shm_size = 64 * 1024 * 1024;
    char option[64];

    json_get_int64(host, "ShmSize", &shm_size, NULL);
    json_get_string(host, "IpcMode", &ipc_mode, NULL);
    if ((entry = mount_add(set, "/proc", "proc", "proc"))) {
        mount_option(entry, "nosuid");
        mount_option(entry, "noexec");
        mount_option(entry, "nodev");
    }
    if ((entry = mount_add(set, "/dev", "tmpfs", "tmpfs"))) {
        mount_option(entry, "nosuid");
        mount_option(entry, "strictatime");
        mount_option(entry, "mode=755");
        mount_option(entry, "size=65536k");
    }
    if ((entry = mount_add(set, "/dev/pts", "devpts", "devpts"))) {
        mount_option(entry, "nosuid");
        mount_option(entry, "noexec");
        mount_option(entry, "newinstance");
        mount_option(entry, "ptmxmode=0666");
        mount_option(entry, "mode=0620");
        mount_option(entry, "gid=5");
    }
    if ((entry = mount_add(set, "/sys", "sysfs", "sysfs"))) {
        mount_option(entry, "nosuid");
        mount_option(entry, "noexec");
        mount_option(entry, "nodev");
        mount_option(entry, privileged ? "rw" : "ro");
    }
    if ((entry = mount_add(set, "/sys/fs/cgroup", "cgroup", "cgroup"))) {
        mount_option(entry, privileged ? "rw" : "ro");
        mount_option(entry, "nosuid");
        mount_option(entry, "noexec");
        mount_option(entry, "nodev");
    }
    if ((entry = mount_add(set, "/dev/mqueue", "mqueue", "mqueue"))) {
        mount_option(entry, "nosuid");
        mount_option(entry, "noexec");
        mount_option(entry, "nodev");
    }
    if (strcmp(ipc_mode, "host") == 0) {
        if ((entry = mount_add(set, "/dev/shm", "bind", "/dev/shm"))) {
            mount_option(entry, "rbind");
            mount_option(entry, "rprivate");
        }
        return;
    }
    if ((entry = mount_add(set, "/dev/shm", "tmpfs", "shm"))) {
        mount_option(entry, "nosuid");
        mount_option(entry, "noexec");
        mount_option(entry, "nodev");
        mount_option(entry, "mode=1777");
        snprintf(option, sizeof(option), "size=%lld", (long long)shm_size);
        mount_option_copy(entry, option);
    }
}

static const char *const propagations[] = {"private", "rprivate", "shared", "rshared",
                                           "slave",   "rslave",   NULL};

static bool is_propagation(const char *option)
{
    for (size_t i = 0; propagations[i]; i++)
        if (strcmp(option, propagations[i]) == 0)
            return true;
    return false;
}

struct bind {
    char source[4096], destination[4096], mode[256];
    bool read_only;
    const char *propagation;
};

/* "SRC:DST[:MODE]" of HostConfig.Binds. */
static int parse_bind(const char *text, struct bind *bind, struct berr *err)
{
    char copy[8192], *first, *second, *third, *save = NULL;

    memset(bind, 0, sizeof(*bind));
    bind->propagation = "rprivate";
    snprintf(copy, sizeof(copy), "%s", text);
    first = strtok_r(copy, ":", &save);
    second = strtok_r(NULL, ":", &save);
    third = strtok_r(NULL, "", &save);
    if (!first || !second)
        return berr_set(err, BERR_INVALID, "invalid volume specification: '%s'", text);
    if (first[0] != '/')
        return berr_set(err, BERR_INVALID,
                        "invalid volume specification: '%s': named volumes are not supported "
                        "yet (bind-mount a host path: -v /host/path:%s)",
                        text, second);
    if (second[0] != '/')
        return berr_set(err, BERR_INVALID,
                        "invalid volume specification: '%s': the destination must be an "
                        "absolute path",
                        text);
    snprintf(bind->source, sizeof(bind->source), "%s", first);
    snprintf(bind->destination, sizeof(bind->destination), "%s", second);
    if (third) {
        char options[256], *option, *option_save = NULL;
        snprintf(bind->mode, sizeof(bind->mode), "%s", third);
        snprintf(options, sizeof(options), "%s", third);
        for (option = strtok_r(options, ",", &option_save); option;
             option = strtok_r(NULL, ",", &option_save)) {
            size_t k;
            for (k = 0; propagations[k] && strcmp(option, propagations[k]) != 0; k++)
                ;
            if (propagations[k])
                bind->propagation = propagations[k];
            else if (strcmp(option, "ro") == 0)
                bind->read_only = true;
            else if (strcmp(option, "rw") != 0 && strcmp(option, "z") != 0 &&
                     strcmp(option, "Z") != 0 && strcmp(option, "nocopy") != 0)
                return berr_set(err, BERR_INVALID, "invalid mode: %s", third);
        }
    }
    return 0;
}

static void add_bind_mount(struct mount_set *set, const char *source, const char *destination,
                           bool read_only, const char *propagation)
{
    struct mount_entry *entry = mount_add(set, destination, "bind", source);

    if (!entry)
        return;
    mount_option(entry, "rbind");
    mount_option(entry, read_only ? "ro" : "rw");
    mount_option(entry, propagation ? propagation : "rprivate");
}

static int user_binds(struct mount_set *set, yajl_val host, struct berr *err)
{
    yajl_val binds = json_get(host, "Binds");
    struct bind bind;
    int rc;

    for (size_t i = 0; YAJL_IS_ARRAY(binds) && i < binds->u.array.len; i++) {
        yajl_val item = binds->u.array.values[i];
        if (!YAJL_IS_STRING(item))
            return berr_set(err, BERR_INVALID, "Binds[%zu]: expected a string", i);
        if ((rc = parse_bind(item->u.string, &bind, err)))
            return rc;
        add_bind_mount(set, bind.source, bind.destination, bind.read_only, bind.propagation);
    }
    return 0;
}

/* Docker's tmpfs defaults (noexec,nosuid,nodev) with the user's options. */
static void tmpfs_options(struct mount_entry *entry, const char *user)
{
    bool exec = false, suid = false, dev = false;
    char copy[1024], *option, *save = NULL;

    snprintf(copy, sizeof(copy), "%s", user ? user : "");
    for (option = strtok_r(copy, ",", &save); option; option = strtok_r(NULL, ",", &save)) {
        exec |= strcmp(option, "exec") == 0;
        suid |= strcmp(option, "suid") == 0;
        dev |= strcmp(option, "dev") == 0;
    }
    if (!exec)
        mount_option(entry, "noexec");
    if (!suid)
        mount_option(entry, "nosuid");
    if (!dev)
        mount_option(entry, "nodev");
    snprintf(copy, sizeof(copy), "%s", user ? user : "");
    for (option = strtok_r(copy, ",", &save); option; option = strtok_r(NULL, ",", &save))
        mount_option_copy(entry, option);
}

static int user_tmpfs(struct mount_set *set, yajl_val host, struct berr *err)
{
    yajl_val tmpfs = json_get(host, "Tmpfs");

    for (size_t i = 0; YAJL_IS_OBJECT(tmpfs) && i < tmpfs->u.object.len; i++) {
        const char *destination = tmpfs->u.object.keys[i];
        yajl_val options = tmpfs->u.object.values[i];
        struct mount_entry *entry;
        if (destination[0] != '/')
            return berr_set(err, BERR_INVALID, "invalid tmpfs destination %s: not absolute",
                            destination);
        if (options && !YAJL_IS_STRING(options) && !YAJL_IS_NULL(options))
            return berr_set(err, BERR_INVALID, "Tmpfs.%s: expected a string", destination);
        if ((entry = mount_add(set, destination, "tmpfs", "tmpfs")))
            tmpfs_options(entry, YAJL_IS_STRING(options) ? options->u.string : NULL);
    }
    return 0;
}

/* HostConfig.Mounts (--mount): bind and tmpfs. */
static int user_mounts(struct mount_set *set, yajl_val host, bool check_sources, struct berr *err)
{
    yajl_val mounts = json_get(host, "Mounts");

    for (size_t i = 0; YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++) {
        yajl_val mount = mounts->u.array.values[i];
        const char *type = "", *source = "", *target = "", *propagation = NULL;
        bool read_only = false;
        int64_t size = 0, mode = 0;
        struct stat info;
        json_get_string(mount, "Type", &type, NULL);
        json_get_string(mount, "Source", &source, NULL);
        json_get_string(mount, "Target", &target, NULL);
        json_get_bool(mount, "ReadOnly", &read_only, NULL);
        json_get_string(json_get(mount, "BindOptions"), "Propagation", &propagation, NULL);
        if (target[0] != '/')
            return berr_set(err, BERR_INVALID, "invalid mount config: Target must be absolute");
        if (strcmp(type, "bind") == 0) {
            if (source[0] != '/')
                return berr_set(err, BERR_INVALID,
                                "invalid mount config for type \"bind\": invalid mount path: "
                                "'%s' mount path must be absolute",
                                source);
            if (check_sources && stat(source, &info) < 0)
                return berr_set(err, BERR_INVALID,
                                "invalid mount config for type \"bind\": bind source path does "
                                "not exist: %s",
                                source);
            if (propagation && *propagation && !is_propagation(propagation))
                return berr_set(err, BERR_INVALID, "invalid propagation mode: %s", propagation);
            add_bind_mount(set, source, target, read_only,
                           propagation && *propagation ? propagation : NULL);
        } else if (strcmp(type, "tmpfs") == 0) {
            struct mount_entry *entry = mount_add(set, target, "tmpfs", "tmpfs");
            char option[64];
            json_get_int64(json_get(mount, "TmpfsOptions"), "SizeBytes", &size, NULL);
            json_get_int64(json_get(mount, "TmpfsOptions"), "Mode", &mode, NULL);
            if (!entry)
                continue;
            tmpfs_options(entry, read_only ? "ro" : NULL);
            if (size > 0) {
                snprintf(option, sizeof(option), "size=%lld", (long long)size);
                mount_option_copy(entry, option);
            }
            if (mode > 0) {
                snprintf(option, sizeof(option), "mode=%llo", (long long)mode);
                mount_option_copy(entry, option);
            }
        } else if (strcmp(type, "volume") == 0) {
            return berr_set(err, BERR_INVALID,
                            "mount type \"volume\" is not supported yet (named volumes come "
                            "later): use type=bind with a host path");
        } else {
            return berr_set(err, BERR_INVALID, "invalid mount config: mount type unknown: \"%s\"",
                            type);
        }
    }
    return 0;
}

static size_t depth(const char *path)
{
    size_t count = 0;

    for (const char *cursor = path; *cursor; cursor++)
        if (*cursor == '/' && cursor[1] && cursor[1] != '/')
            count++;
    return count;
}

/* Parents before children: a stable order by depth (the set is small). */
static void sort_mounts(struct mount_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        set->order[i] = i;
    for (size_t i = 1; i < set->count; i++) {
        size_t moving = set->order[i], j = i;
        while (j > 0 && depth(set->entries[set->order[j - 1]]->destination) >
                            depth(set->entries[moving]->destination)) {
            set->order[j] = set->order[j - 1];
            j--;
        }
        set->order[j] = moving;
    }
}

static void write_mounts(struct json_writer *writer, const struct mount_set *set)
{
    json_key(writer, "mounts");
    json_array_begin(writer);
    for (size_t i = 0; i < set->count; i++) {
        const struct mount_entry *entry = set->entries[set->order[i]];
        json_object_begin(writer);
        json_kv_string(writer, "destination", entry->destination);
        json_kv_string(writer, "type", entry->type);
        json_kv_string(writer, "source", entry->source);
        json_key(writer, "options");
        json_array_begin(writer);
        for (size_t k = 0; k < entry->option_count; k++)
            json_string(writer, entry->options[k]);
        json_array_end(writer);
        json_object_end(writer);
    }
    json_array_end(writer);
}

static int collect_mounts(const struct spec_input *input, yajl_val host, bool privileged,
                          struct mount_set *set, struct berr *err)
{
    bool read_only = false;
    int rc;

    json_get_bool(host, "ReadonlyRootfs", &read_only, NULL);
    default_mounts(set, host, privileged);
    if ((rc = user_binds(set, host, err)) || (rc = user_mounts(set, host, false, err)) ||
        (rc = user_tmpfs(set, host, err)))
        return rc;
    if (input->resolv_conf_path)
        add_bind_mount(set, input->resolv_conf_path, "/etc/resolv.conf", read_only, NULL);
    if (input->hostname_path)
        add_bind_mount(set, input->hostname_path, "/etc/hostname", read_only, NULL);
    if (input->hosts_path)
        add_bind_mount(set, input->hosts_path, "/etc/hosts", read_only, NULL);
    if (json_get(host, "Init") && YAJL_IS_TRUE(json_get(host, "Init"))) {
        struct mount_entry *entry;
        if (!input->init_path)
            return berr_set(err, BERR_UNSUPPORTED,
                            "--init: no init binary found (install Debian's tini package: "
                            "/usr/bin/tini-static)");
        if ((entry = mount_add(set, SPEC_INIT_PATH, "bind", input->init_path))) {
            mount_option(entry, "bind");
            mount_option(entry, "ro");
        }
    }
    sort_mounts(set);
    return 0;
}

int spec_prepare_binds(yajl_val host_config, struct berr *err)
{
    yajl_val binds = json_get(host_config, "Binds");
    struct bind bind;
    int rc;

    for (size_t i = 0; YAJL_IS_ARRAY(binds) && i < binds->u.array.len; i++) {
        yajl_val item = binds->u.array.values[i];
        struct stat info;
        if (!YAJL_IS_STRING(item) || (rc = parse_bind(item->u.string, &bind, err)))
            continue;
        if (stat(bind.source, &info) == 0)
            continue;
        /* As dockerd does for -v: a missing host directory is made. */
        for (char *slash = bind.source + 1;; slash++) {
            if (*slash != '/' && *slash)
                continue;
            char saved = *slash;
            *slash = '\0';
            if (mkdir(bind.source, 0755) < 0 && errno != EEXIST)
                return berr_errno(err, errno, "create the bind source %s", bind.source);
            *slash = saved;
            if (!saved)
                break;
        }
    }
    return 0;
}

/* ---- inspect's Mounts ---- */

static void write_mount_point(struct json_writer *writer, const char *type, const char *source,
                              const char *destination, const char *mode, bool rw,
                              const char *propagation)
{
    json_object_begin(writer);
    json_kv_string(writer, "Type", type);
    json_kv_string(writer, "Source", source);
    json_kv_string(writer, "Destination", destination);
    json_kv_string(writer, "Mode", mode);
    json_kv_bool(writer, "RW", rw);
    json_kv_string(writer, "Propagation", propagation);
    json_object_end(writer);
}

void spec_write_mount_points(struct json_writer *writer, yajl_val host_config)
{
    yajl_val binds = json_get(host_config, "Binds"), mounts = json_get(host_config, "Mounts");
    struct bind bind;

    json_array_begin(writer);
    for (size_t i = 0; YAJL_IS_ARRAY(binds) && i < binds->u.array.len; i++) {
        yajl_val item = binds->u.array.values[i];
        if (YAJL_IS_STRING(item) && parse_bind(item->u.string, &bind, NULL) == 0)
            write_mount_point(writer, "bind", bind.source, bind.destination, bind.mode,
                              !bind.read_only, bind.propagation);
    }
    for (size_t i = 0; YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++) {
        yajl_val mount = mounts->u.array.values[i];
        const char *type = get_text(mount, "Type"), *propagation = "rprivate";
        bool read_only = false;
        json_get_bool(mount, "ReadOnly", &read_only, NULL);
        json_get_string(json_get(mount, "BindOptions"), "Propagation", &propagation, NULL);
        if (strcmp(type, "bind") == 0)
            write_mount_point(writer, "bind", get_text(mount, "Source"), get_text(mount, "Target"),
                              "", !read_only, *propagation ? propagation : "rprivate");
        else if (strcmp(type, "tmpfs") == 0)
            write_mount_point(writer, "tmpfs", "", get_text(mount, "Target"), "", !read_only, "");
    }
    json_array_end(writer);
}

int spec_mounts_write(struct json_writer *writer, const struct spec_input *input, yajl_val host,
                      bool privileged, struct berr *err)
{
    struct mount_set set = {0};
    int rc;

    if ((rc = collect_mounts(input, host, privileged, &set, err)) == 0 &&
        (rc = mount_set_status(&set, err)) == 0)
        write_mounts(writer, &set);
    mount_set_free(&set);
    return rc;
}

int spec_mounts_check(yajl_val host, struct berr *err)
{
    struct mount_set scratch = {0};
    int rc;

    if ((rc = user_binds(&scratch, host, err)) == 0 &&
        (rc = user_mounts(&scratch, host, true, err)) == 0 &&
        (rc = user_tmpfs(&scratch, host, err)) == 0)
        rc = mount_set_status(&scratch, err);
    mount_set_free(&scratch);
    return rc;
}
