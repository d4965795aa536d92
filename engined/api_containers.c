/*
 * api_containers: the /containers routes of the Docker Engine API that
 * make up the lifecycle (create, list, inspect, start, stop, restart,
 * kill, wait, remove, rename, pause, unpause, update, top, prune, export,
 * changes). Each handler parses and checks the request, calls
 * containers.h (or reads the store), and writes Docker's JSON shapes.
 * Attach and resize (api_attach.c), logs (api_logs.c), exec (api_exec.c)
 * and stats (api_stats.c) are other files'.
 */
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_store.h"
#include "containers.h"
#include "engine.h"
#include "docker_filters.h"
#include "exec_store.h"
#include "image_store.h"
#include "log.h"
#include "rootfs.h"
#include "sandbox.h"
#include "signals.h"
#include "spec.h"
#include "supervisor_api.h"
#include "docker_time.h"
#include "timefmt.h"
#include "top.h"

#define WAIT_POLL_MS 250

/* ---- filters (docker_filters.h) and the matching containers need ---- */

static const char *const *filter_values(const struct docker_filters *filters, const char *name)
{
    size_t count = 0;
    const char *const *values = docker_filters_values(filters, name, &count);

    return count ? values : NULL;
}

static bool filter_has(const struct docker_filters *filters, const char *name)
{
    return filter_values(filters, name) != NULL;
}

static bool regex_matches(const char *pattern, const char *text)
{
    regex_t regex;
    bool matched;

    if (regcomp(&regex, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return strstr(text, pattern) != NULL;
    matched = regexec(&regex, text, 0, NULL, 0) == 0;
    regfree(&regex);
    return matched;
}

/* dockerd's Match: any value, as an unanchored regular expression (names
 * and ids of containers are matched so: name=^/web$). */
static bool filter_regex(const struct docker_filters *filters, const char *name, const char *text)
{
    size_t count = 0;
    const char *const *values = docker_filters_values(filters, name, &count);

    if (!count)
        return true;
    for (size_t i = 0; i < count; i++)
        if (regex_matches(values[i], text))
            return true;
    return false;
}

/* Config.Labels as the key, value, ..., NULL pairs docker_filters takes. */
static const char **label_pairs(yajl_val labels)
{
    size_t count = YAJL_IS_OBJECT(labels) ? labels->u.object.len : 0, n = 0;
    const char **pairs = calloc(2 * count + 1, sizeof(*pairs));

    for (size_t i = 0; pairs && i < count; i++) {
        if (!YAJL_IS_STRING(labels->u.object.values[i]))
            continue;
        pairs[n++] = labels->u.object.keys[i];
        pairs[n++] = labels->u.object.values[i]->u.string;
    }
    return pairs;
}

static bool filter_labels(const struct docker_filters *filters, const char *name, yajl_val labels)
{
    const char **pairs;
    bool matched;

    if (!filter_has(filters, name))
        return true;
    if (!(pairs = label_pairs(labels)))
        return false;
    matched = docker_filters_match_pairs(filters, name, pairs);
    free(pairs);
    return matched;
}

/* labels has KEY (expression "KEY") or KEY=VALUE ("KEY=VALUE"). */
static bool label_holds(yajl_val labels, const char *expression)
{
    const char *equals = strchr(expression, '=');
    size_t length = equals ? (size_t)(equals - expression) : strlen(expression);

    for (size_t k = 0; YAJL_IS_OBJECT(labels) && k < labels->u.object.len; k++) {
        yajl_val value = labels->u.object.values[k];
        if (strlen(labels->u.object.keys[k]) != length ||
            strncmp(labels->u.object.keys[k], expression, length) != 0)
            continue;
        return !equals || (YAJL_IS_STRING(value) && strcmp(value->u.string, equals + 1) == 0);
    }
    return false;
}

/* ---- helpers ---- */

/* The container of the route's {id}; answers 404 (or 400) itself. */
static struct container *route_container(struct http_request *request, struct engine *engine)
{
    struct container *container;
    struct berr err;

    if (container_store_get(engine->containers, http_request_param(request, "id"), &container,
                            &err)) {
        http_respond_berr(request, &err);
        return NULL;
    }
    return container;
}

static bool json_writer_start(struct http_request *request, struct json_writer *writer)
{
    struct berr err;

    if (json_writer_init(writer, false, &err)) {
        http_respond_berr(request, &err);
        return false;
    }
    return true;
}

/* "signal" as a name or number; absent: fallback. */
static int query_signal(struct http_request *request, int fallback, int *signal, struct berr *err)
{
    const char *text = http_request_query(request, "signal");

    *signal = fallback;
    if (!text || !*text)
        return 0;
    return signal_parse(text, signal, err);
}

static const char *network_name(const struct container_settings *settings)
{
    if (strcmp(settings->network_mode, "default") == 0 ||
        strcmp(settings->network_mode, "bridge") == 0)
        return "bridge";
    return settings->network_mode;
}

static void write_endpoint(struct json_writer *writer)
{
    json_object_begin(writer);
    json_key(writer, "IPAMConfig");
    json_null(writer);
    json_key(writer, "Links");
    json_null(writer);
    json_key(writer, "Aliases");
    json_null(writer);
    json_kv_string(writer, "MacAddress", "");
    json_key(writer, "DriverOpts");
    json_null(writer);
    json_kv_string(writer, "NetworkID", "");
    json_kv_string(writer, "EndpointID", "");
    json_kv_string(writer, "Gateway", "");
    json_kv_string(writer, "IPAddress", "");
    json_kv_int(writer, "IPPrefixLen", 0);
    json_kv_string(writer, "IPv6Gateway", "");
    json_kv_string(writer, "GlobalIPv6Address", "");
    json_kv_int(writer, "GlobalIPv6PrefixLen", 0);
    json_key(writer, "DNSNames");
    json_null(writer);
    json_object_end(writer);
}

static void write_networks(struct json_writer *writer, const struct container_settings *settings)
{
    json_key(writer, "Networks");
    json_object_begin(writer);
    json_key(writer, network_name(settings));
    write_endpoint(writer);
    json_object_end(writer);
}

static void write_string_vector(struct json_writer *writer, const char *key, char *const *vector)
{
    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; vector && vector[i]; i++)
        json_string(writer, vector[i]);
    json_array_end(writer);
}

/* The writable layer's size and the whole root filesystem's. */
static void container_sizes(struct engine *engine, struct container *container, int64_t *rw,
                            int64_t *root)
{
    char *parent = NULL;
    struct berr err;

    *rw = *root = 0;
    if (sv_snapshot_usage(engine->supervisor, container->snapshot_key, rw, &parent, &err))
        return;
    *root = *rw;
    for (int depth = 0; parent && depth < 512; depth++) {
        char *next = NULL;
        int64_t size = 0;
        int rc = sv_snapshot_usage(engine->supervisor, parent, &size, &next, &err);
        free(parent);
        parent = rc ? NULL : next;
        *root += size;
    }
    free(parent);
}

/* Path and Args as one string, as `docker ps` shows the command. */
static char *command_line(const struct container *container)
{
    size_t length = strlen(container->path) + 1;
    char *text;

    for (size_t i = 0; container->args[i]; i++)
        length += strlen(container->args[i]) + 1;
    text = malloc(length);
    if (!text)
        return NULL;
    strcpy(text, container->path);
    for (size_t i = 0; container->args[i]; i++) {
        strcat(text, " ");
        strcat(text, container->args[i]);
    }
    return text;
}

/* ---- create ---- */

static void create(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct json_writer writer;
    char *id = NULL, **warnings = NULL;
    yajl_val body = NULL;
    struct berr err;

    if (http_request_json(request, &body, &err) ||
        containers_create(engine, body, http_request_query(request, "name"), &id, &warnings,
                          &err)) {
        yajl_tree_free(body);
        http_respond_berr(request, &err);
        return;
    }
    yajl_tree_free(body);
    if (json_writer_start(request, &writer)) {
        json_object_begin(&writer);
        json_kv_string(&writer, "Id", id);
        write_string_vector(&writer, "Warnings", warnings);
        json_object_end(&writer);
        http_respond_json_writer(request, 201, &writer);
    }
    free(id);
    json_free_string_array(warnings);
}

/* ---- list ---- */

static const char *const list_filter_keys[] = {
    "ancestor", "before", "expose",  "exited",  "health", "id",     "isolation", "is-task",
    "label",    "name",   "network", "publish", "since",  "status", "volume",    NULL,
};

static const char *const valid_states[] = {"created", "restarting", "running", "removing",
                                           "paused",  "exited",     "dead",    NULL};

struct list_query {
    struct docker_filters *filters;
    bool all, size;
    long long limit;
    int64_t before, since; /* creation times; 0: none */
    char **ancestors;      /* image IDs */
};

static void list_query_free(struct list_query *query)
{
    docker_filters_free(query->filters);
    json_free_string_array(query->ancestors);
}

/* The creation time of the container a before/since filter names. */
static int reference_time(struct engine *engine, const struct docker_filters *filters,
                          const char *key, int64_t *out, struct berr *err)
{
    const char *const *values = filter_values(filters, key);
    struct container *container;
    int rc;

    *out = 0;
    if (!values)
        return 0;
    if ((rc = container_store_get(engine->containers, values[0], &container, err)))
        return rc == BERR_NOT_FOUND
                   ? berr_set(err, BERR_NOT_FOUND, "No such container: %s", values[0])
                   : rc;
    *out = container->created;
    container_put(container);
    return 0;
}

static int check_list_values(const struct docker_filters *filters, struct berr *err)
{
    const char *const *values = filter_values(filters, "status");

    for (size_t i = 0; values && values[i]; i++) {
        size_t k;
        for (k = 0; valid_states[k] && strcmp(valid_states[k], values[i]) != 0; k++)
            ;
        if (!valid_states[k])
            return berr_set(err, BERR_INVALID, "invalid filter 'status=%s'", values[i]);
    }
    values = filter_values(filters, "health");
    for (size_t i = 0; values && values[i]; i++)
        if (strcmp(values[i], "starting") && strcmp(values[i], "healthy") &&
            strcmp(values[i], "unhealthy") && strcmp(values[i], "none"))
            return berr_set(err, BERR_INVALID, "Unrecognised filter value for health: %s",
                            values[i]);
    values = filter_values(filters, "exited");
    for (size_t i = 0; values && values[i]; i++) {
        char *end;
        strtol(values[i], &end, 10);
        if (end == values[i] || *end)
            return berr_set(err, BERR_INVALID, "invalid filter 'exited=%s'", values[i]);
    }
    return 0;
}

static int parse_list_query(struct http_request *request, struct engine *engine,
                            struct list_query *query, struct berr *err)
{
    const char *const *ancestors;
    size_t n = 0;
    int rc;

    memset(query, 0, sizeof(*query));
    query->all = http_request_query_bool(request, "all", false);
    query->size = http_request_query_bool(request, "size", false);
    if ((rc = http_request_query_int(request, "limit", 0, &query->limit, err)) ||
        (rc = docker_filters_parse(http_request_query(request, "filters"), &query->filters, err)) ||
        (rc = docker_filters_validate(query->filters, list_filter_keys, err)) ||
        (rc = check_list_values(query->filters, err)) ||
        (rc = reference_time(engine, query->filters, "before", &query->before, err)) ||
        (rc = reference_time(engine, query->filters, "since", &query->since, err)))
        return rc;
    /* dockerd: these filters look at stopped containers too. */
    if (filter_has(query->filters, "status") || filter_has(query->filters, "exited") ||
        query->before || query->since)
        query->all = true;
    ancestors = filter_values(query->filters, "ancestor");
    query->ancestors = calloc(1, sizeof(char *));
    if (!query->ancestors)
        return berr_set(err, BERR_NOMEM, "out of memory");
    for (size_t i = 0; ancestors && ancestors[i]; i++) {
        struct image_lookup lookup;
        char *id, **grown;
        struct berr ignored;
        if (image_store_lookup(engine->images, ancestors[i], &lookup, &ignored))
            continue; /* an unknown image is no container's ancestor */
        id = strdup(lookup.info->id);
        image_lookup_free(&lookup);
        if (!id)
            return berr_set(err, BERR_NOMEM, "out of memory");
        grown = realloc(query->ancestors, (n + 2) * sizeof(char *));
        if (!grown) {
            free(id);
            return berr_set(err, BERR_NOMEM, "out of memory");
        }
        query->ancestors = grown;
        grown[n++] = id;
        grown[n] = NULL;
    }
    return 0;
}

static bool matches_ancestor(const struct list_query *query, const struct container *container,
                             const struct container_settings *settings)
{
    const char *const *values = filter_values(query->filters, "ancestor");

    if (!values)
        return true;
    for (size_t i = 0; query->ancestors[i]; i++)
        if (strcmp(query->ancestors[i], container->image_id) == 0)
            return true;
    for (size_t i = 0; values[i]; i++)
        if (strcmp(values[i], settings->image) == 0)
            return true;
    return false;
}

static bool matches_health(const struct docker_filters *filters, const struct container *container)
{
    const char *status = "none";
    yajl_val health = NULL;
    bool matched;

    if (!filter_has(filters, "health"))
        return true;
    if (container->state.health && json_parse(container->state.health, &health, NULL) == 0)
        json_get_string(health, "Status", &status, NULL);
    matched = docker_filters_exact(filters, "health", status);
    yajl_tree_free(health);
    return matched;
}

static bool matches_volume(const struct docker_filters *filters,
                           const struct container_settings *settings)
{
    const char *const *values = filter_values(filters, "volume");
    yajl_val binds = json_get(settings->host_config, "Binds");

    if (!values)
        return true;
    for (size_t i = 0; values[i]; i++)
        for (size_t k = 0; YAJL_IS_ARRAY(binds) && k < binds->u.array.len; k++)
            if (YAJL_IS_STRING(binds->u.array.values[k]) &&
                strstr(binds->u.array.values[k]->u.string, values[i]))
                return true;
    return false;
}

/* Whether the container passes the query. Hold container->lock. */
static bool list_matches(const struct list_query *query, const struct container *container)
{
    const struct container_settings *settings = container->settings;
    const struct docker_filters *filters = query->filters;
    char exit_code[16];

    if (!query->all && !container->state.running)
        return false;
    if (query->before && container->created >= query->before)
        return false;
    if (query->since && container->created <= query->since)
        return false;
    snprintf(exit_code, sizeof(exit_code), "%d", container->state.exit_code);
    if (filter_has(filters, "exited") &&
        (container->state.running || !container->state.started_at ||
         !docker_filters_exact(filters, "exited", exit_code)))
        return false;
    if (filter_has(filters, "publish") || filter_has(filters, "expose"))
        return false; /* no published or exposed ports yet */
    if (filter_has(filters, "is-task") && !docker_filters_exact(filters, "is-task", "false"))
        return false;
    return filter_regex(filters, "id", container->id) &&
           filter_regex(filters, "name", container->name) &&
           docker_filters_exact(filters, "status", container_status(container)) &&
           filter_labels(filters, "label", settings->labels) &&
           docker_filters_exact(filters, "network", network_name(settings)) &&
           matches_ancestor(query, container, settings) && matches_health(filters, container) &&
           matches_volume(filters, settings);
}

/* sizes: SizeRw and SizeRootFs, or NULL. Hold container->lock. */
static void write_summary(struct container *container, const int64_t *sizes, int64_t now,
                          struct json_writer *writer)
{
    const struct container_settings *settings = container->settings;
    char status[128], *command = command_line(container);

    json_object_begin(writer);
    json_kv_string(writer, "Id", container->id);
    json_key(writer, "Names");
    json_array_begin(writer);
    json_string(writer, container->name);
    json_array_end(writer);
    json_kv_string(writer, "Image", *settings->image ? settings->image : container->image_id);
    json_kv_string(writer, "ImageID", container->image_id);
    json_kv_string(writer, "Command", command ? command : container->path);
    json_kv_int(writer, "Created", container->created / 1000000000LL);
    json_key(writer, "Ports");
    json_array_begin(writer);
    json_array_end(writer);
    if (sizes) {
        json_kv_int(writer, "SizeRw", sizes[0]);
        json_kv_int(writer, "SizeRootFs", sizes[1]);
    }
    json_key(writer, "Labels");
    if (settings->labels)
        json_value(writer, settings->labels);
    else
        json_object_begin(writer), json_object_end(writer);
    json_kv_string(writer, "State", container_status(container));
    container_status_text(container, now, status, sizeof(status));
    json_kv_string(writer, "Status", status);
    json_key(writer, "HostConfig");
    json_object_begin(writer);
    json_kv_string(writer, "NetworkMode", settings->network_mode);
    json_object_end(writer);
    json_key(writer, "NetworkSettings");
    json_object_begin(writer);
    write_networks(writer, settings);
    json_object_end(writer);
    json_key(writer, "Mounts");
    spec_write_mount_points(writer, settings->host_config);
    json_object_end(writer);
    free(command);
}

static void list(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container **containers = NULL;
    struct list_query query;
    struct json_writer writer;
    int64_t now = docker_time_now();
    long long written = 0;
    size_t count = 0;
    struct berr err;

    if (parse_list_query(request, engine, &query, &err) ||
        container_store_list(engine->containers, &containers, &count, &err)) {
        list_query_free(&query);
        http_respond_berr(request, &err);
        return;
    }
    if (query.limit > 0)
        query.all = true;
    if (json_writer_start(request, &writer)) {
        json_array_begin(&writer);
        for (size_t i = 0; i < count && (query.limit <= 0 || written < query.limit); i++) {
            struct container *container = containers[i];
            int64_t sizes[2] = {0, 0};
            bool matched;
            pthread_mutex_lock(&container->lock);
            matched = list_matches(&query, container);
            pthread_mutex_unlock(&container->lock);
            if (!matched)
                continue;
            /* Sizes ask the supervisor: not under the container's lock. */
            if (query.size)
                container_sizes(engine, container, &sizes[0], &sizes[1]);
            pthread_mutex_lock(&container->lock);
            write_summary(container, query.size ? sizes : NULL, now, &writer);
            pthread_mutex_unlock(&container->lock);
            written++;
        }
        json_array_end(&writer);
        http_respond_json_writer(request, 200, &writer);
    }
    container_list_free(containers, count);
    list_query_free(&query);
}

/* ---- inspect ---- */

static void write_graph_driver(char *const *layers, struct json_writer *writer)
{
    json_key(writer, "GraphDriver");
    json_object_begin(writer);
    json_key(writer, "Data");
    if (layers && layers[0] && layers[1]) {
        size_t length = 0;
        char *lower;
        for (size_t i = 1; layers[i]; i++)
            length += strlen(layers[i]) + 1;
        lower = calloc(1, length + 1);
        for (size_t i = 1; lower && layers[i]; i++) {
            if (i > 1)
                strcat(lower, ":");
            strcat(lower, layers[i]);
        }
        json_object_begin(writer);
        json_kv_string(writer, "LowerDir", lower ? lower : "");
        json_kv_string(writer, "UpperDir", layers[0]);
        json_object_end(writer);
        free(lower);
    } else {
        json_null(writer);
    }
    json_kv_string(writer, "Name", "overlay2");
    json_object_end(writer);
}

static void write_network_settings(struct engine *engine, struct container *container,
                                   const struct container_settings *settings,
                                   struct json_writer *writer)
{
    char *netns = settings->host_network ? NULL : sandbox_netns_path(engine->state, container->id);

    json_key(writer, "NetworkSettings");
    json_object_begin(writer);
    json_kv_string(writer, "Bridge", "");
    json_kv_string(writer, "SandboxID", "");
    json_kv_string(writer, "SandboxKey", netns && container->state.running ? netns : "");
    json_key(writer, "Ports");
    json_object_begin(writer);
    json_object_end(writer);
    json_kv_bool(writer, "HairpinMode", false);
    json_kv_string(writer, "LinkLocalIPv6Address", "");
    json_kv_int(writer, "LinkLocalIPv6PrefixLen", 0);
    json_key(writer, "SecondaryIPAddresses");
    json_null(writer);
    json_key(writer, "SecondaryIPv6Addresses");
    json_null(writer);
    json_kv_string(writer, "EndpointID", "");
    json_kv_string(writer, "Gateway", "");
    json_kv_string(writer, "GlobalIPv6Address", "");
    json_kv_int(writer, "GlobalIPv6PrefixLen", 0);
    json_kv_string(writer, "IPAddress", "");
    json_kv_int(writer, "IPPrefixLen", 0);
    json_kv_string(writer, "IPv6Gateway", "");
    json_kv_string(writer, "MacAddress", "");
    write_networks(writer, settings);
    json_object_end(writer);
    free(netns);
}

/* layers (may be NULL) and sizes (NULL: not asked for) come from the
 * supervisor beforehand. Hold container->lock. */
static void write_inspect(struct engine *engine, struct container *container, char *const *layers,
                          const int64_t *sizes, struct json_writer *writer)
{
    const struct container_settings *settings = container->settings;
    char created[TIMEFMT_SIZE];

    json_object_begin(writer);
    json_kv_string(writer, "Id", container->id);
    json_kv_string(writer, "Created", timefmt_rfc3339(container->created, created));
    json_kv_string(writer, "Path", container->path);
    write_string_vector(writer, "Args", container->args);
    json_key(writer, "State");
    container_state_json(container, writer);
    json_kv_string(writer, "Image", container->image_id);
    json_kv_string(writer, "ResolvConfPath", container->resolv_conf_path);
    json_kv_string(writer, "HostnamePath", container->hostname_path);
    json_kv_string(writer, "HostsPath", container->hosts_path);
    json_kv_string(writer, "LogPath", container->log_path ? container->log_path : "");
    json_kv_string(writer, "Name", container->name);
    json_kv_int(writer, "RestartCount", container->restart_count);
    json_kv_string(writer, "Driver", "overlay2");
    json_kv_string(writer, "Platform", "linux");
    json_kv_string(writer, "MountLabel", "");
    json_kv_string(writer, "ProcessLabel", "");
    json_kv_string(writer, "AppArmorProfile", "");
    json_key(writer, "ExecIDs");
    exec_store_write_ids(container, writer);
    json_key(writer, "HostConfig");
    json_value(writer, settings->host_config);
    write_graph_driver(layers, writer);
    if (sizes) {
        json_kv_int(writer, "SizeRw", sizes[0]);
        json_kv_int(writer, "SizeRootFs", sizes[1]);
    }
    json_key(writer, "Mounts");
    spec_write_mount_points(writer, settings->host_config);
    json_key(writer, "Config");
    json_value(writer, settings->config);
    write_network_settings(engine, container, settings, writer);
    json_object_end(writer);
}

static void inspect(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    bool size = http_request_query_bool(request, "size", false);
    int64_t sizes[2] = {0, 0};
    struct json_writer writer;
    char **layers = NULL;
    struct berr err;

    if (!container)
        return;
    if (containers_layers(engine, container, &layers, &err))
        layers = NULL; /* GraphDriver.Data is then null */
    if (size)
        container_sizes(engine, container, &sizes[0], &sizes[1]);
    if (json_writer_start(request, &writer)) {
        pthread_mutex_lock(&container->lock);
        write_inspect(engine, container, layers, size ? sizes : NULL, &writer);
        pthread_mutex_unlock(&container->lock);
        http_respond_json_writer(request, 200, &writer);
    }
    json_free_string_array(layers);
    container_put(container);
}

/* ---- start, stop, restart, kill, remove, pause, unpause, rename ---- */

static void respond_done(struct http_request *request, int rc, bool not_modified,
                         const struct berr *err)
{
    if (rc)
        http_respond_berr(request, err);
    else
        http_respond_empty(request, not_modified ? 304 : 204);
}

static void start(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    bool not_modified = false;
    struct berr err;
    int rc;

    if (!container)
        return;
    rc = containers_start(engine, container, &not_modified, &err);
    respond_done(request, rc, not_modified, &err);
    container_put(container);
}

/* ?t= and ?signal= of stop and restart. */
static int stop_arguments(struct http_request *request, int *timeout, int *signal, struct berr *err)
{
    long long seconds;
    int rc;

    if ((rc = http_request_query_int(request, "t", CONTAINERS_DEFAULT_TIMEOUT, &seconds, err)) ||
        (rc = query_signal(request, 0, signal, err)))
        return rc;
    *timeout = (int)seconds;
    return 0;
}

static void stop(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    bool not_modified = false;
    int timeout, signal, rc;
    struct berr err;

    if (!container)
        return;
    if ((rc = stop_arguments(request, &timeout, &signal, &err)) == 0)
        rc = containers_stop(engine, container, timeout, signal, &not_modified, &err);
    respond_done(request, rc, not_modified, &err);
    container_put(container);
}

static void restart(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    int timeout, signal, rc;
    struct berr err;

    if (!container)
        return;
    if ((rc = stop_arguments(request, &timeout, &signal, &err)) == 0)
        rc = containers_restart(engine, container, timeout, signal, &err);
    respond_done(request, rc, false, &err);
    container_put(container);
}

static void kill_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    struct berr err;
    int signal, rc;

    if (!container)
        return;
    if ((rc = query_signal(request, SIGKILL, &signal, &err)) == 0)
        rc = containers_kill(engine, container, signal, &err);
    respond_done(request, rc, false, &err);
    container_put(container);
}

static void remove_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    struct berr err;
    int rc;

    if (!container)
        return;
    if (http_request_query_bool(request, "link", false))
        rc = berr_set(&err, BERR_INVALID, "links are not supported: there is no link to remove");
    else
        rc = containers_remove(engine, container, http_request_query_bool(request, "force", false),
                               &err);
    respond_done(request, rc, false, &err);
    container_put(container);
}

static void pause_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    struct berr err;
    int rc;

    if (!container)
        return;
    rc = containers_pause(engine, container, &err);
    respond_done(request, rc, false, &err);
    container_put(container);
}

static void unpause_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    struct berr err;
    int rc;

    if (!container)
        return;
    rc = containers_unpause(engine, container, &err);
    respond_done(request, rc, false, &err);
    container_put(container);
}

static void rename_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    const char *name = http_request_query(request, "name");
    struct container *container;
    struct berr err;
    int rc;

    if (!name || !*name) {
        http_respond_error(request, 400, "Neither old nor new names may be empty");
        return;
    }
    if (!(container = route_container(request, engine)))
        return;
    rc = containers_rename(engine, container, name, &err);
    respond_done(request, rc, false, &err);
    container_put(container);
}

/* ---- update ---- */

static void update(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container;
    struct json_writer writer;
    yajl_val body = NULL;
    struct berr err;
    int rc;

    if (http_request_json(request, &body, &err)) {
        http_respond_berr(request, &err);
        return;
    }
    if (!(container = route_container(request, engine))) {
        yajl_tree_free(body);
        return;
    }
    rc = containers_update(engine, container, body, &err);
    yajl_tree_free(body);
    container_put(container);
    if (rc) {
        http_respond_berr(request, &err);
        return;
    }
    if (json_writer_start(request, &writer)) {
        json_object_begin(&writer);
        json_key(&writer, "Warnings");
        json_array_begin(&writer);
        json_array_end(&writer);
        json_object_end(&writer);
        http_respond_json_writer(request, 200, &writer);
    }
}

/* ---- wait ---- */

enum wait_condition {
    WAIT_NOT_RUNNING,
    WAIT_NEXT_EXIT,
    WAIT_REMOVED,
};

struct waiter {
    struct container *container;
    enum wait_condition condition;
    uint64_t exits; /* at the request */
};

static void free_waiter(void *context)
{
    struct waiter *waiter = context;

    container_put(waiter->container);
    free(waiter);
}

/* Hold lock. */
static bool wait_done(const struct waiter *waiter)
{
    const struct container *container = waiter->container;

    switch (waiter->condition) {
    case WAIT_NOT_RUNNING:
        return !container->state.running || container->exits != waiter->exits || container->removed;
    case WAIT_NEXT_EXIT:
        return container->exits != waiter->exits || container->removed;
    case WAIT_REMOVED:
        return container->removed;
    }
    return true;
}

static void write_wait(struct http_stream *stream, void *context)
{
    struct waiter *waiter = context;
    struct container *container = waiter->container;
    struct berr err;
    char body[128];
    bool done = false;
    int code = 0, length;

    pthread_mutex_lock(&container->lock);
    while (!(done = wait_done(waiter))) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += WAIT_POLL_MS * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&container->changed, &container->lock, &deadline);
        if (!wait_done(waiter) && http_stream_closed(stream))
            break;
    }
    code = container->state.exit_code;
    pthread_mutex_unlock(&container->lock);
    if (!done)
        return; /* the client went away */
    length = snprintf(body, sizeof(body), "{\"Error\":null,\"StatusCode\":%d}\n", code);
    http_stream_write(stream, body, (size_t)length, &err);
}

static void wait_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    const char *condition = http_request_query(request, "condition");
    struct waiter *waiter;
    struct container *container;
    enum wait_condition which;

    if (!condition || !*condition || strcmp(condition, "not-running") == 0)
        which = WAIT_NOT_RUNNING;
    else if (strcmp(condition, "next-exit") == 0)
        which = WAIT_NEXT_EXIT;
    else if (strcmp(condition, "removed") == 0)
        which = WAIT_REMOVED;
    else {
        http_respond_error(request, 400, "invalid condition: \"%s\"", condition);
        return;
    }
    if (!(container = route_container(request, engine)))
        return;
    waiter = calloc(1, sizeof(*waiter));
    if (!waiter) {
        container_put(container);
        http_respond_error(request, 500, "out of memory");
        return;
    }
    waiter->container = container;
    waiter->condition = which;
    pthread_mutex_lock(&container->lock);
    waiter->exits = container->exits;
    pthread_mutex_unlock(&container->lock);
    /* The headers go out now: `docker run` starts the container only
     * once they have come. */
    http_respond_stream(request, 200, "application/json", write_wait, waiter, free_waiter);
}

/* ---- top ---- */

static void top(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    struct json_writer writer;
    uint32_t *pids = NULL;
    size_t count = 0;
    struct berr err;
    bool running;
    int rc;

    if (!container)
        return;
    pthread_mutex_lock(&container->lock);
    running = container->state.running && !container->state.restarting;
    pthread_mutex_unlock(&container->lock);
    if (!running)
        rc = berr_set(&err, BERR_CONFLICT, "Container %s is not running", container->id);
    else
        rc = sv_task_pids(engine->supervisor, container->id, &pids, &count, &err);
    if (rc == 0 && json_writer_start(request, &writer)) {
        if (top_write(pids, count, http_request_query(request, "ps_args"), &writer, &err)) {
            json_writer_free(&writer);
            http_respond_berr(request, &err);
        } else {
            http_respond_json_writer(request, 200, &writer);
        }
    } else if (rc) {
        http_respond_berr(request, &err);
    }
    free(pids);
    container_put(container);
}

/* ---- prune ---- */

static const char *const prune_filter_keys[] = {"until", "label", "label!", NULL};

static bool prune_matches(const struct docker_filters *filters, int64_t until,
                          const struct container *container)
{
    const char *const *excluded = filter_values(filters, "label!");
    const struct container_settings *settings = container->settings;

    if (container->state.running || container->state.removing)
        return false;
    if (until && container->created >= until)
        return false;
    if (!filter_labels(filters, "label", settings->labels))
        return false;
    for (size_t i = 0; excluded && excluded[i]; i++)
        if (label_holds(settings->labels, excluded[i]))
            return false;
    return true;
}

static void prune(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container **containers = NULL;
    struct docker_filters *filters = NULL;
    const char *const *until_values;
    struct json_writer writer;
    int64_t until = 0, reclaimed = 0;
    size_t count = 0;
    char total[32];
    const char *attributes[] = {"reclaimed", total, NULL};
    struct berr err = {0};

    if (docker_filters_parse(http_request_query(request, "filters"), &filters, &err) ||
        docker_filters_validate(filters, prune_filter_keys, &err) ||
        ((until_values = filter_values(filters, "until")) &&
         docker_time_parse(until_values[0], docker_time_now(), &until, &err)) ||
        container_store_list(engine->containers, &containers, &count, &err) ||
        !json_writer_start(request, &writer)) {
        if (err.code)
            http_respond_berr(request, &err);
        docker_filters_free(filters);
        container_list_free(containers, count);
        return;
    }
    json_object_begin(&writer);
    json_key(&writer, "ContainersDeleted");
    json_array_begin(&writer);
    for (size_t i = 0; i < count; i++) {
        struct container *container = containers[i];
        int64_t rw = 0, root = 0;
        bool matched;
        pthread_mutex_lock(&container->lock);
        matched = prune_matches(filters, until, container);
        pthread_mutex_unlock(&container->lock);
        if (!matched)
            continue;
        container_sizes(engine, container, &rw, &root);
        if (containers_remove(engine, container, false, &err) == 0) {
            json_string(&writer, container->id);
            reclaimed += rw;
        }
    }
    json_array_end(&writer);
    json_kv_int(&writer, "SpaceReclaimed", reclaimed);
    json_object_end(&writer);
    snprintf(total, sizeof(total), "%lld", (long long)reclaimed);
    engine_events_publish(engine->events, "container", "prune", "", attributes);
    http_respond_json_writer(request, 200, &writer);
    docker_filters_free(filters);
    container_list_free(containers, count);
}

/* ---- export, changes ---- */

struct exporter {
    struct engine *engine;
    struct container *container;
    char **layers;
};

static void free_exporter(void *context)
{
    struct exporter *exporter = context;

    json_free_string_array(exporter->layers);
    container_put(exporter->container);
    free(exporter);
}

static int export_write(void *context, const void *data, size_t length)
{
    struct berr err;

    return http_stream_write(context, data, length, &err);
}

static void write_export(struct http_stream *stream, void *context)
{
    struct exporter *exporter = context;
    char *view = NULL;
    struct berr err;

    if (rootfs_view(exporter->engine->state, exporter->container->id, exporter->layers, &view,
                    &err) == 0) {
        if (rootfs_tar(view, export_write, stream, &err) && err.code != BERR_CANCELLED)
            log_warn("export %.12s: %s", exporter->container->id, err.message);
        rootfs_view_release(view);
        free(view);
    }
}

static void export_container(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    struct exporter *exporter;
    struct berr err;

    if (!container)
        return;
    exporter = calloc(1, sizeof(*exporter));
    if (!exporter) {
        container_put(container);
        http_respond_error(request, 500, "out of memory");
        return;
    }
    exporter->engine = engine;
    exporter->container = container;
    /* The layers now, so that a missing snapshot is an error, not an empty tar. */
    if (containers_layers(engine, container, &exporter->layers, &err)) {
        free_exporter(exporter);
        http_respond_berr(request, &err);
        return;
    }
    container_event(engine->events, container, "export", NULL);
    http_respond_stream(request, 200, "application/x-tar", write_export, exporter, free_exporter);
}

static int write_change(const char *path, int kind, void *context)
{
    struct json_writer *writer = context;

    json_object_begin(writer);
    json_kv_string(writer, "Path", path);
    json_kv_int(writer, "Kind", kind);
    json_object_end(writer);
    return 0;
}

static void changes(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct container *container = route_container(request, engine);
    struct json_writer writer;
    char **layers = NULL;
    struct berr err;

    if (!container)
        return;
    if (containers_layers(engine, container, &layers, &err)) {
        http_respond_berr(request, &err);
    } else if (json_writer_start(request, &writer)) {
        json_array_begin(&writer);
        if (rootfs_changes(layers, write_change, &writer, &err)) {
            json_writer_free(&writer);
            http_respond_berr(request, &err);
        } else {
            json_array_end(&writer);
            http_respond_json_writer(request, 200, &writer);
        }
    }
    json_free_string_array(layers);
    container_put(container);
}

/* ---- routes ---- */

int api_containers_register(struct engine *engine, struct berr *err)
{
    static const struct {
        const char *method, *pattern;
        http_handler handler;
    } routes[] = {
        {"POST", "/containers/create", create},
        {"GET", "/containers/json", list},
        {"POST", "/containers/prune", prune},
        {"GET", "/containers/{id}/json", inspect},
        {"POST", "/containers/{id}/start", start},
        {"POST", "/containers/{id}/stop", stop},
        {"POST", "/containers/{id}/restart", restart},
        {"POST", "/containers/{id}/kill", kill_container},
        {"POST", "/containers/{id}/wait", wait_container},
        {"POST", "/containers/{id}/rename", rename_container},
        {"POST", "/containers/{id}/pause", pause_container},
        {"POST", "/containers/{id}/unpause", unpause_container},
        {"POST", "/containers/{id}/update", update},
        {"GET", "/containers/{id}/top", top},
        {"GET", "/containers/{id}/export", export_container},
        {"GET", "/containers/{id}/changes", changes},
        {"DELETE", "/containers/{id}", remove_container},
    };
    int rc;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if ((rc = http_server_route(engine->http, routes[i].method, routes[i].pattern,
                                    routes[i].handler, engine, 0, err)))
            return rc;
    return 0;
}
