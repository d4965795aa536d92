/*
 * berth: the command line. main parses the global flags (-H, -D, ...),
 * finds the command in a table (top-level names, and the `container`,
 * `image` and `system` groups docker has), runs it, and prints its error
 * once. Everything else lives in one file per concern (see docs/cli.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth_version.h"
#include "buf.h"
#include "log.h"
#include "cli.h"
#include "commands.h"
#include "terminal.h"

struct entry {
    const char *name;
    command_fn run;
    const char *help; /* NULL: an alias, not listed */
};

static const struct entry container_commands[] = {
    {"attach", cmd_attach,
     "Attach local standard input, output, and error streams to a running container"},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"create", cmd_create, "Create a new container"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"export", cmd_export, "Export a container's filesystem as a tar archive"},
    {"inspect", cmd_container_inspect, "Display detailed information on one or more containers"},
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"ls", cmd_ps, "List containers"},
    {"list", cmd_ps, NULL},
    {"ps", cmd_ps, NULL},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"port", cmd_port, "List port mappings or a specific mapping for the container"},
    {"prune", cmd_container_prune, "Remove all stopped containers"},
    {"rename", cmd_rename, "Rename a container"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"remove", cmd_rm, NULL},
    {"run", cmd_run, "Create and run a new container from an image"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"top", cmd_top, "Display the running processes of a container"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"update", cmd_update, "Update configuration of one or more containers"},
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
    {NULL, NULL, NULL},
};

static const struct entry image_commands[] = {
    {"history", cmd_history, "Show the history of an image"},
    {"inspect", cmd_image_inspect, "Display detailed information on one or more images"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"ls", cmd_images, "List images"},
    {"list", cmd_images, NULL},
    {"prune", cmd_image_prune, "Remove unused images"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"rm", cmd_rmi, "Remove one or more images"},
    {"remove", cmd_rmi, NULL},
    {"save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {NULL, NULL, NULL},
};

static const struct entry system_commands[] = {
    {"df", cmd_system_df, "Show docker disk usage"},
    {"events", cmd_events, "Get real time events from the server"},
    {"info", cmd_info, "Display system-wide information"},
    {"prune", cmd_system_prune, "Remove unused data"},
    {NULL, NULL, NULL},
};

static const struct entry top_commands[] = {
    {"run", cmd_run, "Create and run a new container from an image"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"ps", cmd_ps, "List containers"},
    {"images", cmd_images, "List images"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"info", cmd_info, "Display system-wide information"},
    {"version", cmd_version, "Show the berth version information"},
    {"attach", cmd_attach,
     "Attach local standard input, output, and error streams to a running container"},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"create", cmd_create, "Create a new container"},
    {"events", cmd_events, "Get real time events from the server"},
    {"export", cmd_export, "Export a container's filesystem as a tar archive"},
    {"history", cmd_history, "Show the history of an image"},
    {"inspect", cmd_inspect, "Return low-level information on berth objects"},
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"port", cmd_port, "List port mappings or a specific mapping for the container"},
    {"rename", cmd_rename, "Rename a container"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"rmi", cmd_rmi, "Remove one or more images"},
    {"save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"top", cmd_top, "Display the running processes of a container"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"update", cmd_update, "Update configuration of one or more containers"},
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
    {NULL, NULL, NULL},
};

static const struct {
    const char *name;
    const struct entry *commands;
    const char *help;
} groups[] = {
    {"container", container_commands, "Manage containers"},
    {"image", image_commands, "Manage images"},
    {"system", system_commands, "Manage berth"},
};

static void print_entries(FILE *out, const struct entry *entries)
{
    for (const struct entry *e = entries; e->name; e++)
        if (e->help)
            fprintf(out, "  %-10s  %s\n", e->name, e->help);
}

static void print_main_help(FILE *out)
{
    fprintf(out, "\nUsage:  berth [OPTIONS] COMMAND\n\n"
                 "A container platform with docker's command line\n\n"
                 "Commands:\n");
    print_entries(out, top_commands);
    fprintf(out, "\nManagement Commands:\n");
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        fprintf(out, "  %-10s  %s\n", groups[i].name, groups[i].help);
    fprintf(out, "\nGlobal Options:\n"
                 "  -D, --debug              Enable debug mode\n"
                 "  -H, --host string        Daemon socket to connect to (default: $BERTH_HOST,\n"
                 "                           $DOCKER_HOST, " API_DEFAULT_HOST ")\n"
                 "  -l, --log-level string   Set the logging level (\"debug\"|\"info\"|\"warn\"|"
                 "\"error\"|\"fatal\")\n"
                 "  -v, --version            Print version information and quit\n"
                 "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

static void print_group_help(FILE *out, const char *group, const struct entry *commands)
{
    fprintf(out, "\nUsage:  berth %s COMMAND\n\nCommands:\n", group);
    print_entries(out, commands);
    fprintf(out, "\nRun 'berth %s COMMAND --help' for more information on a command.\n", group);
}

static const struct entry *find(const struct entry *entries, const char *name)
{
    for (const struct entry *e = entries; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

struct globals {
    struct strlist hosts;
    bool debug;
    bool version;
    const char *log_level;
    const char *config;
    const char *context;
    bool tls;
    bool tlsverify;
    const char *tlscacert, *tlscert, *tlskey;
};

static int run_command(struct cli *cli, const struct entry *entry, int argc, char **argv,
                       const char *path, struct berr *err)
{
    cli->path = path;
    return entry->run(cli, argc, argv, err);
}

static int dispatch(struct cli *cli, int argc, char **argv, struct berr *err)
{
    const struct entry *entry;
    char path[128];

    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (strcmp(argv[0], groups[i].name) != 0)
            continue;
        if (argc < 2 || strcmp(argv[1], "--help") == 0) {
            print_group_help(stdout, groups[i].name, groups[i].commands);
            return 0;
        }
        entry = find(groups[i].commands, argv[1]);
        if (!entry) {
            berr_set(err, BERR_INVALID,
                     "berth: unknown command: berth %s %s\n\nUsage:  berth %s\n\nRun 'berth %s "
                     "--help' for more information",
                     groups[i].name, argv[1], groups[i].name, groups[i].name);
            return 1;
        }
        snprintf(path, sizeof(path), "berth %s %s", groups[i].name, argv[1]);
        return run_command(cli, entry, argc - 2, argv + 2, path, err);
    }
    entry = find(top_commands, argv[0]);
    if (!entry) {
        berr_set(err, BERR_INVALID,
                 "berth: unknown command: berth %s\n\nRun 'berth --help' for more information",
                 argv[0]);
        return 1;
    }
    snprintf(path, sizeof(path), "berth %s", argv[0]);
    return run_command(cli, entry, argc - 1, argv + 1, path, err);
}

static int check_globals(struct globals *g, struct cli *cli, struct berr *err)
{
    if (g->hosts.len > 1) {
        berr_set(err, BERR_INVALID, "Specify only one -H");
        return EXIT_CLI;
    }
    if (g->hosts.len == 1)
        cli->host = g->hosts.items[0];
    if (g->context && *g->context && strcmp(g->context, "default") != 0) {
        berr_set(err, BERR_UNSUPPORTED, "context \"%s\" does not exist", g->context);
        return EXIT_CLI;
    }
    if (g->tls || g->tlsverify || g->tlscacert || g->tlscert || g->tlskey) {
        berr_set(err, BERR_UNSUPPORTED,
                 "berth: TLS connections to the engine are not supported "
                 "yet");
        return EXIT_CLI;
    }
    cli->debug = g->debug || (g->log_level && strcmp(g->log_level, "debug") == 0);
    if (cli->debug)
        log_setup(STDERR_FILENO, LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT); /* each request, to stderr */
    return -1;
}

int main(int argc, char **argv)
{
    struct globals g = {0};
    const struct opt opts[] = {
        {"host", 'H', OPT_LIST, &g.hosts, "Daemon socket to connect to", NULL, NULL, false},
        {"debug", 'D', OPT_BOOL, &g.debug, "Enable debug mode", NULL, NULL, false},
        {"log-level", 'l', OPT_STRING, &g.log_level, "Set the logging level", NULL, NULL, false},
        {"version", 'v', OPT_BOOL, &g.version, "Print version information and quit", NULL, NULL,
         false},
        {"config", 0, OPT_STRING, &g.config, "Location of client config files", NULL, NULL, false},
        {"context", 'c', OPT_STRING, &g.context, "Name of the context to use", NULL, NULL, false},
        {"tls", 0, OPT_BOOL, &g.tls, "Use TLS", NULL, NULL, false},
        {"tlsverify", 0, OPT_BOOL, &g.tlsverify, "Use TLS and verify the remote", NULL, NULL,
         false},
        {"tlscacert", 0, OPT_STRING, &g.tlscacert, "Trust certs signed only by this CA", NULL, NULL,
         false},
        {"tlscert", 0, OPT_STRING, &g.tlscert, "Path to TLS certificate file", NULL, NULL, false},
        {"tlskey", 0, OPT_STRING, &g.tlskey, "Path to TLS key file", NULL, NULL, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };
    struct opt_result parsed = {STRLIST_INIT, false};
    struct berr err;
    struct cli cli;
    int status;

    signal(SIGPIPE, SIG_IGN);
    berr_clear(&err);
    memset(&cli, 0, sizeof(cli));
    if (opt_parse(opts, argc - 1, argv + 1, false, &parsed, &err)) {
        fprintf(stderr, "%s\nSee 'berth --help'.\n", err.message);
        status = EXIT_CLI;
        goto out;
    }
    if (g.version) {
        printf("berth version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
        status = 0;
        goto out;
    }
    if (parsed.help || parsed.args.len == 0 || strcmp(parsed.args.items[0], "help") == 0) {
        print_main_help(stdout);
        status = 0;
        goto out;
    }
    status = check_globals(&g, &cli, &err);
    if (status < 0)
        status = dispatch(&cli, (int)parsed.args.len, parsed.args.items, &err);
    term_restore();
    fflush(stdout);
    if (status != 0 && err.code != BERR_OK && err.message[0])
        fprintf(stderr, "%s\n", err.message);
out:
    if (cli.api_open)
        api_close(&cli.api);
    opt_result_free(&parsed);
    sl_free(&g.hosts);
    return status;
}
