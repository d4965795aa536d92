/*
 * cmd_image: images / image ls, rmi, history, image prune, tag, load, save
 * and pull. Like ps, the list commands build row objects with docker's
 * computed fields (ImageContext, HistoryContext) and leave the table and
 * template work to table.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "progress.h"
#include "streams.h"
#include "table.h"
#include "terminal.h"
#include "units.h"

#define OPT_NONE                                                                                   \
    {                                                                                              \
        NULL, 0, 0, NULL, NULL, NULL, NULL, false                                                  \
    }

static void short_id(char *out, size_t size, const char *id, bool trunc)
{
    if (trunc && strncmp(id, "sha256:", 7) == 0)
        snprintf(out, size, "%.12s", id + 7);
    else if (trunc)
        snprintf(out, size, "%.12s", id);
    else
        snprintf(out, size, "%s", id);
}

static void since(char *out, size_t size, int64_t created)
{
    char ago[64];

    units_human_duration(((int64_t)time(NULL) - created) * 1000000000LL, ago, sizeof(ago));
    snprintf(out, size, "%s ago", ago);
}

static yajl_val finish_row(struct json_writer *w, struct berr *err)
{
    const char *text;
    size_t len;
    yajl_val row = NULL;

    json_object_end(w);
    if (json_writer_result(w, &text, &len, err) == 0)
        json_parse(text, &row, err);
    json_writer_free(w);
    return row;
}

static void count_or_na(struct json_writer *w, const char *key, yajl_val image, const char *field,
                        bool size)
{
    int64_t value = jint(image, field);
    char text[32];

    if (value < 0 || !jget(image, field))
        snprintf(text, sizeof(text), "N/A");
    else if (size)
        units_human_size((double)value, 3, text, sizeof(text));
    else
        snprintf(text, sizeof(text), "%lld", (long long)value);
    json_kv_string(w, key, text);
}

/* The digest of repo among the image's RepoDigests, or "<none>". */
static const char *digest_for(yajl_val image, const char *repo)
{
    yajl_val digests = jget(image, "RepoDigests");
    size_t len = strlen(repo);

    for (size_t i = 0; YAJL_IS_ARRAY(digests) && i < digests->u.array.len; i++) {
        yajl_val d = digests->u.array.values[i];

        if (YAJL_IS_STRING(d) && strncmp(d->u.string, repo, len) == 0 && d->u.string[len] == '@')
            return d->u.string + len + 1;
    }
    return "<none>";
}

static yajl_val image_row(yajl_val image, const char *repo, const char *tag, bool trunc,
                          struct berr *err)
{
    struct json_writer w;
    char buf[160];

    if (json_writer_init(&w, false, err))
        return NULL;
    json_object_begin(&w);
    count_or_na(&w, "Containers", image, "Containers", false);
    units_go_time_string(jint(image, "Created"), buf, sizeof(buf));
    json_kv_string(&w, "CreatedAt", buf);
    since(buf, sizeof(buf), jint(image, "Created"));
    json_kv_string(&w, "CreatedSince", buf);
    json_kv_string(&w, "Digest", digest_for(image, repo));
    short_id(buf, sizeof(buf), jstr(image, "Id"), trunc);
    json_kv_string(&w, "ID", buf);
    json_kv_string(&w, "Repository", repo);
    count_or_na(&w, "SharedSize", image, "SharedSize", true);
    units_human_size((double)jint(image, "Size"), 3, buf, sizeof(buf));
    json_kv_string(&w, "Size", buf);
    json_kv_string(&w, "Tag", tag);
    json_kv_string(&w, "UniqueSize", "N/A");
    units_human_size(
        (double)(jget(image, "VirtualSize") ? jint(image, "VirtualSize") : jint(image, "Size")), 4,
        buf, sizeof(buf));
    json_kv_string(&w, "VirtualSize", buf);
    return finish_row(&w, err);
}

/* One row per repo:tag; "<none>" for untagged images. */
static void image_rows(yajl_val image, bool trunc, yajl_val **rows, size_t *n, struct berr *err)
{
    yajl_val tags = jget(image, "RepoTags");
    size_t count = YAJL_IS_ARRAY(tags) ? tags->u.array.len : 0;

    if (!count) {
        yajl_val digests = jget(image, "RepoDigests");
        char repo[256] = "<none>";

        if (YAJL_IS_ARRAY(digests) && digests->u.array.len &&
            YAJL_IS_STRING(digests->u.array.values[0])) {
            const char *d = digests->u.array.values[0]->u.string;

            snprintf(repo, sizeof(repo), "%.*s", (int)strcspn(d, "@"), d);
        }
        *rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
        if (((*rows)[*n] = image_row(image, repo, "<none>", trunc, err)))
            (*n)++;
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const char *rt = YAJL_IS_STRING(tags->u.array.values[i]) ? tags->u.array.values[i]->u.string
                                                                 : "<none>:<none>";
        const char *colon = strrchr(rt, ':');
        char repo[256];

        if (colon && strchr(colon, '/'))
            colon = NULL;
        snprintf(repo, sizeof(repo), "%.*s", colon ? (int)(colon - rt) : (int)strlen(rt), rt);
        *rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
        if (((*rows)[*n] = image_row(image, repo, colon ? colon + 1 : "<none>", trunc, err)))
            (*n)++;
    }
}

static const char *const image_headers[] = {
    "Repository",   "REPOSITORY",  "Tag",         "TAG",          "ID",         "IMAGE ID",
    "CreatedSince", "CREATED",     "CreatedAt",   "CREATED AT",   "Size",       "SIZE",
    "Digest",       "DIGEST",      "Containers",  "CONTAINERS",   "SharedSize", "SHARED SIZE",
    "UniqueSize",   "UNIQUE SIZE", "VirtualSize", "VIRTUAL SIZE", NULL,
};

int cmd_images(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool all = false, quiet = false, no_trunc = false, digests = false;
    const char *format = NULL;
    struct strlist filters = STRLIST_INIT;
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &all, "Show all images (default hides intermediate images)", NULL,
         NULL, false},
        {"digests", 0, OPT_BOOL, &digests, "Show digests", NULL, NULL, false},
        {"filter", 'f', OPT_LIST, &filters, "Filter output based on conditions provided", "filter",
         NULL, false},
        {"format", 0, OPT_STRING, &format, "Format output using a custom template", NULL, NULL,
         false},
        {"no-trunc", 0, OPT_BOOL, &no_trunc, "Don't truncate output", NULL, NULL, false},
        {"quiet", 'q', OPT_BOOL, &quiet, "Only show image IDs", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "images [OPTIONS] [REPOSITORY[:TAG]]", "List images", opts, true, 0, 1};
    struct list_spec list = {"table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t"
                             "{{.Size}}",
                             image_headers, "*formatter.ImageContext", NULL};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    yajl_val answer = NULL, *rows = NULL;
    size_t n = 0;
    char *filter_json = NULL;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (digests)
        list.default_format = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
                              "{{.CreatedSince}}\t{{.Size}}";
    if (quiet)
        list.default_format = "{{.ID}}";
    if (parsed.args.len) {
        char *reference = xasprintf("reference=%s", parsed.args.items[0]);

        sl_push(&filters, reference);
        free(reference);
    }
    if (api_filters_json(&filters, &filter_json, err))
        goto out;
    sb_puts(&path, "/images/json");
    if (all)
        api_query(&path, "all", "1");
    if (filter_json)
        api_query(&path, "filters", filter_json);
    if (cli_api(cli, &api, err) || api_get_json(api, sb_str(&path), &answer, err))
        goto out;
    for (size_t i = 0; YAJL_IS_ARRAY(answer) && i < answer->u.array.len; i++)
        image_rows(answer->u.array.values[i], !no_trunc, &rows, &n, err);
    berr_clear(err);
    status =
        list_render(&list, quiet && (!format || !*format) ? NULL : format, rows, n, stdout, err)
            ? 1
            : 0;
out:
    for (size_t i = 0; i < n; i++)
        yajl_tree_free(rows[i]);
    free(rows);
    if (answer)
        yajl_tree_free(answer);
    free(filter_json);
    sl_free(&filters);
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}

int cmd_rmi(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool force = false, no_prune = false;
    const struct opt opts[] = {
        {"force", 'f', OPT_BOOL, &force, "Force removal of the image", NULL, NULL, false},
        {"no-prune", 0, OPT_BOOL, &no_prune, "Do not delete untagged parents", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", opts, true, 1, -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf errors = STRBUF_INIT;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (cli_api(cli, &api, err))
        goto out;
    for (size_t i = 0; i < parsed.args.len; i++) {
        struct strbuf path = STRBUF_INIT;
        yajl_val answer = NULL;

        sb_puts(&path, "/images/");
        api_segment(&path, parsed.args.items[i]);
        if (force)
            api_query(&path, "force", "1");
        if (no_prune)
            api_query(&path, "noprune", "1");
        if (api_call_json(api, "DELETE", sb_str(&path), NULL, &answer, err)) {
            cli_collect_error(&errors, err);
        } else {
            for (size_t j = 0; YAJL_IS_ARRAY(answer) && j < answer->u.array.len; j++) {
                yajl_val item = answer->u.array.values[j];

                if (*jstr(item, "Untagged"))
                    printf("Untagged: %s\n", jstr(item, "Untagged"));
                if (*jstr(item, "Deleted"))
                    printf("Deleted: %s\n", jstr(item, "Deleted"));
            }
        }
        if (answer)
            yajl_tree_free(answer);
        sb_free(&path);
    }
    berr_clear(err);
    status = cli_collected_status(&errors, err);
out:
    opt_result_free(&parsed);
    return status;
}

static yajl_val history_row(yajl_val h, bool trunc, bool human, struct berr *err)
{
    struct json_writer w;
    struct strbuf by = STRBUF_INIT;
    const char *created_by = jstr(h, "CreatedBy");
    int64_t created = jint(h, "Created");
    char buf[160];

    if (json_writer_init(&w, false, err))
        return NULL;
    json_object_begin(&w);
    json_kv_string(&w, "Comment", jstr(h, "Comment"));
    if (human) {
        units_rfc3339_nano(created * 1000000000LL, buf, sizeof(buf));
        json_kv_string(&w, "CreatedAt", buf);
        if (created > 0)
            since(buf, sizeof(buf), created);
        else
            snprintf(buf, sizeof(buf), "N/A");
    } else {
        snprintf(buf, sizeof(buf), "%lld", (long long)created);
        json_kv_string(&w, "CreatedAt", buf);
    }
    json_kv_string(&w, "CreatedSince", buf);
    {
        char *plain = xstrdup(created_by);

        for (char *p = plain; *p; p++)
            if (*p == '\t')
                *p = ' ';
        if (trunc)
            text_ellipsis(&by, plain, 45);
        else
            sb_puts(&by, plain);
        free(plain);
    }
    json_kv_string(&w, "CreatedBy", sb_str(&by));
    sb_free(&by);
    if (strcmp(jstr(h, "Id"), "<missing>") == 0)
        snprintf(buf, sizeof(buf), "<missing>");
    else
        short_id(buf, sizeof(buf), jstr(h, "Id"), trunc);
    json_kv_string(&w, "ID", buf);
    if (human)
        units_human_size((double)jint(h, "Size"), 3, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "%lld", (long long)jint(h, "Size"));
    json_kv_string(&w, "Size", buf);
    return finish_row(&w, err);
}

static const char *const history_headers[] = {
    "ID",         "IMAGE", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT", "CreatedBy",
    "CREATED BY", "Size",  "SIZE",         "Comment", "COMMENT",   NULL,
};

int cmd_history(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool human = true, quiet = false, no_trunc = false;
    const char *format = NULL;
    const struct opt opts[] = {
        {"format", 0, OPT_STRING, &format, "Format output using a custom template", NULL, NULL,
         false},
        {"human", 'H', OPT_BOOL, &human,
         "Print sizes and dates in human readable format "
         "(default true)",
         NULL, NULL, false},
        {"no-trunc", 0, OPT_BOOL, &no_trunc, "Don't truncate output", NULL, NULL, false},
        {"quiet", 'q', OPT_BOOL, &quiet, "Only show image IDs", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "history [OPTIONS] IMAGE", "Show the history of an image", opts, true, 1, 1};
    struct list_spec list = {"table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t"
                             "{{.Comment}}",
                             history_headers, "*formatter.historyContext", NULL};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    yajl_val answer = NULL, *rows = NULL;
    size_t n = 0;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (quiet)
        list.default_format = "{{.ID}}";
    sb_puts(&path, "/images/");
    api_segment(&path, parsed.args.items[0]);
    sb_puts(&path, "/history");
    if (cli_api(cli, &api, err) || api_get_json(api, sb_str(&path), &answer, err))
        goto out;
    rows = xcalloc(jlen(answer) + 1, sizeof(*rows));
    for (size_t i = 0; YAJL_IS_ARRAY(answer) && i < answer->u.array.len; i++)
        if ((rows[n] = history_row(answer->u.array.values[i], !no_trunc, human, err)))
            n++;
    berr_clear(err);
    status =
        list_render(&list, quiet && (!format || !*format) ? NULL : format, rows, n, stdout, err)
            ? 1
            : 0;
out:
    for (size_t i = 0; i < n; i++)
        yajl_tree_free(rows[i]);
    free(rows);
    if (answer)
        yajl_tree_free(answer);
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}

int cmd_image_prune(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool all = false, force = false;
    struct strlist filters = STRLIST_INIT;
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &all, "Remove all unused images, not just dangling ones", NULL, NULL,
         false},
        {"filter", 0, OPT_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")",
         "filter", NULL, false},
        {"force", 'f', OPT_BOOL, &force, "Do not prompt for confirmation", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {"image prune [OPTIONS]", "Remove unused images", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    yajl_val answer = NULL;
    char *filter_json = NULL, size[32];
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    sl_push(&filters, all ? "dangling=false" : "dangling=true");
    if (api_filters_json(&filters, &filter_json, err))
        goto out;
    if (!force && !cli_confirm(all ? "WARNING! This will remove all images without at least one "
                                     "container associated to them."
                                   : "WARNING! This will remove all dangling images.")) {
        status = 0;
        goto out;
    }
    sb_puts(&path, "/images/prune");
    api_query(&path, "filters", filter_json);
    if (cli_api(cli, &api, err) || api_call_json(api, "POST", sb_str(&path), NULL, &answer, err))
        goto out;
    cli_print_prune(answer, "ImagesDeleted", "Deleted Images", true);
    units_human_size((double)jint(answer, "SpaceReclaimed"), 3, size, sizeof(size));
    printf("Total reclaimed space: %s\n", size);
    status = 0;
out:
    if (answer)
        yajl_tree_free(answer);
    free(filter_json);
    sl_free(&filters);
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}

int cmd_tag(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct opt opts[] = {OPT_NONE};
    struct command_spec spec = {"tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                                "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
                                opts,
                                true,
                                2,
                                2};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    struct image_ref target;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (image_ref_parse(parsed.args.items[1], &target, err))
        goto out;
    if (target.digest[0] && !strchr(parsed.args.items[1], ':')) {
        berr_set(err, BERR_INVALID, "refusing to create a tag with a digest reference");
        goto out;
    }
    sb_puts(&path, "/images/");
    api_segment(&path, parsed.args.items[0]);
    sb_puts(&path, "/tag");
    api_query(&path, "repo", target.name);
    api_query(&path, "tag", target.tag);
    if (cli_api(cli, &api, err) || api_call_json(api, "POST", sb_str(&path), NULL, NULL, err))
        goto out;
    status = 0;
out:
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}

/* The load answer: JSON messages when the daemon sends them, plain text otherwise. */
static int load_sink(void *ctx, const char *data, size_t len, struct berr *err)
{
    return jsonlines_feed(ctx, data, len, err);
}

int cmd_load(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *input = NULL;
    bool quiet = false;
    const struct opt opts[] = {
        {"input", 'i', OPT_STRING, &input, "Read from tar archive file, instead of STDIN", NULL,
         NULL, false},
        {"quiet", 'q', OPT_BOOL, &quiet, "Suppress the load output", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "load [OPTIONS]", "Load an image from a tar archive or STDIN", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct progress progress = {stdout, false};
    struct jsonlines lines = {STRBUF_INIT, progress_message, &progress};
    struct http_request request = {.method = "POST", .content_type = "application/x-tar"};
    struct http_response response;
    int fd = STDIN_FILENO;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (input && *input) {
        fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            berr_errno(err, errno, "open %s", input);
            goto out;
        }
    } else if (term_is_tty(STDIN_FILENO)) {
        berr_set(err, BERR_INVALID, "requested load from stdin, but stdin is empty");
        goto out;
    }
    request.path = quiet ? "/images/load?quiet=1" : "/images/load?quiet=0";
    request.body_fd = fd;
    request.sink = load_sink;
    request.sink_ctx = &lines;
    if (cli_api(cli, &api, err) || api_do(api, &request, &response, err))
        goto out;
    http_response_free(&response);
    if (jsonlines_finish(&lines, err))
        goto out;
    status = 0;
out:
    sb_free(&lines.partial);
    if (fd != STDIN_FILENO)
        close(fd);
    opt_result_free(&parsed);
    return status;
}

int cmd_save(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const char *output = NULL;
    const struct opt opts[] = {
        {"output", 'o', OPT_STRING, &output, "Write to a file, instead of STDOUT", NULL, NULL,
         false},
        OPT_NONE,
    };
    struct command_spec spec = {"save [OPTIONS] IMAGE [IMAGE...]",
                                "Save one or more images to a tar archive (streamed to STDOUT by "
                                "default)",
                                opts,
                                true,
                                1,
                                -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf path = STRBUF_INIT;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    sb_puts(&path, "/images/get");
    for (size_t i = 0; i < parsed.args.len; i++)
        api_query(&path, "names", parsed.args.items[i]);
    status = cli_api(cli, &api, err) || cli_download(api, sb_str(&path), output, err) ? 1 : 0;
out:
    sb_free(&path);
    opt_result_free(&parsed);
    return status;
}

int cmd_pull(struct cli *cli, int argc, char **argv, struct berr *err)
{
    bool quiet = false, all_tags = false;
    const char *platform = NULL;
    const struct opt opts[] = {
        {"all-tags", 'a', OPT_BOOL, &all_tags, "Download all tagged images in the repository", NULL,
         NULL, false},
        {"platform", 0, OPT_STRING, &platform, "Set platform if server is multi-platform capable",
         NULL, NULL, false},
        {"quiet", 'q', OPT_BOOL, &quiet, "Suppress verbose output", NULL, NULL, false},
        OPT_NONE,
    };
    struct command_spec spec = {
        "pull [OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry", opts, true, 1, 1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct image_ref ref;
    struct api *api;
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status >= 0)
        goto out;
    status = 1;
    if (image_ref_parse(parsed.args.items[0], &ref, err))
        goto out;
    if (!quiet &&
        !strchr(strrchr(parsed.args.items[0], '/') ? strrchr(parsed.args.items[0], '/')
                                                   : parsed.args.items[0],
                ':') &&
        !ref.digest[0])
        printf("Using default tag: latest\n");
    if (cli_api(cli, &api, err) ||
        image_pull(api, parsed.args.items[0], platform, quiet, stdout, err))
        goto out;
    printf("%s%s%s\n", ref.name, ref.digest[0] ? "@" : ":", ref.digest[0] ? ref.digest : ref.tag);
    status = 0;
out:
    opt_result_free(&parsed);
    return status;
}
