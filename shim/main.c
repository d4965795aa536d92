/*
 * berth-shim: the per-container shim.
 *
 * This program is a placeholder until its issue lands: it answers --version
 * and --help, and refuses everything else with a clear message rather than
 * pretending to work.
 */
#include <stdio.h>
#include <string.h>

#include "berth_version.h"

static void print_usage(FILE *out)
{
    fprintf(out, "Usage: berth-shim [--help] [--version]\n"
                 "\n"
                 "berth-shim is the per-container shim of berth.\n"
                 "Not there yet: container supervision (stdio, logs, attach, exit status) is not "
                 "implemented yet.\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
        printf("berth-shim version %s (commit %s)\n", BERTH_VERSION, BERTH_GIT_COMMIT);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        return 0;
    }
    fprintf(stderr, "berth-shim: not implemented yet: container supervision (stdio, logs, attach, "
                    "exit status) is not implemented yet\n");
    print_usage(stderr);
    return 2;
}
