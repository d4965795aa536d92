/*
 * sandbox: see sandbox.h. The namespace is made by a short-lived thread:
 * network namespaces are per thread, so unshare(CLONE_NEWNET) there
 * touches nothing else of the engine, and the bind mount of
 * /proc/thread-self/ns/net keeps the namespace once the thread is gone.
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"

#define NSFS_MAGIC_NUMBER 0x6e736673

char *sandbox_netns_path(const char *state_dir, const char *id)
{
    char *path;

    if (asprintf(&path, "%s/netns/%s", state_dir, id) < 0)
        return NULL;
    return path;
}

static bool is_namespace_mount(const char *path)
{
    struct statfs info;

    return statfs(path, &info) == 0 && (unsigned long)info.f_type == NSFS_MAGIC_NUMBER;
}

struct netns_job {
    const char *path;
    int error;
    const char *step;
};

static int loopback_up(void)
{
    struct ifreq request;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

    if (fd < 0)
        return -1;
    memset(&request, 0, sizeof(request));
    snprintf(request.ifr_name, sizeof(request.ifr_name), "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &request) < 0)
        rc = -1;
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (rc == 0 && ioctl(fd, SIOCSIFFLAGS, &request) < 0)
        rc = -1;
    close(fd);
    return rc;
}

static void *make_namespace(void *argument)
{
    struct netns_job *job = argument;

    if (unshare(CLONE_NEWNET) < 0) {
        job->error = errno;
        job->step = "unshare a network namespace";
    } else if (loopback_up() < 0) {
        job->error = errno;
        job->step = "bring lo up";
    } else if (mount("/proc/thread-self/ns/net", job->path, NULL, MS_BIND, NULL) < 0) {
        job->error = errno;
        job->step = "bind-mount the network namespace";
    }
    return NULL;
}

int sandbox_netns_create(const char *state_dir, const char *id, struct berr *err)
{
    char directory[PATH_MAX], *path = sandbox_netns_path(state_dir, id);
    struct netns_job job = {0};
    pthread_t thread;
    int fd, rc = 0;

    if (!path)
        return berr_set(err, BERR_NOMEM, "out of memory");
    if (is_namespace_mount(path))
        goto out;
    snprintf(directory, sizeof(directory), "%s/netns", state_dir);
    if (mkdir(directory, 0711) < 0 && errno != EEXIST) {
        rc = berr_errno(err, errno, "mkdir %s", directory);
        goto out;
    }
    fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
    if (fd < 0) {
        rc = berr_errno(err, errno, "create %s", path);
        goto out;
    }
    close(fd);
    job.path = path;
    if ((errno = pthread_create(&thread, NULL, make_namespace, &job)) != 0) {
        rc = berr_errno(err, errno, "start a thread");
        unlink(path);
        goto out;
    }
    pthread_join(thread, NULL);
    if (job.error) {
        rc = berr_errno(err, job.error, "%s for %.12s", job.step, id);
        unlink(path);
    }
out:
    free(path);
    return rc;
}

void sandbox_netns_remove(const char *state_dir, const char *id)
{
    char *path = sandbox_netns_path(state_dir, id);

    if (!path)
        return;
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        log_warn("unmount %s: %s", path, strerror(errno));
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("remove %s: %s", path, strerror(errno));
    free(path);
}

void sandbox_netns_cleanup(const char *state_dir, int (*keep)(const char *id, void *context),
                           void *context)
{
    char directory[PATH_MAX];
    struct dirent *entry;
    DIR *handle;

    snprintf(directory, sizeof(directory), "%s/netns", state_dir);
    handle = opendir(directory);
    if (!handle)
        return;
    while ((entry = readdir(handle)))
        if (entry->d_name[0] != '.' && !keep(entry->d_name, context))
            sandbox_netns_remove(state_dir, entry->d_name);
    closedir(handle);
}

/* ---- files ---- */

static const char default_hosts[] = "127.0.0.1\tlocalhost\n"
                                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                    "fe00::0\tip6-localnet\n"
                                    "ff00::0\tip6-mcastprefix\n"
                                    "ff02::1\tip6-allnodes\n"
                                    "ff02::2\tip6-allrouters\n";

struct text {
    char *data;
    size_t length, capacity;
    bool failed;
};

static void append(struct text *text, const char *data, size_t length)
{
    if (text->failed)
        return;
    if (text->length + length + 1 > text->capacity) {
        size_t capacity = (text->length + length + 1) * 2;
        char *grown = realloc(text->data, capacity);
        if (!grown) {
            text->failed = true;
            return;
        }
        text->data = grown;
        text->capacity = capacity;
    }
    memcpy(text->data + text->length, data, length);
    text->length += length;
    text->data[text->length] = '\0';
}

static void append_string(struct text *text, const char *string)
{
    append(text, string, strlen(string));
}

static char *read_host_file(const char *path)
{
    FILE *file = fopen(path, "re");
    struct text text = {0};
    char buffer[4096];
    size_t got;

    if (!file)
        return NULL;
    while ((got = fread(buffer, 1, sizeof(buffer), file)) > 0 && text.length < (1u << 20))
        append(&text, buffer, got);
    fclose(file);
    if (text.failed) {
        free(text.data);
        return NULL;
    }
    return text.data ? text.data : strdup("");
}

/* Regenerated at every start: atomic, but not worth two fsyncs each. */
static int write_file(const struct container *container, const char *name, const struct text *text,
                      struct berr *err)
{
    int directory, rc;

    if (text->failed)
        return berr_set(err, BERR_NOMEM, "out of memory");
    directory = open(container->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0)
        return berr_errno(err, errno, "open %s", container->dir);
    rc = atomic_write_file_at_no_sync(directory, name, text->data ? text->data : "", text->length,
                                      0644, err);
    close(directory);
    return rc;
}

static void extra_hosts(struct text *text, yajl_val host_config)
{
    yajl_val extra = json_get(host_config, "ExtraHosts");

    for (size_t i = 0; YAJL_IS_ARRAY(extra) && i < extra->u.array.len; i++) {
        yajl_val item = extra->u.array.values[i];
        const char *separator;
        if (!YAJL_IS_STRING(item) || !(separator = strpbrk(item->u.string, ":=")))
            continue;
        /* "name:ip" (the ip may itself hold colons: IPv6). */
        append_string(text, separator + 1);
        append_string(text, "\t");
        append(text, item->u.string, (size_t)(separator - item->u.string));
        append_string(text, "\n");
    }
}

static int write_hosts(const struct container *container, const struct container_settings *settings,
                       struct berr *err)
{
    struct text text = {0};
    char *host = NULL;
    int rc;

    if (settings->host_network && (host = read_host_file("/etc/hosts"))) {
        append_string(&text, host);
        if (text.length && text.data[text.length - 1] != '\n')
            append_string(&text, "\n");
    } else {
        append_string(&text, default_hosts);
    }
    extra_hosts(&text, settings->host_config);
    rc = write_file(container, "hosts", &text, err);
    free(host);
    free(text.data);
    return rc;
}

static int write_hostname(const struct container *container,
                          const struct container_settings *settings, struct berr *err)
{
    struct text text = {0};
    const char *hostname = "";
    int rc;

    json_get_string(settings->config, "Hostname", &hostname, NULL);
    append_string(&text, hostname);
    append_string(&text, "\n");
    rc = write_file(container, "hostname", &text, err);
    free(text.data);
    return rc;
}

static bool is_local_nameserver(const char *address)
{
    return strncmp(address, "127.", 4) == 0 || strcmp(address, "::1") == 0;
}

/* A yajl array of strings joined after prefix ("search a b\n"), if any. */
static void append_list(struct text *text, const char *prefix, yajl_val list)
{
    bool any = false;

    for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
        if (!YAJL_IS_STRING(list->u.array.values[i]))
            continue;
        append_string(text, any ? " " : prefix);
        append_string(text, list->u.array.values[i]->u.string);
        any = true;
    }
    if (any)
        append_string(text, "\n");
}

/* The host's resolv.conf: systemd-resolved's real one when the host only
 * points at its local stub. */
static char *host_resolv_conf(void)
{
    char *conf = read_host_file("/etc/resolv.conf");

    if (conf && strstr(conf, "127.0.0.53") &&
        access("/run/systemd/resolve/resolv.conf", R_OK) == 0) {
        free(conf);
        conf = read_host_file("/run/systemd/resolve/resolv.conf");
    }
    return conf ? conf : strdup("");
}

static void filter_resolv_conf(struct text *text, const char *host, bool private_network,
                               bool replace_servers, bool replace_search, bool replace_options)
{
    bool any_server = false;

    for (const char *line = host; line && *line;) {
        const char *next = strchr(line, '\n');
        size_t length = next ? (size_t)(next - line + 1) : strlen(line);
        char address[128] = "";
        bool server = sscanf(line, "nameserver %127s", address) == 1;
        bool keep = true;
        if (server)
            keep = !replace_servers && !(private_network && is_local_nameserver(address));
        else if (strncmp(line, "search", 6) == 0 || strncmp(line, "domain", 6) == 0)
            keep = !replace_search;
        else if (strncmp(line, "options", 7) == 0)
            keep = !replace_options;
        if (keep) {
            append(text, line, length);
            if (!next)
                append_string(text, "\n");
            any_server |= server;
        }
        line = next ? next + 1 : NULL;
    }
    /* Nothing reachable left: dockerd's fallback resolvers. */
    if (!any_server && !replace_servers && private_network)
        append_string(text, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

static bool has_items(yajl_val list)
{
    return YAJL_IS_ARRAY(list) && list->u.array.len > 0;
}

static int write_resolv_conf(const struct container *container,
                             const struct container_settings *settings, struct berr *err)
{
    yajl_val dns = json_get(settings->host_config, "Dns");
    yajl_val search = json_get(settings->host_config, "DnsSearch");
    yajl_val options = json_get(settings->host_config, "DnsOptions");
    char *host = host_resolv_conf();
    struct text text = {0};
    int rc;

    if (!host)
        return berr_set(err, BERR_NOMEM, "out of memory");
    filter_resolv_conf(&text, host, !settings->host_network, has_items(dns), has_items(search),
                       has_items(options));
    for (size_t i = 0; has_items(dns) && i < dns->u.array.len; i++) {
        if (!YAJL_IS_STRING(dns->u.array.values[i]))
            continue;
        append_string(&text, "nameserver ");
        append_string(&text, dns->u.array.values[i]->u.string);
        append_string(&text, "\n");
    }
    append_list(&text, "search ", search);
    append_list(&text, "options ", options);
    rc = write_file(container, "resolv.conf", &text, err);
    free(host);
    free(text.data);
    return rc;
}

int sandbox_write_files(const struct container *container,
                        const struct container_settings *settings, struct berr *err)
{
    int rc;

    if ((rc = write_hosts(container, settings, err)) ||
        (rc = write_hostname(container, settings, err)) ||
        (rc = write_resolv_conf(container, settings, err)))
        return rc;
    return 0;
}
