/* Unit tests of lib/berr: codes, errno mapping, context prefixes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "berr.h"

static void set_returns_code_and_formats(void **state)
{
    struct berr err;
    (void)state;
    assert_int_equal(berr_set(&err, BERR_NOT_FOUND, "container %s", "abc"), BERR_NOT_FOUND);
    assert_int_equal(err.code, BERR_NOT_FOUND);
    assert_string_equal(err.message, "container abc");
}

static void errno_maps_and_appends_strerror(void **state)
{
    struct berr err;
    (void)state;
    assert_int_equal(berr_errno(&err, ENOENT, "open %s", "/x"), BERR_NOT_FOUND);
    assert_string_equal(err.message, "open /x: No such file or directory");
    assert_int_equal(err.sys_errno, ENOENT);
    assert_int_equal(berr_errno(&err, ENOSPC, "write"), BERR_NOSPACE);
    assert_int_equal(berr_errno(&err, EEXIST, "mkdir"), BERR_EXISTS);
    assert_int_equal(berr_errno(&err, EIO, "read"), BERR_IO);
    assert_int_equal(berr_errno(&err, 0, "odd"), BERR_IO);
}

static void prefix_adds_context(void **state)
{
    struct berr err;
    (void)state;
    berr_set(&err, BERR_INVALID, "bad value");
    assert_int_equal(berr_prefix(&err, "field %s", "x"), BERR_INVALID);
    assert_string_equal(err.message, "field x: bad value");
}

static void long_messages_are_truncated_not_overflowed(void **state)
{
    struct berr err;
    char long_text[4000];
    (void)state;
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    berr_set(&err, BERR_INVALID, "%s", long_text);
    assert_int_equal(strlen(err.message), BERR_MESSAGE_MAX - 1);
    berr_prefix(&err, "%s", long_text);
    assert_int_equal(strlen(err.message), BERR_MESSAGE_MAX - 1);
}

static void null_err_is_allowed(void **state)
{
    (void)state;
    assert_int_equal(berr_set(NULL, BERR_IO, "x"), BERR_IO);
    assert_int_equal(berr_errno(NULL, EPERM, "x"), BERR_PERMISSION);
    assert_string_equal(berr_code_name(BERR_NOT_FOUND), "not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_returns_code_and_formats),
        cmocka_unit_test(errno_maps_and_appends_strerror),
        cmocka_unit_test(prefix_adds_context),
        cmocka_unit_test(long_messages_are_truncated_not_overflowed),
        cmocka_unit_test(null_err_is_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
