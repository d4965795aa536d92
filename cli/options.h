/*
 * options: a small flag parser that behaves like the docker CLI's (pflag).
 *
 * Users type docker command lines from memory and scripts carry them over
 * verbatim, so the grammar and the error messages are pflag's: bundled
 * shorthands (-it, -dp 80:80, -eFOO=bar), --flag=value and --flag value,
 * repeated list flags, "--" ends the flags, and "interspersed" commands take
 * flags after positional arguments while `run`/`exec` stop at the first
 * positional (the container's command keeps its own flags). A command
 * describes its flags in a table; the parser fills the variables the table
 * points to and collects the positional arguments.
 */
#ifndef BERTH_CLI_OPTIONS_H
#define BERTH_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "berr.h"
#include "buf.h"

enum opt_kind {
    OPT_BOOL,   /* bool *; "--x", "--x=false" */
    OPT_STRING, /* const char **; points into argv */
    OPT_LIST,   /* struct strlist *; every occurrence appends */
    OPT_INT,    /* long long * */
};

struct opt {
    const char *name; /* long name without "--"; NULL ends a table */
    char shorthand;   /* 0 when none */
    enum opt_kind kind;
    void *value;
    const char *usage;
    const char *type_name; /* shown in --help ("string", "list", "int" by default) */
    bool *changed;         /* optional: set when the flag was given */
    bool hidden;           /* parsed but not listed in --help */
};

struct opt_result {
    struct strlist args; /* positional arguments, in order */
    bool help;           /* --help was given */
};

/*
 * Parses argv[0..argc) (the command's arguments, without its name).
 * interspersed: flags may follow positional arguments; when false the first
 * positional argument ends the flags (docker run IMAGE CMD --flag).
 * Errors are pflag's text ("unknown flag: --x", "flag needs an argument: 'e' in -e").
 */
int opt_parse(const struct opt *opts, int argc, char **argv, bool interspersed,
              struct opt_result *result, struct berr *err);
void opt_result_free(struct opt_result *result);

/* Go's strconv.ParseBool. */
bool opt_parse_bool(const char *text, bool *out);

/* Prints "Usage:  berth USAGE\n\nDESCRIPTION\n\nOptions:\n  -x, --name type   usage\n". */
void opt_print_help(FILE *out, const char *usage, const char *description, const struct opt *opts);

#endif
