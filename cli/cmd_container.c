/*
 * cmd_container: the container commands that are one request per
 * container (stop, kill, restart, rm, pause, unpause, wait), plus rename,
 * port, top, update, export, prune and inspect. The one-request commands
 * share a loop: print the name given on success, collect each failure, and
 * report them all at the end with status 1, as the docker CLI does.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "format.h"
#include "json.h"
#include "streams.h"
#include "table.h"
#include "terminal.h"
#include "units.h"

#define OPT_NONE                                                                                   \
    {                                                                                              \
        NULL, 0, 0, NULL, NULL, NULL, NULL, false                                                  \
    }

/* POST/DELETE one container; path = /containers/ID + suffix + query. */
static int container_call(struct api *api, const char *method, const char *id, const char *suffix,
                          const char *query, yajl_val *answer, struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    int rc;

    sb_puts(&path, "/containers/");
    api_segment(&path, id);
    sb_puts(&path, suffix);
    sb_puts(&path, query ? query : "");
    rc = api_call_json(api, method, sb_str(&path), NULL, answer, err);
    sb_free(&path);
    return rc;
}

struct each {
    const char *method;
    const char *suffix;
    const char *query;
    bool print_status; /* wait: print StatusCode instead of the name */
};

static int for_each_container(struct cli *cli, const struct each *each, struct strlist *names,
                              struct berr *err)
{
    struct strbuf errors = STRBUF_INIT;
    struct api *api;

    if (cli_api(cli, &api, err))
        return 1;
    for (size_t i = 0; i < names->len; i++) {
        yajl_val answer = NULL;

        if (container_call(api, each->method, names->items[i], each->suffix, each->query,
                           each->print_status ? &answer : NULL, err)) {
            cli_collect_error(&errors, err);
            continue;
        }
        if (each->print_status)
            printf("%lld\n", (long long)jint(answer, "StatusCode"));
        else
            printf("%s\n", names->items[i]);
        fflush(stdout);
        if (answer)
            yajl_tree_free(answer);
    }
    berr_clear(err);
    return cli_collected_status(&errors, err);
}

/* Parses, then runs one request per container. */
static int simple_command(struct cli *cli, const struct command_spec *spec, int argc, char **argv,
                          struct each *each, struct berr *err)
{
    struct opt_result parsed = {STRLIST_INIT, false};
    int status = cli_parse(cli, spec, argc, argv, &parsed, err);

    if (status < 0)
        status = for_each_container(cli, each, &parsed.args, err);
    opt_result_free(&parsed);
    return status;
}

static int stop_or_restart(struct cli *cli, int argc, char **argv, bool restart, struct berr *err)
{
    long long timeout = 0;
    bool timeout_set = false;
    const char *signal = NULL;
    const struct opt opts[] = {
        {"signal", 's', OPT_STRING, &signal, "Signal to send to the container", NULL, NULL, false},
        {"time", 't', OPT_INT, &timeout, "Seconds to wait before killing the container", NULL,
         &timeout_set, false},
        {"timeout", 0, OPT_INT, &timeout, "Seconds to wait before killing the container", NULL,
         &timeout_set, true},
        OPT_NONE,
    };
    struct command_spec spec = {restart ? "restart [OPTIONS] CONTAINER [CONTAINER...]"
                                        : "stop [OPTIONS] CONTAINER [CONTAINER...]",
                                restart ? "Restart one or more containers"
                                        : "Stop one or more running containers",
                                opts,
                                true,
                                1,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf query = STRBUF_INIT;
    struct each each = {"POST", restart ? "/restart" : "/stop", NULL, false};
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status < 0) {
        if (timeout_set) {
            char number[32];

            snprintf(number, sizeof(number), "%lld", timeout);
            api_query(&query, "t", number);
        }
        if (signal && *signal)
            api_query(&query, "signal", signal);
        each.query = sb_str(&query);
        status = for_each_container(cli, &each, &parsed.args, err);
    }
    sb_free(&query);
    opt_result_free(&parsed);
    return status;
}

int cmd_stop(struct cli *cli, int argc, char **argv, struct berr *err)
{
    return stop_or_restart(cli, argc, argv, false, err);
}

int cmd_restart(struct cli *cli, int argc, char **argv, struct berr *err)
{
    return stop_or_restart(cli, argc, argv, true, err);
}

int cmd_kill(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *signal = NULL;
    const struct opt opts[] = {
        {"signal", 's', OPT_STRING, &signal, "Signal to send to the container", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {"kill [OPTIONS] CONTAINER [CONTAINER...]",
                                "Kill one or more running containers",
                                opts,
                                true,
                                1,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf query = STRBUF_INIT;
    struct each each = {"POST", "/kill", NULL, false};
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status < 0) {
        if (signal && *signal)
            api_query(&query, "signal", signal);
        each.query = sb_str(&query);
        status = for_each_container(cli, &each, &parsed.args, err);
    }
    sb_free(&query);
    opt_result_free(&parsed);
    return status;
}

int cmd_rm(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool force = false, volumes = false, link = false;
    const struct opt opts[] = {
        {"force", 'f', OPT_BOOL, &force,
         "Force the removal of a running container (uses "
         "SIGKILL)",
         NULL, NULL, false},
        {"link", 'l', OPT_BOOL, &link, "Remove the specified link", NULL, NULL, false},
        {"volumes", 'v', OPT_BOOL, &volumes,
         "Remove anonymous volumes associated with the "
         "container",
         NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {"rm [OPTIONS] CONTAINER [CONTAINER...]",
                                "Remove one or more containers",
                                opts,
                                true,
                                1,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf query = STRBUF_INIT;
    struct each each = {"DELETE", "", NULL, false};
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status < 0) {
        if (force)
            api_query(&query, "force", "1");
        if (volumes)
            api_query(&query, "v", "1");
        if (link)
            api_query(&query, "link", "1");
        each.query = sb_str(&query);
        status = for_each_container(cli, &each, &parsed.args, err);
    }
    sb_free(&query);
    opt_result_free(&parsed);
    return status;
}

int cmd_pause(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct opt opts[] = {OPT_NONE};
    struct command_spec spec = {"pause CONTAINER [CONTAINER...]",
                                "Pause all processes within one or more containers",
                                opts,
                                true,
                                1,
                                -1};
    struct each each = {"POST", "/pause", NULL, false};

    return simple_command(cli, &spec, argc, argv, &each, err);
}

int cmd_unpause(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct opt opts[] = {OPT_NONE};
    struct command_spec spec = {"unpause CONTAINER [CONTAINER...]",
                                "Unpause all processes within one or more containers",
                                opts,
                                true,
                                1,
                                -1};
    struct each each = {"POST", "/unpause", NULL, false};

    return simple_command(cli, &spec, argc, argv, &each, err);
}

int cmd_wait(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct opt opts[] = {OPT_NONE};
    struct command_spec spec = {"wait CONTAINER [CONTAINER...]",
                                "Block until one or more containers stop, then print their exit "
                                "codes",
                                opts,
                                true,
                                1,
                                -1};
    struct each each = {"POST", "/wait", NULL, true};

    return simple_command(cli, &spec, argc, argv, &each, err);
}

int cmd_rename(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct opt opts[] = {OPT_NONE};
    struct command_spec spec = {
        "rename CONTAINER NEW_NAME", "Rename a container", opts, true, 2, 2};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf query = STRBUF_INIT;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (!*parsed.args.items[0] || !*parsed.args.items[1]) {
        berr_set(err, BERR_INVALID, "Error: Neither old nor new names may be empty");
        goto out;
    }
    api_query(&query, "name", parsed.args.items[1]);
    if (cli_api(cli, &api, err) ||
        container_call(api, "POST", parsed.args.items[0], "/rename", sb_str(&query), NULL, err))
        goto out;
    status = 0;
out:
    sb_free(&query);
    opt_result_free(&parsed);
    return status;
}

static int get_container(struct api *api, const char *name, bool size, yajl_val *out,
                         struct berr *err)
{
    int rc = container_call(api, "GET", name, "/json", size ? "?size=1" : NULL, out, err);

    if (rc == 0 && !*out)
        rc = berr_set(err, BERR_IO, "the daemon sent an empty answer");
    return rc;
}

/* "80/tcp -> 0.0.0.0:8080" (with_port) or "0.0.0.0:8080"; IPv6 in brackets. */
static void format_binding(struct strbuf *out, const char *port, yajl_val binding, bool with_port)
{
    const char *ip = jstr(binding, "HostIp");

    if (with_port)
        sb_printf(out, "%s -> ", port);
    if (strchr(ip, ':'))
        sb_printf(out, "[%s]:%s", ip, jstr(binding, "HostPort"));
    else
        sb_printf(out, "%s:%s", *ip ? ip : "0.0.0.0", jstr(binding, "HostPort"));
}

/* sortorder.NaturalLess: digit runs compare as numbers. */
static int natural_compare(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;

    while (*x && *y) {
        if (isdigit((unsigned char)*x) && isdigit((unsigned char)*y)) {
            char *xe, *ye;
            unsigned long long xn = strtoull(x, &xe, 10), yn = strtoull(y, &ye, 10);

            if (xn != yn)
                return xn < yn ? -1 : 1;
            x = xe;
            y = ye;
            continue;
        }
        if (*x != *y)
            return (unsigned char)*x < (unsigned char)*y ? -1 : 1;
        x++;
        y++;
    }
    return *x ? 1 : *y ? -1 : 0;
}

static void print_sorted(struct strlist *lines)
{
    if (lines->len)
        qsort(lines->items, lines->len, sizeof(char *), natural_compare);
    for (size_t i = 0; i < lines->len; i++)
        printf("%s\n", lines->items[i]);
}

int cmd_port(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct opt opts[] = {OPT_NONE};
    struct command_spec spec = {"port CONTAINER [PRIVATE_PORT[/PROTO]]",
                                "List port mappings or a specific mapping for the container",
                                opts,
                                true,
                                1,
                                2};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strlist lines = STRLIST_INIT;
    struct strbuf line = STRBUF_INIT;
    yajl_val info = NULL, ports;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (cli_api(cli, &api, err) || get_container(api, parsed.args.items[0], false, &info, err))
        goto out;
    ports = jget(info, "NetworkSettings.Ports");
    if (parsed.args.len == 2) {
        char key[64];
        yajl_val bindings;

        snprintf(key, sizeof(key), "%s%s", parsed.args.items[1],
                 strchr(parsed.args.items[1], '/') ? "" : "/tcp");
        bindings = jget(ports, key);
        if (!bindings || jlen(bindings) == 0 || !YAJL_IS_ARRAY(bindings)) {
            berr_set(err, BERR_NOT_FOUND, "Error: No public port '%s' published for %s",
                     parsed.args.items[1], parsed.args.items[0]);
            goto out;
        }
        for (size_t i = 0; i < bindings->u.array.len; i++) {
            sb_reset(&line);
            format_binding(&line, key, bindings->u.array.values[i], false);
            sl_push(&lines, sb_str(&line));
        }
    } else if (ports && YAJL_IS_OBJECT(ports)) {
        for (size_t i = 0; i < ports->u.object.len; i++) {
            yajl_val bindings = ports->u.object.values[i];

            for (size_t j = 0; YAJL_IS_ARRAY(bindings) && j < bindings->u.array.len; j++) {
                sb_reset(&line);
                format_binding(&line, ports->u.object.keys[i], bindings->u.array.values[j], true);
                sl_push(&lines, sb_str(&line));
            }
        }
    }
    print_sorted(&lines);
    status = 0;
out:
    if (info)
        yajl_tree_free(info);
    sl_free(&lines);
    sb_free(&line);
    opt_result_free(&parsed);
    return status;
}

int cmd_top(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct opt opts[] = {OPT_NONE};
    struct command_spec spec = {"top CONTAINER [ps OPTIONS]",
                                "Display the running processes of a container",
                                opts,
                                false,
                                1,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf query = STRBUF_INIT, ps_args = STRBUF_INIT;
    struct tabwriter tw;
    yajl_val answer = NULL, titles, processes;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    for (size_t i = 1; i < parsed.args.len; i++) {
        if (i > 1)
            sb_putc(&ps_args, ' ');
        sb_puts(&ps_args, parsed.args.items[i]);
    }
    if (ps_args.len)
        api_query(&query, "ps_args", sb_str(&ps_args));
    if (cli_api(cli, &api, err) ||
        container_call(api, "GET", parsed.args.items[0], "/top", sb_str(&query), &answer, err))
        goto out;
    titles = jget(answer, "Titles");
    processes = jget(answer, "Processes");
    tabwriter_init(&tw, 20, 3);
    for (size_t i = 0; i < jlen(titles) && YAJL_IS_ARRAY(titles); i++) {
        tabwriter_write(&tw, i ? "\t" : "");
        tabwriter_write(&tw, YAJL_IS_STRING(titles->u.array.values[i])
                                 ? titles->u.array.values[i]->u.string
                                 : "");
    }
    tabwriter_write(&tw, "\n");
    for (size_t i = 0; i < jlen(processes) && YAJL_IS_ARRAY(processes); i++) {
        yajl_val row = processes->u.array.values[i];

        for (size_t j = 0; j < jlen(row) && YAJL_IS_ARRAY(row); j++) {
            tabwriter_write(&tw, j ? "\t" : "");
            tabwriter_write(&tw, YAJL_IS_STRING(row->u.array.values[j])
                                     ? row->u.array.values[j]->u.string
                                     : "");
        }
        tabwriter_write(&tw, "\n");
    }
    tabwriter_flush(&tw, stdout);
    tabwriter_free(&tw);
    status = 0;
out:
    if (answer)
        yajl_tree_free(answer);
    sb_free(&query);
    sb_free(&ps_args);
    opt_result_free(&parsed);
    return status;
}

struct update_flags {
    long long blkio_weight, cpu_period, cpu_quota, cpu_rt_period, cpu_rt_runtime, cpu_shares,
        pids_limit;
    bool blkio_set, period_set, quota_set, rt_period_set, rt_runtime_set, shares_set, pids_set;
    const char *cpus, *cpuset_cpus, *cpuset_mems, *memory, *memory_reservation, *memory_swap,
        *restart;
};

static int bytes_value(const char *flag, const char *text, int64_t *out, struct berr *err)
{
    if (strcmp(text, "-1") == 0) {
        *out = -1;
        return 0;
    }
    if (units_ram_in_bytes(text, out, err))
        return berr_set(err, BERR_INVALID, "invalid argument \"%s\" for \"%s\" flag: %s", text,
                        flag, err->message);
    return 0;
}

static int update_body(struct update_flags *u, struct strbuf *body, bool *any, struct berr *err)
{
    struct json_writer w;
    const char *text;
    size_t len;
    int64_t bytes;
    int rc = json_writer_init(&w, false, err);

    if (rc)
        return rc;
    *any = false;
    json_object_begin(&w);
#define INT_FIELD(set, key, value)                                                                 \
    if (set) {                                                                                     \
        json_kv_int(&w, key, value);                                                               \
        *any = true;                                                                               \
    }
    INT_FIELD(u->blkio_set, "BlkioWeight", u->blkio_weight)
    INT_FIELD(u->period_set, "CpuPeriod", u->cpu_period)
    INT_FIELD(u->quota_set, "CpuQuota", u->cpu_quota)
    INT_FIELD(u->rt_period_set, "CpuRealtimePeriod", u->cpu_rt_period)
    INT_FIELD(u->rt_runtime_set, "CpuRealtimeRuntime", u->cpu_rt_runtime)
    INT_FIELD(u->shares_set, "CpuShares", u->cpu_shares)
    INT_FIELD(u->pids_set, "PidsLimit", u->pids_limit)
#undef INT_FIELD
    if (u->cpus) {
        char *end;
        double cpus = strtod(u->cpus, &end);

        if (*end || !*u->cpus) {
            json_writer_free(&w);
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"--cpus\" flag: "
                            "failed to parse %s as a rational number",
                            u->cpus, u->cpus);
        }
        json_kv_int(&w, "NanoCpus", (int64_t)(cpus * 1e9 + 0.5));
        *any = true;
    }
    if (u->cpuset_cpus)
        json_kv_string(&w, "CpusetCpus", u->cpuset_cpus), *any = true;
    if (u->cpuset_mems)
        json_kv_string(&w, "CpusetMems", u->cpuset_mems), *any = true;
    {
        const char *flags[] = {"-m, --memory", "--memory-reservation", "--memory-swap"};
        const char *keys[] = {"Memory", "MemoryReservation", "MemorySwap"};
        const char *values[] = {u->memory, u->memory_reservation, u->memory_swap};

        for (int i = 0; i < 3; i++) {
            if (!values[i])
                continue;
            if (bytes_value(flags[i], values[i], &bytes, err)) {
                json_writer_free(&w);
                return err->code;
            }
            json_kv_int(&w, keys[i], bytes);
            *any = true;
        }
    }
    if (u->restart) {
        /* passed through: the daemon judges the policy, as with docker */
        const char *colon = strchr(u->restart, ':');
        char *name =
            colon ? xstrndup(u->restart, (size_t)(colon - u->restart)) : xstrdup(u->restart);

        json_key(&w, "RestartPolicy");
        json_object_begin(&w);
        json_kv_string(&w, "Name", name);
        json_kv_int(&w, "MaximumRetryCount", colon ? strtol(colon + 1, NULL, 10) : 0);
        json_object_end(&w);
        free(name);
        *any = true;
    }
    json_object_end(&w);
    rc = json_writer_result(&w, &text, &len, err);
    if (rc == 0)
        sb_append(body, text, len);
    json_writer_free(&w);
    return rc;
}

int cmd_update(struct cli *cli, int argc, char **argv, struct berr *err)
{
    struct update_flags u = {0};
    const struct opt opts[] = {
        {"blkio-weight", 0, OPT_INT, &u.blkio_weight,
         "Block IO (relative weight), between 10 "
         "and 1000, or 0 to disable",
         "uint16", &u.blkio_set, false},
        {"cpu-period", 0, OPT_INT, &u.cpu_period,
         "Limit CPU CFS (Completely Fair Scheduler) "
         "period",
         NULL, &u.period_set, false},
        {"cpu-quota", 0, OPT_INT, &u.cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota",
         NULL, &u.quota_set, false},
        {"cpu-rt-period", 0, OPT_INT, &u.cpu_rt_period,
         "Limit the CPU real-time period in "
         "microseconds",
         NULL, &u.rt_period_set, false},
        {"cpu-rt-runtime", 0, OPT_INT, &u.cpu_rt_runtime,
         "Limit the CPU real-time runtime in "
         "microseconds",
         NULL, &u.rt_runtime_set, false},
        {"cpu-shares", 'c', OPT_INT, &u.cpu_shares, "CPU shares (relative weight)", NULL,
         &u.shares_set, false},
        {"cpus", 0, OPT_STRING, &u.cpus, "Number of CPUs", "decimal", NULL, false},
        {"cpuset-cpus", 0, OPT_STRING, &u.cpuset_cpus,
         "CPUs in which to allow execution (0-3, "
         "0,1)",
         NULL, NULL, false},
        {"cpuset-mems", 0, OPT_STRING, &u.cpuset_mems,
         "MEMs in which to allow execution (0-3, "
         "0,1)",
         NULL, NULL, false},
        {"memory", 'm', OPT_STRING, &u.memory, "Memory limit", "bytes", NULL, false},
        {"memory-reservation", 0, OPT_STRING, &u.memory_reservation, "Memory soft limit", "bytes",
         NULL, false},
        {"memory-swap", 0, OPT_STRING, &u.memory_swap,
         "Swap limit equal to memory plus swap: "
         "-1 to enable unlimited swap",
         "bytes", NULL, false},
        {"pids-limit", 0, OPT_INT, &u.pids_limit,
         "Tune container pids limit (set -1 for "
         "unlimited)",
         NULL, &u.pids_set, false},
        {"restart", 0, OPT_STRING, &u.restart, "Restart policy to apply when a container exits",
         NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {"update [OPTIONS] CONTAINER [CONTAINER...]",
                                "Update configuration of one or more containers",
                                opts,
                                true,
                                1,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf body = STRBUF_INIT, errors = STRBUF_INIT;
    struct api *api;
    bool any;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (update_body(&u, &body, &any, err))
        goto out;
    if (!any) {
        berr_set(err, BERR_INVALID, "you must provide one or more flags when using this command");
        goto out;
    }
    if (cli_api(cli, &api, err))
        goto out;
    for (size_t i = 0; i < parsed.args.len; i++) {
        struct strbuf path = STRBUF_INIT;
        yajl_val answer = NULL, warnings;

        sb_puts(&path, "/containers/");
        api_segment(&path, parsed.args.items[i]);
        sb_puts(&path, "/update");
        if (api_call_json(api, "POST", sb_str(&path), sb_str(&body), &answer, err)) {
            cli_collect_error(&errors, err);
        } else {
            warnings = jget(answer, "Warnings");
            for (size_t j = 0; YAJL_IS_ARRAY(warnings) && j < warnings->u.array.len; j++)
                if (YAJL_IS_STRING(warnings->u.array.values[j]))
                    fprintf(stderr, "%s\n", warnings->u.array.values[j]->u.string);
            printf("%s\n", parsed.args.items[i]);
        }
        if (answer)
            yajl_tree_free(answer);
        sb_free(&path);
    }
    berr_clear(err);
    status = cli_collected_status(&errors, err);
out:
    sb_free(&body);
    opt_result_free(&parsed);
    return status;
}

static int write_to_fd(void *ctx, const char *data, size_t len, struct berr *err)
{
    return write_all_fd(*(int *)ctx, data, len, err);
}

/* Streams GET path into -o FILE or stdout (never a terminal). */
int cli_download(struct api *api, const char *path, const char *output, struct berr *err)
{
    struct http_request request = {.method = "GET", .path = path, .body_fd = -1};
    struct http_response response;
    int fd = STDOUT_FILENO;
    int rc;

    if (output && *output && strcmp(output, "-") != 0) {
        fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            return berr_errno(err, errno, "failed to export container: open %s", output);
    } else if (term_is_tty(STDOUT_FILENO)) {
        return berr_set(err, BERR_INVALID,
                        "cowardly refusing to save to a terminal. Use the -o "
                        "flag or redirect");
    }
    request.sink = write_to_fd;
    request.sink_ctx = &fd;
    rc = api_do(api, &request, &response, err);
    if (rc == 0)
        http_response_free(&response);
    if (fd != STDOUT_FILENO)
        close(fd);
    return rc;
}

int cmd_export(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *output = NULL;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &output, "Write to a file, instead of STDOUT", NULL, NULL,
         false},
        OPT_NONE,
    };
    struct command_spec spec = {"export [OPTIONS] CONTAINER",
                                "Export a container's filesystem as a tar archive",
                                opts,
                                true,
                                1,
                                1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    sb_puts(&path, "/containers/");
    api_segment(&path, parsed.args.items[0]);
    sb_puts(&path, "/export");
    status = cli_api(cli, &api, err) || cli_download(api, sb_str(&path), output, err) ? 1 : 0;
out:
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}

/* "Deleted Containers:\nID\n...\n\nTotal reclaimed space: 0B" */
void cli_print_prune(yajl_val answer, const char *key, const char *title, bool image_entries)
{
    yajl_val deleted = jget(answer, key);

    if (!YAJL_IS_ARRAY(deleted) || !deleted->u.array.len)
        return;
    printf("%s:\n", title);
    for (size_t i = 0; i < deleted->u.array.len; i++) {
        yajl_val item = deleted->u.array.values[i];

        if (image_entries) {
            if (*jstr(item, "Untagged"))
                printf("untagged: %s\n", jstr(item, "Untagged"));
            if (*jstr(item, "Deleted"))
                printf("deleted: %s\n", jstr(item, "Deleted"));
        } else if (YAJL_IS_STRING(item)) {
            printf("%s\n", item->u.string);
        }
    }
    printf("\n");
}

int cmd_container_prune(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool force = false;
    struct strlist filters = STRLIST_INIT;
    const struct opt opts[] = {
        {"filter", 0, OPT_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")",
         "filter", NULL, false},
        {"force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "container prune [OPTIONS]", "Remove all stopped containers", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    yajl_val answer = NULL;
    char *filter_json = NULL, size[32];
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (api_filters_json(&filters, &filter_json, err))
        goto out;
    if (!force && !cli_confirm("WARNING! This will remove all stopped containers.")) {
        status = 0;
        goto out;
    }
    sb_puts(&path, "/containers/prune");
    if (filter_json)
        api_query(&path, "filters", filter_json);
    if (cli_api(cli, &api, err) || api_call_json(api, "POST", sb_str(&path), NULL, &answer, err))
        goto out;
    cli_print_prune(answer, "ContainersDeleted", "Deleted Containers", false);
    units_human_size((double)jint(answer, "SpaceReclaimed"), 3, size, sizeof(size));
    printf("Total reclaimed space: %s\n", size);
    status = 0;
out:
    if (answer)
        yajl_tree_free(answer);
    free(filter_json);
    sb_free(&path);
    sl_free(&filters);
    opt_result_free(&parsed);
    return status;
}
