/*
 * api_system: the calls a client makes before anything else: /_ping (the
 * docker CLI's version negotiation reads its headers) and /version.
 */
#include <string.h>
#include <sys/utsname.h>

#include "berth_version.h"
#include "engine.h"

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

int api_system_register(struct engine *engine, struct berr *err)
{
    int rc;

    if ((rc = http_server_route(engine->http, "GET", "/_ping", ping, engine, 0, err)) ||
        (rc = http_server_route(engine->http, "GET", "/version", version, engine, 0, err)))
        return rc;
    return 0;
}
