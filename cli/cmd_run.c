/*
 * cmd_run: run, create, start and attach: the commands that make a
 * container run and connect the terminal to it. `run` follows the docker
 * CLI's sequence exactly (create, pull on 404 and create again, attach
 * before start, wait before start, start, resize, pump, exit code from the
 * wait) because each step exists to avoid a race (see session.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "progress.h"
#include "run_config.h"
#include "session.h"
#include "streams.h"
#include "terminal.h"

struct create_request {
    const char *image;
    const char *name;
    const char *platform;
    const char *pull; /* "always", "missing" (default), "never" */
    bool quiet;
    const char *cidfile;
    const char *body;
};

static int write_cidfile(const char *path, const char *id, struct berr *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

    if (fd < 0)
        return berr_errno(err, errno, "failed to create the container ID file");
    if (write_all_fd(fd, id, strlen(id), err)) {
        close(fd);
        return err->code;
    }
    close(fd);
    return 0;
}

static int post_create(struct api *api, const struct create_request *req, char **id,
                       struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    yajl_val answer = NULL;
    yajl_val warnings;
    int rc;

    sb_puts(&path, "/containers/create");
    if (req->name && *req->name)
        api_query(&path, "name", req->name);
    if (req->platform && *req->platform)
        api_query(&path, "platform", req->platform);
    rc = api_call_json(api, "POST", sb_str(&path), req->body, &answer, err);
    sb_free(&path);
    if (rc)
        return rc;
    *id = xstrdup(jstr(answer, "Id"));
    warnings = jget(answer, "Warnings");
    for (size_t i = 0; i < jlen(warnings) && YAJL_IS_ARRAY(warnings); i++)
        if (YAJL_IS_STRING(warnings->u.array.values[i]))
            fprintf(stderr, "WARNING: %s\n", warnings->u.array.values[i]->u.string);
    if (answer)
        yajl_tree_free(answer);
    if (!**id) {
        free(*id);
        return berr_set(err, BERR_IO, "the daemon created a container without an Id");
    }
    return 0;
}

/* Create, pulling the image when the daemon does not have it (404). */
static int create_container(struct api *api, const struct create_request *req, char **id,
                            struct berr *err)
{
    const char *pull = req->pull && *req->pull ? req->pull : "missing";
    int rc;

    if (strcmp(pull, "always") != 0 && strcmp(pull, "missing") != 0 && strcmp(pull, "never") != 0)
        return berr_set(err, BERR_INVALID,
                        "invalid pull option: '%s': must be one of "
                        "\"always\", \"missing\" or \"never\"",
                        pull);
    if (req->cidfile && *req->cidfile && access(req->cidfile, F_OK) == 0)
        return berr_set(err, BERR_EXISTS,
                        "container ID file found, make sure the other "
                        "container isn't running or delete %s",
                        req->cidfile);
    if (strcmp(pull, "always") == 0) {
        rc = image_pull(api, req->image, req->platform, req->quiet, stderr, err);
        if (rc)
            return rc;
    }
    rc = post_create(api, req, id, err);
    if (rc == BERR_NOT_FOUND && strcmp(pull, "missing") == 0) {
        struct image_ref ref;

        if (image_ref_parse(req->image, &ref, err))
            return err->code;
        fprintf(stderr, "Unable to find image '%s%s%s' locally\n", ref.familiar,
                ref.digest[0] ? "@" : ":", ref.digest[0] ? ref.digest : ref.tag);
        rc = image_pull(api, req->image, req->platform, req->quiet, stderr, err);
        if (rc == 0)
            rc = post_create(api, req, id, err);
    }
    if (rc == 0 && req->cidfile && *req->cidfile)
        rc = write_cidfile(req->cidfile, *id, err);
    return rc;
}

static int start_container(struct api *api, const char *id, struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    int rc;

    sb_puts(&path, "/containers/");
    api_segment(&path, id);
    sb_puts(&path, "/start");
    rc = api_call_json(api, "POST", sb_str(&path), NULL, NULL, err);
    sb_free(&path);
    return rc;
}

/* "berth: MESSAGE\n\nRun 'berth run --help' for more information" */
static int run_failed(struct cli *cli, int status, struct berr *err)
{
    char message[BERR_MESSAGE_MAX];

    snprintf(message, sizeof(message), "%s", err->message);
    if (strncmp(message, "invalid argument ", 17) == 0) {
        /* a flag's value: reported like the flag parser's errors */
        berr_set(err, BERR_INVALID,
                 "%s\n\nUsage:  %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun '%s --help' for more "
                 "information",
                 message, cli->path, cli->path);
        return EXIT_CLI;
    }
    berr_set(err, err->code ? err->code : BERR_INVALID,
             "berth: %s\n\nRun '%s --help' for more information", message, cli->path);
    return status;
}

/* The attached part of run: attach, wait, start, resize, pump, exit code. */
static int run_attached(struct cli *cli, struct api *api, const char *id, struct run_flags *f,
                        const struct run_streams *streams, struct berr *err)
{
    struct session_opts opts = {id,     false,        streams->in,    streams->out, streams->err,
                                f->tty, f->sig_proxy, f->detach_keys, NULL};
    struct http_conn conn = {NULL, -1, STRBUF_INIT, 0};
    bool attached = streams->in || streams->out || streams->err;
    bool detached = false;
    struct waiter waiter;
    long status = 0;
    int rc;

    if (attached && (rc = session_attach(api, &opts, &conn, err)) != 0)
        return run_failed(cli, EXIT_CLI, err);
    rc = waiter_start(&waiter, cli, id,
                      !api_version_at_least(api, "1.30") ? NULL
                      : f->rm                            ? "removed"
                                                         : "next-exit",
                      err);
    if (rc) {
        http_conn_close(&conn);
        return run_failed(cli, EXIT_CLI, err);
    }
    rc = start_container(api, id, err);
    if (rc) {
        /* a container that did not start never exits: end the wait */
        waiter_cancel(&waiter);
        http_conn_close(&conn);
        return run_failed(cli, session_start_status(err->message), err);
    }
    if (f->tty && term_is_tty(STDOUT_FILENO))
        session_resize(api, &opts, true);
    if (attached) {
        rc = session_pump(api, &opts, &conn, &detached, err);
        http_conn_close(&conn);
        if (rc || detached) {
            waiter_cancel(&waiter);
            return rc ? 1 : 0; /* a broken stream is a plain error for docker's run too */
        }
    }
    rc = waiter_join(&waiter, &status, err);
    if (rc)
        return EXIT_CLI;
    return (int)status;
}

static int run_main(struct cli *cli, struct run_flags *f, struct opt_result *parsed,
                    struct berr *err)
{
    unsigned rows = 0, cols = 0;
    struct strbuf body = STRBUF_INIT;
    struct run_streams streams;
    struct create_request req;
    struct api *api;
    char *id = NULL;
    int status;

    if (f->tty)
        term_size(STDOUT_FILENO, &rows, &cols);
    if (run_config_build(f, parsed->args.items, parsed->args.len, rows, cols, &body, &streams,
                         err)) {
        sb_free(&body);
        return run_failed(cli, EXIT_CLI, err);
    }
    if (f->tty && streams.in && !term_is_tty(STDIN_FILENO)) {
        sb_free(&body);
        berr_set(err, BERR_INVALID, "the input device is not a TTY");
        return 1;
    }
    req = (struct create_request){
        parsed->args.items[0], f->name, f->platform, f->pull, f->quiet, f->cidfile, sb_str(&body)};
    if (cli_api(cli, &api, err) || create_container(api, &req, &id, err)) {
        sb_free(&body);
        return run_failed(cli, EXIT_CLI, err);
    }
    sb_free(&body);
    if (f->detach) {
        if (start_container(api, id, err)) {
            status = run_failed(cli, session_start_status(err->message), err);
        } else {
            printf("%s\n", id);
            status = 0;
        }
    } else {
        status = run_attached(cli, api, id, f, &streams, err);
    }
    free(id);
    return status;
}

int cmd_run(struct cli *cli, int argc, char **argv, struct berr *err)
{
    struct run_flags f;
    struct opt_result parsed = {STRLIST_INIT, false};
    struct command_spec spec = {"run [OPTIONS] IMAGE [COMMAND] [ARG...]",
                                "Create and run a new container from an image",
                                NULL,
                                false,
                                1,
                                -1};
    int status;

    run_flags_init(&f);
    spec.opts = run_flags_table(&f, true);
    status = cli_parse(cli, &spec, argc, argv, &parsed, err);
    if (status < 0)
        status = run_main(cli, &f, &parsed, err);
    opt_result_free(&parsed);
    run_flags_free(&f);
    return status;
}

int cmd_create(struct cli *cli, int argc, char **argv, struct berr *err)
{
    struct run_flags f;
    struct opt_result parsed = {STRLIST_INIT, false};
    struct command_spec spec = {
        "create [OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", NULL, false, 1, -1};
    struct strbuf body = STRBUF_INIT;
    struct run_streams streams;
    struct create_request req;
    struct api *api;
    unsigned rows = 0, cols = 0;
    char *id = NULL;
    int status;

    run_flags_init(&f);
    spec.opts = run_flags_table(&f, false);
    status = cli_parse(cli, &spec, argc, argv, &parsed, err);
    if (status >= 0)
        goto out;
    if (f.tty)
        term_size(STDOUT_FILENO, &rows, &cols);
    status = 1;
    if (run_config_build(&f, parsed.args.items, parsed.args.len, rows, cols, &body, &streams,
                         err)) {
        status = strncmp(err->message, "invalid argument ", 17) == 0
                     ? run_failed(cli, EXIT_CLI, err)
                     : 1;
        goto out;
    }
    req = (struct create_request){
        parsed.args.items[0], f.name, f.platform, f.pull, f.quiet, f.cidfile, sb_str(&body)};
    if (cli_api(cli, &api, err) || create_container(api, &req, &id, err))
        goto out;
    printf("%s\n", id);
    status = 0;
out:
    free(id);
    sb_free(&body);
    opt_result_free(&parsed);
    run_flags_free(&f);
    return status;
}

/* GET /containers/NAME/json, for Tty, OpenStdin, State, Id. */
static int inspect_container(struct api *api, const char *name, yajl_val *out, struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    int rc;

    sb_puts(&path, "/containers/");
    api_segment(&path, name);
    sb_puts(&path, "/json");
    rc = api_get_json(api, sb_str(&path), out, err);
    sb_free(&path);
    return rc;
}

static int start_attached(struct cli *cli, struct api *api, const char *name, bool interactive,
                          const char *detach_keys, struct berr *err)
{
    yajl_val info = NULL;
    struct session_opts opts;
    struct http_conn conn = {NULL, -1, STRBUF_INIT, 0};
    struct waiter waiter;
    bool detached = false, waiting = false;
    long status = 0;
    int rc = inspect_container(api, name, &info, err);

    if (rc)
        return 1;
    opts = (struct session_opts){NULL, false,       interactive && jbool(info, "Config.OpenStdin"),
                                 true, true,        jbool(info, "Config.Tty"),
                                 true, detach_keys, NULL};
    opts.id = xstrdup(jstr(info, "Id"));
    yajl_tree_free(info);
    rc = session_attach(api, &opts, &conn, err);
    if (rc == 0)
        waiting = (rc = waiter_start(&waiter, cli, opts.id, NULL, err)) == 0;
    if (rc == 0 && (rc = start_container(api, opts.id, err)) != 0)
        berr_prefix(err, "failed to start containers: %s", name);
    if (rc == 0) {
        session_resize(api, &opts, true);
        rc = session_pump(api, &opts, &conn, &detached, err);
    }
    http_conn_close(&conn);
    if (waiting && (rc || detached))
        waiter_cancel(&waiter);
    else if (waiting)
        rc = waiter_join(&waiter, &status, err);
    free((char *)opts.id);
    return rc ? 1 : (int)status;
}

int cmd_start(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool attach = false, interactive = false;
    const char *detach_keys = NULL;
    const struct opt opts[] = {
        {"attach", 'a', OPT_BOOL, &attach, "Attach STDOUT/STDERR and forward signals", NULL, NULL,
         false},
        {"detach-keys", 0, OPT_STRING, &detach_keys,
         "Override the key sequence for detaching a container", NULL, NULL, false},
        {"interactive", 'i', OPT_BOOL, &interactive, "Attach container's STDIN", NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {"start [OPTIONS] CONTAINER [CONTAINER...]",
                                "Start one or more stopped containers",
                                opts,
                                true,
                                1,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf errors = STRBUF_INIT, failed = STRBUF_INIT;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    if (cli_api(cli, &api, err)) {
        status = 1;
        goto out;
    }
    if (attach || interactive) {
        if (parsed.args.len > 1) {
            berr_set(err, BERR_INVALID, "you cannot start and attach multiple containers at once");
            status = 1;
            goto out;
        }
        status = start_attached(cli, api, parsed.args.items[0], interactive, detach_keys, err);
        goto out;
    }
    for (size_t i = 0; i < parsed.args.len; i++) {
        if (start_container(api, parsed.args.items[i], err)) {
            fprintf(stderr, "%s\n", err->message);
            if (failed.len)
                sb_puts(&failed, ", ");
            sb_puts(&failed, parsed.args.items[i]);
            continue;
        }
        printf("%s\n", parsed.args.items[i]);
    }
    berr_clear(err);
    status = 0;
    if (failed.len) {
        berr_set(err, BERR_INVALID, "Error: failed to start containers: %s", sb_str(&failed));
        status = 1;
    }
out:
    sb_free(&errors);
    sb_free(&failed);
    opt_result_free(&parsed);
    return status;
}

int cmd_attach(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool no_stdin = false, sig_proxy = true;
    const char *detach_keys = NULL;
    const struct opt opts[] = {
        {"detach-keys", 0, OPT_STRING, &detach_keys,
         "Override the key sequence for detaching a container", NULL, NULL, false},
        {"no-stdin", 0, OPT_BOOL, &no_stdin, "Do not attach STDIN", NULL, NULL, false},
        {"sig-proxy", 0, OPT_BOOL, &sig_proxy,
         "Proxy all received signals to the process "
         "(default true)",
         NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {"attach [OPTIONS] CONTAINER",
                                "Attach local standard input, output, and error streams to a "
                                "running container",
                                opts,
                                true,
                                1,
                                1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct http_conn conn = {NULL, -1, STRBUF_INIT, 0};
    struct session_opts sopts;
    struct waiter waiter;
    yajl_val info = NULL;
    bool detached = false;
    long code = 0;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (cli_api(cli, &api, err) || inspect_container(api, parsed.args.items[0], &info, err))
        goto out;
    if (!jbool(info, "State.Running")) {
        berr_set(err, BERR_CONFLICT, "You cannot attach to a stopped container, start it first");
        goto out;
    }
    if (jbool(info, "State.Paused")) {
        berr_set(err, BERR_CONFLICT, "You cannot attach to a paused container, unpause it first");
        goto out;
    }
    sopts = (struct session_opts){jstr(info, "Id"),
                                  false,
                                  !no_stdin && jbool(info, "Config.OpenStdin"),
                                  true,
                                  true,
                                  jbool(info, "Config.Tty"),
                                  sig_proxy,
                                  detach_keys,
                                  NULL};
    if (session_attach(api, &sopts, &conn, err) || waiter_start(&waiter, cli, sopts.id, NULL, err))
        goto out;
    session_resize(api, &sopts, false);
    if (session_pump(api, &sopts, &conn, &detached, err) || detached) {
        waiter_cancel(&waiter);
        status = detached ? 0 : 1;
        goto out;
    }
    if (waiter_join(&waiter, &code, err) == 0)
        status = (int)code;
out:
    http_conn_close(&conn);
    if (info)
        yajl_tree_free(info);
    opt_result_free(&parsed);
    return status;
}
