/* Unit tests of lib/framing: round trips, limits, and peers that go away. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "framing.h"

static void header_is_big_endian(void **state)
{
    uint8_t header[FRAMING_HEADER_SIZE];

    (void)state;
    framing_encode_header(header, 0x01020304u);
    assert_memory_equal(header, "\x01\x02\x03\x04", 4);
    assert_int_equal(framing_decode_header(header), 0x01020304u);
    framing_encode_header(header, 0);
    assert_int_equal(framing_decode_header(header), 0);
}

static void round_trip(void **state)
{
    int pair[2];
    uint8_t *payload;
    size_t size;
    struct berr err;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    assert_int_equal(framing_write(pair[0], "hello", 5, &err), 0);
    assert_int_equal(framing_write(pair[0], "", 0, &err), 0);
    assert_int_equal(framing_read(pair[1], 1024, &payload, &size, &err), 0);
    assert_int_equal(size, 5);
    assert_memory_equal(payload, "hello", 5);
    free(payload);
    assert_int_equal(framing_read(pair[1], 1024, &payload, &size, &err), 0);
    assert_int_equal(size, 0);
    assert_null(payload);
    close(pair[0]);
    close(pair[1]);
}

/* A frame larger than the socket buffer: short writes and reads. */
static void large_frame(void **state)
{
    const size_t length = 3u << 20;
    uint8_t *data = malloc(length), *payload;
    size_t size, i;
    int pair[2];
    struct berr err;
    pid_t child;

    (void)state;
    assert_non_null(data);
    for (i = 0; i < length; i++)
        data[i] = (uint8_t)(i * 7);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(pair[1]);
        _exit(framing_write(pair[0], data, length, &err) ? 1 : 0);
    }
    close(pair[0]);
    assert_int_equal(framing_read(pair[1], FRAMING_DEFAULT_MAX_SIZE, &payload, &size, &err), 0);
    assert_int_equal(size, length);
    assert_memory_equal(payload, data, length);
    free(payload);
    free(data);
    close(pair[1]);
}

static void over_the_limit(void **state)
{
    int pair[2];
    uint8_t *payload;
    size_t size;
    struct berr err;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    assert_int_equal(write(pair[0], "\x7f\xff\xff\xff", 4), 4);
    assert_int_equal(framing_read(pair[1], 1024, &payload, &size, &err), BERR_INVALID);
    assert_non_null(strstr(err.message, "limit"));
    assert_null(payload);
    close(pair[0]);
    close(pair[1]);
}

static void peer_goes_away(void **state)
{
    int pair[2];
    uint8_t *payload;
    size_t size;
    struct berr err;

    (void)state;
    /* Before a frame: a clean end. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    close(pair[0]);
    assert_int_equal(framing_read(pair[1], 1024, &payload, &size, &err), BERR_UNAVAILABLE);
    close(pair[1]);

    /* Inside a header, inside a payload: broken frames. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    assert_int_equal(write(pair[0], "\x00\x00", 2), 2);
    close(pair[0]);
    assert_int_equal(framing_read(pair[1], 1024, &payload, &size, &err), BERR_IO);
    close(pair[1]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    assert_int_equal(write(pair[0],
                           "\x00\x00\x00\x08"
                           "abc",
                           7),
                     7);
    close(pair[0]);
    assert_int_equal(framing_read(pair[1], 1024, &payload, &size, &err), BERR_IO);
    assert_null(payload);
    close(pair[1]);

    /* Writing to a peer that is gone: an error, not SIGPIPE. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    close(pair[1]);
    assert_int_equal(framing_write(pair[0], "x", 1, &err), BERR_UNAVAILABLE);
    close(pair[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_is_big_endian), cmocka_unit_test(round_trip),
        cmocka_unit_test(large_frame),          cmocka_unit_test(over_the_limit),
        cmocka_unit_test(peer_goes_away),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
