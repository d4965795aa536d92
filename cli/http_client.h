/*
 * http_client: HTTP/1.1 to the engine over a unix socket (or tcp://), with
 * libcurl.
 *
 * Plain requests go through one reused easy handle (keep-alive across the
 * few calls a command makes). Bodies can be buffered, streamed to a sink as
 * they arrive (logs -f, events, image save), or streamed from a file
 * descriptor (image load, cp). Attach and exec need the connection itself
 * after the 101 response: http_hijack opens a CURLOPT_CONNECT_ONLY
 * connection, so curl still does the connecting (unix or tcp, proxies and
 * TLS later) and the stream is read and written with curl_easy_recv/send on
 * the socket curl reports, which we poll ourselves. Only the half-close
 * (stdin ended) reaches past curl, with shutdown(2) on that socket.
 */
#ifndef BERTH_CLI_HTTP_CLIENT_H
#define BERTH_CLI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "berr.h"
#include "buf.h"

struct http_client {
    char *host;        /* as the user gave it, for messages: "unix:///run/berth/engine.sock" */
    char *socket_path; /* unix socket, NULL for tcp */
    char *base_url;    /* "http://localhost" or "http://HOST:PORT" */
    void *curl;        /* CURL *, created on first use */
};

struct http_response {
    long status;
    struct strbuf body; /* buffered body (always, for error statuses) */
    char api_version[32];
    char ostype[32];
    char content_type[128];
    char docker_experimental[16];
    char path_stat[4096]; /* X-Docker-Container-Path-Stat (cp) */
};

/* Called with each piece of a successful body; a non-zero return aborts the transfer. */
typedef int (*http_sink_fn)(void *ctx, const char *data, size_t len, struct berr *err);

struct http_request {
    const char *method;
    const char *path; /* with its query string */
    const char *content_type;
    const char *body;
    size_t body_len;
    int body_fd;                /* >= 0: stream the body from this fd instead */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    http_sink_fn sink;          /* NULL: buffer the body in the response */
    void *sink_ctx;
    void (*on_headers)(void *ctx, const struct http_response *response);
    void *headers_ctx;
    /* when not NULL, gets the connection's socket as soon as it exists, so that another
     * thread can end a blocked request with shutdown(2) (run's wait) */
    int *socket_out;
};

/* host: "unix:///path", "tcp://host:port" or "http://host:port". */
int http_client_init(struct http_client *client, const char *host, struct berr *err);
void http_client_free(struct http_client *client);

/* Performs the request. HTTP error statuses are not errors here: check response->status. */
int http_do(struct http_client *client, const struct http_request *request,
            struct http_response *response, struct berr *err);
void http_response_free(struct http_response *response);

/* A hijacked connection: raw bytes both ways after the 101 response. */
struct http_conn {
    void *curl;
    int fd;
    struct strbuf pending; /* stream bytes that arrived with the response headers */
    size_t pending_off;
};

/*
 * Sends METHOD PATH with Connection: Upgrade / Upgrade: tcp and reads the
 * response head. On 101 (or 200) *conn is the open stream; otherwise the
 * error body is in response->body and conn is closed.
 */
int http_hijack(struct http_client *client, const char *method, const char *path,
                const char *content_type, const char *body, struct http_conn *conn,
                struct http_response *response, struct berr *err);
/* > 0 bytes read, 0 end of stream, -1 error (err set), -2 nothing available now. */
ssize_t http_conn_read(struct http_conn *conn, char *buf, size_t len, struct berr *err);
int http_conn_write_all(struct http_conn *conn, const char *data, size_t len, struct berr *err);
void http_conn_close_write(struct http_conn *conn);
void http_conn_close(struct http_conn *conn);

/* Percent-encodes a query value or path segment. */
void http_escape(struct strbuf *out, const char *text);

#endif
