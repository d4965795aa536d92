/* The engine's small formats: container times, human durations, signals,
 * generated names and name checks. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "container_store.h"
#include "names.h"
#include "signals.h"
#include "timefmt.h"

static void test_times(void **state)
{
    char text[TIMEFMT_SIZE];
    int64_t ns;
    struct berr err;

    (void)state;
    assert_string_equal(timefmt_rfc3339(0, text), "0001-01-01T00:00:00Z");
    assert_string_equal(timefmt_rfc3339(1420559251485331387LL, text),
                        "2015-01-06T15:47:31.485331387Z");
    assert_string_equal(timefmt_rfc3339(1420559251500000000LL, text), "2015-01-06T15:47:31.5Z");
    assert_string_equal(timefmt_rfc3339(1420559251000000000LL, text), "2015-01-06T15:47:31Z");
    assert_int_equal(timefmt_parse_rfc3339("2015-01-06T15:47:31.485331387Z", &ns, &err), 0);
    assert_int_equal(ns, 1420559251485331387LL);
    assert_int_equal(timefmt_parse_rfc3339("2015-01-06T16:47:31+01:00", &ns, &err), 0);
    assert_int_equal(ns, 1420559251000000000LL);
    assert_int_equal(timefmt_parse_rfc3339("0001-01-01T00:00:00Z", &ns, &err), 0);
    assert_int_equal(ns, 0);
    assert_int_equal(timefmt_parse_rfc3339("yesterday", &ns, &err), BERR_INVALID);
}

static void expect_duration(int64_t seconds, const char *text)
{
    char out[64];

    timefmt_human_duration(seconds * 1000000000LL, out, sizeof(out));
    assert_string_equal(out, text);
}

static void test_human_durations(void **state)
{
    (void)state;
    expect_duration(0, "Less than a second");
    expect_duration(1, "1 second");
    expect_duration(59, "59 seconds");
    expect_duration(60, "About a minute");
    expect_duration(150, "2 minutes");
    expect_duration(3600, "About an hour");
    expect_duration(5 * 3600, "5 hours");
    expect_duration(3 * 86400, "3 days");
    expect_duration(20 * 86400, "2 weeks");
    expect_duration(90 * 86400, "3 months");
    expect_duration(800 * 86400, "2 years");
}

static void test_signals(void **state)
{
    struct berr err;
    char buffer[32];
    int number;

    (void)state;
    assert_int_equal(signal_parse("SIGTERM", &number, &err), 0);
    assert_int_equal(number, SIGTERM);
    assert_int_equal(signal_parse("kill", &number, &err), 0);
    assert_int_equal(number, SIGKILL);
    assert_int_equal(signal_parse("10", &number, &err), 0);
    assert_int_equal(number, 10);
    assert_int_equal(signal_parse("SIGRTMIN+3", &number, &err), 0);
    assert_int_equal(number, SIGRTMIN + 3);
    assert_int_equal(signal_parse("SIGNOPE", &number, &err), BERR_INVALID);
    assert_string_equal(err.message, "Invalid signal: SIGNOPE");
    assert_int_equal(signal_parse("0", &number, &err), BERR_INVALID);
    assert_string_equal(signal_name(SIGHUP, buffer, sizeof(buffer)), "SIGHUP");
}

static void test_names(void **state)
{
    char name[128];
    struct berr err;

    (void)state;
    for (int i = 0; i < 100; i++) {
        names_generate(name, sizeof(name), i % 2);
        assert_non_null(strchr(name, '_'));
        assert_int_equal(container_name_check(name, &err), 0);
    }
    assert_int_equal(container_name_check("/ok.name-1_x", &err), 0);
    assert_int_equal(container_name_check("a", &err), BERR_INVALID);
    assert_int_equal(container_name_check("_leading", &err), BERR_INVALID);
    assert_int_equal(container_name_check("with/slash", &err), BERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_human_durations),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
