/*
 * progress: JSON message display and image reference normalization (see
 * progress.h).
 */
#include "progress.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "streams.h"

int progress_message(void *ctx, yajl_val message, struct berr *err)
{
    struct progress *p = ctx;
    const char *error = jstr(message, "errorDetail.message");
    const char *stream = jstr(message, "stream");
    const char *status = jstr(message, "status");
    const char *id = jstr(message, "id");

    if (!*error)
        error = jstr(message, "error");
    if (*error)
        return berr_set(err, BERR_IO, "%s", error);
    if (*stream) {
        fputs(stream, p->out);
    } else if (*status && !p->quiet) {
        if (jget(message, "progressDetail.current"))
            return 0; /* byte progress: terminals only */
        if (*id)
            fprintf(p->out, "%s: ", id);
        fprintf(p->out, "%s\n", status);
    }
    fflush(p->out);
    return 0;
}

static bool is_domain(const char *component, size_t len)
{
    return memchr(component, '.', len) || memchr(component, ':', len) ||
           (len == 9 && strncmp(component, "localhost", 9) == 0);
}

int image_ref_parse(const char *text, struct image_ref *out, struct berr *err)
{
    char buf[512];
    char *at, *colon, *slash;
    const char *repo;

    memset(out, 0, sizeof(*out));
    snprintf(buf, sizeof(buf), "%s", text);
    at = strchr(buf, '@');
    if (at) {
        snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
        *at = '\0';
    }
    slash = strrchr(buf, '/');
    colon = strrchr(buf, ':');
    if (colon && (!slash || colon > slash)) {
        snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
        *colon = '\0';
    }
    if (!buf[0])
        return berr_set(err, BERR_INVALID, "invalid reference format");
    for (const char *p = buf; *p; p++)
        if (isupper((unsigned char)*p) && (!strchr(buf, '/') || p > strchr(buf, '/')))
            return berr_set(err, BERR_INVALID,
                            "invalid reference format: repository name (%s) must be lowercase",
                            buf);
    if (!out->tag[0] && !out->digest[0])
        snprintf(out->tag, sizeof(out->tag), "latest");
    slash = strchr(buf, '/');
    if (slash && is_domain(buf, (size_t)(slash - buf))) {
        snprintf(out->name, sizeof(out->name), "%s", buf);
        repo = buf;
    } else if (slash) {
        snprintf(out->name, sizeof(out->name), "docker.io/%s", buf);
        repo = buf;
    } else {
        snprintf(out->name, sizeof(out->name), "docker.io/library/%s", buf);
        repo = buf;
    }
    if (strncmp(repo, "docker.io/", 10) == 0)
        repo += 10;
    if (strncmp(repo, "library/", 8) == 0)
        repo += 8;
    snprintf(out->familiar, sizeof(out->familiar), "%s", repo);
    return 0;
}

int image_pull(struct api *api, const char *image, const char *platform, bool quiet, FILE *out,
               struct berr *err)
{
    static const char *const headers[] = {"X-Registry-Auth: e30=", NULL};
    struct progress progress = {out, quiet};
    struct jsonlines lines = {STRBUF_INIT, progress_message, &progress};
    struct http_request request = {.method = "POST", .body_fd = -1, .headers = headers};
    struct http_response response;
    struct strbuf path = STRBUF_INIT;
    struct image_ref ref;
    int rc = image_ref_parse(image, &ref, err);

    if (rc)
        return rc;
    sb_puts(&path, "/images/create");
    api_query(&path, "fromImage", ref.name);
    api_query(&path, "tag", ref.digest[0] ? ref.digest : ref.tag);
    if (platform && *platform)
        api_query(&path, "platform", platform);
    request.path = sb_str(&path);
    request.sink = jsonlines_feed;
    request.sink_ctx = &lines;
    rc = api_do(api, &request, &response, err);
    if (rc == 0) {
        rc = jsonlines_finish(&lines, err);
        http_response_free(&response);
    }
    sb_free(&lines.partial);
    sb_free(&path);
    return rc;
}
