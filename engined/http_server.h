/*
 * http_server: berth-engined's HTTP layer over libmicrohttpd, shaped for
 * the Docker Engine API.
 *
 * Why this shape: the API has four kinds of answers, and each handler
 * should only say which one it gives:
 *  - a whole body (JSON, an error, nothing): http_respond_*;
 *  - a stream the handler writes as things happen (events, logs -f, stats,
 *    wait's late status, pull progress): http_respond_stream, whose writer
 *    runs on a thread of its own and blocks while the client is slow;
 *  - a hijacked connection (attach, exec start): http_respond_upgrade,
 *    after which the handler owns the raw socket in both directions;
 *  - a request body too large to hold (image load, archive upload): routes
 *    registered with HTTP_ROUTE_STREAM_BODY read it with
 *    http_request_read_body while it arrives.
 * libmicrohttpd runs a thread per connection, so handlers may block.
 *
 * Paths may carry an API version (/v1.47/containers/json); the server
 * strips it, checks it against [HTTP_API_MIN, HTTP_API_MAX] and gives it to
 * handlers (http_request_api_version). Every response carries Api-Version,
 * Ostype and Server headers, as the docker CLI reads them.
 */
#ifndef BERTH_ENGINED_HTTP_SERVER_H
#define BERTH_ENGINED_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berr.h"
#include "json.h"

/* API versions as major*100+minor: 1.47 is 147. */
#define HTTP_API_MAX        147
#define HTTP_API_MIN        124
#define HTTP_API_MAX_STRING "1.47"
#define HTTP_API_MIN_STRING "1.24"

/* Bodies held in memory are refused above this (413). */
#define HTTP_BODY_MAX (16u << 20)

struct http_server;
struct http_request;
struct http_stream;
struct http_hijack;

typedef void (*http_handler)(struct http_request *request, void *data);

enum http_route_flags {
    HTTP_ROUTE_STREAM_BODY = 1, /* the handler reads the body as it arrives */
};

/* address: "unix:///path", "unix:/path" or "/path" (mode 0660). */
int http_server_create(const char *address, struct http_server **out, struct berr *err);

/*
 * method: "GET", "POST", ... ("GET" also answers HEAD). pattern:
 * "/containers/{id}/json"; a parameter ending in '*' ("/images/{name*}/json")
 * takes one or more segments (image names have slashes). Routes are
 * matched in registration order.
 */
int http_server_route(struct http_server *server, const char *method, const char *pattern,
                      http_handler handler, void *data, unsigned flags, struct berr *err);

int http_server_start(struct http_server *server, struct berr *err);
/* Stops listening, closes every connection and waits for the handlers. */
void http_server_stop(struct http_server *server);

/* ---- the request ---- */

const char *http_request_method(const struct http_request *request);
const char *http_request_path(const struct http_request *request); /* without /v1.NN */
int http_request_api_version(const struct http_request *request);  /* 147 for 1.47 */
/* A route parameter ("id" for {id}); never NULL inside its route. */
const char *http_request_param(const struct http_request *request, const char *name);
/* A query argument, or NULL. */
const char *http_request_query(const struct http_request *request, const char *name);
/* Every value of a repeated query argument (?names=a&names=b), in order:
 * a NULL-terminated array to free() (the strings belong to the request). */
const char **http_request_query_all(const struct http_request *request, const char *name,
                                    size_t *count);
/* Docker's booleans: "1", "true", "True" are true; "0", "false", "" false;
 * absent: fallback. */
bool http_request_query_bool(const struct http_request *request, const char *name, bool fallback);
/* An integer argument; BERR_INVALID (and a 400 for the caller to send) if
 * malformed. Absent: *value = fallback. */
int http_request_query_int(const struct http_request *request, const char *name, long long fallback,
                           long long *value, struct berr *err);
const char *http_request_header(const struct http_request *request, const char *name);
/* The whole body (NUL-terminated; "" when none). Not for stream-body routes. */
const char *http_request_body(const struct http_request *request, size_t *length);
/* The body parsed as JSON (NULL with no body). BERR_INVALID if malformed. */
int http_request_json(const struct http_request *request, yajl_val *out, struct berr *err);
/* Stream-body routes: up to size bytes; 0 at the end of the body. */
ssize_t http_request_read_body(struct http_request *request, void *buffer, size_t size,
                               struct berr *err);

/* A header for the response the handler is about to give (any kind; the
 * common ones come anyway). At most a few per request. */
int http_request_add_response_header(struct http_request *request, const char *name,
                                     const char *value, struct berr *err);

/* ---- whole responses: exactly one per request ---- */

void http_respond(struct http_request *request, int status, const char *content_type,
                  const void *body, size_t length);
void http_respond_json(struct http_request *request, int status, const char *json, size_t length);
/* Takes the writer's result and frees the writer. */
void http_respond_json_writer(struct http_request *request, int status, struct json_writer *writer);
void http_respond_empty(struct http_request *request, int status);
/* {"message": "..."} with status. */
void http_respond_error(struct http_request *request, int status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* An error with the status its code calls for: BERR_INVALID 400,
 * BERR_NOT_FOUND 404, BERR_EXISTS and BERR_CONFLICT 409, BERR_UNSUPPORTED
 * 501, BERR_UNAVAILABLE 503, else 500. */
void http_respond_berr(struct http_request *request, const struct berr *err);
int http_status_from_berr(int code);

/* ---- streamed responses ---- */

/* Runs writer(stream, context) on a thread of its own; what it writes goes
 * out as the body (chunked). The headers go out at once, before the writer
 * has written anything. free_context (may be NULL) runs after the writer. */
typedef void (*http_stream_writer)(struct http_stream *stream, void *context);
void http_respond_stream(struct http_request *request, int status, const char *content_type,
                         http_stream_writer writer, void *context,
                         void (*free_context)(void *context));
/* Blocks until the client took the bytes; BERR_CANCELLED once it went away. */
int http_stream_write(struct http_stream *stream, const void *data, size_t length,
                      struct berr *err);
/* Ends the body as broken rather than complete (the connection closes
 * without the last chunk), so the client sees an error and not a short
 * but well-formed body: for a writer that failed half-way (an archive). */
void http_stream_abort(struct http_stream *stream);
/* True once the client went away (for writers that wait for something). */
bool http_stream_closed(struct http_stream *stream);
/* A descriptor that becomes readable (POLLERR/POLLHUP) when the client goes
 * away, for writers that poll other descriptors too. */
int http_stream_poll_fd(struct http_stream *stream);

/* ---- hijacked connections ---- */

/* Answers 101 with Upgrade: tcp (when the client asked for an upgrade;
 * else 200) and content_type, then runs session(hijack, context) on the
 * connection's thread with the raw socket. */
typedef void (*http_hijack_session)(struct http_hijack *hijack, void *context);
void http_respond_upgrade(struct http_request *request, const char *content_type,
                          http_hijack_session session, void *context,
                          void (*free_context)(void *context));
/* The socket: read the client's bytes, write ours. Reads first return the
 * bytes the server had already buffered (http_hijack_read does that). */
int http_hijack_fd(const struct http_hijack *hijack);
ssize_t http_hijack_read(struct http_hijack *hijack, void *buffer, size_t size);
/* Writes everything (retrying short writes); BERR_CANCELLED if the client left. */
int http_hijack_write(struct http_hijack *hijack, const void *data, size_t length,
                      struct berr *err);
/* Readable once the server stops: sessions poll it beside their socket. */
int http_hijack_stop_fd(const struct http_hijack *hijack);
/* Bytes the server had read past the request before the upgrade. */
size_t http_hijack_pending(const struct http_hijack *hijack);

#endif
