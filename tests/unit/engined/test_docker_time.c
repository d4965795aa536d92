/* Docker's time spellings: durations, RFC 3339, Unix seconds; formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "docker_time.h"

#define NANO DOCKER_TIME_NANO
/* 2024-01-02T03:04:05Z */
#define REFERENCE (1704164645LL * NANO)

static int64_t duration(const char *text)
{
    struct berr err;
    int64_t value = -42;

    if (docker_duration_parse(text, &value, &err) != 0)
        fail_msg("refused \"%s\": %s", text, err.message);
    return value;
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(duration("10m"), 600 * NANO);
    assert_int_equal(duration("1h30m"), 5400 * NANO);
    assert_int_equal(duration("1.5s"), 1500000000LL);
    assert_int_equal(duration("300ms"), 300000000LL);
    assert_int_equal(duration("2us"), 2000);
    assert_int_equal(duration("2\xc2\xb5s"), 2000);
    assert_int_equal(duration("7ns"), 7);
    assert_int_equal(duration("-2h"), -7200 * NANO);
    assert_int_equal(duration("+1m"), 60 * NANO);
    assert_int_equal(duration("0"), 0);
    assert_int_equal(duration(".5h"), 1800 * NANO);
}

static void test_bad_durations(void **state)
{
    static const char *const bad[] = {"", "10", "m", "1x", "1h2", ".h", "-", "1 h", "1e3s"};
    struct berr err;
    int64_t value;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (docker_duration_parse(bad[i], &value, &err) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(err.code, BERR_INVALID);
    }
}

static int64_t parse(const char *text)
{
    struct berr err;
    int64_t value = -42;

    if (docker_time_parse(text, REFERENCE, &value, &err) != 0)
        fail_msg("refused \"%s\": %s", text, err.message);
    return value;
}

static void test_times(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    /* Unix seconds, as the docker CLI and python docker send them. */
    assert_int_equal(parse("1704164645"), REFERENCE);
    assert_int_equal(parse("1704164645.000000001"), REFERENCE + 1);
    assert_int_equal(parse("1704164645.5"), REFERENCE + NANO / 2);
    assert_int_equal(parse("0"), 0);
    /* Durations count back from the reference. */
    assert_int_equal(parse("10m"), REFERENCE - 600 * NANO);
    assert_int_equal(parse("-1h"), REFERENCE + 3600 * NANO);
    /* RFC 3339 and its shortenings. */
    assert_int_equal(parse("2024-01-02T03:04:05Z"), REFERENCE);
    assert_int_equal(parse("2024-01-02T03:04:05.25Z"), REFERENCE + NANO / 4);
    assert_int_equal(parse("2024-01-02T04:04:05+01:00"), REFERENCE);
    assert_int_equal(parse("2024-01-02T02:04:05-01:00"), REFERENCE);
    assert_int_equal(parse("2024-01-02T03:04:05"), REFERENCE); /* local zone: UTC here */
    assert_int_equal(parse("2024-01-02T03:04Z"), REFERENCE - 5 * NANO);
    assert_int_equal(parse("2024-01-02T03"), REFERENCE - 245 * NANO);
    assert_int_equal(parse("2024-01-02"), REFERENCE - 11045 * NANO);
    assert_int_equal(parse("2024-01-02Z"), REFERENCE - 11045 * NANO);
}

static void test_bad_times(void **state)
{
    static const char *const bad[] = {
        "yesterday", "2024-13-01", "2024-01-32", "2024-01-02T25:00", "2024-01-02T03:04:05+1",
        "12.",       "1.2.3",      "-5",         "2024-01-02 03:04",
    };
    struct berr err;
    int64_t value;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (docker_time_parse(bad[i], REFERENCE, &value, &err) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(err.code, BERR_INVALID);
    }
}

static void test_format(void **state)
{
    char text[40];

    (void)state;
    docker_time_format(REFERENCE, text, sizeof(text));
    assert_string_equal(text, "2024-01-02T03:04:05Z");
    docker_time_format(REFERENCE + 120000000, text, sizeof(text));
    assert_string_equal(text, "2024-01-02T03:04:05.12Z");
    docker_time_format(REFERENCE + 1, text, sizeof(text));
    assert_string_equal(text, "2024-01-02T03:04:05.000000001Z");
    docker_time_format(0, text, sizeof(text));
    assert_string_equal(text, "1970-01-01T00:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations), cmocka_unit_test(test_bad_durations),
        cmocka_unit_test(test_times),     cmocka_unit_test(test_bad_times),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
