/* Unit tests of cli/options: pflag's grammar and its error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

struct flags {
    bool interactive, tty, detach, rm;
    const char *name, *publish_last;
    struct strlist env, publish;
    long long count;
    bool count_set;
};

static struct opt *table(struct flags *f)
{
    static struct opt opts[16];
    const struct opt all[] = {
        {"interactive", 'i', OPT_BOOL, &f->interactive, "", NULL, NULL, false},
        {"tty", 't', OPT_BOOL, &f->tty, "", NULL, NULL, false},
        {"detach", 'd', OPT_BOOL, &f->detach, "", NULL, NULL, false},
        {"rm", 0, OPT_BOOL, &f->rm, "", NULL, NULL, false},
        {"name", 0, OPT_STRING, &f->name, "", NULL, NULL, false},
        {"env", 'e', OPT_LIST, &f->env, "", NULL, NULL, false},
        {"publish", 'p', OPT_LIST, &f->publish, "", NULL, NULL, false},
        {"last", 'n', OPT_INT, &f->count, "", NULL, &f->count_set, false},
        {NULL, 0, 0, NULL, NULL, NULL, NULL, false},
    };

    memcpy(opts, all, sizeof(all));
    return opts;
}

static int parse(struct flags *f, bool interspersed, struct opt_result *r, struct berr *err,
                 int argc, char **argv)
{
    memset(f, 0, sizeof(*f));
    memset(r, 0, sizeof(*r));
    return opt_parse(table(f), argc, argv, interspersed, r, err);
}

static void bundles_and_values(void **state)
{
    char *argv[] = {"-it", "--name=web", "-eA=1", "-e",   "B=2",     "--env",
                    "C=3", "-dp",        "80:80", "--rm", "busybox", "sh"};
    struct flags f;
    struct opt_result r;
    struct berr err;

    (void)state;
    assert_int_equal(parse(&f, false, &r, &err, 12, argv), 0);
    assert_true(f.interactive && f.tty && f.detach && f.rm);
    assert_string_equal(f.name, "web");
    assert_int_equal(f.env.len, 3);
    assert_string_equal(f.env.items[0], "A=1");
    assert_string_equal(f.env.items[1], "B=2");
    assert_string_equal(f.env.items[2], "C=3");
    assert_int_equal(f.publish.len, 1);
    assert_string_equal(f.publish.items[0], "80:80");
    assert_int_equal(r.args.len, 2);
    assert_string_equal(r.args.items[0], "busybox");
    opt_result_free(&r);
    sl_free(&f.env);
    sl_free(&f.publish);
}

/* run-style parsing stops at the first positional argument. */
static void not_interspersed(void **state)
{
    char *argv[] = {"-i", "busybox", "ls", "-l", "--name", "x"};
    struct flags f;
    struct opt_result r;
    struct berr err;

    (void)state;
    assert_int_equal(parse(&f, false, &r, &err, 6, argv), 0);
    assert_true(f.interactive);
    assert_null(f.name);
    assert_int_equal(r.args.len, 5);
    assert_string_equal(r.args.items[2], "-l");
    assert_string_equal(r.args.items[3], "--name");
    opt_result_free(&r);
}

static void interspersed_and_double_dash(void **state)
{
    char *argv[] = {"c1", "-d", "c2", "--", "-t", "--rm"};
    struct flags f;
    struct opt_result r;
    struct berr err;

    (void)state;
    assert_int_equal(parse(&f, true, &r, &err, 6, argv), 0);
    assert_true(f.detach);
    assert_false(f.tty);
    assert_false(f.rm);
    assert_int_equal(r.args.len, 4);
    assert_string_equal(r.args.items[0], "c1");
    assert_string_equal(r.args.items[1], "c2");
    assert_string_equal(r.args.items[2], "-t");
    assert_string_equal(r.args.items[3], "--rm");
    opt_result_free(&r);
}

static void booleans_and_ints(void **state)
{
    char *argv[] = {"--rm=false", "-t=true", "-n", "5", "--detach=0"};
    struct flags f;
    struct opt_result r;
    struct berr err;

    (void)state;
    assert_int_equal(parse(&f, true, &r, &err, 5, argv), 0);
    assert_false(f.rm);
    assert_true(f.tty);
    assert_false(f.detach);
    assert_int_equal(f.count, 5);
    assert_true(f.count_set);
    opt_result_free(&r);
}

static void expect_error(char **argv, int argc, const char *message)
{
    struct flags f;
    struct opt_result r;
    struct berr err;

    assert_int_equal(parse(&f, true, &r, &err, argc, argv), BERR_INVALID);
    assert_string_equal(err.message, message);
    opt_result_free(&r);
    sl_free(&f.env);
}

static void errors_read_like_pflag(void **state)
{
    char *unknown_long[] = {"--bogus"};
    char *unknown_short[] = {"-itz"};
    char *missing_long[] = {"--name"};
    char *missing_short[] = {"-e"};
    char *bad_int[] = {"-n", "x"};
    char *bad_bool[] = {"--rm=maybe"};

    (void)state;
    expect_error(unknown_long, 1, "unknown flag: --bogus");
    expect_error(unknown_short, 1, "unknown shorthand flag: 'z' in -itz");
    expect_error(missing_long, 1, "flag needs an argument: --name");
    expect_error(missing_short, 1, "flag needs an argument: 'e' in -e");
    expect_error(bad_int, 2,
                 "invalid argument \"x\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"x\": "
                 "invalid syntax");
    expect_error(bad_bool, 1,
                 "invalid argument \"maybe\" for \"--rm\" flag: strconv.ParseBool: parsing "
                 "\"maybe\": invalid syntax");
}

static void help_flag(void **state)
{
    char *argv[] = {"x", "--help"};
    char *short_h[] = {"-h"};
    struct flags f;
    struct opt_result r;
    struct berr err;

    (void)state;
    assert_int_equal(parse(&f, true, &r, &err, 2, argv), 0);
    assert_true(r.help);
    opt_result_free(&r);
    assert_int_equal(parse(&f, true, &r, &err, 1, short_h), 0);
    assert_true(r.help);
    opt_result_free(&r);
}

static void lone_dash_is_positional(void **state)
{
    char *argv[] = {"c1:/etc", "-"};
    struct flags f;
    struct opt_result r;
    struct berr err;

    (void)state;
    assert_int_equal(parse(&f, true, &r, &err, 2, argv), 0);
    assert_int_equal(r.args.len, 2);
    assert_string_equal(r.args.items[1], "-");
    opt_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundles_and_values),           cmocka_unit_test(not_interspersed),
        cmocka_unit_test(interspersed_and_double_dash), cmocka_unit_test(booleans_and_ints),
        cmocka_unit_test(errors_read_like_pflag),       cmocka_unit_test(help_flag),
        cmocka_unit_test(lone_dash_is_positional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
