/*
 * api: the Docker Engine API as the commands use it.
 *
 * Version negotiation happens once, lazily, the way the docker CLI does it
 * (HEAD /_ping, GET /_ping as a fallback, the Api-Version header, 1.24 when
 * it is missing), and every later request goes to /vN.NN/path. Error
 * answers become a berr whose message is what the docker CLI prints:
 * "Error response from daemon: <message>". The lenient JSON getters never
 * fail: a missing or mistyped field reads as empty, so a surprising answer
 * prints an empty column instead of crashing the CLI.
 */
#ifndef BERTH_CLI_API_H
#define BERTH_CLI_API_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "berr.h"
#include "buf.h"
#include "http_client.h"

/* The newest API version this CLI speaks (the engine's spec is 1.47). */
#define API_CLIENT_VERSION "1.47"
/* Assumed when a daemon sends no Api-Version header. */
#define API_FALLBACK_VERSION "1.24"
#define API_DEFAULT_HOST     "unix:///run/berth/engine.sock"

struct api {
    struct http_client http;
    char version[16];
    bool negotiated;
    char ostype[32];
    bool experimental;
};

/* Picks the engine: host (-H) if not NULL, else BERTH_HOST, DOCKER_HOST, the default. */
const char *api_pick_host(const char *host);
int api_open(struct api *api, const char *host, struct berr *err);
void api_close(struct api *api);
int api_negotiate(struct api *api, struct berr *err);
/* Compares dotted versions: <0, 0, >0. */
int api_version_compare(const char *a, const char *b);
bool api_version_at_least(struct api *api, const char *version);

/*
 * Sends request (its path unversioned: "/containers/json?all=1") to the
 * negotiated version. Status >= 400 becomes an error: the message is the
 * daemon's, prefixed "Error response from daemon: ", the code follows the
 * status (404 BERR_NOT_FOUND, 409 BERR_CONFLICT, ...).
 */
int api_do(struct api *api, struct http_request *request, struct http_response *response,
           struct berr *err);
/* GET path, parse the JSON answer. */
int api_get_json(struct api *api, const char *path, yajl_val *out, struct berr *err);
/* METHOD path with a JSON body (may be NULL); *out (if not NULL) gets the parsed answer or NULL. */
int api_call_json(struct api *api, const char *method, const char *path, const char *body,
                  yajl_val *out, struct berr *err);
/* Turns an error answer into err. */
int api_error_from_response(const struct http_response *response, struct berr *err);

/* Appends "?key=value" or "&key=value", escaped. */
void api_query(struct strbuf *path, const char *key, const char *value);
/* Appends an escaped path segment (keeps '/', ':' and '@' of image references). */
void api_segment(struct strbuf *path, const char *segment);
/* "-f a=b -f c=d" as the API's filters JSON ({"a":{"b":true},...}); NULL when there are none. */
int api_filters_json(const struct strlist *filters, char **out, struct berr *err);

/* Lenient getters: a dotted path ("State.Status") into a tree. */
yajl_val jget(yajl_val value, const char *dotted_path);
const char *jstr(yajl_val value, const char *dotted_path); /* "" when absent */
int64_t jint(yajl_val value, const char *dotted_path);     /* 0 when absent */
double jdouble(yajl_val value, const char *dotted_path);
bool jbool(yajl_val value, const char *dotted_path);
size_t jlen(yajl_val array_or_object);

#endif
