/*
 * cmd_logs: logs. The container's Config.Tty decides how the body is read:
 * raw with a TTY, demultiplexed frames without (stdout frames to stdout,
 * stderr frames to stderr), streamed as it arrives so -f shows lines as
 * the container writes them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "streams.h"
#include "units.h"

struct logs_sink {
    bool tty;
    struct demux demux;
    struct output_sink out;
};

static int logs_write(void *ctx, const char *data, size_t len, struct berr *err)
{
    struct logs_sink *sink = ctx;

    if (sink->tty)
        return write_all_fd(STDOUT_FILENO, data, len, err);
    return demux_feed(&sink->demux, data, len, output_sink_write, &sink->out, err);
}

static int add_time(struct strbuf *path, const char *key, const char *value, struct berr *err)
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

int cmd_logs(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool details = false, follow = false, timestamps = false;
    const char *since = NULL, *until = NULL, *tail = "all";
    const struct opt opts[] = {
        {"details", 0, OPT_BOOL, &details, "Show extra details provided to logs", NULL, NULL,
         false},
        {"follow", 'f', OPT_BOOL, &follow, "Follow log output", NULL, NULL, false},
        {"since", 0, OPT_STRING, &since,
         "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") "
         "or relative (e.g. \"42m\" for 42 minutes)",
         NULL, NULL, false},
        {"tail", 'n', OPT_STRING, &tail,
         "Number of lines to show from the end of the logs "
         "(default \"all\")",
         NULL, NULL, false},
        {"timestamps", 't', OPT_BOOL, &timestamps, "Show timestamps", NULL, NULL, false},
        {"until", 0, OPT_STRING, &until,
         "Show logs before a timestamp (e.g. "
         "\"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)",
         NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {
        "logs [OPTIONS] CONTAINER", "Fetch the logs of a container", opts, true, 1, 1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    struct logs_sink sink = {false, {{0}, 0, 0, 0}, {STDOUT_FILENO, STDERR_FILENO, STRBUF_INIT}};
    struct http_request request = {.method = "GET", .body_fd = -1};
    struct http_response response;
    yajl_val info = NULL;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    sb_puts(&path, "/containers/");
    api_segment(&path, parsed.args.items[0]);
    sb_puts(&path, "/json");
    if (cli_api(cli, &api, err) || api_get_json(api, sb_str(&path), &info, err))
        goto out;
    sink.tty = jbool(info, "Config.Tty");
    demux_init(&sink.demux);
    sb_reset(&path);
    sb_puts(&path, "/containers/");
    api_segment(&path, jstr(info, "Id"));
    sb_puts(&path, "/logs?stdout=1&stderr=1");
    if (add_time(&path, "since", since, err) || add_time(&path, "until", until, err))
        goto out;
    if (timestamps)
        api_query(&path, "timestamps", "1");
    if (follow)
        api_query(&path, "follow", "1");
    if (details)
        api_query(&path, "details", "1");
    api_query(&path, "tail", tail);
    request.path = sb_str(&path);
    request.sink = logs_write;
    request.sink_ctx = &sink;
    if (api_do(api, &request, &response, err)) {
        if (err->code == BERR_UNAVAILABLE && strstr(err->message, "broken pipe")) {
            /* docker's logs dies of the SIGPIPE when its reader goes away: so does berth */
            signal(SIGPIPE, SIG_DFL);
            raise(SIGPIPE);
        }
        goto out;
    }
    http_response_free(&response);
    if (sink.out.system_error.len) {
        berr_set(err, BERR_IO, "%s", sb_str(&sink.out.system_error));
        goto out;
    }
    status = 0;
out:
    if (info)
        yajl_tree_free(info);
    sb_free(&sink.out.system_error);
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}
