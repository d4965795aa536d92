/*
 * table: tabwriter's algorithm (recursive column blocks, as in Go's
 * text/tabwriter.format) and the shared list renderer (see table.h).
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

size_t utf8_width(const char *text, size_t len)
{
    size_t width = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)text[i] & 0xc0) != 0x80)
            width++;
    return width;
}

void tabwriter_init(struct tabwriter *tw, int minwidth, int padding)
{
    tw->minwidth = minwidth;
    tw->padding = padding;
    tw->text = (struct strbuf)STRBUF_INIT;
}

void tabwriter_write(struct tabwriter *tw, const char *text)
{
    sb_puts(&tw->text, text);
}

void tabwriter_free(struct tabwriter *tw)
{
    sb_free(&tw->text);
}

struct cell {
    const char *text;
    size_t len;
    size_t width;
};

struct line {
    struct cell *cells;
    size_t n; /* cells; the last one is not tab-terminated */
};

struct layout {
    struct line *lines;
    size_t nlines;
    int *widths;
    size_t nwidths;
    int minwidth, padding;
    FILE *out;
};

static void write_lines(struct layout *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        struct line *line = &l->lines[i];

        for (size_t j = 0; j < line->n; j++) {
            struct cell *c = &line->cells[j];

            fwrite(c->text, 1, c->len, l->out);
            if (j < l->nwidths && j + 1 < line->n)
                for (size_t pad = c->width; pad < (size_t)l->widths[j]; pad++)
                    fputc(' ', l->out);
        }
        fputc('\n', l->out);
    }
}

static size_t format_block(struct layout *l, size_t line0, size_t line1)
{
    size_t column = l->nwidths;

    for (size_t this = line0; this < line1; this ++) {
        int width = l->minwidth;

        if (column + 1 >= l->lines[this].n)
            continue;
        write_lines(l, line0, this);
        line0 = this;
        for (; this < line1; this ++) {
            struct line *line = &l->lines[this];

            if (column + 1 >= line->n)
                break;
            if ((int)line->cells[column].width + l->padding > width)
                width = (int)line->cells[column].width + l->padding;
        }
        l->widths = xrealloc(l->widths, (l->nwidths + 1) * sizeof(int));
        l->widths[l->nwidths++] = width;
        format_block(l, line0, this);
        l->nwidths--;
        line0 = this;
    }
    write_lines(l, line0, line1);
    return line1;
}

void tabwriter_flush(struct tabwriter *tw, FILE *out)
{
    struct layout l = {NULL, 0, NULL, 0, tw->minwidth, tw->padding, out};
    const char *p = sb_str(&tw->text);
    const char *end = p + tw->text.len;

    if (tw->text.len && end[-1] == '\n')
        end--;
    while (tw->text.len && p <= end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        struct line *line;

        if (!eol)
            eol = end;
        l.lines = xrealloc(l.lines, (l.nlines + 1) * sizeof(*l.lines));
        line = &l.lines[l.nlines++];
        memset(line, 0, sizeof(*line));
        for (const char *c = p;;) {
            const char *tab = memchr(c, '\t', (size_t)(eol - c));
            const char *cell_end = tab ? tab : eol;

            line->cells = xrealloc(line->cells, (line->n + 1) * sizeof(*line->cells));
            line->cells[line->n].text = c;
            line->cells[line->n].len = (size_t)(cell_end - c);
            line->cells[line->n].width = utf8_width(c, (size_t)(cell_end - c));
            line->n++;
            if (!tab)
                break;
            c = tab + 1;
        }
        p = eol + 1;
    }
    format_block(&l, 0, l.nlines);
    for (size_t i = 0; i < l.nlines; i++)
        free(l.lines[i].cells);
    free(l.lines);
    free(l.widths);
    sb_reset(&tw->text);
    fflush(out);
}

static yajl_val header_object(const char *const *pairs)
{
    struct json_writer writer;
    struct berr err;
    const char *text;
    size_t len;
    yajl_val tree = NULL;

    if (json_writer_init(&writer, false, &err))
        return NULL;
    json_object_begin(&writer);
    for (size_t i = 0; pairs && pairs[i]; i += 2)
        json_kv_string(&writer, pairs[i], pairs[i + 1]);
    json_object_end(&writer);
    if (json_writer_result(&writer, &text, &len, &err) == 0)
        json_parse(text, &tree, &err);
    json_writer_free(&writer);
    return tree;
}

/* A method in a header (.Label "k") prints its argument, as docker's header context does. */
static int header_method(void *ctx, const char *name, yajl_val *args, size_t nargs, yajl_val *out,
                         struct berr *err)
{
    (void)ctx, (void)err;
    if (nargs == 1 && args[0] && YAJL_IS_STRING(args[0]))
        *out = format_string_value(args[0]->u.string);
    else
        *out = format_string_value(name);
    return 0;
}

int list_render(const struct list_spec *spec, const char *user_format, yajl_val *rows, size_t nrows,
                FILE *out, struct berr *err)
{
    const char *chosen = user_format && *user_format ? user_format : spec->default_format;
    struct format_options options = {spec->method, NULL, spec->root_type, false};
    struct tabwriter tw;
    struct strbuf line = STRBUF_INIT;
    struct format *format;
    bool table;
    char *text;
    int rc;

    if (strcmp(chosen, "json") == 0)
        chosen = "{{json .}}";
    else if (strcmp(chosen, "table") == 0)
        chosen = spec->default_format;
    text = format_prepare(chosen, &table);
    rc = format_parse(text, &format, err);
    free(text);
    if (rc)
        return berr_prefix(err, "failed to parse template");
    tabwriter_init(&tw, 10, 3);
    if (table) {
        yajl_val header = header_object(spec->headers);
        struct format_options hopts = {header_method, NULL, NULL, true};

        rc = format_exec(format, header, &hopts, &line, err);
        if (header)
            yajl_tree_free(header);
        sb_putc(&line, '\n');
        tabwriter_write(&tw, sb_str(&line));
    }
    for (size_t i = 0; rc == 0 && i < nrows; i++) {
        sb_reset(&line);
        options.method_ctx = rows[i];
        rc = format_exec(format, rows[i], &options, &line, err);
        if (rc) {
            berr_prefix(err, "failed to execute template");
            break;
        }
        sb_putc(&line, '\n');
        if (table) {
            tabwriter_write(&tw, sb_str(&line));
        } else {
            fputs(sb_str(&line), out);
        }
    }
    if (table)
        tabwriter_flush(&tw, out);
    fflush(out);
    tabwriter_free(&tw);
    sb_free(&line);
    format_free(format);
    return rc;
}

/* formatter.Ellipsis: at most max runes, the last one "…" when cut. */
void text_ellipsis(struct strbuf *out, const char *text, size_t max)
{
    size_t runes = utf8_width(text, strlen(text));
    const char *p = text;

    if (runes <= max) {
        sb_puts(out, text);
        return;
    }
    for (size_t n = 0; n + 1 < max && *p; n++) {
        p++;
        while ((*p & 0xc0) == 0x80)
            p++;
    }
    sb_append(out, text, (size_t)(p - text));
    sb_puts(out, "\xe2\x80\xa6");
}
