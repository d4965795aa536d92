/*
 * cli: what every command gets: the engine connection (opened on first
 * use, so `berth --help` and flag errors never touch the socket), flag
 * parsing with the docker CLI's help and error texts, and the exit-status
 * convention.
 *
 * A command returns the process's exit status. When it fails it also fills
 * err; main prints err->message once, to stderr. Statuses are docker's:
 * 125 the CLI or the daemon failed (bad flags, create refused), 126 the
 * command could not be invoked, 127 it was not found, 1 a command failed,
 * otherwise the container's own exit code.
 */
#ifndef BERTH_CLI_CLI_H
#define BERTH_CLI_CLI_H

#include <stdbool.h>

#include "api.h"
#include "berr.h"
#include "options.h"

#define EXIT_CLI           125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND     127

struct cli {
    const char *host; /* -H, or NULL */
    const char *path; /* the command as invoked: "berth ps", "berth container ls" */
    bool debug;
    struct api api;
    bool api_open;
};

typedef int (*command_fn)(struct cli *cli, int argc, char **argv, struct berr *err);

struct command_spec {
    const char *usage;       /* "ps [OPTIONS]" (after the command path) */
    const char *description; /* one line */
    const struct opt *opts;
    bool interspersed; /* flags may follow positional arguments */
    int min_args;
    int max_args; /* -1: unbounded */
};

/* The engine connection, negotiated. */
int cli_api(struct cli *cli, struct api **out, struct berr *err);

/*
 * Parses a command's flags and checks its argument count. Returns -1 to go
 * on; otherwise the command must return that status at once (0 after
 * --help; 125 after a flag error; 1 after a wrong argument count, with err
 * set to docker's text).
 */
int cli_parse(struct cli *cli, const struct command_spec *spec, int argc, char **argv,
              struct opt_result *result, struct berr *err);

/* Prints a command's --help. */
void cli_print_help(struct cli *cli, const struct command_spec *spec);

/* Adds one failure to a multi-target command's list ("rm a b c" reports each). */
void cli_collect_error(struct strbuf *errors, const struct berr *err);
/* Status 1 with the collected errors in err, or 0 when there were none. */
int cli_collected_status(struct strbuf *errors, struct berr *err);

/* Prints warning and "Are you sure you want to continue? [y/N] "; true on y/Y. */
bool cli_confirm(const char *warning);

/* Streams GET path to -o FILE or stdout, refusing a terminal (export, save). */
int cli_download(struct api *api, const char *path, const char *output, struct berr *err);
/* The "Deleted X:" part of a prune report. */
void cli_print_prune(yajl_val answer, const char *key, const char *title, bool image_entries);

#endif
