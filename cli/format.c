/*
 * format: a small Go text/template (see format.h for the subset and why it
 * mimics Go). Three stages: the template text is cut into text and action
 * items, actions are tokenized and parsed into a node tree, and the tree is
 * executed against a JSON value. Values produced while executing (strings
 * from functions, booleans from comparisons) are yajl nodes owned by the
 * execution and freed when it ends.
 */
#include "format.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format_internal.h"

/* ---------------------------------------------------------------- values */

yajl_val format_string_value(const char *text)
{
    yajl_val v = xcalloc(1, sizeof(*v));

    v->type = yajl_t_string;
    v->u.string = xstrdup(text);
    return v;
}

void format_value_free(yajl_val v)
{
    if (!v)
        return;
    if (v->type == yajl_t_string)
        free(v->u.string);
    else if (v->type == yajl_t_number)
        free(v->u.number.r);
    else if (v->type == yajl_t_array)
        free(v->u.array.values); /* elements are borrowed or owned elsewhere */
    free(v);
}

static void print_number(struct strbuf *out, yajl_val v)
{
    if (v->u.number.r)
        sb_puts(out, v->u.number.r);
    else if (v->u.number.flags & YAJL_NUMBER_INT_VALID)
        sb_printf(out, "%lld", v->u.number.i);
    else
        sb_printf(out, "%g", v->u.number.d);
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* Indexes of an object's members sorted by key (Go prints and ranges maps sorted). */
size_t *format_sorted_members(yajl_val object)
{
    size_t n = object->u.object.len;
    const char ***keys = xcalloc(n, sizeof(*keys));
    size_t *order = xcalloc(n, sizeof(*order));

    for (size_t i = 0; i < n; i++)
        keys[i] = &object->u.object.keys[i];
    qsort(keys, n, sizeof(*keys), compare_keys);
    for (size_t i = 0; i < n; i++)
        order[i] = (size_t)(keys[i] - object->u.object.keys);
    free(keys);
    return order;
}

static void print_value(struct strbuf *out, yajl_val v, bool nested)
{
    if (!v || YAJL_IS_NULL(v)) {
        sb_puts(out, nested ? "<nil>" : "<no value>");
        return;
    }
    switch (v->type) {
    case yajl_t_string:
        sb_puts(out, v->u.string);
        break;
    case yajl_t_number:
        print_number(out, v);
        break;
    case yajl_t_true:
        sb_puts(out, "true");
        break;
    case yajl_t_false:
        sb_puts(out, "false");
        break;
    case yajl_t_array:
        sb_putc(out, '[');
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (i)
                sb_putc(out, ' ');
            print_value(out, v->u.array.values[i], true);
        }
        sb_putc(out, ']');
        break;
    case yajl_t_object: {
        size_t *order = format_sorted_members(v);

        sb_puts(out, "map[");
        for (size_t i = 0; i < v->u.object.len; i++) {
            if (i)
                sb_putc(out, ' ');
            sb_puts(out, v->u.object.keys[order[i]]);
            sb_putc(out, ':');
            print_value(out, v->u.object.values[order[i]], true);
        }
        sb_putc(out, ']');
        free(order);
        break;
    }
    default:
        break;
    }
}

void format_print_value(struct strbuf *out, yajl_val value)
{
    print_value(out, value, false);
}

static void json_escape(struct strbuf *out, const char *s, bool html)
{
    static const char hex[] = "0123456789abcdef";

    sb_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;

        if (c == '"' || c == '\\') {
            sb_putc(out, '\\');
            sb_putc(out, (char)c);
        } else if (c == '\n') {
            sb_puts(out, "\\n");
        } else if (c == '\r') {
            sb_puts(out, "\\r");
        } else if (c == '\t') {
            sb_puts(out, "\\t");
        } else if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&'))) {
            sb_puts(out, "\\u00");
            sb_putc(out, hex[c >> 4]);
            sb_putc(out, hex[c & 15]);
        } else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            sb_puts(out, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
            p += 2;
        } else {
            sb_putc(out, (char)c);
        }
    }
    sb_putc(out, '"');
}

static void json_value(struct strbuf *out, yajl_val v, bool html, int indent_depth, bool indent)
{
    if (!v) {
        sb_puts(out, "null");
        return;
    }
    switch (v->type) {
    case yajl_t_string:
        json_escape(out, v->u.string, html);
        break;
    case yajl_t_number:
        print_number(out, v);
        break;
    case yajl_t_true:
        sb_puts(out, "true");
        break;
    case yajl_t_false:
        sb_puts(out, "false");
        break;
    case yajl_t_array:
    case yajl_t_object: {
        bool object = v->type == yajl_t_object;
        size_t n = object ? v->u.object.len : v->u.array.len;

        sb_putc(out, object ? '{' : '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_putc(out, ',');
            if (indent) {
                sb_putc(out, '\n');
                for (int d = 0; d <= indent_depth; d++)
                    sb_puts(out, "    ");
            }
            if (object) {
                json_escape(out, v->u.object.keys[i], html);
                sb_puts(out, indent ? ": " : ":");
            }
            json_value(out, object ? v->u.object.values[i] : v->u.array.values[i], html,
                       indent_depth + 1, indent);
        }
        if (indent && n) {
            sb_putc(out, '\n');
            for (int d = 0; d < indent_depth; d++)
                sb_puts(out, "    ");
        }
        sb_putc(out, object ? '}' : ']');
        break;
    }
    default:
        sb_puts(out, "null");
        break;
    }
}

void format_json_value(struct strbuf *out, yajl_val value)
{
    json_value(out, value, true, 0, false);
}

void format_json_indent(struct strbuf *out, yajl_val value, int depth)
{
    json_value(out, value, true, depth, true);
}

char *format_prepare(const char *user_format, bool *is_table)
{
    struct strbuf sb = STRBUF_INIT;
    const char *p = user_format;
    size_t len;

    *is_table = false;
    if (strncmp(p, "table", 5) == 0 && (p[5] == '\0' || isspace((unsigned char)p[5]))) {
        *is_table = true;
        p += 5;
    }
    while (*p == ' ')
        p++;
    len = strlen(p);
    while (len && p[len - 1] == ' ')
        len--;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && i + 1 < len && (p[i + 1] == 't' || p[i + 1] == 'n')) {
            sb_putc(&sb, p[i + 1] == 't' ? '\t' : '\n');
            i++;
        } else {
            sb_putc(&sb, p[i]);
        }
    }
    return sb_detach(&sb);
}
