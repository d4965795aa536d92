/* Unit tests of lib/digest: known sha256 vectors, files, digest syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "digest.h"

#define EMPTY_SHA256 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA256   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void known_vectors(void **state)
{
    char out[DIGEST_STRING_SIZE];
    struct digest_sha256 streaming;
    (void)state;
    assert_int_equal(digest_sha256_buffer("", 0, out, NULL), 0);
    assert_string_equal(out, EMPTY_SHA256);
    assert_int_equal(digest_sha256_buffer("abc", 3, out, NULL), 0);
    assert_string_equal(out, ABC_SHA256);
    assert_int_equal(digest_sha256_init(&streaming, NULL), 0);
    digest_sha256_update(&streaming, "a", 1);
    digest_sha256_update(&streaming, "bc", 2);
    digest_sha256_final(&streaming, out);
    assert_string_equal(out, ABC_SHA256);
}

static void file_digest_and_size(void **state)
{
    char path[] = "/tmp/berth-test-digest-XXXXXX";
    char out[DIGEST_STRING_SIZE];
    uint64_t size = 0;
    struct berr err;
    int fd = mkstemp(path);
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    assert_int_equal(digest_sha256_file(path, out, &size, &err), 0);
    assert_string_equal(out, ABC_SHA256);
    assert_int_equal(size, 3);
    unlink(path);
    assert_int_equal(digest_sha256_file(path, out, &size, &err), BERR_NOT_FOUND);
}

static void validity(void **state)
{
    (void)state;
    assert_true(digest_is_valid(EMPTY_SHA256));
    assert_false(digest_is_valid(NULL));
    assert_false(digest_is_valid("sha256:"));
    assert_false(
        digest_is_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_false(
        digest_is_valid("sha256:E3B0C44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_false(digest_is_valid(EMPTY_SHA256 "0"));
    assert_false(digest_is_valid("sha256:../../../../etc/passwd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_vectors),
        cmocka_unit_test(file_digest_and_size),
        cmocka_unit_test(validity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
