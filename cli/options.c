/*
 * options: pflag's grammar in C (see options.h for why it is that grammar).
 * One pass over argv; each argument is a long flag, a bundle of shorthands,
 * "--", or a positional argument.
 */
#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool opt_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* "-n, --last" or "--rm": how pflag names a flag in "invalid argument" errors. */
static void flag_title(const struct opt *opt, char *out, size_t size)
{
    if (opt->shorthand)
        snprintf(out, size, "-%c, --%s", opt->shorthand, opt->name);
    else
        snprintf(out, size, "--%s", opt->name);
}

static int set_value(const struct opt *opt, const char *value, struct berr *err)
{
    char title[128];

    flag_title(opt, title, sizeof(title));
    switch (opt->kind) {
    case OPT_BOOL:
        if (!opt_parse_bool(value, (bool *)opt->value))
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: "
                            "parsing \"%s\": invalid syntax",
                            value, title, value);
        break;
    case OPT_STRING:
        *(const char **)opt->value = value;
        break;
    case OPT_LIST:
        sl_push((struct strlist *)opt->value, value);
        break;
    case OPT_INT: {
        char *end;
        long long number;

        errno = 0;
        number = strtoll(value, &end, 0);
        if (!*value || *end || errno)
            return berr_set(err, BERR_INVALID,
                            "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: "
                            "parsing \"%s\": %s",
                            value, title, value,
                            errno == ERANGE ? "value out of range" : "invalid syntax");
        *(long long *)opt->value = number;
        break;
    }
    }
    if (opt->changed)
        *opt->changed = true;
    return 0;
}

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
    for (; opts->name; opts++) {
        if (strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
            return opts;
    }
    return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
    for (; opts->name; opts++) {
        if (opts->shorthand == c)
            return opts;
    }
    return NULL;
}

/* --name, --name=value, --name value. Returns how many extra argv entries it used, or -1. */
static int parse_long(const struct opt *opts, char *arg, int remaining, char **next,
                      struct opt_result *result, struct berr *err)
{
    const char *name = arg + 2;
    const char *equals = strchr(name, '=');
    size_t len = equals ? (size_t)(equals - name) : strlen(name);
    const struct opt *opt = find_long(opts, name, len);

    if (!opt) {
        if (len == 4 && strncmp(name, "help", 4) == 0) {
            result->help = true;
            return 0;
        }
        berr_set(err, BERR_INVALID, "unknown flag: --%.*s", (int)len, name);
        return -1;
    }
    if (equals)
        return set_value(opt, equals + 1, err) ? -1 : 0;
    if (opt->kind == OPT_BOOL)
        return set_value(opt, "true", err) ? -1 : 0;
    if (remaining < 1) {
        berr_set(err, BERR_INVALID, "flag needs an argument: --%s", opt->name);
        return -1;
    }
    return set_value(opt, next[0], err) ? -1 : 1;
}

/* -abc, -e VALUE, -eVALUE, -e=VALUE. */
static int parse_short(const struct opt *opts, char *arg, int remaining, char **next,
                       struct opt_result *result, struct berr *err)
{
    for (char *p = arg + 1; *p; p++) {
        const struct opt *opt = find_short(opts, *p);

        if (!opt) {
            if (*p == 'h') {
                result->help = true;
                continue;
            }
            berr_set(err, BERR_INVALID, "unknown shorthand flag: '%c' in %s", *p, arg);
            return -1;
        }
        if (p[1] == '=')
            return set_value(opt, p + 2, err) ? -1 : 0;
        if (opt->kind == OPT_BOOL) {
            if (set_value(opt, "true", err))
                return -1;
            continue;
        }
        if (p[1])
            return set_value(opt, p + 1, err) ? -1 : 0;
        if (remaining < 1) {
            berr_set(err, BERR_INVALID, "flag needs an argument: '%c' in -%c", *p, *p);
            return -1;
        }
        return set_value(opt, next[0], err) ? -1 : 1;
    }
    return 0;
}

int opt_parse(const struct opt *opts, int argc, char **argv, bool interspersed,
              struct opt_result *result, struct berr *err)
{
    int i = 0;

    while (i < argc) {
        char *arg = argv[i];
        int used;

        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            sl_push(&result->args, arg);
            i++;
            if (!interspersed)
                break;
            continue;
        }
        if (arg[1] == '-')
            used = parse_long(opts, arg, argc - i - 1, argv + i + 1, result, err);
        else
            used = parse_short(opts, arg, argc - i - 1, argv + i + 1, result, err);
        if (used < 0)
            return err ? err->code : BERR_INVALID;
        i += 1 + used;
    }
    for (; i < argc; i++)
        sl_push(&result->args, argv[i]);
    return 0;
}

void opt_result_free(struct opt_result *result)
{
    sl_free(&result->args);
}

static const char *type_name(const struct opt *opt)
{
    if (opt->type_name)
        return opt->type_name;
    switch (opt->kind) {
    case OPT_STRING:
        return "string";
    case OPT_LIST:
        return "list";
    case OPT_INT:
        return "int";
    default:
        return "";
    }
}

void opt_print_help(FILE *out, const char *usage, const char *description, const struct opt *opts)
{
    size_t width = 0;
    char left[160];

    fprintf(out, "\nUsage:  berth %s\n\n%s\n", usage, description);
    if (!opts || !opts->name)
        return;
    for (const struct opt *o = opts; o->name; o++) {
        size_t len = strlen(o->name) + strlen(type_name(o)) + 8;

        if (!o->hidden && len > width)
            width = len;
    }
    fprintf(out, "\nOptions:\n");
    for (const struct opt *o = opts; o->name; o++) {
        const char *type = type_name(o);

        if (o->hidden)
            continue;
        if (o->shorthand)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shorthand, o->name, *type ? " " : "",
                     type);
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->name, *type ? " " : "", type);
        fprintf(out, "  %-*s  %s\n", (int)width, left, o->usage ? o->usage : "");
    }
}
