/*
 * format_exec: runs a parsed template against a JSON value (see format.h
 * for the printing rules). Errors read like Go's:
 * template: :1:9: executing "" at <.Config.Foo>: map has no entry for key "Foo"
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "format_internal.h"

#define MAX_VARS 32
#define MAX_ARGS 16

struct var {
    const char *name;
    yajl_val value;
};

struct exec {
    const struct format_options *options;
    yajl_val root;
    yajl_val *owned;
    size_t nowned;
    struct var vars[MAX_VARS];
    size_t nvars;
    struct berr *err;
    const struct operand *at; /* the operand being evaluated, for messages */
};

static int exec_error(struct exec *e, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int exec_error(struct exec *e, const char *format, ...)
{
    char message[512];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    if (e->at)
        return berr_set(e->err, BERR_INVALID, "template: :%d:%d: executing \"\" at <%s>: %s",
                        e->at->line, e->at->col, e->at->source, message);
    return berr_set(e->err, BERR_INVALID, "template: executing \"\": %s", message);
}

static yajl_val own(struct exec *e, yajl_val v)
{
    e->owned = xrealloc(e->owned, (e->nowned + 1) * sizeof(*e->owned));
    e->owned[e->nowned++] = v;
    return v;
}

static yajl_val mk_string(struct exec *e, const char *text)
{
    return own(e, format_string_value(text));
}

static yajl_val mk_bool(struct exec *e, int value)
{
    yajl_val v = xcalloc(1, sizeof(*v));

    v->type = value ? yajl_t_true : yajl_t_false;
    return own(e, v);
}

static yajl_val mk_number_text(struct exec *e, const char *text)
{
    yajl_val v = xcalloc(1, sizeof(*v));
    char *end;

    v->type = yajl_t_number;
    v->u.number.r = xstrdup(text);
    errno = 0;
    v->u.number.i = strtoll(text, &end, 0);
    if (!*end && !errno)
        v->u.number.flags |= YAJL_NUMBER_INT_VALID;
    v->u.number.d = strtod(text, NULL);
    v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
    return own(e, v);
}

static yajl_val mk_int(struct exec *e, long long value)
{
    char text[32];

    snprintf(text, sizeof(text), "%lld", value);
    return mk_number_text(e, text);
}

static yajl_val mk_array(struct exec *e, yajl_val *items, size_t n)
{
    yajl_val v = xcalloc(1, sizeof(*v));

    v->type = yajl_t_array;
    v->u.array.values = xcalloc(n, sizeof(yajl_val));
    if (n)
        memcpy(v->u.array.values, items, n * sizeof(yajl_val));
    v->u.array.len = n;
    return own(e, v);
}

static double number_of(yajl_val v)
{
    if (!v || !YAJL_IS_NUMBER(v))
        return 0;
    if (v->u.number.flags & YAJL_NUMBER_INT_VALID)
        return (double)v->u.number.i;
    return v->u.number.d;
}

static int truth(yajl_val v)
{
    if (!v)
        return 0;
    switch (v->type) {
    case yajl_t_string:
        return v->u.string[0] != '\0';
    case yajl_t_number:
        return number_of(v) != 0;
    case yajl_t_true:
        return 1;
    case yajl_t_array:
        return v->u.array.len != 0;
    case yajl_t_object:
        return v->u.object.len != 0;
    default:
        return 0;
    }
}

static const char *go_type(yajl_val v)
{
    if (!v || YAJL_IS_NULL(v))
        return "interface {}";
    switch (v->type) {
    case yajl_t_string:
        return "string";
    case yajl_t_number:
        return "json.Number";
    case yajl_t_array:
        return "[]interface {}";
    case yajl_t_object:
        return "map[string]interface {}";
    default:
        return "bool";
    }
}

/* The printed form of a value, as a C string owned by the execution. */
static const char *text_of(struct exec *e, yajl_val v)
{
    struct strbuf sb = STRBUF_INIT;
    yajl_val s;

    if (v && YAJL_IS_STRING(v))
        return v->u.string;
    format_print_value(&sb, v);
    s = mk_string(e, sb_str(&sb));
    sb_free(&sb);
    return s->u.string;
}

/* ---------------------------------------------------------------- fields */

static int field(struct exec *e, yajl_val value, const char *name, int at_root, yajl_val *out)
{
    if (!value || YAJL_IS_NULL(value)) {
        if (e->options && e->options->header) {
            *out = mk_string(e, "");
            return 0;
        }
        return exec_error(e, "nil pointer evaluating interface {}.%s", name);
    }
    if (!YAJL_IS_OBJECT(value))
        return exec_error(e, "can't evaluate field %s in type %s", name, go_type(value));
    /* exact key first; then case-insensitively, as Go's JSON decoding matches struct fields
     * (events: {{.ID}} is the "id" member) */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < value->u.object.len; i++) {
            if (pass == 0 ? strcmp(value->u.object.keys[i], name) != 0
                          : strcasecmp(value->u.object.keys[i], name) != 0)
                continue;
            *out = value->u.object.values[i];
            if (*out && YAJL_IS_NULL(*out))
                *out = NULL;
            return 0;
        }
    }
    if (e->options && e->options->header) {
        *out = mk_string(e, "");
        return 0;
    }
    if (at_root && e->options && e->options->root_type)
        return exec_error(e, "can't evaluate field %s in type %s", name, e->options->root_type);
    return exec_error(e, "map has no entry for key \"%s\"", name);
}

static int walk(struct exec *e, yajl_val value, char **fields, size_t n, int from_root,
                yajl_val *out)
{
    for (size_t i = 0; i < n; i++) {
        if (field(e, value, fields[i], from_root && i == 0, &value))
            return e->err->code;
    }
    *out = value;
    return 0;
}

static yajl_val lookup_var(struct exec *e, const char *name, int *found)
{
    *found = 1;
    if (strcmp(name, "$") == 0)
        return e->root;
    for (size_t i = e->nvars; i-- > 0;)
        if (strcmp(e->vars[i].name, name) == 0)
            return e->vars[i].value;
    *found = 0;
    return NULL;
}

/* ---------------------------------------------------------------- functions */

static int want_args(struct exec *e, const char *name, size_t nargs, size_t min, size_t max)
{
    if (nargs < min || nargs > max)
        return exec_error(e, "wrong number of args for %s: want %zu got %zu", name, min, nargs);
    return 0;
}

static int compare(yajl_val a, yajl_val b, int *order)
{
    if (a && b && YAJL_IS_STRING(a) && YAJL_IS_STRING(b)) {
        *order = strcmp(a->u.string, b->u.string);
        return 0;
    }
    if (a && b && YAJL_IS_NUMBER(a) && YAJL_IS_NUMBER(b)) {
        double x = number_of(a), y = number_of(b);

        *order = x < y ? -1 : x > y;
        return 0;
    }
    if ((!a || YAJL_IS_NULL(a)) && (!b || YAJL_IS_NULL(b))) {
        *order = 0;
        return 0;
    }
    if (a && b && (YAJL_IS_TRUE(a) || YAJL_IS_FALSE(a)) && (YAJL_IS_TRUE(b) || YAJL_IS_FALSE(b))) {
        *order = YAJL_IS_TRUE(a) == YAJL_IS_TRUE(b) ? 0 : 1;
        return 0;
    }
    return -1;
}

static int fn_compare(struct exec *e, const char *name, yajl_val *args, size_t nargs, yajl_val *out)
{
    int order = 0;

    if (want_args(e, name, nargs, 2, strcmp(name, "eq") == 0 ? MAX_ARGS : 2))
        return e->err->code;
    if (strcmp(name, "eq") == 0) {
        for (size_t i = 1; i < nargs; i++) {
            if (compare(args[0], args[i], &order) == 0 && order == 0) {
                *out = mk_bool(e, 1);
                return 0;
            }
        }
        *out = mk_bool(e, 0);
        return 0;
    }
    if (compare(args[0], args[1], &order))
        return exec_error(e, "error calling %s: incompatible types for comparison", name);
    if (strcmp(name, "ne") == 0)
        *out = mk_bool(e, order != 0);
    else if (strcmp(name, "lt") == 0)
        *out = mk_bool(e, order < 0);
    else if (strcmp(name, "le") == 0)
        *out = mk_bool(e, order <= 0);
    else if (strcmp(name, "gt") == 0)
        *out = mk_bool(e, order > 0);
    else
        *out = mk_bool(e, order >= 0);
    return 0;
}

static void utf8_truncate(const char *s, long long runes, struct strbuf *out)
{
    const char *p = s;

    while (*p && runes > 0) {
        p++;
        while ((*p & 0xc0) == 0x80)
            p++;
        runes--;
    }
    sb_append(out, s, (size_t)(p - s));
}

static int fn_strings(struct exec *e, const char *name, yajl_val *args, size_t nargs, yajl_val *out)
{
    struct strbuf sb = STRBUF_INIT;
    const char *s;

    if (want_args(e, name, nargs,
                  strcmp(name, "pad") == 0        ? 3
                  : strcmp(name, "truncate") == 0 ? 2
                                                  : 1,
                  strcmp(name, "pad") == 0        ? 3
                  : strcmp(name, "truncate") == 0 ? 2
                                                  : 1))
        return e->err->code;
    s = text_of(e, args[0]);
    if (strcmp(name, "upper") == 0 || strcmp(name, "lower") == 0) {
        for (const char *p = s; *p; p++)
            sb_putc(&sb, (char)(name[0] == 'u' ? toupper((unsigned char)*p)
                                               : tolower((unsigned char)*p)));
    } else if (strcmp(name, "title") == 0) {
        int start = 1;

        for (const char *p = s; *p; p++) {
            sb_putc(&sb, (char)(start ? toupper((unsigned char)*p) : *p));
            start = isspace((unsigned char)*p);
        }
    } else if (strcmp(name, "truncate") == 0) {
        utf8_truncate(s, (long long)number_of(args[1]), &sb);
    } else { /* pad */
        for (long long i = 0; i < (long long)number_of(args[1]); i++)
            sb_putc(&sb, ' ');
        sb_puts(&sb, s);
        for (long long i = 0; i < (long long)number_of(args[2]); i++)
            sb_putc(&sb, ' ');
    }
    *out = mk_string(e, sb_str(&sb));
    sb_free(&sb);
    return 0;
}

static int fn_join_split(struct exec *e, const char *name, yajl_val *args, size_t nargs,
                         yajl_val *out)
{
    const char *sep;

    if (want_args(e, name, nargs, 2, 2))
        return e->err->code;
    sep = text_of(e, args[1]);
    if (name[0] == 'j') {
        struct strbuf sb = STRBUF_INIT;

        if (!args[0] || !YAJL_IS_ARRAY(args[0]))
            return exec_error(e, "wrong type for value; expected []string; got %s",
                              go_type(args[0]));
        for (size_t i = 0; i < args[0]->u.array.len; i++) {
            if (i)
                sb_puts(&sb, sep);
            sb_puts(&sb, text_of(e, args[0]->u.array.values[i]));
        }
        *out = mk_string(e, sb_str(&sb));
        sb_free(&sb);
        return 0;
    }
    {
        const char *s = text_of(e, args[0]);
        size_t seplen = strlen(sep), n = 0;
        yajl_val *parts = NULL;

        for (;;) {
            const char *next = seplen ? strstr(s, sep) : (*s ? s + 1 : NULL);
            char *piece = next ? xstrndup(s, (size_t)(next - s)) : xstrdup(s);

            parts = xrealloc(parts, (n + 1) * sizeof(*parts));
            parts[n++] = mk_string(e, piece);
            free(piece);
            if (!next || (!seplen && !next[0]))
                break;
            s = next + seplen;
        }
        *out = mk_array(e, parts, n);
        free(parts);
        return 0;
    }
}

static int fn_index(struct exec *e, yajl_val *args, size_t nargs, yajl_val *out)
{
    yajl_val v;

    if (want_args(e, "index", nargs, 1, MAX_ARGS))
        return e->err->code;
    v = args[0];
    for (size_t i = 1; i < nargs; i++) {
        if (v && YAJL_IS_OBJECT(v) && args[i] && YAJL_IS_STRING(args[i])) {
            yajl_val found = NULL;

            for (size_t k = 0; k < v->u.object.len; k++)
                if (strcmp(v->u.object.keys[k], args[i]->u.string) == 0)
                    found = v->u.object.values[k];
            v = found;
        } else if (v && YAJL_IS_ARRAY(v) && args[i] && YAJL_IS_NUMBER(args[i])) {
            long long k = (long long)number_of(args[i]);

            if (k < 0 || (size_t)k >= v->u.array.len)
                return exec_error(e, "error calling index: index out of range: %lld", k);
            v = v->u.array.values[k];
        } else {
            return exec_error(e, "error calling index: cannot index %s with %s", go_type(v),
                              go_type(args[i]));
        }
    }
    *out = v && YAJL_IS_NULL(v) ? NULL : v;
    return 0;
}

/* printf: %v %s %d %q %f %x %% with flags and width/precision. */
static int fn_printf(struct exec *e, yajl_val *args, size_t nargs, yajl_val *out)
{
    struct strbuf sb = STRBUF_INIT;
    const char *f;
    size_t next = 1;

    if (want_args(e, "printf", nargs, 1, MAX_ARGS))
        return e->err->code;
    f = text_of(e, args[0]);
    for (; *f; f++) {
        char spec[32];
        size_t len = 0;
        yajl_val arg;

        if (*f != '%') {
            sb_putc(&sb, *f);
            continue;
        }
        if (f[1] == '%') {
            sb_putc(&sb, '%');
            f++;
            continue;
        }
        spec[len++] = '%';
        for (f++; *f && strchr("-+# 0123456789.", *f) && len < sizeof(spec) - 3; f++)
            spec[len++] = *f;
        if (!*f)
            break;
        arg = next < nargs ? args[next++] : NULL;
        if (*f == 'd' || *f == 'x') {
            spec[len++] = 'l';
            spec[len++] = 'l';
            spec[len++] = *f;
            spec[len] = '\0';
            sb_printf(&sb, spec, (long long)number_of(arg));
        } else if (*f == 'f' || *f == 'g' || *f == 'e') {
            spec[len++] = *f;
            spec[len] = '\0';
            sb_printf(&sb, spec, number_of(arg));
        } else if (*f == 'q') {
            struct strbuf q = STRBUF_INIT;
            yajl_val s = mk_string(e, text_of(e, arg));

            format_json_value(&q, s);
            sb_puts(&sb, sb_str(&q));
            sb_free(&q);
        } else {
            spec[len++] = 's';
            spec[len] = '\0';
            sb_printf(&sb, spec, text_of(e, arg));
        }
    }
    *out = mk_string(e, sb_str(&sb));
    sb_free(&sb);
    return 0;
}

static int fn_print(struct exec *e, const char *name, yajl_val *args, size_t nargs, yajl_val *out)
{
    struct strbuf sb = STRBUF_INIT;
    int line = strcmp(name, "println") == 0;

    for (size_t i = 0; i < nargs; i++) {
        int strings =
            args[i] && YAJL_IS_STRING(args[i]) && i && args[i - 1] && YAJL_IS_STRING(args[i - 1]);

        if (i && (line || !strings))
            sb_putc(&sb, ' ');
        sb_puts(&sb, text_of(e, args[i]));
    }
    if (line)
        sb_putc(&sb, '\n');
    *out = mk_string(e, sb_str(&sb));
    sb_free(&sb);
    return 0;
}

static int fn_logic(struct exec *e, const char *name, yajl_val *args, size_t nargs, yajl_val *out)
{
    if (strcmp(name, "not") == 0) {
        if (want_args(e, name, nargs, 1, 1))
            return e->err->code;
        *out = mk_bool(e, !truth(args[0]));
        return 0;
    }
    if (want_args(e, name, nargs, 1, MAX_ARGS))
        return e->err->code;
    for (size_t i = 0; i < nargs; i++) {
        if (name[0] == 'a' ? !truth(args[i]) : truth(args[i])) {
            *out = args[i];
            return 0;
        }
    }
    *out = args[nargs - 1];
    return 0;
}

static int fn_len(struct exec *e, yajl_val *args, size_t nargs, yajl_val *out)
{
    yajl_val v;

    if (want_args(e, "len", nargs, 1, 1))
        return e->err->code;
    v = args[0];
    if (v && YAJL_IS_STRING(v))
        *out = mk_int(e, (long long)strlen(v->u.string));
    else if (v && YAJL_IS_ARRAY(v))
        *out = mk_int(e, (long long)v->u.array.len);
    else if (v && YAJL_IS_OBJECT(v))
        *out = mk_int(e, (long long)v->u.object.len);
    else
        return exec_error(e, "error calling len: len of %s", v ? go_type(v) : "nil pointer");
    return 0;
}

static int fn_json(struct exec *e, yajl_val *args, size_t nargs, yajl_val *out)
{
    struct strbuf sb = STRBUF_INIT;

    if (want_args(e, "json", nargs, 1, 1))
        return e->err->code;
    format_json_value(&sb, args[0]);
    *out = mk_string(e, sb_str(&sb));
    sb_free(&sb);
    return 0;
}

static const char *const functions[] = {
    "json",  "join", "split", "upper",  "lower",   "title", "truncate", "pad",
    "index", "len",  "print", "printf", "println", "eq",    "ne",       "lt",
    "le",    "gt",   "ge",    "and",    "or",      "not",   NULL,
};

int format_function_known(const char *name)
{
    for (size_t i = 0; functions[i]; i++)
        if (strcmp(functions[i], name) == 0)
            return 1;
    return 0;
}

static int call_function(struct exec *e, const char *name, yajl_val *args, size_t nargs,
                         yajl_val *out)
{
    if (strcmp(name, "json") == 0)
        return fn_json(e, args, nargs, out);
    if (strcmp(name, "join") == 0 || strcmp(name, "split") == 0)
        return fn_join_split(e, name, args, nargs, out);
    if (strcmp(name, "index") == 0)
        return fn_index(e, args, nargs, out);
    if (strcmp(name, "len") == 0)
        return fn_len(e, args, nargs, out);
    if (strcmp(name, "printf") == 0)
        return fn_printf(e, args, nargs, out);
    if (strcmp(name, "print") == 0 || strcmp(name, "println") == 0)
        return fn_print(e, name, args, nargs, out);
    if (strcmp(name, "and") == 0 || strcmp(name, "or") == 0 || strcmp(name, "not") == 0)
        return fn_logic(e, name, args, nargs, out);
    if (strlen(name) == 2 && strchr("elng", name[0]))
        return fn_compare(e, name, args, nargs, out);
    return fn_strings(e, name, args, nargs, out);
}

/* ---------------------------------------------------------------- evaluation */

static int eval_pipeline(struct exec *e, const struct pipeline *pipe, yajl_val dot, yajl_val *out);

static int eval_operand(struct exec *e, const struct operand *op, yajl_val dot, yajl_val *out)
{
    e->at = op;
    switch (op->kind) {
    case OPERAND_DOT:
        *out = dot;
        return 0;
    case OPERAND_FIELD:
        return walk(e, dot, op->fields, op->nfields, dot == e->root, out);
    case OPERAND_VAR: {
        int found;
        yajl_val v = lookup_var(e, op->name, &found);

        if (!found)
            return exec_error(e, "undefined variable: %s", op->name);
        return walk(e, v, op->fields, op->nfields, v == e->root, out);
    }
    case OPERAND_STRING:
        *out = mk_string(e, op->text);
        return 0;
    case OPERAND_NUMBER:
        *out = mk_number_text(e, op->text);
        return 0;
    case OPERAND_BOOL:
        *out = mk_bool(e, op->boolean);
        return 0;
    case OPERAND_NIL:
        *out = NULL;
        return 0;
    case OPERAND_FUNC:
        return call_function(e, op->name, NULL, 0, out);
    case OPERAND_PIPE: {
        yajl_val v;

        if (eval_pipeline(e, op->pipe, dot, &v))
            return e->err->code;
        e->at = op;
        return walk(e, v, op->fields, op->nfields, 0, out);
    }
    }
    return exec_error(e, "bad operand");
}

static int eval_command(struct exec *e, const struct command *cmd, yajl_val dot, yajl_val *final,
                        yajl_val *out)
{
    const struct operand *first = &cmd->ops[0];
    yajl_val args[MAX_ARGS];
    size_t nargs = 0;

    if (cmd->n == 1 && !final)
        return eval_operand(e, first, dot, out);
    if (cmd->n + 1 > MAX_ARGS)
        return exec_error(e, "too many arguments");
    for (size_t i = 1; i < cmd->n; i++)
        if (eval_operand(e, &cmd->ops[i], dot, &args[nargs++]))
            return e->err->code;
    if (final)
        args[nargs++] = *final;
    e->at = first;
    if (first->kind == OPERAND_FUNC)
        return call_function(e, first->name, args, nargs, out);
    if (first->kind == OPERAND_FIELD && first->nfields == 1 && e->options && e->options->method) {
        yajl_val result = NULL;
        int rc = e->options->method(e->options->method_ctx, first->fields[0], args, nargs, &result,
                                    e->err);

        if (rc == 0) {
            *out = result ? own(e, result) : NULL;
            return 0;
        }
        if (rc != BERR_NOT_FOUND)
            return exec_error(e, "error calling %s: %s", first->fields[0], e->err->message);
    }
    return exec_error(e, "can't give argument to non-function %s", first->source);
}

static int eval_pipeline(struct exec *e, const struct pipeline *pipe, yajl_val dot, yajl_val *out)
{
    yajl_val value = NULL;

    for (size_t i = 0; i < pipe->n; i++) {
        yajl_val result;

        if (eval_command(e, &pipe->cmds[i], dot, i ? &value : NULL, &result))
            return e->err->code;
        value = result;
    }
    *out = value;
    return 0;
}

static int exec_list(struct exec *e, const struct node_list *list, yajl_val dot,
                     struct strbuf *out);

static int push_var(struct exec *e, const char *name, yajl_val value)
{
    if (e->nvars >= MAX_VARS)
        return exec_error(e, "too many variables");
    e->vars[e->nvars].name = name;
    e->vars[e->nvars].value = value;
    e->nvars++;
    return 0;
}

static int range_one(struct exec *e, const struct node *node, yajl_val key, yajl_val value,
                     struct strbuf *out)
{
    size_t saved = e->nvars;
    int rc = 0;

    if (node->pipe->ndecl == 1)
        rc = push_var(e, node->pipe->decl[0], value);
    else if (node->pipe->ndecl == 2)
        rc = push_var(e, node->pipe->decl[0], key) || push_var(e, node->pipe->decl[1], value);
    if (rc == 0)
        rc = exec_list(e, &node->body, value, out);
    e->nvars = saved;
    return rc;
}

static int exec_range(struct exec *e, const struct node *node, yajl_val dot, struct strbuf *out)
{
    yajl_val v;

    if (eval_pipeline(e, node->pipe, dot, &v))
        return e->err->code;
    if (!truth(v))
        return exec_list(e, &node->alt, dot, out);
    if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++)
            if (range_one(e, node, mk_int(e, (long long)i), v->u.array.values[i], out))
                return e->err->code;
        return 0;
    }
    if (YAJL_IS_OBJECT(v)) {
        size_t *order = format_sorted_members(v);
        int rc = 0;

        for (size_t i = 0; i < v->u.object.len && rc == 0; i++)
            rc = range_one(e, node, mk_string(e, v->u.object.keys[order[i]]),
                           v->u.object.values[order[i]], out);
        free(order);
        return rc;
    }
    return exec_error(e, "range can't iterate over %s", text_of(e, v));
}

static int exec_node(struct exec *e, const struct node *node, yajl_val dot, struct strbuf *out)
{
    yajl_val v;

    switch (node->kind) {
    case NODE_TEXT:
        sb_puts(out, node->text);
        return 0;
    case NODE_ACTION:
        if (eval_pipeline(e, node->pipe, dot, &v))
            return e->err->code;
        format_print_value(out, v);
        return 0;
    case NODE_IF:
        if (eval_pipeline(e, node->pipe, dot, &v))
            return e->err->code;
        return exec_list(e, truth(v) ? &node->body : &node->alt, dot, out);
    case NODE_WITH:
        if (eval_pipeline(e, node->pipe, dot, &v))
            return e->err->code;
        return truth(v) ? exec_list(e, &node->body, v, out) : exec_list(e, &node->alt, dot, out);
    case NODE_RANGE:
        return exec_range(e, node, dot, out);
    }
    return 0;
}

static int exec_list(struct exec *e, const struct node_list *list, yajl_val dot, struct strbuf *out)
{
    for (size_t i = 0; i < list->n; i++)
        if (exec_node(e, list->items[i], dot, out))
            return e->err->code;
    return 0;
}

int format_exec(const struct format *format, yajl_val dot, const struct format_options *options,
                struct strbuf *out, struct berr *err)
{
    struct exec e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.options = options;
    e.root = dot;
    e.err = err;
    rc = exec_list(&e, &format->root, dot, out);
    for (size_t i = 0; i < e.nowned; i++)
        format_value_free(e.owned[i]);
    free(e.owned);
    return rc;
}
