/*
 * table: Go's text/tabwriter, and the list output every `ls`-like command
 * shares (a default table, -q, --format with "table", "json" or a template).
 *
 * Column widths follow tabwriter's rules exactly (a cell is text ended by a
 * tab; widths are per block of consecutive lines that have the column;
 * minwidth, padding; the last cell of a line is not padded), with the
 * docker CLI's settings (minwidth 10, padding 3), because scripts cut these
 * columns by position.
 */
#ifndef BERTH_CLI_TABLE_H
#define BERTH_CLI_TABLE_H

#include <stdio.h>
#include <yajl/yajl_tree.h>

#include "berr.h"
#include "buf.h"
#include "format.h"

struct tabwriter {
    int minwidth;
    int padding;
    struct strbuf text; /* everything written so far */
};

void tabwriter_init(struct tabwriter *tw, int minwidth, int padding);
void tabwriter_write(struct tabwriter *tw, const char *text);
/* Aligns and writes everything to out; the writer is empty afterwards. */
void tabwriter_flush(struct tabwriter *tw, FILE *out);
void tabwriter_free(struct tabwriter *tw);

/* Width of UTF-8 text in runes. */
size_t utf8_width(const char *text, size_t len);

/* formatter.Ellipsis: at most max runes, the last one "\u2026" when cut. */
void text_ellipsis(struct strbuf *out, const char *text, size_t max);

struct list_spec {
    const char *default_format; /* "table {{.ID}}\t{{.Image}}..." */
    const char *const *headers; /* pairs: field, header text; NULL-terminated */
    const char *root_type;      /* "*formatter.ContainerContext" */
    format_method_fn method;    /* called with the row as ctx */
};

/*
 * Prints rows (JSON objects) with user_format (NULL or "" = the spec's
 * default; "json" = {{json .}}; "table ..." = aligned with a header line).
 * error_prefix precedes template errors ("failed to parse template: ").
 */
int list_render(const struct list_spec *spec, const char *user_format, yajl_val *rows, size_t nrows,
                FILE *out, struct berr *err);

#endif
