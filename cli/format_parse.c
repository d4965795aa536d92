/*
 * format_parse: template text to a node tree. The template is cut into
 * items (text, or one action's tokens), then a recursive descent over the
 * items builds if/range/with blocks and pipelines. Error messages follow
 * Go's ("template: :1: unclosed action", "function \"x\" not defined").
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "format_internal.h"

enum token_type {
    TOK_FIELD,
    TOK_VAR,
    TOK_STRING,
    TOK_NUMBER,
    TOK_IDENT,
    TOK_PIPE,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_COMMA,
    TOK_DECLARE,
};

struct token {
    enum token_type type;
    char *text;
    int col;
    int spaced; /* whitespace before it */
};

struct item {
    int is_text;
    char *text;
    struct token *tokens;
    size_t ntokens;
    int line;
};

struct parser {
    struct item *items;
    size_t nitems;
    size_t pos;
    struct berr *err;
    /* tokens after "else" of the action that ended the last list */
    struct item *else_item;
};

static int parse_error(struct parser *p, int line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int parse_error(struct parser *p, int line, const char *format, ...)
{
    char message[512];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    return berr_set(p->err, BERR_INVALID, "template: :%d: %s", line, message);
}

/* ------------------------------------------------------------ lexing */

static void push_token(struct item *item, enum token_type type, const char *text, size_t len,
                       int col, int spaced)
{
    item->tokens = xrealloc(item->tokens, (item->ntokens + 1) * sizeof(*item->tokens));
    item->tokens[item->ntokens].type = type;
    item->tokens[item->ntokens].text = xstrndup(text, len);
    item->tokens[item->ntokens].col = col;
    item->tokens[item->ntokens].spaced = spaced;
    item->ntokens++;
}

static int is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* A quoted string's value, with Go's common escapes. */
static int lex_string(struct parser *p, struct item *item, const char *s, size_t *i, int col,
                      int spaced)
{
    struct strbuf value = STRBUF_INIT;
    char quote = s[*i];
    size_t j = *i + 1;

    for (; s[j] && s[j] != quote; j++) {
        if (quote == '"' && s[j] == '\\' && s[j + 1]) {
            char c = s[++j];

            sb_putc(&value, c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
        } else {
            sb_putc(&value, s[j]);
        }
    }
    if (s[j] != quote) {
        sb_free(&value);
        return parse_error(p, item->line, "unterminated quoted string");
    }
    push_token(item, TOK_STRING, sb_str(&value), value.len, col, spaced);
    sb_free(&value);
    *i = j + 1;
    return 0;
}

static int lex_action(struct parser *p, struct item *item, const char *s, int base_col)
{
    size_t i = 0;
    int spaced = 1;

    while (s[i]) {
        int col = base_col + (int)i;
        size_t start = i;
        char c = s[i];

        if (isspace((unsigned char)c)) {
            i++;
            spaced = 1;
            continue;
        }
        if (c == '"' || c == '`') {
            if (lex_string(p, item, s, &i, col, spaced))
                return p->err->code;
        } else if (c == '.' || c == '$') {
            i++;
            while (is_ident_char(s[i]) || (s[i] == '.' && is_ident_char(s[i + 1])))
                i++;
            push_token(item, c == '.' ? TOK_FIELD : TOK_VAR, s + start, i - start, col, spaced);
        } else if (isdigit((unsigned char)c) ||
                   ((c == '-' || c == '+') && isdigit((unsigned char)s[i + 1]))) {
            i++;
            while (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' ||
                   ((s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E')))
                i++;
            push_token(item, TOK_NUMBER, s + start, i - start, col, spaced);
        } else if (isalpha((unsigned char)c) || c == '_') {
            while (is_ident_char(s[i]))
                i++;
            push_token(item, TOK_IDENT, s + start, i - start, col, spaced);
        } else if (c == '|' || c == '(' || c == ')' || c == ',') {
            i++;
            push_token(item,
                       c == '|'   ? TOK_PIPE
                       : c == '(' ? TOK_LPAREN
                       : c == ')' ? TOK_RPAREN
                                  : TOK_COMMA,
                       s + start, 1, col, spaced);
        } else if (c == ':' && s[i + 1] == '=') {
            i += 2;
            push_token(item, TOK_DECLARE, ":=", 2, col, spaced);
        } else {
            return parse_error(p, item->line, "unexpected \"%c\" in command", c);
        }
        spaced = 0;
    }
    return 0;
}

static struct item *new_item(struct parser *p, int line)
{
    struct item *item;

    p->items = xrealloc(p->items, (p->nitems + 1) * sizeof(*p->items));
    item = &p->items[p->nitems++];
    memset(item, 0, sizeof(*item));
    item->line = line;
    return item;
}

static void add_text(struct parser *p, const char *text, size_t len, int line)
{
    struct item *item;

    if (!len)
        return;
    item = new_item(p, line);
    item->is_text = 1;
    item->text = xstrndup(text, len);
}

/* Where the action that starts at s ends ("}}"), skipping quoted text. */
static const char *find_close(const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '`' || *s == '\'') {
            char quote = *s;

            for (s++; *s && *s != quote; s++)
                if (quote != '`' && *s == '\\' && s[1])
                    s++;
            if (!*s)
                return NULL;
        } else if (s[0] == '}' && s[1] == '}') {
            return s;
        }
    }
    return NULL;
}

static int count_lines(const char *from, const char *to)
{
    int n = 0;

    for (; from < to; from++)
        n += *from == '\n';
    return n;
}

static int split_items(struct parser *p, const char *text)
{
    const char *s = text;
    int line = 1;

    for (;;) {
        const char *open = strstr(s, "{{");
        const char *body, *close, *end, *text_end;
        int trim_left, trim_right;

        if (!open) {
            add_text(p, s, strlen(s), line);
            return 0;
        }
        body = open + 2;
        trim_left = body[0] == '-' && isspace((unsigned char)body[1]);
        if (trim_left)
            body += 2;
        close = find_close(body);
        if (!close)
            return parse_error(p, line + count_lines(s, open), "unclosed action");
        end = close;
        trim_right = end - body >= 2 && end[-1] == '-' && isspace((unsigned char)end[-2]);
        if (trim_right)
            end -= 2;
        text_end = open;
        if (trim_left)
            while (text_end > s && isspace((unsigned char)text_end[-1]))
                text_end--;
        add_text(p, s, (size_t)(text_end - s), line);
        line += count_lines(s, open);
        {
            struct item *item = new_item(p, line);
            char *action = xstrndup(body, (size_t)(end - body));
            const char *line_start = open;
            int rc;

            while (line_start > text && line_start[-1] != '\n')
                line_start--;
            if (strncmp(action, "/*", 2) != 0)
                rc = lex_action(p, item, action, (int)(body - line_start));
            else
                rc = 0;
            free(action);
            if (rc)
                return rc;
            if (!item->ntokens)
                p->nitems--; /* a comment */
        }
        line += count_lines(open, close);
        s = close + 2;
        if (trim_right)
            while (isspace((unsigned char)*s))
                line += *s++ == '\n';
    }
}

/* ------------------------------------------------------------ parsing */

static int parse_pipeline(struct parser *p, struct item *item, size_t *i, size_t end,
                          struct pipeline **out, int allow_decl);

static int make_operand(struct parser *p, struct item *item, size_t *i, size_t end,
                        struct operand *op)
{
    struct token *t = &item->tokens[*i];

    memset(op, 0, sizeof(*op));
    op->line = item->line;
    op->col = t->col;
    op->source = xstrdup(t->text);
    switch (t->type) {
    case TOK_FIELD:
    case TOK_VAR: {
        const char *chain = t->text;

        if (t->type == TOK_VAR) {
            size_t n =
                1 + strspn(chain + 1,
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

            op->name = xstrndup(chain, n);
            chain += n;
        }
        op->kind = t->type == TOK_VAR   ? OPERAND_VAR
                   : strcmp(chain, ".") ? OPERAND_FIELD
                                        : OPERAND_DOT;
        while (*chain == '.' && chain[1]) {
            size_t n = strcspn(chain + 1, ".");

            op->fields = xrealloc(op->fields, (op->nfields + 1) * sizeof(char *));
            op->fields[op->nfields++] = xstrndup(chain + 1, n);
            chain += 1 + n;
        }
        /* Go positions a field chain at its second field */
        if (t->type == TOK_FIELD && op->nfields > 1)
            op->col += 1 + (int)strlen(op->fields[0]);
        (*i)++;
        return 0;
    }
    case TOK_STRING:
        op->kind = OPERAND_STRING;
        op->text = xstrdup(t->text);
        (*i)++;
        return 0;
    case TOK_NUMBER:
        op->kind = OPERAND_NUMBER;
        op->text = xstrdup(t->text);
        (*i)++;
        return 0;
    case TOK_IDENT:
        (*i)++;
        if (strcmp(t->text, "true") == 0 || strcmp(t->text, "false") == 0) {
            op->kind = OPERAND_BOOL;
            op->boolean = t->text[0] == 't';
        } else if (strcmp(t->text, "nil") == 0) {
            op->kind = OPERAND_NIL;
        } else if (format_function_known(t->text)) {
            op->kind = OPERAND_FUNC;
            op->name = xstrdup(t->text);
        } else {
            return parse_error(p, item->line, "function \"%s\" not defined", t->text);
        }
        return 0;
    case TOK_LPAREN: {
        size_t depth = 0, close = *i;

        for (; close < end; close++) {
            if (item->tokens[close].type == TOK_LPAREN)
                depth++;
            else if (item->tokens[close].type == TOK_RPAREN && --depth == 0)
                break;
        }
        if (close >= end)
            return parse_error(p, item->line, "unclosed left paren");
        op->kind = OPERAND_PIPE;
        (*i)++;
        if (parse_pipeline(p, item, i, close, &op->pipe, 0))
            return p->err->code;
        *i = close + 1;
        /* (pipeline).Field */
        if (*i < end && item->tokens[*i].type == TOK_FIELD && !item->tokens[*i].spaced) {
            const char *chain = item->tokens[*i].text;

            while (*chain == '.' && chain[1]) {
                size_t n = strcspn(chain + 1, ".");

                op->fields = xrealloc(op->fields, (op->nfields + 1) * sizeof(char *));
                op->fields[op->nfields++] = xstrndup(chain + 1, n);
                chain += 1 + n;
            }
            (*i)++;
        }
        return 0;
    }
    default:
        return parse_error(p, item->line, "unexpected \"%s\" in operand", t->text);
    }
}

static int parse_pipeline(struct parser *p, struct item *item, size_t *i, size_t end,
                          struct pipeline **out, int allow_decl)
{
    struct pipeline *pipe = xcalloc(1, sizeof(*pipe));
    struct command *cmd;

    *out = pipe;
    /* $k, $v := / $v := */
    if (allow_decl && *i < end && item->tokens[*i].type == TOK_VAR) {
        size_t j = *i;
        char *names[2] = {NULL, NULL};
        size_t n = 0;

        while (j < end && item->tokens[j].type == TOK_VAR && n < 2) {
            names[n++] = item->tokens[j++].text;
            if (j < end && item->tokens[j].type == TOK_COMMA)
                j++;
            else
                break;
        }
        if (j < end && item->tokens[j].type == TOK_DECLARE) {
            for (size_t k = 0; k < n; k++)
                pipe->decl[k] = xstrdup(names[k]);
            pipe->ndecl = n;
            *i = j + 1;
        }
    }
    pipe->cmds = xcalloc(1, sizeof(*pipe->cmds));
    pipe->n = 1;
    cmd = &pipe->cmds[0];
    while (*i < end) {
        struct token *t = &item->tokens[*i];

        if (t->type == TOK_PIPE) {
            if (!cmd->n)
                return parse_error(p, item->line, "missing command");
            pipe->cmds = xrealloc(pipe->cmds, (pipe->n + 1) * sizeof(*pipe->cmds));
            cmd = &pipe->cmds[pipe->n++];
            memset(cmd, 0, sizeof(*cmd));
            (*i)++;
            continue;
        }
        if (t->type == TOK_DECLARE)
            return parse_error(p, item->line, "variable declarations are not supported here");
        if (t->type == TOK_COMMA || t->type == TOK_RPAREN)
            return parse_error(p, item->line, "unexpected \"%s\" in operand", t->text);
        cmd->ops = xrealloc(cmd->ops, (cmd->n + 1) * sizeof(*cmd->ops));
        /* counted before it is checked, so that a failed operand is freed with the tree */
        if (make_operand(p, item, i, end, &cmd->ops[cmd->n++]))
            return p->err->code;
    }
    if (!cmd->n)
        return parse_error(p, item->line, "missing value for command");
    return 0;
}

enum ending { END_EOF, END_END, END_ELSE };

static int parse_list(struct parser *p, struct node_list *list, enum ending *ending);

static void add_node(struct node_list *list, struct node *node)
{
    list->items = xrealloc(list->items, (list->n + 1) * sizeof(*list->items));
    list->items[list->n++] = node;
}

/* if/range/with: the body, an optional else (or else if), and end. */
static int parse_block(struct parser *p, struct node *node, struct item *item, size_t first)
{
    enum ending ending;
    size_t i = first;

    if (first >= item->ntokens)
        return parse_error(p, item->line, "missing value for %s",
                           node->kind == NODE_IF      ? "if"
                           : node->kind == NODE_RANGE ? "range"
                                                      : "with");
    if (parse_pipeline(p, item, &i, item->ntokens, &node->pipe, node->kind == NODE_RANGE))
        return p->err->code;
    if (parse_list(p, &node->body, &ending))
        return p->err->code;
    if (ending == END_EOF)
        return parse_error(p, item->line, "unexpected EOF");
    if (ending == END_END)
        return 0;
    /* else */
    {
        struct item *else_item = p->else_item;

        if (else_item->ntokens > 1) {
            struct node *nested;

            if (node->kind != NODE_IF || else_item->tokens[1].type != TOK_IDENT ||
                strcmp(else_item->tokens[1].text, "if") != 0)
                return parse_error(p, else_item->line, "unexpected tokens after else");
            nested = xcalloc(1, sizeof(*nested));
            nested->kind = NODE_IF;
            add_node(&node->alt, nested);
            return parse_block(p, nested, else_item, 2);
        }
        if (parse_list(p, &node->alt, &ending))
            return p->err->code;
        if (ending != END_END)
            return parse_error(p, else_item->line,
                               ending == END_EOF ? "unexpected EOF" : "expected end; found else");
    }
    return 0;
}

static int parse_action(struct parser *p, struct item *item, struct node_list *list,
                        enum ending *ending, int *done)
{
    struct token *first = &item->tokens[0];
    struct node *node;

    *done = 0;
    if (first->type == TOK_IDENT) {
        const char *word = first->text;

        if (strcmp(word, "end") == 0 || strcmp(word, "else") == 0) {
            *ending = word[1] == 'n' ? END_END : END_ELSE;
            p->else_item = item;
            *done = 1;
            return 0;
        }
        if (strcmp(word, "if") == 0 || strcmp(word, "range") == 0 || strcmp(word, "with") == 0) {
            node = xcalloc(1, sizeof(*node));
            node->kind = word[0] == 'i' ? NODE_IF : word[0] == 'r' ? NODE_RANGE : NODE_WITH;
            add_node(list, node);
            return parse_block(p, node, item, 1);
        }
        if (strcmp(word, "define") == 0 || strcmp(word, "template") == 0 ||
            strcmp(word, "block") == 0 || strcmp(word, "break") == 0 ||
            strcmp(word, "continue") == 0)
            return parse_error(p, item->line, "\"%s\" is not supported by berth's templates", word);
    }
    node = xcalloc(1, sizeof(*node));
    node->kind = NODE_ACTION;
    add_node(list, node);
    {
        size_t i = 0;

        return parse_pipeline(p, item, &i, item->ntokens, &node->pipe, 0);
    }
}

static int parse_list(struct parser *p, struct node_list *list, enum ending *ending)
{
    *ending = END_EOF;
    while (p->pos < p->nitems) {
        struct item *item = &p->items[p->pos++];
        int done;

        if (item->is_text) {
            struct node *node = xcalloc(1, sizeof(*node));

            node->kind = NODE_TEXT;
            node->text = xstrdup(item->text);
            add_node(list, node);
            continue;
        }
        if (parse_action(p, item, list, ending, &done))
            return p->err->code;
        if (done)
            return 0;
    }
    return 0;
}

static void free_items(struct parser *p)
{
    for (size_t i = 0; i < p->nitems; i++) {
        free(p->items[i].text);
        for (size_t j = 0; j < p->items[i].ntokens; j++)
            free(p->items[i].tokens[j].text);
        free(p->items[i].tokens);
    }
    free(p->items);
}

int format_parse(const char *text, struct format **out, struct berr *err)
{
    struct parser p = {NULL, 0, 0, err, NULL};
    struct format *format = xcalloc(1, sizeof(*format));
    enum ending ending;
    int rc = split_items(&p, text);

    if (rc == 0)
        rc = parse_list(&p, &format->root, &ending);
    if (rc == 0 && ending != END_EOF)
        rc = parse_error(&p, p.else_item->line, "unexpected {{%s}}",
                         ending == END_END ? "end" : "else");
    free_items(&p);
    if (rc) {
        format_free(format);
        *out = NULL;
        return rc;
    }
    *out = format;
    return 0;
}

/* ------------------------------------------------------------ freeing */

static void free_pipeline(struct pipeline *pipe);

static void free_operand(struct operand *op)
{
    free(op->name);
    for (size_t i = 0; i < op->nfields; i++)
        free(op->fields[i]);
    free(op->fields);
    free(op->text);
    free(op->source);
    if (op->pipe)
        free_pipeline(op->pipe);
}

static void free_pipeline(struct pipeline *pipe)
{
    for (size_t i = 0; i < pipe->n; i++) {
        for (size_t j = 0; j < pipe->cmds[i].n; j++)
            free_operand(&pipe->cmds[i].ops[j]);
        free(pipe->cmds[i].ops);
    }
    free(pipe->cmds);
    free(pipe->decl[0]);
    free(pipe->decl[1]);
    free(pipe);
}

static void free_list(struct node_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        struct node *node = list->items[i];

        free(node->text);
        if (node->pipe)
            free_pipeline(node->pipe);
        free_list(&node->body);
        free_list(&node->alt);
        free(node);
    }
    free(list->items);
}

void format_free(struct format *format)
{
    if (!format)
        return;
    free_list(&format->root);
    free(format);
}
