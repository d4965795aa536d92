/*
 * http_client: libcurl over the engine's socket (see http_client.h for the
 * shape). Every curl error becomes a berr here, so callers see "Cannot
 * connect to the Docker daemon at ..." and never a curl code.
 */
#include "http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth_version.h"

#define USER_AGENT "berth/" BERTH_VERSION " (linux)"

static int unreachable(const struct http_client *client, struct berr *err)
{
    return berr_set(err, BERR_UNAVAILABLE,
                    "Cannot connect to the Docker daemon at %s. Is the docker daemon running?",
                    client->host);
}

int http_client_init(struct http_client *client, const char *host, struct berr *err)
{
    static bool global_done;

    memset(client, 0, sizeof(*client));
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
    }
    client->host = xstrdup(host);
    if (strncmp(host, "unix://", 7) == 0) {
        if (!host[7])
            return berr_set(err, BERR_INVALID, "unable to parse docker host `%s`", host);
        client->socket_path = xstrdup(host + 7);
        client->base_url = xstrdup("http://localhost");
    } else if (strncmp(host, "tcp://", 6) == 0 || strncmp(host, "http://", 7) == 0) {
        const char *rest = strchr(host, ':') + 3;
        size_t len = strcspn(rest, "/");

        if (!len)
            return berr_set(err, BERR_INVALID, "unable to parse docker host `%s`", host);
        client->base_url = xasprintf("http://%.*s", (int)len, rest);
    } else {
        return berr_set(err, BERR_INVALID, "unable to parse docker host `%s`", host);
    }
    return 0;
}

void http_client_free(struct http_client *client)
{
    if (client->curl)
        curl_easy_cleanup(client->curl);
    free(client->host);
    free(client->socket_path);
    free(client->base_url);
    memset(client, 0, sizeof(*client));
}

void http_response_free(struct http_response *response)
{
    sb_free(&response->body);
}

void http_escape(struct strbuf *out, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p)) {
            sb_putc(out, (char)*p);
        } else {
            sb_putc(out, '%');
            sb_putc(out, hex[*p >> 4]);
            sb_putc(out, hex[*p & 15]);
        }
    }
}

/* Copies the value of "Name: value\r\n" into out when line is that header. */
static void match_header(const char *line, size_t len, const char *name, char *out, size_t out_size)
{
    size_t name_len = strlen(name);

    if (len <= name_len + 1 || strncasecmp(line, name, name_len) != 0 || line[name_len] != ':')
        return;
    line += name_len + 1;
    len -= name_len + 1;
    while (len && (*line == ' ' || *line == '\t'))
        line++, len--;
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
        len--;
    snprintf(out, out_size, "%.*s", (int)len, line);
}

/* Fills the response from one header line; the status line resets it (100 Continue). */
static void parse_header_line(struct http_response *response, const char *line, size_t len)
{
    if (len > 9 && strncmp(line, "HTTP/", 5) == 0) {
        const char *space = memchr(line, ' ', len);

        response->status = space ? strtol(space + 1, NULL, 10) : 0;
        return;
    }
    match_header(line, len, "Api-Version", response->api_version, sizeof(response->api_version));
    match_header(line, len, "Ostype", response->ostype, sizeof(response->ostype));
    match_header(line, len, "Content-Type", response->content_type, sizeof(response->content_type));
    match_header(line, len, "Docker-Experimental", response->docker_experimental,
                 sizeof(response->docker_experimental));
    match_header(line, len, "X-Docker-Container-Path-Stat", response->path_stat,
                 sizeof(response->path_stat));
}

struct transfer {
    const struct http_request *request;
    struct http_response *response;
    struct berr *err;
    bool sink_failed;
    bool headers_reported;
};

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * count;

    if (len == 2 && data[0] == '\r' && data[1] == '\n') {
        if (t->response->status >= 200 && !t->headers_reported) {
            t->headers_reported = true;
            if (t->request->on_headers)
                t->request->on_headers(t->request->headers_ctx, t->response);
        }
        return len;
    }
    parse_header_line(t->response, data, len);
    return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * count;

    if (t->request->sink && t->response->status < 300) {
        if (t->request->sink(t->request->sink_ctx, data, len, t->err)) {
            t->sink_failed = true;
            return 0;
        }
        return len;
    }
    sb_append(&t->response->body, data, len);
    return len;
}

static size_t on_read(char *buffer, size_t size, size_t count, void *userdata)
{
    const struct http_request *request = userdata;

    for (;;) {
        ssize_t got = read(request->body_fd, buffer, size * count);

        if (got >= 0)
            return (size_t)got;
        if (errno != EINTR)
            return CURL_READFUNC_ABORT;
    }
}

static curl_socket_t on_open_socket(void *userdata, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    const struct http_request *request = userdata;
    curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);

    (void)purpose;
    if (request->socket_out)
        *request->socket_out = fd;
    return fd;
}

static CURL *client_handle(struct http_client *client)
{
    if (!client->curl)
        client->curl = curl_easy_init();
    else
        curl_easy_reset(client->curl);
    return client->curl;
}

static void set_common(CURL *curl, const struct http_client *client)
{
    if (client->socket_path)
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, client->socket_path);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
}

static struct curl_slist *build_headers(const struct http_request *request)
{
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    char line[256];

    if (request->content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", request->content_type);
        headers = curl_slist_append(headers, line);
    }
    for (const char *const *h = request->headers; h && *h; h++)
        headers = curl_slist_append(headers, *h);
    return headers;
}

static void set_body(CURL *curl, const struct http_request *request)
{
    const char *method = request->method;

    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (request->body_fd >= 0) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, (void *)request);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request->body ? request->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(request->body ? request->body_len : 0));
        if (strcmp(method, "PUT") == 0)
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
}

int http_do(struct http_client *client, const struct http_request *request,
            struct http_response *response, struct berr *err)
{
    CURL *curl = client_handle(client);
    struct transfer t = {request, response, err, false, false};
    struct curl_slist *headers = build_headers(request);
    char *url = xasprintf("%s%s", client->base_url, request->path);
    CURLcode rc;

    if (!curl)
        return berr_set(err, BERR_NOMEM, "curl_easy_init failed");
    memset(response, 0, sizeof(*response));
    set_common(curl, client);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    set_body(curl, request);
    if (request->socket_out) {
        /* a fresh connection, so that its socket is reported */
        curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, (void *)request);
    }
    rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    free(url);
    if (t.sink_failed)
        return err->code ? err->code : BERR_IO;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
        return unreachable(client, err);
    if (rc != CURLE_OK && !(rc == CURLE_PARTIAL_FILE && response->status))
        return berr_set(err, rc == CURLE_OPERATION_TIMEDOUT ? BERR_TIMEOUT : BERR_IO,
                        "error during connect: %s %s: %s", request->method, request->path,
                        curl_easy_strerror(rc));
    return 0;
}

/* ---- hijacked connections ---- */

static int wait_fd(int fd, short events, struct berr *err)
{
    struct pollfd pfd = {fd, events, 0};

    for (;;) {
        int n = poll(&pfd, 1, -1);

        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return berr_errno(err, errno, "poll");
    }
}

int http_conn_write_all(struct http_conn *conn, const char *data, size_t len, struct berr *err)
{
    while (len) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(conn->curl, data, len, &sent);

        if (rc == CURLE_AGAIN) {
            if (wait_fd(conn->fd, POLLOUT, err))
                return err->code;
            continue;
        }
        if (rc != CURLE_OK)
            return berr_set(err, BERR_IO, "write to the engine: %s", curl_easy_strerror(rc));
        data += sent;
        len -= sent;
    }
    return 0;
}

ssize_t http_conn_read(struct http_conn *conn, char *buf, size_t len, struct berr *err)
{
    size_t got = 0;
    CURLcode rc;

    if (conn->pending_off < conn->pending.len) {
        size_t n = conn->pending.len - conn->pending_off;

        if (n > len)
            n = len;
        memcpy(buf, conn->pending.data + conn->pending_off, n);
        conn->pending_off += n;
        return (ssize_t)n;
    }
    rc = curl_easy_recv(conn->curl, buf, len, &got);
    if (rc == CURLE_AGAIN)
        return -2;
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_RECV_ERROR) {
        /* a reset after the peer is done reads as the end of the stream */
        return 0;
    }
    if (rc != CURLE_OK) {
        berr_set(err, BERR_IO, "read from the engine: %s", curl_easy_strerror(rc));
        return -1;
    }
    return (ssize_t)got;
}

void http_conn_close_write(struct http_conn *conn)
{
    if (conn->fd >= 0)
        shutdown(conn->fd, SHUT_WR);
}

void http_conn_close(struct http_conn *conn)
{
    if (conn->curl)
        curl_easy_cleanup(conn->curl);
    conn->curl = NULL;
    conn->fd = -1;
    sb_free(&conn->pending);
}

/* Reads until the blank line that ends the response head; the rest stays pending. */
static int read_head(struct http_conn *conn, struct http_response *response, struct berr *err)
{
    char buf[4096];
    char *end;

    (void)response;
    while (!(end = strstr(sb_str(&conn->pending), "\r\n\r\n"))) {
        size_t got = 0;
        CURLcode rc;

        if (conn->pending.len > 65536)
            return berr_set(err, BERR_IO, "the engine sent an oversized response head");
        if (wait_fd(conn->fd, POLLIN, err))
            return err->code;
        rc = curl_easy_recv(conn->curl, buf, sizeof(buf), &got);
        if (rc == CURLE_AGAIN)
            continue;
        if (rc != CURLE_OK)
            return berr_set(err, BERR_IO, "read from the engine: %s", curl_easy_strerror(rc));
        if (got == 0)
            return berr_set(err, BERR_IO, "the engine closed the connection before answering");
        sb_append(&conn->pending, buf, got);
    }
    for (const char *line = conn->pending.data; line < end + 2;) {
        const char *eol = strstr(line, "\r\n");

        parse_header_line(response, line, (size_t)(eol - line));
        line = eol + 2;
    }
    conn->pending_off = (size_t)(end + 4 - conn->pending.data);
    return 0;
}

/* The body of an error answer: what is already here, then until EOF (bounded). */
static void read_error_body(struct http_conn *conn, struct http_response *response)
{
    char buf[4096];
    struct berr ignored;

    for (;;) {
        ssize_t n;

        if (response->body.len > 65536)
            break;
        if (conn->pending_off >= conn->pending.len) {
            struct pollfd pfd = {conn->fd, POLLIN, 0};

            if (poll(&pfd, 1, 2000) <= 0)
                break;
        }
        n = http_conn_read(conn, buf, sizeof(buf), &ignored);
        if (n == -2)
            continue;
        if (n <= 0)
            break;
        sb_append(&response->body, buf, (size_t)n);
        if (memchr(buf, '}', (size_t)n)) /* a JSON error body is one object */
            break;
    }
}

static int hijack_connect(struct http_client *client, struct http_conn *conn, struct berr *err)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    CURLcode rc;

    conn->curl = curl_easy_init();
    if (!conn->curl)
        return berr_set(err, BERR_NOMEM, "curl_easy_init failed");
    set_common(conn->curl, client);
    curl_easy_setopt(conn->curl, CURLOPT_URL, client->base_url);
    curl_easy_setopt(conn->curl, CURLOPT_CONNECT_ONLY, 1L);
    rc = curl_easy_perform(conn->curl);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
        return unreachable(client, err);
    if (rc != CURLE_OK)
        return berr_set(err, BERR_IO, "error during connect: %s", curl_easy_strerror(rc));
    curl_easy_getinfo(conn->curl, CURLINFO_ACTIVESOCKET, &fd);
    if (fd == CURL_SOCKET_BAD)
        return berr_set(err, BERR_IO, "error during connect: no socket");
    conn->fd = fd;
    return 0;
}

int http_hijack(struct http_client *client, const char *method, const char *path,
                const char *content_type, const char *body, struct http_conn *conn,
                struct http_response *response, struct berr *err)
{
    struct strbuf head = STRBUF_INIT;
    size_t body_len = body ? strlen(body) : 0;
    const char *host =
        strncmp(client->base_url, "http://", 7) == 0 ? client->base_url + 7 : client->base_url;
    int rc;

    memset(conn, 0, sizeof(*conn));
    memset(response, 0, sizeof(*response));
    conn->fd = -1;
    rc = hijack_connect(client, conn, err);
    if (rc)
        goto fail;
    sb_printf(&head,
              "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nContent-Type: %s\r\n"
              "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: %zu\r\n\r\n",
              method, path, host, USER_AGENT, content_type, body_len);
    if (body_len)
        sb_append(&head, body, body_len);
    rc = http_conn_write_all(conn, head.data, head.len, err);
    sb_free(&head);
    if (rc == 0)
        rc = read_head(conn, response, err);
    if (rc)
        goto fail;
    if (response->status == 101 || response->status == 200)
        return 0;
    /* an error answer: its body follows the head */
    sb_append(&response->body, conn->pending.data + conn->pending_off,
              conn->pending.len - conn->pending_off);
    conn->pending_off = conn->pending.len;
    if (!memchr(sb_str(&response->body), '}', response->body.len))
        read_error_body(conn, response);
    http_conn_close(conn);
    return 0;
fail:
    http_conn_close(conn);
    return rc;
}
