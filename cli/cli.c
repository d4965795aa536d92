/*
 * cli: the per-command plumbing shared by every command (see cli.h):
 * lazy engine connection, docker's flag and argument-count messages, and
 * collecting the failures of multi-target commands.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cli_api(struct cli *cli, struct api **out, struct berr *err)
{
    int rc;

    if (!cli->api_open) {
        rc = api_open(&cli->api, cli->host, err);
        if (rc)
            return rc;
        cli->api_open = true;
    }
    rc = api_negotiate(&cli->api, err);
    if (rc)
        return rc;
    *out = &cli->api;
    return 0;
}

void cli_print_help(struct cli *cli, const struct command_spec *spec)
{
    opt_print_help(stdout, spec->usage, spec->description, spec->opts);
    (void)cli;
}

/* "berth ps [OPTIONS]": the invoked path followed by the usage's arguments. */
static void usage_line(struct cli *cli, const struct command_spec *spec, char *out, size_t size)
{
    const char *args = strchr(spec->usage, ' ');

    snprintf(out, size, "%s%s", cli->path, args ? args : "");
}

int cli_parse(struct cli *cli, const struct command_spec *spec, int argc, char **argv,
              struct opt_result *result, struct berr *err)
{
    char usage[256];
    int n;

    usage_line(cli, spec, usage, sizeof(usage));
    if (opt_parse(spec->opts, argc, argv, spec->interspersed, result, err)) {
        char message[BERR_MESSAGE_MAX];

        snprintf(message, sizeof(message), "%s", err->message);
        berr_set(err, BERR_INVALID, "%s\n\nUsage:  %s\n\nRun '%s --help' for more information",
                 message, usage, cli->path);
        return EXIT_CLI;
    }
    if (result->help) {
        opt_print_help(stdout, usage + 6, spec->description, spec->opts);
        return 0;
    }
    n = (int)result->args.len;
    if (n >= spec->min_args && (spec->max_args < 0 || n <= spec->max_args))
        return -1;
    {
        char what[128];
        const char *see = "Run";

        if (spec->max_args == 0) {
            snprintf(what, sizeof(what), "accepts no arguments");
        } else if (spec->min_args == spec->max_args) {
            snprintf(what, sizeof(what), "requires %d argument%s", spec->min_args,
                     spec->min_args == 1 ? "" : "s");
        } else if (spec->max_args < 0) {
            snprintf(what, sizeof(what), "requires at least %d argument%s", spec->min_args,
                     spec->min_args == 1 ? "" : "s");
            see = "See";
        } else if (spec->min_args == 0) {
            snprintf(what, sizeof(what), "requires at most %d argument%s", spec->max_args,
                     spec->max_args == 1 ? "" : "s");
        } else {
            snprintf(what, sizeof(what), "requires at least %d and at most %d arguments",
                     spec->min_args, spec->max_args);
        }
        berr_set(err, BERR_INVALID,
                 "berth: '%s' %s\n\nUsage:  %s\n\n%s '%s --help' for more information", cli->path,
                 what, usage, see, cli->path);
    }
    return 1;
}

void cli_collect_error(struct strbuf *errors, const struct berr *err)
{
    if (errors->len)
        sb_putc(errors, '\n');
    sb_puts(errors, err->message);
}

int cli_collected_status(struct strbuf *errors, struct berr *err)
{
    if (!errors->len)
        return 0;
    berr_set(err, BERR_INVALID, "%s", sb_str(errors));
    sb_free(errors);
    return 1;
}

bool cli_confirm(const char *warning)
{
    char answer[16] = "";

    printf("%s\nAre you sure you want to continue? [y/N] ", warning);
    fflush(stdout);
    if (!fgets(answer, sizeof(answer), stdin))
        return false;
    return (answer[0] == 'y' || answer[0] == 'Y') && (answer[1] == '\n' || answer[1] == '\0');
}
