/* Image references: normalisation as the docker CLI does it, and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reference.h"

static void expect_normalised(const char *text, const char *full, const char *familiar)
{
    struct image_reference reference;
    struct berr err;
    char *got;

    assert_int_equal(reference_parse(text, &reference, &err), 0);
    assert_int_equal(reference_default_tag(&reference, &err), 0);
    got = reference_string(&reference);
    assert_string_equal(got, full);
    free(got);
    got = reference_familiar(&reference);
    assert_string_equal(got, familiar);
    free(got);
    reference_free(&reference);
}

static void test_normalisation(void **state)
{
    (void)state;
    expect_normalised("busybox", "docker.io/library/busybox:latest", "busybox:latest");
    expect_normalised("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36");
    expect_normalised("library/busybox", "docker.io/library/busybox:latest", "busybox:latest");
    expect_normalised("docker.io/library/busybox:latest", "docker.io/library/busybox:latest",
                      "busybox:latest");
    expect_normalised("me/app", "docker.io/me/app:latest", "me/app:latest");
    expect_normalised("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1");
    expect_normalised("localhost/app", "localhost/app:latest", "localhost/app:latest");
    expect_normalised("registry.example/a/b_c__d-e.f:tag_1.x",
                      "registry.example/a/b_c__d-e.f:tag_1.x",
                      "registry.example/a/b_c__d-e.f:tag_1.x");
    expect_normalised(
        "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
        "0123456789abcdef",
        "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

static void test_refusals(void **state)
{
    static const char *bad[] = {
        "",
        "Busybox",
        "busybox:",
        ":tag",
        "busybox:-tag",
        "bad..name",
        "a/-b",
        "a//b",
        "busybox@sha256:123",
        "host:port/app",
        "UPPER/app",
        "a b",
        "busybox:tag:again",
    };
    struct image_reference reference;
    struct berr err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (reference_parse(bad[i], &reference, &err) == 0) {
            reference_free(&reference);
            fail_msg("accepted \"%s\"", bad[i]);
        }
        assert_int_equal(err.code, BERR_INVALID);
        assert_non_null(strstr(err.message, "invalid reference format"));
    }
}

static void test_ids(void **state)
{
    (void)state;
    assert_true(reference_is_full_id(
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_true(
        reference_is_full_id("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(reference_is_full_id("0123"));
    assert_true(reference_is_id_prefix("0123ab"));
    assert_true(reference_is_id_prefix("sha256:0123ab"));
    assert_false(reference_is_id_prefix("busybox"));
    assert_false(reference_is_id_prefix(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
