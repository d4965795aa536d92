/*
 * cmd_inspect: inspect, container inspect and image inspect. Without
 * --format the answers are printed as one indented JSON array (docker's
 * layout: four spaces, keys in the daemon's order); with --format each
 * object runs the template. `inspect` alone tries a container, then an
 * image, a network and a volume, like docker's, and says "No such object"
 * when none matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "format.h"

enum object_kind {
    KIND_ANY,
    KIND_CONTAINER,
    KIND_IMAGE,
    KIND_NETWORK,
    KIND_VOLUME,
};

static int fetch(struct api *api, enum object_kind kind, const char *name, bool size, yajl_val *out,
                 struct berr *err)
{
    static const char *const prefixes[] = {"", "/containers/", "/images/", "/networks/",
                                           "/volumes/"};
    struct strbuf path = STRBUF_INIT;
    int rc;

    sb_puts(&path, prefixes[kind]);
    api_segment(&path, name);
    if (kind == KIND_CONTAINER || kind == KIND_IMAGE)
        sb_puts(&path, "/json");
    if (kind == KIND_CONTAINER && size)
        api_query(&path, "size", "1");
    rc = api_get_json(api, sb_str(&path), out, err);
    sb_free(&path);
    return rc;
}

static int fetch_any(struct api *api, enum object_kind kind, const char *name, bool size,
                     yajl_val *out, struct berr *err)
{
    if (kind != KIND_ANY)
        return fetch(api, kind, name, size, out, err);
    for (int k = KIND_CONTAINER; k <= KIND_VOLUME; k++) {
        int rc = fetch(api, (enum object_kind)k, name, size, out, err);

        if (rc != BERR_NOT_FOUND && !(rc && k > KIND_IMAGE))
            return rc;
    }
    return berr_set(err, BERR_NOT_FOUND, "Error: No such object: %s", name);
}

static int print_results(yajl_val *results, size_t n, const char *user_format, struct berr *err)
{
    struct strbuf out = STRBUF_INIT;
    struct format *format = NULL;
    bool table;
    int rc = 0;

    if (!user_format || !*user_format || strcmp(user_format, "json") == 0) {
        struct yajl_val_s array;

        array.type = yajl_t_array;
        array.u.array.values = results;
        array.u.array.len = n;
        if (user_format && *user_format)
            format_json_value(&out, &array); /* --format json: one compact line */
        else
            format_json_indent(&out, &array, 0);
        puts(sb_str(&out));
        sb_free(&out);
        return 0;
    }
    {
        char *text = format_prepare(user_format, &table);

        rc = format_parse(text, &format, err);
        free(text);
        if (rc) {
            berr_prefix(err, "template parsing error");
            return 64; /* docker's status for a template that does not parse */
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sb_reset(&out);
        rc = format_exec(format, results[i], NULL, &out, err);
        if (rc == 0)
            puts(sb_str(&out));
        else
            puts(""); /* docker flushes the (empty) line before reporting */
    }
    if (rc)
        berr_prefix(err, "template parsing error");
    format_free(format);
    rc = rc ? 1 : 0;
    sb_free(&out);
    return rc;
}

static int inspect(struct cli *cli, enum object_kind kind, const char *usage,
                   const char *description, int argc, char **argv, struct berr *err)
{
    const char *format = NULL, *type = NULL;
    bool size = false;
    struct opt opts[] = {
        {"format", 'f', OPT_STRING, &format, "Format output using a custom template", NULL, NULL,
         false},
        {"size", 's', OPT_BOOL, &size, "Display total file sizes if the type is container", NULL,
         NULL, false},
        {"type", 0, OPT_STRING, &type, "Return JSON for specified type", NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {usage, description, opts, true, 1, -1};
    struct opt_result parsed = {STRLIST_INIT, false};
    struct strbuf errors = STRBUF_INIT;
    yajl_val *results = NULL;
    size_t n = 0;
    struct api *api;
    int status;

    if (kind != KIND_ANY)
        opts[2].name = NULL; /* --type only for the generic command */
    if (kind == KIND_IMAGE)
        opts[1] = opts[2];
    status = cli_parse(cli, &spec, argc, argv, &parsed, err);
    if (status >= 0)
        goto out;
    status = 1;
    if (type && *type) {
        static const char *const names[] = {"", "container", "image", "network", "volume"};

        for (int k = KIND_CONTAINER; k <= KIND_VOLUME; k++)
            if (strcmp(type, names[k]) == 0)
                kind = (enum object_kind)k;
        if (kind == KIND_ANY) {
            berr_set(err, BERR_INVALID,
                     "unknown type: \"%s\": must be one of \"container\", "
                     "\"image\", \"network\", \"volume\"",
                     type);
            goto out;
        }
    }
    if (cli_api(cli, &api, err))
        goto out;
    results = xcalloc(parsed.args.len, sizeof(*results));
    for (size_t i = 0; i < parsed.args.len; i++) {
        if (fetch_any(api, kind, parsed.args.items[i], size, &results[n], err)) {
            cli_collect_error(&errors, err);
            continue;
        }
        n++;
    }
    berr_clear(err);
    if ((status = print_results(results, n, format, err)) != 0) {
        status = status == 64 ? 64 : 1;
        sb_free(&errors);
        goto out;
    }
    status = cli_collected_status(&errors, err);
out:
    for (size_t i = 0; i < n; i++)
        yajl_tree_free(results[i]);
    free(results);
    sb_free(&errors);
    opt_result_free(&parsed);
    return status;
}

int cmd_inspect(struct cli *cli, int argc, char **argv, struct berr *err)
{
    return inspect(cli, KIND_ANY, "inspect [OPTIONS] NAME|ID [NAME|ID...]",
                   "Return low-level information on berth objects", argc, argv, err);
}

int cmd_container_inspect(struct cli *cli, int argc, char **argv, struct berr *err)
{
    return inspect(cli, KIND_CONTAINER, "inspect [OPTIONS] CONTAINER [CONTAINER...]",
                   "Display detailed information on one or more containers", argc, argv, err);
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv, struct berr *err)
{
    return inspect(cli, KIND_IMAGE, "inspect [OPTIONS] IMAGE [IMAGE...]",
                   "Display detailed information on one or more images", argc, argv, err);
}
