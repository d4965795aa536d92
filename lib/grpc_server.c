/*
 * grpc_server: see grpc_server.h for the model. In short:
 *
 *  - gRPC core hands out calls through requests we post on the notification
 *    queue. We post only generic requests (grpc_server_request_call), never
 *    per-method ones: every call, known method or not, arrives the same way,
 *    and unknown methods are answered UNIMPLEMENTED at once instead of
 *    waiting forever for a request that nobody will post.
 *  - Each request names a pluck queue of its own, which becomes the queue of
 *    the call that fills it (gRPC C++'s synchronous server works this way).
 *  - Two poller threads loop on the notification queue. When a call arrives
 *    they post a new request and hand the call to a thread of its own (an
 *    idle one kept from an earlier call, or a new one: creating a thread
 *    costs ~40 us here); that thread runs the handler and then sends the
 *    status, plucking only the call's queue.
 *  - Every call starts with a RECV_CLOSE_ON_SERVER batch; its completion is
 *    how we learn that the client cancelled or went away.
 *  - Shutdown follows the order the probe found valgrind-clean:
 *    shutdown_and_notify, cancel_all_calls, drain until the shutdown tag,
 *    shut the queue down, join everyone, destroy.
 */
#include "grpc_server.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "grpc_common.h"
#include "log.h"

#define POLLER_COUNT 2
/* Requests kept posted: calls beyond these wait in gRPC until a poller
 * reposts, which it does before it starts the handler's thread. */
#define PENDING_REQUEST_COUNT 8
#define SOCKET_MODE           0660
/* Handler threads kept waiting for calls; more than these exit when done. */
#define MAX_IDLE_WORKERS 16

struct registration {
    const struct rpc_method *method;
    rpc_handler handler;
    void *data;
};

/* A request posted to gRPC core, which fills it when a call arrives. */
struct pending_request {
    grpc_call *core;
    grpc_call_details details;
    grpc_metadata_array metadata;
    grpc_completion_queue *queue; /* pluck queue, bound to the call */
};

struct rpc_call {
    struct rpc_server *server;
    const struct registration *registration; /* NULL: unknown method */
    grpc_call *core;
    grpc_completion_queue *queue;
    grpc_call_details details;
    grpc_metadata_array metadata;
    char **metadata_values; /* NUL-terminated copies, made on demand */

    pthread_mutex_t close_mutex; /* guards the close tag: rpc_call_cancelled */
    int close_cancelled;         /* RECV_CLOSE_ON_SERVER's answer */
    bool closed;

    bool initial_metadata_sent;
    bool end_of_requests;
    unsigned long requests_received;
    grpc_byte_buffer *single_response; /* sent with the status */

    /* Batch tags: only their addresses matter. */
    char close_tag, receive_tag, send_tag, status_tag;
};

/* A handler thread: it runs one call at a time, then waits for another one
 * (thread creation costs tens of microseconds, a wake-up a few). */
struct worker {
    struct rpc_server *server;
    pthread_t thread;
    pthread_cond_t wake;
    struct rpc_call *call; /* to run; NULL while idle */
    bool retired;          /* exit instead of waiting */
    struct worker *next;   /* in the idle or the exited list */
};

struct rpc_server {
    grpc_server *core;
    grpc_completion_queue *notify_queue;
    pthread_t pollers[POLLER_COUNT];
    int poller_count;

    struct registration *registrations;
    size_t registration_count;

    pthread_mutex_t mutex; /* guards what follows */
    pthread_cond_t workers_done;
    bool started;
    bool shutting_down;
    struct worker *idle_workers; /* waiting for a call */
    size_t idle_count;
    struct worker *exited_workers; /* to join */
    size_t worker_count;           /* alive */

    char *socket_path; /* NULL for TCP */
    int lock_fd;
    int port;
    char shutdown_tag;
};

/* --- requests ------------------------------------------------------------ */

static void request_free(struct pending_request *request)
{
    grpc_call_details_destroy(&request->details);
    grpc_metadata_array_destroy(&request->metadata);
    rpc_queue_destroy(request->queue);
    free(request);
}

/* Posts one generic request. The caller holds server->mutex and checked
 * that the server is not shutting down (posting on a queue that is shut
 * down would crash). */
static int post_request(struct rpc_server *server, struct berr *err)
{
    struct pending_request *request = calloc(1, sizeof(*request));
    grpc_call_error posted;

    if (!request)
        return berr_set(err, BERR_NOMEM, "post a gRPC request: out of memory");
    grpc_call_details_init(&request->details);
    grpc_metadata_array_init(&request->metadata);
    request->queue = grpc_completion_queue_create_for_pluck(NULL);
    posted =
        grpc_server_request_call(server->core, &request->core, &request->details,
                                 &request->metadata, request->queue, server->notify_queue, request);
    if (posted != GRPC_CALL_OK) {
        request_free(request);
        return berr_set(err, BERR_INTERNAL, "grpc_server_request_call: error %d", (int)posted);
    }
    return 0;
}

/* --- calls --------------------------------------------------------------- */

static const struct registration *find_registration(const struct rpc_server *server,
                                                    grpc_slice path)
{
    for (size_t i = 0; i < server->registration_count; i++)
        if (grpc_slice_str_cmp(path, server->registrations[i].method->path) == 0)
            return &server->registrations[i];
    return NULL;
}

/* Takes over what the request received; frees the request. */
static struct rpc_call *call_from_request(struct rpc_server *server,
                                          struct pending_request *request)
{
    struct rpc_call *call = calloc(1, sizeof(*call));

    if (!call)
        return NULL;
    call->server = server;
    call->core = request->core;
    call->queue = request->queue;
    call->details = request->details;
    call->metadata = request->metadata;
    call->registration = find_registration(server, call->details.method);
    pthread_mutex_init(&call->close_mutex, NULL);
    free(request);
    return call;
}

static const char *call_path(const struct rpc_call *call)
{
    return call->registration ? call->registration->method->path : "unknown method";
}

/* Starts the batch whose completion says the call is over. */
static int watch_close(struct rpc_call *call, struct berr *err)
{
    grpc_op op = {.op = GRPC_OP_RECV_CLOSE_ON_SERVER};
    grpc_call_error started;

    op.data.recv_close_on_server.cancelled = &call->close_cancelled;
    started = grpc_call_start_batch(call->core, &op, 1, &call->close_tag, NULL);
    if (started != GRPC_CALL_OK) {
        call->closed = true; /* nothing to pluck */
        return berr_set(err, BERR_INTERNAL, "grpc_call_start_batch: error %d", (int)started);
    }
    return 0;
}

/* Waits for the close batch, which completes once the status is out. */
static void wait_close(struct rpc_call *call)
{
    pthread_mutex_lock(&call->close_mutex);
    if (!call->closed)
        grpc_completion_queue_pluck(call->queue, &call->close_tag,
                                    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    call->closed = true;
    pthread_mutex_unlock(&call->close_mutex);
}

static void send_status(struct rpc_call *call, grpc_status_code status, const char *details)
{
    grpc_slice details_slice = grpc_slice_from_copied_string(details);
    grpc_op ops[3];
    size_t count = 0;
    struct berr err;

    memset(ops, 0, sizeof(ops));
    if (!call->initial_metadata_sent) {
        ops[count++].op = GRPC_OP_SEND_INITIAL_METADATA;
        call->initial_metadata_sent = true;
    }
    if (status == GRPC_STATUS_OK && call->single_response) {
        ops[count].op = GRPC_OP_SEND_MESSAGE;
        ops[count++].data.send_message.send_message = call->single_response;
    }
    ops[count].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[count].data.send_status_from_server.status = status;
    ops[count++].data.send_status_from_server.status_details = &details_slice;
    /* Fails only if the client is gone, and then nobody is listening. */
    if (rpc_run_batch(call->core, call->queue, ops, count, &call->status_tag, &err) ==
        BERR_INTERNAL)
        log_warn("%s: send status: %s", call_path(call), err.message);
    grpc_slice_unref(details_slice);
}

/* Runs the handler, then sends the status its result calls for. */
static void call_serve(struct rpc_call *call)
{
    const struct registration *registration = call->registration;
    const struct rpc_method *method = registration ? registration->method : NULL;
    grpc_status_code status = GRPC_STATUS_OK;
    struct berr err;
    int rc;

    berr_clear(&err);
    rc = watch_close(call, &err);
    if (rc == 0 && !registration) {
        char path[256];
        size_t length = GRPC_SLICE_LENGTH(call->details.method);
        if (length >= sizeof(path))
            length = sizeof(path) - 1;
        memcpy(path, GRPC_SLICE_START_PTR(call->details.method), length);
        path[length] = '\0';
        rc = berr_set(&err, BERR_UNSUPPORTED, "unknown method %s", path);
    } else if (rc == 0) {
        rc = registration->handler(call, registration->data, &err);
        if (rc == 0 && !method->server_streaming && !call->single_response)
            rc = berr_set(&err, BERR_INTERNAL, "%s: the handler sent no response", method->path);
    }
    if (rc != 0) {
        /* A handler that gave up because the deadline passed (it sees that
         * as a cancellation) answers what the client's own timer would:
         * the server's clock may get there first. */
        if (rc == BERR_CANCELLED && rpc_call_remaining_ms(call) == 0)
            rc = BERR_TIMEOUT;
        status = rpc_status_from_berr(rc);
        if (!err.message[0])
            berr_set(&err, rc, "%s", berr_code_name(rc));
    }
    send_status(call, status, rc ? err.message : "");
    wait_close(call);
}

/* Releases the call's gRPC objects and frees it. */
static void call_free(struct rpc_call *call)
{
    if (call->single_response)
        grpc_byte_buffer_destroy(call->single_response);
    grpc_call_unref(call->core);
    rpc_queue_destroy(call->queue);
    if (call->metadata_values) {
        for (size_t i = 0; i < call->metadata.count; i++)
            free(call->metadata_values[i]);
        free(call->metadata_values);
    }
    grpc_metadata_array_destroy(&call->metadata);
    grpc_call_details_destroy(&call->details);
    pthread_mutex_destroy(&call->close_mutex);
    free(call);
}

/* --- handler threads ----------------------------------------------------- */

/* The next call for worker, waiting while it is idle; NULL once retired.
 * Called with server->mutex held. */
static struct rpc_call *worker_next_call(struct rpc_server *server, struct worker *worker)
{
    struct rpc_call *call;

    while (!worker->call && !worker->retired)
        pthread_cond_wait(&worker->wake, &server->mutex);
    call = worker->call;
    worker->call = NULL;
    return call;
}

/* Whether a worker done with a call waits for another one (the first few)
 * or exits. Called with server->mutex held. */
static bool worker_stays(struct rpc_server *server, struct worker *worker)
{
    if (server->shutting_down || server->idle_count >= MAX_IDLE_WORKERS)
        return false;
    worker->next = server->idle_workers;
    server->idle_workers = worker;
    server->idle_count++;
    return true;
}

static void *worker_thread(void *argument)
{
    struct worker *worker = argument;
    struct rpc_server *server = worker->server;
    struct rpc_call *call;

    pthread_mutex_lock(&server->mutex);
    while ((call = worker_next_call(server, worker))) {
        pthread_mutex_unlock(&server->mutex);
        call_serve(call);
        call_free(call);
        pthread_mutex_lock(&server->mutex);
        if (!worker_stays(server, worker))
            break;
    }
    worker->next = server->exited_workers;
    server->exited_workers = worker;
    if (--server->worker_count == 0)
        pthread_cond_broadcast(&server->workers_done);
    pthread_mutex_unlock(&server->mutex);
    return NULL;
}

/* Joins the workers that exited and frees them. */
static void join_exited_workers(struct rpc_server *server)
{
    struct worker *worker, *next;

    pthread_mutex_lock(&server->mutex);
    worker = server->exited_workers;
    server->exited_workers = NULL;
    pthread_mutex_unlock(&server->mutex);
    for (; worker; worker = next) {
        next = worker->next;
        pthread_join(worker->thread, NULL);
        pthread_cond_destroy(&worker->wake);
        free(worker);
    }
}

/* Wakes the idle workers to exit. Called with server->mutex held. */
static void retire_idle_workers(struct rpc_server *server)
{
    for (struct worker *worker = server->idle_workers; worker; worker = worker->next) {
        worker->retired = true;
        pthread_cond_signal(&worker->wake);
    }
    server->idle_workers = NULL;
    server->idle_count = 0;
}

/* Answers a call we cannot serve, on the poller's thread (rare: no memory
 * or no thread). */
static void refuse_call(struct rpc_call *call, const char *why)
{
    struct berr err;

    if (watch_close(call, &err) != 0)
        log_warn("%s: %s", call_path(call), err.message);
    send_status(call, GRPC_STATUS_UNAVAILABLE, why);
    wait_close(call);
    call_free(call);
}

/* Runs call on a new worker thread. */
static void start_worker(struct rpc_server *server, struct rpc_call *call)
{
    struct worker *worker = calloc(1, sizeof(*worker));
    int rc = ENOMEM;

    if (worker) {
        worker->server = server;
        worker->call = call;
        pthread_cond_init(&worker->wake, NULL);
        pthread_mutex_lock(&server->mutex);
        server->worker_count++;
        pthread_mutex_unlock(&server->mutex);
        rc = pthread_create(&worker->thread, NULL, worker_thread, worker);
        if (rc == 0)
            return;
        pthread_mutex_lock(&server->mutex);
        if (--server->worker_count == 0)
            pthread_cond_broadcast(&server->workers_done);
        pthread_mutex_unlock(&server->mutex);
        pthread_cond_destroy(&worker->wake);
        free(worker);
    }
    log_error("%s: cannot start a thread: %s", call_path(call), strerror(rc));
    refuse_call(call, "the server cannot start a thread for the call");
}

/* A call arrived: post a request for the next one, then hand this one to
 * an idle worker, or to a new one. */
static void accept_call(struct rpc_server *server, struct pending_request *request)
{
    struct rpc_call *call = call_from_request(server, request);
    struct worker *worker = NULL;
    struct berr err;
    int rc = 0;

    join_exited_workers(server);
    pthread_mutex_lock(&server->mutex);
    if (!server->shutting_down)
        rc = post_request(server, &err);
    if (call && server->idle_workers) {
        worker = server->idle_workers;
        server->idle_workers = worker->next;
        server->idle_count--;
        worker->call = call;
        pthread_cond_signal(&worker->wake);
    }
    pthread_mutex_unlock(&server->mutex);
    if (rc)
        log_error("gRPC server: %s", err.message);
    if (!call) {
        /* Out of memory: let go of the call; the client sees it cancelled. */
        grpc_call_cancel(request->core, NULL);
        grpc_call_unref(request->core);
        request_free(request);
        return;
    }
    if (!worker)
        start_worker(server, call);
}

/* --- the notification queue ----------------------------------------------- */

/* Handles one event of the notification queue; false once it is shut down. */
static bool handle_notification(struct rpc_server *server, grpc_event event)
{
    if (event.type == GRPC_QUEUE_SHUTDOWN)
        return false;
    if (event.type != GRPC_OP_COMPLETE)
        return true;
    if (event.tag == &server->shutdown_tag)
        grpc_completion_queue_shutdown(server->notify_queue);
    else if (event.success)
        accept_call(server, event.tag);
    else
        request_free(event.tag); /* the server is shutting down */
    return true;
}

static void drain_notifications(struct rpc_server *server)
{
    while (handle_notification(
        server,
        grpc_completion_queue_next(server->notify_queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)))
        ;
}

static void *poller_thread(void *argument)
{
    drain_notifications(argument);
    return NULL;
}

/* --- listening ----------------------------------------------------------- */

/* "unix:/p", "unix:///p" → "/p"; NULL for other schemes (TCP). */
static const char *unix_socket_path(const char *address)
{
    if (strncmp(address, "unix:", 5) != 0)
        return NULL;
    address += 5;
    if (strncmp(address, "//", 2) == 0)
        address += 2;
    return address;
}

/* Takes the lock that makes this process the socket's only server. */
static int lock_socket(struct rpc_server *server, const char *path, struct berr *err)
{
    char lock_path[4096];

    if (snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >= (int)sizeof(lock_path))
        return berr_set(err, BERR_INVALID, "socket path too long: %s", path);
    server->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (server->lock_fd < 0)
        return berr_errno(err, errno, "open %s", lock_path);
    if (flock(server->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return berr_set(err, BERR_EXISTS, "%s: another server is listening (it holds %s)", path,
                            lock_path);
        return berr_errno(err, errno, "lock %s", lock_path);
    }
    return 0;
}

/* Why gRPC could not listen: it does not say, so guess from the path. */
static int listen_failed(const char *address, const char *path, struct berr *err)
{
    struct stat info;

    if (path && stat(path, &info) == 0 && !S_ISSOCK(info.st_mode))
        return berr_set(err, BERR_EXISTS, "listen on %s: %s exists and is not a socket", address,
                        path);
    if (path && strchr(path, '/')) {
        char directory[4096];
        snprintf(directory, sizeof(directory), "%s", path);
        *strrchr(directory, '/') = '\0';
        if (directory[0] && stat(directory, &info) < 0)
            return berr_errno(err, errno, "listen on %s: %s", address, directory);
    }
    return berr_set(err, BERR_IO, "listen on %s: gRPC could not bind it", address);
}

static int listen_on(struct rpc_server *server, const char *address, struct berr *err)
{
    grpc_server_credentials *credentials = grpc_insecure_server_credentials_create();
    const char *path = server->socket_path;
    int port = grpc_server_add_http2_port(server->core, address, credentials);

    grpc_server_credentials_release(credentials);
    if (port <= 0)
        return listen_failed(address, path, err);
    if (!path) {
        server->port = port;
        return 0;
    }
    /* The socket follows the umask; the group may talk to the daemon. */
    if (chmod(path, SOCKET_MODE) < 0)
        return berr_errno(err, errno, "chmod %s", path);
    return 0;
}

/* --- the API ------------------------------------------------------------- */

int rpc_server_create(const char *address, struct rpc_server **out, struct berr *err)
{
    struct rpc_server *server;
    const char *path;
    int rc;

    *out = NULL;
    if (!address || !*address)
        return berr_set(err, BERR_INVALID, "gRPC server: no address");
    server = calloc(1, sizeof(*server));
    if (!server)
        return berr_set(err, BERR_NOMEM, "gRPC server: out of memory");
    server->lock_fd = -1;
    pthread_mutex_init(&server->mutex, NULL);
    pthread_cond_init(&server->workers_done, NULL);
    path = unix_socket_path(address);
    if (path) {
        server->socket_path = strdup(path);
        if (!server->socket_path) {
            free(server);
            return berr_set(err, BERR_NOMEM, "gRPC server: out of memory");
        }
        rc = lock_socket(server, path, err);
        if (rc) {
            if (server->lock_fd >= 0)
                close(server->lock_fd);
            free(server->socket_path);
            free(server);
            return rc;
        }
    }
    rpc_library_init();
    server->core = grpc_server_create(rpc_channel_args(), NULL);
    server->notify_queue = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(server->core, server->notify_queue, NULL);
    rc = listen_on(server, address, err);
    if (rc) {
        rpc_server_shutdown(server);
        return rc;
    }
    *out = server;
    return 0;
}

int rpc_server_register(struct rpc_server *server, const struct rpc_method *method,
                        rpc_handler handler, void *data, struct berr *err)
{
    struct registration *grown;

    if (!method || !method->path || !method->input || !method->output || !handler)
        return berr_set(err, BERR_INVALID, "register a gRPC method: incomplete method");
    if (server->started)
        return berr_set(err, BERR_CONFLICT, "register %s: the server is already started",
                        method->path);
    for (size_t i = 0; i < server->registration_count; i++)
        if (strcmp(server->registrations[i].method->path, method->path) == 0)
            return berr_set(err, BERR_EXISTS, "register %s: already registered", method->path);
    grown = realloc(server->registrations,
                    (server->registration_count + 1) * sizeof(*server->registrations));
    if (!grown)
        return berr_set(err, BERR_NOMEM, "register %s: out of memory", method->path);
    server->registrations = grown;
    grown[server->registration_count++] =
        (struct registration){.method = method, .handler = handler, .data = data};
    return 0;
}

int rpc_server_start(struct rpc_server *server, struct berr *err)
{
    int rc = 0;

    if (server->started)
        return berr_set(err, BERR_CONFLICT, "gRPC server: already started");
    grpc_server_start(server->core);
    pthread_mutex_lock(&server->mutex);
    server->started = true;
    for (int i = 0; i < PENDING_REQUEST_COUNT && rc == 0; i++)
        rc = post_request(server, err);
    pthread_mutex_unlock(&server->mutex);
    if (rc)
        return rc;
    for (int i = 0; i < POLLER_COUNT; i++) {
        rc = pthread_create(&server->pollers[i], NULL, poller_thread, server);
        if (rc)
            return berr_errno(err, rc, "gRPC server: start a poller thread");
        server->poller_count++;
    }
    return 0;
}

int rpc_server_port(const struct rpc_server *server)
{
    return server->port;
}

static void shutdown_server(struct rpc_server *server, bool tear_down_library)
{
    if (!server)
        return;
    pthread_mutex_lock(&server->mutex);
    server->shutting_down = true;
    pthread_mutex_unlock(&server->mutex);

    grpc_server_shutdown_and_notify(server->core, server->notify_queue, &server->shutdown_tag);
    /* Without this, open streams would keep the shutdown pending forever. */
    grpc_server_cancel_all_calls(server->core);
    if (server->poller_count > 0) {
        for (int i = 0; i < server->poller_count; i++)
            pthread_join(server->pollers[i], NULL);
    } else {
        drain_notifications(server);
    }

    pthread_mutex_lock(&server->mutex);
    retire_idle_workers(server);
    while (server->worker_count > 0)
        pthread_cond_wait(&server->workers_done, &server->mutex);
    pthread_mutex_unlock(&server->mutex);
    join_exited_workers(server);

    grpc_server_destroy(server->core);
    grpc_completion_queue_destroy(server->notify_queue);
    if (tear_down_library)
        rpc_library_shutdown();
    if (server->lock_fd >= 0)
        close(server->lock_fd);
    pthread_cond_destroy(&server->workers_done);
    pthread_mutex_destroy(&server->mutex);
    free(server->registrations);
    free(server->socket_path);
    free(server);
}

void rpc_server_shutdown(struct rpc_server *server)
{
    shutdown_server(server, true);
}

void rpc_server_shutdown_for_exit(struct rpc_server *server)
{
    shutdown_server(server, false);
}

/* --- in handlers --------------------------------------------------------- */

const struct rpc_method *rpc_call_method(const struct rpc_call *call)
{
    return call->registration ? call->registration->method : NULL;
}

const char *rpc_call_metadata(struct rpc_call *call, const char *key)
{
    for (size_t i = 0; i < call->metadata.count; i++) {
        const grpc_metadata *entry = &call->metadata.metadata[i];
        if (grpc_slice_str_cmp(entry->key, key) != 0)
            continue;
        if (!call->metadata_values) {
            call->metadata_values = calloc(call->metadata.count, sizeof(char *));
            if (!call->metadata_values)
                return NULL;
        }
        if (!call->metadata_values[i])
            call->metadata_values[i] = strndup((const char *)GRPC_SLICE_START_PTR(entry->value),
                                               GRPC_SLICE_LENGTH(entry->value));
        return call->metadata_values[i];
    }
    return NULL;
}

const char *rpc_call_namespace(struct rpc_call *call)
{
    return rpc_call_metadata(call, RPC_NAMESPACE_KEY);
}

bool rpc_call_cancelled(struct rpc_call *call)
{
    bool cancelled;

    if (rpc_call_remaining_ms(call) == 0)
        return true;
    pthread_mutex_lock(&call->close_mutex);
    if (!call->closed) {
        grpc_event event = grpc_completion_queue_pluck(call->queue, &call->close_tag,
                                                       gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
        if (event.type == GRPC_OP_COMPLETE)
            call->closed = true;
    }
    /* Closed before the handler sent its status: cancelled, whatever the flag. */
    cancelled = call->closed;
    pthread_mutex_unlock(&call->close_mutex);
    return cancelled;
}

int rpc_call_send_headers(struct rpc_call *call, struct berr *err)
{
    grpc_op op = {.op = GRPC_OP_SEND_INITIAL_METADATA};

    if (call->initial_metadata_sent)
        return 0;
    call->initial_metadata_sent = true;
    return rpc_run_batch(call->core, call->queue, &op, 1, &call->send_tag, err);
}

void rpc_call_abort(struct rpc_call *call, int code, const char *message)
{
    /* grpc_call_cancel_with_status is safe from any thread. */
    grpc_call_cancel_with_status(call->core, rpc_status_from_berr(code), message, NULL);
}

long rpc_call_remaining_ms(struct rpc_call *call)
{
    gpr_timespec deadline = gpr_convert_clock_type(call->details.deadline, GPR_CLOCK_MONOTONIC);
    gpr_timespec left;

    if (gpr_time_cmp(deadline, gpr_inf_future(GPR_CLOCK_MONOTONIC)) == 0)
        return -1;
    left = gpr_time_sub(deadline, gpr_now(GPR_CLOCK_MONOTONIC));
    if (gpr_time_cmp(left, gpr_time_0(GPR_TIMESPAN)) <= 0)
        return 0;
    return (long)left.tv_sec * 1000 + left.tv_nsec / 1000000 + (left.tv_nsec % 1000000 != 0);
}

int rpc_call_receive(struct rpc_call *call, ProtobufCMessage **message, struct berr *err)
{
    const struct rpc_method *method = call->registration->method;
    grpc_byte_buffer *buffer = NULL;
    grpc_op op = {.op = GRPC_OP_RECV_MESSAGE};
    int rc;

    *message = NULL;
    if (call->end_of_requests)
        return RPC_END_OF_STREAM;
    if (!method->client_streaming && call->requests_received == 1) {
        call->end_of_requests = true;
        return RPC_END_OF_STREAM;
    }
    op.data.recv_message.recv_message = &buffer;
    rc = rpc_run_batch(call->core, call->queue, &op, 1, &call->receive_tag, err);
    if (rc == BERR_CANCELLED || (rc == 0 && !buffer && rpc_call_cancelled(call)))
        return berr_set(err, BERR_CANCELLED, "%s: the call was cancelled", method->path);
    if (rc)
        return berr_prefix(err, "%s: receive", method->path);
    if (!buffer) {
        call->end_of_requests = true;
        if (!method->client_streaming && call->requests_received == 0)
            return berr_set(err, BERR_INVALID, "%s: no request message", method->path);
        return RPC_END_OF_STREAM;
    }
    rc = rpc_unpack(method->input, buffer, message, err);
    grpc_byte_buffer_destroy(buffer);
    if (rc)
        return rc;
    call->requests_received++;
    return 0;
}

int rpc_call_send(struct rpc_call *call, const ProtobufCMessage *message, struct berr *err)
{
    const struct rpc_method *method = call->registration->method;
    grpc_byte_buffer *buffer;
    grpc_op ops[2];
    size_t count = 0;
    int rc;

    if (message->descriptor != method->output)
        return berr_set(err, BERR_INTERNAL, "%s: cannot send a %s, the method answers %s",
                        method->path, message->descriptor->name, method->output->name);
    if (!method->server_streaming) {
        if (call->single_response)
            return berr_set(err, BERR_INTERNAL, "%s: sends one response only", method->path);
        call->single_response = rpc_pack(message);
        return 0;
    }
    buffer = rpc_pack(message);
    memset(ops, 0, sizeof(ops));
    if (!call->initial_metadata_sent) {
        ops[count++].op = GRPC_OP_SEND_INITIAL_METADATA;
        call->initial_metadata_sent = true;
    }
    ops[count].op = GRPC_OP_SEND_MESSAGE;
    ops[count++].data.send_message.send_message = buffer;
    rc = rpc_run_batch(call->core, call->queue, ops, count, &call->send_tag, err);
    grpc_byte_buffer_destroy(buffer);
    if (rc == BERR_CANCELLED)
        return berr_set(err, BERR_CANCELLED, "%s: the call was cancelled", method->path);
    if (rc)
        return berr_prefix(err, "%s: send", method->path);
    return 0;
}
