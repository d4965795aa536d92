/*
 * run_config: run/create flags to a create body (see run_config.h). Each
 * HostConfig concern (resources, restart, health, ports, mounts, devices)
 * has its own small writer so that a flag's parsing and its JSON sit
 * together.
 */
#include "run_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "json.h"
#include "units.h"

void run_flags_init(struct run_flags *f)
{
    memset(f, 0, sizeof(*f));
    f->sig_proxy = true;
    f->memory_swappiness = -1;
}

void run_flags_free(struct run_flags *f)
{
    struct strlist *lists[] = {
        &f->attach,        &f->env,      &f->env_file,     &f->label,      &f->label_file,
        &f->expose,        &f->publish,  &f->volume,       &f->mount,      &f->tmpfs,
        &f->network_alias, &f->dns,      &f->dns_option,   &f->dns_search, &f->add_host,
        &f->cap_add,       &f->cap_drop, &f->security_opt, &f->ulimit,     &f->device,
        &f->sysctl,        &f->log_opt,  &f->group_add,    &f->link,       &f->volumes_from,
        &f->storage_opt,
    };

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        sl_free(lists[i]);
}

#define B(n, s, v, u)                                                                              \
    {                                                                                              \
        n, s, OPT_BOOL, &f->v, u, NULL, NULL, false                                                \
    }
#define S(n, s, v, u)                                                                              \
    {                                                                                              \
        n, s, OPT_STRING, &f->v, u, NULL, NULL, false                                              \
    }
#define ST(n, s, v, t, u)                                                                          \
    {                                                                                              \
        n, s, OPT_STRING, &f->v, u, t, NULL, false                                                 \
    }
#define L(n, s, v, u)                                                                              \
    {                                                                                              \
        n, s, OPT_LIST, &f->v, u, NULL, NULL, false                                                \
    }
#define I(n, s, v, u)                                                                              \
    {                                                                                              \
        n, s, OPT_INT, &f->v, u, NULL, NULL, false                                                 \
    }

const struct opt *run_flags_table(struct run_flags *f, bool with_run_flags)
{
    static struct opt table[128];
    const struct opt run_only[] = {
        B("detach", 'd', detach, "Run container in background and print container ID"),
        B("rm", 0, rm,
          "Automatically remove the container and its associated anonymous volumes "
          "when it exits"),
        B("sig-proxy", 0, sig_proxy, "Proxy received signals to the process"),
        S("detach-keys", 0, detach_keys, "Override the key sequence for detaching a container"),
    };
    const struct opt common[] = {
        L("add-host", 0, add_host, "Add a custom host-to-IP mapping (host:ip)"),
        L("attach", 'a', attach, "Attach to STDIN, STDOUT or STDERR"),
        {"blkio-weight", 0, OPT_INT, &f->blkio_weight,
         "Block IO (relative weight), between 10 "
         "and 1000, or 0 to disable",
         "uint16", NULL, false},
        L("cap-add", 0, cap_add, "Add Linux capabilities"),
        L("cap-drop", 0, cap_drop, "Drop Linux capabilities"),
        S("cgroup-parent", 0, cgroup_parent, "Optional parent cgroup for the container"),
        S("cgroupns", 0, cgroupns, "Cgroup namespace to use (host|private)"),
        S("cidfile", 0, cidfile, "Write the container ID to the file"),
        I("cpu-period", 0, cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period"),
        I("cpu-quota", 0, cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota"),
        I("cpu-shares", 'c', cpu_shares, "CPU shares (relative weight)"),
        ST("cpus", 0, cpus, "decimal", "Number of CPUs"),
        S("cpuset-cpus", 0, cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)"),
        S("cpuset-mems", 0, cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)"),
        L("device", 0, device, "Add a host device to the container"),
        L("dns", 0, dns, "Set custom DNS servers"),
        L("dns-option", 0, dns_option, "Set DNS options"),
        L("dns-search", 0, dns_search, "Set custom DNS search domains"),
        S("domainname", 0, domainname, "Container NIS domain name"),
        {"entrypoint", 0, OPT_STRING, &f->entrypoint,
         "Overwrite the default ENTRYPOINT of the "
         "image",
         NULL, &f->entrypoint_set, false},
        L("env", 'e', env, "Set environment variables"),
        L("env-file", 0, env_file, "Read in a file of environment variables"),
        L("expose", 0, expose, "Expose a port or a range of ports"),
        L("group-add", 0, group_add, "Add additional groups to join"),
        S("health-cmd", 0, health_cmd, "Command to run to check health"),
        ST("health-interval", 0, health_interval, "duration",
           "Time between running the check "
           "(ms|s|m|h) (default 0s)"),
        {"health-retries", 0, OPT_INT, &f->health_retries,
         "Consecutive failures needed to report "
         "unhealthy",
         NULL, &f->health_retries_set, false},
        ST("health-start-interval", 0, health_start_interval, "duration",
           "Time between running the check during the start period (ms|s|m|h) (default 0s)"),
        ST("health-start-period", 0, health_start_period, "duration",
           "Start period for the "
           "container to initialize before starting health-retries countdown (ms|s|m|h) "
           "(default 0s)"),
        ST("health-timeout", 0, health_timeout, "duration",
           "Maximum time to allow one check to "
           "run (ms|s|m|h) (default 0s)"),
        S("hostname", 'h', hostname, "Container host name"),
        {"init", 0, OPT_BOOL, &f->init,
         "Run an init inside the container that forwards signals "
         "and reaps processes",
         NULL, &f->init_set, false},
        B("interactive", 'i', interactive, "Keep STDIN open even if not attached"),
        S("ip", 0, ip, "IPv4 address (e.g., 172.30.100.104)"),
        S("ip6", 0, ip6, "IPv6 address (e.g., 2001:db8::33)"),
        S("ipc", 0, ipc, "IPC mode to use"),
        S("isolation", 0, isolation, "Container isolation technology"),
        L("label", 'l', label, "Set meta data on a container"),
        L("label-file", 0, label_file, "Read in a line delimited file of labels"),
        L("link", 0, link, "Add link to another container"),
        S("log-driver", 0, log_driver, "Logging driver for the container"),
        L("log-opt", 0, log_opt, "Log driver options"),
        S("mac-address", 0, mac_address, "Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
        ST("memory", 'm', memory, "bytes", "Memory limit"),
        ST("memory-reservation", 0, memory_reservation, "bytes", "Memory soft limit"),
        ST("memory-swap", 0, memory_swap, "bytes",
           "Swap limit equal to memory plus swap: '-1' "
           "to enable unlimited swap"),
        {"memory-swappiness", 0, OPT_INT, &f->memory_swappiness,
         "Tune container memory "
         "swappiness (0 to 100) (default -1)",
         NULL, &f->memory_swappiness_set, false},
        L("mount", 0, mount, "Attach a filesystem mount to the container"),
        S("name", 0, name, "Assign a name to the container"),
        S("network", 0, network, "Connect a container to a network"),
        {"net", 0, OPT_STRING, &f->network, "Connect a container to a network", NULL, NULL, true},
        L("network-alias", 0, network_alias, "Add network-scoped alias for the container"),
        B("no-healthcheck", 0, no_healthcheck, "Disable any container-specified HEALTHCHECK"),
        B("oom-kill-disable", 0, oom_kill_disable, "Disable OOM Killer"),
        I("oom-score-adj", 0, oom_score_adj, "Tune host's OOM preferences (-1000 to 1000)"),
        S("pid", 0, pid, "PID namespace to use"),
        {"pids-limit", 0, OPT_INT, &f->pids_limit,
         "Tune container pids limit (set -1 for "
         "unlimited)",
         NULL, &f->pids_limit_set, false},
        S("platform", 0, platform, "Set platform if server is multi-platform capable"),
        B("privileged", 0, privileged, "Give extended privileges to this container"),
        L("publish", 'p', publish, "Publish a container's port(s) to the host"),
        B("publish-all", 'P', publish_all, "Publish all exposed ports to random ports"),
        S("pull", 0, pull, "Pull image before running (\"always\", \"missing\", \"never\")"),
        B("quiet", 'q', quiet, "Suppress the pull output"),
        B("read-only", 0, read_only, "Mount the container's root filesystem as read only"),
        S("restart", 0, restart, "Restart policy to apply when a container exits (default \"no\")"),
        S("runtime", 0, runtime, "Runtime to use for this container"),
        L("security-opt", 0, security_opt, "Security Options"),
        ST("shm-size", 0, shm_size, "bytes", "Size of /dev/shm"),
        S("stop-signal", 0, stop_signal, "Signal to stop the container"),
        {"stop-timeout", 0, OPT_INT, &f->stop_timeout, "Timeout (in seconds) to stop a container",
         NULL, &f->stop_timeout_set, false},
        L("storage-opt", 0, storage_opt, "Storage driver options for the container"),
        L("sysctl", 0, sysctl, "Sysctl options"),
        L("tmpfs", 0, tmpfs, "Mount a tmpfs directory"),
        B("tty", 't', tty, "Allocate a pseudo-TTY"),
        L("ulimit", 0, ulimit, "Ulimit options"),
        S("user", 'u', user, "Username or UID (format: <name|uid>[:<group|gid>])"),
        S("userns", 0, userns, "User namespace to use"),
        S("uts", 0, uts, "UTS namespace to use"),
        L("volume", 'v', volume, "Bind mount a volume"),
        S("volume-driver", 0, volume_driver, "Optional volume driver for the container"),
        L("volumes-from", 0, volumes_from, "Mount volumes from the specified container(s)"),
        S("workdir", 'w', workdir, "Working directory inside the container"),
    };
    size_t n = 0;

    if (with_run_flags)
        for (size_t i = 0; i < sizeof(run_only) / sizeof(run_only[0]); i++)
            table[n++] = run_only[i];
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        table[n++] = common[i];
    memset(&table[n], 0, sizeof(table[n]));
    return table;
}

/* ------------------------------------------------------------ helpers */

static int read_lines(const char *path, struct strlist *out, struct berr *err)
{
    FILE *file = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    if (!file)
        return berr_errno(err, errno, "open %s", path);
    while ((len = getline(&line, &cap, file)) >= 0) {
        char *p = line;

        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        while (isspace((unsigned char)*p))
            p++;
        if (*p && *p != '#')
            sl_push(out, p);
    }
    free(line);
    fclose(file);
    return 0;
}

/* KEY=VALUE, or KEY alone: the CLI's own value of KEY when it has one. */
static void env_item(struct json_writer *w, const char *item)
{
    const char *value;

    if (!strchr(item, '=') && (value = getenv(item))) {
        char *full = xasprintf("%s=%s", item, value);

        json_string(w, full);
        free(full);
        return;
    }
    json_string(w, item);
}

static void string_array(struct json_writer *w, const char *key, const struct strlist *list)
{
    json_key(w, key);
    if (!list->len) {
        json_null(w);
        return;
    }
    json_array_begin(w);
    for (size_t i = 0; i < list->len; i++)
        json_string(w, list->items[i]);
    json_array_end(w);
}

/* KEY=VALUE items as an object ("KEY" alone: empty value). */
static void key_value_object(struct json_writer *w, const char *key, const struct strlist *list)
{
    json_key(w, key);
    json_object_begin(w);
    for (size_t i = 0; i < list->len; i++) {
        const char *eq = strchr(list->items[i], '=');
        char *k =
            eq ? xstrndup(list->items[i], (size_t)(eq - list->items[i])) : xstrdup(list->items[i]);

        json_kv_string(w, k, eq ? eq + 1 : "");
        free(k);
    }
    json_object_end(w);
}

static int bytes_flag(const char *flag, const char *value, int64_t *out, struct berr *err)
{
    if (!value || !*value) {
        *out = 0;
        return 0;
    }
    if (strcmp(value, "-1") == 0) {
        *out = -1;
        return 0;
    }
    if (units_ram_in_bytes(value, out, err)) {
        char message[256];

        snprintf(message, sizeof(message), "%s", err->message);
        return berr_set(err, BERR_INVALID, "invalid argument \"%s\" for \"%s\" flag: %s", value,
                        flag, message);
    }
    return 0;
}

static int duration_flag(const char *flag, const char *value, int64_t *out, struct berr *err)
{
    *out = 0;
    if (!value || !*value)
        return 0;
    if (units_parse_duration(value, out, err)) {
        char message[256];

        snprintf(message, sizeof(message), "%s", err->message);
        return berr_set(err, BERR_INVALID, "invalid argument \"%s\" for \"%s\" flag: %s", value,
                        flag, message);
    }
    return 0;
}

/* ------------------------------------------------------------ validation */

static int parse_attach(struct run_flags *f, struct run_streams *streams, struct berr *err)
{
    if (f->detach) {
        if (f->attach.len)
            return berr_set(err, BERR_INVALID, "Conflicting options: -a and -d");
        streams->in = streams->out = streams->err = false;
        return 0;
    }
    if (!f->attach.len) {
        streams->in = f->interactive;
        streams->out = streams->err = true;
        return 0;
    }
    streams->in = streams->out = streams->err = false;
    for (size_t i = 0; i < f->attach.len; i++) {
        const char *s = f->attach.items[i];

        if (strcasecmp(s, "stdin") == 0)
            streams->in = true;
        else if (strcasecmp(s, "stdout") == 0)
            streams->out = true;
        else if (strcasecmp(s, "stderr") == 0)
            streams->err = true;
        else
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"-a, --attach\" flag: valid streams "
                            "are STDIN, STDOUT and STDERR",
                            s);
    }
    return 0;
}

static int check_conflicts(struct run_flags *f, struct berr *err)
{
    if (f->rm && f->restart && *f->restart && strcmp(f->restart, "no") != 0)
        return berr_set(err, BERR_INVALID,
                        "conflicting options: cannot specify both --restart and --rm");
    if (f->no_healthcheck &&
        (f->health_cmd || f->health_interval || f->health_timeout || f->health_start_period ||
         f->health_start_interval || f->health_retries_set))
        return berr_set(err, BERR_INVALID, "--no-healthcheck conflicts with --health-* options");
    if (f->health_retries_set && f->health_retries < 0)
        return berr_set(err, BERR_INVALID, "--health-retries cannot be negative");
    return 0;
}

/* ------------------------------------------------------------ Config */

static int write_env(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    struct strlist all = STRLIST_INIT;

    for (size_t i = 0; i < f->env_file.len; i++)
        if (read_lines(f->env_file.items[i], &all, err)) {
            sl_free(&all);
            return err->code;
        }
    for (size_t i = 0; i < f->env.len; i++)
        sl_push(&all, f->env.items[i]);
    json_key(w, "Env");
    json_array_begin(w);
    for (size_t i = 0; i < all.len; i++)
        env_item(w, all.items[i]);
    json_array_end(w);
    sl_free(&all);
    return 0;
}

static int write_labels(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    struct strlist all = STRLIST_INIT;

    for (size_t i = 0; i < f->label_file.len; i++)
        if (read_lines(f->label_file.items[i], &all, err)) {
            sl_free(&all);
            return err->code;
        }
    for (size_t i = 0; i < f->label.len; i++)
        sl_push(&all, f->label.items[i]);
    key_value_object(w, "Labels", &all);
    sl_free(&all);
    return 0;
}

static int write_healthcheck(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    int64_t interval, timeout, start, start_interval;

    if (!f->no_healthcheck && !f->health_cmd && !f->health_interval && !f->health_timeout &&
        !f->health_start_period && !f->health_start_interval && !f->health_retries_set)
        return 0;
    if (duration_flag("--health-interval", f->health_interval, &interval, err) ||
        duration_flag("--health-timeout", f->health_timeout, &timeout, err) ||
        duration_flag("--health-start-period", f->health_start_period, &start, err) ||
        duration_flag("--health-start-interval", f->health_start_interval, &start_interval, err))
        return err->code;
    if (interval < 0)
        return berr_set(err, BERR_INVALID, "--health-interval cannot be negative");
    if (timeout < 0)
        return berr_set(err, BERR_INVALID, "--health-timeout cannot be negative");
    if (start < 0)
        return berr_set(err, BERR_INVALID, "--health-start-period cannot be negative");
    if (start_interval < 0)
        return berr_set(err, BERR_INVALID, "--health-start-interval cannot be negative");
    json_key(w, "Healthcheck");
    json_object_begin(w);
    json_key(w, "Test");
    json_array_begin(w);
    if (f->no_healthcheck) {
        json_string(w, "NONE");
    } else if (f->health_cmd && *f->health_cmd) {
        json_string(w, "CMD-SHELL");
        json_string(w, f->health_cmd);
    }
    json_array_end(w);
    if (!f->no_healthcheck) {
        json_kv_int(w, "Interval", interval);
        json_kv_int(w, "Timeout", timeout);
        json_kv_int(w, "StartPeriod", start);
        json_kv_int(w, "StartInterval", start_interval);
        json_kv_int(w, "Retries", f->health_retries);
    }
    json_object_end(w);
    return 0;
}

/* [ip:][host_port:]container_port[/proto], ports may be ranges "8000-8001". */
struct port_spec {
    char ip[64];
    long host_first, host_last; /* 0: any */
    long first, last;
    char proto[8];
};

static int parse_range(const char *text, long *first, long *last)
{
    char *end;

    *first = strtol(text, &end, 10);
    *last = *first;
    if (*end == '-')
        *last = strtol(end + 1, &end, 10);
    return end != text && !*end && *first > 0 && *last >= *first && *last <= 65535 ? 0 : -1;
}

static int parse_port(const char *spec, struct port_spec *out, struct berr *err)
{
    char buf[256];
    char *proto, *container, *host = NULL, *colon;

    memset(out, 0, sizeof(*out));
    snprintf(buf, sizeof(buf), "%s", spec);
    proto = strrchr(buf, '/');
    snprintf(out->proto, sizeof(out->proto), "%s", proto ? proto + 1 : "tcp");
    if (proto)
        *proto = '\0';
    colon = strrchr(buf, ':');
    container = colon ? colon + 1 : buf;
    if (colon) {
        *colon = '\0';
        host = strrchr(buf, ':');
        if (host) {
            size_t len;

            *host++ = '\0';
            len = strlen(buf);
            if (buf[0] == '[' && len > 1 && buf[len - 1] == ']') /* [::1]:8080:80 */
                snprintf(out->ip, sizeof(out->ip), "%.*s", (int)len - 2, buf + 1);
            else
                snprintf(out->ip, sizeof(out->ip), "%s", buf);
        } else {
            host = buf;
        }
    }
    if (parse_range(container, &out->first, &out->last))
        return berr_set(err, BERR_INVALID, "invalid containerPort: %s", container);
    if (host && *host && parse_range(host, &out->host_first, &out->host_last))
        return berr_set(err, BERR_INVALID, "invalid hostPort: %s", host);
    if (out->host_first && out->host_last - out->host_first != out->last - out->first &&
        out->host_first != out->host_last)
        return berr_set(err, BERR_INVALID,
                        "invalid ranges specified for container and host "
                        "Ports: %s and %s",
                        container, host);
    return 0;
}

static void write_exposed(struct json_writer *w, struct run_flags *f)
{
    struct berr ignored;

    if (!f->publish.len && !f->expose.len)
        return;
    json_key(w, "ExposedPorts");
    json_object_begin(w);
    for (size_t i = 0; i < f->publish.len + f->expose.len; i++) {
        bool publish = i < f->publish.len;
        const char *item = publish ? f->publish.items[i] : f->expose.items[i - f->publish.len];
        struct port_spec p;
        char key[32];

        if (parse_port(item, &p, &ignored))
            continue;
        for (long port = p.first; port <= p.last; port++) {
            snprintf(key, sizeof(key), "%ld/%s", port, p.proto);
            json_key(w, key);
            json_object_begin(w);
            json_object_end(w);
        }
    }
    json_object_end(w);
}

struct binding {
    char key[32];
    char ip[64];
    char host_port[16];
};

/* Every -p as (container port, host ip, host port), in order; one port may appear twice. */
static int collect_bindings(struct run_flags *f, struct binding **out, size_t *n, struct berr *err)
{
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < f->publish.len; i++) {
        struct port_spec p;

        if (parse_port(f->publish.items[i], &p, err))
            return err->code;
        for (long port = p.first; port <= p.last; port++) {
            long host = p.host_first ? p.host_first + (port - p.first) : 0;
            struct binding *b;

            if (p.host_first && p.host_first == p.host_last && p.first != p.last)
                host = p.host_first;
            *out = xrealloc(*out, (*n + 1) * sizeof(**out));
            b = &(*out)[(*n)++];
            snprintf(b->key, sizeof(b->key), "%ld/%s", port, p.proto);
            snprintf(b->ip, sizeof(b->ip), "%s", p.ip);
            b->host_port[0] = '\0';
            if (host)
                snprintf(b->host_port, sizeof(b->host_port), "%ld", host);
        }
    }
    return 0;
}

static int write_port_bindings(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    struct binding *bindings;
    size_t n;

    if (collect_bindings(f, &bindings, &n, err))
        return err->code;
    json_key(w, "PortBindings");
    json_object_begin(w);
    for (size_t i = 0; i < n; i++) {
        bool seen = false;

        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(bindings[j].key, bindings[i].key) == 0;
        if (seen)
            continue;
        json_key(w, bindings[i].key);
        json_array_begin(w);
        for (size_t j = i; j < n; j++) {
            if (strcmp(bindings[j].key, bindings[i].key) != 0)
                continue;
            json_object_begin(w);
            json_kv_string(w, "HostIp", bindings[j].ip);
            json_kv_string(w, "HostPort", bindings[j].host_port);
            json_object_end(w);
        }
        json_array_end(w);
    }
    json_object_end(w);
    free(bindings);
    return 0;
}

/* Anonymous volumes (-v /data) go to Config.Volumes, the rest to HostConfig.Binds. */
static void write_volumes(struct json_writer *w, struct run_flags *f)
{
    bool any = false;

    for (size_t i = 0; i < f->volume.len; i++)
        any = any || !strchr(f->volume.items[i], ':');
    if (!any)
        return;
    json_key(w, "Volumes");
    json_object_begin(w);
    for (size_t i = 0; i < f->volume.len; i++) {
        if (strchr(f->volume.items[i], ':'))
            continue;
        json_key(w, f->volume.items[i]);
        json_object_begin(w);
        json_object_end(w);
    }
    json_object_end(w);
}

static int write_command(struct json_writer *w, struct run_flags *f, char **args, size_t nargs)
{
    json_key(w, "Cmd");
    if (nargs > 1) {
        json_array_begin(w);
        for (size_t i = 1; i < nargs; i++)
            json_string(w, args[i]);
        json_array_end(w);
    } else {
        json_null(w);
    }
    json_key(w, "Image");
    json_string(w, args[0]);
    json_key(w, "Entrypoint");
    if (f->entrypoint_set) {
        json_array_begin(w);
        json_string(w, f->entrypoint);
        json_array_end(w);
    } else {
        json_null(w);
    }
    return 0;
}

static int write_config(struct json_writer *w, struct run_flags *f, char **args, size_t nargs,
                        const struct run_streams *streams, struct berr *err)
{
    json_kv_string(w, "Hostname", f->hostname ? f->hostname : "");
    json_kv_string(w, "Domainname", f->domainname ? f->domainname : "");
    json_kv_string(w, "User", f->user ? f->user : "");
    json_kv_bool(w, "AttachStdin", streams->in);
    json_kv_bool(w, "AttachStdout", streams->out);
    json_kv_bool(w, "AttachStderr", streams->err);
    write_exposed(w, f);
    json_kv_bool(w, "Tty", f->tty);
    json_kv_bool(w, "OpenStdin", f->interactive);
    json_kv_bool(w, "StdinOnce", f->interactive && streams->in);
    if (write_env(w, f, err))
        return err->code;
    write_command(w, f, args, nargs);
    if (write_healthcheck(w, f, err))
        return err->code;
    write_volumes(w, f);
    json_kv_string(w, "WorkingDir", f->workdir ? f->workdir : "");
    if (f->mac_address)
        json_kv_string(w, "MacAddress", f->mac_address);
    if (write_labels(w, f, err))
        return err->code;
    if (f->stop_signal)
        json_kv_string(w, "StopSignal", f->stop_signal);
    if (f->stop_timeout_set)
        json_kv_int(w, "StopTimeout", f->stop_timeout);
    return 0;
}

/* ------------------------------------------------------------ HostConfig */

int restart_policy_parse(const char *text, char *name, size_t name_size, long *retries,
                         struct berr *err)
{
    const char *policy = text && *text ? text : "no";
    const char *colon = strchr(policy, ':');

    *retries = 0;
    snprintf(name, name_size, "%.*s", colon ? (int)(colon - policy) : (int)strlen(policy), policy);
    if (colon) {
        char *end;

        *retries = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || strcmp(name, "on-failure") != 0)
            return berr_set(err, BERR_INVALID, "invalid restart policy format: %s", policy);
    }
    if (strcmp(name, "no") != 0 && strcmp(name, "always") != 0 &&
        strcmp(name, "unless-stopped") != 0 && strcmp(name, "on-failure") != 0)
        return berr_set(err, BERR_INVALID, "invalid restart policy format: %s", policy);
    return 0;
}

static int write_restart(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    char name[32];
    long retries;

    if (restart_policy_parse(f->restart, name, sizeof(name), &retries, err))
        return err->code;
    json_key(w, "RestartPolicy");
    json_object_begin(w);
    json_kv_string(w, "Name", name);
    json_kv_int(w, "MaximumRetryCount", retries);
    json_object_end(w);
    return 0;
}

static int write_resources(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    int64_t memory, swap, reservation, shm;

    if (bytes_flag("-m, --memory", f->memory, &memory, err) ||
        bytes_flag("--memory-swap", f->memory_swap, &swap, err) ||
        bytes_flag("--memory-reservation", f->memory_reservation, &reservation, err) ||
        bytes_flag("--shm-size", f->shm_size, &shm, err))
        return err->code;
    json_kv_int(w, "Memory", memory);
    json_kv_int(w, "MemorySwap", swap);
    json_kv_int(w, "MemoryReservation", reservation);
    json_kv_int(w, "MemorySwappiness", f->memory_swappiness); /* -1: the default, as docker's */
    json_kv_int(w, "ShmSize", shm);
    if (f->cpus) {
        char *end;
        double cpus = strtod(f->cpus, &end);

        if (!*f->cpus || *end || cpus < 0)
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"--cpus\" flag: failed to parse %s as "
                            "a rational number",
                            f->cpus, f->cpus);
        json_kv_int(w, "NanoCpus", (int64_t)(cpus * 1e9 + 0.5));
    }
    json_kv_int(w, "CpuShares", f->cpu_shares);
    json_kv_int(w, "CpuPeriod", f->cpu_period);
    json_kv_int(w, "CpuQuota", f->cpu_quota);
    json_kv_string(w, "CpusetCpus", f->cpuset_cpus ? f->cpuset_cpus : "");
    json_kv_string(w, "CpusetMems", f->cpuset_mems ? f->cpuset_mems : "");
    json_kv_int(w, "BlkioWeight", f->blkio_weight);
    if (f->pids_limit_set)
        json_kv_int(w, "PidsLimit", f->pids_limit);
    if (f->oom_kill_disable)
        json_kv_bool(w, "OomKillDisable", true);
    json_kv_int(w, "OomScoreAdj", f->oom_score_adj);
    return 0;
}

static int write_ulimits(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    json_key(w, "Ulimits");
    json_array_begin(w);
    for (size_t i = 0; i < f->ulimit.len; i++) {
        const char *item = f->ulimit.items[i];
        const char *eq = strchr(item, '=');
        char *end;
        long long soft, hard;

        if (!eq || eq == item)
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"--ulimit\" flag: invalid ulimit "
                            "argument: %s",
                            item, item);
        soft = strtoll(eq + 1, &end, 10);
        hard = soft;
        if (*end == ':')
            hard = strtoll(end + 1, &end, 10);
        if (*end || end == eq + 1)
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"--ulimit\" flag: invalid ulimit "
                            "argument: %s",
                            item, item);
        json_object_begin(w);
        {
            char *name = xstrndup(item, (size_t)(eq - item));

            json_kv_string(w, "Name", name);
            free(name);
        }
        json_kv_int(w, "Hard", hard);
        json_kv_int(w, "Soft", soft);
        json_object_end(w);
    }
    json_array_end(w);
    return 0;
}

/* /dev/x[:/dev/y][:rwm] */
static int write_devices(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    json_key(w, "Devices");
    json_array_begin(w);
    for (size_t i = 0; i < f->device.len; i++) {
        char buf[512];
        char *parts[3] = {NULL, NULL, NULL};
        size_t n = 0;
        char *save = NULL;

        snprintf(buf, sizeof(buf), "%s", f->device.items[i]);
        for (char *tok = strtok_r(buf, ":", &save); tok && n < 3; tok = strtok_r(NULL, ":", &save))
            parts[n++] = tok;
        if (!n)
            return berr_set(err, BERR_INVALID, "invalid device specification: %s",
                            f->device.items[i]);
        /* a second part without a slash is the permissions */
        if (n == 2 && parts[1][0] != '/') {
            parts[2] = parts[1];
            parts[1] = NULL;
        }
        json_object_begin(w);
        json_kv_string(w, "PathOnHost", parts[0]);
        json_kv_string(w, "PathInContainer", parts[1] ? parts[1] : parts[0]);
        json_kv_string(w, "CgroupPermissions", parts[2] ? parts[2] : "rwm");
        json_object_end(w);
    }
    json_array_end(w);
    return 0;
}

/* type=bind,source=/a,target=/b,readonly */
static int write_mounts(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    json_key(w, "Mounts");
    json_array_begin(w);
    for (size_t i = 0; i < f->mount.len; i++) {
        char buf[1024];
        char *save = NULL;
        const char *type = "volume", *source = "", *target = NULL;
        bool readonly = false;

        snprintf(buf, sizeof(buf), "%s", f->mount.items[i]);
        for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            const char *value = eq ? eq + 1 : "";

            if (eq)
                *eq = '\0';
            if (strcmp(kv, "type") == 0)
                type = value;
            else if (strcmp(kv, "source") == 0 || strcmp(kv, "src") == 0)
                source = value;
            else if (strcmp(kv, "target") == 0 || strcmp(kv, "destination") == 0 ||
                     strcmp(kv, "dst") == 0)
                target = value;
            else if (strcmp(kv, "readonly") == 0 || strcmp(kv, "ro") == 0)
                readonly = !eq || strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        }
        if (!target)
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"--mount\" flag: target is required",
                            f->mount.items[i]);
        json_object_begin(w);
        json_kv_string(w, "Type", type);
        json_kv_string(w, "Source", source);
        json_kv_string(w, "Target", target);
        json_kv_bool(w, "ReadOnly", readonly);
        json_object_end(w);
    }
    json_array_end(w);
    return 0;
}

/* seccomp=PROFILE.json is sent inline, as the docker CLI does. */
static int write_security_opts(struct json_writer *w, struct run_flags *f, struct berr *err)
{
    json_key(w, "SecurityOpt");
    if (!f->security_opt.len) {
        json_null(w);
        return 0;
    }
    json_array_begin(w);
    for (size_t i = 0; i < f->security_opt.len; i++) {
        const char *item = f->security_opt.items[i];
        const char *value = strchr(item, '=') ? strchr(item, '=') + 1 : strchr(item, ':');

        if (strncmp(item, "seccomp", 7) == 0 && value && (item[7] == '=' || item[7] == ':') &&
            strcmp(value, "unconfined") != 0 && strcmp(value, "builtin") != 0) {
            yajl_val profile;
            struct strbuf text = STRBUF_INIT;

            if (json_parse_file(value, 16 << 20, &profile, err))
                return berr_prefix(err, "opening seccomp profile (%s) failed", value);
            sb_puts(&text, "seccomp=");
            format_json_value(&text, profile);
            json_string(w, sb_str(&text));
            sb_free(&text);
            yajl_tree_free(profile);
            continue;
        }
        json_string(w, item);
    }
    json_array_end(w);
    return 0;
}

/* "net_admin" → "CAP_NET_ADMIN" ("ALL" stays), as the docker CLI normalizes them. */
static void capabilities(struct json_writer *w, const char *key, const struct strlist *list)
{
    json_key(w, key);
    if (!list->len) {
        json_null(w);
        return;
    }
    json_array_begin(w);
    for (size_t i = 0; i < list->len; i++) {
        struct strbuf cap = STRBUF_INIT;
        const char *name = list->items[i];

        if (strcasecmp(name, "ALL") != 0 && strncasecmp(name, "CAP_", 4) != 0)
            sb_puts(&cap, "CAP_");
        for (const char *p = name; *p; p++)
            sb_putc(&cap, (char)toupper((unsigned char)*p));
        json_string(w, sb_str(&cap));
        sb_free(&cap);
    }
    json_array_end(w);
}

static void write_log_config(struct json_writer *w, struct run_flags *f)
{
    json_key(w, "LogConfig");
    json_object_begin(w);
    json_kv_string(w, "Type", f->log_driver ? f->log_driver : "");
    key_value_object(w, "Config", &f->log_opt);
    json_object_end(w);
}

static void write_tmpfs(struct json_writer *w, struct run_flags *f)
{
    if (!f->tmpfs.len)
        return;
    json_key(w, "Tmpfs");
    json_object_begin(w);
    for (size_t i = 0; i < f->tmpfs.len; i++) {
        const char *colon = strchr(f->tmpfs.items[i], ':');
        char *path = colon ? xstrndup(f->tmpfs.items[i], (size_t)(colon - f->tmpfs.items[i]))
                           : xstrdup(f->tmpfs.items[i]);

        json_kv_string(w, path, colon ? colon + 1 : "");
        free(path);
    }
    json_object_end(w);
}

static int write_host_config(struct json_writer *w, struct run_flags *f, unsigned rows,
                             unsigned cols, struct berr *err)
{
    struct strlist binds = STRLIST_INIT;

    json_key(w, "HostConfig");
    json_object_begin(w);
    for (size_t i = 0; i < f->volume.len; i++)
        if (strchr(f->volume.items[i], ':'))
            sl_push(&binds, f->volume.items[i]);
    string_array(w, "Binds", &binds);
    sl_free(&binds);
    json_kv_string(w, "ContainerIDFile", f->cidfile ? f->cidfile : "");
    write_log_config(w, f);
    json_kv_string(w, "NetworkMode", f->network && *f->network ? f->network : "default");
    if (write_port_bindings(w, f, err) || write_restart(w, f, err))
        return err->code;
    json_kv_bool(w, "AutoRemove", f->rm);
    json_kv_string(w, "VolumeDriver", f->volume_driver ? f->volume_driver : "");
    string_array(w, "VolumesFrom", &f->volumes_from);
    json_key(w, "ConsoleSize");
    json_array_begin(w);
    json_int(w, rows);
    json_int(w, cols);
    json_array_end(w);
    capabilities(w, "CapAdd", &f->cap_add);
    capabilities(w, "CapDrop", &f->cap_drop);
    json_kv_string(w, "CgroupnsMode", f->cgroupns ? f->cgroupns : "");
    string_array(w, "Dns", &f->dns);
    string_array(w, "DnsOptions", &f->dns_option);
    string_array(w, "DnsSearch", &f->dns_search);
    string_array(w, "ExtraHosts", &f->add_host);
    string_array(w, "GroupAdd", &f->group_add);
    json_kv_string(w, "IpcMode", f->ipc ? f->ipc : "");
    json_kv_string(w, "Cgroup", "");
    string_array(w, "Links", &f->link);
    json_kv_string(w, "PidMode", f->pid ? f->pid : "");
    json_kv_bool(w, "Privileged", f->privileged);
    json_kv_bool(w, "PublishAllPorts", f->publish_all);
    json_kv_bool(w, "ReadonlyRootfs", f->read_only);
    if (write_security_opts(w, f, err))
        return err->code;
    if (f->storage_opt.len)
        key_value_object(w, "StorageOpt", &f->storage_opt);
    write_tmpfs(w, f);
    json_kv_string(w, "UTSMode", f->uts ? f->uts : "");
    json_kv_string(w, "UsernsMode", f->userns ? f->userns : "");
    if (f->sysctl.len)
        key_value_object(w, "Sysctls", &f->sysctl);
    json_kv_string(w, "Runtime", f->runtime ? f->runtime : "");
    json_kv_string(w, "Isolation", f->isolation ? f->isolation : "");
    json_kv_string(w, "CgroupParent", f->cgroup_parent ? f->cgroup_parent : "");
    if (write_resources(w, f, err) || write_devices(w, f, err) || write_ulimits(w, f, err) ||
        write_mounts(w, f, err))
        return err->code;
    if (f->init_set)
        json_kv_bool(w, "Init", f->init);
    json_object_end(w);
    return 0;
}

/* A user-defined network gets an endpoint (aliases, static addresses). */
static void write_networking(struct json_writer *w, struct run_flags *f)
{
    const char *net = f->network;

    json_key(w, "NetworkingConfig");
    json_object_begin(w);
    json_key(w, "EndpointsConfig");
    json_object_begin(w);
    if (net && *net && strcmp(net, "default") != 0 && strcmp(net, "host") != 0 &&
        strcmp(net, "none") != 0 && strncmp(net, "container:", 10) != 0 &&
        (f->network_alias.len || f->ip || f->ip6 || strcmp(net, "bridge") != 0)) {
        json_key(w, net);
        json_object_begin(w);
        if (f->ip || f->ip6) {
            json_key(w, "IPAMConfig");
            json_object_begin(w);
            if (f->ip)
                json_kv_string(w, "IPv4Address", f->ip);
            if (f->ip6)
                json_kv_string(w, "IPv6Address", f->ip6);
            json_object_end(w);
        }
        string_array(w, "Links", &f->link);
        string_array(w, "Aliases", &f->network_alias);
        json_object_end(w);
    }
    if (!net || !*net || strcmp(net, "default") == 0) {
        /* docker names the default network's (empty) endpoint too */
        json_key(w, "default");
        json_object_begin(w);
        json_object_end(w);
    }
    json_object_end(w);
    json_object_end(w);
}

int run_config_build(struct run_flags *f, char **args, size_t nargs, unsigned rows, unsigned cols,
                     struct strbuf *body, struct run_streams *streams, struct berr *err)
{
    struct json_writer w;
    const char *text;
    size_t len;
    int rc;

    if (parse_attach(f, streams, err) || check_conflicts(f, err))
        return err->code;
    rc = json_writer_init(&w, false, err);
    if (rc)
        return rc;
    json_object_begin(&w);
    rc = write_config(&w, f, args, nargs, streams, err);
    if (rc == 0)
        rc = write_host_config(&w, f, rows, cols, err);
    if (rc == 0) {
        write_networking(&w, f);
        json_object_end(&w);
        rc = json_writer_result(&w, &text, &len, err);
        if (rc == 0)
            sb_append(body, text, len);
    }
    json_writer_free(&w);
    return rc;
}
