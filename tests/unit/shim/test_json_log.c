/* Unit tests of shim/json_log: dockerd's json-file lines, escaping, split
 * pieces, timestamps and rotation. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "json_log.h"

static char directory[64];
static char path[128];
static const struct timespec when = {1795982756, 123456789}; /* 2026-11-29T20:05:56Z */

static int setup(void **state)
{
    (void)state;
    strcpy(directory, "/tmp/berth-test-json-log-XXXXXX");
    if (!mkdtemp(directory))
        return -1;
    snprintf(path, sizeof(path), "%s/container.log", directory);
    return 0;
}

static int teardown(void **state)
{
    char name[160];
    int i;

    (void)state;
    unlink(path);
    for (i = 1; i < 10; i++) {
        snprintf(name, sizeof(name), "%s.%d", path, i);
        unlink(name);
    }
    rmdir(directory);
    return 0;
}

static char *slurp(const char *file)
{
    static char text[65536];
    int fd = open(file, O_RDONLY);
    ssize_t got;

    if (fd < 0)
        return NULL;
    got = read(fd, text, sizeof(text) - 1);
    close(fd);
    text[got > 0 ? got : 0] = '\0';
    return text;
}

static void one_line(void **state)
{
    struct json_log log;
    struct berr err;

    (void)state;
    json_log_init(&log);
    assert_int_equal(json_log_open(&log, path, 0, 0, &err), 0);
    json_log_entry(&log, "stdout", "text", 4, "\n", 1, &when);
    json_log_entry(&log, "stderr", "", 0, "partial", 7, &when);
    json_log_close(&log);
    assert_string_equal(
        slurp(path),
        "{\"log\":\"text\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T20:05:56.123456789Z\"}\n"
        "{\"log\":\"partial\",\"stream\":\"stderr\",\"time\":\"2026-11-29T20:05:56.123456789Z\"}"
        "\n");
}

static void escaping(void **state)
{
    static const char text[] = "q\"b\\\t\r\x01<a>&caf\xc3\xa9 \xff\xe2\x80\xa8!\x7f";
    struct json_log log;
    struct berr err;

    (void)state;
    json_log_init(&log);
    assert_int_equal(json_log_open(&log, path, 0, 0, &err), 0);
    json_log_entry(&log, "stdout", text, sizeof(text) - 1, NULL, 0, &when);
    json_log_close(&log);
    assert_non_null(strstr(slurp(path), "{\"log\":\"q\\\"b\\\\\\t\\r\\u0001\\u003ca\\u003e\\u0026"
                                        "caf\xc3\xa9 \\ufffd\\u2028!\x7f\","));
}

static void truncated_utf8_is_replaced(void **state)
{
    struct json_log log;
    struct berr err;

    (void)state;
    json_log_init(&log);
    assert_int_equal(json_log_open(&log, path, 0, 0, &err), 0);
    json_log_entry(&log, "stdout", "\xe2\x82", 2, NULL, 0, &when); /* a cut sequence */
    json_log_entry(&log, "stdout", "\xc0\xaf", 2, NULL, 0, &when); /* overlong */
    json_log_close(&log);
    assert_non_null(strstr(slurp(path), "{\"log\":\"\\ufffd\\ufffd\","));
}

static void times_as_go_prints_them(void **state)
{
    struct timespec whole = {1795982756, 0}, tenth = {1795982756, 100000000};
    char text[48];

    (void)state;
    json_log_format_time(text, sizeof(text), &whole);
    assert_string_equal(text, "2026-11-29T20:05:56Z");
    json_log_format_time(text, sizeof(text), &tenth);
    assert_string_equal(text, "2026-11-29T20:05:56.1Z");
    json_log_format_time(text, sizeof(text), &when);
    assert_string_equal(text, "2026-11-29T20:05:56.123456789Z");
}

static int count_lines(const char *file)
{
    const char *text = slurp(file);
    int lines = 0;

    if (!text)
        return -1;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

static void rotation(void **state)
{
    char name[160];
    struct json_log log;
    struct berr err;
    int i, total = 0;

    (void)state;
    json_log_init(&log);
    assert_int_equal(json_log_open(&log, path, 1000, 3, &err), 0);
    for (i = 0; i < 100; i++) {
        json_log_entry(&log, "stdout", "0123456789012345678901234567890123456789\n", 41, NULL, 0,
                       &when);
        json_log_flush(&log);
    }
    json_log_close(&log);
    for (i = 0; i < 3; i++) {
        struct stat info;
        if (i == 0)
            snprintf(name, sizeof(name), "%s", path);
        else
            snprintf(name, sizeof(name), "%s.%d", path, i);
        assert_int_equal(stat(name, &info), 0);
        assert_true(info.st_size <= 1000 + 120);
        total += count_lines(name);
    }
    snprintf(name, sizeof(name), "%s.3", path);
    assert_int_equal(access(name, F_OK), -1);
    assert_true(total >= 3 * 8 && total < 100);
}

static void truncation_with_one_file(void **state)
{
    char name[160];
    struct json_log log;
    struct berr err;
    int i;

    (void)state;
    json_log_init(&log);
    assert_int_equal(json_log_open(&log, path, 500, 1, &err), 0);
    for (i = 0; i < 50; i++)
        json_log_entry(&log, "stdout", "line\n", 5, NULL, 0, &when);
    json_log_close(&log);
    snprintf(name, sizeof(name), "%s.1", path);
    assert_int_equal(access(name, F_OK), -1);
    assert_true(count_lines(path) > 0 && count_lines(path) < 50);
}

static void no_path_means_no_log(void **state)
{
    struct json_log log;
    struct berr err;

    (void)state;
    json_log_init(&log);
    assert_int_equal(json_log_open(&log, "", 0, 0, &err), 0);
    json_log_entry(&log, "stdout", "x\n", 2, NULL, 0, &when);
    json_log_close(&log);
    assert_int_equal(json_log_open(&log, "/nonexistent-dir/x.log", 0, 0, &err), BERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_utf8_is_replaced, setup, teardown),
        cmocka_unit_test(times_as_go_prints_them),
        cmocka_unit_test_setup_teardown(rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(truncation_with_one_file, setup, teardown),
        cmocka_unit_test_setup_teardown(no_path_means_no_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
