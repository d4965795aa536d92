/* Unit tests of lib/json: parsing, typed getters on hostile input, the writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json.h"

static void malformed_json_is_an_invalid_error(void **state)
{
    struct berr err;
    yajl_val tree = NULL;
    (void)state;
    assert_int_equal(json_parse("{\"a\": ", &tree, &err), BERR_INVALID);
    assert_null(tree);
    assert_non_null(strstr(err.message, "malformed JSON"));
    assert_null(strchr(err.message, '\n'));
}

static void typed_getters_check_types(void **state)
{
    struct berr err;
    yajl_val tree;
    const char *text = "x";
    int64_t number = 7;
    uint64_t big = 0;
    bool flag = false;
    (void)state;
    assert_int_equal(json_parse("{\"s\":\"hi\",\"n\":-3,\"b\":true,\"big\":18446744073709551615,"
                                "\"f\":1.5,\"nul\":null}",
                                &tree, &err),
                     0);
    assert_int_equal(json_get_string(tree, "s", &text, &err), 0);
    assert_string_equal(text, "hi");
    assert_int_equal(json_get_int64(tree, "n", &number, &err), 0);
    assert_int_equal(number, -3);
    assert_int_equal(json_get_bool(tree, "b", &flag, &err), 0);
    assert_true(flag);
    assert_int_equal(json_get_uint64(tree, "big", &big, &err), 0);
    assert_true(big == UINT64_MAX);

    /* Absent and null leave the default alone. */
    text = "default";
    assert_int_equal(json_get_string(tree, "missing", &text, &err), 0);
    assert_int_equal(json_get_string(tree, "nul", &text, &err), 0);
    assert_string_equal(text, "default");

    /* Wrong types name the field. */
    assert_int_equal(json_get_string(tree, "n", &text, &err), BERR_INVALID);
    assert_string_equal(err.message, "\"n\" must be a string, not a number");
    assert_int_equal(json_get_int64(tree, "f", &number, &err), BERR_INVALID);
    assert_int_equal(json_get_uint64(tree, "n", &big, &err), BERR_INVALID);
    assert_int_equal(json_get_bool(tree, "s", &flag, &err), BERR_INVALID);
    yajl_tree_free(tree);
}

static void string_arrays_are_copied(void **state)
{
    struct berr err;
    yajl_val tree;
    char **array = NULL;
    size_t count = 0;
    (void)state;
    assert_int_equal(json_parse("{\"a\":[\"x\",\"y\"],\"bad\":[\"x\",1]}", &tree, &err), 0);
    assert_int_equal(json_get_string_array(tree, "a", &array, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(array[0], "x");
    assert_string_equal(array[1], "y");
    assert_null(array[2]);
    assert_int_equal(json_get_string_array(tree, "bad", &array, &count, &err), BERR_INVALID);
    assert_string_equal(err.message, "\"bad\"[1] must be a string, not a number");
    assert_string_equal(array[0], "x"); /* untouched on error */
    json_free_string_array(array);
    yajl_tree_free(tree);
}

static void writer_round_trips(void **state)
{
    struct berr err;
    struct json_writer writer;
    const char *text;
    size_t length;
    yajl_val tree, back;
    (void)state;
    assert_int_equal(json_parse("{\"keep\":[1,{\"x\":null}]}", &tree, &err), 0);
    assert_int_equal(json_writer_init(&writer, false, &err), 0);
    json_object_begin(&writer);
    json_kv_string(&writer, "s", "a\"b\n");
    json_kv_int(&writer, "i", -5);
    json_kv_uint(&writer, "u", UINT64_MAX);
    json_kv_bool(&writer, "b", false);
    json_key(&writer, "keep");
    json_value(&writer, json_get(tree, "keep"));
    json_object_end(&writer);
    assert_int_equal(json_writer_result(&writer, &text, &length, &err), 0);
    assert_string_equal(text, "{\"s\":\"a\\\"b\\n\",\"i\":-5,\"u\":18446744073709551615,"
                              "\"b\":false,\"keep\":[1,{\"x\":null}]}");
    assert_int_equal(json_parse(text, &back, &err), 0);
    yajl_tree_free(back);
    json_writer_free(&writer);
    yajl_tree_free(tree);
}

static void unbalanced_writer_reports_failure(void **state)
{
    struct berr err;
    struct json_writer writer;
    const char *text;
    (void)state;
    assert_int_equal(json_writer_init(&writer, false, &err), 0);
    json_object_begin(&writer);
    json_int(&writer, 1); /* a value where a key must be */
    assert_int_equal(json_writer_result(&writer, &text, NULL, &err), BERR_INTERNAL);
    json_writer_free(&writer);
}

static void quote_escapes_control_characters(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(json_quote(out, sizeof(out), "a\x01\\\t"), 13);
    assert_string_equal(out, "\"a\\u0001\\\\\\t\"");
    /* Too small: truncated but terminated, and the needed length returned. */
    assert_int_equal(json_quote(out, 4, "abcdef"), 8);
    assert_string_equal(out, "\"ab");
}

static void parse_file_limits_size(void **state)
{
    struct berr err;
    yajl_val tree;
    char path[] = "/tmp/berth-test-json-XXXXXX";
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"a\":1}", 7), 7);
    close(fd);
    assert_int_equal(json_parse_file(path, 1024, &tree, &err), 0);
    yajl_tree_free(tree);
    assert_int_equal(json_parse_file(path, 3, &tree, &err), BERR_INVALID);
    unlink(path);
    assert_int_equal(json_parse_file(path, 1024, &tree, &err), BERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_json_is_an_invalid_error),
        cmocka_unit_test(typed_getters_check_types),
        cmocka_unit_test(string_arrays_are_copied),
        cmocka_unit_test(writer_round_trips),
        cmocka_unit_test(unbalanced_writer_reports_failure),
        cmocka_unit_test(quote_escapes_control_characters),
        cmocka_unit_test(parse_file_limits_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
