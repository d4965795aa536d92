/*
 * cmd_exec: exec, docker's sequence: inspect the container, create the exec
 * (POST /containers/ID/exec), start it hijacked (or detached), resize with
 * -t, pump the stream, then read the exec's exit code (GET /exec/ID/json),
 * which becomes berth's exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "session.h"
#include "terminal.h"

struct exec_flags {
    bool detach, interactive, tty, privileged;
    const char *detach_keys, *user, *workdir;
    struct strlist env, env_file;
};

static int read_env_files(struct exec_flags *f, struct strlist *env, struct berr *err)
{
    for (size_t i = 0; i < f->env_file.len; i++) {
        FILE *file = fopen(f->env_file.items[i], "r");
        char line[4096];

        if (!file)
            return berr_errno(err, errno, "open %s", f->env_file.items[i]);
        while (fgets(line, sizeof(line), file)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0] && line[0] != '#')
                sl_push(env, line);
        }
        fclose(file);
    }
    for (size_t i = 0; i < f->env.len; i++)
        sl_push(env, f->env.items[i]);
    return 0;
}

static int exec_body(struct exec_flags *f, char **cmd, size_t ncmd, unsigned rows, unsigned cols,
                     struct strbuf *body, struct berr *err)
{
    struct strlist env = STRLIST_INIT;
    struct json_writer w;
    const char *text;
    size_t len;
    int rc = read_env_files(f, &env, err);

    if (rc == 0)
        rc = json_writer_init(&w, false, err);
    if (rc) {
        sl_free(&env);
        return rc;
    }
    json_object_begin(&w);
    json_kv_string(&w, "User", f->user ? f->user : "");
    json_kv_bool(&w, "Privileged", f->privileged);
    json_kv_bool(&w, "Tty", f->tty);
    json_key(&w, "ConsoleSize");
    json_array_begin(&w);
    json_int(&w, rows);
    json_int(&w, cols);
    json_array_end(&w);
    json_kv_bool(&w, "AttachStdin", f->interactive && !f->detach);
    json_kv_bool(&w, "AttachStderr", !f->detach);
    json_kv_bool(&w, "AttachStdout", !f->detach);
    json_kv_bool(&w, "Detach", f->detach);
    json_kv_string(&w, "DetachKeys", f->detach_keys ? f->detach_keys : "");
    json_key(&w, "Env");
    json_array_begin(&w);
    for (size_t i = 0; i < env.len; i++) {
        const char *value = strchr(env.items[i], '=') ? NULL : getenv(env.items[i]);
        char *item = value ? xasprintf("%s=%s", env.items[i], value) : xstrdup(env.items[i]);

        json_string(&w, item);
        free(item);
    }
    json_array_end(&w);
    json_kv_string(&w, "WorkingDir", f->workdir ? f->workdir : "");
    json_key(&w, "Cmd");
    json_array_begin(&w);
    for (size_t i = 0; i < ncmd; i++)
        json_string(&w, cmd[i]);
    json_array_end(&w);
    json_object_end(&w);
    rc = json_writer_result(&w, &text, &len, err);
    if (rc == 0)
        sb_append(body, text, len);
    json_writer_free(&w);
    sl_free(&env);
    return rc;
}

static int exec_start_body(bool detach, bool tty, unsigned rows, unsigned cols, struct strbuf *body)
{
    sb_printf(body, "{\"Detach\":%s,\"Tty\":%s", detach ? "true" : "false", tty ? "true" : "false");
    if (rows && cols)
        sb_printf(body, ",\"ConsoleSize\":[%u,%u]", rows, cols);
    sb_putc(body, '}');
    return 0;
}

/* The hijacked part: start, resize, pump, exit code. */
static int exec_attached(struct api *api, struct exec_flags *f, const char *exec_id,
                         const char *container_id, unsigned rows, unsigned cols, struct berr *err)
{
    struct session_opts opts = {exec_id, true,  f->interactive, true,        true,
                                f->tty,  false, f->detach_keys, container_id};
    struct http_conn conn = {NULL, -1, STRBUF_INIT, 0};
    struct http_response response;
    struct strbuf path = STRBUF_INIT, body = STRBUF_INIT;
    yajl_val info = NULL;
    bool detached = false;
    int code = 1;
    int rc;

    sb_printf(&path, "/v%s/exec/", api->version);
    api_segment(&path, exec_id);
    sb_puts(&path, "/start");
    exec_start_body(false, f->tty, rows, cols, &body);
    rc = http_hijack(&api->http, "POST", sb_str(&path), "application/json", sb_str(&body), &conn,
                     &response, err);
    if (rc == 0 && response.status != 101 && response.status != 200)
        rc = api_error_from_response(&response, err);
    http_response_free(&response);
    if (rc == 0) {
        if (f->tty && term_is_tty(STDOUT_FILENO))
            session_resize(api, &opts, true);
        rc = session_pump(api, &opts, &conn, &detached, err);
    }
    http_conn_close(&conn);
    sb_reset(&path);
    sb_puts(&path, "/exec/");
    api_segment(&path, exec_id);
    sb_puts(&path, "/json");
    if (rc == 0 && !detached && (rc = api_get_json(api, sb_str(&path), &info, err)) == 0)
        code = (int)jint(info, "ExitCode");
    else if (rc == 0)
        code = 0;
    if (info)
        yajl_tree_free(info);
    sb_free(&path);
    sb_free(&body);
    return rc ? 1 : code;
}

static int run_exec(struct cli *cli, struct exec_flags *f, struct opt_result *parsed,
                    struct berr *err)
{
    struct strbuf path = STRBUF_INIT, body = STRBUF_INIT;
    yajl_val container = NULL, created = NULL;
    unsigned rows = 0, cols = 0;
    struct api *api;
    char *exec_id = NULL;
    int status = 1;

    if (f->tty && f->interactive && !f->detach && !term_is_tty(STDIN_FILENO)) {
        berr_set(err, BERR_INVALID, "the input device is not a TTY");
        return 1;
    }
    if (f->tty)
        term_size(STDOUT_FILENO, &rows, &cols);
    if (cli_api(cli, &api, err))
        return 1;
    sb_puts(&path, "/containers/");
    api_segment(&path, parsed->args.items[0]);
    sb_puts(&path, "/json");
    if (api_get_json(api, sb_str(&path), &container, err))
        goto out;
    sb_reset(&path);
    sb_puts(&path, "/containers/");
    api_segment(&path, jstr(container, "Id"));
    sb_puts(&path, "/exec");
    if (exec_body(f, parsed->args.items + 1, parsed->args.len - 1, rows, cols, &body, err) ||
        api_call_json(api, "POST", sb_str(&path), sb_str(&body), &created, err))
        goto out;
    exec_id = xstrdup(jstr(created, "Id"));
    if (f->detach) {
        sb_reset(&path);
        sb_reset(&body);
        sb_puts(&path, "/exec/");
        api_segment(&path, exec_id);
        sb_puts(&path, "/start");
        exec_start_body(true, f->tty, 0, 0, &body);
        status = api_call_json(api, "POST", sb_str(&path), sb_str(&body), NULL, err) ? 1 : 0;
        goto out;
    }
    status = exec_attached(api, f, exec_id, jstr(container, "Id"), rows, cols, err);
out:
    free(exec_id);
    if (container)
        yajl_tree_free(container);
    if (created)
        yajl_tree_free(created);
    sb_free(&path);
    sb_free(&body);
    return status;
}

int cmd_exec(struct cli *cli, int argc, char **argv, struct berr *err)
{
    struct exec_flags f = {false, false, false,        false,       NULL,
                           NULL,  NULL,  STRLIST_INIT, STRLIST_INIT};
    const struct opt opts[] = {
        {"detach", 'd', OPT_BOOL, &f.detach, "Detached mode: run command in the background", NULL,
         NULL, false},
        {"detach-keys", 0, OPT_STRING, &f.detach_keys,
         "Override the key sequence for detaching "
         "a container",
         NULL, NULL, false},
        {"env", 'e', OPT_LIST, &f.env, "Set environment variables", NULL, NULL, false},
        {"env-file", 0, OPT_LIST, &f.env_file, "Read in a file of environment variables", NULL,
         NULL, false},
        {"interactive", 'i', OPT_BOOL, &f.interactive, "Keep STDIN open even if not attached", NULL,
         NULL, false},
        {"privileged", 0, OPT_BOOL, &f.privileged, "Give extended privileges to the command", NULL,
         NULL, false},
        {"tty", 't', OPT_BOOL, &f.tty, "Allocate a pseudo-TTY", NULL, NULL, false},
        {"user", 'u', OPT_STRING, &f.user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")",
         NULL, NULL, false},
        {"workdir", 'w', OPT_STRING, &f.workdir, "Working directory inside the container", NULL,
         NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {"exec [OPTIONS] CONTAINER COMMAND [ARG...]",
                                "Execute a command in a running container",
                                opts,
                                false,
                                2,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status < 0)
        status = run_exec(cli, &f, &parsed, err);
    sl_free(&f.env);
    sl_free(&f.env_file);
    opt_result_free(&parsed);
    return status;
}
