/*
 * api_system: the calls a client makes before anything else: /_ping (the
 * docker CLI's version negotiation reads its headers) and /version; and
 * the engine-wide ones: /info, /events, /system/df.
 *
 * Container counts (/info) and container sizes (/system/df) come from the
 * supervisor (Containers.List, Tasks.List, Snapshots.Usage in namespace
 * "berth"): the containers that run are the supervisor's, whatever the
 * engine's own records say. Names and commands, which only the engine's
 * container store knows, are left to it (see docs/engine.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api_images.h"
#include "berth/supervisor/v1/containers.pb-c.h"
#include "berth/supervisor/v1/containers.pb-rpc.h"
#include "berth/supervisor/v1/tasks.pb-c.h"
#include "berth/supervisor/v1/tasks.pb-rpc.h"
#include "berth_version.h"
#include "docker_filters.h"
#include "docker_time.h"
#include "engine.h"
#include "host_info.h"
#include "log.h"
#include "reference.h"

/* The label the containers API gives supervisor containers: their name. */
#define CONTAINER_LABEL_NAME "berth.engine/name"

/* Made once at start-up (host_engine_id). */
static char engine_id[64];

static void ping(struct http_request *request, void *data)
{
    (void)data;
    /* The docker CLI reads the headers (Api-Version...); HEAD gets no body. */
    http_respond(request, 200, "text/plain; charset=utf-8", "OK", 2);
}

static const char *machine_architecture(const struct utsname *host)
{
    /* Go's names, which clients compare with their own. */
    if (strcmp(host->machine, "x86_64") == 0)
        return "amd64";
    if (strcmp(host->machine, "aarch64") == 0)
        return "arm64";
    return host->machine;
}

static void write_version_fields(struct json_writer *writer, const struct utsname *host)
{
    json_kv_string(writer, "Version", BERTH_VERSION);
    json_kv_string(writer, "ApiVersion", HTTP_API_MAX_STRING);
    json_kv_string(writer, "MinAPIVersion", HTTP_API_MIN_STRING);
    json_kv_string(writer, "GitCommit", BERTH_GIT_COMMIT);
    json_kv_string(writer, "GoVersion", "none (C)");
    json_kv_string(writer, "Os", "linux");
    json_kv_string(writer, "Arch", machine_architecture(host));
    json_kv_string(writer, "KernelVersion", host->release);
    json_kv_string(writer, "BuildTime", "");
}

static void version(struct http_request *request, void *data)
{
    struct json_writer writer;
    struct utsname host;
    struct berr err;

    (void)data;
    uname(&host);
    if (json_writer_init(&writer, false, &err)) {
        http_respond_berr(request, &err);
        return;
    }
    json_object_begin(&writer);
    json_key(&writer, "Platform");
    json_object_begin(&writer);
    json_kv_string(&writer, "Name", "berth");
    json_object_end(&writer);
    json_key(&writer, "Components");
    json_array_begin(&writer);
    json_object_begin(&writer);
    json_kv_string(&writer, "Name", "Engine");
    json_kv_string(&writer, "Version", BERTH_VERSION);
    json_key(&writer, "Details");
    json_object_begin(&writer);
    json_kv_string(&writer, "ApiVersion", HTTP_API_MAX_STRING);
    json_kv_string(&writer, "Arch", machine_architecture(&host));
    json_kv_string(&writer, "BuildTime", "");
    json_kv_string(&writer, "Experimental", "false");
    json_kv_string(&writer, "GitCommit", BERTH_GIT_COMMIT);
    json_kv_string(&writer, "KernelVersion", host.release);
    json_kv_string(&writer, "MinAPIVersion", HTTP_API_MIN_STRING);
    json_kv_string(&writer, "Os", "linux");
    json_object_end(&writer);
    json_object_end(&writer);
    json_array_end(&writer);
    write_version_fields(&writer, &host);
    json_object_end(&writer);
    http_respond_json_writer(request, 200, &writer);
}

/* ---- what the supervisor runs ---- */

typedef Berth__Supervisor__V1__Container SupervisorContainer;
typedef Berth__Supervisor__V1__Process SupervisorProcess;

struct supervisor_state {
    Berth__Supervisor__V1__ListContainersResponse *containers;
    Berth__Supervisor__V1__ListTasksResponse *tasks;
};

static void supervisor_state_free(struct supervisor_state *state)
{
    if (state->containers)
        protobuf_c_message_free_unpacked(&state->containers->base, NULL);
    if (state->tasks)
        protobuf_c_message_free_unpacked(&state->tasks->base, NULL);
    memset(state, 0, sizeof(*state));
}

static int read_supervisor_state(struct engine *engine, struct supervisor_state *state,
                                 struct berr *err)
{
    Berth__Supervisor__V1__ListContainersRequest containers =
        BERTH__SUPERVISOR__V1__LIST_CONTAINERS_REQUEST__INIT;
    Berth__Supervisor__V1__ListTasksRequest tasks = BERTH__SUPERVISOR__V1__LIST_TASKS_REQUEST__INIT;
    int rc;

    memset(state, 0, sizeof(*state));
    if ((rc = rpc_client_unary(
             engine->supervisor,
             &berth_supervisor_v1_containers_methods[BERTH_SUPERVISOR_V1_CONTAINERS_LIST],
             ENGINE_NAMESPACE, &containers.base, (ProtobufCMessage **)&state->containers,
             ENGINE_RPC_TIMEOUT_MS, err)) ||
        (rc = rpc_client_unary(engine->supervisor,
                               &berth_supervisor_v1_tasks_methods[BERTH_SUPERVISOR_V1_TASKS_LIST],
                               ENGINE_NAMESPACE, &tasks.base, (ProtobufCMessage **)&state->tasks,
                               ENGINE_RPC_TIMEOUT_MS, err))) {
        supervisor_state_free(state);
        return berr_prefix(err, "ask the supervisor");
    }
    return 0;
}

/* The container's init task, or NULL when it has none. */
static const SupervisorProcess *task_of(const struct supervisor_state *state, const char *id)
{
    for (size_t i = 0; i < state->tasks->n_tasks; i++) {
        const SupervisorProcess *task = state->tasks->tasks[i];
        if ((!task->id || !*task->id) && strcmp(task->container_id, id) == 0)
            return task;
    }
    return NULL;
}

enum container_run_state { STATE_CREATED, STATE_RUNNING, STATE_PAUSED, STATE_EXITED };

static enum container_run_state run_state(const struct supervisor_state *state,
                                          const SupervisorContainer *container)
{
    const SupervisorProcess *task = task_of(state, container->id);

    if (!task)
        return STATE_EXITED;
    switch (task->status) {
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_RUNNING:
        return STATE_RUNNING;
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSED:
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_PAUSING:
        return STATE_PAUSED;
    case BERTH__SUPERVISOR__V1__STATUS__STATUS_CREATED:
        return STATE_CREATED;
    default:
        return STATE_EXITED;
    }
}

/* ---- GET /info ---- */

static void write_pair_list(struct json_writer *writer, const char *key,
                            const char *const pairs[][2], size_t count)
{
    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; i < count; i++) {
        json_array_begin(writer);
        json_string(writer, pairs[i][0]);
        json_string(writer, pairs[i][1]);
        json_array_end(writer);
    }
    json_array_end(writer);
}

static void write_string_array(struct json_writer *writer, const char *key,
                               const char *const *values, size_t count)
{
    json_key(writer, key);
    json_array_begin(writer);
    for (size_t i = 0; i < count; i++)
        json_string(writer, values[i]);
    json_array_end(writer);
}

static bool on_path(const char *program)
{
    const char *path = getenv("PATH");
    char *copy, *saveptr = NULL, candidate[4096];
    bool found = false;

    if (!path || !(copy = strdup(path)))
        return false;
    for (char *dir = strtok_r(copy, ":", &saveptr); dir && !found;
         dir = strtok_r(NULL, ":", &saveptr)) {
        snprintf(candidate, sizeof(candidate), "%s/%s", dir, program);
        found = access(candidate, X_OK) == 0;
    }
    free(copy);
    return found;
}

static void write_counts(struct json_writer *writer, const struct supervisor_state *state,
                         size_t images)
{
    int64_t running = 0, paused = 0, total = (int64_t)state->containers->n_containers;

    for (size_t i = 0; i < state->containers->n_containers; i++) {
        enum container_run_state run = run_state(state, state->containers->containers[i]);
        running += run == STATE_RUNNING;
        paused += run == STATE_PAUSED;
    }
    json_kv_int(writer, "Containers", total);
    json_kv_int(writer, "ContainersRunning", running);
    json_kv_int(writer, "ContainersPaused", paused);
    json_kv_int(writer, "ContainersStopped", total - running - paused);
    json_kv_int(writer, "Images", (int64_t)images);
}

static void write_host_limits(struct json_writer *writer, const struct host_info *host)
{
    json_kv_bool(writer, "MemoryLimit", host->memory_limit);
    json_kv_bool(writer, "SwapLimit", host->swap_limit);
    json_kv_bool(writer, "KernelMemoryTCP", host->kernel_memory_tcp);
    json_kv_bool(writer, "CpuCfsPeriod", host->cpu_cfs);
    json_kv_bool(writer, "CpuCfsQuota", host->cpu_cfs);
    json_kv_bool(writer, "CPUShares", host->cpu_shares);
    json_kv_bool(writer, "CPUSet", host->cpuset);
    json_kv_bool(writer, "PidsLimit", host->pids_limit);
    json_kv_bool(writer, "OomKillDisable", host->oom_kill_disable);
    json_kv_bool(writer, "IPv4Forwarding", host->ipv4_forwarding);
    json_kv_bool(writer, "BridgeNfIptables", host->bridge_nf_iptables);
    json_kv_bool(writer, "BridgeNfIp6tables", host->bridge_nf_ip6tables);
}

static void write_plugins(struct json_writer *writer)
{
    static const char *const volume[] = {"local"}, *const network[] = {"bridge", "host", "null"},
                             *const log[] = {"json-file"};

    json_key(writer, "Plugins");
    json_object_begin(writer);
    write_string_array(writer, "Volume", volume, 1);
    write_string_array(writer, "Network", network, 3);
    json_key(writer, "Authorization");
    json_null(writer);
    write_string_array(writer, "Log", log, 1);
    json_object_end(writer);
}

static void write_registry_config(struct json_writer *writer)
{
    static const char *const insecure[] = {"127.0.0.0/8", "::1/128"};

    json_kv_string(writer, "IndexServerAddress", "https://index.docker.io/v1/");
    json_key(writer, "RegistryConfig");
    json_object_begin(writer);
    write_string_array(writer, "AllowNondistributableArtifactsCIDRs", NULL, 0);
    write_string_array(writer, "AllowNondistributableArtifactsHostnames", NULL, 0);
    write_string_array(writer, "InsecureRegistryCIDRs", insecure, 2);
    json_key(writer, "IndexConfigs");
    json_object_begin(writer);
    json_key(writer, "docker.io");
    json_object_begin(writer);
    json_kv_string(writer, "Name", "docker.io");
    write_string_array(writer, "Mirrors", NULL, 0);
    json_kv_bool(writer, "Secure", true);
    json_kv_bool(writer, "Official", true);
    json_object_end(writer);
    json_object_end(writer);
    write_string_array(writer, "Mirrors", NULL, 0);
    json_object_end(writer);
}

static void write_runtimes(struct json_writer *writer)
{
    json_key(writer, "Runtimes");
    json_object_begin(writer);
    json_key(writer, "berth-runtime");
    json_object_begin(writer);
    json_kv_string(writer, "path", "berth-runtime");
    json_object_end(writer);
    if (on_path("runc")) {
        json_key(writer, "runc");
        json_object_begin(writer);
        json_kv_string(writer, "path", "runc");
        json_object_end(writer);
    }
    json_object_end(writer);
    json_kv_string(writer, "DefaultRuntime", "berth-runtime");
}

static void write_commit(struct json_writer *writer, const char *key, const char *id)
{
    json_key(writer, key);
    json_object_begin(writer);
    json_kv_string(writer, "ID", id);
    json_object_end(writer);
}

static void write_swarm(struct json_writer *writer)
{
    json_key(writer, "Swarm");
    json_object_begin(writer);
    json_kv_string(writer, "NodeID", "");
    json_kv_string(writer, "NodeAddr", "");
    json_kv_string(writer, "LocalNodeState", "inactive");
    json_kv_bool(writer, "ControlAvailable", false);
    json_kv_string(writer, "Error", "");
    json_key(writer, "RemoteManagers");
    json_null(writer);
    json_object_end(writer);
}

static void write_environment_proxies(struct json_writer *writer)
{
    const char *http = getenv("HTTP_PROXY"), *https = getenv("HTTPS_PROXY"),
               *none = getenv("NO_PROXY");

    json_kv_string(writer, "HttpProxy", http ? http : "");
    json_kv_string(writer, "HttpsProxy", https ? https : "");
    json_kv_string(writer, "NoProxy", none ? none : "");
}

static void write_warnings(struct json_writer *writer, const struct host_info *host)
{
    const char *warnings[4];
    size_t count = 0;

    if (!host->ipv4_forwarding)
        warnings[count++] = "WARNING: IPv4 forwarding is disabled";
    if (!host->swap_limit)
        warnings[count++] = "WARNING: No swap limit support";
    write_string_array(writer, "Warnings", warnings, count);
}

static void write_info(struct json_writer *writer, struct engine *engine,
                       const struct supervisor_state *state, size_t images,
                       const struct host_info *host)
{
    const char *const driver_status[][2] = {{"Backing Filesystem", host->backing_fs},
                                            {"Supports d_type", "true"},
                                            {"Snapshotter", "overlayfs (berth-supervisord)"}};
    const char *const security[] = {"name=seccomp,profile=builtin", "name=cgroupns"};
    char now[48];

    json_object_begin(writer);
    json_kv_string(writer, "ID", engine_id);
    write_counts(writer, state, images);
    json_kv_string(writer, "Driver", "overlay2");
    write_pair_list(writer, "DriverStatus", driver_status, 3);
    json_kv_string(writer, "DockerRootDir", engine->root);
    write_plugins(writer);
    write_host_limits(writer, host);
    json_kv_bool(writer, "Debug", false);
    json_kv_int(writer, "NFd", 0);
    json_kv_int(writer, "NGoroutines", 0);
    docker_time_format(docker_time_now(), now, sizeof(now));
    json_kv_string(writer, "SystemTime", now);
    json_kv_string(writer, "LoggingDriver", "json-file");
    json_kv_string(writer, "CgroupDriver", "cgroupfs");
    json_kv_string(writer, "CgroupVersion", host->cgroup_version == 2 ? "2" : "1");
    json_kv_int(writer, "NEventsListener", 0);
    json_kv_string(writer, "KernelVersion", host->kernel);
    json_kv_string(writer, "OperatingSystem", host->os_name);
    json_kv_string(writer, "OSVersion", host->os_version);
    json_kv_string(writer, "OSType", "linux");
    json_kv_string(writer, "Architecture", host->machine);
    json_kv_int(writer, "NCPU", host->cpus);
    json_kv_int(writer, "MemTotal", host->memory_total);
    write_registry_config(writer);
    json_key(writer, "GenericResources");
    json_null(writer);
    write_environment_proxies(writer);
    json_kv_string(writer, "Name", host->hostname);
    write_string_array(writer, "Labels", NULL, 0);
    json_kv_bool(writer, "ExperimentalBuild", false);
    json_kv_string(writer, "ServerVersion", BERTH_VERSION);
    write_runtimes(writer);
    write_swarm(writer);
    /* Containers belong to their shims: they survive an engine restart. */
    json_kv_bool(writer, "LiveRestoreEnabled", true);
    json_kv_string(writer, "Isolation", "");
    json_kv_string(writer, "InitBinary", "");
    write_commit(writer, "ContainerdCommit", BERTH_GIT_COMMIT);
    write_commit(writer, "RuncCommit", BERTH_GIT_COMMIT);
    write_commit(writer, "InitCommit", "");
    write_string_array(writer, "SecurityOptions", security, host->cgroup_version == 2 ? 2 : 1);
    json_kv_string(writer, "ProductLicense", "");
    write_string_array(writer, "CDISpecDirs", NULL, 0);
    json_key(writer, "Containerd");
    json_object_begin(writer);
    json_kv_string(writer, "Address", engine->supervisor_address);
    json_key(writer, "Namespaces");
    json_object_begin(writer);
    json_kv_string(writer, "Containers", ENGINE_NAMESPACE);
    json_kv_string(writer, "Plugins", ENGINE_NAMESPACE);
    json_object_end(writer);
    json_object_end(writer);
    write_warnings(writer, host);
    json_object_end(writer);
}

static void info(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct supervisor_state state;
    struct image_list images;
    struct json_writer writer;
    struct host_info host;
    struct berr err;

    if (read_supervisor_state(engine, &state, &err)) {
        http_respond_berr(request, &err);
        return;
    }
    if (image_store_list(engine->images, &images, &err)) {
        supervisor_state_free(&state);
        http_respond_berr(request, &err);
        return;
    }
    host_info_read(engine->root, &host);
    if (json_writer_init(&writer, false, &err) == 0) {
        write_info(&writer, engine, &state, images.count, &host);
        http_respond_json_writer(request, 200, &writer);
    } else {
        http_respond_berr(request, &err);
    }
    image_list_free(&images);
    supervisor_state_free(&state);
}

/* ---- GET /events ---- */

#define EVENTS_POLL_MS 1000

struct events_job {
    struct engine *engine;
    struct docker_filters *filters;
    int64_t since, until; /* Unix ns */
    bool has_since, has_until;
};

static void events_job_free(void *context)
{
    struct events_job *job = context;

    docker_filters_free(job->filters);
    free(job);
}

/* One event and its newline in one write: clients that split the stream
 * on JSON values (python3-docker) choke on a newline arriving alone. */
static int write_event(struct http_stream *stream, const struct engine_event *event,
                       struct berr *err)
{
    struct json_writer writer;
    const char *text;
    size_t length;
    int rc;

    if ((rc = json_writer_init(&writer, false, err)))
        return rc;
    engine_event_json(event, &writer);
    yajl_gen_reset(writer.gen, "\n");
    if (!(rc = json_writer_result(&writer, &text, &length, err)))
        rc = http_stream_write(stream, text, length, err);
    json_writer_free(&writer);
    return rc;
}

/* How long to wait for the next event: until `until`, a second at most
 * (to notice a client that left), not at all once `until` is past. */
static int wait_ms(const struct events_job *job)
{
    int64_t left;

    if (!job->has_until)
        return EVENTS_POLL_MS;
    left = (job->until - docker_time_now()) / 1000000;
    return left <= 0 ? 0 : left < EVENTS_POLL_MS ? (int)left + 1 : EVENTS_POLL_MS;
}

static void events_writer(struct http_stream *stream, void *context)
{
    struct events_job *job = context;
    struct engine_event_subscription *subscription = NULL;
    struct engine_event *event;
    /* Replay from since; with only until, everything kept up to it. */
    int64_t replay_from = job->has_since   ? (job->since > 0 ? job->since : 1)
                          : job->has_until ? 1
                                           : 0;
    struct berr err;
    int rc;

    if (engine_events_subscribe(job->engine->events, replay_from, &subscription, &err) != 0)
        return;
    for (;;) {
        rc = engine_event_next(subscription, wait_ms(job), &event, &err);
        if (rc == BERR_TIMEOUT) {
            if ((job->has_until && docker_time_now() >= job->until) || http_stream_closed(stream))
                break;
            continue;
        }
        if (rc)
            break; /* the engine stops, or this reader fell too far behind */
        if (job->has_until && event->time_nano > job->until) {
            engine_event_release(event);
            break; /* events come in order: nothing later matches */
        }
        rc = docker_filters_match_event(job->filters, event) ? write_event(stream, event, &err) : 0;
        engine_event_release(event);
        if (rc)
            break;
    }
    engine_events_unsubscribe(subscription);
}

static int parse_event_time(struct http_request *request, const char *name, int64_t now,
                            int64_t *out, bool *present, struct berr *err)
{
    const char *text = http_request_query(request, name);

    *present = text && *text;
    if (!*present)
        return 0;
    if (docker_time_parse(text, now, out, err) != 0)
        return berr_prefix(err, "%s", name);
    return 0;
}

static void events(struct http_request *request, void *data)
{
    struct events_job *job = calloc(1, sizeof(*job));
    int64_t now = docker_time_now();
    struct berr err;
    int rc;

    if (!job) {
        http_respond_error(request, 500, "out of memory");
        return;
    }
    job->engine = data;
    if ((rc = parse_event_time(request, "since", now, &job->since, &job->has_since, &err)) ||
        (rc = parse_event_time(request, "until", now, &job->until, &job->has_until, &err)))
        goto fail;
    if (job->has_since && job->has_until && job->until < job->since) {
        rc = berr_set(&err, BERR_INVALID, "`since` time (%s) cannot be after `until` time (%s)",
                      http_request_query(request, "since"), http_request_query(request, "until"));
        goto fail;
    }
    if ((rc = docker_filters_parse(http_request_query(request, "filters"), &job->filters, &err)) ||
        (rc = docker_filters_validate(job->filters, docker_event_filter_names, &err)))
        goto fail;
    http_respond_stream(request, 200, "application/json", events_writer, job, events_job_free);
    return;
fail:
    events_job_free(job);
    http_respond_berr(request, &err);
}

/* ---- GET /system/df ---- */

static bool df_wants(const char **types, size_t count, const char *type)
{
    if (!count)
        return true;
    for (size_t i = 0; i < count; i++)
        if (strcmp(types[i], type) == 0)
            return true;
    return false;
}

static const char *container_label(const SupervisorContainer *container, const char *key)
{
    for (size_t i = 0; i < container->n_labels; i++)
        if (strcmp(container->labels[i]->key, key) == 0)
            return container->labels[i]->value;
    return NULL;
}

static void write_container_status(struct json_writer *writer, const struct supervisor_state *state,
                                   const SupervisorContainer *container)
{
    static const char *const names[] = {"created", "running", "paused", "exited"};
    const SupervisorProcess *task = task_of(state, container->id);
    enum container_run_state run = run_state(state, container);
    char status[64];

    json_kv_string(writer, "State", names[run]);
    if (run == STATE_RUNNING)
        snprintf(status, sizeof(status), "Up");
    else if (run == STATE_PAUSED)
        snprintf(status, sizeof(status), "Up (Paused)");
    else if (run == STATE_CREATED)
        snprintf(status, sizeof(status), "Created");
    else if (task)
        snprintf(status, sizeof(status), "Exited (%u)", task->exit_status);
    else
        snprintf(status, sizeof(status), "Exited");
    json_kv_string(writer, "Status", status);
}

/* One ContainerSummary, from what the supervisor knows. */
static void write_container_usage(struct json_writer *writer, struct engine *engine,
                                  const struct supervisor_state *state,
                                  const SupervisorContainer *container)
{
    const char *image_id = container_label(container, IMAGE_CONTAINER_LABEL_ID);
    const char *name = container_label(container, CONTAINER_LABEL_NAME);
    char *image = reference_familiar_of(container->image ? container->image : "");
    /* The label says which image; without it, the name it was made from. */
    const char *wanted = image_id ? image_id : container->image;
    char found_id[DIGEST_STRING_SIZE] = "";
    int64_t size_rw = 0, image_size = 0;
    struct image_lookup lookup;
    struct berr err;

    if (container->snapshot_key && *container->snapshot_key &&
        image_store_snapshot_usage(engine->images, container->snapshot_key, &size_rw, &err))
        size_rw = 0;
    if (wanted && *wanted && image_store_lookup(engine->images, wanted, &lookup, &err) == 0) {
        if (image_store_size(engine->images, lookup.info, &image_size, NULL, &err))
            image_size = 0;
        snprintf(found_id, sizeof(found_id), "%s", lookup.info->id);
        image_lookup_free(&lookup);
    }
    json_object_begin(writer);
    json_kv_string(writer, "Id", container->id);
    json_key(writer, "Names");
    json_array_begin(writer);
    if (name && *name) {
        char shown[300];
        snprintf(shown, sizeof(shown), "%s%s", name[0] == '/' ? "" : "/", name);
        json_string(writer, shown);
    }
    json_array_end(writer);
    json_kv_string(writer, "Image", image ? image : "");
    json_kv_string(writer, "ImageID", image_id ? image_id : found_id);
    json_kv_string(writer, "Command", "");
    json_kv_int(writer, "Created", container->created_at ? container->created_at->seconds : 0);
    json_key(writer, "Ports");
    json_array_begin(writer);
    json_array_end(writer);
    json_kv_int(writer, "SizeRw", size_rw);
    json_kv_int(writer, "SizeRootFs", size_rw + image_size);
    json_key(writer, "Labels");
    json_object_begin(writer);
    for (size_t i = 0; i < container->n_labels; i++)
        if (strncmp(container->labels[i]->key, "berth.", 6) != 0) /* the engine's own */
            json_kv_string(writer, container->labels[i]->key, container->labels[i]->value);
    json_object_end(writer);
    write_container_status(writer, state, container);
    json_key(writer, "Mounts");
    json_array_begin(writer);
    json_array_end(writer);
    json_object_end(writer);
    free(image);
}

static int write_df(struct json_writer *writer, struct engine *engine, const char **types,
                    size_t type_count, int api_version, struct berr *err)
{
    struct supervisor_state state = {0};
    int64_t layers_size = 0;
    int rc = 0;

    json_object_begin(writer);
    if (df_wants(types, type_count, "image")) {
        json_key(writer, "Images");
        if ((rc = api_images_write_usage(engine, writer, api_version, &layers_size, err)))
            return rc;
        json_kv_int(writer, "LayersSize", layers_size);
    }
    if (df_wants(types, type_count, "container")) {
        if ((rc = read_supervisor_state(engine, &state, err)))
            return rc;
        json_key(writer, "Containers");
        json_array_begin(writer);
        for (size_t i = 0; i < state.containers->n_containers; i++)
            write_container_usage(writer, engine, &state, state.containers->containers[i]);
        json_array_end(writer);
        supervisor_state_free(&state);
    }
    if (df_wants(types, type_count, "volume")) {
        json_key(writer, "Volumes");
        json_array_begin(writer);
        json_array_end(writer);
    }
    if (df_wants(types, type_count, "build-cache")) {
        json_key(writer, "BuildCache");
        json_array_begin(writer);
        json_array_end(writer);
    }
    json_object_end(writer);
    return 0;
}

static void system_df(struct http_request *request, void *data)
{
    struct engine *engine = data;
    struct json_writer writer = {0};
    size_t type_count;
    const char **types = http_request_query_all(request, "type", &type_count);
    struct berr err;

    for (size_t i = 0; i < type_count; i++) {
        if (!df_wants((const char *[]){"container", "image", "volume", "build-cache"}, 4,
                      types[i])) {
            http_respond_error(request, 400, "unknown object type: %s", types[i]);
            free(types);
            return;
        }
    }
    if (json_writer_init(&writer, false, &err) ||
        write_df(&writer, engine, types, type_count, http_request_api_version(request), &err)) {
        if (writer.gen)
            json_writer_free(&writer);
        http_respond_berr(request, &err);
    } else {
        http_respond_json_writer(request, 200, &writer);
    }
    free(types);
}

int api_system_register(struct engine *engine, struct berr *err)
{
    struct http_server *http = engine->http;
    int rc;

    if ((rc = host_engine_id(engine->root, engine_id, sizeof(engine_id), err)))
        return rc;
    if ((rc = http_server_route(http, "GET", "/_ping", ping, engine, 0, err)) ||
        (rc = http_server_route(http, "GET", "/version", version, engine, 0, err)) ||
        (rc = http_server_route(http, "GET", "/info", info, engine, 0, err)) ||
        (rc = http_server_route(http, "GET", "/events", events, engine, 0, err)) ||
        (rc = http_server_route(http, "GET", "/system/df", system_df, engine, 0, err)))
        return rc;
    return 0;
}
