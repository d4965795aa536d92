/*
 * cmd_stats: stats. One GET /containers/ID/stats?stream=0 per container per
 * refresh (the daemon fills precpu_stats, so one sample gives the CPU
 * rate), turned into docker's computed columns: CPU % from the usage
 * deltas, memory without the page cache (inactive_file), network and block
 * I/O sums. --no-stream prints once; otherwise the screen is redrawn about
 * every second until interrupted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "table.h"
#include "units.h"

struct stats_flags {
    bool all, no_stream, no_trunc;
    const char *format;
};

static double cpu_percent(yajl_val s)
{
    double cpu = (double)(jint(s, "cpu_stats.cpu_usage.total_usage") -
                          jint(s, "precpu_stats.cpu_usage.total_usage"));
    double system =
        (double)(jint(s, "cpu_stats.system_cpu_usage") - jint(s, "precpu_stats.system_cpu_usage"));
    double online = (double)jint(s, "cpu_stats.online_cpus");

    if (online == 0)
        online = (double)jlen(jget(s, "cpu_stats.cpu_usage.percpu_usage"));
    if (system > 0 && cpu > 0)
        return cpu / system * online * 100.0;
    return 0;
}

static int64_t memory_usage(yajl_val s)
{
    int64_t usage = jint(s, "memory_stats.usage");
    yajl_val v1 = jget(s, "memory_stats.stats.total_inactive_file");
    int64_t inactive = jint(s, "memory_stats.stats.inactive_file");

    if (v1 && jint(s, "memory_stats.stats.total_inactive_file") < usage)
        return usage - jint(s, "memory_stats.stats.total_inactive_file");
    if (inactive < usage)
        return usage - inactive;
    return usage;
}

static void io_sums(yajl_val s, int64_t *rx, int64_t *tx, int64_t *read, int64_t *write)
{
    yajl_val networks = jget(s, "networks");
    yajl_val blkio = jget(s, "blkio_stats.io_service_bytes_recursive");

    *rx = *tx = *read = *write = 0;
    for (size_t i = 0; networks && YAJL_IS_OBJECT(networks) && i < networks->u.object.len; i++) {
        *rx += jint(networks->u.object.values[i], "rx_bytes");
        *tx += jint(networks->u.object.values[i], "tx_bytes");
    }
    for (size_t i = 0; blkio && YAJL_IS_ARRAY(blkio) && i < blkio->u.array.len; i++) {
        const char *op = jstr(blkio->u.array.values[i], "op");

        if (strcasecmp(op, "read") == 0)
            *read += jint(blkio->u.array.values[i], "value");
        else if (strcasecmp(op, "write") == 0)
            *write += jint(blkio->u.array.values[i], "value");
    }
}

static yajl_val stats_row(yajl_val s, const char *container, bool trunc, struct berr *err)
{
    struct json_writer w;
    const char *text, *name = jstr(s, "name");
    size_t len;
    char a[32], b[32], buf[96];
    int64_t usage = memory_usage(s), limit = jint(s, "memory_stats.limit");
    int64_t rx, tx, read, write;
    yajl_val row = NULL;

    io_sums(s, &rx, &tx, &read, &write);
    if (json_writer_init(&w, false, err))
        return NULL;
    json_object_begin(&w);
    units_human_size((double)read, 3, a, sizeof(a));
    units_human_size((double)write, 3, b, sizeof(b));
    snprintf(buf, sizeof(buf), "%s / %s", a, b);
    json_kv_string(&w, "BlockIO", buf);
    snprintf(buf, sizeof(buf), "%.2f%%", cpu_percent(s));
    json_kv_string(&w, "CPUPerc", buf);
    json_kv_string(&w, "Container", container);
    snprintf(buf, sizeof(buf), "%.*s", trunc ? 12 : 100, jstr(s, "id"));
    json_kv_string(&w, "ID", buf);
    snprintf(buf, sizeof(buf), "%.2f%%", limit ? (double)usage / (double)limit * 100.0 : 0.0);
    json_kv_string(&w, "MemPerc", buf);
    units_bytes_size((double)usage, a, sizeof(a));
    units_bytes_size((double)limit, b, sizeof(b));
    snprintf(buf, sizeof(buf), "%s / %s", a, b);
    json_kv_string(&w, "MemUsage", buf);
    json_kv_string(&w, "Name", *name == '/' ? name + 1 : name);
    units_human_size((double)rx, 3, a, sizeof(a));
    units_human_size((double)tx, 3, b, sizeof(b));
    snprintf(buf, sizeof(buf), "%s / %s", a, b);
    json_kv_string(&w, "NetIO", buf);
    snprintf(buf, sizeof(buf), "%lld", (long long)jint(s, "pids_stats.current"));
    json_kv_string(&w, "PIDs", buf);
    json_object_end(&w);
    if (json_writer_result(&w, &text, &len, err) == 0)
        json_parse(text, &row, err);
    json_writer_free(&w);
    return row;
}

static const char *const stats_headers[] = {
    "ID",        "CONTAINER ID", "Container", "CONTAINER", "Name",
    "NAME",      "CPUPerc",      "CPU %",     "MemUsage",  "MEM USAGE / LIMIT",
    "MemPerc",   "MEM %",        "NetIO",     "NET I/O",   "BlockIO",
    "BLOCK I/O", "PIDs",         "PIDS",      NULL,
};

/* The containers to show: the arguments, or the running (all with -a) ones. */
static int pick_containers(struct api *api, struct stats_flags *f, struct strlist *args,
                           struct strlist *out, struct berr *err)
{
    yajl_val list = NULL;

    if (args->len) {
        for (size_t i = 0; i < args->len; i++)
            sl_push(out, args->items[i]);
        return 0;
    }
    if (api_get_json(api, f->all ? "/containers/json?all=1" : "/containers/json", &list, err))
        return err->code;
    for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
        char id[16];

        snprintf(id, sizeof(id), "%.12s", jstr(list->u.array.values[i], "Id"));
        sl_push(out, id);
    }
    yajl_tree_free(list);
    return 0;
}

static int sample(struct api *api, struct stats_flags *f, struct strlist *names, bool clear,
                  struct berr *err)
{
    struct list_spec spec = {"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t"
                             "{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
                             stats_headers, "*formatter.statsContext", NULL};
    yajl_val *rows = xcalloc(names->len + 1, sizeof(*rows));
    struct strbuf errors = STRBUF_INIT;
    size_t n = 0;
    int rc;

    for (size_t i = 0; i < names->len; i++) {
        struct strbuf path = STRBUF_INIT;
        yajl_val s = NULL;

        sb_puts(&path, "/containers/");
        api_segment(&path, names->items[i]);
        sb_puts(&path, "/stats?stream=0");
        if (api_get_json(api, sb_str(&path), &s, err) == 0) {
            if ((rows[n] = stats_row(s, names->items[i], !f->no_trunc, err)))
                n++;
            yajl_tree_free(s);
        } else {
            cli_collect_error(&errors, err);
        }
        sb_free(&path);
    }
    if (clear)
        fputs("\033[2J\033[H", stdout);
    rc = list_render(&spec, f->format, rows, n, stdout, err);
    for (size_t i = 0; i < n; i++)
        yajl_tree_free(rows[i]);
    free(rows);
    if (rc == 0 && errors.len) {
        berr_set(err, BERR_NOT_FOUND, "%s", sb_str(&errors));
        rc = err->code;
    }
    sb_free(&errors);
    return rc;
}

int cmd_stats(struct cli *cli, int argc, char **argv, struct berr *err)
{
    struct stats_flags f = {false, false, false, NULL};
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &f.all, "Show all containers (default shows just running)", NULL,
         NULL, false},
        {"format", 0, OPT_STRING, &f.format, "Format output using a custom template", NULL, NULL,
         false},
        {"no-stream", 0, OPT_BOOL, &f.no_stream,
         "Disable streaming stats and only pull the first "
         "result",
         NULL, NULL, false},
        {"no-trunc", 0, OPT_BOOL, &f.no_trunc, "Do not truncate output", NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {"stats [OPTIONS] [CONTAINER...]",
                                "Display a live stream of container(s) resource usage statistics",
                                opts,
                                true,
                                0,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strlist names = STRLIST_INIT;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (cli_api(cli, &api, err))
        goto out;
    for (;;) {
        sl_free(&names);
        if (pick_containers(api, &f, &parsed.args, &names, err))
            goto out;
        if (sample(api, &f, &names, !f.no_stream, err))
            goto out;
        if (f.no_stream)
            break;
        sleep(1);
    }
    status = 0;
out:
    sl_free(&names);
    opt_result_free(&parsed);
    return status;
}
