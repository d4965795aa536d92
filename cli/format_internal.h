/*
 * format_internal: the parsed template tree, shared by format_parse.c (which
 * builds it) and format_exec.c (which runs it). Not for other files.
 */
#ifndef BERTH_CLI_FORMAT_INTERNAL_H
#define BERTH_CLI_FORMAT_INTERNAL_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

enum operand_kind {
    OPERAND_DOT,    /* . */
    OPERAND_FIELD,  /* .A.B */
    OPERAND_VAR,    /* $ or $x, with an optional field chain */
    OPERAND_STRING, /* "x" or `x` */
    OPERAND_NUMBER,
    OPERAND_BOOL,
    OPERAND_NIL,
    OPERAND_FUNC, /* a function name */
    OPERAND_PIPE, /* ( pipeline ), with an optional field chain */
};

struct pipeline;

struct operand {
    enum operand_kind kind;
    char *name;    /* variable or function name */
    char **fields; /* field chain */
    size_t nfields;
    char *text; /* string literal, number text */
    int boolean;
    struct pipeline *pipe;
    int line, col;
    char *source; /* the operand as written, for error messages */
};

struct command {
    struct operand *ops;
    size_t n;
};

struct pipeline {
    struct command *cmds;
    size_t n;
    char *decl[2]; /* range $k, $v := ... */
    size_t ndecl;
};

enum node_kind {
    NODE_TEXT,
    NODE_ACTION,
    NODE_IF,
    NODE_RANGE,
    NODE_WITH,
};

struct node;

struct node_list {
    struct node **items;
    size_t n;
};

struct node {
    enum node_kind kind;
    char *text;
    struct pipeline *pipe;
    struct node_list body;
    struct node_list alt; /* else branch */
};

struct format {
    struct node_list root;
};

/* Functions the executor knows; the parser rejects other names like Go does. */
int format_function_known(const char *name);

#endif
