/*
 * commands: berth-runtime's command line, runc's flag for flag.
 *
 * main.c parses the global options and dispatches; each cmd_*.c file parses
 * its commands' own options and calls the runtime library. A command
 * returns its exit status (0, or the container's for `run` and `exec`), or
 * -1 with err filled; main prints the error once and exits 1.
 */
#ifndef BERTH_RUNTIME_COMMANDS_H
#define BERTH_RUNTIME_COMMANDS_H

#include <stdbool.h>

#include "arena.h"
#include "berr.h"

#define DEFAULT_STATE_ROOT "/run/berth-runtime"

struct global_options {
    const char *root;
    bool debug;
    bool systemd_cgroup;
    struct arena *arena;
};

typedef int (*command_function)(struct global_options *globals, int argc, char **argv,
                                struct berr *err);

struct command {
    const char *name;
    command_function run;
    const char *usage;   /* arguments, e.g. "[command options] <container-id>" */
    const char *summary; /* one line */
    const char *options; /* the options, one per line, for --help */
};

/* cmd_lifecycle.c */
int command_create(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_start(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_run(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_kill(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_delete(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_pause(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_resume(struct global_options *globals, int argc, char **argv, struct berr *err);
/* cmd_info.c */
int command_state(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_list(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_ps(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_features(struct global_options *globals, int argc, char **argv, struct berr *err);
int command_events(struct global_options *globals, int argc, char **argv, struct berr *err);
/* cmd_exec.c */
int command_exec(struct global_options *globals, int argc, char **argv, struct berr *err);
/* cmd_spec.c */
int command_spec(struct global_options *globals, int argc, char **argv, struct berr *err);
/* cmd_update.c */
int command_update(struct global_options *globals, int argc, char **argv, struct berr *err);

/* Shared by the commands. */
int command_parse_signal(const char *text, int *signal_number, struct berr *err);
/* The single <container-id> argument left after the options, or an error. */
int command_container_id(int argc, char **argv, const char *command, const char **id,
                         struct berr *err);
/* A Go duration ("200ms", "5s", "1m30s", "1.5h"; a bare number is seconds)
 * in milliseconds. */
int command_parse_duration(const char *text, const char *what, long long *milliseconds,
                           struct berr *err);
/* Prints `berth-runtime COMMAND --help`. */
void command_print_help(const struct command *command);
int command_parse_int(const char *text, const char *what, long long minimum, long long maximum,
                      long long *out, struct berr *err);

#endif
