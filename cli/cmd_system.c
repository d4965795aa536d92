/*
 * cmd_system: version, info, events, system df and system prune: the
 * commands about the engine rather than one object. version and info lay
 * their text out like docker's templates (tabwriter columns for version,
 * docker's fixed indentation for info); both also take --format with the
 * same data docker's templates see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth_version.h"
#include "commands.h"
#include "format.h"
#include "json.h"
#include "streams.h"
#include "table.h"
#include "units.h"

#define OPT_NONE                                                                                   \
    {                                                                                              \
        NULL, 0, 0, NULL, NULL, NULL, NULL, false                                                  \
    }

/* Runs a --format template over one object and prints the line. */
static int print_formatted(const char *user_format, yajl_val data, const char *prefix,
                           struct berr *err)
{
    struct strbuf out = STRBUF_INIT;
    struct format *format = NULL;
    bool table;
    char *text =
        format_prepare(strcmp(user_format, "json") == 0 ? "{{json .}}" : user_format, &table);
    int rc = format_parse(text, &format, err);

    free(text);
    if (rc == 0)
        rc = format_exec(format, data, NULL, &out, err);
    if (rc == 0)
        puts(sb_str(&out));
    else
        berr_prefix(err, "%s", prefix);
    format_free(format);
    sb_free(&out);
    return rc;
}

static yajl_val parse_owned(struct strbuf *json)
{
    yajl_val tree = NULL;
    struct berr ignored;

    json_parse(sb_str(json), &tree, &ignored);
    return tree;
}

/* ---------------------------------------------------------------- version */

static void version_client_json(struct api *api, struct strbuf *out)
{
    sb_printf(out,
              "{\"Platform\":{\"Name\":\"\"},\"Version\":\"%s\",\"ApiVersion\":\"%s\","
              "\"DefaultAPIVersion\":\"%s\",\"GitCommit\":\"%s\",\"GoVersion\":\"\","
              "\"Os\":\"linux\",\"Arch\":\"%s\",\"BuildTime\":\"\",\"Context\":\"default\"}",
              BERTH_VERSION, api && api->negotiated ? api->version : API_CLIENT_VERSION,
              API_CLIENT_VERSION, BERTH_GIT_COMMIT,
#if defined(__x86_64__)
              "amd64"
#elif defined(__aarch64__)
              "arm64"
#else
              "unknown"
#endif
    );
}

static void version_client_text(struct tabwriter *tw, yajl_val client)
{
    const char *api = jstr(client, "ApiVersion");
    const char *def = jstr(client, "DefaultAPIVersion");
    char line[256];

    tabwriter_write(tw, "Client:\n");
    snprintf(line, sizeof(line), " Version:\t%s\n", jstr(client, "Version"));
    tabwriter_write(tw, line);
    snprintf(line, sizeof(line), " API version:\t%s%s%s%s\n", api,
             strcmp(api, def) ? " (downgraded from " : "", strcmp(api, def) ? def : "",
             strcmp(api, def) ? ")" : "");
    tabwriter_write(tw, line);
    snprintf(line, sizeof(line), " Git commit:\t%s\n", jstr(client, "GitCommit"));
    tabwriter_write(tw, line);
    snprintf(line, sizeof(line), " OS/Arch:\t%s/%s\n", jstr(client, "Os"), jstr(client, "Arch"));
    tabwriter_write(tw, line);
    snprintf(line, sizeof(line), " Context:\t%s\n", jstr(client, "Context"));
    tabwriter_write(tw, line);
}

static void version_component(struct tabwriter *tw, yajl_val c)
{
    yajl_val details = jget(c, "Details");
    char line[512];

    snprintf(line, sizeof(line), " %s:\n", jstr(c, "Name"));
    tabwriter_write(tw, line);
    if (strcmp(jstr(c, "Name"), "Engine") == 0) {
        const char *keys[][2] = {{"API version", "ApiVersion"},
                                 {"Go version", "GoVersion"},
                                 {"Git commit", "GitCommit"},
                                 {"Built", "BuildTime"}};

        snprintf(line, sizeof(line), "  Version:\t%s\n", jstr(c, "Version"));
        tabwriter_write(tw, line);
        for (size_t i = 0; i < 4; i++) {
            if (i == 0)
                snprintf(line, sizeof(line), "  API version:\t%s (minimum version %s)\n",
                         jstr(details, "ApiVersion"), jstr(details, "MinAPIVersion"));
            else
                snprintf(line, sizeof(line), "  %s:\t%s\n", keys[i][0], jstr(details, keys[i][1]));
            tabwriter_write(tw, line);
        }
        snprintf(line, sizeof(line), "  OS/Arch:\t%s/%s\n  Experimental:\t%s\n",
                 jstr(details, "Os"), jstr(details, "Arch"), jstr(details, "Experimental"));
        tabwriter_write(tw, line);
        return;
    }
    snprintf(line, sizeof(line), "  Version:\t%s\n", jstr(c, "Version"));
    tabwriter_write(tw, line);
    if (details && YAJL_IS_OBJECT(details)) {
        size_t *order = format_sorted_members(details);

        for (size_t i = 0; i < details->u.object.len; i++) {
            yajl_val v = details->u.object.values[order[i]];

            snprintf(line, sizeof(line), "  %s:\t%s\n", details->u.object.keys[order[i]],
                     v && YAJL_IS_STRING(v) ? v->u.string : "");
            tabwriter_write(tw, line);
        }
        free(order);
    }
}

int cmd_version(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *format = NULL;
    const struct opt opts[] = {
        {"format", 'f', OPT_STRING, &format, "Format output using a custom template", NULL, NULL,
         false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "version [OPTIONS]", "Show the berth version information", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf json = STRBUF_INIT;
    struct berr server_err;
    yajl_val server = NULL, data = NULL;
    struct api *api = NULL;
    struct tabwriter tw;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    berr_clear(&server_err);
    if (cli_api(cli, &api, &server_err) == 0)
        api_get_json(api, "/version", &server, &server_err);
    sb_puts(&json, "{\"Client\":");
    version_client_json(api, &json);
    sb_puts(&json, ",\"Server\":");
    if (server) {
        struct strbuf s = STRBUF_INIT;

        format_json_value(&s, server);
        sb_puts(&json, sb_str(&s));
        sb_free(&s);
    } else {
        sb_puts(&json, "null");
    }
    sb_putc(&json, '}');
    data = parse_owned(&json);
    status = 1;
    if (format && *format) {
        if (print_formatted(format, data, "template parsing error", err))
            goto out;
    } else {
        yajl_val components = jget(server, "Components");

        tabwriter_init(&tw, 20, 1);
        version_client_text(&tw, jget(data, "Client"));
        if (server) {
            tabwriter_write(&tw, "\nServer:\n");
            for (size_t i = 0; YAJL_IS_ARRAY(components) && i < components->u.array.len; i++)
                version_component(&tw, components->u.array.values[i]);
        }
        tabwriter_flush(&tw, stdout);
        tabwriter_free(&tw);
    }
    if (!server) {
        *err = server_err;
        goto out;
    }
    status = 0;
out:
    if (server)
        yajl_tree_free(server);
    if (data)
        yajl_tree_free(data);
    sb_free(&json);
    opt_result_free(&parsed);
    return status;
}

/* ---------------------------------------------------------------- info */

static void print_strings(const char *title, yajl_val list, const char *indent)
{
    if (!YAJL_IS_ARRAY(list) || !list->u.array.len)
        return;
    printf(" %s:\n", title);
    for (size_t i = 0; i < list->u.array.len; i++)
        if (YAJL_IS_STRING(list->u.array.values[i]))
            printf("%s%s\n", indent, list->u.array.values[i]->u.string);
}

static void print_joined(const char *title, yajl_val list)
{
    printf("  %s:", title);
    for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++)
        if (YAJL_IS_STRING(list->u.array.values[i]))
            printf(" %s", list->u.array.values[i]->u.string);
    printf("\n");
}

static void print_security_options(yajl_val options)
{
    if (!YAJL_IS_ARRAY(options) || !options->u.array.len)
        return;
    printf(" Security Options:\n");
    for (size_t i = 0; i < options->u.array.len; i++) {
        char buf[512];
        char *save = NULL;

        if (!YAJL_IS_STRING(options->u.array.values[i]))
            continue;
        snprintf(buf, sizeof(buf), "%s", options->u.array.values[i]->u.string);
        for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');

            if (!eq)
                continue;
            *eq = '\0';
            if (strcmp(kv, "name") == 0)
                printf("  %s\n", eq + 1);
            else
                printf("   %c%s: %s\n", kv[0] >= 'a' && kv[0] <= 'z' ? kv[0] - 32 : kv[0], kv + 1,
                       eq + 1);
        }
    }
}

static void print_server_info(yajl_val info)
{
    yajl_val status = jget(info, "DriverStatus");
    yajl_val runtimes = jget(info, "Runtimes");
    char memory[32];

    printf("Server:\n Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n",
           (long long)jint(info, "Containers"), (long long)jint(info, "ContainersRunning"),
           (long long)jint(info, "ContainersPaused"), (long long)jint(info, "ContainersStopped"));
    printf(" Images: %lld\n Server Version: %s\n", (long long)jint(info, "Images"),
           jstr(info, "ServerVersion"));
    printf(" Storage Driver: %s\n", jstr(info, "Driver"));
    for (size_t i = 0; YAJL_IS_ARRAY(status) && i < status->u.array.len; i++) {
        yajl_val pair = status->u.array.values[i];

        if (jlen(pair) == 2 && YAJL_IS_ARRAY(pair) && YAJL_IS_STRING(pair->u.array.values[0]) &&
            YAJL_IS_STRING(pair->u.array.values[1]))
            printf("  %s: %s\n", pair->u.array.values[0]->u.string,
                   pair->u.array.values[1]->u.string);
    }
    printf(" Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n",
           jstr(info, "LoggingDriver"), jstr(info, "CgroupDriver"), jstr(info, "CgroupVersion"));
    printf(" Plugins:\n");
    print_joined("Volume", jget(info, "Plugins.Volume"));
    print_joined("Network", jget(info, "Plugins.Network"));
    print_joined("Log", jget(info, "Plugins.Log"));
    printf(" Swarm: %s\n",
           *jstr(info, "Swarm.LocalNodeState") ? jstr(info, "Swarm.LocalNodeState") : "inactive");
    if (runtimes && YAJL_IS_OBJECT(runtimes)) {
        size_t *order = format_sorted_members(runtimes);

        printf(" Runtimes:");
        for (size_t i = 0; i < runtimes->u.object.len; i++)
            printf(" %s", runtimes->u.object.keys[order[i]]);
        printf("\n");
        free(order);
    }
    printf(" Default Runtime: %s\n", jstr(info, "DefaultRuntime"));
    printf(" Init Binary: %s\n", jstr(info, "InitBinary"));
    printf(" containerd version: %s\n runc version: %s\n init version: %s\n",
           jstr(info, "ContainerdCommit.ID"), jstr(info, "RuncCommit.ID"),
           jstr(info, "InitCommit.ID"));
    print_security_options(jget(info, "SecurityOptions"));
    printf(" Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n",
           jstr(info, "KernelVersion"), jstr(info, "OperatingSystem"), jstr(info, "OSType"),
           jstr(info, "Architecture"));
    units_bytes_size((double)jint(info, "MemTotal"), memory, sizeof(memory));
    printf(" CPUs: %lld\n Total Memory: %s\n Name: %s\n ID: %s\n", (long long)jint(info, "NCPU"),
           memory, jstr(info, "Name"), jstr(info, "ID"));
    printf(" Docker Root Dir: %s\n Debug Mode: %s\n", jstr(info, "DockerRootDir"),
           jbool(info, "Debug") ? "true" : "false");
    if (*jstr(info, "HttpProxy"))
        printf(" HTTP Proxy: %s\n", jstr(info, "HttpProxy"));
    if (*jstr(info, "HttpsProxy"))
        printf(" HTTPS Proxy: %s\n", jstr(info, "HttpsProxy"));
    if (*jstr(info, "NoProxy"))
        printf(" No Proxy: %s\n", jstr(info, "NoProxy"));
    print_strings("Labels", jget(info, "Labels"), "  ");
    printf(" Experimental: %s\n", jbool(info, "ExperimentalBuild") ? "true" : "false");
    print_strings("Insecure Registries", jget(info, "RegistryConfig.InsecureRegistryCIDRs"), "  ");
    print_strings("Registry Mirrors", jget(info, "RegistryConfig.Mirrors"), "  ");
    printf(" Live Restore Enabled: %s\n\n", jbool(info, "LiveRestoreEnabled") ? "true" : "false");
}

int cmd_info(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *format = NULL;
    const struct opt opts[] = {
        {"format", 'f', OPT_STRING, &format, "Format output using a custom template", NULL, NULL,
         false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "info [OPTIONS]", "Display system-wide information", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    yajl_val info = NULL, warnings;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (format && *format) {
        if (cli_api(cli, &api, err) || api_get_json(api, "/info", &info, err) ||
            print_formatted(format, info, "template parsing error", err))
            goto out;
        status = 0;
        goto out;
    }
    printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: %s\n\n", BERTH_VERSION,
           cli->debug ? "true" : "false");
    fflush(stdout);
    if (cli_api(cli, &api, err) || api_get_json(api, "/info", &info, err)) {
        fprintf(stdout, "Server:\n");
        goto out;
    }
    print_server_info(info);
    fflush(stdout);
    warnings = jget(info, "Warnings");
    for (size_t i = 0; YAJL_IS_ARRAY(warnings) && i < warnings->u.array.len; i++)
        if (YAJL_IS_STRING(warnings->u.array.values[i]))
            fprintf(stderr, "%s\n", warnings->u.array.values[i]->u.string);
    status = 0;
out:
    if (info)
        yajl_tree_free(info);
    opt_result_free(&parsed);
    return status;
}

/* ---------------------------------------------------------------- events */

struct events_ctx {
    struct format *format;
};

static void print_event(yajl_val e)
{
    yajl_val attrs = jget(e, "Actor.Attributes");
    char stamp[64];
    int64_t nanos = jint(e, "timeNano");

    if (!nanos)
        nanos = jint(e, "time") * 1000000000LL;
    if (nanos) {
        units_rfc3339_nano_fixed(nanos, stamp, sizeof(stamp));
        printf("%s ", stamp);
    }
    printf("%s %s %s", jstr(e, "Type"), jstr(e, "Action"), jstr(e, "Actor.ID"));
    if (attrs && YAJL_IS_OBJECT(attrs) && attrs->u.object.len) {
        size_t *order = format_sorted_members(attrs);

        printf(" (");
        for (size_t i = 0; i < attrs->u.object.len; i++) {
            yajl_val v = attrs->u.object.values[order[i]];

            printf("%s%s=%s", i ? ", " : "", attrs->u.object.keys[order[i]],
                   v && YAJL_IS_STRING(v) ? v->u.string : "");
        }
        printf(")");
        free(order);
    }
    printf("\n");
}

static int on_event(void *ctx, yajl_val event, struct berr *err)
{
    struct events_ctx *ec = ctx;

    if (ec->format) {
        struct strbuf out = STRBUF_INIT;
        int rc = format_exec(ec->format, event, NULL, &out, err);

        if (rc == 0)
            puts(sb_str(&out));
        sb_free(&out);
        if (rc)
            return rc;
    } else {
        print_event(event);
    }
    fflush(stdout);
    return 0;
}

static int add_stamp(struct strbuf *path, const char *key, const char *value, struct berr *err)
{
    char stamp[64];
    struct timespec now;

    if (!value || !*value)
        return 0;
    clock_gettime(CLOCK_REALTIME, &now);
    if (units_api_timestamp(value, now, stamp, sizeof(stamp), err))
        return err->code;
    api_query(path, key, stamp);
    return 0;
}

int cmd_events(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *since = NULL, *until = NULL, *format = NULL;
    struct strlist filters = STRLIST_INIT;
    const struct opt opts[] = {
        {"filter", 'f', OPT_LIST, &filters, "Filter output based on conditions provided", "filter",
         NULL, false},
        {"format", 0, OPT_STRING, &format, "Format output using a custom template", NULL, NULL,
         false},
        {"since", 0, OPT_STRING, &since, "Show all events created since timestamp", NULL, NULL,
         false},
        {"until", 0, OPT_STRING, &until, "Stream events until this timestamp", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "events [OPTIONS]", "Get real time events from the server", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct events_ctx ctx = {NULL};
    struct jsonlines lines = {STRBUF_INIT, on_event, &ctx};
    struct http_request request = {.method = "GET", .body_fd = -1};
    struct http_response response;
    struct strbuf path = STRBUF_INIT;
    char *filter_json = NULL;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (format && *format) {
        bool table;
        char *text = format_prepare(strcmp(format, "json") == 0 ? "{{json .}}" : format, &table);
        int rc = format_parse(text, &ctx.format, err);

        free(text);
        if (rc) {
            berr_prefix(err, "failed to parse template");
            goto out;
        }
    }
    sb_puts(&path, "/events");
    if (add_stamp(&path, "since", since, err) || add_stamp(&path, "until", until, err) ||
        api_filters_json(&filters, &filter_json, err))
        goto out;
    if (filter_json)
        api_query(&path, "filters", filter_json);
    request.path = sb_str(&path);
    request.sink = jsonlines_feed;
    request.sink_ctx = &lines;
    if (cli_api(cli, &api, err) || api_do(api, &request, &response, err))
        goto out;
    http_response_free(&response);
    if (jsonlines_finish(&lines, err))
        goto out;
    status = 0;
out:
    format_free(ctx.format);
    sb_free(&lines.partial);
    free(filter_json);
    sl_free(&filters);
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}

/* ---------------------------------------------------------------- df */

struct df_totals {
    const char *type;
    long long total, active;
    int64_t size, reclaimable;
    bool percent;
};

static yajl_val df_row(const struct df_totals *t)
{
    struct strbuf json = STRBUF_INIT;
    char size[32], reclaim[64];

    units_human_size((double)t->size, 4, size, sizeof(size));
    units_human_size((double)t->reclaimable, 4, reclaim, sizeof(reclaim));
    if (t->percent && t->size > 0) {
        size_t len = strlen(reclaim);

        snprintf(reclaim + len, sizeof(reclaim) - len, " (%lld%%)",
                 (long long)(t->reclaimable * 100 / t->size));
    }
    sb_printf(&json,
              "{\"Active\":\"%lld\",\"Reclaimable\":\"%s\",\"Size\":\"%s\",\"TotalCount\":\"%lld\","
              "\"Type\":\"%s\"}",
              t->active, reclaim, size, t->total, t->type);
    {
        yajl_val row = parse_owned(&json);

        sb_free(&json);
        return row;
    }
}

static void df_totals(yajl_val df, struct df_totals totals[4])
{
    yajl_val images = jget(df, "Images"), containers = jget(df, "Containers");
    yajl_val volumes = jget(df, "Volumes"), cache = jget(df, "BuildCache");
    int64_t used = 0;

    totals[0] =
        (struct df_totals){"Images", (long long)jlen(images), 0, jint(df, "LayersSize"), 0, true};
    for (size_t i = 0; YAJL_IS_ARRAY(images) && i < images->u.array.len; i++) {
        yajl_val image = images->u.array.values[i];

        if (jint(image, "Containers") > 0) {
            totals[0].active++;
            used += jint(image, "Size") -
                    (jint(image, "SharedSize") > 0 ? jint(image, "SharedSize") : 0);
        }
    }
    totals[0].reclaimable = totals[0].size - used > 0 ? totals[0].size - used : 0;
    totals[1] = (struct df_totals){"Containers", (long long)jlen(containers), 0, 0, 0, true};
    for (size_t i = 0; YAJL_IS_ARRAY(containers) && i < containers->u.array.len; i++) {
        yajl_val c = containers->u.array.values[i];

        totals[1].size += jint(c, "SizeRw");
        if (strcmp(jstr(c, "State"), "running") == 0)
            totals[1].active++;
        else
            totals[1].reclaimable += jint(c, "SizeRw");
    }
    totals[2] = (struct df_totals){"Local Volumes", (long long)jlen(volumes), 0, 0, 0, true};
    for (size_t i = 0; YAJL_IS_ARRAY(volumes) && i < volumes->u.array.len; i++) {
        yajl_val v = volumes->u.array.values[i];
        int64_t size = jint(v, "UsageData.Size");

        if (size > 0)
            totals[2].size += size;
        if (jint(v, "UsageData.RefCount") > 0)
            totals[2].active++;
        else if (size > 0)
            totals[2].reclaimable += size;
    }
    totals[3] = (struct df_totals){"Build Cache", (long long)jlen(cache), 0, 0, 0, false};
    for (size_t i = 0; YAJL_IS_ARRAY(cache) && i < cache->u.array.len; i++) {
        yajl_val b = cache->u.array.values[i];

        if (!jbool(b, "Shared"))
            totals[3].size += jint(b, "Size");
        if (jbool(b, "InUse"))
            totals[3].active++;
        else if (!jbool(b, "Shared"))
            totals[3].reclaimable += jint(b, "Size");
    }
}

static const char *const df_headers[] = {
    "Type", "TYPE", "TotalCount",  "TOTAL",       "Active", "ACTIVE",
    "Size", "SIZE", "Reclaimable", "RECLAIMABLE", NULL,
};

int cmd_system_df(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *format = NULL;
    bool verbose = false;
    const struct opt opts[] = {
        {"format", 0, OPT_STRING, &format, "Format output using a custom template", NULL, NULL,
         false},
        {"verbose", 'v', OPT_BOOL, &verbose, "Show detailed information on space usage", NULL, NULL,
         false},
        OPT_NONE,
    };
    struct command_spec spec = {"system df [OPTIONS]", "Show berth disk usage", opts, true, 0, 0};
    struct list_spec list = {"table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t"
                             "{{.Reclaimable}}",
                             df_headers, "*formatter.diskUsageImagesContext", NULL};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct df_totals totals[4];
    yajl_val df = NULL, rows[4] = {NULL, NULL, NULL, NULL};
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (verbose) {
        berr_set(err, BERR_UNSUPPORTED, "berth: system df --verbose is not supported yet");
        goto out;
    }
    if (cli_api(cli, &api, err) || api_get_json(api, "/system/df", &df, err))
        goto out;
    df_totals(df, totals);
    for (int i = 0; i < 4; i++)
        rows[i] = df_row(&totals[i]);
    status = list_render(&list, format, rows, 4, stdout, err) ? 1 : 0;
out:
    for (int i = 0; i < 4; i++)
        if (rows[i])
            yajl_tree_free(rows[i]);
    if (df)
        yajl_tree_free(df);
    opt_result_free(&parsed);
    return status;
}

/* ---------------------------------------------------------------- prune */

static int prune_one(struct api *api, const char *what, const char *filters, yajl_val *out,
                     struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    int rc;

    sb_printf(&path, "/%s/prune", what);
    if (filters)
        api_query(&path, "filters", filters);
    rc = api_call_json(api, "POST", sb_str(&path), NULL, out, err);
    sb_free(&path);
    return rc;
}

int cmd_system_prune(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool all = false, force = false, volumes = false;
    struct strlist filters = STRLIST_INIT, image_filters = STRLIST_INIT;
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &all, "Remove all unused images not just dangling ones", NULL, NULL,
         false},
        {"filter", 0, OPT_LIST, &filters, "Provide filter values (e.g. \"label=<key>=<value>\")",
         "filter", NULL, false},
        {"force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation", NULL, NULL, false},
        {"volumes", 0, OPT_BOOL, &volumes, "Prune anonymous volumes", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {"system prune [OPTIONS]", "Remove unused data", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf warning = STRBUF_INIT;
    char *filter_json = NULL, *image_json = NULL, size[32];
    int64_t reclaimed = 0;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    for (size_t i = 0; i < filters.len; i++)
        sl_push(&image_filters, filters.items[i]);
    sl_push(&image_filters, all ? "dangling=false" : "dangling=true");
    if (api_filters_json(&filters, &filter_json, err) ||
        api_filters_json(&image_filters, &image_json, err))
        goto out;
    sb_puts(&warning, "WARNING! This will remove:\n  - all stopped containers\n"
                      "  - all networks not used by at least one container\n");
    if (volumes)
        sb_puts(&warning, "  - all anonymous volumes not used by at least one container\n");
    sb_puts(&warning, all ? "  - all images without at least one container associated to them\n"
                          : "  - all dangling images\n");
    sb_puts(&warning, "  - unused build cache\n");
    if (!force && !cli_confirm(sb_str(&warning))) {
        status = 0;
        goto out;
    }
    if (cli_api(cli, &api, err))
        goto out;
    {
        const struct {
            const char *what, *key, *title;
            bool images, skip;
        } steps[] = {
            {"containers", "ContainersDeleted", "Deleted Containers", false, false},
            {"networks", "NetworksDeleted", "Deleted Networks", false, false},
            {"volumes", "VolumesDeleted", "Deleted Volumes", false, !volumes},
            {"images", "ImagesDeleted", "Deleted Images", true, false},
            {"build", "CachesDeleted", "Deleted build cache objects", false, false},
        };

        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
            yajl_val answer = NULL;

            if (steps[i].skip)
                continue;
            if (prune_one(api, steps[i].what, steps[i].images ? image_json : filter_json, &answer,
                          err)) {
                if (err->code == BERR_NOT_FOUND || err->code == BERR_UNSUPPORTED)
                    continue; /* an engine without that kind of object */
                goto out;
            }
            cli_print_prune(answer, steps[i].key, steps[i].title, steps[i].images);
            reclaimed += jint(answer, "SpaceReclaimed");
            if (answer)
                yajl_tree_free(answer);
        }
    }
    berr_clear(err);
    units_human_size((double)reclaimed, 3, size, sizeof(size));
    printf("Total reclaimed space: %s\n", size);
    status = 0;
out:
    free(filter_json);
    free(image_json);
    sb_free(&warning);
    sl_free(&filters);
    sl_free(&image_filters);
    opt_result_free(&parsed);
    return status;
}
