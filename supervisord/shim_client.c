/*
 * shim_client: see shim_client.h.
 */
#include "shim_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "framing.h"

struct shim_client {
    int fd;
    uint64_t next_id;
    pthread_mutex_t lock;
};

/* Socket paths may be longer than sun_path: connect through an O_PATH fd of
 * the directory (/proc/self/fd/N/NAME), as the shim binds. */
static int connect_path(int fd, const char *path, struct berr *err)
{
    struct sockaddr_un address;
    char directory[PATH_MAX];
    const char *slash;
    int directory_fd = -1, rc = 0;

    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    if (strlen(path) < sizeof(address.sun_path)) {
        strcpy(address.sun_path, path);
    } else {
        slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) >= sizeof(directory))
            return berr_set(err, BERR_INVALID, "shim socket %s: path too long", path);
        memcpy(directory, path, (size_t)(slash - path));
        directory[slash - path] = '\0';
        directory_fd = open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (directory_fd < 0)
            return berr_errno(err, errno, "shim socket %s", path);
        if ((size_t)snprintf(address.sun_path, sizeof(address.sun_path), "/proc/self/fd/%d/%s",
                             directory_fd, slash + 1) >= sizeof(address.sun_path)) {
            close(directory_fd);
            return berr_set(err, BERR_INVALID, "shim socket %s: name too long", path);
        }
    }
    if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
        rc = berr_errno(err, errno == ENOENT ? ECONNREFUSED : errno, "connect to shim %s", path);
    if (directory_fd >= 0)
        close(directory_fd);
    return rc;
}

int shim_client_connect(const char *socket_path, struct shim_client **out, struct berr *err)
{
    struct shim_client *client = calloc(1, sizeof(*client));
    int rc;

    if (!client)
        return berr_set(err, BERR_NOMEM, "out of memory");
    client->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client->fd < 0) {
        rc = berr_errno(err, errno, "socket");
        free(client);
        return rc;
    }
    if ((rc = connect_path(client->fd, socket_path, err))) {
        close(client->fd);
        free(client);
        return rc;
    }
    client->next_id = 1;
    pthread_mutex_init(&client->lock, NULL);
    *out = client;
    return 0;
}

void shim_client_close(struct shim_client *client)
{
    if (!client)
        return;
    close(client->fd);
    pthread_mutex_destroy(&client->lock);
    free(client);
}

int shim_client_fd(const struct shim_client *client)
{
    return client->fd;
}

static int send_message(int fd, const ProtobufCMessage *message, struct berr *err)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t stack_buffer[4096],
        *buffer = size <= sizeof(stack_buffer) ? stack_buffer : malloc(size);
    int rc;

    if (!buffer)
        return berr_set(err, BERR_NOMEM, "out of memory");
    protobuf_c_message_pack(message, buffer);
    rc = framing_write(fd, buffer, size, err);
    if (buffer != stack_buffer)
        free(buffer);
    return rc;
}

static int receive_response(int fd, Berth__Shim__V1__Response **out, struct berr *err)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    int rc = framing_read(fd, FRAMING_DEFAULT_MAX_SIZE, &payload, &size, err);

    if (rc)
        return rc;
    *out = berth__shim__v1__response__unpack(NULL, size, payload);
    free(payload);
    if (!*out)
        return berr_set(err, BERR_IO, "the shim sent a malformed message");
    return 0;
}

/* Reads answers until the one to request_id (events, id 0, are skipped). */
static int receive_answer(struct shim_client *client, uint64_t request_id,
                          Berth__Shim__V1__Response **response, struct berr *err)
{
    Berth__Shim__V1__Response *answer = NULL;
    int rc;

    while ((rc = receive_response(client->fd, &answer, err)) == 0 && answer->id != request_id) {
        if (answer->id != 0) {
            rc = berr_set(err, BERR_IO, "the shim answered request %llu, not %llu",
                          (unsigned long long)answer->id, (unsigned long long)request_id);
        } else if (answer->error_code) {
            /* An error about a malformed frame: ours, so fail. */
            rc = berr_set(err, (enum berr_code)answer->error_code, "shim: %s", answer->error);
        }
        berth__shim__v1__response__free_unpacked(answer, NULL);
        answer = NULL;
        if (rc)
            return rc;
    }
    if (rc)
        return rc;
    if (answer->error_code) {
        rc = berr_set(err, (enum berr_code)answer->error_code, "%s", answer->error);
        berth__shim__v1__response__free_unpacked(answer, NULL);
        return rc;
    }
    *response = answer;
    return 0;
}

int shim_client_call(struct shim_client *client, Berth__Shim__V1__Request *request,
                     Berth__Shim__V1__Response **response, struct berr *err)
{
    int rc;

    pthread_mutex_lock(&client->lock);
    request->id = client->next_id++;
    rc = send_message(client->fd, &request->base, err);
    if (rc == 0)
        rc = receive_answer(client, request->id, response, err);
    pthread_mutex_unlock(&client->lock);
    return rc;
}

int shim_client_call_cancellable(struct shim_client *client, Berth__Shim__V1__Request *request,
                                 bool (*cancelled)(void *), void *context,
                                 Berth__Shim__V1__Response **response, struct berr *err)
{
    struct pollfd ready = {.fd = client->fd, .events = POLLIN};
    int rc;

    pthread_mutex_lock(&client->lock);
    request->id = client->next_id++;
    rc = send_message(client->fd, &request->base, err);
    while (rc == 0) {
        int polled = poll(&ready, 1, 250);
        if (polled > 0)
            break;
        if (polled < 0 && errno != EINTR)
            rc = berr_errno(err, errno, "poll the shim");
        else if (cancelled && cancelled(context))
            rc = berr_set(err, BERR_CANCELLED, "cancelled while waiting for the shim");
    }
    if (rc == 0)
        rc = receive_answer(client, request->id, response, err);
    pthread_mutex_unlock(&client->lock);
    return rc;
}

int shim_client_next_event(struct shim_client *client, Berth__Shim__V1__Event **event,
                           struct berr *err)
{
    for (;;) {
        Berth__Shim__V1__Response *answer = NULL;
        int rc = receive_response(client->fd, &answer, err);
        if (rc)
            return rc;
        if (answer->kind_case == BERTH__SHIM__V1__RESPONSE__KIND_EVENT && answer->event) {
            *event = answer->event;
            answer->event = NULL;
            answer->kind_case = BERTH__SHIM__V1__RESPONSE__KIND__NOT_SET;
            berth__shim__v1__response__free_unpacked(answer, NULL);
            return 0;
        }
        berth__shim__v1__response__free_unpacked(answer, NULL);
    }
}

int shim_client_send_frame(struct shim_client *client, const Berth__Shim__V1__AttachFrame *frame,
                           struct berr *err)
{
    return send_message(client->fd, &frame->base, err);
}

int shim_client_receive_frame(struct shim_client *client, Berth__Shim__V1__AttachFrame **frame,
                              struct berr *err)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    int rc = framing_read(client->fd, FRAMING_DEFAULT_MAX_SIZE, &payload, &size, err);

    if (rc)
        return rc;
    *frame = berth__shim__v1__attach_frame__unpack(NULL, size, payload);
    free(payload);
    if (!*frame)
        return berr_set(err, BERR_IO, "the shim sent a malformed attach frame");
    return 0;
}
