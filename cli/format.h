/*
 * format: the subset of Go's text/template that `--format` needs.
 *
 * docker users write Go templates in scripts ("{{.State.Status}}",
 * "{{json .Config}}", "table {{.ID}}\t{{.Names}}"), so the syntax and the way
 * values print are Go's: a template runs against a JSON tree, numbers print
 * as the daemon wrote them, objects as map[k:v] with sorted keys, arrays as
 * [a b], null as <no value>, and a missing key is an error ("map has no
 * entry for key"), as in docker inspect. Supported: fields and chains
 * (.A.B), $ and $.A, literals, pipelines (|), parentheses, if/else if/else,
 * range (with else, and `range $k, $v := PIPE`), with, comments, trim
 * markers ({{- -}}), and the functions json, join, split, upper, lower,
 * title, truncate, pad, index, len, print, printf, println, eq, ne, lt, le,
 * gt, ge, and, or, not. Anything else is a parse error that names it.
 * List commands also get methods (.Label "key") through a callback.
 */
#ifndef BERTH_CLI_FORMAT_H
#define BERTH_CLI_FORMAT_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "berr.h"
#include "buf.h"

struct format;

/* A method of the root object: .Label "a". Return BERR_NOT_FOUND when there is no such method.
 * *out must be a string the callee allocated with format_string_value. */
typedef int (*format_method_fn)(void *ctx, const char *name, yajl_val *args, size_t nargs,
                                yajl_val *out, struct berr *err);

struct format_options {
    format_method_fn method;
    void *method_ctx;
    /* docker's type name for the root of list commands ("*formatter.ContainerContext"):
     * a missing root field then errors like docker's ("can't evaluate field X in type T") */
    const char *root_type;
    /* render a table header: missing fields print "" instead of failing */
    bool header;
};

/*
 * Turns a --format value into template text: strips a leading "table"
 * (setting *is_table), trims spaces, and turns the two-character sequences
 * \t and \n into tabs and newlines, as the docker CLI does. Malloc'ed.
 */
char *format_prepare(const char *user_format, bool *is_table);

/* Parse errors read like Go's: "template: :1: unclosed action". */
int format_parse(const char *text, struct format **out, struct berr *err);
int format_exec(const struct format *format, yajl_val dot, const struct format_options *options,
                struct strbuf *out, struct berr *err);
void format_free(struct format *format);

/* Go's fmt %v of a JSON value: map[a:b], [x y], <no value>. */
void format_print_value(struct strbuf *out, yajl_val value);
/* Compact JSON as docker's {{json}} writes it (Go's encoder: <, > and & as \u003c...). */
void format_json_value(struct strbuf *out, yajl_val value);
/* docker inspect's indented JSON (Go's json.Indent, four spaces). */
void format_json_indent(struct strbuf *out, yajl_val value, int depth);
/* The indexes of an object's members sorted by key (malloc'ed; Go prints and ranges maps
 * sorted). */
size_t *format_sorted_members(yajl_val object);
/* A JSON string node the caller owns (free with format_value_free). */
yajl_val format_string_value(const char *text);
void format_value_free(yajl_val value);

#endif
