/* Unit tests of lib/log: levels, and JSON lines that runc's readers parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json.h"
#include "log.h"

static size_t read_pipe(int fd, char *buffer, size_t size)
{
    ssize_t got = read(fd, buffer, size - 1);
    assert_true(got > 0);
    buffer[got] = '\0';
    return (size_t)got;
}

static void json_lines_parse_back(void **state)
{
    int pipe_fds[2];
    char line[8192];
    yajl_val tree;
    struct berr err;
    const char *level = NULL, *message = NULL, *time = NULL;
    (void)state;
    assert_int_equal(pipe(pipe_fds), 0);
    log_setup(pipe_fds[1], LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
    log_error("container %s: \"bad\"\n\ttab", "abc");
    read_pipe(pipe_fds[0], line, sizeof(line));
    assert_int_equal(line[strlen(line) - 1], '\n');
    assert_int_equal(json_parse(line, &tree, &err), 0);
    assert_int_equal(json_get_string(tree, "level", &level, &err), 0);
    assert_int_equal(json_get_string(tree, "msg", &message, &err), 0);
    assert_int_equal(json_get_string(tree, "time", &time, &err), 0);
    assert_string_equal(level, "error");
    assert_string_equal(message, "container abc: \"bad\"\n\ttab");
    assert_int_equal(strlen(time), strlen("2026-01-01T00:00:00.000000000Z"));
    yajl_tree_free(tree);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static void levels_below_minimum_are_dropped(void **state)
{
    int pipe_fds[2];
    char line[8192];
    (void)state;
    assert_int_equal(pipe(pipe_fds), 0);
    log_setup(pipe_fds[1], LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
    log_debug("hidden");
    log_info("hidden");
    log_warn("shown %d", 1);
    read_pipe(pipe_fds[0], line, sizeof(line));
    assert_null(strstr(line, "hidden"));
    assert_non_null(strstr(line, "level=warning msg=\"shown 1\""));
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static void huge_messages_stay_one_valid_line(void **state)
{
    int pipe_fds[2];
    static char big[5000], line[16384];
    yajl_val tree;
    struct berr err;
    (void)state;
    memset(big, '"', sizeof(big) - 1);
    assert_int_equal(pipe(pipe_fds), 0);
    log_setup(pipe_fds[1], LOG_LEVEL_INFO, LOG_FORMAT_JSON);
    log_info("%s", big);
    read_pipe(pipe_fds[0], line, sizeof(line));
    assert_int_equal(json_parse(line, &tree, &err), 0);
    yajl_tree_free(tree);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static void parse_names(void **state)
{
    enum log_level level;
    enum log_format format;
    (void)state;
    assert_int_equal(log_parse_level("warning", &level), 0);
    assert_int_equal(level, LOG_LEVEL_WARN);
    assert_int_equal(log_parse_level("loud", &level), -1);
    assert_int_equal(log_parse_format("json", &format), 0);
    assert_int_equal(format, LOG_FORMAT_JSON);
    assert_int_equal(log_parse_format("xml", &format), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_lines_parse_back),
        cmocka_unit_test(levels_below_minimum_are_dropped),
        cmocka_unit_test(huge_messages_stay_one_valid_line),
        cmocka_unit_test(parse_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
