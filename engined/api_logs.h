/*
 * api_logs: GET /containers/{id}/logs, and the log replay attach's logs=1
 * shares with it (logs_send).
 *
 * Why logs_send takes a write function: the logs endpoint writes to a
 * streamed response, attach to a hijacked connection; what they send is
 * the same (the json-file entries, filtered, framed unless the container
 * has a terminal).
 */
#ifndef BERTH_ENGINED_API_LOGS_H
#define BERTH_ENGINED_API_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berr.h"
#include "container_store.h"
#include "http_server.h"

struct engine;

struct logs_query {
    bool stdout, stderr;
    bool follow;
    bool timestamps;
    int64_t since, until; /* ns since the epoch; 0: none */
    int64_t tail;         /* the last N entries; -1: all */
};

void logs_query_init(struct logs_query *query);
/* The query of a logs request (since/until in Docker's spellings: a bad
 * one is BERR_INVALID). */
int logs_parse_query(struct http_request *request, struct logs_query *query, struct berr *err);

/* Docker's timestamps=1 prefix, RFC 3339 with a fixed nine-digit
 * fraction: "2006-01-02T15:04:05.000000000Z". */
#define LOGS_TIMESTAMP_SIZE 32
void logs_format_timestamp(int64_t ns, char out[LOGS_TIMESTAMP_SIZE]);

typedef int (*logs_write_fn)(void *context, const void *data, size_t length, struct berr *err);

/* Sends the container's log as the query says (following until the
 * container stops, the client leaves, or `until` passes). closed_fd
 * becomes readable when the client leaves (-1: never checked). */
void logs_send(struct container *container, const struct logs_query *query, bool multiplexed,
               logs_write_fn write, void *context, int closed_fd);

int api_logs_register(struct engine *engine, struct berr *err);

#endif
