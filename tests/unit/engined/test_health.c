/* Health checks' pure parts: the configuration (checks, parse, defaults),
 * Go's duration spelling, UTF-8 repair of probe output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"
#include "health_probe.h"

static yajl_val parse(const char *text)
{
    yajl_val tree = NULL;
    struct berr err;

    assert_int_equal(json_parse(text, &tree, &err), 0);
    return tree;
}

static void expect_config_check(const char *json, int code, const char *message)
{
    yajl_val tree = parse(json);
    struct berr err;

    berr_clear(&err);
    assert_int_equal(health_config_check(tree, &err), code);
    if (message)
        assert_string_equal(err.message, message);
    yajl_tree_free(tree);
}

static void test_config_check(void **state)
{
    (void)state;
    expect_config_check("null", 0, NULL);
    expect_config_check("{}", 0, NULL);
    expect_config_check("{\"Test\":[\"CMD\",\"true\"],\"Interval\":1000000,\"Timeout\":0}", 0,
                        NULL);
    expect_config_check("{\"Interval\":999999}", BERR_INVALID,
                        "Interval in Healthcheck cannot be less than 1ms");
    expect_config_check("{\"Timeout\":1}", BERR_INVALID,
                        "Timeout in Healthcheck cannot be less than 1ms");
    expect_config_check("{\"StartPeriod\":5}", BERR_INVALID,
                        "StartPeriod in Healthcheck cannot be less than 1ms");
    expect_config_check("{\"StartInterval\":5}", BERR_INVALID,
                        "StartInterval in Healthcheck cannot be less than 1ms");
    expect_config_check("{\"Retries\":-1}", BERR_INVALID,
                        "Retries in Healthcheck cannot be negative");
    expect_config_check("{\"Test\":\"true\"}", BERR_INVALID, NULL);
    expect_config_check("{\"Test\":[1]}", BERR_INVALID, NULL);
    expect_config_check("[]", BERR_INVALID, NULL);
}

static void test_config_parse(void **state)
{
    struct health_config config;
    yajl_val tree, shell;

    (void)state;
    tree = parse("{\"Test\":[\"CMD-SHELL\",\"curl -f localhost\"]}");
    assert_true(health_config_parse(tree, NULL, &config));
    assert_string_equal(config.argv[0], "/bin/sh");
    assert_string_equal(config.argv[1], "-c");
    assert_string_equal(config.argv[2], "curl -f localhost");
    assert_null(config.argv[3]);
    assert_int_equal(config.interval, HEALTH_DEFAULT_INTERVAL);
    assert_int_equal(config.timeout, HEALTH_DEFAULT_TIMEOUT);
    assert_int_equal(config.start_period, 0);
    assert_int_equal(config.start_interval, HEALTH_DEFAULT_START_INTERVAL);
    assert_int_equal(config.retries, 3);
    health_config_free(&config);
    yajl_tree_free(tree);

    /* Config.Shell replaces /bin/sh -c; the durations are taken as given. */
    tree = parse("{\"Test\":[\"CMD-SHELL\",\"x\"],\"Interval\":1000000000,\"Retries\":7,"
                 "\"StartPeriod\":2000000000}");
    shell = parse("[\"/bin/bash\",\"-eu\",\"-c\"]");
    assert_true(health_config_parse(tree, shell, &config));
    assert_string_equal(config.argv[0], "/bin/bash");
    assert_string_equal(config.argv[2], "-c");
    assert_string_equal(config.argv[3], "x");
    assert_int_equal(config.interval, 1000000000);
    assert_int_equal(config.start_period, 2000000000);
    assert_int_equal(config.retries, 7);
    health_config_free(&config);
    yajl_tree_free(tree);
    yajl_tree_free(shell);

    tree = parse("{\"Test\":[\"CMD\",\"/bin/check\",\"--fast\"]}");
    assert_true(health_config_parse(tree, NULL, &config));
    assert_string_equal(config.argv[0], "/bin/check");
    assert_string_equal(config.argv[1], "--fast");
    assert_null(config.argv[2]);
    health_config_free(&config);
    yajl_tree_free(tree);
}

static void test_nothing_to_check(void **state)
{
    static const char *const cases[] = {"{\"Test\":[\"NONE\"]}", "{\"Test\":[]}", "{}",
                                        "{\"Test\":[\"HTTP\",\"x\"]}", "null"};
    struct health_config config;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        yajl_val tree = parse(cases[i]);
        assert_false(health_config_parse(tree, NULL, &config));
        yajl_tree_free(tree);
    }
}

static void expect_duration(int64_t ns, const char *text)
{
    char out[64];

    health_format_duration(ns, out, sizeof(out));
    assert_string_equal(out, text);
}

static void test_durations(void **state)
{
    (void)state;
    expect_duration(0, "0s");
    expect_duration(1000000000LL, "1s");
    expect_duration(1500000000LL, "1.5s");
    expect_duration(30000000000LL, "30s");
    expect_duration(90000000000LL, "1m30s");
    expect_duration(3600000000000LL, "1h0m0s");
    expect_duration(500000000LL, "500ms");
    expect_duration(1500000LL, "1.5ms");
    expect_duration(2000LL, "2\xc2\xb5s");
    expect_duration(7LL, "7ns");
    expect_duration(2000000001LL, "2.000000001s");
}

static void test_utf8(void **state)
{
    char *out;

    (void)state;
    out = health_utf8_sanitize("ok\n", 3);
    assert_string_equal(out, "ok\n");
    free(out);
    out = health_utf8_sanitize("a\xff"
                               "b",
                               3);
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b");
    free(out);
    /* A sequence cut at the end, an overlong form, a surrogate. */
    out = health_utf8_sanitize("\xc3\xa9\xc3", 3);
    assert_string_equal(out, "\xc3\xa9\xef\xbf\xbd");
    free(out);
    out = health_utf8_sanitize("\xc0\xaf", 2);
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
    free(out);
    out = health_utf8_sanitize("\xed\xa0\x80", 3);
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(out);
    out = health_utf8_sanitize("\xf0\x9f\x99\x82", 4);
    assert_string_equal(out, "\xf0\x9f\x99\x82");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_config_parse),
        cmocka_unit_test(test_nothing_to_check),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
