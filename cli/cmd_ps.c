/*
 * cmd_ps: ps / container ls. Each container becomes a row object whose
 * fields are the strings docker's ContainerContext computes (ID cut to 12,
 * Command quoted and cut to 20 with an ellipsis, RunningFor, Ports, Names
 * without the slash, ...), so `{{json .}}` and templates see exactly what
 * the docker CLI shows; the table and template machinery is table.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "format.h"
#include "json.h"
#include "table.h"
#include "units.h"

struct ps_flags {
    bool all, quiet, no_trunc, size, latest;
    long long last;
    const char *format;
    struct strlist filters;
};

/* strconv.Quote for the usual characters. */
static void go_quote(struct strbuf *out, const char *text)
{
    sb_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '"':
            sb_puts(out, "\\\"");
            break;
        case '\\':
            sb_puts(out, "\\\\");
            break;
        case '\n':
            sb_puts(out, "\\n");
            break;
        case '\t':
            sb_puts(out, "\\t");
            break;
        case '\r':
            sb_puts(out, "\\r");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                sb_printf(out, "\\x%02x", *p);
            else
                sb_putc(out, (char)*p);
        }
    }
    sb_putc(out, '"');
}

static void field_command(struct json_writer *w, yajl_val c, bool trunc)
{
    struct strbuf cut = STRBUF_INIT, quoted = STRBUF_INIT;

    if (trunc)
        text_ellipsis(&cut, jstr(c, "Command"), 20);
    else
        sb_puts(&cut, jstr(c, "Command"));
    go_quote(&quoted, sb_str(&cut));
    json_kv_string(w, "Command", sb_str(&quoted));
    sb_free(&cut);
    sb_free(&quoted);
}

static void field_names(struct json_writer *w, yajl_val c, bool trunc)
{
    yajl_val names = jget(c, "Names");
    struct strbuf out = STRBUF_INIT;

    for (size_t i = 0; YAJL_IS_ARRAY(names) && i < names->u.array.len; i++) {
        const char *name =
            YAJL_IS_STRING(names->u.array.values[i]) ? names->u.array.values[i]->u.string : "";

        if (*name == '/')
            name++;
        if (trunc && strchr(name, '/'))
            continue; /* a link's name */
        if (out.len)
            sb_putc(&out, ',');
        sb_puts(&out, name);
        if (trunc)
            break;
    }
    json_kv_string(w, "Names", sb_str(&out));
    sb_free(&out);
}

struct port {
    long private_port, public_port;
    const char *ip, *type;
};

static int compare_ports(const void *a, const void *b)
{
    const struct port *x = a, *y = b;

    if (x->private_port != y->private_port)
        return x->private_port < y->private_port ? -1 : 1;
    if (strcmp(x->ip, y->ip))
        return strcmp(x->ip, y->ip);
    if (x->public_port != y->public_port)
        return x->public_port < y->public_port ? -1 : 1;
    return strcmp(x->type, y->type);
}

struct port_group {
    char key[96]; /* "tcp" or "IP/tcp" */
    long first, last;
};

/* "80/tcp", "8000-8001/tcp", "0.0.0.0:8080->8080/tcp" (formGroup) */
static void form_group(struct strbuf *out, const struct port_group *g)
{
    const char *slash = strrchr(g->key, '/');
    char range[32];

    if (g->first == g->last)
        snprintf(range, sizeof(range), "%ld", g->first);
    else
        snprintf(range, sizeof(range), "%ld-%ld", g->first, g->last);
    if (out->len)
        sb_puts(out, ", ");
    if (slash && memchr(g->key, ':', (size_t)(slash - g->key))) /* net.JoinHostPort */
        sb_printf(out, "[%.*s]:%s->%s/%s", (int)(slash - g->key), g->key, range, range, slash + 1);
    else if (slash)
        sb_printf(out, "%.*s:%s->%s/%s", (int)(slash - g->key), g->key, range, range, slash + 1);
    else
        sb_printf(out, "%s/%s", range, g->key);
}

/* docker's DisplayablePorts: sorted, consecutive ports folded into ranges, host mappings
 * to another port listed last. */
static void field_ports(struct json_writer *w, yajl_val c)
{
    yajl_val ports = jget(c, "Ports");
    size_t n = YAJL_IS_ARRAY(ports) ? ports->u.array.len : 0;
    struct port *list = xcalloc(n + 1, sizeof(*list));
    struct port_group *groups = xcalloc(n + 1, sizeof(*groups));
    struct strbuf out = STRBUF_INIT, mappings = STRBUF_INIT;
    size_t ngroups = 0;

    for (size_t i = 0; i < n; i++) {
        yajl_val p = ports->u.array.values[i];

        list[i] = (struct port){(long)jint(p, "PrivatePort"), (long)jint(p, "PublicPort"),
                                jstr(p, "IP"), jstr(p, "Type")};
    }
    qsort(list, n, sizeof(*list), compare_ports);
    for (size_t i = 0; i < n; i++) {
        struct port *p = &list[i];
        char key[96];
        size_t g;

        if (*p->ip && p->public_port != p->private_port) {
            if (mappings.len)
                sb_puts(&mappings, ", ");
            sb_printf(&mappings, strchr(p->ip, ':') ? "[%s]:%ld->%ld/%s" : "%s:%ld->%ld/%s", p->ip,
                      p->public_port, p->private_port, p->type);
            continue;
        }
        if (*p->ip)
            snprintf(key, sizeof(key), "%s/%s", p->ip, p->type);
        else
            snprintf(key, sizeof(key), "%s", p->type);
        for (g = 0; g < ngroups && strcmp(groups[g].key, key) != 0; g++)
            ;
        if (g == ngroups) {
            snprintf(groups[ngroups].key, sizeof(groups[ngroups].key), "%s", key);
            groups[ngroups].first = groups[ngroups].last = p->private_port;
            ngroups++;
        } else if (p->private_port == groups[g].last + 1) {
            groups[g].last = p->private_port;
        } else {
            form_group(&out, &groups[g]);
            groups[g].first = groups[g].last = p->private_port;
        }
    }
    for (size_t g = 0; g < ngroups; g++)
        form_group(&out, &groups[g]);
    if (mappings.len) {
        if (out.len)
            sb_puts(&out, ", ");
        sb_puts(&out, sb_str(&mappings));
    }
    json_kv_string(w, "Ports", sb_str(&out));
    sb_free(&out);
    sb_free(&mappings);
    free(list);
    free(groups);
}

/* "k=v,k2=v2", sorted (docker's map order is random). */
static void field_labels(struct json_writer *w, yajl_val c)
{
    yajl_val labels = jget(c, "Labels");
    struct strbuf out = STRBUF_INIT;

    if (labels && YAJL_IS_OBJECT(labels)) {
        size_t *order = format_sorted_members(labels);

        for (size_t i = 0; i < labels->u.object.len; i++) {
            yajl_val v = labels->u.object.values[order[i]];

            if (i)
                sb_putc(&out, ',');
            sb_printf(&out, "%s=%s", labels->u.object.keys[order[i]],
                      v && YAJL_IS_STRING(v) ? v->u.string : "");
        }
        free(order);
    }
    json_kv_string(w, "Labels", sb_str(&out));
    sb_free(&out);
}

static void field_mounts(struct json_writer *w, yajl_val c, bool trunc)
{
    yajl_val mounts = jget(c, "Mounts");
    struct strbuf out = STRBUF_INIT;
    int volumes = 0;
    char count[16];

    for (size_t i = 0; YAJL_IS_ARRAY(mounts) && i < mounts->u.array.len; i++) {
        yajl_val m = mounts->u.array.values[i];
        bool volume = strcmp(jstr(m, "Type"), "volume") == 0;
        const char *name = volume ? jstr(m, "Name") : jstr(m, "Source");

        volumes += volume;
        if (out.len)
            sb_putc(&out, ',');
        if (trunc)
            text_ellipsis(&out, name, 15);
        else
            sb_puts(&out, name);
    }
    snprintf(count, sizeof(count), "%d", volumes);
    json_kv_string(w, "LocalVolumes", count);
    json_kv_string(w, "Mounts", sb_str(&out));
    sb_free(&out);
}

static void field_networks(struct json_writer *w, yajl_val c)
{
    yajl_val networks = jget(c, "NetworkSettings.Networks");
    struct strbuf out = STRBUF_INIT;

    if (networks && YAJL_IS_OBJECT(networks)) {
        size_t *order = format_sorted_members(networks);

        for (size_t i = 0; i < networks->u.object.len; i++) {
            if (i)
                sb_putc(&out, ',');
            sb_puts(&out, networks->u.object.keys[order[i]]);
        }
        free(order);
    }
    json_kv_string(w, "Networks", sb_str(&out));
    sb_free(&out);
}

static void field_size(struct json_writer *w, yajl_val c)
{
    char rw[32], root[32], text[80];

    units_human_size((double)jint(c, "SizeRw"), 3, rw, sizeof(rw));
    units_human_size((double)jint(c, "SizeRootFs"), 3, root, sizeof(root));
    if (jget(c, "SizeRootFs"))
        snprintf(text, sizeof(text), "%s (virtual %s)", rw, root);
    else
        snprintf(text, sizeof(text), "%s", rw);
    json_kv_string(w, "Size", text);
}

static yajl_val container_row(yajl_val c, bool trunc, struct berr *err)
{
    struct json_writer w;
    const char *text;
    size_t len;
    char buf[128], ago[96];
    const char *image = jstr(c, "Image");
    int64_t created = jint(c, "Created");
    yajl_val row = NULL;

    if (json_writer_init(&w, false, err))
        return NULL;
    json_object_begin(&w);
    field_command(&w, c, trunc);
    units_go_time_string(created, buf, sizeof(buf));
    json_kv_string(&w, "CreatedAt", buf);
    snprintf(buf, sizeof(buf), "%.*s", trunc ? 12 : 1000, jstr(c, "Id"));
    json_kv_string(&w, "ID", buf);
    if (trunc && strncmp(image, "sha256:", 7) == 0)
        snprintf(buf, sizeof(buf), "%.12s", image + 7);
    else
        snprintf(buf, sizeof(buf), "%s", image);
    json_kv_string(&w, "Image", buf);
    field_labels(&w, c);
    field_mounts(&w, c, trunc);
    field_names(&w, c, trunc);
    field_networks(&w, c);
    json_key(&w, "Platform");
    json_null(&w);
    field_ports(&w, c);
    units_human_duration(((int64_t)time(NULL) - created) * 1000000000LL, ago, sizeof(ago));
    snprintf(buf, sizeof(buf), "%s ago", ago);
    json_kv_string(&w, "RunningFor", buf);
    field_size(&w, c);
    json_kv_string(&w, "State", jstr(c, "State"));
    json_kv_string(&w, "Status", jstr(c, "Status"));
    json_object_end(&w);
    if (json_writer_result(&w, &text, &len, err) == 0)
        json_parse(text, &row, err);
    json_writer_free(&w);
    return row;
}

/* .Label "key": the value of one label, from the row's "k=v,..." text. */
int ps_label_method(void *ctx, const char *name, yajl_val *args, size_t nargs, yajl_val *out,
                    struct berr *err)
{
    const char *labels = jstr((yajl_val)ctx, "Labels");
    const char *key;
    size_t key_len;

    if (strcmp(name, "Label") != 0)
        return BERR_NOT_FOUND;
    if (nargs != 1 || !args[0] || !YAJL_IS_STRING(args[0]))
        return berr_set(err, BERR_INVALID, "wrong number of args for Label: want 1 got %zu", nargs);
    key = args[0]->u.string;
    key_len = strlen(key);
    for (const char *p = labels; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
            char *value = xstrndup(p + key_len + 1, len - key_len - 1);

            *out = format_string_value(value);
            free(value);
            return 0;
        }
        p += len + (end ? 1 : 0);
    }
    *out = format_string_value("");
    return 0;
}

static const char *const ps_headers[] = {
    "ID",        "CONTAINER ID", "Image",        "IMAGE",         "Command",  "COMMAND",
    "CreatedAt", "CREATED AT",   "RunningFor",   "CREATED",       "Ports",    "PORTS",
    "State",     "STATE",        "Status",       "STATUS",        "Size",     "SIZE",
    "Names",     "NAMES",        "Labels",       "LABELS",        "Mounts",   "MOUNTS",
    "Networks",  "NETWORKS",     "LocalVolumes", "LOCAL VOLUMES", "Platform", "PLATFORM",
    NULL,
};

static int list_containers(struct cli *cli, struct ps_flags *f, struct berr *err)
{
    struct strbuf path = STRBUF_INIT;
    struct list_spec spec = {"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
                             "{{.Status}}\t{{.Ports}}\t{{.Names}}",
                             ps_headers, "*formatter.ContainerContext", ps_label_method};
    yajl_val answer = NULL, *rows = NULL;
    size_t n = 0;
    char *filters = NULL;
    struct api *api;
    int rc;

    if (f->size && (!f->format || !*f->format))
        spec.default_format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t"
                              "{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}";
    if (f->quiet)
        spec.default_format = "{{.ID}}";
    if (f->latest)
        f->last = 1;
    rc = api_filters_json(&f->filters, &filters, err);
    if (rc)
        return rc;
    sb_puts(&path, "/containers/json");
    if (f->all)
        api_query(&path, "all", "1");
    if (f->last > 0) {
        char number[32];

        snprintf(number, sizeof(number), "%lld", f->last);
        api_query(&path, "limit", number);
    }
    if (f->size || (f->format && strstr(f->format, ".Size")))
        api_query(&path, "size", "1");
    if (filters)
        api_query(&path, "filters", filters);
    free(filters);
    rc = cli_api(cli, &api, err);
    if (rc == 0)
        rc = api_get_json(api, sb_str(&path), &answer, err);
    sb_free(&path);
    if (rc)
        return rc;
    rows = xcalloc(jlen(answer) + 1, sizeof(*rows));
    for (size_t i = 0; YAJL_IS_ARRAY(answer) && i < answer->u.array.len; i++)
        if ((rows[n] = container_row(answer->u.array.values[i], !f->no_trunc, err)))
            n++;
    rc = list_render(&spec, f->quiet && (!f->format || !*f->format) ? NULL : f->format, rows, n,
                     stdout, err);
    for (size_t i = 0; i < n; i++)
        yajl_tree_free(rows[i]);
    free(rows);
    yajl_tree_free(answer);
    return rc;
}

int cmd_ps(struct cli *cli, int argc, char **argv, struct berr *err)
{
    struct ps_flags f = {false, false, false, false, false, -1, NULL, STRLIST_INIT};
    const struct opt opts[] = {
        {"all", 'a', OPT_BOOL, &f.all, "Show all containers (default shows just running)", NULL,
         NULL, false},
        {"filter", 'f', OPT_LIST, &f.filters, "Filter output based on conditions provided",
         "filter", NULL, false},
        {"format", 0, OPT_STRING, &f.format, "Format output using a custom template", NULL, NULL,
         false},
        {"last", 'n', OPT_INT, &f.last,
         "Show n last created containers (includes all states) "
         "(default -1)",
         NULL, NULL, false},
        {"latest", 'l', OPT_BOOL, &f.latest,
         "Show the latest created container (includes all "
         "states)",
         NULL, NULL, false},
        {"no-trunc", 0, OPT_BOOL, &f.no_trunc, "Don't truncate output", NULL, NULL, false},
        {"quiet", 'q', OPT_BOOL, &f.quiet, "Only display container IDs", NULL, NULL, false},
        {"size", 's', OPT_BOOL, &f.size, "Display total file sizes", NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct command_spec spec = {"ps [OPTIONS]", "List containers", opts, true, 0, 0};
    struct opt_result parsed = {STRLIST_INIT, false};
    int status = cli_parse(cli, &spec, argc, argv, &parsed, err);

    if (status < 0)
        status = list_containers(cli, &f, err) ? 1 : 0;
    sl_free(&f.filters);
    opt_result_free(&parsed);
    return status;
}
