/*
 * api: version negotiation, versioned paths, daemon errors and lenient JSON
 * access (see api.h for why each behaves as it does).
 */
#include "api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

const char *api_pick_host(const char *host)
{
    const char *env;

    if (host && *host)
        return host;
    env = getenv("BERTH_HOST");
    if (env && *env)
        return env;
    env = getenv("DOCKER_HOST");
    if (env && *env)
        return env;
    return API_DEFAULT_HOST;
}

int api_open(struct api *api, const char *host, struct berr *err)
{
    const char *fixed = getenv("DOCKER_API_VERSION");

    memset(api, 0, sizeof(*api));
    if (fixed && *fixed) {
        snprintf(api->version, sizeof(api->version), "%s", fixed[0] == 'v' ? fixed + 1 : fixed);
        api->negotiated = true;
    }
    return http_client_init(&api->http, api_pick_host(host), err);
}

void api_close(struct api *api)
{
    http_client_free(&api->http);
}

int api_version_compare(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10);
        long y = strtol(b, (char **)&b, 10);

        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if (!isdigit((unsigned char)*a) && !isdigit((unsigned char)*b))
            break;
    }
    return 0;
}

bool api_version_at_least(struct api *api, const char *version)
{
    struct berr ignored;

    if (!api->negotiated)
        api_negotiate(api, &ignored);
    return api_version_compare(api->version, version) >= 0;
}

static void take_ping(struct api *api, const struct http_response *response)
{
    const char *server = response->api_version[0] ? response->api_version : API_FALLBACK_VERSION;

    if (api_version_compare(server, API_CLIENT_VERSION) < 0)
        snprintf(api->version, sizeof(api->version), "%s", server);
    else
        snprintf(api->version, sizeof(api->version), "%s", API_CLIENT_VERSION);
    snprintf(api->ostype, sizeof(api->ostype), "%s", response->ostype);
    api->experimental = strcmp(response->docker_experimental, "true") == 0;
    api->negotiated = true;
}

int api_negotiate(struct api *api, struct berr *err)
{
    struct http_request request = {.method = "HEAD", .path = "/_ping", .body_fd = -1};
    struct http_response response;
    int rc;

    if (api->negotiated)
        return 0;
    rc = http_do(&api->http, &request, &response, err);
    if (rc == 0 && response.status == 200) {
        take_ping(api, &response);
        http_response_free(&response);
        return 0;
    }
    http_response_free(&response);
    if (rc == BERR_UNAVAILABLE)
        return rc;
    request.method = "GET";
    rc = http_do(&api->http, &request, &response, err);
    if (rc == 0 && (response.status == 200 || response.status == 500 || response.api_version[0]))
        take_ping(api, &response);
    else if (rc == 0)
        rc = api_error_from_response(&response, err);
    http_response_free(&response);
    return rc;
}

static enum berr_code code_for_status(long status)
{
    switch (status) {
    case 400:
        return BERR_INVALID;
    case 401:
    case 403:
        return BERR_PERMISSION;
    case 404:
        return BERR_NOT_FOUND;
    case 409:
        return BERR_CONFLICT;
    case 501:
        return BERR_UNSUPPORTED;
    case 503:
        return BERR_UNAVAILABLE;
    default:
        return BERR_IO;
    }
}

int api_error_from_response(const struct http_response *response, struct berr *err)
{
    enum berr_code code = code_for_status(response->status);
    yajl_val tree = NULL;
    struct berr ignored;
    const char *message = NULL;
    char text[BERR_MESSAGE_MAX];
    size_t len;

    if (response->body.len && json_parse(sb_str(&response->body), &tree, &ignored) == 0)
        message = jstr(tree, "message");
    if (message && *message) {
        berr_set(err, code, "Error response from daemon: %s", message);
    } else {
        snprintf(text, sizeof(text), "%s", sb_str(&response->body));
        len = strlen(text);
        while (len && isspace((unsigned char)text[len - 1]))
            text[--len] = '\0';
        if (len)
            berr_set(err, code, "Error response from daemon: %s", text);
        else
            berr_set(err, code, "Error response from daemon: HTTP status %ld", response->status);
    }
    if (tree)
        yajl_tree_free(tree);
    return code;
}

int api_do(struct api *api, struct http_request *request, struct http_response *response,
           struct berr *err)
{
    const char *unversioned = request->path;
    char *path;
    int rc = api_negotiate(api, err);

    if (rc)
        return rc;
    path = xasprintf("/v%s%s", api->version, unversioned);
    request->path = path;
    rc = http_do(&api->http, request, response, err);
    log_debug("%s %s -> %ld%s%s", request->method, path, rc ? 0L : response->status, rc ? ": " : "",
              rc ? err->message : "");
    request->path = unversioned;
    free(path);
    if (rc)
        return rc;
    if (response->status >= 400) {
        rc = api_error_from_response(response, err);
        http_response_free(response);
        memset(response, 0, sizeof(*response));
        return rc;
    }
    return 0;
}

int api_call_json(struct api *api, const char *method, const char *path, const char *body,
                  yajl_val *out, struct berr *err)
{
    struct http_request request = {
        .method = method,
        .path = path,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .body_fd = -1,
        .content_type = body ? "application/json" : NULL,
    };
    struct http_response response;
    int rc = api_do(api, &request, &response, err);

    if (out)
        *out = NULL;
    if (rc)
        return rc;
    if (out && response.body.len) {
        rc = json_parse(sb_str(&response.body), out, err);
        if (rc)
            berr_prefix(err, "the daemon's answer to %s %s", method, path);
    }
    http_response_free(&response);
    return rc;
}

int api_get_json(struct api *api, const char *path, yajl_val *out, struct berr *err)
{
    int rc = api_call_json(api, "GET", path, NULL, out, err);

    if (rc == 0 && !*out)
        return berr_set(err, BERR_IO, "the daemon sent an empty answer to GET %s", path);
    return rc;
}

void api_query(struct strbuf *path, const char *key, const char *value)
{
    sb_putc(path, strchr(sb_str(path), '?') ? '&' : '?');
    http_escape(path, key);
    sb_putc(path, '=');
    http_escape(path, value);
}

void api_segment(struct strbuf *path, const char *segment)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)segment; *p; p++) {
        if (isalnum(*p) || strchr("-_.~/:@+", *p)) {
            sb_putc(path, (char)*p);
        } else {
            sb_putc(path, '%');
            sb_putc(path, hex[*p >> 4]);
            sb_putc(path, hex[*p & 15]);
        }
    }
}

int api_filters_json(const struct strlist *filters, char **out, struct berr *err)
{
    struct json_writer writer;
    const char *text;
    size_t len;
    int rc;

    *out = NULL;
    if (!filters->len)
        return 0;
    rc = json_writer_init(&writer, false, err);
    if (rc)
        return rc;
    json_object_begin(&writer);
    /* group values by key, keys in first-seen order */
    for (size_t i = 0; i < filters->len; i++) {
        const char *item = filters->items[i];
        const char *eq = strchr(item, '=');
        bool seen = false;

        if (!eq) {
            json_writer_free(&writer);
            return berr_set(err, BERR_INVALID, "bad format of filter (expected name=value)");
        }
        for (size_t j = 0; j < i; j++)
            if (strncmp(filters->items[j], item, (size_t)(eq - item) + 1) == 0)
                seen = true;
        if (seen)
            continue;
        {
            char *key = xstrndup(item, (size_t)(eq - item));

            json_key(&writer, key);
            free(key);
        }
        json_object_begin(&writer);
        for (size_t j = i; j < filters->len; j++) {
            if (strncmp(filters->items[j], item, (size_t)(eq - item) + 1) == 0)
                json_kv_bool(&writer, filters->items[j] + (eq - item) + 1, true);
        }
        json_object_end(&writer);
    }
    json_object_end(&writer);
    rc = json_writer_result(&writer, &text, &len, err);
    if (rc == 0)
        *out = xstrndup(text, len);
    json_writer_free(&writer);
    return rc;
}

yajl_val jget(yajl_val value, const char *dotted_path)
{
    const char *p = dotted_path;

    while (value && *p) {
        size_t len = strcspn(p, ".");
        yajl_val next = NULL;

        if (!YAJL_IS_OBJECT(value))
            return NULL;
        for (size_t i = 0; i < value->u.object.len; i++) {
            if (strlen(value->u.object.keys[i]) == len &&
                strncmp(value->u.object.keys[i], p, len) == 0) {
                next = value->u.object.values[i];
                break;
            }
        }
        value = next;
        p += len;
        if (*p == '.')
            p++;
    }
    return value;
}

const char *jstr(yajl_val value, const char *dotted_path)
{
    yajl_val v = jget(value, dotted_path);

    return v && YAJL_IS_STRING(v) ? v->u.string : "";
}

int64_t jint(yajl_val value, const char *dotted_path)
{
    yajl_val v = jget(value, dotted_path);

    if (!v || !YAJL_IS_NUMBER(v))
        return 0;
    if (v->u.number.flags & YAJL_NUMBER_INT_VALID)
        return v->u.number.i;
    return (int64_t)v->u.number.d;
}

double jdouble(yajl_val value, const char *dotted_path)
{
    yajl_val v = jget(value, dotted_path);

    if (!v || !YAJL_IS_NUMBER(v))
        return 0;
    if (v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID)
        return v->u.number.d;
    return (double)v->u.number.i;
}

bool jbool(yajl_val value, const char *dotted_path)
{
    yajl_val v = jget(value, dotted_path);

    return v && YAJL_IS_TRUE(v);
}

size_t jlen(yajl_val value)
{
    if (value && YAJL_IS_ARRAY(value))
        return value->u.array.len;
    if (value && YAJL_IS_OBJECT(value))
        return value->u.object.len;
    return 0;
}
