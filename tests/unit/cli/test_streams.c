/* Unit tests of cli/streams: the frame demultiplexer, detach keys, JSON lines; and
 * cli/units: docker's sizes, durations and timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "streams.h"
#include "units.h"

struct collected {
    struct strbuf out, err;
    int frames;
};

static int collect(void *ctx, enum stream_type stream, const char *data, size_t len,
                   struct berr *err)
{
    struct collected *c = ctx;

    (void)err;
    c->frames++;
    sb_append(stream == STREAM_STDERR ? &c->err : &c->out, data, len);
    return 0;
}

static size_t frame(char *buf, int stream, const char *payload)
{
    size_t len = strlen(payload);

    buf[0] = (char)stream;
    buf[1] = buf[2] = buf[3] = 0;
    buf[4] = (char)(len >> 24);
    buf[5] = (char)(len >> 16);
    buf[6] = (char)(len >> 8);
    buf[7] = (char)len;
    memcpy(buf + 8, payload, len);
    return 8 + len;
}

static void whole_frames(void **state)
{
    char buf[256];
    size_t len = 0;
    struct demux d;
    struct collected c = {STRBUF_INIT, STRBUF_INIT, 0};
    struct berr err;

    (void)state;
    len += frame(buf + len, STREAM_STDOUT, "out1\n");
    len += frame(buf + len, STREAM_STDERR, "err1\n");
    len += frame(buf + len, STREAM_STDOUT, "");
    len += frame(buf + len, STREAM_STDOUT, "out2\n");
    demux_init(&d);
    assert_int_equal(demux_feed(&d, buf, len, collect, &c, &err), 0);
    assert_string_equal(sb_str(&c.out), "out1\nout2\n");
    assert_string_equal(sb_str(&c.err), "err1\n");
    assert_true(demux_at_boundary(&d));
    sb_free(&c.out);
    sb_free(&c.err);
}

/* Frames split at every possible place, one byte at a time included. */
static void split_anywhere(void **state)
{
    char buf[256];
    size_t len = 0;

    (void)state;
    len += frame(buf + len, STREAM_STDOUT, "hello ");
    len += frame(buf + len, STREAM_STDERR, "warning\n");
    len += frame(buf + len, STREAM_STDOUT, "world\n");
    for (size_t piece = 1; piece <= len; piece++) {
        struct demux d;
        struct collected c = {STRBUF_INIT, STRBUF_INIT, 0};
        struct berr err;

        demux_init(&d);
        for (size_t at = 0; at < len; at += piece) {
            size_t n = len - at < piece ? len - at : piece;

            assert_int_equal(demux_feed(&d, buf + at, n, collect, &c, &err), 0);
        }
        assert_string_equal(sb_str(&c.out), "hello world\n");
        assert_string_equal(sb_str(&c.err), "warning\n");
        assert_true(demux_at_boundary(&d));
        sb_free(&c.out);
        sb_free(&c.err);
    }
}

static void cut_stream_and_bad_header(void **state)
{
    char buf[64];
    size_t len = frame(buf, STREAM_STDOUT, "abcdef");
    struct demux d;
    struct collected c = {STRBUF_INIT, STRBUF_INIT, 0};
    struct berr err;

    (void)state;
    demux_init(&d);
    assert_int_equal(demux_feed(&d, buf, len - 2, collect, &c, &err), 0);
    assert_false(demux_at_boundary(&d));
    sb_free(&c.out);
    buf[0] = 7;
    demux_init(&d);
    assert_int_equal(demux_feed(&d, buf, len, collect, &c, &err), BERR_IO);
    assert_string_equal(err.message, "Unrecognized input header: 7");
    sb_free(&c.out);
}

/* A payload larger than 16 MiB is just a big size field. */
static void large_size_field(void **state)
{
    unsigned char header[8] = {1, 0, 0, 0, 0x01, 0x00, 0x00, 0x02};
    struct demux d;
    struct collected c = {STRBUF_INIT, STRBUF_INIT, 0};
    struct berr err;

    (void)state;
    demux_init(&d);
    assert_int_equal(demux_feed(&d, (char *)header, 8, collect, &c, &err), 0);
    assert_int_equal(d.remaining, 0x01000002u);
    sb_free(&c.out);
}

static void detach_keys(void **state)
{
    char keys[16];
    size_t len;
    struct berr err;

    (void)state;
    assert_int_equal(detach_keys_parse("ctrl-p,ctrl-q", keys, sizeof(keys), &len, &err), 0);
    assert_int_equal(len, 2);
    assert_int_equal(keys[0], 16);
    assert_int_equal(keys[1], 17);
    assert_int_equal(detach_keys_parse("a,ctrl-@,ctrl-[", keys, sizeof(keys), &len, &err), 0);
    assert_int_equal(len, 3);
    assert_int_equal(keys[0], 'a');
    assert_int_equal(keys[1], 0);
    assert_int_equal(keys[2], 27);
    assert_int_not_equal(detach_keys_parse("ctrl-1", keys, sizeof(keys), &len, &err), 0);
    assert_int_not_equal(detach_keys_parse("abc", keys, sizeof(keys), &len, &err), 0);
}

static int count_messages(void *ctx, yajl_val message, struct berr *err)
{
    (void)message, (void)err;
    (*(int *)ctx)++;
    return 0;
}

static void json_lines(void **state)
{
    int count = 0;
    struct jsonlines lines = {STRBUF_INIT, count_messages, &count};
    const char *text = "{\"status\":\"a\"}\r\n{\"sta";
    struct berr err;

    (void)state;
    assert_int_equal(jsonlines_feed(&lines, text, strlen(text), &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(jsonlines_feed(&lines, "tus\":\"b\"}\n\n{}", 13, &err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(jsonlines_finish(&lines, &err), 0);
    assert_int_equal(count, 3);
}

static void sizes_and_durations(void **state)
{
    char buf[64];
    int64_t value;
    struct berr err;

    (void)state;
    units_human_size(1982000, 3, buf, sizeof(buf));
    assert_string_equal(buf, "1.98MB");
    units_human_size(1982000, 4, buf, sizeof(buf));
    assert_string_equal(buf, "1.982MB");
    units_human_size(0, 3, buf, sizeof(buf));
    assert_string_equal(buf, "0B");
    units_bytes_size(25270951936.0, buf, sizeof(buf));
    assert_string_equal(buf, "23.54GiB");
    units_bytes_size(331776, buf, sizeof(buf));
    assert_string_equal(buf, "324KiB");
    units_human_duration(500000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "Less than a second");
    units_human_duration(90 * 1000000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "About a minute");
    units_human_duration(56LL * 365 * 24 * 3600 * 1000000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "56 years");
    assert_int_equal(units_ram_in_bytes("512m", &value, &err), 0);
    assert_int_equal(value, 512LL << 20);
    assert_int_equal(units_ram_in_bytes("1.5g", &value, &err), 0);
    assert_int_equal(value, 3LL << 29);
    assert_int_not_equal(units_ram_in_bytes("1x", &value, &err), 0);
    assert_string_equal(err.message, "invalid suffix: 'x'");
    assert_int_equal(units_parse_duration("1h30m", &value, &err), 0);
    assert_int_equal(value, 5400LL * 1000000000LL);
    assert_int_equal(units_parse_duration("1.5s", &value, &err), 0);
    assert_int_equal(value, 1500000000LL);
    assert_int_not_equal(units_parse_duration("x", &value, &err), 0);
    assert_string_equal(err.message, "time: invalid duration \"x\"");
}

static void timestamps(void **state)
{
    struct timespec now = {1000000, 500};
    char buf[64];
    struct berr err;

    (void)state;
    assert_int_equal(units_api_timestamp("10s", now, buf, sizeof(buf), &err), 0);
    assert_string_equal(buf, "999990.000000500");
    assert_int_equal(units_api_timestamp("1700000000.5", now, buf, sizeof(buf), &err), 0);
    assert_string_equal(buf, "1700000000.5");
    assert_int_equal(units_api_timestamp("2026-11-29T21:39:40.25Z", now, buf, sizeof(buf), &err),
                     0);
    assert_string_equal(buf, "1795988380.250000000");
    assert_int_not_equal(units_api_timestamp("2026-13", now, buf, sizeof(buf), &err), 0);
    setenv("TZ", "UTC", 1);
    units_rfc3339_nano(1795988380199860165LL, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-29T21:39:40.199860165Z");
    units_rfc3339_nano(1795988380100000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-29T21:39:40.1Z");
    units_rfc3339_nano_fixed(1795988380100000000LL, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-29T21:39:40.100000000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_frames),
        cmocka_unit_test(split_anywhere),
        cmocka_unit_test(cut_stream_and_bad_header),
        cmocka_unit_test(large_size_field),
        cmocka_unit_test(detach_keys),
        cmocka_unit_test(json_lines),
        cmocka_unit_test(sizes_and_durations),
        cmocka_unit_test(timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
