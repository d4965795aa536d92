/*
 * session: attach/wait/pump/resize for interactive commands (see session.h
 * for the ordering and why the wait has a thread of its own).
 */
#include "session.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "signals.h"
#include "streams.h"
#include "terminal.h"

#define DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"

int session_attach(struct api *api, const struct session_opts *opts, struct http_conn *conn,
                   struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    struct http_response response;
    int rc;

    sb_printf(&path, "/v%s/containers/", api->version);
    api_segment(&path, opts->id);
    sb_puts(&path, "/attach");
    api_query(&path, "stream", "1");
    api_query(&path, "stdin", opts->in ? "1" : "0");
    api_query(&path, "stdout", opts->out ? "1" : "0");
    api_query(&path, "stderr", opts->err ? "1" : "0");
    if (opts->detach_keys)
        api_query(&path, "detachKeys", opts->detach_keys);
    rc = http_hijack(&api->http, "POST", sb_str(&path), "text/plain", NULL, conn, &response, err);
    sb_free(&path);
    if (rc == 0 && response.status != 101 && response.status != 200)
        rc = api_error_from_response(&response, err);
    http_response_free(&response);
    return rc;
}

void session_resize(struct api *api, const struct session_opts *opts, bool retry)
{
    unsigned rows, cols;
    struct strbuf path = STRBUF_INIT;
    char number[16];

    if (!opts->tty || !term_size(STDOUT_FILENO, &rows, &cols))
        return;
    sb_puts(&path, opts->is_exec ? "/exec/" : "/containers/");
    api_segment(&path, opts->id);
    sb_puts(&path, "/resize");
    snprintf(number, sizeof(number), "%u", rows);
    api_query(&path, "h", number);
    snprintf(number, sizeof(number), "%u", cols);
    api_query(&path, "w", number);
    for (int attempt = 0; attempt < (retry ? 10 : 1); attempt++) {
        struct berr ignored;
        struct timespec pause = {0, 10000000L * (attempt + 1)};

        if (api_call_json(api, "POST", sb_str(&path), NULL, NULL, &ignored) == 0)
            break;
        nanosleep(&pause, NULL);
    }
    sb_free(&path);
}

struct pump_ctx {
    struct api *api;
    const struct session_opts *opts;
};

static int on_signal(void *ctx, int signo, struct berr *err)
{
    struct pump_ctx *pc = ctx;
    struct strbuf path = STRBUF_INIT;
    const char *name = signals_name(signo);
    char number[16];
    struct berr ignored;

    (void)err;
    if (signo == SIGWINCH) {
        session_resize(pc->api, pc->opts, false);
        return 0;
    }
    if (!pc->opts->sig_proxy)
        return 0;
    snprintf(number, sizeof(number), "%d", signo);
    sb_puts(&path, "/containers/");
    api_segment(&path, pc->opts->kill_target ? pc->opts->kill_target : pc->opts->id);
    sb_puts(&path, "/kill");
    api_query(&path, "signal", name ? name : number);
    api_call_json(pc->api, "POST", sb_str(&path), NULL, NULL, &ignored);
    sb_free(&path);
    return 0;
}

int session_pump(struct api *api, const struct session_opts *opts, struct http_conn *conn,
                 bool *detached, struct berr *err)
{
    struct pump_ctx ctx = {api, opts};
    struct pump pump;
    bool raw = opts->tty && opts->in && term_is_tty(STDIN_FILENO);
    int signal_fd = -1;
    int rc;

    memset(&pump, 0, sizeof(pump));
    pump.conn = conn;
    pump.tty = opts->tty;
    pump.in_fd = opts->in ? STDIN_FILENO : -1;
    pump.out_fd = opts->out ? STDOUT_FILENO : -1;
    pump.err_fd = opts->err ? STDERR_FILENO : -1;
    pump.on_signal = on_signal;
    pump.ctx = &ctx;
    if (opts->in && opts->tty) {
        rc = detach_keys_parse(opts->detach_keys ? opts->detach_keys : DEFAULT_DETACH_KEYS,
                               pump.detach_keys, sizeof(pump.detach_keys), &pump.detach_len, err);
        if (rc)
            return rc;
    }
    fflush(stdout);
    rc = signals_start(opts->sig_proxy && !opts->tty, &signal_fd, err);
    if (rc)
        return rc;
    pump.signal_fd = signal_fd;
    if (raw && (rc = term_make_raw(STDIN_FILENO, err)) != 0) {
        signals_stop();
        return rc;
    }
    rc = pump_run(&pump, err);
    term_restore();
    signals_stop();
    *detached = pump.detached;
    return rc;
}

/* ---------------------------------------------------------------- wait */

static void on_wait_headers(void *ctx, const struct http_response *response)
{
    struct waiter *w = ctx;

    (void)response;
    pthread_mutex_lock(&w->lock);
    w->ready = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    struct http_request request = {.method = "POST", .path = w->path, .body_fd = -1};
    struct http_response response;
    struct berr err;
    int rc;

    request.on_headers = on_wait_headers;
    request.headers_ctx = w;
    request.socket_out = &w->fd;
    berr_clear(&err);
    rc = api_do(&w->api, &request, &response, &err);
    if (rc == 0) {
        yajl_val tree = NULL;
        struct berr ignored;

        if (json_parse(sb_str(&response.body), &tree, &ignored) == 0) {
            w->status_code = jint(tree, "StatusCode");
            snprintf(w->error, sizeof(w->error), "%s", jstr(tree, "Error.Message"));
            yajl_tree_free(tree);
        } else {
            rc = berr_set(&err, BERR_IO, "the daemon's wait answer is not JSON");
        }
        http_response_free(&response);
    }
    pthread_mutex_lock(&w->lock);
    w->rc = rc;
    w->err = err;
    w->ready = true;
    w->done = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int waiter_start(struct waiter *w, struct cli *cli, const char *id, const char *condition,
                 struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    int rc;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    rc = api_open(&w->api, cli->host, err);
    if (rc)
        return rc;
    /* the same version as the main connection: no second negotiation */
    snprintf(w->api.version, sizeof(w->api.version), "%s", cli->api.version);
    w->api.negotiated = true;
    sb_puts(&path, "/containers/");
    api_segment(&path, id);
    sb_puts(&path, "/wait");
    if (condition)
        api_query(&path, "condition", condition);
    w->path = sb_detach(&path);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, wait_thread, w) != 0) {
        api_close(&w->api);
        free(w->path);
        return berr_set(err, BERR_IO, "cannot start the wait thread");
    }
    pthread_mutex_lock(&w->lock);
    while (!w->ready)
        pthread_cond_wait(&w->cond, &w->lock);
    rc = w->done ? w->rc : 0;
    if (rc)
        *err = w->err;
    pthread_mutex_unlock(&w->lock);
    if (rc) {
        long ignored;
        struct berr again;

        waiter_join(w, &ignored, &again);
    }
    return rc;
}

int waiter_join(struct waiter *w, long *status_code, struct berr *err)
{
    pthread_join(w->thread, NULL);
    api_close(&w->api);
    free(w->path);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    if (w->rc) {
        *err = w->err;
        return w->rc;
    }
    if (w->error[0])
        return berr_set(err, BERR_IO, "%s", w->error);
    *status_code = w->status_code;
    return 0;
}

void waiter_cancel(struct waiter *w)
{
    long ignored;
    struct berr err;

    pthread_mutex_lock(&w->lock);
    w->cancelled = true;
    if (!w->done && w->fd >= 0)
        shutdown(w->fd, SHUT_RDWR);
    pthread_mutex_unlock(&w->lock);
    waiter_join(w, &ignored, &err);
}

int session_start_status(const char *message)
{
    if (strstr(message, "executable file not found") ||
        strstr(message, "no such file or directory") ||
        strstr(message, "system cannot find the file specified"))
        return EXIT_NOT_FOUND;
    if (strstr(message, "permission denied") || strstr(message, "is a directory"))
        return EXIT_CANNOT_INVOKE;
    return EXIT_CLI;
}
